# SPDX-License-Identifier: MIT
"""gatehouse fetch against Apache httpd + mod_auth_gssapi (+ gss-ntlmssp) and a
throwaway MIT KDC: Negotiate/Kerberos (ccache, password, wrong password,
mutual authentication, delegation into GssapiDelegCcacheDir), NTLM through
gss-ntlmssp (raw NTLM and SPNEGO/NTLM), Basic (mod_auth_basic + htpasswd, and
GssapiBasicAuth against the KDC) and Digest (mod_auth_digest). Then a fake
acceptor that withholds or corrupts the final Kerberos token: fetch must refuse
the response (mutual authentication failed, exit 4).

Apache's keytab comes through KRB5_KTNAME, not GssapiCredStore: mod_auth_gssapi
1.6.4 breaks NTLM on a location with a credential store (PEERS.md)."""
import base64
import http.server
import os
import shutil
import subprocess
import sys
import threading

from apachehttpd import Apache, available
from ghserver import gh_bin
from ghskip import missing_peer
from krb5realm import Realm

PW = {"alice": "alice-pw-1", "bob": "bob-pw-2"}

LOCATIONS = """
<Location /krb/>
  AuthType GSSAPI
  AuthName "krb"
  GssapiAllowedMech krb5
  GssapiConnectionBound On
  GssapiDelegCcacheDir {deleg}
  Require valid-user
</Location>
<Location /ntlm/>
  AuthType GSSAPI
  AuthName "ntlm"
  GssapiAllowedMech krb5 ntlmssp
  GssapiConnectionBound On
  Require valid-user
</Location>
<Location /gbasic/>
  AuthType GSSAPI
  AuthName "gssapi basic"
  GssapiAllowedMech krb5
  GssapiBasicAuth On
  GssapiBasicAuthMech krb5
  Require valid-user
</Location>
<Location /basic/>
  AuthType Basic
  AuthName "basic realm"
  AuthBasicProvider file
  AuthUserFile {htpasswd}
  Require valid-user
</Location>
<Location /digest/>
  AuthType Digest
  AuthName "digest realm"
  AuthDigestProvider file
  AuthUserFile {htdigest}
  AuthDigestDomain /digest/
  Require valid-user
</Location>
"""


def fetch(env, url, *args, stdin=None):
    r = subprocess.run([gh_bin(), "fetch", url] + list(args), env=env, capture_output=True,
                       text=True, timeout=60, input=stdin)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def expect(r, code, body=None, err=None):
    assert r.returncode == code, "exit %d, wanted %d\nstdout: %s\nstderr: %s" % (
        r.returncode, code, r.stdout, r.stderr)
    if body is not None:
        assert r.stdout == body, (r.stdout, r.stderr)
    if err is not None:
        assert err in r.stderr, r.stderr


def htdigest_line(user, realm, pw):
    import hashlib
    return "%s:%s:%s\n" % (user, realm, hashlib.md5(("%s:%s:%s" % (user, realm, pw)).encode())
                           .hexdigest())


