# SPDX-License-Identifier: MIT
"""The Schannel and CredSSP samples (examples/sspi/schannel_*.c, credssp_*.c),
written the Windows way and compiled unchanged as ANSI and as UNICODE, run
against each other and against real peers. They load certificates as Windows
programs do: PKCS #12 files (PFXImportCertStore) and DER roots in a memory
store (CertOpenStore, CertAddEncodedCertificateToStore).
- schannel_client against schannel_server (every A/W pairing), and against
  `openssl s_server -www` (TLS 1.2 and 1.3, SCH_CREDENTIALS and SCHANNEL_CRED,
  ALPN, a requested client certificate given or not);
- schannel_server against curl (HTTP, ALPN, client certificate required,
  given or absent) and `openssl s_client` (an echo);
- failures with the Windows status: an untrusted server
  (SEC_E_UNTRUSTED_ROOT, 0x80090325), a wrong name (SEC_E_WRONG_PRINCIPAL,
  0x80090322), a required client certificate absent (403, exit 1);
- credssp_client against credssp_server: NTLM inside SPNEGO inside TLS, the
  identity as SEC_WINNT_AUTH_IDENTITY and _EX, the password delegated (or
  not), a wrong password (SEC_E_LOGON_DENIED on both sides), an untrusted
  server certificate (SEC_E_UNTRUSTED_ROOT before any credential is sent)."""
import os
import shutil
import subprocess
import sys
import tempfile

from ghcheck import check, finish
from ghserver import gh_bin, gh_example, make_pki
from ports import free_port, wait_port

SEC_E_UNTRUSTED_ROOT = "0x80090325"
SEC_E_WRONG_PRINCIPAL = "0x80090322"
SEC_E_LOGON_DENIED = "0x8009030c"


def need(tool):
    if shutil.which(tool) is None:
        print("FAIL: %s is not installed (scripts/install-deps)" % tool)
        sys.exit(1)


class Server:
    """One of our sample servers: started, its "port N" read, then waited for."""

    def __init__(self, name, args, env=None):
        self.proc = subprocess.Popen([gh_example(name)] + args, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        first = self.proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "port":
            self.proc.kill()
            raise AssertionError("%s did not start: %r" % (name, first))
        self.port = int(first[1])

    def finish(self):
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            return None, out + "\n[killed: timed out]"
        return self.proc.returncode, out


def run(cmd, env=None, stdin=None):
    r = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def s_server(d, proto, extra=(), clients=1):
    port = free_port()
    cmd = ["openssl", "s_server", "-accept", str(port), "-cert", os.path.join(d, "localhost.pem"),
           "-key", os.path.join(d, "localhost.key"), "-www", "-naccept", str(clients + 1),
           "-tls1_3" if proto == "13" else "-tls1_2"] + list(extra)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)  # this probe is the first of the accepts
    return proc, port


PFX_PASSWORD = "Pfx-pass-1"


def make_windows_files(d):
    """What Windows programs load: each certificate with its key and the CA as a
    PKCS #12 file (PFXImportCertStore), the certificates as DER
    (CertAddEncodedCertificateToStore)."""
    for name in ("localhost", "alice"):
        subprocess.run(["openssl", "pkcs12", "-export", "-in", os.path.join(d, name + ".pem"),
                        "-inkey", os.path.join(d, name + ".key"), "-certfile",
                        os.path.join(d, "ca.pem"), "-out", os.path.join(d, name + ".pfx"),
                        "-passout", "pass:" + PFX_PASSWORD], check=True, capture_output=True)
    for name in ("ca", "alice"):
        subprocess.run(["openssl", "x509", "-in", os.path.join(d, name + ".pem"), "-outform",
                        "DER", "-out", os.path.join(d, name + ".der")], check=True,
                       capture_output=True)


def der(d):
    return os.path.join(d, "ca.der")


def pfx(d, name):
    return ["--pfx", os.path.join(d, name + ".pfx"), "--password", PFX_PASSWORD]


