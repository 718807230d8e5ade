// SPDX-License-Identifier: MIT
// The certificate stores Windows code uses without the machine's stores:
// PFXImportCertStore (passwords, keys, chain), CertFindCertificateInStore
// (ANY, SUBJECT_STR A/W, HAS_PRIVATE_KEY, continuation), CertOpenStore
// (memory only) and CertAddEncodedCertificateToStore (dispositions), and a
// PFX key that works in a Schannel credential.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <gatehouse/sspi.h>

#include "harness/check.h"
#include "harness/testcerts.h"

static struct testcerts tc;

static X509 *
read_cert(const char *file)
{
    FILE *f = fopen(file, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    CHECK(x != NULL);
    if (f != NULL)
        fclose(f);
    return x;
}

/* The server certificate, its key and the CA as PKCS #12 DER (free()). */
static unsigned char *
make_pfx(const char *password, size_t *len_out)
{
    FILE *f = fopen(tc.server, "r");
    EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    X509 *cert = read_cert(tc.server), *ca = read_cert(tc.ca);
    STACK_OF(X509) *cas = sk_X509_new_null();
    unsigned char *der = NULL, *copy;
    PKCS12 *p12;
    int len;

    if (f != NULL)
        fclose(f);
    CHECK(key != NULL && cas != NULL && sk_X509_push(cas, ca) > 0);
    p12 = PKCS12_create(password, "server", key, cert, cas, 0, 0, 0, 0, 0);
    CHECK(p12 != NULL);
    len = i2d_PKCS12(p12, &der);
    CHECK(len > 0);
    copy = malloc((size_t)len);
    memcpy(copy, der, (size_t)len);
    *len_out = (size_t)len;
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_pop_free(cas, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    return copy;
}

static SECURITY_STATUS
acquire_server(PCCERT_CONTEXT cert)
{
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION, .cCreds = 1, .paCred = &cert};
    CredHandle h;
    SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL,
                                                   &sc, NULL, NULL, &h, NULL);

    if (st == SEC_E_OK)
        FreeCredentialsHandle(&h);
    return st;
}

static void
test_pfx(void)
{
    size_t len = 0;
    unsigned char *der = make_pfx("s3cret", &len);
    CRYPT_DATA_BLOB blob = {(unsigned long)len, der};
    static const SEC_WCHAR good[] = u"s3cret", bad[] = u"wrong", upper[] = u"LOCALHOST";
    HCERTSTORE st;
    PCCERT_CONTEXT pc, any;
    int n = 0;

    CHECK(PFXImportCertStore(&blob, bad, 0) == NULL);
    CHECK(PFXImportCertStore(NULL, good, 0) == NULL);
    st = PFXImportCertStore(&blob, good, CRYPT_EXPORTABLE | PKCS12_NO_PERSIST_KEY);
    CHECK(st != NULL);
    /* The certificate with the key: the server's, with the CA as its chain. */
    pc =
        CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_HAS_PRIVATE_KEY, NULL, NULL);
    CHECK(pc != NULL);
    if (pc != NULL) {
        char name[128];
        CertNameToStrA(X509_ASN_ENCODING, &pc->pCertInfo->Subject, CERT_X500_NAME_STR, name,
                       sizeof(name));
        CHECK(strstr(name, "CN=localhost") != NULL);
        CHECK_EQ(acquire_server(pc), SEC_E_OK);
        /* The next one with a key: none. */
        CHECK(CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_HAS_PRIVATE_KEY, NULL,
                                         pc) == NULL);
    }
    /* Every certificate, and the CA alone is no server credential. */
    for (any = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_ANY, NULL, NULL);
         any != NULL && n < 10;
         any = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_ANY, NULL, any)) {
        if (n == 1)
            CHECK_EQ(acquire_server(any), SEC_E_NO_CREDENTIALS);
        n++;
    }
    CHECK_EQ(n, 2);
    /* Subject strings, A and W, case-insensitive substrings. */
    pc = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_A, "calhos",
                                    NULL);
    CHECK(pc != NULL);
    CertFreeCertificateContext(pc);
    pc = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_W, upper, NULL);
    CHECK(pc != NULL);
    CertFreeCertificateContext(pc);
    CHECK(CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_A, "nobody",
                                     NULL) == NULL);
    CHECK(CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, 0x00010000UL /* SHA1_HASH */, "x",
                                     NULL) == NULL);
    CertCloseStore(st, 0);
    free(der);

    /* An empty password: NULL and u"" both open it. */
    der = make_pfx("", &len);
    blob = (CRYPT_DATA_BLOB){(unsigned long)len, der};
    st = PFXImportCertStore(&blob, NULL, 0);
    CHECK(st != NULL);
    CertCloseStore(st, 0);
    st = PFXImportCertStore(&blob, u"", 0);
    CHECK(st != NULL);
    CertCloseStore(st, 0);
    /* Certificates only (no key): a store of them, none with a key. */
    {
        X509 *ca = read_cert(tc.ca);
        STACK_OF(X509) *cas = sk_X509_new_null();
        unsigned char *p12der = NULL;
        PKCS12 *p12;
        int n12;

        CHECK(cas != NULL && sk_X509_push(cas, ca) > 0);
        p12 = PKCS12_create("", NULL, NULL, NULL, cas, 0, 0, 0, 0, 0);
        CHECK(p12 != NULL);
        n12 = i2d_PKCS12(p12, &p12der);
        CRYPT_DATA_BLOB only = {(unsigned long)n12, p12der};
        st = PFXImportCertStore(&only, u"", 0);
        CHECK(st != NULL);
        PCCERT_CONTEXT e = CertEnumCertificatesInStore(st, NULL);
        CHECK(e != NULL);
        CHECK(CertEnumCertificatesInStore(st, e) == NULL);
        CHECK(CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_HAS_PRIVATE_KEY, NULL,
                                         NULL) == NULL);
        CertCloseStore(st, 0);
        OPENSSL_free(p12der);
        PKCS12_free(p12);
        sk_X509_pop_free(cas, X509_free);
    }
    /* Not PKCS #12. */
    der[0] ^= 0xff;
    CHECK(PFXImportCertStore(&blob, NULL, 0) == NULL);
    free(der);
}

