// SPDX-License-Identifier: MIT
// The built-in `proxy` handler: reverse proxy to an HTTP/1.1 backend.
//
// Threading (details and trade-offs in docs/internals/modules.md). The module
// API gives a handler no way to put a backend socket in the worker's epoll set,
// so the backend I/O runs as blocking jobs on the server's blocking-work pool
// (gh_request_run_blocking), one job at a time per request:
//   1. the execute hook builds the backend request head and reads the client's
//      body (gh_request_body_read, loop thread) into a bounded upload buffer;
//   2. a job sends what is buffered (connecting first, with a timeout); its
//      completion reads more body on the loop thread and submits the next job;
//      the last job also reads the response head;
//   3. the completion copies status and headers into the response, starts a
//      gh_response_stream whose pull drains a bounded ring, and submits one
//      streaming job that fills the ring from the backend and wakes the stream
//      (gh_response_stream_wake) whenever the pull is waiting.
// Nothing is ever buffered whole: the upload buffer and the ring are 64 KiB.
//
// Keep-alive backend connections are pooled per worker thread (thread-local,
// no lock): taken in the hook and given back by the streaming job's completion,
// both of which run on the request's worker loop.
//
// Identity for issue 4: the configured identity headers are removed from the
// client's request unconditionally, then set from gh_request_auth_identity() when the
// request is authenticated, so a client can never forge them.
#include "modules/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gatehouse/error.h>
#include <gatehouse/http.h>
#include <gatehouse/module.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/secret.h"
#include "base/slice.h"
#include "http/h1.h"

#define HEAD_OUT_BYTES (64 * 1024) /* request head sent to the backend */
#define NAME_BYTES     64
/* RFC 9440 fields: default and bounds of proxy_client_cert_max (the encoded
 * Client-Cert plus Client-Cert-Chain values; the whole head is HEAD_OUT_BYTES). */
#define CLIENT_CERT_DEFAULT_BYTES (16 * 1024)
#define CLIENT_CERT_MIN_BYTES     512
#define CLIENT_CERT_MAX_BYTES     (40 * 1024)

enum client_cert_mode {
    CLIENT_CERT_OFF = 0,
    CLIENT_CERT_LEAF = 1,  /* Client-Cert */
    CLIENT_CERT_CHAIN = 2, /* Client-Cert and Client-Cert-Chain */
};

enum delegated_mode {
    DELEGATED_OFF = 0,
    DELEGATED_BASIC = 1,    /* Authorization: Basic from the CredSSP-delegated password */
    DELEGATED_NTLM = 2,     /* NTLM handshake with them, on a connection of its own */
    DELEGATED_KERBEROS = 3, /* Negotiate with the client's delegated Kerberos TGT */
};

enum identity_field {
    ID_USER,
    ID_GROUPS,
    ID_AUTH_TYPE,
    ID_GROUP_SIDS, /* off unless configured */
    ID_COUNT
};

/* The longest groups (or group SIDs) header value: a domain user can be in
 * hundreds of groups, and backends cap header lines (8 KiB by default in
 * nginx, Apache and Node). A list that does not fit is left out whole rather
 * than cut: a cut list would silently drop memberships. */
#define GROUPS_HEADER_MAX_BYTES 8192

struct proxy_config {
    bool is_set;
    char host[256]; /* as written in proxy_pass, for the Host header */
    char port[8];
    char authority[300]; /* host[:port] for Host */
    char prefix[1024];   /* path prefix of proxy_pass, "" when none */
    struct sockaddr_storage addr;
    socklen_t addr_len; /* 0 until config_check resolved host */
    int connect_timeout_ms;
    int read_timeout_ms;
    unsigned keepalive;
    char identity[ID_COUNT][NAME_BYTES]; /* "" when off */
    bool pass_authorization;             /* proxy_pass_authorization on */
    enum client_cert_mode client_cert;   /* proxy_client_cert */
    size_t client_cert_max_bytes;        /* proxy_client_cert_max */
    enum delegated_mode delegated;       /* proxy_delegated_credentials */
    bool delegated_basic_over_http;      /* proxy_delegated_basic_over_http on */
    char service_name[300];              /* proxy_backend_service_name; "": HTTP/host */
};

extern const struct gh_module proxy_module;

/* ------------------------------------------------------------ config */

static int
proxy_config_create(void **config_out)
{
    struct proxy_config *cfg = calloc(1, sizeof(*cfg));

    *config_out = NULL;
    if (cfg == NULL)
        return GH_ENOMEM;
    cfg->connect_timeout_ms = 5000;
    cfg->read_timeout_ms = 60000;
    cfg->keepalive = 16;
    cfg->client_cert_max_bytes = CLIENT_CERT_DEFAULT_BYTES;
    snprintf(cfg->identity[ID_USER], NAME_BYTES, "X-Remote-User");
    snprintf(cfg->identity[ID_GROUPS], NAME_BYTES, "X-Remote-Groups");
    snprintf(cfg->identity[ID_AUTH_TYPE], NAME_BYTES, "X-Remote-Auth-Type");
    *config_out = cfg;
    return GH_OK;
}

static void
proxy_config_destroy(void *config)
{
    free(config);
}

/* "http://host[:port][/prefix]"; IPv6 literals in brackets. */
static int
parse_pass(struct proxy_config *cfg, const char *url, char *err, size_t err_len)
{
    const char *p = url, *host, *host_end, *port = "80";
    size_t port_len = 2;

    if (strncasecmp(p, "http://", 7) != 0) {
        snprintf(err, err_len, "proxy_pass needs an http:// URL (https backends: not yet)");
        return GH_EINVAL;
    }
    p += 7;
    if (*p == '[') {
        host = ++p;
        host_end = strchr(p, ']');
        if (host_end == NULL)
            goto bad;
        p = host_end + 1;
    } else {
        host = p;
        while (*p != '\0' && *p != ':' && *p != '/')
            p++;
        host_end = p;
    }
    if (*p == ':') {
        port = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        port_len = (size_t)(p - port);
        if (port_len == 0 || port_len > 5)
            goto bad;
    }
    if (*p != '\0' && *p != '/')
        goto bad;
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof(cfg->host) || strlen(p) >= sizeof(cfg->prefix) ||
        strpbrk(p, " \t\r\n?#") != NULL)
        goto bad;
    memcpy(cfg->host, host, host_len);
    cfg->host[host_len] = '\0';
    memcpy(cfg->port, port, port_len);
    cfg->port[port_len] = '\0';
    snprintf(cfg->prefix, sizeof(cfg->prefix), "%s", strcmp(p, "/") == 0 ? "" : p);
    bool is_v6 = strchr(cfg->host, ':') != NULL;
    snprintf(cfg->authority, sizeof(cfg->authority), "%s%s%s%s%s", is_v6 ? "[" : "", cfg->host,
             is_v6 ? "]" : "", strcmp(cfg->port, "80") == 0 ? "" : ":",
             strcmp(cfg->port, "80") == 0 ? "" : cfg->port);
    cfg->is_set = true;
    cfg->addr_len = 0;
    return GH_OK;
bad:
    snprintf(err, err_len, "proxy_pass: malformed URL %s", url);
    return GH_EINVAL;
}

