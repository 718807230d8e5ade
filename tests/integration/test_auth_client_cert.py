# SPDX-License-Identifier: MIT
"""Client certificates as a way to log on (issue 7, "Mapping a certificate to
a user"), with curl --cert against the real server, a throwaway KDC and a
Python backend behind the proxy. PKI made here with the openssl CLI:
  alice  (RSA, root CA)           msUPN alice@gatehouse.test -> `upn` rule -> alice@GATEHOUSE.TEST
  carl   (ECDSA, OU=Contractors)  `deny` rule: 403 alone, Negotiate's 401 with `auth Certificate Negotiate`
  dave   (ECDSA, OU=Sales)        many-to-one: issuer + subject.O -> user "employee"
  frank  (RSA, via intermediate)  many-to-one too; sent with its intermediate (Client-Cert-Chain)
  pinned (self-signed, untrusted) fingerprint=SHA-256 -> user "bob" (CertFlags != 0 still maps)
  eve    (self-signed, untrusted) carries alice's UPN: must NOT map (unverified chain)
Checked: whoami JSON (type ClientCertificate, package Schannel, user, domain,
principal, groups, token), the access log user, audit lines, auth_require
group, certificate-else-Negotiate with curl --negotiate after kinit, the
proxy's Client-Cert / Client-Cert-Chain (RFC 9440 byte sequences compared
with the DER) and a client's forged Client-Cert stripped (option on and off),
and a SIGHUP reload that changes a rule."""
import base64
import hashlib
import http.server
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

import krb5realm
from apachehttpd import free_port
from ghserver import GhServer, gh_bin

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def run(*argv, stdin=None):
    subprocess.run(list(argv), check=True, capture_output=True, timeout=60, input=stdin)


def key_args(kind):
    return (["-newkey", "rsa:2048"] if kind == "rsa" else
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])


def make_pki(d):
    p = {}
    ext_ca = os.path.join(d, "ca.ext")
    with open(ext_ca, "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    p["ca"], p["ca_key"] = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    run("openssl", "req", "-x509", *key_args("rsa"), "-nodes", "-keyout", p["ca_key"], "-out",
        p["ca"], "-days", "2", "-subj", "/O=Example/CN=gatehouse test CA")
    # An intermediate CA signed by the root.
    inter_csr = os.path.join(d, "inter.csr")
    p["inter"], p["inter_key"] = os.path.join(d, "inter.pem"), os.path.join(d, "inter.key")
    run("openssl", "req", *key_args("ec"), "-nodes", "-keyout", p["inter_key"], "-out", inter_csr,
        "-subj", "/O=Example/CN=gatehouse test intermediate")
    run("openssl", "x509", "-req", "-in", inter_csr, "-CA", p["ca"], "-CAkey", p["ca_key"],
        "-CAcreateserial", "-out", p["inter"], "-days", "2", "-extfile", ext_ca)

    def leaf(name, kind, subj, signer, san=None):
        key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
            if san:
                f.write("subjectAltName=" + san + "\n")
        if signer is None:  # self-signed
            run("openssl", "req", "-x509", *key_args(kind), "-nodes", "-keyout", key, "-out", crt,
                "-days", "2", "-subj", subj, "-extensions", "v3", "-config", cnf(ext))
        else:
            run("openssl", "req", *key_args(kind), "-nodes", "-keyout", key, "-out", csr,
                "-subj", subj)
            run("openssl", "x509", "-req", "-in", csr, "-CA", p[signer], "-CAkey",
                p[signer + "_key"], "-CAcreateserial", "-out", crt, "-days", "2",
                "-extfile", ext)
        p[name], p[name + "_key"] = crt, key

    def cnf(ext):
        path = ext + ".cnf"
        with open(ext) as f:
            body = f.read()
        with open(path, "w") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n[v3]\n" + body)
        return path

    upn = "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@gatehouse.test"
    leaf("alice", "rsa", "/O=Example/OU=Staff/CN=Alice Example", "ca", upn)
    leaf("carl", "ec", "/O=Example/OU=Contractors/CN=carl", "ca")
    leaf("dave", "ec", "/O=Example/OU=Sales/CN=dave", "ca")
    leaf("frank", "rsa", "/O=Example/OU=Sales/CN=frank", "inter")
    leaf("pinned", "ec", "/CN=pinned device", None)
    leaf("eve", "ec", "/O=Example/OU=Staff/CN=eve", None, upn)
    # frank presents his intermediate: leaf then intermediate in one file.
    p["frank_chain"] = os.path.join(d, "frank-chain.pem")
    with open(p["frank_chain"], "w") as out:
        for part in (p["frank"], p["inter"]):
            with open(part) as f:
                out.write(f.read())
    return p


