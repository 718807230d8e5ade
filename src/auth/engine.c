// SPDX-License-Identifier: MIT
// The auth engine's entry point: from a request's Authorization field(s) and
// the connection's state to a decision (pass with a record, or answer 400 /
// 401 / 403 / 429). This file is the one place where SSPI results become HTTP
// statuses and audit lines.
#include "auth/engine.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gatehouse/error.h>

#include "auth/audit.h"
#include "auth/authz_header.h"
#include "auth/basic_cache.h"
#include "auth/engine_private.h"
#include "auth/handshake.h"
#include "auth/realm.h"
#include "base/b64.h"
#include "base/clock.h"

static const char *const scheme_names[AUTH_SCHEME_COUNT] = {"Negotiate", "NTLM",   "Kerberos",
                                                            "CredSSP",   "Digest", "Basic"};
static const enum gh_auth_type scheme_types[AUTH_SCHEME_COUNT] = {
    GH_AUTH_TYPE_NEGOTIATE, GH_AUTH_TYPE_NTLM,   GH_AUTH_TYPE_KERBEROS,
    GH_AUTH_TYPE_CREDSSP,   GH_AUTH_TYPE_DIGEST, GH_AUTH_TYPE_BASIC};

const char *
auth_scheme_name(enum auth_scheme s)
{
    return scheme_names[s];
}

int
auth_scheme_parse(struct slice name, enum auth_scheme *out)
{
    for (size_t i = 0; i < AUTH_SCHEME_COUNT; i++) {
        if (slice_eq_nocase(name, slice_cstr(scheme_names[i]))) {
            *out = (enum auth_scheme)i;
            return GH_OK;
        }
    }
    return GH_ENOTFOUND;
}

int
auth_engine_create(const struct auth_engine_params *p, struct auth_engine **out)
{
    struct auth_engine *e = calloc(1, sizeof(*e));
    int err;

    *out = NULL;
    if (e == NULL)
        return GH_ENOMEM;
    e->backend = p->backend;
    e->audit_log = p->audit_log;
    err = digest_state_create(p->digest_secret, p->digest_replay_entries,
                              p->digest_nonce_lifetime_s, &e->digest);
    if (err == GH_OK)
        err = limiter_create(&p->limits, &e->limiter);
    if (err != GH_OK) {
        auth_engine_destroy(e);
        return err;
    }
    *out = e;
    return GH_OK;
}

void
auth_engine_set_audit_log(struct auth_engine *e, struct log *audit_log)
{
    e->audit_log = audit_log;
}

void
auth_engine_set_digest_lifetime(struct auth_engine *e, unsigned lifetime_s)
{
    digest_state_set_lifetime(e->digest, lifetime_s);
}

void
auth_engine_set_backoff(struct auth_engine *e, unsigned fail_threshold, unsigned max_backoff_ms,
                        unsigned fail_window_ms)
{
    limiter_set_backoff(e->limiter, fail_threshold, max_backoff_ms, fail_window_ms);
}

void
auth_engine_destroy(struct auth_engine *e)
{
    if (e == NULL)
        return;
    digest_state_destroy(e->digest);
    limiter_destroy(e->limiter);
    free(e);
}

int
auth_conn_create(struct auth_engine *engine, struct slice peer_addr, struct auth_conn **out)
{
    struct auth_conn *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return GH_ENOMEM;
    c->engine = engine;
    c->backend = engine->backend;
    c->limiter = engine->limiter;
    c->peer_addr_len = peer_addr.len < sizeof(c->peer_addr) ? peer_addr.len : sizeof(c->peer_addr);
    memcpy(c->peer_addr, peer_addr.ptr, c->peer_addr_len);
    SecInvalidateHandle(&c->ctx);
    *out = c;
    return GH_OK;
}

void
auth_conn_destroy(struct auth_conn *conn)
{
    if (conn == NULL)
        return;
    handshake_reset(conn);
    free(conn);
}

void
auth_decision_clear(struct auth_decision *d)
{
    for (size_t i = 0; i < d->header_count; i++)
        free(d->headers[i].value);
    d->header_count = 0;
    auth_record_clear(&d->record);
    d->status = 0;
    d->is_handshake_in_progress = false;
}

static int
add_header(struct auth_decision *d, const char *name, const char *value, size_t len)
{
    if (d->header_count >= AUTH_MAX_HEADERS)
        return GH_ELIMIT;
    char *copy = strndup(value, len);
    if (copy == NULL)
        return GH_ENOMEM;
    d->headers[d->header_count].name = name;
    d->headers[d->header_count].value = copy;
    d->header_count++;
    return GH_OK;
}

static bool
offers(const struct auth_config *cfg, enum auth_scheme s)
{
    for (size_t i = 0; i < cfg->scheme_count; i++) {
        if (cfg->schemes[i] == s)
            return true;
    }
    return false;
}

