/*
 * sampleorg.h: walks the bundled sample organisation
 * (examples/sample-org/accounts/ACCOUNT/REGION/resources.ndjson) for the
 * unit tests that map it. Header-only like testutil.h (include that
 * first); a line that is not JSON fails a CHECK naming file:line.
 */
#pragma once

#include <dirent.h>
#include <stdio.h>

#include <jansson.h>

/* Called once per target: its items (borrowed), the file they came from
 * and its number of lines. */
typedef void (*sampleorg_fn)(void *ctx, const char *account, const char *region, json_t *items,
    const char *file, size_t lines);

/* Calls fn for every target under data_dir/../../../examples/sample-org
 * (data_dir is a test's tests/data/<name>). Returns the number of targets,
 * or -1 when the sample organisation is not there. */
static int
sampleorg_foreach(const char *data_dir, sampleorg_fn fn, void *ctx)
{
    char root[1100];
    DIR *accounts;
    struct dirent *a;
    int targets = 0;

    snprintf(root, sizeof(root), "%s/../../../examples/sample-org/accounts", data_dir);
    accounts = opendir(root);
    if (accounts == NULL)
        return -1;
    while ((a = readdir(accounts)) != NULL) {
        char adir[1400];
        DIR *regions;
        struct dirent *r;

        if (a->d_name[0] == '.')
            continue;
        snprintf(adir, sizeof(adir), "%s/%s", root, a->d_name);
        regions = opendir(adir);
        if (regions == NULL)
            continue;
        while ((r = readdir(regions)) != NULL) {
            char file[1800], *line = NULL;
            size_t cap = 0, lines = 0;
            FILE *f;
            json_t *items;

            if (r->d_name[0] == '.')
                continue;
            snprintf(file, sizeof(file), "%s/%s/resources.ndjson", adir, r->d_name);
            f = fopen(file, "re");
            if (f == NULL)
                continue;
            items = json_array();
            while (getline(&line, &cap, f) > 0) {
                json_t *v = json_loads(line, 0, NULL);

                lines++;
                CHECK_MSG(v != NULL, "%s:%zu: not JSON", file, lines);
                if (v != NULL)
                    json_array_append_new(items, v);
            }
            free(line);
            fclose(f);
            fn(ctx, a->d_name, r->d_name, items, file, lines);
            json_decref(items);
            targets++;
        }
        closedir(regions);
    }
    closedir(accounts);
    return targets;
}
