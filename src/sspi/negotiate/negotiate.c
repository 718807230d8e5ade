// SPDX-License-Identifier: MIT
// The Negotiate package: SPNEGO (RFC 4178) with Microsoft's rules (MS-SPNG).
//
// Negotiate owns no cryptography: it wraps the tokens of an inner package
// (Kerberos or NTLM, called through their package tables with inner
// credentials made from the same AcquireCredentialsHandle arguments) and
// protects the mechanism list with a mechListMIC computed by the inner context.
//
// Initiator: offers {krb5, NTLM} (each only when its credentials exist) with an
// optimistic Kerberos token; when Kerberos cannot even start (no ticket, unknown
// server) it offers NTLM alone, as Windows does.
// Acceptor: picks the first offered mechanism it has credentials for (either
// Kerberos OID, or NTLM), runs the optimistic token when that mechanism is the
// initiator's first, and also accepts a raw NTLM or raw Kerberos token.
//
// mechListMIC (RFC 4178 5; MS-SPNG 3.1.5.1, 3.3.5.1): required when the chosen
// mechanism was not the initiator's first choice, or when the NTLM AUTHENTICATE
// carries a MIC; verified whenever present. For NTLM, the RC4 handles go back to
// their post-handshake state after each mechListMIC so that the first
// application message is sealed as if no MIC had been made.
#include "sspi/negotiate/negotiate.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/reader.h"
#include "sspi/kerberos/kerberos.h"
#include "sspi/negotiate/spnego_der.h"
#include "sspi/ntlm/ntlm.h"
#include "sspi/ntlm/session.h"
#include "sspi/packed.h"
#include "sspi/status.h"

enum mech {
    MECH_NONE = 0,
    MECH_KRB5,
    MECH_NTLM,
};

struct nego_cred {
    void *krb;  /* owned inner Kerberos credential, NULL when unavailable */
    void *ntlm; /* owned inner NTLM credential, NULL when unavailable */
};

struct nego_ctx {
    bool is_acceptor;
    bool is_raw; /* acceptor: the client sent a bare NTLM or Kerberos token */
    bool is_complete;
    bool inner_complete;
    bool first_resp_seen; /* initiator: the acceptor's supportedMech was read */
    bool mic_required;
    bool mic_sent;
    bool mic_verified;
    bool mic_requested; /* acceptor: request-mic sent, the client's MIC is due */
    enum mech mech;
    const struct sspi_package *pkg; /* borrowed: the inner package */
    void *inner;                    /* owned: the inner package's context */
    struct slice chosen_oid;        /* static OID echoed in supportedMech */
    enum mech offered[2];           /* initiator: the mechanisms offered, in order */
    size_t offered_count;
    struct buf mech_types; /* DER of the initiator's MechTypeList (the MIC's input) */
    unsigned long attrs;
};

static const struct sspi_package *
pkg_of(enum mech m)
{
    return m == MECH_KRB5 ? &kerberos_package : m == MECH_NTLM ? &ntlm_package : NULL;
}

static enum mech
mech_of(struct slice oid)
{
    if (slice_eq(oid, spnego_oid_krb5) || slice_eq(oid, spnego_oid_ms_krb5))
        return MECH_KRB5;
    if (slice_eq(oid, spnego_oid_ntlm))
        return MECH_NTLM;
    return MECH_NONE;
}

static struct slice
static_oid(struct slice oid)
{
    if (slice_eq(oid, spnego_oid_ms_krb5))
        return spnego_oid_ms_krb5;
    if (slice_eq(oid, spnego_oid_krb5))
        return spnego_oid_krb5;
    return spnego_oid_ntlm;
}

static void *
cred_for(const struct nego_cred *cred, enum mech m)
{
    return m == MECH_KRB5 ? cred->krb : m == MECH_NTLM ? cred->ntlm : NULL;
}

/* ---- Credentials --------------------------------------------------------- */

static void
nego_free_cred(void *pkg_cred)
{
    struct nego_cred *cred = pkg_cred;

    if (cred == NULL)
        return;
    if (cred->krb != NULL)
        kerberos_package.free_cred(cred->krb);
    if (cred->ntlm != NULL)
        ntlm_package.free_cred(cred->ntlm);
    free(cred);
}

