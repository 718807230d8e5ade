// SPDX-License-Identifier: MIT
// The backend side of the proxy: plain blocking-style socket I/O, run on the
// server's blocking-work pool so the worker loops never wait for a backend.
// Every wait is a poll() bounded by proxy_connect_timeout / proxy_read_timeout;
// while relaying a body the poll also watches the exchange's cancel eventfd, so
// a client that goes away frees the pool thread at once.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/slice.h"
#include "http/h1.h"
#include "modules/proxy.h"

#define CHUNK_LINE_BYTES 1024
#define TRAILER_BYTES    (16 * 1024)

static const struct h1_limits response_limits = {
    .max_request_line_bytes = 8192,
    .max_head_bytes = PROXY_HEAD_BYTES,
    .max_header_count = PROXY_MAX_HEADERS,
};

static void
fail(struct proxy_exchange *x, int status, const char *why)
{
    x->result = status;
    x->why = why;
}

/* Waits until fd is ready for events. GH_OK, GH_ETIMEDOUT, GH_ECLOSED (cancelled)
 * or GH_EIO. */
static int
wait_fd(struct proxy_exchange *x, short events, int timeout_ms, bool watch_cancel)
{
    struct pollfd p[2] = {{x->fd, events, 0}, {x->cancel_fd, POLLIN, 0}};

    for (;;) {
        int n = poll(p, watch_cancel ? 2 : 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return GH_EIO;
        if (n == 0)
            return GH_ETIMEDOUT;
        if (watch_cancel && p[1].revents != 0)
            return GH_ECLOSED;
        return GH_OK; /* readable, writable, or an error the next call reports */
    }
}

/* Non-blocking connect bounded by connect_timeout_ms: GH_OK, or fails x. */
static int
connect_backend(struct proxy_exchange *x)
{
    int fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        fail(x, 502, "cannot create a socket");
        return GH_EIO;
    }
    x->fd = fd;
    x->is_reused = false;
    if (connect(fd, (const struct sockaddr *)&x->addr, x->addr_len) == 0)
        return GH_OK;
    if (errno != EINPROGRESS) {
        fail(x, 502, "backend refused the connection");
        return GH_EIO;
    }
    int rc = wait_fd(x, POLLOUT, x->connect_timeout_ms, false);
    if (rc == GH_ETIMEDOUT) {
        fail(x, 504, "backend connect timed out");
        return rc;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (rc != GH_OK || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        fail(x, 502, "backend refused the connection");
        return GH_EIO;
    }
    return GH_OK;
}

static void
drop_connection(struct proxy_exchange *x)
{
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
}

/* Sends data fully. GH_OK, or fails x (GH_EIO / GH_ETIMEDOUT). */
static int
send_all(struct proxy_exchange *x, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(x->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(x, POLLOUT, x->read_timeout_ms, false);
            if (rc == GH_ETIMEDOUT) {
                fail(x, 504, "backend send timed out");
                return rc;
            }
            if (rc != GH_OK) {
                fail(x, 502, "backend send failed");
                return rc;
            }
            continue;
        }
        fail(x, 502, "backend closed the connection while receiving the request");
        return GH_EIO;
    }
    return GH_OK;
}

/* Reads more bytes into buf. > 0 bytes, 0 on EOF, or < 0 (GH_ETIMEDOUT,
 * GH_ECLOSED when cancelled, GH_EIO). */
static ssize_t
recv_some(struct proxy_exchange *x, void *buf, size_t cap, bool watch_cancel)
{
    for (;;) {
        ssize_t n = recv(x->fd, buf, cap, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            x->saw_reset = errno == ECONNRESET;
            return errno == ECONNRESET ? 0 : GH_EIO;
        }
        int rc = wait_fd(x, POLLIN, x->read_timeout_ms, watch_cancel);
        if (rc != GH_OK)
            return rc;
    }
}

/* Reads and parses the response head, skipping interim 1xx responses
 * (RFC 9110 15.2). Returns GH_OK, or fails x; *got_nothing_out tells whether the
 * backend closed before sending a single byte (a stale pooled connection). */
