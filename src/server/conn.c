// SPDX-License-Identifier: MIT
// One client connection: TLS handshake, reading request heads, handing each
// request to the pipeline, flushing responses in order, keep-alive and closing.
//
// A connection runs one request at a time; pipelined requests wait in the input
// buffer, so responses leave in request order by construction. conn_run() is
// the single driver: it loops until it has to wait (socket, module, timer) and
// sets the timer for what it waits on.
//
// Memory: an idle keep-alive connection holds only struct conn (and OpenSSL's
// SSL for TLS, whose record buffers SSL_MODE_RELEASE_BUFFERS gives back). The
// input buffer returns to the worker's spare list and the output buffer is freed
// whenever nothing is buffered.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <gatehouse/error.h>

#include "server/server.h"

#define SPARE_BUFS_MAX   64
#define LINGER_MS        2000
#define LINGER_MAX_BYTES (256 * 1024)

static size_t
in_bytes_for(const struct config *cfg)
{
    size_t n = cfg->limits.max_head_bytes + 1024;

    return n < 8192 ? 8192 : n;
}

int
conn_in_acquire(struct conn *c)
{
    struct worker *w = c->worker;
    size_t want = in_bytes_for(c->config);

    if (c->in != NULL)
        return GH_OK;
    if (w->free_buf_bytes != want) {
        while (w->free_buf_count > 0)
            free(w->free_bufs[--w->free_buf_count]);
        w->free_buf_bytes = want;
    }
    if (w->free_buf_count > 0) {
        c->in = w->free_bufs[--w->free_buf_count];
    } else {
        c->in = malloc(want);
        if (c->in == NULL)
            return GH_ENOMEM;
    }
    c->in_cap = (uint32_t)want;
    c->in_off = c->in_len = 0;
    return GH_OK;
}

static void
in_release(struct conn *c)
{
    struct worker *w = c->worker;

    if (c->in == NULL)
        return;
    if (c->in_cap == w->free_buf_bytes && w->free_buf_count < SPARE_BUFS_MAX)
        w->free_bufs[w->free_buf_count++] = c->in;
    else
        free(c->in);
    c->in = NULL;
    c->in_off = c->in_len = c->in_cap = 0;
}

void
conn_in_compact(struct conn *c)
{
    if (c->in_off == 0)
        return;
    memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
}

static void
timer(struct conn *c, enum timer_kind kind, uint32_t ms, bool restart)
{
    if (c->timer_kind == kind && !restart && c->deadline_ms != 0)
        return;
    c->timer_kind = (uint8_t)kind;
    worker_timer_set(c->worker, c, c->worker->now_ms + ms);
}

static void
timer_off(struct conn *c)
{
    c->timer_kind = TIMER_NONE;
    c->deadline_ms = 0; /* the heap drops it lazily */
}

