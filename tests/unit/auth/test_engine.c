// SPDX-License-Identifier: MIT
// Unit tests for the auth engine (src/auth/engine.c, handshake.c, config.c)
// against a fake SSPI package through the backend seam (fake_backend.h): the
// 401 challenges, multi-leg handshakes bound to their connection, NTLM
// keep-alive with the cached-credentials flag, negotiate-once, Kerberos
// persistence, mutual authentication, channel bindings, Basic, Digest,
// authorization rules and the per-address limits.
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "auth/engine.h"
#include "auth/handshake.h"
#include "base/conf_parse.h"
#include "fake_backend.h"
#include "harness/check.h"

static struct auth_engine *engine;
static struct log *audit_log;
static uint64_t clock_ms = 1000000;
static const time_t wall = 1700000000;
/* printable so that the fake package can compare it as text */
static const uint8_t cb_hash[32] = "0123456789abcdef0123456789abcdef";

struct req {
    const char *authorization; /* NULL: none */
    bool is_tls;
    bool with_cb;
    const char *method, *target;
};

static int
run(const struct auth_config *cfg, struct auth_conn *conn, struct req r, struct auth_decision *d)
{
    struct slice az = slice_cstr(r.authorization);
    struct auth_request_view v = {
        .method = slice_cstr(r.method != NULL ? r.method : "GET"),
        .target = slice_cstr(r.target != NULL ? r.target : "/"),
        .authorization = r.authorization != NULL ? &az : NULL,
        .authorization_count = r.authorization != NULL ? 1 : 0,
        .peer = "127.0.0.1:40000",
        .is_tls = r.is_tls,
        .cb_hash = r.with_cb ? cb_hash : NULL,
        .cb_hash_len = r.with_cb ? sizeof(cb_hash) : 0,
        .now_ms = clock_ms,
        .now = wall + (time_t)(clock_ms / 1000 - 1000),
    };
    return auth_engine_run(cfg, conn, &v, d);
}

static struct auth_config *
make_config(const char *const *lines, size_t n)
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
        int rc = auth_config_directive(cfg, name, args, argc, err, sizeof(err));
        if (rc != GH_OK)
            fprintf(stderr, "%s: %s\n", lines[i], err);
        CHECK_EQ(rc, GH_OK);
    }
    int rc = auth_config_activate(cfg, err, sizeof(err));
    if (rc != GH_OK)
        fprintf(stderr, "activate: %s\n", err);
    CHECK_EQ(rc, GH_OK);
    return cfg;
}

static struct auth_conn *
make_conn(void)
{
    struct auth_conn *c = NULL;
    CHECK_EQ(auth_conn_create(engine, SLICE_LIT("127.0.0.1"), &c), GH_OK);
    return c;
}

