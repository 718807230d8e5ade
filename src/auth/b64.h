// SPDX-License-Identifier: MIT
// Base64 (RFC 4648 section 4, standard alphabet, with padding) as HTTP
// authentication schemes carry it: Basic (RFC 7617), Negotiate/NTLM tokens
// (RFC 4559), and our Digest nonces.
#ifndef GH_AUTH_B64_H
#define GH_AUTH_B64_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

/* The encoded length of n bytes (with padding). */
static inline size_t
b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Appends the encoding of in to out. GH_OK, GH_ELIMIT or GH_ENOMEM. */
int b64_encode(struct buf *out, struct slice in);

/* Strict decoding: only the standard alphabet, length a multiple of 4, padding
 * only at the end, and unused trailing bits zero (so every input has exactly one
 * accepted spelling). Appends to out. Returns GH_OK, GH_EPROTO (not canonical
 * base64; out unchanged), GH_ELIMIT or GH_ENOMEM. */
int b64_decode(struct buf *out, struct slice in);

#endif
