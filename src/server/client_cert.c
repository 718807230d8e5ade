// SPDX-License-Identifier: MIT
// Client certificates of TLS connections (issue 7): the exchange that asks a
// live connection for one (driven by conn_run without blocking the loop), the
// record behind gh_request_client_cert(), the per-location
// tls_client_certificate check, and the mapping result attached by
// server_auth.c. See docs/internals/client_cert.md.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <gatehouse/token.h>

#include "server/server.h"

struct conn_client_cert {
    struct tls_cc tls; /* exchange state, attached to the SSL */
    bool is_attached;
    bool has_cert;      /* pub describes a certificate */
    bool exchanged;     /* an exchange ended on this connection */
    bool flush_pending; /* the HelloRequest / CertificateRequest is still to send */
    bool rejected;      /* strict verification refused the certificate */
    int reject_error;   /* its X509_V_ERR_* */
    enum tls_cc_refusal refusal;
    /* The certificate of the last exchange, held until the record is first
     * used (gh_request_client_cert, the audit line): most connections never
     * read it, so the DER copies and RFC 2253 names are not made for them. */
    X509 *leaf;
    STACK_OF(X509) * leaf_chain; /* the chain as sent, leaf excluded; NULL if empty */
    bool is_built;               /* pub, der, chain, subject, issuer are filled */
    struct gh_client_cert pub;
    uint8_t *der;
    struct gh_str *chain;
    char *subject;
    char *issuer;
};

/* Frees what record_materialize made (the certificate itself stays held). */
static void
record_unmake(struct conn_client_cert *cc)
{
    free(cc->der);
    if (cc->chain != NULL) {
        for (size_t i = 0; i < cc->pub.chain_len; i++)
            free((void *)cc->chain[i].ptr);
    }
    free(cc->chain);
    free(cc->subject);
    free(cc->issuer);
    cc->der = NULL;
    cc->chain = NULL;
    cc->subject = cc->issuer = NULL;
    cc->pub.encoded = NULL;
    cc->pub.encoded_len = 0;
    cc->pub.subject = cc->pub.issuer = NULL;
    cc->pub.chain = NULL;
    cc->pub.chain_len = 0;
    cc->is_built = false;
}

static void
record_clear(struct conn_client_cert *cc)
{
    gh_token_close(cc->pub.token);
    record_unmake(cc);
    X509_free(cc->leaf);
    sk_X509_pop_free(cc->leaf_chain, X509_free);
    cc->leaf = NULL;
    cc->leaf_chain = NULL;
    cc->pub = (struct gh_client_cert){0};
    cc->has_cert = false;
    cc->rejected = false;
    cc->reject_error = 0;
}

void
conn_client_cert_free(struct conn_client_cert *cc)
{
    if (cc == NULL)
        return;
    record_clear(cc);
    free(cc);
}

void
conn_client_cert_set_mapping(struct conn *c, gh_token *token, bool denied)
{
    struct conn_client_cert *cc = c->client_cert;

    if (cc == NULL || !cc->has_cert)
        return;
    gh_token *old = cc->pub.token;
    cc->pub.token = token != NULL ? gh_token_dup(token) : NULL;
    cc->pub.denied_by_mapper = denied;
    gh_token_close(old);
}

int
conn_cc_prepare(struct conn *c)
{
    if (c->ssl == NULL)
        return GH_EUNSUPPORTED;
    if (c->client_cert == NULL) {
        c->client_cert = calloc(1, sizeof(*c->client_cert));
        if (c->client_cert == NULL)
            return GH_ENOMEM;
    }
    if (!c->client_cert->is_attached) {
        int rc = tls_cc_attach(c->ssl, &c->client_cert->tls);
        if (rc != GH_OK)
            return rc;
        c->client_cert->is_attached = true;
    }
    return GH_OK;
}

int
conn_cc_request_in_handshake(struct conn *c)
{
    int rc = conn_cc_prepare(c);

    if (rc == GH_OK)
        tls_cc_request_in_handshake(c->ssl, &c->client_cert->tls);
    return rc;
}

static char *
name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;

    if (b == NULL)
        return NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        out = malloc((size_t)n + 1);
        if (out != NULL) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    return out;
}

static int
der_of(X509 *x, uint8_t **der_out, size_t *len_out)
{
    int n = i2d_X509(x, NULL);

    if (n <= 0)
        return GH_ETLS;
    uint8_t *der = malloc((size_t)n);
    if (der == NULL)
        return GH_ENOMEM;
    unsigned char *p = der;
    if (i2d_X509(x, &p) != n) {
        free(der);
        return GH_ETLS;
    }
    *der_out = der;
    *len_out = (size_t)n;
    return GH_OK;
}

