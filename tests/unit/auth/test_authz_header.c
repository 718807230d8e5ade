// SPDX-License-Identifier: MIT
// Unit tests for src/auth/authz_header.c: the credentials grammar of RFC 9110
// 11.4 (table below, each row citing its rule) and the challenge builder.
#include <string.h>

#include <gatehouse/error.h>

#include "auth/authz_header.h"
#include "harness/check.h"

static const struct {
    const char *name, *input;
    int want_err;
    int want_form;
    const char *want_scheme;
    size_t want_params;
} cases[] = {
    {"scheme only (11.4)", "Negotiate", GH_OK, AUTHZ_FORM_SCHEME_ONLY, "Negotiate", 0},
    {"token68 (11.4)", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", GH_OK, AUTHZ_FORM_TOKEN68, "Basic", 0},
    {"token68 with only padding after", "Negotiate YII=", GH_OK, AUTHZ_FORM_TOKEN68, "Negotiate",
     0},
    {"several SP after scheme (1*SP)", "NTLM   TlRMTVNTUAABAAAA", GH_OK, AUTHZ_FORM_TOKEN68, "NTLM",
     0},
    {"scheme is case-insensitive (11.1)", "bAsIc Zm9vOmJhcg==", GH_OK, AUTHZ_FORM_TOKEN68, "bAsIc",
     0},
    {"auth-param list (11.2)", "Digest username=\"a\", realm=r", GH_OK, AUTHZ_FORM_PARAMS, "Digest",
     2},
    {"BWS around = (11.2)", "Digest a = b ,c=\"d\"", GH_OK, AUTHZ_FORM_PARAMS, "Digest", 2},
    {"empty list elements (5.6.1)", "Digest , a=b,, c=d ,", GH_OK, AUTHZ_FORM_PARAMS, "Digest", 2},
    {"quoted-pair (5.6.4)", "Digest a=\"x\\\"y\\\\z\"", GH_OK, AUTHZ_FORM_PARAMS, "Digest", 1},
    {"trailing OWS trimmed", "Negotiate abc= \t", GH_OK, AUTHZ_FORM_TOKEN68, "Negotiate", 0},
    {"empty value", "", GH_EPROTO, 0, NULL, 0},
    {"no scheme", " =abc", GH_EPROTO, 0, NULL, 0},
    {"tab instead of SP after scheme (11.4: 1*SP)", "Basic\tabc", GH_EPROTO, 0, NULL, 0},
    {"param without value (11.2)", "Digest a=", GH_OK, AUTHZ_FORM_TOKEN68, "Digest", 0},
    {"param missing = (11.2)", "Digest a b", GH_EPROTO, 0, NULL, 0},
    {"unterminated quoted-string (5.6.4)", "Digest a=\"abc", GH_EPROTO, 0, NULL, 0},
    {"CTL inside quoted-string (5.6.4)", "Digest a=\"a\x01\"", GH_EPROTO, 0, NULL, 0},
    {"duplicate parameter name (11.2)", "Digest a=1, A=2", GH_EPROTO, 0, NULL, 0},
    {"garbage after quoted-string", "Digest a=\"1\" b=2", GH_EPROTO, 0, NULL, 0},
    {"'=' inside token68 (11.2 token68 grammar)", "Basic ab=cd=", GH_EPROTO, 0, NULL, 0},
    {"NUL byte", "Basic a\0b", GH_EPROTO, 0, NULL, 0},
};

static void
test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct authz_credentials c;
        uint8_t scratch[256];
        size_t len = strlen(cases[i].input);
        if (strcmp(cases[i].name, "NUL byte") == 0)
            len = 9;
        int err = authz_parse(slice_make(cases[i].input, len), NULL, scratch, sizeof(scratch), &c);
        if (err != cases[i].want_err)
            fprintf(stderr, "case: %s\n", cases[i].name);
        CHECK_EQ(err, cases[i].want_err);
        if (err != GH_OK || cases[i].want_err != GH_OK)
            continue;
        CHECK_EQ(c.form, cases[i].want_form);
        CHECK(slice_eq(c.scheme, slice_cstr(cases[i].want_scheme)));
        CHECK_EQ(c.param_count, cases[i].want_params);
    }
}