/* Credentials in scheme s are accepted here. */
static bool
accepts(const struct auth_config *cfg, const struct auth_request_view *req, enum auth_scheme s)
{
    if (!offers(cfg, s))
        return false;
    if (s < AUTH_SSPI_SCHEMES && !cfg->has_creds[s])
        return false;
    if (s == AUTH_SCHEME_BASIC && !req->is_tls && !cfg->basic_over_http)
        return false; /* the password would cross the network in clear */
    return true;
}

/* Scheme s is offered in this 401. A client that insists on Negotiate after a
 * failure is still served (accepts), it is just not invited again. */
static bool
usable(const struct auth_config *cfg, const struct auth_conn *conn,
       const struct auth_request_view *req, enum auth_scheme s)
{
    if (s == AUTH_SCHEME_NEGOTIATE && conn->negotiate_failed)
        return false; /* negotiate-once: let the browser fall back */
    return accepts(cfg, req, s);
}

/* Everything one audit line needs besides the request. */
struct outcome_note {
    enum auth_scheme scheme;
    const char *package;
    const char *principal;
    const char *result;
    SECURITY_STATUS sec_status;
    bool is_persisted, is_cached, did_offer_bindings, is_delegated;
    enum auth_reason reason;
    const char *reason_text;   /* NULL: the row's text */
    const char *const *groups; /* borrowed from the record, on success */
    size_t group_count;
};

static const char *
peer_of(const struct auth_request_view *req)
{
    return req->peer != NULL || req->peer_text == NULL ? req->peer
                                                       : req->peer_text(req->peer_text_arg);
}

static void
audit(const struct auth_config *cfg, const struct auth_request_view *req, time_t now,
      const struct outcome_note *n)
{
    const char *cb = "n/a";
    if (n->scheme < AUTH_SSPI_SCHEMES) {
        if (cfg->epa == AUTH_EPA_OFF)
            cb = "off";
        else
            cb = n->did_offer_bindings ? "offered" : "missing";
    }
    struct auth_audit_event ev = {
        .time = now,
        .peer = peer_of(req),
        .scheme = auth_scheme_name(n->scheme),
        .package = n->package,
        .principal = n->principal,
        .result = n->result,
        .sec_status = n->sec_status,
        .is_persisted = n->is_persisted,
        .is_cached = n->is_cached,
        .cb = cb,
        .is_delegated = n->is_delegated,
        .reason = auth_reason_code(n->reason),
        .reason_text = n->reason_text != NULL && n->reason_text[0] != 0
                           ? n->reason_text
                           : auth_reason_info(n->reason)->text,
        .groups = n->groups,
        .group_count = n->group_count,
    };
    audit_emit(cfg->engine->audit_log, &ev);
}

/* A failure: the audit line, and the error log's explanation (rate-limited
 * per reason). */
static void
report_failure(const struct auth_config *cfg, const struct auth_request_view *req, time_t now,
               const struct outcome_note *n, struct auth_decision *out)
{
    char what[320];

    out->reason = n->reason;
    audit(cfg, req, now, n);
    const char *peer = peer_of(req);
    (void)snprintf(what, sizeof(what), "%s%s%s from %s%s%.200s", auth_scheme_name(n->scheme),
                   n->package != NULL ? "/" : "", n->package != NULL ? n->package : "",
                   peer != NULL ? peer : "-", n->principal != NULL ? " user " : "",
                   n->principal != NULL ? n->principal : "");
    auth_reason_log_failure(&cfg->engine->reason_log, req->error_log, n->reason, (int64_t)now, what,
                            n->reason_text);
}

/* The answer to a failure whose row says 503: the authority is down, the
 * client is not to blame and should come back. */
static int
unavailable(struct auth_decision *out)
{
    char secs[16];
    int n = snprintf(secs, sizeof(secs), "%d", AUTH_AUTHORITY_RETRY_AFTER_S);

    out->status = 503;
    return add_header(out, "Retry-After", secs, (size_t)n);
}

/* 401 with the configured challenges, in order, that this connection and
 * transport allow; 403 when none is left (e.g. Basic only, over plain HTTP). */
