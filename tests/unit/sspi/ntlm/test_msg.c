// SPDX-License-Identifier: MIT
// NTLM message codec: MS-NLMP 4.2.4.3 messages, the 32-byte NEGOTIATE, and
// malformed inputs that must fail closed.
#include <string.h>

#include "base/buf.h"
#include "harness/check.h"
#include "sspi/ntlm/av_pairs.h"
#include "sspi/ntlm/msg.h"
#include "unit/sspi/ntlm/ntlm_vectors.h"

static struct slice
vslice(const char *key)
{
    const struct vector *v = vec(key);
    return slice_make(v->bytes, v->len);
}

static void
test_challenge(void)
{
    struct ntlm_challenge c;
    struct ntlm_av_info info;
    struct slice msg = vslice("challenge_message");

    CHECK_EQ(ntlm_msg_type(msg), NTLM_MSG_CHALLENGE);
    CHECK_EQ(ntlm_msg_decode_challenge(msg, &c), SEC_E_OK);
    CHECK_HEX_EQ(c.flags, 0xe28a8233u);
    CHECK_MEM_EQ(c.server_challenge, vec("server_challenge")->bytes, 8);
    CHECK_EQ(c.target_name.len, 12);
    CHECK_MEM_EQ(c.target_name.ptr, "S\0e\0r\0v\0e\0r\0", 12);
    CHECK(c.has_version);
    CHECK_EQ(ntlm_av_decode(c.target_info, &info), SEC_E_OK);
    CHECK_EQ(info.nb_domain.len, 12);
    CHECK_EQ(info.nb_computer.len, 12);
    CHECK(!info.has_timestamp);

    /* Re-encoding gives the same bytes. */
    struct buf out;
    buf_init(&out, 4096);
    CHECK_EQ(ntlm_msg_encode_challenge(&c, &out), SEC_E_OK);
    CHECK_EQ(out.len, msg.len);
    CHECK_MEM_EQ(out.data, msg.ptr, msg.len);
    buf_free(&out);
}

static void
test_authenticate(void)
{
    struct ntlm_authenticate a;
    struct slice msg = vslice("authenticate_message");

    CHECK_EQ(ntlm_msg_decode_authenticate(msg, &a), SEC_E_OK);
    CHECK_HEX_EQ(a.flags, 0xe2888235u);
    CHECK_EQ(a.lm_response.len, 24);
    CHECK_MEM_EQ(a.lm_response.ptr, vec("lmv2_response")->bytes, 24);
    CHECK_EQ(a.nt_response.len, 84);
    CHECK_MEM_EQ(a.nt_response.ptr, vec("ntproofstr")->bytes, 16);
    CHECK_MEM_EQ(a.nt_response.ptr + 16, vec("temp")->bytes, vec("temp")->len);
    CHECK_EQ(a.user.len, 8);
    CHECK_EQ(a.domain.len, 12);
    CHECK_EQ(a.workstation.len, 16);
    CHECK_MEM_EQ(a.encrypted_session_key.ptr, vec("encrypted_session_key")->bytes, 16);
    CHECK(a.has_version);
    CHECK(!a.has_mic_field); /* payload starts at 72: no room for a MIC */

    /* Encoding the same fields in the spec's payload order reproduces 4.2.4.3. */
    struct buf out;
    buf_init(&out, 4096);
    CHECK_EQ(ntlm_msg_encode_authenticate(&a, false, &out), SEC_E_OK);
    CHECK_EQ(out.len, msg.len);
    CHECK_MEM_EQ(out.data, msg.ptr, msg.len);
    /* With a MIC field the payload moves to 88 and the decoder sees the MIC. */
    buf_free(&out);
    memset(a.mic, 0x42, sizeof(a.mic));
    CHECK_EQ(ntlm_msg_encode_authenticate(&a, true, &out), SEC_E_OK);
    struct ntlm_authenticate b;
    CHECK_EQ(ntlm_msg_decode_authenticate(buf_slice(&out), &b), SEC_E_OK);
    CHECK(b.has_mic_field);
    CHECK_MEM_EQ(b.mic, a.mic, 16);
    CHECK_EQ(b.nt_response.len, 84);
    buf_free(&out);
}

static void
test_negotiate(void)
{
    /* curl's 32-byte NEGOTIATE: OEM | REQUEST_TARGET | NTLM | ALWAYS_SIGN | ESS. */
    const uint8_t curl_neg[32] = {'N', 'T',  'L',  'M',  'S',  'S', 'P', 0, 1, 0, 0,
                                  0,   0x06, 0x82, 0x08, 0x00, 0,   0,   0, 0, 0, 0,
                                  0,   0,    0,    0,    0,    0,   0,   0, 0, 0};
    struct ntlm_negotiate n;
    CHECK_EQ(ntlm_msg_decode_negotiate(slice_make(curl_neg, sizeof(curl_neg)), &n), SEC_E_OK);
    CHECK_HEX_EQ(n.flags, 0x00088206u);
    CHECK(!n.has_version);

    /* Ours: always 40 bytes with a Version (gss-ntlmssp needs it). */
    struct ntlm_negotiate ours = {.flags = 0xe20882b7u, .has_version = true};
    memcpy(ours.version, ntlm_our_version, 8);
    struct buf out;
    buf_init(&out, 4096);
    CHECK_EQ(ntlm_msg_encode_negotiate(&ours, &out), SEC_E_OK);
    CHECK_EQ(out.len, 40);
    CHECK_EQ(ntlm_msg_decode_negotiate(buf_slice(&out), &n), SEC_E_OK);
    CHECK(n.has_version);
    CHECK_MEM_EQ(n.version, ntlm_our_version, 8);
    buf_free(&out);
}

