// SPDX-License-Identifier: MIT
// NTLM handshake state machines (MS-NLMP 3.1.5 client, 3.2.5 server), NTLMv2
// only (3.3.2).
//
//   client: START --NEGOTIATE--> NEGOTIATE_SENT --CHALLENGE/AUTHENTICATE--> DONE
//   server: START --NEGOTIATE/CHALLENGE--> CHALLENGE_SENT --AUTHENTICATE--> DONE
//
// A DONE context that is called again restarts (re-authentication, as on
// Windows); any failure leaves it FAILED, which only a new NEGOTIATE (server)
// or an empty input (client) restarts.
//
// What the acceptor verifies, in this order: message syntax; NTLMv2 response
// shape (NTLMv1/LM and anonymous are refused with SEC_E_LOGON_DENIED); the
// NTProofStr against the user's NT hash (constant time; an unknown user costs
// the same and fails the same way); then, only for an authenticated client,
// the MIC (required when MsvAvFlags says a MIC is present), the channel
// bindings and the timestamp. Secrets are wiped as soon as they are used.
#include "sspi/ntlm/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gatehouse/error.h>

#include "base/secret.h"
#include "sspi/ntlm/av_pairs.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/msg.h"
#include "sspi/ntlm/text.h"
#include "sspi/store/userstore.h"
#include "sspi/token_internal.h"

/* What our client always asks for: NTLMv2 with extended session security,
 * 128-bit keys, key exchange, ALWAYS_SIGN (so SPNEGO's mechListMIC and the
 * AUTHENTICATE MIC have real keys), and always a Version field (gss-ntlmssp
 * rejects NEGOTIATEs without it). SIGN and SEAL only when the caller asks
 * (client_flags), as Windows does. */
#define CLIENT_FLAGS_BASE                                                          \
    (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM | \
     NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |  \
     NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 |    \
     NTLMSSP_NEGOTIATE_KEY_EXCH)

/* Flags a server grants when the client asked for them. */
#define SERVER_ECHO_FLAGS                                                          \
    (NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |  \
     NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH |   \
     NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_VERSION | \
     NTLMSSP_NEGOTIATE_IDENTIFY)

/* NTLMv2_CLIENT_CHALLENGE (2.2.2.7) without its AvPairs:
 *    0 RespType (1)  1 HiRespType (1)  2 Reserved1 (2)  4 Reserved2 (4)
 *    8 TimeStamp (8) 16 ChallengeFromClient (8)  24 Reserved3 (4)  28 AvPairs */
#define CLIENT_CHALLENGE_FIXED_LEN 28u
/* How far the client's timestamp may be from our clock. */
#define MAX_CLOCK_SKEW_SECONDS (36 * 3600)
#define FILETIME_PER_SECOND    10000000ull

uint64_t
ntlm_filetime_from_unix(int64_t unix_seconds)
{
    return ((uint64_t)unix_seconds + 11644473600ull) * FILETIME_PER_SECOND;
}

static uint64_t
now_filetime(const struct ntlm_ctx *ctx)
{
    if (ctx->fixed.has_time)
        return ctx->fixed.filetime;
    return ntlm_filetime_from_unix((int64_t)time(NULL));
}

static TimeStamp
never_expires(void)
{
    return (TimeStamp){0xFFFFFFFFu, 0x7FFFFFFF};
}

struct ntlm_ctx *
ntlm_context_new(bool is_client)
{
    struct ntlm_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->is_client = is_client;
    buf_init(&ctx->negotiate, NTLM_MAX_MESSAGE_LEN);
    buf_init(&ctx->challenge, NTLM_MAX_MESSAGE_LEN);
    return ctx;
}

/* Back to START, keeping the test seams. */
static void
reset(struct ntlm_ctx *ctx)
{
    struct ntlm_fixed_inputs fixed = ctx->fixed;
    bool is_client = ctx->is_client;

    buf_free(&ctx->negotiate);
    buf_free(&ctx->challenge);
    ntlm_session_free(&ctx->session);
    gh_token_close(ctx->token);
    free(ctx->user);
    free(ctx->domain);
    free(ctx->principal);
    free(ctx->local_account);
    free(ctx->user_sid);
    for (size_t i = 0; i < ctx->group_sid_count; i++)
        free(ctx->group_sids[i]);
    free(ctx->group_sids);
    free(ctx->group_sid_attrs);
    free(ctx->dns_domain);
    free(ctx->upn);
    for (size_t i = 0; i < ctx->group_count; i++)
        free(ctx->groups[i]);
    free(ctx->groups);
    free(ctx->client_name);
    free(ctx->server_name);
    secret_wipe(ctx, sizeof(*ctx));
    *ctx = (struct ntlm_ctx){0};
    ctx->is_client = is_client;
    ctx->fixed = fixed;
    buf_init(&ctx->negotiate, NTLM_MAX_MESSAGE_LEN);
    buf_init(&ctx->challenge, NTLM_MAX_MESSAGE_LEN);
}

