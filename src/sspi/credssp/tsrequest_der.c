// SPDX-License-Identifier: MIT
// MS-CSSP DER codec (MS-CSSP 2.2.1). Shapes (tags as bytes):
//   TSRequest          30 { a0{02 version} [a1{30{30{a0{04 negoToken}}}}] [a2{04 authInfo}]
//                           [a3{04 pubKeyAuth}] [a4{02 errorCode}] [a5{04 clientNonce}] }
//   TSCredentials      30 { a0{02 credType} a1{04 credentials} }
//   TSPasswordCreds    30 { a0{04 domain} a1{04 user} a2{04 password} }
//   TSSmartCardCreds   30 { a0{04 pin} a1{TSCspDataDetail} [a2{04 userHint}] [a3{04 domainHint}] }
//   TSCspDataDetail    30 { a0{02 keySpec} [a1{04 card}] [a2{04 reader}] [a3{04 container}]
//                           [a4{04 csp}] }
//   TSRemoteGuardCreds 30 { a0{PackageCred} [a1{30{PackageCred...}}] }
//   PackageCred        30 { a0{04 packageName} a1{04 credBuffer} }
// Fields appear in tag order, each at most once (DER); unknown fields are refused.
#include "sspi/credssp/tsrequest_der.h"

#include <gatehouse/error.h>

#include "sspi/der.h"

/* ---- Decoding ------------------------------------------------------------ */

/* The contents of SEQUENCE that must fill in exactly. */
static bool
take_sequence(struct slice in, struct slice *body)
{
    struct der d = der_of(in);

    return der_expect(&d, DER_TAG_SEQUENCE, body) && d.left == 0;
}

/* [n] { 04 bytes } when the next tag is [n]; *present tells. */
static bool
take_ctx_octets(struct der *d, uint8_t n, size_t max, bool *present, struct slice *out)
{
    struct slice field;

    *present = false;
    *out = slice_make(NULL, 0);
    if (der_peek_tag(d) != DER_CTX(n))
        return true;
    if (!der_expect(d, DER_CTX(n), &field))
        return false;
    struct der f = der_of(field);
    if (!der_expect(&f, DER_TAG_OCTET_STRING, out) || f.left != 0 || out->len > max)
        return false;
    *present = true;
    return true;
}

/* A DER INTEGER (minimal, at most 5 contents octets) as int64. */
static bool
int_value(struct slice v, int64_t *out)
{
    int64_t x;

    if (v.len == 0 || v.len > 5)
        return false;
    if (v.len > 1 &&
        ((v.ptr[0] == 0 && (v.ptr[1] & 0x80) == 0) || (v.ptr[0] == 0xff && (v.ptr[1] & 0x80) != 0)))
        return false; /* not minimal */
    x = (v.ptr[0] & 0x80) ? -1 : 0;
    for (size_t i = 0; i < v.len; i++)
        x = (int64_t)((uint64_t)x << 8) | v.ptr[i];
    *out = x;
    return true;
}

/* [n] { 02 integer } (required). */
static bool
take_ctx_int(struct der *d, uint8_t n, int64_t *out)
{
    struct slice field, v;

    if (!der_expect(d, DER_CTX(n), &field))
        return false;
    struct der f = der_of(field);
    return der_expect(&f, DER_TAG_INTEGER, &v) && f.left == 0 && int_value(v, out);
}

