// SPDX-License-Identifier: MIT
// Fuzz target for h1_parse_request: the return contract, slices inside the input,
// and self-delimiting heads (the same result whatever follows or is missing).
#include <stdint.h>
#include <string.h>

#include <gatehouse/error.h>

#include "http/h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 32

static const struct h1_limits small_limits = {
    .max_request_line_bytes = 64,
    .max_head_bytes = 256,
    .max_header_count = 4,
};

static int
parse(const uint8_t *data, size_t size, const struct h1_limits *limits, struct h1_request *req,
      struct h1_header *headers, size_t *consumed, int *status)
{
    *req = (struct h1_request){.headers = headers, .header_capacity = CAP};
    return h1_parse_request((const char *)data, size, limits, req, consumed, status);
}

static void
check(const uint8_t *data, size_t size, const struct h1_limits *limits)
{
    struct h1_header headers[CAP];
    struct h1_request req;
    size_t consumed = 0;
    int status = 0;
    int err = parse(data, size, limits, &req, headers, &consumed, &status);

    if (err == GH_AGAIN && (status != 0 || consumed != 0))
        __builtin_trap();
    if (err < 0) {
        if (consumed != 0 ||
            (status != 400 && status != 414 && status != 431 && status != 501 && status != 505))
            __builtin_trap();
        if (err != GH_EPROTO && err != GH_ELIMIT && err != GH_EUNSUPPORTED)
            __builtin_trap();
        return;
    }
    if (err != GH_OK)
        return;
    if (status != 0 || consumed == 0 || consumed > size || consumed > limits->max_head_bytes)
        __builtin_trap();
    if (req.header_count > CAP || req.header_count > limits->max_header_count)
        __builtin_trap();
    if (req.method.len == 0 || req.target.len == 0 || req.minor_version < 0 ||
        req.minor_version > 1)
        __builtin_trap();
    if (req.method.len + req.target.len + 10 > limits->max_request_line_bytes)
        __builtin_trap();
    if (!slice_within(req.method, data, consumed) || !slice_within(req.target, data, consumed) ||
        !slice_within(req.path, data, consumed) || !slice_within(req.query, data, consumed) ||
        !slice_within(req.authority, data, consumed) || !slice_within(req.host, data, consumed))
        __builtin_trap();
    if (req.minor_version == 1 &&
        h1_header_find(headers, req.header_count, SLICE_LIT("host")) == NULL)
        __builtin_trap();
    if (req.body_kind == H1_BODY_CHUNKED && req.minor_version != 1)
        __builtin_trap();
    for (size_t i = 0; i < req.header_count; i++) {
        if (req.headers[i].name.len == 0 || !slice_within(req.headers[i].name, data, consumed) ||
            !slice_within(req.headers[i].value, data, consumed))
            __builtin_trap();
        for (size_t j = 0; j < req.headers[i].value.len; j++) {
            uint8_t c = req.headers[i].value.ptr[j];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                __builtin_trap();
        }
    }
    /* The head is self-delimiting: exactly the head parses the same, one byte less
     * is incomplete. */
    struct h1_request again;
    struct h1_header headers2[CAP];
    size_t consumed2;
    int status2;
    if (parse(data, consumed, limits, &again, headers2, &consumed2, &status2) != GH_OK ||
        consumed2 != consumed || again.body_kind != req.body_kind ||
        again.content_length != req.content_length || again.keep_alive != req.keep_alive)
        __builtin_trap();
    if (parse(data, consumed - 1, limits, &again, headers2, &consumed2, &status2) != GH_AGAIN)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, &h1_limits_default);
    check(data, size, &small_limits);
    return 0;
}
