// SPDX-License-Identifier: MIT
// Fuzzes CertNameToStrA/W (src/sspi/schannel/certname.c) over arbitrary DER.
// Input: byte 0 picks the string type (low 2 bits) and flags (the others,
// spread over the CERT_NAME_STR_* bits), byte 1 the output size; the rest is
// the name. Invariants: never crash or leak; the result is always >= 1 and
// NUL-terminated within the size given; the size query equals what a large
// enough buffer receives; the W form never writes past its size either.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG 70000 /* above the library's text limit */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char big[BIG];
    static SEC_WCHAR wide[300];
    char small[300];
    unsigned long type, csz, need, got;
    CERT_NAME_BLOB blob;

    if (size < 2)
        return 0;
    type = (data[0] & 3UL) | ((data[0] & 0x04) ? CERT_NAME_STR_SEMICOLON_FLAG : 0) |
           ((data[0] & 0x08) ? CERT_NAME_STR_NO_PLUS_FLAG : 0) |
           ((data[0] & 0x10) ? CERT_NAME_STR_NO_QUOTING_FLAG : 0) |
           ((data[0] & 0x20) ? CERT_NAME_STR_CRLF_FLAG : 0) |
           ((data[0] & 0x40) ? CERT_NAME_STR_REVERSE_FLAG : 0);
    csz = data[1];
    blob.cbData = (unsigned long)(size - 2);
    blob.pbData = (unsigned char *)data + 2;

    need = CertNameToStrA(X509_ASN_ENCODING, &blob, type, NULL, 0);
    got = CertNameToStrA(X509_ASN_ENCODING, &blob, type, big, BIG);
    if (need < 1 || got != need || got > BIG || big[got - 1] != '\0' || strlen(big) != got - 1)
        abort();
    memset(small, 0x55, sizeof(small));
    got = CertNameToStrA(X509_ASN_ENCODING, &blob, type, small, csz);
    if (csz > 0 && (got < 1 || got > csz || small[got - 1] != '\0'))
        abort();
    if (csz < sizeof(small) && (unsigned char)small[csz] != 0x55)
        abort(); /* wrote past the size */
    memset(wide, 0x55, sizeof(wide));
    got = CertNameToStrW(X509_ASN_ENCODING, &blob, type, wide, csz);
    if (csz > 0 && (got < 1 || got > csz || wide[got - 1] != 0))
        abort();
    if (wide[csz] != 0x5555)
        abort();
    return 0;
}
