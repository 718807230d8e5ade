# SPDX-License-Identifier: MIT
"""Security regression (review SEC-4): the proxy strips every client copy of
the identity headers, including spellings a backend maps to the same name.
CGI, WSGI, PHP and Rack turn both "X-Remote-User" and "X-Remote_User" into
HTTP_X_REMOTE_USER, so a client header with underscores must not reach the
backend either (nginx drops such names by default for the same reason).
Nor does a "Proxy" header (httpoxy, CVE-2016-5385 class).
The backend here is a raw socket that records the request head as sent."""
import socket
import sys
import threading

from ghmodules import require_builtin
from ghserver import GhServer, read_response

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


def main():
    require_builtin("proxy")
    backend = RawBackend()
    try:
        conf = ("location / { handler proxy; proxy_pass http://127.0.0.1:%d; "
                "proxy_identity_header user X-Auth-User; }" % backend.port)
        with GhServer(conf) as srv:
            srv.start()
            forged = ["X-Remote_User: mallory", "x_remote_user: mallory",
                      "X_REMOTE_USER: mallory", "X-Remote_Groups: admins",
                      "X-Remote-Auth_Type: Kerberos", "X_Auth_User: mallory",
                      "X-Auth-User: mallory", "x-remote-user: mallory",
                      "Proxy: http://127.0.0.1:9/"]
            raw = ("GET /x HTTP/1.1\r\nHost: localhost\r\n" + "\r\n".join(forged) +
                   "\r\nConnection: close\r\n\r\n").encode()
            s = srv.connect()
            s.sendall(raw)
            status, _, body = read_response(s)
            s.close()
            assert status == 200, (status, body)
            assert len(backend.heads) == 1, backend.heads
            lines = backend.heads[0].split("\r\n")[1:]
            leaked = [l for l in lines if normalized(l.partition(":")[0]) in IDENTITY]
            assert not leaked, "forged identity headers reached the backend: %r" % leaked
            srv.assert_alive()
    finally:
        backend.close()
    print("security_proxy: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
