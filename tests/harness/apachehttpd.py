# SPDX-License-Identifier: MIT
"""A private Apache httpd instance for interop tests (Debian's apache2 with
modules from /usr/lib/apache2/modules), on a free loopback port.

    with Apache(locations, env=extra_env) as ap:
        url = ap.url("/krb/index.txt")

Everything lives in one temporary directory (config, pid file, logs, document
root). Apache refuses to run as root, so it runs as www-data: the directory is
made world-readable and files it must read are handed to www-data by the
caller (``give()``). ``stop()`` sends SIGTERM to the pid in the pid file only.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from ports import free_port  # noqa: F401 (tests import it from here)

MODULES = "/usr/lib/apache2/modules"
BASE_MODULES = ["mpm_event", "authz_core", "authn_core", "authz_user", "auth_basic",
                "authn_file", "auth_digest", "auth_gssapi", "alias", "env", "dir"]


def available():
    """None when Apache and mod_auth_gssapi are usable, else the reason."""
    if shutil.which("apache2") is None and not os.path.exists("/usr/sbin/apache2"):
        return "apache2 is not installed"
    if not os.path.exists(os.path.join(MODULES, "mod_auth_gssapi.so")):
        return "libapache2-mod-auth-gssapi is not installed"
    try:
        pwd.getpwnam("www-data")
    except KeyError:
        return "no www-data user"
    return None


class Apache:
    def __init__(self, locations, env=None, user="www-data", extra_modules=()):
        self.dir = tempfile.mkdtemp(prefix="gh-apache-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.env = dict(os.environ if env is None else env)
        self.user = user
        pw = pwd.getpwnam(user)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.docroot = os.path.join(self.dir, "htdocs")
        os.makedirs(self.docroot)
        os.makedirs(os.path.join(self.dir, "run"))
        os.chown(os.path.join(self.dir, "run"), self.uid, self.gid)
        self.pidfile = os.path.join(self.dir, "run", "httpd.pid")
        self.conf = os.path.join(self.dir, "httpd.conf")
        mods = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODULES, m)
                         for m in BASE_MODULES + list(extra_modules))
        with open(self.conf, "w") as f:
            f.write("""ServerRoot "{d}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile {pid}
DefaultRuntimeDir {d}/run
Mutex file:{d}/run default
User {user}
Group #{gid}
ErrorLog {d}/error.log
LogLevel info auth_gssapi:debug
{mods}
LogFormat "%u|%s|%r|%{{GSS_NAME}}e" gh
CustomLog {d}/access.log gh
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 10
DocumentRoot {docroot}
<Directory {docroot}>
  Require all granted
</Directory>
{locations}
""".format(d=self.dir, port=self.port, pid=self.pidfile, user=user, gid=self.gid, mods=mods,
           m=MODULES, docroot=self.docroot, locations=locations))
        self.started = False

    def path(self, name):
        return os.path.join(self.dir, name)

    def give(self, path, mode=0o600):
        """Makes path readable by the Apache user only."""
        os.chown(path, self.uid, self.gid)
        os.chmod(path, mode)

    def write_doc(self, rel, text):
        full = os.path.join(self.docroot, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, 0o644)
        return full

    def url(self, rel, host="localhost"):
        return "http://%s:%d%s" % (host, self.port, rel)

    def start(self, timeout=15):
        r = subprocess.run(["apache2", "-f", self.conf, "-k", "start"], env=self.env,
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("apache2 failed to start (%d): %s %s\n%s" %
                                 (r.returncode, r.stdout, r.stderr, self.error_log()))
        self.started = True
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.3):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("apache2 not listening:\n" + self.error_log())

    def error_log(self):
        try:
            with open(self.path("error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def access_log(self):
        try:
            with open(self.path("access.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if not self.started:
            return
        pid = self._pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pid = None
        deadline = time.time() + 15
        while pid is not None and time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.started = False

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print("---- apache error.log ----\n" + self.error_log()[-6000:])
        self.cleanup()
        return False