/* "5s", "500ms", "2m", or a bare number of seconds; > 0, at most a day. */
static int
parse_duration_ms(const char *text, int *ms_out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    long mult = 1000;

    if (end == text || errno != 0 || v <= 0)
        return GH_EINVAL;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "s") != 0 && *end != '\0')
        return GH_EINVAL;
    if (v > 86400000L / mult)
        return GH_EINVAL;
    *ms_out = (int)(v * mult);
    return GH_OK;
}

static bool
is_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (strchr("!#$%&'*+-.^_`|~", *s) == NULL &&
            !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return false;
    }
    return true;
}

/* The set functions of the directive table below: the server has checked
 * the context and the argument count (the table's), so each one reads args[0]. */
static int
set_pass(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    return parse_pass(config, d->args[0], err, err_len);
}

static int
set_timeout(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct proxy_config *cfg = config;
    int *out = d->name[6] == 'c' ? &cfg->connect_timeout_ms : &cfg->read_timeout_ms;

    if (parse_duration_ms(d->args[0], out) != GH_OK) {
        snprintf(err, err_len, "%s needs one duration (e.g. 5s, 500ms)", d->name);
        return GH_EINVAL;
    }
    return GH_OK;
}

static int
set_keepalive(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct proxy_config *cfg = config;
    char *end = NULL;
    long v = strtol(d->args[0], &end, 10);

    if (end == d->args[0] || *end != '\0' || v < 0 || v > 1024) {
        snprintf(err, err_len, "proxy_keepalive needs a count of idle connections (0-1024)");
        return GH_EINVAL;
    }
    cfg->keepalive = (unsigned)v;
    return GH_OK;
}

/* on|off into a bool; which bool the directive's name says. */
static int
set_flag(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct proxy_config *cfg = config;
    bool *out = strcmp(d->name, "proxy_pass_authorization") == 0 ? &cfg->pass_authorization
                                                                 : &cfg->delegated_basic_over_http;

    if (strcmp(d->args[0], "on") != 0 && strcmp(d->args[0], "off") != 0) {
        snprintf(err, err_len, "%s takes on or off", d->name);
        return GH_EINVAL;
    }
    *out = strcmp(d->args[0], "on") == 0;
    return GH_OK;
}

/* The index of word in words (the enum value it names), or -1. */
static int
word_index(const char *word, const char *const *words, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(word, words[i]) == 0)
            return (int)i;
    }
    return -1;
}

static int
set_delegated(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    static const char *const modes[] = {"off", "basic", "ntlm", "kerberos"};
    struct proxy_config *cfg = config;
    int i = word_index(d->args[0], modes, sizeof(modes) / sizeof(modes[0]));

    if (i < 0) {
        snprintf(err, err_len, "proxy_delegated_credentials takes off, basic, ntlm or kerberos");
        return GH_EINVAL;
    }
    cfg->delegated = (enum delegated_mode)i;
    return GH_OK;
}

/* proxy_backend_service_name SERVICE/HOST[@REALM] */
static int
set_service_name(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct proxy_config *cfg = config;
    const char *v = d->args[0];
    const char *slash = strchr(v, '/');
    size_t len = strlen(v);

    if (slash == NULL || slash == v || slash[1] == '\0' || len >= sizeof(cfg->service_name)) {
        snprintf(err, err_len,
                 "proxy_backend_service_name takes SERVICE/HOST (e.g. "
                 "HTTP/app.example.org), at most %zu bytes",
                 sizeof(cfg->service_name) - 1);
        return GH_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f) {
            snprintf(err, err_len, "proxy_backend_service_name: no spaces or control bytes");
            return GH_EINVAL;
        }
    }
    memcpy(cfg->service_name, v, len + 1);
    return GH_OK;
}

static int
set_client_cert(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    static const char *const modes[] = {"off", "on", "chain"};
    struct proxy_config *cfg = config;
    int i = word_index(d->args[0], modes, sizeof(modes) / sizeof(modes[0]));

    if (i < 0) {
        snprintf(err, err_len, "proxy_client_cert takes off, on or chain");
        return GH_EINVAL;
    }
    cfg->client_cert = (enum client_cert_mode)i;
    return GH_OK;
}

static int
set_client_cert_max(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct proxy_config *cfg = config;
    char *end = NULL;
    long v = strtol(d->args[0], &end, 10);

    if (v > 0 && end != NULL && (*end == 'k' || *end == 'K') && end[1] == '\0') {
        v *= 1024;
        end++;
    }
    if (end == NULL || end == d->args[0] || *end != '\0' || v < CLIENT_CERT_MIN_BYTES ||
        v > CLIENT_CERT_MAX_BYTES) {
        snprintf(err, err_len, "proxy_client_cert_max needs a size from 512 to 40k");
        return GH_EINVAL;
    }
    cfg->client_cert_max_bytes = (size_t)v;
    return GH_OK;
}

static int
set_identity_header(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    static const char *const fields[ID_COUNT] = {"user", "groups", "auth_type", "group_sids"};
    struct proxy_config *cfg = config;
    size_t f = 0;

    while (f < ID_COUNT && strcmp(d->args[0], fields[f]) != 0)
        f++;
    if (f == ID_COUNT || !is_token(d->args[1]) || strlen(d->args[1]) >= NAME_BYTES) {
        snprintf(err, err_len,
                 "proxy_identity_header needs user|groups|auth_type|group_sids and a "
                 "header name (or off)");
        return GH_EINVAL;
    }
    snprintf(cfg->identity[f], NAME_BYTES, "%s", strcmp(d->args[1], "off") == 0 ? "" : d->args[1]);
    return GH_OK;
}

#define MAIN_LOC (GH_CONF_MAIN | GH_CONF_LOCATION)
/* The proxy's directives; docs/config.md documents each (tests/integration/
 * test_config_docs.py checks both lists agree). */
static const struct gh_command proxy_commands[] = {
    {"proxy_pass", MAIN_LOC, 1, 1, set_pass, "http://HOST[:PORT][/PREFIX]", NULL,
     "the backend requests go to (with handler proxy); PREFIX replaces the location's prefix"},
    {"proxy_connect_timeout", MAIN_LOC, 1, 1, set_timeout, "DURATION", "5s",
     "connect timeout toward the backend; exceeded: 504"},
    {"proxy_read_timeout", MAIN_LOC, 1, 1, set_timeout, "DURATION", "60s",
     "longest wait for any backend read or write; exceeded before the response head: 504"},
    {"proxy_keepalive", MAIN_LOC, 1, 1, set_keepalive, "N", "16",
     "idle backend connections kept per worker (0..1024; 0: one connection per request)"},
    {"proxy_pass_authorization", MAIN_LOC, 1, 1, set_flag, "on|off", "off",
     "forward the client's Authorization header to the backend"},
    {"proxy_delegated_credentials", MAIN_LOC, 1, 1, set_delegated, "off|basic|ntlm|kerberos", "off",
     "log on to the backend as the client: with the password it delegated over CredSSP "
     "(basic, ntlm) or the Kerberos ticket it delegated (kerberos)"},
    {"proxy_backend_service_name", MAIN_LOC, 1, 1, set_service_name, "SERVICE/HOST", NULL,
     "the backend's Kerberos service name for proxy_delegated_credentials kerberos "
     "(default HTTP/ and proxy_pass's host)"},
    {"proxy_delegated_basic_over_http", MAIN_LOC, 1, 1, set_flag, "on|off", "off",
     "allow proxy_delegated_credentials basic toward an http:// backend"},
    {"proxy_client_cert", MAIN_LOC, 1, 1, set_client_cert, "off|on|chain", "off",
     "send the client's certificate to the backend in Client-Cert (RFC 9440)"},
    {"proxy_client_cert_max", MAIN_LOC, 1, 1, set_client_cert_max, "SIZE", "16k",
     "largest certificate (or chain) sent in Client-Cert, 512..40k"},
    {"proxy_identity_header", MAIN_LOC, 2, 2, set_identity_header,
     "user|groups|auth_type|group_sids NAME|off", NULL,
     "header carrying the identity to the backend (default X-Remote-User, X-Remote-Groups, "
     "X-Remote-Auth-Type; group_sids off); a groups list over 8 KiB is left out"},
    GH_COMMAND_END,
};

