// SPDX-License-Identifier: MIT
// Accounts by SID and by name, for LookupAccountSid / LookupAccountName
// (winapi_lookup.c). Sources, first answer wins (the order Windows documents:
// well-known SIDs, then what the local machine knows, then the domain):
//   1. well-known SIDs (Everyone, NT AUTHORITY\SYSTEM, BUILTIN\Users...);
//   2. live tokens with a Windows identity: the PAC's / DC's user and its
//      group names when the token has them (token.c);
//   3. Samba's Unix SIDs S-1-22-1-uid / S-1-22-2-gid and the local passwd
//      and group databases ("Unix User\nobody", "Unix Group\nogroup");
//   4. winbindd (sid_names.c), unless SID name lookups are turned off.
// Process-wide and thread-safe; 3 and 4 may block (NSS, winbindd's socket).
#ifndef GH_SSPI_ACCOUNTS_H
#define GH_SSPI_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sspi/sid.h"

#define ACCOUNT_FIELD_MAX 257 /* 256 characters and the NUL (UNLEN, DNLEN-ish) */
#define UNIX_USER_DOMAIN  "Unix User"
#define UNIX_GROUP_DOMAIN "Unix Group"

/* One account: its SID, its domain ("" for Everyone and other
 * domain-less well-known SIDs) and name, UTF-8, and its SID_NAME_USE. */
struct account {
    struct sid sid;
    char domain[ACCOUNT_FIELD_MAX];
    char name[ACCOUNT_FIELD_MAX];
    int use; /* SidTypeUser, SidTypeGroup... (<gatehouse/wintypes.h>) */
};

/* The account of sid. True with *out filled; false when no source knows it
 * (or a name does not fit ACCOUNT_FIELD_MAX). */
bool accounts_by_sid(const struct sid *sid, struct account *out);

/* The account named name in domain (NULL: any domain, searched in the order
 * above; "user@dns.domain" is split by the caller). Names and domains compare
 * case-insensitively (ASCII), as Windows does. True with *out filled. */
bool accounts_by_name(const char *domain, const char *name, struct account *out);

/* Copies src into a field; false when it does not fit. */
bool accounts_set_field(char *field, const char *src);

#endif
