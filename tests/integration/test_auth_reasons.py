# SPDX-License-Identifier: MIT
"""Every failed authentication says why (issue 11): each fault is provoked for
real, against a throwaway MIT KDC, with real clients (curl, python3-gssapi),
and the test checks the audit line's stable `reason=` code, and for the faults
an administrator must fix, the error log's explanation and hint:

  - Basic checked against Kerberos: wrong password, unknown user;
  - NTLM (curl --ntlm): wrong password, unknown user;
  - a Kerberos token replayed on a second connection, raw and inside SPNEGO
    (the package that failed is named: Kerberos): kerberos_replay;
  - a client clock one hour ahead (the ccache's KDC time offset, as in
    test_auth_clients.py): clock_skew;
  - a ticket for a service the keytab has no key for: kerberos_no_key;
  - that ticket at a location whose auth_service_name is another name (its
    keytab holds both keys): kerberos_wrong_service;
  - a stale keytab (the service re-keyed with kadmin.local after the export):
    kerberos_keytab_kvno with MIT's "kvno ... not found in keytab" and the
    hint to export the keytab again; exporting it again fixes it;
  - the KDC stopped: Basic-over-Kerberos answers 503 with Retry-After, the
    error log says "KDC for realm ... unreachable", and the attempts cost no
    backoff: with auth_backoff_threshold 2, the right password after the KDC
    is back is accepted at once, while from another address two wrong
    passwords do put the address in backoff (429);
  - NTLM without channel bindings at `auth_extended_protection require`:
    bindings_missing;
  - NTLM sent to a Kerberos-only location: ntlm_not_offered;
  - the error log is rate-limited per reason: three wrong passwords in a row
    give one line; the next one after the interval says "(N more suppressed)".

Each fault comes from its own loopback source address (127.0.0.N), so that
the backoff of one cannot hide another."""
import os
import re
import socket
import subprocess
import time

import krb5realm
from authclients import auth_of, check, curl, finish, last_response, send_leg
from ghserver import GhServer, gh_bin
from test_auth_clients import audit_lines, krb5_token, skewed_ccache

PW = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
KRB5 = "1.2.840.113554.1.2.2"
SPNEGO = "1.3.6.1.5.5.2"
RATE_INTERVAL_S = 10  # AUTH_REASON_LOG_INTERVAL_S


def src(n):
    return "127.0.0.%d" % n


def audit_of(audit, n):
    """Audit lines of source address 127.0.0.n."""
    return [l for l in audit_lines(audit) if (" peer=%s:" % src(n)) in l]


def reason_of(line):
    m = re.search(r" reason=(\S+)", line)
    return m.group(1) if m else None


def expect_reason(audit, n, code, what):
    lines = audit_of(audit, n)
    got = [reason_of(l) for l in lines if " result=failure" in l]
    check(code in got, f"{what}: audit reason={code} ({got})")
    return [l for l in lines if reason_of(l) == code]


def log_lines(srv, code):
    return [l for l in srv.stderr().splitlines() if ("auth failure reason=%s:" % code) in l]


def basic(srv, n, user, pw, path="/basic-krb"):
    return last_response(curl(None, "--interface", src(n), "-u", "%s:%s" % (user, pw),
                              srv.url(path)))


def shot(srv, n, path, token):
    sock = socket.create_connection(("127.0.0.1", srv.port()), timeout=20,
                                    source_address=(src(n), 0))
    try:
        st, headers, body, _ = send_leg(sock, path, "Negotiate", token)
        return st, auth_of(body)
    finally:
        sock.close()


def principal_token(spn, ccache=None):
    import gssapi
    store = {"ccache": ccache} if ccache else None
    creds = gssapi.Credentials(usage="initiate", store=store) if store else None
    name = gssapi.Name(spn, gssapi.NameType.kerberos_principal)
    ctx = gssapi.SecurityContext(name=name, usage="initiate", creds=creds,
                                 mech=gssapi.OID.from_int_seq(KRB5))
    return ctx.step()


