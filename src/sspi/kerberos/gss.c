// SPDX-License-Identifier: MIT
// Kerberos credentials, names and error mapping, through MIT GSSAPI only.
//
// Credentials are acquired once per AcquireCredentialsHandle and kept: the
// acceptor's keytab is named in the credential store given to
// gss_acquire_cred_from (never through the process environment, which other
// threads share), and MIT's credential object serializes its own use, so one
// credential may serve concurrent handshakes.
#include <errno.h>
#include <profile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>

#include <gatehouse/error.h>
#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "sspi/kerberos/ident.h"
#include "sspi/kerberos/keytab.h"
#include "sspi/kerberos/krb_internal.h"
#include "sspi/kerberos/replay.h"

/* 1.2.840.113554.1.2.2 (RFC 1964) */
gss_OID_desc krb_mech_oid = {9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};
gss_OID_set_desc krb_mech_set = {1, &krb_mech_oid};

/* ---- Errors -------------------------------------------------------------- */

static void
append_status(struct buf *out, OM_uint32 code, int type)
{
    OM_uint32 minor, ctx = 0, major;
    gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;
    int rounds = 0;

    do {
        major = gss_display_status(
            &minor, code, type, type == GSS_C_MECH_CODE ? &krb_mech_oid : GSS_C_NO_OID, &ctx, &msg);
        if (GSS_ERROR(major))
            break;
        if (rounds > 0)
            (void)buf_append_str(out, ", ");
        (void)buf_append(out, msg.value, msg.length);
        gss_release_buffer(&minor, &msg);
    } while (ctx != 0 && ++rounds < 4);
}

/* "what: major text; minor text". The minor part is left out when it says
 * nothing: a zero minor status, or one whose text is "Success" (the mechglue
 * maps the krb5 mechanism's minor 0 to a code of its own, which displays as
 * that). When the minor text is there, the generic major texts of
 * GSS_S_FAILURE ("Unspecified GSS failure. Minor code may provide more
 * information") and GSS_S_NO_CRED are left out: the minor one is the reason
 * (e.g. the KDC's "Preauthentication failed" for a wrong password). */
static void
gss_error_text(OM_uint32 major, OM_uint32 minor, const char *what, struct buf *out)
{
    OM_uint32 routine = GSS_ROUTINE_ERROR(major);
    struct buf mech;
    bool has_minor, show_major;

    buf_init(&mech, 512);
    if (minor != 0)
        append_status(&mech, minor, GSS_C_MECH_CODE);
    has_minor = mech.len > 0 && !(mech.len == 7 && memcmp(mech.data, "Success", 7) == 0);
    show_major = !has_minor || (routine != GSS_S_FAILURE && routine != GSS_S_NO_CRED) ||
                 GSS_SUPPLEMENTARY_INFO(major) != 0;
    out->len = 0;
    (void)buf_printf(out, "%s: ", what);
    if (show_major)
        append_status(out, major, GSS_C_GSS_CODE);
    if (has_minor) {
        if (show_major)
            (void)buf_append_str(out, "; ");
        (void)buf_append(out, mech.data, mech.len);
    }
    buf_free(&mech);
}

/* The seed's codes where Windows' Kerberos package uses them; the krb5 error
 * (the GSS minor status from the krb5 mechanism) decides first because it is
 * the more precise of the two. */
