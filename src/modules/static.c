// SPDX-License-Identifier: MIT
// The built-in `static` handler: files under a root directory.
//
// Safety comes in two independent layers. The URL path is normalized first
// (static_path.c: strict percent-decoding, no NUL, no encoded '/', dot segments
// resolved, nothing above the root). The file is then opened relative to a
// directory descriptor of the root with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS), so the kernel itself refuses any symlink or ".." that
// would lead out of the root, even one created after start-up. On kernels
// without openat2 the fallback walks the path one component at a time with
// O_NOFOLLOW, which refuses every symlink below the root (stricter, never looser).
//
// Directives (per location, inherited from the server level):
//     static_root DIR;          the directory served (required)
//     static_index NAME;        file tried for a directory URL ("index.html");
//                               `static_index off;` disables it
// The location prefix is removed from the URL path before it is mapped, like
// nginx's alias: `location /files/ { handler static; static_root /srv/f; }` maps
// /files/a.txt to /srv/f/a.txt.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gatehouse/error.h>
#include <gatehouse/http.h>
#include <gatehouse/module.h>

#include "base/slice.h"
#include "http/h1.h"
#include "modules/static_path.h"

#define PATH_BYTES 4096
#define NAME_BYTES 256

struct static_config {
    char *root;             /* owned; NULL when not configured */
    int root_fd;            /* O_PATH directory, opened by config_check; -1 before */
    char index[NAME_BYTES]; /* "" when disabled */
};

/* ------------------------------------------------------------ config */

static int
static_config_create(void **config_out)
{
    struct static_config *cfg = calloc(1, sizeof(*cfg));

    *config_out = NULL;
    if (cfg == NULL)
        return GH_ENOMEM;
    cfg->root_fd = -1;
    memcpy(cfg->index, "index.html", sizeof("index.html"));
    *config_out = cfg;
    return GH_OK;
}

static void
static_config_destroy(void *config)
{
    struct static_config *cfg = config;

    if (cfg == NULL)
        return;
    if (cfg->root_fd >= 0)
        close(cfg->root_fd);
    free(cfg->root);
    free(cfg);
}

/* Set functions of the table below; the server checked context and arity. */
static int
set_root(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct static_config *cfg = config;

    if (d->args[0][0] != '/') {
        snprintf(err, err_len, "static_root needs one absolute directory path");
        return GH_EINVAL;
    }
    char *copy = strdup(d->args[0]);
    if (copy == NULL)
        return GH_ENOMEM;
    free(cfg->root);
    cfg->root = copy;
    return GH_OK;
}

static int
set_index(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    struct static_config *cfg = config;
    const char *name = d->args[0];
    size_t len = strlen(name);

    if (len == 0 || len >= sizeof(cfg->index) || strchr(name, '/') != NULL ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        snprintf(err, err_len, "static_index needs one file name (no '/'), or off");
        return GH_EINVAL;
    }
    if (strcmp(name, "off") == 0)
        cfg->index[0] = '\0';
    else
        memcpy(cfg->index, name, len + 1);
    return GH_OK;
}

/* The static module's directives (documented in docs/config.md). */
static const struct gh_command static_commands[] = {
    {"static_root", GH_CONF_MAIN | GH_CONF_LOCATION, 1, 1, set_root, "DIR", NULL,
     "absolute directory the files are served from (with handler static)"},
    {"static_index", GH_CONF_MAIN | GH_CONF_LOCATION, 1, 1, set_index, "NAME|off", "index.html",
     "file served for a request naming a directory; off: 404"},
    GH_COMMAND_END,
};

static int
static_config_check(void *config, char *err, size_t err_len)
{
    struct static_config *cfg = config;

    if (cfg->root == NULL || cfg->root_fd >= 0)
        return GH_OK; /* a location that does not serve files needs no root */
    cfg->root_fd = open(cfg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg->root_fd < 0) {
        snprintf(err, err_len, "static_root %s: %s", cfg->root, strerror(errno));
        return GH_EINVAL;
    }
    return GH_OK;
}

/* ------------------------------------------------------------ opening */

static bool have_openat2 = true; /* cleared once the kernel answers ENOSYS; racy but idempotent */

/* Opens rel (normalized, "" for the directory itself) below dir_fd without
 * leaving it. Returns a descriptor or -1 with errno set (EXDEV/ELOOP: refused). */
