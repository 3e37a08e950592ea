/*
 * target.c: the worker of one target (see target.h). Each item discovery
 * hands over is projected to what the mapping reads (map_project) and
 * dumped as compact JSON text: in select mode (the item cache's rows) staged
 * in the store in batches of STAGE_BATCH with its hash and identity, in the
 * other modes kept in memory grouped by account x region. Once the target
 * is read, the texts are parsed back, mapped, and the models' canonical
 * texts are staged in the store; the trees are dropped at once. The Security Hub
 * read (read_compliance) follows on the same client; finding summaries are
 * staged in batches of STAGE_BATCH as they are read.
 */
#include "daemon/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "daemon/itemcache.h"
#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "daemon/log.h"
#include "daemon/mem.h"
#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/discover.h"
#include "mapping/compliance.h"
#include "providers/aws/securityhub.h"
#include "store/store.h"

#define STAGE_BATCH 500 /* rows or finding summaries per staging transaction */

/* The canonical form the store compares snapshots in (store.c's canon). */
#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* One account x region's projected items (organisation mode has many). */
struct group {
    char account_id[13];
    char region[48];
    char **texts; /* owned, each owned */
    size_t n, cap;
};

struct collect {
    const struct map_rules *rules;
    int aggregate;
    const char *account_id, *region; /* of a plain target */
    struct group *groups;            /* owned */
    size_t ngroups;
    volatile const int *stop;
    /* select mode of a plain target: the item cache, and the rows not yet
     * staged (hash, identity, projected text: each row goes to the store's
     * staging area instead of staying in memory) */
    const struct target_env *env;
    struct target *t;
    struct itemcache *cache;         /* owned, may be NULL */
    unsigned char hashes[STAGE_BATCH][ITEMCACHE_HASH_LEN];
    char *idents[STAGE_BATCH];       /* owned */
    char *texts[STAGE_BATCH];        /* owned */
    size_t nrows;
};

static void
group_free_texts(struct group *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->texts[i]);
    free(g->texts);
    g->texts = NULL;
    g->n = g->cap = 0;
}

static void
rows_free(struct collect *c)
{
    for (size_t i = 0; i < c->nrows; i++) {
        free(c->idents[i]);
        free(c->texts[i]);
    }
    c->nrows = 0;
}

static void
collect_clear(struct collect *c)
{
    for (size_t i = 0; i < c->ngroups; i++)
        group_free_texts(&c->groups[i]);
    free(c->groups);
    c->groups = NULL;
    c->ngroups = 0;
    rows_free(c);
    itemcache_free(c->cache);
    c->cache = NULL;
}

/* Stages the rows collected so far (the next item cache and the mapping's
 * input) and frees them. */
static int
rows_flush(struct collect *c, struct err *err)
{
    struct store_staged_item v[STAGE_BATCH];
    int rc;

    if (c->nrows == 0)
        return 0;
    for (size_t i = 0; i < c->nrows; i++) {
        v[i].hash = c->hashes[i];
        v[i].hash_len = ITEMCACHE_HASH_LEN;
        v[i].ident = c->idents[i];
        v[i].item = c->texts[i];
    }
    pthread_mutex_lock(c->env->store_lock);
    rc = store_stage_items(c->env->store, c->t->index, v, c->nrows, err);
    pthread_mutex_unlock(c->env->store_lock);
    rows_free(c);
    return rc;
}

/* Takes text (owned) and a copy of ident. */
static int
row_add(struct collect *c, const unsigned char *hash, const char *ident, char *text,
    struct err *err)
{
    char *dup = strdup(ident);

    if (dup == NULL) {
        free(text);
        return err_set(err, ERR_INTERNAL, "out of memory collecting items");
    }
    memcpy(c->hashes[c->nrows], hash, ITEMCACHE_HASH_LEN);
    c->idents[c->nrows] = dup;
    c->texts[c->nrows++] = text;
    return c->nrows == STAGE_BATCH ? rows_flush(c, err) : 0;
}

