# SPDX-License-Identifier: MIT
"""What Kerberos constrained delegation (S4U2Proxy, MS-SFU) needs from the
Samba AD DC and MIT's GSSAPI, checked with real peers (python3-gssapi against
tests/harness/sambadc.py), before gatehouse's acceptor uses it:

- the service gets its own TGT from the keytab under its ACCOUNT principal
  (svc-http@CORP.TEST; Samba 4.17 refuses the SPN as an AS-REQ client);
- an acceptor credential for both usages (keytab + that ccache) makes
  gss_accept_sec_context return a credential impersonating the client although
  the client delegated nothing (a forwardable ticket, no GSS_C_DELEG_FLAG);
- that credential survives gss_store_cred_into a FILE ccache and
  gss_acquire_cred_from it (the path of auth_ccache_dir and
  GH_INITIATOR_AUTH_DATA): the ccache holds the service's TGT, the client's
  ticket to the service (the evidence) and the proxy_impersonator entry;
- gss_init_sec_context with it toward an SPN in msDS-AllowedToDelegateTo gives
  the backend the client's name; toward another SPN the KDC answers
  KDC_ERR_BADOPTION ("KDC can't fulfill requested option");
- MIT's acceptor reports GSS_C_DELEG_FLAG for the impersonating credential as
  for a forwarded TGT: which kind it is shows in the ccache (proxy_impersonator).
"""
import os
import subprocess
import tempfile

import ghskip
from authclients import check, finish
import sambadc

APP_SPN = "HTTP/app.localhost"
OTHER_SPN = "HTTP/other.localhost"
KRB5KDC_ERR_BADOPTION = 0x96C73A0D  # MIT's table: -1765328371 as an unsigned minor


def main():
    sambadc.require_tools()
    cache = os.path.join(os.environ.get("GH_BUILD") or tempfile.gettempdir(), "sambadc-cache")
    with sambadc.DomainController(cache_dir=cache) as dc:
        os.environ.update(dc.env)  # before gssapi loads libkrb5
        try:
            import gssapi
            import gssapi.raw
        except ImportError:
            ghskip.missing_peer("python3-gssapi not importable", "python3-gssapi")
        app_kt = dc.add_service_account("svc-app", APP_SPN, "App-pw-1!x")
        dc.add_service_account("svc-other", OTHER_SPN, "Other-pw-1!x")
        dc.allow_delegation_to(sambadc.SERVICE, APP_SPN)

        carol_cc = os.path.join(dc.dir, "carol-s4u.cc")
        r = dc.kinit("carol", ccache=carol_cc, check=False)
        check(r.returncode == 0, f"kinit carol ({r.stderr.strip()})")

        svc_cc = os.path.join(dc.dir, "svc-tgt.cc")
        r = subprocess.run(["kinit", "-k", "-t", dc.keytab, "-c", svc_cc, sambadc.SPN],
                           env=dc.env, capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and "not found" in r.stderr,
              f"the SPN cannot get a TGT from Samba's KDC ({r.stderr.strip()})")
        r = subprocess.run(["kinit", "-k", "-t", dc.account_keytab, "-c", svc_cc,
                            sambadc.SERVICE], env=dc.env, capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 0, f"the account principal gets the service's TGT ({r.stderr})")

        # Today's acceptor credential (accept only, keytab only): no evidence kept.
        plain = gssapi.Credentials(usage="accept", store={"keytab": dc.keytab})
        sname = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
        client = gssapi.Credentials(usage="initiate", store={"ccache": carol_cc})
        ictx = gssapi.SecurityContext(name=sname, creds=client, usage="initiate")
        actx = gssapi.SecurityContext(creds=plain, usage="accept")
        actx.step(ictx.step())
        check(actx.delegated_creds is None,
              "an accept-only credential returns no delegated credential (as today)")

        svc = gssapi.Credentials(usage="both", store={"keytab": dc.keytab, "ccache": svc_cc})
        ictx = gssapi.SecurityContext(name=sname, creds=client, usage="initiate",
                                      flags=gssapi.RequirementFlag.mutual_authentication)
        actx = gssapi.SecurityContext(creds=svc, usage="accept")
        actx.step(ictx.step())
        check(str(actx.initiator_name) == "carol@CORP.TEST", f"accepted {actx.initiator_name}")
        check(not (ictx.actual_flags & gssapi.RequirementFlag.delegate_to_peer),
              "the client delegated nothing")
        # MIT's acceptor sets GSS_C_DELEG_FLAG for an impersonating credential
        # too: the flag does not tell a forwarded TGT from S4U2Proxy evidence.
        check(bool(actx.actual_flags & gssapi.RequirementFlag.delegate_to_peer),
              "the acceptor reports GSS_C_DELEG_FLAG all the same")
        check(actx.delegated_creds is not None,
              "accept returned an impersonating credential (S4U2Proxy evidence)")
        if actx.delegated_creds is None:
            finish()
            return

        stored = os.path.join(dc.dir, "impersonator.cc")
        actx.delegated_creds.store(store={"ccache": "FILE:" + stored}, usage="initiate",
                                   overwrite=True, set_default=False)
        r = subprocess.run(["klist", "-C", stored], env=dc.env, capture_output=True, text=True,
                           timeout=30)
        check("proxy_impersonator = svc-http@CORP.TEST" in r.stdout,
              f"stored ccache names the impersonator ({r.stdout})")
        proxy = gssapi.Credentials(usage="initiate", store={"ccache": "FILE:" + stored})
        check(str(proxy.name) == "carol@CORP.TEST", f"reacquired as the client ({proxy.name})")

        target = gssapi.Name("HTTP@app.localhost", gssapi.NameType.hostbased_service)
        bctx = gssapi.SecurityContext(name=target, creds=proxy, usage="initiate")
        backend = gssapi.SecurityContext(
            creds=gssapi.Credentials(usage="accept", store={"keytab": app_kt}), usage="accept")
        backend.step(bctx.step())
        check(str(backend.initiator_name) == "carol@CORP.TEST",
              f"the backend in msDS-AllowedToDelegateTo sees {backend.initiator_name}")

        other = gssapi.Name("HTTP@other.localhost", gssapi.NameType.hostbased_service)
        minor = None
        try:
            gssapi.SecurityContext(name=other, creds=proxy, usage="initiate").step()
        except gssapi.raw.GSSError as e:
            minor = e.min_code
        check(minor == KRB5KDC_ERR_BADOPTION,
              f"an SPN not in the list: KDC_ERR_BADOPTION (minor {minor})")
    finish()


if __name__ == "__main__":
    main()
