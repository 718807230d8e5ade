# SPDX-License-Identifier: MIT
"""How an integration test says it cannot run.

CTest counts exit status 77 as "skipped" (SKIP_RETURN_CODE, set for every
test in tests/CMakeLists.txt), so a skip shows in the summary instead of
passing in silence. Two cases, never confused:

- skip(why): the test cannot run for a reason no package fixes (a feature
  not in this tree yet). Exit 77.
- missing_peer(why, package): a peer that scripts/install-deps installs is
  absent. That is a broken test machine, so it FAILS (exit 1), naming the
  package. A developer without root may run the rest with
  GH_ALLOW_MISSING_PEERS=1, which turns this into a skip (77) - except when
  CI=true, where nothing installable may ever be skipped.
"""
import os
import sys

SKIP_RETURN_CODE = 77


def skip(why):
    print("SKIPPED: " + why, flush=True)
    sys.exit(SKIP_RETURN_CODE)


def missing_peer(why, package):
    hint = "%s (Debian package %s, installed by scripts/install-deps)" % (why, package)
    if os.environ.get("CI") == "true":
        print("FAIL: %s; CI=true: an installable peer is never skipped" % hint, flush=True)
        sys.exit(1)
    if os.environ.get("GH_ALLOW_MISSING_PEERS") == "1":
        skip(hint + "; GH_ALLOW_MISSING_PEERS=1")
    print("FAIL: %s; run scripts/install-deps as root, or set GH_ALLOW_MISSING_PEERS=1 "
          "to skip" % hint, flush=True)
    sys.exit(1)
