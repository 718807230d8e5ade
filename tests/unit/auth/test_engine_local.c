// SPDX-License-Identifier: MIT
// Unit tests for the auth engine's own schemes (Basic, Digest) and policies:
// Basic refused over plain HTTP, failed attempts with backoff (429), the
// per-address cap on handshakes in progress, configuration from conf nodes
// with file:line errors, and the audit line format.
#include <string.h>

#include <gatehouse/error.h>

#include "auth/audit.h"
#include "auth/engine.h"
#include "base/b64.h"
#include "base/conf_parse.h"
#include "fake_backend.h"
#include "harness/check.h"

static struct auth_engine *engine;
static struct log *audit_log;

static int
run(const struct auth_config *cfg, struct auth_conn *conn, const char *authz, bool is_tls,
    uint64_t now_ms, struct auth_decision *d)
{
    struct slice az = slice_cstr(authz);
    struct auth_request_view v = {
        .method = SLICE_LIT("GET"),
        .target = SLICE_LIT("/private?x=1"),
        .authorization = authz != NULL ? &az : NULL,
        .authorization_count = authz != NULL ? 1 : 0,
        .peer = "192.0.2.7:5555",
        .is_tls = is_tls,
        .now_ms = now_ms,
        .now = 1700000000 + (time_t)(now_ms / 1000),
    };
    return auth_engine_run(cfg, conn, &v, d);
}

static struct conf_node
node(const char *name, char **args, size_t n, unsigned line)
{
    return (struct conf_node){
        .name = name, .args = args, .arg_count = n, .file = "t.conf", .line = line};
}

static struct auth_config *
config(const char *schemes, bool basic_over_http, const char *require_user)
{
    char *a_auth[] = {(char *)schemes};
    char *a_realm[] = {"test"};
    char *a_store[] = {"/fake"};
    char *a_http[] = {basic_over_http ? "on" : "off"};
    char *a_req[] = {"user", (char *)require_user};
    char *a_other[] = {"x"};
    struct conf_node kids[6] = {
        node("auth", a_auth, 1, 2),
        node("auth_realm", a_realm, 1, 3),
        node("auth_user_store", a_store, 1, 4),
        node("auth_basic_over_http", a_http, 1, 5),
        node("root", a_other, 1, 6), /* another module's directive: ignored */
        node("auth_require", a_req, 2, 7),
    };
    struct conf_node loc = {.name = "location",
                            .file = "t.conf",
                            .line = 1,
                            .is_block = true,
                            .children = kids,
                            .child_count = require_user != NULL ? 6 : 5};
    struct auth_config *cfg = NULL;
    char err[256] = "";
    int rc = auth_config_from_conf(engine, &loc, &cfg, err, sizeof(err));
    if (rc != GH_OK)
        fprintf(stderr, "config: %s\n", err);
    CHECK_EQ(rc, GH_OK);
    return cfg;
}

static const char *
basic(const char *userpass)
{
    static char out[256];
    struct buf b;
    buf_init(&b, 200);
    b64_encode(&b, slice_cstr(userpass));
    snprintf(out, sizeof(out), "Basic %.*s", (int)b.len, (const char *)b.data);
    buf_free(&b);
    return out;
}

