// SPDX-License-Identifier: MIT
// gatehouse doctor --config FILE [--user USER]: reads the configuration the
// way the server does (the same syntax tree, the same relative-path rule and
// the same inheritance of server-level auth_* directives) and checks, for each
// location, what would make authentication fail before any client tries.
// Output: one line per check, "OK|WARN|FAIL  check  what  [-> what to do]";
// exit status 0 (all OK), 1 (warnings only), 2 (a failure), 3 (usage, or the
// configuration cannot be read at all). docs/doctor.md.
//
// Why not config_load(): it refuses a configuration whose keytab or user store
// it cannot open, and those are exactly the faults the doctor must explain.
// The full load still runs, as one check ("config"), for everything else.
#include "cli/doctor.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/buf.h"
#include "base/conf_parse.h"
#include "base/json_str.h"
#include "cli/cli.h"
#include "server/server.h"

#define MAX_SEEN   64
#define MAX_NAMES  32
#define MAX_CERTS  32
#define MAX_SERVED 64

static const char *const level_names[] = {"OK", "WARN", "FAIL"};

/* Appends "name":"value" (value NULL: null) to out, after a comma unless it
 * is the object's first member. */
static int
json_member(struct buf *out, const char *name, const char *value, bool first)
{
    int err = buf_printf(out, "%s\"%s\":", first ? "" : ",", name);
    if (err == GH_OK)
        err = value != NULL ? json_str_append(out, value, strlen(value))
                            : buf_append_str(out, "null");
    return err;
}

/* One element of the "checks" array: {"level","check","what","hint"}. */
static void
json_check(const struct doctor *d, enum doctor_level level, const char *check, const char *what,
           const char *hint)
{
    struct buf out;
    unsigned done = d->counts[0] + d->counts[1] + d->counts[2];

    buf_init(&out, 16 * 1024);
    int err = buf_append_str(&out, done > 0 ? ",\n{" : "\n{");
    if (err == GH_OK)
        err = json_member(&out, "level", level_names[level], true);
    if (err == GH_OK)
        err = json_member(&out, "check", check, false);
    if (err == GH_OK)
        err = json_member(&out, "what", what, false);
    if (err == GH_OK)
        err = json_member(&out, "hint", hint, false);
    if (err == GH_OK)
        err = buf_append_str(&out, "}");
    if (err == GH_OK)
        fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
}

