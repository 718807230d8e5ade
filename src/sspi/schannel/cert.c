// SPDX-License-Identifier: MIT
// CERT_CONTEXT and HCERTSTORE without Windows' stores: a context is an X509
// (plus its chain and, for our own certificate, its key) with the DER and the
// CERT_INFO fields Windows code reads, made once when the context is made.
// Contexts are reference counted because Windows callers duplicate and free
// them independently of the credential or security context they came from.
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <gatehouse/error.h>

#include "sspi/internal.h"
#include "sspi/schannel/schannel.h"
#include "sspi/wide.h"

#define CERT_MAGIC  0x47484345u /* "GHCE" */
#define STORE_MAGIC 0x47485354u /* "GHST" */

struct sch_store {
    uint32_t magic;
    atomic_int refs;
    STACK_OF(X509) * certs; /* owned */
    /* PFXImportCertStore: the private key and the certificate it belongs to
     * (one of certs); contexts made for that certificate carry the key and
     * the store's other certificates as their chain. NULL otherwise. */
    EVP_PKEY *key;
    X509 *key_cert; /* borrowed from certs */
};

struct sch_cert {
    CERT_CONTEXT pub; /* first: a PCCERT_CONTEXT is a struct sch_cert * */
    CERT_INFO info;
    uint32_t magic;
    atomic_int refs;
    int store_index; /* position in pub.hCertStore, for CertEnumCertificatesInStore */
    X509 *leaf;
    STACK_OF(X509) * chain;
    EVP_PKEY *key;
    struct sch_store *store; /* owned reference: leaf + chain */
};

static struct sch_store *
store_new(STACK_OF(X509) * certs)
{
    struct sch_store *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return NULL;
    st->magic = STORE_MAGIC;
    atomic_init(&st->refs, 1);
    st->certs = certs;
    return st;
}

static void
store_unref(struct sch_store *st)
{
    if (st == NULL || atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    sk_X509_pop_free(st->certs, X509_free);
    EVP_PKEY_free(st->key);
    st->magic = 0;
    free(st);
}

static struct sch_cert *
cert_of(PCCERT_CONTEXT pc)
{
    struct sch_cert *c = (struct sch_cert *)pc;

    if (c == NULL || c->magic != CERT_MAGIC)
        return NULL;
    return c;
}

static void
algorithm_free(CRYPT_ALGORITHM_IDENTIFIER *a)
{
    free(a->pszObjId);
    free(a->Parameters.pbData);
}

static void
cert_destroy(struct sch_cert *c)
{
    CERT_INFO *i = &c->info;

    OPENSSL_free(c->pub.pbCertEncoded);
    free(i->SerialNumber.pbData);
    algorithm_free(&i->SignatureAlgorithm);
    OPENSSL_free(i->Issuer.pbData);
    OPENSSL_free(i->Subject.pbData);
    algorithm_free(&i->SubjectPublicKeyInfo.Algorithm);
    free(i->SubjectPublicKeyInfo.PublicKey.pbData);
    X509_free(c->leaf);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->key);
    store_unref(c->store);
    c->magic = 0;
    free(c);
}

static bool
algorithm_fill(const X509_ALGOR *alg, CRYPT_ALGORITHM_IDENTIFIER *out)
{
    const ASN1_OBJECT *obj = NULL;
    const void *pval = NULL;
    int ptype = 0, n;
    char oid[128];

    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    n = OBJ_obj2txt(oid, sizeof(oid), obj, 1);
    if (n <= 0 || (size_t)n >= sizeof(oid))
        return false;
    out->pszObjId = strdup(oid);
    if (out->pszObjId == NULL)
        return false;
    if (ptype != V_ASN1_UNDEF && pval != NULL) {
        ASN1_TYPE *t = ASN1_TYPE_new();
        unsigned char *der = NULL;
        int len;

        if (t == NULL || ASN1_TYPE_set1(t, ptype, pval) != 1) {
            ASN1_TYPE_free(t);
            return false;
        }
        len = i2d_ASN1_TYPE(t, &der);
        ASN1_TYPE_free(t);
        if (len <= 0)
            return false;
        out->Parameters.pbData = malloc((size_t)len);
        if (out->Parameters.pbData == NULL) {
            OPENSSL_free(der);
            return false;
        }
        memcpy(out->Parameters.pbData, der, (size_t)len);
        out->Parameters.cbData = (unsigned long)len;
        OPENSSL_free(der);
    }
    return true;
}

