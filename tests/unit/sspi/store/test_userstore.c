// SPDX-License-Identifier: MIT
// The built-in user store (src/sspi/store/userstore.c): the NT hash and Digest
// HA1 against published vectors (tests/vectors/userstore/), Basic verification,
// atomic rewrites, permission checks, and malformed files with line numbers.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <gatehouse/error.h>

#include "harness/check.h"
#include "sspi/md4.h"
#include "sspi/store/userstore.h"
#include "sspi/wide.h"

#define FAST_ITERATIONS 1000 /* the minimum: keeps the tests quick */

static char dir[64];
static char path[128];

/* Reads key=value from a vector file; returns a static copy or NULL. */
static const char *
vector(const char *file, const char *key)
{
    static char values[64][256];
    static int next;
    const char *base = getenv("GH_VECTORS");
    char full[512], line[512];
    size_t klen = strlen(key);
    FILE *f;

    snprintf(full, sizeof(full), "%s/userstore/%s", base != NULL ? base : "tests/vectors", file);
    f = fopen(full, "r");
    if (f == NULL)
        return NULL;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            char *v = values[next++ % 64];

            snprintf(v, 256, "%s", line + klen + 1);
            v[strcspn(v, "\n")] = '\0';
            fclose(f);
            return v;
        }
    }
    fclose(f);
    return NULL;
}

static void
hex(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void
digest_hex(const char *alg, const char *text, char *out)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    EVP_Digest(text, strlen(text), md, &len, EVP_get_digestbyname(alg), NULL);
    hex(md, len, out);
}

static int
put(const char *user, const char *password, const char *realm, const char *group)
{
    const char *realms[1] = {realm}, *groups[1] = {group};
    struct userstore_user u = {.name = user,
                               .password = password,
                               .password_len = strlen(password),
                               .realms = realms,
                               .realm_count = realm != NULL,
                               .groups = groups,
                               .group_count = group != NULL,
                               .iterations = FAST_ITERATIONS};
    char err[256];
    int status = userstore_file_put(path, &u, err, sizeof(err));

    if (status != GH_OK)
        fprintf(stderr, "put %s: %s\n", user, err);
    return status;
}

static struct userstore *
open_store(void)
{
    struct userstore *store = NULL;
    char err[256];

    if (userstore_open(path, &store, err, sizeof(err)) != GH_OK)
        fprintf(stderr, "open: %s\n", err);
    return store;
}

static void
test_nt_vector(void)
{
    const char *password = vector("ntowfv1.txt", "password"),
               *want = vector("ntowfv1.txt", "nt_hash");
    uint8_t nt[16];
    char got[33];
    struct buf le;
    struct userstore *store;

    CHECK(password != NULL && want != NULL);
    if (password == NULL || want == NULL)
        return;
    buf_init(&le, 256);
    CHECK_EQ(wide_utf8_to_utf16le(password, strlen(password), &le), GH_OK);
    CHECK_EQ(sspi_md4(le.data, le.len, nt), GH_OK);
    buf_free(&le);
    hex(nt, 16, got);
    CHECK_STR_EQ(got, want);

    CHECK_EQ(put("User", password, NULL, NULL), GH_OK);
    store = open_store();
    CHECK(store != NULL);
    memset(nt, 0, sizeof(nt));
    CHECK_EQ(userstore_nt_hash(store, "user", nt), GH_OK); /* case-insensitive */
    hex(nt, 16, got);
    CHECK_STR_EQ(got, want);
    CHECK_EQ(userstore_nt_hash(store, "nobody", nt), GH_ENOTFOUND);
    userstore_destroy(store);
}

