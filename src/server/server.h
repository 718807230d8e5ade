// SPDX-License-Identifier: MIT
// Server internals shared by the files of src/server: the configuration
// snapshot, worker loops, connections, requests. Modules never see this file;
// they use <gatehouse/http.h> and <gatehouse/module.h>.
//
// Threads: one main thread (control: signals, reload), N workers each running
// one epoll loop that owns its connections and their requests outright, and a
// small pool for blocking work. The only cross-thread paths are the posted-task
// queue of each worker (gh_request_resume, pool completions, wake-ups) and the
// refcounted configuration snapshot.
#ifndef GH_SERVER_SERVER_H
#define GH_SERVER_SERVER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <openssl/ssl.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>

#include "auth/engine.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "http/h1.h"
#include "server/metrics.h"
#include "tls/tls.h"

struct conf_node;

/* ------------------------------------------------------------------ config */

enum notify {
    NOTIFY_BEGIN = 0,
    NOTIFY_AUTHENTICATE,
    NOTIFY_AUTHORIZE,
    NOTIFY_EXECUTE,
    NOTIFY_SEND_RESPONSE,
    NOTIFY_LOG,
    NOTIFY_END,
    NOTIFY_COUNT,
};

struct config_listen {
    char *text; /* "127.0.0.1:8443" as written */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool is_tls;
    bool ask_client_cert; /* `listen ... tls client_cert;`: asked in the handshake */
};

struct config_module {
    const struct gh_module *module; /* borrowed from the binary or dl_handle */
    void *dl_handle;                /* owned; NULL for built-ins */
    bool use_fiber;                 /* hooks run on their own stack (shared objects) */
    bool is_inited;                 /* init() ran: fini() is due */
};

struct config_location {
    char *prefix; /* "/api/" */
    size_t prefix_len;
    int host;                 /* index into config.hosts; -1: the main level's */
    int handler;              /* index into config.modules, or -1 (404) */
    void **module_configs;    /* module_count entries, owned through config_destroy */
    struct auth_config *auth; /* owned; NULL when the location authenticates nobody */
    uint8_t client_cert_mode; /* enum client_cert_mode: tls_client_certificate */
    char *no_pha_redirect;    /* tls_client_certificate_no_pha redirect URL; NULL: 403 */
};

/* host NAME... { location ... }: the locations of requests whose Host is one
 * of names ("www.example.org", or "*.example.org" for any name below it). */
struct config_host {
    char **names; /* lower case, owned */
    size_t name_count;
    size_t first, count; /* its locations in config.locations */
};

/* tls_client_certificate: what a location does about client certificates. */
enum client_cert_mode {
    CLIENT_CERT_IGNORE = 0, /* nothing (a module may still ask) */
    CLIENT_CERT_NEGOTIATE,  /* ask when the location is hit; none is fine */
    CLIENT_CERT_REQUIRE,    /* ask; none (or rejected) answers 403 */
};