static SECURITY_STATUS
map_minor(OM_uint32 minor, bool is_initiator, bool is_reply)
{
    switch ((krb5_error_code)minor) {
    case KRB5KRB_AP_ERR_SKEW:
        return SEC_E_TIME_SKEW;
    case KRB5KRB_AP_ERR_REPEAT: /* replayed AP-REQ: the token is refused */
        return SEC_E_INVALID_TOKEN;
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
    case KRB5_REALM_UNKNOWN:
        return SEC_E_TARGET_UNKNOWN;
    case KRB5KRB_AP_WRONG_PRINC:
    case KRB5_KT_NOTFOUND:
    case KRB5KRB_AP_ERR_NOKEY:
    case KRB5KRB_AP_ERR_BADKEYVER:
    case KRB5KRB_AP_ERR_NOT_US:
        return SEC_E_WRONG_PRINCIPAL;
    case KRB5_KDC_UNREACH:
    case KRB5_REALM_CANT_RESOLVE:
        return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    case KRB5_FCC_NOFILE:
    case KRB5_CC_NOTFOUND:
    case KRB5_CC_END:
    case KRB5_CC_NOSUPP:
    case KRB5_KT_END:
        return SEC_E_NO_CREDENTIALS;
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
    case KRB5KDC_ERR_CLIENT_REVOKED:
    case KRB5KDC_ERR_KEY_EXP:
    case KRB5_PREAUTH_FAILED:
        return SEC_E_LOGON_DENIED;
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
        /* initiator, first leg: the AS reply did not decrypt (wrong password);
         * initiator, reply: the AP-REP did not verify; acceptor: bad token. */
        if (is_initiator)
            return is_reply ? SEC_E_MUTUAL_AUTH_FAILED : SEC_E_LOGON_DENIED;
        return SEC_E_INVALID_TOKEN;
    case KRB5KRB_AP_ERR_MUT_FAIL:
        return SEC_E_MUTUAL_AUTH_FAILED;
    case KRB5KRB_AP_ERR_TKT_EXPIRED:
    case KRB5KRB_AP_ERR_TKT_NYV:
        return SEC_E_CONTEXT_EXPIRED;
    case KRB5KRB_AP_ERR_MODIFIED:
    case KRB5KRB_AP_ERR_BADVERSION:
    case KRB5KRB_AP_ERR_MSG_TYPE:
    case KRB5KRB_AP_ERR_INAPP_CKSUM:
        return SEC_E_INVALID_TOKEN;
    case ENOMEM:
        return SEC_E_INSUFFICIENT_MEMORY;
    default:
        return 0; /* not decisive: look at the major status */
    }
}

SECURITY_STATUS
krb_map_error(OM_uint32 major, OM_uint32 minor, bool is_initiator, bool is_reply, const char *what,
              struct buf *error_text)
{
    SECURITY_STATUS st;

    if (error_text != NULL)
        gss_error_text(major, minor, what, error_text);
    switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_BAD_BINDINGS:
        return SEC_E_BAD_BINDINGS;
    case GSS_S_BAD_SIG:
        return SEC_E_MESSAGE_ALTERED;
    case GSS_S_CONTEXT_EXPIRED:
        return SEC_E_CONTEXT_EXPIRED;
    case GSS_S_NO_CONTEXT:
        return SEC_E_NO_CONTEXT;
    case GSS_S_BAD_NAME:
    case GSS_S_BAD_NAMETYPE:
        return SEC_E_TARGET_UNKNOWN;
    default:
        break;
    }
    st = minor != 0 ? map_minor(minor, is_initiator, is_reply) : 0;
    if (st != 0)
        return st;
    switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_DEFECTIVE_TOKEN:
    case GSS_S_BAD_MECH:
    case GSS_S_DEFECTIVE_CREDENTIAL:
        return is_initiator && is_reply ? SEC_E_MUTUAL_AUTH_FAILED : SEC_E_INVALID_TOKEN;
    case GSS_S_NO_CRED:
        return SEC_E_NO_CREDENTIALS;
    case GSS_S_CREDENTIALS_EXPIRED:
        return is_initiator ? SEC_E_NO_CREDENTIALS : SEC_E_CONTEXT_EXPIRED;
    case GSS_S_UNAVAILABLE:
        return SEC_E_UNSUPPORTED_FUNCTION;
    default:
        break;
    }
    if (major & GSS_S_DUPLICATE_TOKEN)
        return SEC_E_INVALID_TOKEN;
    if (major & (GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN))
        return SEC_E_OUT_OF_SEQUENCE;
    return SEC_E_INTERNAL_ERROR;
}

/* ---- Names --------------------------------------------------------------- */

char *
krb_name_text(gss_name_t name)
{
    OM_uint32 major, minor;
    gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
    char *s;

    major = gss_display_name(&minor, name, &text, NULL);
    if (GSS_ERROR(major))
        return NULL;
    s = malloc(text.length + 1);
    if (s != NULL) {
        memcpy(s, text.value, text.length);
        s[text.length] = '\0';
    }
    gss_release_buffer(&minor, &text);
    return s;
}

