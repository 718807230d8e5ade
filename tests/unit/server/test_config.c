// SPDX-License-Identifier: MIT
// config.c: every error names file:line and the reason; good configs give the
// values they say; sizes and durations parse with their units.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "server/server.h"

static const struct {
    const char *name, *text, *want_err; /* want_err NULL: must load */
} cases[] = {
    {"minimal", "listen 127.0.0.1:0;", NULL},
    {"no listen", "worker_threads 1;", "t.conf: no 'listen' directive"},
    {"unknown directive", "listen 127.0.0.1:0;\nfrobnicate 1;",
     "t.conf:2: unknown directive 'frobnicate'"},
    {"bad port", "listen 127.0.0.1:99999;", "t.conf:1: listen: invalid port in '127.0.0.1:99999'"},
    {"not numeric", "listen localhost:80;",
     "t.conf:1: listen: 'localhost' is not a numeric address"},
    {"tls without cert", "listen 127.0.0.1:0;\nlisten 127.0.0.1:0 tls;",
     "t.conf:2: listen ... tls needs a 'tls_certificate'"},
    {"bad listen option", "listen 127.0.0.1:0 ssl;", "t.conf:1: listen: unknown option 'ssl'"},
    {"missing cert file", "listen 127.0.0.1:0;\ntls_certificate /nonexistent.pem /nonexistent.key;",
     "t.conf:2: cannot load certificate chain /nonexistent.pem"},
    {"bad duration", "listen 127.0.0.1:0;\nheader_timeout 10x;",
     "t.conf:2: 'header_timeout': invalid duration '10x'"},
    {"bad size", "listen 127.0.0.1:0;\nmax_body lots;",
     "t.conf:2: 'max_body': invalid value 'lots'"},
    {"session cache size", "listen 127.0.0.1:0;\ntls_session_cache 0;",
     "t.conf:2: 'tls_session_cache': invalid value '0' (expected 1..1000000)"},
    {"session cache word", "listen 127.0.0.1:0;\ntls_session_cache none;",
     "t.conf:2: 'tls_session_cache': invalid value 'none'"},
    {"session cache off", "listen 127.0.0.1:0;\ntls_session_cache off;", NULL},
    {"session cache size ok", "listen 127.0.0.1:0;\ntls_session_cache 100;", NULL},
    {"too many args", "listen 127.0.0.1:0;\nkeepalive_requests 1 2;",
     "t.conf:2: 'keepalive_requests' takes 1 argument"},
    {"handler unknown", "listen 127.0.0.1:0;\nlocation /x {\n  handler nope;\n}",
     "t.conf:3: handler: no module named 'nope'"},
    {"handler outside location", "listen 127.0.0.1:0;\nhandler whoami;",
     "t.conf:2: 'handler' belongs in a location block"},
    {"location prefix", "listen 127.0.0.1:0;\nlocation x { }",
     "t.conf:2: location prefix must start with '/'"},
    {"duplicate location", "listen 127.0.0.1:0;\nlocation /a { }\nlocation /a { }",
     "t.conf:3: location /a is already defined at line 2"},
    {"nested location", "listen 127.0.0.1:0;\nlocation /a {\n location /b { }\n}",
     "t.conf:3: locations do not nest"},
    {"load_module missing", "listen 127.0.0.1:0;\nload_module x /nonexistent.so;",
     "t.conf:2: load_module x: cannot load"},
    {"bad level", "listen 127.0.0.1:0;\nerror_log - loud;",
     "t.conf:2: error_log: unknown level 'loud'"},
    {"bad protocol", "listen 127.0.0.1:0;\ntls_protocols SSLv3;",
     "t.conf:2: tls_protocols: unknown protocol 'SSLv3'"},
    {"duplicate listen", "listen 127.0.0.1:8080;\nlisten 127.0.0.1:8080;",
     "t.conf:2: listen: 127.0.0.1:8080 is already listed"},
    {"syntax error from the parser", "listen 127.0.0.1:0", "t.conf:1"},
    {"client certificate mode",
     "listen 127.0.0.1:0;\nlocation /a { tls_client_certificate maybe; }",
     "t.conf:2: tls_client_certificate: expected ignore, negotiate or require, not 'maybe'"},
    {"no-PHA redirect needs https",
     "listen 127.0.0.1:0;\ntls_client_certificate_no_pha redirect "
     "http://x;",
     "t.conf:2: tls_client_certificate_no_pha: the URL must start with https://"},
    {"no-PHA bad word", "listen 127.0.0.1:0;\ntls_client_certificate_no_pha allow;",
     "t.conf:2: tls_client_certificate_no_pha: expected 'reject' or 'redirect URL'"},
    {"verify mode", "listen 127.0.0.1:0;\ntls_client_verify maybe;",
     "t.conf:2: tls_client_verify: expected on or optional_no_ca"},
    {"verify depth", "listen 127.0.0.1:0;\ntls_client_verify_depth 99;", "t.conf:2:"},
    {"listen option", "listen 127.0.0.1:0 tls client_certs;",
     "t.conf:1: listen: unknown option 'client_certs' (expected client_cert)"},
    {"zero timeout", "listen 127.0.0.1:0;\ntls_client_certificate_timeout 0;",
     "t.conf:2: 'tls_client_certificate_timeout': invalid duration '0'"},
    /* The directive tables: context, arity and block checks name the directive. */
    {"server-only directive in a location", "listen 127.0.0.1:0;\nlocation /a { listen 1; }",
     "t.conf:2: 'listen' is not allowed in a location"},
    {"server-level auth setting in a location",
     "listen 127.0.0.1:0;\nlocation /a {\n auth_backoff_max 1s;\n}",
     "t.conf:3: 'auth_backoff_max' is not allowed in a location"},
    {"block on a simple directive", "listen 127.0.0.1:0;\nmax_body 1 { }",
     "t.conf:2: 'max_body' takes no block"},
    {"module directive arity", "listen 127.0.0.1:0;\nproxy_pass http://a http://b;",
     "t.conf:2: 'proxy_pass' takes 1 argument"},
    {"module directive arity in a location", "listen 127.0.0.1:0;\nlocation /a { static_index; }",
     "t.conf:2: 'static_index' takes 1 argument"},
    {"module directive value", "listen 127.0.0.1:0;\nstatic_root relative/dir;",
     "t.conf:2: static_root needs one absolute directory path"},
    {"unknown directive in a location", "listen 127.0.0.1:0;\nlocation /a {\n frob 1;\n}",
     "t.conf:3: unknown directive 'frob'"},
    {"auth directive arity", "listen 127.0.0.1:0;\nauth_realm a b;\nauth Basic;",
     "t.conf:2: 'auth_realm' takes 1 argument"},
    {"unknown auth directive", "listen 127.0.0.1:0;\nlocation /a {\n auth_frob on;\n}",
     "t.conf:3: unknown directive auth_frob"},
    /* host blocks */
    {"host without names", "listen 127.0.0.1:0;\nhost { location / { } }",
     "t.conf:2: 'host' takes 1 to 32 host names and a block of locations"},
    {"host bad name", "listen 127.0.0.1:0;\nhost a..b { }",
     "t.conf:2: host: 'a..b' is not a host name"},
    {"host bad wildcard", "listen 127.0.0.1:0;\nhost *example.org { }",
     "t.conf:2: host: '*example.org' is not a host name"},
    {"host named twice", "listen 127.0.0.1:0;\nhost a.org { }\nhost b.org A.org { }",
     "t.conf:3: host A.org is already named at line 2"},
    {"host holds only locations", "listen 127.0.0.1:0;\nhost a.org {\n max_body 1;\n}",
     "t.conf:3: 'max_body' cannot appear in a host block"},
    {"host duplicate location",
     "listen 127.0.0.1:0;\nhost a.org {\n location /x { }\n"
     " location /x { }\n}",
     "t.conf:4: location /x is already defined at line 3"},
    {"same prefix in a host and at the main level",
     "listen 127.0.0.1:0;\nlocation /x { }\nhost a.org { location /x { } }", NULL},
    {"module directives at server level",
     "listen 127.0.0.1:0;\nproxy_keepalive 4;\n"
     "static_index home.html;\nreturn 204;",
     NULL},
};

