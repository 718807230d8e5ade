// SPDX-License-Identifier: MIT
// The static handler's open-file cache: small files kept in memory per worker.
#ifndef GH_MODULES_STATIC_CACHE_H
#define GH_MODULES_STATIC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* An entry is trusted for this long after the file was last checked (opened
 * again beneath the root and fstat'ed): a changed, removed or no longer
 * readable file is noticed within this bound. */
#define STATIC_CACHE_CHECK_MS 1000
/* A file modified (mtime or ctime) less than this long ago is not stored: its
 * content may still be changing within one timestamp tick, which the identity
 * check could not see (the "racy git" problem). */
#define STATIC_CACHE_SETTLE_S 1
#define STATIC_CACHE_SLOTS    256  /* entries per cache (per worker) */
#define STATIC_CACHE_MAX_FILE 4096 /* bytes: larger files are never stored */

/* What a request needs from a cached file; every field is owned by the cache
 * and stays valid until the next static_cache_* call on the same cache. */
struct static_entry {
    uint64_t config_id; /* 0: the slot is empty */
    bool dir_url;       /* key: the URL ended in '/' (the file is its index) */
    char *rel;          /* key: the normalized URL path below the root (owned) */
    size_t rel_len;
    uint32_t hash;
    /* identity of the file when it was read: any change means re-read */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
    uint64_t checked_ms; /* monotonic ms of the last check */
    char etag[64];
    char last_modified[32];
    const char *content_type; /* static string */
    char *data;               /* owned copy of the whole file, size bytes */
};

struct static_cache;

/* Creates an empty cache of STATIC_CACHE_SLOTS slots (direct-mapped: a new
 * entry replaces the one in its slot). Returns NULL when out of memory. */
struct static_cache *static_cache_create(void);
void static_cache_destroy(struct static_cache *cache); /* NULL is a no-op */

/* The entry for the key, whatever its age, or NULL. */
struct static_entry *static_cache_find(struct static_cache *cache, uint64_t config_id, bool dir_url,
                                       const char *rel, size_t rel_len);

/* Whether e was checked less than STATIC_CACHE_CHECK_MS before now_ms. */
bool static_entry_fresh(const struct static_entry *e, uint64_t now_ms);

/* Whether st describes the same file, unchanged, as e (device, inode, size,
 * mtime, ctime). */
bool static_entry_same_file(const struct static_entry *e, const struct stat *st);

/* Whether a file with this stat may be stored at wall-clock time now: a regular
 * file of at most STATIC_CACHE_MAX_FILE bytes not modified within the last
 * STATIC_CACHE_SETTLE_S seconds. */
bool static_cache_storable(const struct stat *st, const struct timespec *now);

/* Stores data (st->st_size bytes read from the file st describes) under the key,
 * replacing what the slot held; content_type must be a static string. Returns
 * the entry, or NULL when out of memory (the slot is then left empty). */
struct static_entry *static_cache_put(struct static_cache *cache, uint64_t config_id, bool dir_url,
                                      const char *rel, size_t rel_len, const struct stat *st,
                                      const char *content_type, const void *data, uint64_t now_ms);

/* Empties the slot of e (after the file was found changed, removed or refused). */
void static_cache_drop(struct static_cache *cache, struct static_entry *e);

/* Writes the strong entity tag for st ("inode-size-mtime" in hex, quoted) into
 * out (at least 64 bytes, NUL-terminated). */
void static_etag_format(const struct stat *st, char out[64]);

#endif
