// SPDX-License-Identifier: MIT
// The server's counters (issue 11, "Observability"), read by the status module.
//
// One struct metrics per worker loop, inside struct worker: only that loop's
// thread writes it (plain load + store of relaxed atomics: no lock, no locked
// read-modify-write on the request path), any thread may read it (a scrape
// sums every worker's copy). A counter read during a scrape may miss the
// increments of the current loop turn; it never goes backwards.
#ifndef GH_SERVER_METRICS_H
#define GH_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/http.h>

#include "auth/engine.h"
#include "auth/reason.h"
#include "base/buf.h"

/* Schemes: enum auth_scheme, then the client-certificate mapping. */
#define METRICS_SCHEME_CERT   AUTH_SCHEME_COUNT
#define METRICS_SCHEMES       (AUTH_SCHEME_COUNT + 1)
#define METRICS_STATUS_OTHER  0 /* requests[]: 1..5 are 1xx..5xx */
#define METRICS_STATUS_SLOTS  6
#define METRICS_LATENCY_SLOTS 13 /* 12 finite bucket bounds + Inf */

struct metrics {
    _Atomic uint64_t requests[METRICS_STATUS_SLOTS];
    _Atomic uint64_t conns_accepted;
    _Atomic uint64_t conns_closed;
    _Atomic uint64_t hs_started[METRICS_SCHEMES];
    _Atomic uint64_t hs_completed[METRICS_SCHEMES];
    _Atomic uint64_t hs_failed[METRICS_SCHEMES][AUTH_REASON_COUNT];      /* auth/reason.h */
    _Atomic uint64_t hs_latency[METRICS_SCHEMES][METRICS_LATENCY_SLOTS]; /* not cumulative */
    _Atomic uint64_t hs_latency_sum_us[METRICS_SCHEMES];
    _Atomic uint64_t basic_cache_hits;
    _Atomic uint64_t basic_cache_misses;
    _Atomic uint64_t backoff_refusals;
    _Atomic uint64_t pool_refusals; /* 503: the blocking pool's queue was full */
    /* Keeps the next worker's hot fields off the last counters' cache line. */
    char pad[64];
};

/* Adds one; only the owning loop's thread may call it. */
static inline void
metrics_inc(_Atomic uint64_t *counter)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline void
metrics_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Counts one answered request by its status class (loop thread). */
void metrics_request(struct metrics *m, int status);
/* Counts one handshake that ended after latency_us (loop thread); reason (the
 * audit line's, auth/reason.h: a bounded set) is used when is_success is false;
 * out of range counts as AUTH_REASON_INTERNAL_ERROR. */
void metrics_handshake_end(struct metrics *m, unsigned scheme, bool is_success,
                           enum auth_reason reason, uint64_t latency_us);

/* A snapshot of every counter, summed over n per-worker structs, plus the
 * gauges the server reads at scrape time. */
struct metrics_gauges {
    uint64_t pool_queue_depth;
    uint64_t pool_queue_max;
    unsigned worker_count;
    /* The Kerberos package's process-wide ticket cache counters
     * (kerberos_ticket_cache_counts), read at scrape time. */
    uint64_t krb_ticket_cache_hits;
    uint64_t krb_ticket_cache_misses;
};
/* Appends the Prometheus text exposition (format 0.0.4) of the sum of
 * m[0..n) and g to out. GH_OK, GH_ENOMEM or GH_ELIMIT (out's maximum). */
int metrics_render(const struct metrics *m, size_t n, const struct metrics_gauges *g,
                   struct buf *out);
/* The server's whole exposition for req (any worker's loop thread): sums every
 * worker of req's server. Used by the status module. Same returns. */
int metrics_render_request(const gh_request *req, struct buf *out);

#endif
