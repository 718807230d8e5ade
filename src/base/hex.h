// SPDX-License-Identifier: MIT
// Hexadecimal digits (RFC 4648 section 8, base16) as the protocols spell them:
// lowercase when we write (RFC 7616 Digest hashes, the user store's salts and
// keys), either case when we read (RFC 3986 percent-encoding, HEXDIG).
#ifndef GH_BASE_HEX_H
#define GH_BASE_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (0-9, a-f, A-F), or -1 for any other byte. */
int hex_digit_value(uint8_t c);

/* Writes 2 * len lowercase hex digits and a NUL to out (2 * len + 1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly out_len bytes from the len hex digits of s (either case).
 * False, with out partly written, when len != 2 * out_len or a byte is not a
 * hex digit. */
bool hex_decode(const char *s, size_t len, uint8_t *out, size_t out_len);

#endif
