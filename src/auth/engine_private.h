// SPDX-License-Identifier: MIT
// The engine object, shared by engine.c and config.c only.
#ifndef GH_AUTH_ENGINE_PRIVATE_H
#define GH_AUTH_ENGINE_PRIVATE_H

#include "auth/digest.h"
#include "auth/engine.h"
#include "auth/limiter.h"
#include "auth/reason.h"

struct auth_engine {
    const struct auth_backend *backend; /* borrowed */
    struct log *audit_log;              /* borrowed */
    struct digest_state *digest;
    struct limiter *limiter;
    struct auth_reason_log reason_log; /* error-log lines per reason, rate-limited */
};

/* The client certificate scheme (cert_auth.c), run first when cfg offers it and
 * req carries a certificate. Sets out->cert_outcome. Mapped: the record, the
 * status (0, or 403 from auth_require) and an audit line. Otherwise out is left
 * for the other schemes and *fail_out holds the SECURITY_STATUS the record
 * gets if none of them authenticates (SEC_E_LOGON_DENIED: a deny rule;
 * SEC_E_UNKNOWN_CREDENTIALS: no rule matched; SEC_E_CERT_UNKNOWN: does not
 * parse). The audit line is skipped when conn already audited the same
 * certificate, config and outcome (a refusal by auth_require always gets one).
 * GH_OK or GH_ENOMEM. */
int cert_auth_run(const struct auth_config *cfg, struct auth_conn *conn,
                  const struct auth_request_view *req, time_t now, struct auth_decision *out,
                  SECURITY_STATUS *fail_out);

#endif
