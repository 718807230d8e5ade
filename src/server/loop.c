// SPDX-License-Identifier: MIT
// One epoll loop per worker thread. Sockets are edge-triggered and registered
// once (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET): no epoll_ctl per request; the
// connection remembers readiness in read_ready/write_ready until a syscall says
// EAGAIN.
//
// Timers: a binary min-heap of connections keyed by heap_key. Deadlines move
// on every request, so the heap is lazy: moving a deadline later only updates
// conn->deadline_ms, and an expired heap entry whose connection has a later
// deadline is pushed back. Only an earlier deadline costs a sift.
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/clock.h"
#include "server/server.h"

#define MAX_EVENTS 128

void
worker_date_update(struct worker *w)
{
    clock_gettime(CLOCK_REALTIME, &w->now_real);
    time_t now = w->now_real.tv_sec;

    if (now != w->date_sec) {
        w->date_sec = now;
        w->date_len = h1_date_format(now, w->date);
    }
}

void
worker_post(struct worker *w, struct task *t)
{
    uint64_t one = 1;
    bool was_empty;

    t->next = NULL;
    pthread_mutex_lock(&w->lock);
    was_empty = w->posted_head == NULL;
    if (w->posted_tail != NULL)
        w->posted_tail->next = t;
    else
        w->posted_head = t;
    w->posted_tail = t;
    pthread_mutex_unlock(&w->lock);
    if (was_empty) {
        ssize_t n = write(w->wake_fd, &one, sizeof(one));
        (void)n; /* a full counter still wakes the loop */
    }
}

/* Unlinks t from w's posted queue if it is still there. Objects that embed a
 * task call this before they are freed or recycled, so a task posted from
 * another thread never runs on freed memory. */
void
worker_cancel(struct worker *w, struct task *t)
{
    struct task *prev = NULL;

    pthread_mutex_lock(&w->lock);
    for (struct task *cur = w->posted_head; cur != NULL; prev = cur, cur = cur->next) {
        if (cur != t)
            continue;
        if (prev != NULL)
            prev->next = cur->next;
        else
            w->posted_head = cur->next;
        if (w->posted_tail == cur)
            w->posted_tail = prev;
        break;
    }
    pthread_mutex_unlock(&w->lock);
}

/* Called once the worker's thread has ended: tasks still queued (a pool job
 * that finished after its worker stopped) are released, never run. */
void
worker_discard_posted(struct worker *w)
{
    struct task *t;

    pthread_mutex_lock(&w->lock);
    t = w->posted_head;
    w->posted_head = w->posted_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (t != NULL) {
        struct task *next = t->next;
        if (t->discard != NULL)
            t->discard(t);
        t = next;
    }
}

static void
run_posted(struct worker *w)
{
    uint64_t count;
    struct task *t;

    if (read(w->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&w->lock);
    t = w->posted_head;
    w->posted_head = w->posted_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (t != NULL) {
        struct task *next = t->next;
        t->run(t);
        t = next;
    }
}

/* ----------------------------------------------------------------- timers */

static void
heap_swap(struct worker *w, size_t i, size_t j)
{
    struct conn *a = w->heap[i];

    w->heap[i] = w->heap[j];
    w->heap[j] = a;
    w->heap[i]->heap_idx = i;
    w->heap[j]->heap_idx = j;
}

static void
heap_up(struct worker *w, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (w->heap[parent]->heap_key <= w->heap[i]->heap_key)
            break;
        heap_swap(w, i, parent);
        i = parent;
    }
}

static void
heap_down(struct worker *w, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->heap_len && w->heap[l]->heap_key < w->heap[m]->heap_key)
            m = l;
        if (r < w->heap_len && w->heap[r]->heap_key < w->heap[m]->heap_key)
            m = r;
        if (m == i)
            return;
        heap_swap(w, i, m);
        i = m;
    }
}

void
worker_timer_remove(struct worker *w, struct conn *c)
{
    size_t i = c->heap_idx;

    c->deadline_ms = 0;
    if (i == SIZE_MAX)
        return;
    w->heap_len--;
    if (i != w->heap_len) {
        w->heap[i] = w->heap[w->heap_len];
        w->heap[i]->heap_idx = i;
        heap_down(w, i);
        heap_up(w, i);
    }
    c->heap_idx = SIZE_MAX;
}

void
worker_timer_set(struct worker *w, struct conn *c, uint64_t deadline_ms)
{
    c->deadline_ms = deadline_ms;
    if (deadline_ms == 0)
        return; /* stays in the heap, dropped lazily when its key expires */
    if (c->heap_idx != SIZE_MAX) {
        if (deadline_ms < c->heap_key) {
            c->heap_key = deadline_ms;
            heap_up(w, c->heap_idx);
        }
        return;
    }
    if (w->heap_len == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 256;
        struct conn **grown = realloc(w->heap, cap * sizeof(*grown));
        if (grown == NULL)
            return; /* no timer: the connection will be reaped at shutdown */
        w->heap = grown;
        w->heap_cap = cap;
    }
    c->heap_key = deadline_ms;
    c->heap_idx = w->heap_len;
    w->heap[w->heap_len++] = c;
    heap_up(w, c->heap_idx);
}