SECURITY_STATUS
cssp_decode_request(struct slice in, struct cssp_request *out)
{
    struct slice body, field;
    int64_t v;

    *out = (struct cssp_request){0};
    if (in.len > CSSP_MAX_MESSAGE_BYTES || !take_sequence(in, &body))
        return SEC_E_INVALID_TOKEN;
    struct der d = der_of(body);
    if (!take_ctx_int(&d, 0, &v) || v < 0 || v > CSSP_VERSION_MAX_ENCODED)
        return SEC_E_INVALID_TOKEN;
    out->version = (uint32_t)v;
    if (der_peek_tag(&d) == DER_CTX(1)) {
        struct slice seq, item;

        if (!der_expect(&d, DER_CTX(1), &field))
            return SEC_E_INVALID_TOKEN;
        /* NegoData: SEQUENCE OF NegoDataItem, exactly one item. */
        if (!take_sequence(field, &seq) || !take_sequence(seq, &item))
            return SEC_E_INVALID_TOKEN;
        struct der it = der_of(item);
        bool present;
        if (!take_ctx_octets(&it, 0, CSSP_MAX_FIELD_BYTES, &present, &out->nego_token) ||
            !present || it.left != 0)
            return SEC_E_INVALID_TOKEN;
        out->has_nego_token = true;
    }
    if (!take_ctx_octets(&d, 2, CSSP_MAX_FIELD_BYTES, &out->has_auth_info, &out->auth_info) ||
        !take_ctx_octets(&d, 3, CSSP_MAX_FIELD_BYTES, &out->has_pub_key_auth, &out->pub_key_auth))
        return SEC_E_INVALID_TOKEN;
    if (der_peek_tag(&d) == DER_CTX(4)) {
        if (!take_ctx_int(&d, 4, &v) || v < INT32_MIN || v > (int64_t)UINT32_MAX)
            return SEC_E_INVALID_TOKEN;
        out->has_error_code = true;
        out->error_code = (uint32_t)v;
    }
    if (!take_ctx_octets(&d, 5, CSSP_NONCE_BYTES, &out->has_client_nonce, &out->client_nonce))
        return SEC_E_INVALID_TOKEN;
    if (out->has_client_nonce && out->client_nonce.len != CSSP_NONCE_BYTES)
        return SEC_E_INVALID_TOKEN;
    if (d.left != 0)
        return SEC_E_INVALID_TOKEN;
    return SEC_E_OK;
}

SECURITY_STATUS
cssp_decode_credentials(struct slice in, struct cssp_credentials *out)
{
    struct slice body;
    int64_t v;
    bool present;

    *out = (struct cssp_credentials){0};
    if (in.len > CSSP_MAX_FIELD_BYTES || !take_sequence(in, &body))
        return SEC_E_INVALID_TOKEN;
    struct der d = der_of(body);
    if (!take_ctx_int(&d, 0, &v) || v < 0 || v > INT32_MAX)
        return SEC_E_INVALID_TOKEN;
    out->cred_type = (uint32_t)v;
    if (!take_ctx_octets(&d, 1, CSSP_MAX_FIELD_BYTES, &present, &out->credentials) || !present ||
        d.left != 0)
        return SEC_E_INVALID_TOKEN;
    return SEC_E_OK;
}

/* A UTF-16LE string field: an even number of bytes. */
static bool
take_string(struct der *d, uint8_t n, bool required, struct slice *out)
{
    bool present;

    if (!take_ctx_octets(d, n, CSSP_MAX_STRING_BYTES, &present, out))
        return false;
    if (required && !present)
        return false;
    return out->len % 2 == 0;
}

SECURITY_STATUS
cssp_decode_password_creds(struct slice in, struct cssp_password_creds *out)
{
    struct slice body;

    *out = (struct cssp_password_creds){0};
    if (!take_sequence(in, &body))
        return SEC_E_INVALID_TOKEN;
    struct der d = der_of(body);
    if (!take_string(&d, 0, true, &out->domain) || !take_string(&d, 1, true, &out->user) ||
        !take_string(&d, 2, true, &out->password) || d.left != 0) {
        *out = (struct cssp_password_creds){0};
        return SEC_E_INVALID_TOKEN;
    }
    return SEC_E_OK;
}

static bool
decode_csp_data(struct slice field, struct cssp_csp_data *out)
{
    struct slice body;
    int64_t v;

    if (!take_sequence(field, &body))
        return false;
    struct der d = der_of(body);
    if (!take_ctx_int(&d, 0, &v) || v < INT32_MIN || v > INT32_MAX)
        return false;
    out->key_spec = (int32_t)v;
    return take_string(&d, 1, false, &out->card_name) &&
           take_string(&d, 2, false, &out->reader_name) &&
           take_string(&d, 3, false, &out->container_name) &&
           take_string(&d, 4, false, &out->csp_name) && d.left == 0;
}

SECURITY_STATUS
cssp_decode_smartcard_creds(struct slice in, struct cssp_smartcard_creds *out)
{
    struct slice body, field;

    *out = (struct cssp_smartcard_creds){0};
    if (!take_sequence(in, &body))
        return SEC_E_INVALID_TOKEN;
    struct der d = der_of(body);
    if (!take_string(&d, 0, true, &out->pin) || !der_expect(&d, DER_CTX(1), &field) ||
        !decode_csp_data(field, &out->csp_data) || !take_string(&d, 2, false, &out->user_hint) ||
        !take_string(&d, 3, false, &out->domain_hint) || d.left != 0) {
        *out = (struct cssp_smartcard_creds){0};
        return SEC_E_INVALID_TOKEN;
    }
    return SEC_E_OK;
}

