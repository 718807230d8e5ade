// SPDX-License-Identifier: MIT
// The PAC of an accepted Kerberos context, read through MIT GSSAPI's naming
// extensions (RFC 6680 gss_get_name_attribute, "urn:mspac:*" attributes of
// the initiator's name) and decoded by our own decoders.
#ifndef GH_SSPI_KERBEROS_PAC_H
#define GH_SSPI_KERBEROS_PAC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <gssapi/gssapi.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "sspi/kerberos/pac_logon_info.h"
#include "sspi/kerberos/pac_upn_dns.h"

/* Immutable once read, shared by reference: a context and the identity cache
 * (ident.h) may hold the same one. */
struct krb_pac {
    _Atomic unsigned refs; /* krb_pac_read makes it 1; krb_pac_ref, krb_pac_free */
    struct pac_logon_info logon;
    bool has_upn_dns;
    struct pac_upn_dns upn_dns;
};

/* Reads and decodes the PAC carried by name (the source name of
 * gss_accept_sec_context). *pac_out is NULL when the ticket carries no
 * Windows logon information: no PAC, or a verified PAC without a logon-info
 * buffer (an MIT KDC's, 1.20 and later). A PAC that is present must be
 * authenticated: MIT verified its server checksum with our key (RFC 6680
 * "authenticated"; a PAC that fails the check MIT filters out, but still
 * lists in gss_inquire_name); otherwise SEC_E_LOGON_DENIED ("the ticket's PAC did not
 * verify"). A logon-info buffer our decoder refuses is SEC_E_INVALID_TOKEN.
 * SEC_E_INSUFFICIENT_MEMORY. error_text (may be NULL) gets the reason. Free
 * the result with krb_pac_free. */
SECURITY_STATUS krb_pac_read(gss_name_t name, struct krb_pac **pac_out, struct buf *error_text);

/* Another reference to pac (NULL-safe: returns NULL). Thread-safe. */
struct krb_pac *krb_pac_ref(struct krb_pac *pac);
/* Drops a reference; the last one frees. NULL-safe, thread-safe. */
void krb_pac_free(struct krb_pac *pac);
/* About how many bytes pac holds (the identity cache's memory bound); 0 for NULL. */
size_t krb_pac_size(const struct krb_pac *pac);

/* Whether MIT could find a PAC in what an accepted context holds.
 * KRB_PAC_ABSENT: certainly none; KRB_PAC_MAYBE: one may be there (or
 * something this reader does not follow: a KDC-issued container, nesting
 * deeper than KRB_PAC_SCAN_DEPTH, an encoding it refuses). */
enum krb_pac_presence {
    KRB_PAC_ABSENT = 0,
    KRB_PAC_MAYBE = 1,
};
#define KRB_PAC_SCAN_DEPTH 4

/* Reads the contents of an AD-IF-RELEVANT element: AuthorizationData
 * (RFC 4120 5.2.6: SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data [1]
 * OCTET STRING }), strict DER, looking for what MIT's krb5_find_authdata
 * would descend into or find: AD-WIN2K-PAC (128) is MAYBE, AD-KDCIssued (4)
 * is MAYBE, AD-IF-RELEVANT (1) is read in turn (up to KRB_PAC_SCAN_DEPTH
 * levels). Anything malformed is MAYBE. Never reads outside der. */
enum krb_pac_presence krb_pac_scan_authdata(struct slice der);

/* Asks the accepted context (gss_inquire_sec_context_by_oid with
 * GSS_KRB5_EXTRACT_AUTHZ_DATA_FROM_SEC_CONTEXT_OID + ad-type: MIT answers
 * from the context's own authorization data, the ticket's and the
 * authenticator's top-level elements, with no new krb5_context) whether its
 * ticket may carry a PAC: top-level AD-WIN2K-PAC or AD-KDCIssued elements, or
 * AD-IF-RELEVANT containers holding one (krb_pac_scan_authdata). True only
 * when there is certainly none: then gss_get_name_attribute would find none
 * either, and krb_pac_read may be skipped. Any failure to ask is "maybe". */
bool krb_pac_absent(gss_ctx_id_t ctx);

#endif