/* "HTTP/host" and "HTTP@host" become the host-based service "HTTP@host";
 * "service/host@REALM" (a full principal) and anything else with an '@'
 * after a '/' is imported as a krb5 principal name. */
SECURITY_STATUS
krb_import_target(const char *target, gss_name_t *name_out, struct buf *error_text)
{
    OM_uint32 major, minor;
    gss_buffer_desc in;
    gss_OID type;
    char *text = NULL;
    size_t len;

    *name_out = GSS_C_NO_NAME;
    if (target == NULL || target[0] == '\0') {
        if (error_text != NULL)
            (void)buf_append_str(error_text, "Kerberos needs a target name (SPN)");
        return SEC_E_TARGET_UNKNOWN;
    }
    len = strlen(target);
    if (len > 1024)
        return SEC_E_TARGET_UNKNOWN;
    text = strdup(target);
    if (text == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    char *slash = strchr(text, '/');
    char *at = strchr(text, '@');
    if (slash != NULL && at != NULL && at > slash) {
        type = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
    } else if (slash != NULL) {
        *slash = '@';
        type = GSS_C_NT_HOSTBASED_SERVICE;
    } else if (at != NULL) {
        type = GSS_C_NT_HOSTBASED_SERVICE;
    } else {
        type = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
    }
    in.value = text;
    in.length = len;
    major = gss_import_name(&minor, &in, type, name_out);
    free(text);
    if (GSS_ERROR(major))
        return krb_map_error(major, minor, true, false, "cannot parse the target name", error_text);
    return SEC_E_OK;
}

/* "DOMAIN\user", "user@REALM", or user + domain: one principal text. */
static char *
user_principal(const char *user, const char *domain)
{
    const char *bs = strchr(user, '\\');
    char *out;
    size_t n;

    if (bs != NULL) {
        n = strlen(user) + 2;
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n, "%s@%.*s", bs + 1, (int)(bs - user), user);
    } else if (strchr(user, '@') != NULL || domain == NULL || domain[0] == '\0') {
        out = strdup(user);
    } else {
        n = strlen(user) + strlen(domain) + 2;
        out = malloc(n);
        if (out != NULL)
            snprintf(out, n, "%s@%s", user, domain);
    }
    if (out == NULL)
        return NULL;
    /* Realms are upper case by convention; Windows users type "example.com". */
    char *at = strchr(out, '@');
    for (char *p = at; p != NULL && *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    }
    return out;
}

/* ---- Credentials --------------------------------------------------------- */

void
krb_free_cred(void *pkg_cred)
{
    struct krb_cred *cred = pkg_cred;
    OM_uint32 minor;

    if (cred == NULL)
        return;
    if (cred->gss != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &cred->gss);
    if (cred->ident_number != 0)
        krb_ident_forget_cred(cred->ident_number);
    krb_keytab_free(cred->keytab); /* after the GSSAPI credential that uses it */
    krb_replay_close(cred->replay);
    free(cred->principal);
    free(cred->ccache_dir);
    free(cred);
}

static SECURITY_STATUS
import_principal(const char *text, bool is_service, gss_name_t *name_out)
{
    OM_uint32 major, minor;

    if (is_service)
        return krb_import_target(text, name_out, NULL);
    gss_buffer_desc in = {strlen(text), (void *)text};
    major = gss_import_name(&minor, &in, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, name_out);
    return GSS_ERROR(major) ? SEC_E_UNKNOWN_CREDENTIALS : SEC_E_OK;
}

/* The clock skew MIT allows (libdefaults clockskew, seconds; 300 by default). */
static uint32_t
clock_skew_s(void)
{
    krb5_context kctx = NULL;
    profile_t profile = NULL;
    int skew = 300;

    if (krb5_init_context(&kctx) != 0)
        return (uint32_t)skew;
    if (krb5_get_profile(kctx, &profile) == 0) {
        if (profile_get_integer(profile, "libdefaults", "clockskew", NULL, 300, &skew) != 0 ||
            skew < 0)
            skew = 300;
        profile_release(profile);
    }
    krb5_free_context(kctx);
    return (uint32_t)skew;
}

