# SPDX-License-Identifier: MIT
"""Negotiate (SPNEGO) package against a real KDC: ours<->ours, ours<->MIT's
SPNEGO (python3-gssapi), raw Kerberos tokens into our Negotiate acceptor, and
SPNEGO/NTLM end to end with gss-ntlmssp through MIT's SPNEGO, both ways."""
import base64
import os
import sys

import krb5realm
from krbpipe import SEC_E, GssSide, ToolSide, handshake, tool_path

FAILURES = []
SPNEGO = "1.3.6.1.5.5.2"
NTLM = "1.3.6.1.4.1.311.2.2.10"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def err_code(status):
    return status[1] if isinstance(status, tuple) else None


def nego(mode, args, env):
    return ToolSide(mode, ["--package", "Negotiate"] + args, env)


def test_ours(realm):
    ini = nego("init", ["--target", "HTTP/localhost", "--flags", "mutual"], realm.env)
    acc = nego("accept", ["--keytab", realm.keytab], realm.env)
    ist, ast = handshake(ini, acc)
    check(ist == "OK" and ast == "OK", f"Negotiate/Kerberos ours<->ours ({ist}, {ast})")
    if ast == "OK":
        check(acc.ok_fields[1] == f"alice@{realm.realm}", "client name")
        check(acc.ok_fields[3] == "Kerberos", "NEGOTIATION_INFO reports Kerberos")
        check(ini.ok_fields[3] == "Kerberos", "initiator NEGOTIATION_INFO reports Kerberos")
    ini.close()
    acc.close()
    # delegation through Negotiate
    path = os.path.join(realm.dir, "nego-deleg.ccache")
    ini = nego("init", ["--target", "HTTP/localhost", "--flags", "mutual,delegate"], realm.env)
    acc = nego("accept", ["--keytab", realm.keytab, "--store-delegated", path], realm.env)
    ist, ast = handshake(ini, acc)
    check(ast == "OK" and os.path.exists(path), "delegated ccache through Negotiate")
    ini.close()
    acc.close()
    # bindings mismatch surfaces through Negotiate
    ini = nego("init", ["--target", "HTTP/localhost", "--cb", "01"], realm.env)
    acc = nego("accept", ["--keytab", realm.keytab, "--cb", "02"], realm.env)
    ist, ast = handshake(ini, acc)
    check(err_code(ast) == SEC_E["SEC_E_BAD_BINDINGS"], f"wrong bindings {ast}")
    ini.close()
    acc.close()
    # garbage in: clean failure
    acc = nego("accept", ["--keytab", realm.keytab], realm.env)
    _, st = acc.leg(b"\x60\x03\x06\x01\x00garbage")
    check(err_code(st) == SEC_E["SEC_E_INVALID_TOKEN"], f"garbage token {st}")
    acc.close()
    # a raw Kerberos token (no SPNEGO) into the Negotiate acceptor
    ini = ToolSide("init", ["--package", "Kerberos", "--target", "HTTP/localhost",
                            "--flags", "mutual"], realm.env)
    acc = nego("accept", ["--keytab", realm.keytab], realm.env)
    ist, ast = handshake(ini, acc)
    check(ist == "OK" and ast == "OK", f"raw Kerberos token accepted by Negotiate ({ist}, {ast})")
    ini.close()
    acc.close()


def test_mit(realm):
    os.environ.update(realm.env)
    import gssapi
    spnego = gssapi.OID.from_int_seq(SPNEGO)
    name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    # MIT SPNEGO initiator -> our Negotiate acceptor
    mit = GssSide(gssapi.SecurityContext(name=name, usage="initiate", mech=spnego,
                                         flags=gssapi.RequirementFlag.mutual_authentication))
    acc = nego("accept", ["--keytab", realm.keytab], realm.env)
    ist, ast = handshake(mit, acc)
    check(ist == "OK" and ast == "OK", f"MIT SPNEGO initiator -> ours ({ist}, {ast})")
    acc.close()
    # our Negotiate initiator -> MIT SPNEGO acceptor
    ini = nego("init", ["--target", "HTTP/localhost", "--flags", "mutual"], realm.env)
    mitacc = GssSide(gssapi.SecurityContext(
        usage="accept", creds=gssapi.Credentials(usage="accept", mechs=[spnego])))
    ist, ast = handshake(ini, mitacc)
    check(ist == "OK" and ast == "OK", f"ours -> MIT SPNEGO acceptor ({ist}, {ast})")
    if ast == "OK":
        check(str(mitacc.ctx.initiator_name) == f"alice@{realm.realm}", "MIT sees alice")
    ini.close()


