# SPDX-License-Identifier: MIT
"""Kerberos package against a real throwaway MIT KDC: ours<->ours through
tests/tools/sspi_pipe, and ours<->MIT GSSAPI (python3-gssapi) both ways."""
import base64
import os
import stat
import subprocess
import sys
import time

import krb5realm
from krbpipe import SEC_E, GssSide, ToolSide, handshake, tool_path

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def err_code(status):
    return status[1] if isinstance(status, tuple) else None


def pair(realm, ini_args=(), acc_args=(), ini_env=None, acc_env=None, package="Kerberos",
         tamper=None):
    ini = ToolSide("init", ["--package", package, "--target", "HTTP/localhost"] + list(ini_args),
                   ini_env or realm.env)
    acc = ToolSide("accept", ["--package", package, "--keytab", realm.keytab] + list(acc_args),
                   acc_env or realm.env)
    ist, ast = handshake(ini, acc, tamper)
    return ini, acc, ist, ast


def close_all(*sides):
    for s in sides:
        s.close()


def test_basic(realm):
    ini, acc, ist, ast = pair(realm, ["--flags", "mutual,replay,sequence,conf,integ"],
                              ["--flags", "integ"])
    check(ist == "OK" and ast == "OK", f"mutual handshake completes ({ist}, {ast})")
    if ist == "OK" and ast == "OK":
        attrs, client, server, _, keylen = acc.ok_fields
        check(client == f"alice@{realm.realm}", f"acceptor sees the client ({client})")
        check(server == f"HTTP/localhost@{realm.realm}", f"server name ({server})")
        check(int(keylen) >= 16, "session key available")
        check(int(ini.ok_fields[0], 16) & 0x2, "initiator has ISC_RET_MUTUAL_AUTH")
        # per-message protection, both directions
        msg = base64.b64encode(b"hello kerberos").decode()
        mic = ini.command("SIGN " + msg)
        check(mic.startswith("DATA "), "MakeSignature")
        check(acc.command(f"VERIFY {msg} {mic[5:]}") == "OK", "VerifySignature accepts")
        # Packed context: the acceptor exports, imports into a new context
        # (gss_export/import_sec_context) and carries on with it below.
        r = acc.command("REIMPORT eA==")
        check(r.startswith(f"OK alice@{realm.realm} "), f"acceptor export/import ({r})")
        mic = ini.command("SIGN " + msg)
        r = acc.command(f"VERIFY {msg} {mic[5:]}")
        check(r == "OK", f"the imported context verifies the next MIC in sequence ({r})")
        bad = base64.b64encode(b"hello kerberoz").decode()
        mic2 = ini.command("SIGN " + msg)[5:]
        r = acc.command(f"VERIFY {bad} {mic2}")
        check(r == f"ERR 0x{SEC_E['SEC_E_MESSAGE_ALTERED']:08x}", f"altered message ({r})")
        wrapped = acc.command("WRAP " + msg)
        check(wrapped.startswith("DATA "), "EncryptMessage")
        raw = base64.b64decode(wrapped[5:])
        hdr = len(raw) - len(b"hello kerberos")
        r = ini.command(f"UNWRAP {wrapped[5:]} {hdr}")
        check(r == "DATA " + msg, "DecryptMessage round trip")
        t = bytearray(raw)
        t[-1] ^= 1
        r = ini.command(f"UNWRAP {base64.b64encode(bytes(t)).decode()} {hdr}")
        check(r.startswith("ERR 0x8009030f"), f"tampered sealed message ({r})")
    close_all(ini, acc)


def test_delegation(realm):
    path = os.path.join(realm.dir, "delegated.ccache")
    ini, acc, ist, ast = pair(realm, ["--flags", "mutual,delegate"],
                              ["--store-delegated", path])
    check(ist == "OK" and ast == "OK", "delegation handshake")
    check(ast == "OK" and int(acc.ok_fields[0], 16) & 0x1, "ASC_RET_DELEGATE")
    close_all(ini, acc)
    check(os.path.exists(path), "delegated ccache written")
    if os.path.exists(path):
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "delegated ccache is mode 0600")
        r = subprocess.run(["klist", "-c", f"FILE:{path}"], env=realm.env, capture_output=True,
                           text=True)
        check(r.returncode == 0 and f"alice@{realm.realm}" in r.stdout and "krbtgt/" in r.stdout,
              "klist reads the delegated TGT")
        # the delegated TGT works: a new handshake from it
        env = dict(realm.env, KRB5CCNAME=f"FILE:{path}")
        ini, acc, ist, ast = pair(realm, ini_env=env)
        check(ist == "OK" and ast == "OK", "handshake with the delegated credentials")
        close_all(ini, acc)
    # without the flag nothing is delegated
    ini, acc, ist, ast = pair(realm, ["--flags", "mutual"],
                              ["--store-delegated", path + ".none"])
    check(err_code(ast) == 0x8009030E, "no delegation without ISC_REQ_DELEGATE")
    close_all(ini, acc)


