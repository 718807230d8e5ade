# SPDX-License-Identifier: MIT
"""Client-certificate PKI made at test time with the openssl CLI (issue 7).

make_client_pki(dir) returns a dict of paths:
  ca        the trusted client CA (RSA-2048), crl its CRL (carol revoked)
  alice     RSA-2048 leaf "CN=alice,O=Test"       (.pem/.key: paths[name], paths[name + "_key"])
  bob       ECDSA P-256 leaf "CN=bob,O=Test"
  carol     RSA-2048 leaf, revoked in crl
  mallory   ECDSA leaf of another, untrusted CA
  dave      ECDSA leaf under two intermediates (int1 <- int2 <- dave); paths["dave"]
            is the chain file leaf + int2 + int1 (what a client sends)
"""
import os
import subprocess


def _run(*argv):
    subprocess.run(list(argv), check=True, capture_output=True, timeout=60)


def _key_args(kind):
    return (["-newkey", "rsa:2048"] if kind == "rsa" else
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])


def _ca(d, name, subj):
    key = os.path.join(d, name + ".key")
    crt = os.path.join(d, name + ".pem")
    _run("openssl", "req", "-x509", *_key_args("rsa"), "-nodes", "-keyout", key, "-out", crt,
         "-days", "2", "-subj", subj)
    return crt, key


def _leaf(d, name, kind, ca, ca_key, subj, is_ca=False):
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(d, name + ".pem")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n" if is_ca
                else "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    _run("openssl", "req", *_key_args(kind), "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
    _run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", ext)
    return crt, key


def make_client_pki(d):
    os.makedirs(d, exist_ok=True)
    p = {}
    ca, ca_key = _ca(d, "client-ca", "/CN=gatehouse client CA")
    p["ca"] = ca
    for name, kind in (("alice", "rsa"), ("bob", "ec"), ("carol", "rsa")):
        p[name], p[name + "_key"] = _leaf(d, name, kind, ca, ca_key, "/O=Test/CN=" + name)
    other, other_key = _ca(d, "other-ca", "/CN=untrusted CA")
    p["mallory"], p["mallory_key"] = _leaf(d, "mallory", "ec", other, other_key,
                                           "/O=Evil/CN=mallory")
    i1, i1_key = _leaf(d, "int1", "ec", ca, ca_key, "/CN=intermediate 1", is_ca=True)
    i2, i2_key = _leaf(d, "int2", "ec", i1, i1_key, "/CN=intermediate 2", is_ca=True)
    leaf, p["dave_key"] = _leaf(d, "dave", "ec", i2, i2_key, "/O=Test/CN=dave")
    p["dave"] = os.path.join(d, "dave-chain.pem")
    with open(p["dave"], "w") as out:
        for part in (leaf, i2, i1):
            with open(part) as f:
                out.write(f.read())
    # A CRL revoking carol, made with `openssl ca` over a throwaway database.
    db = os.path.join(d, "index.txt")
    open(db, "w").close()
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = CA_default\n[CA_default]\n"
                "database = %s\ncertificate = %s\nprivate_key = %s\n"
                "crlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 2\n"
                % (db, ca, ca_key, os.path.join(d, "crlnumber")))
    with open(os.path.join(d, "crlnumber"), "w") as f:
        f.write("01\n")
    _run("openssl", "ca", "-config", cnf, "-revoke", p["carol"])
    p["crl"] = os.path.join(d, "crl.pem")
    _run("openssl", "ca", "-config", cnf, "-gencrl", "-out", p["crl"])
    return p
