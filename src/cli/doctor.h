// SPDX-License-Identifier: MIT
// gatehouse doctor: what would make authentication fail, checked before any
// client tries (issue 11). doctor.c reads the configuration and prints;
// doctor_files.c checks files and permissions; doctor_tls.c certificates,
// keys, chains and names; doctor_krb5.c keytabs, the KDC, the keys' version
// and the clock.
#ifndef GH_CLI_DOCTOR_H
#define GH_CLI_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum doctor_level {
    DOCTOR_OK = 0,
    DOCTOR_WARN = 1,
    DOCTOR_FAIL = 2,
};

/* The user the server runs as: whose access the file checks test. */
struct doctor_user {
    char name[64];
    uid_t uid;
    gid_t gid;
    gid_t groups[64];
    int group_count;
};

struct doctor {
    struct doctor_user user;
    bool as_root; /* we are root: access is tested by a child running as user */
    enum doctor_level worst;
    unsigned counts[3];
    bool json;          /* --json: the checks as elements of one JSON array */
    const char *cacert; /* --cacert: what clients trust; NULL: the system store */
};

/* Prints one line: "LEVEL  check  what[  -> hint]" (with --json, one object
 * of the "checks" array) and keeps the worst level. hint may be NULL. */
void doctor_report(struct doctor *d, enum doctor_level level, const char *check, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* --------------------------------------------------------- doctor_files.c */

/* Whether user can open path for reading (directories: search and write with
 * want_write). Tested for real by a child that takes the user's identity when
 * we are root; from the file's owner, group and mode bits otherwise.
 * 0 yes, else an errno value (EACCES, ENOENT...). */
int doctor_access(const struct doctor *d, const char *path, bool want_write);

/* A secret file (keytab, user store, private key): readable by the service
 * user, owned by it (or root), not readable or writable by others. */
void doctor_check_secret_file(struct doctor *d, const char *check, const char *path);
/* auth_ccache_dir: exists, a directory the service user can write, closed to others. */
void doctor_check_ccache_dir(struct doctor *d, const char *path);
/* ----------------------------------------------------------- doctor_tls.c */

/* The server's certificates as the configuration gives them. */
struct doctor_tls {
    const char *const *cert_files; /* tls_certificate CHAIN, resolved; [0] is the default */
    const char *const *key_files;  /* tls_certificate KEY, resolved */
    size_t cert_count;
    const char *const *served_names; /* host block names, tls_client_ca/crl SERVER_NAMEs */
    size_t served_name_count;
};

/* Every tls_certificate: loads and the key is the certificate's, validity,
 * the chain against d->cacert (else the system store) and its order, key
 * and signature strength, the key file's modes; then whether the names the
 * configuration serves are covered by the certificate SNI gives them. The
 * leaves' DNS names (no wildcards) are appended to names (up to
 * *name_count < max; owned by the caller, free()d). */
void doctor_check_tls(struct doctor *d, const struct doctor_tls *t, char **names,
                      size_t *name_count, size_t max);
/* auth_credssp_certificate PEM [KEY] (key NULL: in the PEM file): loads and
 * the key is the certificate's, validity, strength. */
void doctor_check_credssp_certificate(struct doctor *d, const char *cert, const char *key);
/* tls_client_ca: readable, parses, holds at least one CA certificate that is
 * valid now; expired CAs and certificates that are not CAs are warned of. */
void doctor_check_client_ca(struct doctor *d, const char *path);

/* ---------------------------------------------------------- doctor_krb5.c */

struct doctor_krb5_target {
    const char *location;             /* for the messages */
    const char *keytab;               /* NULL: the default keytab */
    const char *const *service_names; /* "HTTP/host"; may be empty */
    size_t service_name_count;
    const char *const *client_names; /* host names clients use (certificates' DNS names) */
    size_t client_name_count;
};

/* Keytab readable and holding keys for every service name (kvno, enctypes);
 * for each: a ticket from the KDC with the keytab's key, a service ticket for
 * itself decrypted with the keytab (the kvno and enctype match), the clock
 * against the KDC's; the host names' resolution. */
void doctor_check_kerberos(struct doctor *d, const struct doctor_krb5_target *t);

/* ------------------------------------------------------- doctor_winbind.c */

/* winbindd answers (its version and domain), and so does its domain
 * controller (wbcPingDc2). */
void doctor_check_winbind(struct doctor *d);

#endif
