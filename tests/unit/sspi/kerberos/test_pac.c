// SPDX-License-Identifier: MIT
// Unit tests for src/sspi/kerberos/pac.c's AuthorizationData reader
// (krb_pac_scan_authdata): where MIT's krb5_find_authdata would find a PAC
// (AD-WIN2K-PAC, at the top or inside AD-IF-RELEVANT containers at any
// depth; AD-KDCIssued, which MIT opens too) it answers MAYBE; ABSENT only
// when every element is read and none can hold one. Also the PAC's references.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/kerberos/pac.h"

static const struct {
    const char *name;
    const char *hex;
    enum krb_pac_presence want;
} cases[] = {
    /* RFC 4120 5.2.6 AuthorizationData; ad-types from RFC 4120 7.5.4 / MS-KILE */
    {"empty AuthorizationData", "3000", KRB_PAC_ABSENT},
    {"AD-WIN2K-PAC (128)", "3010300ea00402020080a106040401000000", KRB_PAC_MAYBE},
    {"auth-indicator (97) only", "300c300aa003020161a103040178", KRB_PAC_ABSENT},
    {"PAC inside AD-IF-RELEVANT",
     "3025300aa003020161a1030401783017a003020101a110040e300c300aa00402020080a1020400",
     KRB_PAC_MAYBE},
    {"AD-IF-RELEVANT without PAC", "301b3019a003020101a1120410300e300ca003020161a10504036f7470",
     KRB_PAC_ABSENT},
    {"AD-KDCIssued (4): MIT opens it", "300b3009a003020104a1020400", KRB_PAC_MAYBE},
    {"ad-type -128 is not 128", "300b3009a003020180a1020400", KRB_PAC_ABSENT},
    {"ad-type 128 not minimal (00 00 80)", "300d300ba00502030000 80a1020400", KRB_PAC_MAYBE},
    {"trailing bytes after the SEQUENCE", "300000", KRB_PAC_MAYBE},
    {"not a SEQUENCE", "0400", KRB_PAC_MAYBE},
    {"element without ad-data", "30073005a003020161", KRB_PAC_MAYBE},
    {"ad-data not an OCTET STRING", "300b3009a003020161a1020500", KRB_PAC_MAYBE},
    {"truncated", "300c300aa003020161a1030401", KRB_PAC_MAYBE},
    {"IF-RELEVANT holding garbage", "300c300aa003020101a103040100", KRB_PAC_MAYBE},
};

static size_t
unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;

    for (const char *p = hex; p[0] != '\0';) {
        if (p[0] == ' ') {
            p++;
            continue;
        }
        unsigned v;
        sscanf(p, "%2x", &v);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

/* Empty AuthorizationData inside n levels of AD-IF-RELEVANT: ABSENT while the
 * reader goes that deep (KRB_PAC_SCAN_DEPTH levels in all), MAYBE beyond. */
static void
test_depth(void)
{
    uint8_t buf[512], tmp[512];
    size_t n = unhex("3000", buf);

    for (int level = 0; level < 8; level++) {
        CHECK_EQ(krb_pac_scan_authdata(slice_make(buf, n)),
                 level <= KRB_PAC_SCAN_DEPTH - 1 ? KRB_PAC_ABSENT : KRB_PAC_MAYBE);
        /* SEQUENCE { SEQUENCE { [0] INTEGER 1, [1] OCTET STRING buf } } */
        size_t elem = 5 + 2 + 2 + n, o = 0;
        tmp[o++] = 0x30, tmp[o++] = (uint8_t)(elem + 2);
        tmp[o++] = 0x30, tmp[o++] = (uint8_t)elem;
        tmp[o++] = 0xa0, tmp[o++] = 3, tmp[o++] = 0x02, tmp[o++] = 1, tmp[o++] = 1;
        tmp[o++] = 0xa1, tmp[o++] = (uint8_t)(n + 2), tmp[o++] = 0x04, tmp[o++] = (uint8_t)n;
        memcpy(tmp + o, buf, n);
        n = o + n;
        memcpy(buf, tmp, n);
    }
}

int
main(void)
{
    uint8_t buf[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = unhex(cases[i].hex, buf);
        if (krb_pac_scan_authdata(slice_make(buf, n)) != cases[i].want)
            CHECK_FAIL_("%s: want %d", cases[i].name, (int)cases[i].want);
    }
    test_depth();
    /* References: the last krb_pac_free frees (ASan: no leak, no double free). */
    struct krb_pac *pac = calloc(1, sizeof(*pac));
    CHECK(pac != NULL);
    atomic_init(&pac->refs, 1);
    CHECK(krb_pac_ref(pac) == pac);
    CHECK_EQ(atomic_load(&pac->refs), 2);
    krb_pac_free(pac);
    CHECK_EQ(atomic_load(&pac->refs), 1);
    CHECK(krb_pac_size(pac) >= sizeof(*pac));
    krb_pac_free(pac);
    CHECK(krb_pac_ref(NULL) == NULL);
    CHECK_EQ(krb_pac_size(NULL), 0);
    return check_done("test_pac");
}
