/*
 * bench/dataset.c: see dataset.h. The generator writes every version of a
 * resource (its history) to resources.ndjson; what AWS Config would return
 * now is the newest version of each, without the deleted ones.
 */
#include "bench/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "mapping/map.h"

int
bench_target_names(const char *dir, char account[BENCH_ACCOUNT_LEN],
    char region[BENCH_REGION_LEN], struct err *err)
{
    char buf[4096];
    char *slash, *prev;
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(buf))
        return err_set(err, ERR_CONFIG, "target directory '%.200s': bad path", dir);
    memcpy(buf, dir, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    slash = strrchr(buf, '/');
    if (slash == NULL)
        return err_set(err, ERR_CONFIG, "%s: want a path ending in <account>/<region>", dir);
    *slash = '\0';
    prev = strrchr(buf, '/');
    prev = prev != NULL ? prev + 1 : buf;
    if (strlen(prev) != 12 || strlen(slash + 1) == 0 || strlen(slash + 1) >= BENCH_REGION_LEN)
        return err_set(err, ERR_CONFIG, "%s: want a path ending in <12-digit account>/<region>",
            dir);
    memcpy(account, prev, 13); /* lengths checked above */
    memcpy(region, slash + 1, strlen(slash + 1) + 1);
    return 0;
}

/* Keeps item (stolen) in latest under type|id unless a newer one is there. */
static int
keep_newest(json_t *latest, json_t *item, const char *type, const char *id)
{
    const char *when = json_string_value(json_object_get(item, "configurationItemCaptureTime"));
    const char *old_when;
    json_t *old;
    char k[1024];

    snprintf(k, sizeof(k), "%s|%s", type, id);
    old = json_object_get(latest, k);
    old_when = json_string_value(json_object_get(old, "configurationItemCaptureTime"));
    if (old != NULL && when != NULL && old_when != NULL && strcmp(old_when, when) > 0) {
        json_decref(item);
        return 0;
    }
    return json_object_set_new(latest, k, item);
}

int
bench_load_items(const struct map_rules *rules, const char *dir, json_t **ret, struct err *err)
{
    char path[4200];
    json_t *latest = json_object(), *items = NULL, *item;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    ssize_t len;
    const char *key;
    int rc = -1;

    *ret = NULL;
    if (latest == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    snprintf(path, sizeof(path), "%s/resources.ndjson", dir);
    f = fopen(path, "re");
    if (f == NULL) {
        err_set(err, ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        const char *type, *id;

        lineno++;
        item = jsonr_loadb(line, (size_t)len, 0, &jerr);
        if (!json_is_object(item)) {
            json_decref(item);
            err_set(err, ERR_CONFIG, "%s:%ld: not a JSON object (%s)", path, lineno,
                item == NULL ? jerr.text : "another JSON value");
            goto out;
        }
        type = json_string_value(json_object_get(item, "resourceType"));
        id = json_string_value(json_object_get(item, "resourceId"));
        if (type == NULL || id == NULL) {
            json_decref(item);
            err_set(err, ERR_CONFIG, "%s:%ld: no resourceType/resourceId", path, lineno);
            goto out;
        }
        if (!map_rules_has_type(rules, type)) {
            json_decref(item);
            continue;
        }
        if (keep_newest(latest, item, type, id) < 0) {
            err_set(err, ERR_INTERNAL, "%s:%ld: out of memory", path, lineno);
            goto out;
        }
    }
    if (ferror(f)) {
        err_set(err, ERR_CONFIG, "%s: read error after line %ld", path, lineno);
        goto out;
    }
    items = json_array();
    if (items == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    json_object_foreach(latest, key, item) {
        const char *st = json_string_value(json_object_get(item, "configurationItemStatus"));

        if (st != NULL && strcmp(st, "ResourceDeleted") == 0)
            continue;
        if (json_array_append(items, item) < 0) {
            err_set(err, ERR_INTERNAL, "%s: out of memory", path);
            goto out;
        }
    }
    *ret = items;
    items = NULL;
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    free(line);
    json_decref(latest);
    json_decref(items);
    return rc;
}

double
bench_cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
bench_free_texts(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
