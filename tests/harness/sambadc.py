# SPDX-License-Identifier: MIT
"""A throwaway Samba Active Directory domain controller for tests.

Debian 12's `samba` in the AD DC role: a real KDC that puts a PAC (the user's
SIDs and groups) in every ticket, an LDAP directory and its own winbindd.
Everything lives in one directory (smb.conf, the databases, logs, keytab,
krb5.conf, ccaches); nothing under /etc or /var is read or written.

    with DomainController() as dc:
        dc.kinit("carol")
        subprocess.run(["klist"], env=dc.env, check=True)

The domain (realm CORP.TEST, NetBIOS domain CORP):
    carol     member of Engineers; Engineers is a member of Staff (nested)
    dave      disabled (kinit: KDC_ERR_CLIENT_REVOKED)
    erin      password expired, must change at next logon (KDC_ERR_KEY_EXPIRED)
    frank     sAMAccountName frank, userPrincipalName frank.upn@corp.test
    svc-http  service account with SPN HTTP/localhost; keytab in dc.keytab
    Finance   a group carol is not in (directly or nested)

Provisioning takes ~20-30 s (samba-tool is Python), so the provisioned
directory is cached as a tarball in the build tree (GH_BUILD/sambadc-cache,
keyed by HARNESS_VERSION and the Samba version): a later start restores a copy
and rewrites the paths in smb.conf; it never re-provisions. The cache holds
only test passwords written in this file.

Constraints of a Samba DC on one machine (say them to whoever uses this):
- `interfaces = lo` binds 127.0.0.1 and ::1 on the standard ports (88, 389,
  445, 135, 464, 636, 3268...): only one DC may run at a time on a machine.
  Tests using it carry the CTest RESOURCE_LOCK sambadc, and start() also takes
  a machine-wide flock (LOCK_PATH) so that two build trees wait for each other.
- Debian's libwbclient ignores WINBINDD_SOCKET_DIR (it reads
  SELFTEST_WINBINDD_SOCKET_DIR only under nss_wrapper): it always connects to
  the compiled-in /run/samba/winbindd. So the DC's winbindd listens there (a
  runtime socket on tmpfs, removed when the DC stops) and env exposes
  WINBINDD_SOCKET_DIR=/run/samba/winbindd for clarity. A system winbindd
  must not be running (scripts/install-deps stops and disables it).

The DC runs in the foreground (`samba --foreground --no-process-group`) as the
leader of its own process group; stop() kills that group (smbd, winbindd and
the prefork workers are in it), always, also when start() fails.

CLI (make run-ad, shell use):
    python3 tests/harness/sambadc.py start DIR [--cache CACHEDIR]
        restores or provisions the domain in DIR, leaves the DC running and
        writes DIR/env (shell "export K=V" lines) and DIR/env.json;
    python3 tests/harness/sambadc.py stop DIR
        kills the process group recorded in DIR/samba.pgid.
"""

import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

HARNESS_VERSION = 2
REALM = "CORP.TEST"
DOMAIN = "CORP"
DNS_DOMAIN = "corp.test"
ADMIN_PASSWORD = "Admin-pw-1!"
WINBINDD_SOCKET_DIR = "/run/samba/winbindd"
LOCK_PATH = os.path.join(tempfile.gettempdir(), "gatehouse-sambadc.lock")
LOCK_WAIT_S = 280
SERVICE = "svc-http"
SPN = "HTTP/localhost"

# name -> password (all test-only secrets)
USERS = {
    "carol": "Carol-pw-1!",
    "dave": "Dave-pw-1!",
    "erin": "Erin-pw-1!",
    "frank": "Frank-pw-1!",
    SERVICE: "Svc-http-pw-1!",
}
GROUPS = {"Engineers": ["carol"], "Staff": ["Engineers"], "Finance": ["frank"]}
DISABLED_USER = "dave"
EXPIRED_USER = "erin"
UPN_USER = "frank"
UPN = "frank.upn@corp.test"
PORTS = (88, 389, 445)  # KDC, LDAP, SMB: ready when all three accept on 127.0.0.1


