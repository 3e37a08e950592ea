/*
 * store/compliance.c: SQL for the compliance tables (see compliance.h and
 * the schema in store_int.h). Like store.c, every statement is prepared
 * with bound parameters and every public write runs in its own transaction
 * or a savepoint of the caller's. Control rows are compared by (standard,
 * control_id); a row whose status is unchanged keeps its `since` and only
 * gets the new details (resources, components, counts, checked_at).
 *
 * A read's summaries are the texts the worker staged (rd->staged_target),
 * which the commit reads itself row by row into the judge's set
 * (compliance_sums_add_row) and stores as they are, so a commit builds no
 * tree per finding (parsing, freeing and re-dumping them was most of its
 * CPU); the stored ones it reads back (a reload, an incremental re-judge)
 * are read the same way. Texts are in the row form (mapping/compliance.h,
 * compliance_row): the finding id is the row's column, account and region
 * the target's unless the text names others, and a text of the earlier,
 * whole form reads the same; the one reader of trees (load_findings) puts
 * the left-out fields back.
 */
#include "store/compliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "daemon/jsonw.h"
#include "daemon/util.h"
#include "mapping/compliance.h"
#include "providers/aws/securityhub.h"
#include "store/store.h"
#include "store/store_int.h"

/* ---- helpers (SQL: store.c's, through store_int.h) ---- */

static int
sqlfail(struct store *st, struct err *err)
{
    return err_set(err, ERR_STORE, "%s", sqlite3_errmsg(st->db));
}

static int
ctx_fail(struct err *err, const char *op)
{
    if (err->kind == ERR_STORE && strncmp(err->msg, "store: ", 7) != 0)
        return err_prefix(err, "store: %s", op);
    return -1;
}

static int
check_target(const char *account_id, const char *region, struct err *err)
{
    if (account_id == NULL || strlen(account_id) != 12 || region == NULL || region[0] == '\0')
        return err_set(err, ERR_CONFIG, "store: compliance: bad target '%s/%s'",
            account_id ? account_id : "(null)", region ? region : "(null)");
    return 0;
}

/* ---- state ---- */

static int
style_from_text(const char *t)
{
    if (t != NULL && strcmp(t, "legacy") == 0)
        return SH_STYLE_LEGACY;
    if (t != NULL && strcmp(t, "consolidated") == 0)
        return SH_STYLE_CONSOLIDATED;
    return SH_STYLE_UNKNOWN;
}

int
store_sh_state_get(struct store *st, const char *account_id, const char *region,
    struct store_sh_state *ret, struct err *err)
{
    struct store_sh_state out = {0};
    sqlite3_stmt *s = NULL;
    int rc;

    if (check_target(account_id, region, err) < 0)
        return -1;
    if (store_sql_prep(st, &s, err,
            "SELECT hub, last_read_at, last_full_at, findings, style FROM sh_targets"
            " WHERE account_id = ? AND region = ?",
            "ss", account_id, region) < 0)
        return ctx_fail(err, "reading the Security Hub state");
    rc = store_sql_step(st, s, err);
    if (rc == 1) {
        out.known = 1;
        out.hub_enabled = strcmp((const char *)sqlite3_column_text(s, 0), "enabled") == 0;
        out.last_read_at = (time_t)sqlite3_column_int64(s, 1);
        out.last_full_at = (time_t)sqlite3_column_int64(s, 2);
        out.findings = (long)sqlite3_column_int64(s, 3);
        out.style = style_from_text((const char *)sqlite3_column_text(s, 4));
    }
    store_sql_finish(st, s);
    if (rc < 0)
        return ctx_fail(err, "reading the Security Hub state");
    *ret = out;
    return 0;
}

/* ---- apply ---- */

static int
ensure_target(struct store *st, const char *account_id, const char *region, struct err *err)
{
    sqlite3_stmt *s = NULL;

    if (store_sql_prep(st, &s, err,
                       "INSERT OR IGNORE INTO sh_targets (account_id, region) VALUES (?, ?)", "ss",
                       account_id, region) < 0)
        return -1;
    return store_sql_run(st, s, err);
}

