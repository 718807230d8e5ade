// SPDX-License-Identifier: MIT
// Secrets: OpenSSL's cleanse and constant-time compare, so no secret is left
// in freed memory and no comparison leaks how many bytes matched.
#include "base/secret.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <gatehouse/error.h>

int
secret_set(struct secret *s, const void *bytes, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);

    if (copy == NULL)
        return GH_ENOMEM;
    if (len > 0)
        memcpy(copy, bytes, len);
    secret_free(s);
    s->bytes = copy;
    s->len = len;
    return GH_OK;
}

void
secret_free(struct secret *s)
{
    if (s == NULL)
        return;
    OPENSSL_clear_free(s->bytes, s->len);
    *s = (struct secret){0};
}

bool
secret_equals(const struct secret *s, const uint8_t *candidate, size_t len)
{
    return s->len == len && CRYPTO_memcmp(s->bytes, candidate, len) == 0;
}

bool
secret_memeq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void
secret_wipe(void *p, size_t len)
{
    if (p != NULL)
        OPENSSL_cleanse(p, len);
}
