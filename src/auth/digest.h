// SPDX-License-Identifier: MIT
// The Digest scheme (RFC 7616), server side: challenges with nonces bound to
// time and a server secret, response verification, nonce-count replay
// detection, Authentication-Info with rspauth.
//
// Nonce layout (base64 of 54 bytes, 72 characters, no padding):
//    0 issued       8 bytes, Unix seconds, big-endian
//    8 random      14 bytes (makes every nonce unique)
//   22 mac         32 bytes, HMAC-SHA256(secret, issued || random || realm)
// Verification recomputes the MAC (constant-time comparison). An authentic nonce
// older than the lifetime is "stale" (RFC 7616 3.3: stale=true, the client retries
// with the new nonce without asking the user again).
#ifndef GH_AUTH_DIGEST_H
#define GH_AUTH_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/authz_header.h"
#include "auth/backend.h"
#include "auth/reason.h"
#include "base/buf.h"
#include "base/slice.h"

enum digest_alg {
    DIGEST_ALG_MD5 = 0,
    DIGEST_ALG_SHA256 = 1,
    DIGEST_ALG_SHA512_256 = 2,
};

#define DIGEST_NONCE_CHARS            72
#define DIGEST_MAX_HEX                128 /* longest hash in hex among the algorithms, plus margin */
#define DIGEST_MAX_USER_BYTES         256
#define DIGEST_DEFAULT_LIFETIME_S     300
#define DIGEST_DEFAULT_REPLAY_ENTRIES 4096

/* "MD5", "SHA-256", "SHA-512-256". */
const char *digest_alg_name(enum digest_alg alg);
/* Case-insensitive; GH_OK or GH_EUNSUPPORTED (including the -sess variants). */
int digest_alg_parse(struct slice name, enum digest_alg *alg_out);

/* Process-wide Digest state: the nonce secret and the replay table. Thread-safe. */
struct digest_state;

/* secret: 32 bytes, or NULL for a random one (nonces then die with the process).
 * replay_entries: bound of the nonce-count table (0: default). lifetime_s: 0 default. */
/* Changes the nonce lifetime (seconds, > 0); before any request uses st. */
void digest_state_set_lifetime(struct digest_state *st, unsigned lifetime_s);
int digest_state_create(const uint8_t *secret, size_t replay_entries, unsigned lifetime_s,
                        struct digest_state **state_out);
void digest_state_destroy(struct digest_state *st); /* NULL-safe; wipes the secret */

/* Writes a fresh nonce (DIGEST_NONCE_CHARS chars + NUL) for realm at time now. */
int digest_nonce_make(const struct digest_state *st, const char *realm, time_t now,
                      char nonce_out[DIGEST_NONCE_CHARS + 1]);
/* GH_OK (authentic and fresh), GH_ETIMEDOUT (authentic but expired: stale) or
 * GH_EAUTH (malformed, forged, another realm, or from the future). */
int digest_nonce_check(const struct digest_state *st, const char *realm, struct slice nonce,
                       time_t now);

/* Appends one challenge: Digest realm="..", qop="auth", algorithm=.., nonce="..",
 * charset=UTF-8[, userhash=true][, stale=true]. GH_OK, GH_ELIMIT, GH_ENOMEM, GH_EINVAL. */
int digest_challenge(struct buf *out, const struct digest_state *st, const char *realm,
                     enum digest_alg alg, bool offer_userhash, bool stale, time_t now);

/* The request digest (RFC 7616 3.4.1), qop=auth:
 *   response = KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" H(A2)),  A2 = method ":" uri
 * For rspauth (3.5) pass method = "" (A2 = ":" uri). Lowercase hex into hex_out.
 * GH_OK or GH_ENOMEM. */
int digest_compute(enum digest_alg alg, const char *ha1_hex, struct slice nonce, struct slice nc,
                   struct slice cnonce, struct slice qop, struct slice method, struct slice uri,
                   char hex_out[DIGEST_MAX_HEX + 1]);
/* Lowercase hex H(data) into hex_out. GH_OK or GH_ENOMEM. */
int digest_hash_hex(enum digest_alg alg, struct slice data, char hex_out[DIGEST_MAX_HEX + 1]);
/* Lowercase hex H(parts joined by ':') into hex_out: the H and KD of RFC 7616
 * 3.4.1 (A1, -sess A1, the response without qop). GH_OK or GH_ENOMEM. */
int digest_hash_parts(enum digest_alg alg, const struct slice *parts, size_t count,
                      char hex_out[DIGEST_MAX_HEX + 1]);

/* Credentials of an Authorization: Digest header, checked for syntax. */
struct digest_request {
    enum digest_alg alg;
    char user[DIGEST_MAX_USER_BYTES]; /* username, or the decoded username* */
    bool userhash;                    /* user is H(user:realm) in hex */
    struct slice realm, nonce, uri, response, cnonce, qop, nc_text;
    uint32_t nc;
};

/* GH_OK, GH_EPROTO (missing/duplicate/malformed parameter: 400) or GH_EUNSUPPORTED
 * (an algorithm or qop we do not offer, e.g. auth-int: 401 with a fresh challenge). */
int digest_request_parse(const struct authz_credentials *creds, struct digest_request *out);

enum digest_result {
    DIGEST_OK = 0,
    DIGEST_FAILED = 1,     /* wrong response, unknown user, forged nonce, replay */
    DIGEST_STALE = 2,      /* authentic but expired nonce, or nonce evicted from the table */
    DIGEST_BAD_REQUEST = 3 /* realm or uri do not match the request: 400 */
};

struct digest_outcome {
    enum digest_result result;
    const char *reason;               /* static text for the audit log */
    enum auth_reason code;            /* its code (auth/reason.h) */
    char user[DIGEST_MAX_USER_BYTES]; /* canonical user name on DIGEST_OK */
    struct buf auth_info;             /* Authentication-Info value on DIGEST_OK (caller frees) */
};

/* Verifies req for a request with method and target (as sent) against realm and
 * the user database. Records the nonce count only when the response is right, so
 * unauthenticated clients cannot fill the replay table. Returns GH_OK with *out
 * filled (out->auth_info initialized in every case), or GH_ENOMEM. */
int digest_authenticate(struct digest_state *st, const struct auth_userdb_ops *db_ops, void *db,
                        const char *realm, struct slice method, struct slice target,
                        const struct digest_request *req, time_t now, struct digest_outcome *out);

/* The replay table, exposed for tests: GH_OK when nc is new for this nonce,
 * GH_EEXIST on a replay (or a count too far behind the highest seen), GH_ETIMEDOUT
 * when the nonce is unknown but older than an evicted entry (treat as stale). */
int digest_replay_check(struct digest_state *st, struct slice nonce, uint32_t nc, time_t now);

#endif
