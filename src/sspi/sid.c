// SPDX-License-Identifier: MIT
// SIDs in binary and string form (MS-DTYP 2.4.2, 2.4.2.1).
#include "sspi/sid.h"

#include <stdio.h>
#include <string.h>

static bool
sid_valid(const struct sid *s)
{
    return s->revision == SID_REVISION && s->sub_count <= SID_MAX_SUB_AUTHORITIES;
}

bool
sid_to_string(const struct sid *s, char *out, size_t out_len)
{
    uint64_t auth = 0;
    size_t n;
    int w;

    if (out_len == 0)
        return false;
    out[0] = '\0';
    if (!sid_valid(s) || out_len < SID_STRING_MAX)
        return false;
    for (int i = 0; i < 6; i++)
        auth = (auth << 8) | s->authority[i];
    /* MS-DTYP 2.4.2.1: decimal when the authority fits in 32 bits. */
    if (auth < (1ull << 32))
        w = snprintf(out, out_len, "S-%u-%llu", s->revision, (unsigned long long)auth);
    else
        w = snprintf(out, out_len, "S-%u-0x%012llX", s->revision, (unsigned long long)auth);
    if (w < 0 || (size_t)w >= out_len)
        goto fail;
    n = (size_t)w;
    for (unsigned i = 0; i < s->sub_count; i++) {
        w = snprintf(out + n, out_len - n, "-%u", s->sub[i]);
        if (w < 0 || (size_t)w >= out_len - n)
            goto fail;
        n += (size_t)w;
    }
    return true;
fail:
    out[0] = '\0';
    return false;
}

/* A decimal number of at most max, without sign or leading zeros beyond "0". */
static bool
parse_dec(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t digits = 0;

    while (*s >= '0' && *s <= '9') {
        if (digits == 1 && v == 0)
            return false; /* "01" */
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return false;
        s++;
        digits++;
    }
    if (digits == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool
parse_hex_authority(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t digits = 0;

    for (; digits < 12; digits++, s++) {
        char c = *s;
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        v = (v << 4) | d;
    }
    if (digits == 0 || (*s >= '0' && *s <= '9'))
        return false;
    *p = s;
    *out = v;
    return true;
}

bool
sid_from_string(const char *text, struct sid *out)
{
    const char *p = text;
    uint64_t rev, auth, v;
    struct sid s = {0};

    if (p == NULL || (p[0] != 'S' && p[0] != 's') || p[1] != '-')
        return false;
    p += 2;
    if (!parse_dec(&p, 255, &rev) || rev != SID_REVISION || *p != '-')
        return false;
    p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        if (!parse_hex_authority(&p, &auth))
            return false;
    } else if (!parse_dec(&p, (1ull << 48) - 1, &auth)) {
        return false;
    }
    s.revision = SID_REVISION;
    for (int i = 5; i >= 0; i--) {
        s.authority[i] = (uint8_t)(auth & 0xff);
        auth >>= 8;
    }
    while (*p == '-') {
        p++;
        if (s.sub_count == SID_MAX_SUB_AUTHORITIES || !parse_dec(&p, UINT32_MAX, &v))
            return false;
        s.sub[s.sub_count++] = (uint32_t)v;
    }
    if (*p != '\0')
        return false;
    *out = s;
    return true;
}

bool
sid_compose(const struct sid *domain, uint32_t rid, struct sid *out)
{
    if (!sid_valid(domain) || domain->sub_count >= SID_MAX_SUB_AUTHORITIES)
        return false;
    *out = *domain;
    out->sub[out->sub_count++] = rid;
    return true;
}

bool
sid_equal(const struct sid *a, const struct sid *b)
{
    return a->revision == b->revision && a->sub_count == b->sub_count &&
           memcmp(a->authority, b->authority, 6) == 0 &&
           (a->sub_count == 0 || memcmp(a->sub, b->sub, a->sub_count * sizeof(a->sub[0])) == 0);
}

size_t
sid_binary_len(const struct sid *s)
{
    return SID_BINARY_HEADER_BYTES + 4u * s->sub_count;
}

/*  0 Revision  1 SubAuthorityCount  2 IdentifierAuthority[6] (big-endian)
 *  8 SubAuthority[SubAuthorityCount] (DWORD32 each, native order in memory) */
void
sid_to_binary(const struct sid *s, void *out)
{
    uint8_t *p = out;

    p[0] = s->revision;
    p[1] = s->sub_count;
    memcpy(p + 2, s->authority, 6);
    memcpy(p + SID_BINARY_HEADER_BYTES, s->sub, 4u * s->sub_count);
}

bool
sid_from_binary(const void *in, struct sid *out)
{
    const uint8_t *p = in;
    struct sid s = {0};

    if (p == NULL || p[0] != SID_REVISION || p[1] > SID_MAX_SUB_AUTHORITIES)
        return false;
    s.revision = p[0];
    s.sub_count = p[1];
    memcpy(s.authority, p + 2, 6);
    memcpy(s.sub, p + SID_BINARY_HEADER_BYTES, 4u * s.sub_count);
    *out = s;
    return true;
}

void
sid_unix(uint32_t kind, uint32_t id, struct sid *out)
{
    *out = (struct sid){.revision = SID_REVISION,
                        .sub_count = 2,
                        .authority = {0, 0, 0, 0, 0, SID_UNIX_AUTHORITY},
                        .sub = {kind, id}};
}
