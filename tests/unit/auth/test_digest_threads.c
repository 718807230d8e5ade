// SPDX-License-Identifier: MIT
// The Digest nonce-count table under concurrency: several threads present the
// same nonce counts at once; each count must be accepted exactly once.
#include <pthread.h>
#include <stdatomic.h>

#include <gatehouse/error.h>

#include "auth/digest.h"
#include "harness/check.h"

#define THREADS 4
#define COUNTS  2000

static struct digest_state *st;
static char nonce[DIGEST_NONCE_CHARS + 1];
static atomic_int accepted[COUNTS + 1];
static atomic_int total_ok;

static void *
worker(void *arg)
{
    (void)arg;
    for (uint32_t nc = 1; nc <= COUNTS; nc++) {
        if (digest_replay_check(st, slice_cstr(nonce), nc, 1700000001) == GH_OK) {
            atomic_fetch_add(&accepted[nc], 1);
            atomic_fetch_add(&total_ok, 1);
        }
    }
    return NULL;
}

int
main(void)
{
    pthread_t t[THREADS];

    CHECK_EQ(digest_state_create(NULL, 64, 300, &st), GH_OK);
    CHECK_EQ(digest_nonce_make(st, "r", 1700000000, nonce), GH_OK);
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int nc = 1; nc <= COUNTS; nc++)
        CHECK(atomic_load(&accepted[nc]) <= 1);
    /* Each thread presents 1..COUNTS in order, so when a count is presented for
     * the first time no thread is past it: it is above the highest, accepted. */
    CHECK_EQ(atomic_load(&total_ok), COUNTS);
    digest_state_destroy(st);
    return check_done("auth/digest_threads");
}
