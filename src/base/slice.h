// SPDX-License-Identifier: MIT
// struct slice: a borrowed view of bytes, used wherever bytes are parsed.
#ifndef GH_BASE_SLICE_H
#define GH_BASE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slice {
    const uint8_t *ptr; /* borrowed */
    size_t len;
};

#define SLICE_LIT(s) ((struct slice){(const uint8_t *)(s), sizeof(s) - 1})

static inline struct slice
slice_make(const void *ptr, size_t len)
{
    return (struct slice){(const uint8_t *)ptr, len};
}

static inline struct slice
slice_cstr(const char *s)
{
    return (struct slice){(const uint8_t *)s, s == NULL ? 0 : strlen(s)};
}

static inline bool
slice_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* True when s lies entirely inside base[0, len) (an empty slice always does).
 * Compares addresses as integers, so it never forms an out-of-range pointer. */
static inline bool
slice_within(struct slice s, const void *base, size_t len)
{
    uintptr_t b = (uintptr_t)base, p = (uintptr_t)s.ptr;

    return s.len == 0 || (p >= b && s.len <= len && p - b <= len - s.len);
}

/* ASCII case-insensitive comparison (header names, scheme names). */
bool slice_eq_nocase(struct slice a, struct slice b);

#endif
