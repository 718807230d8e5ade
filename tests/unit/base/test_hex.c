// SPDX-License-Identifier: MIT
// Unit tests for src/base/hex.c: RFC 4648 section 10 test vectors (base16),
// digit values for every octet, strict lengths.
#include <string.h>

#include "base/hex.h"
#include "harness/check.h"

/* RFC 4648 10: BASE16("foobar") = "666F6F626172"; we write lowercase. */
static const struct {
    const char *plain, *hex;
} vectors[] = {
    {"", ""},
    {"f", "66"},
    {"fo", "666f"},
    {"foo", "666f6f"},
    {"foob", "666f6f62"},
    {"fooba", "666f6f6261"},
    {"foobar", "666f6f626172"},
};

static void
test_vectors(void)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t n = strlen(vectors[i].plain);
        char hex[16];
        uint8_t back[8];

        memset(hex, 'x', sizeof(hex));
        hex_encode((const uint8_t *)vectors[i].plain, n, hex);
        CHECK_STR_EQ(hex, vectors[i].hex);
        CHECK(hex_decode(vectors[i].hex, 2 * n, back, n));
        CHECK_MEM_EQ(back, vectors[i].plain, n);
    }
    uint8_t all[2];
    CHECK(hex_decode("fF", 2, all, 1)); /* either case on input */
    CHECK_EQ(all[0], 0xff);
    CHECK(hex_decode("00A0", 4, all, 2));
    CHECK_EQ(all[0], 0);
    CHECK_EQ(all[1], 0xa0);
}

static void
test_refusals(void)
{
    uint8_t out[4];

    CHECK(!hex_decode("abc", 3, out, 1)); /* odd length */
    CHECK(!hex_decode("abc", 3, out, 2));
    CHECK(!hex_decode("abcd", 4, out, 1)); /* longer than out_len */
    CHECK(!hex_decode("ab", 2, out, 2));   /* shorter */
    CHECK(!hex_decode("0g", 2, out, 1));
    CHECK(!hex_decode(" 1", 2, out, 1));
    CHECK(!hex_decode("+1", 2, out, 1));
}

static void
test_digits(void)
{
    for (int c = 0; c < 256; c++) {
        int want = -1;
        if (c >= '0' && c <= '9')
            want = c - '0';
        else if (c >= 'a' && c <= 'f')
            want = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            want = c - 'A' + 10;
        if (hex_digit_value((uint8_t)c) != want)
            CHECK_EQ(c, -1); /* prints the octet that differs */
    }
}

int
main(void)
{
    test_vectors();
    test_refusals();
    test_digits();
    return check_done("test_hex");
}
