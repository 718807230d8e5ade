# SPDX-License-Identifier: MIT
"""gatehouse bench (issue 12) against our server and a throwaway KDC: small
-n runs whose --json report is parsed and whose counts are exact:

  - none, keep-alive: -n 20 gives 20 requests, 20 ok, one handshake (TCP
    connection) per connection; --new-conn: 20 requests and 20 handshakes;
    the plain path with 3 threads; https with --cacert;
  - basic, ntlm (raw NTLM through the security library), negotiate and
    kerberos (the Kerberos ccache), digest: 20 requests, 20 ok; with --new-conn 20
    handshakes; on keep-alive NTLM and Negotiate (identity kept) at most one
    handshake per connection;
  - a wrong password: every request counted as an auth error, exit 1;
  - nothing listening: connect errors, exit 1; a 404: status_4xx;
  - the text report names the figures; no progress line when stdout is
    not a terminal; usage errors exit 2."""
import json
import os
import subprocess
import time

import krb5realm
from authclients import check, finish
from ghserver import GhServer, gh_bin
from ports import free_port

PW = {"alice": "alice-pw-1"}


def bench(env, *args):
    r = subprocess.run([gh_bin(), "bench", "--timeout", "30"] + list(args), env=env,
                       capture_output=True, timeout=300)
    err = r.stderr.decode(errors="replace")
    if "AddressSanitizer" in err or "runtime error" in err or "LeakSanitizer" in err:
        check(False, "sanitizer report from bench:\n" + err)
    return r.returncode, r.stdout.decode(errors="replace"), err


def bench_json(env, *args):
    rc, out, err = bench(env, "--json", *args)
    try:
        return rc, json.loads(out)
    except ValueError:
        print(out, err)
        return rc, {}


