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

    CHECK_EQ(basic_cache_create(16, 0, NULL, &c), GH_EINVAL); /* no TTL: no cache */
    CHECK_EQ(basic_cache_create(16, 1000, NULL, &c), GH_OK);
    key_of(c, "alice", "pw", k);
    CHECK(!basic_cache_check(c, k, 5000, NULL, NULL)); /* never added */
    basic_cache_add(c, k, NULL, NULL, 5000);
    CHECK(basic_cache_check(c, k, 5000, NULL, NULL));
    CHECK(basic_cache_check(c, k, 5999, NULL, NULL));
    CHECK(!basic_cache_check(c, k, 6000, NULL, NULL)); /* expired at add + TTL */
    basic_cache_add(c, k, NULL, NULL, 6000);           /* verified again: refreshed in place */
    CHECK(basic_cache_check(c, k, 6500, NULL, NULL));
    CHECK_EQ(basic_cache_count(c), 1);
    basic_cache_destroy(c);
    basic_cache_destroy(NULL);
}

static void
test_no_false_positives(void)
{
    struct basic_cache *c = NULL, *other = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES], probe[BASIC_CACHE_KEY_BYTES];

    CHECK_EQ(basic_cache_create(64, 60000, NULL, &c), GH_OK);
    CHECK_EQ(basic_cache_create(64, 60000, NULL, &other), GH_OK);
    key_of(c, "ab", "c", k);
    basic_cache_add(c, k, NULL, NULL, 1);
    /* the separator: ("a", "bc") and ("ab", "c") are different credentials */
    key_of(c, "a", "bc", probe);
    CHECK(!basic_cache_check(c, probe, 2, NULL, NULL));
    key_of(c, "ab", "C", probe); /* another password */
    CHECK(!basic_cache_check(c, probe, 2, NULL, NULL));
    key_of(c, "AB", "c", probe); /* another spelling of the user: verified on its own */
    CHECK(!basic_cache_check(c, probe, 2, NULL, NULL));
    key_of(c, "ab", "", probe);
    CHECK(!basic_cache_check(c, probe, 2, NULL, NULL));
    key_of(c, "ab", "c", probe);
    CHECK(basic_cache_check(c, probe, 2, NULL, NULL));
    /* a password with a NUL inside is compared on all its bytes */
    CHECK(basic_cache_key(c, "ab", (const uint8_t *)"c\0x", 3, probe));
    CHECK(!basic_cache_check(c, probe, 2, NULL, NULL));
    /* keys are per cache (random HMAC key): another cache's key matches nothing */
    key_of(other, "ab", "c", probe);
    CHECK(memcmp(probe, k, sizeof(k)) != 0);
    CHECK(!basic_cache_check(c, probe, 2, NULL, NULL));
    basic_cache_destroy(c);
    basic_cache_destroy(other);
}

static void
test_bounds_and_clear(void)
{
    struct basic_cache *c = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES], first[BASIC_CACHE_KEY_BYTES];
    char user[32];

    CHECK_EQ(basic_cache_create(10, 60000, NULL, &c), GH_OK); /* rounded up: 2 buckets of 8 */
    key_of(c, "user0", "pw", first);
    basic_cache_add(c, first, NULL, NULL, 100);
    for (int i = 1; i < 1000; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        key_of(c, user, "pw", k);
        basic_cache_add(c, k, NULL, NULL, 100 + (uint64_t)i);
        CHECK(
            basic_cache_check(c, k, 100 + (uint64_t)i, NULL, NULL)); /* the newest is always kept */
    }
    CHECK_EQ(basic_cache_count(c), 16);                    /* never more than the bound */
    CHECK(!basic_cache_check(c, first, 1100, NULL, NULL)); /* the oldest went first */
    /* invalidation (the user store changed): nothing matches any more */
    CHECK(basic_cache_check(c, k, 1100, NULL, NULL));
    basic_cache_clear(c);
    CHECK_EQ(basic_cache_count(c), 0);
    CHECK(!basic_cache_check(c, k, 1100, NULL, NULL));
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
        basic_cache_add(shared, k, NULL, NULL, 10);
        bad += basic_cache_check(shared, wrong, 11, NULL, NULL); /* never a false positive */
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

    CHECK_EQ(basic_cache_create(64, 60000, NULL, &shared), GH_OK);
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

    CHECK_EQ(basic_cache_create(16, 1000, NULL, &c), GH_OK);
    key_of(c, "ALICE", "pw", k);
    key_of(c, "bob", "pw", other);
    basic_cache_add(c, k, "alice@GH.TEST", NULL, 10);
    basic_cache_add(c, other, NULL, NULL, 10);
    memset(name, 'x', sizeof(name));
    CHECK(basic_cache_check(c, k, 11, name, NULL));
    CHECK_STR_EQ(name, "alice@GH.TEST");
    CHECK(basic_cache_check(c, other, 11, name, NULL));
    CHECK_STR_EQ(name, "");                /* none: the name typed */
    basic_cache_add(c, k, NULL, NULL, 12); /* refreshed without a name: forgotten */
    CHECK(basic_cache_check(c, k, 13, name, NULL));
    CHECK_STR_EQ(name, "");
    basic_cache_clear(c);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    basic_cache_add(c, k, longname, NULL, 20); /* does not fit: never remembered */
    CHECK(!basic_cache_check(c, k, 21, name, NULL));
    longname[sizeof(longname) - 2] = 0; /* just fits */
    basic_cache_add(c, k, longname, NULL, 20);
    CHECK(basic_cache_check(c, k, 21, name, NULL));
    CHECK_STR_EQ(name, longname);
    basic_cache_destroy(c);
}

