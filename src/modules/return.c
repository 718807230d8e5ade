// SPDX-License-Identifier: MIT
// return: answers every request of its location with a fixed status and body,
// like nginx's `return` directive:
//     location /health { handler return; return 200 "ok\n"; }
// It is a handler (the execute notification), so authentication and
// authorization modules still run first. bench/vs-nginx uses it to compare the
// server itself with nginx serving the same bytes.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>

#define RETURN_MAX_BODY (64 * 1024)

struct return_config {
    int status; /* 0: no `return` directive here */
    char *body; /* owned; NULL: the reason phrase */
    size_t body_len;
};

static int
return_config_create(void **config_out)
{
    struct return_config *rc = calloc(1, sizeof(*rc));

    *config_out = rc;
    return rc == NULL ? GH_ENOMEM : GH_OK;
}

static void
return_config_destroy(void *config)
{
    struct return_config *rc = config;

    if (rc == NULL)
        return;
    free(rc->body);
    free(rc);
}

static int
parse_status(const char *s, int *status_out)
{
    int v = 0;

    if (strlen(s) != 3)
        return GH_EINVAL;
    for (size_t i = 0; i < 3; i++) {
        if (s[i] < '0' || s[i] > '9')
            return GH_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 200 || v > 599)
        return GH_EINVAL; /* 1xx are not final responses */
    *status_out = v;
    return GH_OK;
}

/* `return STATUS [TEXT];` A later directive (the location's own) replaces an
 * earlier one (the server level's). The table gives GH_CONF_ARGS_ANY: the count
 * is checked here, with a message that says what the arguments are. */
static int
set_return(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct return_config *rc = config;
    int status = 0;
    char *body = NULL;
    size_t len = 0;

    if (d->arg_count < 1 || d->arg_count > 2) {
        snprintf(err, err_len, "return takes a status and an optional text");
        return GH_EINVAL;
    }
    if (parse_status(d->args[0], &status) != GH_OK) {
        snprintf(err, err_len, "return: invalid status '%s' (200..599)", d->args[0]);
        return GH_EINVAL;
    }
    if (d->arg_count == 2) {
        len = strlen(d->args[1]);
        if (len > RETURN_MAX_BODY) {
            snprintf(err, err_len, "return: text longer than %d bytes", RETURN_MAX_BODY);
            return GH_ELIMIT;
        }
        body = malloc(len + 1);
        if (body == NULL)
            return GH_ENOMEM;
        memcpy(body, d->args[1], len + 1);
    }
    free(rc->body);
    rc->status = status;
    rc->body = body;
    rc->body_len = len;
    return GH_OK;
}

static const struct gh_command return_commands[] = {
    {"return", GH_CONF_MAIN | GH_CONF_LOCATION, 0, GH_CONF_ARGS_ANY, set_return, "STATUS [TEXT]",
     NULL, "answer with STATUS (200..599) and TEXT as a text/plain body (with handler return)"},
    GH_COMMAND_END,
};

static enum gh_rq_status
return_execute(gh_request *req, void *config)
{
    const struct return_config *rc = config;

    if (rc == NULL || rc->status == 0)
        return GH_RQ_CONTINUE; /* no directive here: the server answers 404 */
    if (rc->body == NULL) {
        if (gh_response_text(req, rc->status, NULL) != GH_OK)
            gh_response_status(req, 500);
        return GH_RQ_FINISH;
    }
    if (gh_response_status(req, rc->status) != GH_OK ||
        gh_response_header_set(req, "Content-Type", "text/plain") != GH_OK ||
        gh_response_body(req, rc->body, rc->body_len) != GH_OK)
        gh_response_status(req, 500);
    return GH_RQ_FINISH;
}

const struct gh_module return_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "return",
    .description = "fixed status and text (`return 200 \"ok\\n\";`)",
    .config_create = return_config_create,
    .commands = return_commands,
    .config_destroy = return_config_destroy,
    .on_execute_handler = return_execute,
};
GH_MODULE_EXPORT(return_module)
