# SPDX-License-Identifier: MIT
"""NTLM through the domain controller (issue 9): `auth_ntlm_backend winbind`
against a real Samba AD DC (tests/harness/sambadc.py), with real clients.

  - curl --ntlm as CORP\\carol: 200, whoami names CORP\\carol, her SID and
    her group SIDs (Domain Users first, Engineers, and Staff through the
    nested group), named through winbind with auth_group_names winbind;
  - python3-requests-ntlm over HTTPS (channel bindings) as CORP\\carol: 200;
  - a wrong password: 401, audit SEC_E_LOGON_DENIED;
  - dave (disabled) and erin (must change her password): 401 with the
    audit reasons "account disabled" / "password must change";
  - the UPN spelling frank.upn@corp.test (no domain): 200 as CORP\\frank;
  - auth_require group with the Staff SID, or CORP\\Staff by name: carol
    (nested member) 200, frank 403;
  - a tampered MIC (python3-ntlm-auth's AUTHENTICATE with one MIC byte
    flipped, on a raw socket): 401 although the DC accepts the response;
  - gatehouse fetch --auth ntlm as CORP\\carol: 200;
  - Negotiate falling back to NTLM (gss-ntlmssp inside SPNEGO, no ticket):
    the location's winbind back end answers, 200 as CORP\\carol;
  - the DC stopped in the middle: NTLM through winbind fails with
    SEC_E_NO_AUTHENTICATING_AUTHORITY, an error-log line says what to check,
    and the other locations (the built-in store, no auth) still answer.
"""
import base64
import os
import re
import struct
import subprocess
import tempfile

import ghskip
import sambadc
from authclients import (auth_of, check, curl, finish, last_response,
                         reexec_with_legacy_openssl, send_leg)
from ghserver import GhServer, gh_bin

SPNEGO = "1.3.6.1.5.5.2"
NTLMSSP = "1.3.6.1.4.1.311.2.2.10"
PW = sambadc.USERS
ALICE_PW = "alice-pw-1"  # a user of the built-in store, not of the domain
MIC_OFFSET = 72  # MS-NLMP 2.2.1.3: after the 8-byte Version


def audit_tail(path, seen):
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    out = lines[seen[0]:]
    seen[0] = len(lines)
    return "\n".join(out)


def curl_ntlm(srv, path, user, password):
    st, _, body = last_response(curl(None, "--ntlm", "-u", f"{user}:{password}",
                                     srv.url(path, host="localhost")))
    return st, auth_of(body)


def requests_ntlm(srv, path, user, password):
    import requests
    from requests_ntlm import HttpNtlmAuth
    url = "https://localhost:%d%s" % (srv.port(tls=True), path)
    r = requests.get(url, auth=HttpNtlmAuth(user, password), verify=srv.ca, timeout=30)
    return r.status_code, auth_of(r.text)


def raw_ntlm(srv, path, user, domain, password, tamper_mic=False):
    """python3-ntlm-auth's three messages on one raw connection; with
    tamper_mic, one byte of the AUTHENTICATE's MIC is flipped."""
    from ntlm_auth.ntlm import NtlmContext
    ctx = NtlmContext(user, password, domain=domain, workstation="TESTWS")
    sock = srv.connect()
    try:
        st, _, _, challenge = send_leg(sock, path, "NTLM", ctx.step())
        if st != 401 or challenge is None:
            return st, {}, False
        auth = bytearray(ctx.step(challenge))
        has_mic = ctx._authenticate_message is not None and \
            getattr(ctx._authenticate_message, "mic", None) is not None
        if tamper_mic:
            auth[MIC_OFFSET + 3] ^= 0x40
        st, _, body, _ = send_leg(sock, path, "NTLM", bytes(auth))
        return st, auth_of(body), has_mic
    finally:
        sock.close()


