// SPDX-License-Identifier: MIT
// Security regressions of the auth engine (src/auth), found in review. Each
// case is named for what it checks; the fake packages of fake_backend.h stand
// in for NTLM and Kerberos.
//
//   SEC-1  an identity persisted on a connection by one location's config is
//          not reused by another location (other EPA policy, persistence,
//          user store or rules)
//   SEC-2  one successful login from an address does not erase the failures
//          of password guesses against other accounts from it (backoff bypass)
//   SEC-3  an audit line is never dropped because a client-chosen field is long
//   SEC-5  clients holding handshakes open from as many addresses as the
//          limiter tracks do not lock every other address out (global 429)
//   SEC-7  NTLM relay across services: auth_service_name reaches the NTLM
//          acceptor as AcceptedTargetNames (the package test is
//          tests/unit/sspi/ntlm/test_ntlm_target_name.c)
//   SEC-8  a Kerberos identity persisted on a keep-alive connection is dropped
//          once its ticket has expired (fresh 401), not served on
//   SEC-9  realm confusion: a bare `auth_require user alice` matches only
//          alice of the acceptor's own realm, not alice@PARTNER.ORG of a
//          trusted realm, whose record names the full principal
#include <string.h>

#include <gatehouse/error.h>

#include "auth/audit.h"
#include "auth/engine.h"
#include "fake_backend.h"
#include "harness/check.h"

static uint64_t clock_ms = 1000000;
static const time_t wall = 1700000000;
static const uint8_t cb_hash[32] = "0123456789abcdef0123456789abcdef";

static int
run(const struct auth_config *cfg, struct auth_conn *conn, const char *authorization, bool is_tls,
    struct auth_decision *d)
{
    struct slice az = slice_cstr(authorization);
    struct auth_request_view v = {
        .method = SLICE_LIT("GET"),
        .target = SLICE_LIT("/"),
        .authorization = authorization != NULL ? &az : NULL,
        .authorization_count = authorization != NULL ? 1 : 0,
        .peer = "127.0.0.1:40000",
        .is_tls = is_tls,
        .cb_hash = is_tls ? cb_hash : NULL,
        .cb_hash_len = is_tls ? sizeof(cb_hash) : 0,
        .now_ms = clock_ms,
        .now = wall,
    };
    return auth_engine_run(cfg, conn, &v, d);
}

static struct auth_config *
make_config(struct auth_engine *engine, const char *const *lines, size_t n)
{
    struct auth_config *cfg = NULL;
    char err[256];
    CHECK_EQ(auth_config_create(engine, &cfg), GH_OK);
    for (size_t i = 0; i < n; i++) {
        const char *args[8];
        char copy[256];
        size_t argc = 0;
        snprintf(copy, sizeof(copy), "%s", lines[i]);
        char *save = NULL, *name = strtok_r(copy, " ", &save);
        for (char *a = strtok_r(NULL, " ", &save); a != NULL && argc < 8;
             a = strtok_r(NULL, " ", &save))
            args[argc++] = a;
        CHECK_EQ(auth_config_directive(cfg, name, args, argc, err, sizeof(err)), GH_OK);
    }
    CHECK_EQ(auth_config_activate(cfg, err, sizeof(err)), GH_OK);
    return cfg;
}

/* SEC-1: /open authenticates NTLM without Extended Protection; /epa requires
 * it. An NTLM identity established on /open must not be served as "cached"
 * on /epa, and a Kerberos identity persisted by a location with persistence
 * on must not pass a location that re-authenticates every request. */
