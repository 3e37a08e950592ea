/*
 * test_store: store/store.c on temporary database files. Covers schema
 * creation and refusal of foreign or newer files, the run lifecycle and
 * aborted-run marking (a child process that dies mid-run), the VPC status
 * life cycle yellow -> green -> red -> accepted -> green, failed targets,
 * vanished VPCs, drift first/last seen and gone/accepted resolution, model
 * sync of single keys and designed components, the status and drift query
 * shapes, rollback, a locked database, SQL metacharacters stored verbatim,
 * and the tamper-evident log: verified, then edited through a raw sqlite3
 * connection (what an attacker would do) and caught, naming the event.
 *
 * The raw connection is why this test includes <sqlite3.h>: it plays the
 * attacker and inspects PRAGMAs; product code never does.
 */
#include <sys/wait.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config/config.h"
#include "mapping/compliance.h"
#include "mapping/diff.h"
#include "store/store.h"
#include "testutil.h"

#define ACCT "111111111111"
#define REG  "us-east-1"
#define WEB  "arn:aws:ec2:us-east-1:111111111111:instance/i-web"
#define RDS  "arn:aws:rds:us-east-1:111111111111:db:orders"
#define T0   1700000000

static json_t *base_model;
static char tmpdir[256];
static int dbcount;

static void
db_path(char *out, size_t n)
{
    snprintf(out, n, "%s/state-%d.db", tmpdir, ++dbcount);
}

static struct store *
open_new(char *path, size_t n)
{
    struct store *st = NULL;
    struct err err = {0};

    db_path(path, n);
    if (store_open(path, &st, &err) < 0) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return NULL;
    }
    return st;
}

static struct store_vpc_ref
ref(const char *a, const char *r, const char *v)
{
    struct store_vpc_ref x = {strdup(a), strdup(r), strdup(v)};

    return x;
}

static json_t *
model_for(const char *a, const char *r, const char *v)
{
    json_t *m = json_deep_copy(base_model);

    json_object_set_new(m, "account_id", json_string(a));
    json_object_set_new(m, "region", json_string(r));
    json_object_set_new(m, "vpc_id", json_string(v));
    return m;
}

static json_t *
comp(json_t *model, size_t i)
{
    return json_array_get(json_object_get(model, "components"), i);
}

/* {"vpc": model} for apply_target (model stolen) */
static json_t *
one(const char *vpc, json_t *model)
{
    json_t *d = json_object();

    json_object_set_new(d, vpc, model);
    return d;
}

static int
apply(struct store *st, int64_t run, time_t now, const json_t *disc, json_t **changes)
{
    struct err err = {0};
    int rc = store_apply_target(st, run, now, ACCT, REG, disc, NULL, 0, changes, &err);

    if (rc < 0)
        fprintf(stderr, "apply: %s\n", err.msg);
    return rc;
}

static json_t *
status_row(struct store *st, const char *vpc)
{
    struct err err = {0};
    json_t *doc = NULL, *row = NULL;
    size_t i;

    if (store_status(st, &doc, &err) < 0) {
        fprintf(stderr, "status: %s\n", err.msg);
        return NULL;
    }
    for (i = 0; i < json_array_size(json_object_get(doc, "vpcs")); i++) {
        json_t *r = json_array_get(json_object_get(doc, "vpcs"), i);

        if (strcmp(json_string_value(json_object_get(r, "vpc_id")), vpc) == 0)
            row = json_incref(r);
    }
    json_decref(doc);
    return row;
}

