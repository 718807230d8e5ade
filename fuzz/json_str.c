// SPDX-License-Identifier: MIT
// Fuzz target for json_str_append: the output is one JSON string literal with
// no raw control byte, only the escapes \" \\ \u00XX, and reading every
// \u00XX back as the byte XX gives the input again (nothing lost, nothing
// added); what is not escaped is the input's own well-formed UTF-8.
#include "base/json_str.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf b;
    uint8_t *back = malloc(size + 1);
    size_t n = 0;

    if (back == NULL)
        return 0;
    buf_init(&b, 6 * size + 2);
    if (json_str_append(&b, (const char *)data, size) != GH_OK)
        __builtin_trap(); /* 6 bytes per input byte always fit */
    if (b.len < 2 || b.data[0] != '"' || b.data[b.len - 1] != '"')
        __builtin_trap();
    for (size_t i = 1; i + 1 < b.len; i++) {
        uint8_t c = b.data[i];
        if (c < 0x20 || c == 0x7f || c == '"')
            __builtin_trap();
        if (c != '\\') {
            back[n++] = c;
            continue;
        }
        if (i + 2 < b.len && (b.data[i + 1] == '"' || b.data[i + 1] == '\\')) {
            back[n++] = b.data[++i];
            continue;
        }
        if (i + 6 >= b.len || b.data[i + 1] != 'u' || b.data[i + 2] != '0' || b.data[i + 3] != '0')
            __builtin_trap();
        int hi = hex_digit_value(b.data[i + 4]), lo = hex_digit_value(b.data[i + 5]);
        if (hi < 0 || lo < 0)
            __builtin_trap();
        back[n++] = (uint8_t)(hi << 4 | lo);
        i += 5;
    }
    if (n != size || memcmp(back, data, size) != 0)
        __builtin_trap();
    buf_free(&b);
    free(back);
    return 0;
}
