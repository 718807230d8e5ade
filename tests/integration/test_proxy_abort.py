# SPDX-License-Identifier: MIT
"""A proxy backend that dies in the middle of its response (issue 11): the
client's connection is aborted (curl sees a cut body), the error log says which
backend, how many body bytes were relayed of how many expected, and why (EOF,
reset, timeout, a chunked body cut short), and the access log line keeps the
status sent (200) and the bytes sent (head included), and ends with `aborted`. A whole response is logged without the flag.

The backend is a raw socket server written here, so that it can stop exactly
where the test wants."""
import re
import socket
import struct
import subprocess
import threading
import time

from ghserver import GhServer
from ghmodules import require_builtin

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def backend():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)

    def serve(c):
        try:
            c.settimeout(5)
            req = b""
            while b"\r\n\r\n" not in req:
                data = c.recv(4096)
                if not data:
                    return
                req += data
            path = req.split(b" ", 2)[1].decode()
            if path == "/whole":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            elif path == "/eof":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"a" * 1000)
            elif path == "/reset":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"b" * 2000)
                time.sleep(0.2)
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif path == "/hang":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"c" * 3000)
                time.sleep(3)
            elif path == "/chunked":
                c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"fa0\r\n" + b"d" * 4000 + b"\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def run():
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return lsock


def fetch(srv, path):
    r = subprocess.run(["curl", "-s", "--max-time", "20", "-o", "-", srv.url(path)],
                       capture_output=True, timeout=30)
    return r.returncode, r.stdout


def log_line(srv, n_before):
    """The proxy's mid-response line written after n_before lines of stderr."""
    for _ in range(100):
        lines = srv.stderr().splitlines()[n_before:]
        got = [l for l in lines if "in the middle of its response" in l]
        if got:
            return got[0]
        time.sleep(0.05)
    return ""


def access_line(srv, path):
    for _ in range(100):
        got = [l for l in srv.access_log().splitlines() if (" %s HTTP/1.1\"" % path) in l]
        if got:
            return got[-1]
        time.sleep(0.05)
    return ""


def main():
    require_builtin("proxy")
    b = backend()
    port = b.getsockname()[1]
    conf = """
location / { handler proxy; proxy_pass http://127.0.0.1:%d; proxy_read_timeout 1s; }
""" % port
    with GhServer(conf) as srv:
        rc, body = fetch(srv, "/whole")
        check(rc == 0 and body == b"hello", f"a whole response: curl exit 0 ({rc})")
        line = access_line(srv, "/whole")
        check(line != "" and not line.endswith(" aborted"), f"access log: no flag ({line})")

        cases = (("/eof", 1000, "100000", "the backend closed the connection (EOF)"),
                 ("/reset", 2000, "100000", "connection reset by the backend"),
                 ("/hang", 3000, "100000", "timeout"),
                 ("/chunked", 4000, "an unknown number (chunked or until close)",
                  "the backend closed the connection (EOF)"))
        for path, relayed, expected, why in cases:
            n_before = len(srv.stderr().splitlines())
            rc, body = fetch(srv, path)
            check(rc != 0 and len(body) == relayed,
                  f"{path}: the client sees a cut body ({rc}, {len(body)} bytes)")
            line = log_line(srv, n_before)
            want = ("backend 127.0.0.1:%d failed in the middle of its response after %d of %s "
                    "body bytes: %s" % (port, relayed, expected, why))
            check(want in line, f"{path}: error log: {want!r} ({line!r})")
            line = access_line(srv, path)
            m = re.search(r'" 200 (\d+) \d+ "-" aborted$', line)
            check(m is not None and relayed < int(m.group(1)) < relayed + 200,
                  f"{path}: access log: status 200, the head and {relayed} body bytes, "
                  f"aborted ({line})")
        srv.assert_alive()
    b.close()
    if FAILS:
        print("FAILED: %d check(s)" % len(FAILS))
        raise SystemExit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
