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
// The lexical pieces (token, token68, quoted-string, auth-param) are
// src/http/auth_syntax.c, shared with the server's Authorization parser; this
// file adds the list form that only challenges use.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gatehouse/error.h>

#include "cli/fetch.h"
#include "http/auth_syntax.h"

/* Parses `token BWS "=" BWS value` at *pos into ch. */
static int
parse_param(struct slice s, size_t *pos, struct fetch_challenges *out, struct fetch_challenge *ch)
{
    struct auth_syntax_scratch sc = {out->scratch, out->scratch_len, out->scratch_used};
    struct slice name, value;
    size_t p = *pos;

    int err = auth_syntax_param(s, &p, &sc, &name, &value, NULL);
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
    out->scratch_used = sc.used;
    *pos = p;
    return GH_OK;
}

/* After an element: OWS, then a comma or the end. */
static bool
at_element_end(struct slice s, size_t *pos)
{
    size_t p = auth_syntax_skip_ows(s, *pos);
    if (p < s.len && s.ptr[p] != ',')
        return false;
    *pos = p;
    return true;
}

/* The rest of a new challenge after its scheme, at *pos: nothing, a token68 that
 * ends the element, or its first auth-param. */
static int
parse_challenge_rest(struct slice s, size_t *pos, struct fetch_challenges *out,
                     struct fetch_challenge *cur)
{
    size_t p = *pos;

    if (p >= s.len || s.ptr[p] != ' ')
        return GH_OK;
    while (p < s.len && s.ptr[p] == ' ')
        p++;
    size_t t68_end = auth_syntax_scan_token68(s, p);
    size_t r = t68_end;
    if (t68_end > p && at_element_end(s, &r)) {
        cur->token68 = slice_make(s.ptr + p, t68_end - p);
        *pos = r;
        return GH_OK;
    }
    *pos = p;
    if (p < s.len && s.ptr[p] != ',')
        return parse_param(s, pos, out, cur);
    return GH_OK;
}

int
fetch_challenge_parse(struct slice value, struct fetch_challenges *out)
{
    struct slice s = value;
    size_t pos = 0;
    size_t first_new = out->count; /* challenges of this line; undone on failure */
    struct fetch_challenge *cur = NULL;
    int err = GH_OK;

    while (pos < s.len) {
        pos = auth_syntax_skip_ows(s, pos);
        if (pos >= s.len)
            break;
        if (s.ptr[pos] == ',') {
            pos++;
            continue;
        }
        size_t tok_end = auth_syntax_scan_token(s, pos);
        if (tok_end == pos) {
            err = GH_EPROTO;
            goto fail;
        }
        size_t after = auth_syntax_skip_ows(s, tok_end);
        if (after < s.len && s.ptr[after] == '=') {
            /* A further auth-param of the current challenge. */
            if (cur == NULL || cur->token68.len > 0) {
                err = GH_EPROTO;
                goto fail;
            }
            err = parse_param(s, &pos, out, cur);
        } else {
            /* A new challenge. */
            if (out->count >= FETCH_MAX_CHALLENGES) {
                err = GH_ELIMIT;
                goto fail;
            }
            cur = &out->items[out->count++];
            *cur = (struct fetch_challenge){.scheme = slice_make(s.ptr + pos, tok_end - pos)};
            pos = tok_end;
            err = parse_challenge_rest(s, &pos, out, cur);
        }
        if (err != GH_OK)
            goto fail;
        if (!at_element_end(s, &pos)) {
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
    struct slice s = value;
    size_t pos = 0;

    *out = (struct fetch_challenge){0};
    while (pos < s.len) {
        pos = auth_syntax_skip_ows(s, pos);
        if (pos >= s.len)
            break;
        if (s.ptr[pos] == ',') {
            pos++;
            continue;
        }
        int err = parse_param(s, &pos, scratch_owner, out);
        if (err != GH_OK)
            return err;
        if (!at_element_end(s, &pos))
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
