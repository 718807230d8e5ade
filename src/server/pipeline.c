// SPDX-License-Identifier: MIT
// The request pipeline: IIS's request notifications, in order, through every
// subscribed module (the execute stage only through the location's handler).
//
// The position (stage, hook_pos) lives in the request, so a pending request
// resumes exactly where it stopped: gh_request_resume() applies the status the
// hook would have returned; a hook that pended on body bytes or a client
// certificate is re-entered instead.
#include <stdatomic.h>
#include <stddef.h>

#include <gatehouse/error.h>

#include "server/server.h"

static gh_hook_fn *
hook_of(const struct gh_module *m, int stage)
{
    switch (stage) {
    case NOTIFY_BEGIN:
        return m->on_begin_request;
    case NOTIFY_AUTHENTICATE:
        return m->on_authenticate_request;
    case NOTIFY_AUTHORIZE:
        return m->on_authorize_request;
    case NOTIFY_EXECUTE:
        return m->on_execute_handler;
    case NOTIFY_SEND_RESPONSE:
        return m->on_send_response;
    case NOTIFY_LOG:
        return m->on_log_request;
    default:
        return m->on_end_request;
    }
}

/* Module index of the hook at (stage, pos), or -1 past the stage's end. */
static int
hook_module(const struct gh_request *req, int stage, size_t pos)
{
    const struct config *cfg = req->config;

    if (stage == NOTIFY_EXECUTE)
        return pos == 0 && req->loc->handler >= 0 ? req->loc->handler : -1;
    return pos < cfg->hook_count[stage] ? cfg->hooks[stage][pos] : -1;
}

static void
apply_status(struct gh_request *req, int rs)
{
    if (rs == GH_RQ_FINISH && req->stage < NOTIFY_SEND_RESPONSE) {
        req->stage = NOTIFY_SEND_RESPONSE;
        req->hook_pos = 0;
    } else if (rs == GH_RQ_FINISH) {
        req->hook_pos = SIZE_MAX; /* skip the remaining send-response hooks */
    } else {
        req->hook_pos++;
    }
}

static int
body_error_status(int err)
{
    switch (err) {
    case GH_ELIMIT:
        return 413;
    case GH_ETIMEDOUT:
        return 408;
    default:
        return 400;
    }
}