static int
challenge(const struct auth_config *cfg, const struct auth_conn *conn,
          const struct auth_request_view *req, time_t now, bool stale, struct auth_decision *out)
{
    static const enum digest_alg algs[] = {DIGEST_ALG_SHA256, DIGEST_ALG_MD5};
    const struct auth_userdb_ops *db = cfg->engine->backend->userdb;
    struct buf b;
    int err = GH_OK;

    buf_init(&b, 4096);
    out->status = 401;
    for (size_t i = 0; err == GH_OK && i < cfg->scheme_count; i++) {
        enum auth_scheme s = cfg->schemes[i];
        if (!usable(cfg, conn, req, s))
            continue;
        if (s == AUTH_SCHEME_DIGEST) {
            for (size_t a = 0; err == GH_OK && a < sizeof(algs) / sizeof(algs[0]); a++) {
                b.len = 0;
                err = digest_challenge(&b, cfg->engine->digest, cfg->realm, algs[a],
                                       db != NULL && db->find_userhash != NULL, stale, now);
                if (err == GH_OK)
                    err = add_header(out, "WWW-Authenticate", (const char *)b.data, b.len);
            }
            continue;
        }
        b.len = 0;
        err = s == AUTH_SCHEME_BASIC ? basic_challenge(&b, cfg->realm)
                                     : authz_challenge_begin(&b, auth_scheme_name(s));
        if (err == GH_OK)
            err = add_header(out, "WWW-Authenticate", (const char *)b.data, b.len);
    }
    buf_free(&b);
    if (err == GH_OK && out->header_count == 0 && conn->negotiate_failed &&
        accepts(cfg, req, AUTH_SCHEME_NEGOTIATE)) {
        /* Negotiate-once leaves nothing to fall back to: offer it again rather
         * than end in a 403 (a 401 must carry a challenge, RFC 9110 15.5.2). */
        err = add_header(out, "WWW-Authenticate", "Negotiate", 9);
    }
    if (err == GH_OK && out->header_count == 0)
        out->status = 403;
    return err == GH_ENOMEM ? GH_ENOMEM : GH_OK;
}

/* After a successful authentication: the authorization rules decide 0 or 403. */
static void
authorize(const struct auth_config *cfg, struct auth_decision *out, struct outcome_note *note)
{
    if (authz_allows(&cfg->rules, &out->record.pub)) {
        out->status = 0;
        note->result = "success";
    } else {
        out->status = 403;
        note->result = "denied";
        note->reason = AUTH_REASON_DENIED_BY_RULE;
        out->reason = note->reason;
    }
}

static int
run_cached(const struct auth_config *cfg, struct auth_conn *conn,
           const struct auth_request_view *req, time_t now, struct auth_decision *out)
{
    const struct auth_token_ops *ops = cfg->engine->backend->token;
    time_t expiry = ops->expiry != NULL ? ops->expiry(conn->cached_token) : 0;

    /* A persisted Kerberos identity lives no longer than its ticket: past
     * the end time the client must show a fresh one (a new 401). */
    if (expiry != 0 && expiry <= now) {
        handshake_reset(conn);
        return challenge(cfg, conn, req, now, false, out);
    }
    gh_token *tok = ops->dup(conn->cached_token);
    int err = auth_record_set_success(&out->record, scheme_types[conn->scheme], tok, NULL, NULL,
                                      NULL, NULL, 0);

    if (err == GH_OK)
        err = auth_record_qualify_foreign(&out->record, cfg->local_realms, cfg->local_realm_count);
    if (err != GH_OK)
        return err;
    out->record.pub.context_attributes = (uint32_t)conn->cached_attrs;
    if (conn->cached_is_ntlm) /* the seed's HTTP_REQUEST_AUTH_FLAG_TOKEN_FOR_CACHED_CRED */
        out->record.pub.flags |= GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED;
    /* The NTLM context persisted with the identity: exported if a module
     * reads this request's record, as on the request that completed the
     * handshake. */
    if (conn->done_ctx != NULL)
        auth_record_take_export_source(&out->record, auth_ctx_ref_dup(conn->done_ctx));
    struct outcome_note note = {.scheme = conn->scheme,
                                .package = out->record.pub.package_name,
                                .principal = out->record.pub.principal,
                                .is_persisted = true,
                                .is_cached = true,
                                .is_delegated = conn->cached_delegated,
                                .reason = AUTH_REASON_DENIED_BY_RULE};
    /* A request served from the identity persisted on the connection is not a
     * new authentication: the handshake that made it was audited. Only a
     * refusal (the rules changed with a reload) gets a line. */
    authorize(cfg, out, &note);
    if (out->status != 0)
        audit(cfg, req, now, &note);
    return GH_OK;
}

/* "<Scheme> <base64 token>" into a header or the record's mutual data. */
static int
token_value(enum auth_scheme s, const struct buf *tok, struct buf *out)
{
    int err = buf_append_str(out, auth_scheme_name(s));
    if (err == GH_OK && tok->len > 0)
        err = buf_append(out, " ", 1);
    if (err == GH_OK && tok->len > 0)
        err = b64_encode(out, buf_slice(tok));
    return err;
}

static int
sspi_done(const struct auth_config *cfg, enum auth_scheme s, struct hs_outcome *hs,
          struct auth_decision *out, struct outcome_note *note)
{
    struct buf value;
    gh_token *tok = hs->token;
    int err;

