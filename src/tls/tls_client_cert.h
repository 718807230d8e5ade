// SPDX-License-Identifier: MIT
// Client certificates on the server's TLS connections (issue 7): the trust each
// SSL_CTX verifies them against (CA bundle, CRLs, depth, per SNI host), and the
// exchanges that ask a live connection for one: TLS 1.2 server-initiated
// secure renegotiation (RFC 5746) and TLS 1.3 post-handshake authentication
// (RFC 8446 4.6.2), or a request in the initial handshake.
//
// Verification never fails the handshake: the verify callback accepts and
// records the first X509_V_ERR_* (the application's CertFlags), so a rejected
// certificate can be answered with a 403 that says why instead of an alert.
#ifndef GH_TLS_TLS_CLIENT_CERT_H
#define GH_TLS_TLS_CLIENT_CERT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Trust for one SNI host (server_name) or the default (server_name NULL). */
struct tls_client_trust {
    const char *server_name; /* matched against the certificates' names, like SNI */
    const char *ca_file;     /* PEM bundle: the CAs clients' chains must end at */
    const char *crl_file;    /* PEM CRLs (may hold several), or NULL */
};

struct tls_client_opts {
    const struct tls_client_trust *trusts;
    size_t trust_count;
    int verify_depth; /* intermediates allowed above the leaf; 0: the default (4) */
};

/* The state of certificate exchanges on one SSL (owned by the caller, which
 * must keep it alive as long as the SSL; attached with tls_cc_attach). */
struct tls_cc {
    int first_error;     /* X509_V_OK or the first X509_V_ERR_* seen */
    int first_depth;     /* depth of that error in the chain */
    unsigned handshakes; /* completed handshakes (initial + renegotiations + PHA) */
    unsigned awaited;    /* handshakes count that ends the current exchange */
    bool in_progress;    /* an exchange was started and has not ended */
};

/* Sets up client-certificate trust on a server context whose certificate is
 * leaf: the trust whose server_name leaf matches, else the default one (none:
 * the context gets no client trust; certificates asked for then all carry
 * X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY). Also forbids resumption on
 * renegotiation (a resumed renegotiation would skip the CertificateRequest).
 * GH_OK, or GH_EIO / GH_ETLS with "cannot load ... FILE: reason" in err. */
int tls_client_ctx_setup(SSL_CTX *ctx, X509 *leaf, const struct tls_client_opts *opts, char *err,
                         size_t err_len);

/* Attaches st to ssl (the verify and info callbacks record into it). GH_OK or
 * GH_ETLS. Call before the handshake when it will ask for a certificate. */
int tls_cc_attach(SSL *ssl, struct tls_cc *st);

/* Asks for a certificate in the initial handshake (before SSL_accept): the
 * client may send none. */
void tls_cc_request_in_handshake(SSL *ssl, struct tls_cc *st);

/* Why tls_cc_request may refuse. */
enum tls_cc_refusal {
    TLS_CC_OK = 0,
    TLS_CC_NO_PHA,         /* TLS 1.3 client without post_handshake_auth */
    TLS_CC_NO_SECURE_RENEG /* TLS 1.2 client without RFC 5746 */
};

/* Starts an exchange on an established connection: TLS 1.3 post-handshake
 * auth or TLS 1.2 renegotiation, queueing the CertificateRequest / HelloRequest
 * (send it with tls_cc_flush). GH_OK; GH_ESTATE with *refusal_out set when the
 * client cannot do it; GH_ETLS when OpenSSL refuses (the reason is in its
 * error queue). */
int tls_cc_request(SSL *ssl, struct tls_cc *st, enum tls_cc_refusal *refusal_out);

/* Writes the queued handshake message: GH_OK, GH_AGAIN (*want_write_out says
 * whether the socket must become writable, else readable), GH_ETLS. */
int tls_cc_flush(SSL *ssl, bool *want_write_out);

/* True once the exchange started by tls_cc_request (or the handshake) ended
 * with the client's Finished. */
bool tls_cc_done(const struct tls_cc *st);

#endif
