// SPDX-License-Identifier: MIT
// The engine's Basic path with a verifier that returns an access token (what
// basic_krb5.c does with the token of the accepted service ticket): with a
// PAC (a user SID) the record carries the token's groups and SIDs and
// auth_require group matches them; the Basic cache keeps the token, so a hit
// gives the same record without asking the verifier; a token without a PAC
// (an MIT KDC's) gives the record of before, with no groups and no error.
// The real back end (tokens made by sspi_token_create); the verifier is a
// stub, so no KDC is needed (test_ad_negotiate does it with a Samba DC).
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/backend.h"
#include "auth/engine.h"
#include "base/b64.h"
#include "harness/check.h"
#include "sspi/token_internal.h"

#define DOM       "S-1-5-21-1-2-3"
#define STAFF_SID DOM "-1108"

static int verify_calls;

/* carol (in Staff) and frank (not): "pw" is the password of both; hank gets
 * a token without a PAC. */
static int
stub_verify(void *arg, const char *user, const char *password, size_t password_len,
            char **canon_out, gh_token **token_out, struct auth_failure *why)
{
    static const char *const carol_groups[] = {DOM "-513", DOM "-1107", STAFF_SID};
    static const char *const frank_groups[] = {DOM "-513", DOM "-1109"};
    bool is_carol = strcmp(user, "carol") == 0, is_frank = strcmp(user, "frank") == 0;
    bool is_hank = strcmp(user, "hank") == 0;
    char principal[64];

    (void)arg;
    (void)why;
    verify_calls++;
    if (password_len != 2 || memcmp(password, "pw", 2) != 0)
        return GH_EAUTH;
    if (!is_carol && !is_frank && !is_hank)
        return GH_ENOTFOUND;
    snprintf(principal, sizeof(principal), "%s@CORP.TEST", user);
    struct sspi_token_info info = {
        .user = user,
        .domain = "CORP",
        .principal = principal,
        .package = "Kerberos",
        .user_sid = is_hank    ? NULL
                    : is_carol ? DOM "-1102"
                               : DOM "-1105",
        .group_sids = is_carol ? carol_groups : frank_groups,
        .group_sid_count = is_hank    ? 0
                           : is_carol ? 3
                                      : 2,
        .logon_domain = is_hank ? NULL : "CORP",
        .dns_domain = is_hank ? NULL : "CORP.TEST",
        .upn = is_hank ? NULL : principal,
    };
    if (sspi_token_create(&info, token_out) != SEC_E_OK)
        return GH_ENOMEM;
    *canon_out = strdup(principal);
    return *canon_out != NULL ? GH_OK : GH_ENOMEM;
}

/* A Basic location verified by stub_verify, and a connection to it. */
static struct auth_config *
config(struct auth_engine *engine, const char *require_group, struct auth_conn **conn_out)
{
    const char *a_auth[] = {"Basic"}, *a_realm[] = {"CORP.TEST"};
    const char *a_req[] = {"group", require_group};
    struct auth_config *cfg = NULL;
    char err[256] = "";

    CHECK_EQ(auth_config_create(engine, &cfg), GH_OK);
    CHECK_EQ(auth_config_directive(cfg, "auth", a_auth, 1, err, sizeof(err)), GH_OK);
    CHECK_EQ(auth_config_directive(cfg, "auth_local_realm", a_realm, 1, err, sizeof(err)), GH_OK);
    if (require_group != NULL)
        CHECK_EQ(auth_config_directive(cfg, "auth_require", a_req, 2, err, sizeof(err)), GH_OK);
    cfg->basic_verify = stub_verify; /* what activate does for auth_basic_kerberos */
    CHECK_EQ(auth_config_activate(cfg, err, sizeof(err)), GH_OK);
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("127.0.0.1"), conn_out), GH_OK);
    return cfg;
}

static void
run(const struct auth_config *cfg, struct auth_conn *conn, const char *userpass, uint64_t now_ms,
    struct auth_decision *d)
{
    char value[128] = "Basic ";
    struct buf enc;

