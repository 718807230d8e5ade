// SPDX-License-Identifier: MIT
// Gives meaning to the directive tree of conf_parse.c (docs/config.md). The
// result is an immutable, refcounted snapshot: workers hold a reference per
// connection and per request, so a reload swaps the pointer and the old snapshot
// (its TLS contexts, module configs and shared objects) goes when the last
// request using it ends.
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/conf_parse.h"
#include "server/server.h"

#define MAX_MODULES 64

/* Interpretation state; everything owned ends up in cfg or is freed in cleanup. */
struct interp {
    struct config *cfg;
    bool check_only;      /* serve --check: change nothing outside (log files) */
    const char *base_dir; /* directory of the config file, for relative paths */
    char *err;
    size_t err_len;
    struct tls_cert_spec certs[16];
    char *cert_paths[32];
    size_t cert_count;
    int tls_min, tls_max;
    bool tickets;
    uint32_t session_cache; /* tls_session_cache: sessions kept without tickets; 0 = off */
    char *ciphers, *ciphersuites;
    struct tls_client_trust trusts[16]; /* tls_client_ca / tls_client_crl, per SNI host */
    char *trust_strs[48];               /* owned strings the trusts point to */
    size_t trust_count;
    size_t trust_str_count;
    int client_verify_depth;
    const struct conf_node *module_directives[256]; /* server-level, replayed per location */
    size_t module_directive_count;
    const struct conf_node *first_tls_listen;
    const struct conf_node *auth_directives[64]; /* server-level auth*, replayed per location */
    size_t auth_directive_count;
    const struct conf_node *locs[256]; /* location blocks, in file order */
    int loc_host[256];                 /* their host block (index into hosts), or -1 */
    size_t loc_count;
    bool has_root_loc;
    const struct conf_node *hosts[64]; /* host blocks, in file order */
    bool host_has_root[64];
    size_t host_count;
    struct auth_engine *engine; /* borrowed from the server, or NULL */
};

/* One directive of the core (the server itself), as a row of core_cmds. */
struct core_cmd;
typedef int core_set_fn(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                        struct config_location *loc);
struct core_cmd {
    const char *name;
    unsigned contexts; /* GH_CONF_MAIN | GH_CONF_LOCATION */
    unsigned min_args, max_args;
    core_set_fn *set;
    size_t offset, width; /* the struct config field of the generic setters */
    uint64_t min, max;    /* their value range */
    const char *syntax, *default_value, *description; /* as struct gh_command */
};

static int fail(struct interp *in, const struct conf_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const struct core_cmd *core_command(const char *name);
static int core_apply(struct interp *in, const struct core_cmd *cmd, const struct conf_node *n,
                      struct config_location *loc);

static int
fail(struct interp *in, const struct conf_node *n, const char *fmt, ...)
{
    va_list ap;
    int m = 0;

    if (n != NULL)
        m = snprintf(in->err, in->err_len, "%s:%u: ", n->file, n->line);
    if (m < 0 || (size_t)m >= in->err_len)
        return GH_EINVAL;
    va_start(ap, fmt);
    vsnprintf(in->err + m, in->err_len - (size_t)m, fmt, ap);
    va_end(ap);
    return GH_EINVAL;
}

int
config_parse_size(const char *s, uint64_t *bytes_out)
{
    uint64_t v = 0, mult = 1;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return GH_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return GH_EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (*p == 'k' || *p == 'K')
        mult = 1024;
    else if (*p == 'm' || *p == 'M')
        mult = 1024 * 1024;
    else if (*p == 'g' || *p == 'G')
        mult = 1024ull * 1024 * 1024;
    else if (*p != '\0')
        return GH_EINVAL;
    if (*p != '\0' && p[1] != '\0')
        return GH_EINVAL;
    if (v > UINT64_MAX / mult)
        return GH_EINVAL;
    *bytes_out = v * mult;
    return GH_OK;
}

int
config_parse_duration(const char *s, uint32_t *ms_out)
{
    uint64_t v = 0, mult = 1000;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return GH_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > UINT32_MAX)
            return GH_EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (strcmp(p, "ms") == 0)
        mult = 1;
    else if (strcmp(p, "s") == 0 || *p == '\0')
        mult = 1000;
    else if (strcmp(p, "m") == 0)
        mult = 60000;
    else if (strcmp(p, "h") == 0)
        mult = 3600000;
    else
        return GH_EINVAL;
    if (v * mult > UINT32_MAX)
        return GH_EINVAL;
    *ms_out = (uint32_t)(v * mult);
    return GH_OK;
}

static int
want_args(struct interp *in, const struct conf_node *n, size_t min, size_t max)
{
    if (n->is_block)
        return fail(in, n, "'%s' takes no block", n->name);
    if (n->arg_count < min || n->arg_count > max) {
        if (min == max)
            return fail(in, n, "'%s' takes %zu argument%s", n->name, min, min == 1 ? "" : "s");
        return fail(in, n, "'%s' takes %zu to %zu arguments", n->name, min, max);
    }
    return GH_OK;
}

static int
arg_uint(struct interp *in, const struct conf_node *n, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int rc = want_args(in, n, 1, 1);

    if (rc != GH_OK)
        return rc;
    if (config_parse_size(n->args[0], &v) != GH_OK || v < min || v > max)
        return fail(in, n, "'%s': invalid value '%s' (expected %" PRIu64 "..%" PRIu64 ")", n->name,
                    n->args[0], min, max);
    *out = v;
    return GH_OK;
}

static int
arg_duration(struct interp *in, const struct conf_node *n, uint32_t *out)
{
    int rc = want_args(in, n, 1, 1);

    if (rc != GH_OK)
        return rc;
    if (config_parse_duration(n->args[0], out) != GH_OK || *out == 0)
        return fail(in, n, "'%s': invalid duration '%s' (e.g. 500ms, 10s, 2m)", n->name,
                    n->args[0]);
    return GH_OK;
}

static int
arg_bool(struct interp *in, const struct conf_node *n, bool *out)
{
    int rc = want_args(in, n, 1, 1);

    if (rc != GH_OK)
        return rc;
    if (strcmp(n->args[0], "on") == 0)
        *out = true;
    else if (strcmp(n->args[0], "off") == 0)
        *out = false;
    else
        return fail(in, n, "'%s': expected on or off, not '%s'", n->name, n->args[0]);
    return GH_OK;
}

/* A path relative to the config file's directory, as an owned string. */
static char *
resolve_path(const struct interp *in, const char *p)
{
    char *out = NULL;

    if (p[0] == '/' || in->base_dir == NULL || in->base_dir[0] == '\0')
        return strdup(p);
    if (asprintf(&out, "%s/%s", in->base_dir, p) < 0)
        return NULL;
    return out;
}

/* "host:port", "[v6]:port" or "port" (all loopback-agnostic: binds what it says). */
static int
parse_listen(struct interp *in, const struct conf_node *n, struct config_listen *cl)
{
    char host[256];
    const char *a = n->args[0];
    const char *port;
    struct addrinfo hints = {0}, *res = NULL;
    size_t hlen;

    if (a[0] == '[') {
        const char *end = strchr(a, ']');
        if (end == NULL || end[1] != ':')
            return fail(in, n, "listen: malformed address '%s'", a);
        hlen = (size_t)(end - a - 1);
        port = end + 2;
        if (hlen >= sizeof(host))
            return fail(in, n, "listen: address too long");
        memcpy(host, a + 1, hlen);
    } else {
        const char *colon = strrchr(a, ':');
        if (colon == NULL) {
            snprintf(host, sizeof(host), "0.0.0.0");
            hlen = strlen(host);
            port = a;
        } else {
            hlen = (size_t)(colon - a);
            port = colon + 1;
            if (hlen >= sizeof(host))
                return fail(in, n, "listen: address too long");
            memcpy(host, a, hlen);
        }
    }
    host[hlen] = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long pn = strtoul(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || errno != 0 || pn > 65535)
        return fail(in, n, "listen: invalid port in '%s'", a);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0 || res == NULL)
        return fail(in, n, "listen: '%s' is not a numeric address: %s", host,
                    gai != 0 ? gai_strerror(gai) : "no result");
    memcpy(&cl->addr, res->ai_addr, res->ai_addrlen);
    cl->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    cl->text = strdup(a);
    if (cl->text == NULL)
        return GH_ENOMEM;
    cl->is_tls = false;
    if (n->arg_count >= 2) {
        if (strcmp(n->args[1], "tls") != 0)
            return fail(in, n, "listen: unknown option '%s' (expected tls)", n->args[1]);
        cl->is_tls = true;
    }
    if (n->arg_count == 3) {
        if (strcmp(n->args[2], "client_cert") != 0)
            return fail(in, n, "listen: unknown option '%s' (expected client_cert)", n->args[2]);
        cl->ask_client_cert = true;
    }
    return GH_OK;
}

