// SPDX-License-Identifier: MIT
// gatehouse doctor: files and permissions. Access is tested as
// the service user: when we are root, by a child that takes that user's
// identity and opens the file (the kernel's answer, ACLs and all); otherwise
// from the owner, group and mode bits (what the kernel would decide without ACLs).
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "cli/doctor.h"

static bool
in_groups(const struct doctor *d, gid_t gid)
{
    for (int i = 0; i < d->user.group_count; i++) {
        if (d->user.groups[i] == gid)
            return true;
    }
    return gid == d->user.gid;
}

static int
access_by_modes(const struct doctor *d, const struct stat *st, bool want_write)
{
    mode_t r = S_ISDIR(st->st_mode) ? (mode_t)(want_write ? 3 : 1) : (mode_t)4; /* wx / x / r */
    unsigned shift;

    if (d->user.uid == 0)
        return 0;
    if (st->st_uid == d->user.uid)
        shift = 6;
    else if (in_groups(d, st->st_gid))
        shift = 3;
    else
        shift = 0;
    return ((st->st_mode >> shift) & r) == r ? 0 : EACCES;
}

/* As root: a child drops to the user and tries. Its exit status is the errno. */
static int
access_in_child(const struct doctor *d, const char *path, bool is_dir, bool want_write)
{
    pid_t pid = fork();
    int status = 0;

    if (pid < 0)
        return errno;
    if (pid == 0) {
        if (setgroups((size_t)d->user.group_count, d->user.groups) != 0 ||
            setgid(d->user.gid) != 0 || setuid(d->user.uid) != 0)
            _exit(EPERM);
        if (is_dir)
            _exit(access(path, want_write ? W_OK | X_OK : X_OK) == 0 ? 0 : errno & 0xff);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        _exit(fd >= 0 ? 0 : errno & 0xff);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return errno;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

int
doctor_access(const struct doctor *d, const char *path, bool want_write)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return errno;
    if (d->as_root)
        return access_in_child(d, path, S_ISDIR(st.st_mode), want_write);
    if (d->user.uid == geteuid()) {
        int mode = S_ISDIR(st.st_mode) ? (want_write ? W_OK | X_OK : X_OK) : R_OK;
        return access(path, mode) == 0 ? 0 : errno;
    }
    return access_by_modes(d, &st, want_write);
}

void
doctor_check_secret_file(struct doctor *d, const char *check, const char *path)
{
    struct stat st;
    char hint[512];
    int e;

    if (stat(path, &st) != 0) {
        e = errno;
        doctor_report(d, DOCTOR_FAIL, check, "create it, or fix the path in the configuration",
                      "%s: %s", path, strerror(e));
        return;
    }
    e = doctor_access(d, path, false);
    snprintf(hint, sizeof(hint), "chown %s %s; chmod 600 %s", d->user.name, path, path);
    if (e != 0) {
        doctor_report(d, DOCTOR_FAIL, check, hint, "%s: not readable by %s (%s)", path,
                      d->user.name, strerror(e));
        return;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        doctor_report(d, DOCTOR_FAIL, check, hint, "%s: readable or writable by every user (%04o)",
                      path, (unsigned)(st.st_mode & 07777));
        return;
    }
    if (st.st_uid != d->user.uid && st.st_uid != 0) {
        doctor_report(d, DOCTOR_WARN, check, hint, "%s: owned by uid %u, not %s", path,
                      (unsigned)st.st_uid, d->user.name);
        return;
    }
    if ((st.st_mode & S_IWGRP) != 0) {
        doctor_report(d, DOCTOR_WARN, check, hint, "%s: writable by its group (%04o)", path,
                      (unsigned)(st.st_mode & 07777));
        return;
    }
    doctor_report(d, DOCTOR_OK, check, NULL, "%s: readable by %s, closed to others (%04o)", path,
                  d->user.name, (unsigned)(st.st_mode & 07777));
}

void
doctor_check_ccache_dir(struct doctor *d, const char *path)
{
    struct stat st;
    char hint[512];

    snprintf(hint, sizeof(hint), "mkdir -p %s; chown %s %s; chmod 700 %s", path, d->user.name, path,
             path);
    if (stat(path, &st) != 0) {
        int e = errno;
        doctor_report(d, DOCTOR_FAIL, "ccache-dir", hint, "%s: %s", path, strerror(e));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        doctor_report(d, DOCTOR_FAIL, "ccache-dir", hint, "%s: not a directory", path);
        return;
    }
    int e = doctor_access(d, path, true);
    if (e != 0) {
        doctor_report(d, DOCTOR_FAIL, "ccache-dir", hint, "%s: %s cannot create files in it (%s)",
                      path, d->user.name, strerror(e));
        return;
    }
    if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0) {
        doctor_report(d, DOCTOR_FAIL, "ccache-dir", hint,
                      "%s: writable by every user without the sticky bit (%04o)", path,
                      (unsigned)(st.st_mode & 07777));
        return;
    }
    if ((st.st_mode & 077) != 0) {
        doctor_report(d, DOCTOR_WARN, "ccache-dir", hint,
                      "%s: open to other users (%04o): delegated tickets land here", path,
                      (unsigned)(st.st_mode & 07777));
        return;
    }
    doctor_report(d, DOCTOR_OK, "ccache-dir", NULL, "%s: writable by %s, closed to others", path,
                  d->user.name);
}
