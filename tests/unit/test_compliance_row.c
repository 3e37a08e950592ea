/*
 * test_compliance_row.c: the row form of a finding summary (mapping/
 * compliance.h, compliance_row): what compliance_row_text leaves out and
 * keeps, compliance_sums_add_row reading it to exactly what the whole text
 * gives (ids, ACTIVE flags, verdicts), a whole text read as a row (the
 * earlier stored form), compliance_row_fill; then the store: a full read
 * staged in the row form as the worker stages it (store_stage_finding_rows)
 * against the same read staged whole, in two databases: the same verdicts
 * and the same summaries back (store_compliance_findings), smaller rows;
 * and an upgrade: whole rows stored by an earlier version, then an
 * incremental read in the row form, judged as if every text were whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "daemon/jsonw.h"
#include "mapping/compliance.h"
#include "store/compliance.h"
#include "store/store.h"
#include "stagefind.h"
#include "testutil.h"

#define ACCT  "111111111111"
#define OTHER "222222222222"
#define REG   "us-east-1"
#define R1    "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1"
#define R2    "arn:aws:iam::111111111111:user/bob"
#define NSUMS 6

static json_t *
catalogue(void)
{
    return json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:s, s:[s]}]}}",
        "cis-1.4", "standards_arn",
        "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0",
        "subscription_arn", "arn:sub", "controls", "control_id", "5.3", "title",
        "Default SG closed", "severity", "HIGH", "status", "ENABLED", "security_control_ids",
        "EC2.2", "control_id", "1.10", "title", "MFA for users", "severity", "MEDIUM", "status",
        "ENABLED", "security_control_ids", "IAM.5");
}

static json_t *
summary(const char *id, const char *acct, const char *region, const char *ctl, const char *scid,
    const char *status, const char *state, const char *res)
{
    return json_pack("{s:s, s:s, s:s, s:[s], s:{s:[s]}, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s}",
        "id", id, "account_id", acct, "region", region, "standard_ids", "cis-1.4", "control_ids",
        "cis-1.4", ctl, "security_control_id", scid, "status", status, "workflow", "NEW",
        "record_state", state, "severity", "HIGH", "resources", res, "updated_at",
        "2026-01-01T00:00:00Z", "title", "t");
}

/* A read: FAILED and PASSED findings under both controls, one of a member
 * account and one of another region (they keep their names), one ARCHIVED. */
static json_t *
read_sums(const char *second_status)
{
    return json_pack("[o, o, o, o, o, o]",
        summary("f1", ACCT, REG, "5.3", "EC2.2", "FAILED", "ACTIVE", R1),
        summary("f2", ACCT, REG, "1.10", "IAM.5", second_status, "ACTIVE", R2),
        summary("f3", OTHER, REG, "1.10", "IAM.5", "PASSED", "ACTIVE", R2),
        summary("f4", ACCT, "eu-west-1", "5.3", "EC2.2", "PASSED", "ACTIVE", R1),
        summary("f5", ACCT, REG, "5.3", "EC2.2", "FAILED", "ARCHIVED", R1),
        summary("f6", ACCT, REG, "1.10", "IAM.5", "PASSED", "ACTIVE", R2));
}

static int
has(const char *text, const char *needle)
{
    return text != NULL && strstr(text, needle) != NULL;
}

static void
test_row_text(void)
{
    struct err err = {0};
    json_t *s = summary("f1", ACCT, REG, "5.3", "EC2.2", "FAILED", "ACTIVE", R1);
    static char sentinel[] = "x";
    char *id = NULL, *text = NULL;

    CHECK(compliance_row_text(s, ACCT, REG, &id, &text, &err) == 0);
    CHECK_STR(id, "f1");
    CHECK(!has(text, "\"id\"") && !has(text, "\"account_id\"") && !has(text, "\"region\"") &&
          !has(text, "\"record_state\""));
    CHECK(has(text, "\"security_control_id\":\"EC2.2\"") && has(text, R1));
    CHECK(json_object_get(s, "id") == NULL); /* taken out of the caller's tree */
    free(id);
    free(text);
    json_decref(s);

    /* what is not the row's own stays */
    s = summary("f3", OTHER, "eu-west-1", "1.10", "IAM.5", "PASSED", "ARCHIVED", R2);
    CHECK(compliance_row_text(s, ACCT, REG, &id, &text, &err) == 0);
    CHECK(!has(text, "\"id\""));
    CHECK(has(text, "\"account_id\":\"" OTHER "\"") && has(text, "\"region\":\"eu-west-1\"") &&
          has(text, "\"record_state\":\"ARCHIVED\""));
    free(id);
    free(text);
    json_decref(s);

    /* no id: an error, nothing returned */
    s = json_pack("{s:s}", "account_id", ACCT);
    id = text = sentinel; /* overwritten: NULL after the error */
    CHECK(compliance_row_text(s, ACCT, REG, &id, &text, &err) < 0);
    CHECK(err.kind == ERR_INTERNAL && strstr(err.msg, "without an id") != NULL);
    CHECK(id == NULL && text == NULL);
    json_decref(s);
}

