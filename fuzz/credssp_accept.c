// SPDX-License-Identifier: MIT
// Fuzzes the CredSSP acceptor (src/sspi/credssp/credssp.c) through the public
// SSPI API, past its TLS: each input first runs a real TLS handshake between
// a Schannel initiator and AcceptSecurityContext(CREDSSP), then is split into
// messages (a 2-byte little-endian length and that many bytes each) that the
// Schannel initiator encrypts as TLS records and the acceptor receives, one
// call per message: TSRequest decoding, the state machine, the inner
// Negotiate/NTLM tokens and the binding checks all see hostile plaintext.
// Invariants: never crash or leak; the status is SEC_E_OK,
// SEC_I_CONTINUE_NEEDED or a failure; a failed context refuses further calls;
// a SEC_E_OK context without delegated credentials cannot happen.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>

#include "../tests/harness/testcerts.h"
#include "sspi/store/userstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct testcerts tc;
static CredHandle server_cred, client_cred;
static char store[192];

static void
cleanup(void)
{
    FreeCredentialsHandle(&server_cred);
    FreeCredentialsHandle(&client_cred);
    unlink(store);
    char lock[200];
    snprintf(lock, sizeof(lock), "%s.lock", store);
    unlink(lock);
    testcerts_remove(&tc);
}

static void
setup(void)
{
    PCCERT_CONTEXT cert = NULL;
    char err[256];
    struct userstore_user u = {.name = "alice",
                               .password = "Secret-1",
                               .password_len = 8,
                               .iterations = USERSTORE_MIN_ITERATIONS};

    if (testcerts_make(&tc) != 0)
        __builtin_trap();
    snprintf(store, sizeof(store), "%s/users", tc.dir);
    if (userstore_file_put(store, &u, err, sizeof(err)) != GH_OK ||
        GhCertCreateContextFromPemFiles(tc.server, NULL, 0, &cert) != SEC_E_OK)
        __builtin_trap();
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION, .cCreds = 1, .paCred = &cert};
    GH_ACCEPTOR_AUTH_DATA ad = {.Version = GH_ACCEPTOR_AUTH_DATA_V1, .UserStore = store};
    CREDSSP_CRED cc = {CredsspSubmitBufferBoth, &sc, &ad};
    SCHANNEL_CRED client = {.dwVersion = SCHANNEL_CRED_VERSION};
    if (AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_INBOUND, NULL, &cc, NULL, NULL,
                                  &server_cred, NULL) != SEC_E_OK ||
        AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &client, NULL,
                                  NULL, &client_cred, NULL) != SEC_E_OK)
        __builtin_trap();
    CertFreeCertificateContext(cert);
    atexit(cleanup);
}

struct io {
    uint8_t buf[1 << 16];
    size_t len;
};

static SECURITY_STATUS
call(bool server, CtxtHandle *ctx, bool *has, struct io *in, struct io *out)
{
    SecBuffer ib[2] = {{(unsigned long)in->len, SECBUFFER_TOKEN, in->buf},
                       {0, SECBUFFER_EMPTY, NULL}};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib}, od = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;
    SECURITY_STATUS st;

    if (server)
        st = AcceptSecurityContext(&server_cred, *has ? ctx : NULL, &id,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR, 0, ctx, &od,
                                   &attrs, NULL);
    else
        st = InitializeSecurityContextA(&client_cred, *has ? ctx : NULL, "localhost",
                                        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_MANUAL_CRED_VALIDATION, 0,
                                        0, in->len ? &id : NULL, 0, ctx, &od, &attrs, NULL);
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        *has = true;
    if (ib[1].BufferType == SECBUFFER_EXTRA) {
        if (ib[1].cbBuffer > in->len)
            __builtin_trap();
        memmove(in->buf, in->buf + in->len - ib[1].cbBuffer, ib[1].cbBuffer);
        in->len = ib[1].cbBuffer;
    } else if (st != SEC_E_INCOMPLETE_MESSAGE) {
        in->len = 0;
    }
    out->len = 0;
    if (ob.pvBuffer != NULL) {
        if (ob.cbBuffer > sizeof(out->buf))
            __builtin_trap();
        memcpy(out->buf, ob.pvBuffer, ob.cbBuffer);
        out->len = ob.cbBuffer;
        FreeContextBuffer(ob.pvBuffer);
    }
    return st;
}

/* Encrypts msg as TLS records with the client's context into out. */
static bool
seal(CtxtHandle *ctx, const uint8_t *msg, size_t len, struct io *out)
{
    SecPkgContext_StreamSizes sz;
    static uint8_t rec[20000];

    out->len = 0;
    if (QueryContextAttributesA(ctx, SECPKG_ATTR_STREAM_SIZES, &sz) != SEC_E_OK)
        return false;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < sz.cbMaximumMessage ? len - off : sz.cbMaximumMessage;
        memcpy(rec + sz.cbHeader, msg + off, n);
        SecBuffer b[4] = {{sz.cbHeader, SECBUFFER_STREAM_HEADER, rec},
                          {(unsigned long)n, SECBUFFER_DATA, rec + sz.cbHeader},
                          {sz.cbTrailer, SECBUFFER_STREAM_TRAILER, rec + sz.cbHeader + n},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        if (EncryptMessage(ctx, 0, &d, 0) != SEC_E_OK)
            return false;
        size_t total = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
        if (out->len + total > sizeof(out->buf))
            return false;
        memcpy(out->buf + out->len, rec, total);
        out->len += total;
        off += n;
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static struct io c2s, s2c;
    CtxtHandle cctx, sctx;
    bool chas = false, shas = false;
    SECURITY_STATUS cs = SEC_I_CONTINUE_NEEDED, ss = SEC_I_CONTINUE_NEEDED;

    if (!ready) {
        setup();
        ready = true;
    }
    c2s.len = s2c.len = 0;
    for (int i = 0; i < 10 && cs == SEC_I_CONTINUE_NEEDED; i++) {
        cs = call(false, &cctx, &chas, &s2c, &c2s);
        if (c2s.len > 0)
            ss = call(true, &sctx, &shas, &c2s, &s2c);
    }
    if (cs != SEC_E_OK || ss != SEC_I_CONTINUE_NEEDED)
        __builtin_trap(); /* the real handshake must work */
    for (size_t off = 0; off + 2 <= size && ss == SEC_I_CONTINUE_NEEDED;) {
        size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (n > size - off)
            n = size - off;
        if (!seal(&cctx, data + off, n, &c2s))
            break;
        off += n;
        ss = call(true, &sctx, &shas, &c2s, &s2c);
        if (ss != SEC_E_OK && ss != SEC_I_CONTINUE_NEEDED && ss >= 0)
            __builtin_trap();
    }
    if (ss < 0 && shas) {
        /* a failed context refuses more */
        c2s.len = 1;
        c2s.buf[0] = 0x17;
        if (call(true, &sctx, &shas, &c2s, &s2c) >= 0)
            __builtin_trap();
    }
    if (ss == SEC_E_OK) {
        SecPkgContext_GhDelegatedCredentials d;
        if (QueryContextAttributesA(&sctx, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &d) != SEC_E_OK)
            __builtin_trap();
    }
    if (chas)
        DeleteSecurityContext(&cctx);
    if (shas)
        DeleteSecurityContext(&sctx);
    return 0;
}
