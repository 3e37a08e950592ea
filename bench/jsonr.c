/*
 * bench/jsonr.c: parse speed of jsonr_loadb (daemon/jsonr.c) against
 * jansson's json_loadb on real inputs; not part of the daemon or its tests,
 * and it asserts nothing about speed.
 *
 * Arguments are files or directories (every *.json and *.ndjson under them,
 * recursively). Each file is parsed REPS times by each parser (whole-file
 * inputs that are not one JSON text, such as NDJSON, are parsed line by
 * line); if a file holds a Select page ({"Results": ["<row JSON>", ...]}, at
 * the top or under "data" as the placebo recordings have it) its rows are
 * also timed on their own, JSON_DECODE_ANY, the second pass the daemon makes
 * over every Select page. Both parsers see the same inputs in the same
 * order and every tree is freed (json_decref is part of the cost a caller
 * pays). Time is the process CPU clock. Output: one line per group with
 * bytes, MB/s of each parser and the ratio. Usage:
 *   jsonr [-n REPS] PATH...        (default REPS 20)
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/jsonr.h"

struct input {
    const char *data; /* borrowed from a struct group's storage */
    size_t len;
    size_t flags;
};

struct group {
    const char *name;
    struct input *in;
    size_t n, cap;
    size_t bytes;
};

static char **owned;
static size_t nowned, capowned;

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);

    if (q == NULL) {
        fprintf(stderr, "bench/jsonr: out of memory\n");
        exit(1);
    }
    return q;
}

static void
keep(char *p)
{
    if (nowned == capowned) {
        capowned = capowned ? capowned * 2 : 64;
        owned = xrealloc(owned, capowned * sizeof(*owned));
    }
    owned[nowned++] = p;
}

static void
add(struct group *g, const char *data, size_t len, size_t flags)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->in = xrealloc(g->in, g->cap * sizeof(*g->in));
    }
    g->in[g->n].data = data;
    g->in[g->n].len = len;
    g->in[g->n].flags = flags;
    g->n++;
    g->bytes += len;
}

static struct group files = {.name = "files"}, rows = {.name = "select rows"};

static void
add_rows(json_t *page)
{
    json_t *results = json_object_get(page, "Results"), *v;
    size_t i;

    if (results == NULL)
        results = json_object_get(json_object_get(page, "data"), "Results");
    json_array_foreach(results, i, v) {
        char *copy;

        if (!json_is_string(v))
            continue;
        copy = xrealloc(NULL, json_string_length(v) + 1);
        memcpy(copy, json_string_value(v), json_string_length(v) + 1);
        keep(copy);
        add(&rows, copy, json_string_length(v), JSON_DECODE_ANY);
    }
}

static void
add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *d, *line, *nl;
    long sz;
    json_t *t;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "bench/jsonr: cannot read '%s', skipping\n", path);
        if (f != NULL)
            fclose(f);
        return;
    }
    d = xrealloc(NULL, (size_t)sz + 1);
    if (fread(d, 1, (size_t)sz, f) != (size_t)sz) {
        fprintf(stderr, "bench/jsonr: short read of '%s', skipping\n", path);
        free(d);
        fclose(f);
        return;
    }
    fclose(f);
    d[sz] = '\0';
    keep(d);
    t = json_loadb(d, (size_t)sz, JSON_DECODE_ANY, NULL);
    if (t != NULL) {
        add(&files, d, (size_t)sz, JSON_DECODE_ANY);
        add_rows(t);
        json_decref(t);
        return;
    }
    for (line = d; *line != '\0'; line = nl + 1) { /* NDJSON */
        nl = strchr(line, '\n');
        if (nl == NULL)
            nl = line + strlen(line);
        if (nl > line)
            add(&files, line, (size_t)(nl - line), JSON_DECODE_ANY);
        if (*nl == '\0')
            break;
    }
}

static void
walk(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *de;
    size_t n;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench/jsonr: no such file '%s', skipping\n", path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    dir = opendir(path);
    if (dir == NULL)
        return;
    while ((de = readdir(dir)) != NULL) {
        char sub[4096];

        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        n = strlen(de->d_name);
        if (stat(sub, &st) == 0 &&
            (S_ISDIR(st.st_mode) || (n > 5 && strcmp(de->d_name + n - 5, ".json") == 0) ||
                (n > 7 && strcmp(de->d_name + n - 7, ".ndjson") == 0)))
            walk(sub);
    }
    closedir(dir);
}

static double
cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef json_t *(*loader)(const char *, size_t, size_t, json_error_t *);

static double
run(const struct group *g, loader load, int reps, long *failed)
{
    double t0 = cpu_s();
    int r;
    size_t i;

    for (r = 0; r < reps; r++) {
        for (i = 0; i < g->n; i++) {
            json_t *t = load(g->in[i].data, g->in[i].len, g->in[i].flags, NULL);

            if (t == NULL)
                (*failed)++;
            json_decref(t);
        }
    }
    return cpu_s() - t0;
}

static void
bench(const struct group *g, int reps)
{
    long fj = 0, fr = 0;
    double tj, tr, mb;

    if (g->n == 0)
        return;
    /* one warm-up pass each, then the timed ones */
    run(g, json_loadb, 1, &fj);
    run(g, jsonr_loadb, 1, &fr);
    fj = fr = 0;
    tj = run(g, json_loadb, reps, &fj);
    tr = run(g, jsonr_loadb, reps, &fr);
    mb = (double)g->bytes * reps / 1e6;
    printf("%-12s %6zu inputs %9.2f MB x %d: json_loadb %7.1f MB/s, jsonr_loadb %7.1f MB/s, "
           "ratio %.2fx%s\n",
        g->name, g->n, (double)g->bytes / 1e6, reps, mb / tj, mb / tr, tj / tr,
        fj != fr ? " (DIFFERENT failure counts!)" : "");
}

int
main(int argc, char **argv)
{
    int reps = 20, i = 1;
    size_t k;

    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        char *e;
        long n = strtol(argv[2], &e, 10);

        reps = *e == '\0' && n > 0 && n < 1000000 ? (int)n : 0;
        i = 3;
    }
    if (reps <= 0 || i >= argc) {
        fprintf(stderr, "usage: jsonr [-n REPS] PATH...\n");
        return 2;
    }
    for (; i < argc; i++)
        walk(argv[i]);
    bench(&files, reps);
    bench(&rows, reps);
    for (k = 0; k < nowned; k++)
        free(owned[k]);
    free(owned);
    free(files.in);
    free(rows.in);
    return 0;
}