struct config {
    atomic_int refs;
    char *path;
    unsigned worker_count;
    unsigned blocking_threads;
    unsigned blocking_queue;
    struct h1_limits limits;
    uint64_t max_body_bytes;
    size_t max_chunk_line_bytes;
    size_t max_trailer_bytes;
    size_t max_response_buffer_bytes;
    uint32_t header_timeout_ms;
    uint32_t tcp_defer_accept_ms; /* 0: off */
    uint32_t body_timeout_ms;
    uint32_t keepalive_timeout_ms;
    uint32_t write_timeout_ms;
    uint32_t shutdown_timeout_ms;
    uint32_t keepalive_requests;
    enum log_level log_level;
    char *error_log_path;
    char *access_log_path; /* NULL: off */
    bool access_log_json;  /* `access_log PATH json;`: JSON Lines (access_json.c) */
    struct log *error_log; /* owned */
    struct log *access_log;
    struct config_listen *listens;
    size_t listen_count;
    struct tls_server *tls; /* owned; NULL without certificates */
    struct config_module *modules;
    size_t module_count;
    struct config_location *locations; /* by host (the main level's last), longest prefix first */
    size_t location_count;
    struct config_host *hosts; /* `host NAME... { location ... }` blocks, in file order */
    size_t host_count;
    size_t main_first; /* the main level's locations: [main_first, location_count) */
    /* Authentication (src/auth). The engine is the server's (one per process, so
     * Digest nonces and backoff survive reloads); a config loaded without a
     * server (serve --check, tests) makes and owns a private one. */
    struct auth_engine *auth_engine;
    bool owns_auth_engine;
    char *auth_audit_log_path;       /* auth_audit_log; NULL: the error log's stream */
    uint64_t auth_discard_bytes;     /* body bytes read and dropped after an auth answer */
    uint32_t auth_digest_nonce_ms;   /* auth_digest_nonce_lifetime; 0: the engine's default */
    uint32_t auth_backoff_threshold; /* failures before backoff; UINT32_MAX: off; 0: default */
    uint32_t auth_backoff_max_ms;    /* 0: default */
    uint32_t auth_backoff_window_ms; /* 0: default */
    /* Client certificates (tls_client_* directives, issue 7). */
    bool client_verify_optional;     /* tls_client_verify optional_no_ca */
    uint32_t client_cert_timeout_ms; /* tls_client_certificate_timeout */
    uint64_t client_cert_buffer;     /* tls_client_certificate_buffer: body bytes held */
    uint8_t default_client_cert_mode;
    char *default_no_pha_redirect;
    /* Per notification, the module indices subscribed to it, in load order. */
    uint8_t *hooks[NOTIFY_COUNT];
    size_t hook_count[NOTIFY_COUNT];
};

/* Reads and interprets a configuration file, loading modules, TLS certificates and
 * opening logs. GH_OK, or a failure with "file:line: reason" in err. */
int config_load(const char *path, struct config **config_out, char *err, size_t err_len);
/* `serve --check`: loads path as config_load does (certificates, modules'
 * init), but probes the log files instead of opening them, so that it creates
 * nothing (log_probe). GH_OK, or an error with err set. */
int config_check(const char *path, char *err, size_t err_len);
/* The same with the server's auth engine (borrowed; outlives the config). */
int config_load_engine(const char *path, struct auth_engine *engine, struct config **config_out,
                       char *err, size_t err_len);
/* Same from text (tests): name is used in messages. */
int config_load_text(const char *name, const char *text, size_t len, struct config **config_out,
                     char *err, size_t err_len);
void config_ref(struct config *c);
void config_unref(struct config *c); /* destroys at zero; NULL-safe */
/* The location of a request: among the locations of the `host` block whose
 * names hold host (the Host header or the absolute URL's authority; a port is
 * ignored, case too; an exact name before a wildcard), else among the main
 * level's; the longest matching prefix. host may be NULL. Never NULL: every
 * set of locations has a "/" (an implicit one answers 404). */
const struct config_location *config_location_match(const struct config *c, const char *host,
                                                    size_t host_len, const char *path,
                                                    size_t path_len);
/* Index of module in c, or -1. */
int config_module_index(const struct config *c, const struct gh_module *module);
/* Parses "8k" "16m" "100" and "10s" "250ms" "2m" (tests use these too). */
int config_parse_size(const char *s, uint64_t *bytes_out);
int config_parse_duration(const char *s, uint32_t *ms_out);
/* Prints every directive the configuration language has (the core's, the
 * auth engine's, then each module's, in load order): cfg's modules, or the
 * built-in ones when cfg is NULL. The format is stable (docs/config.md,
 * "Directive list"): two '#' comment lines, then one line per directive with six
 * TAB-separated fields: name, context (main | location | main,location), module
 * (core, auth or the module's name), syntax, default (empty: none), description. */
void config_directives_print(FILE *out, const struct config *cfg);

/* ------------------------------------------------------------ module loader */

/* Built-in modules, in load order. */
size_t module_loader_builtin_count(void);
const struct gh_module *module_loader_builtin(size_t i);
/* dlopen()s path and checks its gh_module_entry. GH_OK, GH_EIO (cannot load),
 * GH_ENOTFOUND (no entry symbol), GH_EABI (version mismatch), with a reason. */
int module_loader_open(const char *path, const struct gh_module **module_out, void **handle_out,
                       char *err, size_t err_len);
void module_loader_close(void *handle); /* NULL-safe */

/* ------------------------------------------------------------------- loops */

enum ev_kind {
    EV_LISTENER = 1,
    EV_CONN = 2,
    EV_WAKE = 3,
};

