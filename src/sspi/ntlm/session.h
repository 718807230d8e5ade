// SPDX-License-Identifier: MIT
// NTLM session security (MS-NLMP 3.4): signing and sealing with extended
// session security, connection-oriented (one RC4 stream per direction and a
// 32-bit sequence number per direction, both advancing with every message).
#ifndef GH_SSPI_NTLM_SESSION_H
#define GH_SSPI_NTLM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"

#define NTLM_SIGNATURE_LEN 16u

enum ntlm_dir {
    NTLM_DIR_SEND, /* what this side sends (client: client-to-server) */
    NTLM_DIR_RECV, /* what this side receives */
};

struct ntlm_session_dir {
    uint8_t sign_key[16];
    uint8_t seal_key[16];
    EVP_CIPHER_CTX *rc4; /* the RC4 handle of this direction (MS-NLMP 3.4.4) */
    bool is_rc4_keyed;   /* rc4 holds seal_key's stream (keyed on first use) */
    uint64_t rc4_bytes;  /* key stream used since the handle was keyed (packed contexts) */
    uint32_t seq;
};

struct ntlm_session {
    bool is_ready;
    bool is_client;
    bool has_keys;                  /* sign/seal keys derived from exported_key */
    uint32_t flags;                 /* negotiated NegotiateFlags */
    uint8_t exported_key[16];       /* kept until the keys are derived */
    struct ntlm_session_dir dir[2]; /* indexed by enum ntlm_dir */
};

/* Makes the session ready to derive the four keys from the exported session
 * key; is_client picks which constants belong to which direction. The keys
 * are derived, and the RC4 handles keyed, on first use: an HTTP handshake
 * never signs or seals, and the derivation was a sixth of its server CPU.
 * SEC_E_OK (it cannot fail now; the first use reports a failure). */
SECURITY_STATUS ntlm_session_init(struct ntlm_session *s, const uint8_t exported_key[16],
                                  uint32_t flags, bool is_client);
/* Derives the sign and seal keys of both directions now (MS-NLMP 3.4.5.2,
 * 3.4.5.3) if not done yet; every operation below does it on first use.
 * SEC_E_OK, SEC_E_NO_CONTEXT (not initialised) or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS ntlm_session_derive_keys(struct ntlm_session *s);
/* Wipes the keys and frees the handles. NULL-safe; s is reusable afterwards. */
void ntlm_session_free(struct ntlm_session *s);
/* Re-keys both RC4 handles from their sealing keys (the state they had right
 * after the handshake); when reset_seq, sequence numbers go back to 0 too.
 * For SPNEGO's mechListMIC (MS-SPNG 3.3.5.1). */
SECURITY_STATUS ntlm_session_reset_rc4(struct ntlm_session *s, bool reset_seq);

/* Computes the NTLMSSP_MESSAGE_SIGNATURE (MS-NLMP 2.2.2.9.1, 3.4.4.2) of the
 * concatenation of parts with direction dir's key, handle and sequence number,
 * then advances that sequence number. */
SECURITY_STATUS ntlm_session_sign(struct ntlm_session *s, enum ntlm_dir dir,
                                  const struct slice *parts, size_t count,
                                  uint8_t sig_out[NTLM_SIGNATURE_LEN]);
/* Checks sig against the concatenation of parts for direction dir.
 * SEC_E_OK, SEC_E_OUT_OF_SEQUENCE (the sequence number is not the expected one;
 * nothing consumed), SEC_E_MESSAGE_ALTERED (checksum or version wrong; the
 * sequence number is consumed, as the peer consumed it). */
SECURITY_STATUS ntlm_session_verify(struct ntlm_session *s, enum ntlm_dir dir,
                                    const struct slice *parts, size_t count,
                                    const uint8_t sig[NTLM_SIGNATURE_LEN]);
/* Puts a freshly initialized session into the state of one that has used
 * rc4_bytes of each direction's key stream and reached sequence numbers seq
 * (ImportSecurityContext). rc4_bytes beyond NTLM_SESSION_MAX_SKIP are refused
 * (SEC_E_INVALID_TOKEN): skipping costs time. */
#define NTLM_SESSION_MAX_SKIP (64u << 20)
SECURITY_STATUS ntlm_session_restore(struct ntlm_session *s, const uint64_t rc4_bytes[2],
                                     const uint32_t seq[2]);
/* RC4 with direction dir's handle, in place. */
SECURITY_STATUS ntlm_session_crypt(struct ntlm_session *s, enum ntlm_dir dir, uint8_t *data,
                                   size_t len);

/* SSPI semantics over a SecBufferDesc: SECBUFFER_DATA buffers (several allowed;
 * SECBUFFER_READONLY ones are signed, never encrypted) and one SECBUFFER_TOKEN
 * of at least 16 bytes for the signature (its cbBuffer is set to 16).
 * SEC_E_INVALID_TOKEN / SEC_E_BUFFER_TOO_SMALL for a bad descriptor,
 * SEC_E_UNSUPPORTED_FUNCTION when signing/sealing was not negotiated. */
SECURITY_STATUS ntlm_session_make_signature(struct ntlm_session *s, PSecBufferDesc msg);
SECURITY_STATUS ntlm_session_verify_signature(struct ntlm_session *s, PSecBufferDesc msg);
SECURITY_STATUS ntlm_session_encrypt(struct ntlm_session *s, unsigned long qop, PSecBufferDesc msg);
SECURITY_STATUS ntlm_session_decrypt(struct ntlm_session *s, PSecBufferDesc msg);

#endif
