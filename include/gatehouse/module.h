// SPDX-License-Identifier: MIT
// gatehouse native modules, modelled on IIS 7 native modules.
//
// A module is one const struct gh_module. Built-in modules are listed in
// src/server/module_loader.c; a shared object exports exactly one symbol,
// gh_module_entry (use GH_MODULE_EXPORT), and is loaded with
//     load_module NAME /path/to/module.so;
// The server refuses a module whose abi_version differs from its own.
//
// The pipeline, for every request, in order (IIS's request notifications):
//     on_begin_request, on_authenticate_request, on_authorize_request,
//     on_execute_handler, on_send_response, on_log_request, on_end_request.
// Each notification calls the subscribed hook (non-NULL) of every loaded module,
// in load order (built-ins first), except on_execute_handler, which is called only
// for the location's handler module (the `handler` directive). A hook returns:
//     GH_RQ_CONTINUE  go on with the next module / notification;
//     GH_RQ_FINISH    the response is ready: skip to on_send_response;
//     GH_RQ_PENDING   the module will call gh_request_resume() later (any thread).
// The return value of on_log_request and on_end_request is ignored (they cannot
// pend). When the execute stage ends with no module having set a response, the
// server answers 404.
//
// Configuration: each location (see docs/config.md) has one config object per
// module, made by config_create. Directives the server does not know are offered
// to every module's config_directive in load order: server-level directives
// first (so locations inherit them), then the location's own. The hooks receive
// the matched location's config object.
#ifndef GATEHOUSE_MODULE_H
#define GATEHOUSE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include <gatehouse/error.h>
#include <gatehouse/http.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of struct gh_module or of http.h.
 * 2: struct gh_client_cert and gh_auth_record changed (issues 7 and 8). */
#define GH_MODULE_ABI_VERSION 2u

enum gh_rq_status {
    GH_RQ_CONTINUE = 0, /* RQ_NOTIFICATION_CONTINUE */
    GH_RQ_FINISH = 1,   /* RQ_NOTIFICATION_FINISH_REQUEST */
    GH_RQ_PENDING = 2,  /* RQ_NOTIFICATION_PENDING */
};

typedef enum gh_rq_status gh_hook_fn(gh_request *req, void *config);

/* One configuration directive as written: name arg1 arg2 ...; with its origin. */
struct gh_directive {
    const char *name;
    const char *const *args;
    size_t arg_count;
    const char *file;
    unsigned line;
};

struct gh_module {
    uint32_t abi_version; /* GH_MODULE_ABI_VERSION, always first */
    const char *name;     /* unique; used by `handler NAME;` */
    const char *description;

    /* Process-wide set-up when the module is loaded, and its undo. May be NULL.
     * init returns GH_OK or a failure that refuses the configuration. */
    int (*init)(void);
    void (*fini)(void);

    /* Per-location configuration. May all be NULL (then config is NULL).
     * config_create: GH_OK or GH_ENOMEM.
     * config_directive: GH_OK when the directive was taken, GH_ENOTFOUND when it is
     *   not this module's, or another failure with a reason in err (the server
     *   prefixes file:line).
     * config_check: called once the location is complete; GH_OK or a failure with a
     *   reason in err. */
    int (*config_create)(void **config_out);
    int (*config_directive)(void *config, const struct gh_directive *d, char *err, size_t err_len);
    int (*config_check)(void *config, char *err, size_t err_len);
    void (*config_destroy)(void *config);

    /* Notifications; NULL means "not subscribed". */
    gh_hook_fn *on_begin_request;
    gh_hook_fn *on_authenticate_request;
    gh_hook_fn *on_authorize_request;
    gh_hook_fn *on_execute_handler;
    gh_hook_fn *on_send_response;
    gh_hook_fn *on_log_request;
    gh_hook_fn *on_end_request;
};

/* The one symbol a module shared object exports. Built-in modules are compiled
 * with GH_MODULE_BUILTIN defined, where the macro expands to nothing. */
typedef const struct gh_module *gh_module_entry_fn(void);

#ifdef GH_MODULE_BUILTIN
#define GH_MODULE_EXPORT(m)
#else
#define GH_MODULE_EXPORT(m)                                                               \
    __attribute__((visibility("default"))) const struct gh_module *gh_module_entry(void); \
    const struct gh_module *gh_module_entry(void)                                         \
    {                                                                                     \
        return &(m);                                                                      \
    }
#endif

#ifdef __cplusplus
}
#endif
#endif
