# SPDX-License-Identifier: MIT
"""gatehouse fetch against our own server (whoami, static, proxy to a Python
backend) over HTTP and HTTPS, and against raw sockets for the failure paths:
GET/POST (-d, --data-file), chunked responses, -i/-o, HTTPS with --cacert,
verification failures (unknown CA, wrong host) -> exit 3, --insecure, 404 -> 1,
usage -> 2, refused connection / read timeout / oversized head / body limit ->
3. Authentication against our server (every scheme, Extended Protection,
delegation, wrong passwords) is in test_fetch_auth.py; against Apache httpd in
test_fetch_apache.py."""
import hashlib
import http.server
import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

from ghserver import GhServer, gh_bin


class Backend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body, ctype="application/json"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(50):
                part = (b"chunk %d;" % i) * 100
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.reply(json.dumps({"method": self.command, "path": self.path,
                               "headers": dict(self.headers.items())}).encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.reply(json.dumps({"len": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                               "ctype": self.headers.get("Content-Type")}).encode())


def chunked_body():
    return b"".join((b"chunk %d;" % i) * 100 for i in range(50))


def fetch(*args, stdin=None, timeout=60, env=None):
    r = subprocess.run([gh_bin(), "fetch"] + list(args), capture_output=True, timeout=timeout,
                       input=stdin, env=env)
    err = r.stderr.decode(errors="replace")
    assert "AddressSanitizer" not in err and "runtime error" not in err, err
    return r


def expect(r, code, err=None):
    assert r.returncode == code, "exit %d, wanted %d\nstdout: %r\nstderr: %s" % (
        r.returncode, code, r.stdout[:2000], r.stderr.decode(errors="replace"))
    if err is not None:
        assert err in r.stderr.decode(errors="replace"), r.stderr


def raw_server(reply):
    """A one-shot TCP server: reply(conn) handles each connection. Returns
    (port, stop)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    stop_flag = threading.Event()

    def run():
        while not stop_flag.is_set():
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                reply(c)
            except OSError:
                pass
            finally:
                c.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()

    def stop():
        stop_flag.set()
        lsock.close()
        t.join(5)
    return lsock.getsockname()[1], stop


def failure_cases():
    # Usage errors.
    expect(fetch(), 2, "no URL")
    expect(fetch("http://localhost/", "--auth", "bogus"), 2, "unknown --auth")
    expect(fetch("ftp://localhost/"), 2, "http:// or https://")
    expect(fetch("http://user:pw@localhost/"), 2, "use -u")
    expect(fetch("http://localhost/", "-d", "a", "--data-file", "b"), 2)
    expect(fetch("--help"), 0)

    # Connection refused (a port that was just free).
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    expect(fetch("http://127.0.0.1:%d/" % port), 3, "cannot connect")

    # Read timeout: the server accepts and says nothing.
    def silent(c):
        c.recv(65536)
        time.sleep(3)
    port, stop = raw_server(silent)
    try:
        t0 = time.time()
        expect(fetch("http://127.0.0.1:%d/" % port, "--timeout", "1"), 3, "timed out")
        assert time.time() - t0 < 2.8, time.time() - t0
    finally:
        stop()

    # Oversized response head; malformed status line; body over --max-body; a body
    # cut short by the close.
    def huge_head(c):
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n")
    def bad_status(c):
        c.recv(65536)
        c.sendall(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
    def big_body(c):
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"b" * 5000)
    def short_body(c):
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"b" * 100)
    for handler, args, err in ((huge_head, [], "limit"), (bad_status, [], "malformed"),
                               (big_body, ["--max-body", "1000"], "limit"),
                               (short_body, [], "closed")):
        port, stop = raw_server(handler)
        try:
            expect(fetch("http://127.0.0.1:%d/" % port, *args), 3, err)
        finally:
            stop()
    print("failure cases: ok")


def server_cases():
    backend = Backend(("127.0.0.1", 0), Handler)
    bt = threading.Thread(target=backend.serve_forever, daemon=True)
    bt.start()
    docs = tempfile.mkdtemp(prefix="gh-fetch-docs-")
    with open(os.path.join(docs, "hello.txt"), "w") as f:
        f.write("hello from static\n")
    conf = """
location /whoami { handler whoami; }
location /static/ { handler static; static_root %s; }
location / { handler proxy; proxy_pass http://127.0.0.1:%d; }
""" % (docs, backend.server_address[1])
    try:
        with GhServer(conf, https=True) as srv:
            # GET whoami: JSON, status 0; -i puts the head first.
            r = fetch(srv.url("/whoami"))
            expect(r, 0)
            json.loads(r.stdout)
            r = fetch("-i", srv.url("/static/hello.txt"))
            expect(r, 0)
            assert r.stdout.startswith(b"HTTP/1.1 200"), r.stdout
            assert r.stdout.endswith(b"\r\n\r\nhello from static\n"), r.stdout
            # -o writes the body to a file and nothing to stdout.
            out = os.path.join(docs, "out.bin")
            r = fetch("-o", out, srv.url("/static/hello.txt"))
            expect(r, 0)
            assert r.stdout == b""
            with open(out) as f:
                assert f.read() == "hello from static\n"
            # 404: exit 1, body still written.
            expect(fetch(srv.url("/static/missing.txt")), 1)
            print("GET: ok")

            # Request headers through the proxy; a header with CR/LF is refused.
            r = fetch("-H", "X-Test: yes", "-H", "Accept:", srv.url("/echo?q=1"))
            expect(r, 0)
            seen = json.loads(r.stdout)
            assert seen["method"] == "GET" and seen["path"] == "/echo?q=1", seen
            assert seen["headers"].get("X-Test") == "yes", seen
            assert "Accept" not in seen["headers"], seen
            expect(fetch("-H", "X-Bad: a\rb", srv.url("/echo")), 2)
            print("headers: ok")

            # POST with -d and with --data-file (1 MiB), Content-Length set.
            r = fetch("-d", "a=1&b=2", "-H", "Content-Type: application/x-www-form-urlencoded",
                      srv.url("/post"))
            expect(r, 0)
            got = json.loads(r.stdout)
            assert got["len"] == 7 and got["sha256"] == hashlib.sha256(b"a=1&b=2").hexdigest()
            assert got["ctype"] == "application/x-www-form-urlencoded", got
            blob = os.urandom(1 << 20)
            path = os.path.join(docs, "blob")
            with open(path, "wb") as f:
                f.write(blob)
            r = fetch("--data-file", path, "-X", "POST", srv.url("/post"))
            expect(r, 0)
            got = json.loads(r.stdout)
            assert got["len"] == len(blob) and got["sha256"] == hashlib.sha256(blob).hexdigest()
            expect(fetch("--data-file", os.path.join(docs, "nope"), srv.url("/post")), 5)
            print("POST: ok")

            # A chunked response (re-framed by the proxy) arrives whole.
            r = fetch(srv.url("/chunked"))
            expect(r, 0)
            assert r.stdout == chunked_body(), len(r.stdout)
            print("chunked: ok")

            # HTTPS: verified with --cacert; channel bindings computed; SNI host.
            url = srv.url("/whoami", tls=True, host="localhost")
            r = fetch("--cacert", srv.ca, "-v", url)
            expect(r, 0, "tls-server-end-point bindings ready")
            who = json.loads(r.stdout)
            assert "TLSv1." in r.stderr.decode(), r.stderr
            assert who.get("tls", {}).get("server_name", "localhost") == "localhost", who
            r = fetch("--cacert", srv.ca, srv.url("/chunked", tls=True, host="localhost"))
            expect(r, 0)
            assert r.stdout == chunked_body()
            # Unknown CA (the system store does not hold the test CA): exit 3.
            expect(fetch(url), 3, "certificate verification failed")
            # Right CA, wrong name (an IP address the certificate does not list).
            expect(fetch("--cacert", srv.ca, srv.url("/whoami", tls=True, host="127.0.0.1")), 3,
                   "certificate verification failed")
            # --insecure skips both checks.
            expect(fetch("--insecure", srv.url("/whoami", tls=True, host="127.0.0.1")), 0)
            # Plain HTTP spoken to the TLS port, TLS to the plain port: exit 3.
            expect(fetch("--cacert", srv.ca, "https://localhost:%d/" % srv.port()), 3)
            print("HTTPS: ok")

            # With no 401 anywhere, --auth changes nothing.
            expect(fetch("--auth", "negotiate", srv.url("/whoami")), 0)
    finally:
        backend.shutdown()
        backend.server_close()
        bt.join(5)


def main():
    failure_cases()
    server_cases()
    # Authentication against our server, every scheme: test_fetch_auth.py.
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
