// SPDX-License-Identifier: MIT
// HTTP/1.1 request and response heads (RFC 9112 2-6, RFC 9110 5-7): syntax,
// limits and message framing, in one pass over the bytes once the head is complete.
#include <string.h>

#include <gatehouse/error.h>

#include "http/h1.h"
#include "http/h1_chars.h"

const struct h1_limits h1_limits_default = {
    .max_request_line_bytes = 8192,
    .max_head_bytes = 16384,
    .max_header_count = 100,
};

/* A window of the input that holds at most max_head_bytes. */
struct cursor {
    const uint8_t *buf;
    size_t win; /* bytes we may look at */
    size_t pos;
};

/* What the field loop learns about framing and connection management. */
struct te_state {
    unsigned element_count;
    unsigned chunked_count;
    bool last_is_chunked;
    bool has_unknown;
    bool is_malformed;
};

struct fields {
    struct h1_header *headers; /* the caller's array */
    size_t capacity;           /* min(array size, max_header_count) */
    size_t count;
    size_t content_length_count;
    uint64_t content_length;
    bool content_length_bad;
    size_t te_count; /* Transfer-Encoding field lines */
    struct te_state te;
    size_t host_count;
    struct slice host;
    bool conn_close;
    bool conn_keep_alive;
    bool expect_continue;
};

static int
fail(int *status_out, int err, int status)
{
    *status_out = status;
    return err;
}

/* RFC 9112 2.2: a server SHOULD ignore empty lines before the request-line. */
static size_t
skip_empty_lines(const uint8_t *b, size_t win)
{
    size_t pos = 0;

    for (;;) {
        if (pos < win && b[pos] == '\n')
            pos++;
        else if (pos + 1 < win && b[pos] == '\r' && b[pos + 1] == '\n')
            pos += 2;
        else
            return pos;
    }
}

/* Offset just past the empty line that ends the head, or 0 when the window holds
 * none yet. A line ends with LF, optionally preceded by CR (RFC 9112 2.2), so the
 * empty line is "\n" or "\r\n" right after an LF. memchr keeps this scan cheap,
 * because it runs again on every GH_AGAIN. */
static size_t
find_head_end(const uint8_t *b, size_t win, size_t start)
{
    size_t pos = start;

    while (pos < win) {
        const uint8_t *lf = memchr(b + pos, '\n', win - pos);
        if (lf == NULL)
            return 0;
        size_t i = (size_t)(lf - b);
        if (i + 1 < win && b[i + 1] == '\n')
            return i + 2;
        if (i + 2 < win && b[i + 1] == '\r' && b[i + 2] == '\n')
            return i + 3;
        pos = i + 1;
    }
    return 0;
}

/* Takes the next complete line of the window (its content, without CR LF). */
static bool
next_line(struct cursor *cur, struct slice *line_out)
{
    const uint8_t *start = cur->buf + cur->pos;
    size_t avail = cur->win - cur->pos;
    const uint8_t *lf = avail > 0 ? memchr(start, '\n', avail) : NULL;

    if (lf == NULL)
        return false;
    size_t n = (size_t)(lf - start);
    cur->pos += n + 1;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *line_out = slice_make(start, n);
    return true;
}

/* Length of the first line so far (complete or not), without its terminator. */
static size_t
first_line_len(const uint8_t *b, size_t win, size_t start)
{
    const uint8_t *lf = start < win ? memchr(b + start, '\n', win - start) : NULL;
    size_t end = lf != NULL ? (size_t)(lf - b) : win;

    if (end > start && b[end - 1] == '\r')
        end--;
    return end - start;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3); the name is case-sensitive. */
static int
parse_version(const uint8_t *p, size_t n, int *minor_out)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return GH_EPROTO;
    if (p[5] != '1' || p[7] > '1')
        return GH_EUNSUPPORTED;
    *minor_out = p[7] - '0';
    return GH_OK;
}

static bool
is_digits(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
    }
    return true;
}

/* uri-host [":" port] (RFC 3986 3.2.2, 3.2.3; RFC 9110 7.2). IP-literals are
 * checked for their character set only. */
