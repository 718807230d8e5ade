// SPDX-License-Identifier: MIT
// Unit tests for src/auth/reason.c: the reason table's invariants, the
// classification of package errors, the per-reason rate limit of error-log
// lines, and docs/auth.md "When authentication fails", whose table must be
// exactly the rows this test prints (run with GH_REASON_DOC=1 to print them).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krb5/krb5.h>

#include <gatehouse/error.h>

#include "auth/reason.h"
#include "base/buf.h"
#include "harness/check.h"

static void
doc_row(const struct auth_reason_info *r, struct buf *out)
{
    (void)buf_printf(
        out, "| `%s` | %d | %s | %s | %s |\n", r->code, r->http_status == 0 ? 200 : r->http_status,
        r->counts_toward_backoff ? "yes" : "no", r->text, r->hint[0] != 0 ? r->hint : "-");
}

static void
test_table(void)
{
    enum auth_reason r;

    for (size_t i = 0; i < AUTH_REASON_COUNT; i++) {
        const struct auth_reason_info *row = auth_reason_info((enum auth_reason)i);
        CHECK(row->code != NULL && row->text != NULL && row->hint != NULL);
        for (const char *p = row->code; *p != 0; p++) /* stable identifiers: [a-z0-9_] */
            CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        CHECK_EQ(auth_reason_parse(row->code, &r), GH_OK);
        CHECK_EQ(r, i); /* unique */
        CHECK(strchr(row->text, '|') == NULL && strchr(row->hint, '|') == NULL);
        /* only the authority being down is a 503; nothing the server cannot
         * blame on the client costs the client backoff */
        CHECK_EQ(row->http_status == 503, i == AUTH_REASON_AUTHORITY_UNREACHABLE);
        if (row->http_status == 503 || row->http_status == 0)
            CHECK(!row->counts_toward_backoff);
    }
    CHECK_EQ(auth_reason_parse("no_such_reason", &r), GH_ENOTFOUND);
    CHECK_STR_EQ(auth_reason_code(AUTH_REASON_COUNT), "internal_error");
    CHECK(auth_reason_info(AUTH_REASON_WRONG_PASSWORD)->counts_toward_backoff);
    CHECK(auth_reason_info(AUTH_REASON_KERBEROS_REPLAY)->counts_toward_backoff);
    CHECK(!auth_reason_info(AUTH_REASON_KERBEROS_KEYTAB_KVNO)->counts_toward_backoff);
}

