// SPDX-License-Identifier: MIT
// MS-CSSP DER codec: hand-built encodings of MS-CSSP 2.2.1 checked field by
// field, round trips (DER has one encoding), malformed input and limits.
#include <string.h>

#include "harness/check.h"
#include "sspi/credssp/tsrequest_der.h"

static bool
slice_is(struct slice s, const void *bytes, size_t len)
{
    return s.len == len && (len == 0 || memcmp(s.ptr, bytes, len) == 0);
}

static void
check_reencodes(const uint8_t *der, size_t len)
{
    struct cssp_request r;
    struct buf out;

    buf_init(&out, CSSP_MAX_MESSAGE_BYTES);
    CHECK_EQ(cssp_decode_request(slice_make(der, len), &r), SEC_E_OK);
    CHECK_EQ(cssp_encode_request(&r, &out), SEC_E_OK);
    CHECK_EQ(out.len, len);
    if (out.len == len)
        CHECK_MEM_EQ(out.data, der, len);
    buf_free(&out);
}

/* Version 6, one NTLM negoToken, a clientNonce. */
static const uint8_t req_v6[] = {
    0x30, 0x37, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa1, 0x0c, 0x30, 0x0a, 0x30, 0x08, 0xa0, 0x06,
    0x04, 0x04, 'N',  'T',  'L',  'M',  0xa5, 0x22, 0x04, 0x20, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};

/* Version 3: pubKeyAuth and errorCode STATUS_LOGON_FAILURE (0xC000006D, five
 * INTEGER octets with a leading zero). */
static const uint8_t req_v3_err[] = {0x30, 0x16, 0xa0, 0x03, 0x02, 0x01, 0x03, 0xa3,
                                     0x06, 0x04, 0x04, 0xde, 0xad, 0xbe, 0xef, 0xa4,
                                     0x07, 0x02, 0x05, 0x00, 0xc0, 0x00, 0x00, 0x6d};

/* The same code as a negative INTEGER (4 octets): read as its 32-bit pattern. */
static const uint8_t req_v3_negerr[] = {0x30, 0x0d, 0xa0, 0x03, 0x02, 0x01, 0x03, 0xa4,
                                        0x06, 0x02, 0x04, 0xc0, 0x00, 0x00, 0x6d};

/* TSCredentials { credType 1, TSPasswordCreds { "D", "u", "p" } } (UTF-16LE). */
static const uint8_t creds_pw[] = {0x30, 0x1f, 0xa0, 0x03, 0x02, 0x01, 0x01, 0xa1, 0x18,
                                   0x04, 0x16, 0x30, 0x14, 0xa0, 0x04, 0x04, 0x02, 'D',
                                   0x00, 0xa1, 0x04, 0x04, 0x02, 'u',  0x00, 0xa2, 0x06,
                                   0x04, 0x04, 'p',  0x00, 'w',  0x00};

static void
test_request(void)
{
    struct cssp_request r;

    CHECK_EQ(cssp_decode_request(slice_make(req_v6, sizeof(req_v6)), &r), SEC_E_OK);
    CHECK_EQ(r.version, 6);
    CHECK(r.has_nego_token && slice_is(r.nego_token, "NTLM", 4));
    CHECK(!r.has_auth_info && !r.has_pub_key_auth && !r.has_error_code);
    CHECK(r.has_client_nonce && r.client_nonce.len == 32 && r.client_nonce.ptr[31] == 0x11);
    check_reencodes(req_v6, sizeof(req_v6));

    CHECK_EQ(cssp_decode_request(slice_make(req_v3_err, sizeof(req_v3_err)), &r), SEC_E_OK);
    CHECK_EQ(r.version, 3);
    CHECK(!r.has_nego_token && r.has_pub_key_auth);
    CHECK(slice_is(r.pub_key_auth, "\xde\xad\xbe\xef", 4));
    CHECK(r.has_error_code);
    CHECK_HEX_EQ(r.error_code, 0xC000006DU);
    /* re-encoded as the signed 4-octet form */
    struct buf re;
    buf_init(&re, 256);
    CHECK_EQ(cssp_encode_request(&r, &re), SEC_E_OK);
    CHECK_EQ(re.len, sizeof(req_v3_err) - 1);
    CHECK_EQ(re.data[re.len - 5], 0x04);
    CHECK_EQ(re.data[re.len - 4], 0xc0);
    buf_free(&re);

    CHECK_EQ(cssp_decode_request(slice_make(req_v3_negerr, sizeof(req_v3_negerr)), &r), SEC_E_OK);
    CHECK_HEX_EQ(r.error_code, 0xC000006DU);
    check_reencodes(req_v3_negerr, sizeof(req_v3_negerr));

    size_t size = 0;
    CHECK_EQ(cssp_message_size(slice_make(req_v6, sizeof(req_v6)), &size), SEC_E_OK);
    CHECK_EQ(size, sizeof(req_v6));
    CHECK_EQ(cssp_message_size(slice_make(req_v6, 10), &size), SEC_E_INCOMPLETE_MESSAGE);
    CHECK_EQ(size, sizeof(req_v6) - 10);
    CHECK_EQ(cssp_message_size(slice_make(req_v6, 1), &size), SEC_E_INCOMPLETE_MESSAGE);
    CHECK_EQ(cssp_message_size(slice_make("\x16\x03\x01", 3), &size), SEC_E_INVALID_TOKEN);

    /* A large negoToken: two-octet lengths. */
    static uint8_t big[3000];
    memset(big, 0x5a, sizeof(big));
    struct cssp_request w = {
        .version = 2, .has_nego_token = true, .nego_token = slice_make(big, sizeof(big))};
    struct buf out;
    buf_init(&out, CSSP_MAX_MESSAGE_BYTES);
    CHECK_EQ(cssp_encode_request(&w, &out), SEC_E_OK);
    CHECK_EQ(out.data[1], 0x82);
    check_reencodes(out.data, out.len);
    buf_free(&out);
}

