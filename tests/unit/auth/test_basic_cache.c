// SPDX-License-Identifier: MIT
// The verified-credentials cache of Basic (src/auth/basic_cache.c): TTL,
// bounds and eviction, invalidation, no false positives, and concurrent use.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/basic_cache.h"
#include "harness/check.h"

static void
key_of(struct basic_cache *c, const char *user, const char *pw, uint8_t key[BASIC_CACHE_KEY_BYTES])
{
    CHECK(basic_cache_key(c, user, (const uint8_t *)pw, strlen(pw), key));
}

static void
test_ttl(void)
{
    struct basic_cache *c = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES];

    CHECK_EQ(basic_cache_create(16, 0, &c), GH_EINVAL); /* no TTL: no cache */
    CHECK_EQ(basic_cache_create(16, 1000, &c), GH_OK);
    key_of(c, "alice", "pw", k);
    CHECK(!basic_cache_check(c, k, 5000, NULL)); /* never added */
    basic_cache_add(c, k, NULL, 5000);
    CHECK(basic_cache_check(c, k, 5000, NULL));
    CHECK(basic_cache_check(c, k, 5999, NULL));
    CHECK(!basic_cache_check(c, k, 6000, NULL)); /* expired at add + TTL */
    basic_cache_add(c, k, NULL, 6000);           /* verified again: refreshed in place */
    CHECK(basic_cache_check(c, k, 6500, NULL));
    CHECK_EQ(basic_cache_count(c), 1);
    basic_cache_destroy(c);
    basic_cache_destroy(NULL);
}

static void
test_no_false_positives(void)
{
    struct basic_cache *c = NULL, *other = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES], probe[BASIC_CACHE_KEY_BYTES];

    CHECK_EQ(basic_cache_create(64, 60000, &c), GH_OK);
    CHECK_EQ(basic_cache_create(64, 60000, &other), GH_OK);
    key_of(c, "ab", "c", k);
    basic_cache_add(c, k, NULL, 1);
    /* the separator: ("a", "bc") and ("ab", "c") are different credentials */
    key_of(c, "a", "bc", probe);
    CHECK(!basic_cache_check(c, probe, 2, NULL));
    key_of(c, "ab", "C", probe); /* another password */
    CHECK(!basic_cache_check(c, probe, 2, NULL));
    key_of(c, "AB", "c", probe); /* another spelling of the user: verified on its own */
    CHECK(!basic_cache_check(c, probe, 2, NULL));
    key_of(c, "ab", "", probe);
    CHECK(!basic_cache_check(c, probe, 2, NULL));
    key_of(c, "ab", "c", probe);
    CHECK(basic_cache_check(c, probe, 2, NULL));
    /* a password with a NUL inside is compared on all its bytes */
    CHECK(basic_cache_key(c, "ab", (const uint8_t *)"c\0x", 3, probe));
    CHECK(!basic_cache_check(c, probe, 2, NULL));
    /* keys are per cache (random HMAC key): another cache's key matches nothing */
    key_of(other, "ab", "c", probe);
    CHECK(memcmp(probe, k, sizeof(k)) != 0);
    CHECK(!basic_cache_check(c, probe, 2, NULL));
    basic_cache_destroy(c);
    basic_cache_destroy(other);
}

static void
test_bounds_and_clear(void)
{
    struct basic_cache *c = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES], first[BASIC_CACHE_KEY_BYTES];
    char user[32];

    CHECK_EQ(basic_cache_create(10, 60000, &c), GH_OK); /* rounded up: 2 buckets of 8 */
    key_of(c, "user0", "pw", first);
    basic_cache_add(c, first, NULL, 100);
    for (int i = 1; i < 1000; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        key_of(c, user, "pw", k);
        basic_cache_add(c, k, NULL, 100 + (uint64_t)i);
        CHECK(basic_cache_check(c, k, 100 + (uint64_t)i, NULL)); /* the newest is always kept */
    }
    CHECK_EQ(basic_cache_count(c), 16);              /* never more than the bound */
    CHECK(!basic_cache_check(c, first, 1100, NULL)); /* the oldest went first */
    /* invalidation (the user store changed): nothing matches any more */
    CHECK(basic_cache_check(c, k, 1100, NULL));
    basic_cache_clear(c);
    CHECK_EQ(basic_cache_count(c), 0);
    CHECK(!basic_cache_check(c, k, 1100, NULL));
    basic_cache_destroy(c);
}

#define THREADS 4
#define ROUNDS  2000

static struct basic_cache *shared;

static void *
worker(void *arg)
{
    int id = *(int *)arg;
    uint8_t k[BASIC_CACHE_KEY_BYTES], wrong[BASIC_CACHE_KEY_BYTES];
    char user[32];
    long bad = 0;

    for (int i = 0; i < ROUNDS; i++) {
        snprintf(user, sizeof(user), "t%d-%d", id, i % 50);
        if (!basic_cache_key(shared, user, (const uint8_t *)"pw", 2, k) ||
            !basic_cache_key(shared, user, (const uint8_t *)"px", 2, wrong))
            bad++;
        basic_cache_add(shared, k, NULL, 10);
        bad += basic_cache_check(shared, wrong, 11, NULL); /* never a false positive */
        if (i % 7 == 0)
            basic_cache_clear(shared);
    }
    return (void *)bad;
}

static void
test_threads(void)
{
    pthread_t t[THREADS];
    int ids[THREADS];

    CHECK_EQ(basic_cache_create(64, 60000, &shared), GH_OK);
    for (int i = 0; i < THREADS; i++) {
        ids[i] = i;
        CHECK_EQ(pthread_create(&t[i], NULL, worker, &ids[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECK_EQ((long)bad, 0);
    }
    CHECK(basic_cache_count(shared) <= 64);
    basic_cache_destroy(shared);
}

/* An entry keeps the canonical name the verifier returned (Kerberos: the
 * principal the KDC issued), so a hit names the same user as the miss did. */
static void
test_names(void)
{
    struct basic_cache *c = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES], other[BASIC_CACHE_KEY_BYTES];
    char name[BASIC_CACHE_NAME_BYTES], longname[BASIC_CACHE_NAME_BYTES + 1];

    CHECK_EQ(basic_cache_create(16, 1000, &c), GH_OK);
    key_of(c, "ALICE", "pw", k);
    key_of(c, "bob", "pw", other);
    basic_cache_add(c, k, "alice@GH.TEST", 10);
    basic_cache_add(c, other, NULL, 10);
    memset(name, 'x', sizeof(name));
    CHECK(basic_cache_check(c, k, 11, name));
    CHECK_STR_EQ(name, "alice@GH.TEST");
    CHECK(basic_cache_check(c, other, 11, name));
    CHECK_STR_EQ(name, "");          /* none: the name typed */
    basic_cache_add(c, k, NULL, 12); /* refreshed without a name: forgotten */
    CHECK(basic_cache_check(c, k, 13, name));
    CHECK_STR_EQ(name, "");
    basic_cache_clear(c);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    basic_cache_add(c, k, longname, 20); /* does not fit: never remembered */
    CHECK(!basic_cache_check(c, k, 21, name));
    longname[sizeof(longname) - 2] = 0; /* just fits */
    basic_cache_add(c, k, longname, 20);
    CHECK(basic_cache_check(c, k, 21, name));
    CHECK_STR_EQ(name, longname);
    basic_cache_destroy(c);
}

int
main(void)
{
    test_ttl();
    test_names();
    test_no_false_positives();
    test_bounds_and_clear();
    test_threads();
    return check_done("auth/basic_cache");
}