static GH_FILETIME
filetime_of(const ASN1_TIME *t)
{
    struct tm tm;
    uint64_t ft = 0;

    if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
        int64_t secs = (int64_t)timegm(&tm);

        if (secs > -11644473600LL)
            ft = (uint64_t)(secs + 11644473600LL) * 10000000ULL;
    }
    return (GH_FILETIME){.dwLowDateTime = (uint32_t)ft, .dwHighDateTime = (uint32_t)(ft >> 32)};
}

static bool
info_fill(struct sch_cert *c)
{
    CERT_INFO *i = &c->info;
    const ASN1_BIT_STRING *sig = NULL;
    const X509_ALGOR *sig_alg = NULL;
    X509_ALGOR *pk_alg = NULL;
    const unsigned char *pk = NULL;
    int pk_len = 0, len;
    BIGNUM *bn;
    unsigned char *p = NULL;

    i->dwVersion = (unsigned long)X509_get_version(c->leaf);
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c->leaf), NULL);
    if (bn == NULL)
        return false;
    len = BN_num_bytes(bn);
    i->SerialNumber.pbData = malloc(len > 0 ? (size_t)len : 1);
    if (i->SerialNumber.pbData == NULL || BN_bn2lebinpad(bn, i->SerialNumber.pbData, len) < 0) {
        BN_free(bn);
        return false;
    }
    i->SerialNumber.cbData = (unsigned long)len;
    BN_free(bn);
    X509_get0_signature(&sig, &sig_alg, c->leaf);
    if (!algorithm_fill(sig_alg, &i->SignatureAlgorithm))
        return false;
    len = i2d_X509_NAME(X509_get_issuer_name(c->leaf), &p);
    if (len <= 0)
        return false;
    i->Issuer = (CERT_NAME_BLOB){.cbData = (unsigned long)len, .pbData = p};
    p = NULL;
    len = i2d_X509_NAME(X509_get_subject_name(c->leaf), &p);
    if (len <= 0)
        return false;
    i->Subject = (CERT_NAME_BLOB){.cbData = (unsigned long)len, .pbData = p};
    i->NotBefore = filetime_of(X509_get0_notBefore(c->leaf));
    i->NotAfter = filetime_of(X509_get0_notAfter(c->leaf));
    if (X509_PUBKEY_get0_param(NULL, &pk, &pk_len, &pk_alg, X509_get_X509_PUBKEY(c->leaf)) != 1 ||
        pk_len < 0)
        return false;
    if (!algorithm_fill(pk_alg, &i->SubjectPublicKeyInfo.Algorithm))
        return false;
    i->SubjectPublicKeyInfo.PublicKey.pbData = malloc(pk_len > 0 ? (size_t)pk_len : 1);
    if (i->SubjectPublicKeyInfo.PublicKey.pbData == NULL)
        return false;
    if (pk_len > 0)
        memcpy(i->SubjectPublicKeyInfo.PublicKey.pbData, pk, (size_t)pk_len);
    i->SubjectPublicKeyInfo.PublicKey.cbData = (unsigned long)pk_len;
    return true;
}

PCCERT_CONTEXT
sch_cert_new(X509 *leaf, STACK_OF(X509) * chain, EVP_PKEY *key)
{
    struct sch_cert *c = calloc(1, sizeof(*c));
    STACK_OF(X509) *all = NULL;
    int len;

    if (c == NULL)
        return NULL;
    c->magic = CERT_MAGIC;
    atomic_init(&c->refs, 1);
    X509_up_ref(leaf);
    c->leaf = leaf;
    c->chain = chain != NULL ? X509_chain_up_ref(chain) : sk_X509_new_null();
    if (c->chain == NULL)
        goto fail;
    if (key != NULL) {
        EVP_PKEY_up_ref(key);
        c->key = key;
    }
    all = X509_chain_up_ref(c->chain);
    if (all == NULL || sk_X509_insert(all, leaf, 0) == 0)
        goto fail;
    X509_up_ref(leaf);
    c->store = store_new(all);
    if (c->store == NULL)
        goto fail;
    all = NULL;
    len = i2d_X509(leaf, &c->pub.pbCertEncoded);
    if (len <= 0 || !info_fill(c))
        goto fail;
    c->pub.cbCertEncoded = (unsigned long)len;
    c->pub.dwCertEncodingType = X509_ASN_ENCODING | PKCS_7_ASN_ENCODING;
    c->pub.pCertInfo = &c->info;
    c->pub.hCertStore = c->store;
    return &c->pub;
fail:
    sk_X509_pop_free(all, X509_free);
    cert_destroy(c);
    ERR_clear_error();
    return NULL;
}

