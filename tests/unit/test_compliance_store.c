/*
 * test_compliance_store.c: store/compliance.c and daemon/compliance_query.c
 * on a temporary database: full and incremental reads (merge, ARCHIVED
 * removal), status changes as events with since/run, a failed read leaving
 * everything but the error untouched, hub not enabled, the run's
 * transaction rolled back, the query's filters and aggregation, model
 * annotation, totals, and bad arguments; the finding style stored per
 * target, the incremental read with nothing new that keeps the verdicts
 * without judging (and the catalogue or model changes that still re-judge),
 * and migration 3 applied to a version 2 database
 * (tests/data/compliance/v2-schema.sql); models given by digest loaded
 * only when a counted FAILED finding needs linking; the incremental
 * re-judge of the touched controls only, equal to a full re-judge.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "daemon/compliance_query.h"
#include "daemon/jsonw.h"
#include "providers/aws/securityhub.h"
#include "store/compliance.h"
#include "store/store.h"
#include "stagefind.h"
#include "testutil.h"

#define ACCT "111111111111"
#define REG  "us-east-1"
#define R1   "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1"
#define R2   "arn:aws:iam::111111111111:user/bob"

static json_t *
catalogue(void)
{
    return json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:s, s:[s]}]}}",
        "cis-1.4", "standards_arn", "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0",
        "subscription_arn", "arn:sub", "controls",
        "control_id", "5.3", "title", "Default SG closed", "severity", "HIGH", "status",
        "ENABLED", "security_control_ids", "EC2.2",
        "control_id", "1.10", "title", "MFA for users", "severity", "MEDIUM", "status",
        "ENABLED", "security_control_ids", "IAM.5");
}

static json_t *
summary(const char *id, const char *ctl, const char *scid, const char *status,
    const char *workflow, const char *state, const char *res)
{
    return json_pack("{s:s, s:s, s:s, s:[s], s:{s:[s]}, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s}",
        "id", id, "account_id", ACCT, "region", REG, "standard_ids", "cis-1.4", "control_ids",
        "cis-1.4", ctl, "security_control_id", scid, "status", status, "workflow", workflow,
        "record_state", state, "severity", "HIGH", "resources", res, "updated_at",
        "2026-01-01T00:00:00Z", "title", "t");
}

static json_t *
model(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:[{s:s, s:s, s:[s]}]}], s:[], s:[]}",
        "schema", "driftsync.model/1", "account_id", ACCT, "region", REG, "vpc_id", "vpc-1",
        "components", "key", R1, "resource_type", "AWS::EC2::SecurityGroup", "resource_id",
        "sg-1", "requirements", "id", "default-sg-closed", "title", "closed", "controls", "EC2.2",
        "flows", "boundaries");
}

static json_t *
find_row(json_t *rows, const char *ctl)
{
    json_t *r;
    size_t i;

    json_array_foreach(rows, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "control_id")), ctl) == 0)
            return r;
    }
    return NULL;
}

static const char *
row_str(json_t *rows, const char *ctl, const char *field)
{
    return json_string_value(json_object_get(find_row(rows, ctl), field));
}

/* Stages sums (summary trees, borrowed) as the worker does, in the row
 * form for target STAGED, in a fresh staging area: what the commit
 * (store_compliance_apply) reads. */
#define STAGED 0
static int
stage_sums(struct store *st, json_t *sums, struct err *err)
{
    if (store_stage_reset(st, err) < 0)
        return -1;
    return stagefind_rows(st, STAGED, sums, ACCT, REG, err);
}

/* The commit of summaries staged before (stage_sums). */
static int
apply_staged(struct store *st, int64_t run, time_t now, int full, json_t *models,
    json_t *events, struct err *err)
{
    json_t *cat = catalogue();
    struct store_sh_read rd = {.hub_enabled = 1, .full = full, .read_until = now,
        .catalogue = cat, .staged_target = STAGED, .models = models};
    int rc = store_compliance_apply(st, run, now, ACCT, REG, &rd, events, NULL, err);

    json_decref(cat);
    return rc;
}

/* A read of sums (taken over): staged, then committed. */
static int
apply(struct store *st, int64_t run, time_t now, int full, json_t *sums, json_t *models,
    json_t *events, struct err *err)
{
    int rc = stage_sums(st, sums, err);

    if (rc == 0)
        rc = apply_staged(st, run, now, full, models, events, err);
    json_decref(sums);
    return rc;
}

/* apply() with a chosen catalogue, style and ret_judged, for the tests below */
static int
apply_ex(struct store *st, int64_t run, time_t now, int full, json_t *cat, json_t *sums,
    json_t *models, int style, json_t *events, json_t **ret_judged, struct err *err)
{
    struct store_sh_read rd = {.hub_enabled = 1, .full = full, .read_until = now,
        .catalogue = cat, .staged_target = STAGED, .models = models, .style = style};
    int rc = stage_sums(st, sums, err);

    if (rc == 0)
        rc = store_compliance_apply(st, run, now, ACCT, REG, &rd, events, ret_judged, err);
    json_decref(sums);
    return rc;
}

