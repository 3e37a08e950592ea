/*
 * sync.c: one run (see sync.h). Order of work:
 *   1. record the run as running (its own small transaction, so a killed
 *      process leaves a trace that the next start marks aborted);
 *   2. credentials: the SDK default chain as base; per account either the
 *      base itself (its caller identity must be that account, checked with
 *      GetCallerIdentity) or an assumed role on top of it;
 *   3. every target on the thread pool (target.c), which stages each
 *      target's models and findings in the store's staging database as they
 *      come (store_stage_*: no lock on the database, nothing left behind by
 *      a killed process) instead of holding them in memory;
 *   4. one transaction: each target's staged VPCs (store_apply_staged) or
 *      its failure (store_target_failed), then the run's record; commit.
 *
 * Compliance (when compliance_enabled): before step 3 the main thread sets
 * Security Hub's rate limits on the shared limiter and decides per target,
 * from the store, whether the worker reads all ACTIVE findings (never read,
 * hub previously off, or the last full read older than
 * compliance_full_refresh_s) or only those updated since the last
 * successful read (until = this run's start, the next run's since). In
 * step 4 each target's read is recorded (store_compliance_apply) or its
 * failure flagged (store_compliance_failed, also when the whole target
 * failed), inside the same transaction. A compliance failure is listed in
 * the run's errors (target "ACCOUNT/REGION securityhub") but does not fail
 * the target: its Config part is committed. Organisation targets skip
 * compliance with a logged note (see target.h).
 *   5. after the commit: the feed (compliance.json, events.ndjson; feed.h)
 *      and the webhook delivery (webhook.h), started in the background and
 *      waited for at most WEBHOOK_TOTAL_MS at the end of the run. Feed and
 *      webhook problems are logged, never fail the run: the store already
 *      holds everything.
 */
#include "daemon/sync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "daemon/compliance_query.h"
#include "daemon/feed.h"
#include "daemon/log.h"
#include "daemon/pool.h"
#include "daemon/testhook.h"
#include "daemon/target.h"
#include "daemon/util.h"
#include "daemon/webhook.h"
#include "mapping/map.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/discover.h"
#include "providers/aws/securityhub.h"
#include "providers/aws/sts.h"
#include "store/compliance.h"
#include "store/store.h"

/* Per-account credentials: the provider to use, or why there is none. */
struct account_creds {
    const char *account_id;
    struct creds_provider *provider; /* owned when owned != 0 */
    int owned;
    struct err err;                  /* set when provider is NULL */
};

struct run {
    const struct sync_env *env;
    struct target_env tenv;
    pthread_mutex_t store_lock;  /* the workers' staging calls */
    pthread_mutex_t map_lock;    /* one target maps at a time (see target.h) */
    struct target *targets;
    size_t ntargets;
    json_t *events;      /* owned: this run's compliance status changes */
};

static void
run_target(void *ctx, size_t i)
{
    struct run *r = ctx;
    struct target *t = &r->targets[i];

    if (t->failed) /* credentials already failed for this account */
        return;
    target_run(&r->tenv, t);
    if (t->failed)
        log_debug("%s/%s: %s", t->account_id, t->region, t->err.msg);
    else
        log_info("%s/%s: %ld resources in %ld pages (%ld known from the last read%s), "
                 "%zu part(s), %ld ms",
            t->account_id[0] ? t->account_id : "organization", t->region, t->items, t->pages,
            t->items_cached, t->reused ? ": models reused" : "", t->nparts, t->elapsed_ms);
}

/* Checks that base credentials act in account (an account without
 * role_arn is read with the base credentials directly). */
static int
check_identity(const struct cfg *cfg, const struct creds_options *copts,
    struct creds_provider *base, const char *account, struct err *err)
{
    struct aws_client *sts = NULL;
    struct sts_identity id = {0};
    int rc = -1;

    if (sts_client_new(copts, cfg->nregions > 0 ? cfg->regions[0] : NULL, base, NULL, &sts,
            err) < 0)
        goto out;
    if (sts_get_caller_identity(sts, &id, err) < 0)
        goto out;
    if (id.account == NULL || strcmp(id.account, account) != 0) {
        err_set(err, ERR_AUTH,
            "account %s has no role_arn, but the base credentials belong to account %s (%s); "
            "add a role_arn for it",
            account, id.account ? id.account : "?", id.arn ? id.arn : "?");
        goto out;
    }
    rc = 0;
out:
    sts_identity_clear(&id);
    aws_client_free(sts);
    return rc;
}