/* An entry keeps a reference to the verifier's access token (Kerberos: the
 * accepted ticket's, with the PAC's groups and SIDs): a hit hands out a new
 * reference to that same token; refreshing, clearing and destroying close
 * the cache's references (ASan's leak check sees any left). */
static void
test_tokens(void)
{
    const struct auth_token_ops *ops = auth_backend_real()->token;
    const char *groups[] = {"CORP\\Staff", "CORP\\Engineers"};
    struct basic_cache *c = NULL;
    uint8_t k[BASIC_CACHE_KEY_BYTES], other[BASIC_CACHE_KEY_BYTES];
    gh_token *tok = NULL, *tok2 = NULL, *got = NULL;

    CHECK_EQ(ops->create("carol", "CORP", "Kerberos", groups, 2, &tok), GH_OK);
    CHECK_EQ(ops->create("carol", "CORP", "Kerberos", groups, 1, &tok2), GH_OK);
    CHECK_EQ(basic_cache_create(16, 1000, ops, &c), GH_OK);
    key_of(c, "carol", "pw", k);
    key_of(c, "frank", "pw", other);
    basic_cache_add(c, k, "carol@CORP.TEST", tok, 10);
    basic_cache_add(c, other, NULL, NULL, 10);
    got = (gh_token *)1;
    CHECK(basic_cache_check(c, k, 11, NULL, &got));
    CHECK(got == tok); /* the same token: the same groups and SIDs */
    CHECK_EQ(ops->group_count(got), 2);
    CHECK_STR_EQ(ops->group(got, 0), "CORP\\Staff");
    ops->close(got);
    got = (gh_token *)1;
    CHECK(basic_cache_check(c, other, 11, NULL, &got));
    CHECK(got == NULL); /* added without one */
    got = (gh_token *)1;
    CHECK(!basic_cache_check(c, k, 1010, NULL, &got)); /* expired */
    CHECK(got == NULL);
    basic_cache_add(c, k, "carol@CORP.TEST", tok2, 20); /* refreshed: the old reference goes */
    CHECK(basic_cache_check(c, k, 21, NULL, &got));
    CHECK(got == tok2);
    CHECK_EQ(ops->group_count(got), 1);
    ops->close(got);
    basic_cache_clear(c); /* closes the cache's references */
    CHECK(!basic_cache_check(c, k, 21, NULL, &got));
    basic_cache_add(c, k, NULL, tok, 30);
    ops->close(tok); /* the cache's reference outlives ours */
    CHECK(basic_cache_check(c, k, 31, NULL, &got));
    CHECK_EQ(ops->group_count(got), 2);
    ops->close(got);
    ops->close(tok2);
    basic_cache_destroy(c); /* closes the last reference of tok */
}

int
main(void)
{
    test_ttl();
    test_names();
    test_tokens();
    test_no_false_positives();
    test_bounds_and_clear();
    test_threads();
    return check_done("auth/basic_cache");
}
