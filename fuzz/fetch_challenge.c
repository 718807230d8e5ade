// SPDX-License-Identifier: MIT
// fetch's WWW-Authenticate parser (src/cli/fetch_challenge.c) and Digest
// answer builder on hostile challenges. Contract checked: every slice lies
// inside the input or the scratch area, counts stay within their bounds, a
// failure leaves no challenge behind, and a usable Digest challenge always
// yields an answer. src/cli is not a library, so the file is compiled in.
#include "cli/fetch_challenge.c"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "cli/fetch_digest.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *scratch = malloc(size + 1);
    struct fetch_challenges cs = {.scratch = scratch, .scratch_len = size + 1};
    if (scratch == NULL)
        return 0;
    int err = fetch_challenge_parse(slice_make(data, size), &cs);
    if (err != GH_OK && cs.count != 0)
        __builtin_trap();
    if (err != GH_OK && err != GH_EPROTO && err != GH_ELIMIT)
        __builtin_trap();
    if (cs.count > FETCH_MAX_CHALLENGES || cs.scratch_used > cs.scratch_len)
        __builtin_trap();
    for (size_t i = 0; i < cs.count; i++) {
        const struct fetch_challenge *ch = &cs.items[i];
        if (ch->scheme.len == 0 || !slice_within(ch->scheme, data, size) ||
            !slice_within(ch->token68, data, size) || ch->param_count > FETCH_MAX_PARAMS)
            __builtin_trap();
        for (size_t k = 0; k < ch->param_count; k++) {
            const struct fetch_param *p = &ch->params[k];
            if (p->name.len == 0 || !slice_within(p->name, data, size))
                __builtin_trap();
            if (!slice_within(p->value, data, size) &&
                !slice_within(p->value, scratch, cs.scratch_used))
                __builtin_trap();
        }
        if (slice_eq_nocase(ch->scheme, SLICE_LIT("Digest")) && fetch_digest_rank(ch) >= 0) {
            struct fetch_digest_input in = {
                .user = "u", .password = "p", .method = "GET", .uri = "/", .nc = 1, .cnonce = "c"};
            struct buf out;
            char rspauth[129];
            buf_init(&out, 1 << 20);
            int derr = fetch_digest_authorization(ch, &in, &out, rspauth);
            /* A realm/nonce/opaque with control characters cannot be echoed. */
            if (derr != GH_OK && derr != GH_EPROTO)
                __builtin_trap();
            buf_free(&out);
        }
    }
    /* Authentication-Info form on the same bytes. */
    struct fetch_challenge ai;
    struct fetch_challenges owner = {.scratch = scratch, .scratch_len = size + 1};
    err = fetch_params_parse(slice_make(data, size), &owner, &ai);
    if (ai.param_count > FETCH_MAX_PARAMS || owner.scratch_used > owner.scratch_len)
        __builtin_trap();
    (void)err;
    free(scratch);
    return 0;
}
