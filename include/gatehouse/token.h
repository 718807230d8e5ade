// SPDX-License-Identifier: MIT
// gh_token: the authenticated client's identity (the "access token" of SSPI
// and http.sys), reference-counted and immutable once created.
#ifndef GATEHOUSE_TOKEN_H
#define GATEHOUSE_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <gatehouse/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gh_token gh_token; /* opaque */

/* Returns a new reference to token (the "duplicate" of http.sys's AccessToken).
 * Thread-safe. NULL-safe (returns NULL). */
GH_API gh_token *gh_token_dup(gh_token *token);
/* Releases one reference; the last one frees the token. NULL-safe. Thread-safe. */
GH_API void gh_token_close(gh_token *token);

/* Accessors: strings are UTF-8, owned by the token, valid while a reference is held. */
GH_API const char *gh_token_user(const gh_token *token);      /* "alice" */
GH_API const char *gh_token_domain(const gh_token *token);    /* "EXAMPLE" or realm */
GH_API const char *gh_token_principal(const gh_token *token); /* "alice@EXAMPLE.COM" */
GH_API const char *gh_token_package(const gh_token *token);   /* "NTLM", "Kerberos", ... */
GH_API size_t gh_token_group_count(const gh_token *token);
GH_API const char *gh_token_group(const gh_token *token, size_t index); /* NULL past the end */
/* GH_OK with uid/gid when the identity maps to a local account; GH_ENOTFOUND otherwise. */
GH_API int gh_token_unix_ids(const gh_token *token, uid_t *uid_out, gid_t *gid_out);
GH_API time_t gh_token_logon_time(const gh_token *token);
GH_API time_t gh_token_expiry(const gh_token *token); /* 0: no expiry known */
/* Delegated credentials cache ("FILE:/path"), or NULL when none was delegated. */
GH_API const char *gh_token_delegated_ccache(const gh_token *token);

/* The Windows identity (what GetTokenInformation's TokenUser and TokenGroups
 * give on Windows), when the domain controller vouched for the account: a
 * Kerberos ticket's PAC (Active Directory, Samba), or an NTLM logon checked
 * by the domain controller. SIDs are in the string form of MS-DTYP 2.4.2.1
 * ("S-1-5-21-...-1103"). Without one (an MIT KDC, the built-in store),
 * gh_token_user_sid is NULL and every group has no SID: groups then come
 * from NSS or the store, as names.
 *
 * With one, group i of gh_token_group() is group SID i: its name
 * ("CORP\Staff", from winbind, `auth_group_names winbind`) when known, else
 * the SID itself. The primary group comes first, then the PAC's GroupIds,
 * ExtraSids and resource groups, nested groups included (the KDC expands
 * them). Strings are owned by the token. */
GH_API const char *gh_token_user_sid(const gh_token *token); /* NULL: none */
/* NULL past the end or for a group without a SID. */
GH_API const char *gh_token_group_sid(const gh_token *token, size_t index);
/* The group's name from winbind, NULL when unnamed (or no SID). */
GH_API const char *gh_token_group_sid_name(const gh_token *token, size_t index);
/* SE_GROUP_* attributes (MS-PAC 2.2.1: 7 = mandatory, enabled by default,
 * enabled); 0 past the end or without a SID. */
GH_API uint32_t gh_token_group_attributes(const gh_token *token, size_t index);
/* NetBIOS domain of the account ("CORP"), its DNS domain ("CORP.TEST") and
 * userPrincipalName ("frank.upn@corp.test"); NULL when not known. */
GH_API const char *gh_token_logon_domain(const gh_token *token);
GH_API const char *gh_token_dns_domain(const gh_token *token);
GH_API const char *gh_token_upn(const gh_token *token);

#ifdef __cplusplus
}
#endif
#endif
