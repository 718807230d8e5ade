// SPDX-License-Identifier: MIT
// metrics.c: status classes, reasons as auth/reason.h codes, histogram
// buckets and the sum over workers in the exposition.
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "server/metrics.h"

static bool
has_line(const struct buf *b, const char *line)
{
    char want[256];
    snprintf(want, sizeof(want), "\n%s\n", line);
    size_t n = strlen(want);
    for (size_t i = 0; i + n <= b->len; i++) {
        if (memcmp(b->data + i, want, n) == 0)
            return true;
    }
    return false;
}

static void
test_render_sums_workers(void)
{
    static struct metrics m[2];
    struct metrics_gauges g = {.pool_queue_depth = 3,
                               .pool_queue_max = 256,
                               .worker_count = 2,
                               .krb_ticket_cache_hits = 7,
                               .krb_ticket_cache_misses = 1};
    struct buf out;

    memset(m, 0, sizeof(m));
    metrics_request(&m[0], 200);
    metrics_request(&m[1], 204);
    metrics_request(&m[1], 503);
    metrics_request(&m[0], 42); /* not a status: "other" */
    metrics_inc(&m[0].hs_started[AUTH_SCHEME_NTLM]);
    metrics_inc(&m[1].hs_started[AUTH_SCHEME_NTLM]);
    metrics_handshake_end(&m[0], AUTH_SCHEME_NTLM, true, AUTH_REASON_OK, 800);
    metrics_handshake_end(&m[1], AUTH_SCHEME_NTLM, false, AUTH_REASON_KERBEROS_KEYTAB_KVNO,
                          30000000);
    metrics_handshake_end(&m[1], METRICS_SCHEMES, true, AUTH_REASON_OK, 1); /* ignored */
    metrics_inc(&m[1].conns_accepted);
    metrics_inc(&m[1].conns_accepted);
    metrics_inc(&m[0].conns_closed);
    buf_init(&out, 1 << 20);
    CHECK_EQ(metrics_render(m, 2, &g, &out), GH_OK);
    CHECK(has_line(&out, "gatehouse_requests_total{class=\"2xx\"} 2"));
    CHECK(has_line(&out, "gatehouse_requests_total{class=\"5xx\"} 1"));
    CHECK(has_line(&out, "gatehouse_requests_total{class=\"other\"} 1"));
    CHECK(has_line(&out, "gatehouse_connections_open 1"));
    CHECK(has_line(&out, "gatehouse_auth_handshakes_started_total{scheme=\"NTLM\"} 2"));
    CHECK(has_line(&out, "gatehouse_auth_handshakes_completed_total{scheme=\"NTLM\"} 1"));
    CHECK(has_line(&out, "gatehouse_auth_handshakes_failed_total{scheme=\"NTLM\",reason="
                         "\"kerberos_keytab_kvno\"} 1"));
    /* 0.8 ms falls in the first bucket; 30 s only in +Inf */
    CHECK(has_line(&out, "gatehouse_auth_handshake_duration_seconds_bucket{scheme=\"NTLM\","
                         "le=\"0.001\"} 1"));
    CHECK(has_line(&out, "gatehouse_auth_handshake_duration_seconds_bucket{scheme=\"NTLM\","
                         "le=\"10\"} 1"));
    CHECK(has_line(&out, "gatehouse_auth_handshake_duration_seconds_bucket{scheme=\"NTLM\","
                         "le=\"+Inf\"} 2"));
    CHECK(has_line(&out, "gatehouse_auth_handshake_duration_seconds_count{scheme=\"NTLM\"} 2"));
    CHECK(has_line(&out, "gatehouse_blocking_pool_queue_depth 3"));
    CHECK(has_line(&out, "gatehouse_auth_kerberos_ticket_cache_hits_total 7"));
    CHECK(has_line(&out, "gatehouse_auth_kerberos_ticket_cache_misses_total 1"));
    CHECK(out.len > 0 && out.data[out.len - 1] == '\n');
    buf_free(&out);
    /* A full output buffer is reported, never cut silently. */
    buf_init(&out, 64);
    CHECK(metrics_render(m, 2, &g, &out) != GH_OK);
    buf_free(&out);
}

int
main(void)
{
    test_render_sums_workers();
    return check_done("test_metrics");
}
