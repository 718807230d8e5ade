// SPDX-License-Identifier: MIT
// NTLM session security with extended session security (MS-NLMP 3.4.2-3.4.4):
//   checksum  = HMAC_MD5(SigningKey, SeqNum || Message)[0..7]
//   checksum  = RC4(Handle, checksum)            when KEY_EXCH was negotiated
//   signature = Version (1) || checksum || SeqNum          (16 bytes, LE)
// Sealing encrypts the message with the same direction handle first, then
// signs the plaintext (3.4.3). The handles are continuous RC4 streams
// (connection-oriented): every byte ever encrypted in one direction advances it,
// so a lost or reordered message can never be verified afterwards.
#include "sspi/ntlm/session.h"

#include <string.h>

#include "base/secret.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/msg.h"

#define MAX_PARTS 16

static SECURITY_STATUS
rc4_open(EVP_CIPHER_CTX **ctx, const uint8_t key[16])
{
    const struct ntlm_crypto *c = ntlm_crypto_get();

    if (c == NULL)
        return SEC_E_INTERNAL_ERROR;
    if (*ctx == NULL) {
        *ctx = EVP_CIPHER_CTX_new();
        if (*ctx == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
    }
    if (EVP_EncryptInit_ex2(*ctx, c->rc4, key, NULL, NULL) != 1)
        return SEC_E_INTERNAL_ERROR;
    return SEC_E_OK;
}

/* The handle goes back to the start of seal_key's stream; keyed on first use. */
static void
rc4_rekey(struct ntlm_session_dir *d)
{
    d->is_rc4_keyed = false;
    d->rc4_bytes = 0;
}

/* exported_key is wiped once the keys are derived. */
SECURITY_STATUS
ntlm_session_derive_keys(struct ntlm_session *s)
{
    SECURITY_STATUS st = SEC_E_OK;

    if (!s->is_ready)
        return SEC_E_NO_CONTEXT;
    if (s->has_keys)
        return SEC_E_OK;
    for (int d = NTLM_DIR_SEND; d <= NTLM_DIR_RECV && st == SEC_E_OK; d++) {
        /* The client sends client-to-server; the server receives it. */
        bool c2s = (d == NTLM_DIR_SEND) == s->is_client;
        st = ntlm_crypto_signkey(s->exported_key, c2s, s->dir[d].sign_key);
        if (st == SEC_E_OK)
            st = ntlm_crypto_sealkey(s->exported_key, s->flags, c2s, s->dir[d].seal_key);
    }
    if (st != SEC_E_OK)
        return st;
    secret_wipe(s->exported_key, sizeof(s->exported_key));
    s->has_keys = true;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_session_init(struct ntlm_session *s, const uint8_t exported_key[16], uint32_t flags,
                  bool is_client)
{
    ntlm_session_free(s);
    s->flags = flags;
    s->is_client = is_client;
    memcpy(s->exported_key, exported_key, sizeof(s->exported_key));
    s->is_ready = true;
    return SEC_E_OK;
}

void
ntlm_session_free(struct ntlm_session *s)
{
    if (s == NULL)
        return;
    for (int d = 0; d < 2; d++)
        EVP_CIPHER_CTX_free(s->dir[d].rc4);
    secret_wipe(s, sizeof(*s));
    *s = (struct ntlm_session){0};
}

SECURITY_STATUS
ntlm_session_reset_rc4(struct ntlm_session *s, bool reset_seq)
{
    if (!s->is_ready)
        return SEC_E_NO_CONTEXT;
    for (int d = 0; d < 2; d++) {
        rc4_rekey(&s->dir[d]);
        if (reset_seq)
            s->dir[d].seq = 0;
    }
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_session_crypt(struct ntlm_session *s, enum ntlm_dir dir, uint8_t *data, size_t len)
{
    struct ntlm_session_dir *d = &s->dir[dir];
    int n = 0;
    SECURITY_STATUS st;

    if (!s->is_ready)
        return SEC_E_NO_CONTEXT;
    if (!d->is_rc4_keyed) {
        st = ntlm_session_derive_keys(s);
        if (st == SEC_E_OK)
            st = rc4_open(&d->rc4, d->seal_key);
        if (st != SEC_E_OK)
            return st;
        d->is_rc4_keyed = true;
    }

    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (EVP_EncryptUpdate(s->dir[dir].rc4, data, &n, data, chunk) != 1)
            return SEC_E_INTERNAL_ERROR;
        s->dir[dir].rc4_bytes += (uint64_t)chunk;
        data += chunk;
        len -= (size_t)chunk;
    }
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_session_restore(struct ntlm_session *s, const uint64_t rc4_bytes[2], const uint32_t seq[2])
{
    uint8_t zeros[4096];

    if (!s->is_ready)
        return SEC_E_NO_CONTEXT;
    for (int d = 0; d < 2; d++) {
        if (rc4_bytes[d] > NTLM_SESSION_MAX_SKIP)
            return SEC_E_INVALID_TOKEN;
        /* RC4 has no seek: run the key stream forward over scratch bytes. */
        for (uint64_t left = rc4_bytes[d]; left > 0;) {
            size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
            memset(zeros, 0, n);
            SECURITY_STATUS st = ntlm_session_crypt(s, (enum ntlm_dir)d, zeros, n);
            if (st != SEC_E_OK)
                return st;
            left -= n;
        }
        s->dir[d].seq = seq[d];
    }
    secret_wipe(zeros, sizeof(zeros)); /* key stream */
    return SEC_E_OK;
}

/* The checksum of parts with sequence number seq, RC4'd when KEY_EXCH. */
static SECURITY_STATUS
checksum(struct ntlm_session *s, enum ntlm_dir dir, uint32_t seq, const struct slice *parts,
         size_t count, uint8_t out[8])
{
    struct slice all[MAX_PARTS + 1];
    uint8_t seq_le[4] = {(uint8_t)seq, (uint8_t)(seq >> 8), (uint8_t)(seq >> 16),
                         (uint8_t)(seq >> 24)};
    uint8_t mac[16];
    SECURITY_STATUS st;

    if (count > MAX_PARTS)
        return SEC_E_INVALID_TOKEN;
    st = ntlm_session_derive_keys(s);
    if (st != SEC_E_OK)
        return st;
    all[0] = slice_make(seq_le, 4);
    for (size_t i = 0; i < count; i++)
        all[i + 1] = parts[i];
    st = ntlm_crypto_hmac_md5(s->dir[dir].sign_key, 16, all, count + 1, mac);
    if (st != SEC_E_OK)
        return st;
    memcpy(out, mac, 8);
    if (s->flags & NTLMSSP_NEGOTIATE_KEY_EXCH)
        st = ntlm_session_crypt(s, dir, out, 8);
    return st;
}

SECURITY_STATUS
ntlm_session_sign(struct ntlm_session *s, enum ntlm_dir dir, const struct slice *parts,
                  size_t count, uint8_t sig_out[NTLM_SIGNATURE_LEN])
{
    uint32_t seq;
    SECURITY_STATUS st;

    if (!s->is_ready)
        return SEC_E_NO_CONTEXT;
    seq = s->dir[dir].seq;
    st = checksum(s, dir, seq, parts, count, sig_out + 4);
    if (st != SEC_E_OK)
        return st;
    sig_out[0] = 1, sig_out[1] = 0, sig_out[2] = 0, sig_out[3] = 0;
    sig_out[12] = (uint8_t)seq;
    sig_out[13] = (uint8_t)(seq >> 8);
    sig_out[14] = (uint8_t)(seq >> 16);
    sig_out[15] = (uint8_t)(seq >> 24);
    s->dir[dir].seq = seq + 1;
    return SEC_E_OK;
}

SECURITY_STATUS
ntlm_session_verify(struct ntlm_session *s, enum ntlm_dir dir, const struct slice *parts,
                    size_t count, const uint8_t sig[NTLM_SIGNATURE_LEN])
{
    uint8_t expect[8];
    uint32_t seq;
    uint32_t got_seq;
    SECURITY_STATUS st;

    if (!s->is_ready)
        return SEC_E_NO_CONTEXT;
    seq = s->dir[dir].seq;
    got_seq = (uint32_t)sig[12] | ((uint32_t)sig[13] << 8) | ((uint32_t)sig[14] << 16) |
              ((uint32_t)sig[15] << 24);
    /* The sequence number travels in clear with ESS: check it before touching
     * the RC4 stream, so a reordered message leaves the context usable. */
    if (got_seq != seq)
        return SEC_E_OUT_OF_SEQUENCE;
    st = checksum(s, dir, seq, parts, count, expect);
    if (st != SEC_E_OK)
        return st;
    s->dir[dir].seq = seq + 1;
    bool version_ok = sig[0] == 1 && sig[1] == 0 && sig[2] == 0 && sig[3] == 0;
    if (!secret_memeq(expect, sig + 4, 8) || !version_ok)
        return SEC_E_MESSAGE_ALTERED;
    return SEC_E_OK;
}

/* ---- SecBufferDesc front ends ------------------------------------------------ */

static bool
is_data(const SecBuffer *b)
{
    return (b->BufferType & ~SECBUFFER_ATTRMASK) == SECBUFFER_DATA;
}

static bool
is_readonly(const SecBuffer *b)
{
    return (b->BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) != 0;
}

/* Collects the DATA buffers and the TOKEN buffer of msg. */
static SECURITY_STATUS
split(PSecBufferDesc msg, struct slice *parts, size_t *count, PSecBuffer *token)
{
    *count = 0;
    *token = NULL;
    if (msg == NULL || (msg->cBuffers > 0 && msg->pBuffers == NULL))
        return SEC_E_INVALID_TOKEN;
    for (unsigned long i = 0; i < msg->cBuffers; i++) {
        PSecBuffer b = &msg->pBuffers[i];
        if (is_data(b)) {
            if (*count == MAX_PARTS || (b->cbBuffer > 0 && b->pvBuffer == NULL))
                return SEC_E_INVALID_TOKEN;
            parts[(*count)++] = slice_make(b->pvBuffer, b->cbBuffer);
        } else if ((b->BufferType & ~SECBUFFER_ATTRMASK) == SECBUFFER_TOKEN && *token == NULL) {
            *token = b;
        }
    }
    if (*token == NULL)
        return SEC_E_INVALID_TOKEN;
    if ((*token)->cbBuffer < NTLM_SIGNATURE_LEN || (*token)->pvBuffer == NULL)
        return SEC_E_BUFFER_TOO_SMALL;
    return SEC_E_OK;
}

static bool
can_sign(const struct ntlm_session *s)
{
    return s->is_ready && (s->flags & (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL |
                                       NTLMSSP_NEGOTIATE_ALWAYS_SIGN)) != 0;
}

SECURITY_STATUS
ntlm_session_make_signature(struct ntlm_session *s, PSecBufferDesc msg)
{
    struct slice parts[MAX_PARTS];
    size_t count;
    PSecBuffer token;
    SECURITY_STATUS st;

    if (!can_sign(s))
        return SEC_E_UNSUPPORTED_FUNCTION;
    st = split(msg, parts, &count, &token);
    if (st != SEC_E_OK)
        return st;
    st = ntlm_session_sign(s, NTLM_DIR_SEND, parts, count, token->pvBuffer);
    if (st == SEC_E_OK)
        token->cbBuffer = NTLM_SIGNATURE_LEN;
    return st;
}

SECURITY_STATUS
ntlm_session_verify_signature(struct ntlm_session *s, PSecBufferDesc msg)
{
    struct slice parts[MAX_PARTS];
    size_t count;
    PSecBuffer token;
    SECURITY_STATUS st;

    if (!can_sign(s))
        return SEC_E_UNSUPPORTED_FUNCTION;
    st = split(msg, parts, &count, &token);
    if (st == SEC_E_BUFFER_TOO_SMALL)
        return SEC_E_MESSAGE_ALTERED; /* a truncated signature is an altered message */
    if (st != SEC_E_OK)
        return st;
    return ntlm_session_verify(s, NTLM_DIR_RECV, parts, count, token->pvBuffer);
}

SECURITY_STATUS
ntlm_session_encrypt(struct ntlm_session *s, unsigned long qop, PSecBufferDesc msg)
{
    struct slice parts[MAX_PARTS];
    size_t count;
    PSecBuffer token;
    uint8_t sig[NTLM_SIGNATURE_LEN];
    SECURITY_STATUS st;

    if (qop == SECQOP_WRAP_NO_ENCRYPT)
        return ntlm_session_make_signature(s, msg);
    if (qop != 0)
        return SEC_E_QOP_NOT_SUPPORTED;
    if (!s->is_ready || !(s->flags & NTLMSSP_NEGOTIATE_SEAL))
        return SEC_E_UNSUPPORTED_FUNCTION;
    st = split(msg, parts, &count, &token);
    if (st != SEC_E_OK)
        return st;
    /* The MAC covers the plaintext, so it is computed before the buffers are
     * encrypted in place; the RC4 stream still sees the message first and the
     * checksum second, as SEAL() does (3.4.3). */
    uint32_t seq = s->dir[NTLM_DIR_SEND].seq;
    struct slice all[MAX_PARTS + 1];
    uint8_t seq_le[4] = {(uint8_t)seq, (uint8_t)(seq >> 8), (uint8_t)(seq >> 16),
                         (uint8_t)(seq >> 24)};
    uint8_t mac[16];
    st = ntlm_session_derive_keys(s);
    if (st != SEC_E_OK)
        return st;
    all[0] = slice_make(seq_le, 4);
    for (size_t i = 0; i < count; i++)
        all[i + 1] = parts[i];
    st = ntlm_crypto_hmac_md5(s->dir[NTLM_DIR_SEND].sign_key, 16, all, count + 1, mac);
    if (st != SEC_E_OK)
        return st;
    for (unsigned long i = 0; i < msg->cBuffers; i++) {
        PSecBuffer b = &msg->pBuffers[i];
        if (is_data(b) && !is_readonly(b)) {
            st = ntlm_session_crypt(s, NTLM_DIR_SEND, b->pvBuffer, b->cbBuffer);
            if (st != SEC_E_OK)
                goto cleanup;
        }
    }
    memcpy(sig + 4, mac, 8);
    if (s->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
        st = ntlm_session_crypt(s, NTLM_DIR_SEND, sig + 4, 8);
        if (st != SEC_E_OK)
            goto cleanup;
    }
    sig[0] = 1, sig[1] = 0, sig[2] = 0, sig[3] = 0;
    memcpy(sig + 12, seq_le, 4);
    memcpy(token->pvBuffer, sig, sizeof(sig));
    token->cbBuffer = NTLM_SIGNATURE_LEN;
    s->dir[NTLM_DIR_SEND].seq = seq + 1;
cleanup:
    secret_wipe(mac, sizeof(mac));
    return st;
}

SECURITY_STATUS
ntlm_session_decrypt(struct ntlm_session *s, PSecBufferDesc msg)
{
    struct slice parts[MAX_PARTS];
    size_t count;
    PSecBuffer token;
    SECURITY_STATUS st;
    uint8_t sig[NTLM_SIGNATURE_LEN];

    if (!s->is_ready || !(s->flags & NTLMSSP_NEGOTIATE_SEAL))
        return SEC_E_UNSUPPORTED_FUNCTION;
    st = split(msg, parts, &count, &token);
    if (st == SEC_E_BUFFER_TOO_SMALL)
        return SEC_E_MESSAGE_ALTERED;
    if (st != SEC_E_OK)
        return st;
    memcpy(sig, token->pvBuffer, sizeof(sig));
    uint32_t got_seq = (uint32_t)sig[12] | ((uint32_t)sig[13] << 8) | ((uint32_t)sig[14] << 16) |
                       ((uint32_t)sig[15] << 24);
    if (got_seq != s->dir[NTLM_DIR_RECV].seq)
        return SEC_E_OUT_OF_SEQUENCE;
    for (unsigned long i = 0; i < msg->cBuffers; i++) {
        PSecBuffer b = &msg->pBuffers[i];
        if (is_data(b) && !is_readonly(b)) {
            st = ntlm_session_crypt(s, NTLM_DIR_RECV, b->pvBuffer, b->cbBuffer);
            if (st != SEC_E_OK)
                return st;
        }
    }
    /* parts[] point into the buffers, which now hold the plaintext. */
    return ntlm_session_verify(s, NTLM_DIR_RECV, parts, count, sig);
}