void
conn_accepted(struct worker *w, struct listener *l, int fd, const struct sockaddr *peer,
              socklen_t peer_len)
{
    unsigned gen = atomic_load_explicit(&w->server->config_gen, memory_order_acquire);
    struct config *cfg = server_config_get(w->server);
    struct conn *c = NULL;

    if (l->is_tls && cfg->tls == NULL)
        goto fail; /* the listener outlived its certificates: cannot happen after checks */
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto fail;
    c->ev_kind = EV_CONN;
    c->fd = fd;
    c->worker = w;
    c->listener = l;
    c->config = cfg;
    c->config_gen = gen;
    c->heap_idx = SIZE_MAX;
    c->is_tls = l->is_tls;
    buf_init(&c->out, cfg->max_response_buffer_bytes + 65536);
    if (peer_len > sizeof(c->peer))
        peer_len = sizeof(c->peer);
    memcpy(&c->peer, peer, peer_len);
    c->peer_len = peer_len;
    if (c->is_tls) {
        c->ssl = tls_server_ssl_new(cfg->tls);
        if (c->ssl == NULL || tls_ssl_attach_fd(c->ssl, fd, &c->tls_drained) != GH_OK)
            goto fail;
        SSL_set_accept_state(c->ssl);
        if (l->ask_client_cert) {
            /* `listen ... tls client_cert;`: ask in the initial handshake. */
            if (conn_cc_request_in_handshake(c) != GH_OK)
                goto fail;
        }
        c->state = CONN_HANDSHAKE;
    } else {
        c->state = CONN_IDLE;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        goto fail;
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    w->conn_count++;
    metrics_inc(&w->metrics.conns_accepted);
    /* The first request's head (and the handshake) must arrive within
     * header_timeout of the accept. */
    timer(c, TIMER_HEAD, cfg->header_timeout_ms, true);
    /* With TCP_DEFER_ACCEPT the kernel hands over a connection once its first
     * bytes (request head or ClientHello) are in: read them now rather than at
     * the next epoll_wait, which saves that call. The event epoll_ctl queued
     * is reported with what is ready then (writable), and costs no read. */
    if (atomic_load_explicit(&l->defers_accept, memory_order_relaxed))
        conn_on_event(c, EPOLLIN | EPOLLOUT);
    return;
fail:
    if (c != NULL) {
        SSL_free(c->ssl);
        conn_client_cert_free(c->client_cert);
    }
    free(c);
    close(fd);
    config_unref(cfg);
}

static void
conn_free(struct conn *c)
{
    struct worker *w = c->worker;

    worker_timer_remove(w, c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    w->conn_count--;
    metrics_inc(&w->metrics.conns_closed);
    while (c->slots != NULL) {
        struct conn_slot *s = c->slots;
        c->slots = s->next;
        if (s->release != NULL)
            s->release(s->ctx);
        free(s);
    }
    /* A handshake in progress or an identity persisted on the connection dies
     * with it (and returns its per-address slot). */
    auth_conn_destroy(c->auth);
    conn_client_cert_free(c->client_cert);
    in_release(c);
    buf_free(&c->out);
    config_unref(c->config);
    free(c);
}

void
conn_abort(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    c->state = CONN_CLOSED;
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    ERR_clear_error();
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    timer_off(c);
    if (c->in_run)
        return; /* conn_run frees it on the way out */
    conn_run(c);
}

static int
handshake(struct conn *c)
{
    int rc = SSL_do_handshake(c->ssl);

    if (rc == 1)
        return GH_OK;
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        c->read_ready = false;
        c->hs_wants_write = false;
        return GH_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->write_ready = false;
        c->hs_wants_write = true;
        return GH_AGAIN;
    default:
        /* Malformed ClientHello, no shared cipher, client gave up: nothing to
         * answer in HTTP. Log at debug level only (scanners are noisy). */
        if (c->config->error_log != NULL) {
            char why[160];
            log_msg(c->config->error_log, LOG_DEBUG, "TLS handshake failed: %s",
                    tls_last_error(why, sizeof(why)));
        }
        ERR_clear_error();
        return GH_ETLS;
    }
}

int
conn_fill(struct conn *c)
{
    int rc = conn_in_acquire(c);

    if (rc != GH_OK)
        return rc;
    if (c->in_len == c->in_cap)
        conn_in_compact(c);
    if (c->in_len == c->in_cap)
        return GH_ELIMIT;
    size_t room = c->in_cap - c->in_len;
    if (c->ssl != NULL) {
        int n = SSL_read(c->ssl, c->in + c->in_len, room > INT32_MAX ? INT32_MAX : (int)room);
        if (n > 0) {
            c->in_len += (uint32_t)n;
            /* As for plain sockets below: when OpenSSL's last read drained the
             * socket and nothing is left in its buffer, the next SSL_read could
             * only say WANT_READ; edge-triggered epoll reports new bytes. */
            if (c->tls_drained && !c->saw_hup && !SSL_has_pending(c->ssl))
                c->read_ready = false;
            return GH_OK;
        }
        switch (SSL_get_error(c->ssl, n)) {
        case SSL_ERROR_WANT_READ:
            c->read_ready = false;
            return GH_AGAIN;
        case SSL_ERROR_WANT_WRITE:
            c->write_ready = false;
            return GH_AGAIN;
        case SSL_ERROR_ZERO_RETURN:
            c->is_peer_closed = true;
            return GH_ECLOSED;
        default:
            ERR_clear_error();
            c->is_peer_closed = true;
            return GH_ECLOSED; /* unclean close or error: either way the peer is gone */
        }
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n > 0) {
            c->in_len += (uint32_t)n;
            /* A short read drained the socket (saves the EAGAIN read), unless
             * the event also said the peer closed: edge-triggered epoll will not
             * say it twice, so read on to the EOF. */
            if ((size_t)n < room && !c->saw_hup)
                c->read_ready = false;
            return GH_OK;
        }
        if (n == 0) {
            c->is_peer_closed = true;
            return GH_ECLOSED;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->read_ready = false;
            return GH_AGAIN;
        }
        c->is_peer_closed = true;
        return GH_EIO;
    }
}

