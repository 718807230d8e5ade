# SPDX-License-Identifier: MIT
"""Server-side NTLM, Digest and Basic (issue 4) against the built-in user store,
with real clients: curl --ntlm (GET and POST through the proxy to an echo
backend: the final leg's body arrives intact), keep-alive reuse flagged
TOKEN_FOR_CACHED_CRED on one raw socket (NTLM messages from python3-ntlm-auth),
curl --digest (nonce-count replay; a stale nonce on a server of its
own with a 1 s nonce lifetime), Basic (HTTPS only unless allowed), wrong passwords, 403,
a mid-handshake token sent on another connection, and forged identity headers
stripped by the proxy."""
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

from ghserver import GhServer, gh_bin, read_response

FAILURES = []
PW = {"alice": "alice-pw-1", "bob": "bob-pw-2"}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def curl(*args):
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def last_response(text):
    parts = re.split(r"(?m)^(?=HTTP/1\.1 \d{3})", text)
    last = [p for p in parts if p.startswith("HTTP/")][-1]
    head, _, body = last.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
    return int(lines[0].split(" ")[1]), headers, body


def auth_of(body):
    try:
        return json.loads(body)["auth"]
    except (ValueError, KeyError):
        return {}


class Echo(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers with the request's headers and the SHA-256 and length of its body."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        out = json.dumps({"method": self.command, "len": len(body),
                          "sha256": hashlib.sha256(body).hexdigest(),
                          "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = answer
    do_POST = answer


def ntlm_client():
    """An NTLM initiator from python3-ntlm-auth (MD4 needs OpenSSL's legacy provider)."""
    from ntlm_auth.ntlm import NtlmContext
    return NtlmContext("alice", PW["alice"], domain="", workstation="TEST", ntlm_compatibility=3)


def ntlm_leg(sock, path, token, keep=True):
    req = "GET %s HTTP/1.1\r\nHost: localhost\r\n" % path
    if token is not None:
        req += "Authorization: NTLM %s\r\n" % base64.b64encode(token).decode()
    sock.sendall((req + "\r\n").encode())
    return read_response(sock)


def test_ntlm(srv, echo_port):
    base = srv.url("/")[:-1].replace("127.0.0.1", "localhost")
    st, _, body = last_response(curl("--ntlm", "-u", "alice:" + PW["alice"], base + "/ntlm"))
    a = auth_of(body)
    check(st == 200 and a.get("type") == "NTLM" and a.get("user") == "alice",
          f"curl --ntlm: 200 as alice ({st}, {a.get('type')}, {a.get('user')})")
    check(a.get("package") == "NTLM" and a.get("has_access_token") is True, "package, token")
    check(a.get("token_for_cached_cred") is False, "a fresh handshake is not flagged cached")
    st, _, _ = last_response(curl("--ntlm", "-u", "alice:wrong", base + "/ntlm"))
    check(st == 401, f"curl --ntlm, wrong password: 401 ({st})")
    # POST through the proxy: the backend gets the final leg's body intact
    payload = os.urandom(100000).hex().encode()
    path = os.path.join(srv.dir, "post.bin")
    with open(path, "wb") as f:
        f.write(payload)
    st, _, body = last_response(curl("--ntlm", "-u", "alice:" + PW["alice"], "--data-binary",
                                     "@" + path, base + "/app/post"))
    try:
        echoed = json.loads(body)
    except ValueError:
        echoed = {}
    check(st == 200 and echoed.get("len") == len(payload) and
          echoed.get("sha256") == hashlib.sha256(payload).hexdigest(),
          f"NTLM POST: body intact at the backend ({st}, {echoed.get('len')})")
    hdrs = {k.lower(): v for k, v in echoed.get("headers", [])}
    check(hdrs.get("x-remote-user") == "alice", f"backend sees X-Remote-User alice "
          f"({hdrs.get('x-remote-user')})")
    # Same connection, second request without Authorization: cached identity
    sock = srv.connect()
    try:
        c = ntlm_client()
        st, h, _ = ntlm_leg(sock, "/ntlm", c.step())
        challenge = base64.b64decode(h.get("www-authenticate", "NTLM ").split(" ", 1)[1] or "")
        check(st == 401 and len(challenge) > 32, f"NTLM leg 1: 401 with CHALLENGE ({st})")
        # 4. The AUTHENTICATE token sent on ANOTHER connection does not continue it.
        auth_tok = c.step(challenge)
        other = srv.connect()
        try:
            st2, _, _ = ntlm_leg(other, "/ntlm", auth_tok)
            check(st2 == 401, f"AUTHENTICATE on another connection: not continued ({st2})")
        finally:
            other.close()
        st, _, body = ntlm_leg(sock, "/ntlm", auth_tok)
        a = auth_of(body.decode())
        check(st == 200 and a.get("user") == "alice", f"NTLM leg 2 on its connection: 200 ({st})")
        check(a.get("token_for_cached_cred") is False, "final leg not flagged cached")
        st, _, body = ntlm_leg(sock, "/ntlm", None)
        a = auth_of(body.decode())
        check(st == 200 and a.get("token_for_cached_cred") is True and a.get("flags") == 1,
              f"keep-alive request: TOKEN_FOR_CACHED_CRED ({st}, {a.get('flags')})")
    finally:
        sock.close()
    # a fresh connection without Authorization is challenged again
    sock = srv.connect()
    try:
        st, _, _ = ntlm_leg(sock, "/ntlm", None)
        check(st == 401, f"new connection: challenged again ({st})")
    finally:
        sock.close()


def write_legacy_conf():
    fd, path = tempfile.mkstemp(prefix="gh-openssl-", suffix=".cnf")
    with os.fdopen(fd, "w") as f:
        f.write("openssl_conf = init\n[init]\nproviders = prov\n[prov]\ndefault = d\n"
                "legacy = l\n[d]\nactivate = 1\n[l]\nactivate = 1\n")
    return path


def test_digest(srv):
    base = srv.url("/")[:-1]
    st, h, body = last_response(curl("--digest", "-u", "alice:" + PW["alice"], base + "/digest"))
    a = auth_of(body)
    check(st == 200 and a.get("type") == "Digest" and a.get("user") == "alice",
          f"curl --digest: 200 as alice ({st})")
    check(any(n.lower() == "authentication-info" and "rspauth=" in v for n, v in h),
          "Authentication-Info with rspauth")
    check(a.get("has_access_token") is True and "staff" in (a.get("groups") or []),
          f"Digest: an access token, with the store's groups ({a.get('has_access_token')}, "
          f"{a.get('groups')})")
    st, _, _ = last_response(curl("--digest", "-u", "alice:wrong", base + "/digest"))
    check(st == 401, f"curl --digest, wrong password: 401 ({st})")
    # nonce-count replay: the same Authorization twice
    sock = srv.connect()
    try:
        sock.sendall(b"GET /digest HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, _ = read_response(sock)
        www = h.get("www-authenticate", "")  # the last one: MD5
        nonce = re.search(r'nonce="([^"]+)"', www).group(1)
        realm = re.search(r'realm="([^"]+)"', www).group(1)
        alg = "MD5" if "MD5" in www else "SHA-256"
        authz = digest_authorization(realm, nonce, alg, "00000001")
        req = ("GET /digest HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n" % authz).encode()
        sock.sendall(req)
        st1, _, _ = read_response(sock)
        sock.sendall(req)
        st2, _, _ = read_response(sock)
        check(st1 == 200 and st2 == 401, f"nonce-count replay refused ({st1}, {st2})")
        check("userhash=true" in www, f"userhash offered ({www[:80]})")
        for user, nc in (("alice", "00000002"), ("bob", "00000003")):
            authz = digest_authorization(realm, nonce, alg, nc, user=user, userhash=True)
            sock.sendall(("GET /digest HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                          % authz).encode())
            st, _, body = read_response(sock)
            a = auth_of(body.decode() if isinstance(body, bytes) else body)
            check(st == 200 and a.get("user") == user,
                  f"Digest userhash (RFC 7616 3.4.4) names {user}: 200 ({st}, {a.get('user')})")
    finally:
        sock.close()


def digest_authorization(realm, nonce, alg, nc, cnonce="0a4f113b", user="alice", uri="/digest",
                         userhash=False):
    hf = hashlib.md5 if alg == "MD5" else hashlib.sha256
    H = lambda s: hf(s.encode()).hexdigest()
    ha1 = H("%s:%s:%s" % (user, realm, PW[user]))
    resp = H(":".join([ha1, nonce, nc, cnonce, "auth", H("GET:" + uri)]))
    name = H("%s:%s" % (user, realm)) if userhash else user  # RFC 7616 3.4.4
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, qop=auth, '
            'nc=%s, cnonce="%s", response="%s"%s' % (name, realm, nonce, uri, alg, nc, cnonce,
                                                       resp, ", userhash=true" if userhash
                                                       else ""))


def test_digest_stale(store):
    """A stale nonce, on a server of its own whose nonces live 1 s, so that the
    other Digest checks keep the normal lifetime (a short one for the whole
    server made them flaky on a loaded machine). Only the age matters here: a
    slow machine makes the nonce older, never younger."""
    srv = GhServer(f"""
auth_digest_nonce_lifetime 1s;
auth_user_store {store};
location /digest {{ handler whoami; auth Digest; }}
""")
    with srv:
        sock = srv.connect()
        try:
            sock.sendall(b"GET /digest HTTP/1.1\r\nHost: x\r\n\r\n")
            st, h, _ = read_response(sock)
            www = h.get("www-authenticate", "")  # the last one: MD5
            nonce = re.search(r'nonce="([^"]+)"', www).group(1)
            realm = re.search(r'realm="([^"]+)"', www).group(1)
            alg = "MD5" if "MD5" in www else "SHA-256"
            authz = digest_authorization(realm, nonce, alg, "00000001")
            sock.sendall(("GET /digest HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                          % authz).encode())
            st1, _, _ = read_response(sock)
            check(st1 == 200, f"Digest with a fresh nonce (lifetime 1 s): 200 ({st1})")
            time.sleep(2.2)
            authz = digest_authorization(realm, nonce, alg, "00000002")
            sock.sendall(("GET /digest HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                          % authz).encode())
            st, h, _ = read_response(sock)
            check(st == 401 and "stale=true" in h.get("www-authenticate", ""),
                  f"stale nonce: 401 with stale=true ({st}, "
                  f"{h.get('www-authenticate', '')[:60]})")
        finally:
            sock.close()


def test_backoff(store):
    """auth_backoff_threshold: after N failures from one address, 429 with
    Retry-After, even for the right password; a success does not reset it."""
    srv = GhServer(f"""
auth_backoff_threshold 2;
auth_backoff_max 30s;
auth_user_store {store};
location /basic {{ handler whoami; auth Basic; auth_basic_over_http on; }}
""")
    def basic(password):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port(), timeout=10)
        try:
            cred = base64.b64encode(("alice:" + password).encode()).decode()
            conn.request("GET", "/basic", headers={"Authorization": "Basic " + cred})
            r = conn.getresponse()
            r.read()
            return r.status, r.getheader("Retry-After", "")
        finally:
            conn.close()

    with srv:
        st, _ = basic(PW["alice"])
        check(st == 200, f"backoff server: right password first: 200 ({st})")
        # The backoff doubles per failure past the threshold (1 s, 2 s, 4 s...):
        # after six failures it lasts long enough for a loaded machine.
        codes = [basic("wrong")[0] for _ in range(6)]
        check(codes[:2] == [401, 401] and 429 in codes[2:],
              f"wrong passwords: 401 up to the threshold, then 429 ({codes})")
        st, retry = basic(PW["alice"])
        check(st == 429 and retry.isdigit() and 1 <= int(retry) <= 30,
              f"in backoff, even the right password: 429 with Retry-After ({st}, {retry!r})")


def test_basic(srv):
    tls = srv.url("/", tls=True)[:-1].replace("127.0.0.1", "localhost")
    http = srv.url("/")[:-1]
    st, _, body = last_response(curl("--cacert", srv.ca, "-u", "alice:" + PW["alice"],
                                     tls + "/basic"))
    a = auth_of(body)
    check(st == 200 and a.get("type") == "Basic" and a.get("user") == "alice",
          f"curl --basic over HTTPS: 200 ({st})")
    check(a.get("has_access_token") is True, f"Basic: an access token ({a.get('has_access_token')})")
    st, _, _ = last_response(curl("--cacert", srv.ca, "-u", "alice:wrong", tls + "/basic"))
    check(st == 401, f"Basic, wrong password: 401 ({st})")
    st, h, _ = last_response(curl("-u", "alice:" + PW["alice"], http + "/basic"))
    check(st in (401, 403) and not any(v.startswith("Basic") for n, v in h
                                       if n.lower() == "www-authenticate"),
          f"Basic over plain HTTP refused ({st})")
    st, _, _ = last_response(curl("-u", "alice:" + PW["alice"], http + "/basic-http"))
    check(st == 200, f"Basic over plain HTTP when allowed: 200 ({st})")
    st, _, _ = last_response(curl("--cacert", srv.ca, "-u", "alice:" + PW["alice"],
                                  tls + "/staff"))
    check(st == 200, f"auth_require group staff, alice: 200 ({st})")
    st, _, _ = last_response(curl("--cacert", srv.ca, "-u", "bob:" + PW["bob"], tls + "/staff"))
    check(st == 403, f"auth_require group staff, bob: 403 ({st})")


def test_proxy_identity(srv):
    http = srv.url("/")[:-1]
    st, _, body = last_response(curl("-u", "bob:" + PW["bob"], "-H", "X-Remote-User: admin",
                                     "-H", "x-remote-groups: wheel", http + "/app/get"))
    try:
        echoed = json.loads(body)
    except ValueError:
        echoed = {}
    got = [(k.lower(), v) for k, v in echoed.get("headers", [])]
    users = [v for k, v in got if k == "x-remote-user"]
    check(st == 200 and users == ["bob"], f"proxy: forged X-Remote-User dropped, real user "
          f"passed ({st}, {users})")
    check(not any(v == "wheel" for k, v in got), "proxy: forged X-Remote-Groups dropped")
    st, _, body = last_response(curl("-H", "X-Remote-User: admin", http + "/app/get"))
    check(st == 401, f"proxy location unauthenticated: 401 before the backend ({st})")


def main():
    # python3-ntlm-auth needs MD4: OpenSSL's legacy provider, activated through
    # OPENSSL_CONF, which OpenSSL reads when it starts: run again with it set.
    if "GH_TEST_LEGACY_CONF" not in os.environ:
        path = write_legacy_conf()
        env = dict(os.environ, OPENSSL_CONF=path, GH_TEST_LEGACY_CONF=path)
        rc = subprocess.run([sys.executable] + sys.argv, env=env).returncode
        os.unlink(path)
        sys.exit(rc)
    os.environ.pop("OPENSSL_CONF", None)  # read already; the server needs none
    echo = Echo(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    srv = None
    try:
        tmp = GhServer("", https=True)
        store = os.path.join(tmp.dir, "users")
        for user, group in (("alice", "staff"), ("bob", None)):
            argv = [gh_bin(), "passwd", store, "add", user, "--realm", "gatehouse", "--stdin",
                    "--iterations", "20000"]
            if group:
                argv += ["--group", group]
            subprocess.run(argv, input=(PW[user] + "\n").encode(), check=True,
                           capture_output=True)
        conf = f"""
# Many deliberate failures from 127.0.0.1 here; test_backoff checks the
# backoff on a server of its own.
auth_backoff_threshold 1000;
auth_user_store {store};
location /ntlm {{ handler whoami; auth NTLM; }}
location /digest {{ handler whoami; auth Digest; }}
location /basic {{ handler whoami; auth Basic; }}
location /basic-http {{ handler whoami; auth Basic; auth_basic_over_http on; }}
location /staff {{ handler whoami; auth Basic; auth_require group staff; }}
location /app/ {{
    handler proxy;
    proxy_pass http://127.0.0.1:{echo.server_address[1]}/;
    auth NTLM Basic;
    auth_basic_over_http on;
}}
"""
        tmp.write_conf(conf)
        srv = tmp
        with srv:
            test_ntlm(srv, echo.server_address[1])
            test_digest(srv)
            test_digest_stale(store)
            test_backoff(store)
            test_basic(srv)
            test_proxy_identity(srv)
            access = srv.access_log()
            check('"alice"' in access and '"bob"' in access, "access log shows the user")
    finally:
        echo.shutdown()
        echo.server_close()
    if FAILURES:
        print("FAILED: %d check(s)" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