static bool
decode_package_cred(struct slice in, struct cssp_package_cred *out)
{
    struct slice body;
    bool present;

    if (!take_sequence(in, &body))
        return false;
    struct der d = der_of(body);
    return take_string(&d, 0, true, &out->package_name) &&
           take_ctx_octets(&d, 1, CSSP_MAX_FIELD_BYTES, &present, &out->cred_buffer) && present &&
           d.left == 0;
}

SECURITY_STATUS
cssp_decode_remote_guard_creds(struct slice in, struct cssp_remote_guard_creds *out)
{
    struct slice body, field, seq;

    *out = (struct cssp_remote_guard_creds){0};
    if (!take_sequence(in, &body))
        return SEC_E_INVALID_TOKEN;
    struct der d = der_of(body);
    if (!der_expect(&d, DER_CTX(0), &field) || !decode_package_cred(field, &out->logon_cred))
        goto bad;
    if (der_peek_tag(&d) == DER_CTX(1)) {
        if (!der_expect(&d, DER_CTX(1), &field) || !take_sequence(field, &seq))
            goto bad;
        struct der s = der_of(seq);
        while (s.left > 0) {
            const uint8_t *start = s.pos;
            struct slice item;

            if (out->supplemental_count == CSSP_MAX_SUPPLEMENTAL ||
                !der_expect(&s, DER_TAG_SEQUENCE, &item))
                goto bad;
            /* decode_package_cred reads the whole SEQUENCE TLV */
            struct slice whole = slice_make(start, (size_t)(s.pos - start));
            if (!decode_package_cred(whole, &out->supplemental[out->supplemental_count]))
                goto bad;
            out->supplemental_count++;
        }
    }
    if (d.left != 0)
        goto bad;
    return SEC_E_OK;
bad:
    *out = (struct cssp_remote_guard_creds){0};
    return SEC_E_INVALID_TOKEN;
}

SECURITY_STATUS
cssp_message_size(struct slice in, size_t *size_out)
{
    size_t len = 0, hdr;

    *size_out = 0;
    if (in.len < 2) {
        *size_out = 2 - in.len;
        return SEC_E_INCOMPLETE_MESSAGE;
    }
    if (in.ptr[0] != DER_TAG_SEQUENCE)
        return SEC_E_INVALID_TOKEN;
    if (in.ptr[1] < 0x80) {
        hdr = 2;
        len = in.ptr[1];
    } else {
        size_t n = in.ptr[1] & 0x7f;

        if (n == 0 || n > 3)
            return SEC_E_INVALID_TOKEN;
        hdr = 2 + n;
        if (in.len < hdr) {
            *size_out = hdr - in.len;
            return SEC_E_INCOMPLETE_MESSAGE;
        }
        for (size_t i = 0; i < n; i++)
            len = (len << 8) | in.ptr[2 + i];
    }
    if (len > CSSP_MAX_MESSAGE_BYTES)
        return SEC_E_INVALID_TOKEN;
    if (in.len < hdr + len) {
        *size_out = hdr + len - in.len;
        return SEC_E_INCOMPLETE_MESSAGE;
    }
    *size_out = hdr + len;
    return SEC_E_OK;
}

/* ---- Encoding ------------------------------------------------------------ */

static SECURITY_STATUS
status_of(int err)
{
    if (err == GH_OK)
        return SEC_E_OK;
    return err == GH_ENOMEM ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INVALID_TOKEN;
}

/* The minimal two's complement contents of v. */
static size_t
int_octets(int64_t v, uint8_t out[9])
{
    uint8_t tmp[9];
    size_t n = 0;

    tmp[0] = v < 0 ? 0xff : 0x00; /* sign extension */
    for (int i = 0; i < 8; i++)
        tmp[1 + i] = (uint8_t)((uint64_t)v >> (8 * (7 - i)));
    size_t start = 0;
    while (start < 8 && ((tmp[start] == 0 && (tmp[start + 1] & 0x80) == 0) ||
                         (tmp[start] == 0xff && (tmp[start + 1] & 0x80) != 0)))
        start++;
    for (size_t i = start; i < 9; i++)
        out[n++] = tmp[i];
    return n;
}

static size_t
ctx_int_size(int64_t v)
{
    uint8_t o[9];

    return der_tlv_size(der_tlv_size(int_octets(v, o)));
}

static int
put_ctx_int(struct buf *out, uint8_t n, int64_t v)
{
    uint8_t o[9];
    size_t len = int_octets(v, o);
    int err = der_put_hdr(out, DER_CTX(n), der_tlv_size(len));

    if (err == GH_OK)
        err = der_put_tlv(out, DER_TAG_INTEGER, slice_make(o, len));
    return err;
}

