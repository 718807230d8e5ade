// SPDX-License-Identifier: MIT
// UTF-8 <-> UTF-16LE for NTLM's Unicode strings (MS-NLMP 2.2: NTLMSSP_NEGOTIATE_UNICODE).
#ifndef GH_SSPI_NTLM_TEXT_H
#define GH_SSPI_NTLM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

/* Appends s (UTF-8, len bytes) to out as UTF-16LE, uppercased when upper is true
 * (simple case mapping, locale-independent). Returns GH_OK, GH_EPROTO (not
 * UTF-8), GH_ELIMIT or GH_ENOMEM. */
int ntlm_text_to_utf16(const char *s, size_t len, bool upper, struct buf *out);
/* Appends UTF-16LE text (possibly uppercased) to out as UTF-16LE. */
int ntlm_text_utf16_copy(struct slice utf16, bool upper, struct buf *out);
/* Decodes UTF-16LE into a new NUL-terminated UTF-8 string (malloc) in *out.
 * GH_OK, GH_EPROTO (odd length, lone surrogate, embedded NUL) or GH_ENOMEM. */
int ntlm_text_from_utf16(struct slice utf16, char **out);

#endif
