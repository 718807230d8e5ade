// SPDX-License-Identifier: MIT
// Reading the PAC from MIT GSSAPI.
//
// MIT's krb5 mechanism exposes each PAC buffer as a name attribute
// ("urn:mspac:logon-info", "urn:mspac:upn-dns-info", and the whole PAC as
// "urn:mspac:"). When the ticket is decrypted, MIT checks the PAC's server
// signature with the service key and reports the result as the attribute's
// "authenticated" flag. What MIT 1.20 does with a PAC whose server signature
// fails is to filter it out: gss_get_name_attribute then fails for every
// urn:mspac attribute, as if the ticket carried no PAC, while
// gss_inquire_name still lists them (found by
// tests/integration/test_ad_pac_signature.py). That listing is what tells a
// filtered PAC from none: such a ticket fails the handshake. (The KDC
// signature needs the krbtgt key; only the KDC can check it.)
#include "sspi/kerberos/pac.h"

#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi_ext.h>

#include "sspi/der.h"

#define ATTR_LOGON_INFO "urn:mspac:logon-info"
#define ATTR_UPN_DNS    "urn:mspac:upn-dns-info"
#define ATTR_WHOLE      "urn:mspac:"

/* One attribute value: GSS_S_COMPLETE with *value set, or GSS_S_UNAVAILABLE. */
static OM_uint32
get_attr(gss_name_t name, const char *attr, int *authenticated, gss_buffer_desc *value)
{
    gss_buffer_desc a = {strlen(attr), (void *)attr};
    OM_uint32 minor;
    int complete = 0, more = -1;

    *authenticated = 0;
    *value = (gss_buffer_desc)GSS_C_EMPTY_BUFFER;
    return gss_get_name_attribute(&minor, name, &a, authenticated, &complete, value,
                                  GSS_C_NO_BUFFER, &more);
}

static bool
pac_present(gss_name_t name, int *authenticated)
{
    gss_buffer_desc v;
    OM_uint32 minor, major = get_attr(name, ATTR_WHOLE, authenticated, &v);

    if (GSS_ERROR(major))
        return false;
    gss_release_buffer(&minor, &v);
    return true;
}

/* True when MIT lists a PAC attribute for name that it will not give: what
 * it does with a PAC it filtered out as unverified ("Filtering out
 * unverified MS PAC" in KRB5_TRACE). */
static bool
pac_filtered(gss_name_t name)
{
    gss_buffer_set_t attrs = GSS_C_NO_BUFFER_SET;
    OM_uint32 minor, major;
    int is_mn = 0;
    bool listed = false;

    major = gss_inquire_name(&minor, name, &is_mn, NULL, &attrs);
    if (GSS_ERROR(major) || attrs == GSS_C_NO_BUFFER_SET)
        return false;
    for (size_t i = 0; i < attrs->count && !listed; i++) {
        const gss_buffer_desc *a = &attrs->elements[i];
        listed = a->length >= sizeof(ATTR_WHOLE) - 1 &&
                 memcmp(a->value, ATTR_WHOLE, sizeof(ATTR_WHOLE) - 1) == 0;
    }
    gss_release_buffer_set(&minor, &attrs);
    return listed;
}

