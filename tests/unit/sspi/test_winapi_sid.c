// SPDX-License-Identifier: MIT
// GetTokenInformation (TokenUser, TokenGroups) and the SID functions
// (winapi_sid.c), used the way Windows code uses them: ask for the size with
// a NULL buffer, allocate, ask again, then read the SIDs as strings; SIDs
// built and parsed (AllocateAndInitializeSid, ConvertStringSidToSid, CopySid)
// and CheckTokenMembership.
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ConvertStringSidToSid: MS-DTYP 2.4.2.1 strings and SDDL aliases
 * (MS-DTYP 2.5.1.1), round-tripped through ConvertSidToStringSid. */
static void
test_string_sids(void)
{
    static const struct {
        const char *in, *want; /* want NULL: ERROR_INVALID_SID */
    } cases[] = {
        {"S-1-5-21-1-2-3-1103", "S-1-5-21-1-2-3-1103"},
        {"s-1-1-0", "S-1-1-0"},                /* the "S" in either case */
        {"S-1-0x0000000000FF-1", "S-1-255-1"}, /* hex authority (2.4.2.1) */
        {"S-1-5", "S-1-5"},                    /* no sub-authority */
        {"WD", "S-1-1-0"},                     /* SDDL aliases */
        {"BA", "S-1-5-32-544"},
        {"SY", "S-1-5-18"},
        {"S-1-5-4294967295", "S-1-5-4294967295"}, /* the largest sub-authority */
        {"S-1-5-4294967296", NULL},               /* one more */
        {"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"},
        {"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", NULL}, /* 16 sub-authorities */
        {"S-2-5-18", NULL},                                     /* revision */
        {"S-1-5-", NULL},
        {"S-1--5", NULL},
        {"S-1-+5", NULL},
        {" S-1-5", NULL},
        {"S-1-5-18 ", NULL},
        {"wd", NULL}, /* aliases are upper case */
        {"XX", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PSID sid = NULL;
        BOOL ok = ConvertStringSidToSidA(cases[i].in, &sid);
        CHECK_EQ(ok, cases[i].want != NULL);
        if (!ok) {
            CHECK_EQ(GetLastError(), ERROR_INVALID_SID);
            continue;
        }
        check_sid(sid, cases[i].want);
        LocalFree(sid);
    }
    PSID sid = NULL;
    static const WCHAR wide[] = {'S', '-', '1', '-', '5', '-', '3', '2', '-', '5', '4', '5', 0};
    static const WCHAR bad[] = {'S', '-', '1', '-', 0xd800, 0}; /* a lone surrogate */
    CHECK(ConvertStringSidToSidW(wide, &sid));
    check_sid(sid, "S-1-5-32-545");
    LocalFree(sid);
    CHECK(!ConvertStringSidToSidW(bad, &sid));
    CHECK_EQ(GetLastError(), ERROR_INVALID_SID);
    CHECK(!ConvertStringSidToSidA(NULL, &sid));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!ConvertStringSidToSidA("S-1-1-0", NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!ConvertStringSidToSidW(NULL, &sid));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* AllocateAndInitializeSid, the accessors, CopySid: how Windows code builds
 * BUILTIN\Administrators to compare with. */
static void
test_build_sids(void)
{
    SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
    PSID admins = NULL, copy = NULL;
    BYTE buf[SECURITY_MAX_SID_SIZE];

    CHECK(AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0,
                                   0, 0, 0, 0, 0, &admins));
    check_sid(admins, "S-1-5-32-544");
    CHECK_EQ(*GetSidSubAuthorityCount(admins), 2);
    CHECK_EQ(*GetSidSubAuthority(admins, 1), 544);
    CHECK_EQ(GetSidIdentifierAuthority(admins)->Value[5], 5);
    *GetSidSubAuthority(admins, 1) = DOMAIN_ALIAS_RID_USERS; /* writable, as on Windows */
    check_sid(admins, "S-1-5-32-545");

    CHECK(!CopySid(11, buf, admins)); /* needs 16 */
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK(CopySid(sizeof(buf), buf, admins));
    CHECK(EqualSid(buf, admins));
    CHECK(!CopySid(sizeof(buf), NULL, admins));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    buf[0] = 2; /* revision */
    CHECK(!CopySid(sizeof(buf), buf + 0, buf));
    CHECK_EQ(GetLastError(), ERROR_INVALID_SID);

    CHECK(!AllocateAndInitializeSid(&nt, 0, 0, 0, 0, 0, 0, 0, 0, 0, &copy));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!AllocateAndInitializeSid(&nt, 9, 0, 0, 0, 0, 0, 0, 0, 0, &copy));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!AllocateAndInitializeSid(NULL, 1, 0, 0, 0, 0, 0, 0, 0, 0, &copy));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!AllocateAndInitializeSid(&nt, 1, 0, 0, 0, 0, 0, 0, 0, 0, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(AllocateAndInitializeSid(&nt, 8, 1, 2, 3, 4, 5, 6, 7, 8, &copy));
    check_sid(copy, "S-1-5-1-2-3-4-5-6-7-8");
    CHECK(FreeSid(copy) == NULL);
    CHECK(FreeSid(admins) == NULL);
}