bool
sch_cert_parts(PCCERT_CONTEXT pc, X509 **leaf_out, STACK_OF(X509) * *chain_out, EVP_PKEY **key_out)
{
    struct sch_cert *c = cert_of(pc);

    if (c == NULL)
        return false;
    *leaf_out = c->leaf;
    *chain_out = c->chain;
    *key_out = c->key;
    return true;
}

STACK_OF(X509) * sch_store_certs(HCERTSTORE store)
{
    struct sch_store *st = store;

    if (st == NULL || st->magic != STORE_MAGIC)
        return NULL;
    return st->certs;
}

static SECURITY_STATUS
status_of(int rc, const char *err)
{
    sspi_set_error(NULL, err);
    if (rc == GH_ENOMEM)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (rc == GH_EIO)
        return SEC_E_NO_CREDENTIALS;
    if (strstr(err, "does not match") != NULL)
        return SEC_E_CERT_UNKNOWN;
    return SEC_E_NO_CREDENTIALS;
}

SECURITY_STATUS SEC_ENTRY
GhCertCreateContextFromPemFiles(const char *pszCertFile, const char *pszKeyFile,
                                unsigned long dwFlags, PCCERT_CONTEXT *ppCertContext)
{
    struct tls_cred cred = {0};
    char err[512] = "";
    PCCERT_CONTEXT pc;
    int rc;

    if (ppCertContext == NULL)
        return SEC_E_INVALID_PARAMETER;
    *ppCertContext = NULL;
    if (pszCertFile == NULL || dwFlags != 0)
        return SEC_E_INVALID_PARAMETER;
    rc = tls_cred_load(pszCertFile, pszKeyFile, pszKeyFile == NULL, &cred, err, sizeof(err));
    if (rc != GH_OK)
        return status_of(rc, err);
    pc = sch_cert_new(cred.leaf, cred.chain, cred.key);
    tls_cred_clear(&cred);
    if (pc == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    *ppCertContext = pc;
    return SEC_E_OK;
}

SECURITY_STATUS SEC_ENTRY
GhCertOpenStoreFromPemFile(const char *pszFile, HCERTSTORE *phCertStore)
{
    STACK_OF(X509) *certs = NULL;
    struct sch_store *st;
    char err[512] = "";
    int rc;

    if (phCertStore == NULL)
        return SEC_E_INVALID_PARAMETER;
    *phCertStore = NULL;
    if (pszFile == NULL)
        return SEC_E_INVALID_PARAMETER;
    rc = tls_certs_load(pszFile, &certs, err, sizeof(err));
    if (rc != GH_OK)
        return status_of(rc, err);
    st = store_new(certs);
    if (st == NULL) {
        sk_X509_pop_free(certs, X509_free);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    *phCertStore = st;
    return SEC_E_OK;
}

int SEC_ENTRY
CertFreeCertificateContext(PCCERT_CONTEXT pCertContext)
{
    struct sch_cert *c = cert_of(pCertContext);

    if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
        cert_destroy(c);
    return 1;
}

PCCERT_CONTEXT SEC_ENTRY
CertDuplicateCertificateContext(PCCERT_CONTEXT pCertContext)
{
    struct sch_cert *c = cert_of(pCertContext);

    if (c == NULL)
        return NULL;
    atomic_fetch_add(&c->refs, 1);
    return pCertContext;
}

int SEC_ENTRY
CertCloseStore(HCERTSTORE hCertStore, unsigned long dwFlags)
{
    struct sch_store *st = hCertStore;

    (void)dwFlags;
    if (st != NULL && st->magic == STORE_MAGIC)
        store_unref(st);
    return 1;
}

/* A context for the store's certificate at index: with the store's key and
 * the other certificates as its chain when it is the key's certificate. */
static PCCERT_CONTEXT
store_context(struct sch_store *st, int index)
{
    X509 *x = sk_X509_value(st->certs, index);
    STACK_OF(X509) *chain = NULL;
    PCCERT_CONTEXT pc;
    struct sch_cert *c;

    if (st->key != NULL && x == st->key_cert) {
        chain = sk_X509_new_null();
        for (int i = 0; chain != NULL && i < sk_X509_num(st->certs); i++) {
            if (i != index && sk_X509_push(chain, sk_X509_value(st->certs, i)) == 0) {
                sk_X509_free(chain);
                return NULL;
            }
        }
        if (chain == NULL)
            return NULL;
    }
    pc = sch_cert_new(x, chain, x == st->key_cert ? st->key : NULL);
    sk_X509_free(chain); /* sch_cert_new took its own references */
    c = cert_of(pc);
    if (c != NULL)
        c->store_index = index;
    return pc;
}

static struct sch_store *
store_of(HCERTSTORE h)
{
    struct sch_store *st = h;

    return st != NULL && st->magic == STORE_MAGIC ? st : NULL;
}

/* Where an enumeration continues after prev (released here, as Windows does). */
static int
next_index(PCCERT_CONTEXT prev)
{
    struct sch_cert *c = cert_of(prev);
    int next = 0;

    if (c != NULL) {
        next = c->store_index + 1;
        CertFreeCertificateContext(prev);
    }
    return next;
}

PCCERT_CONTEXT SEC_ENTRY
CertEnumCertificatesInStore(HCERTSTORE hCertStore, PCCERT_CONTEXT pPrevCertContext)
{
    struct sch_store *st = store_of(hCertStore);
    int next = next_index(pPrevCertContext);

    if (st == NULL || next >= sk_X509_num(st->certs))
        return NULL;
    return store_context(st, next);
}

HCERTSTORE SEC_ENTRY
CertOpenStore(const char *lpszStoreProvider, unsigned long dwEncodingType, uintptr_t hCryptProv,
              unsigned long dwFlags, const void *pvPara)
{
    STACK_OF(X509) * certs;
    struct sch_store *st;

    (void)dwEncodingType;
    (void)hCryptProv;
    (void)pvPara;
    if (lpszStoreProvider != CERT_STORE_PROV_MEMORY || (dwFlags & CERT_STORE_OPEN_EXISTING_FLAG)) {
        sspi_set_error(NULL, "CertOpenStore: only CERT_STORE_PROV_MEMORY exists here "
                             "(no system or file stores)");
        return NULL;
    }
    certs = sk_X509_new_null();
    st = certs != NULL ? store_new(certs) : NULL;
    if (st == NULL)
        sk_X509_free(certs);
    return st;
}

int SEC_ENTRY
CertAddEncodedCertificateToStore(HCERTSTORE hCertStore, unsigned long dwCertEncodingType,
                                 const unsigned char *pbCertEncoded, unsigned long cbCertEncoded,
                                 unsigned long dwAddDisposition, PCCERT_CONTEXT *ppCertContext)
{
    struct sch_store *st = store_of(hCertStore);
    const unsigned char *p = pbCertEncoded;
    X509 *x;
    int index = -1;

    if (ppCertContext != NULL)
        *ppCertContext = NULL;
    if (st == NULL || !(dwCertEncodingType & X509_ASN_ENCODING) || pbCertEncoded == NULL ||
        cbCertEncoded > LONG_MAX || dwAddDisposition < CERT_STORE_ADD_NEW ||
        dwAddDisposition > CERT_STORE_ADD_ALWAYS)
        return 0;
    x = d2i_X509(NULL, &p, (long)cbCertEncoded);
    if (x == NULL || p != pbCertEncoded + cbCertEncoded) {
        X509_free(x);
        ERR_clear_error();
        sspi_set_error(NULL, "CertAddEncodedCertificateToStore: not a DER certificate");
        return 0;
    }
    if (dwAddDisposition != CERT_STORE_ADD_ALWAYS) {
        for (int i = 0; i < sk_X509_num(st->certs) && index < 0; i++) {
            if (X509_cmp(sk_X509_value(st->certs, i), x) == 0)
                index = i;
        }
        if (index >= 0 && dwAddDisposition == CERT_STORE_ADD_NEW) {
            X509_free(x);
            sspi_set_error(NULL, "CertAddEncodedCertificateToStore: already in the store");
            return 0;
        }
    }
    if (index < 0) {
        if (sk_X509_push(st->certs, x) == 0) {
            X509_free(x);
            return 0;
        }
        index = sk_X509_num(st->certs) - 1;
    } else {
        X509_free(x); /* USE_EXISTING / REPLACE_EXISTING: the same certificate */
    }
    if (ppCertContext != NULL) {
        *ppCertContext = store_context(st, index);
        if (*ppCertContext == NULL)
            return 0;
    }
    return 1;
}

/* Case-insensitive substring, for CERT_FIND_SUBJECT_STR. */
static bool
contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    }
    return n == 0;
}

