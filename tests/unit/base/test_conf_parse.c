// SPDX-License-Identifier: MIT
// Unit tests for src/base/conf_parse.c: the tree built from valid text, the
// exact "file:line: reason" of every syntax error, and each limit at its edge.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/conf_parse.h"
#include "harness/check.h"

/* Writes the tree compactly: name@line, each argument in [], children in {}. */
static void
dump_node(const struct conf_node *n, char *out, size_t cap, size_t *len)
{
    *len += (size_t)snprintf(out + *len, cap - *len, "%s@%u", n->name, n->line);
    for (size_t i = 0; i < n->arg_count && *len < cap; i++)
        *len += (size_t)snprintf(out + *len, cap - *len, "[%s]", n->args[i]);
    if (!n->is_block || *len >= cap)
        return;
    *len += (size_t)snprintf(out + *len, cap - *len, "{");
    for (size_t i = 0; i < n->child_count && *len < cap; i++) {
        if (i > 0)
            *len += (size_t)snprintf(out + *len, cap - *len, " ");
        if (*len < cap)
            dump_node(&n->children[i], out, cap, len);
    }
    if (*len < cap)
        *len += (size_t)snprintf(out + *len, cap - *len, "}");
}

static const char *
dump_doc(const struct conf_doc *doc)
{
    static char out[8192];
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < doc->root.child_count && len < sizeof(out); i++) {
        if (i > 0)
            len += (size_t)snprintf(out + len, sizeof(out) - len, " ");
        if (len < sizeof(out))
            dump_node(&doc->root.children[i], out, sizeof(out), &len);
    }
    return out;
}

static const struct {
    const char *rule, *input, *want;
} valid[] = {
    {"empty file", "", ""},
    {"only comments and blanks", "# a\n\n  # b\r\n\t\n", ""},
    {"simple directive", "listen 80;", "listen@1[80]"},
    {"no arguments", "keepalive;", "keepalive@1"},
    {"CRLF line ends", "a 1;\r\nb 2;\r\n", "a@1[1] b@2[2]"},
    {"spaces before ';'", "listen 127.0.0.1:8080   ;", "listen@1[127.0.0.1:8080]"},
    {"empty block", "server { }", "server@1{}"},
    {"block with arguments", "location /api {\n  auth negotiate ntlm;\n}\n",
     "location@1[/api]{auth@2[negotiate][ntlm]}"},
    {"nested blocks keep lines",
     "server {\n  listen 443;\n  tls {\n    cert /etc/gh/c.pem;\n  }\n  location / {\n    auth "
     "basic;\n  }\n}\n",
     "server@1{listen@2[443] tls@3{cert@4[/etc/gh/c.pem]} location@6[/]{auth@7[basic]}}"},
    {"no blanks around braces", "a{b;c{d;}}e;", "a@1{b@1 c@1{d@1}} e@1"},
    {"comment after directive", "listen 80; # http\nlisten 443;", "listen@1[80] listen@2[443]"},
    {"'#' inside a word is not a comment", "root /srv/a#b;", "root@1[/srv/a#b]"},
    {"directive across lines, line of the name", "auth\n  ntlm\n  basic;", "auth@1[ntlm][basic]"},
    {"double quotes keep spaces", "realm \"Gate House\";", "realm@1[Gate House]"},
    {"escapes in double quotes", "x \"a\\\"b\\\\c\\nd\\te\";", "x@1[a\"b\\c\nd\te]"},
    {"single quotes are literal", "x 'a\\nb\"c';", "x@1[a\\nb\"c]"},
    {"empty strings are arguments", "x \"\" '';", "x@1[][]"},
    {"string next to ';' and braces", "x \"a\";y 'b'{z;}", "x@1[a] y@1[b]{z@1}"},
    {"string spanning lines counts them", "x \"a\nb\";\ny;", "x@1[a\nb] y@3"},
    {"quoted ';' and braces are plain text", "x \"; { }\";", "x@1[; { }]"},
    {"UTF-8 in words and strings", "realm \xc3\xa9t\xc3\xa9 \"\xe2\x82\xac\xf0\x9f\x94\x92\";",
     "realm@1[\xc3\xa9t\xc3\xa9][\xe2\x82\xac\xf0\x9f\x94\x92]"},
    {"byte order mark skipped", "\xef\xbb\xbflisten 80;", "listen@1[80]"},
    {"comment at end of file without newline", "a;\n# end", "a@1"},
};

