// SPDX-License-Identifier: MIT
// gatehouse fetch URL [options]: an HTTP(S) client that authenticates with the
// security library, like `curl --negotiate -u :` or `curl --ntlm -u user:pw`.
// docs/fetch.md describes options, behaviour and exit statuses.
//
// Flow: send the request; on a 401 pick a scheme from the challenges
// (fetch_auth.c) and answer it, leg after leg, on the same keep-alive
// connection (NTLM and Negotiate bind the handshake to the connection), until a
// final response, whose mutual-authentication data is verified before it is
// written out. The request body is re-sent in full on every leg: servers
// (ours, IIS, Apache) read and discard the body of a request they answer with
// 401, and re-sending keeps the client correct for any scheme; curl's trick of
// Content-Length: 0 on NTLM's first legs saves bandwidth only.
#include "cli/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/banned.h"
#include "base/secret.h"
#include "cli/cli.h"
#include "cli/prompt.h"

#define MAX_USER_HEADERS 64
#define MAX_BODY_UPLOAD  (256 * 1024 * 1024)
#define MAX_REQUEST_HEAD (256 * 1024)
#define PASSWORD_BYTES   1024
#define MAX_ROUND_TRIPS  12

struct fetch_opts {
    const char *url;
    enum fetch_auth_mode auth;
    const char *user_arg; /* -u as given */
    bool delegate;
    struct fetch_tls_opts tls;
    const char *method;
    const char *data;      /* -d */
    const char *data_file; /* --data-file */
    const char *headers[MAX_USER_HEADERS];
    size_t header_count;
    const char *out_path;
    bool include;
    bool verbose;
    int connect_timeout_ms;
    int read_timeout_ms;
    struct fetch_limits limits;
};

static void
usage(FILE *out)
{
    fputs("usage: gatehouse fetch URL [options]\n"
          "  --auth negotiate|ntlm|kerberos|credssp|basic|digest|any|none   (default: any)\n"
          "  -u user[:password]   explicit credentials; '-u :' or no -u: default credentials\n"
          "                       (Kerberos ccache, $NTLM_USER_FILE); 'user' alone prompts\n"
          "                       (no echo) or reads one line from standard input\n"
          "  --delegate           forward the Kerberos TGT, or with CredSSP the password "
          "(ISC_REQ_DELEGATE)\n"
          "  --cacert FILE        trust these CA certificates instead of the system store\n"
          "  --insecure, -k       do not verify the server certificate\n"
          "  -X METHOD            request method (default GET, or POST with a body)\n"
          "  -d DATA              request body; --data-file FILE reads it from a file\n"
          "  -H 'Name: value'     extra request header (repeatable; 'Name:' drops a default)\n"
          "  -o FILE              write the body to FILE instead of standard output\n"
          "  -i                   include the response head in the output\n"
          "  -v                   show each leg on standard error (no secrets)\n"
          "  --timeout SECONDS    read timeout (default 30); --connect-timeout (default 10)\n"
          "  --max-body BYTES     response body limit (default 1 GiB)\n"
          "exit: 0 success (status < 400), 1 HTTP status >= 400, 2 usage, 3 network/TLS,\n"
          "      4 authentication failed, 5 local file error\n",
          out);
}

static int
parse_seconds(const char *text, int *ms_out)
{
    char *end = NULL;
    errno = 0;
    double s = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(s > 0) || s > 86400)
        return GH_EINVAL;
    *ms_out = (int)(s * 1000.0);
    if (*ms_out < 1)
        *ms_out = 1;
    return GH_OK;
}

