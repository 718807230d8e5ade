// SPDX-License-Identifier: MIT
// The generic half of QueryContextAttributes / QueryCredentialsAttributes.
//
// Packages answer in the A form only (package.h); the W form is made here by
// asking for the A form and converting its strings, so no package carries two
// copies of its string handling. Attributes that need no package knowledge
// (FLAGS, ACCESS_TOKEN, the extended error) are answered from the context, and
// PACKAGE_INFO / NEGOTIATION_INFO fall back to the context's own package when
// the package does not answer them (only Negotiate has anything better to say).
#include <stdlib.h>
#include <string.h>

#include <gatehouse/token.h>

#include "sspi/internal.h"
#include "sspi/wide.h"

SEC_WCHAR *
query_wide_dup(const char *s)
{
    uint16_t *w = NULL;

    if (s == NULL)
        return NULL;
    if (wide_from_utf8(s, strlen(s), sspi_alloc, &w, NULL) != GH_OK)
        return NULL;
    return w;
}

/* Units of s converted to UTF-16, plus the terminator; 0 when invalid. */
static size_t
wide_units(const char *s)
{
    uint16_t *w = NULL;
    size_t units = 0;

    if (wide_from_utf8(s, strlen(s), malloc, &w, &units) != GH_OK)
        return 0;
    free(w);
    return units + 1;
}

/* A SecPkgInfoW in one sspi_alloc block from the A form's fields. */
static PSecPkgInfoW
info_w_from_a(const SecPkgInfoA *a)
{
    const char *name = a->Name != NULL ? a->Name : "",
               *comment = a->Comment != NULL ? a->Comment : "";
    size_t name_units = wide_units(name), comment_units = wide_units(comment);
    PSecPkgInfoW w;
    uint16_t *tmp = NULL;
    SEC_WCHAR *strings;

    if (name_units == 0 || comment_units == 0)
        return NULL;
    w = sspi_alloc(sizeof(*w) + (name_units + comment_units) * sizeof(SEC_WCHAR));
    if (w == NULL)
        return NULL;
    strings = (SEC_WCHAR *)(w + 1);
    *w = (SecPkgInfoW){.fCapabilities = a->fCapabilities,
                       .wVersion = a->wVersion,
                       .wRPCID = a->wRPCID,
                       .cbMaxToken = a->cbMaxToken,
                       .Name = strings,
                       .Comment = strings + name_units};
    if (wide_from_utf8(name, strlen(name), malloc, &tmp, NULL) != GH_OK)
        goto fail;
    memcpy(w->Name, tmp, name_units * sizeof(SEC_WCHAR));
    free(tmp);
    tmp = NULL;
    if (wide_from_utf8(comment, strlen(comment), malloc, &tmp, NULL) != GH_OK)
        goto fail;
    memcpy(w->Comment, tmp, comment_units * sizeof(SEC_WCHAR));
    free(tmp);
    return w;
fail:
    free(tmp);
    FreeContextBuffer(w);
    return NULL;
}

PSecPkgInfoW
query_package_info_w(const struct sspi_package *pkg)
{
    PSecPkgInfoA a = sspi_package_info_dup(pkg);
    PSecPkgInfoW w;

    if (a == NULL)
        return NULL;
    w = info_w_from_a(a);
    FreeContextBuffer(a);
    return w;
}

