// SPDX-License-Identifier: MIT
// Typed assertions for unit tests: each failure prints both values and the line.
#ifndef GH_TESTS_CHECK_H
#define GH_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK_FAIL_(fmt, ...)                                                 \
    do {                                                                      \
        fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
        check_failures++;                                                     \
    } while (0)

/* Integers (any signed type up to 64 bits). */
#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                \
        if (va_ != vb_)                                                      \
            CHECK_FAIL_("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, va_, vb_); \
    } while (0)

#define CHECK_HEX_EQ(a, b)                                                               \
    do {                                                                                 \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
        if (va_ != vb_)                                                                  \
            CHECK_FAIL_("CHECK_HEX_EQ(%s, %s): 0x%llx != 0x%llx", #a, #b, va_, vb_);     \
    } while (0)

#define CHECK(cond)                                 \
    do {                                            \
        if (!(cond))                                \
            CHECK_FAIL_("CHECK(%s) failed", #cond); \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                      \
    do {                                                                                        \
        const char *sa_ = (a), *sb_ = (b);                                                      \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0)                                \
            CHECK_FAIL_("CHECK_STR_EQ(%s, %s): \"%s\" != \"%s\"", #a, #b, sa_ ? sa_ : "(null)", \
                        sb_ ? sb_ : "(null)");                                                  \
    } while (0)

#define CHECK_MEM_EQ(a, b, n)                                                  \
    do {                                                                       \
        if (memcmp((a), (b), (n)) != 0)                                        \
            CHECK_FAIL_("CHECK_MEM_EQ(%s, %s, %s): bytes differ", #a, #b, #n); \
    } while (0)

/* Ends main(): prints a summary and returns the exit status. */
static inline int
check_done(const char *name)
{
    if (check_failures > 0) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
