// SPDX-License-Identifier: MIT
// Throwaway PKI for C tests and fuzz targets: a CA, a server certificate for
// "localhost" / 127.0.0.1 signed by it, a client certificate signed by it, and
// a second, unrelated CA with its own server certificate (untrusted by the
// first). P-256 keys, PEM files in a fresh temporary directory; nothing is
// committed to the tree. testcerts_make() returns 0 or -1.
#ifndef GH_TESTS_TESTCERTS_H
#define GH_TESTS_TESTCERTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct testcerts {
    char dir[64];
    char ca[128];           /* CA certificate */
    char server[128];       /* server cert + key (one file), CN/SAN localhost, 127.0.0.1 */
    char server_key[128];   /* the server key alone */
    char client[128];       /* client cert + key, CN "alice" */
    char other_ca[128];     /* an unrelated CA */
    char other_server[128]; /* server cert + key for localhost, signed by other_ca */
    char wrong_key[128];    /* a key that matches nothing */
};

static int
testcerts_ext_(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for key signed by issuer_key (self-signed when issuer is NULL). */
static X509 *
testcerts_cert_(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int is_ca,
                const char *san, const char *eku, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int ok = x != NULL && name != NULL;

    ok = ok && X509_set_version(x, 2);
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL;
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) != NULL;
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    ok = ok && X509_set_subject_name(x, name);
    ok = ok && X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
    ok = ok && X509_set_pubkey(x, key);
    if (ok && is_ca)
        ok = testcerts_ext_(x, issuer != NULL ? issuer : x, NID_basic_constraints,
                            "critical,CA:TRUE") &&
             testcerts_ext_(x, issuer != NULL ? issuer : x, NID_key_usage,
                            "critical,keyCertSign,cRLSign");
    if (ok && san != NULL)
        ok = testcerts_ext_(x, issuer != NULL ? issuer : x, NID_subject_alt_name, san);
    if (ok && eku != NULL)
        ok = testcerts_ext_(x, issuer != NULL ? issuer : x, NID_ext_key_usage, eku);
    ok = ok && X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int
testcerts_write_(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL;

    ok = ok && (cert == NULL || PEM_write_X509(f, cert) == 1);
    ok = ok && (key == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    if (f != NULL)
        fclose(f);
    return ok ? 0 : -1;
}

static int
testcerts_make(struct testcerts *tc)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256"),
             *cli_key = EVP_EC_gen("P-256"), *oca_key = EVP_EC_gen("P-256"),
             *osrv_key = EVP_EC_gen("P-256"), *wrong = EVP_EC_gen("P-256");
    X509 *ca = NULL, *srv = NULL, *cli = NULL, *oca = NULL, *osrv = NULL;
    int rc = -1;

    memset(tc, 0, sizeof(*tc));
    snprintf(tc->dir, sizeof(tc->dir), "/tmp/gh-certs-XXXXXX");
    if (mkdtemp(tc->dir) == NULL)
        goto cleanup;
    snprintf(tc->ca, sizeof(tc->ca), "%s/ca.pem", tc->dir);
    snprintf(tc->server, sizeof(tc->server), "%s/server.pem", tc->dir);
    snprintf(tc->server_key, sizeof(tc->server_key), "%s/server.key", tc->dir);
    snprintf(tc->client, sizeof(tc->client), "%s/client.pem", tc->dir);
    snprintf(tc->other_ca, sizeof(tc->other_ca), "%s/other-ca.pem", tc->dir);
    snprintf(tc->other_server, sizeof(tc->other_server), "%s/other-server.pem", tc->dir);
    snprintf(tc->wrong_key, sizeof(tc->wrong_key), "%s/wrong.key", tc->dir);
    if (ca_key == NULL || srv_key == NULL || cli_key == NULL || oca_key == NULL ||
        osrv_key == NULL || wrong == NULL)
        goto cleanup;
    ca = testcerts_cert_(ca_key, "gatehouse test CA", NULL, NULL, 1, NULL, NULL, 1);
    oca = testcerts_cert_(oca_key, "unrelated CA", NULL, NULL, 1, NULL, NULL, 2);
    if (ca == NULL || oca == NULL)
        goto cleanup;
    srv = testcerts_cert_(srv_key, "localhost", ca, ca_key, 0, "DNS:localhost,IP:127.0.0.1",
                          "serverAuth", 10);
    cli = testcerts_cert_(cli_key, "alice", ca, ca_key, 0, NULL, "clientAuth", 11);
    osrv = testcerts_cert_(osrv_key, "localhost", oca, oca_key, 0, "DNS:localhost,IP:127.0.0.1",
                           "serverAuth", 12);
    if (srv == NULL || cli == NULL || osrv == NULL)
        goto cleanup;
    if (testcerts_write_(tc->ca, ca, NULL) != 0 ||
        testcerts_write_(tc->server, srv, srv_key) != 0 ||
        testcerts_write_(tc->server_key, NULL, srv_key) != 0 ||
        testcerts_write_(tc->client, cli, cli_key) != 0 ||
        testcerts_write_(tc->other_ca, oca, NULL) != 0 ||
        testcerts_write_(tc->other_server, osrv, osrv_key) != 0 ||
        testcerts_write_(tc->wrong_key, NULL, wrong) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    X509_free(oca);
    X509_free(osrv);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
    EVP_PKEY_free(oca_key);
    EVP_PKEY_free(osrv_key);
    EVP_PKEY_free(wrong);
    return rc;
}

static void
testcerts_remove(const struct testcerts *tc)
{
    const char *files[] = {tc->ca,       tc->server,       tc->server_key, tc->client,
                           tc->other_ca, tc->other_server, tc->wrong_key};

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i][0] != '\0')
            unlink(files[i]);
    if (tc->dir[0] != '\0')
        rmdir(tc->dir);
}

#endif
