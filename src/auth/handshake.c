// SPDX-License-Identifier: MIT
// SSPI handshakes bound to a connection.
//
// Why the checks before each leg: a context continues only on the connection
// that started it (it lives in struct auth_conn), only with the credentials of
// the same location, only while the client keeps answering in time, and only
// while the client continues rather than starts over: a client that sends a
// first-leg token again (re-authentication after a fresh 401 from the
// application, or a browser that restarted) gets a new context instead of
// feeding a first-leg token to a context that expects a later one.
#include "auth/handshake.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>

#include "base/secret.h"

#define CB_PREFIX "tls-server-end-point:"

int
handshake_channel_bindings(const uint8_t *hash, size_t hash_len, struct buf *out)
{
    SEC_CHANNEL_BINDINGS hdr;
    size_t app_len = sizeof(CB_PREFIX) - 1 + hash_len;
    int err;

    if (hash_len > 128)
        return GH_ELIMIT;
    memset(&hdr, 0, sizeof(hdr));
    hdr.cbApplicationDataLength = (uint32_t)app_len;
    hdr.dwApplicationDataOffset = (uint32_t)sizeof(hdr);
    err = buf_append(out, &hdr, sizeof(hdr));
    if (err == GH_OK)
        err = buf_append(out, CB_PREFIX, sizeof(CB_PREFIX) - 1);
    if (err == GH_OK)
        err = buf_append(out, hash, hash_len);
    return err;
}

bool
handshake_is_initial_token(enum auth_scheme scheme, struct slice tok)
{
    static const uint8_t ntlm_sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

    /* Raw NTLM also arrives under "Negotiate" from some clients. */
    if (tok.len >= 12 && memcmp(tok.ptr, ntlm_sig, 8) == 0)
        return tok.ptr[8] == 1 && tok.ptr[9] == 0 && tok.ptr[10] == 0 && tok.ptr[11] == 0;
    if (scheme == AUTH_SCHEME_NTLM)
        return false;
    if (scheme == AUTH_SCHEME_CREDSSP) /* a TLS handshake record holding a ClientHello */
        return tok.len >= 6 && tok.ptr[0] == 0x16 && tok.ptr[1] == 3 && tok.ptr[5] == 1;
    return tok.len > 0 && tok.ptr[0] == 0x60;
}

static void
release_slot(struct auth_conn *conn)
{
    if (conn->holds_limiter_slot) {
        limiter_end(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len));
        conn->holds_limiter_slot = false;
    }
}

void
handshake_reset(struct auth_conn *conn)
{
    const SecurityFunctionTableA *sspi = conn->backend->sspi;

    if (conn->has_ctx && sspi != NULL)
        sspi->DeleteSecurityContext(&conn->ctx);
    conn->has_ctx = false;
    conn->is_complete = false;
    auth_ctx_ref_release(conn->done_ctx); /* a record may still hold its own reference */
    conn->done_ctx = NULL;
    conn->legs = 0;
    if (conn->cached_token != NULL)
        conn->backend->token->close(conn->cached_token);
    conn->cached_token = NULL;
    conn->cached_attrs = 0;
    conn->cached_is_ntlm = false;
    conn->cached_delegated = false;
    release_slot(conn);
}

#define MAX_LEGS 8 /* NTLM needs 2, SPNEGO 2-3, Kerberos 1; anything longer is abuse */

/* out->failure is set by the caller, or here from st alone. */
static void
fail(struct auth_conn *conn, enum auth_scheme scheme, SECURITY_STATUS st, struct hs_outcome *out)
{
    out->result = HS_FAILED;
    out->sec_status = st;
    if (out->failure.reason == AUTH_REASON_OK)
        out->failure.reason = auth_reason_from_sspi(st, GH_SEC_DETAIL_NONE, 0, false);
    if (scheme == AUTH_SCHEME_NEGOTIATE)
        conn->negotiate_failed = true;
    handshake_reset(conn);
}