static int
load_findings(struct store *st, const char *account_id, const char *region, json_t **ret,
    struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *arr = json_array(), *j = NULL;
    int rc;

    if (arr == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    if (store_sql_prep(st, &s, err,
            "SELECT summary, finding_id FROM sh_findings WHERE account_id = ? AND region = ?"
            " ORDER BY finding_id",
            "ss", account_id, region) < 0) {
        json_decref(arr);
        return -1;
    }
    while ((rc = store_sql_step(st, s, err)) == 1) {
        struct compliance_row row = {.id = (const char *)sqlite3_column_text(s, 1),
            .account_id = account_id, .region = region};

        if (store_sql_col_json(s, 0, "stored finding summary", &j, err) < 0) {
            rc = -1;
            break;
        }
        /* as the summariser made it: the row form leaves some of it out */
        if (json_array_append_new(arr, j) < 0 || compliance_row_fill(j, &row, err) < 0) {
            err_set(err, ERR_INTERNAL, "store: out of memory");
            rc = -1;
            break;
        }
    }
    store_sql_finish(st, s);
    if (rc < 0) {
        json_decref(arr);
        return -1;
    }
    *ret = arr;
    return 0;
}

/* The number of summaries rd brought (its staged texts). */
static int
read_count(struct store *st, const struct store_sh_read *rd, int64_t *ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    int r;

    if (store_sql_prep(st, &s, err, "SELECT count(*) FROM stage.stage_findings WHERE target = ?",
            "i", rd->staged_target) < 0)
        return -1;
    r = store_sql_step(st, s, err);
    *ret = r == 1 ? sqlite3_column_int64(s, 0) : 0;
    store_sql_finish(st, s);
    return r < 0 ? -1 : 0;
}

/* Reads the summary text in column 0 of row s into set, a row of the
 * target account_id/region whose finding id is column 1 when that is not
 * NULL (the row form: mapping/compliance.h, compliance_row); what names
 * the text in errors. *ret_id and *ret_active as compliance_sums_add_row. */
static int
add_column(sqlite3_stmt *s, const char *account_id, const char *region,
    struct compliance_sums *set, const char *what, const char **ret_id, int *ret_active,
    struct err *err)
{
    const char *text = (const char *)sqlite3_column_text(s, 0);
    int len = sqlite3_column_bytes(s, 0);
    struct compliance_row row = {.id = (const char *)sqlite3_column_text(s, 1),
        .account_id = account_id, .region = region};

    if (text == NULL)
        return err_set(err, ERR_INTERNAL, "store: %s %zu is NULL", what,
            compliance_sums_count(set) + 1);
    if (compliance_sums_add_row(set, text, (size_t)len, &row, ret_id, ret_active, err) < 0)
        return err_prefix(err, "store: %s", what);
    return 0;
}

/* Merges (or, for a full read, replaces) the stored summaries with the
 * staged texts: each text read into keep (when not NULL: the read's set,
 * for the judge) or into a set of its own, stored as it is when ACTIVE
 * (the summariser's compact dump), its stored row deleted when an
 * incremental read brought it ARCHIVED. *ret_active gets the number of
 * ACTIVE summaries written. */
static int
store_findings(struct store *st, const char *account_id, const char *region,
    const struct store_sh_read *rd, struct compliance_sums *keep, size_t *ret_active,
    struct err *err)
{
    sqlite3_stmt *s = NULL, *sel = NULL, *ins = NULL, *del = NULL;
    struct compliance_sums *set = keep;
    size_t active = 0;
    int rc = -1, r;

    if (rd->full || !rd->hub_enabled) {
        if (store_sql_prep(st, &s, err,
                           "DELETE FROM sh_findings WHERE account_id = ? AND region = ?", "ss",
                           account_id, region) < 0 ||
            store_sql_run(st, s, err) < 0)
            return -1;
    }
    *ret_active = 0;
    if (!rd->hub_enabled)
        return 0;
    if (set == NULL && compliance_sums_new(&set, err) < 0)
        return -1;
    if (store_sql_prep(st, &ins, err,
            "INSERT OR REPLACE INTO sh_findings (account_id, region, finding_id, summary,"
            " updated_at) VALUES (?, ?, ?, ?, NULL)",
            "ss", account_id, region) < 0 ||
        store_sql_prep(st, &del, err,
            "DELETE FROM sh_findings WHERE account_id = ? AND region = ? AND finding_id = ?",
            "ss", account_id, region) < 0 ||
        store_sql_prep(st, &sel, err,
            "SELECT summary, finding_id FROM stage.stage_findings WHERE target = ? ORDER BY id",
            "i", rd->staged_target) < 0)
        goto out;
    while ((r = store_sql_step(st, sel, err)) == 1) {
        const char *id = NULL;
        int is_active = 0;
        sqlite3_stmt *use;

        if (add_column(sel, account_id, region, set, "staged finding summary", &id, &is_active,
                err) < 0)
            goto out;
        if (!is_active) {
            if (rd->full)
                continue;
            use = del;
        } else {
            use = ins;
            active++;
        }
        sqlite3_reset(use);
        /* both stay valid until sel steps again: after use has run */
        if ((use == ins && sqlite3_bind_text(ins, 4, (const char *)sqlite3_column_text(sel, 0),
                               sqlite3_column_bytes(sel, 0), SQLITE_STATIC) != SQLITE_OK) ||
            sqlite3_bind_text(use, 3, id, -1, SQLITE_STATIC) != SQLITE_OK) {
            sqlfail(st, err);
            goto out;
        }
        if (store_sql_step(st, use, err) < 0)
            goto out;
    }
    if (r < 0)
        goto out;
    *ret_active = active;
    rc = 0;
out:
    store_sql_finish(st, sel);
    store_sql_finish(st, ins);
    store_sql_finish(st, del);
    if (set != keep)
        compliance_sums_free(set);
    return rc;
}

/* load_findings as a set read from the stored texts (no trees). */
static int
load_findings_set(struct store *st, const char *account_id, const char *region,
    struct compliance_sums **ret, struct err *err)
{
    struct compliance_sums *set = NULL;
    sqlite3_stmt *s = NULL;
    int rc;

    if (compliance_sums_new(&set, err) < 0)
        return -1;
    if (store_sql_prep(st, &s, err,
            "SELECT summary, finding_id FROM sh_findings WHERE account_id = ? AND region = ?"
            " ORDER BY finding_id",
            "ss", account_id, region) < 0) {
        compliance_sums_free(set);
        return -1;
    }
    while ((rc = store_sql_step(st, s, err)) == 1) {
        if (add_column(s, account_id, region, set, "stored finding summary", NULL, NULL, err) <
            0) {
            rc = -1;
            break;
        }
    }
    store_sql_finish(st, s);
    if (rc < 0) {
        compliance_sums_free(set);
        return -1;
    }
    *ret = set;
    return 0;
}

/* failing_components over the link texts rd->models_load_texts gives. */
static int
failing_components_texts(const struct compliance_sums *set, const struct store_sh_read *rd,
    const char *account_id, json_t **ret, struct err *err)
{
    struct store_link_texts t = {0};
    struct compliance_link_doc *docs = NULL, acct;
    int rc = -1;

    if (rd->models_load_texts(rd->models_ctx, &t, err) < 0)
        goto out;
    if (t.n > 0 && (docs = calloc(t.n, sizeof(*docs))) == NULL) {
        err_set(err, ERR_INTERNAL, "store: out of memory");
        goto out;
    }
    for (size_t i = 0; i < t.n; i++) {
        docs[i].text = t.buf + t.off[i];
        docs[i].len = t.len[i];
    }
    if (t.has_account) {
        acct.text = t.buf + t.off[t.n];
        acct.len = t.len[t.n];
    }
    rc = compliance_failing_components_texts(set, docs, t.n, t.has_account ? &acct : NULL,
        account_id, ret, err);
out:
    free(docs);
    store_link_texts_clear(&t);
    return rc;
}

/* {"STANDARD\tCONTROL": [{"vpc_id","key"}]} for counted FAILED links
 * (compliance_failing_components over the run's models). */
static int
failing_components(const struct compliance_sums *set, const struct store_sh_read *rd,
    const char *account_id, json_t **ret, struct err *err)
{
    json_t *models, *m;
    json_t *docs = rd->models, *account_doc = rd->account_model;
    int rc;

    /* models given by digest are read only now, and only when linking
     * reads them (some finding counts as FAILED) */
    if (docs == NULL && rd->models_load_texts != NULL &&
        (rc = compliance_links_models_sums(set, err)) != 0) {
        if (rc < 0)
            return -1;
        return failing_components_texts(set, rd, account_id, ret, err);
    }
    rc = -1;
    if ((models = json_array()) == NULL) {
        err_set(err, ERR_INTERNAL, "store: out of memory");
        goto out;
    }
    if (docs != NULL) {
        const char *vpc;
        json_object_foreach(docs, vpc, m)
            json_array_append(models, m);
    }
    if (account_doc != NULL && json_is_object(account_doc) &&
        json_object_get(account_doc, "account_id") != NULL)
        json_array_append(models, account_doc);
    rc = compliance_failing_components_sums(set, models, account_id, ret, err);
out:
    json_decref(models);
    return rc;
}

static int
add_event(json_t *events, int64_t run_id, time_t now, const char *account_id,
    const char *region, const char *standard, const char *control, const char *old_status,
    const char *new_status)
{
    char ts[21], target[80];

    if (events == NULL)
        return 0;
    util_time_rfc3339(now, ts);
    snprintf(target, sizeof(target), "%s/%s", account_id, region);
    return json_array_append_new(events,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:I}", "target", target,
            "account_id", account_id, "region", region, "standard", standard, "control", control,
            "old", old_status, "new", new_status, "time", ts, "run", (json_int_t)run_id));
}