static SECURITY_STATUS
nego_acquire_cred(const struct sspi_acquire *args, void **pkg_cred_out)
{
    struct nego_cred *cred;
    SECURITY_STATUS krb_st, ntlm_st;

    *pkg_cred_out = NULL;
    cred = calloc(1, sizeof(*cred));
    if (cred == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    krb_st = kerberos_package.acquire_cred(args, &cred->krb);
    if (krb_st != SEC_E_OK)
        cred->krb = NULL;
    /* A Kerberos ccache given (GH_INITIATOR_AUTH_DATA): Kerberos only, never
     * NTLM with whatever default identity the process has. */
    ntlm_st = args->initiator_ccache != NULL ? SEC_E_NO_CREDENTIALS
                                             : ntlm_package.acquire_cred(args, &cred->ntlm);
    if (ntlm_st != SEC_E_OK)
        cred->ntlm = NULL;
    if (cred->krb == NULL && cred->ntlm == NULL) {
        free(cred);
        if (krb_st == SEC_E_INSUFFICIENT_MEMORY || ntlm_st == SEC_E_INSUFFICIENT_MEMORY)
            return SEC_E_INSUFFICIENT_MEMORY;
        return krb_st;
    }
    *pkg_cred_out = cred;
    return SEC_E_OK;
}

static SECURITY_STATUS
nego_query_cred(void *pkg_cred, unsigned long attribute, void *buffer)
{
    struct nego_cred *cred = pkg_cred;

    if (cred->krb != NULL)
        return kerberos_package.query_cred(cred->krb, attribute, buffer);
    return ntlm_package.query_cred(cred->ntlm, attribute, buffer);
}

/* ---- Context ------------------------------------------------------------- */

static void
drop_inner(struct nego_ctx *ctx)
{
    if (ctx->inner != NULL && ctx->pkg != NULL)
        ctx->pkg->delete_ctx(ctx->inner);
    ctx->inner = NULL;
    ctx->inner_complete = false;
}

static void
nego_delete_ctx(void *pkg_ctx)
{
    struct nego_ctx *ctx = pkg_ctx;

    if (ctx == NULL)
        return;
    drop_inner(ctx);
    buf_free(&ctx->mech_types);
    free(ctx);
}

static SECURITY_STATUS
ctx_begin(void **pkg_ctx, bool is_acceptor, struct nego_ctx **ctx_out)
{
    struct nego_ctx *ctx = *pkg_ctx;

    if (ctx != NULL && ctx->is_acceptor != is_acceptor)
        return SEC_E_INVALID_HANDLE;
    if (ctx != NULL && ctx->is_complete) {
        /* SSPI re-authentication: a new handshake on the same handle. */
        drop_inner(ctx);
        buf_free(&ctx->mech_types);
        *ctx = (struct nego_ctx){.is_acceptor = is_acceptor};
        buf_init(&ctx->mech_types, 1024);
    }
    if (ctx == NULL) {
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        ctx->is_acceptor = is_acceptor;
        buf_init(&ctx->mech_types, 1024);
        *pkg_ctx = ctx;
    }
    *ctx_out = ctx;
    return SEC_E_OK;
}

/* The failure text of an inner leg, named after its package so that the
 * caller of Negotiate learns which mechanism failed and why:
 * "Kerberos: cannot verify the server's reply: ...", or the status name when
 * the package gave no text. */
static void
name_inner_failure(const struct sspi_package *pkg, SECURITY_STATUS st, struct buf *text)
{
    struct buf named;

    buf_init(&named, text->max);
    if (text->len > 0)
        (void)buf_printf(&named, "%s: %.*s", pkg->name, (int)text->len, (const char *)text->data);
    else
        (void)buf_printf(&named, "%s: %s", pkg->name, sspi_status_name(st));
    if (named.len == 0) { /* out of memory: keep what there is */
        buf_free(&named);
        return;
    }
    buf_free(text);
    *text = named;
}

/* Runs one leg of the inner package with in as its token; its output token
 * goes to *tok (initialized here). */
static SECURITY_STATUS
inner_step(struct nego_ctx *ctx, const struct nego_cred *cred, struct sspi_step *outer,
           struct slice in, struct buf *tok)
{
    struct sspi_step s = *outer;
    SECURITY_STATUS st;

    s.in_token = in;
    buf_init(&s.out_token, SPNEGO_MAX_TOKEN_BYTES);
    s.attrs_out = 0;
    /* NTLM signs only when asked; the mechListMIC needs signing keys that
     * both sides agree on, so Negotiate always asks for integrity. */
    if (!ctx->is_acceptor && ctx->mech == MECH_NTLM)
        s.req_flags |= ISC_REQ_INTEGRITY;
    if (ctx->is_acceptor)
        st = ctx->pkg->accept_ctx(cred_for(cred, ctx->mech), &ctx->inner, &s);
    else
        st = ctx->pkg->init_ctx(cred_for(cred, ctx->mech), &ctx->inner, &s);
    outer->error_text = s.error_text; /* the inner package may have grown it */
    outer->error_detail = s.error_detail;
    outer->error_krb5 = s.error_krb5;
    outer->error_major = s.error_major;
    *tok = s.out_token;
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) {
        ctx->attrs = s.attrs_out;
        outer->attrs_out = s.attrs_out;
        outer->expiry_out = s.expiry_out;
        ctx->inner_complete = st == SEC_E_OK;
        return st;
    }
    buf_free(tok);
    if (st > 0) /* COMPLETE_NEEDED and friends: neither inner package uses them */
        return SEC_E_INTERNAL_ERROR;
    outer->error_package = s.error_package != NULL ? s.error_package : ctx->pkg->name;
    name_inner_failure(ctx->pkg, st, &outer->error_text);
    return st;
}

