// SPDX-License-Identifier: MIT
// credssp_rdp: our CredSSP package on a TCP socket the way RDP carries it, for
// the interop tests with FreeRDP and impacket (tests/integration/
// test_credssp_rdp.py). First the RDP negotiation (MS-RDPBCGR 2.2.1.1 X.224
// Connection Request with RDP_NEG_REQ, 2.2.1.2 Connection Confirm with
// RDP_NEG_RSP selecting PROTOCOL_HYBRID), then the CredSSP tokens (TLS
// records) raw on the socket, driven only by SSPI calls.
//
//   credssp_rdp accept --port P --cert PEM [--key KEY] --user U --password PW
//                      [--domain NB] [--max-version N]
//   credssp_rdp init   --port P --target TERMSRV/host --user U --password PW
//                      [--domain D] [--raw-ntlm] [--max-version N] [--no-delegate]
//
// The acceptor binds 127.0.0.1:P, prints "LISTENING", serves one connection.
// Both print "OK ..." (the acceptor: the authenticated user and the delegated
// credentials) or "ERR 0x<status> <reason>" and exit 0 / 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "sspi/store/userstore.h"

#define IO_CAP (256 * 1024)

#define PROTOCOL_SSL    0x1U
#define PROTOCOL_HYBRID 0x2U

