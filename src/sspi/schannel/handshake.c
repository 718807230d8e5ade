// SPDX-License-Identifier: MIT
// Initialize/AcceptSecurityContext for Schannel: the TLS handshake driven one
// whole record at a time through memory BIOs, so that what was not consumed
// is exactly SECBUFFER_EXTRA and what is missing is read from the record
// header (SECBUFFER_MISSING). Also ApplyControlToken(SCHANNEL_SHUTDOWN) and
// the call after it that emits close_notify.
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sspi/schannel/schannel.h"

#define REPLAY_MAX_BYTES (256u * 1024u)

static int
accept_any(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1; /* the acceptor application judges client certificates, as on Windows */
}

/* OpenSSL asks for a client certificate the credential did not hold. The
 * first time, the caller learns it (SEC_I_INCOMPLETE_CREDENTIALS) and may
 * call again with a credential that has one; after that, go on without. */
int
sch_client_cert(SSL *ssl, X509 **x509_out, EVP_PKEY **pkey_out)
{
    struct sch_ctx *ctx = SSL_get_app_data(ssl);
    struct sch_cred *cred = ctx != NULL ? ctx->cred_now : NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *key = NULL;

    if (cred != NULL && cred->cert != NULL && sch_cert_parts(cred->cert, &leaf, &chain, &key) &&
        key != NULL) {
        if (SSL_use_cert_and_key(ssl, leaf, key, chain, 1) != 1)
            return 0;
        X509_up_ref(leaf);
        EVP_PKEY_up_ref(key);
        *x509_out = leaf;
        *pkey_out = key;
        return 1;
    }
    if (ctx != NULL && !ctx->incomplete_cred_given) {
        ctx->incomplete_cred_given = true;
        return -1; /* SSL_ERROR_WANT_X509_LOOKUP */
    }
    return 0;
}

/* The host name to check and send as SNI: a service-style "SVC/host" loses
 * its service, a ":port" its port, "[v6]" its brackets. */
static char *
host_of(const char *target)
{
    const char *slash = strrchr(target, '/'), *start = slash != NULL ? slash + 1 : target;
    size_t len = strlen(start);
    char *host;

    if (start[0] == '[') {
        const char *end = strchr(start, ']');

        if (end == NULL)
            return NULL;
        return strndup(start + 1, (size_t)(end - start - 1));
    }
    host = strndup(start, len);
    if (host != NULL) {
        char *colon = strchr(host, ':');

        if (colon != NULL && strchr(colon + 1, ':') == NULL)
            *colon = '\0';
    }
    return host;
}

static bool
is_ip(const char *host)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

#define ALPN_MAX_BYTES 4096 /* far above any real list of ids */

/* The ALPN ids of the SECBUFFER_APPLICATION_PROTOCOLS input buffers, appended
 * to out in wire form (RFC 7301 3.1: a length byte, then the id). The layout
 * is sspi.h's: SEC_APPLICATION_PROTOCOLS, then lists back to back, read by
 * member offsets (the caller's bytes may be unaligned). NPN lists are skipped.
 * SEC_E_OK, SEC_E_INVALID_TOKEN (sizes that do not fit, an empty id) or
 * SEC_E_INSUFFICIENT_MEMORY. */
static SECURITY_STATUS
alpn_from_input(PSecBufferDesc in, struct buf *out)
{
    const size_t head = offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists);
    const size_t list_head = offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList);

    for (unsigned long i = 0; in != NULL && i < in->cBuffers; i++) {
        const SecBuffer *b = &in->pBuffers[i];
        const uint8_t *p = b->pvBuffer;
        unsigned long lists_bytes;
        size_t left;

        if ((b->BufferType & ~SECBUFFER_ATTRMASK) != SECBUFFER_APPLICATION_PROTOCOLS)
            continue;
        if (p == NULL || b->cbBuffer < head)
            return SEC_E_INVALID_TOKEN;
        memcpy(&lists_bytes, p + offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolListsSize),
               sizeof(lists_bytes));
        if (lists_bytes > b->cbBuffer - head)
            return SEC_E_INVALID_TOKEN;
        p += head;
        left = lists_bytes;
        while (left > 0) {
            SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ext;
            unsigned short n;

            if (left < list_head)
                return SEC_E_INVALID_TOKEN;
            memcpy(&ext, p + offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtoNegoExt), sizeof(ext));
            memcpy(&n, p + offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolListSize), sizeof(n));
            if (n > left - list_head)
                return SEC_E_INVALID_TOKEN;
            if (ext == SecApplicationProtocolNegotiationExt_ALPN) {
                const uint8_t *ids = p + list_head;

                for (size_t at = 0; at < n; at += 1 + (size_t)ids[at]) {
                    if (ids[at] == 0 || ids[at] > n - at - 1)
                        return SEC_E_INVALID_TOKEN;
                }
                if (buf_append(out, ids, n) != GH_OK)
                    return SEC_E_INSUFFICIENT_MEMORY;
            }
            p += list_head + n;
            left -= list_head + n;
        }
    }
    return SEC_E_OK;
}

