# SPDX-License-Identifier: MIT
"""A throwaway MIT Kerberos realm for tests (the idea of krb5's k5test.py).

Everything lives in one directory: krb5.conf, kdc.conf, the database, the
stash, the KDC log, keytabs, ccaches and the replay cache.  Nothing outside it
is read or written: the realm never relies on /etc/krb5.conf, and every
subprocess gets its environment from Realm.env (KRB5_CONFIG, KRB5_KDC_PROFILE,
KRB5CCNAME, KRB5_KTNAME, KRB5RCACHEDIR).

    with Realm(users={"alice": "alicepw"}) as realm:
        subprocess.run(["klist"], env=realm.env, check=True)

The KDC listens on 127.0.0.1 on one free port (UDP and TCP). It runs in the
foreground of a child process (krb5kdc -n), so it works as root and in CI
without systemd, and stop() kills exactly that process.

CLI for scripts (make run, shell tests):
    python3 tests/harness/krb5realm.py start DIR [--realm R] [--user NAME:PW]...
        creates the realm in DIR, leaves the KDC running and writes DIR/env
        (shell "export K=V" lines) and DIR/env.json;
    python3 tests/harness/krb5realm.py stop DIR
        kills the KDC recorded in DIR/kdc.pid.
"""

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REALM = "GATEHOUSE.TEST"
MASTER_PASSWORD = "masterpw-not-secret"
DEFAULT_USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
SBIN = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]


def _tool(name):
    path = shutil.which(name)
    if path:
        return path
    for d in SBIN:
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    raise FileNotFoundError(f"{name} not found (install krb5-kdc krb5-admin-server krb5-user)")


