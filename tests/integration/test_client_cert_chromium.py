# SPDX-License-Identifier: MIT
"""Headless Chromium and a location requiring a client certificate (issue 7).

Chromium never offers TLS 1.3 post-handshake authentication, so a certificate
cannot be asked for after its handshake. The defined outcomes, never a reset
or a 500:
  - `tls_client_certificate_no_pha reject` (the default): 403 with a page that
    says why;
  - `tls_client_certificate_no_pha redirect URL`: 307 to a listener declared
    `listen ... tls client_cert;`, which asks in the initial handshake. This
    Chromium has no certificate to give (an empty profile), so it answers the
    CertificateRequest with none and that listener's location says "presented
    none" (the flow, not the certificate selection, is what is checked).
Chromium is killed with its process group if it hangs."""
import os
import re
import shutil
import signal
import subprocess
import tempfile

from apachehttpd import free_port
from authclients import check, finish
from clientpki import make_client_pki
from ghserver import GhServer

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--ignore-certificate-errors"]


def chromium(url, timeout=60):
    prof = tempfile.mkdtemp(prefix="gh-chromium-")
    try:
        argv = ([shutil.which("chromium") or "chromium"] + FLAGS + ["--user-data-dir=" + prof] +
                ["--dump-dom", url])
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return ""
        return out.decode("utf-8", "replace")
    finally:
        shutil.rmtree(prof, ignore_errors=True)


def main():
    if shutil.which("chromium") is None:
        raise SystemExit("chromium is not installed (scripts/install-deps installs it)")
    p = make_client_pki(tempfile.mkdtemp(prefix="gh-pki-"))
    port2 = free_port()
    top = ("tls_client_ca %s;\nlisten 127.0.0.1:%d tls client_cert;\n" % (p["ca"], port2))
    conf = """
location /req/ { tls_client_certificate require; handler return; return 200 "req"; }
location /redir/ { tls_client_certificate require;
                   tls_client_certificate_no_pha redirect https://localhost:%d;
                   handler return; return 200 "redir"; }
""" % port2
    with GhServer(conf, https=True, http=False, workers=1, extra_top=top) as srv:
        ports = [int(x) for x in re.findall(r"listening on https://127\.0\.0\.1:(\d+)",
                                             srv.stderr())]
        tp = [x for x in ports if x != port2][0]
        dom = chromium("https://localhost:%d/req/x" % tp)
        check("post-handshake authentication" in dom,
              "chromium TLS 1.3 without PHA: 403 page saying why")
        mark = len(srv.stderr())
        dom = chromium("https://localhost:%d/redir/x" % tp)
        log = srv.stderr()[mark:]
        check(re.search(r'"GET /redir/x HTTP/1\.1" 307', srv.access_log()) is not None,
              "chromium without PHA: 307 to the handshake listener")
        check("client certificate in handshake: none presented" in log and
              "presented none" in dom,
              "chromium follows to the listener asking in the handshake (no certificate "
              "in its profile: 403 'presented none')")
        srv.assert_alive()
    finish()


if __name__ == "__main__":
    main()
