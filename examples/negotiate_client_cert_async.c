// SPDX-License-Identifier: MIT
// The asynchronous form of the seed (NegotiateClientCertificate(TRUE,
// &fCompletionPending)): the hook returns GH_RQ_PENDING while the exchange
// runs, and the pipeline re-enters it when the exchange is over, where the
// second call reports nothing pending and the certificate (or its absence) is
// read. Loaded with:
//     load_module negotiate_client_cert_async /path/to/negotiate_client_cert_async.so;
// Its trace lines start with "negotiate_client_cert_async: ".
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>

#define TRC_MSG(req, ...) \
    gh_request_log(req, GH_LOG_INFO, "negotiate_client_cert_async: " __VA_ARGS__)

static enum gh_rq_status
on_begin_request(gh_request *req, void *config)
{
    (void)config;
    if (gh_request_tls(req) == NULL) {
        TRC_MSG(req, "connection is not using SSL");
        return GH_RQ_CONTINUE;
    }
    bool pending = false;
    int hr = gh_request_negotiate_client_cert(req, true, &pending);
    if (hr < 0) {
        TRC_MSG(req, "NegotiateClientCertificate : HR = %d (%s)", hr, gh_strerror(hr));
        return GH_RQ_CONTINUE;
    }
    if (pending) {
        TRC_MSG(req, "completion pending");
        return GH_RQ_PENDING; /* re-entered when the exchange is over */
    }
    const struct gh_client_cert *cert = NULL;
    bool negotiated = false;
    hr = gh_request_client_cert(req, &cert, &negotiated);
    if (hr == GH_ENOTFOUND) {
        TRC_MSG(req, "Cert not found");
        return GH_RQ_CONTINUE;
    }
    if (hr < 0) {
        TRC_MSG(req, "GetClientCertificate : HR = %d (%s)", hr, gh_strerror(hr));
        return GH_RQ_CONTINUE;
    }
    TRC_MSG(req, "cert size: %zu flags: %u subject: %s issuer: %s chain: %zu", cert->encoded_len,
            cert->flags, cert->subject, cert->issuer, cert->chain_len);
    return GH_RQ_CONTINUE;
}

static const struct gh_module negotiate_client_cert_async = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "negotiate_client_cert_async",
    .description = "the IIS NegotiateClientCertificate example (asynchronous)",
    .on_begin_request = on_begin_request,
};

GH_MODULE_EXPORT(negotiate_client_cert_async)