def der_len(b, i):
    """(length, index after the length octets) of a DER length at b[i]."""
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def neg_resp_fields(tok):
    """Context tags ([0] negState, [1] supportedMech, [2] responseToken,
    [3] mechListMIC) present in a NegTokenResp (RFC 4178 4.2.2)."""
    if not tok or tok[0] != 0xA1:
        return set()
    _, i = der_len(tok, 1)
    if tok[i] != 0x30:
        return set()
    n, i = der_len(tok, i + 1)
    end, tags = i + n, set()
    while i < end:
        tags.add(tok[i] & 0x1F)
        n, j = der_len(tok, i + 1)
        i = j + n
    return tags


def recorder(seen):
    def tamper(n, tok):
        seen.append(tok)
        return tok
    return tamper


def ntlmssp_env(realm):
    """NTLM_USER_FILE for gss-ntlmssp (carol has no Kerberos principal, so
    Negotiate falls back to NTLM for her) and no Kerberos ticket."""
    users = os.path.join(realm.dir, "ntlm_users")
    with open(users, "w") as f:
        f.write("GATEHOUSE:carol:carol-pw-3\n")
    os.chmod(users, 0o600)
    env = dict(realm.env, NTLM_USER_FILE=users, KRB5CCNAME=f"FILE:{realm.dir}/none")
    os.environ.update(env)
    return env, users


def ntlmssp_initiator(users_file):
    """gss-ntlmssp through MIT's SPNEGO, NTLM only, carol's password from
    users_file (through MIT's SPNEGO, gss-ntlmssp takes it from NTLM_USER_FILE
    even for a credential acquired with a password)."""
    import gssapi
    os.environ["NTLM_USER_FILE"] = users_file
    spnego = gssapi.OID.from_int_seq(SPNEGO)
    ntlm = gssapi.OID.from_int_seq(NTLM)
    name = gssapi.Name("GATEHOUSE\\carol", gssapi.NameType.user)
    cred = gssapi.Credentials(name=name, usage="initiate", mechs=[ntlm])
    target = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    flags = [gssapi.RequirementFlag.integrity, gssapi.RequirementFlag.confidentiality]
    return gssapi.SecurityContext(name=target, usage="initiate", mech=spnego, creds=cred,
                                  flags=flags)


