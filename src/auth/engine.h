// SPDX-License-Identifier: MIT
// The auth engine: what the server calls to authenticate a request. See
// docs/internals/auth.md for the seam with the server and docs/auth.md for the
// configuration directives.
//
// Objects and lifetimes:
//   struct auth_engine  one per server (process): backend, Digest secret and
//                       replay table, per-address limiter, audit log. Thread-safe.
//   struct auth_config  one per location, made from the configuration; immutable
//                       once made, so shared by every thread; holds the inbound
//                       SSPI credentials and the user database.
//   struct auth_conn    one per TCP connection: the handshake in progress or the
//                       identity persisted on it. Used by one thread at a time.
//   struct auth_decision one per request: what to answer, and the auth record.
//
// Lifetime rule: the engine outlives every config and conn; a conn may outlive
// the config it authenticated with (reload): it never dereferences it later.
#ifndef GH_AUTH_ENGINE_H
#define GH_AUTH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gatehouse/sspi.h>

#include "auth/authz.h"
#include "auth/backend.h"
#include "auth/basic.h"
#include "auth/certmap.h"
#include "auth/digest.h"
#include "auth/limiter.h"
#include "auth/reason.h"
#include "auth/record.h"
#include "base/log.h"
#include "base/slice.h"

struct gh_command; /* <gatehouse/module.h> */

struct conf_node;
struct basic_krb5;
struct basic_cache;

enum auth_scheme {
    AUTH_SCHEME_NEGOTIATE = 0,
    AUTH_SCHEME_NTLM = 1,
    AUTH_SCHEME_KERBEROS = 2,
    AUTH_SCHEME_CREDSSP = 3,
    AUTH_SCHEME_DIGEST = 4,
    AUTH_SCHEME_BASIC = 5,
    AUTH_SCHEME_COUNT = 6,
};
#define AUTH_SSPI_SCHEMES 4 /* the first four are SSPI packages, connection-bound */

/* "Negotiate", "NTLM", "Kerberos", "CredSSP", "Digest", "Basic" (the first
 * four are also the package names, case aside). */
const char *auth_scheme_name(enum auth_scheme s);
/* Case-insensitive. GH_OK or GH_ENOTFOUND. */
int auth_scheme_parse(struct slice name, enum auth_scheme *out);

enum auth_epa {
    AUTH_EPA_OFF = 0,     /* no channel bindings passed to the packages */
    AUTH_EPA_ALLOW = 1,   /* bindings checked when the client sent some */
    AUTH_EPA_REQUIRE = 2, /* a client that sent none fails (see docs/internals/auth.md) */
};

struct auth_engine_params {
    const struct auth_backend *backend; /* required: auth_backend_real() or a fake */
    struct log *audit_log;              /* borrowed; NULL: stderr */
    const uint8_t *digest_secret;       /* 32 bytes shared by workers, or NULL: random */
    size_t digest_replay_entries;       /* 0: default */
    unsigned digest_nonce_lifetime_s;   /* 0: default 300 */
    struct limiter_params limits;       /* zeros: defaults */
};

struct auth_engine;

int auth_engine_create(const struct auth_engine_params *p, struct auth_engine **out);
void auth_engine_destroy(struct auth_engine *e); /* NULL-safe; after every config and conn */
/* Sets the audit log (borrowed; NULL: stderr). Call before any request runs:
 * the engine reads it without a lock. */
void auth_engine_set_audit_log(struct auth_engine *e, struct log *audit_log);
/* Sets the Digest nonce lifetime in seconds (0: keep); same rule. */
void auth_engine_set_digest_lifetime(struct auth_engine *e, unsigned lifetime_s);
/* The per-address failure backoff (auth_backoff_* directives); 0 = default. */
void auth_engine_set_backoff(struct auth_engine *e, unsigned fail_threshold,
                             unsigned max_backoff_ms, unsigned fail_window_ms);