    hs->token = NULL; /* the record owns it from here, even on failure */
    err = auth_record_set_success(&out->record, scheme_types[s], tok, NULL, NULL, NULL, NULL, 0);
    if (err == GH_OK)
        err = auth_record_qualify_foreign(&out->record, cfg->local_realms, cfg->local_realm_count);
    if (err != GH_OK)
        return err;
    out->record.pub.context_attributes = (uint32_t)hs->attrs;
    auth_record_take_export_source(&out->record, hs->export_from);
    hs->export_from = NULL;
    buf_init(&value, 2 * 65536);
    if (hs->out_token.len > 0) {
        err = token_value(s, &hs->out_token, &value);
        if (err == GH_OK && value.len > 0) {
            if (cfg->mutual_to_app) {
                char *text = strndup((const char *)value.data, value.len);
                err = text == NULL ? GH_ENOMEM : auth_record_set_mutual(&out->record, text);
                free(text);
            } else {
                err = add_header(out, "WWW-Authenticate", (const char *)value.data, value.len);
            }
        }
    }
    buf_free(&value);
    if (err == GH_OK && hs->deleg.present)
        auth_record_take_delegated(&out->record, &hs->deleg);
    note->package = out->record.pub.package_name;
    note->principal = out->record.pub.principal;
    note->is_persisted = hs->is_persisted;
    note->is_delegated = (hs->attrs & ASC_RET_DELEGATE) != 0;
    note->reason = AUTH_REASON_OK;
    note->groups = out->record.pub.groups;
    note->group_count = out->record.pub.group_count;
    return err;
}

static int
run_sspi(const struct auth_config *cfg, struct auth_conn *conn, const struct auth_request_view *req,
         enum auth_scheme s, const struct authz_credentials *creds, uint64_t now_ms, time_t now,
         struct auth_decision *out)
{
    struct buf raw, value;
    struct hs_outcome hs;
    struct outcome_note note = {.scheme = s, .result = "failure"};
    int err;

    if (creds->form != AUTHZ_FORM_TOKEN68) {
        out->status = 400;
        return GH_OK;
    }
    buf_init(&raw, cfg->max_token_bytes);
    buf_init(&value, 2 * cfg->max_token_bytes + 64);
    err = b64_decode(&raw, creds->token68);
    if (err == GH_EPROTO || err == GH_ELIMIT) {
        out->status = 400;
        err = GH_OK;
        goto cleanup;
    }
    if (err != GH_OK)
        goto cleanup;
    err = handshake_step(cfg, conn, s, buf_slice(&raw), req, now_ms, &hs);
    if (err == GH_EBUSY) {
        out->status = 429;
        err = add_header(out, "Retry-After", "1", 1);
        goto cleanup;
    }
    if (err != GH_OK)
        goto cleanup;
    note.did_offer_bindings = hs.did_offer_bindings;
    if (hs.result == HS_CONTINUE) {
        out->status = 401;
        out->is_handshake_in_progress = true;
        err = token_value(s, &hs.out_token, &value);
        if (err == GH_OK)
            err = add_header(out, "WWW-Authenticate", (const char *)value.data, value.len);
    } else if (hs.result == HS_DONE) {
        err = sspi_done(cfg, s, &hs, out, &note);
        if (err == GH_OK) {
            limiter_success(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len));
            authorize(cfg, out, &note);
            audit(cfg, req, now, &note);
        }
    } else {
        const struct auth_reason_info *row = auth_reason_info(hs.failure.reason);
        if (row->counts_toward_backoff)
            limiter_fail(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len), now_ms);
        note.sec_status = hs.sec_status;
        note.reason = hs.failure.reason;
        note.reason_text = hs.failure.text;
        note.package = hs.failed_package[0] != 0 ? hs.failed_package : NULL;
        report_failure(cfg, req, now, &note, out);
        err =
            row->http_status == 503 ? unavailable(out) : challenge(cfg, conn, req, now, false, out);
        if (err == GH_OK)
            auth_record_set_failure(&out->record, scheme_types[s], hs.sec_status);
    }
    if (hs.token != NULL)
        cfg->engine->backend->token->close(hs.token);
    auth_ctx_ref_release(hs.export_from);
    auth_credssp_deleg_free(&hs.deleg);
    buf_free(&hs.out_token);
cleanup:
    buf_free_wipe(&raw);
    buf_free(&value);
    return err;
}

/* Identity from the user database (Basic, Digest): names, groups and, when the
 * backend can make one, an access token. */
static int
local_success(const struct auth_config *cfg, enum auth_scheme s, const char *user,
              const char *domain, struct auth_decision *out)
{
    const struct auth_backend *be = cfg->engine->backend;
    const char *const *groups = NULL;
    size_t group_count = 0;
    gh_token *tok = NULL;

    if (cfg->userdb != NULL && be->userdb->groups != NULL &&
        be->userdb->groups(cfg->userdb, user, &groups, &group_count) != GH_OK) {
        groups = NULL;
        group_count = 0;
    }
    if (be->token->create != NULL &&
        be->token->create(user, domain, auth_scheme_name(s), groups, group_count, &tok) != GH_OK)
        tok = NULL; /* the record still names the user */
    return auth_record_set_success(&out->record, scheme_types[s], tok, user, domain,
                                   auth_scheme_name(s), groups, group_count);
}

/* Basic checked against Kerberos: the identity of the accepted service ticket
 * (tok, owned from here on: the PAC's groups, SIDs and UPN, as for Negotiate),
 * or, without one, the names and the user database's groups (local_success). */
