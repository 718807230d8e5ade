// SPDX-License-Identifier: MIT
// Kerberos password verification for Basic. Each call uses its own
// krb5_context: contexts are not safe to share between threads, and creating
// one costs far less than the KDC round trips that follow.
//
// Why a service ticket for ourselves: a password that yields a TGT only
// proves that someone answering as the KDC accepted it; an attacker who can
// spoof the KDC can answer anything. A ticket for our own service that our
// keytab decrypts proves the KDC knows our key (the "KDC spoofing" defence,
// what krb5_verify_init_creds does). The ticket is accepted by our own
// Kerberos package (AcceptSecurityContext, the path of Negotiate tokens)
// rather than by krb5_verify_init_creds: the package also verifies the
// ticket's PAC with the service key and reads the user's SIDs and groups from
// it, so a Basic login has the same identity as a Negotiate one.
#include "auth/basic_krb5.h"

#include <errno.h>
#include <krb5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/reason.h"
#include "base/secret.h"

struct basic_krb5 {
    char *keytab;                       /* NULL: default */
    char *service;                      /* never NULL after create */
    char *realm;                        /* NULL: default realm */
    const SecurityFunctionTableA *sspi; /* borrowed */
    CredHandle acceptor;                /* inbound Kerberos credentials of the keytab */
    bool has_acceptor;
};

/* The keytab's first service principal (two components or more,
 * "HTTP/host@REALM"), else its first entry: the Kerberos package's initiator
 * names its target as an SPN, and "account@REALM" would read as a host-based
 * name (a machine or service account's keytab lists the account first). */
