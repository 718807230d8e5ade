// SPDX-License-Identifier: MIT
// Password input without echo (POSIX termios). One byte per read(2), so that
// nothing after the line is consumed from a pipe the caller reads on.
#include "cli/prompt.h"

#include <errno.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "base/secret.h"

int
prompt_read_line(int fd, char *buf, size_t cap, size_t *len_out)
{
    size_t len = 0;

    if (cap == 0)
        return -1;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n > 0 && c == '\n'))
            break;
        if (n < 0 || len + 1 >= cap) {
            secret_wipe(buf, cap);
            return -1;
        }
        buf[len++] = c;
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    *len_out = len;
    return 0;
}

int
prompt_password(const char *prompt, bool use_tty, char *buf, size_t cap, size_t *len_out)
{
    struct termios saved, quiet;
    int fd = STDIN_FILENO;

    if (!use_tty || !isatty(fd))
        return prompt_read_line(fd, buf, cap, len_out);
    if (tcgetattr(fd, &saved) != 0)
        return -1;
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return -1;
    int err = prompt_read_line(fd, buf, cap, len_out);
    tcsetattr(fd, TCSAFLUSH, &saved);
    fputc('\n', stderr);
    return err;
}