static int
proxy_config_check(void *config, char *err, size_t err_len)
{
    struct proxy_config *cfg = config;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;

    /* Every backend is http:// (proxy_pass takes nothing else yet): a delegated
     * password in Basic would cross the backend network in clear. */
    if (cfg->delegated == DELEGATED_BASIC && !cfg->delegated_basic_over_http) {
        snprintf(err, err_len,
                 "proxy_delegated_credentials basic would send the delegated password in "
                 "clear to an http:// backend; add proxy_delegated_basic_over_http on if the "
                 "backend network is trusted (loopback, private link)");
        return GH_EINVAL;
    }
    if (!cfg->is_set || cfg->addr_len != 0)
        return GH_OK;
    /* Resolved once, at load (and reload): requests never wait for DNS. */
    int rc = getaddrinfo(cfg->host, cfg->port, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(err, err_len, "proxy_pass: cannot resolve %s: %s", cfg->host, gai_strerror(rc));
        return GH_EINVAL;
    }
    memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
    cfg->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return GH_OK;
}

/* ------------------------------------------------ per-worker keep-alive pool */

#define POOL_SLOTS   64
#define POOL_IDLE_MS 30000

struct pooled {
    int fd;
    socklen_t addr_len;
    struct sockaddr_storage addr;
    uint64_t idle_since_ms;
};

/* One pool per worker thread: only the worker's loop touches it. */
static _Thread_local struct pooled pool[POOL_SLOTS];
static _Thread_local size_t pool_len;

static bool
same_addr(const struct pooled *p, const struct sockaddr_storage *addr, socklen_t len)
{
    return p->addr_len == len && memcmp(&p->addr, addr, len) == 0;
}

static void
pool_remove(size_t i)
{
    pool[i] = pool[--pool_len];
}

/* A pooled connection is usable when it has nothing to read: EOF or stray bytes
 * mean the backend closed it or broke framing. */
static bool
is_alive(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int
pool_take(const struct sockaddr_storage *addr, socklen_t len)
{
    uint64_t now = clock_monotonic_ms();

    for (size_t i = pool_len; i-- > 0;) {
        if (!same_addr(&pool[i], addr, len))
            continue;
        int fd = pool[i].fd;
        bool is_fresh = now - pool[i].idle_since_ms < POOL_IDLE_MS;
        pool_remove(i);
        if (is_fresh && is_alive(fd))
            return fd;
        close(fd);
    }
    return -1;
}

static void
pool_give(int fd, const struct sockaddr_storage *addr, socklen_t len, unsigned keepalive)
{
    size_t same = 0, oldest = SIZE_MAX;

    for (size_t i = 0; i < pool_len; i++) {
        if (!same_addr(&pool[i], addr, len))
            continue;
        same++;
        if (oldest == SIZE_MAX || pool[i].idle_since_ms < pool[oldest].idle_since_ms)
            oldest = i;
    }
    if (keepalive == 0) {
        close(fd);
        return;
    }
    if (same >= keepalive || pool_len == POOL_SLOTS) {
        size_t victim = same >= keepalive ? oldest : 0;
        close(pool[victim].fd);
        pool_remove(victim);
    }
    pool[pool_len].fd = fd;
    pool[pool_len].addr_len = len;
    memcpy(&pool[pool_len].addr, addr, len);
    pool[pool_len].idle_since_ms = clock_monotonic_ms();
    pool_len++;
}

/* ------------------------------------------------------------ exchange */

static struct proxy_exchange *
exchange_create(const struct proxy_config *cfg, gh_request *req)
{
    struct proxy_exchange *x = calloc(1, sizeof(*x));

    if (x == NULL)
        return NULL;
    x->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (x->cancel_fd < 0) {
        free(x);
        return NULL;
    }
    atomic_init(&x->refs, 1);
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    x->addr = cfg->addr;
    x->addr_len = cfg->addr_len;
    (void)snprintf(x->backend, sizeof(x->backend), "%s:%s", cfg->host, cfg->port);
    x->connect_timeout_ms = cfg->connect_timeout_ms;
    x->read_timeout_ms = cfg->read_timeout_ms;
    x->keepalive = cfg->keepalive;
    x->fd = -1;
    x->req = req;
    x->is_released = true; /* no stream yet */
    x->is_head_request = gh_request_is_head(req);
    buf_init(&x->out, HEAD_OUT_BYTES + PROXY_UPLOAD_BYTES + 64);
    buf_init(&x->ntlm_line, 8192);
    return x;
}

void
proxy_exchange_unref(struct proxy_exchange *x)
{
    if (x == NULL || atomic_fetch_sub(&x->refs, 1) != 1)
        return;
    if (x->fd >= 0)
        close(x->fd);
    proxy_ntlm_free(x);
    buf_free_wipe(&x->ntlm_line);
    free(x->krb_ccache);
    free(x->krb_target);
    close(x->cancel_fd);
    if (x->has_secret)
        buf_free_wipe(&x->out);
    else
        buf_free(&x->out);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
}

static void
exchange_ref(struct proxy_exchange *x)
{
    atomic_fetch_add(&x->refs, 1);
}

static void
slot_release(void *ctx)
{
    proxy_exchange_unref(ctx);
}

/* ------------------------------------------------------------ request head */

static bool
name_is(struct gh_str name, const char *want)
{
    return slice_eq_nocase(slice_make(name.ptr, name.len), slice_cstr(want));
}

/* name_is, with '_' and '-' the same: CGI, WSGI, PHP and Rack map both to one
 * variable (HTTP_X_REMOTE_USER), so a client's "X-Remote_User" would pass for
 * the identity header the backend trusts. */
static bool
name_is_loose(struct gh_str name, const char *want)
{
    size_t n = strlen(want);

    if (name.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)name.ptr[i], b = (unsigned char)want[i];
        a = a == '_' ? '-' : (unsigned char)tolower(a);
        b = b == '_' ? '-' : (unsigned char)tolower(b);
        if (a != b)
            return false;
    }
    return true;
}

