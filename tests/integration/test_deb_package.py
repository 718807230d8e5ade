# SPDX-License-Identifier: MIT
"""Builds the Debian packages from a copy of the tree (debian/, dpkg-buildpackage
with debhelper) under $GH_BUILD/deb-package and checks them (issue 10):

- the three packages exist: gatehouse, libgatehouse-sspi0, libgatehouse-dev;
- contents (dpkg-deb -c): the binary, the library with its soname link in the
  runtime package and the .so link in the development package, headers with
  compat/, both pc files, man pages, unit, logrotate, default configuration;
- control (dpkg-deb -I/-e): /etc/gatehouse/gatehouse.conf and the logrotate
  file listed in conffiles, libsystemd0 among the dependencies, the maintainer
  scripts parse (`sh -n`; ours also pass shellcheck), postinst makes the user
  and the directories;
- lintian, offline: any error (E:) fails; warnings are printed and must be in
  ACCEPTED_WARNINGS (none today; docs/install.md lists the info tags);
- the packaged unit: `systemd-analyze verify` clean (its binary path pointed at
  the packaged binary, MANPATH at the packaged man pages, so that Exec and
  Documentation are checked for real) and `systemd-analyze security
  --offline=true` exposure at most 3.0;
- the packaged binary runs (--version) and checks the packaged configuration.

The build runs with DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" (the
tests are this suite; two cores); its duration is printed."""
import glob
import os
import re
import shutil
import subprocess
import time

from ghserver import gh_build
from ghskip import missing_peer

SRC = os.environ.get("GH_SRC", os.getcwd())
ACCEPTED_WARNINGS = set()  # lintian W: tags we live with (none today)
MAX_EXPOSURE = 3.0


def run(cmd, timeout=300, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode,
                                                    r.stdout[-4000:], r.stderr[-4000:]))
    return r


def project_version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        m = re.search(r"project\(gatehouse VERSION ([0-9.]+)", f.read())
    assert m, "no project version in CMakeLists.txt"
    return m.group(1)


def build(root, version):
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    tree = os.path.join(root, "gatehouse-" + version)
    shutil.copytree(SRC, tree, symlinks=True,
                    ignore=shutil.ignore_patterns("build", "build-*", ".git", "demo",
                                                  "__pycache__", "*.log", "*.pid", "*.out"))
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2")
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "MAKEFLAGS", "CFLAGS", "LDFLAGS"):
        env.pop(var, None)
    start = time.monotonic()
    r = run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=tree, env=env, timeout=900,
            check=False)
    elapsed = time.monotonic() - start
    with open(os.path.join(root, "build.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    assert r.returncode == 0, "dpkg-buildpackage failed (%s/build.log):\n%s" % (
        root, (r.stdout + r.stderr)[-6000:])
    print("dpkg-buildpackage: %.1f s" % elapsed)


def contents(deb):
    lines = run(["dpkg-deb", "-c", deb]).stdout.splitlines()
    files = {}
    for line in lines:
        parts = line.split(None, 5)
        name = parts[5]
        target = None
        if " -> " in name:
            name, target = name.split(" -> ", 1)
        files[name.lstrip(".")] = (parts[0], target)
    return files


def check_contents(debs, version, multiarch):
    lib = "/usr/lib/%s" % multiarch
    server = contents(debs["gatehouse"])
    for path in ("/usr/sbin/gatehouse", "/etc/gatehouse/gatehouse.conf",
                 "/etc/logrotate.d/gatehouse", "/lib/systemd/system/gatehouse.service",
                 "/usr/share/man/man8/gatehouse.8.gz", "/usr/share/man/man5/gatehouse.conf.5.gz",
                 "/usr/share/gatehouse/www/index.html", lib + "/gatehouse/modules/",
                 "/usr/share/doc/gatehouse/copyright"):
        assert path in server, "gatehouse lacks %s" % path
    assert server["/usr/sbin/gatehouse"][0] == "-rwxr-xr-x"
    for ex in glob.glob(os.path.join(SRC, "examples", "*.conf")):
        path = "/usr/share/doc/gatehouse/examples/" + os.path.basename(ex)
        assert path in server or path + ".gz" in server, "example not packaged: " + path

    runtime = contents(debs["libgatehouse-sspi0"])
    real = "%s/libgatehouse-sspi.so.%s" % (lib, version)
    assert real in runtime, sorted(runtime)
    assert runtime[lib + "/libgatehouse-sspi.so.0"][1] == "libgatehouse-sspi.so." + version
    assert lib + "/libgatehouse-sspi.so" not in runtime, "the .so link belongs to -dev"

    dev = contents(debs["libgatehouse-dev"])
    assert dev[lib + "/libgatehouse-sspi.so"][1] == "libgatehouse-sspi.so.0"
    for path in ("/usr/include/gatehouse/sspi.h", "/usr/include/gatehouse/module.h",
                 "/usr/include/gatehouse/http.h", "/usr/include/gatehouse/compat/sspi.h",
                 "/usr/include/gatehouse/compat/security.h",
                 lib + "/pkgconfig/gatehouse-sspi.pc", lib + "/pkgconfig/gatehouse-module.pc"):
        assert path in dev, "libgatehouse-dev lacks %s" % path


def check_control(root, debs):
    info = run(["dpkg-deb", "-I", debs["gatehouse"]]).stdout
    assert re.search(r"Depends:.*\blibsystemd0\b", info), info
    assert re.search(r"Depends:.*\badduser\b", info), info
    ctl = os.path.join(root, "control-gatehouse")
    shutil.rmtree(ctl, ignore_errors=True)
    run(["dpkg-deb", "-e", debs["gatehouse"], ctl])
    with open(os.path.join(ctl, "conffiles")) as f:
        conffiles = f.read().split()
    assert "/etc/gatehouse/gatehouse.conf" in conffiles, conffiles
    assert "/etc/logrotate.d/gatehouse" in conffiles, conffiles
    for script in ("preinst", "postinst", "prerm", "postrm"):
        path = os.path.join(ctl, script)
        if os.path.exists(path):
            run(["sh", "-n", path])
            assert os.access(path, os.X_OK), script + " not executable"
    # Our own scripts (before debhelper's snippets are added): shellcheck as sh.
    ours = [os.path.join(SRC, "debian", s) for s in ("gatehouse.postinst", "gatehouse.postrm")]
    r = run(["shellcheck", "-s", "sh"] + ours, check=False)
    assert r.returncode == 0, "shellcheck:\n" + r.stdout + r.stderr
    with open(os.path.join(ctl, "postinst")) as f:
        post = f.read()
    assert "adduser" in post and "--system" in post
    assert "/var/log/gatehouse" in post and "/var/lib/gatehouse" in post
    assert "deb-systemd-helper" in post, "dh_installsystemd did not add its snippet"
    with open(os.path.join(ctl, "postrm")) as f:
        assert "purge" in f.read()


def check_lintian(root):
    changes = glob.glob(os.path.join(root, "*.changes"))
    assert len(changes) == 1, changes
    r = run(["lintian", "-I", "--pedantic", "--no-tag-display-limit", changes[0]], timeout=300,
            check=False)
    tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIPXO]: ", line)]
    print("lintian:\n  " + "\n  ".join(tags or ["(no tags)"]))
    errors = [t for t in tags if t.startswith("E: ")]
    warnings = [t for t in tags if t.startswith("W: ") and
                t.split()[2] not in ACCEPTED_WARNINGS]
    assert not errors, "lintian errors:\n" + "\n".join(errors)
    assert not warnings, "lintian warnings not accepted:\n" + "\n".join(warnings)
    assert r.returncode == 0, r.stdout + r.stderr