static int64_t
raw_checked_at(const char *path, const char *ctl)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT checked_at FROM compliance_status WHERE control_id = ?",
            -1, &s, NULL) == SQLITE_OK &&
        sqlite3_bind_text(s, 1, ctl, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* A full read that brought a finding twice: the later summary is the row
 * (written over the first: the plain INSERT falls back to replacing), an
 * ARCHIVED one after it is not kept, and the judgement is made from the
 * rows stored, not the list read. */
static void
test_full_read_twice(const char *dir)
{
    char path[300];
    struct store *st = NULL;
    struct store_sh_state sh;
    struct err err = {0};
    json_t *ev = json_array(), *rows = NULL, *models;
    int64_t r1;
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    snprintf(path, sizeof(path), "%s/twice.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL) {
        json_decref(ev);
        return;
    }
    models = json_pack("{s:o}", "vpc-1", model());
    CHECK(store_run_begin(st, 1000, &r1, &err) == 0);
    CHECK_MSG(apply(st, r1, 1000, 1,
                  json_pack("[o, o, o, o]",
                      summary("f1", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE", R1),
                      summary("f2", "1.10", "IAM.5", "PASSED", "RESOLVED", "ACTIVE", R2),
                      summary("f1", "5.3", "EC2.2", "PASSED", "RESOLVED", "ACTIVE", R1),
                      summary("f2", "1.10", "IAM.5", "FAILED", "NEW", "ARCHIVED", R2)),
                  models, ev, &err) == 0, "%s", err.msg);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.findings, 2);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "status"), "COMPLIANT");
    CHECK_STR(row_str(rows, "1.10", "status"), "COMPLIANT");
    json_decref(rows);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    /* rows in the row form: the id is the row's, record_state ACTIVE goes
     * without saying (mapping/compliance.h, compliance_row) */
    CHECK(sqlite3_prepare_v2(db, "SELECT finding_id, json_extract(summary, '$.status'),"
              " json_type(summary, '$.record_state'), json_type(summary, '$.id')"
              " FROM sh_findings ORDER BY finding_id",
              -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "f1");
    CHECK_STR((const char *)sqlite3_column_text(s, 1), "PASSED");
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "f2");
    CHECK_STR((const char *)sqlite3_column_text(s, 1), "PASSED");
    CHECK(sqlite3_column_type(s, 2) == SQLITE_NULL && sqlite3_column_type(s, 3) == SQLITE_NULL);
    CHECK(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
    json_decref(models);
    json_decref(ev);
    store_close(st);
}

/* A staged text that is not JSON, or not a summary, fails the commit with
 * a message naming it, in a full and in an incremental read, and the
 * stored findings and verdicts stay as they were. */
static void
test_bad_staged_text(const char *dir)
{
    char path[300], *good = NULL;
    struct store *st = NULL;
    struct err err = {0};
    json_t *rows = NULL, *before = NULL, *models, *cat = catalogue(), *f3;
    struct store_sh_state sh;
    int64_t r1, r2;

    snprintf(path, sizeof(path), "%s/badtext.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL) {
        json_decref(cat);
        return;
    }
    models = json_pack("{s:o}", "vpc-1", model());
    CHECK(store_run_begin(st, 1000, &r1, &err) == 0);
    CHECK_MSG(apply(st, r1, 1000, 1,
                  json_pack("[o, o]",
                      summary("f1", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE", R1),
                      summary("f2", "1.10", "IAM.5", "PASSED", "RESOLVED", "ACTIVE", R2)),
                  models, NULL, &err) == 0, "%s", err.msg);
    CHECK(store_compliance_rows(st, NULL, NULL, &before, &err) == 0);
    f3 = summary("f3", "1.10", "IAM.5", "FAILED", "NEW", "ACTIVE", R2);
    good = jsonw_dumps(f3, JSON_COMPACT);
    json_decref(f3);
    {
        static const char *const bad[] = {
            "{\"id\":\"f77\",\"account_id\":\"1111", /* cut */
            "{\"id\":\"f77\",\"account_id\":\"111111111111\"}",
        };
        static const char *const want[] = {
            "store: staged finding summary: compliance: summary 2 is not JSON: unexpected end "
            "of text at byte 30 of 30",
            "store: staged finding summary: compliance: summary 2 ('f77') is not a finding "
            "summary",
        };

        for (size_t b = 0; b < 2; b++) {
            struct store_staged_finding texts[2] = {{.text = good}, {.text = bad[b]}};

            CHECK(store_stage_reset(st, &err) == 0);
            CHECK(store_stage_finding_rows(st, STAGED, texts, 2, &err) == 0);
            CHECK(store_run_begin(st, 2000, &r2, &err) == 0);
            for (int full = 0; full < 2; full++) {
                CHECK(apply_staged(st, r2, 2000, full, models, NULL, &err) == -1);
                CHECK_CONTAINS(err.msg, want[b]);
                CHECK_INT(err.kind, ERR_INTERNAL);
                err_clear(&err);
            }
        }
    }
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.findings, 2);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK(json_equal(rows, before));
    json_decref(rows);
    json_decref(before);
    free(good);
    json_decref(models);
    json_decref(cat);
    store_close(st);
}

/* The status query merges a control's failed resources and components
 * over its targets: each once, sorted, however many targets name it. The
 * two targets' summaries are staged side by side, and each commit reads
 * only its own. */