static int
record_event(struct store *st, int64_t run_id, time_t now, const char *account_id,
    const char *region, const char *standard, const char *control, const char *old_status,
    const char *new_status, json_t *events, struct err *err)
{
    sqlite3_stmt *s = NULL;

    if (store_sql_prep(st, &s, err,
            "INSERT INTO compliance_events (at, run_id, account_id, region, standard, control_id,"
            " old_status, new_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            "iIssssss", (int64_t)now, run_id, account_id, region, standard, control, old_status,
            new_status) < 0 ||
        store_sql_run(st, s, err) < 0)
        return -1;
    if (add_event(events, run_id, now, account_id, region, standard, control, old_status,
            new_status) < 0)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    return 0;
}

/* Upserts the verdicts; records an event per change; deletes (with an
 * event) the stored controls the verdicts no longer hold. only (NULL: all)
 * restricts the deletions to its controls ("STANDARD\tCONTROL" keys): an
 * incremental re-judge judged those and no other. */
static int
apply_verdicts(struct store *st, int64_t run_id, time_t now, const char *account_id,
    const char *region, json_t *judged, json_t *comps, json_t *only, json_t *events,
    struct err *err)
{
    sqlite3_stmt *s = NULL, *sel = NULL;
    json_t *seen = json_object(), *empty = json_array(), *sv, *c;
    const char *std;
    size_t i;
    int rc = -1, r;