static bool
needs_restart(const struct auth_config *cfg, const struct auth_conn *conn, enum auth_scheme scheme,
              struct slice in_token, uint64_t now_ms)
{
    if (!conn->has_ctx || conn->is_complete || conn->scheme != scheme || conn->config_id != cfg->id)
        return true;
    if (cfg->handshake_timeout_ms > 0 && now_ms - conn->last_leg_ms > cfg->handshake_timeout_ms)
        return true;
    return handshake_is_initial_token(scheme, in_token);
}

/* What the package said about the failure of the call that just returned st
 * (SECPKG_ATTR_GH_ERROR_INFO, on the context or else the thread's). */
static void
capture_failure(const struct auth_config *cfg, struct auth_conn *conn, SECURITY_STATUS st,
                struct hs_outcome *out)
{
    const SecurityFunctionTableA *sspi = conn->backend->sspi;
    SecPkgContext_GhErrorInfo info = {0};

    if (sspi->QueryContextAttributesA == NULL ||
        sspi->QueryContextAttributesA(conn->has_ctx ? &conn->ctx : NULL, SECPKG_ATTR_GH_ERROR_INFO,
                                      &info) != SEC_E_OK ||
        info.Status != st) {
        out->failure.reason = auth_reason_from_sspi(st, GH_SEC_DETAIL_NONE, 0, false);
        return;
    }
    out->failure.reason =
        auth_reason_from_sspi(st, info.Detail, info.Krb5Error, cfg->service_name_count > 0);
    if (info.Text != NULL)
        (void)snprintf(out->failure.text, sizeof(out->failure.text), "%s", info.Text);
    if (info.Package != NULL)
        (void)snprintf(out->failed_package, sizeof(out->failed_package), "%s", info.Package);
}

/* With several accepted service names the credentials accept any key in the
 * keytab, so the name the client asked for is checked once the context is
 * complete. NTLM checks its MsvAvTargetName itself (AcceptedTargetNames; its
 * NATIVE_NAMES server name is our NetBIOS name, no SPN); a package without
 * NATIVE_NAMES passes. */
static bool
spn_accepted(const struct auth_config *cfg, struct auth_conn *conn, bool is_ntlm,
             struct hs_outcome *out)
{
    const SecurityFunctionTableA *sspi = conn->backend->sspi;
    SecPkgContext_NativeNamesA names = {0};
    bool ok = false;

    if (cfg->service_name_count < 2 || is_ntlm || sspi->QueryContextAttributesA == NULL)
        return true;
    if (sspi->QueryContextAttributesA(&conn->ctx, SECPKG_ATTR_NATIVE_NAMES, &names) != SEC_E_OK)
        return true;
    if (names.sServerName == NULL) {
        ok = true;
    } else {
        size_t n = strcspn(names.sServerName, "@");
        for (size_t i = 0; i < cfg->service_name_count && !ok; i++) {
            const char *want = cfg->service_names[i];
            ok = strlen(want) == n && strncasecmp(want, names.sServerName, n) == 0;
        }
        if (!ok) {
            out->failure.reason = AUTH_REASON_KERBEROS_WRONG_SERVICE;
            (void)snprintf(out->failure.text, sizeof(out->failure.text),
                           "the ticket is for %s, not one of this location's auth_service_name",
                           names.sServerName);
        }
    }
    if (names.sClientName != NULL)
        sspi->FreeContextBuffer(names.sClientName);
    if (names.sServerName != NULL)
        sspi->FreeContextBuffer(names.sServerName);
    return ok;
}

/* Success: take the identity, keep the context for the record's packed
 * context, decide persistence. */