/* Replaces an sspi_alloc'd UTF-8 string by its UTF-16 copy (NULL stays NULL). */
static SECURITY_STATUS
widen(SEC_CHAR *a, SEC_WCHAR **w_out)
{
    *w_out = NULL;
    if (a == NULL)
        return SEC_E_OK;
    *w_out = query_wide_dup(a);
    FreeContextBuffer(a);
    return *w_out != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* widen() for the two strings of one answer: both or neither (on failure
 * neither is left allocated). */
static SECURITY_STATUS
widen_pair(SEC_CHAR *a, SEC_CHAR *b, SEC_WCHAR **wa_out, SEC_WCHAR **wb_out)
{
    SECURITY_STATUS sa = widen(a, wa_out), sb = widen(b, wb_out);

    if (sa == SEC_E_OK && sb == SEC_E_OK)
        return SEC_E_OK;
    FreeContextBuffer(*wa_out);
    FreeContextBuffer(*wb_out);
    *wa_out = *wb_out = NULL;
    return SEC_E_INSUFFICIENT_MEMORY;
}

static SECURITY_STATUS
ask_package(struct sspi_ctx *ctx, unsigned long attribute, void *buffer)
{
    if (ctx->pkg->query_ctx == NULL || ctx->pkg_ctx == NULL)
        return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->pkg->query_ctx(ctx->pkg_ctx, attribute, buffer);
}

static SECURITY_STATUS
package_info(struct sspi_ctx *ctx, void *buffer, bool wide)
{
    SecPkgContext_PackageInfoA a = {0};
    SECURITY_STATUS status = ask_package(ctx, SECPKG_ATTR_PACKAGE_INFO, &a);

    if (status == SEC_E_UNSUPPORTED_FUNCTION) {
        a.PackageInfo = sspi_package_info_dup(ctx->pkg);
        status = a.PackageInfo != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
    }
    if (status != SEC_E_OK)
        return status;
    if (wide) {
        PSecPkgInfoW w = info_w_from_a(a.PackageInfo);

        FreeContextBuffer(a.PackageInfo);
        if (w == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        ((SecPkgContext_PackageInfoW *)buffer)->PackageInfo = w;
    } else {
        *(SecPkgContext_PackageInfoA *)buffer = a;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
negotiation_info(struct sspi_ctx *ctx, void *buffer, bool wide)
{
    SecPkgContext_NegotiationInfoA a = {0};
    SECURITY_STATUS status = ask_package(ctx, SECPKG_ATTR_NEGOTIATION_INFO, &a);

    if (status == SEC_E_UNSUPPORTED_FUNCTION) {
        /* Not a negotiating package: it "negotiated" itself. */
        a.PackageInfo = sspi_package_info_dup(ctx->pkg);
        a.NegotiationState = ctx->state == CTX_COMPLETE ? SECPKG_NEGOTIATION_COMPLETE
                                                        : SECPKG_NEGOTIATION_IN_PROGRESS;
        status = a.PackageInfo != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
    }
    if (status != SEC_E_OK)
        return status;
    if (wide) {
        PSecPkgInfoW w = a.PackageInfo != NULL ? info_w_from_a(a.PackageInfo) : NULL;

        if (a.PackageInfo != NULL && w == NULL) {
            FreeContextBuffer(a.PackageInfo);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
        FreeContextBuffer(a.PackageInfo);
        *(SecPkgContext_NegotiationInfoW *)buffer = (SecPkgContext_NegotiationInfoW){
            .PackageInfo = w, .NegotiationState = a.NegotiationState};
    } else {
        *(SecPkgContext_NegotiationInfoA *)buffer = a;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
names_w(struct sspi_ctx *ctx, void *buffer)
{
    SecPkgContext_NamesA a = {0};
    SEC_WCHAR *w = NULL;
    SECURITY_STATUS status = ask_package(ctx, SECPKG_ATTR_NAMES, &a);

    if (status != SEC_E_OK)
        return status;
    status = widen(a.sUserName, &w);
    if (status == SEC_E_OK)
        ((SecPkgContext_NamesW *)buffer)->sUserName = w;
    return status;
}

static SECURITY_STATUS
key_info_w(struct sspi_ctx *ctx, void *buffer)
{
    SecPkgContext_KeyInfoA a = {0};
    SEC_WCHAR *sig = NULL, *enc = NULL;
    SECURITY_STATUS status = ask_package(ctx, SECPKG_ATTR_KEY_INFO, &a);

    if (status == SEC_E_OK)
        status = widen_pair(a.sSignatureAlgorithmName, a.sEncryptAlgorithmName, &sig, &enc);
    if (status != SEC_E_OK)
        return status;
    *(SecPkgContext_KeyInfoW *)buffer =
        (SecPkgContext_KeyInfoW){.sSignatureAlgorithmName = sig,
                                 .sEncryptAlgorithmName = enc,
                                 .KeySize = a.KeySize,
                                 .SignatureAlgorithm = a.SignatureAlgorithm,
                                 .EncryptAlgorithm = a.EncryptAlgorithm};
    return SEC_E_OK;
}

static SECURITY_STATUS
native_names_w(struct sspi_ctx *ctx, void *buffer)
{
    SecPkgContext_NativeNamesA a = {0};
    SEC_WCHAR *client = NULL, *server = NULL;
    SECURITY_STATUS status = ask_package(ctx, SECPKG_ATTR_NATIVE_NAMES, &a);

    if (status == SEC_E_OK)
        status = widen_pair(a.sClientName, a.sServerName, &client, &server);
    if (status != SEC_E_OK)
        return status;
    *(SecPkgContext_NativeNamesW *)buffer =
        (SecPkgContext_NativeNamesW){.sClientName = client, .sServerName = server};
    return SEC_E_OK;
}

SECURITY_STATUS
query_ctx_attr(struct sspi_ctx *ctx, unsigned long attribute, void *buffer, bool wide)
{
    SECURITY_STATUS status;

    switch (attribute) {
    case SECPKG_ATTR_GH_EXTENDED_ERROR:
        ((SecPkgContext_GhExtendedError *)buffer)->Text = ctx->error_text;
        return SEC_E_OK;
    case SECPKG_ATTR_GH_ERROR_INFO:
        *(SecPkgContext_GhErrorInfo *)buffer = (SecPkgContext_GhErrorInfo){
            .Status = ctx->error_info.status,
            .Detail = ctx->error_info.detail,
            .Krb5Error = ctx->error_info.krb5,
            .GssMajor = ctx->error_info.major,
            .Package = ctx->error_info.package,
            .Text = ctx->error_text,
        };
        return SEC_E_OK;
    case SECPKG_ATTR_FLAGS:
        ((SecPkgContext_Flags *)buffer)->Flags = ctx->attrs;
        return SEC_E_OK;
    case SECPKG_ATTR_ACCESS_TOKEN:
        if (ctx->token == NULL) {
            if (ctx->pkg->query_token == NULL || ctx->pkg_ctx == NULL)
                return SEC_E_UNSUPPORTED_FUNCTION;
            status = ctx->pkg->query_token(ctx->pkg_ctx, &ctx->token);
            if (status != SEC_E_OK) {
                ctx->token = NULL;
                return status;
            }
        }
        ((SecPkgContext_AccessToken *)buffer)->AccessToken = ctx->token; /* borrowed */
        return SEC_E_OK;
    case SECPKG_ATTR_PACKAGE_INFO:
        return package_info(ctx, buffer, wide);
    case SECPKG_ATTR_NEGOTIATION_INFO:
        return negotiation_info(ctx, buffer, wide);
    case SECPKG_ATTR_NAMES:
        return wide ? names_w(ctx, buffer) : ask_package(ctx, attribute, buffer);
    case SECPKG_ATTR_NATIVE_NAMES:
        return wide ? native_names_w(ctx, buffer) : ask_package(ctx, attribute, buffer);
    case SECPKG_ATTR_KEY_INFO:
        return wide ? key_info_w(ctx, buffer) : ask_package(ctx, attribute, buffer);
    default:
        /* SIZES, LIFESPAN, SESSION_KEY, ENDPOINT_BINDINGS, ISSUER_LIST_EX...:
         * the A and W structures are the same. */
        return ask_package(ctx, attribute, buffer);
    }
}

SECURITY_STATUS
query_cred_attr(struct sspi_cred *cred, unsigned long attribute, void *buffer, bool wide)
{
    SecPkgCredentials_NamesA a = {0};
    SECURITY_STATUS status = SEC_E_UNSUPPORTED_FUNCTION;
    SEC_WCHAR *w = NULL;

    if (attribute != SECPKG_CRED_ATTR_NAMES) {
        if (cred->pkg->query_cred == NULL)
            return SEC_E_UNSUPPORTED_FUNCTION;
        return cred->pkg->query_cred(cred->pkg_cred, attribute, buffer);
    }
    if (cred->pkg->query_cred != NULL)
        status = cred->pkg->query_cred(cred->pkg_cred, attribute, &a);
    if (status == SEC_E_UNSUPPORTED_FUNCTION) {
        /* The name we were given, when the package has none better. */
        const char *name = cred->user != NULL ? cred->user : cred->principal;

        if (name == NULL)
            return SEC_E_UNSUPPORTED_FUNCTION;
        a.sUserName = sspi_strdup(name);
        status = a.sUserName != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
    }
    if (status != SEC_E_OK)
        return status;
    if (!wide) {
        *(SecPkgCredentials_NamesA *)buffer = a;
        return SEC_E_OK;
    }
    status = widen(a.sUserName, &w);
    if (status == SEC_E_OK)
        ((SecPkgCredentials_NamesW *)buffer)->sUserName = w;
    return status;
}
