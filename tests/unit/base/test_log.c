// SPDX-License-Identifier: MIT
// Unit tests for src/base/log.c: line format, levels, and log_reopen after a
// rotation (the file moved away, a new one appears under the same name, the
// descriptor number stays).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/log.h"
#include "harness/check.h"

static char dir[] = "/tmp/gh-test-log-XXXXXX";

static char *
slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = 0;

    buf[0] = '\0';
    if (f == NULL)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
test_levels_and_format(void)
{
    char path[128];
    struct log *log = NULL;

    snprintf(path, sizeof(path), "%s/levels.log", dir);
    CHECK_EQ(log_create(path, LOG_WARN, &log), GH_OK);
    CHECK_STR_EQ(log_path(log), path);
    log_msg(log, LOG_INFO, "not written %d", 1);
    log_msg(log, LOG_ERROR, "written %d", 2);
    log_destroy(log);
    const char *text = slurp(path);
    CHECK(text != NULL && strstr(text, "not written") == NULL);
    CHECK(text != NULL && strstr(text, " [error] written 2\n") != NULL);
    /* "<ISO time> [level] message" */
    CHECK(text != NULL && strlen(text) > 20 && text[4] == '-' && text[10] == 'T' &&
          text[19] == 'Z');
}

static void
test_reopen_after_rotation(void)
{
    char path[128], rotated[140];
    struct log *log = NULL;
    struct stat st;

    snprintf(path, sizeof(path), "%s/rot.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/rot.log.1", dir);
    CHECK_EQ(log_create(path, LOG_DEBUG, &log), GH_OK);
    log_msg(log, LOG_INFO, "before");
    CHECK_EQ(rename(path, rotated), 0);
    log_msg(log, LOG_INFO, "moved"); /* still goes to the renamed file */
    CHECK_EQ(log_reopen(log), GH_OK);
    log_msg(log, LOG_INFO, "after");
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0640);
    const char *text = slurp(rotated);
    CHECK(text != NULL && strstr(text, "before") != NULL && strstr(text, "moved") != NULL);
    CHECK(text != NULL && strstr(text, "after") == NULL);
    text = slurp(path);
    CHECK(text != NULL && strstr(text, "after") != NULL && strstr(text, "before") == NULL);

    /* A directory that cannot be written any more: the old file stays. */
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(mkdir(path, 0700), 0); /* the name is now a directory */
    errno = 0;
    CHECK_EQ(log_reopen(log), GH_EIO);
    CHECK(errno != 0);
    log_msg(log, LOG_INFO, "kept"); /* written to the unlinked file, no crash */
    CHECK_EQ(rmdir(path), 0);
    log_destroy(log);
    unlink(rotated);
}

static void
test_stderr_and_null(void)
{
    struct log *log = NULL;

    CHECK_EQ(log_create("-", LOG_INFO, &log), GH_OK);
    CHECK(log_path(log) == NULL);
    CHECK_EQ(log_reopen(log), GH_OK); /* nothing to reopen */
    log_destroy(log);
    CHECK_EQ(log_reopen(NULL), GH_OK);
    CHECK(log_path(NULL) == NULL);
    log_destroy(NULL);
}

int
main(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_levels_and_format();
    test_reopen_after_rotation();
    test_stderr_and_null();
    char path[128];
    snprintf(path, sizeof(path), "%s/levels.log", dir);
    unlink(path);
    rmdir(dir);
    return check_done("test_log");
}
