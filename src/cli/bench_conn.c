// SPDX-License-Identifier: MIT
// bench's general path: one thread per connection, blocking, through the
// same client code as `gatehouse fetch` (fetch_conn, fetch_http, fetch_auth):
// TLS, a new connection per request (--new-conn), and authentication. A 401
// starts the handshake that fetch would make, leg by leg on the connection;
// the request's latency includes its connection and handshake when it needed
// them. On keep-alive, later requests go without Authorization (the server
// keeps NTLM and, where configured, Kerberos identities on the connection);
// Basic is stateless, so its value is sent again with each request.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/banned.h"
#include "cli/bench.h"

#define MAX_LEGS 8

struct cstate {
    struct bench_run *run;
    struct bench_stats *st;
    struct fetch_conn *conn;
    struct fetch_response resp;
    struct fetch_limits limits;
    struct buf req, authz, basic;
    uint8_t cbt[128];
    size_t cbt_len;
};

static enum bench_error
io_error(int err)
{
    if (err == GH_ETIMEDOUT)
        return BENCH_ERR_TIMEOUT;
    if (err == GH_ETLS)
        return BENCH_ERR_TLS;
    return BENCH_ERR_READ;
}

static void
drop(struct cstate *c)
{
    fetch_conn_close(c->conn);
    c->conn = NULL;
}

static int
send_request(struct cstate *c, struct slice authz)
{
    const struct bench_opts *o = c->run->opts;

    c->req.len = 0;
    int err =
        buf_printf(&c->req, "GET %s HTTP/1.1\r\nHost: %s\r\n", o->url.target, o->url.authority);
    if (err == GH_OK && authz.len > 0) {
        err = buf_append_str(&c->req, "Authorization: ");
        if (err == GH_OK)
            err = buf_append(&c->req, authz.ptr, authz.len);
        if (err == GH_OK)
            err = buf_append_str(&c->req, "\r\n");
    }
    if (err == GH_OK)
        err = buf_append_str(&c->req, "\r\n");
    if (err == GH_OK)
        err = fetch_conn_write(c->conn, c->req.data, c->req.len);
    if (err == GH_OK) {
        fetch_response_reset(&c->resp);
        err = fetch_http_read_head(c->conn, &c->limits, &c->resp);
    }
    if (err == GH_OK)
        err = fetch_http_read_body(c->conn, &c->limits, &c->resp, false, NULL, NULL);
    return err;
}

static struct fetch_auth_config
auth_config(const struct bench_opts *o)
{
    return (struct fetch_auth_config){.mode = o->auth,
                                      .user = o->user,
                                      .password = o->password,
                                      .host = o->url.host,
                                      .method = "GET",
                                      .uri = o->url.target};
}

/* Goes on with an exchange whose first outcome is step (SEND: c->authz holds
 * the next Authorization), leg after leg on the connection. GH_OK with the
 * final response in c->resp (its status decides), GH_EAUTH when the exchange
 * failed, or an I/O error. Consumes auth. */
static int
run_legs(struct cstate *c, struct fetch_auth *auth, int step)
{
    const struct bench_opts *o = c->run->opts;
    int err = GH_OK;

    for (int leg = 0; step == FETCH_AUTH_SEND && leg < MAX_LEGS; leg++) {
        err = send_request(c, buf_slice(&c->authz));
        if (err != GH_OK)
            break;
        step = fetch_auth_step(auth, &c->resp, &c->authz);
        if (step == FETCH_AUTH_SEND && !c->resp.keep_alive) {
            err = GH_EAUTH; /* the handshake needs the connection */
            break;
        }
    }
    if (err == GH_OK && step != FETCH_AUTH_DONE)
        err = step == GH_ENOMEM ? GH_ENOMEM : GH_EAUTH;
    if (err == GH_OK) {
        bench_record_handshake(c->run, c->st);
        /* Basic is answered again with every request: keep its value. */
        c->basic.len = 0;
        if (o->auth == FETCH_AUTH_BASIC)
            err = buf_append(&c->basic, c->authz.data, c->authz.len);
    }
    fetch_auth_destroy(auth);
    return err;
}

