// SPDX-License-Identifier: MIT
// gatehouse HTTP server API: the request and response a module sees, the
// authentication record the transport fills in, and the embedding entry points.
//
// Threading: every gh_request function must be called on the request's own loop
// thread (that is, from a notification hook or a completion running there),
// except the few marked "any thread". A pending request is resumed with
// gh_request_resume(), which is safe from any thread.
//
// Strings returned by the request API are NUL-terminated, borrowed, and valid
// until the request ends (after on_end_request) unless said otherwise.
#ifndef GATEHOUSE_HTTP_H
#define GATEHOUSE_HTTP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <gatehouse/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gh_request gh_request; /* one HTTP request, from head to logged */
typedef struct gh_server gh_server;   /* an embedded server instance */
typedef struct gh_token gh_token;     /* a client identity handle (issue 4) */
struct gh_module;

/* A borrowed byte string; not necessarily NUL-terminated. */
struct gh_str {
    const char *ptr;
    size_t len;
};

/* ---------------------------------------------------------------------------
 * The authentication record (the seed's HTTP_REQUEST_AUTH_INFO). The server's
 * auth engine fills it before on_authenticate_request ends; until then, and on
 * locations without authentication, status is GH_AUTH_NOT_AUTHENTICATED and every
 * other field is zero / NULL. All pointers are borrowed and valid for the request.
 * ------------------------------------------------------------------------- */
enum gh_auth_status {
    GH_AUTH_NOT_AUTHENTICATED = 0, /* HttpAuthStatusNotAuthenticated */
    GH_AUTH_SUCCESS = 1,           /* HttpAuthStatusSuccess */
    GH_AUTH_FAILURE = 2,           /* HttpAuthStatusFailure: see sec_status */
};

enum gh_auth_type {
    GH_AUTH_TYPE_NONE = 0,
    GH_AUTH_TYPE_BASIC = 1,
    GH_AUTH_TYPE_DIGEST = 2,
    GH_AUTH_TYPE_NTLM = 3,
    GH_AUTH_TYPE_NEGOTIATE = 4,
    GH_AUTH_TYPE_KERBEROS = 5,
    GH_AUTH_TYPE_CREDSSP = 6,
    GH_AUTH_TYPE_CLIENT_CERT = 7,
};

/* HTTP_REQUEST_AUTH_FLAG_TOKEN_FOR_CACHED_CRED: the token comes from the NTLM
 * context cached on this keep-alive connection, not from a fresh handshake. */
#define GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED 0x1u

struct gh_auth_record {
    enum gh_auth_status status;
    int32_t sec_status; /* SECURITY_STATUS on GH_AUTH_FAILURE, else 0 (SEC_E_OK) */
    uint32_t flags;     /* GH_AUTH_FLAG_* */
    enum gh_auth_type type;
    /* The client's identity, valid for the request's lifetime; an application
     * that keeps it duplicates it (API added with issue 4). NULL unless success. */
    gh_token *access_token;
    uint32_t context_attributes; /* ASC_RET_* of the accepted context */
    /* A serialized context the application may import and query
     * (ImportSecurityContext, then SECPKG_ATTR_LIFESPAN...): the request's
     * completed Negotiate/Kerberos/NTLM context (also on later requests of an
     * NTLM keep-alive connection) with auth_packed_context on, computed by the
     * first gh_request_auth() of the request; empty otherwise. */
    uint32_t packed_context_type;
    const void *packed_context;
    size_t packed_context_len;
    /* The final WWW-Authenticate value ("Negotiate <b64>"), when the location asks
     * to receive it instead of the server adding it to the response. */
    const char *mutual_auth_data;
    size_t mutual_auth_data_len;
    const char *package_name; /* "NTLM", "Kerberos", "Negotiate", ... */
    /* What users want at hand. */
    const char *user_name; /* "alice" */
    const char *domain;    /* NetBIOS domain or Kerberos realm */
    const char *principal; /* "alice@EXAMPLE.ORG" */
    const char *const *groups;
    size_t group_count;
    const char *delegated_ccache; /* "FILE:/run/gh/cc_..." when delegation was granted */
    /* CredSSP with `auth_delegation on`: the password credentials the client
     * delegated (UTF-8, NUL-terminated; "" each for an empty set), valid for
     * the request's lifetime and wiped when it ends: use them, e.g. to acquire
     * NTLM or Kerberos credentials toward a backend, never log them. NULL
     * otherwise. */
    const char *delegated_user;
    const char *delegated_domain;
    const char *delegated_password;
    size_t delegated_password_len;
    /* The Windows identity, when the domain controller vouched for the account
     * (a Kerberos ticket's PAC; an NTLM logon checked by the DC), else NULL:
     * the user's SID ("S-1-5-21-...-1103"), each group's SID (group_sids[i]
     * is the SID of groups[i], NULL for a group without one; group_sids is
     * NULL when no group has one), and the account's NetBIOS ("CORP") and
     * DNS ("CORP.TEST") domains. `auth_require group` matches a SID, and
     * "Group@corp.test" through these domains. (Added with issue 9.) */
    const char *user_sid;
    const char *const *group_sids;
    const char *logon_domain;
    const char *dns_domain;
};

