// SPDX-License-Identifier: MIT
// Digest (RFC 7616), server side.
//
// Nonces are stateless: the server can check any nonce it issued from the
// secret alone. State exists only for nonce counts, and only for nonces that
// already authenticated someone. The replay table is set-associative (buckets
// of REPLAY_WAYS entries); when a bucket is full the entry with the oldest nonce
// is evicted and the table's "floor" rises to that nonce's issue time: a nonce
// not in the table and issued at or before the floor may have been evicted, so
// it is answered as stale (the client retries with a new nonce) instead of being
// trusted as never used. No replay is ever accepted, whatever the load.
#include "auth/digest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "base/b64.h"
#include "base/hex.h"
#include "base/secret.h"
#include "http/auth_syntax.h"

#define NONCE_BYTES      54
#define NONCE_TIME_BYTES 8
#define NONCE_RAND_BYTES 14
#define NONCE_MAC_OFFSET (NONCE_TIME_BYTES + NONCE_RAND_BYTES)
#define NONCE_MAC_BYTES  32
#define REPLAY_KEY_BYTES 16
#define REPLAY_WAYS      8
#define REPLAY_WINDOW    64 /* counts accepted out of order behind the highest */
#define CLOCK_SLACK_S    5  /* nonces "from the future" within this are tolerated */

struct replay_entry {
    uint8_t key[REPLAY_KEY_BYTES];
    int64_t issued;
    uint32_t highest;
    uint64_t seen; /* bit i: highest - i was used */
    bool is_used;
};

struct digest_state {
    uint8_t secret[32];
    unsigned lifetime_s;
    pthread_mutex_t lock; /* guards everything below */
    struct replay_entry *entries;
    size_t bucket_count;
    int64_t floor_issued;
};

static const char *const alg_names[] = {"MD5", "SHA-256", "SHA-512-256"};

const char *
digest_alg_name(enum digest_alg alg)
{
    return alg_names[alg];
}

int
digest_alg_parse(struct slice name, enum digest_alg *alg_out)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++) {
        if (slice_eq_nocase(name, slice_cstr(alg_names[i]))) {
            *alg_out = (enum digest_alg)i;
            return GH_OK;
        }
    }
    return GH_EUNSUPPORTED;
}

static const EVP_MD *
alg_md(enum digest_alg alg)
{
    switch (alg) {
    case DIGEST_ALG_MD5:
        return EVP_md5();
    case DIGEST_ALG_SHA256:
        return EVP_sha256();
    case DIGEST_ALG_SHA512_256:
        return EVP_sha512_256();
    }
    return NULL;
}

void
digest_state_set_lifetime(struct digest_state *st, unsigned lifetime_s)
{
    if (lifetime_s > 0)
        st->lifetime_s = lifetime_s;
}

int
digest_state_create(const uint8_t *secret, size_t replay_entries, unsigned lifetime_s,
                    struct digest_state **state_out)
{
    struct digest_state *st = calloc(1, sizeof(*st));

    *state_out = NULL;
    if (st == NULL)
        return GH_ENOMEM;
    if (replay_entries == 0)
        replay_entries = DIGEST_DEFAULT_REPLAY_ENTRIES;
    st->bucket_count = (replay_entries + REPLAY_WAYS - 1) / REPLAY_WAYS;
    st->entries = calloc(st->bucket_count * REPLAY_WAYS, sizeof(*st->entries));
    if (st->entries == NULL) {
        free(st);
        return GH_ENOMEM;
    }
    if (secret != NULL) {
        memcpy(st->secret, secret, sizeof(st->secret));
    } else if (RAND_bytes(st->secret, sizeof(st->secret)) != 1) {
        free(st->entries);
        free(st);
        return GH_EIO;
    }
    st->lifetime_s = lifetime_s > 0 ? lifetime_s : DIGEST_DEFAULT_LIFETIME_S;
    st->floor_issued = INT64_MIN;
    pthread_mutex_init(&st->lock, NULL);
    *state_out = st;
    return GH_OK;
}

