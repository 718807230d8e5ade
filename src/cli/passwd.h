// SPDX-License-Identifier: MIT
// `gatehouse passwd`: manage the built-in user store (src/sspi/store/).
#ifndef GH_CLI_PASSWD_H
#define GH_CLI_PASSWD_H

/* argv[0] is "passwd". Usage:
 *   passwd FILE add USER [--realm R]... [--group G]... [--iterations N] [--stdin]
 *   passwd FILE remove USER
 *   passwd FILE list
 *   passwd FILE verify USER [--stdin]
 * Passwords are read from the terminal without echo, or from standard input
 * (one line) with --stdin or when it is not a terminal. Returns the process
 * exit status: 0 success, 1 failure (wrong password for verify), 2 usage. */
int cli_passwd_main(int argc, char **argv);

#endif
