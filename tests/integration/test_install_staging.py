# SPDX-License-Identifier: MIT
"""`cmake --install` into a staging root (DESTDIR) and use what it installed,
as an administrator and as a developer would (issue 10):

- installs the tested build with --prefix /usr, one component at a time
  (server, library, dev), into $GH_BUILD/install-staging;
- checks the layout: sbin/gatehouse, libgatehouse-sspi.so.MAJOR.MINOR.PATCH
  with its soname link and development link, headers with compat/, both
  pkg-config files, man pages (clean under `man --warnings`, one section per
  command of `gatehouse --help`), unit, logrotate, default configuration;
- runs the installed binary: --version (its module ABI is the pc file's
  abi_version), `serve --check` on the installed default configuration (its
  absolute paths moved under the staging root, a self-signed certificate made
  the way the Debian package's postinst does) and on every installed example
  (prepared by tests/harness/ghexamples.py, as test_examples_check does);
- builds a module with `pkg-config --cflags gatehouse-module` alone, installs
  it into the pc file's moduledir, runs the installed server with it and checks
  it answers, next to the installed static page; then runs logrotate with the
  installed logrotate file on that server's logs (paths, owner and the signal's
  target adapted) and checks the server writes to the new files;
- builds a program written against Windows SSPI (`#include <security.h>`) with
  `pkg-config --cflags --libs gatehouse-sspi`, runs it on the staged library.

pkg-config sees the staged files through PKG_CONFIG_PATH and
PKG_CONFIG_SYSROOT_DIR, like a cross or staged build. When the library under
test is built with sanitizers, the programs built here get the same
-fsanitize flags (an ASan library needs the ASan runtime first)."""
import glob
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time

from ghserver import SANITIZER_MARKS, gh_bin, gh_build

SRC = os.environ.get("GH_SRC", os.getcwd())
CC = os.environ.get("CC", "cc")

MODULE_C = r"""
#include <gatehouse/http.h>
#include <gatehouse/module.h>

static enum gh_rq_status
staged_execute(gh_request *req, void *config)
{
    (void)config;
    gh_response_text(req, 200, "staged module answers\n");
    return GH_RQ_FINISH;
}

static const struct gh_module staged_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "staged",
    .description = "built against the installed gatehouse-module.pc",
    .on_execute_handler = staged_execute,
};
GH_MODULE_EXPORT(staged_module)
"""

# Written the Windows way: <security.h>, SECURITY_WIN32, the A functions.
SSPI_C = r"""
#define SECURITY_WIN32
#include <security.h>
#include <wincrypt.h>
#include <schannel.h>
#include <credssp.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    ULONG count = 0;
    PSecPkgInfoA pkgs = NULL;
    PSecPkgInfoA ntlm = NULL;
    SECURITY_STATUS ss = EnumerateSecurityPackagesA(&count, &pkgs);
    if (!SEC_SUCCESS(ss)) {
        printf("EnumerateSecurityPackagesA: 0x%08lx\n", (unsigned long)ss);
        return 1;
    }
    for (ULONG i = 0; i < count; i++)
        printf("package %s\n", pkgs[i].Name);
    FreeContextBuffer(pkgs);
    ss = QuerySecurityPackageInfoA((SEC_CHAR *)"NTLM", &ntlm);
    if (ss != SEC_E_OK) {
        printf("QuerySecurityPackageInfoA: 0x%08lx\n", (unsigned long)ss);
        return 1;
    }
    printf("NTLM max token %lu\n", (unsigned long)ntlm->cbMaxToken);
    FreeContextBuffer(ntlm);
    /* <schannel.h> / <wincrypt.h>: a memory store for a Schannel credential. */
    HCERTSTORE roots = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION, .hRootStore = roots};
    CredHandle h;
    ss = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL,
                                   &sc, NULL, NULL, &h, NULL);
    if (ss != SEC_E_OK || roots == NULL) {
        printf("Schannel: 0x%08lx\n", (unsigned long)ss);
        return 1;
    }
    FreeCredentialsHandle(&h);
    CertCloseStore(roots, 0);
    printf("Schannel credential made\n");
    return 0;
}
"""


def run(cmd, timeout=120, env=None, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                    r.stderr))
    return r