/* The exchange ended: settles its outcome (a certificate, none, or one that
 * strict verification rejected) and keeps a reference to the certificate; the
 * record itself is made on first use (record_materialize). */
static int
record_build(struct conn *c)
{
    struct conn_client_cert *cc = c->client_cert;
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);

    record_clear(cc);
    cc->exchanged = true;
    if (leaf == NULL)
        return GH_OK;
    int flags = cc->tls.first_error;
    if (SSL_session_reused(c->ssl) && flags == X509_V_OK)
        flags = (int)SSL_get_verify_result(c->ssl);
    if (flags != X509_V_OK && !c->config->client_verify_optional) {
        cc->rejected = true;
        cc->reject_error = flags;
        return GH_OK;
    }
    /* Server side: the chain as sent, without the leaf. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    if (chain != NULL && sk_X509_num(chain) > 0) {
        cc->leaf_chain = X509_chain_up_ref(chain);
        if (cc->leaf_chain == NULL)
            return GH_ENOMEM;
    }
    if (X509_up_ref(leaf) != 1) {
        record_clear(cc);
        cc->exchanged = true;
        return GH_ETLS;
    }
    cc->leaf = leaf;
    cc->pub.flags = (uint32_t)flags;
    cc->has_cert = true;
    return GH_OK;
}

/* Makes the record from the certificate kept by record_build: DER of the leaf
 * and of the chain, RFC 2253 subject and issuer. GH_OK (also when already
 * made), GH_ENOMEM or GH_ETLS (then the connection's record stays unmade). */
static int
record_materialize(struct conn_client_cert *cc)
{
    if (cc->is_built)
        return GH_OK;
    int rc = der_of(cc->leaf, &cc->der, &cc->pub.encoded_len);
    if (rc != GH_OK)
        goto fail;
    cc->pub.encoded = cc->der;
    rc = GH_ENOMEM;
    cc->subject = name_text(X509_get_subject_name(cc->leaf));
    cc->issuer = name_text(X509_get_issuer_name(cc->leaf));
    if (cc->subject == NULL || cc->issuer == NULL)
        goto fail;
    cc->pub.subject = cc->subject;
    cc->pub.issuer = cc->issuer;
    int n = cc->leaf_chain != NULL ? sk_X509_num(cc->leaf_chain) : 0;
    if (n > 0) {
        cc->chain = calloc((size_t)n, sizeof(*cc->chain));
        if (cc->chain == NULL)
            goto fail;
        for (int i = 0; i < n; i++) {
            uint8_t *der = NULL;
            size_t len = 0;
            rc = der_of(sk_X509_value(cc->leaf_chain, i), &der, &len);
            if (rc != GH_OK)
                goto fail;
            cc->chain[cc->pub.chain_len++] = (struct gh_str){(const char *)der, len};
        }
        cc->pub.chain = cc->chain;
    }
    cc->is_built = true;
    return GH_OK;
fail:
    record_unmake(cc);
    return rc;
}

static void
audit(struct conn *c, const char *what)
{
    struct conn_client_cert *cc = c->client_cert;

    /* Checked here so that the record is not made only to be dropped. */
    if (c->config->error_log == NULL || c->config->log_level < LOG_INFO)
        return;
    if (cc != NULL && cc->has_cert && record_materialize(cc) == GH_OK)
        log_msg(c->config->error_log, LOG_INFO, "client certificate %s: subject \"%s\" flags %u",
                what, cc->pub.subject, cc->pub.flags);
    else if (cc != NULL && cc->has_cert)
        log_msg(c->config->error_log, LOG_INFO,
                "client certificate %s: flags %u (its record could not be made)", what,
                cc->pub.flags);
    else if (cc != NULL && cc->rejected)
        log_msg(c->config->error_log, LOG_INFO, "client certificate %s: rejected: %s", what,
                X509_verify_cert_error_string(cc->reject_error));
    else
        log_msg(c->config->error_log, LOG_INFO, "client certificate %s: none presented", what);
}

int
conn_cc_handshake_done(struct conn *c)
{
    struct conn_client_cert *cc = c->client_cert;

    if (cc == NULL || !tls_cc_done(&cc->tls) || cc->exchanged)
        return GH_OK;
    int rc = record_build(c);
    audit(c, "in handshake");
    return rc;
}

bool
conn_cc_in_progress(const struct conn *c)
{
    return c->client_cert != NULL &&
           (c->client_cert->flush_pending || !tls_cc_done(&c->client_cert->tls));
}

