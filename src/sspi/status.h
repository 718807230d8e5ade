// SPDX-License-Identifier: MIT
// Names of SECURITY_STATUS values, for logs and extended-error texts.
#ifndef GH_SSPI_STATUS_H
#define GH_SSPI_STATUS_H

#include <gatehouse/sspi.h>

/* "SEC_E_LOGON_DENIED" for a known status, "unknown status" otherwise; static. */
const char *sspi_status_name(SECURITY_STATUS status);

#endif