/* The acceptor's GSSAPI credential from keytab (NULL: the default one), with
 * our replay cache in place of MIT's (replay.h: MIT's is told "none" for this
 * credential only) unless the environment names one of MIT's or our file
 * cannot be used (not ours): then MIT's stays. The cache is opened once MIT
 * accepted the credential, so a failed acquisition leaves no file behind.
 * MIT's status in *major and *minor; SEC_E_INSUFFICIENT_MEMORY when our
 * cache could not be made, else SEC_E_OK. */
static SECURITY_STATUS
acquire_acceptor(gss_name_t name, gss_cred_usage_t usage, const char *keytab, struct krb_cred *cred,
                 OM_uint32 *major, OM_uint32 *minor, OM_uint32 *lifetime)
{
    gss_key_value_element_desc kv[2];
    gss_key_value_set_desc store = {0, kv};
    char *path = krb_replay_default_path();
    OM_uint32 tmp;

    if (keytab != NULL)
        kv[store.count++] = (gss_key_value_element_desc){"keytab", keytab};
    if (path != NULL)
        kv[store.count++] = (gss_key_value_element_desc){"rcache", "none:"};
    *major = gss_acquire_cred_from(minor, name, GSS_C_INDEFINITE, &krb_mech_set, usage, &store,
                                   &cred->gss, NULL, lifetime);
    if (!GSS_ERROR(*major)) {
        cred->skew_s = clock_skew_s();
        cred->ident_number = krb_ident_cred_number();
    }
    if (GSS_ERROR(*major) || path == NULL) {
        free(path);
        return SEC_E_OK;
    }
    SECURITY_STATUS st = krb_replay_open(path, cred->skew_s, &cred->replay, NULL);
    free(path);
    if (st == SEC_E_OK)
        return SEC_E_OK;
    gss_release_cred(&tmp, &cred->gss);
    if (st == SEC_E_INSUFFICIENT_MEMORY)
        return st;
    store.count--; /* MIT's own cache after all */
    *major = gss_acquire_cred_from(minor, name, GSS_C_INDEFINITE, &krb_mech_set, usage, &store,
                                   &cred->gss, NULL, lifetime);
    return SEC_E_OK;
}

