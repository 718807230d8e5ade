// SPDX-License-Identifier: MIT
// Unit tests for cert_identity.c: a client certificate's DER to its identity
// fields, and every way a hostile certificate is refused (table below).
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/cert_identity.h"
#include "cert_maker.h"
#include "harness/check.h"

static uint8_t *
read_vector(const char *name, size_t *len)
{
    char path[512];
    const char *dir = getenv("GH_VECTORS");
    snprintf(path, sizeof(path), "%s/certs/%s", dir != NULL ? dir : "tests/vectors", name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f == NULL)
        return NULL;
    uint8_t *buf = malloc(70000);
    *len = fread(buf, 1, 70000, f);
    fclose(f);
    return buf;
}

/* The vector written by the openssl command line (tests/vectors/certs/make.sh). */
static void
test_openssl_vector(void)
{
    size_t len = 0, fp_len = 0;
    uint8_t *der = read_vector("upn_alice.der", &len);
    uint8_t *fp = read_vector("upn_alice.sha256", &fp_len);
    struct cert_identity *id = NULL;
    char hex[65], want[65] = "";

    CHECK_EQ(cert_identity_parse(der, len, &id, NULL, 0), GH_OK);
    CHECK(id != NULL);
    /* the fingerprint openssl x509 -fingerprint -sha256 printed, without colons */
    for (size_t i = 0, k = 0; i < fp_len && k < 64; i++) {
        if (fp[i] != ':' && fp[i] != '\n')
            want[k++] = (char)(fp[i] | 0x20);
    }
    cert_identity_fingerprint_hex(id, hex);
    CHECK_STR_EQ(hex, want);
    static const char *const types[] = {"DC", "DC", "O", "OU", "OU", "CN"};
    static const char *const values[] = {"org",   "example", "Example Org",
                                         "Staff", "Admins",  "Alice Example"};
    CHECK_EQ(id->subject_count, 6);
    for (size_t i = 0; i < 6 && i < id->subject_count; i++) {
        CHECK_STR_EQ(id->subject[i].type, types[i]);
        CHECK_STR_EQ(id->subject[i].value, values[i]);
    }
    CHECK_EQ(id->issuer_count, 6); /* self-signed */
    CHECK_STR_EQ(id->upn, "alice@example.org");
    CHECK_EQ(id->upn_count, 1);
    cert_identity_destroy(id);

    /* trailing data after the certificate, and every truncation, are refused */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    char why[128];
    CHECK_EQ(cert_identity_parse(longer, len + 1, &id, why, sizeof(why)), GH_EPROTO);
    CHECK(strstr(why, "after") != NULL);
    for (size_t cut = 0; cut < len; cut += 7) {
        CHECK_EQ(cert_identity_parse(der, cut, &id, why, sizeof(why)), GH_EPROTO);
        CHECK(id == NULL);
    }
    free(longer);
    free(der);
    free(fp);
}