/* Whether name appears as a token in any Connection header (RFC 9110 7.6.1). */
static bool
listed_in_connection(const gh_request *req, struct gh_str name)
{
    size_t count = gh_request_header_count(req);
    struct gh_str n, v;

    for (size_t i = 0; i < count; i++) {
        if (gh_request_header_at(req, i, &n, &v) != GH_OK || !name_is(n, "Connection"))
            continue;
        size_t pos = 0;
        while (pos < v.len) {
            while (pos < v.len && (v.ptr[pos] == ',' || v.ptr[pos] == ' ' || v.ptr[pos] == '\t'))
                pos++;
            size_t start = pos;
            while (pos < v.len && v.ptr[pos] != ',' && v.ptr[pos] != ' ' && v.ptr[pos] != '\t')
                pos++;
            if (pos > start && slice_eq_nocase(slice_make(v.ptr + start, pos - start),
                                               slice_make(name.ptr, name.len)))
                return true;
        }
    }
    return false;
}

/* The record when it holds credentials the client delegated through CredSSP
 * (`auth CredSSP;` with `auth_delegation on` and a client that delegated a
 * user name), else NULL: nothing else is ever forwarded as credentials. */
static const struct gh_auth_record *
delegated_auth(const gh_request *req)
{
    const struct gh_auth_record *auth = gh_request_auth_identity(req);

    if (auth->status != GH_AUTH_SUCCESS || auth->type != GH_AUTH_TYPE_CREDSSP ||
        auth->delegated_user == NULL || auth->delegated_user[0] == '\0' ||
        auth->delegated_password == NULL)
        return NULL;
    return auth;
}

/* The delegated Kerberos ccache when proxy_delegated_credentials kerberos
 * applies to req (a Kerberos/Negotiate logon whose client delegated), else
 * NULL. */
static const char *
delegated_ccache(const struct proxy_config *cfg, const gh_request *req)
{
    const struct gh_auth_record *auth = gh_request_auth_identity(req);

    if (cfg->delegated != DELEGATED_KERBEROS || auth->status != GH_AUTH_SUCCESS ||
        auth->delegated_ccache == NULL || auth->delegated_ccache[0] == '\0')
        return NULL;
    return auth->delegated_ccache;
}

/* Hop-by-hop (RFC 9110 7.6.1), framing, and headers this proxy rewrites. */
static bool
is_dropped_request_header(const struct proxy_config *cfg, const gh_request *req, struct gh_str n)
{
    static const char *const dropped[] = {
        "Connection",
        "Keep-Alive",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
        "Expect",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "Forwarded",
        "Proxy", /* httpoxy: a CGI backend would read it as HTTP_PROXY */
        "X-Remote-User",
        "X-Remote-Groups",
        "X-Remote-Auth-Type",
        /* RFC 9440: only this proxy may state the client's certificate, so a
         * client's own values go whether or not proxy_client_cert is on. */
        "Client-Cert",
        "Client-Cert-Chain",
    };
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        if (name_is_loose(n, dropped[i]))
            return true;
    }
    if (n.len >= 6 && strncasecmp(n.ptr, "Proxy-", 6) == 0)
        return true;
    for (size_t f = 0; f < ID_COUNT; f++) {
        if (cfg->identity[f][0] != '\0' && name_is_loose(n, cfg->identity[f]))
            return true; /* never let a client speak for the auth engine */
    }
    /* Credentials the server consumed (the location authenticated the request,
     * whatever the outcome) stay here: a Basic password must not travel on to
     * the backend, over plain HTTP, where auth_basic_over_http refused it from
     * the client. Backends doing their own authentication opt in. */
    if (!cfg->pass_authorization && name_is_loose(n, "Authorization") &&
        gh_request_auth_identity(req)->status != GH_AUTH_NOT_AUTHENTICATED)
        return true;
    /* The proxy states the backend credentials itself: the client's never
     * mixes with them. */
    if (cfg->delegated != DELEGATED_OFF && name_is_loose(n, "Authorization") &&
        (delegated_auth(req) != NULL || delegated_ccache(cfg, req) != NULL))
        return true;
    return listed_in_connection(req, n);
}

/* The previous hops' values of a header, joined by ", " (for appending). */
static int
append_joined(struct buf *out, const gh_request *req, const char *name)
{
    size_t count = gh_request_header_count(req);
    struct gh_str n, v;
    int rc = GH_OK;

    for (size_t i = 0; rc == GH_OK && i < count; i++) {
        if (gh_request_header_at(req, i, &n, &v) != GH_OK || !name_is(n, name))
            continue;
        rc = buf_append(out, v.ptr, v.len);
        if (rc == GH_OK)
            rc = buf_append(out, ", ", 2);
    }
    return rc;
}

/* A header value we generate must stay on its line. */
static bool
is_safe_value(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return false;
        if (*s == 0x7f)
            return false;
    }
    return true;
}

static const char *
auth_type_name(const struct gh_auth_record *auth)
{
    static const char *const names[] = {"",          "Basic",    "Digest",  "NTLM",
                                        "Negotiate", "Kerberos", "CredSSP", "ClientCert"};

    if ((unsigned)auth->type < sizeof(names) / sizeof(names[0]) && auth->type != 0)
        return names[auth->type];
    return auth->package_name != NULL ? auth->package_name : "";
}

/* "Name: a,b,c" from the non-NULL values that are safe on a header line and
 * hold no comma (it would split one group into two); nothing when none is, or
 * when the value would pass GROUPS_HEADER_MAX_BYTES (logged). */
static int
add_list_header(struct buf *out, const gh_request *req, const char *name, const char *const *values,
                size_t count)
{
    size_t start = out->len, first = 0;
    bool any = false;
    int rc = buf_printf(out, "%s: ", name);

    first = out->len;
    for (size_t i = 0; rc == GH_OK && i < count; i++) {
        const char *v = values[i];
        if (v == NULL || !is_safe_value(v) || strchr(v, ',') != NULL)
            continue;
        rc = buf_printf(out, "%s%s", any ? "," : "", v);
        any = true;
        if (out->len - first > GROUPS_HEADER_MAX_BYTES)
            break;
    }
    if (rc != GH_OK)
        return rc;
    if (!any || out->len - first > GROUPS_HEADER_MAX_BYTES) {
        if (any)
            gh_request_log(req, GH_LOG_WARN, "proxy: %s left out: the list is longer than %d bytes",
                           name, GROUPS_HEADER_MAX_BYTES);
        out->len = start;
        return GH_OK;
    }
    return buf_append(out, "\r\n", 2);
}

static int
add_identity(struct buf *out, const struct proxy_config *cfg, const gh_request *req)
{
    const struct gh_auth_record *auth = gh_request_auth_identity(req);
    int rc = GH_OK;

    if (auth->status != GH_AUTH_SUCCESS)
        return GH_OK;
    if (cfg->identity[ID_USER][0] != '\0' && auth->user_name != NULL &&
        is_safe_value(auth->user_name))
        rc = buf_printf(out, "%s: %s\r\n", cfg->identity[ID_USER], auth->user_name);
    if (rc == GH_OK && cfg->identity[ID_GROUPS][0] != '\0')
        rc = add_list_header(out, req, cfg->identity[ID_GROUPS], auth->groups, auth->group_count);
    if (rc == GH_OK && cfg->identity[ID_GROUP_SIDS][0] != '\0' && auth->group_sids != NULL)
        rc = add_list_header(out, req, cfg->identity[ID_GROUP_SIDS], auth->group_sids,
                             auth->group_count);
    const char *type = auth_type_name(auth);
    if (rc == GH_OK && cfg->identity[ID_AUTH_TYPE][0] != '\0' && type[0] != '\0' &&
        is_safe_value(type))
        rc = buf_printf(out, "%s: %s\r\n", cfg->identity[ID_AUTH_TYPE], type);
    return rc;
}