static void
test_credentials(void)
{
    struct cssp_credentials c;
    struct cssp_password_creds p;
    struct buf out;

    CHECK_EQ(cssp_decode_credentials(slice_make(creds_pw, sizeof(creds_pw)), &c), SEC_E_OK);
    CHECK_EQ(c.cred_type, CSSP_CRED_PASSWORD);
    CHECK_EQ(cssp_decode_password_creds(c.credentials, &p), SEC_E_OK);
    CHECK(slice_is(p.domain, "D\0", 2));
    CHECK(slice_is(p.user, "u\0", 2));
    CHECK(slice_is(p.password, "p\0w\0", 4));

    buf_init(&out, CSSP_MAX_MESSAGE_BYTES);
    struct buf inner;
    buf_init(&inner, CSSP_MAX_MESSAGE_BYTES);
    CHECK_EQ(cssp_encode_password_creds(&p, &inner), SEC_E_OK);
    CHECK_EQ(cssp_encode_credentials(CSSP_CRED_PASSWORD, buf_slice(&inner), &out), SEC_E_OK);
    CHECK_EQ(out.len, sizeof(creds_pw));
    if (out.len == sizeof(creds_pw))
        CHECK_MEM_EQ(out.data, creds_pw, sizeof(creds_pw));
    buf_free_wipe(&inner);
    buf_free_wipe(&out);

    /* Empty strings are allowed (an empty credential set). */
    struct cssp_password_creds empty = {0};
    buf_init(&out, 256);
    CHECK_EQ(cssp_encode_password_creds(&empty, &out), SEC_E_OK);
    CHECK_EQ(cssp_decode_password_creds(buf_slice(&out), &p), SEC_E_OK);
    CHECK(p.domain.len == 0 && p.user.len == 0 && p.password.len == 0);
    buf_free(&out);

    /* Smart card: every field, round trip. */
    struct cssp_smartcard_creds sc = {
        .pin = SLICE_LIT("1\0002\0003\0004\0"),
        .csp_data = {.key_spec = 1, .card_name = SLICE_LIT("c\0"), .csp_name = SLICE_LIT("M\0S\0")},
        .domain_hint = SLICE_LIT("d\0")};
    struct cssp_smartcard_creds sc2;
    buf_init(&out, 1024);
    CHECK_EQ(cssp_encode_smartcard_creds(&sc, &out), SEC_E_OK);
    CHECK_EQ(cssp_decode_smartcard_creds(buf_slice(&out), &sc2), SEC_E_OK);
    CHECK(slice_is(sc2.pin, "1\0002\0003\0004\0", 8));
    CHECK_EQ(sc2.csp_data.key_spec, 1);
    CHECK(slice_is(sc2.csp_data.card_name, "c\0", 2));
    CHECK(sc2.csp_data.reader_name.len == 0 && sc2.csp_data.container_name.len == 0);
    CHECK(slice_is(sc2.csp_data.csp_name, "M\0S\0", 4));
    CHECK(sc2.user_hint.len == 0 && slice_is(sc2.domain_hint, "d\0", 2));
    /* hand check of the first bytes: 30 L a0 0a 04 08 '1' 00 ... */
    CHECK_EQ(out.data[0], 0x30);
    CHECK_EQ(out.data[2], 0xa0);
    CHECK_EQ(out.data[3], 0x0a);
    CHECK_EQ(out.data[4], 0x04);
    CHECK_EQ(out.data[5], 0x08);
    buf_free_wipe(&out);

    /* Remote Guard with two supplemental credentials. */
    struct cssp_remote_guard_creds rg = {
        .logon_cred = {SLICE_LIT("K\0"), SLICE_LIT("\x01\x02")},
        .supplemental_count = 2,
        .supplemental = {{SLICE_LIT("N\0"), SLICE_LIT("\x03")}, {SLICE_LIT("X\0"), SLICE_LIT("")}}};
    struct cssp_remote_guard_creds rg2;
    buf_init(&out, 1024);
    CHECK_EQ(cssp_encode_remote_guard_creds(&rg, &out), SEC_E_OK);
    CHECK_EQ(cssp_decode_remote_guard_creds(buf_slice(&out), &rg2), SEC_E_OK);
    CHECK(slice_is(rg2.logon_cred.package_name, "K\0", 2));
    CHECK(slice_is(rg2.logon_cred.cred_buffer, "\x01\x02", 2));
    CHECK_EQ(rg2.supplemental_count, 2);
    CHECK(slice_is(rg2.supplemental[0].cred_buffer, "\x03", 1));
    CHECK(slice_is(rg2.supplemental[1].package_name, "X\0", 2));
    buf_free(&out);
}

