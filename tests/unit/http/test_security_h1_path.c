// SPDX-License-Identifier: MIT
// Security regression (review SEC-6): request paths that a backend resolves to
// another path than the one sent are refused with 400, so that location
// prefix matching (and the authentication it selects) sees what the
// application sees. Integration test: tests/integration/test_security_path.py.
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "http/h1.h"

static const struct h1_limits limits = {
    .max_request_line_bytes = 512,
    .max_head_bytes = 2048,
    .max_header_count = 8,
};

static const struct {
    const char *rule, *target;
    int want_status; /* 0: accepted */
} cases[] = {
    {"plain path", "/admin/x", 0},
    {"trailing slash", "/admin/", 0},
    {"root", "/", 0},
    {"query may hold anything", "/a?x=/../%2e%2e//", 0},
    {"dots inside a name", "/a/..b/c.d/.e/...", 0},
    {"reserved octet stays encoded", "/a%20b/%3F/%C3%A9", 0},
    {"parameter", "/a;jsessionid=1/b", 0},
    {"absolute-form", "http://h/admin/x", 0},
    {"RFC 3986 5.2.4 dot-dot segment", "/pub/../admin/x", 400},
    {"RFC 3986 5.2.4 trailing dot-dot", "/pub/..", 400},
    {"RFC 3986 5.2.4 dot segment", "/./admin/x", 400},
    {"RFC 3986 5.2.4 trailing dot", "/admin/.", 400},
    {"RFC 3986 2.3 encoded dots", "/pub/%2e%2e/admin/x", 400},
    {"RFC 3986 2.3 encoded dots, upper case", "/pub/%2E%2E/admin/x", 400},
    {"RFC 3986 2.3 half-encoded dots", "/pub/.%2e/admin/x", 400},
    {"RFC 3986 6.2.2.2 encoded letter", "/%61dmin/x", 400},
    {"RFC 3986 6.2.2.2 encoded tilde", "/%7Ealice/", 400},
    {"encoded slash", "/admin%2fx", 400},
    {"encoded slash after dots", "/pub/..%2fadmin/x", 400},
    {"encoded backslash", "/pub/..%5cadmin/x", 400},
    {"encoded NUL", "/admin/x%00.html", 400},
    {"empty segment", "//admin/x", 400},
    {"empty segment inside", "/pub//admin/x", 400},
    {"dot-dot before a parameter (Tomcat ..;)", "/pub/..;/admin/x", 400},
    {"absolute-form with dot-dot", "http://h/pub/../admin/x", 400},
};

int
main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char in[512];
        struct h1_header headers[8];
        struct h1_request req = {.headers = headers, .header_capacity = 8};
        size_t consumed = 0;
        int status = 0;
        int n = snprintf(in, sizeof(in), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].target);
        int err = h1_parse_request(in, (size_t)n, &limits, &req, &consumed, &status);
        if ((cases[i].want_status == 0) != (err == GH_OK) ||
            (cases[i].want_status != 0 && status != cases[i].want_status))
            fprintf(stderr, "case: %s (%s)\n", cases[i].rule, cases[i].target);
        CHECK_EQ(err == GH_OK ? 0 : status, cases[i].want_status);
    }
    return check_done("http/security_h1_path");
}
