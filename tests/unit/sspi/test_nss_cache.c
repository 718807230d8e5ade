// SPDX-License-Identifier: MIT
// The NSS account cache (src/sspi/nss_cache.c): answers (also "no such
// account") kept for the TTL, bounded table, reconfiguration empties it,
// copies are the caller's, concurrent lookups; and the real NSS path for
// root, which every system has.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/nss_cache.h"

static atomic_int resolves;

/* "u<N>" exists with uid N and groups N and 100 ("g<N>", "users"); others do not. */
static SECURITY_STATUS
fake_resolve(const char *account, struct nss_account *out)
{
    char name[32];

    atomic_fetch_add(&resolves, 1);
    memset(out, 0, sizeof(*out));
    if (account[0] != 'u')
        return SEC_E_OK;
    out->found = true;
    out->uid = (uid_t)atoi(account + 1);
    out->gid = out->uid;
    out->gids = malloc(2 * sizeof(*out->gids));
    out->group_names = calloc(2, sizeof(*out->group_names));
    CHECK(out->gids != NULL && out->group_names != NULL);
    out->gids[0] = out->uid;
    out->gids[1] = 100;
    snprintf(name, sizeof(name), "g%u", (unsigned)out->uid);
    out->group_names[0] = strdup(name);
    out->group_names[1] = strdup("users");
    out->gid_count = 2;
    return SEC_E_OK;
}

static void
test_ttl_and_negative(void)
{
    struct nss_account a;

    nss_cache_configure(16, 1000, fake_resolve);
    atomic_store(&resolves, 0);
    CHECK_EQ(nss_cache_lookup_at("u7", 5000, &a), SEC_E_OK);
    CHECK(a.found);
    CHECK_EQ(a.uid, 7);
    CHECK_EQ(a.gid_count, 2);
    CHECK_STR_EQ(a.group_names[0], "g7");
    CHECK_STR_EQ(a.group_names[1], "users");
    nss_account_clear(&a);
    CHECK(a.gids == NULL && a.group_names == NULL && a.gid_count == 0);
    CHECK_EQ(nss_cache_lookup_at("u7", 5999, &a), SEC_E_OK); /* cached */
    CHECK(a.found);
    CHECK_EQ(a.uid, 7);
    CHECK_STR_EQ(a.group_names[0], "g7");
    nss_account_clear(&a);
    CHECK_EQ(atomic_load(&resolves), 1);
    CHECK_EQ(nss_cache_lookup_at("u7", 6000, &a), SEC_E_OK); /* expired: asked again */
    nss_account_clear(&a);
    CHECK_EQ(atomic_load(&resolves), 2);

    /* "no such account" is an answer too, and never confused with another name */
    CHECK_EQ(nss_cache_lookup_at("nobody-here", 7000, &a), SEC_E_OK);
    CHECK(!a.found);
    CHECK_EQ(nss_cache_lookup_at("nobody-here", 7001, &a), SEC_E_OK);
    CHECK(!a.found);
    CHECK_EQ(atomic_load(&resolves), 3);
    CHECK_EQ(nss_cache_lookup_at("u8", 7001, &a), SEC_E_OK);
    CHECK(a.found);
    CHECK_EQ(a.uid, 8);
    nss_account_clear(&a);
    CHECK_EQ(atomic_load(&resolves), 4);

    /* reconfiguring empties the cache; TTL 0 caches nothing */
    nss_cache_configure(16, 0, fake_resolve);
    CHECK_EQ(nss_cache_count(), 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(nss_cache_lookup_at("u7", 8000, &a), SEC_E_OK);
        nss_account_clear(&a);
    }
    CHECK_EQ(atomic_load(&resolves), 6);
    CHECK_EQ(nss_cache_count(), 0);
}

static void
test_bounds(void)
{
    struct nss_account a;
    char name[32];

    nss_cache_configure(10, 60000, fake_resolve); /* 2 buckets of 8 */
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "u%d", i);
        CHECK_EQ(nss_cache_lookup_at(name, 1000 + (uint64_t)i, &a), SEC_E_OK);
        CHECK_EQ(a.uid, (uid_t)i);
        nss_account_clear(&a);
    }
    CHECK_EQ(nss_cache_count(), 16);
    atomic_store(&resolves, 0);
    CHECK_EQ(nss_cache_lookup_at("u499", 2000, &a), SEC_E_OK); /* the newest stayed */
    CHECK_EQ(a.uid, 499);
    nss_account_clear(&a);
    CHECK_EQ(atomic_load(&resolves), 0);
    CHECK_EQ(nss_cache_lookup_at("u0", 2000, &a), SEC_E_OK); /* the oldest went */
    CHECK_EQ(a.uid, 0);
    nss_account_clear(&a);
    CHECK_EQ(atomic_load(&resolves), 1);
}

static void *
worker(void *arg)
{
    long bad = 0;
    char name[32];
    (void)arg;
    for (int i = 0; i < 3000; i++) {
        struct nss_account a;
        int n = i % 40;
        snprintf(name, sizeof(name), "u%d", n);
        if (nss_cache_lookup_at(name, 100, &a) != SEC_E_OK || !a.found || a.uid != (uid_t)n ||
            a.gid_count != 2)
            bad++;
        nss_account_clear(&a);
    }
    return (void *)bad;
}

static void
test_threads(void)
{
    pthread_t t[4];

    nss_cache_configure(32, 60000, fake_resolve);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECK_EQ((long)bad, 0);
    }
    CHECK(nss_cache_count() <= 32);
}

static void
test_real_nss(void)
{
    struct nss_account a;

    nss_cache_configure(0, NSS_CACHE_DEFAULT_TTL_MS, NULL);
    CHECK_EQ(nss_cache_lookup("root", &a), SEC_E_OK);
    CHECK(a.found);
    CHECK_EQ(a.uid, 0);
    CHECK(a.gid_count >= 1);
    CHECK(a.group_names != NULL && a.group_names[0] != NULL);
    nss_account_clear(&a);
    CHECK_EQ(nss_cache_lookup("no-such-user-gh-test", &a), SEC_E_OK);
    CHECK(!a.found);
    nss_account_clear(&a);
    CHECK_EQ(nss_cache_count(), 2);
}

int
main(void)
{
    test_ttl_and_negative();
    test_bounds();
    test_threads();
    test_real_nss();
    nss_cache_configure(0, NSS_CACHE_DEFAULT_TTL_MS, NULL); /* frees the table */
    return check_done("sspi/nss_cache");
}
