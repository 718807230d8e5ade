# SPDX-License-Identifier: MIT
"""The built-in `return` module: fixed status and text per location, the reason
phrase without text, 404 where a location has no `return`, HEAD, and config
errors with file:line."""
import subprocess

from ghserver import GhServer, gh_bin, read_response


def ask(srv, target, method="GET"):
    s = srv.connect()
    try:
        s.sendall(b"%s %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % (method.encode(), target.encode()))
        if method == "HEAD":
            s.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                data = s.recv(4096)
                assert data, head
                head += data
            return head
        return read_response(s)
    finally:
        s.close()


def main():
    conf = """
location / { handler return; return 200 "hello\\n"; }
location /gone { handler return; return 410; }
location /none { handler return; }
"""
    with GhServer(conf) as srv:
        status, headers, body = ask(srv, "/x")
        assert status == 200 and body == b"hello\n", (status, body)
        assert headers["content-type"] == "text/plain", headers
        assert headers["content-length"] == "6", headers
        status, headers, body = ask(srv, "/gone")
        assert status == 410 and body == b"Gone\n", (status, body)
        status, _, _ = ask(srv, "/none")
        assert status == 404, status
        head = ask(srv, "/x", method="HEAD")
        assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 6\r\n" in head, head
        assert head.endswith(b"\r\n\r\n"), head

    for bad, why in (('return 99 "x";', "invalid status"), ("return;", "takes a status"),
                     ('return 200 "a" "b";', "takes a status")):
        srv = GhServer("location / {\n  handler return;\n  %s\n}" % bad)
        try:
            r = subprocess.run([gh_bin(), "serve", "--check", "--config", srv.conf_path],
                               capture_output=True, text=True, timeout=20)
            out = r.stdout + r.stderr
            assert r.returncode != 0, out
            assert why in out and "gatehouse.conf:" in out, out
        finally:
            srv.cleanup()



if __name__ == "__main__":
    main()
