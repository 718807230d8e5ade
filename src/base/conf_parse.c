// SPDX-License-Identifier: MIT
// The configuration syntax: text to a tree of directives (conf_parse.h).
#include "base/conf_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/arena.h"
#include "base/banned.h"
#include "base/utf8.h"

/* The public struct comes first so a conf_doc pointer is also a doc_impl pointer. */
struct doc_impl {
    struct conf_doc pub;
    struct arena *arena; /* owns this struct, every node array and every string */
};

enum tok_kind {
    TOK_WORD,   /* bare word */
    TOK_STRING, /* quoted string, already unescaped */
    TOK_SEMI,
    TOK_LBRACE,
    TOK_RBRACE,
    TOK_EOF,
};

struct token {
    enum tok_kind kind;
    unsigned line; /* where the token starts */
    char *value;   /* WORD and STRING only: NUL-terminated, in the arena */
};

/* A block being filled: its node, and its children so far. The children live
 * in a malloc'd vector until the block closes, then move to one arena array,
 * so the final tree has exactly the contiguous arrays the header promises. */
struct level {
    struct conf_node node;
    struct conf_node *kids;
    size_t kid_count;
    size_t kid_cap;
};

struct parser {
    const char *file; /* in the arena */
    const char *pos;
    const char *end;
    unsigned line;
    struct arena *arena;
    char *err;
    size_t err_len;
    struct level levels[CONF_MAX_DEPTH + 1]; /* levels[0] is the root */
    size_t depth;                            /* index of the innermost open block */
    size_t directive_count;
    /* The directive being read, until its ';' or '{'. */
    bool has_pending;
    char *pending_name;
    unsigned pending_line;
    unsigned last_line; /* line of its last token: where a missing ';' belongs */
    char *args[CONF_MAX_ARGS];
    size_t arg_count;
    char scratch[CONF_MAX_TOKEN_BYTES + 1]; /* one token being unescaped */
};

/* Error messages quote directive names, which may be long: cut them without
 * splitting a UTF-8 sequence (the input was validated, so no control bytes). */
#define NAME_QUOTE_BYTES 64

static int fail(struct parser *ps, int code, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(struct parser *ps, int code, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ps->err == NULL || ps->err_len == 0)
        return code;
    n = snprintf(ps->err, ps->err_len, "%s:%u: ", ps->file, line);
    if (n < 0 || (size_t)n >= ps->err_len)
        return code;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

static int
quote_len(const char *name)
{
    size_t len = strnlen(name, NAME_QUOTE_BYTES + 1);

    if (len <= NAME_QUOTE_BYTES)
        return (int)len;
    len = NAME_QUOTE_BYTES;
    while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80)
        len--; /* back off to the start of a sequence */
    return (int)len;
}

static const char *
quote_ellipsis(const char *name)
{
    return strnlen(name, NAME_QUOTE_BYTES + 1) > NAME_QUOTE_BYTES ? "..." : "";
}

/* One pass over the whole text before tokenizing, so the lexer can treat every
 * byte >= 0x80 as part of a word or string without checking it again. */
static int
validate_text(struct parser *ps)
{
    const unsigned char *p = (const unsigned char *)ps->pos;
    const unsigned char *end = (const unsigned char *)ps->end;
    unsigned line = ps->line;

    while (p < end) {
        unsigned char c = *p;
        size_t n;

        if (c == '\n') {
            line++;
        } else if (c == 0) {
            return fail(ps, GH_EPROTO, line, "NUL byte");
        } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
            return fail(ps, GH_EPROTO, line, "control character 0x%02X", c);
        }
        n = utf8_seq_len(p, (size_t)(end - p));
        if (n == 0)
            return fail(ps, GH_EPROTO, line, "invalid UTF-8");
        /* U+FEFF is invisible: inside a name it would make "listen" unknown
         * for no visible reason, and at the start of a word it would read
         * differently once the file is re-saved. Only the leading one is allowed. */
        if (n == 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            return fail(ps, GH_EPROTO, line, "byte order mark after the start of the file");
        p += n;
    }
    return GH_OK;
}

