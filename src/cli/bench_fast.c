// SPDX-License-Identifier: MIT
// bench's fast path: plain HTTP keep-alive requests without authentication,
// built like wrk so that the load generator is never what a benchmark
// measures: one epoll loop per thread, non-blocking sockets, the request's
// bytes made once, one send and usually one recv per request, and a minimal
// response parser (status line, Content-Length, Connection: close) that
// consumes as many complete responses as a read brought. One request is in
// flight per connection at a time, as with wrk.
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/banned.h"
#include "cli/bench.h"

#define IN_BYTES 16384 /* a response head must fit; bodies are skipped as they come */

struct fconn {
    int fd;
    bool is_connecting;
    bool is_busy;       /* a request is claimed: being connected for, or in flight */
    uint64_t sent_ns;   /* when it was sent */
    uint64_t body_left; /* body bytes of the current response still to come */
    bool in_body;       /* the head was parsed, skipping its body */
    bool closes;        /* the current response ends the connection */
    int status;         /* of the current response */
    size_t have;        /* bytes in in[] */
    char in[IN_BYTES];
};

struct fthread {
    struct bench_run *run;
    struct bench_stats *st;
    int ep;
    struct addrinfo *addr;
    const char *req;
    size_t req_len;
};

/* Closes the socket; a claimed request is the caller's to count. */
static void
conn_close(struct fthread *t, struct fconn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->is_busy = false;
    c->is_connecting = false;
    c->in_body = false;
    c->have = 0;
}

/* Starts a non-blocking connect; the connection is writable when it is up. */
static bool
conn_open(struct fthread *t, struct fconn *c)
{
    int one = 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};

    c->fd = socket(t->addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return false;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, t->addr->ai_addr, t->addr->ai_addrlen) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    c->is_connecting = true;
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    return true;
}

/* Sends the claimed request on a connected socket. */
static bool
send_claimed(struct fthread *t, struct fconn *c, uint64_t now)
{
    ssize_t w = send(c->fd, t->req, t->req_len, MSG_NOSIGNAL);
    if (w != (ssize_t)t->req_len) { /* a few dozen bytes on a fresh socket buffer */
        bench_record_error(t->run, t->st, BENCH_ERR_READ);
        conn_close(t, c);
        return false;
    }
    return true;
}

/* Claims the next request if the run allows one and sends it, connecting
 * first when the connection is closed (the connect is part of the request's
 * latency, and its failure the request's error). False when the run allows
 * no more (the connection goes idle) or it failed (counted). */
static bool
send_next(struct fthread *t, struct fconn *c, uint64_t now)
{
    if (!bench_claim(t->run, now))
        return false;
    c->is_busy = true;
    c->sent_ns = now;
    if (c->fd < 0) {
        if (!conn_open(t, c)) {
            c->is_busy = false;
            bench_record_error(t->run, t->st, BENCH_ERR_CONNECT);
            return false;
        }
        return true; /* sent once connected */
    }
    return send_claimed(t, c, now);
}

/* Status and framing of the head in[0, head_len): status-line, then the
 * fields Content-Length and Connection. -1 when malformed or not framed by a
 * Content-Length (chunked bodies are not read here). */