int
sch_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                const unsigned char *in, unsigned int in_len, void *arg)
{
    struct sch_ctx *ctx = SSL_get_app_data(ssl);
    unsigned char *chosen = NULL;

    (void)arg;
    if (ctx == NULL || ctx->alpn.len == 0)
        return SSL_TLSEXT_ERR_NOACK;
    /* Windows' order: the server's preference among the client's offers. */
    if (SSL_select_next_proto(&chosen, out_len, ctx->alpn.data, (unsigned int)ctx->alpn.len, in,
                              in_len) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

static SECURITY_STATUS
ctx_new(struct sch_cred *cred, bool is_server, struct sspi_step *step, struct sch_ctx **ctx_out)
{
    struct sch_ctx *ctx = calloc(1, sizeof(*ctx));
    SECURITY_STATUS status = SEC_E_INSUFFICIENT_MEMORY;
    char *host = NULL;

    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    buf_init(&ctx->replay, REPLAY_MAX_BYTES);
    buf_init(&ctx->alpn, ALPN_MAX_BYTES);
    ctx->is_server = is_server;
    ctx->ssl = SSL_new(cred->ctx);
    ctx->in = BIO_new(BIO_s_mem());
    ctx->out = BIO_new(BIO_s_mem());
    if (ctx->ssl == NULL || ctx->in == NULL || ctx->out == NULL) {
        BIO_free(ctx->in);
        BIO_free(ctx->out);
        ctx->in = ctx->out = NULL;
        goto fail;
    }
    BIO_set_mem_eof_return(ctx->in, -1);
    BIO_set_mem_eof_return(ctx->out, -1);
    SSL_set_bio(ctx->ssl, ctx->in, ctx->out);
    SSL_set_app_data(ctx->ssl, ctx);
    status = alpn_from_input(step->in, &ctx->alpn);
    if (status != SEC_E_OK)
        goto fail;
    status = SEC_E_INSUFFICIENT_MEMORY;
    /* SSL_set_alpn_protos returns 0 on success. */
    if (!is_server && ctx->alpn.len > 0 &&
        SSL_set_alpn_protos(ctx->ssl, ctx->alpn.data, (unsigned int)ctx->alpn.len) != 0)
        goto fail;
    if (is_server) {
        SSL_set_accept_state(ctx->ssl);
        SSL_set_purpose(ctx->ssl, X509_PURPOSE_SSL_CLIENT);
        if (step->req_flags & ASC_REQ_MUTUAL_AUTH) {
            SSL_set_verify(ctx->ssl, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any);
            for (int i = 0; cred->roots != NULL && i < sk_X509_num(cred->roots); i++) {
                if (SSL_add_client_CA(ctx->ssl, sk_X509_value(cred->roots, i)) != 1)
                    goto fail;
            }
        }
    } else {
        SSL_set_connect_state(ctx->ssl);
        SSL_set_purpose(ctx->ssl, X509_PURPOSE_SSL_SERVER);
        if ((cred->flags & SCH_CRED_DISABLE_RECONNECTS) == 0)
            ctx->cache = sch_cache_ref(cred->cache);
        if (step->target != NULL && step->target[0] != '\0') {
            ctx->target = strdup(step->target);
            host = host_of(step->target);
            if (ctx->target == NULL || host == NULL)
                goto fail;
            if (!is_ip(host) && SSL_set_tlsext_host_name(ctx->ssl, host) != 1)
                goto fail;
            if ((cred->flags & SCH_CRED_NO_SERVERNAME_CHECK) == 0) {
                int ok = is_ip(host) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ctx->ssl), host)
                                     : SSL_set1_host(ctx->ssl, host);
                if (ok != 1)
                    goto fail;
            }
            if (ctx->cache != NULL) {
                SSL_SESSION *session = sch_cache_get(ctx->cache, ctx->target);

                if (session != NULL) {
                    (void)SSL_set_session(ctx->ssl, session);
                    SSL_SESSION_free(session);
                }
            }
        }
    }
    free(host);
    ERR_clear_error();
    *ctx_out = ctx;
    return SEC_E_OK;
fail:
    free(host);
    sch_delete_ctx(ctx);
    ERR_clear_error();
    return status;
}

