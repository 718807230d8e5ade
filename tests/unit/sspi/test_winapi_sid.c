// SPDX-License-Identifier: MIT
// GetTokenInformation (TokenUser, TokenGroups) and the SID functions
// (winapi_sid.c), used the way Windows code uses them: ask for the size with
// a NULL buffer, allocate, ask again, then read the SIDs as strings.
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "harness/check.h"
#include "sspi/token_internal.h"

/* GetTokenInformation the documented two-call way; NULL when it fails. */
static void *
token_info(gh_token *t, TOKEN_INFORMATION_CLASS cls, DWORD *err_out)
{
    DWORD need = 0;
    void *buf;

    *err_out = ERROR_SUCCESS;
    if (GetTokenInformation(t, cls, NULL, 0, &need) ||
        GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
        *err_out = GetLastError();
        return NULL;
    }
    buf = malloc(need);
    if (buf == NULL)
        return NULL;
    DWORD got = 0;
    if (!GetTokenInformation(t, cls, buf, need, &got) || got != need) {
        *err_out = GetLastError();
        free(buf);
        return NULL;
    }
    return buf;
}

static void
check_sid(PSID sid, const char *want)
{
    LPSTR text = NULL;

    CHECK(IsValidSid(sid));
    CHECK(ConvertSidToStringSidA(sid, &text));
    if (text != NULL)
        CHECK_STR_EQ(text, want);
    LocalFree(text);
}

static void
test_windows_identity(void)
{
    const char *groups[] = {"S-1-5-21-1-2-3-513", "S-1-5-32-545"};
    struct sspi_token_info info = {.user = "carol",
                                   .package = "Kerberos",
                                   .user_sid = "S-1-5-21-1-2-3-1103",
                                   .group_sids = groups,
                                   .group_sid_count = 2};
    gh_token *t = NULL;
    DWORD err;

    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    if (t == NULL)
        return;
    TOKEN_USER *tu = token_info(t, TokenUser, &err);
    CHECK(tu != NULL);
    if (tu != NULL) {
        check_sid(tu->User.Sid, "S-1-5-21-1-2-3-1103");
        CHECK_EQ(GetLengthSid(tu->User.Sid), 8 + 4 * 5);
        CHECK_EQ(((PISID)tu->User.Sid)->SubAuthority[4], 1103);
    }
    TOKEN_GROUPS *tg = token_info(t, TokenGroups, &err);
    CHECK(tg != NULL);
    if (tg != NULL && tu != NULL) {
        CHECK_EQ(tg->GroupCount, 2);
        check_sid(tg->Groups[0].Sid, "S-1-5-21-1-2-3-513");
        check_sid(tg->Groups[1].Sid, "S-1-5-32-545");
        CHECK_EQ(tg->Groups[0].Attributes,
                 SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED);
        CHECK(EqualSid(tg->Groups[0].Sid, tg->Groups[0].Sid));
        CHECK(!EqualSid(tg->Groups[0].Sid, tu->User.Sid));
        LPWSTR wide = NULL;
        CHECK(ConvertSidToStringSidW(tg->Groups[1].Sid, &wide));
        static const char want[] = "S-1-5-32-545";
        for (size_t i = 0; wide != NULL && i < sizeof(want); i++)
            CHECK_EQ(wide[i], (WCHAR)want[i]);
        LocalFree(wide);
    }
    /* One byte short: FALSE, and the size needed again. */
    DWORD need = 0, got = 0;
    GetTokenInformation(t, TokenGroups, NULL, 0, &need);
    void *small = malloc(need);
    CHECK(!GetTokenInformation(t, TokenGroups, small, need - 1, &got));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(got, need);
    free(small);
    CHECK(!GetTokenInformation(t, TokenPrivileges, NULL, 0, &need));
    CHECK_EQ(GetLastError(), ERROR_NOT_SUPPORTED);
    free(tu);
    free(tg);
    gh_token_close(t);
}

static void
test_unix_identity(void)
{
    struct sspi_token_info info = {.user = "nobody", .package = "NTLM", .local_account = "nobody"};
    struct sspi_token_info ghost = {.user = "ghost", .package = "NTLM"};
    struct passwd *pw = getpwnam("nobody");
    gh_token *t = NULL, *g = NULL;
    char want[64];
    DWORD err;

    if (pw == NULL) {
        printf("skip: no 'nobody' account\n");
        return;
    }
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    TOKEN_USER *tu = token_info(t, TokenUser, &err);
    snprintf(want, sizeof(want), "S-1-22-1-%lu", (unsigned long)pw->pw_uid);
    if (tu != NULL)
        check_sid(tu->User.Sid, want);
    CHECK(tu != NULL);
    TOKEN_GROUPS *tg = token_info(t, TokenGroups, &err);
    snprintf(want, sizeof(want), "S-1-22-2-%lu", (unsigned long)pw->pw_gid);
    CHECK(tg != NULL && tg->GroupCount == 1);
    if (tg != NULL && tg->GroupCount == 1)
        check_sid(tg->Groups[0].Sid, want);
    free(tu);
    free(tg);
    gh_token_close(t);

    /* Neither a SID nor a local account: no TokenUser, no groups. */
    CHECK_EQ(sspi_token_create(&ghost, &g), SEC_E_OK);
    CHECK(token_info(g, TokenUser, &err) == NULL);
    CHECK_EQ(err, ERROR_NONE_MAPPED);
    tg = token_info(g, TokenGroups, &err);
    CHECK(tg != NULL && tg->GroupCount == 0);
    free(tg);
    gh_token_close(g);
}

int
main(void)
{
    DWORD n = 0;
    int not_a_token = 0;

    CHECK(!GetTokenInformation(&not_a_token, TokenUser, NULL, 0, &n));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!IsValidSid(NULL));
    CHECK_EQ(GetLengthSid(NULL), 0);
    test_windows_identity();
    test_unix_identity();
    return check_done("test_winapi_sid");
}