/* A task posted to a worker from any thread. discard (may be NULL) releases a
 * task that will never run because its worker has stopped. */
struct task {
    struct task *next;
    void (*run)(struct task *t);
    void (*discard)(struct task *t);
};

struct listener {
    uint8_t ev_kind; /* EV_LISTENER: first, epoll data points here */
    int fd;
    bool is_tls;
    bool ask_client_cert;      /* config_listen.ask_client_cert */
    bool is_active;            /* false once removed by a reload */
    atomic_bool defers_accept; /* TCP_DEFER_ACCEPT is on: a new connection has bytes */
    uint64_t registered_mask;  /* workers that have it in their epoll set */
    char *text;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    struct listener *next;
};

struct worker {
    uint8_t ev_kind; /* EV_WAKE */
    struct gh_server *server;
    unsigned id;
    pthread_t thread;
    int epfd;
    int wake_fd; /* eventfd */
    pthread_mutex_t lock;
    struct task *posted_head; /* under lock */
    struct task *posted_tail;
    bool is_stopping;
    bool is_forcing; /* the shutdown deadline passed */
    uint64_t stop_deadline_ms;
    uint64_t now_ms;          /* CLOCK_MONOTONIC, refreshed each loop turn */
    struct timespec now_real; /* CLOCK_REALTIME, refreshed each loop turn */
    time_t date_sec;
    char date[30];
    size_t date_len;
    struct conn **heap; /* timer min-heap on conn->heap_key */
    size_t heap_len;
    size_t heap_cap;
    struct conn *conns; /* every open connection (doubly linked) */
    size_t conn_count;
    size_t jobs_in_flight; /* blocking-pool jobs whose completion has not run */
    struct gh_request *free_requests;
    size_t free_request_count;
    uint8_t *free_bufs[64]; /* spare input buffers of free_buf_bytes */
    size_t free_buf_count;
    size_t free_buf_bytes;
    struct fiber *free_fibers; /* spare hook stacks (fiber.c) */
    size_t free_fiber_count;
    struct h1_header *scratch_headers;
    size_t scratch_capacity;
    struct task listeners_task;
    atomic_bool listeners_task_queued;
    struct buf access_buf;     /* access log lines not yet written */
    struct config *access_cfg; /* reference: the log access_buf belongs to */
    time_t access_time_sec;
    char access_time[24];         /* "YYYY-MM-DDTHH:MM:SSZ" of access_time_sec */
    size_t handshakes_since_trim; /* TLS handshakes ended since the last malloc_trim */
    uint64_t last_trim_ms;        /* now_ms of the last malloc_trim */
    uint64_t turn;                /* epoll_wait calls so far */
    uint64_t accept_turn;         /* the turn of the last listener wake-up */
    struct metrics metrics;       /* this loop's counters (metrics.h); last: its own lines */
};

struct gh_server {
    struct config *config; /* current snapshot; under lock */
    pthread_mutex_t lock;
    char *config_path;
    struct worker *workers;
    unsigned worker_count;
    struct listener *listeners; /* under lock */
    struct pool *pool;
    int control_fd; /* eventfd: stop / reload requests */
    atomic_bool stop_requested;
    atomic_bool reload_requested;
    atomic_bool reopen_requested; /* SIGUSR1: reopen the log files */
    atomic_uint live_workers;
    atomic_uint config_gen;          /* bumped by every successful reload */
    struct auth_engine *auth_engine; /* owned; destroyed after every config and conn */
    struct log *audit_log;           /* owned; the first config's auth_audit_log */
};

/* The current configuration with a reference the caller releases. */
struct config *server_config_get(struct gh_server *s);

/* What the service manager is told (notify.c: sd_notify under systemd). */
enum server_state {
    SERVER_READY,     /* READY=1: listeners bound, workers running */
    SERVER_RELOADING, /* RELOADING=1: a SIGHUP reload begins (READY=1 ends it) */
    SERVER_STOPPING,  /* STOPPING=1: the graceful stop begins */
    SERVER_STATUS,    /* STATUS= only */
};
/* Sends state and a one-line status text; does nothing without NOTIFY_SOCKET
 * in the environment or when built without libsystemd. Control thread only. */
void server_notify(enum server_state state, const char *status);