def test_ntlmssp(realm):
    """SPNEGO/NTLM end to end with gss-ntlmssp through MIT's SPNEGO, both ways."""
    env, users = ntlmssp_env(realm)
    # Without an NTLM credential our Negotiate acceptor has only Kerberos, so
    # the NTLM-only offer is refused cleanly.
    acc = nego("accept", ["--keytab", realm.keytab], env)
    ist, ast = handshake(GssSide(ntlmssp_initiator(users)), acc)
    check(err_code(ast) == SEC_E["SEC_E_INVALID_TOKEN"],
          f"NTLM-only offer without an NTLM credential is refused ({ast})")
    acc.close()

    # gss-ntlmssp (MIT SPNEGO) -> our Negotiate acceptor with a user store.
    mit = GssSide(ntlmssp_initiator(users))
    acc = nego("accept", ["--keytab", realm.keytab, "--users", users], env)
    seen = []
    ist, ast = handshake(mit, acc, tamper=recorder(seen))
    check(ist == "OK" and ast == "OK", f"gss-ntlmssp SPNEGO initiator -> our Negotiate ({ist}, {ast})")
    check(len(seen) == 2 and 3 in neg_resp_fields(seen[1]),
          "gss-ntlmssp's AUTHENTICATE leg carries a mechListMIC, and we verified it")
    if ast == "OK":
        check(acc.ok_fields[1] == "GATEHOUSE\\carol", f"client name {acc.ok_fields[1]}")
        check(acc.ok_fields[3] == "NTLM", "NEGOTIATION_INFO reports NTLM")
        sealed = acc.command("WRAP " + base64.b64encode(b"to gss-ntlmssp").decode())
        check(sealed.startswith("DATA ") and
              mit.ctx.unwrap(base64.b64decode(sealed[5:])).message == b"to gss-ntlmssp",
              "gss-ntlmssp unwraps our EncryptMessage after SPNEGO")
        wrapped = mit.ctx.wrap(b"from gss-ntlmssp", True).message
        got = acc.command("UNWRAP " + base64.b64encode(wrapped).decode())
        check(got == "DATA " + base64.b64encode(b"from gss-ntlmssp").decode(),
              f"we unseal gss-ntlmssp's wrap after SPNEGO ({got[:40]})")
    acc.close()

    # wrong password: refused by our acceptor
    wrong = os.path.join(realm.dir, "ntlm_users_wrong")
    with open(wrong, "w") as f:
        f.write("GATEHOUSE:carol:not-carols-pw\n")
    acc = nego("accept", ["--keytab", realm.keytab, "--users", users], env)
    ist, ast = handshake(GssSide(ntlmssp_initiator(wrong)), acc)
    check(err_code(ast) == SEC_E["SEC_E_LOGON_DENIED"], f"wrong password -> LOGON_DENIED ({ast})")
    acc.close()
    os.environ["NTLM_USER_FILE"] = users

    # our Negotiate initiator (NTLM identity, no ticket) -> MIT SPNEGO acceptor
    # with gss-ntlmssp.
    import gssapi
    spnego = gssapi.OID.from_int_seq(SPNEGO)
    for pw, want in (("carol-pw-3", True), ("wrong-pw", False)):
        ini = nego("init", ["--target", "HTTP/localhost", "--user", "carol", "--password", pw,
                            "--domain", "GATEHOUSE", "--flags", "conf,integ,connection"], env)
        mitacc = GssSide(gssapi.SecurityContext(
            usage="accept", creds=gssapi.Credentials(usage="accept", mechs=[spnego])))
        seen = []
        ist, ast = handshake(ini, mitacc, tamper=recorder(seen))
        if want:
            check(len(seen) == 2 and 3 in neg_resp_fields(seen[1]),
                  "our AUTHENTICATE leg carries a mechListMIC (MIT verified it)")
        if want:
            check(ist == "OK" and ast == "OK",
                  f"our Negotiate/NTLM initiator -> gss-ntlmssp SPNEGO acceptor ({ist}, {ast})")
            if ast == "OK":
                check("carol" in str(mitacc.ctx.initiator_name), "gss-ntlmssp sees carol")
                check(ini.ok_fields[3] == "NTLM", "initiator NEGOTIATION_INFO reports NTLM")
                sealed = ini.command("WRAP " + base64.b64encode(b"to acceptor").decode())
                check(sealed.startswith("DATA ") and mitacc.ctx.unwrap(
                    base64.b64decode(sealed[5:])).message == b"to acceptor",
                    "MIT SPNEGO/gss-ntlmssp unwraps our initiator's EncryptMessage")
        else:
            check(ast != "OK" and ist != "OK", f"wrong password refused by gss-ntlmssp ({ist}, {ast})")
        ini.close()
    os.environ["KRB5CCNAME"] = realm.env["KRB5CCNAME"]
    os.environ.pop("NTLM_USER_FILE", None)


def main():
    if tool_path() is None:
        print("FAIL: sspi_pipe is not built (tests/tools)")
        return 1
    with krb5realm.Realm() as realm:
        test_ours(realm)
        test_mit(realm)
        test_ntlmssp(realm)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all Negotiate checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
