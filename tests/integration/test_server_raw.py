# SPDX-License-Identifier: MIT
"""Raw sockets: pipelining (responses in order), the bad-input table (each case
answers its status, closes, and another client is still served), abrupt
disconnects mid-request and mid-response, slowloris (header timeout)."""
import socket
import time

from ghserver import GhServer, read_all, read_response

# (name, bytes, expected status) -- RFC 9112 rule in the name.
BAD = [
    ("request line too long (414)", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    ("head too large (431)", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Big: " + b"b" * 17000 +
     b"\r\n\r\n", 431),
    ("too many fields (431)", b"GET / HTTP/1.1\r\nHost: a\r\n" +
     b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
    ("unknown transfer coding (501)", b"POST / HTTP/1.1\r\nHost: a\r\n"
     b"Transfer-Encoding: gzip\r\n\r\n", 501),
    ("CL with TE, smuggling (400) 6.1", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("duplicate CL (400) 6.3", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
     b"Content-Length: 4\r\n\r\nabcd", 400),
    ("malformed CL (400) 6.3", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\n", 400),
    ("obs-fold (400) 5.2", b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400),
    ("space before colon (400) 5.1", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("bare CR (400) 2.2", b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
    ("HTTP/2.0 (505)", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("HTTP/1.1 without Host (400) 3.2", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40 + b"\r\n\r\n", 400),
    ("bad chunk size (400) 7.1", b"POST /echo HTTP/1.1\r\nHost: a\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
]


def status_of(resp):
    assert resp.startswith(b"HTTP/1.1 "), resp[:200]
    return int(resp[9:12])


def served(srv):
    s = srv.connect()
    s.sendall(b"GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n")
    status, _, body = read_response(s)
    s.close()
    assert status == 200 and b'"method":"GET"' in body


def main():
    import os
    so = os.path.join(os.environ.get("GH_BUILD", ""), "examples", "echo_module.so")
    conf = """
load_module echo %s;
header_timeout 1s;
location /whoami { handler whoami; }
location /echo { handler echo; }
""" % so
    with GhServer(conf) as srv:
        port = srv.port()
        # Pipelining: three requests in one write, three responses in order.
        s = srv.connect()
        s.sendall(b"GET /whoami?n=1 HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                  b"GET /whoami?n=3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = read_all(s)
        s.close()
        i1, i2, i3 = data.find(b'"query":"n=1"'), data.find(b"\r\n\r\nhello"), \
            data.find(b'"query":"n=3"')
        assert 0 < i1 < i2 < i3, data
        assert data.count(b"HTTP/1.1 200 OK") == 3

        # Pipelined request after a body the handler never read (whoami): discarded.
        s = srv.connect()
        s.sendall(b"POST /whoami HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
                  b"GET /whoami?after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = read_all(s)
        s.close()
        assert data.count(b"HTTP/1.1 200 OK") == 2 and b'"query":"after"' in data, data

        # The bad-input table.
        for name, raw, want in BAD:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(raw)
            resp = read_all(s)
            s.close()
            got = status_of(resp)
            assert got == want, "%s: got %d, want %d" % (name, got, want)
            assert b"Connection: close" in resp, name
            served(srv)

        # Abrupt disconnects: mid-head, mid-body, and before reading a response.
        for raw in (b"GET /whoami HTTP/1.1\r\nHo",
                    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nabc",
                    b"GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n" * 50):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.sendall(raw)
            s.close()  # RST
        served(srv)

        # Slowloris: a head trickling in gets 408 after header_timeout (1 s),
        # while another client is served meanwhile.
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(b"GET /whoami HTTP/1.1\r\n")
        t0 = time.time()
        served(srv)
        for i in range(20):
            try:
                slow.sendall(b"X-%d: y\r\n" % i)
            except OSError:
                break
            time.sleep(0.1)
        resp = read_all(slow)
        slow.close()
        assert status_of(resp) == 408, resp
        assert time.time() - t0 < 4
        served(srv)

        # Keep-alive connection idle: stays open (default 75 s) and serves again.
        s = srv.connect()
        for _ in range(3):
            s.sendall(b"GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n")
            status, headers, _ = read_response(s)
            assert status == 200 and "connection" not in headers
        s.close()
        srv.assert_alive()
    print("ok")


if __name__ == "__main__":
    main()