/* Posts t to w (any thread) and wakes its loop. */
void worker_post(struct worker *w, struct task *t);
void worker_cancel(struct worker *w, struct task *t);
void worker_discard_posted(struct worker *w);
void worker_timer_set(struct worker *w, struct conn *c, uint64_t deadline_ms);
void worker_timer_remove(struct worker *w, struct conn *c);
void *worker_main(void *arg);
/* Refreshes now_real, and w->date if the second changed. */
void worker_date_update(struct worker *w);

/* Binds one listening socket; GH_OK or GH_EIO with a reason. */
int listener_open(const struct config_listen *cl, struct listener **listener_out, char *err,
                  size_t err_len);
void listener_close(struct listener *l);
void listener_accept(struct worker *w, struct listener *l);
/* Applies the configuration's socket options to a listener (on open and on
 * every reload): TCP_DEFER_ACCEPT from tcp_defer_accept. Failures are logged,
 * not fatal (the listener works without them). */
void listener_apply_options(struct listener *l, const struct config *cfg);
/* Brings w's epoll set in line with the server's listener list. */
void listener_sync_worker(struct worker *w);

/* -------------------------------------------------------------------- pool */

struct pool;
int pool_create(unsigned threads, unsigned queue_max, struct pool **pool_out);
void pool_destroy(struct pool *p); /* drains, joins; NULL-safe */
/* Runs job->work on a pool thread, then posts job->task to job's worker. */
struct pool_job {
    struct task task; /* first */
    struct pool_job *next;
    gh_request *req;
    struct worker *worker;
    void (*work)(void *arg);
    void (*done)(gh_request *req, void *arg);
    void *arg;
};
int pool_submit(struct pool *p, struct pool_job *job);
/* Jobs waiting now and the queue's limit (takes the pool's lock: scrapes only). */
void pool_stats(struct pool *p, uint64_t *queued_out, uint64_t *queue_max_out);

/* -------------------------------------------------------------- connection */

enum conn_state {
    CONN_HANDSHAKE = 0, /* TLS handshake */
    CONN_IDLE,          /* between requests: nothing buffered */
    CONN_HEAD,          /* part of a request head buffered */
    CONN_REQUEST,       /* a request is in the pipeline or being answered */
    CONN_DISCARD,       /* dropping the unread body of the answered request */
    CONN_LINGER,        /* answered and shut for writing; draining input before close */
    CONN_CLOSED,        /* socket closed; waiting for a pending request to resume */
};

enum timer_kind {
    TIMER_NONE = 0,
    TIMER_HEAD,      /* handshake + request head: total deadline (slowloris) */
    TIMER_KEEPALIVE, /* idle between requests */
    TIMER_BODY,      /* idle while a hook waits for body bytes */
    TIMER_WRITE,     /* idle while the socket takes no bytes */
    TIMER_LINGER,
    TIMER_CERT, /* a client-certificate exchange: total deadline */
};

struct conn_slot {
    struct conn_slot *next;
    const struct gh_module *module;
    void *ctx;
    void (*release)(void *ctx);
};

struct conn {
    uint8_t ev_kind; /* EV_CONN: first, epoll data points here */
    uint8_t state;   /* enum conn_state */
    bool is_tls;
    bool read_ready;     /* edge-triggered: the socket may have bytes */
    bool write_ready;    /* edge-triggered: the socket may take bytes */
    bool hs_wants_write; /* the TLS handshake last stopped on WANT_WRITE, not WANT_READ */
    bool is_peer_closed;
    bool saw_hup;       /* the peer shut its side: read to EOF, never trust a short read */
    bool must_close;    /* close once the output is flushed */
    bool in_run;        /* conn_run is on the stack */
    bool tls_drained;   /* OpenSSL's last socket read drained the socket */
    uint8_t timer_kind; /* enum timer_kind of deadline_ms */
    int fd;
    uint32_t requests_served;
    unsigned config_gen; /* server config_gen when config was taken */
    uint32_t in_off;     /* input buffer: data[in_off, in_len) unparsed */
    uint32_t in_len;
    uint32_t in_cap;
    uint8_t *in; /* from the worker's spare list; NULL while idle */
    struct buf out;
    size_t out_off;
    struct worker *worker;
    struct listener *listener; /* borrowed; listeners outlive connections */
    struct config *config;     /* reference, refreshed between requests */
    SSL *ssl;
    struct gh_request *req;
    struct conn_slot *slots;
    struct auth_conn *auth;               /* owned; made by the first request that authenticates */
    struct conn_client_cert *client_cert; /* owned; NULL until a certificate arrives */
    uint64_t deadline_ms;                 /* 0: none */
    uint64_t heap_key;
    size_t heap_idx; /* SIZE_MAX when not in the heap */
    struct conn *prev;
    struct conn *next;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
    socklen_t peer_len;
    /* The authentication in progress, for the handshake counters (metrics.h):
     * its scheme (METRICS_SCHEMES) and when its first leg began. */
    bool hs_active;
    uint8_t hs_scheme;
    uint64_t hs_start_us;
};

