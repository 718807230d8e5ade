// SPDX-License-Identifier: MIT
// The NTLM package descriptor and its per-context entry points: attribute
// queries, message signing/sealing, and the helpers SPNEGO needs.
#include "sspi/ntlm/ntlm.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/token.h>

#include "base/reader.h"
#include "base/secret.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/msg.h"
#include "sspi/packed.h"

static struct ntlm_ctx *
complete(void *pkg_ctx)
{
    struct ntlm_ctx *ctx = pkg_ctx;
    return (ctx != NULL && ctx->state == NTLM_STATE_DONE) ? ctx : NULL;
}

static SECURITY_STATUS
dup_string(const char *s, SEC_CHAR **out)
{
    *out = sspi_strdup(s != NULL ? s : "");
    return *out == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}

static SECURITY_STATUS
query_ctx(void *pkg_ctx, unsigned long attribute, void *buffer)
{
    struct ntlm_ctx *ctx = pkg_ctx;
    struct ntlm_ctx *done = complete(pkg_ctx);

    if (ctx == NULL || buffer == NULL)
        return SEC_E_INVALID_HANDLE;
    switch (attribute) {
    case SECPKG_ATTR_SIZES: {
        SecPkgContext_Sizes *s = buffer;
        s->cbMaxToken = NTLM_MAX_MESSAGE_LEN;
        s->cbMaxSignature = NTLM_SIGNATURE_LEN;
        s->cbBlockSize = 0;
        s->cbSecurityTrailer = NTLM_SIGNATURE_LEN;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_FLAGS:
        ((SecPkgContext_Flags *)buffer)->Flags = ctx->attrs;
        return SEC_E_OK;
    case SECPKG_ATTR_LIFESPAN: {
        SecPkgContext_Lifespan *l = buffer;
        uint64_t start = ntlm_filetime_from_unix(ctx->start_unix);
        l->tsStart = (TimeStamp){(uint32_t)start, (int32_t)(start >> 32)};
        l->tsExpiry = (TimeStamp){0xFFFFFFFFu, 0x7FFFFFFF};
        return SEC_E_OK;
    }
    case SECPKG_ATTR_NAMES:
        if (done == NULL)
            return SEC_E_NO_CONTEXT;
        return dup_string(done->client_name, &((SecPkgContext_NamesA *)buffer)->sUserName);
    case SECPKG_ATTR_NATIVE_NAMES: {
        SecPkgContext_NativeNamesA *n = buffer;
        if (done == NULL)
            return SEC_E_NO_CONTEXT;
        SECURITY_STATUS st = dup_string(done->client_name, &n->sClientName);
        if (st != SEC_E_OK)
            return st;
        return dup_string(done->server_name, &n->sServerName);
    }
    case SECPKG_ATTR_SESSION_KEY: {
        SecPkgContext_SessionKey *k = buffer;
        if (done == NULL)
            return SEC_E_NO_CONTEXT;
        k->SessionKey = sspi_alloc(16);
        if (k->SessionKey == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        memcpy(k->SessionKey, done->exported_key, 16);
        k->SessionKeyLength = 16;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_ACCESS_TOKEN: {
        struct gh_token *token = NULL;
        if (done == NULL)
            return SEC_E_NO_CONTEXT;
        SECURITY_STATUS st = ntlm_context_token(done, &token);
        ((SecPkgContext_AccessToken *)buffer)->AccessToken = token; /* borrowed */
        return st;
    }
    case SECPKG_ATTR_PACKAGE_INFO:
        ((SecPkgContext_PackageInfoA *)buffer)->PackageInfo = sspi_package_info_dup(&ntlm_package);
        return ((SecPkgContext_PackageInfoA *)buffer)->PackageInfo == NULL
                   ? SEC_E_INSUFFICIENT_MEMORY
                   : SEC_E_OK;
    case SECPKG_ATTR_NEGOTIATION_INFO: {
        SecPkgContext_NegotiationInfoA *n = buffer;
        n->PackageInfo = sspi_package_info_dup(&ntlm_package);
        n->NegotiationState =
            done != NULL ? SECPKG_NEGOTIATION_COMPLETE : SECPKG_NEGOTIATION_IN_PROGRESS;
        return n->PackageInfo == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
    }
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

/* A new reference to the acceptor's token (the initiator has none). */
static SECURITY_STATUS
query_token(void *pkg_ctx, struct gh_token **token_out)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    struct gh_token *token = NULL;

    *token_out = NULL;
    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    SECURITY_STATUS st = ntlm_context_token(ctx, &token);
    if (st == SEC_E_OK)
        *token_out = gh_token_dup(token);
    return st;
}

/* Connection-oriented NTLM keeps its own sequence numbers; seq_no is ignored
 * (Windows does the same outside datagram mode). */
static SECURITY_STATUS
make_signature(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    (void)seq_no;
    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    if (qop != 0)
        return SEC_E_QOP_NOT_SUPPORTED;
    return ntlm_session_make_signature(&ctx->session, msg);
}

static SECURITY_STATUS
verify_signature(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    (void)seq_no;
    if (qop_out != NULL)
        *qop_out = 0;
    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    return ntlm_session_verify_signature(&ctx->session, msg);
}

static SECURITY_STATUS
encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    (void)seq_no;
    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    return ntlm_session_encrypt(&ctx->session, qop, msg);
}

static SECURITY_STATUS
decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    (void)seq_no;
    if (qop_out != NULL)
        *qop_out = 0;
    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    return ntlm_session_decrypt(&ctx->session, msg);
}

/* ---- Packed contexts ------------------------------------------------------
 * Our own state, version 1 (sspi/packed.h encodings):
 *   u8 version  u8 is_client  u32 flags  u32 attrs  u8 has_mic
 *   16 bytes exported session key  u64 start (Unix seconds)
 *   u8 has_session  u32 seq[SEND]  u32 seq[RECV]  u64 rc4_bytes[SEND]  u64 rc4_bytes[RECV]
 *   str client_name  str user  str domain  str server_name
 *   u32 group_count  str group...
 *   (version 2:) str principal  str local_account  str user_sid  str dns_domain  str upn
 *   u8 lookup_names  u32 group_sid_count  (str sid  u32 attributes)...
 * The four signing/sealing keys are derived again from the session key; the
 * RC4 handles are run forward to where they were (ntlm_session_restore).
 * Version 1 (no domain identity) is still read. */
#define PACKED_NTLM_VERSION 2
#define PACKED_MAX_GROUPS   4096

static SECURITY_STATUS
export_ctx(void *pkg_ctx, struct buf *out)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);
    SECURITY_STATUS st;

    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    const struct ntlm_session *s = &ctx->session;
    if (s->is_ready && (s->dir[0].rc4_bytes > NTLM_SESSION_MAX_SKIP ||
                        s->dir[1].rc4_bytes > NTLM_SESSION_MAX_SKIP))
        return SEC_E_UNSUPPORTED_FUNCTION; /* too far along to be replayed on import */
    st = packed_put_u8(out, PACKED_NTLM_VERSION);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, ctx->is_client ? 1 : 0);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, ctx->flags);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, (uint32_t)ctx->attrs);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, ctx->has_mic ? 1 : 0);
    if (st == SEC_E_OK && buf_append(out, ctx->exported_key, 16) != GH_OK)
        st = SEC_E_INSUFFICIENT_MEMORY;
    if (st == SEC_E_OK)
        st = packed_put_u64(out, (uint64_t)ctx->start_unix);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, s->is_ready ? 1 : 0);
    for (int d = 0; d < 2 && st == SEC_E_OK; d++)
        st = packed_put_u32(out, s->dir[d].seq);
    for (int d = 0; d < 2 && st == SEC_E_OK; d++)
        st = packed_put_u64(out, s->dir[d].rc4_bytes);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->client_name);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->user);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->domain);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->server_name);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, (uint32_t)ctx->group_count);
    for (size_t i = 0; i < ctx->group_count && st == SEC_E_OK; i++)
        st = packed_put_str(out, ctx->groups[i]);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->principal);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->local_account);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->user_sid);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->dns_domain);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->upn);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, ctx->lookup_names ? 1 : 0);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, (uint32_t)ctx->group_sid_count);
    for (size_t i = 0; i < ctx->group_sid_count && st == SEC_E_OK; i++) {
        st = packed_put_str(out, ctx->group_sids[i]);
        if (st == SEC_E_OK)
            st = packed_put_u32(out, ctx->group_sid_attrs[i]);
    }
    return st;
}