/* mechListMIC over the DER of mechTypes, made / checked by the inner context. */
static SECURITY_STATUS
mic_make(struct nego_ctx *ctx, struct buf *mic)
{
    struct slice data = buf_slice(&ctx->mech_types);
    SECURITY_STATUS st;

    if (ctx->mech == MECH_KRB5)
        return kerberos_ctx_get_mic(ctx->inner, data, mic);
    uint8_t sig[16];
    st = ntlm_ctx_sign(ctx->inner, NTLM_DIR_SEND, data, sig);
    if (st == SEC_E_OK)
        st = ntlm_ctx_reset_rc4(ctx->inner, false); /* MS-SPNG 3.3.5.1 */
    if (st == SEC_E_OK && buf_append(mic, sig, sizeof(sig)) != 0)
        st = SEC_E_INSUFFICIENT_MEMORY;
    return st;
}

static SECURITY_STATUS
mic_check(struct nego_ctx *ctx, struct slice mic, struct sspi_step *step)
{
    struct slice data = buf_slice(&ctx->mech_types);
    SECURITY_STATUS st;

    if (ctx->mech == MECH_KRB5) {
        st = kerberos_ctx_verify_mic(ctx->inner, data, mic);
    } else if (mic.len != 16) {
        st = SEC_E_MESSAGE_ALTERED;
    } else {
        st = ntlm_ctx_verify(ctx->inner, NTLM_DIR_RECV, data, mic.ptr);
        if (st == SEC_E_OK)
            st = ntlm_ctx_reset_rc4(ctx->inner, false); /* MS-SPNG 3.3.5.1 */
    }
    if (st != SEC_E_OK) {
        (void)buf_append_str(&step->error_text, "SPNEGO mechListMIC does not verify");
        return SEC_E_INVALID_TOKEN;
    }
    ctx->mic_verified = true;
    return SEC_E_OK;
}

static void
note_ntlm_mic(struct nego_ctx *ctx)
{
    if (ctx->mech == MECH_NTLM && ctx->inner_complete && ntlm_ctx_has_mic(ctx->inner))
        ctx->mic_required = true;
}

/* ---- Initiator ----------------------------------------------------------- */

static SECURITY_STATUS
init_first(struct nego_ctx *ctx, const struct nego_cred *cred, struct sspi_step *step)
{
    enum mech cands[2];
    size_t n = 0, i;
    struct buf tok = {0};
    struct slice oids[2];
    SECURITY_STATUS st = SEC_E_NO_CREDENTIALS;

    if (cred->krb != NULL)
        cands[n++] = MECH_KRB5;
    if (cred->ntlm != NULL)
        cands[n++] = MECH_NTLM;
    for (i = 0; i < n; i++) {
        ctx->mech = cands[i];
        ctx->pkg = pkg_of(cands[i]);
        st = inner_step(ctx, cred, step, slice_make(NULL, 0), &tok);
        if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
            break;
        drop_inner(ctx);
        if (i + 1 < n)
            step->error_text.len = 0; /* falling back: the next mechanism may work */
    }
    if (i == n)
        return st;
    ctx->offered_count = 0;
    for (size_t j = i; j < n; j++) {
        ctx->offered[ctx->offered_count] = cands[j];
        oids[ctx->offered_count++] = cands[j] == MECH_KRB5 ? spnego_oid_krb5 : spnego_oid_ntlm;
    }
    st = spnego_der_encode_mech_list(oids, ctx->offered_count, &ctx->mech_types);
    if (st == SEC_E_OK) {
        struct slice t = buf_slice(&tok);
        st = spnego_der_encode_init(oids, ctx->offered_count, &t, NULL, NULL, &step->out_token);
    }
    buf_free(&tok);
    return st == SEC_E_OK ? SEC_I_CONTINUE_NEEDED : st;
}

