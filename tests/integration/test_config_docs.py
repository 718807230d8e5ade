# SPDX-License-Identifier: MIT
"""docs/config.md and the directive tables agree (issue 10).

The server's directive tables (`gatehouse serve --list-directives`, whose
format docs/config.md defines) are the source of truth. Every directive they
list must have a row in docs/config.md's "Directive reference" whose context
column matches, and every row there must name a directive the server lists.
A third check keeps the dump itself honest: every listed directive is
accepted by `gatehouse serve --check` somewhere (a directive in the table but
unknown to the dispatcher would fail here), and a made-up one is refused.
"""
import os
import re
import subprocess
import tempfile

from ghserver import gh_bin

DOC = os.path.join(os.environ.get("GH_SRC", os.path.join(os.path.dirname(__file__), "..", "..")),
                   "docs", "config.md")
ROW = re.compile(r"^\|\s*`([a-z_][a-z0-9_]*)`\s*\|")


def listed():
    """{name: (context, module, syntax, default)} from --list-directives."""
    out = subprocess.run([gh_bin(), "serve", "--list-directives"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "# gatehouse directives 1", lines[0]
    assert lines[1] == "# name\tcontext\tmodule\tsyntax\tdefault\tdescription", lines[1]
    table = {}
    for line in lines[2:]:
        fields = line.split("\t")
        assert len(fields) == 6, "not six TAB-separated fields: %r" % line
        name, context, module, syntax, default, description = fields
        assert name not in table, "directive %s listed twice" % name
        assert context in ("main", "location", "main,location"), line
        assert syntax.split(" ")[0] == name, line
        assert description, "no description: %r" % line
        table[name] = (context, module, syntax, default)
    return table


def documented():
    """{name: context} from the rows of docs/config.md's Directive reference."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    start = text.index("\n## Directive reference\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end >= 0 else len(text)]
    rows = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 5, "a reference row has five cells: %r" % line
        name = m.group(1)
        assert name not in rows, "%s documented twice" % name
        rows[name] = cells[2]
    return rows


def check_accepts(table):
    """Each listed directive, written in its context with a plausible value,
    either loads or fails on its value, never as an unknown directive."""
    tmp = tempfile.mkdtemp(prefix="ghdocs-")
    conf = os.path.join(tmp, "t.conf")
    bad = 0
    for name, (context, _, _, _) in sorted(table.items()):
        if name in ("listen", "location"):
            continue
        line = "%s x;" % name
        if context == "location":
            text = "listen 127.0.0.1:0;\nlocation /a {\n%s\n}\n" % line
        else:
            text = "listen 127.0.0.1:0;\n%s\n" % line
        with open(conf, "w") as f:
            f.write(text)
        r = subprocess.run([gh_bin(), "serve", "--check", "--config", conf], capture_output=True,
                           text=True, timeout=60)
        out = r.stdout + r.stderr
        if "unknown directive" in out or "not allowed" in out or "belongs in" in out:
            print("listed but not accepted in its context: %s: %s" % (name, out.strip()))
            bad += 1
    with open(conf, "w") as f:
        f.write("listen 127.0.0.1:0;\nno_such_directive 1;\n")
    r = subprocess.run([gh_bin(), "serve", "--check", "--config", conf], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "t.conf:2: unknown directive 'no_such_directive'" in r.stderr, \
        r.stderr
    return bad


def main():
    table = listed()
    rows = documented()
    failures = []
    for name in sorted(set(table) - set(rows)):
        failures.append("accepted but not documented in docs/config.md: %s (%s, module %s)"
                        % (name, table[name][0], table[name][1]))
    for name in sorted(set(rows) - set(table)):
        failures.append("documented in docs/config.md but not accepted: %s" % name)
    for name in sorted(set(rows) & set(table)):
        if rows[name] != table[name][0]:
            failures.append("%s: docs/config.md says context %r, the code %r"
                            % (name, rows[name], table[name][0]))
    for f in failures:
        print(f)
    bad = check_accepts(table)
    assert not failures and bad == 0, "%d doc mismatches, %d not accepted" % (len(failures), bad)
    print("ok: %d directives, all documented" % len(table))


if __name__ == "__main__":
    main()
