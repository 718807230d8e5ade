// SPDX-License-Identifier: MIT
// How far a client's clock is from ours, for the message of an AP-REQ that
// MIT refused for clock skew (KRB5KRB_AP_ERR_SKEW): MIT says "Clock skew too
// great" but not by how much. Only on that failure path; nothing is accepted.
#ifndef GH_SSPI_KERBEROS_SKEW_H
#define GH_SSPI_KERBEROS_SKEW_H

#include <stdint.h>
#include <time.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"

/* Decrypts the ticket of the AP-REQ in token (a Kerberos initial context
 * token or a bare AP-REQ) with its key from keytab (a keytab name; NULL: the
 * default), then the authenticator with the ticket's session key, and sets
 * *skew_out to the authenticator's ctime (RFC 4120 5.5.1) minus now: positive
 * when the client's clock is ahead. SEC_E_OK; SEC_E_INVALID_TOKEN (not an
 * AP-REQ, or an authenticator that does not decrypt or parse);
 * SEC_E_NO_CREDENTIALS (no key for the ticket); SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS krb_skew_seconds(const char *keytab, struct slice token, time_t now,
                                 int64_t *skew_out);

/* The ctime of a DER Authenticator ([APPLICATION 2], RFC 4120 5.5.1) as a
 * time_t. SEC_E_OK or SEC_E_INVALID_TOKEN. Exposed for the unit test. */
SECURITY_STATUS krb_authenticator_ctime(struct slice der, time_t *ctime_out);

#endif