static void
test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config *cfg = NULL;
        char err[512] = "";
        int rc = config_load_text("t.conf", cases[i].text, strlen(cases[i].text), &cfg, err,
                                  sizeof(err));
        if (cases[i].want_err == NULL) {
            if (rc != GH_OK)
                fprintf(stderr, "case '%s': %s\n", cases[i].name, err);
            CHECK_EQ(rc, GH_OK);
            CHECK(cfg != NULL);
        } else {
            if (strncmp(err, cases[i].want_err, strlen(cases[i].want_err)) != 0)
                fprintf(stderr, "case '%s': got \"%s\"\n  want \"%s...\"\n", cases[i].name, err,
                        cases[i].want_err);
            CHECK(rc < 0);
            CHECK(cfg == NULL);
            CHECK(strncmp(err, cases[i].want_err, strlen(cases[i].want_err)) == 0);
        }
        config_unref(cfg);
    }
}

static void
test_values(void)
{
    const char *text = "worker_threads 3;\nlisten 127.0.0.1:0;\nmax_body 2m;\n"
                       "header_timeout 250ms;\nkeepalive_timeout 2m;\nmax_headers 50;\n"
                       "location /api/ { handler whoami; }\nlocation /api/v2/ { }\n";
    struct config *cfg = NULL;
    char err[512] = "";

    CHECK_EQ(config_load_text("v.conf", text, strlen(text), &cfg, err, sizeof(err)), GH_OK);
    if (cfg == NULL)
        return;
    CHECK_EQ(cfg->worker_count, 3);
    CHECK_EQ(cfg->max_body_bytes, 2 * 1024 * 1024);
    CHECK_EQ(cfg->header_timeout_ms, 250);
    CHECK_EQ(cfg->keepalive_timeout_ms, 120000);
    CHECK_EQ(cfg->limits.max_header_count, 50);
    /* Longest prefix wins; "/" is implicit. */
    CHECK_STR_EQ(config_location_match(cfg, NULL, 0, "/api/v2/x", 9)->prefix, "/api/v2/");
    CHECK_STR_EQ(config_location_match(cfg, NULL, 0, "/api/x", 6)->prefix, "/api/");
    CHECK_STR_EQ(config_location_match(cfg, NULL, 0, "/other", 6)->prefix, "/");
    CHECK(config_location_match(cfg, NULL, 0, "/api/x", 6)->handler >= 0);
    CHECK_EQ(config_location_match(cfg, NULL, 0, "/other", 6)->handler, -1);
    config_unref(cfg);
}