void
digest_state_destroy(struct digest_state *st)
{
    if (st == NULL)
        return;
    pthread_mutex_destroy(&st->lock);
    free(st->entries);
    secret_wipe(st->secret, sizeof(st->secret));
    free(st);
}

static int
nonce_mac(const struct digest_state *st, const uint8_t *head, const char *realm,
          uint8_t mac_out[NONCE_MAC_BYTES])
{
    unsigned int mac_len = 0;
    uint8_t msg[NONCE_MAC_OFFSET + 512];
    size_t realm_len = strlen(realm);

    if (realm_len > sizeof(msg) - NONCE_MAC_OFFSET)
        return GH_EINVAL;
    memcpy(msg, head, NONCE_MAC_OFFSET);
    memcpy(msg + NONCE_MAC_OFFSET, realm, realm_len);
    if (HMAC(EVP_sha256(), st->secret, sizeof(st->secret), msg, NONCE_MAC_OFFSET + realm_len,
             mac_out, &mac_len) == NULL ||
        mac_len != NONCE_MAC_BYTES)
        return GH_ENOMEM;
    return GH_OK;
}

int
digest_nonce_make(const struct digest_state *st, const char *realm, time_t now,
                  char nonce_out[DIGEST_NONCE_CHARS + 1])
{
    uint8_t raw[NONCE_BYTES];
    uint64_t t = (uint64_t)(int64_t)now;
    struct buf b;
    int err;

    for (int i = 0; i < NONCE_TIME_BYTES; i++)
        raw[i] = (uint8_t)(t >> (56 - 8 * i));
    if (RAND_bytes(raw + NONCE_TIME_BYTES, NONCE_RAND_BYTES) != 1)
        return GH_EIO;
    err = nonce_mac(st, raw, realm, raw + NONCE_MAC_OFFSET);
    if (err != GH_OK)
        return err;
    buf_init(&b, DIGEST_NONCE_CHARS);
    err = b64_encode(&b, slice_make(raw, sizeof(raw)));
    if (err == GH_OK) {
        memcpy(nonce_out, b.data, DIGEST_NONCE_CHARS);
        nonce_out[DIGEST_NONCE_CHARS] = 0;
    }
    buf_free(&b);
    return err;
}

/* Decodes a nonce of the right shape into raw; false otherwise. */
static bool
nonce_decode(struct slice nonce, uint8_t raw[NONCE_BYTES])
{
    uint8_t storage[NONCE_BYTES + 3] = {0};
    struct buf b = {.data = storage, .len = 0, .cap = sizeof(storage), .max = sizeof(storage)};

    if (nonce.len != DIGEST_NONCE_CHARS || b64_decode(&b, nonce) != GH_OK || b.len != NONCE_BYTES)
        return false;
    memcpy(raw, storage, NONCE_BYTES);
    return true;
}

static int64_t
nonce_issued(const uint8_t raw[NONCE_BYTES])
{
    uint64_t t = 0;
    for (int i = 0; i < NONCE_TIME_BYTES; i++)
        t = (t << 8) | raw[i];
    return (int64_t)t;
}

int
digest_nonce_check(const struct digest_state *st, const char *realm, struct slice nonce, time_t now)
{
    uint8_t raw[NONCE_BYTES];
    uint8_t mac[NONCE_MAC_BYTES];

    if (!nonce_decode(nonce, raw))
        return GH_EAUTH;
    if (nonce_mac(st, raw, realm, mac) != GH_OK)
        return GH_EAUTH;
    if (!secret_memeq(mac, raw + NONCE_MAC_OFFSET, NONCE_MAC_BYTES))
        return GH_EAUTH;
    int64_t issued = nonce_issued(raw);
    if (issued > (int64_t)now + CLOCK_SLACK_S)
        return GH_EAUTH;
    if ((int64_t)now - issued > (int64_t)st->lifetime_s)
        return GH_ETIMEDOUT;
    return GH_OK;
}

