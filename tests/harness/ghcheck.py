# SPDX-License-Identifier: MIT
"""Checks that record and go on, for integration tests with many assertions:

    from ghcheck import check, finish
    check(status == 200, "GET /: 200 (%s)" % status)
    ...
    finish()   # exits 1 listing the failed checks, else prints "all checks passed"
"""
import sys

FAILURES = []


def check(cond, what, detail=""):
    """Prints one "ok"/"FAIL" line (and detail, when given, under a failure);
    a failure is remembered for finish()."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        if detail:
            print(detail, flush=True)
        FAILURES.append(what)
    return cond


def finish():
    if FAILURES:
        print("FAILED: %d check(s)" % len(FAILURES))
        for what in FAILURES:
            print("  " + what)
        sys.exit(1)
    print("all checks passed")
