// SPDX-License-Identifier: MIT
// UPN_DNS_INFO decoder (src/sspi/kerberos/pac_upn_dns.c) on buffers of real
// Samba AD DC tickets (tests/vectors/pac/) and broken copies of them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/kerberos/pac_upn_dns.h"

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

int
main(void)
{
    uint8_t b[512], m[512];
    size_t n = load("frank_upn_dns_info.bin", b, sizeof(b));
    struct pac_upn_dns u;
    char s[SID_STRING_MAX];

    /* frank: userPrincipalName differs from sAMAccountName */
    CHECK_EQ(pac_upn_dns_decode(slice_make(b, n), &u), SEC_E_OK);
    CHECK_STR_EQ(u.upn, "frank.upn@corp.test");
    CHECK_STR_EQ(u.dns_domain, "CORP.TEST");
    CHECK_STR_EQ(u.sam_name, "frank");
    CHECK(u.has_sid);
    CHECK(sid_to_string(&u.sid, s, sizeof(s)));
    CHECK_STR_EQ(s, "S-1-5-21-3328848901-3481113619-4265478161-1105");
    CHECK_HEX_EQ(u.flags, PAC_UPN_DNS_FLAG_EXTENDED);
    pac_upn_dns_free(&u);

    n = load("carol_upn_dns_info.bin", b, sizeof(b));
    CHECK_EQ(pac_upn_dns_decode(slice_make(b, n), &u), SEC_E_OK);
    CHECK_STR_EQ(u.upn, "carol@corp.test");
    CHECK_STR_EQ(u.sam_name, "carol");
    pac_upn_dns_free(&u);

    /* every truncation before the end of the last field is refused (the
     * buffer ends with 2 bytes of padding to a multiple of 8) */
    static const size_t field_at[] = {0, 4, 12, 16}; /* Upn, DnsDomainName, SamName, Sid */
    size_t end = 0;
    for (size_t f = 0; f < 4; f++) {
        size_t at = field_at[f];
        size_t len = (size_t)(b[at] | (b[at + 1] << 8));
        size_t off = (size_t)(b[at + 2] | (b[at + 3] << 8));
        if (off + len > end)
            end = off + len;
    }
    CHECK_EQ(end, 118);
    for (size_t cut = 0; cut < end; cut++) {
        if (pac_upn_dns_decode(slice_make(b, cut), &u) == SEC_E_OK) {
            CHECK_FAIL_("accepted a buffer truncated to %zu bytes", cut);
            pac_upn_dns_free(&u);
        }
    }
    /* an odd UPN length; an offset past the end; a SID length that does
     * not match its SubAuthorityCount; a SID revision 2 */
    memcpy(m, b, n);
    m[0] = 0x1f;
    CHECK_EQ(pac_upn_dns_decode(slice_make(m, n), &u), SEC_E_INVALID_TOKEN);
    memcpy(m, b, n);
    m[2] = 0xff;
    m[3] = 0x7f;
    CHECK_EQ(pac_upn_dns_decode(slice_make(m, n), &u), SEC_E_INVALID_TOKEN);
    memcpy(m, b, n);
    m[16] = (uint8_t)(m[16] - 4);
    CHECK_EQ(pac_upn_dns_decode(slice_make(m, n), &u), SEC_E_INVALID_TOKEN);
    memcpy(m, b, n);
    m[m[18] | (m[19] << 8)] = 2;
    CHECK_EQ(pac_upn_dns_decode(slice_make(m, n), &u), SEC_E_INVALID_TOKEN);
    /* without the S flag the SAM name and SID are not read */
    memcpy(m, b, n);
    m[8] = 0;
    CHECK_EQ(pac_upn_dns_decode(slice_make(m, n), &u), SEC_E_OK);
    CHECK(u.sam_name == NULL && !u.has_sid);
    pac_upn_dns_free(&u);
    return check_done("test_pac_upn_dns");
}
