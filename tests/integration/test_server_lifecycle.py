# SPDX-License-Identifier: MIT
"""SIGHUP reload (a good config takes effect without dropping an established
keep-alive connection; a bad one is refused and the old one keeps serving),
serve --check with file:line errors, --version, graceful SIGTERM."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from ghserver import GhServer, gh_bin, read_response


def get(sock, path):
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path.encode())
    return read_response(sock)


def wait_for(srv, text, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in srv.stderr():
            return
        time.sleep(0.05)
    raise AssertionError("no %r in:\n%s" % (text, srv.stderr()))


def main():
    r = subprocess.run([gh_bin(), "--version"], capture_output=True)
    assert r.returncode == 0 and r.stdout.startswith(b"gatehouse ")
    r = subprocess.run([gh_bin(), "--help"], capture_output=True)
    assert r.returncode == 0 and b"serve" in r.stdout

    srv = GhServer("location /a { handler whoami; }")
    try:
        srv.start()
        keep = srv.connect()
        assert get(keep, "/a")[0] == 200
        assert get(keep, "/b")[0] == 404

        # A good reload: /b appears; the old connection survives and sees it.
        srv.write_conf("location /a { handler whoami; }\nlocation /b { handler whoami; }")
        srv.signal(signal.SIGHUP)
        wait_for(srv, "configuration reloaded")
        assert get(keep, "/b")[0] == 200
        port = srv.port()

        # A bad reload: refused with file:line, the old configuration keeps serving.
        srv.write_conf("location /a { handler nosuchmodule; }")
        srv.signal(signal.SIGHUP)
        wait_for(srv, "reload failed")
        assert "gatehouse.conf:" in srv.stderr() and "nosuchmodule" in srv.stderr()
        assert get(keep, "/b")[0] == 200
        s2 = srv.connect()
        assert get(s2, "/b")[0] == 200 and srv.port() == port
        s2.close()

        # serve --check names file:line.
        r = subprocess.run([gh_bin(), "serve", "--check", "--config", srv.conf_path],
                           capture_output=True)
        assert r.returncode == 1
        err = r.stderr.decode()
        assert "gatehouse.conf:" in err and "handler: no module named 'nosuchmodule'" in err, err
        srv.write_conf("location /a { handler whoami; }")
        r = subprocess.run([gh_bin(), "serve", "--check", "--config", srv.conf_path],
                           capture_output=True)
        assert r.returncode == 0, r.stderr

        # serve --check creates no log file (run as root, it would leave
        # root-owned logs the service user cannot open), but still refuses a
        # log it could not open or create.
        logs = tempfile.mkdtemp(prefix="gh-check-logs.")
        try:
            conf = os.path.join(logs, "check.conf")
            for access in (os.path.join(logs, "access.log"), "/nonexistent-dir/access.log"):
                with open(conf, "w") as f:
                    f.write("error_log %s info;\naccess_log %s;\nlisten 127.0.0.1:0;\n"
                            'location / { handler return; return 200 "x"; }\n'
                            % (os.path.join(logs, "error.log"), access))
                r = subprocess.run([gh_bin(), "serve", "--check", "--config", conf],
                                   capture_output=True, text=True)
                if access.startswith(logs):
                    assert r.returncode == 0, r.stderr
                else:
                    assert r.returncode == 1 and "cannot open access log" in r.stderr, r.stderr
                assert sorted(os.listdir(logs)) == ["check.conf"], os.listdir(logs)
        finally:
            shutil.rmtree(logs, ignore_errors=True)

        # Graceful stop with a keep-alive connection open: exits 0 promptly.
        t0 = time.time()
        srv.stop()
        assert time.time() - t0 < 5
        keep.close()
    finally:
        srv.cleanup()
    assert not os.path.exists(srv.dir)
    print("ok")


if __name__ == "__main__":
    main()