static void
test_cached_identity_not_reused_across_configs(struct auth_engine *engine)
{
    static const char *const open_lines[] = {"auth NTLM"};
    static const char *const epa_lines[] = {"auth NTLM", "auth_extended_protection require"};
    static const char *const rule_lines[] = {"auth NTLM", "auth_require user bob"};
    static const char *const krb_on[] = {"auth Kerberos", "auth_persist_kerberos on"};
    static const char *const krb_off[] = {"auth Kerberos", "auth_persist_kerberos off"};
    struct auth_config *open = make_config(engine, open_lines, 1);
    struct auth_config *epa = make_config(engine, epa_lines, 2);
    struct auth_config *rule = make_config(engine, rule_lines, 2);
    struct auth_conn *c = NULL;
    struct auth_decision d;

    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("127.0.0.1"), &c), GH_OK);
    CHECK_EQ(run(open, c, fake_ntlm1(), true, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);
    CHECK_EQ(run(open, c, fake_ntlm3("NTLM", "alice:pw"), true, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    /* same location, keep-alive: the cached identity passes */
    CHECK_EQ(run(open, c, NULL, true, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    /* another location that requires channel bindings: challenge, not pass */
    CHECK_EQ(run(epa, c, NULL, true, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.record.pub.status, GH_AUTH_NOT_AUTHENTICATED);
    auth_decision_clear(&d);
    /* authorization rules still apply where the identity is reused */
    CHECK_EQ(run(rule, c, NULL, true, &d), GH_OK);
    CHECK(d.status != 0);
    auth_decision_clear(&d);
    auth_conn_destroy(c);

    struct auth_config *kon = make_config(engine, krb_on, 2);
    struct auth_config *koff = make_config(engine, krb_off, 2);
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("127.0.0.1"), &c), GH_OK);
    CHECK_EQ(run(kon, c, fake_krb("Kerberos", "alice:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    CHECK_EQ(run(kon, c, NULL, false, &d), GH_OK);
    CHECK_EQ(d.status, 0); /* persisted where the location says so */
    auth_decision_clear(&d);
    CHECK_EQ(run(koff, c, NULL, false, &d), GH_OK);
    CHECK_EQ(d.status, 401); /* re-authenticate every request here */
    auth_decision_clear(&d);
    auth_conn_destroy(c);

    auth_config_destroy(open);
    auth_config_destroy(epa);
    auth_config_destroy(rule);
    auth_config_destroy(kon);
    auth_config_destroy(koff);
}

/* One NTLM handshake on a fresh connection; returns the final status. */
static int
ntlm_login(struct auth_engine *engine, const struct auth_config *cfg, const char *cred)
{
    struct auth_conn *c = NULL;
    struct auth_decision d;
    int status;

    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("192.0.2.7"), &c), GH_OK);
    CHECK_EQ(run(cfg, c, fake_ntlm1(), false, &d), GH_OK);
    status = d.status;
    auth_decision_clear(&d);
    if (status == 401) {
        CHECK_EQ(run(cfg, c, fake_ntlm3("NTLM", cred), false, &d), GH_OK);
        status = d.status;
        auth_decision_clear(&d);
    }
    auth_conn_destroy(c);
    return status;
}

/* SEC-2: with a backoff after 3 failures, an attacker holding one valid
 * account (bob) must not reset the count between guesses at alice's password. */
static void
test_success_does_not_reset_backoff(void)
{
    static const char *const lines[] = {"auth NTLM"};
    struct auth_engine *engine = NULL;
    struct auth_engine_params p = {.backend = &fake_backend,
                                   .limits = {.fail_threshold = 3, .max_in_progress = 4}};
    struct log *lg = NULL;

    CHECK_EQ(log_create("/dev/null", LOG_INFO, &lg), GH_OK);
    p.audit_log = lg;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    struct auth_config *cfg = make_config(engine, lines, 1);
    CHECK_EQ(ntlm_login(engine, cfg, "alice:guess1"), 401);
    CHECK_EQ(ntlm_login(engine, cfg, "alice:guess2"), 401);
    CHECK_EQ(ntlm_login(engine, cfg, "bob:pw"), 0);
    CHECK_EQ(ntlm_login(engine, cfg, "alice:guess3"), 401);
    /* three failures within the window: the address is in backoff now */
    CHECK_EQ(ntlm_login(engine, cfg, "alice:guess4"), 429);
    auth_config_destroy(cfg);
    auth_engine_destroy(engine);
    log_destroy(lg);
}

/* SEC-3: a client-chosen user name long enough to push the line past the
 * audit buffer must not make the line disappear (audit evasion). */
static void
test_audit_line_survives_long_principal(void)
{
    char user[4001];
    struct buf b;

    memset(user, 'x', sizeof(user) - 1);
    user[sizeof(user) - 1] = 0;
    user[0] = '"'; /* quoted: every byte may grow */
    struct auth_audit_event ev = {.time = wall,
                                  .peer = "192.0.2.7:1234",
                                  .scheme = "Basic",
                                  .principal = user,
                                  .result = "failure",
                                  .cb = "n/a",
                                  .reason = "wrong_password",
                                  .reason_text = "wrong password"};
    buf_init(&b, 4096); /* the bound audit_emit uses */
    CHECK_EQ(audit_format(&b, &ev), GH_OK);
    CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
    CHECK(memmem(b.data, b.len, "result=failure", 14) != NULL);
    CHECK(memmem(b.data, b.len, "reason=wrong_password reason_text=\"wrong password\"", 50) !=
          NULL);
    buf_free(&b);
}

/* SEC-5: the limiter tracks max_addresses addresses; an attacker with that
 * many addresses (an IPv6 /64 is plenty) keeps one NTLM handshake open from
 * each. A client from any other address must still be served. */
static void
test_full_limiter_does_not_lock_out_others(void)
{
    static const char *const lines[] = {"auth NTLM"};
    struct auth_engine *engine = NULL;
    struct auth_engine_params p = {
        .backend = &fake_backend,
        .limits = {.fail_threshold = 100, .max_in_progress = 4, .max_addresses = 4}};
    struct log *lg = NULL;
    struct auth_conn *held[4] = {0}, *victim = NULL;
    struct auth_decision d;
    char addr[64];

    CHECK_EQ(log_create("/dev/null", LOG_INFO, &lg), GH_OK);
    p.audit_log = lg;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    struct auth_config *cfg = make_config(engine, lines, 1);
    for (size_t i = 0; i < 4; i++) {
        snprintf(addr, sizeof(addr), "2001:db8::%zu", i + 1);
        CHECK_EQ(auth_conn_create(engine, slice_cstr(addr), &held[i]), GH_OK);
        CHECK_EQ(run(cfg, held[i], fake_ntlm1(), false, &d), GH_OK);
        CHECK_EQ(d.status, 401);
        auth_decision_clear(&d);
    }
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("198.51.100.9"), &victim), GH_OK);
    CHECK_EQ(run(cfg, victim, fake_ntlm1(), false, &d), GH_OK);
    CHECK_EQ(d.status, 401); /* a challenge, not 429 */
    CHECK(d.is_handshake_in_progress);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, victim, fake_ntlm3("NTLM", "alice:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    auth_conn_destroy(victim);
    for (size_t i = 0; i < 4; i++)
        auth_conn_destroy(held[i]);
    /* every slot came back: the attacker's addresses can start again */
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("2001:db8::1"), &victim), GH_OK);
    CHECK_EQ(run(cfg, victim, fake_ntlm1(), false, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);
    auth_conn_destroy(victim);
    auth_config_destroy(cfg);
    auth_engine_destroy(engine);
    log_destroy(lg);
}

/* SEC-8: auth_persist_kerberos on keeps the identity for later requests
 * without Authorization, but only until the token's expiry (the ticket's end
 * time); then the connection forgets it and the client is challenged. */
static void
test_persisted_identity_expires(struct auth_engine *engine)
{
    static const char *const lines[] = {"auth Kerberos", "auth_persist_kerberos on"};
    struct auth_config *cfg = make_config(engine, lines, 2);
    struct auth_conn *c = NULL;
    struct auth_decision d;

    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("127.0.0.1"), &c), GH_OK);
    fake_token_expiry_at = wall + 60;
    CHECK_EQ(run(cfg, c, fake_krb("Kerberos", "alice:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, NULL, false, &d), GH_OK);
    CHECK_EQ(d.status, 0); /* before the end time: the persisted identity */
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    auth_decision_clear(&d);
    fake_token_expiry_at = wall; /* the ticket ends now */
    CHECK_EQ(run(cfg, c, NULL, false, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.record.pub.status, GH_AUTH_NOT_AUTHENTICATED);
    auth_decision_clear(&d);
    fake_token_expiry_at = 0; /* dropped, not merely hidden */
    CHECK_EQ(run(cfg, c, NULL, false, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, fake_krb("Kerberos", "alice:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 0); /* a fresh ticket passes again */
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

/* SEC-9: the fake Kerberos names "alice@PARTNER.ORG:pw" as principal
 * alice@PARTNER.ORG (user alice, domain PARTNER.ORG). */
static void
test_bare_user_matches_local_realm_only(struct auth_engine *engine)
{
    static const char *const bare[] = {"auth Negotiate Kerberos", "auth_local_realm EXAMPLE.ORG",
                                       "auth_require user alice", "auth_persist_kerberos on"};
    static const char *const full[] = {"auth Kerberos", "auth_local_realm EXAMPLE.ORG",
                                       "auth_require user alice@PARTNER.ORG"};
    struct auth_config *cfg = make_config(engine, bare, 4);
    struct auth_config *partner = make_config(engine, full, 3);
    struct auth_conn *c = NULL;
    struct auth_decision d;

    CHECK_EQ(cfg->local_realm_count, 1);
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("127.0.0.1"), &c), GH_OK);
    CHECK_EQ(run(cfg, c, fake_krb("Kerberos", "alice@EXAMPLE.ORG:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 0); /* our realm: the bare name is hers */
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, fake_krb("Kerberos", "alice@PARTNER.ORG:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 403); /* another realm's alice is not our alice */
    CHECK_STR_EQ(d.record.pub.user_name, "alice@PARTNER.ORG");
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c,
                 fake_authorization("Negotiate",
                                    "\x60"
                                    "alice@PARTNER.ORG:pw",
                                    21),
                 false, &d),
             GH_OK);
    CHECK_EQ(d.status, 403); /* the same through Negotiate */
    auth_decision_clear(&d);
    CHECK_EQ(run(partner, c, fake_krb("Kerberos", "alice@PARTNER.ORG:pw"), false, &d), GH_OK);
    CHECK_EQ(d.status, 0); /* written in full, she may pass */
    CHECK_STR_EQ(d.record.pub.user_name, "alice@PARTNER.ORG");
    CHECK_STR_EQ(d.record.pub.principal, "alice@PARTNER.ORG");
    auth_decision_clear(&d);
    /* persisted on the connection: the cached record is qualified too */
    CHECK_EQ(run(partner, c, NULL, false, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_STR_EQ(d.record.pub.user_name, "alice@PARTNER.ORG");
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
    auth_config_destroy(partner);
}

/* SEC-7: the location's service names and auth_ntlm_require_target_name go
 * to every SSPI acceptor (NTLM, and NTLM inside Negotiate). */
static void
test_service_names_bind_ntlm(struct auth_engine *engine)
{
    static const char *const lines[] = {"auth Negotiate NTLM",
                                        "auth_service_name HTTP/www.example.org HTTP/web",
                                        "auth_ntlm_require_target_name on"};
    static const char *const plain[] = {"auth NTLM"};
    struct auth_config *cfg = make_config(engine, lines, 3);
    char err[256] = "";

    CHECK_EQ(fake_last_acceptor.Version, GH_ACCEPTOR_AUTH_DATA_V3);
    CHECK_EQ(fake_last_acceptor.AcceptedTargetNameCount, 2);
    CHECK_STR_EQ(fake_last_acceptor.AcceptedTargetNames[0], "HTTP/www.example.org");
    CHECK_STR_EQ(fake_last_acceptor.AcceptedTargetNames[1], "HTTP/web");
    CHECK_EQ(fake_last_acceptor.Flags & GH_ACCEPTOR_REQUIRE_TARGET_NAME,
             GH_ACCEPTOR_REQUIRE_TARGET_NAME);
    auth_config_destroy(cfg);
    cfg = make_config(engine, plain, 1);
    CHECK_EQ(fake_last_acceptor.AcceptedTargetNameCount, 0);
    CHECK_EQ(fake_last_acceptor.Flags & GH_ACCEPTOR_REQUIRE_TARGET_NAME, 0);
    auth_config_destroy(cfg);
    /* requiring a target name without naming the service is a config error */
    CHECK_EQ(auth_config_create(engine, &cfg), GH_OK);
    const char *on[] = {"on"}, *ntlm[] = {"NTLM"};
    CHECK_EQ(auth_config_directive(cfg, "auth", ntlm, 1, err, sizeof(err)), GH_OK);
    CHECK_EQ(auth_config_directive(cfg, "auth_ntlm_require_target_name", on, 1, err, sizeof(err)),
             GH_OK);
    CHECK_EQ(auth_config_activate(cfg, err, sizeof(err)), GH_EINVAL);
    CHECK(strstr(err, "auth_service_name") != NULL);
    auth_config_destroy(cfg);
}

int
main(void)
{
    struct auth_engine *engine = NULL;
    struct log *audit_log = NULL;
    struct auth_engine_params p = {.backend = &fake_backend,
                                   .limits = {.fail_threshold = 100, .max_in_progress = 4}};

    CHECK_EQ(log_create("/dev/null", LOG_INFO, &audit_log), GH_OK);
    p.audit_log = audit_log;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    test_cached_identity_not_reused_across_configs(engine);
    test_success_does_not_reset_backoff();
    test_audit_line_survives_long_principal();
    test_full_limiter_does_not_lock_out_others();
    test_service_names_bind_ntlm(engine);
    test_persisted_identity_expires(engine);
    test_bare_user_matches_local_realm_only(engine);
    auth_engine_destroy(engine);
    log_destroy(audit_log);
    CHECK_EQ(atomic_load(&fake_live_tokens), 0);
    CHECK_EQ(fake_live_contexts, 0);
    return check_done("auth/security_auth");
}
