// SPDX-License-Identifier: MIT
// `gatehouse serve`: runs the server in the foreground until SIGTERM/SIGINT
// (graceful stop), reloading on SIGHUP and reopening its log files on SIGUSR1
// (logrotate). `--check` validates the configuration (syntax, certificates,
// modules, log files) without binding anything; `--list-directives` prints
// the directive tables (docs/config.md).
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gatehouse/http.h>

#include "cli/cli.h"
#include "server/server.h"

static gh_server *running; /* for the signal handlers */

static void
on_stop(int sig)
{
    (void)sig;
    if (running != NULL)
        gh_server_stop(running); /* async-signal-safe */
}

static void
on_reload(int sig)
{
    (void)sig;
    if (running != NULL)
        gh_server_reload(running);
}

static void
on_reopen(int sig)
{
    (void)sig;
    if (running != NULL)
        gh_server_reopen_logs(running);
}

static void
serve_usage(FILE *out)
{
    fprintf(out, "usage: gatehouse serve --config FILE\n"
                 "       gatehouse serve --check --config FILE\n"
                 "       gatehouse serve --list-directives [--config FILE]\n\n"
                 "  --config FILE      the configuration (see docs/config.md)\n"
                 "  --check            validate the configuration and exit\n"
                 "  --list-directives  print every directive (name, context, module, syntax,\n"
                 "                     default, description; TAB-separated, docs/config.md);\n"
                 "                     with --config, also those of the modules it loads\n\n"
                 "signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the configuration,\n"
                 "         SIGUSR1 reopens the log files\n");
}

/* --list-directives: the directive tables, with the modules path loads. */
static int
list_directives(const char *path)
{
    struct config *cfg = NULL;
    char err[1024] = "";

    if (path != NULL && config_load(path, &cfg, err, sizeof(err)) != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n", err);
        return 1;
    }
    config_directives_print(stdout, cfg);
    config_unref(cfg);
    return fflush(stdout) == 0 ? 0 : 1;
}

int
cli_serve(int argc, char **argv)
{
    const char *path = NULL;
    bool check = false;
    bool list = false;
    char err[1024] = "";

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = true;
        } else if (strcmp(argv[i], "--list-directives") == 0) {
            list = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            serve_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "gatehouse serve: unknown option '%s'\n", argv[i]);
            serve_usage(stderr);
            return 2;
        }
    }
    if (list)
        return list_directives(path);
    if (path == NULL) {
        serve_usage(stderr);
        return 2;
    }
    if (check) {
        if (config_check(path, err, sizeof(err)) != GH_OK) {
            fprintf(stderr, "gatehouse: %s\n", err);
            return 1;
        }
        printf("gatehouse: configuration %s is valid\n", path);
        return 0;
    }

    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, NULL);
    /* At once: SIGUSR1's default action would kill a server that logrotate
     * signals while it starts; until `running` is set the handler ignores it. */
    struct sigaction reopen = {.sa_handler = on_reopen};
    sigemptyset(&reopen.sa_mask);
    sigaction(SIGUSR1, &reopen, NULL);
    gh_server *server = NULL;
    if (gh_server_create(path, &server, err, sizeof(err)) != GH_OK) {
        fprintf(stderr, "gatehouse: %s\n", err);
        return 1;
    }
    running = server;
    struct sigaction stop = {.sa_handler = on_stop};
    struct sigaction reload = {.sa_handler = on_reload};
    sigemptyset(&stop.sa_mask);
    sigemptyset(&reload.sa_mask);
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGHUP, &reload, NULL);
    int rc = gh_server_run(server);
    running = NULL;
    gh_server_destroy(server);
    return rc == GH_OK ? 0 : 1;
}
