# SPDX-License-Identifier: MIT
"""`access_log PATH json;` (issue 11): one JSON object per line, whatever bytes
the client sends. Hostile request lines and headers (quotes, backslashes,
control characters, bytes that are not UTF-8, a forged JSON fragment, a
forged newline-free "second record") reach the log; every line must parse
with json.loads, each field must decode back to exactly what was sent
(raw bytes as \\u00XX), and a request refused before it existed (400) gets a
line too, with null request fields."""
import json
import os
import sys
import time

from ghcheck import check, finish
from ghserver import GhServer, read_response

def raw_of(text):
    """The bytes a decoded field stands for: \\u00XX escapes of raw bytes come
    back as U+0080..U+00FF; real non-ASCII characters are not used here."""
    return text.encode("latin-1")


def lines_of(path, want, timeout=5):
    deadline = time.time() + timeout
    while True:
        text = open(path, "rb").read() if os.path.exists(path) else b""
        lines = text.split(b"\n")[:-1]
        if len(lines) >= want or time.time() > deadline:
            return lines
        time.sleep(0.05)


def send(srv, raw):
    s = srv.connect()
    try:
        s.sendall(raw)
        return read_response(s)[0]
    finally:
        s.close()


def main():
    srv = GhServer('location / { handler return; return 200 "hi\\n"; }', access_log=False)
    log = os.path.join(srv.dir, "access.jsonl")
    srv.head += "access_log %s json;\n" % log
    srv.write_conf('location / { handler return; return 200 "hi\\n"; }')
    # the target's bytes are what RFC 9112 lets through (no quote, backslash,
    # < > #: those are a 400, the third request); the fields carry the rest
    target = b"/a%22b/c'd?q={forged:1}&r=|^`|%0A"
    ua = b'evil "quoted" \\back\\ \t\xff\xfe\xc3\x28 end","status":200,"x":"'
    referer = "https://\u00e9t\u00e9.example/caf\u00e9".encode("utf-8")
    with srv:
        st1 = send(srv, b"GET " + target + b" HTTP/1.1\r\nHost: host.example\r\nUser-Agent: " + ua +
                   b"\r\nReferer: " + referer + b"\r\n\r\n")
        st2 = send(srv, b"GET /plain HTTP/1.0\r\n\r\n")
        st3 = send(srv, b"GET /bad\x01target HTTP/1.1\r\nHost: a\r\n\r\n")
        check((st1, st2, st3) == (200, 200, 400), "statuses 200, 200, 400 (%s)" %
              ((st1, st2, st3),))
        lines = lines_of(log, 3)
    check(len(lines) == 3, "three lines (%d)" % len(lines))
    records = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
            records.append(json.loads(line))
            check(True, "line %d is UTF-8 JSON" % (i + 1))
        except ValueError as e:
            check(False, "line %d parses: %s: %r" % (i + 1, e, line))
    if len(records) != 3:
        sys.exit(1)
    a, b, c = records
    want_keys = {"time", "peer", "method", "target", "protocol", "status", "bytes_sent",
                 "duration_ms", "user", "auth", "location", "host", "user_agent", "referer",
                 "aborted"}
    check(all(set(r) == want_keys for r in records), "every line has the documented fields")
    check(raw_of(a["target"]) == target, "hostile target decodes to the bytes sent (%r)" %
          a["target"])
    check(raw_of(a["user_agent"]) == ua, "hostile User-Agent decodes to the bytes sent (%r)" %
          a["user_agent"])
    check(a["referer"] == referer.decode("utf-8"), "UTF-8 Referer kept as text (%r)" %
          a["referer"])
    check(a["host"] == "host.example" and a["status"] == 200 and a["method"] == "GET" and
          a["protocol"] == "HTTP/1.1" and a["location"] == "/" and a["user"] is None,
          "host, status, method, protocol, location, user (%r)" % a)
    check(isinstance(a["bytes_sent"], int) and a["bytes_sent"] > 0, "bytes_sent counted")
    check(b["protocol"] == "HTTP/1.0" and b["host"] is None and b["user_agent"] is None,
          "HTTP/1.0 without headers: nulls (%r)" % b)
    check(c["status"] == 400 and c["method"] is None and c["target"] is None,
          "refused request: status 400, null request fields (%r)" % c)
    check(all(r["time"].endswith("Z") and r["peer"].startswith("127.0.0.1") for r in records),
          "time and peer")
    finish()


if __name__ == "__main__":
    main()
