# SPDX-License-Identifier: MIT
"""CredSSP-delegated credentials used by the reverse proxy toward its backend
(issue 8, `proxy_delegated_credentials basic|ntlm`): `gatehouse fetch --auth
credssp --delegate` talks to a location `auth CredSSP; auth_delegation on;`
that proxies to
  - a Python backend that records the Authorization header it got (so the
    exact Basic value, and its absence, are checked),
  - a second gatehouse with `auth Basic` / `auth NTLM` against the built-in
    user store, which must authenticate alice from the delegated credentials
    (NTLM: the proxy's own handshake; the authenticated connection must not
    be pooled, checked by a request without credentials to the same backend),
  - a Python NTLM recorder (a hand-made CHALLENGE) that checks a POST body
    travels on the AUTHENTICATE leg only.
Negative cases: without --delegate (an empty credential set) nothing is
forwarded; with the option off (default) nothing is forwarded; a location
authenticated with Basic (not CredSSP) forwards nothing even with the option
on; `basic` without `proxy_delegated_basic_over_http on` is a config error.
The password never shows in the proxy's logs."""
import base64
import http.server
import json
import os
import struct
import subprocess
import sys
import threading

from ghserver import GhServer, gh_bin

FAILURES = []
PW = "alice-pw-1"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a JSON object of the headers it received."""
    seen = []

    def do_GET(self):
        auth = self.headers.get_all("Authorization") or []
        Recorder.seen.append(auth)
        body = json.dumps({"authorization": auth, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def ntlm_challenge():
    """An NTLM CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2): Unicode, NTLM, extended
    session security, target info with the NetBIOS domain and computer names."""
    def av(i, text):
        v = text.encode("utf-16-le")
        return struct.pack("<HH", i, len(v)) + v
    name = "GH".encode("utf-16-le")
    info = av(2, "GH") + av(1, "BACKEND") + struct.pack("<HH", 0, 0)
    flags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x10000 | 0x80000 | 0x800000 | 0x2000000 | 0x20000000 \
        | 0x80000000
    off = 56
    return (b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", len(name), len(name), off)
            + struct.pack("<I", flags) + b"\x01\x23\x45\x67\x89\xab\xcd\xef" + b"\0" * 8
            + struct.pack("<HHI", len(info), len(info), off + len(name))
            + bytes([10, 0, 0x61, 0x4a, 0, 0, 0, 15]) + name + info)


class NtlmRecorder(http.server.BaseHTTPRequestHandler):
    """Challenges an NTLM NEGOTIATE on the connection (keep-alive), then records
    the leg that carries the AUTHENTICATE message: its method, body, the user
    name in it, and what the first leg looked like. The response is not
    verified (a recorder, not an acceptor): the gatehouse backend test does."""
    protocol_version = "HTTP/1.1"
    seen = []

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        auth = self.headers.get("Authorization") or ""
        tok = base64.b64decode(auth[5:]) if auth.startswith("NTLM ") else b""
        kind = struct.unpack("<I", tok[8:12])[0] if len(tok) >= 12 else 0
        if kind == 1:
            NtlmRecorder.seen.append({"leg": 1, "method": self.command, "body": body.decode()})
            ch = base64.b64encode(ntlm_challenge()).decode()
            self.send_response(401)
            self.send_header("WWW-Authenticate", "NTLM " + ch)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"auth")
            return
        user = ""
        if kind == 3:
            ln, _, off = struct.unpack("<HHI", tok[36:44])
            user = tok[off:off + ln].decode("utf-16-le", errors="replace")
        out = json.dumps({"legs": NtlmRecorder.seen, "kind": kind, "method": self.command,
                          "body": body.decode(), "user": user}).encode()
        NtlmRecorder.seen = []
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = handle_any
    do_POST = handle_any

    def log_message(self, *args):
        pass


def fetch(*args):
    r = subprocess.run([gh_bin(), "fetch", "--timeout", "20"] + list(args), capture_output=True,
                       timeout=60)
    err = r.stderr.decode(errors="replace")
    if "AddressSanitizer" in err or "runtime error" in err or "LeakSanitizer" in err:
        FAILURES.append("sanitizer report from fetch")
        print(err)
    return r.returncode, r.stdout.decode(errors="replace"), err


def as_json(out):
    try:
        return json.loads(out)
    except ValueError:
        return {}


def config_error():
    """basic without proxy_delegated_basic_over_http on: the server refuses the
    config and says why."""
    srv = GhServer("""
location / {
    handler proxy;
    proxy_pass http://127.0.0.1:9;
    proxy_delegated_credentials basic;
}
""")
    try:
        try:
            srv.start()
            started = True
        except AssertionError:
            started = False
        text = srv.stderr()
        check(not started and "proxy_delegated_basic_over_http" in text,
              "basic toward an http:// backend without the opt-in: config error naming "
              f"proxy_delegated_basic_over_http ({text.strip().splitlines()[-1:]})")
    finally:
        srv.cleanup()  # the process exited already (status 1, as it should)


def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    rec_port = httpd.server_address[1]
    ntlmd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NtlmRecorder)
    threading.Thread(target=ntlmd.serve_forever, daemon=True).start()

    backend = GhServer("")
    srv = GhServer("", https=True)
    try:
        store = os.path.join(backend.dir, "users")
        subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                        "--stdin"], input=(PW + "\n").encode(), check=True, capture_output=True)
        backend.write_conf(f"""
