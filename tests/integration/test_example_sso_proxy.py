# SPDX-License-Identifier: MIT
"""examples/sso-proxy.conf, run as written (ports and paths moved by
tests/harness/ghexamples.py), against a throwaway EXAMPLE.ORG KDC, with curl:

  - no credentials: 401 offering Negotiate, then NTLM;
  - curl --negotiate with alice's Kerberos ticket: 200 from the application,
    which sees X-Remote-User alice and X-Remote-Auth-Type Negotiate, and
    neither the client's forged identity headers nor its Authorization;
  - curl --ntlm as bob (user store): X-Remote-User bob, X-Remote-Groups staff;
  - a wrong NTLM password: 401, and the application sees nothing.
"""
import os
import shutil

import ghexamples
import krb5realm

NAME = "sso-proxy.conf"
HOST = "sso.example.org"
FORGED = ["-H", "X-Remote-User: mallory", "-H", "X-Remote-Groups: admins",
          "-H", "X-Remote-Auth-Type: Basic", "-H", "X-Remote_User: mallory"]


def www_authenticate(head):
    return [l.split(":", 1)[1].strip() for l in head.splitlines()
            if l.lower().startswith("www-authenticate:")]


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
            with ghexamples.ExampleServer(path, os.path.join(root, "log/error.log"),
                                          env=realm.env) as srv:
                port = srv.https_port()
                url = "https://%s:%d/app/page?x=1" % (HOST, port)

                rc, status, head, _ = ghexamples.curl(url, HOST, port, ca, env=realm.env)
                assert rc == 0 and status == 401, (rc, status, head)
                offers = [w.split()[0] for w in www_authenticate(head)]
                assert offers == ["Negotiate", "NTLM"], offers
                assert not backend.heads, "an unauthenticated request reached the application"

                rc, status, head, body = ghexamples.curl(url, HOST, port, ca, "--negotiate",
                                                         "-u", ":", *FORGED, env=realm.env)
                assert rc == 0 and status == 200 and body == "from app", (rc, status, head, body)
                assert len(backend.heads) == 1, backend.heads
                assert backend.heads[0][0] == "GET /app/page?x=1 HTTP/1.1", backend.heads[0]
                assert backend.header(0, "x-remote-user") == ["alice"], backend.heads[0]
                assert backend.header(0, "x-remote-auth-type") == ["negotiate"], backend.heads[0]
                assert "mallory" not in "\n".join(backend.heads[0]), backend.heads[0]
                assert "admins" not in backend.header(0, "x-remote-groups"), backend.heads[0]
                assert not backend.header(0, "authorization"), "the token reached the app"
                print("ok   Kerberos (Negotiate): the application sees alice, forged headers gone")

                rc, status, head, body = ghexamples.curl(url, HOST, port, ca, "--ntlm", "-u",
                                                         "bob:bob-pw-2", *FORGED, env=realm.env)
                assert rc == 0 and status == 200 and body == "from app", (rc, status, head)
                assert len(backend.heads) == 2, backend.heads
                assert backend.header(1, "x-remote-user") == ["bob"], backend.heads[1]
                assert backend.header(1, "x-remote-groups") == ["staff"], backend.heads[1]
                assert backend.header(1, "x-remote-auth-type") == ["ntlm"], backend.heads[1]
                assert "mallory" not in "\n".join(backend.heads[1]), backend.heads[1]
                print("ok   NTLM (user store): the application sees bob, groups staff")

                rc, status, _, _ = ghexamples.curl(url, HOST, port, ca, "--ntlm", "-u",
                                                   "bob:wrong", env=realm.env)
                assert status == 401 and len(backend.heads) == 2, (rc, status, backend.heads)
                print("ok   wrong NTLM password: 401, nothing forwarded")
    finally:
        backend.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
