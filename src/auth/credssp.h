// SPDX-License-Identifier: MIT
// The CredSSP scheme of the auth engine (WS-Management's `Authorization:
// CredSSP <base64 TLS records>`): its directive, its credential (the CREDSSP
// package with the inner TLS certificate) and the delegated credentials it
// hands to the request's record. The handshake itself is the generic SSPI one
// (handshake.c). See docs/auth.md and docs/internals/credssp.md.
#ifndef GH_AUTH_CREDSSP_H
#define GH_AUTH_CREDSSP_H

#include <stddef.h>

#include <gatehouse/sspi.h>

#include "base/secret.h"

struct auth_config;

/* The password credentials a CredSSP client delegated (UTF-8); empty strings
 * when the client delegated an empty set. */
struct auth_credssp_deleg {
    bool present;
    char *user;
    char *domain;
    struct secret password; /* wiped on free */
};

/* auth_credssp_certificate FILE [KEYFILE]. GH_OK or GH_EINVAL / GH_ENOMEM. */
int auth_credssp_directive(struct auth_config *cfg, const char *const *args, size_t n, char *err,
                           size_t err_len);

/* Acquires cfg->creds[AUTH_SCHEME_CREDSSP] (inbound CREDSSP with the
 * certificate, the NTLM/Kerberos acceptor data, delegation refused unless
 * auth_delegation is on). GH_OK, GH_EINVAL (no certificate configured, or the
 * package refused: err says why). */
int auth_credssp_acquire(struct auth_config *cfg, const GH_ACCEPTOR_AUTH_DATA *data, char *err,
                         size_t err_len);

/* Copies the delegated credentials of a complete CredSSP context into *out.
 * GH_OK (out->present false when there were none), GH_ENOMEM. */
int auth_credssp_take_delegated(const SecurityFunctionTableA *sspi, CtxtHandle *ctx,
                                struct auth_credssp_deleg *out);
void auth_credssp_deleg_free(struct auth_credssp_deleg *d);

#endif
