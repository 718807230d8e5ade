// SPDX-License-Identifier: MIT
// Unit tests for src/http/auth_syntax.c: tchar, token68, quoted-string and
// auth-param scanning (RFC 9110 5.6.2, 5.6.4, 11.2), scratch use and failures
// that leave the position alone.
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "http/auth_syntax.h"

static bool
sl_is(struct slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
 * / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA, for every octet value. */
static void
test_tchar(void)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; c++) {
        bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != 0 && memchr(extra, c, sizeof(extra) - 1) != NULL);
        if (auth_syntax_is_tchar((uint8_t)c) != want)
            CHECK_EQ(c, -1); /* prints the octet that differs */
    }
    CHECK(auth_syntax_is_token(SLICE_LIT("Negotiate")));
    CHECK(!auth_syntax_is_token(SLICE_LIT("")));
    CHECK(!auth_syntax_is_token(SLICE_LIT("a b")));
}

static void
test_scanners(void)
{
    struct slice s = SLICE_LIT(" \t realm=x");
    CHECK_EQ(auth_syntax_skip_ows(s, 0), 3);
    CHECK_EQ(auth_syntax_scan_token(s, 3), 8);
    CHECK_EQ(auth_syntax_scan_token(s, 8), 8); /* '=' is not a tchar */
    CHECK_EQ(auth_syntax_skip_ows(s, s.len), s.len);

    /* RFC 9110 11.2 token68: padding '=' belongs to it; ',' and '"' end it. */
    CHECK_EQ(auth_syntax_scan_token68(SLICE_LIT("YII+/_-.~=="), 0), 11);
    CHECK_EQ(auth_syntax_scan_token68(SLICE_LIT("abc==,x"), 0), 5);
    CHECK_EQ(auth_syntax_scan_token68(SLICE_LIT("=abc"), 0), 0); /* padding alone is not one */
    CHECK_EQ(auth_syntax_scan_token68(SLICE_LIT(""), 0), 0);
}

static const struct {
    const char *name, *input;
    int want_err;
    const char *want_value; /* on GH_OK */
    bool want_quoted;
    size_t want_end;
} value_cases[] = {
    {"token", "abc, x", GH_OK, "abc", false, 3},
    {"quoted, no escape", "\"a b\" rest", GH_OK, "a b", true, 5},
    {"quoted-pair unescaped (RFC 9110 5.6.4)", "\"a\\\"b\\\\c\"", GH_OK, "a\"b\\c", true, 9},
    {"obs-text allowed", "\"\xc3\xa9\"", GH_OK, "\xc3\xa9", true, 4},
    {"empty quoted-string", "\"\"", GH_OK, "", true, 2},
    {"empty value", "", GH_EPROTO, NULL, false, 0},
    {"not a token", ",x", GH_EPROTO, NULL, false, 0},
    {"unterminated", "\"abc", GH_EPROTO, NULL, false, 0},
    {"escape at the end", "\"abc\\", GH_EPROTO, NULL, false, 0},
    {"CTL in quoted-string", "\"a\x01\"", GH_EPROTO, NULL, false, 0},
    {"escaped CTL", "\"a\\\x01\"", GH_EPROTO, NULL, false, 0},
    {"DEL in quoted-string", "\"a\x7f\"", GH_EPROTO, NULL, false, 0},
};

static void
test_values(void)
{
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        uint8_t buf[64];
        struct auth_syntax_scratch sc = {buf, sizeof(buf), 0};
        struct slice in = slice_cstr(value_cases[i].input);
        struct slice v = {0};
        bool quoted = false;
        size_t pos = 0;
        int err = auth_syntax_value(in, &pos, &sc, &v, &quoted);
        if (err != value_cases[i].want_err)
            fprintf(stderr, "case: %s\n", value_cases[i].name);
        CHECK_EQ(err, value_cases[i].want_err);
        if (err != GH_OK) {
            CHECK_EQ(pos, 0);
            CHECK_EQ(sc.used, 0);
            continue;
        }
        CHECK(sl_is(v, value_cases[i].want_value));
        CHECK_EQ(quoted, value_cases[i].want_quoted);
        CHECK_EQ(pos, value_cases[i].want_end);
    }
}

static void
test_scratch(void)
{
    struct slice in = SLICE_LIT("\"a\\bc\"");
    struct slice v;
    size_t pos = 0;

    /* Only escaped values take room: exactly the unescaped length. */
    uint8_t buf[3];
    struct auth_syntax_scratch sc = {buf, sizeof(buf), 0};
    CHECK_EQ(auth_syntax_value(in, &pos, &sc, &v, NULL), GH_OK);
    CHECK_EQ(sc.used, 3);
    CHECK(v.ptr == buf && sl_is(v, "abc"));

    pos = 0;
    CHECK_EQ(auth_syntax_value(in, &pos, &sc, &v, NULL), GH_ELIMIT); /* full now */
    CHECK_EQ(pos, 0);
    CHECK_EQ(sc.used, 3);
    pos = 0;
    CHECK_EQ(auth_syntax_value(in, &pos, NULL, &v, NULL), GH_ELIMIT);
    pos = 0;
    CHECK_EQ(auth_syntax_value(SLICE_LIT("\"abc\""), &pos, NULL, &v, NULL), GH_OK);
    CHECK(sl_is(v, "abc"));
}

static void
test_param(void)
{
    uint8_t buf[64];
    struct auth_syntax_scratch sc = {buf, sizeof(buf), 0};
    struct slice name, value;
    bool quoted = false;
    size_t pos = 0;

    /* BWS around '=' (RFC 9110 11.2). */
    struct slice in = SLICE_LIT("realm \t= \"x y\", qop=auth");
    CHECK_EQ(auth_syntax_param(in, &pos, &sc, &name, &value, &quoted), GH_OK);
    CHECK(sl_is(name, "realm") && sl_is(value, "x y") && quoted);
    CHECK_EQ(pos, 14);
    pos = 16;
    CHECK_EQ(auth_syntax_param(in, &pos, &sc, &name, &value, &quoted), GH_OK);
    CHECK(sl_is(name, "qop") && sl_is(value, "auth") && !quoted);
    CHECK_EQ(pos, in.len);

    static const char *const bad[] = {"=x", "a", "a b=c", "a=", "a= ", "a=,", "a=\"x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pos = 0;
        CHECK_EQ(auth_syntax_param(slice_cstr(bad[i]), &pos, &sc, &name, &value, NULL), GH_EPROTO);
        CHECK_EQ(pos, 0);
    }
}

int
main(void)
{
    test_tchar();
    test_scanners();
    test_values();
    test_scratch();
    test_param();
    return check_done("test_auth_syntax");
}
