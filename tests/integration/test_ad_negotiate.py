# SPDX-License-Identifier: MIT
"""gatehouse as a member of an Active Directory domain (issue 9), against a real
Samba AD DC (tests/harness/sambadc.py) and real clients:

- curl --negotiate with a ticket from the Samba KDC: whoami shows the user's
  SID, the group SIDs from the PAC (nested group included) and, with
  auth_group_names winbind, their names from winbind; without it, SIDs only;
- auth_require group with the nested group by name (CORP\\Staff,
  Staff@corp.test) and by SID: 200; a group the user is not in: 403;
- the audit line shows the groups;
- gatehouse fetch --auth negotiate as a domain user;
- Basic against Kerberos (auth_basic_kerberos) with domain users, including
  the UPN spelling (frank.upn@corp.test); the disabled and the expired users
  refused (401) with their reason in the audit line.
"""
import base64
import json
import os
import re
import subprocess
import sys

import ghskip
import sambadc
from ghserver import GhServer, gh_bin

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def curl(env, *args):
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "20"] + list(args), env=env,
                       capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def last_response(text):
    parts = re.split(r"(?m)^(?=HTTP/1\.1 \d{3})", text)
    resp = [p for p in parts if p.startswith("HTTP/")]
    if not resp:
        return 0, [], ""
    head, _, body = resp[-1].partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
    return status, headers, body


def auth_of(body):
    try:
        return json.loads(body)["auth"]
    except (ValueError, KeyError):
        return {}


def negotiate(env, url):
    status, _, body = last_response(curl(env, "--negotiate", "-u", ":", url))
    return status, auth_of(body)


def basic(env, url, user, password):
    status, _, body = last_response(curl(env, "-u", f"{user}:{password}", url))
    return status, auth_of(body)


def audit_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return []


