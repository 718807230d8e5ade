// SPDX-License-Identifier: MIT
// Fuzzes the NTLM initiator: arbitrary bytes as the CHALLENGE_MESSAGE given to
// init_ctx after our NEGOTIATE. Invariants: never crash or leak; SEC_E_OK
// only with an AUTHENTICATE_MESSAGE that our own decoder accepts and that
// carries a MIC field; any failure leaves no output token.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/msg.h"
#include "sspi/ntlm/ntlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SECURITY_STATUS
leg(void *cred, void **ctx, struct slice in, struct buf *out)
{
    struct sspi_step step = {.in_token = in, .target = "HTTP/fuzz.example"};
    SECURITY_STATUS st;

    buf_init(&step.out_token, 65536);
    buf_init(&step.error_text, 1024);
    st = ntlm_package.init_ctx(cred, ctx, &step);
    if (st < 0 && step.out_token.len != 0)
        __builtin_trap();
    buf_append(out, step.out_token.data, step.out_token.len);
    buf_free(&step.out_token);
    buf_free(&step.error_text);
    return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void *cred;
    struct ntlm_fixed_inputs fixed = {
        .has_client_challenge = true, .has_session_key = true, .has_time = true};
    void *ctx;
    struct buf out;

    if (cred == NULL) {
        struct sspi_acquire a = {
            .use = SECPKG_CRED_OUTBOUND, .has_identity = true, .user = "EXAMPLE\\alice"};
        a.password.bytes = (uint8_t *)"Secret-1";
        a.password.len = 8;
        if (ntlm_package.acquire_cred(&a, &cred) != SEC_E_OK)
            __builtin_trap();
    }
    ctx = ntlm_context_new(true);
    if (ctx == NULL)
        return 0;
    ntlm_ctx_set_fixed_inputs(ctx, &fixed);
    buf_init(&out, 65536);
    if (leg(cred, &ctx, slice_make(NULL, 0), &out) != SEC_I_CONTINUE_NEEDED)
        __builtin_trap();
    buf_free(&out);
    SECURITY_STATUS st = leg(cred, &ctx, slice_make(data, size), &out);
    if (st == SEC_E_OK) {
        struct ntlm_authenticate a;
        if (ntlm_msg_decode_authenticate(buf_slice(&out), &a) != SEC_E_OK || !a.has_mic_field ||
            !ntlm_ctx_is_complete(ctx))
            __builtin_trap();
    } else if (st >= 0) {
        __builtin_trap(); /* a CHALLENGE either completes the client or fails */
    }
    buf_free(&out);
    ntlm_package.delete_ctx(ctx);
    return 0;
}
