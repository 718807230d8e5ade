// SPDX-License-Identifier: MIT
// Growable buffers with a hard cap: every caller chooses its limit up front,
// so no input can make a buffer grow without bound.
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <gatehouse/error.h>

void
buf_init(struct buf *b, size_t max_bytes)
{
    *b = (struct buf){.max = max_bytes};
}

void
buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
buf_free_wipe(struct buf *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->cap);
    buf_free(b);
}

int
buf_reserve(struct buf *b, size_t extra_bytes)
{
    size_t need, cap;
    uint8_t *p;

    if (extra_bytes > b->max || b->len > b->max - extra_bytes)
        return GH_ELIMIT;
    need = b->len + extra_bytes;
    if (need <= b->cap)
        return GH_OK;
    cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    p = realloc(b->data, cap);
    if (p == NULL)
        return GH_ENOMEM;
    b->data = p;
    b->cap = cap;
    return GH_OK;
}

int
buf_append(struct buf *b, const void *bytes, size_t len)
{
    int err = buf_reserve(b, len);

    if (err != GH_OK)
        return err;
    if (len > 0)
        memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return GH_OK;
}

int
buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    int err;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return GH_EINVAL;
    /* +1 for vsnprintf's NUL, which is not counted in len. */
    err = buf_reserve(b, (size_t)n + 1);
    if (err != GH_OK)
        return err;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return GH_OK;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int err;

    va_start(ap, fmt);
    err = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

void
buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
