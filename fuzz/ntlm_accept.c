// SPDX-License-Identifier: MIT
// Fuzzes the NTLM acceptor: the input is a NEGOTIATE_MESSAGE and an
// AUTHENTICATE_MESSAGE, split by a 2-byte little-endian length prefix,
// fed to accept_ctx through the package table. The server challenge and the
// clock are fixed, so corpus entries made by a real client for that challenge
// (fuzz/corpus/ntlm_accept) reach the MIC, bindings and key-exchange code.
// Invariants: never crash, never leak, and never SEC_E_OK unless the input is
// a genuine AUTHENTICATE for user "alice" (password "Secret-1"), i.e. never
// for bytes that do not carry a valid NTProofStr.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/ntlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
lookup(void *arg, const char *user, const char *domain, uint8_t hash_out[16], char *canon,
       size_t canon_len)
{
    (void)arg;
    (void)domain;
    (void)canon;
    (void)canon_len;
    if (strcmp(user, "alice") != 0)
        return GH_ENOTFOUND;
    return ntlm_crypto_nt_hash("Secret-1", 8, hash_out) == SEC_E_OK ? GH_OK : GH_EIO;
}

static SECURITY_STATUS
leg(void *cred, void **ctx, struct slice in)
{
    struct sspi_step step = {.in_token = in};
    SECURITY_STATUS st;

    buf_init(&step.out_token, 65536);
    buf_init(&step.error_text, 1024);
    st = ntlm_package.accept_ctx(cred, ctx, &step);
    if (st == SEC_I_CONTINUE_NEEDED && step.out_token.len == 0)
        __builtin_trap();
    buf_free(&step.out_token);
    buf_free(&step.error_text);
    return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void *cred;
    struct ntlm_fixed_inputs fixed = {.has_server_challenge = true, .has_time = true};
    void *ctx = NULL;

    if (size < 2)
        return 0;
    if (cred == NULL && ntlm_cred_create_acceptor(NULL, lookup, NULL, &cred) != SEC_E_OK)
        __builtin_trap();
    size_t neg_len = (size_t)data[0] | (size_t)data[1] << 8;
    if (neg_len > size - 2)
        return 0;
    struct slice neg = slice_make(data + 2, neg_len);
    struct slice auth = slice_make(data + 2 + neg_len, size - 2 - neg_len);

    memcpy(fixed.server_challenge, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
    fixed.filetime = 0x01dc5b0000000000ull;
    ctx = ntlm_context_new(false);
    if (ctx == NULL)
        return 0;
    ntlm_ctx_set_fixed_inputs(ctx, &fixed);
    SECURITY_STATUS st = leg(cred, &ctx, neg);
    if (st == SEC_I_CONTINUE_NEEDED) {
        st = leg(cred, &ctx, auth);
        if (st == SEC_E_OK && !ntlm_ctx_is_complete(ctx))
            __builtin_trap();
        /* Accepting twice would mean the state machine forgot it finished. */
        if (st == SEC_E_OK && leg(cred, &ctx, auth) == SEC_E_OK)
            __builtin_trap();
    } else if (st == SEC_E_OK) {
        __builtin_trap(); /* one message can never complete a handshake */
    }
    ntlm_package.delete_ctx(ctx);
    return 0;
}
