# SPDX-License-Identifier: MIT
"""TLS reads: OpenSSL reads ahead and the server skips the read that would only
say WANT_READ when the socket was drained (src/tls tls_ssl_attach_fd). Requests
split over many records, several records in one segment, pipelined requests
in one record or many, a body in small records, and slow drips must all be
answered, in order, without waiting for a timeout."""
import os
import socket
import time

from ghserver import GhServer, read_response

ECHO_SO = os.path.join(os.environ.get("GH_BUILD", ""), "examples", "echo_module.so")
CONF = """
load_module echo %s;
location / { handler return; return 200 "hello\\n"; }
location /echo { handler echo; echo_banner "echo:"; }
""" % ECHO_SO

GET = b"GET /r%d HTTP/1.1\r\nHost: localhost\r\n\r\n"


def expect_hello(s, n):
    for _ in range(n):
        status, _, body = read_response(s, timeout=5)
        assert status == 200 and body == b"hello\n", (status, body)


def main():
    with GhServer(CONF, http=False, https=True, extra_top="header_timeout 8s;") as srv:
        s = srv.connect(tls=True)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            # Three requests in one record.
            t0 = time.time()
            s.sendall(b"".join(GET % i for i in range(3)))
            expect_hello(s, 3)
            # Three requests in three records, sent back to back.
            for i in range(3):
                s.sendall(GET % i)
            expect_hello(s, 3)
            # One request head cut into one-byte records.
            for ch in GET % 7:
                s.sendall(bytes([ch]))
            expect_hello(s, 1)
            # A head in two records with a pause between them.
            req = GET % 8
            s.sendall(req[:10])
            time.sleep(0.3)
            s.sendall(req[10:])
            expect_hello(s, 1)
            # A body in 100-byte records, then a GET right behind it.
            body = bytes(range(256)) * 40
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" %
                      len(body))
            for i in range(0, len(body), 100):
                s.sendall(body[i:i + 100])
            s.sendall(GET % 9)
            status, _, got = read_response(s, timeout=5)
            assert status == 200 and got == b"echo:" + body, (status, len(got))
            expect_hello(s, 1)
            # Nothing above may have waited for a timeout.
            assert time.time() - t0 < 5, time.time() - t0
        finally:
            s.close()
        srv.assert_alive()


if __name__ == "__main__":
    main()
