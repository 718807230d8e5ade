# SPDX-License-Identifier: MIT
"""Captures SPNEGO tokens from independent implementations, once, as test data.

Run with Debian's python3 (python3-gssapi, gss-ntlmssp installed):
    /usr/bin/python3 tests/vectors/spnego/capture.py tests/vectors/spnego
It starts a throwaway realm (tests/harness/krb5realm.py), runs MIT's SPNEGO
mechanism (libgssapi-krb5) on both sides for Kerberos, then gss-ntlmssp under
MIT's SPNEGO for NTLM, and writes each token as a binary .der file. The tokens
carry keys of a realm that no longer exists: they are data, not secrets.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "harness"))
import krb5realm  # noqa: E402

SPNEGO = "1.3.6.1.5.5.2"
NTLM = "1.3.6.1.4.1.311.2.2.10"


def main(out):
    with krb5realm.Realm() as realm:
        os.environ.update(realm.env)
        import gssapi
        spnego = gssapi.OID.from_int_seq(SPNEGO)
        name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
        ini = gssapi.SecurityContext(name=name, usage="initiate", mech=spnego,
                                     flags=gssapi.RequirementFlag.mutual_authentication)
        acc = gssapi.SecurityContext(usage="accept",
                                     creds=gssapi.Credentials(usage="accept", mechs=[spnego]))
        t1 = ini.step()
        t2 = acc.step(t1)
        ini.step(t2)
        assert ini.complete and acc.complete
        write(out, "mit_krb5_init.der", t1)
        write(out, "mit_krb5_resp.der", t2)

        # gss-ntlmssp under MIT's SPNEGO: the initiator's NegTokenInit and the
        # acceptor's accept-incomplete NegTokenResp carrying the CHALLENGE.
        users = os.path.join(realm.dir, "ntlm_users")
        with open(users, "w") as f:
            f.write("GATEHOUSE:carol:carol-pw\n")
        os.environ["NTLM_USER_FILE"] = users
        os.environ["KRB5CCNAME"] = "FILE:" + os.path.join(realm.dir, "empty-ccache")
        ntlm = gssapi.OID.from_int_seq(NTLM)
        cname = gssapi.Name("GATEHOUSE\\carol", gssapi.NameType.user)
        ccred = gssapi.Credentials(name=cname, usage="initiate", mechs=[ntlm])
        ini = gssapi.SecurityContext(name=name, usage="initiate", mech=spnego, creds=ccred)
        t1 = ini.step()
        acc = gssapi.SecurityContext(usage="accept")
        t2 = acc.step(t1)
        write(out, "ntlmssp_init.der", t1)
        write(out, "ntlmssp_resp_incomplete.der", t2)
        t3 = ini.step(t2)
        write(out, "ntlmssp_resp_auth.der", t3)


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