static int
krb_success(const struct auth_config *cfg, const char *user, const char *domain, gh_token *tok,
            struct auth_decision *out)
{
    if (tok == NULL)
        return local_success(cfg, AUTH_SCHEME_BASIC, user, domain, out);
    return auth_record_set_success(&out->record, scheme_types[AUTH_SCHEME_BASIC], tok, user, domain,
                                   auth_scheme_name(AUTH_SCHEME_BASIC), NULL, 0);
}

/* Basic checked against Kerberos: the record names the principal the KDC
 * issued the credentials to, never the spelling typed ("ALICE", "alice" and
 * "alice@REALM" are one user), like a Negotiate record: the user name and
 * the realm for one of our realms, the full principal for another one. tok:
 * see krb_success. */
static int
principal_success(const struct auth_config *cfg, const char *principal, gh_token *tok,
                  struct auth_decision *out)
{
    const char *realm = auth_realm_of(principal);
    bool local = false;
    char *user;
    int err;

    for (size_t i = 0; realm != NULL && i < cfg->local_realm_count; i++)
        local = local || strcmp(cfg->local_realms[i], realm) == 0;
    if (!local)
        return krb_success(cfg, principal, realm != NULL ? realm : cfg->realm, tok, out);
    user = strndup(principal, (size_t)(realm - 1 - principal));
    if (user == NULL) {
        if (tok != NULL)
            cfg->engine->backend->token->close(tok);
        return GH_ENOMEM;
    }
    err = krb_success(cfg, user, realm, tok, out);
    free(user);
    return err;
}

/* The verifier's token is kept only when the package found a PAC in the
 * ticket (it names the user's SID): a ticket without one (an MIT KDC's)
 * gives the record of before, with the user database's groups if any. */
static gh_token *
pac_token(const struct auth_config *cfg, gh_token *tok)
{
    const struct auth_token_ops *ops = cfg->engine->backend->token;

    if (tok != NULL && (ops->user_sid == NULL || ops->user_sid(tok) == NULL)) {
        ops->close(tok);
        tok = NULL;
    }
    return tok;
}

static int
run_basic(const struct auth_config *cfg, struct auth_conn *conn,
          const struct auth_request_view *req, const struct authz_credentials *creds,
          uint64_t now_ms, time_t now, struct auth_decision *out)
{
    const struct auth_userdb_ops *db = cfg->engine->backend->userdb;
    struct outcome_note note = {.scheme = AUTH_SCHEME_BASIC, .result = "failure"};
    struct auth_failure why = {.reason = AUTH_REASON_OK};
    struct secret password = {0};
    uint8_t key[BASIC_CACHE_KEY_BYTES];
    char cached[BASIC_CACHE_NAME_BYTES];
    char *user = NULL, *canon = NULL;
    gh_token *tok = NULL; /* the verifier's (or the cache's) identity, owned */
    int err, vrc;

    if (creds->form != AUTHZ_FORM_TOKEN68) {
        out->status = 400;
        return GH_OK;
    }
    err = basic_decode(creds->token68, &user, &password);
    if (err == GH_EPROTO || err == GH_ELIMIT) {
        out->status = 400;
        return GH_OK;
    }
    if (err != GH_OK)
        return err;
    bool has_key = cfg->basic_cache != NULL &&
                   basic_cache_key(cfg->basic_cache, user, password.bytes, password.len, key);
    if (has_key)
        out->observed.basic_cache = 2; /* a miss, unless found below */
    if (has_key && basic_cache_check(cfg->basic_cache, key, now_ms, cached, &tok)) {
        out->observed.basic_cache = 1;
        vrc = GH_OK; /* verified less than auth_basic_cache_ttl ago; not extended */
        if (cached[0] != 0 && (canon = strdup(cached)) == NULL)
            vrc = GH_ENOMEM;
    } else {
        if (cfg->basic_verify != NULL)
            vrc = cfg->basic_verify(cfg->basic_verify_arg, user, (const char *)password.bytes,
                                    password.len, &canon, &tok, &why);
        else
            vrc =
                db->verify_password(cfg->userdb, user, (const char *)password.bytes, password.len);
        tok = pac_token(cfg, tok);
        /* Only a success is cached: a refusal, or an authority that could
         * not be asked, must be asked again next time. The token goes with
         * it, so that a hit has the same groups and SIDs. */
        if (vrc == GH_OK && has_key)
            basic_cache_add(cfg->basic_cache, key, canon, tok, now_ms);
    }
    secret_free(&password);
    secret_wipe(key, sizeof(key));
    note.principal = user;
    if (vrc == GH_ENOMEM) {
        err = GH_ENOMEM;
    } else if (vrc == GH_OK) {
        if (canon != NULL) {
            err = principal_success(cfg, canon, tok, out);
            tok = NULL;
        } else {
            const char *db_name = db->canonical_name != NULL && cfg->userdb != NULL
                                      ? db->canonical_name(cfg->userdb, user)
                                      : NULL;
            err = local_success(cfg, AUTH_SCHEME_BASIC, db_name != NULL ? db_name : user,
                                cfg->realm, out);
        }
        if (err == GH_OK) {
            limiter_success(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len));
            note.package = "Basic";
            note.principal = out->record.pub.user_name;
            note.reason = AUTH_REASON_OK;
            note.groups = out->record.pub.groups;
            note.group_count = out->record.pub.group_count;
            authorize(cfg, out, &note);
            audit(cfg, req, now, &note);
        }
    } else {
        if (why.reason == AUTH_REASON_OK) /* the verifier did not say: its return value does */
            why.reason = vrc == GH_ENOTFOUND ? AUTH_REASON_UNKNOWN_USER
                         : vrc == GH_EAUTH   ? AUTH_REASON_WRONG_PASSWORD
                         : vrc == GH_EDENIED ? AUTH_REASON_ACCOUNT_DISABLED
                         : vrc == GH_ESTATE  ? AUTH_REASON_PASSWORD_EXPIRED
                                             : AUTH_REASON_INTERNAL_ERROR;
        const struct auth_reason_info *row = auth_reason_info(why.reason);
        if (row->counts_toward_backoff)
            limiter_fail(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len), now_ms);
        note.sec_status = row->sec_status;
        note.reason = why.reason;
        note.reason_text = why.text;
        note.package = cfg->basic_verify != NULL ? "Kerberos" : NULL;
        report_failure(cfg, req, now, &note, out);
        err =
            row->http_status == 503 ? unavailable(out) : challenge(cfg, conn, req, now, false, out);
        auth_record_set_failure(&out->record, GH_AUTH_TYPE_BASIC, row->sec_status);
    }
    if (tok != NULL)
        cfg->engine->backend->token->close(tok);
    free(canon);
    free(user);
    return err;
}

