# SPDX-License-Identifier: MIT
"""Security regression (review SEC-4): the proxy strips every client copy of
the identity headers, including spellings a backend maps to the same name.
CGI, WSGI, PHP and Rack turn both "X-Remote-User" and "X-Remote_User" into
HTTP_X_REMOTE_USER, so a client header with underscores must not reach the
backend either (nginx drops such names by default for the same reason).
Nor does a "Proxy" header (httpoxy, CVE-2016-5385 class).
Review "credentials forwarded to the backend": where the location itself
authenticated the request, the client's Authorization stays with the server
(a Basic password would otherwise reach the backend in clear) unless
proxy_pass_authorization on; a location without auth passes it on;
Proxy-Authorization never goes.
The backend here is a raw socket that records the request head as sent."""
import base64
import os
import socket
import subprocess
import sys
import threading

from ghmodules import require_builtin
from ghserver import GhServer, gh_bin, read_response

IDENTITY = ("x-remote-user", "x-remote-groups", "x-remote-auth-type", "x-auth-user",
            "proxy")  # httpoxy: CGI backends read "Proxy" as HTTP_PROXY


class RawBackend:
    """Accepts connections on a free loopback port, records each request head
    and answers 200 with a tiny body."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.heads = []
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
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
                self.heads.append(buf.partition(b"\r\n\r\n")[0].decode("latin-1"))
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self):
        self.stop = True
        self.sock.close()
        self.thread.join(5)


def normalized(name):
    return name.strip().lower().replace("_", "-")


def fetch_head(srv, backend, path, extra):
    """Sends GET path with extra header lines; returns (status, backend head
    lines) for the request, or (status, None) when the backend saw nothing."""
    before = len(backend.heads)
    s = srv.connect()
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n"
               % (path, "".join(h + "\r\n" for h in extra))).encode())
    status, _, _ = read_response(s)
    s.close()
    if len(backend.heads) == before:
        return status, None
    return status, [l.lower() for l in backend.heads[-1].split("\r\n")[1:]]


def test_authorization_not_forwarded(backend):
    tmp = GhServer("")
    store = os.path.join(tmp.dir, "users")
    subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                    "--iterations", "20000", "--stdin"], input=b"alice-pw-1\n", check=True, capture_output=True)
    up = "proxy_pass http://127.0.0.1:%d;" % backend.port
    tmp.write_conf(f"""
auth_user_store {store};
location /auth/ {{ handler proxy; {up} auth Basic; auth_basic_over_http on; }}
location /pass/ {{ handler proxy; {up} auth Basic; auth_basic_over_http on;
              proxy_pass_authorization on; }}
location /open/ {{ handler proxy; {up} }}
""")
    basic = "Authorization: Basic " + base64.b64encode(b"alice:alice-pw-1").decode()
    proxy_auth = "Proxy-Authorization: Basic " + base64.b64encode(b"p:q").decode()
    with tmp as srv:
        status, head = fetch_head(srv, backend, "/auth/x", [basic, proxy_auth])
        assert status == 200 and head is not None, status
        assert not [l for l in head if l.startswith(("authorization:", "proxy-authorization:"))], \
            "the Basic password the server consumed reached the backend: %r" % head
        assert "x-remote-user: alice" in head, head
        status, head = fetch_head(srv, backend, "/pass/x", [basic, proxy_auth])
        assert status == 200 and head is not None, status
        assert basic.lower() in head, "proxy_pass_authorization on: forwarded (%r)" % head
        assert not [l for l in head if l.startswith("proxy-authorization:")], head
        status, head = fetch_head(srv, backend, "/open/x", [basic])
        assert status == 200 and head is not None, status
        assert basic.lower() in head, "no auth on the location: the backend's to check"
        srv.assert_alive()


def main():
    require_builtin("proxy")
    backend = RawBackend()
    try:
        test_authorization_not_forwarded(backend)
        conf = ("location / { handler proxy; proxy_pass http://127.0.0.1:%d; "
                "proxy_identity_header user X-Auth-User; }" % backend.port)
        with GhServer(conf) as srv:
            forged = ["X-Remote_User: mallory", "x_remote_user: mallory",
                      "X_REMOTE_USER: mallory", "X-Remote_Groups: admins",
                      "X-Remote-Auth_Type: Kerberos", "X_Auth_User: mallory",
                      "X-Auth-User: mallory", "x-remote-user: mallory",
                      "Proxy: http://127.0.0.1:9/"]
            raw = ("GET /x HTTP/1.1\r\nHost: localhost\r\n" + "\r\n".join(forged) +
                   "\r\nConnection: close\r\n\r\n").encode()
            seen = len(backend.heads)
            s = srv.connect()
            s.sendall(raw)
            status, _, body = read_response(s)
            s.close()
            assert status == 200, (status, body)
            assert len(backend.heads) == seen + 1, backend.heads
            lines = backend.heads[-1].split("\r\n")[1:]
            leaked = [l for l in lines if normalized(l.partition(":")[0]) in IDENTITY]
            assert not leaked, "forged identity headers reached the backend: %r" % leaked
            srv.assert_alive()
    finally:
        backend.close()
    print("security_proxy: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
