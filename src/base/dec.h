// SPDX-License-Identifier: MIT
// Decimal digits written by hand where printf would cost more than the rest
// of the line (response heads, peer addresses in audit and access lines).
#ifndef GH_BASE_DEC_H
#define GH_BASE_DEC_H

#include <stdint.h>

/* Writes v in decimal at p (at most 20 bytes, no NUL); returns the end. */
char *dec_put_u64(char *p, uint64_t v);

#endif