/* The module that declares directive `name` (first in load order), or NULL. */
static const struct gh_command *
module_command(const struct config *cfg, const char *name, size_t *module_index_out)
{
    for (size_t i = 0; i < cfg->module_count; i++) {
        const struct gh_command *c = cfg->modules[i].module->commands;
        for (; c != NULL && c->name != NULL; c++) {
            if (strcmp(c->name, name) == 0) {
                *module_index_out = i;
                return c;
            }
        }
    }
    return NULL;
}

/* A loaded module may not redefine a directive: the tables are the one source
 * of truth for dispatch and documentation, so a name means one thing. */
static const char *
command_owner(const struct config *cfg, const char *name)
{
    size_t idx = 0;

    if (core_command(name) != NULL)
        return "core";
    for (const struct gh_command *c = auth_config_commands(); c->name != NULL; c++) {
        if (strcmp(c->name, name) == 0)
            return "auth";
    }
    if (module_command(cfg, name, &idx) != NULL)
        return cfg->modules[idx].module->name;
    return NULL;
}

static int
load_module(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
            struct config_location *loc)
{
    struct config *cfg = in->cfg;
    const struct gh_module *m = NULL;
    void *handle = NULL;
    char why[512];
    int rc;

    (void)cmd;
    (void)loc;
    if (cfg->module_count >= MAX_MODULES)
        return fail(in, n, "too many modules (at most %d)", MAX_MODULES);
    char *path = resolve_path(in, n->args[1]);
    if (path == NULL)
        return GH_ENOMEM;
    rc = module_loader_open(path, &m, &handle, why, sizeof(why));
    free(path);
    if (rc != GH_OK)
        return fail(in, n, "load_module %s: %s", n->args[0], why);
    /* Every message is written before module_loader_close(): the module's
     * strings live in the shared object, unmapped by the close. */
    if (strcmp(m->name, n->args[0]) != 0) {
        rc = fail(in, n, "load_module %s: the shared object's module is named '%s'", n->args[0],
                  m->name);
        goto err_close;
    }
    for (size_t i = 0; i < cfg->module_count; i++) {
        if (strcmp(cfg->modules[i].module->name, m->name) == 0) {
            rc = fail(in, n, "load_module: a module named '%s' is already loaded", m->name);
            goto err_close;
        }
    }
    for (const struct gh_command *c = m->commands; c != NULL && c->name != NULL; c++) {
        const char *owner = command_owner(cfg, c->name);
        if (owner != NULL) {
            rc = fail(in, n, "load_module %s: directive '%s' is already defined by %s", m->name,
                      c->name, owner);
            goto err_close;
        }
        if (c->set == NULL) {
            rc =
                fail(in, n, "load_module %s: directive '%s' has no set function", m->name, c->name);
            goto err_close;
        }
    }
    cfg->modules[cfg->module_count++] =
        (struct config_module){.module = m, .dl_handle = handle, .use_fiber = true};
    return GH_OK;
err_close:
    module_loader_close(handle);
    return rc;
}

/* Checks a directive against its table row: where it is written (is_location)
 * and its argument count. Messages name the directive, after file:line. */
static int
check_usage(struct interp *in, const struct conf_node *n, unsigned contexts, unsigned min_args,
            unsigned max_args, bool is_location)
{
    if (!is_location && (contexts & GH_CONF_MAIN) == 0)
        return fail(in, n, "'%s' belongs in a location block", n->name);
    if (is_location && (contexts & GH_CONF_LOCATION) == 0)
        return fail(in, n, "'%s' is not allowed in a location", n->name);
    if (max_args == GH_CONF_ARGS_ANY) {
        if (n->is_block)
            return fail(in, n, "'%s' takes no block", n->name);
        if (n->arg_count < min_args)
            return fail(in, n, "'%s' takes at least %u argument%s", n->name, min_args,
                        min_args == 1 ? "" : "s");
        return GH_OK;
    }
    return want_args(in, n, min_args, max_args);
}

/* A module's directive, applied to one location's module configs. Unknown to
 * every module: an error. */
static int
offer_to_modules(struct interp *in, const struct conf_node *n, void **module_configs,
                 bool is_location)
{
    struct config *cfg = in->cfg;
    size_t idx = 0;
    const struct gh_command *c = module_command(cfg, n->name, &idx);
    struct gh_directive d = {
        .name = n->name,
        .args = (const char *const *)n->args,
        .arg_count = n->arg_count,
        .file = n->file,
        .line = n->line,
    };
    char why[512] = "";

    if (c == NULL)
        return fail(in, n, "unknown directive '%s'", n->name);
    int rc = check_usage(in, n, c->contexts, c->min_args, c->max_args, is_location);
    if (rc != GH_OK)
        return rc;
    rc = c->set(module_configs[idx], &d, why, sizeof(why));
    if (rc != GH_OK)
        return fail(in, n, "%s", why[0] != '\0' ? why : gh_strerror(rc));
    return GH_OK;
}

/* "auth" and "auth_*": the auth engine's directives (docs/auth.md). */
static bool
is_auth_directive(const char *name)
{
    return strcmp(name, "auth") == 0 || strncmp(name, "auth_", 5) == 0;
}

/* Directives whose argument is a path, resolved against the config's directory. */
static bool
is_auth_path_directive(const char *name)
{
    return strcmp(name, "auth_keytab") == 0 || strcmp(name, "auth_user_store") == 0 ||
           strcmp(name, "auth_ccache_dir") == 0;
}

static int
auth_engine_ensure(struct interp *in)
{
    struct config *cfg = in->cfg;

    if (cfg->auth_engine != NULL)
        return GH_OK;
    if (in->engine != NULL) {
        cfg->auth_engine = in->engine;
        return GH_OK;
    }
    struct auth_engine_params p = {.backend = auth_backend_real()};
    int rc = auth_engine_create(&p, &cfg->auth_engine);
    if (rc == GH_OK)
        cfg->owns_auth_engine = true;
    return rc;
}

static int
auth_apply(struct interp *in, struct auth_config *ac, const struct conf_node *d)
{
    char why[512] = "";
    char *resolved = NULL;
    const char *const *args = (const char *const *)d->args;
    const char *one[1];

    if (d->is_block)
        return fail(in, d, "'%s' takes no block", d->name);
    if (is_auth_path_directive(d->name) && d->arg_count == 1 && strchr(d->args[0], ':') == NULL) {
        resolved = resolve_path(in, d->args[0]);
        if (resolved == NULL)
            return GH_ENOMEM;
        if (resolved[0] != '/') {
            /* A config named by a relative path: anchor at the working directory,
             * so the record names an absolute ccache the token can remove. */
            char cwd[4096];
            char *abs = NULL;
            if (getcwd(cwd, sizeof(cwd)) == NULL || asprintf(&abs, "%s/%s", cwd, resolved) < 0) {
                free(resolved);
                return fail(in, d, "%s: cannot make %s absolute", d->name, d->args[0]);
            }
            free(resolved);
            resolved = abs;
        }
        one[0] = resolved;
        args = one;
    }
    int rc = auth_config_directive(ac, d->name, args, d->arg_count, why, sizeof(why));
    free(resolved);
    if (rc == GH_ENOMEM)
        return rc;
    if (rc != GH_OK)
        return fail(in, d, "%s", why[0] != '\0' ? why : gh_strerror(rc));
    return GH_OK;
}

