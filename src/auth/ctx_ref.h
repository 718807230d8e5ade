// SPDX-License-Identifier: MIT
// A completed SSPI context kept so that the auth record can export it when a
// module first reads the record (auth_packed_context), instead of on every
// handshake. Shared by the connection that persisted it (NTLM) and the records
// of the requests it authenticated.
#ifndef GH_AUTH_CTX_REF_H
#define GH_AUTH_CTX_REF_H

#include <gatehouse/sspi.h>

struct auth_ctx_ref;

/* Takes ownership of the completed context *h (its handle is invalidated) and
 * gives one reference in *out. sspi is borrowed and must outlive the object
 * (the engine's backend). GH_OK, or GH_ENOMEM (then *h is left as it was and
 * still belongs to the caller). */
int auth_ctx_ref_create(const SecurityFunctionTableA *sspi, CtxtHandle *h,
                        struct auth_ctx_ref **out);
/* A new reference to r. */
struct auth_ctx_ref *auth_ctx_ref_dup(struct auth_ctx_ref *r);
/* Drops one reference; the last one deletes the context (DeleteSecurityContext).
 * NULL is a no-op. References may be dropped on different threads. */
void auth_ctx_ref_release(struct auth_ctx_ref *r);

/* ExportSecurityContext of the context: on SEC_E_OK *packed_out holds
 * FreeContextBuffer memory of *len_out bytes (the caller owns it); otherwise
 * *packed_out is NULL and the status says why. */
SECURITY_STATUS auth_ctx_ref_export(struct auth_ctx_ref *r, void **packed_out, size_t *len_out);

#endif
