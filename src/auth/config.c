// SPDX-License-Identifier: MIT
// Per-location auth configuration: directives (docs/auth.md) and activation
// (user store, inbound SSPI credentials). Kept apart from the runtime code.
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>
#include <gatehouse/module.h>

#include "auth/basic_cache.h"
#include "auth/basic_krb5.h"
#include "auth/credssp.h"
#include "auth/engine.h"
#include "auth/engine_private.h"
#include "auth/realm.h"
#include "base/conf_parse.h"

#define DEFAULT_MAX_TOKEN_BYTES      (64 * 1024)
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 30000
#define MIN_TOKEN_BYTES              1024
#define MAX_TOKEN_BYTES              (1024 * 1024)

static int errf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return GH_EINVAL;
}

int
auth_config_create(struct auth_engine *engine, struct auth_config **cfg_out)
{
    static atomic_uint_fast64_t next_id = 1;
    struct auth_config *cfg = calloc(1, sizeof(*cfg));

    *cfg_out = NULL;
    if (cfg == NULL)
        return GH_ENOMEM;
    cfg->engine = engine;
    cfg->id = atomic_fetch_add(&next_id, 1);
    cfg->realm = strdup("gatehouse");
    if (cfg->realm == NULL) {
        free(cfg);
        return GH_ENOMEM;
    }
    cfg->persist_kerberos = true; /* IIS's authPersistNonNTLM default */
    cfg->packed_context = true;   /* http.sys always gives it (docs/auth.md) */
    cfg->max_token_bytes = DEFAULT_MAX_TOKEN_BYTES;
    cfg->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    cfg->basic_cache_ttl_s = BASIC_CACHE_DEFAULT_TTL_S;
    for (size_t i = 0; i < AUTH_SSPI_SCHEMES; i++)
        SecInvalidateHandle(&cfg->creds[i]);
    *cfg_out = cfg;
    return GH_OK;
}

void
auth_config_destroy(struct auth_config *cfg)
{
    if (cfg == NULL)
        return;
    const struct auth_backend *backend = cfg->engine != NULL ? cfg->engine->backend : NULL;
    for (size_t i = 0; i < AUTH_SSPI_SCHEMES; i++) {
        if (cfg->has_creds[i] && backend != NULL && backend->sspi != NULL)
            backend->sspi->FreeCredentialsHandle(&cfg->creds[i]);
    }
    basic_krb5_destroy(cfg->basic_krb5);
    basic_cache_destroy(cfg->basic_cache);
    if (cfg->userdb != NULL && backend != NULL)
        backend->userdb->close(cfg->userdb);
    authz_rules_free(&cfg->rules);
    certmap_free(&cfg->certmap);
    for (size_t i = 0; i < cfg->service_name_count; i++)
        free(cfg->service_names[i]);
    free(cfg->service_names);
    free(cfg->realm);
    free(cfg->keytab);
    free(cfg->user_store_path);
    free(cfg->credssp_cert);
    free(cfg->credssp_key);
    free(cfg->ccache_dir);
    free(cfg->nb_domain);
    free(cfg->nb_computer);
    for (size_t i = 0; i < cfg->local_realm_count; i++)
        free(cfg->local_realms[i]);
    free(cfg->local_realms);
    free(cfg);
}

static int
parse_bool(const char *name, const char *const *args, size_t n, bool *out, char *err,
           size_t err_len)
{
    if (n != 1)
        return errf(err, err_len, "%s takes one argument: on or off", name);
    if (strcmp(args[0], "on") == 0)
        *out = true;
    else if (strcmp(args[0], "off") == 0)
        *out = false;
    else
        return errf(err, err_len, "%s: \"%s\" is neither on nor off", name, args[0]);
    return GH_OK;
}

static int
set_string(const char *name, const char *const *args, size_t n, char **out, char *err,
           size_t err_len)
{
    if (n != 1 || args[0][0] == 0)
        return errf(err, err_len, "%s takes one non-empty argument", name);
    char *copy = strdup(args[0]);
    if (copy == NULL)
        return GH_ENOMEM;
    free(*out);
    *out = copy;
    return GH_OK;
}

