// SPDX-License-Identifier: MIT
// The clock skew of a refused AP-REQ (skew.h), with MIT's public krb5 API:
// krb5_decode_ticket, krb5_server_decrypt_ticket_keytab, krb5_c_decrypt with
// the session key (key usage 11, RFC 4120 7.5.1), then our strict DER read of
// the Authenticator's ctime (KerberosTime: GeneralizedTime "YYYYMMDDHHMMSSZ").
#include "sspi/kerberos/skew.h"

#include <stdbool.h>
#include <stdlib.h>

#include <krb5/krb5.h>

#include "base/secret.h"
#include "sspi/der.h"
#include "sspi/kerberos/replay.h"

#define DER_TAG_APPLICATION_2     0x62
#define DER_TAG_GENERALIZED_TIME  0x18
#define KERBEROS_TIME_LEN         15 /* YYYYMMDDHHMMSSZ */
#define AUTHENTICATOR_CTIME_FIELD 5

static bool
digits(const uint8_t *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* KerberosTime (RFC 4120 5.2.3): exactly "YYYYMMDDHHMMSSZ", UTC. */
static bool
kerberos_time(struct slice v, time_t *out)
{
    int year, mon, day, hour, min, sec;

    if (v.len != KERBEROS_TIME_LEN || v.ptr[14] != 'Z' || !digits(v.ptr, 4, &year) ||
        !digits(v.ptr + 4, 2, &mon) || !digits(v.ptr + 6, 2, &day) ||
        !digits(v.ptr + 8, 2, &hour) || !digits(v.ptr + 10, 2, &min) ||
        !digits(v.ptr + 12, 2, &sec))
        return false;
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 60)
        return false;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    *out = timegm(&tm);
    return *out != (time_t)-1;
}

SECURITY_STATUS
krb_authenticator_ctime(struct slice der, time_t *ctime_out)
{
    struct der d = der_of(der);
    struct slice app, seq, field, value;
    uint8_t tag;

    if (!der_expect(&d, DER_TAG_APPLICATION_2, &app) || d.left != 0)
        return SEC_E_INVALID_TOKEN;
    d = der_of(app);
    if (!der_expect(&d, DER_TAG_SEQUENCE, &seq) || d.left != 0)
        return SEC_E_INVALID_TOKEN;
    d = der_of(seq);
    /* Fields in ascending tag order; [5] ctime is required. */
    while (d.left > 0) {
        if (!der_next(&d, &tag, &field))
            return SEC_E_INVALID_TOKEN;
        if (tag != DER_CTX(AUTHENTICATOR_CTIME_FIELD))
            continue;
        struct der f = der_of(field);
        if (!der_expect(&f, DER_TAG_GENERALIZED_TIME, &value) || f.left != 0 ||
            !kerberos_time(value, ctime_out))
            return SEC_E_INVALID_TOKEN;
        return SEC_E_OK;
    }
    return SEC_E_INVALID_TOKEN;
}

/* The authenticator's plaintext, decrypted with the ticket's session key. */
static SECURITY_STATUS
decrypt_authenticator(krb5_context kc, const krb5_keyblock *session, struct slice cipher,
                      krb5_data *plain)
{
    krb5_enc_data enc = {
        .enctype = session->enctype,
        .ciphertext = {.length = (unsigned int)cipher.len, .data = (char *)cipher.ptr}};

    plain->length = (unsigned int)cipher.len;
    plain->data = malloc(cipher.len > 0 ? cipher.len : 1);
    if (plain->data == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (krb5_c_decrypt(kc, session, KRB5_KEYUSAGE_AP_REQ_AUTH, NULL, &enc, plain) != 0) {
        free(plain->data);
        plain->data = NULL;
        return SEC_E_INVALID_TOKEN;
    }
    return SEC_E_OK;
}

SECURITY_STATUS
krb_skew_seconds(const char *keytab, struct slice token, time_t now, int64_t *skew_out)
{
    struct krb_ap_req_view ap;
    krb5_context kc = NULL;
    krb5_keytab kt = NULL;
    krb5_ticket *ticket = NULL;
    krb5_data plain = {0};
    time_t ctime = 0;
    SECURITY_STATUS st = krb_ap_req_view(token, &ap);

    if (st != SEC_E_OK)
        return st;
    if (ap.ticket.len > UINT32_MAX || ap.authenticator.len > UINT32_MAX)
        return SEC_E_INVALID_TOKEN;
    if (krb5_init_context(&kc) != 0)
        return SEC_E_INSUFFICIENT_MEMORY;
    krb5_data td = {.length = (unsigned int)ap.ticket.len, .data = (char *)ap.ticket.ptr};
    if (krb5_decode_ticket(&td, &ticket) != 0) {
        st = SEC_E_INVALID_TOKEN;
        goto done;
    }
    if ((keytab != NULL ? krb5_kt_resolve(kc, keytab, &kt) : krb5_kt_default(kc, &kt)) != 0 ||
        krb5_server_decrypt_ticket_keytab(kc, kt, ticket) != 0) {
        st = SEC_E_NO_CREDENTIALS;
        goto done;
    }
    st = decrypt_authenticator(kc, ticket->enc_part2->session, ap.authenticator, &plain);
    if (st == SEC_E_OK)
        st = krb_authenticator_ctime(slice_make(plain.data, plain.length), &ctime);
    if (st == SEC_E_OK)
        *skew_out = (int64_t)ctime - (int64_t)now;
done:
    if (plain.data != NULL) {
        secret_wipe(plain.data, plain.length); /* the authenticator holds a subkey */
        free(plain.data);
    }
    krb5_free_ticket(kc, ticket);
    if (kt != NULL)
        krb5_kt_close(kc, kt);
    krb5_free_context(kc);
    return st;
}
