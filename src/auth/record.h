// SPDX-License-Identifier: MIT
// The per-request auth record: the public struct gh_auth_record of
// <gatehouse/http.h> (the seed's HTTP_REQUEST_AUTH_INFO) plus the storage its
// pointers borrow from. One record per request; the request holds exactly one
// reference to the access token, released by auth_record_clear().
#ifndef GH_AUTH_RECORD_H
#define GH_AUTH_RECORD_H

#include <stddef.h>

#include <gatehouse/http.h>
#include <gatehouse/sspi.h>

#include "auth/backend.h"
#include "auth/credssp.h"
#include "auth/ctx_ref.h"

struct auth_record {
    struct gh_auth_record pub; /* what gh_request_auth() returns; points into this object */
    /* Owned storage behind pub's pointers. */
    const struct auth_backend *backend; /* borrowed: releases the token and packed context */
    char *user, *domain, *principal, *package, *mutual, *ccache;
    struct auth_credssp_deleg deleg; /* CredSSP's delegated password credentials */
    char **groups;
    size_t group_count;
    char **group_sids; /* group_count entries or NULL; entries may be NULL */
    char *user_sid, *logon_domain, *dns_domain;
    void *packed; /* ExportSecurityContext output, freed with FreeContextBuffer */
    /* The completed context, not yet exported (auth_packed_context): one
     * reference, exported into packed by the first auth_record_public() and
     * then dropped; NULL once exported or when there is nothing to export. */
    struct auth_ctx_ref *export_from;
};

/* A "not authenticated" record with every other field zero. */
void auth_record_init(struct auth_record *r, const struct auth_backend *backend);
/* Releases the token reference and all storage; leaves an initialized record. */
void auth_record_clear(struct auth_record *r);
/* Moves *src into *dst (dst must be initialized or cleared; src becomes empty). */
void auth_record_move(struct auth_record *dst, struct auth_record *src);

/* Moves CredSSP's delegated credentials into the record (pub.delegated_*);
 * they are wiped by auth_record_clear. *d becomes empty. */
void auth_record_take_delegated(struct auth_record *r, struct auth_credssp_deleg *d);

/* Marks a failure: status GH_AUTH_FAILURE with sec_status and the scheme tried. */
void auth_record_set_failure(struct auth_record *r, enum gh_auth_type type,
                             SECURITY_STATUS sec_status);

/* Success with an identity. token: a reference the record takes over (may be NULL
 * for schemes whose backend cannot make tokens); user/domain/principal/package and
 * groups are copied; NULL names are taken from the token when there is one.
 * GH_OK or GH_ENOMEM (then the token reference has been released). */
int auth_record_set_success(struct auth_record *r, enum gh_auth_type type, gh_token *token,
                            const char *user, const char *domain, const char *package,
                            const char *const *groups, size_t group_count);

/* A Kerberos identity of a realm not in local_realms (a trusted foreign realm)
 * is named by its full principal: user_name becomes "alice@PARTNER.ORG", so a
 * bare `auth_require user alice` and the proxy's identity header never mistake
 * it for the local alice. Other identities are left alone. GH_OK or GH_ENOMEM. */
int auth_record_qualify_foreign(struct auth_record *r, char *const *local_realms,
                                size_t local_realm_count);

/* Optional success details. GH_OK or GH_ENOMEM. */
int auth_record_set_mutual(struct auth_record *r, const char *value); /* "Negotiate <b64>" */
/* Takes ownership of packed (FreeContextBuffer memory) in every case. */
void auth_record_take_packed(struct auth_record *r, void *packed, size_t len, uint32_t type);
/* Takes the reference ref (NULL: none): the context that authenticated the
 * request, exported into pub.packed_context when the record is first read
 * through auth_record_public(). Exporting costs a Kerberos handshake about a
 * tenth of its CPU, so it is paid only by requests whose module reads it. */
void auth_record_take_export_source(struct auth_record *r, struct auth_ctx_ref *ref);
/* The public record as a module sees it (gh_request_auth): the first call
 * exports the pending context into packed_context (left empty when the package
 * refuses, as ExportSecurityContext did at handshake time before) and drops
 * the reference. Internal readers that never look at packed_context read
 * r->pub directly. Never NULL. */
const struct gh_auth_record *auth_record_public(struct auth_record *r);

/* The gh_auth_type of a package or scheme name ("NTLM", "Negotiate"...), or NONE. */
enum gh_auth_type auth_record_type_from_name(const char *name);
const char *auth_record_type_name(enum gh_auth_type type);

#endif
