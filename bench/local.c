/*
 * bench/local.c: the local-processing benchmark (project, map, stage,
 * apply) that bench/run builds and runs; not part of the daemon or of its
 * tests.
 *
 * Why a separate program: `driftsync sync` also spends CPU on HTTP, SigV4
 * and the parsing of AWS's pages, so its items per CPU-second understate
 * what the daemon's own pipeline costs. This program feeds a synthetic
 * organisation's items (dataset form, which is the form discovery emits:
 * tags as a map, configuration as an object) through the same library
 * calls the worker (daemon/target.c) and the commit (daemon/sync.c) make,
 * single-threaded, and times each phase with the process CPU clock:
 *   parse   reading resources.ndjson (newest version of each resource, the
 *           deleted left out, types the rules know), for reference only;
 *   sha     SHA-256 of each item's text as AWS would send it (the compact
 *           dump of the dataset item stands in for Select's row text; the
 *           dump itself is untimed): all an unchanged read costs per item
 *           before the store (itemcache_known);
 *   project per item: SHA-256 as above, its identity (discover_item_ident),
 *           map_project and the compact dump kept as the worker keeps it;
 *   map     per target: the projected texts parsed back, map_target, the
 *           canonical dump (compact, sorted keys) of every model and of the
 *           account document, their link documents (store_staged_model_make)
 *           and their digest (store_staged_models_sum), as the worker
 *           stages them;
 *   store1  the first run: store_stage_reset, then per target
 *           store_stage_models, store_stage_items (batches of 1000, as
 *           target.c) and store_stage_part; then store_run_begin and one
 *           transaction with store_apply_staged per target, the run's
 *           record, commit;
 *   store2  the unchanged run, after every discovered model was saved as
 *           the VPC's model (store_model_put, untimed): store_stage_reset,
 *           store_stage_reuse + store_stage_part(reused) per target, then
 *           the same transaction (every VPC is only touched);
 *   store2_changed  the worst case, every VPC changed: store1's staging
 *           after the models were saved, with each model's text dumped
 *           with ", "/": " separators (untimed): same content, so nothing
 *           opens, but no staged text equals its stored snapshot, so every
 *           VPC is parsed, checked, rewritten, diffed and reconciled. (The
 *           canonical texts again would be only touched: store_model_put
 *           reconciles, so the snapshot and its reconcile digest match.)
 * Pipelines: first run = project + map + store1; unchanged run = sha +
 * store2; everything changed = project + map + store2_changed.
 * Output: one JSON object on stdout. Usage:
 *   local STATE_DB TARGET_DIR...   (TARGET_DIR = accounts/<id>/<region>)
 * Errors name the file and line (or the target and phase) and exit 1; bad
 * input never aborts.
 */
#include <sys/resource.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "bench/dataset.h"
#include "daemon/err.h"
#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "mapping/map.h"
#include "providers/aws/discover.h"
#include "store/store.h"

#define HASH_LEN    32   /* SHA-256, as daemon/itemcache.h */
#define STAGE_BATCH 1000 /* items per store_stage_items, as target.c */
/* The canonical form the store compares snapshots in (target.c, store.c). */
#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
/* Same content, different bytes: the "everything changed" texts. */
#define LOOSE_FLAGS (JSON_SORT_KEYS | JSON_ENCODE_ANY)

struct target {
    char account[BENCH_ACCOUNT_LEN];
    char region[BENCH_REGION_LEN];
    json_t *items;                  /* owned: current items; dropped after project */
    size_t n;                       /* items */
    char **orig;                    /* owned, each owned: AWS's text stand-in; dropped after
                                       project */
    unsigned char (*hash)[HASH_LEN]; /* owned: per item */
    char **ident;                   /* owned, each owned: per item */
    char **proj;                    /* owned, each owned: projected compact text per item */
    struct map_result res;          /* owned */
    struct store_staged_model *models; /* owned; model texts owned, vpc_id/name borrowed
                                          from res */
    size_t nmodels;
    char sum[65];                   /* store_staged_models_sum of models, "" when none */
    char **loose;                   /* owned, each owned: parallel to models (store2_changed) */
};

