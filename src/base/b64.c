// SPDX-License-Identifier: MIT
// Base64 independent of locale and libc (a 256-entry table decodes four
// characters per step), strict on input: a token that decodes must have
// exactly one spelling, so two different header values can never carry the
// same credentials (relevant to replay caches).
#include "base/b64.h"

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

/* Each byte's 6-bit value, or BAD (bit 7 set) for anything outside the
 * standard alphabet, '=' included: OR-ing four entries tells in one test
 * whether a group of four characters is all alphabet. */
#define BAD 0x80
static const uint8_t decode_table[256] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 62,   0x80, 0x80, 0x80, 63,
    52,   53,   54,   55,   56,   57,   58,   59,   60,   61,   0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,
    15,   16,   17,   18,   19,   20,   21,   22,   23,   24,   25,   0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 26,   27,   28,   29,   30,   31,   32,   33,   34,   35,   36,   37,   38,   39,   40,
    41,   42,   43,   44,   45,   46,   47,   48,   49,   50,   51,   0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

/* The 24 bits of four alphabet characters, or a value with BAD << 24 set. */
static inline uint32_t
quad_of(const uint8_t *c)
{
    uint32_t a = decode_table[c[0]], b = decode_table[c[1]], d2 = decode_table[c[2]],
             d3 = decode_table[c[3]];

    return (((a | b | d2 | d3) & BAD) << 24) | (a << 18) | (b << 12) | (d2 << 6) | d3;
}

int
b64_decode(struct buf *out, struct slice in)
{
    if (in.len % 4 != 0)
        return GH_EPROTO;
    if (in.len == 0)
        return GH_OK;
    size_t pad = in.ptr[in.len - 1] != '=' ? 0 : in.ptr[in.len - 2] != '=' ? 1 : 2;
    size_t need = in.len / 4 * 3 - pad;
    int err = buf_reserve(out, need);
    if (err != GH_OK)
        return err;

    /* Every group but the last: four alphabet characters, three bytes. */
    uint8_t *p = out->data + out->len;
    const uint8_t *c = in.ptr;
    const uint8_t *last = in.ptr + in.len - 4;
    for (; c < last; c += 4) {
        uint32_t q = quad_of(c);
        if ((q & ((uint32_t)BAD << 24)) != 0)
            return GH_EPROTO;
        p[0] = (uint8_t)(q >> 16);
        p[1] = (uint8_t)(q >> 8);
        p[2] = (uint8_t)q;
        p += 3;
    }

    /* The last group: the padding characters count as 'A' (0) once the
     * alphabet check is done on the others; '=' elsewhere is never valid. */
    uint8_t tail[4] = {c[0], c[1], pad == 2 ? (uint8_t)'A' : c[2], pad >= 1 ? (uint8_t)'A' : c[3]};
    uint32_t q = quad_of(tail);
    if ((q & ((uint32_t)BAD << 24)) != 0)
        return GH_EPROTO;
    if ((pad == 2 && (q & 0xFFFF) != 0) || (pad == 1 && (q & 0xFF) != 0))
        return GH_EPROTO; /* non-zero unused bits: not the canonical spelling */
    p[0] = (uint8_t)(q >> 16);
    if (pad < 2)
        p[1] = (uint8_t)(q >> 8);
    if (pad < 1)
        p[2] = (uint8_t)q;
    out->len += need;
    return GH_OK;
}