static SECURITY_STATUS
init_next(struct nego_ctx *ctx, const struct nego_cred *cred, struct sspi_step *step)
{
    struct spnego_token t;
    struct buf tok = {0}, mic = {0};
    SECURITY_STATUS st;
    bool offered = false;

    if (spnego_der_decode(step->in_token, &t) != SEC_E_OK || t.kind != SPNEGO_KIND_RESP) {
        (void)buf_append_str(&step->error_text,
                             "SPNEGO: the server's token is not a well-formed NegTokenResp");
        return SEC_E_INVALID_TOKEN;
    }
    const struct spnego_resp *r = &t.resp;
    if (r->neg_state == SPNEGO_REJECT) {
        (void)buf_append_str(&step->error_text, "the server rejected SPNEGO negotiation");
        return SEC_E_LOGON_DENIED;
    }
    if (!ctx->first_resp_seen) {
        ctx->first_resp_seen = true;
        enum mech m = r->has_supported_mech ? mech_of(r->supported_mech) : MECH_NONE;
        for (size_t i = 0; i < ctx->offered_count; i++)
            offered = offered || ctx->offered[i] == m;
        if (!offered) {
            (void)buf_append_str(&step->error_text,
                                 r->has_supported_mech
                                     ? "SPNEGO: the server chose a mechanism we did not offer"
                                     : "SPNEGO: the server's first reply names no mechanism "
                                       "(supportedMech)");
            return SEC_E_INVALID_TOKEN;
        }
        if (m != ctx->mech) {
            /* The acceptor chose a later mechanism: start it from scratch, and
             * protect the list, which an attacker might have trimmed. */
            if (r->has_response_token) {
                (void)buf_append_str(&step->error_text,
                                     "SPNEGO: a token for a mechanism not yet started");
                return SEC_E_INVALID_TOKEN;
            }
            drop_inner(ctx);
            ctx->mech = m;
            ctx->pkg = pkg_of(m);
            ctx->mic_required = true;
            st = inner_step(ctx, cred, step, slice_make(NULL, 0), &tok);
            if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
                return st;
            struct slice tk = buf_slice(&tok);
            st = spnego_der_encode_resp(SPNEGO_STATE_ABSENT, NULL, &tk, NULL, &step->out_token);
            buf_free(&tok);
            return st == SEC_E_OK ? SEC_I_CONTINUE_NEEDED : st;
        }
    } else if (r->has_supported_mech && mech_of(r->supported_mech) != ctx->mech) {
        (void)buf_append_str(&step->error_text, "SPNEGO: the server changed mechanisms");
        return SEC_E_INVALID_TOKEN;
    }
    if (r->has_response_token) {
        if (ctx->inner_complete) {
            (void)buf_append_str(&step->error_text,
                                 "SPNEGO: a mechanism token after the mechanism completed");
            return SEC_E_INVALID_TOKEN;
        }
        st = inner_step(ctx, cred, step, r->response_token, &tok);
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
            return st;
    }
    note_ntlm_mic(ctx);
    if (r->neg_state == SPNEGO_REQUEST_MIC)
        ctx->mic_required = true;
    if (r->has_mic) {
        if (!ctx->inner_complete) {
            (void)buf_append_str(&step->error_text,
                                 "SPNEGO: a mechListMIC before the mechanism completed");
            st = SEC_E_INVALID_TOKEN;
            goto cleanup;
        }
        st = mic_check(ctx, r->mech_list_mic, step);
        if (st != SEC_E_OK)
            goto cleanup;
    }
    if (r->neg_state == SPNEGO_ACCEPT_COMPLETED) {
        if (!ctx->inner_complete || tok.len > 0 || (ctx->mic_required && !ctx->mic_verified)) {
            (void)buf_append_str(&step->error_text,
                                 "SPNEGO: the server completed before the mechanism did, "
                                 "or without the required mechListMIC");
            st = SEC_E_INVALID_TOKEN;
            goto cleanup;
        }
        ctx->is_complete = true;
        st = SEC_E_OK;
        goto cleanup;
    }
    buf_init(&mic, 256);
    if (ctx->inner_complete && !ctx->mic_sent && (ctx->mic_required || ctx->mic_verified)) {
        st = mic_make(ctx, &mic);
        if (st != SEC_E_OK)
            goto cleanup;
        ctx->mic_sent = true;
    }
    if (tok.len == 0 && mic.len == 0) {
        /* The acceptor waits for something we do not have. */
        (void)buf_append_str(&step->error_text,
                             "SPNEGO: the server wants another leg but the mechanism has "
                             "nothing to send");
        st = SEC_E_INVALID_TOKEN;
        goto cleanup;
    }
    struct slice tk = buf_slice(&tok), mk = buf_slice(&mic);
    st = spnego_der_encode_resp(SPNEGO_STATE_ABSENT, NULL, tok.len > 0 ? &tk : NULL,
                                mic.len > 0 ? &mk : NULL, &step->out_token);
    if (st == SEC_E_OK)
        st = SEC_I_CONTINUE_NEEDED;
cleanup:
    buf_free(&tok);
    buf_free(&mic);
    return st;
}