void
sch_delete_ctx(void *pkg_ctx)
{
    struct sch_ctx *ctx = pkg_ctx;

    if (ctx == NULL)
        return;
    /* A context deleted without close_notify is not a bad session: OpenSSL
     * would mark the shared SSL_SESSION not resumable when freeing an SSL
     * that did not shut down, and the cache (keyed by target, as Windows')
     * would lose it. Fatal alerts still invalidate it (OpenSSL does that as
     * they happen). */
    if (ctx->ssl != NULL && ctx->is_complete)
        SSL_set_shutdown(ctx->ssl, SSL_SENT_SHUTDOWN | SSL_get_shutdown(ctx->ssl));
    SSL_free(ctx->ssl); /* frees both BIOs */
    free(ctx->target);
    sch_cache_unref(ctx->cache);
    buf_free(&ctx->replay);
    buf_free(&ctx->alpn);
    free(ctx);
}

/* Moves what OpenSSL wrote for the peer into the output token. */
static SECURITY_STATUS
drain(struct sch_ctx *ctx, struct buf *out)
{
    uint8_t chunk[4096];
    int n;

    while (BIO_ctrl_pending(ctx->out) > 0) {
        n = BIO_read(ctx->out, chunk, (int)sizeof(chunk));
        if (n <= 0)
            break;
        if (buf_append(out, chunk, (size_t)n) != 0)
            return SEC_E_INSUFFICIENT_MEMORY;
    }
    return SEC_E_OK;
}

/* An alert OpenSSL wrote on failure goes to a SECBUFFER_ALERT output buffer
 * when the caller gave one (the output token is not returned on failure). */
static void
alert_out(struct sch_ctx *ctx, PSecBufferDesc out)
{
    PSecBuffer alert = sspi_buffer_find(out, SECBUFFER_ALERT);
    size_t pending = BIO_ctrl_pending(ctx->out);

    if (alert != NULL && alert->pvBuffer != NULL && pending > 0 && pending <= alert->cbBuffer &&
        BIO_read(ctx->out, alert->pvBuffer, (int)pending) == (int)pending)
        alert->cbBuffer = (unsigned long)pending;
    else if (alert != NULL)
        alert->cbBuffer = 0;
    (void)BIO_reset(ctx->out);
}

static SECURITY_STATUS
tls_failure(struct sch_ctx *ctx, struct sspi_step *step)
{
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    const char *text = ERR_reason_error_string(e);
    SECURITY_STATUS status;

    switch (reason) {
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
        status = SEC_E_ALGORITHM_MISMATCH;
        break;
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        status = SEC_E_UNTRUSTED_ROOT;
        break;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        status = SEC_E_CERT_UNKNOWN;
        break;
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
        status = SEC_E_DECRYPT_FAILURE;
        break;
    default:
        status = SEC_E_ILLEGAL_MESSAGE;
        break;
    }
    (void)buf_printf(&step->error_text, "Schannel: TLS handshake failed: %s",
                     text != NULL ? text : "unknown error");
    ERR_clear_error();
    alert_out(ctx, step->out);
    return status;
}

/* Windows' codes for a server certificate Schannel would not trust. */
static SECURITY_STATUS
verify_status(long v)
{
    switch (v) {
    case X509_V_OK:
        return SEC_E_OK;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return SEC_E_WRONG_PRINCIPAL;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SEC_E_CERT_EXPIRED;
    case X509_V_ERR_INVALID_PURPOSE:
        return SEC_E_CERT_WRONG_USAGE;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return SEC_E_UNTRUSTED_ROOT;
    default:
        return SEC_E_CERT_UNKNOWN;
    }
}

