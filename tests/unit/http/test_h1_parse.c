// SPDX-License-Identifier: MIT
// Unit tests for src/http/h1_parse.c: request and response heads, framing, limits,
// incremental feeding and pipelining. Each row cites the rule it checks.
#include <stdlib.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "http/h1.h"

#define HDR_CAP 16
/* a literal with embedded NULs, and its length */
#define BIN(s) s, sizeof(s) - 1

static const struct h1_limits limits = {
    .max_request_line_bytes = 256,
    .max_head_bytes = 1024,
    .max_header_count = 12,
};

/* Rows that only check the outcome. len 0 means strlen(input). */
static const struct {
    const char *rule, *input;
    size_t len;
    int want_err, want_status;
} outcome_cases[] = {
    /* completeness */
    {"RFC 9112 2.1 head not finished", "GET / HTTP/1.1\r\nHost: a\r\n", 0, GH_AGAIN, 0},
    {"RFC 9112 2.1 empty input", "", 0, GH_AGAIN, 0},
    {"RFC 9112 2.2 only empty lines so far", "\r\n\r\n", 0, GH_AGAIN, 0},
    {"RFC 9112 2.2 CR of the final CRLF missing its LF", "GET / HTTP/1.1\r\nHost: a\r\n\r", 0,
     GH_AGAIN, 0},
    /* request line, RFC 9112 3 */
    {"RFC 9112 3 method must be a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3 empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3 two SP after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3 HTAB as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3 trailing SP after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 3 missing version", "GET /\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3 space inside target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 3986 3.5 fragment never sent", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 3986 2.1 bad pct-encoding", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 3986 2.1 truncated pct-encoding", "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 3986 2 non-ASCII in target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 2.2 bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 2.2 NUL in request line", BIN("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), GH_EPROTO,
     400},
    /* version, RFC 9112 2.3 */
    {"RFC 9112 2.3 HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, GH_EUNSUPPORTED, 505},
    {"RFC 9112 2.3 HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 0, GH_EUNSUPPORTED, 505},
    {"RFC 9112 2.3 HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, GH_EUNSUPPORTED, 505},
    {"RFC 9112 2.3 HTTP/1.x malformed", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 2.3 HTTP/1.10 malformed", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 2.3 HTTP-name is case-sensitive", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 2.3 HTTP/2 without minor", "GET / HTTP/2\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    /* request-target forms, RFC 9112 3.2 */
    {"RFC 9112 3.2.4 asterisk-form only for OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 3.2.3 authority-form only for CONNECT",
     "GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3.2.3 CONNECT needs authority-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9110 9.3.6 CONNECT needs a port", "CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9110 9.3.6 CONNECT empty port", "CONNECT a.example: HTTP/1.1\r\nHost: a\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 3.2 target in no form", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3.2.2 absolute-form needs //authority", "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9110 4.2.4 userinfo refused", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 3.2.2 empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    /* Host, RFC 9112 3.2 */
    {"RFC 9112 3.2 HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3.2 two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 3.2 two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 3.2 invalid Host value", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 3.2 Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 3986 3.2.3 Host port not digits", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 3986 3.2.2 unclosed IP-literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 0, GH_EPROTO,
     400},
    /* field syntax, RFC 9112 5 */
    {"RFC 9112 5.1 space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 5.1 tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 5.2 obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n c\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 5.2 obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n\tc\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 2.2 whitespace before first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 5 field without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 5 empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9110 5.1 field name not a token", "GET / HTTP/1.1\r\nHost: a\r\nA(b: v\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 2.2 bare CR in field value", "GET / HTTP/1.1\r\nHost: a\r\nA: b\rc\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 2.2 bare CR ends a field line", "GET / HTTP/1.1\r\nHost: a\r\nA: b\r\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 2.2 CR CR LF as the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9110 5.5 NUL in field value", BIN("GET / HTTP/1.1\r\nHost: a\r\nA: b\0c\r\n\r\n"),
     GH_EPROTO, 400},
    {"RFC 9110 5.5 DEL in field value", "GET / HTTP/1.1\r\nHost: a\r\nA: b\x7f\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9110 5.5 ESC in field value", "GET / HTTP/1.1\r\nHost: a\r\nA: \x1b[0m\r\n\r\n", 0,
     GH_EPROTO, 400},
    /* Content-Length, RFC 9110 8.6 / RFC 9112 6.3 */
    {"RFC 9112 6.3 duplicate Content-Length, equal",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 6.3 duplicate Content-Length, different",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9110 8.6 Content-Length list",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9110 8.6 Content-Length sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
     0, GH_EPROTO, 400},
    {"RFC 9110 8.6 Content-Length negative",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9110 8.6 Content-Length hex",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9110 8.6 Content-Length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
     0, GH_EPROTO, 400},
    {"RFC 9110 8.6 Content-Length inner space",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9110 8.6 Content-Length overflows 2^64",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", 0, GH_EPROTO,
     400},
    /* Transfer-Encoding, RFC 9112 6.1 / 6.3 */
    {"RFC 9112 6.1 Content-Length with Transfer-Encoding",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 6.1 Transfer-Encoding before Content-Length",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 0,
     GH_EPROTO, 400},
    {"RFC 9112 6.1 unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
     0, GH_EUNSUPPORTED, 501},
    {"RFC 9112 6.1 unknown coding before chunked",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, GH_EUNSUPPORTED,
     501},
    {"RFC 9112 6.1 unknown coding on a second line",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
     0, GH_EUNSUPPORTED, 501},
    {"RFC 9112 6.3 chunked not last",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 6.1 chunked twice",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 0, GH_EPROTO,
     400},
    {"RFC 9112 6.1 chunked twice across lines",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
     "chunked\r\n\r\n",
     0, GH_EPROTO, 400},
    {"RFC 9112 6.1 chunked with a parameter",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 6.1 empty Transfer-Encoding",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 6.1 Transfer-Encoding not a token",
     "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 0, GH_EPROTO, 400},
    {"RFC 9112 6.1 Transfer-Encoding in HTTP/1.0",
     "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, GH_EPROTO, 400},
};

static void
test_outcomes(void)
{
    for (size_t i = 0; i < sizeof(outcome_cases) / sizeof(outcome_cases[0]); i++) {
        struct h1_header headers[HDR_CAP];
        struct h1_request req = {.headers = headers, .header_capacity = HDR_CAP};
        size_t len = outcome_cases[i].len ? outcome_cases[i].len : strlen(outcome_cases[i].input);
        /* an exact-size heap copy, so ASan catches any read past the input */
        char *in = malloc(len + 1);
        size_t consumed = 99;
        int status = -1;

        memcpy(in, outcome_cases[i].input, len);
        int err = h1_parse_request(in, len, &limits, &req, &consumed, &status);
        if (err != outcome_cases[i].want_err || status != outcome_cases[i].want_status)
            fprintf(stderr, "row: %s\n", outcome_cases[i].rule);
        CHECK_EQ(err, outcome_cases[i].want_err);
        CHECK_EQ(status, outcome_cases[i].want_status);
        if (err != GH_OK)
            CHECK_EQ(consumed, 0);
        free(in);
    }
}

/* Rows that parse and check the fields. */
static const struct {
    const char *rule, *input;
    const char *method, *target, *path, *query, *authority, *host;
    int minor;
    enum h1_target_form form;
    enum h1_body_kind body;
    uint64_t content_length;
    bool keep_alive, expect_continue;
    size_t header_count;
} field_cases[] = {
    {"RFC 9112 3.2.1 origin-form with query",
     "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n", "GET", "/a/b?x=1&y=%20", "/a/b",
     "x=1&y=%20", "", "example.com", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 3.2.1 query containing ?", "GET /?a?b HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "/?a?b",
     "/", "a?b", "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 3.2.2 absolute-form",
     "GET http://a.example:8080/p?q HTTP/1.1\r\nHost: ignored\r\n\r\n", "GET",
     "http://a.example:8080/p?q", "/p", "q", "a.example:8080", "ignored", 1, H1_TARGET_ABSOLUTE,
     H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 3.2.2 absolute-form without path",
     "GET https://[::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", "GET", "https://[::1]:8443", "",
     "", "[::1]:8443", "[::1]:8443", 1, H1_TARGET_ABSOLUTE, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 3.2.3 authority-form",
     "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "CONNECT", "a.example:443",
     "", "", "a.example:443", "a.example:443", 1, H1_TARGET_AUTHORITY, H1_BODY_NONE, 0, true, false,
     1},
    {"RFC 9112 3.2.4 asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", "*",
     "", "", "h", 1, H1_TARGET_ASTERISK, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9110 9.1 extension method", "PROPFIND /d HTTP/1.1\r\nHost: h\r\nDepth: 1\r\n\r\n",
     "PROPFIND", "/d", "/d", "", "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 2},
    {"RFC 9112 2.2 leading empty lines skipped", "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
     "GET", "/", "/", "", "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 2.2 bare LF line endings", "GET / HTTP/1.1\nHost: h\nA: b\n\n", "GET", "/", "/", "",
     "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 2},
    {"RFC 9112 2.2 mixed CRLF and LF", "GET / HTTP/1.1\r\nHost: h\n\r\n", "GET", "/", "/", "", "",
     "h", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9110 5.5 OWS trimmed, inner SP kept",
     "GET / HTTP/1.1\r\nHost:h \r\nX:  a \t b\t \r\n\r\n", "GET", "/", "/", "", "", "h", 1,
     H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 2},
    {"RFC 9110 5.5 obs-text allowed in values",
     "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", "GET", "/", "/", "", "", "h", 1,
     H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 2},
    {"RFC 9110 7.2 empty Host allowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET", "/", "/", "", "",
     "", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 9.3 HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", "GET", "/", "/", "", "",
     "", 0, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, false, false, 0},
    {"RFC 9112 9.3 HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET",
     "/", "/", "", "", "", 0, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 1},
    {"RFC 9112 9.6 close in a token list",
     "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n", "GET", "/", "/", "", "", "h", 1,
     H1_TARGET_ORIGIN, H1_BODY_NONE, 0, false, false, 2},
    {"RFC 9112 9.6 close on a second Connection line",
     "GET / HTTP/1.1\r\nHost: h\r\nConnection: x\r\nConnection: close\r\n\r\n", "GET", "/", "/", "",
     "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_NONE, 0, false, false, 3},
    {"RFC 9112 9.3 close wins over keep-alive",
     "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", "/", "", "", "", 0,
     H1_TARGET_ORIGIN, H1_BODY_NONE, 0, false, false, 1},
    {"RFC 9112 9.3 close is not a substring match",
     "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", "GET", "/", "/", "", "", "h", 1,
     H1_TARGET_ORIGIN, H1_BODY_NONE, 0, true, false, 2},
    {"RFC 9110 10.1.1 Expect: 100-continue",
     "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n", "PUT", "/",
     "/", "", "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_LENGTH, 10, true, true, 3},
    {"RFC 9110 10.1.1 100-continue ignored in HTTP/1.0",
     "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", "PUT", "/", "/", "", "",
     "", 0, H1_TARGET_ORIGIN, H1_BODY_LENGTH, 1, false, false, 2},
    {"RFC 9110 8.6 Content-Length max uint64",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n", "POST", "/", "/",
     "", "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_LENGTH, UINT64_MAX, true, false, 2},
    {"RFC 9110 8.6 Content-Length leading zeros",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n", "POST", "/", "/", "", "", "h", 1,
     H1_TARGET_ORIGIN, H1_BODY_LENGTH, 7, true, false, 2},
    {"RFC 9110 8.6 Content-Length: 0", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
     "POST", "/", "/", "", "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_LENGTH, 0, true, false, 2},
    {"RFC 9112 7.1 chunked, case-insensitive",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", "POST", "/", "/", "", "",
     "h", 1, H1_TARGET_ORIGIN, H1_BODY_CHUNKED, 0, true, false, 2},
    {"RFC 9110 5.6.1 empty list elements ignored",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n", "POST", "/", "/", "",
     "", "h", 1, H1_TARGET_ORIGIN, H1_BODY_CHUNKED, 0, true, false, 2},
};

static bool
slice_is(struct slice s, const char *want)
{
    return slice_eq(s, slice_cstr(want));
}

static void
test_fields(void)
{
    for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
        struct h1_header headers[HDR_CAP];
        struct h1_request req = {.headers = headers, .header_capacity = HDR_CAP};
        size_t len = strlen(field_cases[i].input);
        size_t consumed = 0;
        int status = -1;
        int err = h1_parse_request(field_cases[i].input, len, &limits, &req, &consumed, &status);

        if (err != GH_OK)
            fprintf(stderr, "row: %s\n", field_cases[i].rule);
        CHECK_EQ(err, GH_OK);
        CHECK_EQ(status, 0);
        CHECK_EQ(consumed, len);
        if (!slice_is(req.method, field_cases[i].method) ||
            !slice_is(req.target, field_cases[i].target) ||
            !slice_is(req.path, field_cases[i].path) ||
            !slice_is(req.query, field_cases[i].query) ||
            !slice_is(req.authority, field_cases[i].authority) ||
            !slice_is(req.host, field_cases[i].host) || req.minor_version != field_cases[i].minor ||
            req.target_form != field_cases[i].form || req.body_kind != field_cases[i].body ||
            req.content_length != field_cases[i].content_length ||
            req.keep_alive != field_cases[i].keep_alive ||
            req.expect_continue != field_cases[i].expect_continue ||
            req.header_count != field_cases[i].header_count) {
            fprintf(stderr, "row: %s: parsed fields differ\n", field_cases[i].rule);
            check_failures++;
        }
    }
}

static void
test_header_values(void)
{
    static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A:  one two \r\nx-b:\r\n\r\n";
    struct h1_header headers[HDR_CAP];
    struct h1_request req = {.headers = headers, .header_capacity = HDR_CAP};
    size_t consumed;
    int status;

    CHECK_EQ(h1_parse_request(in, sizeof(in) - 1, &limits, &req, &consumed, &status), GH_OK);
    CHECK_EQ(req.header_count, 3);
    const struct h1_header *h = h1_header_find(headers, req.header_count, SLICE_LIT("x-a"));
    CHECK(h != NULL && slice_is(h->name, "X-A") && slice_is(h->value, "one two"));
    h = h1_header_find(headers, req.header_count, SLICE_LIT("X-B"));
    CHECK(h != NULL && h->value.len == 0);
    CHECK(h1_header_find(headers, req.header_count, SLICE_LIT("x-c")) == NULL);
}

/* Feeding a request one byte more at a time gives GH_AGAIN until the last byte,
 * then the same result as parsing it whole (RFC 9112 2.1: the head ends with the
 * empty line, wherever the reads split it). */
static void
test_byte_at_a_time(void)
{
    static const char *const inputs[] = {
        ("POST /upload?x=1 HTTP/1.1\r\nHost: h:80\r\nContent-Length: 12\r\nExpect: "
         "100-continue\r\nConnection: close\r\n\r\n"),
        "\r\n\r\nGET / HTTP/1.0\nConnection: keep-alive\n\n",
        "GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\n\r\n", /* ends in 400 */
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",               /* ends in 505 */
    };
    for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
        size_t len = strlen(inputs[k]);
        struct h1_header whole_h[HDR_CAP], part_h[HDR_CAP];
        struct h1_request whole = {.headers = whole_h, .header_capacity = HDR_CAP};
        struct h1_request part = {.headers = part_h, .header_capacity = HDR_CAP};
        size_t whole_consumed, consumed;
        int whole_status, status;
        int whole_err =
            h1_parse_request(inputs[k], len, &limits, &whole, &whole_consumed, &whole_status);

        for (size_t n = 0; n < len; n++) {
            char *in = malloc(n + 1);
            memcpy(in, inputs[k], n);
            int err = h1_parse_request(in, n, &limits, &part, &consumed, &status);
            free(in);
            if (err != GH_AGAIN) {
                fprintf(stderr, "input %zu: %d after %zu of %zu bytes\n", k, err, n, len);
                check_failures++;
                break;
            }
        }
        CHECK_EQ(h1_parse_request(inputs[k], len, &limits, &part, &consumed, &status), whole_err);
        CHECK_EQ(status, whole_status);
        CHECK_EQ(consumed, whole_consumed);
        if (whole_err == GH_OK) {
            CHECK(slice_eq(part.path, whole.path) && slice_eq(part.query, whole.query));
            CHECK_EQ(part.header_count, whole.header_count);
            CHECK_EQ(part.content_length, whole.content_length);
            CHECK_EQ(part.keep_alive, whole.keep_alive);
            CHECK_EQ(part.expect_continue, whole.expect_continue);
        }
    }
}

/* RFC 9112 9.3.2: pipelined requests; consumed_out ends exactly at each head. */
static void
test_pipelined(void)
{
    static const char in[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                             "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                             "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *const paths[] = {"/1", "/2", "/3"};
    struct h1_header headers[HDR_CAP];
    struct h1_request req = {.headers = headers, .header_capacity = HDR_CAP};
    size_t off = 0, consumed;
    int status;

    for (int i = 0; i < 3; i++) {
        CHECK_EQ(
            h1_parse_request(in + off, sizeof(in) - 1 - off, &limits, &req, &consumed, &status),
            GH_OK);
        CHECK(slice_is(req.path, paths[i]));
        off += consumed;
        if (req.body_kind == H1_BODY_LENGTH) {
            CHECK_EQ(req.content_length, 3);
            CHECK_MEM_EQ(in + off, "abc", 3);
            off += req.content_length;
        }
    }
    CHECK_EQ(off, sizeof(in) - 1);
    CHECK_EQ(h1_parse_request(in + off, 0, &limits, &req, &consumed, &status), GH_AGAIN);
}

/* Builds "GET /aaa… HTTP/1.1" whose request line is exactly line_len bytes. */
static size_t
make_request(char *out, size_t line_len, size_t head_len, size_t fields)
{
    size_t n = 0;

    memcpy(out, "GET /", 5);
    n = 5;
    while (n < line_len - 9)
        out[n++] = 'a';
    memcpy(out + n, " HTTP/1.1\r\nHost: h\r\n", 20);
    n += 20;
    for (size_t i = 1; i < fields; i++) {
        memcpy(out + n, "X: y\r\n", 6);
        n += 6;
    }
    if (head_len > 0) {
        /* pad with one field so the head is exactly head_len bytes */
        memcpy(out + n, "P: ", 3);
        n += 3;
        while (n < head_len - 4)
            out[n++] = 'p';
        memcpy(out + n, "\r\n", 2);
        n += 2;
    }
    memcpy(out + n, "\r\n", 2);
    return n + 2;
}

static void
check_parse(const char *in, size_t len, int want_err, int want_status, const char *rule)
{
    struct h1_header headers[HDR_CAP];
    struct h1_request req = {.headers = headers, .header_capacity = HDR_CAP};
    size_t consumed;
    int status;
    char *copy = malloc(len);

    memcpy(copy, in, len);
    int err = h1_parse_request(copy, len, &limits, &req, &consumed, &status);
    free(copy);
    if (err != want_err || status != want_status) {
        fprintf(stderr, "%s: got %d/%d, want %d/%d\n", rule, err, status, want_err, want_status);
        check_failures++;
    }
}

static void
test_limits(void)
{
    char in[4096];
    size_t len;

    /* RFC 9112 3 / RFC 9110 15.5.15: request line at the limit, and one past */
    len = make_request(in, limits.max_request_line_bytes, 0, 1);
    check_parse(in, len, GH_OK, 0, "request line at limit");
    len = make_request(in, limits.max_request_line_bytes + 1, 0, 1);
    check_parse(in, len, GH_ELIMIT, 414, "request line one past limit");
    /* 414 as soon as the bytes prove it, before the line ends */
    check_parse(in, limits.max_request_line_bytes + 1, GH_ELIMIT, 414, "long line, incomplete");
    check_parse(in, limits.max_request_line_bytes, GH_AGAIN, 0, "line at limit, incomplete");
    /* a CR as the last byte so far may be the line's own CR */
    len = make_request(in, limits.max_request_line_bytes, 0, 1);
    check_parse(in, limits.max_request_line_bytes + 1, GH_AGAIN, 0, "line at limit + CR");

    /* RFC 6585 5: head at the limit, and one past */
    len = make_request(in, 20, limits.max_head_bytes, 1);
    CHECK_EQ(len, limits.max_head_bytes);
    check_parse(in, len, GH_OK, 0, "head at limit");
    len = make_request(in, 20, limits.max_head_bytes + 1, 1);
    check_parse(in, len, GH_ELIMIT, 431, "head one past limit");
    check_parse(in, limits.max_head_bytes, GH_ELIMIT, 431, "head one past limit, incomplete");
    check_parse(in, limits.max_head_bytes - 1, GH_AGAIN, 0, "head below limit, incomplete");
    /* leading empty lines count towards the head */
    memcpy(in, "\r\n", 2);
    len = 2 + make_request(in + 2, 20, limits.max_head_bytes - 2, 1);
    check_parse(in, len, GH_OK, 0, "head with CRLF prefix at limit");
    len = 2 + make_request(in + 2, 20, limits.max_head_bytes - 1, 1);
    check_parse(in, len, GH_ELIMIT, 431, "head with CRLF prefix one past limit");

    /* RFC 6585 5: field count at the limit, and one past */
    len = make_request(in, 20, 0, limits.max_header_count);
    check_parse(in, len, GH_OK, 0, "fields at limit");
    len = make_request(in, 20, 0, limits.max_header_count + 1);
    check_parse(in, len, GH_ELIMIT, 431, "fields one past limit");

    /* the caller's array bounds the count too */
    struct h1_header headers[2];
    struct h1_request req = {.headers = headers, .header_capacity = 2};
    size_t consumed;
    int status;
    len = make_request(in, 20, 0, 2);
    CHECK_EQ(h1_parse_request(in, len, &limits, &req, &consumed, &status), GH_OK);
    len = make_request(in, 20, 0, 3);
    CHECK_EQ(h1_parse_request(in, len, &limits, &req, &consumed, &status), GH_ELIMIT);
    CHECK_EQ(status, 431);
}

static const struct {
    const char *rule, *input;
    int want_err, want_status, status;
    enum h1_body_kind body;
    uint64_t content_length;
    bool keep_alive;
} response_cases[] = {
    {"RFC 9112 4 status line", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", GH_OK, 0, 200,
     H1_BODY_LENGTH, 5, true},
    {"RFC 9112 4 empty reason", "HTTP/1.1 204 \r\n\r\n", GH_OK, 0, 204, H1_BODY_CLOSE, 0, true},
    {"RFC 9112 4 missing SP after code tolerated", "HTTP/1.1 304\r\n\r\n", GH_OK, 0, 304,
     H1_BODY_CLOSE, 0, true},
    {"RFC 9112 6.3 chunked response", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
     GH_OK, 0, 200, H1_BODY_CHUNKED, 0, true},
    {"RFC 9112 6.3 read until close", "HTTP/1.0 200 OK\r\n\r\n", GH_OK, 0, 200, H1_BODY_CLOSE, 0,
     false},
    {"RFC 9112 9.3 response Connection: close",
     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", GH_OK, 0, 200,
     H1_BODY_LENGTH, 0, false},
    {"RFC 9112 4 status code 3 digits", "HTTP/1.1 20 OK\r\n\r\n", GH_EPROTO, 502, 0, 0, 0, false},
    {"RFC 9110 15 status below 100", "HTTP/1.1 099 X\r\n\r\n", GH_EPROTO, 502, 0, 0, 0, false},
    {"RFC 9110 15 status above 599", "HTTP/1.1 600 X\r\n\r\n", GH_EPROTO, 502, 0, 0, 0, false},
    {"RFC 9112 2.3 response version 2.0", "HTTP/2.0 200 OK\r\n\r\n", GH_EUNSUPPORTED, 502, 0, 0, 0,
     false},
    {"RFC 9112 6.3 duplicate Content-Length",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", GH_EPROTO, 502, 0, 0, 0,
     false},
    {"RFC 9112 6.3 Content-Length with chunked",
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", GH_EPROTO, 502,
     0, 0, 0, false},
    {"RFC 9112 6.1 unknown coding in response",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", GH_EUNSUPPORTED, 502, 0, 0, 0,
     false},
    {"RFC 9112 5.2 obs-fold in response", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", GH_EPROTO, 502,
     0, 0, 0, false},
    {"RFC 9112 4 CTL in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", GH_EPROTO, 502, 0, 0, 0, false},
    {"RFC 9112 4 response not finished", "HTTP/1.1 200 OK\r\n", GH_AGAIN, 0, 0, 0, 0, false},
    {"RFC 9112 4 no empty lines skipped in responses", "\r\nHTTP/1.1 200 OK\r\n\r\n", GH_EPROTO,
     502, 0, 0, 0, false},
};

static void
test_responses(void)
{
    for (size_t i = 0; i < sizeof(response_cases) / sizeof(response_cases[0]); i++) {
        struct h1_header headers[HDR_CAP];
        struct h1_response resp = {.headers = headers, .header_capacity = HDR_CAP};
        size_t len = strlen(response_cases[i].input);
        size_t consumed;
        int status;
        int err =
            h1_parse_response(response_cases[i].input, len, &limits, &resp, &consumed, &status);

        if (err != response_cases[i].want_err || status != response_cases[i].want_status)
            fprintf(stderr, "row: %s\n", response_cases[i].rule);
        CHECK_EQ(err, response_cases[i].want_err);
        CHECK_EQ(status, response_cases[i].want_status);
        if (err != GH_OK)
            continue;
        CHECK_EQ(consumed, len);
        CHECK_EQ(resp.status, response_cases[i].status);
        CHECK_EQ(resp.body_kind, response_cases[i].body);
        CHECK_EQ(resp.content_length, response_cases[i].content_length);
        CHECK_EQ(resp.keep_alive, response_cases[i].keep_alive);
    }

    /* the reason phrase and byte-at-a-time feeding */
    static const char in[] = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\n"
                             "Content-Length: 0\r\n\r\n";
    struct h1_header headers[HDR_CAP];
    struct h1_response resp = {.headers = headers, .header_capacity = HDR_CAP};
    size_t consumed;
    int status;
    for (size_t n = 0; n < sizeof(in) - 1; n++)
        CHECK_EQ(h1_parse_response(in, n, &limits, &resp, &consumed, &status), GH_AGAIN);
    CHECK_EQ(h1_parse_response(in, sizeof(in) - 1, &limits, &resp, &consumed, &status), GH_OK);
    CHECK(slice_is(resp.reason, "Unauthorized"));
    CHECK_EQ(resp.header_count, 2);
    CHECK_EQ(consumed, sizeof(in) - 1);
}

int
main(void)
{
    test_outcomes();
    test_fields();
    test_header_values();
    test_byte_at_a_time();
    test_pipelined();
    test_limits();
    test_responses();
    return check_done("http/h1_parse");
}
