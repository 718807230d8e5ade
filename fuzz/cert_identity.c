// SPDX-License-Identifier: MIT
// Fuzz target for the certificate-to-identity code (cert_identity_parse), fed
// with DER. Checks the contract: a parsed identity respects every limit, holds
// no control byte in any value, carries the SHA-256 of exactly the input, and
// a refusal leaves no identity and gives a reason. The identity then goes
// through a fixed rule set (certmap_match) like a request's certificate.
#include "auth/cert_identity.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include <gatehouse/error.h>

#include "auth/certmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
clean(const char *s)
{
    size_t len = strlen(s);
    if (len > CERT_MAX_VALUE_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return false;
    }
    return true;
}

static bool
attrs_ok(const struct cert_attr *a, size_t n)
{
    if (n > CERT_MAX_NAME_ENTRIES)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (a[i].type[0] == 0 || strlen(a[i].type) >= CERT_MAX_TYPE_BYTES || !clean(a[i].value))
            return false;
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const rules[][3] = {
        {"subject.OU=Contractors", "deny", NULL},
        {"issuer.CN=Example*", "upn", NULL},
        {"subject.O=Example", "user=staff", NULL},
    };
    struct cert_identity *id = NULL;
    char why[128] = "";
    int rc = cert_identity_parse(data, size, &id, why, sizeof(why));

    if (rc != GH_OK) {
        if (id != NULL || why[0] == 0)
            __builtin_trap();
        if (rc != GH_EPROTO && rc != GH_ELIMIT && rc != GH_ENOMEM)
            __builtin_trap();
        return 0;
    }
    uint8_t md[32];
    if (EVP_Digest(data, size, md, NULL, EVP_sha256(), NULL) != 1 ||
        memcmp(md, id->fingerprint, sizeof(md)) != 0)
        __builtin_trap();
    if (!attrs_ok(id->subject, id->subject_count) || !attrs_ok(id->issuer, id->issuer_count))
        __builtin_trap();
    if ((id->upn != NULL) != (id->upn_count > 0) || (id->upn != NULL && !clean(id->upn)))
        __builtin_trap();

    struct certmap m = {0};
    char err[128];
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (certmap_add(&m, rules[i], 2, err, sizeof(err)) != GH_OK)
            __builtin_trap();
    }
    struct certmap_result r;
    certmap_match(&m, id, true, &r);
    if (r.outcome == CERTMAP_MATCH_UPN && (id->upn == NULL || strchr(id->upn, '@') == NULL))
        __builtin_trap();
    certmap_free(&m);
    cert_identity_destroy(id);
    return 0;
}
