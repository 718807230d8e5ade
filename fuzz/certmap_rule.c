// SPDX-License-Identifier: MIT
// Fuzz target for the auth_cert_map rule parser (certmap_add): each input line
// is one rule, its words separated by spaces. Checks the contract: an accepted
// rule adds exactly one rule with an action, a refused one changes nothing and
// says why, only the documented codes come back; then every rule set is run
// over a fixed identity and the result must name a rule that exists.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/certmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cert_attr subject[] = {{"O", "Example"}, {"OU", "Staff"}, {"CN", "alice"}};
static struct cert_attr issuer[] = {{"CN", "Example CA"}};

static void
add_line(struct certmap *m, char *line)
{
    const char *args[CERTMAP_MAX_CONDITIONS + 4];
    size_t n = 0;
    char err[256] = "";

    for (char *p = line; *p != 0 && n < sizeof(args) / sizeof(args[0]);) {
        while (*p == ' ')
            *p++ = 0;
        if (*p == 0)
            break;
        args[n++] = p;
        while (*p != 0 && *p != ' ')
            p++;
    }
    size_t before = m->count;
    int rc = certmap_add(m, args, n, err, sizeof(err));
    if (rc == GH_OK) {
        if (m->count != before + 1)
            __builtin_trap();
        const struct certmap_rule *r = &m->rules[m->count - 1];
        if (r->cond_count > CERTMAP_MAX_CONDITIONS ||
            (r->action == CERTMAP_USER) != (r->user != NULL))
            __builtin_trap();
    } else {
        if (m->count != before || err[0] == 0)
            __builtin_trap();
        if (rc != GH_EINVAL && rc != GH_ELIMIT && rc != GH_ENOMEM)
            __builtin_trap();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct certmap m = {0};
    char *text = malloc(size + 1);

    if (text == NULL || size > 64 * 1024) {
        free(text);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = 0;
    for (char *line = text; line != NULL;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = 0;
        add_line(&m, line);
        line = nl != NULL ? nl + 1 : NULL;
    }
    struct cert_identity id = {.subject = subject,
                               .subject_count = 3,
                               .issuer = issuer,
                               .issuer_count = 1,
                               .upn = "alice@example.org",
                               .upn_count = 1};
    for (int verified = 0; verified < 2; verified++) {
        struct certmap_result r;
        certmap_match(&m, &id, verified != 0, &r);
        if (r.outcome != CERTMAP_NO_MATCH && r.rule_index >= m.count)
            __builtin_trap();
        if ((r.outcome == CERTMAP_MATCH_USER || r.outcome == CERTMAP_MATCH_UPN) && r.name == NULL)
            __builtin_trap();
    }
    certmap_free(&m);
    free(text);
    return 0;
}
