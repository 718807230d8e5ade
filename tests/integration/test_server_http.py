# SPDX-License-Identifier: MIT
"""HTTP/1.1 over TCP and TLS with curl: whoami, keep-alive, HEAD, 404, HTTP/1.0,
chunked upload and Expect: 100-continue through the example module (.so)."""
import json
import os
import subprocess

from ghserver import GhServer, read_response

ECHO_SO = os.path.join(os.environ.get("GH_BUILD", ""), "examples", "echo_module.so")

CONF = """
load_module echo %s;
location /whoami { handler whoami; }
location /echo { handler echo; echo_banner "echo:"; }
""" % ECHO_SO


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "10"] + list(args), capture_output=True)
    assert r.returncode == 0, "curl %s failed: %s" % (args, r.stderr.decode())
    return r


def main():
    with GhServer(CONF, https=True) as srv:
        # whoami over plain HTTP: the request as the server saw it, not authenticated.
        r = curl(srv.url("/whoami?a=1&b=%22"))
        doc = json.loads(r.stdout)
        assert doc["method"] == "GET"
        assert doc["path"] == "/whoami" and doc["query"] == "a=1&b=%22", doc
        assert doc["url"] == srv.url("/whoami?a=1&b=%22"), doc["url"]
        assert doc["tls"] is None
        assert doc["auth"]["status"] == "not authenticated"
        assert doc["peer"].startswith("127.0.0.1:")

        # whoami over TLS, verified against the test CA, with SNI and ALPN.
        r = curl("--cacert", srv.ca, "--resolve", "localhost:%d:127.0.0.1" % srv.port(True),
                 srv.url("/whoami", tls=True, host="localhost"))
        doc = json.loads(r.stdout)
        assert doc["tls"]["server_name"] == "localhost", doc["tls"]
        assert doc["tls"]["alpn"] == "http/1.1"
        assert doc["tls"]["protocol"] in ("TLSv1.2", "TLSv1.3")
        assert doc["url"].startswith("https://localhost:")

        # Secrets are never echoed.
        r = curl("-H", "Authorization: Basic c2VjcmV0", srv.url("/whoami"))
        assert b"c2VjcmV0" not in r.stdout

        # Keep-alive: two requests, one connection.
        r = curl("-v", srv.url("/whoami"), srv.url("/whoami"))
        assert b"Re-using existing connection" in r.stderr or b"Reusing existing" in r.stderr, \
            r.stderr.decode()
        r = curl("-vk", srv.url("/whoami", tls=True), srv.url("/whoami", tls=True))
        assert b"Re-using existing connection" in r.stderr or b"Reusing existing" in r.stderr

        # HEAD: headers with the GET length, no body.
        r = curl("-I", srv.url("/whoami"))
        head = r.stdout.decode()
        assert head.startswith("HTTP/1.1 200"), head
        assert "Content-Length:" in head and "Date:" in head

        # Unknown path: 404 from the default location.
        r = curl("-o", "/dev/null", "-w", "%{http_code}", srv.url("/nothing/here"))
        assert r.stdout == b"404"

        # HTTP/1.0 without keep-alive: the server closes after the response.
        r = curl("-0", "-v", srv.url("/whoami"))
        assert b"HTTP/1.0" in r.stderr or b"HTTP/1.1 200" in r.stderr
        assert json.loads(r.stdout)["http_minor_version"] == 0

        # Chunked upload, streamed through the module (which pends on body bytes).
        payload = os.urandom(200000)
        path = os.path.join(srv.dir, "payload.bin")
        with open(path, "wb") as f:
            f.write(payload)
        for tls in (False, True):
            r = curl("-k", "-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary",
                     "@" + path, srv.url("/echo", tls=tls))
            assert r.stdout == b"echo:" + payload, (tls, len(r.stdout))

        # Expect: 100-continue with a Content-Length body (curl sends it for > 1 MiB
        # by default; force it).
        small = b"x" * 5000
        with open(path, "wb") as f:
            f.write(small)
        r = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "@" + path,
                 srv.url("/echo"))
        assert b"100 Continue" in r.stderr, r.stderr.decode()
        assert r.stdout == b"echo:" + small

        # Body larger than max_body (default 1 MiB, Content-Length): 413 and close.
        s = srv.connect()
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n")
        status, headers, _ = read_response(s)
        s.close()
        assert status == 413 and headers.get("connection") == "close"

        # The module was loaded from its .so and logged like the IIS seed's.
        text = srv.stderr()
        assert "echo: cnt = " in text and "URI: http://127.0.0.1:" in text, text
        log = srv.access_log()
        assert '"GET /whoami HTTP/1.1" 200' in log, log
    print("ok")


if __name__ == "__main__":
    main()
