// SPDX-License-Identifier: MIT
// Fuzzes the in-memory certificate stores (src/sspi/schannel/cert.c) over
// arbitrary bytes: PFXImportCertStore (PKCS #12, empty password) with every
// certificate enumerated and found, and CertAddEncodedCertificateToStore
// (DER) into a memory store, twice, with each disposition. Invariants: never
// crash or leak; a store holds what was added (one certificate for
// ADD_NEW / USE_EXISTING of the same bytes); contexts carry a certificate.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(HCERTSTORE st)
{
    PCCERT_CONTEXT pc = NULL;
    int n = 0;

    while ((pc = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_ANY, NULL, pc)) !=
               NULL &&
           n < 64) {
        if (pc->cbCertEncoded == 0 || pc->pCertInfo == NULL)
            abort();
        n++;
    }
    CertFreeCertificateContext(pc);
    pc =
        CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_HAS_PRIVATE_KEY, NULL, NULL);
    CertFreeCertificateContext(pc);
    pc = CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_SUBJECT_STR_A, "a", NULL);
    CertFreeCertificateContext(pc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size + 1);
    CRYPT_DATA_BLOB blob = {(unsigned long)size, copy};
    HCERTSTORE st;
    PCCERT_CONTEXT pc = NULL;
    int n = 0;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    st = PFXImportCertStore(&blob, NULL, 0);
    if (st != NULL) {
        walk(st);
        CertCloseStore(st, 0);
    }
    st = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    if (st == NULL)
        abort();
    if (CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, copy, (unsigned long)size,
                                         CERT_STORE_ADD_NEW, &pc)) {
        /* pbCertEncoded is the certificate re-encoded as DER: it may differ
         * from BER input, never be empty. */
        if (pc == NULL || pc->cbCertEncoded == 0 || pc->pCertInfo == NULL)
            abort();
        if (CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, copy, (unsigned long)size,
                                             CERT_STORE_ADD_NEW, NULL) ||
            !CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, copy, (unsigned long)size,
                                              CERT_STORE_ADD_USE_EXISTING, NULL))
            abort();
        for (PCCERT_CONTEXT e = CertEnumCertificatesInStore(st, NULL); e != NULL;
             e = CertEnumCertificatesInStore(st, e))
            n++;
        if (n != 1)
            abort();
        walk(st);
    }
    CertFreeCertificateContext(pc);
    CertCloseStore(st, 0);
    free(copy);
    return 0;
}
