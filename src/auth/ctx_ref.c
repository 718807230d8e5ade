// SPDX-License-Identifier: MIT
// Shared completed SSPI contexts (see ctx_ref.h).
//
// Why a reference count: a persisted context belongs to its connection, but the
// record of a request it authenticated may still export it after the
// connection dropped it (the application answered 401 and the identity was
// reset, or a new handshake started on the connection). Each holder keeps its
// own reference, so neither has to know when the other is done.
#include "auth/ctx_ref.h"

#include <stdatomic.h>
#include <stdlib.h>

#include <gatehouse/error.h>

struct auth_ctx_ref {
    CtxtHandle handle;
    const SecurityFunctionTableA *sspi; /* borrowed */
    atomic_uint refs;
};

int
auth_ctx_ref_create(const SecurityFunctionTableA *sspi, CtxtHandle *h, struct auth_ctx_ref **out)
{
    struct auth_ctx_ref *r = malloc(sizeof(*r));

    *out = NULL;
    if (r == NULL)
        return GH_ENOMEM;
    r->handle = *h;
    r->sspi = sspi;
    atomic_init(&r->refs, 1);
    SecInvalidateHandle(h);
    *out = r;
    return GH_OK;
}

struct auth_ctx_ref *
auth_ctx_ref_dup(struct auth_ctx_ref *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    return r;
}

void
auth_ctx_ref_release(struct auth_ctx_ref *r)
{
    if (r == NULL || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    r->sspi->DeleteSecurityContext(&r->handle);
    free(r);
}

SECURITY_STATUS
auth_ctx_ref_export(struct auth_ctx_ref *r, void **packed_out, size_t *len_out)
{
    SecBuffer packed = {0, SECBUFFER_EMPTY, NULL};
    SECURITY_STATUS st;

    *packed_out = NULL;
    *len_out = 0;
    if (r->sspi->ExportSecurityContext == NULL)
        return SEC_E_UNSUPPORTED_FUNCTION;
    st = r->sspi->ExportSecurityContext(&r->handle, 0, &packed, NULL);
    if (st != SEC_E_OK) {
        if (packed.pvBuffer != NULL)
            r->sspi->FreeContextBuffer(packed.pvBuffer);
        return st;
    }
    *packed_out = packed.pvBuffer;
    *len_out = packed.cbBuffer;
    return SEC_E_OK;
}
