// SPDX-License-Identifier: MIT
// Why an authentication ended as it did: the one table of reason codes.
//
// Every audit line carries `reason=<code>` (a stable identifier from this
// table, for scripts and counters) and `reason_text="..."` (the words: the
// package's extended error, the KDC's answer...); every failure also goes to
// the error log at the row's level, rate-limited per reason, with the row's
// hint. The row also says what the engine does: the HTTP status of the answer,
// whether the failure counts toward the per-address backoff (limiter.c), and
// the SECURITY_STATUS a record gets when no package gave one (Basic).
// docs/auth.md "When authentication fails" lists every row; a test keeps the
// two equal (tests/unit/auth/test_reason.c).
#ifndef GH_AUTH_REASON_H
#define GH_AUTH_REASON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/log.h"

/* Retry-After (seconds) of the 503 that answers when the authority (KDC,
 * winbind) cannot be reached. */
#define AUTH_AUTHORITY_RETRY_AFTER_S 30
/* Error-log lines per reason: at most one per this many seconds; the next one
 * says how many were left out. */
#define AUTH_REASON_LOG_INTERVAL_S 10

/* X(name, code, http status, counts toward backoff, log level, sec_status, text, hint) */
#define AUTH_REASONS(X)                                                                            \
    X(OK, "ok", 0, false, LOG_DEBUG, SEC_E_OK, "authenticated", "")                                \
    X(DENIED_BY_RULE, "denied_by_rule", 403, false, LOG_INFO, SEC_E_OK,                            \
      "authenticated, but not allowed by auth_require",                                            \
      "the location's auth_require rules refuse this user: check auth_require and the user's "     \
      "groups")                                                                                    \
    X(WRONG_PASSWORD, "wrong_password", 401, true, LOG_INFO, SEC_E_LOGON_DENIED, "wrong password", \
      "the account exists but the password (or its proof) does not match; repeated failures "      \
      "from one address start the backoff (auth_backoff_*)")                                       \
    X(UNKNOWN_USER, "unknown_user", 401, true, LOG_INFO, SEC_E_LOGON_DENIED, "unknown user",       \
      "no such account in the user store or the realm: check the spelling and the realm "          \
      "(auth_realm, auth_user_store)")                                                             \
    X(ACCOUNT_DISABLED, "account_disabled", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,               \
      "account disabled, locked out or expired",                                                   \
      "the directory refuses this account itself (KDC_ERR_CLIENT_REVOKED, "                        \
      "STATUS_ACCOUNT_DISABLED/LOCKED_OUT/EXPIRED): enable or unlock it")                          \
    X(PASSWORD_EXPIRED, "password_expired", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,               \
      "the password has expired or must be changed at next logon",                                 \
      "the user must set a new password (KDC_ERR_KEY_EXPIRED, STATUS_PASSWORD_EXPIRED/"            \
      "MUST_CHANGE) before logging on here")                                                       \
    X(ACCOUNT_UNUSABLE, "account_unusable", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,               \
      "the directory's policy refuses this account",                                               \
      "the KDC refuses this account by policy (KDC_ERR_POLICY: logon hours, workstation "          \
      "restrictions): check the account's settings")                                               \
    X(AUTHORITY_UNREACHABLE, "authority_unreachable", 503, false, LOG_WARN,                        \
      SEC_E_NO_AUTHENTICATING_AUTHORITY, "the authentication authority cannot be reached",         \
      "check that the KDC (krb5.conf [realms] kdc, DNS SRV records, firewall) or winbindd is "     \
      "running and reachable; clients get 503 with Retry-After meanwhile and are not penalized")   \
    X(KERBEROS_KEYTAB_KVNO, "kerberos_keytab_kvno", 401, false, LOG_WARN, SEC_E_WRONG_PRINCIPAL,   \
      "the keytab's key does not match the ticket (key version or enctype)",                       \
      "the service principal was re-keyed after the keytab was exported: export it again "         \
      "(kadmin ktadd, msktutil, ktpass) and compare `klist -kte KEYTAB` with `kvno SPN`")          \
    X(KERBEROS_NO_KEY, "kerberos_no_key", 401, false, LOG_WARN, SEC_E_WRONG_PRINCIPAL,             \
      "the keytab has no key for the service principal the client asked for",                      \
      "add that principal's key to the keytab (kadmin ktadd HTTP/host), or have clients use a "    \
      "host name whose HTTP/ principal is in it (klist -k KEYTAB)")                                \
    X(KERBEROS_WRONG_SERVICE, "kerberos_wrong_service", 401, false, LOG_INFO,                      \
      SEC_E_WRONG_PRINCIPAL, "the ticket is for another service name than this location accepts",  \
      "the client asked for a ticket to another SPN: check auth_service_name and the host name "   \
      "clients use (a CNAME is resolved to the A record's name before the SPN is built)")          \
    X(KERBEROS_REPLAY, "kerberos_replay", 401, true, LOG_INFO, SEC_E_INVALID_TOKEN,                \
      "replayed Kerberos authenticator",                                                           \
      "the same AP-REQ arrived twice: a replay attack, or a client or proxy resending an old "     \
      "Negotiate token")                                                                           \
    X(CLOCK_SKEW, "clock_skew", 401, false, LOG_INFO, SEC_E_TIME_SKEW,                             \
      "the client's clock is too far from the server's",                                           \
      "synchronize client, server and KDC clocks (NTP); Kerberos allows 300 s by default "         \
      "(krb5.conf clockskew)")                                                                     \
    X(KERBEROS_TICKET_EXPIRED, "kerberos_ticket_expired", 401, false, LOG_INFO,                    \
      SEC_E_CONTEXT_EXPIRED, "the Kerberos ticket has expired or is not yet valid",                \
      "the client must get a fresh ticket (kinit, or log on again); check the clocks")             \
    X(SERVER_CREDENTIALS, "server_credentials", 401, false, LOG_WARN, SEC_E_NO_CREDENTIALS,        \
      "the server has no usable credentials for this",                                             \
      "check auth_keytab (readable by the service user, holding the service keys) and "            \
      "auth_user_store")                                                                           \
    X(BINDINGS_MISSING, "bindings_missing", 401, false, LOG_INFO, SEC_E_BAD_BINDINGS,              \
      "the client sent no channel bindings (Extended Protection)",                                 \
      "this location requires channel bindings (auth_extended_protection require): the client "    \
      "does not send them, or TLS ends before us; update the client or use "                       \
      "auth_extended_protection allow")                                                            \
    X(BINDINGS_MISMATCH, "bindings_mismatch", 401, false, LOG_INFO, SEC_E_BAD_BINDINGS,            \
      "the client's channel bindings are for another TLS channel",                                 \
      "something between the client and us terminates TLS (an intercepting proxy) or the client "  \
      "bound another certificate; terminate TLS here or turn auth_extended_protection off")        \
    X(NTLM_TARGET_NAME, "ntlm_target_name", 401, false, LOG_INFO, SEC_E_BAD_BINDINGS,              \
      "the client's NTLM target name is another service's",                                        \
      "the NTLM exchange was meant for another service (a relay attempt?) or the client uses a "   \
      "name that is not in auth_service_name")                                                     \
    X(NTLM_NO_TARGET_NAME, "ntlm_no_target_name", 401, false, LOG_INFO, SEC_E_BAD_BINDINGS,        \
      "the client named no NTLM target service",                                                   \
      "auth_ntlm_require_target_name is on and the client sends no MsvAvTargetName: update it "    \
      "or turn the directive off")                                                                 \
    X(NTLM_NOT_OFFERED, "ntlm_not_offered", 401, false, LOG_INFO, SEC_E_NO_CREDENTIALS,            \
      "the client sent NTLM where this location offers only Kerberos",                             \
      "the client could not get a Kerberos ticket (SPN unknown to the KDC, no TGT, host not "      \
      "trusted for Negotiate): fix that, or offer NTLM here")                                      \
    X(SCHEME_NOT_OFFERED, "scheme_not_offered", 401, false, LOG_DEBUG, SEC_E_UNSUPPORTED_FUNCTION, \
      "the client used a scheme this location does not offer here",                                \
      "the client sent credentials in a scheme the location's `auth` does not list (or Basic "     \
      "over plain HTTP without auth_basic_over_http)")                                             \
    X(HANDSHAKE_ALTERED, "handshake_altered", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,             \
      "the handshake was altered in transit (MIC mismatch)",                                       \
      "a man in the middle, or a broken client: the integrity check over the handshake fails")     \
    X(LOGON_DENIED, "logon_denied", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,                       \
      "the package refused the logon",                                                             \
      "the text says which policy refused it (NTLMv1, anonymous)")                                 \
    X(INVALID_TOKEN, "invalid_token", 401, true, LOG_INFO, SEC_E_INVALID_TOKEN,                    \
      "malformed or unacceptable security token",                                                  \
      "a broken or hostile client; the text gives the package's words")                            \
    X(HANDSHAKE_FAILED, "handshake_failed", 401, true, LOG_INFO, SEC_E_INTERNAL_ERROR,             \
      "the handshake failed", "the text gives the package's words")                                \
    X(DIGEST_STALE, "digest_stale", 401, false, LOG_DEBUG, SEC_E_CONTEXT_EXPIRED,                  \
      "Digest nonce expired (stale)", "normal: the client retries with the fresh nonce")           \
    X(DIGEST_BAD_NONCE, "digest_bad_nonce", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,               \
      "Digest nonce not issued by this server", "a forged or foreign nonce")                       \
    X(DIGEST_REPLAY, "digest_replay", 401, true, LOG_INFO, SEC_E_LOGON_DENIED,                     \
      "Digest nonce count replayed", "a replayed request, or a client reusing its nonce count")    \
    X(DIGEST_UNSUPPORTED, "digest_unsupported", 401, false, LOG_INFO, SEC_E_UNSUPPORTED_FUNCTION,  \
      "Digest algorithm or qop not offered",                                                       \
      "the client asks for MD5-sess, auth-int...: unsupported")                                    \
    X(MALFORMED, "malformed", 400, false, LOG_INFO, SEC_E_INVALID_TOKEN, "malformed credentials",  \
      "a broken client: the request is answered 400")                                              \
    X(CERT_INVALID, "cert_invalid", 401, false, LOG_INFO, SEC_E_CERT_UNKNOWN,                      \
      "the client certificate does not parse", "a broken certificate, or one beyond the limits")   \
    X(CERT_DENIED, "cert_denied", 401, false, LOG_INFO, SEC_E_LOGON_DENIED,                        \
      "denied by an auth_cert_map rule", "the text names the rule")                                \
    X(CERT_UNMAPPED, "cert_unmapped", 401, false, LOG_INFO, SEC_E_UNKNOWN_CREDENTIALS,             \
      "no auth_cert_map rule matched the client certificate",                                      \
      "add a rule for it; an unverified chain matches fingerprint rules only")                     \
    X(INTERNAL_ERROR, "internal_error", 401, false, LOG_WARN, SEC_E_INTERNAL_ERROR,                \
      "internal error", "out of memory or a backend failure: see the error log")