    if (seen == NULL || empty == NULL) {
        json_decref(seen);
        json_decref(empty);
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    }
    json_object_foreach(judged, std, sv) {
        json_array_foreach(json_object_get(sv, "controls"), i, c) {
            const char *ctl = json_string_value(json_object_get(c, "control_id"));
            const char *status = json_string_value(json_object_get(c, "status"));
            char *old = NULL, k[256];
            json_t *cl;

            if (ctl == NULL || status == NULL) {
                err_set(err, ERR_INTERNAL, "store: verdict %zu of %s lacks control_id/status",
                    i + 1, std);
                goto out;
            }
            snprintf(k, sizeof(k), "%s\t%s", std, ctl);
            json_object_set_new(seen, k, json_true());
            cl = json_object_get(comps, k);
            if (sel == NULL && store_sql_prep(st, &sel, err,
                                  "SELECT status FROM compliance_status WHERE account_id = ?"
                                  " AND region = ? AND standard = ? AND control_id = ?",
                                  "ss", account_id, region) < 0)
                goto out;
            sqlite3_reset(sel);
            if (sqlite3_bind_text(sel, 3, std, -1, SQLITE_STATIC) != SQLITE_OK ||
                sqlite3_bind_text(sel, 4, ctl, -1, SQLITE_STATIC) != SQLITE_OK) {
                sqlfail(st, err);
                goto out;
            }
            r = store_sql_step(st, sel, err);
            if (r == 1 && (old = strdup((const char *)sqlite3_column_text(sel, 0))) == NULL) {
                err_set(err, ERR_INTERNAL, "store: out of memory");
                goto out;
            }
            sqlite3_reset(sel);
            if (r < 0)
                goto out;
            int changed = old == NULL || strcmp(old, status) != 0, existed = old != NULL;
            if (changed && record_event(st, run_id, now, account_id, region, std, ctl, old,
                               status, events, err) < 0) {
                free(old);
                goto out;
            }
            free(old);
            /* an INSERT or an UPDATE as the row is there or not, not an
             * upsert: SQLite copies the pages an upsert writes into a
             * statement journal first (58 MB for 2k verdicts at 100k) */
            if (store_sql_prep(
                    st, &s, err,
                    existed
                        ? "UPDATE compliance_status SET"
                          " title = ?5, severity = ?7, failed_resources = ?8,"
                          " suppressed_resources = ?9, components = ?10, findings = ?11,"
                          " suppressed = ?12, checked_at = ?13, checked_run = ?14,"
                          " since = CASE WHEN status = ?6 THEN since ELSE ?13 END,"
                          " since_run = CASE WHEN status = ?6 THEN since_run ELSE ?14 END,"
                          " status = ?6"
                          " WHERE account_id = ?1 AND region = ?2 AND standard = ?3"
                          " AND control_id = ?4"
                        : "INSERT INTO compliance_status (account_id, region, standard,"
                          " control_id, title, status, severity, failed_resources,"
                          " suppressed_resources, components, findings, suppressed, since,"
                          " since_run, checked_at, checked_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                          " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?13, ?14)",
                    "sssssssjjjiiiI", account_id, region, std, ctl,
                    json_string_value(json_object_get(c, "title")), status,
                    json_string_value(json_object_get(c, "severity")),
                    json_object_get(c, "failed_resources"),
                    json_object_get(c, "suppressed_resources"), cl != NULL ? cl : empty,
                    (int64_t)json_integer_value(json_object_get(c, "findings")),
                    (int64_t)json_integer_value(json_object_get(c, "suppressed")), (int64_t)now,
                    run_id) < 0)
                goto out;
            if (store_sql_run(st, s, err) < 0)
                goto out;
        }
    }
    /* controls no longer judged (standard disabled, hub turned off) */
    if (store_sql_prep(st, &s, err,
            "SELECT standard, control_id, status FROM compliance_status"
            " WHERE account_id = ? AND region = ?",
            "ss", account_id, region) < 0)
        goto out;
    json_t *gone = json_array();
    while ((r = store_sql_step(st, s, err)) == 1) {
        char k[256];
        const char *gstd = (const char *)sqlite3_column_text(s, 0);
        const char *gctl = (const char *)sqlite3_column_text(s, 1);

        snprintf(k, sizeof(k), "%s\t%s", gstd, gctl);
        if (json_object_get(seen, k) == NULL && (only == NULL || json_object_get(only, k) != NULL))
            json_array_append_new(gone, json_pack("[s, s, s]", gstd, gctl,
                                           (const char *)sqlite3_column_text(s, 2)));
    }
    store_sql_finish(st, s);
    if (r < 0) {
        json_decref(gone);
        goto out;
    }
    json_array_foreach(gone, i, c) {
        const char *gstd = json_string_value(json_array_get(c, 0));
        const char *gctl = json_string_value(json_array_get(c, 1));

        if (record_event(st, run_id, now, account_id, region, gstd, gctl,
                json_string_value(json_array_get(c, 2)), NULL, events, err) < 0 ||
            store_sql_prep(st, &s, err,
                "DELETE FROM compliance_status WHERE account_id = ? AND region = ? AND"
                " standard = ? AND control_id = ?",
                "ssss", account_id, region, gstd, gctl) < 0 ||
            store_sql_run(st, s, err) < 0) {
            json_decref(gone);
            goto out;
        }
    }
    json_decref(gone);
    rc = 0;
out:
    store_sql_finish(st, sel);
    json_decref(seen);
    json_decref(empty);
    return rc;
}

/* ---- judge inputs fingerprint ---- */

struct fp {
    uint64_t h[2];
};

static void
fp_add(struct fp *fp, const char *t)
{
    /* FNV-1a twice (two offsets); the NUL ends each piece so "ab","c" != "a","bc" */
    for (const unsigned char *p = (const unsigned char *)(t != NULL ? t : "\x01");; p++) {
        for (int k = 0; k < 2; k++) {
            fp->h[k] ^= *p;
            fp->h[k] *= 0x100000001b3ULL;
        }
        if (*p == '\0')
            break;
    }
}

static void
fp_model(struct fp *fp, const json_t *m)
{
    json_t *c;
    size_t i;

    fp_add(fp, json_string_value(json_object_get(m, "account_id")));
    fp_add(fp, json_string_value(json_object_get(m, "vpc_id")));
    json_array_foreach(json_object_get(m, "components"), i, c) {
        fp_add(fp, json_string_value(json_object_get(c, "key")));
        fp_add(fp, json_string_value(json_object_get(c, "resource_id")));
    }
}

/* What a judgement depends on besides the findings: the catalogue (verdicts,
 * titles, disabled controls) and what linking reads of the models (account,
 * vpc, component keys and resource ids), as 32 hex digits into out[33]. */
