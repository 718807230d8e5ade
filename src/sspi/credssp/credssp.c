// SPDX-License-Identifier: MIT
// The CredSSP package (MS-CSSP): TLS through the Schannel package, SPNEGO or
// raw NTLM through the Negotiate package inside it, the public-key binding,
// then the client's credentials (TSCredentials) to the server.
//
// Everything below the TLS channel goes through the public SSPI entry points
// with ordinary handles (a "Schannel" context and a "Negotiate"/"NTLM"
// context per CredSSP context), exactly as an application would use them:
// no TLS and no NTLM/Kerberos code lives here. The message flow, on the TLS
// channel's application data, one DER TSRequest after another:
//   C->S {version, negoToken}                    (SPNEGO / NTLM NEGOTIATE / AP-REQ)
//   S->C {version, negoToken}                    (CHALLENGE / AP-REP)
//   C->S {version, [negoToken], pubKeyAuth, [clientNonce]}
//   S->C {version, [negoToken], pubKeyAuth}
//   C->S {version, authInfo}                     (encrypted TSCredentials)
// The client delegates only after verifying the server's pubKeyAuth: a TLS
// man in the middle (another server key) fails with SEC_E_MUTUAL_AUTH_FAILED
// before any credential is encrypted. See docs/internals/credssp.md.
#include "sspi/credssp/credssp.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <gatehouse/error.h>

#include "sspi/credssp/tsrequest_der.h"
#include "sspi/internal.h" /* sspi_thread_error: the inner calls' failure text */
#include "sspi/wide.h"

#define TLS_RECORD_HEADER 5
#define TLS_RECORD_MAX    (16384 + 2048 + TLS_RECORD_HEADER)

static const char hash_c2s[] = "CredSSP Client-To-Server Binding Hash"; /* + its NUL */
static const char hash_s2c[] = "CredSSP Server-To-Client Binding Hash";

/* ISC_REQ_* we honour (the seed's table, plus the integrity flags TLS gives). */
#define ISC_SUPPORTED                                                                           \
    (ISC_REQ_DELEGATE | ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT | \
     ISC_REQ_CONFIDENTIALITY | ISC_REQ_USE_SUPPLIED_CREDS | ISC_REQ_ALLOCATE_MEMORY |           \
     ISC_REQ_CONNECTION | ISC_REQ_EXTENDED_ERROR | ISC_REQ_STREAM | ISC_REQ_INTEGRITY |         \
     ISC_REQ_MANUAL_CRED_VALIDATION)

struct cssp_cred {
    unsigned long use;
    unsigned long flags; /* GH_CREDSSP_FLAG_* */
    uint32_t max_version;
    CredHandle tls;
    bool has_tls;
    CredHandle inner;
    bool has_inner;
    /* The initiator's explicit identity, UTF-16LE, for TSPasswordCreds. */
    bool has_identity;
    struct buf user16, domain16, password16;
};

enum phase {
    PH_TLS = 0, /* TLS handshake through Schannel */
    PH_NEGO,    /* SPNEGO / NTLM / Kerberos tokens inside TSRequests */
    PH_BINDING, /* initiator: waiting for the server's pubKeyAuth;
                   acceptor: inner done, waiting for the client's pubKeyAuth */
    PH_CREDS,   /* acceptor: waiting for authInfo */
    PH_DONE,
    PH_FAILED,
};

struct cssp_ctx {
    bool acceptor;
    enum phase phase;
    unsigned long req;
    unsigned long flags; /* the credential's GH_CREDSSP_FLAG_* */
    uint32_t max_version;
    CtxtHandle tls;
    bool has_tls;
    CtxtHandle inner;
    bool has_inner;
    bool inner_done;
    bool inner_ntlm; /* the inner authentication reached NTLM */
    unsigned long inner_attrs;
    uint32_t version; /* negotiated: min(ours, peer's) */
    bool pubkey_sent; /* initiator: our pubKeyAuth left */
    uint8_t nonce[CSSP_NONCE_BYTES];
    bool has_nonce;
    struct buf pubkey; /* the server certificate's subjectPublicKey */
    struct buf plain;  /* decrypted application data not yet parsed (wiped) */
    char *host;        /* for Schannel */
    char *spn;         /* for the inner package */
    /* acceptor: delegated credentials, UTF-8, wiped */
    bool has_deleg;
    unsigned long deleg_type;
    struct buf deleg_user, deleg_domain, deleg_password;
    bool delegated; /* initiator: real credentials left */
};

/* ---- NTSTATUS ------------------------------------------------------------ */

#define STATUS_UNSUCCESSFUL                 0xC0000001U
#define STATUS_INVALID_PARAMETER            0xC000000DU
#define STATUS_NO_MEMORY                    0xC0000017U
#define STATUS_ACCESS_DENIED                0xC0000022U
#define STATUS_NO_SUCH_USER                 0xC0000064U
#define STATUS_WRONG_PASSWORD               0xC000006AU
#define STATUS_LOGON_FAILURE                0xC000006DU
#define STATUS_ACCOUNT_RESTRICTION          0xC000006EU
#define STATUS_PASSWORD_EXPIRED             0xC0000071U
#define STATUS_ACCOUNT_DISABLED             0xC0000072U
#define STATUS_NOT_SUPPORTED                0xC00000BBU
#define STATUS_MUTUAL_AUTHENTICATION_FAILED 0xC00002C3U

uint32_t
cssp_ntstatus_of(SECURITY_STATUS status)
{
    switch (status) {
    case SEC_E_LOGON_DENIED:
    case SEC_E_UNKNOWN_CREDENTIALS:
        return STATUS_LOGON_FAILURE;
    case SEC_E_INSUFFICIENT_MEMORY:
        return STATUS_NO_MEMORY;
    case SEC_E_INVALID_TOKEN:
        return STATUS_INVALID_PARAMETER;
    case SEC_E_DELEGATION_POLICY:
        return STATUS_ACCESS_DENIED;
    case SEC_E_UNSUPPORTED_FUNCTION:
        return STATUS_NOT_SUPPORTED;
    case SEC_E_MUTUAL_AUTH_FAILED:
        return STATUS_MUTUAL_AUTHENTICATION_FAILED;
    default:
        return STATUS_UNSUCCESSFUL;
    }
}

SECURITY_STATUS
cssp_status_of_ntstatus(uint32_t ntstatus)
{
    if ((ntstatus & 0xFFFF0000U) == 0x80090000U) /* already an SSPI HRESULT */
        return (SECURITY_STATUS)ntstatus;
    switch (ntstatus) {
    case STATUS_LOGON_FAILURE:
    case STATUS_NO_SUCH_USER:
    case STATUS_WRONG_PASSWORD:
    case STATUS_ACCOUNT_RESTRICTION:
    case STATUS_PASSWORD_EXPIRED:
    case STATUS_ACCOUNT_DISABLED:
        return SEC_E_LOGON_DENIED;
    case STATUS_NO_MEMORY:
        return SEC_E_INSUFFICIENT_MEMORY;
    case STATUS_ACCESS_DENIED:
        return SEC_E_DELEGATION_POLICY;
    case STATUS_NOT_SUPPORTED:
        return SEC_E_UNSUPPORTED_FUNCTION;
    case STATUS_MUTUAL_AUTHENTICATION_FAILED:
        return SEC_E_MUTUAL_AUTH_FAILED;
    case STATUS_INVALID_PARAMETER:
        return SEC_E_INVALID_TOKEN;
    default:
        return SEC_E_INTERNAL_ERROR;
    }
}

/* ---- Credentials ----------------------------------------------------------- */

static void
cred_free(void *p)
{
    struct cssp_cred *cred = p;

    if (cred == NULL)
        return;
    if (cred->has_tls)
        FreeCredentialsHandle(&cred->tls);
    if (cred->has_inner)
        FreeCredentialsHandle(&cred->inner);
    buf_free(&cred->user16);
    buf_free(&cred->domain16);
    buf_free_wipe(&cred->password16);
    free(cred);
}