static void
run_timers(struct worker *w)
{
    while (w->heap_len > 0 && w->heap[0]->heap_key <= w->now_ms) {
        struct conn *c = w->heap[0];
        uint64_t deadline = c->deadline_ms;
        worker_timer_remove(w, c);
        if (deadline == 0)
            continue;
        if (deadline > w->now_ms) {
            worker_timer_set(w, c, deadline);
            continue;
        }
        conn_on_timeout(c);
    }
}

static int
next_timeout_ms(const struct worker *w)
{
    uint64_t wait = 1000;

    if (w->heap_len > 0) {
        uint64_t key = w->heap[0]->heap_key;
        wait = key <= w->now_ms ? 0 : key - w->now_ms;
    }
    if (w->is_stopping) {
        uint64_t left = w->stop_deadline_ms > w->now_ms ? w->stop_deadline_ms - w->now_ms : 0;
        if (left < wait)
            wait = left;
        if (wait > 100)
            wait = 100;
    }
    return wait > 1000 ? 1000 : (int)wait;
}

/* ---------------------------------------------------------------- shutdown */

static void
begin_stop(struct worker *w)
{
    struct config *cfg = server_config_get(w->server);

    w->is_stopping = true;
    w->stop_deadline_ms = w->now_ms + cfg->shutdown_timeout_ms;
    config_unref(cfg);
    listener_sync_worker(w); /* deregisters every listener */
    /* Idle keep-alive connections go at once; busy ones close after their
     * current response (conn_run checks is_stopping). */
    for (struct conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state == CONN_IDLE || c->state == CONN_HANDSHAKE)
            conn_abort(c);
    }
}

static bool
finished(struct worker *w)
{
    /* A pool job's completion must run on this loop: wait for it even when its
     * connection has gone (it owns module state such as a proxy exchange). */
    if (w->conn_count == 0 && w->jobs_in_flight == 0)
        return true;
    if (w->now_ms < w->stop_deadline_ms)
        return false;
    if (!w->is_forcing) {
        w->is_forcing = true;
        log_msg(NULL, LOG_WARN, "shutdown deadline: closing %zu connection%s", w->conn_count,
                w->conn_count == 1 ? "" : "s");
        for (struct conn *c = w->conns, *next; c != NULL; c = next) {
            next = c->next;
            conn_abort(c);
        }
    }
    /* Pending requests keep their connection object until they resume. */
    return (w->conn_count == 0 && w->jobs_in_flight == 0) ||
           w->now_ms >= w->stop_deadline_ms + 1000;
}

/* A TLS handshake allocates several times what the connection keeps (handshake
 * buffers, key shares, certificate chains). When many run at once, the freed
 * parts sit between the SSL objects that stay, in pages malloc cannot give back
 * by itself: ~8 KB per idle connection after a burst of 200 concurrent
 * handshakes, a third of its RSS (bench/vs-h2o, idle phase). Once the worker
 * has nothing to do for a whole wait (epoll_wait timed out: at most a second),
 * malloc_trim() returns the free pages of every arena to the kernel. Never on a
 * busy worker, only after handshakes, at most once a second (it walks and locks
 * every arena). */
static void
trim_after_handshakes(struct worker *w)
{
    w->handshakes_since_trim = 0;
    w->last_trim_ms = w->now_ms;
    malloc_trim(0);
}

void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event events[MAX_EVENTS];
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
    w->now_ms = clock_monotonic_ms();
    worker_date_update(w);
    listener_sync_worker(w);
    for (;;) {
        if (!w->is_stopping && atomic_load(&w->server->stop_requested))
            begin_stop(w);
        if (w->is_stopping && finished(w))
            break;
        int n = epoll_wait(w->epfd, events, MAX_EVENTS, next_timeout_ms(w));
        w->turn++;
        if (n < 0 && errno != EINTR)
            break;
        w->now_ms = clock_monotonic_ms();
        worker_date_update(w);
        for (int i = 0; i < n; i++) {
            uint8_t kind = *(uint8_t *)events[i].data.ptr;
            if (kind == EV_CONN)
                conn_on_event(events[i].data.ptr, events[i].events);
            else if (kind == EV_LISTENER)
                listener_accept(w, events[i].data.ptr);
            else
                run_posted(w);
        }
        run_timers(w);
        worker_access_flush(w);
        if (n == 0 && w->handshakes_since_trim > 0 && w->now_ms - w->last_trim_ms >= 1000)
            trim_after_handshakes(w);
    }
    worker_access_flush(w);
    buf_free(&w->access_buf);
    atomic_fetch_sub(&w->server->live_workers, 1);
    return NULL;
}
