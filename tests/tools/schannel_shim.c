// SPDX-License-Identifier: MIT
// schannel_shim: our Schannel package on a TCP socket, so that the Python
// tests can put real TLS peers on the other side (openssl s_server /
// s_client, curl). All TLS goes through the SSPI calls a Windows program
// makes: Initialize/AcceptSecurityContext with TOKEN/EMPTY input buffers
// (SECBUFFER_MISSING / SECBUFFER_EXTRA honoured), Encrypt/DecryptMessage with
// STREAM_HEADER/DATA/STREAM_TRAILER, SEC_I_RENEGOTIATE back to the handshake,
// ApplyControlToken(SCHANNEL_SHUTDOWN) for close_notify.
//
//   schannel_shim client --port P --target NAME [--ca FILE] [--proto 12|13]
//                        [--manual] [--cert FILE] [--chunk N] [--request TEXT]
//   schannel_shim server --cert FILE [--ca FILE] [--proto 12|13] [--mutual]
//                        [--chunk N]
//
// --chunk N reads the socket N bytes at a time (1: every record arrives split
// at every byte boundary). The client sends TEXT (default an HTTP/1.0 GET)
// and copies the decrypted answer to stdout until close_notify or EOF. The
// server prints "PORT n" on stdout, serves one connection: reads a request
// head, answers "HTTP/1.1 200 OK" with "hello from schannel TLSv1.x", sends
// close_notify. Diagnostics ("HANDSHAKE ...", "INCOMPLETE_CREDENTIALS ...",
// "ERR 0x...") go to stderr. Exit 0 on success.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gatehouse/sspi.h>

#define CAP (1 << 20)

struct conn {
    int fd;
    bool is_server;
    CredHandle cred;
    CtxtHandle ctx;
    bool has_ctx;
    unsigned char *in; /* received, not yet consumed */
    size_t len;
    size_t chunk;
    const char *target;
    unsigned long req;
};

static void
fail(const char *what, SECURITY_STATUS st)
{
    SecPkgContext_GhExtendedError e = {0};

    (void)QueryContextAttributesA(NULL, SECPKG_ATTR_GH_EXTENDED_ERROR, &e);
    fprintf(stderr, "ERR 0x%08lx %s%s%s\n", (unsigned long)(uint32_t)st, what,
            e.Text != NULL ? ": " : "", e.Text != NULL ? e.Text : "");
    exit(1);
}

static bool
recv_more(struct conn *c)
{
    size_t want = c->chunk;
    ssize_t n;

    if (c->len + want > CAP)
        want = CAP - c->len;
    if (want == 0)
        return false;
    n = recv(c->fd, c->in + c->len, want, 0);
    if (n <= 0)
        return false;
    c->len += (size_t)n;
    return true;
}

static void
send_all(struct conn *c, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n > 0) {
        ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);

        if (k <= 0) {
            perror("send");
            exit(1);
        }
        b += k;
        n -= (size_t)k;
    }
}

static void
consume(struct conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->len - n);
    c->len -= n;
}

