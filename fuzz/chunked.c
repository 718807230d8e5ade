// SPDX-License-Identifier: MIT
// Fuzz target for h1_chunked_decode: consumed never exceeds the input, data lies
// inside the input, and feeding in pieces (size from the first byte) gives the
// same body and outcome as feeding it whole.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "http/h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
    int err;
    size_t consumed;
    uint64_t data_len;
    uint64_t data_hash;
};

static struct outcome
run(const uint8_t *in, size_t len, size_t step)
{
    struct h1_chunked c;
    struct outcome o = {.err = GH_AGAIN, .data_hash = 1469598103934665603ULL};
    size_t off = 0;

    h1_chunked_init(&c, 32, 128);
    while (o.err == GH_AGAIN && off < len) {
        size_t n = len - off < step ? len - off : step;
        size_t consumed = 99999;
        struct slice d;
        o.err = h1_chunked_decode(&c, in + off, n, &consumed, &d);
        if (consumed > n)
            __builtin_trap();
        if (d.len > 0 &&
            (d.ptr < in + off || d.len > n || d.ptr - (in + off) > (ptrdiff_t)(n - d.len)))
            __builtin_trap();
        if (o.err < 0 &&
            (consumed != 0 || d.len != 0 || (o.err != GH_EPROTO && o.err != GH_ELIMIT)))
            __builtin_trap();
        if (o.err == GH_OK && d.len != 0)
            __builtin_trap();
        if (o.err == GH_AGAIN && consumed < n && d.len == 0)
            __builtin_trap(); /* stopped early without producing data */
        for (size_t i = 0; i < d.len; i++)
            o.data_hash = (o.data_hash ^ d.ptr[i]) * 1099511628211ULL;
        o.data_len += d.len;
        off += consumed;
    }
    o.consumed = off;
    return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] % 16) + 1;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    struct outcome whole = run(in, len, len > 0 ? len : 1);
    struct outcome pieces = run(in, len, step);

    if (whole.err != pieces.err || whole.data_len != pieces.data_len ||
        whole.data_hash != pieces.data_hash)
        __builtin_trap();
    if (whole.err == GH_OK && whole.consumed != pieces.consumed)
        __builtin_trap();
    if (whole.consumed > len)
        __builtin_trap();
    return 0;
}
