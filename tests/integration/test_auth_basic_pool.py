# SPDX-License-Identifier: MIT
"""Basic verification runs on the blocking pool, not on the worker (issue 4,
performance): with one worker thread and a user whose PBKDF2 takes about a
second, a request on another connection is answered while the verification
runs. Then the verified-credentials cache: the same credentials pass again,
a wrong password still fails, `auth_basic_cache_ttl 0` verifies anyway, and
every Basic request is audited with its peer."""
import base64
import os
import socket
import subprocess
import sys
import threading
import time

from ghserver import GhServer, gh_bin, read_response

FAILURES = []
PW = "alice-pw-1"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def basic_request(port, password, path="/basic"):
    cred = base64.b64encode(("alice:" + password).encode()).decode()
    return ("GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic %s\r\n\r\n"
            % (path, cred)).encode()


def main():
    tmp = GhServer("", workers=1)
    store = os.path.join(tmp.dir, "users")
    audit = os.path.join(tmp.dir, "audit.log")
    # ~1 s of PBKDF2-SHA256 on this machine: long enough to see the worker free
    subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                    "--iterations", "3000000", "--stdin"],
                   input=(PW + "\n").encode(), check=True, capture_output=True, timeout=60)
    tmp.write_conf(f"""
blocking_threads 2;
auth_audit_log {audit};
auth_user_store {store};
location /basic {{ handler whoami; auth Basic; auth_basic_over_http on; }}
location /nocache {{ handler whoami; auth Basic; auth_basic_over_http on; auth_basic_cache_ttl 0; }}
location /plain {{ handler return; return 200 "plain\\n"; }}
""")
    with tmp as srv:
        port = srv.port()
        done = {}

        def slow():
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(basic_request(port, PW))
                st, _, _ = read_response(s, timeout=60)
                done["basic"] = (st, time.monotonic())

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.2)  # the verification has started
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"GET /plain HTTP/1.1\r\nHost: localhost\r\n\r\n")
            st, _, _ = read_response(s, timeout=30)
            plain_at = time.monotonic()
        check(st == 200, f"plain request during a Basic verification: 200 ({st})")
        check("basic" not in done,
              "the plain request was answered before the Basic verification finished "
              "(the worker is not blocked by PBKDF2)")
        t.join(60)
        check(done.get("basic", (0,))[0] == 200, f"Basic verified on the pool: 200 ({done})")
        check("basic" in done and done["basic"][1] > plain_at, "Basic finished after the plain one")

        # the cache: the same credentials again on new connections, a wrong
        # password never passes; keep-alive repeats on one connection too
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            codes = []
            for pw in (PW, PW, "wrong", PW):
                s.sendall(basic_request(port, pw))
                st, _, _ = read_response(s, timeout=30)
                codes.append(st)
        check(codes == [200, 200, 401, 200], f"cached, cached, wrong, cached: {codes}")
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(basic_request(port, PW, "/nocache"))
            st, _, _ = read_response(s, timeout=60)
        check(st == 200, f"auth_basic_cache_ttl 0: verified, 200 ({st})")
        srv.assert_alive()
        with open(audit) as f:  # in the server's directory, removed on exit
            lines = [l for l in f if "scheme=Basic" in l]
        ok = [l for l in lines if "result=success" in l]
        bad = [l for l in lines if "result=failure" in l]
        check(len(ok) == 5 and len(bad) == 1,
              f"every Basic request audited: 5 successes, 1 failure ({len(ok)}, {len(bad)})")
        check(all("peer=127.0.0.1:" in l for l in lines), "audit lines name the peer")
    if FAILURES:
        print("FAILED: %d check(s)" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