static int
read_head(struct proxy_exchange *x, bool *got_nothing_out)
{
    int status = 0;
    size_t consumed = 0;

    *got_nothing_out = false;
    x->head_len = 0;
    for (;;) {
        x->resp = (struct h1_response){.headers = x->headers, .header_capacity = PROXY_MAX_HEADERS};
        int rc = x->head_len > 0 ? h1_parse_response(x->head, x->head_len, &response_limits,
                                                     &x->resp, &consumed, &status)
                                 : GH_AGAIN;
        if (rc == GH_OK && x->resp.status >= 100 && x->resp.status < 200) {
            if (x->resp.status == 101) {
                fail(x, 502, "backend switched protocols (Upgrade is not proxied)");
                return GH_EPROTO;
            }
            memmove(x->head, x->head + consumed, x->head_len - consumed);
            x->head_len -= consumed;
            continue;
        }
        if (rc == GH_OK) {
            x->head_used = consumed;
            return GH_OK;
        }
        if (rc != GH_AGAIN) {
            fail(x, 502, "malformed response head from backend");
            return rc;
        }
        if (x->head_len == sizeof(x->head)) {
            fail(x, 502, "backend response head too large");
            return GH_ELIMIT;
        }
        ssize_t n = recv_some(x, x->head + x->head_len, sizeof(x->head) - x->head_len, false);
        if (n == GH_ETIMEDOUT) {
            fail(x, 504, "backend response timed out");
            return GH_ETIMEDOUT;
        }
        if (n <= 0) {
            *got_nothing_out = n == 0 && x->head_len == 0;
            fail(x, 502, "backend closed the connection without a response");
            return GH_EIO;
        }
        x->head_len += (size_t)n;
    }
}

/* Sets body_kind / body_left from the parsed head (RFC 9112 6.3). */
static void
frame_body(struct proxy_exchange *x)
{
    int st = x->resp.status;

    x->body_kind = x->resp.body_kind;
    x->body_left = x->resp.content_length;
    if (x->is_head_request || st == 204 || st == 304)
        x->body_kind = H1_BODY_NONE;
    if (x->body_kind == H1_BODY_CHUNKED)
        h1_chunked_init(&x->chunked, CHUNK_LINE_BYTES, TRAILER_BYTES);
}

/* The value of the backend's "WWW-Authenticate: NTLM <token>", decoded. */
static int
ntlm_challenge(const struct proxy_exchange *x, struct buf *token_out)
{
    for (size_t i = 0; i < x->resp.header_count; i++) {
        const struct h1_header *h = &x->resp.headers[i];
        struct slice v = h->value;
        if (!slice_eq_nocase(h->name, SLICE_LIT("WWW-Authenticate")) || v.len <= 5 ||
            !slice_eq_nocase(slice_make(v.ptr, 5), SLICE_LIT("NTLM ")))
            continue;
        return b64_decode(token_out, slice_make(v.ptr + 5, v.len - 5));
    }
    return GH_ENOTFOUND;
}

/* Puts line ("Authorization: ...\r\n") into the request head at auth_at,
 * before the framing headers. GH_OK or GH_ENOMEM. */
static int
insert_authorization(struct proxy_exchange *x, const struct buf *line)
{
    int rc = buf_reserve(&x->out, line->len);

    if (rc != GH_OK)
        return rc;
    memmove(x->out.data + x->auth_at + line->len, x->out.data + x->auth_at,
            x->out.len - x->auth_at);
    memcpy(x->out.data + x->auth_at, line->data, line->len);
    x->out.len += line->len;
    return GH_OK;
}

/* proxy_delegated_credentials ntlm, first job: on a fresh connection, the
 * request head without the body ("Content-Length: 0") and the NEGOTIATE
 * message; the 401 with the CHALLENGE (its body drained); then the
 * AUTHENTICATE line goes into out at auth_at, before the framing headers, and
 * the real request follows on the same connection. GH_OK, or fails x. */
