// SPDX-License-Identifier: MIT
// NTLM cryptography on OpenSSL 3. Every algorithm is fetched once (see
// crypto.h); HMAC-MD5 is built from the cached
// MD5 (RFC 2104) because EVP_MAC would look the digest up by name on every
// initialisation, which dominates the cost of a handshake.
#include "sspi/ntlm/crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "base/buf.h"
#include "base/reader.h"
#include "base/secret.h"
#include "sspi/md4.h"
#include "sspi/ntlm/msg.h"
#include "sspi/ntlm/text.h"

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static struct ntlm_crypto crypto_state;
static bool crypto_ok;

/* RC4 from the private legacy context (sspi/md4.h, which also does MD4); MD5 and random
 * bytes from the default context, which never sees the legacy provider. */
static void
crypto_init(void)
{
    OSSL_LIB_CTX *legacy = sspi_legacy_libctx();

    if (legacy == NULL)
        return;
    crypto_state.rc4 = EVP_CIPHER_fetch(legacy, "RC4", NULL);
    crypto_state.md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    if (crypto_state.md5 == NULL || crypto_state.rc4 == NULL) {
        EVP_MD_free(crypto_state.md5);
        EVP_CIPHER_free(crypto_state.rc4);
        crypto_state = (struct ntlm_crypto){0};
        return;
    }
    crypto_state.libctx = legacy;
    crypto_ok = true;
}

const struct ntlm_crypto *
ntlm_crypto_get(void)
{
    pthread_once(&crypto_once, crypto_init);
    return crypto_ok ? &crypto_state : NULL;
}

static SECURITY_STATUS
digest(const EVP_MD *md, const struct slice *parts, size_t count, uint8_t out[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    SECURITY_STATUS st = SEC_E_INTERNAL_ERROR;
    unsigned int out_len = 0;

    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
        goto cleanup;
    for (size_t i = 0; i < count; i++) {
        if (parts[i].len > 0 && EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len) != 1)
            goto cleanup;
    }
    if (EVP_DigestFinal_ex(ctx, out, &out_len) != 1 || out_len != 16)
        goto cleanup;
    st = SEC_E_OK;
cleanup:
    EVP_MD_CTX_free(ctx);
    return st;
}

SECURITY_STATUS
ntlm_crypto_md5(const struct slice *parts, size_t count, uint8_t out[16])
{
    const struct ntlm_crypto *c = ntlm_crypto_get();

    if (c == NULL)
        return SEC_E_INTERNAL_ERROR;
    return digest(c->md5, parts, count, out);
}

SECURITY_STATUS
ntlm_crypto_hmac_md5(const uint8_t *key, size_t key_len, const struct slice *parts, size_t count,
                     uint8_t out[16])
{
    const struct ntlm_crypto *c = ntlm_crypto_get();
    uint8_t pad[64];
    uint8_t inner[16];
    struct slice outer_parts[2];
    SECURITY_STATUS st = SEC_E_INTERNAL_ERROR;
    EVP_MD_CTX *ctx = NULL;
    unsigned int n = 0;

    if (c == NULL || key_len > sizeof(pad))
        return SEC_E_INTERNAL_ERROR;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    /* inner = MD5((K ^ ipad) || text) */
    memset(pad, 0x36, sizeof(pad));
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    if (EVP_DigestInit_ex2(ctx, c->md5, NULL) != 1 || EVP_DigestUpdate(ctx, pad, sizeof(pad)) != 1)
        goto cleanup;
    for (size_t i = 0; i < count; i++) {
        if (parts[i].len > 0 && EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len) != 1)
            goto cleanup;
    }
    if (EVP_DigestFinal_ex(ctx, inner, &n) != 1)
        goto cleanup;
    /* out = MD5((K ^ opad) || inner) */
    memset(pad, 0x5c, sizeof(pad));
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    outer_parts[0] = slice_make(pad, sizeof(pad));
    outer_parts[1] = slice_make(inner, sizeof(inner));
    EVP_MD_CTX_free(ctx);
    ctx = NULL;
    st = digest(c->md5, outer_parts, 2, out);
cleanup:
    EVP_MD_CTX_free(ctx);
    secret_wipe(pad, sizeof(pad));
    secret_wipe(inner, sizeof(inner));
    return st;
}

