// SPDX-License-Identifier: MIT
// UTF-16 <-> UTF-8 with full validation: the W entry points take SEC_WCHAR
// (UTF-16 in host order), everything inside the library is UTF-8.
//
// Invalid input is refused, never repaired: unpaired surrogates, overlong or
// truncated UTF-8 sequences, encoded surrogates, code points above U+10FFFF,
// and U+0000 inside a counted string (it would truncate a C string).
#ifndef GH_SSPI_WIDE_H
#define GH_SSPI_WIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Longest string accepted by the conversions, in code units. */
#define WIDE_MAX_UNITS (1u << 16)

/* Length of a NUL-terminated UTF-16 string, reading at most max_units + 1
 * units. GH_OK, or GH_ELIMIT when no terminator comes within max_units. */
int wide_strlen(const uint16_t *s, size_t max_units, size_t *units_out);

/* UTF-16 (host order, units code units) -> malloc'd NUL-terminated UTF-8.
 * GH_OK, GH_EPROTO (invalid), GH_ELIMIT (longer than WIDE_MAX_UNITS) or GH_ENOMEM.
 * *len_out (may be NULL) excludes the terminator. */
int wide_to_utf8(const uint16_t *in, size_t units, char **out, size_t *len_out);

/* UTF-8 (len bytes) -> NUL-terminated UTF-16 (host order) allocated with
 * alloc_fn (malloc or sspi_alloc). Same statuses. *units_out (may be NULL)
 * excludes the terminator. */
int wide_from_utf8(const char *in, size_t len, void *(*alloc_fn)(size_t), uint16_t **out,
                   size_t *units_out);

/* Appends the UTF-16LE encoding of UTF-8 input to out (NTLM, the NT hash).
 * GH_OK, GH_EPROTO, GH_ELIMIT or GH_ENOMEM; out is unchanged on failure. */
int wide_utf8_to_utf16le(const char *in, size_t len, struct buf *out);

/* True when in[0, len) is valid UTF-8 without U+0000. */
bool wide_utf8_valid(const char *in, size_t len);

#endif
