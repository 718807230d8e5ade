// SPDX-License-Identifier: MIT
// The auth record. Every string the public record shows is a private copy, so
// the record stays valid for the whole request even if the connection's
// context (and the token it came from) goes away first.
#include "auth/record.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>

#include "auth/realm.h"

void
auth_record_init(struct auth_record *r, const struct auth_backend *backend)
{
    memset(r, 0, sizeof(*r));
    r->backend = backend;
    r->pub.status = GH_AUTH_NOT_AUTHENTICATED;
}

void
auth_record_clear(struct auth_record *r)
{
    const struct auth_backend *backend = r->backend;

    if (r->pub.access_token != NULL && backend != NULL && backend->token != NULL)
        backend->token->close(r->pub.access_token);
    if (r->packed != NULL && backend != NULL && backend->sspi != NULL &&
        backend->sspi->FreeContextBuffer != NULL)
        backend->sspi->FreeContextBuffer(r->packed);
    auth_ctx_ref_release(r->export_from);
    free(r->user);
    free(r->domain);
    free(r->principal);
    free(r->package);
    free(r->mutual);
    free(r->ccache);
    auth_credssp_deleg_free(&r->deleg);
    for (size_t i = 0; i < r->group_count; i++) {
        free(r->groups[i]);
        if (r->group_sids != NULL)
            free(r->group_sids[i]);
    }
    free(r->groups);
    free(r->group_sids);
    free(r->user_sid);
    free(r->logon_domain);
    free(r->dns_domain);
    auth_record_init(r, backend);
}

void
auth_record_move(struct auth_record *dst, struct auth_record *src)
{
    *dst = *src;
    auth_record_init(src, src->backend);
}

void
auth_record_set_failure(struct auth_record *r, enum gh_auth_type type, SECURITY_STATUS sec_status)
{
    auth_record_clear(r);
    r->pub.status = GH_AUTH_FAILURE;
    r->pub.type = type;
    r->pub.sec_status = sec_status;
}

static int
dup_str(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return GH_OK;
    *out = strdup(s);
    return *out == NULL ? GH_ENOMEM : GH_OK;
}

/* The token's SIDs and domains next to the names the record copied. */
static int
copy_windows_identity(struct auth_record *r, gh_token *token, const struct auth_token_ops *ops)
{
    int err;

    if (ops->user_sid == NULL || ops->user_sid(token) == NULL)
        return GH_OK;
    err = dup_str(ops->user_sid(token), &r->user_sid);
    if (err == GH_OK && ops->logon_domain != NULL)
        err = dup_str(ops->logon_domain(token), &r->logon_domain);
    if (err == GH_OK && ops->dns_domain != NULL)
        err = dup_str(ops->dns_domain(token), &r->dns_domain);
    if (err != GH_OK || ops->group_sid == NULL || r->group_count == 0)
        return err;
    r->group_sids = calloc(r->group_count, sizeof(*r->group_sids));
    if (r->group_sids == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; err == GH_OK && i < r->group_count; i++)
        err = dup_str(ops->group_sid(token, i), &r->group_sids[i]);
    return err;
}

int
auth_record_set_success(struct auth_record *r, enum gh_auth_type type, gh_token *token,
                        const char *user, const char *domain, const char *package,
                        const char *const *groups, size_t group_count)
{
    const struct auth_token_ops *ops = r->backend != NULL ? r->backend->token : NULL;
    const char *principal = NULL, *ccache = NULL;
    int err = GH_OK;

    auth_record_clear(r);
    r->pub.access_token = token; /* owned by the record from here on */
    if (token != NULL && ops != NULL) {
        user = user != NULL ? user : ops->user(token);
        domain = domain != NULL ? domain : ops->domain(token);
        package = package != NULL ? package : ops->package(token);
        principal = ops->principal(token);
        ccache = ops->delegated_ccache(token);
        if (groups == NULL) {
            group_count = ops->group_count(token);
        }
    } else if (groups == NULL) {
        group_count = 0; /* no list and no token to ask */
    }
    if (err == GH_OK)
        err = dup_str(user, &r->user);
    if (err == GH_OK)
        err = dup_str(domain, &r->domain);
    if (err == GH_OK)
        err = dup_str(principal, &r->principal);
    if (err == GH_OK)
        err = dup_str(package, &r->package);
    if (err == GH_OK)
        err = dup_str(ccache, &r->ccache);
    if (err == GH_OK && group_count > 0) {
        r->groups = calloc(group_count, sizeof(*r->groups));
        if (r->groups == NULL)
            err = GH_ENOMEM;
        for (size_t i = 0; err == GH_OK && i < group_count; i++) {
            const char *g = groups != NULL ? groups[i] : ops->group(token, i);
            err = dup_str(g != NULL ? g : "", &r->groups[i]);
            if (err == GH_OK)
                r->group_count++;
        }
    }
    if (err == GH_OK && token != NULL && ops != NULL && groups == NULL)
        err = copy_windows_identity(r, token, ops);
    if (err != GH_OK) {
        auth_record_clear(r);
        return err;
    }
    r->pub.status = GH_AUTH_SUCCESS;
    r->pub.sec_status = 0;
    r->pub.type = type;
    r->pub.user_name = r->user;
    r->pub.domain = r->domain;
    r->pub.principal = r->principal;
    r->pub.package_name = r->package;
    r->pub.groups = (const char *const *)r->groups;
    r->pub.group_count = r->group_count;
    r->pub.delegated_ccache = r->ccache;
    r->pub.user_sid = r->user_sid;
    r->pub.group_sids = (const char *const *)r->group_sids;
    r->pub.logon_domain = r->logon_domain;
    r->pub.dns_domain = r->dns_domain;
    return GH_OK;
}