SECURITY_STATUS
ntlm_crypto_rc4k(const uint8_t key[16], const uint8_t *in, size_t len, uint8_t *out)
{
    const struct ntlm_crypto *c = ntlm_crypto_get();
    EVP_CIPHER_CTX *ctx = NULL;
    SECURITY_STATUS st = SEC_E_INTERNAL_ERROR;
    int n = 0;

    if (c == NULL || len > INT32_MAX)
        return SEC_E_INTERNAL_ERROR;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (EVP_EncryptInit_ex2(ctx, c->rc4, key, NULL, NULL) != 1)
        goto cleanup;
    if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1)
        goto cleanup;
    st = SEC_E_OK;
cleanup:
    EVP_CIPHER_CTX_free(ctx);
    return st;
}

static SECURITY_STATUS
status_from_gh(int err)
{
    switch (err) {
    case GH_OK:
        return SEC_E_OK;
    case GH_ENOMEM:
        return SEC_E_INSUFFICIENT_MEMORY;
    case GH_EPROTO:
        return SEC_E_INVALID_PARAMETER;
    default:
        return SEC_E_INVALID_TOKEN;
    }
}

SECURITY_STATUS
ntlm_crypto_nt_hash(const char *password, size_t password_len, uint8_t out[16])
{
    struct buf u16;
    SECURITY_STATUS st;

    buf_init(&u16, 4096);
    st = status_from_gh(ntlm_text_to_utf16(password, password_len, false, &u16));
    if (st == SEC_E_OK) {
        int err = sspi_md4(u16.data, u16.len, out);
        st = err == GH_OK       ? SEC_E_OK
             : err == GH_ENOMEM ? SEC_E_INSUFFICIENT_MEMORY
                                : SEC_E_INTERNAL_ERROR;
    }
    buf_free_wipe(&u16);
    return st;
}

SECURITY_STATUS
ntlm_crypto_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
                    uint8_t out[16])
{
    struct buf text;
    SECURITY_STATUS st;

    buf_init(&text, 4096);
    st = status_from_gh(ntlm_text_to_utf16(user, strlen(user), true, &text));
    if (st == SEC_E_OK && domain != NULL)
        st = status_from_gh(ntlm_text_to_utf16(domain, strlen(domain), false, &text));
    if (st == SEC_E_OK) {
        struct slice part = buf_slice(&text);
        st = ntlm_crypto_hmac_md5(nt_hash, 16, &part, 1, out);
    }
    buf_free(&text);
    return st;
}

SECURITY_STATUS
ntlm_crypto_ntowfv2_utf16(const uint8_t nt_hash[16], struct slice user16, struct slice domain16,
                          uint8_t out[16])
{
    struct buf upper;
    SECURITY_STATUS st;

    buf_init(&upper, 4096);
    st = status_from_gh(ntlm_text_utf16_copy(user16, true, &upper));
    if (st == SEC_E_OK) {
        struct slice parts[2] = {buf_slice(&upper), domain16};
        st = ntlm_crypto_hmac_md5(nt_hash, 16, parts, 2, out);
    }
    buf_free(&upper);
    return st;
}

SECURITY_STATUS
ntlm_crypto_nt_proof(const uint8_t response_key[16], const uint8_t server_challenge[8],
                     struct slice temp, uint8_t proof_out[16])
{
    struct slice parts[2] = {slice_make(server_challenge, 8), temp};
    return ntlm_crypto_hmac_md5(response_key, 16, parts, 2, proof_out);
}

SECURITY_STATUS
ntlm_crypto_lmv2_response(const uint8_t response_key[16], const uint8_t server_challenge[8],
                          const uint8_t client_challenge[8], uint8_t out[24])
{
    struct slice parts[2] = {slice_make(server_challenge, 8), slice_make(client_challenge, 8)};
    SECURITY_STATUS st = ntlm_crypto_hmac_md5(response_key, 16, parts, 2, out);

    if (st == SEC_E_OK)
        memcpy(out + 16, client_challenge, 8);
    return st;
}

SECURITY_STATUS
ntlm_crypto_session_base_key(const uint8_t response_key[16], const uint8_t proof[16],
                             uint8_t out[16])
{
    struct slice part = slice_make(proof, 16);
    return ntlm_crypto_hmac_md5(response_key, 16, &part, 1, out);
}

