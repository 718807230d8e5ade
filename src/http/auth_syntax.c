// SPDX-License-Identifier: MIT
// Token, token68, quoted-string and auth-param scanners (RFC 9110 11.2, 5.6).
//
// Both sides of the wire parse this syntax: the server one credentials per
// Authorization field, the client a list of challenges per WWW-Authenticate
// field. Only the list structure differs, so the scanners live here and each
// parser keeps its own grammar on top.
#include "http/auth_syntax.h"

#include <gatehouse/error.h>

#include "http/h1_chars.h"

bool
auth_syntax_is_tchar(uint8_t c)
{
    return h1_is_token_char(c);
}

bool
auth_syntax_is_token(struct slice s)
{
    return h1_token_valid(s);
}

/* token68 (RFC 9110 11.2) but its trailing '=': ALPHA DIGIT - . _ ~ + /, as a
 * bitmap of the 128 ASCII codes (a negotiate token is thousands of them). */
static const uint64_t token68_map[2] = {0x03ffe80000000000u, 0x47fffffe87fffffeu};

static bool
is_token68_char(uint8_t c)
{
    return c < 128 && ((token68_map[c >> 6] >> (c & 63)) & 1) != 0;
}

/* qdtext (RFC 9110 5.6.4), obs-text included: HTAB, SP, VCHAR but '"' and '\'. */
static bool
is_qdtext(uint8_t c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

/* The second byte of a quoted-pair: HTAB, SP, VCHAR, obs-text. */
static bool
is_quoted_pair_char(uint8_t c)
{
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;
}

size_t
auth_syntax_skip_ows(struct slice s, size_t pos)
{
    while (pos < s.len && (s.ptr[pos] == ' ' || s.ptr[pos] == '\t'))
        pos++;
    return pos;
}

size_t
auth_syntax_scan_token(struct slice s, size_t pos)
{
    while (pos < s.len && h1_is_token_char(s.ptr[pos]))
        pos++;
    return pos;
}

size_t
auth_syntax_scan_token68(struct slice s, size_t pos)
{
    size_t end = pos;
    while (end < s.len && is_token68_char(s.ptr[end]))
        end++;
    if (end == pos)
        return pos;
    while (end < s.len && s.ptr[end] == '=')
        end++;
    return end;
}

/* The quoted-string whose opening DQUOTE is at s.ptr[pos]. */
static int
take_quoted(struct slice s, size_t *pos, struct auth_syntax_scratch *scratch,
            struct slice *value_out)
{
    size_t start = *pos + 1;
    size_t p = start;
    size_t n = 0; /* unescaped length */
    bool has_escape = false;

    for (;;) {
        if (p >= s.len)
            return GH_EPROTO; /* unterminated */
        uint8_t c = s.ptr[p];
        if (c == '"')
            break;
        if (c == '\\') {
            if (p + 1 >= s.len || !is_quoted_pair_char(s.ptr[p + 1]))
                return GH_EPROTO;
            has_escape = true;
            p += 2;
        } else if (is_qdtext(c)) {
            p++;
        } else {
            return GH_EPROTO;
        }
        n++;
    }
    size_t end = p; /* the closing DQUOTE */
    if (!has_escape) {
        *value_out = slice_make(s.ptr + start, n);
        *pos = end + 1;
        return GH_OK;
    }
    if (scratch == NULL || scratch->ptr == NULL || scratch->used > scratch->len ||
        scratch->len - scratch->used < n)
        return GH_ELIMIT;
    uint8_t *dst = scratch->ptr + scratch->used;
    size_t k = 0;
    for (size_t i = start; i < end; i++) {
        if (s.ptr[i] == '\\')
            i++;
        dst[k++] = s.ptr[i];
    }
    scratch->used += n;
    *value_out = slice_make(dst, n);
    *pos = end + 1;
    return GH_OK;
}

int
auth_syntax_value(struct slice s, size_t *pos, struct auth_syntax_scratch *scratch,
                  struct slice *value_out, bool *was_quoted_out)
{
    size_t p = *pos;
    bool is_quoted = p < s.len && s.ptr[p] == '"';

    if (is_quoted) {
        int err = take_quoted(s, pos, scratch, value_out);
        if (err != GH_OK)
            return err;
    } else {
        size_t end = auth_syntax_scan_token(s, p);
        if (end == p)
            return GH_EPROTO; /* a value is never empty */
        *value_out = slice_make(s.ptr + p, end - p);
        *pos = end;
    }
    if (was_quoted_out != NULL)
        *was_quoted_out = is_quoted;
    return GH_OK;
}

int
auth_syntax_param(struct slice s, size_t *pos, struct auth_syntax_scratch *scratch,
                  struct slice *name_out, struct slice *value_out, bool *was_quoted_out)
{
    size_t p = *pos;
    size_t name_end = auth_syntax_scan_token(s, p);

    if (name_end == p)
        return GH_EPROTO;
    size_t eq = auth_syntax_skip_ows(s, name_end); /* BWS */
    if (eq >= s.len || s.ptr[eq] != '=')
        return GH_EPROTO;
    size_t v = auth_syntax_skip_ows(s, eq + 1); /* BWS */
    int err = auth_syntax_value(s, &v, scratch, value_out, was_quoted_out);
    if (err != GH_OK)
        return err;
    *name_out = slice_make(s.ptr + p, name_end - p);
    *pos = v;
    return GH_OK;
}
