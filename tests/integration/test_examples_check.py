# SPDX-License-Identifier: MIT
"""Every examples/*.conf passes `gatehouse serve --check` (issue 10).

Each example is prepared by tests/harness/ghexamples.py (ports and paths
moved into a throwaway root, the certificates, user store and keytab it
names created; nothing else changed) and checked; the test stops at the
first file that fails. It also holds the examples to their promise of
explaining every choice: each paragraph of directives carries a comment.
"""
import os
import re
import shutil

import ghexamples
import krb5realm


def paragraphs_without_comment(text):
    """Groups of consecutive non-blank lines holding a directive but no comment."""
    bad = []
    for para in re.split(r"\n\s*\n", text):
        lines = [l.strip() for l in para.splitlines() if l.strip()]
        has_directive = any(not l.startswith("#") and l not in ("}",) for l in lines)
        has_comment = any("#" in l for l in lines)
        if has_directive and not has_comment:
            bad.append(para.strip())
    return bad


def main():
    names = ghexamples.example_names()
    assert len(names) >= 4, names
    services = sorted({s for n in names for s in ghexamples.service_names(n)})
    with krb5realm.Realm(realm="EXAMPLE.ORG", services=services, kinit_user=None) as realm:
        for name in names:
            with open(os.path.join(ghexamples.EXAMPLES, name)) as f:
                bad = paragraphs_without_comment(f.read())
            assert not bad, "%s: directives without a comment:\n%s" % (name, "\n--\n".join(bad))
            root = ghexamples.tmp_root(name)
            try:
                path = ghexamples.prepare(name, root, backends={8081: 8081, 8082: 8082},
                                          realm=realm)
                rc, out = ghexamples.check(path, env=realm.env)
                assert rc == 0 and "is valid" in out, "%s does not pass --check:\n%s" % (name, out)
                print("ok   %s: %s" % (name, out.strip()))
            finally:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
