// SPDX-License-Identifier: MIT
// TLS server contexts on OpenSSL 3: certificate chains, SNI among several
// certificates, ALPN http/1.1, session tickets, TLS 1.2 and 1.3 only, no
// client-initiated renegotiation; plus tls-server-end-point channel bindings.
//
// Client certificates (issue 7): every SSL made here starts with
// SSL_VERIFY_NONE; tls_client_cert.h sets up each context's client trust
// (opts.client) and asks live connections for a certificate.
#ifndef GH_TLS_TLS_H
#define GH_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tls/tls_client_cert.h"

struct tls_cert_spec {
    const char *cert_file; /* PEM chain, leaf first */
    const char *key_file;  /* PEM private key */
};

struct tls_server_opts {
    const struct tls_cert_spec *certs; /* the first one is the default (no/unknown SNI) */
    size_t cert_count;
    int min_version; /* TLS1_2_VERSION or TLS1_3_VERSION; 0 means TLS 1.2 */
    int max_version; /* 0 means TLS 1.3 */
    bool session_tickets;
    /* Without session tickets: sessions the server-side cache keeps (0: no
     * cache, no resumption, as nginx's default ssl_session_cache none). */
    uint32_t session_cache;
    const char *ciphers;                  /* TLS 1.2 cipher list, NULL for the default */
    const char *ciphersuites;             /* TLS 1.3 suites, NULL for the default */
    const struct tls_client_opts *client; /* client-certificate trust; NULL: none */
};

struct tls_server;

/* Loads every certificate and key and builds the contexts. GH_OK, GH_EINVAL
 * (bad options), GH_EIO or GH_ETLS with "cannot load ... FILE: reason" in err,
 * GH_ENOMEM. */
int tls_server_create(const struct tls_server_opts *opts, struct tls_server **server_out, char *err,
                      size_t err_len);
void tls_server_destroy(struct tls_server *ts); /* NULL-safe; live SSLs keep their ctx */

/* A new server-side SSL for one connection (SSL_accept state), or NULL on OOM.
 * The caller frees it with SSL_free. */
SSL *tls_server_ssl_new(struct tls_server *ts);

/* Attaches the socket fd to ssl (not closed by SSL_free). OpenSSL reads ahead
 * (a whole socket's worth into its record buffer), and after every read of the
 * socket *drained_out tells whether that read drained it: it returned fewer
 * bytes than asked for, EOF, or would block. With SSL_has_pending() false this
 * lets an edge-triggered caller skip the read that would only say EAGAIN.
 * drained_out must outlive ssl. GH_OK or GH_ENOMEM. */
int tls_ssl_attach_fd(SSL *ssl, int fd, bool *drained_out);

/* How many certificates (SNI choices) the server holds. */
size_t tls_server_cert_count(const struct tls_server *ts);

/* The tls-server-end-point channel binding data (RFC 5929 4.1) of cert: its hash
 * with the hash of its signature algorithm, SHA-256 instead of MD5 or SHA-1.
 * out must hold EVP_MAX_MD_SIZE bytes. GH_OK, GH_EUNSUPPORTED (no such hash, e.g.
 * Ed25519), GH_ETLS. */
int tls_cert_end_point_hash(X509 *cert, uint8_t *out, size_t *len_out);
/* The same for the certificate this SSL presented (after SNI selection). */
int tls_ssl_server_end_point(SSL *ssl, uint8_t *out, size_t *len_out);

/* "TLSv1.3", "TLSv1.2"... and the negotiated ALPN protocol (NULL when none). */
const char *tls_ssl_alpn(const SSL *ssl, size_t *len_out);

/* Writes the last OpenSSL error as text into err ("" when none) and clears the
 * queue. Returns err. */
const char *tls_last_error(char *err, size_t err_len);

#endif
