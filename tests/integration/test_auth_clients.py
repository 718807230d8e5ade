# SPDX-License-Identifier: MIT
"""Server-side authentication (issue 4) with the real clients nobody here wrote,
against one throwaway KDC and the built-in user store:

  - python3-requests-ntlm over HTTPS with Extended Protection `require` (it
    sends channel bindings): 200; the same NTLM client with wrong bindings:
    refused; curl --ntlm (sends none): refused;
  - gss-ntlmssp as the initiator through MIT SPNEGO (python3-gssapi, an
    NTLM_USER_FILE and no Kerberos credentials) against Negotiate: 200 with
    package NTLM; its second leg sent on another connection does not continue
    the handshake; a wrong password: 401;
  - python3-requests-kerberos with delegation and mutual authentication: the
    record names a delegated ccache; it is removed when the request ends;
  - failures: wrong password per scheme (NTLM, SPNEGO/NTLM, Basic checked
    against Kerberos), clock skew (a client clock one hour ahead: SEC_E_TIME_SKEW),
    a replayed Kerberos Authorization on a new connection, 403 for a user the
    location does not allow.

Clock skew without faketime: MIT keeps a "KDC time offset" in the FILE ccache
header (tag 1, DeltaTime) and every library call that reads the ccache adds
it to the local clock. The test takes a service ticket first (the KDC would
refuse a skewed TGS request), then sets the offset to +3600 s: the client's
authenticator is one hour in the future, beyond the acceptor's 300 s. The same
ccache with +60 s must pass, which shows the trick and not a broken ccache
causes the failure.

The auth engine backs off an address after 5 failures in a row; every
failure here is followed by a success before the count matters (a success
clears it)."""
import base64
import glob
import os
import struct
import subprocess
import time

import krb5realm
from authclients import (auth_of, check, curl, finish, last_response, reexec_with_legacy_openssl,
                         send_leg)
from ghserver import GhServer, gh_bin

PW = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
SPNEGO = "1.3.6.1.5.5.2"
NTLMSSP = "1.3.6.1.4.1.311.2.2.10"
KRB5 = "1.2.840.113554.1.2.2"


def audit_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return []


def new_audit(path, seen):
    """Audit lines written since the last call (seen: a one-element list)."""
    lines = audit_lines(path)
    out = lines[seen[0]:]
    seen[0] = len(lines)
    return "\n".join(out)


# ---------------------------------------------------------------- NTLM

def requests_ntlm_get(url, user, password, ca):
    import requests
    from requests_ntlm import HttpNtlmAuth
    r = requests.get(url, auth=HttpNtlmAuth(user, password), verify=ca, timeout=20)
    return r.status_code, auth_of(r.text)


def ntlm_wrong_bindings(srv, path):
    """python3-ntlm-auth with channel bindings for another certificate."""
    from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
    from ntlm_auth.ntlm import NtlmContext
    cb = GssChannelBindingsStruct()
    cb[cb.APPLICATION_DATA] = b"tls-server-end-point:" + b"\x5a" * 32
    ctx = NtlmContext("alice", PW["alice"], domain="", workstation="TEST", cbt_data=cb,
                      ntlm_compatibility=3)
    sock = srv.connect(tls=True)
    try:
        st, _, _, challenge = send_leg(sock, path, "NTLM", ctx.step())
        if st != 401 or challenge is None:
            return st
        st, _, _, _ = send_leg(sock, path, "NTLM", ctx.step(challenge))
        return st
    finally:
        sock.close()


