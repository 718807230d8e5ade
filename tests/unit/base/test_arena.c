// SPDX-License-Identifier: MIT
// Unit tests for src/base/arena.c: alignment, large allocations, deferred releases.
#include <stdalign.h>
#include <stdint.h>

#include <gatehouse/error.h>

#include "base/arena.h"
#include "harness/check.h"

static int released[4];
static int release_order;

static void
note_release(void *ptr)
{
    *(int *)ptr = ++release_order;
}

int
main(void)
{
    struct arena *a = NULL;

    CHECK_EQ(arena_create(512, &a), GH_OK);
    for (int i = 1; i < 100; i++) {
        void *p = arena_alloc(a, (size_t)i);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % alignof(max_align_t), 0);
    }
    CHECK(arena_alloc(a, 100000) != NULL); /* larger than a chunk */
    CHECK_STR_EQ(arena_strndup(a, "hello world", 5), "hello");
    CHECK_EQ(arena_defer(a, note_release, &released[0]), GH_OK);
    CHECK_EQ(arena_defer(a, note_release, &released[1]), GH_OK);
    arena_reset(a);
    CHECK_EQ(released[1], 1); /* last registered runs first */
    CHECK_EQ(released[0], 2);
    CHECK_EQ(arena_used(a), 0);
    CHECK_EQ(arena_defer(a, note_release, &released[2]), GH_OK);
    arena_destroy(a);
    CHECK_EQ(released[2], 3);
    arena_destroy(NULL);
    return check_done("base/arena");
}
