// SPDX-License-Identifier: MIT
// Certificate mapping rules: the parser of `auth_cert_map` arguments and the
// first-match evaluation (grammar and semantics in certmap.h). Rules are data
// made once per configuration snapshot, so a SIGHUP reload replaces them with
// the location's auth_config; matching never allocates.
#include "auth/certmap.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <gatehouse/error.h>

#include "base/hex.h"

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* 64 hex digits, optionally "AB:CD:..." as openssl x509 -fingerprint prints. */
static bool
parse_fingerprint(const char *s, uint8_t out[CERT_FINGERPRINT_BYTES])
{
    size_t n = 0;

    while (*s != 0) {
        if (n >= CERT_FINGERPRINT_BYTES)
            return false;
        int hi = hex_digit_value((uint8_t)s[0]);
        int lo = hi < 0 ? -1 : hex_digit_value((uint8_t)s[1]);
        if (lo < 0)
            return false;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (*s == ':' && s[1] != 0)
            s++;
    }
    return n == CERT_FINGERPRINT_BYTES;
}

/* An attribute type: a short name ([A-Za-z][A-Za-z0-9-]*) or a dotted OID. */
static bool
is_attr_type(const char *s, size_t len)
{
    if (len == 0 || len >= CERT_MAX_TYPE_BYTES)
        return false;
    bool is_oid = isdigit((unsigned char)s[0]) != 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = is_oid ? (isdigit(c) || (c == '.' && i + 1 < len && s[i + 1] != '.'))
                         : (isalnum(c) || (c == '-' && i > 0));
        if (!ok)
            return false;
    }
    return true;
}

static bool
is_clean_text(const char *s)
{
    for (; *s != 0; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            return false;
    }
    return true;
}

static int
parse_cond(const char *arg, struct certmap_cond *c, char *err, size_t err_len)
{
    const char *rest;

    memset(c, 0, sizeof(*c));
    if (strncmp(arg, "fingerprint=", 12) == 0) {
        c->field = CERTMAP_FINGERPRINT;
        if (!parse_fingerprint(arg + 12, c->fingerprint))
            return fail(err, err_len, GH_EINVAL,
                        "auth_cert_map: \"%.80s\": a fingerprint is 64 hex digits (SHA-256)", arg);
        return GH_OK;
    }
    if (strncmp(arg, "subject.", 8) == 0) {
        c->field = CERTMAP_SUBJECT;
        rest = arg + 8;
    } else if (strncmp(arg, "issuer.", 7) == 0) {
        c->field = CERTMAP_ISSUER;
        rest = arg + 7;
    } else {
        return fail(err, err_len, GH_EINVAL,
                    "auth_cert_map: unknown word \"%.80s\" (fingerprint=, subject.ATTR=, "
                    "issuer.ATTR=, user=, upn, deny)",
                    arg);
    }
    const char *eq = strchr(rest, '=');
    if (eq == NULL || !is_attr_type(rest, (size_t)(eq - rest)))
        return fail(err, err_len, GH_EINVAL,
                    "auth_cert_map: \"%.80s\": expected ATTR=VALUE with ATTR a name or an OID",
                    arg);
    memcpy(c->type, rest, (size_t)(eq - rest));
    c->type[eq - rest] = 0;
    const char *value = eq + 1;
    size_t len = strlen(value);
    if (len > CERT_MAX_VALUE_BYTES)
        return fail(err, err_len, GH_ELIMIT, "auth_cert_map: value longer than %d bytes",
                    CERT_MAX_VALUE_BYTES);
    if (len == 0 || !is_clean_text(value))
        return fail(err, err_len, GH_EINVAL,
                    "auth_cert_map: \"%.80s\": empty value or control characters", arg);
    if (value[len - 1] == '*') {
        c->is_prefix = true;
        len--;
    }
    c->value = strndup(value, len);
    return c->value == NULL ? GH_ENOMEM : GH_OK;
}

static void
rule_free(struct certmap_rule *r)
{
    for (size_t i = 0; i < r->cond_count; i++)
        free(r->conds[i].value);
    free(r->conds);
    free(r->user);
    memset(r, 0, sizeof(*r));
}

static int
parse_action(const char *arg, struct certmap_rule *r, bool *is_action, char *err, size_t err_len)
{
    *is_action = true;
    if (strcmp(arg, "deny") == 0) {
        r->action = CERTMAP_DENY;
        return GH_OK;
    }
    if (strcmp(arg, "upn") == 0) {
        r->action = CERTMAP_UPN;
        return GH_OK;
    }
    if (strncmp(arg, "user=", 5) != 0) {
        *is_action = false;
        return GH_OK;
    }
    const char *name = arg + 5;
    size_t len = strlen(name);
    if (len == 0 || len > CERTMAP_MAX_USER_BYTES || !is_clean_text(name))
        return fail(err, err_len, GH_EINVAL,
                    "auth_cert_map: user= takes a name of 1 to %d bytes without control "
                    "characters",
                    CERTMAP_MAX_USER_BYTES);
    r->action = CERTMAP_USER;
    r->user = strdup(name);
    return r->user == NULL ? GH_ENOMEM : GH_OK;
}

