// SPDX-License-Identifier: MIT
// Field codec of packed contexts (see packed.h).
#include "sspi/packed.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

static SECURITY_STATUS
status_of(int err)
{
    return err == GH_OK ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

SECURITY_STATUS
packed_put_u8(struct buf *out, uint8_t v)
{
    return status_of(buf_append(out, &v, 1));
}

SECURITY_STATUS
packed_put_u32(struct buf *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    return status_of(buf_append(out, b, sizeof(b)));
}

SECURITY_STATUS
packed_put_u64(struct buf *out, uint64_t v)
{
    SECURITY_STATUS st = packed_put_u32(out, (uint32_t)v);

    return st == SEC_E_OK ? packed_put_u32(out, (uint32_t)(v >> 32)) : st;
}

SECURITY_STATUS
packed_put_bytes(struct buf *out, const void *p, size_t len)
{
    if (len >= UINT32_MAX)
        return SEC_E_INSUFFICIENT_MEMORY;
    SECURITY_STATUS st = packed_put_u32(out, (uint32_t)len);

    return st == SEC_E_OK ? status_of(buf_append(out, p, len)) : st;
}

SECURITY_STATUS
packed_put_str(struct buf *out, const char *s)
{
    if (s == NULL)
        return packed_put_u32(out, UINT32_MAX);
    return packed_put_bytes(out, s, strlen(s));
}

bool
packed_get_bytes(struct reader *rd, size_t max, struct slice *out)
{
    uint32_t len = reader_u32le(rd);
    const uint8_t *p;

    if (rd->failed || len > max)
        return false;
    p = reader_take(rd, len);
    if (p == NULL)
        return false;
    *out = slice_make(p, len);
    return true;
}

bool
packed_get_str(struct reader *rd, char **out, bool *oom_out)
{
    uint32_t len = reader_u32le(rd);
    const uint8_t *p;

    *out = NULL;
    if (rd->failed)
        return false;
    if (len == UINT32_MAX)
        return true;
    if (len > PACKED_MAX_STRING)
        return false;
    p = reader_take(rd, len);
    if (p == NULL || memchr(p, 0, len) != NULL)
        return false;
    *out = malloc((size_t)len + 1);
    if (*out == NULL) {
        *oom_out = true;
        return false;
    }
    memcpy(*out, p, len);
    (*out)[len] = '\0';
    return true;
}
