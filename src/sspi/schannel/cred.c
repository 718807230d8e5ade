// SPDX-License-Identifier: MIT
// AcquireCredentialsHandle("Schannel"): SCHANNEL_CRED or SCH_CREDENTIALS (or
// NULL) into one SSL_CTX per credential, built with src/tls's loader and
// limits. The credential's choices that vary per connection (target name,
// ISC_REQ_* / ASC_REQ_*) are applied per SSL in handshake.c.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <gatehouse/error.h>

#include "sspi/schannel/schannel.h"

/* AEAD suites only (docs/sspi.md): the record sizes Windows callers compute
 * from STREAM_SIZES stay exact, and nothing of CBC's history comes back. */
enum {
    ALLOW_AES128 = 1 << 0,
    ALLOW_AES256 = 1 << 1,
    ALLOW_CHACHA = 1 << 2,
    ALLOW_ECDHE = 1 << 3,
    ALLOW_DHE = 1 << 4,
    ALLOW_ALL = 0x1f,
};

struct cred_params {
    unsigned long protocols; /* SP_PROT_* enabled */
    unsigned allow;          /* ALLOW_* */
    unsigned long flags;     /* SCH_CRED_* */
    unsigned long lifespan_ms;
    unsigned long cert_count;
    PCCERT_CONTEXT *certs;
    HCERTSTORE roots;
};

static bool
wide_equals(const GH_UNICODE_STRING *s, const char *ascii)
{
    size_t n = strlen(ascii);

    if (s->Buffer == NULL || s->Length != n * 2)
        return false;
    for (size_t i = 0; i < n; i++) {
        SEC_WCHAR c = s->Buffer[i];

        if (c >= 'a' && c <= 'z')
            c = (SEC_WCHAR)(c - 'a' + 'A');
        if (c != (SEC_WCHAR)ascii[i])
            return false;
    }
    return true;
}

static unsigned
allow_from_algs(unsigned long count, const ALG_ID *algs)
{
    unsigned ciphers = 0, kx = 0;

    for (unsigned long i = 0; i < count; i++) {
        switch (algs[i]) {
        case CALG_AES_128:
            ciphers |= ALLOW_AES128;
            break;
        case CALG_AES_256:
            ciphers |= ALLOW_AES256;
            break;
        case CALG_AES:
            ciphers |= ALLOW_AES128 | ALLOW_AES256;
            break;
        case CALG_CHACHA20:
            ciphers |= ALLOW_CHACHA;
            break;
        case CALG_ECDHE:
        case CALG_ECDH:
            kx |= ALLOW_ECDHE;
            break;
        case CALG_DH_EPHEM:
            kx |= ALLOW_DHE;
            break;
        default:
            break; /* hashes, RSA key exchange (never offered): no effect */
        }
    }
    if (ciphers == 0)
        ciphers = ALLOW_AES128 | ALLOW_AES256 | ALLOW_CHACHA;
    if (kx == 0)
        kx = ALLOW_ECDHE | ALLOW_DHE;
    return ciphers | kx;
}

static unsigned
allow_without(unsigned allow, const CRYPTO_SETTINGS *s)
{
    switch (s->eAlgorithmUsage) {
    case TlsParametersCngAlgUsageCipher:
        if (wide_equals(&s->strCngAlgId, "AES")) {
            /* dwMinBitLength / dwMaxBitLength: the disabled key sizes; 0/0 all */
            unsigned long lo = s->dwMinBitLength, hi = s->dwMaxBitLength ? s->dwMaxBitLength : ~0UL;

            if (128 >= lo && 128 <= hi)
                allow &= ~(unsigned)ALLOW_AES128;
            if (256 >= lo && 256 <= hi)
                allow &= ~(unsigned)ALLOW_AES256;
        } else if (wide_equals(&s->strCngAlgId, "CHACHA20_POLY1305")) {
            allow &= ~(unsigned)ALLOW_CHACHA;
        }
        break;
    case TlsParametersCngAlgUsageKeyExchange:
        if (wide_equals(&s->strCngAlgId, "ECDH") || wide_equals(&s->strCngAlgId, "ECDHE"))
            allow &= ~(unsigned)ALLOW_ECDHE;
        else if (wide_equals(&s->strCngAlgId, "DH"))
            allow &= ~(unsigned)ALLOW_DHE;
        break;
    default:
        break;
    }
    return allow;
}