static void
finish(const struct auth_config *cfg, struct auth_conn *conn, enum auth_scheme scheme,
       unsigned long attrs, struct hs_outcome *out)
{
    const SecurityFunctionTableA *sspi = conn->backend->sspi;
    const struct auth_token_ops *tok_ops = conn->backend->token;
    void *token = NULL;
    SECURITY_STATUS st = sspi->QuerySecurityContextToken(&conn->ctx, &token);

    if (st != SEC_E_OK || token == NULL) {
        fail(conn, scheme, st != SEC_E_OK ? st : SEC_E_INTERNAL_ERROR, out);
        return;
    }
    out->token = token;
    const char *pkg = tok_ops->package(token);
    out->is_ntlm = scheme == AUTH_SCHEME_NTLM || (pkg != NULL && strcmp(pkg, "NTLM") == 0);
    if (!spn_accepted(cfg, conn, out->is_ntlm, out)) {
        tok_ops->close(token);
        out->token = NULL;
        fail(conn, scheme, SEC_E_WRONG_PRINCIPAL, out);
        return;
    }
    if (scheme == AUTH_SCHEME_CREDSSP && cfg->delegation &&
        auth_credssp_take_delegated(sspi, &conn->ctx, &out->deleg) != GH_OK) {
        tok_ops->close(token);
        out->token = NULL;
        fail(conn, scheme, SEC_E_INSUFFICIENT_MEMORY, out);
        return;
    }
    /* The packed context is exported only when a module reads the record
     * (auth_record_public): the record keeps a reference to the context,
     * which then outlives the handshake until the request ends. */
    if (cfg->packed_context && sspi->ExportSecurityContext != NULL &&
        auth_ctx_ref_create(sspi, &conn->ctx, &out->export_from) != GH_OK) {
        tok_ops->close(token);
        out->token = NULL;
        fail(conn, scheme, SEC_E_INSUFFICIENT_MEMORY, out);
        return;
    }
    if (out->export_from != NULL)
        conn->has_ctx = false; /* the handle moved into export_from */
    out->result = HS_DONE;
    out->sec_status = SEC_E_OK;
    out->attrs = attrs;
    /* NTLM is always bound to its connection (there is no re-authentication of a
     * single request); Kerberos only when the location says so, and never with
     * delegated credentials: their ccache belongs to this request and goes when
     * it ends (unless a module keeps the token), so the next request delegates
     * afresh. */
    out->is_persisted = out->is_ntlm || (cfg->persist_kerberos && (attrs & ASC_RET_DELEGATE) == 0);
    if (out->is_persisted) {
        conn->is_complete = true;
        /* Later requests of an NTLM connection export the same context when
         * read; an NTLM context is small and always stayed here. A Kerberos
         * one does not stay: the live MIT context costs ~3.5 KB more per idle
         * connection than the identity alone (its exported form ~1.8 KB), so
         * it goes with the handshake's request and later requests carry no
         * packed context, as before. */
        if (out->export_from != NULL && out->is_ntlm)
            conn->done_ctx = auth_ctx_ref_dup(out->export_from);
        conn->cached_token = tok_ops->dup(token);
        conn->cached_attrs = attrs;
        conn->cached_is_ntlm = out->is_ntlm;
        conn->cached_delegated = (attrs & ASC_RET_DELEGATE) != 0;
        release_slot(conn);
    } else {
        handshake_reset(conn);
    }
}

int
handshake_step(const struct auth_config *cfg, struct auth_conn *conn, enum auth_scheme scheme,
               struct slice in_token, const struct auth_request_view *req, uint64_t now_ms,
               struct hs_outcome *out)
{
    const SecurityFunctionTableA *sspi = conn->backend->sspi;
    struct buf cb;
    int err = GH_OK;

    memset(out, 0, sizeof(*out));
    buf_init(&out->out_token, cfg->max_token_bytes > 0 ? cfg->max_token_bytes : 65536);
    buf_init(&cb, 512);
    if (sspi == NULL || scheme >= AUTH_SSPI_SCHEMES || !cfg->has_creds[scheme]) {
        out->result = HS_FAILED;
        out->sec_status = SEC_E_NO_CREDENTIALS;
        out->failure.reason = AUTH_REASON_SERVER_CREDENTIALS;
        (void)snprintf(out->failure.text, sizeof(out->failure.text),
                       "no %s credentials on this location", auth_scheme_name(scheme));
        return GH_OK;
    }
    if (needs_restart(cfg, conn, scheme, in_token, now_ms)) {
        handshake_reset(conn);
        int lrc =
            limiter_begin(conn->limiter, slice_make(conn->peer_addr, conn->peer_addr_len), now_ms);
        if (lrc == GH_EBUSY)
            return GH_EBUSY;
        conn->holds_limiter_slot = lrc == GH_OK; /* GH_ENOTFOUND: table full, untracked */
        conn->scheme = scheme;
        conn->config_id = cfg->id;
    }

