// SPDX-License-Identifier: MIT
// JSON string literals from arbitrary bytes (json_str.h).
#include "base/json_str.h"

#include <stdint.h>

#include <gatehouse/error.h>

#include "base/utf8.h"

int
json_str_append(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s;
    size_t run = 0, i = 0;
    int err = buf_append(out, "\"", 1);

    while (err == GH_OK && i < len) {
        uint8_t ch = p[i];
        size_t n;
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            i++;
            continue;
        }
        if (ch >= 0x80 && (n = utf8_seq_len(p + i, len - i)) > 0) {
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
