// SPDX-License-Identifier: MIT
// The SSPI entry points: argument validation, handles, the handshake loop and
// its state, output placement. Packages (package.h) see validated UTF-8 input
// and a struct buf for their output; everything the caller can get wrong is
// caught here, in one place, with the code docs/sspi.md lists.
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "base/reader.h"
#include "base/secret.h"
#include "sspi/internal.h"
#include "sspi/packed.h"
#include "sspi/status.h"
#include "sspi/token_internal.h"
#include "sspi/wide.h"

#define ERROR_TEXT_MAX    1024
#define STRING_MAX_BYTES  (256u * 1024u)
#define HOST_NAME_MAX_LEN 256

/* ---- Failure texts --------------------------------------------------------
 * A failure of the first call leaves no context to hold its text, so the text
 * of the calling thread's last failure is kept as well (QueryContextAttributes
 * with a NULL context, docs/sspi.md). A fixed array: nothing to free at thread
 * exit. */
static _Thread_local char thread_error[ERROR_TEXT_MAX];
static _Thread_local struct sspi_error_info thread_error_info;

const char *
sspi_thread_error(void)
{
    return thread_error;
}

const struct sspi_error_info *
sspi_thread_error_info(void)
{
    return &thread_error_info;
}

void
sspi_set_error_info(struct sspi_ctx *ctx, const struct sspi_error_info *info)
{
    thread_error_info = *info;
    if (ctx != NULL)
        ctx->error_info = *info;
}

void
sspi_set_error(struct sspi_ctx *ctx, const char *text)
{
    size_t len = strlen(text);

    if (len >= sizeof(thread_error))
        len = sizeof(thread_error) - 1;
    memcpy(thread_error, text, len);
    thread_error[len] = '\0';
    thread_error_info = (struct sspi_error_info){0};
    if (ctx != NULL) {
        ctx->error_info = (struct sspi_error_info){0};
        char *copy = strdup(thread_error);

        if (copy == NULL)
            return; /* keeps the previous text: better than none */
        free(ctx->error_text);
        ctx->error_text = copy;
    }
}

static void
record_failure(struct sspi_ctx *ctx, const struct sspi_package *pkg, SECURITY_STATUS status,
               const struct buf *text)
{
    char line[ERROR_TEXT_MAX];

    if (text != NULL && text->len > 0) {
        int n = (int)(text->len < sizeof(line) - 1 ? text->len : sizeof(line) - 1);

        snprintf(line, sizeof(line), "%.*s", n, (const char *)text->data);
    } else {
        snprintf(line, sizeof(line), "%s: %s (0x%08x)", pkg != NULL ? pkg->name : "SSPI",
                 sspi_status_name(status), (unsigned)status);
    }
    sspi_set_error(ctx, line);
}

/* The text, then the details a step gathered (GH_ERROR_INFO). */
static void
record_step_failure(struct sspi_ctx *ctx, const struct sspi_package *pkg, SECURITY_STATUS status,
                    const struct sspi_step *step)
{
    struct sspi_error_info info = {
        .status = status,
        .detail = step->error_detail,
        .krb5 = step->error_krb5,
        .major = step->error_major,
        .package = step->error_package != NULL ? step->error_package : pkg->name,
    };

    record_failure(ctx, pkg, status, &step->error_text);
    sspi_set_error_info(ctx, &info);
}

/* ---- Credentials ------------------------------------------------------------ */
SECURITY_STATUS
sspi_cred_claim(void *obj)
{
    struct sspi_cred *cred = obj;

    atomic_fetch_add(&cred->refs, 1);
    return SEC_E_OK;
}

void
sspi_cred_unref(struct sspi_cred *cred)
{
    if (cred == NULL || atomic_fetch_sub(&cred->refs, 1) != 1)
        return;
    if (cred->pkg->free_cred != NULL && cred->pkg_cred != NULL)
        cred->pkg->free_cred(cred->pkg_cred);
    free(cred->principal);
    free(cred->user);
    free(cred);
}

void
sspi_identity_free(struct sspi_identity *id)
{
    free(id->user);
    free(id->domain);
    if (id->password != NULL) {
        secret_wipe(id->password, id->password_len);
        free(id->password);
    }
    *id = (struct sspi_identity){0};
}

