// SPDX-License-Identifier: MIT
// SIDs (src/sspi/sid.c): MS-DTYP 2.4.2.1 string form both ways.
#include <string.h>

#include "harness/check.h"
#include "sspi/sid.h"

int
main(void)
{
    static const struct {
        const char *in;
        const char *canonical; /* NULL: refused */
    } rows[] = {
        {"S-1-5-21-3328848901-3481113619-4265478161-1102",
         "S-1-5-21-3328848901-3481113619-4265478161-1102"},
        {"s-1-5-32-545", "S-1-5-32-545"},                 /* "S" case-insensitive */
        {"S-1-18-1", "S-1-18-1"},                         /* well-known, one sub-authority */
        {"S-1-0x000100000000-1", "S-1-0x000100000000-1"}, /* authority >= 2^32 in hex */
        {"S-1-4294967295-1", "S-1-4294967295-1"},
        {"S-1-5-4294967295", "S-1-5-4294967295"},
        {"S-1-5-4294967296", NULL}, /* sub-authority over 32 bits */
        {"S-2-5-1", NULL},          /* revision 1 only */
        {"S-1-5-01", NULL},         /* leading zero */
        {"S-1-5--1", NULL},
        {"S-1-5-1-", NULL},
        {"S-1-5-+1", NULL},
        {"S-1-", NULL},
        {"X-1-5", NULL},
        {"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"},
        {"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", NULL}, /* 16 sub-authorities */
        {"S-1-281474976710656-1", NULL},                        /* authority over 48 bits */
        {"CORP\\Staff", NULL},
    };
    char out[SID_STRING_MAX];
    struct sid s, d;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool ok = sid_from_string(rows[i].in, &s);
        if (rows[i].canonical == NULL) {
            if (ok)
                CHECK_FAIL_("accepted %s", rows[i].in);
            continue;
        }
        CHECK(ok);
        CHECK(sid_to_string(&s, out, sizeof(out)));
        CHECK_STR_EQ(out, rows[i].canonical);
    }
    CHECK(sid_from_string("S-1-5-21-1-2-3", &d));
    CHECK(sid_compose(&d, 513, &s));
    CHECK(sid_to_string(&s, out, sizeof(out)));
    CHECK_STR_EQ(out, "S-1-5-21-1-2-3-513");
    CHECK(sid_from_string("S-1-5-21-1-2-3-513", &d));
    CHECK(sid_equal(&s, &d));
    CHECK(sid_from_string("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", &d));
    CHECK(!sid_compose(&d, 1, &s)); /* would be 16 */
    s.revision = 2;
    CHECK(!sid_to_string(&s, out, sizeof(out)));
    CHECK_STR_EQ(out, "");
    CHECK(!sid_to_string(&d, out, 10)); /* buffer too small */
    return check_done("test_sid");
}
