// SPDX-License-Identifier: MIT
// Unit tests for src/http/h1_write.c: status lines, fields, chunk headers, reason
// phrases and HTTP-dates.
#include <gatehouse/error.h>

#include "harness/check.h"
#include "http/h1.h"

static void
check_buf(const struct buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0) {
        fprintf(stderr, "got \"%.*s\", want \"%s\"\n", (int)b->len, (const char *)b->data, want);
        check_failures++;
    }
}

static const struct {
    int status;
    const char *reason;
} reason_cases[] = {
    {100, "Continue"},     /* RFC 9110 15.2.1 */
    {200, "OK"},           /* RFC 9110 15.3.1 */
    {204, "No Content"},   /* RFC 9110 15.3.5 */
    {304, "Not Modified"}, /* RFC 9110 15.4.5 */
    {401, "Unauthorized"}, /* RFC 9110 15.5.2 */
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {431, "Request Header Fields Too Large"}, /* RFC 6585 5 */
    {505, "HTTP Version Not Supported"},
    {511, "Network Authentication Required"}, /* RFC 6585 6 */
    {299, "Unknown"},
    {0, "Unknown"},
};

static void
test_status(void)
{
    struct buf b;

    for (size_t i = 0; i < sizeof(reason_cases) / sizeof(reason_cases[0]); i++)
        CHECK_STR_EQ(h1_status_reason(reason_cases[i].status), reason_cases[i].reason);
    buf_init(&b, 1024);
    CHECK_EQ(h1_write_status_line(&b, 200), GH_OK);
    CHECK_EQ(h1_write_status_line(&b, 431), GH_OK);
    CHECK_EQ(h1_write_status_line(&b, 299), GH_OK);
    check_buf(&b, "HTTP/1.1 200 OK\r\nHTTP/1.1 431 Request Header Fields Too Large\r\n"
                  "HTTP/1.1 299 Unknown\r\n");
    CHECK_EQ(h1_write_status_line(&b, 99), GH_EINVAL); /* RFC 9110 15: 3 digits, 1xx-5xx */
    CHECK_EQ(h1_write_status_line(&b, 600), GH_EINVAL);
    buf_free(&b);
    buf_init(&b, 10);
    CHECK_EQ(h1_write_status_line(&b, 200), GH_ELIMIT);
    CHECK_EQ(b.len, 0);
    buf_free(&b);
}

static const struct {
    const char *rule, *name, *value;
    int want_err;
} header_cases[] = {
    {"RFC 9110 5.5 plain field", "Content-Type", "text/plain", GH_OK},
    {"RFC 9110 5.5 empty value", "X-Empty", "", GH_OK},
    {"RFC 9110 5.5 obs-text value", "X-Latin", "caf\xc3\xa9", GH_OK},
    {"RFC 9110 5.5 HTAB in value", "X-Tab", "a\tb", GH_OK},
    {"RFC 9112 2.2 CR in value (response splitting)", "X", "a\rb", GH_EINVAL},
    {"RFC 9112 2.2 LF in value (response splitting)", "X", "a\r\nSet-Cookie: x", GH_EINVAL},
    {"RFC 9110 5.5 other CTL in value", "X", "a\x7f", GH_EINVAL},
    {"RFC 9110 5.1 empty name", "", "v", GH_EINVAL},
    {"RFC 9110 5.1 space in name", "X Y", "v", GH_EINVAL},
    {"RFC 9110 5.1 colon in name", "X:", "v", GH_EINVAL},
    {"RFC 9110 5.1 LF in name", "X\n", "v", GH_EINVAL},
};

static void
test_headers(void)
{
    struct buf b;

    buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        size_t before = b.len;
        int err = h1_write_header(&b, slice_cstr(header_cases[i].name),
                                  slice_cstr(header_cases[i].value));
        if (err != header_cases[i].want_err)
            fprintf(stderr, "row: %s\n", header_cases[i].rule);
        CHECK_EQ(err, header_cases[i].want_err);
        if (err != GH_OK)
            CHECK_EQ(b.len, before);
    }
    check_buf(&b,
              "Content-Type: text/plain\r\nX-Empty: \r\nX-Latin: caf\xc3\xa9\r\nX-Tab: a\tb\r\n");
    /* NUL inside the slice */
    CHECK_EQ(h1_write_header(&b, SLICE_LIT("X"), SLICE_LIT("a\0b")), GH_EINVAL);
    buf_free(&b);
    buf_init(&b, 8);
    CHECK_EQ(h1_write_header(&b, SLICE_LIT("Abc"), SLICE_LIT("defg")), GH_ELIMIT);
    CHECK_EQ(b.len, 0); /* nothing half-written */
    buf_free(&b);
}

