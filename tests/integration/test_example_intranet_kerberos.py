# SPDX-License-Identifier: MIT
"""examples/intranet-kerberos.conf, run as written (ports and paths moved by
tests/harness/ghexamples.py), against a throwaway EXAMPLE.ORG KDC, with curl:

  - no credentials: 401 offering Negotiate only (no NTLM, no password scheme);
  - curl --ntlm: still 401 (NTLM is not a way in);
  - curl --negotiate --delegation always with alice's forwardable TGT: /whoami
    says Kerberos, user alice, delegated, and names a FILE: ccache inside the
    example's auth_ccache_dir, which is gone once the request has ended;
  - the proxied application sees X-Remote-User alice and no Authorization;
  - /reports/ (proxy_delegated_credentials kerberos): a Kerberos acceptor
    written with python3-gssapi (MIT underneath, not our code), holding its
    own HTTP/reports.example.org key, accepts the proxy's Negotiate token and
    finds alice@EXAMPLE.ORG as the initiator: the proxy logged on as alice
    with the TGT she delegated. Without delegation the proxy sends nothing
    (the application refuses the request) and says why in the error log.
"""
import base64
import json
import os
import shutil
import time

import ghexamples
import krb5realm

NAME = "intranet-kerberos.conf"
HOST = "intranet.example.org"


class GssapiBackend(ghexamples.RecordingBackend):
    """An application that authenticates with Negotiate itself (python3-gssapi
    over MIT): accepts a token for its own key and answers who the initiator
    is, or 403 (no token) / 401 (a refused one). Records each request's
    Authorization scheme and outcome in seen."""

    def __init__(self, keytab):
        import gssapi
        self.gssapi = gssapi
        self.creds = gssapi.Credentials(usage="accept", store={"keytab": keytab})
        self.seen = []  # (Authorization scheme or None, initiator or error)
        super().__init__(respond=self._answer)

    def _answer(self, head):
        auth = [l.split(":", 1)[1].strip() for l in head.split("\r\n")[1:]
                if l.lower().startswith("authorization:")]
        if not auth or not auth[0].startswith("Negotiate "):
            self.seen.append((None, "no Negotiate"))
            # 403, not a 401 with a challenge: curl would answer it again itself
            return b"403 Forbidden", b"", b"who are you?"
        try:
            ctx = self.gssapi.SecurityContext(creds=self.creds, usage="accept")
            ctx.step(base64.b64decode(auth[0][len("Negotiate "):]))
            who = str(ctx.initiator_name)
        except Exception as e:  # a refused token: 401, and what GSSAPI said
            self.seen.append(("Negotiate", "refused: %s" % e))
            return b"401 Unauthorized", b"", b"refused"
        self.seen.append(("Negotiate", who))
        return b"200 OK", b"", ("kerberos:" + who).encode()


def main():
    backend = ghexamples.RecordingBackend()
    root = ghexamples.tmp_root(NAME)
    services = ghexamples.service_names(NAME)
    assert services == ["HTTP/" + HOST], services
    reports = None
    try:
        with krb5realm.Realm(realm="EXAMPLE.ORG", users={"alice": "alice-pw-1"},
                             services=services) as realm:
            reports_keytab = os.path.join(root, "reports.keytab")
            os.makedirs(root, exist_ok=True)
            realm.add_service("HTTP/reports.example.org", reports_keytab)
            os.environ.update(realm.env)  # python3-gssapi reads KRB5_CONFIG
            reports = GssapiBackend(reports_keytab)
            path = ghexamples.prepare(NAME, root, backends={8081: backend.port,
                                                            8082: reports.port}, realm=realm)
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

                rc, status, _, body = ghexamples.curl(base + "/docs/q1", HOST, port, ca,
                                                      "--negotiate", "-u", ":", env=realm.env)
                assert rc == 0 and status == 200 and body == "from app", (rc, status, body)
                assert backend.header(0, "x-remote-user") == ["alice"], backend.heads
                assert not backend.header(0, "authorization"), backend.heads
                print("ok   the application sees X-Remote-User alice")

                rc, status, _, body = ghexamples.curl(
                    base + "/reports/q1", HOST, port, ca, "--negotiate", "-u", ":",
                    "--delegation", "always", env=realm.env)
                assert rc == 0 and status == 200 and body == "kerberos:alice@EXAMPLE.ORG", \
                    (rc, status, body, reports.seen)
                assert reports.seen == [("Negotiate", "alice@EXAMPLE.ORG")], reports.seen
                print("ok   /reports/: python3-gssapi accepted the proxy's ticket as "
                      "alice@EXAMPLE.ORG (her delegated TGT)")
                rc, status, _, body = ghexamples.curl(base + "/reports/q1", HOST, port, ca,
                                                      "--negotiate", "-u", ":", env=realm.env)
                assert rc == 0 and status == 403 and body == "who are you?", (rc, status, body)
                assert reports.seen[-1] == (None, "no Negotiate"), reports.seen
                with open(os.path.join(root, "log/error.log")) as f:
                    log = f.read()
                assert "delegated no Kerberos credentials" in log, log[-2000:]
                print("ok   without delegation: nothing sent, the application's 401, and "
                      "the error log says why")
    finally:
        backend.close()
        if reports is not None:
            reports.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