/* The unsent part of a large buffered body that rides behind c->out (see
 * response_head_write): NULL when none. */
static const uint8_t *
tail_left(const struct conn *c, size_t *len_out)
{
    const struct gh_request *req = c->req;

    if (req == NULL || req->tail_off >= req->tail_len) {
        *len_out = 0;
        return NULL;
    }
    *len_out = req->tail_len - req->tail_off;
    return req->body.data + req->tail_off;
}

bool
conn_out_pending(const struct conn *c)
{
    size_t tail_len;

    return c->out_off < c->out.len || tail_left(c, &tail_len) != NULL;
}

/* Counts n sent bytes against out, then against the tail. */
static void
advance(struct conn *c, size_t n)
{
    size_t left = c->out.len - c->out_off;

    if (n <= left) {
        c->out_off += n;
        return;
    }
    c->out_off = c->out.len;
    c->req->tail_off += n - left;
}

int
conn_flush(struct conn *c)
{
    for (;;) {
        size_t left = c->out.len - c->out_off;
        size_t tail_len;
        const uint8_t *tail = tail_left(c, &tail_len);
        if (left == 0 && tail == NULL)
            break;
        if (!c->write_ready)
            return GH_AGAIN;
        if (c->ssl != NULL) {
            const uint8_t *p = left > 0 ? c->out.data + c->out_off : tail;
            size_t len = left > 0 ? left : tail_len;
            int n = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
            if (n > 0) {
                advance(c, (size_t)n);
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                c->write_ready = false;
                return GH_AGAIN;
            }
            ERR_clear_error();
            return GH_EIO;
        }
        /* Head and body in one syscall, without copying a large body. */
        struct iovec iov[2];
        int iov_count = 0;
        if (left > 0)
            iov[iov_count++] = (struct iovec){c->out.data + c->out_off, left};
        if (tail != NULL)
            iov[iov_count++] = (struct iovec){(void *)tail, tail_len};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iov_count};
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n >= 0) {
            advance(c, (size_t)n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->write_ready = false;
            return GH_AGAIN;
        }
        return GH_EIO;
    }
    /* All sent: small buffers stay for the next response, big ones go. */
    c->out_off = 0;
    c->out.len = 0;
    if (c->out.cap > 65536)
        buf_free(&c->out);
    return GH_OK;
}

void
conn_send_error(struct conn *c, int status)
{
    const char *reason = h1_status_reason(status);
    struct worker *w = c->worker;

    buf_printf(&c->out,
               "HTTP/1.1 %d %s\r\nDate: %.*s\r\nContent-Type: text/plain\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
               status, reason, (int)w->date_len, w->date, strlen(reason) + 1, reason);
    c->must_close = true;
    metrics_request(&w->metrics, status);
    if (c->config->access_log != NULL) {
        char peer[64] = "-";
        if (c->peer.sa.sa_family == AF_INET)
            inet_ntop(AF_INET, &c->peer.in4.sin_addr, peer, sizeof(peer));
        else if (c->peer.sa.sa_family == AF_INET6)
            inet_ntop(AF_INET6, &c->peer.in6.sin6_addr, peer, sizeof(peer));
        access_log_line(w, c->config, peer, NULL, NULL, 0, status, 0, 0, NULL, w->now_real.tv_sec,
                        false);
    }
}

/* No request yet: parses the next head from the input buffer, if complete. */
static void refresh_config(struct conn *c);

