// SPDX-License-Identifier: MIT
// Unit tests for src/base/buf.c: growth, hard limits, printf, consume.
#include <gatehouse/error.h>

#include "base/buf.h"
#include "harness/check.h"

static void
test_limit(void)
{
    struct buf b;

    buf_init(&b, 8);
    CHECK_EQ(buf_append(&b, "12345678", 8), GH_OK);
    CHECK_EQ(buf_append(&b, "9", 1), GH_ELIMIT); /* the cap is hard */
    CHECK_EQ(b.len, 8);
    buf_consume(&b, 3);
    CHECK_EQ(b.len, 5);
    CHECK_MEM_EQ(b.data, "45678", 5);
    buf_free(&b);
}

static void
test_printf(void)
{
    struct buf b;

    buf_init(&b, 1024);
    CHECK_EQ(buf_printf(&b, "%s=%d", "a", 42), GH_OK);
    CHECK_EQ(b.len, 4);
    CHECK_MEM_EQ(b.data, "a=42", 4);
    CHECK_EQ(buf_printf(&b, "%2000d", 1), GH_ELIMIT);
    CHECK_EQ(b.len, 4);
    buf_free_wipe(&b);
}

static void
test_growth(void)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        CHECK_EQ(buf_append(&b, "xy", 2), GH_OK);
    CHECK_EQ(b.len, 20000);
    CHECK(b.cap >= b.len && b.cap <= b.max);
    buf_free(&b);
}

int
main(void)
{
    test_limit();
    test_printf();
    test_growth();
    return check_done("base/buf");
}