SECURITY_STATUS
krb_acquire_cred(const struct sspi_acquire *args, void **pkg_cred_out)
{
    struct krb_cred *cred = NULL;
    gss_name_t name = GSS_C_NO_NAME;
    gss_name_t actual = GSS_C_NO_NAME;
    OM_uint32 major = GSS_S_COMPLETE, minor = 0, lifetime = 0;
    gss_cred_usage_t usage;
    char *principal = NULL;
    SECURITY_STATUS st;

    *pkg_cred_out = NULL;
    cred = calloc(1, sizeof(*cred));
    if (cred == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    cred->gss = GSS_C_NO_CREDENTIAL;
    cred->is_initiator = (args->use & SECPKG_CRED_OUTBOUND) != 0;
    cred->is_acceptor = (args->use & SECPKG_CRED_INBOUND) != 0;
    usage = cred->is_initiator && cred->is_acceptor ? GSS_C_BOTH
            : cred->is_acceptor                     ? GSS_C_ACCEPT
                                                    : GSS_C_INITIATE;

    if (cred->is_initiator && args->has_identity && args->user != NULL && args->user[0] != '\0') {
        principal = user_principal(args->user, args->domain);
        if (principal == NULL) {
            st = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
        st = import_principal(principal, false, &name);
        if (st != SEC_E_OK)
            goto cleanup;
    } else if (args->principal != NULL && args->principal[0] != '\0') {
        /* pszPrincipal names the acceptor's service (or the initiator's ccache). */
        st = import_principal(args->principal, cred->is_acceptor, &name);
        if (st != SEC_E_OK)
            goto cleanup;
    }

    if (cred->is_initiator && args->has_identity && args->password.len > 0) {
        /* MIT gets the TGT into a private MEMORY ccache owned by the credential. */
        gss_buffer_desc pw = {args->password.len, args->password.bytes};
        major = gss_acquire_cred_with_password(&minor, name, &pw, GSS_C_INDEFINITE, &krb_mech_set,
                                               GSS_C_INITIATE, &cred->gss, NULL, &lifetime);
    } else if (cred->is_acceptor) {
        /* A private MEMORY copy of a FILE keytab (keytab.h): MIT would read
         * the file on every handshake. Unreadable: MIT says why below. */
        bool has_keytab = args->acceptor != NULL && args->acceptor->Keytab != NULL &&
                          args->acceptor->Keytab[0] != '\0';
        if (has_keytab && krb_keytab_load(args->acceptor->Keytab, &cred->keytab, NULL) ==
                              SEC_E_INSUFFICIENT_MEMORY) {
            st = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
        const char *keytab = !has_keytab ? NULL
                                         : (cred->keytab != NULL ? krb_keytab_name(cred->keytab)
                                                                 : args->acceptor->Keytab);
        st = acquire_acceptor(name, usage, keytab, cred, &major, &minor, &lifetime);
        if (st != SEC_E_OK)
            goto cleanup;
    } else if (cred->is_initiator && args->initiator_ccache != NULL) {
        /* GH_INITIATOR_AUTH_DATA: a given ccache (a client's delegated TGT). */
        gss_key_value_element_desc el = {"ccache", args->initiator_ccache};
        gss_key_value_set_desc store = {1, &el};
        major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, &krb_mech_set, usage, &store,
                                      &cred->gss, NULL, &lifetime);
    } else {
        major = gss_acquire_cred(&minor, name, GSS_C_INDEFINITE, &krb_mech_set, usage, &cred->gss,
                                 NULL, &lifetime);
    }
    if (GSS_ERROR(major)) {
        st = krb_map_error(major, minor, cred->is_initiator, false, "cannot acquire credentials",
                           args->error_text);
        /* Without pre-authentication the KDC answers anyway, and the reply
         * only fails to decrypt: say what that means. */
        if (args->error_text != NULL && principal != NULL &&
            (krb5_error_code)minor == KRB5KRB_AP_ERR_BAD_INTEGRITY)
            (void)buf_printf(args->error_text, " (wrong password for %s?)", principal);
        if (st == SEC_E_INTERNAL_ERROR || st == SEC_E_INVALID_TOKEN)
            st = SEC_E_NO_CREDENTIALS;
        goto cleanup;
    }
    /* Resolve the name now (it is what QueryCredentialsAttributes reports). */
    if (cred->is_initiator) {
        major = gss_inquire_cred(&minor, cred->gss, &actual, &lifetime, NULL, NULL);
        if (GSS_ERROR(major)) {
            st = krb_map_error(major, minor, true, false, "cannot use credentials",
                               args->error_text);
            if (st == SEC_E_INTERNAL_ERROR)
                st = SEC_E_NO_CREDENTIALS;
            goto cleanup;
        }
        cred->principal = krb_name_text(actual);
    } else if (name != GSS_C_NO_NAME) {
        cred->principal = krb_name_text(name);
    }
    if (lifetime != GSS_C_INDEFINITE && lifetime != 0)
        cred->expiry = time(NULL) + (time_t)lifetime;
    if (cred->is_acceptor && args->acceptor != NULL)
        cred->lookup_names = (args->acceptor->Flags & GH_ACCEPTOR_GROUP_NAMES) != 0;
    if (cred->is_acceptor && args->acceptor != NULL && args->acceptor->DelegatedCcacheDir != NULL &&
        args->acceptor->DelegatedCcacheDir[0] != '\0') {
        cred->ccache_dir = strdup(args->acceptor->DelegatedCcacheDir);
        if (cred->ccache_dir == NULL) {
            st = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
    }
    *pkg_cred_out = cred;
    cred = NULL;
    st = SEC_E_OK;
cleanup:
    if (name != GSS_C_NO_NAME)
        gss_release_name(&minor, &name);
    if (actual != GSS_C_NO_NAME)
        gss_release_name(&minor, &actual);
    free(principal);
    krb_free_cred(cred);
    return st;
}

SECURITY_STATUS
krb_query_cred(void *pkg_cred, unsigned long attribute, void *buffer)
{
    struct krb_cred *cred = pkg_cred;

    if (attribute != SECPKG_CRED_ATTR_NAMES)
        return SEC_E_UNSUPPORTED_FUNCTION;
    SecPkgCredentials_NamesA *names = buffer;
    names->sUserName = sspi_strdup(cred->principal != NULL ? cred->principal : "");
    return names->sUserName == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}