def test_pairs(d, ca):
    cert = pfx(d, "localhost")
    for sv, cv in (("a", "a"), ("w", "w"), ("a", "w"), ("w", "a")):
        what = "schannel_client_%s <-> schannel_server_%s" % (cv, sv)
        srv = Server("schannel_server_" + sv, cert)
        crc, cout = run([gh_example("schannel_client_" + cv), "--ca", der(d), "--path", "/pair",
                         str(srv.port)])
        src, sout = srv.finish()
        detail = "server:\n%s\nclient:\n%s" % (sout, cout)
        check(crc == 0 and src == 0, what + ": both succeed", detail)
        check("subject: CN=localhost" in cout and "issuer:  CN=gatehouse test CA" in cout,
              what + ": REMOTE_CERT_CONTEXT and CertNameToStr", detail)
        check("hello, anonymous\nyou asked: GET /pair HTTP/1.1" in cout and
              "[close_notify received]" in cout and "[close_notify sent]" in cout,
              what + ": request, answer and both close_notify", detail)
        check("cipher suite: 0x13" in cout and "TLS_AES_" in cout and "protocol: 0x2000" in cout,
              what + ": CONNECTION_INFO and CIPHER_INFO (TLS 1.3)", detail)
        check("key info: signature ECDSA" in cout and "key info: signature ECDSA" in sout and
              cout.count("session key: 32 bytes") == 1 and "session key: 32 bytes" in sout,
              what + ": KEY_INFO and SESSION_KEY on both sides", detail)
        check("request: GET /pair HTTP/1.1" in sout and "no client certificate" in sout,
              what + ": the server read the request", detail)


def test_vs_s_server(d, ca):
    alice = pfx(d, "alice")
    for variant in ("a", "w"):
        client = gh_example("schannel_client_" + variant)
        for proto, cred in (("12", "--legacy"), ("13", None), ("12", None), ("13", "--legacy")):
            what = "schannel_client_%s vs s_server TLS %s %s" % (variant, proto,
                                                                 cred or "SCH_CREDENTIALS")
            srv, port = s_server(d, proto, ["-alpn", "http/1.1"])
            try:
                # With SCHANNEL_CRED the client enables only the protocol of
                # the test (grbitEnabledProtocols); with SCH_CREDENTIALS both.
                limit = ["--tls" + proto] if cred else []
                args = [client, "--ca", der(d), "--alpn", "http/1.1"] + limit + \
                    ([cred] if cred else [])
                rc, out = run(args + [str(port)])
            finally:
                srv.kill()
                srv.wait()
            check(rc == 0 and "HTTP/1.0 200 ok" in out, what + ": HTTP GET answered", out)
            want = (0x800 if proto == "12" else 0x2000) if cred else 0x2800
            check("credential: protocols 0x%x, ciphers of 128 to 256 bits" % want in out,
                  what + ": QueryCredentialsAttributes(SUPPORTED_PROTOCOLS, CIPHER_STRENGTHS)",
                  out)
            check(("protocol: 0x2000" if proto == "13" else "protocol: 0x800") in out,
                  what + ": the protocol asked for", out)
            check("application protocol: http/1.1" in out, what + ": ALPN", out)
            if proto == "13":
                check("[SEC_I_RENEGOTIATE]" in out, what + ": tickets give SEC_I_RENEGOTIATE", out)
        # A client certificate asked for: without one, then with alice's.
        srv, port = s_server(d, "13", ["-verify", "1", "-CAfile", ca], clients=2)
        try:
            rc1, out1 = run([client, "--ca", der(d), str(port)])
            rc2, out2 = run([client, "--ca", der(d)] + alice + [str(port)])
        finally:
            srv.kill()
            srv.wait()
        what = "schannel_client_%s vs s_server -verify" % variant
        check(rc1 == 0 and "asks for a client certificate (1 acceptable CAs)" in out1 and
              "no client certificate available" in out1,
              what + ": SEC_I_INCOMPLETE_CREDENTIALS, then on without", out1)
        check(rc2 == 0 and ("Subject: CN=alice" in out2 or "CN = alice" in out2),
              what + ": with a certificate credential after SEC_I_INCOMPLETE_CREDENTIALS", out2)
        # Failures, with Windows' statuses.
        srv, port = s_server(d, "13", clients=3)
        try:
            rc1, out1 = run([client, "--ca", os.path.join(d, "alice.der"), str(port)])
            rc2, out2 = run([client, "--ca", der(d), "--target", "www.example.org", str(port)])
            rc3, out3 = run([client, "--manual", "--target", "www.example.org", str(port)])
        finally:
            srv.kill()
            srv.wait()
        check(rc1 == 1 and ("InitializeSecurityContext failed: " + SEC_E_UNTRUSTED_ROOT) in out1,
              "schannel_client_%s: untrusted root -> SEC_E_UNTRUSTED_ROOT" % variant, out1)
        check(rc2 == 1 and ("InitializeSecurityContext failed: " + SEC_E_WRONG_PRINCIPAL) in out2,
              "schannel_client_%s: wrong name -> SEC_E_WRONG_PRINCIPAL" % variant, out2)
        check(rc3 == 0 and "manual validation" in out3 and "HTTP/1.0 200 ok" in out3,
              "schannel_client_%s: ISC_REQ_MANUAL_CRED_VALIDATION leaves it to us" % variant,
              out3)


