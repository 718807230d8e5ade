// SPDX-License-Identifier: MIT
// gatehouse fetch: an HTTP/1.1 client that authenticates through the security
// library (docs/fetch.md). Internal interfaces shared by the fetch_*.c files:
//   fetch.c            options, the request/response flow, output, exit codes
//   fetch_url.c        URL parsing
//   fetch_conn.c       TCP and TLS connection (OpenSSL), timeouts, channel bindings
//   fetch_http.c       writing requests, reading responses (h1 codec)
//   fetch_challenge.c  WWW-Authenticate parsing (RFC 9110 11.6.1)
//   fetch_auth.c       choosing a scheme, the InitializeSecurityContext loop
//   fetch_digest.c     Digest client computation (RFC 7616), Basic (RFC 7617)
#ifndef GH_CLI_FETCH_H
#define GH_CLI_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/slice.h"
#include "http/h1.h"

/* Exit statuses of `gatehouse fetch`. */
enum fetch_exit {
    FETCH_EXIT_OK = 0,    /* 2xx (or any status below 400 that is not an auth failure) */
    FETCH_EXIT_HTTP = 1,  /* HTTP status >= 400 after authentication */
    FETCH_EXIT_USAGE = 2, /* bad command line */
    FETCH_EXIT_NET = 3,   /* network, TLS, or malformed/oversized response */
    FETCH_EXIT_AUTH = 4,  /* authentication failed (SSPI error, 401 after the last leg,
                             mutual authentication not verified) */
    FETCH_EXIT_FILE = 5,  /* local file error (-o, --data-file, --cacert) */
};

/* ---- fetch_url.c ---------------------------------------------------------- */
struct fetch_url {
    bool is_https;
    char *host;      /* owned; without brackets for IPv6 literals; lowercased */
    uint16_t port;   /* explicit or the scheme's default */
    char *authority; /* owned; Host header value: host, "[v6]", plus ":port" when explicit */
    char *target;    /* owned; origin-form request-target ("/" when the URL has no path) */
};

/* Parses "http[s]://host[:port][/path][?query]" (RFC 3986 3; no userinfo, no
 * fragment kept). GH_OK, GH_EINVAL (with a static reason in *why_out) or
 * GH_ENOMEM. Free with fetch_url_free. */
int fetch_url_parse(const char *text, struct fetch_url *out, const char **why_out);
void fetch_url_free(struct fetch_url *u);

/* ---- fetch_conn.c ---------------------------------------------------------- */
struct fetch_tls_opts {
    const char *cacert; /* PEM file of trusted CAs; NULL: the system store */
    bool insecure;      /* no certificate or host name verification */
    /* borrowed: made by fetch_tls_ctx_create from these options and shared by
     * the connections (bench); NULL: each connection makes its own */
    struct ssl_ctx_st *shared_ctx;
};

/* A client SSL_CTX for tls (TLS 1.2+, the CAs loaded unless insecure): GH_OK
 * with *ctx_out (free with SSL_CTX_free), GH_ETLS (CA file unreadable: the
 * reason in err) or GH_ENOMEM. */
int fetch_tls_ctx_create(const struct fetch_tls_opts *tls, struct ssl_ctx_st **ctx_out, char *err,
                         size_t err_len);

struct fetch_conn; /* opaque: socket, optional TLS session, read buffer */

/* Connects to host:port (every address getaddrinfo gives, in order) within
 * connect_timeout_ms, then runs the TLS handshake (SNI = host unless it is an IP
 * literal; verification against tls->cacert or the system store; host name or IP
 * checked against the certificate) when tls != NULL. read_timeout_ms bounds every
 * wait for data (and for sending). On failure writes a reason into err.
 * GH_OK, GH_EIO (connect), GH_ETIMEDOUT, GH_ETLS (handshake or verification),
 * GH_ENOMEM. Free with fetch_conn_close. */
int fetch_conn_open(const char *host, uint16_t port, const struct fetch_tls_opts *tls,
                    int connect_timeout_ms, int read_timeout_ms, struct fetch_conn **conn_out,
                    char *err, size_t err_len);
void fetch_conn_close(struct fetch_conn *conn); /* NULL-safe */