void conn_accepted(struct worker *w, struct listener *l, int fd, const struct sockaddr *peer,
                   socklen_t peer_len);
void conn_on_event(struct conn *c, uint32_t events);
void conn_on_timeout(struct conn *c);
/* Advances the connection as far as it can go without waiting. */
void conn_run(struct conn *c);
/* Closes the socket at once (the request, if pending, finishes later). */
void conn_abort(struct conn *c);
/* Reads from the socket into the input buffer (acquiring one): GH_OK when bytes
 * arrived (in_len grew), GH_AGAIN when none are there now (read_ready is then
 * false), GH_ECLOSED at EOF or when the peer is gone (is_peer_closed is set),
 * GH_ELIMIT when the buffer is full of unparsed bytes, GH_ENOMEM, GH_EIO. */
int conn_fill(struct conn *c);
/* Writes out[out_off..], then the request's body tail if any: GH_OK when all is
 * sent, GH_AGAIN, < 0. */
int conn_flush(struct conn *c);
/* True while conn_flush has bytes to send. */
bool conn_out_pending(const struct conn *c);
/* Queues a complete error response and closes after it. */
void conn_send_error(struct conn *c, int status);
void conn_in_compact(struct conn *c);
/* Ensures an input buffer; GH_OK or GH_ENOMEM. */
int conn_in_acquire(struct conn *c);

/* ------------------------------------------------------ client certificate */

/* The client certificate of a TLS connection (src/server/client_cert.c): the
 * public struct gh_client_cert plus the storage its pointers borrow from. Made
 * when an exchange (handshake, renegotiation, post-handshake auth) ends with a
 * certificate; freed with the connection. */
struct conn_client_cert;

/* Records the mapping result of the connection's client certificate: takes a
 * reference on token (may be NULL; an earlier one is released); denied sets
 * denied_by_mapper. Does nothing when the connection has no certificate.
 * Called by server_auth.c (certificate mapping, issue 7). */
void conn_client_cert_set_mapping(struct conn *c, gh_token *token, bool denied);
void conn_client_cert_free(struct conn_client_cert *cc); /* NULL-safe */
/* Makes the record and attaches its exchange state to c->ssl: GH_OK, GH_ENOMEM,
 * GH_ETLS, GH_EUNSUPPORTED (plain HTTP). */
int conn_cc_prepare(struct conn *c);
/* `listen ... tls client_cert;`: asks in the initial handshake (before it). */
int conn_cc_request_in_handshake(struct conn *c);
/* Asks the live connection for a certificate: GH_OK (conn_cc_drive runs it),
 * GH_ESTATE (the client cannot: no PHA / no secure renegotiation; recorded as
 * an exchange without certificate), GH_ETLS, GH_ENOMEM. */
int conn_cc_start(struct conn *c);
/* Sends the request and reads until the exchange ends: GH_OK (record built),
 * GH_AGAIN (wait for the socket), GH_ELIMIT (more body bytes arrived than
 * tls_client_certificate_buffer), or a failure (the connection must close). */
int conn_cc_drive(struct conn *c);
/* The exchange failed or timed out: no certificate. */
void conn_cc_fail(struct conn *c);
bool conn_cc_in_progress(const struct conn *c);
/* After the initial handshake: builds the record when the listener asked. */
int conn_cc_handshake_done(struct conn *c);
/* The location's tls_client_certificate at the start of the authenticate
 * stage: GH_RQ_CONTINUE, GH_RQ_FINISH (403 / 307 set) or GH_RQ_PENDING
 * (req->wants_cert: the stage is re-entered when the exchange ends). */
