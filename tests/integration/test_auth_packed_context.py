# SPDX-License-Identifier: MIT
"""The packed context a module gets from gh_request_auth() (auth_packed_context,
exported when the record is first read since the handshake no longer exports
it): a module (tests/tools/packed_probe.so) imports it with
ImportSecurityContext and queries the imported context (SECPKG_ATTR_NAMES,
LIFESPAN), for Kerberos (the Kerberos scheme and Negotiate, from the ccache),
NTLM on a fresh handshake (gatehouse fetch; python3-ntlm-auth on a raw
socket) and on a later request of the NTLM keep-alive connection
(TOKEN_FOR_CACHED_CRED), and Kerberos persisted with auth_persist_kerberos
(fresh; a later request of that connection has none: the connection keeps the
identity, not the Kerberos context).
gh_request_auth_identity() read first shows no packed context: nothing was
exported before gh_request_auth() asked. With auth_packed_context off there
is none."""
import os
import re
import subprocess

import krb5realm
from authclients import check, finish, reexec_with_legacy_openssl, send_leg
from ghserver import GhServer, gh_bin

PW = {"alice": "alice-pw-1"}
PROBE = os.path.abspath(os.path.join(os.environ.get("GH_BUILD", "build"), "tests", "tools",
                                     "packed_probe.so"))


def parse(body):
    """The probe's line as a dict of strings ({} when it is not the probe's)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return dict(re.findall(r"(\w+)=(\S+)", body)) if "import=" in body else {}


def imported(p, user, what):
    """The packed context was exported on the read, imported, and queried."""
    check(p.get("identity_len") == "0",
          f"{what}: nothing exported before gh_request_auth() ({p.get('identity_len')})")
    check(int(p.get("len", "0")) > 40, f"{what}: gh_request_auth() has a packed context "
          f"({p.get('len')})")
    check(p.get("import") == "0x00000000", f"{what}: ImportSecurityContext accepts it "
          f"({p.get('import')})")
    check(p.get("names") == "0x00000000" and user in p.get("user", ""),
          f"{what}: SECPKG_ATTR_NAMES of the imported context names {user} ({p.get('user')})")
    check(p.get("lifespan") == "0x00000000" and p.get("expiry_set") == "1",
          f"{what}: SECPKG_ATTR_LIFESPAN ({p.get('lifespan')})")
    check(p.get("same") == "1", f"{what}: a second gh_request_auth() gives the same bytes")


def fetch(env, *args):
    r = subprocess.run([gh_bin(), "fetch", "--timeout", "20"] + list(args), env=env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode(errors="replace")
    check("Sanitizer" not in err and "runtime error" not in err, "fetch: no sanitizer report")
    return r.returncode, r.stdout.decode(errors="replace"), err


def ntlm_keepalive(srv, path):
    """NTLM on one raw connection (python3-ntlm-auth), then a request without
    Authorization on the same connection: the probe's lines of both."""
    from ntlm_auth.ntlm import NtlmContext
    c = NtlmContext("alice", PW["alice"], domain="", workstation="TEST", ntlm_compatibility=3)
    sock = srv.connect()
    try:
        st, _, _, challenge = send_leg(sock, path, "NTLM", c.step())
        check(st == 401 and challenge is not None, f"raw NTLM leg 1: 401 CHALLENGE ({st})")
        st, _, body, _ = send_leg(sock, path, "NTLM", c.step(challenge))
        check(st == 200, f"raw NTLM leg 2: 200 ({st})")
        fresh = parse(body)
        st, _, body, _ = send_leg(sock, path, "NTLM", None)
        check(st == 200, f"keep-alive request without Authorization: 200 ({st})")
        return fresh, parse(body)
    finally:
        sock.close()


def main():
    reexec_with_legacy_openssl()  # python3-ntlm-auth needs MD4
    check(os.path.exists(PROBE), f"the probe module is built ({PROBE})")
    with krb5realm.Realm(users=dict(PW)) as realm:
        os.environ.update(realm.env)  # the server reads its keytab through these
        store = os.path.join(realm.dir, "users")
        subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                        "--iterations", "20000", "--stdin"], input=(PW["alice"] + "\n").encode(),
                       check=True, capture_output=True)
        conf = f"""
load_module packed_probe {PROBE};
auth_keytab {realm.keytab};
auth_user_store {store};
auth_audit_log {os.path.join(realm.dir, "audit.log")};
location /krb {{ handler packed_probe; auth Kerberos; }}
location /neg {{ handler packed_probe; auth Negotiate; }}
location /krb-persist {{ handler packed_probe; auth Kerberos; auth_persist_kerberos on; }}
location /ntlm {{ handler packed_probe; auth NTLM; }}
location /ntlm-off {{ handler packed_probe; auth NTLM; auth_packed_context off; }}
"""
        env = dict(realm.env)  # alice's ccache from kinit
        env.pop("NTLM_USER_FILE", None)
        no_ticket = dict(env, KRB5CCNAME="FILE:" + os.path.join(realm.dir, "none.ccache"))
        with GhServer(conf) as srv:
            base = "http://localhost:%d" % srv.port()
            for path, scheme in (("/krb", "kerberos"), ("/neg", "negotiate")):
                rc, out, err = fetch(env, "--auth", scheme, base + path)
                check(rc == 0, f"{scheme}: 200 ({rc}, {err.strip()[-200:]})")
                imported(parse(out), "alice@" + realm.realm, f"Kerberos ({scheme}), fresh")

            rc, out, err = fetch(no_ticket, "--auth", "ntlm", "-u", "alice:" + PW["alice"],
                                 base + "/ntlm")
            check(rc == 0, f"ntlm (fetch): 200 ({rc}, {err.strip()[-200:]})")
            imported(parse(out), "alice", "NTLM (fetch), fresh")

            fresh, later = ntlm_keepalive(srv, "/ntlm")
            check(fresh.get("cached") == "0", "raw NTLM: the handshake's request is not cached")
            imported(fresh, "alice", "NTLM (raw), fresh")
            check(later.get("cached") == "1", "keep-alive request: TOKEN_FOR_CACHED_CRED")
            imported(later, "alice", "NTLM keep-alive, later request")

            # auth_persist_kerberos on: a later request of the connection.
            import gssapi
            ctx = gssapi.SecurityContext(
                name=gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service),
                usage="initiate", mech=gssapi.MechType.kerberos)
            sock = srv.connect()
            try:
                st, _, body, _ = send_leg(sock, "/krb-persist", "Kerberos", ctx.step())
                check(st == 200, f"raw Kerberos (persisted): 200 ({st})")
                imported(parse(body), "alice@" + realm.realm, "Kerberos persisted, fresh")
                st, _, body, _ = send_leg(sock, "/krb-persist", "Kerberos", None)
                p = parse(body)
                check(st == 200 and p.get("cached") == "0",
                      f"persisted Kerberos identity serves the next request ({st})")
                # The connection keeps the identity, not the MIT context: no
                # packed context on later requests (as before it was lazy).
                check(p.get("len") == "0",
                      f"Kerberos persisted, later request: no packed context ({p.get('len')})")
            finally:
                sock.close()

            fresh, later = ntlm_keepalive(srv, "/ntlm-off")
            check(fresh.get("len") == "0" and later.get("len") == "0"
                  and fresh.get("import") == "0x80090308",
                  f"auth_packed_context off: no packed context ({fresh}, {later})")
    finish()


if __name__ == "__main__":
    main()
