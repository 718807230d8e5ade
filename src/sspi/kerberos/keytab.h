// SPDX-License-Identifier: MIT
// The acceptor's keytab, copied into a private MEMORY keytab. With a FILE
// keytab, MIT opens, locks and reads the file on every accepted handshake
// (Apache pays this too); the copy is read once, and the file is checked for
// changes (stat, at most once per second) so that a rotated key (a new kvno
// added by the KDC's administrator) is picked up without a restart.
// Thread-safe.
#ifndef GH_SSPI_KERBEROS_KEYTAB_H
#define GH_SSPI_KERBEROS_KEYTAB_H

#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"

struct krb_keytab;

/* Copies the keytab file named by name ("FILE:/path" or "/path") into a new
 * MEMORY keytab. SEC_E_OK with *out (free with krb_keytab_free), or
 * SEC_E_NO_CREDENTIALS (unreadable or empty: the reason appended to
 * error_text when not NULL) or SEC_E_INSUFFICIENT_MEMORY. Other keytab types
 * (MEMORY:, DIR:...) are not copied: SEC_E_UNSUPPORTED_FUNCTION, use the name
 * as it is. */
SECURITY_STATUS krb_keytab_load(const char *name, struct krb_keytab **out, struct buf *error_text);
void krb_keytab_free(struct krb_keytab *kt); /* NULL-safe */

/* "MEMORY:gh-<random>": the name to give MIT (gss_acquire_cred_from). */
const char *krb_keytab_name(const struct krb_keytab *kt);

/* Re-reads the file when it changed (size, mtime or inode), at most once per
 * second (now_ms: monotonic; 0: read the clock): keys added to the file are
 * added to the copy, keys removed from it are removed. A file that cannot be
 * read keeps the copy as it is. Cheap when nothing changed. */
void krb_keytab_refresh(struct krb_keytab *kt, uint64_t now_ms);

/* How many times krb_keytab_refresh found the file changed and synced the
 * copy (0 after the load): what the acceptor's identity cache keys on, so that
 * a reloaded keytab never serves identities cached under the old one.
 * Thread-safe, lock-free. */
uint64_t krb_keytab_generation(struct krb_keytab *kt);

#endif
