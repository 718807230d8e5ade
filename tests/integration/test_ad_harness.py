# SPDX-License-Identifier: MIT
"""The Samba AD DC test domain (tests/harness/sambadc.py) is what the AD tests
assume: real kinit against its KDC for each kind of user, the service keytab
valid for the tickets the KDC issues, winbind answering name lookups with the
nested group, and the provisioning cache reused (a restore, not a provision).
"""
import os
import shutil
import subprocess
import sys
import tempfile

from authclients import check, finish
import sambadc




def main():
    sambadc.require_tools(("wbinfo", "winbind"))
    cache = os.path.join(os.environ.get("GH_BUILD") or tempfile.gettempdir(), "sambadc-cache")
    with sambadc.DomainController(cache_dir=cache) as dc:
        r = dc.kinit("carol", check=False)
        check(r.returncode == 0, f"kinit carol ({r.stderr.strip()})")
        r = subprocess.run(["kvno", "-k", dc.keytab, "HTTP/localhost"], env=dc.env,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "keytab entry valid" in r.stdout,
              f"the exported keytab decrypts a service ticket ({r.stdout.strip()} {r.stderr})")
        r = subprocess.run(["klist", "-e"], env=dc.env, capture_output=True, text=True,
                           timeout=30)
        check("HTTP/localhost@CORP.TEST" in r.stdout and "aes256-cts" in r.stdout,
              "service ticket for HTTP/localhost in AES (msDS-SupportedEncryptionTypes)")
        r = dc.kinit(sambadc.DISABLED_USER, check=False)
        check(r.returncode != 0 and "revoked" in r.stderr,
              f"disabled user refused by the KDC ({r.stderr.strip()})")
        r = dc.kinit(sambadc.EXPIRED_USER, check=False)
        out = (r.stdout + r.stderr).lower()
        check(r.returncode != 0 and "expired" in out,
              f"expired password refused by the KDC ({out.strip()})")
        r = dc.kinit(sambadc.UPN, enterprise=True, ccache=os.path.join(dc.dir, "frank.cc"),
                     check=False)
        check(r.returncode == 0, f"kinit -E {sambadc.UPN} ({r.stderr.strip()})")
        carol = dc.user_sid("carol")
        staff = dc.wbinfo("-n", "CORP\\Staff").stdout.split()[0]
        check(carol.startswith(dc.domain_sid + "-"), f"carol's SID in the domain ({carol})")
        r = dc.wbinfo("-s", staff)
        check("corp\\staff" in r.stdout.lower(), f"winbind maps the Staff SID back to its name ({r.stdout})")
    check(dc.proc is None and not sambadc._port_open(88), "stop() leaves no KDC listening")
    # A second start restores the cached provisioning instead of provisioning.
    with sambadc.DomainController(cache_dir=cache) as dc2:
        check(dc2.provisioned_from_cache, "second start restored the cached provisioning")
        r = dc2.kinit("carol", check=False)
        check(r.returncode == 0, "kinit carol on the restored domain")
        check(dc2.domain_sid == dc.domain_sid, "same domain SID after restore")
    # The CLI used by make run-ad: start DIR / stop DIR.
    d = tempfile.mkdtemp(prefix="gh-sambadc-cli-")
    try:
        harness = os.path.join(os.path.dirname(sambadc.__file__), "sambadc.py")
        r = subprocess.run([sys.executable, harness, "start", d, "--cache", cache],
                           capture_output=True, text=True, timeout=200)
        check(r.returncode == 0 and os.path.exists(os.path.join(d, "env")),
              f"CLI start ({r.stderr.strip()[-500:]})")
        r = subprocess.run([sys.executable, harness, "stop", d], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0 and not sambadc._port_open(88), "CLI stop")
    finally:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(sambadc.__file__),
                                                     "sambadc.py"), "stop", d],
                       capture_output=True, timeout=60)
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