static const struct {
    const char *rule, *input;
    int want_err;
    const char *want_msg;
} invalid[] = {
    {"unterminated double quote", "a;\nrealm \"abc;\n", GH_EPROTO,
     "gatehouse.conf:2: unterminated string"},
    {"unterminated single quote", "\n\nx 'abc", GH_EPROTO, "gatehouse.conf:3: unterminated string"},
    {"backslash at end of input", "x \"abc\\", GH_EPROTO, "gatehouse.conf:1: unterminated string"},
    {"unknown escape", "a;\nx \"\\d\";", GH_EPROTO,
     "gatehouse.conf:2: invalid escape '\\d' in string"},
    {"escaped newline is not an escape", "x \"a\\\nb\";", GH_EPROTO,
     "gatehouse.conf:1: invalid escape in string"},
    {"stray '}'", "a;\nb;\n}\n", GH_EPROTO, "gatehouse.conf:3: unexpected '}'"},
    {"'}' after a closed block", "s {\n}\n}", GH_EPROTO, "gatehouse.conf:3: unexpected '}'"},
    {"stray ';'", "a;;", GH_EPROTO, "gatehouse.conf:1: unexpected ';'"},
    {"';' after '}'", "s {\n a;\n};", GH_EPROTO, "gatehouse.conf:3: unexpected ';'"},
    {"'{' without a name", "\n{ a; }", GH_EPROTO, "gatehouse.conf:2: unexpected '{'"},
    {"missing ';' before '}'", "server {\n  a;\n\n\n\n\n  listen 80\n}\n", GH_EPROTO,
     "gatehouse.conf:7: missing ';' after directive 'listen'"},
    {"missing ';' names the last argument's line", "s {\n auth ntlm\n basic\n}", GH_EPROTO,
     "gatehouse.conf:3: missing ';' after directive 'auth'"},
    {"missing ';' at end of file", "a;\nlisten 80", GH_EPROTO,
     "gatehouse.conf:2: missing ';' after directive 'listen' at end of file"},
    {"block not closed", "server {\n  listen 80;\n\n  location / {\n    auth basic;\n", GH_EPROTO,
     "gatehouse.conf:6: unexpected end of file: block 'location' opened at line 4 is not closed"},
    {"quoted directive name", "\"listen\" 80;", GH_EPROTO,
     "gatehouse.conf:1: expected a directive name, found a quoted string"},
    {"quote inside a word", "x ab\"c\";", GH_EPROTO, "gatehouse.conf:1: quote inside a bare word"},
    {"text glued to a string", "x\n'a'b;", GH_EPROTO,
     "gatehouse.conf:2: expected whitespace, ';', '{' or '}' after quoted string"},
    {"comment glued to a string", "x \"a\"# c\n;", GH_EPROTO,
     "gatehouse.conf:1: expected whitespace, ';', '{' or '}' after quoted string"},
    {"control character", "a;\nb \x01;", GH_EPROTO, "gatehouse.conf:2: control character 0x01"},
    {"DEL", "a\x7f;", GH_EPROTO, "gatehouse.conf:1: control character 0x7F"},
    {"control character in a comment", "# \x1b[0m\n", GH_EPROTO,
     "gatehouse.conf:1: control character 0x1B"},
    {"invalid UTF-8: lone continuation", "a;\n\nb \x80;", GH_EPROTO,
     "gatehouse.conf:3: invalid UTF-8"},
    {"invalid UTF-8: overlong '/'", "b \xc0\xaf;", GH_EPROTO, "gatehouse.conf:1: invalid UTF-8"},
    {"invalid UTF-8: overlong 3 bytes", "b \xe0\x80\xaf;", GH_EPROTO,
     "gatehouse.conf:1: invalid UTF-8"},
    {"invalid UTF-8: surrogate", "b \xed\xa0\x80;", GH_EPROTO, "gatehouse.conf:1: invalid UTF-8"},
    {"invalid UTF-8: above U+10FFFF", "b \xf4\x90\x80\x80;", GH_EPROTO,
     "gatehouse.conf:1: invalid UTF-8"},
    {"invalid UTF-8: truncated at end", "b \xe2\x82", GH_EPROTO, "gatehouse.conf:1: invalid UTF-8"},
    {"invalid UTF-8: bad continuation", "b \xe2\x28\xa1;", GH_EPROTO,
     "gatehouse.conf:1: invalid UTF-8"},
    {"second byte order mark", "\xef\xbb\xbf\r\n\xef\xbb\xbflisten 80;", GH_EPROTO,
     "gatehouse.conf:2: byte order mark after the start of the file"}, /* fuzz: round trip */
    {"byte order mark inside a string", "realm \"a\xef\xbb\xbf\";", GH_EPROTO,
     "gatehouse.conf:1: byte order mark after the start of the file"},
    {"invalid UTF-8 in a comment", "# \xff\n", GH_EPROTO, "gatehouse.conf:1: invalid UTF-8"},
};