void
doctor_report(struct doctor *d, enum doctor_level level, const char *check, const char *hint,
              const char *fmt, ...)
{
    char what[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* What we print may quote configuration text and file names: keep the
     * line one line. */
    for (char *p = what; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    if (d->json)
        json_check(d, level, check, what, level == DOCTOR_OK ? NULL : hint);
    else if (level == DOCTOR_OK || hint == NULL)
        printf("%-4s  %-14s  %s\n", level_names[level], check, what);
    else
        printf("%-4s  %-14s  %s  -> %s\n", level_names[level], check, what, hint);
    d->counts[level]++;
    if (level > d->worst)
        d->worst = level;
}

/* What one location asks of the authentication machinery. */
struct loc_view {
    const char *prefix;
    const struct conf_node *schemes; /* the `auth` directive, or NULL */
    const char *keytab;
    const struct conf_node *service_names;
    const char *user_store;
    const char *ccache_dir;
    const struct conf_node *credssp_cert; /* auth_credssp_certificate PEM [KEY] */
    bool basic_kerberos;
    bool ntlm_winbind;  /* auth_ntlm_backend winbind */
    bool names_winbind; /* auth_group_names winbind */
};

struct walk {
    struct doctor *d;
    char *base_dir; /* the configuration file's directory */
    const struct conf_node *server_auth[64];
    size_t server_auth_count;
    char *seen[MAX_SEEN]; /* checks already made ("kind:key"), owned */
    size_t seen_count;
    char *dns_names[MAX_NAMES]; /* the certificates' DNS names: what clients type */
    size_t dns_name_count;
    const char *served[MAX_SERVED]; /* names served with TLS; borrowed from the tree */
    size_t served_count;
    bool has_tls;
};

/* True the first time kind:key is asked (each file is checked once, however
 * many locations name it). */
static bool
first_time(struct walk *w, const char *kind, const char *key)
{
    char *k = NULL;

    if (asprintf(&k, "%s:%s", kind, key != NULL ? key : "") < 0)
        return true;
    for (size_t i = 0; i < w->seen_count; i++) {
        if (strcmp(w->seen[i], k) == 0) {
            free(k);
            return false;
        }
    }
    if (w->seen_count < MAX_SEEN)
        w->seen[w->seen_count++] = k;
    else
        free(k);
    return true;
}

/* The server's rule (config.c resolve_path): relative to the config's directory;
 * a value with ':' (FILE:..., MEMORY:...) is left alone. Owned result. */
static char *
resolve(const struct walk *w, const char *p)
{
    char *out = NULL;

    if (p[0] == '/' || strchr(p, ':') != NULL || w->base_dir == NULL)
        return strdup(p);
    if (asprintf(&out, "%s/%s", w->base_dir, p) < 0)
        return NULL;
    return out;
}

static bool
has_scheme(const struct loc_view *v, const char *name)
{
    for (size_t i = 0; v->schemes != NULL && i < v->schemes->arg_count; i++) {
        if (strcasecmp(v->schemes->args[i], name) == 0)
            return true;
    }
    return false;
}

static void
view_take(struct loc_view *v, const struct conf_node *n)
{
    if (strcmp(n->name, "auth") == 0)
        v->schemes = n;
    else if (strcmp(n->name, "auth_keytab") == 0 && n->arg_count == 1)
        v->keytab = n->args[0];
    else if (strcmp(n->name, "auth_service_name") == 0)
        v->service_names = n;
    else if (strcmp(n->name, "auth_user_store") == 0 && n->arg_count == 1)
        v->user_store = n->args[0];
    else if (strcmp(n->name, "auth_ccache_dir") == 0 && n->arg_count == 1)
        v->ccache_dir = n->args[0];
    else if (strcmp(n->name, "auth_credssp_certificate") == 0 && n->arg_count >= 1)
        v->credssp_cert = n;
    else if (strcmp(n->name, "auth_basic_kerberos") == 0 && n->arg_count == 1)
        v->basic_kerberos = strcmp(n->args[0], "on") == 0;
    else if (strcmp(n->name, "auth_ntlm_backend") == 0 && n->arg_count == 1)
        v->ntlm_winbind = strcmp(n->args[0], "winbind") == 0;
    else if (strcmp(n->name, "auth_group_names") == 0 && n->arg_count == 1)
        v->names_winbind = strcmp(n->args[0], "winbind") == 0;
}

static void
check_kerberos(struct walk *w, const struct loc_view *v, const char *keytab)
{
    const char *names[MAX_NAMES];
    size_t count = 0;

    for (size_t i = 0; v->service_names != NULL && i < v->service_names->arg_count; i++) {
        if (count < MAX_NAMES)
            names[count++] = v->service_names->args[i];
    }
    char key[2048];
    int n = snprintf(key, sizeof(key), "%s", keytab != NULL ? keytab : "(default)");
    for (size_t i = 0; i < count && n > 0 && (size_t)n < sizeof(key); i++)
        n += snprintf(key + n, sizeof(key) - (size_t)n, " %s", names[i]);
    if (!first_time(w, "krb5", key))
        return;
    struct doctor_krb5_target t = {
        .location = v->prefix,
        .keytab = keytab,
        .service_names = names,
        .service_name_count = count,
        .client_names = (const char *const *)w->dns_names,
        .client_name_count = w->dns_name_count,
    };
    doctor_check_kerberos(w->d, &t);
}

/* auth_credssp_certificate: often the server's own certificate, then
 * already checked (first_time). */
static void
check_credssp_cert(struct walk *w, const struct conf_node *n)
{
    char *c = resolve(w, n->args[0]);
    char *k = n->arg_count > 1 ? resolve(w, n->args[1]) : NULL;

    if (c != NULL && (n->arg_count < 2 || k != NULL) && first_time(w, "cert", c))
        doctor_check_credssp_certificate(w->d, c, k);
    free(c);
    free(k);
}

static void
check_location(struct walk *w, const struct conf_node *loc, const char *prefix)
{
    struct loc_view v = {.prefix = prefix};
    char *keytab = NULL, *store = NULL, *ccache = NULL;

    for (size_t i = 0; i < w->server_auth_count; i++)
        view_take(&v, w->server_auth[i]);
    for (size_t i = 0; loc != NULL && i < loc->child_count; i++)
        view_take(&v, &loc->children[i]);
    if (v.schemes == NULL)
        return; /* authenticates nobody */
    bool kerberos = has_scheme(&v, "Negotiate") || has_scheme(&v, "Kerberos") ||
                    has_scheme(&v, "CredSSP") || (has_scheme(&v, "Basic") && v.basic_kerberos);
    keytab = v.keytab != NULL ? resolve(w, v.keytab) : NULL;
    store = v.user_store != NULL ? resolve(w, v.user_store) : NULL;
    ccache = v.ccache_dir != NULL ? resolve(w, v.ccache_dir) : NULL;
    if (kerberos)
        check_kerberos(w, &v, keytab);
    if (store != NULL && first_time(w, "store", store))
        doctor_check_secret_file(w->d, "user-store", store);
    if (ccache != NULL && first_time(w, "ccache", ccache))
        doctor_check_ccache_dir(w->d, ccache);
    if ((v.ntlm_winbind || v.names_winbind) && first_time(w, "winbind", ""))
        doctor_check_winbind(w->d);
    if (has_scheme(&v, "CredSSP") && v.credssp_cert != NULL)
        check_credssp_cert(w, v.credssp_cert);
    free(keytab);
    free(store);
    free(ccache);
}

/* The names the server answers for with TLS: host blocks, and the
 * SERVER_NAME of tls_client_ca / tls_client_crl. Borrowed from the tree. */
static void
add_served(struct walk *w, const char *name)
{
    for (size_t i = 0; i < w->served_count; i++) {
        if (strcasecmp(w->served[i], name) == 0)
            return;
    }
    if (w->served_count < MAX_SERVED)
        w->served[w->served_count++] = name;
}

static void
check_tls(struct walk *w, const struct conf_node *root)
{
    char *certs[MAX_CERTS] = {0}, *keys[MAX_CERTS] = {0};
    size_t count = 0;

    for (size_t i = 0; i < root->child_count; i++) {
        const struct conf_node *n = &root->children[i];
        if (strcmp(n->name, "tls_certificate") == 0 && n->arg_count == 2) {
            char *c = resolve(w, n->args[0]), *k = resolve(w, n->args[1]);
            w->has_tls = true;
            if (c != NULL && k != NULL && count < MAX_CERTS && first_time(w, "cert", c)) {
                certs[count] = c;
                keys[count++] = k;
                continue;
            }
            free(c);
            free(k);
        } else if (strcmp(n->name, "host") == 0) {
            for (size_t j = 0; j < n->arg_count; j++)
                add_served(w, n->args[j]);
        } else if ((strcmp(n->name, "tls_client_ca") == 0 ||
                    strcmp(n->name, "tls_client_crl") == 0) &&
                   n->arg_count == 2) {
            add_served(w, n->args[1]);
        }
    }
    struct doctor_tls t = {
        .cert_files = (const char *const *)certs,
        .key_files = (const char *const *)keys,
        .cert_count = count,
        .served_names = w->served,
        .served_name_count = w->served_count,
    };
    doctor_check_tls(w->d, &t, w->dns_names, &w->dns_name_count, MAX_NAMES);
    for (size_t i = 0; i < count; i++) {
        free(certs[i]);
        free(keys[i]);
    }
    for (size_t i = 0; i < root->child_count; i++) {
        const struct conf_node *n = &root->children[i];
        if (strcmp(n->name, "tls_client_ca") == 0 && n->arg_count >= 1) {
            char *f = resolve(w, n->args[0]);
            if (f != NULL && first_time(w, "ca", f))
                doctor_check_client_ca(w->d, f);
            free(f);
        }
    }
}

/* serve --check's full load: directives, modules, TLS contexts, credentials. */
static void
check_config(struct doctor *d, const char *path)
{
    char err[1024] = "";
    struct config *cfg = NULL;
    int rc = config_load(path, &cfg, err, sizeof(err));

    if (rc == GH_OK)
        doctor_report(d, DOCTOR_OK, "config", NULL, "%s loads (as `serve --check` does)", path);
    else
        doctor_report(d, DOCTOR_FAIL, "config", "fix what the checks below point at", "%s",
                      err[0] != '\0' ? err : gh_strerror(rc));
    config_unref(cfg);
}

static int
user_lookup(struct doctor *d, const char *name)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    int n = (int)(sizeof(d->user.groups) / sizeof(d->user.groups[0]));

    if (name != NULL)
        getpwnam_r(name, &pw, buf, sizeof(buf), &res);
    else
        getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res);
    if (res == NULL)
        return GH_ENOTFOUND;
    snprintf(d->user.name, sizeof(d->user.name), "%s", pw.pw_name);
    d->user.uid = pw.pw_uid;
    d->user.gid = pw.pw_gid;
    if (getgrouplist(pw.pw_name, pw.pw_gid, d->user.groups, &n) < 0)
        n = (int)(sizeof(d->user.groups) / sizeof(d->user.groups[0]));
    d->user.group_count = n;
    d->as_root = geteuid() == 0;
    return GH_OK;
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: gatehouse doctor --config FILE [--user USER] [--cacert FILE] [--json]\n"
                 "  checks what would make authentication fail: keytabs and their keys, the\n"
                 "  KDC, the clock, service names, user stores, ccache directories, TLS\n"
                 "  certificates (keys, dates, chains, names, strength), client CA bundles.\n"
                 "  --user: the account the server runs as (default: you).\n"
                 "  --cacert: the CA certificates your clients trust (default: the system store).\n"
                 "  --json: one JSON object (checks, counts, exit) instead of lines.\n"
                 "  Exit: 0 all OK, 1 warnings, 2 failures, 3 usage or unreadable config.\n");
}