static void
test_query_merges(const char *dir)
{
    static const char *const regions[] = {REG, "eu-west-1"};
    static const char *const r0 = "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0";
    static const char *const r9 = "arn:aws:ec2:us-east-1:111111111111:security-group/sg-9";
    char path[300];
    struct store *st = NULL;
    struct compliance_query q = {0};
    struct err err = {0};
    json_t *models, *doc = NULL, *cat = catalogue(), *ctl = NULL, *std, *c;
    int64_t r1;
    size_t i;

    snprintf(path, sizeof(path), "%s/merge.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL) {
        json_decref(cat);
        return;
    }
    models = json_pack("{s:o}", "vpc-1", model());
    /* both targets staged before either commits, as workers stage them:
     * each commit reads its own target's texts only */
    CHECK(store_stage_reset(st, &err) == 0);
    for (size_t t = 0; t < 2; t++) {
        json_t *sums = json_pack("[o, o, o]",
            summary(t == 0 ? "f1" : "g1", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE",
                t == 0 ? R1 : r9),
            summary(t == 0 ? "f2" : "g2", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE",
                t == 0 ? r0 : R1),
            summary(t == 0 ? "f3" : "g3", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE", R1));

        CHECK(stagefind_rows(st, (int64_t)t, sums, ACCT, REG, &err) == 0);
        json_decref(sums);
    }
    CHECK(store_run_begin(st, 1000, &r1, &err) == 0);
    for (size_t t = 0; t < 2; t++) {
        struct store_sh_read rd = {.hub_enabled = 1, .full = 1, .read_until = 1000,
            .catalogue = cat, .staged_target = (int64_t)t, .models = models};
        struct store_sh_state sh;

        CHECK_MSG(store_compliance_apply(st, r1, 1000, ACCT, regions[t], &rd, NULL, NULL,
                      &err) == 0, "%s", err.msg);
        CHECK(store_sh_state_get(st, ACCT, regions[t], &sh, &err) == 0);
        CHECK_INT(sh.findings, 3);
    }
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    std = json_array_get(json_object_get(doc, "standards"), 0);
    json_array_foreach(json_object_get(std, "controls"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "control_id")), "5.3") == 0)
            ctl = c;
    }
    CHECK(ctl != NULL);
    if (ctl != NULL) {
        json_t *fr = json_object_get(ctl, "failed_resources");
        json_t *comps = json_object_get(ctl, "components");

        CHECK_INT(json_array_size(fr), 3);
        CHECK_STR(json_string_value(json_array_get(fr, 0)), r0);
        CHECK_STR(json_string_value(json_array_get(fr, 1)), R1);
        CHECK_STR(json_string_value(json_array_get(fr, 2)), r9);
        /* both targets link to the SG component and (r0, r9: in no model)
         * to the account: each key once */
        CHECK_INT(json_array_size(comps), 2);
        CHECK_STR(json_string_value(json_array_get(comps, 0)), "account:" ACCT);
        CHECK_STR(json_string_value(json_array_get(comps, 1)), R1);
        CHECK_INT(json_array_size(json_object_get(ctl, "targets")), 2);
    }
    json_decref(doc);
    json_decref(models);
    json_decref(cat);
    store_close(st);
}

/* The finding style is stored per target; an incremental read that brings
 * nothing keeps the verdicts without judging (unless the catalogue or the
 * models changed). */
