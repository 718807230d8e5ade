// SPDX-License-Identifier: MIT
// The server's counters and their Prometheus text exposition (format 0.0.4).
// Why per-worker structs summed at scrape time: the request path then never
// shares a cache line with another thread's writes and takes no lock; a
// scrape is rare and reads N small structs.
#include "server/metrics.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "server/server.h"
#include "sspi/kerberos/kerberos.h"

/* Upper bounds of the handshake latency buckets, in microseconds (the
 * exposition prints them in seconds). Fixed: a histogram's buckets must not
 * change between scrapes. */
static const uint64_t latency_bounds_us[METRICS_LATENCY_SLOTS - 1] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000,
};

static const char *const scheme_labels[METRICS_SCHEMES] = {
    "Negotiate", "NTLM", "Kerberos", "CredSSP", "Digest", "Basic", "Certificate",
};

void
metrics_request(struct metrics *m, int status)
{
    unsigned slot = status >= 100 && status <= 599 ? (unsigned)status / 100 : METRICS_STATUS_OTHER;
    metrics_inc(&m->requests[slot]);
}

void
metrics_handshake_end(struct metrics *m, unsigned scheme, bool is_success, enum auth_reason reason,
                      uint64_t latency_us)
{
    size_t b = 0;

    if (scheme >= METRICS_SCHEMES)
        return;
    if ((unsigned)reason >= AUTH_REASON_COUNT)
        reason = AUTH_REASON_INTERNAL_ERROR;
    if (is_success)
        metrics_inc(&m->hs_completed[scheme]);
    else
        metrics_inc(&m->hs_failed[scheme][reason]);
    while (b < METRICS_LATENCY_SLOTS - 1 && latency_us > latency_bounds_us[b])
        b++;
    metrics_inc(&m->hs_latency[scheme][b]);
    metrics_add(&m->hs_latency_sum_us[scheme], latency_us);
}

static uint64_t
get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* The sum of one counter over every worker: off is the counter's offset in
 * struct metrics. */
static uint64_t
sum(const struct metrics *m, size_t n, size_t off)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += get((const _Atomic uint64_t *)((const char *)&m[i] + off));
    return total;
}

#define SUM(field) sum(m, n, offsetof(struct metrics, field))

