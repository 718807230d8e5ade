// SPDX-License-Identifier: MIT
// Verified Basic credentials, remembered for a short time: a client sends the
// same user and password on every request, and verifying them costs a slow
// password hash (PBKDF2, ~0.2 s at the store's default) or a KDC exchange.
//
// An entry is HMAC-SHA256(key, user || 0x00 || password) with a random
// per-cache key and an expiry: the password is never stored, and a lookup
// compares in constant time. Only successful verifications are added, so a
// wrong password never matches (the HMAC differs). The cache belongs to one
// location's config: a reload (which reopens the user store) starts empty.
// An entry also keeps the canonical name the verifier returned (Kerberos:
// the client principal the KDC issued) and a reference to the access token it
// made (Kerberos: the accepted ticket's, with the PAC's groups and SIDs), so a
// hit gives the same identity as the verification did.
// Thread-safe (one mutex).
#ifndef GH_AUTH_BASIC_CACHE_H
#define GH_AUTH_BASIC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/backend.h"

#define BASIC_CACHE_KEY_BYTES       32
#define BASIC_CACHE_DEFAULT_TTL_S   300
#define BASIC_CACHE_DEFAULT_ENTRIES 4096
#define BASIC_CACHE_WAYS            8   /* entries per bucket */
#define BASIC_CACHE_NAME_BYTES      128 /* canonical name with its NUL */

struct basic_cache;

/* A cache of at most max_entries (rounded up to a multiple of
 * BASIC_CACHE_WAYS; 0: default) whose entries live ttl_ms (> 0). tokens: the
 * dup and close of the access tokens kept with entries (borrowed, must
 * outlive the cache); NULL: no token is ever kept.
 * GH_OK, GH_EINVAL (ttl 0) or GH_ENOMEM (also when no random key). */
int basic_cache_create(size_t max_entries, uint64_t ttl_ms, const struct auth_token_ops *tokens,
                       struct basic_cache **out);
/* NULL-safe; closes the entries' tokens, wipes the key and entries. */
void basic_cache_destroy(struct basic_cache *c);

/* The lookup key of a user and password (the password is len bytes; user
 * is NUL-terminated). False when it cannot be computed (out of memory): then
 * do not use the cache for this request. */
bool basic_cache_key(struct basic_cache *c, const char *user, const uint8_t *password,
                     size_t password_len, uint8_t key_out[BASIC_CACHE_KEY_BYTES]);
/* True when key was added less than the TTL ago (now_ms: monotonic ms); then
 * name_out (NULL: not wanted) receives the canonical name added with it ("":
 * none) and *token_out (NULL: not wanted) a new reference to the token added
 * with it (NULL: none), which the caller closes. Compares every entry of the
 * bucket in constant time. */
bool basic_cache_check(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES],
                       uint64_t now_ms, char name_out[BASIC_CACHE_NAME_BYTES],
                       gh_token **token_out);
/* Remembers a successful verification until now_ms + TTL, with the canonical
 * name (NULL: none) and the access token (borrowed: the cache takes its own
 * reference; NULL: none). A name too long for an entry is not remembered:
 * those users are verified on every request. When the bucket is full, the
 * entry that expires first goes (its token closed). */
void basic_cache_add(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES],
                     const char *name, gh_token *token, uint64_t now_ms);
/* Forgets every entry (the user store changed). */
void basic_cache_clear(struct basic_cache *c);
/* Entries currently held (expired ones included until replaced); for tests. */
size_t basic_cache_count(struct basic_cache *c);

#endif
