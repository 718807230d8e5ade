// SPDX-License-Identifier: MIT
// Field codec of packed contexts (ExportSecurityContext / ImportSecurityContext).
//
// The packed context is opaque to applications (docs/sspi.md): a versioned
// envelope written by sspi.c, then the package's own fields, written and read
// with these helpers. All integers little-endian; a string is a u32 length
// then its bytes (no NUL; length 0xFFFFFFFF means NULL).
#ifndef GH_SSPI_PACKED_H
#define GH_SSPI_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/reader.h"

#define PACKED_MAX_STRING 65536u

/* Appends to out; every function returns SEC_E_OK or SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS packed_put_u8(struct buf *out, uint8_t v);
SECURITY_STATUS packed_put_u32(struct buf *out, uint32_t v);
SECURITY_STATUS packed_put_u64(struct buf *out, uint64_t v);
SECURITY_STATUS packed_put_bytes(struct buf *out, const void *p, size_t len);
SECURITY_STATUS packed_put_str(struct buf *out, const char *s); /* NULL allowed */

/* Reads a string into a malloc'd, NUL-terminated copy (*out NULL for a NULL
 * string). false when the input is short, the length is over
 * PACKED_MAX_STRING, the bytes hold a NUL, or memory runs out (*oom_out set). */
bool packed_get_str(struct reader *rd, char **out, bool *oom_out);
/* Reads a u32-length-prefixed byte string (at most max bytes), borrowed from rd. */
bool packed_get_bytes(struct reader *rd, size_t max, struct slice *out);

#endif
