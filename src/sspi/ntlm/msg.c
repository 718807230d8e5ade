// SPDX-License-Identifier: MIT
// NTLM messages (MS-NLMP 2.2.1). Every variable field is a "fields" triple
//    0 Len (u16)   2 MaxLen (u16)   4 BufferOffset (u32, from the message start)
// whose bytes must lie inside the message and after the fixed header.
#include "sspi/ntlm/msg.h"

#include <string.h>

#include <gatehouse/error.h>

#include "base/reader.h"

static const uint8_t ntlm_signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', '\0'};

/* 10.0.20348, NTLMSSP_REVISION_W2K3 (0x0F). */
const uint8_t ntlm_our_version[NTLM_VERSION_LEN] = {10, 0, 0x7c, 0x4f, 0, 0, 0, 0x0f};

uint32_t
ntlm_msg_type(struct slice msg)
{
    struct reader rd = reader_make(msg);
    const uint8_t *sig = reader_take(&rd, 8);
    uint32_t type = reader_u32le(&rd);

    if (rd.failed || memcmp(sig, ntlm_signature, 8) != 0)
        return 0;
    return (type >= NTLM_MSG_NEGOTIATE && type <= NTLM_MSG_AUTHENTICATE) ? type : 0;
}

static bool
take_header(struct reader *rd, uint32_t type)
{
    const uint8_t *sig = reader_take(rd, 8);
    uint32_t t = reader_u32le(rd);
    return !rd->failed && memcmp(sig, ntlm_signature, 8) == 0 && t == type;
}

/* Reads one fields triple; the payload it names must lie in [header_len, msg.len).
 * Tracks the lowest payload offset in *min_offset (to locate optional header
 * fields such as Version and MIC). */
static struct slice
take_field(struct reader *rd, struct slice msg, size_t header_len, size_t *min_offset)
{
    uint16_t len = reader_u16le(rd);
    reader_u16le(rd); /* MaxLen: SHOULD equal Len, MUST be ignored */
    uint32_t offset = reader_u32le(rd);

    if (rd->failed || len == 0)
        return slice_make(NULL, 0);
    if (offset < header_len || (uint64_t)offset + len > msg.len) {
        rd->failed = true;
        return slice_make(NULL, 0);
    }
    if (offset < *min_offset)
        *min_offset = offset;
    return slice_make(msg.ptr + offset, len);
}

/* NEGOTIATE_MESSAGE (2.2.1.1):
 *    0 Signature           8 MessageType (1)   12 NegotiateFlags
 *   16 DomainNameFields   24 WorkstationFields  32 Version (optional)  40 payload */
SECURITY_STATUS
ntlm_msg_decode_negotiate(struct slice msg, struct ntlm_negotiate *out)
{
    struct reader rd = reader_make(msg);
    struct ntlm_negotiate n = {0};
    size_t min_offset = msg.len;

    if (msg.len > NTLM_MAX_MESSAGE_LEN || !take_header(&rd, NTLM_MSG_NEGOTIATE))
        return SEC_E_INVALID_TOKEN;
    n.flags = reader_u32le(&rd);
    n.domain = take_field(&rd, msg, NTLM_NEGOTIATE_HEADER_LEN, &min_offset);
    n.workstation = take_field(&rd, msg, NTLM_NEGOTIATE_HEADER_LEN, &min_offset);
    if (rd.failed)
        return SEC_E_INVALID_TOKEN;
    /* The 32-byte form (curl, Chromium) has no Version; read it only when the
     * bytes are there and are not payload. */
    if (msg.len >= NTLM_NEGOTIATE_HEADER_LEN + NTLM_VERSION_LEN &&
        min_offset >= NTLM_NEGOTIATE_HEADER_LEN + NTLM_VERSION_LEN) {
        n.has_version = true;
        memcpy(n.version, msg.ptr + NTLM_NEGOTIATE_HEADER_LEN, NTLM_VERSION_LEN);
    }
    *out = n;
    return SEC_E_OK;
}

/* CHALLENGE_MESSAGE (2.2.1.2):
 *    0 Signature          8 MessageType (2)  12 TargetNameFields
 *   20 NegotiateFlags    24 ServerChallenge  32 Reserved (8)
 *   40 TargetInfoFields  48 Version (optional)  56 payload */
