// SPDX-License-Identifier: MIT
// NTLM acceptor back ends: who checks a client's NTLMv2 response.
//
// The acceptor (context.c) always issues its own CHALLENGE and, after the
// back end said yes, checks what only the session key can check (the MIC,
// key exchange, channel bindings, target name, timestamp). The back end sees
// the server challenge and the client's responses and answers with the
// SessionBaseKey (MS-NLMP 3.3.2) and who the client is:
//   local    NT hashes from the built-in user store or an injected lookup
//            (backend_local.c): NTProofStr computed and compared here;
//   winbind  the domain controller, through winbindd's network logon
//            (wbcAuthenticateUserEx, WBC_AUTH_USER_LEVEL_RESPONSE; winbind.c):
//            the DC checks the proof and returns the user session key, the
//            account's SIDs and names.
// A credential picks one at AcquireCredentialsHandle (GH_ACCEPTOR_NTLM_WINBIND).
#ifndef GH_SSPI_NTLM_BACKEND_H
#define GH_SSPI_NTLM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"

struct ntlm_cred;

/* One logon to check; everything borrowed for the call. */
struct ntlm_logon {
    const uint8_t *server_challenge; /* 8 bytes: the challenge we issued */
    struct slice nt_response;        /* NTLMv2: NTProofStr (16) || temp (>= 28) */
    struct slice lm_response;        /* LMv2 (24 bytes) or zeros; may be empty */
    const char *user;                /* UTF-8, as the client sent it */
    const char *domain;              /* UTF-8, as sent; may be "" */
    const char *workstation;         /* UTF-8, as sent; may be "" */
    struct slice user16;             /* the same two in UTF-16LE, as they enter NTOWFv2 */
    struct slice domain16;
};

/* Who the client is, once a back end accepted it. Strings are UTF-8 and owned
 * (ntlm_logon_result_free). */
struct ntlm_logon_result {
    uint8_t session_base_key[16]; /* secret: wiped by ntlm_logon_result_free */
    char *user;                   /* canonical account name; required */
    char *domain;        /* the account's NetBIOS domain; NULL: the acceptor's NbDomainName */
    char *principal;     /* "user@REALM" when known, else NULL (then user@domain) */
    char *local_account; /* the name NSS knows the account by; NULL: user */
    /* The store's group names; NULL when the back end gives none (then the
     * token takes the SIDs below, or asks NSS). */
    char **groups;
    size_t group_count;
    /* A domain account (winbind): its SID, its group SIDs (primary group
     * first) with their SE_GROUP_* attributes, its realm and UPN. NULL/0 when
     * not a domain account. */
    char *user_sid; /* "S-1-5-21-...-1104" */
    char **group_sids;
    uint32_t *group_sid_attrs;
    size_t group_sid_count;
    char *dns_domain; /* "CORP.TEST" */
    char *upn;        /* userPrincipalName when the DC gave it */
};

void ntlm_logon_result_free(struct ntlm_logon_result *r); /* wipes; NULL-safe */

/* Checks one logon. state is the back end's own object (ntlm_cred.backend_state).
 * Returns SEC_E_OK with *out filled; SEC_E_LOGON_DENIED (unknown user, wrong
 * password, or an account the DC refuses: disabled, expired, locked... the
 * reason in error_text, never sent to the peer); SEC_E_NO_AUTHENTICATING_AUTHORITY
 * (the authority cannot be reached: winbindd down, no DC; error_text says what
 * to check); SEC_E_INSUFFICIENT_MEMORY or SEC_E_INTERNAL_ERROR. On failure
 * *out is left empty and *detail (0 on entry) may say more: a GH_SEC_DETAIL_*
 * of <gatehouse/sspi.h> (unknown user, wrong password, account disabled,
 * password expired), for the server's logs only. May block (winbind): the caller runs it where
 * blocking is allowed. Thread-safe on one state. */
typedef SECURITY_STATUS ntlm_logon_fn(void *state, const struct ntlm_logon *in,
                                      struct ntlm_logon_result *out, unsigned long *detail,
                                      struct buf *error_text);

struct ntlm_backend {
    const char *name; /* "local", "winbind" */
    ntlm_logon_fn *logon;
    void (*destroy)(void *state); /* NULL: state is not owned */
};

/* The local back end; its state is the credential itself (struct ntlm_cred *). */
extern const struct ntlm_backend ntlm_backend_local;

/* The winbind back end. Creates its state (a small pool of winbind client
 * contexts; nothing is contacted yet). SEC_E_OK or SEC_E_INSUFFICIENT_MEMORY. */
extern const struct ntlm_backend ntlm_backend_winbind;
SECURITY_STATUS ntlm_winbind_create(void **state_out);
/* The NetBIOS name of the domain winbindd serves ("CORP"), into out; false
 * when winbindd does not answer (or the name does not fit). May block. */
bool ntlm_winbind_domain(char *out, size_t len);

/* What a failed winbind logon means (exposed for the unit tests): maps a
 * wbcErr and, for WBC_ERR_AUTH_ERROR, the NTSTATUS the DC returned, to our
 * status, and names the reason ("account disabled", "winbind is not
 * available", ...: static text). */
struct ntlm_winbind_failure {
    SECURITY_STATUS status;
    const char *reason;   /* short words for logs and audit lines */
    const char *nt_name;  /* "NT_STATUS_ACCOUNT_DISABLED", or NULL */
    unsigned long detail; /* GH_SEC_DETAIL_* for the audit reason (unknown user, wrong
                           * password, account disabled, password expired), or 0 */
};
struct ntlm_winbind_failure ntlm_winbind_map_failure(int wbc_err, uint32_t nt_status);

#endif
