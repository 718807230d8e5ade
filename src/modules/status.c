// SPDX-License-Identifier: MIT
// status: the server's counters in the Prometheus text exposition format
// (version 0.0.4), like nginx's stub_status:
//     location /metrics { handler status; }
// It is a handler, so a location can put authentication and authorization in
// front of it. The counters live in the server (src/server/metrics.h: one
// copy per worker loop, summed here); this built-in module reads them through
// metrics_render_request, the one server internal it uses.
#include <stdio.h>
#include <string.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>

#include "base/buf.h"
#include "server/metrics.h"

#define STATUS_MAX_BYTES (1024 * 1024)

static enum gh_rq_status
status_execute(gh_request *req, void *config)
{
    struct buf out;
    int err;

    (void)config;
    buf_init(&out, STATUS_MAX_BYTES);
    err = metrics_render_request(req, &out);
    if (err != GH_OK) {
        buf_free(&out);
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    gh_response_status(req, 200);
    err = gh_response_header_set(req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    if (err == GH_OK)
        err = gh_response_header_set(req, "Cache-Control", "no-store");
    if (err == GH_OK)
        err = gh_response_body(req, out.data, out.len);
    buf_free(&out);
    if (err != GH_OK)
        gh_response_text(req, 500, NULL);
    return GH_RQ_FINISH;
}

const struct gh_module status_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "status",
    .description = "server counters in Prometheus text format",
    .on_execute_handler = status_execute,
};
GH_MODULE_EXPORT(status_module)
