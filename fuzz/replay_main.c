// SPDX-License-Identifier: MIT
// Replays every file of the directories given on the command line through a
// fuzz target, so CTest exercises the corpus and the crash regressions.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long len;
    int err = -1;

    if (f == NULL)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto cleanup;
    /* An exact-size heap copy, so ASan sees any read past the input. */
    data = malloc(len > 0 ? (size_t)len : 1);
    if (data == NULL)
        goto cleanup;
    if (len > 0 && fread(data, 1, (size_t)len, f) != (size_t)len)
        goto cleanup;
    LLVMFuzzerTestOneInput(data, (size_t)len);
    err = 0;
cleanup:
    free(data);
    fclose(f);
    return err;
}

static int
replay_dir(const char *dir, unsigned *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    if (d == NULL)
        return 0; /* a target may have no regressions yet */
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        if (replay_file(path) != 0) {
            fprintf(stderr, "cannot read %s\n", path);
            closedir(d);
            return -1;
        }
        (*count)++;
    }
    closedir(d);
    return 0;
}

int
main(int argc, char **argv)
{
    unsigned count = 0;

    for (int i = 1; i < argc; i++) {
        if (replay_dir(argv[i], &count) != 0)
            return 1;
    }
    printf("replayed %u inputs\n", count);
    if (count == 0) {
        fprintf(stderr, "no corpus inputs found: a fuzz replay must exercise something\n");
        return 1;
    }
    return 0;
}
