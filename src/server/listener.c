// SPDX-License-Identifier: MIT
// Listening sockets. One socket per `listen` directive, shared by every worker
// with EPOLLEXCLUSIVE, so an incoming connection wakes one worker instead of
// all. Listeners outlive configurations: a reload keeps the sockets whose
// address is still listed (established connections and the listen backlog
// survive), opens new ones, and retires the others once every worker has
// dropped them from its epoll set.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "server/server.h"

int
listener_open(const struct config_listen *cl, struct listener **listener_out, char *err,
              size_t err_len)
{
    struct listener *l = calloc(1, sizeof(*l));
    int one = 1;
    int fd = -1;

    *listener_out = NULL;
    if (l == NULL)
        return GH_ENOMEM;
    l->text = strdup(cl->text);
    if (l->text == NULL) {
        free(l);
        return GH_ENOMEM;
    }
    fd = socket(cl->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* Accepted sockets inherit TCP_NODELAY from the listener (Linux): no
     * setsockopt per connection. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (cl->addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&cl->addr, cl->addr_len) != 0)
        goto fail;
    if (listen(fd, 4096) != 0)
        goto fail;
    l->ev_kind = EV_LISTENER;
    l->fd = fd;
    l->is_tls = cl->is_tls;
    l->ask_client_cert = cl->ask_client_cert;
    l->is_active = true;
    memcpy(&l->addr, &cl->addr, cl->addr_len);
    l->addr_len = cl->addr_len;
    *listener_out = l;
    return GH_OK;
fail:
    snprintf(err, err_len, "cannot listen on %s: %s", cl->text, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(l->text);
    free(l);
    return GH_EIO;
}

void
listener_apply_options(struct listener *l, const struct config *cfg)
{
    /* Seconds, rounded up; the kernel turns them into SYN-ACK retransmissions
     * and accepts a silent client's connection once they are spent. */
    int secs = (int)((cfg->tcp_defer_accept_ms + 999) / 1000);

    bool on = secs > 0;

    if (setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) != 0) {
        log_msg(cfg->error_log, LOG_WARN,
                "tcp_defer_accept on %s: %s (connections are accepted "
                "without waiting for their first bytes)",
                l->text, strerror(errno));
        on = false;
    }
    atomic_store_explicit(&l->defers_accept, on, memory_order_relaxed);
}

void
listener_close(struct listener *l)
{
    if (l == NULL)
        return;
    if (l->fd >= 0)
        close(l->fd);
    free(l->text);
    free(l);
}

void
listener_sync_worker(struct worker *w)
{
    struct gh_server *s = w->server;
    uint64_t bit = 1ull << w->id;

    pthread_mutex_lock(&s->lock);
    for (struct listener *l = s->listeners; l != NULL; l = l->next) {
        bool want = l->is_active && !w->is_stopping;
        bool has = (l->registered_mask & bit) != 0;
        if (want && !has) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = l};
            if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, l->fd, &ev) == 0)
                l->registered_mask |= bit;
        } else if (!want && has) {
            epoll_ctl(w->epfd, EPOLL_CTL_DEL, l->fd, NULL);
            l->registered_mask &= ~bit;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* How many connections to accept at this wake-up. The listener is
 * level-triggered, so one left in the backlog wakes the next epoll_wait again.
 * An isolated connection is accepted alone (nginx's default, multi_accept
 * off): looping to EAGAIN would cost an accept4 that fails, 2.8 us on a
 * virtual machine, a fifth of the kernel's share of an NTLM handshake. A
 * listener ready at two turns in a row is a burst: accept up to 64 then,
 * bounded so one busy listener cannot starve the loop. */
static int
accept_budget(struct worker *w)
{
    bool burst = w->accept_turn + 1 >= w->turn && w->accept_turn != 0;

    w->accept_turn = w->turn;
    return burst ? 64 : 1;
}

void
listener_accept(struct worker *w, struct listener *l)
{
    int budget = accept_budget(w);

    for (int i = 0; i < budget && !w->is_stopping && l->is_active; i++) {
        union {
            struct sockaddr sa;
            struct sockaddr_storage ss;
        } peer;
        socklen_t peer_len = sizeof(peer);
        int fd = accept4(l->fd, &peer.sa, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                struct config *cfg = server_config_get(w->server);
                log_msg(cfg->error_log, LOG_ERROR, "accept on %s: %s", l->text, strerror(errno));
                config_unref(cfg);
            }
            return;
        }
        conn_accepted(w, l, fd, &peer.sa, peer_len);
    }
}
