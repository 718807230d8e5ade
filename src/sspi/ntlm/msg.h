// SPDX-License-Identifier: MIT
// NTLM message codec (MS-NLMP 2.2.1): NEGOTIATE, CHALLENGE, AUTHENTICATE.
//
// Decoders borrow from their input (every slice points inside it), check every
// payload field against the message bounds and fail closed with
// SEC_E_INVALID_TOKEN. Encoders append to a struct buf.
#ifndef GH_SSPI_NTLM_MSG_H
#define GH_SSPI_NTLM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"

/* NegotiateFlags (MS-NLMP 2.2.2.5). */
#define NTLMSSP_NEGOTIATE_UNICODE                  0x00000001u
#define NTLMSSP_NEGOTIATE_OEM                      0x00000002u
#define NTLMSSP_REQUEST_TARGET                     0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN                     0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL                     0x00000020u
#define NTLMSSP_NEGOTIATE_DATAGRAM                 0x00000040u
#define NTLMSSP_NEGOTIATE_LM_KEY                   0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM                     0x00000200u
#define NTLMSSP_ANONYMOUS                          0x00000800u
#define NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED      0x00001000u
#define NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN              0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN                 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER                 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_IDENTIFY                 0x00100000u
#define NTLMSSP_REQUEST_NON_NT_SESSION_KEY         0x00400000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO              0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION                  0x02000000u
#define NTLMSSP_NEGOTIATE_128                      0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH                 0x40000000u
#define NTLMSSP_NEGOTIATE_56                       0x80000000u

#define NTLM_MSG_NEGOTIATE    1u
#define NTLM_MSG_CHALLENGE    2u
#define NTLM_MSG_AUTHENTICATE 3u

/* Fixed header sizes (without the optional Version / MIC). */
#define NTLM_NEGOTIATE_HEADER_LEN    32u
#define NTLM_CHALLENGE_HEADER_LEN    48u
#define NTLM_AUTHENTICATE_HEADER_LEN 64u
#define NTLM_VERSION_LEN             8u
#define NTLM_AUTHENTICATE_MIC_OFFSET 72u /* after the 8-byte Version */
#define NTLM_MIC_LEN                 16u

/* Upper bound on any message we produce or accept (Windows' cbMaxToken for NTLM). */
#define NTLM_MAX_MESSAGE_LEN 2888u

/* Returns the MessageType of msg (1..3) after checking the signature, or 0. */
uint32_t ntlm_msg_type(struct slice msg);

struct ntlm_negotiate {
    uint32_t flags;
    struct slice domain;      /* OEM, only meaningful with OEM_DOMAIN_SUPPLIED */
    struct slice workstation; /* OEM */
    bool has_version;
    uint8_t version[NTLM_VERSION_LEN];
};

struct ntlm_challenge {
    uint32_t flags;
    struct slice target_name; /* UTF-16LE with NEGOTIATE_UNICODE */
    uint8_t server_challenge[8];
    struct slice target_info; /* AV_PAIR list (av_pairs.h) */
    bool has_version;
    uint8_t version[NTLM_VERSION_LEN];
};

struct ntlm_authenticate {
    uint32_t flags;
    struct slice lm_response;
    struct slice nt_response;
    struct slice domain; /* UTF-16LE */
    struct slice user;   /* UTF-16LE */
    struct slice workstation;
    struct slice encrypted_session_key;
    bool has_version;
    uint8_t version[NTLM_VERSION_LEN];
    /* True when the 16 bytes at NTLM_AUTHENTICATE_MIC_OFFSET are header, not
     * payload (no payload field starts before offset 88): a MIC can be there. */
    bool has_mic_field;
    uint8_t mic[NTLM_MIC_LEN];
};

/* Decoders. SEC_E_OK or SEC_E_INVALID_TOKEN; *out is written only on success.
 * NEGOTIATE: the 32-byte form without Version (curl, Chromium) is accepted. */
SECURITY_STATUS ntlm_msg_decode_negotiate(struct slice msg, struct ntlm_negotiate *out);
SECURITY_STATUS ntlm_msg_decode_challenge(struct slice msg, struct ntlm_challenge *out);
SECURITY_STATUS ntlm_msg_decode_authenticate(struct slice msg, struct ntlm_authenticate *out);

/* Encoders append one message to out. When has_version is false no Version is
 * written (the NEGOTIATE is then 32 bytes); an AUTHENTICATE with with_mic gets a
 * 16-byte MIC field (zeros, or msg->mic) at offset 72. Payload order is the one
 * of MS-NLMP 4.2.4.3 (domain, user, workstation, LM, NT, session key).
 * SEC_E_OK, SEC_E_INSUFFICIENT_MEMORY or SEC_E_INVALID_TOKEN (a field too long). */
SECURITY_STATUS ntlm_msg_encode_negotiate(const struct ntlm_negotiate *msg, struct buf *out);
SECURITY_STATUS ntlm_msg_encode_challenge(const struct ntlm_challenge *msg, struct buf *out);
SECURITY_STATUS ntlm_msg_encode_authenticate(const struct ntlm_authenticate *msg, bool with_mic,
                                             struct buf *out);

/* The Version we announce (MS-NLMP 2.2.2.10): 10.0, build 20348, NTLMSSP_REVISION_W2K3. */
extern const uint8_t ntlm_our_version[NTLM_VERSION_LEN];

#endif