def spnego_ntlm(srv, path, tmpdir, user, password):
    """A python3-gssapi SPNEGO initiator whose only mechanism is gss-ntlmssp
    (no Kerberos ticket): Negotiate that ends in NTLM."""
    import gssapi
    users = os.path.join(tmpdir, "ntlm_users")
    with open(users, "w") as f:
        f.write("CORP:%s:%s\n" % (user, password))
    os.environ["NTLM_USER_FILE"] = users
    try:
        cred = gssapi.Credentials(name=gssapi.Name("CORP\\" + user, gssapi.NameType.user),
                                  usage="initiate", mechs=[gssapi.OID.from_int_seq(NTLMSSP)])
        name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
        ctx = gssapi.SecurityContext(name=name, usage="initiate", creds=cred,
                                     mech=gssapi.OID.from_int_seq(SPNEGO))
        sock = srv.connect()
        try:
            st, _, body, out = send_leg(sock, path, "Negotiate", ctx.step())
            legs = 1
            while st == 401 and out is not None and not ctx.complete and legs < 4:
                st, _, body, out = send_leg(sock, path, "Negotiate", ctx.step(out))
                legs += 1
            return st, auth_of(body)
        finally:
            sock.close()
    finally:
        os.environ.pop("NTLM_USER_FILE", None)


def fetch_ntlm(srv, path, user, password):
    r = subprocess.run([gh_bin(), "fetch", "--timeout", "30", "--auth", "ntlm", "-u",
                        f"{user}:{password}", srv.url(path, host="localhost")],
                       capture_output=True, timeout=90)
    err = r.stderr.decode(errors="replace")
    check("AddressSanitizer" not in err and "runtime error" not in err,
          "gatehouse fetch: no sanitizer report")
    return r.returncode, auth_of(r.stdout.decode(errors="replace"))


