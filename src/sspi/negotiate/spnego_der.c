// SPDX-License-Identifier: MIT
// SPNEGO NegotiationToken DER codec (RFC 4178 4.2, MS-SPNG 2.2.1).
//
// Our own codec rather than OpenSSL's ASN.1 templates: the grammar is four
// small structures, we need the exact bytes of mechTypes for the mechListMIC
// (a template decoder re-encodes and would hide non-DER input), and a
// borrowing, allocation-free decoder is easy to bound and to fuzz
// (fuzz/spnego.c). See docs/internals/negotiate.md.
//
// Wire shapes (tags as bytes):
//   60 L  06 06 2b0601050502  a0 L  30 L  NegTokenInit fields     (framed init)
//   a1 L  30 L  NegTokenResp fields                               (response)
//   NegTokenInit:  [0] a0 { 30 { 06 oid ... } }  [1] a1 { 03 flags }
//                  [2] a2 { 04 mechToken }       [3] a3 { 04 mechListMIC }
//   NegTokenInit2: [0] [1] [2] as above, [3] a3 { 30 { [0] a0 { 1b hintName }
//                  [1] a1 { 04 hintAddress } } }, [4] a4 { 04 mechListMIC }
//   NegTokenResp:  [0] a0 { 0a 01 negState }  [1] a1 { 06 supportedMech }
//                  [2] a2 { 04 responseToken } [3] a3 { 04 mechListMIC }
#include "sspi/negotiate/spnego_der.h"

#include <string.h>

#include <gatehouse/error.h>

#include "sspi/der.h"

