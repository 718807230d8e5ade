// SPDX-License-Identifier: MIT
// One structured audit line per authentication outcome (success, failure,
// refusal), never per handshake leg. Format: logfmt, one line:
//   time=2026-11-22T02:30:00Z event=auth peer=127.0.0.1:50432 scheme=Negotiate
//   package=Kerberos principal="alice@EXAMPLE.ORG" result=success sec_status=0x00000000
//   persisted=yes cached=no cb=checked delegation=no reason="ok"
// Values are quoted when they hold anything beyond [A-Za-z0-9@._:/+-]; quotes,
// backslashes and control bytes are escaped, so a client-chosen user name can
// never forge a second line or field.
#ifndef GH_AUTH_AUDIT_H
#define GH_AUTH_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"

struct auth_audit_event {
    time_t time;
    const char *peer;      /* "addr:port" */
    const char *scheme;    /* "Negotiate", "Basic"... */
    const char *package;   /* the package that authenticated ("Kerberos"), may be NULL */
    const char *principal; /* or the user name claimed on failure; may be NULL */
    const char *result;    /* "success", "failure", "denied" (403), "stale", "refused" */
    int32_t sec_status;
    bool is_persisted; /* identity kept on the connection */
    bool is_cached;    /* identity taken from the connection (no handshake) */
    const char *cb;    /* "off", "offered", "missing" (no hash from TLS), "n/a" */
    bool is_delegated;
    const char *reason; /* short static text */
    /* The identity's groups on success (names, or SIDs without names), shown
     * as groups="a,b,..." cut at AUDIT_MAX_GROUPS_BYTES; NULL / 0: none. */
    const char *const *groups;
    size_t group_count;
};

#define AUDIT_MAX_GROUPS_BYTES 256

/* Appends the line (with '\n') to out. GH_OK, GH_ELIMIT or GH_ENOMEM. */
int audit_format(struct buf *out, const struct auth_audit_event *ev);
/* Formats and writes with log_raw (NULL log: stderr). Never fails the request. */
void audit_emit(struct log *log, const struct auth_audit_event *ev);

#endif