def http_get(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def install(stage):
    shutil.rmtree(stage, ignore_errors=True)
    env = dict(os.environ, DESTDIR=stage)
    for comp in ("server", "library", "dev"):
        run(["cmake", "--install", gh_build(), "--prefix", "/usr", "--component", comp], env=env)


def check_layout(stage, libdir):
    def must(rel):
        path = os.path.join(stage, rel.lstrip("/"))
        assert os.path.lexists(path), "not installed: " + rel
        return path

    sbin = must("/usr/sbin/gatehouse")
    assert os.access(sbin, os.X_OK)
    real = glob.glob(os.path.join(stage, libdir.lstrip("/"), "libgatehouse-sspi.so.*.*.*"))
    assert len(real) == 1, real
    soname_link = must(libdir + "/libgatehouse-sspi.so.0")
    dev_link = must(libdir + "/libgatehouse-sspi.so")
    assert os.path.islink(soname_link) and os.path.islink(dev_link)
    assert os.readlink(soname_link) == os.path.basename(real[0]), os.readlink(soname_link)
    assert os.readlink(dev_link) == "libgatehouse-sspi.so.0", os.readlink(dev_link)
    dyn = run(["readelf", "-d", real[0]]).stdout
    assert "Library soname: [libgatehouse-sspi.so.0]" in dyn, dyn
    for h in ("sspi.h", "wintypes.h", "error.h", "token.h", "http.h", "module.h",
              "compat/sspi.h", "compat/security.h", "compat/schannel.h", "compat/wincrypt.h",
              "compat/credssp.h"):
        must("/usr/include/gatehouse/" + h)
    must(libdir + "/pkgconfig/gatehouse-sspi.pc")
    must(libdir + "/pkgconfig/gatehouse-module.pc")
    unit = must("/usr/lib/systemd/system/gatehouse.service")
    with open(unit) as f:
        text = f.read()
    assert "ExecStart=/usr/sbin/gatehouse serve --config /etc/gatehouse/gatehouse.conf" in text
    assert "Type=notify" in text
    assert "/var/log/gatehouse/" in open(must("/etc/logrotate.d/gatehouse")).read()
    must("/etc/gatehouse/gatehouse.conf")
    must("/usr/share/gatehouse/www/index.html")
    return sbin


def check_man(stage, sbin):
    man8 = os.path.join(stage, "usr/share/man/man8/gatehouse.8")
    man5 = os.path.join(stage, "usr/share/man/man5/gatehouse.conf.5")
    for page in (man8, man5):
        assert os.path.exists(page), page
        r = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page],
                env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
        assert r.stderr.strip() == "", "man --warnings on %s:\n%s" % (page, r.stderr)
    # Every command of the binary's command table has its section in gatehouse(8).
    helptext = run([sbin, "--help"]).stdout
    commands = re.findall(r"^  (\w+) ", helptext, re.M)
    assert "serve" in commands and len(commands) >= 3, helptext
    with open(man8) as f:
        roff = f.read()
    for c in commands:
        assert ('.SS "%s"' % c) in roff, "gatehouse(8) has no section for command %s" % c
    with open(man5) as f:
        conf5 = f.read()
    for directive in ("listen", "tls_certificate", "error_log", "auth_keytab", "static_root"):
        assert re.search(r"\\fB%s\b" % directive, conf5), "gatehouse.conf(5) lacks " + directive


def check_default_conf(stage, sbin):
    """The installed default configuration, its absolute paths moved into the stage."""
    etc = os.path.join(stage, "etc/gatehouse")
    tls = os.path.join(etc, "tls")
    os.makedirs(tls, exist_ok=True)
    os.makedirs(os.path.join(stage, "var/log/gatehouse"), exist_ok=True)
    # As debian/gatehouse.postinst makes it.
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "3650", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost", "-keyout", os.path.join(tls, "gatehouse.key"),
         "-out", os.path.join(tls, "gatehouse.pem")])
    with open(os.path.join(etc, "gatehouse.conf")) as f:
        text = f.read()
    assert "listen 0.0.0.0:443 tls;" in text and "handler static;" in text
    assert not re.search(r"^\s*auth\s", text, re.M), "the default configuration authenticates"
    for d in ("/var/log/", "/usr/share/"):
        text = text.replace(" " + d, " " + stage + d)
    staged = os.path.join(etc, "gatehouse.staged.conf")
    with open(staged, "w") as f:
        f.write(text)
    r = run([sbin, "serve", "--check", "--config", staged])
    assert "is valid" in r.stdout, r.stdout