void
pipeline_run(struct gh_request *req)
{
    struct conn *c = req->conn;
    const struct config *cfg = req->config;

    req->in_pipeline = true;
    if (req->fiber != NULL) {
        /* A hook suspended on its stack (a synchronous gh_* call): continue it. */
        enum gh_rq_status rs;
        if (fiber_resume(req, &rs) == GH_AGAIN || rs == GH_RQ_PENDING) {
            req->is_pending = true;
            req->in_pipeline = false;
            return;
        }
        atomic_store(&req->pend, PEND_NONE);
        apply_status(req, rs);
    }
    while (req->stage <= NOTIFY_SEND_RESPONSE) {
        if (c->state == CONN_CLOSED)
            break;
        if (req->body_error != GH_OK && !req->body_error_answered) {
            /* The body failed under a hook: the server answers for it. */
            if (req->body_error == GH_ECLOSED) {
                conn_abort(c);
                break;
            }
            req->body_error_answered = true;
            req->keep_alive = false;
            req->resp_header_count = 0;
            gh_response_text(req, body_error_status(req->body_error), NULL);
            req->stage = NOTIFY_SEND_RESPONSE;
            req->hook_pos = 0;
        }
        if (req->stage == NOTIFY_AUTHENTICATE && req->hook_pos == 0 && req->cert_loc_state != 2 &&
            req->loc->client_cert_mode != CLIENT_CERT_IGNORE) {
            /* tls_client_certificate: the exchange ends before authentication. */
            enum gh_rq_status crs = client_cert_location(req);
            if (crs == GH_RQ_PENDING) {
                req->is_pending = true;
                break;
            }
            if (crs == GH_RQ_FINISH) {
                apply_status(req, GH_RQ_FINISH);
                continue;
            }
        }
        if (req->stage == NOTIFY_AUTHENTICATE && req->hook_pos == 0 &&
            (req->auth_state != REQ_AUTH_DONE || req->auth_answered)) {
            /* The server authenticates before the modules' hooks see the request. */
            enum gh_rq_status ars = server_auth_run(req);
            if (ars == GH_RQ_PENDING) {
                req->is_pending = true;
                break;
            }
            if (ars == GH_RQ_FINISH) {
                apply_status(req, GH_RQ_FINISH);
                continue;
            }
        }
        if (req->stage == NOTIFY_SEND_RESPONSE && req->hook_pos == 0 && !req->send_prepared) {
            req->send_prepared = true;
            server_auth_before_send(req);
        }
        int idx = req->hook_pos == SIZE_MAX ? -1 : hook_module(req, req->stage, req->hook_pos);
        if (idx < 0) {
            if (req->stage == NOTIFY_EXECUTE && req->status == 0 && req->body_form == BODY_NONE)
                gh_response_text(req, 404, NULL);
            if (req->stage == NOTIFY_SEND_RESPONSE) {
                if (response_head_write(req) != GH_OK)
                    conn_abort(c);
                req->stage = NOTIFY_LOG;
                break;
            }
            req->stage++;
            req->hook_pos = 0;
            continue;
        }
        const struct gh_module *m = cfg->modules[idx].module;
        atomic_store(&req->pend, PEND_ARMED);
        req->wants_body = false;
        gh_hook_fn *hook = hook_of(m, req->stage);
        void *mcfg = req->loc->module_configs[idx];
        enum gh_rq_status rs = GH_RQ_CONTINUE;
        int frc = GH_ESTATE;
        if (cfg->modules[idx].use_fiber && req->stage <= NOTIFY_SEND_RESPONSE)
            frc = fiber_call(req, hook, mcfg, &rs);
        if (frc == GH_AGAIN) {
            req->is_pending = true; /* suspended in a synchronous call */
            break;
        }
        if (frc != GH_OK)
            rs = hook(req, mcfg);
        if (rs == GH_RQ_PENDING) {
            req->is_pending = true;
            break;
        }
        atomic_store(&req->pend, PEND_NONE);
        apply_status(req, rs);
    }
    req->in_pipeline = false;
}

void
pipeline_cert_ready(struct gh_request *req)
{
    /* The exchange ended: continue the suspended hook or re-enter the one that
     * pended (the location's check re-enters the authenticate stage). */
    req->is_pending = false;
    req->wants_cert = false;
    if (req->fiber == NULL)
        atomic_store(&req->pend, PEND_NONE);
    pipeline_run(req);
}

void
pipeline_body_ready(struct gh_request *req)
{
    /* Re-enter the hook that pended on gh_request_body_read. */
    req->is_pending = false;
    req->wants_body = false;
    atomic_store(&req->pend, PEND_NONE);
    pipeline_run(req);
}

static void
resume_run(struct task *t)
{
    struct gh_request *req =
        (struct gh_request *)((char *)t - offsetof(struct gh_request, resume_task));
    struct conn *c = req->conn;

    if (!req->is_pending)
        return; /* a module resumed a request it had not pended: ignored */
    req->is_pending = false;
    req->wants_body = false;
    atomic_store(&req->pend, PEND_NONE);
    if (c->state != CONN_CLOSED) {
        if (!req->resume_reenter)
            apply_status(req, req->resume_status);
        pipeline_run(req);
    }
    conn_run(c);
}

int
gh_request_resume(gh_request *req, int rq_status)
{
    int expected = PEND_ARMED;

    if (rq_status != GH_RQ_CONTINUE && rq_status != GH_RQ_FINISH)
        return GH_EINVAL;
    if (!atomic_compare_exchange_strong(&req->pend, &expected, PEND_RESUMED))
        return GH_ESTATE;
    req->resume_status = rq_status;
    req->resume_reenter = false;
    req->resume_task.run = resume_run;
    worker_post(req->worker, &req->resume_task);
    return GH_OK;
}