static size_t
ctx_octets_size(struct slice v)
{
    return der_tlv_size(der_tlv_size(v.len));
}

static int
put_ctx_octets(struct buf *out, uint8_t n, struct slice v)
{
    int err = der_put_hdr(out, DER_CTX(n), der_tlv_size(v.len));

    if (err == GH_OK)
        err = der_put_tlv(out, DER_TAG_OCTET_STRING, v);
    return err;
}

SECURITY_STATUS
cssp_encode_request(const struct cssp_request *req, struct buf *out)
{
    size_t body = ctx_int_size(req->version), nego_item = 0;
    int err;

    if (req->version > CSSP_VERSION_MAX_ENCODED ||
        (req->has_nego_token && req->nego_token.len > CSSP_MAX_FIELD_BYTES) ||
        (req->has_auth_info && req->auth_info.len > CSSP_MAX_FIELD_BYTES) ||
        (req->has_pub_key_auth && req->pub_key_auth.len > CSSP_MAX_FIELD_BYTES) ||
        (req->has_client_nonce && req->client_nonce.len != CSSP_NONCE_BYTES))
        return SEC_E_INVALID_TOKEN;
    if (req->has_nego_token) {
        nego_item = ctx_octets_size(req->nego_token);
        body += der_tlv_size(der_tlv_size(der_tlv_size(nego_item)));
    }
    if (req->has_auth_info)
        body += ctx_octets_size(req->auth_info);
    if (req->has_pub_key_auth)
        body += ctx_octets_size(req->pub_key_auth);
    if (req->has_error_code)
        body += ctx_int_size((int32_t)req->error_code);
    if (req->has_client_nonce)
        body += ctx_octets_size(req->client_nonce);
    err = der_put_hdr(out, DER_TAG_SEQUENCE, body);
    if (err == GH_OK)
        err = put_ctx_int(out, 0, req->version);
    if (err == GH_OK && req->has_nego_token) {
        err = der_put_hdr(out, DER_CTX(1), der_tlv_size(der_tlv_size(nego_item)));
        if (err == GH_OK)
            err = der_put_hdr(out, DER_TAG_SEQUENCE, der_tlv_size(nego_item));
        if (err == GH_OK)
            err = der_put_hdr(out, DER_TAG_SEQUENCE, nego_item);
        if (err == GH_OK)
            err = put_ctx_octets(out, 0, req->nego_token);
    }
    if (err == GH_OK && req->has_auth_info)
        err = put_ctx_octets(out, 2, req->auth_info);
    if (err == GH_OK && req->has_pub_key_auth)
        err = put_ctx_octets(out, 3, req->pub_key_auth);
    if (err == GH_OK && req->has_error_code)
        /* NTSTATUS is a signed 32-bit value: 0xC000006D is the 4-octet negative
         * INTEGER c0 00 00 6d, as Windows sends it (FreeRDP 2 reads no more
         * than 4 octets) */
        err = put_ctx_int(out, 4, (int32_t)req->error_code);
    if (err == GH_OK && req->has_client_nonce)
        err = put_ctx_octets(out, 5, req->client_nonce);
    return status_of(err);
}

SECURITY_STATUS
cssp_encode_credentials(uint32_t cred_type, struct slice inner, struct buf *out)
{
    int err;

    if (inner.len > CSSP_MAX_FIELD_BYTES || cred_type > INT32_MAX)
        return SEC_E_INVALID_TOKEN;
    err = der_put_hdr(out, DER_TAG_SEQUENCE, ctx_int_size(cred_type) + ctx_octets_size(inner));
    if (err == GH_OK)
        err = put_ctx_int(out, 0, cred_type);
    if (err == GH_OK)
        err = put_ctx_octets(out, 1, inner);
    return status_of(err);
}

static bool
string_ok(struct slice s)
{
    return s.len <= CSSP_MAX_STRING_BYTES && s.len % 2 == 0;
}

SECURITY_STATUS
cssp_encode_password_creds(const struct cssp_password_creds *c, struct buf *out)
{
    int err;

    if (!string_ok(c->domain) || !string_ok(c->user) || !string_ok(c->password))
        return SEC_E_INVALID_TOKEN;
    err = der_put_hdr(out, DER_TAG_SEQUENCE,
                      ctx_octets_size(c->domain) + ctx_octets_size(c->user) +
                          ctx_octets_size(c->password));
    if (err == GH_OK)
        err = put_ctx_octets(out, 0, c->domain);
    if (err == GH_OK)
        err = put_ctx_octets(out, 1, c->user);
    if (err == GH_OK)
        err = put_ctx_octets(out, 2, c->password);
    return status_of(err);
}

