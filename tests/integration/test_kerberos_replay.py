# SPDX-License-Identifier: MIT
"""The Kerberos acceptor's replay cache (src/sspi/kerberos/replay.c, issue 12),
against a throwaway KDC, python3-gssapi as the client and the real server:

  - one AP-REQ sent at once on 8 connections to a server with 4 worker
    threads: exactly one 200, the others 401 (whichever worker won);
  - across a restart: a token accepted by one server process is refused by
    the next one (the cache file), and a fresh token passes;
  - MIT's own file cache is not written meanwhile (ours replaced it), ours
    is a private file in KRB5RCACHEDIR;
  - two server processes at once share the file: a token accepted by one
    is refused by the other, both ways."""
import os
import socket
import threading

import krb5realm
from authclients import auth_of, check, finish, send_leg
from ghserver import GhServer

PW = {"alice": "alice-pw-1"}
SPNEGO = "1.3.6.1.5.5.2"


def token():
    import gssapi
    name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, usage="initiate", mech=gssapi.OID.from_int_seq(SPNEGO),
                                 flags=gssapi.RequirementFlag.mutual_authentication)
    return ctx.step()


def one_shot(srv, tok):
    sock = srv.connect()
    try:
        st, _, body, _ = send_leg(sock, "/krb", "Negotiate", tok)
        return st, auth_of(body)
    finally:
        sock.close()


def race(srv, tok, n=8):
    """Sends tok on n connections, opened first, then written together."""
    socks = [srv.connect() for _ in range(n)]
    results = [None] * n
    go = threading.Event()

    def run(i):
        go.wait(10)
        try:
            results[i] = send_leg(socks[i], "/krb", "Negotiate", tok)[0]
        except (OSError, AssertionError) as e:
            results[i] = repr(e)
        finally:
            socks[i].close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join(30)
    return results


def main():
    with krb5realm.Realm(users=PW) as realm:
        os.environ.update(realm.env)
        rcdir = realm.env["KRB5RCACHEDIR"]
        ours = os.path.join(rcdir, "gatehouse_%d.rcache" % os.geteuid())
        mits = os.path.join(rcdir, "krb5_%d.rcache2" % os.geteuid())
        conf = """
auth_backoff_threshold 1000;
auth_keytab %s;
location /krb { handler whoami; auth Negotiate; auth_persist_kerberos off; }
""" % realm.keytab
        srv = GhServer(conf, workers=4)
        second = None
        try:
            srv.start()
            if True:  # the first process
                tok = token()
                results = race(srv, tok)
                check(results.count(200) == 1 and results.count(401) == len(results) - 1,
                      "one token on 8 connections to 4 workers: one 200, the rest 401 (%s)" %
                      results)
                st, a = one_shot(srv, token())
                check(st == 200 and a.get("package") == "Kerberos", "a fresh token: 200 (%s)" % st)
                kept = token()
                st, _ = one_shot(srv, kept)
                check(st == 200, "the token kept for after the restart: 200 (%s)" % st)
                check(os.path.exists(ours) and (os.stat(ours).st_mode & 0o777) == 0o600,
                      "our cache is a private file in KRB5RCACHEDIR")
                check(not os.path.exists(mits), "MIT's file cache is not written")

                # A second process at the same time shares the file: a token
                # one process accepted is refused by the other, both ways.
                second = GhServer(conf, workers=1)
                second.start()
                tok2 = token()
                st1, _ = one_shot(second, tok2)
                st2, _ = one_shot(srv, tok2)
                check(st1 == 200 and st2 == 401,
                      "accepted by a second process, refused by the first (%s, %s)" % (st1, st2))
                tok3 = token()
                st1, _ = one_shot(srv, tok3)
                st2, _ = one_shot(second, tok3)
                check(st1 == 200 and st2 == 401,
                      "accepted by the first process, refused by the second (%s, %s)" % (st1, st2))
                check(not os.path.exists(mits), "MIT's file cache is still not written")
                second.stop()
            srv.stop()
            srv.ports = {}  # a new process, new ports
            srv.start()
            st, _ = one_shot(srv, kept)
            check(st == 401, "after a restart, a token the last process accepted: 401 (%s)" % st)
            st, _ = one_shot(srv, token())
            check(st == 200, "after a restart, a fresh token: 200 (%s)" % st)
            srv.stop()
        finally:
            if second is not None:
                second.cleanup()
            srv.cleanup()
    finish()


if __name__ == "__main__":
    main()
