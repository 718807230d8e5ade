// SPDX-License-Identifier: MIT
// CertNameToStrA/W against the text Windows' CryptoAPI documents for each
// string type and flag: RDN order, Windows' keys, OID forms, quoting,
// separators, multi-valued RDNs, truncation and size queries, bad input.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <gatehouse/sspi.h>

#include "harness/check.h"

struct rdn {
    const char *field; /* OpenSSL short name or dotted OID */
    const char *value;
    int set; /* 0: a new RDN; -1: joins the previous one (multi-valued) */
};

/* The DER of a Name made of rdns (n entries); free() the result. */
static unsigned char *
name_der(const struct rdn *rdns, size_t n, size_t *len_out)
{
    X509_NAME *name = X509_NAME_new();
    unsigned char *der = NULL;
    int len;

    CHECK(name != NULL);
    for (size_t i = 0; name != NULL && i < n; i++)
        CHECK_EQ(X509_NAME_add_entry_by_txt(name, rdns[i].field, MBSTRING_UTF8,
                                            (const unsigned char *)rdns[i].value, -1, -1,
                                            rdns[i].set),
                 1);
    len = i2d_X509_NAME(name, &der);
    CHECK(len > 0);
    X509_NAME_free(name);
    *len_out = (size_t)len;
    unsigned char *copy = malloc((size_t)len);
    memcpy(copy, der, (size_t)len);
    OPENSSL_free(der);
    return copy;
}

/* The A and W forms give text for (rdns, type); returns the A text. */
static void
check_name(const struct rdn *rdns, size_t n, unsigned long type, const char *want)
{
    size_t len = 0;
    unsigned char *der = name_der(rdns, n, &len);
    CERT_NAME_BLOB blob = {(unsigned long)len, der};
    char text[512];
    SEC_WCHAR wide[512];
    unsigned long need = CertNameToStrA(X509_ASN_ENCODING, &blob, type, NULL, 0);
    unsigned long got = CertNameToStrA(X509_ASN_ENCODING, &blob, type, text, sizeof(text));

    CHECK_STR_EQ(text, want);
    CHECK_EQ(got, strlen(want) + 1);
    CHECK_EQ(need, got);
    got = CertNameToStrW(X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, &blob, type, wide, 512);
    CHECK_EQ(got, strlen(want) + 1); /* ASCII here: as many units as bytes */
    for (size_t i = 0; i < got; i++)
        CHECK_EQ(wide[i], (SEC_WCHAR)(unsigned char)want[i]);
    free(der);
}

static const struct rdn www[] = {
    {"C", "FR", 0}, {"O", "Acme", 0}, {"OU", "Web", 0}, {"CN", "www.example.org", 0}};

static void
test_types(void)
{
    /* CERT_X500_NAME_STR: Windows' keys, encoded order, ", " between RDNs. */
    check_name(www, 4, CERT_X500_NAME_STR, "C=FR, O=Acme, OU=Web, CN=www.example.org");
    check_name(www, 4, CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG,
               "CN=www.example.org, OU=Web, O=Acme, C=FR");
    check_name(www, 4, CERT_SIMPLE_NAME_STR, "FR, Acme, Web, www.example.org");
    check_name(www, 4, CERT_OID_NAME_STR,
               "2.5.4.6=FR, 2.5.4.10=Acme, 2.5.4.11=Web, 2.5.4.3=www.example.org");
    check_name(www, 4, CERT_X500_NAME_STR | CERT_NAME_STR_SEMICOLON_FLAG,
               "C=FR; O=Acme; OU=Web; CN=www.example.org");
    check_name(www, 2, CERT_X500_NAME_STR | CERT_NAME_STR_CRLF_FLAG, "C=FR\r\nO=Acme");
    /* The keys Windows uses where OpenSSL's differ (S, E, STREET...). */
    static const struct rdn keys[] = {{"ST", "Bretagne", 0},  {"L", "Brest", 0},
                                      {"street", "1 rue", 0}, {"emailAddress", "a@b.c", 0},
                                      {"title", "Dr", 0},     {"GN", "Ann", 0},
                                      {"SN", "Lee", 0},       {"initials", "AL", 0},
                                      {"DC", "org", 0},       {"serialNumber", "42", 0},
                                      {"1.2.3.4", "x", 0}};
    check_name(keys, 11, CERT_X500_NAME_STR,
               "S=Bretagne, L=Brest, STREET=1 rue, E=a@b.c, T=Dr, G=Ann, SN=Lee, I=AL, DC=org, "
               "SERIALNUMBER=42, OID.1.2.3.4=x");
    check_name(keys + 10, 1, CERT_OID_NAME_STR, "1.2.3.4=x");
}

