// SPDX-License-Identifier: MIT
// Per-message protection for Kerberos contexts (RFC 4121 4.2) through the
// GSSAPI IOV calls, so SSPI's buffer layout maps without copying:
//   MakeSignature / VerifySignature: SECBUFFER_DATA... + SECBUFFER_TOKEN (the MIC)
//   EncryptMessage / DecryptMessage: SECBUFFER_TOKEN (header; MIT places the
//     trailer there too, rotated, as Windows does) + SECBUFFER_DATA... (in place)
//     + optional SECBUFFER_PADDING.
// Read-only data buffers are integrity-protected but not encrypted (SIGN_ONLY).
// MessageSeqNo is ignored: Kerberos keeps its own sequence numbers.
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include <gatehouse/sspi.h>

#include "sspi/kerberos/krb_internal.h"

#define MAX_IOV 16

static SECURITY_STATUS
ready(struct krb_ctx *ctx)
{
    if (ctx == NULL || !ctx->is_complete)
        return SEC_E_NO_CONTEXT;
    return krb_ctx_live(ctx);
}

/* Builds the IOV array from msg: token_type is what SECBUFFER_TOKEN becomes.
 * *token_out is the token buffer. SEC_E_INVALID_TOKEN when there is none. */
static SECURITY_STATUS
build_iov(PSecBufferDesc msg, int token_type, gss_iov_buffer_desc *iov, size_t *count_out,
          PSecBuffer *token_out, size_t *token_index_out)
{
    size_t n = 0;
    PSecBuffer token = NULL;

    if (msg == NULL || msg->pBuffers == NULL)
        return SEC_E_INVALID_TOKEN;
    for (unsigned long i = 0; i < msg->cBuffers; i++) {
        PSecBuffer b = &msg->pBuffers[i];
        unsigned long type = b->BufferType & ~SECBUFFER_ATTRMASK;
        int iov_type;

        if (type == SECBUFFER_TOKEN && token == NULL) {
            token = b;
            *token_index_out = n;
            iov_type = token_type;
        } else if (type == SECBUFFER_DATA) {
            iov_type = (b->BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM))
                           ? GSS_IOV_BUFFER_TYPE_SIGN_ONLY
                           : GSS_IOV_BUFFER_TYPE_DATA;
        } else if (type == SECBUFFER_PADDING && token_type == GSS_IOV_BUFFER_TYPE_HEADER) {
            iov_type = GSS_IOV_BUFFER_TYPE_PADDING;
        } else {
            continue;
        }
        if (n == MAX_IOV)
            return SEC_E_INVALID_TOKEN;
        if (b->cbBuffer > 0 && b->pvBuffer == NULL)
            return SEC_E_INVALID_TOKEN;
        iov[n].type = (OM_uint32)iov_type;
        iov[n].buffer.length = b->cbBuffer;
        iov[n].buffer.value = b->pvBuffer;
        n++;
    }
    if (token == NULL)
        return SEC_E_INVALID_TOKEN;
    *token_out = token;
    *count_out = n;
    return SEC_E_OK;
}

SECURITY_STATUS
krb_make_signature(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct krb_ctx *ctx = pkg_ctx;
    gss_iov_buffer_desc iov[MAX_IOV];
    size_t n = 0, ti = 0;
    PSecBuffer token = NULL;
    OM_uint32 major, minor;
    SECURITY_STATUS st;

    (void)seq_no;
    st = ready(ctx);
    if (st == SEC_E_OK)
        st = build_iov(msg, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, iov, &n, &token, &ti);
    if (st != SEC_E_OK)
        return st;
    if (qop != 0)
        return SEC_E_QOP_NOT_SUPPORTED;
    /* Data buffers are only read; SIGN_ONLY and DATA are the same for a MIC. */
    major = gss_get_mic_iov_length(&minor, ctx->gss, GSS_C_QOP_DEFAULT, iov, (int)n);
    if (GSS_ERROR(major))
        return krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_get_mic_iov_length",
                             NULL);
    if (iov[ti].buffer.length > token->cbBuffer)
        return SEC_E_BUFFER_TOO_SMALL;
    iov[ti].buffer.value = token->pvBuffer;
    major = gss_get_mic_iov(&minor, ctx->gss, GSS_C_QOP_DEFAULT, iov, (int)n);
    if (GSS_ERROR(major))
        return krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_get_mic_iov", NULL);
    token->cbBuffer = (unsigned long)iov[ti].buffer.length;
    return SEC_E_OK;
}

static SECURITY_STATUS
map_verify(struct krb_ctx *ctx, OM_uint32 major, OM_uint32 minor, const char *what)
{
    if (GSS_ROUTINE_ERROR(major) == GSS_S_BAD_SIG ||
        GSS_ROUTINE_ERROR(major) == GSS_S_DEFECTIVE_TOKEN)
        return SEC_E_MESSAGE_ALTERED;
    if (major & (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN))
        return SEC_E_OUT_OF_SEQUENCE;
    SECURITY_STATUS st = krb_map_error(major, minor, !ctx->is_acceptor, false, what, NULL);
    return st == SEC_E_INVALID_TOKEN ? SEC_E_MESSAGE_ALTERED : st;
}