/* The magic constants include their terminating NUL (MS-NLMP 3.4.5.2/3.4.5.3). */
static const char sign_c2s[] = "session key to client-to-server signing key magic constant";
static const char sign_s2c[] = "session key to server-to-client signing key magic constant";
static const char seal_c2s[] = "session key to client-to-server sealing key magic constant";
static const char seal_s2c[] = "session key to server-to-client sealing key magic constant";

SECURITY_STATUS
ntlm_crypto_signkey(const uint8_t exported_key[16], bool client_to_server, uint8_t out[16])
{
    const char *magic = client_to_server ? sign_c2s : sign_s2c;
    struct slice parts[2] = {slice_make(exported_key, 16), slice_make(magic, sizeof(sign_c2s))};
    return ntlm_crypto_md5(parts, 2, out);
}

SECURITY_STATUS
ntlm_crypto_sealkey(const uint8_t exported_key[16], uint32_t flags, bool client_to_server,
                    uint8_t out[16])
{
    const char *magic = client_to_server ? seal_c2s : seal_s2c;
    size_t key_len = 5; /* 40-bit */

    if (flags & NTLMSSP_NEGOTIATE_128)
        key_len = 16;
    else if (flags & NTLMSSP_NEGOTIATE_56)
        key_len = 7;
    struct slice parts[2] = {slice_make(exported_key, key_len),
                             slice_make(magic, sizeof(seal_c2s))};
    return ntlm_crypto_md5(parts, 2, out);
}

SECURITY_STATUS
ntlm_crypto_mic(const uint8_t exported_key[16], struct slice negotiate, struct slice challenge,
                struct slice authenticate, size_t mic_offset, uint8_t out[16])
{
    static const uint8_t zeros[16];

    if (mic_offset + 16 > authenticate.len)
        return SEC_E_INVALID_TOKEN;
    struct slice parts[5] = {
        negotiate,
        challenge,
        slice_make(authenticate.ptr, mic_offset),
        slice_make(zeros, sizeof(zeros)),
        slice_make(authenticate.ptr + mic_offset + 16, authenticate.len - mic_offset - 16),
    };
    return ntlm_crypto_hmac_md5(exported_key, 16, parts, 5, out);
}

/* One address of SEC_CHANNEL_BINDINGS: its (length, offset) must lie inside buf. */
static bool
cb_field(struct slice buf, uint32_t len, uint32_t offset, struct slice *out)
{
    if (len == 0) {
        *out = slice_make(NULL, 0);
        return true;
    }
    if ((uint64_t)offset + len > buf.len)
        return false;
    *out = slice_make(buf.ptr + offset, len);
    return true;
}

SECURITY_STATUS
ntlm_crypto_bindings_hash(struct slice cb, uint8_t out[16])
{
    struct reader rd = reader_make(cb);
    uint32_t v[8];
    struct slice init, acc, app;

    /* SEC_CHANNEL_BINDINGS: eight 32-bit fields (sspi.h), host order on Linux = LE. */
    for (size_t i = 0; i < 8; i++)
        v[i] = reader_u32le(&rd);
    if (rd.failed)
        return SEC_E_BAD_BINDINGS;
    if (!cb_field(cb, v[1], v[2], &init) || !cb_field(cb, v[4], v[5], &acc) ||
        !cb_field(cb, v[6], v[7], &app))
        return SEC_E_BAD_BINDINGS;
    /* gss_channel_bindings_struct flattened: addrtype, length, value (RFC 4121 4.1.1.2). */
    uint32_t words[5] = {v[0], v[1], v[3], v[4], v[6]};
    uint8_t le[5][4];
    for (size_t i = 0; i < 5; i++) {
        le[i][0] = (uint8_t)words[i];
        le[i][1] = (uint8_t)(words[i] >> 8);
        le[i][2] = (uint8_t)(words[i] >> 16);
        le[i][3] = (uint8_t)(words[i] >> 24);
    }
    struct slice parts[8] = {
        slice_make(le[0], 4),
        slice_make(le[1], 4),
        init,
        slice_make(le[2], 4),
        slice_make(le[3], 4),
        acc,
        slice_make(le[4], 4),
        app,
    };
    return ntlm_crypto_md5(parts, 8, out);
}

SECURITY_STATUS
ntlm_crypto_random(uint8_t *out, size_t len)
{
    const struct ntlm_crypto *c = ntlm_crypto_get();

    if (c == NULL || RAND_bytes(out, (int)len) != 1)
        return SEC_E_INTERNAL_ERROR;
    return SEC_E_OK;
}
