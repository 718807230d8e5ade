// SPDX-License-Identifier: MIT
// Lexical pieces of the HTTP authentication framework (RFC 9110 11.2, 5.6),
// shared by the server's Authorization parser (src/auth/authz_header.c) and
// the client's WWW-Authenticate / Authentication-Info parser
// (src/cli/fetch_challenge.c):
//
//   auth-param    = token BWS "=" BWS ( token / quoted-string )
//   token         = 1*tchar
//   token68       = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//
// Each scanner reads s from a position and never past s.len. What follows an
// element (the end of the value, a comma, another challenge) is the caller's
// grammar. Protocol only: no allocation, no I/O.
#ifndef GH_HTTP_AUTH_SYNTAX_H
#define GH_HTTP_AUTH_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

/* Where unescaped quoted-string values go: bytes [used, len) of ptr are free. A
 * value without quoted-pairs borrows from the input and takes no room. */
struct auth_syntax_scratch {
    uint8_t *ptr; /* borrowed; may be NULL when len is 0 */
    size_t len;
    size_t used;
};

/* RFC 9110 5.6.2 tchar. */
bool auth_syntax_is_tchar(uint8_t c);

/* True when s is a token (non-empty, tchar only). */
bool auth_syntax_is_token(struct slice s);

/* The first position at or after pos that is not OWS (SP / HTAB). */
size_t auth_syntax_skip_ows(struct slice s, size_t pos);

/* The end of the run of tchar starting at pos (pos itself when there is none). */
size_t auth_syntax_scan_token(struct slice s, size_t pos);

/* The end of a token68 starting at pos, '=' padding included, or pos when no
 * token68 character stands there. The caller checks what follows it. */
size_t auth_syntax_scan_token68(struct slice s, size_t pos);

/* Reads a token or a quoted-string at *pos. On GH_OK *value_out borrows from s,
 * or from scratch when the quoted-string held quoted-pairs (they are unescaped
 * there; the unescaped value is never longer than the quoted text), *was_quoted_out
 * (may be NULL) says which form it was, and *pos is past the value. Returns
 *   GH_EPROTO  no token there, an unterminated quoted-string, or a byte that is
 *              not qdtext / a quoted-pair (RFC 9110 5.6.4);
 *   GH_ELIMIT  no scratch room for the unescaped value.
 * On failure *pos and scratch are unchanged. */
int auth_syntax_value(struct slice s, size_t *pos, struct auth_syntax_scratch *scratch,
                      struct slice *value_out, bool *was_quoted_out);

/* Reads `token BWS "=" BWS ( token / quoted-string )` at *pos. On GH_OK *name_out
 * borrows from s, the value is as auth_syntax_value gives it, and *pos is past the
 * value. Returns GH_OK, GH_EPROTO or GH_ELIMIT as auth_syntax_value; on failure
 * *pos and scratch are unchanged. Duplicate names are the caller's to refuse
 * (RFC 9110 11.2: each name once per challenge or credentials). */
int auth_syntax_param(struct slice s, size_t *pos, struct auth_syntax_scratch *scratch,
                      struct slice *name_out, struct slice *value_out, bool *was_quoted_out);

#endif