/* Bytes a Basic user-id or password may not hold: control bytes end the header
 * line, and a colon in the user-id would move the split (RFC 7617 2). */
static bool
is_basic_safe(const char *s, size_t len, bool is_user)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (is_user && c == ':'))
            return false;
    }
    return true;
}

/* proxy_delegated_credentials basic: "Authorization: Basic <b64 of
 * [domain\]user:password>" (RFC 7617) from the CredSSP-delegated credentials.
 * The plain text lives in a wiped scratch buffer; x->out is made full-size
 * first so that it never reallocates (which would leave a copy behind) and is
 * wiped once sent (feed_done) or when the exchange ends. */
static int
add_delegated(struct proxy_exchange *x, const struct proxy_config *cfg, gh_request *req)
{
    const struct gh_auth_record *auth =
        cfg->delegated != DELEGATED_OFF ? delegated_auth(req) : NULL;
    struct buf plain;
    int rc;

    x->auth_at = x->out.len;
    if (auth == NULL || cfg->delegated != DELEGATED_BASIC)
        return GH_OK;
    const char *domain = auth->delegated_domain != NULL ? auth->delegated_domain : "";
    size_t ulen = strlen(auth->delegated_user), dlen = strlen(domain);
    size_t plen = auth->delegated_password_len;
    if (!is_basic_safe(auth->delegated_user, ulen, true) || !is_basic_safe(domain, dlen, true) ||
        !is_basic_safe(auth->delegated_password, plen, false)) {
        gh_request_log(req, GH_LOG_WARN,
                       "proxy: delegated credentials hold bytes Basic cannot carry; not sent");
        return GH_OK;
    }
    rc = buf_reserve(&x->out, x->out.max - x->out.len);
    if (rc != GH_OK)
        return rc;
    x->has_secret = true;
    buf_init(&plain, dlen + ulen + plen + 3);
    rc = buf_reserve(&plain, dlen + ulen + plen + 3);
    if (rc == GH_OK && dlen > 0)
        rc = buf_printf(&plain, "%s\\", domain);
    if (rc == GH_OK)
        rc = buf_printf(&plain, "%s:", auth->delegated_user);
    if (rc == GH_OK)
        rc = buf_append(&plain, auth->delegated_password, plen);
    if (rc == GH_OK)
        rc = buf_append_str(&x->out, "Authorization: Basic ");
    if (rc == GH_OK)
        rc = b64_encode(&x->out, buf_slice(&plain));
    if (rc == GH_OK)
        rc = buf_append(&x->out, "\r\n", 2);
    buf_free_wipe(&plain);
    return rc;
}

/* ":<base64>:", an RFC 8941 3.3.5 Byte Sequence, appended to out. */
static int
append_sf_binary(struct buf *out, const uint8_t *der, size_t len)
{
    int rc = buf_append(out, ":", 1);
    if (rc == GH_OK)
        rc = b64_encode(out, slice_make(der, len));
    if (rc == GH_OK)
        rc = buf_append(out, ":", 1);
    return rc;
}

/* RFC 9440 2.2 / 2.3: the client's certificate (verified chains only: the
 * fields assert what this proxy checked) and, with `chain`, the others it
 * sent, in its order. Past proxy_client_cert_max the chain is left out, and a
 * leaf that alone does not fit is not sent at all: the backend then sees no
 * certificate rather than a truncated one. */
static int
add_client_cert(struct buf *out, const struct proxy_config *cfg, gh_request *req)
{
    const struct gh_client_cert *cert = NULL;
    bool negotiated = false;
    size_t budget = cfg->client_cert_max_bytes;

    if (cfg->client_cert == CLIENT_CERT_OFF ||
        gh_request_client_cert(req, &cert, &negotiated) != GH_OK || cert == NULL ||
        cert->flags != 0 || cert->encoded == NULL || cert->encoded_len == 0)
        return GH_OK;
    size_t need = b64_encoded_len(cert->encoded_len) + 2;
    if (need > budget) {
        gh_request_log(req, GH_LOG_WARN,
                       "proxy: client certificate of %zu bytes exceeds "
                       "proxy_client_cert_max; Client-Cert not sent",
                       cert->encoded_len);
        return GH_OK;
    }
    budget -= need;
    int rc = buf_append_str(out, "Client-Cert: ");
    if (rc == GH_OK)
        rc = append_sf_binary(out, cert->encoded, cert->encoded_len);
    if (rc == GH_OK)
        rc = buf_append(out, "\r\n", 2);
    if (rc != GH_OK || cfg->client_cert != CLIENT_CERT_CHAIN || cert->chain_len == 0)
        return rc;
    need = 0;
    for (size_t i = 0; i < cert->chain_len; i++)
        need += b64_encoded_len(cert->chain[i].len) + 4;
    if (need > budget) {
        gh_request_log(req, GH_LOG_WARN,
                       "proxy: client certificate chain exceeds "
                       "proxy_client_cert_max; Client-Cert-Chain not sent");
        return GH_OK;
    }
    size_t start = out->len;
    rc = buf_append_str(out, "Client-Cert-Chain: ");
    for (size_t i = 0; rc == GH_OK && i < cert->chain_len; i++) {
        if (i > 0)
            rc = buf_append(out, ", ", 2);
        if (rc == GH_OK)
            rc = append_sf_binary(out, (const uint8_t *)cert->chain[i].ptr, cert->chain[i].len);
    }
    if (rc == GH_OK)
        rc = buf_append(out, "\r\n", 2);
    if (rc != GH_OK)
        out->len = start;
    return rc;
}

/* The URL path below the location, with the proxy_pass prefix in front. */
static int
append_target(struct buf *out, const struct proxy_config *cfg, const gh_request *req)
{
    const char *path = gh_request_path(req);
    const char *query = gh_request_query(req);
    int rc;

    if (cfg->prefix[0] != '\0') {
        const char *loc = gh_request_location(req);
        size_t loc_len = strlen(loc);
        if (loc_len > 1 && loc[loc_len - 1] == '/')
            loc_len--;
        if (loc_len > 1 && strncmp(path, loc, loc_len) == 0)
            path += loc_len;
        size_t plen = strlen(cfg->prefix);
        if (plen > 0 && cfg->prefix[plen - 1] == '/' && path[0] == '/')
            path++;
        rc = buf_append_str(out, cfg->prefix);
        if (rc == GH_OK && path[0] != '/' && path[0] != '\0' && cfg->prefix[plen - 1] != '/')
            rc = buf_append(out, "/", 1);
        if (rc != GH_OK)
            return rc;
    } else if (path[0] != '/') {
        path = "/";
    }
    rc = buf_append_str(out, path);
    if (rc == GH_OK && query[0] != '\0')
        rc = buf_printf(out, "?%s", query);
    return rc;
}

