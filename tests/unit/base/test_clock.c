// SPDX-License-Identifier: MIT
// Unit tests for src/base/clock.c: the value is CLOCK_MONOTONIC in
// milliseconds, and successive readings never go backwards.
#include <time.h>

#include "base/clock.h"
#include "harness/check.h"

static uint64_t
reference_ms(void)
{
    struct timespec ts;

    CHECK_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
main(void)
{
    /* Bracketed by two readings of the clock it claims to read: catches a
     * wrong clock (REALTIME is decades away) or a wrong unit (us, s). */
    uint64_t before = reference_ms();
    uint64_t now = clock_monotonic_ms();
    uint64_t after = reference_ms();

    CHECK(before <= now);
    CHECK(now <= after);

    uint64_t last = clock_monotonic_ms();
    for (int i = 0; i < 10000; i++) {
        uint64_t t = clock_monotonic_ms();

        CHECK(t >= last);
        last = t;
    }
    return check_done("base/clock");
}
