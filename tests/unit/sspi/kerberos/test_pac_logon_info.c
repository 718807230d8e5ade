// SPDX-License-Identifier: MIT
// KERB_VALIDATION_INFO decoder (src/sspi/kerberos/pac_logon_info.c).
// MS-PAC publishes no vectors for this structure: the valid inputs are
// PAC_LOGON_INFO buffers of real tickets from a Samba 4.17 AD DC
// (tests/vectors/pac/), and the malformed ones are those buffers with one
// field broken at a time. Offsets below are into carol_logon_info.bin.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/kerberos/pac_logon_info.h"

#define DOM "S-1-5-21-3328848901-3481113619-4265478161"

static size_t
load(const char *name, uint8_t *buf, size_t cap)
{
    char path[1024];
    const char *dir = getenv("GH_VECTORS");
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/pac/%s", dir != NULL ? dir : "tests/vectors", name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static const char *
sidstr(const struct sid *s, char *buf)
{
    return sid_to_string(s, buf, SID_STRING_MAX) ? buf : "(invalid)";
}

static void
test_carol(const uint8_t *b, size_t n)
{
    struct pac_logon_info li;
    char s[SID_STRING_MAX];

    CHECK_EQ(pac_logon_info_decode(slice_make(b, n), &li), SEC_E_OK);
    CHECK_STR_EQ(li.effective_name, "carol");
    CHECK_STR_EQ(li.full_name, "");
    CHECK_STR_EQ(li.logon_server, "VM");
    CHECK_STR_EQ(li.logon_domain_name, "CORP");
    CHECK_STR_EQ(sidstr(&li.logon_domain_sid, s), DOM);
    CHECK_STR_EQ(sidstr(&li.user_sid, s), DOM "-1102");
    CHECK_STR_EQ(sidstr(&li.primary_group_sid, s), DOM "-513");
    CHECK_HEX_EQ(li.user_flags, 0x20);           /* LOGON_EXTRA_SIDS */
    CHECK_HEX_EQ(li.user_account_control, 0x10); /* normal account */
    CHECK_EQ(li.group_count, 4);
    if (li.group_count == 4) {
        /* Domain Users, Engineers, Staff (Engineers is in Staff: the KDC
         * expands nesting), then the extra SID "authentication authority
         * asserted identity" (MS-PAC 2.2.1 / MS-SFU 3.1.5.1.1.2). */
        CHECK_STR_EQ(sidstr(&li.groups[0].sid, s), DOM "-513");
        CHECK_STR_EQ(sidstr(&li.groups[1].sid, s), DOM "-1107");
        CHECK_STR_EQ(sidstr(&li.groups[2].sid, s), DOM "-1108");
        CHECK_STR_EQ(sidstr(&li.groups[3].sid, s), "S-1-18-1");
        CHECK_EQ(li.groups[0].origin, PAC_SID_GROUP);
        CHECK_EQ(li.groups[3].origin, PAC_SID_EXTRA);
        CHECK_HEX_EQ(li.groups[1].attributes, 7);
    }
    pac_logon_info_free(&li);
    pac_logon_info_free(&li); /* idempotent after free */
}

/* carol's buffer plus one resource group (hand-made: MS-PAC 2.5 with the D
 * flag): ResourceGroupDomainSid S-1-5-21-1-2-3 and RID 4242 appended after
 * the extra SID, the object length grown by 40 to 0x1d0. */
static size_t
with_resource_group(const uint8_t *b, size_t n, uint8_t *out)
{
    static const uint8_t tail[40] = {
        4,    0,    0, 0,             /* conformance: 4 sub-authorities */
        1,    4,    0, 0, 0, 0, 0, 5, /* revision 1, 4 subs, authority 5 */
        21,   0,    0, 0, 1, 0, 0, 0, 2, 0,
        0,    0,    3, 0, 0, 0, 1, 0, 0, 0, /* conformance: 1 membership */
        0x92, 0x10, 0, 0, 7, 0, 0, 0,       /* RID 4242, attributes 7 */
    };

    memcpy(out, b, n);
    memcpy(out + n, tail, sizeof(tail));
    put32(out + 0x08, 0x1d0);
    put32(out + 0x88, 0x20 | 0x200); /* UserFlags: extra SIDs, resource groups */
    put32(out + 0xe0, 0x20034);      /* ResourceGroupDomainSid */
    put32(out + 0xe4, 1);            /* ResourceGroupCount */
    put32(out + 0xe8, 0x20038);      /* ResourceGroupIds */
    return n + sizeof(tail);
}

static void
test_resource_groups(const uint8_t *b, size_t n)
{
    uint8_t m[1024];
    size_t mn = with_resource_group(b, n, m);
    struct pac_logon_info li;
    char s[SID_STRING_MAX];

    CHECK_EQ(pac_logon_info_decode(slice_make(m, mn), &li), SEC_E_OK);
    CHECK_EQ(li.group_count, 5);
    if (li.group_count == 5) {
        CHECK_STR_EQ(sidstr(&li.groups[4].sid, s), "S-1-5-21-1-2-3-4242");
        CHECK_EQ(li.groups[4].origin, PAC_SID_RESOURCE);
    }
    pac_logon_info_free(&li);
    /* a resource group count without a domain SID pointer */
    put32(m + 0xe0, 0);
    CHECK_EQ(pac_logon_info_decode(slice_make(m, mn), &li), SEC_E_INVALID_TOKEN);
}

struct mutation {
    const char *rule;
    size_t offset;
    uint32_t value;
};

static void
test_malformed(const uint8_t *b, size_t n)
{
    static const struct mutation rows[] = {
        {"MS-RPCE 2.2.6.1: version 1", 0x00, 0xcccc0802},
        {"MS-RPCE 2.2.6.1: little-endian only", 0x00, 0xcccc0800 | 0x01 | (0x00 << 8)},
        {"MS-RPCE 2.2.6.2: object length within the input", 0x08, 0x1b0},
        {"MS-RPCE 2.2.6.2: object length a multiple of 8", 0x08, 0x1a4},
        {"top-level pointer not NULL", 0x10, 0},
        {"RPC_UNICODE_STRING: even Length", 0x44, 0x000a000b},
        {"RPC_UNICODE_STRING: Length <= MaximumLength", 0x44, 0x0008000a},
        {"RPC_UNICODE_STRING: NULL buffer with a length", 0x48, 0},
        {"GroupCount beyond the buffer", 0x80, 0xffffffff},
        {"GroupCount with a NULL GroupIds", 0x84, 0},
        {"LogonDomainId not NULL", 0xac, 0},
        {"SidCount with a NULL ExtraSids", 0xdc, 0},
        {"SidCount beyond the buffer", 0xd8, 0x40000000},
        {"ResourceGroupCount with NULL pointers", 0xe4, 1},
        {"conformant varying string: MaximumCount = MaximumLength/2", 0xec, 6},
        {"conformant varying string: Offset 0", 0xf0, 1},
        {"conformant varying string: ActualCount = Length/2", 0xf4, 4},
        {"GroupIds conformance = GroupCount", 0x140, 4},
        {"RPC_SID conformance = SubAuthorityCount", 0x180, 5},
        {"RPC_SID revision 1", 0x184, 0x00000402},
        {"RPC_SID SubAuthorityCount <= 15 (16)", 0x184, 0x00001001},
        {"ExtraSids entry pointing to no SID", 0x1a0, 0},
        {"extra SID conformance = SubAuthorityCount", 0x1a8, 2},
    };
    uint8_t m[1024];
    struct pac_logon_info li;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memcpy(m, b, n);
        put32(m + rows[i].offset, rows[i].value);
        if (pac_logon_info_decode(slice_make(m, n), &li) != SEC_E_INVALID_TOKEN) {
            CHECK_FAIL_("accepted: %s", rows[i].rule);
            pac_logon_info_free(&li);
        }
    }
    /* A SID with 16 sub-authorities, consistent conformance: still refused. */
    memcpy(m, b, n);
    put32(m + 0x180, 16);
    m[0x185] = 16;
    CHECK_EQ(pac_logon_info_decode(slice_make(m, n), &li), SEC_E_INVALID_TOKEN);
    /* Every truncation, and the object length shrunk with it, is refused. */
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(m, b, n);
        if (pac_logon_info_decode(slice_make(m, cut), &li) != SEC_E_INVALID_TOKEN) {
            CHECK_FAIL_("accepted a buffer truncated to %zu bytes", cut);
            pac_logon_info_free(&li);
        }
        if (cut >= 16 && (cut - 16) % 8 == 0) {
            put32(m + 0x08, (uint32_t)(cut - 16));
            if (pac_logon_info_decode(slice_make(m, cut), &li) != SEC_E_INVALID_TOKEN) {
                CHECK_FAIL_("accepted an object truncated to %zu bytes", cut);
                pac_logon_info_free(&li);
            }
        }
    }
    /* Trailing data inside the object buffer (8 more bytes) is refused. */
    memcpy(m, b, n);
    memset(m + n, 0, 8);
    put32(m + 0x08, 0x1b0);
    CHECK_EQ(pac_logon_info_decode(slice_make(m, n + 8), &li), SEC_E_INVALID_TOKEN);
    /* Bytes after the object buffer (outside it) are not the structure's. */
    memcpy(m, b, n);
    CHECK_EQ(pac_logon_info_decode(slice_make(m, n + 8), &li), SEC_E_OK);
    pac_logon_info_free(&li);
}

int
main(void)
{
    uint8_t carol[1024], frank[1024];
    size_t cn = load("carol_logon_info.bin", carol, sizeof(carol));
    size_t fn = load("frank_logon_info.bin", frank, sizeof(frank));
    struct pac_logon_info li;
    char s[SID_STRING_MAX];

    CHECK_EQ(cn, 440);
    test_carol(carol, cn);
    CHECK_EQ(pac_logon_info_decode(slice_make(frank, fn), &li), SEC_E_OK);
    CHECK_STR_EQ(li.effective_name, "frank");
    CHECK_STR_EQ(sidstr(&li.user_sid, s), DOM "-1105");
    pac_logon_info_free(&li);
    test_resource_groups(carol, cn);
    test_malformed(carol, cn);
    return check_done("test_pac_logon_info");
}