def main():
    try:
        sambadc._tool("samba")
        sambadc._tool("samba-tool")
    except FileNotFoundError:
        ghskip.missing_peer("samba / samba-tool not found", "samba-ad-dc")
    # With libnss-winbind in nsswitch.conf, the server's getpwnam of a domain
    # user goes through libnss_winbind, whose allocations NSS never frees.
    os.environ["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
        os.path.dirname(os.path.abspath(sambadc.__file__)), "lsan-winbind.supp")
    with sambadc.DomainController() as dc:
        os.environ.update(dc.env)  # the server reads the keytab through KRB5_KTNAME
        dc.kinit("carol")
        staff_sid = dc.wbinfo("-n", "CORP\\Staff").stdout.split()[0]
        engineers_sid = dc.wbinfo("-n", "CORP\\Engineers").stdout.split()[0]
        finance_sid = dc.wbinfo("-n", "CORP\\Finance").stdout.split()[0]
        carol_sid = dc.user_sid("carol")
        audit = os.path.join(dc.dir, "audit.log")
        conf = f"""
auth_audit_log {audit};
auth_keytab {dc.keytab};
location /whoami {{ handler whoami; auth Negotiate; auth_group_names winbind; }}
location /sids {{ handler whoami; auth Negotiate; }}
location /staff {{ handler whoami; auth Negotiate; auth_group_names winbind;
                  auth_require group CORP\\Staff; }}
location /staffdns {{ handler whoami; auth Negotiate; auth_group_names winbind;
                     auth_require group Staff@corp.test; }}
location /staffsid {{ handler whoami; auth Negotiate; auth_require group {staff_sid}; }}
location /finance {{ handler whoami; auth Negotiate; auth_group_names winbind;
                    auth_require group CORP\\Finance; }}
location /financesid {{ handler whoami; auth Negotiate; auth_require group {finance_sid}; }}
location /basic {{ handler whoami; auth Basic; auth_basic_kerberos on; auth_basic_over_http on;
                  auth_basic_cache_ttl 0; }}
"""
        with GhServer(conf) as srv:
            env = dict(dc.env)
            base = f"http://localhost:{srv.port()}"

            # 1. curl --negotiate: SIDs and names from the PAC and winbind
            status, a = negotiate(env, base + "/whoami")
            check(status == 200, f"curl --negotiate with a Samba ticket: 200 ({status})")
            check(a.get("principal") == "carol@CORP.TEST", f"principal {a.get('principal')}")
            check(a.get("user_sid") == carol_sid, f"user SID from the PAC ({a.get('user_sid')})")
            check(a.get("logon_domain") == "CORP" and a.get("dns_domain") == "CORP.TEST",
                  f"domains ({a.get('logon_domain')}, {a.get('dns_domain')})")
            check(a.get("upn") == "carol@corp.test", f"UPN from UPN_DNS_INFO ({a.get('upn')})")
            sids = [g.get("sid") for g in a.get("group_sids", [])]
            check(sids[:1] == [dc.domain_sid + "-513"], f"primary group first ({sids[:1]})")
            check(engineers_sid in sids and staff_sid in sids,
                  f"direct (Engineers) and nested (Staff) group SIDs ({sids})")
            check(finance_sid not in sids, "no Finance SID")
            groups = [g.lower() for g in a.get("groups", [])]
            check("corp\\engineers" in groups and "corp\\staff" in groups,
                  f"group names from winbind ({a.get('groups')})")
            names = {g.get("sid"): (g.get("name") or "").lower() for g in a.get("group_sids", [])}
            check(names.get(staff_sid) == "corp\\staff", f"SID -> name pairs ({names})")

            # 2. without auth_group_names: the SIDs are the groups
            status, a = negotiate(env, base + "/sids")
            check(status == 200 and staff_sid in a.get("groups", []) and
                  not any("\\" in g for g in a.get("groups", [])),
                  f"without auth_group_names the groups are SIDs ({a.get('groups')})")

            # 3. auth_require group: nested group by name, DNS spelling and SID; not a member
            for path, want in (("/staff", 200), ("/staffdns", 200), ("/staffsid", 200),
                               ("/finance", 403), ("/financesid", 403)):
                status, _ = negotiate(env, base + path)
                check(status == want, f"auth_require group at {path}: {want} ({status})")

            # 4. the audit line names the groups
            lines = [l for l in audit_lines(audit) if "principal=carol@CORP.TEST" in l and
                     "result=success" in l]
            check(any("groups=" in l and "staff" in l.lower() for l in lines),
                  f"audit line with the groups ({lines[-1:] if lines else 'none'})")

            # 5. gatehouse fetch --auth negotiate as a domain user
            r = subprocess.run([gh_bin(), "fetch", "--timeout", "20", "--auth", "negotiate",
                                base + "/staff"], env=env, capture_output=True, timeout=60)
            out = r.stdout.decode(errors="replace")
            check(r.returncode == 0 and staff_sid in out,
                  f"gatehouse fetch --auth negotiate as carol ({r.returncode}, "
                  f"{r.stderr.decode(errors='replace')[-300:]})")

            # 6. Basic against Kerberos with domain users
            status, a = basic(env, base + "/basic", "carol", dc.users["carol"])
            check(status == 200 and a.get("user") == "carol", f"Basic carol: 200 ({status})")
            status, a = basic(env, base + "/basic", sambadc.UPN, dc.users["frank"])
            check(status == 200, f"Basic with the UPN {sambadc.UPN}: 200 ({status}, "
                  f"{a.get('principal')})")
            status, _ = basic(env, base + "/basic", "carol", "wrong-password")
            check(status == 401, f"Basic carol, wrong password: 401 ({status})")
            for user, reason in ((sambadc.DISABLED_USER, "account revoked"),
                                 (sambadc.EXPIRED_USER, "password expired")):
                status, _ = basic(env, base + "/basic", user, dc.users[user])
                check(status == 401, f"Basic {user}: 401 ({status})")
                lines = [l for l in audit_lines(audit) if f"principal={user}" in l]
                check(any(f'reason="{reason}"' in l for l in lines),
                      f"audit reason for {user} is {reason!r} ({lines[-1:]})")
            srv.assert_alive()
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
