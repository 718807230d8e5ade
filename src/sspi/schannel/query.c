// SPDX-License-Identifier: MIT
// QueryContextAttributes for Schannel: sizes, certificates, the issuer list
// a server sent, connection parameters and the two TLS channel bindings
// (RFC 5929: tls-server-end-point from src/tls, tls-unique for TLS 1.2).
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "sspi/schannel/schannel.h"
#include "tls/tls.h"

static SECURITY_STATUS
bindings_make(const char *prefix, const uint8_t *data, size_t len, SecPkgContext_Bindings *out)
{
    size_t plen = strlen(prefix), total = sizeof(SEC_CHANNEL_BINDINGS) + plen + len;
    SEC_CHANNEL_BINDINGS *b = sspi_alloc(total);

    if (b == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    memset(b, 0, sizeof(*b));
    b->cbApplicationDataLength = (uint32_t)(plen + len);
    b->dwApplicationDataOffset = (uint32_t)sizeof(*b);
    memcpy((uint8_t *)(b + 1), prefix, plen);
    memcpy((uint8_t *)(b + 1) + plen, data, len);
    out->BindingsLength = (unsigned long)total;
    out->Bindings = b;
    return SEC_E_OK;
}

static SECURITY_STATUS
endpoint_bindings(struct sch_ctx *ctx, SecPkgContext_Bindings *out)
{
    X509 *cert =
        ctx->is_server ? SSL_get_certificate(ctx->ssl) : SSL_get0_peer_certificate(ctx->ssl);
    uint8_t hash[EVP_MAX_MD_SIZE];
    size_t len = 0;

    if (cert == NULL)
        return SEC_E_NO_CREDENTIALS;
    if (tls_cert_end_point_hash(cert, hash, &len) != 0) {
        ERR_clear_error();
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
    return bindings_make("tls-server-end-point:", hash, len, out);
}

static SECURITY_STATUS
unique_bindings(struct sch_ctx *ctx, SecPkgContext_Bindings *out)
{
    uint8_t fin[EVP_MAX_MD_SIZE];
    size_t len;
    /* RFC 5929 3.1: the first Finished of the latest handshake: the client's
     * in a full handshake, the server's in an abbreviated one. */
    bool first_is_client = !SSL_session_reused(ctx->ssl);
    bool mine = ctx->is_server != first_is_client;

    if (SSL_version(ctx->ssl) >= TLS1_3_VERSION)
        return SEC_E_UNSUPPORTED_FUNCTION; /* RFC 8446 C.5: no tls-unique */
    len = mine ? SSL_get_finished(ctx->ssl, fin, sizeof(fin))
               : SSL_get_peer_finished(ctx->ssl, fin, sizeof(fin));
    if (len == 0 || len > sizeof(fin))
        return SEC_E_NO_CONTEXT;
    return bindings_make("tls-unique:", fin, len, out);
}

static SECURITY_STATUS
remote_cert(struct sch_ctx *ctx, PCCERT_CONTEXT *out)
{
    X509 *leaf = SSL_get0_peer_certificate(ctx->ssl);
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ctx->ssl), *chain;
    PCCERT_CONTEXT pc;

    if (leaf == NULL)
        return SEC_E_NO_CREDENTIALS;
    chain = sk_X509_new_null();
    if (chain == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    /* The client's view of the chain starts with the leaf, the server's not. */
    for (int i = 0; sent != NULL && i < sk_X509_num(sent); i++) {
        X509 *x = sk_X509_value(sent, i);

        if (X509_cmp(x, leaf) == 0)
            continue;
        if (sk_X509_push(chain, x) == 0) {
            sk_X509_free(chain);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
    }
    pc = sch_cert_new(leaf, chain, NULL);
    sk_X509_free(chain); /* sch_cert_new took its own references */
    if (pc == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    *out = pc;
    return SEC_E_OK;
}

static SECURITY_STATUS
local_cert(struct sch_ctx *ctx, PCCERT_CONTEXT *out)
{
    X509 *mine = SSL_get_certificate(ctx->ssl);
    STACK_OF(X509) *chain = NULL;
    PCCERT_CONTEXT pc;

    if (mine == NULL || (!ctx->is_server && SSL_get_certificate(ctx->ssl) == NULL))
        return SEC_E_NO_CREDENTIALS;
    (void)SSL_get0_chain_certs(ctx->ssl, &chain);
    pc = sch_cert_new(mine, chain, NULL);
    if (pc == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    *out = pc;
    return SEC_E_OK;
}

static SECURITY_STATUS
issuer_list(struct sch_ctx *ctx, SecPkgContext_IssuerListInfoEx *out)
{
    STACK_OF(X509_NAME) *names = SSL_get_client_CA_list(ctx->ssl);
    int count = names != NULL ? sk_X509_NAME_num(names) : 0;
    size_t total = 0;
    uint8_t *block, *p;

    out->aIssuers = NULL;
    out->cIssuers = 0;
    for (int i = 0; i < count; i++) {
        int n = i2d_X509_NAME(sk_X509_NAME_value(names, i), NULL);

        if (n <= 0)
            return SEC_E_INTERNAL_ERROR;
        total += (size_t)n;
    }
    if (count == 0)
        return SEC_E_OK;
    block = sspi_alloc((size_t)count * sizeof(CERT_NAME_BLOB) + total);
    if (block == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    out->aIssuers = (PCERT_NAME_BLOB)block;
    p = block + (size_t)count * sizeof(CERT_NAME_BLOB);
    for (int i = 0; i < count; i++) {
        uint8_t *start = p;
        int n = i2d_X509_NAME(sk_X509_NAME_value(names, i), &p);

        out->aIssuers[i] = (CERT_NAME_BLOB){.cbData = (unsigned long)n, .pbData = start};
    }
    out->cIssuers = (unsigned long)count;
    return SEC_E_OK;
}

/* The size of a key-exchange group by its NID, as EVP_PKEY_get_bits gives
 * it for a key of the group (X25519: 253), for when no key is left to ask. */
static unsigned long
group_bits(int nid)
{
    static const struct {
        int nid;
        unsigned long bits;
    } groups[] = {
        {NID_X25519, 253},     {NID_X448, 448},       {NID_X9_62_prime256v1, 256},
        {NID_secp384r1, 384},  {NID_secp521r1, 521},  {NID_ffdhe2048, 2048},
        {NID_ffdhe3072, 3072}, {NID_ffdhe4096, 4096}, {NID_ffdhe6144, 6144},
        {NID_ffdhe8192, 8192},
    };

    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (groups[i].nid == nid)
            return groups[i].bits;
    }
    return 0;
}

static void
cipher_info(struct sch_ctx *ctx, SecPkgContext_ConnectionInfo *out)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(ctx->ssl);
    int version = SSL_version(ctx->ssl), bits = 0, kx;
    const EVP_MD *md;
    EVP_PKEY *tmp = NULL;

    *out = (SecPkgContext_ConnectionInfo){0};
    if (version == TLS1_3_VERSION)
        out->dwProtocol = ctx->is_server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
    else
        out->dwProtocol = ctx->is_server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
    if (c == NULL)
        return;
    out->dwCipherStrength = (unsigned long)SSL_CIPHER_get_bits(c, &bits);
    switch (SSL_CIPHER_get_cipher_nid(c)) {
    case NID_aes_128_gcm:
    case NID_aes_128_ccm:
        out->aiCipher = CALG_AES_128;
        break;
    case NID_aes_256_gcm:
    case NID_aes_256_ccm:
        out->aiCipher = CALG_AES_256;
        break;
    case NID_chacha20_poly1305:
        out->aiCipher = CALG_CHACHA20;
        break;
    default:
        break;
    }
    md = SSL_CIPHER_get_handshake_digest(c);
    if (md != NULL) {
        out->dwHashStrength = (unsigned long)EVP_MD_get_size(md) * 8;
        out->aiHash = EVP_MD_get_type(md) == NID_sha384 ? CALG_SHA_384 : CALG_SHA_256;
    }
    kx = SSL_CIPHER_get_kx_nid(c);
    if (kx == NID_kx_dhe || kx == NID_kx_dhe_psk)
        out->aiExch = CALG_DH_EPHEM;
    else
        out->aiExch = CALG_ECDHE; /* ECDHE, and TLS 1.3's (EC)DHE groups */
    /* The key-exchange group's size: the peer's share is of the same group,
     * and OpenSSL frees a TLS 1.3 server's own share after the handshake. */
    if (((ctx->is_server && SSL_get_tmp_key(ctx->ssl, &tmp) == 1) ||
         SSL_get_peer_tmp_key(ctx->ssl, &tmp) == 1) &&
        tmp != NULL) {
        if (EVP_PKEY_is_a(tmp, "DH"))
            out->aiExch = CALG_DH_EPHEM;
        out->dwExchStrength = (unsigned long)EVP_PKEY_get_bits(tmp);
        EVP_PKEY_free(tmp);
    } else {
        out->dwExchStrength = group_bits(SSL_get_negotiated_group(ctx->ssl));
    }
    ERR_clear_error();
}

/* ASCII into a fixed SEC_WCHAR array (SZ_ALG_MAX_SIZE), NUL-terminated. */
static void
wide_copy(SEC_WCHAR *dst, const char *src)
{
    size_t i = 0;

    for (; src != NULL && src[i] != '\0' && i < SZ_ALG_MAX_SIZE - 1; i++)
        dst[i] = (SEC_WCHAR)(unsigned char)src[i];
    dst[i] = 0;
}

/* The CNG name of a certificate's key (SecPkgContext_CipherInfo.szCertificate). */
static const char *
key_family(X509 *cert)
{
    EVP_PKEY *key = cert != NULL ? X509_get0_pubkey(cert) : NULL;

    if (key == NULL)
        return "";
    if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS"))
        return "RSA";
    if (EVP_PKEY_is_a(key, "EC"))
        return "ECDSA";
    return "EdDSA";
}

static void
cipher_info_cng(struct sch_ctx *ctx, SecPkgContext_CipherInfo *out)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(ctx->ssl);
    SecPkgContext_ConnectionInfo ci;
    X509 *server_cert =
        ctx->is_server ? SSL_get_certificate(ctx->ssl) : SSL_get0_peer_certificate(ctx->ssl);
    bool is_chacha;

    *out = (SecPkgContext_CipherInfo){.dwVersion = SECPKGCONTEXT_CIPHERINFO_V1};
    out->dwProtocol = (unsigned long)SSL_version(ctx->ssl);
    if (c == NULL)
        return;
    cipher_info(ctx, &ci);
    out->dwCipherSuite = SSL_CIPHER_get_protocol_id(c);
    out->dwBaseCipherSuite = out->dwCipherSuite;
    wide_copy(out->szCipherSuite, SSL_CIPHER_standard_name(c));
    is_chacha = ci.aiCipher == CALG_CHACHA20;
    wide_copy(out->szCipher, is_chacha ? "CHACHA20_POLY1305" : "AES");
    out->dwCipherLen = ci.dwCipherStrength;
    out->dwCipherBlockLen = is_chacha ? 1 : 16;
    wide_copy(out->szHash, ci.aiHash == CALG_SHA_384 ? "SHA384" : "SHA256");
    out->dwHashLen = ci.dwHashStrength;
    wide_copy(out->szExchange, ci.aiExch == CALG_DH_EPHEM ? "DH" : "ECDH");
    out->dwMinExchangeLen = ci.dwExchStrength;
    out->dwMaxExchangeLen = ci.dwExchStrength;
    wide_copy(out->szCertificate, key_family(server_cert));
}

static char *
alloc_str(const char *text)
{
    size_t n = strlen(text) + 1;
    char *copy = sspi_alloc(n);

    if (copy != NULL)
        memcpy(copy, text, n);
    return copy;
}

static SECURITY_STATUS
key_info(struct sch_ctx *ctx, SecPkgContext_KeyInfoA *out)
{
    SecPkgContext_ConnectionInfo ci;
    X509 *server_cert =
        ctx->is_server ? SSL_get_certificate(ctx->ssl) : SSL_get0_peer_certificate(ctx->ssl);
    const char *sig = key_family(server_cert);

    cipher_info(ctx, &ci);
    *out = (SecPkgContext_KeyInfoA){0};
    out->sSignatureAlgorithmName = alloc_str(sig);
    out->sEncryptAlgorithmName =
        alloc_str(ci.aiCipher == CALG_CHACHA20 ? "CHACHA20_POLY1305" : "AES");
    if (out->sSignatureAlgorithmName == NULL || out->sEncryptAlgorithmName == NULL) {
        FreeContextBuffer(out->sSignatureAlgorithmName);
        FreeContextBuffer(out->sEncryptAlgorithmName);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    out->KeySize = ci.dwCipherStrength;
    out->SignatureAlgorithm = strcmp(sig, "RSA") == 0     ? CALG_RSA_SIGN
                              : strcmp(sig, "ECDSA") == 0 ? CALG_ECDSA
                                                          : 0;
    out->EncryptAlgorithm = ci.aiCipher;
    return SEC_E_OK;
}

/* SECPKG_ATTR_SESSION_KEY: Windows does not say what Schannel's is; here it
 * is 32 bytes of RFC 5705 keying material under a private label (RFC 5705 4:
 * "EXPERIMENTAL" labels), the same on both sides and never the TLS secrets
 * themselves. */
#define SESSION_KEY_LABEL "EXPERIMENTAL-gatehouse-sspi-session-key"
#define SESSION_KEY_BYTES 32

static SECURITY_STATUS
session_key(struct sch_ctx *ctx, SecPkgContext_SessionKey *out)
{
    unsigned char *key = sspi_alloc(SESSION_KEY_BYTES);

    if (key == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (SSL_export_keying_material(ctx->ssl, key, SESSION_KEY_BYTES, SESSION_KEY_LABEL,
                                   strlen(SESSION_KEY_LABEL), NULL, 0, 0) != 1) {
        FreeContextBuffer(key);
        ERR_clear_error();
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
    out->SessionKeyLength = SESSION_KEY_BYTES;
    out->SessionKey = key;
    return SEC_E_OK;
}

static void
application_protocol(struct sch_ctx *ctx, SecPkgContext_ApplicationProtocol *out)
{
    const unsigned char *id = NULL;
    unsigned int len = 0;

    *out = (SecPkgContext_ApplicationProtocol){0};
    SSL_get0_alpn_selected(ctx->ssl, &id, &len);
    if (id == NULL || len == 0 || len > MAX_PROTOCOL_ID_SIZE)
        return;
    out->ProtoNegoStatus = SecApplicationProtocolNegotiationStatus_Success;
    out->ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
    out->ProtocolIdSize = (unsigned char)len;
    memcpy(out->ProtocolId, id, len);
}

static SECURITY_STATUS
names(struct sch_ctx *ctx, SecPkgContext_NamesA *out)
{
    X509 *peer = SSL_get0_peer_certificate(ctx->ssl);
    BIO *bio;
    char *text;
    long len;

    if (peer == NULL)
        return SEC_E_NO_CREDENTIALS;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) < 0) {
        BIO_free(bio);
        return SEC_E_INTERNAL_ERROR;
    }
    len = BIO_get_mem_data(bio, &text);
    out->sUserName = sspi_alloc((size_t)len + 1);
    if (out->sUserName != NULL) {
        memcpy(out->sUserName, text, (size_t)len);
        out->sUserName[len] = '\0';
    }
    BIO_free(bio);
    return out->sUserName != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* The certificate's validity (the server's: the peer's on the client, ours
 * on the server), as Windows' Schannel answers LIFESPAN. */
static SECURITY_STATUS
lifespan(struct sch_ctx *ctx, SecPkgContext_Lifespan *out)
{
    X509 *cert =
        ctx->is_server ? SSL_get_certificate(ctx->ssl) : SSL_get0_peer_certificate(ctx->ssl);
    struct tm nb, na;

    if (cert == NULL || ASN1_TIME_to_tm(X509_get0_notBefore(cert), &nb) != 1 ||
        ASN1_TIME_to_tm(X509_get0_notAfter(cert), &na) != 1) {
        ERR_clear_error();
        return SEC_E_NO_CREDENTIALS;
    }
    out->tsStart = sspi_timestamp_from_unix((int64_t)timegm(&nb));
    out->tsExpiry = sspi_timestamp_from_unix((int64_t)timegm(&na));
    return SEC_E_OK;
}

SECURITY_STATUS
sch_query_ctx(void *pkg_ctx, unsigned long attribute, void *buffer)
{
    struct sch_ctx *ctx = pkg_ctx;

    if (attribute == SECPKG_ATTR_ISSUER_LIST_EX)
        return issuer_list(ctx, buffer); /* also after SEC_I_INCOMPLETE_CREDENTIALS */
    if (attribute == SECPKG_ATTR_REMOTE_CERT_CONTEXT && SSL_get0_peer_certificate(ctx->ssl))
        return remote_cert(ctx, buffer); /* also before completion, for manual checks */
    if (!ctx->is_complete)
        return SEC_E_INVALID_HANDLE;
    switch (attribute) {
    case SECPKG_ATTR_STREAM_SIZES:
        sch_stream_sizes(ctx, buffer);
        return SEC_E_OK;
    case SECPKG_ATTR_SIZES: {
        SecPkgContext_StreamSizes s;

        sch_stream_sizes(ctx, &s);
        *(SecPkgContext_Sizes *)buffer =
            (SecPkgContext_Sizes){.cbMaxToken = schannel_package.max_token_bytes,
                                  .cbMaxSignature = 0,
                                  .cbBlockSize = s.cbBlockSize,
                                  .cbSecurityTrailer = s.cbTrailer};
        return SEC_E_OK;
    }
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
        return remote_cert(ctx, buffer);
    case SECPKG_ATTR_LOCAL_CERT_CONTEXT:
        return local_cert(ctx, buffer);
    case SECPKG_ATTR_CONNECTION_INFO:
        cipher_info(ctx, buffer);
        return SEC_E_OK;
    case SECPKG_ATTR_CIPHER_INFO:
        cipher_info_cng(ctx, buffer);
        return SEC_E_OK;
    case SECPKG_ATTR_APPLICATION_PROTOCOL:
        application_protocol(ctx, buffer);
        return SEC_E_OK;
    case SECPKG_ATTR_KEY_INFO:
        return key_info(ctx, buffer);
    case SECPKG_ATTR_SESSION_KEY:
        return session_key(ctx, buffer);
    case SECPKG_ATTR_ENDPOINT_BINDINGS:
        return endpoint_bindings(ctx, buffer);
    case SECPKG_ATTR_UNIQUE_BINDINGS:
        return unique_bindings(ctx, buffer);
    case SECPKG_ATTR_NAMES:
        return names(ctx, buffer);
    case SECPKG_ATTR_LIFESPAN:
        return lifespan(ctx, buffer);
    case SECPKG_ATTR_SESSION_INFO: {
        SecPkgContext_SessionInfo *si = buffer;
        SSL_SESSION *session = SSL_get_session(ctx->ssl);
        unsigned int id_len = 0;
        const unsigned char *id = session != NULL ? SSL_SESSION_get_id(session, &id_len) : NULL;

        *si = (SecPkgContext_SessionInfo){0};
        si->dwFlags = SSL_session_reused(ctx->ssl) ? SSL_SESSION_RECONNECT : 0;
        if (id != NULL && id_len <= sizeof(si->rgbSessionId) &&
            SSL_version(ctx->ssl) < TLS1_3_VERSION) {
            memcpy(si->rgbSessionId, id, id_len);
            si->cbSessionId = id_len;
        }
        return SEC_E_OK;
    }
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