SECURITY_STATUS
krb_verify_signature(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no,
                     unsigned long *qop_out)
{
    struct krb_ctx *ctx = pkg_ctx;
    gss_iov_buffer_desc iov[MAX_IOV];
    size_t n = 0, ti = 0;
    PSecBuffer token = NULL;
    gss_qop_t qop = 0;
    OM_uint32 major, minor;
    SECURITY_STATUS st;

    (void)seq_no;
    st = ready(ctx);
    if (st == SEC_E_OK)
        st = build_iov(msg, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, iov, &n, &token, &ti);
    if (st != SEC_E_OK)
        return st;
    major = gss_verify_mic_iov(&minor, ctx->gss, &qop, iov, (int)n);
    if (major != GSS_S_COMPLETE)
        return map_verify(ctx, major, minor, "gss_verify_mic_iov");
    if (qop_out != NULL)
        *qop_out = 0;
    return SEC_E_OK;
}

SECURITY_STATUS
krb_encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct krb_ctx *ctx = pkg_ctx;
    gss_iov_buffer_desc iov[MAX_IOV];
    size_t n = 0, ti = 0;
    PSecBuffer token = NULL;
    OM_uint32 major, minor;
    int conf_req, conf_state = 0;
    SECURITY_STATUS st;

    (void)seq_no;
    st = ready(ctx);
    if (st == SEC_E_OK)
        st = build_iov(msg, GSS_IOV_BUFFER_TYPE_HEADER, iov, &n, &token, &ti);
    if (st != SEC_E_OK)
        return st;
    if (qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
        return SEC_E_QOP_NOT_SUPPORTED;
    conf_req = qop == SECQOP_WRAP_NO_ENCRYPT ? 0 : 1;
    major = gss_wrap_iov_length(&minor, ctx->gss, conf_req, GSS_C_QOP_DEFAULT, NULL, iov, (int)n);
    if (GSS_ERROR(major))
        return krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_wrap_iov_length", NULL);
    if (iov[ti].buffer.length > token->cbBuffer)
        return SEC_E_BUFFER_TOO_SMALL;
    iov[ti].buffer.value = token->pvBuffer;
    for (size_t i = 0; i < n; i++) {
        if (iov[i].type == GSS_IOV_BUFFER_TYPE_PADDING) {
            PSecBuffer pad = NULL;
            for (unsigned long j = 0; j < msg->cBuffers; j++) {
                if ((msg->pBuffers[j].BufferType & ~SECBUFFER_ATTRMASK) == SECBUFFER_PADDING)
                    pad = &msg->pBuffers[j];
            }
            if (pad == NULL || iov[i].buffer.length > pad->cbBuffer)
                return SEC_E_BUFFER_TOO_SMALL;
            iov[i].buffer.value = pad->pvBuffer;
            pad->cbBuffer = (unsigned long)iov[i].buffer.length;
        }
    }
    major = gss_wrap_iov(&minor, ctx->gss, conf_req, GSS_C_QOP_DEFAULT, &conf_state, iov, (int)n);
    if (GSS_ERROR(major))
        return krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_wrap_iov", NULL);
    token->cbBuffer = (unsigned long)iov[ti].buffer.length;
    return SEC_E_OK;
}

SECURITY_STATUS
krb_decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out)
{
    struct krb_ctx *ctx = pkg_ctx;
    gss_iov_buffer_desc iov[MAX_IOV];
    size_t n = 0, ti = 0;
    PSecBuffer token = NULL;
    OM_uint32 major, minor;
    int conf_state = 0;
    gss_qop_t qop = 0;
    SECURITY_STATUS st;

    (void)seq_no;
    st = ready(ctx);
    if (st == SEC_E_OK)
        st = build_iov(msg, GSS_IOV_BUFFER_TYPE_HEADER, iov, &n, &token, &ti);
    if (st != SEC_E_OK)
        return st;
    major = gss_unwrap_iov(&minor, ctx->gss, &conf_state, &qop, iov, (int)n);
    if (major != GSS_S_COMPLETE)
        return map_verify(ctx, major, minor, "gss_unwrap_iov");
    if (qop_out != NULL)
        *qop_out = conf_state ? 0 : SECQOP_WRAP_NO_ENCRYPT;
    return SEC_E_OK;
}

SECURITY_STATUS
krb_message_sizes(struct krb_ctx *ctx, unsigned long *max_sig_out, unsigned long *trailer_out)
{
    gss_iov_buffer_desc mic[2] = {{GSS_IOV_BUFFER_TYPE_DATA, {0, NULL}},
                                  {GSS_IOV_BUFFER_TYPE_MIC_TOKEN, {0, NULL}}};
    gss_iov_buffer_desc wrap[2] = {{GSS_IOV_BUFFER_TYPE_HEADER, {0, NULL}},
                                   {GSS_IOV_BUFFER_TYPE_DATA, {0, NULL}}};
    OM_uint32 major, minor;

    if (ready(ctx) != SEC_E_OK)
        return SEC_E_NO_CONTEXT;
    major = gss_get_mic_iov_length(&minor, ctx->gss, GSS_C_QOP_DEFAULT, mic, 2);
    if (GSS_ERROR(major))
        return SEC_E_INTERNAL_ERROR;
    major = gss_wrap_iov_length(&minor, ctx->gss, 1, GSS_C_QOP_DEFAULT, NULL, wrap, 2);
    if (GSS_ERROR(major))
        return SEC_E_INTERNAL_ERROR;
    *max_sig_out = (unsigned long)mic[1].buffer.length;
    *trailer_out = (unsigned long)wrap[0].buffer.length;
    return SEC_E_OK;
}
