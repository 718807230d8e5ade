# SPDX-License-Identifier: MIT
"""The built-in `static` handler with curl and raw sockets: ETag / Last-Modified
and 304, Range 206 / 416 / multi-range 200, HEAD, 405, directory index and
redirect, traversal attempts (../, %2e%2e, %2f, NUL, a symlink out of the root)
all refused, and a large file sent with sendfile checked byte for byte."""
import hashlib
import os
import subprocess
import sys
import tempfile

from ghmodules import require_builtin
from ghserver import GhServer, read_response


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args), capture_output=True)
    assert r.returncode == 0, "curl %s failed: %s" % (args, r.stderr.decode())
    return r


def status_of(url):
    r = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", url)
    return int(r.stdout)


def raw(srv, target):
    """One request with the target sent byte for byte (curl would clean it)."""
    s = srv.connect()
    try:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return read_response(s)
    finally:
        s.close()


def headers_of(text):
    out = {}
    for line in text.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k:
            out[k.strip().lower()] = v.strip()
    return out


def main():
    require_builtin("static")
    work = tempfile.mkdtemp(prefix="ghstatic-")
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "sub"))
    os.makedirs(os.path.join(root, "noindex"))
    secret = os.path.join(work, "secret.txt")
    with open(secret, "w") as f:
        f.write("TOP SECRET\n")
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello, world\n")
    with open(os.path.join(root, "sub", "index.html"), "w") as f:
        f.write("<p>index</p>\n")
    big = os.path.join(root, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(5 * 1024 * 1024 + 123))
    os.symlink(secret, os.path.join(root, "escape.txt"))          # points out of the root
    os.symlink(work, os.path.join(root, "updir"))                 # a directory out of the root
    os.symlink("hello.txt", os.path.join(root, "inside.txt"))     # stays inside

    conf = """
location /files/ { handler static; static_root %s; }
location / { handler static; static_root %s; }
""" % (root, root)
    with GhServer(conf) as srv:
        # Plain GET, content type from the table, validators present.
        r = curl("-i", srv.url("/hello.txt"))
        head, _, body = r.stdout.decode().partition("\r\n\r\n")
        h = headers_of(head)
        assert head.startswith("HTTP/1.1 200"), head
        assert body == "hello, world\n"
        assert h["content-type"].startswith("text/plain"), h
        assert h["accept-ranges"] == "bytes"
        etag, last_mod = h["etag"], h["last-modified"]
        assert etag.startswith('"') and last_mod.endswith("GMT"), h

        # The location prefix is removed (alias-like).
        assert curl(srv.url("/files/hello.txt")).stdout == b"hello, world\n"

        # Conditional requests: If-None-Match (also weak and in a list), If-Modified-Since.
        for inm in (etag, "W/" + etag, '"nope", ' + etag, "*"):
            r = curl("-i", "-H", "If-None-Match: " + inm, srv.url("/hello.txt"))
            assert r.stdout.startswith(b"HTTP/1.1 304"), (inm, r.stdout)
            assert etag.encode() in r.stdout
        r = curl("-i", "-H", 'If-None-Match: "other"', srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 200")
        r = curl("-i", "-H", "If-Modified-Since: " + last_mod, srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 304"), r.stdout
        r = curl("-i", "-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT",
                 srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 200")

        # Ranges: one range 206, suffix range, unsatisfiable 416, multiple -> 200 whole.
        r = curl("-i", "-H", "Range: bytes=0-4", srv.url("/hello.txt"))
        head, _, body = r.stdout.decode().partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 206"), head
        assert headers_of(head)["content-range"] == "bytes 0-4/13"
        assert body == "hello"
        r = curl("-i", "-H", "Range: bytes=-6", srv.url("/hello.txt"))
        assert r.stdout.endswith(b"world\n") and b"bytes 7-12/13" in r.stdout
        r = curl("-i", "-H", "Range: bytes=100-", srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 416"), r.stdout
        assert b"Content-Range: bytes */13" in r.stdout
        r = curl("-i", "-H", "Range: bytes=0-1,3-4", srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 200") and r.stdout.endswith(b"hello, world\n")
        # If-Range with a stale validator: the whole file.
        r = curl("-i", "-H", "Range: bytes=0-4", "-H", 'If-Range: "stale"', srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 200"), r.stdout
        r = curl("-i", "-H", "Range: bytes=0-4", "-H", "If-Range: " + etag, srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 206"), r.stdout

        # HEAD: the GET headers, no body.
        r = curl("-I", srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 200") and b"Content-Length: 13" in r.stdout
        assert r.stdout.endswith(b"\r\n\r\n")

        # Other methods: 405 with Allow.
        r = curl("-i", "-X", "POST", "-d", "x", srv.url("/hello.txt"))
        assert r.stdout.startswith(b"HTTP/1.1 405") and b"Allow: GET, HEAD" in r.stdout

        # Directories: redirect to '/', index, no listing (404).
        r = curl("-i", srv.url("/sub"))
        assert r.stdout.startswith(b"HTTP/1.1 301") and b"Location: /sub/" in r.stdout, r.stdout
        assert curl(srv.url("/sub/")).stdout == b"<p>index</p>\n"
        assert status_of(srv.url("/noindex/")) == 404
        assert status_of(srv.url("/missing.txt")) == 404

        # A symlink that stays inside the root is served.
        assert curl(srv.url("/inside.txt")).stdout == b"hello, world\n"

        # Traversal: nothing outside the root is reachable, whatever the spelling.
        hostile = [b"/../secret.txt", b"/files/../../secret.txt", b"/%2e%2e/secret.txt",
                   b"/%2E%2E/secret.txt", b"/.%2e/secret.txt", b"/sub/..%2f..%2fsecret.txt",
                   b"/%2fsecret.txt", b"/hello.txt%00.png", b"/escape.txt", b"/updir/secret.txt",
                   b"/updir/root/hello.txt", b"/sub/%2e%2e/%2e%2e/secret.txt", b"/%252e%252e/secret.txt"]
        for target in hostile:
            status, _, body = raw(srv, target)
            assert status in (400, 403, 404), (target, status)
            assert b"TOP SECRET" not in body, target
        # A raw NUL in the request line never reaches the file system either.
        status, _, body = raw(srv, b"/hello.txt\x00/../../secret.txt")
        assert status == 400 and b"TOP SECRET" not in body

        # A large file through sendfile, byte for byte, then a range from its middle.
        out = os.path.join(work, "big.out")
        curl("-o", out, srv.url("/big.bin"))
        with open(big, "rb") as a, open(out, "rb") as b:
            want = a.read()
            assert hashlib.sha256(b.read()).digest() == hashlib.sha256(want).digest()
        r = curl("-H", "Range: bytes=3000000-3000099", srv.url("/big.bin"))
        assert r.stdout == want[3000000:3000100]

        srv.assert_alive()
    subprocess.run(["rm", "-rf", work], check=False)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