/* tls_client_ca FILE [SERVER_NAME]; / tls_client_crl FILE [SERVER_NAME]; */
static int
client_trust_directive(struct interp *in, const struct conf_node *n)
{
    int rc = want_args(in, n, 1, 2);
    const char *host = n->arg_count == 2 ? n->args[1] : NULL;
    struct tls_client_trust *t = NULL;

    if (rc != GH_OK)
        return rc;
    for (size_t i = 0; i < in->trust_count && t == NULL; i++) {
        const char *h = in->trusts[i].server_name;
        if ((h == NULL && host == NULL) || (h != NULL && host != NULL && strcmp(h, host) == 0))
            t = &in->trusts[i];
    }
    if (t == NULL) {
        if (in->trust_count >= sizeof(in->trusts) / sizeof(in->trusts[0]))
            return fail(in, n, "%s: too many server names", n->name);
        t = &in->trusts[in->trust_count++];
        *t = (struct tls_client_trust){0};
        if (host != NULL) {
            char *h = strdup(host);
            if (h == NULL)
                return GH_ENOMEM;
            in->trust_strs[in->trust_str_count++] = h;
            t->server_name = h;
        }
    }
    if (in->trust_str_count >= sizeof(in->trust_strs) / sizeof(in->trust_strs[0]))
        return fail(in, n, "%s: too many files", n->name);
    char *file = resolve_path(in, n->args[0]);
    if (file == NULL)
        return GH_ENOMEM;
    in->trust_strs[in->trust_str_count++] = file;
    if (strcmp(n->name, "tls_client_ca") == 0)
        t->ca_file = file;
    else
        t->crl_file = file;
    return GH_OK;
}

/* tls_client_certificate ignore|negotiate|require;
 * tls_client_certificate_no_pha reject | redirect URL; */
static int
client_cert_mode_directive(struct interp *in, const struct conf_node *n, uint8_t *mode,
                           char **redirect)
{
    int rc = want_args(in, n, 1, 2);

    if (rc != GH_OK)
        return rc;
    if (strcmp(n->name, "tls_client_certificate") == 0) {
        if (n->arg_count != 1)
            return fail(in, n, "tls_client_certificate takes one argument");
        if (strcmp(n->args[0], "ignore") == 0)
            *mode = CLIENT_CERT_IGNORE;
        else if (strcmp(n->args[0], "negotiate") == 0)
            *mode = CLIENT_CERT_NEGOTIATE;
        else if (strcmp(n->args[0], "require") == 0)
            *mode = CLIENT_CERT_REQUIRE;
        else
            return fail(in, n,
                        "tls_client_certificate: expected ignore, negotiate or require, not '%s'",
                        n->args[0]);
        return GH_OK;
    }
    if (strcmp(n->args[0], "reject") == 0 && n->arg_count == 1) {
        free(*redirect);
        *redirect = NULL;
        return GH_OK;
    }
    if (strcmp(n->args[0], "redirect") != 0 || n->arg_count != 2)
        return fail(in, n, "tls_client_certificate_no_pha: expected 'reject' or 'redirect URL'");
    const char *url = n->args[1];
    if (strncmp(url, "https://", 8) != 0 || strpbrk(url, "\r\n\t ") != NULL)
        return fail(in, n, "tls_client_certificate_no_pha: the URL must start with https://");
    free(*redirect);
    *redirect = strdup(url);
    return *redirect == NULL ? GH_ENOMEM : GH_OK;
}

/* The location's auth config: server-level auth directives first (inherited),
 * then the location's own, which override them; auth_require rules are not
 * merged: a location with its own auth_require drops the server-level ones.
 * A location without an `auth` scheme list gets no auth config. */
static int
location_auth(struct interp *in, const struct conf_node *n, const char *prefix,
              struct config_location *loc)
{
    struct auth_config *ac = NULL;
    bool has_own_require = false;
    size_t own = 0;
    char why[512] = "";
    int rc;

    for (size_t i = 0; n != NULL && i < n->child_count; i++) {
        if (!is_auth_directive(n->children[i].name))
            continue;
        own++;
        has_own_require |= strcmp(n->children[i].name, "auth_require") == 0;
    }
    if (own == 0 && in->auth_directive_count == 0)
        return GH_OK;
    rc = auth_engine_ensure(in);
    if (rc == GH_OK)
        rc = auth_config_create(in->cfg->auth_engine, &ac);
    if (rc != GH_OK)
        return rc;
    for (size_t i = 0; rc == GH_OK && i < in->auth_directive_count; i++) {
        const struct conf_node *d = in->auth_directives[i];
        if (has_own_require && strcmp(d->name, "auth_require") == 0)
            continue;
        rc = auth_apply(in, ac, d);
    }
    for (size_t i = 0; rc == GH_OK && n != NULL && i < n->child_count; i++) {
        if (is_auth_directive(n->children[i].name))
            rc = auth_apply(in, ac, &n->children[i]);
    }
    if (rc == GH_OK && (ac->scheme_count > 0 || ac->offers_cert)) {
        rc = auth_config_activate(ac, why, sizeof(why));
        if (rc == GH_ENOMEM)
            goto cleanup;
        if (rc != GH_OK && n == NULL)
            rc = fail(in, NULL, "%s: default location /: %s", in->cfg->path, why);
        else if (rc != GH_OK)
            rc = fail(in, n, "location %s: %s", prefix, why);
        if (rc == GH_OK) {
            loc->auth = ac;
            ac = NULL;
        }
    }
cleanup:
    auth_config_destroy(ac);
    return rc;
}

static int
location_build(struct interp *in, const struct conf_node *n, const char *prefix,
               struct config_location *loc)
{
    struct config *cfg = in->cfg;
    char why[512];
    int rc;

    loc->handler = -1;
    loc->client_cert_mode = cfg->default_client_cert_mode;
    if (cfg->default_no_pha_redirect != NULL) {
        loc->no_pha_redirect = strdup(cfg->default_no_pha_redirect);
        if (loc->no_pha_redirect == NULL)
            return GH_ENOMEM;
    }
    loc->prefix = strdup(prefix);
    if (loc->prefix == NULL)
        return GH_ENOMEM;
    loc->prefix_len = strlen(prefix);
    loc->module_configs = calloc(cfg->module_count ? cfg->module_count : 1, sizeof(void *));
    if (loc->module_configs == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; i < cfg->module_count; i++) {
        const struct gh_module *m = cfg->modules[i].module;
        if (m->config_create != NULL) {
            rc = m->config_create(&loc->module_configs[i]);
            if (rc != GH_OK)
                return fail(in, n, "module %s: cannot create its configuration: %s", m->name,
                            gh_strerror(rc));
        }
    }
    for (size_t i = 0; i < in->module_directive_count; i++) {
        rc = offer_to_modules(in, in->module_directives[i], loc->module_configs, false);
        if (rc != GH_OK)
            return rc;
    }
    for (size_t i = 0; n != NULL && i < n->child_count; i++) {
        const struct conf_node *c = &n->children[i];
        const struct core_cmd *cmd = core_command(c->name);
        if (strcmp(c->name, "location") == 0)
            return fail(in, c, "locations do not nest");
        if (cmd != NULL) {
            rc = core_apply(in, cmd, c, loc);
            if (rc != GH_OK)
                return rc;
        } else if (is_auth_directive(c->name)) {
            continue; /* location_auth() takes them */
        } else {
            rc = offer_to_modules(in, c, loc->module_configs, true);
            if (rc != GH_OK)
                return rc;
        }
    }
    rc = location_auth(in, n, prefix, loc);
    if (rc != GH_OK)
        return rc;
    for (size_t i = 0; i < cfg->module_count; i++) {
        const struct gh_module *m = cfg->modules[i].module;
        if (m->config_check == NULL)
            continue;
        why[0] = '\0';
        rc = m->config_check(loc->module_configs[i], why, sizeof(why));
        if (rc != GH_OK) {
            if (n == NULL)
                return fail(in, NULL, "%s: default location /: %s", cfg->path, why);
            return fail(in, n, "location %s: %s", prefix, why);
        }
    }
    return GH_OK;
}

/* ------------------------------------------------------------ the core's directives
 * Each directive is one row of core_cmds below (nginx's ngx_command_t): its
 * name, where it may be written, its argument count, the function that applies
 * it and, for the generic setters, the field it sets (offset, width) and the
 * value's range. The rows' text fields are the documentation that `gatehouse
 * serve --list-directives` prints (docs/config.md, "Directive reference"). */

/* The field a generic setter writes: offset and width in struct config. */
#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)NULL)->f)