static SECURITY_STATUS
params_parse(const struct sspi_acquire *args, struct cred_params *p, struct buf *why)
{
    const void *data = args->auth_data;

    *p = (struct cred_params){.protocols = 0, .allow = ALLOW_ALL};
    if (data == NULL)
        return SEC_E_OK;
    if (((const SCHANNEL_CRED *)data)->dwVersion == SCHANNEL_CRED_VERSION) {
        const SCHANNEL_CRED *c = data;

        if (c->cSupportedAlgs > 0 && c->palgSupportedAlgs == NULL)
            return SEC_E_INVALID_PARAMETER;
        p->protocols = c->grbitEnabledProtocols;
        p->allow = allow_from_algs(c->cSupportedAlgs, c->palgSupportedAlgs);
        if (c->dwMinimumCipherStrength > 128)
            p->allow &= ~(unsigned)ALLOW_AES128;
        if (c->dwMinimumCipherStrength > 256)
            p->allow &= ~(unsigned)(ALLOW_AES256 | ALLOW_CHACHA);
        p->flags = c->dwFlags;
        p->lifespan_ms = c->dwSessionLifespan;
        p->cert_count = c->cCreds;
        p->certs = c->paCred;
        p->roots = c->hRootStore;
    } else if (((const SCH_CREDENTIALS *)data)->dwVersion == SCH_CREDENTIALS_VERSION) {
        const SCH_CREDENTIALS *c = data;

        p->flags = c->dwFlags;
        p->lifespan_ms = c->dwSessionLifespan;
        p->cert_count = c->cCreds;
        p->certs = c->paCred;
        p->roots = c->hRootStore;
        if (c->cTlsParameters > 0) {
            const TLS_PARAMETERS *t = c->pTlsParameters;

            if (t == NULL || (t->cDisabledCrypto > 0 && t->pDisabledCrypto == NULL))
                return SEC_E_INVALID_PARAMETER;
            p->protocols = SP_PROT_ALL & ~t->grbitDisabledProtocols;
            for (unsigned long i = 0; i < t->cDisabledCrypto; i++)
                p->allow = allow_without(p->allow, &t->pDisabledCrypto[i]);
        }
    } else {
        (void)buf_append_str(why,
                             "Schannel: pAuthData is neither SCHANNEL_CRED nor SCH_CREDENTIALS");
        return SEC_E_UNKNOWN_CREDENTIALS;
    }
    if (p->cert_count > 0 && p->certs == NULL)
        return SEC_E_INVALID_PARAMETER;
    return SEC_E_OK;
}

/* TLS 1.2 cipher list and TLS 1.3 suites for the allowed algorithms. */
static void
cipher_strings(unsigned allow, char *tls12, size_t tls12_len, char *tls13, size_t tls13_len)
{
    static const struct {
        unsigned kx;
        const char *name;
    } kxs[] = {{ALLOW_ECDHE, "ECDHE"}, {ALLOW_DHE, "DHE"}};
    static const struct {
        unsigned cipher;
        const char *v12, *v13;
    } ciphers[] = {{ALLOW_AES256, "AESGCM+AES256", "TLS_AES_256_GCM_SHA384"},
                   {ALLOW_CHACHA, "CHACHA20", "TLS_CHACHA20_POLY1305_SHA256"},
                   {ALLOW_AES128, "AESGCM+AES128", "TLS_AES_128_GCM_SHA256"}};
    size_t n12 = 0, n13 = 0;

    tls12[0] = tls13[0] = '\0';
    for (size_t k = 0; k < sizeof(kxs) / sizeof(kxs[0]); k++) {
        for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
            if ((allow & kxs[k].kx) && (allow & ciphers[c].cipher) && n12 < tls12_len)
                n12 += (size_t)snprintf(tls12 + n12, tls12_len - n12, "%s%s+%s", n12 ? ":" : "",
                                        kxs[k].name, ciphers[c].v12);
        }
    }
    for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
        if ((allow & ciphers[c].cipher) && n13 < tls13_len)
            n13 += (size_t)snprintf(tls13 + n13, tls13_len - n13, "%s%s", n13 ? ":" : "",
                                    ciphers[c].v13);
    }
}

