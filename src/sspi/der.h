// SPDX-License-Identifier: MIT
// The DER primitives shared by the security library's ASN.1 codecs (SPNEGO's
// NegotiationToken in negotiate/spnego_der.c, MS-CSSP's TSRequest in
// credssp/tsrequest_der.c): strict reading of one TLV (single-octet tags,
// definite and minimal lengths below 16 MiB) and writing of TLV headers.
// Readers borrow from their input and never allocate.
#ifndef GH_SSPI_DER_H
#define GH_SSPI_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

enum {
    DER_TAG_INTEGER = 0x02,
    DER_TAG_BIT_STRING = 0x03,
    DER_TAG_OCTET_STRING = 0x04,
    DER_TAG_OID = 0x06,
    DER_TAG_ENUMERATED = 0x0a,
    DER_TAG_GENERAL_STRING = 0x1b,
    DER_TAG_SEQUENCE = 0x30,
    DER_TAG_APPLICATION_0 = 0x60,
};

/* [n] constructed, context-specific. */
#define DER_CTX(n) ((uint8_t)(0xa0 | (n)))

/* A read position inside a borrowed input. */
struct der {
    const uint8_t *pos;
    size_t left;
};

static inline struct der
der_of(struct slice s)
{
    return (struct der){s.ptr, s.len};
}

/* The next tag, or 0 at the end of the input. */
static inline uint8_t
der_peek_tag(const struct der *d)
{
    return d->left == 0 ? 0 : d->pos[0];
}

/* Reads one TLV with a single-octet tag and a definite, minimally encoded
 * length (X.690 8.1.3, 10.1) of at most 3 length octets. On success
 * *value_out is its contents and d has moved past it; on failure (false) d
 * may have moved. */
bool der_next(struct der *d, uint8_t *tag_out, struct slice *value_out);

/* Reads a TLV that must carry tag want; on failure d is unchanged. */
bool der_expect(struct der *d, uint8_t want, struct slice *value_out);

/* The number of octets of a DER length field for len; a whole TLV's size. */
size_t der_len_octets(size_t len);
size_t der_tlv_size(size_t len);

/* Appends a tag and a length (len < 16 MiB); a TLV; GH_OK or GH_ENOMEM
 * (GH_EINVAL for a length past 16 MiB). */
int der_put_hdr(struct buf *out, uint8_t tag, size_t len);
int der_put_tlv(struct buf *out, uint8_t tag, struct slice value);

#endif