static SECURITY_STATUS
nego_init_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct nego_ctx *ctx;
    SECURITY_STATUS st = ctx_begin(pkg_ctx, false, &ctx);

    if (st != SEC_E_OK)
        return st;
    if (ctx->mech == MECH_NONE)
        st = init_first(ctx, pkg_cred, step);
    else if (step->in_token.len == 0)
        return SEC_E_INVALID_TOKEN;
    else
        st = init_next(ctx, pkg_cred, step);
    /* A leg that does not run the inner package (the server's final
     * accept-completed, a mechListMIC) still reports the context's attributes:
     * callers check ISC_RET_* after the last call, as on Windows. */
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        step->attrs_out = ctx->attrs;
    return st;
}

/* ---- Acceptor ------------------------------------------------------------ */

/* The acceptor's NegTokenResp after an inner leg that returned inner_st.
 *
 * request-mic (RFC 4178 4.2.2 and 5; MS-SPNG 3.2.5.1): the first reply says
 * request-mic when the chosen mechanism was not the initiator's first choice.
 * When the mechanism completes and a mechListMIC is required (that case, or
 * an NTLM AUTHENTICATE carrying a MIC) but the client sent none, the acceptor
 * does not fail: it answers request-mic with its own mechListMIC and waits for
 * the client's in one more leg (what MIT's acceptor does too); only a client
 * that still sends none then fails. */
static SECURITY_STATUS
respond(struct nego_ctx *ctx, SECURITY_STATUS inner_st, struct buf *tok, bool is_first,
        struct sspi_step *step)
{
    struct buf mic;
    struct slice tk = buf_slice(tok), oid = ctx->chosen_oid, mk;
    SECURITY_STATUS st;

    if (inner_st == SEC_I_CONTINUE_NEEDED) {
        enum spnego_neg_state ns =
            is_first && ctx->mic_required ? SPNEGO_REQUEST_MIC : SPNEGO_ACCEPT_INCOMPLETE;
        st = spnego_der_encode_resp(ns, is_first ? &oid : NULL, tok->len > 0 ? &tk : NULL, NULL,
                                    &step->out_token);
        return st == SEC_E_OK ? SEC_I_CONTINUE_NEEDED : st;
    }
    note_ntlm_mic(ctx);
    bool ask_mic = ctx->mic_required && !ctx->mic_verified;
    if (ask_mic && ctx->mic_requested) {
        (void)buf_append_str(&step->error_text,
                             "SPNEGO: the client sent no mechListMIC, even when asked for it");
        return SEC_E_INVALID_TOKEN;
    }
    buf_init(&mic, 256);
    if ((ctx->mic_verified || ask_mic) && !ctx->mic_sent) {
        st = mic_make(ctx, &mic);
        if (st != SEC_E_OK) {
            buf_free(&mic);
            return st;
        }
        ctx->mic_sent = true;
    }
    mk = buf_slice(&mic);
    st = spnego_der_encode_resp(ask_mic ? SPNEGO_REQUEST_MIC : SPNEGO_ACCEPT_COMPLETED,
                                is_first ? &oid : NULL, tok->len > 0 ? &tk : NULL,
                                mic.len > 0 ? &mk : NULL, &step->out_token);
    buf_free(&mic);
    if (st != SEC_E_OK)
        return st;
    if (ask_mic) {
        ctx->mic_requested = true;
        return SEC_I_CONTINUE_NEEDED;
    }
    ctx->is_complete = true;
    return SEC_E_OK;
}

static SECURITY_STATUS
reject(struct sspi_step *step, SECURITY_STATUS st)
{
    step->out_token.len = 0;
    (void)spnego_der_encode_resp(SPNEGO_REJECT, NULL, NULL, NULL, &step->out_token);
    return st;
}