enum auth_reason {
#define AUTH_REASON_ENUM(name, code, http, backoff, level, sec, text, hint) AUTH_REASON_##name,
    AUTH_REASONS(AUTH_REASON_ENUM)
#undef AUTH_REASON_ENUM
    AUTH_REASON_COUNT
};

struct auth_reason_info {
    const char *code; /* stable identifier: "kerberos_keytab_kvno" */
    int http_status;  /* the answer (0: the request passes) */
    bool counts_toward_backoff;
    enum log_level log_level;
    SECURITY_STATUS sec_status; /* for failures without a package status */
    const char *text;           /* default words when the package gave none */
    const char *hint;           /* what to do; "" for none */
};

/* The row of r (r < AUTH_REASON_COUNT; anything else gives INTERNAL_ERROR's). */
const struct auth_reason_info *auth_reason_info(enum auth_reason r);
/* Its code ("wrong_password"). */
const char *auth_reason_code(enum auth_reason r);
/* By code; GH_OK or GH_ENOTFOUND. */
int auth_reason_parse(const char *code, enum auth_reason *out);

/* Classifies a failed SSPI handshake from what the package reported
 * (SECPKG_ATTR_GH_ERROR_INFO: the status, the detail, the krb5 error code).
 * has_service_names: the location names the services it accepts
 * (auth_service_name): a ticket for a principal that is not the one asked for
 * is then a ticket for another service, not a key missing from the keytab
 * (MIT says KRB5KRB_AP_ERR_NOT_US for both). */