int
digest_challenge(struct buf *out, const struct digest_state *st, const char *realm,
                 enum digest_alg alg, bool offer_userhash, bool stale, time_t now)
{
    char nonce[DIGEST_NONCE_CHARS + 1];
    size_t mark = out->len;
    int err = digest_nonce_make(st, realm, now, nonce);

    if (err == GH_OK)
        err = authz_challenge_begin(out, "Digest");
    if (err == GH_OK)
        err = authz_challenge_param(out, "realm", slice_cstr(realm), true);
    if (err == GH_OK)
        err = authz_challenge_param(out, "qop", SLICE_LIT("auth"), true);
    if (err == GH_OK)
        err = authz_challenge_param(out, "algorithm", slice_cstr(digest_alg_name(alg)), false);
    if (err == GH_OK)
        err = authz_challenge_param(out, "nonce", slice_cstr(nonce), true);
    if (err == GH_OK) /* RFC 7616 3.3: usernames and passwords are UTF-8 */
        err = authz_challenge_param(out, "charset", SLICE_LIT("UTF-8"), false);
    if (err == GH_OK && offer_userhash)
        err = authz_challenge_param(out, "userhash", SLICE_LIT("true"), false);
    if (err == GH_OK && stale)
        err = authz_challenge_param(out, "stale", SLICE_LIT("true"), false);
    if (err != GH_OK)
        out->len = mark;
    return err;
}

int
digest_hash_parts(enum digest_alg alg, const struct slice *parts, size_t count,
                  char hex_out[DIGEST_MAX_HEX + 1])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, alg_md(alg), NULL) == 1;

    for (size_t i = 0; ok && i < count; i++) {
        if (i > 0)
            ok = EVP_DigestUpdate(ctx, ":", 1) == 1;
        if (ok && parts[i].len > 0)
            ok = EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len * 2 <= DIGEST_MAX_HEX;
    EVP_MD_CTX_free(ctx);
    if (ok)
        hex_encode(md, md_len, hex_out);
    secret_wipe(md, sizeof(md)); /* H(A1) is as good as the password */
    return ok ? GH_OK : GH_ENOMEM;
}

int
digest_hash_hex(enum digest_alg alg, struct slice data, char hex_out[DIGEST_MAX_HEX + 1])
{
    return digest_hash_parts(alg, &data, 1, hex_out);
}

int
digest_compute(enum digest_alg alg, const char *ha1_hex, struct slice nonce, struct slice nc,
               struct slice cnonce, struct slice qop, struct slice method, struct slice uri,
               char hex_out[DIGEST_MAX_HEX + 1])
{
    char ha2[DIGEST_MAX_HEX + 1];
    struct slice a2[2] = {method, uri};
    int err = digest_hash_parts(alg, a2, 2, ha2);

    if (err != GH_OK)
        return err;
    struct slice kd[6] = {slice_cstr(ha1_hex), nonce, nc, cnonce, qop, slice_cstr(ha2)};
    return digest_hash_parts(alg, kd, 6, hex_out);
}

/* username* (RFC 7616 3.4.4, RFC 8187 3.2): UTF-8'[lang]'pct-encoded. */
static int
decode_ext_value(struct slice v, char *out, size_t out_len)
{
    static const char prefix[] = "UTF-8'";
    size_t i, n = 0;

    if (v.len < sizeof(prefix) - 1 || !slice_eq_nocase(slice_make(v.ptr, 6), SLICE_LIT("UTF-8'")))
        return GH_EPROTO; /* only UTF-8 is allowed with Digest */
    i = sizeof(prefix) - 1;
    while (i < v.len && v.ptr[i] != '\'')
        i++; /* language tag, ignored */
    if (i == v.len)
        return GH_EPROTO;
    for (i++; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (c == '%') {
            if (i + 2 >= v.len)
                return GH_EPROTO;
            int hi = hex_digit_value(v.ptr[i + 1]), lo = hex_digit_value(v.ptr[i + 2]);
            if (hi < 0 || lo < 0)
                return GH_EPROTO;
            c = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (!auth_syntax_is_tchar(c) || c == '*' || c == '\'' || c == '%') {
            return GH_EPROTO; /* attr-char only */
        }
        if (c == 0 || n + 1 >= out_len)
            return c == 0 ? GH_EPROTO : GH_ELIMIT;
        out[n++] = (char)c;
    }
    out[n] = 0;
    return n == 0 ? GH_EPROTO : GH_OK;
}

static int
copy_user(struct slice v, char *out, size_t out_len)
{
    if (v.len == 0 || v.len >= out_len || memchr(v.ptr, 0, v.len) != NULL)
        return v.len >= out_len ? GH_ELIMIT : GH_EPROTO;
    memcpy(out, v.ptr, v.len);
    out[v.len] = 0;
    return GH_OK;
}

static bool
is_lhex(struct slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (hex_digit_value(s.ptr[i]) < 0)
            return false;
    }
    return s.len > 0;
}