/* A bare NTLM or Kerberos token: the inner package does everything. */
static SECURITY_STATUS
raw_step(struct nego_ctx *ctx, const struct nego_cred *cred, struct sspi_step *step)
{
    struct buf tok;
    SECURITY_STATUS st = inner_step(ctx, cred, step, step->in_token, &tok);

    if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
        return st;
    if (buf_append(&step->out_token, tok.data, tok.len) != 0)
        st = SEC_E_INSUFFICIENT_MEMORY;
    buf_free(&tok);
    if (st == SEC_E_OK)
        ctx->is_complete = true;
    return st;
}

static SECURITY_STATUS
accept_first(struct nego_ctx *ctx, const struct nego_cred *cred, struct sspi_step *step)
{
    struct spnego_token t;
    struct slice in = step->in_token, oid;
    struct buf tok = {0};
    size_t i;
    SECURITY_STATUS st;

    if (in.len >= 8 && memcmp(in.ptr, "NTLMSSP\0", 8) == 0) {
        ctx->mech = MECH_NTLM;
    } else if (in.len > 0 && in.ptr[0] == 0x60 && spnego_der_peek_mech(in, &oid) == SEC_E_OK &&
               mech_of(oid) == MECH_KRB5) {
        ctx->mech = MECH_KRB5;
    }
    if (ctx->mech != MECH_NONE) {
        if (cred_for(cred, ctx->mech) == NULL) {
            (void)buf_printf(&step->error_text,
                             "Negotiate: the client sent a raw %s token; %s is not available here",
                             ctx->mech == MECH_NTLM ? "NTLM" : "Kerberos",
                             ctx->mech == MECH_NTLM ? "NTLM" : "Kerberos");
            step->error_detail = GH_SEC_DETAIL_NO_COMMON_MECH;
            return SEC_E_NO_CREDENTIALS;
        }
        ctx->is_raw = true;
        ctx->pkg = pkg_of(ctx->mech);
        return raw_step(ctx, cred, step);
    }
    if (spnego_der_decode(in, &t) != SEC_E_OK || t.kind != SPNEGO_KIND_INIT) {
        (void)buf_append_str(&step->error_text,
                             "SPNEGO: the client's token is neither a NegTokenInit nor a raw "
                             "NTLM or Kerberos token");
        return SEC_E_INVALID_TOKEN;
    }
    for (i = 0; i < t.init.mech_count; i++) {
        enum mech m = mech_of(t.init.mechs[i]);
        if (m != MECH_NONE && cred_for(cred, m) != NULL)
            break;
    }
    if (i == t.init.mech_count) {
        (void)buf_append_str(&step->error_text, "SPNEGO: no mechanism in common with the client");
        step->error_detail = GH_SEC_DETAIL_NO_COMMON_MECH;
        return reject(step, SEC_E_INVALID_TOKEN);
    }
    ctx->mech = mech_of(t.init.mechs[i]);
    ctx->pkg = pkg_of(ctx->mech);
    ctx->chosen_oid = static_oid(t.init.mechs[i]);
    ctx->mic_required = i != 0; /* RFC 4178 5: not the initiator's first choice */
    if (buf_append(&ctx->mech_types, t.init.mech_types_der.ptr, t.init.mech_types_der.len) != 0)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (i == 0 && t.init.has_mech_token) {
        st = inner_step(ctx, cred, step, t.init.mech_token, &tok);
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
            return reject(step, st);
    } else {
        /* Optimistic token for another mechanism (or none): ask for ours. */
        buf_init(&tok, 0);
        st = SEC_I_CONTINUE_NEEDED;
    }
    st = respond(ctx, st, &tok, true, step);
    buf_free(&tok);
    return st;
}