def test_failures(realm):
    # wrong target: the KDC does not know the service
    ini = ToolSide("init", ["--target", "HTTP/nosuchhost"], realm.env)
    _, st = ini.leg(None)
    check(err_code(st) == SEC_E["SEC_E_TARGET_UNKNOWN"], f"unknown SPN -> TARGET_UNKNOWN {st}")
    check("not found in Kerberos database" in ini.err[1], "extended error text from GSSAPI")
    ini.close()

    # no ccache
    env = dict(realm.env, KRB5CCNAME=f"FILE:{realm.dir}/none")
    ini = ToolSide("init", ["--target", "HTTP/localhost"], env)
    _, st = ini.leg(None)
    check(err_code(st) == SEC_E["SEC_E_NO_CREDENTIALS"], f"no ccache -> NO_CREDENTIALS {st}")
    ini.close()

    # explicit password, right and wrong
    ini, acc, ist, ast = pair(realm, ["--user", "bob", "--password", realm.users["bob"]],
                              ini_env=env)
    check(ist == "OK" and ast == "OK" and acc.ok_fields[1] == f"bob@{realm.realm}",
          "password credentials (MEMORY ccache)")
    close_all(ini, acc)
    ini = ToolSide("init", ["--target", "HTTP/localhost", "--user", "bob", "--password", "nope"],
                   env)
    _, st = ini.leg(None)
    check(err_code(st) == SEC_E["SEC_E_LOGON_DENIED"], f"wrong password -> LOGON_DENIED {st}")
    ini.close()

    # KDC unreachable
    dead = os.path.join(realm.dir, "dead-krb5.conf")
    port = realm.port
    realm.port = krb5realm._free_port()
    realm.write_krb5_conf(dead)
    realm.port = port
    env2 = dict(env, KRB5_CONFIG=dead)
    ini = ToolSide("init", ["--target", "HTTP/localhost", "--user", "bob", "--password", "x"],
                   env2)
    _, st = ini.leg(None)
    check(err_code(st) == SEC_E["SEC_E_NO_AUTHENTICATING_AUTHORITY"],
          f"KDC unreachable -> NO_AUTHENTICATING_AUTHORITY {st}")
    ini.close()

    # channel bindings: equal ones pass, different ones fail
    ini, acc, ist, ast = pair(realm, ["--cb", "00112233"], ["--cb", "00112233"])
    check(ist == "OK" and ast == "OK", "matching channel bindings")
    close_all(ini, acc)
    ini, acc, ist, ast = pair(realm, ["--cb", "00112233"], ["--cb", "44556677"])
    check(err_code(ast) == SEC_E["SEC_E_BAD_BINDINGS"], f"wrong bindings -> BAD_BINDINGS {ast}")
    close_all(ini, acc)
    # Extended Protection: an unbound client against an acceptor with bindings
    # is refused, unless the acceptor passes ASC_REQ_ALLOW_MISSING_BINDINGS.
    ini, acc, ist, ast = pair(realm, [], ["--cb", "00112233"])
    check(err_code(ast) == SEC_E["SEC_E_BAD_BINDINGS"], f"unbound client -> BAD_BINDINGS {ast}")
    close_all(ini, acc)
    ini, acc, ist, ast = pair(realm, ["--flags", "mutual"],
                              ["--cb", "00112233", "--flags", "allow-missing-bindings"])
    check(ist == "OK" and ast == "OK", f"unbound client allowed with ALLOW_MISSING_BINDINGS "
          f"({ist}, {ast})")
    close_all(ini, acc)
    ini, acc, ist, ast = pair(realm, [], ["--cb", "00112233"], package="Negotiate")
    check(err_code(ast) == SEC_E["SEC_E_BAD_BINDINGS"],
          f"unbound client through Negotiate -> BAD_BINDINGS {ast}")
    close_all(ini, acc)

    # replay: the same AP-REQ twice (MIT's replay cache in KRB5RCACHEDIR)
    ini = ToolSide("init", ["--target", "HTTP/localhost"], realm.env)
    tok, st = ini.leg(None)
    acc1 = ToolSide("accept", ["--keytab", realm.keytab], realm.env)
    _, s1 = acc1.leg(tok)
    acc2 = ToolSide("accept", ["--keytab", realm.keytab], realm.env)
    _, s2 = acc2.leg(tok)
    check(s1 == "OK", "first use of a token")
    check(err_code(s2) == SEC_E["SEC_E_INVALID_TOKEN"] and "repla" in acc2.err[1].lower(),
          f"replayed token refused {s2}")
    close_all(ini, acc1, acc2)

    # tampered token
    def flip(n, tok):
        t = bytearray(tok)
        t[len(t) // 2] ^= 0x55
        return bytes(t)
    ini, acc, ist, ast = pair(realm, tamper=flip)
    check(err_code(ast) in (SEC_E["SEC_E_INVALID_TOKEN"], SEC_E["SEC_E_WRONG_PRINCIPAL"]),
          f"tampered token refused {ast}")
    close_all(ini, acc)

    # keytab without the requested service
    other = os.path.join(realm.dir, "other.keytab")
    realm.add_service("HTTP/otherhost", other)
    ini = ToolSide("init", ["--target", "HTTP/localhost"], realm.env)
    acc = ToolSide("accept", ["--keytab", other], realm.env)
    ist, ast = handshake(ini, acc)
    check(err_code(ast) == SEC_E["SEC_E_WRONG_PRINCIPAL"], f"wrong keytab -> WRONG_PRINCIPAL {ast}")
    close_all(ini, acc)

    # the keytab comes from GH_ACCEPTOR_AUTH_DATA, not the environment
    env3 = dict(realm.env, KRB5_KTNAME=f"FILE:{other}")
    ini, acc, ist, ast = pair(realm, acc_env=env3)
    check(ist == "OK" and ast == "OK", "Keytab from GH_ACCEPTOR_AUTH_DATA wins over KRB5_KTNAME")
    close_all(ini, acc)


def test_skew(realm):
    """Clock skew without faking time: an acceptor whose krb5.conf allows 0 s of
    skew sees an authenticator made >= 1 s earlier as skewed."""
    conf = os.path.join(realm.dir, "skew0-krb5.conf")
    realm.write_krb5_conf(conf, clockskew=0)
    ini = ToolSide("init", ["--target", "HTTP/localhost"], realm.env)
    tok, _ = ini.leg(None)
    time.sleep(1.2)
    acc = ToolSide("accept", ["--keytab", realm.keytab], dict(realm.env, KRB5_CONFIG=conf))
    _, st = acc.leg(tok)
    check(err_code(st) == SEC_E["SEC_E_TIME_SKEW"], f"clock skew -> TIME_SKEW {st}")
    close_all(ini, acc)


def test_mit_interop(realm):
    os.environ.update(realm.env)
    import gssapi
    krb5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
    name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    flags = gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.integrity
    # MIT initiator -> our acceptor
    mit = GssSide(gssapi.SecurityContext(name=name, usage="initiate", mech=krb5, flags=flags))
    acc = ToolSide("accept", ["--keytab", realm.keytab], realm.env)
    ist, ast = handshake(mit, acc)
    check(ist == "OK" and ast == "OK", f"MIT initiator -> our acceptor ({ist}, {ast})")
    if ast == "OK":
        check(acc.ok_fields[1] == f"alice@{realm.realm}", "client name from MIT's token")
        wrapped = acc.command("WRAP " + base64.b64encode(b"to mit").decode())
        check(mit.ctx.decrypt(base64.b64decode(wrapped[5:])) == b"to mit",
              "our EncryptMessage -> MIT gss_unwrap")
        mic = mit.ctx.get_signature(b"from mit")
        r = acc.command(f"VERIFY {base64.b64encode(b'from mit').decode()} "
                        f"{base64.b64encode(mic).decode()}")
        check(r == "OK", "MIT gss_get_mic -> our VerifySignature")
    close_all(acc)
    # our initiator -> MIT acceptor
    ini = ToolSide("init", ["--target", "HTTP@localhost", "--flags", "mutual,delegate"], realm.env)
    mitacc = GssSide(gssapi.SecurityContext(usage="accept"))
    ist, ast = handshake(ini, mitacc)
    check(ist == "OK" and ast == "OK", f"our initiator -> MIT acceptor ({ist}, {ast})")
    if ast == "OK":
        check(str(mitacc.ctx.initiator_name) == f"alice@{realm.realm}", "MIT sees alice")
        check(mitacc.ctx.delegated_creds is not None, "MIT receives our delegated TGT")
        mic = ini.command("SIGN " + base64.b64encode(b"to mit").decode())
        mitacc.ctx.verify_signature(b"to mit", base64.b64decode(mic[5:]))
        check(True, "our MakeSignature -> MIT gss_verify_mic")
    close_all(ini)
    # full principal name as target
    ini = ToolSide("init", ["--target", f"HTTP/localhost@{realm.realm}"], realm.env)
    mitacc = GssSide(gssapi.SecurityContext(usage="accept"))
    ist, ast = handshake(ini, mitacc)
    check(ist == "OK" and ast == "OK", "target given as a krb5 principal name")
    close_all(ini)


def main():
    if tool_path() is None:
        print("FAIL: sspi_pipe is not built (tests/tools)")
        return 1
    with krb5realm.Realm() as realm:
        test_basic(realm)
        test_delegation(realm)
        test_failures(realm)
        test_skew(realm)
        test_mit_interop(realm)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all Kerberos checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