void
ntlm_context_delete(void *pkg_ctx)
{
    struct ntlm_ctx *ctx = pkg_ctx;

    if (ctx == NULL)
        return;
    reset(ctx);
    free(ctx);
}

static SECURITY_STATUS
fail(struct ntlm_ctx *ctx, struct sspi_step *step, SECURITY_STATUS st, const char *why)
{
    ctx->state = NTLM_STATE_FAILED;
    buf_free(&step->out_token);
    if (step->error_text.len == 0)
        buf_printf(&step->error_text, "NTLM: %s", why);
    return st;
}

/* is_public: the value is sent in clear (the server challenge), so a nonce
 * from the per-thread pool (crypto.h) is enough. */
static SECURITY_STATUS
random_or_fixed(uint8_t *out, size_t len, bool has_fixed, const uint8_t *fixed, bool is_public)
{
    if (has_fixed) {
        memcpy(out, fixed, len);
        return SEC_E_OK;
    }
    return is_public ? ntlm_crypto_nonce(out, len) : ntlm_crypto_random(out, len);
}

static SECURITY_STATUS
gh_to_status(int err)
{
    if (err == GH_OK)
        return SEC_E_OK;
    if (err == GH_ENOMEM)
        return SEC_E_INSUFFICIENT_MEMORY;
    return SEC_E_INVALID_TOKEN;
}

static unsigned long
context_attrs(const struct ntlm_ctx *ctx, unsigned long req)
{
    /* ISC_RET_* and ASC_RET_* share these bits except EXTENDED_ERROR. */
    unsigned long a = ISC_RET_CONNECTION;
    /* Only what was negotiated: ALWAYS_SIGN alone keeps the message functions
     * working (MICs) but is not integrity the caller asked for. */
    bool can_sign = (ctx->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) &&
                    (ctx->flags & NTLMSSP_NEGOTIATE_SIGN);

    if (can_sign) {
        a |= ISC_RET_INTEGRITY | ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT;
        if (!ctx->is_client)
            a = (a & ~ISC_RET_INTEGRITY) | ASC_RET_INTEGRITY;
    }
    if ((ctx->flags & NTLMSSP_NEGOTIATE_SEAL) &&
        (ctx->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY))
        a |= ISC_RET_CONFIDENTIALITY;
    if (ctx->is_client && (req & ISC_REQ_EXTENDED_ERROR))
        a |= ISC_RET_EXTENDED_ERROR;
    if (!ctx->is_client && (req & ASC_REQ_EXTENDED_ERROR))
        a |= ASC_RET_EXTENDED_ERROR;
    if (ctx->flags & NTLMSSP_NEGOTIATE_IDENTIFY)
        a |= ctx->is_client ? ISC_RET_IDENTIFY : ASC_RET_IDENTIFY;
    return a;
}

static SECURITY_STATUS
finish_session(struct ntlm_ctx *ctx, struct sspi_step *step)
{
    SECURITY_STATUS st;

    /* Session security needs ESS here (NTLMv2 without ESS would fall back to
     * the NTLMv1 CRC32 scheme, which we do not implement). */
    if (ctx->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) {
        st = ntlm_session_init(&ctx->session, ctx->exported_key, ctx->flags, ctx->is_client);
        if (st != SEC_E_OK)
            return st;
    }
    ctx->attrs = context_attrs(ctx, step->req_flags);
    step->attrs_out = ctx->attrs;
    step->expiry_out = never_expires();
    ctx->state = NTLM_STATE_DONE;
    return SEC_E_OK;
}

/* ---- Client (MS-NLMP 3.1.5) ---------------------------------------------------- */

/* ISC_REQ_* to NegotiateFlags: integrity (or replay / sequence detection,
 * which NTLM provides only through signatures) asks for SIGN; confidentiality
 * for SEAL and SIGN. */
static uint32_t
client_flags(unsigned long req)
{
    uint32_t f = CLIENT_FLAGS_BASE;

    if (req & (ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT))
        f |= NTLMSSP_NEGOTIATE_SIGN;
    if (req & ISC_REQ_CONFIDENTIALITY)
        f |= NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL;
    return f;
}

static SECURITY_STATUS
client_negotiate(struct ntlm_ctx *ctx, struct sspi_step *step)
{
    struct ntlm_negotiate neg = {.flags = client_flags(step->req_flags), .has_version = true};
    SECURITY_STATUS st;

    memcpy(neg.version, ntlm_our_version, NTLM_VERSION_LEN);
    st = ntlm_msg_encode_negotiate(&neg, &ctx->negotiate);
    if (st != SEC_E_OK)
        return fail(ctx, step, st, "cannot encode NEGOTIATE");
    if (buf_append(&step->out_token, ctx->negotiate.data, ctx->negotiate.len) != GH_OK)
        return fail(ctx, step, SEC_E_INSUFFICIENT_MEMORY, "out of memory");
    ctx->start_unix = (int64_t)time(NULL);
    ctx->offered_flags = neg.flags;
    ctx->state = NTLM_STATE_NEGOTIATE_SENT;
    step->attrs_out = context_attrs(ctx, step->req_flags);
    return SEC_I_CONTINUE_NEEDED;
}

