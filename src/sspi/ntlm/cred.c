// SPDX-License-Identifier: MIT
// NTLM credentials. Outbound: an explicit SEC_WINNT_AUTH_IDENTITY, else the
// first matching line of $NTLM_USER_FILE ("DOMAIN:user:password", the format
// gss-ntlmssp reads). Inbound: a back end (backend.h) checks the client's
// response: the local one over the built-in user store or an injected NT-hash
// lookup (ntlm_cred_create_acceptor), or winbind (GH_ACCEPTOR_NTLM_WINBIND).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/secret.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/package.h"
#include "sspi/store/userstore.h"

static char *
dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *
dup_or(const char *s, const char *fallback)
{
    const char *v = (s != NULL && s[0] != '\0') ? s : fallback;
    return dup_n(v, strlen(v));
}

void
ntlm_cred_free(void *pkg_cred)
{
    struct ntlm_cred *c = pkg_cred;

    if (c == NULL)
        return;
    free(c->user);
    free(c->domain);
    free(c->nb_domain);
    free(c->nb_computer);
    free(c->dns_domain);
    free(c->dns_computer);
    for (size_t i = 0; i < c->target_name_count; i++)
        free(c->target_names[i]);
    free(c->target_names);
    if (c->backend != NULL && c->backend->destroy != NULL)
        c->backend->destroy(c->backend_state);
    userstore_destroy(c->store);
    secret_wipe(c, sizeof(*c));
    free(c);
}

/* Splits "DOMAIN\\user" or "user@domain"; an explicit domain wins. */
static SECURITY_STATUS
set_identity(struct ntlm_cred *c, const char *user, size_t user_len, const char *domain,
             size_t domain_len)
{
    const char *bs = memchr(user, '\\', user_len);
    const char *at = memchr(user, '@', user_len);

    if (domain_len == 0 && bs != NULL) {
        domain = user;
        domain_len = (size_t)(bs - user);
        user_len -= domain_len + 1;
        user = bs + 1;
    } else if (domain_len == 0 && at != NULL) {
        domain = at + 1;
        domain_len = user_len - (size_t)(at - user) - 1;
        user_len = (size_t)(at - user);
    }
    if (user_len == 0)
        return SEC_E_NO_CREDENTIALS;
    c->user = dup_n(user, user_len);
    c->domain = dup_n(domain == NULL ? "" : domain, domain == NULL ? 0 : domain_len);
    if (c->user == NULL || c->domain == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    return SEC_E_OK;
}

/* Reads $NTLM_USER_FILE: the first line whose user matches want (any when NULL). */
static SECURITY_STATUS
from_user_file(struct ntlm_cred *c, const char *want)
{
    const char *path = getenv("NTLM_USER_FILE");
    FILE *f = NULL;
    char line[1024];
    SECURITY_STATUS st = SEC_E_NO_CREDENTIALS;

    if (path == NULL || path[0] == '\0')
        return SEC_E_NO_CREDENTIALS;
    f = fopen(path, "re");
    if (f == NULL)
        return SEC_E_NO_CREDENTIALS;
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *c1 = strchr(line, ':');
        char *c2 = c1 == NULL ? NULL : strchr(c1 + 1, ':');
        if (c2 == NULL)
            continue;
        *c1 = '\0';
        *c2 = '\0';
        const char *user = c1 + 1;
        const char *pass = c2 + 1;
        if (want != NULL && want[0] != '\0' && strcasecmp(want, user) != 0)
            continue;
        st = set_identity(c, user, strlen(user), line, strlen(line));
        if (st == SEC_E_OK)
            st = ntlm_crypto_nt_hash(pass, strlen(pass), c->nt_hash);
        break;
    }
    secret_wipe(line, sizeof(line));
    fclose(f);
    return st;
}

/* Copies the accepted SPNs; "HTTP/host@REALM" (the Kerberos form of
 * auth_service_name) is kept as "HTTP/host", what NTLM clients send. */