def check_unit(root, debs):
    x = os.path.join(root, "extract")
    shutil.rmtree(x, ignore_errors=True)
    run(["dpkg-deb", "-x", debs["gatehouse"], x])
    binary = os.path.join(x, "usr/sbin/gatehouse")
    out = run([binary, "--version"]).stdout
    assert out.startswith("gatehouse %s " % project_version()), out
    unit = os.path.join(x, "lib/systemd/system/gatehouse.service")
    with open(unit) as f:
        text = f.read()
    for want in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "User=gatehouse",
                 "AmbientCapabilities=CAP_NET_BIND_SERVICE"):
        assert want in text, "unit lacks " + want
    # verify checks that Exec binaries and man: pages exist: point them at
    # the package's, nothing else changes.
    checked = os.path.join(root, "gatehouse.service")
    with open(checked, "w") as f:
        f.write(text.replace("/usr/sbin/gatehouse", binary))
    r = run(["systemd-analyze", "verify", checked], check=False,
            env=dict(os.environ, MANPATH=os.path.join(x, "usr/share/man")))
    assert r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(), \
        "systemd-analyze verify:\n" + r.stdout + r.stderr
    r = run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit], check=False)
    m = re.search(r"Overall exposure level for gatehouse\.service: ([0-9.]+)", r.stdout)
    assert m, "no exposure level:\n" + r.stdout + r.stderr
    exposure = float(m.group(1))
    print("systemd-analyze security: exposure %.1f" % exposure)
    assert exposure <= MAX_EXPOSURE, "exposure %.1f > %.1f:\n%s" % (exposure, MAX_EXPOSURE,
                                                                     r.stdout)
    return x


def check_packaged_conf(x):
    """The packaged default configuration checks, its absolute paths moved into
    the extracted tree and a certificate made as postinst makes it."""
    tls = os.path.join(x, "etc/gatehouse/tls")
    os.makedirs(tls, exist_ok=True)
    os.makedirs(os.path.join(x, "var/log/gatehouse"), exist_ok=True)
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "3650", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost", "-keyout", os.path.join(tls, "gatehouse.key"),
         "-out", os.path.join(tls, "gatehouse.pem")])
    with open(os.path.join(x, "etc/gatehouse/gatehouse.conf")) as f:
        text = f.read()
    for d in ("/var/log/", "/usr/share/"):
        text = text.replace(" " + d, " " + x + d)
    conf = os.path.join(x, "etc/gatehouse/check.conf")
    with open(conf, "w") as f:
        f.write(text)
    out = run([os.path.join(x, "usr/sbin/gatehouse"), "serve", "--check", "--config",
               conf]).stdout
    assert "is valid" in out, out


def main():
    for tool, pkg in (("dpkg-buildpackage", "dpkg-dev"), ("dh", "debhelper"),
                      ("lintian", "lintian"), ("systemd-analyze", "systemd"),
                      ("shellcheck", "shellcheck")):
        if shutil.which(tool) is None:
            missing_peer("%s not found" % tool, pkg)
    version = project_version()
    multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    root = os.path.join(gh_build(), "deb-package")
    build(root, version)
    debs = {}
    for name in ("gatehouse", "libgatehouse-sspi0", "libgatehouse-dev"):
        found = glob.glob(os.path.join(root, "%s_%s_*.deb" % (name, version)))
        assert len(found) == 1, (name, os.listdir(root))
        debs[name] = found[0]
    check_contents(debs, version, multiarch)
    check_control(root, debs)
    check_lintian(root)
    x = check_unit(root, debs)
    check_packaged_conf(x)
    print("ok: %s" % ", ".join(sorted(os.path.basename(d) for d in debs.values())))


if __name__ == "__main__":
    main()