static bool
host_valid(struct slice s, bool require_host_and_port)
{
    size_t i = 0;

    if (s.len > 0 && s.ptr[0] == '[') {
        for (i = 1; i < s.len && s.ptr[i] != ']'; i++) {
            if ((h1_char_class[s.ptr[i]] & H1_CC_HOST) == 0 && s.ptr[i] != ':')
                return false;
        }
        if (i == s.len || i == 1)
            return false;
        i++;
    } else {
        for (; i < s.len && (h1_char_class[s.ptr[i]] & H1_CC_HOST) != 0; i++) {
            if (s.ptr[i] == '%' &&
                (i + 2 >= s.len || (h1_char_class[s.ptr[i + 1]] & H1_CC_HEX) == 0 ||
                 (h1_char_class[s.ptr[i + 2]] & H1_CC_HEX) == 0))
                return false;
        }
    }
    if (require_host_and_port && i == 0)
        return false;
    if (i == s.len)
        return !require_host_and_port;
    if (s.ptr[i] != ':')
        return false;
    i++;
    if (require_host_and_port && i == s.len)
        return false;
    return is_digits(s.ptr + i, s.len - i);
}

static void
split_path_query(struct slice t, struct h1_request *req)
{
    const uint8_t *q = t.len > 0 ? memchr(t.ptr, '?', t.len) : NULL;

    if (q == NULL) {
        req->path = t;
        req->query = slice_make(t.ptr + t.len, 0);
        return;
    }
    req->path = slice_make(t.ptr, (size_t)(q - t.ptr));
    req->query = slice_make(q + 1, t.len - req->path.len - 1);
}

/* Whether a path is already in the form every backend resolves it to, so that
 * a prefix match on it (locations, and with them authentication) sees what the
 * application will see. Refused: dot segments, also before a ';' parameter
 * ("..;", Tomcat), empty segments ("//", merged by most servers), and
 * percent-encoded octets that a normalizer decodes into a different path:
 * unreserved characters (RFC 3986 6.2.2.2), '/', '\' and NUL. Otherwise
 * "/pub/../admin/x", "/%61dmin/x" or "//admin/x" would match location "/" here
 * and reach /admin/x in the application, past /admin/'s authentication. */
static bool
path_is_normal(struct slice path)
{
    size_t i = 0;

    while (i < path.len) {
        if (path.ptr[i] != '/')
            return false; /* path-abempty: segments start with '/' */
        size_t start = ++i, name_end = 0;
        while (i < path.len && path.ptr[i] != '/') {
            uint8_t c = path.ptr[i];
            if (c == '\\')
                return false;
            if (c == ';' && name_end == 0)
                name_end = i;
            if (c == '%' && i + 2 < path.len) {
                /* parse_request_line let only %HEXDIG HEXDIG through. */
                uint8_t d =
                    (uint8_t)(h1_hex_value(path.ptr[i + 1]) << 4 | h1_hex_value(path.ptr[i + 2]));
                bool is_unreserved = ((d | 0x20) >= 'a' && (d | 0x20) <= 'z') ||
                                     (d >= '0' && d <= '9') || d == '-' || d == '.' || d == '_' ||
                                     d == '~';
                if (is_unreserved || d == '/' || d == '\\' || d == 0)
                    return false;
            }
            i++;
        }
        size_t name_len = (name_end != 0 ? name_end : i) - start;
        if (i == start && i < path.len)
            return false; /* "//" */
        if ((name_len == 1 && path.ptr[start] == '.') ||
            (name_len == 2 && path.ptr[start] == '.' && path.ptr[start + 1] == '.'))
            return false;
    }
    return true;
}

/* absolute-form (RFC 9112 3.2.2): scheme "://" authority path-abempty ["?" query].
 * userinfo is refused (RFC 9110 4.2.4). */
static bool
parse_absolute_form(struct slice t, struct h1_request *req)
{
    size_t i = 0;

    if (t.len == 0 || !((t.ptr[0] | 0x20) >= 'a' && (t.ptr[0] | 0x20) <= 'z'))
        return false;
    while (i < t.len && (((t.ptr[i] | 0x20) >= 'a' && (t.ptr[i] | 0x20) <= 'z') ||
                         (t.ptr[i] >= '0' && t.ptr[i] <= '9') || t.ptr[i] == '+' ||
                         t.ptr[i] == '-' || t.ptr[i] == '.'))
        i++;
    if (t.len - i < 3 || memcmp(t.ptr + i, "://", 3) != 0)
        return false;
    i += 3;
    size_t a = i;
    while (i < t.len && t.ptr[i] != '/' && t.ptr[i] != '?')
        i++;
    struct slice auth = slice_make(t.ptr + a, i - a);
    if (auth.len == 0 || memchr(auth.ptr, '@', auth.len) != NULL || !host_valid(auth, false))
        return false;
    req->authority = auth;
    split_path_query(slice_make(t.ptr + i, t.len - i), req);
    return path_is_normal(req->path);
}

