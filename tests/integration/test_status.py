# SPDX-License-Identifier: MIT
"""The status module (issue 11, Observability): scrape, provoke, scrape again.

Real requests (curl: plain GETs, a 404, Basic right / wrong / unknown user /
malformed, Basic served from the verified-credentials cache, curl --ntlm with a
wrong and a right password, a backoff 429), on a server with two worker loops,
so the exposition must sum both workers' counters. Every scrape goes through a
strict parser of the Prometheus text format (0.0.4) written here; the checks
compare the counters' deltas with the requests made."""
import math
import os
import re
import socket
import subprocess
import time

from ghcheck import check, finish
from ghserver import GhServer, gh_bin

PW = {"alice": "alice-pw-1"}


# ----------------------------------------------------------- strict parser

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ParseError(Exception):
    pass


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
        raise ParseError("bad value %r" % text)
    return float(text)


def parse_labels(text):
    """'{a="x",b="y\\"z"}' -> dict; escapes: \\\\ \\" \\n only."""
    labels = {}
    i = 1
    while True:
        if text[i] == "}":
            if i != len(text) - 1:
                raise ParseError("junk after labels: %r" % text)
            return labels
        m = re.match(LABEL, text[i:])
        if not m:
            raise ParseError("bad label name in %r" % text)
        name = m.group(0)
        i += len(name)
        if text[i:i + 2] != '="':
            raise ParseError("expected =\" in %r" % text)
        i += 2
        value = []
        while text[i] != '"':
            if text[i] == "\\":
                esc = text[i + 1]
                if esc not in '\\"n':
                    raise ParseError("bad escape in %r" % text)
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif text[i] == "\n":
                raise ParseError("newline in label value")
            else:
                value.append(text[i])
                i += 1
        i += 1
        if name in labels:
            raise ParseError("label %s repeated" % name)
        labels[name] = "".join(value)
        if text[i] == ",":
            i += 1
        elif text[i] != "}":
            raise ParseError("expected , or } in %r" % text)


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            if suffix == "_bucket" and types[base] != "histogram":
                break
            return base
    raise ParseError("sample %s before (or without) its # TYPE" % name)


def parse_exposition(text):
    """Returns {(name, frozenset(labels.items())): value} and {family: type}."""
    if not text.endswith("\n"):
        raise ParseError("does not end with a newline")
    types, helps, samples, seen_families = {}, {}, {}, []
    for line in text[:-1].split("\n"):
        if line == "":
            raise ParseError("empty line")
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % NAME, line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    raise ParseError("bad comment %r" % line)
                continue
            kind, name, rest = m.groups()
            if kind == "TYPE":
                if rest not in TYPES:
                    raise ParseError("unknown type %r" % rest)
                if name in types or name in seen_families:
                    raise ParseError("TYPE for %s repeated or after its samples" % name)
                types[name] = rest
            else:
                if name in helps:
                    raise ParseError("HELP for %s repeated" % name)
                helps[name] = rest
            continue
        m = re.fullmatch(r"(%s)(\{.*\})? (\S+)( -?\d+)?" % NAME, line)
        if not m:
            raise ParseError("bad sample line %r" % line)
        name, labels, value = m.group(1), m.group(2), m.group(3)
        fam = family_of(name, types)
        if seen_families and seen_families[-1] != fam and fam in seen_families:
            raise ParseError("family %s interleaved" % fam)
        if not seen_families or seen_families[-1] != fam:
            seen_families.append(fam)
        lab = parse_labels(labels) if labels else {}
        if name.endswith("_bucket") and "le" not in lab:
            raise ParseError("bucket without le: %r" % line)
        key = (name, frozenset(lab.items()))
        if key in samples:
            raise ParseError("duplicate series %r" % line)
        samples[key] = parse_value(value)
    check_histograms(samples, types)
    return samples, types