static SECURITY_STATUS
verify_server(struct sch_ctx *ctx, struct sch_cred *cred, struct sspi_step *step)
{
    SECURITY_STATUS status;
    long v;

    if ((ctx->req_flags & ISC_REQ_MANUAL_CRED_VALIDATION) ||
        (cred->flags & SCH_CRED_MANUAL_CRED_VALIDATION))
        return SEC_E_OK; /* the caller validates (QueryContextAttributes REMOTE_CERT_CONTEXT) */
    if (SSL_get0_peer_certificate(ctx->ssl) == NULL) {
        (void)buf_append_str(&step->error_text, "Schannel: the server sent no certificate");
        return SEC_E_CERT_UNKNOWN;
    }
    v = SSL_get_verify_result(ctx->ssl);
    status = verify_status(v);
    if (status != SEC_E_OK) {
        (void)buf_printf(&step->error_text, "Schannel: server certificate not accepted: %s",
                         X509_verify_cert_error_string(v));
        if (ctx->cache != NULL)
            sch_cache_forget(ctx->cache, ctx->target);
    }
    return status;
}

static unsigned long
attrs_of(const struct sch_ctx *ctx)
{
    /* Windows returns what was asked for: curl's schannel.c, for one, fails a
     * handshake whose attributes differ from its request (SEQUENCE_DETECT |
     * REPLAY_DETECT | CONFIDENTIALITY | ALLOCATE_MEMORY | STREAM), so
     * MUTUAL_AUTH and EXTENDED_ERROR come back only when requested. */
    if (ctx->is_server) {
        unsigned long a = ASC_RET_CONFIDENTIALITY | ASC_RET_REPLAY_DETECT |
                          ASC_RET_SEQUENCE_DETECT | ASC_RET_STREAM;

        if (ctx->req_flags & ASC_REQ_MUTUAL_AUTH)
            a |= ASC_RET_MUTUAL_AUTH;
        if (ctx->req_flags & ASC_REQ_EXTENDED_ERROR)
            a |= ASC_RET_EXTENDED_ERROR;
        return a;
    }
    unsigned long a =
        ISC_RET_CONFIDENTIALITY | ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | ISC_RET_STREAM;
    if (ctx->req_flags & ISC_REQ_MUTUAL_AUTH)
        a |= ISC_RET_MUTUAL_AUTH;
    if (ctx->req_flags & ISC_REQ_EXTENDED_ERROR)
        a |= ISC_RET_EXTENDED_ERROR;
    if (ctx->req_flags & ISC_REQ_MANUAL_CRED_VALIDATION)
        a |= ISC_RET_MANUAL_CRED_VALIDATION;
    if (ctx->req_flags & ISC_REQ_USE_SUPPLIED_CREDS)
        a |= ISC_RET_USED_SUPPLIED_CREDS;
    return a;
}

static SECURITY_STATUS
shutdown_step(struct sch_ctx *ctx, struct sspi_step *step)
{
    ctx->shutdown_pending = false;
    if (!ctx->is_complete) {
        ctx->is_close_sent = true;
        return SEC_E_OK; /* nothing established: nothing to close */
    }
    (void)SSL_shutdown(ctx->ssl); /* writes close_notify; 0 or 1 */
    ERR_clear_error();
    ctx->is_close_sent = true;
    step->attrs_out = attrs_of(ctx);
    return drain(ctx, &step->out_token);
}

