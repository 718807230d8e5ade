# SPDX-License-Identifier: MIT
"""The built-in `proxy` handler against a Python http.server backend started
here on a free port: GET with Forwarded / X-Forwarded-*, hop-by-hop headers
removed, forged identity headers never reaching the backend, POST with a
chunked upload streamed, a large response streamed (first bytes arrive before
the backend has finished), keep-alive reuse of backend connections (counted by
the backend), HEAD, backend down -> 502, malformed response -> 502, backend
hanging -> 504."""
import hashlib
import http.server
import json
import socket
import socketserver
import subprocess
import sys
import threading
import time

from ghmodules import require_builtin
from ghserver import GhServer, read_response

BIG_BYTES = 8 * 1024 * 1024 + 17


def pattern(n):
    block = hashlib.sha256(b"gatehouse").digest() * 2048  # 64 KiB
    return (block * (n // len(block) + 1))[:n]


class Backend(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path.startswith("/hang"):
            time.sleep(4)
            return self.reply(200, b"late")
        if self.path == "/big":
            # Chunked, so the proxy re-chunks it; never one buffer.
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = pattern(BIG_BYTES)
            for i in range(0, len(data), 100000):
                part = data[i:i + 100000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"first")
            self.wfile.flush()
            time.sleep(1.5)
            self.wfile.write(b"later")
            return
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "X-Backend-Hop")  # lists a hop-by-hop header
        self.send_header("X-Backend-Hop", "secret")
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("X-Backend", "yes")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        h = hashlib.sha256()
        n = 0
        te = self.headers.get("Transfer-Encoding")
        if te == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.rfile.readline()
                h.update(data)
                n += len(data)
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    break
                h.update(data)
                n += len(data)
                left -= len(data)
        self.reply(200, json.dumps({"len": n, "sha256": h.hexdigest(), "te": te}).encode())


def garbage_backend():
    """A backend that answers anything with a malformed response head."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)

    def run():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            try:
                c.settimeout(2)
                c.recv(65536)
                c.sendall(b"HTTP/1.1 twohundred OK\r\nbroken header\r\n\r\n")
            except OSError:
                pass
            c.close()
    threading.Thread(target=run, daemon=True).start()
    return lsock


def free_dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connections are refused
    return port


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args), capture_output=True)
    assert r.returncode == 0, "curl %s failed: %s" % (args, r.stderr.decode())
    return r


def code(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "-o", "/dev/null", "-w",
                        "%{http_code}"] + list(args), capture_output=True)
    return int(r.stdout or b"0")


def main():
    require_builtin("proxy")
    backend = Backend()
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    bport = backend.server_address[1]
    junk = garbage_backend()
    dead = free_dead_port()
    conf = """
max_body 67108864;
location /api/ { handler proxy; proxy_pass http://127.0.0.1:%d/v1/;
                 proxy_identity_header user X-Auth-User; }
location /down/ { handler proxy; proxy_pass http://127.0.0.1:%d; proxy_connect_timeout 2s; }
location /junk/ { handler proxy; proxy_pass http://127.0.0.1:%d; }
location /hang { handler proxy; proxy_pass http://127.0.0.1:%d; proxy_read_timeout 1s; }
location / { handler proxy; proxy_pass http://127.0.0.1:%d; }
""" % (bport, dead, junk.getsockname()[1], bport, bport)
    try:
        with GhServer(conf) as srv:
            # GET: path mapping, Forwarded / X-Forwarded-*, stripped headers.
            r = curl("-i", "-H", "X-Remote-User: mallory", "-H", "X-Remote-Groups: admins",
                     "-H", "X-Remote-Auth-Type: Kerberos", "-H", "X-Auth-User: mallory",
                     "-H", "x-remote-user: mallory2", "-H", "Connection: X-Drop-Me",
                     "-H", "X-Drop-Me: 1", "-H", "Proxy-Authorization: Basic eA==",
                     "-H", "TE: trailers", "-H", "X-Forwarded-For: 10.9.8.7",
                     "-H", "X-Keep: kept", srv.url("/api/items?id=7"))
            head, _, body = r.stdout.decode().partition("\r\n\r\n")
            assert head.startswith("HTTP/1.1 200"), head
            assert "X-Backend: yes" in head
            assert "X-Backend-Hop" not in head and "Keep-Alive" not in head, head
            doc = json.loads(body)
            assert doc["path"] == "/v1/items?id=7", doc
            got = {k.lower(): v for k, v in doc["headers"]}
            names = [k.lower() for k, _ in doc["headers"]]
            for forged in ("x-remote-user", "x-remote-groups", "x-remote-auth-type",
                           "x-auth-user", "x-drop-me", "proxy-authorization", "te"):
                assert forged not in names, (forged, doc["headers"])
            assert "mallory" not in body
            assert got["x-keep"] == "kept"
            assert got["host"] == "127.0.0.1:%d" % bport
            assert got["x-forwarded-for"] == "10.9.8.7, 127.0.0.1", got
            assert got["x-forwarded-proto"] == "http"
            assert got["x-forwarded-host"] == "127.0.0.1:%d" % srv.port()
            assert got["forwarded"] == 'for=127.0.0.1;proto=http;host="127.0.0.1:%d"' % srv.port()

            # Keep-alive: six client connections so far, one backend connection
            # (one worker, so one per-worker pool).
            for _ in range(5):
                assert json.loads(curl(srv.url("/plain")).stdout)["path"] == "/plain"
            assert backend.connections == 1, backend.connections

            # HEAD goes through as HEAD, with the backend's length.
            r = curl("-I", srv.url("/plain"))
            assert r.stdout.startswith(b"HTTP/1.1 200") and b"Content-Length:" in r.stdout

            # POST with a Content-Length body, then a chunked upload of 3 MiB.
            data = pattern(3 * 1024 * 1024 + 5)
            r = curl("-X", "POST", "--data-binary", "@-", srv.url("/upload"),
                     "-H", "Content-Type: application/octet-stream")
            assert json.loads(r.stdout)["len"] == 0
            p = subprocess.run(["curl", "-sS", "--max-time", "30", "-X", "POST", "-H",
                                "Transfer-Encoding: chunked", "--data-binary", "@-",
                                srv.url("/upload")], input=data, capture_output=True)
            doc = json.loads(p.stdout)
            assert doc["len"] == len(data) and doc["te"] == "chunked", doc
            assert doc["sha256"] == hashlib.sha256(data).hexdigest()
            p = subprocess.run(["curl", "-sS", "--max-time", "30", "--data-binary", "@-",
                                srv.url("/upload")], input=data, capture_output=True)
            doc = json.loads(p.stdout)
            assert doc["len"] == len(data) and doc["te"] is None, doc

            # A large chunked response, byte for byte.
            r = curl(srv.url("/big"))
            assert len(r.stdout) == BIG_BYTES
            assert r.stdout == pattern(BIG_BYTES)

            # Streaming: the first bytes arrive while the backend still sleeps.
            s = srv.connect()
            t0 = time.time()
            s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(5)
            buf = b""
            while b"first" not in buf:
                chunk = s.recv(4096)
                assert chunk, buf
                buf += chunk
            assert time.time() - t0 < 1.2, "first bytes were held back"
            while not buf.endswith(b"later"):
                chunk = s.recv(4096)
                assert chunk, buf
                buf += chunk
            s.close()

            # Failures: refused -> 502, malformed -> 502, too slow -> 504.
            assert code(srv.url("/down/x")) == 502
            assert code(srv.url("/junk/x")) == 502
            t0 = time.time()
            assert code(srv.url("/hang")) == 504
            assert time.time() - t0 < 3.5
            # And the proxy keeps serving afterwards.
            assert json.loads(curl(srv.url("/after")).stdout)["path"] == "/after"

            # Pipelined requests on one client connection, answered in order.
            s = srv.connect()
            s.sendall(b"GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n")
            st1, _, b1 = read_response(s)
            st2, _, b2 = read_response(s)
            s.close()
            assert (st1, st2) == (200, 200)
            assert json.loads(b1)["path"] == "/p1" and json.loads(b2)["path"] == "/p2"
            srv.assert_alive()
    finally:
        backend.shutdown()
        backend.server_close()
        junk.close()
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