static void
store_number(struct config *cfg, const struct core_cmd *cmd, uint64_t v)
{
    char *field = (char *)cfg + cmd->offset;

    if (cmd->width == sizeof(uint32_t)) {
        uint32_t v32 = (uint32_t)v; /* the row's range fits 32 bits */
        memcpy(field, &v32, sizeof(v32));
    } else {
        memcpy(field, &v, sizeof(v));
    }
}

/* A number or size ("16k") in [cmd->min, cmd->max]. */
static int
set_number(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
           struct config_location *loc)
{
    uint64_t v = 0;
    int rc = arg_uint(in, n, cmd->min, cmd->max, &v);

    (void)loc;
    if (rc == GH_OK)
        store_number(in->cfg, cmd, v);
    return rc;
}

/* A duration ("10s", "250ms") into a uint32_t of milliseconds; never 0. */
static int
set_duration(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
             struct config_location *loc)
{
    uint32_t ms = 0;
    int rc = arg_duration(in, n, &ms);

    (void)loc;
    if (rc == GH_OK)
        store_number(in->cfg, cmd, ms);
    return rc;
}

/* tcp_defer_accept off|DURATION */
static int
set_defer_accept(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                 struct config_location *loc)
{
    if (strcmp(n->args[0], "off") == 0) {
        store_number(in->cfg, cmd, 0);
        return GH_OK;
    }
    return set_duration(in, n, cmd, loc);
}

static int
set_worker_threads(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                   struct config_location *loc)
{
    if (strcmp(n->args[0], "auto") == 0)
        return GH_OK;
    return set_number(in, n, cmd, loc);
}

static int
set_error_log(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
              struct config_location *loc)
{
    struct config *cfg = in->cfg;

    (void)cmd;
    (void)loc;
    if (n->arg_count == 2 && log_level_parse(n->args[1], &cfg->log_level) != GH_OK)
        return fail(in, n, "error_log: unknown level '%s' (error, warn, info, debug)", n->args[1]);
    free(cfg->error_log_path);
    cfg->error_log_path = strcmp(n->args[0], "-") == 0 ? NULL : resolve_path(in, n->args[0]);
    return GH_OK;
}

static int
set_access_log(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
               struct config_location *loc)
{
    struct config *cfg = in->cfg;

    (void)cmd;
    (void)loc;
    if (n->arg_count == 2 && strcmp(n->args[1], "json") != 0 && strcmp(n->args[1], "text") != 0)
        return fail(in, n, "access_log: unknown format '%s' (text, json)", n->args[1]);
    cfg->access_log_json = n->arg_count == 2 && strcmp(n->args[1], "json") == 0;
    free(cfg->access_log_path);
    cfg->access_log_path = NULL;
    if (strcmp(n->args[0], "off") != 0)
        cfg->access_log_path =
            strcmp(n->args[0], "-") == 0 ? strdup("-") : resolve_path(in, n->args[0]);
    return GH_OK;
}

static int
set_listen(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
           struct config_location *loc)
{
    struct config *cfg = in->cfg;

    (void)cmd;
    (void)loc;
    struct config_listen *grown =
        realloc(cfg->listens, (cfg->listen_count + 1) * sizeof(*cfg->listens));
    if (grown == NULL)
        return GH_ENOMEM;
    cfg->listens = grown;
    struct config_listen *cl = &cfg->listens[cfg->listen_count];
    *cl = (struct config_listen){0};
    int rc = parse_listen(in, n, cl);
    if (rc == GH_OK || cl->text != NULL)
        cfg->listen_count++;
    if (rc != GH_OK)
        return rc;
    bool any_port =
        (cl->addr.ss_family == AF_INET && ((struct sockaddr_in *)&cl->addr)->sin_port == 0) ||
        (cl->addr.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&cl->addr)->sin6_port == 0);
    for (size_t i = 0; !any_port && i + 1 < cfg->listen_count; i++) {
        if (cfg->listens[i].addr_len == cl->addr_len &&
            memcmp(&cfg->listens[i].addr, &cl->addr, cl->addr_len) == 0)
            return fail(in, n, "listen: %s is already listed", cl->text);
    }
    if (cl->is_tls && in->first_tls_listen == NULL)
        in->first_tls_listen = n;
    return GH_OK;
}

static int
set_tls_certificate(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                    struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    if (in->cert_count >= sizeof(in->certs) / sizeof(in->certs[0]))
        return fail(in, n, "too many certificates");
    char *c = resolve_path(in, n->args[0]);
    char *k = resolve_path(in, n->args[1]);
    in->cert_paths[2 * in->cert_count] = c;
    in->cert_paths[2 * in->cert_count + 1] = k;
    if (c == NULL || k == NULL)
        return GH_ENOMEM;
    in->certs[in->cert_count++] = (struct tls_cert_spec){c, k};
    return GH_OK;
}

static int
set_tls_protocols(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                  struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    in->tls_min = 0;
    in->tls_max = 0;
    for (size_t i = 0; i < n->arg_count; i++) {
        int ver;
        if (strcmp(n->args[i], "TLSv1.2") == 0)
            ver = TLS1_2_VERSION;
        else if (strcmp(n->args[i], "TLSv1.3") == 0)
            ver = TLS1_3_VERSION;
        else
            return fail(in, n, "tls_protocols: unknown protocol '%s' (TLSv1.2, TLSv1.3)",
                        n->args[i]);
        if (in->tls_min == 0 || ver < in->tls_min)
            in->tls_min = ver;
        if (ver > in->tls_max)
            in->tls_max = ver;
    }
    return GH_OK;
}

static int
set_client_trust(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                 struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    return client_trust_directive(in, n);
}

static int
set_client_verify_depth(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                        struct config_location *loc)
{
    uint64_t v = 0;
    int rc = arg_uint(in, n, cmd->min, cmd->max, &v);

    (void)loc;
    if (rc == GH_OK)
        in->client_verify_depth = (int)v;
    return rc;
}

static int
set_client_verify(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                  struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    if (strcmp(n->args[0], "on") == 0)
        in->cfg->client_verify_optional = false;
    else if (strcmp(n->args[0], "optional_no_ca") == 0)
        in->cfg->client_verify_optional = true;
    else
        return fail(in, n, "tls_client_verify: expected on or optional_no_ca, not '%s'",
                    n->args[0]);
    return GH_OK;
}

/* tls_client_certificate(_no_pha): at server level, the locations' default. */
static int
set_client_cert_mode(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                     struct config_location *loc)
{
    (void)cmd;
    if (loc == NULL)
        return client_cert_mode_directive(in, n, &in->cfg->default_client_cert_mode,
                                          &in->cfg->default_no_pha_redirect);
    return client_cert_mode_directive(in, n, &loc->client_cert_mode, &loc->no_pha_redirect);
}

static int
set_session_tickets(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                    struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    return arg_bool(in, n, &in->tickets);
}

/* tls_session_cache off | N; (used only with tls_session_tickets off) */
static int
set_session_cache(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                  struct config_location *loc)
{
    uint64_t size = 0;
    int rc;

    (void)loc;
    if (strcmp(n->args[0], "off") == 0) {
        in->session_cache = 0;
        return GH_OK;
    }
    rc = arg_uint(in, n, cmd->min, cmd->max, &size);
    if (rc == GH_OK)
        in->session_cache = (uint32_t)size;
    return rc;
}

static int
set_ciphers(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
            struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    char **dst = strcmp(n->name, "tls_ciphersuites") == 0 ? &in->ciphersuites : &in->ciphers;
    free(*dst);
    *dst = strdup(n->args[0]);
    return *dst == NULL ? GH_ENOMEM : GH_OK;
}

static int
set_handler(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
            struct config_location *loc)
{
    struct config *cfg = in->cfg;
    int idx = -1;

    (void)cmd;
    for (size_t j = 0; j < cfg->module_count; j++) {
        if (strcmp(cfg->modules[j].module->name, n->args[0]) == 0)
            idx = (int)j;
    }
    if (idx < 0)
        return fail(in, n, "handler: no module named '%s'", n->args[0]);
    if (cfg->modules[idx].module->on_execute_handler == NULL)
        return fail(in, n, "handler: module '%s' has no execute handler", n->args[0]);
    loc->handler = idx;
    return GH_OK;
}

static int
set_audit_log(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
              struct config_location *loc)
{
    struct config *cfg = in->cfg;