static SECURITY_STATUS
step_run(struct sch_cred *cred, struct sch_ctx *ctx, struct sspi_step *step)
{
    const uint8_t *in = step->in_token.ptr;
    size_t len = step->in_token.len, pos = 0, whole = 0, missing = 0;
    SECURITY_STATUS status;
    int r, err;

    ctx->cred_now = cred;
    ctx->req_flags = step->req_flags;
    if (ctx->shutdown_pending)
        return shutdown_step(ctx, step);
    if (ctx->is_complete || ctx->is_close_sent) {
        /* After SEC_I_RENEGOTIATE: the post-handshake message was handled in
         * DecryptMessage; send what it needs answered, give the input back. */
        step->extra_bytes = len;
        step->attrs_out = attrs_of(ctx);
        return drain(ctx, &step->out_token);
    }
    if (ctx->replay.len > 0) {
        /* The call after SEC_I_INCOMPLETE_CREDENTIALS passes the same input
         * again, as Windows expects: skip what was consumed then. */
        if (len >= ctx->replay.len && CRYPTO_memcmp(in, ctx->replay.data, ctx->replay.len) == 0)
            pos = ctx->replay.len;
        buf_free(&ctx->replay);
        buf_init(&ctx->replay, REPLAY_MAX_BYTES);
    }
    for (;;) {
        r = SSL_do_handshake(ctx->ssl);
        if (r == 1)
            break;
        err = SSL_get_error(ctx->ssl, r);
        if (err == SSL_ERROR_WANT_X509_LOOKUP) {
            ERR_clear_error();
            if (buf_append(&ctx->replay, in, pos) != 0)
                return SEC_E_INSUFFICIENT_MEMORY;
            (void)buf_append_str(&step->error_text,
                                 "Schannel: the server asks for a client certificate");
            status = drain(ctx, &step->out_token);
            return status != SEC_E_OK ? status : SEC_I_INCOMPLETE_CREDENTIALS;
        }
        if (err != SSL_ERROR_WANT_READ)
            return tls_failure(ctx, step);
        ERR_clear_error();
        if (pos == len)
            break;
        status = sch_record_scan(in + pos, len - pos, 1, &whole, &missing);
        if (status != SEC_E_OK) {
            (void)buf_append_str(&step->error_text, "Schannel: the input is not a TLS record");
            return status;
        }
        if (whole == 0)
            break;
        if (BIO_write(ctx->in, in + pos, (int)whole) != (int)whole)
            return SEC_E_INSUFFICIENT_MEMORY;
        pos += whole;
    }
    status = drain(ctx, &step->out_token);
    if (status != SEC_E_OK)
        return status;
    step->attrs_out = attrs_of(ctx);
    if (r == 1) {
        if (!ctx->is_server) {
            status = verify_server(ctx, cred, step);
            if (status != SEC_E_OK)
                return status;
        }
        ctx->is_complete = true;
        step->extra_bytes = len - pos;
        return SEC_E_OK;
    }
    if (pos == 0 && step->out_token.len == 0) {
        /* Nothing consumed, nothing to send: the first record is incomplete. */
        step->missing_bytes = missing > 0 ? missing : SCH_RECORD_HEADER_BYTES;
        return SEC_E_INCOMPLETE_MESSAGE;
    }
    step->extra_bytes = len - pos;
    return SEC_I_CONTINUE_NEEDED;
}

static SECURITY_STATUS
ctx_step(void *pkg_cred, void **pkg_ctx, struct sspi_step *step, bool is_server)
{
    struct sch_cred *cred = pkg_cred;
    struct sch_ctx *ctx = *pkg_ctx;
    SECURITY_STATUS status;

    if (ctx == NULL) {
        status = ctx_new(cred, is_server, step, &ctx);
        if (status != SEC_E_OK)
            return status;
        *pkg_ctx = ctx;
    }
    status = step_run(cred, ctx, step);
    ctx->cred_now = NULL;
    return status;
}

SECURITY_STATUS
sch_init_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    return ctx_step(pkg_cred, pkg_ctx, step, false);
}

SECURITY_STATUS
sch_accept_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    return ctx_step(pkg_cred, pkg_ctx, step, true);
}

SECURITY_STATUS
sch_apply_control(void *pkg_ctx, PSecBufferDesc input)
{
    struct sch_ctx *ctx = pkg_ctx;
    PSecBuffer token = sspi_buffer_find(input, SECBUFFER_TOKEN);
    unsigned long type;

    if (token == NULL || token->pvBuffer == NULL)
        return SEC_E_INVALID_TOKEN;
    /* A DWORD: 4 bytes on Windows, unsigned long (8) with <gatehouse/wintypes.h>. */
    if (token->cbBuffer == sizeof(uint32_t)) {
        uint32_t v;

        memcpy(&v, token->pvBuffer, sizeof(v));
        type = v;
    } else if (token->cbBuffer == sizeof(unsigned long)) {
        memcpy(&type, token->pvBuffer, sizeof(type));
    } else {
        return SEC_E_INVALID_TOKEN;
    }
    if (type != SCHANNEL_SHUTDOWN)
        return SEC_E_UNSUPPORTED_FUNCTION;
    ctx->shutdown_pending = true;
    return SEC_I_CONTINUE_NEEDED;
}
