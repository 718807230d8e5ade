// SPDX-License-Identifier: MIT
// Internals of the `proxy` module shared by its loop side (proxy.c: config,
// request rewriting, the per-worker connection pool) and its backend side
// (proxy_backend.c: blocking socket I/O that runs on the server's blocking-work
// pool). See docs/internals/modules.md for the threading design.
#ifndef GH_MODULES_PROXY_H
#define GH_MODULES_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gatehouse/http.h>
#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "http/h1.h"

#define PROXY_HEAD_BYTES   (16 * 1024) /* backend response head limit: 502 beyond */
#define PROXY_MAX_HEADERS  100         /* backend response header count limit */
#define PROXY_RING_BYTES   (64 * 1024) /* response bytes buffered between the threads */
#define PROXY_UPLOAD_BYTES (64 * 1024) /* request body bytes sent per backend job */

/* One request's exchange with the backend. Shared by the loop thread and a pool
 * thread: the fields under "shared" are guarded by mu; the others belong to
 * whichever side currently runs a job (jobs never overlap: the loop submits the
 * next one only from the previous one's completion). Reference counted: the
 * request's module slot, each submitted job and the response stream each hold
 * one reference. */
struct proxy_exchange {
    atomic_int refs;

    /* Copied from the location's config: a streaming job may outlive the request
     * and, across a reload, the config. */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int connect_timeout_ms;
    int read_timeout_ms;
    unsigned keepalive; /* idle connections kept per worker for this backend */
    char backend[300];  /* host:port as written in proxy_pass, for the error log */

    /* Backend connection state, owned by the side running the job. */
    int fd;         /* -1 until connected */
    bool is_reused; /* came from the keep-alive pool */
    bool can_retry; /* no body: a stale pooled connection may be retried once */
    struct buf out; /* bytes still to send: the head, then body chunks */
    bool is_chunked_up;
    bool has_secret; /* out held delegated credentials: wipe it (loop side) */

    /* proxy_delegated_credentials ntlm: the loop side acquired the credential
     * and made the NEGOTIATE message (ntlm_line: "Authorization: NTLM ...");
     * the first send job runs the handshake on a fresh connection, then puts
     * the AUTHENTICATE line at auth_at in out. Such a connection is
     * authenticated as the delegating user: it never goes back to the pool. */
    bool ntlm_pending;
    bool never_pool;
    size_t auth_at; /* where build_head ended the client's headers */
    bool has_ntlm_cred, has_ntlm_ctx;
    CredHandle ntlm_cred;
    CtxtHandle ntlm_ctx;
    struct buf ntlm_line;
    /* proxy_delegated_credentials kerberos: the first send job gets a service
     * ticket for krb_target with the client's delegated TGT (krb_ccache) and
     * puts "Authorization: Negotiate ..." at auth_at; never pooled either. */
    bool krb_pending;
    char *krb_ccache;  /* owned */
    char *krb_target;  /* owned: "HTTP/backend.example.org" */
    char krb_why[640]; /* the failure's text, which why then points to */
    bool body_done;    /* the whole request body is in out (or was sent) */
    bool job_running;
    int result;      /* of the last job: GH_OK, or 502 / 504 */
    const char *why; /* borrowed static text for the error log */

    /* The parsed response head (slices borrow from head). */
    char head[PROXY_HEAD_BYTES];
    size_t head_len;  /* bytes read into head (may include body bytes) */
    size_t head_used; /* bytes of head that the response head took */
    struct h1_header headers[PROXY_MAX_HEADERS];
    struct h1_response resp;
    bool is_head_request;
    enum h1_body_kind body_kind; /* after HEAD/204/304 adjustment */
    uint64_t body_left;          /* H1_BODY_LENGTH: bytes still expected */
    struct h1_chunked chunked;

    /* Shared between the streaming job and the loop thread's pull. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t ring[PROXY_RING_BYTES];
    size_t ring_off, ring_len;
    bool is_eof;     /* the backend body ended and ring holds the rest */
    bool has_failed; /* the backend failed mid-body: abort the response */
    /* A failure mid-body, for the error log (written by the streaming job
     * before has_failed is set, read by the loop after). */
    uint64_t body_relayed;  /* body bytes received from the backend */
    int64_t body_expected;  /* Content-Length, or -1 (chunked, until close) */
    const char *stream_why; /* static: EOF, reset, timeout...; NULL: the client left */
    bool saw_reset;         /* the last recv failed with ECONNRESET */
    bool has_logged;
    bool is_released;  /* the response stream ended (or never started) */
    bool pull_waiting; /* pull returned GH_AGAIN: wake the request */
    bool is_reusable;  /* the backend connection can go back to the pool */
    int cancel_fd;     /* eventfd, signalled on release: interrupts poll() */
    gh_request *req;   /* borrowed; valid while !is_released (for the wake) */
};

/* Pool thread: connects if needed and sends out; with then_read, also reads the
 * response head. Sets x->result (GH_OK, 502 or 504). */
void proxy_backend_send(struct proxy_exchange *x, bool then_read);
/* Pool thread: relays the response body into the ring until it ends, the
 * backend fails, or the stream is released. */
void proxy_backend_stream(struct proxy_exchange *x);

void proxy_exchange_unref(struct proxy_exchange *x);
/* Releases the exchange's NTLM credential and context (idempotent). */
void proxy_ntlm_free(struct proxy_exchange *x);
/* InitializeSecurityContext with the backend's challenge (NULL: the first
 * leg): on GH_OK, ntlm_line holds "Authorization: NTLM <token>\r\n". */
int proxy_ntlm_leg(struct proxy_exchange *x, struct slice challenge);
/* proxy_delegated_credentials kerberos (blocking: may ask the KDC): the
 * "Authorization: Negotiate <token>\r\n" line for krb_target from krb_ccache,
 * into *line (cleared first). GH_OK, or GH_EAUTH with why[0, why_len) saying
 * what failed, or GH_ENOMEM. */
int proxy_krb_line(const struct proxy_exchange *x, struct buf *line, char *why, size_t why_len);

#endif