/* An optional string: omitted when empty. */
static size_t
opt_size(struct slice s)
{
    return s.len == 0 ? 0 : ctx_octets_size(s);
}

static int
put_opt(struct buf *out, uint8_t n, struct slice s)
{
    return s.len == 0 ? GH_OK : put_ctx_octets(out, n, s);
}

SECURITY_STATUS
cssp_encode_smartcard_creds(const struct cssp_smartcard_creds *c, struct buf *out)
{
    const struct cssp_csp_data *k = &c->csp_data;
    size_t csp, body;
    int err;

    if (!string_ok(c->pin) || !string_ok(c->user_hint) || !string_ok(c->domain_hint) ||
        !string_ok(k->card_name) || !string_ok(k->reader_name) || !string_ok(k->container_name) ||
        !string_ok(k->csp_name))
        return SEC_E_INVALID_TOKEN;
    csp = ctx_int_size(k->key_spec) + opt_size(k->card_name) + opt_size(k->reader_name) +
          opt_size(k->container_name) + opt_size(k->csp_name);
    body = ctx_octets_size(c->pin) + der_tlv_size(der_tlv_size(csp)) + opt_size(c->user_hint) +
           opt_size(c->domain_hint);
    err = der_put_hdr(out, DER_TAG_SEQUENCE, body);
    if (err == GH_OK)
        err = put_ctx_octets(out, 0, c->pin);
    if (err == GH_OK)
        err = der_put_hdr(out, DER_CTX(1), der_tlv_size(csp));
    if (err == GH_OK)
        err = der_put_hdr(out, DER_TAG_SEQUENCE, csp);
    if (err == GH_OK)
        err = put_ctx_int(out, 0, k->key_spec);
    if (err == GH_OK)
        err = put_opt(out, 1, k->card_name);
    if (err == GH_OK)
        err = put_opt(out, 2, k->reader_name);
    if (err == GH_OK)
        err = put_opt(out, 3, k->container_name);
    if (err == GH_OK)
        err = put_opt(out, 4, k->csp_name);
    if (err == GH_OK)
        err = put_opt(out, 2, c->user_hint);
    if (err == GH_OK)
        err = put_opt(out, 3, c->domain_hint);
    return status_of(err);
}

static size_t
package_cred_size(const struct cssp_package_cred *p)
{
    return ctx_octets_size(p->package_name) + ctx_octets_size(p->cred_buffer);
}

static int
put_package_cred(struct buf *out, const struct cssp_package_cred *p)
{
    int err = der_put_hdr(out, DER_TAG_SEQUENCE, package_cred_size(p));

    if (err == GH_OK)
        err = put_ctx_octets(out, 0, p->package_name);
    if (err == GH_OK)
        err = put_ctx_octets(out, 1, p->cred_buffer);
    return err;
}

SECURITY_STATUS
cssp_encode_remote_guard_creds(const struct cssp_remote_guard_creds *c, struct buf *out)
{
    size_t body, supp = 0;
    int err;

    if (c->supplemental_count > CSSP_MAX_SUPPLEMENTAL || !string_ok(c->logon_cred.package_name))
        return SEC_E_INVALID_TOKEN;
    for (size_t i = 0; i < c->supplemental_count; i++) {
        if (!string_ok(c->supplemental[i].package_name))
            return SEC_E_INVALID_TOKEN;
        supp += der_tlv_size(package_cred_size(&c->supplemental[i]));
    }
    body = der_tlv_size(der_tlv_size(package_cred_size(&c->logon_cred)));
    if (c->supplemental_count > 0)
        body += der_tlv_size(der_tlv_size(supp));
    err = der_put_hdr(out, DER_TAG_SEQUENCE, body);
    if (err == GH_OK)
        err = der_put_hdr(out, DER_CTX(0), der_tlv_size(package_cred_size(&c->logon_cred)));
    if (err == GH_OK)
        err = put_package_cred(out, &c->logon_cred);
    if (err == GH_OK && c->supplemental_count > 0) {
        err = der_put_hdr(out, DER_CTX(1), der_tlv_size(supp));
        if (err == GH_OK)
            err = der_put_hdr(out, DER_TAG_SEQUENCE, supp);
        for (size_t i = 0; err == GH_OK && i < c->supplemental_count; i++)
            err = put_package_cred(out, &c->supplemental[i]);
    }
    return status_of(err);
}
