# SPDX-License-Identifier: MIT
"""Run the configurations of examples/ as a user would, in a throwaway root.

The examples are written for a real machine (port 443, /etc/gatehouse,
/var/log/gatehouse, a backend on 127.0.0.1:8081). A test changes only
ports and paths, by these rules (documented in examples/README.md):

  listen ANY:PORT ...          -> listen 127.0.0.1:0 ...   (the kernel picks
                                  the port; read back from the error log)
  /etc/gatehouse/...           -> ROOT/etc/...
  /var/log/gatehouse/...       -> ROOT/log/...
  /var/lib/gatehouse/...       -> ROOT/lib/...
  /srv/www...                  -> ROOT/www...
  127.0.0.1:8081, :8082 ...    -> 127.0.0.1:<port of the test's backend>

Nothing else is touched: realm, host names, schemes and every other
directive are the example's own. prepare() then creates what the file names:
a test CA and one certificate per `tls_certificate` (named after the file:
tls/www.example.org.pem is for www.example.org), the user store with the
example's auth_realm, the keytab (copied from a krb5realm.Realm), the
delegation ccache directory (0700), the static roots, the log directory.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from ghserver import SANITIZER_MARKS, gh_bin, make_pki

SRC = os.environ.get("GH_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SRC, "examples")

# user -> (password, groups); made with few PBKDF2 iterations (tests only).
USERS = {"alice": ("alice-pw-1", ("staff", "admins")), "bob": ("bob-pw-2", ("staff",))}


def example_names():
    return sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".conf"))


def render(text, root, backends=None):
    """The example's text with ports and paths moved under root."""
    backends = backends or {}
    text = re.sub(r"^(\s*listen\s+)\S+", r"\g<1>127.0.0.1:0", text, flags=re.M)
    for prefix, sub in (("/etc/gatehouse/", "etc/"), ("/var/log/gatehouse/", "log/"),
                        ("/var/lib/gatehouse/", "lib/"), ("/srv/www", "www")):
        text = text.replace(prefix, os.path.join(root, sub))

    def backend(m):
        port = int(m.group(1))
        if port not in backends:
            raise KeyError("the example uses backend port %d: pass backends={%d: port}"
                           % (port, port))
        return "127.0.0.1:%d" % backends[port]
    return re.sub(r"127\.0\.0\.1:(80[89]\d)", backend, text)


def directive_args(text, name):
    """Arguments of every `name ...;` in text (quotes removed), in order."""
    out = []
    for m in re.finditer(r"^\s*%s\s+([^;#]*);" % re.escape(name), text, flags=re.M):
        out.append([a.strip("\"'") for a in re.findall(r"\"[^\"]*\"|'[^']*'|\S+", m.group(1))])
    return out


def service_names(name):
    """The auth_service_name values an example uses (for the test realm)."""
    with open(os.path.join(EXAMPLES, name)) as f:
        text = f.read()
    return [s for args in directive_args(text, "auth_service_name") for s in args]


