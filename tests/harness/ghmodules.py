# SPDX-License-Identifier: MIT
"""Helpers for the built-in module tests (static, proxy)."""
import os
import subprocess
import tempfile

from ghserver import gh_bin
from ghskip import skip


def require_builtin(name):
    """Skips the test (exit 77, shown as skipped by CTest) while the built-in
    module `name` is not yet listed in src/server/module_loader.c; any other
    failure of the check is left to the test itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("listen 127.0.0.1:0;\nlocation / { handler %s; }\n" % name)
        path = f.name
    try:
        r = subprocess.run([gh_bin(), "serve", "--check", "--config", path],
                           capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(path)
    if "no module named '%s'" % name in r.stdout + r.stderr:
        skip("built-in module '%s' is not registered in src/server/module_loader.c" % name)
