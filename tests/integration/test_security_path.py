# SPDX-License-Identifier: MIT
"""Security regression (review SEC-6): a request path that a backend resolves
into an authenticated location must not be routed to an unauthenticated one
and proxied there. Locations match by prefix on the path as sent, so
"/pub/../admin/x", "/%61dmin/x", "/admin%2fx" or "//admin/x" used to reach
location "/" (no auth) and went to the backend, which resolves them to
/admin/x (RFC 3986 5.2.4 and 6.2.2.2; most frameworks decode and collapse).
Each such request must either be refused (400) or get /admin/'s 401; the
backend, a raw socket that records every request line, must never see one."""
import os
import posixpath
import socket
import subprocess
import sys
import threading
import urllib.parse

from ghmodules import require_builtin
from ghserver import GhServer, gh_bin, read_response

PROBES = [
    "/pub/../admin/x",
    "/pub/%2e%2e/admin/x",
    "/pub/%2E%2E/admin/x",
    "/pub/.%2e/admin/x",
    "/./admin/x",
    "/%61dmin/x",
    "/adm%69n/x",
    "//admin/x",
    "/pub/..//admin/x",
    "/admin%2fx",
    "/pub/..%2fadmin/x",
    "/admin/../admin/x",
]


def backend_view(target):
    """What a typical backend makes of a path: percent-decoded, dot segments
    removed, slashes merged."""
    path = urllib.parse.unquote(target.split("?", 1)[0])
    norm = posixpath.normpath(path)
    while "//" in norm:
        norm = norm.replace("//", "/")
    return norm


class RawBackend:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                buf = b""
                try:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buf += data
                except OSError:
                    continue
                self.lines.append(buf.split(b"\r\n", 1)[0].decode("latin-1"))
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self):
        self.sock.close()
        self.thread.join(5)


def main():
    require_builtin("proxy")
    backend = RawBackend()
    try:
        tmp = GhServer("")
        store = os.path.join(tmp.dir, "users")
        subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                        "--stdin"], input=b"alice-pw\n", check=True, capture_output=True)
        tmp.write_conf(f"""
auth_user_store {store};
location /admin/ {{ handler proxy; proxy_pass http://127.0.0.1:{backend.port}; auth NTLM; }}
location / {{ handler proxy; proxy_pass http://127.0.0.1:{backend.port}; }}
""")
        failures = []
        with tmp as srv:
            # sanity: the protected location challenges, the open one proxies
            for target, want in (("/admin/x", 401), ("/pub/x", 200)):
                s = srv.connect()
                s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                           % target).encode())
                status, _, _ = read_response(s)
                s.close()
                assert status == want, (target, status)
            for target in PROBES:
                assert backend_view(target).startswith("/admin/"), target
                s = srv.connect()
                s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                           % target).encode())
                status, _, _ = read_response(s)
                s.close()
                if status not in (400, 401, 404):
                    failures.append("%s -> %d" % (target, status))
            leaked = [l for l in backend.lines
                      if backend_view(l.split(" ")[1]).startswith("/admin/")]
            srv.assert_alive()
        if failures or leaked:
            raise AssertionError("unauthenticated requests reached /admin/ on the backend: "
                                 "%r, backend saw %r" % (failures, leaked))
    finally:
        backend.close()
    print("security_path: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