static SECURITY_STATUS
client_authenticate(struct ntlm_ctx *ctx, const struct ntlm_cred *cred, struct sspi_step *step)
{
    static const enum ntlm_av_id replaced[] = {MSV_AV_FLAGS, MSV_AV_CHANNEL_BINDINGS,
                                               MSV_AV_TARGET_NAME};
    static const uint8_t zeros[24];
    struct ntlm_challenge chal;
    struct ntlm_av_info info = {0};
    struct ntlm_authenticate auth = {0};
    struct buf temp, nt_resp, user16, domain16, ws16;
    uint8_t key[16], proof[16], base_key[16], enc_key[16], lm[24], cb_hash[16], mic[16];
    uint8_t client_challenge[8];
    uint64_t timestamp;
    SECURITY_STATUS st;
    int err;

    buf_init(&temp, NTLM_MAX_MESSAGE_LEN);
    buf_init(&nt_resp, NTLM_MAX_MESSAGE_LEN);
    buf_init(&user16, 1024);
    buf_init(&domain16, 1024);
    buf_init(&ws16, 1024);

    st = ntlm_msg_decode_challenge(step->in_token, &chal);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "malformed CHALLENGE_MESSAGE");
        goto cleanup;
    }
    if (chal.target_info.len > 0)
        st = ntlm_av_decode(chal.target_info, &info);
    if (st != SEC_E_OK || !(chal.flags & NTLMSSP_NEGOTIATE_UNICODE)) {
        st = fail(ctx, step, SEC_E_INVALID_TOKEN,
                  "CHALLENGE without Unicode or with bad TargetInfo");
        goto cleanup;
    }
    if (buf_append(&ctx->challenge, step->in_token.ptr, step->in_token.len) != GH_OK) {
        st = fail(ctx, step, SEC_E_INSUFFICIENT_MEMORY, "out of memory");
        goto cleanup;
    }
    ctx->flags = (chal.flags & ctx->offered_flags) | NTLMSSP_NEGOTIATE_VERSION;
    if (!(ctx->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY))
        ctx->flags &=
            ~(NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_KEY_EXCH);
    memcpy(ctx->server_challenge, chal.server_challenge, 8);

    /* The blob's AV pairs: the server's, then ours (3.1.5.1.2). */
    err = ntlm_av_copy_except(chal.target_info, replaced, 3, &temp);
    memset(cb_hash, 0, sizeof(cb_hash));
    if (err == GH_OK && step->bindings.len > 0) {
        st = ntlm_crypto_bindings_hash(step->bindings, cb_hash);
        if (st != SEC_E_OK) {
            fail(ctx, step, st, "malformed SEC_CHANNEL_BINDINGS");
            goto cleanup;
        }
    }
    if (err == GH_OK)
        err = ntlm_av_append_u32(&temp, MSV_AV_FLAGS, MSV_AV_FLAG_MIC_PRESENT);
    if (err == GH_OK)
        err = ntlm_av_append(&temp, MSV_AV_CHANNEL_BINDINGS, cb_hash, sizeof(cb_hash));
    if (err == GH_OK && step->target != NULL && step->target[0] != '\0') {
        struct buf spn;
        buf_init(&spn, 1024);
        err = ntlm_text_to_utf16(step->target, strlen(step->target), false, &spn);
        if (err == GH_OK)
            err = ntlm_av_append(&temp, MSV_AV_TARGET_NAME, spn.data, spn.len);
        buf_free(&spn);
    }
    if (err == GH_OK)
        err = ntlm_av_append(&temp, MSV_AV_EOL, NULL, 0);
    if (err == GH_OK)
        err = buf_append(&temp, zeros, 4);
    if (err != GH_OK) {
        st = fail(ctx, step, gh_to_status(err), "cannot build the NTLMv2 client challenge");
        goto cleanup;
    }

    /* temp = 1, 1, Z(6), Time, ClientChallenge, Z(4), AvPairs, Z(4). */
    timestamp = info.has_timestamp ? info.timestamp : now_filetime(ctx);
    st = random_or_fixed(client_challenge, 8, ctx->fixed.has_client_challenge,
                         ctx->fixed.client_challenge, true);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "no randomness");
        goto cleanup;
    }
    uint8_t head[CLIENT_CHALLENGE_FIXED_LEN] = {1, 1};
    for (size_t i = 0; i < 8; i++)
        head[8 + i] = (uint8_t)(timestamp >> (8 * i));
    memcpy(head + 16, client_challenge, 8);

    err = buf_reserve(&nt_resp, 16 + sizeof(head) + temp.len);
    if (err != GH_OK) {
        st = fail(ctx, step, gh_to_status(err), "NTLMv2 response too long");
        goto cleanup;
    }
    buf_append(&nt_resp, zeros, 16); /* NTProofStr, filled below */
    buf_append(&nt_resp, head, sizeof(head));
    buf_append(&nt_resp, temp.data, temp.len);

    st = ntlm_crypto_ntowfv2(cred->nt_hash, cred->user, cred->domain, key);
    if (st == SEC_E_OK)
        st = ntlm_crypto_nt_proof(key, chal.server_challenge,
                                  slice_make(nt_resp.data + 16, nt_resp.len - 16), proof);
    if (st == SEC_E_OK)
        st = ntlm_crypto_session_base_key(key, proof, base_key);
    /* With a server timestamp the LM response is Z(24) (3.1.5.1.2). */
    if (st == SEC_E_OK && !info.has_timestamp)
        st = ntlm_crypto_lmv2_response(key, chal.server_challenge, client_challenge, lm);
    else
        memset(lm, 0, sizeof(lm));
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "NTLMv2 computation failed");
        goto cleanup;
    }
    memcpy(nt_resp.data, proof, 16);

    /* KXKEY for NTLMv2 is the session base key (3.4.5.1). */
    if (ctx->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
        st = random_or_fixed(ctx->exported_key, 16, ctx->fixed.has_session_key,
                             ctx->fixed.session_key, false);
        if (st == SEC_E_OK)
            st = ntlm_crypto_rc4k(base_key, ctx->exported_key, 16, enc_key);
        if (st != SEC_E_OK) {
            fail(ctx, step, st, "key exchange failed");
            goto cleanup;
        }
        auth.encrypted_session_key = slice_make(enc_key, 16);
    } else {
        memcpy(ctx->exported_key, base_key, 16);
    }

    err = ntlm_text_to_utf16(cred->user, strlen(cred->user), false, &user16);
    if (err == GH_OK)
        err = ntlm_text_to_utf16(cred->domain, strlen(cred->domain), false, &domain16);
    if (err != GH_OK) {
        st = fail(ctx, step, SEC_E_NO_CREDENTIALS, "user or domain is not UTF-8");
        goto cleanup;
    }
    auth.flags = ctx->flags;
    auth.lm_response = slice_make(lm, sizeof(lm));
    auth.nt_response = buf_slice(&nt_resp);
    auth.user = buf_slice(&user16);
    auth.domain = buf_slice(&domain16);
    auth.workstation = buf_slice(&ws16);
    auth.has_version = true;
    memcpy(auth.version, ntlm_our_version, NTLM_VERSION_LEN);
    st = ntlm_msg_encode_authenticate(&auth, true, &step->out_token);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "cannot encode AUTHENTICATE");
        goto cleanup;
    }
    st = ntlm_crypto_mic(ctx->exported_key, buf_slice(&ctx->negotiate), buf_slice(&ctx->challenge),
                         buf_slice(&step->out_token), NTLM_AUTHENTICATE_MIC_OFFSET, mic);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "MIC computation failed");
        goto cleanup;
    }
    memcpy(step->out_token.data + NTLM_AUTHENTICATE_MIC_OFFSET, mic, 16);
    ctx->has_mic = true;

    size_t name_len = strlen(cred->domain) + strlen(cred->user) + 2;
    ctx->client_name = malloc(name_len);
    ctx->server_name = step->target != NULL ? strdup(step->target) : NULL;
    if (ctx->client_name == NULL || (step->target != NULL && ctx->server_name == NULL)) {
        st = fail(ctx, step, SEC_E_INSUFFICIENT_MEMORY, "out of memory");
        goto cleanup;
    }
    snprintf(ctx->client_name, name_len, "%s\\%s", cred->domain, cred->user);
    st = finish_session(ctx, step);
    if (st != SEC_E_OK)
        fail(ctx, step, st, "cannot set up session security");
