// SPDX-License-Identifier: MIT
// One SSL_CTX per certificate. The first is the "session" context every SSL is
// created from; the SNI callback switches an SSL to the context whose
// certificate names the requested host. Tickets are sealed with the first
// context's keys (OpenSSL uses the session context), so resumption works
// whichever certificate was chosen.
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <gatehouse/error.h>

#include "tls/cred.h"

struct tls_server {
    SSL_CTX **ctxs; /* owned; ctxs[0] is the default */
    X509 **leafs;   /* borrowed from the contexts */
    size_t count;
};

static const unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

const char *
tls_last_error(char *err, size_t err_len)
{
    unsigned long e = ERR_peek_last_error();

    if (err_len == 0)
        return err;
    err[0] = '\0';
    if (e != 0) {
        const char *reason = ERR_reason_error_string(e);
        if (reason != NULL)
            snprintf(err, err_len, "%s", reason);
        else
            snprintf(err, err_len, "OpenSSL error %lx", e);
    }
    ERR_clear_error();
    return err;
}

/* RFC 7301 3.2: pick http/1.1 if offered; if not, go on without ALPN rather
 * than failing, so that clients offering only h2 get a clear HTTP/1.1 error
 * instead of an alert. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *out_len, const unsigned char *in,
            unsigned int in_len, void *arg)
{
    unsigned char *sel = NULL;

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, out_len, alpn_http11, sizeof(alpn_http11), in, in_len) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* RFC 6066 3: choose the context whose certificate matches the host name; an
 * unknown or absent name keeps the default certificate. */
