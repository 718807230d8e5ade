// SPDX-License-Identifier: MIT
// gatehouse bench URL [options]: a load generator that makes real handshakes
// (docs/bench.md). This file: options, the threads of a run, the live
// progress line, and the report (requests/s, handshakes/s, latency
// percentiles from a histogram, errors by kind; text or --json).
#include "cli/bench.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <gatehouse/error.h>

#include "base/banned.h"
#include "base/secret.h"
#include "cli/cli.h"

#define MAX_CONNECTIONS 10000u /* the epoll path; one thread each on the other: */
#define MAX_BLOCKING    1000u
#define THREAD_STACK    (512 * 1024)
#define MAX_THREADS     64u
#define MAX_DURATION_S  3600.0
#define MAX_REQUESTS    1000000000ull
#define PASSWORD_BYTES  1024

static const char *const error_names[BENCH_ERR_COUNT] = {
    "connect", "tls", "read", "timeout", "auth", "status_4xx", "status_5xx",
};

static atomic_bool interrupted;

static void
on_interrupt(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

uint64_t
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool
bench_more(struct bench_run *run, uint64_t now_ns)
{
    uint64_t max = run->opts->max_requests;

    return !atomic_load_explicit(&run->stop, memory_order_relaxed) && now_ns < run->deadline_ns &&
           (max == 0 || atomic_load_explicit(&run->claimed, memory_order_relaxed) < max);
}

bool
bench_claim(struct bench_run *run, uint64_t now_ns)
{
    uint64_t max = run->opts->max_requests;

    if (atomic_load_explicit(&run->stop, memory_order_relaxed) || now_ns >= run->deadline_ns)
        return false;
    if (max == 0)
        return true;
    if (atomic_fetch_add_explicit(&run->claimed, 1, memory_order_relaxed) < max)
        return true;
    atomic_fetch_sub_explicit(&run->claimed, 1, memory_order_relaxed);
    return false;
}

static size_t
hist_index(uint64_t us)
{
    if (us < 64)
        return (size_t)us;
    int e = 63 - __builtin_clzll(us); /* 6.. */
    if (e > 40)
        return BENCH_HIST_BUCKETS - 1;
    return 64 + (size_t)(e - 6) * 32 + (size_t)((us >> (e - 5)) & 31);
}

/* The middle of bucket i, in microseconds. */
static double
hist_value(size_t i)
{
    if (i < 64)
        return (double)i;
    size_t e = (i - 64) / 32 + 6, sub = (i - 64) % 32;
    double lo = (double)((32 + sub) << (e - 5));
    return lo + (double)(1ull << (e - 5)) / 2;
}

void
bench_record(struct bench_run *run, struct bench_stats *st, uint64_t latency_ns, int status)
{
    uint64_t us = latency_ns / 1000;

    st->requests++;
    st->hist[hist_index(us)]++;
    if (us > st->max_us)
        st->max_us = us;
    if (status >= 500) {
        st->errors[BENCH_ERR_5XX]++;
    } else if (status >= 400) {
        st->errors[BENCH_ERR_4XX]++;
    } else {
        st->ok++;
        atomic_fetch_add_explicit(&run->live_requests, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&run->live_requests, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&run->live_errors, 1, memory_order_relaxed);
}

void
bench_record_error(struct bench_run *run, struct bench_stats *st, enum bench_error kind)
{
    st->requests++;
    st->errors[kind]++;
    atomic_fetch_add_explicit(&run->live_requests, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&run->live_errors, 1, memory_order_relaxed);
}

void
bench_record_handshake(struct bench_run *run, struct bench_stats *st)
{
    st->handshakes++;
    atomic_fetch_add_explicit(&run->live_handshakes, 1, memory_order_relaxed);
}

/* ---- Options --------------------------------------------------------------- */

static void
usage(FILE *out)
{
    fputs("usage: gatehouse bench URL [options]\n"
          "\n"
          "Sends GET requests to URL from several connections and reports requests/s,\n"
          "handshakes/s, latency percentiles and errors by kind. The run is bounded by\n"
          "-n or -d (10 s when neither is given).\n"
          "\n"
          "  --auth MODE        negotiate|ntlm|kerberos|digest|basic|none (default none):\n"
          "                     answer 401s like `gatehouse fetch --auth MODE`\n"
          "  -u USER[:PASSWORD] credentials (default: the Kerberos ccache, $NTLM_USER_FILE);\n"
          "                     without :PASSWORD it is asked for\n"
          "  -c N               connections (1..10000, default 10; at most 1000 with TLS,\n"
          "                     --new-conn or --auth: one thread each)\n"
          "  -n N               requests in all (1..1000000000)\n"
          "  -d SECONDS         duration (0.1..3600)\n"
          "  --new-conn         a new connection (and handshake) for every request\n"
          "  --preemptive       send the first Authorization without waiting for a 401\n"
          "                     (ntlm, negotiate, kerberos, basic), as curl --ntlm does\n"
          "  --threads N        event-loop threads of the plain keep-alive path (1..64,\n"
          "                     default 1); the other paths use one thread per connection\n"
          "  --insecure         https: do not verify the server's certificate\n"
          "  --cacert FILE      https: trust these CAs instead of the system's\n"
          "  --timeout SECONDS  per request, connect and handshake included (default 10)\n"
          "  --json             the report as one JSON object, no progress line\n"
          "\n"
          "Exit status: 0 when every request succeeded, 1 when some failed, 2 usage.\n",
          out);
}

static bool
parse_uint(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;

    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool
parse_seconds(const char *text, double lo, double hi, double *out)
{
    char *end = NULL;

    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

/* GH_OK, GH_ENOTFOUND (--help shown) or GH_EINVAL (said on stderr). */
static int
parse_args(int argc, char **argv, struct bench_opts *o, const char **user_arg)
{
    uint64_t v;
    double secs;

    *o = (struct bench_opts){.connections = 10, .threads = 1, .timeout_ms = 10000};
    *user_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return GH_ENOTFOUND;
        } else if (strcmp(a, "--new-conn") == 0) {
            o->new_conn = true, takes = false;
        } else if (strcmp(a, "--preemptive") == 0) {
            o->preemptive = true, takes = false;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true, takes = false;
        } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
            o->tls.insecure = true, takes = false;
        } else if (a[0] != '-') {
            if (o->url_text != NULL) {
                fprintf(stderr, "gatehouse bench: one URL only\n");
                return GH_EINVAL;
            }
            o->url_text = a, takes = false;
        } else if (val == NULL) {
            fprintf(stderr, "gatehouse bench: %s needs a value\n", a);
            return GH_EINVAL;
        } else if (strcmp(a, "--auth") == 0) {
            if (fetch_auth_mode_parse(val, &o->auth) != GH_OK || o->auth == FETCH_AUTH_ANY ||
                o->auth == FETCH_AUTH_CREDSSP) {
                fprintf(stderr,
                        "gatehouse bench: --auth %s: not one of negotiate, ntlm, "
                        "kerberos, digest, basic, none\n",
                        val);
                return GH_EINVAL;
            }
        } else if (strcmp(a, "-u") == 0 || strcmp(a, "--user") == 0) {
            *user_arg = val;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--connections") == 0) {
            if (!parse_uint(val, 1, MAX_CONNECTIONS, &v))
                goto bad;
            o->connections = (unsigned)v;
        } else if (strcmp(a, "--threads") == 0 || strcmp(a, "-t") == 0) {
            if (!parse_uint(val, 1, MAX_THREADS, &v))
                goto bad;
            o->threads = (unsigned)v;
        } else if (strcmp(a, "-n") == 0 || strcmp(a, "--requests") == 0) {
            if (!parse_uint(val, 1, MAX_REQUESTS, &o->max_requests))
                goto bad;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) {
            if (!parse_seconds(val, 0.1, MAX_DURATION_S, &o->duration_s))
                goto bad;
        } else if (strcmp(a, "--timeout") == 0) {
            if (!parse_seconds(val, 0.1, 600, &secs))
                goto bad;
            o->timeout_ms = (int)(secs * 1000);
        } else if (strcmp(a, "--cacert") == 0) {
            o->tls.cacert = val;
        } else {
            fprintf(stderr, "gatehouse bench: unknown option %s\n", a);
            return GH_EINVAL;
        }
        if (takes)
            i++;
        continue;
    bad:
        fprintf(stderr, "gatehouse bench: %s %s: out of range or not a number\n", a, val);
        return GH_EINVAL;
    }
    if (o->url_text == NULL) {
        fprintf(stderr, "gatehouse bench: a URL is needed\n");
        return GH_EINVAL;
    }
    if (o->max_requests == 0 && o->duration_s == 0)
        o->duration_s = 10;
    if (o->preemptive && o->auth != FETCH_AUTH_NTLM && o->auth != FETCH_AUTH_NEGOTIATE &&
        o->auth != FETCH_AUTH_KERBEROS && o->auth != FETCH_AUTH_BASIC) {
        fprintf(stderr, "gatehouse bench: --preemptive needs --auth ntlm, negotiate, kerberos or "
                        "basic (Digest answers the server's challenge)\n");
        return GH_EINVAL;
    }
    bool fast =
        o->auth == FETCH_AUTH_NONE && !o->new_conn && strncasecmp(o->url_text, "http:", 5) == 0;
    if (!fast && o->connections > MAX_BLOCKING) {
        fprintf(stderr,
                "gatehouse bench: -c %u: at most %u connections with TLS, --new-conn or "
                "--auth (one thread each)\n",
                o->connections, MAX_BLOCKING);
        return GH_EINVAL;
    }
    return GH_OK;
}

/* ---- The run ---------------------------------------------------------------- */

struct worker {
    pthread_t tid;
    struct bench_run *run;
    struct bench_stats st;
    unsigned conns; /* fast path: connections of this thread; 0: one blocking connection */
    bool is_done;
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    if (w->conns > 0)
        bench_fast_thread(w->run, w->conns, &w->st);
    else
        bench_conn_thread(w->run, &w->st);
    return NULL;
}

static double
percentile(const struct bench_stats *st, double q)
{
    uint64_t total = 0, seen = 0;

    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
        total += st->hist[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total + 0.5);
    if (want == 0)
        want = 1;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += st->hist[i];
        if (seen >= want)
            return hist_value(i) < (double)st->max_us ? hist_value(i) : (double)st->max_us;
    }
    return (double)st->max_us;
}

