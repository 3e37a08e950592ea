/*
 * bench/local.c: the local-processing benchmark (map, diff, store) that
 * bench/run builds and runs; not part of the daemon or of its tests.
 *
 * Why a separate program: `driftsync sync` also spends CPU on HTTP, SigV4
 * and JSON parsing of AWS's pages, so its items per CPU-second understate
 * what mapping, diffing and storing cost. This program feeds a synthetic
 * organisation's items (dataset form, which is the form discovery emits:
 * tags as a map, configuration as an object) straight into the same
 * library code, single-threaded, and times each phase with the process CPU
 * clock:
 *   parse   reading resources.ndjson (newest version of each resource, the
 *           deleted left out, types the rules know), for reference only;
 *   map     map_target per target;
 *   store1  the first run: store_apply_target of every target in one
 *           transaction, no saved models (no diff, everything new);
 *   store2  the unchanged run: every discovered model was saved as the
 *           VPC's model (untimed), so each VPC is diffed (diff_models) and
 *           reconciled with nothing to change.
 * Output: one JSON object on stdout. Usage:
 *   local STATE_DB TARGET_DIR...   (TARGET_DIR = accounts/<id>/<region>)
 * Errors name the file and line and exit 1; bad input never aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/err.h"
#include "mapping/map.h"
#include "store/store.h"

struct target {
    char account[16];
    char region[48];
    json_t *items;          /* owned: the target's current items */
    struct map_result res;  /* owned */
};

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dir = .../accounts/<account>/<region>: the last two components. */
static int
target_names(const char *dir, struct target *t, struct err *err)
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
    if (strlen(prev) != 12 || strlen(slash + 1) == 0 || strlen(slash + 1) >= sizeof(t->region))
        return err_set(err, ERR_CONFIG, "%s: want a path ending in <12-digit account>/<region>",
            dir);
    snprintf(t->account, sizeof(t->account), "%s", prev);
    snprintf(t->region, sizeof(t->region), "%s", slash + 1);
    return 0;
}

/* Reads dir/resources.ndjson into t->items: newest version per type+id,
 * deletions dropped, only types the rules know. */