def test_ntlm_epa(srv, audit, seen):
    url = "https://localhost:%d/ntlm-epa" % srv.port(tls=True)
    st, a = requests_ntlm_get(url, "alice", PW["alice"], srv.ca)
    check(st == 200 and a.get("type") == "NTLM" and a.get("user") == "alice",
          f"requests-ntlm, HTTPS, EPA require: 200 as alice ({st}, {a.get('type')})")
    lines = new_audit(audit, seen)
    check("scheme=NTLM" in lines and "cb=offered" in lines and "result=success" in lines,
          "audit: NTLM success with cb=offered")
    st = ntlm_wrong_bindings(srv, "/ntlm-epa")
    check(st == 401, f"NTLM with bindings of another certificate: refused ({st})")
    check("reason=bindings_mismatch" in new_audit(audit, seen),
          "audit: reason=bindings_mismatch (issue 11)")
    st, a = requests_ntlm_get(url, "alice", PW["alice"], srv.ca)  # clears the failure
    check(st == 200, f"requests-ntlm again: 200 ({st})")
    st, _, _ = last_response(curl(None, "--cacert", srv.ca, "--ntlm", "-u",
                                  "alice:" + PW["alice"], url))
    check(st == 401, f"curl --ntlm (no channel bindings), EPA require: refused ({st})")
    st, a = requests_ntlm_get(url.replace("ntlm-epa", "ntlm-allow"), "alice", PW["alice"],
                              srv.ca)
    check(st == 200, f"requests-ntlm, EPA allow: 200 ({st})")
    st, _, _ = last_response(curl(None, "--cacert", srv.ca, "--ntlm", "-u",
                                  "alice:" + PW["alice"],
                                  url.replace("ntlm-epa", "ntlm-allow")))
    check(st == 200, f"curl --ntlm, EPA allow (bindings optional): 200 ({st})")
    st, _ = requests_ntlm_get(url, "alice", "not-her-password", srv.ca)
    check(st == 401, f"requests-ntlm, wrong password: 401 ({st})")
    lines = new_audit(audit, seen)
    check("result=failure" in lines and "sec_status=0x8009030c" in lines.lower(),
          "audit: wrong NTLM password is SEC_E_LOGON_DENIED")
    st, a = requests_ntlm_get(url.replace("ntlm-epa", "bobonly"), "alice", PW["alice"], srv.ca)
    check(st == 403, f"requests-ntlm as alice where only bob may pass: 403 ({st})")
    st, a = requests_ntlm_get(url.replace("ntlm-epa", "bobonly"), "bob", PW["bob"], srv.ca)
    check(st == 200 and a.get("user") == "bob", f"... and bob: 200 ({st})")


# ---------------------------------------------------------------- SPNEGO/NTLM

def ntlmssp_context(realm, user, password):
    """A python3-gssapi SPNEGO initiator whose only mechanism is gss-ntlmssp."""
    import gssapi
    users = os.path.join(realm.dir, "ntlm_users")
    with open(users, "w") as f:
        f.write("GATEHOUSE:%s:%s\n" % (user, password))
    os.environ["NTLM_USER_FILE"] = users
    cred = gssapi.Credentials(name=gssapi.Name("GATEHOUSE\\" + user, gssapi.NameType.user),
                              usage="initiate", mechs=[gssapi.OID.from_int_seq(NTLMSSP)])
    name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    return gssapi.SecurityContext(name=name, usage="initiate", creds=cred,
                                  mech=gssapi.OID.from_int_seq(SPNEGO))


def spnego_ntlm(srv, realm, password, cross=False):
    """Runs SPNEGO/NTLM against /nego on one connection. With cross, the second
    leg is first sent on another connection. Returns (status, record, cross status)."""
    ctx = ntlmssp_context(realm, "alice", password)
    sock = srv.connect()
    cross_st = None
    try:
        st, _, body, out = send_leg(sock, "/nego", "Negotiate", ctx.step())
        legs = 1
        while st == 401 and out is not None and not ctx.complete and legs < 4:
            tok = ctx.step(out)
            if cross and legs == 1:
                other = srv.connect()
                try:
                    cross_st, _, _, _ = send_leg(other, "/nego", "Negotiate", tok)
                finally:
                    other.close()
            st, _, body, out = send_leg(sock, "/nego", "Negotiate", tok)
            legs += 1
        return st, auth_of(body), cross_st
    finally:
        sock.close()


