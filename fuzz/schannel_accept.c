// SPDX-License-Identifier: MIT
// Fuzzes the Schannel acceptor through the public SSPI API.
// First byte 0: the rest is a sequence of client flights, each a 2-byte
// little-endian length and that many bytes, given to AcceptSecurityContext
// one call each (what SECBUFFER_EXTRA gives back is kept in front of the next
// flight, as a caller would). First byte 1: a real handshake with our own
// initiator, then the rest is given to DecryptMessage on the acceptor, record
// by record (EXTRA), with SEC_I_RENEGOTIATE going back to the handshake.
// Invariants: never crash or leak; SEC_E_INCOMPLETE_MESSAGE always names a
// missing count; EXTRA never exceeds the input; a failed context refuses more.
// The server certificate is made at start-up (tests/harness/testcerts.h).
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>

#include "../tests/harness/testcerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct testcerts tc;
static CredHandle server_cred, client_cred;

static void
cleanup(void)
{
    FreeCredentialsHandle(&server_cred);
    FreeCredentialsHandle(&client_cred);
    testcerts_remove(&tc);
}

static void
setup(void)
{
    PCCERT_CONTEXT cert = NULL;
    HCERTSTORE roots = NULL;

    if (testcerts_make(&tc) != 0 ||
        GhCertCreateContextFromPemFiles(tc.server, NULL, 0, &cert) != SEC_E_OK ||
        GhCertOpenStoreFromPemFile(tc.ca, &roots) != SEC_E_OK)
        __builtin_trap();
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION, .cCreds = 1, .paCred = &cert};
    SCHANNEL_CRED cc = {.dwVersion = SCHANNEL_CRED_VERSION, .hRootStore = roots};
    if (AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL, NULL,
                                  &server_cred, NULL) != SEC_E_OK ||
        AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &cc, NULL,
                                  NULL, &client_cred, NULL) != SEC_E_OK)
        __builtin_trap();
    CertFreeCertificateContext(cert);
    CertCloseStore(roots, 0);
    atexit(cleanup);
}

/* One call; in/in_len is what the caller holds, *used_out what was consumed. */
static SECURITY_STATUS
step(bool is_server, CtxtHandle *ctx, bool *has_ctx, const uint8_t *in, size_t in_len, uint8_t *out,
     size_t *out_len, size_t *used_out)
{
    SecBuffer ib[2] = {{(unsigned long)in_len, SECBUFFER_TOKEN, (void *)in},
                       {0, SECBUFFER_EMPTY, NULL}};
    SecBuffer ob[2] = {{0, SECBUFFER_TOKEN, NULL}, {0, SECBUFFER_ALERT, NULL}};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib}, od = {SECBUFFER_VERSION, 2, ob};
    unsigned long attrs;
    SECURITY_STATUS st;

    *used_out = 0;
    if (is_server)
        st = AcceptSecurityContext(&server_cred, *has_ctx ? ctx : NULL, &id,
                                   ASC_REQ_ALLOCATE_MEMORY, 0, ctx, &od, &attrs, NULL);
    else
        st = InitializeSecurityContextA(&client_cred, *has_ctx ? ctx : NULL, "localhost",
                                        ISC_REQ_ALLOCATE_MEMORY, 0, 0, in_len ? &id : NULL, 0, ctx,
                                        &od, &attrs, NULL);
    if (st == SEC_E_INCOMPLETE_MESSAGE) {
        if (ib[1].BufferType != SECBUFFER_MISSING || ib[1].cbBuffer == 0)
            __builtin_trap();
        return st;
    }
    if (st < 0)
        return st;
    *has_ctx = true;
    if (ib[1].BufferType == SECBUFFER_EXTRA) {
        if (ib[1].cbBuffer > in_len)
            __builtin_trap();
        *used_out = in_len - ib[1].cbBuffer;
    } else {
        *used_out = in_len;
    }
    if (out != NULL && ob[0].cbBuffer > 0 && *out_len + ob[0].cbBuffer <= 65536) {
        memcpy(out + *out_len, ob[0].pvBuffer, ob[0].cbBuffer);
        *out_len += ob[0].cbBuffer;
    }
    FreeContextBuffer(ob[0].pvBuffer);
    return st;
}

