// SPDX-License-Identifier: MIT
// Reading the PAC from MIT GSSAPI.
//
// MIT's krb5 mechanism exposes each PAC buffer as a name attribute
// ("urn:mspac:logon-info", "urn:mspac:upn-dns-info", and the whole PAC as
// "urn:mspac:"). When the ticket is decrypted, MIT checks the PAC's server
// signature with the service key and reports the result as the attribute's
// "authenticated" flag: a PAC whose signature fails is still returned, with
// authenticated = 0, so the check below is what refuses a forged PAC. (The
// KDC signature needs the krbtgt key; only the KDC can check it.)
#include "sspi/kerberos/pac.h"

#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi_ext.h>

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
        if (!pac_present(name, &authenticated) || authenticated)
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

void
krb_pac_free(struct krb_pac *pac)
{
    if (pac == NULL)
        return;
    pac_logon_info_free(&pac->logon);
    pac_upn_dns_free(&pac->upn_dns);
    free(pac);
}
