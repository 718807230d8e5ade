// SPDX-License-Identifier: MIT
// Decoder of UPN_DNS_INFO (MS-PAC 2.10).
//
//   0  UpnLength u16, UpnOffset u16
//   4  DnsDomainNameLength u16, DnsDomainNameOffset u16
//   8  Flags u32
//  12  with S: SamNameLength u16, SamNameOffset u16, SidLength u16, SidOffset u16
// Lengths are in bytes, offsets from the start of the buffer; the SID is in
// its binary form (MS-DTYP 2.4.2.2: Revision, SubAuthorityCount,
// IdentifierAuthority[6], SubAuthority[] little-endian).
#include "sspi/kerberos/pac_upn_dns.h"

#include <stdlib.h>
#include <string.h>

#include "base/reader.h"
#include "sspi/kerberos/pac_ndr.h"

static SECURITY_STATUS
string_at(struct slice in, uint16_t len, uint16_t off, char **out)
{
    *out = NULL;
    if ((size_t)off + len > in.len)
        return SEC_E_INVALID_TOKEN;
    return pac_ndr_utf16le(in.ptr + off, len, out);
}

static SECURITY_STATUS
sid_at(struct slice in, uint16_t len, uint16_t off, struct sid *out)
{
    struct reader rd;

    if ((size_t)off + len > in.len || len < 8)
        return SEC_E_INVALID_TOKEN;
    rd = reader_make(slice_make(in.ptr + off, len));
    memset(out, 0, sizeof(*out));
    out->revision = reader_u8(&rd);
    out->sub_count = reader_u8(&rd);
    reader_copy(&rd, out->authority, 6);
    if (out->revision != SID_REVISION || out->sub_count > SID_MAX_SUB_AUTHORITIES ||
        len != 8u + 4u * out->sub_count)
        return SEC_E_INVALID_TOKEN;
    for (unsigned i = 0; i < out->sub_count; i++)
        out->sub[i] = reader_u32le(&rd);
    return rd.failed || rd.left != 0 ? SEC_E_INVALID_TOKEN : SEC_E_OK;
}

SECURITY_STATUS
pac_upn_dns_decode(struct slice in, struct pac_upn_dns *out)
{
    struct reader rd = reader_make(in);
    uint16_t upn_len, upn_off, dns_len, dns_off, sam_len = 0, sam_off = 0, sid_len = 0, sid_off = 0;
    SECURITY_STATUS st;

    memset(out, 0, sizeof(*out));
    upn_len = reader_u16le(&rd);
    upn_off = reader_u16le(&rd);
    dns_len = reader_u16le(&rd);
    dns_off = reader_u16le(&rd);
    out->flags = reader_u32le(&rd);
    if (out->flags & PAC_UPN_DNS_FLAG_EXTENDED) {
        sam_len = reader_u16le(&rd);
        sam_off = reader_u16le(&rd);
        sid_len = reader_u16le(&rd);
        sid_off = reader_u16le(&rd);
    }
    if (rd.failed)
        return SEC_E_INVALID_TOKEN;
    st = string_at(in, upn_len, upn_off, &out->upn);
    if (st == SEC_E_OK)
        st = string_at(in, dns_len, dns_off, &out->dns_domain);
    if (st == SEC_E_OK && (out->flags & PAC_UPN_DNS_FLAG_EXTENDED)) {
        st = string_at(in, sam_len, sam_off, &out->sam_name);
        if (st == SEC_E_OK)
            st = sid_at(in, sid_len, sid_off, &out->sid);
        out->has_sid = st == SEC_E_OK;
    }
    if (st != SEC_E_OK)
        pac_upn_dns_free(out);
    return st;
}

void
pac_upn_dns_free(struct pac_upn_dns *info)
{
    if (info == NULL)
        return;
    free(info->upn);
    free(info->dns_domain);
    free(info->sam_name);
    memset(info, 0, sizeof(*info));
}
