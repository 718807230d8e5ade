// SPDX-License-Identifier: MIT
// Basic with a Kerberos password (like mod_auth_gssapi's GssapiBasicAuth):
// get initial credentials for the user with the password from the KDC, then
// check that the KDC is genuine by getting a ticket for our own service and
// decrypting it with the keytab (krb5_verify_init_creds). Plugs into the Basic
// scheme as a basic_verify_fn. MIT krb5 does the Kerberos; nothing is home-made.
//
// It talks to the KDC: calls block for up to the library's timeouts, so the
// server runs such requests on its blocking pool (auth_engine_may_block()).
#ifndef GH_AUTH_BASIC_KRB5_H
#define GH_AUTH_BASIC_KRB5_H

#include <stddef.h>

struct basic_krb5;

/* keytab: path (NULL: the default keytab). service: the principal whose key
 * verifies the KDC ("HTTP/host" or "HTTP/host@REALM"); NULL: the first entry of
 * the keytab. realm: appended to user names without one (NULL: the default
 * realm). Checks that the keytab is readable and holds a key. GH_OK, GH_EIO
 * (reason in err) or GH_ENOMEM. Thread-safe once created. */
int basic_krb5_create(const char *keytab, const char *service, const char *realm,
                      struct basic_krb5 **out, char *err, size_t err_len);
void basic_krb5_destroy(struct basic_krb5 *bk); /* NULL-safe */

/* basic_verify_fn (arg: a struct basic_krb5 *): GH_OK, GH_EAUTH (wrong password,
 * or the KDC could not be verified), GH_ENOTFOUND (unknown principal),
 * GH_EDENIED (KDC_ERR_CLIENT_REVOKED: account disabled, locked or expired),
 * GH_ESTATE (KDC_ERR_KEY_EXPIRED: password expired), GH_EIO (no
 * KDC reachable, keytab problem) or GH_ENOMEM. The password copy is wiped. On
 * GH_OK *canon_out is the client principal of the credentials the KDC issued
 * (asked with canonicalize, RFC 6806), e.g. "alice@EXAMPLE.ORG" for a typed
 * "ALICE" on a case-insensitive (AD) KDC: malloc'd, the caller frees. */
int basic_krb5_verify(void *arg, const char *user, const char *password, size_t password_len,
                      char **canon_out);

#endif
