# SPDX-License-Identifier: MIT
"""The Schannel package against real TLS peers, through tests/tools/schannel_shim
(our package on a TCP socket, driven only by SSPI calls): our initiator
against `openssl s_server`, our acceptor against `openssl s_client` and curl,
TLS 1.2 and 1.3, socket reads of 1 byte (every record split at every byte
boundary: SECBUFFER_MISSING / SEC_E_INCOMPLETE_MESSAGE) and of 16 KiB (several
records in one read: SECBUFFER_EXTRA), a client certificate requested by
s_server (SEC_I_INCOMPLETE_CREDENTIALS, then with a certificate), an untrusted
server (SEC_E_UNTRUSTED_ROOT, 0x80090325) and a wrong name
(SEC_E_WRONG_PRINCIPAL, 0x80090322) vs manual validation."""
import os
import shutil
import subprocess
import sys
import tempfile

from ghserver import gh_build, make_pki
from ports import free_port, wait_port

SHIM = os.path.join(gh_build(), "tests", "tools", "schannel_shim")


def s_server(d, proto, extra=(), clients=1):
    port = free_port()
    cmd = ["openssl", "s_server", "-accept", str(port), "-cert", os.path.join(d, "localhost.pem"),
           "-key", os.path.join(d, "localhost.key"), "-www", "-naccept", str(clients + 1),
           "-tls1_3" if proto == "13" else "-tls1_2"] + list(extra)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    wait_port(port, proc)  # this probe is the first of the two accepts
    return proc, port


def shim_client(port, proto, ca, chunk, target="localhost", extra=(), expect_ok=True):
    cmd = [SHIM, "client", "--port", str(port), "--target", target, "--ca", ca, "--proto", proto,
           "--chunk", str(chunk)] + list(extra)
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    if expect_ok:
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    return r


def test_client_vs_s_server(d, ca):
    for proto in ("12", "13"):
        for chunk in (1, 16384):
            srv, port = s_server(d, proto)
            try:
                r = shim_client(port, proto, ca, chunk)
                assert r.stdout.startswith(b"HTTP/1.0 200 ok"), r.stdout[:200]
                want = b"protocol=0x%x" % (0x2000 if proto == "13" else 0x800)
                assert want in r.stderr, r.stderr
                # s_server -www reports the protocol it spoke.
                assert (b"TLSv1.3" if proto == "13" else b"TLSv1.2") in r.stdout, r.stdout[:2000]
                if proto == "13":  # the session tickets: SEC_I_RENEGOTIATE, as Windows
                    assert b"RENEGOTIATE" in r.stderr, r.stderr
            finally:
                srv.kill()
                srv.wait()


def test_client_certificate(d, ca):
    client_pem = os.path.join(d, "alice-full.pem")
    with open(client_pem, "wb") as f:
        f.write(open(os.path.join(d, "alice.pem"), "rb").read())
        f.write(open(os.path.join(d, "alice.key"), "rb").read())
    for proto in ("12", "13"):
        # Requested, none given: SEC_I_INCOMPLETE_CREDENTIALS, then on without.
        srv, port = s_server(d, proto, ["-verify", "1", "-CAfile", ca])
        try:
            r = shim_client(port, proto, ca, 7)
            assert b"INCOMPLETE_CREDENTIALS issuers=1" in r.stderr, r.stderr
            assert b"no client certificate available" in r.stdout, r.stdout[:3000]
        finally:
            srv.kill()
            srv.wait()
        # Requested, and the caller answers with a credential that has one.
        srv, port = s_server(d, proto, ["-verify", "1", "-CAfile", ca])
        try:
            r = shim_client(port, proto, ca, 16384, extra=["--cert", client_pem])
            assert b"INCOMPLETE_CREDENTIALS issuers=1" in r.stderr, r.stderr
            assert b"CN = alice" in r.stdout or b"CN=alice" in r.stdout, r.stdout[:3000]
        finally:
            srv.kill()
            srv.wait()


def test_trust(d, ca, other_ca):
    srv, port = s_server(d, "13", clients=2)
    try:
        r = shim_client(port, "13", other_ca, 16384, expect_ok=False)
        assert r.returncode == 1 and b"ERR 0x80090325" in r.stderr, r.stderr
        r = shim_client(port, "13", other_ca, 16384, extra=["--manual"])
        assert r.stdout.startswith(b"HTTP/1.0 200 ok")
    finally:
        srv.kill()
        srv.wait()
    srv, port = s_server(d, "12", clients=2)
    try:
        r = shim_client(port, "12", ca, 16384, target="www.example.org", expect_ok=False)
        assert r.returncode == 1 and b"ERR 0x80090322" in r.stderr, r.stderr
        r = shim_client(port, "12", ca, 16384, target="www.example.org", extra=["--manual"])
        assert r.stdout.startswith(b"HTTP/1.0 200 ok")
    finally:
        srv.kill()
        srv.wait()


def shim_server(full_pem, proto, chunk):
    proc = subprocess.Popen([SHIM, "server", "--cert", full_pem, "--proto", proto, "--chunk",
                             str(chunk)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    assert line.startswith("PORT "), line
    return proc, int(line.split()[1])


def finish(proc):
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def test_server_vs_peers(d, ca):
    full = os.path.join(d, "localhost-full.pem")
    with open(full, "wb") as f:
        f.write(open(os.path.join(d, "localhost.pem"), "rb").read())
        f.write(open(os.path.join(d, "localhost.key"), "rb").read())
    for proto in ("12", "13"):
        name = b"TLSv1.3" if proto == "13" else b"TLSv1.2"
        for chunk in (1, 16384):
            proc, port = shim_server(full, proto, chunk)
            flag = "--tlsv1.3" if proto == "13" else "--tlsv1.2"
            r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", ca, flag,
                                "--tls-max", "1.3" if proto == "13" else "1.2",
                                "https://localhost:%d/curl" % port], capture_output=True)
            err = finish(proc)
            assert r.returncode == 0 and r.stdout == b"hello from schannel " + name + b"\n", r
            assert b"REQUEST GET /curl HTTP/1.1" in err, err
            proc, port = shim_server(full, proto, chunk)
            r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                                "-CAfile", ca, "-verify_return_error", "-servername", "localhost",
                                "-quiet", "-tls1_3" if proto == "13" else "-tls1_2"],
                               input=b"GET /s_client HTTP/1.1\r\nHost: localhost\r\n\r\n",
                               capture_output=True, timeout=30)
            err = finish(proc)
            assert b"hello from schannel " + name in r.stdout, r
            assert b"REQUEST GET /s_client HTTP/1.1" in err, err


def main():
    for tool in ("openssl", "curl"):
        if shutil.which(tool) is None:
            print("FAIL: %s is required (scripts/install-deps)" % tool)
            sys.exit(1)
    if not os.path.exists(SHIM):
        print("FAIL: %s not built" % SHIM)
        sys.exit(1)
    d = tempfile.mkdtemp(prefix="gh-schannel-")
    try:
        ca = make_pki(d, names=("localhost", "alice"))
        od = os.path.join(d, "other")
        os.mkdir(od)
        other_ca = make_pki(od, names=())
        test_client_vs_s_server(d, ca)
        test_client_certificate(d, ca)
        test_trust(d, ca, other_ca)
        test_server_vs_peers(d, ca)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