cleanup:
    secret_wipe(key, sizeof(key));
    secret_wipe(base_key, sizeof(base_key));
    secret_wipe(proof, sizeof(proof));
    buf_free(&temp);
    buf_free(&nt_resp);
    buf_free(&user16);
    buf_free(&domain16);
    buf_free(&ws16);
    return st;
}

SECURITY_STATUS
ntlm_context_init(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct ntlm_cred *cred = pkg_cred;
    struct ntlm_ctx *ctx = *pkg_ctx;

    if (cred == NULL || !cred->is_outbound)
        return SEC_E_NO_CREDENTIALS;
    if (ctx == NULL) {
        ctx = ntlm_context_new(true);
        if (ctx == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        *pkg_ctx = ctx;
    }
    if (!ctx->is_client)
        return SEC_E_INVALID_HANDLE;
    if (ctx->state == NTLM_STATE_DONE || ctx->state == NTLM_STATE_FAILED) {
        if (step->in_token.len > 0)
            return SEC_E_INVALID_TOKEN;
        reset(ctx); /* re-authentication */
    }
    switch (ctx->state) {
    case NTLM_STATE_START:
        return client_negotiate(ctx, step);
    case NTLM_STATE_NEGOTIATE_SENT:
        if (step->in_token.len == 0)
            return fail(ctx, step, SEC_E_INVALID_TOKEN, "no CHALLENGE_MESSAGE given");
        return client_authenticate(ctx, cred, step);
    default:
        return SEC_E_INTERNAL_ERROR;
    }
}

/* ---- Server (MS-NLMP 3.2.5) ---------------------------------------------------- */

static int
append_name(struct buf *info, enum ntlm_av_id id, const char *name)
{
    struct buf u16;
    int err;

    buf_init(&u16, 1024);
    err = ntlm_text_to_utf16(name, strlen(name), false, &u16);
    if (err == GH_OK)
        err = ntlm_av_append(info, id, u16.data, u16.len);
    buf_free(&u16);
    return err;
}

static SECURITY_STATUS
server_challenge(struct ntlm_ctx *ctx, const struct ntlm_cred *cred, struct sspi_step *step)
{
    struct ntlm_negotiate neg;
    struct ntlm_challenge chal = {0};
    struct buf info, target;
    SECURITY_STATUS st;
    int err;

    buf_init(&info, 2048);
    buf_init(&target, 512);
    st = ntlm_msg_decode_negotiate(step->in_token, &neg);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "malformed NEGOTIATE_MESSAGE");
        goto cleanup;
    }
    if (buf_append(&ctx->negotiate, step->in_token.ptr, step->in_token.len) != GH_OK) {
        st = fail(ctx, step, SEC_E_INSUFFICIENT_MEMORY, "out of memory");
        goto cleanup;
    }
    /* We always answer in Unicode, even to OEM-only clients such as curl,
     * which then switch to Unicode (2.2.2.5: the server chooses). */
    ctx->flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_NTLM |
                 NTLMSSP_NEGOTIATE_TARGET_INFO | (neg.flags & SERVER_ECHO_FLAGS);
    if (neg.flags & NTLMSSP_REQUEST_TARGET)
        ctx->flags |= NTLMSSP_REQUEST_TARGET | NTLMSSP_TARGET_TYPE_DOMAIN;
    if (!(ctx->flags & NTLMSSP_NEGOTIATE_128) && !(ctx->flags & NTLMSSP_NEGOTIATE_56))
        ctx->flags &= ~NTLMSSP_NEGOTIATE_SEAL; /* no 40-bit sealing */

    st = random_or_fixed(ctx->server_challenge, 8, ctx->fixed.has_server_challenge,
                         ctx->fixed.server_challenge, true);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "no randomness");
        goto cleanup;
    }
    err = append_name(&info, MSV_AV_NB_DOMAIN_NAME, cred->nb_domain);
    if (err == GH_OK)
        err = append_name(&info, MSV_AV_NB_COMPUTER_NAME, cred->nb_computer);
    if (err == GH_OK && cred->dns_domain[0] != '\0')
        err = append_name(&info, MSV_AV_DNS_DOMAIN_NAME, cred->dns_domain);
    if (err == GH_OK)
        err = append_name(&info, MSV_AV_DNS_COMPUTER_NAME, cred->dns_computer);
    /* A timestamp obliges the client to send a MIC (3.1.5.1.2). */
    if (err == GH_OK)
        err = ntlm_av_append_u64(&info, MSV_AV_TIMESTAMP, now_filetime(ctx));
    if (err == GH_OK)
        err = ntlm_av_append(&info, MSV_AV_EOL, NULL, 0);
    if (err == GH_OK && (ctx->flags & NTLMSSP_REQUEST_TARGET))
        err = ntlm_text_to_utf16(cred->nb_domain, strlen(cred->nb_domain), false, &target);
    if (err != GH_OK) {
        st = fail(ctx, step, gh_to_status(err), "cannot build TargetInfo");
        goto cleanup;
    }
    chal.flags = ctx->flags;
    memcpy(chal.server_challenge, ctx->server_challenge, 8);
    chal.target_name = buf_slice(&target);
    chal.target_info = buf_slice(&info);
    chal.has_version = (ctx->flags & NTLMSSP_NEGOTIATE_VERSION) != 0;
    memcpy(chal.version, ntlm_our_version, NTLM_VERSION_LEN);
    st = ntlm_msg_encode_challenge(&chal, &ctx->challenge);
    if (st == SEC_E_OK &&
        buf_append(&step->out_token, ctx->challenge.data, ctx->challenge.len) != GH_OK)
        st = SEC_E_INSUFFICIENT_MEMORY;
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "cannot encode CHALLENGE");
        goto cleanup;
    }
    ctx->start_unix = (int64_t)time(NULL);
    ctx->state = NTLM_STATE_CHALLENGE_SENT;
    step->attrs_out = context_attrs(ctx, step->req_flags);
    st = SEC_I_CONTINUE_NEEDED;
