// SPDX-License-Identifier: MIT
// LookupAccountSid / LookupAccountName (winapi_lookup.c, accounts.c) the way
// Windows code calls them: the size first, then the buffers. Every source
// that needs no domain: well-known SIDs, a live token's PAC identity (and a
// group name it carries), Samba's Unix SIDs over NSS; and every failure.
// winbindd is turned off (sid_names_configure) so that a test DC's winbindd
// running at the same time cannot answer instead.
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "harness/check.h"
#include "sspi/sid_names.h"
#include "sspi/token_internal.h"

/* A binary SID from its string form (ConvertStringSidToSidA); free with LocalFree. */
static PSID
sid_of(const char *text)
{
    PSID sid = NULL;

    CHECK(ConvertStringSidToSidA(text, &sid));
    return sid;
}

/* LookupAccountSidA the documented two-call way: "DOMAIN\name" (or "name"
 * for an empty domain) into out, and the type; the error when it fails. */
static DWORD
name_of(PSID sid, char *out, size_t out_len, SID_NAME_USE *use)
{
    DWORD cch_name = 0, cch_domain = 0;
    char *name = NULL, *domain = NULL;
    DWORD err = ERROR_SUCCESS;

    if (LookupAccountSidA(NULL, sid, NULL, &cch_name, NULL, &cch_domain, use))
        return ERROR_SUCCESS + 1000; /* cannot succeed without buffers */
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER)
        return GetLastError();
    name = malloc(cch_name);
    domain = malloc(cch_domain);
    DWORD want_name = cch_name, want_domain = cch_domain;
    if (!LookupAccountSidA(NULL, sid, name, &cch_name, domain, &cch_domain, use)) {
        err = GetLastError();
    } else {
        /* On success the counts are the lengths, terminators excluded. */
        CHECK_EQ(cch_name, want_name - 1);
        CHECK_EQ(cch_domain, want_domain - 1);
        CHECK_EQ(strlen(name), cch_name);
        snprintf(out, out_len, "%s%s%s", domain, domain[0] != '\0' ? "\\" : "", name);
    }
    free(name);
    free(domain);
    return err;
}

static void
check_sid_name(const char *sid_text, const char *want, SID_NAME_USE want_use)
{
    PSID sid = sid_of(sid_text);
    SID_NAME_USE use = SidTypeInvalid;
    char got[600] = "";

    CHECK_EQ(name_of(sid, got, sizeof(got), &use), ERROR_SUCCESS);
    CHECK_STR_EQ(got, want);
    CHECK_EQ(use, want_use);
    LocalFree(sid);
}

/* LookupAccountNameA the two-call way: the SID as a string, the domain. */
static DWORD
sid_named(const char *account, char *sid_out, size_t sid_len, char *domain_out, size_t domain_len,
          SID_NAME_USE *use)
{
    DWORD cb = 0, cch = 0;
    DWORD err = ERROR_SUCCESS;

    if (LookupAccountNameA(NULL, account, NULL, &cb, NULL, &cch, use))
        return ERROR_SUCCESS + 1000;
    if (GetLastError() != ERROR_INSUFFICIENT_BUFFER)
        return GetLastError();
    PSID sid = malloc(cb);
    char *domain = malloc(cch);
    DWORD want_cb = cb, want_cch = cch;
    if (!LookupAccountNameA(NULL, account, sid, &cb, domain, &cch, use)) {
        err = GetLastError();
    } else {
        LPSTR text = NULL;
        CHECK_EQ(cb, want_cb);
        CHECK_EQ(cb, GetLengthSid(sid));
        CHECK_EQ(cch, want_cch - 1);
        CHECK(ConvertSidToStringSidA(sid, &text));
        snprintf(sid_out, sid_len, "%s", text != NULL ? text : "");
        snprintf(domain_out, domain_len, "%s", domain);
        LocalFree(text);
    }
    free(sid);
    free(domain);
    return err;
}