/* Writes all of data. GH_OK, GH_EIO, GH_ETIMEDOUT, GH_ETLS, GH_ECLOSED. */
int fetch_conn_write(struct fetch_conn *conn, const void *data, size_t len);
/* Reads what is available (at least one byte) into buf[0, cap). *n_out = 0
 * means the peer closed cleanly. GH_OK, GH_EIO, GH_ETIMEDOUT, GH_ETLS. */
int fetch_conn_read(struct fetch_conn *conn, void *buf, size_t cap, size_t *n_out);
/* The connection's unconsumed input (bytes read past the previous response). */
struct buf *fetch_conn_inbuf(struct fetch_conn *conn);
/* tls-server-end-point channel bindings (RFC 5929 4.1): "tls-server-end-point:"
 * followed by the hash of the server certificate (the hash of its signature
 * algorithm; SHA-256 for MD5 and SHA-1). Writes at most cap bytes.
 * GH_OK, GH_ENOTFOUND (plain TCP, or a signature algorithm without a single hash,
 * e.g. Ed25519: RFC 5929 leaves it undefined) or GH_ELIMIT. */
int fetch_conn_endpoint_binding(struct fetch_conn *conn, uint8_t *out, size_t cap, size_t *len_out);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "plain"; static or owned by conn. */
const char *fetch_conn_describe(struct fetch_conn *conn, char *out, size_t out_len);

/* ---- fetch_http.c ----------------------------------------------------------- */
#define FETCH_MAX_HEADERS 100

struct fetch_response {
    int status;
    int minor_version;
    struct buf head; /* the raw head bytes; headers[] borrow from it */
    struct h1_header headers[FETCH_MAX_HEADERS];
    size_t header_count;
    enum h1_body_kind body_kind;
    uint64_t content_length;
    bool keep_alive;
};

struct fetch_limits {
    size_t max_head_bytes;   /* response head (default 64 KiB) */
    uint64_t max_body_bytes; /* response body kept or written (default 1 GiB) */
};

/* Reads one final response head (skipping 1xx interim responses) into *resp,
 * which the caller initialized with fetch_response_init. GH_OK, GH_EPROTO
 * (malformed), GH_ELIMIT, GH_ECLOSED (closed before a complete head), GH_EIO,
 * GH_ETIMEDOUT, GH_ETLS, GH_ENOMEM. */
int fetch_http_read_head(struct fetch_conn *conn, const struct fetch_limits *limits,
                         struct fetch_response *resp);

/* Called for each run of body bytes; a non-zero return stops the transfer with
 * that error. */
typedef int fetch_body_sink_fn(void *arg, const uint8_t *data, size_t len);

/* Reads the body of resp (none for HEAD requests, 1xx, 204 and 304), passing it to
 * sink (NULL: discard). GH_OK, GH_EPROTO, GH_ELIMIT (more than max_body_bytes),
 * GH_ECLOSED (closed before the framing said the body ended), I/O errors, or the
 * sink's error. */
int fetch_http_read_body(struct fetch_conn *conn, const struct fetch_limits *limits,
                         const struct fetch_response *resp, bool is_head_request,
                         fetch_body_sink_fn *sink, void *sink_arg);

void fetch_response_init(struct fetch_response *resp, size_t max_head_bytes);
void fetch_response_reset(struct fetch_response *resp); /* frees the head */

/* ---- fetch_challenge.c ------------------------------------------------------ */
#define FETCH_MAX_CHALLENGES 16
#define FETCH_MAX_PARAMS     16

struct fetch_param {
    struct slice name;  /* token; compare case-insensitively */
    struct slice value; /* unquoted and unescaped */
};

struct fetch_challenge {
    struct slice scheme;  /* token; case-insensitive */
    struct slice token68; /* empty unless the challenge carries a token68 */
    struct fetch_param params[FETCH_MAX_PARAMS];
    size_t param_count;
};

struct fetch_challenges {
    struct fetch_challenge items[FETCH_MAX_CHALLENGES];
    size_t count;
    uint8_t *scratch; /* unescaped quoted-strings are written here (caller's) */
    size_t scratch_len;
    size_t scratch_used;
};

/* Parses one WWW-Authenticate field value (RFC 9110 11.6.1: #challenge, where
 * challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]) and appends its
 * challenges to *out; call once per field line. Slices borrow from value and from
 * out->scratch (which must outlive them; value.len bytes of room always suffice).
 * Returns GH_OK, GH_EPROTO (not valid syntax: *out keeps what earlier calls
 * added), or GH_ELIMIT (more than FETCH_MAX_CHALLENGES challenges, more than
 * FETCH_MAX_PARAMS parameters in one, or no scratch room). Empty list elements are
 * skipped (RFC 9110 5.6.1). Never reads outside value. */
