/*
 * replay_main.c: a plain main() for the fuzz harnesses, so saved inputs
 * (crash regressions in tests/fuzz/regressions/<name>/ and the seed corpus
 * in tests/fuzz/corpus/<name>/) run under any compiler and sanitizer
 * without libFuzzer. Usage: replay_<name> DIR_OR_FILE...; every regular
 * file is fed once to LLVMFuzzerTestOneInput. A crash is the harness's own
 * sanitizer report or abort(); a missing or empty argument list is an
 * error (a replay that ran nothing must not pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int
run_file(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, got;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            unsigned char *nd;

            cap = cap ? cap * 2 : 4096;
            if (cap > 16 * FUZZ_MAX_INPUT) {
                fprintf(stderr, "replay: %s: larger than %zu bytes\n", path, 16 * FUZZ_MAX_INPUT);
                goto out;
            }
            nd = realloc(data, cap);
            if (nd == NULL) {
                fprintf(stderr, "replay: %s: out of memory\n", path);
                goto out;
            }
            data = nd;
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        goto out;
    }
    (void)LLVMFuzzerTestOneInput(data, len);
    (*n)++;
    rc = 0;
out:
    free(data);
    fclose(f);
    return rc;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_path(const char *path, long *n)
{
    struct stat sb;
    DIR *d;
    struct dirent *de;
    char **names = NULL, **nn, full[4096];
    size_t nnames = 0, i;
    int rc = 0;

    if (stat(path, &sb) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode))
        return run_file(path, n);
    d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        nn = realloc(names, (nnames + 1) * sizeof(*names));
        if (nn == NULL || (nn[nnames] = strdup(de->d_name)) == NULL) {
            names = nn != NULL ? nn : names;
            rc = -1;
            break;
        }
        names = nn;
        nnames++;
    }
    closedir(d);
    if (nnames > 0)
        qsort(names, nnames, sizeof(*names), name_cmp);
    for (i = 0; i < nnames; i++) {
        if (rc == 0) {
            if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= sizeof(full)) {
                fprintf(stderr, "replay: %s/%s: path too long\n", path, names[i]);
                rc = -1;
            } else if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && run_file(full, n) < 0) {
                rc = -1;
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    long n = 0;
    int i, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++)
        if (run_path(argv[i], &n) < 0)
            rc = 1;
    if (n == 0) {
        fprintf(stderr, "replay: no input files under the given paths\n");
        return 1;
    }
    printf("replay: %ld inputs ran without a crash\n", n);
    return rc;
}