static int
build_head(struct proxy_exchange *x, const struct proxy_config *cfg, gh_request *req)
{
    struct buf *out = &x->out;
    size_t count = gh_request_header_count(req);
    int64_t body_len = gh_request_body_length(req);
    socklen_t alen = 0;
    const struct sockaddr *peer = gh_request_peer_addr(req, &alen);
    char ip[INET6_ADDRSTRLEN] = "unknown";
    bool is_v6 = false;
    const char *proto = gh_request_tls(req) != NULL ? "https" : "http";
    const char *host = gh_request_host(req);
    struct gh_str n, v;
    int rc;

    if (peer != NULL && peer->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, ip, sizeof(ip));
    else if (peer != NULL && peer->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, ip, sizeof(ip));
        is_v6 = true;
    }
    rc = buf_printf(out, "%s ", gh_request_method(req));
    if (rc == GH_OK)
        rc = append_target(out, cfg, req);
    if (rc == GH_OK)
        rc = buf_printf(out, " HTTP/1.1\r\nHost: %s\r\n", cfg->authority);
    for (size_t i = 0; rc == GH_OK && i < count; i++) {
        if (gh_request_header_at(req, i, &n, &v) != GH_OK)
            continue;
        if (is_dropped_request_header(cfg, req, n))
            continue;
        rc = h1_write_header(out, slice_make(n.ptr, n.len), slice_make(v.ptr, v.len));
    }
    /* De-facto X-Forwarded-*, and RFC 7239 Forwarded (IPv6 quoted, 6). */
    if (rc == GH_OK)
        rc = buf_append_str(out, "X-Forwarded-For: ");
    if (rc == GH_OK)
        rc = append_joined(out, req, "X-Forwarded-For");
    if (rc == GH_OK)
        rc = buf_printf(out, "%s\r\nX-Forwarded-Proto: %s\r\n", ip, proto);
    if (rc == GH_OK && host[0] != '\0' && is_safe_value(host) && strchr(host, '"') == NULL)
        rc = buf_printf(out, "X-Forwarded-Host: %s\r\n", host);
    if (rc == GH_OK)
        rc = buf_append_str(out, "Forwarded: ");
    if (rc == GH_OK)
        rc = append_joined(out, req, "Forwarded");
    if (rc == GH_OK)
        rc = buf_printf(out, "for=%s%s%s%s;proto=%s", is_v6 ? "\"[" : "", ip, is_v6 ? "]" : "",
                        is_v6 ? "\"" : "", proto);
    if (rc == GH_OK && host[0] != '\0' && is_safe_value(host) && strchr(host, '"') == NULL &&
        strchr(host, '\\') == NULL)
        rc = buf_printf(out, ";host=\"%s\"", host);
    if (rc == GH_OK)
        rc = buf_append(out, "\r\n", 2);
    if (rc == GH_OK)
        rc = add_identity(out, cfg, req);
    if (rc == GH_OK)
        rc = add_client_cert(out, cfg, req);
    if (rc == GH_OK)
        rc = add_delegated(x, cfg, req);
    /* Framing: the body is re-framed, never passed through raw. */
    if (rc == GH_OK && body_len > 0)
        rc = buf_printf(out, "Content-Length: %lld\r\n", (long long)body_len);
    else if (rc == GH_OK && body_len < 0)
        rc = buf_append_str(out, "Transfer-Encoding: chunked\r\n");
    else if (rc == GH_OK && (strcmp(gh_request_method(req), "POST") == 0 ||
                             strcmp(gh_request_method(req), "PUT") == 0))
        rc = buf_append_str(out, "Content-Length: 0\r\n");
    if (rc == GH_OK)
        rc = buf_append(out, "\r\n", 2);
    x->is_chunked_up = body_len < 0;
    x->body_done = body_len == 0;
    x->can_retry = body_len == 0;
    return rc;
}

/* ------------------------------------------------------------ response */

static bool
is_dropped_response_header(const struct proxy_exchange *x, struct slice n)
{
    static const char *const dropped[] = {"Connection",        "Keep-Alive",    "TE",
                                          "Trailer",           "Upgrade",       "Date",
                                          "Transfer-Encoding", "Content-Length"};
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        if (slice_eq_nocase(n, slice_cstr(dropped[i])))
            return true;
    }
    if (n.len >= 6 && strncasecmp((const char *)n.ptr, "Proxy-", 6) == 0)
        return true;
    /* Tokens of the backend's own Connection header are hop-by-hop too. */
    for (size_t i = 0; i < x->resp.header_count; i++) {
        const struct h1_header *h = &x->resp.headers[i];
        if (!slice_eq_nocase(h->name, SLICE_LIT("Connection")))
            continue;
        size_t pos = 0;
        while (pos < h->value.len) {
            while (pos < h->value.len && strchr(", \t", h->value.ptr[pos]) != NULL)
                pos++;
            size_t start = pos;
            while (pos < h->value.len && strchr(", \t", h->value.ptr[pos]) == NULL)
                pos++;
            if (pos > start && slice_eq_nocase(slice_make(h->value.ptr + start, pos - start), n))
                return true;
        }
    }
    return false;
}