static int
next_request(struct conn *c)
{
    struct worker *w = c->worker;
    struct config *cfg = NULL;
    size_t consumed = 0;
    int status = 0;

    refresh_config(c);
    cfg = c->config;
    if (w->scratch_capacity < cfg->limits.max_header_count) {
        struct h1_header *grown =
            realloc(w->scratch_headers, cfg->limits.max_header_count * sizeof(*grown));
        if (grown == NULL)
            return GH_ENOMEM;
        w->scratch_headers = grown;
        w->scratch_capacity = cfg->limits.max_header_count;
    }
    struct h1_request h = {.headers = w->scratch_headers,
                           .header_capacity = cfg->limits.max_header_count};
    size_t avail = c->in_len - c->in_off;
    int rc = h1_parse_request((const char *)c->in + c->in_off, avail, &cfg->limits, &h, &consumed,
                              &status);
    if (rc == GH_AGAIN) {
        /* The parser's limits cover incomplete heads too, but a full buffer must
         * end here whatever it holds. */
        if (avail >= cfg->limits.max_head_bytes) {
            bool has_lf = memchr(c->in + c->in_off, '\n', avail) != NULL;
            conn_send_error(c, has_lf ? 431 : 414);
            return GH_ELIMIT;
        }
        return GH_AGAIN;
    }
    if (rc != GH_OK) {
        conn_send_error(c, status >= 400 && status <= 599 ? status : 400);
        return rc;
    }
    if (h.body_kind == H1_BODY_LENGTH && h.content_length > cfg->max_body_bytes) {
        conn_send_error(c, 413);
        return GH_ELIMIT;
    }
    struct gh_request *req = NULL;
    rc = request_start(c, &h, &req);
    if (rc != GH_OK) {
        conn_send_error(c, 500);
        return rc;
    }
    c->in_off += (uint32_t)consumed;
    c->req = req;
    c->state = CONN_REQUEST;
    c->requests_served++;
    if (c->requests_served >= cfg->keepalive_requests || w->is_stopping)
        req->keep_alive = false;
    timer_off(c);
    return GH_OK;
}

/* Between requests: adopt the newest configuration (after a reload). */
static void
refresh_config(struct conn *c)
{
    unsigned gen = atomic_load_explicit(&c->worker->server->config_gen, memory_order_acquire);

    if (gen == c->config_gen)
        return; /* the common case: one atomic load, no lock */
    struct config *cur = server_config_get(c->worker->server);

    if (cur == c->config) {
        config_unref(cur);
        return;
    }
    if (c->in != NULL && c->in_cap < in_bytes_for(cur)) {
        /* The input buffer is too small for the new limits: keep the old
         * configuration until the buffer is empty. */
        if (c->in_len > c->in_off) {
            config_unref(cur);
            return;
        }
        in_release(c);
    }
    config_unref(c->config);
    c->config = cur;
    c->config_gen = gen;
}

static void
start_linger(struct conn *c)
{
    c->state = CONN_LINGER;
    if (c->ssl != NULL)
        SSL_shutdown(c->ssl); /* close_notify; the answer is not awaited */
    ERR_clear_error();
    shutdown(c->fd, SHUT_WR);
    c->in_off = c->in_len = 0;
    timer(c, TIMER_LINGER, LINGER_MS, true);
}

/* Answered and shut: drain what the client still sends so that closing does
 * not reset the connection under the response (RFC 9112 9.6). */
static bool
linger(struct conn *c)
{
    for (size_t total = 0; total < LINGER_MAX_BYTES;) {
        if (!c->read_ready)
            return false;
        int rc = conn_fill(c);
        if (rc == GH_AGAIN)
            return false;
        if (rc != GH_OK)
            return true;
        total += c->in_len;
        c->in_off = c->in_len = 0;
    }
    return true;
}

/* Request answered: finish it, then decide between keep-alive and close. */
static void
request_done(struct conn *c)
{
    struct gh_request *req = c->req;
    bool keep = req->keep_alive && !c->must_close && !c->worker->is_stopping;

    c->req = NULL;
    request_finish(req);
    if (!keep) {
        c->must_close = true;
        return;
    }
    c->state = c->in_len > c->in_off ? CONN_HEAD : CONN_IDLE;
}

