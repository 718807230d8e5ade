// SPDX-License-Identifier: MIT
// Local accounts from NSS (getpwnam_r, getgrouplist, getgrgid_r), cached for a
// short time. Every Kerberos handshake maps its client to a local account
// (auth_to_local); through the systemd user database one lookup costs ~60
// system calls, more than the rest of the handshake's own work. Like nscd,
// positive and negative answers are kept for NSS_CACHE_DEFAULT_TTL_MS, in a
// bounded table (the entry closest to expiry makes room).
//
// Process-wide and thread-safe (one mutex, never held across an NSS call).
#ifndef GH_SSPI_NSS_CACHE_H
#define GH_SSPI_NSS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gatehouse/sspi.h>

#define NSS_CACHE_DEFAULT_TTL_MS  30000
#define NSS_CACHE_DEFAULT_ENTRIES 256
#define NSS_CACHE_WAYS            8
#define NSS_CACHE_MAX_GROUPS      4096

/* What NSS says about one account name. */
struct nss_account {
    bool found; /* false: no such account (the other fields are empty) */
    uid_t uid;
    gid_t gid;
    gid_t *gids;        /* supplementary groups (getgrouplist), owned */
    char **group_names; /* gid_count names (the number when NSS has none), owned */
    size_t gid_count;
};

/* Looks account up (through the cache). On SEC_E_OK *out is the caller's copy
 * (free with nss_account_clear); not finding the account is SEC_E_OK with
 * found false. SEC_E_INSUFFICIENT_MEMORY otherwise. */
SECURITY_STATUS nss_cache_lookup(const char *account, struct nss_account *out);
void nss_account_clear(struct nss_account *a); /* leaves it empty */

/* ---- For tests ------------------------------------------------------------ */
/* Resolves account without the cache (the default: NSS). Fills *out on SEC_E_OK. */
typedef SECURITY_STATUS nss_resolve_fn(const char *account, struct nss_account *out);
/* Empties the cache and sets its bound (0: default), TTL (0: no caching) and
 * resolver (NULL: NSS). */
void nss_cache_configure(size_t max_entries, uint64_t ttl_ms, nss_resolve_fn *resolve);
/* nss_cache_lookup at a given monotonic time in ms. */
SECURITY_STATUS nss_cache_lookup_at(const char *account, uint64_t now_ms, struct nss_account *out);
/* Entries held; for tests. */
size_t nss_cache_count(void);

#endif