static int
parse_args(int argc, char **argv, struct fetch_opts *o)
{
    *o = (struct fetch_opts){
        .auth = FETCH_AUTH_ANY,
        .connect_timeout_ms = 10000,
        .read_timeout_ms = 30000,
        .limits = {.max_head_bytes = 64 * 1024, .max_body_bytes = 1024ull * 1024 * 1024}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_VALUE                                                    \
    do {                                                               \
        if (v == NULL) {                                               \
            fprintf(stderr, "gatehouse fetch: %s needs a value\n", a); \
            return GH_EINVAL;                                          \
        }                                                              \
        i++;                                                           \
    } while (0)
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return GH_ENOTFOUND; /* means "done, exit 0" */
        } else if (strcmp(a, "--auth") == 0) {
            NEEDS_VALUE;
            if (fetch_auth_mode_parse(v, &o->auth) != GH_OK) {
                fprintf(stderr, "gatehouse fetch: unknown --auth '%s'\n", v);
                return GH_EINVAL;
            }
        } else if (strcmp(a, "-u") == 0 || strcmp(a, "--user") == 0) {
            NEEDS_VALUE;
            o->user_arg = v;
        } else if (strcmp(a, "--delegate") == 0) {
            o->delegate = true;
        } else if (strcmp(a, "--cacert") == 0) {
            NEEDS_VALUE;
            o->tls.cacert = v;
        } else if (strcmp(a, "--insecure") == 0 || strcmp(a, "-k") == 0) {
            o->tls.insecure = true;
        } else if (strcmp(a, "-X") == 0 || strcmp(a, "--request") == 0) {
            NEEDS_VALUE;
            o->method = v;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--data") == 0) {
            NEEDS_VALUE;
            o->data = v;
        } else if (strcmp(a, "--data-file") == 0) {
            NEEDS_VALUE;
            o->data_file = v;
        } else if (strcmp(a, "-H") == 0 || strcmp(a, "--header") == 0) {
            NEEDS_VALUE;
            if (o->header_count >= MAX_USER_HEADERS) {
                fprintf(stderr, "gatehouse fetch: more than %d -H\n", MAX_USER_HEADERS);
                return GH_EINVAL;
            }
            o->headers[o->header_count++] = v;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            NEEDS_VALUE;
            o->out_path = v;
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "--include") == 0) {
            o->include = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--timeout") == 0 || strcmp(a, "--connect-timeout") == 0) {
            NEEDS_VALUE;
            int *dst = a[2] == 't' ? &o->read_timeout_ms : &o->connect_timeout_ms;
            if (parse_seconds(v, dst) != GH_OK) {
                fprintf(stderr, "gatehouse fetch: %s: not a number of seconds: '%s'\n", a, v);
                return GH_EINVAL;
            }
        } else if (strcmp(a, "--max-body") == 0) {
            NEEDS_VALUE;
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0') {
                fprintf(stderr, "gatehouse fetch: --max-body: not a byte count: '%s'\n", v);
                return GH_EINVAL;
            }
            o->limits.max_body_bytes = n;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "gatehouse fetch: unknown option '%s'\n", a);
            return GH_EINVAL;
        } else if (o->url == NULL) {
            o->url = a;
        } else {
            fprintf(stderr, "gatehouse fetch: more than one URL\n");
            return GH_EINVAL;
        }
#undef NEEDS_VALUE
    }
    if (o->url == NULL) {
        fprintf(stderr, "gatehouse fetch: no URL\n");
        return GH_EINVAL;
    }
    if (o->data != NULL && o->data_file != NULL) {
        fprintf(stderr, "gatehouse fetch: -d and --data-file exclude each other\n");
        return GH_EINVAL;
    }
    if (o->method == NULL)
        o->method = (o->data != NULL || o->data_file != NULL) ? "POST" : "GET";
    for (const char *m = o->method; *m != 0; m++) {
        if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z') || *m == '-' || *m == '_')) {
            fprintf(stderr, "gatehouse fetch: invalid method '%s'\n", o->method);
            return GH_EINVAL;
        }
    }
    return o->method[0] == '\0' ? GH_EINVAL : GH_OK;
}

/* The password for -u user: from the terminal without echo, or one line of
 * standard input when it is not a terminal. */
