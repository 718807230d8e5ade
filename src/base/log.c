// SPDX-License-Identifier: MIT
// Logging with one write(2) per line: atomic for O_APPEND files and pipes
// below PIPE_BUF, so worker threads need no lock.
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gatehouse/error.h>

struct log {
    int fd;
    int owns_fd;
    enum log_level min_level;
    char *path; /* owned; NULL for stderr */
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
log_create(const char *path, enum log_level min_level, struct log **log_out)
{
    struct log *log = calloc(1, sizeof(*log));

    *log_out = NULL;
    if (log == NULL)
        return GH_ENOMEM;
    log->min_level = min_level;
    if (path == NULL || strcmp(path, "-") == 0) {
        log->fd = STDERR_FILENO;
    } else {
        log->path = strdup(path);
        if (log->path == NULL) {
            free(log);
            return GH_ENOMEM;
        }
        log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (log->fd < 0) {
            int saved = errno;
            free(log->path);
            free(log);
            errno = saved;
            return GH_EIO;
        }
        log->owns_fd = 1;
    }
    *log_out = log;
    return GH_OK;
}

int
log_probe(const char *path)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return GH_OK;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0) {
        close(fd);
        return GH_OK;
    }
    if (errno != ENOENT)
        return GH_EIO;
    /* Missing: log_create would make it in its directory. */
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if ((size_t)(slash - path) >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return GH_EIO;
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return access(dir, W_OK | X_OK) == 0 ? GH_OK : GH_EIO;
}

void
log_destroy(struct log *log)
{
    if (log == NULL)
        return;
    if (log->owns_fd)
        close(log->fd);
    free(log->path);
    free(log);
}

int
log_reopen(struct log *log)
{
    if (log == NULL || !log->owns_fd)
        return GH_OK;
    int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return GH_EIO;
    /* dup3 swaps the file under the descriptor number atomically: writers
     * never see a closed or reused descriptor. */
    int rc = dup3(fd, log->fd, O_CLOEXEC);
    int saved = errno;
    close(fd);
    if (rc < 0) {
        errno = saved;
        return GH_EIO;
    }
    return GH_OK;
}

const char *
log_path(const struct log *log)
{
    return log == NULL ? NULL : log->path;
}

int
log_level_parse(const char *name, enum log_level *level_out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level_out = (enum log_level)i;
            return GH_OK;
        }
    }
    return GH_EINVAL;
}

void
log_raw(struct log *log, const char *line, size_t len)
{
    int fd = log == NULL ? STDERR_FILENO : log->fd;

    while (len > 0) {
        ssize_t n = write(fd, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report a logging failure */
        line += n;
        len -= (size_t)n;
    }
}

void
log_vmsg(struct log *log, enum log_level level, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int m;

    if (log != NULL && level > log->min_level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
    m = snprintf(line + n, sizeof(line) - n, " [%s] ", level_names[level]);
    if (m < 0)
        return;
    n += (size_t)m;
    m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (m < 0)
        return;
    n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
    line[n++] = '\n';
    log_raw(log, line, n);
}

void
log_msg(struct log *log, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(log, level, fmt, ap);
    va_end(ap);
}
