// SPDX-License-Identifier: MIT
// The Negotiate security package (SPNEGO, RFC 4178 and MS-SPNG), both sides:
// `negotiate_package` for the registry. It prefers Kerberos and falls back to
// NTLM, driving those packages through their own tables. The acceptor also
// takes raw NTLM and raw Kerberos tokens, as Windows does.
// See docs/internals/negotiate.md.
#ifndef GH_SSPI_NEGOTIATE_NEGOTIATE_H
#define GH_SSPI_NEGOTIATE_NEGOTIATE_H

#include <stdbool.h>

#include <gatehouse/sspi.h>

#include "sspi/package.h"

extern const struct sspi_package negotiate_package;

/* The package chosen by a Negotiate context and that package's context, e.g.
 * to store Kerberos delegated credentials (kerberos_ctx_store_delegated).
 * SEC_E_OK, or SEC_E_NO_CONTEXT before a mechanism was chosen. Borrowed: valid
 * until the Negotiate context is deleted or re-authenticates. */
SECURITY_STATUS negotiate_ctx_inner(void *pkg_ctx, const struct sspi_package **pkg_out,
                                    void **inner_ctx_out);

#endif
