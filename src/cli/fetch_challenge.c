// SPDX-License-Identifier: MIT
// WWW-Authenticate parsing for the client (RFC 9110 11.6.1, 11.2, 5.6).
//
//   WWW-Authenticate = #challenge
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
//   token68    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// The comma separates both challenges and the parameters of one challenge, so
// an element after a comma is a parameter when it reads `token BWS "="`, and a
// new challenge otherwise. A token68 is recognized only when it is followed by
// the end of the element; "realm=x" is therefore a parameter, "YII=" a token68.
// The server side has its own parser for Authorization (one credentials per
// field); this one handles the list form that only challenges use.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gatehouse/error.h>

#include "cli/fetch.h"

static bool
is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_token68_char(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* qdtext and the second byte of a quoted-pair (RFC 9110 5.6.4), minus DQUOTE and
 * backslash, which the caller handles. */
static bool
is_qdtext(uint8_t c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

static size_t
skip_ows(const uint8_t *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
        pos++;
    return pos;
}

static size_t
scan_token(const uint8_t *s, size_t len, size_t pos)
{
    while (pos < len && is_tchar(s[pos]))
        pos++;
    return pos;
}

/* Parses a token or quoted-string at *pos; the value borrows from s, or from
 * the scratch area when the quoted-string holds quoted-pairs. */
static int
parse_value(const uint8_t *s, size_t len, size_t *pos, struct fetch_challenges *out,
            struct slice *value_out)
{
    size_t p = *pos;

    if (p < len && s[p] != '"') {
        size_t end = scan_token(s, len, p);
        if (end == p)
            return GH_EPROTO;
        *value_out = slice_make(s + p, end - p);
        *pos = end;
        return GH_OK;
    }
    if (p >= len)
        return GH_EPROTO;
    p++; /* opening DQUOTE */
    size_t start = p;
    bool has_escape = false;
    while (p < len && s[p] != '"') {
        if (s[p] == '\\') {
            if (p + 1 >= len || !(is_qdtext(s[p + 1]) || s[p + 1] == '"' || s[p + 1] == '\\'))
                return GH_EPROTO;
            has_escape = true;
            p += 2;
            continue;
        }
        if (!is_qdtext(s[p]))
            return GH_EPROTO;
        p++;
    }
    if (p >= len)
        return GH_EPROTO; /* unterminated */
    size_t end = p;
    *pos = p + 1;
    if (!has_escape) {
        *value_out = slice_make(s + start, end - start);
        return GH_OK;
    }
    /* The unescaped value is shorter than the quoted text, so value.len bytes of
     * scratch always suffice for one field line. */
    if (out->scratch == NULL || out->scratch_len - out->scratch_used < end - start)
        return GH_ELIMIT;
    uint8_t *dst = out->scratch + out->scratch_used;
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        if (s[i] == '\\')
            i++;
        dst[n++] = s[i];
    }
    out->scratch_used += n;
    *value_out = slice_make(dst, n);
    return GH_OK;
}

/* Parses `token BWS "=" BWS value` at *pos into ch. */
static int
parse_param(const uint8_t *s, size_t len, size_t *pos, struct fetch_challenges *out,
            struct fetch_challenge *ch)
{
    size_t p = *pos;
    size_t name_end = scan_token(s, len, p);
    if (name_end == p)
        return GH_EPROTO;
    struct slice name = slice_make(s + p, name_end - p);
    p = skip_ows(s, len, name_end);
    if (p >= len || s[p] != '=')
        return GH_EPROTO;
    p = skip_ows(s, len, p + 1);
    struct slice value;
    int err = parse_value(s, len, &p, out, &value);
    if (err != GH_OK)
        return err;
    for (size_t i = 0; i < ch->param_count; i++) {
        if (slice_eq_nocase(ch->params[i].name, name))
            return GH_EPROTO; /* RFC 9110 11.2: each name at most once */
    }
    if (ch->param_count >= FETCH_MAX_PARAMS)
        return GH_ELIMIT;
    ch->params[ch->param_count].name = name;
    ch->params[ch->param_count].value = value;
    ch->param_count++;
    *pos = p;
    return GH_OK;
}

/* After an element: OWS, then a comma or the end. */
static bool
at_element_end(const uint8_t *s, size_t len, size_t *pos)
{
    size_t p = skip_ows(s, len, *pos);
    if (p < len && s[p] != ',')
        return false;
    *pos = p;
    return true;
}

int
fetch_challenge_parse(struct slice value, struct fetch_challenges *out)
{
    const uint8_t *s = value.ptr;
    size_t len = value.len;
    size_t pos = 0;
    size_t first_new = out->count; /* challenges of this line; undone on failure */
    struct fetch_challenge *cur = NULL;
    int err = GH_OK;

    while (pos < len) {
        pos = skip_ows(s, len, pos);
        if (pos >= len)
            break;
        if (s[pos] == ',') {
            pos++;
            continue;
        }
        size_t tok_end = scan_token(s, len, pos);
        if (tok_end == pos) {
            err = GH_EPROTO;
            goto fail;
        }
        size_t after = skip_ows(s, len, tok_end);
        if (after < len && s[after] == '=') {
            /* A further auth-param of the current challenge. */
            if (cur == NULL || cur->token68.len > 0) {
                err = GH_EPROTO;
                goto fail;
            }
            err = parse_param(s, len, &pos, out, cur);
            if (err != GH_OK)
                goto fail;
        } else {
            /* A new challenge. */
            if (out->count >= FETCH_MAX_CHALLENGES) {
                err = GH_ELIMIT;
                goto fail;
            }
            cur = &out->items[out->count++];
            *cur = (struct fetch_challenge){.scheme = slice_make(s + pos, tok_end - pos)};
            pos = tok_end;
            if (pos < len && s[pos] == ' ') {
                size_t p = pos;
                while (p < len && s[p] == ' ')
                    p++;
                /* token68, if the element ends right after it */
                size_t q = p;
                while (q < len && is_token68_char(s[q]))
                    q++;
                if (q > p) {
                    size_t t68_end = q;
                    while (t68_end < len && s[t68_end] == '=')
                        t68_end++;
                    size_t r = t68_end;
                    if (at_element_end(s, len, &r)) {
                        cur->token68 = slice_make(s + p, t68_end - p);
                        pos = r;
                        continue;
                    }
                }
                if (p < len && s[p] != ',') {
                    pos = p;
                    err = parse_param(s, len, &pos, out, cur);
                    if (err != GH_OK)
                        goto fail;
                } else {
                    pos = p;
                }
            }
        }
        if (!at_element_end(s, len, &pos)) {
            err = GH_EPROTO;
            goto fail;
        }
    }
    return GH_OK;
fail:
    out->count = first_new;
    return err;
}

int
fetch_params_parse(struct slice value, struct fetch_challenges *scratch_owner,
                   struct fetch_challenge *out)
{
    const uint8_t *s = value.ptr;
    size_t len = value.len;
    size_t pos = 0;

    *out = (struct fetch_challenge){0};
    while (pos < len) {
        pos = skip_ows(s, len, pos);
        if (pos >= len)
            break;
        if (s[pos] == ',') {
            pos++;
            continue;
        }
        int err = parse_param(s, len, &pos, scratch_owner, out);
        if (err != GH_OK)
            return err;
        if (!at_element_end(s, len, &pos))
            return GH_EPROTO;
    }
    return GH_OK;
}

const struct fetch_challenge *
fetch_challenge_find(const struct fetch_challenges *cs, const char *name)
{
    struct slice want = slice_cstr(name);
    for (size_t i = 0; i < cs->count; i++) {
        if (slice_eq_nocase(cs->items[i].scheme, want))
            return &cs->items[i];
    }
    return NULL;
}

const struct fetch_param *
fetch_challenge_param(const struct fetch_challenge *ch, const char *name)
{
    struct slice want = slice_cstr(name);
    for (size_t i = 0; i < ch->param_count; i++) {
        if (slice_eq_nocase(ch->params[i].name, want))
            return &ch->params[i];
    }
    return NULL;
}