/* Reads sums as rows (row form, the row's defaults) into *rows and whole
 * into *whole; ids and ACTIVE flags compared on the way. */
static void
read_both(json_t *sums, struct compliance_sums **rows, struct compliance_sums **whole)
{
    struct err err = {0};
    size_t i;
    json_t *s;

    CHECK(compliance_sums_new(rows, &err) == 0 && compliance_sums_new(whole, &err) == 0);
    json_array_foreach(sums, i, s) {
        char *full = jsonw_dumps(s, JSON_COMPACT), *id = NULL, *text = NULL;
        json_t *copy = json_deep_copy(s);
        const char *id_row = NULL, *id_whole = NULL;
        int act_row = -1, act_whole = -1;
        struct compliance_row row = {.account_id = ACCT, .region = REG};

        CHECK(full != NULL && copy != NULL);
        CHECK(compliance_row_text(copy, ACCT, REG, &id, &text, &err) == 0);
        row.id = id;
        CHECK(compliance_sums_add_row(*rows, text, strlen(text), &row, &id_row, &act_row, &err) ==
              0);
        CHECK(compliance_sums_add_row(*whole, full, strlen(full), NULL, &id_whole, &act_whole,
                  &err) == 0);
        CHECK_STR(id_row, id_whole);
        CHECK_INT(act_row, act_whole);
        free(full);
        free(id);
        free(text);
        json_decref(copy);
    }
}

static void
test_add_row(void)
{
    struct err err = {0};
    struct compliance_sums *rows = NULL, *whole = NULL, *set = NULL;
    json_t *sums = read_sums("FAILED"), *cat = catalogue(), *j1 = NULL, *j2 = NULL;
    const char *id = NULL;
    int active = -1;
    struct compliance_row row = {.id = "row-id", .account_id = OTHER, .region = "eu-west-1"};
    const char *whole_text = "{\"id\":\"text-id\",\"account_id\":\"" ACCT "\",\"region\":\"" REG
                             "\",\"record_state\":\"ARCHIVED\",\"workflow\":\"NEW\","
                             "\"status\":\"FAILED\",\"severity\":null,"
                             "\"security_control_id\":\"EC2.2\",\"standard_ids\":[],"
                             "\"control_ids\":{},\"resources\":[]}";

    read_both(sums, &rows, &whole);
    CHECK_INT((int)compliance_sums_count(rows), NSUMS);
    CHECK(compliance_judge_sums(cat, rows, &j1, &err) == 0);
    CHECK(compliance_judge_sums(cat, whole, &j2, &err) == 0);
    CHECK(j1 != NULL && json_equal(j1, j2));
    json_decref(j1);
    json_decref(j2);
    compliance_sums_free(rows);
    compliance_sums_free(whole);

    /* a whole text read as a row: the text's fields win over the row's */
    CHECK(compliance_sums_new(&set, &err) == 0);
    CHECK(compliance_sums_add_row(set, whole_text, strlen(whole_text), &row, &id, &active, &err) ==
          0);
    CHECK_STR(id, "text-id");
    CHECK_INT(active, 0);

    /* a row text without an id and no id for the row: the shape error */
    CHECK(compliance_sums_add_row(set, "{\"workflow\":\"NEW\"}", 18,
              &(struct compliance_row){.account_id = ACCT}, NULL, NULL, &err) < 0);
    CHECK(strstr(err.msg, "is not a finding summary") != NULL);
    CHECK_INT((int)compliance_sums_count(set), 1);
    compliance_sums_free(set);
    json_decref(sums);
    json_decref(cat);
}

static void
test_fill(void)
{
    struct err err = {0};
    struct compliance_row row = {.id = "f9", .account_id = ACCT, .region = REG};
    json_t *s = json_pack("{s:s, s:s}", "status", "FAILED", "region", "eu-west-1");

    CHECK(compliance_row_fill(s, &row, &err) == 0);
    CHECK_STR(json_string_value(json_object_get(s, "id")), "f9");
    CHECK_STR(json_string_value(json_object_get(s, "account_id")), ACCT);
    CHECK_STR(json_string_value(json_object_get(s, "region")), "eu-west-1"); /* its own */
    CHECK_STR(json_string_value(json_object_get(s, "record_state")), "ACTIVE");
    json_decref(s);
}

/* ---- the store ---- */

/* Stages sums for target 0 in a fresh staging area: in the row form as the
 * worker does (rows 1), or whole with their ids inside (rows 0, as the
 * earlier version did). */
