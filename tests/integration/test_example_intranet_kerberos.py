# SPDX-License-Identifier: MIT
"""examples/intranet-kerberos.conf, run as written (ports and paths moved by
tests/harness/ghexamples.py), against a throwaway EXAMPLE.ORG KDC, with curl:

  - no credentials: 401 offering Negotiate only (no NTLM, no password scheme);
  - curl --ntlm: still 401 (NTLM is not a way in);
  - curl --negotiate --delegation always with alice's forwardable TGT: /whoami
    says Kerberos, user alice, delegated, and names a FILE: ccache inside the
    example's auth_ccache_dir, which is gone once the request has ended;
  - the proxied application sees X-Remote-User alice and no Authorization.

The proxy itself cannot hand the delegated ticket to the application (see the
example's header comment): the ccache is for in-process module code.
"""
import json
import os
import shutil
import time

import ghexamples
import krb5realm

NAME = "intranet-kerberos.conf"
HOST = "intranet.example.org"


def main():
    backend = ghexamples.RecordingBackend()
    root = ghexamples.tmp_root(NAME)
    services = ghexamples.service_names(NAME)
    assert services == ["HTTP/" + HOST], services
    try:
        with krb5realm.Realm(realm="EXAMPLE.ORG", users={"alice": "alice-pw-1"},
                             services=services) as realm:
            path = ghexamples.prepare(NAME, root, backends={8081: backend.port}, realm=realm)
            ca = os.path.join(root, "etc/tls/ca.pem")
            ccdir = os.path.join(root, "lib/ccache")
            with ghexamples.ExampleServer(path, os.path.join(root, "log/error.log"),
                                          env=realm.env) as srv:
                port = srv.https_port()
                base = "https://%s:%d" % (HOST, port)

                rc, status, head, _ = ghexamples.curl(base + "/whoami", HOST, port, ca,
                                                      env=realm.env)
                offers = [l.split(":", 1)[1].strip() for l in head.splitlines()
                          if l.lower().startswith("www-authenticate:")]
                assert rc == 0 and status == 401 and offers == ["Negotiate"], (status, offers)
                rc, status, _, _ = ghexamples.curl(base + "/whoami", HOST, port, ca, "--ntlm",
                                                   "-u", "alice:alice-pw-1", env=realm.env)
                assert status == 401, (rc, status)
                print("ok   only Negotiate is offered; NTLM gets 401")

                rc, status, head, body = ghexamples.curl(
                    base + "/whoami", HOST, port, ca, "--negotiate", "-u", ":",
                    "--delegation", "always", env=realm.env)
                assert rc == 0 and status == 200, (rc, status, head, body)
                auth = json.loads(body)["auth"]
                assert auth["status"] == "success" and auth["user"] == "alice", auth
                assert auth["package"] == "Kerberos" and auth["delegated"] is True, auth
                cc = auth["delegated_ccache"] or ""
                assert cc.startswith("FILE:" + ccdir + "/"), (cc, ccdir)
                for _ in range(100):  # removed when the request ends (after the response)
                    if not os.path.exists(cc[len("FILE:"):]):
                        break
                    time.sleep(0.1)
                assert not os.path.exists(cc[len("FILE:"):]), "delegated ccache left behind"
                print("ok   delegation: the request got %s, removed afterwards" % cc)

                rc, status, _, body = ghexamples.curl(base + "/reports/q1", HOST, port, ca,
                                                      "--negotiate", "-u", ":", env=realm.env)
                assert rc == 0 and status == 200 and body == "from app", (rc, status, body)
                assert backend.header(0, "x-remote-user") == ["alice"], backend.heads
                assert not backend.header(0, "authorization"), backend.heads
                print("ok   the application sees X-Remote-User alice")
    finally:
        backend.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
