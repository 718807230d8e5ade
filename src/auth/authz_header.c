// SPDX-License-Identifier: MIT
// Authorization credentials parser and challenge builder (RFC 9110 11).
//
// The one ambiguity of the grammar is "Scheme abc=": a token68 with padding, or
// the start of an auth-param? An auth-param value is a token (1*tchar) or a
// quoted-string, never empty, so a run of token68 characters followed only by
// '=' signs up to the end of the value is a token68; anything else is a list.
#include "auth/authz_header.h"

#include <string.h>

#include <gatehouse/error.h>

#define VALUE_SLACK_BYTES 1024 /* room for scheme and parameters around a token */

bool
authz_is_tchar(uint8_t c)
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

static bool
is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* qdtext and quoted-pair's second byte (RFC 9110 5.6.4), obs-text included. */
static bool
is_qdtext(uint8_t c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

static bool
is_quoted_pair_char(uint8_t c)
{
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;
}

struct cursor {
    const uint8_t *p;
    size_t left;
};

static void
skip_ows(struct cursor *cur)
{
    while (cur->left > 0 && is_ows(*cur->p)) {
        cur->p++;
        cur->left--;
    }
}

static struct slice
take_token(struct cursor *cur)
{
    const uint8_t *start = cur->p;
    while (cur->left > 0 && authz_is_tchar(*cur->p)) {
        cur->p++;
        cur->left--;
    }
    return slice_make(start, (size_t)(cur->p - start));
}

/* Unescapes a quoted-string starting at the opening DQUOTE into *scratch_pos. */
static int
take_quoted(struct cursor *cur, uint8_t **scratch_pos, const uint8_t *scratch_end,
            struct slice *value_out)
{
    cur->p++; /* the opening DQUOTE */
    cur->left--;
    const uint8_t *start = cur->p;
    bool has_escape = false;
    size_t n = 0;
    for (;;) {
        if (cur->left == 0)
            return GH_EPROTO; /* unterminated */
        uint8_t c = *cur->p;
        if (c == '"')
            break;
        if (c == '\\') {
            if (cur->left < 2 || !is_quoted_pair_char(cur->p[1]))
                return GH_EPROTO;
            has_escape = true;
            cur->p += 2;
            cur->left -= 2;
            n++;
            continue;
        }
        if (!is_qdtext(c))
            return GH_EPROTO;
        cur->p++;
        cur->left--;
        n++;
    }
    const uint8_t *end = cur->p;
    cur->p++; /* the closing DQUOTE */
    cur->left--;
    if (!has_escape) {
        *value_out = slice_make(start, n);
        return GH_OK;
    }
    if ((size_t)(scratch_end - *scratch_pos) < n)
        return GH_ELIMIT; /* cannot happen with scratch_len >= value.len */
    uint8_t *dst = *scratch_pos;
    for (const uint8_t *s = start; s < end; s++) {
        if (*s == '\\')
            s++;
        *dst++ = *s;
    }
    *value_out = slice_make(*scratch_pos, n);
    *scratch_pos = dst;
    return GH_OK;
}

/* Token68 when the rest is token68 chars, then only '=', then OWS to the end. */
static bool
rest_is_token68(struct cursor cur, struct slice *tok_out)
{
    const uint8_t *start = cur.p;
    size_t n = 0;
    while (n < cur.left && is_token68_char(cur.p[n]))
        n++;
    if (n == 0)
        return false;
    while (n < cur.left && cur.p[n] == '=')
        n++;
    size_t tok_len = n;
    while (n < cur.left && is_ows(cur.p[n]))
        n++;
    if (n != cur.left)
        return false;
    *tok_out = slice_make(start, tok_len);
    return true;
}

static int
parse_params(struct cursor *cur, size_t max_params, uint8_t *scratch, size_t scratch_len,
             struct authz_credentials *c)
{
    uint8_t *scratch_pos = scratch;
    const uint8_t *scratch_end = scratch + scratch_len;

    for (;;) {
        /* #rule: empty list elements and OWS around commas are allowed (RFC 9110 5.6.1). */
        skip_ows(cur);
        while (cur->left > 0 && *cur->p == ',') {
            cur->p++;
            cur->left--;
            skip_ows(cur);
        }
        if (cur->left == 0)
            break;
        struct authz_param prm = {0};
        prm.name = take_token(cur);
        if (prm.name.len == 0)
            return GH_EPROTO;
        skip_ows(cur); /* BWS */
        if (cur->left == 0 || *cur->p != '=')
            return GH_EPROTO;
        cur->p++;
        cur->left--;
        skip_ows(cur); /* BWS */
        if (cur->left > 0 && *cur->p == '"') {
            int err = take_quoted(cur, &scratch_pos, scratch_end, &prm.value);
            if (err != GH_OK)
                return err;
            prm.was_quoted = true;
        } else {
            prm.value = take_token(cur);
            if (prm.value.len == 0)
                return GH_EPROTO;
        }
        for (size_t i = 0; i < c->param_count; i++) {
            if (slice_eq_nocase(c->params[i].name, prm.name))
                return GH_EPROTO; /* RFC 9110 11.2: each name only once */
        }
        if (c->param_count >= max_params)
            return GH_ELIMIT;
        c->params[c->param_count++] = prm;
        skip_ows(cur);
        if (cur->left == 0)
            break;
        if (*cur->p != ',')
            return GH_EPROTO;
    }
    return c->param_count == 0 ? GH_EPROTO : GH_OK;
}

int
authz_parse(struct slice value, const struct authz_limits *limits, uint8_t *scratch,
            size_t scratch_len, struct authz_credentials *out)
{
    size_t max_token = AUTHZ_DEFAULT_MAX_TOKEN_BYTES;
    size_t max_params = AUTHZ_MAX_PARAMS;
    struct authz_credentials c;

    if (limits != NULL && limits->max_token_bytes > 0)
        max_token = limits->max_token_bytes;
    if (limits != NULL && limits->max_params > 0 && limits->max_params < AUTHZ_MAX_PARAMS)
        max_params = limits->max_params;
    if (value.len > max_token + VALUE_SLACK_BYTES)
        return GH_ELIMIT;
    if (scratch_len < value.len)
        return GH_EINVAL;

    memset(&c, 0, sizeof(c));
    struct cursor cur = {value.ptr, value.len};
    skip_ows(&cur);
    while (cur.left > 0 && is_ows(cur.p[cur.left - 1]))
        cur.left--;
    c.scheme = take_token(&cur);
    if (c.scheme.len == 0)
        return GH_EPROTO;
    if (cur.left == 0) {
        c.form = AUTHZ_FORM_SCHEME_ONLY;
        *out = c;
        return GH_OK;
    }
    if (*cur.p != ' ')
        return GH_EPROTO; /* 1*SP after the scheme (RFC 9110 11.4) */
    while (cur.left > 0 && *cur.p == ' ') {
        cur.p++;
        cur.left--;
    }
    if (rest_is_token68(cur, &c.token68)) {
        if (c.token68.len > max_token)
            return GH_ELIMIT;
        c.form = AUTHZ_FORM_TOKEN68;
        *out = c;
        return GH_OK;
    }
    c.form = AUTHZ_FORM_PARAMS;
    int err = parse_params(&cur, max_params, scratch, scratch_len, &c);
    if (err != GH_OK)
        return err;
    *out = c;
    return GH_OK;
}

bool
authz_scheme_is(const struct authz_credentials *c, const char *scheme)
{
    return slice_eq_nocase(c->scheme, slice_cstr(scheme));
}

const struct authz_param *
authz_param_find(const struct authz_credentials *c, const char *name)
{
    struct slice n = slice_cstr(name);
    for (size_t i = 0; i < c->param_count; i++) {
        if (slice_eq_nocase(c->params[i].name, n))
            return &c->params[i];
    }
    return NULL;
}

static bool
is_token(struct slice s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!authz_is_tchar(s.ptr[i]))
            return false;
    }
    return true;
}