def main():
    with krb5realm.Realm(users=dict(PW)) as realm:
        os.environ.update(realm.env)
        store = os.path.join(realm.dir, "users")
        subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse",
                        "--iterations", "1000", "--stdin"], input=(PW["alice"] + "\n").encode(),
                       check=True, capture_output=True)
        conf = f"""
auth_keytab {realm.keytab};
auth_user_store {store};
auth_backoff_threshold 100000;
auth_basic_over_http on;
keepalive_requests 1000000;
location /plain {{ handler return; return 200 "hello\\n"; }}
location /neg {{ handler whoami; auth Negotiate; auth_persist_kerberos on; }}
location /ntlm {{ handler whoami; auth NTLM; }}
location /krb {{ handler whoami; auth Kerberos; }}
location /digest {{ handler whoami; auth Digest; }}
location /basic {{ handler whoami; auth Basic; }}
"""
        env = dict(realm.env)
        env.pop("NTLM_USER_FILE", None)
        alice = ["-u", "alice:" + PW["alice"]]
        with GhServer(conf, https=True, workers=2) as srv:
            http = "http://localhost:%d" % srv.port()
            https = "https://localhost:%d" % srv.port(tls=True)

            rc, j = bench_json(env, "-n", "20", "-c", "4", http + "/plain")
            check(rc == 0 and j.get("requests") == 20 and j.get("ok") == 20 and
                  j.get("handshakes") == 4 and j.get("errors_total") == 0,
                  "none, keep-alive, -n 20 -c 4: 20 requests, 20 ok, 4 connections (%s)" % j)
            check(all(k in j.get("latency_us", {}) for k in ("p50", "p90", "p99", "max")) and
                  j["latency_us"]["p50"] <= j["latency_us"]["max"],
                  "latency percentiles p50 <= max")
            rc, j = bench_json(env, "-n", "20", "-c", "3", "--new-conn", http + "/plain")
            check(rc == 0 and j.get("requests") == 20 and j.get("handshakes") == 20,
                  "none --new-conn -n 20: 20 requests and 20 handshakes (%s)" % j)
            rc, j = bench_json(env, "-n", "300", "-c", "6", "--threads", "3", http + "/plain")
            check(rc == 0 and j.get("requests") == 300 and j.get("ok") == 300,
                  "the epoll path with 3 threads: 300 ok (%s)" % j)
            rc, j = bench_json(env, "-n", "10", "-c", "2", "--cacert", srv.ca,
                               https + "/plain")
            check(rc == 0 and j.get("ok") == 10 and 1 <= j.get("handshakes", 0) <= 2,
                  "https, keep-alive: 10 ok over at most 2 TLS connections (%s)" % j)

            for mode, path, cred in (("basic", "/basic", alice), ("ntlm", "/ntlm", alice),
                                     ("negotiate", "/neg", []), ("kerberos", "/krb", []),
                                     ("digest", "/digest", alice)):
                rc, j = bench_json(env, "--auth", mode, *cred, "-n", "20", "-c", "2",
                                   "--new-conn", http + path)
                check(rc == 0 and j.get("requests") == 20 and j.get("ok") == 20 and
                      j.get("handshakes") == 20,
                      "%s --new-conn -n 20: 20 ok, 20 handshakes (%s)" % (mode, j))
            # --preemptive: the first request carries the first token. The
            # access log counts the 401s the server had to send: one per NTLM
            # handshake (the CHALLENGE), none for Kerberos or Basic; without
            # it, NTLM costs an anonymous request and its 401 more.
            for mode, path, cred, per in (("ntlm", "/ntlm", alice, 1), ("negotiate", "/neg", [], 0),
                                          ("kerberos", "/krb", [], 0), ("basic", "/basic", alice, 0),
                                          (None, "/ntlm", alice, 2)):
                flags = ["--preemptive"] if mode is not None else []
                before = srv.access_log().count('" 401 ')
                rc, j = bench_json(env, "--auth", mode or "ntlm", *cred, *flags, "-n", "10", "-c",
                                   "2", "--new-conn", http + path)
                time.sleep(0.2)  # the access log is written after the response
                n401 = srv.access_log().count('" 401 ') - before
                check(rc == 0 and j.get("ok") == 10 and j.get("handshakes") == 10 and
                      n401 == 10 * per, "%s: 10 handshakes, %d 401s from the server (%s)" %
                      ("%s --preemptive" % mode if mode else "ntlm without --preemptive", n401, j))
            rc, _, err = bench(env, "--auth", "digest", *alice, "--preemptive", "-n", "1",
                               http + "/digest")
            check(rc == 2 and "--preemptive needs" in err, "digest --preemptive: usage error (%s)"
                  % err.strip())
            rc, j = bench_json(env, "--auth", "ntlm", *alice, "-n", "20", "-c", "2",
                               http + "/ntlm")
            # A connection's thread may take every request before the other
            # one starts: at most one handshake per connection.
            check(rc == 0 and j.get("ok") == 20 and 1 <= j.get("handshakes", 0) <= 2,
                  "ntlm keep-alive: one handshake per connection (%s)" % j)
            rc, j = bench_json(env, "--auth", "negotiate", "-n", "20", "-c", "2", http + "/neg")
            check(rc == 0 and j.get("ok") == 20 and 1 <= j.get("handshakes", 0) <= 2,
                  "negotiate keep-alive, identity kept: one handshake per connection (%s)" % j)
            rc, j = bench_json(env, "--auth", "basic", *alice, "-n", "20", "-c", "2",
                               http + "/basic")
            check(rc == 0 and j.get("ok") == 20,
                  "basic keep-alive: 20 ok (%s)" % j)

            for mode, path in (("basic", "/basic"), ("ntlm", "/ntlm")):
                rc, j = bench_json(env, "--auth", mode, "-u", "alice:wrong", "-n", "20", "-c",
                                   "2", http + path)
                check(rc == 1 and j.get("requests") == 20 and j.get("ok") == 0 and
                      j.get("errors", {}).get("auth") == 20,
                      "%s, wrong password: 20 auth errors, exit 1 (%s)" % (mode, j))
            rc, j = bench_json(env, "-n", "5", http + "/nothing-here")
            check(rc == 1 and j.get("errors", {}).get("status_4xx") == 5,
                  "a 404 counts as status_4xx (%s)" % j)
            rc, j = bench_json(env, "-n", "5", "-c", "2", "http://127.0.0.1:%d/" % free_port())
            check(rc == 1 and j.get("requests") == 5 and j.get("errors", {}).get("connect") == 5,
                  "nothing listening: 5 connect errors (%s)" % j)

            rc, out, _ = bench(env, "-n", "50", "-c", "2", http + "/plain")
            check(rc == 0 and "requests/s" in out and "handshakes/s" in out and "p99" in out and
                  "\r" not in out, "text report, no progress line off a terminal")
            rc, _, err = bench(env, "-c", "0", "-n", "1", http + "/plain")
            check(rc == 2 and "-c" in err, "-c 0: usage error, exit 2")
            rc, _, err = bench(env, "--auth", "credssp", "-n", "1", http + "/plain")
            check(rc == 2, "--auth credssp is not a bench mode: exit 2")
    finish()


if __name__ == "__main__":
    main()
