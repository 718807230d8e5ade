// SPDX-License-Identifier: MIT
// Certificate mapping rules: from a client certificate's identity
// (cert_identity.h) to a user, a Kerberos principal, or a refusal. One rule
// per `auth_cert_map` directive, kept in configuration order; the first rule
// that matches decides (docs/auth.md, "Client certificates").
//
// Rule grammar (the directive's arguments, each one word):
//   rule      = *condition action
//   condition = "fingerprint=" 64HEXDIG      ; SHA-256 of the DER, ':' allowed between bytes
//             / "subject." attr "=" value    ; attr: short name (CN, O, OU, DC, emailAddress...)
//             / "issuer." attr "=" value     ;       or dotted OID; value: exact, ASCII
//                                            ;       case-insensitive; a final '*' = prefix
//   action    = "user=" name                 ; map to this user (one-to-one / many-to-one)
//             / "upn"                        ; the msUPN is the Kerberos principal
//             / "deny"                       ; refuse the certificate
// Conditions are ANDed. A rule with a fingerprint condition, and every deny
// rule, matches whatever the chain verification said (a pin needs no CA; a
// refusal is always safe); any other rule only matches a certificate whose
// chain verified (CertFlags 0).
#ifndef GH_AUTH_CERTMAP_H
#define GH_AUTH_CERTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/cert_identity.h"

#define CERTMAP_MAX_RULES      1024
#define CERTMAP_MAX_CONDITIONS 16
#define CERTMAP_MAX_USER_BYTES 256

enum certmap_field {
    CERTMAP_FINGERPRINT = 0,
    CERTMAP_SUBJECT = 1,
    CERTMAP_ISSUER = 2,
};

enum certmap_action {
    CERTMAP_USER = 0,
    CERTMAP_UPN = 1,
    CERTMAP_DENY = 2,
};

struct certmap_cond {
    enum certmap_field field;
    char type[CERT_MAX_TYPE_BYTES]; /* subject/issuer attribute */
    char *value;                    /* owned; without the final '*' when is_prefix */
    bool is_prefix;
    uint8_t fingerprint[CERT_FINGERPRINT_BYTES];
};

struct certmap_rule {
    struct certmap_cond *conds; /* owned */
    size_t cond_count;
    enum certmap_action action;
    char *user; /* owned; CERTMAP_USER only */
    bool has_fingerprint;
};

struct certmap {
    struct certmap_rule *rules; /* owned */
    size_t count;
};

/* Parses one rule (args as above) and appends it. Returns GH_OK; GH_EINVAL
 * with a reason in err (a bad condition or action, none or two actions);
 * GH_ELIMIT (too many rules or conditions, value too long; reason in err);
 * GH_ENOMEM. m is unchanged on failure. */
int certmap_add(struct certmap *m, const char *const *args, size_t arg_count, char *err,
                size_t err_len);

void certmap_free(struct certmap *m); /* leaves an empty map; NULL-safe */

enum certmap_outcome {
    CERTMAP_NO_MATCH = 0, /* no rule matched (or upn with no usable UPN) */
    CERTMAP_MATCH_USER = 1,
    CERTMAP_MATCH_UPN = 2,
    CERTMAP_MATCH_DENY = 3,
};

struct certmap_result {
    enum certmap_outcome outcome;
    const char *name;  /* MATCH_USER: the rule's user; MATCH_UPN: id's UPN (both borrowed) */
    size_t rule_index; /* 0-based, in configuration order; valid unless NO_MATCH */
};

/* Runs the rules in order over id; is_verified: the chain verified. A `upn`
 * rule matches only a certificate with exactly one msUPN that has the form
 * local@suffix. Never fails. */
void certmap_match(const struct certmap *m, const struct cert_identity *id, bool is_verified,
                   struct certmap_result *out);

#endif