static SECURITY_STATUS
accept_next(struct nego_ctx *ctx, const struct nego_cred *cred, struct sspi_step *step)
{
    struct spnego_token t;
    struct buf tok = {0};
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;

    if (ctx->is_raw)
        return raw_step(ctx, cred, step);
    if (spnego_der_decode(step->in_token, &t) != SEC_E_OK || t.kind != SPNEGO_KIND_RESP) {
        (void)buf_append_str(&step->error_text,
                             "SPNEGO: the client's token is not a well-formed NegTokenResp");
        return SEC_E_INVALID_TOKEN;
    }
    const struct spnego_resp *r = &t.resp;
    if (r->neg_state == SPNEGO_REJECT) {
        (void)buf_append_str(&step->error_text, "SPNEGO: the client rejected the negotiation");
        return SEC_E_LOGON_DENIED;
    }
    if (r->has_supported_mech && mech_of(r->supported_mech) != ctx->mech) {
        (void)buf_append_str(&step->error_text, "SPNEGO: the client changed mechanisms");
        return SEC_E_INVALID_TOKEN;
    }
    if (r->has_response_token) {
        if (ctx->inner_complete) {
            (void)buf_append_str(&step->error_text,
                                 "SPNEGO: a mechanism token after the mechanism completed");
            return SEC_E_INVALID_TOKEN;
        }
        st = inner_step(ctx, cred, step, r->response_token, &tok);
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED)
            return reject(step, st);
    } else if (!ctx->inner_complete) {
        (void)buf_append_str(&step->error_text, "SPNEGO: no mechanism token from the client");
        return SEC_E_INVALID_TOKEN;
    } else {
        st = SEC_E_OK;
        buf_init(&tok, 0);
    }
    if (r->has_mic) {
        SECURITY_STATUS mst =
            ctx->inner_complete ? mic_check(ctx, r->mech_list_mic, step) : SEC_E_INVALID_TOKEN;
        if (mst != SEC_E_OK) {
            buf_free(&tok);
            return reject(step, mst);
        }
    }
    st = respond(ctx, st, &tok, false, step);
    buf_free(&tok);
    return st;
}

static SECURITY_STATUS
nego_accept_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct nego_ctx *ctx;
    SECURITY_STATUS st = ctx_begin(pkg_ctx, true, &ctx);

    if (st != SEC_E_OK)
        return st;
    if (step->in_token.len == 0)
        return SEC_E_INVALID_TOKEN;
    if (ctx->mech == MECH_NONE)
        st = accept_first(ctx, pkg_cred, step);
    else
        st = accept_next(ctx, pkg_cred, step);
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) /* as in nego_init_ctx */
        step->attrs_out = ctx->attrs;
    return st;
}

/* ---- Attributes and messages: the inner package answers ------------------ */

SECURITY_STATUS
negotiate_ctx_inner(void *pkg_ctx, const struct sspi_package **pkg_out, void **inner_ctx_out)
{
    struct nego_ctx *ctx = pkg_ctx;

    if (ctx == NULL || ctx->pkg == NULL || ctx->inner == NULL)
        return SEC_E_NO_CONTEXT;
    *pkg_out = ctx->pkg;
    *inner_ctx_out = ctx->inner;
    return SEC_E_OK;
}

static SECURITY_STATUS
nego_query_ctx(void *pkg_ctx, unsigned long attribute, void *buffer)
{
    struct nego_ctx *ctx = pkg_ctx;

    if (attribute == SECPKG_ATTR_NEGOTIATION_INFO) {
        SecPkgContext_NegotiationInfoA *ni = buffer;
        ni->PackageInfo = sspi_package_info_dup(ctx->pkg != NULL ? ctx->pkg : &negotiate_package);
        ni->NegotiationState =
            ctx->is_complete ? SECPKG_NEGOTIATION_COMPLETE : SECPKG_NEGOTIATION_IN_PROGRESS;
        return ni->PackageInfo == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
    }
    if (attribute == SECPKG_ATTR_FLAGS) {
        ((SecPkgContext_Flags *)buffer)->Flags = ctx->attrs;
        return SEC_E_OK;
    }
    if (ctx->inner == NULL)
        return SEC_E_NO_CONTEXT;
    return ctx->pkg->query_ctx(ctx->inner, attribute, buffer);
}

static SECURITY_STATUS
nego_query_token(void *pkg_ctx, struct gh_token **token_out)
{
    struct nego_ctx *ctx = pkg_ctx;

    if (ctx == NULL || !ctx->is_complete || ctx->inner == NULL)
        return SEC_E_NO_CONTEXT;
    return ctx->pkg->query_token(ctx->inner, token_out);
}

#define INNER_OR_FAIL(ctx)                                                \
    do {                                                                  \
        if ((ctx) == NULL || (ctx)->inner == NULL || !(ctx)->is_complete) \
            return SEC_E_NO_CONTEXT;                                      \
    } while (0)

static SECURITY_STATUS
nego_make_signature(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct nego_ctx *ctx = pkg_ctx;

    INNER_OR_FAIL(ctx);
    return ctx->pkg->make_signature(ctx->inner, qop, msg, seq_no);
}

static SECURITY_STATUS
nego_verify_signature(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no,
                      unsigned long *qop_out)
{
    struct nego_ctx *ctx = pkg_ctx;

    INNER_OR_FAIL(ctx);
    return ctx->pkg->verify_signature(ctx->inner, msg, seq_no, qop_out);
}