static void
test_style_and_skip(const char *dir)
{
    char path[300];
    struct store *st = NULL;
    struct store_sh_state sh;
    struct err err = {0};
    json_t *ev = json_array(), *rows = NULL, *models, *cat = catalogue(), *judged = NULL;
    int64_t r1, r2, r3, r4, r5;

    snprintf(path, sizeof(path), "%s/style.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL)
        return;
    models = json_pack("{s:o}", "vpc-1", model());

    /* a full read learnt "consolidated" */
    CHECK(store_run_begin(st, 1000, &r1, &err) == 0);
    CHECK_MSG(apply_ex(st, r1, 1000, 1, cat,
                  json_pack("[o, o]", summary("f1", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE", R1),
                      summary("f2", "1.10", "IAM.5", "PASSED", "NEW", "ACTIVE", R2)),
                  models, SH_STYLE_CONSOLIDATED, ev, NULL, &err) == 0, "%s", err.msg);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.style, SH_STYLE_CONSOLIDATED);
    CHECK_INT(sh.findings, 2);
    CHECK_INT(raw_checked_at(path, "5.3"), 1000);

    /* nothing new: verdicts kept, only check time, read time and style move */
    json_array_clear(ev);
    CHECK(store_run_begin(st, 2000, &r2, &err) == 0);
    CHECK_MSG(apply_ex(st, r2, 2000, 0, cat, json_array(), models, SH_STYLE_LEGACY, ev, NULL,
                  &err) == 0, "%s", err.msg);
    CHECK_INT(json_array_size(ev), 0);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.style, SH_STYLE_LEGACY);
    CHECK_INT(sh.last_read_at, 2000);
    CHECK_INT(sh.last_full_at, 1000);
    CHECK_INT(sh.findings, 2);
    CHECK_INT(raw_checked_at(path, "5.3"), 2000);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "status"), "NON-COMPLIANT");
    CHECK_STR(row_str(rows, "5.3", "since"), "1970-01-01T00:16:40Z");
    CHECK_INT(json_array_size(json_object_get(find_row(rows, "5.3"), "components")), 1);
    json_decref(rows);

    /* nothing new but the model lost the failing component: linked again */
    {
        json_t *m2 = json_pack("{s:{s:s, s:s, s:s, s:s, s:[], s:[], s:[]}}", "vpc-1", "schema",
            "driftsync.model/1", "account_id", ACCT, "region", REG, "vpc_id", "vpc-1",
            "components", "flows", "boundaries");
        CHECK(store_run_begin(st, 3000, &r3, &err) == 0);
        CHECK(apply_ex(st, r3, 3000, 0, cat, json_array(), m2, SH_STYLE_LEGACY, ev, NULL,
                  &err) == 0);
        CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
        /* R1 is no component any more: the finding links to its account */
        CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(
                      find_row(rows, "5.3"), "components"), 0), "key")),
            "account:" ACCT);
        json_decref(rows);
        json_decref(m2);
    }
    /* nothing new but the catalogue disabled 5.3: judged again, with an event */
    {
        json_t *cat2 = catalogue();
        json_t *c0 = json_array_get(json_object_get(json_object_get(cat2, "cis-1.4"), "controls"),
            0);
        json_object_set_new(c0, "status", json_string("DISABLED"));
        json_array_clear(ev);
        CHECK(store_run_begin(st, 4000, &r4, &err) == 0);
        CHECK(apply_ex(st, r4, 4000, 0, cat2, json_array(), models, SH_STYLE_LEGACY, ev, NULL,
                  &err) == 0);
        CHECK_INT(json_array_size(ev), 1);
        CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "new")), "DISABLED");
        CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
        CHECK_STR(row_str(rows, "5.3", "status"), "DISABLED");
        json_decref(rows);
        json_decref(cat2);
    }
    /* a caller that wants the judgement gets it even when nothing is new */
    CHECK(store_run_begin(st, 5000, &r5, &err) == 0);
    CHECK(apply_ex(st, r5, 5000, 0, cat, json_array(), models, SH_STYLE_LEGACY, NULL, &judged,
              &err) == 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(
                  judged, "cis-1.4"), "controls"), 0), "status")), "NON-COMPLIANT");
    json_decref(judged);
    /* an unknown style is refused; the hub switched off forgets the style */
    CHECK(apply_ex(st, r5, 5000, 0, cat, json_array(), models, 7, NULL, NULL, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "unknown finding style 7");
    {
        struct store_sh_read off = {.hub_enabled = 0, .read_until = 5000, .style = 1};
        CHECK(store_compliance_apply(st, r5, 5000, ACCT, REG, &off, NULL, NULL, &err) == 0);
        CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
        CHECK_INT(sh.style, SH_STYLE_UNKNOWN);
    }
    json_decref(models);
    json_decref(cat);
    json_decref(ev);
    store_close(st);
}

/* Models given by digest, as daemon/sync.c gives them (the worker's texts
 * staged beside the summaries as daemon/target.c stages them, their digest,
 * and a loader of the staged link texts), are loaded only when linking
 * reads them: not for a read without a counted FAILED finding, once for
 * one with; a loader failure fails the apply and leaves the stored
 * verdicts as they were. */
struct loader {
    struct store *st; /* the store whose staged texts it reads */
    int calls;
    int fail;
};

static int
load_texts_cb(void *ctx, struct store_link_texts *ret, struct err *err)
{
    struct loader *l = ctx;

    l->calls++;
    if (l->fail)
        return err_set(err, ERR_STORE, "store: staged models: disk on fire");
    return store_staged_link_texts(l->st, STAGED, ACCT, REG, ret, err);
}

/* Stages model() as vpc-1 for target STAGED the way a worker does (after
 * stage_sums, which empties the staging area); ret_digest (65 bytes) gets
 * the digest of the staged models, what the commit is given. */
static int
stage_model(struct store *st, char *ret_digest, struct err *err)
{
    json_t *m = model();
    struct store_staged_model v = {0};
    int rc = -1;

    if (m == NULL || store_staged_model_make(&v, "vpc-1", m) < 0 ||
        store_staged_models_sum(&v, 1, ret_digest) < 0)
        err_set(err, ERR_INTERNAL, "out of memory staging vpc-1");
    else
        rc = store_stage_models(st, STAGED, ACCT, REG, &v, 1, ret_digest, err);
    store_staged_model_clear(&v);
    json_decref(m);
    return rc;
}

static int
apply_lazy(struct store *st, int64_t run, time_t now, int full, json_t *sums,
    struct loader *l, struct err *err)
{
    json_t *cat = catalogue();
    char digest[65] = "";
    struct store_sh_read rd = {.hub_enabled = 1, .full = full, .read_until = now,
        .catalogue = cat, .staged_target = STAGED, .models_digest = digest,
        .models_load_texts = load_texts_cb, .models_ctx = l};
    int rc = stage_sums(st, sums, err);

    l->st = st;
    if (rc == 0)
        rc = stage_model(st, digest, err);
    if (rc == 0)
        rc = store_compliance_apply(st, run, now, ACCT, REG, &rd, NULL, NULL, err);

    json_decref(cat);
    json_decref(sums);
    return rc;
}

