// SPDX-License-Identifier: MIT
// Subcommands of the gatehouse binary. Each lives in its own file
// (serve.c, passwd.c, fetch.c, doctor.c) and is listed once in main.c.
#ifndef GH_CLI_CLI_H
#define GH_CLI_CLI_H

/* argv[0] is the subcommand name. Returns the process exit status:
 * 0 success, 1 failure, 2 usage error. */
typedef int cli_command_fn(int argc, char **argv);

int cli_serve(int argc, char **argv);
/* passwd FILE add USER [--realm R]... [--group G]... [--iterations N] [--stdin]
 * passwd FILE remove USER | list | verify USER [--stdin]
 * Passwords come from the terminal without echo, or from standard input (one
 * line) with --stdin or when it is not a terminal. Exit 1 also means "wrong
 * password" for verify. */
int cli_passwd(int argc, char **argv);
/* fetch URL [--auth negotiate|ntlm|kerberos|basic|digest|any|none] [-u user[:password]]
 * [--delegate] [--cacert F] [--insecure] [-X METHOD] [-d DATA | --data-file F]
 * [-H 'Name: value']... [-o FILE] [-i] [-v] [--timeout S] [--connect-timeout S]
 * Exit: 0 success, 1 HTTP status >= 400, 2 usage, 3 network/TLS, 4 authentication
 * failed, 5 local file (docs/fetch.md). */
int cli_fetch(int argc, char **argv);
/* doctor --config FILE [--user USER]: checks keytabs, the KDC, the clock,
 * service names, user stores, ccache directories and certificates; one line
 * per check. Exit: 0 all OK, 1 warnings only, 2 a failure, 3 usage or an
 * unreadable configuration (docs/doctor.md). */
int cli_doctor(int argc, char **argv);
/* bench URL [--auth negotiate|ntlm|kerberos|digest|basic|none] [-u user[:password]]
 * [-c N] [-n N] [-d S] [--new-conn] [--threads N] [--insecure] [--cacert F]
 * [--timeout S] [--json]: requests/s, handshakes/s, latency percentiles and
 * errors by kind (docs/bench.md). Exit: 0 all requests succeeded, 1 some
 * failed, 2 usage. */
int cli_bench(int argc, char **argv);

#endif