cleanup:
    buf_free(&info);
    buf_free(&target);
    return st;
}

/* OEM strings (no NEGOTIATE_UNICODE): accept ASCII only, widened to UTF-16LE. */
static int
to_utf16(struct slice s, bool is_unicode, struct buf *out)
{
    if (is_unicode)
        return ntlm_text_utf16_copy(s, false, out);
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == 0 || s.ptr[i] >= 0x80)
            return GH_EPROTO;
    }
    return ntlm_text_to_utf16((const char *)s.ptr, s.len, false, out);
}

static bool
is_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

static char *
strdup_or_null(const char *s, bool *oom)
{
    char *d = s != NULL ? strdup(s) : NULL;

    if (s != NULL && d == NULL)
        *oom = true;
    return d;
}

/* The authenticated client's names and groups, moved out of the back end's
 * answer into the context (the token is made from them on first use). */
static SECURITY_STATUS
take_identity(struct ntlm_ctx *ctx, const struct ntlm_cred *cred, struct ntlm_logon_result *who)
{
    const char *domain = who->domain != NULL ? who->domain : cred->nb_domain;
    size_t name_len = strlen(domain) + strlen(who->user) + 2;
    bool oom = false;

    ctx->client_name = malloc(name_len);
    ctx->server_name = strdup_or_null(cred->nb_computer, &oom);
    ctx->user = strdup_or_null(who->user, &oom);
    ctx->domain = strdup_or_null(domain, &oom);
    ctx->principal = strdup_or_null(who->principal, &oom);
    ctx->local_account = strdup_or_null(who->local_account, &oom);
    ctx->user_sid = strdup_or_null(who->user_sid, &oom);
    if (oom || ctx->client_name == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    snprintf(ctx->client_name, name_len, "%s\\%s", domain, who->user);
    ctx->groups = who->groups; /* moved, with the SIDs */
    ctx->group_count = who->group_count;
    who->groups = NULL;
    who->group_count = 0;
    ctx->group_sids = who->group_sids;
    ctx->group_sid_attrs = who->group_sid_attrs;
    ctx->group_sid_count = who->group_sid_count;
    who->group_sids = NULL;
    who->group_sid_attrs = NULL;
    who->group_sid_count = 0;
    ctx->dns_domain = who->dns_domain;
    ctx->upn = who->upn;
    who->dns_domain = NULL;
    who->upn = NULL;
    ctx->lookup_names = (cred->acceptor_flags & GH_ACCEPTOR_GROUP_NAMES) != 0;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_context_token(struct ntlm_ctx *ctx, struct gh_token **token_out)
{
    *token_out = NULL;
    if (ctx->state != NTLM_STATE_DONE || ctx->is_client || ctx->user == NULL)
        return SEC_E_NO_CONTEXT;
    if (ctx->token == NULL) {
        struct sspi_token_info ti = {
            .user = ctx->user,
            .domain = ctx->domain,
            .principal = ctx->principal,
            .package = NTLMSP_NAME_A,
            .groups = (const char *const *)ctx->groups,
            .group_count = ctx->group_count,
            .local_account = ctx->local_account != NULL ? ctx->local_account : ctx->user,
            .user_sid = ctx->user_sid,
            .group_sids = (const char *const *)ctx->group_sids,
            .group_sid_attributes = ctx->group_sid_attrs,
            .group_sid_count = ctx->group_sid_count,
            .logon_domain = ctx->user_sid != NULL ? ctx->domain : NULL,
            .dns_domain = ctx->dns_domain,
            .upn = ctx->upn,
            .lookup_names = ctx->lookup_names,
            .logon_time = (time_t)ctx->start_unix};
        SECURITY_STATUS st = sspi_token_create(&ti, &ctx->token);
        if (st != SEC_E_OK)
            return st;
    }
    *token_out = ctx->token;
    return SEC_E_OK;
}

/* One accepted SPN against the client's MsvAvTargetName ("class/host", as the
 * client built it from the URL). ASCII case-insensitive, as Windows compares
 * SPNs; browsers add ":port" for a non-default port (Chromium), which we
 * ignore when the configured name has no port: the port does not change which
 * service the client meant to reach. */
static bool
target_name_matches(const char *client, const char *want)
{
    size_t n = strlen(want);
    const char *host = strchr(want, '/');

    if (strncasecmp(client, want, n) != 0)
        return false;
    if (client[n] == '\0')
        return true;
    if (client[n] != ':' || (host != NULL && strchr(host, ':') != NULL))
        return false;
    size_t digits = strspn(client + n + 1, "0123456789");
    return digits >= 1 && digits <= 5 && client[n + 1 + digits] == '\0';
}

/* Service binding (MS-NLMP 2.2.2.1 MsvAvTargetName; Windows' "SPN target name
 * validation"): without channel bindings, this is what tells an exchange meant
 * for us from one a victim started with another service and that was relayed
 * here. The name sits inside the NTLMv2 client challenge, so NTProofStr
 * already protects it: call this only for an authenticated client. */
static SECURITY_STATUS
check_target_name(const struct ntlm_cred *cred, struct slice target16, const char **why_out)
{
    char *client = NULL;
    bool ok = false;

    *why_out = NULL;
    if (cred->target_name_count == 0)
        return SEC_E_OK;
    if (target16.len == 0) {
        if (!(cred->acceptor_flags & GH_ACCEPTOR_REQUIRE_TARGET_NAME))
            return SEC_E_OK;
        *why_out = "the client named no target service (MsvAvTargetName required)";
        return SEC_E_BAD_BINDINGS;
    }
    int err = ntlm_text_from_utf16(target16, &client);
    if (err == GH_ENOMEM)
        return SEC_E_INSUFFICIENT_MEMORY;
    for (size_t i = 0; err == GH_OK && i < cred->target_name_count && !ok; i++)
        ok = target_name_matches(client, cred->target_names[i]);
    free(client);
    if (!ok) {
        *why_out = "the client's target name (MsvAvTargetName) is not one of our service names";
        return SEC_E_BAD_BINDINGS;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
server_verify(struct ntlm_ctx *ctx, const struct ntlm_cred *cred, struct sspi_step *step)
{
    struct ntlm_authenticate auth;
    struct ntlm_av_info info;
    struct ntlm_logon_result who = {0};
    struct buf user16, domain16, ws16;
    char *user = NULL, *domain = NULL, *workstation = NULL;
    uint8_t mic[16];
    SECURITY_STATUS st;

    buf_init(&user16, 1024);
    buf_init(&domain16, 1024);
    buf_init(&ws16, 1024);
    st = ntlm_msg_decode_authenticate(step->in_token, &auth);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "malformed AUTHENTICATE_MESSAGE");
        goto cleanup;
    }
    if (auth.user.len == 0 && auth.nt_response.len == 0) {
        st = fail(ctx, step, SEC_E_LOGON_DENIED, "anonymous logon refused");
        goto cleanup;
    }
    if (auth.nt_response.len == 24 || auth.nt_response.len == 0) {
        st = fail(ctx, step, SEC_E_LOGON_DENIED, "NTLMv1/LM response refused (NTLMv2 only)");
        goto cleanup;
    }
    if (auth.nt_response.len < 16 + CLIENT_CHALLENGE_FIXED_LEN) {
        st = fail(ctx, step, SEC_E_INVALID_TOKEN, "NTLMv2 response too short");
        goto cleanup;
    }
    struct slice temp = slice_make(auth.nt_response.ptr + 16, auth.nt_response.len - 16);
    if (temp.ptr[0] != 1 || temp.ptr[1] != 1) {
        st = fail(ctx, step, SEC_E_INVALID_TOKEN, "unknown NTLMv2 response version");
        goto cleanup;
    }
    st = ntlm_av_decode(
        slice_make(temp.ptr + CLIENT_CHALLENGE_FIXED_LEN, temp.len - CLIENT_CHALLENGE_FIXED_LEN),
        &info);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "malformed AV pairs in the NTLMv2 response");
        goto cleanup;
    }
    bool is_unicode = (auth.flags & NTLMSSP_NEGOTIATE_UNICODE) != 0;
    if (to_utf16(auth.user, is_unicode, &user16) != GH_OK ||
        to_utf16(auth.domain, is_unicode, &domain16) != GH_OK ||
        ntlm_text_from_utf16(buf_slice(&user16), &user) != GH_OK ||
        ntlm_text_from_utf16(buf_slice(&domain16), &domain) != GH_OK ||
        to_utf16(auth.workstation, is_unicode, &ws16) != GH_OK ||
        ntlm_text_from_utf16(buf_slice(&ws16), &workstation) != GH_OK) {
        st = fail(ctx, step, SEC_E_INVALID_TOKEN, "malformed user, domain or workstation name");
        goto cleanup;
    }
    uint32_t flags = auth.flags & ctx->flags;
    if ((flags & NTLMSSP_NEGOTIATE_KEY_EXCH) && auth.encrypted_session_key.len != 16) {
        st = fail(ctx, step, SEC_E_INVALID_TOKEN, "key exchange without a 16-byte key");
        goto cleanup;
    }

    /* The back end checks the proof and gives the SessionBaseKey. */
    struct ntlm_logon logon = {
        .server_challenge = ctx->server_challenge,
        .nt_response = auth.nt_response,
        .lm_response = auth.lm_response,
        .user = user,
        .domain = domain,
        .workstation = workstation != NULL ? workstation : "",
        .user16 = buf_slice(&user16),
        .domain16 = buf_slice(&domain16),
    };
    st = cred->backend->logon(cred->backend_state, &logon, &who, &step->error_detail,
                              &step->error_text);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "logon refused");
        goto cleanup;
    }

    /* The client is authenticated; now the integrity checks. KXKEY for
     * NTLMv2 is the SessionBaseKey (3.4.5.1). */
    if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH)
        st = ntlm_crypto_rc4k(who.session_base_key, auth.encrypted_session_key.ptr, 16,
                              ctx->exported_key);
    else
        memcpy(ctx->exported_key, who.session_base_key, 16);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "key exchange failed");
        goto cleanup;
    }
    if (info.has_flags && (info.flags & MSV_AV_FLAG_MIC_PRESENT)) {
        if (!auth.has_mic_field) {
            st =
                fail(ctx, step, SEC_E_LOGON_DENIED, "MsvAvFlags announces a MIC but none is there");
            goto cleanup;
        }
        st = ntlm_crypto_mic(ctx->exported_key, buf_slice(&ctx->negotiate),
                             buf_slice(&ctx->challenge), step->in_token,
                             NTLM_AUTHENTICATE_MIC_OFFSET, mic);
        if (st != SEC_E_OK) {
            fail(ctx, step, st, "MIC computation failed");
            goto cleanup;
        }
        if (!secret_memeq(mic, auth.mic, 16)) {
            st = fail(ctx, step, SEC_E_LOGON_DENIED, "MIC mismatch: the handshake was altered");
            goto cleanup;
        }
        ctx->has_mic = true;
    }
    /* Extended Protection (MS-NLMP 3.2.5.1.2): with bindings given, a client
     * that sent none (no MsvAvChannelBindings, or all zeros) is refused unless
     * the application allows it (ASC_REQ_ALLOW_MISSING_BINDINGS, the "when
     * supported" policy). */
    if (step->bindings.len > 0 && (!info.has_bindings || is_zero(info.bindings, 16))) {
        if (!(step->req_flags & ASC_REQ_ALLOW_MISSING_BINDINGS)) {
            step->error_detail = GH_SEC_DETAIL_NO_BINDINGS;
            st = fail(ctx, step, SEC_E_BAD_BINDINGS, "the client sent no channel bindings");
            goto cleanup;
        }
    } else if (step->bindings.len > 0) {
        uint8_t cb_hash[16];
        st = ntlm_crypto_bindings_hash(step->bindings, cb_hash);
        if (st == SEC_E_OK && !secret_memeq(cb_hash, info.bindings, 16))
            st = SEC_E_BAD_BINDINGS;
        if (st != SEC_E_OK) {
            if (st == SEC_E_BAD_BINDINGS)
                step->error_detail = GH_SEC_DETAIL_BINDINGS_MISMATCH;
            fail(ctx, step, st, "channel bindings do not match");
            goto cleanup;
        }
    }
    const char *why = NULL;
    st = check_target_name(cred, info.target_name, &why);
    if (st != SEC_E_OK) {
        if (st == SEC_E_BAD_BINDINGS)
            step->error_detail = info.target_name.len == 0 ? GH_SEC_DETAIL_NO_TARGET_NAME
                                                           : GH_SEC_DETAIL_TARGET_NAME;
        fail(ctx, step, st, why != NULL ? why : "out of memory");
        goto cleanup;
    }
    uint64_t ts = 0;
    for (size_t i = 0; i < 8; i++)
        ts |= (uint64_t)temp.ptr[8 + i] << (8 * i);
    uint64_t now = now_filetime(ctx);
    uint64_t skew = ts > now ? ts - now : now - ts;
    if (skew > (uint64_t)MAX_CLOCK_SKEW_SECONDS * FILETIME_PER_SECOND) {
        st = fail(ctx, step, SEC_E_TIME_SKEW, "NTLMv2 timestamp too far from our clock");
        goto cleanup;
    }

    ctx->flags = flags;
    st = take_identity(ctx, cred, &who);
    if (st != SEC_E_OK) {
        fail(ctx, step, st, "out of memory");
        goto cleanup;
    }
    st = finish_session(ctx, step);
    if (st != SEC_E_OK)
        fail(ctx, step, st, "cannot set up session security");
