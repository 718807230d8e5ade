// SPDX-License-Identifier: MIT
// The SID name cache (src/sspi/sid_names.c) with a fake name service: names
// and "unknown" cached for the TTL, misses looked up in one call, nothing
// looked up when warm, an unreachable service not cached, the bound kept;
// and a token made from SIDs takes the names (src/sspi/token.c).
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/token.h>

#include "harness/check.h"
#include "sspi/sid_names.h"
#include "sspi/token_internal.h"

static atomic_int asked; /* SIDs asked for, over all calls */
static bool reachable = true;

/* S-1-5-21-1-2-3-<rid>: "CORP\g<rid>" for rid < 2000, unknown otherwise. */
static bool
fake_resolve(const struct sid *sids, size_t count, char **names_out)
{
    if (!reachable)
        return false;
    for (size_t i = 0; i < count; i++) {
        uint32_t rid = sids[i].sub[sids[i].sub_count - 1];
        atomic_fetch_add(&asked, 1);
        if (rid < 2000) {
            names_out[i] = malloc(32);
            snprintf(names_out[i], 32, "CORP\\g%u", rid);
        }
    }
    return true;
}

static struct sid
group(uint32_t rid)
{
    struct sid s;
    char text[64];

    snprintf(text, sizeof(text), "S-1-5-21-1-2-3-%u", rid);
    if (!sid_from_string(text, &s))
        abort();
    return s;
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

int
main(void)
{
    struct sid sids[3] = {group(513), group(1107), group(5000)};
    char *names[3];

    sid_names_configure(true, 1000, 8, fake_resolve);
    CHECK_EQ(sid_names_lookup(sids, 3, 100, names), SEC_E_OK);
    CHECK_STR_EQ(names[0], "CORP\\g513");
    CHECK_STR_EQ(names[1], "CORP\\g1107");
    CHECK(names[2] == NULL); /* unknown to the name service */
    free_names(names, 3);
    CHECK_EQ(sid_names_resolver_calls(), 1);
    CHECK_EQ(atomic_load(&asked), 3);

    /* warm: no call, the unknown one included */
    CHECK_EQ(sid_names_lookup(sids, 3, 1099, names), SEC_E_OK);
    CHECK_STR_EQ(names[1], "CORP\\g1107");
    CHECK(names[2] == NULL);
    free_names(names, 3);
    CHECK_EQ(sid_names_resolver_calls(), 1);

    /* expired: one call for the three */
    CHECK_EQ(sid_names_lookup(sids, 3, 1100, names), SEC_E_OK);
    free_names(names, 3);
    CHECK_EQ(sid_names_resolver_calls(), 2);
    CHECK_EQ(atomic_load(&asked), 6);

    /* unreachable: unnamed, and not cached (asked again next time) */
    sid_names_configure(true, 1000, 8, fake_resolve);
    reachable = false;
    CHECK_EQ(sid_names_lookup(sids, 3, 100, names), SEC_E_OK);
    CHECK(names[0] == NULL && names[1] == NULL);
    reachable = true;
    CHECK_EQ(sid_names_lookup(sids, 3, 101, names), SEC_E_OK);
    CHECK_STR_EQ(names[0], "CORP\\g513");
    free_names(names, 3);
    CHECK_EQ(sid_names_resolver_calls(), 2);

    /* bounded: 8 entries at most; past that the table starts over */
    sid_names_configure(true, 100000, 8, fake_resolve);
    for (uint32_t rid = 1; rid <= 20; rid++) {
        struct sid s = group(rid);
        char *n = NULL;
        CHECK_EQ(sid_names_lookup(&s, 1, 10, &n), SEC_E_OK);
        free(n);
    }
    uint64_t before = sid_names_resolver_calls();
    struct sid last = group(20), first = group(1);
    char *n = NULL;
    CHECK_EQ(sid_names_lookup(&last, 1, 11, &n), SEC_E_OK); /* recent: cached */
    free(n);
    CHECK_EQ(sid_names_resolver_calls(), before);
    CHECK_EQ(sid_names_lookup(&first, 1, 11, &n), SEC_E_OK); /* evicted */
    free(n);
    CHECK_EQ(sid_names_resolver_calls(), before + 1);

    /* off: nothing is asked */
    sid_names_configure(false, 1000, 8, fake_resolve);
    CHECK_EQ(sid_names_lookup(sids, 3, 100, names), SEC_E_OK);
    CHECK(names[0] == NULL);
    CHECK_EQ(sid_names_resolver_calls(), 0);

    /* A token from SIDs: names where known, the SID otherwise. */
    sid_names_configure(true, 1000, 8, fake_resolve);
    const char *gs[] = {"S-1-5-21-1-2-3-513", "s-1-5-21-1-2-3-5000"};
    const uint32_t attrs[] = {7, 0x20000007};
    struct sspi_token_info info = {.user = "carol",
                                   .domain = "CORP.TEST",
                                   .package = "Kerberos",
                                   .user_sid = "S-1-5-21-1-2-3-1102",
                                   .group_sids = gs,
                                   .group_sid_attributes = attrs,
                                   .group_sid_count = 2,
                                   .logon_domain = "CORP",
                                   .dns_domain = "CORP.TEST",
                                   .upn = "carol@corp.test",
                                   .lookup_names = true};
    gh_token *t = NULL;
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_STR_EQ(gh_token_user_sid(t), "S-1-5-21-1-2-3-1102");
    CHECK_EQ(gh_token_group_count(t), 2);
    CHECK_STR_EQ(gh_token_group(t, 0), "CORP\\g513");
    CHECK_STR_EQ(gh_token_group(t, 1), "S-1-5-21-1-2-3-5000"); /* canonical "S" */
    CHECK_STR_EQ(gh_token_group_sid(t, 1), "S-1-5-21-1-2-3-5000");
    CHECK_STR_EQ(gh_token_group_sid_name(t, 0), "CORP\\g513");
    CHECK(gh_token_group_sid_name(t, 1) == NULL);
    CHECK_HEX_EQ(gh_token_group_attributes(t, 1), 0x20000007);
    CHECK(gh_token_group_sid(t, 2) == NULL);
    CHECK_STR_EQ(gh_token_logon_domain(t), "CORP");
    CHECK_STR_EQ(gh_token_dns_domain(t), "CORP.TEST");
    CHECK_STR_EQ(gh_token_upn(t), "carol@corp.test");
    gh_token_close(t);
    /* without lookup_names: SIDs only, nothing asked */
    info.lookup_names = false;
    uint64_t calls = sid_names_resolver_calls();
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_STR_EQ(gh_token_group(t, 0), "S-1-5-21-1-2-3-513");
    CHECK_EQ(sid_names_resolver_calls(), calls);
    gh_token_close(t);
    /* a SID that does not parse is refused */
    gs[1] = "CORP\\Staff";
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_INVALID_PARAMETER);
    info.user_sid = "S-1-5-x";
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_INVALID_PARAMETER);
    /* no Windows identity: no SIDs */
    const char *plain[] = {"staff"};
    struct sspi_token_info p = {
        .user = "alice", .package = "NTLM", .groups = plain, .group_count = 1};
    CHECK_EQ(sspi_token_create(&p, &t), SEC_E_OK);
    CHECK(gh_token_user_sid(t) == NULL && gh_token_group_sid(t, 0) == NULL);
    CHECK_EQ(gh_token_group_attributes(t, 0), 0);
    gh_token_close(t);
    sid_names_configure(false, 1000, 8, NULL); /* frees the table */
    return check_done("test_sid_names");
}