static int
run_digest(const struct auth_config *cfg, struct auth_conn *conn,
           const struct auth_request_view *req, const struct authz_credentials *creds,
           uint64_t now_ms, time_t now, struct auth_decision *out)
{
    struct digest_request dreq;
    struct digest_outcome dout;
    struct outcome_note note = {.scheme = AUTH_SCHEME_DIGEST, .result = "failure"};
    int err = digest_request_parse(creds, &dreq);

    if (err == GH_EUNSUPPORTED) {
        note.reason = AUTH_REASON_DIGEST_UNSUPPORTED;
        report_failure(cfg, req, now, &note, out);
        return challenge(cfg, conn, req, now, false, out);
    }
    if (err != GH_OK) {
        out->status = 400;
        return GH_OK;
    }
    note.principal = dreq.userhash ? NULL : dreq.user;
    err = digest_authenticate(cfg->engine->digest, cfg->engine->backend->userdb, cfg->userdb,
                              cfg->realm, req->method, req->target, &dreq, now, &dout);
    if (err != GH_OK)
        goto cleanup;
    note.reason = dout.code;
    note.reason_text = dout.result == DIGEST_OK ? NULL : dout.reason;
    switch (dout.result) {
    case DIGEST_OK:
        err = local_success(cfg, AUTH_SCHEME_DIGEST, dout.user, cfg->realm, out);
        if (err == GH_OK)
            err = add_header(out, "Authentication-Info", (const char *)dout.auth_info.data,
                             dout.auth_info.len);
        if (err != GH_OK)
            break;
        limiter_success(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len));
        note.package = "Digest";
        note.principal = out->record.pub.user_name;
        authorize(cfg, out, &note);
        audit(cfg, req, now, &note);
        break;
    case DIGEST_STALE: /* not a failure of the user: no backoff */
        note.result = "stale";
        out->reason = note.reason;
        audit(cfg, req, now, &note);
        err = challenge(cfg, conn, req, now, true, out);
        break;
    case DIGEST_BAD_REQUEST:
        report_failure(cfg, req, now, &note, out);
        out->status = 400;
        break;
    case DIGEST_FAILED:
        if (auth_reason_info(note.reason)->counts_toward_backoff)
            limiter_fail(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len), now_ms);
        note.sec_status = SEC_E_LOGON_DENIED;
        report_failure(cfg, req, now, &note, out);
        err = challenge(cfg, conn, req, now, false, out);
        auth_record_set_failure(&out->record, GH_AUTH_TYPE_DIGEST, SEC_E_LOGON_DENIED);
        break;
    }
cleanup:
    buf_free(&dout.auth_info);
    return err;
}

