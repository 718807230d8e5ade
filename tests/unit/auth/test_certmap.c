// SPDX-License-Identifier: MIT
// Unit tests for certmap.c: the auth_cert_map rule parser (accepted and
// refused rules, with the reason) and first-match evaluation over identities.
#include <stdio.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/certmap.h"
#include "harness/check.h"

#define FP_A "aa00112233445566778899aabbccddeeff00112233445566778899aabbccddee"
#define FP_A_COLONS                                                                              \
    "AA:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:" \
    "DD:EE"

static const struct {
    const char *rule; /* words separated by '|' */
    int want;
    const char *want_err; /* substring of the reason when refused */
} parse_cases[] = {
    {"fingerprint=" FP_A "|user=alice", GH_OK, NULL},
    {"fingerprint=" FP_A_COLONS "|user=alice", GH_OK, NULL}, /* openssl -fingerprint */
    {"issuer.CN=Example CA|subject.O=Partners|user=partner", GH_OK, NULL}, /* many-to-one */
    {"subject.OU=Contractors|deny", GH_OK, NULL},
    {"issuer.CN=Example CA|upn", GH_OK, NULL},
    {"upn", GH_OK, NULL},                                 /* every verified certificate's UPN */
    {"deny", GH_OK, NULL},                                /* catch-all refusal */
    {"subject.CN=svc-*|user=services", GH_OK, NULL},      /* prefix */
    {"subject.2.5.4.97=VATDE-123|user=org", GH_OK, NULL}, /* dotted OID */
    {"", GH_EINVAL, "unknown word"},
    {"subject.CN=x", GH_EINVAL, "no action"},
    {"user=a|user=b", GH_EINVAL, "second action"},
    {"upn|deny", GH_EINVAL, "second action"},
    {"user=", GH_EINVAL, "user= takes"},
    {"fingerprint=abcd|user=a", GH_EINVAL, "64 hex"},
    {"fingerprint=" FP_A "00|user=a", GH_EINVAL, "64 hex"},
    {"fingerprint=zz" FP_A "|user=a", GH_EINVAL, "64 hex"},
    {"fingerprint=" FP_A_COLONS ":|user=a", GH_EINVAL, "64 hex"},
    {"subject.CN|user=a", GH_EINVAL, "ATTR=VALUE"},
    {"subject.=x|user=a", GH_EINVAL, "ATTR=VALUE"},
    {"subject.C N=x|user=a", GH_EINVAL, "ATTR=VALUE"},
    {"subject.1..2=x|user=a", GH_EINVAL, "ATTR=VALUE"},
    {"subject.CN=|user=a", GH_EINVAL, "empty value"},
    {"subject.CN=a\tb|user=a", GH_EINVAL, "control"},
    {"serial=12|user=a", GH_EINVAL, "unknown word"},
    {"Subject.CN=a|user=a", GH_EINVAL, "unknown word"},
};

static size_t
split(char *text, const char **args, size_t max)
{
    size_t n = 0;
    if (text[0] == 0)
        return 0;
    for (char *p = text; n < max;) {
        args[n++] = p;
        char *bar = strchr(p, '|');
        if (bar == NULL)
            break;
        *bar = 0;
        p = bar + 1;
    }
    return n;
}

static void
test_parse(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        struct certmap m = {0};
        char text[512], err[256] = "";
        const char *args[32];

        snprintf(text, sizeof(text), "%s", parse_cases[i].rule);
        size_t n = split(text, args, 32);
        if (n == 0) {
            args[0] = "";
            n = 1;
        }
        fprintf(stderr, "rule: %s\n", parse_cases[i].rule);
        CHECK_EQ(certmap_add(&m, args, n, err, sizeof(err)), parse_cases[i].want);
        if (parse_cases[i].want == GH_OK) {
            CHECK_EQ(m.count, 1);
        } else {
            CHECK_EQ(m.count, 0);
            CHECK(strstr(err, parse_cases[i].want_err) != NULL);
        }
        certmap_free(&m);
    }
    /* no arguments at all, and the rule and condition limits */
    struct certmap m = {0};
    char err[256];
    CHECK_EQ(certmap_add(&m, NULL, 0, err, sizeof(err)), GH_EINVAL);
    const char *many[CERTMAP_MAX_CONDITIONS + 2];
    for (size_t i = 0; i < CERTMAP_MAX_CONDITIONS + 2; i++)
        many[i] = "subject.CN=x";
    many[CERTMAP_MAX_CONDITIONS + 1] = "deny";
    CHECK_EQ(certmap_add(&m, many, CERTMAP_MAX_CONDITIONS + 2, err, sizeof(err)), GH_ELIMIT);
    CHECK_EQ(certmap_add(&m, many + 2, CERTMAP_MAX_CONDITIONS, err, sizeof(err)), GH_OK);
    const char *deny[] = {"deny"};
    for (size_t i = 1; i < CERTMAP_MAX_RULES; i++)
        CHECK_EQ(certmap_add(&m, deny, 1, err, sizeof(err)), GH_OK);
    CHECK_EQ(certmap_add(&m, deny, 1, err, sizeof(err)), GH_ELIMIT);
    CHECK(strstr(err, "rules") != NULL);
    char longv[CERT_MAX_VALUE_BYTES + 20] = "subject.CN=";
    memset(longv + 11, 'v', CERT_MAX_VALUE_BYTES + 1);
    longv[11 + CERT_MAX_VALUE_BYTES + 1] = 0;
    const char *lv[] = {longv, "deny"};
    certmap_free(&m);
    CHECK_EQ(certmap_add(&m, lv, 2, err, sizeof(err)), GH_ELIMIT);
    certmap_free(&m);
}

