// SPDX-License-Identifier: MIT
// A client principal's local account name (krb5 auth_to_local), cached for a
// short time. gss_localname builds a fresh krb5_context (reading krb5.conf)
// on every call; every acceptor handshake asks, and clients come back.
// Process-wide and thread-safe.
#ifndef GH_SSPI_KERBEROS_LOCALNAME_H
#define GH_SSPI_KERBEROS_LOCALNAME_H

#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#define KRB_LOCALNAME_TTL_MS  30000
#define KRB_LOCALNAME_ENTRIES 64

/* The local account of principal ("alice@REALM") by auth_to_local rules,
 * into *local_out (free with free(); NULL when there is none). SEC_E_OK or
 * SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS krb_localname(const char *principal, char **local_out);

/* For tests: maps without the cache. */
typedef SECURITY_STATUS krb_localname_fn(const char *principal, char **local_out);
/* Empties the cache; sets the TTL (0: no caching) and the mapper (NULL: GSSAPI). */
void krb_localname_configure(uint64_t ttl_ms, krb_localname_fn *map);
SECURITY_STATUS krb_localname_at(const char *principal, uint64_t now_ms, char **local_out);

#endif