int fetch_challenge_parse(struct slice value, struct fetch_challenges *out);

/* Parses a bare #auth-param list (Authentication-Info, RFC 9110 11.6.3) into
 * out->params (out->scheme stays empty); quoted-pairs are unescaped into
 * scratch_owner's scratch. Same returns as fetch_challenge_parse. */
int fetch_params_parse(struct slice value, struct fetch_challenges *scratch_owner,
                       struct fetch_challenge *out);

/* The first challenge whose scheme is name (case-insensitive), or NULL. */
const struct fetch_challenge *fetch_challenge_find(const struct fetch_challenges *cs,
                                                   const char *name);
/* The parameter called name (case-insensitive) of ch, or NULL. */
const struct fetch_param *fetch_challenge_param(const struct fetch_challenge *ch, const char *name);

/* ---- fetch_digest.c --------------------------------------------------------- */
struct fetch_digest_input {
    const char *user;     /* UTF-8 */
    const char *password; /* UTF-8 */
    const char *method;
    const char *uri;    /* request-target as sent */
    uint32_t nc;        /* nonce count, from 1 */
    const char *cnonce; /* NULL: a random one (tests pass a fixed value) */
};

/* Ranks a Digest challenge: -1 when we cannot answer it (unknown algorithm, no
 * nonce or realm, a qop list without "auth"), otherwise higher is preferred:
 * SHA-256 > SHA-512-256 > MD5, plain before -sess. */
int fetch_digest_rank(const struct fetch_challenge *ch);

/* Builds the Authorization value "Digest username=..., realm=..., ..." (RFC 7616
 * 3.4) answering ch, appending it to out. With userhash=true in the challenge the
 * username is H(user ":" realm); a user name that needs it is sent as username*
 * (RFC 8187). *rspauth_expected_out (hex, NUL-terminated, up to 129 bytes) receives
 * the rspauth a server should send back (RFC 7616 3.5), or "" without qop.
 * GH_OK, GH_EUNSUPPORTED (fetch_digest_rank < 0), GH_EPROTO (a quote or control
 * character in the user name that cannot be sent), GH_ELIMIT, GH_ENOMEM. */
int fetch_digest_authorization(const struct fetch_challenge *ch,
                               const struct fetch_digest_input *in, struct buf *out,
                               char rspauth_expected_out[129]);

/* Checks an Authentication-Info value's rspauth against the expected hex:
 * GH_OK (matches), GH_ENOTFOUND (no rspauth parameter), GH_EAUTH (differs),
 * GH_EPROTO (malformed). Constant-time comparison. */
int fetch_digest_check_rspauth(struct slice auth_info, const char *expected_hex);

/* Appends "Basic " + base64(user ":" password) (RFC 7617 2; UTF-8 as given).
 * GH_EPROTO when user holds a colon or a control character, GH_ELIMIT, GH_ENOMEM. */
int fetch_basic_authorization(const char *user, const char *password, struct buf *out);

/* ---- fetch_auth.c ----------------------------------------------------------- */
enum fetch_auth_mode {
    FETCH_AUTH_NONE = 0, /* answer no challenge */
    FETCH_AUTH_ANY,      /* the strongest offered: Negotiate > NTLM > Digest > Basic */
    FETCH_AUTH_NEGOTIATE,
    FETCH_AUTH_NTLM,
    FETCH_AUTH_KERBEROS,
    FETCH_AUTH_BASIC,
    FETCH_AUTH_DIGEST,
    FETCH_AUTH_CREDSSP, /* "CredSSP" (WS-Management): TLS records carrying SPNEGO/NTLM */
};

/* GH_OK or GH_EINVAL for an unknown name. */
int fetch_auth_mode_parse(const char *name, enum fetch_auth_mode *mode_out);

struct fetch_auth_config {
    enum fetch_auth_mode mode;
    const char *user;     /* NULL: default credentials (ccache, $NTLM_USER_FILE) */
    const char *password; /* NULL without -u user:password; borrowed */
    bool delegate;
    const char *host;   /* SPN host: HTTP/<host> */
    const char *method; /* for Digest */
    const char *uri;    /* request-target, for Digest */
    FILE *verbose;      /* NULL unless -v */
};