    buf_init(&enc, 128);
    CHECK_EQ(b64_encode(&enc, slice_cstr(userpass)), GH_OK);
    memcpy(value + 6, enc.data, enc.len);
    value[6 + enc.len] = 0;
    buf_free(&enc);
    struct slice az = slice_cstr(value);
    struct auth_request_view v = {.method = SLICE_LIT("GET"),
                                  .target = SLICE_LIT("/"),
                                  .authorization = &az,
                                  .authorization_count = 1,
                                  .peer = "127.0.0.1:1",
                                  .is_tls = true,
                                  .now_ms = now_ms,
                                  .now = 1700000000};
    CHECK_EQ(auth_engine_run(cfg, conn, &v, d), GH_OK);
}

static bool
has_sid(const struct gh_auth_record *r, const char *sid)
{
    for (size_t i = 0; r->group_sids != NULL && i < r->group_count; i++) {
        if (r->group_sids[i] != NULL && strcmp(r->group_sids[i], sid) == 0)
            return true;
    }
    return false;
}

static void
test_pac_groups(struct auth_engine *engine)
{
    struct auth_conn *conn = NULL;
    struct auth_config *cfg = config(engine, STAFF_SID, &conn);
    struct auth_decision d;

    verify_calls = 0;
    for (int i = 0; i < 2; i++) { /* verified, then from the cache: the same record */
        run(cfg, conn, "carol:pw", 1000 + (uint64_t)i, &d);
        CHECK_EQ(d.status, 0);
        CHECK_EQ(d.observed.basic_cache, i == 0 ? 2 : 1);
        CHECK_STR_EQ(d.record.pub.user_name, "carol");
        CHECK_STR_EQ(d.record.pub.domain, "CORP.TEST");
        CHECK_STR_EQ(d.record.pub.package_name, "Basic");
        CHECK_STR_EQ(d.record.pub.principal, "carol@CORP.TEST");
        CHECK(d.record.pub.user_sid != NULL && strcmp(d.record.pub.user_sid, DOM "-1102") == 0);
        CHECK_EQ(d.record.pub.group_count, 3);
        CHECK(has_sid(&d.record.pub, STAFF_SID));
        CHECK(d.record.pub.access_token != NULL);
        CHECK_STR_EQ(gh_token_upn(d.record.pub.access_token), "carol@CORP.TEST");
        auth_decision_clear(&d);
    }
    CHECK_EQ(verify_calls, 1);
    run(cfg, conn, "frank:pw", 2000, &d); /* not in the group */
    CHECK_EQ(d.status, 403);
    CHECK(d.record.pub.user_sid != NULL); /* authenticated, then refused */
    auth_decision_clear(&d);
    run(cfg, conn, "frank:pw", 2001, &d); /* cached: refused again, same way */
    CHECK_EQ(d.status, 403);
    auth_decision_clear(&d);
    CHECK_EQ(verify_calls, 2);
    run(cfg, conn, "carol:bad", 3000, &d);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);
    auth_conn_destroy(conn);
    auth_config_destroy(cfg); /* the cache's token references go with it */
}

static void
test_no_pac(struct auth_engine *engine)
{
    struct auth_conn *conn = NULL;
    struct auth_config *cfg = config(engine, NULL, &conn);
    struct auth_decision d;

    for (int i = 0; i < 2; i++) {
        run(cfg, conn, "hank:pw", 1000 + (uint64_t)i, &d);
        CHECK_EQ(d.status, 0);
        CHECK_STR_EQ(d.record.pub.user_name, "hank");
        CHECK_EQ(d.record.pub.group_count, 0); /* no PAC: no groups, not an error */
        CHECK(d.record.pub.user_sid == NULL);
        auth_decision_clear(&d);
    }
    auth_conn_destroy(conn);
    auth_config_destroy(cfg);
}

int
main(void)
{
    struct auth_engine_params p = {.backend = auth_backend_real()};
    struct auth_engine *engine = NULL;
    struct log *log = NULL;

    CHECK_EQ(log_create("/dev/null", LOG_INFO, &log), GH_OK);
    p.audit_log = log;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    test_pac_groups(engine);
    test_no_pac(engine);
    auth_engine_destroy(engine);
    log_destroy(log);
    return check_done("auth/engine_basic_pac");
}