def apache_cases(realm):
    os.chmod(realm.dir, 0o755)
    ntlm_file = os.path.join(realm.dir, "ntlm_users")
    with open(ntlm_file, "w") as f:
        f.write("GATEHOUSE:alice:%s\n" % PW["alice"])
    env_apache = dict(realm.env, NTLM_USER_FILE=ntlm_file, KRB5RCACHETYPE="none")
    ap = Apache("", env=env_apache)
    deleg = ap.path("deleg")
    os.makedirs(deleg)
    os.chown(deleg, ap.uid, ap.gid)
    htpasswd = ap.path("htpasswd")
    htdigest = ap.path("htdigest")
    subprocess.run(["htpasswd", "-c", "-b", "-B", htpasswd, "carol", "carol-pw-3"], check=True,
                   capture_output=True)
    with open(htdigest, "w") as f:
        f.write(htdigest_line("dave", "digest realm", "dave-pw-4"))
    # The location block is written now that the paths are known.
    with open(ap.conf, "a") as f:
        f.write(LOCATIONS.format(deleg=deleg, htpasswd=htpasswd, htdigest=htdigest))
    for p in (realm.keytab, ntlm_file, htpasswd, htdigest):
        ap.give(p)
    for loc in ("krb", "ntlm", "gbasic", "basic", "digest"):
        ap.write_doc(loc + "/index.txt", "%s ok\n" % loc)

    env = dict(realm.env)  # the client: alice's ccache from kinit
    no_creds = dict(realm.env, KRB5CCNAME="FILE:" + os.path.join(realm.dir, "none.ccache"))
    with ap:
        # Negotiate with the ccache; mutual authentication verified; identity logged.
        r = fetch(env, ap.url("/krb/index.txt"), "--auth", "negotiate", "-v")
        expect(r, 0, "krb ok\n", "mutual authentication verified")
        assert "Negotiate (Kerberos)" in r.stderr, r.stderr
        assert "alice@GATEHOUSE.TEST|200|GET /krb/index.txt" in ap.access_log()
        print("negotiate (ccache): ok")

        # Tokens never appear in -v output.
        tok_lines = [ln for ln in r.stderr.splitlines() if "Authorization:" in ln]
        assert tok_lines and all("not shown" in ln for ln in tok_lines), r.stderr
        assert "YII" not in r.stderr and "oY" not in r.stderr, r.stderr

        # Kerberos with a password (no ccache needed), raw krb5 in a Negotiate header.
        r = fetch(no_creds, ap.url("/krb/index.txt"), "--auth", "kerberos", "-u",
                  "alice:" + PW["alice"], "-v")
        expect(r, 0, "krb ok\n", "mutual authentication verified")
        # ... and the password on standard input (not a terminal).
        r = fetch(no_creds, ap.url("/krb/index.txt"), "--auth", "kerberos", "-u", "alice",
                  stdin=PW["alice"] + "\n")
        expect(r, 0, "krb ok\n")
        print("kerberos (password): ok")

        # Wrong password: exit 4 with the SSPI status name.
        r = fetch(no_creds, ap.url("/krb/index.txt"), "--auth", "kerberos", "-u", "alice:nope")
        expect(r, 4, "", "SEC_E_LOGON_DENIED")
        r = fetch(no_creds, ap.url("/krb/index.txt"), "--auth", "negotiate", "-u", "bob:nope")
        assert r.returncode == 4, (r.returncode, r.stderr)
        # No credentials at all.
        r = fetch(no_creds, ap.url("/krb/index.txt"), "--auth", "kerberos")
        expect(r, 4, "", "SEC_E_NO_CREDENTIALS")
        print("kerberos failures: ok")

        # Delegation: Apache stores the forwarded TGT in GssapiDelegCcacheDir (and
        # nothing was stored before: the earlier requests did not delegate).
        assert os.listdir(deleg) == [], os.listdir(deleg)
        r = fetch(env, ap.url("/krb/index.txt"), "--auth", "negotiate", "--delegate", "-v")
        expect(r, 0, "krb ok\n", "credentials delegated")
        stored = os.listdir(deleg)
        assert any(n.startswith("alice@GATEHOUSE.TEST") for n in stored), stored
        r = fetch(env, ap.url("/krb/index.txt"), "--auth", "negotiate")
        expect(r, 0, "krb ok\n")
        print("delegation: ok (%s)" % stored)

        # NTLM through gss-ntlmssp: "NTLM" scheme with our NTLM package.
        r = fetch(no_creds, ap.url("/ntlm/index.txt"), "--auth", "ntlm", "-u",
                  "GATEHOUSE\\alice:" + PW["alice"], "-v")
        expect(r, 0, "ntlm ok\n", "authenticated with NTLM")
        assert r.stderr.count("> GET /ntlm/index.txt") == 3, r.stderr  # 3 legs, one connection
        assert r.stderr.count("* connected") == 1, r.stderr
        r = fetch(no_creds, ap.url("/ntlm/index.txt"), "--auth", "ntlm", "-u", "alice:wrong")
        expect(r, 4, "", "refused the credentials")
        # Default NTLM credentials from NTLM_USER_FILE.
        ntlm_env = dict(no_creds, NTLM_USER_FILE=ntlm_file)
        r = fetch(ntlm_env, ap.url("/ntlm/index.txt"), "--auth", "ntlm")
        expect(r, 0, "ntlm ok\n")
        print("ntlm: ok")

        # SPNEGO choosing NTLM (no Kerberos ticket): our Negotiate against gss-ntlmssp's.
        r = fetch(ntlm_env, ap.url("/ntlm/index.txt"), "--auth", "negotiate", "-v")
        print("negotiate/ntlm: exit %d; %s" % (r.returncode, r.stderr.splitlines()[-1:]))
        expect(r, 0, "ntlm ok\n")
        assert "Negotiate (NTLM)" in r.stderr, r.stderr
        print("negotiate (NTLM inside SPNEGO): ok")

        # Basic: mod_auth_basic + htpasswd (bcrypt), and GssapiBasicAuth (checked at the KDC).
        r = fetch(env, ap.url("/basic/index.txt"), "--auth", "basic", "-u", "carol:carol-pw-3")
        expect(r, 0, "basic ok\n")
        r = fetch(env, ap.url("/basic/index.txt"), "--auth", "basic", "-u", "carol:bad")
        expect(r, 4, "", "refused")
        r = fetch(no_creds, ap.url("/gbasic/index.txt"), "--auth", "basic", "-u",
                  "alice:" + PW["alice"])
        expect(r, 0, "gbasic ok\n")
        r = fetch(no_creds, ap.url("/gbasic/index.txt"), "--auth", "basic", "-u", "alice:bad")
        expect(r, 4)
        # "any" with a password but no ticket picks Basic on a Basic-only location.
        r = fetch(env, ap.url("/basic/index.txt"), "-u", "carol:carol-pw-3")
        expect(r, 0, "basic ok\n")
        print("basic: ok")

        # Digest (mod_auth_digest: MD5, qop=auth), rspauth checked when sent.
        r = fetch(env, ap.url("/digest/index.txt"), "--auth", "digest", "-u", "dave:dave-pw-4",
                  "-v")
        expect(r, 0, "digest ok\n")
        r = fetch(env, ap.url("/digest/index.txt"), "--auth", "digest", "-u", "dave:bad")
        expect(r, 4, "", "refused")
        print("digest: ok")

        # HTTP error after authentication: exit 1.
        r = fetch(env, ap.url("/krb/missing.txt"), "--auth", "negotiate")
        expect(r, 1)
        # The request body is sent on every leg (POST to a static file: 405 from Apache
        # after authentication, or 200 depending on the handler) and nothing breaks.
        r = fetch(ntlm_env, ap.url("/ntlm/index.txt"), "--auth", "ntlm", "-d", "x=1" * 1000,
                  "-v")
        assert r.returncode in (0, 1), r.stderr
        assert "authenticated with NTLM" in r.stderr, r.stderr
        print("status and body: ok")


