# SPDX-License-Identifier: MIT
"""Programs written against Windows SSPI, compiled unchanged against the compat
include directory (examples/sspi, built as ANSI and as UNICODE), run against
each other over loopback: NTLM and Negotiate with the built-in user store, and
Kerberos and Negotiate with a throwaway KDC and the client's default
credentials (its ticket cache); one encrypted message each way, the access
token closed with CloseHandle, its user named by LookupAccountSid. A wrong
password must fail on both sides with the Windows status."""
import os
import pwd
import shutil
import subprocess
import tempfile

from ghcheck import check, finish
from ghserver import gh_bin, gh_example
from krb5realm import Realm

SEC_E_LOGON_DENIED = "0x8009030c"


def run_pair(env, server, client, package, password, user="alice"):
    """Starts the server, reads its port, runs the client; returns both outputs."""
    srv = subprocess.Popen([gh_example(server), package], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        first = srv.stdout.readline().split()
        if len(first) != 2 or first[0] != "port":
            srv.kill()
            return None, "server did not start: %r" % first, None, ""
        cli = subprocess.run([gh_example(client), first[1], package, user, "EXAMPLE", password],
                             env=env, capture_output=True, text=True, timeout=60)
        out, _ = srv.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        srv.kill()
        srv.communicate()
        return None, "timed out", None, ""
    return srv.returncode, out, cli.returncode, cli.stdout + cli.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="gh-sspi-samples-")
    try:
        store = os.path.join(tmp, "users")
        r = subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--stdin",
                            "--iterations", "1000"],
                           input="Secret-1\n", capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "user store written", r.stdout + r.stderr)
        env = dict(os.environ, GH_USER_STORE=store)
        pairs = [("sspi_server_a", "sspi_client_a"), ("sspi_server_w", "sspi_client_w"),
                 ("sspi_server_w", "sspi_client_a"), ("sspi_server_a", "sspi_client_w")]
        for server, client in pairs:
            for package in ("NTLM", "Negotiate"):
                what = "%s <-> %s, %s" % (client, server, package)
                src, sout, crc, cout = run_pair(env, server, client, package, "Secret-1")
                detail = "server:\n%s\nclient:\n%s" % (sout, cout)
                check(src == 0 and crc == 0, what + ": both succeed", detail)
                check("client: GATEHOUSE\\alice" in sout and "access token closed" in sout and
                      "client says: hello from the client" in sout,
                      what + ": the server saw alice, closed her token, decrypted", detail)
                check("signature verified: signed by the client" in sout,
                      what + ": MakeSignature / VerifySignature", detail)
                check("server says: hello, GATEHOUSE\\alice" in cout,
                      what + ": the client decrypted the answer", detail)
                # alice of the user store has no local account: the server's
                # ImpersonateSecurityContext refuses, as Windows does for a
                # token it cannot impersonate
                check("user sid: none (error 1332)" in sout and "account:" not in sout,
                      what + ": TokenUser of a user-store client: ERROR_NONE_MAPPED", detail)
                check("no impersonation: 0x8009030b" in sout,
                      what + ": ImpersonateSecurityContext: SEC_E_NO_IMPERSONATION", detail)
        for package in ("NTLM", "Negotiate"):
            what = "wrong password, %s" % package
            src, sout, crc, cout = run_pair(env, "sspi_server_a", "sspi_client_a", package,
                                            "wrong")
            detail = "server:\n%s\nclient:\n%s" % (sout, cout)
            check(src not in (0, None) and crc not in (0, None), what + ": both fail", detail)
            check(("AcceptSecurityContext failed: " + SEC_E_LOGON_DENIED) in sout,
                  what + ": SEC_E_LOGON_DENIED", detail)
        # Kerberos: the client has no password, only alice's ticket cache
        # (user "-": default credentials); the server finds its key in
        # $KRB5_KTNAME, as a Windows service finds the machine's.
        with Realm() as realm:
            for server, client in (("sspi_server_a", "sspi_client_a"),
                                   ("sspi_server_w", "sspi_client_w")):
                for package in ("Kerberos", "Negotiate"):
                    what = "%s <-> %s, %s with the KDC" % (client, server, package)
                    src, sout, crc, cout = run_pair(realm.env, server, client, package, "-",
                                                    user="-")
                    detail = "server:\n%s\nclient:\n%s" % (sout, cout)
                    check(src == 0 and crc == 0 and
                          "client: alice@%s" % realm.realm in sout and
                          "access token closed" in sout and
                          "client says: hello from the client" in sout and
                          "signature verified: signed by the client" in sout and
                          "server says: hello, alice@%s" % realm.realm in cout,
                          what + ": authenticated, both messages decrypted", detail)
            # A principal with a local account (nobody@REALM -> nobody): the
            # server impersonates it and GetUserName names it, as in
            # Microsoft's server sample (root only: impersonation switches the
            # thread's uid).
            if os.geteuid() == 0 and shutil.which("kinit"):
                realm.add_user("nobody", "Nobody-pw-1")
                cc = os.path.join(tmp, "nobody.cc")
                realm.kinit("nobody", ccache=cc)
                env_nobody = dict(realm.env, KRB5CCNAME="FILE:" + cc)
                for server, client in (("sspi_server_a", "sspi_client_a"),
                                       ("sspi_server_w", "sspi_client_w")):
                    src, sout, crc, cout = run_pair(env_nobody, server, client, "Kerberos", "-",
                                                    user="-")
                    detail = "server:\n%s\nclient:\n%s" % (sout, cout)
                    check(src == 0 and crc == 0 and "impersonating: nobody" in sout,
                          "%s: ImpersonateSecurityContext, then GetUserName says nobody" % server,
                          detail)
                    check("user sid: S-1-22-1-%d" % pwd.getpwnam("nobody").pw_uid in sout,
                          "%s: GetTokenInformation(TokenUser): nobody's Unix SID" % server, detail)
                    # LookupAccountSid names it as Samba does; 1: SidTypeUser
                    check("account: Unix User\\nobody (type 1)\n" in sout,
                          "%s: LookupAccountSid: Unix User\\nobody" % server, detail)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
