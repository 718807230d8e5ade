// SPDX-License-Identifier: MIT
// TLS records in SSPI buffers: framing (how much of the input is whole records,
// how much is missing: SECBUFFER_MISSING), and EncryptMessage / DecryptMessage
// with Windows' buffer layout (RFC 8446 5.1, RFC 5246 6.2). OpenSSL does the
// cryptography; exactly one record is fed to it per DecryptMessage, so the
// STREAM_HEADER / DATA / STREAM_TRAILER / EXTRA split is the record's own.
#include <string.h>

#include <openssl/err.h>

#include "sspi/internal.h"
#include "sspi/schannel/schannel.h"

#define TYPE_OF(b) ((b)->BufferType & ~SECBUFFER_ATTRMASK)

SECURITY_STATUS
sch_record_scan(const uint8_t *in, size_t len, size_t max_records, size_t *whole_out,
                size_t *missing_out)
{
    size_t pos = 0, records = 0;

    *whole_out = 0;
    *missing_out = 0;
    while (pos < len && (max_records == 0 || records < max_records)) {
        size_t have = len - pos, body;

        /* type: change_cipher_spec, alert, handshake, application_data */
        if (in[pos] < 20 || in[pos] > 23)
            return SEC_E_ILLEGAL_MESSAGE;
        if (have >= 2 && in[pos + 1] != 3)
            return SEC_E_ILLEGAL_MESSAGE;
        if (have >= 3 && in[pos + 2] > 4)
            return SEC_E_ILLEGAL_MESSAGE;
        if (have < SCH_RECORD_HEADER_BYTES) {
            *missing_out = SCH_RECORD_HEADER_BYTES - have;
            break;
        }
        body = ((size_t)in[pos + 3] << 8) | in[pos + 4];
        if (body == 0 || SCH_RECORD_HEADER_BYTES + body > SCH_MAX_RECORD_BYTES)
            return SEC_E_ILLEGAL_MESSAGE;
        if (have < SCH_RECORD_HEADER_BYTES + body) {
            *missing_out = SCH_RECORD_HEADER_BYTES + body - have;
            break;
        }
        pos += SCH_RECORD_HEADER_BYTES + body;
        records++;
    }
    *whole_out = pos;
    return SEC_E_OK;
}

void
sch_stream_sizes(const struct sch_ctx *ctx, SecPkgContext_StreamSizes *sizes_out)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(ctx->ssl);
    unsigned long trailer = 24; /* TLS 1.2 AES-GCM: 8-byte explicit nonce + 16-byte tag */

    if (SSL_version(ctx->ssl) >= TLS1_3_VERSION)
        trailer = 16 + 1; /* tag + the inner content type, no padding added */
    else if (c != NULL && SSL_CIPHER_get_cipher_nid(c) == NID_chacha20_poly1305)
        trailer = 16;
    *sizes_out = (SecPkgContext_StreamSizes){.cbHeader = SCH_RECORD_HEADER_BYTES,
                                             .cbTrailer = trailer,
                                             .cbMaximumMessage = 16384,
                                             .cBuffers = 4,
                                             .cbBlockSize = 16};
}

SECURITY_STATUS
sch_encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct sch_ctx *ctx = pkg_ctx;
    PSecBuffer header = sspi_buffer_find(msg, SECBUFFER_STREAM_HEADER),
               data = sspi_buffer_find(msg, SECBUFFER_DATA),
               trailer = sspi_buffer_find(msg, SECBUFFER_STREAM_TRAILER);
    uint8_t record[SCH_MAX_RECORD_BYTES];
    size_t len, rest;
    int n;

    (void)seq_no;
    if (qop != 0 && qop != SECQOP_WRAP_NO_ENCRYPT)
        return SEC_E_QOP_NOT_SUPPORTED;
    if (qop == SECQOP_WRAP_NO_ENCRYPT)
        return SEC_E_QOP_NOT_SUPPORTED; /* TLS always encrypts */
    if (!ctx->is_complete)
        return SEC_E_INVALID_HANDLE;
    if (ctx->is_close_sent || ctx->shutdown_pending)
        return SEC_E_CONTEXT_EXPIRED;
    if (header == NULL || data == NULL || trailer == NULL)
        return SEC_E_INVALID_TOKEN;
    if (data->cbBuffer > 16384)
        return SEC_E_INVALID_PARAMETER;
    if (data->cbBuffer == 0 || header->cbBuffer < SCH_RECORD_HEADER_BYTES)
        return data->cbBuffer == 0 ? SEC_E_INVALID_PARAMETER : SEC_E_BUFFER_TOO_SMALL;
    (void)BIO_reset(ctx->out); /* nothing may precede this record */
    n = SSL_write(ctx->ssl, data->pvBuffer, (int)data->cbBuffer);
    if (n != (int)data->cbBuffer) {
        ERR_clear_error();
        return SEC_E_ENCRYPT_FAILURE;
    }
    len = BIO_ctrl_pending(ctx->out);
    if (len > sizeof(record) || len < SCH_RECORD_HEADER_BYTES + data->cbBuffer) {
        (void)BIO_reset(ctx->out);
        return SEC_E_ENCRYPT_FAILURE;
    }
    if (BIO_read(ctx->out, record, (int)len) != (int)len)
        return SEC_E_ENCRYPT_FAILURE;
    rest = len - SCH_RECORD_HEADER_BYTES - data->cbBuffer;
    if (trailer->cbBuffer < rest || (rest > 0 && trailer->pvBuffer == NULL)) {
        OPENSSL_cleanse(record, len);
        return SEC_E_BUFFER_TOO_SMALL; /* the record is lost: the caller sized wrongly */
    }
    memcpy(header->pvBuffer, record, SCH_RECORD_HEADER_BYTES);
    header->cbBuffer = SCH_RECORD_HEADER_BYTES;
    memcpy(data->pvBuffer, record + SCH_RECORD_HEADER_BYTES, data->cbBuffer);
    if (rest > 0)
        memcpy(trailer->pvBuffer, record + SCH_RECORD_HEADER_BYTES + data->cbBuffer, rest);
    trailer->cbBuffer = rest;
    OPENSSL_cleanse(record, len);
    return SEC_E_OK;
}