static void
test_models_on_demand(const char *dir)
{
    char path[300];
    struct store *st = NULL;
    struct err err = {0};
    struct loader l = {0};
    json_t *rows = NULL, *comps;
    int64_t r1, r2, r3;

    snprintf(path, sizeof(path), "%s/lazy.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL)
        return;
    /* nothing fails: judged without the models */
    CHECK(store_run_begin(st, 1000, &r1, &err) == 0);
    CHECK_MSG(apply_lazy(st, r1, 1000, 1,
                  json_pack("[o, o]", summary("f1", "5.3", "EC2.2", "PASSED", "NEW", "ACTIVE", R1),
                      summary("f2", "1.10", "IAM.5", "FAILED", "SUPPRESSED", "ACTIVE", R2)),
                  &l, &err) == 0, "%s", err.msg);
    CHECK_INT(l.calls, 0);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "status"), "COMPLIANT");
    CHECK_INT(json_array_size(json_object_get(find_row(rows, "5.3"), "components")), 0);
    json_decref(rows);
    rows = NULL;
    /* f1 now fails: the models are loaded once and R1 links to its component */
    CHECK(store_run_begin(st, 2000, &r2, &err) == 0);
    CHECK_MSG(apply_lazy(st, r2, 2000, 0,
                  json_pack("[o]", summary("f1", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE", R1)),
                  &l, &err) == 0, "%s", err.msg);
    CHECK_INT(l.calls, 1);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "status"), "NON-COMPLIANT");
    comps = json_object_get(find_row(rows, "5.3"), "components");
    CHECK_INT(json_array_size(comps), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(comps, 0), "vpc_id")), "vpc-1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(comps, 0), "key")), R1);
    json_decref(rows);
    rows = NULL;
    /* the loader fails: so does the apply, and nothing changes */
    l.fail = 1;
    CHECK(store_run_begin(st, 3000, &r3, &err) == 0);
    CHECK(apply_lazy(st, r3, 3000, 0,
              json_pack("[o]", summary("f3", "1.10", "IAM.5", "FAILED", "NEW", "ACTIVE", R2)),
              &l, &err) == -1);
    CHECK_CONTAINS(err.msg, "disk on fire");
    CHECK_INT(l.calls, 2);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "1.10", "status"), "COMPLIANT");
    CHECK_STR(row_str(rows, "5.3", "checked_at"), "1970-01-01T00:33:20Z"); /* run 2's */
    json_decref(rows);
    store_close(st);
}

/* The incremental re-judge (only the controls the read's findings name, in
 * their new and stored versions) gives the stored rows and the events a
 * full re-judge gives: store A takes the incremental path, store B judges
 * the whole set (a caller asking for the judgement does). Cases: a status
 * change, a finding moving to another control, a finding mapped through
 * the catalogue's security control ids, the last finding of a control the
 * catalogue lacks archived (the control goes), a new finding. A's loader
 * shows the path taken: its re-judge needs no models when no touched
 * control fails, where the whole set (f1 failing) would. */
static json_t *
sum_ex(const char *id, const char *std, const char *ctl, const char *scid, const char *status,
    const char *state)
{
    json_t *cids = ctl != NULL ? json_pack("{s:[s]}", std, ctl) : json_pack("{s:[]}", std);

    return json_pack("{s:s, s:s, s:s, s:[s], s:o, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s}",
        "id", id, "account_id", ACCT, "region", REG, "standard_ids", std, "control_ids", cids,
        "security_control_id", scid, "status", status, "workflow", "NEW", "record_state", state,
        "severity", "LOW", "resources", R1, "updated_at", "2026-01-01T00:00:00Z", "title", "t");
}

static int
apply_both(struct store *a, struct store *b, time_t now, int full, json_t *sums,
    struct loader *l, json_t *ev_a, json_t *ev_b, struct err *err)
{
    json_t *cat = catalogue(), *judged = NULL;
    char digest[65] = "";
    struct store_sh_read rd = {.hub_enabled = 1, .full = full, .read_until = now,
        .catalogue = cat, .staged_target = STAGED, .models_digest = digest,
        .models_load_texts = load_texts_cb, .models_ctx = l};
    int64_t ra, rb;
    int rc = -1;