SECURITY_STATUS
ntlm_msg_decode_challenge(struct slice msg, struct ntlm_challenge *out)
{
    struct reader rd = reader_make(msg);
    struct ntlm_challenge c = {0};
    size_t min_offset = msg.len;

    if (msg.len > NTLM_MAX_MESSAGE_LEN || !take_header(&rd, NTLM_MSG_CHALLENGE))
        return SEC_E_INVALID_TOKEN;
    c.target_name = take_field(&rd, msg, NTLM_CHALLENGE_HEADER_LEN, &min_offset);
    c.flags = reader_u32le(&rd);
    reader_copy(&rd, c.server_challenge, sizeof(c.server_challenge));
    reader_take(&rd, 8);
    c.target_info = take_field(&rd, msg, NTLM_CHALLENGE_HEADER_LEN, &min_offset);
    if (rd.failed)
        return SEC_E_INVALID_TOKEN;
    if (msg.len >= NTLM_CHALLENGE_HEADER_LEN + NTLM_VERSION_LEN &&
        min_offset >= NTLM_CHALLENGE_HEADER_LEN + NTLM_VERSION_LEN) {
        c.has_version = true;
        memcpy(c.version, msg.ptr + NTLM_CHALLENGE_HEADER_LEN, NTLM_VERSION_LEN);
    }
    *out = c;
    return SEC_E_OK;
}

/* AUTHENTICATE_MESSAGE (2.2.1.3):
 *    0 Signature                 8 MessageType (3)
 *   12 LmChallengeResponseFields 20 NtChallengeResponseFields
 *   28 DomainNameFields          36 UserNameFields      44 WorkstationFields
 *   52 EncryptedRandomSessionKeyFields                  60 NegotiateFlags
 *   64 Version (optional)        72 MIC (optional, 16)  88 payload */
SECURITY_STATUS
ntlm_msg_decode_authenticate(struct slice msg, struct ntlm_authenticate *out)
{
    struct reader rd = reader_make(msg);
    struct ntlm_authenticate a = {0};
    size_t min_offset = msg.len;
    const size_t h = NTLM_AUTHENTICATE_HEADER_LEN;

    if (msg.len > NTLM_MAX_MESSAGE_LEN || !take_header(&rd, NTLM_MSG_AUTHENTICATE))
        return SEC_E_INVALID_TOKEN;
    a.lm_response = take_field(&rd, msg, h, &min_offset);
    a.nt_response = take_field(&rd, msg, h, &min_offset);
    a.domain = take_field(&rd, msg, h, &min_offset);
    a.user = take_field(&rd, msg, h, &min_offset);
    a.workstation = take_field(&rd, msg, h, &min_offset);
    a.encrypted_session_key = take_field(&rd, msg, h, &min_offset);
    a.flags = reader_u32le(&rd);
    if (rd.failed)
        return SEC_E_INVALID_TOKEN;
    if (msg.len >= h + NTLM_VERSION_LEN && min_offset >= h + NTLM_VERSION_LEN) {
        a.has_version = true;
        memcpy(a.version, msg.ptr + h, NTLM_VERSION_LEN);
    }
    if (msg.len >= NTLM_AUTHENTICATE_MIC_OFFSET + NTLM_MIC_LEN &&
        min_offset >= NTLM_AUTHENTICATE_MIC_OFFSET + NTLM_MIC_LEN) {
        a.has_mic_field = true;
        memcpy(a.mic, msg.ptr + NTLM_AUTHENTICATE_MIC_OFFSET, NTLM_MIC_LEN);
    }
    *out = a;
    return SEC_E_OK;
}

/* ---- Encoders --------------------------------------------------------------- */

static void
put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Lays out header + payload fields: writes each fields triple at hdr[field_at[i]]
 * and appends the payloads in order after the header. */
