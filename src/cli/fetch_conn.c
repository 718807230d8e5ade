// SPDX-License-Identifier: MIT
// The client connection of fetch: TCP with a connect timeout, then optionally
// TLS (OpenSSL) with SNI, certificate verification against --cacert or the
// system store, and the host name (or IP address) checked against the
// certificate. Waits for data are bounded by SO_RCVTIMEO/SO_SNDTIMEO: a blocking
// socket keeps OpenSSL's handling simple, and a timeout surfaces as EAGAIN.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gatehouse/error.h>

#include "cli/fetch.h"

#define INBUF_MAX (1024 * 1024) /* unconsumed input: one read and a pipelined remainder */

struct fetch_conn {
    int fd;
    SSL_CTX *ctx; /* owned */
    SSL *ssl;     /* owned; NULL for plain TCP */
    struct buf in;
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err_len > 0)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* The first OpenSSL error of the queue as text (the queue is then cleared). */
static const char *
ssl_reason(char *out, size_t out_len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(out, out_len, "TLS failure");
    else
        ERR_error_string_n(e, out, out_len);
    ERR_clear_error();
    return out;
}

static int
connect_one(const struct addrinfo *ai, int timeout_ms, int *fd_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return GH_EIO;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        int saved = errno;
        close(fd);
        errno = saved;
        return GH_EIO;
    }
    if (rc != 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n;
        do {
            n = poll(&pfd, 1, timeout_ms);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            close(fd);
            errno = ETIMEDOUT;
            return GH_ETIMEDOUT;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            close(fd);
            errno = soerr != 0 ? soerr : errno;
            return GH_EIO;
        }
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        close(fd);
        return GH_EIO;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *fd_out = fd;
    return GH_OK;
}

static bool
is_ip_literal(const char *host)
{
    unsigned char tmp[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

int
fetch_tls_ctx_create(const struct fetch_tls_opts *tls, SSL_CTX **ctx_out, char *err, size_t err_len)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    *ctx_out = NULL;
    if (ctx == NULL)
        return GH_ENOMEM;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (!tls->insecure) {
        int ok = tls->cacert != NULL ? SSL_CTX_load_verify_locations(ctx, tls->cacert, NULL)
                                     : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            set_err(err, err_len, "cannot load CA certificates %s: %s",
                    tls->cacert != NULL ? tls->cacert : "(system store)",
                    ssl_reason(why, sizeof(why)));
            SSL_CTX_free(ctx);
            return GH_ETLS;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    *ctx_out = ctx;
    return GH_OK;
}

static int
tls_start(struct fetch_conn *c, const char *host, const struct fetch_tls_opts *tls, char *err,
          size_t err_len)
{
    char why[256];
    static const unsigned char alpn[] = "\x08http/1.1";

    if (tls->shared_ctx != NULL) {
        if (SSL_CTX_up_ref(tls->shared_ctx) != 1)
            return GH_ENOMEM;
        c->ctx = tls->shared_ctx;
    } else {
        int rc = fetch_tls_ctx_create(tls, &c->ctx, err, err_len);
        if (rc != GH_OK)
            return rc;
    }
    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL)
        return GH_ENOMEM;
    if (SSL_set_alpn_protos(c->ssl, alpn, sizeof(alpn) - 1) != 0)
        return GH_ENOMEM;
    bool is_ip = is_ip_literal(host);
    if (!is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1)
        return GH_ENOMEM;
    if (!tls->insecure) {
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host)
                       : SSL_set1_host(c->ssl, host);
        if (ok != 1)
            return GH_ENOMEM;
    }
    if (SSL_set_fd(c->ssl, c->fd) != 1)
        return GH_ENOMEM;
    int rc = SSL_connect(c->ssl);
    if (rc != 1) {
        long vr = SSL_get_verify_result(c->ssl);
        int e = SSL_get_error(c->ssl, rc);
        if (vr != X509_V_OK) {
            set_err(err, err_len, "TLS certificate verification failed: %s",
                    X509_verify_cert_error_string(vr));
            ERR_clear_error();
        } else if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
                   (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_err(err, err_len, "TLS handshake timed out");
            ERR_clear_error();
            return GH_ETIMEDOUT;
        } else {
            set_err(err, err_len, "TLS handshake failed: %s", ssl_reason(why, sizeof(why)));
        }
        return GH_ETLS;
    }
    return GH_OK;
}

static void
set_timeouts(int fd, int timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int
fetch_conn_open(const char *host, uint16_t port, const struct fetch_tls_opts *tls,
                int connect_timeout_ms, int read_timeout_ms, struct fetch_conn **conn_out,
                char *err, size_t err_len)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    struct fetch_conn *c = NULL;
    char portstr[8];
    int rc;

    *conn_out = NULL;
    if (err_len > 0)
        err[0] = '\0';
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        set_err(err, err_len, "cannot resolve %s: %s", host, gai_strerror(gai));
        return GH_EIO;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = GH_ENOMEM;
        goto cleanup;
    }
    c->fd = -1;
    buf_init(&c->in, INBUF_MAX);
    rc = GH_EIO;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        rc = connect_one(ai, connect_timeout_ms, &c->fd);
        if (rc == GH_OK)
            break;
    }
    if (rc != GH_OK) {
        set_err(err, err_len, "cannot connect to %s: %s", host,
                rc == GH_ETIMEDOUT ? "connect timed out" : strerror(errno));
        goto cleanup;
    }
    set_timeouts(c->fd, read_timeout_ms);
    if (tls != NULL) {
        rc = tls_start(c, host, tls, err, err_len);
        if (rc != GH_OK) {
            if (rc == GH_ENOMEM && err_len > 0 && err[0] == '\0')
                set_err(err, err_len, "TLS setup failed");
            goto cleanup;
        }
    }
    *conn_out = c;
    c = NULL;
    rc = GH_OK;