static void
accept_flights(const uint8_t *data, size_t size)
{
    static uint8_t held[65536 * 2];
    size_t held_len = 0, pos = 0;
    CtxtHandle ctx;
    bool has_ctx = false, failed = false;

    for (int i = 0; i < 64 && pos + 2 <= size; i++) {
        size_t n = (size_t)data[pos] | (size_t)data[pos + 1] << 8, used = 0;
        SECURITY_STATUS st;

        pos += 2;
        if (n > size - pos)
            n = size - pos;
        if (held_len + n > sizeof(held))
            break;
        memcpy(held + held_len, data + pos, n);
        held_len += n;
        pos += n;
        st = step(true, &ctx, &has_ctx, held, held_len, NULL, NULL, &used);
        if (st == SEC_E_INCOMPLETE_MESSAGE)
            continue;
        if (failed && st >= 0)
            __builtin_trap(); /* a failed context must stay failed */
        if (st < 0) {
            if (!has_ctx)
                break;
            failed = true;
            continue;
        }
        memmove(held, held + used, held_len - used);
        held_len -= used;
    }
    if (has_ctx)
        DeleteSecurityContext(&ctx);
}

static void
decrypt_stream(const uint8_t *data, size_t size)
{
    static uint8_t to_server[65536], to_client[65536], held[1 << 17];
    size_t ts = 0, tcl = 0, used, held_len;
    CtxtHandle c, s;
    bool has_c = false, has_s = false;
    SECURITY_STATUS cs, ss = SEC_I_CONTINUE_NEEDED;

    cs = step(false, &c, &has_c, NULL, 0, to_server, &ts, &used);
    for (int i = 0; i < 16 && (cs != SEC_E_OK || ss != SEC_E_OK); i++) {
        if (ts > 0) {
            ss = step(true, &s, &has_s, to_server, ts, to_client, &tcl, &used);
            memmove(to_server, to_server + used, ts - used);
            ts -= used;
        }
        if (tcl > 0 && cs != SEC_E_OK) {
            cs = step(false, &c, &has_c, to_client, tcl, to_server, &ts, &used);
            memmove(to_client, to_client + used, tcl - used);
            tcl -= used;
        }
        if (cs < 0 || ss < 0)
            __builtin_trap(); /* our own two sides must agree */
    }
    if (cs != SEC_E_OK || ss != SEC_E_OK || size > sizeof(held))
        goto cleanup;
    memcpy(held, data, size);
    held_len = size;
    for (int i = 0; i < 256 && held_len > 0; i++) {
        SecBuffer b[4] = {{(unsigned long)held_len, SECBUFFER_DATA, held},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        SECURITY_STATUS st = DecryptMessage(&s, &d, 0, NULL);

        if (st == SEC_E_INCOMPLETE_MESSAGE) {
            if (b[1].BufferType != SECBUFFER_MISSING || b[1].cbBuffer == 0)
                __builtin_trap();
            break;
        }
        if (st < 0) {
            if (DecryptMessage(&s, &d, 0, NULL) >= 0)
                __builtin_trap();
            break;
        }
        size_t extra = b[3].BufferType == SECBUFFER_EXTRA ? b[3].cbBuffer : 0;
        if (extra >= held_len || b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer + extra != held_len)
            __builtin_trap();
        memmove(held, held + held_len - extra, extra);
        held_len = extra;
        if (st == SEC_I_CONTEXT_EXPIRED)
            break;
    }
cleanup:
    if (has_c)
        DeleteSecurityContext(&c);
    if (has_s)
        DeleteSecurityContext(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;

    if (!ready) {
        setup();
        ready = true;
    }
    if (size < 1)
        return 0;
    if (data[0] == 0)
        accept_flights(data + 1, size - 1);
    else
        decrypt_stream(data + 1, size - 1);
    return 0;
}