void
conn_run(struct conn *c)
{
    if (c->in_run)
        return;
    c->in_run = true;
    for (;;) {
        int rc;

        if (c->state == CONN_CLOSED) {
            struct gh_request *req = c->req;
            if (req != NULL && req->is_pending && req->wants_cert) {
                /* The exchange died with the connection: the waiting hook
                 * continues (a suspended one must unwind its stack). */
                conn_cc_fail(c);
                pipeline_cert_ready(req);
            }
            if (req != NULL && req->is_pending && req->wants_body) {
                /* Waiting for body bytes that will never come: no module
                 * completion is due, so finish now (slots release the state). */
                req->is_pending = false;
                req->wants_body = false;
                req->body_error = GH_ECLOSED;
            }
            if (req != NULL && (req->is_pending || req->in_pipeline))
                break; /* freed when the module resumes it */
            if (req != NULL) {
                c->req = NULL;
                request_finish(req);
            }
            c->in_run = false;
            conn_free(c);
            return;
        }
        if (c->state == CONN_HANDSHAKE) {
            /* Only what the handshake waits for moves it on: a socket that
             * became writable (the event epoll_ctl queued at the accept) does
             * not help a handshake that waits for the client's next flight,
             * and retrying would cost a read that says EAGAIN. */
            if (!(c->hs_wants_write ? c->write_ready : c->read_ready))
                break;
            rc = handshake(c);
            if (rc == GH_AGAIN)
                break;
            c->worker->handshakes_since_trim++; /* failed ones leave garbage too */
            if (rc != GH_OK) {
                conn_abort(c);
                continue;
            }
            if (conn_cc_handshake_done(c) != GH_OK) {
                conn_abort(c);
                continue;
            }
            /* The handshake's last read may have buffered the first request's
             * record in OpenSSL (read-ahead) after an earlier WANT_READ cleared
             * read_ready: no new edge would report it. Seen with TLS 1.3 client
             * certificates in the handshake (openssl s_time). */
            if (SSL_has_pending(c->ssl))
                c->read_ready = true;
            c->state = CONN_IDLE;
            continue;
        }
        if (conn_out_pending(c)) {
            rc = conn_flush(c);
            if (rc == GH_AGAIN) {
                timer(c, TIMER_WRITE, c->config->write_timeout_ms, true);
                break;
            }
            if (rc != GH_OK) {
                conn_abort(c);
                continue;
            }
        }
        if (c->state == CONN_LINGER) {
            if (linger(c))
                conn_abort(c);
            else
                break;
            continue;
        }
        if (c->must_close && c->req == NULL) {
            start_linger(c);
            continue;
        }
        struct gh_request *req = c->req;
        if (req != NULL) {
            if (req->in_pipeline)
                break;
            if (req->wants_cert) {
                /* A client-certificate exchange runs: drive it (also when an
                 * asynchronous caller did not pend: it ends before the
                 * response goes out, which must not interleave with it). */
                rc = conn_cc_drive(c);
                if (rc == GH_AGAIN) {
                    timer(c, TIMER_CERT, c->config->client_cert_timeout_ms, false);
                    break;
                }
                timer_off(c);
                if (rc == GH_ELIMIT) {
                    /* More body than tls_client_certificate_buffer: 413. */
                    conn_cc_fail(c);
                    req->body_error = GH_ELIMIT;
                    c->must_close = true;
                } else if (rc != GH_OK) {
                    conn_abort(c);
                    continue;
                }
                if (req->is_pending)
                    pipeline_cert_ready(req);
                else
                    req->wants_cert = false;
                continue;
            }
            if (req->is_pending) {
                if (!req->wants_body)
                    break;
                /* A hook waits for body bytes. */
                if (c->in_len > c->in_off || c->is_peer_closed) {
                    pipeline_body_ready(req);
                    continue;
                }
                if (!c->read_ready) {
                    timer(c, TIMER_BODY, c->config->body_timeout_ms, false);
                    break;
                }
                rc = conn_fill(c);
                if (rc == GH_AGAIN)
                    continue;
                /* At EOF the hook still gets the bytes already buffered. */
                if (rc != GH_OK && rc != GH_ECLOSED)
                    req->body_error = rc == GH_ELIMIT ? GH_ELIMIT : GH_ECLOSED;
                timer(c, TIMER_BODY, c->config->body_timeout_ms, true);
                pipeline_body_ready(req);
                continue;
            }
            if (!req->response_done) {
                rc = response_body_pump(req);
                if (rc == GH_OK) {
                    req->response_done = true;
                    continue;
                }
                if (rc == GH_AGAIN) {
                    if (conn_out_pending(c))
                        continue;
                    if (!req->stream_waiting)
                        timer(c, TIMER_WRITE, c->config->write_timeout_ms, false);
                    else
                        timer_off(c);
                    break;
                }
                conn_abort(c);
                continue;
            }
            /* Response sent. Drop what the handler left of the body. */
            if (!req->body_done && !c->must_close && req->keep_alive) {
                if (req->expect_continue && !req->sent_continue) {
                    req->keep_alive = false; /* the client may never send it */
                } else {
                    c->state = CONN_DISCARD;
                    rc = request_body_discard(req);
                    if (rc == GH_AGAIN) {
                        if (c->read_ready)
                            continue;
                        timer(c, TIMER_BODY, c->config->body_timeout_ms, false);
                        break;
                    }
                    if (rc != GH_OK)
                        req->keep_alive = false;
                }
            }
            request_done(c);
            continue;
        }
        /* Between requests. */
        if (c->worker->is_stopping && c->in_len == c->in_off) {
            conn_abort(c);
            continue;
        }
        if (c->in != NULL && c->in_len > c->in_off) {
            rc = next_request(c);
            if (rc == GH_OK) {
                pipeline_run(c->req);
                continue;
            }
            if (rc != GH_AGAIN)
                continue; /* an error response is queued; must_close is set */
            c->state = CONN_HEAD;
        }
        if (c->is_peer_closed) {
            conn_abort(c);
            continue;
        }
        if (!c->read_ready) {
            if (c->state == CONN_HEAD) {
                timer(c, TIMER_HEAD, c->config->header_timeout_ms, false);
            } else if (c->requests_served == 0 && c->req == NULL) {
                /* A new connection that has sent nothing yet: its first
                 * request is due within header_timeout of the accept (the
                 * deadline set there), not keepalive_timeout. */
                timer(c, TIMER_HEAD, c->config->header_timeout_ms, false);
            } else {
                in_release(c);
                if (c->out.len == 0)
                    buf_free(&c->out);
                /* The SSL_read that said WANT_READ allocated a fresh record
                 * buffer (RELEASE_BUFFERS frees only after a record): give it
                 * back too. Refused, harmlessly, while bytes are buffered. */
                if (c->ssl != NULL)
                    SSL_free_buffers(c->ssl);
                timer(c, TIMER_KEEPALIVE, c->config->keepalive_timeout_ms, false);
            }
            break;
        }
        rc = conn_fill(c);
        if (rc == GH_OK) {
            if (c->state == CONN_IDLE) {
                c->state = CONN_HEAD;
                timer(c, TIMER_HEAD, c->config->header_timeout_ms, true);
            }
            continue;
        }
        if (rc == GH_AGAIN)
            continue;
        if (rc == GH_ECLOSED && c->in_len > c->in_off) {
            conn_send_error(c, 400); /* the head was cut short */
            continue;
        }
        conn_abort(c);
    }
    c->in_run = false;
}

