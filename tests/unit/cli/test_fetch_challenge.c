// SPDX-License-Identifier: MIT
// WWW-Authenticate parsing of fetch (RFC 9110 11.6.1), Digest client answers
// (RFC 7616 3.9.1 and 3.9.2 vectors), Basic (RFC 7617 2 example), base64, URLs.
// src/cli is an executable, not one of the libraries gh_all links, so the
// protocol-only files are compiled into this test directly.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "cli/fetch_challenge.c"
#include "cli/fetch_digest.c"
#include "cli/fetch_url.c"
#include "harness/check.h"

static int
parse(const char *value, struct fetch_challenges *cs, uint8_t *scratch, size_t n)
{
    *cs = (struct fetch_challenges){.scratch = scratch, .scratch_len = n};
    return fetch_challenge_parse(slice_cstr(value), cs);
}

static bool
sl_is(struct slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static void
test_challenges(void)
{
    struct fetch_challenges cs;
    uint8_t scratch[512];

    /* RFC 9110 11.6.1's example: two challenges, a quoted-pair, a token value. */
    CHECK_EQ(parse("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic "
                   "realm=\"simple\"",
                   &cs, scratch, sizeof(scratch)),
             GH_OK);
    CHECK_EQ(cs.count, 2);
    CHECK(sl_is(cs.items[0].scheme, "Newauth"));
    CHECK_EQ(cs.items[0].param_count, 3);
    CHECK(sl_is(fetch_challenge_param(&cs.items[0], "TYPE")->value, "1"));
    CHECK(sl_is(fetch_challenge_param(&cs.items[0], "title")->value, "Login to \"apps\""));
    CHECK(sl_is(fetch_challenge_param(&cs.items[1], "realm")->value, "simple"));
    CHECK(fetch_challenge_find(&cs, "basic") == &cs.items[1]);

    /* Bare schemes, token68 with padding, empty list elements. */
    CHECK_EQ(parse(" , Negotiate,NTLM ,, Negotiate YIIBzw==", &cs, scratch, sizeof(scratch)),
             GH_OK);
    CHECK_EQ(cs.count, 3);
    CHECK(sl_is(cs.items[0].scheme, "Negotiate") && cs.items[0].token68.len == 0);
    CHECK(sl_is(cs.items[1].scheme, "NTLM"));
    CHECK(sl_is(cs.items[2].token68, "YIIBzw=="));
    /* A token68 followed by another challenge. */
    CHECK_EQ(parse("NTLM TlRMTVNTUAACAAAA, Basic realm=x", &cs, scratch, sizeof(scratch)), GH_OK);
    CHECK_EQ(cs.count, 2);
    CHECK(sl_is(cs.items[0].token68, "TlRMTVNTUAACAAAA"));
    CHECK(sl_is(fetch_challenge_param(&cs.items[1], "realm")->value, "x"));
    /* BWS around '=' and a Digest challenge as servers send it. */
    CHECK_EQ(parse("Digest realm = \"r\", qop=\"auth, auth-int\", algorithm=SHA-256, "
                   "nonce=\"abc\", opaque=\"o\"",
                   &cs, scratch, sizeof(scratch)),
             GH_OK);
    CHECK_EQ(cs.count, 1);
    CHECK_EQ(cs.items[0].param_count, 5);
    CHECK(sl_is(fetch_challenge_param(&cs.items[0], "qop")->value, "auth, auth-int"));

    /* Several field lines accumulate. */
    cs = (struct fetch_challenges){.scratch = scratch, .scratch_len = sizeof(scratch)};
    CHECK_EQ(fetch_challenge_parse(SLICE_LIT("Negotiate"), &cs), GH_OK);
    CHECK_EQ(fetch_challenge_parse(SLICE_LIT("NTLM"), &cs), GH_OK);
    CHECK_EQ(cs.count, 2);

    /* Malformed: nothing of the line is kept. */
    static const char *const bad[] = {
        "Basic realm=\"unterminated",
        "Basic a=b, realm=", /* ("Basic realm=" alone is a token68) */
        "=x",
        "Basic realm=\"a\" junk",
        "Basic realm=a, realm=b", /* duplicate parameter (RFC 9110 11.2) */
        "Negotiate abc==, x=1",   /* a parameter after a token68 */
        "Basic realm=\"a\x01\"",  /* control character in a quoted-string */
        "Basic\trealm=a",         /* the scheme is separated by SP only */
        "Basic realm=\"a\\",
        "B@sic",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = parse(bad[i], &cs, scratch, sizeof(scratch));
        if (err != GH_EPROTO)
            fprintf(stderr, "case %zu: %s -> %d\n", i, bad[i], err);
        CHECK_EQ(err, GH_EPROTO);
        CHECK_EQ(cs.count, 0);
    }
    /* Limits. */
    char many[2048] = "";
    for (int i = 0; i < FETCH_MAX_CHALLENGES + 1; i++)
        strcat(many, "A, ");
    CHECK_EQ(parse(many, &cs, scratch, sizeof(scratch)), GH_ELIMIT);
    char params[2048] = "X ";
    for (int i = 0; i < FETCH_MAX_PARAMS + 1; i++)
        snprintf(params + strlen(params), sizeof(params) - strlen(params), "p%d=1, ", i);
    CHECK_EQ(parse(params, &cs, scratch, sizeof(scratch)), GH_ELIMIT);
    /* Escapes need scratch room. */
    CHECK_EQ(parse("Basic realm=\"a\\\"b\"", &cs, NULL, 0), GH_ELIMIT);

    /* Authentication-Info is a bare parameter list. */
    struct fetch_challenge ai;
    cs = (struct fetch_challenges){.scratch = scratch, .scratch_len = sizeof(scratch)};
    CHECK_EQ(fetch_params_parse(SLICE_LIT("rspauth=\"ab\", cnonce=\"x\", nc=00000001, qop=auth"),
                                &cs, &ai),
             GH_OK);
    CHECK_EQ(ai.param_count, 4);
    CHECK_EQ(fetch_params_parse(SLICE_LIT("rspauth"), &cs, &ai), GH_EPROTO);
}

static void
test_digest(void)
{
    struct fetch_challenges cs;
    uint8_t scratch[1024];
    struct buf out;
    char rspauth[129];

    /* RFC 7616 3.9.1, SHA-256 and MD5. */
    CHECK_EQ(parse("Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                   "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                   "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", "
                   "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                   "algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                   "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
                   &cs, scratch, sizeof(scratch)),
             GH_OK);
    CHECK_EQ(cs.count, 2);
    CHECK(fetch_digest_rank(&cs.items[0]) > fetch_digest_rank(&cs.items[1]));
    struct fetch_digest_input in = {.user = "Mufasa",
                                    .password = "Circle of Life",
                                    .method = "GET",
                                    .uri = "/dir/index.html",
                                    .nc = 1,
                                    .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"};
    buf_init(&out, 4096);
    CHECK_EQ(fetch_digest_authorization(&cs.items[0], &in, &out, rspauth), GH_OK);
    CHECK_EQ(buf_append(&out, "", 1), GH_OK);
    CHECK(strstr((char *)out.data, "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697"
                                   "cf8db5856cb6c1\"") != NULL);
    CHECK(strncmp((char *)out.data, "Digest username=\"Mufasa\", realm=\"http-auth@example.org\"",
                  55) == 0);
    CHECK(strstr((char *)out.data, "nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGem"
                                   "xURZJ\", qop=auth") != NULL);
    CHECK(strstr((char *)out.data, "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"") !=
          NULL);
    CHECK_EQ(strlen(rspauth), 64);
    out.len = 0;
    CHECK_EQ(fetch_digest_authorization(&cs.items[1], &in, &out, rspauth), GH_OK);
    CHECK_EQ(buf_append(&out, "", 1), GH_OK);
    CHECK(strstr((char *)out.data, "response=\"8ca523f5e9506fed4657c9700eebdbec\"") != NULL);
    CHECK(strstr((char *)out.data, "algorithm=MD5") != NULL);

    /* rspauth check: right value (any hex case), wrong value, absent, malformed. */
    char ai[300];
    snprintf(ai, sizeof(ai), "qop=auth, rspauth=\"%s\", cnonce=\"x\", nc=00000001", rspauth);
    CHECK_EQ(fetch_digest_check_rspauth(slice_cstr(ai), rspauth), GH_OK);
    for (char *p = ai; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    CHECK_EQ(fetch_digest_check_rspauth(slice_cstr(ai), rspauth), GH_OK);
    CHECK_EQ(fetch_digest_check_rspauth(SLICE_LIT("rspauth=\"00\""), rspauth), GH_EAUTH);
    CHECK_EQ(fetch_digest_check_rspauth(SLICE_LIT("nextnonce=\"a\""), rspauth), GH_ENOTFOUND);
    CHECK_EQ(fetch_digest_check_rspauth(SLICE_LIT("rspauth"), rspauth), GH_EPROTO);

    /* RFC 7616 3.9.2 (with erratum 4897): SHA-512-256, userhash, non-ASCII user. */
    CHECK_EQ(parse("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                   "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                   "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, "
                   "userhash=true",
                   &cs, scratch, sizeof(scratch)),
             GH_OK);
    in = (struct fetch_digest_input){.user = "J\xc3\xa4s\xc3\xb8n Doe",
                                     .password = "Secret, or not?",
                                     .method = "GET",
                                     .uri = "/doe.json",
                                     .nc = 1,
                                     .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"};
    out.len = 0;
    CHECK_EQ(fetch_digest_authorization(&cs.items[0], &in, &out, rspauth), GH_OK);
    CHECK_EQ(buf_append(&out, "", 1), GH_OK);
    CHECK(strstr((char *)out.data, "username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb6"
                                   "24ed06ece9b0b\"") != NULL);
    CHECK(strstr((char *)out.data, "response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9"
                                   "d95eeb1cec68a5\"") != NULL);
    CHECK(strstr((char *)out.data, "userhash=true") != NULL);
    /* Without userhash the same user goes out as username* (RFC 8187). */
    CHECK_EQ(parse("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                   "nonce=\"n\"",
                   &cs, scratch, sizeof(scratch)),
             GH_OK);
    out.len = 0;
    CHECK_EQ(fetch_digest_authorization(&cs.items[0], &in, &out, rspauth), GH_OK);
    CHECK_EQ(buf_append(&out, "", 1), GH_OK);
    CHECK(strncmp((char *)out.data, "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, ", 47) == 0);

    /* Challenges we cannot answer. */
    static const char *const unusable[] = {
        "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
        "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1",
        "Digest realm=\"r\"",
        "Digest nonce=\"n\"",
    };
    for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        CHECK_EQ(parse(unusable[i], &cs, scratch, sizeof(scratch)), GH_OK);
        CHECK_EQ(fetch_digest_rank(&cs.items[0]), -1);
        CHECK_EQ(fetch_digest_authorization(&cs.items[0], &in, &out, rspauth), GH_EUNSUPPORTED);
    }
    /* RFC 2069 compatibility (no qop): no cnonce/nc, no rspauth expected. */
    CHECK_EQ(parse("Digest realm=\"r\", nonce=\"n\"", &cs, scratch, sizeof(scratch)), GH_OK);
    out.len = 0;
    CHECK_EQ(fetch_digest_authorization(&cs.items[0], &in, &out, rspauth), GH_OK);
    CHECK_EQ(buf_append(&out, "", 1), GH_OK);
    CHECK(strstr((char *)out.data, "cnonce") == NULL);
    CHECK_EQ(rspauth[0], '\0');
    buf_free(&out);
}

/* -sess algorithms (RFC 7616 3.4.2: A1 = H(user:realm:password) ":" nonce ":"
 * cnonce). Expected values computed independently (Python hashlib). */
static void
test_digest_sess(void)
{
    static const struct fetch_digest_input sin = {.user = "Mufasa",
                                                  .password = "Circle of Life",
                                                  .method = "GET",
                                                  .uri = "/dir/index.html",
                                                  .nc = 1,
                                                  .cnonce = "c"};
    static const struct {
        const char *challenge, *alg_out, *response, *rspauth;
    } cases[] = {
        {"Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=md5-SESS", "algorithm=MD5-sess",
         "2008d6d1fdf4ec35555cf8426b3eb39d", "55a1868aed2d5d97aab651604a3111ed"},
        {"Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-256-sess",
         "algorithm=SHA-256-sess",
         "8906551ea818faf361bbf67e28fb85e4b2a9551ad6aaac4b46067fd12e9c5f7a", NULL},
    };
    struct fetch_challenges cs;
    uint8_t scratch[1024];
    struct buf out;
    char rspauth[129];

    buf_init(&out, 4096);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[128];
        CHECK_EQ(parse(cases[i].challenge, &cs, scratch, sizeof(scratch)), GH_OK);
        out.len = 0;
        CHECK_EQ(fetch_digest_authorization(&cs.items[0], &sin, &out, rspauth), GH_OK);
        CHECK_EQ(buf_append(&out, "", 1), GH_OK);
        CHECK(strstr((char *)out.data, cases[i].alg_out) != NULL);
        snprintf(want, sizeof(want), "response=\"%s\"", cases[i].response);
        CHECK(strstr((char *)out.data, want) != NULL);
        if (cases[i].rspauth != NULL)
            CHECK_STR_EQ(rspauth, cases[i].rspauth);
    }
    /* Ranking: SHA-256 > SHA-512-256 > MD5, plain before -sess; unknown names refused. */
    static const struct {
        const char *alg;
        int rank;
    } ranks[] = {
        {"SHA-256", 31}, {"SHA-256-sess", 30},  {"SHA-512-256", 21}, {"sha-512-256-sess", 20},
        {"MD5", 11},     {"MD5-sess", 10},      {"-sess", -1},       {"MD5-sessx", -1},
        {"MD5sess", -1}, {"SHA-256--sess", -1},
    };
    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
        char ch[128];
        snprintf(ch, sizeof(ch), "Digest realm=r, nonce=n, algorithm=%s", ranks[i].alg);
        CHECK_EQ(parse(ch, &cs, scratch, sizeof(scratch)), GH_OK);
        if (fetch_digest_rank(&cs.items[0]) != ranks[i].rank)
            fprintf(stderr, "algorithm %s\n", ranks[i].alg);
        CHECK_EQ(fetch_digest_rank(&cs.items[0]), ranks[i].rank);
    }
    buf_free(&out);
}

static void
test_basic_b64(void)
{
    struct buf out;
    buf_init(&out, 4096);
    /* RFC 7617 2: Aladdin / open sesame. */
    CHECK_EQ(fetch_basic_authorization("Aladdin", "open sesame", &out), GH_OK);
    CHECK_EQ(buf_append(&out, "", 1), GH_OK);
    CHECK_STR_EQ((char *)out.data, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    out.len = 0;
    CHECK_EQ(fetch_basic_authorization("a:b", "x", &out), GH_EPROTO);
    CHECK_EQ(fetch_basic_authorization("a\nb", "x", &out), GH_EPROTO);

    static const struct {
        const char *text, *plain;
        int err;
    } b64[] = {
        {"", "", GH_OK},           {"Zg==", "f", GH_OK},
        {"Zm8=", "fo", GH_OK},     {"Zm9v", "foo", GH_OK},
        {"Zh==", NULL, GH_EPROTO}, /* non-zero unused bits */
        {"Zm8", NULL, GH_EPROTO},  {"Z===", NULL, GH_EPROTO},
        {"Zm=v", NULL, GH_EPROTO}, {"Zm9v\n", NULL, GH_EPROTO},
        {"Zm9-", NULL, GH_EPROTO},
    };
    for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
        out.len = 0;
        CHECK_EQ(b64_decode(&out, slice_cstr(b64[i].text)), b64[i].err);
        if (b64[i].err == GH_OK) {
            CHECK_EQ(out.len, strlen(b64[i].plain));
            CHECK(out.len == 0 || memcmp(out.data, b64[i].plain, out.len) == 0);
        } else {
            CHECK_EQ(out.len, 0);
        }
    }
    buf_free(&out);
}

static void
test_url(void)
{
    struct fetch_url u;
    const char *why;

    CHECK_EQ(fetch_url_parse("http://LocalHost:8080/a/b?q=1#frag", &u, &why), GH_OK);
    CHECK_STR_EQ(u.host, "localhost");
    CHECK_EQ(u.port, 8080);
    CHECK_STR_EQ(u.authority, "LocalHost:8080");
    CHECK_STR_EQ(u.target, "/a/b?q=1");
    CHECK(!u.is_https);
    fetch_url_free(&u);
    CHECK_EQ(fetch_url_parse("https://example.test", &u, &why), GH_OK);
    CHECK_EQ(u.port, 443);
    CHECK_STR_EQ(u.target, "/");
    CHECK(u.is_https);
    fetch_url_free(&u);
    CHECK_EQ(fetch_url_parse("http://[::1]:81?x", &u, &why), GH_OK);
    CHECK_STR_EQ(u.host, "::1");
    CHECK_STR_EQ(u.authority, "[::1]:81");
    CHECK_STR_EQ(u.target, "/?x");
    fetch_url_free(&u);
    static const char *const bad[] = {
        "ftp://x/",    "http://",       "http://a:0/",    "http://a:65536/",
        "http://a:x/", "http://u:p@a/", "http://a/b c",   "http://[::1/",
        "http://a b/", "http://a/\x01", "http://[::1]x/", "http://a:123456/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(fetch_url_parse(bad[i], &u, &why), GH_EINVAL);
        CHECK(why != NULL);
    }
}

int
main(void)
{
    test_challenges();
    test_digest();
    test_digest_sess();
    test_basic_b64();
    test_url();
    return check_done("cli/fetch_challenge");
}