class FakeAcceptor(http.server.BaseHTTPRequestHandler):
    """Answers 401 Negotiate, then 200 with a broken or missing final token."""
    protocol_version = "HTTP/1.1"
    mode = "none"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if "Authorization" not in self.headers:
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Negotiate")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"secret data\n"
        self.send_response(200)
        if self.mode == "garbage":
            # A well-formed SPNEGO accept-completed wrapping a bogus AP-REP.
            self.send_header("WWW-Authenticate",
                             "Negotiate " + base64.b64encode(b"\xa1\x07\x30\x05\xa0\x03\x0a\x01"
                                                             b"\x00").decode())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def mutual_cases(realm):
    for mode in ("none", "garbage"):
        FakeAcceptor.mode = mode
        srv = http.server.HTTPServer(("127.0.0.1", 0), FakeAcceptor)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            url = "http://localhost:%d/x" % srv.server_address[1]
            for auth in ("negotiate", "kerberos"):
                r = fetch(realm.env, url, "--auth", auth)
                expect(r, 4)
                assert "secret data" not in r.stdout, r.stdout
                print("mutual auth (%s, %s): refused: %s" % (mode, auth, r.stderr.strip()))
        finally:
            srv.shutdown()
            srv.server_close()
            t.join(5)


def main():
    why = available()
    if why is not None:
        missing_peer(why, "apache2 libapache2-mod-auth-gssapi")
    if shutil.which("htpasswd") is None:
        missing_peer("htpasswd is not installed", "apache2-utils")
    with Realm(users=dict(PW)) as realm:
        apache_cases(realm)
        mutual_cases(realm)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