/* "DOMAIN\\user" is split; "user@REALM" stays whole (a UPN, as Windows sends it). */
static SECURITY_STATUS
identity_to_utf16(const struct sspi_identity *id, struct buf *user16, struct buf *domain16,
                  struct buf *password16)
{
    const char *user = id->user != NULL ? id->user : "";
    const char *domain = id->domain != NULL ? id->domain : "";
    const char *bs = strchr(user, '\\');
    size_t dlen = strlen(domain);

    if (dlen == 0 && bs != NULL) {
        domain = user;
        dlen = (size_t)(bs - user);
        user = bs + 1;
    }
    if (wide_utf8_to_utf16le(user, strlen(user), user16) != GH_OK ||
        wide_utf8_to_utf16le(domain, dlen, domain16) != GH_OK ||
        (id->password != NULL &&
         wide_utf8_to_utf16le(id->password, id->password_len, password16) != GH_OK))
        return SEC_E_UNKNOWN_CREDENTIALS;
    return SEC_E_OK;
}

static SECURITY_STATUS
cred_acquire(const struct sspi_acquire *args, void **out)
{
    const CREDSSP_CRED *cc = args->auth_data;
    void *sch = NULL, *spnego = NULL;
    unsigned long flags = 0;
    struct cssp_cred *cred;
    SECURITY_STATUS st;

    if (cc != NULL) {
        if (cc->Type == CredsspCredEx) {
            const CREDSSP_CRED_EX *ex = args->auth_data;

            if (ex->Version != CREDSSP_CRED_EX_VERSION)
                return SEC_E_UNKNOWN_CREDENTIALS;
            flags = ex->Flags;
            cc = &ex->Cred;
            if (flags & CREDSSP_FLAG_REDIRECT) {
                (void)buf_append_str(args->error_text,
                                     "CredSSP: Remote Credential Guard (CREDSSP_FLAG_REDIRECT) is "
                                     "not supported");
                return SEC_E_UNSUPPORTED_FUNCTION;
            }
        }
        if (cc->Type == CredsspSubmitBufferBoth || cc->Type == CredsspSubmitBufferBothOld) {
            sch = cc->pSchannelCred;
            spnego = cc->pSpnegoCred;
        } else if (cc->Type == CredsspPasswordCreds) {
            spnego = cc->pSpnegoCred;
        } else {
            (void)buf_printf(args->error_text, "CredSSP: credential Type %d is not supported",
                             (int)cc->Type);
            return SEC_E_UNSUPPORTED_FUNCTION;
        }
    }
    if ((args->use & SECPKG_CRED_INBOUND) && sch == NULL) {
        (void)buf_append_str(args->error_text,
                             "CredSSP: an inbound credential needs pSchannelCred (the server's "
                             "certificate)");
        return SEC_E_NO_CREDENTIALS;
    }
    cred = calloc(1, sizeof(*cred));
    if (cred == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    cred->use = args->use;
    cred->flags = flags;
    cred->max_version = (flags >> 28) != 0 ? (uint32_t)(flags >> 28) : CSSP_VERSION_MAX;
    if (cred->max_version < 2 || cred->max_version > CSSP_VERSION_MAX) {
        free(cred);
        return SEC_E_UNKNOWN_CREDENTIALS;
    }
    buf_init(&cred->user16, CSSP_MAX_STRING_BYTES);
    buf_init(&cred->domain16, CSSP_MAX_STRING_BYTES);
    buf_init(&cred->password16, CSSP_MAX_STRING_BYTES);
    st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)SCHANNEL_NAME_A, args->use, NULL, sch, NULL,
                                   NULL, &cred->tls, NULL);
    if (st != SEC_E_OK) {
        (void)buf_printf(args->error_text, "CredSSP: Schannel credentials: %s",
                         sspi_thread_error());
        goto fail;
    }
    cred->has_tls = true;
    st = AcquireCredentialsHandleA(
        (SEC_CHAR *)args->principal,
        (SEC_CHAR *)((flags & GH_CREDSSP_FLAG_RAW_NTLM) ? NTLMSP_NAME_A : NEGOSSP_NAME_A),
        args->use, NULL, spnego, NULL, NULL, &cred->inner, NULL);
    if (st != SEC_E_OK) {
        (void)buf_printf(args->error_text, "CredSSP: Negotiate credentials: %s",
                         sspi_thread_error());
        goto fail;
    }
    cred->has_inner = true;
    if ((args->use & SECPKG_CRED_OUTBOUND) && spnego != NULL) {
        struct sspi_identity id = {0};

        st = sspi_identity_parse(spnego, &id);
        if (st == SEC_E_OK)
            st = identity_to_utf16(&id, &cred->user16, &cred->domain16, &cred->password16);
        sspi_identity_free(&id);
        if (st != SEC_E_OK)
            goto fail;
        cred->has_identity = true;
    }
    *out = cred;
    return SEC_E_OK;
fail:
    cred_free(cred);
    return st;
}

/* ---- Context helpers ----------------------------------------------------- */

static void
ctx_free(void *p)
{
    struct cssp_ctx *c = p;

    if (c == NULL)
        return;
    if (c->has_tls)
        DeleteSecurityContext(&c->tls);
    if (c->has_inner)
        DeleteSecurityContext(&c->inner);
    buf_free(&c->pubkey);
    buf_free_wipe(&c->plain);
    buf_free(&c->deleg_user);
    buf_free(&c->deleg_domain);
    buf_free_wipe(&c->deleg_password);
    secret_wipe(c->nonce, sizeof(c->nonce));
    free(c->host);
    free(c->spn);
    free(c);
}

static SECURITY_STATUS
fail(struct cssp_ctx *c, struct sspi_step *step, SECURITY_STATUS st, const char *why)
{
    c->phase = PH_FAILED;
    if (why != NULL && step->error_text.len == 0)
        (void)buf_printf(&step->error_text, "CredSSP: %s", why);
    return st;
}

/* Appends a token the SSPI allocated (ALLOCATE_MEMORY) to out and frees it. */
static int
take_token(SecBuffer *b, struct buf *out)
{
    int err = GH_OK;

    if (b->pvBuffer != NULL) {
        if (b->cbBuffer > 0)
            err = buf_append(out, b->pvBuffer, b->cbBuffer);
        FreeContextBuffer(b->pvBuffer);
        b->pvBuffer = NULL;
    }
    return err;
}

/* One Schannel handshake step on in. *consumed: the input bytes used (the
 * rest was SECBUFFER_EXTRA: application data after the handshake). */
