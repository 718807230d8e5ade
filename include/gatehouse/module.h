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
// module, made by config_create. A module declares its directives as data: a
// table of struct gh_command rows (name, where the directive may appear, how
// many arguments it takes, the function that applies it, and its one-line
// documentation), ended by GH_COMMAND_END (nginx's ngx_command_t). The table is
// the only place that knows the module's directives: the server dispatches by
// it, `gatehouse serve --check` validates by it, and `gatehouse serve
// --list-directives` prints it for the documentation test and the
// gatehouse.conf(5) generator. For each location, server-level directives are
// applied first (so locations inherit them), then the location's own. The
// hooks receive the matched location's config object.
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
 * 2: struct gh_client_cert and gh_auth_record changed (issues 7 and 8).
 * 3: config_directive replaced by the directive table `commands` (issue 10). */
#define GH_MODULE_ABI_VERSION 3u

enum gh_rq_status {
    GH_RQ_CONTINUE = 0, /* RQ_NOTIFICATION_CONTINUE */
    GH_RQ_FINISH = 1,   /* RQ_NOTIFICATION_FINISH_REQUEST */
    GH_RQ_PENDING = 2,  /* RQ_NOTIFICATION_PENDING */
};

typedef enum gh_rq_status gh_hook_fn(gh_request *req, void *config);

/* One configuration directive as written: name arg1 arg2 ...; with its origin.
 * Everything is borrowed for the duration of the call it is passed to. */
struct gh_directive {
    const char *name;
    const char *const *args;
    size_t arg_count;
    const char *file;
    unsigned line;
};

/* Where a directive may appear (struct gh_command.contexts, a bit set). */
#define GH_CONF_MAIN     0x1u /* top level of the file: inherited by every location */
#define GH_CONF_LOCATION 0x2u /* inside a location { } block */

/* max_args value: any number of arguments (the set function checks them). */
#define GH_CONF_ARGS_ANY 0xFFFFu

/* One row of a module's directive table.
 *
 * The server checks, before calling set: the directive is written where
 * `contexts` allows ("'NAME' belongs in a location block" / "'NAME' is not
 * allowed in a location" otherwise), without a { } block, and with min_args to
 * max_args arguments ("'NAME' takes N arguments"). set then receives the
 * location's config object (from config_create; NULL when the module has
 * none) and the directive, and returns:
 *   GH_OK        the directive was applied;
 *   GH_ENOMEM    out of memory;
 *   another failure (GH_EINVAL, GH_ELIMIT) with a one-line reason in err
 *                (err_len bytes; name the directive, e.g. "proxy_pass: malformed
 *                URL x"); the server prefixes "file:line: ".
 * A directive written at server level (GH_CONF_MAIN) is applied to the config
 * of every location, before the location's own directives: a later call
 * replaces or adds to an earlier one, as the module documents.
 *
 * The three text fields are documentation, printed by `gatehouse serve
 * --list-directives` (docs/config.md describes that format): keep each on one
 * line, without tabs. */
struct gh_command {
    const char *name;  /* the directive's name; unique across the server */
    uint16_t contexts; /* GH_CONF_MAIN | GH_CONF_LOCATION */
    uint16_t min_args;
    uint16_t max_args; /* or GH_CONF_ARGS_ANY */
    int (*set)(void *config, const struct gh_directive *d, char *err, size_t err_len);
    const char *syntax;        /* arguments as written after the name: "URL", "on|off" */
    const char *default_value; /* as written in the file ("60s"), or NULL: none */
    const char *description;   /* one line */
};

/* Ends a directive table. */
#define GH_COMMAND_END                        \
    {                                         \
        NULL, 0, 0, 0, NULL, NULL, NULL, NULL \
    }

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
     * commands: the module's directives, ended by GH_COMMAND_END (see struct
     *   gh_command), or NULL when it has none. Static storage: the server reads
     *   it for as long as the module is loaded.
     * config_check: called once the location is complete; GH_OK or a failure with a
     *   reason in err. */
    int (*config_create)(void **config_out);
    const struct gh_command *commands;
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
