# SPDX-License-Identifier: MIT
"""The Kerberos acceptor's ticket -> identity cache (docs/internals/kerberos.md,
"Identity cache") against a real KDC and curl --negotiate, on a server with
two workers; the status module's counters tell which path each handshake took
(gatehouse_auth_kerberos_ticket_cache_{hits,misses}_total: a hit is a
handshake accepted without asking MIT for the client's name).

- alice's first request is a miss, the next ones (new connections, the same
  service ticket from her ccache) are hits, and every one is alice;
- bob, with his own ccache and ticket, is a miss and then hits, and is always
  bob: never alice's cached identity; alice again is a hit and alice;
- the keytab file gains a new key (a new kvno, the old one kept): the server's
  copy is synced and alice's unchanged ticket is a miss again (a new keytab
  generation is never served the old entries), then hits;
- a replayed token is still refused on a hit (the cache skips names, not
  verification);
- a KDC with disable_pac (tickets without any authorization data): the PAC
  presence check finds none, and the ticket is a miss then hits, as alice."""
import json
import os
import re
import subprocess
import time

import krb5realm
from ghcheck import check, finish
from ghserver import GhServer


def curl(env, *args):
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "20"] + list(args), env=env,
                       capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def whoami(env, base):
    """(status, principal) of a curl --negotiate request on a new connection."""
    text = curl(env, "--negotiate", "-u", ":", base + "/whoami")
    last = [p for p in re.split(r"(?m)^(?=HTTP/1\.1 \d{3})", text) if p.startswith("HTTP/")][-1]
    head, _, body = last.partition("\r\n\r\n")
    status = int(head.split(" ")[1])
    try:
        principal = json.loads(body)["auth"].get("principal")
    except (ValueError, KeyError):
        principal = None
    return status, principal


def counts(base):
    text = curl({}, base + "/metrics")
    out = {}
    for name in ("hits", "misses"):
        m = re.search(r"(?m)^gatehouse_auth_kerberos_ticket_cache_%s_total (\d+)$" % name, text)
        out[name] = int(m.group(1)) if m else None
    return out


def run_user(env, base, who, n, want_misses, want_hits, what):
    before = counts(base)
    results = [whoami(env, base) for _ in range(n)]
    after = counts(base)
    check(all(r == (200, who) for r in results), "%s: %d requests, all 200 as %s (%s)" %
          (what, n, who, results))
    if None in before.values() or None in after.values():
        check(False, "%s: the counters are in the scrape (%s)" % (what, after))
        return
    check(after["misses"] - before["misses"] == want_misses,
          "%s: %d miss(es) (%d)" % (what, want_misses, after["misses"] - before["misses"]))
    check(after["hits"] - before["hits"] == want_hits,
          "%s: %d hit(s) (%d)" % (what, want_hits, after["hits"] - before["hits"]))


def main():
    with krb5realm.Realm(users={"alice": "alice-pw-1", "bob": "bob-pw-2"}) as realm:
        os.environ.update(realm.env)
        conf = f"""
auth_keytab {realm.keytab};
location /whoami {{
    handler whoami;
    auth Negotiate;
}}
location /metrics {{
    handler status;
}}
"""
        with GhServer(conf, workers=2) as srv:
            base = f"http://localhost:{srv.port()}"
            alice = dict(realm.env)
            bob_cc = os.path.join(realm.dir, "bob.cc")
            realm.kinit("bob", ccache=bob_cc)
            bob = dict(realm.env, KRB5CCNAME="FILE:" + bob_cc)

            start = counts(base)
            check(start == {"hits": 0, "misses": 0}, "counters start at 0 (%s)" % start)
            run_user(alice, base, f"alice@{realm.realm}", 5, 1, 4, "alice")
            run_user(bob, base, f"bob@{realm.realm}", 3, 1, 2, "bob, another ticket")
            run_user(alice, base, f"alice@{realm.realm}", 2, 0, 2, "alice again")

            # A new key in the keytab file (kvno + 1; the old entries stay):
            # the copy is synced on the next handshake after a second.
            realm.kadmin(f"ktadd -k {realm.keytab} HTTP/localhost")
            os.chmod(realm.keytab, 0o600)
            time.sleep(1.2)  # the keytab file is looked at once a second at most
            run_user(alice, base, f"alice@{realm.realm}", 3, 1, 2,
                     "alice after the keytab changed")

            # A replay of a token whose ticket is cached: refused all the same.
            tok = None
            text = subprocess.run(
                ["curl", "-s", "-v", "--max-time", "20", "--negotiate", "-u", ":",
                 base + "/whoami"], env=alice, capture_output=True, timeout=30).stderr.decode(
                     "utf-8", "replace")
            m = re.search(r"(?m)^> Authorization: (Negotiate \S+)", text)
            tok = m.group(1) if m else None
            check(tok is not None, "curl -v shows its Authorization header")
            if tok:
                before = counts(base)
                text = curl({}, "-H", "Authorization: " + tok, base + "/whoami")
                check(text.startswith("HTTP/1.1 401"),
                      "the same token again (a replay): 401 (%s)" % text.split("\r\n")[0])
                after = counts(base)
                check(after["hits"] - before["hits"] == 1,
                      "the replay found its ticket in the cache, and was refused anyway")
            srv.assert_alive()

    with krb5realm.Realm(users={"alice": "alice-pw-1"}, disable_pac=True) as realm:
        os.environ.update(realm.env)
        conf = f"""
auth_keytab {realm.keytab};
location /whoami {{ handler whoami; auth Negotiate; }}
location /metrics {{ handler status; }}
"""
        with GhServer(conf) as srv:
            base = f"http://localhost:{srv.port()}"
            run_user(dict(realm.env), base, f"alice@{realm.realm}", 3, 1, 2,
                     "alice, a ticket without PAC (disable_pac)")
            srv.assert_alive()
    finish()


if __name__ == "__main__":
    main()