/* The schemes carried in Authorization (everything but Certificate). */
static int
run_authorization(const struct auth_config *cfg, struct auth_conn *conn,
                  const struct auth_request_view *req, struct auth_decision *out)
{
    uint64_t now_ms = req->now_ms != 0 ? req->now_ms : clock_monotonic_ms();
    time_t now = req->now != 0 ? req->now : time(NULL);
    struct slice addr = slice_make(conn->peer_addr, conn->peer_addr_len);
    struct authz_credentials creds;
    enum auth_scheme s;
    uint8_t *scratch = NULL;
    uint64_t retry_ms = 0;
    int err = GH_OK;

    memset(out, 0, sizeof(*out));
    auth_record_init(&out->record, cfg->engine->backend);
    if (cfg->scheme_count == 0 && !cfg->offers_cert)
        return GH_OK; /* no authentication on this location */
    if (req->authorization_count > 1) {
        out->status = 400; /* Authorization is a singleton field (RFC 9110 11.6.2) */
        return GH_OK;
    }
    if (req->authorization_count == 0) {
        /* Only the config that made the identity may reuse it: another
         * location may require channel bindings, not persist Kerberos, or
         * read another user store. */
        if (conn->cached_token != NULL && conn->is_complete && conn->config_id == cfg->id &&
            offers(cfg, conn->scheme))
            return run_cached(cfg, conn, req, now, out);
        if (cfg->allow_anonymous)
            return GH_OK;
        return challenge(cfg, conn, req, now, false, out);
    }
    struct slice value = req->authorization[0];
    struct authz_limits lim = {.max_token_bytes = b64_encoded_len(cfg->max_token_bytes)};
    scratch = malloc(value.len + 1);
    if (scratch == NULL)
        return GH_ENOMEM;
    err = authz_parse(value, &lim, scratch, value.len + 1, &creds);
    if (err != GH_OK) {
        out->status = 400;
        err = GH_OK;
        goto cleanup;
    }
    if (auth_scheme_parse(creds.scheme, &s) != GH_OK || !accepts(cfg, req, s)) {
        /* a scheme not offered here (or Basic over plain HTTP): challenge
         * again, and say so (NTLM at a Kerberos-only location is a common
         * fault: the client found no ticket) */
        if (auth_scheme_parse(creds.scheme, &s) == GH_OK) {
            struct outcome_note note = {
                .scheme = s,
                .result = "failure",
                .reason = s == AUTH_SCHEME_NTLM && (offers(cfg, AUTH_SCHEME_NEGOTIATE) ||
                                                    offers(cfg, AUTH_SCHEME_KERBEROS))
                              ? AUTH_REASON_NTLM_NOT_OFFERED
                              : AUTH_REASON_SCHEME_NOT_OFFERED,
                .reason_text = s == AUTH_SCHEME_BASIC && offers(cfg, s) && !req->is_tls
                                   ? "Basic over plain HTTP (auth_basic_over_http is off)"
                                   : NULL,
            };
            report_failure(cfg, req, now, &note, out);
        }
        err = challenge(cfg, conn, req, now, false, out);
        goto cleanup;
    }
    out->observed.is_attempt = true;
    out->observed.scheme = s;
    if (limiter_check(conn->limiter, addr, now_ms, &retry_ms) != GH_OK) {
        out->observed.is_backoff = true;
        char secs[24];
        int n = snprintf(secs, sizeof(secs), "%llu", (unsigned long long)(retry_ms + 999) / 1000);
        out->status = 429;
        err = add_header(out, "Retry-After", secs, (size_t)n);
        goto cleanup;
    }
    if (s < AUTH_SSPI_SCHEMES)
        err = run_sspi(cfg, conn, req, s, &creds, now_ms, now, out);
    else if (s == AUTH_SCHEME_BASIC)
        err = run_basic(cfg, conn, req, &creds, now_ms, now, out);
    else
        err = run_digest(cfg, conn, req, &creds, now_ms, now, out);
cleanup:
    free(scratch);
    if (err != GH_OK)
        auth_decision_clear(out);
    return err;
}

int
auth_engine_run(const struct auth_config *cfg, struct auth_conn *conn,
                const struct auth_request_view *req, struct auth_decision *out)
{
    enum auth_cert_outcome cert = AUTH_CERT_NONE;
    SECURITY_STATUS cert_status = 0;
    int err;

    /* Certificate first: it needs no round trip. Not mapped, it leaves the
     * request to the other schemes (their 401, or 403 when there are none). */
    if (cfg->offers_cert && req->client_cert != NULL) {
        memset(out, 0, sizeof(*out));
        auth_record_init(&out->record, cfg->engine->backend);
        err =
            cert_auth_run(cfg, conn, req, req->now != 0 ? req->now : time(NULL), out, &cert_status);
        if (err != GH_OK || out->cert_outcome == AUTH_CERT_MAPPED) {
            if (err != GH_OK)
                auth_decision_clear(out);
            return err;
        }
        cert = out->cert_outcome;
        auth_decision_clear(out);
    }
    err = run_authorization(cfg, conn, req, out);
    if (err != GH_OK)
        return err;
    out->cert_outcome = cert;
    if (cert != AUTH_CERT_NONE && out->record.pub.status == GH_AUTH_NOT_AUTHENTICATED)
        auth_record_set_failure(&out->record, GH_AUTH_TYPE_CLIENT_CERT, cert_status);
    return GH_OK;
}

