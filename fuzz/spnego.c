// SPDX-License-Identifier: MIT
// Fuzzes the SPNEGO DER decoder (src/sspi/negotiate/spnego_der.c). Invariants:
// every decoded slice lies inside the input; a decoded token re-encodes to the
// same bytes when it has no reqFlags (DER has one encoding); failures are only
// SEC_E_INVALID_TOKEN.
#include <stdint.h>
#include <string.h>

#include "sspi/negotiate/spnego_der.h"

static void
inside(struct slice s, const uint8_t *data, size_t size)
{
    if (!slice_within(s, data, size))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spnego_token t;
    struct slice oid;
    struct buf out;
    SECURITY_STATUS st = spnego_der_decode(slice_make(data, size), &t);

    if (spnego_der_peek_mech(slice_make(data, size), &oid) == SEC_E_OK)
        inside(oid, data, size);
    if (st != SEC_E_OK) {
        if (st != SEC_E_INVALID_TOKEN)
            __builtin_trap();
        return 0;
    }
    buf_init(&out, 2 * SPNEGO_MAX_TOKEN_BYTES);
    if (t.kind == SPNEGO_KIND_INIT) {
        const struct spnego_init *in = &t.init;
        if (in->mech_count == 0 || in->mech_count > SPNEGO_MAX_MECHS)
            __builtin_trap();
        inside(in->mech_types_der, data, size);
        inside(in->mech_token, data, size);
        inside(in->mech_list_mic, data, size);
        inside(in->hint_name, data, size);
        for (size_t i = 0; i < in->mech_count; i++)
            inside(in->mechs[i], data, size);
        /* hints carry more than a name in general; compare only plain inits */
        if (!in->has_req_flags && !in->has_neg_hints) {
            st = spnego_der_encode_init(in->mechs, in->mech_count,
                                        in->has_mech_token ? &in->mech_token : NULL,
                                        in->has_mic ? &in->mech_list_mic : NULL, NULL, &out);
            if (st != SEC_E_OK || out.len != size || memcmp(out.data, data, size) != 0)
                __builtin_trap();
        }
    } else {
        const struct spnego_resp *r = &t.resp;
        inside(r->supported_mech, data, size);
        inside(r->response_token, data, size);
        inside(r->mech_list_mic, data, size);
        st = spnego_der_encode_resp(r->neg_state, r->has_supported_mech ? &r->supported_mech : NULL,
                                    r->has_response_token ? &r->response_token : NULL,
                                    r->has_mic ? &r->mech_list_mic : NULL, &out);
        if (st != SEC_E_OK || out.len != size || memcmp(out.data, data, size) != 0)
            __builtin_trap();
    }
    buf_free(&out);
    return 0;
}