static int
ntlm_handshake(struct proxy_exchange *x)
{
    struct buf leg, token;
    bool got_nothing = false;
    int rc;

    if (x->fd < 0 && connect_backend(x) != GH_OK)
        return GH_EIO;
    buf_init(&leg, PROXY_HEAD_BYTES * 4 + 8192);
    rc = buf_append(&leg, x->out.data, x->auth_at);
    if (rc == GH_OK)
        rc = buf_append(&leg, x->ntlm_line.data, x->ntlm_line.len);
    if (rc == GH_OK)
        rc = buf_append_str(&leg, "Content-Length: 0\r\n\r\n");
    if (rc == GH_OK)
        rc = send_all(x, leg.data, leg.len);
    buf_free(&leg);
    if (rc != GH_OK)
        return rc;
    if (read_head(x, &got_nothing) != GH_OK)
        return GH_EIO;
    if (x->resp.status != 401 || !x->resp.keep_alive ||
        (x->resp.body_kind != H1_BODY_LENGTH && x->resp.body_kind != H1_BODY_NONE) ||
        x->resp.content_length > PROXY_HEAD_BYTES) {
        fail(x, 502, "backend did not answer the NTLM negotiation with a 401 on the connection");
        return GH_EPROTO;
    }
    /* Drain the 401's body: nothing may follow it (the request is ours). */
    uint64_t want = x->resp.body_kind == H1_BODY_LENGTH && !x->is_head_request
                        ? x->resp.content_length
                        : 0; /* a 401 to HEAD has no body whatever its length says */
    while (x->head_len - x->head_used < want) {
        ssize_t n = recv_some(x, x->head + x->head_len, sizeof(x->head) - x->head_len, false);
        if (n <= 0) {
            fail(x, n == GH_ETIMEDOUT ? 504 : 502, "backend failed during the NTLM handshake");
            return GH_EIO;
        }
        x->head_len += (size_t)n;
    }
    buf_init(&token, 4096);
    rc = x->head_len - x->head_used == want ? ntlm_challenge(x, &token) : GH_EPROTO;
    if (rc == GH_OK)
        rc = proxy_ntlm_leg(x, buf_slice(&token));
    buf_free(&token);
    proxy_ntlm_free(x);
    if (rc == GH_OK)
        rc = insert_authorization(x, &x->ntlm_line);
    if (rc != GH_OK) {
        fail(x, 502, "backend sent no usable NTLM challenge");
        return GH_EPROTO;
    }
    x->head_len = 0;
    x->ntlm_pending = false;
    return GH_OK;
}

/* proxy_delegated_credentials kerberos, first job: the Negotiate line from
 * the client's delegated TGT (a service ticket from the KDC when the ccache
 * has none yet), at auth_at. GH_OK, or fails x (502, the cause logged). */
static int
kerberos_authorization(struct proxy_exchange *x)
{
    struct buf line;
    char why[512] = "";

    buf_init(&line, 64 * 1024);
    int rc = proxy_krb_line(x, &line, why, sizeof(why));
    if (rc == GH_OK)
        rc = insert_authorization(x, &line);
    buf_free_wipe(&line);
    if (rc != GH_OK) {
        snprintf(x->krb_why, sizeof(x->krb_why), "proxy_delegated_credentials kerberos: %s",
                 why[0] != '\0' ? why : "out of memory");
        fail(x, 502, x->krb_why);
        return rc;
    }
    x->krb_pending = false;
    return GH_OK;
}

void
proxy_backend_send(struct proxy_exchange *x, bool then_read)
{
    bool got_nothing = false;

    x->result = GH_OK;
    if (x->ntlm_pending && ntlm_handshake(x) != GH_OK)
        return;
    if (x->krb_pending && kerberos_authorization(x) != GH_OK)
        return;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (x->fd < 0 && connect_backend(x) != GH_OK)
            return;
        if (send_all(x, x->out.data, x->out.len) != GH_OK)
            goto stale;
        if (!then_read) {
            buf_consume(&x->out, x->out.len);
            return;
        }
        if (read_head(x, &got_nothing) == GH_OK) {
            buf_consume(&x->out, x->out.len);
            frame_body(x);
            return;
        }
        if (!got_nothing)
            return;
    stale:
        /* A pooled connection the backend closed meanwhile fails on first use.
         * Only a request sent whole in this one job can be replayed safely. */
        if (!(x->is_reused && x->can_retry))
            return;
        drop_connection(x);
        x->result = GH_OK;
        x->can_retry = false;
    }
}

/* Appends body bytes to the ring, waiting for room. false when released. */
static bool
ring_put(struct proxy_exchange *x, const uint8_t *data, size_t len)
{
    while (len > 0) {
        pthread_mutex_lock(&x->mu);
        while (x->ring_len == sizeof(x->ring) && !x->is_released)
            pthread_cond_wait(&x->cv, &x->mu);
        if (x->is_released) {
            pthread_mutex_unlock(&x->mu);
            return false;
        }
        if (x->ring_off + x->ring_len == sizeof(x->ring)) {
            memmove(x->ring, x->ring + x->ring_off, x->ring_len);
            x->ring_off = 0;
        }
        size_t room = sizeof(x->ring) - x->ring_off - x->ring_len;
        size_t n = len < room ? len : room;
        memcpy(x->ring + x->ring_off + x->ring_len, data, n);
        x->ring_len += n;
        data += n;
        len -= n;
        if (x->pull_waiting) {
            /* Under the lock: the request cannot end while we wake it. */
            x->pull_waiting = false;
            gh_response_stream_wake(x->req);
        }
        pthread_mutex_unlock(&x->mu);
    }
    return true;
}

static void
stream_end(struct proxy_exchange *x, bool ok)
{
    pthread_mutex_lock(&x->mu);
    if (ok)
        x->is_eof = true;
    else
        x->has_failed = true;
    if (x->pull_waiting && !x->is_released) {
        x->pull_waiting = false;
        gh_response_stream_wake(x->req);
    }
    pthread_mutex_unlock(&x->mu);
}

