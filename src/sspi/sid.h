// SPDX-License-Identifier: MIT
// Security identifiers (MS-DTYP 2.4.2): the binary form, the string form
// "S-1-5-21-...", and the composition of a domain SID with a relative id.
#ifndef GH_SSPI_SID_H
#define GH_SSPI_SID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SID_REVISION            1
#define SID_MAX_SUB_AUTHORITIES 15 /* MS-DTYP 2.4.2: SubAuthorityCount <= 15 */
/* "S-1-" + "0x" and 12 hex digits + 15 x ("-" and 10 digits) + NUL. */
#define SID_STRING_MAX 184

struct sid {
    uint8_t revision;     /* SID_REVISION */
    uint8_t sub_count;    /* 0..SID_MAX_SUB_AUTHORITIES */
    uint8_t authority[6]; /* IdentifierAuthority, big-endian */
    uint32_t sub[SID_MAX_SUB_AUTHORITIES];
};

/* The string form (MS-DTYP 2.4.2.1): the authority in decimal below 2^32,
 * else "0x" and 12 hex digits. Writes NUL-terminated text into out
 * (>= SID_STRING_MAX bytes). Returns false (out = "") for a SID that is not
 * valid (revision, sub_count). */
bool sid_to_string(const struct sid *s, char *out, size_t out_len);

/* Parses "S-1-<authority>(-<sub>){0,15}", case-insensitive "S", decimal
 * numbers without signs or leading "+" (and "0x" hex for the authority).
 * Returns false on anything else. */
bool sid_from_string(const char *text, struct sid *out);

/* *out = domain followed by rid. False when domain already has 15 sub-authorities. */
bool sid_compose(const struct sid *domain, uint32_t rid, struct sid *out);

/* Byte-exact equality of the meaningful part. */
bool sid_equal(const struct sid *a, const struct sid *b);

/* Samba's SIDs for Unix ids: S-1-22-1-<uid> for a user, S-1-22-2-<gid> for
 * a group. */
#define SID_UNIX_AUTHORITY 22
#define SID_UNIX_USER      1
#define SID_UNIX_GROUP     2
void sid_unix(uint32_t kind, uint32_t id, struct sid *out);

/* The in-memory SID of Windows (MS-DTYP 2.4.2.2 with native-endian 32-bit
 * sub-authorities, <gatehouse/wintypes.h>'s SID): 8 + 4 x sub_count bytes. */
#define SID_BINARY_HEADER_BYTES 8
size_t sid_binary_len(const struct sid *s);
/* Writes sid_binary_len(s) bytes at out (4-aligned). */
void sid_to_binary(const struct sid *s, void *out);
/* Reads the SID at p: false (out untouched) for NULL, a revision other than
 * 1 or more than 15 sub-authorities. Reads 8 bytes, then 4 per sub-authority. */
bool sid_from_binary(const void *p, struct sid *out);

#endif
