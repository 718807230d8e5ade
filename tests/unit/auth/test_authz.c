// SPDX-License-Identifier: MIT
// auth_require group spellings (src/auth/authz.c) against a record with a
// Windows identity (issue 9): names as winbind gives them, "Group@domain"
// with the NetBIOS or the DNS domain, SIDs; and a record without SIDs.
#include <string.h>

#include "auth/authz.h"
#include "harness/check.h"

static bool
allows_group(const char *want, const struct gh_auth_record *rec)
{
    struct authz_rules rs = {0};
    bool ok;

    if (authz_rules_add(&rs, AUTHZ_RULE_GROUP, &want, 1) != 0)
        return false;
    ok = authz_allows(&rs, rec);
    authz_rules_free(&rs);
    return ok;
}

int
main(void)
{
    static const char *const groups[] = {"CORP\\domain users", "CORP\\Staff", "S-1-5-21-9-9-9-4242",
                                         "S-1-18-1"};
    static const char *const sids[] = {"S-1-5-21-1-2-3-513", "S-1-5-21-1-2-3-1108",
                                       "S-1-5-21-9-9-9-4242", "S-1-18-1"};
    struct gh_auth_record rec = {.status = GH_AUTH_SUCCESS,
                                 .user_name = "carol",
                                 .domain = "CORP.TEST",
                                 .groups = groups,
                                 .group_count = 4,
                                 .user_sid = "S-1-5-21-1-2-3-1102",
                                 .group_sids = sids,
                                 .logon_domain = "CORP",
                                 .dns_domain = "CORP.TEST"};
    static const struct {
        const char *rule;
        bool allowed;
    } rows[] = {
        {"CORP\\Staff", true},          /* as the record spells it */
        {"corp\\staff", true},          /* case-insensitive */
        {"Staff@CORP", true},           /* NetBIOS domain */
        {"staff@corp.test", true},      /* the account's DNS domain */
        {"Staff@other.test", false},    /* another domain */
        {"Staff", false},               /* a bare name is not a domain group */
        {"S-1-5-21-1-2-3-1108", true},  /* by SID */
        {"s-1-5-21-1-2-3-1108", true},  /* "S" in either case */
        {"S-1-5-21-1-2-3-1109", false}, /* another SID */
        {"S-1-5-21-1-2-3-1102", false}, /* the user's own SID is not a group */
        {"S-1-5-21-9-9-9-4242", true},  /* an unnamed (resource) group */
        {"CORP\\Finance", false},       /* not a member */
        {"Finance@corp.test", false},
        {"@corp.test", false},
        {"CORP\\", false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (allows_group(rows[i].rule, &rec) != rows[i].allowed)
            CHECK_FAIL_("auth_require group %s: expected %s", rows[i].rule,
                        rows[i].allowed ? "allowed" : "denied");
    }
    /* No SIDs (NSS, the store): names only, and a SID never matches. */
    static const char *const plain[] = {"staff", "S-1-5-21-1-2-3-1108x"};
    struct gh_auth_record local = {
        .status = GH_AUTH_SUCCESS, .user_name = "alice", .groups = plain, .group_count = 2};
    CHECK(allows_group("STAFF", &local));
    CHECK(!allows_group("S-1-5-21-1-2-3-1108", &local));
    CHECK(!allows_group("staff@corp.test", &local));
    CHECK(!allows_group("CORP\\staff", &local)); /* no SIDs: no domain */
    /* winbind after an NTLM network logon: group names without their domain.
     * "CORP\\Staff" matches a bare "staff" only when the group's SID is in
     * the account's own domain and CORP is its logon domain. */
    static const char *const bare[] = {"staff", "users", "finance"};
    static const char *const bare_sids[] = {"S-1-5-21-1-2-3-1108", "S-1-5-32-545",
                                            "S-1-5-21-1-2-3-9-1109"};
    struct gh_auth_record ntlm = {.status = GH_AUTH_SUCCESS,
                                  .user_name = "carol",
                                  .groups = bare,
                                  .group_count = 3,
                                  .user_sid = "S-1-5-21-1-2-3-1102",
                                  .group_sids = bare_sids,
                                  .logon_domain = "CORP"};
    CHECK(allows_group("CORP\\Staff", &ntlm));
    CHECK(allows_group("corp\\STAFF", &ntlm));
    CHECK(!allows_group("OTHER\\Staff", &ntlm));  /* not the logon domain */
    CHECK(!allows_group("CORP\\users", &ntlm));   /* BUILTIN, not the domain's */
    CHECK(!allows_group("CORP\\finance", &ntlm)); /* SID not directly in the domain */
    ntlm.logon_domain = NULL;
    CHECK(!allows_group("CORP\\Staff", &ntlm));
    /* a failed record never passes */
    rec.status = GH_AUTH_FAILURE;
    CHECK(!allows_group("CORP\\Staff", &rec));
    return check_done("test_authz");
}
