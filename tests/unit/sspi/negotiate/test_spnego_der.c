// SPDX-License-Identifier: MIT
// SPNEGO DER codec: captured tokens from MIT and gss-ntlmssp (tests/vectors/spnego),
// hand-written RFC 4178 encodings, round trips, malformed input and limits.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/negotiate/spnego_der.h"

static uint8_t *
load_vector(const char *name, size_t *len_out)
{
    const char *dir = getenv("GH_VECTORS");
    char path[1024];
    FILE *f;
    uint8_t *data = NULL;
    long len;

    snprintf(path, sizeof(path), "%s/spnego/%s", dir != NULL ? dir : "tests/vectors", name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)len);
        if (data != NULL && fread(data, 1, (size_t)len, f) != (size_t)len) {
            free(data);
            data = NULL;
        }
        *len_out = (size_t)len;
    }
    fclose(f);
    return data;
}

/* Re-encodes a decoded token from its fields and checks the bytes are identical:
 * proves the decoder keeps everything and the encoder emits DER as MIT does. */
static void
check_round_trip(const uint8_t *der, size_t len)
{
    struct spnego_token t;
    struct buf out;

    buf_init(&out, SPNEGO_MAX_TOKEN_BYTES * 2);
    CHECK_EQ(spnego_der_decode(slice_make(der, len), &t), SEC_E_OK);
    if (t.kind == SPNEGO_KIND_INIT) {
        const struct spnego_init *in = &t.init;
        CHECK(!in->has_req_flags); /* the encoder never emits reqFlags */
        CHECK_EQ(spnego_der_encode_init(
                     in->mechs, in->mech_count, in->has_mech_token ? &in->mech_token : NULL,
                     in->has_mic ? &in->mech_list_mic : NULL, in->has_neg_hints ? "x" : NULL, &out),
                 SEC_E_OK);
    } else {
        const struct spnego_resp *r = &t.resp;
        CHECK_EQ(spnego_der_encode_resp(r->neg_state,
                                        r->has_supported_mech ? &r->supported_mech : NULL,
                                        r->has_response_token ? &r->response_token : NULL,
                                        r->has_mic ? &r->mech_list_mic : NULL, &out),
                 SEC_E_OK);
    }
    CHECK_EQ(out.len, len);
    if (out.len == len)
        CHECK_MEM_EQ(out.data, der, len);
    buf_free(&out);
}