static void
test_basic(void)
{
    struct auth_config *cfg = config("Basic", false, NULL);
    struct auth_conn *c = NULL;
    struct auth_decision d;

    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.7"), &c), GH_OK);
    /* plain HTTP without auth_basic_over_http: nothing to offer, credentials refused */
    CHECK_EQ(run(cfg, c, NULL, false, 1000, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, basic("alice:pw"), false, 1000, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.record.pub.status, GH_AUTH_NOT_AUTHENTICATED);
    auth_decision_clear(&d);

    CHECK_EQ(run(cfg, c, basic("ALICE:pw"), true, 1000, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_BASIC);
    CHECK_STR_EQ(d.record.pub.user_name, "alice"); /* canonical spelling */
    CHECK_STR_EQ(d.record.pub.domain, "test");
    CHECK(d.record.pub.access_token != NULL);
    CHECK_EQ(d.record.pub.group_count, 1);
    auth_decision_clear(&d);

    CHECK_EQ(run(cfg, c, basic("alice:wrong"), true, 1000, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.record.pub.status, GH_AUTH_FAILURE);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_LOGON_DENIED);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, "Basic !!", true, 1000, &d), GH_OK);
    CHECK_EQ(d.status, 400);
    auth_decision_clear(&d);

    /* failures 2 and 3 reach the threshold (3): backoff, then 429 with Retry-After */
    CHECK_EQ(run(cfg, c, basic("alice:wrong"), true, 1100, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, basic("alice:wrong"), true, 1200, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, basic("alice:pw"), true, 1300, &d), GH_OK);
    CHECK_EQ(d.status, 429);
    CHECK(d.header_count == 1 && strcmp(d.headers[0].name, "Retry-After") == 0);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, basic("alice:pw"), true, 1200 + 2001, &d), GH_OK);
    CHECK_EQ(d.status, 0); /* backoff over; success clears the count */
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);

    /* authorization rule: only bob */
    cfg = config("Basic", true, "bob");
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.8"), &c), GH_OK);
    CHECK_EQ(run(cfg, c, basic("alice:pw"), false, 5000, &d), GH_OK);
    CHECK_EQ(d.status, 403);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, basic("bob:pw"), false, 5000, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

static bool
may_block(const struct auth_config *cfg, const char *authz, uint64_t now_ms)
{
    struct slice az = slice_cstr(authz);
    struct auth_request_view v = {.method = SLICE_LIT("GET"),
                                  .target = SLICE_LIT("/"),
                                  .authorization = &az,
                                  .authorization_count = 1,
                                  .peer = "192.0.2.9:1",
                                  .is_tls = true,
                                  .now_ms = now_ms};
    return auth_engine_may_block(cfg, &v);
}

/* The verified-credentials cache: a hit skips the password verification (and
 * the blocking pool), a different password never hits, entries expire after
 * auth_basic_cache_ttl, a new config (reload) starts empty, 0 turns it off. */