static void
account_creds_clear(struct account_creds *ac, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ac[i].owned)
            creds_provider_free(ac[i].provider);
    }
    free(ac);
}

static void
add_api_row(void *ctx, const struct aws_stats_row *row)
{
    json_t *api = ctx;

    json_array_append_new(api, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "service",
                                   row->service, "operation", row->operation, "calls",
                                   (json_int_t)row->calls, "errors", (json_int_t)row->errors,
                                   "throttles", (json_int_t)row->throttles, "retries",
                                   (json_int_t)row->retries));
}

static void
count_throttles(void *ctx, const struct aws_stats_row *row)
{
    *(long *)ctx += row->throttles;
}

static void
note_target_error(struct sync_report *rep, const struct target *t)
{
    char name[80];

    snprintf(name, sizeof(name), "%s/%s", t->account_id[0] ? t->account_id : "organization",
        t->region);
    json_array_append_new(rep->errors, json_pack("{s:s, s:s, s:s}", "target", name, "kind",
                                           err_kind_name(t->err.kind), "error", t->err.msg));
    log_error("%s: %s", name, t->err.msg);
}

/* Builds the target list and each account's credentials. */
static int
plan(const struct sync_env *env, struct creds_provider *base, const struct creds_options *copts,
    struct account_creds **ret_ac, size_t *ret_nac, struct run *r, struct err *err)
{
    const struct cfg *cfg = env->cfg;
    struct account_creds *ac;
    size_t nac = cfg->org_aggregator != NULL ? 1 : cfg->naccounts;

    ac = calloc(nac, sizeof(*ac));
    if (ac == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < nac; i++) {
        const char *acct, *role, *ext, *sess;

        if (cfg->org_aggregator != NULL) {
            acct = cfg->org_account_id;
            role = cfg->org_role_arn;
            ext = NULL;
            sess = NULL;
        } else {
            acct = cfg->accounts[i].id;
            role = cfg->accounts[i].role_arn;
            ext = cfg->accounts[i].external_id;
            sess = cfg->accounts[i].session_name;
        }
        ac[i].account_id = acct;
        if (role != NULL) {
            if (creds_provider_assume_role(copts, base, role, ext, sess, 0, &ac[i].provider,
                    &ac[i].err) == 0)
                ac[i].owned = 1;
        } else if (acct != NULL && check_identity(cfg, copts, base, acct, &ac[i].err) < 0) {
            ac[i].provider = NULL;
        } else {
            ac[i].provider = base;
        }
    }
    if (cfg->org_aggregator != NULL) {
        r->ntargets = 1;
    } else {
        r->ntargets = cfg->naccounts * cfg->nregions;
    }
    r->targets = calloc(r->ntargets ? r->ntargets : 1, sizeof(*r->targets));
    if (r->targets == NULL) {
        account_creds_clear(ac, nac);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        struct account_creds *a;

        if (cfg->org_aggregator != NULL) {
            a = &ac[0];
            t->aggregate = 1;
            snprintf(t->region, sizeof(t->region), "%s", cfg->org_region);
        } else {
            a = &ac[i / cfg->nregions];
            snprintf(t->region, sizeof(t->region), "%s", cfg->regions[i % cfg->nregions]);
        }
        snprintf(t->account_id, sizeof(t->account_id), "%s", a->account_id ? a->account_id : "");
        t->index = (int64_t)i;
        t->creds = a->provider;
        if (a->provider == NULL) {
            t->failed = 1;
            t->done = 1;
            t->err = a->err;
        }
    }
    *ret_ac = ac;
    *ret_nac = nac;
    return 0;
}

/* Organisation mode reads every account in one go, so when that read fails
 * every account and region known from earlier runs is flagged. */
static int
flag_known_targets(struct store *st, int64_t run_id, time_t now, const char *msg,
    struct err *err)
{
    json_t *status = NULL, *vpc, *done = json_object();
    size_t i;
    int rc = -1;