struct apply_totals {
    long vpcs;
    long unchanged;
};



static void
target_clear(struct target *t)
{
    json_decref(t->items);
    bench_free_texts(t->orig, t->n);
    bench_free_texts(t->ident, t->n);
    bench_free_texts(t->proj, t->n);
    free(t->hash);
    for (size_t i = 0; i < t->nmodels; i++)
        store_staged_model_clear(&t->models[i]);
    free(t->models);
    bench_free_texts(t->loose, t->nmodels);
    map_result_clear(&t->res);
    memset(t, 0, sizeof(*t));
}

/* Reads dir/resources.ndjson into t->items (bench_load_items). */
static int
load_target(const struct map_rules *rules, const char *dir, struct target *t, struct err *err)
{
    if (bench_target_names(dir, t->account, t->region, err) < 0 ||
        bench_load_items(rules, dir, &t->items, err) < 0)
        return -1;
    t->n = json_array_size(t->items);
    return 0;
}

/* Untimed: the per-item arrays, and each item's compact text (the stand-in
 * for the row text AWS sends). */
static int
prepare_target(struct target *t, struct err *err)
{
    t->orig = calloc(t->n + 1, sizeof(*t->orig));
    t->ident = calloc(t->n + 1, sizeof(*t->ident));
    t->proj = calloc(t->n + 1, sizeof(*t->proj));
    t->hash = calloc(t->n + 1, sizeof(*t->hash));
    if (t->orig == NULL || t->ident == NULL || t->proj == NULL || t->hash == NULL)
        return err_set(err, ERR_INTERNAL, "%s/%s: out of memory", t->account, t->region);
    for (size_t j = 0; j < t->n; j++) {
        t->orig[j] = json_dumps(json_array_get(t->items, j), JSON_COMPACT);
        if (t->orig[j] == NULL)
            return err_set(err, ERR_INTERNAL, "%s/%s: out of memory dumping item %zu",
                t->account, t->region, j + 1);
    }
    return 0;
}

