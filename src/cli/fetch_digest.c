// SPDX-License-Identifier: MIT
// Client side of Digest (RFC 7616) and Basic (RFC 7617), and base64 for the
// auth headers. The server's auth engine has its own Digest code on its
// branch; once it is on main this file's hash helpers can move onto it (the
// client adds only the Authorization builder and the challenge ranking).
//
// RFC 7616 3.4.1, qop=auth:
//   A1       = username ":" realm ":" passwd          (-sess: H(A1) ":" nonce ":" cnonce)
//   A2       = method ":" request-uri                 (rspauth, 3.5: ":" request-uri)
//   response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)), KD(s, d) = H(s ":" d)
// Without qop (RFC 2069 compatibility, 3.4.1 last paragraph):
//   response = H(H(A1) ":" nonce ":" H(A2))
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "base/secret.h"
#include "cli/fetch.h"

#define HEX_MAX 129 /* 64-byte digests would need 128 hex digits; ours are at most 32 bytes */

struct alg_info {
    const char *name;
    enum fetch_digest_alg alg;
    bool sess;
};

static const struct alg_info algs[] = {
    {"MD5", FETCH_DIGEST_MD5, false},
    {"MD5-sess", FETCH_DIGEST_MD5, true},
    {"SHA-256", FETCH_DIGEST_SHA256, false},
    {"SHA-256-sess", FETCH_DIGEST_SHA256, true},
    {"SHA-512-256", FETCH_DIGEST_SHA512_256, false},
    {"SHA-512-256-sess", FETCH_DIGEST_SHA512_256, true},
};

static const struct alg_info *
find_alg(const struct fetch_challenge *ch)
{
    const struct fetch_param *p = fetch_challenge_param(ch, "algorithm");
    if (p == NULL)
        return &algs[0]; /* RFC 7616 3.3: absent means MD5 */
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (slice_eq_nocase(p->value, slice_cstr(algs[i].name)))
            return &algs[i];
    }
    return NULL;
}

/* True when the comma-separated list holds the token item. */
static bool
list_has(struct slice list, const char *item)
{
    struct slice want = slice_cstr(item);
    size_t i = 0;
    while (i < list.len) {
        while (i < list.len && (list.ptr[i] == ' ' || list.ptr[i] == '\t' || list.ptr[i] == ','))
            i++;
        size_t start = i;
        while (i < list.len && list.ptr[i] != ',' && list.ptr[i] != ' ' && list.ptr[i] != '\t')
            i++;
        if (i > start && slice_eq_nocase(slice_make(list.ptr + start, i - start), want))
            return true;
    }
    return false;
}

int
fetch_digest_rank(const struct fetch_challenge *ch)
{
    const struct alg_info *a = find_alg(ch);
    if (a == NULL || fetch_challenge_param(ch, "nonce") == NULL ||
        fetch_challenge_param(ch, "realm") == NULL)
        return -1;
    const struct fetch_param *qop = fetch_challenge_param(ch, "qop");
    if (qop != NULL && !list_has(qop->value, "auth"))
        return -1; /* auth-int only: we do not hash bodies */
    static const int base[] = {
        [FETCH_DIGEST_MD5] = 10, [FETCH_DIGEST_SHA256] = 30, [FETCH_DIGEST_SHA512_256] = 20};
    return base[a->alg] + (a->sess ? 0 : 1);
}

static const EVP_MD *
alg_md(enum fetch_digest_alg alg)
{
    switch (alg) {
    case FETCH_DIGEST_SHA256:
        return EVP_sha256();
    case FETCH_DIGEST_SHA512_256:
        return EVP_sha512_256();
    case FETCH_DIGEST_MD5:
    default:
        return EVP_md5();
    }
}

/* Lowercase hex of H(parts joined by ':'). */
static int
hash_hex(enum fetch_digest_alg alg, const struct slice *parts, size_t n, char hex[HEX_MAX])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int err = GH_ENOMEM;

    if (md == NULL)
        goto cleanup;
    if (EVP_DigestInit_ex(md, alg_md(alg), NULL) != 1)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && EVP_DigestUpdate(md, ":", 1) != 1)
            goto cleanup;
        if (parts[i].len > 0 && EVP_DigestUpdate(md, parts[i].ptr, parts[i].len) != 1)
            goto cleanup;
    }
    if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen * 2 >= HEX_MAX)
        goto cleanup;
    for (unsigned i = 0; i < dlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[2 * dlen] = '\0';
    err = GH_OK;
cleanup:
    EVP_MD_CTX_free(md);
    secret_wipe(digest, sizeof(digest));
    return err;
}

