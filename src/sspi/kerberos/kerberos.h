// SPDX-License-Identifier: MIT
// The Kerberos security package, both sides, through MIT GSSAPI (RFC 4121 mech):
// `kerberos_package` for the registry, plus helpers for Negotiate and the server.
//
// A package credential (void *pkg_cred) and context (void *pkg_ctx) are what
// acquire_cred / init_ctx / accept_ctx produce. One credential may serve
// contexts on several threads at once (MIT's credential objects lock
// internally); one context must not be used by two threads at once (sspi.c
// refuses that). See docs/internals/kerberos.md.
#ifndef GH_SSPI_KERBEROS_KERBEROS_H
#define GH_SSPI_KERBEROS_KERBEROS_H

#include <stdbool.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"
#include "sspi/package.h"

extern const struct sspi_package kerberos_package;

/* True once init_ctx/accept_ctx returned SEC_E_OK on this context. */
bool kerberos_ctx_is_complete(const void *pkg_ctx);

/* Appends a MIC (RFC 4121 4.2.6.1, gss_get_mic) over data to mic_out. Used by
 * Negotiate for the mechListMIC. SEC_E_OK, SEC_E_NO_CONTEXT (not complete),
 * SEC_E_INSUFFICIENT_MEMORY or a mapped GSS failure. */
SECURITY_STATUS kerberos_ctx_get_mic(void *pkg_ctx, struct slice data, struct buf *mic_out);
/* Verifies a MIC over data. SEC_E_OK, SEC_E_MESSAGE_ALTERED, SEC_E_OUT_OF_SEQUENCE,
 * SEC_E_NO_CONTEXT. */
SECURITY_STATUS kerberos_ctx_verify_mic(void *pkg_ctx, struct slice data, struct slice mic);

/* Acceptor: stores the credentials the client delegated (a forwarded TGT) into
 * a new FILE ccache at path, mode 0600, replacing any file there, and records
 * "FILE:<path>" in the tokens made afterwards (gh_token_delegated_ccache);
 * with owns_file, the file is removed when the last such token is closed.
 * SEC_E_OK; SEC_E_NO_CREDENTIALS (nothing was delegated); SEC_E_NO_CONTEXT (not
 * complete, or not an acceptor); SEC_E_INTERNAL_ERROR (the store failed; the
 * reason is in *error_text when it is not NULL). */
SECURITY_STATUS kerberos_ctx_store_delegated(void *pkg_ctx, const char *path, bool owns_file,
                                             struct buf *error_text);

/* The acceptor's ticket -> identity cache (docs/internals/kerberos.md
 * "Identity cache"), process-wide since start: *hits_out handshakes whose
 * ticket was found (no client name conversion, no PAC attributes),
 * *misses_out handshakes that looked their ticket up and took the name path.
 * Thread-safe (the status module reads them at scrape time). */
void kerberos_ticket_cache_counts(uint64_t *hits_out, uint64_t *misses_out);

#endif
