// SPDX-License-Identifier: MIT
// Unit tests for src/auth/record.c: success records copy what they are given,
// and a group count without a list or a token to ask yields no groups (found
// by clang-analyzer: the token ops were dereferenced without a backend).
#include <gatehouse/error.h>

#include "auth/record.h"
#include "harness/check.h"

static void
test_success_copies(void)
{
    static const char *const groups[] = {"staff", "ops"};
    struct auth_record r;

    auth_record_init(&r, NULL);
    CHECK_EQ(auth_record_set_success(&r, GH_AUTH_TYPE_BASIC, NULL, "alice", "EXAMPLE", "Basic",
                                     groups, 2),
             GH_OK);
    CHECK_EQ(r.pub.status, GH_AUTH_SUCCESS);
    CHECK_STR_EQ(r.pub.user_name, "alice");
    CHECK_STR_EQ(r.pub.domain, "EXAMPLE");
    CHECK_STR_EQ(r.pub.package_name, "Basic");
    CHECK_EQ(r.pub.group_count, 2);
    CHECK_STR_EQ(r.pub.groups[1], "ops");
    CHECK(r.pub.groups[0] != groups[0]); /* copied, not borrowed */
    auth_record_clear(&r);
    CHECK_EQ(r.pub.group_count, 0);
}

static void
test_groups_without_source(void)
{
    struct auth_record r;

    auth_record_init(&r, NULL);
    CHECK_EQ(auth_record_set_success(&r, GH_AUTH_TYPE_BASIC, NULL, "bob", NULL, "Basic", NULL, 3),
             GH_OK);
    CHECK_EQ(r.pub.group_count, 0);
    CHECK_STR_EQ(r.pub.user_name, "bob");
    auth_record_clear(&r);
}

int
main(void)
{
    test_success_copies();
    test_groups_without_source();
    return check_done("test_record");
}