/* Appends `, name="value"` with '"' and '\' escaped (RFC 9110 5.6.4). */
static int
append_quoted(struct buf *out, const char *name, struct slice value)
{
    int err = buf_printf(out, ", %s=\"", name);
    for (size_t i = 0; err == GH_OK && i < value.len; i++) {
        uint8_t c = value.ptr[i];
        if (c < 0x20 || c == 0x7f)
            return GH_EPROTO;
        if (c == '"' || c == '\\')
            err = buf_append(out, "\\", 1);
        if (err == GH_OK)
            err = buf_append(out, &c, 1);
    }
    if (err == GH_OK)
        err = buf_append(out, "\"", 1);
    return err;
}

/* username* (RFC 8187 3.2.1): UTF-8'' and attr-char or %XX. */
static int
append_ext_value(struct buf *out, const char *user)
{
    int err = buf_append_str(out, ", username*=UTF-8''");
    for (const uint8_t *p = (const uint8_t *)user; err == GH_OK && *p != 0; p++) {
        uint8_t c = *p;
        bool attr = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != 0 && strchr("!#$&+-.^_`|~", c) != NULL);
        err = attr ? buf_append(out, &c, 1) : buf_printf(out, "%%%02X", c);
    }
    return err;
}

static bool
needs_ext(const char *user)
{
    for (const uint8_t *p = (const uint8_t *)user; *p != 0; p++) {
        if (*p < 0x20 || *p >= 0x7f)
            return true;
    }
    return false;
}

int
fetch_digest_authorization(const struct fetch_challenge *ch, const struct fetch_digest_input *in,
                           struct buf *out, char rspauth_expected_out[129])
{
    char ha1[HEX_MAX], ha2[HEX_MAX], resp[HEX_MAX], uhash[HEX_MAX];
    char cnonce_buf[33];
    char nc[9];
    int err;

    rspauth_expected_out[0] = '\0';
    if (fetch_digest_rank(ch) < 0)
        return GH_EUNSUPPORTED;
    const struct alg_info *a = find_alg(ch);
    struct slice realm = fetch_challenge_param(ch, "realm")->value;
    struct slice nonce = fetch_challenge_param(ch, "nonce")->value;
    const struct fetch_param *opaque = fetch_challenge_param(ch, "opaque");
    const struct fetch_param *uh = fetch_challenge_param(ch, "userhash");
    bool userhash = uh != NULL && slice_eq_nocase(uh->value, SLICE_LIT("true"));
    bool has_qop = fetch_challenge_param(ch, "qop") != NULL;

    const char *cnonce = in->cnonce;
    if (cnonce == NULL) {
        uint8_t rnd[16];
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
            return GH_ENOMEM;
        for (size_t i = 0; i < sizeof(rnd); i++)
            snprintf(cnonce_buf + 2 * i, 3, "%02x", rnd[i]);
        cnonce = cnonce_buf;
    }
    snprintf(nc, sizeof(nc), "%08x", (unsigned)in->nc);
    struct slice user = slice_cstr(in->user);
    struct slice cn = slice_cstr(cnonce);
    struct slice ncs = slice_cstr(nc);
    struct slice qop = SLICE_LIT("auth");

    struct slice a1[] = {user, realm, slice_cstr(in->password)};
    err = hash_hex(a->alg, a1, 3, ha1);
    if (err != GH_OK)
        goto cleanup;
    if (a->sess) {
        struct slice s1[] = {slice_cstr(ha1), nonce, cn};
        err = hash_hex(a->alg, s1, 3, ha1);
        if (err != GH_OK)
            goto cleanup;
    }
    struct slice a2[] = {slice_cstr(in->method), slice_cstr(in->uri)};
    err = hash_hex(a->alg, a2, 2, ha2);
    if (err != GH_OK)
        goto cleanup;
    if (has_qop) {
        struct slice r[] = {slice_cstr(ha1), nonce, ncs, cn, qop, slice_cstr(ha2)};
        err = hash_hex(a->alg, r, 6, resp);
    } else {
        struct slice r[] = {slice_cstr(ha1), nonce, slice_cstr(ha2)};
        err = hash_hex(a->alg, r, 3, resp);
    }
    if (err != GH_OK)
        goto cleanup;

    err = buf_append_str(out, "Digest ");
    if (err != GH_OK)
        goto cleanup;
    /* The first parameter has no leading ", ": write it, then drop the 2 bytes. */
    size_t mark = out->len;
    if (userhash) {
        struct slice u[] = {user, realm};
        err = hash_hex(a->alg, u, 2, uhash);
        if (err == GH_OK)
            err = append_quoted(out, "username", slice_cstr(uhash));
    } else if (needs_ext(in->user)) {
        err = append_ext_value(out, in->user);
    } else {
        err = append_quoted(out, "username", user);
    }
    if (err != GH_OK)
        goto cleanup;
    memmove(out->data + mark, out->data + mark + 2, out->len - mark - 2);
    out->len -= 2;
    err = append_quoted(out, "realm", realm);
    if (err == GH_OK)
        err = append_quoted(out, "uri", slice_cstr(in->uri));
    if (err == GH_OK)
        err = buf_printf(out, ", algorithm=%s", a->name);
    if (err == GH_OK)
        err = append_quoted(out, "nonce", nonce);
    if (err == GH_OK && has_qop)
        err = buf_printf(out, ", nc=%s, cnonce=\"%s\", qop=auth", nc, cnonce);
    if (err == GH_OK)
        err = buf_printf(out, ", response=\"%s\"", resp);
    if (err == GH_OK && opaque != NULL)
        err = append_quoted(out, "opaque", opaque->value);
    if (err == GH_OK && userhash)
        err = buf_append_str(out, ", userhash=true");
    if (err != GH_OK)
        goto cleanup;

