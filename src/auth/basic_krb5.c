// SPDX-License-Identifier: MIT
// Kerberos password verification for Basic. Each call uses its own
// krb5_context: contexts are not safe to share between threads, and creating
// one costs far less than the KDC round trips that follow.
//
// Why verify_init_creds: a password that yields a TGT only proves that someone
// answering as the KDC accepted it; an attacker who can spoof the KDC can
// answer anything. Decrypting a service ticket with our keytab proves the KDC
// knows our key (the "KDC spoofing" defence).
#include "auth/basic_krb5.h"

#include <errno.h>
#include <krb5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/secret.h"

struct basic_krb5 {
    char *keytab;  /* NULL: default */
    char *service; /* never NULL after create */
    char *realm;   /* NULL: default realm */
};

static int
first_keytab_principal(krb5_context ctx, krb5_keytab kt, char **name_out)
{
    krb5_kt_cursor cursor;
    krb5_keytab_entry entry;
    krb5_error_code kerr = krb5_kt_start_seq_get(ctx, kt, &cursor);
    char *name = NULL;

    if (kerr != 0)
        return GH_EIO;
    kerr = krb5_kt_next_entry(ctx, kt, &entry, &cursor);
    if (kerr == 0) {
        kerr = krb5_unparse_name(ctx, entry.principal, &name);
        krb5_free_keytab_entry_contents(ctx, &entry);
    }
    krb5_kt_end_seq_get(ctx, kt, &cursor);
    if (kerr != 0 || name == NULL)
        return GH_EIO;
    *name_out = strdup(name);
    krb5_free_unparsed_name(ctx, name);
    return *name_out == NULL ? GH_ENOMEM : GH_OK;
}

static int
kt_open(krb5_context ctx, const char *path, krb5_keytab *kt)
{
    char name[4096];

    if (path == NULL)
        return krb5_kt_default(ctx, kt) == 0 ? GH_OK : GH_EIO;
    if (snprintf(name, sizeof(name), "%s%s", strchr(path, ':') != NULL ? "" : "FILE:", path) >=
        (int)sizeof(name))
        return GH_EIO;
    return krb5_kt_resolve(ctx, name, kt) == 0 ? GH_OK : GH_EIO;
}

int
basic_krb5_create(const char *keytab, const char *service, const char *realm,
                  struct basic_krb5 **out, char *err, size_t err_len)
{
    struct basic_krb5 *bk = calloc(1, sizeof(*bk));
    krb5_context ctx = NULL;
    krb5_keytab kt = NULL;
    int rc = GH_ENOMEM;

    *out = NULL;
    if (bk == NULL)
        return GH_ENOMEM;
    if ((keytab != NULL && (bk->keytab = strdup(keytab)) == NULL) ||
        (service != NULL && (bk->service = strdup(service)) == NULL) ||
        (realm != NULL && (bk->realm = strdup(realm)) == NULL))
        goto cleanup;
    if (krb5_init_context(&ctx) != 0) {
        snprintf(err, err_len, "cannot initialize Kerberos");
        rc = GH_EIO;
        goto cleanup;
    }
    rc = kt_open(ctx, bk->keytab, &kt);
    if (rc == GH_OK && bk->service == NULL)
        rc = first_keytab_principal(ctx, kt, &bk->service);
    if (rc != GH_OK) {
        snprintf(err, err_len, "keytab %s: unreadable or empty",
                 keytab != NULL ? keytab : "(default)");
        goto cleanup;
    }
    *out = bk;
    bk = NULL;
cleanup:
    if (kt != NULL)
        krb5_kt_close(ctx, kt);
    if (ctx != NULL)
        krb5_free_context(ctx);
    basic_krb5_destroy(bk);
    return rc;
}

void
basic_krb5_destroy(struct basic_krb5 *bk)
{
    if (bk == NULL)
        return;
    free(bk->keytab);
    free(bk->service);
    free(bk->realm);
    free(bk);
}

static int
map_error(krb5_error_code kerr)
{
    switch (kerr) {
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
    case KRB5KRB_AP_ERR_MODIFIED:
        return GH_EAUTH;
    case KRB5KDC_ERR_CLIENT_REVOKED: /* AD: disabled, locked out or expired account */
        return GH_EDENIED;
    case KRB5KDC_ERR_KEY_EXP: /* AD: password expired, or must change at next logon */
        return GH_ESTATE;
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
        return GH_ENOTFOUND;
    case ENOMEM:
        return GH_ENOMEM;
    default:
        return GH_EIO;
    }
}

/* Only our own realms: the service's, the configured one, the default one. A
 * user name "x@ANY.REALM" must not make us look up and wait for any realm's
 * KDC (DNS SRV, timeouts on the blocking pool); such users log on through
 * their realm's trust with Negotiate instead. */
static bool
realm_allowed(krb5_context ctx, const struct basic_krb5 *bk, krb5_const_principal client,
              krb5_const_principal server)
{
    const krb5_data *r = krb5_princ_realm(ctx, client);
    char *def = NULL;
    bool ok = krb5_realm_compare(ctx, client, server) != 0;

    if (!ok && bk->realm != NULL)
        ok = strlen(bk->realm) == r->length && memcmp(bk->realm, r->data, r->length) == 0;
    if (!ok && krb5_get_default_realm(ctx, &def) == 0) {
        ok = strlen(def) == r->length && memcmp(def, r->data, r->length) == 0;
        krb5_free_default_realm(ctx, def);
    }
    return ok;
}