/* One counted field of SEC_WINNT_AUTH_IDENTITY: NULL stays NULL (absent). */
static SECURITY_STATUS
identity_field(const void *ptr, unsigned long len, bool wide, char **out, size_t *len_out)
{
    size_t n = 0;

    *out = NULL;
    if (ptr == NULL) {
        if (len != 0)
            return SEC_E_UNKNOWN_CREDENTIALS;
        if (len_out != NULL)
            *len_out = 0;
        return SEC_E_OK;
    }
    if (wide) {
        int err = wide_to_utf8(ptr, len, out, &n);

        if (err == GH_ENOMEM)
            return SEC_E_INSUFFICIENT_MEMORY;
        if (err != GH_OK)
            return SEC_E_UNKNOWN_CREDENTIALS;
    } else {
        if (len > STRING_MAX_BYTES || !wide_utf8_valid(ptr, len))
            return SEC_E_UNKNOWN_CREDENTIALS;
        *out = malloc(len + 1);
        if (*out == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        memcpy(*out, ptr, len);
        (*out)[len] = '\0';
        n = len;
    }
    if (len_out != NULL)
        *len_out = n;
    return SEC_E_OK;
}

/* SEC_WINNT_AUTH_IDENTITY_A or _W, told apart by Flags (either entry point may
 * get either form, as on Windows). The two layouts share their offsets. The
 * _EX forms start with Version (SEC_WINNT_AUTH_IDENTITY_VERSION, which no
 * pointer of the plain forms can equal) and have the same members after Length:
 * they are read through a plain identity copied from them. */
SECURITY_STATUS
sspi_identity_parse(const void *auth_data, struct sspi_identity *id)
{
    const SEC_WINNT_AUTH_IDENTITY_A *a = auth_data;
    const SEC_WINNT_AUTH_IDENTITY_W *w = auth_data;
    const SEC_WINNT_AUTH_IDENTITY_EXA *ex = auth_data;
    SEC_WINNT_AUTH_IDENTITY_A from_ex;
    unsigned long kind;
    SECURITY_STATUS status;
    bool wide;

    if (ex->Version == SEC_WINNT_AUTH_IDENTITY_VERSION) {
        if (ex->Length < sizeof(SEC_WINNT_AUTH_IDENTITY_EXA) ||
            (ex->Flags & (SEC_WINNT_AUTH_IDENTITY_MARSHALLED | SEC_WINNT_AUTH_IDENTITY_ONLY)))
            return SEC_E_UNKNOWN_CREDENTIALS;
        from_ex = (SEC_WINNT_AUTH_IDENTITY_A){.User = ex->User,
                                              .UserLength = ex->UserLength,
                                              .Domain = ex->Domain,
                                              .DomainLength = ex->DomainLength,
                                              .Password = ex->Password,
                                              .PasswordLength = ex->PasswordLength,
                                              .Flags = ex->Flags};
        a = &from_ex;
        w = (const SEC_WINNT_AUTH_IDENTITY_W *)(const void *)&from_ex;
    }
    kind = a->Flags & (SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE);
    if (kind == SEC_WINNT_AUTH_IDENTITY_UNICODE)
        wide = true;
    else if (kind == SEC_WINNT_AUTH_IDENTITY_ANSI)
        wide = false;
    else
        return SEC_E_UNKNOWN_CREDENTIALS;
    if (wide) {
        status = identity_field(w->User, w->UserLength, true, &id->user, NULL);
        if (status == SEC_E_OK)
            status = identity_field(w->Domain, w->DomainLength, true, &id->domain, NULL);
        if (status == SEC_E_OK)
            status = identity_field(w->Password, w->PasswordLength, true, &id->password,
                                    &id->password_len);
    } else {
        status = identity_field(a->User, a->UserLength, false, &id->user, NULL);
        if (status == SEC_E_OK)
            status = identity_field(a->Domain, a->DomainLength, false, &id->domain, NULL);
        if (status == SEC_E_OK)
            status = identity_field(a->Password, a->PasswordLength, false, &id->password,
                                    &id->password_len);
    }
    if (status != SEC_E_OK)
        sspi_identity_free(id);
    return status;
}

/* Storage for the defaults filled into GH_ACCEPTOR_AUTH_DATA. */
struct acceptor_defaults {
    GH_ACCEPTOR_AUTH_DATA data;
    char computer[HOST_NAME_MAX_LEN];
    char dns_domain[HOST_NAME_MAX_LEN];
};

static SECURITY_STATUS
acceptor_fill(const void *auth_data, struct acceptor_defaults *d)
{
    char host[HOST_NAME_MAX_LEN] = "";
    const char *dot;

    if (auth_data != NULL) {
        const GH_ACCEPTOR_AUTH_DATA *given = auth_data;

        if (given->Version == GH_ACCEPTOR_AUTH_DATA_V1) {
            /* A V1 caller's struct ends before DelegatedCcacheDir. */
            d->data = (GH_ACCEPTOR_AUTH_DATA){0};
            memcpy(&d->data, given, offsetof(GH_ACCEPTOR_AUTH_DATA, DelegatedCcacheDir));
        } else if (given->Version == GH_ACCEPTOR_AUTH_DATA_V2) {
            /* A V2 caller's struct ends before AcceptedTargetNames. */
            d->data = (GH_ACCEPTOR_AUTH_DATA){0};
            memcpy(&d->data, given, offsetof(GH_ACCEPTOR_AUTH_DATA, AcceptedTargetNames));
        } else if (given->Version == GH_ACCEPTOR_AUTH_DATA_V3) {
            d->data = *given;
            if (d->data.AcceptedTargetNameCount > 0 && d->data.AcceptedTargetNames == NULL)
                return SEC_E_INVALID_PARAMETER;
        } else {
            return SEC_E_UNKNOWN_CREDENTIALS;
        }
    } else {
        d->data = (GH_ACCEPTOR_AUTH_DATA){.Version = GH_ACCEPTOR_AUTH_DATA_V1};
    }
    if (d->data.Flags & GH_ACCEPTOR_ALLOW_NTLMV1) {
        /* Refused loudly: running NTLMv2-only while the caller believes v1 is
         * accepted would make the flag a lie (sspi.h says why v1 is refused). */
        sspi_set_error(NULL, "SSPI: GH_ACCEPTOR_ALLOW_NTLMV1 is refused: NTLMv1/LM responses "
                             "(DES of the NT hash) are never accepted");
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
    if (d->data.UserStore == NULL)
        d->data.UserStore = secure_getenv("GH_USER_STORE");
    if (d->data.Keytab == NULL)
        d->data.Keytab = secure_getenv("KRB5_KTNAME");
    /* With GH_ACCEPTOR_NTLM_WINBIND the NTLM package asks winbind for it. */
    if (d->data.NbDomainName == NULL && !(d->data.Flags & GH_ACCEPTOR_NTLM_WINBIND))
        d->data.NbDomainName = "GATEHOUSE";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    dot = strchr(host, '.');
    if (d->data.NbComputerName == NULL) {
        size_t n = dot != NULL ? (size_t)(dot - host) : strlen(host);

        if (n > 15) /* NetBIOS names are at most 15 characters */
            n = 15;
        for (size_t i = 0; i < n; i++)
            d->computer[i] = (char)toupper((unsigned char)host[i]);
        d->computer[n] = '\0';
        d->data.NbComputerName = d->computer;
    }
    if (d->data.DnsDomainName == NULL) {
        snprintf(d->dns_domain, sizeof(d->dns_domain), "%s", dot != NULL ? dot + 1 : "");
        d->data.DnsDomainName = d->dns_domain;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
acquire(const char *principal, const char *package, unsigned long use, void *auth_data,
        PCredHandle handle_out, PTimeStamp expiry_out)
{
    const struct sspi_package *pkg = sspi_registry_find(package);
    struct acceptor_defaults defaults = {0};
    struct sspi_identity id = {0};
    struct sspi_acquire args = {.principal = principal, .use = use & SECPKG_CRED_BOTH};
    struct sspi_cred *cred = NULL;
    void *pkg_cred = NULL;
    struct buf error_text;
    SECURITY_STATUS status;
    bool is_acceptor_data;

    if (pkg == NULL)
        return SEC_E_SECPKG_NOT_FOUND;
    if (handle_out == NULL || (use & SECPKG_CRED_BOTH) == 0)
        return SEC_E_INVALID_PARAMETER;
    if (pkg->acquire_cred == NULL)
        return SEC_E_UNSUPPORTED_FUNCTION;
    buf_init(&error_text, ERROR_TEXT_MAX);
    args.error_text = &error_text;
    /* pAuthData is an acceptor configuration for INBOUND, an identity for
     * OUTBOUND; for BOTH the acceptor form is recognized by its Version word. */
    if (pkg->raw_auth_data) {
        args.auth_data = auth_data;
        auth_data = NULL; /* the package reads it; nothing of ours applies */
    }
    is_acceptor_data =
        auth_data != NULL &&
        (args.use == SECPKG_CRED_INBOUND ||
         (args.use == SECPKG_CRED_BOTH &&
          (((const GH_ACCEPTOR_AUTH_DATA *)auth_data)->Version == GH_ACCEPTOR_AUTH_DATA_V1 ||
           ((const GH_ACCEPTOR_AUTH_DATA *)auth_data)->Version == GH_ACCEPTOR_AUTH_DATA_V2 ||
           ((const GH_ACCEPTOR_AUTH_DATA *)auth_data)->Version == GH_ACCEPTOR_AUTH_DATA_V3)));
    if ((args.use & SECPKG_CRED_INBOUND) && !pkg->raw_auth_data) {
        status = acceptor_fill(is_acceptor_data ? auth_data : NULL, &defaults);
        if (status != SEC_E_OK)
            goto cleanup;
        args.acceptor = &defaults.data;
    }
    if (auth_data != NULL && args.use == SECPKG_CRED_OUTBOUND &&
        ((const GH_INITIATOR_AUTH_DATA *)auth_data)->Version == GH_INITIATOR_AUTH_DATA_V1) {
        args.initiator_ccache = ((const GH_INITIATOR_AUTH_DATA *)auth_data)->Ccache;
        if (args.initiator_ccache == NULL) {
            status = SEC_E_INVALID_PARAMETER;
            goto cleanup;
        }
    } else if (auth_data != NULL && !is_acceptor_data) {
        status = sspi_identity_parse(auth_data, &id);
        if (status != SEC_E_OK)
            goto cleanup;
        args.has_identity = true;
        args.user = id.user;
        args.domain = id.domain;
        args.password = (struct secret){(uint8_t *)id.password, id.password_len};
    }
    cred = calloc(1, sizeof(*cred));
    if (cred == NULL) {
        status = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    if (principal != NULL) {
        cred->principal = strdup(principal);
        if (cred->principal == NULL) {
            status = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
    }
    if (id.user != NULL) {
        size_t n = strlen(id.user) + (id.domain != NULL ? strlen(id.domain) : 0) + 2;

        cred->user = malloc(n);
        if (cred->user == NULL) {
            status = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
        if (id.domain != NULL && id.domain[0] != '\0')
            snprintf(cred->user, n, "%s\\%s", id.domain, id.user);
        else
            snprintf(cred->user, n, "%s", id.user);
    }
    status = pkg->acquire_cred(&args, &pkg_cred);
    if (status != SEC_E_OK) {
        record_failure(NULL, pkg, status, &error_text);
        pkg_cred = NULL;
        goto cleanup;
    }
    atomic_init(&cred->refs, 1);
    cred->pkg = pkg;
    cred->pkg_cred = pkg_cred;
    cred->use = args.use;
    status = handles_add(HANDLE_CRED, cred, handle_out);
    if (status != SEC_E_OK)
        goto cleanup;
    cred = NULL; /* the table holds it */
    pkg_cred = NULL;
    if (expiry_out != NULL)
        *expiry_out = sspi_timestamp_never();
cleanup:
    if (pkg_cred != NULL && pkg->free_cred != NULL)
        pkg->free_cred(pkg_cred);
    if (cred != NULL) {
        free(cred->principal);
        free(cred->user);
        free(cred);
    }
    sspi_identity_free(&id);
    buf_free(&error_text);
    return status;
}

/* A C string from the caller: bounded, valid UTF-8. */
static bool
string_ok(const char *s)
{
    size_t len;

    if (s == NULL)
        return true;
    len = strnlen(s, STRING_MAX_BYTES + 1);
    return len <= STRING_MAX_BYTES && wide_utf8_valid(s, len);
}

/* A W string from the caller as malloc'd UTF-8 (NULL stays NULL). */
static SECURITY_STATUS
wide_arg(const SEC_WCHAR *s, char **out)
{
    size_t units;
    int err;

    *out = NULL;
    if (s == NULL)
        return SEC_E_OK;
    if (wide_strlen(s, WIDE_MAX_UNITS, &units) != GH_OK)
        return SEC_E_INVALID_PARAMETER;
    err = wide_to_utf8(s, units, out, NULL);
    if (err == GH_ENOMEM)
        return SEC_E_INSUFFICIENT_MEMORY;
    return err == GH_OK ? SEC_E_OK : SEC_E_INVALID_PARAMETER;
}

SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandleA(SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage,
                          unsigned long fCredentialUse, void *pvLogonId, void *pAuthData,
                          SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument,
                          PCredHandle phCredential, PTimeStamp ptsExpiry)
{
    (void)pvLogonId; /* Windows needs a privilege for it; we have no logon sessions */
    (void)pGetKeyFn; /* unused on Windows as well */
    (void)pvGetKeyArgument;
    if (pszPackage == NULL)
        return SEC_E_SECPKG_NOT_FOUND;
    if (!string_ok(pszPrincipal))
        return SEC_E_INVALID_PARAMETER;
    return acquire(pszPrincipal, pszPackage, fCredentialUse, pAuthData, phCredential, ptsExpiry);
}

SECURITY_STATUS SEC_ENTRY
AcquireCredentialsHandleW(SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage,
                          unsigned long fCredentialUse, void *pvLogonId, void *pAuthData,
                          SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument,
                          PCredHandle phCredential, PTimeStamp ptsExpiry)
{
    char *principal = NULL, *package = NULL;
    SECURITY_STATUS status;

    (void)pvLogonId;
    (void)pGetKeyFn;
    (void)pvGetKeyArgument;
    if (pszPackage == NULL)
        return SEC_E_SECPKG_NOT_FOUND;
    status = wide_arg(pszPackage, &package);
    if (status != SEC_E_OK)
        return status == SEC_E_INVALID_PARAMETER ? SEC_E_SECPKG_NOT_FOUND : status;
    status = wide_arg(pszPrincipal, &principal);
    if (status == SEC_E_OK)
        status = acquire(principal, package, fCredentialUse, pAuthData, phCredential, ptsExpiry);
    free(principal);
    free(package);
    return status;
}

SECURITY_STATUS SEC_ENTRY
FreeCredentialsHandle(PCredHandle phCredential)
{
    void *obj = NULL;
    SECURITY_STATUS status = handles_remove(phCredential, HANDLE_CRED, NULL, &obj);

    if (status != SEC_E_OK)
        return status;
    sspi_cred_unref(obj); /* contexts made from it keep their own references */
    return SEC_E_OK;
}

/* ---- Contexts --------------------------------------------------------------- */
SECURITY_STATUS
sspi_ctx_claim(void *obj)
{
    struct sspi_ctx *ctx = obj;
    bool idle = false;

    /* Another thread is inside an entry point with this context: refuse, so
     * neither call sees the other's half-updated state. */
    if (!atomic_compare_exchange_strong(&ctx->busy, &idle, true))
        return SEC_E_INTERNAL_ERROR;
    return SEC_E_OK;
}

void
sspi_ctx_release(struct sspi_ctx *ctx)
{
    atomic_store(&ctx->busy, false);
}

static void
ctx_destroy(struct sspi_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->pkg_ctx != NULL && ctx->pkg->delete_ctx != NULL)
        ctx->pkg->delete_ctx(ctx->pkg_ctx);
    gh_token_close(ctx->token);
    free(ctx->error_text);
    sspi_cred_unref(ctx->cred);
    free(ctx);
}

static SECURITY_STATUS
ctx_get(PCtxtHandle handle, struct sspi_ctx **ctx_out)
{
    void *obj = NULL;
    SECURITY_STATUS status = handles_get(handle, HANDLE_CTX, sspi_ctx_claim, &obj);

    if (status == SEC_E_OK)
        *ctx_out = obj;
    else if (status == SEC_E_INTERNAL_ERROR)
        sspi_set_error(NULL, "SSPI: the context is in use by another thread");
    return status;
}

/* One InitializeSecurityContext / AcceptSecurityContext call, normalized. */
struct ctx_call {
    bool is_acceptor;
    PCredHandle cred_handle;
    PCtxtHandle ctx_handle;
    const char *target;
    unsigned long req;
    PSecBufferDesc in;
    PSecBufferDesc out;
    PCtxtHandle new_handle;
    unsigned long *attrs_out;
    PTimeStamp expiry_out;
};

static SECURITY_STATUS
cred_for_call(const struct ctx_call *c, struct sspi_cred **cred_out)
{
    unsigned long need = c->is_acceptor ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND;
    void *obj = NULL;
    SECURITY_STATUS status = handles_get(c->cred_handle, HANDLE_CRED, sspi_cred_claim, &obj);
    struct sspi_cred *cred = obj;

    if (status != SEC_E_OK)
        return status;
    if ((cred->use & need) == 0) {
        sspi_cred_unref(cred);
        sspi_set_error(NULL, c->is_acceptor ? "SSPI: the credential is not inbound"
                                            : "SSPI: the credential is not outbound");
        return SEC_E_NO_CREDENTIALS;
    }
    *cred_out = cred;
    return SEC_E_OK;
}

static enum sspi_ctx_state
state_after(SECURITY_STATUS status)
{
    if (status == SEC_E_OK)
        return CTX_COMPLETE;
    if (status == SEC_I_COMPLETE_NEEDED)
        return CTX_NEEDS_COMPLETE_FINAL;
    if (status == SEC_I_COMPLETE_AND_CONTINUE)
        return CTX_NEEDS_COMPLETE_CONTINUE;
    return CTX_IN_PROGRESS;
}

static SECURITY_STATUS
context_step(const struct ctx_call *c)
{
    bool allocate = (c->req & ISC_REQ_ALLOCATE_MEMORY) != 0; /* == ASC_REQ_ALLOCATE_MEMORY */
    bool is_first = c->ctx_handle == NULL, reauth = false, registered = false;
    struct sspi_step step = {0};
    struct sspi_ctx *ctx = NULL;
    struct sspi_cred *cred = NULL;
    SecHandle handle = {0};
    SECURITY_STATUS status, placed;
    unsigned long attrs;

    status = buffers_check_input(c->in);
    if (status == SEC_E_OK)
        status = buffers_check_output(c->out, allocate);
    if (status != SEC_E_OK) {
        sspi_set_error(NULL, "SSPI: malformed SecBufferDesc");
        return status;
    }
    if (is_first) {
        if (c->cred_handle == NULL)
            return SEC_E_INVALID_HANDLE;
        if (c->new_handle == NULL)
            return SEC_E_INVALID_PARAMETER;
        status = cred_for_call(c, &cred);
        if (status != SEC_E_OK)
            return status;
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL) {
            sspi_cred_unref(cred);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
        atomic_init(&ctx->busy, true);
        ctx->is_acceptor = c->is_acceptor;
        ctx->pkg = cred->pkg;
        ctx->cred = cred;
        cred = NULL;
    } else {
        status = ctx_get(c->ctx_handle, &ctx);
        if (status != SEC_E_OK)
            return status;
        if (ctx->is_acceptor != c->is_acceptor) {
            sspi_ctx_release(ctx);
            return SEC_E_INVALID_HANDLE;
        }
        /* A later call may name new credentials (after SEC_I_INCOMPLETE_CREDENTIALS);
         * they must belong to the context's package. */
        if (c->cred_handle != NULL) {
            status = cred_for_call(c, &cred);
            if (status == SEC_E_OK && cred->pkg != ctx->pkg)
                status = SEC_E_WRONG_CREDENTIAL_HANDLE;
            if (status != SEC_E_OK) {
                sspi_cred_unref(cred);
                sspi_ctx_release(ctx);
                return status;
            }
            sspi_cred_unref(ctx->cred);
            ctx->cred = cred;
            cred = NULL;
        }
        if (ctx->state == CTX_COMPLETE) {
            /* Called again after completion: the caller asks for a new
             * authentication on this context; the package starts afresh. */
            if (ctx->pkg_ctx != NULL && ctx->pkg->delete_ctx != NULL)
                ctx->pkg->delete_ctx(ctx->pkg_ctx);
            ctx->pkg_ctx = NULL;
            gh_token_close(ctx->token);
            ctx->token = NULL;
            ctx->state = CTX_IN_PROGRESS;
            reauth = true;
        }
    }

    step.target = c->target;
    step.req_flags = c->req;
    step.in_token = buffers_slice(c->in, SECBUFFER_TOKEN);
    step.bindings = buffers_slice(c->in, SECBUFFER_CHANNEL_BINDINGS);
    step.in = c->in;
    step.out = c->out;
    step.expiry_out = sspi_timestamp_never();
    buf_init(&step.out_token, SSPI_MAX_TOKEN_BYTES);
    buf_init(&step.error_text, ERROR_TEXT_MAX);

    if (c->is_acceptor ? ctx->pkg->accept_ctx == NULL : ctx->pkg->init_ctx == NULL)
        status = SEC_E_UNSUPPORTED_FUNCTION;
    else if (ctx->cred == NULL) /* an imported context, re-authenticated without credentials */
        status = SEC_E_NO_CREDENTIALS;
    else if (c->is_acceptor)
        status = ctx->pkg->accept_ctx(ctx->cred->pkg_cred, &ctx->pkg_ctx, &step);
    else
        status = ctx->pkg->init_ctx(ctx->cred->pkg_cred, &ctx->pkg_ctx, &step);

    if (status < 0) {
        if (status == SEC_E_INCOMPLETE_MESSAGE)
            buffers_mark(c->in, SECBUFFER_MISSING, step.missing_bytes);
        record_step_failure(is_first ? NULL : ctx, ctx->pkg, status, &step);
        /* An error token for the peer (CredSSP's TSRequest.errorCode), as
         * Windows returns with EXTENDED_ERROR: placed when the caller asked. */
        if (step.out_token.len > 0 &&
            (c->req & (c->is_acceptor ? ASC_REQ_EXTENDED_ERROR : ISC_REQ_EXTENDED_ERROR)) != 0 &&
            buffers_put_token(c->out, buf_slice(&step.out_token), allocate) == SEC_E_OK &&
            c->attrs_out != NULL)
            *c->attrs_out = (c->is_acceptor ? ASC_RET_EXTENDED_ERROR : ISC_RET_EXTENDED_ERROR) |
                            (allocate ? ISC_RET_ALLOCATED_MEMORY : 0);
        goto cleanup;
    }
    if (step.error_text.len > 0) /* e.g. SEC_I_INCOMPLETE_CREDENTIALS with a reason */
        record_failure(is_first ? NULL : ctx, ctx->pkg, status, &step.error_text);

    if (is_first) {
        /* Registered before the token is placed, so that nothing can fail
         * after the caller's output buffer holds memory it must free. */
        SECURITY_STATUS added = handles_add(HANDLE_CTX, ctx, &handle);

        if (added != SEC_E_OK) {
            status = added;
            goto cleanup;
        }
        registered = true;
    }
    placed = buffers_put_token(c->out, buf_slice(&step.out_token), allocate);
    if (placed != SEC_E_OK) {
        status = placed;
        record_failure(is_first ? NULL : ctx, ctx->pkg, status, NULL);
        if (registered) {
            void *obj = NULL;

            handles_remove(&handle, HANDLE_CTX, NULL, &obj);
            registered = false;
        }
        goto cleanup;
    }
    if (step.extra_bytes > 0)
        buffers_mark(c->in, SECBUFFER_EXTRA, step.extra_bytes);

    attrs = step.attrs_out;
    if (allocate)
        attrs |= ISC_RET_ALLOCATED_MEMORY; /* == ASC_RET_ALLOCATED_MEMORY */
    if (reauth && !c->is_acceptor)
        attrs |= ISC_RET_REAUTHENTICATION;
    ctx->state = state_after(status);
    ctx->req_flags = c->req;
    ctx->attrs = attrs;
    ctx->expiry = step.expiry_out;
    if (is_first)
        *c->new_handle = handle;
    else if (c->new_handle != NULL)
        *c->new_handle = *c->ctx_handle;
    if (c->attrs_out != NULL)
        *c->attrs_out = attrs;
    if (c->expiry_out != NULL)
        *c->expiry_out = step.expiry_out;

cleanup:
    buf_free_wipe(&step.out_token);
    buf_free(&step.error_text);
    if (is_first && !registered)
        ctx_destroy(ctx); /* a failed first call returns no handle */
    else
        sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
InitializeSecurityContextA(PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
                           unsigned long fContextReq, unsigned long Reserved1,
                           unsigned long TargetDataRep, PSecBufferDesc pInput,
                           unsigned long Reserved2, PCtxtHandle phNewContext,
                           PSecBufferDesc pOutput, unsigned long *pfContextAttr,
                           PTimeStamp ptsExpiry)
{
    struct ctx_call c = {.cred_handle = phCredential,
                         .ctx_handle = phContext,
                         .target = pszTargetName,
                         .req = fContextReq,
                         .in = pInput,
                         .out = pOutput,
                         .new_handle = phNewContext,
                         .attrs_out = pfContextAttr,
                         .expiry_out = ptsExpiry};

    (void)Reserved1; /* reserved, ignored as Windows does */
    (void)Reserved2;
    (void)TargetDataRep; /* tokens have one wire format whatever the caller's */
    if (!string_ok(pszTargetName))
        return SEC_E_INVALID_PARAMETER;
    return context_step(&c);
}

SECURITY_STATUS SEC_ENTRY
InitializeSecurityContextW(PCredHandle phCredential, PCtxtHandle phContext,
                           SEC_WCHAR *pszTargetName, unsigned long fContextReq,
                           unsigned long Reserved1, unsigned long TargetDataRep,
                           PSecBufferDesc pInput, unsigned long Reserved2, PCtxtHandle phNewContext,
                           PSecBufferDesc pOutput, unsigned long *pfContextAttr,
                           PTimeStamp ptsExpiry)
{
    char *target = NULL;
    SECURITY_STATUS status = wide_arg(pszTargetName, &target);

    if (status == SEC_E_OK)
        status = InitializeSecurityContextA(phCredential, phContext, target, fContextReq, Reserved1,
                                            TargetDataRep, pInput, Reserved2, phNewContext, pOutput,
                                            pfContextAttr, ptsExpiry);
    free(target);
    return status;
}

SECURITY_STATUS SEC_ENTRY
AcceptSecurityContext(PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
                      unsigned long fContextReq, unsigned long TargetDataRep,
                      PCtxtHandle phNewContext, PSecBufferDesc pOutput,
                      unsigned long *pfContextAttr, PTimeStamp ptsExpiry)
{
    struct ctx_call c = {.is_acceptor = true,
                         .cred_handle = phCredential,
                         .ctx_handle = phContext,
                         .req = fContextReq,
                         .in = pInput,
                         .out = pOutput,
                         .new_handle = phNewContext,
                         .attrs_out = pfContextAttr,
                         .expiry_out = ptsExpiry};

    (void)TargetDataRep;
    return context_step(&c);
}

SECURITY_STATUS SEC_ENTRY
CompleteAuthToken(PCtxtHandle phContext, PSecBufferDesc pToken)
{
    struct sspi_ctx *ctx = NULL;
    SECURITY_STATUS status = buffers_check_input(pToken);

    if (status != SEC_E_OK)
        return status;
    status = ctx_get(phContext, &ctx);
    if (status != SEC_E_OK)
        return status;
    if (ctx->state != CTX_NEEDS_COMPLETE_FINAL && ctx->state != CTX_NEEDS_COMPLETE_CONTINUE) {
        status = SEC_E_OK; /* nothing to complete, as Windows answers */
        goto cleanup;
    }
    if (ctx->pkg->complete_token == NULL) {
        status = SEC_E_INTERNAL_ERROR; /* a package asked for a step it cannot do */
        goto cleanup;
    }
    status = ctx->pkg->complete_token(ctx->pkg_ctx, pToken);
    if (status < 0) {
        record_failure(ctx, ctx->pkg, status, NULL);
        goto cleanup;
    }
    ctx->state = ctx->state == CTX_NEEDS_COMPLETE_FINAL ? CTX_COMPLETE : CTX_IN_PROGRESS;
cleanup:
    sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
DeleteSecurityContext(PCtxtHandle phContext)
{
    void *obj = NULL;
    SECURITY_STATUS status = handles_remove(phContext, HANDLE_CTX, sspi_ctx_claim, &obj);

    if (status != SEC_E_OK)
        return status;
    ctx_destroy(obj);
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY
ApplyControlToken(PCtxtHandle phContext, PSecBufferDesc pInput)
{
    struct sspi_ctx *ctx = NULL;
    SECURITY_STATUS status = buffers_check_input(pInput);

    if (status != SEC_E_OK)
        return status;
    status = ctx_get(phContext, &ctx);
    if (status != SEC_E_OK)
        return status;
    if (ctx->pkg->apply_control == NULL || ctx->pkg_ctx == NULL) {
        status = SEC_E_UNSUPPORTED_FUNCTION;
    } else {
        status = ctx->pkg->apply_control(ctx->pkg_ctx, pInput);
        if (status == SEC_I_CONTINUE_NEEDED) {
            ctx->state = CTX_IN_PROGRESS; /* the next step continues this context */
            status = SEC_E_OK;
        }
    }
    sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
QuerySecurityContextToken(PCtxtHandle phContext, void **Token)
{
    struct sspi_ctx *ctx = NULL;
    gh_token *token = NULL;
    SECURITY_STATUS status;

    if (Token == NULL)
        return SEC_E_INVALID_PARAMETER;
    status = ctx_get(phContext, &ctx);
    if (status != SEC_E_OK)
        return status;
    if (ctx->pkg->query_token == NULL || ctx->pkg_ctx == NULL)
        status = SEC_E_UNSUPPORTED_FUNCTION;
    else
        status = ctx->pkg->query_token(ctx->pkg_ctx, &token);
    if (status == SEC_E_OK)
        *Token = token;
    sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
ImpersonateSecurityContext(PCtxtHandle phContext)
{
    struct sspi_ctx *ctx = NULL;
    gh_token *token = NULL;
    SECURITY_STATUS status = ctx_get(phContext, &ctx);

    if (status != SEC_E_OK)
        return status;
    if (ctx->pkg->query_token == NULL || ctx->pkg_ctx == NULL ||
        ctx->pkg->query_token(ctx->pkg_ctx, &token) != SEC_E_OK) {
        status = SEC_E_NO_IMPERSONATION;
        goto cleanup;
    }
    status = sspi_token_impersonate(token);
    if (status != SEC_E_OK)
        sspi_set_error(ctx, "SSPI: the identity has no local account to impersonate");
cleanup:
    gh_token_close(token);
    sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
RevertSecurityContext(PCtxtHandle phContext)
{
    struct sspi_ctx *ctx = NULL;
    SECURITY_STATUS status = ctx_get(phContext, &ctx);

    if (status != SEC_E_OK)
        return status;
    status = sspi_token_revert();
    sspi_ctx_release(ctx);
    return status;
}

/* ---- Message protection: validated here, done by the package ------------- */
enum msg_op {
    MSG_SIGN,
    MSG_VERIFY,
    MSG_ENCRYPT,
    MSG_DECRYPT,
};

static SECURITY_STATUS
message_call(enum msg_op op, PCtxtHandle handle, unsigned long qop, PSecBufferDesc msg,
             unsigned long seq_no, unsigned long *qop_out)
{
    struct sspi_ctx *ctx = NULL;
    unsigned long qop_ignored = 0;
    SECURITY_STATUS status;
    const struct sspi_package *pkg;

    if (msg == NULL)
        return SEC_E_INVALID_TOKEN;
    status = buffers_check_input(msg);
    if (status != SEC_E_OK)
        return status;
    status = ctx_get(handle, &ctx);
    if (status != SEC_E_OK)
        return status;
    pkg = ctx->pkg;
    if (qop_out == NULL)
        qop_out = &qop_ignored;
    status = SEC_E_UNSUPPORTED_FUNCTION;
    if (ctx->pkg_ctx == NULL)
        status = SEC_E_INVALID_HANDLE;
    else if (op == MSG_SIGN && pkg->make_signature != NULL)
        status = pkg->make_signature(ctx->pkg_ctx, qop, msg, seq_no);
    else if (op == MSG_VERIFY && pkg->verify_signature != NULL)
        status = pkg->verify_signature(ctx->pkg_ctx, msg, seq_no, qop_out);
    else if (op == MSG_ENCRYPT && pkg->encrypt != NULL)
        status = pkg->encrypt(ctx->pkg_ctx, qop, msg, seq_no);
    else if (op == MSG_DECRYPT && pkg->decrypt != NULL)
        status = pkg->decrypt(ctx->pkg_ctx, msg, seq_no, qop_out);
    if (op == MSG_DECRYPT && status == SEC_I_RENEGOTIATE)
        ctx->state = CTX_IN_PROGRESS; /* the caller goes back to the handshake loop */
    sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
MakeSignature(PCtxtHandle phContext, unsigned long fQOP, PSecBufferDesc pMessage,
              unsigned long MessageSeqNo)
{
    return message_call(MSG_SIGN, phContext, fQOP, pMessage, MessageSeqNo, NULL);
}

SECURITY_STATUS SEC_ENTRY
VerifySignature(PCtxtHandle phContext, PSecBufferDesc pMessage, unsigned long MessageSeqNo,
                unsigned long *pfQOP)
{
    return message_call(MSG_VERIFY, phContext, 0, pMessage, MessageSeqNo, pfQOP);
}

SECURITY_STATUS SEC_ENTRY
EncryptMessage(PCtxtHandle phContext, unsigned long fQOP, PSecBufferDesc pMessage,
               unsigned long MessageSeqNo)
{
    return message_call(MSG_ENCRYPT, phContext, fQOP, pMessage, MessageSeqNo, NULL);
}

SECURITY_STATUS SEC_ENTRY
DecryptMessage(PCtxtHandle phContext, PSecBufferDesc pMessage, unsigned long MessageSeqNo,
               unsigned long *pfQOP)
{
    return message_call(MSG_DECRYPT, phContext, 0, pMessage, MessageSeqNo, pfQOP);
}

/* ---- Attributes ---------------------------------------------------------------- */
static SECURITY_STATUS
query_context(PCtxtHandle handle, unsigned long attribute, void *buffer, bool wide)
{
    struct sspi_ctx *ctx = NULL;
    SECURITY_STATUS status;

    if (buffer == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (handle == NULL && attribute == SECPKG_ATTR_GH_EXTENDED_ERROR) {
        /* No context: the calling thread's last failure (a failed first call). */
        const char *text = sspi_thread_error();

        ((SecPkgContext_GhExtendedError *)buffer)->Text = text[0] != '\0' ? text : NULL;
        return SEC_E_OK;
    }
    if (handle == NULL && attribute == SECPKG_ATTR_GH_ERROR_INFO) {
        const char *text = sspi_thread_error();

        *(SecPkgContext_GhErrorInfo *)buffer = (SecPkgContext_GhErrorInfo){
            .Status = thread_error_info.status,
            .Detail = thread_error_info.detail,
            .Krb5Error = thread_error_info.krb5,
            .GssMajor = thread_error_info.major,
            .Package = thread_error_info.package,
            .Text = text[0] != '\0' ? text : NULL,
        };
        return SEC_E_OK;
    }
    status = ctx_get(handle, &ctx);
    if (status != SEC_E_OK)
        return status;
    status = query_ctx_attr(ctx, attribute, buffer, wide);
    sspi_ctx_release(ctx);
    return status;
}

SECURITY_STATUS SEC_ENTRY
QueryContextAttributesA(PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer)
{
    return query_context(phContext, ulAttribute, pBuffer, false);
}

SECURITY_STATUS SEC_ENTRY
QueryContextAttributesW(PCtxtHandle phContext, unsigned long ulAttribute, void *pBuffer)
{
    return query_context(phContext, ulAttribute, pBuffer, true);
}

static SECURITY_STATUS
query_credentials(PCredHandle handle, unsigned long attribute, void *buffer, bool wide)
{
    void *obj = NULL;
    SECURITY_STATUS status;

    if (buffer == NULL)
        return SEC_E_INVALID_PARAMETER;
    status = handles_get(handle, HANDLE_CRED, sspi_cred_claim, &obj);
    if (status != SEC_E_OK)
        return status;
    status = query_cred_attr(obj, attribute, buffer, wide);
    sspi_cred_unref(obj);
    return status;
}

SECURITY_STATUS SEC_ENTRY
QueryCredentialsAttributesA(PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer)
{
    return query_credentials(phCredential, ulAttribute, pBuffer, false);
}

SECURITY_STATUS SEC_ENTRY
QueryCredentialsAttributesW(PCredHandle phCredential, unsigned long ulAttribute, void *pBuffer)
{
    return query_credentials(phCredential, ulAttribute, pBuffer, true);
}

/* ---- Packages --------------------------------------------------------------------
 * The array and its strings share one allocation, so one FreeContextBuffer
 * releases what EnumerateSecurityPackages returned. */
SECURITY_STATUS SEC_ENTRY
EnumerateSecurityPackagesA(unsigned long *pcPackages, PSecPkgInfoA *ppPackageInfo)
{
    size_t count = sspi_registry_count(), bytes = count * sizeof(SecPkgInfoA);
    PSecPkgInfoA infos;
    char *strings;

    if (pcPackages == NULL || ppPackageInfo == NULL)
        return SEC_E_INVALID_PARAMETER;
    for (size_t i = 0; i < count; i++) {
        const struct sspi_package *pkg = sspi_registry_at(i);

        bytes += strlen(pkg->name) + 1 + (pkg->comment != NULL ? strlen(pkg->comment) : 0) + 1;
    }
    infos = sspi_alloc(bytes);
    if (infos == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    strings = (char *)(infos + count);
    for (size_t i = 0; i < count; i++) {
        const struct sspi_package *pkg = sspi_registry_at(i);
        const char *comment = pkg->comment != NULL ? pkg->comment : "";
        size_t n = strlen(pkg->name) + 1, m = strlen(comment) + 1;

        infos[i] = (SecPkgInfoA){.fCapabilities = pkg->capabilities,
                                 .wVersion = pkg->version,
                                 .wRPCID = pkg->rpc_id,
                                 .cbMaxToken = pkg->max_token_bytes,
                                 .Name = memcpy(strings, pkg->name, n),
                                 .Comment = memcpy(strings + n, comment, m)};
        strings += n + m;
    }
    *pcPackages = count;
    *ppPackageInfo = infos;
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY
EnumerateSecurityPackagesW(unsigned long *pcPackages, PSecPkgInfoW *ppPackageInfo)
{
    size_t count = sspi_registry_count(), bytes = count * sizeof(SecPkgInfoW);
    PSecPkgInfoW infos;
    SEC_WCHAR *strings;

    if (pcPackages == NULL || ppPackageInfo == NULL)
        return SEC_E_INVALID_PARAMETER;
    for (size_t i = 0; i < count; i++) {
        const struct sspi_package *pkg = sspi_registry_at(i);

        /* Names and comments are ASCII: one unit per byte. */
        bytes += (strlen(pkg->name) + 1 + (pkg->comment != NULL ? strlen(pkg->comment) : 0) + 1) *
                 sizeof(SEC_WCHAR);
    }
    infos = sspi_alloc(bytes);
    if (infos == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    strings = (SEC_WCHAR *)(infos + count);
    for (size_t i = 0; i < count; i++) {
        const struct sspi_package *pkg = sspi_registry_at(i);
        const char *texts[2] = {pkg->name, pkg->comment != NULL ? pkg->comment : ""};

        infos[i] = (SecPkgInfoW){.fCapabilities = pkg->capabilities,
                                 .wVersion = pkg->version,
                                 .wRPCID = pkg->rpc_id,
                                 .cbMaxToken = pkg->max_token_bytes};
        for (int k = 0; k < 2; k++) {
            size_t n = strlen(texts[k]);

            if (k == 0)
                infos[i].Name = strings;
            else
                infos[i].Comment = strings;
            for (size_t j = 0; j < n; j++)
                strings[j] = (unsigned char)texts[k][j];
            strings[n] = 0;
            strings += n + 1;
        }
    }
    *pcPackages = count;
    *ppPackageInfo = infos;
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY
QuerySecurityPackageInfoA(SEC_CHAR *pszPackageName, PSecPkgInfoA *ppPackageInfo)
{
    const struct sspi_package *pkg = sspi_registry_find(pszPackageName);

    if (ppPackageInfo == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (pkg == NULL)
        return SEC_E_SECPKG_NOT_FOUND;
    *ppPackageInfo = sspi_package_info_dup(pkg);
    return *ppPackageInfo != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

SECURITY_STATUS SEC_ENTRY
QuerySecurityPackageInfoW(SEC_WCHAR *pszPackageName, PSecPkgInfoW *ppPackageInfo)
{
    char *name = NULL;
    const struct sspi_package *pkg;
    SECURITY_STATUS status;

    if (ppPackageInfo == NULL)
        return SEC_E_INVALID_PARAMETER;
    status = wide_arg(pszPackageName, &name);
    if (status != SEC_E_OK)
        return status == SEC_E_INVALID_PARAMETER ? SEC_E_SECPKG_NOT_FOUND : status;
    pkg = sspi_registry_find(name);
    free(name);
    if (pkg == NULL)
        return SEC_E_SECPKG_NOT_FOUND;
    *ppPackageInfo = query_package_info_w(pkg);
    return *ppPackageInfo != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* ---- Packed contexts ----------------------------------------------------------
 * Envelope (all integers little-endian, see sspi/packed.h):
 *   "GHPC"  u8 version (1)  str package  u8 is_acceptor  u32 req_flags
 *   u32 attrs  u64 expiry (TimeStamp)  bytes package_state
 * and nothing after it. The package writes and reads its own state. */
#define PACKED_MAGIC       "GHPC"
#define PACKED_VERSION     1
#define PACKED_MAX_BYTES   (1u << 20)
#define PACKED_MAX_PKGNAME 64

SECURITY_STATUS SEC_ENTRY
ExportSecurityContext(PCtxtHandle phContext, unsigned long fFlags, PSecBuffer pPackedContext,
                      void **pToken)
{
    struct sspi_ctx *ctx = NULL;
    gh_token *token = NULL;
    struct buf out, state;
    SECURITY_STATUS status;
    void *mem;

    if (pPackedContext == NULL)
        return SEC_E_INVALID_PARAMETER;
    if (fFlags &
        ~(unsigned long)(SECPKG_CONTEXT_EXPORT_RESET_NEW | SECPKG_CONTEXT_EXPORT_DELETE_OLD))
        return SEC_E_INVALID_PARAMETER;
    pPackedContext->cbBuffer = 0;
    pPackedContext->pvBuffer = NULL;
    if (pToken != NULL)
        *pToken = NULL;
    status = ctx_get(phContext, &ctx);
    if (status != SEC_E_OK)
        return status;
    buf_init(&out, PACKED_MAX_BYTES);
    buf_init(&state, PACKED_MAX_BYTES);
    if (ctx->state != CTX_COMPLETE || ctx->pkg_ctx == NULL) {
        status = SEC_E_NO_CONTEXT;
        goto cleanup;
    }
    if (ctx->pkg->export_ctx == NULL) {
        status = SEC_E_UNSUPPORTED_FUNCTION;
        goto cleanup;
    }
    status = ctx->pkg->export_ctx(ctx->pkg_ctx, &state);
    if (status != SEC_E_OK)
        goto cleanup;
    uint64_t expiry =
        (uint64_t)(uint32_t)ctx->expiry.LowPart | ((uint64_t)(uint32_t)ctx->expiry.HighPart << 32);
    if (buf_append(&out, PACKED_MAGIC, 4) != GH_OK)
        status = SEC_E_INSUFFICIENT_MEMORY;
    if (status == SEC_E_OK)
        status = packed_put_u8(&out, PACKED_VERSION);
    if (status == SEC_E_OK)
        status = packed_put_str(&out, ctx->pkg->name);
    if (status == SEC_E_OK)
        status = packed_put_u8(&out, ctx->is_acceptor ? 1 : 0);
    if (status == SEC_E_OK)
        status = packed_put_u32(&out, (uint32_t)ctx->req_flags);
    if (status == SEC_E_OK)
        status = packed_put_u32(&out, (uint32_t)ctx->attrs);
    if (status == SEC_E_OK)
        status = packed_put_u64(&out, expiry);
    if (status == SEC_E_OK)
        status = packed_put_bytes(&out, state.data, state.len);
    if (status != SEC_E_OK)
        goto cleanup;
    if (pToken != NULL && ctx->pkg->query_token != NULL &&
        ctx->pkg->query_token(ctx->pkg_ctx, &token) != SEC_E_OK)
        token = NULL; /* an initiator has no token: the packed context is still good */
    mem = sspi_alloc(out.len);
    if (mem == NULL) {
        status = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    memcpy(mem, out.data, out.len);
    pPackedContext->pvBuffer = mem;
    pPackedContext->cbBuffer = (unsigned long)out.len;
    pPackedContext->BufferType = SECBUFFER_EMPTY;
    if (pToken != NULL) {
        *pToken = token;
        token = NULL;
    }
cleanup:
    gh_token_close(token);
    buf_free_wipe(&out); /* session keys */
    buf_free_wipe(&state);
    sspi_ctx_release(ctx);
    if (status == SEC_E_OK && (fFlags & SECPKG_CONTEXT_EXPORT_DELETE_OLD))
        (void)DeleteSecurityContext(phContext);
    return status;
}

SECURITY_STATUS SEC_ENTRY
ImportSecurityContextA(SEC_CHAR *pszPackage, PSecBuffer pPackedContext, void *Token,
                       PCtxtHandle phContext)
{
    const struct sspi_package *pkg = NULL;
    struct sspi_ctx *ctx = NULL;
    struct reader rd;
    struct slice state;
    char *name = NULL;
    bool oom = false;
    SecHandle handle = {0};
    SECURITY_STATUS status;

    (void)Token; /* tokens are made from the imported identity */
    if (pszPackage != NULL && sspi_registry_find(pszPackage) == NULL)
        return SEC_E_SECPKG_NOT_FOUND;
    if (pPackedContext == NULL || phContext == NULL ||
        (pPackedContext->pvBuffer == NULL && pPackedContext->cbBuffer != 0))
        return SEC_E_INVALID_PARAMETER;
    if (pPackedContext->cbBuffer > PACKED_MAX_BYTES)
        return SEC_E_INVALID_TOKEN;
    rd = reader_make(slice_make(pPackedContext->pvBuffer, pPackedContext->cbBuffer));
    const uint8_t *magic = reader_take(&rd, 4);
    if (magic == NULL || memcmp(magic, PACKED_MAGIC, 4) != 0 || reader_u8(&rd) != PACKED_VERSION ||
        !packed_get_str(&rd, &name, &oom) || name == NULL || strlen(name) > PACKED_MAX_PKGNAME) {
        status = oom ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INVALID_TOKEN;
        sspi_set_error(NULL, "SSPI: not a packed context of this version");
        goto cleanup;
    }
    pkg = sspi_registry_find(name);
    if (pkg == NULL || (pszPackage != NULL && sspi_registry_find(pszPackage) != pkg)) {
        status = SEC_E_INVALID_TOKEN;
        sspi_set_error(NULL, "SSPI: the packed context belongs to another package");
        goto cleanup;
    }
    if (pkg->import_ctx == NULL) {
        status = SEC_E_UNSUPPORTED_FUNCTION;
        goto cleanup;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        status = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    atomic_init(&ctx->busy, false);
    ctx->pkg = pkg;
    ctx->state = CTX_COMPLETE;
    ctx->is_acceptor = reader_u8(&rd) != 0;
    ctx->req_flags = reader_u32le(&rd);
    ctx->attrs = reader_u32le(&rd);
    uint64_t expiry = reader_u64le(&rd);
    ctx->expiry.LowPart = (uint32_t)expiry;
    ctx->expiry.HighPart = (int32_t)(uint32_t)(expiry >> 32);
    if (!packed_get_bytes(&rd, PACKED_MAX_BYTES, &state) || rd.left != 0) {
        status = SEC_E_INVALID_TOKEN;
        sspi_set_error(NULL, "SSPI: malformed packed context");
        goto cleanup;
    }
    status = pkg->import_ctx(state, &ctx->pkg_ctx);
    if (status != SEC_E_OK) {
        ctx->pkg_ctx = NULL;
        record_failure(NULL, pkg, status, NULL);
        goto cleanup;
    }
    status = handles_add(HANDLE_CTX, ctx, &handle);
    if (status != SEC_E_OK)
        goto cleanup;
    ctx = NULL; /* the table holds it */
    *phContext = handle;
cleanup:
    ctx_destroy(ctx);
    free(name);
    return status;
}

SECURITY_STATUS SEC_ENTRY
ImportSecurityContextW(SEC_WCHAR *pszPackage, PSecBuffer pPackedContext, void *Token,
                       PCtxtHandle phContext)
{
    char *package = NULL;
    SECURITY_STATUS status = wide_arg(pszPackage, &package);

    if (status != SEC_E_OK)
        return status == SEC_E_INVALID_PARAMETER ? SEC_E_SECPKG_NOT_FOUND : status;
    status = ImportSecurityContextA(package, pPackedContext, Token, phContext);
    free(package);
    return status;
}