cleanup:
    ntlm_logon_result_free(&who);
    buf_free(&user16);
    buf_free(&domain16);
    buf_free(&ws16);
    free(user);
    free(domain);
    free(workstation);
    return st;
}

SECURITY_STATUS
ntlm_context_accept(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct ntlm_cred *cred = pkg_cred;
    struct ntlm_ctx *ctx = *pkg_ctx;
    uint32_t type = ntlm_msg_type(step->in_token);

    if (cred == NULL || !cred->is_inbound)
        return SEC_E_NO_CREDENTIALS;
    if (ctx == NULL) {
        ctx = ntlm_context_new(false);
        if (ctx == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        *pkg_ctx = ctx;
    }
    if (ctx->is_client)
        return SEC_E_INVALID_HANDLE;
    /* A new NEGOTIATE on a finished or failed context starts over (a second
     * handshake on a keep-alive connection). */
    if ((ctx->state == NTLM_STATE_DONE || ctx->state == NTLM_STATE_FAILED) &&
        type == NTLM_MSG_NEGOTIATE)
        reset(ctx);
    switch (ctx->state) {
    case NTLM_STATE_START:
        if (type != NTLM_MSG_NEGOTIATE)
            return fail(ctx, step, SEC_E_INVALID_TOKEN, "expected a NEGOTIATE_MESSAGE");
        return server_challenge(ctx, cred, step);
    case NTLM_STATE_CHALLENGE_SENT:
        if (type != NTLM_MSG_AUTHENTICATE)
            return fail(ctx, step, SEC_E_INVALID_TOKEN, "expected an AUTHENTICATE_MESSAGE");
        return server_verify(ctx, cred, step);
    default:
        return fail(ctx, step, SEC_E_INVALID_TOKEN, "context already complete");
    }
}