static void
check_name_sid(const char *account, const char *want_sid, const char *want_domain,
               SID_NAME_USE want_use)
{
    char sid[200] = "", domain[300] = "";
    SID_NAME_USE use = SidTypeInvalid;

    CHECK_EQ(sid_named(account, sid, sizeof(sid), domain, sizeof(domain), &use), ERROR_SUCCESS);
    CHECK_STR_EQ(sid, want_sid);
    CHECK_STR_EQ(domain, want_domain);
    CHECK_EQ(use, want_use);
}

/* Windows' names for well-known SIDs (MS-DTYP 2.4.2.4), whatever the token. */
static void
test_well_known(void)
{
    static const struct {
        const char *sid, *name;
        SID_NAME_USE use;
    } cases[] = {
        {"S-1-1-0", "Everyone", SidTypeWellKnownGroup},
        {"S-1-5-11", "NT AUTHORITY\\Authenticated Users", SidTypeWellKnownGroup},
        {"S-1-5-18", "NT AUTHORITY\\SYSTEM", SidTypeWellKnownGroup},
        {"S-1-5-32-544", "BUILTIN\\Administrators", SidTypeAlias},
        {"S-1-5-32", "BUILTIN\\BUILTIN", SidTypeDomain},
        {"S-1-18-1", "Authentication authority asserted identity", SidTypeWellKnownGroup},
        {"S-1-16-8192", "Mandatory Label\\Medium Mandatory Level", SidTypeLabel},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_sid_name(cases[i].sid, cases[i].name, cases[i].use);
    check_name_sid("Everyone", "S-1-1-0", "", SidTypeWellKnownGroup);
    check_name_sid("nt authority\\system", "S-1-5-18", "NT AUTHORITY", SidTypeWellKnownGroup);
    check_name_sid("BUILTIN\\Users", "S-1-5-32-545", "BUILTIN", SidTypeAlias);
}

/* Every failure, and the sizes of the two-call pattern. */
static void
test_arguments(void)
{
    PSID sid = sid_of("S-1-5-18");
    char name[64], domain[64];
    DWORD cch_name = sizeof(name), cch_domain = sizeof(domain), cb = 0;
    SID_NAME_USE use = SidTypeInvalid;
    BYTE bad[12] = {2, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}; /* revision 2 */

    CHECK(!LookupAccountSidA(NULL, sid, name, NULL, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!LookupAccountSidA(NULL, sid, name, &cch_name, domain, NULL, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!LookupAccountSidA(NULL, sid, name, &cch_name, domain, &cch_domain, NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!LookupAccountSidA(NULL, NULL, name, &cch_name, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_SID);
    CHECK(!LookupAccountSidA(NULL, bad, name, &cch_name, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_SID);
    /* Another machine: not reachable from here; "" is this one. */
    CHECK(!LookupAccountSidA("otherhost", sid, name, &cch_name, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), RPC_S_SERVER_UNAVAILABLE);
    CHECK_EQ(cch_name, sizeof(name)); /* untouched on these failures */
    CHECK(LookupAccountSidA("", sid, name, &cch_name, domain, &cch_domain, &use));
    CHECK_STR_EQ(name, "SYSTEM");
    CHECK_EQ(cch_name, 6);
    CHECK_EQ(cch_domain, 12); /* "NT AUTHORITY" */

    /* One buffer too small: both sizes are given, nothing is written. */
    cch_name = 6; /* "SYSTEM" needs 7 with its terminator */
    cch_domain = sizeof(domain);
    strcpy(name, "x");
    CHECK(!LookupAccountSidA(NULL, sid, name, &cch_name, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(cch_name, 7);
    CHECK_EQ(cch_domain, 13);
    CHECK_STR_EQ(name, "x");
    /* Everyone's domain is "": one TCHAR, the terminator. */
    PSID everyone = sid_of("S-1-1-0");
    cch_name = cch_domain = 0;
    CHECK(!LookupAccountSidA(NULL, everyone, NULL, &cch_name, NULL, &cch_domain, &use));
    CHECK_EQ(cch_name, 9);
    CHECK_EQ(cch_domain, 1);
    LocalFree(everyone);

    /* Unknown: a domain SID no source knows. */
    PSID unknown = sid_of("S-1-5-21-1-2-3-999");
    cch_name = sizeof(name);
    cch_domain = sizeof(domain);
    CHECK(!LookupAccountSidA(NULL, unknown, name, &cch_name, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_NONE_MAPPED);
    LocalFree(unknown);

    /* LookupAccountName's own. */
    cch_domain = 0;
    CHECK(!LookupAccountNameA(NULL, NULL, NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!LookupAccountNameA(NULL, "", NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!LookupAccountNameA(NULL, "SYSTEM", NULL, NULL, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!LookupAccountNameA("otherhost", "SYSTEM", NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), RPC_S_SERVER_UNAVAILABLE);
    CHECK(!LookupAccountNameA(NULL, "no-such-account-xq7", NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_NONE_MAPPED);
    CHECK(!LookupAccountNameA(NULL, "NOWHERE\\SYSTEM", NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_NONE_MAPPED);
    char *longname = malloc(2000);
    memset(longname, 'a', 1999);
    longname[1999] = '\0';
    CHECK(!LookupAccountNameA(NULL, longname, NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_NONE_MAPPED);
    free(longname);
    /* The SID buffer one byte short. */
    BYTE small[11];
    char dom[32];
    cb = sizeof(small);
    cch_domain = sizeof(dom);
    CHECK(!LookupAccountNameA(NULL, "SYSTEM", small, &cb, dom, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(cb, 12);
    CHECK_EQ(cch_domain, 13);
    LocalFree(sid);
}

/* The W forms: UTF-16 in and out, sizes in WCHARs. */
static void
test_wide(void)
{
    PSID sid = sid_of("S-1-5-32-545");
    WCHAR name[16], domain[16];
    DWORD cch_name = 0, cch_domain = 0, cb = 0;
    SID_NAME_USE use = SidTypeInvalid;
    static const WCHAR users[] = {'U', 's', 'e', 'r', 's', 0};
    static const WCHAR builtin[] = {'B', 'U', 'I', 'L', 'T', 'I', 'N', 0};
    static const WCHAR account[] = {'B',  'U', 'I', 'L', 'T', 'I', 'N',
                                    '\\', 'U', 's', 'e', 'r', 's', 0};
    static const WCHAR other[] = {'h', 0};

    CHECK(!LookupAccountSidW(NULL, sid, NULL, &cch_name, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(cch_name, 6);
    CHECK_EQ(cch_domain, 8);
    CHECK(LookupAccountSidW(NULL, sid, name, &cch_name, domain, &cch_domain, &use));
    CHECK_MEM_EQ(name, users, sizeof(users));
    CHECK_MEM_EQ(domain, builtin, sizeof(builtin));
    CHECK_EQ(cch_name, 5);
    CHECK_EQ(use, SidTypeAlias);
    CHECK(!LookupAccountSidW(other, sid, name, &cch_name, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), RPC_S_SERVER_UNAVAILABLE);

    BYTE buf[SECURITY_MAX_SID_SIZE];
    cch_domain = 0;
    CHECK(!LookupAccountNameW(NULL, account, NULL, &cb, NULL, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(cb, 16);
    CHECK_EQ(cch_domain, 8);
    CHECK(LookupAccountNameW(NULL, account, buf, &cb, domain, &cch_domain, &use));
    CHECK(EqualSid(buf, sid));
    CHECK_MEM_EQ(domain, builtin, sizeof(builtin));
    CHECK_EQ(cch_domain, 7);
    CHECK(!LookupAccountNameW(NULL, NULL, buf, &cb, domain, &cch_domain, &use));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    LocalFree(sid);
}

/* Group names from the fake name service (the token asks it when made). */
static bool
fake_resolve(const struct sid *sids, size_t count, char **names_out)
{
    for (size_t i = 0; i < count; i++) {
        if (sids[i].sub[sids[i].sub_count - 1] == 513)
            names_out[i] = strdup("CORP\\Domain Users");
    }
    return true;
}

/* A PAC identity is known while its token lives, as Windows' LSA knows
 * its logon sessions. */
static void
test_token_source(void)
{
    const char *groups[] = {"S-1-5-21-1-2-3-513", "S-1-5-21-1-2-3-1200"};
    struct sspi_token_info info = {.user = "carol",
                                   .package = "Kerberos",
                                   .user_sid = "S-1-5-21-1-2-3-1103",
                                   .group_sids = groups,
                                   .group_sid_count = 2,
                                   .logon_domain = "CORP",
                                   .dns_domain = "corp.test",
                                   .lookup_names = true};
    gh_token *t = NULL;
    PSID sid = sid_of("S-1-5-21-1-2-3-1103");
    PSID unnamed = sid_of("S-1-5-21-1-2-3-1200");
    SID_NAME_USE use = SidTypeInvalid;
    char got[300];

    sid_names_configure(true, 1000, 8, fake_resolve);
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    sid_names_configure(false, 1000, 8, NULL); /* the rest: no winbindd */
    check_sid_name("S-1-5-21-1-2-3-1103", "CORP\\carol", SidTypeUser);
    check_sid_name("S-1-5-21-1-2-3-513", "CORP\\Domain Users", SidTypeGroup);
    /* A group the token has no name for is not mapped. */
    CHECK_EQ(name_of(unnamed, got, sizeof(got), &use), ERROR_NONE_MAPPED);
    check_name_sid("CORP\\carol", "S-1-5-21-1-2-3-1103", "CORP", SidTypeUser);
    check_name_sid("carol@corp.test", "S-1-5-21-1-2-3-1103", "CORP", SidTypeUser);
    check_name_sid("corp\\domain users", "S-1-5-21-1-2-3-513", "CORP", SidTypeGroup);
    gh_token_close(t);
    /* Gone with the last token. */
    CHECK_EQ(name_of(sid, got, sizeof(got), &use), ERROR_NONE_MAPPED);
    LocalFree(sid);
    LocalFree(unnamed);
}

/* Samba's Unix SIDs: "Unix User\nobody", "Unix Group\<its group>". */
static void
test_unix_source(void)
{
    struct passwd *pw = getpwnam("nobody");
    char sid_text[64], want[300], domain[300];
    SID_NAME_USE use;

    if (pw == NULL) {
        printf("skip: no 'nobody' account\n");
        return;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    struct group *gr = getgrgid(gid);
    snprintf(sid_text, sizeof(sid_text), "S-1-22-1-%lu", (unsigned long)uid);
    check_sid_name(sid_text, "Unix User\\nobody", SidTypeUser);
    check_name_sid("Unix User\\nobody", sid_text, "Unix User", SidTypeUser);
    check_name_sid("nobody", sid_text, "Unix User", SidTypeUser);
    if (gr != NULL) {
        char group_sid[64];
        snprintf(group_sid, sizeof(group_sid), "S-1-22-2-%lu", (unsigned long)gid);
        snprintf(want, sizeof(want), "Unix Group\\%s", gr->gr_name);
        check_sid_name(group_sid, want, SidTypeGroup);
        check_name_sid(want, group_sid, "Unix Group", SidTypeGroup);
    }
    /* A uid without an account, and a kind that is neither user nor group. */
    PSID none = sid_of("S-1-22-1-4000000000");
    PSID kind = sid_of("S-1-22-3-0");
    CHECK_EQ(name_of(none, want, sizeof(want), &use), ERROR_NONE_MAPPED);
    CHECK_EQ(name_of(kind, want, sizeof(want), &use), ERROR_NONE_MAPPED);
    CHECK_EQ(
        sid_named("Unix User\\no-such-user-xq7", want, sizeof(want), domain, sizeof(domain), &use),
        ERROR_NONE_MAPPED);
    LocalFree(none);
    LocalFree(kind);
}

int
main(void)
{
    sid_names_configure(false, 1000, 8, NULL);
    test_well_known();
    test_arguments();
    test_wide();
    test_token_source();
    test_unix_source();
    sid_names_configure(true, SID_NAMES_TTL_MS, SID_NAMES_MAX_ENTRIES, NULL);
    return check_done("test_winapi_lookup");
}