static int
load_target(const struct map_rules *rules, const char *dir, struct target *t, struct err *err)
{
    char path[4200];
    json_t *latest = json_object();
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    ssize_t len;
    const char *key;
    json_t *item;
    int rc = -1;

    if (latest == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (target_names(dir, t, err) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/resources.ndjson", dir);
    f = fopen(path, "re");
    if (f == NULL) {
        err_set(err, ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        const char *type, *id, *when, *old_when;
        json_t *old;
        char k[1024];

        lineno++;
        item = json_loadb(line, (size_t)len, 0, &jerr);
        if (!json_is_object(item)) {
            json_decref(item);
            err_set(err, ERR_CONFIG, "%s:%ld: not a JSON object (%s)", path, lineno, jerr.text);
            goto out;
        }
        type = json_string_value(json_object_get(item, "resourceType"));
        id = json_string_value(json_object_get(item, "resourceId"));
        when = json_string_value(json_object_get(item, "configurationItemCaptureTime"));
        if (type == NULL || id == NULL) {
            json_decref(item);
            err_set(err, ERR_CONFIG, "%s:%ld: no resourceType/resourceId", path, lineno);
            goto out;
        }
        if (!map_rules_has_type(rules, type)) {
            json_decref(item);
            continue;
        }
        snprintf(k, sizeof(k), "%s|%s", type, id);
        old = json_object_get(latest, k);
        old_when = json_string_value(json_object_get(old, "configurationItemCaptureTime"));
        if (old != NULL && when != NULL && old_when != NULL && strcmp(old_when, when) > 0) {
            json_decref(item);
            continue;
        }
        json_object_set_new(latest, k, item);
    }
    t->items = json_array();
    if (t->items == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    json_object_foreach(latest, key, item) {
        const char *st = json_string_value(json_object_get(item, "configurationItemStatus"));

        if (st != NULL && strcmp(st, "ResourceDeleted") == 0)
            continue;
        json_array_append(t->items, item);
    }
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    free(line);
    json_decref(latest);
    return rc;
}

static int
apply_all(struct store *st, struct target *t, size_t n, struct err *err)
{
    int64_t run_id = 0;

    if (store_run_begin(st, time(NULL), &run_id, err) < 0 || store_begin(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (store_apply_target(st, run_id, time(NULL), t[i].account, t[i].region,
                t[i].res.models, NULL, 0, NULL, err) < 0) {
            store_rollback(st);
            return err_prefix(err, "store_apply_target %s/%s", t[i].account, t[i].region);
        }
    }
    return store_commit(st, err);
}

static int
save_models(struct store *st, struct target *t, size_t n, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *vpc;
        json_t *model;

        json_object_foreach(t[i].res.models, vpc, model) {
            struct store_vpc_ref ref = {.account_id = t[i].account, .region = t[i].region,
                .vpc_id = (char *)(uintptr_t)vpc};

            if (store_model_put(st, &ref, model, "import", time(NULL), NULL, 0, err) < 0)
                return err_prefix(err, "store_model_put %s/%s/%s", t[i].account, t[i].region,
                    vpc);
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct store *st = NULL;
    struct target *t = NULL;
    struct err err = {0};
    size_t n = argc > 2 ? (size_t)argc - 2 : 0, items = 0, vpcs = 0;
    double c0, parse_s, map_s, store1_s, store2_s;
    int rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s STATE_DB TARGET_DIR...\n", argv[0]);
        return 2;
    }
    t = calloc(n, sizeof(*t));
    if (t == NULL) {
        fprintf(stderr, "local: out of memory\n");
        return 1;
    }
    if (map_rules_load(NULL, &rules, &err) < 0)
        goto out;
    c0 = cpu_now();
    for (size_t i = 0; i < n; i++) {
        if (load_target(rules, argv[i + 2], &t[i], &err) < 0)
            goto out;
        items += json_array_size(t[i].items);
    }
    parse_s = cpu_now() - c0;
    c0 = cpu_now();
    for (size_t i = 0; i < n; i++) {
        if (map_target(rules, t[i].account, t[i].region, t[i].items, &t[i].res, &err) < 0) {
            err_prefix(&err, "map_target %s/%s", t[i].account, t[i].region);
            goto out;
        }
        vpcs += json_object_size(t[i].res.models);
    }
    map_s = cpu_now() - c0;
    for (size_t i = 0; i < n; i++) { /* as target.c does: items go once mapped */
        json_decref(t[i].items);
        t[i].items = NULL;
    }
    if (store_open(argv[1], &st, &err) < 0)
        goto out;
    c0 = cpu_now();
    if (apply_all(st, t, n, &err) < 0)
        goto out;
    store1_s = cpu_now() - c0;
    if (save_models(st, t, n, &err) < 0)
        goto out;
    c0 = cpu_now();
    if (apply_all(st, t, n, &err) < 0)
        goto out;
    store2_s = cpu_now() - c0;
    printf("{\"targets\": %zu, \"items\": %zu, \"vpcs\": %zu, \"parse_s\": %.3f, \"map_s\": %.3f, "
           "\"store1_s\": %.3f, \"store2_s\": %.3f, \"map_items_per_s\": %.0f, "
           "\"first_items_per_s\": %.0f, \"unchanged_items_per_s\": %.0f}\n",
        n, items, vpcs, parse_s, map_s, store1_s, store2_s, map_s > 0 ? (double)items / map_s : 0,
        map_s + store1_s > 0 ? (double)items / (map_s + store1_s) : 0,
        map_s + store2_s > 0 ? (double)items / (map_s + store2_s) : 0);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "local: %s\n", err.msg);
    for (size_t i = 0; i < n; i++) {
        json_decref(t[i].items);
        map_result_clear(&t[i].res);
    }
    free(t);
    store_close(st);
    map_rules_free(rules);
    return rc;
}
