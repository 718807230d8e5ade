// SPDX-License-Identifier: MIT
// NTLM session security: MS-NLMP 4.2.4.4 (GSS_WrapEx) and both directions.
#include <string.h>

#include "harness/check.h"
#include "sspi/ntlm/msg.h"
#include "sspi/ntlm/session.h"
#include "unit/sspi/ntlm/ntlm_vectors.h"

static uint32_t
v2_flags(void)
{
    const struct vector *f = vec("v2_flags");
    return (uint32_t)f->bytes[0] | (uint32_t)f->bytes[1] << 8 | (uint32_t)f->bytes[2] << 16 |
           (uint32_t)f->bytes[3] << 24;
}

static void
test_wrap_vector(void)
{
    struct ntlm_session client = {0}, server = {0};
    const struct vector *pt = vec("seal_plaintext");
    uint8_t data[64], sig[16];
    SecBuffer bufs[2] = {{(unsigned long)pt->len, SECBUFFER_DATA, data},
                         {sizeof(sig), SECBUFFER_TOKEN, sig}};
    SecBufferDesc desc = {SECBUFFER_VERSION, 2, bufs};

    memcpy(data, pt->bytes, pt->len);
    CHECK_EQ(ntlm_session_init(&client, vec("random_session_key")->bytes, v2_flags(), true),
             SEC_E_OK);
    CHECK_EQ(ntlm_session_derive_keys(&client), SEC_E_OK); /* else derived on first use */
    CHECK_MEM_EQ(client.dir[NTLM_DIR_SEND].seal_key, vec("sealkey_c2s")->bytes, 16);
    CHECK_MEM_EQ(client.dir[NTLM_DIR_SEND].sign_key, vec("signkey_c2s")->bytes, 16);
    CHECK_EQ(ntlm_session_encrypt(&client, 0, &desc), SEC_E_OK);
    CHECK_MEM_EQ(data, vec("seal_data")->bytes, pt->len);
    CHECK_EQ(bufs[1].cbBuffer, 16);
    CHECK_MEM_EQ(sig, vec("seal_signature")->bytes, 16);

    /* The server's receive side is the client's send side. */
    CHECK_EQ(ntlm_session_init(&server, vec("random_session_key")->bytes, v2_flags(), false),
             SEC_E_OK);
    CHECK_EQ(ntlm_session_derive_keys(&server), SEC_E_OK);
    CHECK_MEM_EQ(server.dir[NTLM_DIR_RECV].seal_key, vec("sealkey_c2s")->bytes, 16);
    CHECK_EQ(ntlm_session_decrypt(&server, &desc), SEC_E_OK);
    CHECK_MEM_EQ(data, pt->bytes, pt->len);
    ntlm_session_free(&client);
    ntlm_session_free(&server);
}

