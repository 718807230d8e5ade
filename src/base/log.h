// SPDX-License-Identifier: MIT
// struct log: leveled, line-oriented logging to a file descriptor.
#ifndef GH_BASE_LOG_H
#define GH_BASE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
};

struct log;

/* Opens path for appending (NULL or "-" means stderr). GH_OK, GH_EIO or GH_ENOMEM;
 * on GH_EIO errno tells why. */
int log_create(const char *path, enum log_level min_level, struct log **log_out);
/* Whether log_create(path) would succeed, without creating or changing
 * anything (for `serve --check`, which may run as another user than the
 * server): an existing file must open for appending, a missing one needs a
 * writable directory. NULL or "-" is always GH_OK. GH_OK or GH_EIO (errno
 * tells why). */
int log_probe(const char *path);
void log_destroy(struct log *log); /* NULL-safe */
/* Reopens the log's file by its path (after logrotate moved it) and puts the
 * new file on the same descriptor with dup3(2), so threads writing at that
 * moment finish in the old file or the new one, never nowhere. NULL and stderr
 * logs: GH_OK, nothing done. GH_OK, or GH_EIO with errno (the old file stays). */
int log_reopen(struct log *log);
/* The path given to log_create, or NULL for stderr; borrowed from the log. */
const char *log_path(const struct log *log);
/* Parses "error", "warn", "info", "debug". GH_OK or GH_EINVAL. */
int log_level_parse(const char *name, enum log_level *level_out);
/* Writes one line "<ISO time> [level] message\n" with a single write(2), so
 * lines from different threads never interleave. NULL log writes to stderr. */
void log_msg(struct log *log, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(struct log *log, enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Writes a preformatted line as is (access and audit logs). */
void log_raw(struct log *log, const char *line, size_t len);

#endif