int
digest_request_parse(const struct authz_credentials *creds, struct digest_request *out)
{
    struct digest_request r;
    const struct authz_param *p;
    int err;

    memset(&r, 0, sizeof(r));
    if (creds->form != AUTHZ_FORM_PARAMS)
        return GH_EPROTO;
    const struct authz_param *user = authz_param_find(creds, "username");
    const struct authz_param *user_ext = authz_param_find(creds, "username*");
    if ((user == NULL) == (user_ext == NULL))
        return GH_EPROTO; /* exactly one of them (RFC 7616 3.4) */
    if ((p = authz_param_find(creds, "userhash")) != NULL) {
        if (slice_eq_nocase(p->value, SLICE_LIT("true")))
            r.userhash = true;
        else if (!slice_eq_nocase(p->value, SLICE_LIT("false")))
            return GH_EPROTO;
    }
    if (user_ext != NULL) {
        if (r.userhash || user_ext->was_quoted)
            return GH_EPROTO; /* username* is never hashed, and is a bare ext-value */
        err = decode_ext_value(user_ext->value, r.user, sizeof(r.user));
    } else {
        err = copy_user(user->value, r.user, sizeof(r.user));
    }
    if (err != GH_OK)
        return err == GH_ELIMIT ? GH_EPROTO : err;
    r.alg = DIGEST_ALG_MD5; /* RFC 7616 3.3: MD5 when absent */
    if ((p = authz_param_find(creds, "algorithm")) != NULL) {
        err = digest_alg_parse(p->value, &r.alg);
        if (err != GH_OK)
            return err;
    }
    const struct authz_param *realm = authz_param_find(creds, "realm");
    const struct authz_param *nonce = authz_param_find(creds, "nonce");
    const struct authz_param *uri = authz_param_find(creds, "uri");
    const struct authz_param *response = authz_param_find(creds, "response");
    const struct authz_param *qop = authz_param_find(creds, "qop");
    const struct authz_param *cnonce = authz_param_find(creds, "cnonce");
    const struct authz_param *nc = authz_param_find(creds, "nc");
    if (realm == NULL || nonce == NULL || uri == NULL || response == NULL)
        return GH_EPROTO;
    if (qop == NULL)
        return GH_EUNSUPPORTED; /* RFC 2069 compatibility mode is not offered */
    if (!slice_eq_nocase(qop->value, SLICE_LIT("auth")))
        return slice_eq_nocase(qop->value, SLICE_LIT("auth-int")) ? GH_EUNSUPPORTED : GH_EPROTO;
    if (cnonce == NULL || nc == NULL || cnonce->value.len == 0)
        return GH_EPROTO; /* required with qop (RFC 7616 3.4) */
    if (nc->value.len != 8 || !is_lhex(nc->value) || !is_lhex(response->value))
        return GH_EPROTO;
    for (size_t i = 0; i < 8; i++)
        r.nc = (r.nc << 4) | (uint32_t)hex_digit_value(nc->value.ptr[i]);
    if (r.nc == 0)
        return GH_EPROTO;
    r.realm = realm->value;
    r.nonce = nonce->value;
    r.uri = uri->value;
    r.response = response->value;
    r.qop = qop->value;
    r.cnonce = cnonce->value;
    r.nc_text = nc->value;
    *out = r;
    return GH_OK;
}

