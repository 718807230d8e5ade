// SPDX-License-Identifier: MIT
// The client's session cache (resumption). As on Windows, a cached session is
// used only by the same credential handle and the same target name, and only
// until it expires; each credential holds its own cache, so the first two
// conditions hold by construction. Bounded: the oldest entry makes room.
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gatehouse/error.h>

#include "sspi/schannel/schannel.h"

struct sch_cache_entry {
    char *target;         /* owned */
    SSL_SESSION *session; /* owned reference */
    int64_t stored_s;     /* CLOCK_MONOTONIC seconds */
};

static int64_t
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

int
sch_cache_init(struct sch_cache *cache, int64_t lifespan_s)
{
    *cache = (struct sch_cache){.lifespan_s = lifespan_s};
    cache->entries = calloc(SCH_CACHE_MAX_ENTRIES, sizeof(*cache->entries));
    if (cache->entries == NULL)
        return GH_ENOMEM;
    pthread_mutex_init(&cache->lock, NULL);
    return GH_OK;
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
sch_cache_destroy(struct sch_cache *cache)
{
    if (cache->entries == NULL)
        return;
    for (size_t i = 0; i < cache->count; i++)
        entry_clear(&cache->entries[i]);
    free(cache->entries);
    cache->entries = NULL;
    pthread_mutex_destroy(&cache->lock);
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

    if (cache->entries == NULL || target == NULL)
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

    if (cache->entries == NULL || target == NULL || session == NULL)
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

    if (cache->entries == NULL || target == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    i = find(cache, target);
    if (i != SIZE_MAX)
        entry_remove(cache, i);
    pthread_mutex_unlock(&cache->lock);
}
