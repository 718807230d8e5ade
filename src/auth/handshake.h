// SPDX-License-Identifier: MIT
// Connection-bound multi-leg handshakes for the SSPI schemes (Negotiate, NTLM,
// Kerberos): one AcceptSecurityContext per leg, the context living on the
// connection (RFC 4559 4; MS-NTHT for NTLM over HTTP).
#ifndef GH_AUTH_HANDSHAKE_H
#define GH_AUTH_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "auth/credssp.h"
#include "auth/ctx_ref.h"
#include "auth/engine.h"
#include "auth/reason.h"
#include "base/buf.h"

struct auth_conn {
    struct auth_engine *engine;         /* borrowed; outlives the conn */
    const struct auth_backend *backend; /* borrowed from the engine */
    struct limiter *limiter;            /* borrowed from the engine */
    char peer_addr[64];
    size_t peer_addr_len;
    /* The context in progress, or completed when the location does not export
     * packed contexts. */
    CtxtHandle ctx;
    bool has_ctx;
    bool is_complete;
    /* The completed NTLM context persisted with the identity, when the
     * location exports packed contexts (auth_packed_context): one reference,
     * shared with the records of the requests it authenticated, which export
     * it when a module reads them. NULL otherwise (a persisted Kerberos
     * identity keeps no context: handshake.c says why). */
    struct auth_ctx_ref *done_ctx;
    enum auth_scheme scheme;
    uint64_t config_id; /* the config whose credentials made ctx (never dereferenced) */
    unsigned legs;
    uint64_t last_leg_ms;
    bool holds_limiter_slot;
    bool negotiate_failed; /* negotiate-once: not offered again on this connection */
    /* The identity persisted on the connection (NTLM always; Kerberos by policy). */
    gh_token *cached_token;
    unsigned long cached_attrs;
    bool cached_is_ntlm;
    bool cached_delegated;
    /* The last client certificate outcome audited on this connection
     * (cert_auth.c): the same certificate, config and outcome again is not a
     * new authentication and writes no second audit line. */
    uint8_t cert_audited_fp[32];
    uint64_t cert_audited_config; /* 0: none yet */
    int cert_audited_outcome;
};

enum hs_result {
    HS_CONTINUE = 0, /* send a 401 with out_token */
    HS_DONE = 1,     /* authenticated; out_token may hold a final (mutual) token */
    HS_FAILED = 2,   /* sec_status says why */
};

struct hs_outcome {
    enum hs_result result;
    SECURITY_STATUS sec_status;
    struct buf out_token; /* raw bytes (the caller base64-encodes); always initialized */
    unsigned long attrs;  /* ASC_RET_* */
    gh_token *token;      /* HS_DONE: a new reference, owned by the caller */
    /* HS_DONE with auth_packed_context: a reference to the completed context,
     * for the record to export when read (auth_record_take_export_source), or
     * NULL; the caller releases it when not kept. */
    struct auth_ctx_ref *export_from;
    bool is_persisted; /* the identity stays on the connection */
    bool is_ntlm;      /* the identity came from NTLM (also inside Negotiate) */
    bool did_offer_bindings;
    struct auth_credssp_deleg deleg; /* HS_DONE with CredSSP: what the client delegated */
    /* HS_FAILED: why (the package's SECPKG_ATTR_GH_ERROR_INFO, classified). */
    struct auth_failure failure;
    char failed_package[16]; /* "Kerberos", "NTLM" (inside Negotiate too), or "" */
};

/* Runs one leg for scheme with the decoded client token. Starts a new context
 * when the connection has none, when the token is an initial token (re-auth or
 * restart), when the previous leg is older than cfg->handshake_timeout_ms, when
 * the scheme differs, or when cfg is not the config that started it. The caller
 * has checked the token size. Returns GH_OK with *out filled (free out_token with
 * buf_free, close token and release export_from when not kept), GH_EBUSY (too many
 * handshakes in progress for the address: answer 429) or GH_ENOMEM. */
int handshake_step(const struct auth_config *cfg, struct auth_conn *conn, enum auth_scheme scheme,
                   struct slice in_token, const struct auth_request_view *req, uint64_t now_ms,
                   struct hs_outcome *out);

/* Drops the context and the persisted identity (keeps negotiate_failed). */
void handshake_reset(struct auth_conn *conn);

/* Builds the SEC_CHANNEL_BINDINGS buffer for tls-server-end-point (RFC 5929 4):
 * a 32-byte header whose application data is "tls-server-end-point:" + hash.
 * GH_OK, GH_ELIMIT or GH_ENOMEM. */
int handshake_channel_bindings(const uint8_t *hash, size_t hash_len, struct buf *out);

/* True when tok is the first token of a handshake for scheme: an NTLM
 * NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), or a GSS-API InitialContextToken
 * (RFC 2743 3.1, tag 0x60) for Negotiate and Kerberos. */
bool handshake_is_initial_token(enum auth_scheme scheme, struct slice tok);

#endif
