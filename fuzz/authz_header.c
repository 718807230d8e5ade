// SPDX-License-Identifier: MIT
// Fuzz target: the Authorization credentials parser (RFC 9110 11.4) and the
// Digest/Basic decoders behind it. Invariants: every slice stays inside the
// input or the scratch buffer, counts respect the limits, and a challenge
// rebuilt from parsed parameters parses back to the same values.
#include "auth/authz_header.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/basic.h"
#include "auth/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(const struct authz_credentials *c)
{
    struct buf b;
    struct authz_credentials back;
    uint8_t *scratch;

    buf_init(&b, 1 << 20);
    if (authz_challenge_begin(&b, "X") != GH_OK)
        __builtin_trap();
    for (size_t i = 0; i < c->param_count; i++) {
        char name[256];
        if (c->params[i].name.len >= sizeof(name))
            goto cleanup;
        memcpy(name, c->params[i].name.ptr, c->params[i].name.len);
        name[c->params[i].name.len] = 0;
        if (authz_challenge_param(&b, name, c->params[i].value, true) != GH_OK)
            goto cleanup; /* values with CTLs cannot be re-emitted: fine */
    }
    scratch = malloc(b.len + 1);
    if (scratch == NULL)
        goto cleanup;
    if (authz_parse(buf_slice(&b), NULL, scratch, b.len + 1, &back) != GH_OK)
        __builtin_trap();
    if (back.param_count != c->param_count)
        __builtin_trap();
    for (size_t i = 0; i < c->param_count; i++) {
        if (!slice_eq(back.params[i].value, c->params[i].value))
            __builtin_trap();
    }
    free(scratch);
cleanup:
    buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct authz_limits lim = {.max_token_bytes = 4096, .max_params = 16};
    struct authz_credentials c;
    uint8_t *scratch = malloc(size + 1);

    if (scratch == NULL)
        return 0;
    int err = authz_parse(slice_make(data, size), &lim, scratch, size + 1, &c);
    if (err == GH_OK) {
        if (c.param_count > 16 || c.scheme.len == 0 || !slice_within(c.scheme, data, size) ||
            !slice_within(c.token68, data, size))
            __builtin_trap();
        for (size_t i = 0; i < c.param_count; i++) {
            if (!slice_within(c.params[i].name, data, size) ||
                (!slice_within(c.params[i].value, data, size) &&
                 !slice_within(c.params[i].value, scratch, size + 1)))
                __builtin_trap();
        }
        if (c.form == AUTHZ_FORM_PARAMS) {
            struct digest_request req;
            int derr = digest_request_parse(&c, &req);
            if (derr == GH_OK && (req.nc == 0 || strlen(req.user) == 0))
                __builtin_trap();
            check_round_trip(&c);
        }
        if (c.form == AUTHZ_FORM_TOKEN68) {
            char *user = NULL;
            struct secret pw = {0};
            if (basic_decode(c.token68, &user, &pw) == GH_OK) {
                if (strchr(user, ':') != NULL || !basic_is_clean_utf8(slice_cstr(user)))
                    __builtin_trap();
            }
            free(user);
            secret_free(&pw);
        }
    } else if (err != GH_EPROTO && err != GH_ELIMIT) {
        __builtin_trap();
    }
    free(scratch);
    return 0;
}