def check_histograms(samples, types):
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for (name, lab), v in samples.items():
            if name == fam + "_bucket":
                rest = frozenset((k, x) for k, x in lab if k != "le")
                le = dict(lab)["le"]
                series.setdefault(rest, []).append((parse_value(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            if not buckets or not math.isinf(buckets[-1][0]):
                raise ParseError("%s%s: no +Inf bucket" % (fam, dict(rest)))
            counts = [v for _, v in buckets]
            if counts != sorted(counts):
                raise ParseError("%s%s: buckets not cumulative" % (fam, dict(rest)))
            if samples.get((fam + "_count", rest)) != counts[-1]:
                raise ParseError("%s%s: _count differs from the +Inf bucket" % (fam, dict(rest)))
            if (fam + "_sum", rest) not in samples:
                raise ParseError("%s%s: no _sum" % (fam, dict(rest)))


def parser_self_test():
    """The parser must refuse what Prometheus refuses (else it proves nothing)."""
    good = "# TYPE a counter\na{x=\"1\"} 2\n"
    parse_exposition(good)
    bad = [good[:-1], "a 1\n", "# TYPE a counter\na{x=1} 2\n", "# TYPE a counter\na 1\na 2\n",
           "# TYPE a counter\na one\n", "# TYPE a counter\na{x=\"\\q\"} 1\n",
           "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
           "# TYPE a counter\n\na 1\n", "# TYPE a counter\n# TYPE a counter\na 1\n"]
    for text in bad:
        try:
            parse_exposition(text)
        except ParseError:
            continue
        check(False, "the parser refuses %r" % text)


# ----------------------------------------------------------------- driving

def curl(*args):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"]
                       + list(args), capture_output=True, timeout=30)
    return int(r.stdout.decode() or "0")


def scrape(srv):
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "20", srv.url("/metrics")],
                       capture_output=True, timeout=30)
    head, _, body = r.stdout.decode("utf-8", "replace").partition("\r\n\r\n")
    check(head.startswith("HTTP/1.1 200"), "scrape: 200 (%s)" % head.split("\r\n")[0])
    check("content-type: text/plain; version=0.0.4" in head.lower(),
          "scrape: Content-Type text/plain; version=0.0.4")
    try:
        samples, types = parse_exposition(body)
    except ParseError as e:
        check(False, "scrape parses as Prometheus text: %s" % e)
        return {}
    return samples


def val(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before, after, name, **labels):
    return val(after, name, **labels) - val(before, name, **labels)


def basic(srv, user, password, path="/basic"):
    return curl("-u", "%s:%s" % (user, password), srv.url(path))


def test_counters(srv):
    s0 = scrape(srv)
    check(val(s0, "gatehouse_workers") == 2, "gatehouse_workers 2")
    for name in ("gatehouse_requests_total", "gatehouse_blocking_pool_queue_depth",
                 "gatehouse_auth_backoff_refusals_total"):
        check(any(k[0] == name for k in s0), "%s present" % name)

    codes = [curl(srv.url("/ok")) for _ in range(3)] + [curl(srv.url("/nowhere"))]
    check(codes == [200, 200, 200, 404], "plain requests: 200 x3, 404 (%s)" % codes)
    s1 = scrape(srv)
    # the first scrape itself was answered (2xx) before s1 read the counters
    check(delta(s0, s1, "gatehouse_requests_total", **{"class": "2xx"}) == 4,
          "2xx +4 (3 GETs and the first scrape): %s" %
          delta(s0, s1, "gatehouse_requests_total", **{"class": "2xx"}))
    check(delta(s0, s1, "gatehouse_requests_total", **{"class": "4xx"}) == 1, "4xx +1")
    check(delta(s0, s1, "gatehouse_connections_accepted_total") == 5,
          "connections accepted +5 (%s)" % delta(s0, s1, "gatehouse_connections_accepted_total"))

    # Basic: a miss (verified by the store), then a hit (cached), then failures.
    got = [basic(srv, "alice", PW["alice"]), basic(srv, "alice", PW["alice"]),
           basic(srv, "alice", "wrong"), basic(srv, "mallory", "x")]
    check(got == [200, 200, 401, 401], "Basic: right, right (cached), wrong, unknown (%s)" % got)
    bad = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                          "Authorization: Basic bm9jb2xvbg==", srv.url("/basic")],
                         capture_output=True, timeout=30).stdout.decode()
    check(bad == "400", "Basic, no colon in the credentials: 400 (%s)" % bad)
    s2 = scrape(srv)
    B = {"scheme": "Basic"}
    check(delta(s1, s2, "gatehouse_auth_handshakes_started_total", **B) == 5,
          "Basic started +5 (%s)" % delta(s1, s2, "gatehouse_auth_handshakes_started_total", **B))
    check(delta(s1, s2, "gatehouse_auth_handshakes_completed_total", **B) == 2, "Basic completed +2")
    for reason in ("wrong_password", "unknown_user", "malformed"):
        d = delta(s1, s2, "gatehouse_auth_handshakes_failed_total", scheme="Basic", reason=reason)
        check(d == 1, "Basic failed{reason=%s} +1 (%s)" % (reason, d))
    hits = delta(s1, s2, "gatehouse_auth_basic_cache_hits_total")
    misses = delta(s1, s2, "gatehouse_auth_basic_cache_misses_total")
    # right (miss, added), right (hit), wrong (miss), unknown user (miss)
    check(hits == 1 and misses == 3, "Basic cache: 1 hit, 3 misses (%s, %s)" % (hits, misses))
    check(delta(s1, s2, "gatehouse_auth_handshake_duration_seconds_count", **B) == 5,
          "Basic latency histogram counted 5")
    check(delta(s1, s2, "gatehouse_requests_total", **{"class": "4xx"}) == 3,
          "4xx +3 (two 401s, one 400)")

    # NTLM through curl: a wrong password fails at the third leg; the right one
    # completes (one handshake each, however many legs).
    st_bad = curl("--ntlm", "-u", "alice:wrong", srv.url("/ntlm"))
    st_ok = curl("--ntlm", "-u", "alice:" + PW["alice"], srv.url("/ntlm"))
    check((st_bad, st_ok) == (401, 200), "curl --ntlm: wrong 401, right 200 (%s, %s)" %
          (st_bad, st_ok))
    s3 = scrape(srv)
    N = {"scheme": "NTLM"}
    check(delta(s2, s3, "gatehouse_auth_handshakes_started_total", **N) == 2,
          "NTLM started +2 (%s)" % delta(s2, s3, "gatehouse_auth_handshakes_started_total", **N))
    check(delta(s2, s3, "gatehouse_auth_handshakes_completed_total", **N) == 1, "NTLM completed +1")
    # the reason is the audit line's (src/auth/reason.h): NTLM's proof of a
    # wrong password is wrong_password
    failed = {dict(k[1])["reason"]: delta(s2, s3, k[0], **dict(k[1])) for k in s3
              if k[0] == "gatehouse_auth_handshakes_failed_total" and
              dict(k[1])["scheme"] == "NTLM"}
    failed = {r: n for r, n in failed.items() if n}
    check(failed == {"wrong_password": 1}, "NTLM failed{reason=wrong_password} +1 (%s)" % failed)
    check(delta(s2, s3, "gatehouse_auth_handshake_duration_seconds_count", **N) == 2,
          "NTLM latency histogram counted 2")
    check(delta(s2, s3, "gatehouse_auth_handshakes_started_total", **B) == 0, "Basic unmoved")
    return s3


