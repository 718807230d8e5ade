# SPDX-License-Identifier: MIT
"""gatehouse fetch against OUR server with every scheme (issues 3 and 4 end to
end): Negotiate with the Kerberos ccache after kinit (mutual authentication
verified, whoami says Kerberos), Negotiate falling back to NTLM when there is
no ticket, NTLM, Kerberos (raw tokens under the Kerberos scheme), Digest,
Basic over HTTPS; Extended Protection `require` on HTTPS locations (fetch
sends tls-server-end-point bindings: 200 for Negotiate/Kerberos and NTLM);
--delegate (whoami names a delegated ccache); a wrong password for each scheme
gives exit 4; the packed context of the record is filled for NTLM and
Kerberos."""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading

import krb5realm
from ghserver import GhServer, gh_bin

FAILURES = []
PW = {"alice": "alice-pw-1", "bob": "bob-pw-2"}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def fetch(env, *args, stdin=None):
    r = subprocess.run([gh_bin(), "fetch", "--timeout", "20"] + list(args), env=env,
                       capture_output=True, timeout=60, input=stdin)
    err = r.stderr.decode(errors="replace")
    if "AddressSanitizer" in err or "runtime error" in err or "LeakSanitizer" in err:
        FAILURES.append("sanitizer report from fetch")
        print(err)
    return r.returncode, r.stdout.decode(errors="replace"), err


def auth_of(out):
    try:
        return json.loads(out)["auth"]
    except (ValueError, KeyError):
        return {}


class FakeAcceptor(http.server.BaseHTTPRequestHandler):
    """401 Negotiate, then 200 with the final token of FakeAcceptor.token."""
    protocol_version = "HTTP/1.1"
    token = b""

    def log_message(self, *a):
        pass

    def do_GET(self):
        if "Authorization" not in self.headers:
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Negotiate")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("WWW-Authenticate",
                         "Negotiate " + base64.b64encode(self.token).decode())
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"x\n")