def test_logons(srv, dc, audit, seen, groups):
    st, a = curl_ntlm(srv, "/ntlm", "CORP\\carol", PW["carol"])
    got = a.get("groups") or []
    check(st == 200 and a.get("type") == "NTLM" and a.get("user") == "carol" and
          a.get("domain") == "CORP",
          f"curl --ntlm CORP\\carol through winbind: 200 as CORP\\carol "
          f"({st}, {a.get('domain')}\\{a.get('user')})")
    check(a.get("principal") == "carol@CORP.TEST",
          f"... principal as Kerberos would name her ({a.get('principal')})")
    check(a.get("user_sid") == dc.user_sid("carol") and a.get("logon_domain") == "CORP",
          f"... her SID from the DC ({a.get('user_sid')}, {a.get('logon_domain')})")
    sids = [g.get("sid") for g in a.get("group_sids") or []]
    check(groups["Domain Users"] == sids[0] if sids else False,
          f"... primary group first: Domain Users ({sids[:1]})")
    check(groups["Engineers"] in sids and groups["Staff"] in sids,
          f"... group SIDs: Engineers and Staff through the nested group ({sids})")
    check(groups["Finance"] not in sids, "... but not Finance")
    # Names as winbindd gives them. Quirk: after a network logon, the DC's
    # winbindd names the account's groups without their domain, in lower
    # case ("staff"), where the same lookup after a Kerberos logon gives
    # "CORP\\Staff" (tests/integration/test_ad_negotiate.py).
    low = [g.lower().rsplit("\\", 1)[-1] for g in got]
    check("engineers" in low and "staff" in low and not any(g.startswith("S-1-") for g in got),
          f"... auth_group_names winbind: the groups by name ({got})")
    lines = audit_tail(audit, seen)
    check("result=success" in lines and "package=NTLM" in lines,
          "audit: NTLM success through winbind")

    st, a = requests_ntlm(srv, "/ntlm", "CORP\\carol", PW["carol"])
    check(st == 200 and a.get("user") == "carol" and a.get("domain") == "CORP",
          f"python3-requests-ntlm (HTTPS, channel bindings) CORP\\carol: 200 ({st})")

    st, a = curl_ntlm(srv, "/ntlm", "CORP\\carol", "not-her-password")
    lines = audit_tail(audit, seen)
    check(st == 401, f"wrong password: 401 ({st})")
    check("sec_status=0x8009030c" in lines.lower() and "result=failure" in lines
          and " reason=wrong_password " in lines,
          f"... audit SEC_E_LOGON_DENIED, reason wrong_password ({lines.strip()[-300:]})")

    st, _ = curl_ntlm(srv, "/ntlm", "CORP\\dave", PW["dave"])
    lines = audit_tail(audit, seen)
    check(st == 401, f"disabled user dave: 401 ({st})")
    check(' reason=account_disabled ' in lines and "0x8009030c" in lines.lower(),
          f"... audit: SEC_E_LOGON_DENIED, reason account disabled ({lines.strip()[-300:]})")

    st, _ = curl_ntlm(srv, "/ntlm", "CORP\\erin", PW["erin"])
    lines = audit_tail(audit, seen)
    check(st == 401, f"user erin whose password must change: 401 ({st})")
    check(' reason=password_expired ' in lines
          and "0x8009030c" in lines.lower(),
          f"... audit: SEC_E_LOGON_DENIED, reason password must change / expired "
          f"({lines.strip()[-300:]})")

    # The UPN spelling: NTLM carries it as the user name with no domain; the
    # DC resolves it (MS-NLMP 3.2.5.1.2 leaves it to the DC).
    st, a = curl_ntlm(srv, "/ntlm", sambadc.UPN, PW["frank"])
    check(st == 200 and a.get("user") == "frank" and a.get("domain") == "CORP",
          f"curl --ntlm {sambadc.UPN} (UPN, empty domain): 200 as CORP\\frank "
          f"({st}, {a.get('domain')}\\{a.get('user')})")
    st, a = curl_ntlm(srv, "/ntlm", "CORP\\frank", PW["frank"])
    check(st == 200 and a.get("user") == "frank",
          f"curl --ntlm CORP\\frank (sAMAccountName): 200 ({st})")
    # auth_require group with a SID: Staff holds carol through Engineers.
    st, a = curl_ntlm(srv, "/staff", "CORP\\carol", PW["carol"])
    check(st == 200, f"auth_require group <Staff SID>: carol (nested member) 200 ({st})")
    check(groups["Staff"] in (a.get("groups") or []),
          "... without auth_group_names the groups are the SIDs")
    st, _ = curl_ntlm(srv, "/staff", "CORP\\frank", PW["frank"])
    check(st == 403, f"... frank (not a member) 403 ({st})")
    st, _ = curl_ntlm(srv, "/staff-name", "CORP\\carol", PW["carol"])
    check(st == 200, f"auth_require group Staff (by name): carol 200 ({st})")
    st, _ = curl_ntlm(srv, "/staff-name", "CORP\\frank", PW["frank"])
    check(st == 403, f"... frank 403 ({st})")
    st, _ = curl_ntlm(srv, "/staff-domain", "CORP\\carol", PW["carol"])
    check(st == 200, f"auth_require group CORP\\Staff: carol 200 ({st})")
    audit_tail(audit, seen)


def test_mic(srv, audit, seen):
    st, a, has_mic = raw_ntlm(srv, "/ntlm", "carol", "CORP", PW["carol"])
    check(has_mic, "python3-ntlm-auth sends a MIC (our CHALLENGE has a timestamp)")
    check(st == 200 and a.get("user") == "carol", f"python3-ntlm-auth, untouched: 200 ({st})")
    st, _, _ = raw_ntlm(srv, "/ntlm", "carol", "CORP", PW["carol"], tamper_mic=True)
    lines = audit_tail(audit, seen)
    check(st == 401, f"the same with one MIC byte flipped: 401 ({st})")
    check("0x8009030c" in lines.lower(), "... audit SEC_E_LOGON_DENIED")


