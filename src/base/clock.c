// SPDX-License-Identifier: MIT
// The monotonic millisecond clock (one definition for every component).
#include "base/clock.h"

#include <time.h>

uint64_t
clock_monotonic_ms(void)
{
    struct timespec ts;

    /* POSIX lets clock_gettime fail only for an unsupported clock id or a bad
     * pointer; neither can happen here, so the zeroed value is never seen. */
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
clock_monotonic_us(void)
{
    struct timespec ts;

    ts.tv_sec = 0; /* as above: never seen */
    ts.tv_nsec = 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