/* The request's auth record, valid until the request ends. Never NULL.
 * With auth_packed_context on, the first call for a request exports the
 * security context into packed_context (ExportSecurityContext: about 7% of
 * a Kerberos handshake's server instructions), so a request nobody asks about
 * never pays for it; later calls return the same record. */
GH_API const struct gh_auth_record *gh_request_auth(const gh_request *req);
/* The same record without the packed context, for modules that never read
 * packed_context (proxies, access control on names and groups): it does not
 * export the security context, so packed_context, packed_context_len and
 * packed_context_type must not be read through it (they are filled only if
 * gh_request_auth() ran first). Every other field is as gh_request_auth()
 * gives it. Never NULL. */
GH_API const struct gh_auth_record *gh_request_auth_identity(const gh_request *req);

/* ---------------------------------------------------------------------------
 * TLS details (the seed's pSslInfo): NULL on plain HTTP.
 * ------------------------------------------------------------------------- */
struct gh_tls_info {
    const char *protocol;    /* "TLSv1.2", "TLSv1.3" */
    const char *cipher;      /* OpenSSL cipher name */
    int cipher_bits;         /* secret bits of the cipher */
    const char *server_name; /* SNI host name sent by the client, or NULL */
    const char *alpn;        /* negotiated protocol ("http/1.1"), or NULL */
    bool session_reused;     /* resumed from a ticket */
};

GH_API const struct gh_tls_info *gh_request_tls(const gh_request *req);

/* A client certificate (the seed's HTTP_SSL_CLIENT_CERT_INFO). Owned by the
 * connection: every pointer is borrowed and valid until the connection ends or
 * a later exchange replaces the certificate (never during a request).
 *
 * flags (CertFlags) is 0 when the chain verified against the trust configured
 * for the connection (tls_client_ca, tls_client_crl, tls_client_verify_depth),
 * else the X509_V_ERR_* code of the first failure OpenSSL reported, e.g.
 * X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (20, untrusted issuer),
 * X509_V_ERR_CERT_REVOKED (23), X509_V_ERR_CERT_HAS_EXPIRED (10),
 * X509_V_ERR_CERT_CHAIN_TOO_LONG (22). A certificate with a non-zero flags value
 * reaches the application only under `tls_client_verify optional_no_ca;`
 * ("accept untrusted, let the application decide"); otherwise the exchange fails
 * and no certificate is recorded. */
struct gh_client_cert {
    uint32_t flags;         /* CertFlags: see above */
    const uint8_t *encoded; /* DER of the leaf (pCertEncoded / CertEncodedSize) */
    size_t encoded_len;
    const char *subject; /* RFC 2253 text */
    const char *issuer;  /* RFC 2253 text */
    /* DER of the other certificates the client sent, leaf excluded, in the
     * order sent (for RFC 9440 Client-Cert-Chain); chain_len entries. */
    const struct gh_str *chain;
    size_t chain_len;
    /* Token: the mapped identity, NULL when not mapped (borrowed; duplicate it
     * with gh_token_dup to keep it). */
    gh_token *token;
    bool denied_by_mapper; /* CertDeniedByMapper: a mapping rule refused it */
};