/* Hands input bytes to the body decoder. Returns GH_AGAIN (more wanted), GH_OK
 * (body complete) or a failure. *used_out: input bytes consumed. */
static int
relay(struct proxy_exchange *x, const uint8_t *in, size_t len, size_t *used_out)
{
    size_t used = 0;

    *used_out = 0;
    if (x->body_kind == H1_BODY_LENGTH) {
        size_t n = len < x->body_left ? len : (size_t)x->body_left;
        if (n > 0 && !ring_put(x, in, n))
            return GH_ECLOSED;
        x->body_relayed += n;
        x->body_left -= n;
        *used_out = n;
        return x->body_left == 0 ? GH_OK : GH_AGAIN;
    }
    if (x->body_kind == H1_BODY_CLOSE) {
        if (len > 0 && !ring_put(x, in, len))
            return GH_ECLOSED;
        x->body_relayed += len;
        *used_out = len;
        return GH_AGAIN;
    }
    while (used < len) {
        struct slice data = {0};
        size_t consumed = 0;
        int rc = h1_chunked_decode(&x->chunked, in + used, len - used, &consumed, &data);
        if (rc < 0)
            return rc;
        if (data.len > 0 && !ring_put(x, data.ptr, data.len))
            return GH_ECLOSED;
        x->body_relayed += data.len;
        used += consumed;
        if (rc == GH_OK) {
            *used_out = used;
            return GH_OK;
        }
        if (consumed == 0)
            break; /* a partial size line: needs more input */
    }
    *used_out = used;
    return GH_AGAIN;
}

/* Why the body stopped before its end, in words for the error log; NULL
 * when it was the client that went away (the stream was released). */
static const char *
stream_failure(const struct proxy_exchange *x, int rc)
{
    switch (rc) {
    case GH_EPROTO:
        return x->body_kind == H1_BODY_CHUNKED ? "malformed chunked body" : "malformed body";
    case GH_ETIMEDOUT:
        return "timeout: nothing from the backend within proxy_read_timeout";
    case GH_ECLOSED:
        return NULL;
    case GH_ELIMIT:
        return "chunk line or trailers beyond the limits";
    default:
        return "read error";
    }
}

void
proxy_backend_stream(struct proxy_exchange *x)
{
    uint8_t in[16 * 1024];
    size_t in_len = 0;
    size_t used = 0;
    int rc = GH_AGAIN;
    bool has_trailing = false;

    x->body_relayed = 0;
    x->body_expected = x->body_kind == H1_BODY_LENGTH ? (int64_t)x->body_left : -1;
    x->stream_why = NULL;
    /* Body bytes that arrived with the head come first. */
    size_t extra = x->head_len - x->head_used;
    if (extra > 0) {
        rc = relay(x, (const uint8_t *)x->head + x->head_used, extra, &used);
        if (rc == GH_AGAIN && used < extra) {
            /* A partial chunk-size line at the end: carry it over. */
            in_len = extra - used;
            memcpy(in, x->head + x->head_used + used, in_len);
        }
        has_trailing = rc == GH_OK && used < extra;
    }
    while (rc == GH_AGAIN) {
        if (in_len == sizeof(in)) {
            rc = GH_EPROTO;
            break;
        }
        ssize_t n = recv_some(x, in + in_len, sizeof(in) - in_len, true);
        if (n == 0 && x->body_kind == H1_BODY_CLOSE) {
            rc = GH_OK;
            x->is_reusable = false;
            stream_end(x, true);
            drop_connection(x);
            return;
        }
        if (n <= 0) {
            rc = n == 0 ? GH_EPROTO : (int)n; /* EOF before the end of the body */
            if (n == 0)
                x->stream_why = x->saw_reset ? "connection reset by the backend"
                                             : "the backend closed the connection (EOF)";
            break;
        }
        in_len += (size_t)n;
        rc = relay(x, in, in_len, &used);
        memmove(in, in + used, in_len - used);
        in_len -= used;
        has_trailing = rc == GH_OK && in_len > 0;
    }
    if (rc == GH_OK) {
        /* Bytes after the body break the framing: the body is whole, but the
         * connection is not reused. */
        x->is_reusable = x->resp.keep_alive && x->body_kind != H1_BODY_CLOSE && !has_trailing;
        stream_end(x, true);
        return;
    }
    x->is_reusable = false;
    if (x->stream_why == NULL)
        x->stream_why = stream_failure(x, rc);
    drop_connection(x);
    stream_end(x, false);
}