int
certmap_add(struct certmap *m, const char *const *args, size_t arg_count, char *err, size_t err_len)
{
    struct certmap_rule r = {0};
    bool has_action = false;
    int rc = GH_OK;

    if (m->count >= CERTMAP_MAX_RULES)
        return fail(err, err_len, GH_ELIMIT, "auth_cert_map: more than %d rules",
                    CERTMAP_MAX_RULES);
    if (arg_count == 0 || arg_count > CERTMAP_MAX_CONDITIONS + 1)
        return fail(err, err_len, arg_count == 0 ? GH_EINVAL : GH_ELIMIT,
                    "auth_cert_map takes up to %d conditions and one action (user=NAME, upn, "
                    "deny)",
                    CERTMAP_MAX_CONDITIONS);
    r.conds = calloc(arg_count, sizeof(*r.conds));
    if (r.conds == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; rc == GH_OK && i < arg_count; i++) {
        bool is_action = false;
        struct certmap_rule probe = {0};
        rc = parse_action(args[i], &probe, &is_action, err, err_len);
        if (rc == GH_OK && is_action && has_action)
            rc =
                fail(err, err_len, GH_EINVAL, "auth_cert_map: \"%.80s\": a second action", args[i]);
        if (rc != GH_OK) {
            free(probe.user);
            break;
        }
        if (is_action) {
            has_action = true;
            r.action = probe.action;
            r.user = probe.user;
            continue;
        }
        rc = parse_cond(args[i], &r.conds[r.cond_count], err, err_len);
        if (rc == GH_OK) {
            r.has_fingerprint |= r.conds[r.cond_count].field == CERTMAP_FINGERPRINT;
            r.cond_count++;
        }
    }
    if (rc == GH_OK && !has_action)
        rc = fail(err, err_len, GH_EINVAL,
                  "auth_cert_map: no action (user=NAME, upn or deny) in the rule");
    if (rc == GH_OK) {
        struct certmap_rule *grown = realloc(m->rules, (m->count + 1) * sizeof(*grown));
        if (grown == NULL) {
            rc = GH_ENOMEM;
        } else {
            m->rules = grown;
            m->rules[m->count++] = r;
            return GH_OK;
        }
    }
    rule_free(&r);
    return rc;
}

void
certmap_free(struct certmap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->count; i++)
        rule_free(&m->rules[i]);
    free(m->rules);
    m->rules = NULL;
    m->count = 0;
}

static bool
value_matches(const struct certmap_cond *c, const char *value)
{
    size_t want = strlen(c->value);

    if (c->is_prefix)
        return strncasecmp(value, c->value, want) == 0;
    return strcasecmp(value, c->value) == 0;
}

/* Any attribute of that type with that value (OU, DC may repeat). */
static bool
name_matches(const struct certmap_cond *c, const struct cert_attr *attrs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(attrs[i].type, c->type) == 0 && value_matches(c, attrs[i].value))
            return true;
    }
    return false;
}

static bool
cond_matches(const struct certmap_cond *c, const struct cert_identity *id)
{
    switch (c->field) {
    case CERTMAP_FINGERPRINT:
        return CRYPTO_memcmp(c->fingerprint, id->fingerprint, CERT_FINGERPRINT_BYTES) == 0;
    case CERTMAP_SUBJECT:
        return name_matches(c, id->subject, id->subject_count);
    case CERTMAP_ISSUER:
        return name_matches(c, id->issuer, id->issuer_count);
    }
    return false;
}

/* local@suffix with both parts non-empty and one '@'. */
static bool
upn_usable(const struct cert_identity *id)
{
    if (id->upn_count != 1 || id->upn == NULL)
        return false;
    const char *at = strchr(id->upn, '@');
    return at != NULL && at != id->upn && at[1] != 0 && strchr(at + 1, '@') == NULL;
}

void
certmap_match(const struct certmap *m, const struct cert_identity *id, bool is_verified,
              struct certmap_result *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < m->count; i++) {
        const struct certmap_rule *r = &m->rules[i];
        bool ok = is_verified || r->has_fingerprint || r->action == CERTMAP_DENY;

        for (size_t k = 0; ok && k < r->cond_count; k++)
            ok = cond_matches(&r->conds[k], id);
        if (ok && r->action == CERTMAP_UPN && !upn_usable(id))
            ok = false; /* no (single, well-formed) UPN: the next rule decides */
        if (!ok)
            continue;
        out->rule_index = i;
        if (r->action == CERTMAP_DENY) {
            out->outcome = CERTMAP_MATCH_DENY;
        } else if (r->action == CERTMAP_UPN) {
            out->outcome = CERTMAP_MATCH_UPN;
            out->name = id->upn;
        } else {
            out->outcome = CERTMAP_MATCH_USER;
            out->name = r->user;
        }
        return;
    }
}
