// SPDX-License-Identifier: MIT
// The one monotonic clock every timeout, cache age and backoff is measured on.
#ifndef GH_BASE_CLOCK_H
#define GH_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: never goes backwards, unaffected by
 * changes of the wall clock, meaningful only as a difference between two
 * readings. Thread-safe; never fails (CLOCK_MONOTONIC always exists on Linux). */
uint64_t clock_monotonic_ms(void);
/* The same clock in microseconds (latency histograms). */
uint64_t clock_monotonic_us(void);

#endif
