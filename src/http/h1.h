// SPDX-License-Identifier: MIT
// HTTP/1.1 message syntax (RFC 9112): request and response heads, chunked
// bodies, response writing. Protocol only: no sockets, no allocation.
#ifndef GH_HTTP_H1_H
#define GH_HTTP_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/slice.h"

struct h1_limits {
    size_t max_request_line_bytes; /* without CRLF; exceeding it: 414 (responses: 502) */
    size_t max_head_bytes;         /* whole head incl. leading empty lines, start line and
                                      the final empty line: 431 (responses: 502) */
    size_t max_header_count;       /* 431; also bounded by the caller's array */
};

/* 8192-byte request line, 16384-byte head, 100 fields. */
extern const struct h1_limits h1_limits_default;

struct h1_header {
    struct slice name;  /* borrowed from the parsed buffer; token chars only */
    struct slice value; /* leading/trailing OWS removed */
};

enum h1_body_kind {
    H1_BODY_NONE = 0,    /* no body (no Content-Length, no Transfer-Encoding) */
    H1_BODY_LENGTH = 1,  /* Content-Length bytes follow */
    H1_BODY_CHUNKED = 2, /* chunked transfer coding (RFC 9112 7.1) */
    H1_BODY_CLOSE = 3,   /* responses only: body runs until the connection closes */
};

/* The four forms of request-target (RFC 9112 3.2). */
enum h1_target_form {
    H1_TARGET_ORIGIN = 0,    /* "/path?query" */
    H1_TARGET_ABSOLUTE = 1,  /* "http://host:port/path?query" */
    H1_TARGET_AUTHORITY = 2, /* "host:port", CONNECT only */
    H1_TARGET_ASTERISK = 3,  /* "*", OPTIONS only */
};

struct h1_request {
    struct slice method; /* borrowed from the buffer, like every slice here; case-sensitive */
    struct slice target; /* request-target as sent, in any of the four forms */
    enum h1_target_form target_form;
    struct slice path;      /* target up to '?', still percent-encoded (pct-encoding checked);
                               absolute-form: the path after the authority, may be empty
                               (meaning "/"); asterisk-form: "*"; authority-form: empty */
    struct slice query;     /* after '?', without it; empty if none */
    struct slice authority; /* absolute-form and authority-form: host[:port] of the target,
                               which RFC 9112 3.2.2 says to use instead of Host; else empty */
    struct slice host;      /* Host header value (empty when absent); syntax checked */
    int minor_version;      /* 0 or 1 */
    /* Caller provides the array; the parser fills header_count entries. */
    struct h1_header *headers;
    size_t header_capacity;
    size_t header_count;
    /* Framing, derived and validated by the parser (RFC 9112 6). */
    enum h1_body_kind body_kind;
    uint64_t content_length; /* valid when body_kind == H1_BODY_LENGTH */
    bool keep_alive;         /* persistence per RFC 9112 9.3 (version + Connection) */
    bool expect_continue;    /* "Expect: 100-continue", HTTP/1.1 only (RFC 9110 10.1.1) */
};

/* Parses one request head from buf[0, len). Returns
 *   GH_OK     head complete; *consumed_out = its length (through the empty line);
 *   GH_AGAIN  incomplete; call again with more bytes (nothing meaningful stored);
 *   GH_EPROTO / GH_ELIMIT / GH_EUNSUPPORTED with *status_out set to the response
 *             status: 400 (syntax, bare CR, obs-fold, space before colon, bad or
 *             duplicate Content-Length, Content-Length with Transfer-Encoding, chunked
 *             not last or twice, Transfer-Encoding in HTTP/1.0, HTTP/1.1 without Host,
 *             several Host fields, invalid Host, request-target form not allowed for
 *             the method), 414 (request line), 431 (head size / header count),
 *             501 (a transfer coding other than chunked), 505 (a well-formed version
 *             other than 1.0/1.1). After any of these the connection must be closed.
 * *status_out is 0 on GH_OK and GH_AGAIN; *consumed_out is 0 unless GH_OK.
 * The caller sets req->headers and req->header_capacity; the parser resets every
 * other field on each call. Lines may end in CRLF or a bare LF (RFC 9112 2.2);
 * leading empty lines are skipped and counted in consumed and in max_head_bytes.
 * 414 and 431 are reported as soon as the bytes received prove them, before the
 * head is complete. Never reads outside buf, never allocates; req's slices borrow
 * from buf. Calling again with more bytes re-parses from the start (the cheap
 * end-of-head scan runs first, so an incomplete head costs one memchr pass). */
