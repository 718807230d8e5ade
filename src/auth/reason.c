// SPDX-License-Identifier: MIT
// The reason table, the classification of package errors into reasons, and
// the rate-limited error-log line of a failure.
//
// Why classify here and not in the packages: the packages report what they
// know in their own terms (a krb5_error_code, a GH_SEC_DETAIL_*); which of
// those an administrator must tell apart, what to tell them to do, and what
// the client is answered are decisions of the HTTP side, made in one table.
#include "auth/reason.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <krb5/krb5.h>

#include <gatehouse/error.h>

static const struct auth_reason_info rows[AUTH_REASON_COUNT] = {
#define AUTH_REASON_ROW(name, code, http, backoff, level, sec, text, hint) \
    [AUTH_REASON_##name] = {code, http, backoff, level, sec, text, hint},
    AUTH_REASONS(AUTH_REASON_ROW)
#undef AUTH_REASON_ROW
};

const struct auth_reason_info *
auth_reason_info(enum auth_reason r)
{
    if ((unsigned)r >= AUTH_REASON_COUNT)
        r = AUTH_REASON_INTERNAL_ERROR;
    return &rows[r];
}

const char *
auth_reason_code(enum auth_reason r)
{
    return auth_reason_info(r)->code;
}

int
auth_reason_parse(const char *code, enum auth_reason *out)
{
    for (size_t i = 0; i < AUTH_REASON_COUNT; i++) {
        if (strcmp(rows[i].code, code) == 0) {
            *out = (enum auth_reason)i;
            return GH_OK;
        }
    }
    return GH_ENOTFOUND;
}

/* Errors of reaching the KDC, whichever call met them. */
static bool
is_unreachable(long e)
{
    switch (e) {
    case KRB5_KDC_UNREACH:
    case KRB5_REALM_CANT_RESOLVE:
    case KRB5_REALM_UNKNOWN: /* "Cannot find KDC for realm" */
    case KRB5KDC_ERR_SVC_UNAVAILABLE:
    case ETIMEDOUT:
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

/* A service ticket checked with our keytab (the acceptor, also for Basic's
 * ticket for our own service):
 * MIT's rd_req errors (krb5 lib/krb5/krb/rd_req_dec.c names the keytab
 * faults: kvno not found, enctype not found, cannot decrypt). */
static enum auth_reason
from_ticket_check(long e)
{
    switch (e) {
    case KRB5KRB_AP_ERR_BADKEYVER:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
        return AUTH_REASON_KERBEROS_KEYTAB_KVNO;
    case KRB5KRB_AP_ERR_NOKEY:
    case KRB5KRB_AP_ERR_NOT_US:
    case KRB5_KT_NOTFOUND:
        return AUTH_REASON_KERBEROS_NO_KEY;
    case KRB5KRB_AP_WRONG_PRINC:
        return AUTH_REASON_KERBEROS_WRONG_SERVICE;
    case KRB5KRB_AP_ERR_REPEAT:
        return AUTH_REASON_KERBEROS_REPLAY;
    case KRB5KRB_AP_ERR_SKEW:
        return AUTH_REASON_CLOCK_SKEW;
    case KRB5KRB_AP_ERR_TKT_EXPIRED:
    case KRB5KRB_AP_ERR_TKT_NYV:
        return AUTH_REASON_KERBEROS_TICKET_EXPIRED;
    case KRB5_KT_END:
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN: /* Basic: our own service unknown to the KDC */
    case ENOENT:
    case EACCES:
        return AUTH_REASON_SERVER_CREDENTIALS;
    case KRB5KRB_AP_ERR_MODIFIED:
    case KRB5KRB_AP_ERR_BADVERSION:
    case KRB5KRB_AP_ERR_MSG_TYPE:
    case KRB5KRB_AP_ERR_INAPP_CKSUM:
        return AUTH_REASON_INVALID_TOKEN;
    case ENOMEM:
        return AUTH_REASON_INTERNAL_ERROR;
    default:
        return is_unreachable(e) ? AUTH_REASON_AUTHORITY_UNREACHABLE : AUTH_REASON_HANDSHAKE_FAILED;
    }
}

enum auth_reason
auth_reason_from_krb5(long e)
{
    switch (e) {
    case 0:
        return AUTH_REASON_OK;
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY: /* the AS reply does not decrypt */
        return AUTH_REASON_WRONG_PASSWORD;
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
        return AUTH_REASON_UNKNOWN_USER;
    case KRB5KDC_ERR_CLIENT_REVOKED:
        return AUTH_REASON_ACCOUNT_DISABLED;
    case KRB5KDC_ERR_KEY_EXP:
        return AUTH_REASON_PASSWORD_EXPIRED;
    case KRB5KDC_ERR_POLICY:
        return AUTH_REASON_ACCOUNT_UNUSABLE;
    case KRB5KRB_AP_ERR_SKEW:
        return AUTH_REASON_CLOCK_SKEW;
    case ENOMEM:
        return AUTH_REASON_INTERNAL_ERROR;
    default:
        return is_unreachable(e) ? AUTH_REASON_AUTHORITY_UNREACHABLE : AUTH_REASON_INTERNAL_ERROR;
    }
}

static enum auth_reason
from_detail(unsigned long detail)
{
    switch (detail) {
    case GH_SEC_DETAIL_UNKNOWN_USER:
        return AUTH_REASON_UNKNOWN_USER;
    case GH_SEC_DETAIL_WRONG_PASSWORD:
        return AUTH_REASON_WRONG_PASSWORD;
    case GH_SEC_DETAIL_NO_BINDINGS:
        return AUTH_REASON_BINDINGS_MISSING;
    case GH_SEC_DETAIL_BINDINGS_MISMATCH:
        return AUTH_REASON_BINDINGS_MISMATCH;
    case GH_SEC_DETAIL_TARGET_NAME:
        return AUTH_REASON_NTLM_TARGET_NAME;
    case GH_SEC_DETAIL_NO_TARGET_NAME:
        return AUTH_REASON_NTLM_NO_TARGET_NAME;
    case GH_SEC_DETAIL_NO_COMMON_MECH:
        return AUTH_REASON_NTLM_NOT_OFFERED;
    case GH_SEC_DETAIL_ACCOUNT_DISABLED:
        return AUTH_REASON_ACCOUNT_DISABLED;
    case GH_SEC_DETAIL_PASSWORD_EXPIRED:
        return AUTH_REASON_PASSWORD_EXPIRED;
    default:
        return AUTH_REASON_HANDSHAKE_FAILED;
    }
}

static enum auth_reason
from_status(SECURITY_STATUS status)
{
    switch (status) {
    case SEC_E_NO_AUTHENTICATING_AUTHORITY:
        return AUTH_REASON_AUTHORITY_UNREACHABLE;
    case SEC_E_TIME_SKEW:
        return AUTH_REASON_CLOCK_SKEW;
    case SEC_E_BAD_BINDINGS:
        return AUTH_REASON_BINDINGS_MISMATCH;
    case SEC_E_WRONG_PRINCIPAL:
        return AUTH_REASON_KERBEROS_WRONG_SERVICE;
    case SEC_E_NO_CREDENTIALS:
        return AUTH_REASON_SERVER_CREDENTIALS;
    case SEC_E_LOGON_DENIED:
        return AUTH_REASON_LOGON_DENIED;
    case SEC_E_INVALID_TOKEN:
        return AUTH_REASON_INVALID_TOKEN;
    case SEC_E_CONTEXT_EXPIRED:
        return AUTH_REASON_KERBEROS_TICKET_EXPIRED;
    case SEC_E_MESSAGE_ALTERED:
        return AUTH_REASON_HANDSHAKE_ALTERED;
    case SEC_E_INSUFFICIENT_MEMORY:
    case SEC_E_INTERNAL_ERROR:
        return AUTH_REASON_INTERNAL_ERROR;
    default:
        return AUTH_REASON_HANDSHAKE_FAILED;
    }
}

enum auth_reason
auth_reason_from_sspi(SECURITY_STATUS status, unsigned long detail, long krb5_error,
                      bool has_service_names)
{
    enum auth_reason r;

    /* An authority that cannot be reached is never the client's fault,
     * whatever else the package says. */
    if (status == SEC_E_NO_AUTHENTICATING_AUTHORITY)
        return AUTH_REASON_AUTHORITY_UNREACHABLE;
    if (detail != GH_SEC_DETAIL_NONE) {
        r = from_detail(detail);
        if (r != AUTH_REASON_HANDSHAKE_FAILED)
            return r;
    }
    if (krb5_error == KRB5KRB_AP_ERR_NOT_US && has_service_names)
        return AUTH_REASON_KERBEROS_WRONG_SERVICE;
    if (krb5_error != 0) {
        r = from_ticket_check(krb5_error);
        if (r != AUTH_REASON_HANDSHAKE_FAILED)
            return r;
    }
    return from_status(status);
}

/* Client-chosen bytes reach these texts (a user name, the server name inside
 * a ticket that MIT quotes): no control byte may start a forged log line. */
static void
sanitize(char *dst, size_t cap, const char *src)
{
    size_t n = 0;

    for (; src != NULL && *src != 0 && n + 1 < cap; src++)
        dst[n++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? '?' : *src;
    dst[n] = 0;
}

void
auth_reason_log_failure(struct auth_reason_log *rl, struct log *log, enum auth_reason r,
                        int64_t now_s, const char *what, const char *text)
{
    const struct auth_reason_info *row = auth_reason_info(r);
    int64_t interval = rl->interval_s != 0 ? rl->interval_s : AUTH_REASON_LOG_INTERVAL_S;
    size_t i = (size_t)r < AUTH_REASON_COUNT ? (size_t)r : AUTH_REASON_INTERNAL_ERROR;
    int64_t start = atomic_load_explicit(&rl->window_start_s[i], memory_order_relaxed);
    char more[48] = "";

    /* One thread wins the slot for this window; the others count. */
    if ((start != 0 && now_s - start < interval) ||
        !atomic_compare_exchange_strong(&rl->window_start_s[i], &start, now_s)) {
        atomic_fetch_add_explicit(&rl->suppressed[i], 1, memory_order_relaxed);
        return;
    }
    uint32_t k = atomic_exchange_explicit(&rl->suppressed[i], 0, memory_order_relaxed);
    if (log == NULL)
        return;
    if (k > 0)
        (void)snprintf(more, sizeof(more), " (%u more suppressed)", k);
    char safe_what[320], safe_text[600];
    sanitize(safe_what, sizeof(safe_what), what != NULL ? what : "-");
    sanitize(safe_text, sizeof(safe_text), text != NULL && text[0] != 0 ? text : row->text);
    log_msg(log, row->log_level, "auth failure reason=%s: %s: %s%s%s%s", row->code, safe_what,
            safe_text, row->hint[0] != 0 ? "; hint: " : "", row->hint, more);
}
