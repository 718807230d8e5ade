// SPDX-License-Identifier: MIT
// URL path normalization, Range parsing and entity-tag matching for the static
// module. Everything here works on client input: bounded, allocation-free, and
// every refusal is an ordinary return value.
#include "modules/static_path.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>

#include "base/hex.h"

/* A deeper path is refused: it bounds the segment stack below. */
#define MAX_SEGMENTS 64

/* Decodes one raw segment (no '/') into out[0, cap); GH_OK, GH_EPROTO, GH_ELIMIT. */
static int
decode_segment(const char *seg, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (c == '%') {
            if (i + 2 >= len)
                return GH_EPROTO;
            int hi = hex_digit_value((uint8_t)seg[i + 1]);
            int lo = hex_digit_value((uint8_t)seg[i + 2]);
            if (hi < 0 || lo < 0)
                return GH_EPROTO;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c == '/')
                return GH_EPROTO; /* an encoded slash would hide a boundary */
        }
        if (c == '\0' || c < 0x20 || c == 0x7f)
            return GH_EPROTO;
        if (n >= cap)
            return GH_ELIMIT;
        out[n++] = (char)c;
    }
    *out_len = n;
    return GH_OK;
}

int
static_path_normalize(const char *path, size_t len, char *out, size_t cap, size_t *out_len,
                      bool *is_dir_out)
{
    size_t starts[MAX_SEGMENTS]; /* where each kept segment begins in out */
    size_t depth = 0;
    size_t n = 0; /* bytes used in out */
    bool ends_in_dot = false;
    size_t i = 0;

    *out_len = 0;
    *is_dir_out = false;
    if (cap == 0)
        return GH_ELIMIT;
    out[0] = '\0';
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t raw_len = j - i;
        if (raw_len == 0) {
            i = j + 1; /* empty segment: "//" or the leading '/' */
            continue;
        }
        /* Decode in place at the end of out, then decide whether to keep it. */
        size_t sep = depth > 0 ? 1 : 0;
        if (n + sep >= cap)
            return GH_ELIMIT;
        size_t seg_len = 0;
        int rc = decode_segment(path + i, raw_len, out + n + sep, cap - n - sep - 1, &seg_len);
        if (rc != GH_OK) {
            out[0] = '\0';
            return rc;
        }
        const char *seg = out + n + sep;
        if (seg_len == 1 && seg[0] == '.') {
            ends_in_dot = true;
        } else if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (depth == 0) {
                out[0] = '\0';
                return GH_EPROTO; /* above the root */
            }
            depth--;
            n = starts[depth] > 0 ? starts[depth] - 1 : 0;
            ends_in_dot = true;
        } else {
            if (depth == MAX_SEGMENTS) {
                out[0] = '\0';
                return GH_ELIMIT;
            }
            if (sep)
                out[n] = '/';
            starts[depth++] = n + sep;
            n += sep + seg_len;
            ends_in_dot = false;
        }
        out[n] = '\0';
        i = j + 1;
    }
    out[n] = '\0';
    *out_len = n;
    *is_dir_out = depth == 0 || ends_in_dot || (len > 0 && path[len - 1] == '/');
    return GH_OK;
}

/* Parses 1*DIGIT at s[*pos]; false on no digit or overflow. */
static bool
parse_u64(const char *s, size_t len, size_t *pos, uint64_t *v_out)
{
    uint64_t v = 0;
    size_t start = *pos;

    while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9') {
        unsigned d = (unsigned)(s[*pos] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        (*pos)++;
    }
    *v_out = v;
    return *pos > start;
}

static void
skip_ows(const char *s, size_t len, size_t *pos)
{
    while (*pos < len && (s[*pos] == ' ' || s[*pos] == '\t'))
        (*pos)++;
}

int
static_range_parse(const char *value, size_t len, uint64_t size, struct static_range *range_out)
{
    size_t pos = 0;
    uint64_t first = 0, last = 0;
    bool has_first, has_last;

    skip_ows(value, len, &pos);
    /* RFC 9110 14.1: the range unit is case-insensitive. */
    if (len - pos < 6 || strncasecmp(value + pos, "bytes=", 6) != 0)
        return GH_ENOTFOUND;
    pos += 6;
    skip_ows(value, len, &pos);
    has_first = parse_u64(value, len, &pos, &first);
    if (pos >= len || value[pos] != '-')
        return GH_ENOTFOUND;
    pos++;
    has_last = parse_u64(value, len, &pos, &last);
    skip_ows(value, len, &pos);
    if (pos < len)
        return GH_ENOTFOUND; /* a list (',') or trailing garbage: serve it whole */
    if (!has_first && !has_last)
        return GH_ENOTFOUND;
    if (has_first && has_last && last < first)
        return GH_ENOTFOUND; /* invalid range-spec: the header is ignored */
    if (!has_first) {
        /* suffix-range: the last `last` bytes (14.1.2) */
        if (last == 0 || size == 0)
            return GH_ELIMIT;
        range_out->first = last >= size ? 0 : size - last;
        range_out->last = size - 1;
        return GH_OK;
    }
    if (first >= size)
        return GH_ELIMIT;
    range_out->first = first;
    range_out->last = has_last && last < size ? last : size - 1;
    return GH_OK;
}

bool
static_etag_match(const char *list, size_t len, const char *etag)
{
    size_t etag_len = strlen(etag);
    size_t pos = 0;

    for (;;) {
        while (pos < len && (list[pos] == ' ' || list[pos] == '\t' || list[pos] == ','))
            pos++;
        if (pos >= len)
            return false;
        if (list[pos] == '*')
            return true;
        /* Weak comparison: a W/ prefix on either side does not matter. */
        if (len - pos >= 2 && list[pos] == 'W' && list[pos + 1] == '/')
            pos += 2;
        if (pos >= len || list[pos] != '"')
            return false; /* malformed: no match, send the full response */
        size_t start = pos++;
        while (pos < len && list[pos] != '"')
            pos++;
        if (pos >= len)
            return false;
        pos++;
        const char *tag = etag;
        size_t tag_len = etag_len;
        if (tag_len >= 2 && tag[0] == 'W' && tag[1] == '/') {
            tag += 2;
            tag_len -= 2;
        }
        if (pos - start == tag_len && memcmp(list + start, tag, tag_len) == 0)
            return true;
    }
}
