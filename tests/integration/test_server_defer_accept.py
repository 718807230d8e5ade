# SPDX-License-Identifier: MIT
"""tcp_defer_accept (TCP_DEFER_ACCEPT on the listeners).

On (the default, 1s): a client that connected but sent nothing is still a
request socket of the kernel (SYN_RECV in /proc/net/tcp, from the server's
side), not a connection of the server; its first bytes make it one and it is
answered. A client that stays silent is accepted once the deferral is spent
and then cut by header_timeout like any other. Off: the server's side is
ESTABLISHED at once, and a new connection that sends nothing is closed after
header_timeout (it was kept for keepalive_timeout before). A reload that changes the directive applies it to the
listener it keeps."""
import os
import signal
import socket
import time

from ghcheck import check, finish
from ghserver import GhServer, read_response

REQUEST = b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
CONF = 'location / { handler return; return 200 "hello\\n"; }'
TCP_ESTABLISHED, TCP_SYN_RECV = 0x01, 0x03


def server_side_states(port, client_port):
    """States of the server's side of the connection 127.0.0.1:client_port ->
    :port, from /proc/net/tcp (request sockets included)."""
    states = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            local, remote, st = parts[1], parts[2], int(parts[3], 16)
            if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client_port:
                states.append(st)
    return states


def silent_connect(srv):
    s = socket.create_connection(("127.0.0.1", srv.port()), timeout=10)
    time.sleep(0.3)  # well inside the first SYN-ACK retransmission (1 s)
    return s, server_side_states(srv.port(), s.getsockname()[1])


def silent_until_closed(srv):
    """Connects, sends nothing; what the server sends before closing (b"" for
    nothing) and after how long, within 15 s."""
    s = socket.create_connection(("127.0.0.1", srv.port()), timeout=15)
    t0 = time.monotonic()
    try:
        data = s.recv(4096)
    except OSError as e:
        data = repr(e).encode()
    s.close()
    return data, time.monotonic() - t0


def ask(s):
    s.sendall(REQUEST)
    status, _, body = read_response(s)
    return status, body


def main():
    with GhServer(CONF, extra_top="header_timeout 1s;") as srv:
        s, states = silent_connect(srv)
        check(states == [TCP_SYN_RECV], "default: a silent client is not accepted yet",
              "server-side states %r" % states)
        status, body = ask(s)
        check(status == 200 and body == b"hello\n", "its first bytes get it accepted and answered",
              "%r %r" % (status, body))
        check(server_side_states(srv.port(), s.getsockname()[1]) == [TCP_ESTABLISHED],
              "then it is an established connection")
        s.close()

        # Silent for good: accepted after the deferral, then header_timeout.
        data, waited = silent_until_closed(srv)
        check(data == b"", "a client that never sends is closed (header_timeout after the "
              "deferral)", "got %r after %.1f s" % (data[:80], waited))

        # Reload with tcp_defer_accept off: the kept listener stops deferring.
        with open(srv.conf_path) as f:
            text = f.read()
        with open(srv.conf_path, "w") as f:
            f.write(text.replace("header_timeout 1s;", "header_timeout 1s;\ntcp_defer_accept off;"))
        os.kill(srv.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        states = None
        while time.monotonic() < deadline:
            s, states = silent_connect(srv)
            s.close()
            if states == [TCP_ESTABLISHED]:
                break
        check(states == [TCP_ESTABLISHED], "after a reload with off: established at once",
              "server-side states %r" % states)
        s = srv.connect()
        status, body = ask(s)
        check(status == 200, "and served", "%r" % status)
        s.close()
        # A new connection that sends nothing: closed after header_timeout,
        # not kept for keepalive_timeout (75 s by default).
        data, waited = silent_until_closed(srv)
        check(data == b"", "off: a silent new connection is closed without an answer",
              "got %r after %.1f s" % (data[:80], waited))
        srv.assert_alive()
    finish()


if __name__ == "__main__":
    main()