static bool
find_matches(struct sch_store *st, int index, unsigned long type, const void *para)
{
    X509 *x = sk_X509_value(st->certs, index);
    char *want = NULL, *subject;
    bool hit = false;

    switch (type) {
    case CERT_FIND_ANY:
        return true;
    case CERT_FIND_HAS_PRIVATE_KEY:
        return st->key != NULL && x == st->key_cert;
    case CERT_FIND_SUBJECT_STR_A:
    case CERT_FIND_SUBJECT_STR_W:
        if (para == NULL)
            return false;
        if (type == CERT_FIND_SUBJECT_STR_W) {
            size_t units = 0;

            if (wide_strlen(para, WIDE_MAX_UNITS, &units) != GH_OK ||
                wide_to_utf8(para, units, &want, NULL) != GH_OK)
                return false;
        }
        subject = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
        hit = subject != NULL && contains_nocase(subject, want != NULL ? want : para);
        OPENSSL_free(subject);
        free(want);
        return hit;
    default:
        return false;
    }
}

PCCERT_CONTEXT SEC_ENTRY
CertFindCertificateInStore(HCERTSTORE hCertStore, unsigned long dwCertEncodingType,
                           unsigned long dwFindFlags, unsigned long dwFindType,
                           const void *pvFindPara, PCCERT_CONTEXT pPrevCertContext)
{
    struct sch_store *st = store_of(hCertStore);
    int next = next_index(pPrevCertContext);

    (void)dwCertEncodingType;
    (void)dwFindFlags;
    if (st == NULL)
        return NULL;
    for (int i = next; i < sk_X509_num(st->certs); i++) {
        if (find_matches(st, i, dwFindType, pvFindPara))
            return store_context(st, i);
    }
    return NULL;
}