static int
judge_inputs(const struct store_sh_read *rd, char out[33], struct err *err)
{
    struct fp fp = {{0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL}};
    char *cat = store_canon(rd->catalogue);
    const char *vpc;
    json_t *m;

    if (cat == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    fp_add(&fp, cat);
    free(cat);
    if (rd->models == NULL && rd->models_digest != NULL) {
        /* any change of the models' text counts (more than linking reads:
         * a harmless extra re-judge, never a missed one) */
        fp_add(&fp, "models digest");
        fp_add(&fp, rd->models_digest);
    } else {
        json_object_foreach(rd->models, vpc, m) {
            fp_add(&fp, vpc);
            fp_model(&fp, m);
        }
        fp_add(&fp, "account model");
        if (json_is_object(rd->account_model) &&
            json_object_get(rd->account_model, "account_id") != NULL)
            fp_model(&fp, rd->account_model);
    }
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)fp.h[0],
        (unsigned long long)fp.h[1]);
    return 0;
}

/* 1 when the target's stored verdicts were judged with the hub on from
 * the judge inputs `inputs` (catalogue and models as now). */
static int
inputs_hold(struct store *st, const char *account_id, const char *region, const char *inputs,
    struct err *err)
{
    sqlite3_stmt *s = NULL;
    int r;

    if (store_sql_prep(st, &s, err,
            "SELECT 1 FROM sh_targets WHERE account_id = ? AND region = ? AND hub = 'enabled'"
            " AND last_ok_run IS NOT NULL AND judge_inputs = ?",
            "sss", account_id, region, inputs) < 0)
        return -1;
    r = store_sql_step(st, s, err);
    store_sql_finish(st, s);
    if (r < 0)
        return -1;
    return r == 1;
}

/* 1 when the stored judgement of the target still holds for rd: an
 * incremental read that brought no finding, the hub on before and now, and
 * the same judge inputs. Nothing the judge or the linker reads has changed
 * then, so neither the verdicts nor their components can. */
static int
judgement_holds(struct store *st, const char *account_id, const char *region,
    const struct store_sh_read *rd, const char *inputs, int64_t nread, struct err *err)
{
    if (rd->full || !rd->hub_enabled || nread > 0)
        return 0;
    return inputs_hold(st, account_id, region, inputs, err);
}

/* The incremental re-judge (an incremental read that brought findings,
 * the hub on before and now, the same judge inputs): only the controls the
 * read's summaries are judged under, in their new or their stored version,
 * can change (mapping/compliance.h, compliance_select). *ret gets them as
 * {"STANDARD\tCONTROL": true}, or NULL when the whole set must be judged.
 * Runs before the read is merged, while the stored versions are there;
 * the staged and the stored texts are read into sets, no trees. */
static int
touched_controls(struct store *st, const char *account_id, const char *region,
    const struct store_sh_read *rd, const char *inputs, int64_t nread, json_t **ret,
    struct err *err)
{
    sqlite3_stmt *s = NULL, *sel = NULL;
    struct compliance_sums *now = NULL, *old = NULL;
    json_t *set = NULL;
    int r, rc = -1;

    *ret = NULL;
    if (rd->full || !rd->hub_enabled || nread == 0)
        return 0;
    r = inputs_hold(st, account_id, region, inputs, err);
    if (r <= 0)
        return r;
    if ((set = json_object()) == NULL) {
        err_set(err, ERR_INTERNAL, "store: out of memory");
        goto out;
    }
    if (compliance_sums_new(&now, err) < 0 || compliance_sums_new(&old, err) < 0)
        goto out;
    if (store_sql_prep(st, &s, err,
            "SELECT summary, finding_id FROM sh_findings WHERE account_id = ? AND region = ?"
            " AND finding_id = ?",
            "ss", account_id, region) < 0 ||
        store_sql_prep(st, &sel, err,
            "SELECT summary, finding_id FROM stage.stage_findings WHERE target = ? ORDER BY id",
            "i", rd->staged_target) < 0)
        goto out;
    while ((r = store_sql_step(st, sel, err)) == 1) {
        const char *id = NULL;

        if (add_column(sel, account_id, region, now, "staged finding summary", &id, NULL, err) <
            0)
            goto out;
        sqlite3_reset(s);
        if (sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC) != SQLITE_OK) {
            sqlfail(st, err);
            goto out;
        }
        r = store_sql_step(st, s, err);
        if (r < 0)
            goto out;
        if (r == 1 &&
            add_column(s, account_id, region, old, "stored finding summary", NULL, NULL, err) < 0)
            goto out;
    }
    if (r < 0)
        goto out;
    if (compliance_controls_of_sums(rd->catalogue, now, set, err) < 0 ||
        compliance_controls_of_sums(rd->catalogue, old, set, err) < 0)
        goto out;
    *ret = set;
    set = NULL;
    rc = 0;
out:
    store_sql_finish(st, s);
    store_sql_finish(st, sel);
    compliance_sums_free(now);
    compliance_sums_free(old);
    json_decref(set);
    return rc;
}

/* The target's verdicts stand as they are: only their check time moves. */
static int
touch_verdicts(struct store *st, int64_t run_id, time_t now, const char *account_id,
    const char *region, struct err *err)
{
    sqlite3_stmt *s = NULL;

    if (store_sql_prep(st, &s, err,
            "UPDATE compliance_status SET checked_at = ?, checked_run = ?"
            " WHERE account_id = ? AND region = ?",
            "iIss", (int64_t)now, run_id, account_id, region) < 0)
        return -1;
    return store_sql_run(st, s, err);
}