static int
known_row(void *ctx, const char *text, size_t len, const char **ret_ident, struct err *err)
{
    struct collect *c = ctx;

    return itemcache_known(c->cache, text, len, ret_ident, err);
}

static struct group *
group_get(struct collect *c, const char *account, const char *region)
{
    struct group *grown;

    for (size_t i = 0; i < c->ngroups; i++) {
        if (strcmp(c->groups[i].account_id, account) == 0 &&
            strcmp(c->groups[i].region, region) == 0)
            return &c->groups[i];
    }
    grown = realloc(c->groups, (c->ngroups + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    c->groups = grown;
    memset(&c->groups[c->ngroups], 0, sizeof(c->groups[0]));
    snprintf(c->groups[c->ngroups].account_id, sizeof(c->groups[0].account_id), "%s", account);
    snprintf(c->groups[c->ngroups].region, sizeof(c->groups[0].region), "%s", region);
    return &c->groups[c->ngroups++];
}

static int
group_add(struct group *g, char *text)
{
    if (g->n == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 256;
        char **grown = realloc(g->texts, ncap * sizeof(*grown));

        if (grown == NULL)
            return -1;
        g->texts = grown;
        g->cap = ncap;
    }
    g->texts[g->n++] = text;
    return 0;
}

static int
collect_item(void *ctx, json_t *item, struct err *err)
{
    struct collect *c = ctx;
    const char *acct = c->account_id, *reg = c->region;
    struct group *g;
    json_t *proj;
    char *text;

    if (c->stop != NULL && *c->stop)
        return err_set(err, ERR_TRANSIENT, "run abandoned: stopping");
    /* organisation mode: items are grouped by the account and region they name */
    if (c->aggregate) {
        acct = json_string_value(json_object_get(item, "accountId"));
        reg = json_string_value(json_object_get(item, "awsRegion"));
        if (acct == NULL || reg == NULL || strlen(acct) != 12 || strlen(reg) >= 48) {
            const char *type = json_string_value(json_object_get(item, "resourceType"));
            const char *id = json_string_value(json_object_get(item, "resourceId"));

            return err_set(err, ERR_REMOTE,
                "aggregator item %s %s lacks a valid accountId/awsRegion",
                type != NULL ? type : "?", id != NULL ? id : "?");
        }
    }
    proj = map_project(c->rules, item);
    text = proj != NULL ? jsonw_dumps(proj, JSON_COMPACT) : NULL;
    json_decref(proj);
    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory collecting items");
    if (c->cache != NULL) {
        char ident[DISCOVER_IDENT_MAX];

        discover_item_ident(item, ident, sizeof(ident));
        return row_add(c, itemcache_pending(c->cache), ident, text, err);
    }
    g = group_get(c, acct, reg);
    if (g == NULL || group_add(g, text) < 0) {
        free(text);
        return err_set(err, ERR_INTERNAL, "out of memory collecting items");
    }
    return 0;
}

/* A cached row seen in this read joins the staged rows (the mapping's input). */
static int
add_seen(void *ctx, const unsigned char *hash, const char *ident, char *item, struct err *err)
{
    return row_add(ctx, hash, ident, item, err);
}

struct types {
    const char **v;
    size_t n, cap;
};

static void
add_type(void *ctx, const char *type)
{
    struct types *t = ctx;

    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        const char **grown = realloc(t->v, ncap * sizeof(*grown));
        if (grown == NULL)
            return;
        t->v = grown;
        t->cap = ncap;
    }
    t->v[t->n++] = type;
}


/* Canonical texts of a mapping result's models, staged in the store. */
static int
stage_result(const struct target_env *env, const struct target *t, const struct group *g,
    const struct map_result *res, struct err *err)
{
    size_t n = json_object_size(res->models) + 1, k = 0;
    struct store_staged_model *v = calloc(n, sizeof(*v));
    const char *vpc;
    json_t *model;
    char sum[65];
    int rc = -1, have_sum;

    if (v == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory staging models");
    json_object_foreach(res->models, vpc, model) {
        if (store_staged_model_make(&v[k++], vpc, model) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory staging models");
            goto out;
        }
    }
    if (res->account != NULL && store_staged_model_make(&v[k++], NULL, res->account) < 0) {
        err_set(err, ERR_INTERNAL, "out of memory staging models");
        goto out;
    }
    /* hashed here, in parallel, not in the run's single commit */
    have_sum = store_staged_models_sum(v, k, sum) == 0;
    pthread_mutex_lock(env->store_lock);
    rc = store_stage_models(env->store, t->index, g->account_id, g->region, v, k,
        have_sum ? sum : NULL, err);
    pthread_mutex_unlock(env->store_lock);
out:
    for (size_t i = 0; i < k; i++)
        store_staged_model_clear(&v[i]);
    free(v);
    return rc;
}

/* Parses one projected item back into items. JSON_ALLOW_NUL as discovery
 * parsed it: an escaped NUL in a tag survives projection and is cut
 * wherever it is used as C text. */
static int
add_parsed(void *ctx, const char *text, struct err *err)
{
    json_error_t jerr;
    json_t *item = jsonr_loads(text, JSON_ALLOW_NUL, &jerr);

    if (item == NULL || json_array_append_new(ctx, item) < 0)
        return err_set(err, ERR_INTERNAL, "re-reading a projected item: %s",
            item == NULL ? jerr.text : "out of memory");
    return 0;
}

/* Maps one group: its texts, plus (staged) the rows staged for the target. */
static int
map_group(const struct target_env *env, struct target *t, struct group *g, int staged)
{
    struct target_part *part = &t->parts[t->nparts];
    struct map_result res = {0};
    json_t *items = json_array();
    int rc = -1, r;

    memset(part, 0, sizeof(*part));
    snprintf(part->account_id, sizeof(part->account_id), "%s", g->account_id);
    snprintf(part->region, sizeof(part->region), "%s", g->region);
    if (items == NULL) {
        err_set(&t->err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < g->n; i++) {
        r = add_parsed(items, g->texts[i], &t->err);
        free(g->texts[i]);
        g->texts[i] = NULL;
        if (r < 0)
            goto out;
    }
    group_free_texts(g);
    if (staged) {
        pthread_mutex_lock(env->store_lock);
        r = store_staged_items(env->store, t->index, add_parsed, items, &t->err);
        pthread_mutex_unlock(env->store_lock);
        if (r < 0)
            goto out;
    }
    if (map_target(env->rules, g->account_id, g->region, items, &res, &t->err) < 0)
        goto out;
    json_decref(items);
    items = NULL;
    if (stage_result(env, t, g, &res, &t->err) < 0)
        goto out;
    part->vpcs = (long)json_object_size(res.models);
    part->unmapped = res.unmapped;
    res.unmapped = NULL;
    t->nparts++;
    rc = 0;
out:
    json_decref(items);
    map_result_clear(&res);
    if (rc < 0)
        err_prefix(&t->err, "mapping %s/%s", g->account_id, g->region);
    return rc;
}

/* One part per account x region: a plain target is one (also when it has
 * no items); an aggregator's items were grouped by accountId/awsRegion. */
static int
map_parts(const struct target_env *env, struct target *t, struct collect *col)
{
    int rc = 0;

    if (!t->aggregate && col->ngroups == 0 &&
        group_get(col, t->account_id, t->region) == NULL)
        return err_set(&t->err, ERR_INTERNAL, "out of memory");
    t->parts = calloc(col->ngroups + 1, sizeof(*t->parts));
    if (t->parts == NULL)
        return err_set(&t->err, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(env->map_lock);
    for (size_t i = 0; i < col->ngroups && rc == 0; i++)
        rc = map_group(env, t, &col->groups[i], col->cache != NULL);
    /* the target's trees are freed: hand their pages back before the next
     * target maps, so that the holes they leave do not add up (glibc
     * releases free pages inside its arenas too, jemalloc purges) */
    (void)mem_release();
    pthread_mutex_unlock(env->map_lock);
    return rc;
}

struct sh_collect {
    const struct target_env *env;
    struct target *t;
    /* summaries not yet staged, in the row form: ids and texts, owned */
    char *ids[STAGE_BATCH], *texts[STAGE_BATCH];
    size_t n;
};

static int
flush_findings(struct sh_collect *c, struct err *err)
{
    struct store_staged_finding v[STAGE_BATCH];
    int rc;

    if (c->n == 0)
        return 0;
    for (size_t i = 0; i < c->n; i++) {
        v[i].id = c->ids[i];
        v[i].text = c->texts[i];
    }
    pthread_mutex_lock(c->env->store_lock);
    rc = store_stage_finding_rows(c->env->store, c->t->index, v, c->n, err);
    pthread_mutex_unlock(c->env->store_lock);
    for (size_t i = 0; i < c->n; i++) {
        free(c->ids[i]);
        free(c->texts[i]);
    }
    if (rc == 0)
        c->t->sh_staged += (long)c->n;
    c->n = 0;
    return rc;
}

static int
collect_finding(void *ctx, json_t *finding, struct err *err)
{
    struct sh_collect *c = ctx;
    json_t *sum = NULL;
    char *id, *text;
    int rc;

    if (c->env->stop != NULL && *c->env->stop)
        return err_set(err, ERR_TRANSIENT, "run abandoned: stopping");
    if (sh_finding_summarize(finding, &sum, err) < 0)
        return -1;
    /* the row form: what the stored row holds is left out of the text */
    rc = compliance_row_text(sum, c->t->account_id, c->t->region, &id, &text, err);
    json_decref(sum);
    if (rc < 0)
        return -1;
    c->ids[c->n] = id;
    c->texts[c->n++] = text;
    return c->n == STAGE_BATCH ? flush_findings(c, err) : 0;
}

/* The compliance part (see target.h): fills t->sh_* or t->sh_err. */
static void
read_compliance(const struct target_env *env, struct aws_client *client, struct target *t)
{
    struct sh_collect col = {.env = env, .t = t};
    struct sh_findings_counts counts = {0};
    const char *arns[SH_MAX_STANDARDS];
    const char *key;
    json_t *std;
    size_t n = 0;
    int ok = 0;

    err_clear(&t->sh_err);
    if (sh_get_enabled_standards(client, &t->sh_standards, &t->sh_err) < 0) {
        if (sh_err_not_enabled(&t->sh_err)) {
            log_info("%s/%s: Security Hub is not enabled, no compliance data", t->account_id,
                t->region);
            err_clear(&t->sh_err);
            t->sh_hub_enabled = 0;
            ok = 1;
        }
        goto out;
    }
    t->sh_hub_enabled = 1;
    if (sh_read_catalogue(client, t->sh_standards, &t->sh_catalogue, &t->sh_err) < 0)
        goto out;
    json_object_foreach(t->sh_catalogue, key, std) {
        const char *arn = json_string_value(json_object_get(std, "standards_arn"));

        if (arn == NULL) {
            err_set(&t->sh_err, ERR_REMOTE, "catalogue of %s has no standards ARN", key);
            goto out;
        }
        if (n == SH_MAX_STANDARDS) {
            err_set(&t->sh_err, ERR_REMOTE, "more than %d CIS standards enabled",
                SH_MAX_STANDARDS);
            goto out;
        }
        arns[n++] = arn;
    }
    if (n > 0) {
        struct sh_findings_query q = {
            .standards_arns = arns,
            .nstandards = n,
            .since = t->sh_since,
            .until = t->sh_since != 0 ? t->sh_until : 0,
            .style = (enum sh_style)t->sh_style,
            .describe_hub = 1,
        };
        log_debug("%s/%s: reading findings of %zu standard(s), %s", t->account_id, t->region, n,
            t->sh_since != 0 ? "updated since the last run" : "full");
        if (sh_get_findings(client, &q, collect_finding, &col, &counts, &t->sh_err) < 0 ||
            flush_findings(&col, &t->sh_err) < 0)
            goto out;
    }
    t->sh_pages = counts.pages;
    t->sh_findings = counts.findings;
    t->sh_style = (int)counts.style;
    ok = 1;
out:
    t->sh_done = ok;
    t->sh_failed = !ok;
    if (ok) {
        err_clear(&t->sh_err);
    } else {
        if (t->sh_err.kind == ERR_OK)
            err_set(&t->sh_err, ERR_INTERNAL, "compliance read failed without an error message");
        json_decref(t->sh_standards);
        json_decref(t->sh_catalogue);
        t->sh_standards = t->sh_catalogue = NULL;
    }
    for (size_t i = 0; i < col.n; i++) {
        free(col.ids[i]);
        free(col.texts[i]);
    }
}

/* The Security Hub half of a target, run beside the Config half: its own
 * client (a client is one connection, used by one thread at a time). */
struct sh_job {
    const struct target_env *env;
    struct target *t;
    const struct aws_client_options *co;
};

static void *
sh_thread(void *arg)
{
    struct sh_job *job = arg;
    struct aws_client *client = NULL;

    err_clear(&job->t->sh_err);
    if (aws_client_new(job->co, &client, &job->t->sh_err) < 0) {
        job->t->sh_done = 0;
        job->t->sh_failed = 1;
        return NULL;
    }
    read_compliance(job->env, client, job->t);
    aws_client_free(client);
    return NULL;
}

/* The target-level facts of a read (store_stage_part). */
static int
stage_part(const struct target_env *env, struct target *t, int reused)
{
    char *unmapped = jsonw_dumps(t->parts[0].unmapped, CANON_FLAGS);
    int rc;

    if (unmapped == NULL)
        return err_set(&t->err, ERR_INTERNAL, "out of memory");
    pthread_mutex_lock(env->store_lock);
    rc = store_stage_part(env->store, t->index, t->account_id, t->region, env->rules_digest,
        unmapped, reused, &t->err);
    pthread_mutex_unlock(env->store_lock);
    free(unmapped);
    return rc;
}

/* The read equals the last one: its stored snapshots are this read's
 * models, nothing is parsed or mapped. */
static int
reuse_last(const struct target_env *env, struct target *t)
{
    struct target_part *part;
    int rc;

    t->parts = calloc(1, sizeof(*t->parts));
    if (t->parts == NULL)
        return err_set(&t->err, ERR_INTERNAL, "out of memory");
    part = &t->parts[0];
    snprintf(part->account_id, sizeof(part->account_id), "%s", t->account_id);
    snprintf(part->region, sizeof(part->region), "%s", t->region);
    pthread_mutex_lock(env->store_lock);
    rc = store_stage_reuse(env->store, t->index, t->account_id, t->region, &part->vpcs,
        &part->unmapped, &t->err);
    pthread_mutex_unlock(env->store_lock);
    if (rc < 0)
        return -1;
    t->nparts = 1;
    t->items_cached = t->items;
    t->reused = 1;
    log_debug("%s/%s: every item as in the last read: its models are reused", t->account_id,
        t->region);
    return stage_part(env, t, 1);
}

void
target_run(const struct target_env *env, struct target *t)
{
    const struct cfg *cfg = env->cfg;
    struct aws_client *client = NULL;
    struct collect col = {
        .env = env,
        .t = t,
        .rules = env->rules,
        .aggregate = t->aggregate,
        .account_id = t->account_id,
        .region = t->region,
        .stop = env->stop,
    };
    struct types types = {0};
    struct discover_counts counts = {0};
    struct sh_job job = {.env = env, .t = t};
    pthread_t sh_tid;
    int sh_started = 0;
    int64_t started = util_now_ms();
    int ok = 0;

    err_clear(&t->err);
    map_rules_foreach_type(env->rules, add_type, &types);
    if (types.n != map_rules_count(env->rules)) {
        err_set(&t->err, ERR_INTERNAL, "out of memory listing resource types");
        goto out;
    }
    struct aws_client_options co = {
        .region = t->region,
        .account_id = t->account_id[0] ? t->account_id : NULL,
        .creds = t->creds,
        .endpoints = env->endpoints,
        .ratelimit = env->ratelimit,
        .stats = env->stats,
        .max_attempts = cfg->max_attempts,
    };
    if (aws_client_new(&co, &client, &t->err) < 0)
        goto out;
    /* Security Hub and Config have their own rate limits and nothing in
     * common until the commit: the hub is read beside the discovery, so a
     * target costs the longer of the two chains of calls, not their sum.
     * Should the thread not start, it is read after the discovery. */
    if (t->sh_wanted && !t->aggregate) {
        job.co = &co;
        sh_started = pthread_create(&sh_tid, NULL, sh_thread, &job) == 0;
        if (!sh_started)
            log_debug("%s/%s: no thread for the Security Hub read, it follows the discovery",
                t->account_id, t->region);
    }
    struct discover_options dopt = {
        .mode = t->aggregate                              ? DISCOVER_AGGREGATE
                : cfg->discovery == CFG_DISCOVERY_LIST ? DISCOVER_LIST
                                                         : DISCOVER_SELECT,
        .types = types.v,
        .ntypes = types.n,
        .aggregator = cfg->org_aggregator,
    };
    if (dopt.mode == DISCOVER_SELECT && env->rules_digest != NULL) {
        if (itemcache_load(env->store, env->store_lock, t->account_id, t->region,
                env->rules_digest, &col.cache, &t->err) < 0)
            goto out;
        dopt.known = known_row;
    }
    log_debug("%s/%s: discovering %zu resource types (%s)", t->account_id, t->region, types.n,
        dopt.mode == DISCOVER_LIST ? "list" : "select");
    if (discover_run(client, &dopt, collect_item, &col, &counts, &t->err) < 0)
        goto out;
    t->items = counts.items;
    t->pages = counts.pages;
    if (env->stop != NULL && *env->stop) {
        err_set(&t->err, ERR_TRANSIENT, "run abandoned: stopping");
        goto out;
    }
    if (col.cache != NULL && itemcache_unchanged(col.cache)) {
        if (reuse_last(env, t) < 0)
            goto out;
    } else {
        if (col.cache != NULL) {
            t->items_cached = (long)itemcache_hits(col.cache);
            if (itemcache_take_seen(col.cache, add_seen, &col, &t->err) < 0 ||
                rows_flush(&col, &t->err) < 0)
                goto out;
        }
        if (map_parts(env, t, &col) < 0)
            goto out;
        if (col.cache != NULL && stage_part(env, t, 0) < 0)
            goto out;
    }
    collect_clear(&col); /* the models are staged; free before the hub read */
    if (t->sh_wanted && !t->aggregate && !sh_started)
        read_compliance(env, client, t);
    ok = 1;
out:
    /* a failed target's compliance is flagged with its error at the commit,
     * whatever the hub read brought (sync.c: commit_compliance) */
    if (sh_started)
        pthread_join(sh_tid, NULL);
    /* judged by the path taken, not by t->err: a call that succeeded after
     * retries leaves the last attempt's error behind */
    t->failed = !ok;
    if (ok)
        err_clear(&t->err);
    else if (t->err.kind == ERR_OK)
        err_set(&t->err, ERR_INTERNAL, "target failed without an error message");
    t->done = 1;
    t->elapsed_ms = (long)(util_now_ms() - started);
    free(types.v);
    collect_clear(&col);
    aws_client_free(client);
}

void
target_release_results(struct target *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nparts; i++) {
        json_decref(t->parts[i].unmapped);
        t->parts[i].unmapped = NULL;
    }
    json_decref(t->sh_standards);
    json_decref(t->sh_catalogue);
    t->sh_standards = NULL;
    t->sh_catalogue = NULL;
}

void
target_clear(struct target *t)
{
    if (t == NULL)
        return;
    target_release_results(t);
    free(t->parts);
    memset(t, 0, sizeof(*t));
}
