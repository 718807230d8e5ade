// SPDX-License-Identifier: MIT
// The response half of the module API, the serialization of response heads
// (RFC 9112 6: framing is the server's, never the module's), body pumping from
// files and streams, and a small JSON writer for modules.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/dec.h"
#include "base/json_str.h"
#include "server/server.h"

#define PUMP_BYTES       (16 * 1024)
#define INLINE_BODY_MAX  (16 * 1024) /* larger buffered bodies are sent, not copied */
#define HEADER_MAX_BYTES (64 * 1024) /* one response header's name or value */

/* RFC 9110 5.6.2 token characters. */
static const bool tchar[256] = {
    ['0' ... '9'] = true, ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['!'] = true,  ['#'] = true,
    ['$'] = true,         ['%'] = true,         ['&'] = true,         ['\''] = true, ['*'] = true,
    ['+'] = true,         ['-'] = true,         ['.'] = true,         ['^'] = true,  ['_'] = true,
    ['`'] = true,         ['|'] = true,         ['~'] = true,
};

/* Framing and Date are the server's (RFC 9112 6). */
static bool
server_owned(const char *name, size_t len)
{
    switch (len) {
    case 4:
        return strcasecmp(name, "date") == 0;
    case 10:
        return strcasecmp(name, "connection") == 0;
    case 14:
        return strcasecmp(name, "content-length") == 0;
    case 17:
        return strcasecmp(name, "transfer-encoding") == 0;
    default:
        return false;
    }
}

/* field-vchar / SP / HTAB / obs-text (RFC 9110 5.5): no CR, LF, NUL or other
 * controls. Eight bytes at a time: a word with no byte below 0x20 and no 0x7f
 * is valid as a whole; only a word that has one (a tab, or a bad byte) is
 * looked at byte by byte. */
static bool
value_chars_valid(const char *value, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, value + i, 8);
        uint64_t del = x ^ (ones * 0x7f);
        if ((((x - ones * 0x20) & ~x) | ((del - ones) & ~del)) & highs) {
            for (size_t j = i; j < i + 8; j++) {
                unsigned char ch = (unsigned char)value[j];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                    return false;
            }
        }
    }
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return false;
    }
    return true;
}

/* Validates a module's header once, here: the head writer copies it as is.
 * Stores the lengths on success. */
static int
check_header(const char *name, const char *value, size_t *name_len_out, size_t *value_len_out)
{
    const char *p;

    if (name == NULL || value == NULL || name[0] == '\0')
        return GH_EINVAL;
    for (p = name; *p != '\0'; p++) {
        if (!tchar[(unsigned char)*p])
            return GH_EINVAL;
    }
    size_t name_len = (size_t)(p - name);
    size_t value_len = strlen(value);
    if (!value_chars_valid(value, value_len))
        return GH_EINVAL;
    if (server_owned(name, name_len))
        return GH_EINVAL;
    if (name_len > HEADER_MAX_BYTES || value_len > HEADER_MAX_BYTES)
        return GH_ELIMIT;
    *name_len_out = name_len;
    *value_len_out = value_len;
    return GH_OK;
}

int
gh_response_status(gh_request *req, int status)
{
    if (status < 100 || status > 599)
        return GH_EINVAL;
    if (req->head_sent)
        return GH_ESTATE;
    req->status = status;
    return GH_OK;
}

int
gh_response_get_status(const gh_request *req)
{
    return req->status;
}