/* Identities to match: alice (Example CA, Staff, UPN), a contractor, and one
 * with two UPNs. */
static struct cert_attr alice_subject[] = {
    {"O", "Example"}, {"OU", "Staff"}, {"OU", "Admins"}, {"CN", "Alice"}};
static struct cert_attr contractor_subject[] = {
    {"O", "Example"}, {"OU", "Contractors"}, {"CN", "svc-build"}};
static struct cert_attr example_ca[] = {{"O", "Example"}, {"CN", "Example CA"}};
static struct cert_attr other_ca[] = {{"CN", "Other CA"}};

static void
test_match(void)
{
    static const char *const rules[][4] = {
        {"fingerprint=" FP_A, "user=pinned"},                 /* 1 one-to-one, any verification */
        {"subject.OU=Contractors", "deny"},                   /* 2 refusal */
        {"issuer.CN=example ca", "subject.OU=admins", "upn"}, /* 3 case-insensitive */
        {"issuer.CN=Example CA", "subject.O=Example", "user=staff"}, /* 4 many-to-one */
        {"subject.CN=svc-*", "user=services"},                       /* 5 prefix */
    };
    struct certmap m = {0};
    char err[256];
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        size_t n = 0;
        while (n < 4 && rules[i][n] != NULL)
            n++;
        CHECK_EQ(certmap_add(&m, (const char *const *)rules[i], n, err, sizeof(err)), GH_OK);
    }
    struct cert_identity alice = {.subject = alice_subject,
                                  .subject_count = 4,
                                  .issuer = example_ca,
                                  .issuer_count = 2,
                                  .upn = "alice@example.org",
                                  .upn_count = 1};
    struct cert_identity contractor = {
        .subject = contractor_subject, .subject_count = 3, .issuer = other_ca, .issuer_count = 1};
    struct cert_identity pinned = contractor;
    memset(pinned.fingerprint, 0, sizeof(pinned.fingerprint));
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(FP_A + 2 * i, "%2x", &v);
        pinned.fingerprint[i] = (uint8_t)v;
    }
    struct cert_identity two_upn = alice;
    two_upn.upn_count = 2;
    struct cert_identity no_at = alice;
    no_at.upn = "alice";
    struct cert_identity other_issuer = alice;
    other_issuer.issuer = other_ca;
    other_issuer.issuer_count = 1;

    static const struct {
        const char *name;
        int id; /* 0 alice, 1 contractor, 2 pinned, 3 two UPNs, 4 UPN without @, 5 other CA */
        bool is_verified;
        enum certmap_outcome want;
        const char *want_name;
        size_t want_rule;
    } cases[] = {
        {"UPN rule before the many-to-one rule", 0, true, CERTMAP_MATCH_UPN, "alice@example.org",
         2},
        {"unverified chain: only pins and denials apply", 0, false, CERTMAP_NO_MATCH, NULL, 0},
        {"deny beats the prefix rule below it", 1, true, CERTMAP_MATCH_DENY, NULL, 1},
        {"deny applies to an unverified chain too", 1, false, CERTMAP_MATCH_DENY, NULL, 1},
        {"fingerprint first, even unverified", 2, false, CERTMAP_MATCH_USER, "pinned", 0},
        {"two UPNs: upn skipped, many-to-one used", 3, true, CERTMAP_MATCH_USER, "staff", 3},
        {"UPN without @: upn skipped", 4, true, CERTMAP_MATCH_USER, "staff", 3},
        {"other issuer: nothing", 5, true, CERTMAP_NO_MATCH, NULL, 0},
    };
    const struct cert_identity *ids[] = {&alice,   &contractor, &pinned,
                                         &two_upn, &no_at,      &other_issuer};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct certmap_result r;
        fprintf(stderr, "match: %s\n", cases[i].name);
        certmap_match(&m, ids[cases[i].id], cases[i].is_verified, &r);
        CHECK_EQ(r.outcome, cases[i].want);
        if (cases[i].want != CERTMAP_NO_MATCH)
            CHECK_EQ(r.rule_index, cases[i].want_rule);
        if (cases[i].want_name != NULL)
            CHECK_STR_EQ(r.name, cases[i].want_name);
    }
    /* the prefix rule on its own: svc-build maps once the deny rule is gone */
    struct certmap only = {0};
    const char *prefix[] = {"subject.CN=SVC-*", "user=services"};
    CHECK_EQ(certmap_add(&only, prefix, 2, err, sizeof(err)), GH_OK);
    struct certmap_result r;
    certmap_match(&only, &contractor, true, &r);
    CHECK_EQ(r.outcome, CERTMAP_MATCH_USER);
    certmap_match(&only, &alice, true, &r);
    CHECK_EQ(r.outcome, CERTMAP_NO_MATCH);
    certmap_free(&only);
    certmap_free(&m);
    certmap_free(NULL);
}

int
main(void)
{
    test_parse();
    test_match();
    return check_done("auth/certmap");
}
