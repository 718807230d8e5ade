// SPDX-License-Identifier: MIT
// Password line reading of src/cli/prompt.c (compiled in: src/cli is not a
// library) on pipes: line endings, end of input, overflow, read errors, and
// that nothing after the line is consumed.
#include <string.h>
#include <unistd.h>

#include "cli/prompt.c"
#include "harness/check.h"

/* A pipe holding text, closed for writing; returns the read end. */
static int
pipe_with(const char *text)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    size_t n = strlen(text);
    if (write(fds[1], text, n) != (ssize_t)n) {
        close(fds[0]);
        fds[0] = -1;
    }
    close(fds[1]);
    return fds[0];
}

static const struct {
    const char *name, *input;
    size_t cap;
    int want_rc;
    const char *want_line;
} cases[] = {
    {"LF ends the line", "secret\nnext", 64, 0, "secret"},
    {"CRLF ends the line", "secret\r\n", 64, 0, "secret"},
    {"end of input ends the line", "secret", 64, 0, "secret"},
    {"empty input: empty password", "", 64, 0, ""},
    {"exactly fits (cap - 1 bytes)", "abc\n", 4, 0, "abc"},
    {"one byte too long", "abcd\n", 4, -1, NULL},
    {"no room at all", "a", 1, -1, NULL},
};

static void
test_lines(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        size_t len = 99;
        int fd = pipe_with(cases[i].input);
        CHECK(fd >= 0);
        memset(buf, 'x', sizeof(buf));
        int rc = prompt_read_line(fd, buf, cases[i].cap, &len);
        if (rc != cases[i].want_rc)
            fprintf(stderr, "case: %s\n", cases[i].name);
        CHECK_EQ(rc, cases[i].want_rc);
        if (rc == 0) {
            CHECK_STR_EQ(buf, cases[i].want_line);
            CHECK_EQ(len, strlen(cases[i].want_line));
        } else {
            for (size_t k = 0; k < cases[i].cap; k++)
                CHECK_EQ(buf[k], 0); /* wiped on failure */
        }
        close(fd);
    }
}

static void
test_rest_unread(void)
{
    char buf[16];
    size_t len = 0;
    int fd = pipe_with("first\nsecond\n");
    CHECK_EQ(prompt_read_line(fd, buf, sizeof(buf), &len), 0);
    CHECK_STR_EQ(buf, "first");
    CHECK_EQ(prompt_read_line(fd, buf, sizeof(buf), &len), 0);
    CHECK_STR_EQ(buf, "second");
    close(fd);
}

static void
test_errors(void)
{
    char buf[16] = "leftover";
    size_t len = 0;
    CHECK_EQ(prompt_read_line(-1, buf, sizeof(buf), &len), -1); /* EBADF */
    CHECK_EQ(buf[0], 0);

    /* Not a terminal: no prompt, one line of standard input. */
    int saved = dup(STDIN_FILENO);
    int fd = pipe_with("pw\n");
    CHECK(saved >= 0 && fd >= 0);
    CHECK_EQ(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    CHECK_EQ(prompt_password("Password: ", true, buf, sizeof(buf), &len), 0);
    CHECK_STR_EQ(buf, "pw");
    CHECK_EQ(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    close(saved);
}

int
main(void)
{
    test_lines();
    test_rest_unread();
    test_errors();
    return check_done("test_prompt");
}