static void
report(const struct bench_opts *o, const struct bench_stats *t, double secs)
{
    uint64_t errors = 0;
    const char *mode = o->auth == FETCH_AUTH_NONE ? "none" : "auth";

    for (int k = 0; k < BENCH_ERR_COUNT; k++)
        errors += t->errors[k];
    if (o->json) {
        printf("{\"url\":\"%s\",\"connections\":%u,\"threads\":%u,\"new_conn\":%s,"
               "\"seconds\":%.3f,\"requests\":%llu,\"ok\":%llu,\"handshakes\":%llu,"
               "\"requests_per_s\":%.1f,\"handshakes_per_s\":%.1f,"
               "\"latency_us\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"max\":%llu},"
               "\"errors\":{",
               o->url_text, o->connections, o->threads, o->new_conn ? "true" : "false", secs,
               (unsigned long long)t->requests, (unsigned long long)t->ok,
               (unsigned long long)t->handshakes, (double)t->requests / secs,
               (double)t->handshakes / secs, percentile(t, 0.5), percentile(t, 0.9),
               percentile(t, 0.99), (unsigned long long)t->max_us);
        for (int k = 0; k < BENCH_ERR_COUNT; k++)
            printf("%s\"%s\":%llu", k > 0 ? "," : "", error_names[k],
                   (unsigned long long)t->errors[k]);
        printf("},\"errors_total\":%llu}\n", (unsigned long long)errors);
        return;
    }
    printf("%s: %llu requests in %.2f s, %u connections%s (%s)\n", o->url_text,
           (unsigned long long)t->requests, secs, o->connections,
           o->new_conn ? ", a new one per request" : ", keep-alive", mode);
    printf("  requests/s    %12.1f  (%llu ok)\n", (double)t->requests / secs,
           (unsigned long long)t->ok);
    printf("  handshakes/s  %12.1f  (%llu)\n", (double)t->handshakes / secs,
           (unsigned long long)t->handshakes);
    printf("  latency       p50 %.0f us  p90 %.0f us  p99 %.0f us  max %llu us\n",
           percentile(t, 0.5), percentile(t, 0.9), percentile(t, 0.99),
           (unsigned long long)t->max_us);
    printf("  errors        %llu", (unsigned long long)errors);
    for (int k = 0; k < BENCH_ERR_COUNT; k++) {
        if (t->errors[k] > 0)
            printf("  %s %llu", error_names[k], (unsigned long long)t->errors[k]);
    }
    putchar('\n');
}

