// SPDX-License-Identifier: MIT
// A JSON string literal (RFC 8259 section 7) from arbitrary bytes: what every
// JSON gatehouse writes (module responses, the JSON access log) goes through
// here, because its strings are often client input.
#ifndef GH_BASE_JSON_STR_H
#define GH_BASE_JSON_STR_H

#include <stddef.h>

#include "base/buf.h"

/* Appends s[0, len) to out as a quoted JSON string. '"' and '\' are escaped
 * with a backslash, control characters (U+0000..U+001F, U+007F) as \u00XX,
 * well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) is
 * copied as it is, and every other byte as \u00XX, XX being the byte (so the
 * output is always valid UTF-8 JSON, and a raw byte stays recognisable: a
 * real U+0080..U+00FF character is never escaped). GH_OK, or GH_ELIMIT /
 * GH_ENOMEM from out (then out holds a partial string: drop it). */
int json_str_append(struct buf *out, const char *s, size_t len);

#endif