/* Drops from judged every control that is not in only. */
static void
keep_only(json_t *judged, json_t *only)
{
    const char *std;
    json_t *sv;

    json_object_foreach(judged, std, sv) {
        json_t *controls = json_object_get(sv, "controls"), *c;
        size_t i = 0;

        while (i < json_array_size(controls)) {
            char k[256];

            c = json_array_get(controls, i);
            snprintf(k, sizeof(k), "%s\t%s", std,
                json_string_value(json_object_get(c, "control_id")));
            if (json_object_get(only, k) == NULL)
                json_array_remove(controls, i);
            else
                i++;
        }
    }
}

int
store_compliance_apply(struct store *st, int64_t run_id, time_t now, const char *account_id,
    const char *region, const struct store_sh_read *rd, json_t *events, json_t **ret_judged,
    struct err *err)
{
    enum store_tx mode = STORE_TX_NONE;
    json_t *judged = NULL, *comps = NULL, *empty = json_object();
    json_t *keys = json_array(), *sv, *touched = NULL;
    struct compliance_sums *set = NULL; /* the summaries judged (owns copies) */
    sqlite3_stmt *s = NULL;
    const char *std;
    char inputs[33] = "";
    size_t active = 0;
    int64_t nstored = 0, nread = 0;
    int ok = 0, holds = 0;

    if (empty == NULL || keys == NULL) {
        json_decref(empty);
        json_decref(keys);
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    }
    if (check_target(account_id, region, err) < 0)
        goto done;
    if (rd->hub_enabled && !json_is_object(rd->catalogue)) {
        err_set(err, ERR_INTERNAL, "store: compliance of %s/%s: catalogue missing",
            account_id, region);
        goto done;
    }
    if (rd->style != SH_STYLE_UNKNOWN && sh_style_name(rd->style) == NULL) {
        err_set(err, ERR_CONFIG, "store: compliance of %s/%s: unknown finding style %d",
            account_id, region, rd->style);
        goto done;
    }
    if (rd->hub_enabled && judge_inputs(rd, inputs, err) < 0)
        goto done;
    if (store_tx_enter(st, &mode, err) < 0)
        goto done;
    if (ensure_target(st, account_id, region, err) < 0 ||
        (rd->hub_enabled && read_count(st, rd, &nread, err) < 0))
        goto out;
    if (ret_judged == NULL &&
        (holds = judgement_holds(st, account_id, region, rd, inputs, nread, err)) < 0)
        goto out;
    if (holds) {
        /* nothing new: the verdicts stand; only their check time moves */
        if (touch_verdicts(st, run_id, now, account_id, region, err) < 0 ||
            store_sql_prep(st, &s, err,
                "UPDATE sh_targets SET last_read_at = ?, last_run = ?, last_ok_run = ?,"
                " style = ?, last_error = NULL, last_error_at = NULL"
                " WHERE account_id = ? AND region = ?",
                "IIIsss", (int64_t)rd->read_until, run_id, run_id, sh_style_name(rd->style),
                account_id, region) < 0 ||
            store_sql_run(st, s, err) < 0)
            goto out;
        ok = 1;
        goto out;
    }
    if (ret_judged == NULL &&
        touched_controls(st, account_id, region, rd, inputs, nread, &touched, err) < 0)
        goto out;
    /* a full read's texts go into the judge's set as they are stored */
    if (rd->full && rd->hub_enabled && compliance_sums_new(&set, err) < 0)
        goto out;
    if (store_findings(st, account_id, region, rd, set, &active, err) < 0)
        goto out;
    if (rd->hub_enabled) {
        if (store_sql_prep(st, &s, err,
                "SELECT count(*) FROM sh_findings WHERE account_id = ? AND region = ?", "ss",
                account_id, region) < 0)
            goto out;
        if (store_sql_step(st, s, err) == 1)
            nstored = sqlite3_column_int64(s, 0);
        store_sql_finish(st, s);
        /* a full read is judged from what it read (no reload), unless a
         * finding came twice and the store holds fewer rows than that */
        if (!(rd->full && nstored == (int64_t)active)) {
            compliance_sums_free(set);
            set = NULL;
            if (load_findings_set(st, account_id, region, &set, err) < 0)
                goto out;
        }
        if (touched != NULL) {
            /* incremental re-judge: the summaries judged under the touched
             * controls; every other verdict stands, only checked */
            struct compliance_sums *sub = NULL;

            if (compliance_select_sums(rd->catalogue, set, touched, &sub, err) < 0)
                goto out;
            compliance_sums_free(set);
            set = sub;
            if (touch_verdicts(st, run_id, now, account_id, region, err) < 0)
                goto out;
        }
        if (compliance_judge_sums(rd->catalogue, set, &judged, err) < 0 ||
            failing_components(set, rd, account_id, &comps, err) < 0)
            goto out;
        if (touched != NULL)
            keep_only(judged, touched);
    } else {
        judged = json_object();
        comps = json_object();
    }
    if (apply_verdicts(st, run_id, now, account_id, region, judged, comps, touched, events,
            err) < 0)
        goto out;
    json_object_foreach(judged, std, sv)
        json_array_append_new(keys, json_string(std));
    if (store_sql_prep(st, &s, err,
            "UPDATE sh_targets SET hub = ?, standards = ?, catalogue = ?, last_read_at = ?,"
            " last_full_at = CASE WHEN ? THEN ? ELSE last_full_at END, last_run = ?,"
            " last_ok_run = ?, findings = ?, last_error = NULL, last_error_at = NULL,"
            " style = ?, judge_inputs = ?"
            " WHERE account_id = ? AND region = ?",
            "sjjIiIIIissss", rd->hub_enabled ? "enabled" : "not_enabled", keys,
            rd->hub_enabled ? rd->catalogue : empty, rd->hub_enabled ? (int64_t)rd->read_until : 0,
            (int64_t)(rd->full && rd->hub_enabled), (int64_t)rd->read_until, run_id, run_id,
            nstored, rd->hub_enabled ? sh_style_name(rd->style) : NULL,
            rd->hub_enabled ? inputs : NULL, account_id, region) < 0 ||
        store_sql_run(st, s, err) < 0)
        goto out;
    ok = 1;
out:
    if (store_tx_leave(st, mode, ok, err) < 0) {
        ok = 0;
        ctx_fail(err, "recording compliance");
    }
done:
    if (ok && ret_judged != NULL) {
        *ret_judged = judged;
        judged = NULL;
    }
    compliance_sums_free(set);
    json_decref(judged);
    json_decref(comps);
    json_decref(touched);
    json_decref(empty);
    json_decref(keys);
    return ok ? 0 : -1;
}