def test_spnego_ntlm(srv, realm):
    saved = os.environ.get("KRB5CCNAME")
    os.environ["KRB5CCNAME"] = "FILE:" + os.path.join(realm.dir, "no-tickets")
    try:
        st, a, _ = spnego_ntlm(srv, realm, PW["alice"])
        check(st == 200 and a.get("package") == "NTLM" and a.get("type") == "Negotiate" and
              a.get("user") == "alice",
              f"gss-ntlmssp via SPNEGO, no Kerberos: 200, Negotiate/NTLM as alice "
              f"({st}, {a.get('type')}/{a.get('package')}, {a.get('user')})")
        st, a, cross_st = spnego_ntlm(srv, realm, PW["alice"], cross=True)
        check(cross_st == 401, f"SPNEGO/NTLM second leg on another connection: not continued "
              f"({cross_st})")
        check(st == 200 and a.get("package") == "NTLM",
              f"... and the handshake still completes on its own connection ({st})")
        st, a, _ = spnego_ntlm(srv, realm, "not-her-password")
        check(st == 401, f"gss-ntlmssp via SPNEGO, wrong password: 401 ({st})")
        st, a, _ = spnego_ntlm(srv, realm, PW["alice"])  # clears the failure count
        check(st == 200, f"gss-ntlmssp via SPNEGO again: 200 ({st})")
    finally:
        os.environ.pop("NTLM_USER_FILE", None)
        if saved is not None:
            os.environ["KRB5CCNAME"] = saved


# ---------------------------------------------------------------- Kerberos

def test_delegation(srv, realm, ccdir):
    import requests
    from requests_kerberos import REQUIRED, HTTPKerberosAuth
    auth = HTTPKerberosAuth(mutual_authentication=REQUIRED, delegate=True)
    r = requests.get("http://localhost:%d/deleg" % srv.port(), auth=auth, timeout=20)
    a = auth_of(r.text)
    cc = a.get("delegated_ccache") or ""
    check(r.status_code == 200 and a.get("principal") == "alice@" + realm.realm,
          f"requests-kerberos, mutual auth required, delegate: 200 as alice ({r.status_code})")
    check(a.get("delegated") is True and cc.startswith("FILE:" + ccdir + "/cc_"),
          f"the record names a delegated ccache ({cc!r})")
    gone = False
    for _ in range(40):
        if cc and not os.path.exists(cc[5:]):
            gone = True
            break
        time.sleep(0.05)
    check(gone and glob.glob(os.path.join(ccdir, "cc_*")) == [],
          "delegated ccache removed when the request ended")
    r = requests.get("http://localhost:%d/deleg" % srv.port(),
                     auth=HTTPKerberosAuth(mutual_authentication=REQUIRED), timeout=20)
    a = auth_of(r.text)
    check(r.status_code == 200 and a.get("delegated_ccache") is None and
          a.get("delegated") is False, f"without delegation: no ccache ({r.status_code})")


def krb5_token(env_ccache=None, mech=KRB5):
    import gssapi
    name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, usage="initiate", mech=gssapi.OID.from_int_seq(mech),
                                 flags=gssapi.RequirementFlag.mutual_authentication)
    return ctx.step()


def one_shot(srv, path, token):
    sock = srv.connect()
    try:
        st, _, body, _ = send_leg(sock, path, "Negotiate", token)
        return st, auth_of(body)
    finally:
        sock.close()


def test_replay(srv, realm, audit, seen):
    for mech, label in ((KRB5, "raw Kerberos"), (SPNEGO, "SPNEGO/Kerberos")):
        tok = krb5_token(mech=mech)
        st1, a = one_shot(srv, "/krb", tok)
        st2, _ = one_shot(srv, "/krb", tok)
        check(st1 == 200 and a.get("package") == "Kerberos",
              f"{label} token, first use: 200 ({st1})")
        check(st2 == 401, f"{label} token replayed on a new connection: 401 ({st2})")
        lines = new_audit(audit, seen)
        check("result=failure" in lines, "audit: the replay is a failure")
        st, _ = one_shot(srv, "/krb", krb5_token(mech=mech))  # clears the failure count
        check(st == 200, f"a fresh {label} token: 200 ({st})")