static void
skip_blanks(struct parser *ps)
{
    while (ps->pos < ps->end) {
        char c = *ps->pos;

        if (c == '\n') {
            ps->line++;
        } else if (c == '#') {
            /* a comment runs to the end of the line; the '\n' is counted above */
            const char *nl = memchr(ps->pos, '\n', (size_t)(ps->end - ps->pos));
            ps->pos = nl != NULL ? nl : ps->end;
            continue;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        ps->pos++;
    }
}

static bool
ends_token(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '{' || c == '}';
}

static int
take_scratch(struct parser *ps, size_t len, struct token *tok)
{
    tok->value = arena_strndup(ps->arena, ps->scratch, len);
    if (tok->value == NULL)
        return fail(ps, GH_ENOMEM, tok->line, "out of memory");
    return GH_OK;
}

static int
lex_word(struct parser *ps, struct token *tok)
{
    const char *start = ps->pos;

    while (ps->pos < ps->end && !ends_token(*ps->pos)) {
        if (*ps->pos == '"' || *ps->pos == '\'')
            return fail(ps, GH_EPROTO, ps->line, "quote inside a bare word");
        ps->pos++;
    }
    if ((size_t)(ps->pos - start) > CONF_MAX_TOKEN_BYTES)
        return fail(ps, GH_ELIMIT, tok->line, "token longer than %u bytes",
                    (unsigned)CONF_MAX_TOKEN_BYTES);
    tok->kind = TOK_WORD;
    tok->value = arena_strndup(ps->arena, start, (size_t)(ps->pos - start));
    if (tok->value == NULL)
        return fail(ps, GH_ENOMEM, tok->line, "out of memory");
    return GH_OK;
}

/* Decodes the escape after a backslash in a "..." string; -1 when unknown. */
static int
unescape(char c)
{
    switch (c) {
    case '"':
    case '\\':
        return c;
    case 'n':
        return '\n';
    case 't':
        return '\t';
    default:
        return -1;
    }
}

/* A quoted string: "..." with escapes, or '...' taken literally. Either may span
 * lines; errors about the string name the line where it opened. */
static int
lex_string(struct parser *ps, struct token *tok)
{
    char quote = *ps->pos++;
    size_t len = 0;

    for (;;) {
        char c;

        if (ps->pos >= ps->end)
            return fail(ps, GH_EPROTO, tok->line, "unterminated string");
        c = *ps->pos++;
        if (c == quote)
            break;
        if (c == '\n') {
            ps->line++;
        } else if (c == '\\' && quote == '"') {
            int u;

            if (ps->pos >= ps->end)
                return fail(ps, GH_EPROTO, tok->line, "unterminated string");
            u = unescape(*ps->pos);
            if (u < 0) {
                unsigned char bad = (unsigned char)*ps->pos;
                if (bad < 0x20 || bad >= 0x7F)
                    return fail(ps, GH_EPROTO, ps->line, "invalid escape in string");
                return fail(ps, GH_EPROTO, ps->line, "invalid escape '\\%c' in string", bad);
            }
            c = (char)u;
            ps->pos++;
        }
        if (len == CONF_MAX_TOKEN_BYTES)
            return fail(ps, GH_ELIMIT, tok->line, "token longer than %u bytes",
                        (unsigned)CONF_MAX_TOKEN_BYTES);
        ps->scratch[len++] = c;
    }
    if (ps->pos < ps->end && !ends_token(*ps->pos))
        return fail(ps, GH_EPROTO, ps->line,
                    "expected whitespace, ';', '{' or '}' after quoted string");
    tok->kind = TOK_STRING;
    return take_scratch(ps, len, tok);
}

static int
next_token(struct parser *ps, struct token *tok)
{
    skip_blanks(ps);
    tok->line = ps->line;
    tok->value = NULL;
    if (ps->pos >= ps->end) {
        tok->kind = TOK_EOF;
        return GH_OK;
    }
    switch (*ps->pos) {
    case ';':
        tok->kind = TOK_SEMI;
        ps->pos++;
        return GH_OK;
    case '{':
        tok->kind = TOK_LBRACE;
        ps->pos++;
        return GH_OK;
    case '}':
        tok->kind = TOK_RBRACE;
        ps->pos++;
        return GH_OK;
    case '"':
    case '\'':
        return lex_string(ps, tok);
    default:
        return lex_word(ps, tok);
    }
}

static int
push_kid(struct parser *ps, struct level *lv, const struct conf_node *node)
{
    if (lv->kid_count == lv->kid_cap) {
        size_t cap = lv->kid_cap == 0 ? 8 : lv->kid_cap * 2;
        struct conf_node *kids = realloc(lv->kids, cap * sizeof(*kids));

        if (kids == NULL)
            return fail(ps, GH_ENOMEM, node->line, "out of memory");
        lv->kids = kids;
        lv->kid_cap = cap;
    }
    lv->kids[lv->kid_count++] = *node;
    return GH_OK;
}

/* Turns the pending directive into a node; its args move to the arena. */
static int
take_pending(struct parser *ps, bool is_block, struct conf_node *node)
{
    *node = (struct conf_node){
        .name = ps->pending_name,
        .arg_count = ps->arg_count,
        .file = ps->file,
        .line = ps->pending_line,
        .is_block = is_block,
    };
    if (ps->arg_count > 0) {
        node->args = arena_alloc(ps->arena, ps->arg_count * sizeof(*node->args));
        if (node->args == NULL)
            return fail(ps, GH_ENOMEM, ps->pending_line, "out of memory");
        memcpy(node->args, ps->args, ps->arg_count * sizeof(*node->args));
    }
    ps->has_pending = false;
    ps->arg_count = 0;
    return GH_OK;
}

/* Moves a finished block's children into one arena array. */
static int
seal_level(struct parser *ps, struct level *lv)
{
    struct conf_node *kids = NULL;

    if (lv->kid_count > 0) {
        kids = arena_alloc(ps->arena, lv->kid_count * sizeof(*kids));
        if (kids == NULL)
            return fail(ps, GH_ENOMEM, lv->node.line, "out of memory");
        memcpy(kids, lv->kids, lv->kid_count * sizeof(*kids));
    }
    lv->node.children = kids;
    lv->node.child_count = lv->kid_count;
    free(lv->kids);
    lv->kids = NULL;
    lv->kid_count = lv->kid_cap = 0;
    return GH_OK;
}

static int
on_value(struct parser *ps, const struct token *tok)
{
    if (!ps->has_pending) {
        if (tok->kind == TOK_STRING)
            return fail(ps, GH_EPROTO, tok->line,
                        "expected a directive name, found a quoted string");
        if (ps->directive_count == CONF_MAX_DIRECTIVES)
            return fail(ps, GH_ELIMIT, tok->line, "too many directives (limit %u)",
                        (unsigned)CONF_MAX_DIRECTIVES);
        ps->directive_count++;
        ps->has_pending = true;
        ps->pending_name = tok->value;
        ps->pending_line = ps->last_line = tok->line;
        return GH_OK;
    }
    if (ps->arg_count == CONF_MAX_ARGS)
        return fail(ps, GH_ELIMIT, tok->line,
                    "too many arguments for directive '%.*s%s' (limit %u)",
                    quote_len(ps->pending_name), ps->pending_name, quote_ellipsis(ps->pending_name),
                    (unsigned)CONF_MAX_ARGS);
    ps->args[ps->arg_count++] = tok->value;
    ps->last_line = tok->line;
    return GH_OK;
}

static int
missing_semicolon(struct parser *ps, const char *suffix)
{
    return fail(ps, GH_EPROTO, ps->last_line, "missing ';' after directive '%.*s%s'%s",
                quote_len(ps->pending_name), ps->pending_name, quote_ellipsis(ps->pending_name),
                suffix);
}

static int
on_open(struct parser *ps, const struct token *tok)
{
    struct level *lv;
    int err;

    if (!ps->has_pending)
        return fail(ps, GH_EPROTO, tok->line, "unexpected '{'");
    if (ps->depth == CONF_MAX_DEPTH)
        return fail(ps, GH_ELIMIT, ps->pending_line, "block '%.*s%s' nested too deeply (limit %u)",
                    quote_len(ps->pending_name), ps->pending_name, quote_ellipsis(ps->pending_name),
                    (unsigned)CONF_MAX_DEPTH);
    lv = &ps->levels[ps->depth + 1];
    err = take_pending(ps, true, &lv->node);
    if (err < 0)
        return err;
    ps->depth++;
    return GH_OK;
}

static int
on_close(struct parser *ps, const struct token *tok)
{
    struct level *lv;
    int err;

    if (ps->has_pending)
        return missing_semicolon(ps, "");
    if (ps->depth == 0)
        return fail(ps, GH_EPROTO, tok->line, "unexpected '}'");
    lv = &ps->levels[ps->depth];
    err = seal_level(ps, lv);
    if (err < 0)
        return err;
    ps->depth--;
    return push_kid(ps, &ps->levels[ps->depth], &lv->node);
}

static int
on_eof(struct parser *ps, const struct token *tok)
{
    const struct conf_node *blk;

    if (ps->has_pending)
        return missing_semicolon(ps, " at end of file");
    if (ps->depth > 0) {
        blk = &ps->levels[ps->depth].node;
        return fail(ps, GH_EPROTO, tok->line,
                    "unexpected end of file: block '%.*s%s' opened at line %u is not closed",
                    quote_len(blk->name), blk->name, quote_ellipsis(blk->name), blk->line);
    }
    return seal_level(ps, &ps->levels[0]);
}

static int
on_token(struct parser *ps, const struct token *tok)
{
    struct conf_node node;
    int err;

    switch (tok->kind) {
    case TOK_WORD:
    case TOK_STRING:
        return on_value(ps, tok);
    case TOK_SEMI:
        if (!ps->has_pending)
            return fail(ps, GH_EPROTO, tok->line, "unexpected ';'");
        err = take_pending(ps, false, &node);
        if (err < 0)
            return err;
        return push_kid(ps, &ps->levels[ps->depth], &node);
    case TOK_LBRACE:
        return on_open(ps, tok);
    case TOK_RBRACE:
        return on_close(ps, tok);
    case TOK_EOF:
        return on_eof(ps, tok);
    }
    return fail(ps, GH_EPROTO, tok->line, "internal error: unknown token");
}

static int
parse_all(struct parser *ps)
{
    struct token tok = {.kind = TOK_EOF}; /* every path sets it; GCC -O2 cannot tell */
    int err;

    if (ps->end - ps->pos >= 3 && memcmp(ps->pos, "\xEF\xBB\xBF", 3) == 0)
        ps->pos += 3; /* byte order mark, as Windows editors write it */
    err = validate_text(ps);
    if (err < 0)
        return err;
    do {
        err = next_token(ps, &tok);
        if (err < 0)
            return err;
        err = on_token(ps, &tok);
        if (err < 0)
            return err;
    } while (tok.kind != TOK_EOF);
    return GH_OK;
}

int
conf_parse(const char *file_name, const char *text, size_t len, struct conf_doc **doc_out,
           char *err, size_t err_len)
{
    struct parser *ps = NULL;
    struct doc_impl *doc = NULL;
    struct arena *arena = NULL;
    int rc;

    *doc_out = NULL;
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (file_name == NULL)
        file_name = "(config)";
    if (text == NULL && len > 0)
        return GH_EINVAL;
    if (text == NULL)
        text = ""; /* text + 0 on a null pointer is undefined */
    if (len > CONF_MAX_FILE_BYTES) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "%s:1: file larger than %u bytes", file_name,
                     (unsigned)CONF_MAX_FILE_BYTES);
        return GH_ELIMIT;
    }
    ps = calloc(1, sizeof(*ps)); /* about 6 KiB: too big for a library's stack frame */
    rc = ps == NULL ? GH_ENOMEM : arena_create(16384, &arena);
    if (rc < 0) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "%s:1: out of memory", file_name);
        goto cleanup;
    }
    *ps = (struct parser){
        .file = file_name,
        .pos = text,
        .end = text + len,
        .line = 1,
        .arena = arena,
        .err = err,
        .err_len = err_len,
    };
    doc = arena_alloc(arena, sizeof(*doc));
    ps->file = arena_strndup(arena, file_name, strlen(file_name));
    if (doc == NULL || ps->file == NULL) {
        ps->file = file_name;
        rc = fail(ps, GH_ENOMEM, 1, "out of memory");
        goto cleanup;
    }
    ps->levels[0].node =
        (struct conf_node){.name = "", .file = ps->file, .line = 1, .is_block = true};
    rc = parse_all(ps);
    if (rc < 0)
        goto cleanup;
    doc->pub.root = ps->levels[0].node;
    doc->arena = arena;
    arena = NULL; /* owned by the document now */
    *doc_out = &doc->pub;
    rc = GH_OK;