static const char *
sfield(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long
ifield(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static json_t *
drift(struct store *st, int all)
{
    struct store_drift_filter f = {NULL, NULL, 0, all};
    struct err err = {0};
    json_t *out = NULL;

    if (store_drift_query(st, &f, &out, &err) < 0) {
        fprintf(stderr, "drift: %s\n", err.msg);
        return json_array();
    }
    return out;
}

static sqlite3 *
raw(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open(path, &db) != SQLITE_OK)
        fprintf(stderr, "raw open %s failed\n", path);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static long long
raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static char *
raw_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    char *v = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_text(s, 0) != NULL)
        v = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

/* ---- schema ---- */

static int
copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[4096];
    size_t n;
    int rc = -1;

    if (in != NULL && out != NULL) {
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
            if (fwrite(buf, 1, n, out) != n)
                break;
        }
        rc = ferror(in) || ferror(out) ? -1 : 0;
    }
    if (in != NULL)
        fclose(in);
    if (out != NULL && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* Removes the flat temporary directory and its files. */
static void
remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    char p[600];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

static void
test_open_and_refuse(const char *datadir)
{
    char path[512], junk[512], cmd[1200];
    struct store *st = NULL;
    struct err err = {0};
    sqlite3 *db;
    char *mode;

    st = open_new(path, sizeof(path));
    CHECK(st != NULL);
    store_close(st);
    /* reopening an existing store works and keeps the schema */
    CHECK(store_open(path, &st, &err) == 0);
    store_close(st);
    db = raw(path);
    CHECK_INT(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_INT(raw_int(db, "PRAGMA application_id"), 0x44724674);
    mode = raw_text(db, "PRAGMA journal_mode");
    CHECK_STR(mode, "wal");
    free(mode);
    /* a newer schema is refused */
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    st = NULL;
    CHECK(store_open(path, &st, &err) == -1);
    CHECK(st == NULL);
    CHECK_INT(err.kind, ERR_STORE);
    CHECK_CONTAINS(err.msg, "store: opening ");
    {
        char want[96];
        snprintf(want, sizeof(want), "schema version 99 is newer than this driftsync knows (%d)",
            STORE_SCHEMA_VERSION);
        CHECK_CONTAINS(err.msg, want);
    }

    /* another application's SQLite database */
    db_path(path, sizeof(path));
    db = raw(path);
    CHECK(sqlite3_exec(db, "CREATE TABLE notes (x TEXT)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(store_open(path, &st, &err) == -1);
    CHECK_CONTAINS(err.msg, "not a driftsync database");
    CHECK_CONTAINS(err.msg, path);

    /* not SQLite at all (copied: never open test data read-write) */
    snprintf(junk, sizeof(junk), "%s/junk.db", tmpdir);
    snprintf(cmd, sizeof(cmd), "%s/not-a-database.db", datadir);
    CHECK(copy_file(cmd, junk) == 0);
    CHECK(store_open(junk, &st, &err) == -1);
    CHECK_INT(err.kind, ERR_STORE);
    CHECK_CONTAINS(err.msg, "store: opening ");
    CHECK_CONTAINS(err.msg, "file is not a database");

    /* a directory that does not exist */
    CHECK(store_open("/nonexistent-dir/x/state.db", &st, &err) == -1);
    CHECK_CONTAINS(err.msg, "store: opening /nonexistent-dir/x/state.db");
}

/* ---- runs ---- */

static void
test_runs(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_run_stats stats = {3, 1, 42, 17};
    struct err err = {0};
    json_t *run = NULL, *errors, *summary;
    int64_t id = 0, id2 = 0, child_run = 0;
    size_t n = 99;
    pid_t pid;
    int wst = 0;

    if (st == NULL)
        return;
    CHECK(store_run_get(st, 0, &run, &err) == 0);
    CHECK(run == NULL);
    CHECK(store_run_begin(st, T0, &id, &err) == 0);
    CHECK(id > 0);
    CHECK(store_run_get(st, id, &run, &err) == 0);
    CHECK_STR(sfield(run, "status"), "running");
    CHECK_STR(sfield(run, "started_at"), "2023-11-14T22:13:20Z");
    CHECK(json_is_null(json_object_get(run, "finished_at")));
    json_decref(run);

    errors = json_pack("[{s:s}]", "target", "222222222222/eu-west-1");
    summary = json_pack("{s:i}", "vpcs", 2);
    CHECK(store_run_finish(st, id, T0 + 60, "partial", &stats, errors, summary, &err) == 0);
    CHECK(store_run_get(st, 0, &run, &err) == 0);
    CHECK_STR(sfield(run, "status"), "partial");
    CHECK_STR(sfield(run, "finished_at"), "2023-11-14T22:14:20Z");
    CHECK_INT(ifield(run, "targets_total"), 3);
    CHECK_INT(ifield(run, "targets_failed"), 1);
    CHECK_INT(ifield(run, "api_calls"), 42);
    CHECK_INT(ifield(run, "resources_seen"), 17);
    CHECK(json_equal(json_object_get(run, "errors"), errors));
    CHECK(json_equal(json_object_get(run, "summary"), summary));
    json_decref(run);
    json_decref(errors);
    json_decref(summary);
    /* finishing twice, a bad status */
    CHECK(store_run_finish(st, id, T0 + 61, "ok", NULL, NULL, NULL, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "no such running run");
    CHECK(store_run_begin(st, T0 + 100, &id2, &err) == 0);
    CHECK(store_run_finish(st, id2, T0 + 101, "great", NULL, NULL, NULL, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "bad status 'great'");

    /* a process killed mid-run: the next store_open marks its run aborted */
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        struct store *cst = NULL;
        struct err cerr = {0};
        int64_t rid = 0;

        if (store_open(path, &cst, &cerr) < 0 || store_run_begin(cst, T0 + 200, &rid, &cerr) < 0)
            _exit(1);
        _exit(rid > 0 ? 0 : 1); /* dies without finishing or closing */
    }
    CHECK(pid > 0);
    CHECK(waitpid(pid, &wst, 0) == pid);
    CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    store_close(st);
    st = NULL;
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL)
        return;
    CHECK(store_run_get(st, 0, &run, &err) == 0);
    child_run = ifield(run, "id");
    CHECK(child_run > id2);
    CHECK_STR(sfield(run, "status"), "aborted");
    CHECK(!json_is_null(json_object_get(run, "finished_at")));
    json_decref(run);
    /* our own running run (id2) is alive: kept, until asked to abort all */
    CHECK(store_run_get(st, id2, &run, &err) == 0);
    CHECK_STR(sfield(run, "status"), "running");
    json_decref(run);
    CHECK(store_runs_abort_stale(st, T0 + 300, 0, &n, &err) == 0);
    CHECK_INT(n, 0);
    CHECK(store_runs_abort_stale(st, T0 + 300, 1, &n, &err) == 0);
    CHECK_INT(n, 1);
    CHECK(store_run_get(st, id2, &run, &err) == 0);
    CHECK_STR(sfield(run, "status"), "aborted");
    json_decref(run);
    store_close(st);
}

/* ---- the status life cycle ---- */

static const json_t *
find_drift(const json_t *list, const char *kind, const char *resolved)
{
    size_t i;

    for (i = 0; i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i);
        const char *r = sfield(e, "resolved");

        if (strcmp(sfield(e, "kind"), kind) != 0)
            continue;
        if ((resolved == NULL && r == NULL) ||
            (resolved != NULL && r != NULL && strcmp(r, resolved) == 0))
            return e;
    }
    return NULL;
}

static void
check_status(struct store *st, const char *vpc, const char *want, long im, long iv, long ch)
{
    json_t *row = status_row(st, vpc);

    CHECK(row != NULL);
    if (row == NULL)
        return;
    CHECK_STR(sfield(row, "status"), want);
    CHECK_INT(ifield(row, "only_in_model"), im);
    CHECK_INT(ifield(row, "only_in_vpc"), iv);
    CHECK_INT(ifield(row, "changed"), ch);
    json_decref(row);
}

static void
test_lifecycle(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *disc, *m, *changes = NULL, *list, *doc = NULL, *row, *saved = NULL;
    const json_t *e;
    int64_t r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0;
    size_t accepted = 0;
    const char *keys[1];
    char *problem = NULL;
    size_t events = 0;

    if (st == NULL)
        return;
    /* run 1: discovered, no model -> yellow */
    CHECK(store_run_begin(st, T0, &r1, &err) == 0);
    disc = one("vpc-1", model_for(ACCT, REG, "vpc-1"));
    CHECK(apply(st, r1, T0, disc, &changes) == 0);
    CHECK_INT(json_array_size(json_object_get(changes, "opened")), 0);
    json_decref(changes);
    check_status(st, "vpc-1", "yellow", 0, 0, 0);
    CHECK(store_status(st, &doc, &err) == 0);
    CHECK_INT(ifield(json_object_get(doc, "summary"), "accounts"), 1);
    CHECK_INT(ifield(json_object_get(doc, "summary"), "vpcs"), 1);
    CHECK_INT(ifield(json_object_get(doc, "summary"), "models"), 0);
    CHECK_INT(ifield(json_object_get(doc, "summary"), "out_of_sync"), 0);
    row = json_array_get(json_object_get(doc, "vpcs"), 0);
    CHECK_STR(sfield(row, "last_sync"), "2023-11-14T22:13:20Z");
    CHECK(json_is_null(json_object_get(row, "error")));
    CHECK_STR(sfield(row, "account_id"), ACCT);
    CHECK_STR(sfield(row, "region"), REG);
    CHECK_INT(json_object_size(row), 10);
    CHECK(json_object_get(row, "name") != NULL); /* the Name tag, or null */
    json_decref(doc);

    /* model create from the discovered snapshot -> green */
    CHECK(store_discovered_get(st, &v, &m, &err) == 0);
    CHECK(m != NULL && json_equal(m, json_object_get(disc, "vpc-1")));
    CHECK(store_model_put(st, &v, m, "create", T0 + 10, NULL, 0, &err) == 0);
    json_decref(m);
    check_status(st, "vpc-1", "green", 0, 0, 0);
    json_decref(disc);

    /* run 2: the database became public and a new instance appeared -> red */
    CHECK(store_run_begin(st, T0 + 100, &r2, &err) == 0);
    m = model_for(ACCT, REG, "vpc-1");
    json_object_set_new(json_object_get(comp(m, 1), "attributes"), "publicly_accessible",
                        json_true());
    json_array_append_new(json_object_get(m, "components"),
                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{}}", "key", "i-rogue", "type",
                                    "AWS EC2", "name", "rogue", "role", "process", "resource_type",
                                    "AWS::EC2::Instance", "resource_id", "i-rogue", "attributes"));
    disc = one("vpc-1", m);
    CHECK(apply(st, r2, T0 + 100, disc, &changes) == 0);
    CHECK_INT(json_array_size(json_object_get(changes, "opened")), 2);
    CHECK_INT(json_array_size(json_object_get(changes, "resolved")), 0);
    json_decref(changes);
    check_status(st, "vpc-1", "red", 0, 1, 1);
    list = drift(st, 0);
    CHECK_INT(json_array_size(list), 2);
    e = find_drift(list, "changed", NULL);
    CHECK(e != NULL);
    if (e != NULL) {
        CHECK_STR(sfield(e, "vpc_id"), "vpc-1");
        CHECK_STR(sfield(e, "account_id"), ACCT);
        CHECK_STR(sfield(e, "region"), REG);
        CHECK_STR(sfield(e, "resource_type"), "AWS::RDS::DBInstance");
        CHECK_STR(sfield(e, "resource_id"), "orders");
        CHECK_STR(sfield(e, "component"), "orders");
        CHECK_STR(sfield(json_object_get(e, "details"), "path"), "attributes.publicly_accessible");
        CHECK(json_is_true(json_object_get(json_object_get(e, "details"), "new")));
        CHECK_STR(sfield(e, "first_seen"), "2023-11-14T22:15:00Z");
        CHECK_STR(sfield(e, "last_seen"), "2023-11-14T22:15:00Z");
        CHECK(json_is_null(json_object_get(e, "resolved")));
        CHECK_INT(json_object_size(e), 11);
    }
    json_decref(list);

    /* run 3: the same state: last_seen moves, first_seen stays, nothing new */
    CHECK(store_run_begin(st, T0 + 200, &r3, &err) == 0);
    CHECK(apply(st, r3, T0 + 200, disc, &changes) == 0);
    CHECK_INT(json_array_size(json_object_get(changes, "opened")), 0);
    json_decref(changes);
    list = drift(st, 1);
    CHECK_INT(json_array_size(list), 2);
    e = find_drift(list, "only_in_vpc", NULL);
    CHECK(e != NULL);
    CHECK_STR(sfield(e, "first_seen"), "2023-11-14T22:15:00Z");
    CHECK_STR(sfield(e, "last_seen"), "2023-11-14T22:16:40Z");
    json_decref(list);

    /* run 4: the rogue instance went away -> its entry is resolved "gone" */
    json_array_remove(json_object_get(json_object_get(disc, "vpc-1"), "components"), 2);
    CHECK(store_run_begin(st, T0 + 300, &r4, &err) == 0);
    CHECK(apply(st, r4, T0 + 300, disc, &changes) == 0);
    CHECK_INT(json_array_size(json_object_get(changes, "resolved")), 1);
    CHECK_STR(sfield(json_array_get(json_object_get(changes, "resolved"), 0), "resolved"), "gone");
    json_decref(changes);
    check_status(st, "vpc-1", "red", 0, 0, 1);
    list = drift(st, 0);
    CHECK_INT(json_array_size(list), 1);
    json_decref(list);
    list = drift(st, 1);
    CHECK_INT(json_array_size(list), 2);
    CHECK(find_drift(list, "only_in_vpc", "gone") != NULL);
    json_decref(list);

    /* model sync of the one component -> accepted, green, model updated */
    keys[0] = RDS;
    CHECK(store_model_accept(st, &v, keys, 1, T0 + 400, NULL, 0, &accepted, &err) == 0);
    CHECK_INT(accepted, 1);
    check_status(st, "vpc-1", "green", 0, 0, 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(saved != NULL);
    CHECK(json_is_true(
        json_object_get(json_object_get(comp(saved, 1), "attributes"), "publicly_accessible")));
    json_decref(saved);
    list = drift(st, 1);
    CHECK(find_drift(list, "changed", "accepted") != NULL);
    json_decref(list);

    /* a failed target keeps the status and flags the error */
    CHECK(store_run_begin(st, T0 + 500, &r5, &err) == 0);
    CHECK(store_target_failed(st, r5, T0 + 500, ACCT, REG,
                              "AccessDenied: not authorized to perform config:SelectResourceConfig",
                              &err) == 0);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "green");
    CHECK_STR(sfield(row, "error"),
              "AccessDenied: not authorized to perform config:SelectResourceConfig");
    CHECK_STR(sfield(row, "last_sync"), "2023-11-14T22:18:20Z"); /* run 4 */
    json_decref(row);
    /* the next good sync clears it; accept-all after another change */
    json_object_set_new(json_object_get(comp(json_object_get(disc, "vpc-1"), 0), "attributes"),
                        "instance_type", json_string("m5.large"));
    CHECK(apply(st, r5, T0 + 600, disc, NULL) == 0);
    row = status_row(st, "vpc-1");
    CHECK(json_is_null(json_object_get(row, "error")));
    CHECK_STR(sfield(row, "status"), "red");
    json_decref(row);
    CHECK(store_model_accept(st, &v, NULL, 0, T0 + 700, NULL, 0, &accepted, &err) == 0);
    CHECK_INT(accepted, 1);
    check_status(st, "vpc-1", "green", 0, 0, 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(json_equal(saved, json_object_get(disc, "vpc-1")));
    json_decref(saved);

    /* ignore rules passed to apply: a matching change is no drift */
    {
        struct cfg_ignore ig = {NULL, NULL, NULL, (char *)(uintptr_t) "instance_type"};

        json_object_set_new(json_object_get(comp(json_object_get(disc, "vpc-1"), 0), "attributes"),
                            "instance_type", json_string("m5.xlarge"));
        CHECK(store_apply_target(st, r5, T0 + 710, ACCT, REG, disc, &ig, 1, NULL, &err) == 0);
        check_status(st, "vpc-1", "green", 0, 0, 0);
        CHECK(apply(st, r5, T0 + 720, disc, NULL) == 0);
        check_status(st, "vpc-1", "red", 0, 0, 1);
    }

    /* the VPC vanishes: modelled -> red, everything only_in_model; an
     * unmodelled one is forgotten */
    json_object_set_new(disc, "vpc-2", model_for(ACCT, REG, "vpc-2"));
    CHECK(apply(st, r5, T0 + 800, disc, NULL) == 0);
    check_status(st, "vpc-2", "yellow", 0, 0, 0);
    {
        json_t *empty = json_object();

        CHECK(apply(st, r5, T0 + 900, empty, &changes) == 0);
        json_decref(empty);
    }
    check_status(st, "vpc-1", "red", 5, 0, 0); /* 2 components, 2 boundaries, 1 flow */
    CHECK(status_row(st, "vpc-2") == NULL);
    CHECK_INT(json_array_size(json_object_get(changes, "resolved")), 1);
    CHECK_INT(json_array_size(json_object_get(changes, "opened")), 5);
    json_decref(changes);
    CHECK(store_discovered_get(st, &v, &m, &err) == 0);
    CHECK(m == NULL);
    CHECK(store_model_accept(st, &v, NULL, 0, T0 + 950, NULL, 0, NULL, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "no discovered state for " ACCT "/" REG "/vpc-1");

    /* deleting the model of a vanished VPC forgets it; open drift resolved gone */
    CHECK(store_model_delete(st, &v, T0 + 1000, &err) == 0);
    CHECK(status_row(st, "vpc-1") == NULL);
    list = drift(st, 0);
    CHECK_INT(json_array_size(list), 0);
    json_decref(list);
    CHECK(store_model_delete(st, &v, T0 + 1000, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);

    /* the whole history verifies */
    CHECK(store_log_verify(st, &problem, &events, &err) == 0);
    CHECK_MSG(problem == NULL, "%s", problem);
    free(problem);
    CHECK(events >= 16);
    json_decref(disc);
    store_vpc_ref_clear(&v);
    store_close(st);
}

/* ---- model put / delete / designed accept ---- */

static void
test_models(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *m, *saved = NULL, *disc;
    sqlite3 *db;
    char *text, *want;
    const char *keys[2];
    size_t accepted = 0;

    if (st == NULL)
        return;
    /* a model for a VPC never discovered: red, everything only_in_model */
    m = model_for(ACCT, REG, "vpc-1");
    CHECK(store_model_put(st, &v, m, "import", T0, NULL, 0, &err) == 0);
    check_status(st, "vpc-1", "red", 5, 0, 0);
    /* stored as canonical text: compact, sorted keys */
    db = raw(path);
    text = raw_text(db, "SELECT model FROM models");
    want = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(text, want);
    free(text);
    free(want);
    text = raw_text(db, "SELECT updated_by FROM models");
    CHECK_STR(text, "import");
    free(text);
    sqlite3_close(db);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(json_equal(saved, m));
    json_decref(saved);

    /* wrong ids, bad documents */
    json_object_set_new(m, "vpc_id", json_string("vpc-9"));
    CHECK(store_model_put(st, &v, m, "import", T0, NULL, 0, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg,
                   "model for " ACCT "/" REG "/vpc-1: 'vpc_id' is 'vpc-9', expected 'vpc-1'");
    json_object_set_new(m, "vpc_id", json_string("vpc-1"));
    json_object_set_new(m, "schema", json_string("threatdragon/2"));
    CHECK(store_model_put(st, &v, m, "import", T0, NULL, 0, &err) == -1);
    CHECK_CONTAINS(err.msg, "'schema' is not");
    json_decref(m);

    /* designed component: drawn by hand, then found by sync and accepted */
    m = model_for(ACCT, REG, "vpc-1");
    json_object_set_new(comp(m, 1), "key", json_string("design:AWS RDS:orders"));
    json_object_del(comp(m, 1), "resource_id");
    json_object_set_new(json_array_get(json_object_get(m, "flows"), 0), "to",
                        json_string("design:AWS RDS:orders"));
    json_object_set_new(json_object_get(comp(m, 1), "attributes"), "multi_az", json_true());
    CHECK(store_model_put(st, &v, m, "import", T0 + 1, NULL, 0, &err) == 0);
    json_decref(m);
    disc = one("vpc-1", model_for(ACCT, REG, "vpc-1"));
    CHECK(apply(st, 0, T0 + 10, disc, NULL) == 0);
    check_status(st, "vpc-1", "red", 0, 0, 1);
    keys[0] = RDS; /* by the discovered key */
    CHECK(store_model_accept(st, &v, keys, 1, T0 + 20, NULL, 0, &accepted, &err) == 0);
    CHECK_INT(accepted, 1);
    check_status(st, "vpc-1", "green", 0, 0, 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(json_equal(saved, json_object_get(disc, "vpc-1")));
    json_decref(saved);

    /* accepting an unknown key changes nothing */
    keys[0] = WEB;
    keys[1] = "arn:nowhere";
    CHECK(store_model_accept(st, &v, keys, 2, T0 + 30, NULL, 0, NULL, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "'arn:nowhere' is in neither the model nor the discovered state");
    /* a flow key: the flow disappears in AWS, accepting it removes it */
    json_array_clear(json_object_get(json_object_get(disc, "vpc-1"), "flows"));
    CHECK(apply(st, 0, T0 + 40, disc, NULL) == 0);
    check_status(st, "vpc-1", "red", 1, 0, 0);
    keys[0] = "flow:" WEB "->" RDS ":tcp/5432";
    CHECK(store_model_accept(st, &v, keys, 1, T0 + 50, NULL, 0, &accepted, &err) == 0);
    check_status(st, "vpc-1", "green", 0, 0, 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK_INT(json_array_size(json_object_get(saved, "flows")), 0);
    json_decref(saved);

    /* delete: back to yellow (the VPC is still discovered) */
    CHECK(store_model_delete(st, &v, T0 + 60, &err) == 0);
    check_status(st, "vpc-1", "yellow", 0, 0, 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(saved == NULL);
    CHECK(store_model_accept(st, &v, NULL, 0, T0 + 70, NULL, 0, NULL, &err) == -1);
    CHECK_CONTAINS(err.msg, "no model for " ACCT "/" REG "/vpc-1");
    json_decref(disc);
    store_vpc_ref_clear(&v);
    store_close(st);
}

/* ---- queries ---- */

static void
test_resolve_and_filters(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_vpc_ref v = {0}, v1 = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *disc, *m, *list = NULL;
    struct store_drift_filter f = {0};

    if (st == NULL)
        return;
    disc = one("vpc-1", model_for(ACCT, REG, "vpc-1"));
    json_object_set_new(disc, "vpc-2", model_for(ACCT, REG, "vpc-2"));
    json_object_set_new(json_object_get(disc, "vpc-2"), "name", json_string("staging"));
    CHECK(apply(st, 0, T0, disc, NULL) == 0);
    m = model_for("222222222222", "eu-west-1", "vpc-1");
    {
        struct store_vpc_ref o = ref("222222222222", "eu-west-1", "vpc-1");

        CHECK(store_model_put(st, &o, m, "import", T0, NULL, 0, &err) == 0);
        store_vpc_ref_clear(&o);
    }
    json_decref(m);

    CHECK(store_vpc_resolve(st, "vpc-2", &v, &err) == 0);
    CHECK_STR(v.account_id, ACCT);
    CHECK_STR(v.vpc_id, "vpc-2");
    store_vpc_ref_clear(&v);
    CHECK(store_vpc_resolve(st, "staging", &v, &err) == 0); /* by name */
    CHECK_STR(v.vpc_id, "vpc-2");
    store_vpc_ref_clear(&v);
    CHECK(store_vpc_resolve(st, "vpc-1", &v, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "VPC 'vpc-1' is ambiguous: " ACCT "/" REG
                            "/vpc-1, 222222222222/eu-west-1/vpc-1");
    CHECK(store_vpc_resolve(st, "222222222222/eu-west-1/vpc-1", &v, &err) == 0);
    CHECK_STR(v.region, "eu-west-1");
    store_vpc_ref_clear(&v);
    CHECK(store_vpc_resolve(st, "vpc-404", &v, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "unknown VPC 'vpc-404'");
    CHECK(store_vpc_resolve(st, "1/vpc-1", &v, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "expected vpc-id, name or ACCOUNT/REGION/vpc-id");
    CHECK(store_vpc_resolve(st, "a//vpc-1", &v, &err) == -1);
    CHECK(store_vpc_resolve(st, "a/b/c/d", &v, &err) == -1);

    /* drift filters: the other account's model has 5 only_in_model entries */
    CHECK(store_model_put(st, &v1, json_object_get(disc, "vpc-1"), "create", T0 + 5, NULL, 0,
                          &err) == 0);
    json_object_set_new(json_object_get(comp(json_object_get(disc, "vpc-1"), 0), "attributes"),
                        "instance_type", json_string("c5.large"));
    CHECK(apply(st, 0, T0 + 100, disc, NULL) == 0);
    f.vpc = &v1;
    CHECK(store_drift_query(st, &f, &list, &err) == 0);
    CHECK_INT(json_array_size(list), 1);
    json_decref(list);
    f.vpc = NULL;
    CHECK(store_drift_query(st, &f, &list, &err) == 0);
    CHECK_INT(json_array_size(list), 6);
    json_decref(list);
    f.kind = "changed";
    CHECK(store_drift_query(st, &f, &list, &err) == 0);
    CHECK_INT(json_array_size(list), 1);
    json_decref(list);
    f.kind = NULL;
    f.since = T0 + 50;
    CHECK(store_drift_query(st, &f, &list, &err) == 0);
    CHECK_INT(json_array_size(list), 1);
    json_decref(list);
    f.since = 0;
    f.kind = "weird";
    CHECK(store_drift_query(st, &f, &list, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "unknown drift kind 'weird'");

    {
        json_t *doc = NULL;

        CHECK(store_status(st, &doc, &err) == 0);
        CHECK_INT(ifield(json_object_get(doc, "summary"), "accounts"), 2);
        CHECK_INT(ifield(json_object_get(doc, "summary"), "vpcs"), 3);
        CHECK_INT(ifield(json_object_get(doc, "summary"), "models"), 2);
        CHECK_INT(ifield(json_object_get(doc, "summary"), "out_of_sync"), 2);
        /* sorted by account, region, vpc */
        CHECK_STR(sfield(json_array_get(json_object_get(doc, "vpcs"), 0), "vpc_id"), "vpc-1");
        CHECK_STR(sfield(json_array_get(json_object_get(doc, "vpcs"), 2), "account_id"),
                  "222222222222");
        CHECK(json_is_null(
            json_object_get(json_array_get(json_object_get(doc, "vpcs"), 2), "last_sync")));
        json_decref(doc);
    }
    json_decref(disc);
    store_vpc_ref_clear(&v1);
    store_close(st);
}

/* ---- transactions and locking ---- */

static void
test_transactions(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path)), *other = NULL;
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *disc = one("vpc-1", model_for(ACCT, REG, "vpc-1")), *doc = NULL, *saved = NULL;
    const char *keys[1] = {"arn:missing"};
    int64_t run = 0;

    if (st == NULL)
        return;
    /* rollback leaves nothing */
    CHECK(store_begin(st, &err) == 0);
    CHECK(store_begin(st, &err) == -1);
    CHECK_CONTAINS(err.msg, "one is already open");
    CHECK(store_run_begin(st, T0, &run, &err) == 0);
    CHECK(apply(st, run, T0, disc, NULL) == 0);
    CHECK(store_model_put(st, &v, json_object_get(disc, "vpc-1"), "create", T0, NULL, 0, &err) ==
          0);
    store_rollback(st);
    CHECK(store_status(st, &doc, &err) == 0);
    CHECK_INT(ifield(json_object_get(doc, "summary"), "vpcs"), 0);
    CHECK_INT(ifield(json_object_get(doc, "summary"), "models"), 0);
    CHECK_INT(json_array_size(json_object_get(doc, "vpcs")), 0);
    json_decref(doc);
    CHECK(store_run_get(st, 0, &doc, &err) == 0);
    CHECK(doc == NULL);
    CHECK(store_commit(st, &err) == -1);
    CHECK_CONTAINS(err.msg, "no transaction is open");

    /* a failing call inside the caller's transaction undoes only itself */
    CHECK(store_begin(st, &err) == 0);
    CHECK(apply(st, 0, T0, disc, NULL) == 0);
    CHECK(store_model_put(st, &v, json_object_get(disc, "vpc-1"), "create", T0, NULL, 0, &err) ==
          0);
    CHECK(store_model_accept(st, &v, keys, 1, T0, NULL, 0, NULL, &err) == -1);
    CHECK(store_commit(st, &err) == 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(saved != NULL);
    json_decref(saved);
    check_status(st, "vpc-1", "green", 0, 0, 0);

    /* locked: another connection holds the write lock */
    CHECK(store_open(path, &other, &err) == 0);
    if (other != NULL) {
        store_set_busy_timeout(other, 100);
        CHECK(store_begin(st, &err) == 0);
        CHECK(store_model_put(other, &v, json_object_get(disc, "vpc-1"), "import", T0, NULL, 0,
                              &err) == -1);
        CHECK_INT(err.kind, ERR_STORE);
        CHECK_STR(err.msg, "store: saving model for " ACCT "/" REG "/vpc-1: database is locked");
        CHECK(store_begin(other, &err) == -1);
        CHECK_CONTAINS(err.msg, "database is locked");
        /* readers are not blocked (WAL) */
        CHECK(store_status(other, &doc, &err) == 0);
        json_decref(doc);
        store_rollback(st);
        CHECK(store_model_put(other, &v, json_object_get(disc, "vpc-1"), "import", T0, NULL, 0,
                              &err) == 0);
        store_close(other);
    }
    json_decref(disc);
    store_vpc_ref_clear(&v);
    store_close(st);
}

/* ---- hostile names ---- */

static void
test_metacharacters(void)
{
    static const char evil_region[] = "us-east-1'); DROP TABLE vpcs; --";
    static const char evil_vpc[] = "vpc-\"x\" OR 1=1; DELETE FROM models; --%_\\";
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_vpc_ref v = ref(ACCT, evil_region, evil_vpc), got = {0};
    struct err err = {0};
    json_t *m = model_for(ACCT, evil_region, evil_vpc), *saved = NULL, *disc, *doc = NULL;
    char spec[256];

    if (st == NULL)
        return;
    json_object_set_new(m, "name", json_string("name' || (SELECT 1) || '"));
    json_object_set_new(comp(m, 0), "key", json_string("key'; DROP TABLE drift; --"));
    CHECK(store_model_put(st, &v, m, "import", T0, NULL, 0, &err) == 0);
    CHECK(store_model_get(st, &v, &saved, &err) == 0);
    CHECK(saved != NULL && json_equal(saved, m));
    json_decref(saved);
    disc = json_object();
    json_object_set(disc, evil_vpc, m);
    CHECK(store_apply_target(st, 0, T0 + 1, ACCT, evil_region, disc, NULL, 0, NULL, &err) == 0);
    CHECK(store_status(st, &doc, &err) == 0);
    CHECK_STR(sfield(json_array_get(json_object_get(doc, "vpcs"), 0), "region"), evil_region);
    CHECK_STR(sfield(json_array_get(json_object_get(doc, "vpcs"), 0), "vpc_id"), evil_vpc);
    CHECK_STR(sfield(json_array_get(json_object_get(doc, "vpcs"), 0), "status"), "green");
    json_decref(doc);
    CHECK(store_vpc_resolve(st, "name' || (SELECT 1) || '", &got, &err) == 0);
    CHECK_STR(got.vpc_id, evil_vpc);
    store_vpc_ref_clear(&got);
    /* '%' and '_' are not LIKE wildcards here */
    CHECK(store_vpc_resolve(st, "vpc-%", &got, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);
    snprintf(spec, sizeof(spec), "%s/%s", ACCT, "us-east-1'); DROP TABLE vpcs; --");
    CHECK(store_vpc_resolve(st, spec, &got, &err) == -1); /* two parts only */
    CHECK_INT(err.kind, ERR_CONFIG);
    json_decref(disc);
    json_decref(m);
    store_vpc_ref_clear(&v);
    store_close(st);
}

/* An attribute named "a.b" and a nested a.b spell the same entry identity:
 * the store keeps one entry instead of failing on its unique index. */
static void
test_identity_collision(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *m = model_for(ACCT, REG, "vpc-1"), *disc, *list;
    json_t *a;

    if (st == NULL)
        return;
    a = json_object_get(comp(m, 0), "attributes");
    json_object_set_new(a, "a.b", json_integer(1));
    json_object_set_new(a, "a", json_pack("{s:i}", "b", 1));
    CHECK(store_model_put(st, &v, m, "import", T0, NULL, 0, &err) == 0);
    json_object_set_new(a, "a.b", json_integer(2));
    json_object_set_new(a, "a", json_pack("{s:i}", "b", 2));
    disc = one("vpc-1", m);
    CHECK(apply(st, 0, T0 + 1, disc, NULL) == 0);
    check_status(st, "vpc-1", "red", 0, 0, 1);
    list = drift(st, 0);
    CHECK_INT(json_array_size(list), 1);
    json_decref(list);
    CHECK(apply(st, 0, T0 + 2, disc, NULL) == 0);
    check_status(st, "vpc-1", "red", 0, 0, 1);
    json_decref(disc);
    store_vpc_ref_clear(&v);
    store_close(st);
}

/* ---- tampering ---- */

/* A store with a few opened and resolved entries; closed, path returned. */
static int
build_history(char *path, size_t n)
{
    struct store *st = open_new(path, n);
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *disc = one("vpc-1", model_for(ACCT, REG, "vpc-1"));
    json_t *m = json_object_get(disc, "vpc-1");
    int rc = -1;

    if (st == NULL)
        goto out;
    if (store_model_put(st, &v, m, "create", T0, NULL, 0, &err) < 0) /* red: 5 only_in_model */
        goto out;
    json_array_append_new(json_object_get(m, "components"),
                          json_pack("{s:s,s:s,s:s,s:s,s:s}", "key",
                                    "arn:aws:ec2:us-east-1:111111111111:instance/i-new", "type",
                                    "AWS EC2", "name", "new", "resource_type", "AWS::EC2::Instance",
                                    "resource_id", "i-new"));
    if (apply(st, 0, T0 + 10, disc, NULL) < 0) /* 5 resolved gone, 1 opened */
        goto out;
    rc = 0;
out:
    if (rc < 0)
        fprintf(stderr, "build_history: %s\n", err.msg);
    json_decref(disc);
    store_vpc_ref_clear(&v);
    store_close(st);
    return rc;
}

static void
expect_problem(const char *path, const char *want1, const char *want2)
{
    struct store *st = NULL;
    struct err err = {0};
    char *problem = NULL;

    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL)
        return;
    CHECK_MSG(store_log_verify(st, &problem, NULL, &err) == 0, "%s", err.msg);
    printf("verify: %s\n", problem ? problem : "(ok)");
    CHECK_CONTAINS(problem, want1);
    if (want2 != NULL)
        CHECK_CONTAINS(problem, want2);
    free(problem);
    store_close(st);
}

static void
test_tamper(void)
{
    char path[512];
    struct store *st = NULL;
    struct err err = {0};
    char *problem = NULL, *errmsg = NULL;
    size_t events = 0;
    sqlite3 *db;

    /* intact */
    CHECK(build_history(path, sizeof(path)) == 0);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL)
        return;
    CHECK(store_log_verify(st, &problem, &events, &err) == 0);
    CHECK_MSG(problem == NULL, "%s", problem);
    free(problem);
    CHECK_INT(events, 11); /* 5 opened; then 1 opened, 5 resolved */
    store_close(st);

    /* the triggers refuse edits through any connection */
    db = raw(path);
    CHECK(sqlite3_exec(db, "UPDATE drift_events SET at = at + 1 WHERE seq = 2", NULL, NULL,
                       &errmsg) != SQLITE_OK);
    CHECK_CONTAINS(errmsg, "drift_events is append-only");
    sqlite3_free(errmsg);
    errmsg = NULL;
    CHECK(sqlite3_exec(db, "DELETE FROM drift_events WHERE seq = 11", NULL, NULL, &errmsg) !=
          SQLITE_OK);
    sqlite3_free(errmsg);
    /* the attacker drops the trigger and alters one byte of event 6's content
     * (the open of i-new: reconcile opens new entries before resolving) */
    CHECK(sqlite3_exec(
              db,
              "DROP TRIGGER drift_events_no_update;"
              "UPDATE drift_events SET content = replace(content, 'i-new', 'i-neW') WHERE seq = 6;"
              "CREATE TRIGGER drift_events_no_update BEFORE UPDATE ON drift_events"
              "  BEGIN SELECT RAISE(ABORT, 'drift_events is append-only'); END;",
              NULL, NULL, NULL) == SQLITE_OK);
    CHECK_INT(raw_int(db, "SELECT count(*) FROM drift_events WHERE instr(content, 'i-neW') > 0"),
              1);
    sqlite3_close(db);
    expect_problem(path,
                   "event 6 (vpc-1, only_in_vpc arn:aws:ec2:us-east-1:111111111111:instance/i-new)",
                   "hash mismatch");

    /* one changed timestamp byte in the middle of the chain */
    CHECK(build_history(path, sizeof(path)) == 0);
    db = raw(path);
    CHECK(sqlite3_exec(db,
                       "DROP TRIGGER drift_events_no_update;"
                       "UPDATE drift_events SET at = at + 1 WHERE seq = 3;",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_problem(path, "event 3 (vpc-1, only_in_model ", "hash mismatch");

    /* a deleted event */
    CHECK(build_history(path, sizeof(path)) == 0);
    db = raw(path);
    CHECK(sqlite3_exec(db,
                       "DROP TRIGGER drift_events_no_delete;"
                       "DELETE FROM drift_events WHERE seq = 4;",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_problem(path, "event 5 (", "sequence gap, expected event 4");

    /* the drift table edited to hide an entry's content */
    CHECK(build_history(path, sizeof(path)) == 0);
    db = raw(path);
    CHECK(sqlite3_exec(db, "UPDATE drift SET component = 'harmless' WHERE resolved IS NULL", NULL,
                       NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_problem(path, "drift entry 6 (vpc-1, only_in_vpc", "differs from its open event 6");

    /* an open entry quietly marked accepted */
    CHECK(build_history(path, sizeof(path)) == 0);
    db = raw(path);
    CHECK(sqlite3_exec(db, "UPDATE drift SET resolved = 'accepted' WHERE id = 6", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_problem(path, "drift entry 6 (", "resolved is accepted but the log says open");

    /* a drift row deleted */
    CHECK(build_history(path, sizeof(path)) == 0);
    db = raw(path);
    CHECK(sqlite3_exec(db, "PRAGMA foreign_keys = OFF; DELETE FROM drift WHERE id = 2", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_problem(path, "event 2 (", "drift entry 2 is missing from the drift table");

    /* the triggers removed, nothing else */
    CHECK(build_history(path, sizeof(path)) == 0);
    db = raw(path);
    CHECK(sqlite3_exec(db, "DROP TRIGGER drift_events_no_delete", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_problem(path, "append-only triggers were removed", NULL);
}

/* ---- staging (store_stage_*, store_apply_staged) ---- */

static int
stage_one(struct store *st, int64_t target, const char *vpc, const json_t *model)
{
    struct err err = {0};
    char *text = json_dumps(model, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    struct store_staged_model m = {vpc, "prod", text, NULL};
    int rc = store_stage_models(st, target, ACCT, REG, &m, 1, NULL, &err);

    if (rc < 0)
        fprintf(stderr, "stage: %s\n", err.msg);
    free(text);
    return rc;
}

static int
apply_staged(struct store *st, int64_t run, time_t now, const struct cfg_ignore *ig, size_t nig,
             struct store_apply_stats *as)
{
    struct err err = {0};
    int rc = store_apply_staged(st, run, now, 7, ACCT, REG, ig, nig, as, &err);

    if (rc < 0)
        fprintf(stderr, "apply_staged: %s\n", err.msg);
    return rc;
}

/* The staged link texts of target (store_staged_link_texts: what the
 * daemon's commit links from), each parsed: *ret_models {"VPC": DOC} keyed
 * by each document's vpc_id in the texts' order, *ret_account the account
 * document or NULL (ret_account may be NULL). -1 with err set when the
 * read fails or a text is not a JSON object. */
static int
link_docs(struct store *st, int64_t target, json_t **ret_models, json_t **ret_account,
          struct err *err)
{
    struct store_link_texts t = {0};
    json_t *models = json_object(), *acct = NULL, *doc;
    int rc = -1;

    if (models == NULL || store_staged_link_texts(st, target, ACCT, REG, &t, err) < 0)
        goto out;
    for (size_t i = 0; i < t.n + (t.has_account ? 1 : 0); i++) {
        const char *vpc;

        doc = json_loadb(t.buf + t.off[i], t.len[i], 0, NULL);
        if (!json_is_object(doc)) {
            json_decref(doc);
            err_set(err, ERR_INTERNAL, "link text %zu is not a JSON object: %s", i,
                    t.buf + t.off[i]);
            goto out;
        }
        vpc = json_string_value(json_object_get(doc, "vpc_id"));
        if (i == t.n)
            acct = doc;
        else
            json_object_set_new(models, vpc != NULL ? vpc : "(no vpc_id)", doc);
    }
    rc = 0;
out:
    store_link_texts_clear(&t);
    if (rc < 0)
        json_decref(models);
    else
        *ret_models = models;
    if (rc == 0 && ret_account != NULL)
        *ret_account = acct;
    else
        json_decref(acct);
    return rc;
}

static void
test_staging(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_apply_stats as = {0};
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *disc = model_for(ACCT, REG, "vpc-1"), *changed, *row, *got = NULL, *acct = NULL;
    struct store_staged_finding sums[] = {{.id = "f2", .text = "{}"}, {.text = "{\"id\":\"f1\"}"}};
    char attr[] = "tags.*";
    struct cfg_ignore ig = {.attribute = attr};
    int64_t run = 0;
    sqlite3 *db;

    CHECK(st != NULL);
    if (st == NULL)
        return;
    /* staged rows live in TEMP tables: never in the database file */
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", disc) == 0);
    CHECK(store_stage_finding_rows(st, 7, sums, 2, &err) == 0);
    db = raw(path);
    CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'stage%'"), 0);
    sqlite3_close(db);
    /* the linking view: the same components, only key and resource_id */
    CHECK(link_docs(st, 7, &got, &acct, &err) == 0);
    CHECK_INT(json_object_size(got), 1);
    CHECK(acct == NULL);
    {
        json_t *lm = json_object_get(got, "vpc-1"), *lc = json_object_get(lm, "components");
        json_t *full = json_object_get(disc, "components");

        CHECK_STR(sfield(lm, "account_id"), ACCT);
        CHECK_STR(sfield(lm, "vpc_id"), "vpc-1");
        CHECK(json_object_get(lm, "flows") == NULL);
        CHECK_INT(json_array_size(lc), json_array_size(full));
        for (size_t i = 0; i < json_array_size(lc) && i < json_array_size(full); i++) {
            json_t *rid = json_object_get(json_array_get(full, i), "resource_id");

            CHECK_INT(json_object_size(json_array_get(lc, i)), 2);
            CHECK_STR(sfield(json_array_get(lc, i), "key"), sfield(json_array_get(full, i), "key"));
            CHECK(json_equal(json_object_get(json_array_get(lc, i), "resource_id"),
                             rid != NULL ? rid : json_null()));
        }
    }
    json_decref(got);

    /* first apply: yellow, not unchanged */
    CHECK(store_run_begin(st, T0, &run, &err) == 0);
    CHECK(apply_staged(st, run, T0 + 1, NULL, 0, &as) == 0);
    CHECK_INT(as.vpcs, 1);
    CHECK_INT(as.unchanged, 0);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "yellow");
    json_decref(row);
    /* the staged text is what lands as the snapshot */
    CHECK(store_discovered_get(st, &v, &got, &err) == 0);
    CHECK(json_equal(got, disc));
    json_decref(got);

    /* a model: red/green decided at put; the same snapshot next run is unchanged */
    CHECK(store_model_put(st, &v, disc, "create", T0 + 2, NULL, 0, &err) == 0);
    CHECK(apply_staged(st, run, T0 + 3, NULL, 0, &as) == 0);
    CHECK_INT(as.unchanged, 1);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "green");
    json_decref(row);

    /* other ignores than the last reconcile: the diff runs again */
    CHECK(apply_staged(st, run, T0 + 4, &ig, 1, &as) == 0);
    CHECK_INT(as.unchanged, 0);
    CHECK(apply_staged(st, run, T0 + 5, &ig, 1, &as) == 0);
    CHECK_INT(as.unchanged, 1);

    /* a changed snapshot: drift opens; staged again unchanged: it stays open, last_seen moves */
    changed = json_deep_copy(disc);
    json_array_remove(json_object_get(changed, "components"), 0);
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", changed) == 0);
    CHECK(apply_staged(st, run, T0 + 6, &ig, 1, &as) == 0);
    CHECK_INT(as.unchanged, 0);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "red");
    json_decref(row);
    CHECK(apply_staged(st, run, T0 + 7, &ig, 1, &as) == 0);
    CHECK_INT(as.unchanged, 1);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "red");
    json_decref(row);
    got = drift(st, 0);
    CHECK(json_array_size(got) >= 1);
    db = raw(path);
    CHECK_INT(raw_int(db, "SELECT min(last_seen_at) FROM drift WHERE resolved IS NULL"), T0 + 7);
    sqlite3_close(db);
    json_decref(got);

    /* nothing staged for the target: the modelled VPC is gone, all only_in_model */
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(apply_staged(st, run, T0 + 8, &ig, 1, &as) == 0);
    CHECK_INT(as.vpcs, 0);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "red");
    CHECK(ifield(row, "only_in_model") > 0);
    json_decref(row);

    /* a broken staged text is an error naming the VPC, and changes nothing */
    CHECK(store_stage_reset(st, &err) == 0);
    {
        struct store_staged_model bad = {"vpc-1", "prod", "{not json", NULL};

        CHECK(store_stage_models(st, 7, ACCT, REG, &bad, 1, NULL, &err) == 0);
    }
    CHECK(store_apply_staged(st, run, T0 + 9, 7, ACCT, REG, NULL, 0, &as, &err) < 0);
    CHECK_CONTAINS(err.msg, "vpc-1");
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "red");
    json_decref(row);

    /* store_begin_all: no savepoints inside, and the mode ends with the
     * transaction (a later store_begin is savepointed again) */
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", disc) == 0);
    CHECK(store_begin_all(st, &err) == 0);
    CHECK(apply_staged(st, run, T0 + 10, &ig, 1, &as) == 0);
    CHECK(store_commit(st, &err) == 0);
    CHECK(store_begin(st, &err) == 0);
    CHECK(apply_staged(st, run, T0 + 11, &ig, 1, &as) == 0);
    CHECK(store_apply_staged(st, run, T0 + 12, -1, ACCT, REG, NULL, 0, &as, &err) < 0);
    CHECK_CONTAINS(err.msg, "not a run's");
    CHECK(store_commit(st, &err) == 0);
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "green");
    json_decref(row);

    /* staging inside the caller's transaction is refused */
    err_clear(&err);
    CHECK(store_begin(st, &err) == 0);
    CHECK(store_stage_finding_rows(st, 7, sums, 1, &err) < 0);
    CHECK_CONTAINS(err.msg, "staging");
    store_rollback(st);

    json_decref(disc);
    json_decref(changed);
    store_vpc_ref_clear(&v);
    store_close(st);
}

/* apply_staged at now, then what it counted unchanged and the status it
 * left vpc-1 in (status NULL: not checked) */
static void
apply_expect(struct store *st, int64_t run, time_t now, const struct cfg_ignore *ig, size_t nig,
             long unchanged, const char *status)
{
    struct store_apply_stats as = {0};
    json_t *row;

    CHECK(apply_staged(st, run, now, ig, nig, &as) == 0);
    CHECK_INT(as.vpcs, 1);
    CHECK_INT(as.unchanged, unchanged);
    if (status == NULL)
        return;
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), status);
    json_decref(row);
}

/* A read equal to the last one stages the stored snapshots by reference
 * (store_stage_reuse): every reader sees the same texts as if they had been
 * staged afresh, and a snapshot that is gone is an error, never green. */
/* store_staged_items' callback, reading the staged items again while the
 * outer reads' statements are still stepping, deeper than the statement
 * cache has slots: the innermost statements are not cached and are
 * finalized (q_finish used to call itself for ever there). */
#define NESTED_DEPTH 120 /* > STORE_STMT_CACHE */

struct nested_ctx {
    struct store *st;
    int depth, rows;
};

static int
read_nested(void *ctx, const char *item, struct err *err)
{
    struct nested_ctx *n = ctx;
    int rc;

    (void)item;
    n->rows++;
    if (n->depth >= NESTED_DEPTH)
        return 0;
    n->depth++;
    rc = store_staged_items(n->st, 7, read_nested, n, err);
    n->depth--;
    return rc;
}

/* The staging area is a private temporary database: emptying it drops the
 * file, statements prepared before re-prepare, and it is refused inside a
 * transaction (a run never stages inside one). */
static void
test_stage_reset(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct err err = {0};
    unsigned char h1[32] = {1}, h2[32] = {2};
    struct store_staged_item items[] = {{h1, 32, "i1", "{\"a\":1}"}, {h2, 32, "i2", "{\"a\":2}"}};
    struct nested_ctx n = {st, 0, 0};
    json_t *disc = model_for(ACCT, REG, "vpc-1"), *got = NULL, *acct = NULL;

    CHECK(st != NULL);
    if (st == NULL) {
        json_decref(disc);
        return;
    }
    CHECK(store_stage_reset(st, &err) == 0);
    for (int round = 0; round < 3; round++) {
        n.rows = 0;
        CHECK(store_stage_items(st, 7, items, 1, &err) == 0);
        CHECK(stage_one(st, 7, "vpc-1", disc) == 0);
        CHECK(store_staged_items(st, 7, read_nested, &n, &err) == 0);
        CHECK_INT(n.rows, NESTED_DEPTH + 1);
        CHECK(store_stage_items(st, 7, items + 1, 1, &err) == 0);
        n.rows = 0;
        n.depth = NESTED_DEPTH; /* no nesting: both rows */
        CHECK(store_staged_items(st, 7, read_nested, &n, &err) == 0);
        CHECK_INT(n.rows, 2);
        n.depth = 0;
        CHECK(link_docs(st, 7, &got, &acct, &err) == 0);
        CHECK_INT(json_object_size(got), 1);
        json_decref(got);
        got = NULL;
        /* emptied: nothing of the previous round is left */
        CHECK(store_stage_reset(st, &err) == 0);
        n.rows = 0;
        CHECK(store_staged_items(st, 7, read_nested, &n, &err) == 0);
        CHECK_INT(n.rows, 0);
        CHECK(link_docs(st, 7, &got, &acct, &err) == 0);
        CHECK_INT(json_object_size(got), 0);
        json_decref(got);
        got = NULL;
    }
    CHECK(store_begin(st, &err) == 0);
    CHECK(store_stage_reset(st, &err) < 0);
    CHECK_INT(err.kind, ERR_INTERNAL);
    CHECK_CONTAINS(err.msg, "emptying the staging area inside a transaction");
    store_rollback(st);
    err = (struct err){0};
    CHECK(store_stage_reset(st, &err) == 0);
    json_decref(disc);
    store_close(st);
    unlink(path);
}

/* A new database gets 16 KiB pages, the staging database too; one made
 * with 4 KiB pages (earlier versions) keeps them and works as before. */
static void
test_page_size(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct err err = {0};
    json_t *disc = model_for(ACCT, REG, "vpc-1"), *got = NULL, *acct = NULL;
    sqlite3 *db;

    CHECK(st != NULL);
    if (st == NULL) {
        json_decref(disc);
        return;
    }
    store_close(st);
    db = raw(path);
    CHECK_INT(raw_int(db, "PRAGMA page_size"), 16384);
    CHECK(sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM;"
                           " PRAGMA journal_mode = WAL;", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_INT(raw_int(db, "PRAGMA page_size"), 4096);
    sqlite3_close(db);
    st = NULL;
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL) {
        json_decref(disc);
        return;
    }
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", disc) == 0);
    CHECK(link_docs(st, 7, &got, &acct, &err) == 0);
    CHECK_INT(json_object_size(got), 1);
    json_decref(got);
    store_close(st);
    db = raw(path);
    CHECK_INT(raw_int(db, "PRAGMA page_size"), 4096);
    sqlite3_close(db);
    json_decref(disc);
    unlink(path);
}

/* The link document a worker stages beside a model (compliance_link_text)
 * is what store_staged_link_texts cuts out of the model text otherwise: the
 * same documents either way, a designed component (no resource_id) and the
 * account document (vpc_id null) included. */
static void
test_stage_link(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct err err = {0};
    json_t *m = model_for(ACCT, REG, "vpc-1"), *acct = json_deep_copy(base_model);
    json_t *with = NULL, *without = NULL, *wa = NULL, *woa = NULL;
    char *mt = NULL, *at = NULL, *ml = NULL, *al = NULL;

    CHECK(st != NULL);
    if (st == NULL) {
        json_decref(m);
        json_decref(acct);
        return;
    }
    json_object_del(comp(m, 0), "resource_id");
    json_object_set_new(acct, "account_id", json_string(ACCT));
    json_object_set_new(acct, "vpc_id", json_null());
    mt = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    at = json_dumps(acct, JSON_COMPACT | JSON_SORT_KEYS);
    ml = compliance_link_text(m);
    al = compliance_link_text(acct);
    CHECK(mt != NULL && at != NULL && ml != NULL && al != NULL);
    CHECK(compliance_link_text(NULL) == NULL);
    /* what the worker stages: these texts, names borrowed */
    {
        struct store_staged_model a = {0}, b = {0};

        CHECK(store_staged_model_make(&a, "vpc-1", m) == 0);
        CHECK(store_staged_model_make(&b, NULL, acct) == 0);
        CHECK(a.model != NULL && strcmp(a.model, mt) == 0);
        CHECK(a.link != NULL && strcmp(a.link, ml) == 0);
        CHECK(a.name == json_string_value(json_object_get(m, "name")));
        CHECK(b.vpc_id == NULL && b.name == NULL);
        CHECK(b.link != NULL && strcmp(b.link, al) == 0);
        store_staged_model_clear(&a);
        store_staged_model_clear(&b);
        CHECK(a.model == NULL && a.link == NULL && b.model == NULL && b.link == NULL);
    }
    {
        struct store_staged_model v1[] = {{"vpc-1", "prod", mt, ml}, {NULL, NULL, at, al}};
        struct store_staged_model v2[] = {{"vpc-1", "prod", mt, NULL}, {NULL, NULL, at, NULL}};
        CHECK(store_stage_reset(st, &err) == 0);
        CHECK(store_stage_models(st, 1, ACCT, REG, v1, 2, NULL, &err) == 0);
        CHECK(store_stage_models(st, 2, ACCT, REG, v2, 2, NULL, &err) == 0);
    }
    CHECK(link_docs(st, 1, &with, &wa, &err) == 0);
    CHECK(link_docs(st, 2, &without, &woa, &err) == 0);
    CHECK(with != NULL && without != NULL && json_equal(with, without));
    CHECK(wa != NULL && woa != NULL && json_equal(wa, woa));
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(json_object_get(with,
        "vpc-1"), "components"), 0), "resource_id")));
    CHECK(json_is_null(json_object_get(wa, "vpc_id")));
    /* the staged link document is what is read, not the model text */
    {
        struct store_staged_model v3[] = {{"vpc-1", "prod", mt,
            "{\"account_id\":\"x\",\"components\":[],\"vpc_id\":\"vpc-1\"}"}};
        json_t *got = NULL;
        CHECK(store_stage_models(st, 3, ACCT, REG, v3, 1, NULL, &err) == 0);
        CHECK(link_docs(st, 3, &got, NULL, &err) == 0);
        CHECK_STR(json_string_value(json_object_get(json_object_get(got, "vpc-1"),
            "account_id")), "x");
        json_decref(got);
    }
    CHECK_INT(json_array_size(json_object_get(json_object_get(with, "vpc-1"), "components")),
        json_array_size(json_object_get(m, "components")));
    json_decref(with);
    json_decref(without);
    json_decref(wa);
    json_decref(woa);
    free(mt);
    free(at);
    free(ml);
    free(al);
    json_decref(m);
    json_decref(acct);
    store_close(st);
    unlink(path);
}

/* store_staged_models_sum is the digest the commit would make of the same
 * rows (the order of the worker's models does not matter), is what the
 * commit then uses, and stands only for a group staged in one call. */
static void
test_models_sum(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct err err = {0};
    /* unsorted, the account document ("" in SQL's order) last, ids that
     * are prefixes of each other */
    struct store_staged_model v[] = {
        {"vpc-2", "b", "{\"b\":2}", NULL},
        {"vpc-1", "a", "{\"a\":1}", NULL},
        {"vpc-10", NULL, "{\"c\":3}", NULL},
        {NULL, NULL, "{\"account_id\":\"x\"}", NULL},
    };
    struct store_staged_model dup[] = {{"vpc-1", NULL, "{}", NULL}, {"vpc-1", NULL, "[]", NULL}};
    struct store_staged_model nul[] = {{"vpc-1", NULL, NULL, NULL}};
    char sum[65] = "", sum2[65] = "", d[65] = "", sql_d[65] = "", empty[65] = "";
    const char *fake = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    sqlite3 *db;

    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(store_staged_models_sum(v, 4, sum) == 0 && strlen(sum) == 64);
    CHECK(store_staged_models_sum(v + 1, 3, sum2) == 0 && strcmp(sum, sum2) != 0);
    CHECK(store_staged_models_sum(dup, 2, d) < 0 && d[0] == '\0'); /* out left alone */
    CHECK(store_staged_models_sum(nul, 1, d) < 0 && d[0] == '\0');
    CHECK(store_staged_models_sum(NULL, 0, empty) == 0 && strlen(empty) == 64);
    CHECK(store_stage_reset(st, &err) == 0);
    /* target 1 hashed by the commit (no sum given), target 2 with the sum */
    CHECK(store_stage_models(st, 1, ACCT, REG, v, 4, NULL, &err) == 0);
    CHECK(store_stage_models(st, 2, ACCT, REG, v, 4, sum, &err) == 0);
    CHECK(store_staged_models_digest(st, 1, ACCT, REG, sql_d, &err) == 0);
    CHECK_STR(sql_d, sum);
    CHECK(store_staged_models_digest(st, 2, ACCT, REG, d, &err) == 0);
    CHECK_STR(d, sum);
    /* the given digest is used as given: the texts are not read back */
    CHECK(store_stage_models(st, 3, ACCT, REG, v, 4, fake, &err) == 0);
    CHECK(store_staged_models_digest(st, 3, ACCT, REG, d, &err) == 0);
    CHECK_STR(d, fake);
    /* a second call for the same group forgets it: the rows are hashed */
    CHECK(store_stage_models(st, 4, ACCT, REG, v, 1, fake, &err) == 0);
    CHECK(store_stage_models(st, 4, ACCT, REG, v + 1, 3, fake, &err) == 0);
    CHECK(store_staged_models_digest(st, 4, ACCT, REG, d, &err) == 0);
    CHECK_STR(d, sum);
    /* nothing staged: the digest of nothing, as the sum of nothing */
    CHECK(store_staged_models_digest(st, 5, ACCT, REG, d, &err) == 0);
    CHECK_STR(d, empty);
    /* a digest that is not one is refused */
    CHECK(store_stage_models(st, 6, ACCT, REG, v, 4, "abc", &err) < 0);
    CHECK_CONTAINS(err.msg, "digest");
    err = (struct err){0};
    /* the staged group's rows become the apply's snapshots with that digest */
    db = raw(path);
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(store_stage_models(st, 7, ACCT, REG, v, 4, sum, &err) == 0);
    CHECK(store_stage_part(st, 7, ACCT, REG, "rules-1", "{}", 0, &err) == 0);
    {
        struct store_apply_stats as = {0};
        int64_t run = 0;
        char q[256];

        CHECK(store_run_begin(st, T0, &run, &err) == 0);
        CHECK(apply_staged(st, run, T0 + 1, NULL, 0, &as) == 0);
        snprintf(q, sizeof(q), "SELECT models_digest = '%s' FROM targets", sum);
        CHECK_INT(raw_int(db, q), 1);
    }
    sqlite3_close(db);
    store_close(st);
    unlink(path);
}

/* The digest of a target's snapshots is made once: by the apply that
 * writes them (a fresh read), or by the first reused read when none is
 * kept; it is kept on the target (targets.models_digest) for the reads
 * that reuse them, and replaced or forgotten whenever they change (a fresh
 * read, store_apply_target). */
static void
test_models_digest_cache(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_apply_stats as = {0};
    struct err err = {0};
    json_t *disc = model_for(ACCT, REG, "vpc-1"), *unmapped = NULL, *other;
    char d1[65] = "", d2[65] = "";
    const char *fake = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    long vpcs = -1;
    int64_t run = 0;
    sqlite3 *db;

    CHECK(st != NULL);
    if (st == NULL) {
        json_decref(disc);
        return;
    }
    CHECK(store_run_begin(st, T0, &run, &err) == 0);
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", disc) == 0);
    CHECK(store_stage_part(st, 7, ACCT, REG, "rules-1", "{}", 0, &err) == 0);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d1, &err) == 0); /* before applying */
    CHECK(apply_staged(st, run, T0 + 1, NULL, 0, &as) == 0);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d2, &err) == 0); /* made by the apply */
    CHECK_STR(d2, d1);
    db = raw(path);
    {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT models_digest = '%s' FROM targets", d1);
        CHECK_INT(raw_int(db, sql), 1); /* kept for the next, reused read */
        CHECK(sqlite3_exec(db, "UPDATE targets SET models_digest = NULL", NULL, NULL, NULL) ==
              SQLITE_OK);
    }

    /* reused: computed from the snapshots once, then kept */
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(store_stage_reuse(st, 7, ACCT, REG, &vpcs, &unmapped, &err) == 0);
    json_decref(unmapped);
    unmapped = NULL;
    CHECK(store_stage_part(st, 7, ACCT, REG, "rules-1", "{}", 1, &err) == 0);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d2, &err) == 0);
    CHECK_STR(d2, d1);
    {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT models_digest = '%s' FROM targets", d1);
        CHECK_INT(raw_int(db, sql), 1);
    }
    /* the kept digest is what a reused read gets (not the texts hashed again) */
    {
        char sql[256];
        snprintf(sql, sizeof(sql), "UPDATE targets SET models_digest = '%s'", fake);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    }
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d2, &err) == 0);
    CHECK_STR(d2, fake);
    CHECK(apply_staged(st, run, T0 + 2, NULL, 0, &as) == 0); /* reused: kept */
    CHECK_INT(raw_int(db, "SELECT length(models_digest) FROM targets"), 64);

    /* a fresh read replaces the snapshots: forgotten, and hashed from the texts */
    other = model_for(ACCT, REG, "vpc-1");
    json_array_remove(json_object_get(other, "components"), 0);
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", other) == 0);
    CHECK(store_stage_part(st, 7, ACCT, REG, "rules-1", "{}", 0, &err) == 0);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d2, &err) == 0);
    CHECK(strcmp(d2, fake) != 0 && strcmp(d2, d1) != 0);
    CHECK(apply_staged(st, run, T0 + 3, NULL, 0, &as) == 0);
    {
        char sql[256], d3[65] = "";
        snprintf(sql, sizeof(sql), "SELECT models_digest = '%s' FROM targets", d2);
        CHECK_INT(raw_int(db, sql), 1);
        CHECK(store_staged_models_digest(st, 7, ACCT, REG, d3, &err) == 0);
        CHECK_STR(d3, d2);
    }

    /* store_apply_target replaces them too */
    CHECK(sqlite3_exec(db, "UPDATE targets SET models_digest = 'x'", NULL, NULL, NULL) ==
          SQLITE_OK);
    {
        json_t *d = one("vpc-1", json_incref(disc));
        CHECK(apply(st, run, T0 + 4, d, NULL) == 0);
        json_decref(d);
    }
    CHECK_INT(raw_int(db, "SELECT models_digest IS NULL FROM targets"), 1);
    sqlite3_close(db);
    json_decref(other);
    json_decref(disc);
    store_close(st);
    unlink(path);
}

static void
test_stage_reuse(void)
{
    char path[512];
    struct store *st = open_new(path, sizeof(path));
    struct store_apply_stats as = {0};
    struct store_vpc_ref v = ref(ACCT, REG, "vpc-1");
    struct err err = {0};
    json_t *disc = model_for(ACCT, REG, "vpc-1"), *fewer = NULL, *row, *unmapped = NULL;
    json_t *link1 = NULL, *link2 = NULL;
    char d1[65] = "", d2[65] = "", attr[] = "tags.*";
    struct cfg_ignore ig = {.attribute = attr};
    long vpcs = -1;
    int64_t run = 0;
    sqlite3 *db;

    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(store_run_begin(st, T0, &run, &err) == 0);
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(stage_one(st, 7, "vpc-1", disc) == 0);
    CHECK(apply_staged(st, run, T0 + 1, NULL, 0, &as) == 0);
    CHECK(store_model_put(st, &v, disc, "create", T0 + 2, NULL, 0, &err) == 0);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d1, &err) == 0);
    CHECK(link_docs(st, 7, &link1, NULL, &err) == 0);

    /* reused: the same digest and linking view as the text staged afresh */
    CHECK(store_stage_reset(st, &err) == 0);
    CHECK(store_stage_reuse(st, 7, ACCT, REG, &vpcs, &unmapped, &err) == 0);
    CHECK_INT(vpcs, 1);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d2, &err) == 0);
    CHECK_STR(d2, d1);
    CHECK(link_docs(st, 7, &link2, NULL, &err) == 0);
    CHECK(link1 != NULL && link2 != NULL && json_equal(link1, link2));
    /* same reconcile inputs: only touched, still green */
    apply_expect(st, run, T0 + 3, NULL, 0, 1, "green");
    /* other ignores: diffed again from the stored snapshot, then only touched */
    apply_expect(st, run, T0 + 4, &ig, 1, 0, "green");
    apply_expect(st, run, T0 + 5, &ig, 1, 1, NULL);
    /* a saved model without the first component: the put reconciles (red),
     * a reused read with the same inputs only touches; with other ignores
     * the reused snapshot is diffed again, and it still has the component */
    fewer = json_deep_copy(disc);
    json_array_remove(json_object_get(fewer, "components"), 0);
    CHECK(store_model_put(st, &v, fewer, "edit", T0 + 6, NULL, 0, &err) == 0);
    apply_expect(st, run, T0 + 7, NULL, 0, 1, "red");
    apply_expect(st, run, T0 + 7, &ig, 1, 0, "red");
    row = status_row(st, "vpc-1");
    CHECK(ifield(row, "only_in_vpc") > 0);
    json_decref(row);
    /* the snapshot is not rewritten by a reused read */
    db = raw(path);
    CHECK_INT(raw_int(db, "SELECT discovered_at FROM discovered WHERE vpc_id = 'vpc-1'"), T0 + 1);

    /* the snapshot gone under a staged reuse: every reader fails, naming it */
    CHECK(sqlite3_exec(db, "DELETE FROM discovered WHERE vpc_id = 'vpc-1'", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    CHECK(store_staged_models_digest(st, 7, ACCT, REG, d2, &err) < 0);
    CHECK_CONTAINS(err.msg, "the reused snapshot of vpc-1 is gone");
    err_clear(&err);
    json_decref(link2);
    link2 = NULL;
    CHECK(link_docs(st, 7, &link2, NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "the reused snapshot of vpc-1 is gone");
    err_clear(&err);
    CHECK(store_apply_staged(st, run, T0 + 8, 7, ACCT, REG, NULL, 0, &as, &err) < 0);
    CHECK_CONTAINS(err.msg, "the reused snapshot of " ACCT "/" REG "/vpc-1 is gone");
    row = status_row(st, "vpc-1");
    CHECK_STR(sfield(row, "status"), "red");
    json_decref(row);

    /* NULL stands for a reused snapshot only: store_stage_models refuses it */
    err_clear(&err);
    {
        struct store_staged_model none = {"vpc-2", "prod", NULL, NULL};

        CHECK(store_stage_models(st, 7, ACCT, REG, &none, 1, NULL, &err) < 0);
        CHECK_CONTAINS(err.msg, "no model text for VPC 'vpc-2'");
    }

    json_decref(disc);
    json_decref(fewer);
    json_decref(unmapped);
    json_decref(link1);
    json_decref(link2);
    store_vpc_ref_clear(&v);
    store_close(st);
}

int
main(int argc, char **argv)
{
    char path[512];
    json_error_t jerr;
    const char *tmp = getenv("TMPDIR");

    if (argc < 2) {
        fprintf(stderr, "usage: test_store DATADIR\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/model.json", argv[1]);
    base_model = json_load_file(path, 0, &jerr);
    if (base_model == NULL) {
        fprintf(stderr, "%s: %s\n", path, jerr.text);
        return 2;
    }
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_store.XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_open_and_refuse(argv[1]);
    test_runs();
    test_lifecycle();
    test_models();
    test_resolve_and_filters();
    test_transactions();
    test_metacharacters();
    test_identity_collision();
    test_tamper();
    test_staging();
    test_stage_reuse();
    test_stage_reset();
    test_page_size();
    test_stage_link();
    test_models_sum();
    test_models_digest_cache();
    json_decref(base_model);
    remove_tmpdir();
    TEST_END();
}
