// SPDX-License-Identifier: MIT
// Unit tests for src/modules/static_path.c: the URL-path normalizer against a
// table of hostile paths, Range parsing (RFC 9110 14.1.2) and If-None-Match.
#include <stdbool.h>
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "modules/static_path.h"

static const struct {
    const char *name, *in;
    int want_err;
    const char *want; /* when GH_OK */
    bool want_dir;
} paths[] = {
    {"root", "/", GH_OK, "", true},
    {"empty", "", GH_OK, "", true},
    {"plain file", "/a/b.txt", GH_OK, "a/b.txt", false},
    {"no leading slash", "a/b", GH_OK, "a/b", false},
    {"trailing slash", "/a/b/", GH_OK, "a/b", true},
    {"double slashes", "//a///b", GH_OK, "a/b", false},
    {"dot segment", "/a/./b", GH_OK, "a/b", false},
    {"trailing dot", "/a/.", GH_OK, "a", true},
    {"dotdot inside", "/a/b/../c", GH_OK, "a/c", false},
    {"dotdot to root", "/a/..", GH_OK, "", true},
    {"dotdot back to dir", "/a/b/..", GH_OK, "a", true},
    {"percent plain", "/a%20b", GH_OK, "a b", false},
    {"percent lower hex", "/%7euser", GH_OK, "~user", false},
    {"encoded dot dot inside", "/a/%2e%2e/b", GH_OK, "b", false},
    {"dotdot above root", "/../etc/passwd", GH_EPROTO, NULL, false}, /* RFC 3986 5.2.4 */
    {"dotdot above after climb", "/a/../../x", GH_EPROTO, NULL, false},
    {"bare dotdot", "..", GH_EPROTO, NULL, false},
    {"encoded dotdot", "/%2e%2e/etc/passwd", GH_EPROTO, NULL, false},
    {"upper encoded dotdot", "/%2E%2E/x", GH_EPROTO, NULL, false},
    {"half encoded dotdot", "/.%2e/x", GH_EPROTO, NULL, false},
    {"encoded slash", "/a%2fb", GH_EPROTO, NULL, false},
    {"encoded slash upper", "/..%2Fetc", GH_EPROTO, NULL, false},
    {"encoded dotdot slash", "/%2e%2e%2fetc", GH_EPROTO, NULL, false},
    {"encoded NUL", "/a%00.txt", GH_EPROTO, NULL, false},
    {"control byte", "/a%0a", GH_EPROTO, NULL, false},
    {"DEL", "/a%7f", GH_EPROTO, NULL, false},
    {"truncated percent", "/a%2", GH_EPROTO, NULL, false},
    {"percent at end", "/a%", GH_EPROTO, NULL, false},
    {"bad hex", "/a%zz", GH_EPROTO, NULL, false},
    {"double encoding stays literal", "/%252e%252e/x", GH_OK, "%2e%2e/x", false},
    {"backslash is a name byte", "/..\\x", GH_OK, "..\\x", false},
    {"dots that are names", "/.../x", GH_OK, ".../x", false},
    {"hidden file", "/.env", GH_OK, ".env", false},
};

static void
test_paths(void)
{
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char out[256];
        size_t len = 99;
        bool is_dir = false;
        int rc = static_path_normalize(paths[i].in, strlen(paths[i].in), out, sizeof(out), &len,
                                       &is_dir);
        if (rc != paths[i].want_err)
            fprintf(stderr, "case: %s\n", paths[i].name);
        CHECK_EQ(rc, paths[i].want_err);
        if (rc == GH_OK && paths[i].want != NULL) {
            if (strcmp(out, paths[i].want) != 0 || is_dir != paths[i].want_dir)
                fprintf(stderr, "case: %s\n", paths[i].name);
            CHECK_STR_EQ(out, paths[i].want);
            CHECK_EQ(len, strlen(paths[i].want));
            CHECK_EQ(is_dir, paths[i].want_dir);
        }
        if (rc != GH_OK)
            CHECK_EQ(len, 0);
    }
}

static void
test_raw_nul(void)
{
    char out[64];
    size_t len;
    bool is_dir;
    /* A NUL inside the path (length says so) must not truncate it silently. */
    CHECK_EQ(static_path_normalize("/a\0/../../x", 11, out, sizeof(out), &len, &is_dir), GH_EPROTO);
}

