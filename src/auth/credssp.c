// SPDX-License-Identifier: MIT
// The CredSSP scheme's configuration and delegated credentials (credssp.h).
#include "auth/credssp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/engine.h"
#include "auth/engine_private.h"

int
auth_credssp_directive(struct auth_config *cfg, const char *const *args, size_t n, char *err,
                       size_t err_len)
{
    if (n < 1 || n > 2) {
        snprintf(err, err_len,
                 "auth_credssp_certificate takes a PEM file and an optional key file");
        return GH_EINVAL;
    }
    free(cfg->credssp_cert);
    free(cfg->credssp_key);
    cfg->credssp_cert = strdup(args[0]);
    cfg->credssp_key = n == 2 ? strdup(args[1]) : NULL;
    if (cfg->credssp_cert == NULL || (n == 2 && cfg->credssp_key == NULL))
        return GH_ENOMEM;
    return GH_OK;
}

int
auth_credssp_acquire(struct auth_config *cfg, const GH_ACCEPTOR_AUTH_DATA *data, char *err,
                     size_t err_len)
{
    const SecurityFunctionTableA *sspi = cfg->engine->backend->sspi;
    PCCERT_CONTEXT cert = NULL;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    CREDSSP_CRED_EX cx = {
        .Type = CredsspCredEx,
        .Version = CREDSSP_CRED_EX_VERSION,
        .Flags = cfg->delegation ? 0 : GH_CREDSSP_FLAG_NO_DELEGATION,
        .Cred = {CredsspSubmitBufferBoth, &sc, (void *)data},
    };
    TimeStamp expiry;
    SECURITY_STATUS st;

    if (cfg->credssp_cert == NULL) {
        snprintf(err, err_len,
                 "auth CredSSP needs auth_credssp_certificate (the certificate of "
                 "the TLS channel inside the Authorization header)");
        return GH_EINVAL;
    }
    st = GhCertCreateContextFromPemFiles(cfg->credssp_cert, cfg->credssp_key, 0, &cert);
    if (st != SEC_E_OK) {
        snprintf(err, err_len, "auth_credssp_certificate %s: SECURITY_STATUS 0x%08x",
                 cfg->credssp_cert, (unsigned)(uint32_t)st);
        return GH_EINVAL;
    }
    sc.cCreds = 1;
    sc.paCred = &cert;
    st =
        sspi->AcquireCredentialsHandleA(NULL, (SEC_CHAR *)CREDSSP_NAME_A, SECPKG_CRED_INBOUND, NULL,
                                        &cx, NULL, NULL, &cfg->creds[AUTH_SCHEME_CREDSSP], &expiry);
    CertFreeCertificateContext(cert);
    if (st != SEC_E_OK) {
        snprintf(err, err_len, "cannot acquire CredSSP credentials: SECURITY_STATUS 0x%08x",
                 (unsigned)(uint32_t)st);
        return GH_EINVAL;
    }
    cfg->has_creds[AUTH_SCHEME_CREDSSP] = true;
    return GH_OK;
}

static char *
dup_counted(const unsigned char *p, unsigned long n)
{
    char *s = malloc((size_t)n + 1);

    if (s != NULL) {
        if (n > 0)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int
auth_credssp_take_delegated(const SecurityFunctionTableA *sspi, CtxtHandle *ctx,
                            struct auth_credssp_deleg *out)
{
    SecPkgContext_GhDelegatedCredentials d = {0};

    *out = (struct auth_credssp_deleg){0};
    if (sspi->QueryContextAttributesA(ctx, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &d) != SEC_E_OK)
        return GH_OK;
    out->user = dup_counted(d.Identity.User, d.Identity.UserLength);
    out->domain = dup_counted(d.Identity.Domain, d.Identity.DomainLength);
    if (out->user == NULL || out->domain == NULL ||
        /* with its NUL: the record hands out a C string */
        secret_set(&out->password, d.Identity.Password, (size_t)d.Identity.PasswordLength + 1) !=
            GH_OK) {
        auth_credssp_deleg_free(out);
        return GH_ENOMEM;
    }
    out->present = true;
    return GH_OK;
}

void
auth_credssp_deleg_free(struct auth_credssp_deleg *d)
{
    free(d->user);
    free(d->domain);
    secret_free(&d->password);
    *d = (struct auth_credssp_deleg){0};
}