static SECURITY_STATUS
set_target_names(struct ntlm_cred *c, const GH_ACCEPTOR_AUTH_DATA *cfg)
{
    if (cfg == NULL || cfg->Version != GH_ACCEPTOR_AUTH_DATA_V3 ||
        cfg->AcceptedTargetNameCount == 0)
        return SEC_E_OK;
    if (cfg->AcceptedTargetNames == NULL)
        return SEC_E_INVALID_PARAMETER;
    c->target_names = calloc(cfg->AcceptedTargetNameCount, sizeof(*c->target_names));
    if (c->target_names == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    for (size_t i = 0; i < cfg->AcceptedTargetNameCount; i++) {
        const char *name = cfg->AcceptedTargetNames[i];
        if (name == NULL || name[0] == '\0')
            return SEC_E_INVALID_PARAMETER; /* the caller frees what was copied */
        const char *at = strrchr(name, '@');
        c->target_names[i] = strndup(name, at != NULL ? (size_t)(at - name) : strlen(name));
        if (c->target_names[i] == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        c->target_name_count = i + 1;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
set_acceptor_names(struct ntlm_cred *c, const GH_ACCEPTOR_AUTH_DATA *cfg)
{
    char host[256] = "localhost";

    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    char *dot = strchr(host, '.');
    const char *dns_domain_default = dot != NULL ? dot + 1 : "";
    char nb_default[16];
    size_t nb_len = dot != NULL ? (size_t)(dot - host) : strlen(host);
    if (nb_len > 15)
        nb_len = 15; /* NetBIOS names have at most 15 characters */
    for (size_t i = 0; i < nb_len; i++)
        nb_default[i] = (char)((host[i] >= 'a' && host[i] <= 'z') ? host[i] - 32 : host[i]);
    nb_default[nb_len] = '\0';

    /* With the domain controller checking the responses, the domain it
     * serves is the one to announce unless the caller named one. */
    char nb_winbind[64] = "";
    if (cfg != NULL && cfg->NbDomainName == NULL && (cfg->Flags & GH_ACCEPTOR_NTLM_WINBIND))
        (void)ntlm_winbind_domain(nb_winbind, sizeof(nb_winbind));
    c->nb_domain = dup_or(cfg != NULL && cfg->NbDomainName != NULL ? cfg->NbDomainName
                          : nb_winbind[0] != '\0'                  ? nb_winbind
                                                                   : NULL,
                          "GATEHOUSE");
    c->nb_computer = dup_or(cfg != NULL ? cfg->NbComputerName : NULL, nb_default);
    c->dns_domain = dup_or(cfg != NULL ? cfg->DnsDomainName : NULL, dns_domain_default);
    c->dns_computer = dup_or(NULL, host);
    c->acceptor_flags = cfg != NULL ? cfg->Flags : 0;
    if (c->nb_domain == NULL || c->nb_computer == NULL || c->dns_domain == NULL ||
        c->dns_computer == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    return set_target_names(c, cfg);
}

SECURITY_STATUS
ntlm_cred_create_acceptor_backend(const GH_ACCEPTOR_AUTH_DATA *cfg,
                                  const struct ntlm_backend *backend, void *state,
                                  void **pkg_cred_out)
{
    struct ntlm_cred *c = calloc(1, sizeof(*c));
    SECURITY_STATUS st;

    *pkg_cred_out = NULL;
    if (c == NULL) {
        if (backend->destroy != NULL)
            backend->destroy(state);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    c->is_inbound = true;
    c->backend = backend;
    c->backend_state = state; /* owned from here on, whatever happens */
    st = set_acceptor_names(c, cfg);
    if (st != SEC_E_OK) {
        ntlm_cred_free(c);
        return st;
    }
    *pkg_cred_out = c;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_cred_create_acceptor(const GH_ACCEPTOR_AUTH_DATA *cfg, ntlm_nt_hash_lookup_fn *lookup,
                          void *arg, void **pkg_cred_out)
{
    /* The local back end's state is the credential itself: set once made. */
    SECURITY_STATUS st =
        ntlm_cred_create_acceptor_backend(cfg, &ntlm_backend_local, NULL, pkg_cred_out);
    struct ntlm_cred *c = *pkg_cred_out;

    if (st != SEC_E_OK)
        return st;
    c->lookup = lookup;
    c->lookup_arg = arg;
    c->backend_state = c;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_cred_acquire(const struct sspi_acquire *args, void **pkg_cred_out)
{
    struct ntlm_cred *c = calloc(1, sizeof(*c));
    SECURITY_STATUS st = SEC_E_OK;

    *pkg_cred_out = NULL;
    if (c == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (ntlm_crypto_get() == NULL) {
        st = SEC_E_INTERNAL_ERROR; /* no MD4/RC4: the legacy provider is missing */
        goto cleanup;
    }
    if (args->use & SECPKG_CRED_OUTBOUND) {
        c->is_outbound = true;
        if (args->has_identity) {
            const char *user = args->user != NULL ? args->user : "";
            const char *domain = args->domain != NULL ? args->domain : "";
            st = set_identity(c, user, strlen(user), domain, strlen(domain));
            if (st == SEC_E_OK)
                st = ntlm_crypto_nt_hash((const char *)args->password.bytes, args->password.len,
                                         c->nt_hash);
        } else {
            st = from_user_file(c, args->principal);
        }
        if (st != SEC_E_OK)
            goto cleanup;
    }
    if (args->use & SECPKG_CRED_INBOUND) {
        const GH_ACCEPTOR_AUTH_DATA *cfg = args->acceptor;
        const char *path =
            cfg != NULL && cfg->UserStore != NULL ? cfg->UserStore : getenv("GH_USER_STORE");
        char err[256];
        c->is_inbound = true;
        st = set_acceptor_names(c, cfg);
        if (st != SEC_E_OK)
            goto cleanup;
        if (cfg != NULL && (cfg->Flags & GH_ACCEPTOR_NTLM_WINBIND)) {
            /* The domain checks the responses: no user store. */
            st = ntlm_winbind_create(&c->backend_state);
            if (st != SEC_E_OK)
                goto cleanup;
            c->backend = &ntlm_backend_winbind;
            goto done;
        }
        c->backend = &ntlm_backend_local;
        c->backend_state = c;
        if (path == NULL || userstore_open(path, &c->store, err, sizeof(err)) != GH_OK) {
            st = SEC_E_NO_CREDENTIALS;
            goto cleanup;
        }
    }
done:
    *pkg_cred_out = c;
    c = NULL;
cleanup:
    ntlm_cred_free(c);
    return st;
}

/* SECPKG_CRED_ATTR_NAMES: "DOMAIN\\user" of an outbound credential. */
SECURITY_STATUS
ntlm_cred_query(void *pkg_cred, unsigned long attribute, void *buffer)
{
    const struct ntlm_cred *c = pkg_cred;

    if (c == NULL || buffer == NULL)
        return SEC_E_INVALID_HANDLE;
    if (attribute != SECPKG_CRED_ATTR_NAMES || !c->is_outbound)
        return SEC_E_UNSUPPORTED_FUNCTION;
    size_t len = strlen(c->domain) + strlen(c->user) + 2;
    char *name = sspi_alloc(len);
    if (name == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    snprintf(name, len, "%s\\%s", c->domain, c->user);
    ((SecPkgCredentials_NamesA *)buffer)->sUserName = name;
    return SEC_E_OK;
}

int
ntlm_cred_lookup(const struct ntlm_cred *c, const char *user, const char *domain,
                 uint8_t hash_out[16], char *canon_out, size_t canon_len)
{
    if (c->lookup != NULL)
        return c->lookup(c->lookup_arg, user, domain, hash_out, canon_out, canon_len);
    if (c->store == NULL)
        return GH_ENOTFOUND;
    int err = userstore_nt_hash(c->store, user, hash_out);
    if (err != GH_OK)
        return err;
    const char *canon = userstore_canonical_name(c->store, user);
    if (canon != NULL && canon_len > 0)
        snprintf(canon_out, canon_len, "%s", canon);
    return GH_OK;
}
