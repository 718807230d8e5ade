// SPDX-License-Identifier: MIT
// Arenas follow the protocol's lifetimes: everything a request allocates goes
// when the request ends, so per-request code never frees piecemeal.
#include "base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes in data */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct defer {
    struct defer *next;
    arena_release_fn *release;
    void *ptr;
};

struct arena {
    struct chunk *chunks; /* newest first; the last one is the first created */
    struct defer *defers; /* newest first */
    size_t chunk_bytes;
    size_t used_bytes;
};

static struct chunk *
chunk_new(size_t size)
{
    struct chunk *c = malloc(sizeof(*c) + size);

    if (c == NULL)
        return NULL;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

int
arena_create(size_t chunk_bytes, struct arena **arena_out)
{
    struct arena *a = calloc(1, sizeof(*a));

    *arena_out = NULL;
    if (a == NULL)
        return GH_ENOMEM;
    a->chunk_bytes = chunk_bytes < 256 ? 256 : chunk_bytes;
    a->chunks = chunk_new(a->chunk_bytes);
    if (a->chunks == NULL) {
        free(a);
        return GH_ENOMEM;
    }
    *arena_out = a;
    return GH_OK;
}

static void
run_defers(struct arena *a)
{
    while (a->defers != NULL) {
        struct defer *d = a->defers;
        a->defers = d->next;
        d->release(d->ptr);
        /* d itself lives in the arena's chunks */
    }
}

void
arena_reset(struct arena *a)
{
    struct chunk *c;

    run_defers(a);
    c = a->chunks;
    while (c->next != NULL) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    c->used = 0;
    a->chunks = c;
    a->used_bytes = 0;
}

void
arena_destroy(struct arena *a)
{
    if (a == NULL)
        return;
    arena_reset(a);
    free(a->chunks);
    free(a);
}

void *
arena_alloc(struct arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    size_t rounded;
    struct chunk *c = a->chunks;
    void *p;

    if (size > SIZE_MAX - align)
        return NULL;
    rounded = (size + align - 1) & ~(align - 1);
    if (c->size - c->used < rounded) {
        size_t want = rounded > a->chunk_bytes ? rounded : a->chunk_bytes;
        struct chunk *n = chunk_new(want);
        if (n == NULL)
            return NULL;
        /* Keep the first chunk last so reset can find it. */
        n->next = a->chunks;
        a->chunks = n;
        c = n;
    }
    p = c->data + c->used;
    c->used += rounded;
    a->used_bytes += rounded;
    memset(p, 0, rounded);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    p = arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

int
arena_defer(struct arena *a, arena_release_fn *release, void *ptr)
{
    struct defer *d = arena_alloc(a, sizeof(*d));

    if (d == NULL)
        return GH_ENOMEM;
    d->release = release;
    d->ptr = ptr;
    d->next = a->defers;
    a->defers = d;
    return GH_OK;
}

size_t
arena_used(const struct arena *a)
{
    return a->used_bytes;
}
