// SPDX-License-Identifier: MIT
// Fuzzes the SECBUFFER_APPLICATION_PROTOCOLS parser of the Schannel package
// (src/sspi/schannel/handshake.c, alpn_from_input) through the public API:
// the input is the buffer's bytes, given to the first InitializeSecurityContext
// call of a client. Invariants: never crash or leak; the call either starts
// the handshake (SEC_I_CONTINUE_NEEDED, a ClientHello out, a context made) or
// refuses the buffer with SEC_E_INVALID_TOKEN and makes no context.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static CredHandle client_cred;
static int ready;

static void
cleanup(void)
{
    FreeCredentialsHandle(&client_cred);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION,
                        .dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION};
    uint8_t *copy;
    SecBuffer in = {0, SECBUFFER_APPLICATION_PROTOCOLS, NULL};
    SecBuffer out = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc ind = {SECBUFFER_VERSION, 1, &in}, outd = {SECBUFFER_VERSION, 1, &out};
    CtxtHandle ctx;
    unsigned long attrs = 0;
    SECURITY_STATUS st;

    if (!ready) {
        if (AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sc, NULL,
                                      NULL, &client_cred, NULL) != SEC_E_OK)
            abort();
        atexit(cleanup);
        ready = 1;
    }
    if (size > 65536)
        return 0;
    copy = malloc(size + 1); /* an exact-size heap copy: ASan sees over-reads */
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    in.cbBuffer = (unsigned long)size;
    in.pvBuffer = size > 0 ? copy : NULL;
    SecInvalidateHandle(&ctx);
    st = InitializeSecurityContextA(&client_cred, NULL, (SEC_CHAR *)"localhost",
                                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM, 0, 0, &ind, 0, &ctx,
                                    &outd, &attrs, NULL);
    if (st == SEC_I_CONTINUE_NEEDED) {
        if (out.cbBuffer == 0 || !SecIsValidHandle(&ctx))
            abort();
        DeleteSecurityContext(&ctx);
    } else if (st != SEC_E_INVALID_TOKEN || SecIsValidHandle(&ctx)) {
        abort();
    }
    FreeContextBuffer(out.pvBuffer);
    free(copy);
    return 0;
}
