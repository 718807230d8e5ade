// SPDX-License-Identifier: MIT
// Client side of Digest (RFC 7616) and Basic (RFC 7617) for the
// auth headers. The hash math (H, KD, the algorithm names) is the server's,
// src/auth/digest.c; the client adds the -sess A1, the answer without qop,
// the Authorization builder and the challenge ranking.
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
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "auth/digest.h"
#include "base/b64.h"
#include "base/hex.h"
#include "base/secret.h"
#include "cli/fetch.h"

#define HEX_MAX (DIGEST_MAX_HEX + 1)

struct alg_info {
    enum digest_alg alg;
    bool sess;
};

/* RFC 7616 3.3: the algorithm parameter, absent meaning MD5; a -sess suffix
 * changes only how A1 is formed. False for an algorithm we do not know. */
static bool
find_alg(const struct fetch_challenge *ch, struct alg_info *out)
{
    static const char sess[] = "-sess";
    const size_t sess_len = sizeof(sess) - 1;
    const struct fetch_param *p = fetch_challenge_param(ch, "algorithm");

    *out = (struct alg_info){DIGEST_ALG_MD5, false};
    if (p == NULL)
        return true;
    struct slice name = p->value;
    if (name.len > sess_len &&
        slice_eq_nocase(slice_make(name.ptr + name.len - sess_len, sess_len), SLICE_LIT(sess))) {
        out->sess = true;
        name.len -= sess_len;
    }
    return digest_alg_parse(name, &out->alg) == GH_OK;
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
    struct alg_info a;
    if (!find_alg(ch, &a) || fetch_challenge_param(ch, "nonce") == NULL ||
        fetch_challenge_param(ch, "realm") == NULL)
        return -1;
    const struct fetch_param *qop = fetch_challenge_param(ch, "qop");
    if (qop != NULL && !list_has(qop->value, "auth"))
        return -1; /* auth-int only: we do not hash bodies */
    static const int base[] = {
        [DIGEST_ALG_MD5] = 10, [DIGEST_ALG_SHA256] = 30, [DIGEST_ALG_SHA512_256] = 20};
    return base[a.alg] + (a.sess ? 0 : 1);
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
    struct alg_info a;
    (void)find_alg(ch, &a); /* known: fetch_digest_rank checked it */
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
        hex_encode(rnd, sizeof(rnd), cnonce_buf);
        cnonce = cnonce_buf;
    }
    snprintf(nc, sizeof(nc), "%08x", (unsigned)in->nc);
    struct slice user = slice_cstr(in->user);
    struct slice cn = slice_cstr(cnonce);
    struct slice ncs = slice_cstr(nc);
    struct slice qop = SLICE_LIT("auth");

    struct slice a1[] = {user, realm, slice_cstr(in->password)};
    err = digest_hash_parts(a.alg, a1, 3, ha1);
    if (err != GH_OK)
        goto cleanup;
    if (a.sess) {
        struct slice s1[] = {slice_cstr(ha1), nonce, cn};
        err = digest_hash_parts(a.alg, s1, 3, ha1);
        if (err != GH_OK)
            goto cleanup;
    }
    struct slice method = slice_cstr(in->method), uri = slice_cstr(in->uri);
    if (has_qop) {
        err = digest_compute(a.alg, ha1, nonce, ncs, cn, qop, method, uri, resp);
    } else {
        struct slice a2[] = {method, uri};
        err = digest_hash_parts(a.alg, a2, 2, ha2);
        struct slice r[] = {slice_cstr(ha1), nonce, slice_cstr(ha2)};
        if (err == GH_OK)
            err = digest_hash_parts(a.alg, r, 3, resp);
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
        err = digest_hash_parts(a.alg, u, 2, uhash);
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
        err = buf_printf(out, ", algorithm=%s%s", digest_alg_name(a.alg), a.sess ? "-sess" : "");
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
        /* rspauth (RFC 7616 3.5): A2 = ":" request-uri */
        err = digest_compute(a.alg, ha1, nonce, ncs, cn, qop, SLICE_LIT(""), uri,
                             rspauth_expected_out);
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
        err = b64_encode(out, buf_slice(&plain));
    buf_free_wipe(&plain);
    return err;
}
