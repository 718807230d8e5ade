// SPDX-License-Identifier: MIT
// Unit tests for src/modules/static_cache.c: keys, the check interval with an
// injected clock, the file identity that forces a re-read, the "settled" rule
// for files still being written, slot replacement and the entity tag format.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/check.h"
#include "modules/static_cache.h"

static struct stat
file_stat(ino_t ino, off_t size, time_t mtime, time_t ctime)
{
    struct stat st;

    memset(&st, 0, sizeof(st));
    st.st_mode = S_IFREG | 0644;
    st.st_dev = 7;
    st.st_ino = ino;
    st.st_size = size;
    st.st_mtim.tv_sec = mtime;
    st.st_mtim.tv_nsec = 123;
    st.st_ctim.tv_sec = ctime;
    st.st_ctim.tv_nsec = 456;
    return st;
}

static void
test_keys_and_freshness(void)
{
    struct static_cache *c = static_cache_create();
    struct stat st = file_stat(42, 5, 1000, 1000);

    CHECK(c != NULL);
    if (c == NULL)
        return;
    CHECK(static_cache_find(c, 1, false, "a.txt", 5) == NULL);
    struct static_entry *e =
        static_cache_put(c, 1, false, "a.txt", 5, &st, "text/plain", "hello", 10000);
    CHECK(e != NULL);
    CHECK(static_cache_find(c, 1, false, "a.txt", 5) == e);
    /* Every part of the key counts: configuration, directory URL, path. */
    CHECK(static_cache_find(c, 2, false, "a.txt", 5) == NULL);
    CHECK(static_cache_find(c, 1, true, "a.txt", 5) == NULL);
    CHECK(static_cache_find(c, 1, false, "a.tx", 4) == NULL);
    CHECK(static_cache_find(c, 1, false, "b.txt", 5) == NULL);
    CHECK_MEM_EQ(e->data, "hello", 5);
    CHECK_EQ(e->size, 5);
    CHECK_STR_EQ(e->content_type, "text/plain");
    CHECK_STR_EQ(e->last_modified, "Thu, 01 Jan 1970 00:16:40 GMT");
    /* Trusted for STATIC_CACHE_CHECK_MS after the check, not one ms more. */
    CHECK(static_entry_fresh(e, 10000));
    CHECK(static_entry_fresh(e, 10000 + STATIC_CACHE_CHECK_MS - 1));
    CHECK(!static_entry_fresh(e, 10000 + STATIC_CACHE_CHECK_MS));
    CHECK(!static_entry_fresh(e, 9999)); /* a clock before the check: check again */
    static_cache_drop(c, e);
    CHECK(static_cache_find(c, 1, false, "a.txt", 5) == NULL);
    static_cache_destroy(c);
    static_cache_destroy(NULL);
}

static void
test_identity(void)
{
    struct static_cache *c = static_cache_create();
    struct stat st = file_stat(42, 5, 1000, 1000);

    if (c == NULL) {
        CHECK(c != NULL);
        return;
    }
    struct static_entry *e = static_cache_put(c, 1, false, "f", 1, &st, "x/y", "hello", 0);
    CHECK(e != NULL);
    if (e == NULL)
        goto done;
    CHECK(static_entry_same_file(e, &st));
    /* Any of these means the file was replaced or written: read it again. */
    static const struct {
        const char *what;
        int field;
    } changes[] = {{"other device", 0}, {"other inode (renamed over)", 1},
                   {"other size", 2},   {"mtime seconds", 3},
                   {"mtime ns", 4},     {"ctime (chmod, utime back)", 5}};
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        struct stat x = st;
        switch (changes[i].field) {
        case 0:
            x.st_dev++;
            break;
        case 1:
            x.st_ino++;
            break;
        case 2:
            x.st_size++;
            break;
        case 3:
            x.st_mtim.tv_sec++;
            break;
        case 4:
            x.st_mtim.tv_nsec++;
            break;
        default:
            x.st_ctim.tv_nsec++;
            break;
        }
        if (static_entry_same_file(e, &x))
            CHECK_FAIL_("%s not seen as a change", changes[i].what);
    }
done:
    static_cache_destroy(c);
}

