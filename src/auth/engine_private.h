// SPDX-License-Identifier: MIT
// The engine object, shared by engine.c and config.c only.
#ifndef GH_AUTH_ENGINE_PRIVATE_H
#define GH_AUTH_ENGINE_PRIVATE_H

#include "auth/digest.h"
#include "auth/engine.h"
#include "auth/limiter.h"

struct auth_engine {
    const struct auth_backend *backend; /* borrowed */
    struct log *audit_log;              /* borrowed */
    struct digest_state *digest;
    struct limiter *limiter;
};

#endif