static int
send_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;

    while (len > 0) {
        ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
recv_all(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One TPKT packet (RFC 1006: 03 00 length-BE16) into buf; its length or -1. */
static int
read_tpkt(int fd, uint8_t *buf, size_t cap)
{
    size_t len;

    if (recv_all(fd, buf, 4) != 0 || buf[0] != 3)
        return -1;
    len = (size_t)buf[2] << 8 | buf[3];
    if (len < 11 || len > cap)
        return -1;
    if (recv_all(fd, buf + 4, len - 4) != 0)
        return -1;
    return (int)len;
}

/* A TPKT + X.224 TPDU of code (0xE0 CR, 0xD0 CC) ending with an 8-byte
 * RDP_NEG_REQ (type 1) / RDP_NEG_RSP (type 2) carrying protocols. */
static int
send_x224(int fd, uint8_t code, uint8_t neg_type, uint32_t protocols)
{
    uint8_t p[19] = {3,
                     0,
                     0,
                     19,
                     14,
                     code,
                     0,
                     0,
                     0,
                     0,
                     0,
                     neg_type,
                     0,
                     8,
                     0,
                     (uint8_t)protocols,
                     (uint8_t)(protocols >> 8),
                     (uint8_t)(protocols >> 16),
                     (uint8_t)(protocols >> 24)};

    return send_all(fd, p, sizeof(p));
}

/* Checks a received X.224 packet of code; *protocols_out from its RDP_NEG
 * structure of neg_type (0 when there is none). */
static int
parse_x224(const uint8_t *p, int len, uint8_t code, uint8_t neg_type, uint32_t *protocols_out)
{
    *protocols_out = 0;
    if (len < 11 || (p[5] & 0xF0) != code || p[4] + 5 != len)
        return -1;
    if (len >= 19 && p[len - 8] == neg_type && p[len - 6] == 8 && p[len - 5] == 0)
        *protocols_out = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
                         (uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
    else if (len >= 19 && p[len - 8] == 3) /* RDP_NEG_FAILURE */
        return -1;
    return 0;
}

/* The token loop on the socket; *ctx is valid when *has_ctx. */
static SECURITY_STATUS
token_loop(int fd, bool acceptor, CredHandle *cred, const char *target, unsigned long req,
           CtxtHandle *ctx, bool *has_ctx, unsigned long *attrs)
{
    uint8_t *in = malloc(IO_CAP);
    size_t have = 0;
    bool need_read = acceptor;
    SECURITY_STATUS st = SEC_E_INTERNAL_ERROR;

    if (in == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    for (int guard = 0; guard < 400; guard++) {
        if (need_read) {
            ssize_t n = have < IO_CAP ? recv(fd, in + have, IO_CAP - have, 0) : -1;
            if (n <= 0) {
                fprintf(stderr, "credssp_rdp: the peer closed the connection\n");
                st = SEC_E_INVALID_TOKEN;
                break;
            }
            have += (size_t)n;
        }
        SecBuffer ib[2] = {{(unsigned long)have, SECBUFFER_TOKEN, in}, {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc idesc = {SECBUFFER_VERSION, 2, ib};
        SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc odesc = {SECBUFFER_VERSION, 1, &ob};

        if (acceptor)
            st = AcceptSecurityContext(cred, *has_ctx ? ctx : NULL, &idesc, req, 0, ctx, &odesc,
                                       attrs, NULL);
        else
            st = InitializeSecurityContextA(cred, *has_ctx ? ctx : NULL, (SEC_CHAR *)target, req, 0,
                                            0, have > 0 ? &idesc : NULL, 0, ctx, &odesc, attrs,
                                            NULL);
        if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
            *has_ctx = true;
        if (ob.pvBuffer != NULL) {
            int sent = ob.cbBuffer > 0 ? send_all(fd, ob.pvBuffer, ob.cbBuffer) : 0;
            FreeContextBuffer(ob.pvBuffer);
            if (sent != 0) {
                st = SEC_E_INTERNAL_ERROR;
                break;
            }
        }
        if (st == SEC_E_INCOMPLETE_MESSAGE) {
            need_read = true;
            continue;
        }
        if (ib[1].BufferType == SECBUFFER_EXTRA && ib[1].cbBuffer > 0 && ib[1].cbBuffer <= have) {
            memmove(in, in + have - ib[1].cbBuffer, ib[1].cbBuffer);
            have = ib[1].cbBuffer;
        } else {
            have = 0;
        }
        if (st != SEC_I_CONTINUE_NEEDED)
            break;
        need_read = have == 0;
    }
    free(in);
    return st;
}

static const char *
last_error(CtxtHandle *ctx, bool has_ctx)
{
    static char text[512];
    SecPkgContext_GhExtendedError e = {0};

    if (has_ctx && QueryContextAttributesA(ctx, SECPKG_ATTR_GH_EXTENDED_ERROR, &e) == SEC_E_OK &&
        e.Text != NULL) {
        snprintf(text, sizeof(text), "%s", e.Text);
        return text;
    }
    return "";
}

static char store_dir[64], store_path[128];

static void
remove_store(void)
{
    char lock[160];

    if (store_dir[0] == '\0')
        return;
    snprintf(lock, sizeof(lock), "%s.lock", store_path);
    (void)unlink(store_path);
    (void)unlink(lock);
    (void)rmdir(store_dir);
}

static int
do_accept(int port, const char *cert_file, const char *key_file, const char *user,
          const char *password, const char *domain, unsigned long flags)
{
    char err[256];
    struct userstore_user u = {.name = user,
                               .password = password,
                               .password_len = strlen(password),
                               .iterations = USERSTORE_MIN_ITERATIONS};
    PCCERT_CONTEXT cert = NULL;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    GH_ACCEPTOR_AUTH_DATA ad = {.Version = GH_ACCEPTOR_AUTH_DATA_V1, .NbDomainName = domain};
    CREDSSP_CRED_EX cx = {
        CredsspCredEx, CREDSSP_CRED_EX_VERSION, flags, 0, {CredsspSubmitBufferBoth, &sc, &ad}};
    CredHandle cred;
    CtxtHandle ctx;
    bool has_ctx = false;
    unsigned long attrs = 0;
    SECURITY_STATUS st;
    uint8_t pkt[512];
    uint32_t protocols;

    snprintf(store_dir, sizeof(store_dir), "/tmp/gh-credssp-rdp.XXXXXX");
    if (mkdtemp(store_dir) == NULL)
        return 1;
    snprintf(store_path, sizeof(store_path), "%s/users", store_dir);
    if (userstore_file_put(store_path, &u, err, sizeof(err)) != GH_OK) {
        fprintf(stderr, "credssp_rdp: %s\n", err);
        return 1;
    }
    ad.UserStore = store_path;
    st = GhCertCreateContextFromPemFiles(cert_file, key_file, 0, &cert);
    if (st != SEC_E_OK) {
        printf("ERR 0x%08x certificate\n", (unsigned)st);
        return 1;
    }
    sc.cCreds = 1;
    sc.paCred = &cert;
    st = AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_INBOUND, NULL, &cx, NULL, NULL,
                                   &cred, NULL);
    CertFreeCertificateContext(cert);
    if (st != SEC_E_OK) {
        printf("ERR 0x%08x AcquireCredentialsHandle\n", (unsigned)st);
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 1) != 0) {
        perror("credssp_rdp: bind");
        return 1;
    }
    printf("LISTENING\n");
    fflush(stdout);
    int fd = accept(ls, NULL, NULL);
    close(ls);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int len = read_tpkt(fd, pkt, sizeof(pkt));
    if (len < 0 || parse_x224(pkt, len, 0xE0, 1, &protocols) != 0 ||
        (protocols & PROTOCOL_HYBRID) == 0) {
        printf("ERR 0x%08x the client did not offer PROTOCOL_HYBRID (0x%x)\n",
               (unsigned)SEC_E_UNSUPPORTED_FUNCTION, (unsigned)protocols);
        close(fd);
        return 1;
    }
    if (send_x224(fd, 0xD0, 2, PROTOCOL_HYBRID) != 0)
        return 1;
    st = token_loop(fd, true, &cred, NULL,
                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR | ASC_REQ_STREAM |
                        ASC_REQ_CONNECTION,
                    &ctx, &has_ctx, &attrs);
    if (st == SEC_E_OK) {
        SecPkgContext_GhDelegatedCredentials d = {0};
        void *token = NULL;

        if (QuerySecurityContextToken(&ctx, &token) == SEC_E_OK &&
            QueryContextAttributesA(&ctx, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &d) == SEC_E_OK)
            printf("OK user=%s version=%lu deleg_user=%s deleg_domain=%s deleg_password=%s\n",
                   gh_token_user(token), d.Version, (const char *)d.Identity.User,
                   (const char *)d.Identity.Domain, (const char *)d.Identity.Password);
        else
            printf("ERR 0x%08x no token\n", (unsigned)SEC_E_INTERNAL_ERROR);
        gh_token_close(token);
    } else {
        printf("ERR 0x%08x %s\n", (unsigned)st, last_error(&ctx, has_ctx));
    }
    fflush(stdout);
    /* let the client read our last records before the connection ends */
    shutdown(fd, SHUT_WR);
    uint8_t sink[4096];
    for (int i = 0; i < 64 && recv(fd, sink, sizeof(sink), 0) > 0; i++)
        ;
    close(fd);
    if (has_ctx)
        DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);
    return st == SEC_E_OK ? 0 : 1;
}

static int
do_init(int port, const char *target, const char *user, const char *password, const char *domain,
        unsigned long flags, bool delegate)
{
    SEC_WINNT_AUTH_IDENTITY_A id = {(unsigned char *)user,       (unsigned long)strlen(user),
                                    (unsigned char *)domain,     (unsigned long)strlen(domain),
                                    (unsigned char *)password,   (unsigned long)strlen(password),
                                    SEC_WINNT_AUTH_IDENTITY_ANSI};
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    CREDSSP_CRED_EX cx = {
        CredsspCredEx, CREDSSP_CRED_EX_VERSION, flags, 0, {CredsspSubmitBufferBoth, &sc, &id}};
    CredHandle cred;
    CtxtHandle ctx;
    bool has_ctx = false;
    unsigned long attrs = 0;
    uint8_t pkt[512];
    uint32_t protocols;
    SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_OUTBOUND, NULL,
                                                   &cx, NULL, NULL, &cred, NULL);

    if (st != SEC_E_OK) {
        printf("ERR 0x%08x AcquireCredentialsHandle\n", (unsigned)st);
        return 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("credssp_rdp: connect");
        return 1;
    }
    int len;
    if (send_x224(fd, 0xE0, 1, PROTOCOL_SSL | PROTOCOL_HYBRID) != 0 ||
        (len = read_tpkt(fd, pkt, sizeof(pkt))) < 0 ||
        parse_x224(pkt, len, 0xD0, 2, &protocols) != 0 || protocols != PROTOCOL_HYBRID) {
        printf("ERR 0x%08x the server did not select PROTOCOL_HYBRID\n",
               (unsigned)SEC_E_UNSUPPORTED_FUNCTION);
        close(fd);
        return 1;
    }
    st = token_loop(fd, false, &cred, target,
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_MUTUAL_AUTH | ISC_REQ_EXTENDED_ERROR |
                        ISC_REQ_STREAM | ISC_REQ_CONNECTION | ISC_REQ_SEQUENCE_DETECT |
                        ISC_REQ_MANUAL_CRED_VALIDATION | (delegate ? ISC_REQ_DELEGATE : 0),
                    &ctx, &has_ctx, &attrs);
    if (st == SEC_E_OK)
        printf("OK attrs=0x%lx delegated=%d\n", attrs, (attrs & ISC_RET_DELEGATE) != 0);
    else
        printf("ERR 0x%08x %s\n", (unsigned)st, last_error(&ctx, has_ctx));
    fflush(stdout);
    close(fd);
    if (has_ctx)
        DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);
    return st == SEC_E_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *user = NULL, *password = NULL, *domain = "";
    const char *target = "TERMSRV/localhost";
    unsigned long flags = 0;
    bool delegate = true;
    int port = 0;

    if (argc < 2)
        goto usage;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--raw-ntlm") == 0) {
            flags |= GH_CREDSSP_FLAG_RAW_NTLM;
            continue;
        }
        if (strcmp(a, "--no-delegate") == 0) {
            delegate = false;
            continue;
        }
        if (v == NULL)
            goto usage;
        i++;
        if (strcmp(a, "--port") == 0)
            port = atoi(v);
        else if (strcmp(a, "--cert") == 0)
            cert = v;
        else if (strcmp(a, "--key") == 0)
            key = v;
        else if (strcmp(a, "--user") == 0)
            user = v;
        else if (strcmp(a, "--password") == 0)
            password = v;
        else if (strcmp(a, "--domain") == 0)
            domain = v;
        else if (strcmp(a, "--target") == 0)
            target = v;
        else if (strcmp(a, "--max-version") == 0)
            flags |= (unsigned long)atoi(v) << 28;
        else
            goto usage;
    }
    if (port <= 0 || user == NULL || password == NULL)
        goto usage;
    if (strcmp(argv[1], "accept") == 0 && cert != NULL) {
        int rc =
            do_accept(port, cert, key, user, password, domain[0] ? domain : "GATEHOUSE", flags);
        remove_store();
        return rc;
    }
    if (strcmp(argv[1], "init") == 0)
        return do_init(port, target, user, password, domain, flags, delegate);
usage:
    fprintf(stderr, "usage: credssp_rdp accept|init --port P ... (see the source)\n");
    return 2;
}
