// SPDX-License-Identifier: MIT
// The request object and the request half of the module API (gatehouse/http.h).
//
// Request objects are recycled through a per-worker free list together with
// their arena, whose first chunk survives arena_reset(): a keep-alive request
// costs no malloc at all in the common case. The head is copied into the
// arena, so the connection's input buffer can be compacted and refilled while
// the request lives (body streaming, pipelining).
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include <gatehouse/error.h>

#include "base/dec.h"
#include "server/server.h"

#define REQUEST_ARENA_BYTES 4096
#define FREE_REQUESTS_MAX   256

/* Copies s and a NUL to *p, advancing it; returns the copy. */
static char *
put_str(char **p, struct slice s)
{
    char *dst = *p;

    if (s.len > 0)
        memcpy(dst, s.ptr, s.len);
    dst[s.len] = '\0';
    *p = dst + s.len + 1;
    return dst;
}

int
request_start(struct conn *c, const struct h1_request *h, struct gh_request **req_out)
{
    struct worker *w = c->worker;
    struct gh_request *req = w->free_requests;
    struct arena *a;

    if (req != NULL) {
        w->free_requests = req->next_free;
        w->free_request_count--;
        a = req->arena;
    } else {
        if (arena_create(REQUEST_ARENA_BYTES, &a) != GH_OK)
            return GH_ENOMEM;
        req = calloc(1, sizeof(*req));
        if (req == NULL) {
            arena_destroy(a);
            return GH_ENOMEM;
        }
    }
    struct buf keep_body = req->body; /* its storage is reused */
    memset(req, 0, sizeof(*req));
    req->arena = a;
    req->body = keep_body;
    req->body.len = 0;
    req->body.max = c->config->max_response_buffer_bytes;
    req->conn = c;
    req->worker = w;
    req->config = c->config; /* borrowed: see struct gh_request */
    req->start_ms = w->now_ms;
    req->start_time = w->now_real;
    req->file_fd = -1;
    atomic_init(&req->pend, PEND_NONE);
    atomic_init(&req->wake_queued, false);

    /* The head's strings, NUL-terminated, in one arena block (the parser's
     * limits bound the sum), and the header tables in another. */
    size_t text_bytes =
        h->method.len + h->target.len + h->path.len + h->query.len + h->host.len + 5;
    for (size_t i = 0; i < h->header_count; i++)
        text_bytes += h->headers[i].name.len + h->headers[i].value.len + 2;
    char *text = arena_alloc(a, text_bytes);
    struct gh_str *tables = arena_alloc(a, 2 * (h->header_count + 1) * sizeof(struct gh_str));
    req->slots = arena_alloc(a, (c->config->module_count + 1) * sizeof(struct req_slot));
    if (text == NULL || tables == NULL || req->slots == NULL)
        goto nomem;
    req->method = put_str(&text, h->method);
    req->target = put_str(&text, h->target);
    req->path = put_str(&text, h->path);
    req->query = put_str(&text, h->query);
    req->host = put_str(&text, h->host);
    req->header_count = h->header_count;
    req->hdr_names = tables;
    req->hdr_values = tables + h->header_count + 1;
    for (size_t i = 0; i < h->header_count; i++) {
        const struct h1_header *hd = &h->headers[i];
        req->hdr_names[i] = (struct gh_str){put_str(&text, hd->name), hd->name.len};
        req->hdr_values[i] = (struct gh_str){put_str(&text, hd->value), hd->value.len};
    }
    req->minor_version = h->minor_version;
    req->is_head = h->method.len == 4 && memcmp(h->method.ptr, "HEAD", 4) == 0;
    req->keep_alive = h->keep_alive;
    req->expect_continue = h->expect_continue;
    req->body_kind = h->body_kind;
    if (h->body_kind == H1_BODY_LENGTH) {
        req->body_left = h->content_length;
        req->body_done = h->content_length == 0;
    } else if (h->body_kind == H1_BODY_CHUNKED) {
        h1_chunked_init(&req->chunked, c->config->max_chunk_line_bytes,
                        c->config->max_trailer_bytes);
    } else {
        req->body_done = true;
    }
    req->loc = config_location_match(c->config, req->host, h->host.len, req->path, h->path.len);
    *req_out = req;
    return GH_OK;
nomem:
    req->config = NULL;
    arena_reset(a);
    req->next_free = w->free_requests;
    w->free_requests = req;
    w->free_request_count++;
    return GH_ENOMEM;
}