static SECURITY_STATUS
tls_step(struct cssp_ctx *c, struct cssp_cred *cred, struct sspi_step *step, struct slice in,
         size_t *consumed)
{
    SecBuffer ib[2] = {{(unsigned long)in.len, SECBUFFER_TOKEN, (void *)in.ptr},
                       {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc idesc = {SECBUFFER_VERSION, 2, ib};
    SecBuffer ob[1] = {{0, SECBUFFER_TOKEN, NULL}};
    SecBufferDesc odesc = {SECBUFFER_VERSION, 1, ob};
    unsigned long attrs = 0;
    SECURITY_STATUS st;

    *consumed = in.len;
    if (c->acceptor) {
        st = AcceptSecurityContext(&cred->tls, c->has_tls ? &c->tls : NULL,
                                   in.len > 0 ? &idesc : NULL,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM |
                                       ASC_REQ_CONFIDENTIALITY | ASC_REQ_EXTENDED_ERROR,
                                   SECURITY_NATIVE_DREP, &c->tls, &odesc, &attrs, NULL);
    } else {
        unsigned long req = ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_CONFIDENTIALITY |
                            ISC_REQ_EXTENDED_ERROR | ISC_REQ_REPLAY_DETECT |
                            ISC_REQ_SEQUENCE_DETECT;

        if (c->req & ISC_REQ_MANUAL_CRED_VALIDATION)
            req |= ISC_REQ_MANUAL_CRED_VALIDATION;
        st = InitializeSecurityContextA(
            &cred->tls, c->has_tls ? &c->tls : NULL, (SEC_CHAR *)c->host, req, 0,
            SECURITY_NATIVE_DREP, in.len > 0 ? &idesc : NULL, 0, &c->tls, &odesc, &attrs, NULL);
    }
    if (!c->has_tls && (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED ||
                        st == SEC_E_INCOMPLETE_MESSAGE || st == SEC_I_INCOMPLETE_CREDENTIALS))
        c->has_tls = st != SEC_E_INCOMPLETE_MESSAGE || c->has_tls;
    if (take_token(&ob[0], &step->out_token) != GH_OK)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (st == SEC_E_INCOMPLETE_MESSAGE) {
        step->missing_bytes = ib[1].BufferType == SECBUFFER_MISSING ? ib[1].cbBuffer : 1;
        return st;
    }
    if (ib[1].BufferType == SECBUFFER_EXTRA && ib[1].cbBuffer <= in.len)
        *consumed = in.len - ib[1].cbBuffer;
    if (st < 0)
        (void)buf_printf(&step->error_text, "CredSSP: TLS: %s", sspi_thread_error());
    return st;
}

/* The server certificate's subjectPublicKey (the BIT STRING's bytes). */
static SECURITY_STATUS
load_pubkey(struct cssp_ctx *c)
{
    PCCERT_CONTEXT cert = NULL;
    const unsigned char *p;
    const unsigned char *pk = NULL;
    int pklen = 0;
    X509 *x = NULL;
    SECURITY_STATUS st;

    st = QueryContextAttributesA(
        &c->tls, c->acceptor ? SECPKG_ATTR_LOCAL_CERT_CONTEXT : SECPKG_ATTR_REMOTE_CERT_CONTEXT,
        (void *)&cert);
    if (st != SEC_E_OK || cert == NULL)
        return st != SEC_E_OK ? st : SEC_E_NO_CREDENTIALS;
    p = cert->pbCertEncoded;
    x = d2i_X509(NULL, &p, (long)cert->cbCertEncoded);
    st = SEC_E_CERT_UNKNOWN;
    if (x != NULL &&
        X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, X509_get_X509_PUBKEY(x)) == 1 &&
        pklen > 0) {
        c->pubkey.len = 0;
        st = buf_append(&c->pubkey, pk, (size_t)pklen) == GH_OK ? SEC_E_OK
                                                                : SEC_E_INSUFFICIENT_MEMORY;
    }
    X509_free(x);
    CertFreeCertificateContext(cert);
    return st;
}

/* Encrypts plain as TLS records appended to out. */
static SECURITY_STATUS
tls_write(struct cssp_ctx *c, struct slice plain, struct buf *out)
{
    SecPkgContext_StreamSizes sz = {0};
    SECURITY_STATUS st = QueryContextAttributesA(&c->tls, SECPKG_ATTR_STREAM_SIZES, &sz);
    uint8_t *rec = NULL;

    if (st != SEC_E_OK)
        return st;
    if (sz.cbMaximumMessage == 0 || sz.cbMaximumMessage > 65536 || sz.cbHeader > 1024 ||
        sz.cbTrailer > 1024)
        return SEC_E_INTERNAL_ERROR;
    rec = malloc(sz.cbHeader + sz.cbMaximumMessage + sz.cbTrailer);
    if (rec == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    for (size_t off = 0; off < plain.len && st == SEC_E_OK;) {
        size_t n = plain.len - off;

        if (n > sz.cbMaximumMessage)
            n = sz.cbMaximumMessage;
        memcpy(rec + sz.cbHeader, plain.ptr + off, n);
        SecBuffer b[4] = {{sz.cbHeader, SECBUFFER_STREAM_HEADER, rec},
                          {(unsigned long)n, SECBUFFER_DATA, rec + sz.cbHeader},
                          {sz.cbTrailer, SECBUFFER_STREAM_TRAILER, rec + sz.cbHeader + n},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};

        st = EncryptMessage(&c->tls, 0, &d, 0);
        if (st == SEC_E_OK) {
            if (buf_append(out, rec, b[0].cbBuffer) != GH_OK ||
                buf_append(out, b[1].pvBuffer, b[1].cbBuffer) != GH_OK ||
                buf_append(out, b[2].pvBuffer, b[2].cbBuffer) != GH_OK)
                st = SEC_E_INSUFFICIENT_MEMORY;
        }
        off += n;
    }
    secret_wipe(rec, sz.cbHeader + sz.cbMaximumMessage + sz.cbTrailer);
    free(rec);
    return st;
}

/* Sends one TSRequest (encoded, then encrypted into step->out_token). */
static SECURITY_STATUS
send_request(struct cssp_ctx *c, const struct cssp_request *r, struct sspi_step *step)
{
    struct buf der;
    SECURITY_STATUS st;

    buf_init(&der, CSSP_MAX_MESSAGE_BYTES);
    st = cssp_encode_request(r, &der);
    if (st == SEC_E_OK)
        st = tls_write(c, buf_slice(&der), &step->out_token);
    buf_free_wipe(&der);
    return st;
}

/* Decrypts the complete TLS records of in into c->plain. An incomplete last
 * record consumes nothing: SEC_E_INCOMPLETE_MESSAGE with the missing count,
 * so that the caller can call again with the same bytes and more. */
static SECURITY_STATUS
tls_read(struct cssp_ctx *c, struct cssp_cred *cred, struct sspi_step *step, struct slice in)
{
    size_t off = 0;
    uint8_t *rec;

    while (off < in.len) {
        if (in.len - off < TLS_RECORD_HEADER) {
            step->missing_bytes = (unsigned long)(TLS_RECORD_HEADER - (in.len - off));
            return SEC_E_INCOMPLETE_MESSAGE;
        }
        size_t n = TLS_RECORD_HEADER + ((size_t)in.ptr[off + 3] << 8 | in.ptr[off + 4]);
        if (n > TLS_RECORD_MAX)
            return SEC_E_INVALID_TOKEN;
        if (in.len - off < n) {
            step->missing_bytes = (unsigned long)(n - (in.len - off));
            return SEC_E_INCOMPLETE_MESSAGE;
        }
        off += n;
    }
    rec = malloc(TLS_RECORD_MAX);
    if (rec == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    SECURITY_STATUS st = SEC_E_OK;
    for (off = 0; off < in.len && st == SEC_E_OK;) {
        size_t n = TLS_RECORD_HEADER + ((size_t)in.ptr[off + 3] << 8 | in.ptr[off + 4]);

        memcpy(rec, in.ptr + off, n);
        off += n;
        SecBuffer b[4] = {{(unsigned long)n, SECBUFFER_DATA, rec},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        unsigned long qop = 0;

        st = DecryptMessage(&c->tls, &d, 0, &qop);
        if (st == SEC_I_RENEGOTIATE) {
            /* A post-handshake message (TLS 1.3 NewSessionTicket, KeyUpdate):
             * back to Schannel's handshake call, as Windows wants; what it
             * answers goes out with our next token. */
            size_t used = 0;

            st = tls_step(c, cred, step, slice_make(NULL, 0), &used);
            if (st == SEC_I_CONTINUE_NEEDED)
                st = SEC_E_OK;
            continue;
        }
        if (st == SEC_I_CONTEXT_EXPIRED) {
            st = SEC_E_CONTEXT_EXPIRED;
            (void)buf_append_str(&step->error_text,
                                 "CredSSP: the peer closed the TLS channel (close_notify)");
            break;
        }
        if (st != SEC_E_OK) {
            (void)buf_printf(&step->error_text, "CredSSP: TLS record: %s", sspi_thread_error());
            break;
        }
        for (int i = 0; i < 4 && st == SEC_E_OK; i++) {
            if (b[i].BufferType == SECBUFFER_DATA && b[i].cbBuffer > 0 &&
                buf_append(&c->plain, b[i].pvBuffer, b[i].cbBuffer) != GH_OK)
                st = SEC_E_INVALID_TOKEN; /* past the message limit */
        }
    }
    secret_wipe(rec, TLS_RECORD_MAX);
    free(rec);
    return st;
}

/* Takes the next complete TSRequest out of c->plain into *der (a copy the
 * caller wipes). SEC_E_OK, SEC_I_CONTINUE_NEEDED (not complete yet) or
 * SEC_E_INVALID_TOKEN. */
static SECURITY_STATUS
next_request(struct cssp_ctx *c, struct buf *der)
{
    size_t size = 0;
    SECURITY_STATUS st;

    if (c->plain.len == 0)
        return SEC_I_CONTINUE_NEEDED;
    st = cssp_message_size(buf_slice(&c->plain), &size);
    if (st == SEC_E_INCOMPLETE_MESSAGE)
        return SEC_I_CONTINUE_NEEDED;
    if (st != SEC_E_OK)
        return st;
    if (buf_append(der, c->plain.data, size) != GH_OK)
        return SEC_E_INSUFFICIENT_MEMORY;
    secret_wipe(c->plain.data, size);
    buf_consume(&c->plain, size);
    return SEC_E_OK;
}

/* Encrypts plain with the inner context: signature/header || ciphertext. */
static SECURITY_STATUS
inner_seal(struct cssp_ctx *c, struct slice plain, struct buf *out)
{
    SecPkgContext_Sizes sz = {0};
    SECURITY_STATUS st = QueryContextAttributesA(&c->inner, SECPKG_ATTR_SIZES, &sz);
    uint8_t *mem;

    if (st != SEC_E_OK)
        return st;
    if (sz.cbSecurityTrailer == 0 || sz.cbSecurityTrailer > 1024)
        return SEC_E_INTERNAL_ERROR;
    mem = malloc(sz.cbSecurityTrailer + plain.len + 1);
    if (mem == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    memcpy(mem + sz.cbSecurityTrailer, plain.ptr, plain.len);
    SecBuffer b[2] = {{sz.cbSecurityTrailer, SECBUFFER_TOKEN, mem},
                      {(unsigned long)plain.len, SECBUFFER_DATA, mem + sz.cbSecurityTrailer}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    st = EncryptMessage(&c->inner, 0, &d, 0);
    if (st == SEC_E_OK && b[0].cbBuffer != sz.cbSecurityTrailer)
        st = SEC_E_INTERNAL_ERROR; /* the peer splits at cbSecurityTrailer */
    if (st == SEC_E_OK && (buf_append(out, b[0].pvBuffer, b[0].cbBuffer) != GH_OK ||
                           buf_append(out, b[1].pvBuffer, b[1].cbBuffer) != GH_OK))
        st = SEC_E_INSUFFICIENT_MEMORY;
    secret_wipe(mem, sz.cbSecurityTrailer + plain.len);
    free(mem);
    return st;
}

/* Decrypts sealed into out (wiped by the caller). SEC_E_OK or the inner
 * package's refusal (SEC_E_MESSAGE_ALTERED, ...). */
static SECURITY_STATUS
inner_unseal(struct cssp_ctx *c, struct slice sealed, struct buf *out)
{
    SecPkgContext_Sizes sz = {0};
    SECURITY_STATUS st = QueryContextAttributesA(&c->inner, SECPKG_ATTR_SIZES, &sz);
    uint8_t *mem;
    unsigned long qop = 0;

    if (st != SEC_E_OK)
        return st;
    if (sealed.len < sz.cbSecurityTrailer || sz.cbSecurityTrailer == 0)
        return SEC_E_INVALID_TOKEN;
    mem = malloc(sealed.len + 1);
    if (mem == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    memcpy(mem, sealed.ptr, sealed.len);
    SecBuffer b[2] = {{sz.cbSecurityTrailer, SECBUFFER_TOKEN, mem},
                      {(unsigned long)(sealed.len - sz.cbSecurityTrailer), SECBUFFER_DATA,
                       mem + sz.cbSecurityTrailer}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    st = DecryptMessage(&c->inner, &d, 0, &qop);
    if (st == SEC_E_OK && buf_append(out, b[1].pvBuffer, b[1].cbBuffer) != GH_OK)
        st = SEC_E_INSUFFICIENT_MEMORY;
    secret_wipe(mem, sealed.len);
    free(mem);
    return st;
}

/* What pubKeyAuth carries (before encryption), for direction c2s or s2c. */
static SECURITY_STATUS
binding_value(const struct cssp_ctx *c, bool c2s, struct buf *out)
{
    if (c->version >= 5) {
        const char *magic = c2s ? hash_c2s : hash_s2c;
        uint8_t md[32];
        unsigned int mdlen = 0;
        EVP_MD_CTX *h = EVP_MD_CTX_new();
        bool ok = h != NULL && c->has_nonce && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
                  EVP_DigestUpdate(h, magic, strlen(magic) + 1) == 1 &&
                  EVP_DigestUpdate(h, c->nonce, sizeof(c->nonce)) == 1 &&
                  EVP_DigestUpdate(h, c->pubkey.data, c->pubkey.len) == 1 &&
                  EVP_DigestFinal_ex(h, md, &mdlen) == 1 && mdlen == sizeof(md);

        EVP_MD_CTX_free(h);
        if (!ok)
            return SEC_E_INTERNAL_ERROR;
        return buf_append(out, md, sizeof(md)) == GH_OK ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
    }
    if (buf_append(out, c->pubkey.data, c->pubkey.len) != GH_OK)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (!c2s) {
        /* versions 2-4: the server answers the key plus one, little endian */
        for (size_t i = 0; i < out->len; i++) {
            if (++out->data[i] != 0)
                break;
        }
    }
    return SEC_E_OK;
}

/* Checks a received pubKeyAuth (sealed) against the expected binding. */
static SECURITY_STATUS
check_binding(struct cssp_ctx *c, bool c2s, struct slice sealed)
{
    struct buf got, want;
    SECURITY_STATUS st;

    buf_init(&got, CSSP_MAX_FIELD_BYTES);
    buf_init(&want, CSSP_MAX_FIELD_BYTES);
    st = inner_unseal(c, sealed, &got);
    if (st == SEC_E_OK)
        st = binding_value(c, c2s, &want);
    if (st == SEC_E_OK &&
        (got.len != want.len || CRYPTO_memcmp(got.data, want.data, want.len) != 0))
        st = SEC_E_MUTUAL_AUTH_FAILED;
    buf_free(&got);
    buf_free(&want);
    return st;
}

static SECURITY_STATUS
seal_binding(struct cssp_ctx *c, bool c2s, struct buf *out)
{
    struct buf v;
    SECURITY_STATUS st;

    buf_init(&v, CSSP_MAX_FIELD_BYTES);
    st = binding_value(c, c2s, &v);
    if (st == SEC_E_OK)
        st = inner_seal(c, buf_slice(&v), out);
    buf_free(&v);
    return st;
}

/* Which mechanism the inner context reached. */
static void
note_inner_package(struct cssp_ctx *c)
{
    SecPkgContext_NegotiationInfoA ni = {0};
    SecPkgContext_PackageInfoA pi = {0};

    if (QueryContextAttributesA(&c->inner, SECPKG_ATTR_NEGOTIATION_INFO, &ni) == SEC_E_OK &&
        ni.PackageInfo != NULL) {
        c->inner_ntlm = strcmp((const char *)ni.PackageInfo->Name, NTLMSP_NAME_A) == 0;
        FreeContextBuffer(ni.PackageInfo);
    } else if (QueryContextAttributesA(&c->inner, SECPKG_ATTR_PACKAGE_INFO, &pi) == SEC_E_OK &&
               pi.PackageInfo != NULL) {
        c->inner_ntlm = strcmp((const char *)pi.PackageInfo->Name, NTLMSP_NAME_A) == 0;
        FreeContextBuffer(pi.PackageInfo);
    }
}

/* One inner (Negotiate / NTLM) step. in may be empty (the initiator's first). */
static SECURITY_STATUS
inner_step(struct cssp_ctx *c, struct cssp_cred *cred, struct slice in, struct buf *out,
           struct sspi_step *step)
{
    SecBuffer ib[1] = {{(unsigned long)in.len, SECBUFFER_TOKEN, (void *)in.ptr}};
    SecBufferDesc idesc = {SECBUFFER_VERSION, 1, ib};
    SecBuffer ob[1] = {{0, SECBUFFER_TOKEN, NULL}};
    SecBufferDesc odesc = {SECBUFFER_VERSION, 1, ob};
    SECURITY_STATUS st;

    if (c->acceptor) {
        st = AcceptSecurityContext(&cred->inner, c->has_inner ? &c->inner : NULL, &idesc,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONFIDENTIALITY |
                                       ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT |
                                       ASC_REQ_SEQUENCE_DETECT | ASC_REQ_MUTUAL_AUTH |
                                       ASC_REQ_EXTENDED_ERROR,
                                   SECURITY_NATIVE_DREP, &c->inner, &odesc, &c->inner_attrs, NULL);
    } else {
        st = InitializeSecurityContextA(
            &cred->inner, c->has_inner ? &c->inner : NULL, (SEC_CHAR *)c->spn,
            ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY |
                ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT | ISC_REQ_MUTUAL_AUTH |
                ISC_REQ_EXTENDED_ERROR,
            0, SECURITY_NATIVE_DREP, in.len > 0 ? &idesc : NULL, 0, &c->inner, &odesc,
            &c->inner_attrs, NULL);
    }
    if (!c->has_inner && (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED))
        c->has_inner = true;
    if (take_token(&ob[0], out) != GH_OK)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (st == SEC_E_OK) {
        c->inner_done = true;
        note_inner_package(c);
    } else if (st < 0) {
        (void)buf_printf(&step->error_text, "CredSSP: %s: %s",
                         c->acceptor ? "inner authentication" : "inner authentication (client)",
                         sspi_thread_error());
    } else if (st != SEC_I_CONTINUE_NEEDED) {
        st = SEC_E_UNSUPPORTED_FUNCTION; /* COMPLETE_NEEDED: not for NTLM/Kerberos */
    }
    return st;
}

/* ---- Initiator ------------------------------------------------------------- */

/* The TSCredentials the client delegates: the credential's identity, the
 * one in a SECBUFFER_PKG_PARAMS (ISC_REQ_USE_SUPPLIED_CREDS), or an empty
 * set without ISC_REQ_DELEGATE. */
static SECURITY_STATUS
build_credentials(struct cssp_ctx *c, struct cssp_cred *cred, struct sspi_step *step,
                  struct buf *out)
{
    struct buf u, d, p, inner;
    struct sspi_identity id = {0};
    SECURITY_STATUS st = SEC_E_OK;

    buf_init(&u, CSSP_MAX_STRING_BYTES);
    buf_init(&d, CSSP_MAX_STRING_BYTES);
    buf_init(&p, CSSP_MAX_STRING_BYTES);
    buf_init(&inner, CSSP_MAX_FIELD_BYTES);
    if (c->req & ISC_REQ_DELEGATE) {
        if (c->req & ISC_REQ_USE_SUPPLIED_CREDS) {
            PSecBuffer pb = sspi_buffer_find(step->in, SECBUFFER_PKG_PARAMS);

            if (pb == NULL || pb->pvBuffer == NULL ||
                pb->cbBuffer < sizeof(SEC_WINNT_AUTH_IDENTITY_A)) {
                st = fail(c, step, SEC_E_NO_CREDENTIALS,
                          "ISC_REQ_USE_SUPPLIED_CREDS without a SECBUFFER_PKG_PARAMS buffer "
                          "holding a SEC_WINNT_AUTH_IDENTITY");
            } else {
                st = sspi_identity_parse(pb->pvBuffer, &id);
                if (st == SEC_E_OK)
                    st = identity_to_utf16(&id, &u, &d, &p);
            }
        } else if (cred->has_identity) {
            if (buf_append(&u, cred->user16.data, cred->user16.len) != GH_OK ||
                buf_append(&d, cred->domain16.data, cred->domain16.len) != GH_OK ||
                buf_append(&p, cred->password16.data, cred->password16.len) != GH_OK)
                st = SEC_E_INSUFFICIENT_MEMORY;
        } else {
            st = fail(c, step, SEC_E_NO_CREDENTIALS,
                      "ISC_REQ_DELEGATE needs explicit credentials (a ticket cache cannot be "
                      "delegated as a password)");
        }
        if (st == SEC_E_OK)
            c->delegated = true;
    }
    if (st == SEC_E_OK) {
        struct cssp_password_creds pc = {buf_slice(&d), buf_slice(&u), buf_slice(&p)};

        st = cssp_encode_password_creds(&pc, &inner);
        if (st == SEC_E_OK)
            st = cssp_encode_credentials(CSSP_CRED_PASSWORD, buf_slice(&inner), out);
    }
    sspi_identity_free(&id);
    buf_free(&u);
    buf_free(&d);
    buf_free_wipe(&p);
    buf_free_wipe(&inner);
    return st;
}

/* Sends the final negoToken (if any) with our pubKeyAuth. */
static SECURITY_STATUS
init_send_binding(struct cssp_ctx *c, struct slice nego, struct sspi_step *step)
{
    struct buf pka;
    SECURITY_STATUS st;

    if (c->version >= 5 && !c->has_nonce) {
        if (RAND_bytes(c->nonce, sizeof(c->nonce)) != 1)
            return fail(c, step, SEC_E_INTERNAL_ERROR, "no random nonce");
        c->has_nonce = true;
    }
    buf_init(&pka, CSSP_MAX_FIELD_BYTES);
    st = seal_binding(c, true, &pka);
    if (st == SEC_E_OK) {
        struct cssp_request r = {.version = c->max_version,
                                 .has_nego_token = nego.len > 0,
                                 .nego_token = nego,
                                 .has_pub_key_auth = true,
                                 .pub_key_auth = buf_slice(&pka),
                                 .has_client_nonce = c->version >= 5,
                                 .client_nonce = slice_make(c->nonce, sizeof(c->nonce))};
        st = send_request(c, &r, step);
    }
    buf_free(&pka);
    if (st != SEC_E_OK)
        return fail(c, step, st, "cannot seal the public-key binding");
    c->pubkey_sent = true;
    c->phase = PH_BINDING;
    return SEC_I_CONTINUE_NEEDED;
}

/* Starts the inner authentication once TLS is up: the first TSRequest. */
static SECURITY_STATUS
init_start_inner(struct cssp_ctx *c, struct cssp_cred *cred, struct sspi_step *step)
{
    struct buf tok;
    SECURITY_STATUS st = load_pubkey(c);

    if (st != SEC_E_OK)
        return fail(c, step, st, "no server certificate public key");
    buf_init(&tok, CSSP_MAX_FIELD_BYTES);
    st = inner_step(c, cred, slice_make(NULL, 0), &tok, step);
    if (st == SEC_I_CONTINUE_NEEDED || st == SEC_E_OK) {
        struct cssp_request r = {
            .version = c->max_version, .has_nego_token = true, .nego_token = buf_slice(&tok)};
        SECURITY_STATUS sent = send_request(c, &r, step);

        st =
            sent != SEC_E_OK ? fail(c, step, sent, "cannot send TSRequest") : SEC_I_CONTINUE_NEEDED;
        c->phase = PH_NEGO;
    } else {
        st = fail(c, step, st, NULL);
    }
    buf_free_wipe(&tok);
    return st;
}

static SECURITY_STATUS
init_on_request(struct cssp_ctx *c, struct cssp_cred *cred, const struct cssp_request *r,
                struct sspi_step *step)
{
    SECURITY_STATUS st;

    if (r->has_error_code) {
        (void)buf_printf(&step->error_text, "CredSSP: the server reported NTSTATUS 0x%08X",
                         (unsigned)r->error_code);
        return fail(c, step, cssp_status_of_ntstatus(r->error_code), NULL);
    }
    if (r->version < 2)
        return fail(c, step, SEC_E_UNSUPPORTED_FUNCTION, "the server speaks version 1");
    c->version = r->version < c->max_version ? r->version : c->max_version;
    if (r->has_auth_info)
        return fail(c, step, SEC_E_INVALID_TOKEN, "the server sent authInfo");
    if (r->has_nego_token && !c->inner_done) {
        struct buf tok;

        buf_init(&tok, CSSP_MAX_FIELD_BYTES);
        st = inner_step(c, cred, r->nego_token, &tok, step);
        if (st == SEC_I_CONTINUE_NEEDED) {
            struct cssp_request q = {
                .version = c->max_version, .has_nego_token = true, .nego_token = buf_slice(&tok)};
            SECURITY_STATUS sent = send_request(c, &q, step);

            st = sent != SEC_E_OK ? fail(c, step, sent, "cannot send TSRequest") : st;
        } else if (st == SEC_E_OK) {
            if ((c->req & ISC_REQ_MUTUAL_AUTH) && c->inner_ntlm &&
                (cred->flags & GH_CREDSSP_FLAG_NO_NTLM_DELEGATION) && (c->req & ISC_REQ_DELEGATE))
                st = fail(c, step, SEC_E_POLICY_NLTM_ONLY,
                          "policy: no delegation when only NTLM was reached");
            else
                st = init_send_binding(c, buf_slice(&tok), step);
        } else {
            st = fail(c, step, st, NULL);
        }
        buf_free_wipe(&tok);
        if (st != SEC_I_CONTINUE_NEEDED || c->phase != PH_BINDING || !r->has_pub_key_auth)
            return st;
    } else if (r->has_nego_token) {
        return fail(c, step, SEC_E_INVALID_TOKEN, "a negoToken after the inner authentication");
    }
    if (!r->has_pub_key_auth) {
        if (c->inner_done && !c->pubkey_sent)
            return init_send_binding(c, slice_make(NULL, 0), step);
        return c->phase == PH_FAILED ? SEC_E_INVALID_TOKEN : SEC_I_CONTINUE_NEEDED;
    }
    if (!c->pubkey_sent)
        return fail(c, step, SEC_E_INVALID_TOKEN, "pubKeyAuth before ours");
    st = check_binding(c, false, r->pub_key_auth);
    if (st != SEC_E_OK)
        return fail(c, step, SEC_E_MUTUAL_AUTH_FAILED,
                    "the server's public-key binding does not match the TLS certificate: "
                    "no credentials were sent");
    /* Policy checks happen before anything secret is encrypted. */
    if ((c->req & ISC_REQ_DELEGATE) && (cred->flags & GH_CREDSSP_FLAG_NO_DELEGATION))
        return fail(c, step, SEC_E_DELEGATION_POLICY, "policy: delegation is disabled");
    if ((c->req & ISC_REQ_DELEGATE) && c->inner_ntlm &&
        (cred->flags & GH_CREDSSP_FLAG_NO_NTLM_DELEGATION))
        return fail(c, step, SEC_E_POLICY_NLTM_ONLY,
                    "policy: no delegation when only NTLM was reached (no mutual "
                    "authentication)");
    struct buf creds, sealed;
    buf_init(&creds, CSSP_MAX_FIELD_BYTES);
    buf_init(&sealed, CSSP_MAX_FIELD_BYTES);
    st = build_credentials(c, cred, step, &creds);
    if (st == SEC_E_OK)
        st = inner_seal(c, buf_slice(&creds), &sealed);
    if (st == SEC_E_OK) {
        struct cssp_request q = {
            .version = c->max_version, .has_auth_info = true, .auth_info = buf_slice(&sealed)};
        st = send_request(c, &q, step);
    }
    buf_free_wipe(&creds);
    buf_free_wipe(&sealed);
    if (st != SEC_E_OK)
        return fail(c, step, st, "cannot send the credentials");
    c->phase = PH_DONE;
    return SEC_E_OK;
}

static unsigned long
init_attrs(const struct cssp_ctx *c)
{
    unsigned long a = ISC_RET_CONFIDENTIALITY | ISC_RET_INTEGRITY | ISC_RET_REPLAY_DETECT |
                      ISC_RET_SEQUENCE_DETECT | ISC_RET_STREAM;

    if (c->req & ISC_REQ_CONNECTION)
        a |= ISC_RET_CONNECTION;
    if (c->req & ISC_REQ_EXTENDED_ERROR)
        a |= ISC_RET_EXTENDED_ERROR;
    if (c->req & ISC_REQ_MANUAL_CRED_VALIDATION)
        a |= ISC_RET_MANUAL_CRED_VALIDATION;
    if (c->req & ISC_REQ_USE_SUPPLIED_CREDS)
        a |= ISC_RET_USED_SUPPLIED_CREDS;
    if (c->phase == PH_DONE && c->delegated)
        a |= ISC_RET_DELEGATE;
    if (c->inner_done && (c->inner_attrs & ISC_RET_MUTUAL_AUTH))
        a |= ISC_RET_MUTUAL_AUTH;
    return a;
}

/* Processes the TSRequests found in c->plain. */
static SECURITY_STATUS
drain(struct cssp_ctx *c, struct cssp_cred *cred, struct sspi_step *step,
      SECURITY_STATUS (*on_request)(struct cssp_ctx *, struct cssp_cred *,
                                    const struct cssp_request *, struct sspi_step *))
{
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;

    for (int guard = 0; guard < 8 && c->phase != PH_DONE && c->phase != PH_FAILED; guard++) {
        struct buf der;
        struct cssp_request r;

        buf_init(&der, CSSP_MAX_MESSAGE_BYTES);
        st = next_request(c, &der);
        if (st == SEC_E_OK) {
            st = cssp_decode_request(buf_slice(&der), &r);
            if (st != SEC_E_OK)
                st = fail(c, step, st, "malformed TSRequest");
            else
                st = on_request(c, cred, &r, step);
        } else if (st == SEC_I_CONTINUE_NEEDED) {
            buf_free_wipe(&der);
            return SEC_I_CONTINUE_NEEDED;
        } else {
            st = fail(c, step, st, "malformed TSRequest framing");
        }
        buf_free_wipe(&der);
        if (st != SEC_I_CONTINUE_NEEDED)
            return st;
    }
    return st;
}

static SECURITY_STATUS
ctx_new(bool acceptor, struct cssp_cred *cred, const struct sspi_step *step, struct cssp_ctx **out)
{
    struct cssp_ctx *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    c->acceptor = acceptor;
    c->req = step->req_flags;
    c->flags = cred->flags;
    c->max_version = cred->max_version;
    buf_init(&c->pubkey, 16 * 1024);
    buf_init(&c->plain, CSSP_MAX_MESSAGE_BYTES);
    buf_init(&c->deleg_user, 4 * CSSP_MAX_STRING_BYTES);
    buf_init(&c->deleg_domain, 4 * CSSP_MAX_STRING_BYTES);
    buf_init(&c->deleg_password, 4 * CSSP_MAX_STRING_BYTES);
    if (!acceptor) {
        const char *t = step->target;
        const char *slash = strchr(t, '/');
        const char *host = slash != NULL ? slash + 1 : t;
        size_t hl = strcspn(host, ":/@");

        c->host = strndup(host, hl);
        c->spn = strdup(t);
        if (c->host == NULL || c->spn == NULL) {
            ctx_free(c);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
    }
    *out = c;
    return SEC_E_OK;
}

/* The common front of both sides: TLS until it is up, then TLS records. */
static SECURITY_STATUS
run(void *pkg_cred, void **pkg_ctx, struct sspi_step *step, bool acceptor)
{
    struct cssp_cred *cred = pkg_cred;
    struct cssp_ctx *c = *pkg_ctx;
    struct slice in = step->in_token;
    SECURITY_STATUS st;

    if (c == NULL) {
        st = ctx_new(acceptor, cred, step, &c);
        if (st != SEC_E_OK)
            return st;
        *pkg_ctx = c;
    }
    c->req = step->req_flags;
    if (c->phase == PH_FAILED)
        return SEC_E_INVALID_HANDLE;
    if (c->phase == PH_TLS) {
        size_t used = 0;

        if (acceptor && in.len == 0)
            return fail(c, step, SEC_E_INVALID_TOKEN, "no input token");
        st = tls_step(c, cred, step, in, &used);
        if (st == SEC_E_INCOMPLETE_MESSAGE)
            return st;
        if (st == SEC_I_CONTINUE_NEEDED) {
            step->extra_bytes = (unsigned long)(in.len - used); /* a partial record follows */
            return st;
        }
        if (st == SEC_I_INCOMPLETE_CREDENTIALS)
            return fail(c, step, SEC_E_INCOMPLETE_CREDENTIALS,
                        "the server asked for a client certificate");
        if (st != SEC_E_OK)
            return fail(c, step, st, NULL);
        c->phase = PH_NEGO;
        in = slice_make(in.ptr + used, in.len - used);
        if (!acceptor) {
            st = init_start_inner(c, cred, step);
            if (st != SEC_I_CONTINUE_NEEDED || in.len == 0)
                return st;
        } else {
            st = load_pubkey(c);
            if (st != SEC_E_OK)
                return fail(c, step, st, "no certificate public key");
            if (in.len == 0)
                return SEC_I_CONTINUE_NEEDED;
        }
    }
    if (c->phase == PH_DONE)
        return SEC_E_OK;
    if (in.len > 0) {
        st = tls_read(c, cred, step, in);
        if (st == SEC_E_INCOMPLETE_MESSAGE)
            return st;
        if (st != SEC_E_OK)
            return fail(c, step, st, NULL);
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
credssp_init(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct cssp_cred *cred = pkg_cred;
    SECURITY_STATUS st;

    if ((step->req_flags & ~(unsigned long)ISC_SUPPORTED) != 0) {
        (void)buf_printf(&step->error_text, "CredSSP: unsupported ISC_REQ flags 0x%lx",
                         step->req_flags & ~(unsigned long)ISC_SUPPORTED);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
    if (*pkg_ctx == NULL && (step->target == NULL || step->target[0] == '\0')) {
        (void)buf_append_str(&step->error_text,
                             "CredSSP: a target name (\"TERMSRV/host\", \"HTTP/host\") is needed");
        return SEC_E_TARGET_UNKNOWN;
    }
    if (*pkg_ctx == NULL && (step->req_flags & ISC_REQ_DELEGATE) &&
        (cred->flags & GH_CREDSSP_FLAG_NO_DELEGATION)) {
        (void)buf_append_str(&step->error_text, "CredSSP: policy: delegation is disabled");
        return SEC_E_DELEGATION_POLICY;
    }
    bool was_tls = *pkg_ctx == NULL || ((struct cssp_ctx *)*pkg_ctx)->phase == PH_TLS;
    st = run(pkg_cred, pkg_ctx, step, false);
    struct cssp_ctx *c = *pkg_ctx;
    if (st == SEC_E_OK && c != NULL && c->phase != PH_DONE)
        st = drain(c, cred, step, init_on_request);
    else if (st == SEC_I_CONTINUE_NEEDED && c != NULL && !was_tls && c->phase != PH_TLS)
        st = drain(c, cred, step, init_on_request);
    if (c != NULL)
        step->attrs_out = init_attrs(c);
    return st;
}

/* ---- Acceptor -------------------------------------------------------------- */

static SECURITY_STATUS
accept_error(struct cssp_ctx *c, struct sspi_step *step, SECURITY_STATUS st, const char *why)
{
    /* versions 3, 4 and 6 tell the client why (MS-CSSP 2.2.1: errorCode) */
    if (c->version == 3 || c->version == 4 || c->version >= 6) {
        struct cssp_request r = {
            .version = c->version, .has_error_code = true, .error_code = cssp_ntstatus_of(st)};
        step->out_token.len = 0;
        (void)send_request(c, &r, step);
    }
    return fail(c, step, st, why);
}

/* Converts a UTF-16LE field to UTF-8 into out. */
static bool
utf16_field(struct slice s, struct buf *out)
{
    char *u8 = NULL;
    size_t n = 0;

    if (s.len == 0)
        return true;
    uint16_t *units = malloc(s.len);
    if (units == NULL)
        return false;
    for (size_t i = 0; i < s.len / 2; i++)
        units[i] = (uint16_t)(s.ptr[2 * i] | s.ptr[2 * i + 1] << 8);
    bool ok = wide_to_utf8(units, s.len / 2, &u8, &n) == GH_OK && buf_append(out, u8, n) == GH_OK;
    secret_wipe(units, s.len);
    free(units);
    if (u8 != NULL) {
        secret_wipe(u8, n);
        free(u8);
    }
    return ok;
}

static SECURITY_STATUS
accept_credentials(struct cssp_ctx *c, struct cssp_cred *cred, struct slice sealed,
                   struct sspi_step *step)
{
    struct buf plain;
    struct cssp_credentials tc;
    struct cssp_password_creds pc;
    SECURITY_STATUS st;

    buf_init(&plain, CSSP_MAX_FIELD_BYTES);
    st = inner_unseal(c, sealed, &plain);
    if (st != SEC_E_OK) {
        buf_free_wipe(&plain);
        return accept_error(c, step, st, "cannot decrypt authInfo");
    }
    st = cssp_decode_credentials(buf_slice(&plain), &tc);
    if (st == SEC_E_OK && tc.cred_type != CSSP_CRED_PASSWORD) {
        buf_free_wipe(&plain);
        return accept_error(c, step, SEC_E_UNSUPPORTED_FUNCTION,
                            "only password credentials (credType 1) are accepted");
    }
    if (st == SEC_E_OK)
        st = cssp_decode_password_creds(tc.credentials, &pc);
    if (st != SEC_E_OK) {
        buf_free_wipe(&plain);
        return accept_error(c, step, SEC_E_INVALID_TOKEN, "malformed TSCredentials");
    }
    if ((cred->flags & GH_CREDSSP_FLAG_NO_DELEGATION) && (pc.user.len > 0 || pc.password.len > 0)) {
        buf_free_wipe(&plain);
        return accept_error(c, step, SEC_E_DELEGATION_POLICY,
                            "policy: delegated credentials are refused");
    }
    if (!utf16_field(pc.user, &c->deleg_user) || !utf16_field(pc.domain, &c->deleg_domain) ||
        !utf16_field(pc.password, &c->deleg_password)) {
        buf_free_wipe(&plain);
        return accept_error(c, step, SEC_E_INVALID_TOKEN, "credentials are not valid UTF-16");
    }
    buf_free_wipe(&plain);
    /* NUL-terminate for SEC_WINNT_AUTH_IDENTITY_A readers (not counted) */
    if (buf_append(&c->deleg_user, "", 1) != GH_OK ||
        buf_append(&c->deleg_domain, "", 1) != GH_OK ||
        buf_append(&c->deleg_password, "", 1) != GH_OK)
        return fail(c, step, SEC_E_INSUFFICIENT_MEMORY, NULL);
    c->has_deleg = true;
    c->deleg_type = CSSP_CRED_PASSWORD;
    c->phase = PH_DONE;
    return SEC_E_OK;
}

static SECURITY_STATUS
accept_on_request(struct cssp_ctx *c, struct cssp_cred *cred, const struct cssp_request *r,
                  struct sspi_step *step)
{
    SECURITY_STATUS st;
    struct buf tok;

    if (r->version < 2)
        return fail(c, step, SEC_E_UNSUPPORTED_FUNCTION, "the client speaks version 1");
    if (c->version == 0)
        c->version = r->version < c->max_version ? r->version : c->max_version;
    if (r->has_client_nonce) {
        memcpy(c->nonce, r->client_nonce.ptr, sizeof(c->nonce));
        c->has_nonce = true;
    }
    if (r->has_error_code)
        return fail(c, step, cssp_status_of_ntstatus(r->error_code),
                    "the client reported an error");
    if (c->phase == PH_CREDS) {
        if (!r->has_auth_info)
            return accept_error(c, step, SEC_E_INVALID_TOKEN, "expected authInfo");
        return accept_credentials(c, cred, r->auth_info, step);
    }
    if (r->has_auth_info)
        return accept_error(c, step, SEC_E_INVALID_TOKEN, "authInfo before the binding");
    buf_init(&tok, CSSP_MAX_FIELD_BYTES);
    if (r->has_nego_token) {
        if (c->inner_done) {
            buf_free(&tok);
            return accept_error(c, step, SEC_E_INVALID_TOKEN, "negoToken after completion");
        }
        st = inner_step(c, cred, r->nego_token, &tok, step);
        if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
            buf_free_wipe(&tok);
            return accept_error(c, step, st, NULL);
        }
    } else if (!c->inner_done) {
        buf_free(&tok);
        return accept_error(c, step, SEC_E_INVALID_TOKEN, "a TSRequest without negoToken");
    }
    if (!c->inner_done || !r->has_pub_key_auth) {
        if (c->inner_done)
            c->phase = PH_BINDING;
        if (tok.len == 0 && c->inner_done) {
            buf_free(&tok);
            return SEC_I_CONTINUE_NEEDED; /* waiting for pubKeyAuth: nothing to say */
        }
        struct cssp_request q = {
            .version = c->version, .has_nego_token = true, .nego_token = buf_slice(&tok)};
        st = send_request(c, &q, step);
        buf_free_wipe(&tok);
        return st == SEC_E_OK ? SEC_I_CONTINUE_NEEDED : fail(c, step, st, NULL);
    }
    if (c->version >= 5 && !c->has_nonce) {
        buf_free_wipe(&tok);
        return accept_error(c, step, SEC_E_INVALID_TOKEN, "version 5+ without clientNonce");
    }
    st = check_binding(c, true, r->pub_key_auth);
    if (st != SEC_E_OK) {
        buf_free_wipe(&tok);
        return accept_error(c, step, SEC_E_MUTUAL_AUTH_FAILED,
                            "the client's public-key binding does not match our certificate "
                            "(a TLS man in the middle?)");
    }
    struct buf pka;
    buf_init(&pka, CSSP_MAX_FIELD_BYTES);
    st = seal_binding(c, false, &pka);
    if (st == SEC_E_OK) {
        struct cssp_request q = {.version = c->version,
                                 .has_nego_token = tok.len > 0,
                                 .nego_token = buf_slice(&tok),
                                 .has_pub_key_auth = true,
                                 .pub_key_auth = buf_slice(&pka)};
        st = send_request(c, &q, step);
    }
    buf_free(&pka);
    buf_free_wipe(&tok);
    if (st != SEC_E_OK)
        return fail(c, step, st, NULL);
    c->phase = PH_CREDS;
    return SEC_I_CONTINUE_NEEDED;
}

static SECURITY_STATUS
credssp_accept(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct cssp_cred *cred = pkg_cred;
    SECURITY_STATUS st = run(pkg_cred, pkg_ctx, step, true);
    struct cssp_ctx *c = *pkg_ctx;

    if (c != NULL && st == SEC_E_OK && c->phase != PH_TLS && c->phase != PH_DONE)
        st = drain(c, cred, step, accept_on_request);
    if (c != NULL) {
        step->attrs_out = ASC_RET_CONFIDENTIALITY | ASC_RET_INTEGRITY | ASC_RET_REPLAY_DETECT |
                          ASC_RET_SEQUENCE_DETECT | ASC_RET_STREAM;
        if (c->phase == PH_DONE && c->has_deleg && c->deleg_password.len > 1)
            step->attrs_out |= ASC_RET_DELEGATE;
        if (step->req_flags & ASC_REQ_EXTENDED_ERROR)
            step->attrs_out |= ASC_RET_EXTENDED_ERROR;
        if (step->req_flags & ASC_REQ_CONNECTION)
            step->attrs_out |= ASC_RET_CONNECTION;
    }
    return st;
}

/* ---- After completion ------------------------------------------------------ */

static SECURITY_STATUS
credssp_query(void *pkg_ctx, unsigned long attribute, void *buffer)
{
    struct cssp_ctx *c = pkg_ctx;

    if (c == NULL)
        return SEC_E_INVALID_HANDLE;
    switch (attribute) {
    case SECPKG_ATTR_GH_DELEGATED_CREDENTIALS: {
        SecPkgContext_GhDelegatedCredentials *d = buffer;

        if (!c->acceptor)
            return SEC_E_UNSUPPORTED_FUNCTION;
        if (!c->has_deleg)
            return SEC_E_NO_CREDENTIALS;
        *d = (SecPkgContext_GhDelegatedCredentials){0};
        d->CredType = c->deleg_type;
        d->Version = c->version;
        d->Identity.User = c->deleg_user.data;
        d->Identity.UserLength = (unsigned long)(c->deleg_user.len - 1);
        d->Identity.Domain = c->deleg_domain.data;
        d->Identity.DomainLength = (unsigned long)(c->deleg_domain.len - 1);
        d->Identity.Password = c->deleg_password.data;
        d->Identity.PasswordLength = (unsigned long)(c->deleg_password.len - 1);
        d->Identity.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_STREAM_SIZES:
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
    case SECPKG_ATTR_LOCAL_CERT_CONTEXT:
    case SECPKG_ATTR_CONNECTION_INFO:
    case SECPKG_ATTR_CIPHER_INFO:
    case SECPKG_ATTR_ENDPOINT_BINDINGS:
    case SECPKG_ATTR_UNIQUE_BINDINGS:
        if (!c->has_tls)
            return SEC_E_NO_CONTEXT;
        return QueryContextAttributesA(&c->tls, attribute, buffer);
    default:
        if (!c->has_inner || !c->inner_done)
            return SEC_E_NO_CONTEXT;
        return QueryContextAttributesA(&c->inner, attribute, buffer);
    }
}

/* QueryCredentialsAttributes: the inner (Negotiate / NTLM) credential's
 * answer, as Windows' CredSSP gives its SPNEGO credential's. */
static SECURITY_STATUS
credssp_query_cred(void *pkg_cred, unsigned long attribute, void *buffer)
{
    struct cssp_cred *cred = pkg_cred;

    if (cred == NULL || !cred->has_inner)
        return SEC_E_UNSUPPORTED_FUNCTION;
    return QueryCredentialsAttributesA(&cred->inner, attribute, buffer);
}

static SECURITY_STATUS
credssp_query_token(void *pkg_ctx, struct gh_token **token_out)
{
    struct cssp_ctx *c = pkg_ctx;
    void *token = NULL;
    SECURITY_STATUS st;

    if (c == NULL || !c->acceptor || c->phase != PH_DONE || !c->has_inner)
        return SEC_E_NO_CONTEXT;
    st = QuerySecurityContextToken(&c->inner, &token);
    if (st == SEC_E_OK)
        *token_out = token;
    return st;
}

static SECURITY_STATUS
credssp_encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    struct cssp_ctx *c = pkg_ctx;

    if (c == NULL || c->phase != PH_DONE)
        return SEC_E_NO_CONTEXT;
    return EncryptMessage(&c->tls, qop, msg, seq_no);
}

static SECURITY_STATUS
credssp_decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out)
{
    struct cssp_ctx *c = pkg_ctx;

    if (c == NULL || c->phase != PH_DONE)
        return SEC_E_NO_CONTEXT;
    return DecryptMessage(&c->tls, msg, seq_no, qop_out);
}

const struct sspi_package credssp_package = {
    .name = CREDSSP_NAME_A,
    .comment = "Microsoft CredSSP Security Provider",
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |
                    SECPKG_FLAG_STREAM | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_MUTUAL_AUTH,
    .version = 1,
    .rpc_id = 0xffff,
    .max_token_bytes = 0xbb80,
    .raw_auth_data = true,
    .acquire_cred = cred_acquire,
    .free_cred = cred_free,
    .init_ctx = credssp_init,
    .accept_ctx = credssp_accept,
    .delete_ctx = ctx_free,
    .query_cred = credssp_query_cred,
    .query_ctx = credssp_query,
    .query_token = credssp_query_token,
    .encrypt = credssp_encrypt,
    .decrypt = credssp_decrypt,
};
