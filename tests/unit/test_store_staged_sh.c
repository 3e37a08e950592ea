/*
 * test_store_staged_sh.c: the staged mode of store_compliance_apply
 * (store_sh_read.staged: the commit reads the staged summary texts itself)
 * against its tree mode (.summaries), differentially: two stores get the
 * same sequence of reads, one as jansson trees, one staged as the texts
 * the worker stages (store_stage_findings), and after every step their
 * sh_findings, compliance_status, compliance_events and sh_targets tables
 * must hold the same rows byte for byte, and the events handed back must
 * be the same.
 *
 * Summaries: the hand-written ones of tests/data/compliance (argv[1]/..),
 * changed per step. Steps: a full read holding an archived finding and a
 * finding twice (the reload path), with the judgement handed back; an
 * incremental read with changes (status flips, an archive, a new finding,
 * one twice); an incremental read that brought nothing (the verdicts
 * stand); a full read without duplicates (judged from the read itself);
 * an incremental read after the catalogue changed (whole re-judge from the
 * stored texts); the hub turned off. Stored texts are the staged texts as
 * they are. Failures: a staged text that is not JSON, or not a summary,
 * fails the apply naming it and leaves the store as it was; staged mode
 * with summaries given is refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "store/compliance.h"
#include "store/store.h"
#include "testutil.h"

#define ACCT "111111111111"
#define REG  "us-east-1"
#define TARGET 3

static const char *datadir;
static char tmpdir[256];

static json_t *
load(const char *name)
{
    char path[1024];
    json_error_t jerr;
    json_t *doc;

    snprintf(path, sizeof(path), "%s/../compliance/%s", datadir, name);
    doc = json_load_file(path, 0, &jerr);
    if (doc == NULL)
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
    return doc;
}

struct pair {
    struct store *tree, *staged;
    char tree_path[300], staged_path[300];
    json_t *catalogue, *models;
    time_t now;
};

/* Every row of the table (query) as one text, NULLs marked. */
static char *
table_text(const char *path, const char *query)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (f == NULL)
        return NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, query, -1, &s, NULL) != SQLITE_OK) {
        fprintf(f, "error: %s", db != NULL ? sqlite3_errmsg(db) : "open");
    } else {
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(s); i++) {
                const unsigned char *t = sqlite3_column_text(s, i);
                fprintf(f, "%s|", t != NULL ? (const char *)t : "<NULL>");
            }
            fputc('\n', f);
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    fclose(f);
    return out;
}

static const char *const tables[] = {
    "SELECT * FROM sh_findings ORDER BY account_id, region, finding_id",
    "SELECT * FROM compliance_status ORDER BY account_id, region, standard, control_id",
    "SELECT * FROM compliance_events ORDER BY id",
    "SELECT * FROM sh_targets ORDER BY account_id, region",
};

/* The four tables of both stores hold the same rows. */
static void
same_tables(const struct pair *p, const char *step)
{
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char *a = table_text(p->tree_path, tables[i]);
        char *b = table_text(p->staged_path, tables[i]);

        CHECK_MSG(a != NULL && b != NULL && strcmp(a, b) == 0, "%s: %s differs:\n tree   %.600s\n staged %.600s",
            step, tables[i], a ? a : "(null)", b ? b : "(null)");
        free(a);
        free(b);
    }
}

static long
count_rows(const char *path, const char *query)
{
    char *t = table_text(path, query);
    long n = 0;

    for (const char *c = t; c != NULL && *c != '\0'; c++)
        n += *c == '\n';
    free(t);
    return n;
}

/* One read through both modes; texts are the summaries as staged.
 * hub 0: the hub is off. judged: ask for the judgement back too. */
