// SPDX-License-Identifier: MIT
// UTF-16 <-> UTF-8 conversion (src/sspi/wide.c): round trips, surrogate pairs,
// and refusal of every kind of invalid input.
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "sspi/wide.h"

static void
test_round_trips(void)
{
    static const struct {
        const char *utf8;
        uint16_t utf16[8];
        size_t units;
    } cases[] = {
        {"", {0}, 0},
        {"abc", {'a', 'b', 'c'}, 3},
        {"J\xc3\xbcrgen", {'J', 0xfc, 'r', 'g', 'e', 'n'}, 6},
        {"\xe2\x82\xac", {0x20ac}, 1},                         /* U+20AC, 3 bytes */
        {"\xf0\x9f\x98\x80", {0xd83d, 0xde00}, 2},             /* U+1F600, a pair */
        {"\xf4\x8f\xbf\xbf", {0xdbff, 0xdfff}, 2},             /* U+10FFFF, the last */
        {"\xef\xbf\xbf", {0xffff}, 1},                         /* a noncharacter is valid */
        {"a\xf0\x90\x80\x80z", {'a', 0xd800, 0xdc00, 'z'}, 4}, /* U+10000, the first pair */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *u8 = NULL;
        uint16_t *u16 = NULL;
        size_t len = 99, units = 99;
        struct buf le;

        CHECK_EQ(wide_to_utf8(cases[i].utf16, cases[i].units, &u8, &len), GH_OK);
        CHECK_STR_EQ(u8, cases[i].utf8);
        CHECK_EQ(len, strlen(cases[i].utf8));
        CHECK_EQ(wide_from_utf8(cases[i].utf8, strlen(cases[i].utf8), malloc, &u16, &units), GH_OK);
        CHECK_EQ(units, cases[i].units);
        CHECK(u16 != NULL && memcmp(u16, cases[i].utf16, units * 2) == 0 && u16[units] == 0);
        buf_init(&le, 64);
        CHECK_EQ(wide_utf8_to_utf16le(cases[i].utf8, strlen(cases[i].utf8), &le), GH_OK);
        CHECK_EQ(le.len, cases[i].units * 2);
        for (size_t k = 0; k < cases[i].units && k * 2 + 1 < le.len; k++)
            CHECK_EQ(le.data[2 * k] | le.data[2 * k + 1] << 8, cases[i].utf16[k]);
        buf_free(&le);
        CHECK(wide_utf8_valid(cases[i].utf8, strlen(cases[i].utf8)));
        free(u8);
        free(u16);
    }
}

static void
test_invalid_utf16(void)
{
    static const struct {
        const char *name;
        uint16_t units[4];
        size_t n;
    } cases[] = {
        {"lone high surrogate at end", {'a', 0xd800}, 2},
        {"lone high surrogate before a letter", {0xd83d, 'a'}, 2},
        {"lone low surrogate", {0xdc00, 'a'}, 2},
        {"reversed pair", {0xde00, 0xd83d}, 2},
        {"embedded NUL", {'a', 0, 'b'}, 3},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *u8 = NULL;

        if (wide_to_utf8(cases[i].units, cases[i].n, &u8, NULL) != GH_EPROTO) {
            fprintf(stderr, "accepted: %s\n", cases[i].name);
            CHECK(false);
        }
        CHECK(u8 == NULL);
    }
}

static void
test_invalid_utf8(void)
{
    static const char *const cases[] = {
        "\x80",             /* continuation byte alone */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xf0\x80\x80\xaf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* encoded surrogate U+D800 (CESU-8) */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* F5 lead */
        "\xff",             /* never valid */
        "\xe2\x82",         /* truncated */
        "a\xc3",            /* truncated at end */
        "\xc3\x28",         /* bad continuation */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint16_t *u16 = NULL;
        struct buf le;

        CHECK(!wide_utf8_valid(cases[i], strlen(cases[i])));
        CHECK_EQ(wide_from_utf8(cases[i], strlen(cases[i]), malloc, &u16, NULL), GH_EPROTO);
        buf_init(&le, 64);
        CHECK_EQ(wide_utf8_to_utf16le(cases[i], strlen(cases[i]), &le), GH_EPROTO);
        CHECK_EQ(le.len, 0);
        buf_free(&le);
    }
    CHECK(!wide_utf8_valid("a\0b", 3)); /* NUL inside a counted string */
}

static void
test_limits(void)
{
    uint16_t s[] = {'a', 'b', 0};
    uint16_t no_nul[4] = {'a', 'b', 'c', 'd'};
    size_t units = 0;
    char *big = malloc(WIDE_MAX_UNITS + 2);
    uint16_t *u16 = NULL;

    CHECK_EQ(wide_strlen(s, 10, &units), GH_OK);
    CHECK_EQ(units, 2);
    CHECK_EQ(wide_strlen(no_nul, 3, &units), GH_ELIMIT); /* reads at most 4 units */
    memset(big, 'x', WIDE_MAX_UNITS + 1);
    CHECK_EQ(wide_from_utf8(big, WIDE_MAX_UNITS + 1, malloc, &u16, NULL), GH_ELIMIT);
    CHECK_EQ(wide_from_utf8(big, WIDE_MAX_UNITS, malloc, &u16, NULL), GH_OK);
    free(u16);
    free(big);
}

int
main(void)
{
    test_round_trips();
    test_invalid_utf16();
    test_invalid_utf8();
    test_limits();
    return check_done("test_wide");
}