static SECURITY_STATUS
encode(uint8_t *hdr, size_t hdr_len, const struct slice *payload, const size_t *field_at,
       size_t count, struct buf *out)
{
    size_t offset = hdr_len;

    for (size_t i = 0; i < count; i++) {
        if (payload[i].len > UINT16_MAX)
            return SEC_E_INVALID_TOKEN;
        put_u16(hdr + field_at[i], (uint32_t)payload[i].len);
        put_u16(hdr + field_at[i] + 2, (uint32_t)payload[i].len);
        put_u32(hdr + field_at[i] + 4, (uint32_t)offset);
        offset += payload[i].len;
    }
    if (offset > NTLM_MAX_MESSAGE_LEN)
        return SEC_E_INVALID_TOKEN;
    if (buf_reserve(out, offset) != GH_OK)
        return SEC_E_INSUFFICIENT_MEMORY;
    buf_append(out, hdr, hdr_len);
    for (size_t i = 0; i < count; i++) {
        if (payload[i].len > 0)
            buf_append(out, payload[i].ptr, payload[i].len);
    }
    return SEC_E_OK;
}

static void
put_header(uint8_t *hdr, uint32_t type)
{
    memcpy(hdr, ntlm_signature, 8);
    put_u32(hdr + 8, type);
}

SECURITY_STATUS
ntlm_msg_encode_negotiate(const struct ntlm_negotiate *msg, struct buf *out)
{
    uint8_t hdr[NTLM_NEGOTIATE_HEADER_LEN + NTLM_VERSION_LEN] = {0};
    size_t hdr_len = NTLM_NEGOTIATE_HEADER_LEN;
    const size_t field_at[2] = {16, 24};
    struct slice payload[2] = {msg->domain, msg->workstation};

    put_header(hdr, NTLM_MSG_NEGOTIATE);
    put_u32(hdr + 12, msg->flags);
    if (msg->has_version) {
        memcpy(hdr + NTLM_NEGOTIATE_HEADER_LEN, msg->version, NTLM_VERSION_LEN);
        hdr_len += NTLM_VERSION_LEN;
    }
    return encode(hdr, hdr_len, payload, field_at, 2, out);
}

SECURITY_STATUS
ntlm_msg_encode_challenge(const struct ntlm_challenge *msg, struct buf *out)
{
    uint8_t hdr[NTLM_CHALLENGE_HEADER_LEN + NTLM_VERSION_LEN] = {0};
    size_t hdr_len = NTLM_CHALLENGE_HEADER_LEN;
    const size_t field_at[2] = {12, 40};
    struct slice payload[2] = {msg->target_name, msg->target_info};

    put_header(hdr, NTLM_MSG_CHALLENGE);
    put_u32(hdr + 20, msg->flags);
    memcpy(hdr + 24, msg->server_challenge, 8);
    if (msg->has_version) {
        memcpy(hdr + NTLM_CHALLENGE_HEADER_LEN, msg->version, NTLM_VERSION_LEN);
        hdr_len += NTLM_VERSION_LEN;
    }
    return encode(hdr, hdr_len, payload, field_at, 2, out);
}

SECURITY_STATUS
ntlm_msg_encode_authenticate(const struct ntlm_authenticate *msg, bool with_mic, struct buf *out)
{
    uint8_t hdr[NTLM_AUTHENTICATE_MIC_OFFSET + NTLM_MIC_LEN] = {0};
    size_t hdr_len = NTLM_AUTHENTICATE_HEADER_LEN;
    /* Payload order as in MS-NLMP 4.2.4.3; fields table order differs. */
    const size_t field_at[6] = {28, 36, 44, 12, 20, 52};
    struct slice payload[6] = {msg->domain,      msg->user,        msg->workstation,
                               msg->lm_response, msg->nt_response, msg->encrypted_session_key};

    put_header(hdr, NTLM_MSG_AUTHENTICATE);
    put_u32(hdr + 60, msg->flags);
    if (msg->has_version || with_mic) {
        memcpy(hdr + NTLM_AUTHENTICATE_HEADER_LEN, msg->version, NTLM_VERSION_LEN);
        hdr_len += NTLM_VERSION_LEN;
    }
    if (with_mic) {
        memcpy(hdr + NTLM_AUTHENTICATE_MIC_OFFSET, msg->mic, NTLM_MIC_LEN);
        hdr_len += NTLM_MIC_LEN;
    }
    return encode(hdr, hdr_len, payload, field_at, 6, out);
}
