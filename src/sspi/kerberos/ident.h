// SPDX-License-Identifier: MIT
// The acceptor's ticket -> identity cache.
//
// A client that reuses its service ticket (curl, browsers, `gatehouse bench`:
// every connection within the ticket's lifetime) sends the same Ticket in
// every AP-REQ, with a new authenticator. What the acceptor derives from the
// ticket's name and PAC (the client principal's text, the decoded PAC) is the
// same each time, and finding it costs MIT a fresh krb5_context per name call
// (the union name's conversion, gss_display_name, gss_release_name, the PAC's
// name attributes). The cache keeps it by ticket, so a repeated ticket is
// accepted with no source name at all (gss_accept_sec_context's src_name =
// NULL). gss_accept_sec_context still decrypts and checks the ticket, the
// authenticator, the ticket times and the replay cache on every handshake;
// the cache only spares the conversions of a plaintext that the same
// ciphertext under the same key always decrypts to
// (docs/internals/kerberos.md "Identity cache").
//
// Key: the acceptor credential's number (a new one per AcquireCredentialsHandle)
// and its keytab generation (keytab.h: a reloaded keytab file is a new one)
// with SHA-256 of the whole Ticket (realm, sname, enc-part etype, kvno,
// cipher). An entry lives until the ticket's end time or the TTL, whichever is
// first. Bounded in entries and bytes; one table of 16 stripes, each with its
// own mutex (a lookup holds one for a 4-way probe and a copy of the name).
#ifndef GH_SSPI_KERBEROS_IDENT_H
#define GH_SSPI_KERBEROS_IDENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"

struct krb_pac;

#define KRB_IDENT_TTL_S       300                 /* 5 minutes */
#define KRB_IDENT_MAX_ENTRIES 4096                /* at most; a multiple of 64 */
#define KRB_IDENT_MAX_BYTES   (16u * 1024 * 1024) /* names and PACs together */

struct krb_ident_key {
    uint64_t cred;       /* krb_ident_cred_number() of the acceptor credential */
    uint64_t generation; /* its keytab copy's generation (0 without a copy) */
    uint8_t ticket[32];  /* SHA-256 of the Ticket TLV */
};

/* A new number for an acceptor credential (never 0, never reused). Thread-safe. */
uint64_t krb_ident_cred_number(void);

/* *key_out for ticket (the AP-REQ's Ticket TLV, krb_ap_req_view). SEC_E_OK or
 * SEC_E_INTERNAL_ERROR (no SHA-256). */
SECURITY_STATUS krb_ident_key_make(uint64_t cred, uint64_t generation, struct slice ticket,
                                   struct krb_ident_key *key_out);

/* A live entry for key at now: SEC_E_OK with *client_name_out (a copy: caller
 * frees) and *pac_out (a new reference, NULL when the ticket had no Windows
 * logon information: free with krb_pac_free). SEC_E_INTERNAL_ERROR when there
 * is none (a miss); SEC_E_INSUFFICIENT_MEMORY (counted as a miss). Counts the
 * hit or the miss. Thread-safe. */
SECURITY_STATUS krb_ident_lookup(const struct krb_ident_key *key, time_t now,
                                 char **client_name_out, struct krb_pac **pac_out);

/* Remembers client_name (copied) and pac (a reference is taken; may be NULL)
 * for key until min(ticket_end, now + TTL) (ticket_end 0: the TTL only).
 * Replaces an entry of the same key; evicts the entry of its set that expires
 * first when the set is full or the byte budget would be exceeded. Nothing is
 * kept when ticket_end <= now, when the entry alone is larger than a stripe's
 * byte budget, or out of memory (the cache is only an optimisation).
 * Thread-safe. */
void krb_ident_insert(const struct krb_ident_key *key, const char *client_name, struct krb_pac *pac,
                      time_t ticket_end, time_t now);

/* Drops every entry of credential cred (its handle is being freed). Thread-safe. */
void krb_ident_forget_cred(uint64_t cred);

struct krb_ident_stats {
    uint64_t hits;   /* lookups that found a live entry */
    uint64_t misses; /* lookups that did not (the name path was taken) */
    uint64_t entries;
    uint64_t bytes;
};
/* Counters since the process started (or the last krb_ident_configure). */
void krb_ident_get_stats(struct krb_ident_stats *out);

/* Empties the cache and sets its limits (ttl_s > 0; max_entries a multiple
 * of 64, at most KRB_IDENT_MAX_ENTRIES; max_bytes); resets the counters.
 * For tests: the defaults are the KRB_IDENT_* values. */
void krb_ident_configure(uint32_t ttl_s, size_t max_entries, size_t max_bytes);

#endif
