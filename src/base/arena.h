// SPDX-License-Identifier: MIT
// struct arena: bump allocation tied to a protocol lifetime (connection, request),
// with deferred releases for non-memory resources.
#ifndef GH_BASE_ARENA_H
#define GH_BASE_ARENA_H

#include <stddef.h>

struct arena;

typedef void arena_release_fn(void *ptr);

/* Creates an arena whose chunks hold at least chunk_bytes. GH_OK or GH_ENOMEM. */
int arena_create(size_t chunk_bytes, struct arena **arena_out);
/* Runs the deferred releases (last registered first), then frees all memory. NULL-safe. */
void arena_destroy(struct arena *a);
/* Like destroy, but keeps the first chunk for reuse (keep-alive requests). */
void arena_reset(struct arena *a);
/* Returns zeroed memory aligned for any type, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
/* Copies len bytes and a NUL terminator; NULL when out of memory. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
/* Runs release(ptr) when the arena is reset or destroyed. GH_OK or GH_ENOMEM;
 * on failure the caller still owns ptr. */
int arena_defer(struct arena *a, arena_release_fn *release, void *ptr);
/* Bytes handed out since creation or the last reset (for limits and stats). */
size_t arena_used(const struct arena *a);

#endif
