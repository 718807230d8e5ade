// SPDX-License-Identifier: MIT
// Client-certificate trust and exchanges on OpenSSL 3 (see tls_client_cert.h).
//
// Renegotiation rules (OpenSSL 3 semantics): SSL_OP_NO_RENEGOTIATION would
// forbid server-initiated renegotiation too, so it stays off; what refuses a
// client's own renegotiation is the absence of SSL_OP_ALLOW_CLIENT_RENEGOTIATION
// (OpenSSL answers its ClientHello with a no_renegotiation alert), and the
// absence of SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION refuses clients without
// RFC 5746, which tls_cc_request also checks up front.
#include "tls/tls_client_cert.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <gatehouse/error.h>

#include "tls/cred.h"
#include "tls/tls.h"

#define DEFAULT_VERIFY_DEPTH 4
#define MAX_CERT_LIST_BYTES  (64 * 1024) /* the client's Certificate message */

static int cc_index = -1;
static CRYPTO_ONCE cc_once = CRYPTO_ONCE_STATIC_INIT;

static void
cc_index_init(void)
{
    cc_index = SSL_get_ex_new_index(0, "gatehouse tls_cc", NULL, NULL, NULL);
}

static struct tls_cc *
cc_of(const SSL *ssl)
{
    return cc_index < 0 ? NULL : SSL_get_ex_data(ssl, cc_index);
}

/* Accepts every chain and records the first failure: the server layer decides
 * (a 403 that says why, or the application under optional_no_ca). */
static int
verify_record(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_cc *st = ssl != NULL ? cc_of(ssl) : NULL;

    if (!ok && st != NULL && st->first_error == X509_V_OK) {
        st->first_error = X509_STORE_CTX_get_error(x);
        st->first_depth = X509_STORE_CTX_get_error_depth(x);
        if (st->first_error == X509_V_OK)
            st->first_error = X509_V_ERR_UNSPECIFIED;
    }
    return 1;
}

/* Counts completed exchanges. OpenSSL 3 reports SSL_CB_HANDSHAKE_DONE after a
 * TLS 1.2 HelloRequest too (while the renegotiation is still pending), and
 * not at the end of a TLS 1.3 post-handshake authentication: so TLS 1.2 counts
 * a HANDSHAKE_DONE once no renegotiation is pending, and TLS 1.3 counts the
 * server's reading of the client's Finished (which ends the initial handshake
 * and every post-handshake authentication). */
static void
info_record(const SSL *ssl, int where, int ret)
{
    struct tls_cc *st = cc_of(ssl);
    bool ended;

    (void)ret;
    if (st == NULL)
        return;
    if (SSL_version(ssl) >= TLS1_3_VERSION)
        ended = (where & SSL_CB_ACCEPT_LOOP) != 0 && SSL_get_state(ssl) == TLS_ST_SR_FINISHED;
    else
        ended = (where & SSL_CB_HANDSHAKE_DONE) != 0 && SSL_renegotiate_pending((SSL *)ssl) == 0;
    if (!ended)
        return;
    st->handshakes++;
    if (st->in_progress && st->handshakes >= st->awaited)
        st->in_progress = false;
}

static const struct tls_client_trust *
trust_for(X509 *leaf, const struct tls_client_opts *opts)
{
    const struct tls_client_trust *def = NULL;

    for (size_t i = 0; i < opts->trust_count; i++) {
        const struct tls_client_trust *t = &opts->trusts[i];
        if (t->server_name == NULL) {
            def = t;
            continue;
        }
        if (leaf != NULL &&
            X509_check_host(leaf, t->server_name, strlen(t->server_name), 0, NULL) == 1)
            return t;
    }
    return def;
}

int
tls_client_ctx_setup(SSL_CTX *ctx, X509 *leaf, const struct tls_client_opts *opts, char *err,
                     size_t err_len)
{
    char why[160];

    SSL_CTX_set_options(ctx, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    SSL_CTX_clear_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_ALLOW_CLIENT_RENEGOTIATION |
                                   SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION);
    SSL_CTX_set_max_cert_list(ctx, MAX_CERT_LIST_BYTES);
    SSL_CTX_set_verify_depth(ctx, opts != NULL && opts->verify_depth > 0 ? opts->verify_depth
                                                                         : DEFAULT_VERIFY_DEPTH);
    if (opts == NULL)
        return GH_OK;
    const struct tls_client_trust *t = trust_for(leaf, opts);
    if (t == NULL || t->ca_file == NULL)
        return GH_OK;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int rc = tls_ctx_trust_client_cas(ctx, t->ca_file, err, err_len);
    if (rc != GH_OK)
        return rc;
    if (t->crl_file != NULL) {
        X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (lookup == NULL ||
            X509_load_cert_crl_file(lookup, t->crl_file, X509_FILETYPE_PEM) <= 0) {
            snprintf(err, err_len, "cannot load client CRL file %s: %s", t->crl_file,
                     tls_last_error(why, sizeof(why)));
            return GH_ETLS;
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    return GH_OK;
}

int
tls_cc_attach(SSL *ssl, struct tls_cc *st)
{
    if (CRYPTO_THREAD_run_once(&cc_once, cc_index_init) != 1 || cc_index < 0)
        return GH_ETLS;
    if (SSL_set_ex_data(ssl, cc_index, st) != 1)
        return GH_ETLS;
    SSL_set_info_callback(ssl, info_record);
    return GH_OK;
}

void
tls_cc_request_in_handshake(SSL *ssl, struct tls_cc *st)
{
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_record);
    st->in_progress = true;
    st->awaited = st->handshakes + 1;
}

int
tls_cc_request(SSL *ssl, struct tls_cc *st, enum tls_cc_refusal *refusal_out)
{
    *refusal_out = TLS_CC_OK;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_record);
    st->first_error = X509_V_OK;
    st->first_depth = 0;
    if (SSL_version(ssl) >= TLS1_3_VERSION) {
        if (SSL_verify_client_post_handshake(ssl) != 1) {
            unsigned long e = ERR_peek_last_error();
            SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
            if (ERR_GET_REASON(e) == SSL_R_EXTENSION_NOT_RECEIVED) {
                ERR_clear_error();
                *refusal_out = TLS_CC_NO_PHA;
                return GH_ESTATE;
            }
            return GH_ETLS;
        }
    } else {
        if (SSL_get_secure_renegotiation_support(ssl) != 1) {
            SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
            *refusal_out = TLS_CC_NO_SECURE_RENEG;
            return GH_ESTATE;
        }
        if (SSL_renegotiate(ssl) != 1) {
            SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
            return GH_ETLS;
        }
    }
    st->in_progress = true;
    st->awaited = st->handshakes + 1;
    return GH_OK;
}

int
tls_cc_flush(SSL *ssl, bool *want_write_out)
{
    *want_write_out = false;
    int rc = SSL_do_handshake(ssl);
    if (rc == 1)
        return GH_OK;
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_WRITE:
        *want_write_out = true;
        return GH_AGAIN;
    case SSL_ERROR_WANT_READ:
        return GH_AGAIN;
    default:
        return GH_ETLS;
    }
}

bool
tls_cc_done(const struct tls_cc *st)
{
    return !st->in_progress;
}