cleanup:
    if (ps != NULL) {
        for (size_t i = 0; i <= CONF_MAX_DEPTH; i++)
            free(ps->levels[i].kids);
        free(ps);
    }
    arena_destroy(arena);
    return rc;
}

/* Reads at most CONF_MAX_FILE_BYTES + 1 bytes, so an oversized file is detected
 * without reading it all, and pipes and /dev/stdin work as well as files. */
static int
read_file(const char *path, char **text_out, size_t *len_out, char *err, size_t err_len)
{
    size_t cap = CONF_MAX_FILE_BYTES + 1, len = 0;
    char *text = NULL;
    int fd, rc = GH_OK;

    *text_out = NULL;
    *len_out = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return GH_EIO;
    }
    text = malloc(cap);
    if (text == NULL) {
        snprintf(err, err_len, "%s: out of memory", path);
        rc = GH_ENOMEM;
        goto cleanup;
    }
    while (len < cap) {
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_len, "%s: %s", path, strerror(errno));
            rc = GH_EIO;
            goto cleanup;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *text_out = text;
    *len_out = len;
    text = NULL;
cleanup:
    free(text);
    close(fd);
    return rc;
}

int
conf_load_file(const char *path, struct conf_doc **doc_out, char *err, size_t err_len)
{
    char dummy[1];
    char *text = NULL;
    size_t len = 0;
    int rc;

    *doc_out = NULL;
    if (err == NULL || err_len == 0) {
        err = dummy; /* read_file always writes a message */
        err_len = sizeof(dummy);
    }
    err[0] = '\0';
    if (path == NULL)
        return GH_EINVAL;
    rc = read_file(path, &text, &len, err, err_len);
    if (rc < 0)
        return rc;
    rc = conf_parse(path, text, len, doc_out, err, err_len);
    free(text);
    return rc;
}

void
conf_doc_destroy(struct conf_doc *doc)
{
    if (doc == NULL)
        return;
    /* the arena holds the document itself, so read it out first */
    arena_destroy(((struct doc_impl *)doc)->arena);
}