static int
open_beneath(int dir_fd, const char *rel)
{
    const char *name = rel[0] != '\0' ? rel : ".";
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK; /* a FIFO must not block */

    if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED)) {
        struct open_how how = {
            .flags = (uint64_t)flags,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        __atomic_store_n(&have_openat2, false, __ATOMIC_RELAXED);
    }
    /* Fallback: one component at a time, never following a symlink. The
     * normalizer already removed every "." and "..". */
    char part[PATH_BYTES];
    int cur = dup(dir_fd);
    const char *p = rel;
    while (cur >= 0 && *p != '\0') {
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (len >= sizeof(part)) {
            close(cur);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(part, p, len);
        part[len] = '\0';
        int next = openat(cur, part,
                          (slash != NULL ? O_PATH | O_DIRECTORY : flags) | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        close(cur);
        errno = saved;
        cur = next;
        p = slash != NULL ? slash + 1 : p + len;
    }
    if (cur >= 0 && rel[0] == '\0') {
        int fd = openat(cur, ".", flags);
        int saved = errno;
        close(cur);
        errno = saved;
        return fd;
    }
    return cur;
}

/* ------------------------------------------------------------ types */

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
};

static const char *
content_type_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash != NULL ? slash + 1 : name;
    const char *dot = strrchr(base, '.');

    if (dot != NULL && dot != base) {
        for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
            if (strcasecmp(dot + 1, content_types[i].ext) == 0)
                return content_types[i].type;
        }
    }
    return "application/octet-stream";
}

/* ------------------------------------------------------------ handler */

/* Sets the response to a short text with the status; FINISH. */
static enum gh_rq_status
answer(gh_request *req, int status)
{
    gh_response_text(req, status, NULL);
    return GH_RQ_FINISH;
}

static int
status_for_errno(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
        return 403;
    case ENAMETOOLONG:
        return 414;
    default:
        /* ENOENT, ENOTDIR, and the refusals EXDEV / ELOOP (a symlink leaving the
         * root, or any symlink in the fallback): do not tell them apart. */
        return 404;
    }
}

/* The URL path below the location, still percent-encoded. */
static struct gh_str
path_below_location(const gh_request *req)
{
    const char *path = gh_request_path(req);
    const char *loc = gh_request_location(req);
    size_t loc_len = strlen(loc);

    if (loc_len > 1 && strncmp(path, loc, loc_len) == 0)
        path += loc[loc_len - 1] == '/' ? loc_len - 1 : loc_len;
    return (struct gh_str){path, strlen(path)};
}

/* Directory URL without its trailing '/': send the client to the '/' form, so
 * relative links in the index resolve below it. */
static enum gh_rq_status
redirect_to_dir(gh_request *req)
{
    const char *path = gh_request_path(req);
    const char *query = gh_request_query(req);
    size_t len = strlen(path) + strlen(query) + 3;
    char *loc = gh_request_alloc(req, len);

    if (loc == NULL)
        return answer(req, 500);
    snprintf(loc, len, "%s/%s%s", path, query[0] != '\0' ? "?" : "", query);
    if (gh_response_header_set(req, "Location", loc) != GH_OK)
        return answer(req, 500);
    return answer(req, 301);
}

/* Whether the request's validators say the client's copy is current
 * (RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only without it). */
static bool
not_modified(const gh_request *req, const char *etag, const struct stat *st)
{
    struct gh_str v;

    if (gh_request_header(req, "If-None-Match", &v) == GH_OK)
        return static_etag_match(v.ptr, v.len, etag);
    if (gh_request_header(req, "If-Modified-Since", &v) == GH_OK) {
        time_t since;
        if (h1_date_parse(slice_make(v.ptr, v.len), &since) == GH_OK)
            return st->st_mtime <= since;
    }
    return false;
}

/* If-Range (RFC 9110 13.1.5): the Range applies only when the validator still
 * matches: an entity tag compared strongly, or the exact Last-Modified date. */
static bool
if_range_holds(const gh_request *req, const char *etag, const char *last_modified)
{
    struct gh_str v;

    if (gh_request_header(req, "If-Range", &v) != GH_OK)
        return true;
    if (v.len > 0 && v.ptr[0] == '"')
        return v.len == strlen(etag) && memcmp(v.ptr, etag, v.len) == 0;
    return v.len == strlen(last_modified) && memcmp(v.ptr, last_modified, v.len) == 0;
}

static int
set_validators(gh_request *req, const char *etag, const char *last_modified)
{
    int rc = gh_response_header_set(req, "ETag", etag);

    if (rc == GH_OK)
        rc = gh_response_header_set(req, "Last-Modified", last_modified);
    return rc;
}

/* Answers for an open regular file (fd is ours until handed to the response). */
#define SMALL_FILE_BYTES 4096 /* files up to this size are copied into the response */