def check_examples(stage, sbin):
    """Every examples/*.conf is installed unchanged, and the installed copy
    passes `serve --check` with the installed binary, prepared the way
    test_examples_check prepares the sources (tests/harness/ghexamples.py:
    ports and paths moved into a throwaway root, the certificates, user store
    and keytab it names created with a throwaway KDC)."""
    docex = os.path.join(stage, "usr/share/doc/gatehouse/examples")
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SRC, "examples", "*.conf")))
    for name in names:
        inst = os.path.join(docex, name)
        assert os.path.exists(inst), "example not installed: " + inst
        with open(os.path.join(SRC, "examples", name), "rb") as a, open(inst, "rb") as b:
            assert a.read() == b.read(), "installed example differs: " + inst
    if not names:
        print("examples: none in examples/")
        return
    import ghexamples
    import krb5realm
    saved = (ghexamples.EXAMPLES, os.environ["GH_BIN"])
    ghexamples.EXAMPLES = docex  # read the installed copies
    os.environ["GH_BIN"] = sbin  # passwd and --check by the installed binary
    try:
        services = sorted({s for n in names for s in ghexamples.service_names(n)})
        with krb5realm.Realm(realm="EXAMPLE.ORG", services=services, kinit_user=None) as realm:
            for name in names:
                root = ghexamples.tmp_root(name)
                try:
                    path = ghexamples.prepare(name, root, backends={8081: 8081, 8082: 8082},
                                              realm=realm)
                    rc, out = ghexamples.check(path, env=realm.env)
                    assert rc == 0 and "is valid" in out, "installed %s: %s" % (name, out)
                finally:
                    shutil.rmtree(root, ignore_errors=True)
    finally:
        ghexamples.EXAMPLES, os.environ["GH_BIN"] = saved
    print("examples: %d installed configuration(s) checked by the installed binary" % len(names))


def sanitizer_flags(stage, libdir):
    lib = glob.glob(os.path.join(stage, libdir.lstrip("/"), "libgatehouse-sspi.so.*.*.*"))[0]
    dyn = run(["readelf", "-d", lib]).stdout
    if "libasan" in dyn or "libubsan" in dyn:
        return ["-fsanitize=address,undefined"]
    return []


def pkgconfig(stage, libdir, *args):
    env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=stage,
               PKG_CONFIG_PATH=os.path.join(stage, libdir.lstrip("/"), "pkgconfig"))
    return run(["pkg-config"] + list(args), env=env).stdout.split()