void
auth_record_take_delegated(struct auth_record *r, struct auth_credssp_deleg *d)
{
    auth_credssp_deleg_free(&r->deleg);
    r->deleg = *d;
    *d = (struct auth_credssp_deleg){0};
    r->pub.delegated_user = r->deleg.user;
    r->pub.delegated_domain = r->deleg.domain;
    r->pub.delegated_password = (const char *)r->deleg.password.bytes;
    r->pub.delegated_password_len = r->deleg.password.len > 0 ? r->deleg.password.len - 1 : 0;
}

int
auth_record_set_mutual(struct auth_record *r, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL)
        return GH_ENOMEM;
    free(r->mutual);
    r->mutual = copy;
    r->pub.mutual_auth_data = copy;
    r->pub.mutual_auth_data_len = strlen(copy);
    return GH_OK;
}

void
auth_record_take_packed(struct auth_record *r, void *packed, size_t len, uint32_t type)
{
    if (r->packed != NULL && r->backend != NULL && r->backend->sspi != NULL)
        r->backend->sspi->FreeContextBuffer(r->packed);
    r->packed = packed;
    r->pub.packed_context = packed;
    r->pub.packed_context_len = packed != NULL ? len : 0;
    r->pub.packed_context_type = packed != NULL ? type : 0;
}

void
auth_record_take_export_source(struct auth_record *r, struct auth_ctx_ref *ref)
{
    auth_ctx_ref_release(r->export_from);
    r->export_from = ref;
}

const struct gh_auth_record *
auth_record_public(struct auth_record *r)
{
    void *packed = NULL;
    size_t len = 0;

    if (r->export_from == NULL)
        return &r->pub;
    /* A refusal leaves packed_context empty, as it always has: the record
     * does not fail for it. */
    if (auth_ctx_ref_export(r->export_from, &packed, &len) == SEC_E_OK)
        auth_record_take_packed(r, packed, len, 0);
    auth_ctx_ref_release(r->export_from);
    r->export_from = NULL;
    return &r->pub;
}

static const struct {
    const char *name;
    enum gh_auth_type type;
} type_names[] = {
    {"Basic", GH_AUTH_TYPE_BASIC},
    {"Digest", GH_AUTH_TYPE_DIGEST},
    {"NTLM", GH_AUTH_TYPE_NTLM},
    {"Negotiate", GH_AUTH_TYPE_NEGOTIATE},
    {"Kerberos", GH_AUTH_TYPE_KERBEROS},
    {"CREDSSP", GH_AUTH_TYPE_CREDSSP},
    {"ClientCert", GH_AUTH_TYPE_CLIENT_CERT},
};

enum gh_auth_type
auth_record_type_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (strcasecmp(name, type_names[i].name) == 0)
            return type_names[i].type;
    }
    return GH_AUTH_TYPE_NONE;
}

const char *
auth_record_type_name(enum gh_auth_type type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (type_names[i].type == type)
            return type_names[i].name;
    }
    return "none";
}

int
auth_record_qualify_foreign(struct auth_record *r, char *const *local_realms,
                            size_t local_realm_count)
{
    const char *realm = auth_realm_of(r->principal);

    if (r->pub.status != GH_AUTH_SUCCESS || realm == NULL || r->package == NULL ||
        strcasecmp(r->package, "Kerberos") != 0)
        return GH_OK;
    for (size_t i = 0; i < local_realm_count; i++) {
        if (strcmp(local_realms[i], realm) == 0)
            return GH_OK;
    }
    char *full = strdup(r->principal);
    if (full == NULL)
        return GH_ENOMEM;
    free(r->user);
    r->user = full;
    r->pub.user_name = full;
    return GH_OK;
}