/* One Initialize/Accept call over everything received; sends its output. */
static SECURITY_STATUS
step(struct conn *c)
{
    SecBuffer in[2] = {{(unsigned long)c->len, SECBUFFER_TOKEN, c->in}, {0, SECBUFFER_EMPTY, NULL}};
    SecBuffer out[2] = {{0, SECBUFFER_TOKEN, NULL}, {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc ind = {SECBUFFER_VERSION, 2, in}, outd = {SECBUFFER_VERSION, 2, out};
    unsigned long attrs = 0;
    SECURITY_STATUS st;

    if (c->is_server)
        st = AcceptSecurityContext(&c->cred, c->has_ctx ? &c->ctx : NULL, &ind,
                                   c->req | ASC_REQ_ALLOCATE_MEMORY, 0, &c->ctx, &outd, &attrs,
                                   NULL);
    else
        st = InitializeSecurityContextA(&c->cred, c->has_ctx ? &c->ctx : NULL, (char *)c->target,
                                        c->req | ISC_REQ_ALLOCATE_MEMORY, 0, 0,
                                        c->len > 0 ? &ind : NULL, 0, &c->ctx, &outd, &attrs, NULL);
    if (st == SEC_E_INCOMPLETE_MESSAGE) {
        if (in[1].BufferType != SECBUFFER_MISSING || in[1].cbBuffer == 0)
            fail("SEC_E_INCOMPLETE_MESSAGE without SECBUFFER_MISSING", st);
        return st;
    }
    if (st < 0)
        fail(c->is_server ? "AcceptSecurityContext" : "InitializeSecurityContext", st);
    c->has_ctx = true;
    if (st == SEC_I_INCOMPLETE_CREDENTIALS)
        return st;
    if (in[1].BufferType == SECBUFFER_EXTRA)
        consume(c, c->len - in[1].cbBuffer);
    else
        c->len = 0;
    if (out[0].cbBuffer > 0)
        send_all(c, out[0].pvBuffer, out[0].cbBuffer);
    FreeContextBuffer(out[0].pvBuffer);
    return st;
}

static SECURITY_STATUS
acquire(bool is_server, const char *cert_file, const char *ca_file, unsigned long protocols,
        unsigned long flags, CredHandle *out)
{
    PCCERT_CONTEXT cert = NULL;
    HCERTSTORE roots = NULL;
    SCHANNEL_CRED sc = {
        .dwVersion = SCHANNEL_CRED_VERSION, .grbitEnabledProtocols = protocols, .dwFlags = flags};
    SECURITY_STATUS st;

    if (cert_file != NULL) {
        st = GhCertCreateContextFromPemFiles(cert_file, NULL, 0, &cert);
        if (st != SEC_E_OK)
            fail("GhCertCreateContextFromPemFiles", st);
        sc.cCreds = 1;
        sc.paCred = &cert;
    }
    if (ca_file != NULL) {
        st = GhCertOpenStoreFromPemFile(ca_file, &roots);
        if (st != SEC_E_OK)
            fail("GhCertOpenStoreFromPemFile", st);
        sc.hRootStore = roots;
    }
    st = AcquireCredentialsHandleA(NULL, UNISP_NAME_A,
                                   is_server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND, NULL,
                                   &sc, NULL, NULL, out, NULL);
    CertFreeCertificateContext(cert);
    CertCloseStore(roots, 0);
    return st;
}

static void
handshake(struct conn *c, const char *late_cert, const char *ca_file, unsigned long protocols)
{
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;

    if (!c->is_server)
        st = step(c); /* the ClientHello */
    for (int i = 0; i < 100000 && st != SEC_E_OK; i++) {
        if (c->len == 0 || st == SEC_E_INCOMPLETE_MESSAGE) {
            if (!recv_more(c)) {
                fprintf(stderr, "ERR peer closed during the handshake\n");
                exit(1);
            }
        }
        st = step(c);
        if (st == SEC_I_INCOMPLETE_CREDENTIALS) {
            SecPkgContext_IssuerListInfoEx il = {0};

            (void)QueryContextAttributesA(&c->ctx, SECPKG_ATTR_ISSUER_LIST_EX, &il);
            fprintf(stderr, "INCOMPLETE_CREDENTIALS issuers=%lu\n", il.cIssuers);
            FreeContextBuffer(il.aIssuers);
            if (late_cert != NULL) {
                FreeCredentialsHandle(&c->cred);
                if (acquire(false, late_cert, ca_file, protocols, 0, &c->cred) != SEC_E_OK)
                    fail("AcquireCredentialsHandle", SEC_E_NO_CREDENTIALS);
                late_cert = NULL;
            }
            st = step(c); /* the same input again, as on Windows */
        }
    }
    if (st != SEC_E_OK)
        fail("handshake did not finish", st);
    SecPkgContext_ConnectionInfo ci;
    SecPkgContext_SessionInfo si;
    if (QueryContextAttributesA(&c->ctx, SECPKG_ATTR_CONNECTION_INFO, &ci) != SEC_E_OK ||
        QueryContextAttributesA(&c->ctx, SECPKG_ATTR_SESSION_INFO, &si) != SEC_E_OK)
        fail("QueryContextAttributes", SEC_E_INTERNAL_ERROR);
    fprintf(stderr, "HANDSHAKE protocol=0x%lx cipher=0x%x bits=%lu exch=0x%x reconnect=%lu\n",
            ci.dwProtocol, ci.aiCipher, ci.dwCipherStrength, ci.aiExch, si.dwFlags);
    PCCERT_CONTEXT remote = NULL;
    if (QueryContextAttributesA(&c->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote) == SEC_E_OK) {
        fprintf(stderr, "PEER_CERT bytes=%lu\n", remote->cbCertEncoded);
        CertFreeCertificateContext(remote);
    }
}

static void
send_message(struct conn *c, const char *text, size_t n)
{
    SecPkgContext_StreamSizes sz;
    unsigned char *rec;

    if (QueryContextAttributesA(&c->ctx, SECPKG_ATTR_STREAM_SIZES, &sz) != SEC_E_OK)
        fail("STREAM_SIZES", SEC_E_INTERNAL_ERROR);
    rec = malloc(sz.cbHeader + sz.cbMaximumMessage + sz.cbTrailer);
    if (rec == NULL)
        exit(1);
    while (n > 0) {
        size_t k = n < sz.cbMaximumMessage ? n : sz.cbMaximumMessage;
        SecBuffer b[4] = {{sz.cbHeader, SECBUFFER_STREAM_HEADER, rec},
                          {(unsigned long)k, SECBUFFER_DATA, rec + sz.cbHeader},
                          {sz.cbTrailer, SECBUFFER_STREAM_TRAILER, rec + sz.cbHeader + k},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        SECURITY_STATUS st;

        memcpy(rec + sz.cbHeader, text, k);
        st = EncryptMessage(&c->ctx, 0, &d, 0);
        if (st != SEC_E_OK)
            fail("EncryptMessage", st);
        send_all(c, rec, b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer);
        text += k;
        n -= k;
    }
    free(rec);
}

/* Decrypts records until one carries data (appended to out), close_notify
 * or EOF. Returns false at the end of the stream. */
static bool
read_message(struct conn *c, char *out, size_t cap, size_t *out_len)
{
    for (int i = 0; i < 1000000; i++) {
        SecBuffer b[4] = {{(unsigned long)c->len, SECBUFFER_DATA, c->in},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        SECURITY_STATUS st;

        if (c->len == 0) {
            if (!recv_more(c))
                return false;
            continue;
        }
        st = DecryptMessage(&c->ctx, &d, 0, NULL);
        if (st == SEC_E_INCOMPLETE_MESSAGE) {
            if (b[1].BufferType != SECBUFFER_MISSING)
                fail("DecryptMessage: no SECBUFFER_MISSING", st);
            if (!recv_more(c))
                return false;
            continue;
        }
        if (st < 0)
            fail("DecryptMessage", st);
        if (b[1].cbBuffer > 0 && *out_len + b[1].cbBuffer <= cap) {
            memcpy(out + *out_len, b[1].pvBuffer, b[1].cbBuffer);
            *out_len += b[1].cbBuffer;
        }
        size_t extra = b[3].BufferType == SECBUFFER_EXTRA ? b[3].cbBuffer : 0;
        consume(c, c->len - extra);
        if (st == SEC_I_CONTEXT_EXPIRED) {
            fprintf(stderr, "CLOSE_NOTIFY\n");
            return false;
        }
        if (st == SEC_I_RENEGOTIATE) {
            fprintf(stderr, "RENEGOTIATE\n");
            if (step(c) != SEC_E_OK) /* back to the handshake loop with the rest */
                fail("InitializeSecurityContext after SEC_I_RENEGOTIATE", SEC_E_INTERNAL_ERROR);
            continue;
        }
        if (b[1].cbBuffer > 0)
            return true;
    }
    return false;
}

static void
shutdown_tls(struct conn *c)
{
    unsigned long type = SCHANNEL_SHUTDOWN;
    SecBuffer b = {sizeof(type), SECBUFFER_TOKEN, &type};
    SecBufferDesc d = {SECBUFFER_VERSION, 1, &b};
    SECURITY_STATUS st = ApplyControlToken(&c->ctx, &d);

    if (st != SEC_E_OK)
        fail("ApplyControlToken", st);
    c->len = 0;
    st = step(c);
    if (st != SEC_E_OK)
        fail("close_notify", st);
}

int
main(int argc, char **argv)
{
    const char *cert = NULL, *ca = NULL, *target = NULL, *request = NULL;
    unsigned long protocols = 0, flags = 0;
    int port = 0;
    struct conn c = {.fd = -1, .chunk = 16384};
    bool mutual = false;

    if (argc < 2)
        return 2;
    c.is_server = strcmp(argv[1], "server") == 0;
    for (int i = 2; i + 1 < argc || (i < argc && argv[i][0] == '-'); i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--manual") == 0) {
            c.req |= ISC_REQ_MANUAL_CRED_VALIDATION;
            continue;
        }
        if (strcmp(a, "--mutual") == 0) {
            mutual = true;
            continue;
        }
        if (v == NULL)
            return 2;
        i++;
        if (strcmp(a, "--port") == 0)
            port = atoi(v);
        else if (strcmp(a, "--target") == 0)
            target = v;
        else if (strcmp(a, "--cert") == 0)
            cert = v;
        else if (strcmp(a, "--ca") == 0)
            ca = v;
        else if (strcmp(a, "--request") == 0)
            request = v;
        else if (strcmp(a, "--chunk") == 0)
            c.chunk = (size_t)atoi(v) > 0 ? (size_t)atoi(v) : 1;
        else if (strcmp(a, "--proto") == 0)
            protocols = strcmp(v, "12") == 0 ? SP_PROT_TLS1_2 : SP_PROT_TLS1_3;
        else
            return 2;
    }
    c.in = malloc(CAP);
    if (c.in == NULL)
        return 1;
    struct timeval tv = {.tv_sec = 20};
    if (c.is_server) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        int ls = socket(AF_INET, SOCK_STREAM, 0);

        if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 1) != 0 ||
            getsockname(ls, (struct sockaddr *)&sa, &sl) != 0)
            return 1;
        if (acquire(true, cert, ca, protocols, flags, &c.cred) != SEC_E_OK)
            fail("AcquireCredentialsHandle", SEC_E_NO_CREDENTIALS);
        if (mutual)
            c.req |= ASC_REQ_MUTUAL_AUTH;
        printf("PORT %d\n", ntohs(sa.sin_port));
        fflush(stdout);
        setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        c.fd = accept(ls, NULL, NULL);
        close(ls);
        if (c.fd < 0)
            return 1;
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        handshake(&c, NULL, NULL, protocols);
        char req[16384];
        size_t len = 0;
        while (len < sizeof(req) - 1 && read_message(&c, req, sizeof(req) - 1, &len)) {
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
                break;
        }
        req[len] = '\0';
        char *eol = strpbrk(req, "\r\n");
        if (eol != NULL)
            *eol = '\0';
        fprintf(stderr, "REQUEST %s\n", req);
        SecPkgContext_ConnectionInfo ci;
        (void)QueryContextAttributesA(&c.ctx, SECPKG_ATTR_CONNECTION_INFO, &ci);
        char body[64], resp[256];
        int bn = snprintf(body, sizeof(body), "hello from schannel %s\n",
                          ci.dwProtocol == SP_PROT_TLS1_3_SERVER ? "TLSv1.3" : "TLSv1.2");
        int rn = snprintf(resp, sizeof(resp),
                          "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                          bn, body);
        send_message(&c, resp, (size_t)rn);
        shutdown_tls(&c);
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

        if (acquire(false, NULL, ca, protocols, flags, &c.cred) != SEC_E_OK)
            fail("AcquireCredentialsHandle", SEC_E_NO_CREDENTIALS);
        c.target = target;
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            perror("connect");
            free(c.in);
            return 1;
        }
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        handshake(&c, cert, ca, protocols);
        if (request == NULL)
            request = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
        send_message(&c, request, strlen(request));
        char resp[65536];
        size_t len = 0;
        while (read_message(&c, resp, sizeof(resp), &len))
            ;
        fwrite(resp, 1, len, stdout);
        fflush(stdout);
        shutdown_tls(&c);
    }
    DeleteSecurityContext(&c.ctx);
    FreeCredentialsHandle(&c.cred);
    close(c.fd);
    free(c.in);
    return 0;
}