void
request_free(struct gh_request *req)
{
    arena_destroy(req->arena);
    buf_free(&req->body);
    free(req);
}

static void
run_final_hooks(struct gh_request *req, int stage)
{
    const struct config *cfg = req->config;

    for (size_t i = 0; i < cfg->hook_count[stage]; i++) {
        int idx = cfg->hooks[stage][i];
        const struct gh_module *m = cfg->modules[idx].module;
        gh_hook_fn *fn = stage == NOTIFY_LOG ? m->on_log_request : m->on_end_request;
        atomic_store(&req->pend, PEND_NONE); /* these hooks cannot pend */
        (void)fn(req, req->loc->module_configs[idx]);
    }
}

void
request_finish(struct gh_request *req)
{
    struct worker *w = req->worker;

    run_final_hooks(req, NOTIFY_LOG);
    metrics_request(&w->metrics, req->status);
    access_log_write(req);
    run_final_hooks(req, NOTIFY_END);
    for (size_t i = 0; i < req->config->module_count; i++) {
        if (req->slots[i].release != NULL)
            req->slots[i].release(req->slots[i].ctx);
    }
    response_release(req);
    server_auth_request_end(req); /* after on_end_request: modules dup the token there */
    /* After response_release no module may wake the stream any more; a wake
     * it queued before must not run on this request once it is recycled. */
    if (atomic_exchange(&req->wake_queued, false))
        worker_cancel(w, &req->wake_task);
    req->config = NULL;
    arena_reset(req->arena);
    if (req->body.cap > 65536)
        buf_free(&req->body);
    if (w->free_request_count >= FREE_REQUESTS_MAX) {
        request_free(req);
        return;
    }
    req->next_free = w->free_requests;
    w->free_requests = req;
    w->free_request_count++;
}

/* ------------------------------------------------------------------ body */

static int
body_fail(struct gh_request *req, int err)
{
    req->body_error = err;
    return err;
}

