# SPDX-License-Identifier: MIT
"""Large buffered response bodies are sent from the module's buffer behind the
head (one sendmsg with two iovecs, or two SSL_writes) instead of being copied:
a slow reader forces partial writes in the head, between head and body and
inside the body; the bytes must arrive whole and in order, and the keep-alive
connection, with a pipelined request queued behind, must go on."""
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


def recv_exact(s, n, slow):
    got = bytearray()
    while len(got) < n:
        data = s.recv(min(n - len(got), 4096 if slow else 1 << 20))
        assert data, len(got)
        got += data
        if slow:
            time.sleep(0.001)
    return bytes(got)


def main():
    body = os.urandom(200 * 1024)
    with GhServer(CONF, https=True, extra_top="max_body 2m;") as srv:
        for tls in (False, True):
            for slow in (False, True):
                s = srv.connect(tls=tls)
                if not tls:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
                try:
                    s.settimeout(20)
                    s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" %
                              len(body) + body + b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
                    head = b""
                    while b"\r\n\r\n" not in head:
                        data = s.recv(1)
                        assert data, head
                        head += data
                    assert head.startswith(b"HTTP/1.1 200 "), head
                    assert b"Content-Length: %d\r\n" % (len(body) + 5) in head, head
                    got = recv_exact(s, len(body) + 5, slow)
                    assert got == b"echo:" + body, (tls, slow)
                    status, _, tail = read_response(s)
                    assert status == 200 and tail == b"hello\n", (status, tail)
                finally:
                    s.close()
        srv.assert_alive()


if __name__ == "__main__":
    main()