HCERTSTORE SEC_ENTRY
PFXImportCertStore(CRYPT_DATA_BLOB *pPFX, const SEC_WCHAR *szPassword, unsigned long dwFlags)
{
    const unsigned char *p;
    PKCS12 *p12 = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    char *password = NULL;
    struct sch_store *st = NULL;
    size_t units = 0;
    bool parsed;

    (void)dwFlags; /* key storage flags: keys live in the store, in memory */
    if (pPFX == NULL || pPFX->pbData == NULL || pPFX->cbData > LONG_MAX)
        return NULL;
    if (szPassword != NULL && (wide_strlen(szPassword, WIDE_MAX_UNITS, &units) != GH_OK ||
                               wide_to_utf8(szPassword, units, &password, NULL) != GH_OK))
        return NULL;
    p = pPFX->pbData;
    p12 = d2i_PKCS12(NULL, &p, (long)pPFX->cbData);
    /* An empty password may have been encoded either way (PKCS #12 B.1). */
    parsed = p12 != NULL &&
             (PKCS12_parse(p12, password != NULL ? password : "", &key, &cert, &ca) == 1 ||
              ((password == NULL || password[0] == '\0') &&
               PKCS12_parse(p12, NULL, &key, &cert, &ca) == 1));
    if (!parsed || (cert == NULL && sk_X509_num(ca) <= 0)) {
        sspi_set_error(NULL, "PFXImportCertStore: not a PKCS #12 file, a wrong password, or "
                             "encrypted with an algorithm OpenSSL 3 no longer loads (RC2: "
                             "export again with AES)");
        goto cleanup;
    }
    if (ca == NULL)
        ca = sk_X509_new_null();
    /* The certificate of the key first; a file of certificates only (no
     * key) is a store of those. */
    if (ca == NULL || (cert != NULL && sk_X509_insert(ca, cert, 0) == 0))
        goto cleanup;
    st = store_new(ca);
    if (st == NULL) {
        if (cert != NULL)
            (void)sk_X509_shift(ca); /* cert stays ours to free below */
        goto cleanup;
    }
    ca = NULL;
    st->key = key;
    st->key_cert = key != NULL && cert != NULL ? cert : NULL;
    if (st->key_cert == NULL) {
        EVP_PKEY_free(key); /* a key without its certificate is of no use */
        st->key = NULL;
    }
    key = NULL;
    cert = NULL; /* now owned by the store's stack */
cleanup:
    if (password != NULL) {
        OPENSSL_cleanse(password, strlen(password));
        free(password);
    }
    sk_X509_pop_free(ca, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    PKCS12_free(p12);
    ERR_clear_error();
    return st;
}