enum auth_reason auth_reason_from_sspi(SECURITY_STATUS status, unsigned long detail,
                                       long krb5_error, bool has_service_names);
/* Classifies a krb5 error code of a password check (krb5_get_init_creds,
 * the Basic password check). 0 gives OK. */
enum auth_reason auth_reason_from_krb5(long krb5_error);

/* A failure's reason and words, filled by whoever failed. */
struct auth_failure {
    enum auth_reason reason;
    char text[512]; /* the package's / KDC's words; "" when none */
};

/* Per-reason rate limit of error-log lines: a slot per reason, updated with
 * atomics only (no lock on the request path). */
struct auth_reason_log {
    _Atomic int64_t window_start_s[AUTH_REASON_COUNT];
    _Atomic uint32_t suppressed[AUTH_REASON_COUNT];
    unsigned interval_s; /* 0: AUTH_REASON_LOG_INTERVAL_S */
};

/* Writes one line for a failure of reason r at the row's level, unless one for
 * r was written less than the interval ago (then it is counted, and the next
 * line written says "(K more suppressed)"). what: "Negotiate from 127.0.0.1:5000
 * (alice@REALM)" or similar; text: the package's words (may be NULL or "").
 * log NULL: nothing is written (but the count still runs). */
void auth_reason_log_failure(struct auth_reason_log *rl, struct log *log, enum auth_reason r,
                             int64_t now_s, const char *what, const char *text);

#endif
