// SPDX-License-Identifier: MIT
// gatehouse: one binary, subcommands. To add one, write src/cli/NAME.c with
// `int cli_NAME(int argc, char **argv)`, declare it in cli.h and add one line
// to the table below.
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include <gatehouse/module.h>

#include "cli/cli.h"

struct cli_command {
    const char *name;
    const char *summary;
    cli_command_fn *run;
};

static const struct cli_command commands[] = {
    {"serve", "run the HTTP server: serve [--check] --config FILE | --list-directives", cli_serve},
    {"passwd", "manage the user store: passwd FILE add|remove|list|verify USER", cli_passwd},
    {"fetch", "HTTP(S) client with Negotiate/NTLM/Kerberos/Digest/Basic: fetch URL [OPTIONS]",
     cli_fetch},
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: gatehouse COMMAND [OPTIONS]\n"
                 "       gatehouse --version | --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'gatehouse COMMAND --help' describes a command's options.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("gatehouse %s (module ABI %u, %s)\n", GH_VERSION, (unsigned)GH_MODULE_ABI_VERSION,
               OpenSSL_version(OPENSSL_VERSION));
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "gatehouse: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