def test_backoff(srv, before):
    """The /strict location's engine is the server's: failures so far count.
    Wrong passwords until 429s come; every 429 is one backoff refusal."""
    codes = [basic(srv, "alice", "wrong") for _ in range(8)]
    after = scrape(srv)
    n429, n401 = codes.count(429), codes.count(401)
    check(n429 > 0 and n429 + n401 == 8, "backoff: 401s then 429s (%s)" % codes)
    check(delta(before, after, "gatehouse_auth_backoff_refusals_total") == n429,
          "backoff refusals +%d (%s)" % (n429,
                                         delta(before, after,
                                               "gatehouse_auth_backoff_refusals_total")))
    d = delta(before, after, "gatehouse_auth_handshakes_failed_total", scheme="Basic",
              reason="wrong_password")
    check(d == n401, "a refused request is no handshake: failures +%d (%s)" % (n401, d))


def test_open_connections(srv):
    socks = []
    try:
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", srv.port()), timeout=10)
            s.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            socks.append(s)
        samples = scrape(srv)
        check(val(samples, "gatehouse_connections_open") >= 4,
              "3 keep-alive connections + the scrape's open (%s)" %
              val(samples, "gatehouse_connections_open"))
    finally:
        for s in socks:
            s.close()
    # The server sees the closes asynchronously: wait (bounded) for them.
    deadline = time.time() + 10
    open_now = None
    while time.time() < deadline:
        open_now = val(scrape(srv), "gatehouse_connections_open")
        if open_now == 1:
            break
        time.sleep(0.1)
    check(open_now == 1, "after the closes only the scrape's connection is open (%s)" % open_now)


def main():
    parser_self_test()
    srv = GhServer("", workers=2)
    store = os.path.join(srv.dir, "users")
    subprocess.run([gh_bin(), "passwd", store, "add", "alice", "--realm", "gatehouse", "--stdin"],
                   input=(PW["alice"] + "\n").encode(), check=True, capture_output=True)
    srv.write_conf(f"""
auth_backoff_threshold 6;
auth_backoff_max 30s;
auth_user_store {store};
location /metrics {{ handler status; }}
location /ok {{ handler return; return 200 "ok\\n"; }}
location /basic {{ handler whoami; auth Basic; auth_basic_over_http on; }}
location /ntlm {{ handler whoami; auth NTLM; }}
""")
    with srv:
        s3 = test_counters(srv)
        test_open_connections(srv)
        test_backoff(srv, s3)
    finish()


if __name__ == "__main__":
    main()
