// SPDX-License-Identifier: MIT
// The static handler's open-file cache (docs/internals/performance.md, "Static
// files"). Each worker owns one (static.c keeps it thread-local), so nothing
// here locks. A hit costs no system call: the entry holds the whole small file
// and its validators. Staleness is bounded by time instead of by inotify: an
// entry is trusted for STATIC_CACHE_CHECK_MS, after which the handler opens the
// file again through the same beneath-the-root rules as an uncached request
// (so symlink, permission and removal answers are the uncached ones) and
// compares the file's identity; only a changed file is read again.
#include "modules/static_cache.h"

#include <stdlib.h>
#include <string.h>

#include "http/h1.h"

struct static_cache {
    struct static_entry slots[STATIC_CACHE_SLOTS];
};

struct static_cache *
static_cache_create(void)
{
    return calloc(1, sizeof(struct static_cache));
}

static void
entry_clear(struct static_entry *e)
{
    free(e->rel);
    free(e->data);
    *e = (struct static_entry){0};
}

void
static_cache_destroy(struct static_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < STATIC_CACHE_SLOTS; i++)
        entry_clear(&cache->slots[i]);
    free(cache);
}

/* FNV-1a over the key. */
static uint32_t
key_hash(uint64_t config_id, bool dir_url, const char *rel, size_t rel_len)
{
    uint32_t h = 2166136261u;

    for (int i = 0; i < 8; i++) {
        h ^= (uint8_t)(config_id >> (8 * i));
        h *= 16777619u;
    }
    h ^= dir_url ? 1u : 0u;
    h *= 16777619u;
    for (size_t i = 0; i < rel_len; i++) {
        h ^= (uint8_t)rel[i];
        h *= 16777619u;
    }
    return h;
}

struct static_entry *
static_cache_find(struct static_cache *cache, uint64_t config_id, bool dir_url, const char *rel,
                  size_t rel_len)
{
    uint32_t h = key_hash(config_id, dir_url, rel, rel_len);
    struct static_entry *e = &cache->slots[h % STATIC_CACHE_SLOTS];

    if (e->config_id != config_id || e->hash != h || e->dir_url != dir_url ||
        e->rel_len != rel_len || memcmp(e->rel, rel, rel_len) != 0)
        return NULL;
    return e;
}

bool
static_entry_fresh(const struct static_entry *e, uint64_t now_ms)
{
    return now_ms >= e->checked_ms && now_ms - e->checked_ms < STATIC_CACHE_CHECK_MS;
}

bool
static_entry_same_file(const struct static_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtim.tv_sec == st->st_mtim.tv_sec && e->mtim.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctim.tv_sec == st->st_ctim.tv_sec && e->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* Whether t is at least STATIC_CACHE_SETTLE_S before now, to the nanosecond. */
static bool
settled(const struct timespec *t, const struct timespec *now)
{
    time_t limit = now->tv_sec - STATIC_CACHE_SETTLE_S;

    return t->tv_sec < limit || (t->tv_sec == limit && t->tv_nsec <= now->tv_nsec);
}

bool
static_cache_storable(const struct stat *st, const struct timespec *now)
{
    /* A timestamp in the future (clock stepped back) is never settled. */
    return S_ISREG(st->st_mode) && st->st_size >= 0 && st->st_size <= STATIC_CACHE_MAX_FILE &&
           settled(&st->st_mtim, now) && settled(&st->st_ctim, now);
}

static char *
hex_u64(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;

    do {
        tmp[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

void
static_etag_format(const struct stat *st, char out[64])
{
    /* Inode, size and modification time: changes with any replacement. */
    char *p = out;

    *p++ = '"';
    p = hex_u64(p, (uint64_t)st->st_ino);
    *p++ = '-';
    p = hex_u64(p, (uint64_t)st->st_size);
    *p++ = '-';
    p = hex_u64(p, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    *p++ = '"';
    *p = '\0';
}

struct static_entry *
static_cache_put(struct static_cache *cache, uint64_t config_id, bool dir_url, const char *rel,
                 size_t rel_len, const struct stat *st, const char *content_type, const void *data,
                 uint64_t now_ms)
{
    uint32_t h = key_hash(config_id, dir_url, rel, rel_len);
    struct static_entry *e = &cache->slots[h % STATIC_CACHE_SLOTS];
    size_t size = (size_t)st->st_size;

    entry_clear(e);
    e->rel = malloc(rel_len + 1);
    e->data = malloc(size > 0 ? size : 1);
    if (e->rel == NULL || e->data == NULL) {
        entry_clear(e);
        return NULL;
    }
    memcpy(e->rel, rel, rel_len);
    e->rel[rel_len] = '\0';
    if (size > 0)
        memcpy(e->data, data, size);
    e->rel_len = rel_len;
    e->dir_url = dir_url;
    e->hash = h;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtim = st->st_mtim;
    e->ctim = st->st_ctim;
    e->checked_ms = now_ms;
    static_etag_format(st, e->etag);
    e->last_modified[h1_date_format(st->st_mtime, e->last_modified)] = '\0';
    e->content_type = content_type;
    e->config_id = config_id; /* last: a non-zero id marks the slot used */
    return e;
}

void
static_cache_drop(struct static_cache *cache, struct static_entry *e)
{
    (void)cache;
    entry_clear(e);
}
