// SPDX-License-Identifier: MIT
// An example module, built as a shared object (examples/CMakeLists.txt) and
// loaded with:
//     load_module echo /path/to/echo_module.so;
//     location /echo { handler echo; echo_banner "hello"; }
//
// It shows the three things most modules do:
//  - on_begin_request: count requests, log the full URL, and on TLS log the
//    size and CRC of the client certificate when the connection has one (it
//    does not ask for one: negotiate_client_cert.c is the seed's module that
//    does);
//  - on_execute_handler: stream the request body in (pending while bytes are
//    in flight), then answer with it, prefixed by a configured banner;
//  - a configuration directive and a per-request context slot.
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>

#define ECHO_MAX_BYTES (1024 * 1024)

struct echo_config {
    char banner[128];
};

struct echo_ctx {
    char *data;
    size_t len;
};

extern const struct gh_module echo_module;

static atomic_long request_count;

static uint32_t
crc32_of(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static enum gh_rq_status
echo_begin(gh_request *req, void *config)
{
    long cnt = atomic_fetch_add(&request_count, 1) + 1;
    const struct gh_client_cert *cert = NULL;
    bool negotiated = false;

    (void)config;
    gh_request_log(req, GH_LOG_INFO, "echo: cnt = %ld URI: %s", cnt, gh_request_full_url(req));
    if (gh_request_tls(req) == NULL)
        return GH_RQ_CONTINUE; /* not TLS: no certificate to ask for */
    int rc = gh_request_client_cert(req, &cert, &negotiated);
    if (rc == GH_ENOTFOUND) {
        gh_request_log(req, GH_LOG_INFO, "echo: cert not found");
        return GH_RQ_CONTINUE;
    }
    if (rc == GH_OK && negotiated && cert != NULL)
        gh_request_log(req, GH_LOG_INFO, "echo: cert size: %zu crc: %lu", cert->encoded_len,
                       (unsigned long)crc32_of(cert->encoded, cert->encoded_len));
    return GH_RQ_CONTINUE;
}

static void
ctx_release(void *p)
{
    struct echo_ctx *ctx = p;

    free(ctx->data);
    free(ctx);
}

static enum gh_rq_status
echo_execute(gh_request *req, void *config)
{
    const struct echo_config *cfg = config;
    struct echo_ctx *ctx = gh_request_module_ctx(req, &echo_module);
    char chunk[8192];
    size_t n;

    if (ctx == NULL) {
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL || gh_request_set_module_ctx(req, &echo_module, ctx, ctx_release) != 0) {
            free(ctx);
            gh_response_text(req, 500, NULL);
            return GH_RQ_FINISH;
        }
    }
    for (;;) {
        int rc = gh_request_body_read(req, chunk, sizeof(chunk), &n);
        if (rc == GH_AGAIN)
            return GH_RQ_PENDING; /* re-entered when more bytes arrive */
        if (rc != GH_OK)
            return GH_RQ_FINISH; /* the server answers for a failed body */
        if (n == 0)
            break;
        if (ctx->len + n > ECHO_MAX_BYTES) {
            gh_response_text(req, 413, NULL);
            return GH_RQ_FINISH;
        }
        char *grown = realloc(ctx->data, ctx->len + n);
        if (grown == NULL) {
            gh_response_text(req, 500, NULL);
            return GH_RQ_FINISH;
        }
        memcpy(grown + ctx->len, chunk, n);
        ctx->data = grown;
        ctx->len += n;
    }
    size_t banner_len = strlen(cfg->banner);
    char *body = gh_request_alloc(req, banner_len + ctx->len + 1);
    if (body == NULL) {
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    memcpy(body, cfg->banner, banner_len);
    if (ctx->len > 0)
        memcpy(body + banner_len, ctx->data, ctx->len);
    gh_response_status(req, 200);
    gh_response_header_set(req, "Content-Type", "application/octet-stream");
    gh_response_header_add(req, "X-Echo-Module", "1");
    gh_response_body(req, body, banner_len + ctx->len);
    return GH_RQ_FINISH;
}

static int
echo_config_create(void **config_out)
{
    struct echo_config *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return GH_ENOMEM;
    *config_out = c;
    return GH_OK;
}

/* `echo_banner TEXT;` The server has checked where the directive is written
 * and that it has exactly one argument (the table's min_args/max_args). */
static int
set_banner(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct echo_config *c = config;

    if (strlen(d->args[0]) >= sizeof(c->banner)) {
        snprintf(err, err_len, "echo_banner takes one argument of at most 127 bytes");
        return GH_EINVAL;
    }
    memcpy(c->banner, d->args[0], strlen(d->args[0]) + 1);
    return GH_OK;
}

/* The module's directives: name, where allowed, argument counts, set function,
 * and the documentation `gatehouse serve --list-directives` prints. */
static const struct gh_command echo_commands[] = {
    {"echo_banner", GH_CONF_MAIN | GH_CONF_LOCATION, 1, 1, set_banner, "TEXT", NULL,
     "prefix of the echoed body"},
    GH_COMMAND_END,
};

const struct gh_module echo_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "echo",
    .description = "example: logs like the IIS seed, echoes the request body",
    .config_create = echo_config_create,
    .commands = echo_commands,
    .config_destroy = free,
    .on_begin_request = echo_begin,
    .on_execute_handler = echo_execute,
};
GH_MODULE_EXPORT(echo_module)
