// SPDX-License-Identifier: MIT
// A strict, bounded reader for the NDR (MS-RPCE 2.2.5 / C706 chapter 14)
// that PAC buffers use: the type serialization version 1 headers, aligned
// little-endian scalars, unique-pointer referent ids, conformant(-varying)
// arrays, RPC_UNICODE_STRING and RPC_SID. Only what MS-PAC needs.
//
// Every read is bounds-checked and the first failure sticks (base/reader.h),
// so a decoder reads a whole structure and tests pac_ndr_ok() once.
#ifndef GH_SSPI_KERBEROS_PAC_NDR_H
#define GH_SSPI_KERBEROS_PAC_NDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"
#include "sspi/sid.h"

/* The longest string a PAC field may carry, in UTF-16 code units. */
#define PAC_NDR_STRING_MAX_UNITS 1024

struct pac_ndr {
    const uint8_t *base; /* borrowed: the stream (after the headers) */
    size_t len;
    size_t pos;
    bool failed;
};

/* An RPC_UNICODE_STRING as it appears in its structure (MS-DTYP 2.3.10):
 * byte lengths and the referent of its deferred buffer. */
struct pac_ndr_ustr {
    uint16_t length_bytes;
    uint16_t max_length_bytes;
    uint32_t referent; /* 0: NULL pointer */
};

/* Reads the type serialization version 1 headers (MS-RPCE 2.2.6.1 common
 * header: version 1, little-endian 0x10, length 8, filler; 2.2.6.2 private
 * header: object buffer length, a multiple of 8, within the input) and sets
 * r up over the object buffer. SEC_E_OK or SEC_E_INVALID_TOKEN. */
SECURITY_STATUS pac_ndr_begin_type(struct pac_ndr *r, struct slice in);

bool pac_ndr_ok(const struct pac_ndr *r);
void pac_ndr_fail(struct pac_ndr *r);
/* Aligns to n (2, 4 or 8) from the start of the object buffer; the padding
 * must be within the stream. */
void pac_ndr_align(struct pac_ndr *r, size_t n);
uint16_t pac_ndr_u16(struct pac_ndr *r); /* each aligns to its own size first */
uint32_t pac_ndr_u32(struct pac_ndr *r);
void pac_ndr_skip(struct pac_ndr *r, size_t n);
size_t pac_ndr_left(const struct pac_ndr *r);

/* The inline part of an RPC_UNICODE_STRING (Length, MaximumLength, pointer).
 * Fails on an odd length, Length > MaximumLength, or a NULL pointer with a
 * non-zero Length. */
void pac_ndr_ustr_header(struct pac_ndr *r, struct pac_ndr_ustr *h);

/* The deferred conformant varying array of a string whose header is h, as
 * malloc'd UTF-8 into *out (NULL for a NULL pointer). MaximumCount must be
 * MaximumLength / 2, Offset 0 and ActualCount Length / 2; at most
 * PAC_NDR_STRING_MAX_UNITS; valid UTF-16 without U+0000.
 * SEC_E_OK, SEC_E_INVALID_TOKEN or SEC_E_INSUFFICIENT_MEMORY; *out is NULL
 * on failure. */
SECURITY_STATUS pac_ndr_ustr_body(struct pac_ndr *r, const struct pac_ndr_ustr *h, char **out);

/* A deferred RPC_SID (MS-DTYP 2.4.2.3): the conformance count, then
 * Revision 1, SubAuthorityCount (equal to the count, at most 15),
 * IdentifierAuthority and the sub-authorities. */
void pac_ndr_sid(struct pac_ndr *r, struct sid *out);

/* The conformance count of a conformant array, which must equal expected. */
void pac_ndr_conformance(struct pac_ndr *r, uint32_t expected);

/* UTF-16LE bytes to malloc'd UTF-8 (the MS-PAC offset/length strings).
 * bytes must be even and at most PAC_NDR_STRING_MAX_UNITS units.
 * SEC_E_OK, SEC_E_INVALID_TOKEN or SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS pac_ndr_utf16le(const uint8_t *p, size_t bytes, char **out);

#endif