/* Asks the client for a certificate on this TLS connection (TLS 1.2
 * server-initiated secure renegotiation / TLS 1.3 post-handshake
 * authentication), like IIS's NegotiateClientCertificate. It may be called from
 * any hook that can pend (on_begin_request .. on_send_response), with or
 * without a `tls_client_certificate` mode on the location.
 *
 * async = true: starts the exchange and returns GH_OK with *pending_out = true;
 *   the hook must then return GH_RQ_PENDING, and the pipeline re-enters the same
 *   hook once the exchange is over (a certificate, none, or a failure): the hook
 *   then calls gh_request_client_cert() to see the outcome (calling this
 *   function again then returns GH_OK with *pending_out = false at once).
 *   GH_OK with *pending_out = false: nothing to wait for (a certificate was
 *   already exchanged on this connection, or asked for in the handshake).
 * async = false: returns only when the exchange is over, *pending_out = false
 *   (pending_out may be NULL, like the seed's defaulted pfCompletionPending).
 *   The worker's event loop is never blocked: the hook runs on its own stack
 *   (hooks of shared-object modules always do, see docs/internals/client_cert.md)
 *   and is suspended while the loop serves other connections. Where the hook
 *   cannot be suspended (a built-in module's hook on the loop stack) the call
 *   returns GH_EBUSY without doing anything: use async there.
 *
 * Returns GH_OK; GH_EUNSUPPORTED on plain HTTP; GH_EINVAL (async with
 * pending_out NULL); GH_ECLOSED (the connection closed while waiting); GH_ESTATE when this client
 * cannot be asked (TLS 1.3 without the post_handshake_auth extension, a TLS 1.2
 * client without RFC 5746 secure renegotiation) or when called outside a hook;
 * GH_EBUSY (see above); GH_ETLS when the exchange could not be started.
 * A failed or timed-out exchange closes the connection after the request (its
 * response is still produced); gh_request_client_cert then says GH_ENOTFOUND. */
GH_API int gh_request_negotiate_client_cert(gh_request *req, bool async, bool *pending_out);

/* Stores the client certificate in *cert_out (borrowed, see struct
 * gh_client_cert) and in *negotiated_out whether a certificate exchange took
 * place on this connection (in the handshake or on demand). Returns GH_OK with
 * the certificate; GH_ENOTFOUND when the client presented none, none was asked
 * for, or the exchange failed (*cert_out NULL; the seed's ERROR_NOT_FOUND);
 * GH_EUNSUPPORTED on plain HTTP (*cert_out NULL); GH_ENOMEM or GH_ETLS when
 * the record, made on the first call after an exchange, cannot be made
 * (*cert_out NULL; a later call tries again). */
GH_API int gh_request_client_cert(gh_request *req, const struct gh_client_cert **cert_out,
                                  bool *negotiated_out);

/* ---------------------------------------------------------------------------
 * The request.
 * ------------------------------------------------------------------------- */
GH_API const char *gh_request_method(const gh_request *req); /* "GET" */
/* The reconstructed absolute URL, like CookedUrl.pFullUrl:
 * "https://host:port/path?query" (host from Host, else the local address). */
GH_API const char *gh_request_full_url(const gh_request *req);
GH_API const char *gh_request_target(const gh_request *req); /* as sent */
GH_API const char *gh_request_path(const gh_request *req);   /* percent-encoded */
GH_API const char *gh_request_query(const gh_request *req);  /* "" when none */
GH_API const char *gh_request_host(const gh_request *req);   /* Host, "" when none */
GH_API int gh_request_minor_version(const gh_request *req);  /* 0 or 1 */
GH_API bool gh_request_is_head(const gh_request *req);
/* The location prefix that matched ("/" by default). */
GH_API const char *gh_request_location(const gh_request *req);