static void
test_basic_cache(void)
{
    struct auth_config *cfg = config("Basic", false, NULL);
    struct auth_conn *c = NULL;
    struct auth_decision d;
    int calls = atomic_load(&fake_verify_calls);

    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c), GH_OK);
    CHECK(may_block(cfg, basic("alice:pw"), 10000)); /* not verified yet: the pool */
    CHECK(!may_block(cfg, "Basic !!", 10000));       /* 400 without verifying */
    CHECK(!may_block(cfg, "Digest x=1", 10000));
    CHECK_EQ(run(cfg, c, basic("alice:pw"), true, 10000, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    CHECK_EQ(atomic_load(&fake_verify_calls), calls + 1);
    CHECK(!may_block(cfg, basic("alice:pw"), 10001)); /* cached: inline */
    CHECK(may_block(cfg, basic("alice:px"), 10001));
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(run(cfg, c, basic("alice:pw"), true, 10001 + (uint64_t)i, &d), GH_OK);
        CHECK_EQ(d.status, 0);
        CHECK_STR_EQ(d.record.pub.user_name, "alice");
        CHECK_EQ(d.record.pub.group_count, 1);
        auth_decision_clear(&d);
    }
    CHECK_EQ(atomic_load(&fake_verify_calls), calls + 1); /* no verification on a hit */
    /* a wrong password after a right one is verified, and fails */
    CHECK_EQ(run(cfg, c, basic("alice:pX"), true, 10010, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);
    CHECK_EQ(atomic_load(&fake_verify_calls), calls + 2);
    /* the default TTL is 300 s: verified again after it */
    CHECK(may_block(cfg, basic("alice:pw"), 10000 + 300000));
    CHECK_EQ(run(cfg, c, basic("alice:pw"), true, 10000 + 300000, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    CHECK_EQ(atomic_load(&fake_verify_calls), calls + 3);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);

    /* a reload makes a new config: its cache is empty */
    cfg = config("Basic", false, NULL);
    CHECK(may_block(cfg, basic("alice:pw"), 10000 + 300001));
    auth_config_destroy(cfg);

    /* auth_basic_cache_ttl 0: every request verifies */
    char *a_auth[] = {"Basic"}, *a_store[] = {"/fake"}, *a_ttl[] = {"0"};
    struct conf_node kids[] = {node("auth", a_auth, 1, 2), node("auth_user_store", a_store, 1, 3),
                               node("auth_basic_cache_ttl", a_ttl, 1, 4)};
    struct conf_node loc = {.name = "location",
                            .file = "t.conf",
                            .line = 1,
                            .is_block = true,
                            .children = kids,
                            .child_count = 3};
    char err[256] = "";
    CHECK_EQ(auth_config_from_conf(engine, &loc, &cfg, err, sizeof(err)), GH_OK);
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.10"), &c), GH_OK);
    calls = atomic_load(&fake_verify_calls);
    for (int i = 0; i < 2; i++) {
        CHECK(may_block(cfg, basic("alice:pw"), 20000));
        CHECK_EQ(run(cfg, c, basic("alice:pw"), true, 20000, &d), GH_OK);
        CHECK_EQ(d.status, 0);
        auth_decision_clear(&d);
    }
    CHECK_EQ(atomic_load(&fake_verify_calls), calls + 2);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
    a_ttl[0] = "3601";
    CHECK_EQ(auth_config_from_conf(engine, &loc, &cfg, err, sizeof(err)), GH_EINVAL);
    CHECK(strstr(err, "auth_basic_cache_ttl") != NULL);
}

/* The nonce of the SHA-256 challenge in d. */
static void
nonce_of(const struct auth_decision *d, char *nonce, size_t len)
{
    for (size_t i = 0; i < d->header_count; i++) {
        const char *v = d->headers[i].value;
        if (strstr(v, "SHA-256") == NULL)
            continue;
        const char *p = strstr(v, "nonce=\"");
        if (p != NULL)
            snprintf(nonce, len, "%.72s", p + 7);
    }
}

static const char *
digest_header(const char *nonce, const char *nc, const char *ha1)
{
    static char out[1024];
    char resp[DIGEST_MAX_HEX + 1];
    digest_compute(DIGEST_ALG_SHA256, ha1, slice_cstr(nonce), slice_cstr(nc), SLICE_LIT("cn"),
                   SLICE_LIT("auth"), SLICE_LIT("GET"), SLICE_LIT("/private?x=1"), resp);
    snprintf(out, sizeof(out),
             "Digest username=\"alice\", realm=\"test\", uri=\"/private?x=1\", "
             "algorithm=SHA-256, nonce=\"%s\", nc=%s, cnonce=\"cn\", qop=auth, response=\"%s\"",
             nonce, nc, resp);
    return out;
}

static void
test_digest(void)
{
    struct auth_config *cfg = config("Digest", false, NULL);
    struct auth_conn *c = NULL;
    struct auth_decision d;
    char nonce[80] = "";

    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.9"), &c), GH_OK);
    CHECK_EQ(run(cfg, c, NULL, false, 1000, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.header_count, 2);
    nonce_of(&d, nonce, sizeof(nonce));
    CHECK_EQ(strlen(nonce), 72);
    auth_decision_clear(&d);

    CHECK_EQ(run(cfg, c, digest_header(nonce, "00000001", FAKE_ALICE_HA1_SHA256), false, 2000, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_DIGEST);
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    CHECK(d.header_count == 1 && strcmp(d.headers[0].name, "Authentication-Info") == 0);
    auth_decision_clear(&d);

    /* nonce-count replay */
    CHECK_EQ(run(cfg, c, digest_header(nonce, "00000001", FAKE_ALICE_HA1_SHA256), false, 2000, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.record.pub.status, GH_AUTH_FAILURE);
    auth_decision_clear(&d);

    /* expired nonce: stale=true in both challenges */
    CHECK_EQ(run(cfg, c, digest_header(nonce, "00000002", FAKE_ALICE_HA1_SHA256), false,
                 1000 + 301000, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK(d.header_count == 2 && strstr(d.headers[0].value, "stale=true") != NULL &&
          strstr(d.headers[1].value, "stale=true") != NULL);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

static void
test_config_errors(void)
{
    struct auth_config *cfg = NULL;
    char err[256];
    char *bad_scheme[] = {"Negotiate", "Bogus"};
    char *bad_bool[] = {"maybe"};
    char *bad_num[] = {"12x"};
    char *store[] = {"/nonexistent"};
    char *digest[] = {"Digest"};
    char *backend[] = {"ldap"};
    struct {
        struct conf_node n;
        const char *want;
    } cases[] = {
        {node("auth", bad_scheme, 2, 10), "t.conf:10: auth: unknown scheme \"Bogus\""},
        {node("auth_anonymous", bad_bool, 1, 11), "t.conf:11: auth_anonymous: \"maybe\""},
        {node("auth_max_token_bytes", bad_num, 1, 12), "t.conf:12: auth_max_token_bytes:"},
        {node("auth_frobnicate", bad_bool, 1, 13), "t.conf:13: unknown directive"},
        {node("auth_user_store", store, 1, 14), "t.conf:1: /nonexistent: No such file"},
        {node("auth", digest, 1, 15), "t.conf:1: auth Digest/Basic needs auth_user_store"},
        {node("auth_ntlm_backend", backend, 1, 16),
         "t.conf:16: auth_ntlm_backend takes store or winbind"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf_node loc = {.name = "location",
                                .file = "t.conf",
                                .line = 1,
                                .children = &cases[i].n,
                                .child_count = 1};
        err[0] = 0;
        int rc = auth_config_from_conf(engine, &loc, &cfg, err, sizeof(err));
        CHECK(rc != GH_OK);
        CHECK(cfg == NULL);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fprintf(stderr, "got \"%s\", want \"%s...\"\n", err, cases[i].want);
        CHECK(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0);
    }
}

/* auth_ntlm_backend winbind: the legs that reach the domain controller (an
 * NTLM AUTHENTICATE_MESSAGE, raw or as a later SPNEGO leg) go to the blocking
 * pool; the first legs and the store back end stay on the loop. */
static void
test_ntlm_winbind_pool(void)
{
    /* "NTLMSSP\0" + type 3 / type 1, base64; a negTokenResp (0xA1...). */
    static const char type3[] = "NTLM TlRMTVNTUAADAAAAGAAYAEAAAAA=";
    static const char type1[] = "NTLM TlRMTVNTUAABAAAAB4IIogAAAAA=";
    static const char nego3[] = "Negotiate TlRMTVNTUAADAAAAGAAYAEAAAAA=";
    static const char nego_resp[] = "Negotiate oYIBCjCCAQagAwoBAaIC";
    static const char nego_init[] = "Negotiate YIIBCjCCAQagAwoBAaIC";
    const char *both[] = {"Negotiate", "NTLM", "CredSSP"};
    const char *winbind[] = {"winbind"}, *store[] = {"store"};
    struct auth_config *cfg = NULL;
    char err[128];

    CHECK_EQ(auth_config_create(engine, &cfg), GH_OK);
    CHECK_EQ(auth_config_directive(cfg, "auth", both, 3, err, sizeof(err)), GH_OK);
    CHECK(!may_block(cfg, type3, 1)); /* default: the store, on the loop */
    CHECK_EQ(auth_config_directive(cfg, "auth_ntlm_backend", winbind, 1, err, sizeof(err)), GH_OK);
    CHECK(cfg->ntlm_winbind);
    CHECK(may_block(cfg, type3, 1));
    CHECK(may_block(cfg, nego3, 1));
    CHECK(may_block(cfg, nego_resp, 1));
    CHECK(!may_block(cfg, type1, 1));
    CHECK(!may_block(cfg, nego_init, 1)); /* Kerberos or an NTLM NEGOTIATE: no DC */
    CHECK(!may_block(cfg, "Bearer abc", 1));
    CHECK(may_block(cfg, "CredSSP FgMBAAEBAAD9AwM=", 1)); /* NTLM inside its TLS */
    CHECK_EQ(auth_config_directive(cfg, "auth_ntlm_backend", store, 1, err, sizeof(err)), GH_OK);
    CHECK(!may_block(cfg, type3, 1));
    auth_config_destroy(cfg);
}

static void
test_limits(void)
{
    struct limiter *l = NULL;
    struct limiter_params p = {.max_in_progress = 1, .max_addresses = 2};
    uint64_t retry = 0;

    CHECK_EQ(limiter_create(&p, &l), GH_OK);
    CHECK_EQ(limiter_begin(l, SLICE_LIT("a"), 1), GH_OK);
    CHECK_EQ(limiter_begin(l, SLICE_LIT("a"), 2), GH_EBUSY);
    CHECK_EQ(limiter_begin(l, SLICE_LIT("b"), 3), GH_OK);
    /* table full of busy addresses: untracked, not refused (test_security_auth SEC-5) */
    CHECK_EQ(limiter_begin(l, SLICE_LIT("c"), 4), GH_ENOTFOUND);
    limiter_end(l, SLICE_LIT("a"));
    CHECK_EQ(limiter_begin(l, SLICE_LIT("a"), 5), GH_OK);
    for (int i = 0; i < 5; i++)
        limiter_fail(l, SLICE_LIT("b"), 100);
    CHECK_EQ(limiter_check(l, SLICE_LIT("b"), 100, &retry), GH_EBUSY);
    CHECK_EQ(retry, 1000);
    limiter_fail(l, SLICE_LIT("b"), 200); /* one more: doubled */
    CHECK_EQ(limiter_check(l, SLICE_LIT("b"), 200, &retry), GH_EBUSY);
    CHECK_EQ(retry, 2000);
    CHECK_EQ(limiter_check(l, SLICE_LIT("b"), 2300, &retry), GH_OK);
    limiter_destroy(l);
}

static void
test_audit(void)
{
    struct buf b;
    struct auth_audit_event ev = {.time = 1700000000,
                                  .peer = "127.0.0.1:1",
                                  .scheme = "Basic",
                                  .principal = "eve\" result=success\nforged",
                                  .result = "failure",
                                  .sec_status = SEC_E_LOGON_DENIED,
                                  .cb = "n/a",
                                  .reason = "wrong_password",
                                  .reason_text = "wrong password"};
    buf_init(&b, 4096);
    CHECK_EQ(audit_format(&b, &ev), GH_OK);
    const char *want = "time=2023-11-14T22:13:20Z event=auth peer=127.0.0.1:1 scheme=Basic "
                       "package=- principal=\"eve\\\" result=success\\x0aforged\" result=failure "
                       "sec_status=0x8009030c persisted=no cached=no cb=n/a delegation=no "
                       "reason=wrong_password reason_text=\"wrong password\"\n";
    CHECK_EQ(b.len, strlen(want));
    CHECK_MEM_EQ(b.data, want, b.len);
    /* the time string is cached per second: the next second, then back */
    static const char *const times[] = {"time=2023-11-14T22:13:21Z event=auth ",
                                        "time=2023-11-14T22:13:20Z event=auth "};
    for (int i = 0; i < 2; i++) {
        b.len = 0;
        ev.time = 1700000001 - i;
        ev.sec_status = i == 0 ? SEC_E_OK : (SECURITY_STATUS)0xFEDCBA98;
        CHECK_EQ(audit_format(&b, &ev), GH_OK);
        CHECK(b.len > strlen(times[i]));
        CHECK_MEM_EQ(b.data, times[i], strlen(times[i]));
        CHECK(memmem(b.data, b.len, i == 0 ? " sec_status=0x00000000 " : " sec_status=0xfedcba98 ",
                     23) != NULL);
    }
    buf_free(&b);
}

int
main(void)
{
    struct auth_engine_params p = {.backend = &fake_backend, .limits = {.fail_threshold = 3}};
    CHECK_EQ(log_create("/dev/null", LOG_INFO, &audit_log), GH_OK);
    p.audit_log = audit_log;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    test_basic();
    test_basic_cache();
    test_digest();
    test_config_errors();
    test_ntlm_winbind_pool();
    test_limits();
    test_audit();
    auth_engine_destroy(engine);
    log_destroy(audit_log);
    CHECK_EQ(atomic_load(&fake_live_tokens), 0);
    return check_done("auth/engine_local");
}
