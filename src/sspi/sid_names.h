// SPDX-License-Identifier: MIT
// SID -> account or group name ("CORP\Staff") through winbindd
// (libwbclient wbcCtxLookupSids), with a bounded, TTL'd cache in front.
// Process-wide and thread-safe.
//
// The lookup blocks on winbindd's socket: callers run where blocking is
// allowed (the server's blocking pool). When the cache is warm nothing is
// looked up. Names that winbind does not know are cached too (as unknown),
// so an unnamed SID costs one lookup per TTL, not one per handshake;
// winbindd being unreachable is not cached, and is not an error either: the
// SIDs simply stay unnamed.
#ifndef GH_SSPI_SID_NAMES_H
#define GH_SSPI_SID_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "sspi/sid.h"

#define SID_NAMES_TTL_MS      300000 /* 5 minutes: group renames show up within it */
#define SID_NAMES_MAX_ENTRIES 4096

/* A resolver: names_out[i] = malloc'd "DOMAIN\name" for sids[i], or NULL when
 * unknown. Returns false when the name service could not be asked at all. */
typedef bool sid_names_resolver(const struct sid *sids, size_t count, char **names_out);

/* Lookups are on by default (winbind, SID_NAMES_TTL_MS, SID_NAMES_MAX_ENTRIES;
 * the table is made on first use). This turns them on (resolver NULL:
 * winbind) or off (is_enabled false: every SID stays unnamed, nothing is
 * looked up), sets the TTL and the bound, and empties the cache. */
void sid_names_configure(bool is_enabled, uint64_t ttl_ms, size_t max_entries,
                         sid_names_resolver *resolver);
bool sid_names_is_enabled(void);

/* names_out[i] = malloc'd name of sids[i] or NULL, from the cache, looking up
 * the misses in one call to the resolver (when enabled). now_ms: a monotonic
 * clock (0: read it). SEC_E_OK or SEC_E_INSUFFICIENT_MEMORY (names_out all
 * NULL then). */
SECURITY_STATUS sid_names_lookup(const struct sid *sids, size_t count, uint64_t now_ms,
                                 char **names_out);

/* One uncached winbindd lookup with the account's type (SID_NAME_USE), for
 * LookupAccountSid / LookupAccountName (accounts.h, source 4): by SID, or
 * by name (domain NULL: an unqualified name). True with *out filled; false
 * when lookups are turned off, winbindd does not answer or does not know the
 * account. Blocks on winbindd's socket. */
struct account;
bool sid_names_winbind_by_sid(const struct sid *sid, struct account *out);
bool sid_names_winbind_by_name(const char *domain, const char *name, struct account *out);

/* For tests and statistics: resolver calls since the last configure. */
uint64_t sid_names_resolver_calls(void);

#endif