    SecBuffer in_bufs[2] = {{in_token.len, SECBUFFER_TOKEN, (void *)in_token.ptr}};
    SecBufferDesc in_desc = {SECBUFFER_VERSION, 1, in_bufs};
    if (cfg->epa != AUTH_EPA_OFF) {
        if (req->cb_hash == NULL || req->cb_hash_len == 0) {
            if (cfg->epa == AUTH_EPA_REQUIRE) {
                out->failure.reason = AUTH_REASON_BINDINGS_MISSING;
                (void)snprintf(out->failure.text, sizeof(out->failure.text),
                               "no TLS channel to bind to (auth_extended_protection require "
                               "over plain HTTP)");
                fail(conn, scheme, SEC_E_BAD_BINDINGS, out); /* no TLS: nothing to bind to */
                goto cleanup;
            }
        } else {
            err = handshake_channel_bindings(req->cb_hash, req->cb_hash_len, &cb);
            if (err != GH_OK)
                goto cleanup;
            in_bufs[1] = (SecBuffer){cb.len, SECBUFFER_CHANNEL_BINDINGS, cb.data};
            in_desc.cBuffers = 2;
            out->did_offer_bindings = true;
        }
    }
    unsigned long flags =
        ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONNECTION | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR;
    if (cfg->delegation)
        flags |= ASC_REQ_DELEGATE;
    if (cfg->epa == AUTH_EPA_ALLOW)
        flags |= ASC_REQ_ALLOW_MISSING_BINDINGS;

    SecBuffer out_buf = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out_desc = {SECBUFFER_VERSION, 1, &out_buf};
    CtxtHandle fresh;
    unsigned long attrs = 0;
    TimeStamp expiry;
    CredHandle cred = cfg->creds[scheme];
    SecInvalidateHandle(&fresh);
    bool had_ctx = conn->has_ctx;
    SECURITY_STATUS st = sspi->AcceptSecurityContext(
        &cred, had_ctx ? &conn->ctx : NULL, &in_desc, flags, SECURITY_NATIVE_DREP,
        had_ctx ? &conn->ctx : &fresh, &out_desc, &attrs, &expiry);
    if (!had_ctx && SecIsValidHandle(&fresh)) {
        conn->ctx = fresh;
        conn->has_ctx = true;
    }
    if ((st == SEC_I_COMPLETE_NEEDED || st == SEC_I_COMPLETE_AND_CONTINUE) && conn->has_ctx) {
        SECURITY_STATUS cst = sspi->CompleteAuthToken(&conn->ctx, &out_desc);
        st = cst != SEC_E_OK ? cst : st == SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
    }
    if (out_buf.pvBuffer != NULL) {
        err = buf_append(&out->out_token, out_buf.pvBuffer, out_buf.cbBuffer);
        sspi->FreeContextBuffer(out_buf.pvBuffer);
        if (err != GH_OK) {
            fail(conn, scheme, err == GH_ENOMEM ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INVALID_TOKEN,
                 out);
            err = err == GH_ENOMEM ? GH_ENOMEM : GH_OK;
            goto cleanup;
        }
    }
    conn->legs++;
    conn->last_leg_ms = now_ms;
    if (st == SEC_I_CONTINUE_NEEDED && conn->has_ctx && conn->legs < MAX_LEGS) {
        out->result = HS_CONTINUE;
        out->sec_status = st;
    } else if (st == SEC_E_OK && conn->has_ctx) {
        finish(cfg, conn, scheme, attrs, out);
    } else if (st == SEC_I_CONTINUE_NEEDED || SEC_SUCCESS(st)) {
        out->failure.reason = AUTH_REASON_INVALID_TOKEN;
        (void)snprintf(out->failure.text, sizeof(out->failure.text), "%s",
                       st == SEC_I_CONTINUE_NEEDED ? "too many handshake legs"
                                                   : "the package returned an unexpected status");
        fail(conn, scheme, SEC_E_INVALID_TOKEN, out);
    } else {
        capture_failure(cfg, conn, st, out);
        fail(conn, scheme, st, out);
    }
cleanup:
    buf_free(&cb);
    return err;
}