int
authz_challenge_begin(struct buf *out, const char *scheme)
{
    if (!is_token(slice_cstr(scheme)))
        return GH_EINVAL;
    return buf_append_str(out, scheme);
}

/* A challenge has parameters after the scheme when it contains a space. */
static bool
has_params(const struct buf *out)
{
    return out->len > 0 && memchr(out->data, ' ', out->len) != NULL;
}

int
authz_challenge_param(struct buf *out, const char *name, struct slice value, bool quote)
{
    size_t mark = out->len;
    int err;

    if (!is_token(slice_cstr(name)))
        return GH_EINVAL;
    for (size_t i = 0; i < value.len; i++) {
        uint8_t ch = value.ptr[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7F)
            return GH_EINVAL; /* never let CR/LF/NUL into a header */
    }
    if (!quote && !is_token(value))
        quote = true;
    err = buf_append_str(out, has_params(out) ? ", " : " ");
    if (err == GH_OK)
        err = buf_append_str(out, name);
    if (err == GH_OK)
        err = buf_append(out, quote ? "=\"" : "=", quote ? 2 : 1);
    for (size_t i = 0; err == GH_OK && i < value.len; i++) {
        uint8_t ch = value.ptr[i];
        if (quote && (ch == '"' || ch == '\\'))
            err = buf_append(out, "\\", 1);
        if (err == GH_OK)
            err = buf_append(out, &ch, 1);
    }
    if (err == GH_OK && quote)
        err = buf_append(out, "\"", 1);
    if (err != GH_OK)
        out->len = mark;
    return err;
}

int
authz_challenge_token68(struct buf *out, struct slice token)
{
    struct slice tok;
    struct cursor cur = {token.ptr, token.len};

    if (!rest_is_token68(cur, &tok) || tok.len != token.len)
        return GH_EINVAL;
    size_t mark = out->len;
    int err = buf_append(out, " ", 1);
    if (err == GH_OK)
        err = buf_append(out, token.ptr, token.len);
    if (err != GH_OK)
        out->len = mark;
    return err;
}
