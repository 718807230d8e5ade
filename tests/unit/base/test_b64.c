// SPDX-License-Identifier: MIT
// Unit tests for src/base/b64.c: RFC 4648 section 10 test vectors, the value
// of every octet in every position of a group, and the strict (canonical
// only) decoding: length, alphabet, padding place, unused bits.
#include <string.h>

#include <gatehouse/error.h>

#include "base/b64.h"
#include "harness/check.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 10 */
static const struct {
    const char *plain, *b64;
} vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

/* Decodes s into a fresh buffer: the error, the bytes in *out (freed by caller). */
static int
decode(const char *s, struct buf *out)
{
    buf_init(out, 1 << 16);
    return b64_decode(out, slice_cstr(s));
}

static void
test_vectors(void)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct buf b;

        buf_init(&b, 64);
        CHECK_EQ(b64_encode(&b, slice_cstr(vectors[i].plain)), GH_OK);
        CHECK_EQ(b.len, strlen(vectors[i].b64));
        if (b.len > 0)
            CHECK_MEM_EQ(b.data, vectors[i].b64, b.len);
        buf_free(&b);
        CHECK_EQ(decode(vectors[i].b64, &b), GH_OK);
        CHECK_EQ(b.len, strlen(vectors[i].plain));
        if (b.len > 0)
            CHECK_MEM_EQ(b.data, vectors[i].plain, b.len);
        buf_free(&b);
    }
}

/* Every octet at every position of a group (first, middle and last group):
 * decodes exactly when it is in the alphabet, to its index. */
static void
test_every_octet(void)
{
    char s[13];
    struct buf b;

    for (size_t pos = 0; pos < 12; pos++) {
        for (unsigned c = 0; c < 256; c++) {
            memcpy(s, "AAAAAAAAAAAA", 13);
            s[pos] = (char)c;
            const char *at = c != 0 ? strchr(alphabet, (int)c) : NULL;
            buf_init(&b, 64);
            int err = b64_decode(&b, slice_make((const uint8_t *)s, 12));
            if (pos == 11 && c == '=') {
                CHECK_EQ(err, GH_OK); /* padding: "AAAAAAAAAAA=" is 8 zero bytes */
                CHECK_EQ(b.len, 8);
            } else if (at == NULL) {
                CHECK_EQ(err, GH_EPROTO);
                CHECK_EQ(b.len, 0); /* out unchanged */
            } else {
                uint32_t v = (uint32_t)(at - alphabet) << (18 - 6 * (pos % 4));
                CHECK_EQ(err, GH_OK);
                CHECK_EQ(b.len, 9);
                uint32_t got = b.len == 9 ? ((uint32_t)b.data[pos / 4 * 3] << 16) |
                                                ((uint32_t)b.data[pos / 4 * 3 + 1] << 8) |
                                                b.data[pos / 4 * 3 + 2]
                                          : 0;
                CHECK_EQ(got, v);
            }
            buf_free(&b);
        }
    }
}

/* Every byte string of length 0..3 over a few values round-trips, and a
 * longer one with every octet value. */
static void
test_round_trip(void)
{
    uint8_t all[256];
    struct buf enc, dec;

    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (uint8_t)(255 - i);
    for (size_t n = 0; n <= sizeof(all); n++) {
        buf_init(&enc, 1024);
        buf_init(&dec, 1024);
        CHECK_EQ(b64_encode(&enc, slice_make(all, n)), GH_OK);
        CHECK_EQ(b64_decode(&dec, slice_make(enc.data, enc.len)), GH_OK);
        CHECK_EQ(dec.len, n);
        if (n > 0 && dec.len == n)
            CHECK_MEM_EQ(dec.data, all, n);
        buf_free(&enc);
        buf_free(&dec);
    }
}

/* Each accepted value has exactly one spelling. */
static void
test_strict(void)
{
    static const char *const bad[] = {
        "Zg",       "Zg=",       "Zm9vY",        "Zm9vYg=",  /* length not a multiple of 4 */
        "Zh==",     "Zm9=",      "Zm9vYh==",     "Zm9vYmF=", /* unused bits not zero */
        "Zg==Zm9v", "Zm8=Zm9v",  "Zm=v",         "Z=9v",     /* padding before the end */
        "====",     "A===",      "Zg=A",         "=Zg=",     /* padding in the wrong place */
        "Zm9v\n",   " Zm9v",     "Zm9v ",        "Zm 9",     /* whitespace */
        "Zm-v",     "Zm_v",      "Zm9v.A==",     "Zm\x80v",  /* other alphabets, high bytes */
        "Zg==\r\n", "Zm9vYmFy=", "Zm9vYmFy====",
    };
    struct buf b;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(decode(bad[i], &b), GH_EPROTO);
        CHECK_EQ(b.len, 0);
        buf_free(&b);
    }
    /* appends: a failure leaves earlier contents alone */
    buf_init(&b, 64);
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm9v")), GH_OK);
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zh==")), GH_EPROTO);
    CHECK_EQ(b64_decode(&b, SLICE_LIT("YmFy")), GH_OK);
    CHECK_EQ(b.len, 6);
    CHECK_MEM_EQ(b.data, "foobar", 6);
    buf_free(&b);
    /* the cap of out */
    buf_init(&b, 2);
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm9v")), GH_ELIMIT);
    buf_free(&b);
}

int
main(void)
{
    test_vectors();
    test_every_octet();
    test_round_trip();
    test_strict();
    return check_done("base/b64");
}
