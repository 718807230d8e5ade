// SPDX-License-Identifier: MIT
// Unit tests for the client certificate scheme in the auth engine
// (cert_auth.c): "auth Certificate ..." with auth_cert_map rules, the record it
// makes (type, package, names, groups, token), deny and unmapped outcomes
// (403 alone, the other schemes' 401 in combination), auth_require, and the
// configuration's refusals. Runs over the fake backend (fake_backend.h).
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "auth/cert_identity.h"
#include "auth/engine.h"
#include "base/conf_parse.h"
#include "cert_maker.h"
#include "fake_backend.h"
#include "harness/check.h"

static struct auth_engine *engine;
static struct log *audit_log;

struct cert {
    uint8_t *der;
    size_t len;
    char fp[65];
};

static struct cert alice, contractor, partner, foreign_upn;

static void
make(struct cert *c, const struct cert_spec *spec)
{
    struct cert_identity *id = NULL;
    CHECK(cert_make(spec, &c->der, &c->len));
    CHECK_EQ(cert_identity_parse(c->der, c->len, &id, NULL, 0), GH_OK);
    cert_identity_fingerprint_hex(id, c->fp);
    cert_identity_destroy(id);
}

static int
run(const struct auth_config *cfg, struct auth_conn *conn, const struct cert *c, uint32_t flags,
    const char *authz, struct auth_decision *d)
{
    struct slice az = slice_cstr(authz);
    struct auth_request_view v = {
        .method = SLICE_LIT("GET"),
        .target = SLICE_LIT("/"),
        .authorization = authz != NULL ? &az : NULL,
        .authorization_count = authz != NULL ? 1 : 0,
        .peer = "192.0.2.9:4433",
        .is_tls = true,
        .now_ms = 1000,
        .now = 1700000000,
        .client_cert = c != NULL ? c->der : NULL,
        .client_cert_len = c != NULL ? c->len : 0,
        .client_cert_flags = flags,
    };
    return auth_engine_run(cfg, conn, &v, d);
}

/* A location from directive lines "name arg arg" (args split on spaces,
 * '~' standing for a space inside one argument). */
static int
config(const char *const *lines, size_t n, struct auth_config **out, char *err, size_t err_len)
{
    struct conf_node kids[16];
    char *store[16][8];
    char text[16][512];

    for (size_t i = 0; i < n; i++) {
        snprintf(text[i], sizeof(text[i]), "%s", lines[i]);
        size_t k = 0;
        char *save = NULL;
        char *name = strtok_r(text[i], " ", &save);
        for (char *w = strtok_r(NULL, " ", &save); w != NULL && k < 8;
             w = strtok_r(NULL, " ", &save)) {
            for (char *p = w; *p != 0; p++)
                *p = *p == '~' ? ' ' : *p;
            store[i][k++] = w;
        }
        kids[i] = (struct conf_node){.name = name,
                                     .args = store[i],
                                     .arg_count = k,
                                     .file = "t.conf",
                                     .line = (unsigned)i + 2};
    }
    struct conf_node loc = {.name = "location",
                            .file = "t.conf",
                            .line = 1,
                            .is_block = true,
                            .children = kids,
                            .child_count = n};
    return auth_config_from_conf(engine, &loc, out, err, err_len);
}

static struct auth_config *
config_ok(const char *const *lines, size_t n)
{
    struct auth_config *cfg = NULL;
    char err[256] = "";
    int rc = config(lines, n, &cfg, err, sizeof(err));
    if (rc != GH_OK)
        fprintf(stderr, "config: %s\n", err);
    CHECK_EQ(rc, GH_OK);
    return cfg;
}

