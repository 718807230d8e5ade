// SPDX-License-Identifier: MIT
// Authorization rules per location: who, once authenticated, may pass (else 403).
#ifndef GH_AUTH_AUTHZ_H
#define GH_AUTH_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include <gatehouse/http.h>

enum authz_rule_kind {
    AUTHZ_RULE_VALID_USER = 0, /* any authenticated user */
    AUTHZ_RULE_USER = 1,       /* one of names */
    AUTHZ_RULE_GROUP = 2,      /* a member of one of names */
};

struct authz_rule {
    enum authz_rule_kind kind;
    char **names; /* owned */
    size_t name_count;
};

/* The rules of a location: a user passes when any rule matches (the rules are
 * alternatives, like several Apache "Require" lines). No rule means valid-user. */
struct authz_rules {
    struct authz_rule *rules; /* owned */
    size_t rule_count;
};

/* Appends a rule, copying names. GH_OK or GH_ENOMEM. */
int authz_rules_add(struct authz_rules *rs, enum authz_rule_kind kind, const char *const *names,
                    size_t name_count);
void authz_rules_free(struct authz_rules *rs);

/* True when the authenticated record may pass. User names compare
 * case-insensitively (ASCII) and match either the bare user name or the
 * principal ("alice" or "alice@EXAMPLE.ORG"), or "DOMAIN\\user". A group
 * matches by name, case-insensitively, as the record spells it ("staff",
 * "CORP\\Staff"), as "Staff@CORP" or "Staff@corp.test" (the account's DNS
 * domain) for a group named "CORP\\Staff", or by SID ("S-1-5-21-...") for
 * a record with group SIDs. A record that is not a success never passes. */
bool authz_allows(const struct authz_rules *rs, const struct gh_auth_record *rec);

#endif