auth_user_store {store};
location / {{
    handler whoami;
    auth Basic;
    auth_basic_over_http on;
}}
location /ntlm {{
    handler whoami;
    auth NTLM;
}}
""")
        backend.start()
        cert, key = os.path.join(srv.dir, "localhost.pem"), os.path.join(srv.dir, "localhost.key")
        common = f"""
    auth CredSSP;
    auth_credssp_certificate {cert} {key};
    auth_delegation on;
    handler proxy;"""
        srv.write_conf(f"""
auth_user_store {store};
location /rec {{{common}
    proxy_pass http://127.0.0.1:{rec_port};
    proxy_delegated_credentials basic;
    proxy_delegated_basic_over_http on;
}}
location /gh {{{common}
    proxy_pass http://127.0.0.1:{backend.port()}/;
    proxy_delegated_credentials basic;
    proxy_delegated_basic_over_http on;
}}
location /ntlm {{{common}
    proxy_pass http://127.0.0.1:{backend.port()};
    proxy_delegated_credentials ntlm;
}}
location /ntlmrec {{{common}
    proxy_pass http://127.0.0.1:{rec_port};
    proxy_delegated_credentials ntlm;
}}
location /ntlmpost {{{common}
    proxy_pass http://127.0.0.1:{ntlmd.server_address[1]};
    proxy_delegated_credentials ntlm;
}}
location /plain {{{common}
    proxy_pass http://127.0.0.1:{backend.port()}/ntlm;
}}
location /off {{{common}
    proxy_pass http://127.0.0.1:{rec_port};
}}
location /basic {{
    auth Basic;
    handler proxy;
    proxy_pass http://127.0.0.1:{rec_port};
    proxy_delegated_credentials basic;
    proxy_delegated_basic_over_http on;
}}
""")
        srv.start()
        base = "https://localhost:%d" % srv.port(tls=True)
        tls = ["--cacert", srv.ca]
        want = "Basic " + base64.b64encode(("alice:" + PW).encode()).decode()

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                             base + "/rec")
        got = as_json(out).get("authorization")
        check(rc == 0 and got == [want],
              f"delegated: the backend gets Authorization: Basic alice:<password> ({rc}, "
              f"{got == [want]}, {len(got or [])} header(s), {err.splitlines()[-2:]})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                             base + "/gh/")
        a = as_json(out).get("auth", {})
        check(rc == 0 and a.get("type") == "Basic" and a.get("user") == "alice",
              f"delegated: a gatehouse backend with auth Basic authenticates alice ({rc}, {a})")

        for i in range(2):  # the second one must not reuse the first's connection
            rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                                 base + "/ntlm")
            a = as_json(out).get("auth", {})
            check(rc == 0 and a.get("type") == "NTLM" and a.get("user") == "alice"
                  and not a.get("token_for_cached_cred"),
                  f"ntlm #{i}: the backend (auth NTLM) authenticates alice by a handshake of "
                  f"the proxy's own ({rc}, {a.get('type')}, {a.get('user')}, "
                  f"{err.splitlines()[-2:]})")

        # The NTLM-authenticated backend connection must never be pooled: a
        # request without credentials to the same backend (same worker) would
        # otherwise ride on alice's authenticated connection.
        r = subprocess.run([gh_bin(), "fetch", "--timeout", "20", *tls, "--auth", "credssp",
                            "-u", "alice:" + PW, "-v", base + "/plain"], capture_output=True,
                           timeout=60)
        check(b"401" in r.stdout + r.stderr and b'"user"' not in r.stdout,
              f"ntlm: the authenticated backend connection was not reused ({r.returncode}, "
              f"{r.stdout[:60]!r})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                             "--data", "hello-body", base + "/ntlmpost")
        j = as_json(out)
        check(rc == 0 and j.get("kind") == 3 and j.get("method") == "POST"
              and j.get("body") == "hello-body" and j.get("user") == "alice"
              and j.get("legs") == [{"leg": 1, "method": "POST", "body": ""}],
              f"ntlm with a POST body: the first leg has no body, the AUTHENTICATE leg carries "
              f"it, as alice ({rc}, {j})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:wrong-pw", "--delegate",
                             base + "/ntlm")
        check(rc != 0, f"ntlm: a wrong password fails at the front already ({rc})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, base + "/ntlmrec")
        got = as_json(out).get("authorization")
        check(rc == 0 and got == [],
              f"ntlm, no delegation: no Authorization forwarded, no handshake ({rc}, {got})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                             base + "/ntlmrec")
        check(rc != 0 or "502" in out + err,
              f"ntlm toward a backend that does not challenge: 502 ({rc}, {out[:80]!r})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, base + "/rec")
        got = as_json(out).get("authorization")
        check(rc == 0 and got == [],
              f"no delegation (empty credential set): no Authorization forwarded ({rc}, {got})")

        rc, out, err = fetch(*tls, "--auth", "credssp", "-u", "alice:" + PW, "--delegate",
                             base + "/off")
        got = as_json(out).get("authorization")
        check(rc == 0 and got == [],
              f"proxy_delegated_credentials off (default): no Authorization forwarded "
              f"({rc}, {got})")

        rc, out, err = fetch(*tls, "--auth", "basic", "-u", "alice:" + PW, base + "/basic")
        got = as_json(out).get("authorization")
        check(rc == 0 and got == [],
              f"a location authenticated with Basic, not CredSSP: nothing forwarded "
              f"({rc}, {got})")

        srv.stop()
        logs = srv.stderr() + srv.access_log()
        check(PW not in logs and base64.b64encode(("alice:" + PW).encode()).decode() not in logs,
              "the password is in none of the proxy's logs")
    finally:
        srv.stop()
        backend.stop()
        httpd.shutdown()
        ntlmd.shutdown()
    config_error()
    if FAILURES:
        print("FAILED: %d" % len(FAILURES))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
