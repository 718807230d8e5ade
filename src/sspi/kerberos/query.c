// SPDX-License-Identifier: MIT
// QueryContextAttributes and the identity token for Kerberos contexts.
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "sspi/kerberos/kerberos.h"
#include "sspi/kerberos/krb_internal.h"
#include "sspi/kerberos/localname.h"
#include "sspi/kerberos/pac.h"
#include "sspi/sid.h"
#if __has_include("sspi/token_internal.h")
#include "sspi/token_internal.h"
#define HAVE_TOKEN_INTERNAL 1
#endif

/* GSS_C_INQ_SSPI_SESSION_KEY: 1.2.840.113554.1.2.2.5.5, the key SSPI reports. */
static SECURITY_STATUS
session_key(struct krb_ctx *ctx, SecPkgContext_SessionKey *out)
{
    OM_uint32 major, minor;
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    SECURITY_STATUS st = krb_ctx_live(ctx);

    if (st != SEC_E_OK)
        return st;
    major = gss_inquire_sec_context_by_oid(&minor, ctx->gss, GSS_C_INQ_SSPI_SESSION_KEY, &set);
    if (GSS_ERROR(major) || set == GSS_C_NO_BUFFER_SET || set->count < 1)
        st = SEC_E_UNSUPPORTED_FUNCTION;
    if (st == SEC_E_OK) {
        out->SessionKey = sspi_alloc(set->elements[0].length);
        if (out->SessionKey == NULL) {
            st = SEC_E_INSUFFICIENT_MEMORY;
        } else {
            memcpy(out->SessionKey, set->elements[0].value, set->elements[0].length);
            out->SessionKeyLength = (unsigned long)set->elements[0].length;
        }
    }
    if (set != GSS_C_NO_BUFFER_SET)
        gss_release_buffer_set(&minor, &set); /* MIT wipes key material it frees */
    return st;
}

