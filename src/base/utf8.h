// SPDX-License-Identifier: MIT
// UTF-8 as RFC 3629 defines it: the one validator (configuration text, JSON strings).
#ifndef GH_BASE_UTF8_H
#define GH_BASE_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 sequence at p[0, left) (left >= 1): 1 for ASCII, 2..4
 * for a well-formed multi-byte sequence, 0 when it is invalid (RFC 3629
 * section 4: overlong forms, surrogates, values above U+10FFFF, a stray
 * continuation byte, a sequence cut by the end of the input). */
size_t utf8_seq_len(const unsigned char *p, size_t left);

#endif