static int
head(struct buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
render_requests(const struct metrics *m, size_t n, struct buf *out)
{
    static const char *const classes[METRICS_STATUS_SLOTS] = {"other", "1xx", "2xx",
                                                              "3xx",   "4xx", "5xx"};
    int err =
        head(out, "gatehouse_requests_total", "counter", "Requests answered, by status class.");
    for (size_t i = 0; err == GH_OK && i < METRICS_STATUS_SLOTS; i++)
        err = buf_printf(out, "gatehouse_requests_total{class=\"%s\"} %llu\n", classes[i],
                         (unsigned long long)SUM(requests[i]));
    uint64_t accepted = SUM(conns_accepted), closed = SUM(conns_closed);
    if (err == GH_OK)
        err = head(out, "gatehouse_connections_accepted_total", "counter", "Connections accepted.");
    if (err == GH_OK)
        err = buf_printf(out, "gatehouse_connections_accepted_total %llu\n",
                         (unsigned long long)accepted);
    if (err == GH_OK)
        err = head(out, "gatehouse_connections_open", "gauge", "Connections open now.");
    /* Two independent relaxed reads: closed may be newer than accepted. */
    if (err == GH_OK)
        err = buf_printf(out, "gatehouse_connections_open %llu\n",
                         (unsigned long long)(accepted > closed ? accepted - closed : 0));
    return err;
}

static int
render_handshakes(const struct metrics *m, size_t n, struct buf *out)
{
    int err = head(out, "gatehouse_auth_handshakes_started_total", "counter",
                   "Authentications started (first leg), by scheme.");
    for (size_t s = 0; err == GH_OK && s < METRICS_SCHEMES; s++)
        err = buf_printf(out, "gatehouse_auth_handshakes_started_total{scheme=\"%s\"} %llu\n",
                         scheme_labels[s], (unsigned long long)SUM(hs_started[s]));
    if (err == GH_OK)
        err = head(out, "gatehouse_auth_handshakes_completed_total", "counter",
                   "Authentications that succeeded, by scheme.");
    for (size_t s = 0; err == GH_OK && s < METRICS_SCHEMES; s++)
        err = buf_printf(out, "gatehouse_auth_handshakes_completed_total{scheme=\"%s\"} %llu\n",
                         scheme_labels[s], (unsigned long long)SUM(hs_completed[s]));
    if (err == GH_OK)
        err = head(out, "gatehouse_auth_handshakes_failed_total", "counter",
                   "Authentications that failed, by scheme and reason.");
    for (size_t s = 0; err == GH_OK && s < METRICS_SCHEMES; s++) {
        for (size_t r = 0; err == GH_OK && r < AUTH_REASON_COUNT; r++) {
            uint64_t v = SUM(hs_failed[s][r]);
            if (v == 0)
                continue; /* most pairs never happen: keep the page short */
            err = buf_printf(out,
                             "gatehouse_auth_handshakes_failed_total{scheme=\"%s\",reason=\"%s\"}"
                             " %llu\n",
                             scheme_labels[s], auth_reason_code((enum auth_reason)r),
                             (unsigned long long)v);
        }
    }
    return err;
}

static int
render_latency(const struct metrics *m, size_t n, struct buf *out)
{
    const char *name = "gatehouse_auth_handshake_duration_seconds";
    int err = head(out, name, "histogram",
                   "Time from an authentication's first leg to its outcome, by scheme.");

    for (size_t s = 0; err == GH_OK && s < METRICS_SCHEMES; s++) {
        uint64_t cumulative = 0;
        for (size_t b = 0; err == GH_OK && b < METRICS_LATENCY_SLOTS; b++) {
            cumulative += SUM(hs_latency[s][b]);
            if (b < METRICS_LATENCY_SLOTS - 1)
                err = buf_printf(out, "%s_bucket{scheme=\"%s\",le=\"%g\"} %llu\n", name,
                                 scheme_labels[s], (double)latency_bounds_us[b] / 1e6,
                                 (unsigned long long)cumulative);
            else
                err = buf_printf(out, "%s_bucket{scheme=\"%s\",le=\"+Inf\"} %llu\n", name,
                                 scheme_labels[s], (unsigned long long)cumulative);
        }
        if (err == GH_OK)
            err = buf_printf(out, "%s_sum{scheme=\"%s\"} %.6f\n%s_count{scheme=\"%s\"} %llu\n",
                             name, scheme_labels[s], (double)SUM(hs_latency_sum_us[s]) / 1e6, name,
                             scheme_labels[s], (unsigned long long)cumulative);
    }
    return err;
}

static int
render_one(struct buf *out, const char *name, const char *type, const char *help, uint64_t v)
{
    int err = head(out, name, type, help);
    if (err == GH_OK)
        err = buf_printf(out, "%s %llu\n", name, (unsigned long long)v);
    return err;
}

int
metrics_render(const struct metrics *m, size_t n, const struct metrics_gauges *g, struct buf *out)
{
    int err = render_requests(m, n, out);
    if (err == GH_OK)
        err = render_handshakes(m, n, out);
    if (err == GH_OK)
        err = render_latency(m, n, out);
    if (err == GH_OK)
        err = render_one(out, "gatehouse_auth_basic_cache_hits_total", "counter",
                         "Basic credentials found in the verified-credentials cache.",
                         SUM(basic_cache_hits));
    if (err == GH_OK)
        err = render_one(out, "gatehouse_auth_basic_cache_misses_total", "counter",
                         "Basic credentials verified against the user store or the KDC.",
                         SUM(basic_cache_misses));
    if (err == GH_OK)
        err = render_one(out, "gatehouse_auth_kerberos_ticket_cache_hits_total", "counter",
                         "Kerberos handshakes whose service ticket was in the identity cache.",
                         g->krb_ticket_cache_hits);
    if (err == GH_OK)
        err = render_one(out, "gatehouse_auth_kerberos_ticket_cache_misses_total", "counter",
                         "Kerberos handshakes whose client name and PAC were read from MIT.",
                         g->krb_ticket_cache_misses);
    if (err == GH_OK)
        err = render_one(out, "gatehouse_auth_backoff_refusals_total", "counter",
                         "Requests answered 429 because their address was in backoff.",
                         SUM(backoff_refusals));
    if (err == GH_OK)
        err = render_one(out, "gatehouse_blocking_pool_refusals_total", "counter",
                         "Requests answered 503 because the blocking pool's queue was full.",
                         SUM(pool_refusals));
    if (err == GH_OK)
        err = render_one(out, "gatehouse_blocking_pool_queue_depth", "gauge",
                         "Jobs waiting for a blocking-pool thread.", g->pool_queue_depth);
    if (err == GH_OK)
        err = render_one(out, "gatehouse_blocking_pool_queue_max", "gauge",
                         "The blocking pool's queue limit (blocking_queue).", g->pool_queue_max);
    if (err == GH_OK)
        err = render_one(out, "gatehouse_workers", "gauge", "Event-loop threads.", g->worker_count);
    return err;
}

int
metrics_render_request(const gh_request *req, struct buf *out)
{
    const struct gh_server *s = req->worker->server;
    struct metrics_gauges g = {.worker_count = s->worker_count};
    struct metrics *m = NULL;
    int err;

    pool_stats(s->pool, &g.pool_queue_depth, &g.pool_queue_max);
    kerberos_ticket_cache_counts(&g.krb_ticket_cache_hits, &g.krb_ticket_cache_misses);
    /* struct worker is far larger than struct metrics: gather the copies into
     * one array so metrics_render reads them like the unit tests do. */
    m = calloc(s->worker_count, sizeof(*m));
    if (m == NULL)
        return GH_ENOMEM;
    for (unsigned i = 0; i < s->worker_count; i++) {
        const struct metrics *src = &s->workers[i].metrics;
        for (size_t off = 0; off < offsetof(struct metrics, pad); off += sizeof(uint64_t)) {
            _Atomic uint64_t *dst = (_Atomic uint64_t *)((char *)&m[i] + off);
            atomic_store_explicit(dst, get((const _Atomic uint64_t *)((const char *)src + off)),
                                  memory_order_relaxed);
        }
    }
    err = metrics_render(m, s->worker_count, &g, out);
    free(m);
    return err;
}