def skewed_ccache(realm, offset_s):
    """alice's TGT and a ticket for HTTP/localhost in a new FILE ccache whose
    KDC time offset (header tag 1, DeltaTime) is offset_s."""
    path = os.path.join(realm.dir, "skew%d.cc" % offset_s)
    realm.kinit("alice", ccache=path)
    subprocess.run(["kvno", "-q", "-c", path, "HTTP/localhost"], env=realm.env, check=True,
                   capture_output=True, timeout=30)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    version, header_len = struct.unpack_from(">HH", data, 0)
    tag, tag_len = struct.unpack_from(">HH", data, 4)
    if version != 0x0504 or header_len < 12 or tag != 1 or tag_len != 8:
        raise AssertionError("unexpected ccache header %s" % data[:16].hex())
    struct.pack_into(">ii", data, 8, offset_s, 0)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_clock_skew(srv, realm, audit, seen):
    url = "http://localhost:%d/krb" % srv.port()
    for offset, want in ((60, 200), (3600, 401)):
        env = dict(realm.env, KRB5CCNAME="FILE:" + skewed_ccache(realm, offset))
        st, _, _ = last_response(curl(env, "--negotiate", "-u", ":", url))
        check(st == want, f"client clock {offset} s ahead (acceptor allows 300 s): {want} ({st})")
    lines = new_audit(audit, seen)
    check("sec_status=0x80090324" in lines.lower(), "audit: SEC_E_TIME_SKEW for the 1 h skew")
    st, _, _ = last_response(curl(realm.env, "--negotiate", "-u", ":", url))
    check(st == 200, f"clock in sync again: 200 ({st})")


def test_basic_kerberos(srv):
    url = "https://localhost:%d/basic-krb" % srv.port(tls=True)
    st, _, body = last_response(curl(None, "--cacert", srv.ca, "-u", "bob:" + PW["bob"], url))
    a = auth_of(body)
    check(st == 200 and a.get("type") == "Basic" and a.get("user") == "bob",
          f"Basic with a Kerberos password: 200 as bob ({st})")
    st, _, _ = last_response(curl(None, "--cacert", srv.ca, "-u", "bob:wrong", url))
    check(st == 401, f"Basic with a wrong Kerberos password: 401 ({st})")
    st, _, _ = last_response(curl(None, "--cacert", srv.ca, "-u", "bob:" + PW["bob"], url))
    check(st == 200, f"Basic with the right Kerberos password again: 200 ({st})")


def main():
    reexec_with_legacy_openssl()  # MD4 for python3-ntlm-auth
    with krb5realm.Realm(users=PW) as realm:
        os.environ.update(realm.env)  # the server and python3-gssapi read these
        ccdir = os.path.join(realm.dir, "deleg")
        os.makedirs(ccdir, mode=0o700)
        audit = os.path.join(realm.dir, "audit.log")
        srv = GhServer("", https=True)
        store = os.path.join(srv.dir, "users")
        for user in PW:
            subprocess.run([gh_bin(), "passwd", store, "add", user, "--realm", "gatehouse",
                            "--stdin"], input=(PW[user] + "\n").encode(), check=True,
                           capture_output=True)
        srv.write_conf(f"""
auth_audit_log {audit};
# This test makes many deliberate failures from 127.0.0.1 to check other
# things; the backoff itself is checked in tests/unit/auth.
auth_backoff_threshold 1000;
auth_keytab {realm.keytab};
auth_user_store {store};
location /ntlm-epa {{ handler whoami; auth NTLM; auth_extended_protection require; }}
location /ntlm-allow {{ handler whoami; auth NTLM; auth_extended_protection allow; }}
location /bobonly {{ handler whoami; auth NTLM; auth_require user bob; }}
location /nego {{ handler whoami; auth Negotiate; }}
location /krb {{ handler whoami; auth Negotiate; auth_persist_kerberos off; }}
location /deleg {{
    handler whoami;
    auth Negotiate;
    auth_delegation on;
    auth_ccache_dir {ccdir};
}}
location /basic-krb {{ handler whoami; auth Basic; auth_basic_kerberos on; }}
""")
        seen = [0]
        try:
            with srv:
                test_ntlm_epa(srv, audit, seen)
                test_spnego_ntlm(srv, realm)
                test_delegation(srv, realm, ccdir)
                new_audit(audit, seen)
                test_replay(srv, realm, audit, seen)
                test_clock_skew(srv, realm, audit, seen)
                test_basic_kerberos(srv)
        finally:
            srv.cleanup()
    finish()


if __name__ == "__main__":
    main()
