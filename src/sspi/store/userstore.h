// SPDX-License-Identifier: MIT
// The built-in user store: what each scheme needs to verify a user, read from
// one file managed with `gatehouse passwd` (format: docs/userstore.md).
//
// A store object is immutable once opened, so it may be shared by threads;
// reopen the file to see changes. User names match case-insensitively (ASCII),
// as Windows account names do.
#ifndef GH_SSPI_STORE_USERSTORE_H
#define GH_SSPI_STORE_USERSTORE_H

#include <stddef.h>
#include <stdint.h>

struct userstore;

/* Opens and parses path. Refuses a file readable by group or others (GH_EDENIED,
 * with the reason). On failure writes "path:line: reason" into err (always
 * NUL-terminated) and returns GH_EIO, GH_EPROTO, GH_EDENIED or GH_ENOMEM. */
int userstore_open(const char *path, struct userstore **store_out, char *err, size_t err_len);
void userstore_destroy(struct userstore *store); /* NULL-safe */

/* Copies the NT hash (MD4 of the UTF-16LE password, MS-NLMP 3.3.1) of user.
 * GH_OK or GH_ENOTFOUND (no such user, or no NT hash stored for it). */
int userstore_nt_hash(const struct userstore *store, const char *user, uint8_t hash_out[16]);

/* Verifies a cleartext password (Basic) against the slow salted hash, in constant
 * time with respect to the stored value. GH_OK, GH_EAUTH (wrong password) or
 * GH_ENOTFOUND. */
int userstore_verify_password(const struct userstore *store, const char *user, const char *password,
                              size_t password_len);

/* Copies the Digest HA1 (RFC 7616 3.4.2: H(username:realm:password)) for realm and
 * algorithm ("MD5" or "SHA-256") as lowercase hex, NUL-terminated, into hex_out
 * (at least 65 bytes). GH_OK or GH_ENOTFOUND. */
int userstore_digest_ha1(const struct userstore *store, const char *user, const char *realm,
                         const char *algorithm, char hex_out[65]);

/* The groups listed for user (borrowed from the store). GH_OK or GH_ENOTFOUND. */
int userstore_groups(const struct userstore *store, const char *user,
                     const char *const **groups_out, size_t *count_out);

/* The user's name as stored (canonical case), borrowed; NULL when not found. */
const char *userstore_canonical_name(const struct userstore *store, const char *user);

#endif
