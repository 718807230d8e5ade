// SPDX-License-Identifier: MIT
// Base64 without a lookup-table dependency on locale or libc, strict on input:
// a token that decodes must have exactly one spelling, so two different header
// values can never carry the same credentials (relevant to replay caches).
#include "auth/b64.h"

#include <gatehouse/error.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
b64_encode(struct buf *out, struct slice in)
{
    size_t need = b64_encoded_len(in.len);
    int err = buf_reserve(out, need);

    if (err != GH_OK)
        return err;
    uint8_t *p = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= in.len; i += 3) {
        uint32_t v = ((uint32_t)in.ptr[i] << 16) | ((uint32_t)in.ptr[i + 1] << 8) | in.ptr[i + 2];
        *p++ = (uint8_t)alphabet[(v >> 18) & 63];
        *p++ = (uint8_t)alphabet[(v >> 12) & 63];
        *p++ = (uint8_t)alphabet[(v >> 6) & 63];
        *p++ = (uint8_t)alphabet[v & 63];
    }
    if (in.len - i == 1) {
        uint32_t v = (uint32_t)in.ptr[i] << 16;
        *p++ = (uint8_t)alphabet[(v >> 18) & 63];
        *p++ = (uint8_t)alphabet[(v >> 12) & 63];
        *p++ = '=';
        *p++ = '=';
    } else if (in.len - i == 2) {
        uint32_t v = ((uint32_t)in.ptr[i] << 16) | ((uint32_t)in.ptr[i + 1] << 8);
        *p++ = (uint8_t)alphabet[(v >> 18) & 63];
        *p++ = (uint8_t)alphabet[(v >> 12) & 63];
        *p++ = (uint8_t)alphabet[(v >> 6) & 63];
        *p++ = '=';
    }
    out->len += need;
    return GH_OK;
}

/* 0..63, or -1 for anything outside the alphabet (including '='). */
static int
value_of(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
b64_decode(struct buf *out, struct slice in)
{
    if (in.len % 4 != 0)
        return GH_EPROTO;
    size_t pad = 0;
    if (in.len > 0 && in.ptr[in.len - 1] == '=')
        pad = (in.len > 1 && in.ptr[in.len - 2] == '=') ? 2 : 1;
    size_t need = in.len / 4 * 3 - pad;
    int err = buf_reserve(out, need);
    if (err != GH_OK)
        return err;

    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < in.len; i += 4) {
        bool is_last = i + 4 == in.len;
        int v[4];
        for (size_t k = 0; k < 4; k++) {
            v[k] = value_of(in.ptr[i + k]);
            bool may_pad = is_last && k >= 4 - pad;
            if (may_pad)
                v[k] = 0;
            else if (v[k] < 0)
                return GH_EPROTO;
        }
        uint32_t q = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
                     (uint32_t)v[3];
        if (is_last && pad == 2 && (q & 0xFFFF) != 0)
            return GH_EPROTO; /* non-zero unused bits: not the canonical spelling */
        if (is_last && pad == 1 && (q & 0xFF) != 0)
            return GH_EPROTO;
        *p++ = (uint8_t)(q >> 16);
        if (!(is_last && pad == 2))
            *p++ = (uint8_t)(q >> 8);
        if (!(is_last && pad >= 1))
            *p++ = (uint8_t)q;
    }
    out->len += need;
    return GH_OK;
}