static const struct {
    const char *name;
    SECURITY_STATUS status;
    unsigned long detail;
    long krb5;
    bool has_names;
    enum auth_reason want;
} sspi_cases[] = {
    /* MIT rd_req: "kvno N not found in keytab; keytab is likely out of date" */
    {"stale keytab", SEC_E_WRONG_PRINCIPAL, 0, KRB5KRB_AP_ERR_BADKEYVER, false,
     AUTH_REASON_KERBEROS_KEYTAB_KVNO},
    /* "... found in keytab but cannot decrypt ticket" */
    {"key does not decrypt", SEC_E_INVALID_TOKEN, 0, KRB5KRB_AP_ERR_BAD_INTEGRITY, false,
     AUTH_REASON_KERBEROS_KEYTAB_KVNO},
    {"not in keytab", SEC_E_WRONG_PRINCIPAL, 0, KRB5KRB_AP_ERR_NOT_US, false,
     AUTH_REASON_KERBEROS_NO_KEY},
    {"another service", SEC_E_WRONG_PRINCIPAL, 0, KRB5KRB_AP_ERR_NOT_US, true,
     AUTH_REASON_KERBEROS_WRONG_SERVICE},
    {"wrong principal", SEC_E_WRONG_PRINCIPAL, 0, KRB5KRB_AP_WRONG_PRINC, false,
     AUTH_REASON_KERBEROS_WRONG_SERVICE},
    {"replay", SEC_E_INVALID_TOKEN, 0, KRB5KRB_AP_ERR_REPEAT, false, AUTH_REASON_KERBEROS_REPLAY},
    {"skew", SEC_E_TIME_SKEW, 0, KRB5KRB_AP_ERR_SKEW, false, AUTH_REASON_CLOCK_SKEW},
    {"expired", SEC_E_CONTEXT_EXPIRED, 0, KRB5KRB_AP_ERR_TKT_EXPIRED, false,
     AUTH_REASON_KERBEROS_TICKET_EXPIRED},
    {"winbind down", SEC_E_NO_AUTHENTICATING_AUTHORITY, 0, 0, false,
     AUTH_REASON_AUTHORITY_UNREACHABLE},
    {"authority wins", SEC_E_NO_AUTHENTICATING_AUTHORITY, GH_SEC_DETAIL_WRONG_PASSWORD, 0, false,
     AUTH_REASON_AUTHORITY_UNREACHABLE},
    {"NTLM wrong password", SEC_E_LOGON_DENIED, GH_SEC_DETAIL_WRONG_PASSWORD, 0, false,
     AUTH_REASON_WRONG_PASSWORD},
    {"NTLM unknown user", SEC_E_LOGON_DENIED, GH_SEC_DETAIL_UNKNOWN_USER, 0, false,
     AUTH_REASON_UNKNOWN_USER},
    {"no bindings", SEC_E_BAD_BINDINGS, GH_SEC_DETAIL_NO_BINDINGS, 0, false,
     AUTH_REASON_BINDINGS_MISSING},
    {"bindings differ", SEC_E_BAD_BINDINGS, GH_SEC_DETAIL_BINDINGS_MISMATCH, 0, false,
     AUTH_REASON_BINDINGS_MISMATCH},
    {"GSS bad bindings", SEC_E_BAD_BINDINGS, 0, 0, false, AUTH_REASON_BINDINGS_MISMATCH},
    {"NTLM target", SEC_E_BAD_BINDINGS, GH_SEC_DETAIL_TARGET_NAME, 0, false,
     AUTH_REASON_NTLM_TARGET_NAME},
    {"NTLM no target", SEC_E_BAD_BINDINGS, GH_SEC_DETAIL_NO_TARGET_NAME, 0, false,
     AUTH_REASON_NTLM_NO_TARGET_NAME},
    {"no common mech", SEC_E_INVALID_TOKEN, GH_SEC_DETAIL_NO_COMMON_MECH, 0, false,
     AUTH_REASON_NTLM_NOT_OFFERED},
    {"NTLMv1 refused", SEC_E_LOGON_DENIED, 0, 0, false, AUTH_REASON_LOGON_DENIED},
    {"garbage", SEC_E_INVALID_TOKEN, 0, 0, false, AUTH_REASON_INVALID_TOKEN},
    {"unknown status", SEC_E_UNSUPPORTED_FUNCTION, 0, 0, false, AUTH_REASON_HANDSHAKE_FAILED},
};

static void
test_classify(void)
{
    for (size_t i = 0; i < sizeof(sspi_cases) / sizeof(sspi_cases[0]); i++) {
        enum auth_reason got = auth_reason_from_sspi(sspi_cases[i].status, sspi_cases[i].detail,
                                                     sspi_cases[i].krb5, sspi_cases[i].has_names);
        if (got != sspi_cases[i].want)
            fprintf(stderr, "case %s: %s\n", sspi_cases[i].name, auth_reason_code(got));
        CHECK_EQ(got, sspi_cases[i].want);
    }
    /* password checks against the KDC */
    CHECK_EQ(auth_reason_from_krb5(0), AUTH_REASON_OK);
    CHECK_EQ(auth_reason_from_krb5(KRB5KDC_ERR_PREAUTH_FAILED), AUTH_REASON_WRONG_PASSWORD);
    CHECK_EQ(auth_reason_from_krb5(KRB5KRB_AP_ERR_BAD_INTEGRITY), AUTH_REASON_WRONG_PASSWORD);
    CHECK_EQ(auth_reason_from_krb5(KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN), AUTH_REASON_UNKNOWN_USER);
    CHECK_EQ(auth_reason_from_krb5(KRB5KDC_ERR_CLIENT_REVOKED), AUTH_REASON_ACCOUNT_DISABLED);
    CHECK_EQ(auth_reason_from_krb5(KRB5KDC_ERR_KEY_EXP), AUTH_REASON_PASSWORD_EXPIRED);
    CHECK_EQ(auth_reason_from_krb5(KRB5KDC_ERR_POLICY), AUTH_REASON_ACCOUNT_UNUSABLE);
    CHECK_EQ(auth_reason_from_krb5(KRB5_KDC_UNREACH), AUTH_REASON_AUTHORITY_UNREACHABLE);
    CHECK_EQ(auth_reason_from_krb5(KRB5_REALM_CANT_RESOLVE), AUTH_REASON_AUTHORITY_UNREACHABLE);
    CHECK_EQ(auth_reason_from_krb5(ETIMEDOUT), AUTH_REASON_AUTHORITY_UNREACHABLE);
    CHECK_EQ(auth_reason_from_krb5(KRB5_CC_IO), AUTH_REASON_INTERNAL_ERROR);
}

