// SPDX-License-Identifier: MIT
// Basic with a Kerberos password (like mod_auth_gssapi's GssapiBasicAuth):
// get initial credentials for the user with the password from the KDC, then a
// ticket for our own service into a MEMORY ccache, and accept that ticket with
// the Kerberos package's acceptor and the keytab, as a Negotiate token would
// be: the ticket decrypting with our key proves the KDC genuine (what
// krb5_verify_init_creds checks), and the identity gets the PAC's SIDs and
// groups (none without a PAC, e.g. from an MIT KDC). Plugs into the Basic
// scheme as a basic_verify_fn. MIT krb5 does the Kerberos; nothing is home-made.
//
// It talks to the KDC: calls block for up to the library's timeouts, so the
// server runs such requests on its blocking pool (auth_engine_may_block()).
#ifndef GH_AUTH_BASIC_KRB5_H
#define GH_AUTH_BASIC_KRB5_H

#include <stddef.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "auth/reason.h"

struct basic_krb5;

/* sspi: the function table whose Kerberos package accepts the tickets (the
 * engine's back end; borrowed, must outlive the object; NULL fails).
 * acceptor: the location's acceptor settings (GH_ACCEPTOR_GROUP_NAMES...),
 * borrowed for the call; NULL: defaults. Its Keytab and DelegatedCcacheDir
 * are replaced by keytab and none. keytab: path (NULL: the default keytab).
 * service: the principal whose key verifies the KDC ("HTTP/host" or
 * "HTTP/host@REALM"); NULL: the first entry of the keytab. realm: appended to
 * user names without one (NULL: the default realm). Checks that the keytab is
 * readable and holds a key, and acquires the inbound Kerberos credentials.
 * GH_OK, GH_EIO (reason in err) or GH_ENOMEM. Thread-safe once created. */
int basic_krb5_create(const SecurityFunctionTableA *sspi, const GH_ACCEPTOR_AUTH_DATA *acceptor,
                      const char *keytab, const char *service, const char *realm,
                      struct basic_krb5 **out, char *err, size_t err_len);
void basic_krb5_destroy(struct basic_krb5 *bk); /* NULL-safe */

/* basic_verify_fn (arg: a struct basic_krb5 *): GH_OK, GH_EAUTH (wrong password,
 * or the KDC could not be verified), GH_ENOTFOUND (unknown principal),
 * GH_EDENIED (KDC_ERR_CLIENT_REVOKED: account disabled, locked or expired),
 * GH_ESTATE (KDC_ERR_KEY_EXPIRED: password expired), GH_EIO (no
 * KDC reachable, keytab problem) or GH_ENOMEM. The password copy is wiped. On
 * failure *why (may be NULL) gets the reason and MIT's words: a KDC that cannot
 * be reached (KRB5_KDC_UNREACH, KRB5_REALM_CANT_RESOLVE, timeouts) is
 * AUTH_REASON_AUTHORITY_UNREACHABLE, a keytab whose key does not decrypt the
 * KDC's ticket AUTH_REASON_KERBEROS_KEYTAB_KVNO, never "wrong password". On
 * GH_OK *canon_out is the client principal of the credentials the KDC issued
 * (asked with canonicalize, RFC 6806), e.g. "alice@EXAMPLE.ORG" for a typed
 * "ALICE" on a case-insensitive (AD) KDC: malloc'd, the caller frees; and
 * *token_out the access token the Kerberos package made when it accepted the
 * service ticket (user and group SIDs and UPN from the PAC; none without a
 * PAC), which the caller closes (gh_token_close, or the back end's close).
 * Both are NULL on failure. */
int basic_krb5_verify(void *arg, const char *user, const char *password, size_t password_len,
                      char **canon_out, gh_token **token_out, struct auth_failure *why);

#endif
