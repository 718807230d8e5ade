// SPDX-License-Identifier: MIT
// gatehouse bench: a load generator that makes real handshakes (docs/bench.md).
// Internal interfaces shared by the bench_*.c files:
//   bench.c       options, threads, the progress line, the report (text, JSON)
//   bench_fast.c  plain keep-alive requests without authentication: one epoll
//                 loop per thread over non-blocking sockets (wrk's design)
//   bench_conn.c  everything else (TLS, --new-conn, authentication): one thread
//                 per connection, blocking, through fetch's client code
#ifndef GH_CLI_BENCH_H
#define GH_CLI_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/fetch.h"

enum bench_error {
    BENCH_ERR_CONNECT, /* TCP connect refused / failed */
    BENCH_ERR_TLS,     /* TLS handshake or verification */
    BENCH_ERR_READ,    /* closed early, malformed or oversized response, I/O error */
    BENCH_ERR_TIMEOUT, /* no complete response within --timeout */
    BENCH_ERR_AUTH,    /* authentication refused (401 after the last leg, SSPI error) */
    BENCH_ERR_4XX,     /* a final status 400-499 (401 only when --auth none) */
    BENCH_ERR_5XX,     /* a final status 500-599 */
    BENCH_ERR_COUNT
};

/* Latency histogram in microseconds: exact below 64, then 32 buckets per
 * power of two (3% resolution) up to 2^40 µs. */
#define BENCH_HIST_BUCKETS (64 + 35 * 32)

struct bench_stats {
    uint64_t requests;   /* completed, successfully or not */
    uint64_t ok;         /* final status < 400 */
    uint64_t handshakes; /* connections set up (auth none) or authentications completed */
    uint64_t errors[BENCH_ERR_COUNT];
    uint64_t hist[BENCH_HIST_BUCKETS];
    uint64_t max_us;
};

struct bench_opts {
    const char *url_text;
    struct fetch_url url;
    enum fetch_auth_mode auth;
    const char *user;     /* NULL: default credentials */
    const char *password; /* borrowed */
    struct fetch_tls_opts tls;
    unsigned connections;
    unsigned threads;
    uint64_t max_requests; /* -n; 0: none (then -d bounds the run) */
    double duration_s;     /* -d; 0: none (then -n bounds the run) */
    bool new_conn;
    bool preemptive; /* the first request of a connection carries credentials */
    bool json;
    int timeout_ms;
};

/* State shared by all threads of a run. */
struct bench_run {
    const struct bench_opts *opts;
    atomic_uint_fast64_t claimed; /* requests started (bounded by max_requests) */
    atomic_bool stop;             /* deadline reached or interrupted */
    uint64_t deadline_ns;         /* monotonic; UINT64_MAX without -d */
    /* live counters for the progress line (relaxed) */
    atomic_uint_fast64_t live_requests, live_handshakes, live_errors;
};

/* Takes the right to start one more request: false once -n requests were
 * started, the deadline passed or the run was stopped. */
bool bench_claim(struct bench_run *run, uint64_t now_ns);
/* Whether bench_claim may still succeed (claims nothing). */
bool bench_more(struct bench_run *run, uint64_t now_ns);
uint64_t bench_now_ns(void);
/* Records one finished request of the calling thread: a response (a status
 * >= 400 counts as an error of its class too), or a failure. Every claimed
 * request ends in exactly one of the two. */
void bench_record(struct bench_run *run, struct bench_stats *st, uint64_t latency_ns, int status);
void bench_record_error(struct bench_run *run, struct bench_stats *st, enum bench_error kind);
void bench_record_handshake(struct bench_run *run, struct bench_stats *st);

/* bench_fast.c: one thread of the epoll engine with `conns` connections.
 * Returns when the run is over and its connections are idle or closed. */
void bench_fast_thread(struct bench_run *run, unsigned conns, struct bench_stats *st);

/* bench_conn.c: one connection's thread (blocking, through fetch's code). */
void bench_conn_thread(struct bench_run *run, struct bench_stats *st);

#endif
