// SPDX-License-Identifier: MIT
// The acceptor's replay cache, in place of MIT's file replay cache.
//
// MIT's `dfl` (file2) cache opens, locks, reads, seeks, writes and closes its
// file on every accepted AP-REQ (eleven system calls, ~30 µs of a ~240 µs
// handshake). This one keeps the seen authenticators in memory, shared by
// every thread of the process, and appends each to a file (one write) so
// that a restarted process still refuses what its predecessor accepted. A
// second process that finds the file in use falls back to MIT's cache
// (docs/internals/kerberos.md "Replay cache").
//
// An entry is the first 16 bytes of SHA-256 over the authenticator's
// ciphertext (RFC 4120 5.5.1: the part of an AP-REQ that only its sender
// could make), kept for twice the allowed clock skew after it was seen: an
// authenticator outside the skew is refused by MIT anyway.
#ifndef GH_SSPI_KERBEROS_REPLAY_H
#define GH_SSPI_KERBEROS_REPLAY_H

#include <stdint.h>
#include <time.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"

#define KRB_REPLAY_TAG_LEN 16

struct krb_replay;

/* The two parts of an AP-REQ (RFC 4120 5.5.1) the acceptor's caches are keyed
 * on; both borrow from the token. */
struct krb_ap_req_view {
    struct slice ticket;        /* the whole Ticket TLV ([APPLICATION 1]: realm, sname, enc-part) */
    struct slice authenticator; /* the authenticator's ciphertext (EncryptedData cipher) */
};

/* Finds the AP-REQ in a Kerberos initial context token: RFC 2743 3.1 framing
 * (0x60, an OID, TOK_ID 01 00, the AP-REQ) or a bare AP-REQ ([APPLICATION 14]),
 * strict DER. SEC_E_OK with *out, or SEC_E_INVALID_TOKEN (not an AP-REQ: MIT
 * would not accept it either). Never reads outside token. */
SECURITY_STATUS krb_ap_req_view(struct slice token, struct krb_ap_req_view *out);

/* SHA-256 of data. SEC_E_OK or SEC_E_INTERNAL_ERROR (OpenSSL has no SHA-256). */
SECURITY_STATUS krb_sha256(struct slice data, uint8_t out[32]);

/* The replay tag of an AP-REQ: the first KRB_REPLAY_TAG_LEN bytes of SHA-256
 * over its authenticator's ciphertext. SEC_E_OK or SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS krb_replay_tag_of(const struct krb_ap_req_view *ap,
                                  uint8_t tag_out[KRB_REPLAY_TAG_LEN]);

/* krb_ap_req_view then krb_replay_tag_of: SEC_E_OK, SEC_E_INVALID_TOKEN or
 * SEC_E_INTERNAL_ERROR. */
SECURITY_STATUS krb_replay_tag(struct slice token, uint8_t tag_out[KRB_REPLAY_TAG_LEN]);

/* The process's cache kept in the file path (created 0600 if missing; its
 * entries younger than 2 * skew_s are loaded), or a new reference to it when
 * open already. SEC_E_OK with *out (release with krb_replay_close);
 * SEC_E_NO_CREDENTIALS when another process holds the file or it is not
 * ours (the reason in error_text when not NULL: use MIT's cache then);
 * SEC_E_INSUFFICIENT_MEMORY. Thread-safe. */
SECURITY_STATUS krb_replay_open(const char *path, uint32_t skew_s, struct krb_replay **out,
                                struct buf *error_text);
void krb_replay_close(struct krb_replay *rc); /* NULL-safe; the last reference closes the file */

/* Records tag as seen at now (seconds since the epoch). SEC_E_OK the first
 * time; SEC_E_INVALID_TOKEN when it was seen within 2 * skew (a replay,
 * whichever thread saw it first); SEC_E_INSUFFICIENT_MEMORY when the cache
 * is full of live entries (fail closed); SEC_E_INTERNAL_ERROR when the file
 * cannot be written (the entry is kept in memory). Thread-safe. */
SECURITY_STATUS krb_replay_add(struct krb_replay *rc, const uint8_t tag[KRB_REPLAY_TAG_LEN],
                               time_t now);

/* The default file: $KRB5RCACHEDIR (else /var/tmp) "/gatehouse_<euid>.rcache",
 * or NULL when KRB5RCACHETYPE or KRB5RCACHENAME asks MIT for another cache
 * (the user's choice wins: e.g. "none"). Caller frees. */
char *krb_replay_default_path(void);

#endif