/* Version 2's domain identity (see the layout above). False when malformed
 * or out of memory (*oom says which). */
static bool
import_domain_identity(struct reader *rd, struct ntlm_ctx *ctx, bool *oom)
{
    if (!(packed_get_str(rd, &ctx->principal, oom) &&
          packed_get_str(rd, &ctx->local_account, oom) && packed_get_str(rd, &ctx->user_sid, oom) &&
          packed_get_str(rd, &ctx->dns_domain, oom) && packed_get_str(rd, &ctx->upn, oom)))
        return false;
    ctx->lookup_names = reader_u8(rd) != 0;
    uint32_t n = reader_u32le(rd);
    if (rd->failed || n > PACKED_MAX_GROUPS)
        return false;
    if (n == 0)
        return true;
    ctx->group_sids = calloc(n, sizeof(char *));
    ctx->group_sid_attrs = calloc(n, sizeof(uint32_t));
    if (ctx->group_sids == NULL || ctx->group_sid_attrs == NULL) {
        *oom = true;
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!packed_get_str(rd, &ctx->group_sids[i], oom) || ctx->group_sids[i] == NULL)
            return false;
        ctx->group_sid_count = i + 1;
        ctx->group_sid_attrs[i] = reader_u32le(rd);
    }
    return !rd->failed;
}