def der_of(pem):
    return subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"], check=True,
                          capture_output=True).stdout


def curl(*args, env=None):
    r = subprocess.run(["curl", "-s", "-k", "-i", "--max-time", "20"] + list(args), env=env,
                       capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def last_response(text):
    parts = re.split(r"(?m)^(?=HTTP/1\.1 \d{3})", text)
    found = [x for x in parts if x.startswith("HTTP/")]
    if not found:
        return 0, {}, ""
    head, _, body = found[-1].partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers.setdefault(k.strip().lower(), []).append(v.strip())
    return int(lines[0].split(" ")[1]), headers, body


def auth_of(body):
    try:
        return json.loads(body)["auth"]
    except (ValueError, KeyError):
        return {}


class Echo(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        out = json.dumps({"headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def backend_headers(body):
    try:
        return [(k.lower(), v) for k, v in json.loads(body)["headers"]]
    except (ValueError, KeyError):
        return []


def sf_binary(der):
    return ":" + base64.b64encode(der).decode() + ":"


RULES = """
    auth_cert_map fingerprint={pin} user=bob;
    auth_cert_map subject.OU=Contractors {carl_action};
    auth_cert_map issuer.CN=gatehouse~test~CA upn;
    auth_cert_map "issuer.CN=gatehouse test CA" subject.O=Example user=employee;
    auth_cert_map "issuer.CN=gatehouse test intermediate" subject.O=Example user=employee;
"""


def config(p, store, audit, realm, echo_port, carl_action="deny"):
    pin = hashlib.sha256(der_of(p["pinned"])).hexdigest()
    # '~' is not special in the config: the quoted form is the documented one.
    # frank's leaf fits, his chain does not
    small = len(sf_binary(der_of(p["frank"]))) + 8
    rules = RULES.format(pin=pin, carl_action=carl_action).replace(
        "issuer.CN=gatehouse~test~CA", '"issuer.CN=gatehouse test CA"')
    return f"""
tls_client_ca {p['ca']};
tls_client_verify optional_no_ca;
auth_audit_log {audit};
auth_keytab {realm.keytab};
auth_user_store {store};
auth_local_realm GATEHOUSE.TEST;
location /cert/ {{ handler whoami; tls_client_certificate negotiate; auth Certificate; {rules} }}
location /staff/ {{ handler whoami; tls_client_certificate negotiate; auth Certificate;
    auth_require group staff; {rules} }}
location /either/ {{ handler whoami; tls_client_certificate negotiate;
    auth Certificate Negotiate; {rules} }}
location /app/ {{ handler proxy; proxy_pass http://127.0.0.1:{echo_port}/;
    proxy_client_cert chain; tls_client_certificate negotiate; auth Certificate; {rules} }}
location /anon/ {{ handler whoami; tls_client_certificate negotiate; auth Certificate;
    auth_anonymous on; {rules} }}
location /small/ {{ handler proxy; proxy_pass http://127.0.0.1:{echo_port}/;
    proxy_client_cert chain; proxy_client_cert_max {small}; tls_client_certificate negotiate; }}
location /tiny/ {{ handler proxy; proxy_pass http://127.0.0.1:{echo_port}/;
    proxy_client_cert on; proxy_client_cert_max 1024; tls_client_certificate negotiate; }}
location /plain/ {{ handler proxy; proxy_pass http://127.0.0.1:{echo_port}/; }}
"""


def wait_for(srv, text, start, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in srv.stderr()[start:]:
            return True
        time.sleep(0.05)
    return False


def main():
    tmp = tempfile.mkdtemp(prefix="gh-certmap-")
    p = make_pki(tmp)
    echo = Echo(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    with krb5realm.Realm(users={"alice": "alice-pw-1", "bob": "bob-pw-2"}) as realm:
        os.environ.update(realm.env)
        env = dict(realm.env)
        store = os.path.join(tmp, "users")
        for user, group in (("alice", "staff"), ("employee", "sales"), ("bob", None)):
            argv = [gh_bin(), "passwd", store, "add", user, "--realm", "gatehouse", "--stdin"]
            if group:
                argv += ["--group", group]
            run(*argv, stdin=b"unused-password-1\n")
        audit = os.path.join(tmp, "audit.log")
        conf = config(p, store, audit, realm, echo.server_address[1])
        with GhServer(conf, https=True) as srv:
            base = "https://localhost:%d" % srv.port(tls=True)

            def get(path, who=None, *extra, chain=False):
                args = []
                if who:
                    args += ["--cert", p[who + "_chain"] if chain else p[who],
                             "--key", p[who + "_key"]]
                return last_response(curl(*args, *extra, base + path, env=env))

            # UPN -> Kerberos principal (TLS 1.3 post-handshake auth)
            st, _, body = get("/cert/x", "alice")
            a = auth_of(body)
            check(st == 200 and a.get("type") == "ClientCertificate" and
                  a.get("status") == "success",
                  f"alice (UPN): 200, type ClientCertificate ({st}, {a.get('type')})")
            check(a.get("user") == "alice" and a.get("domain") == "GATEHOUSE.TEST" and
                  a.get("principal") == "alice@GATEHOUSE.TEST",
                  f"UPN mapped to the principal ({a.get('user')}, {a.get('principal')})")
            check(a.get("package") == "Schannel" and a.get("has_access_token") is True and
                  a.get("groups") == ["staff"],
                  f"package Schannel, access token, store groups ({a.get('package')}, "
                  f"{a.get('groups')})")
            # same over TLS 1.2 (renegotiation)
            st, _, body = get("/cert/x", "alice", "--tls-max", "1.2")
            check(st == 200 and auth_of(body).get("user") == "alice",
                  f"alice over TLS 1.2 renegotiation: 200 ({st})")
            # many-to-one, two issuers (frank sends his intermediate)
            st, _, body = get("/cert/x", "dave")
            check(st == 200 and auth_of(body).get("user") == "employee" and
                  auth_of(body).get("groups") == ["sales"],
                  f"dave: many-to-one to employee ({st}, {auth_of(body).get('user')})")
            st, _, body = get("/cert/x", "frank", chain=True)
            check(st == 200 and auth_of(body).get("user") == "employee",
                  f"frank via the intermediate: employee ({st}, {auth_of(body).get('user')})")
            # one-to-one fingerprint on an untrusted self-signed certificate
            st, _, body = get("/cert/x", "pinned")
            check(st == 200 and auth_of(body).get("user") == "bob",
                  f"pinned fingerprint: bob ({st}, {auth_of(body).get('user')})")
            # eve: alice's UPN on an unverified certificate maps to nobody
            st, _, body = get("/cert/x", "eve")
            check(st == 403, f"eve (unverified, alice's UPN): 403 ({st})")
            # deny
            st, _, _ = get("/cert/x", "carl")
            check(st == 403, f"carl (deny rule): 403 ({st})")
            st, _, _ = get("/cert/x")
            check(st == 403, f"no certificate, Certificate only: 403 ({st})")
            # what the application sees: the record and gh_client_cert (whoami)
            st, _, body = get("/anon/x", "carl")
            a, c = auth_of(body), (json.loads(body).get("client_cert") or {}) if st == 200 else {}
            check(st == 200 and a.get("status") == "failure" and
                  a.get("type") == "ClientCertificate" and
                  a.get("sec_status_name") == "SEC_E_LOGON_DENIED",
                  f"anonymous + denied carl: record failure SEC_E_LOGON_DENIED ({st}, "
                  f"{a.get('status')}, {a.get('sec_status_name')})")
            check(c.get("denied_by_mapper") is True and c.get("has_token") is False and
                  "CN=carl" in (c.get("subject") or ""),
                  f"gh_client_cert: CertDeniedByMapper set, no token ({c})")
            st, _, body = get("/anon/x", "dave")
            c = (json.loads(body).get("client_cert") or {}) if st == 200 else {}
            check(st == 200 and c.get("has_token") is True and c.get("denied_by_mapper") is False
                  and c.get("flags") == 0, f"gh_client_cert: mapped dave has the token ({c})")
            st, _, body = get("/anon/x", "eve")
            a = auth_of(body)
            c = (json.loads(body).get("client_cert") or {}) if st == 200 else {}
            check(st == 200 and a.get("sec_status_name") == "SEC_E_UNKNOWN_CREDENTIALS" and
                  c.get("flags", 0) != 0 and c.get("denied_by_mapper") is False,
                  f"anonymous + unverified eve: SEC_E_UNKNOWN_CREDENTIALS, CertFlags "
                  f"{c.get('flags')} ({st}, {a.get('sec_status_name')})")
            # auth_require group
            st, _, _ = get("/staff/x", "alice")
            check(st == 200, f"auth_require group staff, alice: 200 ({st})")
            st, _, _ = get("/staff/x", "dave")
            check(st == 403, f"auth_require group staff, dave (employee): 403 ({st})")

            # Certificate, else Negotiate
            st, _, body = get("/either/x", "dave")
            check(st == 200 and auth_of(body).get("type") == "ClientCertificate",
                  f"either + dave: the certificate logs on ({st})")
            st, h, _ = get("/either/x")
            check(st == 401 and h.get("www-authenticate") == ["Negotiate"],
                  f"either without certificate: 401 Negotiate ({st}, {h.get('www-authenticate')})")
            st, h, _ = get("/either/x", "carl")
            check(st == 401 and h.get("www-authenticate") == ["Negotiate"],
                  f"either + denied carl: Negotiate's 401 ({st})")
            st, _, body = get("/either/x", "carl", "--negotiate", "-u", ":")
            a = auth_of(body)
            check(st == 200 and a.get("type") == "Negotiate" and a.get("user") == "alice",
                  f"either + carl + curl --negotiate (kinit alice): Negotiate as alice "
                  f"({st}, {a.get('type')}, {a.get('user')})")
            st, _, body = get("/either/x", None, "--negotiate", "-u", ":")
            check(st == 200 and auth_of(body).get("type") == "Negotiate",
                  f"either, no certificate, curl --negotiate: 200 ({st})")

            # The proxy: RFC 9440 fields, and a forged Client-Cert stripped.
            forged = ["-H", "Client-Cert: :Zm9yZ2Vk:", "-H", "Client-Cert-Chain: :Zm9yZ2Vk:",
                      "-H", "Client_Cert: :Zm9yZ2Vk:"]
            st, _, body = get("/app/x", "frank", *forged, chain=True)
            hs = backend_headers(body)
            certs = [v for k, v in hs if k == "client-cert"]
            chains = [v for k, v in hs if k == "client-cert-chain"]
            check(st == 200 and certs == [sf_binary(der_of(p["frank"]))],
                  f"proxy: Client-Cert is frank's DER as :base64: ({st}, {len(certs)} field(s))")
            check(chains == [sf_binary(der_of(p["inter"]))],
                  f"proxy: Client-Cert-Chain is the intermediate ({len(chains)} field(s))")
            check(not any(k == "client_cert" for k, _ in hs), "proxy: Client_Cert variant dropped")
            users = [v for k, v in hs if k == "x-remote-user"]
            types = [v for k, v in hs if k == "x-remote-auth-type"]
            check(users == ["employee"] and types == ["ClientCert"],
                  f"proxy: X-Remote-User employee, auth type ClientCert ({users}, {types})")
            st, _, body = get("/app/x", "dave", *forged)
            hs = backend_headers(body)
            check([v for k, v in hs if k == "client-cert"] == [sf_binary(der_of(p["dave"]))] and
                  not any(k == "client-cert-chain" for k, _ in hs),
                  "proxy: dave sent no intermediate: Client-Cert only")
            st, _, body = get("/plain/x", None, *forged)
            hs = backend_headers(body)
            check(st == 200 and not any(k in ("client-cert", "client-cert-chain", "client_cert")
                                        for k, _ in hs),
                  f"proxy without proxy_client_cert: forged Client-Cert* stripped ({st})")

            # proxy_client_cert_max: the chain left out, then the leaf itself
            mark = len(srv.stderr())
            st, _, body = get("/small/x", "frank", chain=True)
            hs = backend_headers(body)
            check(st == 200 and [v for k, v in hs if k == "client-cert"] ==
                  [sf_binary(der_of(p["frank"]))] and
                  not any(k == "client-cert-chain" for k, _ in hs),
                  "proxy_client_cert_max: leaf sent, chain over the limit left out")
            big = len(sf_binary(der_of(p["alice"])))
            st, _, body = get("/tiny/x", "alice")
            hs = backend_headers(body)
            check(big > 1024 and st == 200 and not any(k == "client-cert" for k, _ in hs),
                  f"proxy_client_cert_max 1024: a {big}-byte value is not sent ({st})")
            check(wait_for(srv, "exceeds proxy_client_cert_max", mark),
                  "proxy_client_cert_max: warnings logged")

            # access log user and audit lines
            time.sleep(0.3)
            log = srv.access_log()
            check(re.search(r'"GET /cert/x HTTP/1\.1" 200 .* "alice"$', log, re.M) is not None,
                  "access log names alice for the certificate logon")
            with open(audit) as f:
                lines = f.read()
            check(re.search(r"scheme=Certificate package=Schannel principal=alice@GATEHOUSE\.TEST"
                            r" result=success", lines) is not None,
                  "audit: Certificate success line for alice")
            check(re.search(r"scheme=Certificate .*result=failure sec_status=0x8009030c .*"
                            r"reason=cert_denied reason_text=\"denied by auth_cert_map rule 2\"", lines) is not None,
                  "audit: carl denied by rule 2 (SEC_E_LOGON_DENIED)")

            # SIGHUP: carl's rule becomes user=contractor
            mark = len(srv.stderr())
            srv.write_conf(config(p, store, audit, realm, echo.server_address[1],
                                  carl_action="user=contractor"))
            srv.signal(signal.SIGHUP)
            check(wait_for(srv, "configuration reloaded", mark), "SIGHUP: reloaded")
            st, _, body = get("/cert/x", "carl")
            check(st == 200 and auth_of(body).get("user") == "contractor",
                  f"after reload carl maps to contractor ({st}, {auth_of(body).get('user')})")
            srv.assert_alive()

        # error_log at warn: no "client certificate negotiated" line is written,
        # so nothing reads the record before the mapping and the proxy do: it
        # is made on their first gh_request_client_cert (made on first use).
        with GhServer(conf, https=True, error_level="warn", tls_port=free_port()) as srv:
            base = "https://localhost:%d" % srv.port(tls=True)
            st, _, body = get("/cert/x", "alice")
            check(st == 200 and auth_of(body).get("user") == "alice",
                  f"error_log warn: alice's certificate maps to alice ({st})")
            st, _, body = get("/app/x", "frank", chain=True)
            hs = backend_headers(body)
            check(st == 200 and [v for k, v in hs if k == "client-cert"] ==
                  [sf_binary(der_of(p["frank"]))] and
                  [v for k, v in hs if k == "client-cert-chain"] ==
                  [sf_binary(der_of(p["inter"]))],
                  f"error_log warn: Client-Cert and Client-Cert-Chain as sent ({st})")
            check("client certificate negotiated" not in srv.stderr(),
                  "error_log warn: no certificate audit line")
            srv.assert_alive()
    echo.shutdown()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
