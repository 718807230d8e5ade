// SPDX-License-Identifier: MIT
// GetUserName and the thread's last error (winapi.c), as Windows documents
// them: the process's account when the thread impersonates nobody, the
// impersonated account in between ImpersonateSecurityContext's equivalent
// (sspi_token_impersonate) and the revert; sizes in characters with the
// terminator; ERROR_INSUFFICIENT_BUFFER with the size needed; OpenThreadToken
// on the impersonating thread.
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
    /* OpenThreadToken: a new reference to the impersonated token. */
    HANDLE h = NULL;
    CHECK(OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &h));
    CHECK(h == t);
    CHECK(!OpenThreadToken((HANDLE)1, TOKEN_QUERY, TRUE, &h));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK_EQ(sspi_token_revert(), SEC_E_OK);
    CHECK_STR_EQ(gh_token_user(h), "nobody"); /* still ours after the revert */
    CHECK(CloseHandle(h));
    n = sizeof(name);
    CHECK(GetUserNameA(name, &n));
    CHECK_STR_EQ(name, getpwuid(geteuid())->pw_name);
    gh_token_close(t);
}

/* Not impersonating: no thread token, as on Windows. */
static void
test_no_thread_token(void)
{
    HANDLE h = NULL;

    CHECK(!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, FALSE, &h));
    CHECK_EQ(GetLastError(), ERROR_NO_TOKEN);
    CHECK(h == NULL);
    CHECK(!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, FALSE, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
}

int
main(void)
{
    test_no_thread_token();
    test_process_user();
    test_impersonated_user();
    return check_done("test_winapi");
}
