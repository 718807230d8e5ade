# SPDX-License-Identifier: MIT
"""Negotiate (SPNEGO) package against a real KDC: ours<->ours, ours<->MIT's
SPNEGO (python3-gssapi), raw Kerberos tokens into our Negotiate acceptor, and
SPNEGO/NTLM with gss-ntlmssp as the initiator."""
import os
import sys

import krb5realm
from krbpipe import SEC_E, GssSide, ToolSide, handshake, tool_path

FAILURES = []
SPNEGO = "1.3.6.1.5.5.2"


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


def test_ntlmssp(realm):
    """gss-ntlmssp (through MIT's SPNEGO) as the initiator, NTLM only: our
    Negotiate acceptor falls back to NTLM when it has an NTLM credential."""
    users = os.path.join(realm.dir, "ntlm_users")
    with open(users, "w") as f:
        f.write("GATEHOUSE:carol:carol-pw-3\n")
    env = dict(realm.env, NTLM_USER_FILE=users, KRB5CCNAME=f"FILE:{realm.dir}/none")
    os.environ.update(env)
    import gssapi
    spnego = gssapi.OID.from_int_seq(SPNEGO)
    ntlm = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
    cred = gssapi.Credentials(name=gssapi.Name("GATEHOUSE\\carol", gssapi.NameType.user),
                              usage="initiate", mechs=[ntlm])
    name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    mit = GssSide(gssapi.SecurityContext(name=name, usage="initiate", mech=spnego, creds=cred))
    # Our NTLM acceptor needs a user store; without one Negotiate has only Kerberos,
    # so the NTLM offer is refused cleanly.
    acc = nego("accept", ["--keytab", realm.keytab], env)
    ist, ast = handshake(mit, acc)
    check(err_code(ast) == SEC_E["SEC_E_INVALID_TOKEN"],
          f"NTLM-only offer without an NTLM credential is refused ({ast})")
    acc.close()
    os.environ["KRB5CCNAME"] = realm.env["KRB5CCNAME"]


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