static void
test_memory_store(void)
{
    X509 *ca = read_cert(tc.ca);
    unsigned char *der = NULL;
    int len = i2d_X509(ca, &der);
    HCERTSTORE st = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    PCCERT_CONTEXT pc = NULL, e;
    int n = 0;

    CHECK(len > 0 && st != NULL);
    CHECK(CertOpenStore((const char *)(uintptr_t)10 /* SYSTEM */, 0, 0, 0, "MY") == NULL);
    CHECK(CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, (unsigned long)len,
                                           CERT_STORE_ADD_NEW, &pc));
    CHECK(pc != NULL && pc->cbCertEncoded == (unsigned long)len &&
          memcmp(pc->pbCertEncoded, der, (size_t)len) == 0);
    CertFreeCertificateContext(pc);
    CHECK(!CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, (unsigned long)len,
                                            CERT_STORE_ADD_NEW, NULL));
    CHECK(CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, (unsigned long)len,
                                           CERT_STORE_ADD_USE_EXISTING, NULL));
    CHECK(CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, (unsigned long)len,
                                           CERT_STORE_ADD_REPLACE_EXISTING, NULL));
    for (e = CertEnumCertificatesInStore(st, NULL); e != NULL && n < 10;
         e = CertEnumCertificatesInStore(st, e))
        n++;
    CHECK_EQ(n, 1);
    /* Not DER, trailing bytes, no X509 encoding, a bad disposition. */
    CHECK(!CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, (unsigned long)len - 1,
                                            CERT_STORE_ADD_ALWAYS, NULL));
    CHECK(!CertAddEncodedCertificateToStore(st, PKCS_7_ASN_ENCODING, der, (unsigned long)len,
                                            CERT_STORE_ADD_ALWAYS, NULL));
    CHECK(
        !CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, (unsigned long)len, 9, NULL));
    CHECK(!CertAddEncodedCertificateToStore(NULL, X509_ASN_ENCODING, der, (unsigned long)len,
                                            CERT_STORE_ADD_ALWAYS, NULL));
    /* As trusted roots of a client credential. */
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION, .hRootStore = st};
    CredHandle h;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sc, NULL,
                                       NULL, &h, NULL),
             SEC_E_OK);
    FreeCredentialsHandle(&h);
    CertCloseStore(st, 0);
    OPENSSL_free(der);
    X509_free(ca);
}

int
main(void)
{
    if (testcerts_make(&tc) != 0) {
        fprintf(stderr, "cannot make test certificates\n");
        return 1;
    }
    test_pfx();
    test_memory_store();
    testcerts_remove(&tc);
    return check_done("test_cert");
}