static void
step(struct pair *p, const char *name, char **texts, size_t n, int full, int hub, int judged)
{
    json_t *trees = json_array(), *ev1 = json_array(), *ev2 = json_array();
    json_t *j1 = NULL, *j2 = NULL;
    struct err e1 = {0}, e2 = {0};
    int64_t run1 = 0, run2 = 0;
    int r1, r2;

    p->now += 3600;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(trees, jsonr_loads(texts[i], 0, NULL));
    CHECK(store_run_begin(p->tree, p->now, &run1, &e1) == 0);
    CHECK(store_run_begin(p->staged, p->now, &run2, &e2) == 0);
    CHECK(run1 == run2);
    CHECK_MSG(store_stage_reset(p->staged, &e2) == 0, "%s", e2.msg);
    if (n > 0)
        CHECK_MSG(store_stage_findings(p->staged, TARGET, texts, n, &e2) == 0, "%s", e2.msg);
    /* another target's staged texts are not this one's */
    {
        char other[] = "{\"not\":\"a summary\"}";
        char *o[] = {other};
        CHECK(store_stage_findings(p->staged, TARGET + 1, o, 1, &e2) == 0);
    }
    {
        struct store_sh_read a = {
            .hub_enabled = hub, .full = full, .read_until = p->now,
            .catalogue = p->catalogue, .summaries = trees, .models = p->models,
        };
        struct store_sh_read b = a;

        b.summaries = NULL;
        b.staged = 1;
        b.staged_target = TARGET;
        r1 = store_compliance_apply(p->tree, run1, p->now, ACCT, REG, &a, ev1,
            judged ? &j1 : NULL, &e1);
        r2 = store_compliance_apply(p->staged, run2, p->now, ACCT, REG, &b, ev2,
            judged ? &j2 : NULL, &e2);
    }
    CHECK_MSG(r1 == 0, "%s tree: %s", name, e1.msg);
    CHECK_MSG(r2 == 0, "%s staged: %s", name, e2.msg);
    {
        char *x = json_dumps(ev1, JSON_COMPACT), *y = json_dumps(ev2, JSON_COMPACT);
        CHECK_MSG(x != NULL && y != NULL && strcmp(x, y) == 0, "%s events: %s vs %s", name, x,
            y);
        free(x);
        free(y);
    }
    if (judged) {
        char *x = json_dumps(j1, JSON_COMPACT), *y = json_dumps(j2, JSON_COMPACT);
        CHECK_MSG(x != NULL && y != NULL && strcmp(x, y) == 0, "%s judged", name);
        free(x);
        free(y);
    }
    CHECK(store_run_finish(p->tree, run1, p->now, "ok", NULL, NULL, NULL, &e1) == 0);
    CHECK(store_run_finish(p->staged, run2, p->now, "ok", NULL, NULL, NULL, &e2) == 0);
    same_tables(p, name);
    json_decref(trees);
    json_decref(ev1);
    json_decref(ev2);
    json_decref(j1);
    json_decref(j2);
}

