// SPDX-License-Identifier: MIT
// The NTLM security package (MS-NLMP), both sides: `ntlm_package` for the
// registry, plus the helpers the Negotiate package (MS-SPNG) and tests need.
//
// A package context is what init_ctx/accept_ctx store in *pkg_ctx; the
// ntlm_ctx_* helpers below take that pointer. None of them is thread-safe on
// one context (sspi.c refuses concurrent use of a context).
#ifndef GH_SSPI_NTLM_NTLM_H
#define GH_SSPI_NTLM_NTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/slice.h"
#include "sspi/package.h"

extern const struct sspi_package ntlm_package;

/* ---- Acceptor seam: where NT hashes come from -------------------------------
 * Copies the NT hash (MD4 of the UTF-16LE password) of user into hash_out.
 * user and domain are UTF-8 as the client sent them (domain may be ""). Returns
 * GH_OK or GH_ENOTFOUND (or another gh_err); any failure becomes
 * SEC_E_LOGON_DENIED, indistinguishable from a wrong password. May write the
 * canonical account name (NUL-terminated, at most canon_len bytes) to canon_out.
 * Called from the thread running AcceptSecurityContext; must be thread-safe
 * when one credential serves several threads. The built-in user store is one
 * such lookup (the local back end, backend.h); winbind is another back end. */
typedef int ntlm_nt_hash_lookup_fn(void *arg, const char *user, const char *domain,
                                   uint8_t hash_out[16], char *canon_out, size_t canon_len);

/* Creates an inbound NTLM credential that verifies through lookup(arg) instead
 * of a user store. cfg may be NULL (defaults: NbDomainName "GATEHOUSE", the
 * host name). Free with ntlm_package.free_cred. SEC_E_OK or
 * SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS ntlm_cred_create_acceptor(const GH_ACCEPTOR_AUTH_DATA *cfg,
                                          ntlm_nt_hash_lookup_fn *lookup, void *arg,
                                          void **pkg_cred_out);

/* Creates an inbound NTLM credential whose responses are checked by backend
 * (backend.h) with state, which the credential owns from this call on (freed
 * with backend->destroy, also when this fails). For tests and the winbind
 * back end. SEC_E_OK or SEC_E_INSUFFICIENT_MEMORY / SEC_E_INVALID_PARAMETER. */
struct ntlm_backend;
SECURITY_STATUS ntlm_cred_create_acceptor_backend(const GH_ACCEPTOR_AUTH_DATA *cfg,
                                                  const struct ntlm_backend *backend, void *state,
                                                  void **pkg_cred_out);

/* ---- Helpers for Negotiate (MS-SPNG) ---------------------------------------- */
/* True once the context is complete. */
bool ntlm_ctx_is_complete(const void *pkg_ctx);
/* True when the AUTHENTICATE_MESSAGE carried a MIC (MsvAvFlags bit 0x2): SPNEGO
 * must then require a mechListMIC (MS-SPNG 3.3.5.1). */
bool ntlm_ctx_has_mic(const void *pkg_ctx);
/* The ExportedSessionKey (16 bytes) of a complete context. SEC_E_OK or
 * SEC_E_NO_CONTEXT / SEC_E_INVALID_HANDLE. */
SECURITY_STATUS ntlm_ctx_session_key(const void *pkg_ctx, uint8_t key_out[16]);
/* Signs data with the given direction's keys (SEND: what this side would send,
 * RECV: what the peer would send), advancing that direction's state. */
SECURITY_STATUS ntlm_ctx_sign(void *pkg_ctx, int dir, struct slice data, uint8_t sig_out[16]);
/* Verifies a signature for direction dir (normally RECV). SEC_E_OK,
 * SEC_E_MESSAGE_ALTERED or SEC_E_OUT_OF_SEQUENCE. */
SECURITY_STATUS ntlm_ctx_verify(void *pkg_ctx, int dir, struct slice data, const uint8_t sig[16]);
/* Puts both RC4 handles back to their post-handshake state (MS-SPNG 3.3.5.1:
 * the mechListMIC must not consume the key stream of the first message);
 * reset_seq also rewinds the sequence numbers. */
SECURITY_STATUS ntlm_ctx_reset_rc4(void *pkg_ctx, bool reset_seq);

/* ---- Test seams ---------------------------------------------------------------
 * Fix what a handshake would otherwise draw at random or read from the clock:
 * the next acceptor challenge / client challenge / exported session key /
 * timestamp of this context. For the spec's vectors only; NULL-safe. */
struct ntlm_fixed_inputs {
    bool has_server_challenge;
    uint8_t server_challenge[8];
    bool has_client_challenge;
    uint8_t client_challenge[8];
    bool has_session_key;
    uint8_t session_key[16];
    bool has_time;
    uint64_t filetime;
};
void ntlm_ctx_set_fixed_inputs(void *pkg_ctx, const struct ntlm_fixed_inputs *inputs);

#endif
