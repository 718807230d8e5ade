// SPDX-License-Identifier: MIT
// Subcommands of the gatehouse binary. Each lives in its own file
// (serve.c, passwd.c, fetch.c, bench.c) and is listed once in main.c.
#ifndef GH_CLI_CLI_H
#define GH_CLI_CLI_H

/* argv[0] is the subcommand name. Returns the process exit status:
 * 0 success, 1 failure, 2 usage error. */
typedef int cli_command_fn(int argc, char **argv);

int cli_serve(int argc, char **argv);

#endif