def test_fetch_and_negotiate(srv, dc, tmpdir, audit, seen):
    rc, a = fetch_ntlm(srv, "/ntlm", "CORP\\carol", PW["carol"])
    check(rc == 0 and a.get("user") == "carol" and a.get("domain") == "CORP",
          f"gatehouse fetch --auth ntlm as CORP\\carol: 200 ({rc}, {a.get('user')})")
    saved = os.environ.get("KRB5CCNAME")
    os.environ["KRB5CCNAME"] = "FILE:" + os.path.join(tmpdir, "no-tickets")
    try:
        st, a = spnego_ntlm(srv, "/nego", tmpdir, "carol", PW["carol"])
        check(st == 200 and a.get("type") == "Negotiate" and a.get("package") == "NTLM" and
              a.get("user") == "carol" and a.get("domain") == "CORP",
              f"Negotiate -> NTLM (gss-ntlmssp, no ticket) through winbind: 200 as CORP\\carol "
              f"({st}, {a.get('type')}/{a.get('package')}, {a.get('domain')}\\{a.get('user')})")
        st, a = spnego_ntlm(srv, "/nego", tmpdir, "carol", "wrong")
        check(st == 401, f"... with a wrong password: 401 ({st})")
    finally:
        if saved is None:
            os.environ.pop("KRB5CCNAME", None)
        else:
            os.environ["KRB5CCNAME"] = saved
    audit_tail(audit, seen)


def announced_domain(srv, path):
    """MsvAvNbDomainName (AvId 2) of the TargetInfo of the NTLM CHALLENGE the
    location answers a NEGOTIATE with (MS-NLMP 2.2.1.2: TargetInfoFields at
    offset 40; 2.2.2.1: AV_PAIRs, UTF-16LE values)."""
    from ntlm_auth.ntlm import NtlmContext
    ctx = NtlmContext("carol", PW["carol"], domain="CORP", workstation="TESTWS")
    sock = srv.connect()
    try:
        st, _, _, ch = send_leg(sock, path, "NTLM", ctx.step())
    finally:
        sock.close()
    if st != 401 or ch is None or len(ch) < 48 or ch[:8] != b"NTLMSSP\0":
        return None
    length, _, offset = struct.unpack_from("<HHI", ch, 40)
    info, pos = ch[offset:offset + length], 0
    while pos + 4 <= len(info):
        av_id, av_len = struct.unpack_from("<HH", info, pos)
        if av_id == 0:  # MsvAvEOL
            break
        if av_id == 2:  # MsvAvNbDomainName
            return info[pos + 4:pos + 4 + av_len].decode("utf-16-le")
        pos += 4 + av_len
    return None


def test_domain_from_winbind(srv):
    check(announced_domain(srv, "/ntlm") == "CORP",
          "auth_ntlm_domain CORP: the CHALLENGE announces CORP")
    got = announced_domain(srv, "/ntlm-auto")
    check(got == "CORP", f"no auth_ntlm_domain, winbind back end: winbind's domain CORP ({got})")
    got = announced_domain(srv, "/store")
    check(got == "GATEHOUSE", f"no auth_ntlm_domain, the store: GATEHOUSE ({got})")


def doctor_lines(srv, check_name):
    """gatehouse doctor on the server's configuration: its lines for check_name."""
    r = subprocess.run([gh_bin(), "doctor", "--config", srv.conf_path], capture_output=True,
                       text=True, timeout=120)
    return [l for l in r.stdout.splitlines() if l.split()[1:2] == [check_name]]


def test_doctor(srv):
    lines = doctor_lines(srv, "winbind") + doctor_lines(srv, "winbind-dc")
    check(len(lines) == 2 and all(l.startswith("OK") for l in lines) and "CORP" in lines[0],
          f"doctor: winbindd answers for CORP, and so does its DC ({lines})")