    if (stage_sums(a, sums, err) < 0 || stage_model(a, digest, err) < 0 ||
        stage_sums(b, sums, err) < 0 || stage_model(b, digest, err) < 0 ||
        store_run_begin(a, now, &ra, err) < 0 || store_run_begin(b, now, &rb, err) < 0)
        goto out;
    l->st = a;
    if (store_compliance_apply(a, ra, now, ACCT, REG, &rd, ev_a, NULL, err) < 0)
        goto out;
    l->st = b;
    if (store_compliance_apply(b, rb, now, ACCT, REG, &rd, ev_b, &judged, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(judged);
    json_decref(cat);
    json_decref(sums);
    return rc;
}

static void
same_rows(struct store *a, struct store *b, const char *when)
{
    json_t *ra = NULL, *rb = NULL;
    struct err err = {0};

    CHECK(store_compliance_rows(a, NULL, NULL, &ra, &err) == 0);
    CHECK(store_compliance_rows(b, NULL, NULL, &rb, &err) == 0);
    CHECK_MSG(ra != NULL && json_equal(ra, rb), "%s: incremental and full re-judge differ", when);
    json_decref(ra);
    json_decref(rb);
}

static void
test_incremental_rejudge(const char *dir)
{
    char pa[300], pb[300];
    struct store *a = NULL, *b = NULL;
    struct err err = {0};
    struct loader l = {0};
    json_t *ev_a = json_array(), *ev_b = json_array(), *rows = NULL;
    size_t n;

    snprintf(pa, sizeof(pa), "%s/inc-a.db", dir);
    snprintf(pb, sizeof(pb), "%s/inc-b.db", dir);
    CHECK(store_open(pa, &a, &err) == 0 && store_open(pb, &b, &err) == 0);
    if (a == NULL || b == NULL)
        goto out;
    CHECK_MSG(apply_both(a, b, 1000, 1,
                  json_pack("[o, o, o, o, o]",
                      sum_ex("f1", "cis-1.4", "5.3", "EC2.2", "FAILED", "ACTIVE"),
                      sum_ex("f2", "cis-1.4", "5.3", "EC2.2", "PASSED", "ACTIVE"),
                      sum_ex("f3", "cis-1.4", "1.10", "IAM.5", "PASSED", "ACTIVE"),
                      sum_ex("f4", "cis-1.4", "9.9", "S3.1", "WARNING", "ACTIVE"),
                      sum_ex("f5", "cis-1.4", NULL, "IAM.5", "PASSED", "ACTIVE")),
                  &l, ev_a, ev_b, &err) == 0, "%s", err.msg);
    same_rows(a, b, "full read");
    CHECK(store_compliance_rows(a, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "9.9", "status"), "WARNING");
    CHECK_STR(row_str(rows, "5.3", "status"), "NON-COMPLIANT");
    json_decref(rows);
    rows = NULL;
    l.calls = 0;
    /* f3 fails (1.10 turns); f4 archived (9.9 goes); f5, mapped through
     * IAM.5, turns WARNING; f6 new on 1.10 */
    CHECK_MSG(apply_both(a, b, 2000, 0,
                  json_pack("[o, o, o, o]",
                      sum_ex("f3", "cis-1.4", "1.10", "IAM.5", "FAILED", "ACTIVE"),
                      sum_ex("f4", "cis-1.4", "9.9", "S3.1", "WARNING", "ARCHIVED"),
                      sum_ex("f5", "cis-1.4", NULL, "IAM.5", "WARNING", "ACTIVE"),
                      sum_ex("f6", "cis-1.4", "1.10", "IAM.5", "PASSED", "ACTIVE")),
                  &l, ev_a, ev_b, &err) == 0, "%s", err.msg);
    same_rows(a, b, "status changes");
    CHECK(json_equal(ev_a, ev_b));
    CHECK_INT(l.calls, 2); /* once per store: 1.10 now fails */
    /* f1 (5.3, failing) moves to 1.10 and passes: 5.3 is judged from f2
     * alone, 1.10 still fails through f3 */
    l.calls = 0;
    CHECK_MSG(apply_both(a, b, 3000, 0,
                  json_pack("[o]", sum_ex("f1", "cis-1.4", "1.10", "IAM.5", "PASSED", "ACTIVE")),
                  &l, ev_a, ev_b, &err) == 0, "%s", err.msg);
    same_rows(a, b, "a finding moving control");
    CHECK(json_equal(ev_a, ev_b));
    CHECK(store_compliance_rows(a, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "status"), "COMPLIANT");
    CHECK_STR(row_str(rows, "1.10", "status"), "NON-COMPLIANT");
    CHECK(find_row(rows, "9.9") == NULL);
    json_decref(rows);
    rows = NULL;
    /* f3 passes again: nothing touched fails, so A needs no models where
     * B's whole set (still nothing failing) needs none either */
    l.calls = 0;
    CHECK(apply_both(a, b, 4000, 0,
              json_pack("[o]", sum_ex("f3", "cis-1.4", "1.10", "IAM.5", "PASSED", "ACTIVE")),
              &l, ev_a, ev_b, &err) == 0);
    same_rows(a, b, "back to passing");
    CHECK(json_equal(ev_a, ev_b));
    CHECK_INT(l.calls, 0);
    /* 5.3 fails again through f2; then a change on 1.10 alone: A judges 1.10
     * without the models, B (the whole set, f2 failing) loads them */
    CHECK(apply_both(a, b, 5000, 0,
              json_pack("[o]", sum_ex("f2", "cis-1.4", "5.3", "EC2.2", "FAILED", "ACTIVE")),
              &l, ev_a, ev_b, &err) == 0);
    l.calls = 0;
    CHECK(apply_both(a, b, 6000, 0,
              json_pack("[o]", sum_ex("f6", "cis-1.4", "1.10", "IAM.5", "WARNING", "ACTIVE")),
              &l, ev_a, ev_b, &err) == 0);
    same_rows(a, b, "one control changed");
    CHECK(json_equal(ev_a, ev_b));
    CHECK_INT(l.calls, 1); /* B's only */
    n = json_array_size(ev_a);
    CHECK(n >= 6);
out:
    store_close(a);
    store_close(b);
    json_decref(ev_a);
    json_decref(ev_b);
}

/* A database at schema version 2 (before the finding style) opens, gets
 * migration 3, and keeps its target with style unknown. */
static void
test_migration(const char *dir, const char *datadir)
{
    char path[300], sqlpath[600];
    struct store *st = NULL;
    struct store_sh_state sh;
    struct err err = {0};
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    FILE *f;
    char *sql = NULL;
    long n;

    /* argv[1] is tests/data/compliance_store; the fixture is in the sibling
     * tests/data/compliance */
    {
        const char *slash = strrchr(datadir, '/');
        snprintf(sqlpath, sizeof(sqlpath), "%.*s/compliance/v2-schema.sql",
            slash != NULL ? (int)(slash - datadir) : 1, slash != NULL ? datadir : ".");
    }
    f = fopen(sqlpath, "r");
    CHECK_MSG(f != NULL, "cannot open %s", sqlpath);
    if (f == NULL)
        return;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    sql = calloc(1, (size_t)n + 1);
    CHECK(sql != NULL && fread(sql, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    snprintf(path, sizeof(path), "%s/v2.db", dir);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    free(sql);

    CHECK_MSG(store_open(path, &st, &err) == 0, "%s", err.msg);
    if (st == NULL)
        return;
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK(sh.known && sh.hub_enabled);
    CHECK_INT(sh.style, SH_STYLE_UNKNOWN);
    CHECK_INT(sh.last_read_at, 1000);
    CHECK_INT(sh.findings, 1);
    store_close(st);
    /* the columns are there, and the style column refuses junk */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT style, judge_inputs FROM sh_targets", -1, &s, NULL) ==
          SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK(sqlite3_column_type(s, 0) == SQLITE_NULL);
    sqlite3_finalize(s);
    CHECK(sqlite3_exec(db, "UPDATE sh_targets SET style = 'both'", NULL, NULL, NULL) ==
          SQLITE_CONSTRAINT);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) >= 3);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/test_compliance_store.XXXXXX", path[256];
    struct store *st = NULL;
    struct store_sh_state sh;
    struct err err = {0};
    json_t *ev = json_array(), *rows = NULL, *doc = NULL, *tg = NULL, *models, *m;
    int64_t r1, r2, r3, r4;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/state.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }

    /* never read */
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.known, 0);
    CHECK_INT(sh.last_read_at, 0);

