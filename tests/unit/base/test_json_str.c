// SPDX-License-Identifier: MIT
// json_str.c: RFC 8259 section 7 escaping, and RFC 3629 section 4 for what
// counts as UTF-8 (anything else is escaped byte by byte as \u00XX).
#include <string.h>

#include <gatehouse/error.h>

#include "base/json_str.h"
#include "harness/check.h"

static const struct {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
} cases[] = {
    {"plain", "abc", 0, "\"abc\""},
    {"quote and backslash (RFC 8259 7)", "a\"b\\c", 0, "\"a\\\"b\\\\c\""},
    {"controls as \\u00XX", "\r\n\t\x01", 0, "\"\\u000d\\u000a\\u0009\\u0001\""},
    {"DEL", "\x7f", 0, "\"\\u007f\""},
    {"NUL inside", "a\0b", 3, "\"a\\u0000b\""},
    {"2-byte UTF-8 kept", "\xc3\xa9", 0, "\"\xc3\xa9\""},
    {"4-byte UTF-8 kept", "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\""},
    {"lone continuation byte", "\x80", 0, "\"\\u0080\""},
    {"overlong slash (RFC 3629 10)", "\xc0\xaf", 0, "\"\\u00c0\\u00af\""},
    {"UTF-16 surrogate", "\xed\xa0\x80", 0, "\"\\u00ed\\u00a0\\u0080\""},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 0, "\"\\u00f4\\u0090\\u0080\\u0080\""},
    {"truncated sequence at the end", "a\xe2\x82", 0, "\"a\\u00e2\\u0082\""},
    {"Latin-1 byte", "caf\xe9!", 0, "\"caf\\u00e9!\""},
    {"empty", "", 0, "\"\""},
};

int
main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        size_t len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].in);
        buf_init(&b, 1024);
        CHECK_EQ(json_str_append(&b, cases[i].in, len), GH_OK);
        CHECK_EQ(b.len, strlen(cases[i].want));
        if (b.len == strlen(cases[i].want))
            CHECK_MEM_EQ(b.data, cases[i].want, b.len);
        buf_free(&b);
    }
    /* the output's maximum is reported, never exceeded */
    struct buf small;
    buf_init(&small, 4);
    CHECK_EQ(json_str_append(&small, "abcdef", 6), GH_ELIMIT);
    CHECK(small.len <= 4);
    buf_free(&small);
    return check_done("test_json_str");
}
