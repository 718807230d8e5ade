// SPDX-License-Identifier: MIT
// response.c: the head writer (RFC 9112 4, 6) byte for byte, and module header
// validation (RFC 9110 5.5, 5.6.2), which happens once, when a header is added.
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "server/server.h"

#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"

struct fixture {
    struct worker w;
    struct conn c;
    struct gh_request req;
};

static void
setup(struct fixture *f, int minor_version, bool keep_alive, bool is_head)
{
    memset(f, 0, sizeof(*f));
    memcpy(f->w.date, DATE, sizeof(DATE) - 1);
    f->w.date_len = sizeof(DATE) - 1;
    buf_init(&f->c.out, 8 << 20);
    f->req.conn = &f->c;
    f->req.worker = &f->w;
    f->req.file_fd = -1;
    f->req.minor_version = minor_version;
    f->req.keep_alive = keep_alive;
    f->req.is_head = is_head;
    buf_init(&f->req.body, 1 << 20);
    if (arena_create(1024, &f->req.arena) != GH_OK)
        abort();
}

static void
teardown(struct fixture *f)
{
    buf_free(&f->c.out);
    buf_free(&f->req.body);
    arena_destroy(f->req.arena);
}

static int
stream_pull(void *arg, void *buf, size_t cap, size_t *len_out)
{
    (void)arg;
    (void)buf;
    (void)cap;
    *len_out = 0;
    return GH_OK;
}

static const struct {
    const char *name;
    int minor, status;
    bool keep_alive, is_head;
    int body; /* 0 none, 1 buffer "hi\n", 2 stream of unknown length */
    const char *want;
} heads[] = {
    {"200 with a buffer (RFC 9112 6.3 rule 6)", 1, 200, true, false, 1,
     "HTTP/1.1 200 OK\r\nDate: " DATE "\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nhi\n"},
    {"HEAD: the length it would have, no body (RFC 9110 9.3.2)", 1, 200, true, true, 1,
     "HTTP/1.1 200 OK\r\nDate: " DATE "\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n"},
    {"204: no framing headers (RFC 9110 8.6)", 1, 204, true, false, 0,
     "HTTP/1.1 204 No Content\r\nDate: " DATE "\r\nX-A: 1\r\n\r\n"},
    {"no body: Content-Length 0", 1, 404, true, false, 0,
     "HTTP/1.1 404 Not Found\r\nDate: " DATE "\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n"},
    {"close", 1, 200, false, false, 1,
     "HTTP/1.1 200 OK\r\nDate: " DATE
     "\r\nX-A: 1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi\n"},
    {"HTTP/1.0 keep-alive says so (RFC 9112 9.3)", 0, 200, true, false, 1,
     "HTTP/1.1 200 OK\r\nDate: " DATE
     "\r\nX-A: 1\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n"
     "hi\n"},
    {"unknown length on 1.1: chunked (RFC 9112 7.1)", 1, 200, true, false, 2,
     "HTTP/1.1 200 OK\r\nDate: " DATE "\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {"unknown length on 1.0: close delimits (RFC 9112 6.3 rule 8)", 0, 200, true, false, 2,
     "HTTP/1.1 200 OK\r\nDate: " DATE "\r\nX-A: 1\r\nConnection: close\r\n\r\n"},
};

static void
test_heads(void)
{
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        struct fixture f;
        setup(&f, heads[i].minor, heads[i].keep_alive, heads[i].is_head);
        CHECK_EQ(gh_response_status(&f.req, heads[i].status), GH_OK);
        CHECK_EQ(gh_response_header_add(&f.req, "X-A", "1"), GH_OK);
        if (heads[i].body == 1)
            CHECK_EQ(gh_response_body(&f.req, "hi\n", 3), GH_OK);
        else if (heads[i].body == 2)
            CHECK_EQ(gh_response_stream(&f.req, -1, stream_pull, NULL, NULL), GH_OK);
        CHECK_EQ(response_head_write(&f.req), GH_OK);
        size_t want_len = strlen(heads[i].want);
        if (f.c.out.len != want_len || memcmp(f.c.out.data, heads[i].want, want_len) != 0) {
            fprintf(stderr, "%s:\n got: %.*s\nwant: %s\n", heads[i].name, (int)f.c.out.len,
                    (const char *)f.c.out.data, heads[i].want);
            CHECK(false);
        }
        CHECK_EQ(f.req.bytes_sent, heads[i].is_head || heads[i].body != 1 ? want_len : want_len);
        CHECK(f.req.head_sent);
        CHECK_EQ(f.c.must_close,
                 !heads[i].keep_alive || (heads[i].minor == 0 && heads[i].body == 2));
        teardown(&f);
    }
}

