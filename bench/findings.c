/*
 * bench/findings.c: the Security Hub findings benchmark (summarise, stage,
 * apply); not part of the daemon or of its tests. The findings half of
 * bench/local.c, with its conventions.
 *
 * Why a separate program: `driftsync sync` also spends CPU on HTTP, SigV4
 * and the reading of AWS's pages, so its findings per CPU-second understate
 * what the daemon's own findings pipeline costs. This program feeds a
 * synthetic organisation's findings (bench/.work/<size>-s1: findings.ndjson
 * holds one ASFF finding per line, as GetFindings returns them) through the
 * library calls the worker (daemon/target.c: collect_finding,
 * flush_findings) and the commit (daemon/sync.c: commit_compliance) make,
 * single-threaded, and times each phase with the process CPU clock:
 *   parse      jsonr_loadb of each line, 100 lines (a GetFindings page) at
 *              a time, keeping the ACTIVE findings (what a full read
 *              returns): page parsing, for reference only, not part of the
 *              local processing; each page is then summarised while it is
 *              in cache, as the worker's callback does;
 *   summarize  sh_finding_summarize + its row form (compliance_row_text:
 *              the id apart, the compact text without what the row holds);
 *   stage      store_stage_finding_rows in batches of 500 (target.c);
 *   apply_full the commit of a first run (every target read in full):
 *              store_run_begin, store_begin_all, per target
 *              store_staged_models_digest and store_compliance_apply (it
 *              reads the staged summary texts itself, no jansson tree per
 *              finding; models given by digest, their link texts loaded
 *              with store_staged_link_texts and linked without a tree, as
 *              sync.c does), the run's record, commit;
 *   apply_1pct an incremental read in which 1% of each target's findings
 *              changed (every 100th: Compliance.Status PASSED<->FAILED,
 *              workflow NEW<->NOTIFIED, UpdatedAt later; one in ten of them
 *              ARCHIVED): their summarising and staging are untimed, the
 *              commit as apply_full is timed;
 *   apply_none an incremental read that brought nothing: the commit only.
 * Models: the discovered ones. Each target's resources.ndjson is mapped
 * (untimed: newest version of each resource, deletions left out, types the
 * rules know, map_target, canonical dumps) and its models staged
 * (store_stage_models, untimed) before each run's findings, so the apply
 * links failing findings to real components as the daemon does.
 * Models are staged with their link documents (store_staged_model_make, as
 * the worker stages them), so the commit reads those small texts instead
 * of cutting them out of the model texts in SQL.
 * Catalogue: per target, its securityhub.json (standards subscribed in
 * READY/INCOMPLETE state, disabled controls) over the dataset's
 * securityhub-catalog.json, converted as sh_read_catalogue's
 * DescribeStandardsControls conversion does (control_id without "CIS.",
 * security_control_ids from the RemediationUrl).
 * Rates are findings per CPU-second: every line parsed for parse (the
 * ARCHIVED ones too, dropped after parsing), and the ACTIVE findings (what
 * a full read returns, the whole stored set) for the other phases, the 1%
 * and empty reads included. Pipeline: findings local = summarize + stage +
 * apply_full. "findings" in the output counts the ACTIVE ones.
 * Output: one JSON object on stdout. Usage:
 *   findings STATE_DB TARGET_DIR...
 *   (TARGET_DIR = <dataset>/accounts/<id>/<region>; STATE_DB should not
 *   exist yet)
 * Build (as bench/run's build_local builds bench/local.c; add -ljemalloc
 * when build/<dir>/driftsync links jemalloc):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wpedantic -Wshadow \
 *     -Wmissing-prototypes -Wcast-qual -Wwrite-strings -Wvla -Wstrict-prototypes \
 *     -I . -I build/<dir> -o bench/.work/findings-bin bench/findings.c bench/dataset.c \
 *     build/<dir>/libdriftsync_core.a $(pkg-config --libs jansson yaml-0.1 sqlite3 \
 *     libcrypto libcurl) -lpthread -lm [-ljemalloc]
 *   bench/.work/findings-bin /tmp/f.db $(ls -d bench/.work/100k-s1/accounts/<star>/<star>)
 * Errors name the file and line (or the target and phase) and exit 1; bad
 * input never aborts.
 */
#include <sys/resource.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench/dataset.h"
#include "daemon/err.h"
#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "mapping/compliance.h"
#include "mapping/map.h"
#include "providers/aws/securityhub.h"
#include "store/compliance.h"
#include "store/store.h"