/* Signs/seals n messages from a to b and checks each; then the failure modes. */
static void
test_directions(void)
{
    struct ntlm_session c = {0}, s = {0};
    uint8_t key[16];
    memset(key, 0x3c, sizeof(key));
    CHECK_EQ(ntlm_session_init(&c, key, v2_flags(), true), SEC_E_OK);
    CHECK_EQ(ntlm_session_init(&s, key, v2_flags(), false), SEC_E_OK);

    for (int round = 0; round < 3; round++) {
        struct ntlm_session *from = round % 2 == 0 ? &c : &s;
        struct ntlm_session *to = round % 2 == 0 ? &s : &c;
        char msg[32] = "hello, sealed world";
        char hdr[8] = "header";
        uint8_t sig[16];
        SecBuffer b[3] = {{8, SECBUFFER_DATA | SECBUFFER_READONLY, hdr},
                          {sizeof(msg), SECBUFFER_DATA, msg},
                          {16, SECBUFFER_TOKEN, sig}};
        SecBufferDesc d = {SECBUFFER_VERSION, 3, b};
        CHECK_EQ(ntlm_session_encrypt(from, 0, &d), SEC_E_OK);
        CHECK(strcmp(msg, "hello, sealed world") != 0);
        CHECK_STR_EQ(hdr, "header"); /* read-only buffers are signed, not encrypted */
        CHECK_EQ(ntlm_session_decrypt(to, &d), SEC_E_OK);
        CHECK_STR_EQ(msg, "hello, sealed world");

        char text[] = "signed only";
        SecBuffer sb[2] = {{sizeof(text), SECBUFFER_DATA, text}, {16, SECBUFFER_TOKEN, sig}};
        SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
        CHECK_EQ(ntlm_session_make_signature(from, &sd), SEC_E_OK);
        CHECK_EQ(ntlm_session_verify_signature(to, &sd), SEC_E_OK);
    }

    /* Tampered message. */
    char text[] = "pay 10 EUR";
    uint8_t sig[16];
    SecBuffer sb[2] = {{sizeof(text), SECBUFFER_DATA, text}, {16, SECBUFFER_TOKEN, sig}};
    SecBufferDesc sd = {SECBUFFER_VERSION, 2, sb};
    CHECK_EQ(ntlm_session_make_signature(&c, &sd), SEC_E_OK);
    text[4] = '9';
    CHECK_EQ(ntlm_session_verify_signature(&s, &sd), SEC_E_MESSAGE_ALTERED);

    /* Out of sequence: the second message arrives first. */
    char m1[] = "first", m2[] = "second";
    uint8_t sig1[16], sig2[16];
    SecBuffer b1[2] = {{sizeof(m1), SECBUFFER_DATA, m1}, {16, SECBUFFER_TOKEN, sig1}};
    SecBuffer b2[2] = {{sizeof(m2), SECBUFFER_DATA, m2}, {16, SECBUFFER_TOKEN, sig2}};
    SecBufferDesc d1 = {SECBUFFER_VERSION, 2, b1}, d2 = {SECBUFFER_VERSION, 2, b2};
    CHECK_EQ(ntlm_session_make_signature(&c, &d1), SEC_E_OK);
    CHECK_EQ(ntlm_session_make_signature(&c, &d2), SEC_E_OK);
    CHECK_EQ(ntlm_session_verify_signature(&s, &d2), SEC_E_OUT_OF_SEQUENCE);
    CHECK_EQ(ntlm_session_verify_signature(&s, &d1), SEC_E_OK);
    CHECK_EQ(ntlm_session_verify_signature(&s, &d2), SEC_E_OK);
    /* Replay. */
    CHECK_EQ(ntlm_session_verify_signature(&s, &d2), SEC_E_OUT_OF_SEQUENCE);

    /* Bad descriptors. */
    SecBuffer small[2] = {{sizeof(m1), SECBUFFER_DATA, m1}, {8, SECBUFFER_TOKEN, sig1}};
    SecBufferDesc ds = {SECBUFFER_VERSION, 2, small};
    CHECK_EQ(ntlm_session_make_signature(&c, &ds), SEC_E_BUFFER_TOO_SMALL);
    SecBufferDesc none = {SECBUFFER_VERSION, 1, b1};
    CHECK_EQ(ntlm_session_make_signature(&c, &none), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ntlm_session_encrypt(&c, 7, &d1), SEC_E_QOP_NOT_SUPPORTED);

    /* The SPNEGO reset puts the RC4 streams back: the same signature twice. */
    uint8_t first[16], again[16];
    struct slice part = SLICE_LIT("mechListMIC");
    CHECK_EQ(ntlm_session_reset_rc4(&c, true), SEC_E_OK);
    CHECK_EQ(ntlm_session_sign(&c, NTLM_DIR_SEND, &part, 1, first), SEC_E_OK);
    CHECK_EQ(ntlm_session_reset_rc4(&c, true), SEC_E_OK);
    CHECK_EQ(ntlm_session_sign(&c, NTLM_DIR_SEND, &part, 1, again), SEC_E_OK);
    CHECK_MEM_EQ(first, again, 16);

    ntlm_session_free(&c);
    ntlm_session_free(&s);
    ntlm_session_free(NULL);
}

int
main(void)
{
    test_wrap_vector();
    test_directions();
    return check_done("test_session");
}