/* RFC 9112 3.2: the four forms of request-target, each tied to its methods. */
static bool
classify_target(struct h1_request *req)
{
    struct slice t = req->target;

    if (slice_eq(req->method, SLICE_LIT("CONNECT"))) {
        /* authority-form only (RFC 9112 3.2.3, RFC 9110 9.3.6: the port is required) */
        if (!host_valid(t, true))
            return false;
        req->target_form = H1_TARGET_AUTHORITY;
        req->authority = t;
        req->path = slice_make(t.ptr + t.len, 0);
        req->query = req->path;
        return true;
    }
    if (t.ptr[0] == '/') {
        req->target_form = H1_TARGET_ORIGIN;
        split_path_query(t, req);
        return path_is_normal(req->path);
    }
    if (t.len == 1 && t.ptr[0] == '*') {
        /* asterisk-form, OPTIONS only (RFC 9112 3.2.4) */
        if (!slice_eq(req->method, SLICE_LIT("OPTIONS")))
            return false;
        req->target_form = H1_TARGET_ASTERISK;
        req->path = t;
        req->query = slice_make(t.ptr + 1, 0);
        return true;
    }
    req->target_form = H1_TARGET_ABSOLUTE;
    return parse_absolute_form(t, req);
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3), with
 * exactly one SP between the parts: no lenient whitespace splitting. */
static int
parse_request_line(struct slice line, struct h1_request *req, int *status_out)
{
    const uint8_t *p = line.ptr, *end = line.ptr + line.len;
    const uint8_t *start = p;

    while (p < end && h1_is_token_char(*p))
        p++;
    if (p == start || p == end || *p != ' ')
        return fail(status_out, GH_EPROTO, 400);
    req->method = slice_make(start, (size_t)(p - start));
    start = ++p;
    while (p < end && (h1_char_class[*p] & H1_CC_TARGET) != 0) {
        if (*p == '%' && (end - p < 3 || (h1_char_class[p[1]] & H1_CC_HEX) == 0 ||
                          (h1_char_class[p[2]] & H1_CC_HEX) == 0))
            return fail(status_out, GH_EPROTO, 400);
        p++;
    }
    if (p == start || p == end || *p != ' ')
        return fail(status_out, GH_EPROTO, 400);
    req->target = slice_make(start, (size_t)(p - start));
    p++;
    int err = parse_version(p, (size_t)(end - p), &req->minor_version);
    if (err != GH_OK)
        return fail(status_out, err, err == GH_EUNSUPPORTED ? 505 : 400);
    if (!classify_target(req))
        return fail(status_out, GH_EPROTO, 400);
    return GH_OK;
}

/* transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 7). */
static bool
te_element(struct slice elem, void *arg)
{
    struct te_state *te = arg;
    size_t i = 0;

    te->element_count++;
    while (i < elem.len && h1_is_token_char(elem.ptr[i]))
        i++;
    if (i == 0 ||
        (i < elem.len && elem.ptr[i] != ';' && elem.ptr[i] != ' ' && elem.ptr[i] != '\t')) {
        te->is_malformed = true;
        return false;
    }
    if (slice_eq_nocase(slice_make(elem.ptr, i), SLICE_LIT("chunked"))) {
        if (i != elem.len) /* chunked takes no parameters */
            te->is_malformed = true;
        te->chunked_count++;
        te->last_is_chunked = true;
    } else {
        te->has_unknown = true;
        te->last_is_chunked = false;
    }
    return true;
}

static bool
connection_element(struct slice elem, void *arg)
{
    struct fields *f = arg;

    if (slice_eq_nocase(elem, SLICE_LIT("close")))
        f->conn_close = true;
    else if (slice_eq_nocase(elem, SLICE_LIT("keep-alive")))
        f->conn_keep_alive = true;
    return true;
}

