// SPDX-License-Identifier: MIT
// Hexadecimal encoding and decoding (RFC 4648 section 8).
#include "base/hex.h"

int
hex_digit_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void
hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

bool
hex_decode(const char *s, size_t len, uint8_t *out, size_t out_len)
{
    if (len / 2 != out_len || len % 2 != 0)
        return false;
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_digit_value((uint8_t)s[2 * i]);
        int lo = hex_digit_value((uint8_t)s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