static int
header_add(gh_request *req, const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (req->head_sent)
        return GH_ESTATE;
    if (req->resp_header_count == req->resp_header_cap) {
        size_t cap = req->resp_header_cap ? req->resp_header_cap * 2 : 4;
        if (cap > 1024)
            return GH_ELIMIT;
        struct resp_header *grown = arena_alloc(req->arena, cap * sizeof(*grown));
        if (grown == NULL)
            return GH_ENOMEM;
        if (req->resp_header_count > 0)
            memcpy(grown, req->resp_headers, req->resp_header_count * sizeof(*grown));
        req->resp_headers = grown;
        req->resp_header_cap = cap;
    }
    char *n = arena_alloc(req->arena, name_len + value_len + 2); /* both, NUL-terminated */
    if (n == NULL)
        return GH_ENOMEM;
    char *v = n + name_len + 1;
    memcpy(n, name, name_len + 1);
    memcpy(v, value, value_len + 1);
    req->resp_headers[req->resp_header_count++] =
        (struct resp_header){n, v, (uint32_t)name_len, (uint32_t)value_len};
    return GH_OK;
}

int
gh_response_header_add(gh_request *req, const char *name, const char *value)
{
    size_t name_len, value_len;
    int rc = check_header(name, value, &name_len, &value_len);

    if (rc != GH_OK)
        return rc;
    if (req->head_sent)
        return GH_ESTATE;
    return header_add(req, name, name_len, value, value_len);
}

int
gh_response_header_set(gh_request *req, const char *name, const char *value)
{
    size_t name_len, value_len;
    int rc = check_header(name, value, &name_len, &value_len);

    if (rc != GH_OK)
        return rc;
    if (req->head_sent)
        return GH_ESTATE;
    size_t kept = 0;
    for (size_t i = 0; i < req->resp_header_count; i++) {
        const struct resp_header *h = &req->resp_headers[i];
        if (h->name_len != name_len || strcasecmp(h->name, name) != 0)
            req->resp_headers[kept++] = *h;
    }
    req->resp_header_count = kept;
    return header_add(req, name, name_len, value, value_len);
}

void
response_release(struct gh_request *req)
{
    if (req->file_fd >= 0) {
        close(req->file_fd);
        req->file_fd = -1;
    }
    if (req->pull_release != NULL) {
        req->pull_release(req->pull_arg);
        req->pull_release = NULL;
    }
    req->pull = NULL;
    req->body.len = 0;
    req->tail_len = req->tail_off = 0;
    req->body_form = BODY_NONE;
}

static int
body_reset(gh_request *req)
{
    if (req->head_sent)
        return GH_ESTATE;
    response_release(req);
    return GH_OK;
}

int
gh_response_body(gh_request *req, const void *data, size_t len)
{
    int rc = body_reset(req);

    if (rc != GH_OK)
        return rc;
    rc = buf_append(&req->body, data, len);
    if (rc != GH_OK)
        return rc;
    req->body_form = BODY_BUF;
    return GH_OK;
}

int
gh_response_file(gh_request *req, int fd, off_t offset, uint64_t len)
{
    int rc = body_reset(req);

    if (rc != GH_OK) {
        close(fd);
        return rc;
    }
    req->file_fd = fd;
    req->file_off = offset;
    req->file_left = len;
    req->body_form = BODY_FILE;
    return GH_OK;
}

int
gh_response_stream(gh_request *req, int64_t content_length, gh_body_pull_fn *pull,
                   void (*release)(void *arg), void *arg)
{
    int rc = body_reset(req);

    if (rc != GH_OK) {
        if (release != NULL)
            release(arg);
        return rc;
    }
    req->pull = pull;
    req->pull_release = release;
    req->pull_arg = arg;
    req->stream_length = content_length;
    req->body_form = BODY_STREAM;
    return GH_OK;
}

static void
wake_run(struct task *t)
{
    struct gh_request *req =
        (struct gh_request *)((char *)t - offsetof(struct gh_request, wake_task));

    atomic_store(&req->wake_queued, false);
    if (req->stream_waiting) {
        req->stream_waiting = false;
        conn_run(req->conn);
    }
}

int
gh_response_stream_wake(gh_request *req)
{
    if (atomic_exchange(&req->wake_queued, true))
        return GH_OK;
    req->wake_task.run = wake_run;
    worker_post(req->worker, &req->wake_task);
    return GH_OK;
}