def _free_port():
    """A port free on 127.0.0.1 for both UDP and TCP at the time of the call."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
            t.close()
        return port
    raise RuntimeError("no free loopback port for the KDC")


class Realm:
    """A running throwaway realm. Attributes after start():
    dir, realm, port, env (dict for subprocesses), keytab (HTTP/localhost),
    ccache (alice's, a FILE ccache in dir), users (name -> password)."""

    def __init__(self, directory=None, realm=REALM, users=None, services=("HTTP/localhost",),
                 kinit_user="alice", clockskew=None, disable_pac=False):
        self.owns_dir = directory is None
        self.dir = os.path.abspath(directory or tempfile.mkdtemp(prefix="gh-krb5-"))
        self.realm = realm
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.services = list(services)
        self.kinit_user = kinit_user
        self.clockskew = clockskew
        # MIT's KDC (1.20 and later) puts a PAC in every ticket unless told not to.
        self.disable_pac = disable_pac
        self.port = None
        self.kdc = None
        self.env = None
        self.keytab = os.path.join(self.dir, "http.keytab")
        self.ccache = os.path.join(self.dir, "ccache")

    # -- files ---------------------------------------------------------------
    def _path(self, name):
        return os.path.join(self.dir, name)

    def write_krb5_conf(self, path, clockskew=None):
        """Writes a client/server krb5.conf for this realm to path (e.g. a variant
        with a different clockskew for one process)."""
        skew = f"    clockskew = {clockskew}\n" if clockskew is not None else ""
        with open(path, "w") as f:
            f.write(f"""[libdefaults]
    default_realm = {self.realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    ignore_acceptor_hostname = false
    forwardable = true
    udp_preference_limit = 1
    default_ccache_name = FILE:{self.ccache}
    default_keytab_name = FILE:{self.keytab}
    default_client_keytab_name = FILE:{self._path('client.keytab')}
    kdc_timeout = 3s
    max_retries = 1
{skew}
[realms]
    {self.realm} = {{
        kdc = 127.0.0.1:{self.port}
    }}

[domain_realm]
    localhost = {self.realm}
    .localhost = {self.realm}

[logging]
    default = FILE:{self._path('krb5lib.log')}
""")

    def _write_kdc_conf(self):
        with open(self._path("kdc.conf"), "w") as f:
            f.write(f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}

[realms]
    {self.realm} = {{
        database_name = {self._path('principal')}
        key_stash_file = {self._path('stash')}
        acl_file = {self._path('kadm5.acl')}
        kdc_listen = 127.0.0.1:{self.port}
        kdc_tcp_listen = 127.0.0.1:{self.port}
        max_life = 10h
        max_renewable_life = 1d
{"        disable_pac = true" if self.disable_pac else ""}
    }}

[logging]
    kdc = FILE:{self._path('kdc.log')}
    admin_server = FILE:{self._path('kadmin.log')}
""")
        with open(self._path("kadm5.acl"), "w") as f:
            f.write("")

    # -- lifecycle -----------------------------------------------------------
    def _run(self, argv, stdin=None, check=True):
        r = subprocess.run(argv, env=self.env, input=stdin, capture_output=True, text=True,
                           timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def kadmin(self, query):
        return self._run([_tool("kadmin.local"), "-r", self.realm, "-q", query])

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self._path("rcache"), exist_ok=True)
        self.port = _free_port()
        self.write_krb5_conf(self._path("krb5.conf"), self.clockskew)
        self._write_kdc_conf()
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("KRB5") and k != "NTLM_USER_FILE"}
        self.env = dict(base,
                        KRB5_CONFIG=self._path("krb5.conf"),
                        KRB5_KDC_PROFILE=self._path("kdc.conf"),
                        KRB5CCNAME=f"FILE:{self.ccache}",
                        KRB5_KTNAME=f"FILE:{self.keytab}",
                        KRB5RCACHEDIR=self._path("rcache"),
                        GH_KRB5_REALM=self.realm,
                        GH_KRB5_DIR=self.dir)
        self._run([_tool("kdb5_util"), "create", "-s", "-r", self.realm, "-P", MASTER_PASSWORD])
        for user, pw in self.users.items():
            self.kadmin(f"addprinc -pw {shlex.quote(pw)} {user}")
        for svc in self.services:
            self.kadmin(f"addprinc -randkey {svc}")
            self.kadmin(f"ktadd -k {self.keytab} {svc}")
        os.chmod(self.keytab, 0o600)
        self.start_kdc()
        if self.kinit_user:
            self.kinit(self.kinit_user)
        return self

    def start_kdc(self):
        """Starts the KDC of an existing realm (again, after stop(): a test of
        an outage), on the same port, and waits until it listens."""
        log = open(self._path("kdc.stderr"), "a")
        self.kdc = subprocess.Popen([_tool("krb5kdc"), "-n", "-r", self.realm,
                                     "-P", self._path("kdc.pid")],
                                    env=self.env, stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        with open(self._path("kdc.pid"), "w") as f:
            f.write(f"{self.kdc.pid}\n")
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.kdc.poll() is not None:
                raise RuntimeError("krb5kdc exited: " + self._tail("kdc.log"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("krb5kdc did not start listening")

    def _tail(self, name):
        try:
            with open(self._path(name)) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def kinit(self, user, ccache=None, password=None, forwardable=True):
        """Gets a TGT for user into ccache (default: the realm's default ccache)."""
        argv = [_tool("kinit")]
        if forwardable:
            argv.append("-f")
        if ccache:
            argv += ["-c", ccache]
        argv.append(f"{user}@{self.realm}")
        pw = password if password is not None else self.users[user]
        return self._run(argv, stdin=pw + "\n")

    def add_user(self, user, password):
        self.kadmin(f"addprinc -pw {shlex.quote(password)} {user}")
        self.users[user] = password

    def add_service(self, spn, keytab):
        self.kadmin(f"addprinc -randkey {spn}")
        self.kadmin(f"ktadd -k {keytab} {spn}")
        os.chmod(keytab, 0o600)

    def stop(self):
        if self.kdc is not None:
            if self.kdc.poll() is None:
                self.kdc.terminate()
                try:
                    self.kdc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.kdc.kill()
                    self.kdc.wait(timeout=5)
            self.kdc = None

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def write_env_files(self):
        keys = ["KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5CCNAME", "KRB5_KTNAME",
                "KRB5RCACHEDIR", "GH_KRB5_REALM", "GH_KRB5_DIR"]
        with open(self._path("env"), "w") as f:
            for k in keys:
                f.write(f"export {k}={shlex.quote(self.env[k])}\n")
        info = {k: self.env[k] for k in keys}
        info.update(port=self.port, realm=self.realm, users=self.users, keytab=self.keytab)
        with open(self._path("env.json"), "w") as f:
            json.dump(info, f, indent=1)
        os.chmod(self._path("env.json"), 0o600)


def _cli(argv):
    import argparse
    ap = argparse.ArgumentParser(description="throwaway MIT Kerberos realm")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("dir")
    st.add_argument("--realm", default=REALM)
    st.add_argument("--user", action="append", default=[], help="NAME:PASSWORD")
    st.add_argument("--service", action="append", default=[], help="extra SPN for the keytab")
    sp = sub.add_parser("stop")
    sp.add_argument("dir")
    a = ap.parse_args(argv)
    if a.cmd == "start":
        users = dict(u.split(":", 1) for u in a.user) if a.user else None
        realm = Realm(a.dir, realm=a.realm, users=users,
                      services=["HTTP/localhost"] + a.service)
        realm.owns_dir = False
        try:
            realm.start()
        except BaseException:
            realm.stop()
            raise
        realm.write_env_files()
        # Leave the KDC running: detach from it so our exit does not kill it.
        realm.kdc = None
        print(os.path.join(realm.dir, "env"))
        return 0
    pidfile = os.path.join(a.dir, "kdc.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        print(f"no KDC recorded in {pidfile}", file=sys.stderr)
        return 1
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"krb5kdc" not in f.read():
                print(f"pid {pid} is not a krb5kdc; not killing it", file=sys.stderr)
                return 1
        os.kill(pid, signal.SIGTERM)
    except (OSError, ProcessLookupError):
        pass
    os.unlink(pidfile)
    return 0


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
