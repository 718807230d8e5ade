// SPDX-License-Identifier: MIT
// Fuzzes the Negotiate acceptor (src/sspi/negotiate/negotiate.c) without a KDC:
// the input is split into up to three tokens (two-byte big-endian lengths) fed
// to successive AcceptSecurityContext legs. The acceptor has a Kerberos
// credential from an empty keytab when one can be made, else none, so every
// path must fail cleanly: a failure status, never SEC_E_OK, no crash or leak.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sspi/negotiate/negotiate.h"
#include "sspi/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *cred;
static bool cred_tried;

static void *
acceptor_cred(void)
{
    if (!cred_tried) {
        cred_tried = true;
        /* A keytab file that exists but holds no keys: Kerberos acquisition
         * fails, NTLM has no user store: Negotiate refuses to make a credential. */
        GH_ACCEPTOR_AUTH_DATA acc = {.Version = GH_ACCEPTOR_AUTH_DATA_V1,
                                     .Keytab = "/nonexistent/gh-fuzz.keytab",
                                     .UserStore = "/nonexistent/gh-fuzz.users"};
        struct sspi_acquire args = {.use = SECPKG_CRED_INBOUND, .acceptor = &acc};
        if (negotiate_package.acquire_cred(&args, &cred) != SEC_E_OK)
            cred = NULL;
    }
    return cred;
}

/* A stand-in credential set with neither mechanism, to reach the decoder and
 * the mechanism choice even when no real credential exists. */
struct fake_cred {
    void *krb;
    void *ntlm;
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake_cred none = {NULL, NULL};
    void *c = acceptor_cred();
    void *ctx = NULL;
    size_t pos = 0;

    if (c == NULL)
        c = &none;
    for (int leg = 0; leg < 3 && pos + 2 <= size; leg++) {
        size_t len = ((size_t)data[pos] << 8) | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        struct sspi_step step = {0};
        step.in_token = slice_make(data + pos, len);
        pos += len;
        buf_init(&step.out_token, 65536);
        buf_init(&step.error_text, 4096);
        SECURITY_STATUS st = negotiate_package.accept_ctx(c, &ctx, &step);
        buf_free(&step.out_token);
        buf_free(&step.error_text);
        if (st == SEC_E_OK)
            __builtin_trap(); /* no credential can authenticate anyone */
        if (st != SEC_I_CONTINUE_NEEDED)
            break;
    }
    if (ctx != NULL)
        negotiate_package.delete_ctx(ctx);
    return 0;
}
