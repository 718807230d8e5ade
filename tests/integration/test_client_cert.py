# SPDX-License-Identifier: MIT
"""Client certificates negotiated on demand (issue 7), with real clients.

One server, one worker (so "the loop is not blocked" is visible), the seed's
module (examples/negotiate_client_cert.so: synchronous NegotiateClientCertificate
on every request) loaded, and locations with tls_client_certificate
negotiate/require. Checked:
  - curl --cert over TLS 1.2 (server-initiated secure renegotiation) and TLS 1.3
    (post-handshake auth), RSA and ECDSA certificates: the seed module's trace
    (cnt/URI, "forcing load of client cert", size and CRC-32 of the DER
    computed here), "Cert not found" without a certificate, "connection is not
    using SSL" on plain HTTP;
  - require: revoked (CRL), untrusted and too deep (tls_client_verify_depth 1,
    two intermediates) certificates get 403 saying why;
  - openssl s_client with -enable_pha (200) and without (403 saying why);
    Python's ssl with post_handshake_auth;
  - a client holding its certificate back while another client's requests are
    answered by the same worker; a client that never answers (timeout, closed);
    a client answering with garbage (closed); a client renegotiating on its own
    (refused); the server serves others after each;
  - POST bodies arriving during a renegotiation: under the buffer limit they
    reach the handler intact (SHA-256 compared), over it 413.
Then a second server (tls_client_verify optional_no_ca) loads the asynchronous
example module: re-entry after GH_RQ_PENDING, the chain a client sends (leaf
excluded), CertFlags of an untrusted certificate. A third has a listener asking
in the handshake; a fourth trusts the client CA for one SNI host only."""
import hashlib
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time
import zlib

from apachehttpd import free_port
from authclients import check, finish
from clientpki import make_client_pki
from ghserver import GhServer, gh_build

EX = os.path.join(gh_build(), "examples")
SEED = os.path.join(EX, "negotiate_client_cert.so")
ASYNC = os.path.join(EX, "negotiate_client_cert_async.so")
ECHO = os.path.join(EX, "echo_module.so")


def der_of(pem):
    return subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"], check=True,
                          capture_output=True).stdout


