// SPDX-License-Identifier: MIT
// The client certificate as an auth scheme ("auth Certificate ..."): the
// connection's certificate, read by cert_identity.c and mapped by the
// location's auth_cert_map rules (certmap.c), becomes the request's record
// like a Basic or Negotiate logon. engine.c runs this before the
// Authorization-based schemes: a mapped certificate needs no round trip, and
// one that is not mapped leaves the request to them (docs/auth.md).
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/audit.h"
#include "auth/cert_identity.h"
#include "auth/certmap.h"
#include "auth/engine_private.h"
#include "auth/handshake.h"

/* The package name of certificate logons, as Windows names the security
 * package that maps client certificates to accounts. */
#define CERT_PACKAGE "Schannel"

struct cert_note {
    const char *principal;
    const char *result;
    SECURITY_STATUS sec_status;
    enum auth_reason code;
    char reason[160]; /* words: reason_text */
};

static void
cert_audit(const struct auth_config *cfg, const struct auth_request_view *req, time_t now,
           const struct cert_note *n)
{
    struct auth_audit_event ev = {
        .time = now,
        .peer = req->peer != NULL || req->peer_text == NULL ? req->peer
                                                            : req->peer_text(req->peer_text_arg),
        .scheme = "Certificate",
        .package = CERT_PACKAGE,
        .principal = n->principal,
        .result = n->result,
        .sec_status = n->sec_status,
        .cb = "n/a",
        .reason = auth_reason_code(n->code),
        .reason_text = n->reason,
    };
    audit_emit(cfg->engine->audit_log, &ev);
    if (n->code != AUTH_REASON_OK) {
        char what[128];
        (void)snprintf(what, sizeof(what), "Certificate from %s", ev.peer != NULL ? ev.peer : "-");
        auth_reason_log_failure(&cfg->engine->reason_log, req->error_log, n->code, (int64_t)now,
                                what, n->reason);
    }
}

static bool
is_local_realm(const struct auth_config *cfg, const char *realm)
{
    for (size_t i = 0; i < cfg->local_realm_count; i++) {
        if (strcmp(cfg->local_realms[i], realm) == 0)
            return true;
    }
    return false;
}

/* Names, groups (user store) and an access token, as Basic and Digest get
 * them; principal (UPN mapping) is kept when the backend makes no token. */
static int
cert_success(const struct auth_config *cfg, const char *user, const char *domain,
             const char *principal, struct auth_decision *out)
{
    const struct auth_backend *be = cfg->engine->backend;
    const char *const *groups = NULL;
    size_t group_count = 0;
    gh_token *tok = NULL;
    int err;

    if (cfg->userdb != NULL && be->userdb->groups != NULL &&
        be->userdb->groups(cfg->userdb, user, &groups, &group_count) != GH_OK) {
        groups = NULL;
        group_count = 0;
    }
    if (be->token->create != NULL &&
        be->token->create(user, domain, CERT_PACKAGE, groups, group_count, &tok) != GH_OK)
        tok = NULL; /* the record still names the user */
    err = auth_record_set_success(&out->record, GH_AUTH_TYPE_CLIENT_CERT, tok, user, domain,
                                  CERT_PACKAGE, groups, group_count);
    if (err == GH_OK && out->record.principal == NULL && principal != NULL) {
        out->record.principal = strdup(principal);
        if (out->record.principal == NULL)
            return GH_ENOMEM;
        out->record.pub.principal = out->record.principal;
    }
    return err;
}

/* msUPN "alice@example.org" -> user "alice", realm "EXAMPLE.ORG" (the usual
 * AD convention: the realm is the UPN suffix in upper case). Only a local
 * realm maps: a UPN of a foreign realm would otherwise name a local user. */
static int
upn_success(const struct auth_config *cfg, const char *upn, struct auth_decision *out,
            struct cert_note *note)
{
    const char *at = strchr(upn, '@');
    char *user = strndup(upn, (size_t)(at - upn));
    char *realm = strdup(at + 1);
    char *principal = NULL;
    int err = GH_ENOMEM;

    if (user == NULL || realm == NULL)
        goto cleanup;
    for (char *p = realm; *p != 0; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!is_local_realm(cfg, realm)) {
        note->code = AUTH_REASON_CERT_UNMAPPED;
        snprintf(note->reason, sizeof(note->reason), "UPN realm %.100s is not a local realm",
                 realm);
        err = GH_ENOTFOUND;
        goto cleanup;
    }
    size_t len = strlen(user) + 1 + strlen(realm) + 1;
    principal = malloc(len);
    if (principal == NULL)
        goto cleanup;
    snprintf(principal, len, "%s@%s", user, realm);
    err = cert_success(cfg, user, realm, principal, out);
cleanup:
    free(user);
    free(realm);
    free(principal);
    return err;
}

