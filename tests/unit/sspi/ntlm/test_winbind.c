// SPDX-License-Identifier: MIT
// The winbind back end without a domain: what each answer of winbindd means
// (the mapping table), and a real libwbclient call that cannot reach winbindd
// (SEC_E_NO_AUTHENTICATING_AUTHORITY with a text that says what to check).
// libwbclient's own switch _NO_WINBINDD=1 makes it fail as without a daemon,
// whether or not a test domain controller runs on the machine meanwhile. The logons themselves are
// tested against a Samba domain controller in tests/integration/test_ntlm_winbind.py.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wbclient.h>

#include "base/buf.h"
#include "harness/check.h"
#include "sspi/ntlm/backend.h"
#include "sspi/ntlm/ntlm.h"
#include "unit/sspi/ntlm/ntlm_step.h"

static void
test_mapping(void)
{
    static const struct {
        int wbc;
        uint32_t nt;
        SECURITY_STATUS want;
        const char *reason;
    } cases[] = {
        /* The DC refused the account: the client is told only "denied". */
        {WBC_ERR_AUTH_ERROR, 0xC000006Du, SEC_E_LOGON_DENIED, "unknown user or wrong password"},
        {WBC_ERR_AUTH_ERROR, 0xC000006Au, SEC_E_LOGON_DENIED, "unknown user or wrong password"},
        {WBC_ERR_AUTH_ERROR, 0xC0000064u, SEC_E_LOGON_DENIED, "unknown user or wrong password"},
        {WBC_ERR_AUTH_ERROR, 0xC0000072u, SEC_E_LOGON_DENIED, "account disabled"},
        {WBC_ERR_AUTH_ERROR, 0xC0000071u, SEC_E_LOGON_DENIED, "password expired"},
        {WBC_ERR_AUTH_ERROR, 0xC0000224u, SEC_E_LOGON_DENIED, "password must change"},
        {WBC_ERR_AUTH_ERROR, 0xC0000234u, SEC_E_LOGON_DENIED, "account locked"},
        {WBC_ERR_AUTH_ERROR, 0xC0000193u, SEC_E_LOGON_DENIED, "account expired"},
        {WBC_ERR_AUTH_ERROR, 0xC0000001u, SEC_E_LOGON_DENIED, "logon refused by the DC"},
        {WBC_ERR_UNKNOWN_USER, 0, SEC_E_LOGON_DENIED, "unknown user or wrong password"},
        /* Nobody to ask: not the client's fault. */
        {WBC_ERR_AUTH_ERROR, 0xC000005Eu, SEC_E_NO_AUTHENTICATING_AUTHORITY,
         "no domain controller reachable"},
        {WBC_ERR_AUTH_ERROR, 0xC0000192u, SEC_E_NO_AUTHENTICATING_AUTHORITY,
         "netlogon not started"},
        {WBC_ERR_WINBIND_NOT_AVAILABLE, 0, SEC_E_NO_AUTHENTICATING_AUTHORITY,
         "winbind is not available"},
        {WBC_ERR_DOMAIN_NOT_FOUND, 0, SEC_E_NO_AUTHENTICATING_AUTHORITY, "domain not found"},
        {WBC_ERR_INVALID_RESPONSE, 0, SEC_E_NO_AUTHENTICATING_AUTHORITY,
         "invalid answer from winbindd"},
        {WBC_ERR_NO_MEMORY, 0, SEC_E_INSUFFICIENT_MEMORY, "out of memory"},
        {WBC_ERR_INVALID_PARAM, 0, SEC_E_INTERNAL_ERROR, "winbind call failed"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ntlm_winbind_failure f = ntlm_winbind_map_failure(cases[i].wbc, cases[i].nt);
        CHECK_EQ(f.status, cases[i].want);
        CHECK_STR_EQ(f.reason, cases[i].reason);
    }
    CHECK_STR_EQ(ntlm_winbind_map_failure(WBC_ERR_AUTH_ERROR, 0xC0000072u).nt_name,
                 "NT_STATUS_ACCOUNT_DISABLED");
    /* the detail column: the audit reason of each refusal */
    CHECK_EQ(ntlm_winbind_map_failure(WBC_ERR_AUTH_ERROR, 0xC0000072u).detail,
             GH_SEC_DETAIL_ACCOUNT_DISABLED);
    CHECK_EQ(ntlm_winbind_map_failure(WBC_ERR_AUTH_ERROR, 0xC0000224u).detail,
             GH_SEC_DETAIL_PASSWORD_EXPIRED);
    CHECK_EQ(ntlm_winbind_map_failure(WBC_ERR_AUTH_ERROR, 0xC000006Du).detail,
             GH_SEC_DETAIL_WRONG_PASSWORD);
    CHECK_EQ(ntlm_winbind_map_failure(WBC_ERR_UNKNOWN_USER, 0).detail, GH_SEC_DETAIL_UNKNOWN_USER);
    CHECK_EQ(ntlm_winbind_map_failure(WBC_ERR_WINBIND_NOT_AVAILABLE, 0).detail, GH_SEC_DETAIL_NONE);
}

static void
step_init(struct sspi_step *st, struct slice in)
{
    ntlm_step_init(st, in, ISC_REQ_CONNECTION, NULL);
}

/* One handshake of user against an acceptor with GH_ACCEPTOR_NTLM_WINBIND
 * (no user store): the CHALLENGE needs no winbindd; returns the status of
 * the AUTHENTICATE leg and its extended error in text. */
static SECURITY_STATUS
winbind_logon(const char *user, char *text, size_t text_len)
{
    GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V1,
                                 .NbDomainName = "CORP",
                                 .Flags = GH_ACCEPTOR_NTLM_WINBIND};
    struct sspi_acquire sa = {.use = SECPKG_CRED_INBOUND, .acceptor = &cfg};
    struct sspi_acquire ca = {.use = SECPKG_CRED_OUTBOUND, .has_identity = true};
    void *scred = NULL, *ccred = NULL, *sctx = NULL, *cctx = NULL;
    struct sspi_step c1, s1, c2, s2;

    ca.user = user;
    ca.domain = "CORP";
    ca.password = (struct secret){(uint8_t *)"Pass-w0rd", 9};
    CHECK_EQ(ntlm_package.acquire_cred(&sa, &scred), SEC_E_OK);
    CHECK_EQ(ntlm_package.acquire_cred(&ca, &ccred), SEC_E_OK);
    step_init(&c1, slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &c1), SEC_I_CONTINUE_NEEDED);
    step_init(&s1, buf_slice(&c1.out_token));
    CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s1), SEC_I_CONTINUE_NEEDED);
    step_init(&c2, buf_slice(&s1.out_token));
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &c2), SEC_E_OK);
    step_init(&s2, buf_slice(&c2.out_token));
    SECURITY_STATUS st = ntlm_package.accept_ctx(scred, &sctx, &s2);
    snprintf(text, text_len, "%.*s", (int)s2.error_text.len, (const char *)s2.error_text.data);
    ntlm_step_free(&c1);
    ntlm_step_free(&s1);
    ntlm_step_free(&c2);
    ntlm_step_free(&s2);
    ntlm_package.delete_ctx(sctx);
    ntlm_package.delete_ctx(cctx);
    ntlm_package.free_cred(scred);
    ntlm_package.free_cred(ccred);
    return st;
}

/* Without winbindd: SEC_E_NO_AUTHENTICATING_AUTHORITY and a text that says
 * what to check, twice (a failed connection is not kept for reuse). */
static void
test_no_winbindd(void)
{
    char text[1024];

    setenv("_NO_WINBINDD", "1", 1);
    unsetenv("GH_USER_STORE");
    for (int round = 0; round < 2; round++) {
        CHECK_EQ(winbind_logon("carol", text, sizeof(text)), SEC_E_NO_AUTHENTICATING_AUTHORITY);
        CHECK(strstr(text, "winbindd") != NULL);
        CHECK(strstr(text, "/run/samba/winbindd") != NULL);
    }
}

/* winbindd's request holds 255-byte names and libwbclient truncates longer
 * ones: refused before winbindd is asked (else the DC would see another name). */
static void
test_long_name(void)
{
    char user[300], text[1024];

    memset(user, 'a', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    CHECK_EQ(winbind_logon(user, text, sizeof(text)), SEC_E_LOGON_DENIED);
    CHECK(strstr(text, "longer than winbind takes") != NULL);
}

int
main(void)
{
    test_mapping();
    test_no_winbindd();
    test_long_name();
    return check_done("test_winbind");
}