def test_rate_limit_and_passwords(srv, audit):
    first = time.monotonic()
    for n in (31, 32, 33):
        st, _, _ = basic(srv, n, "alice", "wrong")
        check(st == 401, f"Basic/Kerberos, wrong password from {src(n)}: 401 ({st})")
        expect_reason(audit, n, "wrong_password", "Basic/Kerberos wrong password")
    lines = log_lines(srv, "wrong_password")
    check(len(lines) == 1, f"error log: one wrong_password line for three failures ({len(lines)})")
    check(any("Preauthentication failed" in l or "Decrypt integrity" in l for l in lines),
          f"error log: the KDC's words ({lines})")
    st, _, _ = basic(srv, 34, "nobody", "x")
    check(st == 401, f"Basic/Kerberos, unknown user: 401 ({st})")
    expect_reason(audit, 34, "unknown_user", "Basic/Kerberos unknown user")
    check(any("not found in Kerberos database" in l for l in log_lines(srv, "unknown_user")),
          "error log: unknown_user with the KDC's words")
    # NTLM: the peer is told only "denied"; the server's logs tell them apart
    for n, user, pw, code in ((35, "alice", "wrong", "wrong_password"),
                              (36, "nobody", "x", "unknown_user")):
        st, _, _ = last_response(curl(None, "--interface", src(n), "--ntlm", "-u",
                                      "%s:%s" % (user, pw), srv.url("/ntlm")))
        check(st == 401, f"NTLM {code}: 401 ({st})")
        expect_reason(audit, n, code, f"NTLM {code}")
    # past the interval, the next line counts what was left out
    time.sleep(max(0.0, first + RATE_INTERVAL_S + 1 - time.monotonic()))
    st, _, _ = basic(srv, 37, "alice", "wrong")
    lines = log_lines(srv, "wrong_password")
    m = re.search(r"\((\d+) more suppressed\)", lines[-1]) if len(lines) == 2 else None
    check(m is not None and int(m.group(1)) >= 3,
          f"error log: the next wrong_password line counts the suppressed ones ({lines[-1:]})")


def test_replay_and_skew(srv, realm, audit):
    tok = krb5_token()
    st1, a = shot(srv, 40, "/krb", tok)
    st2, _ = shot(srv, 40, "/krb", tok)
    check(st1 == 200 and a.get("package") == "Kerberos", f"Kerberos token: 200 ({st1})")
    check(st2 == 401, f"the same token on a second connection: 401 ({st2})")
    expect_reason(audit, 40, "kerberos_replay", "replayed authenticator")
    # the same inside SPNEGO: the Kerberos error crosses the Negotiate package
    tok = krb5_token(mech=SPNEGO)
    st1, _ = shot(srv, 42, "/krb", tok)
    st2, _ = shot(srv, 42, "/krb", tok)
    check(st1 == 200 and st2 == 401, f"SPNEGO/Kerberos token twice: 200 then 401 ({st1}, {st2})")
    lines = expect_reason(audit, 42, "kerberos_replay", "SPNEGO: replayed authenticator")
    check(any(" package=Kerberos " in l for l in lines),
          f"audit: the package that failed inside Negotiate is Kerberos ({lines})")
    check(any("Request is a replay" in l for l in log_lines(srv, "kerberos_replay")),
          "error log: MIT's 'Request is a replay'")

    env = dict(realm.env, KRB5CCNAME="FILE:" + skewed_ccache(realm, 3600))
    st, _, _ = last_response(curl(env, "--interface", src(41), "--negotiate", "-u", ":",
                                  srv.url("/krb", host="localhost")))
    check(st == 401, f"client clock 1 h ahead: 401 ({st})")
    expect_reason(audit, 41, "clock_skew", "clock skew")
    check(any("Clock skew too great" in l and "NTP" in l for l in log_lines(srv, "clock_skew")),
          "error log: MIT's 'Clock skew too great' and the hint")
    # by how much: read from the refused authenticator (src/sspi/kerberos/skew.c)
    secs = [int(m.group(1)) for l in log_lines(srv, "clock_skew")
            for m in [re.search(r"the client's clock is (\d+) s ahead of this server's", l)] if m]
    check(bool(secs) and all(3590 <= n <= 3610 for n in secs),
          f"error log: the client's clock is ~3600 s ahead ({secs})")


def test_service_names(srv, realm, audit):
    tok = principal_token("HTTP/otherhost@" + realm.realm)
    st, _ = shot(srv, 50, "/krb", tok)
    check(st == 401, f"ticket for HTTP/otherhost, keytab without it: 401 ({st})")
    expect_reason(audit, 50, "kerberos_no_key", "no key for the service asked for")
    lines = log_lines(srv, "kerberos_no_key")
    check(any("otherhost" in l and "ktadd" in l for l in lines),
          f"error log: names the principal and says to add it ({lines})")
    tok = principal_token("HTTP/otherhost@" + realm.realm)
    st, _ = shot(srv, 51, "/krb-svc", tok)
    check(st == 401, f"ticket for HTTP/otherhost where auth_service_name is HTTP/localhost: "
          f"401 ({st})")
    expect_reason(audit, 51, "kerberos_wrong_service", "ticket for another service name")