SECURITY_STATUS
krb_pac_read(gss_name_t name, struct krb_pac **pac_out, struct buf *error_text)
{
    gss_buffer_desc v = GSS_C_EMPTY_BUFFER;
    struct krb_pac *pac = NULL;
    OM_uint32 major, minor;
    int authenticated = 0;
    SECURITY_STATUS st;

    *pac_out = NULL;
    major = get_attr(name, ATTR_LOGON_INFO, &authenticated, &v);
    if (GSS_ERROR(major)) {
        /* No logon info: no Windows identity. An MIT KDC (1.20 and later)
         * still puts a PAC in its tickets, without KERB_VALIDATION_INFO;
         * such a PAC must verify like any other. */
        bool has_attr = pac_present(name, &authenticated);
        if ((has_attr && authenticated) || (!has_attr && !pac_filtered(name)))
            return SEC_E_OK;
        if (error_text != NULL)
            (void)buf_append_str(error_text, "the ticket's PAC did not verify");
        return SEC_E_LOGON_DENIED;
    }
    if (!authenticated) {
        gss_release_buffer(&minor, &v);
        if (error_text != NULL)
            (void)buf_append_str(error_text,
                                 "the ticket's PAC did not verify with the service key");
        return SEC_E_LOGON_DENIED;
    }
    pac = calloc(1, sizeof(*pac));
    if (pac == NULL) {
        gss_release_buffer(&minor, &v);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    atomic_init(&pac->refs, 1);
    st = pac_logon_info_decode(slice_make(v.value, v.length), &pac->logon);
    gss_release_buffer(&minor, &v);
    if (st == SEC_E_OK) {
        major = get_attr(name, ATTR_UPN_DNS, &authenticated, &v);
        if (!GSS_ERROR(major)) {
            /* An unverified or undecodable UPN_DNS_INFO is left out; the
             * identity stands on the logon info. */
            if (authenticated &&
                pac_upn_dns_decode(slice_make(v.value, v.length), &pac->upn_dns) == SEC_E_OK)
                pac->has_upn_dns = true;
            gss_release_buffer(&minor, &v);
        }
    } else if (st == SEC_E_INVALID_TOKEN && error_text != NULL) {
        (void)buf_append_str(error_text, "the ticket's PAC logon information is malformed");
    }
    if (st != SEC_E_OK) {
        krb_pac_free(pac);
        return st;
    }
    *pac_out = pac;
    return SEC_E_OK;
}

struct krb_pac *
krb_pac_ref(struct krb_pac *pac)
{
    if (pac != NULL)
        atomic_fetch_add_explicit(&pac->refs, 1, memory_order_relaxed);
    return pac;
}

void
krb_pac_free(struct krb_pac *pac)
{
    if (pac == NULL || atomic_fetch_sub_explicit(&pac->refs, 1, memory_order_acq_rel) != 1)
        return;
    pac_logon_info_free(&pac->logon);
    pac_upn_dns_free(&pac->upn_dns);
    free(pac);
}

static size_t
str_size(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

size_t
krb_pac_size(const struct krb_pac *pac)
{
    if (pac == NULL)
        return 0;
    const struct pac_logon_info *li = &pac->logon;
    return sizeof(*pac) + li->group_count * sizeof(*li->groups) + str_size(li->effective_name) +
           str_size(li->full_name) + str_size(li->logon_server) + str_size(li->logon_domain_name) +
           str_size(pac->upn_dns.upn) + str_size(pac->upn_dns.dns_domain) +
           str_size(pac->upn_dns.sam_name);
}

/* ---- Is there a PAC at all? ------------------------------------------------- */

#define AD_IF_RELEVANT 1
#define AD_KDC_ISSUED  4
#define AD_WIN2K_PAC   128

/* An Int32 (DER INTEGER of 1 to 4 octets, minimal); false when malformed. */
static bool
der_int32(struct slice v, int64_t *out)
{
    if (v.len == 0 || v.len > 4 ||
        (v.len > 1 &&
         ((v.ptr[0] == 0 && !(v.ptr[1] & 0x80)) || (v.ptr[0] == 0xff && (v.ptr[1] & 0x80)))))
        return false;
    int64_t x = (v.ptr[0] & 0x80) ? -1 : 0;
    for (size_t i = 0; i < v.len; i++)
        x = (int64_t)((uint64_t)x << 8) | v.ptr[i];
    *out = x;
    return true;
}

static enum krb_pac_presence
scan(struct slice der, unsigned depth)
{
    struct der d = der_of(der), e;
    struct slice seq, elem, field, value;

    if (depth > KRB_PAC_SCAN_DEPTH || !der_expect(&d, DER_TAG_SEQUENCE, &seq) || d.left != 0)
        return KRB_PAC_MAYBE;
    d = der_of(seq);
    while (d.left > 0) {
        int64_t type;
        if (!der_expect(&d, DER_TAG_SEQUENCE, &elem))
            return KRB_PAC_MAYBE;
        e = der_of(elem);
        struct der f;
        if (!der_expect(&e, DER_CTX(0), &field))
            return KRB_PAC_MAYBE;
        f = der_of(field);
        if (!der_expect(&f, DER_TAG_INTEGER, &value) || f.left != 0 || !der_int32(value, &type))
            return KRB_PAC_MAYBE;
        if (!der_expect(&e, DER_CTX(1), &field) || e.left != 0)
            return KRB_PAC_MAYBE;
        f = der_of(field);
        if (!der_expect(&f, DER_TAG_OCTET_STRING, &value) || f.left != 0)
            return KRB_PAC_MAYBE;
        if (type == AD_WIN2K_PAC || type == AD_KDC_ISSUED)
            return KRB_PAC_MAYBE;
        if (type == AD_IF_RELEVANT && scan(value, depth + 1) != KRB_PAC_ABSENT)
            return KRB_PAC_MAYBE;
    }
    return KRB_PAC_ABSENT;
}

enum krb_pac_presence
krb_pac_scan_authdata(struct slice der)
{
    return scan(der, 1);
}

/* The context's top-level authorization data elements of one ad-type: the
 * OID 1.2.840.113554.1.2.2.5.10 followed by the type as one more arc
 * (MIT's gss_krb5int_extract_authz_data_from_sec_context). */
static OM_uint32
authz_data(gss_ctx_id_t ctx, unsigned ad_type, gss_buffer_set_t *set)
{
    uint8_t oid[16] = "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x05\x0a";
    size_t n = 11;
    OM_uint32 minor;

    if (ad_type >= 128)
        oid[n++] = (uint8_t)(0x80 | (ad_type >> 7));
    oid[n++] = (uint8_t)(ad_type & 0x7f);
    gss_OID_desc desc = {(OM_uint32)n, oid};
    *set = GSS_C_NO_BUFFER_SET;
    return gss_inquire_sec_context_by_oid(&minor, ctx, &desc, set);
}

bool
krb_pac_absent(gss_ctx_id_t ctx)
{
    static const unsigned direct[] = {AD_WIN2K_PAC, AD_KDC_ISSUED};
    gss_buffer_set_t set;
    OM_uint32 minor;
    bool absent = true;

    for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]) && absent; i++) {
        absent = !GSS_ERROR(authz_data(ctx, direct[i], &set)) &&
                 (set == GSS_C_NO_BUFFER_SET || set->count == 0);
        gss_release_buffer_set(&minor, &set);
    }
    if (!absent)
        return false;
    if (GSS_ERROR(authz_data(ctx, AD_IF_RELEVANT, &set)))
        return false;
    for (size_t i = 0; set != GSS_C_NO_BUFFER_SET && i < set->count && absent; i++)
        absent = krb_pac_scan_authdata(
                     slice_make(set->elements[i].value, set->elements[i].length)) == KRB_PAC_ABSENT;
    gss_release_buffer_set(&minor, &set);
    return absent;
}