int
conn_cc_start(struct conn *c)
{
    int rc = conn_cc_prepare(c);

    if (rc != GH_OK)
        return rc;
    struct conn_client_cert *cc = c->client_cert;
    rc = tls_cc_request(c->ssl, &cc->tls, &cc->refusal);
    if (rc != GH_OK) {
        if (rc == GH_ESTATE) {
            cc->exchanged = true;
            record_clear(cc);
        }
        if (c->config->error_log != NULL) {
            char why[160];
            log_msg(c->config->error_log, LOG_INFO, "client certificate request refused: %s",
                    rc == GH_ESTATE ? (cc->refusal == TLS_CC_NO_PHA
                                           ? "TLS 1.3 client without post-handshake auth"
                                           : "TLS 1.2 client without secure renegotiation")
                                    : tls_last_error(why, sizeof(why)));
        }
        ERR_clear_error();
        return rc;
    }
    cc->flush_pending = true;
    return GH_OK;
}

/* The input buffer is full while the exchange runs: grow it, within
 * tls_client_certificate_buffer (the body bytes held back). */
static int
in_grow(struct conn *c)
{
    uint64_t max =
        (uint64_t)c->config->limits.max_head_bytes + 1024 + c->config->client_cert_buffer;

    if (c->in_cap >= max)
        return GH_ELIMIT;
    uint64_t want = (uint64_t)c->in_cap * 2;
    if (want > max)
        want = max;
    uint8_t *grown = malloc((size_t)want);
    if (grown == NULL)
        return GH_ENOMEM;
    memcpy(grown, c->in + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
    /* The old buffer may be a spare of the worker's size: hand it back. */
    uint8_t *old = c->in;
    c->in = grown;
    if (c->worker->free_buf_count < 64 && c->in_cap == c->worker->free_buf_bytes)
        c->worker->free_bufs[c->worker->free_buf_count++] = old;
    else
        free(old);
    c->in_cap = (uint32_t)want;
    return GH_OK;
}

int
conn_cc_drive(struct conn *c)
{
    struct conn_client_cert *cc = c->client_cert;
    int rc;

    if (cc->flush_pending) {
        bool want_write = false;
        rc = tls_cc_flush(c->ssl, &want_write);
        if (rc == GH_AGAIN && want_write) {
            c->write_ready = false;
            return GH_AGAIN;
        }
        if (rc != GH_OK && rc != GH_AGAIN) {
            ERR_clear_error();
            return GH_ETLS;
        }
        cc->flush_pending = false;
    }
    for (int turns = 0; !tls_cc_done(&cc->tls); turns++) {
        if (!c->read_ready || turns > 64)
            return GH_AGAIN;
        rc = conn_fill(c);
        if (rc == GH_OK)
            continue; /* body bytes (or a pipelined request) held in c->in */
        if (rc == GH_AGAIN) {
            if (tls_cc_done(&cc->tls))
                break; /* the read that ended the exchange found no data after it */
            return GH_AGAIN;
        }
        if (rc == GH_ELIMIT) {
            rc = in_grow(c);
            if (rc == GH_OK)
                continue;
            return GH_ELIMIT;
        }
        return rc; /* the client is gone or broke the TLS layer */
    }
    rc = record_build(c);
    audit(c, "negotiated");
    return rc;
}

void
conn_cc_fail(struct conn *c)
{
    if (c->client_cert == NULL)
        return;
    record_clear(c->client_cert);
    c->client_cert->exchanged = true;
    c->client_cert->flush_pending = false;
    c->client_cert->tls.in_progress = false;
}

/* ---------------------------------------------------------------- public */

int
gh_request_negotiate_client_cert(gh_request *req, bool async, bool *pending_out)
{
    struct conn *c = req->conn;
    bool ignored = false;

    if (pending_out == NULL) {
        if (async)
            return GH_EINVAL; /* an async call must be able to say "pending" */
        pending_out = &ignored;
    }
    *pending_out = false;
    if (!c->is_tls)
        return GH_EUNSUPPORTED;
    if (c->state == CONN_CLOSED)
        return GH_ECLOSED;
    if (atomic_load(&req->pend) != PEND_ARMED)
        return GH_ESTATE; /* outside a hook */
    struct conn_client_cert *cc = c->client_cert;
    if (cc != NULL && cc->exchanged && !conn_cc_in_progress(c))
        return cc->refusal != TLS_CC_OK && !cc->has_cert ? GH_ESTATE : GH_OK;
    if (!async && !fiber_can_suspend(req))
        return GH_EBUSY;
    if (cc == NULL || !conn_cc_in_progress(c)) {
        int rc = conn_cc_start(c);
        if (rc != GH_OK)
            return rc;
    }
    req->wants_cert = true;
    if (async) {
        *pending_out = true;
        return GH_OK;
    }
    fiber_suspend(req); /* conn_run drives the exchange, then resumes us */
    if (c->state == CONN_CLOSED)
        return GH_ECLOSED;
    return GH_OK;
}

int
gh_request_client_cert(gh_request *req, const struct gh_client_cert **cert_out,
                       bool *negotiated_out)
{
    struct conn *c = req->conn;
    struct conn_client_cert *cc = c->client_cert;

    *cert_out = NULL;
    *negotiated_out = false;
    if (!c->is_tls)
        return GH_EUNSUPPORTED;
    if (cc == NULL)
        return GH_ENOTFOUND;
    *negotiated_out = cc->exchanged;
    if (!cc->has_cert)
        return GH_ENOTFOUND;
    int rc = record_materialize(cc); /* made on first use */
    if (rc != GH_OK)
        return rc;
    *cert_out = &cc->pub;
    return GH_OK;
}

/* ------------------------------------------------- tls_client_certificate */

static enum gh_rq_status
answer_403(struct gh_request *req, const char *why)
{
    req->keep_alive = req->keep_alive && req->conn->state != CONN_CLOSED;
    gh_response_text(req, 403, why);
    return GH_RQ_FINISH;
}

static enum gh_rq_status
no_pha(struct gh_request *req)
{
    const char *url = req->loc->no_pha_redirect;

    if (url == NULL)
        return answer_403(req, "This location requires a TLS client certificate, but this "
                               "TLS 1.3 connection cannot be asked for one: the client did not "
                               "offer post-handshake authentication (RFC 8446 4.6.2). Use a "
                               "client that offers it, or TLS 1.2.");
    size_t len = strlen(url) + strlen(req->target) + 1;
    char *loc = gh_request_alloc(req, len);
    if (loc == NULL)
        return answer_403(req, "out of memory");
    snprintf(loc, len, "%s%s", url, req->target[0] == '/' ? req->target : "/");
    gh_response_header_set(req, "Location", loc);
    gh_response_text(req, 307,
                     "This location requires a TLS client certificate, which this "
                     "connection cannot provide after its handshake: retry at the Location, "
                     "which asks for it during the handshake.");
    return GH_RQ_FINISH;
}

enum gh_rq_status
client_cert_location(struct gh_request *req)
{
    struct conn *c = req->conn;
    uint8_t mode = req->loc->client_cert_mode;

    if (req->cert_loc_state == 0) {
        req->cert_loc_state = 2;
        if (!c->is_tls)
            return mode == CLIENT_CERT_REQUIRE
                       ? answer_403(req, "This location requires a TLS client certificate: "
                                         "use https.")
                       : GH_RQ_CONTINUE;
        struct conn_client_cert *cc = c->client_cert;
        if (cc == NULL || !cc->exchanged || conn_cc_in_progress(c)) {
            int rc = GH_OK;
            if (!conn_cc_in_progress(c))
                rc = conn_cc_start(c);
            if (rc == GH_OK) {
                req->cert_loc_state = 1;
                req->wants_cert = true;
                return GH_RQ_PENDING;
            }
            if (rc == GH_ESTATE && c->client_cert->refusal == TLS_CC_NO_PHA)
                return mode == CLIENT_CERT_REQUIRE ? no_pha(req) : GH_RQ_CONTINUE;
            if (mode == CLIENT_CERT_REQUIRE)
                return answer_403(req, "This location requires a TLS client certificate, but "
                                       "this connection cannot be asked for one (TLS 1.2 "
                                       "without secure renegotiation, RFC 5746).");
            return GH_RQ_CONTINUE;
        }
    }
    req->cert_loc_state = 2;
    struct conn_client_cert *cc = c->client_cert;
    if (mode != CLIENT_CERT_REQUIRE || (cc != NULL && cc->has_cert))
        return GH_RQ_CONTINUE;
    if (cc != NULL && cc->refusal == TLS_CC_NO_PHA)
        return no_pha(req);
    if (cc != NULL && cc->rejected) {
        char why[256];
        snprintf(why, sizeof(why), "The TLS client certificate was rejected: %s.",
                 X509_verify_cert_error_string(cc->reject_error));
        return answer_403(req, why);
    }
    return answer_403(req, "This location requires a TLS client certificate; the client "
                           "presented none.");
}
