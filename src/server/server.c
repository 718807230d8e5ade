// SPDX-License-Identifier: MIT
// The embedding API: create a server from a configuration file, run its worker
// loops, stop it gracefully, reload it. The calling thread of gh_server_run()
// becomes the control thread: it sleeps on an eventfd that gh_server_stop()
// and gh_server_reload() poke (both async-signal-safe), and does the reload
// work itself so that no worker ever blocks on file or certificate loading.
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gatehouse/error.h>

struct config *
server_config_get(struct gh_server *s)
{
    pthread_mutex_lock(&s->lock);
    struct config *c = s->config;
    config_ref(c);
    pthread_mutex_unlock(&s->lock);
    return c;
}

static void
bound_text(const struct listener *l, char *out, size_t out_len)
{
    struct sockaddr_storage ss = {0}; /* AF_UNSPEC when getsockname fails */
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(out, out_len, "%s%s%s:%u", ss.ss_family == AF_INET6 ? "[" : "", host,
             ss.ss_family == AF_INET6 ? "]" : "", port);
}

/* Opens listeners for the new configuration's addresses that are not open yet,
 * marks the others for retirement. Under s->lock. On failure nothing changed
 * except new sockets that are closed again. */
static int
listeners_apply(struct gh_server *s, const struct config *cfg, char *err, size_t err_len)
{
    struct listener *fresh = NULL;
    bool keep[256] = {false};
    size_t i = 0;

    for (size_t k = 0; k < cfg->listen_count; k++) {
        const struct config_listen *cl = &cfg->listens[k];
        struct listener *found = NULL;
        i = 0;
        /* Same configured address and kind; "port 0" listeners pair up in order. */
        for (struct listener *l = s->listeners; l != NULL && found == NULL; l = l->next, i++) {
            if (l->is_active && i < 256 && !keep[i] && l->is_tls == cl->is_tls &&
                l->ask_client_cert == cl->ask_client_cert && l->addr_len == cl->addr_len &&
                memcmp(&l->addr, &cl->addr, cl->addr_len) == 0) {
                found = l;
                keep[i] = true;
            }
        }
        if (found != NULL) {
            listener_apply_options(found, cfg);
            continue;
        }
        struct listener *l = NULL;
        int rc = listener_open(cl, &l, err, err_len);
        if (rc != GH_OK) {
            while (fresh != NULL) {
                struct listener *next = fresh->next;
                listener_close(fresh);
                fresh = next;
            }
            return rc;
        }
        listener_apply_options(l, cfg);
        l->next = fresh;
        fresh = l;
    }
    i = 0;
    for (struct listener *l = s->listeners; l != NULL; l = l->next, i++) {
        if (l->is_active && (i >= 256 || !keep[i]))
            l->is_active = false; /* closed once every worker dropped it */
    }
    while (fresh != NULL) {
        struct listener *next = fresh->next;
        char text[80];
        fresh->next = s->listeners;
        s->listeners = fresh;
        bound_text(fresh, text, sizeof(text));
        log_msg(cfg->error_log, LOG_INFO, "listening on %s://%s", fresh->is_tls ? "https" : "http",
                text);
        fresh = next;
    }
    return GH_OK;
}

static void
listeners_task_run(struct task *t)
{
    struct worker *w = (struct worker *)((char *)t - offsetof(struct worker, listeners_task));

    atomic_store(&w->listeners_task_queued, false);
    listener_sync_worker(w);
    /* Retired listeners that no worker watches any more can close. Their
     * structs stay until gh_server_destroy: a stale epoll event may still
     * point at them, and it finds is_active false. */
    pthread_mutex_lock(&w->server->lock);
    for (struct listener *l = w->server->listeners; l != NULL; l = l->next) {
        if (!l->is_active && l->registered_mask == 0 && l->fd >= 0) {
            close(l->fd);
            l->fd = -1;
        }
    }
    pthread_mutex_unlock(&w->server->lock);
}

static void
workers_sync_listeners(struct gh_server *s)
{
    for (unsigned i = 0; i < s->worker_count; i++) {
        struct worker *w = &s->workers[i];
        if (!atomic_exchange(&w->listeners_task_queued, true)) {
            w->listeners_task.run = listeners_task_run;
            worker_post(w, &w->listeners_task);
        }
    }
}