static SECURITY_STATUS
nego_encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct nego_ctx *ctx = pkg_ctx;

    INNER_OR_FAIL(ctx);
    return ctx->pkg->encrypt(ctx->inner, qop, msg, seq_no);
}

static SECURITY_STATUS
nego_decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out)
{
    struct nego_ctx *ctx = pkg_ctx;

    INNER_OR_FAIL(ctx);
    return ctx->pkg->decrypt(ctx->inner, msg, seq_no, qop_out);
}

/* ---- Packed contexts: the inner package's, with a tag ------------------------
 * Version 1: u8 version  u8 mech (1 Kerberos, 2 NTLM)  u8 is_acceptor
 * u8 is_raw  u32 attrs  bytes inner_state (the inner package's export). */
#define PACKED_NEGO_VERSION 1

static SECURITY_STATUS
nego_export_ctx(void *pkg_ctx, struct buf *out)
{
    struct nego_ctx *ctx = pkg_ctx;
    struct buf inner;
    SECURITY_STATUS st;

    INNER_OR_FAIL(ctx);
    if (ctx->pkg->export_ctx == NULL)
        return SEC_E_UNSUPPORTED_FUNCTION;
    buf_init(&inner, out->max);
    st = ctx->pkg->export_ctx(ctx->inner, &inner);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, PACKED_NEGO_VERSION);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, (uint8_t)ctx->mech);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, ctx->is_acceptor ? 1 : 0);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, ctx->is_raw ? 1 : 0);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, (uint32_t)ctx->attrs);
    if (st == SEC_E_OK)
        st = packed_put_bytes(out, inner.data, inner.len);
    buf_free_wipe(&inner);
    return st;
}

static SECURITY_STATUS
nego_import_ctx(struct slice in, void **pkg_ctx_out)
{
    struct reader rd = reader_make(in);
    struct nego_ctx *ctx;
    struct slice inner;
    SECURITY_STATUS st;

    *pkg_ctx_out = NULL;
    uint8_t version = reader_u8(&rd), mech = reader_u8(&rd), is_acceptor = reader_u8(&rd),
            is_raw = reader_u8(&rd);
    uint32_t attrs = reader_u32le(&rd);
    if (rd.failed || version != PACKED_NEGO_VERSION || (mech != MECH_KRB5 && mech != MECH_NTLM) ||
        !packed_get_bytes(&rd, in.len, &inner) || rd.left != 0)
        return SEC_E_INVALID_TOKEN;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    buf_init(&ctx->mech_types, 1024);
    ctx->is_acceptor = is_acceptor != 0;
    ctx->is_raw = is_raw != 0;
    ctx->mech = (enum mech)mech;
    ctx->pkg = pkg_of(ctx->mech);
    ctx->chosen_oid = mech == MECH_KRB5 ? spnego_oid_krb5 : spnego_oid_ntlm;
    ctx->attrs = attrs;
    st = ctx->pkg->import_ctx(inner, &ctx->inner);
    if (st != SEC_E_OK) {
        ctx->inner = NULL;
        nego_delete_ctx(ctx);
        return st;
    }
    ctx->inner_complete = true;
    ctx->is_complete = true;
    *pkg_ctx_out = ctx;
    return SEC_E_OK;
}

const struct sspi_package negotiate_package = {
    .name = NEGOSSP_NAME_A,
    .comment = "SPNEGO: Kerberos, then NTLM",
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_TOKEN_ONLY |
                    SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED |
                    SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION |
                    SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE |
                    SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_LOGON | SECPKG_FLAG_MUTUAL_AUTH |
                    SECPKG_FLAG_DELEGATION | SECPKG_FLAG_READONLY_WITH_CHECKSUM,
    .version = 1,
    .rpc_id = 9, /* RPC_C_AUTHN_GSS_NEGOTIATE */
    .max_token_bytes = 48256,
    .acquire_cred = nego_acquire_cred,
    .free_cred = nego_free_cred,
    .query_cred = nego_query_cred,
    .init_ctx = nego_init_ctx,
    .accept_ctx = nego_accept_ctx,
    .complete_token = NULL,
    .delete_ctx = nego_delete_ctx,
    .query_ctx = nego_query_ctx,
    .query_token = nego_query_token,
    .export_ctx = nego_export_ctx,
    .import_ctx = nego_import_ctx,
    .make_signature = nego_make_signature,
    .verify_signature = nego_verify_signature,
    .encrypt = nego_encrypt,
    .decrypt = nego_decrypt,
};