def build_and_serve_module(stage, libdir, sbin, work):
    cflags = pkgconfig(stage, libdir, "--cflags", "gatehouse-module")
    assert any(f.endswith("/usr/include") for f in cflags), cflags
    moduledir = pkgconfig(stage, libdir, "--variable=moduledir", "gatehouse-module")[0]
    assert moduledir.startswith(stage), moduledir
    abi = pkgconfig(stage, libdir, "--variable=abi_version", "gatehouse-module")[0]
    version = run([sbin, "--version"]).stdout
    assert "module ABI %s," % abi in version, (version, abi)
    src = os.path.join(work, "staged_module.c")
    with open(src, "w") as f:
        f.write(MODULE_C)
    so = os.path.join(moduledir, "staged.so")
    run([CC, "-std=c17", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", so, src] +
        cflags)

    conf = os.path.join(work, "module.conf")
    logs = os.path.join(work, "log")
    os.makedirs(logs)
    err_log = os.path.join(logs, "error.log")
    acc_log = os.path.join(logs, "access.log")
    with open(conf, "w") as f:
        f.write("worker_threads 1;\nlisten 127.0.0.1:0;\nerror_log %s info;\n"
                "access_log %s;\nload_module staged %s;\n"
                "location /staged { handler staged; }\n"
                "location / { handler static; static_root %s; }\n"
                % (err_log, acc_log, so, os.path.join(stage, "usr/share/gatehouse/www")))
    run([sbin, "serve", "--check", "--config", conf])
    out_path = os.path.join(work, "server.out")
    with open(out_path, "w") as out:
        proc = subprocess.Popen([sbin, "serve", "--config", conf], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        port = None
        while port is None and time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError("installed server exited: " + open(out_path).read())
            text = open(err_log).read() if os.path.exists(err_log) else ""
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
            if m and " ready: " in text:
                port = int(m.group(1))
            time.sleep(0.05)
        assert port is not None, "installed server not ready"
        status, body = http_get(port, "/staged")
        assert status == 200 and body == b"staged module answers\n", (status, body)
        status, body = http_get(port, "/")
        assert status == 200 and b"gatehouse is running" in body, (status, body[:200])
        rotate_logs(stage, logs, proc.pid, port)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
    text = open(out_path).read()
    for mark in SANITIZER_MARKS:
        assert mark not in text, text
    assert rc == 0, "installed server exit %d:\n%s" % (rc, text)


def rotate_logs(stage, logs, pid, port):
    """The installed logrotate file, run for real on this server's logs: its
    directory and owner moved to the test's, its postrotate (systemctl kill
    --signal=SIGUSR1) replaced by the same signal sent to this process."""
    with open(os.path.join(stage, "etc/logrotate.d/gatehouse")) as f:
        conf = f.read()
    assert "SIGUSR1" in conf, conf
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    conf = conf.replace("/var/log/gatehouse", logs)
    conf = conf.replace("create 0640 gatehouse adm", "create 0640 %s %s" % (user, group))
    conf, n = re.subn(r"postrotate\n.*?endscript", "postrotate\n\t\tkill -USR1 %d\n\tendscript"
                      % pid, conf, flags=re.S)
    assert n == 1, conf
    lr_conf = os.path.join(logs, "..", "logrotate.conf")
    with open(lr_conf, "w") as f:
        f.write(conf)
    deadline = time.time() + 20
    while open(os.path.join(logs, "access.log")).read().count("GET /") < 2:
        assert time.time() < deadline, "the two requests are not in the access log"
        time.sleep(0.05)
    before = open(os.path.join(logs, "access.log")).read()
    run(["logrotate", "-f", "-s", os.path.join(logs, "..", "logrotate.state"), lr_conf])
    err_log = os.path.join(logs, "error.log")
    deadline = time.time() + 20
    while "log files reopened" not in open(err_log).read():
        assert time.time() < deadline, "no reopen after logrotate: " + open(err_log).read()
        time.sleep(0.05)
    status, _ = http_get(port, "/staged")
    assert status == 200
    deadline = time.time() + 20
    while "GET /staged" not in open(os.path.join(logs, "access.log")).read():
        assert time.time() < deadline, "no access line in the new file"
        time.sleep(0.05)
    with open(os.path.join(logs, "access.log.1")) as f:
        assert f.read() == before, "the rotated file changed"
    assert oct(os.stat(os.path.join(logs, "access.log")).st_mode & 0o777) == "0o640"


def build_and_run_sspi(stage, libdir, work):
    flags = pkgconfig(stage, libdir, "--cflags", "--libs", "gatehouse-sspi")
    assert any(f.endswith("/usr/include/gatehouse/compat") for f in flags), flags
    src = os.path.join(work, "sspi_enum.c")
    exe = os.path.join(work, "sspi_enum")
    with open(src, "w") as f:
        f.write(SSPI_C)
    run([CC, "-std=c17", "-Wall", "-Wextra", "-Werror", "-o", exe, src] + flags +
        sanitizer_flags(stage, libdir))
    libpath = os.path.join(stage, libdir.lstrip("/"))
    r = run([exe], env=dict(os.environ, LD_LIBRARY_PATH=libpath))
    for pkg in ("Negotiate", "Kerberos", "NTLM"):
        assert "package %s\n" % pkg in r.stdout, r.stdout
    assert re.search(r"NTLM max token [1-9]", r.stdout), r.stdout
    assert "Schannel credential made" in r.stdout, r.stdout
    # It really ran the staged library.
    ldd = run(["ldd", exe], env=dict(os.environ, LD_LIBRARY_PATH=libpath)).stdout
    assert os.path.join(libpath, "libgatehouse-sspi.so.0") in ldd, ldd


def main():
    stage = os.path.join(gh_build(), "install-staging")
    install(stage)
    libdirs = glob.glob(os.path.join(stage, "usr/lib/**/libgatehouse-sspi.so"), recursive=True)
    assert len(libdirs) == 1, libdirs
    libdir = "/" + os.path.relpath(os.path.dirname(libdirs[0]), stage)
    sbin = check_layout(stage, libdir)
    check_man(stage, sbin)
    check_default_conf(stage, sbin)
    check_examples(stage, sbin)
    work = os.path.join(gh_build(), "install-staging-work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    build_and_serve_module(stage, libdir, sbin, work)
    build_and_run_sspi(stage, libdir, work)
    print("ok: staged install at %s (libdir %s) used as installed" % (stage, libdir))


if __name__ == "__main__":
    main()
