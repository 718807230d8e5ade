// SPDX-License-Identifier: MIT
// NTLM credentials and contexts shared by cred.c, context.c and ntlm.c.
#ifndef GH_SSPI_NTLM_CONTEXT_H
#define GH_SSPI_NTLM_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "sspi/ntlm/backend.h"
#include "sspi/ntlm/ntlm.h"
#include "sspi/ntlm/session.h"
#include "sspi/package.h"

struct userstore;

struct ntlm_cred {
    bool is_outbound;
    bool is_inbound;
    /* Outbound: who we are. The password is kept only as its NT hash. */
    char *user;   /* owned, UTF-8 */
    char *domain; /* owned, UTF-8, may be "" */
    uint8_t nt_hash[16];
    /* Inbound: who checks the client's response (backend.h), where the local
     * back end's NT hashes come from, and what we announce. */
    const struct ntlm_backend *backend;
    void *backend_state;     /* owned when backend->destroy is set */
    struct userstore *store; /* owned */
    ntlm_nt_hash_lookup_fn *lookup;
    void *lookup_arg;                                          /* borrowed */
    char *nb_domain, *nb_computer, *dns_domain, *dns_computer; /* owned */
    unsigned long acceptor_flags;                              /* GH_ACCEPTOR_* */
    /* Inbound: accepted service names (AcceptedTargetNames), "@REALM" cut off. */
    char **target_names; /* owned */
    size_t target_name_count;
};

enum ntlm_state {
    NTLM_STATE_START,
    NTLM_STATE_NEGOTIATE_SENT, /* client, waiting for the CHALLENGE */
    NTLM_STATE_CHALLENGE_SENT, /* server, waiting for the AUTHENTICATE */
    NTLM_STATE_DONE,
    NTLM_STATE_FAILED,
};

struct ntlm_ctx {
    bool is_client;
    enum ntlm_state state;
    uint32_t flags;         /* negotiated NegotiateFlags */
    uint32_t offered_flags; /* client: the NegotiateFlags of our NEGOTIATE */
    unsigned long attrs;    /* ISC_RET_* / ASC_RET_* */
    struct buf negotiate;   /* copies of the messages the MIC covers */
    struct buf challenge;
    uint8_t server_challenge[8];
    struct ntlm_fixed_inputs fixed;
    uint8_t exported_key[16];
    bool has_mic;
    struct ntlm_session session;
    char *client_name; /* "DOMAIN\\user" */
    /* Acceptor: the client's identity. The token is made on first use
     * (ntlm_context_token): NSS lookups cost more than the handshake itself. */
    char *user;          /* canonical account name */
    char *domain;        /* the account's NetBIOS domain (local back end: ours) */
    char *principal;     /* UPN from the domain, or NULL (then user@domain) */
    char *local_account; /* NSS name; NULL: user */
    char **groups;       /* store group names; NULL: the SIDs below, or NSS */
    size_t group_count;
    /* A domain account (winbind back end): as in struct ntlm_logon_result. */
    char *user_sid;
    char **group_sids;
    uint32_t *group_sid_attrs;
    size_t group_sid_count;
    char *dns_domain;
    char *upn;
    bool lookup_names;      /* GH_ACCEPTOR_GROUP_NAMES: name the SIDs through winbind */
    struct gh_token *token; /* one reference, or NULL until asked for */
    char *server_name;      /* client: the target; server: our NetBIOS computer name */
    int64_t start_unix;
};

SECURITY_STATUS ntlm_context_init(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
SECURITY_STATUS ntlm_context_accept(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
void ntlm_context_delete(void *pkg_ctx);
/* The acceptor's token for a complete context, created on first call; borrowed
 * (the context keeps its reference). SEC_E_OK, SEC_E_NO_CONTEXT (initiator or
 * incomplete) or SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS ntlm_context_token(struct ntlm_ctx *ctx, struct gh_token **token_out);
/* Allocates an empty context (the first init/accept call does it otherwise). */
struct ntlm_ctx *ntlm_context_new(bool is_client);

SECURITY_STATUS ntlm_cred_acquire(const struct sspi_acquire *args, void **pkg_cred_out);
void ntlm_cred_free(void *pkg_cred);
SECURITY_STATUS ntlm_cred_query(void *pkg_cred, unsigned long attribute, void *buffer);
/* Looks up the NT hash for an acceptor; GH_OK or GH_ENOTFOUND. */
int ntlm_cred_lookup(const struct ntlm_cred *cred, const char *user, const char *domain,
                     uint8_t hash_out[16], char *canon_out, size_t canon_len);

/* FILETIME (100 ns since 1601) for Unix seconds. */
uint64_t ntlm_filetime_from_unix(int64_t unix_seconds);

#endif