static SECURITY_STATUS
import_ctx(struct slice in, void **pkg_ctx_out)
{
    struct reader rd = reader_make(in);
    struct ntlm_ctx *ctx = NULL;
    uint32_t seq[2];
    uint64_t rc4_bytes[2];
    bool has_session, oom = false, ok;
    SECURITY_STATUS st = SEC_E_INVALID_TOKEN;

    *pkg_ctx_out = NULL;
    uint8_t version = reader_u8(&rd);
    if (version != 1 && version != PACKED_NTLM_VERSION)
        return SEC_E_INVALID_TOKEN;
    uint8_t is_client = reader_u8(&rd);
    if (rd.failed || is_client > 1)
        return SEC_E_INVALID_TOKEN;
    ctx = ntlm_context_new(is_client == 1);
    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    ctx->flags = reader_u32le(&rd);
    ctx->attrs = reader_u32le(&rd);
    ctx->has_mic = reader_u8(&rd) != 0;
    reader_copy(&rd, ctx->exported_key, 16);
    ctx->start_unix = (int64_t)reader_u64le(&rd);
    has_session = reader_u8(&rd) != 0;
    for (int d = 0; d < 2; d++)
        seq[d] = reader_u32le(&rd);
    for (int d = 0; d < 2; d++)
        rc4_bytes[d] = reader_u64le(&rd);
    ok = packed_get_str(&rd, &ctx->client_name, &oom) && packed_get_str(&rd, &ctx->user, &oom) &&
         packed_get_str(&rd, &ctx->domain, &oom) && packed_get_str(&rd, &ctx->server_name, &oom);
    uint32_t n = ok ? reader_u32le(&rd) : 0;
    if (!ok || rd.failed || n > PACKED_MAX_GROUPS)
        goto cleanup;
    if (n > 0) {
        ctx->groups = calloc(n, sizeof(*ctx->groups));
        if (ctx->groups == NULL) {
            oom = true;
            goto cleanup;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!packed_get_str(&rd, &ctx->groups[i], &oom) || ctx->groups[i] == NULL)
            goto cleanup;
        ctx->group_count = i + 1;
    }
    if (version >= 2 && !import_domain_identity(&rd, ctx, &oom))
        goto cleanup;
    if (rd.left != 0 || (!ctx->is_client && ctx->user == NULL))
        goto cleanup;
    if (has_session) {
        st = ntlm_session_init(&ctx->session, ctx->exported_key, ctx->flags, ctx->is_client);
        if (st == SEC_E_OK)
            st = ntlm_session_restore(&ctx->session, rc4_bytes, seq);
        if (st != SEC_E_OK)
            goto cleanup;
    }
    ctx->state = NTLM_STATE_DONE;
    *pkg_ctx_out = ctx;
    ctx = NULL;
    st = SEC_E_OK;
cleanup:
    if (oom)
        st = SEC_E_INSUFFICIENT_MEMORY;
    ntlm_context_delete(ctx);
    return st;
}

