# SPDX-License-Identifier: MIT
"""Headless Chromium against the server's authentication (issue 4).

  - Negotiate single sign-on: after kinit, Chromium with
    --auth-server-allowlist=localhost loads /whoami with no prompt and the
    dumped page shows the principal. A fresh profile refuses Negotiate on its
    first launch until its `Local State` holds
    {"net":{"received_http_auth_negotiate_headers":true}}: the test pre-seeds
    it. Without the allowlist Chromium does not offer the ticket (401 page).
  - NTLM, Basic and Digest need a password, and headless Chromium cannot be
    prompted: credentials in the URL (http://user:pw@host/...) are used for the
    first attempt of every scheme, NTLM included (with the default
    --auth-schemes, and with --auth-schemes=basic,ntlm,negotiate). A wrong URL
    password leaves the 401 page (no second attempt, no prompt).
  - A location offering Negotiate and NTLM: with a ticket and the allowlist,
    Negotiate/Kerberos; for a server that is not allowlisted, Chromium skips
    Negotiate and uses NTLM with the URL credentials. (Allowlisted, without a
    ticket and with URL credentials, Chromium 156 gives up with
    net::ERR_INVALID_AUTH_CREDENTIALS and no page: its behaviour, checked so a
    change is noticed.)

Each launch gets a new profile directory; Chromium runs with a bounded timeout
and is killed with its process group if it hangs."""
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import krb5realm
from authclients import check, finish
from ghserver import GhServer, gh_bin

PW = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium(url, env, extra=(), seed=True, timeout=60):
    """Loads url in a fresh headless profile; returns the record shown by whoami
    (or {} when the page is not whoami's JSON) and the raw DOM."""
    prof = tempfile.mkdtemp(prefix="gh-chromium-")
    try:
        if seed:
            with open(os.path.join(prof, "Local State"), "w") as f:
                json.dump({"net": {"received_http_auth_negotiate_headers": True}}, f)
        argv = ([shutil.which("chromium") or "chromium"] + FLAGS +
                ["--user-data-dir=" + prof] + list(extra) + ["--dump-dom", url])
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {}, ""
        dom = out.decode("utf-8", "replace")
        m = re.search(r"<pre[^>]*>(.*?)</pre>", dom, re.S)
        record = {}
        if m:
            try:
                record = json.loads(html.unescape(m.group(1))).get("auth", {})
            except ValueError:
                record = {}
        return record, dom
    finally:
        shutil.rmtree(prof, ignore_errors=True)


def main():
    with krb5realm.Realm(users=PW) as realm:
        os.environ.update(realm.env)
        srv = GhServer("")
        store = os.path.join(srv.dir, "users")
        for user in PW:
            subprocess.run([gh_bin(), "passwd", store, "add", user, "--realm", "gatehouse",
                            "--stdin"], input=(PW[user] + "\n").encode(), check=True,
                           capture_output=True)
        srv.write_conf(f"""
auth_keytab {realm.keytab};
auth_user_store {store};
location /whoami {{ handler whoami; auth Negotiate; }}
location /ntlm {{ handler whoami; auth NTLM; }}
location /both {{ handler whoami; auth Negotiate NTLM; }}
location /basic {{ handler whoami; auth Basic; auth_basic_over_http on; }}
location /digest {{ handler whoami; auth Digest; }}
""")
        try:
            with srv:
                port = srv.port()
                env = dict(realm.env)
                allow = ["--auth-server-allowlist=localhost"]
                a, dom = chromium(f"http://localhost:{port}/whoami", env, allow)
                check(a.get("principal") == f"alice@{realm.realm}" and
                      a.get("type") == "Negotiate" and a.get("package") == "Kerberos",
                      f"Chromium Negotiate SSO: page shows alice@{realm.realm} "
                      f"({a.get('principal')}, {a.get('type')}/{a.get('package')})")
                check(f"alice@{realm.realm}" in html.unescape(dom), "principal in the DOM")
                a, _ = chromium(f"http://localhost:{port}/whoami", env)
                check(a == {}, "without --auth-server-allowlist: no single sign-on")
                for extra in ([], ["--auth-schemes=basic,ntlm,negotiate"]):
                    a, _ = chromium(f"http://alice:{PW['alice']}@localhost:{port}/ntlm", env,
                                    extra)
                    check(a.get("type") == "NTLM" and a.get("user") == "alice",
                          f"Chromium NTLM with URL credentials {extra}: alice ({a.get('type')})")
                a, _ = chromium(f"http://alice:wrong@localhost:{port}/ntlm", env)
                check(a == {}, "Chromium NTLM, wrong URL password: 401 page, no prompt")
                a, _ = chromium(f"http://bob:{PW['bob']}@localhost:{port}/ntlm", env)
                check(a.get("user") == "bob", f"Chromium NTLM as bob: {a.get('user')}")
                noticket = dict(env, KRB5CCNAME="FILE:" + os.path.join(realm.dir, "none.cc"))
                a, _ = chromium(f"http://alice:{PW['alice']}@localhost:{port}/both", noticket)
                check(a.get("type") == "NTLM" and a.get("user") == "alice",
                      f"Negotiate NTLM, server not allowlisted: NTLM with URL credentials "
                      f"({a.get('type')})")
                # Observed Chromium 156 behaviour, not ours: allowlisted, no ticket and
                # URL credentials, it answers Negotiate with the URL identity, which its
                # GSSAPI handler cannot use: net::ERR_INVALID_AUTH_CREDENTIALS, empty page.
                a, _ = chromium(f"http://alice:{PW['alice']}@localhost:{port}/both", noticket,
                                allow)
                check(a == {}, "allowlisted, no ticket, URL credentials: Chromium gives up")
                a, _ = chromium(f"http://localhost:{port}/both", env, allow)
                check(a.get("type") == "Negotiate" and a.get("package") == "Kerberos",
                      f"Negotiate NTLM, with a ticket: Negotiate/Kerberos ({a.get('type')})")
                for path, typ in (("basic", "Basic"), ("digest", "Digest")):
                    a, _ = chromium(f"http://alice:{PW['alice']}@localhost:{port}/{path}", env)
                    check(a.get("type") == typ and a.get("user") == "alice",
                          f"Chromium {typ} with URL credentials: alice ({a.get('type')})")
        finally:
            srv.cleanup()
    finish()


if __name__ == "__main__":
    main()
