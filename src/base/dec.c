// SPDX-License-Identifier: MIT
// Decimal digits without printf.
#include "base/dec.h"

char *
dec_put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}
