# SPDX-License-Identifier: MIT
"""CredSSP over HTTP, as WS-Management carries it (`Authorization: CredSSP
<base64 TLS records>` on HTTPS): `gatehouse fetch --auth credssp` against our
server's `auth CredSSP;`. With --delegate and `auth_delegation on` the record
(whoami) holds the delegated user, domain and password (its length only is
shown); without --delegate an empty credential set arrives; a location
without auth_delegation refuses delegated credentials (SEC_E_DELEGATION_POLICY:
fetch fails); a wrong password fails (exit 4); the audit line names CredSSP.
requests-credssp (the Python reference client) is PyPI-only and cannot be
installed here: this test uses our own client."""
import json

import krb5realm
import os
import subprocess
import sys

from ghserver import GhServer, gh_bin

FAILURES = []
PW = "alice-pw-1"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def fetch(*args, env=None):
    r = subprocess.run([gh_bin(), "fetch", "--timeout", "20"] + list(args), capture_output=True,
                       timeout=60, env=env)
    err = r.stderr.decode(errors="replace")
    if "AddressSanitizer" in err or "runtime error" in err or "LeakSanitizer" in err:
        FAILURES.append("sanitizer report from fetch")
        print(err)
    return r.returncode, r.stdout.decode(errors="replace"), err


def auth_of(out):
    try:
        return json.loads(out).get("auth", {})
    except ValueError:
        return {}


def kerberos():
    """Kerberos inside CredSSP: fetch with alice's ccache (no password, so
    nothing to delegate) against a location with a keytab from the test KDC."""
    with krb5realm.Realm(users={"alice": PW}) as realm:
        os.environ.update(realm.env)  # the server reads its keytab through these
        srv = GhServer("", https=True)
        try:
            cert = os.path.join(srv.dir, "localhost.pem")
            key = os.path.join(srv.dir, "localhost.key")
            srv.write_conf(f"""
auth_keytab {realm.keytab};
location /krb {{
    handler whoami;
    auth CredSSP;
    auth_credssp_certificate {cert} {key};
}}
""")
            srv.start()
            env = dict(realm.env)
            env.pop("NTLM_USER_FILE", None)
            rc, out, err = fetch("--cacert", srv.ca, "--auth", "credssp", "-v",
                                 "https://localhost:%d/krb" % srv.port(tls=True), env=env)
            a = auth_of(out)
            check(rc == 0 and a.get("type") == "CredSSP" and a.get("package") == "Kerberos"
                  and a.get("principal") == "alice@" + realm.realm,
                  f"credssp with Kerberos inside: 200 as alice@REALM ({rc}, {a}, "
                  f"{err.splitlines()[-3:]})")
        finally:
            srv.stop()


def main():
    srv = GhServer("", https=True)  # configured before it starts: the certificate paths
    try:
        store = os.path.join(srv.dir, "users")
        subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                        "--stdin"], input=(PW + "\n").encode(), check=True, capture_output=True)
        audit = os.path.join(srv.dir, "audit.log")
        cert, key = os.path.join(srv.dir, "localhost.pem"), os.path.join(srv.dir, "localhost.key")
        srv.write_conf(f"""
auth_user_store {store};
auth_audit_log {audit};
auth_backoff_threshold 1000;
location /credssp {{
    handler whoami;
    auth CredSSP;
    auth_credssp_certificate {cert} {key};
    auth_delegation on;
}}
location /nodeleg {{
    handler whoami;
    auth CredSSP;
    auth_credssp_certificate {cert} {key};
}}
""")
        srv.start()
        base = "https://localhost:%d" % srv.port(tls=True)
        tls = ["--cacert", srv.ca]

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate", "-v",
                             base + "/credssp")
        a = auth_of(out)
        check(rc == 0 and a.get("type") == "CredSSP" and a.get("user") == "alice",
              f"credssp: 200 as alice, type CredSSP ({rc}, {a}, {err.splitlines()[-3:]})")
        check(a.get("delegated_user") == "alice" and a.get("delegated_password_len") == len(PW),
              f"credssp: the record holds the delegated credentials ({a.get('delegated_user')}, "
              f"{a.get('delegated_password_len')})")
        check(a.get("delegated") is True, "credssp: ASC_RET_DELEGATE")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, base + "/credssp")
        a = auth_of(out)
        check(rc == 0 and a.get("user") == "alice" and a.get("delegated_user") == ""
              and a.get("delegated_password_len") == 0,
              f"credssp without --delegate: an empty credential set ({rc}, {a})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                             base + "/nodeleg")
        check(rc != 0, f"credssp --delegate to a location without auth_delegation fails ({rc})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:wrong", base + "/credssp")
        check(rc == 4, f"credssp wrong password: exit 4 ({rc}, {err.splitlines()[-2:]})")

        with open(audit) as f:
            text = f.read()
        check("CredSSP" in text, "the audit log names CredSSP")
    finally:
        srv.stop()
    kerberos()
    if FAILURES:
        print("FAILED: %d" % len(FAILURES))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