def curl(*args, data=None):
    r = subprocess.run(["curl", "-s", "-k", "-i", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30, input=data)
    return r.stdout.decode("utf-8", "replace"), r.returncode


def status_of(resp):
    m = re.match(r"HTTP/1\.[01] (\d+)", resp)
    return int(m.group(1)) if m else 0


def body_of(resp):
    return resp.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in resp else ""


def wait_log(srv, pattern, start, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = srv.stderr()[start:]
        if re.search(pattern, text):
            return True
        time.sleep(0.05)
    return False


def s_client(port, path, args, stdin_extra=b""):
    req = ("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode()
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "localhost", "-quiet", "-ign_eof"] + args,
                       input=stdin_extra + req, capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def py_client(port, cert=None, key=None, pha=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.post_handshake_auth = pha
    if cert:
        ctx.load_cert_chain(cert, key)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s, server_hostname="localhost")


def tls12_client(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s, server_hostname="localhost")


def read_response_bytes(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ssl.SSLError, ConnectionResetError, socket.timeout, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data


def read_response(s):
    return read_response_bytes(s).decode("utf-8", "replace")


def main():
    pki_dir = tempfile.mkdtemp(prefix="gh-pki-")
    p = make_client_pki(pki_dir)
    top = ("tls_client_ca %s;\ntls_client_crl %s;\ntls_client_certificate_timeout 4s;\n"
           "tls_client_certificate_buffer 64k;\ntls_client_verify_depth 1;\nload_module negotiate_client_cert %s;\n"
           "load_module echo %s;\n" % (p["ca"], p["crl"], SEED, ECHO))
    conf = """
location / { handler return; return 200 "hello"; }
location /neg/ { tls_client_certificate negotiate; handler return; return 200 "neg"; }
location /req/ { tls_client_certificate require; handler return; return 200 "req"; }
location /echo/ { tls_client_certificate require; handler echo; }
"""
    with GhServer(conf, https=True, workers=1, extra_top=top) as srv:
        tp = srv.port(tls=True)
        url = lambda path: "https://127.0.0.1:%d%s" % (tp, path)

        # The seed module, TLS 1.2 (renegotiation) and TLS 1.3 (PHA), RSA and ECDSA.
        for who in ("alice", "bob"):
            der = der_of(p[who])
            for ver in (["--tls-max", "1.2"], ["--tlsv1.3"]):
                mark = len(srv.stderr())
                resp, _ = curl(*ver, "--cert", p[who], "--key", p[who + "_key"], url("/"))
                log = srv.stderr()[mark:]
                tag = "%s %s" % (who, ver[-1])
                check(status_of(resp) == 200 and body_of(resp) == "hello", tag + ": 200")
                check(re.search(r"negotiate_client_cert: cnt = \d+ URI: https://127\.0\.0\.1:%d/"
                                % tp, log) is not None, tag + ": seed traces cnt and URL")
                check("forcing load of client cert" in log, tag + ": forced negotiation")
                check("cert size: %d Previously negotiated 1" % len(der) in log,
                      tag + ": seed logs the DER size %d" % len(der))
                check("cert crc: %d" % zlib.crc32(der) in log, tag + ": seed logs the CRC-32")

        for ver in (["--tls-max", "1.2"], ["--tlsv1.3"]):
            mark = len(srv.stderr())
            resp, _ = curl(*ver, url("/"))
            log = srv.stderr()[mark:]
            check(status_of(resp) == 200 and "Cert not found" in log,
                  "no certificate %s: 200 and 'Cert not found'" % ver[-1])
        mark = len(srv.stderr())
        resp, _ = curl(srv.url("/"))
        log = srv.stderr()[mark:]
        check(status_of(resp) == 200 and "connection is not using SSL" in log,
              "plain HTTP: 'connection is not using SSL'")

        # tls_client_certificate require / negotiate.
        resp, _ = curl("--cert", p["alice"], "--key", p["alice_key"], url("/req/x"))
        check(status_of(resp) == 200 and body_of(resp) == "req", "require + alice: 200")
        resp, _ = curl(url("/req/x"))
        check(status_of(resp) == 403 and "presented none" in body_of(resp),
              "require without certificate: 403 saying none was presented")
        resp, _ = curl(url("/neg/x"))
        check(status_of(resp) == 200, "negotiate without certificate: 200")
        resp, _ = curl("--tls-max", "1.2", "--cert", p["carol"], "--key", p["carol_key"],
                       url("/req/x"))
        check(status_of(resp) == 403 and "revoked" in body_of(resp),
              "revoked certificate (CRL): 403 saying revoked: " + body_of(resp).strip())
        resp, _ = curl("--cert", p["dave"], "--key", p["dave_key"], url("/req/x"))
        check(status_of(resp) == 403 and "chain too long" in body_of(resp),
              "chain deeper than tls_client_verify_depth 1: 403 saying why: "
              + body_of(resp).strip())
        resp, _ = curl("--cert", p["mallory"], "--key", p["mallory_key"], url("/req/x"))
        check(status_of(resp) == 403 and "issuer" in body_of(resp),
              "untrusted issuer: 403 saying why: " + body_of(resp).strip())

        # openssl s_client with and without post-handshake auth (TLS 1.3).
        out, err = s_client(tp, "/req/x", ["-tls1_3", "-enable_pha", "-cert", p["bob"], "-key",
                                           p["bob_key"]])
        check(status_of(out) == 200 and out.endswith("req"), "s_client -enable_pha: 200")
        out, err = s_client(tp, "/req/x", ["-tls1_3", "-cert", p["bob"], "-key", p["bob_key"]])
        check(status_of(out) == 403 and "post-handshake authentication" in out,
              "s_client without -enable_pha: 403 saying PHA was not offered")
        out, err = s_client(tp, "/req/x", ["-tls1_2", "-cert", p["bob"], "-key", p["bob_key"]])
        check(status_of(out) == 200, "s_client TLS 1.2 renegotiation: 200")

        # Python's ssl with post_handshake_auth.
        s = py_client(tp, p["alice"], p["alice_key"])
        s.sendall(b"GET /req/py HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        resp = read_response(s)
        s.close()
        check(status_of(resp) == 200, "python ssl post_handshake_auth: 200")

        # A slow client holds its certificate back; another client is served meanwhile.
        mark = len(srv.stderr())
        slow = py_client(tp, p["alice"], p["alice_key"])
        slow.sendall(b"GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        check(wait_log(srv, r"forcing load of client cert", mark),
              "slow client: the seed module is waiting for its certificate")
        served = 0
        for _ in range(5):
            resp, _ = curl(srv.url("/"))
            served += status_of(resp) == 200
        check(served == 5, "same worker answers 5 plain requests while the exchange waits")
        resp = read_response(slow)
        slow.close()
        check(status_of(resp) == 200, "slow client: answered once it sends its certificate")
        log = srv.stderr()[mark:]
        check(log.rfind("connection is not using SSL") < log.find("client certificate negotiated"),
              "the plain requests were answered before the slow exchange ended")

        # A client that never answers the CertificateRequest: closed at the timeout.
        mark = len(srv.stderr())
        mute = py_client(tp, p["alice"], p["alice_key"])
        mute.sendall(b"GET /mute HTTP/1.1\r\nHost: localhost\r\n\r\n")
        check(wait_log(srv, r"client certificate exchange timed out", mark, timeout=20),
              "silent client: the exchange times out")
        raw = read_response_bytes(mute)
        mute.close()
        resp, _ = curl(srv.url("/"))
        check(raw == b"" and status_of(resp) == 200,
              "silent client: closed without a response; server serves others")

        # Garbage instead of the client's handshake answer: the connection closes.
        mark = len(srv.stderr())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, outg, server_hostname="localhost")
        raw_sock = socket.create_connection(("127.0.0.1", tp), timeout=10)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw_sock.sendall(outg.read())
                inc.write(raw_sock.recv(65536))
        raw_sock.sendall(outg.read())
        obj.write(b"GET /garbage HTTP/1.1\r\nHost: localhost\r\n\r\n")
        raw_sock.sendall(outg.read())
        check(wait_log(srv, r"forcing load of client cert", mark), "garbage: exchange started")
        raw_sock.sendall(b"\x16\x03\x03\x00\x10" + os.urandom(16) + b"garbage!" * 8)
        closed = False
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                chunk = raw_sock.recv(65536)
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
        raw_sock.close()
        resp, _ = curl(srv.url("/"))
        check(closed and status_of(resp) == 200,
              "garbage answer: connection closed, server serves others")

        # A client renegotiating on its own (TLS 1.2): refused, others served.
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % tp, "-tls1_2"],
                           input=b"R\n", capture_output=True, timeout=30)
        text = (r.stdout + r.stderr).decode("utf-8", "replace")
        check("RENEGOTIATING" in text and ("no renegotiation" in text or "alert" in text),
              "client-initiated renegotiation is refused by an alert")
        resp, _ = curl(srv.url("/"))
        check(status_of(resp) == 200, "server serves others after a client renegotiation")

        # POST bodies arriving during the renegotiation.
        body = os.urandom(32 * 1024)
        resp, _ = curl("--tls-max", "1.2", "--cert", p["alice"], "--key", p["alice_key"],
                       "--data-binary", "@-", "-H", "Content-Type: application/octet-stream",
                       url("/echo/x"), data=body)
        r = subprocess.run(["curl", "-s", "-k", "--max-time", "20", "--tls-max", "1.2", "--cert",
                            p["alice"], "--key", p["alice_key"], "--data-binary", "@-",
                            url("/echo/x")], input=body, capture_output=True, timeout=30)
        echoed = r.stdout
        check(hashlib.sha256(echoed[-len(body):]).hexdigest() == hashlib.sha256(body).hexdigest(),
              "32 KiB POST during renegotiation reaches the handler intact (SHA-256)")
        # A client that sends its whole request before reading anything (so the
        # HelloRequest waits): the body is held during the exchange.
        for size, want in ((48 * 1024, 200), (200 * 1024, 413)):
            body = os.urandom(size)
            s = tls12_client(tp, p["alice"], p["alice_key"])
            s.sendall(b"POST /echo/y HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % size + body)
            raw = read_response_bytes(s)
            s.close()
            head, _, got = raw.partition(b"\r\n\r\n")
            st = status_of(head.decode("latin-1"))
            if want == 200:
                check(st == 200 and hashlib.sha256(got[-size:]).digest() ==
                      hashlib.sha256(body).digest(),
                      "%d KiB POST held during renegotiation reaches the handler intact "
                      "(SHA-256)" % (size // 1024))
            else:
                check(st == 413, "%d KiB POST over tls_client_certificate_buffer: 413 (got %d)"
                      % (size // 1024, st))
        resp, _ = curl(srv.url("/"))
        check(status_of(resp) == 200, "server serves others after the 413")
        srv.assert_alive()

    # The asynchronous module: GH_RQ_PENDING, re-entered when the exchange ends.
    top = ("tls_client_ca %s;\ntls_client_verify optional_no_ca;\n"
           "load_module negotiate_client_cert_async %s;\n" % (p["ca"], ASYNC))
    with GhServer('location / { handler return; return 200 "async"; }', https=True, workers=1,
                  extra_top=top) as srv:
        tp = srv.port(tls=True)
        for ver in (["--tls-max", "1.2"], ["--tlsv1.3"]):
            mark = len(srv.stderr())
            resp, _ = curl(*ver, "--cert", p["bob"], "--key", p["bob_key"],
                           "https://127.0.0.1:%d/a" % tp)
            log = srv.stderr()[mark:]
            check(status_of(resp) == 200 and "completion pending" in log and
                  "subject: O=Test,CN=bob" not in log and "subject: CN=bob,O=Test" in log,
                  "async %s: pending, re-entered, certificate seen" % ver[-1])
        mark = len(srv.stderr())
        resp, _ = curl("https://127.0.0.1:%d/a" % tp)
        check(status_of(resp) == 200 and "Cert not found" in srv.stderr()[mark:],
              "async without certificate: 'Cert not found'")
        # A chain sent by the client: leaf excluded, in the order sent.
        mark = len(srv.stderr())
        resp, _ = curl("--cert", p["dave"], "--key", p["dave_key"], "https://127.0.0.1:%d/a" % tp)
        log = srv.stderr()[mark:]
        check(status_of(resp) == 200 and
              re.search(r"flags: 0 subject: CN=dave,O=Test issuer: CN=intermediate 2 chain: 2",
                        log) is not None,
              "two intermediates sent: verified (depth 4), chain of 2 DER certificates %r"
              % re.findall(r"cert size: .*", log))
        # optional_no_ca: untrusted certificates reach the module with CertFlags.
        for who, flags in (("mallory", 20), ("alice", 0)):
            mark = len(srv.stderr())
            resp, _ = curl("--cert", p[who], "--key", p[who + "_key"],
                           "https://127.0.0.1:%d/a" % tp)
            check(status_of(resp) == 200 and
                  re.search(r"cert size: \d+ flags: %d subject: CN=%s" % (flags, who),
                            srv.stderr()[mark:]) is not None,
                  "optional_no_ca: %s reaches the module with CertFlags %d" % (who, flags))

    # A listener asking in the handshake: many fresh TLS 1.3 connections with a
    # certificate (openssl s_time), each must get its answer (a request buffered
    # by the handshake's read-ahead was once left unread: s_time hung).
    port2 = free_port()
    top = "tls_client_ca %s;\nlisten 127.0.0.1:%d tls client_cert;\n" % (p["ca"], port2)
    with GhServer('location / { handler return; return 200 "hs"; }', https=True, http=False,
                  workers=1, extra_top=top) as srv:
        for proto in ("-tls1_3", "-tls1_2", "-tls1_3"):
            try:
                r = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:%d" % port2,
                                    "-new", "-time", "2", "-cert", p["bob"], "-key",
                                    p["bob_key"], "-www", "/", proto],
                                   capture_output=True, text=True, timeout=60)
                m = re.search(r"(\d+) connections in \d+ real seconds, (\d+) bytes", r.stdout)
                done = m is not None and int(m.group(1)) > 0 and int(m.group(2)) > 0
            except subprocess.TimeoutExpired:
                done = False
            check(done, "handshake listener: openssl s_time %s with a certificate completes" % proto)
        s = py_client(port2, p["alice"], p["alice_key"])
        s.sendall(b"GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        check(status_of(read_response(s)) == 200, "handshake listener: python client 200")
        s.close()

    # Per SNI host trust: the client CA is trusted for "localhost" only.
    top = "tls_client_ca %s localhost;\n" % p["ca"]
    with GhServer('location / { tls_client_certificate require; handler return; return 200 "sni"; }',
                  https=True, http=False, workers=1, cert_names=("localhost", "other"),
                  extra_top=top) as srv:
        tp = srv.port(tls=True)
        for name, want in (("localhost", 200), ("other", 403)):
            resp, _ = curl("--resolve", "%s:%d:127.0.0.1" % (name, tp), "--cert", p["alice"],
                           "--key", p["alice_key"], "https://%s:%d/" % (name, tp))
            check(status_of(resp) == want,
                  "tls_client_ca for SNI localhost only: %s -> %d (got %d %s)"
                  % (name, want, status_of(resp), body_of(resp).strip()))
    finish()


if __name__ == "__main__":
    main()