static void
test_captured(void)
{
    size_t len = 0;
    uint8_t *d;
    struct spnego_token t;

    d = load_vector("mit_krb5_init.der", &len);
    CHECK(d != NULL);
    if (d != NULL) {
        CHECK_EQ(spnego_der_decode(slice_make(d, len), &t), SEC_E_OK);
        CHECK_EQ(t.kind, SPNEGO_KIND_INIT);
        CHECK_EQ(t.init.mech_count, 1);
        CHECK(slice_eq(t.init.mechs[0], spnego_oid_krb5));
        CHECK(t.init.has_mech_token);
        struct slice oid;
        CHECK_EQ(spnego_der_peek_mech(t.init.mech_token, &oid), SEC_E_OK);
        CHECK(slice_eq(oid, spnego_oid_krb5));
        CHECK_EQ(spnego_der_peek_mech(slice_make(d, len), &oid), SEC_E_OK);
        CHECK(slice_eq(oid, spnego_oid_spnego));
        /* mechTypes DER: 30 0b 06 09 <krb5> */
        CHECK_EQ(t.init.mech_types_der.len, 13);
        CHECK_EQ(t.init.mech_types_der.ptr[0], 0x30);
        check_round_trip(d, len);
        free(d);
    }
    d = load_vector("mit_krb5_resp.der", &len);
    CHECK(d != NULL);
    if (d != NULL) {
        CHECK_EQ(spnego_der_decode(slice_make(d, len), &t), SEC_E_OK);
        CHECK_EQ(t.kind, SPNEGO_KIND_RESP);
        CHECK_EQ(t.resp.neg_state, SPNEGO_ACCEPT_COMPLETED);
        CHECK(t.resp.has_supported_mech && slice_eq(t.resp.supported_mech, spnego_oid_krb5));
        CHECK(t.resp.has_response_token);
        CHECK(!t.resp.has_mic);
        check_round_trip(d, len);
        free(d);
    }
    d = load_vector("ntlmssp_init.der", &len);
    CHECK(d != NULL);
    if (d != NULL) {
        CHECK_EQ(spnego_der_decode(slice_make(d, len), &t), SEC_E_OK);
        CHECK_EQ(t.init.mech_count, 1);
        CHECK(slice_eq(t.init.mechs[0], spnego_oid_ntlm));
        CHECK(t.init.mech_token.len >= 8 && memcmp(t.init.mech_token.ptr, "NTLMSSP\0", 8) == 0);
        check_round_trip(d, len);
        free(d);
    }
    d = load_vector("ntlmssp_resp_incomplete.der", &len);
    CHECK(d != NULL);
    if (d != NULL) {
        CHECK_EQ(spnego_der_decode(slice_make(d, len), &t), SEC_E_OK);
        CHECK_EQ(t.resp.neg_state, SPNEGO_ACCEPT_INCOMPLETE);
        CHECK(slice_eq(t.resp.supported_mech, spnego_oid_ntlm));
        check_round_trip(d, len);
        free(d);
    }
    d = load_vector("ntlmssp_resp_auth.der", &len);
    CHECK(d != NULL);
    if (d != NULL) {
        CHECK_EQ(spnego_der_decode(slice_make(d, len), &t), SEC_E_OK);
        CHECK_EQ(t.kind, SPNEGO_KIND_RESP);
        CHECK(!t.resp.has_supported_mech);
        CHECK(t.resp.has_response_token);
        check_round_trip(d, len);
        free(d);
    }
}

/* RFC 4178 4.2 shapes written by hand. */
static const uint8_t resp_reject[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02};
static const uint8_t resp_empty[] = {0xa1, 0x02, 0x30, 0x00};
/* NegTokenInit2 (MS-SPNG 2.2.1): mechTypes {krb5, ms-krb5}, negHints { hintName "x" } */
static const uint8_t init2[] = {0x60, 0x2f, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
                                0xa0, 0x25, 0x30, 0x23, 0xa0, 0x18, 0x30, 0x16, 0x06, 0x09,
                                0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x06,
                                0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
                                0xa3, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x1b, 0x01, 0x78};
/* NegTokenInit with reqFlags (mutual: BIT STRING 03 02 01 40... written 03 02 00 40). */
static const uint8_t init_flags[] = {0x60, 0x1f, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05,
                                     0x02, 0xa0, 0x15, 0x30, 0x13, 0xa0, 0x0b, 0x30, 0x09,
                                     0x06, 0x07, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0x01,
                                     0xa1, 0x04, 0x03, 0x02, 0x00, 0x40};

