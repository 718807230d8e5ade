// SPDX-License-Identifier: MIT
// Fuzz target: the PAC decoders (MS-PAC 2.5 KERB_VALIDATION_INFO in NDR,
// 2.10 UPN_DNS_INFO). The first byte picks the decoder, the rest is the
// buffer. Invariants: a successful decode yields valid SIDs that print, the
// strings are valid UTF-8, the group count respects the limit, and the same
// input decodes the same way twice.
#include "sspi/kerberos/pac_logon_info.h"

#include <stdint.h>
#include <string.h>

#include "sspi/kerberos/pac_upn_dns.h"
#include "sspi/wide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sid_ok(const struct sid *s)
{
    char text[SID_STRING_MAX];
    struct sid back;

    if (!sid_to_string(s, text, sizeof(text)) || !sid_from_string(text, &back) ||
        !sid_equal(s, &back))
        __builtin_trap();
}

static void
str_ok(const char *s)
{
    if (s != NULL && !wide_utf8_valid(s, strlen(s)))
        __builtin_trap();
}

static void
logon_info(struct slice in)
{
    struct pac_logon_info a, b;
    SECURITY_STATUS st = pac_logon_info_decode(in, &a);

    if (pac_logon_info_decode(in, &b) != st)
        __builtin_trap();
    if (st != SEC_E_OK)
        return;
    if (a.group_count != b.group_count || a.group_count > PAC_LOGON_INFO_MAX_SIDS ||
        a.effective_name == NULL || a.logon_domain_name == NULL)
        __builtin_trap();
    sid_ok(&a.user_sid);
    sid_ok(&a.primary_group_sid);
    for (size_t i = 0; i < a.group_count; i++) {
        sid_ok(&a.groups[i].sid);
        if (!sid_equal(&a.groups[i].sid, &b.groups[i].sid))
            __builtin_trap();
    }
    str_ok(a.effective_name);
    str_ok(a.full_name);
    str_ok(a.logon_server);
    str_ok(a.logon_domain_name);
    pac_logon_info_free(&a);
    pac_logon_info_free(&b);
}

static void
upn_dns(struct slice in)
{
    struct pac_upn_dns u;

    if (pac_upn_dns_decode(in, &u) != SEC_E_OK)
        return;
    if (u.upn == NULL || u.dns_domain == NULL)
        __builtin_trap();
    str_ok(u.upn);
    str_ok(u.dns_domain);
    str_ok(u.sam_name);
    if (u.has_sid)
        sid_ok(&u.sid);
    pac_upn_dns_free(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        upn_dns(slice_make(data + 1, size - 1));
    else
        logon_info(slice_make(data + 1, size - 1));
    return 0;
}