/* Per-location configuration (public fields: read-only once made). */
struct auth_config {
    struct auth_engine *engine;                  /* borrowed */
    uint64_t id;                                 /* unique per config object */
    enum auth_scheme schemes[AUTH_SCHEME_COUNT]; /* offered, in header order */
    size_t scheme_count;
    bool allow_anonymous;
    struct authz_rules rules;
    char *realm;
    char *keytab;
    char **service_names; /* accepted SPNs; empty: any in the keytab */
    size_t service_name_count;
    bool persist_kerberos;
    bool packed_context; /* export the context into the record (auth_packed_context) */
    bool basic_over_http;
    enum auth_epa epa;
    bool mutual_to_app;
    char *user_store_path;
    bool delegation;
    char *ccache_dir;
    size_t max_token_bytes;
    unsigned handshake_timeout_ms;
    char *nb_domain; /* NTLM NetBIOS names (GH_ACCEPTOR_AUTH_DATA); NULL: package default */
    char *nb_computer;
    bool ntlm_require_target_name; /* auth_ntlm_require_target_name on */
    /* auth_ntlm_backend winbind: the domain controller checks NTLM responses
     * (GH_ACCEPTOR_NTLM_WINBIND), also inside Negotiate; the AUTHENTICATE leg
     * then blocks on winbindd and runs on the pool (auth_engine_may_block). */
    bool ntlm_winbind;
    bool group_names;   /* auth_group_names winbind: name the PAC's group SIDs */
    char *credssp_cert; /* auth_credssp_certificate: PEM of the inner TLS (src/auth/credssp.c) */
    char *credssp_key;  /* its key file, or NULL (in the certificate file) */
    /* Kerberos realms whose users are named by bare user name (auth_local_realm,
     * else collected at activation: realm.h); others by their full principal. */
    char **local_realms;
    size_t local_realm_count;
    bool has_local_realm_directive;
    /* Runtime state made by auth_config_activate(). */
    void *userdb;
    CredHandle creds[AUTH_SSPI_SCHEMES];
    bool has_creds[AUTH_SSPI_SCHEMES];
    bool basic_kerberos;           /* auth_basic_kerberos on */
    struct basic_krb5 *basic_krb5; /* owned; made by activate with basic_kerberos */
    basic_verify_fn *basic_verify; /* NULL: the user database */
    void *basic_verify_arg;
    unsigned basic_cache_ttl_s;      /* auth_basic_cache_ttl; 0: no cache */
    struct basic_cache *basic_cache; /* owned; made by activate when Basic is offered */
    /* Client certificates (cert_auth.c): "Certificate" in `auth`, tried before
     * the other schemes, and the location's auth_cert_map rules in order. */
    bool offers_cert;
    struct certmap certmap;
};

/* Makes a config from a location block's directives (the children of location;
 * unknown directives are ignored: they belong to other modules), then activates
 * it. On failure returns GH_EINVAL (a directive's value: err names file:line),
 * GH_EIO / GH_EDENIED (user store, keytab: err says why), or GH_ENOMEM. */
int auth_config_from_conf(struct auth_engine *engine, const struct conf_node *location,
                          struct auth_config **cfg_out, char *err, size_t err_len);

/* The same in steps, for the module API's per-directive callback:
 * auth_config_create() gives defaults; auth_config_directive() takes one
 * directive (GH_OK, GH_ENOTFOUND when not ours, GH_EINVAL with a reason);
 * auth_config_activate() opens the user store and acquires the credentials. */
int auth_config_create(struct auth_engine *engine, struct auth_config **cfg_out);
int auth_config_directive(struct auth_config *cfg, const char *name, const char *const *args,
                          size_t arg_count, char *err, size_t err_len);
/* The auth directives' table (ended by GH_COMMAND_END), for the server's
 * dispatch and `gatehouse serve --list-directives`; each set function takes a
 * struct auth_config. auth_config_directive() looks names up in it and checks
 * the argument count. */
const struct gh_command *auth_config_commands(void);
int auth_config_activate(struct auth_config *cfg, char *err, size_t err_len);
void auth_config_destroy(struct auth_config *cfg); /* NULL-safe */

/* Per-connection state. */
struct auth_conn;
int auth_conn_create(struct auth_engine *engine, struct slice peer_addr, struct auth_conn **out);
/* Deletes the context in progress or persisted and returns its limiter slot. */
void auth_conn_destroy(struct auth_conn *conn); /* NULL-safe */

/* What the server knows about the request. Everything is borrowed for the call. */
struct auth_request_view {
    struct slice method;
    struct slice target;               /* request-target as sent (Digest's uri) */
    const struct slice *authorization; /* values of every Authorization field */
    size_t authorization_count;
    const char *peer; /* "addr:port", for the audit log; NULL: ask peer_text */
    /* Called only when an audit line is written and peer is NULL (formatting
     * the address costs more than serving a persisted identity). May be NULL. */
    const char *(*peer_text)(void *arg);
    void *peer_text_arg;
    bool is_tls;
    /* tls-server-end-point (RFC 5929 4.1): hash of the server certificate; NULL when
     * not TLS or unknown. The engine prefixes "tls-server-end-point:". */
    const uint8_t *cb_hash;
    size_t cb_hash_len;
    uint64_t now_ms; /* monotonic milliseconds; 0: read CLOCK_MONOTONIC */
    time_t now;      /* wall clock; 0: time(NULL) */
    /* The connection's client certificate: the leaf's DER (NULL: none) and its
     * chain verification result (CertFlags: 0 when the chain verified). */
    const uint8_t *client_cert;
    size_t client_cert_len;
    uint32_t client_cert_flags;
    /* The server's error log, where failures are explained (rate-limited per
     * reason, auth/reason.h); NULL: not written. */
    struct log *error_log;
};