/* First header named name (case-insensitive): GH_OK and *value_out, or GH_ENOTFOUND. */
GH_API int gh_request_header(const gh_request *req, const char *name, struct gh_str *value_out);
GH_API size_t gh_request_header_count(const gh_request *req);
/* The i-th header in received order; GH_OK or GH_EINVAL when i is out of range. */
GH_API int gh_request_header_at(const gh_request *req, size_t i, struct gh_str *name_out,
                                struct gh_str *value_out);

/* Socket addresses of the connection; *len_out receives their length. */
GH_API const struct sockaddr *gh_request_peer_addr(const gh_request *req, socklen_t *len_out);
GH_API const struct sockaddr *gh_request_local_addr(const gh_request *req, socklen_t *len_out);
/* "127.0.0.1:50432" / "[::1]:8443"; valid for the request. */
GH_API const char *gh_request_peer_text(const gh_request *req);

/* Request body, streamed. gh_request_body_length gives the declared length, or
 * -1 for chunked bodies (0 when the request has no body).
 * gh_request_body_read copies up to cap bytes:
 *   GH_OK with *len_out > 0   data;
 *   GH_OK with *len_out == 0  the body is complete;
 *   GH_AGAIN                  no bytes buffered yet: return GH_RQ_PENDING from the
 *                             hook; the pipeline re-enters the same hook when more
 *                             bytes (or the end) arrive;
 *   GH_ECLOSED / GH_EPROTO / GH_ELIMIT  the body failed (client gone, bad chunking,
 *                             too large); the server answers and closes by itself.
 * The first read sends "100 Continue" when the client asked for it. */
GH_API int64_t gh_request_body_length(const gh_request *req);
GH_API int gh_request_body_read(gh_request *req, void *buf, size_t cap, size_t *len_out);

/* Memory from the request's arena, zeroed, freed when the request ends; NULL on OOM. */
GH_API void *gh_request_alloc(gh_request *req, size_t size);

/* Per-request and per-connection context slots, one per module. The release
 * function (may be NULL) runs when the request, respectively the connection, ends,
 * or when the slot is set again. GH_OK or GH_ENOMEM. */
GH_API void *gh_request_module_ctx(const gh_request *req, const struct gh_module *module);
GH_API int gh_request_set_module_ctx(gh_request *req, const struct gh_module *module, void *ctx,
                                     void (*release)(void *ctx));
GH_API void *gh_conn_module_ctx(const gh_request *req, const struct gh_module *module);
GH_API int gh_conn_set_module_ctx(gh_request *req, const struct gh_module *module, void *ctx,
                                  void (*release)(void *ctx));

/* Resumes a request whose hook returned GH_RQ_PENDING, with the status the hook
 * would have returned: GH_RQ_CONTINUE (next module / next notification) or
 * GH_RQ_FINISH (send the response). Any thread; exactly once per pending.
 * Returns GH_OK, or GH_ESTATE when the request is not pending. If the client went
 * away meanwhile, the request is still resumed (its response is discarded). */
GH_API int gh_request_resume(gh_request *req, int rq_status);

/* Runs work(arg) on the server's blocking-work pool (directory lookups, KDC
 * calls), then done(req, arg) back on the request's loop thread. Call it from a
 * hook, then return GH_RQ_PENDING; done normally ends with gh_request_resume().
 * GH_OK, GH_ENOMEM or GH_EBUSY (pool queue full). */
GH_API int gh_request_run_blocking(gh_request *req, void (*work)(void *arg),
                                   void (*done)(gh_request *req, void *arg), void *arg);

