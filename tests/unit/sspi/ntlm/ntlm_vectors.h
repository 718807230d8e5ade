// SPDX-License-Identifier: MIT
// Loads tests/vectors/ntlm/ms-nlmp-4.2.txt ("key = hex" or key = "text").
#ifndef GH_TESTS_NTLM_VECTORS_H
#define GH_TESTS_NTLM_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vector {
    char key[64];
    uint8_t bytes[1024];
    size_t len;
};

static struct vector vectors[64];
static size_t vector_count;

static inline int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline void
vectors_load(void)
{
    const char *dir = getenv("GH_VECTORS");
    char path[1024];
    char line[4096];

    snprintf(path, sizeof(path), "%s/ntlm/ms-nlmp-4.2.txt", dir != NULL ? dir : "tests/vectors");
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    while (fgets(line, sizeof(line), f) != NULL && vector_count < 64) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || eq == NULL)
            continue;
        struct vector *v = &vectors[vector_count++];
        size_t klen = (size_t)(eq - line);
        while (klen > 0 && line[klen - 1] == ' ')
            klen--;
        memcpy(v->key, line, klen < 63 ? klen : 63);
        char *p = eq + 1;
        while (*p == ' ')
            p++;
        if (*p == '"') {
            char *end = strchr(p + 1, '"');
            v->len = (size_t)(end - p - 1);
            memcpy(v->bytes, p + 1, v->len);
            continue;
        }
        for (; *p != '\0' && *p != '\n'; p++) {
            if (*p == ' ')
                continue;
            int hi = hexval(p[0]), lo = hexval(p[1]);
            if (hi < 0 || lo < 0)
                break;
            v->bytes[v->len++] = (uint8_t)(hi << 4 | lo);
            p++;
        }
    }
    fclose(f);
}

static inline const struct vector *
vec(const char *key)
{
    if (vector_count == 0)
        vectors_load();
    for (size_t i = 0; i < vector_count; i++) {
        if (strcmp(vectors[i].key, key) == 0)
            return &vectors[i];
    }
    fprintf(stderr, "no vector %s\n", key);
    exit(1);
}

/* The vector as a NUL-terminated string (for the text values). */
static inline const char *
vec_str(const char *key)
{
    static char buf[8][256];
    static int next;
    const struct vector *v = vec(key);
    char *b = buf[next++ % 8];
    memcpy(b, v->bytes, v->len);
    b[v->len] = '\0';
    return b;
}

#endif