static void
test_digest_vector(void)
{
    const char *f = "digest-rfc7616.txt";
    const char *user = vector(f, "username"), *realm = vector(f, "realm"),
               *password = vector(f, "password");
    static const char *const algs[2][3] = {{"MD5", "md5", "response_md5"},
                                           {"SHA-256", "sha256", "response_sha256"}};
    struct userstore *store;

    CHECK(user != NULL && realm != NULL && password != NULL);
    if (user == NULL || realm == NULL || password == NULL)
        return;
    CHECK_EQ(put(user, password, realm, "lions"), GH_OK);
    store = open_store();
    CHECK(store != NULL);
    for (int i = 0; i < 2 && store != NULL; i++) {
        char ha1[65], ha2[65], text[512], response[65];

        CHECK_EQ(userstore_digest_ha1(store, "mufasa", realm, algs[i][0], ha1), GH_OK);
        snprintf(text, sizeof(text), "%s:%s", vector(f, "method"), vector(f, "uri"));
        digest_hex(algs[i][1], text, ha2);
        /* RFC 7616 3.4.1: KD(HA1, nonce:nc:cnonce:qop:HA2) */
        snprintf(text, sizeof(text), "%s:%s:%s:%s:%s:%s", ha1, vector(f, "nonce"), vector(f, "nc"),
                 vector(f, "cnonce"), vector(f, "qop"), ha2);
        digest_hex(algs[i][1], text, response);
        CHECK_STR_EQ(response, vector(f, algs[i][2]));
    }
    if (store != NULL) {
        char ha1[65];
        const char *const *groups = NULL;
        size_t count = 0;

        CHECK_EQ(userstore_digest_ha1(store, user, "other realm", "MD5", ha1), GH_ENOTFOUND);
        CHECK_EQ(userstore_digest_ha1(store, user, realm, "SHA-512-256", ha1), GH_ENOTFOUND);
        CHECK_EQ(userstore_groups(store, "MUFASA", &groups, &count), GH_OK);
        CHECK_EQ(count, 1);
        CHECK_STR_EQ(groups[0], "lions");
        CHECK_STR_EQ(userstore_canonical_name(store, "MUFASA"), "Mufasa");
    }
    userstore_destroy(store);
}

static void
test_basic_and_rewrite(void)
{
    struct userstore *store;
    struct buf line;
    char err[256];
    FILE *f;

    CHECK_EQ(put("alice", "correct horse", "r1", "staff"), GH_OK);
    store = open_store();
    CHECK_EQ(userstore_verify_password(store, "alice", "correct horse", 13), GH_OK);
    CHECK_EQ(userstore_verify_password(store, "ALICE", "correct horse", 13), GH_OK);
    CHECK_EQ(userstore_verify_password(store, "alice", "correct horsf", 13), GH_EAUTH);
    CHECK_EQ(userstore_verify_password(store, "alice", "correct hors", 12), GH_EAUTH);
    CHECK_EQ(userstore_verify_password(store, "carol", "x", 1), GH_ENOTFOUND);
    CHECK_EQ(userstore_count(store), 3); /* User, Mufasa, alice */
    userstore_destroy(store);

    /* Replacing keeps one entry; the old password stops working. */
    CHECK_EQ(put("Alice", "battery staple", NULL, NULL), GH_OK);
    store = open_store();
    CHECK_EQ(userstore_count(store), 3);
    CHECK_EQ(userstore_verify_password(store, "alice", "correct horse", 13), GH_EAUTH);
    CHECK_EQ(userstore_verify_password(store, "alice", "battery staple", 14), GH_OK);
    buf_init(&line, 1024);
    for (size_t i = 0; i < userstore_count(store); i++) {
        CHECK_EQ(userstore_describe(store, i, &line), GH_OK);
        buf_append(&line, "\n", 1);
    }
    buf_append(&line, "", 1);
    CHECK(strstr((char *)line.data, "Alice: basic ntlm\n") != NULL);
    CHECK(strstr((char *)line.data,
                 "Mufasa: basic ntlm groups=lions "
                 "digest=MD5@http-auth@example.org,SHA-256@http-auth@example.org") != NULL);
    buf_free(&line);
    userstore_destroy(store);

    /* Comments survive a rewrite; removal works once. */
    f = fopen(path, "a");
    fputs("# kept comment\n", f);
    fclose(f);
    CHECK_EQ(userstore_file_remove(path, "ALICE", err, sizeof(err)), GH_OK);
    CHECK_EQ(userstore_file_remove(path, "alice", err, sizeof(err)), GH_ENOTFOUND);
    CHECK(strstr(err, "no user") != NULL);
    store = open_store();
    CHECK_EQ(userstore_count(store), 2);
    userstore_destroy(store);
    {
        char content[4096] = "";
        struct stat st;

        f = fopen(path, "r");
        CHECK(fread(content, 1, sizeof(content) - 1, f) > 0);
        fclose(f);
        CHECK(strstr(content, "# kept comment\n") != NULL);
        CHECK(strstr(content, "# gatehouse user store") == content);
        CHECK(strstr(content, "Circle") == NULL); /* never the password itself */
        CHECK_EQ(stat(path, &st), 0);
        CHECK_EQ(st.st_mode & 0777, 0600);
    }

    /* Invalid input to the writer. */
    CHECK_EQ(put("", "pw", NULL, NULL), GH_EINVAL);
    CHECK_EQ(put("bad\xff", "pw", NULL, NULL), GH_EINVAL);
    CHECK_EQ(put("ok", "\xc0\xaf", NULL, NULL), GH_EINVAL);
}