/* The client principal the KDC issued the credentials to, as a malloc'd
 * string, if it is of one of our realms (a canonicalizing KDC may answer with
 * another spelling, or refer to another realm). */
static int
issued_name(krb5_context ctx, const struct basic_krb5 *bk, const krb5_creds *creds,
            krb5_const_principal server, char **out)
{
    char *name = NULL;

    if (!realm_allowed(ctx, bk, creds->client, server))
        return GH_EAUTH;
    if (krb5_unparse_name(ctx, creds->client, &name) != 0)
        return GH_ENOMEM;
    *out = strdup(name);
    krb5_free_unparsed_name(ctx, name);
    return *out == NULL ? GH_ENOMEM : GH_OK;
}

int
basic_krb5_verify(void *arg, const char *user, const char *password, size_t password_len,
                  char **canon_out)
{
    const struct basic_krb5 *bk = arg;
    krb5_context ctx = NULL;
    krb5_principal client = NULL, server = NULL;
    krb5_keytab kt = NULL;
    krb5_creds creds;
    krb5_verify_init_creds_opt vopt;
    krb5_get_init_creds_opt *gopt = NULL;
    bool has_creds = false;
    char *pw = NULL;
    char name[1024];
    int rc;

    *canon_out = NULL;
    if (memchr(password, 0, password_len) != NULL || strchr(user, '\\') != NULL)
        return GH_EAUTH; /* cannot be a Kerberos password / name we accept */
    if (strchr(user, '@') == NULL && bk->realm != NULL)
        snprintf(name, sizeof(name), "%s@%s", user, bk->realm);
    else
        snprintf(name, sizeof(name), "%s", user);
    pw = malloc(password_len + 1);
    if (pw == NULL)
        return GH_ENOMEM;
    memcpy(pw, password, password_len);
    pw[password_len] = 0;
    memset(&creds, 0, sizeof(creds));
    rc = krb5_init_context(&ctx) == 0 ? GH_OK : GH_EIO;
    if (rc == GH_OK)
        rc = krb5_parse_name(ctx, name, &client) == 0 ? GH_OK : GH_EAUTH;
    if (rc == GH_OK)
        rc = krb5_parse_name(ctx, bk->service, &server) == 0 ? GH_OK : GH_EIO;
    if (rc == GH_OK && !realm_allowed(ctx, bk, client, server) && strchr(user, '@') != NULL) {
        /* "frank.upn@corp.test": not one of our realms, so a user principal
         * name (an AD UPN suffix). Ask our own KDC with the whole name as an
         * enterprise principal (RFC 6806 5): the KDC resolves the UPN and,
         * with canonicalize, answers with the account's principal. */
        krb5_free_principal(ctx, client);
        client = NULL;
        rc = krb5_parse_name_flags(ctx, user, KRB5_PRINCIPAL_PARSE_ENTERPRISE, &client) == 0
                 ? GH_OK
                 : GH_EAUTH;
        const krb5_data *sr = krb5_princ_realm(ctx, server);
        char *realm = bk->realm != NULL ? strdup(bk->realm) : strndup(sr->data, sr->length);
        if (rc == GH_OK && (realm == NULL || krb5_set_principal_realm(ctx, client, realm) != 0))
            rc = GH_ENOMEM;
        free(realm);
    }
    if (rc == GH_OK && !realm_allowed(ctx, bk, client, server))
        rc = GH_EAUTH;
    if (rc == GH_OK)
        rc = kt_open(ctx, bk->keytab, &kt);
    if (rc == GH_OK)
        rc = krb5_get_init_creds_opt_alloc(ctx, &gopt) == 0 ? GH_OK : GH_ENOMEM;
    if (rc == GH_OK) {
        /* Without canonicalize an AD KDC echoes the name as typed ("ALICE");
         * with it, the reply names the account as the directory spells it. */
        krb5_get_init_creds_opt_set_canonicalize(gopt, 1);
        krb5_error_code kerr =
            krb5_get_init_creds_password(ctx, &creds, client, pw, NULL, NULL, 0, NULL, gopt);
        has_creds = kerr == 0;
        rc = kerr == 0 ? GH_OK : map_error(kerr);
    }
    if (rc == GH_OK) {
        krb5_verify_init_creds_opt_init(&vopt);
        krb5_verify_init_creds_opt_set_ap_req_nofail(&vopt, 1); /* a keytab is mandatory */
        rc = krb5_verify_init_creds(ctx, &creds, server, kt, NULL, &vopt) == 0 ? GH_OK : GH_EAUTH;
    }
    if (rc == GH_OK)
        rc = issued_name(ctx, bk, &creds, server, canon_out);
    if (gopt != NULL)
        krb5_get_init_creds_opt_free(ctx, gopt);
    if (has_creds)
        krb5_free_cred_contents(ctx, &creds);
    if (kt != NULL)
        krb5_kt_close(ctx, kt);
    krb5_free_principal(ctx, client);
    krb5_free_principal(ctx, server);
    if (ctx != NULL)
        krb5_free_context(ctx);
    secret_wipe(pw, password_len);
    free(pw);
    return rc;
}