    /* 1. full read: 5.3 fails on R1 (the SG component), 1.10 passes */
    CHECK(store_run_begin(st, 1000, &r1, &err) == 0);
    m = model();
    models = json_pack("{s:O}", "vpc-1", m);
    CHECK(apply(st, r1, 1000, 1,
              json_pack("[o, o, o]",
                  summary("f1", "5.3", "EC2.2", "FAILED", "NEW", "ACTIVE", R1),
                  summary("f2", "1.10", "IAM.5", "PASSED", "RESOLVED", "ACTIVE", R2),
                  summary("f3", "1.10", "IAM.5", "FAILED", "NEW", "ARCHIVED", R2)),
              models, ev, &err) == 0);
    CHECK_INT(json_array_size(ev), 2);
    CHECK(json_is_null(json_object_get(json_array_get(ev, 0), "old")));
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_INT(json_array_size(rows), 2);
    CHECK_STR(row_str(rows, "5.3", "status"), "NON-COMPLIANT");
    CHECK_STR(row_str(rows, "1.10", "status"), "COMPLIANT");
    CHECK_STR(json_string_value(json_array_get(json_object_get(find_row(rows, "5.3"),
                  "failed_resources"), 0)), R1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(find_row(rows,
                  "5.3"), "components"), 0), "key")), R1);
    CHECK_STR(row_str(rows, "1.10", "since"), "1970-01-01T00:16:40Z");
    /* natural order: 1.10 before 5.3 */
    CHECK_STR(json_string_value(json_object_get(json_array_get(rows, 0), "control_id")), "1.10");
    json_decref(rows);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK(sh.known && sh.hub_enabled);
    CHECK_INT(sh.last_read_at, 1000);
    CHECK_INT(sh.last_full_at, 1000);
    CHECK_INT(sh.findings, 2); /* the ARCHIVED one is not kept */

    /* model annotation */
    CHECK(compliance_annotate_model(st, m, &err) == 0);
    json_t *req = json_array_get(json_object_get(json_array_get(json_object_get(m, "components"),
                                                     0), "requirements"), 0);
    CHECK_STR(json_string_value(json_object_get(req, "status")), "NON-COMPLIANT");
    CHECK_STR(json_string_value(json_array_get(json_object_get(req, "failed_findings"), 0)), "f1");
    json_decref(m);

    /* 2. incremental: f1 now PASSED -> one event, since moves for 5.3 only */
    json_array_clear(ev);
    CHECK(store_run_begin(st, 2000, &r2, &err) == 0);
    CHECK(apply(st, r2, 2000, 0,
              json_pack("[o]", summary("f1", "5.3", "EC2.2", "PASSED", "RESOLVED", "ACTIVE", R1)),
              models, ev, &err) == 0);
    CHECK_INT(json_array_size(ev), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "control")), "5.3");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "old")), "NON-COMPLIANT");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 0), "new")), "COMPLIANT");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ev, 0), "run")), r2);
    CHECK(store_compliance_rows(st, ACCT, REG, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "since"), "1970-01-01T00:33:20Z");
    CHECK_STR(row_str(rows, "1.10", "since"), "1970-01-01T00:16:40Z");
    CHECK_INT(json_integer_value(json_object_get(find_row(rows, "5.3"), "since_run")), r2);
    json_decref(rows);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.last_read_at, 2000);
    CHECK_INT(sh.last_full_at, 1000);

    /* 3. incremental: f2 ARCHIVED -> removed, 1.10 NO_DATA; a suppressed FAILED is no failure */
    json_array_clear(ev);
    CHECK(store_run_begin(st, 3000, &r3, &err) == 0);
    CHECK(apply(st, r3, 3000, 0,
              json_pack("[o, o]", summary("f2", "1.10", "IAM.5", "PASSED", "NEW", "ARCHIVED", R2),
                  summary("f4", "5.3", "EC2.2", "FAILED", "SUPPRESSED", "ACTIVE", R1)),
              models, ev, &err) == 0);
    CHECK_INT(json_array_size(ev), 1);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "1.10", "status"), "NO_DATA");
    CHECK_STR(row_str(rows, "5.3", "status"), "COMPLIANT");
    CHECK_INT(json_integer_value(json_object_get(find_row(rows, "5.3"), "suppressed")), 1);
    json_decref(rows);

    /* 4. a failed read: nothing but the error changes */
    CHECK(store_run_begin(st, 4000, &r4, &err) == 0);
    CHECK(store_compliance_failed(st, r4, 4000, ACCT, REG, "AccessDenied: no securityhub", &err) == 0);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "5.3", "status"), "COMPLIANT");
    CHECK_STR(row_str(rows, "1.10", "status"), "NO_DATA");
    json_decref(rows);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK_INT(sh.last_read_at, 3000);
    CHECK(store_compliance_targets(st, &tg, &err) == 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(tg, 0), "error")),
        "AccessDenied: no securityhub");
    json_decref(tg);

    /* the query document: shape, filters, errors */
    struct compliance_query q = {0};
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    CHECK_INT(json_array_size(json_object_get(doc, "standards")), 1);
    json_t *std = json_array_get(json_object_get(doc, "standards"), 0);
    CHECK_STR(json_string_value(json_object_get(std, "id")), "cis-1.4");
    CHECK_INT(json_array_size(json_object_get(std, "controls")), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(doc, "targets"), 0),
                  "error")), "AccessDenied: no securityhub");
    json_decref(doc);
    q.status = "no_data";
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    std = json_array_get(json_object_get(doc, "standards"), 0);
    CHECK_INT(json_array_size(json_object_get(std, "controls")), 1);
    json_decref(doc);
    q.status = "GREEN";
    CHECK(compliance_query_run(st, &q, &doc, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "GREEN");
    q.status = NULL;
    q.standard = "cis-9.9";
    CHECK(compliance_query_run(st, &q, &doc, &err) == -1);
    CHECK_CONTAINS(err.msg, "cis-9.9");
    q.standard = NULL;
    q.account_id = "12345";
    CHECK(compliance_query_run(st, &q, &doc, &err) == -1);
    CHECK_CONTAINS(err.msg, "12345");
    q.account_id = "222222222222";
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    CHECK_INT(json_array_size(json_object_get(doc, "standards")), 0);
    json_decref(doc);

    /* totals and the event history */
    long nf = -1;
    CHECK(store_compliance_totals(st, &doc, &nf, &err) == 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(doc, "cis-1.4"),
                  "totals"), "COMPLIANT")), 1);
    CHECK_INT(nf, 2);
    json_decref(doc);
    CHECK(store_compliance_events(st, 0, &doc, &err) == 0);
    CHECK_INT(json_array_size(doc), 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(doc, 3), "new")), "NO_DATA");
    json_decref(doc);

    /* 5. the run's transaction rolled back: nothing of it stays */
    {
        json_t *one = json_pack("[o]", summary("f9", "1.10", "IAM.5", "FAILED", "NEW", "ACTIVE",
                                           R2));

        CHECK(stage_sums(st, one, &err) == 0);
        json_decref(one);
    }
    CHECK(store_begin(st, &err) == 0);
    CHECK(apply_staged(st, r4, 5000, 1, models, NULL, &err) == 0);
    store_rollback(st);
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_STR(row_str(rows, "1.10", "status"), "NO_DATA");
    json_decref(rows);

    /* 6. hub switched off: controls go, each with an event to null */
    json_array_clear(ev);
    struct store_sh_read off = {.hub_enabled = 0, .read_until = 6000};
    CHECK(store_compliance_apply(st, r4, 6000, ACCT, REG, &off, ev, NULL, &err) == 0);
    CHECK_INT(json_array_size(ev), 2);
    CHECK(json_is_null(json_object_get(json_array_get(ev, 0), "new")));
    CHECK(store_compliance_rows(st, NULL, NULL, &rows, &err) == 0);
    CHECK_INT(json_array_size(rows), 0);
    json_decref(rows);
    CHECK(store_sh_state_get(st, ACCT, REG, &sh, &err) == 0);
    CHECK(sh.known && !sh.hub_enabled);

    /* bad arguments and malformed input */
    CHECK(store_sh_state_get(st, "12", REG, &sh, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "12/us-east-1");
    struct store_sh_read bad = {.hub_enabled = 1, .catalogue = NULL};
    CHECK(store_compliance_apply(st, r4, 7000, ACCT, REG, &bad, ev, NULL, &err) == -1);
    CHECK_INT(err.kind, ERR_INTERNAL);
    /* a summary without an id is refused as the worker stages it (a staged
     * text that is not a summary fails the commit: test_bad_staged_text) */
    CHECK(apply(st, r4, 7000, 1, json_pack("[{s:s}]", "nope", "x"), models, ev, &err) == -1);
    CHECK_CONTAINS(err.msg, "finding summary without an id");
    m = json_object();
    CHECK(compliance_annotate_model(st, m, &err) == -1);
    CHECK_CONTAINS(err.msg, "account_id");
    json_decref(m);

    json_decref(models);
    json_decref(ev);
    store_close(st);
    test_style_and_skip(dir);
    test_full_read_twice(dir);
    test_bad_staged_text(dir);
    test_query_merges(dir);
    test_models_on_demand(dir);
    test_incremental_rejudge(dir);
    test_migration(dir, argc > 1 ? argv[1] : "data/compliance_store");
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