static int
walk_config(struct doctor *d, const char *path)
{
    struct conf_doc *doc = NULL;
    struct walk w = {.d = d};
    char err[1024];
    const struct conf_node *root_loc = NULL;

    if (conf_load_file(path, &doc, err, sizeof(err)) != GH_OK) {
        doctor_report(d, DOCTOR_FAIL, "config", "fix the file", "%s", err);
        return 3;
    }
    const char *slash = strrchr(path, '/');
    w.base_dir = slash != NULL ? strndup(path, (size_t)(slash - path)) : NULL;
    const struct conf_node *root = &doc->root;
    check_config(d, path);
    for (size_t i = 0; i < root->child_count; i++) {
        const struct conf_node *n = &root->children[i];
        if (strncmp(n->name, "auth", 4) == 0 && w.server_auth_count < 64)
            w.server_auth[w.server_auth_count++] = n;
    }
    check_tls(&w, root);
    for (size_t i = 0; i < root->child_count; i++) {
        const struct conf_node *n = &root->children[i];
        if (strcmp(n->name, "host") == 0) {
            /* A host block's locations are checked like the others. */
            for (size_t j = 0; j < n->child_count; j++) {
                const struct conf_node *c = &n->children[j];
                if (strcmp(c->name, "location") == 0 && c->arg_count == 1)
                    check_location(&w, c, c->args[0]);
            }
            continue;
        }
        if (strcmp(n->name, "location") != 0 || n->arg_count != 1)
            continue;
        if (strcmp(n->args[0], "/") == 0)
            root_loc = n;
        check_location(&w, n, n->args[0]);
    }
    if (root_loc == NULL)
        check_location(&w, NULL, "/"); /* the implicit location / */
    for (size_t i = 0; i < w.seen_count; i++)
        free(w.seen[i]);
    for (size_t i = 0; i < w.dns_name_count; i++)
        free(w.dns_names[i]);
    free(w.base_dir);
    conf_doc_destroy(doc);
    return (int)d->worst;
}

