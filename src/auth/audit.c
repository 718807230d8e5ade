// SPDX-License-Identifier: MIT
// Audit lines. Built in a bounded buffer and written with one log_raw call so
// lines from worker threads never interleave.
#include "auth/audit.h"

#include <string.h>

#include <gatehouse/error.h>

/* Longest value written as is; 4 escaped bytes each, the fields of one line
 * stay well within audit_emit's 4096-byte buffer. */
#define AUDIT_MAX_VALUE_BYTES 256

static bool
is_plain(const char *s)
{
    if (*s == 0)
        return false;
    for (; *s != 0; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("@._:/+-", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static int
field(struct buf *out, const char *key, const char *value)
{
    int err = buf_append(out, " ", 1);

    if (err == GH_OK)
        err = buf_append_str(out, key);
    if (err == GH_OK)
        err = buf_append(out, "=", 1);
    if (err != GH_OK)
        return err;
    if (value == NULL)
        return buf_append_str(out, "-");
    if (is_plain(value) && strlen(value) <= AUDIT_MAX_VALUE_BYTES)
        return buf_append_str(out, value);
    /* Client-chosen values are cut (at a UTF-8 boundary) so that the line
     * always fits its buffer: a line that did not fit would not be written. */
    size_t len = strlen(value), cut = len;
    if (cut > AUDIT_MAX_VALUE_BYTES) {
        cut = AUDIT_MAX_VALUE_BYTES;
        while (cut > 0 && ((unsigned char)value[cut] & 0xC0) == 0x80)
            cut--;
    }
    err = buf_append(out, "\"", 1);
    const unsigned char *end = (const unsigned char *)value + cut;
    for (const unsigned char *p = (const unsigned char *)value; err == GH_OK && p < end; p++) {
        if (*p == '"' || *p == '\\')
            err = buf_printf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7F)
            err = buf_printf(out, "\\x%02x", *p);
        else
            err = buf_append(out, p, 1);
    }
    if (err == GH_OK && cut < len)
        err = buf_append_str(out, "...");
    if (err == GH_OK)
        err = buf_append(out, "\"", 1);
    return err;
}

/* groups="a,b,c": joined, then cut by field() at AUDIT_MAX_VALUE_BYTES
 * (>= AUDIT_MAX_GROUPS_BYTES) with "..." when longer. Nothing without groups. */
static int
groups_field(struct buf *out, const struct auth_audit_event *ev)
{
    char joined[AUDIT_MAX_GROUPS_BYTES + 2];
    size_t n = 0;

    if (ev->group_count == 0 || ev->groups == NULL)
        return GH_OK;
    for (size_t i = 0; i < ev->group_count && n < sizeof(joined) - 1; i++) {
        const char *g = ev->groups[i] != NULL ? ev->groups[i] : "";
        if (i > 0)
            joined[n++] = ',';
        for (; *g != '\0' && n < sizeof(joined) - 1; g++)
            joined[n++] = *g;
    }
    joined[n] = '\0';
    return field(out, "groups", joined);
}

int
audit_format(struct buf *out, const struct auth_audit_event *ev)
{
    /* One line per handshake: the time is formatted once per second per
     * thread, the status by hand (printf costs more than the rest). */
    static _Thread_local time_t when_time = -1;
    static _Thread_local char when[32];
    char status[11] = "0x";
    int err;

    if (ev->time != when_time) {
        struct tm tm;
        if (gmtime_r(&ev->time, &tm) == NULL ||
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            when[0] = 0;
        when_time = ev->time;
    }
    for (int i = 0; i < 8; i++)
        status[2 + i] = "0123456789abcdef"[((uint32_t)ev->sec_status >> (28 - 4 * i)) & 15];
    err = buf_append_str(out, "time=");
    if (err == GH_OK)
        err = buf_append_str(out, when);
    if (err == GH_OK)
        err = buf_append_str(out, " event=auth");
    if (err == GH_OK)
        err = field(out, "peer", ev->peer);
    if (err == GH_OK)
        err = field(out, "scheme", ev->scheme);
    if (err == GH_OK)
        err = field(out, "package", ev->package);
    if (err == GH_OK)
        err = field(out, "principal", ev->principal);
    if (err == GH_OK)
        err = field(out, "result", ev->result);
    if (err == GH_OK)
        err = buf_append(out, " sec_status=", 12);
    if (err == GH_OK)
        err = buf_append(out, status, 10);
    if (err == GH_OK)
        err = field(out, "persisted", ev->is_persisted ? "yes" : "no");
    if (err == GH_OK)
        err = field(out, "cached", ev->is_cached ? "yes" : "no");
    if (err == GH_OK)
        err = field(out, "cb", ev->cb);
    if (err == GH_OK)
        err = field(out, "delegation", ev->is_delegated ? "yes" : "no");
    if (err == GH_OK)
        err = groups_field(out, ev);
    if (err == GH_OK)
        err = field(out, "reason", ev->reason);
    if (err == GH_OK)
        err = buf_append(out, "\n", 1);
    return err;
}

void
audit_emit(struct log *log, const struct auth_audit_event *ev)
{
    struct buf b;

    buf_init(&b, 4096);
    if (audit_format(&b, ev) == GH_OK)
        log_raw(log, (const char *)b.data, b.len);
    buf_free(&b);
}
