// SPDX-License-Identifier: MIT
// `gatehouse passwd`: a thin front end; the store logic (hashing, atomic
// rewrite, permission checks) lives in src/sspi/store/userstore.c so that it
// is tested without a terminal.
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "base/secret.h"
#include "cli/cli.h"
#include "cli/prompt.h"
#include "sspi/store/userstore.h"

#define MAX_LIST       64
#define PASSWORD_BYTES 1024

static int
usage(void)
{
    fputs("usage: gatehouse passwd FILE add USER [--realm R]... [--group G]... [--iterations N] "
          "[--stdin]\n"
          "       gatehouse passwd FILE remove USER\n"
          "       gatehouse passwd FILE list\n"
          "       gatehouse passwd FILE verify USER [--stdin]\n",
          stderr);
    return 2;
}

static int
read_password(bool from_stdin, bool confirm, char *buf, size_t cap, size_t *len_out)
{
    char again[PASSWORD_BYTES];
    size_t again_len = 0;
    int err;

    err = prompt_password("Password: ", !from_stdin, buf, cap, len_out);
    if (err != 0 || !confirm || from_stdin || !isatty(STDIN_FILENO))
        return err;
    err = prompt_password("Again: ", true, again, sizeof(again), &again_len);
    if (err == 0 && (again_len != *len_out || !secret_memeq(again, buf, again_len))) {
        fputs("gatehouse passwd: the passwords differ\n", stderr);
        err = -1;
    }
    secret_wipe(again, sizeof(again));
    return err;
}

static int
cmd_add(const char *file, int argc, char **argv)
{
    const char *realms[MAX_LIST], *groups[MAX_LIST];
    struct userstore_user user = {.name = argv[0], .realms = realms, .groups = groups};
    char password[PASSWORD_BYTES], err[512];
    size_t len = 0;
    bool from_stdin = false;
    int status;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--stdin") == 0) {
            from_stdin = true;
        } else if (i + 1 < argc && strcmp(argv[i], "--realm") == 0 && user.realm_count < MAX_LIST) {
            realms[user.realm_count++] = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--group") == 0 && user.group_count < MAX_LIST) {
            groups[user.group_count++] = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--iterations") == 0) {
            char *end = NULL;
            unsigned long n = strtoul(argv[++i], &end, 10);

            if (end == NULL || *end != '\0' || n > USERSTORE_MAX_ITERATIONS)
                return usage();
            user.iterations = (unsigned)n;
        } else {
            return usage();
        }
    }
    if (read_password(from_stdin, true, password, sizeof(password), &len) != 0) {
        fputs("gatehouse passwd: cannot read the password\n", stderr);
        secret_wipe(password, sizeof(password));
        return 1;
    }
    user.password = password;
    user.password_len = len;
    status = userstore_file_put(file, &user, err, sizeof(err));
    secret_wipe(password, sizeof(password));
    if (status != GH_OK) {
        fprintf(stderr, "gatehouse passwd: %s\n", err);
        return 1;
    }
    return 0;
}

static int
cmd_remove(const char *file, const char *user)
{
    char err[512];

    if (userstore_file_remove(file, user, err, sizeof(err)) != GH_OK) {
        fprintf(stderr, "gatehouse passwd: %s\n", err);
        return 1;
    }
    return 0;
}

static int
cmd_list(const char *file)
{
    struct userstore *store = NULL;
    char err[512];
    int status = userstore_open(file, &store, err, sizeof(err));

    if (status != GH_OK) {
        fprintf(stderr, "gatehouse passwd: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < userstore_count(store); i++) {
        struct buf line;

        buf_init(&line, 1 << 16);
        if (userstore_describe(store, i, &line) == GH_OK)
            printf("%.*s\n", (int)line.len, (const char *)line.data);
        buf_free(&line);
    }
    userstore_destroy(store);
    return 0;
}

static int
cmd_verify(const char *file, const char *user, bool from_stdin)
{
    struct userstore *store = NULL;
    char password[PASSWORD_BYTES], err[512];
    size_t len = 0;
    int status = userstore_open(file, &store, err, sizeof(err));

    if (status != GH_OK) {
        fprintf(stderr, "gatehouse passwd: %s\n", err);
        return 1;
    }
    if (read_password(from_stdin, false, password, sizeof(password), &len) != 0) {
        fputs("gatehouse passwd: cannot read the password\n", stderr);
        userstore_destroy(store);
        return 1;
    }
    status = userstore_verify_password(store, user, password, len);
    secret_wipe(password, sizeof(password));
    userstore_destroy(store);
    if (status == GH_OK) {
        puts("password correct");
        return 0;
    }
    fprintf(stderr, "gatehouse passwd: %s\n",
            status == GH_ENOTFOUND ? "no such user (or no Basic hash stored)" : "wrong password");
    return 1;
}

int
cli_passwd(int argc, char **argv)
{
    const char *file, *cmd;

    if (argc < 3)
        return usage();
    file = argv[1];
    cmd = argv[2];
    if (strcmp(cmd, "add") == 0 && argc >= 4)
        return cmd_add(file, argc - 3, argv + 3);
    if (strcmp(cmd, "remove") == 0 && argc == 4)
        return cmd_remove(file, argv[3]);
    if (strcmp(cmd, "list") == 0 && argc == 3)
        return cmd_list(file);
    if (strcmp(cmd, "verify") == 0 && (argc == 4 || (argc == 5 && strcmp(argv[4], "--stdin") == 0)))
        return cmd_verify(file, argv[3], argc == 5);
    return usage();
}