int
digest_replay_check(struct digest_state *st, struct slice nonce, uint32_t nc, time_t now)
{
    uint8_t raw[NONCE_BYTES];
    int rc = GH_OK;

    if (!nonce_decode(nonce, raw))
        return GH_EEXIST;
    const uint8_t *key = raw + NONCE_MAC_OFFSET;
    int64_t issued = nonce_issued(raw);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = (h << 8) | key[i];
    struct replay_entry *bucket = st->entries + (h % st->bucket_count) * REPLAY_WAYS;

    pthread_mutex_lock(&st->lock);
    struct replay_entry *e = NULL;
    for (size_t i = 0; i < REPLAY_WAYS; i++) {
        if (bucket[i].is_used && memcmp(bucket[i].key, key, REPLAY_KEY_BYTES) == 0) {
            e = &bucket[i];
            break;
        }
    }
    if (e != NULL) {
        if (nc > e->highest) {
            uint32_t shift = nc - e->highest;
            e->seen = shift >= REPLAY_WINDOW ? 0 : e->seen << shift;
            e->seen |= 1;
            e->highest = nc;
        } else {
            uint32_t back = e->highest - nc;
            if (back >= REPLAY_WINDOW || (e->seen & ((uint64_t)1 << back)) != 0)
                rc = GH_EEXIST;
            else
                e->seen |= (uint64_t)1 << back;
        }
        goto unlock;
    }
    if (issued <= st->floor_issued) {
        rc = GH_ETIMEDOUT; /* possibly evicted: never trust it as unused */
        goto unlock;
    }
    /* A free slot, else one whose nonce expired, else evict the oldest. */
    struct replay_entry *victim = NULL;
    for (size_t i = 0; i < REPLAY_WAYS && victim == NULL; i++) {
        if (!bucket[i].is_used)
            victim = &bucket[i];
    }
    for (size_t i = 0; i < REPLAY_WAYS && victim == NULL; i++) {
        if ((int64_t)now - bucket[i].issued > (int64_t)st->lifetime_s)
            victim = &bucket[i];
    }
    if (victim == NULL) {
        victim = &bucket[0];
        for (size_t i = 1; i < REPLAY_WAYS; i++) {
            if (bucket[i].issued < victim->issued)
                victim = &bucket[i];
        }
        if (victim->issued > st->floor_issued)
            st->floor_issued = victim->issued;
        if (issued <= st->floor_issued) {
            rc = GH_ETIMEDOUT;
            goto unlock;
        }
    }
    memcpy(victim->key, key, REPLAY_KEY_BYTES);
    victim->issued = issued;
    victim->highest = nc;
    victim->seen = 1;
    victim->is_used = true;
unlock:
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static void
fail(struct digest_outcome *out, enum digest_result result, enum auth_reason code,
     const char *reason)
{
    out->result = result;
    out->code = code;
    out->reason = reason;
}

static int
build_auth_info(const struct digest_request *req, const char *ha1, struct digest_outcome *out)
{
    char rspauth[DIGEST_MAX_HEX + 1];
    int err = digest_compute(req->alg, ha1, req->nonce, req->nc_text, req->cnonce, req->qop,
                             SLICE_LIT(""), req->uri, rspauth);

    /* RFC 7616 3.5: rspauth uses A2 = ":" request-uri; qop, nc and cnonce echo the request. */
    if (err == GH_OK)
        err = authz_challenge_param(&out->auth_info, "rspauth", slice_cstr(rspauth), true);
    if (err == GH_OK)
        err = authz_challenge_param(&out->auth_info, "qop", SLICE_LIT("auth"), false);
    if (err == GH_OK)
        err = authz_challenge_param(&out->auth_info, "nc", req->nc_text, false);
    if (err == GH_OK)
        err = authz_challenge_param(&out->auth_info, "cnonce", req->cnonce, true);
    if (err == GH_OK && out->auth_info.len > 0 && out->auth_info.data[0] == ' ')
        buf_consume(&out->auth_info, 1); /* no scheme in Authentication-Info */
    return err;
}

int
digest_authenticate(struct digest_state *st, const struct auth_userdb_ops *db_ops, void *db,
                    const char *realm, struct slice method, struct slice target,
                    const struct digest_request *req, time_t now, struct digest_outcome *out)
{
    char user[DIGEST_MAX_USER_BYTES];
    char ha1[129] = {0};
    char expected[DIGEST_MAX_HEX + 1] = {0};
    char given[DIGEST_MAX_HEX + 1] = {0};
    int err = GH_OK;

    memset(out, 0, sizeof(*out));
    buf_init(&out->auth_info, 1024);
    if (!slice_eq(req->realm, slice_cstr(realm))) {
        fail(out, DIGEST_BAD_REQUEST, AUTH_REASON_MALFORMED, "realm does not match");
        return GH_OK;
    }
    if (!slice_eq(req->uri, target)) {
        fail(out, DIGEST_BAD_REQUEST, AUTH_REASON_MALFORMED,
             "uri does not match the request target");
        return GH_OK;
    }
    int nc_rc = digest_nonce_check(st, realm, req->nonce, now);
    if (nc_rc == GH_ETIMEDOUT) {
        fail(out, DIGEST_STALE, AUTH_REASON_DIGEST_STALE, "nonce expired");
        return GH_OK;
    }
    if (nc_rc != GH_OK) {
        fail(out, DIGEST_FAILED, AUTH_REASON_DIGEST_BAD_NONCE, "nonce not issued by this server");
        return GH_OK;
    }

    const char *alg = digest_alg_name(req->alg);
    if (req->userhash) {
        if (db_ops->find_userhash == NULL ||
            db_ops->find_userhash(db, realm, alg, req->user, user, sizeof(user)) != GH_OK) {
            fail(out, DIGEST_FAILED, AUTH_REASON_UNKNOWN_USER, "unknown user");
            return GH_OK;
        }
    } else {
        memcpy(user, req->user, sizeof(user));
    }
    if (db_ops->digest_ha1(db, user, realm, alg, ha1) != GH_OK) {
        fail(out, DIGEST_FAILED, AUTH_REASON_UNKNOWN_USER, "unknown user");
        goto cleanup;
    }
    err = digest_compute(req->alg, ha1, req->nonce, req->nc_text, req->cnonce, req->qop, method,
                         req->uri, expected);
    if (err != GH_OK)
        goto cleanup;
    size_t n = strlen(expected);
    if (req->response.len != n) {
        fail(out, DIGEST_FAILED, AUTH_REASON_WRONG_PASSWORD, "wrong response");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = req->response.ptr[i];
        given[i] = (char)(c >= 'A' && c <= 'F' ? c + ('a' - 'A') : c);
    }
    if (!secret_memeq(expected, given, n)) {
        fail(out, DIGEST_FAILED, AUTH_REASON_WRONG_PASSWORD, "wrong response");
        goto cleanup;
    }
    int rp = digest_replay_check(st, req->nonce, req->nc, now);
    if (rp == GH_ETIMEDOUT) {
        fail(out, DIGEST_STALE, AUTH_REASON_DIGEST_STALE, "nonce no longer tracked");
        goto cleanup;
    }
    if (rp != GH_OK) {
        fail(out, DIGEST_FAILED, AUTH_REASON_DIGEST_REPLAY, "nonce count replayed");
        goto cleanup;
    }
    err = build_auth_info(req, ha1, out);
    if (err != GH_OK)
        goto cleanup;
    const char *canon = db_ops->canonical_name != NULL ? db_ops->canonical_name(db, user) : NULL;
    snprintf(out->user, sizeof(out->user), "%s", canon != NULL ? canon : user);
    out->result = DIGEST_OK;
    out->code = AUTH_REASON_OK;
    out->reason = "ok";
cleanup:
    secret_wipe(ha1, sizeof(ha1));
    secret_wipe(expected, sizeof(expected));
    secret_wipe(given, sizeof(given));
    return err;
}