static void
test_valid(void)
{
    char err[256];

    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        struct conf_doc *doc = NULL;
        int rc = conf_parse("gatehouse.conf", valid[i].input, strlen(valid[i].input), &doc, err,
                            sizeof(err));

        if (rc != GH_OK) {
            fprintf(stderr, "valid case '%s': %s\n", valid[i].rule, err);
            CHECK_EQ(rc, GH_OK);
            continue;
        }
        CHECK_STR_EQ(err, "");
        CHECK_STR_EQ(doc->root.name, "");
        CHECK(doc->root.is_block);
        CHECK_STR_EQ(dump_doc(doc), valid[i].want);
        if (strcmp(dump_doc(doc), valid[i].want) != 0)
            fprintf(stderr, "  in valid case '%s'\n", valid[i].rule);
        conf_doc_destroy(doc);
    }
}

static void
test_invalid(void)
{
    char err[256];

    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        struct conf_doc *doc = (struct conf_doc *)&err; /* must be reset to NULL */
        int rc = conf_parse("gatehouse.conf", invalid[i].input, strlen(invalid[i].input), &doc, err,
                            sizeof(err));

        CHECK_EQ(rc, invalid[i].want_err);
        CHECK(doc == NULL);
        CHECK_STR_EQ(err, invalid[i].want_msg);
        if (strcmp(err, invalid[i].want_msg) != 0)
            fprintf(stderr, "  in invalid case '%s'\n", invalid[i].rule);
    }
}

/* Checks that text parses (want_msg NULL) or fails with exactly want_msg. */
static void
expect(const char *text, size_t len, int want_err, const char *want_msg)
{
    struct conf_doc *doc = NULL;
    char err[256];
    int rc = conf_parse("gatehouse.conf", text, len, &doc, err, sizeof(err));

    CHECK_EQ(rc, want_err);
    if (want_msg != NULL)
        CHECK_STR_EQ(err, want_msg);
    else if (rc != GH_OK)
        fprintf(stderr, "unexpected failure: %s\n", err);
    conf_doc_destroy(doc);
}

static char *
repeat(const char *unit, size_t count, const char *tail)
{
    size_t ulen = strlen(unit), tlen = strlen(tail);
    char *s = malloc(ulen * count + tlen + 1);

    if (s == NULL)
        abort();
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * ulen, unit, ulen);
    memcpy(s + ulen * count, tail, tlen + 1);
    return s;
}

static void
test_nul_byte(void)
{
    static const char text[] = "a;\nb c\0d;";

    expect(text, sizeof(text) - 1, GH_EPROTO, "gatehouse.conf:2: NUL byte");
}

