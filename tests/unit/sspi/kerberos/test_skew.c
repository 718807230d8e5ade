// SPDX-License-Identifier: MIT
// The Authenticator's ctime (skew.c): a DER Authenticator built by hand from
// RFC 4120 5.5.1 (vno, crealm, cname, cusec, ctime), and malformed ones.
// The decryption part (krb_skew_seconds) runs against a real KDC's tickets in
// tests/integration/test_auth_reasons.py (a client clock 1 h ahead: 3600 s).
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "harness/check.h"
#include "sspi/kerberos/skew.h"

/* [APPLICATION 2] SEQUENCE { [0] 5, [1] "EXAMPLE.ORG", [2] {1, {"alice"}},
 * [4] 258, [5] "20261204101500Z" } */
static const uint8_t authenticator[] = {
    0x62, 0x43, 0x30, 0x41, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x0d, 0x1b, 0x0b, 0x45,
    0x58, 0x41, 0x4d, 0x50, 0x4c, 0x45, 0x2e, 0x4f, 0x52, 0x47, 0xa2, 0x12, 0x30, 0x10,
    0xa0, 0x03, 0x02, 0x01, 0x01, 0xa1, 0x09, 0x30, 0x07, 0x1b, 0x05, 0x61, 0x6c, 0x69,
    0x63, 0x65, 0xa4, 0x04, 0x02, 0x02, 0x01, 0x02, 0xa5, 0x11, 0x18, 0x0f, 0x32, 0x30,
    0x32, 0x36, 0x31, 0x32, 0x30, 0x34, 0x31, 0x30, 0x31, 0x35, 0x30, 0x30, 0x5a};

static SECURITY_STATUS
ctime_of(const uint8_t *p, size_t n, time_t *t)
{
    return krb_authenticator_ctime(slice_make(p, n), t);
}

int
main(void)
{
    uint8_t buf[sizeof(authenticator)];
    time_t t = 0;

    CHECK_EQ(ctime_of(authenticator, sizeof(authenticator), &t), SEC_E_OK);
    CHECK_EQ((long long)t, 1796379300LL); /* 2026-12-04T10:15:00Z */

    /* Cut anywhere: refused, never read past the end. */
    for (size_t n = 0; n < sizeof(authenticator); n++)
        CHECK_EQ(ctime_of(authenticator, n, &t), SEC_E_INVALID_TOKEN);
    /* Trailing bytes after the Authenticator. */
    uint8_t longer[sizeof(authenticator) + 1];
    memcpy(longer, authenticator, sizeof(authenticator));
    longer[sizeof(authenticator)] = 0;
    CHECK_EQ(ctime_of(longer, sizeof(longer), &t), SEC_E_INVALID_TOKEN);
    /* Not a KerberosTime: no Z, a letter in the digits, month 13, minute 95. */
    static const struct {
        size_t at;
        uint8_t byte;
    } bad[] = {{68, '0'}, {55, 'x'}, {59, '3'}, {64, '9'}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(buf, authenticator, sizeof(buf));
        buf[bad[i].at] = bad[i].byte;
        CHECK_EQ(ctime_of(buf, sizeof(buf), &t), SEC_E_INVALID_TOKEN);
    }
    /* Another application tag (an AP-REP's [APPLICATION 15] is not this). */
    memcpy(buf, authenticator, sizeof(buf));
    buf[0] = 0x6f;
    CHECK_EQ(ctime_of(buf, sizeof(buf), &t), SEC_E_INVALID_TOKEN);
    /* [5] holding a UTCTime instead of a GeneralizedTime. */
    memcpy(buf, authenticator, sizeof(buf));
    buf[52] = 0x17;
    CHECK_EQ(ctime_of(buf, sizeof(buf), &t), SEC_E_INVALID_TOKEN);
    return check_done("test_skew");
}