cleanup:
    fetch_conn_close(c);
    freeaddrinfo(res);
    return rc;
}

void
fetch_conn_close(struct fetch_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->ssl != NULL) {
        /* A best-effort close_notify; the peer may already be gone. */
        (void)SSL_shutdown(conn->ssl);
        SSL_free(conn->ssl);
        ERR_clear_error();
    }
    SSL_CTX_free(conn->ctx);
    if (conn->fd >= 0)
        close(conn->fd);
    buf_free(&conn->in);
    free(conn);
}

static int
map_ssl_error(struct fetch_conn *conn, int rc)
{
    int e = SSL_get_error(conn->ssl, rc);
    int saved = errno;
    unsigned long first = ERR_peek_error();
    ERR_clear_error();
    switch (e) {
    case SSL_ERROR_ZERO_RETURN:
        return GH_ECLOSED;
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return GH_ETIMEDOUT;
    case SSL_ERROR_SYSCALL:
        if (saved == EAGAIN || saved == EWOULDBLOCK)
            return GH_ETIMEDOUT;
        return saved == 0 ? GH_ECLOSED : GH_EIO;
    default:
        if (ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return GH_ECLOSED;
        return GH_ETLS;
    }
}

int
fetch_conn_write(struct fetch_conn *conn, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        if (conn->ssl != NULL) {
            size_t written = 0;
            int rc = SSL_write_ex(conn->ssl, p, chunk, &written);
            if (rc != 1)
                return map_ssl_error(conn, rc);
            p += written;
            len -= written;
            continue;
        }
        ssize_t n = send(conn->fd, p, chunk, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return GH_ETIMEDOUT;
            return errno == EPIPE || errno == ECONNRESET ? GH_ECLOSED : GH_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return GH_OK;
}

int
fetch_conn_read(struct fetch_conn *conn, void *buf, size_t cap, size_t *n_out)
{
    *n_out = 0;
    if (conn->ssl != NULL) {
        size_t got = 0;
        int rc = SSL_read_ex(conn->ssl, buf, cap, &got);
        if (rc != 1) {
            int err = map_ssl_error(conn, rc);
            return err == GH_ECLOSED ? GH_OK : err;
        }
        *n_out = got;
        return GH_OK;
    }
    for (;;) {
        ssize_t n = recv(conn->fd, buf, cap, 0);
        if (n >= 0) {
            *n_out = (size_t)n;
            return GH_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return GH_ETIMEDOUT;
        if (errno == ECONNRESET)
            return GH_OK; /* reported as a close: the framing decides if it was early */
        return GH_EIO;
    }
}

struct buf *
fetch_conn_inbuf(struct fetch_conn *conn)
{
    return &conn->in;
}

int
fetch_conn_endpoint_binding(struct fetch_conn *conn, uint8_t *out, size_t cap, size_t *len_out)
{
    static const char prefix[] = "tls-server-end-point:";
    int mdnid = NID_undef, pknid = NID_undef;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    *len_out = 0;
    if (conn->ssl == NULL)
        return GH_ENOTFOUND;
    X509 *cert = SSL_get0_peer_certificate(conn->ssl); /* borrowed */
    if (cert == NULL)
        return GH_ENOTFOUND;
    /* RFC 5929 4.1: the certificate's signature hash; MD5 and SHA-1 become SHA-256.
     * X509_get_signature_info also looks inside RSASSA-PSS parameters. */
    if (X509_get_signature_info(cert, &mdnid, &pknid, NULL, NULL) != 1 || mdnid == NID_undef) {
        ERR_clear_error();
        return GH_ENOTFOUND;
    }
    if (mdnid == NID_md5 || mdnid == NID_sha1)
        mdnid = NID_sha256;
    const EVP_MD *type = EVP_get_digestbynid(mdnid);
    if (type == NULL || X509_digest(cert, type, md, &mdlen) != 1) {
        ERR_clear_error();
        return GH_ENOTFOUND;
    }
    if (sizeof(prefix) - 1 + mdlen > cap)
        return GH_ELIMIT;
    memcpy(out, prefix, sizeof(prefix) - 1);
    memcpy(out + sizeof(prefix) - 1, md, mdlen);
    *len_out = sizeof(prefix) - 1 + mdlen;
    return GH_OK;
}

const char *
fetch_conn_describe(struct fetch_conn *conn, char *out, size_t out_len)
{
    if (conn->ssl == NULL)
        return "plain TCP";
    snprintf(out, out_len, "%s %s", SSL_get_version(conn->ssl), SSL_get_cipher_name(conn->ssl));
    return out;
}