/* Like an identity persisted on the connection, a certificate mapped again on
 * the next request is not a new authentication: one line per certificate,
 * config and outcome, and always one for a refusal by auth_require. */
static bool
is_new_outcome(const struct auth_config *cfg, struct auth_conn *conn,
               const struct cert_identity *id, const struct auth_decision *out)
{
    bool seen = conn->cert_audited_config == cfg->id &&
                conn->cert_audited_outcome == (int)out->cert_outcome &&
                memcmp(conn->cert_audited_fp, id->fingerprint, sizeof(conn->cert_audited_fp)) == 0;

    conn->cert_audited_config = cfg->id;
    conn->cert_audited_outcome = (int)out->cert_outcome;
    memcpy(conn->cert_audited_fp, id->fingerprint, sizeof(conn->cert_audited_fp));
    return !seen || out->status == 403;
}

int
cert_auth_run(const struct auth_config *cfg, struct auth_conn *conn,
              const struct auth_request_view *req, time_t now, struct auth_decision *out,
              SECURITY_STATUS *fail_out)
{
    struct cert_identity *id = NULL;
    struct certmap_result m;
    struct cert_note note = {.result = "failure"};
    char why[128];
    int err;

    *fail_out = 0;
    err = cert_identity_parse(req->client_cert, req->client_cert_len, &id, why, sizeof(why));
    if (err == GH_ENOMEM)
        return err;
    if (err != GH_OK) {
        out->cert_outcome = AUTH_CERT_INVALID;
        *fail_out = SEC_E_CERT_UNKNOWN;
        note.sec_status = SEC_E_CERT_UNKNOWN;
        note.code = AUTH_REASON_CERT_INVALID;
        snprintf(note.reason, sizeof(note.reason), "certificate refused: %s", why);
        cert_audit(cfg, req, now, &note);
        return GH_OK;
    }
    certmap_match(&cfg->certmap, id, req->client_cert_flags == 0, &m);
    if (m.outcome == CERTMAP_MATCH_USER) {
        err = cert_success(cfg, m.name, cfg->realm, NULL, out);
        snprintf(note.reason, sizeof(note.reason), "auth_cert_map rule %zu", m.rule_index + 1);
    } else if (m.outcome == CERTMAP_MATCH_UPN) {
        note.principal = m.name;
        err = upn_success(cfg, m.name, out, &note);
        if (err == GH_OK)
            snprintf(note.reason, sizeof(note.reason), "auth_cert_map rule %zu (upn)",
                     m.rule_index + 1);
    } else {
        err = GH_ENOTFOUND;
        note.code =
            m.outcome == CERTMAP_MATCH_DENY ? AUTH_REASON_CERT_DENIED : AUTH_REASON_CERT_UNMAPPED;
        if (m.outcome == CERTMAP_MATCH_DENY)
            snprintf(note.reason, sizeof(note.reason), "denied by auth_cert_map rule %zu",
                     m.rule_index + 1);
        else
            snprintf(note.reason, sizeof(note.reason), "%s",
                     req->client_cert_flags == 0 ? "no auth_cert_map rule matched"
                                                 : "no auth_cert_map rule matched (chain not "
                                                   "verified)");
    }
    if (err == GH_OK) {
        out->cert_outcome = AUTH_CERT_MAPPED;
        note.principal = out->record.pub.principal != NULL ? out->record.pub.principal
                                                           : out->record.pub.user_name;
        if (authz_allows(&cfg->rules, &out->record.pub)) {
            out->status = 0;
            note.result = "success";
        } else {
            out->status = 403;
            note.result = "denied";
            note.code = AUTH_REASON_DENIED_BY_RULE;
            snprintf(note.reason, sizeof(note.reason), "not allowed by auth_require");
        }
    } else if (err == GH_ENOTFOUND) {
        err = GH_OK;
        bool denied = m.outcome == CERTMAP_MATCH_DENY;
        out->cert_outcome = denied ? AUTH_CERT_DENIED : AUTH_CERT_UNMAPPED;
        *fail_out = denied ? SEC_E_LOGON_DENIED : SEC_E_UNKNOWN_CREDENTIALS;
        note.sec_status = *fail_out;
        if (note.principal == NULL && id->subject_count > 0)
            note.principal = id->subject[id->subject_count - 1].value;
    }
    if (err == GH_OK && is_new_outcome(cfg, conn, id, out))
        cert_audit(cfg, req, now, &note);
    cert_identity_destroy(id);
    return err;
}
