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
 * and times each phase with the process CPU clock.
 *
 * Targets flow one at a time, as through a worker: a target is read,
 * hashed, projected (its originals then dropped), mapped and staged in the
 * store, and its trees and texts are freed before the next one is read, so
 * the program holds one target at a time (as the daemon holds one per
 * worker) and the staged texts live in the store's staging file. Each
 * phase's CPU time is summed over the targets:
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
 *   store1  the first run: store_stage_reset, then per target (as it is
 *           mapped) store_stage_models, store_stage_items (batches of 1000)
 *           and store_stage_part; then store_run_begin and one transaction
 *           with store_apply_staged per target, the run's record, commit;
 *   store2  the unchanged run, after every discovered model was saved as
 *           the VPC's model (store_model_put, untimed: each target is read,
 *           projected and mapped again for it, untimed): store_stage_reset,
 *           store_stage_reuse + store_stage_part(reused) per target, then
 *           the same transaction (every VPC is only touched);
 *   store2_changed  the worst case, every VPC changed: store1's staging
 *           after the models were saved, each target read, projected and
 *           mapped again (untimed) and each model's text dumped with
 *           ", "/": " separators (untimed): same content, so nothing opens,
 *           but no staged text equals its stored snapshot, so every VPC is
 *           parsed, checked, rewritten, diffed and reconciled. (The
 *           canonical texts again would be only touched: store_model_put
 *           reconciles, so the snapshot and its reconcile digest match.)
 * The store sees the calls of a run in the order the all-at-once layout
 * of earlier rounds made them, so the database it leaves is the same.
 *   release the first run's frees of what a target's mapping made, once it
 *           is staged (projected texts, map results, model texts): the
 *           worker pays them, so the first run counts them (earlier rounds
 *           left them out).
 * Pipelines: first run = project + map + store1 + release; unchanged run =
 * sha + store2; everything changed = project + map + store2_changed. The
 * originals' frees once projected belong to page parsing (the discovery
 * drops each page's trees), which is reference only like parse: reported
 * apart (free_s).
 *
 * --threads N (N > 1) adds, after the single-thread passes above (whose
 * keys keep their meaning), the first run as the daemon's workers make it:
 * into a fresh database STATE_DB.threads, N threads take targets from a
 * shared counter and each projects, maps and stages its target (every
 * store call under one mutex, as env->store_lock; the project phase
 * includes the hash, as in the first-run pipeline), then the main thread
 * commits as above. Targets are read (untimed, by the same threads) in
 * batches of 2N before each batch is processed, so the reading of the
 * dataset stays out of the figures and at most 2N targets are held: the
 * wall clock (CLOCK_MONOTONIC) and the process CPU clock are summed over
 * the batches' processing (first worker start to last worker end) and the
 * commit: first_wall_s, first_cpu_s, first_wall_items_per_s (the workers'
 * frees are inside them). threads_*_cpu_s split that CPU by phase (thread
 * CPU clocks, summed over the workers), threads_lock_wait_s is the wall
 * time the workers waited for the store mutex. STATE_DB.threads is removed
 * first and left for inspection. peak_rss_kb is taken after the
 * single-thread passes, threads_peak_rss_kb at the end.
 *
 * Output: one JSON object on stdout. Usage:
 *   local [--threads N] STATE_DB TARGET_DIR...   (TARGET_DIR =
 *   accounts/<id>/<region>)
 * Errors name the file and line (or the target and phase) and exit 1; bad
 * input never aborts.
 */
#include <sys/resource.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
#define STAGE_BATCH 1000 /* items per store_stage_items */
#define THREADS_MAX 64
/* The canonical form the store compares snapshots in (target.c, store.c). */
#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
/* Same content, different bytes: the "everything changed" texts. */
#define LOOSE_FLAGS (JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* One target while it is processed; freed (target_clear) before the next. */
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
    EVP_MD *md;                     /* owned: SHA-256, as itemcache.c keeps it for a read */
    EVP_MD_CTX *mdc;                /* owned */
};

