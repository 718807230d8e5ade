// SPDX-License-Identifier: MIT
// gatehouse doctor: files, permissions and certificates. Access is tested as
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
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gatehouse/error.h>

#include "cli/doctor.h"
#include "tls/cred.h"

#define EXPIRY_WARN_DAYS 30

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

/* Days until t (negative: passed). */
static int
days_until(const ASN1_TIME *t)
{
    int days = 0, secs = 0;

    if (ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
        return 0;
    return days;
}

/* Reports the validity window of one certificate; true when still valid. */
static bool
check_validity(struct doctor *d, const char *check, const char *file, X509 *x, const char *hint)
{
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        doctor_report(d, DOCTOR_FAIL, check, hint, "%s: %s is not valid yet", file, subject);
        return false;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
        doctor_report(d, DOCTOR_FAIL, check, hint, "%s: %s expired %d days ago", file, subject,
                      -days_until(X509_get0_notAfter(x)));
        return false;
    }
    int days = days_until(X509_get0_notAfter(x));
    if (days < EXPIRY_WARN_DAYS) {
        doctor_report(d, DOCTOR_WARN, check, hint, "%s: %s expires in %d days", file, subject,
                      days);
        return false;
    }
    doctor_report(d, DOCTOR_OK, check, NULL, "%s: %s valid for %d more days", file, subject, days);
    return true;
}

static void
collect_dns_names(X509 *x, char **names, size_t *count, size_t max)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && *count < max; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *p = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        if (len <= 0 || len > 253 || memchr(p, 0, (size_t)len) != NULL || p[0] == '*')
            continue; /* wildcards name no one host a client would ask a ticket for */
        names[*count] = strndup((const char *)p, (size_t)len);
        if (names[*count] != NULL)
            (*count)++;
    }
    GENERAL_NAMES_free(gens);
}

void
doctor_check_certificate(struct doctor *d, const char *cert, const char *key, char **names,
                         size_t *name_count, size_t max)
{
    struct tls_cred cred = {0};
    char err[512] = "";
    int rc = tls_cred_load(cert, key, false, &cred, err, sizeof(err));

    if (rc != GH_OK) {
        doctor_report(d, DOCTOR_FAIL, "certificate",
                      "install the key that belongs to the "
                      "certificate (openssl x509 -noout -pubkey vs openssl pkey -pubout)",
                      "%s", err[0] != '\0' ? err : gh_strerror(rc));
        return;
    }
    doctor_report(d, DOCTOR_OK, "certificate", NULL, "%s: loads, and %s is its key", cert, key);
    check_validity(d, "cert-expiry", cert, cred.leaf, "renew the certificate");
    for (int i = 0; i < sk_X509_num(cred.chain); i++)
        check_validity(d, "cert-expiry", cert, sk_X509_value(cred.chain, i),
                       "renew the chain certificate");
    collect_dns_names(cred.leaf, names, name_count, max);
    tls_cred_clear(&cred);
    doctor_check_secret_file(d, "cert-key", key);
}

void
doctor_check_client_ca(struct doctor *d, const char *path)
{
    STACK_OF(X509) *certs = NULL;
    char err[512] = "";
    int e = doctor_access(d, path, false);

    if (e != 0) {
        doctor_report(d, DOCTOR_FAIL, "client-ca", "make it readable by the service user",
                      "%s: not readable by %s (%s)", path, d->user.name, strerror(e));
        return;
    }
    if (tls_certs_load(path, &certs, err, sizeof(err)) != GH_OK) {
        doctor_report(d, DOCTOR_FAIL, "client-ca", "a PEM file of CA certificates", "%s", err);
        return;
    }
    doctor_report(d, DOCTOR_OK, "client-ca", NULL, "%s: %d CA certificate(s)", path,
                  sk_X509_num(certs));
    for (int i = 0; i < sk_X509_num(certs); i++)
        check_validity(d, "client-ca", path, sk_X509_value(certs, i), "renew the CA certificate");
    sk_X509_pop_free(certs, X509_free);
}