static bool
member(HANDLE token, const char *sid_text)
{
    PSID sid = NULL;
    BOOL is_member = 2;

    CHECK(ConvertStringSidToSidA(sid_text, &sid));
    CHECK(CheckTokenMembership(token, sid, &is_member));
    CHECK(is_member == TRUE || is_member == FALSE);
    LocalFree(sid);
    return is_member == TRUE;
}

/* CheckTokenMembership: the user SID and the enabled groups of TokenGroups. */
static void
test_membership(void)
{
    const char *groups[] = {"S-1-5-21-1-2-3-513", "S-1-5-21-1-2-3-1200", "S-1-18-1"};
    const uint32_t attrs[] = {7, 0x10 /* SE_GROUP_USE_FOR_DENY_ONLY: not enabled */, 7};
    struct sspi_token_info info = {.user = "carol",
                                   .package = "Kerberos",
                                   .user_sid = "S-1-5-21-1-2-3-1103",
                                   .group_sids = groups,
                                   .group_sid_attributes = attrs,
                                   .group_sid_count = 3};
    gh_token *t = NULL;
    PSID sid = NULL;
    BOOL is_member = FALSE;
    int not_a_token = 0;
    char self[64];

    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK(member(t, "S-1-5-21-1-2-3-1103"));
    CHECK(member(t, "S-1-5-21-1-2-3-513"));
    CHECK(member(t, "S-1-18-1"));
    CHECK(!member(t, "S-1-5-21-1-2-3-1200"));
    CHECK(!member(t, "S-1-5-21-1-2-3-512"));
    CHECK(!member(t, "S-1-1-0")); /* Windows adds Everyone to its tokens; ours do not */

    CHECK(ConvertStringSidToSidA("S-1-1-0", &sid));
    CHECK(!CheckTokenMembership(&not_a_token, sid, &is_member));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK(!CheckTokenMembership(t, NULL, &is_member));
    CHECK_EQ(GetLastError(), ERROR_INVALID_SID);
    CHECK(!CheckTokenMembership(t, sid, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    LocalFree(sid);
    gh_token_close(t);

    /* NULL, not impersonating: the process's own Unix SIDs. */
    snprintf(self, sizeof(self), "S-1-22-1-%lu", (unsigned long)geteuid());
    CHECK(member(NULL, self));
    snprintf(self, sizeof(self), "S-1-22-2-%lu", (unsigned long)getegid());
    CHECK(member(NULL, self));
    CHECK(!member(NULL, "S-1-22-1-4000000000"));

    /* NULL while impersonating (root only): the impersonated token. */
    struct sspi_token_info nobody = {
        .user = "nobody", .package = "NTLM", .local_account = "nobody"};
    uid_t uid = 0;
    CHECK_EQ(sspi_token_create(&nobody, &t), SEC_E_OK);
    if (geteuid() == 0 && gh_token_unix_ids(t, &uid, NULL) == GH_OK) {
        char root_sid[64];
        snprintf(root_sid, sizeof(root_sid), "S-1-22-1-%lu", (unsigned long)geteuid());
        snprintf(self, sizeof(self), "S-1-22-1-%lu", (unsigned long)uid);
        CHECK_EQ(sspi_token_impersonate(t), SEC_E_OK);
        CHECK(member(NULL, self));
        CHECK(!member(NULL, root_sid));
        CHECK_EQ(sspi_token_revert(), SEC_E_OK);
        CHECK(member(NULL, root_sid));
    } else {
        printf("skip: impersonation needs root and a 'nobody' account\n");
    }
    gh_token_close(t);
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
    test_string_sids();
    test_build_sids();
    test_membership();
    return check_done("test_winapi_sid");
}