/* --json: {"config":PATH,"user":NAME,"cacert":FILE|null,"uid":N,"checks":[ ... (closed by
 * cli_doctor). */
static void
json_open(const char *path, const struct doctor *d)
{
    struct buf out;

    buf_init(&out, 16 * 1024);
    int err = buf_append_str(&out, "{");
    if (err == GH_OK)
        err = json_member(&out, "config", path, true);
    if (err == GH_OK)
        err = json_member(&out, "user", d->user.name, false);
    if (err == GH_OK)
        err = json_member(&out, "cacert", d->cacert, false);
    if (err == GH_OK)
        err = buf_printf(&out, ",\"uid\":%u,\"checks\":[", (unsigned)d->user.uid);
    if (err == GH_OK)
        fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
}

int
cli_doctor(int argc, char **argv)
{
    const char *path = NULL, *user = NULL;
    struct doctor d = {0};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
            user = argv[++i];
        } else if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc) {
            d.cacert = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            d.json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "gatehouse doctor: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 3;
        }
    }
    if (path == NULL) {
        usage(stderr);
        return 3;
    }
    if (user_lookup(&d, user) != GH_OK) {
        fprintf(stderr, "gatehouse doctor: no such user '%s'\n", user != NULL ? user : "(self)");
        return 3;
    }
    if (d.json)
        json_open(path, &d);
    else
        printf("gatehouse doctor: %s, service user %s (uid %u)\n", path, d.user.name,
               (unsigned)d.user.uid);
    int rc = walk_config(&d, path);
    fflush(stdout);
    if (d.json)
        printf("\n],\"ok\":%u,\"warn\":%u,\"fail\":%u,\"exit\":%d}\n", d.counts[DOCTOR_OK],
               d.counts[DOCTOR_WARN], d.counts[DOCTOR_FAIL], rc);
    else
        printf("%u OK, %u WARN, %u FAIL\n", d.counts[DOCTOR_OK], d.counts[DOCTOR_WARN],
               d.counts[DOCTOR_FAIL]);
    return rc;
}
