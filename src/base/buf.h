// SPDX-License-Identifier: MIT
// struct buf: a growable byte buffer with a hard maximum set at init.
#ifndef GH_BASE_BUF_H
#define GH_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

struct buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends that would exceed it fail with GH_ELIMIT */
};

/* Prepares an empty buffer that may grow up to max_bytes. Never allocates. */
void buf_init(struct buf *b, size_t max_bytes);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Like buf_free, but wipes the bytes first (secrets, tokens). */
void buf_free_wipe(struct buf *b);
/* Ensures room for extra_bytes more. Returns GH_OK, GH_ELIMIT or GH_ENOMEM. */
int buf_reserve(struct buf *b, size_t extra_bytes);
/* Appends bytes. Returns GH_OK, GH_ELIMIT or GH_ENOMEM; on failure b is unchanged. */
int buf_append(struct buf *b, const void *bytes, size_t len);
int buf_append_str(struct buf *b, const char *s);
/* Appends printf-formatted text (no NUL). Returns GH_OK, GH_ELIMIT or GH_ENOMEM. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drops the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

static inline struct slice
buf_slice(const struct buf *b)
{
    return slice_make(b->data, b->len);
}

#endif
