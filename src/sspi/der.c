// SPDX-License-Identifier: MIT
// Shared DER primitives (see der.h).
#include "sspi/der.h"

#include <gatehouse/error.h>

bool
der_next(struct der *d, uint8_t *tag_out, struct slice *value_out)
{
    size_t len, nbytes;

    if (d->left < 2)
        return false;
    uint8_t tag = d->pos[0];
    uint8_t first = d->pos[1];
    if ((tag & 0x1f) == 0x1f) /* high tag numbers occur in none of our grammars */
        return false;
    size_t hdr = 2;
    if (first < 0x80) {
        len = first;
    } else {
        nbytes = first & 0x7f;
        if (nbytes == 0 || nbytes > 3) /* indefinite form, or > 16 MiB */
            return false;
        if (d->left < 2 + nbytes)
            return false;
        len = 0;
        for (size_t i = 0; i < nbytes; i++)
            len = (len << 8) | d->pos[2 + i];
        if (d->pos[2] == 0 || len < 0x80) /* not minimal */
            return false;
        hdr += nbytes;
    }
    if (len > d->left - hdr)
        return false;
    *tag_out = tag;
    *value_out = slice_make(d->pos + hdr, len);
    d->pos += hdr + len;
    d->left -= hdr + len;
    return true;
}

bool
der_expect(struct der *d, uint8_t want, struct slice *value_out)
{
    struct der save = *d;
    uint8_t tag;

    if (!der_next(d, &tag, value_out) || tag != want) {
        *d = save;
        return false;
    }
    return true;
}

size_t
der_len_octets(size_t len)
{
    if (len < 0x80)
        return 1;
    if (len <= 0xff)
        return 2;
    if (len <= 0xffff)
        return 3;
    return 4;
}

size_t
der_tlv_size(size_t len)
{
    return 1 + der_len_octets(len) + len;
}

int
der_put_hdr(struct buf *out, uint8_t tag, size_t len)
{
    uint8_t h[5];
    size_t n = 0;

    if (len > 0xffffff)
        return GH_EINVAL;
    h[n++] = tag;
    if (len < 0x80) {
        h[n++] = (uint8_t)len;
    } else if (len <= 0xff) {
        h[n++] = 0x81;
        h[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[n++] = 0x82;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 0x83;
        h[n++] = (uint8_t)(len >> 16);
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    }
    return buf_append(out, h, n);
}

int
der_put_tlv(struct buf *out, uint8_t tag, struct slice value)
{
    int err = der_put_hdr(out, tag, value.len);

    if (err != GH_OK)
        return err;
    return buf_append(out, value.ptr, value.len);
}
