// SPDX-License-Identifier: MIT
// Character classes of RFC 9110 / RFC 9112 / RFC 3986, private to src/http.
#ifndef GH_HTTP_H1_CHARS_H
#define GH_HTTP_H1_CHARS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/slice.h"

enum {
    H1_CC_TOKEN = 1,  /* tchar (RFC 9110 5.6.2) */
    H1_CC_FIELD = 2,  /* field-vchar, SP, HTAB (RFC 9110 5.5): legal inside a field value */
    H1_CC_TARGET = 4, /* VCHAR except '#' '"' '<' '>' '\' (see docs/internals/http.md) */
    H1_CC_HOST = 8,   /* reg-name: unreserved / sub-delims / '%' (RFC 3986 3.2.2) */
    H1_CC_HEX = 16,   /* HEXDIG */
};

/* One byte of class bits per octet value. */
extern const uint8_t h1_char_class[256];

static inline bool
h1_is_token_char(uint8_t c)
{
    return (h1_char_class[c] & H1_CC_TOKEN) != 0;
}

static inline bool
h1_is_field_char(uint8_t c)
{
    return (h1_char_class[c] & H1_CC_FIELD) != 0;
}

static inline uint8_t
h1_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Value of a HEXDIG (caller checked H1_CC_HEX). */
static inline unsigned
h1_hex_value(uint8_t c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(h1_lower(c) - 'a' + 10);
}

/* True when s is a non-empty token. */
bool h1_token_valid(struct slice s);

/* True when s is a valid field value (after OWS trimming): field-vchar, SP, HTAB only. */
bool h1_field_value_valid(struct slice s);

/* Calls fn for each non-empty element of a comma-separated list (RFC 9110 5.6.1),
 * with OWS trimmed. Stops early and returns false when fn does. */
bool h1_list_each(struct slice value, bool (*fn)(struct slice elem, void *arg), void *arg);

/* True when the list value has an element equal (case-insensitively) to token. */
bool h1_list_has_token(struct slice value, struct slice token);

#endif
