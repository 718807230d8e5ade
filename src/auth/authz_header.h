// SPDX-License-Identifier: MIT
// HTTP authentication framework syntax (RFC 9110 section 11): parsing the
// credentials of an Authorization / Proxy-Authorization field (11.4, 11.6.2,
// 11.7.2) and building challenges for WWW-Authenticate / Proxy-Authenticate
// (11.3, 11.6.1, 11.7.1).
//
//   credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param  = token BWS "=" BWS ( token / quoted-string )
//   token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// Protocol only: no allocation, no I/O.
#ifndef GH_AUTH_AUTHZ_HEADER_H
#define GH_AUTH_AUTHZ_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/slice.h"

#define AUTHZ_MAX_PARAMS              32          /* hard ceiling of authz_limits.max_params */
#define AUTHZ_DEFAULT_MAX_TOKEN_BYTES (64 * 1024) /* Kerberos tickets with large PACs */

struct authz_limits {
    size_t max_token_bytes; /* longest token68 or header value accepted (0: default) */
    size_t max_params;      /* at most AUTHZ_MAX_PARAMS (0: AUTHZ_MAX_PARAMS) */
};

enum authz_form {
    AUTHZ_FORM_SCHEME_ONLY = 0, /* "Negotiate" with nothing after it */
    AUTHZ_FORM_TOKEN68 = 1,
    AUTHZ_FORM_PARAMS = 2,
};

struct authz_param {
    struct slice name;  /* token; compare with slice_eq_nocase (RFC 9110 11.2) */
    struct slice value; /* unescaped: borrows from the input, or from scratch when the
                           quoted-string held quoted-pairs */
    bool was_quoted;
};

struct authz_credentials {
    struct slice scheme; /* borrowed; case-insensitive (RFC 9110 11.1) */
    enum authz_form form;
    struct slice token68; /* AUTHZ_FORM_TOKEN68 only */
    struct authz_param params[AUTHZ_MAX_PARAMS];
    size_t param_count;
};

/* Parses one field value (OWS already trimmed, or not: leading/trailing OWS are
 * skipped). scratch must hold at least value.len bytes; unescaped quoted-string
 * values are written there. Returns
 *   GH_OK      *out filled; slices borrow from value and scratch;
 *   GH_EPROTO  not valid credentials syntax (answer 400);
 *   GH_ELIMIT  value longer than max_token_bytes + 1 KiB, a token68 longer than
 *              max_token_bytes, or more than max_params parameters (answer 400).
 * Duplicate parameter names are refused (GH_EPROTO): RFC 9110 11.2 says each
 * parameter name MUST only occur once per challenge/credentials. */
int authz_parse(struct slice value, const struct authz_limits *limits, uint8_t *scratch,
                size_t scratch_len, struct authz_credentials *out);

/* True when the credentials' scheme is scheme (ASCII case-insensitive). */
bool authz_scheme_is(const struct authz_credentials *c, const char *scheme);

/* The parameter named name (case-insensitive), or NULL. */
const struct authz_param *authz_param_find(const struct authz_credentials *c, const char *name);

/* Challenge building, appended to out (one WWW-Authenticate field value):
 *   authz_challenge_begin(out, "Digest");            -> "Digest"
 *   authz_challenge_param(out, "realm", v, true);    -> ` realm="v"` (first) or `, realm="v"`
 *   authz_challenge_token68(out, tok);               -> " tok"
 * Parameter values are written as quoted-string (escaping '"' and '\\') when
 * quote is true or when the value is not a token. Names must be tokens. Returns
 * GH_OK, GH_EINVAL (a name that is not a token, a CTL other than HTAB in a value,
 * or bytes that are not token68 in a token), GH_ELIMIT or GH_ENOMEM. */
int authz_challenge_begin(struct buf *out, const char *scheme);
int authz_challenge_param(struct buf *out, const char *name, struct slice value, bool quote);
int authz_challenge_token68(struct buf *out, struct slice token);

#endif
