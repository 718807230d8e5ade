# SPDX-License-Identifier: MIT
"""examples/basic-digest-tls.conf, run as written (ports and paths moved by
tests/harness/ghexamples.py), with curl against the built-in user store:

  - the server listens on TLS only; plain HTTP to that port gets no page;
  - no credentials: 401 offering Digest SHA-256, Digest MD5, then Basic,
    all in realm "Example Corp";
  - curl --digest and curl --basic log on (whoami names the scheme);
  - a wrong password: 401; /admin/ is for group admins: bob 403, alice 200;
  - the static site answers the logged-on user.
"""
import json
import os
import shutil
import subprocess

import ghexamples

NAME = "basic-digest-tls.conf"
HOST = "www.example.org"


def main():
    root = ghexamples.tmp_root(NAME)
    try:
        path = ghexamples.prepare(NAME, root)
        ca = os.path.join(root, "etc/tls/ca.pem")
        with ghexamples.ExampleServer(path, os.path.join(root, "log/error.log")) as srv:
            assert list(srv.ports) == ["https"], srv.ports
            port = srv.https_port()
            base = "https://%s:%d" % (HOST, port)
            plain = subprocess.run(["curl", "-s", "-m", "60", "-o", "/dev/null", "-w",
                                    "%{http_code}", "http://127.0.0.1:%d/" % port],
                                   capture_output=True, text=True, timeout=90)
            assert plain.stdout in ("000", "400"), plain.stdout
            print("ok   TLS only: plain HTTP gets %s" % plain.stdout)

            rc, status, head, _ = ghexamples.curl(base + "/whoami", HOST, port, ca)
            offers = [l.split(":", 1)[1].strip() for l in head.splitlines()
                      if l.lower().startswith("www-authenticate:")]
            assert rc == 0 and status == 401 and len(offers) == 3, (status, offers)
            assert offers[0].startswith("Digest ") and "algorithm=SHA-256" in offers[0], offers
            assert offers[1].startswith("Digest ") and "algorithm=MD5" in offers[1], offers
            assert offers[2].startswith("Basic "), offers
            assert all('realm="Example Corp"' in o for o in offers), offers
            print("ok   401 offers Digest SHA-256, Digest MD5, Basic")

            for flag, user, scheme in (("--digest", "alice", "Digest"), ("--basic", "bob", "Basic")):
                pw = ghexamples.USERS[user][0]
                rc, status, _, body = ghexamples.curl(base + "/whoami", HOST, port, ca, flag,
                                                      "-u", "%s:%s" % (user, pw))
                assert rc == 0 and status == 200, (flag, rc, status, body)
                auth = json.loads(body)["auth"]
                assert auth["user"] == user and auth["type"] == scheme, auth
                rc, status, _, _ = ghexamples.curl(base + "/whoami", HOST, port, ca, flag,
                                                   "-u", "%s:wrong" % user)
                assert status == 401, (flag, rc, status)
                print("ok   %s: %s logs on; a wrong password gets 401" % (scheme, user))

            rc, status, _, _ = ghexamples.curl(base + "/admin/", HOST, port, ca, "--digest",
                                               "-u", "bob:" + ghexamples.USERS["bob"][0])
            assert status == 403, status
            rc, status, _, body = ghexamples.curl(base + "/admin/", HOST, port, ca, "--digest",
                                                  "-u", "alice:" + ghexamples.USERS["alice"][0])
            assert status == 200 and "admins" in json.loads(body)["auth"]["groups"], (status, body)
            print("ok   /admin/: bob (staff) 403, alice (admins) 200")

            rc, status, _, body = ghexamples.curl(base + "/", HOST, port, ca, "--digest",
                                                  "-u", "alice:" + ghexamples.USERS["alice"][0])
            assert status == 200 and body == "<p>www</p>\n", (status, body)
            print("ok   the static site answers")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
