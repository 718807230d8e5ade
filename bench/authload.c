// SPDX-License-Identifier: MIT
// authload: the load client of bench/vs-apache. One client for every server,
// so that differences are the servers'. Each thread owns one connection at a
// time and runs one mode until the deadline or the request cap:
//
//   krb   new connection, one SPNEGO/Kerberos token (MIT GSSAPI, mutual auth
//         requested, the service ticket cached in KRB5CCNAME), expect 200, close
//   ntlm  new connection, raw NTLM through gss-ntlmssp (NTLM_USER_FILE):
//         NEGOTIATE -> 401 CHALLENGE -> AUTHENTICATE -> 200, close
//   ka    one krb handshake per connection, then keep-alive requests without
//         Authorization (the server persisted the identity); counts those only
//   none  keep-alive requests, no Authorization
//   basic keep-alive requests, each with the same Authorization: Basic
//
// Output (one line): "ok=N fail=F seconds=S rate=R". A response other than
// 200 where 200 is due counts as a failure, and the connection starts over.
// Built by bench/vs-apache: cc -O2 authload.c -lgssapi_krb5 -lcrypto -lpthread.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <openssl/evp.h>

enum mode {
    MODE_KRB,
    MODE_NTLM,
    MODE_KA,
    MODE_NONE,
    MODE_BASIC
};

static struct {
    enum mode mode;
    int port;
    const char *path;
    const char *basic_b64; /* user:password, base64 */
    const char *ntlm_user; /* DOMAIN\user for gss-ntlmssp */
    int threads;
    double duration_s;
    long max_ok;
} opt = {.path = "/", .threads = 4, .duration_s = 5, .max_ok = 10000000};

static atomic_long total_ok, total_fail;
static double deadline;
static gss_OID_desc spnego_oid = {6, "\x2b\x06\x01\x05\x05\x02"};
static gss_OID_desc ntlmssp_oid = {10, "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* One response: status, and the token of "WWW-Authenticate: <scheme> <b64>"
 * when scheme is given (copied to tok, NUL-terminated). Reads the whole body. */
static int
read_response(int fd, const char *scheme, char *tok, size_t tok_cap, bool *closes)
{
    static _Thread_local char buf[65536];
    size_t have = 0;
    char *end = NULL;

    *closes = false;
    if (tok != NULL)
        tok[0] = 0;
    while (end == NULL) {
        if (have == sizeof(buf) - 1)
            return -1;
        ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head = (size_t)(end - buf) + 4;
    int status = atoi(buf + 9);
    long clen = 0;
    for (char *line = strstr(buf, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close") &&
                 strcasestr(line, "close") < strstr(line, "\r\n"))
            *closes = true;
        else if (scheme != NULL && tok != NULL && strncasecmp(line, "WWW-Authenticate:", 17) == 0) {
            const char *v = line + 17;
            while (*v == ' ')
                v++;
            size_t sl = strlen(scheme);
            if (strncasecmp(v, scheme, sl) == 0 && v[sl] == ' ') {
                const char *t = v + sl + 1;
                size_t n = (size_t)(strstr(t, "\r\n") - t);
                if (n < tok_cap) {
                    memcpy(tok, t, n);
                    tok[n] = 0;
                }
            }
        }
    }
    long body = (long)(have - head);
    while (body < clen) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            return -1;
        body += r;
    }
    return status;
}

static int
request(int fd, const char *authz, const char *scheme, char *tok, size_t cap, bool *closes)
{
    char req[16384];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s\r\n", opt.path,
                     authz ? "Authorization: " : "", authz ? authz : "", authz ? "\r\n" : "");
    if (n <= 0 || (size_t)n >= sizeof(req) || !send_all(fd, req, (size_t)n))
        return -1;
    return read_response(fd, scheme, tok, cap, closes);
}

