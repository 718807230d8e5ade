// SPDX-License-Identifier: MIT
// Unit tests for src/base/slice.h: containment and comparisons.
#include "base/slice.h"
#include "harness/check.h"

int
main(void)
{
    static const uint8_t buf[16] = {0};
    static const struct {
        const char *name;
        size_t off, len;
        bool want;
    } cases[] = {
        {"whole buffer", 0, 16, true},       {"last byte", 15, 1, true},
        {"empty past the end", 40, 0, true}, {"one byte past the end", 16, 1, false},
        {"runs over the end", 10, 7, false}, {"longer than the buffer", 0, 17, false},
        {"huge length", 1, SIZE_MAX, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct slice s = {(const uint8_t *)((uintptr_t)buf + cases[i].off), cases[i].len};
        if (slice_within(s, buf, sizeof(buf)) != cases[i].want)
            fprintf(stderr, "slice_within: %s\n", cases[i].name);
        CHECK_EQ(slice_within(s, buf, sizeof(buf)), cases[i].want);
    }
    /* Before the buffer: an address below base. */
    CHECK(!slice_within((struct slice){buf, 4}, buf + 8, 8));
    CHECK(slice_eq_nocase(SLICE_LIT("Negotiate"), SLICE_LIT("nEGOTIATE")));
    CHECK(!slice_eq_nocase(SLICE_LIT("NTLM"), SLICE_LIT("NTLMv2")));
    CHECK(slice_eq(slice_cstr("a"), SLICE_LIT("a")));
    return check_done("base/slice");
}