def test_server_vs_peers(d, ca):
    cert = pfx(d, "localhost")
    for variant in ("a", "w"):
        name = "schannel_server_" + variant
        srv = Server(name, cert + ["--alpn", "http/1.1"])
        rc, out = run(["curl", "-sS", "-v", "--cacert", ca, "--max-time", "30",
                       "https://localhost:%d/curl" % srv.port])
        src, sout = srv.finish()
        detail = "server:\n%s\ncurl:\n%s" % (sout, out)
        check(rc == 0 and src == 0 and "hello, anonymous\nyou asked: GET /curl HTTP/1.1" in out,
              "curl -> %s: answered" % name, detail)
        check("ALPN: server accepted http/1.1" in out and "application protocol: http/1.1" in sout,
              "curl -> %s: ALPN through SECBUFFER_APPLICATION_PROTOCOLS" % name, detail)
        # A required client certificate: absent, then given.
        srv = Server(name, cert + ["--ca", der(d), "--require-cert"])
        rc, out = run(["curl", "-sS", "--cacert", ca, "--max-time", "30", "-o", "/dev/null",
                       "-w", "%{http_code}", "https://localhost:%d/x" % srv.port])
        src, sout = srv.finish()
        check(out.strip() == "403" and src == 1 and "no client certificate" in sout and
              "refused: a client certificate is required" in sout,
              "curl without a certificate -> %s --require-cert: 403, exit 1" % name,
              "server:\n%s\ncurl:\n%s" % (sout, out))
        srv = Server(name, cert + ["--ca", der(d), "--require-cert"])
        rc, out = run(["curl", "-sS", "--cacert", ca, "--max-time", "30",
                       "--cert", os.path.join(d, "alice.pem"), "--key",
                       os.path.join(d, "alice.key"), "https://localhost:%d/y" % srv.port])
        src, sout = srv.finish()
        check(rc == 0 and src == 0 and "hello, CN=alice" in out and "subject: CN=alice" in sout,
              "curl with alice's certificate -> %s --require-cert" % name,
              "server:\n%s\ncurl:\n%s" % (sout, out))
        # openssl s_client, TLS 1.2, with a client certificate, an echo.
        srv = Server(name, cert + ["--ca", der(d), "--request-cert"])
        rc, out = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port, "-tls1_2",
                       "-CAfile", ca, "-verify_return_error", "-servername", "localhost",
                       "-quiet", "-cert", os.path.join(d, "alice.pem"), "-key",
                       os.path.join(d, "alice.key")], stdin="ping from s_client\n")
        src, sout = srv.finish()
        check(src == 0 and "echo: ping from s_client" in out and
              "client says: ping from s_client" in sout and "protocol: 0x400" in sout,
              "openssl s_client -tls1_2 -> %s: echo, client certificate" % name,
              "server:\n%s\ns_client:\n%s" % (sout, out))


