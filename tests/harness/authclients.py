# SPDX-License-Identifier: MIT
"""Helpers for the server-side auth tests with real clients (issue 4).

check()/finish(): the PASS/FAIL/XFAIL lines every test prints. An expected
failure (a feature another branch is adding) prints "XFAIL: <reason>" and does
not fail the test; if the check unexpectedly passes it prints "XPASS" so the
marker can be removed. Nothing passes silently.

send_leg(): one leg of a Negotiate/NTLM handshake on a raw socket, so that
the test chooses each leg's connection.
"""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile

from ghserver import read_response

FAILURES = []
XFAILS = []


def check(cond, what, xfail=None):
    """Records one assertion. xfail: the reason it is expected to fail for now."""
    if xfail is not None:
        if cond:
            print("XPASS " + what + " (expected failure no longer fails: " + xfail + ")",
                  flush=True)
        else:
            print("XFAIL: " + xfail + ": " + what, flush=True)
            XFAILS.append(what)
        return
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def finish():
    if XFAILS:
        print("%d expected failure(s) (XFAIL)" % len(XFAILS))
    if FAILURES:
        print("FAILED: %d check(s)" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


def curl(env, *args):
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "20"] + list(args), env=env,
                       capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def last_response(text):
    """Status, headers (list of (name, value)) and body of the last response of curl -i."""
    parts = re.split(r"(?m)^(?=HTTP/1\.1 \d{3})", text)
    found = [p for p in parts if p.startswith("HTTP/")]
    if not found:
        return 0, [], ""
    head, _, body = found[-1].partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
    return int(lines[0].split(" ")[1]), headers, body


def auth_of(body):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body)["auth"]
    except (ValueError, KeyError, TypeError):
        return {}


def write_legacy_conf():
    """An OPENSSL_CONF that activates the default and legacy providers (MD4 for
    python3-ntlm-auth). OpenSSL reads it once, at start: re-exec with it set."""
    fd, path = tempfile.mkstemp(prefix="gh-openssl-", suffix=".cnf")
    with os.fdopen(fd, "w") as f:
        f.write("openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = d\n"
                "legacy = l\n[d]\nactivate = 1\n[l]\nactivate = 1\n")
    return path


def reexec_with_legacy_openssl():
    """Runs this script again under an OPENSSL_CONF with the legacy provider
    (once); returns in the child, exits in the parent."""
    if "GH_TEST_LEGACY_CONF" in os.environ:
        os.environ.pop("OPENSSL_CONF", None)  # read already; the server needs none
        return
    path = write_legacy_conf()
    env = dict(os.environ, OPENSSL_CONF=path, GH_TEST_LEGACY_CONF=path)
    rc = subprocess.run([sys.executable] + sys.argv, env=env).returncode
    os.unlink(path)
    sys.exit(rc)


def send_leg(sock, path, scheme, token, extra=""):
    """One request on sock with `Authorization: scheme b64(token)` (none when token
    is None). Returns (status, headers, body, server token or None)."""
    req = "GET %s HTTP/1.1\r\nHost: localhost\r\n%s" % (path, extra)
    if token is not None:
        req += "Authorization: %s %s\r\n" % (scheme, base64.b64encode(token).decode())
    sock.sendall((req + "\r\n").encode())
    status, headers, body = read_response(sock)
    www = headers.get("www-authenticate", "")
    out = None
    if www.lower().startswith(scheme.lower() + " "):
        out = base64.b64decode(www.split(" ", 1)[1])
    return status, headers, body, out

