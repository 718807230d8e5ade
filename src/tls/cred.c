// SPDX-License-Identifier: MIT
// Certificate, key and trust loading shared by tls.c and the Schannel package.
// Loading into objects first (rather than SSL_CTX_use_*_file) lets Schannel
// hand the same certificate to several contexts and show it to its caller as
// a CERT_CONTEXT, with one set of checks and error messages for both.
#include "tls/cred.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gatehouse/error.h>

#include "tls/tls.h"

void
tls_cred_clear(struct tls_cred *cred)
{
    if (cred == NULL)
        return;
    X509_free(cred->leaf);
    sk_X509_pop_free(cred->chain, X509_free);
    EVP_PKEY_free(cred->key);
    *cred = (struct tls_cred){0};
}

static int
certs_read(const char *file, const char *what, STACK_OF(X509) * *certs_out, char *err,
           size_t err_len)
{
    char why[160];
    BIO *bio = BIO_new_file(file, "r");
    STACK_OF(X509) *certs = NULL;
    X509 *x = NULL;
    int rc = GH_ETLS;

    *certs_out = NULL;
    if (bio == NULL) {
        snprintf(err, err_len, "cannot load %s %s: %s", what, file,
                 tls_last_error(why, sizeof(why)));
        return GH_EIO;
    }
    certs = sk_X509_new_null();
    if (certs == NULL) {
        rc = GH_ENOMEM;
        goto cleanup;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_push(certs, x) == 0) {
            X509_free(x);
            rc = GH_ENOMEM;
            goto cleanup;
        }
    }
    /* The loop ends on "no start line" at the end of the file; anything else
     * is a malformed certificate (say OpenSSL's reason: "bad base64 decode"). */
    bool at_end = ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE;
    if (!at_end || sk_X509_num(certs) == 0) {
        snprintf(err, err_len, "cannot load %s %s: %s", what, file,
                 at_end ? "no certificate in the file" : tls_last_error(why, sizeof(why)));
        goto cleanup;
    }
    ERR_clear_error();
    *certs_out = certs;
    certs = NULL;
    rc = GH_OK;
cleanup:
    sk_X509_pop_free(certs, X509_free);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

int
tls_certs_load(const char *file, STACK_OF(X509) * *certs_out, char *err, size_t err_len)
{
    return certs_read(file, "certificates", certs_out, err, err_len);
}

static int
key_load(const char *file, EVP_PKEY **key_out, char *err, size_t err_len)
{
    char why[160];
    BIO *bio = BIO_new_file(file, "r");

    *key_out = NULL;
    if (bio == NULL) {
        snprintf(err, err_len, "cannot load private key %s: %s", file,
                 tls_last_error(why, sizeof(why)));
        return GH_EIO;
    }
    *key_out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (*key_out == NULL) {
        snprintf(err, err_len, "cannot load private key %s: %s", file,
                 tls_last_error(why, sizeof(why)));
        return GH_ETLS;
    }
    ERR_clear_error();
    return GH_OK;
}

int
tls_cred_load(const char *cert_file, const char *key_file, bool key_optional, struct tls_cred *out,
              char *err, size_t err_len)
{
    char why[160];
    struct tls_cred c = {0};
    int rc;

    *out = (struct tls_cred){0};
    rc = certs_read(cert_file, "certificate chain", &c.chain, err, err_len);
    if (rc != GH_OK)
        return rc;
    c.leaf = sk_X509_shift(c.chain);
    rc = key_load(key_file != NULL ? key_file : cert_file, &c.key, err, err_len);
    if (rc != GH_OK) {
        if (!key_optional || key_file != NULL)
            goto cleanup;
        rc = GH_OK; /* a certificate without a key: a trust anchor or a peer's */
        err[0] = '\0';
    }
    if (c.key != NULL && X509_check_private_key(c.leaf, c.key) != 1) {
        snprintf(err, err_len, "private key %s does not match certificate %s: %s",
                 key_file != NULL ? key_file : cert_file, cert_file,
                 tls_last_error(why, sizeof(why)));
        rc = GH_ETLS;
        goto cleanup;
    }
    *out = c;
    return GH_OK;
cleanup:
    tls_cred_clear(&c);
    return rc;
}

int
tls_ctx_use_cred(SSL_CTX *ctx, const struct tls_cred *cred, char *err, size_t err_len)
{
    char why[160];

    if (SSL_CTX_use_cert_and_key(ctx, cred->leaf, cred->key, cred->chain, 1) != 1) {
        snprintf(err, err_len, "cannot use certificate: %s", tls_last_error(why, sizeof(why)));
        return GH_ETLS;
    }
    return GH_OK;
}

int
tls_ctx_set_limits(SSL_CTX *ctx, int min_version, int max_version, const char *ciphers,
                   const char *ciphersuites, char *err, size_t err_len)
{
    if (SSL_CTX_set_min_proto_version(ctx, min_version ? min_version : TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, max_version ? max_version : TLS1_3_VERSION) != 1) {
        snprintf(err, err_len, "invalid TLS protocol range");
        ERR_clear_error();
        return GH_EINVAL;
    }
    if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        snprintf(err, err_len, "invalid TLS cipher list '%s'", ciphers);
        ERR_clear_error();
        return GH_EINVAL;
    }
    if (ciphersuites != NULL && SSL_CTX_set_ciphersuites(ctx, ciphersuites) != 1) {
        snprintf(err, err_len, "invalid TLS 1.3 cipher suites '%s'", ciphersuites);
        ERR_clear_error();
        return GH_EINVAL;
    }
    return GH_OK;
}

X509_STORE *
tls_store_new(STACK_OF(X509) * roots)
{
    X509_STORE *store = X509_STORE_new();

    if (store == NULL)
        return NULL;
    if (roots == NULL) {
        if (X509_STORE_set_default_paths(store) != 1)
            ERR_clear_error(); /* no system CA store: nothing is trusted */
        return store;
    }
    for (int i = 0; i < sk_X509_num(roots); i++) {
        if (X509_STORE_add_cert(store, sk_X509_value(roots, i)) != 1) {
            X509_STORE_free(store);
            ERR_clear_error();
            return NULL;
        }
    }
    return store;
}

int
tls_ctx_trust_client_cas(SSL_CTX *ctx, const char *ca_file, char *err, size_t err_len)
{
    STACK_OF(X509) *cas = NULL;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int rc = certs_read(ca_file, "client CA bundle", &cas, err, err_len);

    if (rc != GH_OK)
        return rc;
    for (int i = 0; i < sk_X509_num(cas) && rc == GH_OK; i++) {
        X509 *ca = sk_X509_value(cas, i);
        /* The store takes its own reference; the name list is what the
         * CertificateRequest advertises (TLS 1.2 certificate_authorities). */
        if (X509_STORE_add_cert(store, ca) != 1 || SSL_CTX_add_client_CA(ctx, ca) != 1) {
            char why[160];
            snprintf(err, err_len, "cannot trust client CA bundle %s: %s", ca_file,
                     tls_last_error(why, sizeof(why)));
            rc = GH_ETLS;
        }
    }
    sk_X509_pop_free(cas, X509_free);
    return rc;
}