def test_dc_stopped(srv, dc, audit, seen):
    dc.stop()
    lines = doctor_lines(srv, "winbind")
    check(len(lines) == 1 and lines[0].startswith("FAIL") and "wbinfo -p" in lines[0],
          f"doctor, DC and winbindd stopped: FAIL winbind with what to do ({lines})")
    st, _ = curl_ntlm(srv, "/ntlm", "CORP\\carol", PW["carol"])
    lines = audit_tail(audit, seen)
    # SEC_E_NO_AUTHENTICATING_AUTHORITY: 503 (Retry-After), no backoff penalty
    check(st == 503, f"DC stopped: NTLM through winbind answers 503 ({st})")
    check("sec_status=0x80090311" in lines.lower() and " reason=authority_unreachable " in lines,
          f"... audit SEC_E_NO_AUTHENTICATING_AUTHORITY ({lines.strip()[-300:]})")
    log = srv.stderr()
    check(re.search(r"winbindd.*(/run/samba/winbindd|wbinfo)", log) is not None,
          "... an error-log line says what to check (winbindd, its socket)")
    st, a = curl_ntlm(srv, "/store", "alice", ALICE_PW)
    check(st == 200 and a.get("user") == "alice",
          f"... the store's NTLM location still serves ({st})")
    st, _, body = last_response(curl(None, srv.url("/open", host="localhost")))
    check(st == 200, f"... and a location without auth too ({st})")
    srv.assert_alive()


def domain_groups(dc):
    out = {}
    for g in ("Domain Users", "Engineers", "Staff", "Finance"):
        r = dc.wbinfo("-n", "CORP\\" + g)
        out[g] = r.stdout.split()[0]
    return out


def main():
    for tool, pkg in (("samba", "samba"), ("samba-tool", "samba-ad-provision"),
                      ("wbinfo", "winbind"), ("curl", "curl")):
        try:
            sambadc._tool(tool)
        except FileNotFoundError:
            ghskip.missing_peer(f"{tool} not found", pkg)
    reexec_with_legacy_openssl()  # MD4 for python3-ntlm-auth
    # libnss_winbind's own leak (see the file), reached through the token's
    # NSS lookup of CORP\carol once winbindd answers.
    os.environ["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
        os.path.dirname(os.path.abspath(ghskip.__file__)), "lsan.supp")
    tmpdir = tempfile.mkdtemp(prefix="gh-ad-ntlm-")
    cache = os.path.join(os.environ.get("GH_BUILD") or tempfile.gettempdir(), "sambadc-cache")
    with sambadc.DomainController(cache_dir=cache) as dc:
        os.environ.update(dc.env)  # krb5.conf for the Negotiate location's keytab
        groups = domain_groups(dc)
        audit = os.path.join(tmpdir, "audit.log")
        srv = GhServer("", https=True)
        store = os.path.join(srv.dir, "users")
        subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                        "--stdin"], input=(ALICE_PW + "\n").encode(), check=True,
                       capture_output=True)
        srv.write_conf(f"""
auth_audit_log {audit};
auth_backoff_threshold 1000;
location /ntlm {{
    handler whoami;
    auth NTLM;
    auth_ntlm_backend winbind;
    auth_ntlm_domain CORP;
    auth_group_names winbind;
}}
location /staff-name {{
    handler whoami;
    auth NTLM;
    auth_ntlm_backend winbind;
    auth_ntlm_domain CORP;
    auth_group_names winbind;
    auth_require group Staff;
}}
location /staff-domain {{
    handler whoami;
    auth NTLM;
    auth_ntlm_backend winbind;
    auth_ntlm_domain CORP;
    auth_group_names winbind;
    auth_require group CORP\\Staff;
}}
location /nego {{
    handler whoami;
    auth Negotiate;
    auth_keytab {dc.keytab};
    auth_ntlm_backend winbind;
    auth_ntlm_domain CORP;
}}
location /staff {{
    handler whoami;
    auth NTLM;
    auth_ntlm_backend winbind;
    auth_ntlm_domain CORP;
    auth_require group {groups["Staff"]};
}}
location /ntlm-auto {{ handler whoami; auth NTLM; auth_ntlm_backend winbind; }}
location /store {{ handler whoami; auth NTLM; auth_user_store {store}; }}
location /open {{ handler whoami; }}
""")
        seen = [0]
        try:
            with srv:
                test_logons(srv, dc, audit, seen, groups)
                test_mic(srv, audit, seen)
                test_fetch_and_negotiate(srv, dc, tmpdir, audit, seen)
                test_domain_from_winbind(srv)
                test_doctor(srv)
                test_dc_stopped(srv, dc, audit, seen)
        finally:
            srv.cleanup()
    finish()


if __name__ == "__main__":
    main()
