// SPDX-License-Identifier: MIT
// The legacy-provider algorithms (MD4), from a private library context that
// is created once and kept for the life of the process.
#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <gatehouse/error.h>

#include "sspi/md4.h"

static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *legacy_ctx;
static EVP_MD *md4;

static void
legacy_init(void)
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

    if (ctx == NULL)
        return;
    if (OSSL_PROVIDER_load(ctx, "legacy") == NULL) {
        OSSL_LIB_CTX_free(ctx);
        return;
    }
    /* Only the legacy provider: nothing modern is ever fetched from here. */
    md4 = EVP_MD_fetch(ctx, "MD4", NULL);
    legacy_ctx = ctx;
}

OSSL_LIB_CTX *
sspi_legacy_libctx(void)
{
    pthread_once(&legacy_once, legacy_init);
    return legacy_ctx;
}

int
sspi_md4(const void *data, size_t len, uint8_t out[16])
{
    unsigned int out_len = 0;

    pthread_once(&legacy_once, legacy_init);
    if (md4 == NULL)
        return GH_EUNSUPPORTED;
    if (EVP_Digest(data, len, out, &out_len, md4, NULL) != 1 || out_len != 16)
        return GH_ENOMEM;
    return GH_OK;
}
