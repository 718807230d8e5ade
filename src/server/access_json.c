// SPDX-License-Identifier: MIT
// The JSON access log (`access_log PATH json;`): one JSON object per line
// (JSON Lines), fields in docs/config.md. Every string is client input or may
// be (target, Host, User-Agent, Referer, the user name typed for Basic):
// json_str.h escapes quotes, backslashes and control characters and turns
// bytes that are not UTF-8 into \u00XX, so each line parses whatever the
// client sent and no line can be split or forged.
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/json_str.h"
#include "server/server.h"

/* Client strings are cut to these many bytes before escaping (at most six
 * output bytes each), which bounds a line well below ACCESS_JSON_MAX. */
#define CUT_TARGET      4096
#define CUT_HEADER      512
#define ACCESS_JSON_MAX (6 * (CUT_TARGET + 5 * CUT_HEADER) + 1024)

static int
key(struct buf *b, const char *name, bool *first)
{
    int err = buf_printf(b, "%s\"%s\":", *first ? "" : ",", name);
    *first = false;
    return err;
}

static int
str_field(struct buf *b, bool *first, const char *name, const char *s, size_t len, size_t cut)
{
    int err = key(b, name, first);
    if (err != GH_OK)
        return err;
    if (s == NULL)
        return buf_append(b, "null", 4);
    return json_str_append(b, s, len < cut ? len : cut);
}

static int
cstr_field(struct buf *b, bool *first, const char *name, const char *s, size_t cut)
{
    return str_field(b, first, name, s, s != NULL ? strlen(s) : 0, cut);
}

static int
num_field(struct buf *b, bool *first, const char *name, unsigned long long v)
{
    int err = key(b, name, first);
    return err == GH_OK ? buf_printf(b, "%llu", v) : err;
}

static int
header_field(struct buf *b, bool *first, const char *json_name, const struct gh_request *req,
             const char *header)
{
    struct gh_str v;
    if (req == NULL || gh_request_header(req, header, &v) != GH_OK)
        return cstr_field(b, first, json_name, NULL, 0);
    return str_field(b, first, json_name, v.ptr, v.len, CUT_HEADER);
}

static const char *
auth_type_text(const struct gh_auth_record *a)
{
    static const char *const names[] = {NULL,        "Basic",    "Digest",  "NTLM",
                                        "Negotiate", "Kerberos", "CredSSP", "Certificate"};
    if (a->status != GH_AUTH_SUCCESS || (unsigned)a->type >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[a->type];
}

void
access_log_json(struct worker *w, struct config *cfg, const struct access_fields *f)
{
    const struct gh_request *req = f->req;
    struct buf b;
    bool first = true;
    char proto[16];
    int err;

    buf_init(&b, ACCESS_JSON_MAX);
    err = buf_append(&b, "{", 1);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "time", f->time_text, 64);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "peer", f->peer, 128);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "method", req != NULL ? req->method : NULL, CUT_HEADER);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "target", req != NULL ? req->target : NULL, CUT_TARGET);
    snprintf(proto, sizeof(proto), "HTTP/1.%d", req != NULL ? req->minor_version : 0);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "protocol", req != NULL ? proto : NULL, 16);
    if (err == GH_OK)
        err = num_field(&b, &first, "status", (unsigned long long)f->status);
    if (err == GH_OK)
        err = num_field(&b, &first, "bytes_sent", req != NULL ? req->bytes_sent : 0);
    if (err == GH_OK)
        err = num_field(&b, &first, "duration_ms", f->duration_ms);
    const struct gh_auth_record *a = req != NULL ? &req->auth.record.pub : NULL;
    bool authed = a != NULL && a->status == GH_AUTH_SUCCESS;
    if (err == GH_OK)
        err = cstr_field(&b, &first, "user", authed ? a->user_name : NULL, CUT_HEADER);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "auth", authed ? auth_type_text(a) : NULL, 32);
    if (err == GH_OK)
        err = cstr_field(&b, &first, "location",
                         req != NULL && req->loc != NULL ? req->loc->prefix : NULL, CUT_HEADER);
    if (err == GH_OK)
        err = header_field(&b, &first, "host", req, "Host");
    if (err == GH_OK)
        err = header_field(&b, &first, "user_agent", req, "User-Agent");
    if (err == GH_OK)
        err = header_field(&b, &first, "referer", req, "Referer");
    if (err == GH_OK)
        err = key(&b, "aborted", &first);
    if (err == GH_OK)
        err = buf_append_str(&b, req != NULL && req->is_body_aborted ? "true" : "false");
    if (err == GH_OK)
        err = buf_append(&b, "}\n", 2);
    if (err == GH_OK)
        access_log_append(w, cfg, (const char *)b.data, b.len);
    buf_free(&b);
}