int h1_parse_request(const char *buf, size_t len, const struct h1_limits *limits,
                     struct h1_request *req, size_t *consumed_out, int *status_out);

struct h1_response {
    int status;          /* 100..599 */
    struct slice reason; /* borrowed */
    int minor_version;
    struct h1_header *headers; /* caller's array, as in h1_request */
    size_t header_capacity;
    size_t header_count;
    enum h1_body_kind body_kind; /* HEAD/1xx/204/304 handling is up to the caller;
                                    no Content-Length nor Transfer-Encoding: CLOSE */
    uint64_t content_length;
    bool keep_alive; /* version + Connection only; a body read to CLOSE ends the
                        connection whatever this says */
};

/* Parses a response head (for the proxy and the client). Same return contract as
 * h1_parse_request, except: *status_out is 502 for every failure (GH_EPROTO
 * malformed or ambiguous framing, GH_ELIMIT limits, GH_EUNSUPPORTED version or
 * transfer coding), empty lines before the status line are not skipped, Host is not
 * required, and a missing SP after the status code is tolerated. */
int h1_parse_response(const char *buf, size_t len, const struct h1_limits *limits,
                      struct h1_response *resp, size_t *consumed_out, int *status_out);

/* Case-insensitive lookup of the first header named name; NULL if absent. */
const struct h1_header *h1_header_find(const struct h1_header *headers, size_t count,
                                       struct slice name);

/* Incremental chunked-body decoder (RFC 9112 7.1). Chunk framing must use CRLF
 * (a bare LF is refused there, see docs/internals/http.md); chunk extensions are
 * accepted and ignored; trailer fields are checked like header fields, then
 * discarded. All fields are private to chunked.c. */
struct h1_chunked {
    int state;            /* private */
    uint64_t remaining;   /* bytes left in the current chunk */
    size_t line_bytes;    /* bytes of the current size/trailer line seen so far */
    size_t trailer_bytes; /* total trailer section bytes */
    size_t max_line_bytes;
    size_t max_trailer_bytes;
};

void h1_chunked_init(struct h1_chunked *c, size_t max_line_bytes, size_t max_trailer_bytes);

/* Consumes bytes from in[0, in_len); *consumed_out says how many. At most one run of
 * body data is produced per call, as *data_out (borrowed from in; may be empty).
 * The call stops right after a run of data, so on GH_AGAIN either all input was
 * consumed or data_out is non-empty; GH_OK never carries data.
 * Returns GH_AGAIN (body continues: call again with the rest / more input),
 * GH_OK (last chunk and trailers consumed: the body is complete; calling again
 * returns GH_OK and consumes nothing), GH_EPROTO (malformed, including a chunk size
 * beyond 2^64-1: answer 400 and close) or GH_ELIMIT (a size line longer than
 * max_line_bytes, or trailer field lines, CRLFs included, beyond max_trailer_bytes:
 * answer 400 and close). Errors are sticky. */
int h1_chunked_decode(struct h1_chunked *c, const uint8_t *in, size_t in_len, size_t *consumed_out,
                      struct slice *data_out);

/* The standard reason phrase for a status ("Not Found"); "Unknown" otherwise. */
const char *h1_status_reason(int status);
/* Formats an IMF-fixdate (RFC 9110 5.6.7) into out (at least 30 bytes); returns its length. */
size_t h1_date_format(time_t t, char out[30]);
/* Parses an HTTP-date: IMF-fixdate, or the obsolete rfc850-date and asctime-date that
 * RFC 9110 5.6.7 requires recipients to accept. GH_OK or GH_EPROTO. */
int h1_date_parse(struct slice s, time_t *t_out);
/* Appends "HTTP/1.1 <status> <reason>\r\n". GH_OK, GH_EINVAL (status outside
 * 100..599), GH_ELIMIT, GH_ENOMEM. */
int h1_write_status_line(struct buf *out, int status);
/* Appends "<name>: <value>\r\n". GH_EINVAL unless name is a token and value holds
 * only field-vchar, SP and HTAB (so no CR, LF, NUL or other control byte). */
int h1_write_header(struct buf *out, struct slice name, struct slice value);
/* Appends a chunk header "<hex len>\r\n" (len > 0), or the last chunk "0\r\n\r\n" (len == 0). */
int h1_write_chunk_header(struct buf *out, size_t len);

#endif
