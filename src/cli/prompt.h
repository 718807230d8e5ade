// SPDX-License-Identifier: MIT
// Reading a password for the subcommands (passwd, fetch): from the terminal
// without echo, or one line of standard input when it is not a terminal.
#ifndef GH_CLI_PROMPT_H
#define GH_CLI_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

/* Reads one line from fd into buf, NUL-terminated, without its LF (or CRLF);
 * end of input ends the line too (an empty line when nothing came). Stores the
 * length in *len_out. Returns 0, or -1 on a read error or a line that does not
 * fit in cap - 1 bytes; on -1 buf is wiped. */
int prompt_read_line(int fd, char *buf, size_t cap, size_t *len_out);

/* Reads a password into buf (see prompt_read_line): when use_tty and standard
 * input is a terminal, writes prompt to stderr and reads with echo off, always
 * restoring the terminal; otherwise reads one line of standard input without a
 * prompt. Returns 0 or -1 (buf wiped). */
int prompt_password(const char *prompt, bool use_tty, char *buf, size_t cap, size_t *len_out);

#endif