int
gh_response_text(gh_request *req, int status, const char *text)
{
    char line[64];
    int rc = gh_response_status(req, status);

    if (rc != GH_OK)
        return rc;
    if (text == NULL) {
        snprintf(line, sizeof(line), "%s\n", h1_status_reason(status));
        text = line;
    }
    rc = gh_response_header_set(req, "Content-Type", "text/plain; charset=utf-8");
    if (rc != GH_OK)
        return rc;
    return gh_response_body(req, text, strlen(text));
}

/* ------------------------------------------------------------ head */

static bool
status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

static char *
put(char *p, const void *src, size_t len)
{
    memcpy(p, src, len);
    return p + len;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

/* The response head (RFC 9112 4, 6). Module headers were validated when they
 * were added, so the head is sized once and copied, with no second pass over
 * the bytes: this runs for every response. */
int
response_head_write(struct gh_request *req)
{
    struct conn *c = req->conn;
    struct buf *out = &c->out;
    struct worker *w = req->worker;
    int status = req->status != 0 ? req->status : 200;
    bool has_body = status_has_body(status);
    int64_t length = -1;
    int rc;

    if (status < 100 || status > 599)
        return GH_EINVAL;
    req->status = status;
    switch (req->body_form) {
    case BODY_NONE:
        length = 0;
        break;
    case BODY_BUF:
        length = (int64_t)req->body.len;
        break;
    case BODY_FILE:
        length = (int64_t)req->file_left;
        break;
    case BODY_STREAM:
        length = req->stream_length;
        break;
    }
    if (length < 0 && has_body && !req->is_head) {
        if (req->minor_version >= 1)
            req->is_chunked_out = true;
        else
            req->keep_alive = false; /* HTTP/1.0: the close delimits the body */
    }
    if (!req->keep_alive)
        c->must_close = true;

    const char *reason = h1_status_reason(status);
    size_t reason_len = strlen(reason);
    /* status line + Date + framing + Connection + blank line, then the modules' */
    size_t size = 15 + reason_len + 8 + w->date_len + 28 + 30 + 24 + 2;
    for (size_t i = 0; i < req->resp_header_count; i++)
        size += (size_t)req->resp_headers[i].name_len + req->resp_headers[i].value_len + 4;
    bool body_inline =
        req->body_form == BODY_BUF && has_body && !req->is_head && req->body.len <= INLINE_BODY_MAX;
    rc = buf_reserve(out, size + (body_inline ? req->body.len : 0));
    if (rc != GH_OK)
        return rc;

    char *start = (char *)out->data + out->len;
    char *p = PUT_LIT(start, "HTTP/1.1 ");
    *p++ = (char)('0' + status / 100);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    p = put(p, reason, reason_len);
    p = PUT_LIT(p, "\r\nDate: ");
    p = put(p, w->date, w->date_len);
    p = PUT_LIT(p, "\r\n");
    for (size_t i = 0; i < req->resp_header_count; i++) {
        const struct resp_header *h = &req->resp_headers[i];
        p = put(p, h->name, h->name_len);
        p = PUT_LIT(p, ": ");
        p = put(p, h->value, h->value_len);
        p = PUT_LIT(p, "\r\n");
    }
    if (has_body) {
        if (req->is_chunked_out) {
            p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
        } else if (length >= 0) {
            p = PUT_LIT(p, "Content-Length: ");
            p = dec_put_u64(p, (uint64_t)length);
            p = PUT_LIT(p, "\r\n");
        }
    }
    if (!req->keep_alive)
        p = PUT_LIT(p, "Connection: close\r\n");
    else if (req->minor_version == 0)
        p = PUT_LIT(p, "Connection: keep-alive\r\n");
    p = PUT_LIT(p, "\r\n");
    size_t head_len = (size_t)(p - start);
    out->len += head_len;
    req->head_sent = true;
    req->bytes_sent += head_len;
    if (!has_body || req->is_head) {
        response_release(req);
        req->response_done = true;
        return GH_OK;
    }
    if (body_inline) {
        /* Small bodies ride in the same buffer, so head and body leave in one
         * send (one TLS record). */
        if (req->body.len > 0)
            memcpy(out->data + out->len, req->body.data, req->body.len);
        out->len += req->body.len;
        req->bytes_sent += req->body.len;
        req->response_done = true;
    } else if (req->body_form == BODY_BUF) {
        /* A large body leaves from where it is, behind the head (writev). */
        req->tail_len = req->body.len;
        req->tail_off = 0;
        req->bytes_sent += req->body.len;
        req->response_done = true;
    } else if (req->body_form == BODY_NONE) {
        req->response_done = true;
    }
    return GH_OK;
}

/* ------------------------------------------------------------ pump */

static int
pump_file(struct gh_request *req)
{
    struct conn *c = req->conn;

    if (req->file_left == 0)
        return GH_OK;
    if (c->ssl == NULL) {
        /* Plain HTTP: straight from the page cache (the head is flushed first). */
        while (req->file_left > 0) {
            if (!c->write_ready)
                return GH_AGAIN;
            size_t n = req->file_left > (1u << 20) ? (1u << 20) : (size_t)req->file_left;
            ssize_t sent = sendfile(c->fd, req->file_fd, &req->file_off, n);
            if (sent > 0) {
                req->file_left -= (uint64_t)sent;
                req->bytes_sent += (uint64_t)sent;
                continue;
            }
            if (sent < 0 && errno == EINTR)
                continue;
            if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                c->write_ready = false;
                return GH_AGAIN;
            }
            return GH_EIO; /* the file shrank or the peer is gone */
        }
        return GH_OK;
    }
    size_t n = req->file_left > PUMP_BYTES ? PUMP_BYTES : (size_t)req->file_left;
    int rc = buf_reserve(&c->out, n);
    if (rc != GH_OK)
        return rc;
    ssize_t got = pread(req->file_fd, c->out.data + c->out.len, n, req->file_off);
    if (got <= 0)
        return GH_EIO;
    c->out.len += (size_t)got;
    req->file_off += got;
    req->file_left -= (uint64_t)got;
    req->bytes_sent += (uint64_t)got;
    return req->file_left == 0 ? GH_OK : GH_AGAIN;
}

