// SPDX-License-Identifier: MIT
// Unit tests for src/auth/digest.c: the RFC 7616 vectors (read from
// tests/vectors/digest/, never recomputed here), nonces, stale, nonce-count
// replay, userhash and username*.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/digest.h"
#include "harness/check.h"

struct vec {
    char key[16][256];
    char val[16][256];
    size_t n;
};

static const char *
vget(const struct vec *v, const char *key)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->key[i], key) == 0)
            return v->val[i];
    }
    fprintf(stderr, "vector key %s missing\n", key);
    exit(1);
}

static void
vload(const char *name, struct vec *v)
{
    char path[512], line[256];
    const char *dir = getenv("GH_VECTORS");

    snprintf(path, sizeof(path), "%s/digest/%s", dir != NULL ? dir : "tests/vectors", name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    memset(v, 0, sizeof(*v));
    while (fgets(line, sizeof(line), f) != NULL && v->n < 16) {
        line[strcspn(line, "\n")] = 0;
        char *eq = strchr(line, '=');
        if (line[0] == '#' || eq == NULL)
            continue;
        *eq = 0;
        snprintf(v->key[v->n], sizeof(v->key[0]), "%s", line);
        snprintf(v->val[v->n], sizeof(v->val[0]), "%s", eq + 1);
        v->n++;
    }
    fclose(f);
}

/* A fake user database holding one user, with data from a vector file. */
struct fake_db {
    const char *user, *realm, *alg, *ha1, *userhash;
};

static int
fake_ha1(void *db, const char *user, const char *realm, const char *algorithm, char hex_out[129])
{
    struct fake_db *d = db;
    if (strcmp(user, d->user) != 0 || strcmp(realm, d->realm) != 0 ||
        strcmp(algorithm, d->alg) != 0)
        return GH_ENOTFOUND;
    snprintf(hex_out, 129, "%s", d->ha1);
    return GH_OK;
}

static int
fake_find_userhash(void *db, const char *realm, const char *algorithm, const char *hash,
                   char *user_out, size_t user_len)
{
    struct fake_db *d = db;
    if (d->userhash == NULL || strcmp(realm, d->realm) != 0 || strcmp(algorithm, d->alg) != 0 ||
        strcmp(hash, d->userhash) != 0)
        return GH_ENOTFOUND;
    snprintf(user_out, user_len, "%s", d->user);
    return GH_OK;
}

static const struct auth_userdb_ops fake_ops = {
    .digest_ha1 = fake_ha1,
    .find_userhash = fake_find_userhash,
};

static void
test_rfc_vector(const char *file)
{
    struct vec v;
    char out[DIGEST_MAX_HEX + 1];
    enum digest_alg alg;

    vload(file, &v);
    CHECK_EQ(digest_alg_parse(slice_cstr(vget(&v, "algorithm")), &alg), GH_OK);
    CHECK_EQ(digest_compute(alg, vget(&v, "ha1"), slice_cstr(vget(&v, "nonce")),
                            slice_cstr(vget(&v, "nc")), slice_cstr(vget(&v, "cnonce")),
                            slice_cstr(vget(&v, "qop")), slice_cstr(vget(&v, "method")),
                            slice_cstr(vget(&v, "uri")), out),
             GH_OK);
    CHECK_STR_EQ(out, vget(&v, "response"));
}

/* Builds an Authorization value for the vector's user with our own nonce. */
static void
make_header(char *hdr, size_t len, const struct vec *v, const char *nonce, const char *nc,
            const char *response, const char *user_param)
{
    snprintf(hdr, len,
             "Digest %s, realm=\"%s\", uri=\"%s\", algorithm=%s, nonce=\"%s\", nc=%s, "
             "cnonce=\"%s\", qop=auth, response=\"%s\"",
             user_param, vget(v, "realm"), vget(v, "uri"), vget(v, "algorithm"), nonce, nc,
             vget(v, "cnonce"), response);
}

static int
run(struct digest_state *st, struct fake_db *db, const struct vec *v, const char *hdr, time_t now,
    struct digest_outcome *out)
{
    struct authz_credentials creds;
    struct digest_request req;
    uint8_t scratch[1024];
    int err = authz_parse(slice_cstr(hdr), NULL, scratch, sizeof(scratch), &creds);

    if (err != GH_OK)
        return err;
    err = digest_request_parse(&creds, &req);
    if (err != GH_OK)
        return err;
    return digest_authenticate(st, &fake_ops, db, vget(v, "realm"), slice_cstr(vget(v, "method")),
                               slice_cstr(vget(v, "uri")), &req, now, out);
}

static void
response_for(const struct vec *v, enum digest_alg alg, const char *nonce, const char *nc,
             char out[DIGEST_MAX_HEX + 1])
{
    CHECK_EQ(digest_compute(alg, vget(v, "ha1"), slice_cstr(nonce), slice_cstr(nc),
                            slice_cstr(vget(v, "cnonce")), SLICE_LIT("auth"),
                            slice_cstr(vget(v, "method")), slice_cstr(vget(v, "uri")), out),
             GH_OK);
}

static void
test_flow(void)
{
    struct vec v;
    struct digest_state *st = NULL;
    struct digest_outcome out;
    char nonce[DIGEST_NONCE_CHARS + 1], resp[DIGEST_MAX_HEX + 1], hdr[1024];
    time_t now = 1700000000;

    vload("rfc7616-3.9.1-sha256.txt", &v);
    struct fake_db db = {vget(&v, "user"), vget(&v, "realm"), "SHA-256", vget(&v, "ha1"), NULL};
    CHECK_EQ(digest_state_create((const uint8_t *)"0123456789abcdef0123456789abcdef", 64, 300, &st),
             GH_OK);
    CHECK_EQ(digest_nonce_make(st, db.realm, now, nonce), GH_OK);
    CHECK_EQ(strlen(nonce), DIGEST_NONCE_CHARS);
    CHECK_EQ(digest_nonce_check(st, db.realm, slice_cstr(nonce), now + 10), GH_OK);
    CHECK_EQ(digest_nonce_check(st, "other realm", slice_cstr(nonce), now), GH_EAUTH);
    CHECK_EQ(digest_nonce_check(st, db.realm, slice_cstr(nonce), now + 301), GH_ETIMEDOUT);
    CHECK_EQ(digest_nonce_check(st, db.realm, slice_cstr(nonce), now - 60), GH_EAUTH);
    char forged[DIGEST_NONCE_CHARS + 1];
    memcpy(forged, nonce, sizeof(forged));
    forged[40] = forged[40] == 'A' ? 'B' : 'A';
    CHECK_EQ(digest_nonce_check(st, db.realm, slice_cstr(forged), now), GH_EAUTH);

    /* success, with Authentication-Info */
    response_for(&v, DIGEST_ALG_SHA256, nonce, "00000001", resp);
    make_header(hdr, sizeof(hdr), &v, nonce, "00000001", resp, "username=\"Mufasa\"");
    CHECK_EQ(run(st, &db, &v, hdr, now + 1, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_OK);
    CHECK_STR_EQ(out.user, "Mufasa");
    CHECK(out.auth_info.len > 0 && memcmp(out.auth_info.data, "rspauth=\"", 9) == 0);
    buf_free(&out.auth_info);

    /* the same nc again: replay */
    CHECK_EQ(run(st, &db, &v, hdr, now + 2, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_FAILED);
    CHECK_STR_EQ(out.reason, "nonce count replayed");
    buf_free(&out.auth_info);

    /* a higher nc passes, then a lower unused one within the window passes once */
    response_for(&v, DIGEST_ALG_SHA256, nonce, "00000003", resp);
    make_header(hdr, sizeof(hdr), &v, nonce, "00000003", resp, "username=\"Mufasa\"");
    CHECK_EQ(run(st, &db, &v, hdr, now + 3, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_OK);
    buf_free(&out.auth_info);
    response_for(&v, DIGEST_ALG_SHA256, nonce, "00000002", resp);
    make_header(hdr, sizeof(hdr), &v, nonce, "00000002", resp, "username=\"Mufasa\"");
    CHECK_EQ(run(st, &db, &v, hdr, now + 3, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_OK);
    buf_free(&out.auth_info);
    CHECK_EQ(run(st, &db, &v, hdr, now + 3, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_FAILED);
    buf_free(&out.auth_info);

    /* expired but authentic: stale */
    response_for(&v, DIGEST_ALG_SHA256, nonce, "00000004", resp);
    make_header(hdr, sizeof(hdr), &v, nonce, "00000004", resp, "username=\"Mufasa\"");
    CHECK_EQ(run(st, &db, &v, hdr, now + 400, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_STALE);
    buf_free(&out.auth_info);

    /* wrong password (response computed from another HA1) */
    CHECK_EQ(digest_nonce_make(st, db.realm, now, nonce), GH_OK);
    make_header(hdr, sizeof(hdr), &v, nonce, "00000001",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "username=\"Mufasa\"");
    CHECK_EQ(run(st, &db, &v, hdr, now + 1, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_FAILED);
    buf_free(&out.auth_info);

    /* unknown user, wrong uri, auth-int */
    response_for(&v, DIGEST_ALG_SHA256, nonce, "00000001", resp);
    make_header(hdr, sizeof(hdr), &v, nonce, "00000001", resp, "username=\"Simba\"");
    CHECK_EQ(run(st, &db, &v, hdr, now + 1, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_FAILED);
    buf_free(&out.auth_info);
    snprintf(hdr, sizeof(hdr),
             "Digest username=\"Mufasa\", realm=\"%s\", uri=\"/other\", algorithm=SHA-256, "
             "nonce=\"%s\", nc=00000001, cnonce=\"x\", qop=auth, response=\"%s\"",
             db.realm, nonce, resp);
    CHECK_EQ(run(st, &db, &v, hdr, now + 1, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_BAD_REQUEST);
    buf_free(&out.auth_info);
    snprintf(hdr, sizeof(hdr),
             "Digest username=\"Mufasa\", realm=\"%s\", uri=\"/dir/index.html\", "
             "nonce=\"%s\", nc=00000001, cnonce=\"x\", qop=auth-int, response=\"%s\"",
             db.realm, nonce, resp);
    CHECK_EQ(run(st, &db, &v, hdr, now + 1, &out), GH_EUNSUPPORTED);
    snprintf(hdr, sizeof(hdr), "Digest username=\"Mufasa\", realm=\"%s\"", db.realm);
    CHECK_EQ(run(st, &db, &v, hdr, now + 1, &out), GH_EPROTO);

    /* challenge text */
    struct buf b;
    buf_init(&b, 1024);
    CHECK_EQ(digest_challenge(&b, st, db.realm, DIGEST_ALG_SHA256, true, true, now), GH_OK);
    CHECK(b.len > 0 && memcmp(b.data,
                              "Digest realm=\"http-auth@example.org\", qop=\"auth\", "
                              "algorithm=SHA-256, nonce=\"",
                              74) == 0);
    CHECK(memmem(b.data, b.len, ", charset=UTF-8, userhash=true, stale=true", 42) != NULL);
    buf_free(&b);
    digest_state_destroy(st);
}

static void
test_userhash(void)
{
    struct vec v;
    struct digest_state *st = NULL;
    struct digest_outcome out;
    char nonce[DIGEST_NONCE_CHARS + 1], resp[DIGEST_MAX_HEX + 1], hdr[1024], up[256];
    time_t now = 1700000000;

    vload("rfc7616-3.9.2-userhash.txt", &v);
    test_rfc_vector("rfc7616-3.9.2-userhash.txt");
    struct fake_db db = {vget(&v, "user"), vget(&v, "realm"), "SHA-512-256", vget(&v, "ha1"),
                         vget(&v, "userhash")};
    CHECK_EQ(digest_state_create(NULL, 0, 0, &st), GH_OK);
    CHECK_EQ(digest_nonce_make(st, db.realm, now, nonce), GH_OK);
    response_for(&v, DIGEST_ALG_SHA512_256, nonce, "00000001", resp);

    /* username is the userhash */
    snprintf(up, sizeof(up), "username=\"%s\", userhash=true", vget(&v, "userhash"));
    make_header(hdr, sizeof(hdr), &v, nonce, "00000001", resp, up);
    CHECK_EQ(run(st, &db, &v, hdr, now, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_OK);
    CHECK_STR_EQ(out.user, vget(&v, "user"));
    buf_free(&out.auth_info);

    /* username* (RFC 8187 ext-value) with the same nonce, next count */
    response_for(&v, DIGEST_ALG_SHA512_256, nonce, "00000002", resp);
    snprintf(up, sizeof(up), "username*=%s", vget(&v, "user_ext"));
    make_header(hdr, sizeof(hdr), &v, nonce, "00000002", resp, up);
    CHECK_EQ(run(st, &db, &v, hdr, now, &out), GH_OK);
    CHECK_EQ(out.result, DIGEST_OK);
    CHECK_STR_EQ(out.user, vget(&v, "user"));
    buf_free(&out.auth_info);

    /* both username and username*: malformed */
    snprintf(up, sizeof(up), "username=\"x\", username*=%s", vget(&v, "user_ext"));
    make_header(hdr, sizeof(hdr), &v, nonce, "00000003", resp, up);
    CHECK_EQ(run(st, &db, &v, hdr, now, &out), GH_EPROTO);
    digest_state_destroy(st);
}

static void
test_replay_eviction(void)
{
    struct digest_state *st = NULL;
    char nonces[20][DIGEST_NONCE_CHARS + 1];
    time_t now = 1700000000;

    /* 8 entries: one bucket. Fill it with nonces issued at now..now+7. */
    CHECK_EQ(digest_state_create(NULL, 8, 300, &st), GH_OK);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(digest_nonce_make(st, "r", now + i, nonces[i]), GH_OK);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(digest_replay_check(st, slice_cstr(nonces[i]), 1, now + 9), GH_OK);
    /* the ninth evicts the oldest (issued at now): the floor rises to now */
    CHECK_EQ(digest_replay_check(st, slice_cstr(nonces[8]), 1, now + 9), GH_OK);
    /* the evicted nonce comes back: stale, never trusted as unused */
    CHECK_EQ(digest_replay_check(st, slice_cstr(nonces[0]), 2, now + 9), GH_ETIMEDOUT);
    CHECK_EQ(digest_replay_check(st, slice_cstr(nonces[8]), 1, now + 9), GH_EEXIST);
    CHECK_EQ(digest_replay_check(st, slice_cstr(nonces[1]), 200, now + 9), GH_OK);
    CHECK_EQ(digest_replay_check(st, slice_cstr(nonces[1]), 100, now + 9), GH_EEXIST); /* window */
    digest_state_destroy(st);
}

int
main(void)
{
    test_rfc_vector("rfc7616-3.9.1-md5.txt");
    test_rfc_vector("rfc7616-3.9.1-sha256.txt");
    test_flow();
    test_userhash();
    test_replay_eviction();
    return check_done("auth/digest");
}
