# SPDX-License-Identifier: MIT
"""Headless Chromium single sign-on against the Samba AD DC (issue 9): after
kinit as a domain user, Chromium (allowlisted for localhost) loads a location
that requires the nested group CORP\\Staff; the page shows the principal, the
user SID from the PAC and the group names from winbind. A location requiring
a group the user is not in shows no record (403 page). The Chromium launcher
(fresh profile, pre-seeded Negotiate state, bounded time) is
test_auth_chromium's."""
import os
import shutil

import ghskip
from authclients import check, finish
import sambadc
from ghserver import GhServer
from test_auth_chromium import chromium




def main():
    if shutil.which("chromium") is None:
        ghskip.missing_peer("chromium not found", "chromium")
    os.environ["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
        os.path.dirname(os.path.abspath(sambadc.__file__)), "lsan-winbind.supp")
    with sambadc.DomainController() as dc:
        os.environ.update(dc.env)
        dc.kinit("carol")
        carol_sid = dc.user_sid("carol")
        conf = f"""
auth_keytab {dc.keytab};
location /staff {{ handler whoami; auth Negotiate; auth_group_names winbind;
                  auth_require group CORP\\Staff; }}
location /finance {{ handler whoami; auth Negotiate; auth_require group CORP\\Finance; }}
"""
        with GhServer(conf) as srv:
            allow = ["--auth-server-allowlist=localhost"]
            a, _ = chromium(f"http://localhost:{srv.port()}/staff", dict(dc.env), allow)
            check(a.get("principal") == "carol@CORP.TEST" and a.get("type") == "Negotiate",
                  f"Chromium SSO as a domain user ({a.get('principal')}, {a.get('type')})")
            check(a.get("user_sid") == carol_sid, f"user SID from the PAC ({a.get('user_sid')})")
            groups = [g.lower() for g in a.get("groups", [])]
            check("corp\\staff" in groups and "corp\\engineers" in groups,
                  f"nested group names in the page ({a.get('groups')})")
            a, dom = chromium(f"http://localhost:{srv.port()}/finance", dict(dc.env), allow)
            check(a == {} and "carol" not in dom, "group the user is not in: no record (403)")
            srv.assert_alive()
    finish()


if __name__ == "__main__":
    main()