enum gh_rq_status client_cert_location(struct gh_request *req);

/* ------------------------------------------------------------------ fibers */

/* Hooks on their own stacks (fiber.c), so a synchronous gh_* call suspends the
 * request instead of blocking the loop. */
struct fiber;
/* Runs hook(req, config) on a pooled stack: GH_OK with *rs_out when it
 * returned, GH_AGAIN when it suspended (req->fiber holds it until
 * fiber_resume), GH_ENOMEM / GH_ESTATE when no fiber can be used (the caller
 * then calls the hook directly). */
int fiber_call(struct gh_request *req, gh_hook_fn *hook, void *config, enum gh_rq_status *rs_out);
/* Continues req->fiber after its wait: GH_OK with *rs_out, or GH_AGAIN. */
int fiber_resume(struct gh_request *req, enum gh_rq_status *rs_out);
/* True when req's hook runs on a fiber and may call fiber_suspend(). */
bool fiber_can_suspend(const struct gh_request *req);
/* From the hook: back to the loop until fiber_resume(). */
void fiber_suspend(struct gh_request *req);
void fiber_pool_free(struct worker *w);

/* ----------------------------------------------------------------- request */

enum body_form {
    BODY_NONE = 0,
    BODY_BUF,
    BODY_FILE,
    BODY_STREAM,
};

enum pend_state {
    PEND_NONE = 0,
    PEND_ARMED = 1,   /* a hook is running */
    PEND_RESUMED = 2, /* gh_request_resume called, task posted */
};

struct resp_header {
    const char *name; /* arena; validated when added */
    const char *value;
    uint32_t name_len;
    uint32_t value_len;
};

struct req_slot {
    void *ctx;
    void (*release)(void *ctx);
};

struct gh_request {
    struct gh_request *next_free;
    struct conn *conn;
    struct worker *worker;
    /* Borrowed from the connection, which changes its configuration only
     * between requests and outlives its request (a closed connection waits for
     * its pending request before it is freed): no reference count per request. */
    struct config *config;
    const struct config_location *loc;
    struct arena *arena;
    uint64_t start_ms;
    struct timespec start_time;
    /* head, copied into the arena so the input buffer can move */
    char *method;
    char *target;
    char *path;
    char *query;
    char *host;
    char *full_url;
    char *peer_text;
    char *request_line; /* for the access log */
    struct gh_str *hdr_names;
    struct gh_str *hdr_values;
    size_t header_count;
    int minor_version;
    bool is_head;
    bool keep_alive;
    bool expect_continue;
    bool sent_continue;
    /* body */
    enum h1_body_kind body_kind;
    uint64_t body_left; /* LENGTH: bytes still to come */
    uint64_t body_seen;
    struct h1_chunked chunked;
    bool body_done;
    int body_error;           /* sticky GH_E* */
    bool body_error_answered; /* the error response replaced the module's */
    bool wants_body;          /* a hook pended on gh_request_body_read */
    bool wants_cert;          /* a hook (or the location) waits for a certificate exchange */
    uint8_t cert_loc_state;   /* tls_client_certificate: 0 todo, 1 waiting, 2 done */
    struct fiber *fiber;      /* the hook suspended on its stack, or NULL */
    /* auth and TLS */
    struct auth_decision auth; /* auth.record.pub is gh_request_auth() */
    uint8_t auth_state;        /* enum req_auth_state */
    uint64_t auth_start_us;    /* clock_monotonic_us() when the engine was asked */
    bool auth_answered;        /* the response is the engine's (401/403/400/429) */
    bool send_prepared;        /* server_auth_before_send ran */
    struct gh_tls_info tls_info;
    bool has_tls_info;
    struct sockaddr_storage local;
    socklen_t local_len;
    /* modules */
    struct req_slot *slots; /* config->module_count, arena */
    int stage;              /* enum notify */
    size_t hook_pos;        /* index into config->hooks[stage] */
    bool is_pending;        /* a hook returned GH_RQ_PENDING */
    bool in_pipeline;
    atomic_int pend;
    int resume_status;
    bool resume_reenter;
    struct task resume_task;
    struct task wake_task;
    atomic_bool wake_queued;
    bool stream_waiting;
    bool is_body_aborted; /* the body's source failed mid-way: the client got a cut body */
    /* response */
    int status;
    struct resp_header *resp_headers;
    size_t resp_header_count;
    size_t resp_header_cap;
    enum body_form body_form;
    struct buf body;
    int file_fd;
    off_t file_off;
    uint64_t file_left;
    gh_body_pull_fn *pull;
    void (*pull_release)(void *arg);
    void *pull_arg;
    int64_t stream_length;
    /* A buffered body larger than RESPONSE_INLINE_BYTES is not copied behind the
     * head: conn_flush sends body.data[tail_off, tail_len) after conn->out. */
    size_t tail_len;
    size_t tail_off;
    bool is_chunked_out;
    bool head_sent;
    bool response_done; /* everything queued in conn->out or sent */
    uint64_t bytes_sent;
};