def der(tag, body):
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def mutual_failures(realm):
    """A malformed final token: fetch's message says why (extended error text
    of the Negotiate package, naming the inner package when it failed)."""
    krb5_oid = der(0x06, b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02")
    bogus_ap_rep = der(0x04, der(0x6f, der(0x02, b"\x05")))
    resp = der(0xa1, der(0x30, der(0xa0, der(0x0a, b"\x00")) + der(0xa1, krb5_oid) +
                         der(0xa2, bogus_ap_rep)))
    srv = http.server.HTTPServer(("127.0.0.1", 0), FakeAcceptor)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://localhost:%d/x" % srv.server_address[1]
        for token, want in ((b"\x01\x02garbage", "not a well-formed NegTokenResp"),
                            (resp, "Kerberos: cannot verify the server's reply"),
                            (der(0xa1, der(0x30, der(0xa0, der(0x0a, b"\x00")))),
                             "names no mechanism")):
            FakeAcceptor.token = token
            rc, out, err = fetch(realm.env, "--auth", "negotiate", url)
            check(rc == 4 and want in err and "x\n" != out,
                  f"malformed final Negotiate token: exit 4 with the reason ({err.strip()})")
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


def main():
    with krb5realm.Realm(users=dict(PW)) as realm:
        os.environ.update(realm.env)  # the server reads its keytab through these
        realm.kadmin("modprinc +requires_preauth bob")
        ccdir = os.path.join(realm.dir, "deleg")
        os.makedirs(ccdir, mode=0o700)
        store = os.path.join(realm.dir, "users")
        for user in ("alice", "bob"):
            subprocess.run([gh_bin(), "passwd", store, "add", user, "--realm", "gatehouse",
                            "--iterations", "20000", "--stdin"], input=(PW[user] + "\n").encode(), check=True,
                           capture_output=True)
        ntlm_file = os.path.join(realm.dir, "ntlm_users")
        with open(ntlm_file, "w") as f:
            f.write("GATEHOUSE:alice:%s\n" % PW["alice"])
        os.chmod(ntlm_file, 0o600)
        conf = f"""
auth_keytab {realm.keytab};
auth_user_store {store};
auth_audit_log {os.path.join(realm.dir, "audit.log")};
# Many deliberate failures from 127.0.0.1 (one per scheme and case); the
# backoff itself is checked in tests/unit/auth.
auth_backoff_threshold 1000;
location /neg {{ handler whoami; auth Negotiate; }}
location /ntlm {{ handler whoami; auth NTLM; }}
location /krb {{ handler whoami; auth Kerberos; }}
location /digest {{ handler whoami; auth Digest; }}
location /basic {{ handler whoami; auth Basic; }}
location /deleg {{
    handler whoami;
    auth Negotiate;
    auth_delegation on;
    auth_ccache_dir {ccdir};
}}
location /epa-neg {{ handler whoami; auth Negotiate; auth_extended_protection require; }}
location /epa-krb {{ handler whoami; auth Kerberos; auth_extended_protection require; }}
location /epa-ntlm {{ handler whoami; auth NTLM; auth_extended_protection require; }}
"""
        env = dict(realm.env)  # alice's ccache from kinit
        env.pop("NTLM_USER_FILE", None)
        no_ticket = dict(env, KRB5CCNAME="FILE:" + os.path.join(realm.dir, "none.ccache"))
        ntlm_env = dict(no_ticket, NTLM_USER_FILE=ntlm_file)
        with GhServer(conf, https=True) as srv:
            http = "http://localhost:%d" % srv.port()
            https = "https://localhost:%d" % srv.port(tls=True)
            tls = ["--cacert", srv.ca]

            # Negotiate with the ccache: Kerberos, mutual authentication verified.
            rc, out, err = fetch(env, "--auth", "negotiate", "-v", http + "/neg")
            a = auth_of(out)
            check(rc == 0 and a.get("package") == "Kerberos" and a.get("type") == "Negotiate"
                  and a.get("principal") == "alice@" + realm.realm,
                  f"negotiate (ccache): 200 as alice, Kerberos ({rc}, {a.get('package')}, "
                  f"{err.splitlines()[-1:]})")
            check("mutual authentication verified" in err and "Negotiate (Kerberos)" in err,
                  "negotiate: fetch verified the server's mutual-authentication token")
            check(a.get("mutual_auth") is True, "whoami: ASC_RET_MUTUAL_AUTH")
            check((a.get("packed_context_length") or 0) > 100,
                  f"Kerberos record carries a packed context ({a.get('packed_context_length')})")

            # Negotiate without a ticket: NTLM inside SPNEGO (NTLM_USER_FILE).
            rc, out, err = fetch(ntlm_env, "--auth", "negotiate", "-v", http + "/neg")
            a = auth_of(out)
            check(rc == 0 and a.get("package") == "NTLM" and a.get("type") == "Negotiate"
                  and a.get("user") == "alice",
                  f"negotiate (no ticket): NTLM fallback ({rc}, {a.get('package')}, "
                  f"{err.splitlines()[-1:]})")
            check("Negotiate (NTLM)" in err, "fetch -v names the negotiated package")

            # NTLM with a password.
            rc, out, err = fetch(no_ticket, "--auth", "ntlm", "-u", "alice:" + PW["alice"],
                                 "-v", http + "/ntlm")
            a = auth_of(out)
            check(rc == 0 and a.get("type") == "NTLM" and a.get("user") == "alice",
                  f"ntlm: 200 as alice ({rc}, {err.splitlines()[-1:]})")
            check(err.count("> GET /ntlm") == 3 and err.count("* connected") == 1,
                  "ntlm: three legs on one connection")
            check((a.get("packed_context_length") or 0) > 40,
                  f"NTLM record carries a packed context ({a.get('packed_context_length')})")

            # Kerberos scheme: from the ccache, and with a password.
            rc, out, err = fetch(env, "--auth", "kerberos", "-v", http + "/krb")
            a = auth_of(out)
            check(rc == 0 and a.get("type") == "Kerberos" and a.get("package") == "Kerberos"
                  and "mutual authentication verified" in err,
                  f"kerberos (ccache): 200, mutual ({rc}, {a.get('type')}, "
                  f"{err.splitlines()[-1:]})")
            rc, out, err = fetch(no_ticket, "--auth", "kerberos", "-u", "alice:" + PW["alice"],
                                 http + "/krb")
            check(rc == 0 and auth_of(out).get("principal") == "alice@" + realm.realm,
                  f"kerberos (password): 200 ({rc}, {err.strip()[-200:]})")

            # Digest and Basic (Basic over HTTPS only).
            rc, out, err = fetch(env, "--auth", "digest", "-u", "alice:" + PW["alice"], "-v",
                                 http + "/digest")
            a = auth_of(out)
            check(rc == 0 and a.get("type") == "Digest" and a.get("user") == "alice"
                  and "rspauth verified" in err, f"digest: 200, rspauth verified ({rc})")
            rc, out, err = fetch(env, *tls, "--auth", "basic", "-u", "alice:" + PW["alice"],
                                 https + "/basic")
            a = auth_of(out)
            check(rc == 0 and a.get("type") == "Basic" and a.get("user") == "alice",
                  f"basic over HTTPS: 200 ({rc}, {err.strip()[-200:]})")
            rc, _, err = fetch(env, "--auth", "basic", "-u", "alice:" + PW["alice"],
                               http + "/basic")
            check(rc == 4 or rc == 1, f"basic over plain HTTP: refused ({rc})")

            # "any": the strongest offered scheme.
            rc, out, _ = fetch(env, http + "/neg")
            check(rc == 0 and auth_of(out).get("package") == "Kerberos",
                  f"--auth any picks Negotiate/Kerberos ({rc})")

            # Extended Protection require over HTTPS: fetch binds tls-server-end-point.
            for path, auth, e, pkg in (("/epa-neg", "negotiate", env, "Kerberos"),
                                       ("/epa-krb", "kerberos", env, "Kerberos"),
                                       ("/epa-ntlm", "ntlm", ntlm_env, "NTLM"),
                                       ("/epa-neg", "negotiate", ntlm_env, "NTLM")):
                rc, out, err = fetch(e, *tls, "--auth", auth, "-v", https + path)
                a = auth_of(out)
                check(rc == 0 and a.get("package") == pkg and
                      "tls-server-end-point bindings ready" in err,
                      f"EPA require {path} with {auth} ({pkg}) over HTTPS: 200 ({rc}, "
                      f"{err.splitlines()[-1:]})")
            # ... and on plain HTTP there is nothing to bind: refused.
            rc, _, _ = fetch(env, "--auth", "negotiate", http + "/epa-neg")
            check(rc == 4, f"EPA require on plain HTTP: exit 4 ({rc})")
            rc, _, _ = fetch(ntlm_env, "--auth", "ntlm", http + "/epa-ntlm")
            check(rc == 4, f"EPA require (NTLM) on plain HTTP: exit 4 ({rc})")

            # Delegation: the forwarded TGT becomes a per-request ccache.
            rc, out, err = fetch(env, "--auth", "negotiate", "--delegate", "-v",
                                 http + "/deleg")
            a = auth_of(out)
            cc = a.get("delegated_ccache") or ""
            check(rc == 0 and a.get("delegated") is True and
                  cc.startswith("FILE:" + ccdir + "/cc_"),
                  f"--delegate: whoami names a delegated ccache ({rc}, {cc!r})")
            check("credentials delegated" in err, "fetch -v says credentials were delegated")
            rc, out, _ = fetch(env, "--auth", "negotiate", http + "/deleg")
            check(rc == 0 and auth_of(out).get("delegated_ccache") is None,
                  "without --delegate nothing is delegated")

            # Wrong password: exit 4 for each scheme.
            for auth, path, url_base, extra in (("negotiate", "/neg", http, []),
                                                ("kerberos", "/krb", http, []),
                                                ("ntlm", "/ntlm", http, []),
                                                ("digest", "/digest", http, []),
                                                ("basic", "/basic", https, tls)):
                rc, out, err = fetch(no_ticket, *extra, "--auth", auth, "-u", "alice:wrong",
                                     url_base + path)
                check(rc == 4 and "alice" not in out,
                      f"wrong password, {auth}: exit 4 ({rc}, {err.strip()[-160:]})")
            # Kerberos: the KDC's reason reaches the message (bob needs
            # pre-authentication; alice's AS reply just does not decrypt).
            rc, _, err = fetch(no_ticket, "--auth", "kerberos", "-u", "bob:wrong",
                               http + "/krb")
            check(rc == 4 and "SEC_E_LOGON_DENIED" in err and
                  "Preauthentication failed" in err and "Success" not in err,
                  f"kerberos wrong password, pre-authentication: the KDC's reason ({err})")
            rc, _, err = fetch(no_ticket, "--auth", "kerberos", "-u", "alice:wrong",
                               http + "/krb")
            check(rc == 4 and "SEC_E_LOGON_DENIED" in err and "wrong password" in err and
                  "Success" not in err, f"kerberos wrong password: reason ({err})")
        mutual_failures(realm)
    if FAILURES:
        print("FAILED: %d check(s)" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