static const struct {
    const char *name, *value;
    int want;
} headers[] = {
    {"X-Ok", "a b\tc \x80\xff", GH_OK},      /* field-vchar, SP, HTAB, obs-text */
    {"X-Empty", "", GH_OK},                  /* an empty value is allowed */
    {"X-CR", "a\rb", GH_EINVAL},             /* response splitting */
    {"X-LF", "a\nSet-Cookie: x", GH_EINVAL}, /* response splitting */
    {"X-Ctl", "a\x01", GH_EINVAL},           /* controls are not field-vchar */
    {"X-Del", "a\x7f", GH_EINVAL},
    {"Bad Name", "1", GH_EINVAL}, /* SP is not a tchar */
    {"Bad:Name", "1", GH_EINVAL},
    {"", "1", GH_EINVAL},
    {"Content-Length", "5", GH_EINVAL}, /* framing is the server's */
    {"transfer-encoding", "chunked", GH_EINVAL},
    {"CONNECTION", "close", GH_EINVAL},
    {"Date", "x", GH_EINVAL},
    {"Dates", "x", GH_OK},                  /* only the exact names */
    {"!#$%&'*+-.^_`|~09azAZ", "ok", GH_OK}, /* every tchar class */
};

static void
test_header_validation(void)
{
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct fixture f;
        setup(&f, 1, true, false);
        int rc = gh_response_header_add(&f.req, headers[i].name, headers[i].value);
        if (rc != headers[i].want)
            fprintf(stderr, "header %zu (%s)\n", i, headers[i].name);
        CHECK_EQ(rc, headers[i].want);
        CHECK_EQ(gh_response_header_set(&f.req, headers[i].name, headers[i].value),
                 headers[i].want);
        teardown(&f);
    }
}

static void
test_header_set_replaces(void)
{
    struct fixture f;
    setup(&f, 1, true, false);
    CHECK_EQ(gh_response_header_add(&f.req, "X-A", "1"), GH_OK);
    CHECK_EQ(gh_response_header_add(&f.req, "x-a", "2"), GH_OK);
    CHECK_EQ(gh_response_header_add(&f.req, "X-AB", "3"), GH_OK);
    CHECK_EQ(gh_response_header_set(&f.req, "X-a", "4"), GH_OK);
    CHECK_EQ(response_head_write(&f.req), GH_OK);
    const char *want =
        "HTTP/1.1 200 OK\r\nDate: " DATE "\r\nX-AB: 3\r\nX-a: 4\r\nContent-Length: 0\r\n\r\n";
    CHECK_EQ(f.c.out.len, strlen(want));
    CHECK_MEM_EQ(f.c.out.data, want, strlen(want));
    /* After the head, the response is frozen. */
    CHECK_EQ(gh_response_header_add(&f.req, "X-B", "1"), GH_ESTATE);
    CHECK_EQ(gh_response_status(&f.req, 500), GH_ESTATE);
    teardown(&f);
}

static void
test_long_body_and_headers(void)
{
    struct fixture f;
    static char big[40000];
    setup(&f, 1, true, false);
    memset(big, 'v', sizeof(big) - 1);
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof(name), "X-H%d", i);
        CHECK_EQ(gh_response_header_add(&f.req, name, big), GH_OK);
    }
    CHECK_EQ(gh_response_body(&f.req, big, sizeof(big) - 1), GH_OK);
    CHECK_EQ(response_head_write(&f.req), GH_OK);
    size_t want = 0;
    want += strlen("HTTP/1.1 200 OK\r\nDate: " DATE "\r\n");
    for (int i = 0; i < 50; i++)
        want += strlen("X-Hnn: \r\n") - (i < 10 ? 1 : 0) + sizeof(big) - 1;
    want += strlen("Content-Length: 39999\r\n\r\n");
    /* A large body is not copied: it is sent from where it is, behind the head. */
    CHECK_EQ(f.c.out.len, want);
    CHECK_EQ(f.req.tail_len, sizeof(big) - 1);
    CHECK_EQ(f.req.tail_off, 0);
    CHECK_EQ(f.req.bytes_sent, want + sizeof(big) - 1);
    CHECK(f.req.response_done);
    teardown(&f);
}

int
main(void)
{
    test_heads();
    test_header_validation();
    test_header_set_replaces();
    test_long_body_and_headers();
    return check_done("test_response");
}
