# SPDX-License-Identifier: MIT
"""Server-side Negotiate/Kerberos (issue 4) against a real KDC and real clients:
curl --negotiate after kinit (record in whoami, mutual token in the 200),
delegation into a per-request ccache removed when the request ends, Extended
Protection `require` (curl sends no bindings: refused; python3-gssapi with
tls-server-end-point bindings: accepted), a forged token, no ticket, and an
application-independent re-challenge on a fresh connection."""
import base64
import glob
import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import time

import krb5realm
from ghserver import GhServer, read_response

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def curl(env, *args):
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "20"] + list(args), env=env,
                       capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def last_response(text):
    """Status, headers (list of (name, value)) and body of the last response of curl -i."""
    parts = re.split(r"(?m)^(?=HTTP/1\.1 \d{3})", text)
    last = [p for p in parts if p.startswith("HTTP/")][-1]
    head, _, body = last.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
    return status, headers, body


def auth_of(body):
    try:
        return json.loads(body)["auth"]
    except (ValueError, KeyError):
        return {}


def main():
    with krb5realm.Realm(users={"alice": "alice-pw-1", "bob": "bob-pw-2"}) as realm:
        os.environ.update(realm.env)  # the server reads the keytab through these
        ccdir = os.path.join(realm.dir, "deleg")
        os.makedirs(ccdir, mode=0o700)
        audit = os.path.join(realm.dir, "audit.log")
        conf = f"""
auth_audit_log {audit};
auth_keytab {realm.keytab};
location /whoami {{
    handler whoami;
    auth Negotiate;
}}
location /deleg {{
    handler whoami;
    auth Negotiate;
    auth_delegation on;
    auth_ccache_dir {ccdir};
}}
location /epa {{
    handler whoami;
    auth Negotiate;
    auth_extended_protection require;
}}
location /bobonly {{
    handler whoami;
    auth Negotiate;
    auth_require user bob;
}}
"""
        with GhServer(conf, https=True) as srv:
            env = dict(realm.env)
            base = f"http://localhost:{srv.port()}"
            # 1. curl --negotiate after kinit
            status, headers, body = last_response(
                curl(env, "--negotiate", "-u", ":", base + "/whoami"))
            a = auth_of(body)
            check(status == 200, f"curl --negotiate: 200 ({status})")
            check(a.get("principal") == f"alice@{realm.realm}", f"principal {a.get('principal')}")
            check(a.get("package") == "Kerberos", f"package {a.get('package')}")
            check(a.get("type") == "Negotiate", f"auth type {a.get('type')}")
            check(a.get("user") == "alice" and a.get("domain") == realm.realm, "user and realm")
            check(a.get("has_access_token") is True, "access token present")
            check(a.get("mutual_auth") is True, "context attributes have ASC_RET_MUTUAL_AUTH")
            mutual = [v for n, v in headers if n.lower() == "www-authenticate"]
            check(len(mutual) == 1 and mutual[0].startswith("Negotiate ") and len(mutual[0]) > 20,
                  f"mutual-auth token in the 200: {mutual}")
            check(a.get("mutual_auth_data") is None, "mutual data not handed to the app by default")
            check(a.get("delegated_ccache") is None, "nothing delegated without --delegation")

            # 2. challenge without credentials lists Negotiate
            status, headers, _ = last_response(curl(env, base + "/whoami"))
            check(status == 401 and ("WWW-Authenticate", "Negotiate") in headers,
                  f"initial 401 offers Negotiate ({status})")

            # 3. no ticket: curl cannot answer, stays 401
            noenv = dict(env, KRB5CCNAME="FILE:" + os.path.join(realm.dir, "empty.cc"))
            status, _, _ = last_response(curl(noenv, "--negotiate", "-u", ":", base + "/whoami"))
            check(status == 401, f"no ticket: 401 ({status})")

            # 4. forged token: 401 again (fresh challenges), not 200
            forged = base64.b64encode(b"\x60\x20\x06\x06\x2b\x06\x01\x05\x05\x02" + b"A" * 24)
            status, _, _ = last_response(curl(env, "-H", "Authorization: Negotiate " +
                                              forged.decode(), base + "/whoami"))
            check(status == 401, f"forged Negotiate token: 401 ({status})")

            # 5. authorization rules: alice is not bob -> 403
            status, _, _ = last_response(curl(env, "--negotiate", "-u", ":", base + "/bobonly"))
            check(status == 403, f"auth_require user bob, alice: 403 ({status})")

            # 6. delegation: a per-request ccache, gone when the request ends
            status, _, body = last_response(curl(env, "--negotiate", "-u", ":", "--delegation",
                                                 "always", base + "/deleg"))
            a = auth_of(body)
            cc = a.get("delegated_ccache") or ""
            check(status == 200 and cc.startswith("FILE:" + ccdir + "/cc_"),
                  f"delegated ccache named in the record: {cc!r}")
            check(a.get("delegated") is True, "ASC_RET_DELEGATE in the context attributes")
            gone = False
            for _ in range(40):
                if cc and not os.path.exists(cc[5:]):
                    gone = True
                    break
                time.sleep(0.05)
            check(gone, "delegated ccache removed when the request ended")
            check(glob.glob(os.path.join(ccdir, "cc_*")) == [], "no ccache left behind")

            # 7. Extended Protection require over HTTPS
            tls = f"https://localhost:{srv.port(tls=True)}"
            status, _, _ = last_response(curl(env, "--cacert", srv.ca, "--negotiate", "-u", ":",
                                              tls + "/epa"))
            check(status == 401, f"EPA require, curl (no bindings): refused ({status})")
            status, _, _ = last_response(curl(env, "--negotiate", "-u", ":", base + "/epa"))
            check(status == 401, f"EPA require on plain HTTP: refused ({status})")
            st, a = gssapi_with_bindings(srv, realm, "/epa", good=True)
            check(st == 200 and a.get("principal") == f"alice@{realm.realm}",
                  f"EPA require, python3-gssapi with tls-server-end-point: 200 ({st})")
            st, _ = gssapi_with_bindings(srv, realm, "/epa", good=False)
            check(st == 401, f"EPA require, wrong bindings: refused ({st})")

        with open(audit) as f:
            lines = f.read()
        check("scheme=Negotiate package=Kerberos principal=alice@" in lines and
              "result=success" in lines, "audit line for the success")
        check("delegation=yes" in lines, "audit line says delegation=yes")
        check("result=denied" in lines, "audit line for the 403")
    if FAILURES:
        print("FAILED: %d check(s)" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


def gssapi_with_bindings(srv, realm, path, good):
    """One Negotiate round trip on one TLS connection with python3-gssapi, binding
    tls-server-end-point (SHA-256 of the server certificate: ECDSA-with-SHA256)."""
    import gssapi
    ctx = ssl.create_default_context(cafile=srv.ca)
    sock = srv.connect(tls=True)
    try:
        der = sock.getpeercert(binary_form=True)
        digest = hashlib.sha256(der).digest() if good else b"\x00" * 32
        cb = gssapi.raw.ChannelBindings(application_data=b"tls-server-end-point:" + digest)
        spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
        name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
        sc = gssapi.SecurityContext(name=name, usage="initiate", mech=spnego,
                                    channel_bindings=cb)
        tok = sc.step()
        for _ in range(3):
            req = ("GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Negotiate %s\r\n\r\n"
                   % (path, base64.b64encode(tok).decode()))
            sock.sendall(req.encode())
            status, headers, body = read_response(sock)
            if status != 401:
                return status, auth_of(body.decode())
            www = headers.get("www-authenticate", "")
            if not www.startswith("Negotiate ") or sc.complete:
                return status, {}
            tok = sc.step(base64.b64decode(www.split(" ", 1)[1]))
        return status, {}
    finally:
        sock.close()
    del ctx


if __name__ == "__main__":
    main()