static void
test_chunk_header(void)
{
    struct buf b;

    buf_init(&b, 1024);
    CHECK_EQ(h1_write_chunk_header(&b, 1), GH_OK);
    CHECK_EQ(h1_write_chunk_header(&b, 255), GH_OK);
    CHECK_EQ(h1_write_chunk_header(&b, 4096), GH_OK);
    CHECK_EQ(h1_write_chunk_header(&b, SIZE_MAX), GH_OK);
    CHECK_EQ(h1_write_chunk_header(&b, 0), GH_OK); /* RFC 9112 7.1 last-chunk + empty trailers */
    check_buf(&b, "1\r\nff\r\n1000\r\nffffffffffffffff\r\n0\r\n\r\n");
    buf_free(&b);

    /* what we write, the decoder reads (RFC 9112 7.1) */
    struct h1_chunked c;
    size_t consumed;
    struct slice data;
    buf_init(&b, 1024);
    CHECK_EQ(h1_write_chunk_header(&b, 3), GH_OK);
    CHECK_EQ(buf_append(&b, "abc\r\n", 5), GH_OK);
    CHECK_EQ(h1_write_chunk_header(&b, 0), GH_OK);
    h1_chunked_init(&c, 64, 64);
    CHECK_EQ(h1_chunked_decode(&c, b.data, b.len, &consumed, &data), GH_AGAIN);
    CHECK(data.len == 3 && memcmp(data.ptr, "abc", 3) == 0);
    CHECK_EQ(h1_chunked_decode(&c, b.data + consumed, b.len - consumed, &consumed, &data), GH_OK);
    buf_free(&b);
}

static const struct {
    const char *rule, *text;
    int want_err;
    int64_t want_t;
} date_cases[] = {
    {"RFC 9110 5.6.7 IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", GH_OK, 784111777},
    {"RFC 9110 5.6.7 rfc850-date", "Sunday, 06-Nov-94 08:49:37 GMT", GH_OK, 784111777},
    {"RFC 9110 5.6.7 asctime-date", "Sun Nov  6 08:49:37 1994", GH_OK, 784111777},
    {"RFC 9110 5.6.7 asctime two-digit day", "Thu Jan 01 00:00:00 1970", GH_OK, 0},
    {"RFC 9110 5.6.7 epoch", "Thu, 01 Jan 1970 00:00:00 GMT", GH_OK, 0},
    {"RFC 9110 5.6.7 leap day", "Tue, 29 Feb 2000 12:00:00 GMT", GH_OK, 951825600},
    {"RFC 9110 5.6.7 before the epoch", "Wed, 31 Dec 1969 23:59:59 GMT", GH_OK, -1},
    {"RFC 9110 5.6.7 year 9999", "Fri, 31 Dec 9999 23:59:59 GMT", GH_OK, 253402300799LL},
    {"RFC 9110 5.6.7 no leap day in 1900", "Thu, 29 Feb 1900 00:00:00 GMT", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 day 32", "Sun, 32 Jan 2023 00:00:00 GMT", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 hour 24", "Sun, 01 Jan 2023 24:00:00 GMT", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 GMT required", "Sun, 06 Nov 1994 08:49:37 UTC", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 names are case-sensitive", "sun, 06 Nov 1994 08:49:37 GMT", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 month name", "Sun, 06 Nob 1994 08:49:37 GMT", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 trailing byte", "Sun, 06 Nov 1994 08:49:37 GMT ", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 short name in rfc850", "Sun, 06-Nov-94 08:49:37 GMT", GH_EPROTO, 0},
    {"RFC 9110 5.6.7 empty", "", GH_EPROTO, 0},
};

static void
test_dates(void)
{
    char out[30];
    time_t t;

    for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
        t = 12345;
        int err = h1_date_parse(slice_cstr(date_cases[i].text), &t);
        if (err != date_cases[i].want_err || (err == GH_OK && t != date_cases[i].want_t))
            fprintf(stderr, "row: %s: %d %lld\n", date_cases[i].rule, err, (long long)t);
        CHECK_EQ(err, date_cases[i].want_err);
        if (err == GH_OK)
            CHECK_EQ(t, date_cases[i].want_t);
    }
    CHECK_EQ(h1_date_format(784111777, out), 29);
    CHECK_STR_EQ(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    h1_date_format(-1, out);
    CHECK_STR_EQ(out, "Wed, 31 Dec 1969 23:59:59 GMT");
    h1_date_format(951825600, out);
    CHECK_STR_EQ(out, "Tue, 29 Feb 2000 12:00:00 GMT");
    h1_date_format((time_t)INT64_MAX, out); /* clamped to what 4DIGIT years hold */
    CHECK_STR_EQ(out, "Fri, 31 Dec 9999 23:59:59 GMT");
    /* round trip, one day and 7 seconds apart, across 1900..2400 */
    for (int64_t s = -2208988800LL; s < 13569465600LL; s += 86407) {
        h1_date_format((time_t)s, out);
        if (h1_date_parse(slice_make(out, 29), &t) != GH_OK || t != s) {
            fprintf(stderr, "round trip %lld: %s\n", (long long)s, out);
            check_failures++;
            break;
        }
    }
}

int
main(void)
{
    test_status();
    test_headers();
    test_chunk_header();
    test_dates();
    return check_done("http/h1_write");
}