/* 1*DIGIT (RFC 9110 8.6), without sign, list or overflow. */
static bool
parse_content_length(struct slice v, uint64_t *n_out)
{
    uint64_t n = 0;

    if (v.len == 0)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        unsigned d = (unsigned)v.ptr[i] - '0';
        if (d > 9 || n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *n_out = n;
    return true;
}

/* name equals lower (a lower-case literal of the same length), ignoring ASCII case. */
static inline bool
name_is(struct slice name, const char *lower)
{
    for (size_t i = 0; i < name.len; i++) {
        if (h1_lower(name.ptr[i]) != (uint8_t)lower[i])
            return false;
    }
    return true;
}

/* Records what the fields that drive framing and persistence say. */
static void
note_field(struct fields *f, const struct h1_header *h)
{
    switch (h->name.len) {
    case 4:
        if (name_is(h->name, "host")) {
            if (f->host_count++ == 0)
                f->host = h->value;
        }
        break;
    case 6:
        if (name_is(h->name, "expect") && h1_list_has_token(h->value, SLICE_LIT("100-continue")))
            f->expect_continue = true;
        break;
    case 10:
        if (name_is(h->name, "connection"))
            h1_list_each(h->value, connection_element, f);
        break;
    case 14:
        if (name_is(h->name, "content-length")) {
            f->content_length_count++;
            if (!parse_content_length(h->value, &f->content_length))
                f->content_length_bad = true;
        }
        break;
    case 17:
        if (name_is(h->name, "transfer-encoding")) {
            unsigned before = f->te.element_count;
            f->te_count++;
            h1_list_each(h->value, te_element, &f->te);
            if (f->te.element_count == before)
                f->te.is_malformed = true; /* an empty list names no transfer coding */
        }
        break;
    default:
        break;
    }
}

/* True when one of the 8 bytes at p may be a CTL (< 0x20 or DEL). False positives
 * are possible (a borrow into a higher byte), misses are not. */
static bool
word_may_have_ctl(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w, del;

    memcpy(&w, p, 8);
    del = w ^ (ones * 0x7f);
    return (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs;
}

/* The first byte in [p, end) that is not field-vchar, SP or HTAB (RFC 9110 5.5), or
 * end. Values are most of a head, so this runs 8 bytes at a time. */
static const uint8_t *
scan_field_value(const uint8_t *p, const uint8_t *end)
{
    for (;;) {
        while (end - p >= 8 && !word_may_have_ctl(p))
            p += 8;
        const uint8_t *stop = end - p >= 8 ? p + 8 : end;
        for (; p < stop; p++) {
            if (!h1_is_field_char(*p))
                return p;
        }
        if (p == end)
            return end;
    }
}

/* Takes the line terminator at *pp: CRLF or a bare LF (RFC 9112 2.2). GH_OK,
 * GH_EPROTO (a bare CR, or any other byte) or GH_ELIMIT (the window ends first). */
static int
take_eol(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;

    if (p == end || (*p == '\r' && end - p < 2))
        return GH_ELIMIT;
    if (*p == '\r' && p[1] == '\n')
        p += 2;
    else if (*p == '\n')
        p++;
    else
        return GH_EPROTO;
    *pp = p;
    return GH_OK;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 5), then CRLF. A line
 * starting with SP/HTAB (obs-fold, RFC 9112 5.2, or whitespace after the start line,
 * 2.2) or with whitespace before the colon (5.1) fails the name scan. A CTL in the
 * value, bare CR included (RFC 9110 5.5, RFC 9112 2.2), ends the scan and must then
 * be the line terminator. */
static int
parse_field_line(const uint8_t **pp, const uint8_t *end, struct h1_header *h)
{
    const uint8_t *p = *pp, *name = p;

    while (p < end && h1_is_token_char(*p))
        p++;
    if (p == end)
        return GH_ELIMIT;
    if (p == name || *p != ':')
        return GH_EPROTO;
    h->name = slice_make(name, (size_t)(p - name));
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const uint8_t *v = p;
    p = scan_field_value(p, end);
    const uint8_t *v_end = p;
    int err = take_eol(&p, end);
    if (err != GH_OK)
        return err;
    while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
        v_end--;
    h->value = slice_make(v, (size_t)(v_end - v));
    *pp = p;
    return GH_OK;
}

/* Reads field lines through the empty line. GH_OK, GH_EPROTO (syntax) or
 * GH_ELIMIT (too many fields, or the head did not end inside the window). */
static int
parse_fields(struct cursor *cur, struct fields *f)
{
    const uint8_t *p = cur->buf + cur->pos, *end = cur->buf + cur->win;
    int err;

    for (;;) {
        if (p < end && (*p == '\r' || *p == '\n')) {
            err = take_eol(&p, end); /* the empty line that ends the head */
            break;
        }
        if (f->count == f->capacity)
            return GH_ELIMIT;
        struct h1_header *h = &f->headers[f->count];
        err = parse_field_line(&p, end, h);
        if (err != GH_OK)
            return err;
        f->count++;
        note_field(f, h);
    }
    if (err == GH_OK)
        cur->pos = (size_t)(p - cur->buf);
    return err;
}

static void
fields_init(struct fields *f, struct h1_header *headers, size_t capacity, size_t max_count)
{
    *f = (struct fields){.headers = headers,
                         .capacity = capacity < max_count ? capacity : max_count};
}

/* Finds the head in buf and prepares the cursor over it. Returns GH_OK when the
 * head is complete or can no longer fit in max_head_bytes (then the field loop
 * reports the limit), or GH_AGAIN. *first_line_bytes_out lets the caller apply
 * its line limit before the head is complete. */
static int
locate_head(const uint8_t *b, size_t len, const struct h1_limits *limits, bool skip_empty,
            struct cursor *cur, size_t *first_line_bytes_out)
{
    size_t win = len < limits->max_head_bytes ? len : limits->max_head_bytes;
    size_t start = skip_empty ? skip_empty_lines(b, win) : 0;
    size_t end = find_head_end(b, win, start);

    *cur = (struct cursor){b, end != 0 ? end : win, start};
    *first_line_bytes_out = first_line_len(b, cur->win, start);
    if (end == 0 && len < limits->max_head_bytes)
        return GH_AGAIN;
    return GH_OK;
}

static void
request_reset(struct h1_request *req)
{
    struct h1_header *headers = req->headers;
    size_t capacity = req->header_capacity;

    *req = (struct h1_request){.headers = headers, .header_capacity = capacity};
}

/* RFC 9112 6.1-6.3 for requests, RFC 9110 7.2 for Host. */
static int
request_framing(struct h1_request *req, const struct fields *f, int *status_out)
{
    if (f->host_count > 1 || (f->host_count == 0 && req->minor_version == 1) ||
        (f->host_count == 1 && !host_valid(f->host, false)))
        return fail(status_out, GH_EPROTO, 400);
    if (f->content_length_count > 1 || f->content_length_bad)
        return fail(status_out, GH_EPROTO, 400);
    if (f->te_count > 0) {
        if (req->minor_version == 0 || f->content_length_count > 0 || f->te.is_malformed)
            return fail(status_out, GH_EPROTO, 400);
        if (f->te.chunked_count > 1 || (f->te.chunked_count == 1 && !f->te.last_is_chunked))
            return fail(status_out, GH_EPROTO, 400);
        if (f->te.has_unknown)
            return fail(status_out, GH_EUNSUPPORTED, 501);
        req->body_kind = H1_BODY_CHUNKED;
    } else if (f->content_length_count == 1) {
        req->body_kind = H1_BODY_LENGTH;
        req->content_length = f->content_length;
    }
    req->host = f->host;
    if (req->minor_version == 1)
        req->keep_alive = !f->conn_close;
    else
        req->keep_alive = f->conn_keep_alive && !f->conn_close;
    /* RFC 9110 10.1.1: a 100-continue expectation in HTTP/1.0 is ignored */
    req->expect_continue = f->expect_continue && req->minor_version == 1;
    return GH_OK;
}

int
h1_parse_request(const char *buf, size_t len, const struct h1_limits *limits,
                 struct h1_request *req, size_t *consumed_out, int *status_out)
{
    const uint8_t *b = (const uint8_t *)buf;
    struct cursor cur;
    struct fields f;
    struct slice line;
    size_t line_bytes;

    *consumed_out = 0;
    *status_out = 0;
    request_reset(req);
    int err = locate_head(b, len, limits, true, &cur, &line_bytes);
    if (line_bytes > limits->max_request_line_bytes)
        return fail(status_out, GH_ELIMIT, 414);
    if (err == GH_AGAIN)
        return GH_AGAIN;
    if (!next_line(&cur, &line))
        return fail(status_out, GH_ELIMIT, 431);
    err = parse_request_line(line, req, status_out);
    if (err != GH_OK)
        return err;
    fields_init(&f, req->headers, req->header_capacity, limits->max_header_count);
    err = parse_fields(&cur, &f);
    if (err != GH_OK)
        return fail(status_out, err, err == GH_ELIMIT ? 431 : 400);
    req->header_count = f.count;
    err = request_framing(req, &f, status_out);
    if (err != GH_OK)
        return err;
    *consumed_out = cur.pos;
    return GH_OK;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4).
 * A missing SP after the code is tolerated: the reason is ignored anyway. */
static int
parse_status_line(struct slice line, struct h1_response *resp)
{
    const uint8_t *p = line.ptr;

    if (line.len < 12 || p[8] != ' ')
        return GH_EPROTO;
    int err = parse_version(p, 8, &resp->minor_version);
    if (err != GH_OK)
        return err;
    if (p[9] < '1' || p[9] > '5' || !is_digits(p + 10, 2))
        return GH_EPROTO;
    resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (line.len == 12) {
        resp->reason = slice_make(p + 12, 0);
        return GH_OK;
    }
    if (p[12] != ' ')
        return GH_EPROTO;
    resp->reason = slice_make(p + 13, line.len - 13);
    return h1_field_value_valid(resp->reason) ? GH_OK : GH_EPROTO;
}

/* RFC 9112 6.3 for responses, as a proxy must apply it: anything ambiguous is an
 * error (502), never a guess. */
static int
response_framing(struct h1_response *resp, const struct fields *f)
{
    if (f->content_length_count > 1 || f->content_length_bad)
        return GH_EPROTO;
    if (f->te_count > 0) {
        if (resp->minor_version == 0 || f->content_length_count > 0 || f->te.is_malformed ||
            f->te.chunked_count > 1 || (f->te.chunked_count == 1 && !f->te.last_is_chunked))
            return GH_EPROTO;
        if (f->te.has_unknown)
            return GH_EUNSUPPORTED;
        resp->body_kind = H1_BODY_CHUNKED;
    } else if (f->content_length_count == 1) {
        resp->body_kind = H1_BODY_LENGTH;
        resp->content_length = f->content_length;
    } else {
        resp->body_kind = H1_BODY_CLOSE;
    }
    if (resp->minor_version == 1)
        resp->keep_alive = !f->conn_close;
    else
        resp->keep_alive = f->conn_keep_alive && !f->conn_close;
    return GH_OK;
}

int
h1_parse_response(const char *buf, size_t len, const struct h1_limits *limits,
                  struct h1_response *resp, size_t *consumed_out, int *status_out)
{
    const uint8_t *b = (const uint8_t *)buf;
    struct h1_header *headers = resp->headers;
    size_t capacity = resp->header_capacity;
    struct cursor cur;
    struct fields f;
    struct slice line;
    size_t line_bytes;

    *consumed_out = 0;
    *status_out = 0;
    *resp = (struct h1_response){.headers = headers, .header_capacity = capacity};
    int err = locate_head(b, len, limits, false, &cur, &line_bytes);
    if (line_bytes > limits->max_request_line_bytes)
        return fail(status_out, GH_ELIMIT, 502);
    if (err == GH_AGAIN)
        return GH_AGAIN;
    if (!next_line(&cur, &line))
        return fail(status_out, GH_ELIMIT, 502);
    err = parse_status_line(line, resp);
    if (err != GH_OK)
        return fail(status_out, err, 502);
    fields_init(&f, resp->headers, resp->header_capacity, limits->max_header_count);
    err = parse_fields(&cur, &f);
    if (err != GH_OK)
        return fail(status_out, err, 502);
    resp->header_count = f.count;
    err = response_framing(resp, &f);
    if (err != GH_OK)
        return fail(status_out, err, 502);
    *consumed_out = cur.pos;
    return GH_OK;
}
