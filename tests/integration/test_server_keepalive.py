# SPDX-License-Identifier: MIT
"""Idle keep-alive connections wait for keepalive_timeout, not header_timeout.

Regression: conn_fill() returned GH_AGAIN (1) where callers expected a byte
count, so the read that found an idle TLS socket empty counted as "bytes
arrived": the connection went to the request-head state, kept its input buffer
and was answered 408 after header_timeout although it was merely idle."""
import time

from ghserver import GhServer, read_response

REQUEST = b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"


def ask(sock):
    sock.sendall(REQUEST)
    status, headers, body = read_response(sock)
    assert status == 200, (status, headers, body)
    assert body == b"hello\n", body


def main():
    conf = 'location / { handler return; return 200 "hello\\n"; }'
    with GhServer(conf, https=True, extra_top="header_timeout 1s;\nkeepalive_timeout 30s;") as srv:
        for tls in (False, True):
            s = srv.connect(tls=tls)
            try:
                ask(s)
                time.sleep(1.8)  # idle past header_timeout
                ask(s)
                time.sleep(1.8)
                ask(s)
            finally:
                s.close()
        # A request head that stalls is still cut by header_timeout.
        s = srv.connect(tls=True)
        try:
            s.sendall(b"GET / HTTP/1.1\r\n")
            s.settimeout(5)
            status, _, _ = read_response(s)
            assert status == 408, status
        finally:
            s.close()
        srv.assert_alive()



if __name__ == "__main__":
    main()