struct fetch_auth; /* one authentication exchange (opaque) */

/* Outcome of the auth steps. */
enum fetch_auth_step {
    FETCH_AUTH_SEND = 0,    /* *authz_out holds the next Authorization value: send it */
    FETCH_AUTH_DONE = 1,    /* the exchange is over and verified: keep this response */
    FETCH_AUTH_FAILED = 2,  /* authentication failed; the reason was printed on stderr */
    FETCH_AUTH_NO_MATCH = 3 /* (begin only) no offered scheme fits the mode/credentials */
};

/* Starts answering the challenges of a 401: chooses the scheme, acquires
 * credentials and produces the first Authorization value in *authz_out (cleared
 * first). cbt (may be NULL) is the tls-server-end-point binding of the connection,
 * copied. On FETCH_AUTH_SEND, *auth_out is the exchange (free with
 * fetch_auth_destroy); on any other outcome *auth_out is NULL. Returns the
 * outcome, or GH_ENOMEM. */
int fetch_auth_begin(const struct fetch_auth_config *cfg, const struct fetch_challenges *cs,
                     const uint8_t *cbt, size_t cbt_len, struct buf *authz_out,
                     struct fetch_auth **auth_out);

/* Feeds the response to the last Authorization: a 401 continues the handshake
 * (SEND) or ends it (FAILED); any other status ends it, after verifying mutual
 * authentication (Negotiate/Kerberos final token, Digest rspauth): DONE or
 * FAILED. Returns the outcome or GH_ENOMEM. */
int fetch_auth_step(struct fetch_auth *auth, const struct fetch_response *resp,
                    struct buf *authz_out);

/* True while a connection-bound handshake (NTLM, Negotiate) is in progress, so
 * the next leg must use the same connection. */
bool fetch_auth_needs_same_conn(const struct fetch_auth *auth);

/* "Negotiate (Kerberos)" and the like, for messages; owned by auth. */
const char *fetch_auth_describe(const struct fetch_auth *auth);

void fetch_auth_destroy(struct fetch_auth *auth); /* NULL-safe; wipes secrets */

/* Collects the WWW-Authenticate fields of resp into *out (scratch owned by the
 * caller, at least resp->head.len bytes). GH_OK, GH_EPROTO or GH_ELIMIT. */
int fetch_auth_collect(const struct fetch_response *resp, struct fetch_challenges *out);

/* Answers a 401: collects its challenges and starts the exchange
 * (fetch_auth_begin). A malformed WWW-Authenticate, or no offered scheme that
 * fits (NO_MATCH, the offered schemes listed), is said on errors (NULL:
 * quietly) and is FETCH_AUTH_FAILED. Returns SEND (with *auth_out), FAILED,
 * or GH_ENOMEM. Shared by fetch and bench. */
int fetch_auth_answer(const struct fetch_auth_config *cfg, const struct fetch_response *resp,
                      const uint8_t *cbt, size_t cbt_len, struct buf *authz_out,
                      struct fetch_auth **auth_out, FILE *errors);

/* Starts an exchange before any 401 (preemptive authentication, as curl
 * --ntlm does): the first Authorization of the scheme mode names, without a
 * challenge to read: NTLM for ntlm, Negotiate for negotiate, Kerberos for
 * kerberos (the scheme fetch prefers for that mode), Basic for basic. Digest, any and CredSSP
 * need the server's challenge: FETCH_AUTH_NO_MATCH. Otherwise as
 * fetch_auth_begin. */
int fetch_auth_preempt(const struct fetch_auth_config *cfg, const uint8_t *cbt, size_t cbt_len,
                       struct buf *authz_out, struct fetch_auth **auth_out);

/* -u as fetch and bench take it: NULL, "" or ":" (default credentials: the
 * ccache, $NTLM_USER_FILE) gives *user_out = *password_out = NULL; "user"
 * asks for the password (prompt.h, prefixed by who); "user:password" splits.
 * *user_out is the caller's to free; the password goes into pw[0, pw_cap)
 * (wipe it) and *password_out points to it. GH_OK, GH_EINVAL (too long, or
 * unreadable: said on stderr) or GH_ENOMEM. */
int fetch_user_arg(const char *arg, const char *who, char **user_out, char *pw, size_t pw_cap,
                   const char **password_out);

#endif
