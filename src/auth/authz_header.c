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

#include "http/auth_syntax.h"

#define VALUE_SLACK_BYTES 1024 /* room for scheme and parameters around a token */

/* Token68 when the rest of v from pos is token68 chars, then only '=', then OWS
 * to the end. */
static bool
rest_is_token68(struct slice v, size_t pos, struct slice *tok_out)
{
    size_t end = auth_syntax_scan_token68(v, pos);
    if (end == pos || auth_syntax_skip_ows(v, end) != v.len)
        return false;
    *tok_out = slice_make(v.ptr + pos, end - pos);
    return true;
}

static int
parse_params(struct slice v, size_t pos, size_t max_params, struct auth_syntax_scratch *scratch,
             struct authz_credentials *c)
{
    for (;;) {
        /* #rule: empty list elements and OWS around commas are allowed (RFC 9110 5.6.1). */
        pos = auth_syntax_skip_ows(v, pos);
        while (pos < v.len && v.ptr[pos] == ',')
            pos = auth_syntax_skip_ows(v, pos + 1);
        if (pos == v.len)
            break;
        struct authz_param prm = {0};
        int err = auth_syntax_param(v, &pos, scratch, &prm.name, &prm.value, &prm.was_quoted);
        if (err != GH_OK)
            return err;
        for (size_t i = 0; i < c->param_count; i++) {
            if (slice_eq_nocase(c->params[i].name, prm.name))
                return GH_EPROTO; /* RFC 9110 11.2: each name only once */
        }
        if (c->param_count >= max_params)
            return GH_ELIMIT;
        c->params[c->param_count++] = prm;
        pos = auth_syntax_skip_ows(v, pos);
        if (pos == v.len)
            break;
        if (v.ptr[pos] != ',')
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
    size_t pos = auth_syntax_skip_ows(value, 0);
    struct slice v = value;
    while (v.len > pos && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
        v.len--;
    size_t scheme_end = auth_syntax_scan_token(v, pos);
    if (scheme_end == pos)
        return GH_EPROTO;
    c.scheme = slice_make(v.ptr + pos, scheme_end - pos);
    pos = scheme_end;
    if (pos == v.len) {
        c.form = AUTHZ_FORM_SCHEME_ONLY;
        *out = c;
        return GH_OK;
    }
    if (v.ptr[pos] != ' ')
        return GH_EPROTO; /* 1*SP after the scheme (RFC 9110 11.4) */
    while (pos < v.len && v.ptr[pos] == ' ')
        pos++;
    if (rest_is_token68(v, pos, &c.token68)) {
        if (c.token68.len > max_token)
            return GH_ELIMIT;
        c.form = AUTHZ_FORM_TOKEN68;
        *out = c;
        return GH_OK;
    }
    c.form = AUTHZ_FORM_PARAMS;
    struct auth_syntax_scratch sc = {scratch, scratch_len, 0};
    int err = parse_params(v, pos, max_params, &sc, &c);
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

int
authz_challenge_begin(struct buf *out, const char *scheme)
{
    if (!auth_syntax_is_token(slice_cstr(scheme)))
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

    if (!auth_syntax_is_token(slice_cstr(name)))
        return GH_EINVAL;
    for (size_t i = 0; i < value.len; i++) {
        uint8_t ch = value.ptr[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7F)
            return GH_EINVAL; /* never let CR/LF/NUL into a header */
    }
    if (!quote && !auth_syntax_is_token(value))
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
    if (token.len == 0 || auth_syntax_scan_token68(token, 0) != token.len)
        return GH_EINVAL;
    size_t mark = out->len;
    int err = buf_append(out, " ", 1);
    if (err == GH_OK)
        err = buf_append(out, token.ptr, token.len);
    if (err != GH_OK)
        out->len = mark;
    return err;
}