    if (store_status(st, &status, err) < 0)
        goto out;
    json_array_foreach(json_object_get(status, "vpcs"), i, vpc) {
        const char *a = json_string_value(json_object_get(vpc, "account_id"));
        const char *g = json_string_value(json_object_get(vpc, "region"));
        char key[80];

        if (a == NULL || g == NULL)
            continue;
        snprintf(key, sizeof(key), "%s/%s", a, g);
        if (json_object_get(done, key) != NULL)
            continue;
        json_object_set_new(done, key, json_true());
        if (store_target_failed(st, run_id, now, a, g, msg, err) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(status);
    json_decref(done);
    return rc;
}

/* Before step 3: which targets read Security Hub, and from when. */
static int
plan_compliance(const struct sync_env *env, struct run *r, time_t now, struct err *err)
{
    const struct cfg *cfg = env->cfg;

    if (!cfg->compliance_enabled)
        return 0;
    if (sh_configure_ratelimit(r->tenv.ratelimit, err) < 0)
        return -1;
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];
        struct store_sh_state sh;

        if (t->failed)
            continue;
        if (t->aggregate) {
            log_info("organization: compliance is not read in aggregator mode (Security Hub "
                     "needs each member account's hub); list the accounts to read it");
            continue;
        }
        if (store_sh_state_get(env->store, t->account_id, t->region, &sh, err) < 0)
            return -1;
        t->sh_wanted = 1;
        t->sh_until = now;
        t->sh_style = sh.style;
        if (sh.known && sh.hub_enabled && sh.last_read_at > 0 && sh.last_full_at > 0 &&
            now - sh.last_full_at < cfg->compliance_full_refresh_s)
            t->sh_since = sh.last_read_at;
        else
            t->sh_since = 0;
    }
    return 0;
}

static void
note_compliance_error(struct sync_report *rep, const struct target *t)
{
    char name[96];

    snprintf(name, sizeof(name), "%s/%s securityhub", t->account_id, t->region);
    json_array_append_new(rep->errors, json_pack("{s:s, s:s, s:s}", "target", name, "kind",
                                           err_kind_name(t->sh_err.kind), "error",
                                           t->sh_err.msg));
    log_error("%s: %s; its compliance stays as last recorded", name, t->sh_err.msg);
}

/* The models a compliance judgement links findings to, read from the
 * staging area only when the judgement has to be redone. */
struct staged_ref {
    struct store *store;
    const struct target *t;
};

static int
load_staged_models(void *ctx, struct store_link_texts *ret, struct err *err)
{
    const struct staged_ref *ref = ctx;

    return store_staged_link_texts(ref->store, ref->t->index, ref->t->account_id,
        ref->t->region, ret, err);
}

/* Step 4, the compliance part of one target. */
static int
commit_compliance(const struct sync_env *env, struct run *r, struct target *t, int64_t run_id,
    time_t now, struct sync_report *rep, struct err *err)
{
    if (!env->cfg->compliance_enabled || t->aggregate)
        return 0;
    if (t->failed) {
        if (t->account_id[0] == '\0')
            return 0;
        return store_compliance_failed(env->store, run_id, now, t->account_id, t->region,
            t->err.msg, err);
    }
    if (t->sh_failed) {
        rep->compliance_failed++;
        note_compliance_error(rep, t);
        return store_compliance_failed(env->store, run_id, now, t->account_id, t->region,
            t->sh_err.msg, err);
    }
    if (!t->sh_done)
        return 0;
    rep->findings += t->sh_findings;
    char digest[65];

    if (store_staged_models_digest(env->store, t->index, t->account_id, t->region, digest,
            err) < 0)
        return -1;
    struct staged_ref ref = {env->store, t};
    /* the store reads the staged summary texts itself (no tree each) */
    struct store_sh_read rd = {
        .hub_enabled = t->sh_hub_enabled,
        .full = t->sh_since == 0,
        .read_until = t->sh_until,
        .standards = t->sh_standards,
        .catalogue = t->sh_catalogue,
        .staged_target = t->index,
        .style = t->sh_style,
        .models_digest = digest,
        .models_load_texts = load_staged_models,
        .models_ctx = &ref,
    };
    return store_compliance_apply(env->store, run_id, now, t->account_id, t->region, &rd,
        r->events, NULL, err);
}

/* Step 5: the feed files and the webhook; problems are logged only. */
static void
publish(const struct sync_env *env, struct run *r, int64_t run_id,
    struct webhook_job **ret_job)
{
    const struct cfg *cfg = env->cfg;
    struct compliance_query all = {0};
    struct err err = {0};
    json_t *doc = NULL;
    char *dir = NULL, *spool = NULL;

