// SPDX-License-Identifier: MIT
// The configuration file's syntax: a tree of directives, before any meaning is
// given to them (that is config.c's job). See docs/config.md.
//
//   # comment to end of line
//   name arg1 "arg 2" 'arg3';        a simple directive ends with ';'
//   name arg { child ...; ... }      a block directive holds children
//
// Arguments are bare words or quoted strings ("..." with \" \\ \n \t escapes,
// '...' literal). Limits: file size, nesting depth, arguments per directive,
// token length; exceeding one is an error naming file:line.
#ifndef GH_BASE_CONF_PARSE_H
#define GH_BASE_CONF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Limits; exceeding one fails with GH_ELIMIT and a "file:line: reason" message. */
#define CONF_MAX_FILE_BYTES  (1024u * 1024u) /* whole input, before parsing */
#define CONF_MAX_DEPTH       16              /* nested blocks below the top level */
#define CONF_MAX_ARGS        64              /* arguments of one directive */
#define CONF_MAX_TOKEN_BYTES 4096            /* one word or string, after unescaping */
#define CONF_MAX_DIRECTIVES  10000           /* directives in the whole file */

struct conf_node {
    const char *name; /* directive name */
    char **args;      /* arg_count NUL-terminated strings */
    size_t arg_count;
    const char *file;           /* file the directive came from (for messages) */
    unsigned line;              /* 1-based line of the directive name */
    bool is_block;              /* written with { ... } (possibly empty) */
    struct conf_node *children; /* child_count nodes, for blocks */
    size_t child_count;
};

struct conf_doc {
    struct conf_node root; /* a block named "" holding the top-level directives */
    /* private: storage for every string and node follows */
};

/* Parses text[0, len) as the contents of file_name (copied; used in messages and
 * in every node's file). The text must be UTF-8 without NUL bytes or control
 * characters other than tab, CR and LF; a leading UTF-8 byte order mark is skipped.
 * In the tree, args is NULL when arg_count is 0 and children is NULL when
 * child_count is 0; the root has name "", line 1 and is_block true. Every string
 * and node lives until conf_doc_destroy(). The document is never modified after
 * parsing, so threads may read it concurrently. On success stores a document in
 * *doc_out (free with conf_doc_destroy) and returns GH_OK. On failure returns
 * GH_EPROTO, GH_ELIMIT or GH_ENOMEM and writes "file:line: reason" into err
 * (err_len bytes, always NUL-terminated). */
int conf_parse(const char *file_name, const char *text, size_t len, struct conf_doc **doc_out,
               char *err, size_t err_len);
/* Reads path (at most 1 MiB) and parses it; GH_EIO with "path: <strerror>" when unreadable. */
int conf_load_file(const char *path, struct conf_doc **doc_out, char *err, size_t err_len);
void conf_doc_destroy(struct conf_doc *doc); /* NULL-safe */

#endif