static int
stage(struct store *st, json_t *sums, int rows, struct err *err)
{
    size_t n = json_array_size(sums);
    struct store_staged_finding *v;
    char **texts;
    int rc = -1;

    if (store_stage_reset(st, err) < 0)
        return -1;
    if (rows)
        return stagefind_rows(st, 0, sums, ACCT, REG, err);
    v = calloc(n + 1, sizeof(*v));
    texts = calloc(n + 1, sizeof(*texts));
    if (v == NULL || texts == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        v[i].text = texts[i] = jsonw_dumps(json_array_get(sums, i), JSON_COMPACT);
    rc = store_stage_finding_rows(st, 0, v, n, err);
out:
    for (size_t i = 0; i < n && texts != NULL; i++)
        free(texts[i]);
    free(texts);
    free(v);
    return rc;
}

/* One read of sums (taken over) staged one way, committed as a run. */
static int
commit(struct store *st, json_t *sums, int rows, int full, time_t now, struct err *err)
{
    json_t *cat = catalogue();
    struct store_sh_read rd = {.hub_enabled = 1, .full = full, .read_until = now,
        .catalogue = cat, .staged_target = 0};
    int64_t run = 0;
    int rc = stage(st, sums, rows, err);

    if (rc == 0)
        rc = store_run_begin(st, now, &run, err);
    if (rc == 0)
        rc = store_compliance_apply(st, run, now, ACCT, REG, &rd, NULL, NULL, err);
    json_decref(cat);
    json_decref(sums);
    return rc;
}

/* What is judged of a store: its rows with the run-dependent fields out. */
static json_t *
verdicts(struct store *st)
{
    struct err err = {0};
    json_t *rows = NULL, *r;
    size_t i;

    CHECK(store_compliance_rows(st, ACCT, REG, &rows, &err) == 0);
    json_array_foreach(rows, i, r) {
        json_object_del(r, "since");
        json_object_del(r, "since_run");
        json_object_del(r, "checked_at");
        json_object_del(r, "checked_run");
    }
    return rows;
}

/* The status of control ctl among rows. */
static const char *
status_of(json_t *rows, const char *ctl)
{
    json_t *r;
    size_t i;

    json_array_foreach(rows, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "control_id")), ctl) == 0)
            return json_string_value(json_object_get(r, "status"));
    }
    return NULL;
}

static long
stored_bytes(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long v = -1;

    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT sum(length(summary)) FROM sh_findings", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void
remove_db(const char *path)
{
    char p[300];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static void
test_store(const char *dir)
{
    struct err err = {0};
    struct store *a = NULL, *b = NULL;
    char pa[256], pb[256];
    json_t *va, *vb, *fa = NULL, *fb = NULL, *want, *s;
    long ba, bb;
    size_t i;

    snprintf(pa, sizeof(pa), "%s/rows.db", dir);
    snprintf(pb, sizeof(pb), "%s/whole.db", dir);
    CHECK(store_open(pa, &a, &err) == 0 && store_open(pb, &b, &err) == 0);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        store_close(a);
        store_close(b);
        return;
    }
    /* a full read, staged both ways */
    CHECK(commit(a, read_sums("FAILED"), 1, 1, 1000, &err) == 0);
    CHECK(commit(b, read_sums("FAILED"), 0, 1, 1000, &err) == 0);
    va = verdicts(a);
    vb = verdicts(b);
    CHECK(json_array_size(va) == 2 && json_equal(va, vb));
    CHECK_STR(status_of(vb, "1.10"), "NON-COMPLIANT");
    json_decref(va);
    json_decref(vb);

    /* the summaries back, as the summariser made them (ARCHIVED f5 not kept) */
    CHECK(store_compliance_findings(a, ACCT, REG, &fa, &err) == 0);
    CHECK(store_compliance_findings(b, ACCT, REG, &fb, &err) == 0);
    CHECK(json_array_size(fa) == NSUMS - 1 && json_equal(fa, fb));
    want = read_sums("FAILED");
    json_array_remove(want, 4);
    json_array_foreach(want, i, s)
        CHECK(json_equal(s, json_array_get(fa, i)));
    json_decref(want);
    json_decref(fa);
    json_decref(fb);

    ba = stored_bytes(pa);
    bb = stored_bytes(pb);
    /* a fifth smaller here (short ids); a third on real findings */
    CHECK_MSG(ba > 0 && ba * 5 < bb * 4, "row form %ld bytes, whole %ld", ba, bb);

    /* upgrade: b holds whole rows; an incremental read in the row form
     * (f2 now PASSED) gives what the same read staged whole gives */
    CHECK(commit(b, read_sums("PASSED"), 1, 0, 2000, &err) == 0);
    CHECK(commit(a, read_sums("PASSED"), 0, 0, 2000, &err) == 0);
    va = verdicts(a);
    vb = verdicts(b);
    CHECK(json_array_size(va) == 2 && json_equal(va, vb));
    CHECK_STR(status_of(vb, "1.10"), "COMPLIANT"); /* the read changed it */
    json_decref(va);
    json_decref(vb);
    CHECK(store_compliance_findings(a, ACCT, REG, &fa, &err) == 0);
    CHECK(store_compliance_findings(b, ACCT, REG, &fb, &err) == 0);
    CHECK(fa != NULL && json_equal(fa, fb));
    CHECK_STR(json_string_value(json_object_get(json_array_get(fb, 1), "status")), "PASSED");
    json_decref(fa);
    json_decref(fb);

    store_close(a);
    store_close(b);
    remove_db(pa);
    remove_db(pb);
}

int
main(void)
{
    char dir[] = "/tmp/test_compliance_row.XXXXXX";

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_row_text();
    test_add_row();
    test_fill();
    test_store(dir);
    rmdir(dir);
    TEST_END();
}