int
store_compliance_failed(struct store *st, int64_t run_id, time_t now, const char *account_id,
    const char *region, const char *error_text, struct err *err)
{
    enum store_tx mode = STORE_TX_NONE;
    sqlite3_stmt *s = NULL;
    int ok = 0;

    if (check_target(account_id, region, err) < 0)
        return -1;
    if (store_tx_enter(st, &mode, err) < 0)
        return ctx_fail(err, "recording a compliance failure");
    if (ensure_target(st, account_id, region, err) < 0 ||
        store_sql_prep(st, &s, err,
            "UPDATE sh_targets SET last_run = ?, last_error = ?, last_error_at = ?"
            " WHERE account_id = ? AND region = ?",
            "Isiss", run_id, error_text ? error_text : "unknown error", (int64_t)now, account_id,
            region) < 0 ||
        store_sql_run(st, s, err) < 0)
        goto out;
    ok = 1;
out:
    if (store_tx_leave(st, mode, ok, err) < 0)
        return ctx_fail(err, "recording a compliance failure");
    return 0;
}

/* ---- queries ---- */

static int
cmp_rows(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    static const char *const keys[] = {"account_id", "region", "standard"};
    int c;

    for (size_t i = 0; i < 3; i++) {
        c = strcmp(json_string_value(json_object_get(x, keys[i])),
            json_string_value(json_object_get(y, keys[i])));
        if (c != 0)
            return c;
    }
    return compliance_control_cmp(json_string_value(json_object_get(x, "control_id")),
        json_string_value(json_object_get(y, "control_id")));
}

static int
sort_array(json_t *arr, int (*cmp)(const void *, const void *), struct err *err)
{
    size_t n = json_array_size(arr), i;
    json_t **v;

    if (n < 2)
        return 0;
    v = calloc(n, sizeof(*v));
    if (v == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), cmp);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
    return 0;
}

int
store_compliance_rows(struct store *st, const char *account_id, const char *region,
    json_t **ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *arr = json_array(), *row = NULL, *fr = NULL, *sr = NULL, *co = NULL;
    int rc;

    if (arr == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    if (store_sql_prep(st, &s, err,
            "SELECT account_id, region, standard, control_id, title, status, severity,"
            " failed_resources, suppressed_resources, components, findings, suppressed, since,"
            " since_run, checked_at FROM compliance_status"
            " WHERE (?1 IS NULL OR account_id = ?1) AND (?2 IS NULL OR region = ?2)",
            "ss", account_id, region) < 0)
        goto fail;
    while ((rc = store_sql_step(st, s, err)) == 1) {
        if (store_sql_col_json(s, 7, "failed_resources", &fr, err) < 0 ||
            store_sql_col_json(s, 8, "suppressed_resources", &sr, err) < 0 ||
            store_sql_col_json(s, 9, "components", &co, err) < 0) {
            rc = -1;
            break;
        }
        row = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, "
                        "s:I, s:o}",
                        "account_id", store_sql_col_str(s, 0), "region", store_sql_col_str(s, 1),
                        "standard", store_sql_col_str(s, 2), "control_id", store_sql_col_str(s, 3),
                        "title", store_sql_col_str(s, 4), "status", store_sql_col_str(s, 5),
                        "severity", store_sql_col_str(s, 6), "failed_resources", fr,
                        "suppressed_resources", sr, "components", co, "findings",
                        (json_int_t)sqlite3_column_int64(s, 10), "suppressed",
                        (json_int_t)sqlite3_column_int64(s, 11), "since", store_sql_col_time(s, 12),
                        "since_run", (json_int_t)sqlite3_column_int64(s, 13), "checked_at",
                        store_sql_col_time(s, 14));
        fr = sr = co = NULL;
        if (row == NULL || json_array_append_new(arr, row) < 0) {
            err_set(err, ERR_INTERNAL, "store: out of memory");
            rc = -1;
            break;
        }
    }
    json_decref(fr);
    json_decref(sr);
    json_decref(co);
    store_sql_finish(st, s);
    if (rc < 0 || sort_array(arr, cmp_rows, err) < 0)
        goto fail;
    *ret = arr;
    return 0;
fail:
    json_decref(arr);
    return ctx_fail(err, "reading compliance");
}

