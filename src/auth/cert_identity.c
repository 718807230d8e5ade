// SPDX-License-Identifier: MIT
// From a client certificate's DER to the fields the mapping rules read.
// OpenSSL does the ASN.1 (d2i_X509); this file adds the limits and refuses
// what would make a rule match the wrong thing: a value with an embedded NUL
// ("CN=admin\0.evil.example" must never compare equal to "admin"), control
// bytes, trailing data after the certificate, or an ambiguous subjectAltName.
#include "auth/cert_identity.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gatehouse/error.h>

/* msUPN: the Microsoft UPN otherName of the subjectAltName ([MS-WCCE] 2.2.2.7.5). */
#define OID_MS_UPN "1.3.6.1.4.1.311.20.2.3"

static int why_set(char *why, size_t why_len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
why_set(char *why, size_t why_len, int err, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && why_len > 0) {
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* An ASN.1 string as UTF-8 into *out (malloc'd). GH_EPROTO for bytes a rule
 * could be fooled by, GH_ELIMIT past CERT_MAX_VALUE_BYTES. */
static int
string_utf8(const ASN1_STRING *s, char **out)
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);

    *out = NULL;
    if (n < 0)
        return GH_EPROTO;
    if ((size_t)n > CERT_MAX_VALUE_BYTES) {
        OPENSSL_free(utf8);
        return GH_ELIMIT;
    }
    for (int i = 0; i < n; i++) {
        if (utf8[i] < 0x20 || utf8[i] == 0x7F) {
            OPENSSL_free(utf8);
            return GH_EPROTO;
        }
    }
    *out = strndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return *out == NULL ? GH_ENOMEM : GH_OK;
}

static void
attrs_free(struct cert_attr *attrs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(attrs[i].value);
    free(attrs);
}

static int
read_name(const X509_NAME *name, struct cert_attr **attrs_out, size_t *count_out)
{
    int n = X509_NAME_entry_count(name);
    struct cert_attr *attrs = NULL;
    size_t count = 0;
    int err = GH_OK;

    if (n < 0 || n > CERT_MAX_NAME_ENTRIES)
        return GH_ELIMIT;
    if (n > 0 && (attrs = calloc((size_t)n, sizeof(*attrs))) == NULL)
        return GH_ENOMEM;
    for (int i = 0; err == GH_OK && i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
        int nid = OBJ_obj2nid(obj);
        const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;

        if (sn != NULL && strlen(sn) < CERT_MAX_TYPE_BYTES) {
            memcpy(attrs[i].type, sn, strlen(sn) + 1);
        } else {
            int len = OBJ_obj2txt(attrs[i].type, sizeof(attrs[i].type), obj, 1);
            if (len <= 0 || (size_t)len >= sizeof(attrs[i].type)) {
                err = GH_ELIMIT;
                break;
            }
        }
        err = string_utf8(X509_NAME_ENTRY_get_data(e), &attrs[i].value);
        if (err == GH_OK)
            count++;
    }
    if (err != GH_OK) {
        attrs_free(attrs, count);
        return err;
    }
    *attrs_out = attrs;
    *count_out = count;
    return GH_OK;
}

/* The msUPN otherNames of the subjectAltName. */
static int
read_upn(X509 *x, struct cert_identity *id, char *why, size_t why_len)
{
    int crit = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    ASN1_OBJECT *upn_oid = NULL;
    int err = GH_OK;

    if (names == NULL) {
        if (crit == -2)
            return why_set(why, why_len, GH_EPROTO, "two subjectAltName extensions");
        if (crit >= 0)
            return why_set(why, why_len, GH_EPROTO, "subjectAltName does not parse");
        return GH_OK; /* crit == -1: no subjectAltName */
    }
    upn_oid = OBJ_txt2obj(OID_MS_UPN, 1);
    if (upn_oid == NULL) {
        err = GH_ENOMEM;
        goto cleanup;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_OTHERNAME || OBJ_cmp(gn->d.otherName->type_id, upn_oid) != 0)
            continue;
        const ASN1_TYPE *v = gn->d.otherName->value;
        if (v == NULL || v->type != V_ASN1_UTF8STRING) {
            err = why_set(why, why_len, GH_EPROTO, "msUPN otherName is not a UTF8String");
            goto cleanup;
        }
        id->upn_count++;
        if (id->upn != NULL)
            continue; /* several: the rules refuse to pick one (certmap.c) */
        err = string_utf8(v->value.utf8string, &id->upn);
        if (err != GH_OK) {
            why_set(why, why_len, err, "msUPN otherName: %s",
                    err == GH_ELIMIT ? "too long" : "invalid characters");
            goto cleanup;
        }
    }
cleanup:
    ASN1_OBJECT_free(upn_oid);
    GENERAL_NAMES_free(names);
    return err;
}

int
cert_identity_parse(const uint8_t *der, size_t len, struct cert_identity **id_out, char *why,
                    size_t why_len)
{
    struct cert_identity *id = NULL;
    X509 *x = NULL;
    const unsigned char *p = der;
    int err;

    *id_out = NULL;
    if (why != NULL && why_len > 0)
        why[0] = 0;
    if (len == 0 || der == NULL)
        return why_set(why, why_len, GH_EPROTO, "empty certificate");
    if (len > CERT_MAX_DER_BYTES)
        return why_set(why, why_len, GH_ELIMIT, "certificate larger than %d bytes",
                       CERT_MAX_DER_BYTES);
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL)
        return why_set(why, why_len, GH_EPROTO, "certificate does not parse as X.509 DER");
    if (p != der + len) {
        err = why_set(why, why_len, GH_EPROTO, "bytes after the certificate");
        goto cleanup;
    }
    id = calloc(1, sizeof(*id));
    if (id == NULL) {
        err = GH_ENOMEM;
        goto cleanup;
    }
    if (EVP_Digest(der, len, id->fingerprint, NULL, EVP_sha256(), NULL) != 1) {
        err = GH_ENOMEM;
        goto cleanup;
    }
    err = read_name(X509_get_subject_name(x), &id->subject, &id->subject_count);
    if (err != GH_OK) {
        why_set(why, why_len, err, "subject: %s",
                err == GH_ELIMIT ? "too many or too long attributes" : "invalid attribute value");
        goto cleanup;
    }
    err = read_name(X509_get_issuer_name(x), &id->issuer, &id->issuer_count);
    if (err != GH_OK) {
        why_set(why, why_len, err, "issuer: %s",
                err == GH_ELIMIT ? "too many or too long attributes" : "invalid attribute value");
        goto cleanup;
    }
    err = read_upn(x, id, why, why_len);
    if (err != GH_OK)
        goto cleanup;
    *id_out = id;
    id = NULL;
cleanup:
    cert_identity_destroy(id);
    X509_free(x);
    return err;
}

void
cert_identity_destroy(struct cert_identity *id)
{
    if (id == NULL)
        return;
    attrs_free(id->subject, id->subject_count);
    attrs_free(id->issuer, id->issuer_count);
    free(id->upn);
    free(id);
}

void
cert_identity_fingerprint_hex(const struct cert_identity *id, char hex_out[65])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < CERT_FINGERPRINT_BYTES; i++) {
        hex_out[2 * i] = digits[id->fingerprint[i] >> 4];
        hex_out[2 * i + 1] = digits[id->fingerprint[i] & 0xF];
    }
    hex_out[64] = 0;
}
