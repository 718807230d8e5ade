# SPDX-License-Identifier: MIT
"""NTLM interop with implementations nobody here wrote.

Our side runs in tests/tools/sspi_pipe (the NTLM package through its package
table, base64 tokens over stdin/stdout). The other side is:
  - python3-ntlm-auth as a client against our acceptor (with channel bindings),
  - gss-ntlmssp through python3-gssapi as a client against our acceptor, and
    as an acceptor for our client,
  - curl --ntlm (32-byte NEGOTIATE, OEM, no MIC) against our acceptor behind a
    minimal HTTP responder written here,
with sealing (GSS_Wrap/Unwrap <-> EncryptMessage/DecryptMessage) checked in
both directions after each handshake.
"""
import base64
import os
import subprocess
import sys
import tempfile

SEC_E_LOGON_DENIED = "0x8009030c"
SEC_E_BAD_BINDINGS = "0x80090346"

BUILD = os.environ.get("GH_BUILD", "build")
PIPE = os.path.join(BUILD, "tests", "tools", "sspi_pipe")
if not os.path.exists(PIPE):
    print("FAIL: %s not built (tests/tools)" % PIPE)
    sys.exit(1)

TMP = tempfile.mkdtemp(prefix="gh-ntlm-interop-")
USERS = os.path.join(TMP, "users")
with open(USERS, "w") as f:
    f.write("EXAMPLE:alice:Secret-1\nEXAMPLE:bob:b0b-pw\n")
os.chmod(USERS, 0o600)
# MD4 lives in OpenSSL's legacy provider: python3-ntlm-auth needs it activated.
CONF = os.path.join(TMP, "openssl.cnf")
with open(CONF, "w") as f:
    f.write("openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = d\nlegacy = l\n"
            "[d]\nactivate = 1\n[l]\nactivate = 1\n")
os.environ["OPENSSL_CONF"] = CONF
os.environ["NTLM_USER_FILE"] = USERS

# Everything that may load OpenSSL (hashlib) comes after OPENSSL_CONF is set.
import http.server  # noqa: E402
import threading  # noqa: E402

import gssapi  # noqa: E402
from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct  # noqa: E402
from ntlm_auth.ntlm import NtlmContext  # noqa: E402

NTLM_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
CB_A = b"tls-server-end-point:" + bytes(range(32))
CB_B = b"tls-server-end-point:" + bytes(32)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


class Pipe:
    """sspi_pipe with --package NTLM: recv() gives ("TOKEN", bytes), ("DATA",
    bytes), ("OK", client name) or ("ERR", "0x... reason")."""

    def __init__(self, mode, *args):
        self.p = subprocess.Popen([PIPE, mode, "--package", "NTLM"] + list(args),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, tok):
        self.p.stdin.write(base64.b64encode(tok).decode() + "\n")
        self.p.stdin.flush()

    def cmd(self, verb, data):
        self.p.stdin.write("%s %s\n" % (verb, base64.b64encode(data).decode()))
        self.p.stdin.flush()
        return self.recv()

    def recv(self):
        line = self.p.stdout.readline().strip()
        while line == "CONTINUE":
            line = self.p.stdout.readline().strip()
        kind, _, rest = line.partition(" ")
        if kind in ("TOKEN", "DATA"):
            return kind, base64.b64decode(rest)
        if kind == "OK":
            # OK <attrs> <client> <server> <package> <session key bytes>
            return kind, rest.split(" ")[1]
        return kind, rest

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        # A sanitizer report aborts the tool (ASAN_OPTIONS=abort_on_error=1).
        check(self.p.returncode in (0, 1), "sspi_pipe exited cleanly (%d)" % self.p.returncode)


def server(cb=None):
    args = ["accept", "--users", USERS, "--domain", "EXAMPLE"]
    if cb is not None:
        args += ["--cb", cb.hex()]
    return Pipe(*args)


