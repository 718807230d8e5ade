// SPDX-License-Identifier: MIT
// Making tokens (for packages) and switching a thread's identity to one
// (for ImpersonateSecurityContext / RevertSecurityContext).
#ifndef GH_SSPI_TOKEN_INTERNAL_H
#define GH_SSPI_TOKEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "sspi/sid.h"

struct userstore;

/* What a package knows about an authenticated client. Every string is UTF-8
 * and copied by sspi_token_create; nothing here is kept. */
struct sspi_token_info {
    const char *user;      /* required: "alice" */
    const char *domain;    /* NetBIOS domain or realm; NULL or "" when none */
    const char *principal; /* NULL: built as user@domain (or user) */
    const char *package;   /* required: "NTLM", "Kerberos", ... */
    /* Groups, first match wins: the explicit list when groups != NULL; else the
     * store's list when store != NULL and holds user; else, when the identity
     * maps to a local account, that account's groups from NSS (getgrouplist). */
    const char *const *groups;
    size_t group_count;
    const struct userstore *store; /* borrowed for the call, may be NULL */
    /* Local account to map to with getpwnam_r (uid, gid, supplementary gids),
     * usually `user`; NULL: the identity has no local account. An unknown
     * name is not an error: the token simply has no Unix ids. */
    const char *local_account;
    /* A Windows identity: a Kerberos PAC, or an NTLM logon the domain
     * controller checked. user_sid NULL: none (the fields below are ignored).
     * With user_sid and no explicit groups, the token's groups are the group
     * SIDs, each named "DOMAIN\Group" when lookup_names is set and the SID
     * name cache (sid_names.h) knows it, else left as the SID string; NSS and the store
     * are not asked for groups then. */
    const char *user_sid;                 /* "S-1-5-21-...-1103" */
    const char *const *group_sids;        /* group_sid_count SIDs, token order */
    const uint32_t *group_sid_attributes; /* SE_GROUP_* per SID; NULL: all 7 */
    size_t group_sid_count;
    const char *logon_domain; /* NetBIOS domain of the account ("CORP"), or NULL */
    const char *dns_domain;   /* its DNS domain ("CORP.TEST"), or NULL */
    const char *upn;          /* userPrincipalName, or NULL */
    bool lookup_names;        /* ask the SID name cache (it may block on winbindd) */
    time_t logon_time;        /* 0: now */
    time_t expiry;            /* 0: unknown */
    /* Delegated credentials ("FILE:/path"); NULL when none. With
     * owns_ccache, the file is removed when the last reference goes. */
    const char *delegated_ccache;
    bool owns_ccache;
};

/* Creates a token with one reference (release with gh_token_close). With
 * group SIDs it may block on winbindd (name lookups on a cold cache): call
 * it where blocking is allowed, or with sid_names turned off.
 * SEC_E_OK, SEC_E_INVALID_PARAMETER (no user or package, invalid UTF-8, a
 * SID that does not parse) or SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS sspi_token_create(const struct sspi_token_info *info, gh_token **token_out);

/* Switches the calling thread's filesystem identity (fsuid, fsgid and
 * supplementary groups, all per-thread on Linux) to token's local account.
 * The first call on a thread saves the thread's identity; a further call
 * switches again and keeps the saved one. SEC_E_OK, or SEC_E_NO_IMPERSONATION
 * (no local account, or the process lacks CAP_SETUID/CAP_SETGID) with the
 * thread back to its own identity (as after sspi_token_revert). */
SECURITY_STATUS sspi_token_impersonate(gh_token *token);
/* Restores the identity saved by the first impersonation. SEC_E_OK (also when
 * the thread was not impersonating) or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS sspi_token_revert(void);
/* True when h is an access token of this library (CloseHandle's test). */
bool sspi_token_is_handle(const void *h);
/* The account the calling thread impersonates (the token's user name), or
 * NULL when it does not; valid until the thread reverts. */
const char *sspi_token_impersonated_user(void);
/* True while the calling thread impersonates. */
bool sspi_token_is_impersonating(void);
/* The token the calling thread impersonates (borrowed: the thread holds a
 * reference until it reverts), or NULL. */
gh_token *sspi_token_impersonated(void);

/* What the live tokens with a Windows identity know (accounts.h, source 2):
 * the user SID with the token's user name and logon domain (else its
 * domain), and group SIDs that have a name ("CORP\Staff"). True with *out
 * filled. By name, domain NULL matches any; a domain matches the logon
 * domain, the DNS domain or the token's domain, case-insensitively. */
struct account;
bool sspi_token_find_sid(const struct sid *sid, struct account *out);
bool sspi_token_find_name(const char *domain, const char *name, struct account *out);

#endif