/* Answers the 401 in c->resp with the configured scheme (run_legs). */
static int
authenticate(struct cstate *c)
{
    struct fetch_auth_config cfg = auth_config(c->run->opts);
    struct fetch_auth *auth = NULL;

    if (!c->resp.keep_alive)
        return GH_EAUTH; /* the handshake needs the connection */
    int step = fetch_auth_answer(&cfg, &c->resp, c->cbt_len > 0 ? c->cbt : NULL, c->cbt_len,
                                 &c->authz, &auth, NULL);
    return run_legs(c, auth, step);
}

/* --preemptive: the first request of a connection already carries the first
 * Authorization (run_legs). */
static int
authenticate_first(struct cstate *c)
{
    struct fetch_auth_config cfg = auth_config(c->run->opts);
    struct fetch_auth *auth = NULL;
    int step =
        fetch_auth_preempt(&cfg, c->cbt_len > 0 ? c->cbt : NULL, c->cbt_len, &c->authz, &auth);
    return run_legs(c, auth, step);
}

/* One request: connect if needed, send, answer a 401. Records it. */
static void
one_request(struct cstate *c, uint64_t start)
{
    const struct bench_opts *o = c->run->opts;
    char why[256];
    bool fresh = c->conn == NULL;
    int err;

    if (fresh) {
        err = fetch_conn_open(o->url.host, o->url.port, o->url.is_https ? &o->tls : NULL,
                              o->timeout_ms, o->timeout_ms, &c->conn, why, sizeof(why));
        if (err != GH_OK) {
            bench_record_error(c->run, c->st,
                               err == GH_ETLS        ? BENCH_ERR_TLS
                               : err == GH_ETIMEDOUT ? BENCH_ERR_TIMEOUT
                                                     : BENCH_ERR_CONNECT);
            c->conn = NULL;
            return;
        }
        c->basic.len = 0;
        if (fetch_conn_endpoint_binding(c->conn, c->cbt, sizeof(c->cbt), &c->cbt_len) != GH_OK)
            c->cbt_len = 0;
        if (o->auth == FETCH_AUTH_NONE)
            bench_record_handshake(c->run, c->st);
    }
    if (fresh && o->preemptive) {
        err = authenticate_first(c);
    } else {
        err = send_request(c, buf_slice(&c->basic));
        if (err == GH_OK && c->resp.status == 401 && o->auth != FETCH_AUTH_NONE)
            err = authenticate(c);
    }
    if (err != GH_OK) {
        drop(c);
        bench_record_error(c->run, c->st, err == GH_EAUTH ? BENCH_ERR_AUTH : io_error(err));
        return;
    }
    if (c->resp.status == 401 && o->auth != FETCH_AUTH_NONE) {
        drop(c);
        bench_record_error(c->run, c->st, BENCH_ERR_AUTH);
        return;
    }
    bench_record(c->run, c->st, bench_now_ns() - start, c->resp.status);
    if (o->new_conn || !c->resp.keep_alive || c->resp.body_kind == H1_BODY_CLOSE)
        drop(c);
}

void
bench_conn_thread(struct bench_run *run, struct bench_stats *st)
{
    struct cstate c = {.run = run, .st = st};

    c.limits = (struct fetch_limits){.max_head_bytes = 64 * 1024, .max_body_bytes = 1u << 30};
    fetch_response_init(&c.resp, c.limits.max_head_bytes);
    buf_init(&c.req, 256 * 1024);
    buf_init(&c.authz, 128 * 1024);
    buf_init(&c.basic, 128 * 1024);
    for (;;) {
        uint64_t now = bench_now_ns();
        if (!bench_claim(run, now))
            break;
        one_request(&c, now);
    }
    drop(&c);
    fetch_response_reset(&c.resp);
    buf_free(&c.resp.head);
    buf_free(&c.req);
    buf_free_wipe(&c.authz);
    buf_free_wipe(&c.basic);
}