/* The buffers DecryptMessage fills: the DATA buffer becomes STREAM_HEADER and
 * the first three other buffers DATA, STREAM_TRAILER and EXTRA, Windows'
 * order (callers index them). */
struct dec_bufs {
    PSecBuffer in;
    PSecBuffer slot[3];
};

static bool
dec_bufs_find(PSecBufferDesc msg, struct dec_bufs *b)
{
    size_t n = 0;

    *b = (struct dec_bufs){0};
    for (unsigned long i = 0; i < msg->cBuffers && i < SSPI_MAX_BUFFERS; i++) {
        PSecBuffer x = &msg->pBuffers[i];

        if (b->in == NULL && TYPE_OF(x) == SECBUFFER_DATA)
            b->in = x;
        else if (TYPE_OF(x) == SECBUFFER_EMPTY && n < 3)
            b->slot[n++] = x;
    }
    return b->in != NULL && n == 3;
}

static void
dec_bufs_set(struct dec_bufs *b, uint8_t *base, size_t header, size_t plain, size_t trailer,
             size_t extra)
{
    b->in->BufferType = SECBUFFER_STREAM_HEADER;
    b->in->pvBuffer = base;
    b->in->cbBuffer = header;
    b->slot[0]->BufferType = SECBUFFER_DATA;
    b->slot[0]->pvBuffer = base + header;
    b->slot[0]->cbBuffer = plain;
    b->slot[1]->BufferType = SECBUFFER_STREAM_TRAILER;
    b->slot[1]->pvBuffer = base + header + plain;
    b->slot[1]->cbBuffer = trailer;
    if (extra > 0) {
        b->slot[2]->BufferType = SECBUFFER_EXTRA;
        b->slot[2]->pvBuffer = base + header + plain + trailer;
        b->slot[2]->cbBuffer = extra;
    }
}

SECURITY_STATUS
sch_decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out)
{
    struct sch_ctx *ctx = pkg_ctx;
    struct dec_bufs b;
    uint8_t plain[16384 + 256];
    uint8_t *in;
    size_t len, whole = 0, missing = 0;
    SECURITY_STATUS status;
    int n, err;

    (void)seq_no;
    *qop_out = 0;
    if (!ctx->is_complete)
        return SEC_E_INVALID_HANDLE;
    if (!dec_bufs_find(msg, &b))
        return SEC_E_INVALID_TOKEN;
    in = b.in->pvBuffer;
    len = b.in->cbBuffer;
    if (ctx->is_close_received)
        return SEC_E_CONTEXT_EXPIRED;
    status = sch_record_scan(in, len, 1, &whole, &missing);
    if (status != SEC_E_OK)
        return status;
    if (whole == 0) {
        b.slot[0]->BufferType = SECBUFFER_MISSING;
        b.slot[0]->cbBuffer = missing > 0 ? missing : SCH_RECORD_HEADER_BYTES;
        return SEC_E_INCOMPLETE_MESSAGE;
    }
    if (BIO_write(ctx->in, in, (int)whole) != (int)whole)
        return SEC_E_INSUFFICIENT_MEMORY;
    n = SSL_read(ctx->ssl, plain, (int)sizeof(plain));
    if (n > 0) {
        if ((size_t)n > whole - SCH_RECORD_HEADER_BYTES) {
            OPENSSL_cleanse(plain, (size_t)n);
            return SEC_E_DECRYPT_FAILURE;
        }
        memcpy(in + SCH_RECORD_HEADER_BYTES, plain, (size_t)n);
        OPENSSL_cleanse(plain, (size_t)n);
        dec_bufs_set(&b, in, SCH_RECORD_HEADER_BYTES, (size_t)n,
                     whole - SCH_RECORD_HEADER_BYTES - (size_t)n, len - whole);
        return SEC_E_OK;
    }
    err = SSL_get_error(ctx->ssl, n);
    ERR_clear_error();
    if (err == SSL_ERROR_ZERO_RETURN) {
        ctx->is_close_received = true; /* close_notify: the peer sends no more */
        dec_bufs_set(&b, in, whole, 0, 0, len - whole);
        return SEC_I_CONTEXT_EXPIRED;
    }
    if (err == SSL_ERROR_WANT_READ && BIO_ctrl_pending(ctx->in) == 0) {
        /* A record without application data: a post-handshake message
         * (TLS 1.3 NewSessionTicket, KeyUpdate) or a warning alert. Windows
         * answers SEC_I_RENEGOTIATE: the caller calls Initialize/Accept
         * again, which sends what the message needs answered. */
        dec_bufs_set(&b, in, whole, 0, 0, len - whole);
        return SEC_I_RENEGOTIATE;
    }
    (void)BIO_reset(ctx->in);
    ctx->is_close_received = ctx->is_close_sent =
        true; /* a failed record ends the connection (RFC 8446 5.2) */
    return SEC_E_DECRYPT_FAILURE;
}