/* What the later passes and the commit need of a target once it is freed. */
struct facts {
    char account[BENCH_ACCOUNT_LEN];
    char region[BENCH_REGION_LEN];
    size_t n;     /* items */
    size_t nvpcs; /* VPC models the mapping gave */
};

/* CPU seconds per phase, summed over the targets. free: dropping the
 * originals once projected and the rest once staged (outside the phases,
 * as in earlier rounds; reported apart). */
struct times {
    double parse, sha, project, map, store, free, release;
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
    EVP_MD_CTX_free(t->mdc);
    EVP_MD_free(t->md);
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

/* SHA-256 of text with the target's context, as itemcache_known hashes a
 * row (one context per read, made at the first row). */
static int
sha256(struct target *t, const char *text, unsigned char *out, struct err *err)
{
    unsigned int mdlen = 0;

    if ((t->md == NULL && (t->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) ||
        (t->mdc == NULL && (t->mdc = EVP_MD_CTX_new()) == NULL))
        return err_set(err, ERR_INTERNAL, "SHA-256 unavailable");
    if (EVP_DigestInit_ex2(t->mdc, t->md, NULL) != 1 ||
        EVP_DigestUpdate(t->mdc, text, strlen(text)) != 1 ||
        EVP_DigestFinal_ex(t->mdc, out, &mdlen) != 1 || mdlen != HASH_LEN)
        return err_set(err, ERR_INTERNAL, "SHA-256 failed");
    return 0;
}

static int
sha_target(struct target *t, struct err *err)
{
    for (size_t j = 0; j < t->n; j++) {
        if (sha256(t, t->orig[j], t->hash[j], err) < 0)
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

        if (sha256(t, t->orig[j], t->hash[j], err) < 0)
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

/* As the worker: the originals go once projected. */
static void
drop_originals(struct target *t)
{
    json_decref(t->items);
    t->items = NULL;
    bench_free_texts(t->orig, t->n);
    t->orig = NULL;
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

/* Reads, hashes, projects and maps dir's target into *t, adding each
 * phase's CPU time to *tm (the passes that only re-derive a target pass a
 * scratch one). The originals are dropped once projected. */
static int
derive_target(const struct map_rules *rules, const char *dir, struct target *t,
    struct times *tm, struct err *err)
{
    double c0 = bench_cpu_now(), c1;

    if (load_target(rules, dir, t, err) < 0)
        return -1;
    c1 = bench_cpu_now();
    tm->parse += c1 - c0;
    if (prepare_target(t, err) < 0)
        return -1;
    c0 = bench_cpu_now();
    if (sha_target(t, err) < 0)
        return -1;
    c1 = bench_cpu_now();
    tm->sha += c1 - c0;
    if (project_target(rules, t, err) < 0)
        return -1;
    c0 = bench_cpu_now();
    tm->project += c0 - c1;
    drop_originals(t);
    c1 = bench_cpu_now();
    tm->free += c1 - c0;
    c0 = c1;
    if (map_one(rules, t, err) < 0)
        return -1;
    tm->map += bench_cpu_now() - c0;
    return 0;
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

static double
mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The calling thread's CPU clock in seconds. */
static double
thread_cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A worker's hold on the shared store mutex, and the wall time it waited
 * for it. */
struct locker {
    pthread_mutex_t *mutex;
    double wait_s;
};

static void
lock(struct locker *l)
{
    double t0;

    if (l == NULL)
        return;
    t0 = mono_now();
    pthread_mutex_lock(l->mutex);
    l->wait_s += mono_now() - t0;
}

static void
unlock(struct locker *l)
{
    if (l != NULL)
        pthread_mutex_unlock(l->mutex);
}

/* What the worker stages for a read that is not reused: the models (or,
 * with loose, their loose texts), the rows and the target's facts. With
 * store_lock (may be NULL), each store call holds its mutex, as the worker
 * holds env->store_lock. */
static int
stage_fresh(struct store *st, struct locker *store_lock, const char *rules_digest,
    struct target *t, int64_t index, int loose, struct err *err)
{
    struct store_staged_model *v = t->models;
    struct store_staged_item batch[STAGE_BATCH];
    char *unmapped = NULL;
    size_t j = 0;
    int rc = -1, src;

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
    lock(store_lock);
    src = store_stage_models(st, index, t->account, t->region, v, t->nmodels,
        !loose && t->sum[0] != '\0' ? t->sum : NULL, err);
    unlock(store_lock);
    if (src < 0)
        goto out;
    while (j < t->n) {
        size_t n = 0;

        for (; j < t->n && n < STAGE_BATCH; j++, n++) {
            batch[n].hash = t->hash[j];
            batch[n].hash_len = HASH_LEN;
            batch[n].ident = t->ident[j];
            batch[n].item = t->proj[j];
        }
        lock(store_lock);
        src = store_stage_items(st, index, batch, n, err);
        unlock(store_lock);
        if (src < 0)
            goto out;
    }
    unmapped = jsonw_dumps(t->res.unmapped, CANON_FLAGS);
    if (unmapped == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    lock(store_lock);
    src = store_stage_part(st, index, t->account, t->region, rules_digest, unmapped, 0, err);
    unlock(store_lock);
    if (src < 0)
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
stage_reused(struct store *st, const char *rules_digest, const struct facts *f, int64_t index,
    struct err *err)
{
    json_t *unmapped = NULL;
    char *text = NULL;
    long vpcs = 0;
    int rc = -1;

    if (store_stage_reuse(st, index, f->account, f->region, &vpcs, &unmapped, err) < 0)
        goto out;
    if (vpcs != (long)f->nvpcs) {
        err_set(err, ERR_INTERNAL, "reused %ld VPCs where the mapping gave %zu", vpcs,
            f->nvpcs);
        goto out;
    }
    text = jsonw_dumps(unmapped, CANON_FLAGS);
    if (text == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (store_stage_part(st, index, f->account, f->region, rules_digest, text, 1, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(unmapped);
    free(text);
    if (rc < 0)
        err_prefix(err, "reusing %s/%s", f->account, f->region);
    return rc;
}

/* The commit (sync.c's commit_run without compliance): the run, then one
 * all-or-nothing transaction (store_begin_all, as sync.c: no savepoint per
 * call, so no statement journal) with every target's staged VPCs and the
 * run's record. */
static int
apply_all(struct store *st, const struct facts *f, size_t n, struct apply_totals *ret,
    struct err *err)
{
    struct store_run_stats stats = {.targets_total = (long)n};
    struct apply_totals tot = {0};
    int64_t run_id = 0;

    if (store_run_begin(st, time(NULL), &run_id, err) < 0 || store_begin_all(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct store_apply_stats as = {0};

        if (store_apply_staged(st, run_id, time(NULL), (int64_t)i, f[i].account, f[i].region,
                NULL, 0, &as, err) < 0) {
            store_rollback(st);
            return err_prefix(err, "store_apply_staged %s/%s", f[i].account, f[i].region);
        }
        tot.vpcs += as.vpcs;
        tot.unchanged += as.unchanged;
        stats.resources_seen += (long)f[i].n;
    }
    if (store_run_finish(st, run_id, time(NULL), "ok", &stats, NULL, NULL, err) < 0 ||
        store_commit(st, err) < 0) {
        store_rollback(st);
        return -1;
    }
    *ret = tot;
    return 0;
}

/* Untimed: every VPC model of t saved as the VPC's model. */
static int
save_models(struct store *st, const struct target *t, struct err *err)
{
    const char *vpc;
    json_t *model;

    json_object_foreach(t->res.models, vpc, model) {
        struct store_vpc_ref ref = {.account_id = (char *)(uintptr_t)t->account,
            .region = (char *)(uintptr_t)t->region, .vpc_id = (char *)(uintptr_t)vpc};

        if (store_model_put(st, &ref, model, "import", time(NULL), NULL, 0, err) < 0)
            return err_prefix(err, "store_model_put %s/%s/%s", t->account, t->region, vpc);
    }
    return 0;
}

/* store1: each target derived (timed into tm) and staged as soon as it is
 * mapped, then the commit; f gets each target's facts. */
static int
run_first(const struct map_rules *rules, struct store *st, const char *rules_digest,
    char *const *dirs, size_t n, struct facts *f, struct times *tm, struct apply_totals *ret,
    struct err *err)
{
    struct target t = {0};
    double c0 = bench_cpu_now(), c1;
    int rc = -1;

    if (store_stage_reset(st, err) < 0)
        goto out;
    tm->store += bench_cpu_now() - c0;
    for (size_t i = 0; i < n; i++) {
        if (derive_target(rules, dirs[i], &t, tm, err) < 0)
            goto out;
        memcpy(f[i].account, t.account, sizeof(f[i].account));
        memcpy(f[i].region, t.region, sizeof(f[i].region));
        f[i].n = t.n;
        f[i].nvpcs = json_object_size(t.res.models);
        c0 = bench_cpu_now();
        if (stage_fresh(st, NULL, rules_digest, &t, (int64_t)i, 0, err) < 0)
            goto out;
        c1 = bench_cpu_now();
        tm->store += c1 - c0;
        target_clear(&t);
        tm->release += bench_cpu_now() - c1;
    }
    c0 = bench_cpu_now();
    if (apply_all(st, f, n, ret, err) < 0)
        goto out;
    tm->store += bench_cpu_now() - c0;
    rc = 0;
out:
    target_clear(&t);
    return rc;
}

/* Untimed: each target derived again and its models saved. */
static int
run_save(const struct map_rules *rules, struct store *st, char *const *dirs, size_t n,
    struct err *err)
{
    struct target t = {0};
    struct times scratch = {0};
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        if (derive_target(rules, dirs[i], &t, &scratch, err) < 0 ||
            save_models(st, &t, err) < 0)
            goto out;
        target_clear(&t);
    }
    rc = 0;
out:
    target_clear(&t);
    return rc;
}

/* store2: every target reused, then commit (all of it timed into *ret_s). */
static int
run_reused(struct store *st, const char *rules_digest, const struct facts *f, size_t n,
    double *ret_s, struct apply_totals *ret, struct err *err)
{
    double c0 = bench_cpu_now();

    if (store_stage_reset(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (stage_reused(st, rules_digest, &f[i], (int64_t)i, err) < 0)
            return -1;
    }
    if (apply_all(st, f, n, ret, err) < 0)
        return -1;
    *ret_s = bench_cpu_now() - c0;
    return 0;
}

/* store2_changed: each target derived and loosened (untimed), its loose
 * texts staged, then the commit (the staging and commit timed into
 * *ret_s). */
static int
run_changed(const struct map_rules *rules, struct store *st, const char *rules_digest,
    char *const *dirs, const struct facts *f, size_t n, double *ret_s,
    struct apply_totals *ret, struct err *err)
{
    struct target t = {0};
    struct times scratch = {0};
    double c0 = bench_cpu_now(), s;
    int rc = -1;

    if (store_stage_reset(st, err) < 0)
        goto out;
    s = bench_cpu_now() - c0;
    for (size_t i = 0; i < n; i++) {
        if (derive_target(rules, dirs[i], &t, &scratch, err) < 0 ||
            loosen_target(&t, err) < 0)
            goto out;
        c0 = bench_cpu_now();
        if (stage_fresh(st, NULL, rules_digest, &t, (int64_t)i, 1, err) < 0)
            goto out;
        s += bench_cpu_now() - c0;
        target_clear(&t);
    }
    c0 = bench_cpu_now();
    if (apply_all(st, f, n, ret, err) < 0)
        goto out;
    *ret_s = s + bench_cpu_now() - c0;
    rc = 0;
out:
    target_clear(&t);
    return rc;
}

/* ---- --threads N: the first run on N workers ---- */

enum pool_job { POOL_LOAD, POOL_WORK };

struct pool {
    const struct map_rules *rules;
    const char *rules_digest;
    struct store *st;
    char *const *dirs;
    struct target *batch;        /* batch[i - begin] is target i */
    size_t begin, end, next;     /* this batch's targets; next to take (under lock) */
    enum pool_job job;
    pthread_mutex_t lock;        /* next, failed, err, sums */
    pthread_mutex_t store_lock;  /* every store call, as env->store_lock */
    int failed;
    struct err err;              /* the first worker error */
    /* POOL_WORK, summed over the workers: each phase's thread CPU, and the
     * wall time spent waiting for store_lock */
    double project_s, map_s, stage_s, free_s, lock_wait_s;
};

/* One worker: takes targets until none is left or a worker failed. POOL_LOAD
 * reads and prepares a target (untimed); POOL_WORK projects, maps and
 * stages it, then frees it. */
static void *
pool_worker(void *arg)
{
    struct pool *p = arg;
    struct locker store_lock = {.mutex = &p->store_lock};
    double project_s = 0, map_s = 0, stage_s = 0, free_s = 0;

    for (;;) {
        struct err err = {0};
        struct target *t;
        double c0 = thread_cpu_now(), c1;
        size_t i;
        int rc;

        pthread_mutex_lock(&p->lock);
        if (p->failed || p->next >= p->end) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        i = p->next++;
        pthread_mutex_unlock(&p->lock);
        t = &p->batch[i - p->begin];
        if (p->job == POOL_LOAD) {
            rc = load_target(p->rules, p->dirs[i], t, &err) < 0 || prepare_target(t, &err) < 0
                     ? -1
                     : 0;
        } else {
            rc = project_target(p->rules, t, &err);
            c1 = thread_cpu_now();
            project_s += c1 - c0;
            if (rc == 0) {
                drop_originals(t);
                c0 = thread_cpu_now();
                free_s += c0 - c1;
                rc = map_one(p->rules, t, &err);
                c1 = thread_cpu_now();
                map_s += c1 - c0;
            }
            if (rc == 0) {
                rc = stage_fresh(p->st, &store_lock, p->rules_digest, t, (int64_t)i, 0, &err);
                c0 = thread_cpu_now();
                stage_s += c0 - c1;
            }
            target_clear(t);
            free_s += thread_cpu_now() - c0;
        }
        if (rc < 0) {
            pthread_mutex_lock(&p->lock);
            if (!p->failed) {
                p->failed = 1;
                p->err = err;
                err_prefix(&p->err, "target %zu (%s)", i + 1, p->dirs[i]);
            }
            pthread_mutex_unlock(&p->lock);
            break;
        }
    }
    pthread_mutex_lock(&p->lock);
    p->project_s += project_s;
    p->map_s += map_s;
    p->stage_s += stage_s;
    p->free_s += free_s;
    p->lock_wait_s += store_lock.wait_s;
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Runs job over targets [begin, end) on up to nthreads threads and waits
 * for them. -1 with the first error. */
static int
pool_run(struct pool *p, enum pool_job job, size_t begin, size_t end, size_t nthreads,
    struct err *err)
{
    pthread_t tid[THREADS_MAX];
    size_t started = 0;

    p->job = job;
    p->begin = begin;
    p->end = end;
    p->next = begin;
    for (; started < nthreads && started < end - begin; started++) {
        int e = pthread_create(&tid[started], NULL, pool_worker, p);

        if (e != 0) {
            pthread_mutex_lock(&p->lock);
            if (!p->failed) {
                p->failed = 1;
                err_set(&p->err, ERR_INTERNAL, "starting worker thread %zu: %s", started + 1,
                    strerror(e));
            }
            pthread_mutex_unlock(&p->lock);
            break;
        }
    }
    for (size_t k = 0; k < started; k++)
        pthread_join(tid[k], NULL);
    if (p->failed) {
        *err = p->err;
        return -1;
    }
    return 0;
}

struct threaded {
    double wall_s, cpu_s;
    size_t batch;
    struct apply_totals totals;
    double project_s, map_s, stage_s, free_s, lock_wait_s, commit_s; /* CPU (lock: wall) */
};

/* Removes path and its -wal/-shm (a database this program made earlier). */
static int
remove_db(const char *path, struct err *err)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[PATH_MAX];

    for (size_t k = 0; k < sizeof(suffix) / sizeof(suffix[0]); k++) {
        if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[k]) >= sizeof(p))
            return err_set(err, ERR_CONFIG, "%.200s: path too long", path);
        if (unlink(p) < 0 && errno != ENOENT)
            return err_set(err, ERR_CONFIG, "%s: cannot remove: %s", p, strerror(errno));
    }
    return 0;
}

/* The first run into a fresh db_path on nthreads workers, in batches of
 * 2 * nthreads targets read beforehand (untimed); the commit on this
 * thread. f: the facts run_first gathered (the commit's arguments). */
static int
run_threaded(const struct map_rules *rules, const char *rules_digest, const char *db_path,
    char *const *dirs, const struct facts *f, size_t n, size_t nthreads, struct threaded *ret,
    struct err *err)
{
    struct pool p = {.rules = rules, .rules_digest = rules_digest, .dirs = dirs};
    struct threaded r = {.batch = 2 * nthreads};
    double w0, c0;
    int rc = -1;

    pthread_mutex_init(&p.lock, NULL);
    pthread_mutex_init(&p.store_lock, NULL);
    p.batch = calloc(r.batch, sizeof(*p.batch));
    if (p.batch == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (remove_db(db_path, err) < 0 || store_open(db_path, &p.st, err) < 0 ||
        store_stage_reset(p.st, err) < 0)
        goto out;
    for (size_t b = 0; b < n; b += r.batch) {
        size_t e = b + r.batch < n ? b + r.batch : n;

        if (pool_run(&p, POOL_LOAD, b, e, nthreads, err) < 0)
            goto out;
        w0 = mono_now();
        c0 = bench_cpu_now();
        if (pool_run(&p, POOL_WORK, b, e, nthreads, err) < 0)
            goto out;
        r.wall_s += mono_now() - w0;
        r.cpu_s += bench_cpu_now() - c0;
    }
    w0 = mono_now();
    c0 = bench_cpu_now();
    if (apply_all(p.st, f, n, &r.totals, err) < 0)
        goto out;
    r.wall_s += mono_now() - w0;
    r.commit_s = bench_cpu_now() - c0;
    r.cpu_s += r.commit_s;
    r.project_s = p.project_s;
    r.map_s = p.map_s;
    r.stage_s = p.stage_s;
    r.free_s = p.free_s;
    r.lock_wait_s = p.lock_wait_s;
    *ret = r;
    rc = 0;
out:
    if (p.batch != NULL) {
        for (size_t k = 0; k < r.batch; k++)
            target_clear(&p.batch[k]);
    }
    free(p.batch);
    store_close(p.st);
    pthread_mutex_destroy(&p.lock);
    pthread_mutex_destroy(&p.store_lock);
    if (rc < 0)
        err_prefix(err, "first run on %zu threads", nthreads);
    return rc;
}

static double
rate(size_t items, double s)
{
    return s > 0 ? (double)items / s : 0;
}

static int
usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--threads N] STATE_DB TARGET_DIR...\n", prog);
    return 2;
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct store *st = NULL;
    struct facts *f = NULL;
    struct err err = {0};
    struct times tm = {0};
    struct apply_totals a1 = {0}, a2 = {0}, a3 = {0};
    struct threaded th = {0};
    struct rusage ru;
    char *const *dirs;
    char *db_threads = NULL;
    size_t n, items = 0, vpcs = 0, nthreads = 1;
    double store2_s = 0, store2c_s = 0;
    long peak_rss_kb;
    const char *digest;
    int argi = 1, rc = 1;

    if (argc > 1 && strcmp(argv[1], "--threads") == 0) {
        char *end = NULL;
        long v;

        if (argc < 3)
            return usage(argv[0]);
        errno = 0;
        v = strtol(argv[2], &end, 10);
        if (errno != 0 || end == argv[2] || *end != '\0' || v < 1 || v > THREADS_MAX) {
            fprintf(stderr, "local: --threads '%s': want a number from 1 to %d\n", argv[2],
                THREADS_MAX);
            return 2;
        }
        nthreads = (size_t)v;
        argi = 3;
    }
    if (argc - argi < 2)
        return usage(argv[0]);
    dirs = argv + argi + 1;
    n = (size_t)(argc - argi - 1);
    f = calloc(n, sizeof(*f));
    if (f == NULL) {
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
    if (store_open(argv[argi], &st, &err) < 0)
        goto out;

    if (run_first(rules, st, digest, dirs, n, f, &tm, &a1, &err) < 0) {
        err_prefix(&err, "store1");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        items += f[i].n;
        vpcs += f[i].nvpcs;
    }
    if (run_save(rules, st, dirs, n, &err) < 0)
        goto out;
    if (run_reused(st, digest, f, n, &store2_s, &a2, &err) < 0) {
        err_prefix(&err, "store2");
        goto out;
    }
    if (run_changed(rules, st, digest, dirs, f, n, &store2c_s, &a3, &err) < 0) {
        err_prefix(&err, "store2_changed");
        goto out;
    }
    getrusage(RUSAGE_SELF, &ru);
    peak_rss_kb = ru.ru_maxrss;

    if (nthreads > 1) {
        if (asprintf(&db_threads, "%s.threads", argv[argi]) < 0) {
            db_threads = NULL;
            err_set(&err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        if (run_threaded(rules, digest, db_threads, dirs, f, n, nthreads, &th, &err) < 0)
            goto out;
        getrusage(RUSAGE_SELF, &ru);
    }

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
           "\"free_s\": %.3f, \"release_s\": %.3f, \"peak_rss_kb\": %ld",
        n, items, vpcs, tm.parse, tm.sha, tm.project, tm.map, tm.store, store2_s, store2c_s,
        rate(items, tm.parse), rate(items, tm.sha), rate(items, tm.project),
        rate(items, tm.map), rate(items, tm.store), rate(items, store2_s),
        rate(items, store2c_s), rate(items, tm.project + tm.map + tm.store + tm.release),
        rate(items, tm.sha + store2_s), rate(items, tm.project + tm.map + store2c_s), a1.vpcs,
        a1.unchanged, a2.vpcs, a2.unchanged, a3.vpcs, a3.unchanged, tm.free, tm.release,
        peak_rss_kb);
    if (nthreads > 1)
        printf(", \"threads\": %zu, \"threads_batch_targets\": %zu, \"first_wall_s\": %.3f, "
               "\"first_cpu_s\": %.3f, \"first_wall_items_per_s\": %.0f, "
               "\"first_cpu_items_per_s\": %.0f, \"threads_project_cpu_s\": %.3f, "
               "\"threads_map_cpu_s\": %.3f, \"threads_stage_cpu_s\": %.3f, "
               "\"threads_free_cpu_s\": %.3f, \"threads_lock_wait_s\": %.3f, \"threads_commit_cpu_s\": %.3f, "
               "\"threads_store1_vpcs\": %ld, \"threads_peak_rss_kb\": %ld",
            nthreads, th.batch, th.wall_s, th.cpu_s, rate(items, th.wall_s),
            rate(items, th.cpu_s), th.project_s, th.map_s, th.stage_s, th.free_s, th.lock_wait_s,
            th.commit_s, th.totals.vpcs, ru.ru_maxrss);
    printf("}\n");
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "local: %s\n", err.msg);
    free(db_threads);
    free(f);
    store_close(st);
    map_rules_free(rules);
    return rc;
}
