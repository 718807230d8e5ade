// SPDX-License-Identifier: MIT
// UPN_DNS_INFO (MS-PAC 2.10): the account's user principal name and DNS
// domain, and with the S flag its sAMAccountName and SID.
#ifndef GH_SSPI_KERBEROS_PAC_UPN_DNS_H
#define GH_SSPI_KERBEROS_PAC_UPN_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"
#include "sspi/sid.h"

#define PAC_UPN_DNS_FLAG_NO_UPN   0x1u /* U: the account has no UPN; upn is built */
#define PAC_UPN_DNS_FLAG_EXTENDED 0x2u /* S: SamName and Sid follow */

struct pac_upn_dns {
    uint32_t flags;
    char *upn;        /* owned, "frank.upn@corp.test" */
    char *dns_domain; /* owned, "CORP.TEST" */
    char *sam_name;   /* owned, NULL without the S flag */
    bool has_sid;
    struct sid sid; /* with the S flag */
};

/* Decodes the buffer (not NDR: little-endian lengths and offsets from the
 * start of the buffer, UTF-16LE strings). Every string must lie inside the
 * buffer, with an even length of at most PAC_NDR_STRING_MAX_UNITS units; the
 * SID must be exactly its own length. SEC_E_OK, SEC_E_INVALID_TOKEN or
 * SEC_E_INSUFFICIENT_MEMORY; *out is empty on failure. */
SECURITY_STATUS pac_upn_dns_decode(struct slice in, struct pac_upn_dns *out);

/* NULL-safe; zeroes *info. */
void pac_upn_dns_free(struct pac_upn_dns *info);

#endif