def test_stale_keytab(srv, realm, audit):
    realm.kadmin("cpw -randkey HTTP/localhost")  # kvno 2 in the KDC, 1 in the keytab
    cc = os.path.join(realm.dir, "fresh.cc")
    realm.kinit("alice", ccache=cc)
    env = dict(realm.env, KRB5CCNAME="FILE:" + cc)
    url = srv.url("/krb", host="localhost")
    st, _, _ = last_response(curl(env, "--interface", src(60), "--negotiate", "-u", ":", url))
    check(st == 401, f"stale keytab: 401 ({st})")
    expect_reason(audit, 60, "kerberos_keytab_kvno", "stale keytab")
    lines = log_lines(srv, "kerberos_keytab_kvno")
    check(any("not found in keytab" in l and "export it again" in l for l in lines),
          f"error log: MIT's kvno text and the hint ({lines})")
    realm.kadmin(f"ktadd -norandkey -k {realm.keytab} HTTP/localhost")  # what the hint says
    st = 0
    for _ in range(10):  # the server looks at the keytab file at most once a second
        time.sleep(0.5)
        st, _, _ = last_response(curl(env, "--interface", src(61), "--negotiate", "-u", ":", url))
        if st == 200:
            break
    check(st == 200, f"keytab exported again: 200 ({st})")


def test_kdc_down(srv, realm, audit):
    realm.stop()
    try:
        for _ in range(3):
            st, headers, _ = basic(srv, 70, "bob", PW["bob"])
            check(st == 503 and ("Retry-After", "30") in headers,
                  f"KDC stopped: 503 with Retry-After: 30 ({st} {headers})")
        expect_reason(audit, 70, "authority_unreachable", "KDC stopped")
        check(all(" sec_status=0x80090311" in l for l in audit_of(audit, 70)),
              "audit: SEC_E_NO_AUTHENTICATING_AUTHORITY")
        lines = log_lines(srv, "authority_unreachable")
        check(any(("KDC for realm %s unreachable" % realm.realm) in l for l in lines),
              f"error log: the KDC of the realm is unreachable ({lines})")
    finally:
        realm.start_kdc()
    st, _, body = basic(srv, 70, "bob", PW["bob"])
    check(st == 200 and auth_of(body).get("user") == "bob",
          f"KDC back: the right password is accepted at once, no backoff ({st})")
    # the same threshold does apply to wrong passwords
    for _ in range(2):
        basic(srv, 71, "bob", "wrong")
    st, _, _ = basic(srv, 71, "bob", PW["bob"])
    check(st == 429, f"two wrong passwords then the right one: 429 (backoff works) ({st})")


def test_ntlm_faults(srv, audit):
    st, _, _ = last_response(curl(None, "--interface", src(80), "--cacert", srv.ca, "--ntlm",
                                  "-u", "alice:" + PW["alice"],
                                  srv.url("/ntlm-epa", tls=True, host="localhost")))
    check(st == 401, f"curl --ntlm (no channel bindings) at EPA require: 401 ({st})")
    expect_reason(audit, 80, "bindings_missing", "channel bindings missing")
    st, _, _ = last_response(curl(None, "--interface", src(81), "--ntlm", "-u",
                                  "alice:" + PW["alice"], srv.url("/krb")))
    check(st == 401, f"NTLM at a Kerberos-only location: 401 ({st})")
    expect_reason(audit, 81, "ntlm_not_offered", "NTLM at a Kerberos-only location")


def main():
    with krb5realm.Realm(users=PW, services=("HTTP/localhost", "HTTP/otherhost")) as realm:
        # the server's keytab: HTTP/localhost only (otherhost is in the KDC)
        os.unlink(realm.keytab)
        realm.kadmin(f"ktadd -norandkey -k {realm.keytab} HTTP/localhost")
        both = os.path.join(realm.dir, "both.keytab")
        realm.kadmin(f"ktadd -norandkey -k {both} HTTP/localhost HTTP/otherhost")
        os.environ.update(realm.env)  # the server and python3-gssapi read these
        audit = os.path.join(realm.dir, "audit.log")
        srv = GhServer("", https=True)
        store = os.path.join(srv.dir, "users")
        for user in PW:
            subprocess.run([gh_bin(), "passwd", store, "add", user, "--realm", "gatehouse",
                            "--stdin"], input=(PW[user] + "\n").encode(), check=True,
                           capture_output=True)
        srv.write_conf(f"""
auth_audit_log {audit};
auth_backoff_threshold 2;
auth_keytab {realm.keytab};
location /krb {{ handler whoami; auth Negotiate; auth_persist_kerberos off; }}
location /krb-svc {{
    handler whoami;
    auth Negotiate;
    auth_keytab {both};
    auth_service_name HTTP/localhost;
}}
location /basic-krb {{
    handler whoami;
    auth Basic;
    auth_basic_kerberos on;
    auth_basic_over_http on;
}}
location /ntlm {{ handler whoami; auth NTLM; auth_user_store {store}; }}
location /ntlm-epa {{
    handler whoami;
    auth NTLM;
    auth_user_store {store};
    auth_extended_protection require;
}}
""")
        try:
            with srv:
                test_rate_limit_and_passwords(srv, audit)
                test_replay_and_skew(srv, realm, audit)
                test_service_names(srv, realm, audit)
                test_stale_keytab(srv, realm, audit)
                test_kdc_down(srv, realm, audit)
                test_ntlm_faults(srv, audit)
        finally:
            srv.cleanup()
    finish()


if __name__ == "__main__":
    main()