def ntlm_auth_client(user, password, cb_sent=None, cb_server=None):
    """python3-ntlm-auth -> our acceptor; returns (status line, client ctx, pipe)."""
    cbt = None
    if cb_sent is not None:
        cbt = GssChannelBindingsStruct()
        cbt[cbt.APPLICATION_DATA] = cb_sent
    ctx = NtlmContext(user, password, domain="EXAMPLE", workstation="WS", cbt_data=cbt,
                      ntlm_compatibility=3)
    srv = server(cb_server)
    srv.send(ctx.step())
    kind, chal = srv.recv()
    assert kind == "TOKEN", (kind, chal)
    srv.send(ctx.step(chal))
    return srv.recv(), ctx, srv


def test_ntlm_auth():
    (kind, who), ctx, srv = ntlm_auth_client("alice", "Secret-1")
    check(kind == "OK" and who == "EXAMPLE\\alice", "ntlm-auth client authenticates (%s %s)"
          % (kind, who))
    kind, plain = srv.cmd("UNWRAP", ctx.wrap(b"sealed by ntlm-auth"))
    check(kind == "DATA" and plain == b"sealed by ntlm-auth", "we unseal ntlm-auth's wrap")
    kind, sealed = srv.cmd("WRAP", b"sealed by gatehouse")
    check(kind == "DATA" and ctx.unwrap(sealed) == b"sealed by gatehouse",
          "ntlm-auth unseals our EncryptMessage")
    srv.close()

    (kind, why), _, srv = ntlm_auth_client("alice", "wrong")
    check(kind == "ERR" and why.startswith(SEC_E_LOGON_DENIED), "wrong password -> LOGON_DENIED")
    srv.close()
    (kind, why), _, srv = ntlm_auth_client("nobody", "Secret-1")
    check(kind == "ERR" and why.startswith(SEC_E_LOGON_DENIED), "unknown user -> LOGON_DENIED")
    srv.close()

    (kind, _), _, srv = ntlm_auth_client("bob", "b0b-pw", CB_A, CB_A)
    check(kind == "OK", "ntlm-auth channel bindings match (its hash = ours)")
    srv.close()
    (kind, why), _, srv = ntlm_auth_client("bob", "b0b-pw", CB_A, CB_B)
    check(kind == "ERR" and why.startswith(SEC_E_BAD_BINDINGS), "different bindings -> BAD_BINDINGS")
    srv.close()


def gss_flags():
    return [gssapi.RequirementFlag.confidentiality, gssapi.RequirementFlag.integrity]


def test_gss_client():
    name = gssapi.Name("EXAMPLE\\alice", gssapi.NameType.user)
    creds = gssapi.Credentials(name=name, usage="initiate", mechs=[NTLM_OID])
    target = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=target, creds=creds, mech=NTLM_OID, usage="initiate",
                                 flags=gss_flags())
    srv = server()
    srv.send(ctx.step())
    kind, chal = srv.recv()
    check(kind == "TOKEN", "our CHALLENGE for gss-ntlmssp")
    srv.send(ctx.step(chal))
    kind, who = srv.recv()
    check(kind == "OK" and who == "EXAMPLE\\alice" and ctx.complete,
          "gss-ntlmssp client authenticates (%s %s)" % (kind, who))
    kind, plain = srv.cmd("UNWRAP", ctx.wrap(b"gss sealed", True).message)
    check(kind == "DATA" and plain == b"gss sealed", "we unseal gss-ntlmssp's gss_wrap")
    kind, sealed = srv.cmd("WRAP", b"to gss")
    check(kind == "DATA" and ctx.unwrap(sealed).message == b"to gss",
          "gss-ntlmssp unwraps our EncryptMessage")
    srv.close()


