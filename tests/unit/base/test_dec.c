// SPDX-License-Identifier: MIT
// Unit tests for src/base/dec.c: edges of the range, no NUL written.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/dec.h"
#include "harness/check.h"

static const uint64_t values[] = {
    0, 1, 9, 10, 99, 100, 65535, 4294967295u, 10000000000000000000u, UINT64_MAX,
};

int
main(void)
{
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char got[24], want[24];

        memset(got, 'x', sizeof(got));
        char *end = dec_put_u64(got, values[i]);
        snprintf(want, sizeof(want), "%" PRIu64, values[i]);
        CHECK_EQ((size_t)(end - got), strlen(want));
        CHECK_MEM_EQ(got, want, strlen(want));
        CHECK_EQ(*end, 'x'); /* nothing past the digits */
    }
    return check_done("test_dec");
}
