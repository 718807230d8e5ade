// SPDX-License-Identifier: MIT
// MD4 (RFC 1320) for the NT hash (MS-NLMP 3.3.1), and the private OpenSSL
// library context that holds the legacy provider it lives in.
//
// The legacy provider is loaded into a private OSSL_LIB_CTX, never into the
// default one: loading it globally would make MD4, RC4 and friends available
// to every OpenSSL user in the process (TLS included).
#ifndef GH_SSPI_MD4_H
#define GH_SSPI_MD4_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

/* MD4 of data[0, len). GH_OK, GH_EUNSUPPORTED (the legacy provider cannot be
 * loaded) or GH_ENOMEM. Thread-safe. */
int sspi_md4(const void *data, size_t len, uint8_t out[16]);

/* The private library context with the "legacy" provider loaded (for RC4 in
 * NTLM sealing: EVP_CIPHER_fetch(sspi_legacy_libctx(), "RC4", NULL)); NULL
 * when the provider is unavailable. Lives as long as the process. */
OSSL_LIB_CTX *sspi_legacy_libctx(void);

#endif
