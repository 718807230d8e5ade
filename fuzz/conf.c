// SPDX-License-Identifier: MIT
// Fuzz target for src/base/conf_parse.c: checks the tree's invariants, the
// error message's shape, and that a printed tree parses back to the same tree.
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/buf.h"
#include "base/conf_parse.h"

#define FUZZ_FILE "fuzz.conf"

struct walk {
    unsigned max_line; /* lines in the input */
    size_t nodes;
};

static void
check_node(const struct conf_node *n, unsigned parent_line, size_t depth, struct walk *w)
{
    unsigned prev_line = parent_line;

    if (n->name == NULL || n->name[0] == '\0' || n->file == NULL || strcmp(n->file, FUZZ_FILE) != 0)
        __builtin_trap();
    if (n->line < parent_line || n->line > w->max_line || depth > CONF_MAX_DEPTH)
        __builtin_trap();
    if (n->arg_count > CONF_MAX_ARGS || (n->arg_count > 0) != (n->args != NULL))
        __builtin_trap();
    if ((n->child_count > 0) != (n->children != NULL) || (n->child_count > 0 && !n->is_block))
        __builtin_trap();
    if (n->is_block && depth == CONF_MAX_DEPTH)
        __builtin_trap(); /* 16 nested blocks at most */
    for (size_t i = 0; i < n->arg_count; i++) {
        if (n->args[i] == NULL || strlen(n->args[i]) > CONF_MAX_TOKEN_BYTES)
            __builtin_trap(); /* ASan catches a missing NUL in strlen */
    }
    if (strlen(n->name) > CONF_MAX_TOKEN_BYTES || strpbrk(n->name, " \t\r\n;{}\"'") != NULL ||
        n->name[0] == '#')
        __builtin_trap(); /* a name is a bare word */
    if (++w->nodes > CONF_MAX_DIRECTIVES)
        __builtin_trap();
    for (size_t i = 0; i < n->child_count; i++) {
        if (n->children[i].line < prev_line)
            __builtin_trap(); /* siblings come in file order */
        prev_line = n->children[i].line;
        check_node(&n->children[i], n->line, depth + 1, w);
    }
}

/* Prints a node in canonical form: every argument double-quoted and escaped. */
static int
print_node(struct buf *out, const struct conf_node *n)
{
    int err = buf_append_str(out, n->name);

    for (size_t i = 0; i < n->arg_count && err == GH_OK; i++) {
        err = buf_append_str(out, " \"");
        for (const char *p = n->args[i]; *p != '\0' && err == GH_OK; p++) {
            if (*p == '"' || *p == '\\')
                err = buf_printf(out, "\\%c", *p);
            else if (*p == '\n')
                err = buf_append_str(out, "\\n");
            else
                err = buf_append(out, p, 1);
        }
        if (err == GH_OK)
            err = buf_append_str(out, "\"");
    }
    if (err != GH_OK || !n->is_block)
        return err == GH_OK ? buf_append_str(out, ";\n") : err;
    err = buf_append_str(out, " {\n");
    for (size_t i = 0; i < n->child_count && err == GH_OK; i++)
        err = print_node(out, &n->children[i]);
    return err == GH_OK ? buf_append_str(out, "}\n") : err;
}

static bool
same_node(const struct conf_node *a, const struct conf_node *b)
{
    if (strcmp(a->name, b->name) != 0 || a->arg_count != b->arg_count ||
        a->is_block != b->is_block || a->child_count != b->child_count)
        return false;
    for (size_t i = 0; i < a->arg_count; i++) {
        if (strcmp(a->args[i], b->args[i]) != 0)
            return false;
    }
    for (size_t i = 0; i < a->child_count; i++) {
        if (!same_node(&a->children[i], &b->children[i]))
            return false;
    }
    return true;
}

static void
check_round_trip(const struct conf_doc *doc)
{
    struct buf out;
    struct conf_doc *again = NULL;
    char err[256];
    int rc = GH_OK;

    buf_init(&out, CONF_MAX_FILE_BYTES);
    for (size_t i = 0; i < doc->root.child_count && rc == GH_OK; i++)
        rc = print_node(&out, &doc->root.children[i]);
    if (rc == GH_OK) {
        rc = conf_parse(FUZZ_FILE, (const char *)out.data, out.len, &again, err, sizeof(err));
        if (rc != GH_OK || !same_node(&doc->root, &again->root))
            __builtin_trap();
    }
    conf_doc_destroy(again);
    buf_free(&out);
}

static void
check_error(int rc, const char *err)
{
    static const char prefix[] = FUZZ_FILE ":";
    const char *p = err + sizeof(prefix) - 1;

    if (rc != GH_EPROTO && rc != GH_ELIMIT && rc != GH_ENOMEM)
        __builtin_trap();
    if (strncmp(err, prefix, sizeof(prefix) - 1) != 0)
        __builtin_trap();
    if (*p < '1' || *p > '9')
        __builtin_trap(); /* "file:line: reason", line >= 1 */
    while (*p >= '0' && *p <= '9')
        p++;
    if (p[0] != ':' || p[1] != ' ' || p[2] == '\0')
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_doc *doc = NULL;
    struct walk w = {.max_line = 1};
    char err[512];
    int rc;

    memset(err, 'x', sizeof(err));
    rc = conf_parse(FUZZ_FILE, (const char *)data, size, &doc, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL)
        __builtin_trap();
    if (rc != GH_OK) {
        if (doc != NULL)
            __builtin_trap();
        check_error(rc, err);
        return 0;
    }
    for (size_t i = 0; i < size; i++)
        w.max_line += data[i] == '\n';
    if (doc == NULL || strcmp(doc->root.name, "") != 0 || !doc->root.is_block)
        __builtin_trap();
    if ((doc->root.child_count > 0) != (doc->root.children != NULL))
        __builtin_trap();
    for (size_t i = 0; i < doc->root.child_count; i++)
        check_node(&doc->root.children[i], 1, 0, &w);
    check_round_trip(doc);
    conf_doc_destroy(doc);
    return 0;
}
