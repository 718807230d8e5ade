// SPDX-License-Identifier: MIT
// Fuzz target for the static module's URL-path normalizer and Range parser.
// Invariants: a normalized path never contains a ".." or "." segment, an empty
// segment, a NUL or a control byte, never starts or ends with '/', and its
// length is what was reported; a parsed range lies inside the representation.
#include "modules/static_path.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gatehouse/error.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_path(const char *out, size_t len)
{
    if (strlen(out) != len)
        __builtin_trap();
    if (len == 0)
        return;
    if (out[0] == '/' || out[len - 1] == '/')
        __builtin_trap();
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && ((unsigned char)out[i] < 0x20 || out[i] == 0x7f))
            __builtin_trap();
        if (i == len || out[i] == '/') {
            size_t seg = i - start;
            if (seg == 0)
                __builtin_trap();
            if (seg == 1 && out[start] == '.')
                __builtin_trap();
            if (seg == 2 && out[start] == '.' && out[start + 1] == '.')
                __builtin_trap();
            start = i + 1;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[1024];
    size_t len = 0;
    bool is_dir = false;
    int rc = static_path_normalize((const char *)data, size, out, sizeof(out), &len, &is_dir);

    if (rc == GH_OK)
        check_path(out, len);
    else if ((rc != GH_EPROTO && rc != GH_ELIMIT) || len != 0)
        __builtin_trap();

    struct static_range r;
    uint64_t file_size = size * 7;
    rc = static_range_parse((const char *)data, size, file_size, &r);
    if (rc == GH_OK && (r.first > r.last || r.last >= file_size))
        __builtin_trap();
    if (rc != GH_OK && rc != GH_ENOTFOUND && rc != GH_ELIMIT)
        __builtin_trap();
    (void)static_etag_match((const char *)data, size, "\"1-2-3\"");
    return 0;
}
