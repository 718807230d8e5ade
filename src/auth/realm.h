// SPDX-License-Identifier: MIT
// The acceptor's own Kerberos realms: identities of these realms are "local"
// (a bare `auth_require user alice` matches them, the record names them by
// user name); identities of other realms (reached through a realm trust)
// are named by their full principal. This is krb5's default auth_to_local.
#ifndef GH_AUTH_REALM_H
#define GH_AUTH_REALM_H

#include <stddef.h>

/* Collects the local realms: the "@REALM" of each service name, the realms of
 * the keytab's entries (keytab NULL: the default keytab), and the default
 * realm of krb5.conf; unreadable sources are skipped. Appends new, distinct
 * names to *realms (malloc'd array of malloc'd strings, *count entries).
 * GH_OK or GH_ENOMEM. */
int auth_realm_collect(const char *keytab, char *const *service_names, size_t service_count,
                       char ***realms, size_t *count);

/* Appends realm to *realms unless present (exact match: Kerberos realms are
 * case-sensitive). GH_OK or GH_ENOMEM. */
int auth_realm_add(const char *realm, size_t len, char ***realms, size_t *count);

/* The realm part of a principal name ("alice@EXAMPLE.ORG" -> "EXAMPLE.ORG"):
 * after the last '@' not escaped by '\\' (RFC 1964 2.1.1), or NULL. */
const char *auth_realm_of(const char *principal);

#endif
