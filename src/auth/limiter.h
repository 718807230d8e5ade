// SPDX-License-Identifier: MIT
// Per-client-address limits: handshakes in progress, and failed attempts with
// an exponential backoff. A small bounded table shared by every thread.
#ifndef GH_AUTH_LIMITER_H
#define GH_AUTH_LIMITER_H

#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

struct limiter_params {
    size_t max_addresses;     /* table size (0: 1024); the least recently seen is reused */
    unsigned max_in_progress; /* handshakes in progress per address (0: 16) */
    unsigned fail_threshold;  /* failures before backoff starts (0: 5) */
    unsigned backoff_ms;      /* first backoff (0: 1000), doubled per further failure */
    unsigned max_backoff_ms;  /* ceiling (0: 60000) */
    unsigned fail_window_ms;  /* failures older than this are forgotten (0: 300000) */
};

struct limiter;

int limiter_create(const struct limiter_params *p, struct limiter **out);
void limiter_destroy(struct limiter *l); /* NULL-safe */
/* Changes the backoff policy of a live limiter (configuration reload); a 0
 * argument restores that parameter's default. Failures already counted stay. */
void limiter_set_backoff(struct limiter *l, unsigned fail_threshold, unsigned max_backoff_ms,
                         unsigned fail_window_ms);

/* Before running a credential check for addr (an address without port):
 * GH_OK, or GH_EBUSY with *retry_ms_out when addr is in backoff. */
int limiter_check(struct limiter *l, struct slice addr, uint64_t now_ms, uint64_t *retry_ms_out);
/* Takes one in-progress handshake slot: GH_OK, GH_EBUSY (too many for addr),
 * or GH_ENOTFOUND when every tracked address has handshakes in progress: the
 * handshake goes ahead untracked (nothing to return with limiter_end), so that
 * many addresses holding handshakes open cannot lock out all others. */
int limiter_begin(struct limiter *l, struct slice addr, uint64_t now_ms);
/* Returns a slot taken by limiter_begin. */
void limiter_end(struct limiter *l, struct slice addr);
/* Records a failed attempt / a success (a success does not clear the failures:
 * they age out with fail_window_ms, so one valid account cannot reset the count
 * between guesses at others). */
void limiter_fail(struct limiter *l, struct slice addr, uint64_t now_ms);
void limiter_success(struct limiter *l, struct slice addr);

#endif
