// SPDX-License-Identifier: MIT
// The IIS seed's IHttpRequest::NegotiateClientCertificate example
// (CMyHttpModule::OnBeginRequest), line for line against the gatehouse module
// API. Built as a shared object (examples/CMakeLists.txt) and loaded with:
//     load_module negotiate_client_cert /path/to/negotiate_client_cert.so;
//
// Its trace goes to the server's error log (info level), prefixed with the
// peer address and "negotiate_client_cert: ":
//     cnt = 1 URI: https://127.0.0.1:8443/
//     forcing load of client cert
//     cert size: 453 Previously negotiated 1
//     cert crc: 2868313946
// The synchronous NegotiateClientCertificate(FALSE) suspends this hook (it
// runs on its own stack, like every shared-object module's hook) while the
// worker serves other connections: see docs/modules.md.
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>

#define TRC_MSG(req, ...) gh_request_log(req, GH_LOG_INFO, "negotiate_client_cert: " __VA_ARGS__)

/* The seed's genCRC: CRC-32 (IEEE 802.3, as zlib's crc32). */
static unsigned long
gen_crc(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return (unsigned long)~crc;
}

static enum gh_rq_status
on_begin_request(gh_request *req, void *config)
{
    static atomic_long cnt;
    long now = atomic_fetch_add(&cnt, 1) + 1; /* keep track of how many times we are called */
    int hr = GH_EIO;

    (void)config;
    /* Send URL and count to the trace window */
    TRC_MSG(req, "cnt = %ld URI: %s", now, gh_request_full_url(req));

    /* return immediately if not a HTTPS request */
    if (gh_request_tls(req) == NULL) {
        TRC_MSG(req, "connection is not using SSL");
        return GH_RQ_CONTINUE;
    }

    /* change the bForce flag to test behavior of forcing load of client cert */
    bool force = true;
    if (force) {
        TRC_MSG(req, "forcing load of client cert");
        hr = gh_request_negotiate_client_cert(req, false, NULL);
        if (hr < 0) {
            TRC_MSG(req, "NegotiateClientCertificate : HR = %d (%s)", hr, gh_strerror(hr));
            return GH_RQ_CONTINUE;
        }
    } else {
        TRC_MSG(req, "Not forcing load of client cert");
    }

    const struct gh_client_cert *client_cert_info = NULL;
    bool cc_neg = false;
    hr = gh_request_client_cert(req, &client_cert_info, &cc_neg);

    /* If you have not selected "Require Client Certificates" or called
     * NegotiateClientCertificate(), you may get GH_ENOTFOUND */
    if (hr == GH_ENOTFOUND) {
        TRC_MSG(req, "Cert not found");
        return GH_RQ_CONTINUE;
    }
    if (hr < 0) {
        TRC_MSG(req, "GetClientCertificate : HR = %d (%s)", hr, gh_strerror(hr));
        return GH_RQ_CONTINUE;
    }

    if (cc_neg && client_cert_info != NULL) {
        size_t size = client_cert_info->encoded_len;
        TRC_MSG(req, "cert size: %zu Previously negotiated %d", size, cc_neg);
        unsigned long cert_crc = gen_crc(client_cert_info->encoded, client_cert_info->encoded_len);
        TRC_MSG(req, "cert crc: %lu", cert_crc);
    } else {
        TRC_MSG(req, "No client certificate.");
    }

    return GH_RQ_CONTINUE;
}

static const struct gh_module negotiate_client_cert = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "negotiate_client_cert",
    .description = "the IIS NegotiateClientCertificate example (synchronous)",
    .on_begin_request = on_begin_request,
};

GH_MODULE_EXPORT(negotiate_client_cert)
