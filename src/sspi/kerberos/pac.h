// SPDX-License-Identifier: MIT
// The PAC of an accepted Kerberos context, read through MIT GSSAPI's naming
// extensions (RFC 6680 gss_get_name_attribute, "urn:mspac:*" attributes of
// the initiator's name) and decoded by our own decoders.
#ifndef GH_SSPI_KERBEROS_PAC_H
#define GH_SSPI_KERBEROS_PAC_H

#include <stdbool.h>

#include <gssapi/gssapi.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "sspi/kerberos/pac_logon_info.h"
#include "sspi/kerberos/pac_upn_dns.h"

struct krb_pac {
    struct pac_logon_info logon;
    bool has_upn_dns;
    struct pac_upn_dns upn_dns;
};

/* Reads and decodes the PAC carried by name (the source name of
 * gss_accept_sec_context). *pac_out is NULL when the ticket carries no
 * Windows logon information: no PAC, or a verified PAC without a logon-info
 * buffer (an MIT KDC's, 1.20 and later). A PAC that is present must be
 * authenticated: MIT verified its server checksum with our key (RFC 6680
 * "authenticated"); otherwise SEC_E_LOGON_DENIED ("the ticket's PAC did not
 * verify"). A logon-info buffer our decoder refuses is SEC_E_INVALID_TOKEN.
 * SEC_E_INSUFFICIENT_MEMORY. error_text (may be NULL) gets the reason. Free
 * the result with krb_pac_free. */
SECURITY_STATUS krb_pac_read(gss_name_t name, struct krb_pac **pac_out, struct buf *error_text);

void krb_pac_free(struct krb_pac *pac); /* NULL-safe */

#endif