static int
first_keytab_principal(krb5_context ctx, krb5_keytab kt, char **name_out)
{
    krb5_kt_cursor cursor;
    krb5_keytab_entry entry;
    krb5_error_code kerr = krb5_kt_start_seq_get(ctx, kt, &cursor);
    char *name = NULL;
    bool is_service = false;

    if (kerr != 0)
        return GH_EIO;
    for (int i = 0; i < 4096 && !is_service; i++) { /* bounded: a keytab is small */
        kerr = krb5_kt_next_entry(ctx, kt, &entry, &cursor);
        if (kerr != 0)
            break;
        is_service = krb5_princ_size(ctx, entry.principal) >= 2;
        if (name == NULL || is_service) {
            krb5_free_unparsed_name(ctx, name);
            name = NULL;
            kerr = krb5_unparse_name(ctx, entry.principal, &name);
        }
        krb5_free_keytab_entry_contents(ctx, &entry);
        if (kerr != 0)
            break;
    }
    krb5_kt_end_seq_get(ctx, kt, &cursor);
    if (name == NULL)
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
basic_krb5_create(const SecurityFunctionTableA *sspi, const GH_ACCEPTOR_AUTH_DATA *acceptor,
                  const char *keytab, const char *service, const char *realm,
                  struct basic_krb5 **out, char *err, size_t err_len)
{
    struct basic_krb5 *bk = calloc(1, sizeof(*bk));
    krb5_context ctx = NULL;
    krb5_keytab kt = NULL;
    int rc = GH_ENOMEM;

    *out = NULL;
    if (bk == NULL)
        return GH_ENOMEM;
    bk->sspi = sspi;
    SecInvalidateHandle(&bk->acceptor);
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
    if (sspi == NULL) {
        snprintf(err, err_len, "auth_basic_kerberos: the security library is not available");
        rc = GH_EIO;
        goto cleanup;
    }
    /* No principal: any key of the keytab decrypts, as for Negotiate with
     * several service names. The ticket is the one we ask for (bk->service),
     * and a keytab without its key fails each login with the keytab's reason
     * (AUTH_REASON_KERBEROS_KEYTAB_KVNO) rather than the configuration. */
    GH_ACCEPTOR_AUTH_DATA data = {.Version = GH_ACCEPTOR_AUTH_DATA_V3, .Keytab = bk->keytab};
    if (acceptor != NULL) {
        data = *acceptor;
        data.Keytab = bk->keytab;
        data.DelegatedCcacheDir = NULL; /* Basic never delegates */
    }
    TimeStamp expiry;
    SECURITY_STATUS st =
        sspi->AcquireCredentialsHandleA(NULL, MICROSOFT_KERBEROS_NAME_A, SECPKG_CRED_INBOUND, NULL,
                                        &data, NULL, NULL, &bk->acceptor, &expiry);
    if (st != SEC_E_OK) {
        snprintf(err, err_len,
                 "auth_basic_kerberos: cannot acquire Kerberos credentials with keytab %s: "
                 "SECURITY_STATUS 0x%08x",
                 keytab != NULL ? keytab : "(default)", (unsigned)(uint32_t)st);
        rc = st == SEC_E_INSUFFICIENT_MEMORY ? GH_ENOMEM : GH_EIO;
        goto cleanup;
    }
    bk->has_acceptor = true;
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
    if (bk->has_acceptor)
        bk->sspi->FreeCredentialsHandle(&bk->acceptor);
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

/* The reason and MIT's words for a failed krb5 call: what (the step), then
 * krb5_get_error_message (which carries the KDC's e-text and MIT's extended
 * message, e.g. "Request ticket server ... kvno 2 not found in keytab"). */
static void
explain(krb5_context ctx, krb5_error_code kerr, bool is_ticket_check, const char *realm,
        struct auth_failure *why)
{
    const char *msg;

    if (why == NULL)
        return;
    why->reason = is_ticket_check ? auth_reason_from_sspi(SEC_E_LOGON_DENIED, 0, kerr, true)
                                  : auth_reason_from_krb5(kerr);
    if (why->reason == AUTH_REASON_LOGON_DENIED || why->reason == AUTH_REASON_HANDSHAKE_FAILED)
        why->reason = AUTH_REASON_INTERNAL_ERROR;
    msg = ctx != NULL ? krb5_get_error_message(ctx, kerr) : NULL;
    if (why->reason == AUTH_REASON_AUTHORITY_UNREACHABLE)
        (void)snprintf(why->text, sizeof(why->text), "KDC for realm %s unreachable (%s)",
                       realm != NULL ? realm : "?", msg != NULL ? msg : "no answer");
    else
        (void)snprintf(why->text, sizeof(why->text), "%s: %s",
                       is_ticket_check ? "cannot verify the KDC with the keytab"
                                       : "initial credentials",
                       msg != NULL ? msg : "unknown Kerberos error");
    if (msg != NULL)
        krb5_free_error_message(ctx, msg);
}

static char *
realm_text(krb5_context ctx, krb5_const_principal p, char *buf, size_t len)
{
    const krb5_data *r = krb5_princ_realm(ctx, p);

    (void)snprintf(buf, len, "%.*s", (int)r->length, r->data);
    return buf;
}

/* A MEMORY ccache of this call's own holding the TGT, then the service ticket
 * for our own service (the ticket krb5_verify_init_creds would ask for). The
 * caller destroys *cc_out. */
static krb5_error_code
service_ticket(krb5_context ctx, krb5_creds *tgt, krb5_principal server, krb5_ccache *cc_out)
{
    krb5_ccache cc = NULL;
    krb5_creds in, *got = NULL;
    krb5_error_code kerr = krb5_cc_new_unique(ctx, "MEMORY", NULL, &cc);

    if (kerr == 0)
        kerr = krb5_cc_initialize(ctx, cc, tgt->client);
    if (kerr == 0)
        kerr = krb5_cc_store_cred(ctx, cc, tgt);
    if (kerr == 0) {
        memset(&in, 0, sizeof(in));
        in.client = tgt->client;
        in.server = server;
        kerr = krb5_get_credentials(ctx, 0, cc, &in, &got);
    }
    if (got != NULL)
        krb5_free_creds(ctx, got);
    if (kerr != 0) {
        if (cc != NULL)
            krb5_cc_destroy(ctx, cc);
        return kerr;
    }
    *cc_out = cc;
    return 0;
}

/* The reason and the package's words for a failed SSPI call of the ticket
 * check (SECPKG_ATTR_GH_ERROR_INFO of the context, or else of the thread):
 * classified as the krb5 error of krb5_verify_init_creds was. */
static void
explain_sspi(const SecurityFunctionTableA *sspi, CtxtHandle *ctx, SECURITY_STATUS st,
             struct auth_failure *why)
{
    SecPkgContext_GhErrorInfo info = {0};

    if (why == NULL)
        return;
    bool has_info =
        sspi->QueryContextAttributesA != NULL &&
        sspi->QueryContextAttributesA(ctx, SECPKG_ATTR_GH_ERROR_INFO, &info) == SEC_E_OK &&
        info.Status == st;
    /* has_service_names false: the ticket is always for the service we asked
     * for, so MIT's NOT_US means the keytab lacks its key, never a ticket
     * for another service. */
    if (has_info && info.Krb5Error != 0)
        why->reason = auth_reason_from_sspi(SEC_E_LOGON_DENIED, 0, info.Krb5Error, false);
    else
        why->reason = auth_reason_from_sspi(st, has_info ? info.Detail : 0, 0, false);
    if (why->reason == AUTH_REASON_LOGON_DENIED || why->reason == AUTH_REASON_HANDSHAKE_FAILED)
        why->reason = AUTH_REASON_INTERNAL_ERROR;
    if (has_info && info.Text != NULL)
        (void)snprintf(why->text, sizeof(why->text), "cannot verify the KDC with the keytab: %s",
                       info.Text);
    else
        (void)snprintf(why->text, sizeof(why->text),
                       "cannot verify the KDC with the keytab: SECURITY_STATUS 0x%08x",
                       (unsigned)(uint32_t)st);
}

/* The service ticket in ccname, turned into a Kerberos token by our
 * package's initiator (no mutual authentication: one token) and accepted by
 * its acceptor with the keytab's credentials: the ticket decrypts with our key
 * (the KDC is genuine), the PAC's signatures check, and the identity is the
 * one a Negotiate login of the user gets. GH_OK with *token_out, GH_EAUTH
 * (*why filled) or GH_ENOMEM. */
static int
accept_ticket(const struct basic_krb5 *bk, const char *ccname, gh_token **token_out,
              struct auth_failure *why)
{
    const SecurityFunctionTableA *sspi = bk->sspi;
    GH_INITIATOR_AUTH_DATA from = {.Version = GH_INITIATOR_AUTH_DATA_V1, .Ccache = ccname};
    CredHandle initiator, acceptor = bk->acceptor;
    CtxtHandle ictx, actx;
    SecBuffer tok = {0, SECBUFFER_TOKEN, NULL}, reply = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc tok_desc = {SECBUFFER_VERSION, 1, &tok};
    SecBufferDesc reply_desc = {SECBUFFER_VERSION, 1, &reply};
    bool has_initiator = false, has_ictx = false, has_actx = false;
    unsigned long attrs = 0;
    TimeStamp expiry;
    void *token = NULL;
    int rc = GH_EAUTH;

    SecInvalidateHandle(&initiator);
    SecInvalidateHandle(&ictx);
    SecInvalidateHandle(&actx);
    SECURITY_STATUS st =
        sspi->AcquireCredentialsHandleA(NULL, MICROSOFT_KERBEROS_NAME_A, SECPKG_CRED_OUTBOUND, NULL,
                                        &from, NULL, NULL, &initiator, &expiry);
    has_initiator = st == SEC_E_OK;
    if (st == SEC_E_OK) {
        st = sspi->InitializeSecurityContextA(&initiator, NULL, bk->service,
                                              ISC_REQ_ALLOCATE_MEMORY, 0, SECURITY_NATIVE_DREP,
                                              NULL, 0, &ictx, &tok_desc, &attrs, &expiry);
        has_ictx = SEC_SUCCESS(st);
        if ((st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED) && tok.cbBuffer > 0)
            st = SEC_E_OK;
        else if (SEC_SUCCESS(st))
            st = SEC_E_INTERNAL_ERROR; /* no token to accept */
    }
    if (st != SEC_E_OK) {
        explain_sspi(sspi, has_ictx ? &ictx : NULL, st, why);
        rc = st == SEC_E_INSUFFICIENT_MEMORY ? GH_ENOMEM : GH_EAUTH;
        goto cleanup;
    }
    st = sspi->AcceptSecurityContext(&acceptor, NULL, &tok_desc,
                                     ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR,
                                     SECURITY_NATIVE_DREP, &actx, &reply_desc, &attrs, &expiry);
    has_actx = SEC_SUCCESS(st);
    if (st == SEC_E_OK)
        st = sspi->QuerySecurityContextToken(&actx, &token);
    if (st == SEC_E_OK && token == NULL)
        st = SEC_E_INTERNAL_ERROR;
    if (st != SEC_E_OK) {
        explain_sspi(sspi, has_actx ? &actx : NULL, st, why);
        rc = st == SEC_E_INSUFFICIENT_MEMORY ? GH_ENOMEM : GH_EAUTH;
        goto cleanup;
    }
    *token_out = token;
    rc = GH_OK;
cleanup:
    if (tok.pvBuffer != NULL)
        sspi->FreeContextBuffer(tok.pvBuffer);
    if (reply.pvBuffer != NULL)
        sspi->FreeContextBuffer(reply.pvBuffer);
    if (has_actx)
        sspi->DeleteSecurityContext(&actx);
    if (has_ictx)
        sspi->DeleteSecurityContext(&ictx);
    if (has_initiator)
        sspi->FreeCredentialsHandle(&initiator);
    return rc;
}

int
basic_krb5_verify(void *arg, const char *user, const char *password, size_t password_len,
                  char **canon_out, gh_token **token_out, struct auth_failure *why)
{
    const struct basic_krb5 *bk = arg;
    krb5_context ctx = NULL;
    krb5_principal client = NULL, server = NULL;
    krb5_ccache cc = NULL;
    krb5_creds creds;
    krb5_get_init_creds_opt *gopt = NULL;
    bool has_creds = false;
    char *pw = NULL, *ccname = NULL, *canon = NULL;
    char name[1024], realm[256] = "";
    int rc;

    *canon_out = NULL;
    *token_out = NULL;
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
        char *upn_realm = bk->realm != NULL ? strdup(bk->realm) : strndup(sr->data, sr->length);
        if (rc == GH_OK &&
            (upn_realm == NULL || krb5_set_principal_realm(ctx, client, upn_realm) != 0))
            rc = GH_ENOMEM;
        free(upn_realm);
    }
    if (rc == GH_OK && !realm_allowed(ctx, bk, client, server)) {
        rc = GH_EAUTH;
        if (why != NULL) {
            why->reason = AUTH_REASON_UNKNOWN_USER;
            (void)snprintf(why->text, sizeof(why->text), "realm %s is not one of ours",
                           realm_text(ctx, client, realm, sizeof(realm)));
        }
    }
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
        if (kerr != 0)
            explain(ctx, kerr, false, realm_text(ctx, client, realm, sizeof(realm)), why);
    }
    if (rc == GH_OK) {
        krb5_error_code kerr = service_ticket(ctx, &creds, server, &cc);
        if (kerr == 0)
            kerr = krb5_cc_get_full_name(ctx, cc, &ccname);
        rc = kerr == 0 ? GH_OK : kerr == ENOMEM ? GH_ENOMEM : GH_EAUTH;
        if (kerr != 0)
            explain(ctx, kerr, true, realm_text(ctx, server, realm, sizeof(realm)), why);
    }
    if (rc == GH_OK)
        rc = issued_name(ctx, bk, &creds, server, &canon);
    if (rc == GH_OK)
        rc = accept_ticket(bk, ccname, token_out, why);
    if (rc == GH_OK) {
        *canon_out = canon;
        canon = NULL;
    }
    free(canon);
    if (ccname != NULL)
        krb5_free_string(ctx, ccname);
    if (cc != NULL)
        krb5_cc_destroy(ctx, cc);
    if (gopt != NULL)
        krb5_get_init_creds_opt_free(ctx, gopt);
    if (has_creds)
        krb5_free_cred_contents(ctx, &creds);
    krb5_free_principal(ctx, client);
    krb5_free_principal(ctx, server);
    if (ctx != NULL)
        krb5_free_context(ctx);
    secret_wipe(pw, password_len);
    free(pw);
    return rc;
}