int
gh_server_create(const char *config_path, gh_server **server_out, char *err, size_t err_len)
{
    struct gh_server *s = NULL;
    struct config *cfg = NULL;
    int rc;

    *server_out = NULL;
    struct auth_engine *engine = NULL;
    struct auth_engine_params ap = {.backend = auth_backend_real()};
    rc = auth_engine_create(&ap, &engine);
    if (rc != GH_OK)
        return rc;
    rc = config_load_engine(config_path, engine, &cfg, err, err_len);
    if (rc != GH_OK) {
        auth_engine_destroy(engine);
        return rc;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        config_unref(cfg);
        auth_engine_destroy(engine);
        return GH_ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->config = cfg;
    s->auth_engine = engine;
    /* The audit log is the server's: the engine borrows it for its whole life,
     * so it is opened once and a reload cannot move it. */
    if (cfg->auth_audit_log_path != NULL) {
        rc = log_create(cfg->auth_audit_log_path, LOG_DEBUG, &s->audit_log);
        if (rc != GH_OK) {
            snprintf(err, err_len, "cannot open audit log %s: %s", cfg->auth_audit_log_path,
                     strerror(errno));
            goto fail;
        }
        auth_engine_set_audit_log(engine, s->audit_log);
    }
    auth_engine_set_digest_lifetime(engine, cfg->auth_digest_nonce_ms / 1000);
    auth_engine_set_backoff(engine, cfg->auth_backoff_threshold, cfg->auth_backoff_max_ms,
                            cfg->auth_backoff_window_ms);
    s->control_fd = -1;
    s->config_path = strdup(config_path);
    s->control_fd = eventfd(0, EFD_CLOEXEC);
    if (s->config_path == NULL || s->control_fd < 0) {
        rc = GH_ENOMEM;
        goto fail;
    }
    rc = listeners_apply(s, cfg, err, err_len);
    if (rc != GH_OK)
        goto fail;
    s->worker_count = cfg->worker_count;
    s->workers = calloc(s->worker_count, sizeof(*s->workers));
    if (s->workers == NULL) {
        rc = GH_ENOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < s->worker_count; i++) {
        struct worker *w = &s->workers[i];
        w->ev_kind = EV_WAKE;
        w->server = s;
        w->id = i;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        pthread_mutex_init(&w->lock, NULL);
        atomic_init(&w->listeners_task_queued, false);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        if (w->epfd < 0 || w->wake_fd < 0 ||
            epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev) != 0) {
            snprintf(err, err_len, "cannot create worker loop: %s", strerror(errno));
            rc = GH_EIO;
            goto fail;
        }
    }
    rc = pool_create(cfg->blocking_threads, cfg->blocking_queue, &s->pool);
    if (rc != GH_OK)
        goto fail;
    *server_out = s;
    return GH_OK;
fail:
    if (rc == GH_ENOMEM && err_len > 0 && err[0] == '\0')
        snprintf(err, err_len, "out of memory");
    gh_server_destroy(s);
    return rc;
}

