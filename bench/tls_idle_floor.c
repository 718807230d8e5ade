// SPDX-License-Identifier: MIT
// The floor of an idle TLS keep-alive connection: a bare OpenSSL server that
// keeps, per connection, only its socket and its SSL object (record buffers
// released, no session cache), for bench/vs-h2o's idle phase to measure the
// RSS per connection that no server built on OpenSSL can go below.
//
//     tls_idle_floor HOST PORT CERT KEY
//
// One connection at a time (blocking, 5 s timeouts): handshake, read one
// request head, answer 200 "hello\n", free the record buffers, keep the SSL
// object and the socket until the process is terminated. At most MAX_CONNS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CONNS 20000

static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                               "Content-Type: text/plain\r\n\r\nhello\n";

static SSL_CTX *
make_ctx(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

static int
listen_on(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4096) != 0) {
        perror("listen");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Handshake, one request head, one answer. Returns 1 when the connection is
 * kept, 0 when it failed (then freed here). */
static int
serve_one(SSL_CTX *ctx, int fd, SSL **ssl_out)
{
    struct timeval tv = {.tv_sec = 5};
    char head[8192];
    size_t got = 0;
    SSL *ssl = SSL_new(ctx);

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
        goto fail;
    while (got < sizeof(head) - 1) {
        int n = SSL_read(ssl, head + got, (int)(sizeof(head) - 1 - got));
        if (n <= 0)
            goto fail;
        got += (size_t)n;
        head[got] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL)
            break;
    }
    if (SSL_write(ssl, response, (int)sizeof(response) - 1) != (int)sizeof(response) - 1)
        goto fail;
    SSL_free_buffers(ssl);
    *ssl_out = ssl;
    return 1;
fail:
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    return 0;
}

int
main(int argc, char **argv)
{
    static SSL *conns[MAX_CONNS];
    size_t kept = 0;

    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT CERT KEY\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    SSL_CTX *ctx = make_ctx(argv[3], argv[4]);
    long port = strtol(argv[2], NULL, 10);
    int lfd = ctx != NULL && port > 0 && port < 65536 ? listen_on(argv[1], (int)port) : -1;
    if (lfd < 0)
        return 1;
    while (kept < MAX_CONNS) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        kept += (size_t)serve_one(ctx, fd, &conns[kept]);
    }
    pause(); /* keep them until terminated */
    return 0;
}