    if (!cfg->compliance_enabled)
        return;
    if (feed_dir(cfg->state_dir, &dir, &err) < 0 ||
        compliance_query_run(env->store, &all, &doc, &err) < 0 ||
        feed_write_status(dir, doc, &err) < 0 ||
        feed_append_events(dir, r->events, cfg->feed_max_bytes, &err) < 0) {
        log_warnx("run %lld: compliance feed: %s, continuing", (long long)run_id, err.msg);
        err_clear(&err);
    }
    if (cfg->webhook_url != NULL && dir != NULL && 1) {
        struct webhook_options wo = {
            .url = cfg->webhook_url,
            .secret = cfg->webhook_secret,
            .secret_file = cfg->webhook_secret_file,
        };
        if (asprintf(&spool, "%s/%s", dir, WEBHOOK_SPOOL_FILE) < 0) {
            spool = NULL;
            log_warnx("run %lld: webhook: out of memory, events not sent", (long long)run_id);
        } else {
            wo.spool_path = spool;
            if (webhook_start(&wo, run_id, r->events, ret_job, &err) < 0 || err.kind != ERR_OK)
                log_warnx("run %lld: %s", (long long)run_id, err.msg);
        }
    }
    json_decref(doc);
    free(dir);
    free(spool);
}

/* Step 4: everything the run changes, in one transaction. */
static int
commit_run(const struct sync_env *env, struct run *r, int64_t run_id, time_t now,
    struct sync_report *rep, struct err *err)
{
    const struct cfg *cfg = env->cfg;
    struct store_run_stats stats = {0};
    json_t *summary = NULL;
    const char *status;
    int rc = -1;

