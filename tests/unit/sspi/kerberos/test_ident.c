// SPDX-License-Identifier: MIT
// Unit tests for src/sspi/kerberos/ident.c, the ticket -> identity cache: a
// miss then a hit with the same name and PAC; the TTL and the ticket's end
// time; another keytab generation, another credential or another ticket is
// never a hit; the entry and byte bounds (eviction of what expires first);
// forgetting a credential; the PAC's references; threads.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/kerberos/ident.h"
#include "sspi/kerberos/pac.h"

static struct krb_ident_key
key_of(uint64_t cred, uint64_t generation, const char *ticket)
{
    struct krb_ident_key k;

    CHECK_EQ(krb_ident_key_make(cred, generation,
                                slice_make((const uint8_t *)ticket, strlen(ticket)), &k),
             SEC_E_OK);
    return k;
}

static struct krb_pac *
pac_new(const char *domain)
{
    struct krb_pac *pac = calloc(1, sizeof(*pac));

    CHECK(pac != NULL);
    atomic_init(&pac->refs, 1);
    pac->logon.logon_domain_name = strdup(domain);
    return pac;
}

/* A hit: SEC_E_OK, the name equals want_name, the PAC is want_pac. */
static void
expect_hit(const struct krb_ident_key *k, time_t now, const char *want_name,
           const struct krb_pac *want_pac)
{
    char *name = NULL;
    struct krb_pac *pac = NULL;

    CHECK_EQ(krb_ident_lookup(k, now, &name, &pac), SEC_E_OK);
    CHECK(name != NULL);
    if (name != NULL)
        CHECK_STR_EQ(name, want_name);
    CHECK(pac == want_pac);
    free(name);
    krb_pac_free(pac);
}

static void
expect_miss(const struct krb_ident_key *k, time_t now)
{
    char *name = NULL;
    struct krb_pac *pac = NULL;

    CHECK_EQ(krb_ident_lookup(k, now, &name, &pac), SEC_E_INTERNAL_ERROR);
    CHECK(name == NULL);
    CHECK(pac == NULL);
}

static void
test_hit_and_miss(void)
{
    struct krb_ident_stats stats;
    struct krb_ident_key alice = key_of(1, 0, "ticket of alice");
    struct krb_ident_key bob = key_of(1, 0, "ticket of bob");
    struct krb_pac *pac = pac_new("CORP");

    krb_ident_configure(300, KRB_IDENT_MAX_ENTRIES, KRB_IDENT_MAX_BYTES);
    expect_miss(&alice, 1000);
    krb_ident_insert(&alice, "alice@CORP.TEST", pac, 0, 1000);
    krb_pac_free(pac); /* the cache holds its own reference */
    expect_hit(&alice, 1001, "alice@CORP.TEST", pac);
    CHECK_STR_EQ(pac->logon.logon_domain_name, "CORP");
    /* Another ticket is another user: never alice's identity. */
    expect_miss(&bob, 1001);
    krb_ident_insert(&bob, "bob@CORP.TEST", NULL, 0, 1001);
    expect_hit(&bob, 1002, "bob@CORP.TEST", NULL);
    expect_hit(&alice, 1002, "alice@CORP.TEST", pac);
    /* The same ticket under another keytab generation or credential. */
    struct krb_ident_key rotated = key_of(1, 1, "ticket of alice");
    struct krb_ident_key other_cred = key_of(2, 0, "ticket of alice");
    expect_miss(&rotated, 1002);
    expect_miss(&other_cred, 1002);
    /* Replacing an entry of the same key. */
    krb_ident_insert(&bob, "bob2@CORP.TEST", NULL, 0, 1003);
    expect_hit(&bob, 1003, "bob2@CORP.TEST", NULL);
    krb_ident_get_stats(&stats);
    CHECK_EQ(stats.hits, 4);
    CHECK_EQ(stats.misses, 4);
    CHECK_EQ(stats.entries, 2);
    CHECK(stats.bytes > 0);
    /* The key is SHA-256 of the ticket: the same bytes give the same key. */
    struct krb_ident_key again = key_of(1, 0, "ticket of alice");
    CHECK_MEM_EQ(again.ticket, alice.ticket, sizeof(again.ticket));
    CHECK(memcmp(bob.ticket, alice.ticket, sizeof(bob.ticket)) != 0);
}

static void
test_expiry(void)
{
    struct krb_ident_key k = key_of(3, 0, "ticket");

    /* The TTL. */
    krb_ident_configure(10, KRB_IDENT_MAX_ENTRIES, KRB_IDENT_MAX_BYTES);
    krb_ident_insert(&k, "alice@R", NULL, 0, 1000);
    expect_hit(&k, 1009, "alice@R", NULL);
    expect_miss(&k, 1010);
    /* The ticket's end time before the TTL. */
    krb_ident_insert(&k, "alice@R", NULL, 1005, 1000);
    expect_hit(&k, 1004, "alice@R", NULL);
    expect_miss(&k, 1005);
    /* The TTL before the ticket's end time. */
    krb_ident_insert(&k, "alice@R", NULL, 5000, 1000);
    expect_hit(&k, 1009, "alice@R", NULL);
    expect_miss(&k, 1010);
    /* An ended ticket is not kept. */
    krb_ident_insert(&k, "alice@R", NULL, 1000, 1000);
    expect_miss(&k, 1000);
    struct krb_ident_stats stats;
    krb_ident_get_stats(&stats);
    CHECK_EQ(stats.entries, 0);
}

