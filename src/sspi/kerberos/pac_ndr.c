// SPDX-License-Identifier: MIT
// NDR primitives for PAC buffers (MS-RPCE 2.2.5, 2.2.6; C706 14).
//
// NDR aligns each scalar to its size, counted from the start of the object
// buffer (which itself starts 8-aligned after the 16 header bytes), and pads
// with bytes whose value is not checked (Windows writes zeros, MIT does not
// care): only the padding's presence within the stream is.
#include "sspi/kerberos/pac_ndr.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "sspi/wide.h"

/* MS-RPCE 2.2.6.1: Version 1, Endianness 0x10 (little), CommonHeaderLength 8. */
#define TYPE_HDR_BYTES 16

SECURITY_STATUS
pac_ndr_begin_type(struct pac_ndr *r, struct slice in)
{
    uint32_t obj_len;

    *r = (struct pac_ndr){.failed = true};
    if (in.len < TYPE_HDR_BYTES)
        return SEC_E_INVALID_TOKEN;
    if (in.ptr[0] != 1 || in.ptr[1] != 0x10 || in.ptr[2] != 8 || in.ptr[3] != 0)
        return SEC_E_INVALID_TOKEN;
    obj_len = (uint32_t)in.ptr[8] | ((uint32_t)in.ptr[9] << 8) | ((uint32_t)in.ptr[10] << 16) |
              ((uint32_t)in.ptr[11] << 24);
    /* 2.2.6.2: ObjectBufferLength, a multiple of 8, covering the object. */
    if (obj_len % 8 != 0 || obj_len > in.len - TYPE_HDR_BYTES)
        return SEC_E_INVALID_TOKEN;
    *r = (struct pac_ndr){.base = in.ptr + TYPE_HDR_BYTES, .len = obj_len};
    return SEC_E_OK;
}

bool
pac_ndr_ok(const struct pac_ndr *r)
{
    return !r->failed;
}

void
pac_ndr_fail(struct pac_ndr *r)
{
    r->failed = true;
}

size_t
pac_ndr_left(const struct pac_ndr *r)
{
    return r->failed ? 0 : r->len - r->pos;
}

static const uint8_t *
take(struct pac_ndr *r, size_t n)
{
    const uint8_t *p;

    if (r->failed || r->len - r->pos < n) {
        r->failed = true;
        return NULL;
    }
    p = r->base + r->pos;
    r->pos += n;
    return p;
}

void
pac_ndr_align(struct pac_ndr *r, size_t n)
{
    size_t pad = (n - r->pos % n) % n;

    (void)take(r, pad);
}

void
pac_ndr_skip(struct pac_ndr *r, size_t n)
{
    (void)take(r, n);
}

uint16_t
pac_ndr_u16(struct pac_ndr *r)
{
    const uint8_t *p;

    pac_ndr_align(r, 2);
    p = take(r, 2);
    return p == NULL ? 0 : (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t
pac_ndr_u32(struct pac_ndr *r)
{
    const uint8_t *p;

    pac_ndr_align(r, 4);
    p = take(r, 4);
    return p == NULL ? 0
                     : (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                           ((uint32_t)p[3] << 24);
}

void
pac_ndr_ustr_header(struct pac_ndr *r, struct pac_ndr_ustr *h)
{
    h->length_bytes = pac_ndr_u16(r);
    h->max_length_bytes = pac_ndr_u16(r);
    h->referent = pac_ndr_u32(r);
    if (h->length_bytes % 2 != 0 || h->max_length_bytes % 2 != 0 ||
        h->length_bytes > h->max_length_bytes || (h->referent == 0 && h->length_bytes != 0))
        r->failed = true;
}

void
pac_ndr_conformance(struct pac_ndr *r, uint32_t expected)
{
    if (pac_ndr_u32(r) != expected)
        r->failed = true;
}

SECURITY_STATUS
pac_ndr_utf16le(const uint8_t *p, size_t bytes, char **out)
{
    uint16_t units[PAC_NDR_STRING_MAX_UNITS];
    size_t n = bytes / 2;
    int err;

    *out = NULL;
    if (bytes % 2 != 0 || n > PAC_NDR_STRING_MAX_UNITS)
        return SEC_E_INVALID_TOKEN;
    for (size_t i = 0; i < n; i++)
        units[i] = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    err = wide_to_utf8(units, n, out, NULL);
    if (err == GH_ENOMEM)
        return SEC_E_INSUFFICIENT_MEMORY;
    return err == GH_OK ? SEC_E_OK : SEC_E_INVALID_TOKEN;
}

SECURITY_STATUS
pac_ndr_ustr_body(struct pac_ndr *r, const struct pac_ndr_ustr *h, char **out)
{
    const uint8_t *p;
    uint32_t max_count, offset, actual;

    *out = NULL;
    if (r->failed)
        return SEC_E_INVALID_TOKEN;
    if (h->referent == 0)
        return SEC_E_OK;
    /* MS-RPCE 2.2.5.3.4.2 (conformant varying array): MaximumCount, Offset,
     * ActualCount, then ActualCount WCHARs; RPC_UNICODE_STRING ties them to
     * MaximumLength and Length (MS-DTYP 2.3.10). */
    max_count = pac_ndr_u32(r);
    offset = pac_ndr_u32(r);
    actual = pac_ndr_u32(r);
    if (r->failed || max_count != h->max_length_bytes / 2u || offset != 0 ||
        actual != h->length_bytes / 2u || actual > PAC_NDR_STRING_MAX_UNITS) {
        r->failed = true;
        return SEC_E_INVALID_TOKEN;
    }
    p = take(r, (size_t)actual * 2);
    if (p == NULL)
        return SEC_E_INVALID_TOKEN;
    return pac_ndr_utf16le(p, (size_t)actual * 2, out);
}

void
pac_ndr_sid(struct pac_ndr *r, struct sid *out)
{
    uint32_t count = pac_ndr_u32(r); /* conformance: SubAuthorityCount */
    const uint8_t *p = take(r, 8);

    memset(out, 0, sizeof(*out));
    if (p == NULL)
        return;
    if (p[0] != SID_REVISION || p[1] != count || count > SID_MAX_SUB_AUTHORITIES) {
        r->failed = true;
        return;
    }
    out->revision = p[0];
    out->sub_count = p[1];
    memcpy(out->authority, p + 2, 6);
    for (uint32_t i = 0; i < count; i++)
        out->sub[i] = pac_ndr_u32(r);
    if (r->failed)
        memset(out, 0, sizeof(*out));
}
