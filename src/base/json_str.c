// SPDX-License-Identifier: MIT
// JSON string literals from arbitrary bytes (json_str.h).
#include "base/json_str.h"

#include <stdint.h>

#include <gatehouse/error.h>

/* Length of the well-formed UTF-8 sequence at p (RFC 3629 section 4), or 0. */
static size_t
utf8_len(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    }
    return n;
}

int
json_str_append(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s;
    size_t run = 0, i = 0;
    int err = buf_append(out, "\"", 1);

    while (err == GH_OK && i < len) {
        uint8_t ch = p[i];
        size_t n = 1;
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            i++;
            continue;
        }
        if (ch >= 0x80 && (n = utf8_len(p + i, len - i)) > 0) {
            i += n;
            continue;
        }
        err = buf_append(out, s + run, i - run);
        char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
        if (err == GH_OK && (ch == '"' || ch == '\\')) {
            esc[1] = (char)ch;
            err = buf_append(out, esc, 2);
        } else if (err == GH_OK) {
            err = buf_append(out, esc, 6);
        }
        i++;
        run = i;
    }
    if (err == GH_OK)
        err = buf_append(out, s + run, len - run);
    if (err == GH_OK)
        err = buf_append(out, "\"", 1);
    return err;
}