static void
test_malformed(void)
{
    struct cssp_request r;
    struct cssp_password_creds p;
    uint8_t b[sizeof(req_v6)];

    /* every truncation fails */
    for (size_t n = 0; n < sizeof(req_v6); n++)
        CHECK_EQ(cssp_decode_request(slice_make(req_v6, n), &r), SEC_E_INVALID_TOKEN);
    /* trailing byte */
    uint8_t t[sizeof(req_v6) + 1];
    memcpy(t, req_v6, sizeof(req_v6));
    t[sizeof(req_v6)] = 0;
    CHECK_EQ(cssp_decode_request(slice_make(t, sizeof(t)), &r), SEC_E_INVALID_TOKEN);
    /* a 31-byte nonce */
    static const uint8_t short_nonce[] = {
        0x30, 0x26, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa5, 0x21, 0x04, 0x1f, 0, 0, 0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0};
    CHECK_EQ(cssp_decode_request(slice_make(short_nonce, sizeof(short_nonce)), &r),
             SEC_E_INVALID_TOKEN);
    /* fields out of order: [5] before [1] */
    static const uint8_t swapped[] = {0x30, 0x0e, 0xa0, 0x03, 0x02, 0x01, 0x02, 0xa2,
                                      0x03, 0x04, 0x01, 0x00, 0xa1, 0x02, 0x30, 0x00};
    CHECK_EQ(cssp_decode_request(slice_make(swapped, sizeof(swapped)), &r), SEC_E_INVALID_TOKEN);
    /* non-minimal version INTEGER, negative version */
    static const uint8_t nonmin[] = {0x30, 0x06, 0xa0, 0x04, 0x02, 0x02, 0x00, 0x06};
    CHECK_EQ(cssp_decode_request(slice_make(nonmin, sizeof(nonmin)), &r), SEC_E_INVALID_TOKEN);
    static const uint8_t negver[] = {0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0xff};
    CHECK_EQ(cssp_decode_request(slice_make(negver, sizeof(negver)), &r), SEC_E_INVALID_TOKEN);
    /* two NegoDataItems */
    static const uint8_t two[] = {0x30, 0x15, 0xa0, 0x03, 0x02, 0x01, 0x02, 0xa1,
                                  0x0e, 0x30, 0x0c, 0x30, 0x04, 0xa0, 0x02, 0x04,
                                  0x00, 0x30, 0x04, 0xa0, 0x02, 0x04, 0x00};
    CHECK_EQ(cssp_decode_request(slice_make(two, sizeof(two)), &r), SEC_E_INVALID_TOKEN);
    /* indefinite length */
    memcpy(b, req_v6, sizeof(b));
    b[1] = 0x80;
    CHECK_EQ(cssp_decode_request(slice_make(b, sizeof(b)), &r), SEC_E_INVALID_TOKEN);
    /* odd-length UTF-16 password */
    static const uint8_t odd[] = {0x30, 0x0f, 0xa0, 0x02, 0x04, 0x00, 0xa1, 0x02,
                                  0x04, 0x00, 0xa2, 0x03, 0x04, 0x01, 'p'};
    CHECK_EQ(cssp_decode_password_creds(slice_make(odd, sizeof(odd)), &p), SEC_E_INVALID_TOKEN);
    /* missing password */
    static const uint8_t nopw[] = {0x30, 0x08, 0xa0, 0x02, 0x04, 0x00, 0xa1, 0x02, 0x04, 0x00};
    CHECK_EQ(cssp_decode_password_creds(slice_make(nopw, sizeof(nopw)), &p), SEC_E_INVALID_TOKEN);
    /* a string past the limit is refused by the encoder */
    static uint8_t longpw[CSSP_MAX_STRING_BYTES + 2];
    struct cssp_password_creds lp = {.password = slice_make(longpw, sizeof(longpw))};
    struct buf out;
    buf_init(&out, CSSP_MAX_MESSAGE_BYTES);
    CHECK_EQ(cssp_encode_password_creds(&lp, &out), SEC_E_INVALID_TOKEN);
    buf_free(&out);
}

int
main(void)
{
    test_request();
    test_credentials();
    test_malformed();
    return check_done("test_tsrequest_der");
}
