// SPDX-License-Identifier: MIT
// NTLM cryptography on OpenSSL 3. Every algorithm is fetched once (see
// crypto.h); HMAC-MD5 is built from the cached
// MD5 (RFC 2104) because EVP_MAC would look the digest up by name on every
// initialisation, which dominates the cost of a handshake.
#include "sspi/ntlm/crypto.h"

#include <pthread.h>
#include <stdatomic.h>
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
/* One MD5 context per thread, re-initialised for each digest: allocating and
 * freeing an EVP_MD_CTX per digest was a third of the digests' cost. */
static pthread_key_t md_ctx_key;

static void
md_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

/* RC4 from the private legacy context (sspi/md4.h, which also does MD4); MD5 and random
 * bytes from the default context, which never sees the legacy provider. */
static void
crypto_init(void)
{
    OSSL_LIB_CTX *legacy = sspi_legacy_libctx();

    if (legacy == NULL || pthread_key_create(&md_ctx_key, md_ctx_free) != 0)
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

/* This thread's MD5 context (freed when the thread exits); NULL on OOM. */
static EVP_MD_CTX *
thread_md_ctx(void)
{
    EVP_MD_CTX *ctx = pthread_getspecific(md_ctx_key);

    if (ctx != NULL)
        return ctx;
    ctx = EVP_MD_CTX_new();
    if (ctx != NULL && pthread_setspecific(md_ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* MD5 of parts, optionally preceded by a 64-byte block (HMAC's padded key). */
static SECURITY_STATUS
digest(const uint8_t *block, const struct slice *parts, size_t count, uint8_t out[16])
{
    const struct ntlm_crypto *c = ntlm_crypto_get();
    EVP_MD_CTX *ctx;
    unsigned int out_len = 0;

    if (c == NULL)
        return SEC_E_INTERNAL_ERROR;
    ctx = thread_md_ctx();
    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (EVP_DigestInit_ex2(ctx, c->md5, NULL) != 1)
        return SEC_E_INTERNAL_ERROR;
    if (block != NULL && EVP_DigestUpdate(ctx, block, 64) != 1)
        return SEC_E_INTERNAL_ERROR;
    for (size_t i = 0; i < count; i++) {
        if (parts[i].len > 0 && EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len) != 1)
            return SEC_E_INTERNAL_ERROR;
    }
    if (EVP_DigestFinal_ex(ctx, out, &out_len) != 1 || out_len != 16)
        return SEC_E_INTERNAL_ERROR;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_crypto_md5(const struct slice *parts, size_t count, uint8_t out[16])
{
    return digest(NULL, parts, count, out);
}

SECURITY_STATUS
ntlm_crypto_hmac_md5(const uint8_t *key, size_t key_len, const struct slice *parts, size_t count,
                     uint8_t out[16])
{
    uint8_t pad[64];
    uint8_t inner[16];
    struct slice outer_part;
    SECURITY_STATUS st;

    if (key_len > sizeof(pad))
        return SEC_E_INTERNAL_ERROR;
    /* inner = MD5((K ^ ipad) || text) */
    memset(pad, 0x36, sizeof(pad));
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    st = digest(pad, parts, count, inner);
    if (st != SEC_E_OK)
        goto cleanup;
    /* out = MD5((K ^ opad) || inner) */
    memset(pad, 0x5c, sizeof(pad));
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    outer_part = slice_make(inner, sizeof(inner));
    st = digest(pad, &outer_part, 1, out);
cleanup:
    secret_wipe(pad, sizeof(pad));
    secret_wipe(inner, sizeof(inner));
    return st;
}

/* RC4K (MS-NLMP 6) is one 16-byte block per handshake (the exported session
 * key), so the cipher is run here rather than through EVP: keying the legacy
 * provider's RC4 cost ~5,000 instructions of parameter handling, the key
 * schedule itself ~1,500. The session's streams (session.c) stay on OpenSSL. */
SECURITY_STATUS
ntlm_crypto_rc4k(const uint8_t key[16], const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t state[256];
    unsigned i, j = 0;

    /* Key-scheduling algorithm. */
    for (i = 0; i < 256; i++)
        state[i] = (uint8_t)i;
    for (i = 0; i < 256; i++) {
        j = (j + state[i] + key[i % 16]) & 0xff;
        uint8_t t = state[i];
        state[i] = state[j];
        state[j] = t;
    }
    /* Pseudo-random generation, XORed over the input. */
    i = 0;
    j = 0;
    for (size_t n = 0; n < len; n++) {
        i = (i + 1) & 0xff;
        j = (j + state[i]) & 0xff;
        uint8_t t = state[i];
        state[i] = state[j];
        state[j] = t;
        out[n] = in[n] ^ state[(state[i] + state[j]) & 0xff];
    }
    secret_wipe(state, sizeof(state));
    return SEC_E_OK;
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

/* Nonces come from a per-thread pool of RAND_bytes output: one RAND_bytes
 * for 8 bytes was 6,600 instructions (DRBG reseed checks, a getpid, an AES
 * key schedule), a seventh of a server's handshake. A child process after
 * fork() must not hand out its parent's pool: fork_generation moves on in
 * the child, which makes every pool stale. */
static atomic_uint fork_generation;
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void
nonce_after_fork(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void
nonce_init(void)
{
    (void)pthread_atfork(NULL, NULL, nonce_after_fork);
}

SECURITY_STATUS
ntlm_crypto_nonce(uint8_t *out, size_t len)
{
    static _Thread_local uint8_t pool[512];
    static _Thread_local size_t pool_left;
    static _Thread_local unsigned pool_generation;
    unsigned generation;

    if (len > sizeof(pool) / 4)
        return ntlm_crypto_random(out, len);
    pthread_once(&nonce_once, nonce_init);
    generation = atomic_load(&fork_generation);
    if (pool_left < len || pool_generation != generation) {
        if (ntlm_crypto_random(pool, sizeof(pool)) != SEC_E_OK)
            return SEC_E_INTERNAL_ERROR;
        pool_left = sizeof(pool);
        pool_generation = generation;
    }
    /* Each byte is handed out once, then wiped from the pool. */
    memcpy(out, pool + sizeof(pool) - pool_left, len);
    secret_wipe(pool + sizeof(pool) - pool_left, len);
    pool_left -= len;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_crypto_random(uint8_t *out, size_t len)
{
    const struct ntlm_crypto *c = ntlm_crypto_get();

    if (c == NULL || RAND_bytes(out, (int)len) != 1)
        return SEC_E_INTERNAL_ERROR;
    return SEC_E_OK;
}
