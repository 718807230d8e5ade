// SPDX-License-Identifier: MIT
// UTF-8 / UTF-16 conversion (RFC 3629, Unicode 15 §3.9). Names and passwords
// cross this boundary, so the decoder is strict: a string that two decoders
// could read differently (overlong forms, lone surrogates) is refused rather
// than normalized, which would let two spellings map to one account.
#include "sspi/wide.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

/* Decodes one code point at in[*pos]; advances *pos. false on invalid input. */
static bool
utf8_next(const uint8_t *in, size_t len, size_t *pos, uint32_t *cp_out)
{
    size_t i = *pos, need;
    uint32_t c = in[i], min;

    if (c < 0x80) {
        need = 0;
        min = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        c &= 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        c &= 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        c &= 0x07;
        min = 0x10000;
    } else {
        return false; /* continuation byte, C0/C1 (overlong), F5..FF */
    }
    if (need > len - i - 1)
        return false;
    for (size_t k = 1; k <= need; k++) {
        uint8_t b = in[i + k];

        if ((b & 0xc0) != 0x80)
            return false;
        c = (c << 6) | (b & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return false;
    *pos = i + need + 1;
    *cp_out = c;
    return true;
}

/* Decodes one code point from UTF-16 at in[*pos]. false on a lone surrogate. */
static bool
utf16_next(const uint16_t *in, size_t units, size_t *pos, uint32_t *cp_out)
{
    uint32_t hi = in[*pos], lo;

    if (hi < 0xd800 || hi > 0xdfff) {
        *pos += 1;
        *cp_out = hi;
        return true;
    }
    if (hi > 0xdbff || *pos + 1 >= units)
        return false;
    lo = in[*pos + 1];
    if (lo < 0xdc00 || lo > 0xdfff)
        return false;
    *pos += 2;
    *cp_out = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return true;
}

static size_t
utf8_width(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static size_t
utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* Writes the UTF-16 units of cp into out (host order); returns their count. */
static size_t
utf16_put(uint16_t *out, uint32_t cp)
{
    if (cp < 0x10000) {
        out[0] = (uint16_t)cp;
        return 1;
    }
    cp -= 0x10000;
    out[0] = (uint16_t)(0xd800 | (cp >> 10));
    out[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
    return 2;
}

int
wide_strlen(const uint16_t *s, size_t max_units, size_t *units_out)
{
    for (size_t i = 0; i <= max_units; i++) {
        if (s[i] == 0) {
            *units_out = i;
            return GH_OK;
        }
    }
    return GH_ELIMIT;
}

int
wide_to_utf8(const uint16_t *in, size_t units, char **out, size_t *len_out)
{
    size_t pos = 0, bytes = 0, n = 0;
    uint32_t cp;
    uint8_t *p;

    if (units > WIDE_MAX_UNITS)
        return GH_ELIMIT;
    while (pos < units) {
        if (!utf16_next(in, units, &pos, &cp) || cp == 0)
            return GH_EPROTO;
        bytes += utf8_width(cp);
    }
    p = malloc(bytes + 1);
    if (p == NULL)
        return GH_ENOMEM;
    pos = 0;
    while (pos < units) {
        utf16_next(in, units, &pos, &cp);
        n += utf8_put(p + n, cp);
    }
    p[n] = '\0';
    *out = (char *)p;
    if (len_out != NULL)
        *len_out = n;
    return GH_OK;
}

int
wide_from_utf8(const char *in, size_t len, void *(*alloc_fn)(size_t), uint16_t **out,
               size_t *units_out)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t pos = 0, units = 0, n = 0;
    uint16_t *p;
    uint32_t cp;

    if (len > WIDE_MAX_UNITS * 3u)
        return GH_ELIMIT;
    while (pos < len) {
        if (!utf8_next(s, len, &pos, &cp) || cp == 0)
            return GH_EPROTO;
        units += cp >= 0x10000 ? 2 : 1;
    }
    if (units > WIDE_MAX_UNITS)
        return GH_ELIMIT;
    p = alloc_fn((units + 1) * sizeof(*p));
    if (p == NULL)
        return GH_ENOMEM;
    pos = 0;
    while (pos < len) {
        utf8_next(s, len, &pos, &cp);
        n += utf16_put(p + n, cp);
    }
    p[n] = 0;
    *out = p;
    if (units_out != NULL)
        *units_out = n;
    return GH_OK;
}

int
wide_utf8_to_utf16le(const char *in, size_t len, struct buf *out)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t pos = 0, units = 0;
    uint16_t pair[2];
    uint32_t cp;
    int err;

    while (pos < len) {
        if (!utf8_next(s, len, &pos, &cp) || cp == 0)
            return GH_EPROTO;
        units += cp >= 0x10000 ? 2 : 1;
    }
    if (units > WIDE_MAX_UNITS)
        return GH_ELIMIT;
    err = buf_reserve(out, units * 2);
    if (err != GH_OK)
        return err;
    pos = 0;
    while (pos < len) {
        size_t k;

        utf8_next(s, len, &pos, &cp);
        k = utf16_put(pair, cp);
        for (size_t j = 0; j < k; j++) {
            out->data[out->len++] = (uint8_t)(pair[j] & 0xff);
            out->data[out->len++] = (uint8_t)(pair[j] >> 8);
        }
    }
    return GH_OK;
}

bool
wide_utf8_valid(const char *in, size_t len)
{
    const uint8_t *s = (const uint8_t *)in;
    size_t pos = 0;
    uint32_t cp;

    while (pos < len) {
        if (!utf8_next(s, len, &pos, &cp) || cp == 0)
            return false;
    }
    return true;
}
