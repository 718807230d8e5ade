// SPDX-License-Identifier: MIT
// Decoder of KERB_VALIDATION_INFO (MS-PAC 2.5) in NDR.
//
// Wire layout after the 16 type-serialization header bytes and the 4-byte
// top-level referent (offsets within the structure; every field aligned to
// its size; "ptr" is a 4-byte referent id whose pointee is deferred):
//
//   0  LogonTime .. PasswordMustChange   6 x FILETIME {u32 low, u32 high}: 4-aligned
//  48  EffectiveName, FullName, LogonScript, ProfilePath, HomeDirectory,
//      HomeDirectoryDrive                6 x RPC_UNICODE_STRING {u16 Length,
//                                        u16 MaximumLength, ptr Buffer}
//  96  LogonCount u16, BadPasswordCount u16
// 100  UserId u32, PrimaryGroupId u32, GroupCount u32, GroupIds ptr
// 116  UserFlags u32, UserSessionKey 16 bytes
// 136  LogonServer, LogonDomainName      2 x RPC_UNICODE_STRING
// 152  LogonDomainId ptr (RPC_SID), Reserved1 2 x u32
// 164  UserAccountControl u32, SubAuthStatus u32
// 172  LastSuccessfulILogon, LastFailedILogon  2 x FILETIME
// 192  FailedILogonCount u32, Reserved3 u32
// 200  SidCount u32, ExtraSids ptr, ResourceGroupDomainSid ptr,
//      ResourceGroupCount u32, ResourceGroupIds ptr
//
// Then the pointees in the order of their pointers: the six strings'
// conformant varying arrays, GroupIds (conformant array of
// GROUP_MEMBERSHIP {u32 RelativeId, u32 Attributes}), LogonServer,
// LogonDomainName, LogonDomainId (RPC_SID), ExtraSids (conformant array of
// KERB_SID_AND_ATTRIBUTES {ptr Sid, u32 Attributes}, then each Sid),
// ResourceGroupDomainSid, ResourceGroupIds.
#include "sspi/kerberos/pac_logon_info.h"

#include <stdlib.h>
#include <string.h>

#include "sspi/kerberos/pac_ndr.h"

enum {
    S_EFFECTIVE,
    S_FULL,
    S_SCRIPT,
    S_PROFILE,
    S_HOME,
    S_DRIVE,
    S_COUNT
};

struct raw {
    struct pac_ndr_ustr str[S_COUNT];
    struct pac_ndr_ustr logon_server, logon_domain;
    uint32_t group_count, groups_ptr;
    uint32_t domain_sid_ptr;
    uint32_t sid_count, extra_ptr;
    uint32_t res_domain_ptr, res_count, res_ptr;
};

static uint64_t
filetime(struct pac_ndr *r)
{
    uint64_t lo = pac_ndr_u32(r);

    return lo | ((uint64_t)pac_ndr_u32(r) << 32);
}

static void
read_fixed(struct pac_ndr *r, struct raw *w, struct pac_logon_info *out)
{
    out->logon_time = filetime(r);
    pac_ndr_skip(r, 5 * 8); /* LogoffTime .. PasswordMustChange */
    for (int i = 0; i < S_COUNT; i++)
        pac_ndr_ustr_header(r, &w->str[i]);
    (void)pac_ndr_u16(r); /* LogonCount */
    (void)pac_ndr_u16(r); /* BadPasswordCount */
    out->user_rid = pac_ndr_u32(r);
    out->primary_group_rid = pac_ndr_u32(r);
    w->group_count = pac_ndr_u32(r);
    w->groups_ptr = pac_ndr_u32(r);
    out->user_flags = pac_ndr_u32(r);
    pac_ndr_skip(r, 16); /* UserSessionKey: unused in PACs (zeros) */
    pac_ndr_ustr_header(r, &w->logon_server);
    pac_ndr_ustr_header(r, &w->logon_domain);
    w->domain_sid_ptr = pac_ndr_u32(r);
    pac_ndr_skip(r, 8); /* Reserved1 */
    out->user_account_control = pac_ndr_u32(r);
    (void)pac_ndr_u32(r); /* SubAuthStatus */
    pac_ndr_skip(r, 16);  /* LastSuccessfulILogon, LastFailedILogon */
    (void)pac_ndr_u32(r); /* FailedILogonCount */
    (void)pac_ndr_u32(r); /* Reserved3 */
    w->sid_count = pac_ndr_u32(r);
    w->extra_ptr = pac_ndr_u32(r);
    w->res_domain_ptr = pac_ndr_u32(r);
    w->res_count = pac_ndr_u32(r);
    w->res_ptr = pac_ndr_u32(r);
}

/* A NULL pointer with a non-zero count, or counts that cannot all fit in
 * what is left of the buffer (8 bytes per GROUP_MEMBERSHIP or
 * KERB_SID_AND_ATTRIBUTES at least), are malformed. */
static bool
counts_ok(const struct pac_ndr *r, const struct raw *w)
{
    uint64_t total = (uint64_t)w->group_count + w->sid_count + w->res_count;

    if ((w->groups_ptr == 0 && w->group_count != 0) || (w->extra_ptr == 0 && w->sid_count != 0) ||
        (w->res_ptr == 0 && w->res_count != 0) || (w->res_count != 0 && w->res_domain_ptr == 0) ||
        w->domain_sid_ptr == 0)
        return false;
    return total <= PAC_LOGON_INFO_MAX_SIDS && total * 8 <= pac_ndr_left(r);
}

/* GROUP_MEMBERSHIP array: RIDs and attributes, SIDs made later (the domain
 * SID comes after it on the wire). Stored as sub[0] = rid for now. */