static void
b64(const void *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* One GSSAPI handshake on fd. Returns 200 on success, else the last status or -1. */
static int
handshake(int fd, gss_cred_id_t cred, gss_name_t target, gss_OID mech, const char *scheme,
          bool *closes)
{
    gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 minor, major;
    static _Thread_local char authz[12000], tok[12000];
    static _Thread_local unsigned char raw[9000];
    int status = -1;

    for (int leg = 0; leg < 4; leg++) {
        major = gss_init_sec_context(&minor, cred, &ctx, target, mech,
                                     GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG, 0, NULL, &in, NULL,
                                     &out, NULL, NULL);
        if (GSS_ERROR(major) || out.length == 0 || out.length > 8000) {
            /* complete with no token to send: the 200 came already */
            if (!GSS_ERROR(major) && out.length == 0 && status == 200)
                break;
            status = -1;
            break;
        }
        int n = snprintf(authz, sizeof(authz), "%s ", scheme);
        b64(out.value, out.length, authz + n);
        gss_release_buffer(&minor, &out);
        status = request(fd, authz, scheme, tok, sizeof(tok), closes);
        if (status != 401 || tok[0] == 0 || *closes)
            break;
        int rn = EVP_DecodeBlock(raw, (unsigned char *)tok, (int)strlen(tok));
        if (rn <= 0) {
            status = -1;
            break;
        }
        size_t pad =
            strlen(tok) >= 2 ? (tok[strlen(tok) - 1] == '=') + (tok[strlen(tok) - 2] == '=') : 0;
        in.value = raw;
        in.length = (size_t)rn - pad;
    }
    gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
    return status;
}

static void *
worker(void *arg)
{
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    gss_name_t target = GSS_C_NO_NAME, user = GSS_C_NO_NAME;
    gss_buffer_desc nb = {strlen("HTTP@localhost"), "HTTP@localhost"};
    OM_uint32 minor;
    char authz[1024];
    long ok = 0, fail = 0;

    (void)arg;
    gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target);
    if (opt.mode == MODE_NTLM) {
        gss_buffer_desc ub = {strlen(opt.ntlm_user), (void *)opt.ntlm_user};
        gss_OID_set_desc mechs = {1, &ntlmssp_oid};
        gss_import_name(&minor, &ub, GSS_C_NT_USER_NAME, &user);
        if (GSS_ERROR(gss_acquire_cred(&minor, user, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
                                       &cred, NULL, NULL))) {
            fprintf(stderr, "authload: cannot acquire NTLM credentials for %s\n", opt.ntlm_user);
            atomic_fetch_add(&total_fail, 1);
            goto cleanup;
        }
    }
    if (opt.mode == MODE_BASIC)
        snprintf(authz, sizeof(authz), "Basic %s", opt.basic_b64);
    while (now_s() < deadline && atomic_load(&total_ok) < opt.max_ok) {
        bool closes = false;
        int fd = dial();
        if (fd < 0) {
            fail++;
            continue;
        }
        if (opt.mode == MODE_KRB || opt.mode == MODE_NTLM) {
            int st = opt.mode == MODE_KRB
                         ? handshake(fd, cred, target, &spnego_oid, "Negotiate", &closes)
                         : handshake(fd, cred, target, &ntlmssp_oid, "NTLM", &closes);
            if (st == 200) {
                ok++;
                atomic_fetch_add(&total_ok, 1);
            } else {
                fail++;
            }
            close(fd);
            continue;
        }
        if (opt.mode == MODE_KA &&
            handshake(fd, cred, target, &spnego_oid, "Negotiate", &closes) != 200) {
            fail++;
            close(fd);
            continue;
        }
        while (!closes && now_s() < deadline) {
            int st = request(fd, opt.mode == MODE_BASIC ? authz : NULL, NULL, NULL, 0, &closes);
            if (st != 200) {
                fail++;
                break;
            }
            ok++;
            if (atomic_fetch_add(&total_ok, 1) + 1 >= opt.max_ok)
                break;
        }
        close(fd);
    }
cleanup:
    atomic_fetch_add(&total_fail, fail);
    gss_release_cred(&minor, &cred);
    gss_release_name(&minor, &target);
    gss_release_name(&minor, &user);
    (void)ok;
    return NULL;
}

static void
usage(void)
{
    fputs("usage: authload krb|ntlm|ka|none|basic PORT [-p PATH] [-t THREADS] [-d SECONDS]\n"
          "                [-n MAX_OK] [-b BASE64_USER_PASS] [-u DOMAIN\\\\USER]\n",
          stderr);
    exit(2);
}

int
main(int argc, char **argv)
{
    static const char *names[] = {"krb", "ntlm", "ka", "none", "basic"};
    pthread_t tids[256];
    int i;

    if (argc < 3)
        usage();
    for (i = 0; i < 5 && strcmp(argv[1], names[i]) != 0; i++)
        ;
    if (i == 5)
        usage();
    opt.mode = (enum mode)i;
    opt.port = atoi(argv[2]);
    for (i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-p") == 0)
            opt.path = argv[i + 1];
        else if (strcmp(argv[i], "-t") == 0)
            opt.threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-d") == 0)
            opt.duration_s = atof(argv[i + 1]);
        else if (strcmp(argv[i], "-n") == 0)
            opt.max_ok = atol(argv[i + 1]);
        else if (strcmp(argv[i], "-b") == 0)
            opt.basic_b64 = argv[i + 1];
        else if (strcmp(argv[i], "-u") == 0)
            opt.ntlm_user = argv[i + 1];
        else
            usage();
    }
    if (i != argc || opt.port <= 0 || opt.threads < 1 || opt.threads > 256 || opt.duration_s <= 0 ||
        opt.duration_s > 120 || opt.max_ok < 1 ||
        (opt.mode == MODE_BASIC && opt.basic_b64 == NULL) ||
        (opt.mode == MODE_NTLM && opt.ntlm_user == NULL))
        usage();
    double start = now_s();
    deadline = start + opt.duration_s;
    for (i = 0; i < opt.threads; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
            return 1;
    for (i = 0; i < opt.threads; i++)
        pthread_join(tids[i], NULL);
    double secs = now_s() - start;
    long ok = atomic_load(&total_ok);
    printf("ok=%ld fail=%ld seconds=%.3f rate=%.1f\n", ok, atomic_load(&total_fail), secs,
           (double)ok / secs);
    return 0;
}