def _tool(name):
    path = shutil.which(name)
    if path:
        return path
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    raise FileNotFoundError(f"{name} not found (install samba samba-ad-dc samba-ad-provision "
                            "winbind krb5-user)")


def require_tools(*extra):
    """Exits as a failed test (ghskip.missing_peer) naming the Debian package
    when a tool the DC tests need is missing; extra: more (tool, package)."""
    import ghskip
    for tool, pkg in (("samba", "samba"), ("samba-tool", "samba-ad-provision"),
                      ("kinit", "krb5-user"), *extra):
        try:
            _tool(tool)
        except FileNotFoundError:
            ghskip.missing_peer(f"{tool} not found", pkg)


def samba_version():
    r = subprocess.run([_tool("samba"), "--version"], capture_output=True, text=True, timeout=30)
    return r.stdout.strip().replace(" ", "_") or "unknown"


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class DomainController:
    """A running throwaway Samba AD DC. Attributes after start():
    dir, realm, domain, env (for subprocesses: KRB5_CONFIG, KRB5CCNAME...),
    keytab (HTTP/localhost of svc-http), krb5_conf, smb_conf, users,
    winbindd_socket_dir, domain_sid."""

    def __init__(self, directory=None, cache_dir=None):
        self.owns_dir = directory is None
        self.dir = os.path.abspath(directory or tempfile.mkdtemp(prefix="gh-sambadc-"))
        if cache_dir is None and os.environ.get("GH_BUILD"):
            cache_dir = os.path.join(os.environ["GH_BUILD"], "sambadc-cache")
        self.cache_dir = cache_dir
        self.realm = REALM
        self.domain = DOMAIN
        self.users = dict(USERS)
        self.groups = {k: list(v) for k, v in GROUPS.items()}
        self.winbindd_socket_dir = WINBINDD_SOCKET_DIR
        self.dc_dir = os.path.join(self.dir, "dc")
        self.smb_conf = os.path.join(self.dc_dir, "etc", "smb.conf")
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        self.keytab = os.path.join(self.dir, "http.keytab")
        self.ccache = os.path.join(self.dir, "ccache")
        self.domain_sid = None
        self.proc = None
        self._lock = None
        self.env = None
        self.provisioned_from_cache = False

    def _path(self, *names):
        return os.path.join(self.dir, *names)

    # -- commands ------------------------------------------------------------
    def _run(self, argv, stdin=None, check=True, timeout=120):
        r = subprocess.run(argv, env=self.env, input=stdin, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): "
                               f"{(r.stderr or r.stdout).strip()[-1500:]}")
        return r

    def samba_tool(self, *args, check=True):
        """samba-tool on the DC's own smb.conf (works with the DC stopped or running)."""
        return self._run([_tool("samba-tool"), *args, "-s", self.smb_conf], check=check)

    def wbinfo(self, *args, check=True):
        return self._run([_tool("wbinfo"), *args], check=check)

    # -- provisioning ----------------------------------------------------------
    def _cache_file(self):
        if not self.cache_dir:
            return None
        return os.path.join(self.cache_dir,
                            f"sambadc-v{HARNESS_VERSION}-{samba_version()}.tar")

    def _provision(self):
        """samba-tool domain provision + users, groups, SPN and keytab, all offline."""
        shutil.rmtree(self.dc_dir, ignore_errors=True)
        opts = {
            "interfaces": "lo",
            "bind interfaces only": "yes",
            "pid directory": self._path("run"),
            "winbindd socket directory": WINBINDD_SOCKET_DIR,
            "log file": self._path("log", "%m.log"),
            "server services": "s3fs, rpc, ldap, kdc, winbindd",
            "tls enabled": "no",
            "prefork children": "2",
        }
        argv = [_tool("samba-tool"), "domain", "provision", f"--realm={REALM}",
                f"--domain={DOMAIN}", "--server-role=dc", "--dns-backend=NONE",
                f"--adminpass={ADMIN_PASSWORD}", "--use-rfc2307",
                f"--targetdir={self.dc_dir}"]
        argv += [f"--option={k}={v}" for k, v in opts.items()]
        self._run(argv, timeout=300)
        # No password ageing: a cached domain must not expire its users' passwords.
        self.samba_tool("domain", "passwordsettings", "set", "--complexity=off",
                        "--max-pwd-age=0", "--min-pwd-age=0", "--history-length=0")
        for user, pw in self.users.items():
            extra = ["--must-change-at-next-login"] if user == EXPIRED_USER else []
            self.samba_tool("user", "create", user, pw, *extra)
        self.samba_tool("user", "disable", DISABLED_USER)
        self.samba_tool("user", "rename", UPN_USER, f"--upn={UPN}")
        self.samba_tool("user", "setexpiry", SERVICE, "--noexpiry")
        for group, members in self.groups.items():
            self.samba_tool("group", "add", group)
            self.samba_tool("group", "addmembers", group, ",".join(members))
        self.samba_tool("spn", "add", SPN, SERVICE)
        self._set_attr(SERVICE, "msDS-SupportedEncryptionTypes", "24")  # AES only
        # exportkeytab --principal=HTTP/localhost gives only the RC4 key (the
        # AES keys are salted with the account name, which Samba keeps only for
        # the account principal): export the account's keys and write them a
        # second time under the SPN, as `net ads keytab` / adcli do.
        account_kt = os.path.join(self.dc_dir, "account.keytab")
        self.samba_tool("domain", "exportkeytab", account_kt, f"--principal={SERVICE}")
        with open(account_kt, "rb") as f:
            data = f.read()
        with open(os.path.join(self.dc_dir, "http.keytab"), "wb") as f:
            f.write(keytab_with_spn(data, SPN.split("/"), REALM))

    def _set_attr(self, account, attr, value):
        """Replaces one attribute of an account in the offline sam.ldb (python3-samba)."""
        code = (
            "import sys, ldb\n"
            "from samba.samdb import SamDB\n"
            "from samba.param import LoadParm\n"
            "from samba.auth import system_session\n"
            "lp = LoadParm(); lp.load(sys.argv[1])\n"
            "db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)\n"
            "r = db.search(expression='(sAMAccountName=%s)' % ldb.binary_encode(sys.argv[2]),"
            " attrs=['dn'])\n"
            "m = ldb.Message(r[0].dn)\n"
            "m[sys.argv[3]] = ldb.MessageElement(sys.argv[4], ldb.FLAG_MOD_REPLACE, sys.argv[3])\n"
            "db.modify(m)\n")
        self._run(["/usr/bin/python3", "-c", code, self.smb_conf, account, attr, value])

    def _restore_or_provision(self):
        cache = self._cache_file()
        if cache and os.path.exists(cache):
            shutil.rmtree(self.dc_dir, ignore_errors=True)
            with tarfile.open(cache) as tar:
                tar.extractall(self.dir)  # noqa: S202 (our own tarball)
            old = open(os.path.join(self.dc_dir, "provisioned-in")).read().strip()
            with open(self.smb_conf) as f:
                conf = f.read()
            with open(self.smb_conf, "w") as f:
                f.write(conf.replace(old + "/", self.dir + "/"))
            self.provisioned_from_cache = True
        else:
            self._provision()
            with open(os.path.join(self.dc_dir, "provisioned-in"), "w") as f:
                f.write(self.dir + "\n")
            if cache:
                os.makedirs(self.cache_dir, exist_ok=True)
                tmp = cache + f".tmp{os.getpid()}"
                with tarfile.open(tmp, "w") as tar:
                    tar.add(self.dc_dir, arcname="dc")
                os.replace(tmp, cache)
        shutil.copyfile(os.path.join(self.dc_dir, "http.keytab"), self.keytab)
        os.chmod(self.keytab, 0o600)

    def write_krb5_conf(self, path=None):
        with open(path or self.krb5_conf, "w") as f:
            f.write(f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    forwardable = true
    udp_preference_limit = 1
    default_ccache_name = FILE:{self.ccache}
    default_keytab_name = FILE:{self.keytab}
    kdc_timeout = 3s
    max_retries = 1

[realms]
    {REALM} = {{
        kdc = 127.0.0.1
        admin_server = 127.0.0.1
    }}

[domain_realm]
    localhost = {REALM}
    .localhost = {REALM}
    .{DNS_DOMAIN} = {REALM}
    {DNS_DOMAIN} = {REALM}

[logging]
    default = FILE:{self._path('krb5lib.log')}
""")

    # -- lifecycle -------------------------------------------------------------
    def _take_lock(self):
        self._lock = open(LOCK_PATH, "a")
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"another Samba DC holds {LOCK_PATH} for over "
                                       f"{LOCK_WAIT_S} s")
                time.sleep(0.5)

    def _release_lock(self):
        if self._lock is not None:
            self._lock.close()  # closing drops the flock
            self._lock = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        self.env = dict(base,
                        KRB5_CONFIG=self.krb5_conf,
                        KRB5CCNAME=f"FILE:{self.ccache}",
                        KRB5_KTNAME=f"FILE:{self.keytab}",
                        KRB5RCACHEDIR=self._path("rcache"),
                        WINBINDD_SOCKET_DIR=WINBINDD_SOCKET_DIR,
                        GH_AD_REALM=REALM, GH_AD_DOMAIN=DOMAIN, GH_AD_DIR=self.dir)
        self._take_lock()
        try:
            for d in ("run", "log", "rcache"):
                os.makedirs(self._path(d), exist_ok=True)
            self._restore_or_provision()
            self.write_krb5_conf()
            busy = [p for p in PORTS if _port_open(p)]
            if busy:
                raise RuntimeError(f"127.0.0.1 ports {busy} already in use: another KDC, "
                                   "LDAP or SMB server (a system samba?) is running")
            os.makedirs(WINBINDD_SOCKET_DIR, exist_ok=True)
            log = open(self._path("log", "samba.stderr"), "w")
            self.proc = subprocess.Popen([_tool("samba"), "--foreground", "--no-process-group",
                                          "-s", self.smb_conf],
                                         env=self.env, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            with open(self._path("samba.pgid"), "w") as f:
                f.write(f"{self.proc.pid}\n")
            self._wait_ready()
            self.domain_sid = self.wbinfo("-n", f"{DOMAIN}\\Domain Users").stdout.split()[0]
            self.domain_sid = self.domain_sid.rsplit("-", 1)[0]
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("samba exited: " + self._tail("log", "samba.stderr"))
            if all(_port_open(p) for p in PORTS):
                if self.wbinfo("-n", f"{DOMAIN}\\carol", check=False).returncode == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError("samba did not become ready in 90 s: "
                           + self._tail("log", "samba.stderr"))

    def _tail(self, *names):
        try:
            with open(self._path(*names)) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def kinit(self, user, password=None, ccache=None, enterprise=False, check=True):
        """kinit user@CORP.TEST (or an enterprise name such as a UPN with -E)."""
        argv = [_tool("kinit")]
        if ccache:
            argv += ["-c", ccache]
        if enterprise:
            argv += ["-E", user]
        else:
            argv.append(user if "@" in user else f"{user}@{REALM}")
        if password is None:
            password = self.users[UPN_USER if user == UPN else user.split("@")[0]]
        pw = password
        return self._run(argv, stdin=pw + "\n", check=check)

    def user_sid(self, name):
        return self.wbinfo("-n", f"{DOMAIN}\\{name}").stdout.split()[0]

    @property
    def account_keytab(self):
        """svc-http's keys under its account principal svc-http@CORP.TEST (not
        the SPN). A service's own TGT (kinit -k, for Kerberos constrained
        delegation: S4U2Proxy) must be asked for under this name: Samba 4.17's
        KDC answers an AS-REQ for the SPN HTTP/localhost with
        KDC_ERR_C_PRINCIPAL_UNKNOWN."""
        return os.path.join(self.dc_dir, "account.keytab")

    def add_service_account(self, account, spn, password):
        """A further service account (a backend) with one SPN, on the running
        DC; returns a keytab of its AES keys under the SPN (in self.dir)."""
        self.samba_tool("user", "create", account, password)
        self.samba_tool("user", "setexpiry", account, "--noexpiry")
        self.samba_tool("spn", "add", spn, account)
        exported = self._path(f"{account}.account.keytab")
        self.samba_tool("domain", "exportkeytab", exported, f"--principal={account}")
        with open(exported, "rb") as f:
            data = f.read()
        path = self._path(f"{account}.keytab")
        with open(path, "wb") as f:
            f.write(keytab_with_spn(data, spn.split("/"), REALM))
        os.chmod(path, 0o600)
        return path

    def allow_delegation_to(self, account, spn):
        """Kerberos constrained delegation: adds spn to the account's
        msDS-AllowedToDelegateTo (S4U2Proxy with a client's forwardable
        service ticket as evidence; no protocol transition)."""
        self.samba_tool("delegation", "add-service", account, spn)

    def stop(self):
        """Kills the DC's process group (always safe to call)."""
        if self.proc is not None:
            pgid = self.proc.pid
            _kill_group(pgid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
            try:
                os.unlink(self._path("samba.pgid"))
            except OSError:
                pass
        self._release_lock()

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
        keys = ["KRB5_CONFIG", "KRB5CCNAME", "KRB5_KTNAME", "KRB5RCACHEDIR",
                "WINBINDD_SOCKET_DIR", "GH_AD_REALM", "GH_AD_DOMAIN", "GH_AD_DIR"]
        with open(self._path("env"), "w") as f:
            for k in keys:
                f.write(f"export {k}={shlex.quote(self.env[k])}\n")
        info = {k: self.env[k] for k in keys}
        info.update(realm=REALM, domain=DOMAIN, users=self.users, keytab=self.keytab,
                    smb_conf=self.smb_conf, domain_sid=self.domain_sid)
        with open(self._path("env.json"), "w") as f:
            json.dump(info, f, indent=1)
        os.chmod(self._path("env.json"), 0o600)


def keytab_with_spn(data, spn_components, realm):
    """Returns a keytab (MIT file format 0x502) holding every entry of data plus a
    copy of each under the principal spn_components@realm (same key, same kvno)."""
    import struct
    if data[:2] != b"\x05\x02":
        raise ValueError("not a version 0x502 keytab")
    out = [data]
    pos = 2
    while pos + 4 <= len(data):
        (size,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if size <= 0:
            pos += -size
            continue
        entry = data[pos:pos + size]
        pos += size
        (ncomp,) = struct.unpack_from(">H", entry, 0)
        p = 2
        for _ in range(ncomp + 1):  # the realm, then the components
            (n,) = struct.unpack_from(">H", entry, p)
            p += 2 + n
        rest = entry[p + 4:]  # after name_type: timestamp, vno8, keyblock, [vno32]
        name = struct.pack(">H", len(spn_components))
        name += struct.pack(">H", len(realm)) + realm.encode()
        for c in spn_components:
            name += struct.pack(">H", len(c)) + c.encode()
        name += struct.pack(">I", 2)  # KRB5_NT_SRV_HST
        new = name + rest
        out.append(struct.pack(">i", len(new)) + new)
    return b"".join(out)


def _kill_group(pgid):
    """SIGTERM the group, then SIGKILL what is left after 5 s."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _cli(argv):
    import argparse
    ap = argparse.ArgumentParser(description="throwaway Samba AD domain controller")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("dir")
    st.add_argument("--cache", default=None, help="directory for the provisioning cache")
    sp = sub.add_parser("stop")
    sp.add_argument("dir")
    a = ap.parse_args(argv)
    if a.cmd == "start":
        dc = DomainController(a.dir, cache_dir=a.cache)
        dc.start()
        dc.write_env_files()
        # Leave the DC running; the lock goes with this process (stop() needs none).
        dc.proc = None
        dc._release_lock()
        print(os.path.join(dc.dir, "env"))
        return 0
    pidfile = os.path.join(os.path.abspath(a.dir), "samba.pgid")
    try:
        with open(pidfile) as f:
            pgid = int(f.read().strip())
    except (OSError, ValueError):
        print(f"no Samba DC recorded in {pidfile}", file=sys.stderr)
        return 1
    try:
        with open(f"/proc/{pgid}/cmdline", "rb") as f:
            if b"samba" not in f.read():
                print(f"pid {pgid} is not samba; not killing it", file=sys.stderr)
                return 1
    except OSError:
        os.unlink(pidfile)
        return 0
    _kill_group(pgid)
    os.unlink(pidfile)
    return 0


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