#define STAGE_BATCH 500 /* finding summaries per store_stage_finding_rows, as target.c */
/* The canonical form the store compares model snapshots in (target.c). */
#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

struct target {
    char account[BENCH_ACCOUNT_LEN];
    char region[BENCH_REGION_LEN];
    char dir[4096];
    json_t *catalogue;                 /* owned: sh_read_catalogue's shape */
    struct store_staged_model *models; /* owned, texts owned; vpc_id/name owned too */
    size_t nmodels;
    char sum[65]; /* store_staged_models_sum of models (the worker's), "" when none */
    long active;                       /* ACTIVE findings in the file */
    long changed;                      /* findings of the 1% read */
};

struct phases {
    double parse, summarize, stage, apply_full, apply_1pct, apply_none;
    double stage_1pct;
    long parsed, events_full, events_1pct, events_none;
};


static void
target_clear(struct target *t)
{
    json_decref(t->catalogue);
    for (size_t i = 0; i < t->nmodels; i++) {
        store_staged_model_clear(&t->models[i]);
        free((char *)(uintptr_t)t->models[i].vpc_id);
        free((char *)(uintptr_t)t->models[i].name);
    }
    free(t->models);
    memset(t, 0, sizeof(*t));
}

/* dir = .../accounts/<account>/<region>: the path, then its last two
 * components. */
static int
target_names(const char *dir, struct target *t, struct err *err)
{
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(t->dir))
        return err_set(err, ERR_CONFIG, "target directory '%.200s': bad path", dir);
    memcpy(t->dir, dir, n + 1);
    while (n > 1 && t->dir[n - 1] == '/')
        t->dir[--n] = '\0';
    return bench_target_names(dir, t->account, t->region, err);
}

static json_t *
load_json_file(const char *path, struct err *err)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);

    if (j == NULL)
        err_set(err, ERR_CONFIG, "%s:%d: %s", path, jerr.line, jerr.text);
    return j;
}

