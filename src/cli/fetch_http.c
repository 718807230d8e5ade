// SPDX-License-Identifier: MIT
// Reading responses for fetch with the HTTP/1.1 codec (src/http/h1.h): the
// head is re-parsed from a private copy so that header slices outlive the
// connection's input buffer; bodies are framed by Content-Length, chunked
// coding (RFC 9112 7.1) or the connection close (RFC 9112 6.3), and no body
// follows HEAD, 1xx, 204 or 304 (RFC 9112 6.3 rule 1).
#include <string.h>

#include <gatehouse/error.h>

#include "cli/fetch.h"

#define READ_CHUNK 16384

void
fetch_response_init(struct fetch_response *resp, size_t max_head_bytes)
{
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->head, max_head_bytes);
}

void
fetch_response_reset(struct fetch_response *resp)
{
    size_t max = resp->head.max;
    buf_free(&resp->head);
    fetch_response_init(resp, max);
}

/* Appends at least one byte from the connection to its input buffer; GH_ECLOSED
 * when the peer closed. */
static int
fill(struct fetch_conn *conn)
{
    struct buf *in = fetch_conn_inbuf(conn);
    size_t n = 0;
    int err = buf_reserve(in, READ_CHUNK);
    if (err != GH_OK)
        return err;
    err = fetch_conn_read(conn, in->data + in->len, in->cap - in->len, &n);
    if (err != GH_OK)
        return err;
    if (n == 0)
        return GH_ECLOSED;
    in->len += n;
    return GH_OK;
}

static int
parse_into(const uint8_t *data, size_t len, const struct h1_limits *lim,
           struct fetch_response *resp, size_t *consumed_out)
{
    struct h1_response r = {.headers = resp->headers, .header_capacity = FETCH_MAX_HEADERS};
    int status = 0;
    int err = h1_parse_response((const char *)data, len, lim, &r, consumed_out, &status);
    if (err != GH_OK)
        return err;
    resp->status = r.status;
    resp->minor_version = r.minor_version;
    resp->header_count = r.header_count;
    resp->body_kind = r.body_kind;
    resp->content_length = r.content_length;
    resp->keep_alive = r.keep_alive;
    return GH_OK;
}

int
fetch_http_read_head(struct fetch_conn *conn, const struct fetch_limits *limits,
                     struct fetch_response *resp)
{
    struct buf *in = fetch_conn_inbuf(conn);
    const struct h1_limits lim = {.max_request_line_bytes = 8192,
                                  .max_head_bytes = limits->max_head_bytes,
                                  .max_header_count = FETCH_MAX_HEADERS};
    int interim = 0;

    for (;;) {
        size_t consumed = 0;
        int err = in->len > 0 ? parse_into(in->data, in->len, &lim, resp, &consumed) : GH_AGAIN;
        if (err == GH_AGAIN) {
            err = fill(conn);
            if (err != GH_OK)
                return err;
            continue;
        }
        if (err != GH_OK)
            return err;
        fetch_response_reset(resp);
        err = buf_append(&resp->head, in->data, consumed);
        if (err != GH_OK)
            return err;
        buf_consume(in, consumed);
        /* Re-parse the private copy: the slices now borrow from resp->head. */
        err = parse_into(resp->head.data, resp->head.len, &lim, resp, &consumed);
        if (err != GH_OK)
            return GH_EPROTO;
        if (resp->status >= 100 && resp->status < 200 && resp->status != 101) {
            if (++interim > 10)
                return GH_EPROTO; /* a peer looping on 100 Continue */
            continue;
        }
        return GH_OK;
    }
}

static int
deliver(fetch_body_sink_fn *sink, void *arg, const uint8_t *data, size_t len, uint64_t *total,
        uint64_t max)
{
    if (len == 0)
        return GH_OK;
    if (len > max - *total)
        return GH_ELIMIT;
    *total += len;
    return sink != NULL ? sink(arg, data, len) : GH_OK;
}

int
fetch_http_read_body(struct fetch_conn *conn, const struct fetch_limits *limits,
                     const struct fetch_response *resp, bool is_head_request,
                     fetch_body_sink_fn *sink, void *sink_arg)
{
    struct buf *in = fetch_conn_inbuf(conn);
    uint64_t total = 0;
    int err = GH_OK;

    if (is_head_request || resp->status < 200 || resp->status == 204 || resp->status == 304)
        return GH_OK;
    switch (resp->body_kind) {
    case H1_BODY_NONE:
        return GH_OK;
    case H1_BODY_LENGTH: {
        uint64_t left = resp->content_length;
        if (left > limits->max_body_bytes)
            return GH_ELIMIT;
        while (left > 0) {
            if (in->len == 0) {
                err = fill(conn);
                if (err != GH_OK)
                    return err;
            }
            size_t n = in->len < left ? in->len : (size_t)left;
            err = deliver(sink, sink_arg, in->data, n, &total, limits->max_body_bytes);
            if (err != GH_OK)
                return err;
            buf_consume(in, n);
            left -= n;
        }
        return GH_OK;
    }
    case H1_BODY_CHUNKED: {
        struct h1_chunked ch;
        h1_chunked_init(&ch, 1024, 16384);
        for (;;) {
            size_t consumed = 0;
            struct slice data = {0};
            err = h1_chunked_decode(&ch, in->data, in->len, &consumed, &data);
            if (err < 0)
                return err;
            int derr = deliver(sink, sink_arg, data.ptr, data.len, &total, limits->max_body_bytes);
            buf_consume(in, consumed);
            if (derr != GH_OK)
                return derr;
            if (err == GH_OK)
                return GH_OK;
            if (consumed == 0 && data.len == 0) {
                err = fill(conn);
                if (err != GH_OK)
                    return err;
            }
        }
    }
    case H1_BODY_CLOSE:
    default:
        for (;;) {
            err = deliver(sink, sink_arg, in->data, in->len, &total, limits->max_body_bytes);
            buf_consume(in, in->len);
            if (err != GH_OK)
                return err;
            err = fill(conn);
            if (err == GH_ECLOSED)
                return GH_OK;
            if (err != GH_OK)
                return err;
        }
    }
}
