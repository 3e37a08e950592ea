/*
 * target.c: the worker of one target (see target.h). Items stream from
 * discovery into one array per target, which the mapping turns into models;
 * the array is dropped as soon as the models exist. The Security Hub read
 * (read_compliance) follows on the same client; finding summaries are kept,
 * the raw findings are not.
 */
#include "daemon/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "daemon/log.h"
#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/discover.h"
#include "providers/aws/securityhub.h"

struct collect {
    json_t *items;
    volatile const int *stop;
};

static int
collect_item(void *ctx, json_t *item, struct err *err)
{
    struct collect *c = ctx;

    if (c->stop != NULL && *c->stop)
        return err_set(err, ERR_TRANSIENT, "run abandoned: stopping");
    if (json_array_append(c->items, item) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory collecting items");
    return 0;
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

static int
map_one(const struct target_env *env, struct target *t, const char *account, const char *region,
    json_t *items)
{
    struct target_part *part = &t->parts[t->nparts];

    memset(part, 0, sizeof(*part));
    snprintf(part->account_id, sizeof(part->account_id), "%s", account);
    snprintf(part->region, sizeof(part->region), "%s", region);
    if (map_target(env->rules, account, region, items, &part->result, &t->err) < 0)
        return err_prefix(&t->err, "mapping %s/%s", account, region);
    t->nparts++;
    return 0;
}

/* One part per account x region: a plain target is one; an aggregator's
 * items are grouped by their accountId and awsRegion. */
static int
map_parts(const struct target_env *env, struct target *t, json_t *items)
{
    json_t *groups, *item, *group;
    const char *key;
    size_t i;
    int rc = -1;

    if (!t->aggregate) {
        t->parts = calloc(1, sizeof(*t->parts));
        if (t->parts == NULL)
            return err_set(&t->err, ERR_INTERNAL, "out of memory");
        return map_one(env, t, t->account_id, t->region, items);
    }
    groups = json_object();
    json_array_foreach(items, i, item) {
        const char *acct = json_string_value(json_object_get(item, "accountId"));
        const char *reg = json_string_value(json_object_get(item, "awsRegion"));
        char k[80];

        if (acct == NULL || reg == NULL || strlen(acct) != 12 || strlen(reg) >= 48) {
            err_set(&t->err, ERR_REMOTE, "aggregator item %zu lacks a valid accountId/awsRegion",
                i + 1);
            goto out;
        }
        snprintf(k, sizeof(k), "%s/%s", acct, reg);
        group = json_object_get(groups, k);
        if (group == NULL) {
            group = json_array();
            json_object_set_new(groups, k, group);
        }
        json_array_append(group, item);
    }
    t->parts = calloc(json_object_size(groups) + 1, sizeof(*t->parts));
    if (t->parts == NULL) {
        err_set(&t->err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    json_object_foreach(groups, key, group) {
        char acct[13], reg[48];

        memcpy(acct, key, 12);
        acct[12] = '\0';
        snprintf(reg, sizeof(reg), "%s", key + 13);
        if (map_one(env, t, acct, reg, group) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(groups);
    return rc;
}

struct sh_collect {
    json_t *summaries;
    volatile const int *stop;
};

static int
collect_finding(void *ctx, json_t *finding, struct err *err)
{
    struct sh_collect *c = ctx;
    json_t *sum = NULL;

    if (c->stop != NULL && *c->stop)
        return err_set(err, ERR_TRANSIENT, "run abandoned: stopping");
    if (sh_finding_summarize(finding, &sum, err) < 0)
        return -1;
    if (json_array_append_new(c->summaries, sum) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory collecting findings");
    return 0;
}

/* The compliance part (see target.h): fills t->sh_* or t->sh_err. */
static void
read_compliance(const struct target_env *env, struct aws_client *client, struct target *t)
{
    struct sh_collect col = {.summaries = json_array(), .stop = env->stop};
    struct sh_findings_counts counts = {0};
    const char *arns[SH_MAX_STANDARDS];
    const char *key;
    json_t *std;
    size_t n = 0;
    int ok = 0;

    err_clear(&t->sh_err);
    if (col.summaries == NULL) {
        err_set(&t->sh_err, ERR_INTERNAL, "out of memory");
        goto out;
    }
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
        };
        log_debug("%s/%s: reading findings of %zu standard(s), %s", t->account_id, t->region, n,
            t->sh_since != 0 ? "updated since the last run" : "full");
        if (sh_get_findings(client, &q, collect_finding, &col, &counts, &t->sh_err) < 0)
            goto out;
    }
    t->sh_pages = counts.pages;
    t->sh_findings = counts.findings;
    t->sh_summaries = col.summaries;
    col.summaries = NULL;
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
    json_decref(col.summaries);
}

void
target_run(const struct target_env *env, struct target *t)
{
    const struct cfg *cfg = env->cfg;
    struct aws_client *client = NULL;
    struct collect col = {.items = json_array(), .stop = env->stop};
    struct types types = {0};
    struct discover_counts counts = {0};
    int64_t started = util_now_ms();
    int ok = 0;

    err_clear(&t->err);
    if (col.items == NULL) {
        err_set(&t->err, ERR_INTERNAL, "out of memory");
        goto out;
    }
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
    struct discover_options dopt = {
        .mode = t->aggregate                              ? DISCOVER_AGGREGATE
                : cfg->discovery == CFG_DISCOVERY_LIST ? DISCOVER_LIST
                                                         : DISCOVER_SELECT,
        .types = types.v,
        .ntypes = types.n,
        .aggregator = cfg->org_aggregator,
    };
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
    if (map_parts(env, t, col.items) < 0)
        goto out;
    json_decref(col.items); /* the models hold what they need; free before the hub read */
    col.items = NULL;
    if (t->sh_wanted && !t->aggregate)
        read_compliance(env, client, t);
    ok = 1;
out:
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
    json_decref(col.items);
    aws_client_free(client);
}

void
target_release_results(struct target *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nparts; i++)
        map_result_clear(&t->parts[i].result);
    json_decref(t->sh_standards);
    json_decref(t->sh_catalogue);
    json_decref(t->sh_summaries);
    t->sh_standards = NULL;
    t->sh_catalogue = NULL;
    t->sh_summaries = NULL;
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
