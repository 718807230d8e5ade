// SPDX-License-Identifier: MIT
// GetUserName and the thread's last error (winapi.c), as Windows documents
// them: the process's account when the thread impersonates nobody, the
// impersonated account in between ImpersonateSecurityContext's equivalent
// (sspi_token_impersonate) and the revert; sizes in characters with the
// terminator; ERROR_INSUFFICIENT_BUFFER with the size needed.
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "harness/check.h"
#include "sspi/token_internal.h"

static void
test_process_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    char name[UNLEN + 1];
    DWORD n = sizeof(name);

    CHECK(pw != NULL);
    if (pw == NULL)
        return;
    CHECK(GetUserNameA(name, &n));
    CHECK_STR_EQ(name, pw->pw_name);
    CHECK_EQ(n, strlen(pw->pw_name) + 1);

    /* Too small, and NULL: FALSE, the size needed, ERROR_INSUFFICIENT_BUFFER. */
    SetLastError(ERROR_SUCCESS);
    n = 1;
    CHECK(!GetUserNameA(name, &n));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(n, strlen(pw->pw_name) + 1);
    n = 0;
    CHECK(!GetUserNameA(NULL, &n));
    CHECK_EQ(n, strlen(pw->pw_name) + 1);
    CHECK(!GetUserNameA(name, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* The wide form: the same name in UTF-16. */
    WCHAR wide[UNLEN + 1];
    n = UNLEN + 1;
    CHECK(GetUserNameW(wide, &n));
    CHECK_EQ(n, strlen(pw->pw_name) + 1);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(wide[i], (WCHAR)(unsigned char)pw->pw_name[i]);
    n = 2;
    CHECK(!GetUserNameW(wide, &n));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
}

/* Impersonating "nobody" (needs root, as impersonation does). */
static void
test_impersonated_user(void)
{
    struct sspi_token_info info = {.user = "nobody", .package = "NTLM", .local_account = "nobody"};
    gh_token *t = NULL;
    char name[UNLEN + 1];
    DWORD n = sizeof(name);

    if (geteuid() != 0 || getpwnam("nobody") == NULL) {
        printf("skip: impersonation needs root and a 'nobody' account\n");
        return;
    }
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    if (t == NULL)
        return;
    CHECK_EQ(sspi_token_impersonate(t), SEC_E_OK);
    CHECK(GetUserNameA(name, &n));
    CHECK_STR_EQ(name, "nobody");
    CHECK_EQ(sspi_token_revert(), SEC_E_OK);
    n = sizeof(name);
    CHECK(GetUserNameA(name, &n));
    CHECK_STR_EQ(name, getpwuid(geteuid())->pw_name);
    gh_token_close(t);
}

int
main(void)
{
    test_process_user();
    test_impersonated_user();
    return check_done("test_winapi");
}