static int
sha256(const char *text, unsigned char *out, struct err *err)
{
    unsigned int mdlen = 0;

    if (EVP_Digest(text, strlen(text), out, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != HASH_LEN)
        return err_set(err, ERR_INTERNAL, "SHA-256 failed");
    return 0;
}

static int
sha_target(struct target *t, struct err *err)
{
    for (size_t j = 0; j < t->n; j++) {
        if (sha256(t->orig[j], t->hash[j], err) < 0)
            return err_prefix(err, "%s/%s item %zu", t->account, t->region, j + 1);
    }
    return 0;
}

/* What the worker does per uncached row (collect_item, known_row). */
static int
project_target(const struct map_rules *rules, struct target *t, struct err *err)
{
    for (size_t j = 0; j < t->n; j++) {
        json_t *item = json_array_get(t->items, j), *proj;
        char ident[DISCOVER_IDENT_MAX];

        if (sha256(t->orig[j], t->hash[j], err) < 0)
            return err_prefix(err, "%s/%s item %zu", t->account, t->region, j + 1);
        discover_item_ident(item, ident, sizeof(ident));
        t->ident[j] = strdup(ident);
        proj = map_project(rules, item);
        t->proj[j] = proj != NULL ? jsonw_dumps(proj, JSON_COMPACT) : NULL;
        json_decref(proj);
        if (t->ident[j] == NULL || t->proj[j] == NULL)
            return err_set(err, ERR_INTERNAL, "%s/%s: out of memory projecting item %zu",
                t->account, t->region, j + 1);
    }
    return 0;
}

/* What map_group and stage_result do, without the store. */
static int
map_one(const struct map_rules *rules, struct target *t, struct err *err)
{
    json_t *items = json_array();
    const char *vpc;
    json_t *model;
    size_t k = 0;
    int rc = -1;

    if (items == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    for (size_t j = 0; j < t->n; j++) {
        json_error_t jerr;
        json_t *item = jsonr_loads(t->proj[j], JSON_ALLOW_NUL, &jerr);

        if (item == NULL || json_array_append_new(items, item) < 0) {
            err_set(err, ERR_INTERNAL, "%s/%s: re-reading projected item %zu: %s", t->account,
                t->region, j + 1, item == NULL ? jerr.text : "out of memory");
            goto out;
        }
    }
    if (map_target(rules, t->account, t->region, items, &t->res, err) < 0) {
        err_prefix(err, "map_target %s/%s", t->account, t->region);
        goto out;
    }
    json_decref(items);
    items = NULL;
    t->models = calloc(json_object_size(t->res.models) + 1, sizeof(*t->models));
    if (t->models == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    json_object_foreach(t->res.models, vpc, model) {
        if (store_staged_model_make(&t->models[k], vpc, model) < 0) {
            t->nmodels = k + 1;
            err_set(err, ERR_INTERNAL, "%s/%s/%s: out of memory dumping the model", t->account,
                t->region, vpc);
            goto out;
        }
        t->nmodels = ++k;
    }
    if (t->res.account != NULL) {
        if (store_staged_model_make(&t->models[k], NULL, t->res.account) < 0) {
            t->nmodels = k + 1;
            err_set(err, ERR_INTERNAL, "%s/%s: out of memory dumping the account document",
                t->account, t->region);
            goto out;
        }
        t->nmodels = ++k;
    }
    /* as stage_result: hashed in the worker, beside the texts */
    if (store_staged_models_sum(t->models, t->nmodels, t->sum) < 0)
        t->sum[0] = '\0';
    rc = 0;
out:
    json_decref(items);
    return rc;
}

/* Untimed: the store2_changed texts (same content, other bytes). */
static int
loosen_target(struct target *t, struct err *err)
{
    t->loose = calloc(t->nmodels + 1, sizeof(*t->loose));
    if (t->loose == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    for (size_t k = 0; k < t->nmodels; k++) {
        json_t *doc = t->models[k].vpc_id != NULL
                          ? json_object_get(t->res.models, t->models[k].vpc_id)
                          : t->res.account;

        t->loose[k] = json_dumps(doc, LOOSE_FLAGS);
        if (t->loose[k] == NULL)
            return err_set(err, ERR_INTERNAL, "%s/%s: out of memory dumping a model",
                t->account, t->region);
    }
    return 0;
}

/* What the worker stages for a read that is not reused: the models (or,
 * with loose, their loose texts), the rows and the target's facts. */
static int
stage_fresh(struct store *st, const char *rules_digest, struct target *t, int64_t index,
    int loose, struct err *err)
{
    struct store_staged_model *v = t->models;
    struct store_staged_item batch[STAGE_BATCH];
    char *unmapped = NULL;
    size_t j = 0;
    int rc = -1;

    if (loose) {
        v = calloc(t->nmodels + 1, sizeof(*v));
        if (v == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory");
        for (size_t k = 0; k < t->nmodels; k++) {
            v[k] = t->models[k];
            v[k].model = t->loose[k];
        }
    }
    /* the loose texts are other bytes: their digest is the commit's to make */
    if (store_stage_models(st, index, t->account, t->region, v, t->nmodels,
            !loose && t->sum[0] != '\0' ? t->sum : NULL, err) < 0)
        goto out;
    while (j < t->n) {
        size_t n = 0;

        for (; j < t->n && n < STAGE_BATCH; j++, n++) {
            batch[n].hash = t->hash[j];
            batch[n].hash_len = HASH_LEN;
            batch[n].ident = t->ident[j];
            batch[n].item = t->proj[j];
        }
        if (store_stage_items(st, index, batch, n, err) < 0)
            goto out;
    }
    unmapped = jsonw_dumps(t->res.unmapped, CANON_FLAGS);
    if (unmapped == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (store_stage_part(st, index, t->account, t->region, rules_digest, unmapped, 0, err) < 0)
        goto out;
    rc = 0;
out:
    free(unmapped);
    if (v != t->models)
        free(v);
    if (rc < 0)
        err_prefix(err, "staging %s/%s", t->account, t->region);
    return rc;
}

/* What the worker stages for a read equal to the last one (reuse_last). */
static int
stage_reused(struct store *st, const char *rules_digest, struct target *t, int64_t index,
    struct err *err)
{
    json_t *unmapped = NULL;
    char *text = NULL;
    long vpcs = 0;
    int rc = -1;

    if (store_stage_reuse(st, index, t->account, t->region, &vpcs, &unmapped, err) < 0)
        goto out;
    if (vpcs != (long)json_object_size(t->res.models)) {
        err_set(err, ERR_INTERNAL, "reused %ld VPCs where the mapping gave %zu", vpcs,
            json_object_size(t->res.models));
        goto out;
    }
    text = jsonw_dumps(unmapped, CANON_FLAGS);
    if (text == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (store_stage_part(st, index, t->account, t->region, rules_digest, text, 1, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(unmapped);
    free(text);
    if (rc < 0)
        err_prefix(err, "reusing %s/%s", t->account, t->region);
    return rc;
}

/* The commit (sync.c's commit_run without compliance): the run, then one
 * all-or-nothing transaction (store_begin_all, as sync.c: no savepoint per
 * call, so no statement journal) with every target's staged VPCs and the
 * run's record. */
static int
apply_all(struct store *st, struct target *t, size_t n, struct apply_totals *ret,
    struct err *err)
{
    struct store_run_stats stats = {.targets_total = (long)n};
    struct apply_totals tot = {0};
    int64_t run_id = 0;

    if (store_run_begin(st, time(NULL), &run_id, err) < 0 || store_begin_all(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct store_apply_stats as = {0};

        if (store_apply_staged(st, run_id, time(NULL), (int64_t)i, t[i].account, t[i].region,
                NULL, 0, &as, err) < 0) {
            store_rollback(st);
            return err_prefix(err, "store_apply_staged %s/%s", t[i].account, t[i].region);
        }
        tot.vpcs += as.vpcs;
        tot.unchanged += as.unchanged;
        stats.resources_seen += (long)t[i].n;
    }
    if (store_run_finish(st, run_id, time(NULL), "ok", &stats, NULL, NULL, err) < 0 ||
        store_commit(st, err) < 0) {
        store_rollback(st);
        return -1;
    }
    *ret = tot;
    return 0;
}

/* store1 and store2_changed: stage every target fresh, then commit. */
static int
run_fresh(struct store *st, const char *rules_digest, struct target *t, size_t n, int loose,
    struct apply_totals *ret, struct err *err)
{
    if (store_stage_reset(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (stage_fresh(st, rules_digest, &t[i], (int64_t)i, loose, err) < 0)
            return -1;
    }
    return apply_all(st, t, n, ret, err);
}

/* store2: every target reused, then commit. */
static int
run_reused(struct store *st, const char *rules_digest, struct target *t, size_t n,
    struct apply_totals *ret, struct err *err)
{
    if (store_stage_reset(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (stage_reused(st, rules_digest, &t[i], (int64_t)i, err) < 0)
            return -1;
    }
    return apply_all(st, t, n, ret, err);
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

static double
rate(size_t items, double s)
{
    return s > 0 ? (double)items / s : 0;
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct store *st = NULL;
    struct target *t = NULL;
    struct err err = {0};
    struct apply_totals a1 = {0}, a2 = {0}, a3 = {0};
    struct rusage ru;
    size_t n = argc > 2 ? (size_t)argc - 2 : 0, items = 0, vpcs = 0;
    double c0, parse_s, sha_s, project_s, map_s, store1_s, store2_s, store2c_s;
    const char *digest;
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
    digest = map_rules_digest(rules);
    if (digest == NULL) {
        err_set(&err, ERR_INTERNAL, "the built-in rules have no digest");
        goto out;
    }

    c0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++) {
        if (load_target(rules, argv[i + 2], &t[i], &err) < 0)
            goto out;
        items += t[i].n;
    }
    parse_s = bench_cpu_now() - c0;
    for (size_t i = 0; i < n; i++) {
        if (prepare_target(&t[i], &err) < 0)
            goto out;
    }

    c0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++) {
        if (sha_target(&t[i], &err) < 0)
            goto out;
    }
    sha_s = bench_cpu_now() - c0;

    c0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++) {
        if (project_target(rules, &t[i], &err) < 0)
            goto out;
    }
    project_s = bench_cpu_now() - c0;
    for (size_t i = 0; i < n; i++) { /* as the worker: the originals go once projected */
        json_decref(t[i].items);
        t[i].items = NULL;
        bench_free_texts(t[i].orig, t[i].n);
        t[i].orig = NULL;
    }

    c0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++) {
        if (map_one(rules, &t[i], &err) < 0)
            goto out;
        vpcs += json_object_size(t[i].res.models);
    }
    map_s = bench_cpu_now() - c0;

    if (store_open(argv[1], &st, &err) < 0)
        goto out;
    c0 = bench_cpu_now();
    if (run_fresh(st, digest, t, n, 0, &a1, &err) < 0) {
        err_prefix(&err, "store1");
        goto out;
    }
    store1_s = bench_cpu_now() - c0;

    if (save_models(st, t, n, &err) < 0)
        goto out;
    c0 = bench_cpu_now();
    if (run_reused(st, digest, t, n, &a2, &err) < 0) {
        err_prefix(&err, "store2");
        goto out;
    }
    store2_s = bench_cpu_now() - c0;

    for (size_t i = 0; i < n; i++) {
        if (loosen_target(&t[i], &err) < 0)
            goto out;
    }
    c0 = bench_cpu_now();
    if (run_fresh(st, digest, t, n, 1, &a3, &err) < 0) {
        err_prefix(&err, "store2_changed");
        goto out;
    }
    store2c_s = bench_cpu_now() - c0;

    getrusage(RUSAGE_SELF, &ru);
    printf("{\"targets\": %zu, \"items\": %zu, \"vpcs\": %zu, \"parse_s\": %.3f, \"sha_s\": %.3f, "
           "\"project_s\": %.3f, \"map_s\": %.3f, \"store1_s\": %.3f, \"store2_s\": %.3f, "
           "\"store2_changed_s\": %.3f, "
           "\"parse_items_per_s\": %.0f, \"sha_items_per_s\": %.0f, "
           "\"project_items_per_s\": %.0f, \"map_items_per_s\": %.0f, "
           "\"store1_items_per_s\": %.0f, \"store2_items_per_s\": %.0f, "
           "\"store2_changed_items_per_s\": %.0f, "
           "\"first_items_per_s\": %.0f, \"unchanged_items_per_s\": %.0f, "
           "\"changed_items_per_s\": %.0f, "
           "\"store1_vpcs\": %ld, \"store1_vpcs_unchanged\": %ld, "
           "\"store2_vpcs\": %ld, \"store2_vpcs_unchanged\": %ld, "
           "\"store2_changed_vpcs\": %ld, \"store2_changed_vpcs_unchanged\": %ld, "
           "\"peak_rss_kb\": %ld}\n",
        n, items, vpcs, parse_s, sha_s, project_s, map_s, store1_s, store2_s, store2c_s,
        rate(items, parse_s), rate(items, sha_s), rate(items, project_s), rate(items, map_s),
        rate(items, store1_s), rate(items, store2_s), rate(items, store2c_s),
        rate(items, project_s + map_s + store1_s), rate(items, sha_s + store2_s),
        rate(items, project_s + map_s + store2c_s), a1.vpcs, a1.unchanged, a2.vpcs,
        a2.unchanged, a3.vpcs, a3.unchanged, ru.ru_maxrss);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "local: %s\n", err.msg);
    for (size_t i = 0; i < n; i++)
        target_clear(&t[i]);
    free(t);
    store_close(st);
    map_rules_free(rules);
    return rc;
}