static int
parse_head(struct fconn *c, const char *p, size_t head_len)
{
    if (head_len < 16 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5' ||
        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return -1;
    c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    c->closes = p[7] == '0';
    bool has_length = c->status == 204 || c->status == 304;
    c->body_left = 0;
    for (const char *line = memchr(p, '\n', head_len); line != NULL && line + 1 < p + head_len;
         line = memchr(line + 1, '\n', (size_t)(p + head_len - line - 1))) {
        const char *f = line + 1;
        size_t left = (size_t)(p + head_len - f);
        if (left > 15 && strncasecmp(f, "content-length:", 15) == 0) {
            uint64_t v = 0;
            const char *d = f + 15;
            while (*d == ' ' || *d == '\t')
                d++;
            if (*d < '0' || *d > '9')
                return -1;
            for (; *d >= '0' && *d <= '9' && v < (1ull << 40); d++)
                v = v * 10 + (uint64_t)(*d - '0');
            c->body_left = v;
            has_length = true;
        } else if (left > 11 && strncasecmp(f, "connection:", 11) == 0) {
            const char *e = memchr(f, '\n', left);
            size_t n = e != NULL ? (size_t)(e - f) : left;
            for (size_t i = 11; i + 5 <= n; i++) {
                if (strncasecmp(f + i, "close", 5) == 0)
                    c->closes = true;
            }
        } else if (left > 18 && strncasecmp(f, "transfer-encoding:", 18) == 0) {
            return -1;
        }
    }
    return has_length ? 0 : -1;
}

/* Consumes the complete responses in c->in; each one finished sends the next
 * request. False when the connection was closed. */
static bool
consume(struct fthread *t, struct fconn *c, uint64_t now)
{
    size_t off = 0;

    while (off < c->have) {
        if (!c->in_body) {
            const char *head = c->in + off;
            const char *end = memmem(head, c->have - off, "\r\n\r\n", 4);
            if (end == NULL)
                break;
            size_t head_len = (size_t)(end - head) + 4;
            if (parse_head(c, head, head_len) != 0) {
                bench_record_error(t->run, t->st, BENCH_ERR_READ);
                conn_close(t, c);
                return false;
            }
            off += head_len;
            c->in_body = true;
        }
        size_t take = c->have - off < c->body_left ? c->have - off : (size_t)c->body_left;
        off += take;
        c->body_left -= take;
        if (c->body_left > 0)
            break;
        /* One response complete. */
        c->in_body = false;
        c->is_busy = false;
        bench_record(t->run, t->st, now - c->sent_ns, c->status);
        if (c->closes) {
            conn_close(t, c);
            return false;
        }
        if (off == c->have && !send_next(t, c, now))
            return c->fd >= 0;
    }
    memmove(c->in, c->in + off, c->have - off);
    c->have -= off;
    if (c->have == sizeof(c->in)) { /* a head larger than the buffer */
        bench_record_error(t->run, t->st, BENCH_ERR_READ);
        conn_close(t, c);
        return false;
    }
    return true;
}

static void
on_event(struct fthread *t, struct fconn *c, uint32_t events, uint64_t now)
{
    if (c->is_connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        if ((events & (EPOLLERR | EPOLLHUP)) != 0 ||
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            bench_record_error(t->run, t->st, BENCH_ERR_CONNECT);
            conn_close(t, c);
            return;
        }
        if ((events & EPOLLOUT) == 0)
            return;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->is_connecting = false;
        bench_record_handshake(t->run, t->st);
        (void)send_claimed(t, c, now);
        return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
        return;
    ssize_t r = recv(c->fd, c->in + c->have, sizeof(c->in) - c->have, 0);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        bool was_busy = c->is_busy;
        conn_close(t, c);
        if (was_busy)
            bench_record_error(t->run, t->st, BENCH_ERR_READ);
        return;
    }
    c->have += (size_t)r;
    (void)consume(t, c, now);
}

void
bench_fast_thread(struct bench_run *run, unsigned conns, struct bench_stats *st)
{
    const struct bench_opts *o = run->opts;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct fthread t = {.run = run, .st = st, .ep = -1};
    struct fconn *cs = calloc(conns, sizeof(*cs));
    struct epoll_event events[256];
    char port[8], *req = NULL;
    int n;

    snprintf(port, sizeof(port), "%u", (unsigned)o->url.port);
    if (cs == NULL || getaddrinfo(o->url.host, port, &hints, &t.addr) != 0) {
        bench_record_error(run, st, BENCH_ERR_CONNECT);
        free(cs);
        return;
    }
    size_t cap = strlen(o->url.target) + strlen(o->url.authority) + 64;
    req = malloc(cap);
    t.ep = epoll_create1(EPOLL_CLOEXEC);
    if (req == NULL || t.ep < 0)
        goto cleanup;
    n = snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", o->url.target, o->url.authority);
    t.req = req;
    t.req_len = (size_t)n;
    for (unsigned i = 0; i < conns; i++)
        cs[i].fd = -1;
    uint64_t drain_until = 0;
    for (;;) {
        uint64_t now = bench_now_ns();
        unsigned busy = 0;
        bool more = bench_more(run, now);
        for (unsigned i = 0; i < conns; i++) {
            struct fconn *c = &cs[i];
            if (c->is_busy && now - c->sent_ns > (uint64_t)o->timeout_ms * 1000000u) {
                conn_close(&t, c);
                bench_record_error(run, st, BENCH_ERR_TIMEOUT);
            }
            if (!c->is_busy && more)
                (void)send_next(&t, c, now); /* idle or closed: the run may allow more */
            busy += c->is_busy;
        }
        if (busy == 0 && !bench_more(run, now))
            break;
        if (!more) { /* the last responses, within --timeout */
            if (drain_until == 0)
                drain_until = now + (uint64_t)o->timeout_ms * 1000000u;
            else if (now > drain_until)
                break;
        }
        int k = epoll_wait(t.ep, events, 256, 50);
        now = bench_now_ns();
        for (int i = 0; i < k; i++)
            on_event(&t, events[i].data.ptr, events[i].events, now);
    }
cleanup:
    for (unsigned i = 0; cs != NULL && i < conns; i++)
        conn_close(&t, &cs[i]);
    if (t.ep >= 0)
        close(t.ep);
    freeaddrinfo(t.addr);
    free(req);
    free(cs);
}