static void
test_values(void)
{
    struct authz_credentials c;
    uint8_t scratch[256];
    const char *in = "DIGEST Username=\"Mu\\\"fa\\\\sa\", qop=auth, realm=\"\"";

    CHECK_EQ(authz_parse(slice_cstr(in), NULL, scratch, sizeof(scratch), &c), GH_OK);
    CHECK(authz_scheme_is(&c, "digest"));
    const struct authz_param *u = authz_param_find(&c, "username");
    CHECK(u != NULL && u->was_quoted && slice_eq(u->value, SLICE_LIT("Mu\"fa\\sa")));
    const struct authz_param *q = authz_param_find(&c, "QOP");
    CHECK(q != NULL && !q->was_quoted && slice_eq(q->value, SLICE_LIT("auth")));
    const struct authz_param *r = authz_param_find(&c, "realm");
    CHECK(r != NULL && r->value.len == 0);
    CHECK(authz_param_find(&c, "nonce") == NULL);

    CHECK_EQ(authz_parse(SLICE_LIT("Negotiate YIIabc+/=="), NULL, scratch, sizeof(scratch), &c),
             GH_OK);
    CHECK(slice_eq(c.token68, SLICE_LIT("YIIabc+/==")));
}

static void
test_limits(void)
{
    static uint8_t big[70000], scratch[70000];
    struct authz_credentials c;
    struct authz_limits lim = {.max_token_bytes = 65536, .max_params = 4};

    memcpy(big, "Negotiate ", 10);
    memset(big + 10, 'A', 65536); /* a 64 KiB token is admitted (large PACs) */
    CHECK_EQ(authz_parse(slice_make(big, 10 + 65536), &lim, scratch, sizeof(scratch), &c), GH_OK);
    CHECK_EQ(c.token68.len, 65536);
    memset(big + 10, 'A', 65537);
    CHECK_EQ(authz_parse(slice_make(big, 10 + 65537), &lim, scratch, sizeof(scratch), &c),
             GH_ELIMIT);
    CHECK_EQ(authz_parse(SLICE_LIT("D a=1,b=2,c=3,d=4,e=5"), &lim, scratch, sizeof(scratch), &c),
             GH_ELIMIT);
    CHECK_EQ(authz_parse(SLICE_LIT("D a=1,b=2,c=3,d=4"), &lim, scratch, sizeof(scratch), &c),
             GH_OK);
    CHECK_EQ(authz_parse(SLICE_LIT("D a=1"), &lim, scratch, 2, &c), GH_EINVAL);
}

static void
test_challenge(void)
{
    struct buf b;

    buf_init(&b, 4096);
    CHECK_EQ(authz_challenge_begin(&b, "Digest"), GH_OK);
    CHECK_EQ(authz_challenge_param(&b, "realm", SLICE_LIT("a \"b\" \\c"), true), GH_OK);
    CHECK_EQ(authz_challenge_param(&b, "algorithm", SLICE_LIT("SHA-256"), false), GH_OK);
    CHECK_EQ(authz_challenge_param(&b, "x", SLICE_LIT("needs quoting"), false), GH_OK);
    CHECK_EQ(authz_challenge_param(&b, "bad", SLICE_LIT("a\r\nSet-Cookie: x"), true), GH_EINVAL);
    CHECK_EQ(authz_challenge_param(&b, "bad name", SLICE_LIT("v"), true), GH_EINVAL);
    const char *want = "Digest realm=\"a \\\"b\\\" \\\\c\", algorithm=SHA-256, x=\"needs quoting\"";
    CHECK_EQ(b.len, strlen(want));
    CHECK_MEM_EQ(b.data, want, b.len);

    /* What the builder writes, the parser reads back (round trip). */
    struct authz_credentials c;
    uint8_t scratch[256];
    CHECK_EQ(authz_parse(buf_slice(&b), NULL, scratch, sizeof(scratch), &c), GH_OK);
    const struct authz_param *r = authz_param_find(&c, "realm");
    CHECK(r != NULL && slice_eq(r->value, SLICE_LIT("a \"b\" \\c")));

    b.len = 0;
    CHECK_EQ(authz_challenge_begin(&b, "Negotiate"), GH_OK);
    CHECK_EQ(authz_challenge_token68(&b, SLICE_LIT("oRQwEqADCgEA")), GH_OK);
    CHECK_MEM_EQ(b.data, "Negotiate oRQwEqADCgEA", b.len);
    CHECK_EQ(authz_challenge_token68(&b, SLICE_LIT("a b")), GH_EINVAL);
    buf_free(&b);
}

int
main(void)
{
    test_table();
    test_values();
    test_limits();
    test_challenge();
    return check_done("auth/authz_header");
}