static void
test_handwritten(void)
{
    struct spnego_token t;
    struct buf out;

    CHECK_EQ(spnego_der_decode(slice_make(resp_reject, sizeof(resp_reject)), &t), SEC_E_OK);
    CHECK_EQ(t.kind, SPNEGO_KIND_RESP);
    CHECK_EQ(t.resp.neg_state, SPNEGO_REJECT);
    check_round_trip(resp_reject, sizeof(resp_reject));

    CHECK_EQ(spnego_der_decode(slice_make(resp_empty, sizeof(resp_empty)), &t), SEC_E_OK);
    CHECK_EQ(t.resp.neg_state, SPNEGO_STATE_ABSENT);
    check_round_trip(resp_empty, sizeof(resp_empty));

    CHECK_EQ(spnego_der_decode(slice_make(init2, sizeof(init2)), &t), SEC_E_OK);
    CHECK_EQ(t.init.mech_count, 2);
    CHECK(slice_eq(t.init.mechs[1], spnego_oid_ms_krb5));
    CHECK(t.init.has_neg_hints);
    CHECK(slice_eq(t.init.hint_name, SLICE_LIT("x")));
    CHECK(!t.init.has_mech_token);
    check_round_trip(init2, sizeof(init2));

    CHECK_EQ(spnego_der_decode(slice_make(init_flags, sizeof(init_flags)), &t), SEC_E_OK);
    CHECK(t.init.has_req_flags);
    CHECK_EQ(t.init.req_flags, 0x40);

    /* The mechList DER used for mechListMIC. */
    struct slice mechs[2] = {spnego_oid_krb5, spnego_oid_ntlm};
    buf_init(&out, 1024);
    CHECK_EQ(spnego_der_encode_mech_list(mechs, 2, &out), SEC_E_OK);
    CHECK_EQ(out.len, 2 + 11 + 12);
    CHECK_EQ(out.data[0], 0x30);
    CHECK_EQ(out.data[1], 23);
    buf_free(&out);

    /* A long token: long-form lengths (0x82) on every level. */
    static uint8_t big[70000];
    memset(big, 0xab, sizeof(big));
    struct slice tok = slice_make(big, 3000);
    buf_init(&out, SPNEGO_MAX_TOKEN_BYTES * 2);
    CHECK_EQ(spnego_der_encode_init(mechs, 2, &tok, &tok, NULL, &out), SEC_E_OK);
    CHECK_EQ(spnego_der_decode(buf_slice(&out), &t), SEC_E_OK);
    CHECK_EQ(t.init.mech_token.len, 3000);
    CHECK_EQ(t.init.mech_list_mic.len, 3000);
    out.len = 0;
    tok.len = sizeof(big);
    CHECK_EQ(spnego_der_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, NULL, &tok, NULL, &out), SEC_E_OK);
    CHECK_EQ(spnego_der_decode(buf_slice(&out), &t), SEC_E_OK);
    CHECK_EQ(t.resp.response_token.len, sizeof(big));
    buf_free(&out);
}

static void
check_invalid(const char *what, const uint8_t *der, size_t len)
{
    struct spnego_token t;
    SECURITY_STATUS st = spnego_der_decode(slice_make(der, len), &t);

    if (st != SEC_E_INVALID_TOKEN)
        fprintf(stderr, "malformed case accepted: %s\n", what);
    CHECK_EQ(st, SEC_E_INVALID_TOKEN);
}