SECURITY_STATUS
krb_query_ctx(void *pkg_ctx, unsigned long attribute, void *buffer)
{
    struct krb_ctx *ctx = pkg_ctx;

    if (attribute == SECPKG_ATTR_PACKAGE_INFO) {
        SecPkgContext_PackageInfoA *pi = buffer;
        pi->PackageInfo = sspi_package_info_dup(&kerberos_package);
        return pi->PackageInfo == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
    }
    if (attribute == SECPKG_ATTR_FLAGS) {
        ((SecPkgContext_Flags *)buffer)->Flags = ctx->attrs;
        return SEC_E_OK;
    }
    if (!ctx->is_complete)
        return SEC_E_NO_CONTEXT;
    switch (attribute) {
    case SECPKG_ATTR_NAMES: {
        SecPkgContext_NamesA *names = buffer;
        names->sUserName = sspi_strdup(ctx->client_name);
        return names->sUserName == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
    }
    case SECPKG_ATTR_NATIVE_NAMES: {
        SecPkgContext_NativeNamesA *nn = buffer;
        nn->sClientName = sspi_strdup(ctx->client_name);
        const char *server = krb_ctx_server_name(ctx);
        nn->sServerName = server != NULL ? sspi_strdup(server) : NULL;
        if (nn->sClientName == NULL || nn->sServerName == NULL) {
            FreeContextBuffer(nn->sClientName);
            FreeContextBuffer(nn->sServerName);
            nn->sClientName = nn->sServerName = NULL;
            return SEC_E_INSUFFICIENT_MEMORY;
        }
        return SEC_E_OK;
    }
    case SECPKG_ATTR_LIFESPAN: {
        SecPkgContext_Lifespan *ls = buffer;
        ls->tsStart = sspi_timestamp_from_unix(ctx->start);
        ls->tsExpiry =
            ctx->expiry == 0 ? sspi_timestamp_never() : sspi_timestamp_from_unix(ctx->expiry);
        return SEC_E_OK;
    }
    case SECPKG_ATTR_SIZES: {
        SecPkgContext_Sizes *sz = buffer;
        unsigned long max_sig = 0, trailer = 0;
        SECURITY_STATUS st = krb_message_sizes(ctx, &max_sig, &trailer);
        if (st != SEC_E_OK)
            return st;
        sz->cbMaxToken = KRB_MAX_TOKEN_BYTES;
        sz->cbMaxSignature = max_sig;
        sz->cbBlockSize = 1; /* RFC 4121 tokens need no padding */
        sz->cbSecurityTrailer = trailer;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_SESSION_KEY:
        return session_key(ctx, buffer);
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

#ifndef HAVE_TOKEN_INTERNAL
/* Until token.c lands (branch sspicore), contexts cannot make tokens. */
SECURITY_STATUS
krb_query_token(void *pkg_ctx, gh_token **token_out)
{
    (void)pkg_ctx;
    *token_out = NULL;
    return SEC_E_UNSUPPORTED_FUNCTION;
}
#else
/* The PAC's SIDs as strings for sspi_token_info: the primary group first
 * (as a Windows token's TokenPrimaryGroup leads TokenGroups), then the PAC's
 * groups in order without repeating it. */
struct pac_sids {
    char user[SID_STRING_MAX];
    char (*text)[SID_STRING_MAX]; /* owned */
    const char **ptrs;            /* owned, into text */
    uint32_t *attrs;              /* owned */
    size_t count;
};

static void
pac_sids_free(struct pac_sids *ps)
{
    free(ps->text);
    free(ps->ptrs);
    free(ps->attrs);
}

static SECURITY_STATUS
pac_sids_make(const struct pac_logon_info *li, struct pac_sids *ps)
{
    size_t n = li->group_count + 1;

    memset(ps, 0, sizeof(*ps));
    ps->text = calloc(n, sizeof(*ps->text));
    ps->ptrs = calloc(n, sizeof(*ps->ptrs));
    ps->attrs = calloc(n, sizeof(*ps->attrs));
    if (ps->text == NULL || ps->ptrs == NULL || ps->attrs == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (!sid_to_string(&li->user_sid, ps->user, sizeof(ps->user)) ||
        !sid_to_string(&li->primary_group_sid, ps->text[0], sizeof(ps->text[0])))
        return SEC_E_INVALID_TOKEN;
    ps->attrs[0] = PAC_SE_GROUP_MANDATORY | PAC_SE_GROUP_ENABLED_BY_DEFAULT | PAC_SE_GROUP_ENABLED;
    ps->count = 1;
    for (size_t i = 0; i < li->group_count; i++) {
        const struct pac_group_sid *g = &li->groups[i];
        if (sid_equal(&g->sid, &li->primary_group_sid)) {
            ps->attrs[0] = g->attributes;
            continue;
        }
        if (!sid_to_string(&g->sid, ps->text[ps->count], sizeof(ps->text[0])))
            return SEC_E_INVALID_TOKEN;
        ps->attrs[ps->count++] = g->attributes;
    }
    for (size_t i = 0; i < ps->count; i++)
        ps->ptrs[i] = ps->text[i];
    return SEC_E_OK;
}

/* FILETIME (100 ns since 1601) to time_t; 0 stays 0 ("now"). */
static time_t
unix_from_filetime(uint64_t ft)
{
    const uint64_t epoch_delta = 116444736000000000ull;

    if (ft <= epoch_delta || ft >= 0x7fffffffffffffffull)
        return 0;
    return (time_t)((ft - epoch_delta) / 10000000ull);
}

SECURITY_STATUS
krb_query_token(void *pkg_ctx, gh_token **token_out)
{
    struct krb_ctx *ctx = pkg_ctx;
    struct pac_sids ps = {0};
    struct sspi_token_info info = {0};
    char *user = NULL, *local = NULL;
    SECURITY_STATUS st;

    *token_out = NULL;
    if (ctx == NULL || !ctx->is_complete || !ctx->is_acceptor)
        return SEC_E_NO_CONTEXT;
    if (ctx->token != NULL) {
        *token_out = gh_token_dup(ctx->token);
        return SEC_E_OK;
    }
    /* "alice@REALM": user "alice", domain "REALM". The realm separator is the
     * last unescaped '@' (RFC 1964 2.1.1 allows "\@" inside components). */
    user = strdup(ctx->client_name);
    if (user == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    char *realm = NULL;
    for (char *p = user; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        else if (*p == '@')
            realm = p;
    }
    if (realm != NULL)
        *realm++ = '\0';
    /* The local account by krb5's auth_to_local rules (localname.h). */
    st = krb_localname(ctx->client_name, &local);
    if (st != SEC_E_OK) {
        free(user);
        return st;
    }
    info.user = user;
    info.domain = realm;
    info.principal = ctx->client_name;
    info.package = kerberos_package.name;
    info.local_account = local;
    info.logon_time = ctx->start;
    info.expiry = ctx->expiry;
    info.delegated_ccache = ctx->delegated_ccache;
    info.owns_ccache = ctx->delegated_ccache != NULL && ctx->owns_delegated_ccache;
    if (ctx->pac != NULL) {
        const struct krb_pac *pac = ctx->pac;
        st = pac_sids_make(&pac->logon, &ps);
        if (st != SEC_E_OK) {
            pac_sids_free(&ps);
            free(user);
            free(local);
            return st;
        }
        info.user_sid = ps.user;
        info.group_sids = ps.ptrs;
        info.group_sid_attributes = ps.attrs;
        info.group_sid_count = ps.count;
        info.logon_domain = pac->logon.logon_domain_name;
        info.dns_domain = pac->has_upn_dns ? pac->upn_dns.dns_domain : NULL;
        info.upn = pac->has_upn_dns ? pac->upn_dns.upn : NULL;
        info.lookup_names = ctx->lookup_names;
        if (unix_from_filetime(pac->logon.logon_time) != 0)
            info.logon_time = unix_from_filetime(pac->logon.logon_time);
    }
    st = sspi_token_create(&info, &ctx->token);
    pac_sids_free(&ps);
    if (st == SEC_E_OK) {
        ctx->owns_delegated_ccache = false; /* the token removes the file now */
        *token_out = gh_token_dup(ctx->token);
    }
    free(user);
    free(local);
    return st;
}
#endif
