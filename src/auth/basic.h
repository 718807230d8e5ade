// SPDX-License-Identifier: MIT
// The Basic scheme (RFC 7617), server side.
#ifndef GH_AUTH_BASIC_H
#define GH_AUTH_BASIC_H

#include <stddef.h>

#include <gatehouse/token.h>

#include "auth/reason.h"
#include "base/buf.h"
#include "base/secret.h"
#include "base/slice.h"

#define BASIC_MAX_CREDENTIALS_BYTES 4096 /* decoded user-pass */

/* Verifies a cleartext password for user: GH_OK, GH_EAUTH (wrong password),
 * GH_ENOTFOUND (no such user) or another failure (backend unavailable). On
 * GH_OK the verifier may set *canon_out (NULL on entry) to the user's canonical
 * name (malloc'd, the caller frees; a Kerberos verifier: the client principal
 * the KDC returned, "alice@REALM"); left NULL, the name typed is used. It may
 * also set *token_out (NULL on entry) to an access token of the user (the
 * caller owns it; a Kerberos verifier: the token of the accepted service
 * ticket, with the PAC's groups and SIDs). The
 * default verifier is the user store; a Kerberos verifier (initial credentials
 * with the password, then a ticket for our own service accepted with the keytab,
 * like mod_auth_gssapi's GssapiBasicAuth) plugs in here. Must be thread-safe.
 * Failures: GH_EAUTH (wrong password), GH_ENOTFOUND (unknown user), and, when
 * the directory says why it refuses a right password, GH_EDENIED (account
 * revoked: disabled, locked or expired) or GH_ESTATE (password expired or to
 * be changed at next logon); anything else is an error of the verifier.
 * On failure the verifier may also fill *why_out (reason AUTH_REASON_OK on
 * entry: left so, the return value decides) with the reason and the
 * authority's words; AUTH_REASON_AUTHORITY_UNREACHABLE makes the answer a 503
 * that costs the client nothing. */
typedef int basic_verify_fn(void *arg, const char *user, const char *password, size_t password_len,
                            char **canon_out, gh_token **token_out, struct auth_failure *why_out);

/* Appends the challenge: Basic realm="<realm>", charset="UTF-8" (RFC 7617 2, 2.1).
 * GH_OK, GH_EINVAL (realm with control characters), GH_ELIMIT or GH_ENOMEM. */
int basic_challenge(struct buf *out, const char *realm);

/* Decodes the token68 of "Basic <token68>" (RFC 7617 2): strict base64, then
 * user-id ":" password split at the first colon. The user-id must be non-empty
 * valid UTF-8 without control characters; the password must be valid UTF-8
 * without control characters (RFC 7617 2: neither may contain CTLs).
 * On GH_OK *user_out is a NUL-terminated copy (free with free()) and *password_out
 * holds the password followed by a NUL that len does not count (free with
 * secret_free). GH_EPROTO (malformed: answer 400), GH_ELIMIT or GH_ENOMEM. */
int basic_decode(struct slice token68, char **user_out, struct secret *password_out);

/* True when s is well-formed UTF-8 without C0/C1 controls or DEL. */
bool basic_is_clean_utf8(struct slice s);

#endif