static int
pump_stream(struct gh_request *req)
{
    struct conn *c = req->conn;
    uint8_t chunk[PUMP_BYTES];
    size_t len = 0;

    if (req->pull == NULL)
        return GH_OK;
    int rc = req->pull(req->pull_arg, chunk, sizeof(chunk), &len);
    if (rc == GH_AGAIN) {
        req->stream_waiting = true;
        return GH_AGAIN;
    }
    if (rc < 0) {
        req->is_body_aborted = true; /* the access log says so */
        return rc;
    }
    if (len > sizeof(chunk))
        return GH_EINVAL;
    if (len == 0) {
        req->pull = NULL;
        if (req->is_chunked_out)
            return h1_write_chunk_header(&c->out, 0);
        return GH_OK;
    }
    if (req->is_chunked_out) {
        rc = h1_write_chunk_header(&c->out, len);
        if (rc == GH_OK)
            rc = buf_append(&c->out, chunk, len);
        if (rc == GH_OK)
            rc = buf_append(&c->out, "\r\n", 2);
    } else {
        rc = buf_append(&c->out, chunk, len);
    }
    if (rc != GH_OK)
        return rc;
    req->bytes_sent += len;
    return GH_AGAIN; /* flushed by conn_run, then pumped again */
}

int
response_body_pump(struct gh_request *req)
{
    if (req->body_form == BODY_FILE)
        return pump_file(req);
    if (req->body_form == BODY_STREAM)
        return pump_stream(req);
    return GH_OK;
}

/* ------------------------------------------------------------ JSON */

#define JSON_DEPTH 16

struct gh_json {
    struct gh_request *req;
    int depth;
    bool need_comma[JSON_DEPTH];
    char closer[JSON_DEPTH];
    int err;
};