static void
test_bounds(void)
{
    struct krb_ident_stats stats;
    char ticket[32], name[512];

    /* 64 entries: one set of 4 ways per stripe; what expires first goes. */
    krb_ident_configure(300, 64, KRB_IDENT_MAX_BYTES);
    for (int i = 0; i < 1000; i++) {
        snprintf(ticket, sizeof(ticket), "ticket %d", i);
        struct krb_ident_key k = key_of(4, 0, ticket);
        krb_ident_insert(&k, "user@R", NULL, 0, 1000 + i);
    }
    krb_ident_get_stats(&stats);
    CHECK(stats.entries <= 64);
    CHECK(stats.entries >= 16);
    struct krb_ident_key last = key_of(4, 0, "ticket 999");
    struct krb_ident_key first = key_of(4, 0, "ticket 0");
    expect_hit(&last, 1999, "user@R", NULL);
    expect_miss(&first, 1999);

    /* Bytes: 16 KiB is 1 KiB per stripe; 300-byte names fit three a stripe. */
    krb_ident_configure(300, KRB_IDENT_MAX_ENTRIES, 16 * 1024);
    memset(name, 'n', 300);
    name[300] = '\0';
    for (int i = 0; i < 500; i++) {
        snprintf(ticket, sizeof(ticket), "ticket %d", i);
        struct krb_ident_key k = key_of(5, 0, ticket);
        krb_ident_insert(&k, name, NULL, 0, 1000 + i);
    }
    krb_ident_get_stats(&stats);
    CHECK(stats.bytes <= 16 * 1024);
    CHECK(stats.entries <= 16 * 3);
    struct krb_ident_key newest = key_of(5, 0, "ticket 499");
    expect_hit(&newest, 1500, name, NULL);
    /* An entry larger than a stripe's budget is not kept at all. */
    memset(name, 'x', 511);
    name[511] = '\0';
    krb_ident_configure(300, KRB_IDENT_MAX_ENTRIES, 16 * 256);
    struct krb_ident_key big = key_of(5, 0, "big");
    krb_ident_insert(&big, name, NULL, 0, 1000);
    expect_miss(&big, 1000);
}

static void
test_forget_cred(void)
{
    struct krb_ident_key a = key_of(6, 0, "t1"), b = key_of(7, 0, "t1");
    struct krb_pac *pac = pac_new("D");

    krb_ident_configure(300, KRB_IDENT_MAX_ENTRIES, KRB_IDENT_MAX_BYTES);
    krb_ident_insert(&a, "a@R", pac, 0, 1000);
    krb_ident_insert(&b, "b@R", pac, 0, 1000);
    krb_ident_forget_cred(6);
    expect_miss(&a, 1001);
    expect_hit(&b, 1001, "b@R", pac);
    krb_ident_forget_cred(7);
    expect_miss(&b, 1001);
    /* Only our reference is left: this frees the PAC (ASan checks). */
    CHECK_EQ(atomic_load(&pac->refs), 1);
    krb_pac_free(pac);
    CHECK(krb_ident_cred_number() != krb_ident_cred_number());
}

/* Four threads look up and insert the same 32 tickets: every hit must give
 * the name of that ticket (a name is never handed out for another key). */
static void *
worker(void *arg)
{
    char ticket[32], want[32];
    unsigned seed = (unsigned)(uintptr_t)arg;
    int bad = 0;

    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        int t = (int)((seed >> 16) % 32);
        snprintf(ticket, sizeof(ticket), "t%d", t);
        snprintf(want, sizeof(want), "user%d@R", t);
        struct krb_ident_key k = key_of(8, 0, ticket);
        char *name = NULL;
        struct krb_pac *pac = NULL;
        if (krb_ident_lookup(&k, 1000, &name, &pac) == SEC_E_OK)
            bad += strcmp(name, want) != 0;
        else
            krb_ident_insert(&k, want, NULL, 0, 1000);
        free(name);
        krb_pac_free(pac);
    }
    return (void *)(intptr_t)bad;
}

static void
test_threads(void)
{
    pthread_t th[4];
    struct krb_ident_stats stats;

    krb_ident_configure(300, 64, KRB_IDENT_MAX_BYTES);
    for (uintptr_t i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, worker, (void *)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(th[i], &bad);
        CHECK_EQ((intptr_t)bad, 0);
    }
    krb_ident_get_stats(&stats);
    CHECK_EQ(stats.hits + stats.misses, 80000);
    CHECK(stats.hits > stats.misses);
}

int
main(void)
{
    test_hit_and_miss();
    test_expiry();
    test_bounds();
    test_forget_cred();
    test_threads();
    krb_ident_configure(KRB_IDENT_TTL_S, KRB_IDENT_MAX_ENTRIES, KRB_IDENT_MAX_BYTES);
    return check_done("test_ident");
}