    (void)cmd;
    (void)loc;
    free(cfg->auth_audit_log_path);
    cfg->auth_audit_log_path = strcmp(n->args[0], "-") == 0 ? NULL : resolve_path(in, n->args[0]);
    if (strcmp(n->args[0], "-") != 0 && cfg->auth_audit_log_path == NULL)
        return GH_ENOMEM;
    return GH_OK;
}

static int
set_nonce_lifetime(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                   struct config_location *loc)
{
    int rc = set_duration(in, n, cmd, loc);

    if (rc == GH_OK && in->cfg->auth_digest_nonce_ms < 1000)
        return fail(in, n, "auth_digest_nonce_lifetime: at least 1s");
    return rc;
}

static int
set_backoff_threshold(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
                      struct config_location *loc)
{
    if (strcmp(n->args[0], "off") == 0) {
        in->cfg->auth_backoff_threshold = UINT32_MAX;
        return GH_OK;
    }
    return set_number(in, n, cmd, loc);
}

/* location PREFIX { ... }: collected here, built once every server-level
 * directive is known (locations inherit them). host: the enclosing host
 * block's index, or -1 at the main level. */
static int
add_location(struct interp *in, const struct conf_node *n, int host)
{
    if (!n->is_block || n->arg_count != 1)
        return fail(in, n, "'location' takes one prefix and a block");
    if (n->args[0][0] != '/')
        return fail(in, n, "location prefix must start with '/': '%s'", n->args[0]);
    for (size_t j = 0; j < in->loc_count; j++) {
        if (in->loc_host[j] == host && strcmp(in->locs[j]->args[0], n->args[0]) == 0)
            return fail(in, n, "location %s is already defined at line %u", n->args[0],
                        in->locs[j]->line);
    }
    if (in->loc_count >= sizeof(in->locs) / sizeof(in->locs[0]))
        return fail(in, n, "too many locations");
    if (strcmp(n->args[0], "/") == 0) {
        if (host < 0)
            in->has_root_loc = true;
        else
            in->host_has_root[host] = true;
    }
    in->loc_host[in->loc_count] = host;
    in->locs[in->loc_count++] = n;
    return GH_OK;
}

static int
set_location(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
             struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    return add_location(in, n, -1);
}

/* A host name as `host` takes it: DNS labels (letters, digits, '-', '_'),
 * dots between them, optionally "*." first; at most 253 bytes. */