static void
test_quoting_and_sets(void)
{
    static const struct rdn comma[] = {{"O", "Acme, Inc.", 0}, {"CN", "say \"hi\"", 0}};
    check_name(comma, 2, CERT_X500_NAME_STR, "O=\"Acme, Inc.\", CN=\"say \"\"hi\"\"\"");
    check_name(comma, 2, CERT_X500_NAME_STR | CERT_NAME_STR_NO_QUOTING_FLAG,
               "O=Acme, Inc., CN=say \"hi\"");
    static const struct rdn space[] = {{"CN", " padded ", 0}, {"O", "a+b", 0}};
    check_name(space, 2, CERT_X500_NAME_STR, "CN=\" padded \", O=\"a+b\"");
    /* A multi-valued RDN: " + " between its values, unless NO_PLUS_FLAG. */
    static const struct rdn multi[] = {{"O", "Acme", 0}, {"CN", "svc", 0}, {"UID", "7", -1}};
    size_t len = 0;
    unsigned char *der = name_der(multi, 3, &len);
    CERT_NAME_BLOB blob = {(unsigned long)len, der};
    char text[128];
    CertNameToStrA(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR, text, sizeof(text));
    CHECK(strstr(text, "O=Acme, ") == text);
    CHECK(strstr(text, " + ") != NULL);
    CertNameToStrA(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR | CERT_NAME_STR_NO_PLUS_FLAG, text,
                   sizeof(text));
    CHECK(strstr(text, " + ") == NULL);
    free(der);
}

static void
test_sizes_and_errors(void)
{
    size_t len = 0;
    unsigned char *der = name_der(www, 4, &len);
    CERT_NAME_BLOB blob = {(unsigned long)len, der};
    char text[8];
    SEC_WCHAR wide[8];

    /* Too short: truncated, still terminated, the count written returned. */
    memset(text, 'x', sizeof(text));
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR, text, 5), 5);
    CHECK_STR_EQ(text, "C=FR");
    CHECK_EQ(CertNameToStrW(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR, wide, 3), 3);
    CHECK(wide[0] == 'C' && wide[1] == '=' && wide[2] == 0);
    CHECK_EQ(CertNameToStrW(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR, NULL, 0),
             strlen("C=FR, O=Acme, OU=Web, CN=www.example.org") + 1);
    /* Not a Name, trailing bytes, no X509_ASN_ENCODING, a bad type: "" and 1. */
    unsigned char junk[] = {0x30, 0x03, 0x31, 0x01};
    CERT_NAME_BLOB bad = {sizeof(junk), junk};
    memset(text, 'x', sizeof(text));
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &bad, CERT_X500_NAME_STR, text, sizeof(text)), 1);
    CHECK_STR_EQ(text, "");
    CERT_NAME_BLOB longer = {(unsigned long)len - 1, der};
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &longer, CERT_X500_NAME_STR, text, sizeof(text)), 1);
    CHECK_EQ(CertNameToStrA(PKCS_7_ASN_ENCODING, &blob, CERT_X500_NAME_STR, text, sizeof(text)), 1);
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &blob, 9, text, sizeof(text)), 1);
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, NULL, CERT_X500_NAME_STR, text, sizeof(text)), 1);
    wide[0] = 'x';
    CHECK_EQ(CertNameToStrW(X509_ASN_ENCODING, &bad, CERT_X500_NAME_STR, wide, 8), 1);
    CHECK_EQ(wide[0], 0);
    /* A NUL inside a value (found by fuzz/cert_name): refused, A and W alike. */
    static const unsigned char nul[] = {0x30, 0x12, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55, 0x04,
                                        0x03, 0x0c, 0x07, 'a',  '.',  'c',  0x00, 'e',  'v',  'l'};
    CERT_NAME_BLOB withnul = {sizeof(nul), (unsigned char *)nul};
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &withnul, CERT_X500_NAME_STR, text, sizeof(text)),
             1);
    CHECK_STR_EQ(text, "");
    CHECK_EQ(CertNameToStrW(X509_ASN_ENCODING, &withnul, CERT_X500_NAME_STR, wide, 8), 1);
    /* An empty Name (SEQUENCE {}): the empty string. */
    unsigned char empty[] = {0x30, 0x00};
    CERT_NAME_BLOB none = {sizeof(empty), empty};
    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &none, CERT_X500_NAME_STR, text, sizeof(text)), 1);
    free(der);
}

static void
test_utf8(void)
{
    static const struct rdn accent[] = {{"CN", "J\xc3\xa9r\xc3\xb4me", 0}};
    size_t len = 0;
    unsigned char *der = name_der(accent, 1, &len);
    CERT_NAME_BLOB blob = {(unsigned long)len, der};
    char text[64];
    SEC_WCHAR wide[64];

    CHECK_EQ(CertNameToStrA(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR, text, sizeof(text)),
             strlen("CN=J\xc3\xa9r\xc3\xb4me") + 1);
    CHECK_STR_EQ(text, "CN=J\xc3\xa9r\xc3\xb4me");
    CHECK_EQ(CertNameToStrW(X509_ASN_ENCODING, &blob, CERT_X500_NAME_STR, wide, 64), 10);
    CHECK(wide[4] == 0xe9 && wide[6] == 0xf4 && wide[9] == 0);
    free(der);
}

int
main(void)
{
    test_types();
    test_quoting_and_sets();
    test_sizes_and_errors();
    test_utf8();
    return check_done("test_certname");
}