static void
test_rate_limit(void)
{
    struct auth_reason_log rl = {.interval_s = 10};
    struct log *log = NULL;
    char path[] = "/tmp/gh-reason-XXXXXX";
    int fd = mkstemp(path);
    char text[4096];
    ssize_t n;

    CHECK(fd >= 0);
    CHECK_EQ(log_create(path, LOG_DEBUG, &log), GH_OK);
    auth_reason_log_failure(&rl, log, AUTH_REASON_WRONG_PASSWORD, 1000, "Basic from a", "KDC says");
    auth_reason_log_failure(&rl, log, AUTH_REASON_WRONG_PASSWORD, 1001, "Basic from b", NULL);
    auth_reason_log_failure(&rl, log, AUTH_REASON_WRONG_PASSWORD, 1009, "Basic from c", NULL);
    auth_reason_log_failure(&rl, log, AUTH_REASON_KERBEROS_REPLAY, 1009, "Negotiate from d", NULL);
    auth_reason_log_failure(&rl, log, AUTH_REASON_WRONG_PASSWORD, 1010, "Basic from e", NULL);
    /* client-chosen bytes cannot start a line of their own */
    auth_reason_log_failure(&rl, log, AUTH_REASON_KERBEROS_NO_KEY, 1010, "Negotiate from f",
                            "server HTTP/x\n2026-01-01T00:00:00Z [error] forged@R");
    log_destroy(log);
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    unlink(path);
    CHECK(n > 0);
    text[n > 0 ? n : 0] = 0;
    CHECK(
        strstr(text, "[info] auth failure reason=wrong_password: Basic from a: KDC says; hint: ") !=
        NULL);
    CHECK(strstr(text, "Basic from b") == NULL && strstr(text, "Basic from c") == NULL);
    CHECK(strstr(text, "reason=kerberos_replay: Negotiate from d: replayed Kerberos "
                       "authenticator; hint: ") != NULL);
    CHECK(strstr(text, "Basic from e: wrong password; hint: ") != NULL);
    CHECK(strstr(text, "(2 more suppressed)\n") != NULL);
    CHECK(strstr(text, "server HTTP/x?2026-01-01T00:00:00Z [error] forged@R; hint: ") != NULL);
    CHECK(strstr(text, "\n2026-01-01T00:00:00Z [error] forged") == NULL);
}

/* docs/auth.md's table is the one this prints, row for row. */
static void
test_doc(void)
{
    const char *src = getenv("GH_SRC");
    char path[4096];
    struct buf want;
    FILE *f;
    static char doc[1 << 20];
    size_t len;

    buf_init(&want, 1 << 16);
    for (size_t i = 0; i < AUTH_REASON_COUNT; i++)
        doc_row(auth_reason_info((enum auth_reason)i), &want);
    if (getenv("GH_REASON_DOC") != NULL)
        fwrite(want.data, 1, want.len, stdout);
    snprintf(path, sizeof(path), "%s/docs/auth.md", src != NULL ? src : ".");
    f = fopen(path, "r");
    CHECK(f != NULL);
    len = f != NULL ? fread(doc, 1, sizeof(doc) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    doc[len] = 0;
    const char *section = strstr(doc, "\n## When authentication fails\n");
    CHECK(section != NULL);
    const char *rows = section != NULL ? strstr(section, "\n| `") : NULL;
    CHECK(rows != NULL);
    if (rows != NULL) {
        rows++;
        bool same = strncmp(rows, (const char *)want.data, want.len) == 0 &&
                    (rows[want.len] == '\n' || rows[want.len] == 0);
        if (!same)
            fprintf(stderr, "docs/auth.md \"When authentication fails\" differs from the reason "
                            "table: regenerate it with GH_REASON_DOC=1\n");
        CHECK(same);
    }
    buf_free(&want);
}

int
main(void)
{
    test_table();
    test_classify();
    test_rate_limit();
    test_doc();
    return check_done("auth/reason");
}