static void
test_storable(void)
{
    struct timespec now = {.tv_sec = 5000, .tv_nsec = 0};
    struct stat st = file_stat(1, 100, 4000, 4000);

    CHECK(static_cache_storable(&st, &now));
    st.st_mtim.tv_sec = 5000 - STATIC_CACHE_SETTLE_S; /* exactly the window ago */
    st.st_mtim.tv_nsec = 0;
    CHECK(static_cache_storable(&st, &now));
    st.st_mtim.tv_nsec = 1; /* one nanosecond within the window */
    CHECK(!static_cache_storable(&st, &now));
    now.tv_nsec = 999999999; /* to the nanosecond, not to the second */
    st.st_mtim.tv_sec = 5000 - STATIC_CACHE_SETTLE_S;
    st.st_mtim.tv_nsec = 999999998;
    CHECK(static_cache_storable(&st, &now));
    now.tv_nsec = 0;
    st = file_stat(1, 100, 4000, 5000); /* chmod'ed or touched just now */
    CHECK(!static_cache_storable(&st, &now));
    st = file_stat(1, 100, 6000, 4000); /* in the future: the clock went back */
    CHECK(!static_cache_storable(&st, &now));
    st = file_stat(1, STATIC_CACHE_MAX_FILE, 4000, 4000);
    CHECK(static_cache_storable(&st, &now));
    st.st_size = STATIC_CACHE_MAX_FILE + 1;
    CHECK(!static_cache_storable(&st, &now));
    st = file_stat(1, 0, 4000, 4000);
    CHECK(static_cache_storable(&st, &now)); /* an empty file too */
    st.st_mode = S_IFDIR | 0755;
    CHECK(!static_cache_storable(&st, &now));
}

/* Direct-mapped: a new entry in a used slot replaces it, and the old key then
 * misses (never answers with the other file's data). */
static void
test_replacement(void)
{
    struct static_cache *c = static_cache_create();
    struct stat st = file_stat(1, 1, 1000, 1000);
    char name[32];
    int found_collision = 0;

    if (c == NULL) {
        CHECK(c != NULL);
        return;
    }
    CHECK(static_cache_put(c, 9, false, "k0", 2, &st, "t", "0", 0) != NULL);
    for (int i = 1; i < 4 * STATIC_CACHE_SLOTS && !found_collision; i++) {
        int n = snprintf(name, sizeof(name), "k%d", i);
        CHECK(static_cache_put(c, 9, false, name, (size_t)n, &st, "t", "1", 0) != NULL);
        if (static_cache_find(c, 9, false, "k0", 2) == NULL)
            found_collision = 1;
        else
            CHECK_MEM_EQ(static_cache_find(c, 9, false, "k0", 2)->data, "0", 1);
    }
    CHECK(found_collision);
    static_cache_destroy(c);
}

static void
test_etag_format(void)
{
    struct stat st = file_stat(0x1234, 612, 0, 0);
    char tag[64], want[64];

    st.st_mtim.tv_sec = 1700000000;
    st.st_mtim.tv_nsec = 5;
    static_etag_format(&st, tag);
    /* The same text the handler produced with printf before the cache. */
    snprintf(want, sizeof(want), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", (uint64_t)0x1234,
             (uint64_t)612, (uint64_t)1700000000 * 1000000000u + 5u);
    CHECK_STR_EQ(tag, want);
    st = file_stat(0, 0, 0, 0);
    st.st_mtim.tv_nsec = 0;
    static_etag_format(&st, tag);
    CHECK_STR_EQ(tag, "\"0-0-0\"");
    st.st_ino = (ino_t)UINT64_MAX;
    st.st_size = INT64_MAX;
    st.st_mtim.tv_sec = 18446744073; /* the largest nanosecond count that fits */
    st.st_mtim.tv_nsec = 709551615;
    static_etag_format(&st, tag);
    CHECK_STR_EQ(tag, "\"ffffffffffffffff-7fffffffffffffff-ffffffffffffffff\"");
}

int
main(void)
{
    test_keys_and_freshness();
    test_identity();
    test_storable();
    test_replacement();
    test_etag_format();
    return check_done("modules/static_cache");
}
