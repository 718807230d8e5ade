# SPDX-License-Identifier: MIT
"""The access log is buffered per worker and written once per loop turn: every
request still gets its line, in order, soon after its response (no waiting for
a buffer to fill), refused requests get a "-" line, and after a reload the
lines buffered for the old log land in the old file and new ones in the new."""
import os
import re
import signal
import time

from ghserver import GhServer, read_response

LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1:\d+ "GET (/\S*) HTTP/1\.1" '
                  r'200 \d+ \d+ "-"$')
CONF = 'location / { handler return; return 200 "hello\\n"; }'


def lines_of(path, want, timeout=5):
    deadline = time.time() + timeout
    while True:
        text = open(path).read() if os.path.exists(path) else ""
        lines = text.splitlines()
        if len(lines) >= want or time.time() > deadline:
            return lines
        time.sleep(0.05)


def wait_for(srv, text, timeout=10):
    deadline = time.time() + timeout
    while text not in srv.stderr():
        assert time.time() < deadline, srv.stderr()
        time.sleep(0.05)


def main():
    with GhServer(CONF) as srv:
        s = srv.connect()
        try:
            for i in range(100):
                s.sendall(b"GET /k%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
                assert read_response(s)[0] == 200
            # One line soon after a single response, without more traffic.
            lines = lines_of(srv.access_path, 100, timeout=2)
            assert len(lines) == 100, len(lines)
            # A pipelined burst: one loop turn, one write, lines in request order.
            s.sendall(b"".join(b"GET /p%d HTTP/1.1\r\nHost: a\r\n\r\n" % i for i in range(50)))
            got = b""
            s.settimeout(5)
            while got.count(b"hello\n") < 50:
                data = s.recv(65536)
                assert data, got
                got += data
            assert got.count(b"HTTP/1.1 200 OK\r\n") == 50
        finally:
            s.close()
        lines = lines_of(srv.access_path, 150)
        assert len(lines) == 150, len(lines)
        targets = []
        for line in lines:
            m = LINE.match(line)
            assert m, line
            targets.append(m.group(1))
        assert targets == ["/k%d" % i for i in range(100)] + ["/p%d" % i for i in range(50)]

        # A refused request: "-" as its request line.
        s = srv.connect()
        s.sendall(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n")
        assert read_response(s)[0] == 400
        s.close()
        lines = lines_of(srv.access_path, 151)
        assert len(lines) == 151 and re.search(r' "-" 400 0 0 "-"$', lines[-1]), lines[-1]

        # Reload onto another file: old lines stay in the old one.
        new_path = srv.access_path + ".new"
        srv.head = srv.head.replace(srv.access_path, new_path)
        srv.write_conf(CONF)
        srv.signal(signal.SIGHUP)
        wait_for(srv, "configuration reloaded")
        s = srv.connect()
        try:
            for i in range(5):
                s.sendall(b"GET /n%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
                assert read_response(s)[0] == 200
        finally:
            s.close()
        new_lines = lines_of(new_path, 5)
        assert [LINE.match(x).group(1) for x in new_lines] == ["/n%d" % i for i in range(5)], \
            new_lines
        assert len(lines_of(srv.access_path, 151)) == 151


if __name__ == "__main__":
    main()
