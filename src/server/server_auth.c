// SPDX-License-Identifier: MIT
// The server's side of the seam with the auth engine (docs/internals/auth.md):
// each request of a location with `auth` runs auth_engine_run() at the start of
// the authenticate stage, before any module's on_authenticate_request, and
// either passes on with its record (gh_request_auth) or is answered here.
//
// Why here and not in a module: the engine needs the connection (a handshake
// lives exactly as long as its TCP connection), the TLS channel binding and
// control over keep-alive and body discarding, none of which a module sees.
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "server/server.h"

/* What the engine reads, kept in the request's arena so that it stays valid
 * while the engine runs on the blocking pool. */
struct auth_job {
    struct auth_request_view view;
    struct slice *values;
    uint8_t cb_hash[EVP_MAX_MD_SIZE];
    int rc;
};

/* The peer address without its port: the limiter's key. */
static struct slice
peer_addr(const struct conn *c, char *buf, size_t len)
{
    buf[0] = '\0';
    if (c->peer.sa.sa_family == AF_INET)
        inet_ntop(AF_INET, &c->peer.in4.sin_addr, buf, (socklen_t)len);
    else if (c->peer.sa.sa_family == AF_INET6)
        inet_ntop(AF_INET6, &c->peer.in6.sin6_addr, buf, (socklen_t)len);
    return slice_cstr(buf);
}

static const char *
peer_text(void *arg)
{
    return gh_request_peer_text(arg);
}

static int
view_build(struct gh_request *req, const struct auth_config *ac, struct auth_job *job)
{
    struct conn *c = req->conn;
    size_t n = 0;

    for (size_t i = 0; i < req->header_count; i++) {
        struct slice name = slice_make(req->hdr_names[i].ptr, req->hdr_names[i].len);
        if (slice_eq_nocase(name, SLICE_LIT("Authorization")))
            n++;
    }
    job->values = arena_alloc(req->arena, (n + 1) * sizeof(*job->values));
    if (job->values == NULL)
        return GH_ENOMEM;
    n = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        struct slice name = slice_make(req->hdr_names[i].ptr, req->hdr_names[i].len);
        if (slice_eq_nocase(name, SLICE_LIT("Authorization")))
            job->values[n++] = slice_make(req->hdr_values[i].ptr, req->hdr_values[i].len);
    }
    job->view = (struct auth_request_view){
        .method = slice_cstr(req->method),
        .target = slice_cstr(req->target),
        .authorization = job->values,
        .authorization_count = n,
        .peer_text = peer_text, /* formatted only for an audit line */
        .peer_text_arg = req,
        .error_log = req->config->error_log,
        .is_tls = c->is_tls,
    };
    /* The client certificate, when the location maps certificates (exchanged
     * before this stage: the location's tls_client_certificate or a module). */
    const struct gh_client_cert *cert = NULL;
    bool negotiated = false;
    if (c->is_tls && ac->offers_cert && gh_request_client_cert(req, &cert, &negotiated) == GH_OK &&
        cert != NULL && cert->encoded != NULL) {
        job->view.client_cert = cert->encoded;
        job->view.client_cert_len = cert->encoded_len;
        job->view.client_cert_flags = cert->flags;
    }
    /* tls-server-end-point (RFC 5929 4.1): only when the location binds. */
    if (c->is_tls && c->ssl != NULL && ac->epa != AUTH_EPA_OFF) {
        size_t len = 0;
        if (tls_ssl_server_end_point(c->ssl, job->cb_hash, &len) == GH_OK && len > 0) {
            job->view.cb_hash = job->cb_hash;
            job->view.cb_hash_len = len;
        }
    }
    return GH_OK;
}

/* After an answer from the engine, what is left of the request body is read
 * and dropped (conn.c) so the next leg can follow on this connection; past
 * auth_discard_body, or with a chunked body, the connection closes instead. */
static void
limit_discard(struct gh_request *req)
{
    if (req->body_done)
        return;
    if (req->body_kind == H1_BODY_CHUNKED || req->body_left > req->config->auth_discard_bytes)
        req->keep_alive = false;
}

