// SPDX-License-Identifier: MIT
// Authorization rules. Names compare case-insensitively because the directory
// services behind the schemes do (Windows account names; the built-in store).
#include "auth/authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>

int
authz_rules_add(struct authz_rules *rs, enum authz_rule_kind kind, const char *const *names,
                size_t name_count)
{
    struct authz_rule rule = {.kind = kind};
    struct authz_rule *grown;

    if (name_count > 0) {
        rule.names = calloc(name_count, sizeof(*rule.names));
        if (rule.names == NULL)
            return GH_ENOMEM;
    }
    for (size_t i = 0; i < name_count; i++) {
        rule.names[i] = strdup(names[i]);
        if (rule.names[i] == NULL)
            goto err_free;
        rule.name_count++;
    }
    grown = realloc(rs->rules, (rs->rule_count + 1) * sizeof(*grown));
    if (grown == NULL)
        goto err_free;
    rs->rules = grown;
    rs->rules[rs->rule_count++] = rule;
    return GH_OK;
err_free:
    for (size_t i = 0; i < rule.name_count; i++)
        free(rule.names[i]);
    free(rule.names);
    return GH_ENOMEM;
}

void
authz_rules_free(struct authz_rules *rs)
{
    for (size_t r = 0; r < rs->rule_count; r++) {
        for (size_t i = 0; i < rs->rules[r].name_count; i++)
            free(rs->rules[r].names[i]);
        free(rs->rules[r].names);
    }
    free(rs->rules);
    rs->rules = NULL;
    rs->rule_count = 0;
}

static bool
user_matches(const char *want, const struct gh_auth_record *rec)
{
    char qualified[512];

    if (rec->user_name != NULL && strcasecmp(want, rec->user_name) == 0)
        return true;
    if (rec->principal != NULL && strcasecmp(want, rec->principal) == 0)
        return true;
    if (rec->user_name != NULL && rec->domain != NULL &&
        snprintf(qualified, sizeof(qualified), "%s\\%s", rec->domain, rec->user_name) <
            (int)sizeof(qualified) &&
        strcasecmp(want, qualified) == 0)
        return true;
    return false;
}

/* "Group@domain" against a group named "DOMAIN\\Group": the domain is the
 * NetBIOS name as written, or the account's DNS domain when the group is in
 * the account's own NetBIOS domain (what the PAC tells: LogonDomainName and
 * UPN_DNS_INFO's DnsDomainName). */
static bool
upn_spelling_matches(const char *want, const char *group, const struct gh_auth_record *rec)
{
    const char *at = strrchr(want, '@');
    const char *bs = strchr(group, '\\');
    size_t want_name_len, dom_len;

    if (at == NULL || bs == NULL)
        return false;
    want_name_len = (size_t)(at - want);
    dom_len = (size_t)(bs - group);
    if (strlen(bs + 1) != want_name_len || strncasecmp(bs + 1, want, want_name_len) != 0)
        return false;
    if (strlen(at + 1) == dom_len && strncasecmp(at + 1, group, dom_len) == 0)
        return true;
    return rec->logon_domain != NULL && rec->dns_domain != NULL &&
           strlen(rec->logon_domain) == dom_len &&
           strncasecmp(rec->logon_domain, group, dom_len) == 0 &&
           strcasecmp(at + 1, rec->dns_domain) == 0;
}

/* "DOMAIN\\Group" against a group winbind named without its domain ("staff":
 * what winbindd answers after an NTLM network logon): it matches only when
 * the group's SID is in the account's own domain (the user SID's domain
 * part) and DOMAIN is the account's logon domain, so a local group of the
 * same name never stands in for a domain group. */
static bool
bare_domain_group_matches(const char *want, const char *group, const char *sid,
                          const struct gh_auth_record *rec)
{
    const char *bs = strchr(want, '\\');
    const char *last;
    size_t dom_len;

    if (bs == NULL || strchr(group, '\\') != NULL || sid == NULL || rec->user_sid == NULL ||
        rec->logon_domain == NULL)
        return false;
    dom_len = (size_t)(bs - want);
    if (strlen(rec->logon_domain) != dom_len ||
        strncasecmp(rec->logon_domain, want, dom_len) != 0 || strcasecmp(bs + 1, group) != 0)
        return false;
    last = strrchr(rec->user_sid, '-');
    return last != NULL &&
           strncasecmp(sid, rec->user_sid, (size_t)(last - rec->user_sid) + 1) == 0 &&
           strchr(sid + (last - rec->user_sid) + 1, '-') == NULL;
}

/* A group rule names a group by name ("staff", "CORP\\Staff", "Staff@corp.test")
 * or by SID ("S-1-5-21-...-1108"); all case-insensitive. */
static bool
group_matches(const char *want, const struct gh_auth_record *rec)
{
    bool is_sid = (want[0] == 'S' || want[0] == 's') && want[1] == '-';

    for (size_t i = 0; i < rec->group_count; i++) {
        const char *g = rec->groups[i];
        const char *sid = rec->group_sids != NULL ? rec->group_sids[i] : NULL;

        if (g != NULL && strcasecmp(want, g) == 0)
            return true;
        if (is_sid && sid != NULL && strcasecmp(want, sid) == 0)
            return true;
        if (!is_sid && g != NULL && upn_spelling_matches(want, g, rec))
            return true;
        if (!is_sid && g != NULL && bare_domain_group_matches(want, g, sid, rec))
            return true;
    }
    return false;
}

bool
authz_allows(const struct authz_rules *rs, const struct gh_auth_record *rec)
{
    if (rec->status != GH_AUTH_SUCCESS)
        return false;
    if (rs->rule_count == 0)
        return true;
    for (size_t r = 0; r < rs->rule_count; r++) {
        const struct authz_rule *rule = &rs->rules[r];
        if (rule->kind == AUTHZ_RULE_VALID_USER)
            return true;
        for (size_t i = 0; i < rule->name_count; i++) {
            if (rule->kind == AUTHZ_RULE_USER && user_matches(rule->names[i], rec))
                return true;
            if (rule->kind == AUTHZ_RULE_GROUP && group_matches(rule->names[i], rec))
                return true;
        }
    }
    return false;
}