/* Writes to the server's error log, prefixed with the peer address. */
enum gh_log_level {
    GH_LOG_ERROR = 0,
    GH_LOG_WARN = 1,
    GH_LOG_INFO = 2,
    GH_LOG_DEBUG = 3,
};
GH_API void gh_request_log(const gh_request *req, enum gh_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------------------
 * The response. Headers may be changed until the response head is sent (after
 * on_send_response). Date, Content-Length / Transfer-Encoding and Connection are
 * the server's: setting them is refused with GH_EINVAL.
 * ------------------------------------------------------------------------- */
GH_API int gh_response_status(gh_request *req, int status);
GH_API int gh_response_get_status(const gh_request *req);
/* Adds a header line (repeatable: WWW-Authenticate, Set-Cookie). GH_OK, GH_EINVAL
 * (CR/LF/NUL or a server-owned name), GH_ELIMIT, GH_ENOMEM, GH_ESTATE (head sent). */
GH_API int gh_response_header_add(gh_request *req, const char *name, const char *value);
/* Removes every header of that name, then adds this one. */
GH_API int gh_response_header_set(gh_request *req, const char *name, const char *value);

/* The body: at most one of the three forms, each replacing any earlier one.
 * From a buffer (copied): GH_OK, GH_ELIMIT, GH_ENOMEM. */
GH_API int gh_response_body(gh_request *req, const void *data, size_t len);
/* From a file: sends len bytes of fd from offset (sendfile on plain HTTP); takes
 * ownership of fd in every case (closed when the request ends). */
GH_API int gh_response_file(gh_request *req, int fd, off_t offset, uint64_t len);
/* From a stream: pull(arg, buf, cap, &len) is called on the loop thread when the
 * socket can take more. It returns GH_OK with len > 0 (data), GH_OK with len == 0
 * (end of body), GH_AGAIN (nothing yet: call gh_response_stream_wake() from any
 * thread when there is), or < 0 (abort: the connection is closed). release(arg)
 * runs once at the end. Length-delimited when content_length >= 0, else chunked
 * (or close-delimited for HTTP/1.0). */
typedef int gh_body_pull_fn(void *arg, void *buf, size_t cap, size_t *len_out);
GH_API int gh_response_stream(gh_request *req, int64_t content_length, gh_body_pull_fn *pull,
                              void (*release)(void *arg), void *arg);
GH_API int gh_response_stream_wake(gh_request *req); /* any thread */

/* A complete small response: status, Content-Type text/plain, the text as body. */
GH_API int gh_response_text(gh_request *req, int status, const char *text);

/* A small JSON writer into the response body (Content-Type application/json).
 * Every string is escaped. Errors stick and are reported by gh_json_end. */
struct gh_json;
GH_API struct gh_json *gh_response_json(gh_request *req, int status);
GH_API void gh_json_object_begin(struct gh_json *j, const char *key); /* key NULL in arrays */
GH_API void gh_json_object_end(struct gh_json *j);
GH_API void gh_json_array_begin(struct gh_json *j, const char *key);
GH_API void gh_json_array_end(struct gh_json *j);
GH_API void gh_json_str(struct gh_json *j, const char *key, const char *value); /* NULL: null */
GH_API void gh_json_strn(struct gh_json *j, const char *key, const char *value, size_t len);
GH_API void gh_json_int(struct gh_json *j, const char *key, int64_t value);
GH_API void gh_json_bool(struct gh_json *j, const char *key, bool value);
/* Closes the top-level object and sets the body. GH_OK, GH_ENOMEM, GH_ELIMIT. */
GH_API int gh_json_end(struct gh_json *j);

/* ---------------------------------------------------------------------------
 * Embedding: run a server from a configuration file.
 * ------------------------------------------------------------------------- */
/* Loads and checks config_path, loads modules, binds listeners. On failure writes
 * "file:line: reason" (or another message naming the object) into err. */
GH_API int gh_server_create(const char *config_path, gh_server **server_out, char *err,
                            size_t err_len);
/* Runs the worker loops until gh_server_stop(); handles no signals itself. */
GH_API int gh_server_run(gh_server *server);
/* Asks the server to stop accepting and to finish in-flight requests within the
 * configured grace time. Any thread, async-signal-safe. */
GH_API void gh_server_stop(gh_server *server);
/* Re-reads the configuration; on error keeps the old one and logs why. Any thread,
 * async-signal-safe (the work is done by the server's main loop). */
GH_API void gh_server_reload(gh_server *server);
/* Reopens the log files (error, access, audit) by name, e.g. after logrotate
 * moved them; a file that cannot be opened keeps its old one and the error
 * log says why. Any thread, async-signal-safe (done by the main loop). */
GH_API void gh_server_reopen_logs(gh_server *server);
GH_API void gh_server_destroy(gh_server *server); /* NULL-safe */

#ifdef __cplusplus
}
#endif
#endif