static int
sni_select(SSL *ssl, int *alert, void *arg)
{
    struct tls_server *ts = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

    (void)alert;
    if (name == NULL || ts->count < 2)
        return SSL_TLSEXT_ERR_OK;
    for (size_t i = 0; i < ts->count; i++) {
        if (ts->leafs[i] != NULL &&
            X509_check_host(ts->leafs[i], name, strlen(name), 0, NULL) == 1) {
            if (i != 0 && SSL_set_SSL_CTX(ssl, ts->ctxs[i]) == NULL)
                return SSL_TLSEXT_ERR_ALERT_FATAL;
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK;
}

static int
ctx_make(const struct tls_server_opts *opts, const struct tls_cert_spec *spec, SSL_CTX **ctx_out,
         char *err, size_t err_len)
{
    struct tls_cred cred = {0};
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int rc = GH_ETLS;

    *ctx_out = NULL;
    if (ctx == NULL)
        return GH_ENOMEM;
    rc = tls_ctx_set_limits(ctx, opts->min_version, opts->max_version, opts->ciphers,
                            opts->ciphersuites, err, err_len);
    if (rc != GH_OK)
        goto cleanup;
    rc = GH_ETLS;
    /* OpenSSL 3 refuses client-initiated renegotiation unless
     * SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set: we never set it. Server-initiated
     * renegotiation (client certificates over TLS 1.2) stays possible. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!opts->session_tickets)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    /* Record buffers go back as soon as they are empty (handshakes, idle
     * connections); the server also calls SSL_free_buffers() when a connection
     * goes idle, for the buffer a WANT_READ read allocated. On the keep-alive hot
     * path this costs no more than keeping them: the connection goes idle after
     * every response anyway. The output buffer may move between retries of a
     * partial write (it is a growable struct buf). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_ENABLE_PARTIAL_WRITE);
    /* Stateless tickets carry the sessions; a server-side cache would only cost
     * memory. Without tickets, keep a bounded cache. Either way a TLS 1.3
     * handshake issues one ticket (OpenSSL's default is two): without tickets
     * each one is a session copied into the cache, whose growth (fresh pages,
     * one per handshake or so) is most of the CPU a full handshake costs beyond
     * nginx's (see bench/README.md, vs-client-cert). */
    SSL_CTX_set_num_tickets(ctx, 1);
    if (opts->session_tickets) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    } else if (opts->session_cache == 0) {
        /* tls_session_cache off: no session ID, no TLS 1.3 ticket, nothing kept. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, opts->session_cache);
    }
    static const unsigned char sid_ctx[] = "gatehouse";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    rc = tls_cred_load(spec->cert_file, spec->key_file, false, &cred, err, err_len);
    if (rc == GH_OK)
        rc = tls_ctx_use_cred(ctx, &cred, err, err_len);
    tls_cred_clear(&cred);
    if (rc != GH_OK)
        goto cleanup;
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    rc = tls_client_ctx_setup(ctx, SSL_CTX_get0_certificate(ctx), opts->client, err, err_len);
    if (rc != GH_OK)
        goto cleanup;
    *ctx_out = ctx;
    return GH_OK;
cleanup:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

int
tls_server_create(const struct tls_server_opts *opts, struct tls_server **server_out, char *err,
                  size_t err_len)
{
    struct tls_server *ts = NULL;
    int rc;

    *server_out = NULL;
    if (opts->cert_count == 0) {
        snprintf(err, err_len, "TLS needs at least one certificate");
        return GH_EINVAL;
    }
    ts = calloc(1, sizeof(*ts));
    if (ts == NULL)
        return GH_ENOMEM;
    ts->ctxs = calloc(opts->cert_count, sizeof(*ts->ctxs));
    ts->leafs = calloc(opts->cert_count, sizeof(*ts->leafs));
    if (ts->ctxs == NULL || ts->leafs == NULL) {
        rc = GH_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < opts->cert_count; i++) {
        rc = ctx_make(opts, &opts->certs[i], &ts->ctxs[i], err, err_len);
        if (rc != GH_OK)
            goto cleanup;
        ts->count++;
        ts->leafs[i] = SSL_CTX_get0_certificate(ts->ctxs[i]);
    }
    SSL_CTX_set_tlsext_servername_callback(ts->ctxs[0], sni_select);
    SSL_CTX_set_tlsext_servername_arg(ts->ctxs[0], ts);
    *server_out = ts;
    return GH_OK;
cleanup:
    tls_server_destroy(ts);
    return rc;
}

void
tls_server_destroy(struct tls_server *ts)
{
    if (ts == NULL)
        return;
    for (size_t i = 0; i < ts->count; i++)
        SSL_CTX_free(ts->ctxs[i]);
    free(ts->ctxs);
    free(ts->leafs);
    free(ts);
}

SSL *
tls_server_ssl_new(struct tls_server *ts)
{
    return SSL_new(ts->ctxs[0]);
}

/* Watches the socket BIO's reads (BIO_set_callback_ex runs after each one). */
static long
watch_read(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
           size_t *processed)
{
    (void)argp;
    (void)argi;
    (void)argl;
    if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
        bool *drained = (bool *)BIO_get_callback_arg(b);
        *drained = ret <= 0 || processed == NULL || *processed < len;
    }
    return ret;
}

int
tls_ssl_attach_fd(SSL *ssl, int fd, bool *drained_out)
{
    BIO *bio = BIO_new_socket(fd, BIO_NOCLOSE);

    if (bio == NULL)
        return GH_ENOMEM;
    *drained_out = false;
    BIO_set_callback_arg(bio, (char *)drained_out);
    BIO_set_callback_ex(bio, watch_read);
    SSL_set_bio(ssl, bio, bio); /* ssl owns bio now */
    SSL_set_read_ahead(ssl, 1);
    return GH_OK;
}

size_t
tls_server_cert_count(const struct tls_server *ts)
{
    return ts->count;
}

int
tls_cert_end_point_hash(X509 *cert, uint8_t *out, size_t *len_out)
{
    int md_nid = NID_undef;
    unsigned int len = 0;

    if (cert == NULL)
        return GH_EINVAL;
    if (X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL) != 1)
        return GH_ETLS;
    if (md_nid == NID_md5 || md_nid == NID_sha1)
        md_nid = NID_sha256;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    if (md == NULL)
        return GH_EUNSUPPORTED; /* RFC 5929 defines no binding for this algorithm */
    if (X509_digest(cert, md, out, &len) != 1)
        return GH_ETLS;
    *len_out = len;
    return GH_OK;
}

int
tls_ssl_server_end_point(SSL *ssl, uint8_t *out, size_t *len_out)
{
    return tls_cert_end_point_hash(SSL_get_certificate(ssl), out, len_out);
}

const char *
tls_ssl_alpn(const SSL *ssl, size_t *len_out)
{
    const unsigned char *p = NULL;
    unsigned int len = 0;

    SSL_get0_alpn_selected(ssl, &p, &len);
    *len_out = len;
    return len == 0 ? NULL : (const char *)p;
}
