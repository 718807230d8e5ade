// SPDX-License-Identifier: MIT
// Per-address limiter. A fixed array searched linearly under one mutex: with
// the default 1024 addresses a scan costs about a microsecond, far below a
// handshake, and the table can never grow under attack. When it is full the
// least recently seen address without handshakes in progress is reused; an
// attacker with many addresses can make us forget failures (not bypass the
// in-progress cap of addresses still present), which is the price of a bound.
#include "auth/limiter.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#define ADDR_MAX_BYTES 64

struct limiter_entry {
    char addr[ADDR_MAX_BYTES];
    size_t addr_len;
    unsigned in_progress;
    unsigned failures;
    uint64_t last_fail_ms;
    uint64_t blocked_until_ms;
    uint64_t last_seen_ms;
    bool is_used;
};

struct limiter {
    struct limiter_params p;
    pthread_mutex_t lock;
    struct limiter_entry *entries;
};

int
limiter_create(const struct limiter_params *p, struct limiter **out)
{
    struct limiter *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (l == NULL)
        return GH_ENOMEM;
    l->p = p != NULL ? *p : (struct limiter_params){0};
    l->p.max_addresses = l->p.max_addresses ? l->p.max_addresses : 1024;
    l->p.max_in_progress = l->p.max_in_progress ? l->p.max_in_progress : 16;
    l->p.fail_threshold = l->p.fail_threshold ? l->p.fail_threshold : 5;
    l->p.backoff_ms = l->p.backoff_ms ? l->p.backoff_ms : 1000;
    l->p.max_backoff_ms = l->p.max_backoff_ms ? l->p.max_backoff_ms : 60000;
    l->p.fail_window_ms = l->p.fail_window_ms ? l->p.fail_window_ms : 300000;
    l->entries = calloc(l->p.max_addresses, sizeof(*l->entries));
    if (l->entries == NULL) {
        free(l);
        return GH_ENOMEM;
    }
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return GH_OK;
}

void
limiter_set_backoff(struct limiter *l, unsigned fail_threshold, unsigned max_backoff_ms,
                    unsigned fail_window_ms)
{
    pthread_mutex_lock(&l->lock);
    l->p.fail_threshold = fail_threshold ? fail_threshold : 5;
    l->p.max_backoff_ms = max_backoff_ms ? max_backoff_ms : 60000;
    l->p.fail_window_ms = fail_window_ms ? fail_window_ms : 300000;
    pthread_mutex_unlock(&l->lock);
}

void
limiter_destroy(struct limiter *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l->entries);
    free(l);
}

/* Finds addr, or claims a slot for it when create is true. Called locked. */
static struct limiter_entry *
find(struct limiter *l, struct slice addr, bool create, uint64_t now_ms)
{
    struct limiter_entry *free_slot = NULL, *oldest = NULL;

    if (addr.len > ADDR_MAX_BYTES)
        addr.len = ADDR_MAX_BYTES; /* longer texts are not addresses; share a slot */
    for (size_t i = 0; i < l->p.max_addresses; i++) {
        struct limiter_entry *e = &l->entries[i];
        if (!e->is_used) {
            if (free_slot == NULL)
                free_slot = e;
            continue;
        }
        if (e->addr_len == addr.len && memcmp(e->addr, addr.ptr, addr.len) == 0) {
            if (now_ms != 0)
                e->last_seen_ms = now_ms;
            return e;
        }
        if (e->in_progress == 0 && (oldest == NULL || e->last_seen_ms < oldest->last_seen_ms))
            oldest = e;
    }
    if (!create)
        return NULL;
    struct limiter_entry *e = free_slot != NULL ? free_slot : oldest;
    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof(*e));
    memcpy(e->addr, addr.ptr, addr.len);
    e->addr_len = addr.len;
    e->last_seen_ms = now_ms;
    e->is_used = true;
    return e;
}

int
limiter_check(struct limiter *l, struct slice addr, uint64_t now_ms, uint64_t *retry_ms_out)
{
    int rc = GH_OK;

    *retry_ms_out = 0;
    pthread_mutex_lock(&l->lock);
    struct limiter_entry *e = find(l, addr, false, now_ms);
    if (e != NULL && e->blocked_until_ms > now_ms) {
        *retry_ms_out = e->blocked_until_ms - now_ms;
        rc = GH_EBUSY;
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}

int
limiter_begin(struct limiter *l, struct slice addr, uint64_t now_ms)
{
    int rc = GH_OK;

    pthread_mutex_lock(&l->lock);
    struct limiter_entry *e = find(l, addr, true, now_ms);
    if (e == NULL)
        rc = GH_ENOTFOUND; /* every slot has handshakes in progress: untracked,
                            * or an attacker with that many addresses (an IPv6
                            * /64) would lock every other client out */
    else if (e->in_progress >= l->p.max_in_progress)
        rc = GH_EBUSY;
    else
        e->in_progress++;
    pthread_mutex_unlock(&l->lock);
    return rc;
}

void
limiter_end(struct limiter *l, struct slice addr)
{
    pthread_mutex_lock(&l->lock);
    struct limiter_entry *e = find(l, addr, false, 0);
    if (e != NULL && e->in_progress > 0)
        e->in_progress--;
    pthread_mutex_unlock(&l->lock);
}

void
limiter_fail(struct limiter *l, struct slice addr, uint64_t now_ms)
{
    pthread_mutex_lock(&l->lock);
    struct limiter_entry *e = find(l, addr, true, now_ms);
    if (e != NULL) {
        if (now_ms - e->last_fail_ms > l->p.fail_window_ms)
            e->failures = 0;
        e->failures++;
        e->last_fail_ms = now_ms;
        if (e->failures >= l->p.fail_threshold) {
            unsigned extra = e->failures - l->p.fail_threshold;
            uint64_t backoff = l->p.backoff_ms;
            for (unsigned i = 0; i < extra && backoff < l->p.max_backoff_ms; i++)
                backoff *= 2;
            if (backoff > l->p.max_backoff_ms)
                backoff = l->p.max_backoff_ms;
            e->blocked_until_ms = now_ms + backoff;
        }
    }
    pthread_mutex_unlock(&l->lock);
}

/* A success does not erase the address's failures: they may be guesses at
 * other accounts, and one valid account would otherwise reset the count
 * between guesses forever. Failures age out with fail_window_ms instead. */
void
limiter_success(struct limiter *l, struct slice addr)
{
    (void)l;
    (void)addr;
}
