# SPDX-License-Identifier: MIT
"""Security regression (review: NTLM relay across services). With
auth_service_name, the NTLM acceptor compares the client's MsvAvTargetName
(the SPN the client meant to reach, MS-NLMP 2.2.2.1) with the location's
service names: an exchange started for another service fails.

Real server, real clients:
  - gatehouse fetch names "HTTP/<URL host>": to http://localhost it names
    HTTP/localhost (ours): 200; the same client through http://127.0.0.1 names
    HTTP/127.0.0.1, a service this location does not answer to (what a relayed
    exchange looks like): refused; a location listing HTTP/127.0.0.1 too: 200
    (with two names NTLM also used to fail the Kerberos-only check of the
    client's SPN, SEC_E_WRONG_PRINCIPAL: fixed with it);
  - curl --ntlm sends no target name: accepted by default, refused with
    auth_ntlm_require_target_name on."""
import os
import subprocess

from authclients import check, curl, finish, last_response
from ghserver import GhServer, gh_bin

PW = "alice-pw-1"


def fetch(url):
    """The response status, or 4 when fetch gave up after the server refused
    the credentials (its exit code for "authentication failed")."""
    r = subprocess.run([gh_bin(), "fetch", "--auth", "ntlm", "-u", "alice:" + PW, "-i", url],
                       capture_output=True, timeout=60)
    head = r.stdout.split(b"\r\n", 1)[0].decode("latin-1")
    parts = head.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else r.returncode


def main():
    tmp = GhServer("")
    store = os.path.join(tmp.dir, "users")
    subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse", "--stdin"],
                   input=(PW + "\n").encode(), check=True, capture_output=True)
    tmp.write_conf(f"""
auth_backoff_threshold 1000;
auth_user_store {store};
location /open {{ handler whoami; auth NTLM; }}
location /bound {{ handler whoami; auth NTLM; auth_service_name HTTP/localhost; }}
location /both {{ handler whoami; auth NTLM Negotiate;
                 auth_service_name HTTP/localhost HTTP/127.0.0.1; }}
location /strict {{ handler whoami; auth NTLM; auth_service_name HTTP/localhost;
                   auth_ntlm_require_target_name on; }}
""")
    with tmp as srv:
        port = srv.port()
        local = "http://localhost:%d" % port
        numeric = "http://127.0.0.1:%d" % port
        st = fetch(local + "/bound")
        check(st == 200, f"fetch names HTTP/localhost, location binds it: 200 ({st})")
        st = fetch(numeric + "/open")
        check(st == 200, f"no auth_service_name: no service binding (as before): 200 ({st})")
        st = fetch(numeric + "/bound")
        check(st in (401, 4),
              f"fetch names HTTP/127.0.0.1, not ours (relayed exchange): refused ({st})")
        st = fetch(numeric + "/both")
        check(st == 200, f"a location listing HTTP/127.0.0.1 too: 200 ({st})")
        st = fetch(local + "/strict")
        check(st == 200, f"target name required and right: 200 ({st})")
        st, _, _ = last_response(curl(None, "--ntlm", "-u", "alice:" + PW, local + "/bound"))
        check(st == 200, f"curl --ntlm sends no target name: accepted by default ({st})")
        st, _, _ = last_response(curl(None, "--ntlm", "-u", "alice:" + PW, local + "/strict"))
        check(st == 401, f"curl --ntlm with auth_ntlm_require_target_name on: 401 ({st})")
        audit = srv.stderr().lower()
        check("sec_status=0x80090346" in audit,
              "audit: the refused exchange failed with SEC_E_BAD_BINDINGS")
        # issue 11: the reason codes tell the two refusals apart
        check("reason=ntlm_target_name" in audit,
              "audit: reason=ntlm_target_name for the exchange meant for HTTP/127.0.0.1")
        check("reason=ntlm_no_target_name" in audit,
              "audit: reason=ntlm_no_target_name for curl at auth_ntlm_require_target_name on")
        check("auth failure reason=ntlm_target_name:" in audit,
              "error log: the target-name refusal is explained")
        srv.assert_alive()
    finish()


if __name__ == "__main__":
    main()
