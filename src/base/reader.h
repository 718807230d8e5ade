// SPDX-License-Identifier: MIT
// struct reader: bounds-checked little/big-endian reads whose failure sticks.
#ifndef GH_BASE_READER_H
#define GH_BASE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/slice.h"

struct reader {
    const uint8_t *pos; /* borrowed */
    size_t left;
    bool failed; /* once set, every read yields zeros: test it once, at the end */
};

static inline struct reader
reader_make(struct slice s)
{
    return (struct reader){s.ptr, s.len, false};
}

static inline const uint8_t *
reader_take(struct reader *rd, size_t n)
{
    if (rd->failed || rd->left < n) {
        rd->failed = true;
        return NULL;
    }
    const uint8_t *p = rd->pos;
    rd->pos += n;
    rd->left -= n;
    return p;
}

static inline uint8_t
reader_u8(struct reader *rd)
{
    const uint8_t *p = reader_take(rd, 1);
    return p == NULL ? 0 : p[0];
}

static inline uint16_t
reader_u16le(struct reader *rd)
{
    const uint8_t *p = reader_take(rd, 2);
    return p == NULL ? 0 : (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
reader_u32le(struct reader *rd)
{
    const uint8_t *p = reader_take(rd, 4);
    return p == NULL ? 0
                     : (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                           ((uint32_t)p[3] << 24);
}

static inline uint64_t
reader_u64le(struct reader *rd)
{
    uint64_t lo = reader_u32le(rd);
    uint64_t hi = reader_u32le(rd);
    return lo | (hi << 32);
}

static inline uint32_t
reader_u32be(struct reader *rd)
{
    const uint8_t *p = reader_take(rd, 4);
    return p == NULL ? 0
                     : ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
                           (uint32_t)p[3];
}

static inline void
reader_copy(struct reader *rd, void *dst, size_t n)
{
    const uint8_t *p = reader_take(rd, n);
    if (p == NULL)
        memset(dst, 0, n);
    else
        memcpy(dst, p, n);
}

#endif