    if (has_qop) {
        struct slice r2[] = {SLICE_LIT(""), slice_cstr(in->uri)};
        err = hash_hex(a->alg, r2, 2, ha2);
        if (err != GH_OK)
            goto cleanup;
        struct slice r[] = {slice_cstr(ha1), nonce, ncs, cn, qop, slice_cstr(ha2)};
        err = hash_hex(a->alg, r, 6, rspauth_expected_out);
        if (err != GH_OK)
            rspauth_expected_out[0] = '\0';
    }
cleanup:
    secret_wipe(ha1, sizeof(ha1));
    return err;
}

int
fetch_digest_check_rspauth(struct slice auth_info, const char *expected_hex)
{
    uint8_t scratch[1024];
    struct fetch_challenges owner = {.scratch = scratch, .scratch_len = sizeof(scratch)};
    struct fetch_challenge params;

    if (fetch_params_parse(auth_info, &owner, &params) != GH_OK)
        return GH_EPROTO;
    const struct fetch_param *p = fetch_challenge_param(&params, "rspauth");
    if (p == NULL)
        return GH_ENOTFOUND;
    size_t n = strlen(expected_hex);
    /* Hex digits are compared case-insensitively: lower the received copy. */
    char got[HEX_MAX];
    if (p->value.len != n || n >= sizeof(got))
        return GH_EAUTH;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p->value.ptr[i];
        got[i] = (char)((c >= 'A' && c <= 'F') ? c + 32 : c);
    }
    return CRYPTO_memcmp(got, expected_hex, n) == 0 ? GH_OK : GH_EAUTH;
}

int
fetch_basic_authorization(const char *user, const char *password, struct buf *out)
{
    struct buf plain;
    int err;

    for (const uint8_t *p = (const uint8_t *)user; *p != 0; p++) {
        if (*p == ':' || *p < 0x20 || *p == 0x7f)
            return GH_EPROTO; /* RFC 7617 2: a user-id containing a colon is invalid */
    }
    for (const uint8_t *p = (const uint8_t *)password; *p != 0; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return GH_EPROTO;
    }
    buf_init(&plain, 8192);
    err = buf_printf(&plain, "%s:%s", user, password);
    if (err == GH_OK)
        err = buf_append_str(out, "Basic ");
    if (err == GH_OK)
        err = fetch_b64_encode(out, plain.data, plain.len);
    buf_free_wipe(&plain);
    return err;
}

int
fetch_b64_encode(struct buf *out, const uint8_t *data, size_t len)
{
    if (len > (1u << 26))
        return GH_ELIMIT;
    size_t need = (len + 2) / 3 * 4;
    int err = buf_reserve(out, need + 1);
    if (err != GH_OK)
        return err;
    int n = EVP_EncodeBlock(out->data + out->len, data, (int)len);
    if (n < 0 || (size_t)n != need)
        return GH_EPROTO;
    out->len += (size_t)n;
    return GH_OK;
}

static int
b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int
fetch_b64_decode(struct buf *out, struct slice text)
{
    /* Strict: length a multiple of 4, '=' only as the last one or two characters,
     * unused bits zero. EVP_DecodeBlock is too lenient (it skips whitespace and
     * cannot report the padding), so this is done by hand. */
    if (text.len % 4 != 0)
        return GH_EPROTO;
    size_t pad = 0;
    if (text.len > 0 && text.ptr[text.len - 1] == '=')
        pad = (text.len > 1 && text.ptr[text.len - 2] == '=') ? 2 : 1;
    int err = buf_reserve(out, text.len / 4 * 3);
    if (err != GH_OK)
        return err;
    size_t start = out->len;
    for (size_t i = 0; i < text.len; i += 4) {
        bool last = i + 4 == text.len;
        int v[4];
        for (size_t k = 0; k < 4; k++) {
            bool is_pad = last && k >= 4 - pad;
            v[k] = is_pad ? 0 : b64_value(text.ptr[i + k]);
            if (v[k] < 0) {
                out->len = start;
                return GH_EPROTO;
            }
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t nbytes = last ? 3 - pad : 3;
        if (last && ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))) {
            out->len = start;
            return GH_EPROTO; /* non-zero unused bits: not the canonical spelling */
        }
        uint8_t b[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        memcpy(out->data + out->len, b, nbytes);
        out->len += nbytes;
    }
    return GH_OK;
}
