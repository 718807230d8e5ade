// SPDX-License-Identifier: MIT
// Fuzz target for h1_parse_response: the return contract (502 on every failure),
// slices inside the input, and self-delimiting heads.
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
parse(const uint8_t *data, size_t size, const struct h1_limits *limits, struct h1_response *resp,
      struct h1_header *headers, size_t *consumed, int *status)
{
    *resp = (struct h1_response){.headers = headers, .header_capacity = CAP};
    return h1_parse_response((const char *)data, size, limits, resp, consumed, status);
}

static void
check(const uint8_t *data, size_t size, const struct h1_limits *limits)
{
    struct h1_header headers[CAP];
    struct h1_response resp;
    size_t consumed = 0;
    int status = 0;
    int err = parse(data, size, limits, &resp, headers, &consumed, &status);

    if (err == GH_AGAIN && (status != 0 || consumed != 0))
        __builtin_trap();
    if (err < 0) {
        if (consumed != 0 || status != 502)
            __builtin_trap();
        if (err != GH_EPROTO && err != GH_ELIMIT && err != GH_EUNSUPPORTED)
            __builtin_trap();
        return;
    }
    if (err != GH_OK)
        return;
    if (status != 0 || consumed == 0 || consumed > size || consumed > limits->max_head_bytes)
        __builtin_trap();
    if (resp.status < 100 || resp.status > 599 || resp.minor_version < 0 || resp.minor_version > 1)
        __builtin_trap();
    if (resp.header_count > CAP || resp.header_count > limits->max_header_count)
        __builtin_trap();
    if (resp.body_kind != H1_BODY_LENGTH && resp.body_kind != H1_BODY_CHUNKED &&
        resp.body_kind != H1_BODY_CLOSE)
        __builtin_trap();
    if (!slice_within(resp.reason, data, consumed))
        __builtin_trap();
    for (size_t i = 0; i < resp.header_count; i++) {
        if (resp.headers[i].name.len == 0 || !slice_within(resp.headers[i].name, data, consumed) ||
            !slice_within(resp.headers[i].value, data, consumed))
            __builtin_trap();
    }
    struct h1_response again;
    struct h1_header headers2[CAP];
    size_t consumed2;
    int status2;
    if (parse(data, consumed, limits, &again, headers2, &consumed2, &status2) != GH_OK ||
        consumed2 != consumed || again.body_kind != resp.body_kind ||
        again.content_length != resp.content_length || again.status != resp.status)
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