static const struct {
    const char *name;
    struct cert_spec spec;
    int want;
    const char *want_upn; /* on GH_OK */
    size_t want_upn_count;
    const char *want_why; /* substring, on failure */
} cases[] = {
    {"plain subject, no subjectAltName",
     {.subject = {"CN", "bob", "O", "Example"}, .issuer = {"CN", "Example CA"}},
     GH_OK,
     NULL,
     0,
     NULL},
    {"msUPN otherName ([MS-WCCE] 2.2.2.7.5)",
     {.subject = {"CN", "alice"}, .issuer = {"CN", "CA"}, .upns = {"alice@example.org"}},
     GH_OK,
     "alice@example.org",
     1,
     NULL},
    {"two msUPNs: the first kept, the count says two",
     {.subject = {"CN", "x"}, .issuer = {"CN", "CA"}, .upns = {"a@example.org", "b@example.org"}},
     GH_OK,
     "a@example.org",
     2,
     NULL},
    {"unicode subject (UTF-8 kept)",
     {.subject = {"CN", "J\xc3\xb6rg \xe6\x97\xa5\xe6\x9c\xac", "O", "Quote \"and\", comma"},
      .issuer = {"CN", "CA"}},
     GH_OK,
     NULL,
     0,
     NULL},
    {"unknown attribute type shown as its OID",
     {.subject = {"1.2.3.4.5", "odd", "CN", "y"}, .issuer = {"CN", "CA"}},
     GH_OK,
     NULL,
     0,
     NULL},
    {"msUPN that is not a UTF8String",
     {.subject = {"CN", "x"}, .issuer = {"CN", "CA"}, .upns = {"a@b.org"}, .upn_as_ia5 = true},
     GH_EPROTO,
     NULL,
     0,
     "UTF8String"},
    {"NUL inside the CN (CN=admin\\0.evil)",
     {.subject = {"CN", "admin..evil"}, .issuer = {"CN", "CA"}, .subject_nul_at = 5},
     GH_EPROTO,
     NULL,
     0,
     "subject"},
    {"control byte in a value",
     {.subject = {"CN", "line\nbreak"}, .issuer = {"CN", "CA"}},
     GH_EPROTO,
     NULL,
     0,
     "subject"},
    {"two subjectAltName extensions",
     {.subject = {"CN", "x"}, .issuer = {"CN", "CA"}, .upns = {"a@b.org"}, .two_san = true},
     GH_EPROTO,
     NULL,
     0,
     "two subjectAltName"},
};

static void
test_made(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *der = NULL;
        size_t len = 0;
        struct cert_identity *id = NULL;
        char why[128] = "";

        fprintf(stderr, "case: %s\n", cases[i].name);
        CHECK(cert_make(&cases[i].spec, &der, &len));
        int rc = cert_identity_parse(der, len, &id, why, sizeof(why));
        CHECK_EQ(rc, cases[i].want);
        if (rc == GH_OK) {
            CHECK(id != NULL);
            if (cases[i].want_upn != NULL)
                CHECK_STR_EQ(id->upn, cases[i].want_upn);
            else
                CHECK(id->upn == NULL);
            CHECK_EQ(id->upn_count, cases[i].want_upn_count);
            CHECK_STR_EQ(id->issuer[0].value, cases[i].spec.issuer[1]);
            CHECK_STR_EQ(id->subject[0].type, cases[i].spec.subject[0]);
        } else {
            CHECK(id == NULL);
            CHECK(strstr(why, cases[i].want_why) != NULL);
        }
        cert_identity_destroy(id);
        free(der);
    }
}

static void
test_limits(void)
{
    struct cert_identity *id = NULL;
    char why[128];
    static const uint8_t garbage[] = {0x30, 0x82, 0xFF, 0xFF, 0x01, 0x02};
    uint8_t *big = calloc(1, CERT_MAX_DER_BYTES + 1);

    CHECK_EQ(cert_identity_parse(NULL, 0, &id, why, sizeof(why)), GH_EPROTO);
    CHECK_EQ(cert_identity_parse(garbage, sizeof(garbage), &id, why, sizeof(why)), GH_EPROTO);
    CHECK(strstr(why, "does not parse") != NULL);
    CHECK_EQ(cert_identity_parse(big, CERT_MAX_DER_BYTES + 1, &id, why, sizeof(why)), GH_ELIMIT);
    free(big);

    /* more subject attributes than CERT_MAX_NAME_ENTRIES: built by hand */
    X509 *x = X509_new();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    for (int i = 0; i <= CERT_MAX_NAME_ENTRIES; i++)
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "OU", MBSTRING_ASC,
                                   (const unsigned char *)"u", 1, -1, 0);
    X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"CA", 2, -1, 0);
    X509_set_pubkey(x, key);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 60);
    X509_sign(x, key, EVP_sha256());
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    CHECK(n > 0);
    CHECK_EQ(cert_identity_parse(der, (size_t)n, &id, why, sizeof(why)), GH_ELIMIT);
    CHECK(strstr(why, "subject") != NULL);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(key);
}

int
main(void)
{
    test_openssl_vector();
    test_made();
    test_limits();
    return check_done("auth/cert_identity");
}
