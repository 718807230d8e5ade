# SPDX-License-Identifier: MIT
"""Start the real gatehouse server from an inline config, on free loopback ports.

    with GhServer('location /whoami { handler whoami; }', https=True) as srv:
        out = subprocess.run(['curl', '-sk', srv.url('/whoami', tls=True)], ...)

Listeners are written as ``listen 127.0.0.1:0`` and the ports the kernel chose
are read back from the server's own log ("listening on http://127.0.0.1:PORT"),
so no port is ever guessed. ``stop()`` sends SIGTERM, waits, and fails the test
if the server did not exit cleanly or if its stderr holds a sanitizer report.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def gh_bin():
    path = os.environ.get("GH_BIN")
    if not path:
        raise SystemExit("GH_BIN is not set (run through ctest)")
    return path


def gh_build():
    return os.environ.get("GH_BUILD", os.path.dirname(os.path.dirname(os.path.dirname(gh_bin()))))


def gh_example(name):
    """The path of a built example program (build/examples/NAME); a test that
    needs one which was not built fails at once."""
    path = os.path.join(gh_build(), "examples", name)
    if not os.path.exists(path):
        print("FAIL: %s not built (examples/CMakeLists.txt)" % path)
        sys.exit(1)
    return path


def make_pki(directory, names=("localhost",)):
    """A throwaway CA and one leaf certificate per name: DIR/<name>.pem, DIR/<name>.key.
    Returns the CA certificate path."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.pem")
    if not os.path.exists(ca):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key, "-out", ca,
                        "-days", "2", "-subj", "/CN=gatehouse test CA"],
                       check=True, capture_output=True)
    for name in names:
        key = os.path.join(directory, name + ".key")
        csr = os.path.join(directory, name + ".csr")
        crt = os.path.join(directory, name + ".pem")
        ext = os.path.join(directory, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n" % name)
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                        "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext],
                       check=True, capture_output=True)
    return ca


class GhServer:
    """One gatehouse process. conf is the config body (locations, limits...);
    listen, tls_certificate, error_log and worker_threads lines are added."""

    def __init__(self, conf="", http=True, https=False, cert_names=("localhost",), workers=1,
                 error_level="info", access_log=True, extra_top="", tls_port=None,
                 preexec_fn=None):
        # preexec_fn runs in the child before exec (e.g. to drop root privileges).
        self.preexec_fn = preexec_fn
        self.dir = tempfile.mkdtemp(prefix="ghtest-")
        self.conf_path = os.path.join(self.dir, "gatehouse.conf")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.access_path = os.path.join(self.dir, "access.log")
        self.ca = None
        self.cert_names = cert_names
        # With error_level above info there is no "ready" line: a fixed TLS
        # port is then given, and readiness is a connection it accepts.
        self.tls_port = tls_port
        head = ["worker_threads %d;" % workers, "error_log - %s;" % error_level]
        if access_log:
            head.append("access_log %s;" % self.access_path)
        if http:
            head.append("listen 127.0.0.1:0;")
        if https:
            self.ca = make_pki(self.dir, cert_names)
            head.append("listen 127.0.0.1:%d tls;" % (tls_port or 0))
            for name in cert_names:
                head.append("tls_certificate %s.pem %s.key;" % (name, name))
        self.head = "\n".join(head) + "\n" + extra_top + "\n"
        self.write_conf(conf)
        self.proc = None
        self.ports = {}

    def write_conf(self, conf, raw=False):
        with open(self.conf_path, "w") as f:
            f.write(conf if raw else self.head + conf + "\n")

    def start(self, timeout=20):
        self.err_file = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([gh_bin(), "serve", "--config", self.conf_path],
                                     stdout=self.err_file, stderr=subprocess.STDOUT,
                                     preexec_fn=self.preexec_fn)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.stderr()
            if self.tls_port is not None and self._accepts(self.tls_port):
                self.ports.setdefault("https", self.tls_port)
                return self
            if " ready: " in text:
                for scheme, port in re.findall(r"listening on (https?)://127\.0\.0\.1:(\d+)", text):
                    self.ports.setdefault(scheme, int(port))
                return self
            if self.proc.poll() is not None:
                raise AssertionError("gatehouse exited early (%s):\n%s" %
                                     (self.proc.returncode, text))
            time.sleep(0.05)
        self.kill()
        raise AssertionError("gatehouse not ready within %ss:\n%s" % (timeout, self.stderr()))

    @staticmethod
    def _accepts(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return True
        except OSError:
            return False

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def access_log(self):
        try:
            with open(self.access_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def port(self, tls=False):
        return self.ports["https" if tls else "http"]

    def url(self, path="/", tls=False, host="127.0.0.1"):
        return "%s://%s:%d%s" % ("https" if tls else "http", host, self.port(tls), path)

    def connect(self, tls=False, timeout=5.0):
        s = socket.create_connection(("127.0.0.1", self.port(tls)), timeout=timeout)
        if tls:
            ctx = ssl.create_default_context(cafile=self.ca)
            s = ctx.wrap_socket(s, server_hostname="localhost")
        return s

    def signal(self, sig):
        self.proc.send_signal(sig)

    def assert_alive(self):
        assert self.proc.poll() is None, "gatehouse died:\n" + self.stderr()

    def assert_clean(self, text=None):
        text = self.stderr() if text is None else text
        for mark in SANITIZER_MARKS:
            assert mark not in text, "sanitizer report in gatehouse stderr:\n" + text

    def stop(self, timeout=20):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("gatehouse did not stop on SIGTERM:\n" + self.stderr())
        rc = self.proc.returncode
        self.proc = None
        self.err_file.close()
        text = self.stderr()
        self.assert_clean(text)
        assert rc == 0, "gatehouse exit status %s:\n%s" % (rc, text)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
        finally:
            if exc_type is not None:
                print("---- gatehouse stderr ----\n" + self.stderr())
            self.cleanup()
        return False


def http_request(port, raw, timeout=5.0, tls_ctx=None):
    """Sends raw bytes, reads until the server closes or timeout; returns bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if tls_ctx is not None:
            s = tls_ctx.wrap_socket(s, server_hostname="localhost")
        s.sendall(raw)
        return read_all(s, timeout)
    finally:
        s.close()


def read_all(sock, timeout=5.0):
    chunks = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def read_response(sock, timeout=5.0):
    """Reads exactly one response (Content-Length or chunked) from sock.
    Returns (status, headers dict lowercased, body bytes)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise AssertionError("connection closed before a response head: %r" % buf)
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if status == 100:
        s2, h2, b2 = read_response_from(sock, rest, timeout)
        return s2, h2, b2
    return finish_body(sock, status, headers, rest)


def read_response_from(sock, pending, timeout):
    class Prefixed:
        def __init__(self, s, data):
            self.s, self.data = s, data

        def settimeout(self, t):
            self.s.settimeout(t)

        def recv(self, n):
            if self.data:
                d, self.data = self.data, b""
                return d
            return self.s.recv(n)
    return read_response(Prefixed(sock, pending), timeout)


def finish_body(sock, status, headers, rest):
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
        return status, headers, rest[:n]
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            line, _, rest = rest.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, headers, body
    return status, headers, rest