static bool
same_path(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
do_reload(struct gh_server *s)
{
    struct config *old = server_config_get(s);
    struct config *cfg = NULL;
    char err[1024];

    server_notify(SERVER_RELOADING, "reloading the configuration");
    int rc = config_load_engine(s->config_path, s->auth_engine, &cfg, err, sizeof(err));
    if (rc == GH_OK && cfg->worker_count != s->worker_count)
        log_msg(old->error_log, LOG_WARN,
                "reload: worker_threads changes only at restart (keeping %u)", s->worker_count);
    if (rc == GH_OK && !same_path(cfg->auth_audit_log_path, old->auth_audit_log_path))
        log_msg(old->error_log, LOG_WARN, "reload: auth_audit_log changes only at restart");
    if (rc == GH_OK) {
        pthread_mutex_lock(&s->lock);
        rc = listeners_apply(s, cfg, err, sizeof(err));
        if (rc == GH_OK) {
            s->config = cfg;
            atomic_fetch_add(&s->config_gen, 1);
            config_unref(old); /* the server's reference */
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (rc != GH_OK) {
        log_msg(old->error_log, LOG_ERROR, "reload failed, keeping the old configuration: %s", err);
        server_notify(SERVER_READY, "serving; the last reload failed (see the error log)");
        config_unref(cfg);
        config_unref(old);
        return;
    }
    auth_engine_set_digest_lifetime(s->auth_engine, cfg->auth_digest_nonce_ms / 1000);
    auth_engine_set_backoff(s->auth_engine, cfg->auth_backoff_threshold, cfg->auth_backoff_max_ms,
                            cfg->auth_backoff_window_ms);
    log_msg(cfg->error_log, LOG_INFO, "configuration reloaded from %s", s->config_path);
    server_notify(SERVER_READY, "serving; configuration reloaded");
    config_unref(old);
    workers_sync_listeners(s);
}

/* SIGUSR1. Only the current snapshot's logs are reopened: a connection still
 * on an older snapshot (after a reload) writes to that snapshot's files until
 * its next request moves it. */
static void
do_reopen_logs(struct gh_server *s)
{
    struct config *cfg = server_config_get(s);
    struct log *logs[] = {cfg->error_log, cfg->access_log, s->audit_log};
    unsigned failed = 0;

    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        if (log_reopen(logs[i]) != GH_OK) {
            failed++;
            log_msg(cfg->error_log, LOG_ERROR, "cannot reopen log %s: %s (writing to the old file)",
                    log_path(logs[i]), strerror(errno));
        }
    }
    if (failed == 0)
        log_msg(cfg->error_log, LOG_INFO, "log files reopened");
    config_unref(cfg);
}

int
gh_server_run(gh_server *s)
{
    unsigned started = 0;
    int rc = GH_OK;

    atomic_store(&s->live_workers, s->worker_count);
    for (; started < s->worker_count; started++) {
        if (pthread_create(&s->workers[started].thread, NULL, worker_main, &s->workers[started]) !=
            0) {
            rc = GH_ENOMEM;
            atomic_store(&s->stop_requested, true);
            atomic_fetch_sub(&s->live_workers, s->worker_count - started);
            break;
        }
    }
    if (rc == GH_OK) {
        struct config *cfg = server_config_get(s);
        log_msg(cfg->error_log, LOG_INFO, "gatehouse %s ready: %u worker%s", GH_VERSION,
                s->worker_count, s->worker_count == 1 ? "" : "s");
        config_unref(cfg);
        /* Listeners were bound by gh_server_create and the workers run. */
        char status[64];
        snprintf(status, sizeof(status), "serving with %u worker%s", s->worker_count,
                 s->worker_count == 1 ? "" : "s");
        server_notify(SERVER_READY, status);
    }
    while (!atomic_load(&s->stop_requested)) {
        uint64_t v;
        ssize_t n = read(s->control_fd, &v, sizeof(v));
        if (n < 0 && errno != EINTR)
            break;
        if (atomic_exchange(&s->reload_requested, false) && !atomic_load(&s->stop_requested))
            do_reload(s);
        if (atomic_exchange(&s->reopen_requested, false) && !atomic_load(&s->stop_requested))
            do_reopen_logs(s);
    }
    atomic_store(&s->stop_requested, true);
    server_notify(SERVER_STOPPING, "stopping: finishing in-flight requests");
    struct config *cfg = server_config_get(s);
    log_msg(cfg->error_log, LOG_INFO, "shutting down: finishing in-flight requests");
    config_unref(cfg);
    for (unsigned i = 0; i < started; i++) {
        uint64_t one = 1;
        ssize_t n = write(s->workers[i].wake_fd, &one, sizeof(one));
        (void)n;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(s->workers[i].thread, NULL);
    cfg = server_config_get(s);
    log_msg(cfg->error_log, LOG_INFO, "stopped");
    config_unref(cfg);
    return rc;
}

void
gh_server_stop(gh_server *s)
{
    uint64_t one = 1;

    atomic_store(&s->stop_requested, true);
    ssize_t n = write(s->control_fd, &one, sizeof(one));
    (void)n;
}

void
gh_server_reload(gh_server *s)
{
    uint64_t one = 1;

    atomic_store(&s->reload_requested, true);
    ssize_t n = write(s->control_fd, &one, sizeof(one));
    (void)n;
}

void
gh_server_reopen_logs(gh_server *s)
{
    uint64_t one = 1;

    atomic_store(&s->reopen_requested, true);
    ssize_t n = write(s->control_fd, &one, sizeof(one));
    (void)n;
}

void
gh_server_destroy(gh_server *s)
{
    if (s == NULL)
        return;
    pool_destroy(s->pool);
    for (unsigned i = 0; s->workers != NULL && i < s->worker_count; i++) {
        struct worker *w = &s->workers[i];
        worker_discard_posted(w);
        /* Connections left by a forced stop (a module that never resumed). */
        while (w->conns != NULL) {
            struct conn *c = w->conns;
            if (c->req != NULL) {
                c->req->is_pending = false;
                c->req->in_pipeline = false;
            }
            conn_abort(c);
            if (w->conns == c)
                break; /* could not free it: give up rather than spin */
        }
        while (w->free_requests != NULL) {
            struct gh_request *r = w->free_requests;
            w->free_requests = r->next_free;
            request_free(r);
        }
        while (w->free_buf_count > 0)
            free(w->free_bufs[--w->free_buf_count]);
        free(w->heap);
        free(w->scratch_headers);
        fiber_pool_free(w);
        if (w->epfd > 0)
            close(w->epfd);
        if (w->wake_fd > 0)
            close(w->wake_fd);
        pthread_mutex_destroy(&w->lock);
    }
    free(s->workers);
    while (s->listeners != NULL) {
        struct listener *l = s->listeners;
        s->listeners = l->next;
        listener_close(l);
    }
    if (s->control_fd >= 0)
        close(s->control_fd);
    config_unref(s->config);
    /* Every connection and config is gone: nothing borrows the engine now. */
    auth_engine_destroy(s->auth_engine);
    log_destroy(s->audit_log);
    free(s->config_path);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