static int
in_strings(json_t *arr, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach(arr, i, v) {
        if (s != NULL && json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

/* The target's catalogue from its securityhub.json and the dataset's
 * securityhub-catalog.json (cat: its "standards" list). */
static int
load_catalogue(struct target *t, json_t *cat, struct err *err)
{
    char path[4200];
    json_t *hub, *sub, *out = json_object();
    size_t i;
    int consolidated, rc = -1;

    snprintf(path, sizeof(path), "%s/securityhub.json", t->dir);
    hub = load_json_file(path, err);
    if (hub == NULL || out == NULL)
        goto out;
    consolidated = json_is_true(json_object_get(hub, "consolidated_controls"));
    json_array_foreach(json_object_get(hub, "standards_subscriptions"), i, sub) {
        const char *sarn = json_string_value(json_object_get(sub, "StandardsArn"));
        const char *subarn = json_string_value(json_object_get(sub, "StandardsSubscriptionArn"));
        const char *status = json_string_value(json_object_get(sub, "StandardsStatus"));
        json_t *disabled = json_object_get(hub, "disabled_controls"), *std, *c, *controls;
        char key[16], k2[16];
        size_t j, l;

        if (sarn == NULL || subarn == NULL || status == NULL) {
            err_set(err, ERR_CONFIG, "%s: standards_subscriptions[%zu] lacks StandardsArn, "
                                     "StandardsSubscriptionArn or StandardsStatus", path, i);
            goto out;
        }
        if (sh_cis_key(sarn, key, sizeof(key)) < 0 ||
            (strcmp(status, "READY") != 0 && strcmp(status, "INCOMPLETE") != 0))
            continue;
        controls = json_array();
        if (controls == NULL)
            goto oom;
        json_array_foreach(json_object_get(cat, "standards"), j, std) {
            const char *carn = json_string_value(json_object_get(std, "StandardsArn"));

            if (carn == NULL || sh_cis_key(carn, k2, sizeof(k2)) < 0 || strcmp(k2, key) != 0)
                continue;
            json_array_foreach(json_object_get(std, "controls"), l, c) {
                const char *cid = json_string_value(json_object_get(c, "ControlId"));
                const char *scid = json_string_value(json_object_get(c, "SecurityControlId"));
                json_t *title = json_object_get(c, "Title");
                json_t *sev = json_object_get(c, "SeverityRating");
                int off;

                if (cid == NULL) {
                    json_decref(controls);
                    err_set(err, ERR_CONFIG, "securityhub-catalog.json: %s control %zu has no "
                                             "ControlId", carn, l + 1);
                    goto out;
                }
                off = in_strings(disabled, cid) || (consolidated && in_strings(disabled, scid));
                if (json_array_append_new(controls,
                        json_pack("{s:s, s:s, s:O, s:O, s:s, s:n, s:o}", "control_id",
                            strncmp(cid, "CIS.", 4) == 0 ? cid + 4 : cid, "aws_control_id", cid,
                            "title", json_is_string(title) ? title : json_null(), "severity",
                            json_is_string(sev) ? sev : json_null(), "status",
                            off ? "DISABLED" : "ENABLED", "disabled_reason",
                            "security_control_ids",
                            sh_control_ids_from_url(json_object_get(c, "RemediationUrl")))) < 0) {
                    json_decref(controls);
                    goto oom;
                }
            }
        }
        if (json_object_set_new(out, key,
                json_pack("{s:s, s:s, s:o}", "standards_arn", sarn, "subscription_arn", subarn,
                    "controls", controls)) < 0)
            goto oom;
    }
    t->catalogue = out;
    out = NULL;
    rc = 0;
    goto out;
oom:
    err_set(err, ERR_INTERNAL, "%s: out of memory", path);
out:
    json_decref(hub);
    json_decref(out);
    return rc;
}

/* The target's discovered models (untimed): resources.ndjson, newest
 * version per type+id, deletions dropped, types the rules know; mapped and
 * dumped canonically as target.c stages them. */
static int
load_models(const struct map_rules *rules, struct target *t, struct err *err)
{
    json_t *items = NULL, *model;
    struct map_result res = {0};
    size_t k = 0;
    const char *vpc;
    int rc = -1;

    if (bench_load_items(rules, t->dir, &items, err) < 0)
        return -1;
    if (map_target(rules, t->account, t->region, items, &res, err) < 0) {
        err_prefix(err, "map_target %s/%s", t->account, t->region);
        goto out;
    }
    t->models = calloc(json_object_size(res.models) + 2, sizeof(*t->models));
    if (t->models == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* the texts as the worker stages them; the names outlive res: copied */
    json_object_foreach(res.models, vpc, model) {
        struct store_staged_model *m = &t->models[k];
        int ok = store_staged_model_make(m, vpc, model) == 0;
        const char *name = m->name;

        m->vpc_id = strdup(vpc);
        m->name = name != NULL ? strdup(name) : NULL;
        t->nmodels = ++k;
        if (!ok || m->vpc_id == NULL || (name != NULL && m->name == NULL)) {
            err_set(err, ERR_INTERNAL, "%s/%s/%s: out of memory dumping the model", t->account,
                t->region, vpc);
            goto out;
        }
    }
    if (res.account != NULL) {
        int ok = store_staged_model_make(&t->models[k], NULL, res.account) == 0;

        t->nmodels = ++k;
        if (!ok) {
            err_set(err, ERR_INTERNAL, "%s/%s: out of memory dumping the account document",
                t->account, t->region);
            goto out;
        }
    }
    if (store_staged_models_sum(t->models, t->nmodels, t->sum) < 0)
        t->sum[0] = '\0'; /* the commit hashes the staged rows then */
    rc = 0;
out:
    json_decref(items);
    map_result_clear(&res);
    return rc;
}

/* The findings texts of the target's file (untimed I/O): *ret_lines (each
 * owned) and their number. */
static int
read_lines(const struct target *t, char ***ret_lines, size_t *ret_n, struct err *err)
{
    char path[4200];
    FILE *f;
    char *line = NULL, **v = NULL;
    size_t cap = 0, n = 0, vcap = 0;
    ssize_t len;
    int oom = 0;

    snprintf(path, sizeof(path), "%s/findings.ndjson", t->dir);
    f = fopen(path, "re");
    if (f == NULL)
        return err_set(err, ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
    while ((len = getline(&line, &cap, f)) > 0) {
        if (n == vcap) {
            char **g = realloc(v, (vcap ? vcap * 2 : 1024) * sizeof(*v));

            if (g == NULL) {
                oom = 1;
                break;
            }
            v = g;
            vcap = vcap ? vcap * 2 : 1024;
        }
        v[n++] = line;
        line = NULL;
        cap = 0;
    }
    free(line);
    if (ferror(f) || oom) {
        fclose(f);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return err_set(err, oom ? ERR_INTERNAL : ERR_CONFIG, "%s: %s after line %zu", path,
            oom ? "out of memory" : "read error", n);
    }
    fclose(f);
    *ret_lines = v;
    *ret_n = n;
    return 0;
}


/* Every 100th ACTIVE finding changed as the 1% read sees it (untimed):
 * status and workflow flipped, UpdatedAt later, one in ten ARCHIVED. */
static int
change_finding(json_t *f, long nth, struct err *err)
{
    json_t *comp = json_object_get(f, "Compliance"), *wf = json_object_get(f, "Workflow");
    const char *st = json_string_value(json_object_get(comp, "Status"));
    const char *ws = json_string_value(json_object_get(wf, "Status"));

    if (json_is_object(comp) &&
        json_object_set_new(comp, "Status",
            json_string(st != NULL && strcmp(st, "FAILED") == 0 ? "PASSED" : "FAILED")) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (json_is_object(wf) &&
        json_object_set_new(wf, "Status",
            json_string(ws != NULL && strcmp(ws, "NEW") == 0 ? "NOTIFIED" : "NEW")) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    json_object_del(f, "WorkflowState");
    if (json_object_set_new(f, "UpdatedAt", json_string("2026-11-22T06:15:02.450Z")) < 0 ||
        (nth % 10 == 9 && json_object_set_new(f, "RecordState", json_string("ARCHIVED")) < 0))
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

/* Stages the rows ids/texts[0..*n) in one call and frees them (timed by
 * the caller). */
static int
flush(struct store *st, const struct target *t, int64_t index, char **ids, char **texts,
    size_t *n, struct err *err)
{
    struct store_staged_finding v[STAGE_BATCH];
    int rc = 0;

    for (size_t i = 0; i < *n; i++) {
        v[i].id = ids[i];
        v[i].text = texts[i];
    }
    if (*n > 0 && store_stage_finding_rows(st, index, v, *n, err) < 0)
        rc = err_prefix(err, "staging %s/%s", t->account, t->region);
    for (size_t i = 0; i < *n; i++) {
        free(ids[i]);
        free(texts[i]);
    }
    *n = 0;
    return rc;
}

/* What the worker does with one target's findings read, a page (100
 * findings, as GetFindings returns them) at a time: parse (timed as
 * parse), summarise and dump each finding (timed as summarize), stage in
 * batches of 500 (timed as stage). changed: the 1% read (only the changed
 * findings are summarised and staged; nothing timed but their staging, in
 * ph->stage_1pct). */
static int
read_target(struct store *st, struct target *t, int64_t index, int changed, struct phases *ph,
    struct err *err)
{
    char **lines = NULL, *ids[STAGE_BATCH + SH_FINDINGS_PAGE],
                         *texts[STAGE_BATCH + SH_FINDINGS_PAGE];
    json_t *page[SH_FINDINGS_PAGE];
    size_t n = 0, np = 0, nt = 0, nactive = 0;
    long nth = 0;
    double c0;
    int rc = -1;

    if (read_lines(t, &lines, &n, err) < 0)
        return -1;
    for (size_t first = 0; first < n; first += SH_FINDINGS_PAGE) {
        size_t last = n - first < SH_FINDINGS_PAGE ? n : first + SH_FINDINGS_PAGE;

        c0 = bench_cpu_now();
        for (size_t i = first; i < last; i++) {
            json_error_t jerr;
            json_t *f = jsonr_loadb(lines[i], strlen(lines[i]), 0, &jerr);
            const char *rs;

            if (!json_is_object(f)) {
                json_decref(f);
                err_set(err, ERR_CONFIG, "%s/findings.ndjson:%zu: not a JSON object (%s)",
                    t->dir, i + 1, f == NULL ? jerr.text : "another JSON value");
                goto out;
            }
            rs = json_string_value(json_object_get(f, "RecordState"));
            if (rs != NULL && strcmp(rs, "ACTIVE") != 0) { /* a full read asks ACTIVE only */
                json_decref(f);
                continue;
            }
            if (changed && nactive++ % 100 != 0) {
                json_decref(f);
                continue;
            }
            page[np++] = f;
        }
        if (!changed) {
            ph->parse += bench_cpu_now() - c0;
            ph->parsed += (long)(last - first); /* every line of the page */
            t->active += (long)np;
        } else {
            for (size_t i = 0; i < np; i++) {
                if (change_finding(page[i], nth++, err) < 0)
                    goto out;
            }
            t->changed += (long)np;
        }
        c0 = bench_cpu_now();
        for (size_t i = 0; i < np; i++) {
            json_t *sum = NULL;

            if (sh_finding_summarize(page[i], &sum, err) < 0) {
                err_prefix(err, "%s/findings.ndjson finding %zu of the page from line %zu",
                    t->dir, i + 1, first + 1);
                goto out;
            }
            if (compliance_row_text(sum, t->account, t->region, &ids[nt], &texts[nt], err) < 0) {
                json_decref(sum);
                goto out;
            }
            json_decref(sum);
            nt++;
        }
        if (!changed)
            ph->summarize += bench_cpu_now() - c0;
        if (nt >= STAGE_BATCH) { /* target.c stages every 500 */
            size_t rest = nt - STAGE_BATCH;

            nt = STAGE_BATCH;
            c0 = bench_cpu_now();
            if (flush(st, t, index, ids, texts, &nt, err) < 0) {
                nt = rest;
                memmove(ids, ids + STAGE_BATCH, rest * sizeof(*ids));
                memmove(texts, texts + STAGE_BATCH, rest * sizeof(*texts));
                goto out;
            }
            *(changed ? &ph->stage_1pct : &ph->stage) += bench_cpu_now() - c0;
            memmove(ids, ids + STAGE_BATCH, rest * sizeof(*ids));
            memmove(texts, texts + STAGE_BATCH, rest * sizeof(*texts));
            nt = rest;
        }
        for (size_t i = 0; i < np; i++)
            json_decref(page[i]);
        np = 0;
    }
    c0 = bench_cpu_now();
    if (flush(st, t, index, ids, texts, &nt, err) < 0)
        goto out;
    *(changed ? &ph->stage_1pct : &ph->stage) += bench_cpu_now() - c0;
    rc = 0;
out:
    bench_free_texts(lines, n);
    for (size_t i = 0; i < np; i++)
        json_decref(page[i]);
    for (size_t i = 0; i < nt; i++) {
        free(ids[i]);
        free(texts[i]);
    }
    return rc;
}

struct staged_ref {
    struct store *st;
    const struct target *t;
    int64_t index;
};

static int
load_staged_models(void *ctx, struct store_link_texts *ret, struct err *err)
{
    const struct staged_ref *ref = ctx;

    return store_staged_link_texts(ref->st, ref->index, ref->t->account, ref->t->region, ret,
        err);
}

/* sync.c's commit_compliance for every target, in one run and transaction. */
static int
commit(struct store *st, struct target *t, size_t n, int full, time_t now, long *ret_events,
    struct err *err)
{
    json_t *events = json_array();
    int64_t run_id = 0;
    int rc = -1;

    if (events == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (store_run_begin(st, now, &run_id, err) < 0 || store_begin_all(st, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct staged_ref ref = {st, &t[i], (int64_t)i};
        char digest[65];

        if (store_staged_models_digest(st, (int64_t)i, t[i].account, t[i].region, digest,
                err) < 0) {
            store_rollback(st);
            goto out;
        }
        struct store_sh_read rd = {
            .hub_enabled = 1,
            .full = full,
            .read_until = now,
            .catalogue = t[i].catalogue,
            .staged_target = (int64_t)i,
            .style = SH_STYLE_UNKNOWN,
            .models_digest = digest,
            .models_load_texts = load_staged_models,
            .models_ctx = &ref,
        };
        if (store_compliance_apply(st, run_id, now, t[i].account, t[i].region, &rd, events,
                NULL, err) < 0) {
            store_rollback(st);
            err_prefix(err, "store_compliance_apply %s/%s", t[i].account, t[i].region);
            goto out;
        }
    }
    if (store_run_finish(st, run_id, now, "ok", NULL, NULL, NULL, err) < 0 ||
        store_commit(st, err) < 0) {
        store_rollback(st);
        goto out;
    }
    *ret_events = (long)json_array_size(events);
    rc = 0;
out:
    json_decref(events);
    return rc;
}

/* One run: staging reset, models staged (untimed), findings read per
 * `what` (0 full, 1 the 1% read, 2 nothing), then the timed commit. */
static int
run(struct store *st, struct target *t, size_t n, int what, time_t now, struct phases *ph,
    double *ret_apply, long *ret_events, struct err *err)
{
    double c0;

    if (store_stage_reset(st, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (store_stage_models(st, (int64_t)i, t[i].account, t[i].region, t[i].models,
                t[i].nmodels, t[i].sum[0] != '\0' ? t[i].sum : NULL, err) < 0)
            return err_prefix(err, "staging the models of %s/%s", t[i].account, t[i].region);
        if (what < 2 && read_target(st, &t[i], (int64_t)i, what == 1, ph, err) < 0)
            return -1;
    }
    c0 = bench_cpu_now();
    if (commit(st, t, n, what == 0, now, ret_events, err) < 0)
        return -1;
    *ret_apply = bench_cpu_now() - c0;
    return 0;
}

static double
rate(long items, double s)
{
    return s > 0 ? (double)items / s : 0;
}

/* <dataset>/accounts/<id>/<region> -> <dataset>/securityhub-catalog.json */
static json_t *
dataset_catalog(const char *dir, struct err *err)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/../../../securityhub-catalog.json", dir);
    return load_json_file(path, err);
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct store *st = NULL;
    struct target *t = NULL;
    struct err err = {0};
    struct phases ph = {0};
    struct rusage ru;
    json_t *cat = NULL;
    size_t n;
    long active = 0, changed = 0, vpcs = 0, model_bytes = 0;
    time_t now = 1790000000;
    int rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s STATE_DB TARGET_DIR...\n", argv[0]);
        return 2;
    }
    n = (size_t)argc - 2;
    t = calloc(n, sizeof(*t));
    if (t == NULL) {
        fprintf(stderr, "findings: out of memory\n");
        return 1;
    }
    if (map_rules_load(NULL, &rules, &err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (target_names(argv[i + 2], &t[i], &err) < 0)
            goto out;
        if (cat == NULL && (cat = dataset_catalog(t[i].dir, &err)) == NULL)
            goto out;
        if (load_catalogue(&t[i], cat, &err) < 0 || load_models(rules, &t[i], &err) < 0)
            goto out;
        for (size_t k = 0; k < t[i].nmodels; k++) {
            vpcs += t[i].models[k].vpc_id != NULL;
            model_bytes += (long)strlen(t[i].models[k].model);
        }
    }
    json_decref(cat);
    cat = NULL;
    if (store_open(argv[1], &st, &err) < 0)
        goto out;

    if (run(st, t, n, 0, now, &ph, &ph.apply_full, &ph.events_full, &err) < 0) {
        err_prefix(&err, "apply_full");
        goto out;
    }
    if (run(st, t, n, 1, now + 3600, &ph, &ph.apply_1pct, &ph.events_1pct, &err) < 0) {
        err_prefix(&err, "apply_1pct");
        goto out;
    }
    if (run(st, t, n, 2, now + 7200, &ph, &ph.apply_none, &ph.events_none, &err) < 0) {
        err_prefix(&err, "apply_none");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        active += t[i].active;
        changed += t[i].changed;
    }

    getrusage(RUSAGE_SELF, &ru);
    printf("{\"targets\": %zu, \"findings\": %ld, \"vpcs\": %ld, "
           "\"model_bytes\": %ld, "
           "\"changed_1pct\": %ld, "
           "\"parse_s\": %.3f, \"summarize_s\": %.3f, \"stage_s\": %.3f, "
           "\"apply_full_s\": %.3f, \"apply_1pct_s\": %.3f, \"apply_none_s\": %.3f, "
           "\"parse_items_per_s\": %.0f, \"summarize_items_per_s\": %.0f, "
           "\"stage_items_per_s\": %.0f, \"apply_full_items_per_s\": %.0f, "
           "\"apply_1pct_items_per_s\": %.0f, \"apply_none_items_per_s\": %.0f, "
           "\"findings_local_items_per_s\": %.0f, "
           "\"events_full\": %ld, \"events_1pct\": %ld, \"events_none\": %ld, "
           "\"peak_rss_kb\": %ld}\n",
        n, active, vpcs, model_bytes, changed, ph.parse, ph.summarize, ph.stage,
        ph.apply_full, ph.apply_1pct, ph.apply_none, rate(ph.parsed, ph.parse),
        rate(active, ph.summarize), rate(active, ph.stage), rate(active, ph.apply_full),
        rate(active, ph.apply_1pct), rate(active, ph.apply_none),
        rate(active, ph.summarize + ph.stage + ph.apply_full),
        ph.events_full, ph.events_1pct, ph.events_none, ru.ru_maxrss);
    fprintf(stderr, "findings local = summarize + stage + apply_full: %.0f items/s\n",
        rate(active, ph.summarize + ph.stage + ph.apply_full));
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "findings: %s\n", err.msg);
    json_decref(cat);
    for (size_t i = 0; i < n; i++)
        target_clear(&t[i]);
    free(t);
    store_close(st);
    map_rules_free(rules);
    return rc;
}