static bool
is_host_name(const char *name)
{
    const char *p = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
    size_t len = strlen(p);

    if (len == 0 || len > 253 || p[0] == '.' || p[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '.' ? p[i + 1] == '.' : !(isalnum(c) || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* host NAME... { location ... }: the names are checked (and unique across the
 * file); the block may hold only locations, built with the others. */
static int
set_host(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
         struct config_location *loc)
{
    (void)cmd;
    (void)loc;
    if (!n->is_block || n->arg_count < 1 || n->arg_count > 32)
        return fail(in, n, "'host' takes 1 to 32 host names and a block of locations");
    if (in->host_count >= sizeof(in->hosts) / sizeof(in->hosts[0]))
        return fail(in, n, "too many host blocks (64 at most)");
    for (size_t a = 0; a < n->arg_count; a++) {
        if (!is_host_name(n->args[a]))
            return fail(in, n,
                        "host: '%s' is not a host name (letters, digits, '-', dots; "
                        "'*.' first for every name below a domain)",
                        n->args[a]);
        for (size_t h = 0; h < in->host_count; h++) {
            for (size_t b = 0; b < in->hosts[h]->arg_count; b++) {
                if (strcasecmp(in->hosts[h]->args[b], n->args[a]) == 0)
                    return fail(in, n, "host %s is already named at line %u", n->args[a],
                                in->hosts[h]->line);
            }
        }
        for (size_t b = 0; b < a; b++) {
            if (strcasecmp(n->args[b], n->args[a]) == 0)
                return fail(in, n, "host %s is named twice", n->args[a]);
        }
    }
    int host = (int)in->host_count;
    in->hosts[in->host_count++] = n;
    for (size_t i = 0; i < n->child_count; i++) {
        const struct conf_node *c = &n->children[i];
        if (strcmp(c->name, "location") != 0)
            return fail(in, c,
                        "'%s' cannot appear in a host block (only location blocks; "
                        "put server-level directives at the top level)",
                        c->name);
        int rc = add_location(in, c, host);
        if (rc != GH_OK)
            return rc;
    }
    return GH_OK;
}

/* load_module is applied in a first pass (its directives may appear anywhere). */
static int
set_nothing(struct interp *in, const struct conf_node *n, const struct core_cmd *cmd,
            struct config_location *loc)
{
    (void)in;
    (void)n;
    (void)cmd;
    (void)loc;
    return GH_OK;
}

#define MAIN           GH_CONF_MAIN
#define LOCATION       GH_CONF_LOCATION
#define BLOCK          GH_CONF_ARGS_ANY /* max_args of a block directive: its set checks */
#define NO_FIELD       0, 0
#define NUM(f, lo, hi) set_number, FIELD(f), lo, hi
#define DUR(f)         set_duration, FIELD(f), 0, 0
#define FN(fn)         fn, NO_FIELD, 0, 0
#define MIB            (1024ull * 1024)

static const struct core_cmd core_cmds[] = {
    /* Sockets, threads, logs. */
    {"listen", MAIN, 1, 3, FN(set_listen), "ADDR:PORT [tls [client_cert]]", NULL,
     "a listening socket (numeric address); repeatable; required"},
    {"worker_threads", MAIN, 1, 1, set_worker_threads, FIELD(worker_count), 1, 64, "N|auto", "auto",
     "event-loop threads (1..64; auto: one per core)"},
    {"blocking_threads", MAIN, 1, 1, NUM(blocking_threads, 1, 64), "N", "4",
     "threads for modules' blocking work"},
    {"blocking_queue", MAIN, 1, 1, NUM(blocking_queue, 1, 1000000), "N", "4096",
     "queued blocking jobs before GH_EBUSY"},
    {"error_log", MAIN, 1, 2, FN(set_error_log), "PATH|- [error|warn|info|debug]", "- info",
     "error log file (-: stderr) and level"},
    {"access_log", MAIN, 1, 2, FN(set_access_log), "PATH|-|off [text|json]", "off",
     "one line per request (-: stdout); json: one JSON object per line"},
    {"load_module", MAIN, 2, 2, FN(set_nothing), "NAME PATH", NULL,
     "load a shared-object module exporting gh_module_entry"},
    {"location", MAIN, 0, BLOCK, FN(set_location), "PREFIX { ... }", NULL,
     "directives for request paths starting with PREFIX (longest prefix wins)"},
    {"host", MAIN, 0, BLOCK, FN(set_host), "NAME... { location ... }", NULL,
     "locations for requests whose Host is one of the NAMEs (*.domain: any name below it)"},
    {"handler", LOCATION, 1, 1, FN(set_handler), "MODULE", NULL,
     "the module whose execute handler answers requests here"},
    /* TLS. */
    {"tls_certificate", MAIN, 2, 2, FN(set_tls_certificate), "CHAIN KEY", NULL,
     "PEM certificate chain and key; repeatable, chosen by SNI; the first is the default"},
    {"tls_protocols", MAIN, 1, 2, FN(set_tls_protocols), "TLSv1.2|TLSv1.3...", "TLSv1.2 TLSv1.3",
     "allowed protocol versions"},
    {"tls_session_tickets", MAIN, 1, 1, FN(set_session_tickets), "on|off", "on",
     "stateless session tickets (otherwise a server-side session cache)"},
    {"tls_session_cache", MAIN, 1, 1, set_session_cache, NO_FIELD, 1, 1000000, "off|N", "20000",
     "sessions kept by the server-side cache with tls_session_tickets off"},
    {"tls_ciphers", MAIN, 1, 1, FN(set_ciphers), "LIST", NULL, "TLS 1.2 cipher list"},
    {"tls_ciphersuites", MAIN, 1, 1, FN(set_ciphers), "LIST", NULL, "TLS 1.3 cipher suites"},
    /* Client certificates. */
    {"tls_client_ca", MAIN, 1, 2, FN(set_client_trust), "FILE [SERVER_NAME]", NULL,
     "CAs client certificates must chain to (optionally for one SNI name)"},
    {"tls_client_crl", MAIN, 1, 2, FN(set_client_trust), "FILE [SERVER_NAME]", NULL,
     "CRLs of those CAs: turns on revocation checking"},
    {"tls_client_verify_depth", MAIN, 1, 1, set_client_verify_depth, NO_FIELD, 1, 16, "N", "4",
     "intermediates allowed above the client's leaf (1..16)"},
    {"tls_client_verify", MAIN, 1, 1, FN(set_client_verify), "on|optional_no_ca", "on",
     "reject a client certificate that does not verify, or pass it with its CertFlags"},
    {"tls_client_certificate_timeout", MAIN, 1, 1, DUR(client_cert_timeout_ms), "DURATION", "30s",
     "limit of a whole client-certificate exchange"},
    {"tls_client_certificate_buffer", MAIN, 1, 1, NUM(client_cert_buffer, 0, 64 * MIB), "SIZE",
     "128k", "request-body bytes held while a client-certificate exchange runs"},
    {"tls_client_certificate", MAIN | LOCATION, 1, 1, FN(set_client_cert_mode),
     "ignore|negotiate|require", "ignore", "ask for a client certificate when the location is hit"},
    {"tls_client_certificate_no_pha", MAIN | LOCATION, 1, 2, FN(set_client_cert_mode),
     "reject | redirect URL", "reject",
     "what require does for a TLS 1.3 client without post-handshake auth"},
    /* Limits and timeouts. */
    {"max_request_line", MAIN, 1, 1, NUM(limits.max_request_line_bytes, 64, MIB), "SIZE", "8k",
     "longer request line: 414"},
    {"max_header_bytes", MAIN, 1, 1, NUM(limits.max_head_bytes, 256, MIB), "SIZE", "16k",
     "larger request head: 431"},
    {"max_headers", MAIN, 1, 1, NUM(limits.max_header_count, 1, 1000), "N", "100",
     "more header fields: 431"},
    {"max_body", MAIN, 1, 1, NUM(max_body_bytes, 0, UINT64_MAX), "SIZE", "1m",
     "larger request body: 413 and close"},
    {"max_response_buffer", MAIN, 1, 1, NUM(max_response_buffer_bytes, 1024, 1ull << 32), "SIZE",
     "64m", "largest response body a module may hand over as a buffer"},
    {"tcp_defer_accept", MAIN, 1, 1, set_defer_accept, FIELD(tcp_defer_accept_ms), 0, 0,
     "off|DURATION", "1s",
     "accept a connection once its first bytes arrived (TCP_DEFER_ACCEPT), waiting at most this"},
    {"header_timeout", MAIN, 1, 1, DUR(header_timeout_ms), "DURATION", "10s",
     "TLS handshake plus request head must arrive within it: 408"},
    {"body_timeout", MAIN, 1, 1, DUR(body_timeout_ms), "DURATION", "30s",
     "longest silence while waiting for body bytes: 408"},
    {"keepalive_timeout", MAIN, 1, 1, DUR(keepalive_timeout_ms), "DURATION", "75s",
     "idle time between requests before the connection closes"},
    {"write_timeout", MAIN, 1, 1, DUR(write_timeout_ms), "DURATION", "30s",
     "longest time the client may take no bytes"},
    {"shutdown_timeout", MAIN, 1, 1, DUR(shutdown_timeout_ms), "DURATION", "10s",
     "in-flight requests' grace period after SIGTERM/SIGINT"},
    {"keepalive_requests", MAIN, 1, 1, NUM(keepalive_requests, 1, UINT32_MAX), "N", "10000",
     "requests per connection before it closes"},
    /* Server-level authentication settings (the per-location ones are src/auth's). */
    {"auth_audit_log", MAIN, 1, 1, FN(set_audit_log), "PATH|-", "-",
     "where the authentication audit lines go (-: stderr)"},
    {"auth_digest_nonce_lifetime", MAIN, 1, 1, set_nonce_lifetime, FIELD(auth_digest_nonce_ms), 0,
     0, "DURATION", "300s", "age after which a Digest nonce is answered stale=true (at least 1s)"},
    {"auth_backoff_threshold", MAIN, 1, 1, set_backoff_threshold, FIELD(auth_backoff_threshold), 1,
     1000000, "N|off", "5", "failed attempts from one address before its next ones get 429"},
    {"auth_backoff_window", MAIN, 1, 1, DUR(auth_backoff_window_ms), "DURATION", "5m",
     "how long a failure counts"},
    {"auth_backoff_max", MAIN, 1, 1, DUR(auth_backoff_max_ms), "DURATION", "60s",
     "the longest backoff"},
    {"auth_discard_body", MAIN, 1, 1, NUM(auth_discard_bytes, 0, 1ull << 30), "SIZE", "64k",
     "body bytes read and dropped after an authentication answer to keep the connection"},
};

static const struct core_cmd *
core_command(const char *name)
{
    for (size_t i = 0; i < sizeof(core_cmds) / sizeof(core_cmds[0]); i++) {
        if (strcmp(core_cmds[i].name, name) == 0)
            return &core_cmds[i];
    }
    return NULL;
}

/* Checks where and how the directive is written, then applies it; loc is NULL
 * at server level. */
static int
core_apply(struct interp *in, const struct core_cmd *cmd, const struct conf_node *n,
           struct config_location *loc)
{
    int rc = GH_OK;

    if (cmd->max_args != BLOCK || loc != NULL)
        rc = check_usage(in, n, cmd->contexts, cmd->min_args, cmd->max_args, loc != NULL);
    if (rc != GH_OK)
        return rc;
    return cmd->set(in, n, cmd, loc);
}

/* A server-level directive: the core's applies now; auth* and the modules'
 * are kept and replayed into every location (inheritance). */
static int
server_directive(struct interp *in, const struct conf_node *n)
{
    const struct core_cmd *cmd = core_command(n->name);
    size_t idx = 0;

    if (cmd != NULL)
        return core_apply(in, cmd, n, NULL);
    if (is_auth_directive(n->name)) {
        /* Inherited by every location (location_auth). */
        if (in->auth_directive_count >= sizeof(in->auth_directives) / sizeof(void *))
            return fail(in, n, "too many auth directives at server level");
        in->auth_directives[in->auth_directive_count++] = n;
        return GH_OK;
    }
    const struct gh_command *c = module_command(in->cfg, n->name, &idx);
    if (c == NULL)
        return fail(in, n, "unknown directive '%s'", n->name);
    int rc = check_usage(in, n, c->contexts, c->min_args, c->max_args, false);
    if (rc != GH_OK)
        return rc;
    /* A module directive, replayed into every location. */
    if (in->module_directive_count >= sizeof(in->module_directives) / sizeof(void *))
        return fail(in, n, "too many module directives at server level");
    in->module_directives[in->module_directive_count++] = n;
    return GH_OK;
}

static int
location_cmp(const void *a, const void *b)
{
    const struct config_location *x = a, *y = b;

    /* Host blocks in file order, the main level's last (-1 sorts as the largest). */
    unsigned hx = (unsigned)x->host, hy = (unsigned)y->host;
    if (hx != hy)
        return hx < hy ? -1 : 1;
    return x->prefix_len < y->prefix_len ? 1 : x->prefix_len > y->prefix_len ? -1 : 0;
}

/* The hosts' names, kept in lower case for config_location_match. */
static int
build_hosts(struct interp *in)
{
    struct config *cfg = in->cfg;

    cfg->hosts = calloc(in->host_count ? in->host_count : 1, sizeof(*cfg->hosts));
    if (cfg->hosts == NULL)
        return GH_ENOMEM;
    for (size_t h = 0; h < in->host_count; h++) {
        const struct conf_node *n = in->hosts[h];
        struct config_host *ch = &cfg->hosts[cfg->host_count++];
        ch->names = calloc(n->arg_count, sizeof(char *));
        if (ch->names == NULL)
            return GH_ENOMEM;
        for (size_t a = 0; a < n->arg_count; a++) {
            ch->names[a] = strdup(n->args[a]);
            if (ch->names[a] == NULL)
                return GH_ENOMEM;
            ch->name_count++;
            for (char *p = ch->names[a]; *p != '\0'; p++)
                *p = (char)tolower((unsigned char)*p);
        }
    }
    return GH_OK;
}

/* Every location block, plus an implicit "/" (404) for the main level and
 * for each host block without one; sorted by host, then longest prefix. */
static int
build_locations(struct interp *in)
{
    struct config *cfg = in->cfg;
    size_t most = in->loc_count + 1 + in->host_count;
    int rc = build_hosts(in);

    if (rc != GH_OK)
        return rc;
    cfg->locations = calloc(most, sizeof(*cfg->locations));
    if (cfg->locations == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; i < in->loc_count; i++) {
        struct config_location *loc = &cfg->locations[cfg->location_count++];
        loc->host = in->loc_host[i];
        rc = location_build(in, in->locs[i], in->locs[i]->args[0], loc);
        if (rc != GH_OK)
            return rc;
    }
    for (int h = -1; h < (int)in->host_count; h++) {
        if (h < 0 ? in->has_root_loc : in->host_has_root[h])
            continue;
        struct config_location *loc = &cfg->locations[cfg->location_count++];
        loc->host = h;
        rc = location_build(in, NULL, "/", loc);
        if (rc != GH_OK)
            return rc;
    }
    qsort(cfg->locations, cfg->location_count, sizeof(*cfg->locations), location_cmp);
    cfg->main_first = cfg->location_count;
    for (size_t i = cfg->location_count; i-- > 0;) {
        struct config_location *loc = &cfg->locations[i];
        if (loc->host < 0) {
            cfg->main_first = i;
            continue;
        }
        struct config_host *ch = &cfg->hosts[loc->host];
        ch->first = i;
        ch->count++;
    }
    return GH_OK;
}

static void
config_defaults(struct config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    atomic_init(&cfg->refs, 1);
    cfg->worker_count = cores > 0 && cores <= 64 ? (unsigned)cores : 1;
    cfg->blocking_threads = 4;
    cfg->blocking_queue = 4096;
    cfg->limits.max_request_line_bytes = 8192;
    cfg->limits.max_head_bytes = 16384;
    cfg->limits.max_header_count = 100;
    cfg->max_body_bytes = 1024 * 1024;
    cfg->max_chunk_line_bytes = 1024;
    cfg->max_trailer_bytes = 8192;
    cfg->max_response_buffer_bytes = 64 * 1024 * 1024;
    cfg->header_timeout_ms = 10000;
    cfg->tcp_defer_accept_ms = 1000;
    cfg->body_timeout_ms = 30000;
    cfg->client_cert_timeout_ms = 30000;
    cfg->client_cert_buffer = 128 * 1024;
    cfg->keepalive_timeout_ms = 75000;
    cfg->write_timeout_ms = 30000;
    cfg->shutdown_timeout_ms = 10000;
    cfg->keepalive_requests = 10000;
    cfg->log_level = LOG_INFO;
    cfg->auth_discard_bytes = 64 * 1024;
}

/* The error and access logs. With check_only, the files are probed, not
 * created (a check run as root must not leave root-owned logs behind for the
 * service user), and the configuration's messages go to stderr. */
static int
open_logs(struct interp *in)
{
    struct config *cfg = in->cfg;
    const char *paths[2] = {cfg->error_log_path, cfg->access_log_path};
    const char *names[2] = {"error", "access"};

    for (int i = 0; i < 2; i++) {
        if (i == 1 && paths[i] == NULL)
            continue; /* no access log; the error log's NULL is stderr */
        int rc = in->check_only ? log_probe(paths[i])
                 : i == 0       ? log_create(paths[i], cfg->log_level, &cfg->error_log)
                                : log_create(paths[i], LOG_DEBUG, &cfg->access_log);
        if (rc == GH_ENOMEM)
            return rc;
        if (rc != GH_OK)
            return fail(in, NULL, "cannot open %s log %s: %s", names[i], paths[i], strerror(errno));
    }
    if (in->check_only)
        return log_create(NULL, cfg->log_level, &cfg->error_log);
    return GH_OK;
}

static int
interpret(struct interp *in, const struct conf_doc *doc)
{
    struct config *cfg = in->cfg;
    const struct conf_node *root = &doc->root;
    char why[512];
    int rc;

    cfg->modules = calloc(MAX_MODULES, sizeof(*cfg->modules));
    if (cfg->modules == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; i < module_loader_builtin_count(); i++)
        cfg->modules[cfg->module_count++].module = module_loader_builtin(i);
    /* Modules first: their directives may appear anywhere. */
    const struct core_cmd *lm = core_command("load_module");
    for (size_t i = 0; i < root->child_count; i++) {
        const struct conf_node *n = &root->children[i];
        if (strcmp(n->name, "load_module") != 0)
            continue;
        rc = check_usage(in, n, lm->contexts, lm->min_args, lm->max_args, false);
        if (rc == GH_OK)
            rc = load_module(in, n, lm, NULL);
        if (rc != GH_OK)
            return rc;
    }
    for (size_t i = 0; i < root->child_count; i++) {
        rc = server_directive(in, &root->children[i]);
        if (rc != GH_OK)
            return rc;
    }
    if (cfg->listen_count == 0)
        return fail(in, NULL, "%s: no 'listen' directive", cfg->path);
    if (in->first_tls_listen != NULL && in->cert_count == 0)
        return fail(in, in->first_tls_listen, "listen ... tls needs a 'tls_certificate'");

    rc = build_locations(in);
    if (rc != GH_OK)
        return rc;

    for (int s = 0; s < NOTIFY_COUNT; s++) {
        cfg->hooks[s] = calloc(cfg->module_count ? cfg->module_count : 1, 1);
        if (cfg->hooks[s] == NULL)
            return GH_ENOMEM;
    }
    for (size_t i = 0; i < cfg->module_count; i++) {
        const struct gh_module *m = cfg->modules[i].module;
        gh_hook_fn *const h[NOTIFY_COUNT] = {
            m->on_begin_request,   m->on_authenticate_request, m->on_authorize_request,
            m->on_execute_handler, m->on_send_response,        m->on_log_request,
            m->on_end_request,
        };
        for (int s = 0; s < NOTIFY_COUNT; s++) {
            if (h[s] != NULL && s != NOTIFY_EXECUTE)
                cfg->hooks[s][cfg->hook_count[s]++] = (uint8_t)i;
        }
    }

    if (in->cert_count > 0) {
        struct tls_client_opts client = {
            .trusts = in->trusts,
            .trust_count = in->trust_count,
            .verify_depth = in->client_verify_depth,
        };
        struct tls_server_opts opts = {
            .certs = in->certs,
            .cert_count = in->cert_count,
            .min_version = in->tls_min,
            .max_version = in->tls_max,
            .session_tickets = in->tickets,
            .session_cache = in->session_cache,
            .ciphers = in->ciphers,
            .ciphersuites = in->ciphersuites,
            .client = &client,
        };
        rc = tls_server_create(&opts, &cfg->tls, why, sizeof(why));
        if (rc != GH_OK) {
            for (size_t i = 0; i < root->child_count; i++) {
                if (strcmp(root->children[i].name, "tls_certificate") == 0)
                    return fail(in, &root->children[i], "%s", why);
            }
            return fail(in, NULL, "%s", why);
        }
    }
    rc = open_logs(in);
    if (rc != GH_OK)
        return rc;
    for (size_t i = 0; i < cfg->module_count; i++) {
        const struct gh_module *m = cfg->modules[i].module;
        if (m->init == NULL)
            continue;
        rc = m->init();
        if (rc != GH_OK)
            return fail(in, NULL, "module %s: initialization failed: %s", m->name, gh_strerror(rc));
        cfg->modules[i].is_inited = true;
    }
    return GH_OK;
}

static void
config_destroy(struct config *cfg)
{
    for (size_t i = 0; i < cfg->location_count; i++) {
        struct config_location *loc = &cfg->locations[i];
        for (size_t j = 0; loc->module_configs != NULL && j < cfg->module_count; j++) {
            const struct gh_module *m = cfg->modules[j].module;
            if (loc->module_configs[j] != NULL && m->config_destroy != NULL)
                m->config_destroy(loc->module_configs[j]);
        }
        free(loc->module_configs);
        free(loc->prefix);
        free(loc->no_pha_redirect);
        auth_config_destroy(loc->auth);
    }
    free(cfg->locations);
    for (size_t h = 0; h < cfg->host_count; h++) {
        for (size_t a = 0; a < cfg->hosts[h].name_count; a++)
            free(cfg->hosts[h].names[a]);
        free(cfg->hosts[h].names);
    }
    free(cfg->hosts);
    if (cfg->owns_auth_engine)
        auth_engine_destroy(cfg->auth_engine);
    free(cfg->auth_audit_log_path);
    for (size_t i = cfg->module_count; i-- > 0;) {
        if (cfg->modules[i].is_inited && cfg->modules[i].module->fini != NULL)
            cfg->modules[i].module->fini();
    }
    for (size_t i = 0; i < cfg->module_count; i++)
        module_loader_close(cfg->modules[i].dl_handle);
    free(cfg->modules);
    for (int s = 0; s < NOTIFY_COUNT; s++)
        free(cfg->hooks[s]);
    for (size_t i = 0; i < cfg->listen_count; i++)
        free(cfg->listens[i].text);
    free(cfg->listens);
    tls_server_destroy(cfg->tls);
    log_destroy(cfg->error_log);
    log_destroy(cfg->access_log);
    free(cfg->error_log_path);
    free(cfg->access_log_path);
    free(cfg->default_no_pha_redirect);
    free(cfg->path);
    free(cfg);
}

static int
config_from_doc(const char *path, struct auth_engine *engine, bool check_only,
                const struct conf_doc *doc, struct config **config_out, char *err, size_t err_len)
{
    struct interp in = {.check_only = check_only,
                        .err = err,
                        .err_len = err_len,
                        .tickets = true,
                        .session_cache = 20000,
                        .engine = engine};
    char *dir = NULL;
    int rc;

    in.cfg = calloc(1, sizeof(*in.cfg));
    if (in.cfg == NULL)
        return GH_ENOMEM;
    config_defaults(in.cfg);
    in.cfg->path = strdup(path);
    const char *slash = strrchr(path, '/');
    if (slash != NULL)
        dir = strndup(path, (size_t)(slash - path) == 0 ? 1 : (size_t)(slash - path));
    in.base_dir = dir;
    rc = in.cfg->path == NULL || (slash != NULL && dir == NULL) ? GH_ENOMEM : interpret(&in, doc);
    if (rc == GH_ENOMEM && err_len > 0 && err[0] == '\0')
        snprintf(err, err_len, "%s: out of memory", path);
    for (size_t i = 0; i < 2 * in.cert_count + 2 && i < 32; i++)
        free(in.cert_paths[i]);
    free(in.ciphers);
    free(in.ciphersuites);
    for (size_t i = 0; i < in.trust_str_count; i++)
        free(in.trust_strs[i]);
    free(dir);
    if (rc != GH_OK) {
        config_destroy(in.cfg);
        return rc;
    }
    *config_out = in.cfg;
    return GH_OK;
}

int
config_load(const char *path, struct config **config_out, char *err, size_t err_len)
{
    return config_load_engine(path, NULL, config_out, err, err_len);
}

static int
load_file(const char *path, struct auth_engine *engine, bool check_only, struct config **config_out,
          char *err, size_t err_len)
{
    struct conf_doc *doc = NULL;
    int rc;

    *config_out = NULL;
    if (err_len > 0)
        err[0] = '\0';
    rc = conf_load_file(path, &doc, err, err_len);
    if (rc != GH_OK)
        return rc;
    rc = config_from_doc(path, engine, check_only, doc, config_out, err, err_len);
    conf_doc_destroy(doc);
    return rc;
}

int
config_load_engine(const char *path, struct auth_engine *engine, struct config **config_out,
                   char *err, size_t err_len)
{
    return load_file(path, engine, false, config_out, err, err_len);
}

int
config_check(const char *path, char *err, size_t err_len)
{
    struct config *cfg = NULL;
    int rc = load_file(path, NULL, true, &cfg, err, err_len);

    if (cfg != NULL)
        config_unref(cfg);
    return rc;
}

int
config_load_text(const char *name, const char *text, size_t len, struct config **config_out,
                 char *err, size_t err_len)
{
    struct conf_doc *doc = NULL;
    int rc;

    *config_out = NULL;
    if (err_len > 0)
        err[0] = '\0';
    rc = conf_parse(name, text, len, &doc, err, err_len);
    if (rc != GH_OK)
        return rc;
    rc = config_from_doc(name, NULL, false, doc, config_out, err, err_len);
    conf_doc_destroy(doc);
    return rc;
}

void
config_ref(struct config *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void
config_unref(struct config *c)
{
    if (c != NULL && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        config_destroy(c);
}

/* The host block for host (port stripped, case ignored), or NULL: an exact
 * name first, then the longest "*.suffix" that host ends with. */
static const struct config_host *
host_match(const struct config *c, const char *host, size_t len)
{
    const struct config_host *wild = NULL;
    size_t wild_len = 0;

    if (host == NULL || len == 0 || c->host_count == 0)
        return NULL;
    /* "name:port"; an IPv6 literal "[...]" never names a host block. */
    const char *colon = memchr(host, ':', len);
    if (colon != NULL)
        len = (size_t)(colon - host);
    if (len > 0 && host[len - 1] == '.')
        len--; /* the root's dot of "example.org." */
    for (size_t h = 0; h < c->host_count; h++) {
        const struct config_host *ch = &c->hosts[h];
        for (size_t a = 0; a < ch->name_count; a++) {
            const char *name = ch->names[a];
            size_t nl = strlen(name);
            if (name[0] != '*') {
                if (nl == len && strncasecmp(name, host, len) == 0)
                    return ch;
                continue;
            }
            /* "*.example.org": suffix ".example.org" after at least one byte. */
            size_t sl = nl - 1;
            if (len > sl && sl > wild_len && strncasecmp(name + 1, host + len - sl, sl) == 0) {
                wild = ch;
                wild_len = sl;
            }
        }
    }
    return wild;
}

const struct config_location *
config_location_match(const struct config *c, const char *host, size_t host_len, const char *path,
                      size_t path_len)
{
    const struct config_host *ch = host_match(c, host, host_len);
    size_t first = ch != NULL ? ch->first : c->main_first;
    size_t end = ch != NULL ? ch->first + ch->count : c->location_count;

    /* Longest prefix first, so the first match wins; "/" always matches. */
    for (size_t i = first; i < end; i++) {
        const struct config_location *loc = &c->locations[i];
        if (loc->prefix_len <= path_len && memcmp(loc->prefix, path, loc->prefix_len) == 0)
            return loc;
    }
    return &c->locations[end - 1];
}

int
config_module_index(const struct config *c, const struct gh_module *module)
{
    for (size_t i = 0; i < c->module_count; i++) {
        if (c->modules[i].module == module)
            return (int)i;
    }
    return -1;
}

/* ------------------------------------------------------------ directive list */

static void
print_row(FILE *out, const char *name, unsigned contexts, const char *module, const char *syntax,
          const char *default_value, const char *description)
{
    const char *ctx = contexts == (GH_CONF_MAIN | GH_CONF_LOCATION) ? "main,location"
                      : contexts == GH_CONF_LOCATION                ? "location"
                                                                    : "main";

    fprintf(out, "%s\t%s\t%s\t%s%s%s\t%s\t%s\n", name, ctx, module, name,
            syntax != NULL && syntax[0] != '\0' ? " " : "", syntax != NULL ? syntax : "",
            default_value != NULL ? default_value : "", description != NULL ? description : "");
}

static void
print_commands(FILE *out, const char *module, const struct gh_command *c)
{
    for (; c != NULL && c->name != NULL; c++)
        print_row(out, c->name, c->contexts, module, c->syntax, c->default_value, c->description);
}

void
config_directives_print(FILE *out, const struct config *cfg)
{
    fprintf(out, "# gatehouse directives 1\n"
                 "# name\tcontext\tmodule\tsyntax\tdefault\tdescription\n");
    for (size_t i = 0; i < sizeof(core_cmds) / sizeof(core_cmds[0]); i++) {
        const struct core_cmd *c = &core_cmds[i];
        print_row(out, c->name, c->contexts, "core", c->syntax, c->default_value, c->description);
    }
    print_commands(out, "auth", auth_config_commands());
    size_t count = cfg != NULL ? cfg->module_count : module_loader_builtin_count();
    for (size_t i = 0; i < count; i++) {
        const struct gh_module *m = cfg != NULL ? cfg->modules[i].module : module_loader_builtin(i);
        print_commands(out, m->name, m->commands);
    }
}