static bool
has_header(const struct auth_decision *d, const char *name, const char *prefix)
{
    for (size_t i = 0; i < d->header_count; i++) {
        if (strcmp(d->headers[i].name, name) == 0 &&
            strncmp(d->headers[i].value, prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

static void
test_challenges(void)
{
    static const char *const lines[] = {"auth Negotiate NTLM Digest Basic", "auth_realm test",
                                        "auth_user_store /fake"};
    struct auth_config *cfg = make_config(lines, 3);
    struct auth_conn *c = make_conn();
    struct auth_decision d;

    CHECK_EQ(run(cfg, c, (struct req){.is_tls = true}, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.header_count, 5); /* Negotiate, NTLM, Digest SHA-256, Digest MD5, Basic */
    CHECK_STR_EQ(d.headers[0].value, "Negotiate");
    CHECK_STR_EQ(d.headers[1].value, "NTLM");
    CHECK(strstr(d.headers[2].value, "algorithm=SHA-256") != NULL);
    CHECK(strstr(d.headers[3].value, "algorithm=MD5") != NULL);
    CHECK_STR_EQ(d.headers[4].value, "Basic realm=\"test\", charset=\"UTF-8\"");
    CHECK_EQ(d.record.pub.status, GH_AUTH_NOT_AUTHENTICATED);
    auth_decision_clear(&d);

    /* plain HTTP: Basic is not offered */
    CHECK_EQ(run(cfg, c, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.header_count, 4);
    auth_decision_clear(&d);

    /* malformed and repeated credentials: 400 */
    CHECK_EQ(run(cfg, c, (struct req){.authorization = "Negotiate a=\"b"}, &d), GH_OK);
    CHECK_EQ(d.status, 400);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, (struct req){.authorization = "NTLM !!!!"}, &d), GH_OK);
    CHECK_EQ(d.status, 400);
    auth_decision_clear(&d);
    struct slice two[2] = {SLICE_LIT("Basic YTpi"), SLICE_LIT("Basic YTpi")};
    struct auth_request_view v = {.authorization = two, .authorization_count = 2, .peer = "p"};
    CHECK_EQ(auth_engine_run(cfg, c, &v, &d), GH_OK);
    CHECK_EQ(d.status, 400);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

/* Issue 11: any package answering SEC_E_NO_AUTHENTICATING_AUTHORITY (winbind
 * or a KDC down) makes a 503 with Retry-After that costs the client no
 * backoff; a wrong password does cost it. */
static void
test_authority_unreachable(void)
{
    static const char *const lines[] = {"auth NTLM"};
    struct auth_config *cfg = make_config(lines, 1);
    struct auth_conn *c = make_conn();
    struct auth_decision d;

    auth_engine_set_backoff(engine, 2, 0, 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
        CHECK_EQ(d.status, 401);
        auth_decision_clear(&d);
        CHECK_EQ(run(cfg, c,
                     (struct req){.authorization = fake_ntlm3("NTLM", "alice:authority-down")}, &d),
                 GH_OK);
        CHECK_EQ(d.status, 503);
        CHECK(has_header(&d, "Retry-After", "30"));
        CHECK_EQ(d.reason, AUTH_REASON_AUTHORITY_UNREACHABLE);
        CHECK_EQ(d.record.pub.status, GH_AUTH_FAILURE);
        CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status,
                     (uint32_t)SEC_E_NO_AUTHENTICATING_AUTHORITY);
        auth_decision_clear(&d);
    }
    /* four outages past a threshold of 2: the authority is back, the client
     * is served at once */
    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.reason, AUTH_REASON_OK);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    auth_engine_set_backoff(engine, 100, 0, 0);
    auth_config_destroy(cfg);
}

static void
test_ntlm_keepalive(void)
{
    static const char *const lines[] = {"auth NTLM", "auth_require group staff"};
    struct auth_config *cfg = make_config(lines, 2);
    struct auth_conn *c = make_conn(), *other = make_conn();
    struct auth_decision d;

    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK(d.is_handshake_in_progress);
    CHECK(has_header(&d, "WWW-Authenticate", "NTLM Q0hBTExFTkdF")); /* base64("CHALLENGE") */
    auth_decision_clear(&d);

    /* the second leg sent on another connection does not continue this context */
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.record.pub.status, GH_AUTH_FAILURE);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_INVALID_TOKEN);
    auth_decision_clear(&d);

    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.status, GH_AUTH_SUCCESS);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_NTLM);
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    CHECK_STR_EQ(d.record.pub.package_name, "NTLM");
    CHECK_EQ(d.record.pub.flags, 0);
    CHECK(d.record.pub.access_token != NULL);
    CHECK(auth_record_public(&d.record)->packed_context_len == 6);
    CHECK_EQ(d.record.pub.group_count, 1);
    auth_decision_clear(&d);

    /* keep-alive: the next request needs no header and carries the cached flag;
     * it is not a new authentication, so it writes no audit line */
    char audit_path[] = "/tmp/gh-audit-XXXXXX";
    int audit_fd = mkstemp(audit_path);
    struct log *ka_log = NULL;
    struct stat st;
    CHECK(audit_fd >= 0);
    CHECK_EQ(log_create(audit_path, LOG_INFO, &ka_log), GH_OK);
    auth_engine_set_audit_log(engine, ka_log);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(run(cfg, c, (struct req){0}, &d), GH_OK);
        CHECK_EQ(d.status, 0);
        CHECK_EQ(d.record.pub.status, GH_AUTH_SUCCESS);
        CHECK_EQ(d.record.pub.flags, GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED);
        CHECK_STR_EQ(d.record.pub.user_name, "alice");
        CHECK_EQ(d.record.pub.group_count, 1);
        auth_decision_clear(&d);
    }
    CHECK_EQ(fstat(audit_fd, &st), 0);
    CHECK_EQ((long)st.st_size, 0L);
    auth_engine_set_audit_log(engine, audit_log);
    log_destroy(ka_log);
    close(audit_fd);
    unlink(audit_path);

    /* the application answers a fresh 401: the persisted identity is dropped */
    struct auth_request_view none = {.peer = "p", .now_ms = clock_ms, .now = wall};
    CHECK_EQ(auth_engine_challenge(cfg, c, &none, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK(has_header(&d, "WWW-Authenticate", "NTLM"));
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, c, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);

    /* wrong password on a new handshake */
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm3("NTLM", "alice:nope")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_LOGON_DENIED);
    auth_decision_clear(&d);

    /* authenticated but not in group staff: 403 */
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm3("NTLM", "bob:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 403);
    CHECK_EQ(d.record.pub.status, GH_AUTH_SUCCESS);
    auth_decision_clear(&d);

    /* the leg timeout: a second leg too late starts over (and fails) */
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    clock_ms += 31000;
    CHECK_EQ(run(cfg, other, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.record.pub.status, GH_AUTH_FAILURE);
    auth_decision_clear(&d);

    auth_conn_destroy(c);
    auth_conn_destroy(other);
    auth_config_destroy(cfg);
    CHECK_EQ(fake_live_contexts, 0);
}

/* auth_packed_context: on by default (the record carries the exported
 * context), off skips ExportSecurityContext; only on|off are accepted. */
static void
test_packed_context(void)
{
    static const char *const on[] = {"auth Negotiate", "auth_persist_kerberos off"};
    static const char *const off[] = {"auth Negotiate", "auth_persist_kerberos off",
                                      "auth_packed_context off"};
    struct auth_config *cfg_on = make_config(on, 2), *cfg_off = make_config(off, 3);
    struct auth_conn *c = make_conn();
    struct auth_decision d;
    char err[256];
    const char *bad[] = {"maybe"};

    CHECK_EQ(run(cfg_on, c, (struct req){.authorization = fake_krb("Negotiate", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK(auth_record_public(&d.record)->packed_context != NULL);
    CHECK(d.record.pub.packed_context_len == 6);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg_off, c, (struct req){.authorization = fake_krb("Negotiate", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.status, GH_AUTH_SUCCESS);
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    CHECK(auth_record_public(&d.record)->packed_context == NULL);
    CHECK(d.record.pub.packed_context_len == 0);
    CHECK(d.record.pub.access_token != NULL);
    auth_decision_clear(&d);
    CHECK(auth_config_directive(cfg_off, "auth_packed_context", bad, 1, err, sizeof(err)) != GH_OK);
    auth_conn_destroy(c);
    auth_config_destroy(cfg_on);
    auth_config_destroy(cfg_off);
    CHECK_EQ(fake_live_contexts, 0);
}

/* The packed context is exported when the record is first read
 * (auth_record_public, i.e. gh_request_auth), never for a request whose
 * record nobody reads; the context lives until then, whoever drops it first. */
static void
test_packed_context_lazy(void)
{
    static const char *const krb[] = {"auth Negotiate", "auth_persist_kerberos off"};
    static const char *const krb_persist[] = {"auth Negotiate", "auth_persist_kerberos on"};
    static const char *const ntlm[] = {"auth NTLM"};
    static const char *const ntlm_off[] = {"auth NTLM", "auth_packed_context off"};
    struct auth_config *cfg_krb = make_config(krb, 2), *cfg_ntlm = make_config(ntlm, 1);
    struct auth_config *cfg_persist = make_config(krb_persist, 2);
    struct auth_config *cfg_off = make_config(ntlm_off, 2);
    struct auth_conn *c = make_conn();
    struct auth_decision d;
    int exports = fake_export_count;

    /* Kerberos, not persisted: the record holds the only reference. Nobody
     * reads it: no export, and the context goes with the request. */
    CHECK_EQ(run(cfg_krb, c, (struct req){.authorization = fake_krb("Negotiate", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK(d.record.pub.packed_context == NULL);
    CHECK_EQ(fake_live_contexts, 1);
    auth_decision_clear(&d);
    CHECK_EQ(fake_export_count, exports);
    CHECK_EQ(fake_live_contexts, 0);

    /* Read twice: one export; the context is deleted once exported. */
    CHECK_EQ(run(cfg_krb, c, (struct req){.authorization = fake_krb("Negotiate", "alice:pw")}, &d),
             GH_OK);
    const struct gh_auth_record *pub = auth_record_public(&d.record);
    CHECK(pub == &d.record.pub);
    CHECK(pub->packed_context != NULL && pub->packed_context_len == 6);
    CHECK_MEM_EQ(pub->packed_context, "packed", 6);
    CHECK_EQ(fake_live_contexts, 0);
    CHECK(auth_record_public(&d.record)->packed_context == pub->packed_context);
    CHECK_EQ(fake_export_count, exports + 1);
    auth_decision_clear(&d);

    /* Kerberos persisted: the identity stays on the connection, the context
     * does not (it goes with the handshake's request); a later request has
     * no packed context, as before the export was lazy. */
    CHECK_EQ(
        run(cfg_persist, c, (struct req){.authorization = fake_krb("Negotiate", "alice:pw")}, &d),
        GH_OK);
    CHECK_EQ(fake_live_contexts, 1);
    auth_decision_clear(&d);
    CHECK_EQ(fake_export_count, exports + 1);
    CHECK_EQ(fake_live_contexts, 0);
    CHECK_EQ(run(cfg_persist, c, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_STR_EQ(d.record.pub.user_name, "alice");
    CHECK(auth_record_public(&d.record)->packed_context == NULL);
    CHECK_EQ(fake_export_count, exports + 1);
    auth_decision_clear(&d);
    auth_conn_destroy(c);
    CHECK_EQ(fake_live_contexts, 0);

    /* NTLM keep-alive: the handshake's request is not read (no export); the
     * next request's record is, and carries the cached flag and the context. */
    c = make_conn();
    CHECK_EQ(run(cfg_ntlm, c, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg_ntlm, c, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    auth_decision_clear(&d);
    CHECK_EQ(fake_export_count, exports + 1);
    CHECK_EQ(fake_live_contexts, 1); /* persisted on the connection */
    CHECK_EQ(run(cfg_ntlm, c, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.record.pub.flags, GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED);
    CHECK_EQ(auth_record_public(&d.record)->packed_context_len, 6);
    CHECK_EQ(fake_export_count, exports + 2);
    auth_decision_clear(&d);

    /* The application answers 401 (the connection drops the identity) before
     * a later hook reads the record: the record's reference keeps the
     * context alive for the export. */
    CHECK_EQ(run(cfg_ntlm, c, (struct req){0}, &d), GH_OK);
    struct auth_decision ch;
    struct auth_request_view none = {.peer = "p", .now_ms = clock_ms, .now = wall};
    CHECK_EQ(auth_engine_challenge(cfg_ntlm, c, &none, &ch), GH_OK);
    auth_decision_clear(&ch);
    CHECK_EQ(fake_live_contexts, 1);
    CHECK_EQ(auth_record_public(&d.record)->packed_context_len, 6);
    CHECK_EQ(fake_live_contexts, 0);
    auth_decision_clear(&d);

    /* The connection goes while the record still holds the context. */
    CHECK_EQ(run(cfg_ntlm, c, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg_ntlm, c, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d),
             GH_OK);
    auth_conn_destroy(c);
    CHECK_EQ(fake_live_contexts, 1);
    auth_decision_clear(&d);
    CHECK_EQ(fake_live_contexts, 0);

    /* auth_packed_context off: never exported, even when read. */
    int before = fake_export_count;
    c = make_conn();
    CHECK_EQ(run(cfg_off, c, (struct req){.authorization = fake_ntlm1()}, &d), GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg_off, c, (struct req){.authorization = fake_ntlm3("NTLM", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK(auth_record_public(&d.record)->packed_context == NULL);
    auth_decision_clear(&d);
    CHECK_EQ(fake_export_count, before);
    auth_conn_destroy(c);
    CHECK_EQ(fake_live_contexts, 0);
    auth_config_destroy(cfg_krb);
    auth_config_destroy(cfg_ntlm);
    auth_config_destroy(cfg_persist);
    auth_config_destroy(cfg_off);
}

static void
test_negotiate(void)
{
    static const char *const lines[] = {"auth Negotiate NTLM", "auth_persist_kerberos off"};
    struct auth_config *cfg = make_config(lines, 2);
    struct auth_conn *c = make_conn();
    struct auth_decision d;

    /* one leg, with the final token in WWW-Authenticate for the response */
    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_krb("Negotiate", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_NEGOTIATE);
    CHECK_STR_EQ(d.record.pub.package_name, "Kerberos");
    CHECK(has_header(&d, "WWW-Authenticate", "Negotiate TVVUVUFM")); /* base64("MUTUAL") */
    CHECK(d.record.pub.mutual_auth_data == NULL);
    CHECK((fake_last_flags & (ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONNECTION | ASC_REQ_ALLOCATE_MEMORY |
                              ASC_REQ_EXTENDED_ERROR)) ==
          (ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONNECTION | ASC_REQ_ALLOCATE_MEMORY |
           ASC_REQ_EXTENDED_ERROR));
    CHECK((fake_last_flags & ASC_REQ_DELEGATE) == 0);
    auth_decision_clear(&d);

    /* Kerberos not persisted: the next request is challenged again */
    CHECK_EQ(run(cfg, c, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.status, 401);
    auth_decision_clear(&d);

    /* a failed Negotiate is not offered again on this connection (negotiate-once) */
    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_krb("Negotiate", "alice:bad")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_EQ(d.header_count, 1);
    CHECK_STR_EQ(d.headers[0].value, "NTLM");
    auth_decision_clear(&d);
    struct auth_conn *fresh = make_conn();
    CHECK_EQ(run(cfg, fresh, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.header_count, 2); /* another connection still gets both */
    auth_decision_clear(&d);

    /* two-leg SPNEGO, NTLM inside Negotiate persists with the cached flag */
    CHECK_EQ(run(cfg, fresh,
                 (struct req){.authorization = fake_authorization("Negotiate", "\x60start", 6)},
                 &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK(has_header(&d, "WWW-Authenticate", "Negotiate bW9yZQ==")); /* "more" */
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, fresh,
                 (struct req){.authorization = fake_authorization("Negotiate",
                                                                  "\xa1"
                                                                  "bob:pw",
                                                                  7)},
                 &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_STR_EQ(d.record.pub.user_name, "bob");
    auth_decision_clear(&d);
    CHECK_EQ(
        run(cfg, fresh,
            (struct req){.authorization = fake_authorization("Negotiate", "NTLMSSP\0\1\0\0\0", 12)},
            &d),
        GH_OK);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, fresh, (struct req){.authorization = fake_ntlm3("Negotiate", "bob:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_NEGOTIATE);
    auth_decision_clear(&d);
    CHECK_EQ(run(cfg, fresh, (struct req){0}, &d), GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.flags, GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED);
    auth_decision_clear(&d);
    auth_conn_destroy(fresh);
    auth_conn_destroy(c);
    auth_config_destroy(cfg);
}

static void
test_mutual_to_app_and_epa(void)
{
    static const char *const lines[] = {"auth Kerberos", "auth_mutual_to_app on",
                                        "auth_extended_protection require", "auth_delegation on",
                                        "auth_ccache_dir /tmp"};
    struct auth_config *cfg = make_config(lines, 5);
    struct auth_conn *c = make_conn();
    struct auth_decision d;
    char cred[128];

    /* require, but the transport has no binding to offer: failure */
    CHECK_EQ(run(cfg, c, (struct req){.authorization = fake_krb("Kerberos", "alice:pw")}, &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_BAD_BINDINGS);
    auth_decision_clear(&d);
    /* require, TLS, client sent none: the package refuses (no ALLOW_MISSING_BINDINGS) */
    CHECK_EQ(run(cfg, c,
                 (struct req){.authorization = fake_krb("Kerberos", "alice:pw"),
                              .is_tls = true,
                              .with_cb = true},
                 &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK(fake_last_had_bindings);
    CHECK((fake_last_flags & ASC_REQ_ALLOW_MISSING_BINDINGS) == 0);
    CHECK((fake_last_flags & ASC_REQ_DELEGATE) != 0);
    auth_decision_clear(&d);
    /* matching bindings: success, and the mutual token goes to the application */
    snprintf(cred, sizeof(cred), "alice:pw|cb=tls-server-end-point:%.32s", (const char *)cb_hash);
    CHECK_EQ(run(cfg, c,
                 (struct req){
                     .authorization = fake_krb("Kerberos", cred), .is_tls = true, .with_cb = true},
                 &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK_EQ(d.record.pub.type, GH_AUTH_TYPE_KERBEROS);
    CHECK_EQ(d.header_count, 0);
    CHECK_STR_EQ(d.record.pub.mutual_auth_data, "Kerberos TVVUVUFM");
    CHECK_EQ(d.record.pub.mutual_auth_data_len, 17);
    auth_decision_clear(&d);
    /* wrong bindings (a relayed token from another TLS channel): failure */
    snprintf(cred, sizeof(cred), "alice:pw|cb=tls-server-end-point:%.32s",
             "ffffffffffffffffffffffffffffffff");
    CHECK_EQ(run(cfg, c,
                 (struct req){
                     .authorization = fake_krb("Kerberos", cred), .is_tls = true, .with_cb = true},
                 &d),
             GH_OK);
    CHECK_EQ(d.status, 401);
    CHECK_HEX_EQ((uint32_t)d.record.pub.sec_status, (uint32_t)SEC_E_BAD_BINDINGS);
    auth_decision_clear(&d);
    auth_config_destroy(cfg);

    /* allow: a client without bindings passes (ALLOW_MISSING_BINDINGS is requested) */
    static const char *const allow[] = {"auth Kerberos", "auth_extended_protection allow"};
    cfg = make_config(allow, 2);
    CHECK_EQ(run(cfg, c,
                 (struct req){.authorization = fake_krb("Kerberos", "alice:pw"),
                              .is_tls = true,
                              .with_cb = true},
                 &d),
             GH_OK);
    CHECK_EQ(d.status, 0);
    CHECK((fake_last_flags & ASC_REQ_ALLOW_MISSING_BINDINGS) != 0);
    auth_decision_clear(&d);
    auth_config_destroy(cfg);
    auth_conn_destroy(c);
}

static void
test_channel_bindings_layout(void)
{
    struct buf b;
    buf_init(&b, 256);
    CHECK_EQ(handshake_channel_bindings(cb_hash, 32, &b), GH_OK);
    CHECK_EQ(b.len, sizeof(SEC_CHANNEL_BINDINGS) + 21 + 32);
    const SEC_CHANNEL_BINDINGS *h = (const SEC_CHANNEL_BINDINGS *)b.data;
    CHECK_EQ(h->cbApplicationDataLength, 21 + 32);
    CHECK_EQ(h->dwApplicationDataOffset, sizeof(SEC_CHANNEL_BINDINGS));
    CHECK_EQ(h->cbInitiatorLength, 0);
    CHECK_MEM_EQ(b.data + 32, "tls-server-end-point:", 21);
    CHECK_MEM_EQ(b.data + 53, cb_hash, 32);
    buf_free(&b);
    CHECK(handshake_is_initial_token(AUTH_SCHEME_NTLM, SLICE_LIT("NTLMSSP\0\1\0\0\0")));
    CHECK(!handshake_is_initial_token(AUTH_SCHEME_NTLM, SLICE_LIT("NTLMSSP\0\3\0\0\0")));
    CHECK(handshake_is_initial_token(AUTH_SCHEME_NEGOTIATE, SLICE_LIT("\x60\x82")));
    CHECK(!handshake_is_initial_token(AUTH_SCHEME_NEGOTIATE, SLICE_LIT("\xa1\x82")));
}

int
main(void)
{
    struct auth_engine_params p = {.backend = &fake_backend,
                                   .limits = {.fail_threshold = 100, .max_in_progress = 4}};
    CHECK_EQ(log_create("/dev/null", LOG_INFO, &audit_log), GH_OK);
    p.audit_log = audit_log;
    CHECK_EQ(auth_engine_create(&p, &engine), GH_OK);
    test_challenges();
    test_authority_unreachable();
    test_ntlm_keepalive();
    test_negotiate();
    test_packed_context();
    test_packed_context_lazy();
    test_mutual_to_app_and_epa();
    test_channel_bindings_layout();
    auth_engine_destroy(engine);
    log_destroy(audit_log);
    CHECK_EQ(atomic_load(&fake_live_tokens), 0);
    CHECK_EQ(fake_live_contexts, 0);
    return check_done("auth/engine");
}
