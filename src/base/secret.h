// SPDX-License-Identifier: MIT
// struct secret: key material and passwords, wiped on free, compared in constant time.
#ifndef GH_BASE_SECRET_H
#define GH_BASE_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct secret {
    uint8_t *bytes; /* owned */
    size_t len;
};

/* Copies len bytes into *s (freeing what it held). GH_OK or GH_ENOMEM. */
int secret_set(struct secret *s, const void *bytes, size_t len);
/* Wipes and frees; leaves *s empty. NULL-safe. */
void secret_free(struct secret *s);
/* Constant-time comparison with a candidate of the same length. */
bool secret_equals(const struct secret *s, const uint8_t *candidate, size_t len);
/* Constant-time comparison of two equal-length byte strings. */
bool secret_memeq(const void *a, const void *b, size_t len);
/* Wipes memory so that the compiler cannot elide it. */
void secret_wipe(void *p, size_t len);

#endif