static int
set_schemes(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;
    const char *const *args = d->args;
    size_t n = d->arg_count;

    if (n == 0 || n > AUTH_SCHEME_COUNT + 1)
        return errf(err, err_len, "auth takes 1 to %d schemes", AUTH_SCHEME_COUNT + 1);
    cfg->scheme_count = 0;
    cfg->offers_cert = false;
    for (size_t i = 0; i < n; i++) {
        enum auth_scheme s;
        if (strcasecmp(args[i], "Certificate") == 0) { /* cert_auth.c: no challenge */
            if (cfg->offers_cert)
                return errf(err, err_len, "auth: scheme Certificate listed twice");
            cfg->offers_cert = true;
            continue;
        }
        if (auth_scheme_parse(slice_cstr(args[i]), &s) != GH_OK)
            return errf(err, err_len,
                        "auth: unknown scheme \"%s\" (Negotiate, NTLM, Kerberos, Digest, Basic, "
                        "Certificate)",
                        args[i]);
        for (size_t k = 0; k < cfg->scheme_count; k++) {
            if (cfg->schemes[k] == s)
                return errf(err, err_len, "auth: scheme %s listed twice", auth_scheme_name(s));
        }
        cfg->schemes[cfg->scheme_count++] = s;
    }
    return GH_OK;
}

static int
set_require(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;
    const char *const *args = d->args;
    size_t n = d->arg_count;

    if (n == 1 && strcmp(args[0], "valid-user") == 0)
        return authz_rules_add(&cfg->rules, AUTHZ_RULE_VALID_USER, NULL, 0);
    if (n >= 2 && strcmp(args[0], "user") == 0)
        return authz_rules_add(&cfg->rules, AUTHZ_RULE_USER, args + 1, n - 1);
    if (n >= 2 && strcmp(args[0], "group") == 0)
        return authz_rules_add(&cfg->rules, AUTHZ_RULE_GROUP, args + 1, n - 1);
    return errf(err, err_len, "auth_require takes: user NAME... | group NAME... | valid-user");
}