static void
test_malformed(void)
{
    uint8_t d[64];

    check_invalid("empty", resp_reject, 0);
    /* every truncation of valid tokens */
    for (size_t n = 0; n < sizeof(init2); n++)
        check_invalid("truncated init2", init2, n);
    for (size_t n = 0; n < sizeof(resp_reject); n++)
        check_invalid("truncated resp", resp_reject, n);
    /* trailing byte */
    memcpy(d, resp_reject, sizeof(resp_reject));
    d[sizeof(resp_reject)] = 0;
    check_invalid("trailing garbage", d, sizeof(resp_reject) + 1);
    /* indefinite length */
    memcpy(d, resp_reject, sizeof(resp_reject));
    d[1] = 0x80;
    check_invalid("indefinite length", d, sizeof(resp_reject));
    /* non-minimal length 81 07 */
    const uint8_t nonmin[] = {0xa1, 0x81, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02};
    check_invalid("non-minimal length", nonmin, sizeof(nonmin));
    /* negState out of range */
    memcpy(d, resp_reject, sizeof(resp_reject));
    d[8] = 4;
    check_invalid("negState 4", d, sizeof(resp_reject));
    /* wrong inner tag: OCTET STRING where ENUMERATED */
    memcpy(d, resp_reject, sizeof(resp_reject));
    d[6] = 0x04;
    check_invalid("negState as octets", d, sizeof(resp_reject));
    /* fields out of order: [2] before [0] */
    const uint8_t order[] = {0xa1, 0x0b, 0x30, 0x09, 0xa2, 0x02, 0x04,
                             0x00, 0xa0, 0x03, 0x0a, 0x01, 0x01};
    check_invalid("fields out of order", order, sizeof(order));
    /* unknown field [5] */
    const uint8_t unknown[] = {0xa1, 0x06, 0x30, 0x04, 0xa5, 0x02, 0x04, 0x00};
    check_invalid("unknown field", unknown, sizeof(unknown));
    /* framing with a non-SPNEGO OID (a raw krb5 token is not SPNEGO) */
    memcpy(d, init2, sizeof(init2));
    d[9] = 0x03;
    check_invalid("other mech OID", d, sizeof(init2));
    /* NegTokenResp inside the framing */
    const uint8_t framed_resp[] = {0x60, 0x0c, 0x06, 0x06, 0x2b, 0x06, 0x01,
                                   0x05, 0x05, 0x02, 0xa1, 0x02, 0x30, 0x00};
    check_invalid("framed resp", framed_resp, sizeof(framed_resp));
    /* bare NegTokenInit */
    check_invalid("unframed init", init2 + 10, sizeof(init2) - 10);
    /* empty mech list */
    const uint8_t nomech[] = {0x60, 0x10, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05,
                              0x02, 0xa0, 0x06, 0x30, 0x04, 0xa0, 0x02, 0x30, 0x00};
    check_invalid("empty mechTypes", nomech, sizeof(nomech));
    /* OID with a leading 0x80 subidentifier octet */
    const uint8_t badoid[] = {0x60, 0x13, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0,
                              0x09, 0x30, 0x07, 0xa0, 0x05, 0x30, 0x03, 0x06, 0x01, 0x80};
    check_invalid("bad OID", badoid, sizeof(badoid));
    /* high tag number form */
    const uint8_t hightag[] = {0xbf, 0x01, 0x02, 0x30, 0x00};
    check_invalid("high tag", hightag, sizeof(hightag));
    /* length larger than the input */
    const uint8_t longlen[] = {0xa1, 0x83, 0x7f, 0xff, 0xff, 0x30};
    check_invalid("length past end", longlen, sizeof(longlen));
    /* too many mechanisms */
    {
        uint8_t many[200];
        size_t n = 0, count = SPNEGO_MAX_MECHS + 1;
        size_t list = count * 3, seq = 2 + 2 + list, choice = 2 + seq, app = 8 + 2 + choice;
        many[n++] = 0x60;
        many[n++] = (uint8_t)app;
        memcpy(many + n, "\x06\x06\x2b\x06\x01\x05\x05\x02", 8);
        n += 8;
        many[n++] = 0xa0;
        many[n++] = (uint8_t)choice;
        many[n++] = 0x30;
        many[n++] = (uint8_t)seq;
        many[n++] = 0xa0;
        many[n++] = (uint8_t)(list + 2);
        many[n++] = 0x30;
        many[n++] = (uint8_t)list;
        for (size_t i = 0; i < count; i++) {
            many[n++] = 0x06;
            many[n++] = 0x01;
            many[n++] = 0x2a;
        }
        CHECK(n < sizeof(many));
        check_invalid("too many mechs", many, n);
    }
    /* over the size limit */
    {
        static uint8_t huge[SPNEGO_MAX_TOKEN_BYTES + 16];
        memset(huge, 0, sizeof(huge));
        huge[0] = 0xa1;
        huge[1] = 0x83;
        check_invalid("over limit", huge, sizeof(huge));
    }
    /* encoders refuse invalid arguments */
    struct buf out;
    buf_init(&out, 1024);
    CHECK_EQ(spnego_der_encode_mech_list(NULL, 0, &out), SEC_E_INVALID_TOKEN);
    CHECK_EQ(spnego_der_encode_resp((enum spnego_neg_state)7, NULL, NULL, NULL, &out),
             SEC_E_INVALID_TOKEN);
    /* capped buffer: the encoder fails without leaving partial output */
    struct buf small;
    buf_init(&small, 8);
    struct slice m = spnego_oid_krb5;
    CHECK(spnego_der_encode_init(&m, 1, NULL, NULL, NULL, &small) != SEC_E_OK);
    CHECK_EQ(small.len, 0);
    buf_free(&small);
    buf_free(&out);
}

int
main(void)
{
    test_captured();
    test_handwritten();
    test_malformed();
    return check_done("test_spnego_der");
}