static void
test_depth_limit(void)
{
    char *ok = NULL, *deep = NULL, *tail = repeat("}", CONF_MAX_DEPTH + 1, "");

    ok = repeat("b {\n", CONF_MAX_DEPTH, tail + 1); /* 16 nested blocks */
    expect(ok, strlen(ok), GH_OK, NULL);
    deep = repeat("b {\n", CONF_MAX_DEPTH + 1, tail);
    expect(deep, strlen(deep), GH_ELIMIT,
           "gatehouse.conf:17: block 'b' nested too deeply (limit 16)");
    free(ok);
    free(deep);
    free(tail);
}

static void
test_arg_limit(void)
{
    /* " a" repeated, with the first 'a' turned into the name "xa" */
    char *at_limit = repeat(" a", CONF_MAX_ARGS + 1, ";");
    char *over = repeat(" a", CONF_MAX_ARGS + 2, ";");

    at_limit[0] = 'x';
    over[0] = 'x';
    expect(at_limit, strlen(at_limit), GH_OK, NULL);
    expect(over, strlen(over), GH_ELIMIT,
           "gatehouse.conf:1: too many arguments for directive 'xa' (limit 64)");
    free(at_limit);
    free(over);
}

static void
test_token_limit(void)
{
    char *word = repeat("w", CONF_MAX_TOKEN_BYTES, ";");
    char *long_word = repeat("w", CONF_MAX_TOKEN_BYTES + 1, ";");
    char *str = repeat("s", CONF_MAX_TOKEN_BYTES + 4, "\";");
    struct conf_doc *doc = NULL;
    char err[256];

    expect(word, strlen(word), GH_OK, NULL);
    expect(long_word, strlen(long_word), GH_ELIMIT,
           "gatehouse.conf:1: token longer than 4096 bytes");
    /* x "sss...": 4096 bytes after unescaping is the limit, whatever the quoting */
    memcpy(str, "x\n\"", 3);
    str[3 + CONF_MAX_TOKEN_BYTES] = '"';
    str[4 + CONF_MAX_TOKEN_BYTES] = ';';
    str[5 + CONF_MAX_TOKEN_BYTES] = '\0';
    CHECK_EQ(conf_parse("gatehouse.conf", str, strlen(str), &doc, err, sizeof(err)), GH_OK);
    if (doc != NULL)
        CHECK_EQ(strlen(doc->root.children[0].args[0]), CONF_MAX_TOKEN_BYTES);
    conf_doc_destroy(doc);
    str[3 + CONF_MAX_TOKEN_BYTES] = 's';
    str[4 + CONF_MAX_TOKEN_BYTES] = '"';
    expect(str, strlen(str), GH_ELIMIT, "gatehouse.conf:2: token longer than 4096 bytes");
    free(word);
    free(long_word);
    free(str);
}

static void
test_directive_limit(void)
{
    char *ok = repeat("a;\n", CONF_MAX_DIRECTIVES, "");
    char *many = repeat("a;\n", CONF_MAX_DIRECTIVES + 1, "");
    char *nested = repeat("a;\n", CONF_MAX_DIRECTIVES - 1, "b { c; }");

    expect(ok, strlen(ok), GH_OK, NULL);
    expect(many, strlen(many), GH_ELIMIT,
           "gatehouse.conf:10001: too many directives (limit 10000)");
    /* blocks and their children count alike */
    expect(nested, strlen(nested), GH_ELIMIT,
           "gatehouse.conf:10000: too many directives (limit 10000)");
    free(ok);
    free(many);
    free(nested);
}

static void
test_size_limit(void)
{
    size_t len = CONF_MAX_FILE_BYTES + 1;
    char *text = malloc(len);

    if (text == NULL)
        abort();
    memset(text, '#', len);
    expect(text, len - 1, GH_OK, NULL); /* exactly 1 MiB of comment */
    expect(text, len, GH_ELIMIT, "gatehouse.conf:1: file larger than 1048576 bytes");
    free(text);
}