int
auth_engine_challenge(const struct auth_config *cfg, struct auth_conn *conn,
                      const struct auth_request_view *req, struct auth_decision *out)
{
    time_t now = req->now != 0 ? req->now : time(NULL);
    int err;

    memset(out, 0, sizeof(*out));
    auth_record_init(&out->record, cfg->engine->backend);
    handshake_reset(conn);
    err = challenge(cfg, conn, req, now, false, out);
    if (err != GH_OK)
        auth_decision_clear(out);
    return err;
}

/* With the winbind NTLM back end, the leg that carries the client's response
 * asks the domain controller (for CredSSP, whose legs are opaque TLS records,
 * any leg). Told from the base64 text without decoding it:
 * "TlRMTVNTUAAD" is "NTLMSSP\0" followed by message type 3 (MS-NLMP 2.2.1.3);
 * under Negotiate a later leg is a negTokenResp, DER tag 0xA1, whose base64
 * starts with 'o' (RFC 4178 4.2.2). A wrong guess only costs a trip through
 * the pool. */
static bool
is_ntlm_authenticate_leg(const struct auth_config *cfg, struct slice value)
{
    static const char type3[] = "TlRMTVNTUAAD";
    struct slice scheme, token;
    const char *sp = memchr(value.ptr, ' ', value.len);

    if (!cfg->ntlm_winbind || sp == NULL)
        return false;
    scheme = slice_make(value.ptr, (size_t)((const uint8_t *)sp - value.ptr));
    token = slice_make((const uint8_t *)sp, value.len - scheme.len);
    while (token.len > 0 && token.ptr[0] == ' ')
        token = slice_make(token.ptr + 1, token.len - 1);
    bool is_type3 =
        token.len >= sizeof(type3) - 1 && memcmp(token.ptr, type3, sizeof(type3) - 1) == 0;
    if (slice_eq_nocase(scheme, SLICE_LIT("NTLM")))
        return offers(cfg, AUTH_SCHEME_NTLM) && is_type3;
    if (slice_eq_nocase(scheme, SLICE_LIT("Negotiate")))
        return offers(cfg, AUTH_SCHEME_NEGOTIATE) &&
               (is_type3 || (token.len > 0 && token.ptr[0] == 'o'));
    /* CredSSP's NTLM travels inside its TLS records: every leg may be it. */
    if (slice_eq_nocase(scheme, SLICE_LIT("CredSSP")))
        return offers(cfg, AUTH_SCHEME_CREDSSP);
    return false;
}

/* With auth_group_names winbind, the Kerberos leg (also inside Negotiate)
 * may ask winbindd for the names of the PAC's group SIDs when they are not
 * cached yet: which SIDs only shows after the ticket is decrypted, so every
 * such leg goes to the blocking pool. */
static bool
is_group_names_leg(const struct auth_config *cfg, struct slice value)
{
    const uint8_t *sp = memchr(value.ptr, ' ', value.len);
    struct slice scheme;

    if (!cfg->group_names || sp == NULL)
        return false;
    scheme = slice_make(value.ptr, (size_t)(sp - value.ptr));
    if (slice_eq_nocase(scheme, SLICE_LIT("Negotiate")))
        return offers(cfg, AUTH_SCHEME_NEGOTIATE);
    if (slice_eq_nocase(scheme, SLICE_LIT("Kerberos")))
        return offers(cfg, AUTH_SCHEME_KERBEROS);
    return false;
}

bool
auth_engine_may_block(const struct auth_config *cfg, const struct auth_request_view *req)
{
    struct authz_credentials creds;
    struct secret password = {0};
    uint8_t key[BASIC_CACHE_KEY_BYTES];
    char *user = NULL;
    enum auth_scheme s;
    bool slow = true;

    if (req->authorization_count == 1 && (is_ntlm_authenticate_leg(cfg, req->authorization[0]) ||
                                          is_group_names_leg(cfg, req->authorization[0])))
        return true;
    if (req->authorization_count != 1 || !offers(cfg, AUTH_SCHEME_BASIC))
        return false;
    struct slice value = req->authorization[0];
    struct authz_limits lim = {.max_token_bytes = b64_encoded_len(cfg->max_token_bytes)};
    uint8_t *scratch = malloc(value.len + 1);
    if (scratch == NULL)
        return false; /* run inline: it fails the same way there */
    if (authz_parse(value, &lim, scratch, value.len + 1, &creds) != GH_OK ||
        auth_scheme_parse(creds.scheme, &s) != GH_OK || s != AUTH_SCHEME_BASIC ||
        !accepts(cfg, req, s) || creds.form != AUTHZ_FORM_TOKEN68 ||
        basic_decode(creds.token68, &user, &password) != GH_OK) {
        slow = false; /* answered without verifying a password */
    } else if (cfg->basic_cache != NULL &&
               basic_cache_key(cfg->basic_cache, user, password.bytes, password.len, key)) {
        uint64_t now_ms = req->now_ms != 0 ? req->now_ms : clock_monotonic_ms();
        slow = !basic_cache_check(cfg->basic_cache, key, now_ms, NULL, NULL);
        secret_wipe(key, sizeof(key));
    }
    secret_free(&password);
    free(user);
    free(scratch);
    return slow;
}