const struct sspi_package ntlm_package = {
    .name = NTLMSP_NAME_A,
    .comment = "NTLM Security Package",
    /* Windows' NTLM capabilities (0x82B37). */
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_TOKEN_ONLY |
                    SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED |
                    SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME |
                    SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_LOGON | SECPKG_FLAG_RESTRICTED_TOKENS,
    .version = 1,
    .rpc_id = 10, /* RPC_C_AUTHN_WINNT */
    .max_token_bytes = NTLM_MAX_MESSAGE_LEN,
    .acquire_cred = ntlm_cred_acquire,
    .free_cred = ntlm_cred_free,
    .query_cred = ntlm_cred_query,
    .init_ctx = ntlm_context_init,
    .accept_ctx = ntlm_context_accept,
    .complete_token = NULL,
    .delete_ctx = ntlm_context_delete,
    .query_ctx = query_ctx,
    .query_token = query_token,
    .export_ctx = export_ctx,
    .import_ctx = import_ctx,
    .make_signature = make_signature,
    .verify_signature = verify_signature,
    .encrypt = encrypt,
    .decrypt = decrypt,
};

/* ---- Helpers for Negotiate ---------------------------------------------------- */

bool
ntlm_ctx_is_complete(const void *pkg_ctx)
{
    return complete((void *)pkg_ctx) != NULL;
}

bool
ntlm_ctx_has_mic(const void *pkg_ctx)
{
    const struct ntlm_ctx *ctx = pkg_ctx;
    return ctx != NULL && ctx->has_mic;
}

SECURITY_STATUS
ntlm_ctx_session_key(const void *pkg_ctx, uint8_t key_out[16])
{
    const struct ntlm_ctx *ctx = complete((void *)pkg_ctx);

    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    memcpy(key_out, ctx->exported_key, 16);
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_ctx_sign(void *pkg_ctx, int dir, struct slice data, uint8_t sig_out[16])
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    if (dir != NTLM_DIR_SEND && dir != NTLM_DIR_RECV)
        return SEC_E_INVALID_PARAMETER;
    return ntlm_session_sign(&ctx->session, (enum ntlm_dir)dir, &data, 1, sig_out);
}

SECURITY_STATUS
ntlm_ctx_verify(void *pkg_ctx, int dir, struct slice data, const uint8_t sig[16])
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    if (dir != NTLM_DIR_SEND && dir != NTLM_DIR_RECV)
        return SEC_E_INVALID_PARAMETER;
    return ntlm_session_verify(&ctx->session, (enum ntlm_dir)dir, &data, 1, sig);
}

SECURITY_STATUS
ntlm_ctx_reset_rc4(void *pkg_ctx, bool reset_seq)
{
    struct ntlm_ctx *ctx = complete(pkg_ctx);

    if (ctx == NULL)
        return SEC_E_NO_CONTEXT;
    return ntlm_session_reset_rc4(&ctx->session, reset_seq);
}

void
ntlm_ctx_set_fixed_inputs(void *pkg_ctx, const struct ntlm_fixed_inputs *inputs)
{
    struct ntlm_ctx *ctx = pkg_ctx;

    if (ctx != NULL && inputs != NULL)
        ctx->fixed = *inputs;
}
