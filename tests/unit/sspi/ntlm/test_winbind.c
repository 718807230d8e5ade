// SPDX-License-Identifier: MIT
// The winbind back end without a domain: what each answer of winbindd means
// (the mapping table), and a real libwbclient call that cannot reach winbindd
// (SEC_E_NO_AUTHENTICATING_AUTHORITY with a text that says what to check).
// libwbclient's own switch _NO_WINBINDD=1 makes it fail as without a daemon,
// whether or not a test domain controller runs on the machine meanwhile. The logons themselves are
// tested against a Samba domain controller in tests/integration/test_ntlm_winbind.py.
#include <stdbool.h>
#include <stdint.h>
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
}

static void
step_init(struct sspi_step *st, struct slice in)
{
    ntlm_step_init(st, in, ISC_REQ_CONNECTION, NULL);
}

/* An acceptor with GH_ACCEPTOR_NTLM_WINBIND needs no user store, issues its
 * CHALLENGE without winbindd, and answers the AUTHENTICATE with
 * SEC_E_NO_AUTHENTICATING_AUTHORITY when winbindd cannot be reached. */
static void
test_no_winbindd(void)
{
    GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V1,
                                 .NbDomainName = "CORP",
                                 .Flags = GH_ACCEPTOR_NTLM_WINBIND};
    struct sspi_acquire sa = {.use = SECPKG_CRED_INBOUND, .acceptor = &cfg};
    struct sspi_acquire ca = {.use = SECPKG_CRED_OUTBOUND, .has_identity = true};
    void *scred = NULL, *ccred = NULL, *sctx = NULL, *cctx = NULL;
    struct sspi_step c1, s1, c2, s2;

    setenv("_NO_WINBINDD", "1", 1);
    unsetenv("GH_USER_STORE");
    ca.user = "carol";
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
    for (int round = 0; round < 2; round++) { /* the failed connection is not kept */
        step_init(&s2, buf_slice(&c2.out_token));
        if (round == 1) {
            ntlm_package.delete_ctx(sctx);
            sctx = NULL;
            ntlm_step_free(&s1);
            step_init(&s1, buf_slice(&c1.out_token));
            CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s1), SEC_I_CONTINUE_NEEDED);
        }
        CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s2), SEC_E_NO_AUTHENTICATING_AUTHORITY);
        buf_append(&s2.error_text, "", 1);
        CHECK(strstr((const char *)s2.error_text.data, "winbindd") != NULL);
        CHECK(strstr((const char *)s2.error_text.data, "/run/samba/winbindd") != NULL);
        ntlm_step_free(&s2);
    }
    ntlm_step_free(&c1);
    ntlm_step_free(&s1);
    ntlm_step_free(&c2);
    ntlm_package.delete_ctx(sctx);
    ntlm_package.delete_ctx(cctx);
    ntlm_package.free_cred(scred);
    ntlm_package.free_cred(ccred);
}

int
main(void)
{
    test_mapping();
    test_no_winbindd();
    return check_done("test_winbind");
}
