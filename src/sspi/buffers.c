// SPDX-License-Identifier: MIT
// SecBufferDesc handling. Descriptors come straight from the caller, so every
// count and pointer is checked once here, before a package sees a byte; the
// output token is placed only after the package succeeded, so a failed call
// never leaves a half-written buffer behind.
#include <string.h>

#include "sspi/internal.h"

#define TYPE_OF(b) ((b)->BufferType & ~SECBUFFER_ATTRMASK)

static SECURITY_STATUS
check_desc(PSecBufferDesc desc)
{
    if (desc == NULL)
        return SEC_E_OK;
    if (desc->ulVersion != SECBUFFER_VERSION)
        return SEC_E_INVALID_TOKEN;
    if (desc->cBuffers > SSPI_MAX_BUFFERS)
        return SEC_E_INVALID_TOKEN;
    if (desc->cBuffers > 0 && desc->pBuffers == NULL)
        return SEC_E_INVALID_TOKEN;
    return SEC_E_OK;
}

SECURITY_STATUS
buffers_check_input(PSecBufferDesc desc)
{
    SECURITY_STATUS status = check_desc(desc);

    if (status != SEC_E_OK || desc == NULL)
        return status;
    for (unsigned long i = 0; i < desc->cBuffers; i++) {
        const SecBuffer *b = &desc->pBuffers[i];

        if (b->cbBuffer > 0 && b->pvBuffer == NULL)
            return SEC_E_INVALID_TOKEN;
        if (TYPE_OF(b) == SECBUFFER_TOKEN && b->cbBuffer > SSPI_MAX_TOKEN_BYTES)
            return SEC_E_INVALID_TOKEN;
    }
    return SEC_E_OK;
}

SECURITY_STATUS
buffers_check_output(PSecBufferDesc desc, bool allocate)
{
    SECURITY_STATUS status = check_desc(desc);

    if (status != SEC_E_OK || desc == NULL)
        return status;
    for (unsigned long i = 0; i < desc->cBuffers; i++) {
        const SecBuffer *b = &desc->pBuffers[i];

        if (allocate && TYPE_OF(b) == SECBUFFER_TOKEN)
            continue;
        if (b->cbBuffer > 0 && b->pvBuffer == NULL)
            return SEC_E_INVALID_TOKEN;
    }
    return SEC_E_OK;
}

PSecBuffer
sspi_buffer_find(PSecBufferDesc desc, unsigned long type)
{
    if (desc == NULL || desc->pBuffers == NULL)
        return NULL;
    for (unsigned long i = 0; i < desc->cBuffers && i < SSPI_MAX_BUFFERS; i++) {
        if (TYPE_OF(&desc->pBuffers[i]) == type)
            return &desc->pBuffers[i];
    }
    return NULL;
}

struct slice
buffers_slice(PSecBufferDesc desc, unsigned long type)
{
    PSecBuffer b = sspi_buffer_find(desc, type);

    if (b == NULL || b->pvBuffer == NULL)
        return slice_make(NULL, 0);
    return slice_make(b->pvBuffer, b->cbBuffer);
}

SECURITY_STATUS
buffers_put_token(PSecBufferDesc out, struct slice token, bool allocate)
{
    PSecBuffer b = sspi_buffer_find(out, SECBUFFER_TOKEN);
    void *p;

    if (b == NULL)
        return token.len == 0 ? SEC_E_OK : SEC_E_BUFFER_TOO_SMALL;
    if (allocate) {
        p = NULL;
        if (token.len > 0) {
            p = sspi_alloc(token.len);
            if (p == NULL)
                return SEC_E_INSUFFICIENT_MEMORY;
            memcpy(p, token.ptr, token.len);
        }
        b->pvBuffer = p;
        b->cbBuffer = token.len;
        return SEC_E_OK;
    }
    if (token.len > b->cbBuffer)
        return SEC_E_BUFFER_TOO_SMALL;
    if (token.len > 0)
        memcpy(b->pvBuffer, token.ptr, token.len);
    b->cbBuffer = token.len;
    return SEC_E_OK;
}

bool
buffers_mark(PSecBufferDesc in, unsigned long type, unsigned long count)
{
    PSecBuffer b = sspi_buffer_find(in, SECBUFFER_EMPTY);

    if (b == NULL)
        return false;
    b->BufferType = type;
    b->cbBuffer = count;
    return true;
}