static int
set_spns(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;
    const char *const *args = d->args;
    size_t n = d->arg_count;

    if (n == 0)
        return errf(err, err_len, "auth_service_name takes one or more names (HTTP/host)");
    char **names = calloc(n, sizeof(*names));
    if (names == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        names[i] = strdup(args[i]);
        if (names[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(names[k]);
            free(names);
            return GH_ENOMEM;
        }
    }
    for (size_t i = 0; i < cfg->service_name_count; i++)
        free(cfg->service_names[i]);
    free(cfg->service_names);
    cfg->service_names = names;
    cfg->service_name_count = n;
    return GH_OK;
}

static int
parse_uint(const char *name, const char *const *args, size_t n, unsigned long lo, unsigned long hi,
           unsigned long *out, char *err, size_t err_len)
{
    char *end = NULL;

    if (n != 1)
        return errf(err, err_len, "%s takes one number", name);
    errno = 0;
    unsigned long v = strtoul(args[0], &end, 10);
    if (errno != 0 || end == args[0] || *end != 0 || args[0][0] == '-' || v < lo || v > hi)
        return errf(err, err_len, "%s: \"%s\" is not a number in [%lu, %lu]", name, args[0], lo,
                    hi);
    *out = v;
    return GH_OK;
}

/* Set functions of the directive table (struct gh_command, module.h): the
 * ones above take (cfg, args, n); these adapt them and name the field. */
#define FLAG_SETTER(field)                                                               \
    static int set_##field(void *c, const struct gh_directive *d, char *err, size_t len) \
    {                                                                                    \
        struct auth_config *cfg = c;                                                     \
        return parse_bool(d->name, d->args, d->arg_count, &cfg->field, err, len);        \
    }
#define STRING_SETTER(field)                                                             \
    static int set_##field(void *c, const struct gh_directive *d, char *err, size_t len) \
    {                                                                                    \
        struct auth_config *cfg = c;                                                     \
        return set_string(d->name, d->args, d->arg_count, &cfg->field, err, len);        \
    }
FLAG_SETTER(allow_anonymous)
FLAG_SETTER(persist_kerberos)
FLAG_SETTER(packed_context)
FLAG_SETTER(basic_over_http)
FLAG_SETTER(basic_kerberos)
FLAG_SETTER(mutual_to_app)
FLAG_SETTER(delegation)
FLAG_SETTER(ntlm_require_target_name)
STRING_SETTER(keytab)
STRING_SETTER(user_store_path)
STRING_SETTER(ccache_dir)
STRING_SETTER(nb_domain)
STRING_SETTER(nb_computer)

static int
set_cert_map(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;
    int rc = certmap_add(&cfg->certmap, d->args, d->arg_count, err, err_len);

    return rc == GH_ELIMIT ? GH_EINVAL : rc; /* a limit of the file: a bad value */
}

static int
set_realm(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;
    int rc = set_string(d->name, d->args, d->arg_count, &cfg->realm, err, err_len);

    if (rc == GH_OK && strlen(cfg->realm) > 256)
        return errf(err, err_len, "auth_realm: longer than 256 bytes");
    for (const char *p = cfg->realm; rc == GH_OK && *p != 0; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            return errf(err, err_len, "auth_realm: control characters are not allowed");
    }
    return rc;
}

static int
set_extended_protection(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    static const char *const modes[] = {"off", "allow", "require"};
    struct auth_config *cfg = c;

    for (size_t i = 0; d->arg_count == 1 && i < 3; i++) {
        if (strcmp(d->args[0], modes[i]) == 0) {
            cfg->epa = (enum auth_epa)i;
            return GH_OK;
        }
    }
    return errf(err, err_len, "auth_extended_protection takes off, allow or require");
}

static int
set_group_names(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;

    if (strcmp(d->args[0], "off") != 0 && strcmp(d->args[0], "winbind") != 0)
        return errf(err, err_len, "auth_group_names takes off or winbind");
    cfg->group_names = strcmp(d->args[0], "winbind") == 0;
    return GH_OK;
}

static int
set_credssp_certificate(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    return auth_credssp_directive(c, d->args, d->arg_count, err, err_len);
}

static int
set_local_realm(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;

    if (d->arg_count == 0)
        return errf(err, err_len, "auth_local_realm takes one or more realms");
    for (size_t i = 0; i < d->arg_count; i++) {
        int rc = auth_realm_add(d->args[i], strlen(d->args[i]), &cfg->local_realms,
                                &cfg->local_realm_count);
        if (rc != GH_OK)
            return rc;
    }
    cfg->has_local_realm_directive = true;
    return GH_OK;
}

static int
set_ntlm_backend(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;

    if (strcmp(d->args[0], "store") == 0)
        cfg->ntlm_winbind = false;
    else if (strcmp(d->args[0], "winbind") == 0)
        cfg->ntlm_winbind = true;
    else
        return errf(err, err_len, "auth_ntlm_backend takes store or winbind");
    return GH_OK;
}

/* auth_max_token_bytes, auth_handshake_timeout, auth_basic_cache_ttl: one
 * number each, whose range and field the name gives. */
static int
set_number(void *c, const struct gh_directive *d, char *err, size_t err_len)
{
    struct auth_config *cfg = c;
    bool is_tokens = strcmp(d->name, "auth_max_token_bytes") == 0;
    bool is_timeout = strcmp(d->name, "auth_handshake_timeout") == 0;
    unsigned long v = 0;
    int rc = parse_uint(d->name, d->args, d->arg_count,
                        is_tokens    ? MIN_TOKEN_BYTES
                        : is_timeout ? 1
                                     : 0,
                        is_tokens ? MAX_TOKEN_BYTES : 3600, &v, err, err_len);

    if (rc != GH_OK)
        return rc;
    if (is_tokens)
        cfg->max_token_bytes = v;
    else if (is_timeout)
        cfg->handshake_timeout_ms = (unsigned)v * 1000;
    else
        cfg->basic_cache_ttl_s = (unsigned)v;
    return GH_OK;
}

#define ANYWHERE (GH_CONF_MAIN | GH_CONF_LOCATION)
#define MANY     GH_CONF_ARGS_ANY
/* The per-location auth directives (docs/auth.md explains each; docs/config.md
 * lists them, which tests/integration/test_config_docs.py checks). Written at
 * server level they are inherited by every location (src/server/config.c).
 * The server-level-only auth_* directives are the server's (config.c). */
static const struct gh_command auth_commands[] = {
    {"auth", ANYWHERE, 1, AUTH_SCHEME_COUNT + 1, set_schemes, "SCHEME...", NULL,
     "schemes offered, in challenge order: Negotiate NTLM Kerberos CredSSP Digest Basic "
     "Certificate"},
    {"auth_cert_map", ANYWHERE, 1, MANY, set_cert_map, "CONDITION... ACTION", NULL,
     "one client-certificate mapping rule (repeatable; first match decides)"},
    {"auth_anonymous", ANYWHERE, 1, 1, set_allow_anonymous, "on|off", "off",
     "requests without credentials pass unauthenticated instead of a 401"},
    {"auth_require", ANYWHERE, 1, MANY, set_require, "valid-user | user NAME... | group NAME...",
     "valid-user",
     "who may pass once authenticated (repeatable: any rule suffices); others get 403"},
    {"auth_realm", ANYWHERE, 1, 1, set_realm, "REALM", "gatehouse",
     "realm of Basic and Digest (at most 256 bytes)"},
    {"auth_keytab", ANYWHERE, 1, 1, set_keytab, "PATH", "$KRB5_KTNAME",
     "keytab of the Kerberos acceptor (Negotiate, Kerberos)"},
    {"auth_service_name", ANYWHERE, 1, MANY, set_spns, "HTTP/HOST...", NULL,
     "accepted service principal names; also bind NTLM to this service"},
    {"auth_persist_kerberos", ANYWHERE, 1, 1, set_persist_kerberos, "on|off", "on",
     "keep a Kerberos identity on the keep-alive connection"},
    {"auth_packed_context", ANYWHERE, 1, 1, set_packed_context, "on|off", "on",
     "export the completed SSPI context into the record when a module reads it"},
    {"auth_basic_over_http", ANYWHERE, 1, 1, set_basic_over_http, "on|off", "off",
     "offer and accept Basic on plain HTTP"},
    {"auth_extended_protection", ANYWHERE, 1, 1, set_extended_protection, "off|allow|require",
     "off", "channel binding (RFC 5929 tls-server-end-point) for the SSPI schemes"},
    {"auth_group_names", ANYWHERE, 1, 1, set_group_names, "off|winbind", "off",
     "name the group SIDs of a Kerberos PAC through winbind (Kerberos legs then run on the "
     "blocking pool)"},
    {"auth_basic_kerberos", ANYWHERE, 1, 1, set_basic_kerberos, "on|off", "off",
     "Basic passwords are checked against the KDC"},
    {"auth_mutual_to_app", ANYWHERE, 1, 1, set_mutual_to_app, "on|off", "off",
     "the final mutual-authentication token goes to the application"},
    {"auth_credssp_certificate", ANYWHERE, 1, 2, set_credssp_certificate, "PEM [KEY]", NULL,
     "certificate of the TLS channel inside CredSSP (required with auth CredSSP)"},
    {"auth_user_store", ANYWHERE, 1, 1, set_user_store_path, "PATH", NULL,
     "the built-in user store (gatehouse passwd); required with Digest or Basic"},
    {"auth_delegation", ANYWHERE, 1, 1, set_delegation, "on|off", "off",
     "ask for delegation: a forwarded Kerberos TGT, CredSSP's delegated password"},
    {"auth_ccache_dir", ANYWHERE, 1, 1, set_ccache_dir, "DIR", NULL,
     "directory of the delegated credential caches (absolute)"},
    {"auth_ntlm_domain", ANYWHERE, 1, 1, set_nb_domain, "NAME", NULL,
     "NetBIOS domain name the NTLM acceptor announces"},
    {"auth_ntlm_computer", ANYWHERE, 1, 1, set_nb_computer, "NAME", NULL,
     "NetBIOS computer name the NTLM acceptor announces"},
    {"auth_local_realm", ANYWHERE, 1, MANY, set_local_realm, "REALM...", NULL,
     "Kerberos realms whose users are named by their bare user name"},
    {"auth_ntlm_require_target_name", ANYWHERE, 1, 1, set_ntlm_require_target_name, "on|off", "off",
     "an NTLM client that names no target fails (needs auth_service_name)"},
    {"auth_ntlm_backend", ANYWHERE, 1, 1, set_ntlm_backend, "store|winbind", "store",
     "who checks NTLM responses: the user store, or the domain controller through winbindd"},
    {"auth_max_token_bytes", ANYWHERE, 1, 1, set_number, "N", "65536",
     "largest decoded SSPI token accepted (1024..1048576); larger: 400"},
    {"auth_handshake_timeout", ANYWHERE, 1, 1, set_number, "SECONDS", "30",
     "a handshake whose next leg comes later starts over"},
    {"auth_basic_cache_ttl", ANYWHERE, 1, 1, set_number, "SECONDS", "300",
     "how long verified Basic credentials are remembered (0..3600)"},
    GH_COMMAND_END,
};

const struct gh_command *
auth_config_commands(void)
{
    return auth_commands;
}

int
auth_config_directive(struct auth_config *cfg, const char *name, const char *const *args, size_t n,
                      char *err, size_t err_len)
{
    for (const struct gh_command *c = auth_commands; c->name != NULL; c++) {
        if (strcmp(c->name, name) != 0)
            continue;
        if (n < c->min_args || (c->max_args != GH_CONF_ARGS_ANY && n > c->max_args)) {
            if (c->min_args == c->max_args)
                return errf(err, err_len, "'%s' takes %u argument%s", name, c->min_args,
                            c->min_args == 1 ? "" : "s");
            if (c->max_args == GH_CONF_ARGS_ANY)
                return errf(err, err_len, "'%s' takes at least %u argument%s", name, c->min_args,
                            c->min_args == 1 ? "" : "s");
            return errf(err, err_len, "'%s' takes %u to %u arguments", name, c->min_args,
                        c->max_args);
        }
        struct gh_directive d = {.name = name, .args = args, .arg_count = n};
        return c->set(cfg, &d, err, err_len);
    }
    if (strncmp(name, "auth_", 5) == 0)
        return errf(err, err_len, "unknown directive %s", name);
    return GH_ENOTFOUND;
}

static bool
has_scheme(const struct auth_config *cfg, enum auth_scheme s)
{
    for (size_t i = 0; i < cfg->scheme_count; i++) {
        if (cfg->schemes[i] == s)
            return true;
    }
    return false;
}

/* UPN mapping names users of the local realms only (cert_auth.c). */
static bool
has_upn_rule(const struct auth_config *cfg)
{
    for (size_t i = 0; i < cfg->certmap.count; i++) {
        if (cfg->certmap.rules[i].action == CERTMAP_UPN)
            return true;
    }
    return false;
}

int
auth_config_activate(struct auth_config *cfg, char *err, size_t err_len)
{
    const struct auth_backend *backend = cfg->engine->backend;
    int rc;

    bool wants_store =
        has_scheme(cfg, AUTH_SCHEME_DIGEST) ||
        (has_scheme(cfg, AUTH_SCHEME_BASIC) && cfg->basic_verify == NULL && !cfg->basic_kerberos);

    /* Kerberos delegation lands in a ccache; CredSSP's delegated password stays
     * in the request's record. */
    bool wants_ccache =
        has_scheme(cfg, AUTH_SCHEME_NEGOTIATE) || has_scheme(cfg, AUTH_SCHEME_KERBEROS);
    if (cfg->delegation && cfg->ccache_dir == NULL && wants_ccache)
        return errf(err, err_len, "auth_delegation on needs auth_ccache_dir");
    if (cfg->ccache_dir != NULL && cfg->ccache_dir[0] != '/')
        return errf(err, err_len, "auth_ccache_dir must be an absolute path");
    if (cfg->user_store_path != NULL && cfg->userdb == NULL) {
        rc = backend->userdb->open(cfg->user_store_path, &cfg->userdb, err, err_len);
        if (rc != GH_OK)
            return rc;
    }
    if (wants_store && cfg->userdb == NULL)
        return errf(err, err_len, "auth Digest/Basic needs auth_user_store");
    if (has_scheme(cfg, AUTH_SCHEME_BASIC) && cfg->basic_cache_ttl_s > 0 &&
        cfg->basic_cache == NULL) {
        rc = basic_cache_create(0, (uint64_t)cfg->basic_cache_ttl_s * 1000, backend->token,
                                &cfg->basic_cache);
        if (rc != GH_OK)
            return rc;
    }

    /* Whose users a bare name means: read once here, compared per request. */
    if (!cfg->has_local_realm_directive && cfg->local_realm_count == 0 &&
        (has_scheme(cfg, AUTH_SCHEME_NEGOTIATE) || has_scheme(cfg, AUTH_SCHEME_KERBEROS) ||
         cfg->basic_kerberos || has_upn_rule(cfg))) {
        rc = auth_realm_collect(cfg->keytab, cfg->service_names, cfg->service_name_count,
                                &cfg->local_realms, &cfg->local_realm_count);
        if (rc != GH_OK)
            return rc;
    }
    if (cfg->offers_cert && cfg->certmap.count == 0)
        return errf(err, err_len, "auth Certificate needs at least one auth_cert_map rule");
    if (cfg->ntlm_require_target_name && cfg->service_name_count == 0)
        return errf(err, err_len, "auth_ntlm_require_target_name on needs auth_service_name");
    /* The service names also bind NTLM to this service (MsvAvTargetName):
     * an exchange relayed from another service fails. */
    GH_ACCEPTOR_AUTH_DATA data = {
        .Version = GH_ACCEPTOR_AUTH_DATA_V3,
        .DelegatedCcacheDir = cfg->delegation ? cfg->ccache_dir : NULL,
        .UserStore = cfg->user_store_path,
        .Keytab = cfg->keytab,
        .NbDomainName = cfg->nb_domain,
        .NbComputerName = cfg->nb_computer,
        .Flags = (cfg->ntlm_require_target_name ? GH_ACCEPTOR_REQUIRE_TARGET_NAME : 0) |
                 (cfg->ntlm_winbind ? GH_ACCEPTOR_NTLM_WINBIND : 0) |
                 (cfg->group_names ? GH_ACCEPTOR_GROUP_NAMES : 0),
        .AcceptedTargetNames = (const char *const *)cfg->service_names,
        .AcceptedTargetNameCount = cfg->service_name_count,
    };
    /* Basic's Kerberos tickets are accepted with the settings of this
     * location's Kerberos acceptor (group names...), as Negotiate's are. */
    if (cfg->basic_kerberos && cfg->basic_verify == NULL) {
        rc = basic_krb5_create(backend->sspi, &data, cfg->keytab,
                               cfg->service_name_count > 0 ? cfg->service_names[0] : NULL, NULL,
                               &cfg->basic_krb5, err, err_len);
        if (rc != GH_OK)
            return rc;
        cfg->basic_verify = basic_krb5_verify;
        cfg->basic_verify_arg = cfg->basic_krb5;
    }
    for (size_t i = 0; i < cfg->scheme_count; i++) {
        enum auth_scheme s = cfg->schemes[i];
        if (s >= AUTH_SSPI_SCHEMES || cfg->has_creds[s])
            continue;
        if (s == AUTH_SCHEME_CREDSSP) {
            int crc = auth_credssp_acquire(cfg, &data, err, err_len);
            if (crc != GH_OK)
                return crc;
            continue;
        }
        if (backend->sspi == NULL)
            return errf(err, err_len, "auth %s: the security library is not available",
                        auth_scheme_name(s));
        char *principal =
            cfg->service_name_count == 1 && s != AUTH_SCHEME_NTLM ? cfg->service_names[0] : NULL;
        TimeStamp expiry;
        SECURITY_STATUS st = backend->sspi->AcquireCredentialsHandleA(
            principal, (char *)auth_scheme_name(s), SECPKG_CRED_INBOUND, NULL, &data, NULL, NULL,
            &cfg->creds[s], &expiry);
        if (st != SEC_E_OK)
            return errf(err, err_len, "cannot acquire %s credentials%s%s: SECURITY_STATUS 0x%08x",
                        auth_scheme_name(s), cfg->keytab != NULL ? " with keytab " : "",
                        cfg->keytab != NULL ? cfg->keytab : "", (unsigned)(uint32_t)st);
        cfg->has_creds[s] = true;
    }
    return GH_OK;
}

int
auth_config_from_conf(struct auth_engine *engine, const struct conf_node *location,
                      struct auth_config **cfg_out, char *err, size_t err_len)
{
    struct auth_config *cfg = NULL;
    char reason[256];
    int rc = auth_config_create(engine, &cfg);

    *cfg_out = NULL;
    if (rc != GH_OK)
        return rc;
    for (size_t i = 0; i < location->child_count; i++) {
        const struct conf_node *d = &location->children[i];
        reason[0] = 0;
        if (d->is_block && strncmp(d->name, "auth", 4) == 0) {
            rc = errf(err, err_len, "%s:%u: %s takes no block", d->file, d->line, d->name);
            goto cleanup;
        }
        rc = auth_config_directive(cfg, d->name, (const char *const *)d->args, d->arg_count, reason,
                                   sizeof(reason));
        if (rc == GH_ENOTFOUND)
            continue;
        if (rc != GH_OK) {
            if (rc == GH_EINVAL)
                errf(err, err_len, "%s:%u: %s", d->file, d->line, reason);
            goto cleanup;
        }
    }
    rc = auth_config_activate(cfg, reason, sizeof(reason));
    if (rc != GH_OK) {
        errf(err, err_len, "%s:%u: %s", location->file, location->line, reason);
        goto cleanup;
    }
    *cfg_out = cfg;
    cfg = NULL;
cleanup:
    auth_config_destroy(cfg);
    return rc;
}