struct auth_header {
    const char *name; /* static: "WWW-Authenticate", "Authentication-Info", "Retry-After" */
    char *value;      /* owned by the decision */
};

#define AUTH_MAX_HEADERS 8

/* What the certificate mapping made of the request's client certificate. */
enum auth_cert_outcome {
    AUTH_CERT_NONE = 0,     /* no certificate, or the location does not offer Certificate */
    AUTH_CERT_MAPPED = 1,   /* the record is the certificate's identity */
    AUTH_CERT_DENIED = 2,   /* a deny rule matched (CertDeniedByMapper) */
    AUTH_CERT_UNMAPPED = 3, /* no rule matched */
    AUTH_CERT_INVALID = 4,  /* the certificate does not parse (or breaks a limit) */
};

/* What the request's authentication did, for the server's counters (the
 * status module). Strings are static. */
struct auth_observed {
    bool is_attempt;         /* credentials of an accepted scheme were examined */
    enum auth_scheme scheme; /* with is_attempt */
    bool is_backoff;         /* answered 429: the address is in backoff */
    uint8_t basic_cache;     /* 0: not consulted, 1: hit, 2: miss */
};

struct auth_decision {
    /* 0: pass the request on (with record); else answer with this status:
     * 401 (challenge or continuation), 403 (authorization rules), 400 (malformed
     * credentials), 429 (address in backoff, or too many handshakes in progress),
     * 503 (the authority cannot be reached: AUTH_REASON_AUTHORITY_UNREACHABLE,
     * with Retry-After). */
    int status;
    /* Headers for the response: the 401's challenges in configured order or the
     * continuation token; on pass, the final mutual token (WWW-Authenticate) or
     * Digest's Authentication-Info, to add to whatever response the request gets. */
    struct auth_header headers[AUTH_MAX_HEADERS];
    size_t header_count;
    /* After a 401 continuation the connection must stay open (keep-alive) for the
     * next leg; false otherwise. */
    bool is_handshake_in_progress;
    struct auth_record record; /* the request's record; free with auth_decision_clear */
    enum auth_cert_outcome cert_outcome;
    /* The reason of the outcome written in the audit line (auth/reason.h);
     * AUTH_REASON_OK when there was none (no credentials, a continuation). */
    enum auth_reason reason;
    struct auth_observed observed;
};

/* Authenticates one request. Returns GH_OK with *out filled (free it with
 * auth_decision_clear when the request ends), or GH_ENOMEM (answer 500). Never
 * blocks on the network except inside packages (Kerberos verifies locally with
 * the keytab; NTLM against the user store). */
int auth_engine_run(const struct auth_config *cfg, struct auth_conn *conn,
                    const struct auth_request_view *req, struct auth_decision *out);
void auth_decision_clear(struct auth_decision *d);

/* True when auth_engine_run() may block or burn CPU for long on this request:
 * Basic credentials that are not in the verified-credentials cache (a PBKDF2
 * over the user store, or a KDC exchange with auth_basic_kerberos), or, with
 * auth_ntlm_backend winbind, an NTLM AUTHENTICATE_MESSAGE (raw, or a later
 * SPNEGO leg under Negotiate, or any CredSSP leg) that goes to the domain
 * controller. Run it on
 * the server's blocking pool (gh_request_run_blocking) so that the worker keeps
 * serving its other connections. Cheap (one HMAC); never blocks itself. */
bool auth_engine_may_block(const struct auth_config *cfg, const struct auth_request_view *req);

/* The application answered 401 itself (re-authentication when its token expired,
 * the seed's "regenerate the initial 401"): drops the identity persisted on conn
 * and fills *out with the location's challenges (status 401, headers to add to
 * the application's response). GH_OK or GH_ENOMEM. */
int auth_engine_challenge(const struct auth_config *cfg, struct auth_conn *conn,
                          const struct auth_request_view *req, struct auth_decision *out);

#endif
