// SPDX-License-Identifier: MIT
// Header lookup, character classes and list-value helpers (RFC 9110 5.5, 5.6).
#include "http/h1.h"
#include "http/h1_chars.h"

/* Bits: 1 tchar, 2 field-vchar/SP/HTAB, 4 request-target, 8 reg-name, 16 HEXDIG.
 * Built from the ABNF of RFC 9110 5.6.2 / 5.5 and RFC 3986 2.2, 2.3, 3.2.2. */
const uint8_t h1_char_class[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  0,  0,  0,  0,  0,  0,  /* 0x00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x10 */
    2,  15, 2,  3,  15, 15, 15, 15, 14, 14, 15, 15, 14, 15, 15, 6,  /* 0x20 */
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 6,  14, 2,  14, 2,  6,  /* 0x30 */
    6,  31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 0x40 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6,  2,  6,  7,  15, /* 0x50 */
    7,  31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 0x60 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6,  7,  6,  15, 0,  /* 0x70 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x80 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x90 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xa0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xb0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xc0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xd0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xe0 */
    2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xf0 */
};

const struct h1_header *
h1_header_find(const struct h1_header *headers, size_t count, struct slice name)
{
    for (size_t i = 0; i < count; i++) {
        if (slice_eq_nocase(headers[i].name, name))
            return &headers[i];
    }
    return NULL;
}

bool
h1_token_valid(struct slice s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!h1_is_token_char(s.ptr[i]))
            return false;
    }
    return true;
}

bool
h1_field_value_valid(struct slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!h1_is_field_char(s.ptr[i]))
            return false;
    }
    return true;
}

static struct slice
trim_ows(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return slice_make(p, (size_t)(end - p));
}

/* RFC 9110 5.6.1: empty elements ("a, , b") are legal and ignored. Quoted strings
 * are not split on commas, so "a=\"x,y\"" stays one element. */
bool
h1_list_each(struct slice value, bool (*fn)(struct slice elem, void *arg), void *arg)
{
    if (value.len == 0)
        return true;
    const uint8_t *p = value.ptr, *end = value.ptr + value.len, *start = p;
    bool in_quote = false;

    for (;; p++) {
        if (p < end && in_quote) {
            if (*p == '\\' && p + 1 < end)
                p++;
            else if (*p == '"')
                in_quote = false;
            continue;
        }
        if (p < end && *p != ',') {
            in_quote = *p == '"';
            continue;
        }
        struct slice elem = trim_ows(start, p);
        if (elem.len > 0 && !fn(elem, arg))
            return false;
        if (p == end)
            return true;
        start = p + 1;
    }
}

struct find_token {
    struct slice token;
    bool found;
};

static bool
match_token(struct slice elem, void *arg)
{
    struct find_token *ft = arg;

    if (slice_eq_nocase(elem, ft->token)) {
        ft->found = true;
        return false;
    }
    return true;
}

bool
h1_list_has_token(struct slice value, struct slice token)
{
    struct find_token ft = {token, false};

    h1_list_each(value, match_token, &ft);
    return ft.found;
}