static SECURITY_STATUS
versions(unsigned long protocols, int *min_out, int *max_out)
{
    bool v12 = (protocols & SP_PROT_TLS1_2) != 0, v13 = (protocols & SP_PROT_TLS1_3) != 0;

    if (protocols == 0)
        v12 = v13 = true; /* 0: the system's default */
    if (!v12 && !v13)
        return SEC_E_ALGORITHM_MISMATCH; /* only TLS 1.1 and older: never here */
    *min_out = v12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    *max_out = v13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    return SEC_E_OK;
}

static int
new_session(SSL *ssl, SSL_SESSION *session)
{
    struct sch_ctx *ctx = SSL_get_app_data(ssl);

    if (ctx != NULL && ctx->cache != NULL && ctx->target != NULL)
        sch_cache_put(ctx->cache, ctx->target, session);
    return 0; /* the cache took its own reference */
}

SECURITY_STATUS
sch_acquire_cred(const struct sspi_acquire *args, void **pkg_cred_out)
{
    struct cred_params p;
    struct sch_cred *cred = NULL;
    char tls12[512], tls13[256], err[256];
    int min = 0, max = 0;
    SECURITY_STATUS status;

    status = params_parse(args, &p, args->error_text);
    if (status != SEC_E_OK)
        return status;
    status = versions(p.protocols, &min, &max);
    if (status != SEC_E_OK) {
        (void)buf_append_str(args->error_text, "Schannel: no enabled protocol (TLS 1.2 / 1.3)");
        return status;
    }
    cipher_strings(p.allow, tls12, sizeof(tls12), tls13, sizeof(tls13));
    if ((min <= TLS1_2_VERSION && tls12[0] == '\0') || tls13[0] == '\0') {
        (void)buf_append_str(args->error_text, "Schannel: every cipher suite is disabled");
        return SEC_E_ALGORITHM_MISMATCH;
    }
    cred = calloc(1, sizeof(*cred));
    if (cred == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    cred->is_server = (args->use & SECPKG_CRED_INBOUND) != 0;
    cred->flags = p.flags;
    cred->cache = sch_cache_new(p.lifespan_ms ? (int64_t)(p.lifespan_ms / 1000) : 10 * 3600);
    if (cred->cache == NULL) {
        free(cred);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    cred->ctx = SSL_CTX_new(TLS_method());
    if (cred->ctx == NULL) {
        status = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    if (tls_ctx_set_limits(cred->ctx, min, max, tls12[0] ? tls12 : NULL, tls13, err, sizeof(err)) !=
        GH_OK) {
        (void)buf_append_str(args->error_text, err);
        status = SEC_E_ALGORITHM_MISMATCH;
        goto cleanup;
    }
    /* No compression; renegotiation refused both ways (docs/sspi.md). */
    SSL_CTX_set_options(cred->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                       SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_clear_mode(cred->ctx, SSL_MODE_AUTO_RETRY);
    static const unsigned char sid_ctx[] = "gatehouse-schannel";
    SSL_CTX_set_session_id_context(cred->ctx, sid_ctx, sizeof(sid_ctx) - 1);
    if (!cred->is_server || (args->use & SECPKG_CRED_OUTBOUND))
        SSL_CTX_set_client_cert_cb(cred->ctx, sch_client_cert);
    if (cred->is_server)
        SSL_CTX_set_alpn_select_cb(cred->ctx, sch_alpn_select, NULL);
    /* Server: OpenSSL's own cache (TLS 1.2 session ids) and tickets. Client:
     * our per-credential cache keyed by target (cache.c), filled by the
     * new-session callback; a SECPKG_CRED_BOTH credential gets both. */
    long cache_mode = cred->is_server ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF;
    if (cred->is_server)
        SSL_CTX_set_dh_auto(cred->ctx, 1);
    if ((args->use & SECPKG_CRED_OUTBOUND) && (p.flags & SCH_CRED_DISABLE_RECONNECTS) == 0) {
        /* No internal store: client sessions live in cache.c only (a BOTH
         * credential's server side then resumes by tickets alone). */
        cache_mode |= SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE;
        SSL_CTX_sess_set_new_cb(cred->ctx, new_session);
    }
    SSL_CTX_set_session_cache_mode(cred->ctx, cache_mode);
    if (p.cert_count > 0) {
        X509 *leaf = NULL;
        STACK_OF(X509) *chain = NULL;
        EVP_PKEY *key = NULL;

        if (!sch_cert_parts(p.certs[0], &leaf, &chain, &key)) {
            (void)buf_append_str(args->error_text,
                                 "Schannel: paCred[0] is not a certificate context of ours");
            status = SEC_E_UNKNOWN_CREDENTIALS;
            goto cleanup;
        }
        if (key == NULL) {
            /* Windows' status for a certificate whose private key it cannot use. */
            (void)buf_append_str(args->error_text,
                                 "Schannel: paCred[0] has no private key (load it with "
                                 "GhCertCreateContextFromPemFiles or PFXImportCertStore)");
            status = SEC_E_NO_CREDENTIALS;
            goto cleanup;
        }
        struct tls_cred tc = {.leaf = leaf, .chain = chain, .key = key};
        if (tls_ctx_use_cred(cred->ctx, &tc, err, sizeof(err)) != GH_OK) {
            (void)buf_append_str(args->error_text, err);
            status = SEC_E_UNKNOWN_CREDENTIALS;
            goto cleanup;
        }
        cred->cert = CertDuplicateCertificateContext(p.certs[0]);
    } else if (cred->is_server) {
        (void)buf_append_str(args->error_text, "Schannel: a server credential needs a certificate");
        status = SEC_E_NO_CREDENTIALS;
        goto cleanup;
    }
    if (p.roots != NULL) {
        STACK_OF(X509) *roots = sch_store_certs(p.roots);

        if (roots == NULL) {
            (void)buf_append_str(
                args->error_text,
                "Schannel: hRootStore is not a store from GhCertOpenStoreFromPemFile");
            status = SEC_E_INVALID_PARAMETER;
            goto cleanup;
        }
        cred->roots = X509_chain_up_ref(roots);
        if (cred->roots == NULL) {
            status = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
    }
    X509_STORE *store = tls_store_new(cred->roots);
    if (store == NULL) {
        status = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    SSL_CTX_set_cert_store(cred->ctx, store);
    *pkg_cred_out = cred;
    return SEC_E_OK;
cleanup:
    sch_free_cred(cred);
    ERR_clear_error();
    return status;
}

void
sch_free_cred(void *pkg_cred)
{
    struct sch_cred *cred = pkg_cred;

    if (cred == NULL)
        return;
    SSL_CTX_free(cred->ctx);
    CertFreeCertificateContext(cred->cert);
    sk_X509_pop_free(cred->roots, X509_free);
    sch_cache_unref(cred->cache);
    free(cred);
}

/* The protocols the credential's SSL_CTX allows, as SP_PROT_* of its side. */
static unsigned long
cred_protocols(const struct sch_cred *cred)
{
    long lo = SSL_CTX_get_min_proto_version(cred->ctx);
    long hi = SSL_CTX_get_max_proto_version(cred->ctx);
    unsigned long bits = 0;

    if (lo == 0 || lo < TLS1_2_VERSION)
        lo = TLS1_2_VERSION; /* 0: no limit, and TLS 1.2 is the least we speak */
    if (hi == 0)
        hi = TLS1_3_VERSION;
    if (lo <= TLS1_2_VERSION && hi >= TLS1_2_VERSION)
        bits |= cred->is_server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
    if (lo <= TLS1_3_VERSION && hi >= TLS1_3_VERSION)
        bits |= cred->is_server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
    return bits;
}

static void
alg_add(ALG_ID *algs, unsigned long *count, ALG_ID alg)
{
    for (unsigned long i = 0; i < *count; i++) {
        if (algs[i] == alg)
            return;
    }
    algs[(*count)++] = alg;
}

/* What the credential's cipher list allows: cipher strengths and CALG_* ids
 * (ciphers, handshake hashes, key exchanges). */
static SECURITY_STATUS
cred_ciphers(const struct sch_cred *cred, SecPkgCred_CipherStrengths *strengths,
             SecPkgCred_SupportedAlgs *algs_out)
{
    STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(cred->ctx);
    ALG_ID algs[16];
    unsigned long count = 0, lo = 0, hi = 0;

    for (int i = 0; i < sk_SSL_CIPHER_num(list); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(list, i);
        unsigned long bits = (unsigned long)SSL_CIPHER_get_bits(c, NULL);
        int nid = SSL_CIPHER_get_cipher_nid(c), kx = SSL_CIPHER_get_kx_nid(c);
        const EVP_MD *md = SSL_CIPHER_get_handshake_digest(c);

        lo = lo == 0 || bits < lo ? bits : lo;
        hi = bits > hi ? bits : hi;
        if (count + 3 > sizeof(algs) / sizeof(algs[0]))
            continue;
        alg_add(algs, &count,
                nid == NID_chacha20_poly1305 ? CALG_CHACHA20
                : bits <= 128                ? CALG_AES_128
                                             : CALG_AES_256);
        if (md != NULL)
            alg_add(algs, &count, EVP_MD_get_type(md) == NID_sha384 ? CALG_SHA_384 : CALG_SHA_256);
        if (kx == NID_kx_dhe)
            alg_add(algs, &count, CALG_DH_EPHEM);
        else if (kx == NID_kx_ecdhe || kx == NID_kx_any)
            alg_add(algs, &count, CALG_ECDHE);
    }
    if (strengths != NULL) {
        strengths->dwMinimumCipherStrength = lo;
        strengths->dwMaximumCipherStrength = hi;
    }
    if (algs_out != NULL) {
        ALG_ID *copy = sspi_alloc(count * sizeof(ALG_ID) + 1);

        if (copy == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        memcpy(copy, algs, count * sizeof(ALG_ID));
        algs_out->cSupportedAlgs = count;
        algs_out->palgSupportedAlgs = copy;
    }
    return SEC_E_OK;
}

SECURITY_STATUS
sch_query_cred(void *pkg_cred, unsigned long attribute, void *buffer)
{
    struct sch_cred *cred = pkg_cred;

    switch (attribute) {
    case SECPKG_ATTR_SUPPORTED_PROTOCOLS:
        ((SecPkgCred_SupportedProtocols *)buffer)->grbitProtocol = cred_protocols(cred);
        return SEC_E_OK;
    case SECPKG_ATTR_CIPHER_STRENGTHS:
        return cred_ciphers(cred, buffer, NULL);
    case SECPKG_ATTR_SUPPORTED_ALGS:
        return cred_ciphers(cred, NULL, buffer);
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