static void
test_hosts(void)
{
    const char *text = "listen 127.0.0.1:0;\nreturn 200 main;\n"
                       "location /api/ { handler whoami; }\n"
                       "host www.example.org example.org {\n location / { handler return; }\n"
                       " location /app/ { handler whoami; }\n}\n"
                       "host *.example.org { location /api/ { handler return; } }\n"
                       "host *.dev.example.org { location /d/ { } }\n";
    struct config *cfg = NULL;
    char err[512] = "";
    struct {
        const char *host; /* NULL: no Host */
        const char *path;
        const char *prefix;
        int host_index; /* config_location.host */
    } want[] = {
        {"www.example.org", "/app/x", "/app/", 0},
        {"WWW.Example.ORG:8443", "/app/x", "/app/", 0}, /* case and port ignored */
        {"www.example.org.", "/x", "/", 0},             /* the root's dot */
        {"example.org", "/api/x", "/", 0},              /* no fallback to the main level */
        {"api.example.org", "/api/v", "/api/", 1},      /* wildcard */
        {"a.b.example.org", "/api/v", "/api/", 1},      /* any depth */
        {"x.dev.example.org", "/d/1", "/d/", 2},        /* the longest wildcard */
        {"x.dev.example.org", "/api/", "/", 2},         /* its implicit "/" (404) */
        {"xexample.org", "/api/x", "/api/", -1},        /* not below example.org */
        {"other.test", "/api/x", "/api/", -1},
        {"[::1]:80", "/api/x", "/api/", -1},
        {NULL, "/other", "/", -1},
    };

    CHECK_EQ(config_load_text("h.conf", text, strlen(text), &cfg, err, sizeof(err)), GH_OK);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ(cfg->host_count, 3);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct config_location *loc =
            config_location_match(cfg, want[i].host, want[i].host ? strlen(want[i].host) : 0,
                                  want[i].path, strlen(want[i].path));
        if (strcmp(loc->prefix, want[i].prefix) != 0 || loc->host != want[i].host_index)
            fprintf(stderr, "host %s path %s: got %s in host %d\n",
                    want[i].host ? want[i].host : "(none)", want[i].path, loc->prefix, loc->host);
        CHECK_STR_EQ(loc->prefix, want[i].prefix);
        CHECK_EQ(loc->host, want[i].host_index);
    }
    /* A host's implicit "/" answers 404 (no handler); its own "/" has one. */
    CHECK_EQ(config_location_match(cfg, "x.dev.example.org", 17, "/", 1)->handler, -1);
    CHECK(config_location_match(cfg, "example.org", 11, "/", 1)->handler >= 0);
    config_unref(cfg);
}

