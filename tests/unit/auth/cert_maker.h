// SPDX-License-Identifier: MIT
// Builds test client certificates with OpenSSL's API (a fresh P-256 key each),
// for the certificate identity, mapping and engine tests: any subject or issuer
// (including bytes the openssl command line cannot write, such as a NUL inside
// a CN) and any number of msUPN otherNames of any ASN.1 type.
#ifndef GH_TESTS_CERT_MAKER_H
#define GH_TESTS_CERT_MAKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct cert_spec {
    /* "type", "value" pairs ending with NULL; value_len 0: strlen(value) */
    const char *subject[16];
    const char *issuer[16];
    size_t subject_nul_at; /* > 0: the first subject value gets a NUL byte at this index */
    const char *upns[3];   /* msUPN values (UTF8String unless upn_as_ia5) */
    bool upn_as_ia5;
    bool two_san; /* add a second, empty-ish subjectAltName extension */
};

static bool
cert_name_add(X509_NAME *name, const char *const *pairs, size_t nul_at)
{
    for (size_t i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2) {
        unsigned char buf[1100];
        size_t len = strlen(pairs[i + 1]);
        if (len >= sizeof(buf))
            return false;
        memcpy(buf, pairs[i + 1], len);
        if (i == 0 && nul_at > 0 && nul_at < len)
            buf[nul_at] = 0;
        if (X509_NAME_add_entry_by_txt(name, pairs[i], MBSTRING_UTF8, buf, (int)len, -1, 0) != 1)
            return false;
    }
    return true;
}

static GENERAL_NAME *
cert_upn_name(const char *upn, bool as_ia5)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_TYPE *v = ASN1_TYPE_new();
    ASN1_STRING *s = ASN1_STRING_type_new(as_ia5 ? V_ASN1_IA5STRING : V_ASN1_UTF8STRING);
    ASN1_STRING_set(s, upn, (int)strlen(upn));
    ASN1_TYPE_set(v, as_ia5 ? V_ASN1_IA5STRING : V_ASN1_UTF8STRING, s);
    GENERAL_NAME_set0_othername(gn, OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1), v);
    return gn;
}

/* The DER of a certificate made from spec, malloc'd into *der (free()). */
static bool
cert_make(const struct cert_spec *spec, uint8_t **der, size_t *der_len)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    bool ok = key != NULL && x != NULL;

    ok = ok && X509_set_version(x, 2) == 1;
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), 7) == 1;
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL;
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL;
    ok = ok && cert_name_add(X509_get_subject_name(x), spec->subject, spec->subject_nul_at);
    ok = ok && cert_name_add(X509_get_issuer_name(x), spec->issuer, 0);
    ok = ok && X509_set_pubkey(x, key) == 1;
    if (ok && spec->upns[0] != NULL) {
        GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
        for (size_t i = 0; i < 3 && spec->upns[i] != NULL; i++)
            sk_GENERAL_NAME_push(names, cert_upn_name(spec->upns[i], spec->upn_as_ia5));
        ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_APPEND) == 1;
        if (ok && spec->two_san)
            ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_APPEND) == 1;
        GENERAL_NAMES_free(names);
    }
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    unsigned char *out = NULL;
    int n = ok ? i2d_X509(x, &out) : -1;
    if (n > 0) {
        *der = malloc((size_t)n);
        memcpy(*der, out, (size_t)n);
        *der_len = (size_t)n;
        OPENSSL_free(out);
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return n > 0;
}

#endif