static void
test_permissions(void)
{
    struct userstore *store = NULL;
    char err[256];

    CHECK_EQ(chmod(path, 0644), 0);
    CHECK_EQ(userstore_open(path, &store, err, sizeof(err)), GH_EDENIED);
    CHECK(store == NULL);
    CHECK(strstr(err, "mode 644") != NULL);
    CHECK_EQ(put("bob", "pw", NULL, NULL), GH_EDENIED); /* the writer refuses too */
    CHECK_EQ(chmod(path, 0640), 0);
    CHECK_EQ(userstore_open(path, &store, err, sizeof(err)), GH_EDENIED);
    CHECK_EQ(chmod(path, 0600), 0);
    CHECK_EQ(userstore_open(path, &store, err, sizeof(err)), GH_OK);
    userstore_destroy(store);
    CHECK_EQ(userstore_open("/nonexistent/users", &store, err, sizeof(err)), GH_EIO);
}

static void
test_malformed(void)
{
    static const char salt[] = "00112233445566778899aabbccddeeff";
    static const char hash[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char good[256], text[1024];
    static const struct {
        const char *content; /* %s = a valid basic field */
        int want;
        const char *where;
    } cases[] = {
        {"a:%s:::\n", GH_OK, NULL},
        {"# comment\n\n  \na:%s:::\r\n", GH_OK, NULL},
        {"a:%s::\n", GH_EPROTO, "t:1:"},
        {"a:%s:::x:\n", GH_EPROTO, "t:1:"},
        {"# c\nb:%s:::\n:%s:::\n", GH_EPROTO, "t:3:"},
        {"a:%s:zz:\n", GH_EPROTO, "t:1:"},
        {"a:%s:0123:::\n", GH_EPROTO, "t:1:"},
        {"\n\na:%s:a4f49c406510bdcab6824ee7c30fd85:::\n", GH_EPROTO, "t:3:"},
        {"a:pbkdf2-sha256$999$00112233445566778899aabbccddeeff$00::::\n", GH_EPROTO, "t:1:"},
        {"a:md5$1000$00$00::::\n", GH_EPROTO, "t:1:"},
        {"a:%s:::md5/r/abc\n", GH_EPROTO, "t:1:"},
        {"a:%s:::sha1/r/00112233445566778899aabbccddeeff\n", GH_EPROTO, "t:1:"},
        {"a:%s:::md5/r/00112233445566778899aabbccddeeff,md5/r/00112233445566778899aabbccddeeff\n",
         GH_EPROTO, "t:1:"},
        {"a:%s::g,,h:\n", GH_EPROTO, "t:1:"},
        {"a%%zz:%s:::\n", GH_EPROTO, "t:1:"},
        {"a%%:%s:::\n", GH_EPROTO, "t:1:"},
        {"a b:%s:::\n", GH_EPROTO, "t:1:"},
        {" a:%s:::\n", GH_EPROTO, "t:1:"},
        {"a:%s:::\nA:%s:::\n", GH_EPROTO, "t:2: duplicate user"},
        {"a%%C3%%28:%s:::\n", GH_EPROTO, "t:1:"},
        {"a%%3Ab:%s::g%%2Ch:md5/r%%2Fx/00112233445566778899aabbccddeeff\n", GH_OK, NULL},
    };

    snprintf(good, sizeof(good), "pbkdf2-sha256$1000$%s$%s", salt, hash);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct userstore *store = NULL;
        char err[256] = "";
        int status;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof(text), cases[i].content, good, good);
#pragma GCC diagnostic pop
        status = userstore_parse(text, strlen(text), "t", &store, err, sizeof(err));
        if (status != cases[i].want ||
            (cases[i].where != NULL && strncmp(err, cases[i].where, strlen(cases[i].where)) != 0)) {
            fprintf(stderr, "case %zu: status %d, err \"%s\"\n", i, status, err);
            CHECK(false);
        }
        if (status == GH_OK && i == sizeof(cases) / sizeof(cases[0]) - 1) {
            char ha1[65];
            const char *const *groups;
            size_t count;

            CHECK_STR_EQ(userstore_canonical_name(store, "A:B"), "a:b");
            CHECK_EQ(userstore_digest_ha1(store, "a:b", "r/x", "MD5", ha1), GH_OK);
            CHECK_EQ(userstore_groups(store, "a:b", &groups, &count), GH_OK);
            CHECK_STR_EQ(groups[0], "g,h");
        }
        userstore_destroy(store);
    }
}

int
main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/gh-userstore-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/users", dir);
    test_nt_vector();
    test_digest_vector();
    test_basic_and_rewrite();
    test_permissions();
    test_malformed();
    unlink(path);
    {
        char lock[160];

        snprintf(lock, sizeof(lock), "%s.lock", path);
        unlink(lock);
    }
    rmdir(dir);
    return check_done("test_userstore");
}