/* texts[i] with a field set to a new value (a JSON text). */
static char *
with(const char *text, const char *key, const char *value)
{
    json_t *j = jsonr_loads(text, 0, NULL);
    char *out;

    json_object_set_new(j, key, jsonr_loads(value, JSON_DECODE_ANY, NULL));
    out = jsonw_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

struct texts {
    char *v[64];
    size_t n;
};

static void
add(struct texts *t, char *owned)
{
    if (t->n < sizeof(t->v) / sizeof(t->v[0]))
        t->v[t->n++] = owned;
    else
        free(owned);
}

static void
clear(struct texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    t->n = 0;
}

static void
test_modes(void)
{
    struct pair p = {0};
    struct err err = {0};
    json_t *sums = load("summaries.json"), *models = load("models.json"), *s;
    struct texts base = {0}, t = {0};
    size_t i;

    p.catalogue = load("catalogue.json");
    CHECK(sums != NULL && models != NULL && p.catalogue != NULL);
    if (sums == NULL || models == NULL || p.catalogue == NULL)
        goto out;
    p.models = json_object();
    json_object_set(p.models, "vpc-1", json_array_get(models, 0));
    snprintf(p.tree_path, sizeof(p.tree_path), "%s/tree.db", tmpdir);
    snprintf(p.staged_path, sizeof(p.staged_path), "%s/staged.db", tmpdir);
    CHECK(store_open(p.tree_path, &p.tree, &err) == 0);
    CHECK(store_open(p.staged_path, &p.staged, &err) == 0);
    if (p.tree == NULL || p.staged == NULL)
        goto out;
    p.now = 1790000000;
    json_array_foreach(sums, i, s)
        add(&base, jsonw_dumps(s, JSON_COMPACT));

    /* 1. full read: an archived finding (f05), f01 twice (the second wins) */
    for (i = 0; i < base.n; i++)
        add(&t, strdup(base.v[i]));
    add(&t, with(base.v[0], "status", "\"PASSED\""));
    step(&p, "full with a duplicate", t.v, t.n, 1, 1, 1);
    CHECK_INT((int)count_rows(p.staged_path, "SELECT 1 FROM sh_findings"), 18);
    /* the stored texts are the staged ones as they are */
    {
        char *rows = table_text(p.staged_path,
            "SELECT summary FROM sh_findings WHERE finding_id = 'f02'");
        CHECK(rows != NULL && strncmp(rows, base.v[1], strlen(base.v[1])) == 0);
        free(rows);
    }
    clear(&t);

    /* 2. incremental with changes: flips, an archive, a new one, one twice */
    add(&t, with(base.v[1], "status", "\"FAILED\""));           /* f02 PASSED -> FAILED */
    add(&t, with(base.v[10], "record_state", "\"ARCHIVED\""));  /* f11 goes */
    add(&t, with(base.v[13], "workflow", "\"SUPPRESSED\""));    /* f14 suppressed */
    {
        char *renamed = with(base.v[0], "id", "\"f40\"");         /* new */

        add(&t, with(renamed, "control_ids", "{\"cis-1.2\":[\"1.22\"]}"));
        free(renamed);
    }
    add(&t, with(base.v[6], "status", "\"PASSED\""));           /* f07 twice: */
    add(&t, with(base.v[6], "status", "\"FAILED\""));           /* the last stands */
    step(&p, "incremental with changes", t.v, t.n, 0, 1, 0);
    clear(&t);

    /* 3. incremental that brought nothing: the verdicts stand */
    step(&p, "incremental, nothing new", NULL, 0, 0, 1, 0);

    /* 4. full read without duplicates: judged from the read itself */
    for (i = 2; i < base.n; i++)
        add(&t, strdup(base.v[i]));
    step(&p, "full without duplicates", t.v, t.n, 1, 1, 0);
    clear(&t);

    /* 5. the catalogue changed: an incremental read re-judges the whole
     * stored set (read back as texts) */
    {
        json_t *ctl = json_array_get(json_object_get(json_object_get(p.catalogue, "cis-1.2"),
                                         "controls"), 0);
        json_object_set_new(ctl, "status", json_string("DISABLED"));
    }
    add(&t, with(base.v[3], "workflow", "\"NEW\""));
    step(&p, "incremental after a catalogue change", t.v, t.n, 0, 1, 0);
    clear(&t);

    /* 6. the hub turned off */
    step(&p, "hub off", NULL, 0, 1, 0, 0);
    CHECK_INT((int)count_rows(p.staged_path, "SELECT 1 FROM sh_findings"), 0);

    /* 7. back on with a full read */
    for (i = 0; i < base.n; i++)
        add(&t, strdup(base.v[i]));
    step(&p, "full again", t.v, t.n, 1, 1, 0);
    clear(&t);

    /* failures: the store stays as it was */
    {
        static const char *const bad[] = {
            "{\"id\":\"f01\",\"title\":\"cut he",
            "{\"id\":\"f77\",\"account_id\":\"111111111111\"}",
        };
        static const char *const want[] = {
            "store: staged finding summary: compliance: summary 3 is not JSON: unexpected end "
            "of text at byte 27 of 27",
            "store: staged finding summary: compliance: summary 3 ('f77') is not a finding "
            "summary",
        };

        for (size_t b = 0; b < 2; b++) {
            char *before = table_text(p.staged_path, tables[0]), *after;
            int64_t run = 0;

            add(&t, strdup(base.v[4]));
            add(&t, strdup(base.v[5]));
            add(&t, strdup(bad[b]));
            CHECK(store_run_begin(p.staged, p.now, &run, &err) == 0);
            CHECK(store_stage_reset(p.staged, &err) == 0);
            CHECK(store_stage_findings(p.staged, TARGET, t.v, t.n, &err) == 0);
            for (int full = 0; full < 2; full++) {
                struct store_sh_read rd = {.hub_enabled = 1, .full = full, .read_until = p.now,
                    .catalogue = p.catalogue, .models = p.models, .staged = 1,
                    .staged_target = TARGET};

                CHECK(store_compliance_apply(p.staged, run, p.now, ACCT, REG, &rd, NULL, NULL,
                          &err) < 0);
                CHECK_CONTAINS(err.msg, want[b]);
                CHECK_INT(err.kind, ERR_INTERNAL);
            }
            after = table_text(p.staged_path, tables[0]);
            CHECK(before != NULL && after != NULL && strcmp(before, after) == 0);
            free(before);
            free(after);
            clear(&t);
        }
        /* staged with summaries given too: refused */
        {
            json_t *none = json_array();
            struct store_sh_read rd = {.hub_enabled = 1, .full = 1, .catalogue = p.catalogue,
                .summaries = none, .staged = 1, .staged_target = TARGET};

            CHECK(store_compliance_apply(p.staged, 1, p.now, ACCT, REG, &rd, NULL, NULL, &err) <
                  0);
            CHECK_CONTAINS(err.msg, "catalogue or summaries missing");
            json_decref(none);
        }
    }
out:
    clear(&base);
    clear(&t);
    store_close(p.tree);
    store_close(p.staged);
    json_decref(sums);
    json_decref(models);
    json_decref(p.catalogue);
    json_decref(p.models);
}

int
main(int argc, char **argv)
{
    char cmd[400];

    if (argc < 2) {
        fprintf(stderr, "usage: %s DATADIR [SHAREDDIR]\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_store_staged_sh.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_modes();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_END();
}