def prepare(name, root, backends=None, realm=None):
    """Writes ROOT/NAME (rendered) and everything it names; returns its path."""
    with open(os.path.join(EXAMPLES, name)) as f:
        text = render(f.read(), root, backends)
    for d in ("etc/tls", "log", "lib", "www"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    hosts = []
    for chain, key in directive_args(text, "tls_certificate"):
        host = os.path.basename(chain)[:-len(".pem")]
        assert os.path.dirname(chain) == os.path.join(root, "etc/tls") and \
            key == os.path.join(root, "etc/tls", host + ".key"), (chain, key)
        hosts.append(host)
    if hosts:
        make_pki(os.path.join(root, "etc/tls"), hosts)
    for (store,) in directive_args(text, "auth_user_store"):
        realms = [a[0] for a in directive_args(text, "auth_realm")] or ["gatehouse"]
        for user, (pw, groups) in USERS.items():
            argv = [gh_bin(), "passwd", store, "add", user, "--iterations", "1000", "--stdin"]
            for r in realms:
                argv += ["--realm", r]
            for g in groups:
                argv += ["--group", g]
            subprocess.run(argv, input=(pw + "\n").encode(), check=True, capture_output=True)
    for (keytab,) in directive_args(text, "auth_keytab"):
        assert realm is not None, name + " needs a Kerberos realm (krb5realm.Realm)"
        shutil.copy(realm.keytab, keytab)
        os.chmod(keytab, 0o600)
    for (ccdir,) in directive_args(text, "auth_ccache_dir"):
        os.makedirs(ccdir, mode=0o700, exist_ok=True)
    for args in directive_args(text, "static_root"):
        os.makedirs(args[0], exist_ok=True)
        with open(os.path.join(args[0], "index.html"), "w") as f:
            f.write("<p>%s</p>\n" % os.path.relpath(args[0], root))
    path = os.path.join(root, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def check(path, env=None):
    """`gatehouse serve --check`; returns (exit status, output)."""
    r = subprocess.run([gh_bin(), "serve", "--check", "--config", path], capture_output=True,
                       text=True, timeout=120, env=env)
    return r.returncode, r.stdout + r.stderr


class ExampleServer:
    """gatehouse serving a prepared example. ports: {"http": [..], "https": [..]}
    in the order of the file's listen lines (from its error log)."""

    def __init__(self, path, error_log, env=None):
        self.path = path
        self.error_log = error_log
        self.env = env
        self.proc = None
        self.ports = {}
        self.out_path = path + ".stderr"

    def log(self):
        text = ""
        for p in (self.error_log, self.out_path):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def start(self, timeout=60):
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen([gh_bin(), "serve", "--config", self.path], env=self.env,
                                     stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.log()
            if " ready: " in text:
                for scheme, port in re.findall(r"listening on (https?)://127\.0\.0\.1:(\d+)",
                                               text):
                    self.ports.setdefault(scheme, []).append(int(port))
                return self
            if self.proc.poll() is not None:
                raise AssertionError("gatehouse exited early (%s):\n%s"
                                     % (self.proc.returncode, text))
            time.sleep(0.1)
        self.proc.kill()
        self.proc.wait()
        raise AssertionError("gatehouse not ready within %ss:\n%s" % (timeout, self.log()))

    def https_port(self):
        return self.ports["https"][0]

    def stop(self, timeout=30):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("gatehouse did not stop on SIGTERM:\n" + self.log())
        rc = self.proc.returncode
        self.proc = None
        self.out.close()
        text = self.log()
        for mark in SANITIZER_MARKS:
            assert mark not in text, "sanitizer report:\n" + text
        assert rc == 0, "gatehouse exit status %s:\n%s" % (rc, text)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            if self.proc is not None:
                self.proc.kill()
                self.proc.wait()
            print("---- gatehouse log ----\n" + self.log())
        return False


def tmp_root(name):
    return tempfile.mkdtemp(prefix="ghex-%s-" % name.replace(".conf", ""))


class RecordingBackend:
    """An application behind the proxy: accepts on a free loopback port,
    records each request head (lower-cased header lines) and answers 200
    "from app", or what respond(head_text) returns: (status line bytes such
    as b"200 OK", extra header lines bytes, body bytes)."""

    def __init__(self, respond=None):
        self.respond = respond
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.heads = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(30)
                buf = b""
                try:
                    while b"\r\n\r\n" not in buf and len(buf) < 65536:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buf += data
                    text = buf.partition(b"\r\n\r\n")[0].decode("latin-1")
                    head = text.split("\r\n")
                    self.heads.append([head[0]] + [l.lower() for l in head[1:]])
                    status, extra, body = (self.respond(text) if self.respond is not None
                                           else (b"200 OK", b"", b"from app"))
                    conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\n" +
                                 extra + b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                                 % len(body) + body)
                except OSError:
                    continue

    def header(self, index, name):
        """Values of header name in the index-th recorded request."""
        prefix = name.lower() + ":"
        return [l[len(prefix):].strip() for l in self.heads[index][1:] if l.startswith(prefix)]

    def close(self):
        self.sock.close()


def curl(url, host, port, ca, *args, env=None):
    """curl to https://host:port (resolved to 127.0.0.1, verified against ca).
    Returns (exit status, HTTP status, response headers text, body)."""
    argv = ["curl", "-sS", "-m", "120", "--cacert", ca, "--resolve",
            "%s:%d:127.0.0.1" % (host, port), "-D", "-", "-o", "-", "-w", "\n%{http_code}"]
    argv += list(args) + [url]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    out = r.stdout
    body, _, code = out.rpartition("\n")
    # With several legs (401 then 200) -D shows every head; the last one counts.
    heads = re.split(r"(?=^HTTP/1\.1 \d{3})", body, flags=re.M)
    last = heads[-1] if heads else ""
    head, _, text = last.partition("\n\n")  # text mode: CRLF reads as LF
    return r.returncode, int(code) if code.isdigit() else 0, head, text
