# SPDX-License-Identifier: MIT
"""The static handler's per-worker file cache (src/modules/static_cache.c)
against a real server and real files:

- it is used: many GETs of a settled small file make no read system call
  (/proc/PID/io syscr), while `static_cache off` reads the file per request;
- 304, Range, HEAD and index answers from the cache are the uncached ones;
- a file replaced (rename), rewritten in place (same size), removed, made
  unreadable, or replaced by a symlink out of the root is noticed: every
  answer is either the complete old file (old length, old ETag) or the new
  state, the new state comes within the polling limit, and once seen it
  stays (the cache never brings the old file back);
- `static_cache off` sees a change on the very next request.
The documented bound (STATIC_CACHE_CHECK_MS, 1 s) is printed, not asserted:
no timed assertions in tests."""
import http.client
import os
import pwd
import shutil
import socket
import stat
import tempfile
import time

from ghmodules import require_builtin
from ghserver import GhServer

SETTLE_S = 1.3  # STATIC_CACHE_SETTLE_S (1 s) + margin: newer files are never cached
POLL_LIMIT_S = 15.0  # generous: the bound is 1 s, the machine may be loaded


def get(port, path, extra=b"", method=b"GET"):
    """One request on a fresh connection: (status, headers dict, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra +
                  b"Connection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if method != b"HEAD" and "content-length" in headers:
        assert len(body) == int(headers["content-length"]), (headers, len(body))
    return status, headers, body


def syscr(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("syscr:"):
                return int(line.split()[1])
    raise AssertionError("no syscr in /proc/%d/io" % pid)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def replace(path, data):
    tmp = path + ".tmp"
    write(tmp, data)
    os.rename(tmp, path)


def wait_for(port, path, accept_old, is_new, what):
    """Polls until is_new(answer); every answer before must satisfy accept_old.
    Then checks that the new state stays. Returns the seconds it took."""
    t0 = time.time()
    while True:
        ans = get(port, path)
        if is_new(ans):
            break
        assert accept_old(ans), "%s: neither the old file nor the new state: %r" % (what, ans[:2])
        assert time.time() - t0 < POLL_LIMIT_S, "%s: not noticed in %ss" % (what, POLL_LIMIT_S)
        time.sleep(0.02)
    took = time.time() - t0
    for _ in range(20):
        ans = get(port, path)
        assert is_new(ans), "%s: the old state came back: %r" % (what, ans[:2])
    print("%s noticed after %.2f s (bound: 1 s check interval)" % (what, took))
    return took


def old_answer(body, etag):
    return lambda a: a[0] == 200 and a[2] == body and a[1].get("etag") == etag


def drop_to_nobody():
    """preexec_fn: the permission test needs a server that is not root."""
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


def test_cache_used_and_answers(port, pid, root):
    a = b"A" * 612
    s, h, body = get(port, "/a.html")
    assert s == 200 and body == a, (s, h)
    etag = h["etag"]
    # One keep-alive connection: closing connections may read (lingering close).
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    before = syscr(pid)
    for _ in range(50):
        conn.request("GET", "/a.html")
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and body == a and r.getheader("etag") == etag, r.status
        assert r.getheader("content-type").startswith("text/html")
    reads = syscr(pid) - before
    conn.close()
    # A check (once per second) opens and fstat's, but reads only a changed file.
    assert reads < 5, "50 cached GETs made %d read calls" % reads
    # Conditional, Range, HEAD and the directory index, from the cache.
    s, h2, body = get(port, "/a.html", b"If-None-Match: " + etag.encode() + b"\r\n")
    assert s == 304 and body == b"", (s, h2)
    s, h2, body = get(port, "/a.html", b"Range: bytes=10-19\r\n")
    assert s == 206 and body == a[10:20] and h2["content-range"] == "bytes 10-19/612", (s, h2)
    s, h2, body = get(port, "/a.html", b"Range: bytes=700-\r\n")
    assert s == 416 and h2["content-range"] == "bytes */612", (s, h2)
    s, h2, body = get(port, "/a.html", method=b"HEAD")
    assert s == 200 and h2["content-length"] == "612" and body == b"", (s, h2)
    for _ in range(3):
        s, h2, body = get(port, "/sub/")
        assert s == 200 and body == b"<p>index</p>\n" and h2["content-type"].startswith(
            "text/html"), (s, h2)
    s, h2, _ = get(port, "/sub")
    assert s == 301 and h2["location"] == "/sub/", (s, h2)


def test_changes(port, root, secret):
    # Replaced by rename, with another length.
    path = os.path.join(root, "b.txt")
    old = b"old contents\n"
    s, h, body = get(port, "/b.txt")
    assert s == 200 and body == old
    new = b"new contents, longer than before\n"
    replace(path, new)
    wait_for(port, "/b.txt", old_answer(old, h["etag"]),
             lambda a: a[0] == 200 and a[2] == new, "replacement by rename")

    # Rewritten in place with the same size (same inode and length: only the
    # timestamps tell).
    path = os.path.join(root, "c.txt")
    old = b"1111111111\n"
    s, h, body = get(port, "/c.txt")
    assert s == 200 and body == old
    new = b"2222222222\n"
    with open(path, "r+b") as f:
        f.write(new)
    wait_for(port, "/c.txt", old_answer(old, h["etag"]),
             lambda a: a[0] == 200 and a[2] == new and a[1]["etag"] != h["etag"],
             "same-size rewrite in place")

    # Removed.
    path = os.path.join(root, "d.txt")
    old = b"soon gone\n"
    s, h, body = get(port, "/d.txt")
    assert s == 200 and body == old
    os.unlink(path)
    wait_for(port, "/d.txt", old_answer(old, h["etag"]), lambda a: a[0] == 404, "removal")

    # Replaced by a symlink out of the root: the beneath-the-root rule refuses
    # it once the entry is checked, and the secret is never served.
    path = os.path.join(root, "e.txt")
    old = b"harmless\n"
    s, h, body = get(port, "/e.txt")
    assert s == 200 and body == old
    os.unlink(path)
    os.symlink(secret, path)
    wait_for(port, "/e.txt", old_answer(old, h["etag"]), lambda a: a[0] == 404,
             "replacement by a symlink out of the root")
    # A symlink that stays inside the root is still followed (openat2 rules).
    s, _, body = get(port, "/inside.txt")
    assert s == 200 and body == b"A" * 612, s


def test_permission(work, root):
    """chmod 000 as seen by a server that is not root (root reads anything)."""
    path = os.path.join(root, "p.txt")
    conf = "location / { handler static; static_root %s; }" % root
    pre = drop_to_nobody if os.geteuid() == 0 else None
    saved_bin = os.environ["GH_BIN"]
    if pre is not None:
        # The build tree may not be reachable by nobody (a checkout under /root).
        copy = os.path.join(work, "gatehouse")
        shutil.copy(saved_bin, copy)
        os.chmod(copy, 0o755)
        os.environ["GH_BIN"] = copy
    srv = GhServer(conf, access_log=False, preexec_fn=pre)
    os.chmod(srv.dir, 0o755)  # its configuration must be readable by nobody
    with srv:
        os.environ["GH_BIN"] = saved_bin  # start() has run the copy
        port = srv.port()
        old = b"readable\n"
        s, h, body = get(port, "/p.txt")
        assert s == 200 and body == old, (s, body)
        os.chmod(path, 0)
        wait_for(port, "/p.txt", old_answer(old, h["etag"]), lambda a: a[0] == 403,
                 "chmod 000")
        os.chmod(path, 0o644)
        wait_for(port, "/p.txt", lambda a: a[0] == 403, lambda a: a[0] == 200 and a[2] == old,
                 "chmod 644 again")


def test_cache_off(root):
    conf = "location / { handler static; static_root %s; static_cache off; }" % root
    path = os.path.join(root, "f.txt")
    with GhServer(conf, access_log=False) as srv:
        port, pid = srv.port(), srv.proc.pid
        for i in range(3):
            write(path, b"version %d\n" % i)
            s, _, body = get(port, "/f.txt")
            assert s == 200 and body == b"version %d\n" % i, (s, body)
        os.unlink(path)
        assert get(port, "/f.txt")[0] == 404
        # A settled file is read on every request when the cache is off.
        write(path, b"settled\n")
        time.sleep(SETTLE_S)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        before = syscr(pid)
        for _ in range(10):
            conn.request("GET", "/f.txt")
            r = conn.getresponse()
            assert r.status == 200 and r.read() == b"settled\n"
        reads = syscr(pid) - before
        conn.close()
        assert reads >= 10, "static_cache off: 10 GETs made %d reads" % reads


def main():
    require_builtin("static")
    work = tempfile.mkdtemp(prefix="ghstaticcache-")
    os.chmod(work, 0o755)  # the permission test's server runs as nobody
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "sub"))
    secret = os.path.join(work, "secret.txt")
    write(secret, b"TOP SECRET\n")
    os.chmod(secret, 0o600)
    write(os.path.join(root, "a.html"), b"A" * 612)
    write(os.path.join(root, "b.txt"), b"old contents\n")
    write(os.path.join(root, "c.txt"), b"1111111111\n")
    write(os.path.join(root, "d.txt"), b"soon gone\n")
    write(os.path.join(root, "e.txt"), b"harmless\n")
    write(os.path.join(root, "p.txt"), b"readable\n")
    write(os.path.join(root, "sub", "index.html"), b"<p>index</p>\n")
    os.symlink("a.html", os.path.join(root, "inside.txt"))
    for dirpath, dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    time.sleep(SETTLE_S)  # files modified within the last second are not cached

    conf = "location / { handler static; static_root %s; }" % root
    with GhServer(conf) as srv:
        test_cache_used_and_answers(srv.port(), srv.proc.pid, root)
        test_changes(srv.port(), root, secret)
    test_permission(work, root)
    test_cache_off(root)
    print("ok")


if __name__ == "__main__":
    main()
