# SPDX-License-Identifier: MIT
"""gatehouse doctor, TLS checks: real certificates made with the openssl CLI
(expired ones with python3-cryptography: openssl x509 of Debian 12 cannot
backdate), one fault at a time, each caught by its check with its level, in
the text and --json outputs, with the exit status: a good chain (own root +
intermediate + leaf, the root given with --cacert), self-signed, a private CA
not given, expired and expiring certificates, a key that is not the
certificate's, a missing intermediate, an out-of-order chain, names the
configuration serves (host blocks, tls_client_ca SERVER_NAME) that the
certificate does not cover, wildcards (RFC 6125: one leftmost label), SNI's
second certificate, a 1024-bit RSA key and a SHA-1 signature, client CA
bundles (garbage, no CA, an expired CA), and hostile files (garbage PEM,
random bytes) that must give a FAIL, never a crash."""
import datetime
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile

from ghcheck import check, finish
from ghserver import gh_bin
from ghskip import missing_peer

LEVELS = ("OK", "WARN", "FAIL")
SERIALS = itertools.count(2)


def openssl(*argv):
    subprocess.run(["openssl"] + list(argv), check=True, capture_output=True, timeout=60)


class Pki:
    """Certificates in one directory: NAME.pem (the certificate alone) and NAME.key."""

    def __init__(self, directory):
        self.dir = directory

    def path(self, name, ext="pem"):
        return os.path.join(self.dir, "%s.%s" % (name, ext))

    def key(self, name, kind):
        args = {"ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]}[kind]
        openssl("genpkey", *args, "-out", self.path(name, "key"))
        os.chmod(self.path(name, "key"), 0o600)

    def root(self, name, subject):
        self.key(name, "ec")
        openssl("req", "-x509", "-new", "-key", self.path(name, "key"), "-out", self.path(name),
                "-days", "3650", "-subj", subject, "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name, issuer, subject, sans=(), ca=False, days=400, kind="ec",
              digest="sha256"):
        """A certificate for NAME signed by issuer (a name of this Pki)."""
        self.key(name, kind)
        csr = self.path(name, "csr")
        openssl("req", "-new", "-key", self.path(name, "key"), "-out", csr, "-subj", subject)
        ext = self.path(name, "ext")
        with open(ext, "w") as f:
            if ca:
                f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
            else:
                f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
                if sans:
                    f.write("subjectAltName=" + ",".join(sans) + "\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.path(issuer), "-CAkey",
                self.path(issuer, "key"), "-set_serial", str(next(SERIALS)),
                "-days", str(days), "-" + digest, "-extfile", ext, "-out", self.path(name))

    def self_signed(self, name, host):
        self.key(name, "ec")
        openssl("req", "-x509", "-new", "-key", self.path(name, "key"), "-out", self.path(name),
                "-days", "400", "-subj", "/CN=" + host, "-addext", "subjectAltName=DNS:" + host)

    def backdated(self, name, issuer, subject, days_from, days_to, ca=False, sans=()):
        """Validity [now+days_from, now+days_to] (python3-cryptography: the
        openssl CLI of Debian 12 cannot set a start date in the past)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        key = ec.generate_private_key(ec.SECP256R1())
        cn = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, subject)])
        issuer_key, issuer_name = key, cn  # issuer == name: self-signed
        if issuer != name:
            with open(self.path(issuer, "key"), "rb") as f:
                issuer_key = serialization.load_pem_private_key(f.read(), None)
            with open(self.path(issuer), "rb") as f:
                issuer_name = x509.load_pem_x509_certificate(f.read()).subject
        now = datetime.datetime.now(datetime.timezone.utc)
        b = (x509.CertificateBuilder().subject_name(cn)
             .issuer_name(issuer_name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now + datetime.timedelta(days=days_from))
             .not_valid_after(now + datetime.timedelta(days=days_to))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]),
                                critical=False)
        cert = b.sign(issuer_key, hashes.SHA256())
        with open(self.path(name), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.path(name, "key"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        os.chmod(self.path(name, "key"), 0o600)

    def bundle(self, out, *names):
        """out.pem: the certificates of names, in that order."""
        with open(self.path(out), "w") as f:
            for n in names:
                with open(self.path(n)) as part:
                    f.write(part.read())
        return self.path(out)


def doctor(pki, conf, cacert=None, json_out=False):
    """Runs gatehouse doctor on conf (written next to the certificates).
    Returns (exit status, [(level, check, what)], stdout)."""
    path = os.path.join(pki.dir, "gatehouse.conf")
    with open(path, "w") as f:
        f.write(conf)
    argv = [gh_bin(), "doctor", "--config", path]
    argv += ["--cacert", cacert] if cacert else []
    argv += ["--json"] if json_out else []
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.stderr.strip():
        print(r.stderr, end="")
    check(r.returncode in (0, 1, 2) and "ERROR: AddressSanitizer" not in r.stderr,
          "doctor exits 0/1/2, no crash or sanitizer report (%d)" % r.returncode)
    lines = []
    for line in r.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in LEVELS:
            lines.append((parts[0], parts[1], parts[2]))
    return r.returncode, lines, r.stdout


def find(lines, level, name, text=""):
    return [l for l in lines if l[0] == level and l[1] == name and text in l[2]]


def expect(pki, what, conf, level, name, text, rc_want, cacert=None, absent=()):
    """One run: the line (level, check, text) is there, every WARN/FAIL says
    what to do, the exit status is rc_want, and no line of absent
    ((level, check, text) triples) is there."""
    rc, lines, out = doctor(pki, conf, cacert)
    hit = find(lines, level, name, text)
    ok = check(bool(hit), "%s: %s %s %r" % (what, level, name, text))
    ok &= check(all("  -> " in l[2] for l in lines if l[0] != "OK"),
                "%s: every WARN/FAIL line says what to do" % what)
    ok &= check(rc == rc_want, "%s: exit status %d (%d)" % (what, rc_want, rc))
    for a in absent:
        ok &= check(not find(lines, *a), "%s: no %s %s %r line" % ((what,) + tuple(a)))
    if not ok or os.environ.get("GH_TEST_VERBOSE"):
        print(out)
    return lines


def conf_for(chain, key, hosts=("localhost",), extra=""):
    host_block = ""
    if hosts:
        host_block = "host %s { location / { handler whoami; } }\n" % " ".join(hosts)
    return ("listen 127.0.0.1:0 tls;\ntls_certificate %s %s;\n%s%s"
            % (chain, key, host_block, extra))


def check_json(pki, what, conf, cacert, rc_want):
    """--json: the same checks in the same order as the text, the counts, the
    exit status, a hint for every WARN/FAIL and null for OK."""
    rc_text, lines, _ = doctor(pki, conf, cacert)
    rc, _, out = doctor(pki, conf, cacert, json_out=True)
    try:
        doc = json.loads(out)
    except ValueError as e:
        doc = {"error": str(e)}
    checks = doc.get("checks", [])
    same = [(c.get("level"), c.get("check")) for c in checks] == [l[:2] for l in lines]
    # (a day count may tick between the two runs when a certificate was
    # made within the same second)
    def norm(what):
        return re.sub(r"\d+ (more )?days", "N days", what or "")
    diff = [(c.get("what"), l[2]) for c, l in zip(checks, lines)
            if norm(c.get("what")) != norm(l[2].split("  -> ")[0])]
    whats = not diff and len(checks) == len(lines)
    counts = all(doc.get(k.lower()) == sum(1 for l in lines if l[0] == k) for k in LEVELS)
    hints = all((c.get("hint") is None) == (c.get("level") == "OK") for c in checks)
    check(same and whats and counts and hints and rc == rc_text == rc_want and
          doc.get("exit") == rc_want and doc.get("cacert") == cacert,
          "%s --json: same checks and texts as the text output, counts, exit %d, hints, cacert"
          % (what, rc_want), "%s %s %s %s rc %d/%d\n%s" % (same, diff, counts, hints, rc,
                                                          rc_text, out[-1500:]))
    return checks


def main():
    try:
        import cryptography  # noqa: F401
    except ImportError:
        missing_peer("python3-cryptography", "python3-cryptography")
    if shutil.which("openssl") is None:
        missing_peer("openssl", "openssl")
    p = Pki(tempfile.mkdtemp(prefix="gh-doctor-tls-"))
    p.root("root", "/CN=GH Test Root")
    p.issue("int", "root", "/CN=GH Test Intermediate", ca=True)
    p.issue("leaf", "int", "/CN=localhost",
            sans=("DNS:localhost", "DNS:www.example.test", "IP:127.0.0.1"))
    chain = p.bundle("chain", "leaf", "int")
    root = p.path("root")
    leaf_key = p.path("leaf", "key")

    # A good chain, its root given as what clients trust: all OK, exit 0.
    good = conf_for(chain, leaf_key, hosts=("localhost", "www.example.test", "127.0.0.1"))
    rc, lines, out = doctor(p, good, root)
    bad = [l for l in lines if l[0] != "OK"]
    check(rc == 0 and not bad, "good chain: exit 0, no WARN/FAIL (%d, %s)" % (rc, bad))
    for name, text in (("cert-trust", root), ("certificate", "leaf.key is its key"),
                       ("cert-expiry", "/CN=localhost valid for"),
                       ("cert-expiry", "/CN=GH Test Intermediate valid for"),
                       ("cert-chain", "the chain verifies (3 certificates, up to /CN=GH Test Root"),
                       ("cert-strength", "256-bit EC key, ecdsa-with-SHA256"),
                       ("cert-names", "covers localhost, www.example.test, 127.0.0.1"),
                       ("cert-key", leaf_key)):
        check(bool(find(lines, "OK", name, text)), "good chain: OK %s %r" % (name, text))
    if rc != 0 or bad:
        print(out)
    check_json(p, "good chain", good, root, 0)

    # The same chain without --cacert: the system store lacks our root, and a
    # private CA cannot be told from a missing intermediate: WARN, saying both.
    expect(p, "private CA, no --cacert", good, "WARN", "cert-chain",
           "/CN=GH Test Intermediate is issued by /CN=GH Test Root, which neither the file nor "
           "the system store", 1)
    # The chain file carries the root itself: "ends at the root".
    with_root = p.bundle("with-root", "leaf", "int", "root")
    expect(p, "chain with its private root, no --cacert", conf_for(with_root, leaf_key), "WARN",
           "cert-chain", "the chain ends at the root /CN=GH Test Root", 1)

    # `make run`'s setup: a leaf issued directly by a private root, the file
    # holding the leaf only: WARN without --cacert, OK with it.
    p.issue("demo", "root", "/CN=localhost", sans=("DNS:localhost",))
    demo = conf_for(p.path("demo"), p.path("demo", "key"))
    expect(p, "make run style, no --cacert", demo, "WARN", "cert-chain",
           "/CN=localhost is issued by /CN=GH Test Root, which neither the file nor the system "
           "store", 1, absent=[("FAIL", "cert-chain", "")])
    expect(p, "make run style, --cacert root", demo, "OK", "cert-chain",
           "the chain verifies (2 certificates", 0, cacert=root)

    # Self-signed (what a quick test setup makes): WARN, never FAIL.
    p.self_signed("selfsigned", "localhost")
    ss = conf_for(p.path("selfsigned"), p.path("selfsigned", "key"))
    expect(p, "self-signed", ss, "WARN", "cert-chain",
           "self-signed (/CN=localhost), not in the system store", 1,
           absent=[("FAIL", "cert-chain", "")])
    expect(p, "self-signed, --cacert another root", ss, "WARN", "cert-chain",
           "clients will not trust it unless they are told to", 1, cacert=root)

    # The intermediate missing from the file, the root given: FAIL.
    expect(p, "missing intermediate", conf_for(p.path("leaf"), leaf_key), "FAIL", "cert-chain",
           "/CN=localhost is issued by /CN=GH Test Intermediate, which is neither in the file "
           "nor in %s: an intermediate is missing" % root, 2, cacert=root)
    # Out of order (leaf, root, intermediate): verifies, but WARN.
    ooo = p.bundle("out-of-order", "leaf", "root", "int")
    expect(p, "out-of-order chain", conf_for(ooo, leaf_key), "WARN", "cert-chain",
           "out of order: the issuer of certificate 1 (/CN=localhost) is certificate 3", 1,
           cacert=root, absent=[("FAIL", "cert-chain", "")])
    # A certificate that is no part of the chain after the intermediate.
    p.self_signed("stray", "stray.test")
    stray = p.bundle("stray-chain", "leaf", "int", "stray")
    expect(p, "stray certificate", conf_for(stray, leaf_key), "WARN", "cert-chain",
           "certificate 3 (/CN=stray.test) is not the issuer of certificate 2", 1, cacert=root)

    # The key of another certificate: FAIL; the certificate is still checked.
    lines = expect(p, "key mismatch", conf_for(chain, p.path("int", "key")), "FAIL",
                   "certificate", "does not match certificate %s" % chain, 2, cacert=root)
    check(bool(find(lines, "OK", "cert-chain", "the chain verifies")),
          "key mismatch: the chain is still checked (OK)")

    # Expired, not yet valid, expiring: dates given.
    p.backdated("expired", "int", "expired.test", -40, -3, sans=("localhost",))
    exp_chain = p.bundle("expired-chain", "expired", "int")
    lines = expect(p, "expired leaf", conf_for(exp_chain, p.path("expired", "key")), "FAIL",
                   "cert-expiry", "/CN=expired.test expired on ", 2, cacert=root)
    want = (datetime.datetime.now(datetime.timezone.utc) -
            datetime.timedelta(days=3)).strftime("%Y-%m-%d")
    check(bool(find(lines, "FAIL", "cert-expiry", "expired on " + want)),
          "expired leaf: the date is given (%s)" % want)
    p.backdated("future", "int", "future.test", 3, 300, sans=("localhost",))
    expect(p, "not yet valid", conf_for(p.bundle("future-chain", "future", "int"),
                                        p.path("future", "key")),
           "FAIL", "cert-expiry", "/CN=future.test is not valid yet (not before ", 2, cacert=root)
    p.issue("soon", "int", "/CN=soon.test", sans=("DNS:localhost",), days=10)
    soon = conf_for(p.bundle("soon-chain", "soon", "int"), p.path("soon", "key"))
    want = (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(days=10)).strftime("%Y-%m-%d")
    expect(p, "expiring in 10 days", soon, "WARN", "cert-expiry",
           "/CN=soon.test expires on %s" % want, 1, cacert=root)

    # Names the configuration serves that the certificate does not cover.
    expect(p, "name mismatch", conf_for(chain, leaf_key, hosts=("localhost", "other.example.net")),
           "WARN", "cert-names", "does not cover other.example.net (its names: localhost, "
           "www.example.test, 127.0.0.1)", 1, cacert=root)
    expect(p, "tls_client_ca SERVER_NAME not covered",
           conf_for(chain, leaf_key, extra="tls_client_ca %s ca.example.net;\n" % root),
           "WARN", "cert-names", "does not cover ca.example.net", 1, cacert=root)

    # Wildcards (RFC 6125 6.4.3): one label, leftmost only, never partial.
    p.issue("wild", "int", "/CN=wild", sans=("DNS:*.example.test", "DNS:w*.example.net"))
    wild = p.bundle("wild-chain", "wild", "int")
    expect(p, "wildcard", conf_for(wild, p.path("wild", "key"),
                                           hosts=("www.example.test", "*.example.test",
                                                  "example.test", "a.b.example.test",
                                                  "www.example.net")),
                   "WARN", "cert-names",
                   "does not cover example.test, a.b.example.test, www.example.net (its names: "
                   "*.example.test, w*.example.net)", 1, cacert=root)

    # SNI: the second certificate covers what the first does not.
    p.issue("api", "int", "/CN=api.example.net", sans=("DNS:api.example.net",))
    api = p.bundle("api-chain", "api", "int")
    two = conf_for(chain, leaf_key, hosts=("localhost", "api.example.net"),
                   extra="tls_certificate %s %s;\n" % (api, p.path("api", "key")))
    lines = expect(p, "SNI second certificate", two, "OK", "cert-names",
                   "%s covers api.example.net" % api, 0, cacert=root)
    check(bool(find(lines, "OK", "cert-names", "%s covers localhost" % chain)),
          "SNI: the default certificate covers localhost")

    # Strength: a 1024-bit RSA key, a SHA-1 signature.
    p.issue("weak", "int", "/CN=weak.test", sans=("DNS:localhost",), kind="rsa1024",
            digest="sha1")
    weak = conf_for(p.bundle("weak-chain", "weak", "int"), p.path("weak", "key"))
    rc, lines, out = doctor(p, weak, root)
    ok = check(bool(find(lines, "WARN", "cert-strength", "/CN=weak.test has a 1024-bit RSA key")),
               "weak: WARN cert-strength 1024-bit RSA key")
    ok &= check(bool(find(lines, "WARN", "cert-strength", "signed with ecdsa-with-SHA1")),
                "weak: WARN cert-strength SHA-1 signature")
    # OpenSSL's security level 2 (Debian's default) may refuse the key when
    # the server loads it: then only the config line may FAIL.
    ok &= check(rc in (1, 2) and all(l[1] == "config" for l in lines if l[0] == "FAIL"),
                "weak: WARN (a FAIL only from the full load) (%d)" % rc)
    if not ok:
        print(out)

    # Client CA bundles.
    garbage = p.path("garbage")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all !!\n-----END CERTIFICATE-----\n")
    expect(p, "client CA garbage", conf_for(chain, leaf_key, extra="tls_client_ca %s;\n" % garbage),
           "FAIL", "client-ca", garbage, 2, cacert=root)
    expect(p, "client CA without a CA",
           conf_for(chain, leaf_key, extra="tls_client_ca %s;\n" % p.path("leaf")),
           "FAIL", "client-ca", "1 certificate(s), none of them a CA", 2, cacert=root)
    p.backdated("oldca", "oldca", "GH Old CA", -400, -1, ca=True)
    cas = p.bundle("cas", "oldca", "root")
    expect(p, "client CA bundle with an expired CA", conf_for(chain, leaf_key,
                                                              extra="tls_client_ca %s;\n" % cas),
           "WARN", "client-ca", "/CN=GH Old CA expired on ", 1, cacert=root,
           absent=[("FAIL", "client-ca", "")])

    # Hostile files: garbage PEM, random bytes, an empty file: FAIL, no crash.
    noise = p.path("noise")
    with open(noise, "wb") as f:
        f.write(os.urandom(4096))
    empty = p.path("empty")
    open(empty, "w").close()
    for what, path, why in (("garbage PEM", garbage, "bad base64 decode"),
                            ("random bytes", noise, "no certificate in the file"),
                            ("empty file", empty, "no certificate in the file")):
        expect(p, "certificate: " + what, conf_for(path, leaf_key), "FAIL", "certificate",
               "cannot load certificates %s: %s" % (path, why), 2, cacert=root)
    expect(p, "--cacert garbage", good, "FAIL", "cert-trust", garbage, 2, cacert=garbage)
    checks = check_json(p, "random-bytes certificate", conf_for(noise, leaf_key), root, 2)
    check(any(c.get("check") == "certificate" and c.get("level") == "FAIL" for c in checks),
          "--json: the FAIL certificate check is there")

    shutil.rmtree(p.dir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
