// SPDX-License-Identifier: MIT
// Fuzzes the AuthorizationData reader that decides whether a Kerberos
// context's authorization data may hold a PAC (src/sspi/kerberos/pac.c,
// krb_pac_scan_authdata). Invariants: the answer is ABSENT or MAYBE, the
// same twice; ABSENT only for a DER SEQUENCE; the input wrapped in an
// AD-IF-RELEVANT element gives the same answer (one level deeper), and an
// AD-WIN2K-PAC element next to it makes it MAYBE.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sspi/kerberos/pac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SEQUENCE { SEQUENCE { [0] INTEGER type, [1] OCTET STRING data } } (+ a PAC
 * element when with_pac); short forms only, so data is at most 100 bytes. */
static size_t
wrap(uint8_t *out, const uint8_t *data, size_t size, bool with_pac)
{
    static const uint8_t pac[] = {0x30, 0x0a, 0xa0, 0x04, 0x02, 0x02,
                                  0x00, 0x80, 0xa1, 0x02, 0x04, 0x00};
    size_t elem = 5 + 4 + size, all = 2 + elem + (with_pac ? sizeof(pac) : 0), o = 0;

    out[o++] = 0x30, out[o++] = (uint8_t)all;
    out[o++] = 0x30, out[o++] = (uint8_t)elem;
    out[o++] = 0xa0, out[o++] = 3, out[o++] = 0x02, out[o++] = 1, out[o++] = 1;
    out[o++] = 0xa1, out[o++] = (uint8_t)(size + 2), out[o++] = 0x04, out[o++] = (uint8_t)size;
    memcpy(out + o, data, size);
    o += size;
    if (with_pac) {
        memcpy(out + o, pac, sizeof(pac));
        o += sizeof(pac);
    }
    return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t outer[160];
    enum krb_pac_presence p = krb_pac_scan_authdata(slice_make(data, size));

    if (p != KRB_PAC_ABSENT && p != KRB_PAC_MAYBE)
        __builtin_trap();
    if (krb_pac_scan_authdata(slice_make(data, size)) != p)
        __builtin_trap();
    if (p == KRB_PAC_ABSENT && (size < 2 || data[0] != 0x30))
        __builtin_trap();
    if (size <= 100) {
        size_t n = wrap(outer, data, size, false);
        /* One level deeper: ABSENT stays ABSENT unless that is too deep. */
        if (p == KRB_PAC_MAYBE && krb_pac_scan_authdata(slice_make(outer, n)) != KRB_PAC_MAYBE)
            __builtin_trap();
        n = wrap(outer, data, size, true);
        if (krb_pac_scan_authdata(slice_make(outer, n)) != KRB_PAC_MAYBE)
            __builtin_trap();
    }
    return 0;
}
