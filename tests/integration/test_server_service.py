# SPDX-License-Identifier: MIT
"""The server as a systemd service sees it (issue 10): sd_notify messages on
NOTIFY_SOCKET (READY=1 once listeners accept, RELOADING=1 then READY=1 around a
SIGHUP reload, good or bad, STOPPING=1 on SIGTERM), and SIGUSR1 reopening the
error and access logs after they were moved away, as logrotate does.

The notification socket is a Unix datagram socket this test binds, the same
protocol systemd speaks; without libsystemd in the binary (-DGH_SYSTEMD=OFF)
the test is skipped, never passed."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from ghserver import SANITIZER_MARKS, gh_bin
from ghskip import skip


def wait_for(pred, what, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Notify:
    """The service manager's end of NOTIFY_SOCKET."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path

    def next(self, timeout=20.0):
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if "=" in line)

    def close(self):
        self.sock.close()


def get(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def main():
    r = subprocess.run(["ldd", gh_bin()], capture_output=True, text=True, check=True)
    if "libsystemd" not in r.stdout:
        skip("gatehouse built without libsystemd (-DGH_SYSTEMD=OFF): no sd_notify to test")

    d = tempfile.mkdtemp(prefix="ghsvc-")
    conf = os.path.join(d, "gatehouse.conf")
    err_log = os.path.join(d, "error.log")
    acc_log = os.path.join(d, "access.log")
    good = ("worker_threads 2;\nlisten 127.0.0.1:0;\nerror_log %s info;\naccess_log %s;\n"
            "location / { handler return; return 200 \"svc\"; }\n" % (err_log, acc_log))
    with open(conf, "w") as f:
        f.write(good)
    notify = Notify(os.path.join(d, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    stderr_path = os.path.join(d, "stderr.log")
    with open(stderr_path, "w") as err_file:
        proc = subprocess.Popen([gh_bin(), "serve", "--config", conf], env=env,
                                stdout=err_file, stderr=subprocess.STDOUT)
    try:
        # READY=1, and at that moment the listener accepts already.
        msg = notify.next()
        assert msg.get("READY") == "1", msg
        assert "serving" in msg.get("STATUS", ""), msg
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", read_text(err_log))
        assert m, "no listening line in the error log at READY=1:\n" + read_text(err_log)
        port = int(m.group(1))
        assert b" 200 " in get(port).split(b"\r\n")[0]
        wait_for(lambda: "GET /x" in read_text(acc_log), "the first access line")

        # SIGUSR1 after the logs moved: new files, old ones keep what they had.
        os.rename(err_log, err_log + ".1")
        os.rename(acc_log, acc_log + ".1")
        proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: "log files reopened" in read_text(err_log), "the reopened error log")
        assert b" 200 " in get(port).split(b"\r\n")[0]
        wait_for(lambda: "GET /x" in read_text(acc_log), "an access line in the new file")
        assert read_text(acc_log).count("GET /x") == 1, read_text(acc_log)
        assert read_text(acc_log + ".1").count("GET /x") == 1, read_text(acc_log + ".1")
        assert "log files reopened" not in read_text(err_log + ".1")
        assert "ready" in read_text(err_log + ".1")
        assert proc.poll() is None, "gatehouse died on SIGUSR1"

        # SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then READY=1.
        proc.send_signal(signal.SIGHUP)
        msg = notify.next()
        assert msg.get("RELOADING") == "1" and msg.get("MONOTONIC_USEC", "").isdigit(), msg
        msg = notify.next()
        assert msg.get("READY") == "1" and "reloaded" in msg.get("STATUS", ""), msg

        # A bad configuration: still RELOADING=1 then READY=1, the old one serves.
        with open(conf, "w") as f:
            f.write(good + "no_such_directive 1;\n")
        proc.send_signal(signal.SIGHUP)
        msg = notify.next()
        assert msg.get("RELOADING") == "1", msg
        msg = notify.next()
        assert msg.get("READY") == "1" and "failed" in msg.get("STATUS", ""), msg
        assert b" 200 " in get(port).split(b"\r\n")[0]

        # SIGTERM: STOPPING=1, then a clean exit.
        proc.send_signal(signal.SIGTERM)
        msg = notify.next()
        assert msg.get("STOPPING") == "1", msg
        assert proc.wait(30) == 0, read_text(stderr_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
    text = read_text(stderr_path)
    for mark in SANITIZER_MARKS:
        assert mark not in text, "sanitizer report:\n" + text
    print("ok: READY/RELOADING/STOPPING sent, SIGUSR1 reopened both logs")


if __name__ == "__main__":
    main()