enum req_auth_state {
    REQ_AUTH_TODO = 0, /* the engine has not run for this request */
    REQ_AUTH_BLOCKED,  /* the engine runs on the blocking pool */
    REQ_AUTH_DONE,
};

/* Runs the auth engine for req at the start of the authenticate stage:
 * GH_RQ_CONTINUE (go on with the modules' hooks), GH_RQ_FINISH (the engine
 * answered: 401/403/400/429/500) or GH_RQ_PENDING (running on the pool; the
 * request resumes re-entering the stage). server_auth.c */
enum gh_rq_status server_auth_run(struct gh_request *req);
/* Before the response head: an application 401 on an authenticated location
 * gets the location's challenges (auth_engine_challenge). */
void server_auth_before_send(struct gh_request *req);
/* At the end of the request: releases the record (and its token reference). */
void server_auth_request_end(struct gh_request *req);

/* Starts a request from a parsed head (copies it). GH_OK, GH_ENOMEM. */
int request_start(struct conn *c, const struct h1_request *h, struct gh_request **req_out);
/* Runs the log/end notifications, writes the access log line, releases. */
void request_finish(struct gh_request *req);
/* Frees a request object for good (worker teardown). */
void request_free(struct gh_request *req);
/* Pulls and drops body bytes; GH_OK when the body is complete, GH_AGAIN, < 0. */
int request_body_discard(struct gh_request *req);

/* Runs the notifications from where the request stands. */
void pipeline_run(struct gh_request *req);
/* Called on the loop when new body bytes arrived for a hook waiting on them. */
void pipeline_body_ready(struct gh_request *req);
/* Called on the loop when the client-certificate exchange a hook (or the
 * location) waited for has ended. */
void pipeline_cert_ready(struct gh_request *req);

/* Serializes the response head (and a buffered body) into conn->out. */
int response_head_write(struct gh_request *req);
/* Produces more of a file or stream body into conn->out or the socket:
 * GH_OK when the body is complete, GH_AGAIN when waiting, < 0 on failure. */
int response_body_pump(struct gh_request *req);
void response_release(struct gh_request *req);

void access_log_write(struct gh_request *req);
/* Buffers one access log line for cfg's log (method NULL: a request the server
 * refused before it had one: "-" as request line). */
/* is_aborted: the response body was cut (the line ends with " aborted" after
 * the user field: docs/config.md, access_log). */
void access_log_line(struct worker *w, struct config *cfg, const char *peer, const char *method,
                     const char *target, int minor_version, int status, uint64_t bytes,
                     uint64_t duration_ms, const char *user, time_t when, bool is_aborted);
/* Writes the worker's buffered access log lines (end of each loop turn, exit). */
void worker_access_flush(struct worker *w);
/* Buffers one complete line (ending in '\n') for cfg's access log; a line
 * longer than the per-line reservation is written at once, in order. */
void access_log_append(struct worker *w, struct config *cfg, const char *line, size_t len);

/* One JSON access log line's inputs; req is NULL for a request the server
 * refused before it had one (then only time, peer and status are known). */
struct access_fields {
    const struct gh_request *req;
    const char *peer;
    const char *time_text; /* "YYYY-MM-DDTHH:MM:SSZ" */
    int status;
    uint64_t duration_ms;
};
void access_log_json(struct worker *w, struct config *cfg, const struct access_fields *f);

#endif
