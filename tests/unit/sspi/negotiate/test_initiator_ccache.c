// SPDX-License-Identifier: MIT
// GH_INITIATOR_AUTH_DATA: an outbound Kerberos/Negotiate credential from a
// given ccache. A NULL Ccache is a parameter error; a cache without a TGT is
// SEC_E_NO_CREDENTIALS for Kerberos, and for Negotiate too although NTLM
// default credentials exist ($NTLM_USER_FILE): Negotiate never falls back to
// NTLM with the process's identity when a ccache was named.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/sspi.h>

#include "harness/check.h"

static SECURITY_STATUS
acquire(const char *package, void *auth_data)
{
    CredHandle h;
    SECURITY_STATUS st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)package, SECPKG_CRED_OUTBOUND,
                                                   NULL, auth_data, NULL, NULL, &h, NULL);
    if (st == SEC_E_OK)
        FreeCredentialsHandle(&h);
    return st;
}

int
main(void)
{
    char users[] = "/tmp/gh-ntlm-users-XXXXXX";
    int fd = mkstemp(users);
    static const char line[] = "DOM:bob:bob-pw\n";

    CHECK(fd >= 0);
    if (fd < 0)
        return check_done("test_initiator_ccache");
    CHECK_EQ(write(fd, line, sizeof(line) - 1), (ssize_t)(sizeof(line) - 1));
    close(fd);
    setenv("NTLM_USER_FILE", users, 1);
    setenv("KRB5CCNAME", "FILE:/nonexistent/gh-no-ccache", 1);

    /* The control: without pAuthData, Negotiate has NTLM's default identity. */
    CHECK_EQ(acquire(NEGOSSP_NAME_A, NULL), SEC_E_OK);

    GH_INITIATOR_AUTH_DATA no_name = {.Version = GH_INITIATOR_AUTH_DATA_V1, .Ccache = NULL};
    CHECK_EQ(acquire(NEGOSSP_NAME_A, &no_name), SEC_E_INVALID_PARAMETER);
    CHECK_EQ(acquire(MICROSOFT_KERBEROS_NAME_A, &no_name), SEC_E_INVALID_PARAMETER);

    GH_INITIATOR_AUTH_DATA empty = {.Version = GH_INITIATOR_AUTH_DATA_V1,
                                    .Ccache = "FILE:/nonexistent/gh-delegated-cc"};
    CHECK_EQ(acquire(MICROSOFT_KERBEROS_NAME_A, &empty), SEC_E_NO_CREDENTIALS);
    CHECK_EQ(acquire(NEGOSSP_NAME_A, &empty), SEC_E_NO_CREDENTIALS); /* not NTLM as bob */

    unlink(users);
    return check_done("test_initiator_ccache");
}