static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t oid_krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_ms_krb5[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t oid_ntlm[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t oid_negoex[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e};

const struct slice spnego_oid_spnego = {oid_spnego, sizeof(oid_spnego)};
const struct slice spnego_oid_krb5 = {oid_krb5, sizeof(oid_krb5)};
const struct slice spnego_oid_ms_krb5 = {oid_ms_krb5, sizeof(oid_ms_krb5)};
const struct slice spnego_oid_ntlm = {oid_ntlm, sizeof(oid_ntlm)};
const struct slice spnego_oid_negoex = {oid_negoex, sizeof(oid_negoex)};

/* ---- Decoding ------------------------------------------------------------ */

/* X.690 8.19: subidentifiers are base-128, no leading 0x80 octet, last octet < 0x80. */
static bool
oid_valid(struct slice oid)
{
    if (oid.len == 0 || oid.len > SPNEGO_MAX_OID_BYTES)
        return false;
    if ((oid.ptr[oid.len - 1] & 0x80) != 0)
        return false;
    for (size_t i = 0; i < oid.len; i++) {
        bool starts = i == 0 || (oid.ptr[i - 1] & 0x80) == 0;
        if (starts && oid.ptr[i] == 0x80)
            return false;
    }
    return true;
}

/* [n] { 04 bytes } */
static bool
take_octets(struct slice field, struct slice *out)
{
    struct der d = der_of(field);

    return der_expect(&d, DER_TAG_OCTET_STRING, out) && d.left == 0;
}

static bool
decode_mech_list(struct slice field, struct spnego_init *init)
{
    struct der d = der_of(field);
    struct slice list, oid;

    const uint8_t *start = d.pos;
    if (!der_expect(&d, DER_TAG_SEQUENCE, &list) || d.left != 0)
        return false;
    init->mech_types_der = slice_make(start, field.len);
    struct der m = der_of(list);
    init->mech_count = 0;
    while (m.left > 0) {
        if (init->mech_count == SPNEGO_MAX_MECHS)
            return false;
        if (!der_expect(&m, DER_TAG_OID, &oid) || !oid_valid(oid))
            return false;
        init->mechs[init->mech_count++] = oid;
    }
    return init->mech_count > 0; /* RFC 4178 4.2.1: at least one mechanism */
}

/* ContextFlags ::= BIT STRING: keep the first octet (the seven defined flags). */
static bool
decode_req_flags(struct slice field, struct spnego_init *init)
{
    struct der d = der_of(field);
    struct slice bits;

    if (!der_expect(&d, DER_TAG_BIT_STRING, &bits) || d.left != 0)
        return false;
    if (bits.len == 0 || bits.ptr[0] > 7 || (bits.len == 1 && bits.ptr[0] != 0))
        return false;
    init->has_req_flags = true;
    init->req_flags = bits.len > 1 ? bits.ptr[1] : 0;
    return true;
}

/* NegHints ::= SEQUENCE { hintName [0] GeneralString OPTIONAL,
 *                         hintAddress [1] OCTET STRING OPTIONAL } */
static bool
decode_neg_hints(struct slice field, struct spnego_init *init)
{
    struct der d = der_of(field), h;
    struct slice seq, v;

    if (!der_expect(&d, DER_TAG_SEQUENCE, &seq) || d.left != 0)
        return false;
    h = der_of(seq);
    init->has_neg_hints = true;
    if (der_peek_tag(&h) == DER_CTX(0)) {
        struct der s;
        if (!der_expect(&h, DER_CTX(0), &v))
            return false;
        s = der_of(v);
        if (!der_expect(&s, DER_TAG_GENERAL_STRING, &init->hint_name) || s.left != 0)
            return false;
    }
    if (der_peek_tag(&h) == DER_CTX(1)) {
        struct slice addr;
        if (!der_expect(&h, DER_CTX(1), &v) || !take_octets(v, &addr))
            return false;
    }
    return h.left == 0;
}

static bool
decode_init(struct slice body, struct spnego_init *init)
{
    struct der d = der_of(body);
    struct slice seq, v;

    if (!der_expect(&d, DER_TAG_SEQUENCE, &seq) || d.left != 0)
        return false;
    struct der f = der_of(seq);
    /* mechTypes is not OPTIONAL (RFC 4178 4.2.1). */
    if (!der_expect(&f, DER_CTX(0), &v) || !decode_mech_list(v, init))
        return false;
    if (der_peek_tag(&f) == DER_CTX(1)) {
        if (!der_expect(&f, DER_CTX(1), &v) || !decode_req_flags(v, init))
            return false;
    }
    if (der_peek_tag(&f) == DER_CTX(2)) {
        if (!der_expect(&f, DER_CTX(2), &v) || !take_octets(v, &init->mech_token))
            return false;
        init->has_mech_token = true;
    }
    /* [3] is mechListMIC (OCTET STRING) in RFC 4178 and negHints (SEQUENCE)
     * in MS-SPNG's NegTokenInit2; the inner tag tells them apart. */
    if (der_peek_tag(&f) == DER_CTX(3)) {
        if (!der_expect(&f, DER_CTX(3), &v) || v.len == 0)
            return false;
        if (v.ptr[0] == DER_TAG_SEQUENCE) {
            if (!decode_neg_hints(v, init))
                return false;
            if (der_peek_tag(&f) == DER_CTX(4)) {
                if (!der_expect(&f, DER_CTX(4), &v) || !take_octets(v, &init->mech_list_mic))
                    return false;
                init->has_mic = true;
            }
        } else {
            if (!take_octets(v, &init->mech_list_mic))
                return false;
            init->has_mic = true;
        }
    }
    return f.left == 0; /* unknown or out-of-order fields are refused */
}

static bool
decode_resp(struct slice body, struct spnego_resp *resp)
{
    struct der d = der_of(body);
    struct slice seq, v;

    if (!der_expect(&d, DER_TAG_SEQUENCE, &seq) || d.left != 0)
        return false;
    struct der f = der_of(seq);
    resp->neg_state = SPNEGO_STATE_ABSENT;
    if (der_peek_tag(&f) == DER_CTX(0)) {
        struct slice e;
        if (!der_expect(&f, DER_CTX(0), &v))
            return false;
        struct der s = der_of(v);
        if (!der_expect(&s, DER_TAG_ENUMERATED, &e) || s.left != 0 || e.len != 1 || e.ptr[0] > 3)
            return false;
        resp->neg_state = (enum spnego_neg_state)e.ptr[0];
    }
    if (der_peek_tag(&f) == DER_CTX(1)) {
        if (!der_expect(&f, DER_CTX(1), &v))
            return false;
        struct der s = der_of(v);
        if (!der_expect(&s, DER_TAG_OID, &resp->supported_mech) || s.left != 0 ||
            !oid_valid(resp->supported_mech))
            return false;
        resp->has_supported_mech = true;
    }
    if (der_peek_tag(&f) == DER_CTX(2)) {
        if (!der_expect(&f, DER_CTX(2), &v) || !take_octets(v, &resp->response_token))
            return false;
        resp->has_response_token = true;
    }
    if (der_peek_tag(&f) == DER_CTX(3)) {
        if (!der_expect(&f, DER_CTX(3), &v) || !take_octets(v, &resp->mech_list_mic))
            return false;
        resp->has_mic = true;
    }
    return f.left == 0;
}

SECURITY_STATUS
spnego_der_peek_mech(struct slice in, struct slice *oid_out)
{
    struct der d = der_of(in);
    struct slice body, oid;

    if (in.len > SPNEGO_MAX_TOKEN_BYTES)
        return SEC_E_INVALID_TOKEN;
    if (!der_expect(&d, DER_TAG_APPLICATION_0, &body) || d.left != 0)
        return SEC_E_INVALID_TOKEN;
    struct der b = der_of(body);
    if (!der_expect(&b, DER_TAG_OID, &oid) || !oid_valid(oid))
        return SEC_E_INVALID_TOKEN;
    *oid_out = oid;
    return SEC_E_OK;
}

SECURITY_STATUS
spnego_der_decode(struct slice in, struct spnego_token *out)
{
    struct spnego_token t;
    struct der d = der_of(in);
    struct slice body, oid, v;

    memset(&t, 0, sizeof(t));
    if (in.len == 0 || in.len > SPNEGO_MAX_TOKEN_BYTES)
        return SEC_E_INVALID_TOKEN;
    if (in.ptr[0] == DER_TAG_APPLICATION_0) {
        /* RFC 2743 3.1: [APPLICATION 0] { thisMech OID, innerContextToken } */
        if (!der_expect(&d, DER_TAG_APPLICATION_0, &body) || d.left != 0)
            return SEC_E_INVALID_TOKEN;
        struct der b = der_of(body);
        if (!der_expect(&b, DER_TAG_OID, &oid) || !slice_eq(oid, spnego_oid_spnego))
            return SEC_E_INVALID_TOKEN;
        if (!der_expect(&b, DER_CTX(0), &v) || b.left != 0)
            return SEC_E_INVALID_TOKEN;
        t.kind = SPNEGO_KIND_INIT;
        if (!decode_init(v, &t.init))
            return SEC_E_INVALID_TOKEN;
    } else {
        if (!der_expect(&d, DER_CTX(1), &v) || d.left != 0)
            return SEC_E_INVALID_TOKEN;
        t.kind = SPNEGO_KIND_RESP;
        if (!decode_resp(v, &t.resp))
            return SEC_E_INVALID_TOKEN;
    }
    *out = t;
    return SEC_E_OK;
}

/* ---- Encoding ------------------------------------------------------------ */

/* [n] { 04 bytes } */
static int
put_ctx_octets(struct buf *out, uint8_t n, struct slice value)
{
    int err = der_put_hdr(out, DER_CTX(n), der_tlv_size(value.len));

    if (err != GH_OK)
        return err;
    return der_put_tlv(out, DER_TAG_OCTET_STRING, value);
}

static SECURITY_STATUS
status_of(int err)
{
    if (err == GH_OK)
        return SEC_E_OK;
    return err == GH_ENOMEM ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INVALID_TOKEN;
}

static bool
mechs_valid(const struct slice *mechs, size_t count, size_t *contents_out)
{
    size_t sum = 0;

    if (count == 0 || count > SPNEGO_MAX_MECHS)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (!oid_valid(mechs[i]))
            return false;
        sum += der_tlv_size(mechs[i].len);
    }
    *contents_out = sum;
    return true;
}

SECURITY_STATUS
spnego_der_encode_mech_list(const struct slice *mechs, size_t count, struct buf *out)
{
    size_t contents;
    int err;

    if (!mechs_valid(mechs, count, &contents))
        return SEC_E_INVALID_TOKEN;
    err = der_put_hdr(out, DER_TAG_SEQUENCE, contents);
    for (size_t i = 0; err == GH_OK && i < count; i++)
        err = der_put_tlv(out, DER_TAG_OID, mechs[i]);
    return status_of(err);
}

SECURITY_STATUS
spnego_der_encode_init(const struct slice *mechs, size_t count, const struct slice *mech_token,
                       const struct slice *mic, const char *hint_name, struct buf *out)
{
    size_t list_contents, hint_len = 0, hints_seq = 0;
    size_t start = out->len;
    int err;

    if (!mechs_valid(mechs, count, &list_contents))
        return SEC_E_INVALID_TOKEN;
    if ((mech_token != NULL && mech_token->len > SPNEGO_MAX_TOKEN_BYTES) ||
        (mic != NULL && mic->len > SPNEGO_MAX_TOKEN_BYTES))
        return SEC_E_INVALID_TOKEN;
    /* Sizes, innermost first. */
    size_t f0 = der_tlv_size(der_tlv_size(list_contents));
    size_t f2 = mech_token == NULL ? 0 : der_tlv_size(der_tlv_size(mech_token->len));
    size_t f3 = 0, f4 = 0;
    if (hint_name != NULL) {
        hint_len = strlen(hint_name);
        if (hint_len > 256)
            return SEC_E_INVALID_TOKEN;
        hints_seq = der_tlv_size(der_tlv_size(hint_len)); /* [0] { 1b name } */
        f3 = der_tlv_size(der_tlv_size(hints_seq));
        f4 = mic == NULL ? 0 : der_tlv_size(der_tlv_size(mic->len));
    } else {
        f3 = mic == NULL ? 0 : der_tlv_size(der_tlv_size(mic->len));
    }
    size_t seq = f0 + f2 + f3 + f4;
    size_t choice = der_tlv_size(seq);
    size_t app = der_tlv_size(spnego_oid_spnego.len) + der_tlv_size(choice);

    err = der_put_hdr(out, DER_TAG_APPLICATION_0, app);
    if (err == GH_OK)
        err = der_put_tlv(out, DER_TAG_OID, spnego_oid_spnego);
    if (err == GH_OK)
        err = der_put_hdr(out, DER_CTX(0), choice);
    if (err == GH_OK)
        err = der_put_hdr(out, DER_TAG_SEQUENCE, seq);
    if (err == GH_OK)
        err = der_put_hdr(out, DER_CTX(0), der_tlv_size(list_contents));
    if (err == GH_OK) {
        SECURITY_STATUS st = spnego_der_encode_mech_list(mechs, count, out);
        if (st != SEC_E_OK)
            err = st == SEC_E_INSUFFICIENT_MEMORY ? GH_ENOMEM : GH_ELIMIT;
    }
    if (err == GH_OK && mech_token != NULL)
        err = put_ctx_octets(out, 2, *mech_token);
    if (err == GH_OK && hint_name != NULL) {
        err = der_put_hdr(out, DER_CTX(3), der_tlv_size(hints_seq));
        if (err == GH_OK)
            err = der_put_hdr(out, DER_TAG_SEQUENCE, hints_seq);
        if (err == GH_OK)
            err = der_put_hdr(out, DER_CTX(0), der_tlv_size(hint_len));
        if (err == GH_OK)
            err = der_put_tlv(out, DER_TAG_GENERAL_STRING, slice_make(hint_name, hint_len));
        if (err == GH_OK && mic != NULL)
            err = put_ctx_octets(out, 4, *mic);
    } else if (err == GH_OK && mic != NULL) {
        err = put_ctx_octets(out, 3, *mic);
    }
    if (err != GH_OK)
        out->len = start; /* leave out as it was */
    return status_of(err);
}

SECURITY_STATUS
spnego_der_encode_resp(enum spnego_neg_state neg_state, const struct slice *supported_mech,
                       const struct slice *response_token, const struct slice *mic, struct buf *out)
{
    size_t start = out->len;
    int err;

    if (neg_state < SPNEGO_STATE_ABSENT || neg_state > SPNEGO_REQUEST_MIC)
        return SEC_E_INVALID_TOKEN;
    if (supported_mech != NULL && !oid_valid(*supported_mech))
        return SEC_E_INVALID_TOKEN;
    if ((response_token != NULL && response_token->len > SPNEGO_MAX_TOKEN_BYTES) ||
        (mic != NULL && mic->len > SPNEGO_MAX_TOKEN_BYTES))
        return SEC_E_INVALID_TOKEN;
    size_t f0 = neg_state == SPNEGO_STATE_ABSENT ? 0 : der_tlv_size(der_tlv_size(1));
    size_t f1 = supported_mech == NULL ? 0 : der_tlv_size(der_tlv_size(supported_mech->len));
    size_t f2 = response_token == NULL ? 0 : der_tlv_size(der_tlv_size(response_token->len));
    size_t f3 = mic == NULL ? 0 : der_tlv_size(der_tlv_size(mic->len));
    size_t seq = f0 + f1 + f2 + f3;

    err = der_put_hdr(out, DER_CTX(1), der_tlv_size(seq));
    if (err == GH_OK)
        err = der_put_hdr(out, DER_TAG_SEQUENCE, seq);
    if (err == GH_OK && neg_state != SPNEGO_STATE_ABSENT) {
        uint8_t e = (uint8_t)neg_state;
        err = der_put_hdr(out, DER_CTX(0), der_tlv_size(1));
        if (err == GH_OK)
            err = der_put_tlv(out, DER_TAG_ENUMERATED, slice_make(&e, 1));
    }
    if (err == GH_OK && supported_mech != NULL) {
        err = der_put_hdr(out, DER_CTX(1), der_tlv_size(supported_mech->len));
        if (err == GH_OK)
            err = der_put_tlv(out, DER_TAG_OID, *supported_mech);
    }
    if (err == GH_OK && response_token != NULL)
        err = put_ctx_octets(out, 2, *response_token);
    if (err == GH_OK && mic != NULL)
        err = put_ctx_octets(out, 3, *mic);
    if (err != GH_OK)
        out->len = start;
    return status_of(err);
}