static void
test_limits(void)
{
    char out[8];
    char deep[64 * 2 + 8];
    size_t len;
    bool is_dir;

    CHECK_EQ(static_path_normalize("/abcdefgh", 9, out, sizeof(out), &len, &is_dir), GH_ELIMIT);
    CHECK_EQ(static_path_normalize("/abcdefg", 8, out, sizeof(out), &len, &is_dir), GH_OK);
    CHECK_STR_EQ(out, "abcdefg"); /* exactly fills out with its NUL */
    CHECK_EQ(static_path_normalize("/abc/defg", 9, out, sizeof(out), &len, &is_dir), GH_ELIMIT);
    size_t n = 0;
    for (int i = 0; i < 65; i++) {
        deep[n++] = '/';
        deep[n++] = 'a';
    }
    char big[512];
    CHECK_EQ(static_path_normalize(deep, n, big, sizeof(big), &len, &is_dir), GH_ELIMIT);
    CHECK_EQ(static_path_normalize(deep, n - 2, big, sizeof(big), &len, &is_dir), GH_OK);
}

static const struct {
    const char *value;
    uint64_t size;
    int want_err;
    uint64_t first, last;
} ranges[] = {
    {"bytes=0-9", 100, GH_OK, 0, 9},
    {"bytes=10-", 100, GH_OK, 10, 99},
    {"bytes=-10", 100, GH_OK, 90, 99},     /* suffix-range */
    {"bytes=-1000", 100, GH_OK, 0, 99},    /* suffix longer than the file */
    {"bytes=90-1000", 100, GH_OK, 90, 99}, /* last-pos clipped */
    {"BYTES=1-1", 100, GH_OK, 1, 1},       /* unit is case-insensitive */
    {" bytes=1-2 ", 100, GH_OK, 1, 2},
    {"bytes=100-", 100, GH_ELIMIT, 0, 0}, /* first-pos past the end: 416 */
    {"bytes=-0", 100, GH_ELIMIT, 0, 0},
    {"bytes=0-0", 0, GH_ELIMIT, 0, 0},          /* empty file */
    {"bytes=5-1", 100, GH_ENOTFOUND, 0, 0},     /* invalid: ignored */
    {"bytes=0-1,5-6", 100, GH_ENOTFOUND, 0, 0}, /* several: whole file */
    {"items=0-1", 100, GH_ENOTFOUND, 0, 0},
    {"bytes=", 100, GH_ENOTFOUND, 0, 0},
    {"bytes=-", 100, GH_ENOTFOUND, 0, 0},
    {"bytes=a-b", 100, GH_ENOTFOUND, 0, 0},
    {"bytes=99999999999999999999-", 100, GH_ENOTFOUND, 0, 0}, /* overflow */
};

static void
test_ranges(void)
{
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        struct static_range r = {0, 0};
        int rc = static_range_parse(ranges[i].value, strlen(ranges[i].value), ranges[i].size, &r);
        if (rc != ranges[i].want_err)
            fprintf(stderr, "range case: %s\n", ranges[i].value);
        CHECK_EQ(rc, ranges[i].want_err);
        if (rc == GH_OK) {
            CHECK_EQ(r.first, ranges[i].first);
            CHECK_EQ(r.last, ranges[i].last);
        }
    }
}

static void
test_etags(void)
{
    const char *tag = "\"1-2-3\"";

    CHECK(static_etag_match("\"1-2-3\"", 7, tag));
    CHECK(static_etag_match("W/\"1-2-3\"", 9, tag)); /* weak comparison, RFC 9110 13.1.2 */
    CHECK(static_etag_match("\"x\", \"1-2-3\"", 12, tag));
    CHECK(static_etag_match("*", 1, tag));
    CHECK(!static_etag_match("\"1-2-4\"", 7, tag));
    CHECK(!static_etag_match("\"1-2-3", 6, tag)); /* unterminated */
    CHECK(!static_etag_match("1-2-3", 5, tag));
    CHECK(!static_etag_match("", 0, tag));
}

int
main(void)
{
    test_paths();
    test_raw_nul();
    test_limits();
    test_ranges();
    test_etags();
    return check_done("modules/static_path");
}
