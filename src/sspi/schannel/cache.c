// SPDX-License-Identifier: MIT
// The client's session cache (resumption). As on Windows, a cached session is
// used only by the same credential handle and the same target name, and only
// until it expires; each credential holds its own cache, so the first two
// conditions hold by construction. Bounded: the oldest entry makes room.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/clock.h"
#include "sspi/schannel/schannel.h"

struct sch_cache {
    pthread_mutex_t lock;
    atomic_int refs;
    struct sch_cache_entry *entries; /* SCH_CACHE_MAX_ENTRIES slots, oldest first */
    size_t count;
    int64_t lifespan_s;
};

struct sch_cache_entry {
    char *target;         /* owned */
    SSL_SESSION *session; /* owned reference */
    int64_t stored_s;     /* CLOCK_MONOTONIC seconds */
};

static int64_t
now_s(void)
{
    return (int64_t)(clock_monotonic_ms() / 1000u);
}

struct sch_cache *
sch_cache_new(int64_t lifespan_s)
{
    struct sch_cache *cache = calloc(1, sizeof(*cache));

    if (cache == NULL)
        return NULL;
    cache->lifespan_s = lifespan_s;
    cache->entries = calloc(SCH_CACHE_MAX_ENTRIES, sizeof(*cache->entries));
    if (cache->entries == NULL) {
        free(cache);
        return NULL;
    }
    atomic_init(&cache->refs, 1);
    pthread_mutex_init(&cache->lock, NULL);
    return cache;
}

struct sch_cache *
sch_cache_ref(struct sch_cache *cache)
{
    if (cache != NULL)
        atomic_fetch_add(&cache->refs, 1);
    return cache;
}

static void
entry_clear(struct sch_cache_entry *e)
{
    free(e->target);
    SSL_SESSION_free(e->session);
    *e = (struct sch_cache_entry){0};
}

/* Removes slot i, keeping the rest in insertion order (oldest first). */
static void
entry_remove(struct sch_cache *cache, size_t i)
{
    entry_clear(&cache->entries[i]);
    memmove(&cache->entries[i], &cache->entries[i + 1],
            (cache->count - i - 1) * sizeof(*cache->entries));
    cache->count--;
    cache->entries[cache->count] = (struct sch_cache_entry){0};
}

void
sch_cache_unref(struct sch_cache *cache)
{
    if (cache == NULL || atomic_fetch_sub(&cache->refs, 1) != 1)
        return;
    for (size_t i = 0; i < cache->count; i++)
        entry_clear(&cache->entries[i]);
    free(cache->entries);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

static size_t
find(const struct sch_cache *cache, const char *target)
{
    for (size_t i = 0; i < cache->count; i++) {
        if (strcmp(cache->entries[i].target, target) == 0)
            return i;
    }
    return SIZE_MAX;
}

SSL_SESSION *
sch_cache_get(struct sch_cache *cache, const char *target)
{
    SSL_SESSION *s = NULL;
    size_t i;

    if (cache == NULL || target == NULL)
        return NULL;
    pthread_mutex_lock(&cache->lock);
    i = find(cache, target);
    if (i != SIZE_MAX) {
        struct sch_cache_entry *e = &cache->entries[i];

        if (now_s() - e->stored_s >= cache->lifespan_s ||
            SSL_SESSION_is_resumable(e->session) != 1) {
            entry_remove(cache, i);
        } else {
            s = e->session;
            SSL_SESSION_up_ref(s);
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return s;
}

void
sch_cache_put(struct sch_cache *cache, const char *target, SSL_SESSION *session)
{
    char *name;
    size_t i;

    if (cache == NULL || target == NULL || session == NULL)
        return;
    name = strdup(target);
    if (name == NULL)
        return; /* not cached: the next connection makes a full handshake */
    pthread_mutex_lock(&cache->lock);
    i = find(cache, target);
    if (i != SIZE_MAX)
        entry_remove(cache, i);
    if (cache->count == SCH_CACHE_MAX_ENTRIES)
        entry_remove(cache, 0);
    SSL_SESSION_up_ref(session);
    cache->entries[cache->count++] =
        (struct sch_cache_entry){.target = name, .session = session, .stored_s = now_s()};
    pthread_mutex_unlock(&cache->lock);
}

void
sch_cache_forget(struct sch_cache *cache, const char *target)
{
    size_t i;

    if (cache == NULL || target == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    i = find(cache, target);
    if (i != SIZE_MAX)
        entry_remove(cache, i);
    pthread_mutex_unlock(&cache->lock);
}