    if (store_begin_all(env->store, err) < 0)
        return -1;
    for (size_t i = 0; i < r->ntargets; i++) {
        struct target *t = &r->targets[i];

        testhook_point("store-apply");
        if (env->stop != NULL && *env->stop) {
            err_set(err, ERR_TRANSIENT, "run abandoned: stopping");
            goto out;
        }
        if (t->failed) {
            rep->targets_failed++;
            note_target_error(rep, t);
            if (t->aggregate ? flag_known_targets(env->store, run_id, now, t->err.msg, err) < 0
                             : store_target_failed(env->store, run_id, now, t->account_id,
                                   t->region, t->err.msg, err) < 0)
                goto out;
            if (commit_compliance(env, r, t, run_id, now, rep, err) < 0)
                goto out;
            continue;
        }
        rep->resources += t->items;
        rep->items_cached += t->items_cached;
        rep->targets_reused += t->reused;
        for (size_t p = 0; p < t->nparts; p++) {
            struct target_part *part = &t->parts[p];
            const char *type;
            json_t *n;

            struct store_apply_stats as = {0};

            rep->vpcs_seen += part->vpcs;
            json_object_foreach(part->unmapped, type, n) {
                json_int_t prev = json_integer_value(json_object_get(rep->unmapped_types, type));
                json_object_set_new(rep->unmapped_types, type,
                    json_integer(prev + json_integer_value(n)));
                rep->unmapped += (long)json_integer_value(n);
            }
            if (store_apply_staged(env->store, run_id, now, t->index, part->account_id,
                    part->region, cfg->ignores, cfg->nignores, &as, err) < 0)
                goto out;
            rep->vpcs_unchanged += as.unchanged;
        }
        if (commit_compliance(env, r, t, run_id, now, rep, err) < 0)
            goto out;
        /* its results are in the transaction now: free what is left */
        target_release_results(t);
    }
    rep->targets = (long)r->ntargets;
    status = rep->targets_failed == 0 && rep->compliance_failed == 0 ? "ok"
             : rep->targets_failed < rep->targets                       ? "partial"
                                                                         : "failed";
    snprintf(rep->status, sizeof(rep->status), "%s", status);
    stats.targets_total = rep->targets;
    stats.targets_failed = rep->targets_failed;
    stats.api_calls = rep->api_calls;
    stats.resources_seen = rep->resources;
    summary = json_pack("{s:i, s:i, s:O, s:O}", "vpcs_seen", (json_int_t)rep->vpcs_seen,
        "unmapped", (json_int_t)rep->unmapped, "unmapped_types", rep->unmapped_types, "api",
        rep->api);
    if (store_run_finish(env->store, run_id, now, status, &stats, rep->errors, summary, err) < 0)
        goto out;
    testhook_point("commit");
    if (store_commit(env->store, err) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        store_rollback(env->store);
    json_decref(summary);
    return rc;
}

int
sync_run(const struct sync_env *env, struct sync_report *rep, struct err *err)
{
    const struct cfg *cfg = env->cfg;
    struct aws_endpoint_overrides ov = {
        .config = cfg->endpoint_config,
        .securityhub = cfg->endpoint_securityhub,
        .sts = cfg->endpoint_sts,
    };
    struct creds_options copts = {.endpoints = &ov};
    struct creds_provider *base = NULL;
    struct account_creds *ac = NULL;
    size_t nac = 0;
    struct run r = {.env = env};
    struct webhook_job *hook = NULL;
    int64_t run_id = 0;
    int64_t started = util_now_ms();
    struct err serr = {0};
    time_t now = time(NULL);
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    pthread_mutex_init(&r.store_lock, NULL);
    pthread_mutex_init(&r.map_lock, NULL);
    rep->errors = json_array();
    rep->unmapped_types = json_object();
    rep->api = json_array();
    if (rep->errors == NULL || rep->unmapped_types == NULL || rep->api == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto early;
    }
    if (store_run_begin(env->store, now, &run_id, err) < 0)
        goto early;
    rep->run_id = run_id;
    r.tenv.cfg = cfg;
    r.tenv.rules = env->rules;
    r.tenv.endpoints = &ov;
    r.tenv.stop = env->stop;
    r.tenv.store = env->store;
    r.tenv.store_lock = &r.store_lock;
    r.tenv.map_lock = &r.map_lock;
    r.tenv.rules_digest = map_rules_digest(env->rules);
    if (aws_ratelimit_new(&r.tenv.ratelimit, err) < 0 || aws_stats_new(&r.tenv.stats, err) < 0 ||
        discover_configure_ratelimit(r.tenv.ratelimit, err) < 0)
        goto out;
    copts.stats = r.tenv.stats; /* STS calls count in the run's API figures */
    if (creds_provider_default_chain(&copts, &base, err) < 0)
        goto out;
    if (plan(env, base, &copts, &ac, &nac, &r, err) < 0)
        goto out;
    r.events = json_array();
    if (r.events == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (plan_compliance(env, &r, now, err) < 0 || store_stage_reset(env->store, err) < 0)
        goto out;
    log_info("run %lld: %zu target(s), %d at a time", (long long)run_id, r.ntargets,
        cfg->concurrency);
    pool_run(r.ntargets, cfg->concurrency, run_target, &r);
    rep->api_calls = aws_stats_total_calls(r.tenv.stats);
    aws_stats_foreach(r.tenv.stats, add_api_row, rep->api);
    aws_stats_foreach(r.tenv.stats, count_throttles, &rep->throttles);
    if (env->stop != NULL && *env->stop) {
        err_set(err, ERR_TRANSIENT, "run abandoned: stopping");
        goto out;
    }
    now = time(NULL);
    if (commit_run(env, &r, run_id, now, rep, err) < 0)
        goto out;
    publish(env, &r, run_id, &hook);
    rc = 0;
out:
    rep->elapsed_ms = (long)(util_now_ms() - started);
    if (rc < 0) {
        struct err ferr = {0};
        struct store_run_stats stats = {.targets_total = (long)r.ntargets,
            .api_calls = rep->api_calls};

        snprintf(rep->status, sizeof(rep->status), "%s",
            env->stop != NULL && *env->stop ? "aborted" : "failed");
        json_array_append_new(rep->errors, json_pack("{s:s, s:s, s:s}", "target", "run", "kind",
                                               err_kind_name(err->kind), "error", err->msg));
        if (store_run_finish(env->store, run_id, time(NULL), rep->status, &stats, rep->errors,
                NULL, &ferr) < 0)
            log_error("run %lld: cannot record its end: %s", (long long)run_id, ferr.msg);
    }
    if (hook != NULL) {
        struct err herr = {0};

        if (webhook_finish(hook, WEBHOOK_TOTAL_MS + 1000, &herr))
            log_debug("run %lld: webhook delivered", (long long)run_id);
        else
            log_warnx("run %lld: %s", (long long)run_id, herr.msg);
    }
    json_decref(r.events);
    for (size_t i = 0; i < r.ntargets; i++)
        target_clear(&r.targets[i]);
    free(r.targets);
    account_creds_clear(ac, nac);
    creds_provider_free(base);
    aws_stats_free(r.tenv.stats);
    aws_ratelimit_free(r.tenv.ratelimit);
    /* empty the staging area: its temporary file need not outlive the run */
    if (store_stage_reset(env->store, &serr) < 0)
        log_warnx("run %lld: %s", (long long)run_id, serr.msg);
early:
    pthread_mutex_destroy(&r.map_lock);
    pthread_mutex_destroy(&r.store_lock);
    return rc;
}

void
sync_report_clear(struct sync_report *rep)
{
    if (rep == NULL)
        return;
    json_decref(rep->errors);
    json_decref(rep->unmapped_types);
    json_decref(rep->api);
    memset(rep, 0, sizeof(*rep));
}
