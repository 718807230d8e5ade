# SPDX-License-Identifier: MIT
"""Loopback ports for peers the tests start themselves."""
import socket
import time


def free_port():
    """A 127.0.0.1 port nobody listens on now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    """Until 127.0.0.1:port accepts a connection; AssertionError if proc
    exits first or the port is not open within timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("peer exited early: %r" % (proc.communicate(),))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("port %d never opened" % port)
