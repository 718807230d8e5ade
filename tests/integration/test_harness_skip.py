# SPDX-License-Identifier: MIT
"""tests/harness/ghskip.py: a skip exits 77 (CTest's SKIP_RETURN_CODE, so the
summary lists it), and a missing installable peer fails unless the developer
opted out with GH_ALLOW_MISSING_PEERS=1 - and never when CI=true."""
import os
import subprocess
import sys

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness")

CASES = [
    # (what the child calls, extra environment, wanted exit status, wanted text)
    ("skip('feature x is not in this tree')", {}, 77, "SKIPPED: feature x"),
    ("missing_peer('apache2 is not installed', 'apache2')", {}, 1, "FAIL: apache2"),
    ("missing_peer('apache2 is not installed', 'apache2')",
     {"GH_ALLOW_MISSING_PEERS": "1"}, 77, "SKIPPED: apache2"),
    ("missing_peer('apache2 is not installed', 'apache2')",
     {"GH_ALLOW_MISSING_PEERS": "1", "CI": "true"}, 1, "CI=true"),
    ("missing_peer('apache2 is not installed', 'apache2')", {"CI": "true"}, 1, "CI=true"),
]


def main():
    failed = 0
    for call, extra, want_rc, want_text in CASES:
        env = {k: v for k, v in os.environ.items()
               if k not in ("CI", "GH_ALLOW_MISSING_PEERS")}
        env.update(extra)
        env["PYTHONPATH"] = HARNESS
        code = "from ghskip import skip, missing_peer\n%s\nprint('fell through')\n" % call
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=30)
        ok = r.returncode == want_rc and want_text in r.stdout
        print("%s %s %s -> %d %r" % ("ok  " if ok else "FAIL", call, extra, r.returncode,
                                      r.stdout.strip()))
        failed += 0 if ok else 1
    # The apache test really uses the helper (no "print SKIPPED; exit 0" left).
    src = os.path.join(HARNESS, "..", "integration", "test_fetch_apache.py")
    with open(src, encoding="utf-8") as f:
        text = f.read()
    if "missing_peer(" not in text or 'print("SKIPPED' in text:
        print("FAIL: test_fetch_apache.py does not report missing peers through ghskip")
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