static void
test_err_buffer(void)
{
    struct conf_doc *doc = NULL;
    char small[12];

    memset(small, 'x', sizeof(small));
    CHECK_EQ(conf_parse("gatehouse.conf", "}", 1, &doc, small, sizeof(small)), GH_EPROTO);
    CHECK_STR_EQ(small, "gatehouse.c"); /* truncated, still terminated */
    CHECK_EQ(conf_parse("gatehouse.conf", "}", 1, &doc, NULL, 0), GH_EPROTO);
    CHECK_EQ(conf_parse(NULL, "}", 1, &doc, small, sizeof(small)), GH_EPROTO);
    CHECK_STR_EQ(small, "(config):1:");
    conf_doc_destroy(NULL);
    CHECK_EQ(conf_parse("gatehouse.conf", NULL, 0, &doc, small, sizeof(small)), GH_OK);
    CHECK(doc != NULL && doc->root.child_count == 0);
    conf_doc_destroy(doc);
}

static void
test_long_name_in_message(void)
{
    char *text = repeat("n", 200, " 1");
    char want[256];

    snprintf(want, sizeof(want),
             "gatehouse.conf:1: missing ';' after directive '%.64s...' at end of file", text);
    expect(text, strlen(text), GH_EPROTO, want);
    free(text);
}

static void
test_file_fields(void)
{
    struct conf_doc *doc = NULL;
    char err[256];
    char name[] = "/etc/gatehouse/site.conf";

    CHECK_EQ(conf_parse(name, "s {\n a 1 2;\n}", 13, &doc, err, sizeof(err)), GH_OK);
    if (doc == NULL)
        return;
    memset(name, 0, sizeof(name)); /* the document keeps its own copy */
    const struct conf_node *s = &doc->root.children[0];
    CHECK_STR_EQ(doc->root.file, "/etc/gatehouse/site.conf");
    CHECK_STR_EQ(s->file, "/etc/gatehouse/site.conf");
    CHECK_STR_EQ(s->children[0].file, "/etc/gatehouse/site.conf");
    CHECK(s->args == NULL);
    CHECK(s->children[0].children == NULL);
    CHECK(!s->children[0].is_block);
    CHECK_EQ(s->children[0].arg_count, 2);
    CHECK_STR_EQ(s->children[0].args[1], "2");
    conf_doc_destroy(doc);
}

static void
test_load_file(void)
{
    char path[] = "/tmp/gh_conf_test_XXXXXX";
    struct conf_doc *doc = NULL;
    char err[512], want[512];
    int fd = mkstemp(path);
    static const char text[] = "listen 127.0.0.1:0;\nlocation / { auth ntlm; }\n";

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(write(fd, text, sizeof(text) - 1), (long long)(sizeof(text) - 1));
    CHECK_EQ(conf_load_file(path, &doc, err, sizeof(err)), GH_OK);
    if (doc != NULL) {
        CHECK_STR_EQ(dump_doc(doc), "listen@1[127.0.0.1:0] location@2[/]{auth@2[ntlm]}");
        CHECK_STR_EQ(doc->root.children[0].file, path);
    }
    conf_doc_destroy(doc);
    CHECK_EQ(write(fd, "}", 1), 1);
    CHECK_EQ(conf_load_file(path, &doc, err, sizeof(err)), GH_EPROTO);
    snprintf(want, sizeof(want), "%s:3: unexpected '}'", path);
    CHECK_STR_EQ(err, want);
    CHECK(ftruncate(fd, CONF_MAX_FILE_BYTES + 1) == 0);
    CHECK_EQ(conf_load_file(path, &doc, err, sizeof(err)), GH_ELIMIT);
    snprintf(want, sizeof(want), "%s:1: file larger than 1048576 bytes", path);
    CHECK_STR_EQ(err, want);
    close(fd);
    unlink(path);
    CHECK_EQ(conf_load_file(path, &doc, err, sizeof(err)), GH_EIO);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    CHECK_STR_EQ(err, want);
    CHECK(doc == NULL);
    CHECK_EQ(conf_load_file("/", &doc, err, sizeof(err)), GH_EIO);
    CHECK_STR_EQ(err, "/: Is a directory");
}

int
main(void)
{
    test_valid();
    test_invalid();
    test_nul_byte();
    test_depth_limit();
    test_arg_limit();
    test_token_limit();
    test_directive_limit();
    test_size_limit();
    test_err_buffer();
    test_long_name_in_message();
    test_file_fields();
    test_load_file();
    return check_done("base/conf_parse");
}