static void
read_memberships(struct pac_ndr *r, uint32_t ptr, uint32_t count, enum pac_sid_origin origin,
                 struct pac_logon_info *out)
{
    if (ptr == 0)
        return;
    pac_ndr_conformance(r, count);
    for (uint32_t i = 0; i < count && pac_ndr_ok(r); i++) {
        struct pac_group_sid *g = &out->groups[out->group_count++];
        g->sid.sub[0] = pac_ndr_u32(r); /* the RID, composed below */
        g->attributes = pac_ndr_u32(r);
        g->origin = origin;
    }
}

static void
read_extra_sids(struct pac_ndr *r, uint32_t count, struct pac_logon_info *out)
{
    size_t first = out->group_count;

    pac_ndr_conformance(r, count);
    for (uint32_t i = 0; i < count && pac_ndr_ok(r); i++) {
        struct pac_group_sid *g = &out->groups[out->group_count++];
        if (pac_ndr_u32(r) == 0) /* every ExtraSids entry points to a SID */
            pac_ndr_fail(r);
        g->attributes = pac_ndr_u32(r);
        g->origin = PAC_SID_EXTRA;
    }
    for (size_t i = first; i < out->group_count && pac_ndr_ok(r); i++)
        pac_ndr_sid(r, &out->groups[i].sid);
}

/* Turns the RIDs stored by read_memberships into SIDs of domain. */
static bool
compose_rids(struct pac_logon_info *out, enum pac_sid_origin origin, const struct sid *domain)
{
    for (size_t i = 0; i < out->group_count; i++) {
        struct pac_group_sid *g = &out->groups[i];
        if (g->origin == origin && !sid_compose(domain, g->sid.sub[0], &g->sid))
            return false;
    }
    return true;
}

static SECURITY_STATUS
read_strings(struct pac_ndr *r, const struct raw *w, char *dst[S_COUNT])
{
    SECURITY_STATUS st = SEC_E_OK;

    for (int i = 0; i < S_COUNT && st == SEC_E_OK; i++)
        st = pac_ndr_ustr_body(r, &w->str[i], &dst[i]);
    return st;
}

/* NULL strings become "" so that callers never test. */
static SECURITY_STATUS
or_empty(char **s)
{
    if (*s == NULL)
        *s = strdup("");
    return *s != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

static SECURITY_STATUS
decode(struct pac_ndr *r, struct pac_logon_info *out)
{
    struct raw w = {0};
    struct sid res_domain = {0};
    char *strs[S_COUNT] = {0};
    SECURITY_STATUS st;

    if (pac_ndr_u32(r) == 0) /* the top-level unique pointer */
        return SEC_E_INVALID_TOKEN;
    read_fixed(r, &w, out);
    if (!pac_ndr_ok(r) || !counts_ok(r, &w))
        return SEC_E_INVALID_TOKEN;
    out->groups =
        calloc((size_t)w.group_count + w.sid_count + w.res_count + 1, sizeof(*out->groups));
    if (out->groups == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    st = read_strings(r, &w, strs);
    out->effective_name = strs[S_EFFECTIVE];
    out->full_name = strs[S_FULL];
    for (int i = S_SCRIPT; i < S_COUNT; i++)
        free(strs[i]); /* logon script and home paths: not part of an identity */
    if (st != SEC_E_OK)
        return st;
    read_memberships(r, w.groups_ptr, w.group_count, PAC_SID_GROUP, out);
    st = pac_ndr_ustr_body(r, &w.logon_server, &out->logon_server);
    if (st == SEC_E_OK)
        st = pac_ndr_ustr_body(r, &w.logon_domain, &out->logon_domain_name);
    if (st != SEC_E_OK)
        return st;
    pac_ndr_sid(r, &out->logon_domain_sid);
    if (w.extra_ptr != 0)
        read_extra_sids(r, w.sid_count, out);
    if (w.res_domain_ptr != 0)
        pac_ndr_sid(r, &res_domain);
    read_memberships(r, w.res_ptr, w.res_count, PAC_SID_RESOURCE, out);
    /* Nothing may follow but the padding to the 8-byte object length. */
    if (!pac_ndr_ok(r) || pac_ndr_left(r) >= 8)
        return SEC_E_INVALID_TOKEN;
    if (!sid_compose(&out->logon_domain_sid, out->user_rid, &out->user_sid) ||
        !sid_compose(&out->logon_domain_sid, out->primary_group_rid, &out->primary_group_sid) ||
        !compose_rids(out, PAC_SID_GROUP, &out->logon_domain_sid) ||
        (w.res_count > 0 && !compose_rids(out, PAC_SID_RESOURCE, &res_domain)))
        return SEC_E_INVALID_TOKEN;
    st = or_empty(&out->effective_name);
    if (st == SEC_E_OK)
        st = or_empty(&out->full_name);
    if (st == SEC_E_OK)
        st = or_empty(&out->logon_server);
    if (st == SEC_E_OK)
        st = or_empty(&out->logon_domain_name);
    return st;
}

SECURITY_STATUS
pac_logon_info_decode(struct slice in, struct pac_logon_info *out)
{
    struct pac_ndr r;
    SECURITY_STATUS st;

    memset(out, 0, sizeof(*out));
    st = pac_ndr_begin_type(&r, in);
    if (st == SEC_E_OK)
        st = decode(&r, out);
    if (st != SEC_E_OK)
        pac_logon_info_free(out);
    return st;
}

void
pac_logon_info_free(struct pac_logon_info *info)
{
    if (info == NULL)
        return;
    free(info->effective_name);
    free(info->full_name);
    free(info->logon_server);
    free(info->logon_domain_name);
    free(info->groups);
    memset(info, 0, sizeof(*info));
}