int
store_compliance_targets(struct store *st, json_t **ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *arr = json_array(), *stds = NULL, *row;
    int rc;

    if (arr == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    if (store_sql_prep(st, &s, err,
            "SELECT account_id, region, hub, standards, last_read_at, last_full_at, findings,"
            " last_error, last_error_at FROM sh_targets ORDER BY account_id, region",
            NULL) < 0)
        goto fail;
    while ((rc = store_sql_step(st, s, err)) == 1) {
        if (store_sql_col_json(s, 3, "standards", &stds, err) < 0) {
            rc = -1;
            break;
        }
        row = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "account_id",
                        store_sql_col_str(s, 0), "region", store_sql_col_str(s, 1), "hub",
                        store_sql_col_str(s, 2), "standards", stds, "last_read_at",
                        store_sql_col_time(s, 4), "last_full_at", store_sql_col_time(s, 5),
                        "findings", (json_int_t)sqlite3_column_int64(s, 6), "error",
                        store_sql_col_str(s, 7), "error_at", store_sql_col_time(s, 8));
        if (row == NULL || json_array_append_new(arr, row) < 0) {
            err_set(err, ERR_INTERNAL, "store: out of memory");
            rc = -1;
            break;
        }
    }
    store_sql_finish(st, s);
    if (rc < 0)
        goto fail;
    *ret = arr;
    return 0;
fail:
    json_decref(arr);
    return ctx_fail(err, "reading compliance targets");
}

int
store_compliance_findings(struct store *st, const char *account_id, const char *region,
    json_t **ret, struct err *err)
{
    if (check_target(account_id, region, err) < 0)
        return -1;
    if (load_findings(st, account_id, region, ret, err) < 0)
        return ctx_fail(err, "reading findings");
    return 0;
}

int
store_compliance_catalogue(struct store *st, const char *account_id, const char *region,
    json_t **ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *j = NULL;
    int rc;

    if (check_target(account_id, region, err) < 0)
        return -1;
    if (store_sql_prep(st, &s, err,
                       "SELECT catalogue FROM sh_targets WHERE account_id = ? AND region = ?", "ss",
                       account_id, region) < 0)
        return ctx_fail(err, "reading the catalogue");
    rc = store_sql_step(st, s, err);
    if (rc == 1 && store_sql_col_json(s, 0, "catalogue", &j, err) < 0)
        rc = -1;
    store_sql_finish(st, s);
    if (rc < 0)
        return ctx_fail(err, "reading the catalogue");
    *ret = j != NULL ? j : json_object();
    return 0;
}

int
store_compliance_events(struct store *st, int64_t after_id, json_t **ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *arr = json_array(), *ev;
    int rc;

    if (arr == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    if (store_sql_prep(st, &s, err,
            "SELECT id, at, run_id, account_id, region, standard, control_id, old_status,"
            " new_status FROM compliance_events WHERE id > ? ORDER BY id",
            "i", after_id) < 0)
        goto fail;
    while ((rc = store_sql_step(st, s, err)) == 1) {
        json_t *one = json_array();

        if (one == NULL ||
            add_event(one, sqlite3_column_int64(s, 2), (time_t)sqlite3_column_int64(s, 1),
                (const char *)sqlite3_column_text(s, 3), (const char *)sqlite3_column_text(s, 4),
                (const char *)sqlite3_column_text(s, 5), (const char *)sqlite3_column_text(s, 6),
                (const char *)sqlite3_column_text(s, 7),
                (const char *)sqlite3_column_text(s, 8)) < 0) {
            json_decref(one);
            err_set(err, ERR_INTERNAL, "store: out of memory");
            rc = -1;
            break;
        }
        ev = json_array_get(one, 0);
        json_object_set_new(ev, "id", json_integer(sqlite3_column_int64(s, 0)));
        json_array_append(arr, ev);
        json_decref(one);
    }
    store_sql_finish(st, s);
    if (rc < 0)
        goto fail;
    *ret = arr;
    return 0;
fail:
    json_decref(arr);
    return ctx_fail(err, "reading compliance events");
}

int
store_compliance_totals(struct store *st, json_t **ret, long *ret_findings, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *doc = json_object();
    int64_t findings = 0;
    int rc;

    if (doc == NULL)
        return err_set(err, ERR_INTERNAL, "store: out of memory");
    if (store_sql_prep(st, &s, err,
            "SELECT standard, status, count(*) FROM compliance_status GROUP BY standard, status",
            NULL) < 0)
        goto fail;
    while ((rc = store_sql_step(st, s, err)) == 1) {
        const char *std = (const char *)sqlite3_column_text(s, 0);
        json_t *sv = json_object_get(doc, std);

        if (sv == NULL) {
            sv = json_pack("{s:{}}", "totals");
            json_object_set_new(doc, std, sv);
        }
        json_object_set_new(json_object_get(sv, "totals"), (const char *)sqlite3_column_text(s, 1),
            json_integer(sqlite3_column_int64(s, 2)));
    }
    store_sql_finish(st, s);
    if (rc < 0)
        goto fail;
    if (store_sql_prep(st, &s, err, "SELECT count(*) FROM sh_findings", NULL) < 0)
        goto fail;
    rc = store_sql_step(st, s, err);
    if (rc == 1)
        findings = sqlite3_column_int64(s, 0);
    store_sql_finish(st, s);
    if (rc < 0)
        goto fail;
    *ret = doc;
    if (ret_findings != NULL)
        *ret_findings = (long)findings;
    return 0;
fail:
    json_decref(doc);
    return ctx_fail(err, "reading compliance totals");
}