static int
load_file(const char *path, struct buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return GH_EIO;
    int err = GH_OK;
    for (;;) {
        err = buf_reserve(out, 65536);
        if (err != GH_OK)
            break;
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = GH_EIO;
            break;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    close(fd);
    return err;
}

/* True when a -H line names header (case-insensitive). */
static bool
header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static bool
user_overrides(const struct fetch_opts *o, const char *name)
{
    for (size_t i = 0; i < o->header_count; i++) {
        if (header_is(o->headers[i], name))
            return true;
    }
    return false;
}

/* Builds the request head; authz may be empty. Authorization values are never
 * echoed by -v (only their scheme and length). */
static int
build_request(const struct fetch_opts *o, const struct fetch_url *u, struct slice authz,
              size_t body_len, bool has_body, struct buf *out)
{
    int err = buf_printf(out, "%s %s HTTP/1.1\r\n", o->method, u->target);
    if (err == GH_OK && !user_overrides(o, "Host"))
        err = h1_write_header(out, SLICE_LIT("Host"), slice_cstr(u->authority));
    if (err == GH_OK && !user_overrides(o, "User-Agent"))
        err =
            h1_write_header(out, SLICE_LIT("User-Agent"), SLICE_LIT("gatehouse-fetch/" GH_VERSION));
    if (err == GH_OK && !user_overrides(o, "Accept"))
        err = h1_write_header(out, SLICE_LIT("Accept"), SLICE_LIT("*/*"));
    for (size_t i = 0; err == GH_OK && i < o->header_count; i++) {
        const char *line = o->headers[i];
        const char *colon = strchr(line, ':');
        if (colon == NULL || colon == line)
            return GH_EINVAL;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v == '\0')
            continue; /* "Name:" drops the default header of that name */
        err = h1_write_header(out, slice_make(line, (size_t)(colon - line)), slice_cstr(v));
    }
    if (err == GH_OK && authz.len > 0)
        err = h1_write_header(out, SLICE_LIT("Authorization"), authz);
    if (err == GH_OK && has_body && !user_overrides(o, "Content-Length"))
        err = buf_printf(out, "Content-Length: %zu\r\n", body_len);
    if (err == GH_OK)
        err = buf_append_str(out, "\r\n");
    return err;
}

static void
show_request(FILE *v, const struct buf *req)
{
    const char *p = (const char *)req->data;
    const char *end = p + req->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl != NULL ? nl : end) - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n == 0)
            break;
        if (n > 15 && strncasecmp(p, "Authorization: ", 15) == 0) {
            const char *sp = memchr(p + 15, ' ', n - 15);
            size_t scheme_len = sp != NULL ? (size_t)(sp - (p + 15)) : n - 15;
            fprintf(v, "> Authorization: %.*s [%zu characters not shown]\n", (int)scheme_len,
                    p + 15, n - 15 - scheme_len);
        } else {
            fprintf(v, "> %.*s\n", (int)n, p);
        }
        p = nl != NULL ? nl + 1 : end;
    }
    fputs(">\n", v);
}

static void
show_response(FILE *v, const struct fetch_response *r)
{
    const char *p = (const char *)r->head.data;
    size_t first = strcspn(p, "\r\n");
    if (first > r->head.len)
        first = r->head.len;
    fprintf(v, "< %.*s\n", (int)first, p);
    for (size_t i = 0; i < r->header_count; i++) {
        const struct h1_header *h = &r->headers[i];
        if (slice_eq_nocase(h->name, SLICE_LIT("WWW-Authenticate")) && h->value.len < 65536) {
            /* Tokens are shown by scheme and size only. */
            uint8_t scratch[65536];
            struct fetch_challenges cs = {.scratch = scratch, .scratch_len = sizeof(scratch)};
            if (fetch_challenge_parse(h->value, &cs) == GH_OK && cs.count == 1 &&
                cs.items[0].token68.len > 0) {
                fprintf(v, "< %.*s: %.*s [token, %zu base64 characters]\n", (int)h->name.len,
                        (const char *)h->name.ptr, (int)cs.items[0].scheme.len,
                        (const char *)cs.items[0].scheme.ptr, cs.items[0].token68.len);
                continue;
            }
        }
        fprintf(v, "< %.*s: %.*s\n", (int)h->name.len, (const char *)h->name.ptr, (int)h->value.len,
                (const char *)h->value.ptr);
    }
    fputs("<\n", v);
}

struct out_sink {
    FILE *f;
    bool failed;
};

static int
write_sink(void *arg, const uint8_t *data, size_t len)
{
    struct out_sink *s = arg;
    if (fwrite(data, 1, len, s->f) != len) {
        s->failed = true;
        return GH_EIO;
    }
    return GH_OK;
}

static int
net_exit(const char *what, int err)
{
    fprintf(stderr, "fetch: %s: %s\n", what, gh_strerror(err));
    return FETCH_EXIT_NET;
}