/* Turns the decision into the response (non-zero status) or lets it pass. */
static enum gh_rq_status
decision_apply(struct gh_request *req, int rc)
{
    struct auth_decision *d = &req->auth;

    req->auth_state = REQ_AUTH_DONE;
    /* The mapping result goes on the connection's certificate, where
     * gh_request_client_cert shows it (Token, CertDeniedByMapper). */
    if (rc == GH_OK && d->cert_outcome != AUTH_CERT_NONE)
        conn_client_cert_set_mapping(
            req->conn, d->cert_outcome == AUTH_CERT_MAPPED ? d->record.pub.access_token : NULL,
            d->cert_outcome == AUTH_CERT_DENIED);
    if (rc != GH_OK) {
        auth_decision_clear(d);
        req->auth_answered = true;
        req->keep_alive = false;
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    if (d->status == 0)
        return GH_RQ_CONTINUE; /* headers (mutual token...) go out in before_send */
    req->auth_answered = true;
    gh_response_text(req, d->status, NULL);
    for (size_t i = 0; i < d->header_count; i++) {
        if (gh_response_header_add(req, d->headers[i].name, d->headers[i].value) != GH_OK) {
            gh_response_text(req, 500, NULL);
            req->keep_alive = false;
            break;
        }
    }
    limit_discard(req);
    return GH_RQ_FINISH;
}

static int
conn_auth(struct gh_request *req, struct auth_conn **out)
{
    struct conn *c = req->conn;
    char addr[INET6_ADDRSTRLEN];

    if (c->auth == NULL) {
        int rc =
            auth_conn_create(req->config->auth_engine, peer_addr(c, addr, sizeof(addr)), &c->auth);
        if (rc != GH_OK)
            return rc;
    }
    *out = c->auth;
    return GH_OK;
}

struct pool_arg {
    struct gh_request *req;
    struct auth_job *job;
};

/* On a pool thread: the engine may talk to the KDC (Basic against Kerberos).
 * Nothing else touches req->auth or the conn's auth state meanwhile: the
 * connection reads no further request while this one is pending. */
static void
engine_work(void *arg)
{
    struct pool_arg *pa = arg;
    struct gh_request *req = pa->req;

    pa->job->rc = auth_engine_run(req->loc->auth, req->conn->auth, &pa->job->view, &req->auth);
}

static void
engine_done(gh_request *req, void *arg)
{
    struct pool_arg *pa = arg;

    (void)decision_apply(req, pa->job->rc);
    /* Re-enter the authenticate stage: server_auth_run now reports the outcome. */
    if (gh_request_resume(req, GH_RQ_CONTINUE) == GH_OK)
        req->resume_reenter = true;
}

enum gh_rq_status
server_auth_run(struct gh_request *req)
{
    const struct auth_config *ac = req->loc->auth;
    struct auth_conn *ac_conn = NULL;

    if (req->auth_state == REQ_AUTH_DONE)
        return req->auth_answered ? GH_RQ_FINISH : GH_RQ_CONTINUE;
    if (ac == NULL) {
        req->auth_state = REQ_AUTH_DONE;
        return GH_RQ_CONTINUE;
    }
    struct auth_job *job = arena_alloc(req->arena, sizeof(*job));
    int rc = job == NULL ? GH_ENOMEM : view_build(req, ac, job);
    if (rc == GH_OK)
        rc = conn_auth(req, &ac_conn);
    if (rc != GH_OK)
        return decision_apply(req, rc);
    if (auth_engine_may_block(ac, &job->view)) {
        struct pool_arg *pa = arena_alloc(req->arena, sizeof(*pa));
        /* The pool thread must not allocate in the request's arena. */
        job->view.peer = gh_request_peer_text(req);
        if (pa != NULL) {
            *pa = (struct pool_arg){req, job};
            atomic_store(&req->pend, PEND_ARMED);
            if (gh_request_run_blocking(req, engine_work, engine_done, pa) == GH_OK) {
                req->auth_state = REQ_AUTH_BLOCKED;
                return GH_RQ_PENDING;
            }
            atomic_store(&req->pend, PEND_NONE);
        }
        /* Pool full or no memory: tell the client to come back. */
        req->auth_state = REQ_AUTH_DONE;
        req->auth_answered = true;
        gh_response_text(req, 503, NULL);
        gh_response_header_add(req, "Retry-After", "1");
        limit_discard(req);
        return GH_RQ_FINISH;
    }
    rc = auth_engine_run(ac, ac_conn, &job->view, &req->auth);
    return decision_apply(req, rc);
}

void
server_auth_before_send(struct gh_request *req)
{
    const struct auth_config *ac = req->loc->auth;
    struct auth_decision *d = &req->auth;

    if (ac == NULL || req->auth_answered || req->conn->auth == NULL)
        return;
    if (req->status == 401) {
        /* The application asks for fresh credentials (its token expired: the
         * seed's "regenerate the initial 401"): the location's challenges. */
        struct auth_decision ch;
        struct auth_job job;
        if (view_build(req, ac, &job) != GH_OK ||
            auth_engine_challenge(ac, req->conn->auth, &job.view, &ch) != GH_OK)
            return;
        for (size_t i = 0; i < ch.header_count; i++)
            (void)gh_response_header_add(req, ch.headers[i].name, ch.headers[i].value);
        auth_decision_clear(&ch);
        return;
    }
    /* Passed: the final mutual token or Digest's Authentication-Info. */
    for (size_t i = 0; d->status == 0 && i < d->header_count; i++)
        (void)gh_response_header_add(req, d->headers[i].name, d->headers[i].value);
}

void
server_auth_request_end(struct gh_request *req)
{
    auth_decision_clear(&req->auth);
}