static void
test_mapping(void)
{
    char pin[128];
    snprintf(pin, sizeof(pin), "auth_cert_map fingerprint=%s user=bob", partner.fp);
    const char *lines[] = {
        "auth Certificate",
        "auth_user_store /fake",
        "auth_local_realm EXAMPLE.ORG",
        pin,
        "auth_cert_map subject.OU=Contractors deny",
        "auth_cert_map issuer.CN=Example~CA upn",
        "auth_cert_map issuer.CN=Example~CA subject.O=Example user=staffer",
    };
    struct auth_config *cfg = config_ok(lines, 7);
    struct auth_conn *c = NULL;
    struct auth_decision d;
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c), GH_OK);

    /* UPN -> Kerberos principal; local realm: named by user name; store groups */
    CHECK_EQ(run(cfg, c, &alice, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_MAPPED);
    CHECK_EQ(d.record.pub.status, GH_AUTH_SUCCESS);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_CLIENT_CERT);
    CHECK_STR_EQ(d.record.pub.package_name, "Schannel");
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    CHECK_STR_EQ(d.record.pub.domain, "EXAMPLE.ORG");
    CHECK_STR_EQ(d.record.pub.principal, "alice@EXAMPLE.ORG");
    CHECK_EQ(d.record.pub.group_count, 1);
    CHECK_STR_EQ(d.record.pub.groups[0], "staff");
    CHECK(d.record.pub.access_token != NULL);
    CHECK_EQ(d.header_count, 0);
    auth_decision_clear(&d);

    /* the same certificate with an unverified chain: only pins and denials;
     * Certificate is the only scheme, so 403, and the record says why */
    CHECK_EQ(run(cfg, c, &alice, 20 /* X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY */, NULL, &d),
             GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_UNMAPPED);
    CHECK_EQ(d.record.pub.status, GH_AUTH_FAILURE);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_CLIENT_CERT);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_UNKNOWN_CREDENTIALS);
    auth_decision_clear(&d);

    /* pinned fingerprint (one-to-one) wins over every later rule, even unverified */
    CHECK_EQ(run(cfg, c, &partner, 18, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_STR_EQ(d.record.pub.user_name, "bob");
    CHECK_STR_EQ(d.record.pub.domain, "gatehouse"); /* auth_realm, as for Basic */
    auth_decision_clear(&d);

    /* deny rule */
    CHECK_EQ(run(cfg, c, &contractor, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_DENIED);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_LOGON_DENIED);
    CHECK(d.record.pub.access_token == NULL);
    auth_decision_clear(&d);

    /* a UPN of a foreign realm does not map by upn: the many-to-one rule does */
    CHECK_EQ(run(cfg, c, &foreign_upn, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_UNMAPPED);
    auth_decision_clear(&d);

    /* no certificate, and a certificate that does not parse */
    CHECK_EQ(run(cfg, c, NULL, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_NONE);
    CHECK_EQ(d.record.pub.status, GH_AUTH_NOT_AUTHENTICATED);
    auth_decision_clear(&d);
    struct cert junk = {.der = (uint8_t *)"\x30\x03\x02\x01\x00", .len = 5};
    CHECK_EQ(run(cfg, c, &junk, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_INVALID);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_CERT_UNKNOWN);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

/* "certificate first, else Negotiate" and "else Basic" */
static void
test_fallback(void)
{
    const char *lines[] = {
        "auth Negotiate Certificate Basic",
        "auth_user_store /fake",
        "auth_cert_map subject.OU=Contractors deny",
        "auth_cert_map subject.O=Example user=staffer",
        "auth_require group staff",
    };
    struct auth_config *cfg = config_ok(lines, 5);
    struct auth_conn *c = NULL;
    struct auth_decision d;
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c), GH_OK);

    /* denied certificate: the other schemes' 401, record failure for the certificate */
    CHECK_EQ(run(cfg, c, &contractor, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.header_count, 2);
    CHECK_STR_EQ(d.headers[0].value, "Negotiate");
    CHECK(strncmp(d.headers[1].value, "Basic ", 6) == 0);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_DENIED);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_CLIENT_CERT);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_LOGON_DENIED);
    auth_decision_clear(&d);

    /* ...then the same connection logs on with Negotiate: that record wins */
    CHECK_EQ(run(cfg, c, &contractor, 0, fake_krb("Negotiate", "alice:pw"), &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_NEGOTIATE);
    CHECK_EQ(d.cert_outcome, AUTH_CERT_DENIED);
    auth_decision_clear(&d);

    /* mapped certificate: no Authorization needed; auth_require group applies */
    CHECK_EQ(run(cfg, c, &alice, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 403); /* "staffer" is not in group staff */
    CHECK_EQ(d.cert_outcome, AUTH_CERT_MAPPED);
    CHECK_EQ(d.record.pub.status, GH_AUTH_SUCCESS);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);

    const char *lines2[] = {"auth Certificate Negotiate", "auth_user_store /fake",
                            "auth_cert_map subject.O=Example user=alice",
                            "auth_require group staff"};
    cfg = config_ok(lines2, 4);
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c), GH_OK);
    CHECK_EQ(run(cfg, c, &alice, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    auth_decision_clear(&d);
    /* no certificate: Negotiate's 401 */
    CHECK_EQ(run(cfg, c, NULL, 0, NULL, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.header_count, 1);
    CHECK_STR_EQ(d.headers[0].value, "Negotiate");
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

static size_t
audit_lines(const char *path)
{
    char buf[16384];
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0, count = 0;
    if (f != NULL)
        fclose(f);
    buf[n] = 0;
    for (const char *p = buf; (p = strstr(p, "scheme=Certificate")) != NULL; p++)
        count++;
    return count;
}

/* One audit line per certificate, config and outcome on a connection, like an
 * identity persisted on it; a refusal by auth_require every time. */
static void
test_audit_once(void)
{
    char path[] = "/tmp/gh-test-cert-audit-XXXXXX";
    int fd = mkstemp(path);
    struct log *log = NULL;
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(log_create(path, LOG_INFO, &log), GH_OK);
    auth_engine_set_audit_log(engine, log);
    const char *lines[] = {"auth Certificate", "auth_cert_map subject.OU=Contractors deny",
                           "auth_cert_map subject.O=Example user=staffer",
                           "auth_require user staffer"};
    struct auth_config *cfg = config_ok(lines, 4);
    struct auth_conn *c = NULL, *c2 = NULL;
    struct auth_decision d;
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c), GH_OK);
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c2), GH_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(run(cfg, c, &alice, 0, NULL, &d), GH_OK);
        CHECK_EQ(d.status, 0);
        auth_decision_clear(&d);
    }
    CHECK_EQ(audit_lines(path), 1);
    CHECK_EQ(run(cfg, c2, &alice, 0, NULL, &d), GH_OK); /* another connection */
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, &contractor, 0, NULL, &d), GH_OK); /* another certificate */
    CHECK_EQ(d.status, 403);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, &contractor, 0, NULL, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(audit_lines(path), 3);
    auth_config_destroy(cfg);
    const char *strict[] = {"auth Certificate", "auth_cert_map subject.O=Example user=staffer",
                            "auth_require user nobody"};
    cfg = config_ok(strict, 3);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(run(cfg, c, &alice, 0, NULL, &d), GH_OK);
        CHECK_EQ(d.status, 403);
        auth_decision_clear(&d);
    }
    CHECK_EQ(audit_lines(path), 5); /* auth_require refusals: every time */
    auth_config_destroy(cfg);
    auth_conn_destroy(c);
    auth_conn_destroy(c2);
    auth_engine_set_audit_log(engine, audit_log);
    log_destroy(log);
    unlink(path);
}