static int
pull(void *arg, void *buf, size_t cap, size_t *len_out)
{
    struct proxy_exchange *x = arg;
    int rc = GH_OK;

    *len_out = 0;
    pthread_mutex_lock(&x->mu);
    if (x->ring_len > 0) {
        size_t n = x->ring_len < cap ? x->ring_len : cap;
        memcpy(buf, x->ring + x->ring_off, n);
        x->ring_off += n;
        x->ring_len -= n;
        if (x->ring_len == 0)
            x->ring_off = 0;
        *len_out = n;
        pthread_cond_signal(&x->cv);
    } else if (x->has_failed) {
        rc = GH_EIO; /* the client sees a truncated body: the server closes */
        if (!x->has_logged && x->req != NULL && x->stream_why != NULL) {
            char expected[48] = "an unknown number (chunked or until close)";
            if (x->body_expected >= 0)
                (void)snprintf(expected, sizeof(expected), "%lld", (long long)x->body_expected);
            gh_request_log(x->req, GH_LOG_ERROR,
                           "proxy: backend %s failed in the middle of its response after %llu "
                           "of %s body bytes: %s; the client's connection is aborted",
                           x->backend, (unsigned long long)x->body_relayed, expected,
                           x->stream_why);
        }
        x->has_logged = true;
    } else if (!x->is_eof) {
        x->pull_waiting = true;
        rc = GH_AGAIN;
    }
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static void
stream_release(void *arg)
{
    struct proxy_exchange *x = arg;
    uint64_t one = 1;

    pthread_mutex_lock(&x->mu);
    x->is_released = true;
    x->req = NULL;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (write(x->cancel_fd, &one, sizeof(one)) < 0) {
        /* Only EAGAIN (counter full) is possible: it is signalled already. */
    }
    proxy_exchange_unref(x);
}

static void
stream_work(void *arg)
{
    proxy_backend_stream(arg);
}

/* Completion of the streaming job, on the worker loop. The request may be gone
 * already: only the exchange is touched here. */
static void
stream_done(gh_request *req, void *arg)
{
    struct proxy_exchange *x = arg;

    (void)req;
    if (x->fd >= 0 && x->is_reusable && !x->never_pool) {
        pool_give(x->fd, &x->addr, x->addr_len, x->keepalive);
        x->fd = -1;
    }
    proxy_exchange_unref(x);
}

static enum gh_rq_status
answer_error(gh_request *req, struct proxy_exchange *x)
{
    int status = x->result >= 500 ? x->result : 502;

    gh_request_log(req, status == 504 ? GH_LOG_WARN : GH_LOG_ERROR, "proxy: %d: %s", status,
                   x->why != NULL ? x->why : "backend failure");
    if (x->fd >= 0) {
        close(x->fd);
        x->fd = -1;
    }
    gh_response_text(req, status, NULL);
    return GH_RQ_FINISH;
}

/* The response head has arrived: hand it to the client and start the body. */
static enum gh_rq_status
start_response(gh_request *req, struct proxy_exchange *x)
{
    int64_t length = -1;

    gh_response_status(req, x->resp.status);
    for (size_t i = 0; i < x->resp.header_count; i++) {
        const struct h1_header *h = &x->resp.headers[i];
        if (is_dropped_response_header(x, h->name))
            continue;
        char name[256], value[8192];
        if (h->name.len >= sizeof(name) || h->value.len >= sizeof(value))
            continue;
        memcpy(name, h->name.ptr, h->name.len);
        name[h->name.len] = '\0';
        memcpy(value, h->value.ptr, h->value.len);
        value[h->value.len] = '\0';
        int rc = gh_response_header_add(req, name, value);
        if (rc == GH_ENOMEM || rc == GH_ELIMIT) {
            x->result = 502;
            x->why = "backend response headers exceed the server's limits";
            return answer_error(req, x);
        }
    }
    if (x->body_kind == H1_BODY_NONE)
        length = x->is_head_request && x->resp.body_kind == H1_BODY_LENGTH
                     ? (int64_t)x->resp.content_length
                     : 0;
    else if (x->body_kind == H1_BODY_LENGTH)
        length = (int64_t)x->body_left;
    if (x->body_kind == H1_BODY_NONE) {
        if (x->resp.keep_alive && x->head_len == x->head_used && !x->never_pool)
            pool_give(x->fd, &x->addr, x->addr_len, x->keepalive);
        else
            close(x->fd);
        x->fd = -1;
        pthread_mutex_lock(&x->mu);
        x->is_eof = true;
        pthread_mutex_unlock(&x->mu);
    } else {
        pthread_mutex_lock(&x->mu);
        x->is_released = false; /* before the job can look at it */
        pthread_mutex_unlock(&x->mu);
        exchange_ref(x); /* the streaming job's */
        int rc = gh_request_run_blocking(req, stream_work, stream_done, x);
        if (rc != GH_OK) {
            proxy_exchange_unref(x);
            gh_response_header_set(req, "Retry-After", "1");
            x->result = 503;
            x->why = "blocking-work pool busy";
            return answer_error(req, x);
        }
    }
    pthread_mutex_lock(&x->mu);
    x->is_released = false;
    pthread_mutex_unlock(&x->mu);
    exchange_ref(x); /* the stream's; on failure release has run and dropped it */
    if (gh_response_stream(req, length, pull, stream_release, x) != GH_OK)
        gh_response_text(req, 500, NULL);
    return GH_RQ_FINISH;
}

static void feed_done(gh_request *req, void *arg);

static void
send_work(void *arg)
{
    struct proxy_exchange *x = arg;

    proxy_backend_send(x, x->body_done);
}

static enum gh_rq_status
submit_send(gh_request *req, struct proxy_exchange *x)
{
    exchange_ref(x);
    x->job_running = true;
    int rc = gh_request_run_blocking(req, send_work, feed_done, x);
    if (rc != GH_OK) {
        x->job_running = false;
        proxy_exchange_unref(x);
        gh_response_header_set(req, "Retry-After", "1");
        x->result = 503;
        x->why = "blocking-work pool busy";
        return answer_error(req, x);
    }
    return GH_RQ_PENDING;
}

/* Moves client body bytes into the upload buffer and decides the next step.
 * Loop thread; called from the hook and from job completions. */
static enum gh_rq_status
feed(gh_request *req, struct proxy_exchange *x)
{
    uint8_t chunk[16 * 1024];

    if (x->job_running)
        return GH_RQ_PENDING; /* re-entered on body bytes while a job runs */
    while (!x->body_done && x->out.len < PROXY_UPLOAD_BYTES) {
        size_t n = 0;
        int rc = gh_request_body_read(req, chunk, sizeof(chunk), &n);
        if (rc == GH_AGAIN) {
            if (x->out.len > 0)
                break;            /* send what we have meanwhile */
            return GH_RQ_PENDING; /* re-entered when bytes arrive */
        }
        if (rc < 0) {
            /* The server answers a failed body (400/413) and closes. */
            if (x->fd >= 0)
                close(x->fd);
            x->fd = -1;
            return GH_RQ_CONTINUE;
        }
        if (n == 0) {
            x->body_done = true;
            rc = x->is_chunked_up ? buf_append_str(&x->out, "0\r\n\r\n") : GH_OK;
        } else if (x->is_chunked_up) {
            rc = h1_write_chunk_header(&x->out, n);
            if (rc == GH_OK)
                rc = buf_append(&x->out, chunk, n);
            if (rc == GH_OK)
                rc = buf_append(&x->out, "\r\n", 2);
        } else {
            rc = buf_append(&x->out, chunk, n);
        }
        if (rc != GH_OK) {
            x->result = 502;
            x->why = "out of memory buffering the request body";
            return answer_error(req, x);
        }
    }
    return submit_send(req, x);
}

/* Completion of a send job, on the request's loop (the request is pending). */
static void
feed_done(gh_request *req, void *arg)
{
    struct proxy_exchange *x = arg;
    enum gh_rq_status st;

    x->job_running = false;
    if (x->has_secret && x->out.len == 0 && x->out.data != NULL) {
        /* The head with the delegated credentials is sent: wipe it now. The
         * buffer never reallocated (add_delegated reserved it whole). */
        secret_wipe(x->out.data, x->out.cap);
        x->has_secret = false;
    }
    if (x->result != GH_OK)
        st = answer_error(req, x);
    else if (x->body_done && x->out.len == 0)
        st = start_response(req, x);
    else
        st = feed(req, x);
    proxy_exchange_unref(x); /* the job's reference */
    if (st != GH_RQ_PENDING)
        gh_request_resume(req, st);
}

/* ------------------------------------------------ NTLM toward the backend */

void
proxy_ntlm_free(struct proxy_exchange *x)
{
    if (x->has_ntlm_ctx)
        DeleteSecurityContext(&x->ntlm_ctx);
    if (x->has_ntlm_cred)
        FreeCredentialsHandle(&x->ntlm_cred);
    x->has_ntlm_ctx = x->has_ntlm_cred = false;
}

int
proxy_ntlm_leg(struct proxy_exchange *x, struct slice challenge)
{
    SecBuffer in_buf = {(unsigned long)challenge.len, SECBUFFER_TOKEN, (void *)challenge.ptr};
    SecBufferDesc in_desc = {SECBUFFER_VERSION, 1, &in_buf};
    SecBuffer out_buf = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out_desc = {SECBUFFER_VERSION, 1, &out_buf};
    unsigned long attrs = 0;
    int rc = GH_EAUTH;

    SECURITY_STATUS st = InitializeSecurityContextA(
        &x->ntlm_cred, x->has_ntlm_ctx ? &x->ntlm_ctx : NULL, NULL,
        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION, 0, 0, challenge.len > 0 ? &in_desc : NULL, 0,
        &x->ntlm_ctx, &out_desc, &attrs, NULL);
    if (st >= 0)
        x->has_ntlm_ctx = true;
    x->ntlm_line.len = 0;
    if ((st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) && out_buf.cbBuffer > 0) {
        rc = buf_append_str(&x->ntlm_line, "Authorization: NTLM ");
        if (rc == GH_OK)
            rc = b64_encode(&x->ntlm_line, slice_make(out_buf.pvBuffer, out_buf.cbBuffer));
        if (rc == GH_OK)
            rc = buf_append(&x->ntlm_line, "\r\n", 2);
    }
    if (out_buf.pvBuffer != NULL)
        FreeContextBuffer(out_buf.pvBuffer);
    return rc;
}

/* Loop side of proxy_delegated_credentials ntlm: the credential from the
 * delegated identity, and the NEGOTIATE message. The SSPI copies the
 * identity into the credential (which wipes it when freed). */
static int
ntlm_start(struct proxy_exchange *x, const struct gh_auth_record *auth)
{
    const char *domain = auth->delegated_domain != NULL ? auth->delegated_domain : "";
    SEC_WINNT_AUTH_IDENTITY_A id = {
        .User = (unsigned char *)auth->delegated_user,
        .UserLength = (unsigned long)strlen(auth->delegated_user),
        .Domain = (unsigned char *)domain,
        .DomainLength = (unsigned long)strlen(domain),
        .Password = (unsigned char *)auth->delegated_password,
        .PasswordLength = (unsigned long)auth->delegated_password_len,
        .Flags = SEC_WINNT_AUTH_IDENTITY_ANSI,
    };

    SECURITY_STATUS st =
        AcquireCredentialsHandleA(NULL, (SEC_CHAR *)NTLMSP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &id,
                                  NULL, NULL, &x->ntlm_cred, NULL);
    if (st != SEC_E_OK)
        return GH_EAUTH;
    x->has_ntlm_cred = true;
    x->never_pool = true;
    x->ntlm_pending = true;
    return proxy_ntlm_leg(x, slice_make(NULL, 0));
}

int
proxy_krb_line(const struct proxy_exchange *x, struct buf *line, char *why, size_t why_len)
{
    GH_INITIATOR_AUTH_DATA data = {.Version = GH_INITIATOR_AUTH_DATA_V1, .Ccache = x->krb_ccache};
    SecBuffer out_buf = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out_desc = {SECBUFFER_VERSION, 1, &out_buf};
    CredHandle cred;
    CtxtHandle ctx;
    unsigned long attrs = 0;
    int rc = GH_EAUTH;

    line->len = 0;
    SECURITY_STATUS st =
        AcquireCredentialsHandleA(NULL, (SEC_CHAR *)NEGOSSP_NAME_A, SECPKG_CRED_OUTBOUND, NULL,
                                  &data, NULL, NULL, &cred, NULL);
    if (st != SEC_E_OK) {
        snprintf(why, why_len, "the client's delegated credentials hold no usable ticket (0x%08lx)",
                 (unsigned long)(uint32_t)st);
        return GH_EAUTH;
    }
    /* One token, no mutual authentication asked: the backend's answer is
     * relayed as it is. */
    st = InitializeSecurityContextA(&cred, NULL, (SEC_CHAR *)x->krb_target,
                                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_EXTENDED_ERROR, 0,
                                    SECURITY_NATIVE_DREP, NULL, 0, &ctx, &out_desc, &attrs, NULL);
    if ((st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) && out_buf.cbBuffer > 0) {
        rc = buf_append_str(line, "Authorization: Negotiate ");
        if (rc == GH_OK)
            rc = b64_encode(line, slice_make(out_buf.pvBuffer, out_buf.cbBuffer));
        if (rc == GH_OK)
            rc = buf_append(line, "\r\n", 2);
    } else {
        snprintf(why, why_len,
                 "no Kerberos ticket for %s with the client's delegated "
                 "credentials (0x%08lx): is the service name right, and may the "
                 "client's TGT be used for it (forwardable)?",
                 x->krb_target, (unsigned long)(uint32_t)st);
    }
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        DeleteSecurityContext(&ctx);
    if (out_buf.pvBuffer != NULL)
        FreeContextBuffer(out_buf.pvBuffer);
    FreeCredentialsHandle(&cred);
    return rc;
}

/* proxy_delegated_credentials kerberos, loop side: what the first send job
 * needs (the ccache and the service name, copied). */
static int
krb_start(struct proxy_exchange *x, const struct proxy_config *cfg, const char *ccache)
{
    char target[sizeof(cfg->service_name)];

    if (cfg->service_name[0] != '\0')
        snprintf(target, sizeof(target), "%s", cfg->service_name);
    else
        snprintf(target, sizeof(target), "HTTP/%s", cfg->host);
    x->krb_ccache = strdup(ccache);
    x->krb_target = strdup(target);
    if (x->krb_ccache == NULL || x->krb_target == NULL)
        return GH_ENOMEM;
    x->krb_pending = true;
    x->never_pool = true; /* a backend may keep the identity on the connection */
    x->has_secret = true; /* the head will carry a ticket and authenticator: wipe it */
    return GH_OK;
}

static enum gh_rq_status
proxy_execute(gh_request *req, void *config)
{
    const struct proxy_config *cfg = config;
    struct proxy_exchange *x = gh_request_module_ctx(req, &proxy_module);

    if (x != NULL)
        return feed(req, x); /* re-entered: more body bytes arrived */
    if (cfg == NULL || !cfg->is_set || cfg->addr_len == 0) {
        gh_request_log(req, GH_LOG_ERROR, "proxy: no proxy_pass for location %s",
                       gh_request_location(req));
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    x = exchange_create(cfg, req);
    if (x == NULL) {
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    if (gh_request_set_module_ctx(req, &proxy_module, x, slot_release) != GH_OK) {
        proxy_exchange_unref(x);
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    if (build_head(x, cfg, req) != GH_OK) {
        gh_response_text(req, 431, NULL); /* the rewritten head exceeds its limit */
        return GH_RQ_FINISH;
    }
    if (cfg->delegated == DELEGATED_NTLM && delegated_auth(req) != NULL) {
        if (ntlm_start(x, delegated_auth(req)) != GH_OK) {
            gh_request_log(req, GH_LOG_ERROR,
                           "proxy: cannot start NTLM with the delegated credentials");
            gh_response_text(req, 502, NULL);
            return GH_RQ_FINISH;
        }
    }
    const char *ccache = delegated_ccache(cfg, req);
    if (ccache != NULL && krb_start(x, cfg, ccache) != GH_OK) {
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    if (cfg->delegated == DELEGATED_KERBEROS && ccache == NULL)
        gh_request_log(req, GH_LOG_INFO,
                       "proxy: the client delegated no Kerberos credentials (auth_delegation on, "
                       "and a client allowed to delegate to this service?): the request goes "
                       "to the backend without them");
    x->fd = x->never_pool ? -1 : pool_take(&x->addr, x->addr_len);
    x->is_reused = x->fd >= 0;
    return feed(req, x);
}

const struct gh_module proxy_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "proxy",
    .description = "reverse proxy to HTTP/1.1 backends (pooled, streaming, identity headers)",
    .config_create = proxy_config_create,
    .commands = proxy_commands,
    .config_check = proxy_config_check,
    .config_destroy = proxy_config_destroy,
    .on_execute_handler = proxy_execute,
};
GH_MODULE_EXPORT(proxy_module)
