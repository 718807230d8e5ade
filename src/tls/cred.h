// SPDX-License-Identifier: MIT
// The one way gatehouse loads TLS certificates, keys and trust anchors and
// sets protocol limits on an SSL_CTX: the server's TLS (tls.c) and the
// Schannel package (src/sspi/schannel) both build their contexts with these.
#ifndef GH_TLS_CRED_H
#define GH_TLS_CRED_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* A certificate, its chain and its private key. Owned: tls_cred_clear frees. */
struct tls_cred {
    X509 *leaf;
    STACK_OF(X509) * chain; /* the certificates after the leaf; never NULL once loaded */
    EVP_PKEY *key;          /* NULL when loaded with key_optional and none was found */
};

/* Loads cert_file (PEM, leaf first, then its chain) and key_file (PEM private
 * key; NULL: read it from cert_file). With key_optional a missing key is not
 * an error. Checks that the key matches the leaf. GH_OK, GH_EIO (cannot open),
 * GH_ETLS (no certificate, no key, mismatch, malformed) with "cannot load ...
 * FILE: reason" in err, GH_ENOMEM. On failure *out is left empty. */
int tls_cred_load(const char *cert_file, const char *key_file, bool key_optional,
                  struct tls_cred *out, char *err, size_t err_len);
void tls_cred_clear(struct tls_cred *cred); /* NULL-safe; leaves it empty */

/* Installs cred (which must have a key) as ctx's certificate, chain and key.
 * GH_OK or GH_ETLS with the reason in err. */
int tls_ctx_use_cred(SSL_CTX *ctx, const struct tls_cred *cred, char *err, size_t err_len);

/* Protocol range (0: TLS 1.2 .. TLS 1.3), TLS 1.2 cipher list and TLS 1.3
 * suites (NULL: OpenSSL's defaults). GH_OK or GH_EINVAL with err. */
int tls_ctx_set_limits(SSL_CTX *ctx, int min_version, int max_version, const char *ciphers,
                       const char *ciphersuites, char *err, size_t err_len);

/* Every certificate of a PEM file (at least one). GH_OK, GH_EIO, GH_ETLS, GH_ENOMEM. */
int tls_certs_load(const char *file, STACK_OF(X509) * *certs_out, char *err, size_t err_len);

/* A verification store trusting roots (NULL: the system's default CA paths).
 * The caller frees it with X509_STORE_free. NULL on OOM. */
X509_STORE *tls_store_new(STACK_OF(X509) * roots);

/* Trusts every certificate of ca_file (PEM) for verifying client certificates
 * on ctx and advertises their names in the CertificateRequest. GH_OK, GH_EIO,
 * GH_ETLS with "cannot load client CA bundle FILE: reason" in err, GH_ENOMEM. */
int tls_ctx_trust_client_cas(SSL_CTX *ctx, const char *ca_file, char *err, size_t err_len);

#endif