static void
test_client_cert_values(void)
{
    const char *text = "listen 127.0.0.1:0;\ntls_client_certificate negotiate;\n"
                       "tls_client_certificate_no_pha redirect https://h:1;\n"
                       "tls_client_verify optional_no_ca;\ntls_client_certificate_timeout 5s;\n"
                       "tls_client_certificate_buffer 1m;\n"
                       "location /r/ { tls_client_certificate require;\n"
                       "  tls_client_certificate_no_pha reject; }\nlocation /i/ { }\n";
    struct config *cfg = NULL;
    char err[512] = "";

    CHECK_EQ(config_load_text("c.conf", text, strlen(text), &cfg, err, sizeof(err)), GH_OK);
    if (cfg == NULL)
        return;
    CHECK(cfg->client_verify_optional);
    CHECK_EQ(cfg->client_cert_timeout_ms, 5000);
    CHECK_EQ(cfg->client_cert_buffer, 1024 * 1024);
    const struct config_location *r = config_location_match(cfg, NULL, 0, "/r/x", 4);
    const struct config_location *i = config_location_match(cfg, NULL, 0, "/i/x", 4);
    CHECK_EQ(r->client_cert_mode, CLIENT_CERT_REQUIRE);
    CHECK(r->no_pha_redirect == NULL);
    CHECK_EQ(i->client_cert_mode, CLIENT_CERT_NEGOTIATE); /* inherited */
    CHECK_STR_EQ(i->no_pha_redirect, "https://h:1");
    config_unref(cfg);
}

static void
test_units(void)
{
    uint64_t b = 0;
    uint32_t ms = 0;

    CHECK_EQ(config_parse_size("16k", &b), GH_OK);
    CHECK_EQ(b, 16384);
    CHECK_EQ(config_parse_size("1G", &b), GH_OK);
    CHECK_EQ(b, 1024ull * 1024 * 1024);
    CHECK_EQ(config_parse_size("", &b), GH_EINVAL);
    CHECK_EQ(config_parse_size("1kk", &b), GH_EINVAL);
    CHECK_EQ(config_parse_size("99999999999999999999", &b), GH_EINVAL);
    CHECK_EQ(config_parse_duration("10", &ms), GH_OK);
    CHECK_EQ(ms, 10000);
    CHECK_EQ(config_parse_duration("1h", &ms), GH_OK);
    CHECK_EQ(ms, 3600000);
    CHECK_EQ(config_parse_duration("5000h", &ms), GH_EINVAL); /* overflows 32-bit ms */
    CHECK_EQ(config_parse_duration("-1s", &ms), GH_EINVAL);
}

/* --list-directives: six TAB-separated fields per line, every name once, and
 * every row of every table listed (core, auth, each built-in module). */
static void
test_directive_list(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    static const char *const expected[] = {"listen",
                                           "location",
                                           "handler",
                                           "tls_client_ca",
                                           "tls_session_cache",
                                           "auth",
                                           "auth_cert_map",
                                           "auth_audit_log",
                                           "proxy_pass",
                                           "proxy_delegated_credentials",
                                           "static_root",
                                           "return"};
    char names[256][64];
    size_t count = 0;

    CHECK(out != NULL);
    if (out == NULL)
        return;
    config_directives_print(out, NULL);
    fclose(out);
    CHECK(strncmp(text, "# gatehouse directives 1\n", 25) == 0);
    for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '#')
            continue;
        size_t tabs = 0;
        for (const char *p = line; *p != '\0'; p++)
            tabs += *p == '\t';
        CHECK_EQ(tabs, 5);
        size_t name_len = strcspn(line, "\t");
        CHECK(name_len > 0 && name_len < sizeof(names[0]));
        CHECK(count < sizeof(names) / sizeof(names[0]));
        if (name_len == 0 || name_len >= sizeof(names[0]) || count >= 256)
            break;
        memcpy(names[count], line, name_len);
        names[count][name_len] = '\0';
        for (size_t i = 0; i < count; i++) {
            if (strcmp(names[i], names[count]) == 0)
                fprintf(stderr, "directive %s listed twice\n", names[i]);
            CHECK(strcmp(names[i], names[count]) != 0);
        }
        const char *ctx = line + name_len + 1;
        CHECK(strncmp(ctx, "main\t", 5) == 0 || strncmp(ctx, "location\t", 9) == 0 ||
              strncmp(ctx, "main,location\t", 14) == 0);
        count++;
    }
    for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++) {
        bool found = false;
        for (size_t i = 0; i < count; i++)
            found |= strcmp(names[i], expected[e]) == 0;
        if (!found)
            fprintf(stderr, "directive %s not listed\n", expected[e]);
        CHECK(found);
    }
    free(text);
}

int
main(void)
{
    test_directive_list();
    test_client_cert_values();
    test_cases();
    test_values();
    test_hosts();
    test_units();
    return check_done("test_config");
}