int
gh_request_body_read(gh_request *req, void *buf, size_t cap, size_t *len_out)
{
    struct conn *c = req->conn;

    *len_out = 0;
    if (req->body_error != GH_OK)
        return req->body_error;
    if (req->body_done)
        return GH_OK;
    if (c->state == CONN_CLOSED)
        return body_fail(req, GH_ECLOSED);
    if (cap == 0)
        return GH_EINVAL;
    if (req->expect_continue && !req->sent_continue) {
        /* RFC 9110 10.1.1: the client waits for this before sending the body. */
        req->sent_continue = true;
        if (buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n") != GH_OK)
            return body_fail(req, GH_ENOMEM);
        if (conn_flush(c) < 0)
            return body_fail(req, GH_ECLOSED);
    }
    for (;;) {
        size_t avail = c->in != NULL ? c->in_len - c->in_off : 0;
        if (avail > 0) {
            const uint8_t *p = c->in + c->in_off;
            if (req->body_kind == H1_BODY_LENGTH) {
                size_t n = avail < cap ? avail : cap;
                if (n > req->body_left)
                    n = (size_t)req->body_left;
                memcpy(buf, p, n);
                c->in_off += (uint32_t)n;
                req->body_left -= n;
                req->body_seen += n;
                req->body_done = req->body_left == 0;
                *len_out = n;
                return GH_OK;
            }
            struct slice data = {0};
            size_t consumed = 0;
            int rc =
                h1_chunked_decode(&req->chunked, p, avail < cap ? avail : cap, &consumed, &data);
            if (rc < 0)
                return body_fail(req, GH_EPROTO);
            if (data.len > 0)
                memmove(buf, data.ptr, data.len);
            c->in_off += (uint32_t)consumed;
            req->body_seen += data.len;
            if (req->body_seen > req->config->max_body_bytes)
                return body_fail(req, GH_ELIMIT);
            if (rc == GH_OK)
                req->body_done = true;
            if (data.len > 0 || rc == GH_OK) {
                *len_out = data.len;
                return GH_OK;
            }
            if (consumed > 0)
                continue;
            /* A partial size line at the end of the buffer: need more bytes. */
        }
        if (c->is_peer_closed)
            return body_fail(req, GH_ECLOSED);
        if (!c->read_ready) {
            req->wants_body = true;
            return GH_AGAIN;
        }
        int rc = conn_fill(c);
        if (rc == GH_AGAIN) {
            req->wants_body = true;
            return GH_AGAIN;
        }
        if (rc != GH_OK)
            return body_fail(req, rc == GH_ELIMIT ? GH_EPROTO : GH_ECLOSED);
    }
}

int
request_body_discard(struct gh_request *req)
{
    uint8_t sink[4096];
    size_t n;

    for (;;) {
        int rc = gh_request_body_read(req, sink, sizeof(sink), &n);
        if (rc != GH_OK)
            return rc;
        if (req->body_done)
            return GH_OK;
    }
}

int64_t
gh_request_body_length(const gh_request *req)
{
    if (req->body_kind == H1_BODY_CHUNKED)
        return -1;
    if (req->body_kind == H1_BODY_LENGTH)
        return (int64_t)(req->body_left + req->body_seen);
    return 0;
}

/* ----------------------------------------------------------- accessors */

const struct gh_auth_record *
gh_request_auth(const gh_request *req)
{
    /* The first read exports the packed context (auth_record_public); the
     * request object itself is never const, only the API's view of it. */
    return auth_record_public(&((gh_request *)req)->auth.record);
}

const struct gh_auth_record *
gh_request_auth_identity(const gh_request *req)
{
    return &req->auth.record.pub;
}

const char *
gh_request_method(const gh_request *req)
{
    return req->method;
}

const char *
gh_request_target(const gh_request *req)
{
    return req->target;
}

const char *
gh_request_path(const gh_request *req)
{
    return req->path;
}

const char *
gh_request_query(const gh_request *req)
{
    return req->query;
}

const char *
gh_request_host(const gh_request *req)
{
    return req->host;
}

int
gh_request_minor_version(const gh_request *req)
{
    return req->minor_version;
}

bool
gh_request_is_head(const gh_request *req)
{
    return req->is_head;
}

const char *
gh_request_location(const gh_request *req)
{
    return req->loc->prefix;
}

int
gh_request_header(const gh_request *req, const char *name, struct gh_str *value_out)
{
    struct slice want = slice_cstr(name);

    for (size_t i = 0; i < req->header_count; i++) {
        struct slice have = slice_make(req->hdr_names[i].ptr, req->hdr_names[i].len);
        if (slice_eq_nocase(have, want)) {
            *value_out = req->hdr_values[i];
            return GH_OK;
        }
    }
    return GH_ENOTFOUND;
}

size_t
gh_request_header_count(const gh_request *req)
{
    return req->header_count;
}

int
gh_request_header_at(const gh_request *req, size_t i, struct gh_str *name_out,
                     struct gh_str *value_out)
{
    if (i >= req->header_count)
        return GH_EINVAL;
    *name_out = req->hdr_names[i];
    *value_out = req->hdr_values[i];
    return GH_OK;
}

const struct sockaddr *
gh_request_peer_addr(const gh_request *req, socklen_t *len_out)
{
    *len_out = req->conn->peer_len;
    return &req->conn->peer.sa;
}

const struct sockaddr *
gh_request_local_addr(const gh_request *req, socklen_t *len_out)
{
    struct gh_request *r = (struct gh_request *)req; /* lazily filled cache */

    if (r->local_len == 0 && r->conn->fd >= 0) {
        socklen_t len = sizeof(r->local);
        if (getsockname(r->conn->fd, (struct sockaddr *)&r->local, &len) == 0)
            r->local_len = len;
    }
    *len_out = r->local_len;
    return (const struct sockaddr *)&r->local;
}

static void
addr_text(const struct sockaddr *sa, char *out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET && out_len >= sizeof("255.255.255.255:65535")) {
        /* By hand: inet_ntop + snprintf were a third of an NTLM handshake's audit line. */
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        const uint8_t *a = (const uint8_t *)&in4->sin_addr;
        char *p = out;
        for (int i = 0; i < 4; i++) {
            p = dec_put_u64(p, a[i]);
            *p++ = i < 3 ? '.' : ':';
        }
        p = dec_put_u64(p, ntohs(in4->sin_port));
        *p = '\0';
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        snprintf(out, out_len, "%s:%u", host, ntohs(in4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, out_len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, out_len, "-");
    }
}

const char *
gh_request_peer_text(const gh_request *req)
{
    struct gh_request *r = (struct gh_request *)req;

    if (r->peer_text == NULL) {
        char text[80];
        addr_text(&r->conn->peer.sa, text, sizeof(text));
        r->peer_text = arena_strndup(r->arena, text, strlen(text));
    }
    return r->peer_text != NULL ? r->peer_text : "-";
}

const char *
gh_request_full_url(const gh_request *req)
{
    struct gh_request *r = (struct gh_request *)req;

    if (r->full_url != NULL)
        return r->full_url;
    if (r->target[0] != '/' && strchr(r->target, ':') != NULL) {
        r->full_url = r->target; /* absolute-form (RFC 9112 3.2.2) */
        return r->full_url;
    }
    char host[96];
    const char *h = r->host;
    if (h[0] == '\0') {
        socklen_t len;
        const struct sockaddr *sa = gh_request_local_addr(r, &len);
        addr_text(sa, host, sizeof(host));
        h = host;
    }
    const char *scheme = r->conn->is_tls ? "https://" : "http://";
    const char *path = strcmp(r->target, "*") == 0 ? "" : r->target;
    size_t len = strlen(scheme) + strlen(h) + strlen(path) + 1;
    char *url = arena_alloc(r->arena, len);
    if (url == NULL)
        return r->target;
    snprintf(url, len, "%s%s%s", scheme, h, path);
    r->full_url = url;
    return url;
}

const struct gh_tls_info *
gh_request_tls(const gh_request *req)
{
    struct gh_request *r = (struct gh_request *)req;
    SSL *ssl = r->conn->ssl;

    if (!r->conn->is_tls || ssl == NULL)
        return NULL;
    if (!r->has_tls_info) {
        size_t alpn_len = 0;
        const char *alpn = tls_ssl_alpn(ssl, &alpn_len);
        r->tls_info.protocol = SSL_get_version(ssl);
        r->tls_info.cipher = SSL_get_cipher_name(ssl);
        r->tls_info.cipher_bits = SSL_get_cipher_bits(ssl, NULL);
        r->tls_info.server_name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        r->tls_info.alpn = alpn != NULL ? arena_strndup(r->arena, alpn, alpn_len) : NULL;
        r->tls_info.session_reused = SSL_session_reused(ssl) == 1;
        r->has_tls_info = true;
    }
    return &r->tls_info;
}

void *
gh_request_alloc(gh_request *req, size_t size)
{
    return arena_alloc(req->arena, size);
}

/* ------------------------------------------------------------- slots */

void *
gh_request_module_ctx(const gh_request *req, const struct gh_module *module)
{
    int i = config_module_index(req->config, module);

    return i < 0 ? NULL : req->slots[i].ctx;
}

int
gh_request_set_module_ctx(gh_request *req, const struct gh_module *module, void *ctx,
                          void (*release)(void *ctx))
{
    int i = config_module_index(req->config, module);

    if (i < 0)
        return GH_EINVAL;
    if (req->slots[i].release != NULL && req->slots[i].ctx != ctx)
        req->slots[i].release(req->slots[i].ctx);
    req->slots[i] = (struct req_slot){ctx, release};
    return GH_OK;
}

void *
gh_conn_module_ctx(const gh_request *req, const struct gh_module *module)
{
    for (struct conn_slot *s = req->conn->slots; s != NULL; s = s->next) {
        if (s->module == module)
            return s->ctx;
    }
    return NULL;
}

int
gh_conn_set_module_ctx(gh_request *req, const struct gh_module *module, void *ctx,
                       void (*release)(void *ctx))
{
    struct conn_slot *s;

    for (s = req->conn->slots; s != NULL; s = s->next) {
        if (s->module == module) {
            if (s->release != NULL && s->ctx != ctx)
                s->release(s->ctx);
            s->ctx = ctx;
            s->release = release;
            return GH_OK;
        }
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return GH_ENOMEM;
    *s = (struct conn_slot){req->conn->slots, module, ctx, release};
    req->conn->slots = s;
    return GH_OK;
}

/* ----------------------------------------------------- blocking work */

static void
job_done(struct task *t)
{
    struct pool_job *job = (struct pool_job *)t;

    job->worker->jobs_in_flight--;
    job->done(job->req, job->arg);
    free(job);
}

static void
job_discard(struct task *t)
{
    free((struct pool_job *)t);
}

int
gh_request_run_blocking(gh_request *req, void (*work)(void *arg),
                        void (*done)(gh_request *req, void *arg), void *arg)
{
    struct pool_job *job = calloc(1, sizeof(*job));

    if (job == NULL)
        return GH_ENOMEM;
    job->task.run = job_done;
    job->task.discard = job_discard;
    job->req = req;
    job->worker = req->worker;
    job->work = work;
    job->done = done;
    job->arg = arg;
    int rc = pool_submit(req->worker->server->pool, job);
    if (rc != GH_OK) {
        free(job);
        return rc;
    }
    req->worker->jobs_in_flight++;
    return GH_OK;
}

void
gh_request_log(const gh_request *req, enum gh_log_level level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_msg(req->config->error_log, (enum log_level)level, "%s: %s", gh_request_peer_text(req),
            msg);
}

/* ------------------------------------------------------- access log */

/* Access log lines are buffered per worker and written once per loop turn (or
 * when the buffer fills): one write(2) for a whole batch of requests instead of
 * one per request. The worker holds a reference on the configuration whose log
 * the buffered lines belong to, so a reload cannot close that log under them. */
#define ACCESS_BUF_BYTES (64 * 1024)
#define ACCESS_LINE_MAX  2048

void
worker_access_flush(struct worker *w)
{
    if (w->access_cfg == NULL)
        return;
    if (w->access_buf.len > 0)
        log_raw(w->access_cfg->access_log, (const char *)w->access_buf.data, w->access_buf.len);
    w->access_buf.len = 0;
    config_unref(w->access_cfg);
    w->access_cfg = NULL;
}

/* "2026-01-02T03:04:05Z", cached per second. */
static const char *
access_time(struct worker *w, time_t sec)
{
    if (sec != w->access_time_sec || w->access_time[0] == '\0') {
        struct tm tm;
        gmtime_r(&sec, &tm);
        if (strftime(w->access_time, sizeof(w->access_time), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            w->access_time[0] = '\0';
        w->access_time_sec = sec;
    }
    return w->access_time;
}

/* Room for one line in the worker's buffer for cfg's access log: flushes what
 * belongs to another configuration or would not leave room. NULL when the
 * line cannot be buffered (then it is written at once by the caller). */
static char *
access_reserve(struct worker *w, struct config *cfg)
{
    if (w->access_cfg != cfg || w->access_buf.len + ACCESS_LINE_MAX > ACCESS_BUF_BYTES)
        worker_access_flush(w);
    if (w->access_buf.max == 0)
        buf_init(&w->access_buf, ACCESS_BUF_BYTES);
    if (buf_reserve(&w->access_buf, ACCESS_LINE_MAX) != GH_OK)
        return NULL;
    if (w->access_cfg == NULL) {
        config_ref(cfg);
        w->access_cfg = cfg;
    }
    return (char *)w->access_buf.data + w->access_buf.len;
}

void
access_log_append(struct worker *w, struct config *cfg, const char *line, size_t len)
{
    char *dst = len <= ACCESS_LINE_MAX ? access_reserve(w, cfg) : NULL;

    if (dst == NULL) {
        worker_access_flush(w); /* what is buffered was logged first */
        log_raw(cfg->access_log, line, len);
        return;
    }
    memcpy(dst, line, len);
    w->access_buf.len += len;
}

void
access_log_line(struct worker *w, struct config *cfg, const char *peer, const char *method,
                const char *target, int minor_version, int status, uint64_t bytes,
                uint64_t duration_ms, const char *user, time_t when, bool is_aborted)
{
    if (cfg->access_log_json) {
        /* only refusals without a request come here (access_log_write
         * writes the others) */
        struct access_fields f = {NULL, peer, access_time(w, when), status, duration_ms};
        access_log_json(w, cfg, &f);
        return;
    }
    char fallback[ACCESS_LINE_MAX];
    char *line = access_reserve(w, cfg);
    char *out = line != NULL ? line : fallback;
    /* The target is client input: cut it, and keep quotes and controls out. */
    char safe[512];
    size_t t = 0;

    for (const char *p = target != NULL ? target : ""; *p != '\0' && t < sizeof(safe) - 1; p++)
        safe[t++] = (char)((*p == '"' || (unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p);
    safe[t] = '\0';
    int m;
    if (method != NULL)
        m = snprintf(out, ACCESS_LINE_MAX, "%s %s \"%s %s HTTP/1.%d\" %d %llu %llu \"%s\"%s\n",
                     access_time(w, when), peer, method, safe, minor_version, status,
                     (unsigned long long)bytes, (unsigned long long)duration_ms, user,
                     is_aborted ? " aborted" : "");
    else
        m = snprintf(out, ACCESS_LINE_MAX, "%s %s \"-\" %d 0 0 \"-\"\n", access_time(w, when), peer,
                     status);
    if (m <= 0)
        return;
    size_t n = (size_t)m < ACCESS_LINE_MAX ? (size_t)m : ACCESS_LINE_MAX - 1;
    out[n - 1] = '\n'; /* a cut line still ends its line */
    if (line != NULL)
        w->access_buf.len += n;
    else
        log_raw(cfg->access_log, out, n);
}

void
access_log_write(struct gh_request *req)
{
    const char *user;

    if (req->config->access_log == NULL)
        return;
    if (req->config->access_log_json) {
        struct access_fields f = {req, gh_request_peer_text(req),
                                  access_time(req->worker, req->start_time.tv_sec), req->status,
                                  req->worker->now_ms - req->start_ms};
        access_log_json(req->worker, req->config, &f);
        return;
    }
    const struct gh_auth_record *auth = &req->auth.record.pub;
    user = auth->status == GH_AUTH_SUCCESS && auth->user_name != NULL ? auth->user_name : "-";
    /* So is the user name (Basic and Digest users are what the client typed). */
    char user_text[256];
    size_t u = 0;
    for (const char *p = user; *p != '\0' && u < sizeof(user_text) - 1; p++)
        user_text[u++] = (char)((*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '?' : *p);
    user_text[u] = '\0';
    access_log_line(req->worker, req->config, gh_request_peer_text(req), req->method, req->target,
                    req->minor_version, req->status, req->bytes_sent,
                    req->worker->now_ms - req->start_ms, user_text, req->start_time.tv_sec,
                    req->is_body_aborted);
}
