// SPDX-License-Identifier: MIT
// Making tokens (for packages) and switching a thread's identity to one
// (for ImpersonateSecurityContext / RevertSecurityContext).
#ifndef GH_SSPI_TOKEN_INTERNAL_H
#define GH_SSPI_TOKEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

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
    time_t logon_time; /* 0: now */
    time_t expiry;     /* 0: unknown */
    /* Delegated credentials ("FILE:/path"); NULL when none. With
     * owns_ccache, the file is removed when the last reference goes. */
    const char *delegated_ccache;
    bool owns_ccache;
};

/* Creates a token with one reference (release with gh_token_close).
 * SEC_E_OK, SEC_E_INVALID_PARAMETER (no user or package, invalid UTF-8) or
 * SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS sspi_token_create(const struct sspi_token_info *info, gh_token **token_out);

/* Switches the calling thread's filesystem identity (fsuid, fsgid and
 * supplementary groups, all per-thread on Linux) to token's local account.
 * The first call on a thread saves the thread's identity; a further call
 * switches again and keeps the saved one. SEC_E_OK, or SEC_E_NO_IMPERSONATION
 * (no local account, or the process lacks CAP_SETUID/CAP_SETGID) with the
 * thread back to its own identity (as after sspi_token_revert). */
SECURITY_STATUS sspi_token_impersonate(const gh_token *token);
/* Restores the identity saved by the first impersonation. SEC_E_OK (also when
 * the thread was not impersonating) or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS sspi_token_revert(void);
/* True while the calling thread impersonates. */
bool sspi_token_is_impersonating(void);

#endif