static int
run_bench(struct bench_opts *o)
{
    struct bench_run run = {.opts = o};
    bool fast = o->auth == FETCH_AUTH_NONE && !o->new_conn && !o->url.is_https;
    unsigned n =
        fast ? (o->threads < o->connections ? o->threads : o->connections) : o->connections;
    struct worker *ws = calloc(n, sizeof(*ws));
    struct bench_stats *total = calloc(1, sizeof(*total));
    bool progress = !o->json && isatty(STDOUT_FILENO);
    unsigned started = 0;
    int rc = 1;

    if (ws == NULL || total == NULL) {
        fprintf(stderr, "gatehouse bench: out of memory\n");
        goto cleanup;
    }
    if (o->url.is_https) {
        /* One client context for every connection: a new one per connection
         * would load the CA store each time. */
        char why[512] = "";
        if (fetch_tls_ctx_create(&o->tls, &o->tls.shared_ctx, why, sizeof(why)) != GH_OK) {
            fprintf(stderr, "gatehouse bench: %s\n", why[0] ? why : "out of memory");
            goto cleanup;
        }
    }
    uint64_t start = bench_now_ns();
    run.deadline_ns = o->duration_s > 0 ? start + (uint64_t)(o->duration_s * 1e9) : UINT64_MAX;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    for (unsigned i = 0; i < n; i++) {
        ws[i].run = &run;
        ws[i].conns = fast ? o->connections / n + (i < o->connections % n) : 0;
        if (pthread_create(&ws[i].tid, &attr, worker_main, &ws[i]) != 0) {
            fprintf(stderr, "gatehouse bench: cannot start thread %u\n", i);
            atomic_store(&run.stop, true);
            break;
        }
        started++;
    }
    pthread_attr_destroy(&attr);
    /* The progress line, once per second on a terminal; Ctrl-C stops the run. */
    uint64_t next = start + 1000000000u;
    for (;;) {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        if (atomic_load(&interrupted))
            atomic_store(&run.stop, true);
        uint64_t now = bench_now_ns();
        bool done =
            !bench_more(&run, now) &&
            (o->max_requests == 0 || atomic_load(&run.live_requests) >= atomic_load(&run.claimed));
        if (progress && now >= next) {
            double el = (double)(now - start) / 1e9;
            uint64_t r = atomic_load(&run.live_requests);
            printf("\r[%5.1fs] %llu requests, %.0f/s, %llu handshakes, %llu errors ", el,
                   (unsigned long long)r, (double)r / el,
                   (unsigned long long)atomic_load(&run.live_handshakes),
                   (unsigned long long)atomic_load(&run.live_errors));
            fflush(stdout);
            next += 1000000000u;
        }
        if (done || atomic_load(&run.stop))
            break;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(ws[i].tid, NULL);
    double secs = (double)(bench_now_ns() - start) / 1e9;
    if (progress)
        printf("\r%*s\r", 72, "");
    for (unsigned i = 0; i < started; i++) {
        total->requests += ws[i].st.requests;
        total->ok += ws[i].st.ok;
        total->handshakes += ws[i].st.handshakes;
        for (int k = 0; k < BENCH_ERR_COUNT; k++)
            total->errors[k] += ws[i].st.errors[k];
        for (size_t b = 0; b < BENCH_HIST_BUCKETS; b++)
            total->hist[b] += ws[i].st.hist[b];
        if (ws[i].st.max_us > total->max_us)
            total->max_us = ws[i].st.max_us;
    }
    report(o, total, secs > 0 ? secs : 1e-9);
    rc = total->ok == total->requests && started == n ? 0 : 1;
cleanup:
    SSL_CTX_free(o->tls.shared_ctx);
    o->tls.shared_ctx = NULL;
    free(ws);
    free(total);
    return rc;
}

int
cli_bench(int argc, char **argv)
{
    struct bench_opts o;
    const char *user_arg = NULL, *why = NULL;
    char password[PASSWORD_BYTES];
    char *user = NULL;
    int rc;

    int err = parse_args(argc, argv, &o, &user_arg);
    if (err == GH_ENOTFOUND)
        return 0;
    if (err != GH_OK) {
        fprintf(stderr, "(gatehouse bench --help lists the options)\n");
        return 2;
    }
    err = fetch_url_parse(o.url_text, &o.url, &why);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse bench: %s: %s\n", o.url_text,
                why != NULL ? why : "out of memory");
        return 2;
    }
    err =
        fetch_user_arg(user_arg, "gatehouse bench", &user, password, sizeof(password), &o.password);
    if (err != GH_OK) {
        fetch_url_free(&o.url);
        return 2;
    }
    o.user = user;
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = run_bench(&o);
    secret_wipe(password, sizeof(password));
    free(user);
    fetch_url_free(&o.url);
    return rc;
}
