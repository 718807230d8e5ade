// SPDX-License-Identifier: MIT
// Reads a binary test vector, tests/vectors/<name> ($GH_VECTORS set by CTest),
// into buf. Exits the test (status 1) when the file cannot be opened.
#ifndef GH_TESTS_VECTOR_FILE_H
#define GH_TESTS_VECTOR_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline size_t
vector_load(const char *name, uint8_t *buf, size_t cap)
{
    char path[1024];
    const char *dir = getenv("GH_VECTORS");
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "tests/vectors", name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

#endif