static void
json_raw(struct gh_json *j, const char *s, size_t len)
{
    if (j->err == GH_OK)
        j->err = buf_append(&j->req->body, s, len);
}

/* Every string is client input as often as not: json_str.h escapes it and
 * keeps the body valid UTF-8 whatever the bytes. */
static void
json_string(struct gh_json *j, const char *s, size_t len)
{
    if (j->err == GH_OK)
        j->err = json_str_append(&j->req->body, s, len);
}

static void
json_key(struct gh_json *j, const char *key)
{
    if (j->depth <= 0) {
        j->err = GH_EINVAL;
        return;
    }
    if (j->need_comma[j->depth - 1])
        json_raw(j, ",", 1);
    j->need_comma[j->depth - 1] = true;
    if (key != NULL) {
        json_string(j, key, strlen(key));
        json_raw(j, ":", 1);
    }
}

static void
json_open(struct gh_json *j, const char *key, char ch)
{
    if (j->depth > 0)
        json_key(j, key);
    if (j->depth >= JSON_DEPTH) {
        j->err = GH_ELIMIT;
        return;
    }
    json_raw(j, &ch, 1);
    j->closer[j->depth] = ch == '{' ? '}' : ']';
    j->need_comma[j->depth++] = false;
}

static void
json_close(struct gh_json *j, char ch)
{
    if (j->depth <= 0 || j->closer[j->depth - 1] != ch) {
        j->err = GH_EINVAL;
        return;
    }
    j->depth--;
    json_raw(j, &ch, 1);
}

struct gh_json *
gh_response_json(gh_request *req, int status)
{
    struct gh_json *j = arena_alloc(req->arena, sizeof(*j));

    if (j == NULL)
        return NULL;
    j->req = req;
    j->err = body_reset(req);
    if (j->err == GH_OK)
        j->err = gh_response_status(req, status);
    if (j->err == GH_OK)
        j->err = gh_response_header_set(req, "Content-Type", "application/json");
    req->body_form = BODY_BUF;
    json_open(j, NULL, '{');
    return j;
}

void
gh_json_object_begin(struct gh_json *j, const char *key)
{
    if (j != NULL)
        json_open(j, key, '{');
}

void
gh_json_object_end(struct gh_json *j)
{
    if (j != NULL)
        json_close(j, '}');
}

void
gh_json_array_begin(struct gh_json *j, const char *key)
{
    if (j != NULL)
        json_open(j, key, '[');
}

void
gh_json_array_end(struct gh_json *j)
{
    if (j != NULL)
        json_close(j, ']');
}

void
gh_json_strn(struct gh_json *j, const char *key, const char *value, size_t len)
{
    if (j == NULL)
        return;
    json_key(j, key);
    if (value == NULL)
        json_raw(j, "null", 4);
    else
        json_string(j, value, len);
}

void
gh_json_str(struct gh_json *j, const char *key, const char *value)
{
    gh_json_strn(j, key, value, value == NULL ? 0 : strlen(value));
}

void
gh_json_int(struct gh_json *j, const char *key, int64_t value)
{
    char num[32];

    if (j == NULL)
        return;
    json_key(j, key);
    int m = snprintf(num, sizeof(num), "%lld", (long long)value);
    json_raw(j, num, (size_t)m);
}

void
gh_json_bool(struct gh_json *j, const char *key, bool value)
{
    if (j == NULL)
        return;
    json_key(j, key);
    json_raw(j, value ? "true" : "false", value ? 4 : 5);
}

int
gh_json_end(struct gh_json *j)
{
    if (j == NULL)
        return GH_ENOMEM;
    if (j->depth != 1 && j->err == GH_OK)
        j->err = GH_EINVAL; /* unbalanced begin/end */
    while (j->depth > 0)
        json_close(j, j->closer[j->depth - 1]);
    json_raw(j, "\n", 1);
    return j->err;
}
