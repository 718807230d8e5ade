// SPDX-License-Identifier: MIT
// Unit tests for src/http/chunked.c: the chunked transfer coding (RFC 9112 7.1),
// fed whole, split at every offset, and one byte at a time.
#include <stdlib.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "http/h1.h"

#define BIN(s) s, sizeof(s) - 1

static const size_t max_line = 20, max_trailer = 32;

static const struct {
    const char *rule, *input;
    size_t len;
    int want_err;
    const char *want_data; /* concatenated chunk-data */
    size_t want_consumed;  /* on GH_OK: where the body ends (0: the whole input) */
} cases[] = {
    {"RFC 9112 7.1 two chunks", BIN("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), GH_OK, "hello world",
     0},
    {"RFC 9112 7.1 hex sizes, both cases", BIN("a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n"),
     GH_OK, "0123456789abcdefghijk", 0},
    {"RFC 9112 7.1 empty body", BIN("0\r\n\r\n"), GH_OK, "", 0},
    {"RFC 9112 7.1 last-chunk 1*0", BIN("000\r\n\r\n"), GH_OK, "", 0},
    {"RFC 9112 7.1 leading zeros", BIN("0003\r\nabc\r\n0\r\n\r\n"), GH_OK, "abc", 0},
    {"RFC 9112 7.1 stops at the end of the body", BIN("1\r\nx\r\n0\r\n\r\nGET /"), GH_OK, "x", 11},
    {"RFC 9112 7.1.1 chunk-ext ignored", BIN("3;n=v;q=\"a b\"\r\nabc\r\n0;last\r\n\r\n"), GH_OK,
     "abc", 0},
    {"RFC 9112 7.1.1 BWS before ';'", BIN("3 \t;x\r\nabc\r\n0\r\n\r\n"), GH_OK, "abc", 0},
    {"RFC 9112 7.1.2 trailer fields discarded", BIN("1\r\nz\r\n0\r\nA: b\r\nC-D:e f\r\n\r\n"),
     GH_OK, "z", 0},
    {"RFC 9112 7.1 incomplete", BIN("5\r\nhel"), GH_AGAIN, "hel", 0},
    {"RFC 9112 7.1 missing final CRLF", BIN("0\r\n"), GH_AGAIN, "", 0},
    {"RFC 9112 7.1 size must be HEXDIG", BIN("g\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 empty size", BIN("\r\nabc\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 sign before size", BIN("+5\r\nhello\r\n0\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 0x prefix", BIN("0x5\r\nhello\r\n0\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 space inside size", BIN("1 0\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 size overflows 64 bits", BIN("10000000000000000\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 size line without LF", BIN("5\rhello"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 bare LF after size refused", BIN("5\nhello\r\n0\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1 data longer than size", BIN("5\r\nhello!\r\n0\r\n\r\n"), GH_EPROTO, "hello", 0},
    {"RFC 9112 7.1 bare LF after data refused", BIN("5\r\nhello\n0\r\n\r\n"), GH_EPROTO, "hello",
     0},
    {"RFC 9112 7.1 CR without LF after data", BIN("5\r\nhello\rX"), GH_EPROTO, "hello", 0},
    {"RFC 9112 7.1.1 CTL in chunk-ext", BIN("1;a\x01\r\nx\r\n0\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 7.1.1 text after size without ';'", BIN("1 x\r\nx\r\n0\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 5.2 obs-fold in trailers", BIN("0\r\nA: b\r\n c\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 5.1 space before colon in trailer", BIN("0\r\nA : b\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 5 trailer without colon", BIN("0\r\nAb\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 5 empty trailer name", BIN("0\r\n: b\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9110 5.5 NUL in trailer value", BIN("0\r\nA: \0\r\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 2.2 bare LF ends trailer refused", BIN("0\r\nA: b\n\r\n"), GH_EPROTO, "", 0},
    {"RFC 9112 2.2 final bare LF refused", BIN("0\r\n\n"), GH_EPROTO, "", 0},
    {"RFC 9112 2.2 final CR without LF", BIN("0\r\n\rX"), GH_EPROTO, "", 0},
    /* limits: size lines count digits and chunk-ext, not CRLF */
    {"limit: size line at max_line_bytes", BIN("00000000000000000001\r\nx\r\n0\r\n\r\n"), GH_OK,
     "x", 0},
    {"limit: size line one past max_line_bytes", BIN("000000000000000000001\r\nx\r\n0\r\n\r\n"),
     GH_ELIMIT, "", 0},
    {"limit: chunk-ext at max_line_bytes", BIN("1;aaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"), GH_OK,
     "x", 0},
    {"limit: chunk-ext one past max_line_bytes", BIN("1;aaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"),
     GH_ELIMIT, "", 0},
    /* trailers count their field lines with CRLF, not the final empty line */
    {"limit: trailers at max_trailer_bytes", BIN("0\r\nA: bbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n"),
     GH_OK, "", 0},
    {"limit: trailers one past max_trailer_bytes",
     BIN("0\r\nA: bbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n"), GH_ELIMIT, "", 0},
    {"limit: trailers over two lines at max", BIN("0\r\nA: bbbbbbbbbbb\r\nC: ddddddddddd\r\n\r\n"),
     GH_OK, "", 0},
};

struct result {
    int err;
    size_t consumed;
    char data[256];
    size_t data_len;
};

/* Feeds in[0, len) in pieces of at most step bytes (the decoder sees each piece in
 * an exact-size heap copy), calling again on the rest as the contract says. */
static struct result
decode(const char *in, size_t len, size_t step)
{
    struct h1_chunked c;
    struct result r = {.err = GH_AGAIN};
    size_t off = 0;

    h1_chunked_init(&c, max_line, max_trailer);
    while (r.err == GH_AGAIN && off < len) {
        size_t n = len - off < step ? len - off : step;
        uint8_t *piece = malloc(n);
        size_t consumed = 0;
        struct slice data;

        memcpy(piece, in + off, n);
        r.err = h1_chunked_decode(&c, piece, n, &consumed, &data);
        if (consumed > n || (data.len > 0 && (data.ptr < piece || data.ptr + data.len > piece + n)))
            check_failures++; /* the contract's invariants */
        if (r.err == GH_AGAIN && consumed < n && data.len == 0)
            check_failures++; /* stopped without reason */
        if (r.err == GH_OK && data.len > 0)
            check_failures++; /* GH_OK never carries data */
        if (data.len > 0 && r.data_len + data.len <= sizeof(r.data)) {
            memcpy(r.data + r.data_len, data.ptr, data.len);
            r.data_len += data.len;
        }
        free(piece);
        off += consumed;
        if (r.err == GH_AGAIN && consumed == 0)
            break;
    }
    r.consumed = off;
    return r;
}

static void
test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t want_consumed = cases[i].want_consumed ? cases[i].want_consumed : cases[i].len;
        struct result whole = decode(cases[i].input, cases[i].len, cases[i].len);
        struct result bytes = decode(cases[i].input, cases[i].len, 1);
        struct result pairs = decode(cases[i].input, cases[i].len, 3);
        bool ok = whole.err == cases[i].want_err && whole.data_len == strlen(cases[i].want_data) &&
                  memcmp(whole.data, cases[i].want_data, whole.data_len) == 0 &&
                  (whole.err != GH_OK || whole.consumed == want_consumed);
        /* RFC 9112 7.1: framing does not depend on how reads split the bytes */
        bool same = bytes.err == whole.err && bytes.data_len == whole.data_len &&
                    memcmp(bytes.data, whole.data, whole.data_len) == 0 &&
                    (whole.err != GH_OK || bytes.consumed == whole.consumed) &&
                    pairs.err == whole.err && pairs.data_len == whole.data_len &&
                    (whole.err != GH_OK || pairs.consumed == whole.consumed);
        if (!ok || !same) {
            fprintf(stderr, "row: %s: err %d (1-byte %d, 3-byte %d), data \"%.*s\"\n",
                    cases[i].rule, whole.err, bytes.err, pairs.err, (int)whole.data_len,
                    whole.data);
            check_failures++;
        }
    }
}

/* One run of data per call; the call stops after it; errors are sticky. */
static void
test_call_contract(void)
{
    static const uint8_t in[] = "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n";
    struct h1_chunked c;
    size_t consumed;
    struct slice data;

    h1_chunked_init(&c, max_line, max_trailer);
    CHECK_EQ(h1_chunked_decode(&c, in, sizeof(in) - 1, &consumed, &data), GH_AGAIN);
    CHECK_EQ(consumed, 5);
    CHECK(data.ptr == in + 3 && data.len == 2);
    CHECK_EQ(h1_chunked_decode(&c, in + 5, sizeof(in) - 6, &consumed, &data), GH_AGAIN);
    CHECK_EQ(consumed, 8);
    CHECK(data.ptr == in + 10 && data.len == 3);
    CHECK_EQ(h1_chunked_decode(&c, in + 13, sizeof(in) - 14, &consumed, &data), GH_OK);
    CHECK_EQ(consumed, 7);
    CHECK_EQ(data.len, 0);
    CHECK_EQ(h1_chunked_decode(&c, in, sizeof(in) - 1, &consumed, &data), GH_OK);
    CHECK_EQ(consumed, 0);

    h1_chunked_init(&c, max_line, max_trailer);
    CHECK_EQ(h1_chunked_decode(&c, (const uint8_t *)"z\r\n", 3, &consumed, &data), GH_EPROTO);
    CHECK_EQ(h1_chunked_decode(&c, in, sizeof(in) - 1, &consumed, &data), GH_EPROTO);
    CHECK_EQ(consumed, 0);
    CHECK_EQ(h1_chunked_decode(&c, NULL, 0, &consumed, &data), GH_EPROTO);

    /* a chunk of 2^64-1 bytes is legal framing; the caller's body limit stops it */
    h1_chunked_init(&c, max_line, max_trailer);
    CHECK_EQ(h1_chunked_decode(&c, (const uint8_t *)"ffffffffffffffff\r\nab", 20, &consumed, &data),
             GH_AGAIN);
    CHECK_EQ(data.len, 2);
    CHECK_HEX_EQ(c.remaining, UINT64_MAX - 2);
}

int
main(void)
{
    test_cases();
    test_call_contract();
    return check_done("http/chunked");
}