def gss_acceptor_run(password, cb_client=None, cb_acceptor=None):
    args = ["init", "--user", "alice", "--domain", "EXAMPLE", "--password", password,
            "--target", "HTTP/localhost"]
    if cb_client is not None:
        args += ["--cb", cb_client.hex()]
    cli = Pipe(*args)
    kw = {}
    if cb_acceptor is not None:
        kw["channel_bindings"] = gssapi.raw.ChannelBindings(application_data=cb_acceptor)
    acc = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept", mechs=[NTLM_OID]),
                                 usage="accept", **kw)
    kind, neg = cli.recv()
    assert kind == "TOKEN" and len(neg) == 40, (kind, neg)
    cli.send(acc.step(neg))
    kind, auth = cli.recv()
    assert kind == "TOKEN", (kind, auth)
    status = cli.recv()
    try:
        acc.step(auth)
        return "accepted", acc, cli, status
    except gssapi.exceptions.GSSError as e:
        return "refused: %s" % e, acc, cli, status


def test_gss_acceptor():
    result, acc, cli, status = gss_acceptor_run("Secret-1")
    who = str(acc.initiator_name) if result == "accepted" else None
    check(result == "accepted" and acc.complete and who is not None and "alice" in who
          and status[0] == "OK", "gss-ntlmssp acceptor accepts our client (%s, %s, %r)"
          % (result, status, who))
    if result == "accepted":
        kind, plain = cli.cmd("UNWRAP", acc.wrap(b"from gss acceptor", True).message)
        check(kind == "DATA" and plain == b"from gss acceptor", "we unseal the acceptor's wrap")
        kind, sealed = cli.cmd("WRAP", b"from our client")
        check(kind == "DATA" and acc.unwrap(sealed).message == b"from our client",
              "gss-ntlmssp unwraps our client's EncryptMessage")
    cli.close()

    result, _, cli, _ = gss_acceptor_run("not-the-password")
    check(result.startswith("refused"), "gss-ntlmssp refuses our client's wrong password")
    cli.close()

    result, _, cli, _ = gss_acceptor_run("Secret-1", CB_A, CB_A)
    check(result == "accepted", "gss-ntlmssp accepts our channel-binding hash (%s)" % result)
    cli.close()
    result, _, cli, _ = gss_acceptor_run("Secret-1", CB_A, CB_B)
    check(result.startswith("refused"), "gss-ntlmssp refuses mismatched bindings from us")
    cli.close()


class NtlmHandler(http.server.BaseHTTPRequestHandler):
    """401 / NTLM dance on one keep-alive connection; our acceptor decides."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def finish(self):
        super().finish()
        if hasattr(self, "acceptor"):
            self.acceptor.close()

    def reply(self, code, header=None, body=b""):
        self.send_response(code)
        if header:
            self.send_header("WWW-Authenticate", header)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("NTLM "):
            return self.reply(401, "NTLM")
        tok = base64.b64decode(auth[5:])
        if not hasattr(self, "acceptor"):
            self.acceptor = server()
        self.acceptor.send(tok)
        kind, val = self.acceptor.recv()
        if kind == "TOKEN":
            return self.reply(401, "NTLM " + base64.b64encode(val).decode())
        self.acceptor.close()
        del self.acceptor
        if kind == "OK":
            return self.reply(200, body=("user=%s\n" % val).encode())
        return self.reply(401, "NTLM", ("denied %s\n" % val).encode())


def test_curl():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NtlmHandler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    url = "http://127.0.0.1:%d/" % httpd.server_address[1]
    try:
        for user, want_code, want_body in (("EXAMPLE\\alice:Secret-1", "200", "user=EXAMPLE\\alice"),
                                           ("EXAMPLE\\alice:nope", "401", "denied " + SEC_E_LOGON_DENIED)):
            r = subprocess.run(["curl", "-s", "--max-time", "20", "--ntlm", "-u", user,
                                "-w", "\n%{http_code}", url], capture_output=True, text=True,
                               timeout=30)
            body, _, code = r.stdout.rpartition("\n")
            check(code == want_code and body.startswith(want_body),
                  "curl --ntlm %s -> %s (%r)" % (user.split(":")[1], code, body))
    finally:
        httpd.shutdown()
        httpd.server_close()


def main():
    try:
        test_curl()
        test_ntlm_auth()
        test_gss_client()
        test_gss_acceptor()
    finally:
        for name in os.listdir(TMP):
            os.unlink(os.path.join(TMP, name))
        os.rmdir(TMP)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