/* Everything after option parsing; returns the exit status. */
static int
run(const struct fetch_opts *o, const char *user, const char *password)
{
    struct fetch_url url = {0};
    struct fetch_conn *conn = NULL;
    struct fetch_auth *auth = NULL;
    struct fetch_response resp;
    struct buf body, req, authz;
    struct out_sink sink = {.f = NULL};
    FILE *vout = o->verbose ? stderr : NULL;
    const char *why = NULL;
    uint8_t cbt[128];
    size_t cbt_len = 0;
    char errtext[512];
    int rc = FETCH_EXIT_NET;
    int err;

    fetch_response_init(&resp, o->limits.max_head_bytes);
    buf_init(&body, MAX_BODY_UPLOAD);
    buf_init(&req, MAX_REQUEST_HEAD);
    buf_init(&authz, 128 * 1024);

    err = fetch_url_parse(o->url, &url, &why);
    if (err != GH_OK) {
        fprintf(stderr, "gatehouse fetch: %s: %s\n", o->url, why != NULL ? why : "out of memory");
        rc = err == GH_EINVAL ? FETCH_EXIT_USAGE : FETCH_EXIT_NET;
        goto cleanup;
    }
    bool has_body = o->data != NULL || o->data_file != NULL;
    if (o->data != NULL)
        err = buf_append_str(&body, o->data);
    else if (o->data_file != NULL)
        err = load_file(o->data_file, &body);
    if (err != GH_OK) {
        fprintf(stderr, "fetch: cannot read %s: %s\n", o->data_file ? o->data_file : "-d",
                err == GH_EIO ? strerror(errno) : gh_strerror(err));
        rc = FETCH_EXIT_FILE;
        goto cleanup;
    }

    struct fetch_auth_config acfg = {.mode = o->auth,
                                     .user = user,
                                     .password = password,
                                     .delegate = o->delegate,
                                     .host = url.host,
                                     .method = o->method,
                                     .uri = url.target,
                                     .verbose = vout};
    bool is_head = strcasecmp(o->method, "HEAD") == 0;
    bool reused = false;
    for (int trip = 0;; trip++) {
        if (trip >= MAX_ROUND_TRIPS) {
            fprintf(stderr, "fetch: more than %d round trips\n", MAX_ROUND_TRIPS);
            rc = FETCH_EXIT_AUTH;
            goto cleanup;
        }
        if (conn == NULL) {
            if (fetch_auth_needs_same_conn(auth)) {
                fprintf(stderr,
                        "fetch: %s: the server closed the connection in the middle of "
                        "the handshake (it must stay open for NTLM and Negotiate)\n",
                        fetch_auth_describe(auth));
                rc = FETCH_EXIT_AUTH;
                goto cleanup;
            }
            err = fetch_conn_open(url.host, url.port, url.is_https ? &o->tls : NULL,
                                  o->connect_timeout_ms, o->read_timeout_ms, &conn, errtext,
                                  sizeof(errtext));
            if (err != GH_OK) {
                fprintf(stderr, "fetch: %s\n", errtext[0] ? errtext : gh_strerror(err));
                rc = FETCH_EXIT_NET;
                goto cleanup;
            }
            reused = false;
            cbt_len = 0;
            if (fetch_conn_endpoint_binding(conn, cbt, sizeof(cbt), &cbt_len) != GH_OK)
                cbt_len = 0;
            if (vout != NULL) {
                char d[128];
                fprintf(vout, "* connected to %s port %u (%s)%s\n", url.host, (unsigned)url.port,
                        fetch_conn_describe(conn, d, sizeof(d)),
                        cbt_len > 0 ? ", tls-server-end-point bindings ready" : "");
            }
        }
        req.len = 0;
        err = build_request(o, &url, buf_slice(&authz), body.len, has_body, &req);
        if (err != GH_OK) {
            fprintf(stderr, "gatehouse fetch: invalid request header (-H 'Name: value', no "
                            "control characters)\n");
            rc = FETCH_EXIT_USAGE;
            goto cleanup;
        }
        if (vout != NULL)
            show_request(vout, &req);
        err = fetch_conn_write(conn, req.data, req.len);
        if (err == GH_OK && body.len > 0)
            err = fetch_conn_write(conn, body.data, body.len);
        if (err == GH_OK)
            err = fetch_http_read_head(conn, &o->limits, &resp);
        if (err == GH_ECLOSED && reused && !fetch_auth_needs_same_conn(auth)) {
            /* The server dropped an idle keep-alive connection: retry once. */
            fetch_conn_close(conn);
            conn = NULL;
            reused = false;
            trip--;
            continue;
        }
        if (err != GH_OK) {
            rc = net_exit("reading the response", err);
            goto cleanup;
        }
        if (vout != NULL)
            show_response(vout, &resp);

        int step;
        if (auth == NULL) {
            if (resp.status != 401 || o->auth == FETCH_AUTH_NONE)
                break; /* final, unauthenticated */
            step = fetch_auth_answer(&acfg, &resp, cbt_len > 0 ? cbt : NULL, cbt_len, &authz, &auth,
                                     stderr);
        } else {
            step = fetch_auth_step(auth, &resp, &authz);
        }
        if (step == GH_ENOMEM) {
            rc = net_exit("authentication", GH_ENOMEM);
            goto cleanup;
        }
        if (step == FETCH_AUTH_FAILED) {
            rc = FETCH_EXIT_AUTH;
            goto cleanup;
        }
        if (step == FETCH_AUTH_DONE)
            break;
        /* FETCH_AUTH_SEND: discard this 401's body, then the next leg. */
        err = fetch_http_read_body(conn, &o->limits, &resp, is_head, NULL, NULL);
        if (err != GH_OK) {
            rc = net_exit("reading a 401 body", err);
            goto cleanup;
        }
        if (!resp.keep_alive || resp.body_kind == H1_BODY_CLOSE) {
            fetch_conn_close(conn);
            conn = NULL;
        } else {
            reused = true;
        }
    }

    /* The final response. */
    if (o->out_path != NULL) {
        sink.f = fopen(o->out_path, "wb");
        if (sink.f == NULL) {
            fprintf(stderr, "fetch: cannot create %s: %s\n", o->out_path, strerror(errno));
            rc = FETCH_EXIT_FILE;
            goto cleanup;
        }
    } else {
        sink.f = stdout;
    }
    if (o->include && fwrite(resp.head.data, 1, resp.head.len, sink.f) != resp.head.len)
        sink.failed = true;
    err = fetch_http_read_body(conn, &o->limits, &resp, is_head, write_sink, &sink);
    if (fflush(sink.f) != 0)
        sink.failed = true;
    if (sink.failed) {
        fprintf(stderr, "fetch: cannot write %s: %s\n", o->out_path ? o->out_path : "the output",
                strerror(errno));
        rc = FETCH_EXIT_FILE;
        goto cleanup;
    }
    if (err != GH_OK) {
        rc = net_exit("reading the response body", err);
        goto cleanup;
    }
    if (vout != NULL)
        fprintf(vout, "* status %d%s%s\n", resp.status, auth != NULL ? ", authenticated with " : "",
                auth != NULL ? fetch_auth_describe(auth) : "");
    rc = resp.status >= 400 ? FETCH_EXIT_HTTP : FETCH_EXIT_OK;
cleanup:
    if (sink.f != NULL && sink.f != stdout)
        fclose(sink.f);
    fetch_auth_destroy(auth);
    fetch_conn_close(conn);
    fetch_response_reset(&resp);
    buf_free(&resp.head);
    buf_free(&body);
    buf_free(&req);
    buf_free_wipe(&authz);
    fetch_url_free(&url);
    return rc;
}

int
cli_fetch(int argc, char **argv)
{
    struct fetch_opts o;
    char password[PASSWORD_BYTES];
    char *user = NULL;
    const char *pw = NULL;
    int rc;

    int err = parse_args(argc, argv, &o);
    if (err == GH_ENOTFOUND)
        return FETCH_EXIT_OK;
    if (err != GH_OK) {
        fprintf(stderr, "(gatehouse fetch --help lists the options)\n");
        return FETCH_EXIT_USAGE;
    }
    err = fetch_user_arg(o.user_arg, "gatehouse fetch", &user, password, sizeof(password), &pw);
    if (err != GH_OK)
        return err == GH_ENOMEM ? FETCH_EXIT_NET : FETCH_EXIT_USAGE;
    rc = run(&o, user, pw);
    secret_wipe(password, sizeof(password));
    free(user);
    return rc;
}
