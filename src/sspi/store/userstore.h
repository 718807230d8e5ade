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

/* ---- Additions: parsing from memory, listing, and `gatehouse passwd` ------ */
#include <stdbool.h>

#include "base/buf.h"

/* PBKDF2-HMAC-SHA256 iterations for new entries (OWASP 2023 guidance). */
#define USERSTORE_DEFAULT_ITERATIONS 600000u
#define USERSTORE_MIN_ITERATIONS     1000u
#define USERSTORE_MAX_ITERATIONS     100000000u

/* Parses a store from memory (what userstore_open does after reading and
 * checking the file); name prefixes error messages. Same statuses as
 * userstore_open but GH_EDENIED/GH_EIO; GH_ELIMIT when a limit is exceeded. */
int userstore_parse(const char *data, size_t len, const char *name, struct userstore **store_out,
                    char *err, size_t err_len);

/* Number of users, and a one-line description of user index (its name, which
 * schemes it can use, groups and Digest realms; never a secret) appended to
 * out. GH_OK, GH_ENOTFOUND past the end, or buf's errors. */
size_t userstore_count(const struct userstore *store);
/* The name of user index (sorted order), borrowed; NULL past the end. */
const char *userstore_name_at(const struct userstore *store, size_t index);
int userstore_describe(const struct userstore *store, size_t index, struct buf *out);

/* A user to add or replace with userstore_file_put. */
struct userstore_user {
    const char *name;     /* UTF-8, 1..256 bytes */
    const char *password; /* UTF-8 */
    size_t password_len;
    const char *const *realms; /* Digest realms to store HA1 for (MD5 and SHA-256) */
    size_t realm_count;
    const char *const *groups;
    size_t group_count;
    unsigned iterations; /* 0: USERSTORE_DEFAULT_ITERATIONS */
};

/* Adds user to the store file at path, replacing an entry of the same name
 * (case-insensitive); creates the file (mode 0600) when missing. The file is
 * rewritten atomically (temporary file, fsync, rename) under an exclusive
 * lock on "path.lock"; comments and other entries are kept as they were.
 * Refuses to rewrite a file that does not parse or is group/world accessible.
 * GH_OK, GH_EINVAL (bad name, realm, group or password), GH_EPROTO, GH_EDENIED,
 * GH_EIO or GH_ENOMEM, with the reason in err. */
int userstore_file_put(const char *path, const struct userstore_user *user, char *err,
                       size_t err_len);
/* Removes user from the store file. GH_OK, GH_ENOTFOUND, or as above. */
int userstore_file_remove(const char *path, const char *user, char *err, size_t err_len);

/* Formats the store line for user (no newline) into out; what
 * userstore_file_put writes. GH_OK, GH_EINVAL, GH_ENOMEM, GH_EUNSUPPORTED
 * (no MD4: the legacy provider is missing). */
int userstore_format_line(const struct userstore_user *user, struct buf *out);

#endif
