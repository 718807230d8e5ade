// SPDX-License-Identifier: MIT
// Fuzzes the MS-CSSP DER decoders (src/sspi/credssp/tsrequest_der.c), all of
// them on the same input. Invariants: decoded slices lie inside the input; a
// decoded TSRequest, TSCredentials or TSPasswordCreds re-encodes to the same
// bytes (DER has one encoding); failures are only SEC_E_INVALID_TOKEN.
#include <stdint.h>
#include <string.h>

#include "sspi/credssp/tsrequest_der.h"

static void
inside(struct slice s, const uint8_t *data, size_t size)
{
    if (!slice_within(s, data, size))
        __builtin_trap();
}

static void
same(const struct buf *out, const uint8_t *data, size_t size)
{
    if (out->len != size || memcmp(out->data, data, size) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = slice_make(data, size);
    struct cssp_request r;
    struct cssp_credentials c;
    struct cssp_password_creds p;
    struct cssp_smartcard_creds sc;
    struct cssp_remote_guard_creds rg;
    struct buf out;
    SECURITY_STATUS st;
    size_t n;

    buf_init(&out, 2 * CSSP_MAX_MESSAGE_BYTES);
    st = cssp_decode_request(in, &r);
    if (st == SEC_E_OK) {
        inside(r.nego_token, data, size);
        inside(r.auth_info, data, size);
        inside(r.pub_key_auth, data, size);
        inside(r.client_nonce, data, size);
        if (cssp_encode_request(&r, &out) != SEC_E_OK)
            __builtin_trap();
        /* errorCode is re-encoded as a signed 32-bit INTEGER: a positive
         * 5-octet form of a value past INT32_MAX comes back shorter, with
         * the same meaning */
        if (r.has_error_code && r.error_code > INT32_MAX) {
            struct cssp_request again;
            if (cssp_decode_request(buf_slice(&out), &again) != SEC_E_OK ||
                again.error_code != r.error_code)
                __builtin_trap();
        } else {
            same(&out, data, size);
        }
    } else if (st != SEC_E_INVALID_TOKEN) {
        __builtin_trap();
    }
    out.len = 0;
    st = cssp_decode_credentials(in, &c);
    if (st == SEC_E_OK) {
        inside(c.credentials, data, size);
        if (cssp_encode_credentials(c.cred_type, c.credentials, &out) != SEC_E_OK)
            __builtin_trap();
        same(&out, data, size);
    }
    out.len = 0;
    if (cssp_decode_password_creds(in, &p) == SEC_E_OK) {
        inside(p.password, data, size);
        if (cssp_encode_password_creds(&p, &out) != SEC_E_OK)
            __builtin_trap();
        same(&out, data, size);
    }
    if (cssp_decode_smartcard_creds(in, &sc) == SEC_E_OK) {
        inside(sc.pin, data, size);
        inside(sc.csp_data.csp_name, data, size);
        inside(sc.domain_hint, data, size);
    }
    if (cssp_decode_remote_guard_creds(in, &rg) == SEC_E_OK) {
        if (rg.supplemental_count > CSSP_MAX_SUPPLEMENTAL)
            __builtin_trap();
        inside(rg.logon_cred.cred_buffer, data, size);
        for (size_t i = 0; i < rg.supplemental_count; i++)
            inside(rg.supplemental[i].cred_buffer, data, size);
    }
    st = cssp_message_size(in, &n);
    if (st == SEC_E_OK && (n == 0 || n > size))
        __builtin_trap();
    buf_free_wipe(&out);
    return 0;
}