static void
test_malformed(void)
{
    uint8_t m[512];
    struct ntlm_authenticate a;
    struct ntlm_challenge c;
    struct ntlm_negotiate n;
    const struct vector *auth = vec("authenticate_message");

    /* Truncations at every length fail (none reads past the end under ASan). */
    for (size_t len = 0; len < auth->len; len++) {
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, auth->bytes, len);
        SECURITY_STATUS st = ntlm_msg_decode_authenticate(slice_make(copy, len), &a);
        if (len < 64 || len < 0xe8)
            CHECK_EQ(st, SEC_E_INVALID_TOKEN);
        free(copy);
    }
    /* A field whose offset + length passes the end. */
    memcpy(m, auth->bytes, auth->len);
    m[20] = 0xFF; /* NtChallengeResponse length 0x54 -> 0xFF */
    CHECK_EQ(ntlm_msg_decode_authenticate(slice_make(m, auth->len), &a), SEC_E_INVALID_TOKEN);
    /* An offset inside the fixed header. */
    memcpy(m, auth->bytes, auth->len);
    m[24] = 0x10;
    CHECK_EQ(ntlm_msg_decode_authenticate(slice_make(m, auth->len), &a), SEC_E_INVALID_TOKEN);
    /* A 32-bit offset that would wrap. */
    memcpy(m, auth->bytes, auth->len);
    m[24] = 0xFF, m[25] = 0xFF, m[26] = 0xFF, m[27] = 0xFF;
    CHECK_EQ(ntlm_msg_decode_authenticate(slice_make(m, auth->len), &a), SEC_E_INVALID_TOKEN);
    /* Wrong signature / wrong type. */
    memcpy(m, auth->bytes, auth->len);
    m[0] = 'X';
    CHECK_EQ(ntlm_msg_decode_authenticate(slice_make(m, auth->len), &a), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_msg_type(slice_make(m, auth->len)), 0);
    CHECK_EQ(ntlm_msg_decode_challenge(vslice("authenticate_message"), &c), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_msg_decode_negotiate(vslice("challenge_message"), &n), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_msg_decode_negotiate(slice_make(m, 31), &n), SEC_E_INVALID_TOKEN);
}

static void
test_av_pairs(void)
{
    struct ntlm_av_info info;
    const uint8_t no_eol[] = {1, 0, 2, 0, 'A', 0};
    const uint8_t dup[] = {1, 0, 2, 0, 'A', 0, 1, 0, 2, 0, 'B', 0, 0, 0, 0, 0};
    const uint8_t bad_flags[] = {6, 0, 2, 0, 1, 0, 0, 0, 0, 0};
    const uint8_t overrun[] = {1, 0, 200, 0, 'A', 0, 0, 0, 0, 0};
    const uint8_t good[] = {6, 0, 4, 0, 2, 0, 0, 0, 7, 0, 8, 0, 1, 2, 3,
                            4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0}; /* trailing padding after EOL */

    CHECK_EQ(ntlm_av_decode(slice_make(no_eol, sizeof(no_eol)), &info), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_av_decode(slice_make(dup, sizeof(dup)), &info), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_av_decode(slice_make(bad_flags, sizeof(bad_flags)), &info), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_av_decode(slice_make(overrun, sizeof(overrun)), &info), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_av_decode(slice_make(good, sizeof(good)), &info), SEC_E_OK);
    CHECK(info.has_flags);
    CHECK_HEX_EQ(info.flags, MSV_AV_FLAG_MIC_PRESENT);
    CHECK(info.has_timestamp);
    CHECK_HEX_EQ(info.timestamp, 0x0807060504030201ull);

    struct buf out;
    const enum ntlm_av_id skip[] = {MSV_AV_FLAGS};
    buf_init(&out, 1024);
    CHECK_EQ(ntlm_av_copy_except(slice_make(good, sizeof(good)), skip, 1, &out), GH_OK);
    CHECK_EQ(out.len, 12); /* only the timestamp pair */
    CHECK_EQ(ntlm_av_append(&out, MSV_AV_EOL, NULL, 0), GH_OK);
    CHECK_EQ(ntlm_av_decode(buf_slice(&out), &info), SEC_E_OK);
    CHECK(!info.has_flags);
    CHECK(info.has_timestamp);
    buf_free(&out);
}

int
main(void)
{
    test_challenge();
    test_authenticate();
    test_negotiate();
    test_malformed();
    test_av_pairs();
    return check_done("test_msg");
}