static void
test_config_errors(void)
{
    static const struct {
        const char *lines[3];
        const char *want;
    } cases[] = {
        {{"auth Certificate"}, "needs at least one auth_cert_map"},
        {{"auth Certificate Certificate", "auth_cert_map deny"}, "listed twice"},
        {{"auth Certificate", "auth_cert_map subject.CN=x"}, "t.conf:3: auth_cert_map: no action"},
        {{"auth Certificate", "auth_cert_map fingerprint=12 user=a"}, "64 hex"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct auth_config *cfg = NULL;
        char err[256] = "";
        size_t n = 0;
        while (n < 3 && cases[i].lines[n] != NULL)
            n++;
        CHECK_EQ(config(cases[i].lines, n, &cfg, err, sizeof(err)), GH_EINVAL);
        if (strstr(err, cases[i].want) == NULL)
            fprintf(stderr, "got: %s\n", err);
        CHECK(strstr(err, cases[i].want) != NULL);
        CHECK(cfg == NULL);
    }
}

int
main(void)
{
    struct auth_engine_params p = {.backend = &fake_backend};
    CHECK_EQ(log_create("/dev/null", LOG_INFO, &audit_log), GH_OK);
    p.audit_log = audit_log;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    make(&alice, &(struct cert_spec){.subject = {"O", "Example", "OU", "Staff", "CN", "Alice"},
                                     .issuer = {"CN", "Example CA"},
                                     .upns = {"alice@example.org"}});
    make(&contractor,
         &(struct cert_spec){.subject = {"O", "Example", "OU", "Contractors", "CN", "Carl"},
                             .issuer = {"CN", "Example CA"}});
    make(&partner, &(struct cert_spec){.subject = {"CN", "Partner"}, .issuer = {"CN", "Partner"}});
    make(&foreign_upn, &(struct cert_spec){.subject = {"O", "Other", "CN", "Eve"},
                                           .issuer = {"CN", "Example CA"},
                                           .upns = {"eve@partner.example"}});
    test_mapping();
    test_fallback();
    test_audit_once();
    test_config_errors();
    free(alice.der);
    free(contractor.der);
    free(partner.der);
    free(foreign_upn.der);
    auth_engine_destroy(engine);
    log_destroy(audit_log);
    CHECK_EQ(atomic_load(&fake_live_tokens), 0);
    return check_done("auth/engine_cert");
}
