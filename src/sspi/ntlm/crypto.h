// SPDX-License-Identifier: MIT
// NTLM cryptography (MS-NLMP 3.3.2, 3.4.4, 3.4.5, 3.1.5.1.2 MIC), on OpenSSL.
//
// MD4 and RC4 live in OpenSSL's legacy provider, which is loaded only into the
// PRIVATE library context of sspi/md4.h (sspi_legacy_libctx), never into the
// default one. MD4 is sspi_md4(); ntlm_crypto_get() fetches RC4 from that
// context and MD5 from the default context once per process, under pthread_once, so no call
// re-fetches an algorithm. The singleton is never freed (it lives as long as the process), which is
// what a thread-safe lazy initialisation without a global shutdown hook requires.
#ifndef GH_SSPI_NTLM_CRYPTO_H
#define GH_SSPI_NTLM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"

struct ntlm_crypto {
    OSSL_LIB_CTX *libctx; /* borrowed: the legacy context */
    EVP_MD *md5;
    EVP_CIPHER *rc4;
};

/* The process-wide crypto singleton; NULL when OpenSSL cannot provide MD4, MD5
 * or RC4 (e.g. no legacy provider installed). Thread-safe. */
const struct ntlm_crypto *ntlm_crypto_get(void);

/* MD5 over the concatenation of parts. SEC_E_OK or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS ntlm_crypto_md5(const struct slice *parts, size_t count, uint8_t out[16]);
/* HMAC-MD5 (RFC 2104) with a key of at most 64 bytes, over the concatenation of parts. */
SECURITY_STATUS ntlm_crypto_hmac_md5(const uint8_t *key, size_t key_len, const struct slice *parts,
                                     size_t count, uint8_t out[16]);
/* RC4K (MS-NLMP 6): one-shot RC4 with a 16-byte key; in and out may alias. */
SECURITY_STATUS ntlm_crypto_rc4k(const uint8_t key[16], const uint8_t *in, size_t len,
                                 uint8_t *out);

/* NTOWFv1 = MD4(UNICODE(password)) (MS-NLMP 3.3.1), password in UTF-8.
 * SEC_E_OK, SEC_E_INVALID_PARAMETER (not UTF-8), SEC_E_INSUFFICIENT_MEMORY or
 * SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS ntlm_crypto_nt_hash(const char *password, size_t password_len, uint8_t out[16]);
/* NTOWFv2 = HMAC_MD5(nt_hash, UNICODE(Uppercase(user) || domain)) (MS-NLMP 3.3.2),
 * user and domain in UTF-8 (domain may be NULL for ""). */
SECURITY_STATUS ntlm_crypto_ntowfv2(const uint8_t nt_hash[16], const char *user, const char *domain,
                                    uint8_t out[16]);
/* The same with user and domain already in UTF-16LE, as they travel in an
 * AUTHENTICATE_MESSAGE; the user is uppercased here. */
SECURITY_STATUS ntlm_crypto_ntowfv2_utf16(const uint8_t nt_hash[16], struct slice user16,
                                          struct slice domain16, uint8_t out[16]);

/* NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp) (MS-NLMP 3.3.2). */
SECURITY_STATUS ntlm_crypto_nt_proof(const uint8_t response_key[16],
                                     const uint8_t server_challenge[8], struct slice temp,
                                     uint8_t proof_out[16]);
/* LMv2 response (24 bytes): HMAC_MD5(key, ServerChallenge || ClientChallenge) || ClientChallenge.
 */
SECURITY_STATUS ntlm_crypto_lmv2_response(const uint8_t response_key[16],
                                          const uint8_t server_challenge[8],
                                          const uint8_t client_challenge[8], uint8_t out[24]);
/* SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr). */
SECURITY_STATUS ntlm_crypto_session_base_key(const uint8_t response_key[16],
                                             const uint8_t proof[16], uint8_t out[16]);

/* SIGNKEY / SEALKEY (MS-NLMP 3.4.5.2, 3.4.5.3) with extended session security;
 * client_to_server selects the magic constant. flags are the negotiated
 * NegotiateFlags (for SEALKEY's 128/56/40-bit choice). */
SECURITY_STATUS ntlm_crypto_signkey(const uint8_t exported_key[16], bool client_to_server,
                                    uint8_t out[16]);
SECURITY_STATUS ntlm_crypto_sealkey(const uint8_t exported_key[16], uint32_t flags,
                                    bool client_to_server, uint8_t out[16]);

/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE)
 * where the AUTHENTICATE's MIC field (16 bytes at mic_offset) counts as zeros. */
SECURITY_STATUS ntlm_crypto_mic(const uint8_t exported_key[16], struct slice negotiate,
                                struct slice challenge, struct slice authenticate,
                                size_t mic_offset, uint8_t out[16]);

/* The channel-binding hash for MsvAvChannelBindings (MS-NLMP 2.2.2.1): MD5 of
 * the gss_channel_bindings_struct (RFC 2744 3.11, RFC 4121 4.1.1.2 layout:
 * initiator addrtype, length, address, acceptor addrtype, length, address,
 * application data length, data; integers 32-bit little-endian) rebuilt from a
 * SEC_CHANNEL_BINDINGS buffer (header + data at offsets from its start).
 * SEC_E_OK, SEC_E_BAD_BINDINGS (malformed buffer) or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS ntlm_crypto_bindings_hash(struct slice sec_channel_bindings, uint8_t out[16]);

/* Cryptographically random bytes. SEC_E_OK or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS ntlm_crypto_random(uint8_t *out, size_t len);
/* Unpredictable bytes for values sent in clear (the server challenge), from a
 * per-thread pool of ntlm_crypto_random output refilled 512 bytes at a time
 * (and after fork(), so a child never repeats its parent's). Not for keys.
 * SEC_E_OK or SEC_E_INTERNAL_ERROR. Thread-safe. */
SECURITY_STATUS ntlm_crypto_nonce(uint8_t *out, size_t len);

#endif