static enum gh_rq_status
serve_file(gh_request *req, int fd, const struct stat *st, const char *rel)
{
    char etag[80], last_modified[32], range_text[96];
    uint64_t size = (uint64_t)st->st_size;
    struct static_range range = {0, size > 0 ? size - 1 : 0};
    int status = 200;
    struct gh_str v;

    /* Inode, size and modification time: changes with any replacement. */
    snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st->st_ino,
             size, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    last_modified[h1_date_format(st->st_mtime, last_modified)] = '\0';

    if (set_validators(req, etag, last_modified) != GH_OK)
        goto fail;
    if (not_modified(req, etag, st)) {
        close(fd);
        gh_response_status(req, 304);
        return GH_RQ_FINISH;
    }
    if (gh_response_header_set(req, "Accept-Ranges", "bytes") != GH_OK ||
        gh_response_header_set(req, "Content-Type", content_type_of(rel)) != GH_OK)
        goto fail;
    /* Range is defined for GET only (RFC 9110 14.2). Several ranges would need a
     * multipart/byteranges body: we answer those with the whole file (allowed). */
    if (!gh_request_is_head(req) && gh_request_header(req, "Range", &v) == GH_OK &&
        if_range_holds(req, etag, last_modified)) {
        int rc = static_range_parse(v.ptr, v.len, size, &range);
        if (rc == GH_ELIMIT) {
            close(fd);
            snprintf(range_text, sizeof(range_text), "bytes */%" PRIu64, size);
            gh_response_header_set(req, "Content-Range", range_text);
            return answer(req, 416);
        }
        if (rc == GH_OK) {
            status = 206;
            snprintf(range_text, sizeof(range_text), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                     range.first, range.last, size);
            if (gh_response_header_set(req, "Content-Range", range_text) != GH_OK)
                goto fail;
        } else {
            range = (struct static_range){0, size > 0 ? size - 1 : 0};
        }
    }
    gh_response_status(req, status);
    uint64_t len = size == 0 ? 0 : range.last - range.first + 1;
    if (len <= SMALL_FILE_BYTES && !gh_request_is_head(req)) {
        /* A small file goes behind the head in the same send (one TCP segment,
         * like nginx's default read + writev): sendfile after the head would
         * make a second segment, which costs more than this copy. */
        char small[SMALL_FILE_BYTES];
        ssize_t got = len > 0 ? pread(fd, small, (size_t)len, (off_t)range.first) : 0;
        if (got == (ssize_t)len) {
            close(fd);
            return gh_response_body(req, small, (size_t)len) == GH_OK ? GH_RQ_FINISH
                                                                      : answer(req, 500);
        }
        /* changed under us: sendfile sends what is there (or fails the response) */
    }
    if (gh_response_file(req, fd, (off_t)range.first, len) != GH_OK)
        return answer(req, 500); /* fd was taken and closed */
    return GH_RQ_FINISH;
fail:
    close(fd);
    return answer(req, 500);
}

static enum gh_rq_status
static_execute(gh_request *req, void *config)
{
    const struct static_config *cfg = config;
    const char *method = gh_request_method(req);
    char rel[PATH_BYTES];
    size_t rel_len = 0;
    bool is_dir = false;
    struct stat st;
    int fd;

    if (cfg == NULL || cfg->root_fd < 0) {
        gh_request_log(req, GH_LOG_ERROR, "static: no static_root for location %s",
                       gh_request_location(req));
        return answer(req, 500);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        gh_response_header_set(req, "Allow", "GET, HEAD");
        return answer(req, 405);
    }
    struct gh_str path = path_below_location(req);
    int rc =
        static_path_normalize(path.ptr, path.len, rel, sizeof(rel) - NAME_BYTES, &rel_len, &is_dir);
    if (rc != GH_OK) {
        gh_request_log(req, GH_LOG_DEBUG, "static: refused path (%s)", gh_strerror(rc));
        return answer(req, rc == GH_ELIMIT ? 414 : 400);
    }
    fd = open_beneath(cfg->root_fd, rel);
    if (fd < 0) {
        gh_request_log(req, GH_LOG_DEBUG, "static: %s: %s", rel, strerror(errno));
        return answer(req, status_for_errno(errno));
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return answer(req, 500);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        if (!is_dir || path.len == 0 || path.ptr[path.len - 1] != '/')
            return redirect_to_dir(req);
        if (cfg->index[0] == '\0')
            return answer(req, 404); /* no listings: a directory without index is 404 */
        /* rel has NAME_BYTES of room left for "/" + the index name. */
        snprintf(rel + rel_len, sizeof(rel) - rel_len, "%s%s", rel_len > 0 ? "/" : "", cfg->index);
        fd = open_beneath(cfg->root_fd, rel);
        if (fd < 0)
            return answer(req, status_for_errno(errno));
        if (fstat(fd, &st) != 0) {
            close(fd);
            return answer(req, 500);
        }
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return answer(req, 404); /* devices, FIFOs, sockets, a directory as index */
    }
    return serve_file(req, fd, &st, rel);
}

const struct gh_module static_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "static",
    .description = "files under a root directory (ETag, Range, sendfile)",
    .config_create = static_config_create,
    .commands = static_commands,
    .config_check = static_config_check,
    .config_destroy = static_config_destroy,
    .on_execute_handler = static_execute,
};
GH_MODULE_EXPORT(static_module)