def test_credssp(d, ca, tmp):
    store = os.path.join(tmp, "users")
    r = subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--stdin", "--iterations",
                        "1000"], input="Secret-1\n", capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "user store written", r.stdout + r.stderr)
    env = dict(os.environ, GH_USER_STORE=store)
    cert = pfx(d, "localhost")
    for sv, cv, extra in (("a", "a", []), ("w", "w", ["--ex"]), ("a", "w", []),
                          ("w", "a", ["--ex"])):
        what = "credssp_client_%s %s<-> credssp_server_%s" % (cv, " ".join(extra) + " ", sv)
        srv = Server("credssp_server_" + sv, cert, env=env)
        crc, cout = run([gh_example("credssp_client_" + cv), "--ca", der(d)] + extra +
                        [str(srv.port), "alice", "GATEHOUSE", "Secret-1"], env=env)
        src, sout = srv.finish()
        detail = "server:\n%s\nclient:\n%s" % (sout, cout)
        check(crc == 0 and src == 0, what + ": both succeed", detail)
        check("credential: GATEHOUSE\\alice" in cout and
              "authenticated as: GATEHOUSE\\alice" in cout and "(credentials delegated)" in cout,
              what + ": CRED_ATTR_NAMES, NAMES, ISC_RET_DELEGATE", detail)
        check("subject: CN=localhost" in cout and "session key: 16 bytes" in cout,
              what + ": REMOTE_CERT_CONTEXT and SESSION_KEY through CredSSP", detail)
        check("client: GATEHOUSE\\alice" in sout and "access token closed" in sout and
              "delegated: GATEHOUSE\\alice (password of 8 bytes)" in sout,
              what + ": the server has alice, her token and her password", detail)
        check("client says: hello from the credssp client" in sout and
              "server says: hello, hello from the credssp client" in cout,
              what + ": one message each way through the TLS channel", detail)
    srv = Server("credssp_server_a", cert, env=env)
    crc, cout = run([gh_example("credssp_client_a"), "--ca", der(d), "--no-delegate", str(srv.port),
                     "alice", "GATEHOUSE", "Secret-1"], env=env)
    src, sout = srv.finish()
    check(crc == 0 and src == 0 and "delegated: nothing" in sout and
          "(credentials delegated)" not in cout,
          "credssp without ISC_REQ_DELEGATE: an empty credential set",
          "server:\n%s\nclient:\n%s" % (sout, cout))
    srv = Server("credssp_server_w", cert, env=env)
    crc, cout = run([gh_example("credssp_client_w"), "--ca", der(d), str(srv.port), "alice", "GATEHOUSE",
                     "wrong"], env=env)
    src, sout = srv.finish()
    check(crc == 1 and src == 1 and
          ("InitializeSecurityContext failed: " + SEC_E_LOGON_DENIED) in cout and
          ("AcceptSecurityContext failed: " + SEC_E_LOGON_DENIED) in sout,
          "credssp wrong password: SEC_E_LOGON_DENIED on both sides",
          "server:\n%s\nclient:\n%s" % (sout, cout))
    srv = Server("credssp_server_a", cert, env=env)
    crc, cout = run([gh_example("credssp_client_a"), "--ca", os.path.join(d, "alice.der"),
                     str(srv.port), "alice", "GATEHOUSE", "Secret-1"], env=env)
    src, sout = srv.finish()
    check(crc == 1 and src == 1 and
          ("InitializeSecurityContext failed: " + SEC_E_UNTRUSTED_ROOT) in cout and
          "delegated" not in sout,
          "credssp untrusted server: SEC_E_UNTRUSTED_ROOT, nothing delegated",
          "server:\n%s\nclient:\n%s" % (sout, cout))


def main():
    for tool in ("openssl", "curl"):
        need(tool)
    tmp = tempfile.mkdtemp(prefix="gh-sspi-tls-samples-")
    try:
        ca = make_pki(tmp, ("localhost", "alice"))
        make_windows_files(tmp)
        test_pairs(tmp, ca)
        test_vs_s_server(tmp, ca)
        test_server_vs_peers(tmp, ca)
        test_credssp(tmp, ca, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