void
conn_on_event(struct conn *c, uint32_t events)
{
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->read_ready = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->saw_hup = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        c->write_ready = true;
    conn_run(c);
}

void
conn_on_timeout(struct conn *c)
{
    struct gh_request *req = c->req;

    switch (c->timer_kind) {
    case TIMER_HEAD:
        /* A new connection that never sent a byte closes without an answer
         * (the conn_abort below); a head that stalled gets its 408. */
        if (c->state == CONN_HEAD) {
            c->timer_kind = TIMER_NONE;
            conn_send_error(c, 408);
            c->in_off = c->in_len;
            conn_run(c);
            return;
        }
        break;
    case TIMER_CERT:
        /* The client never finished the exchange: its TLS state is mid-handshake,
         * so the connection closes (the waiting request is finished). */
        if (c->config->error_log != NULL)
            log_msg(c->config->error_log, LOG_INFO,
                    "client certificate exchange timed out: closing the connection");
        break;
    case TIMER_BODY:
        if (req != NULL && req->is_pending && req->wants_body) {
            req->body_error = GH_ETIMEDOUT;
            c->timer_kind = TIMER_NONE;
            pipeline_body_ready(req);
            conn_run(c);
            return;
        }
        break;
    default:
        break;
    }
    conn_abort(c);
}
