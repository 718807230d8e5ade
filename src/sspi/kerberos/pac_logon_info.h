// SPDX-License-Identifier: MIT
// KERB_VALIDATION_INFO (MS-PAC 2.5), the PAC_LOGON_INFO buffer: the account's
// SIDs and groups as the domain controller saw them at logon.
//
// There are no official test vectors for this structure (MS-PAC has none for
// KERB_VALIDATION_INFO); tests/vectors/pac/ holds buffers captured from a
// Samba AD DC's tickets, and the unit tests add malformed variants.
#ifndef GH_SSPI_KERBEROS_PAC_LOGON_INFO_H
#define GH_SSPI_KERBEROS_PAC_LOGON_INFO_H

#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"
#include "sspi/sid.h"

/* At most this many SIDs in GroupIds + ExtraSids + ResourceGroupIds together
 * (Windows tokens are limited to 1015 groups; resource groups add a few). */
#define PAC_LOGON_INFO_MAX_SIDS 4096

/* UserFlags (MS-PAC 2.5) */
#define PAC_LOGON_EXTRA_SIDS      0x0020u /* ExtraSids is populated */
#define PAC_LOGON_RESOURCE_GROUPS 0x0200u /* ResourceGroupIds is populated */

/* SE_GROUP_* attributes (MS-PAC 2.2.1 / MS-DTYP) */
#define PAC_SE_GROUP_MANDATORY          0x00000001u
#define PAC_SE_GROUP_ENABLED_BY_DEFAULT 0x00000002u
#define PAC_SE_GROUP_ENABLED            0x00000004u
#define PAC_SE_GROUP_RESOURCE           0x20000000u

enum pac_sid_origin {
    PAC_SID_GROUP = 1, /* GroupIds: LogonDomainId + RelativeId */
    PAC_SID_EXTRA,     /* ExtraSids: a whole SID (other domains, well-known) */
    PAC_SID_RESOURCE,  /* ResourceGroupIds: ResourceGroupDomainSid + RelativeId */
};

struct pac_group_sid {
    struct sid sid;
    uint32_t attributes; /* SE_GROUP_* */
    enum pac_sid_origin origin;
};

struct pac_logon_info {
    uint64_t logon_time;     /* FILETIME (100 ns since 1601), 0 when not given */
    char *effective_name;    /* owned, sAMAccountName; never NULL after decode ("" when absent) */
    char *full_name;         /* owned, may be "" */
    char *logon_server;      /* owned, may be "" */
    char *logon_domain_name; /* owned, NetBIOS domain name, may be "" */
    struct sid logon_domain_sid;
    uint32_t user_rid;
    uint32_t primary_group_rid;
    uint32_t user_flags;
    uint32_t user_account_control;
    struct sid user_sid;          /* logon_domain_sid + user_rid */
    struct sid primary_group_sid; /* logon_domain_sid + primary_group_rid */
    /* Every group SID in PAC order: GroupIds, ExtraSids, then the resource
     * groups; owned array. */
    struct pac_group_sid *groups;
    size_t group_count;
};

/* Decodes a PAC_LOGON_INFO buffer (the type serialization headers, the
 * top-level pointer, then KERB_VALIDATION_INFO and its deferred data).
 * Strict: referents consistent with counts, conformance counts equal to the
 * counts of the structure, strings with RPC_UNICODE_STRING's invariants,
 * SIDs of revision 1 with at most 15 sub-authorities, nothing beyond the
 * object buffer. On success *out is filled (free with pac_logon_info_free).
 * SEC_E_OK, SEC_E_INVALID_TOKEN (malformed, or over a limit) or
 * SEC_E_INSUFFICIENT_MEMORY; *out is empty on failure. */
SECURITY_STATUS pac_logon_info_decode(struct slice in, struct pac_logon_info *out);

/* Frees what decode allocated and zeroes *info. NULL-safe. */
void pac_logon_info_free(struct pac_logon_info *info);

#endif
