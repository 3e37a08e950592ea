/*
 * store.c: the only file that speaks SQL (see store.h for the contract).
 *
 * Invariants. Every statement is prepared with bound parameters; no SQL is
 * ever built from names or values (PRAGMA user_version takes the constant
 * migration index). Every public write is atomic (BEGIN IMMEDIATE, or a
 * SAVEPOINT inside the caller's transaction), so a killed process leaves the
 * last committed state. Migrations are append-only: never edit one that has
 * shipped, add the next. SQLite errors are translated once, here, into
 * ERR_STORE "store: OPERATION: sqlite message".
 *
 * The drift log: drift_events is append-only (triggers refuse UPDATE and
 * DELETE); each event's hash is SHA-256 over the previous hash, a newline
 * and the event's canonical JSON (compact, sorted keys, the entry content
 * embedded as a string), so any edit of a stored event, a deleted event or
 * a drift row that disagrees with its events is found by store_log_verify.
 * Someone able to rewrite the whole chain can still forge it: anchor the
 * newest hash elsewhere for stronger guarantees.
 */
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "config/config.h"
#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "daemon/util.h"
#include "mapping/compliance.h"
#include "mapping/diff.h"
#include "mapping/model.h"
#include "store/store_int.h"

#define STORE_APP_ID 0x44724674 /* "DrFt" in PRAGMA application_id */
#define GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"


/*
 * Page size of new databases and of the staging database. A sync writes
 * mostly large texts (a VPC's model is hundreds of kilobytes) in one
 * transaction, into the WAL and again at the checkpoint; with 4 KiB pages
 * that was a system call, a WAL frame and an ext4 block per 4 KiB, and
 * ~70% of the first-run commit's CPU was the kernel's. 16 KiB pages cost
 * ~30% less CPU for the same bytes; 64 KiB no less than 16 KiB, and every
 * small update (a vpcs row, a drift row) writes a whole page to the WAL.
 */
#define STORE_PAGE_SIZE_TEXT "16384"

/*
 * Bytes of WAL file kept once the log restarts (journal_size_limit). A
 * first run commits its whole organisation in one transaction, so the WAL
 * grows as large as the database (1.5 GB at 500k resources and 1M
 * findings); SQLite reuses that file from its start afterwards but never
 * shrinks it, and a daemon holds it open for good: the database took its
 * own size again on disk for as long as the daemon ran. With a limit, the
 * first write after a complete checkpoint (the next run's start) cuts the
 * file back to this size; closing the last connection (`sync --once`, a
 * daemon stopping) removes it. An unchanged run writes under 1 MB of WAL.
 */
#define STORE_WAL_KEEP_TEXT "4194304"

/* Append-only: index i migrates user_version i to i + 1. */
static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  started_at INTEGER NOT NULL,"
    "  finished_at INTEGER,"
    "  status TEXT NOT NULL CHECK (status IN ('running','ok','partial','failed','aborted')),"
    "  pid INTEGER NOT NULL,"
    "  targets_total INTEGER NOT NULL DEFAULT 0,"
    "  targets_failed INTEGER NOT NULL DEFAULT 0,"
    "  api_calls INTEGER NOT NULL DEFAULT 0,"
    "  resources_seen INTEGER NOT NULL DEFAULT 0,"
    "  errors TEXT NOT NULL DEFAULT '[]',"
    "  summary TEXT NOT NULL DEFAULT '{}');"
    "CREATE TABLE targets ("
    "  account_id TEXT NOT NULL, region TEXT NOT NULL,"
    "  last_run INTEGER REFERENCES runs(id), last_ok_run INTEGER REFERENCES runs(id),"
    "  last_error TEXT, last_error_at INTEGER,"
    "  PRIMARY KEY (account_id, region));"
    "CREATE TABLE vpcs ("
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, vpc_id TEXT NOT NULL,"
    "  name TEXT,"
    "  status TEXT NOT NULL CHECK (status IN ('yellow','red','green')),"
    "  only_in_model INTEGER NOT NULL DEFAULT 0,"
    "  only_in_vpc INTEGER NOT NULL DEFAULT 0,"
    "  changed INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT, last_sync INTEGER, last_run INTEGER REFERENCES runs(id),"
    "  PRIMARY KEY (account_id, region, vpc_id));"
    "CREATE TABLE models ("
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, vpc_id TEXT NOT NULL,"
    "  model TEXT NOT NULL, updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL,"
    "  PRIMARY KEY (account_id, region, vpc_id));"
    "CREATE TABLE discovered ("
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, vpc_id TEXT NOT NULL,"
    "  model TEXT NOT NULL, run_id INTEGER REFERENCES runs(id),"
    "  discovered_at INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, region, vpc_id));"
    "CREATE TABLE drift ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, vpc_id TEXT NOT NULL,"
    "  entry_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('only_in_model','only_in_vpc','changed')),"
    "  resource_type TEXT, resource_id TEXT, key TEXT NOT NULL,"
    "  component TEXT, component_type TEXT, details TEXT NOT NULL,"
    "  first_seen_run INTEGER REFERENCES runs(id), last_seen_run INTEGER REFERENCES runs(id),"
    "  first_seen_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,"
    "  resolved TEXT CHECK (resolved IS NULL OR resolved IN ('accepted','gone')),"
    "  resolved_run INTEGER REFERENCES runs(id), resolved_at INTEGER);"
    "CREATE UNIQUE INDEX drift_open ON drift (account_id, region, vpc_id, entry_id)"
    "  WHERE resolved IS NULL;"
    "CREATE INDEX drift_by_vpc ON drift (account_id, region, vpc_id, resolved);"
    "CREATE TABLE drift_events ("
    "  seq INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL, run_id INTEGER REFERENCES runs(id),"
    "  drift_id INTEGER NOT NULL REFERENCES drift(id),"
    "  event TEXT NOT NULL CHECK (event IN ('open','resolve')),"
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, vpc_id TEXT NOT NULL,"
    "  entry_id TEXT NOT NULL, content TEXT NOT NULL, resolution TEXT,"
    "  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE TRIGGER drift_events_no_update BEFORE UPDATE ON drift_events"
    "  BEGIN SELECT RAISE(ABORT, 'drift_events is append-only'); END;"
    "CREATE TRIGGER drift_events_no_delete BEFORE DELETE ON drift_events"
    "  BEGIN SELECT RAISE(ABORT, 'drift_events is append-only'); END;",
    /* 2 and 3: compliance, Security Hub finding style (store/store_int.h) */
    STORE_MIGRATION_COMPLIANCE,
    /* 4: what each VPC's drift was last reconciled with (reconcile_digest);
     * per target the account-level document and the unmapped counts of its
     * last successful read, and the item cache (see store_item_cache_load) */
    "ALTER TABLE vpcs ADD COLUMN reconciled TEXT;"
    "ALTER TABLE targets ADD COLUMN account_doc TEXT;"
    "ALTER TABLE targets ADD COLUMN unmapped TEXT;"
    "CREATE TABLE item_cache ("
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, hash BLOB NOT NULL,"
    "  rules TEXT NOT NULL, ident TEXT NOT NULL, item TEXT NOT NULL);"
    /* read and replaced a whole target at a time: rows appended in order,
     * no key on the (random) hash to scatter the inserts */
    "CREATE INDEX item_cache_target ON item_cache (account_id, region);",
    /* 5: per target the digest of its stored snapshots and account document
     * (store_staged_models_digest's), made when a fresh read writes them and
     * kept while reads reuse them; NULL when they change otherwise, and on
     * rows from before it (the first reused read makes it) */
    "ALTER TABLE targets ADD COLUMN models_digest TEXT;",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* ---- small helpers ---- */

static int
oom(struct err *err)
{
    return err_set(err, ERR_INTERNAL, "store: out of memory");
}

static int
sqlfail(struct store *st, struct err *err)
{
    return err_set(err, ERR_STORE, "%s", sqlite3_errmsg(st->db));
}

/* Prefixes an ERR_STORE message with "store: <op>: " once, at the public
 * entry point. Other kinds already name their subject. */
static void store_ctx(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
store_ctx(struct err *err, const char *fmt, ...)
{
    char op[256];
    va_list ap;

    if (err == NULL || err->kind != ERR_STORE)
        return;
    va_start(ap, fmt);
    vsnprintf(op, sizeof(op), fmt, ap);
    va_end(ap);
    err_prefix(err, "store: %s", op);
}

char *
store_canon(const json_t *j)
{
    return jsonw_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/*
 * Statement cache (struct store's stmts): a statement is looked up by the
 * address of its SQL text and, since a caller may format SQL into a stack
 * buffer, confirmed by comparing the text. A hit is handed out busy until
 * q_finish resets it; a statement that is busy (a nested use) or finds no
 * free slot is prepared afresh and finalized by q_finish. Preparing costs a
 * parser allocation per call, which showed as a quarter of the store's CPU
 * in bench/local.c's profile.
 */
static int
q_cached(struct store *st, const char *sql, sqlite3_stmt **ret)
{
    struct store_stmt *free_slot = NULL;

    for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
        struct store_stmt *c = &st->stmts[i];

        if (c->sql == NULL) {
            if (free_slot == NULL)
                free_slot = c;
            continue;
        }
        if (c->sql == sql && !c->busy && strcmp(sqlite3_sql(c->s), sql) == 0) {
            c->busy = 1;
            *ret = c->s;
            return 0;
        }
    }
    if (sqlite3_prepare_v2(st->db, sql, -1, ret, NULL) != SQLITE_OK)
        return -1;
    if (free_slot != NULL && *ret != NULL) {
        free_slot->sql = sql;
        free_slot->s = *ret;
        free_slot->busy = 1;
    }
    return 0;
}

/* Returns a statement from q_prep: cached ones are reset for reuse. */
static void
q_finish(struct store *st, sqlite3_stmt *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
        struct store_stmt *c = &st->stmts[i];

        if (c->s == s && c->sql != NULL) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            c->busy = 0;
            return;
        }
    }
    sqlite3_finalize(s); /* not cached (nested use, or the cache was full) */
}

static void
q_cache_clear(struct store *st)
{
    for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
        sqlite3_finalize(st->stmts[i].s);
        memset(&st->stmts[i], 0, sizeof(st->stmts[i]));
    }
}

/*
 * Prepares sql and binds the variadic arguments by fmt, one letter each:
 *   s  const char *   (NULL binds NULL)
 *   i  int64_t
 *   I  int64_t, 0 binds NULL (optional run ids and times)
 *   j  const json_t * as canonical JSON text (NULL binds NULL)
 */
static int
q_prepv(struct store *st, sqlite3_stmt **ret, struct err *err, const char *sql, const char *fmt,
        va_list ap)
{
    sqlite3_stmt *s = NULL;
    int idx = 1, rc;

    if (q_cached(st, sql, &s) < 0)
        return sqlfail(st, err);
    for (; fmt != NULL && *fmt != '\0'; fmt++, idx++) {
        switch (*fmt) {
        case 's': {
            const char *v = va_arg(ap, const char *);

            rc = v != NULL ? sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT)
                           : sqlite3_bind_null(s, idx);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(s, idx, va_arg(ap, int64_t));
            break;
        case 'I': {
            int64_t v = va_arg(ap, int64_t);

            rc = v != 0 ? sqlite3_bind_int64(s, idx, v) : sqlite3_bind_null(s, idx);
            break;
        }
        case 'j': {
            const json_t *v = va_arg(ap, const json_t *);
            char *text = NULL;

            if (v == NULL) {
                rc = sqlite3_bind_null(s, idx);
                break;
            }
            text = store_canon(v);
            if (text == NULL) {
                q_finish(st, s);
                return oom(err);
            }
            rc = sqlite3_bind_text(s, idx, text, -1, SQLITE_TRANSIENT);
            free(text);
            break;
        }
        default:
            q_finish(st, s);
            return err_set(err, ERR_INTERNAL, "store: bad bind format '%c'", *fmt);
        }
        if (rc != SQLITE_OK) {
            sqlfail(st, err);
            q_finish(st, s);
            return -1;
        }
    }
    *ret = s;
    return 0;
}

static int
q_prep(struct store *st, sqlite3_stmt **ret, struct err *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = q_prepv(st, ret, err, sql, fmt, ap);
    va_end(ap);
    return rc;
}

/* 1 = a row, 0 = done, -1 = error. */
static int
q_step(struct store *st, sqlite3_stmt *s, struct err *err)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sqlfail(st, err);
}

/* Runs a statement to completion; returns the number of changed rows. */
static int
q_exec(struct store *st, struct err *err, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = q_prepv(st, &s, err, sql, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    while ((rc = q_step(st, s, err)) == 1)
        ;
    if (rc == 0)
        rc = sqlite3_changes(st->db);
    q_finish(st, s);
    return rc;
}

/* Single integer result (first column of the first row; 0 when no row). */
static int
q_int(struct store *st, int64_t *ret, struct err *err, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = q_prepv(st, &s, err, sql, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    rc = q_step(st, s, err);
    if (rc >= 0) {
        *ret = rc == 1 ? sqlite3_column_int64(s, 0) : 0;
        rc = 0;
    }
    q_finish(st, s);
    return rc;
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static json_t *
col_str_json(sqlite3_stmt *s, int i)
{
    const char *t = col_text(s, i);

    return t != NULL ? json_string(t) : json_null();
}

static json_t *
col_time_json(sqlite3_stmt *s, int i)
{
    char ts[21];

    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return json_null();
    util_time_rfc3339((time_t)sqlite3_column_int64(s, i), ts);
    return json_string(ts);
}

/* Parses a JSON text column; what names it in the error. */
static int
col_json(sqlite3_stmt *s, int i, const char *what, json_t **ret, struct err *err)
{
    const char *t = col_text(s, i);
    json_error_t jerr;
    json_t *j;

    if (t == NULL) {
        *ret = json_null();
        return 0;
    }
    j = jsonr_loads(t, JSON_DECODE_ANY, &jerr);
    if (j == NULL)
        return err_set(err, ERR_STORE, "%s is not valid JSON: %s at byte %d of %d (near '%.40s')",
            what, jerr.text, jerr.position, sqlite3_column_bytes(s, i),
            t + (jerr.position > 20 ? jerr.position - 20 : 0));
    *ret = j;
    return 0;
}

/* ---- the helpers above for store/compliance.c (store_int.h) ---- */

int
store_sql_prep(struct store *st, sqlite3_stmt **ret, struct err *err, const char *sql,
               const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = q_prepv(st, ret, err, sql, fmt, ap);
    va_end(ap);
    return rc;
}

int
store_sql_step(struct store *st, sqlite3_stmt *s, struct err *err)
{
    return q_step(st, s, err);
}

int
store_sql_run(struct store *st, sqlite3_stmt *s, struct err *err)
{
    int rc;

    while ((rc = q_step(st, s, err)) == 1)
        ;
    q_finish(st, s);
    return rc;
}

void
store_sql_finish(struct store *st, sqlite3_stmt *s)
{
    q_finish(st, s);
}

json_t *
store_sql_col_str(sqlite3_stmt *s, int i)
{
    return col_str_json(s, i);
}

json_t *
store_sql_col_time(sqlite3_stmt *s, int i)
{
    return col_time_json(s, i);
}

int
store_sql_col_json(sqlite3_stmt *s, int i, const char *what, json_t **ret, struct err *err)
{
    return col_json(s, i, what, ret, err);
}

/* ---- transactions ---- */

int
store_tx_enter(struct store *st, enum store_tx *ret, struct err *err)
{
    if (!sqlite3_get_autocommit(st->db) && st->all_or_nothing) {
        /* inside store_begin_all: the caller rolls back everything on a
         * failure, so no savepoint (SQLite copies every page a savepoint
         * changes into a statement journal: most of a run's writes) */
        *ret = STORE_TX_NONE;
        return 0;
    }
    if (sqlite3_get_autocommit(st->db)) {
        if (q_exec(st, err, "BEGIN IMMEDIATE", NULL) < 0)
            return -1;
        *ret = STORE_TX_BEGIN;
    } else {
        if (q_exec(st, err, "SAVEPOINT store_op", NULL) < 0)
            return -1;
        *ret = STORE_TX_SAVEPOINT;
    }
    return 0;
}

/* Commits (ok) or undoes the work since tx_enter. Returns -1 when the
 * commit itself fails (everything is then rolled back). */
int
store_tx_leave(struct store *st, enum store_tx mode, int ok, struct err *err)
{
    struct err ignored = {0};

    switch (mode) {
    case STORE_TX_NONE:
        return ok ? 0 : -1;
    case STORE_TX_BEGIN:
        if (ok) {
            if (q_exec(st, err, "COMMIT", NULL) >= 0)
                return 0;
            if (!sqlite3_get_autocommit(st->db))
                (void)q_exec(st, &ignored, "ROLLBACK", NULL);
            return -1;
        }
        if (!sqlite3_get_autocommit(st->db))
            (void)q_exec(st, &ignored, "ROLLBACK", NULL);
        return -1;
    case STORE_TX_SAVEPOINT:
        if (ok)
            return q_exec(st, err, "RELEASE store_op", NULL) < 0 ? -1 : 0;
        (void)q_exec(st, &ignored, "ROLLBACK TO store_op", NULL);
        (void)q_exec(st, &ignored, "RELEASE store_op", NULL);
        return -1;
    }
    return -1;
}

int
store_begin(struct store *st, struct err *err)
{
    if (!sqlite3_get_autocommit(st->db))
        return err_set(err, ERR_INTERNAL, "store: beginning a transaction: one is already open");
    if (q_exec(st, err, "BEGIN IMMEDIATE", NULL) < 0) {
        store_ctx(err, "beginning a transaction on %s", st->path);
        return -1;
    }
    return 0;
}

int
store_begin_all(struct store *st, struct err *err)
{
    if (store_begin(st, err) < 0)
        return -1;
    st->all_or_nothing = 1;
    return 0;
}

int
store_commit(struct store *st, struct err *err)
{
    st->all_or_nothing = 0;
    if (sqlite3_get_autocommit(st->db))
        return err_set(err, ERR_INTERNAL, "store: committing: no transaction is open");
    if (q_exec(st, err, "COMMIT", NULL) < 0) {
        store_ctx(err, "committing to %s", st->path);
        store_rollback(st);
        return -1;
    }
    return 0;
}

void
store_rollback(struct store *st)
{
    struct err ignored = {0};

    if (st != NULL)
        st->all_or_nothing = 0;
    if (st != NULL && !sqlite3_get_autocommit(st->db))
        (void)q_exec(st, &ignored, "ROLLBACK", NULL);
}

/* ---- open, migrate ---- */

static int
abort_stale(struct store *st, time_t now, int all, size_t *ret_n, struct err *err)
{
    sqlite3_stmt *s = NULL;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0, done = 0, i;
    int rc = -1, r;

    /* read first: a read-only caller takes no write lock when nothing is stale */
    if (q_prep(st, &s, err, "SELECT id, pid FROM runs WHERE status = 'running' ORDER BY id", NULL) <
        0)
        return -1;
    while ((r = q_step(st, s, err)) == 1) {
        pid_t pid = (pid_t)sqlite3_column_int64(s, 1);

        if (!all && pid == getpid())
            continue;
        if (!all && pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
            continue; /* that process is alive (EPERM: alive, another user) */
        if (n == cap) {
            int64_t *grown = realloc(ids, (cap = cap * 2 + 8) * sizeof(*ids));

            if (grown == NULL) {
                r = oom(err);
                break;
            }
            ids = grown;
        }
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    q_finish(st, s);
    if (r < 0)
        goto out;
    for (i = 0; i < n; i++) {
        r = q_exec(st, err,
                   "UPDATE runs SET status = 'aborted', finished_at = ?"
                   " WHERE id = ? AND status = 'running'",
                   "ii", (int64_t)now, ids[i]);
        if (r < 0)
            goto out;
        done += (size_t)r;
    }
    if (ret_n != NULL)
        *ret_n = done;
    rc = 0;
out:
    free(ids);
    return rc;
}

static int
migrate(struct store *st, int fresh, struct err *err)
{
    enum store_tx mode = STORE_TX_NONE;
    int64_t version = 0;
    char sql[64];
    size_t v;
    int ok = 0;

    if (store_tx_enter(st, &mode, err) < 0)
        return -1;
    /* re-read inside the write lock: another process may have migrated */
    if (q_int(st, &version, err, "PRAGMA user_version", NULL) < 0)
        goto out;
    for (v = (size_t)version; v < NMIGRATIONS; v++) {
        char *msg = NULL;

        if (sqlite3_exec(st->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
            err_set(err, ERR_STORE, "migration %zu: %s", v + 1, msg != NULL ? msg : "failed");
            sqlite3_free(msg);
            goto out;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", v + 1);
        if (q_exec(st, err, sql, NULL) < 0)
            goto out;
    }
    if (fresh) {
        snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APP_ID);
        if (q_exec(st, err, sql, NULL) < 0)
            goto out;
    }
    ok = 1;
out:
    return store_tx_leave(st, mode, ok, err);
}

void
store_release_memory(struct store *st)
{
    if (st != NULL && st->db != NULL)
        sqlite3_db_release_memory(st->db);
}

void
store_set_busy_timeout(struct store *st, int timeout_ms)
{
    sqlite3_busy_timeout(st->db, timeout_ms);
}

static int stage_attach(struct store *st, struct err *err);

int
store_open(const char *path, struct store **ret, struct err *err)
{
    struct store *st = NULL;
    int64_t app_id = 0, version = 0, objects = 0;
    int rc = -1, fresh;
    sqlite3_stmt *s = NULL;

    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->path = strdup(path)) == NULL) {
        oom(err);
        goto out;
    }
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        if (st->db == NULL) {
            oom(err);
            goto out;
        }
        sqlfail(st, err);
        goto out;
    }
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS_DEFAULT);
    if (q_int(st, &app_id, err, "PRAGMA application_id", NULL) < 0 ||
        q_int(st, &version, err, "PRAGMA user_version", NULL) < 0 ||
        q_int(st, &objects, err, "SELECT count(*) FROM sqlite_master", NULL) < 0)
        goto out;
    fresh = app_id == 0 && version == 0 && objects == 0;
    if (!fresh && app_id != STORE_APP_ID) {
        err_set(err, ERR_STORE, "not a driftsync database (application_id %lld)",
                (long long)app_id);
        goto out;
    }
    if (version > (int64_t)NMIGRATIONS) {
        err_set(err, ERR_STORE,
                "schema version %lld is newer than this driftsync knows (%zu); upgrade driftsync",
                (long long)version, NMIGRATIONS);
        goto out;
    }
    /* page size: a new database gets STORE_PAGE_SIZE (see the macro); an
     * existing one keeps its own (changing it needs a VACUUM out of WAL) */
    if (fresh && q_exec(st, err, "PRAGMA page_size = " STORE_PAGE_SIZE_TEXT, NULL) < 0)
        goto out;
    /* WAL: readers never block the writer; a crash keeps the last commit */
    if (q_prep(st, &s, err, "PRAGMA journal_mode = WAL", NULL) < 0 || q_step(st, s, err) < 0)
        goto out;
    q_finish(st, s);
    s = NULL;
    /* temp_store: SQLite's own temporary tables and sorts spill to a file,
     * never grow in memory, past an 8 MB cache. The staging tables live in
     * a private temporary database of their own ("stage", see
     * store_stage_reset), with the same cache and a file journal (in
     * memory the journal cost 75 MB at 100k resources). */
    if (q_exec(st, err, "PRAGMA foreign_keys = ON", NULL) < 0 ||
        q_exec(st, err, "PRAGMA synchronous = NORMAL", NULL) < 0 ||
        q_exec(st, err, "PRAGMA journal_size_limit = " STORE_WAL_KEEP_TEXT, NULL) < 0 ||
        q_exec(st, err, "PRAGMA temp_store = FILE", NULL) < 0 ||
        q_exec(st, err, "PRAGMA temp.cache_size = -8192", NULL) < 0 ||
        stage_attach(st, err) < 0)
        goto out;
    if (version < (int64_t)NMIGRATIONS && migrate(st, fresh, err) < 0)
        goto out;
    if (abort_stale(st, time(NULL), 0, NULL, err) < 0)
        goto out;
    *ret = st;
    st = NULL;
    rc = 0;
out:
    q_finish(st, s);
    if (rc < 0)
        store_ctx(err, "opening %s", path);
    store_close(st);
    return rc;
}

void
store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->db != NULL) {
        store_rollback(st);
        q_cache_clear(st);
        sqlite3_close_v2(st->db);
    }
    free(st->path);
    free(st);
}

/* ---- runs ---- */

int
store_run_begin(struct store *st, time_t now, int64_t *ret_run_id, struct err *err)
{
    if (q_exec(st, err, "INSERT INTO runs (started_at, status, pid) VALUES (?, 'running', ?)", "ii",
               (int64_t)now, (int64_t)getpid()) < 0) {
        store_ctx(err, "starting a run");
        return -1;
    }
    *ret_run_id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int
store_run_finish(struct store *st, int64_t run_id, time_t now, const char *status,
                 const struct store_run_stats *stats, const json_t *errors, const json_t *summary,
                 struct err *err)
{
    static const struct store_run_stats zero;
    int n;

    if (status == NULL || (strcmp(status, "ok") != 0 && strcmp(status, "partial") != 0 &&
                           strcmp(status, "failed") != 0 && strcmp(status, "aborted") != 0))
        return err_set(err, ERR_CONFIG, "store: finishing run %lld: bad status '%s'",
                       (long long)run_id, status != NULL ? status : "(null)");
    if (errors != NULL && !json_is_array(errors))
        return err_set(err, ERR_CONFIG, "store: finishing run %lld: errors is not an array",
                       (long long)run_id);
    if (summary != NULL && !json_is_object(summary))
        return err_set(err, ERR_CONFIG, "store: finishing run %lld: summary is not an object",
                       (long long)run_id);
    if (stats == NULL)
        stats = &zero;
    n = q_exec(st, err,
               "UPDATE runs SET finished_at = ?, status = ?, targets_total = ?, targets_failed = ?,"
               " api_calls = ?, resources_seen = ?, errors = coalesce(?, '[]'),"
               " summary = coalesce(?, '{}') WHERE id = ? AND status = 'running'",
               "isiiiijji", (int64_t)now, status, (int64_t)stats->targets_total,
               (int64_t)stats->targets_failed, (int64_t)stats->api_calls,
               (int64_t)stats->resources_seen, errors, summary, run_id);
    if (n < 0) {
        store_ctx(err, "finishing run %lld", (long long)run_id);
        return -1;
    }
    if (n == 0)
        return err_set(err, ERR_NOTFOUND, "store: finishing run %lld: no such running run",
                       (long long)run_id);
    return 0;
}

int
store_runs_abort_stale(struct store *st, time_t now, int all, size_t *ret_n, struct err *err)
{
    if (abort_stale(st, now, all, ret_n, err) < 0) {
        store_ctx(err, "marking aborted runs");
        return -1;
    }
    return 0;
}

int
store_run_get(struct store *st, int64_t run_id, json_t **ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *run = NULL, *errors = NULL, *summary = NULL;
    int rc = -1, r;

    if (q_prep(st, &s, err,
               "SELECT id, started_at, finished_at, status, targets_total, targets_failed,"
               " api_calls, resources_seen, errors, summary FROM runs"
               " WHERE id = ? OR (? = 0 AND id = (SELECT max(id) FROM runs))",
               "ii", run_id, run_id) < 0)
        goto out;
    r = q_step(st, s, err);
    if (r < 0)
        goto out;
    if (r == 0) {
        *ret = NULL;
        rc = 0;
        goto out;
    }
    if (col_json(s, 8, "run errors", &errors, err) < 0 ||
        col_json(s, 9, "run summary", &summary, err) < 0)
        goto out;
    run = json_pack("{s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:O, s:O}", "id",
                    (json_int_t)sqlite3_column_int64(s, 0), "started_at", col_time_json(s, 1),
                    "finished_at", col_time_json(s, 2), "status", col_str_json(s, 3),
                    "targets_total", (json_int_t)sqlite3_column_int64(s, 4), "targets_failed",
                    (json_int_t)sqlite3_column_int64(s, 5), "api_calls",
                    (json_int_t)sqlite3_column_int64(s, 6), "resources_seen",
                    (json_int_t)sqlite3_column_int64(s, 7), "errors", errors, "summary", summary);
    if (run == NULL) {
        oom(err);
        goto out;
    }
    *ret = run;
    rc = 0;
out:
    q_finish(st, s);
    json_decref(errors);
    json_decref(summary);
    if (rc < 0)
        store_ctx(err, "reading run %lld", (long long)run_id);
    return rc;
}

/* ---- the hash chain ---- */

static int
sha256_hex(const char *a, const char *b, char out[65], struct err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    if (ctx == NULL)
        return oom(err);
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, a, strlen(a)) == 1 && EVP_DigestUpdate(ctx, "\n", 1) == 1 &&
         EVP_DigestUpdate(ctx, b, strlen(b)) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || mdlen != 32)
        return err_set(err, ERR_INTERNAL, "store: SHA-256 failed");
    util_hex(md, mdlen, out);
    return 0;
}

/* The fields of one drift_events row, as hashed. */
struct event {
    int64_t seq, at, run_id, drift_id; /* run_id 0: none */
    const char *event, *account_id, *region, *vpc_id, *entry_id, *content, *resolution;
};

/* Canonical serialisation of an event (malloc'd, NULL on OOM). */
static char *
event_text(const struct event *e)
{
    json_t *j = json_pack(
        "{s:I, s:I, s:o, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "seq", (json_int_t)e->seq, "at",
        (json_int_t)e->at, "run", e->run_id != 0 ? json_integer(e->run_id) : json_null(),
        "drift_id", (json_int_t)e->drift_id, "event", e->event, "account_id", e->account_id,
        "region", e->region, "vpc_id", e->vpc_id, "entry_id", e->entry_id, "content", e->content,
        "resolution", e->resolution != NULL ? json_string(e->resolution) : json_null());
    char *text;

    if (j == NULL)
        return NULL;
    text = store_canon(j);
    json_decref(j);
    return text;
}

static int
event_hash(const struct event *e, const char *prev_hash, char out[65], struct err *err)
{
    char *text = event_text(e);
    int rc;

    if (text == NULL)
        return oom(err);
    rc = sha256_hex(prev_hash, text, out, err);
    free(text);
    return rc;
}

static int
append_event(struct store *st, struct event *e, struct err *err)
{
    sqlite3_stmt *s = NULL;
    char prev[65] = GENESIS_HASH, hash[65];
    int r;

    if (q_prep(st, &s, err, "SELECT seq, hash FROM drift_events ORDER BY seq DESC LIMIT 1", NULL) <
        0)
        return -1;
    r = q_step(st, s, err);
    e->seq = 1;
    if (r == 1) {
        const char *h = col_text(s, 1);

        e->seq = sqlite3_column_int64(s, 0) + 1;
        snprintf(prev, sizeof(prev), "%s", h != NULL ? h : "");
    }
    q_finish(st, s);
    if (r < 0)
        return -1;
    if (event_hash(e, prev, hash, err) < 0)
        return -1;
    return q_exec(st, err,
                  "INSERT INTO drift_events (seq, at, run_id, drift_id, event, account_id, region,"
                  " vpc_id, entry_id, content, resolution, prev_hash, hash)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  "iiIisssssssss", e->seq, e->at, e->run_id, e->drift_id, e->event, e->account_id,
                  e->region, e->vpc_id, e->entry_id, e->content, e->resolution, prev, hash) < 0
               ? -1
               : 0;
}

/* ---- drift rows ---- */

static const char DRIFT_COLS[] =
    "d.vpc_id, d.account_id, d.region, d.kind, d.resource_type, d.resource_id, d.component,"
    " d.details, d.first_seen_at, d.last_seen_at, d.resolved";

/* A row selected with DRIFT_COLS -> the drift query shape. */
static int
drift_row_json(sqlite3_stmt *s, json_t **ret, struct err *err)
{
    json_t *details = NULL, *row;

    if (col_json(s, 7, "drift details", &details, err) < 0)
        return -1;
    row = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "vpc_id",
                    col_str_json(s, 0), "account_id", col_str_json(s, 1), "region",
                    col_str_json(s, 2), "kind", col_str_json(s, 3), "resource_type",
                    col_str_json(s, 4), "resource_id", col_str_json(s, 5), "component",
                    col_str_json(s, 6), "details", details, "first_seen", col_time_json(s, 8),
                    "last_seen", col_time_json(s, 9), "resolved", col_str_json(s, 10));
    if (row == NULL)
        return oom(err);
    *ret = row;
    return 0;
}

static int
note_change(struct store *st, json_t *list, int64_t drift_id, struct err *err)
{
    char sql[512];
    sqlite3_stmt *s = NULL;
    json_t *row = NULL;
    int r;

    if (list == NULL)
        return 0;
    snprintf(sql, sizeof(sql), "SELECT %s FROM drift d WHERE d.id = ?", DRIFT_COLS);
    if (q_prep(st, &s, err, sql, "i", drift_id) < 0)
        return -1;
    r = q_step(st, s, err);
    if (r == 1 && drift_row_json(s, &row, err) == 0 && json_array_append_new(list, row) < 0)
        r = oom(err);
    else if (r == 1 && row == NULL)
        r = -1;
    q_finish(st, s);
    return r < 0 ? -1 : 0;
}

/* A diff entry reduced to what the store keeps (strings or null), so the
 * content hashed at open can be rebuilt exactly from the drift columns. */
static json_t *
normalise_entry(const json_t *e)
{
    static const char *const fields[] = {
        "kind", "key", "component", "component_type", "resource_type", "resource_id", NULL};
    json_t *n = json_object();
    size_t i;

    if (n == NULL)
        return NULL;
    for (i = 0; fields[i] != NULL; i++) {
        const json_t *v = json_object_get(e, fields[i]);

        if (json_object_set_new(n, fields[i], json_is_string(v) ? json_deep_copy(v) : json_null()) <
            0)
            goto fail;
    }
    if (json_object_set_new(n, "details",
                            json_is_object(json_object_get(e, "details"))
                                ? json_deep_copy(json_object_get(e, "details"))
                                : json_object()) < 0)
        goto fail;
    return n;
fail:
    json_decref(n);
    return NULL;
}

/* The normalised entry rebuilt from a drift row selected as
 * kind, key, component, component_type, resource_type, resource_id, details. */
static int
entry_from_row(sqlite3_stmt *s, int first, json_t **ret, struct err *err)
{
    json_t *details = NULL, *e;

    if (col_json(s, first + 6, "drift details", &details, err) < 0)
        return -1;
    e = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "kind", col_str_json(s, first), "key",
                  col_str_json(s, first + 1), "component", col_str_json(s, first + 2),
                  "component_type", col_str_json(s, first + 3), "resource_type",
                  col_str_json(s, first + 4), "resource_id", col_str_json(s, first + 5), "details",
                  details);
    if (e == NULL)
        return oom(err);
    *ret = e;
    return 0;
}

struct vpc_key {
    const char *account_id, *region, *vpc_id;
};

struct reconcile_out {
    long only_in_model, only_in_vpc, changed;
    size_t resolved_as; /* entries resolved with close_as */
};

static int
resolve_entry(struct store *st, const struct vpc_key *v, int64_t drift_id, const char *entry_id,
              const char *content, const char *resolution, int64_t run_id, time_t now,
              json_t *changes, struct err *err)
{
    struct event ev = {0,         (int64_t)now, run_id,   drift_id, "resolve", v->account_id,
                       v->region, v->vpc_id,    entry_id, content,  resolution};

    if (q_exec(st, err,
               "UPDATE drift SET resolved = ?, resolved_run = ?, resolved_at = ? WHERE id = ?",
               "sIii", resolution, run_id, (int64_t)now, drift_id) < 0)
        return -1;
    if (append_event(st, &ev, err) < 0)
        return -1;
    return note_change(st, changes != NULL ? json_object_get(changes, "resolved") : NULL, drift_id,
                       err);
}

static int
open_entry(struct store *st, const struct vpc_key *v, const json_t *norm, const char *entry_id,
           const char *content, int64_t run_id, time_t now, json_t *changes, struct err *err)
{
    struct event ev = {0,         (int64_t)now, run_id,   0,       "open", v->account_id,
                       v->region, v->vpc_id,    entry_id, content, NULL};

    if (q_exec(st, err,
               "INSERT INTO drift (account_id, region, vpc_id, entry_id, kind, resource_type,"
               " resource_id, key, component, component_type, details, first_seen_run,"
               " last_seen_run, first_seen_at, last_seen_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "ssssssssssjIIii", v->account_id, v->region, v->vpc_id, entry_id,
               json_string_value(json_object_get(norm, "kind")),
               json_string_value(json_object_get(norm, "resource_type")),
               json_string_value(json_object_get(norm, "resource_id")),
               json_string_value(json_object_get(norm, "key")),
               json_string_value(json_object_get(norm, "component")),
               json_string_value(json_object_get(norm, "component_type")),
               json_object_get(norm, "details"), run_id, run_id, (int64_t)now, (int64_t)now) < 0)
        return -1;
    ev.drift_id = sqlite3_last_insert_rowid(st->db);
    if (append_event(st, &ev, err) < 0)
        return -1;
    return note_change(st, changes != NULL ? json_object_get(changes, "opened") : NULL, ev.drift_id,
                       err);
}

/*
 * What a VPC's drift rows were last reconciled with besides the two models:
 * the diff rules (RECONCILE_VERSION, bumped whenever diff_models' output
 * can change for the same input) and the ignores. Stored in
 * vpcs.reconciled; a sync whose discovered snapshot is byte-identical to
 * the stored one and whose digest matches skips the diff (see
 * store_apply_staged): drift = diff(saved, discovered, ignores) cannot have
 * changed, because every change of the saved model reconciles at once.
 */
#define RECONCILE_VERSION "diff/1"

static int
reconcile_digest(const struct cfg_ignore *ignores, size_t nignores, char out[65], struct err *err)
{
    json_t *list = json_array();
    char *text = NULL;
    int rc = -1;

    if (list == NULL)
        return oom(err);
    for (size_t i = 0; i < nignores; i++) {
        const struct cfg_ignore *g = &ignores[i];
        json_t *one = json_pack("[s?, s?, s?, s?]", g->resource_type, g->tag_key, g->tag_value,
                                g->attribute);

        if (one == NULL || json_array_append_new(list, one) < 0) {
            oom(err);
            goto out;
        }
    }
    text = store_canon(list);
    if (text == NULL) {
        oom(err);
        goto out;
    }
    rc = sha256_hex(RECONCILE_VERSION, text, out, err);
out:
    free(text);
    json_decref(list);
    return rc;
}

/*
 * Brings the drift rows and status of one VPC in line with
 * diff(saved, disc). saved NULL: no model (yellow, everything resolved).
 * run_id 0: outside a run. Entries no longer present are resolved close_as.
 */
static int
reconcile(struct store *st, const struct vpc_key *v, const json_t *saved, const json_t *disc,
          const struct cfg_ignore *ignores, size_t nignores, int64_t run_id, time_t now,
          const char *close_as, json_t *changes, struct reconcile_out *out, struct err *err)
{
    json_t *entries = NULL, *open = NULL, *seen = NULL;
    sqlite3_stmt *s = NULL;
    char digest[65];
    const char *status;
    const char *eid;
    json_t *row;
    size_t i;
    int rc = -1, r;

    memset(out, 0, sizeof(*out));
    if (saved != NULL) {
        if (diff_models(saved, disc, ignores, nignores, &entries, err) < 0)
            goto out;
    } else if ((entries = json_array()) == NULL) {
        oom(err);
        goto out;
    }
    /* open rows: entry_id -> {"id", "content"} */
    open = json_object();
    seen = json_object();
    if (open == NULL || seen == NULL) {
        oom(err);
        goto out;
    }
    if (q_prep(st, &s, err,
               "SELECT id, entry_id, kind, key, component, component_type, resource_type,"
               " resource_id, details FROM drift"
               " WHERE account_id = ? AND region = ? AND vpc_id = ? AND resolved IS NULL",
               "sss", v->account_id, v->region, v->vpc_id) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        json_t *e = NULL;
        char *content;

        if (entry_from_row(s, 2, &e, err) < 0)
            goto out;
        content = store_canon(e);
        json_decref(e);
        row = content != NULL
                  ? json_pack("{s:I, s:s}", "id", (json_int_t)sqlite3_column_int64(s, 0), "content",
                              content)
                  : NULL;
        free(content);
        if (row == NULL || json_object_set_new(open, col_text(s, 1), row) < 0) {
            oom(err);
            goto out;
        }
    }
    q_finish(st, s);
    s = NULL;
    if (r < 0)
        goto out;

    for (i = 0; i < json_array_size(entries); i++) {
        const json_t *e = json_array_get(entries, i);
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *norm = normalise_entry(e);
        char *id = diff_entry_id(e), *content = norm != NULL ? store_canon(norm) : NULL;
        const json_t *prev;

        if (norm == NULL || id == NULL || content == NULL) {
            json_decref(norm);
            free(id);
            free(content);
            oom(err);
            goto out;
        }
        if (json_object_get(seen, id) != NULL) {
            /* two entries with one identity (an attribute key containing a
             * dot can spell a nested path): the first one stands for both */
            json_decref(norm);
            free(id);
            free(content);
            continue;
        }
        if (json_object_set_new(seen, id, json_true()) < 0) {
            json_decref(norm);
            free(id);
            free(content);
            oom(err);
            goto out;
        }
        if (strcmp(kind, DIFF_ONLY_IN_MODEL) == 0)
            out->only_in_model++;
        else if (strcmp(kind, DIFF_ONLY_IN_VPC) == 0)
            out->only_in_vpc++;
        else
            out->changed++;
        prev = json_object_get(open, id);
        r = 0;
        if (prev != NULL &&
            strcmp(json_string_value(json_object_get(prev, "content")), content) == 0) {
            r = q_exec(
                st, err,
                "UPDATE drift SET last_seen_at = ?, last_seen_run = coalesce(?, last_seen_run)"
                " WHERE id = ?",
                "iIi", (int64_t)now, run_id,
                (int64_t)json_integer_value(json_object_get(prev, "id")));
        } else {
            if (prev != NULL) /* same identity, new content: close and reopen */
                r = resolve_entry(st, v, (int64_t)json_integer_value(json_object_get(prev, "id")),
                                  id, json_string_value(json_object_get(prev, "content")), "gone",
                                  run_id, now, changes, err);
            if (r == 0)
                r = open_entry(st, v, norm, id, content, run_id, now, changes, err);
        }
        if (r >= 0 && prev != NULL)
            r = json_object_del(open, id) < 0 ? oom(err) : 0;
        json_decref(norm);
        free(id);
        free(content);
        if (r < 0)
            goto out;
    }
    json_object_foreach(open, eid, row)
    {
        if (resolve_entry(st, v, (int64_t)json_integer_value(json_object_get(row, "id")), eid,
                          json_string_value(json_object_get(row, "content")), close_as, run_id, now,
                          changes, err) < 0)
            goto out;
        out->resolved_as++;
    }

    status = saved == NULL                                              ? "yellow"
             : out->only_in_model + out->only_in_vpc + out->changed > 0 ? "red"
                                                                        : "green";
    if (reconcile_digest(ignores, nignores, digest, err) < 0)
        goto out;
    if (q_exec(st, err,
               "INSERT INTO vpcs (account_id, region, vpc_id, status, only_in_model, only_in_vpc,"
               " changed, reconciled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
               " ON CONFLICT (account_id, region, vpc_id) DO UPDATE SET status = excluded.status,"
               " only_in_model = excluded.only_in_model, only_in_vpc = excluded.only_in_vpc,"
               " changed = excluded.changed, reconciled = excluded.reconciled",
               "ssssiiis", v->account_id, v->region, v->vpc_id, status,
               (int64_t)out->only_in_model, (int64_t)out->only_in_vpc, (int64_t)out->changed,
               digest) < 0)
        goto out;
    rc = 0;
out:
    q_finish(st, s);
    json_decref(entries);
    json_decref(open);
    json_decref(seen);
    return rc;
}

/* ---- models ---- */

/* Loads the JSON document of table (models|discovered) for v; *ret NULL when
 * absent. table is one of two constants, never user input. */
static int
load_doc(struct store *st, const char *table, const struct vpc_key *v, json_t **ret,
         struct err *err)
{
    sqlite3_stmt *s = NULL;
    const char *sql =
        strcmp(table, "models") == 0
            ? "SELECT model FROM models WHERE account_id = ? AND region = ? AND vpc_id = ?"
            : "SELECT model FROM discovered WHERE account_id = ? AND region = ? AND vpc_id = ?";
    json_t *doc = NULL;
    int r;

    if (q_prep(st, &s, err, sql, "sss", v->account_id, v->region, v->vpc_id) < 0)
        return -1;
    r = q_step(st, s, err);
    if (r == 1) {
        if (col_json(s, 0, strcmp(table, "models") == 0 ? "saved model" : "discovered snapshot",
                     &doc, err) < 0)
            r = -1;
        else if (!json_is_object(doc))
            r = err_set(err, ERR_STORE, "stored model is not a JSON object");
    }
    q_finish(st, s);
    if (r < 0) {
        json_decref(doc);
        return -1;
    }
    *ret = r == 1 ? doc : NULL;
    return 0;
}

static int
check_ids(const json_t *model, const struct vpc_key *v, const char *what, struct err *err)
{
    static const char *const names[] = {"account_id", "region", "vpc_id"};
    const char *want[3];
    size_t i;

    want[0] = v->account_id;
    want[1] = v->region;
    want[2] = v->vpc_id;
    for (i = 0; i < 3; i++) {
        const char *got = json_string_value(json_object_get(model, names[i]));

        if (got == NULL || strcmp(got, want[i]) != 0)
            return err_set(err, ERR_CONFIG, "%s: '%s' is '%s', expected '%s'", what, names[i],
                           got != NULL ? got : "(missing)", want[i]);
    }
    return 0;
}

void
store_vpc_ref_clear(struct store_vpc_ref *ref)
{
    if (ref == NULL)
        return;
    free(ref->account_id);
    free(ref->region);
    free(ref->vpc_id);
    memset(ref, 0, sizeof(*ref));
}

static struct vpc_key
key_of(const struct store_vpc_ref *r)
{
    struct vpc_key k = {r->account_id, r->region, r->vpc_id};

    return k;
}

/* VPCs known before (vpcs or models rows) that a successful discovery of
 * their target no longer finds: an unmodelled one is forgotten, a modelled
 * one keeps its model and everything in it becomes only_in_model. */
static int
apply_gone(struct store *st, int64_t run_id, time_t now, const char *account_id,
           const char *region, json_t *gone, const struct cfg_ignore *ignores, size_t nignores,
           json_t *changes, struct err *err)
{
    json_t *saved = NULL, *model;
    const char *vpc_id;
    int rc = -1;

    json_object_foreach(gone, vpc_id, model)
    {
        struct vpc_key v = {account_id, region, vpc_id};
        struct reconcile_out counts;

        if (q_exec(st, err,
                   "DELETE FROM discovered WHERE account_id = ? AND region = ? AND vpc_id = ?",
                   "sss", account_id, region, vpc_id) < 0)
            goto out;
        if (load_doc(st, "models", &v, &saved, err) < 0)
            goto out;
        if (saved == NULL) {
            /* an unmodelled VPC that went away: nothing left to track */
            if (q_exec(st, err,
                       "DELETE FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?", "sss",
                       account_id, region, vpc_id) < 0)
                goto out;
            continue;
        }
        if (reconcile(st, &v, saved, NULL, ignores, nignores, run_id, now, "gone", changes, &counts,
                      err) < 0)
            goto out;
        json_decref(saved);
        saved = NULL;
        if (q_exec(st, err,
                   "UPDATE vpcs SET error = NULL, last_sync = ?, last_run = ?"
                   " WHERE account_id = ? AND region = ? AND vpc_id = ?",
                   "iIsss", (int64_t)now, run_id, account_id, region, vpc_id) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(saved);
    return rc;
}


/* ---- staging: one run's results before its commit ---- */

/* Target index of store_apply_target's own staged rows (runs use >= 0). */
#define STAGE_DIRECT ((int64_t)-1)

/*
 * A staged VPC model whose text is NULL is the VPC's stored snapshot
 * (discovered.model), staged by store_stage_reuse: a read equal to the last
 * one. Copying those texts into the staging file and comparing them with
 * themselves at the commit was most of an unchanged run's I/O (100k
 * resources: 130 MB of model text twice). Readers take the text with
 * STAGED_MODEL_TEXT and fail on a snapshot that is gone.
 */
#define STAGED_MODEL_TEXT                                                                      \
    "coalesce(m.model, (SELECT d.model FROM discovered d WHERE d.account_id = m.account_id"     \
    " AND d.region = m.region AND d.vpc_id = m.vpc_id))"

/* The staging database: ATTACH of the empty name opens a private
 * temporary database, a file SQLite creates on the first write and deletes
 * when it is detached. Emptying the staging area is then dropping the
 * file: DELETE FROM on the tables wrote every freed page to the journal
 * first (a second copy of the run's staging, 0.4 s of CPU per 200 MB). */
static int
stage_attach(struct store *st, struct err *err)
{
    if (q_exec(st, err, "ATTACH DATABASE '' AS stage", NULL) < 0 ||
        q_exec(st, err, "PRAGMA stage.page_size = " STORE_PAGE_SIZE_TEXT, NULL) < 0 ||
        q_exec(st, err, "PRAGMA stage.cache_size = -8192", NULL) < 0)
        return -1;
    return 0;
}

/* Creates the staging tables when this connection has none yet. */
static int
stage_create(struct store *st, struct err *err)
{
    if (q_exec(st, err,
               "CREATE TABLE IF NOT EXISTS stage.stage_models ("
               " target INTEGER NOT NULL, account_id TEXT NOT NULL, region TEXT NOT NULL,"
               " vpc_id TEXT NOT NULL, name TEXT, link TEXT, model TEXT,"
               " PRIMARY KEY (target, account_id, region, vpc_id))",
               NULL) < 0 ||
        q_exec(st, err,
               "CREATE TABLE IF NOT EXISTS stage.stage_findings ("
               " id INTEGER PRIMARY KEY, target INTEGER NOT NULL, finding_id TEXT,"
               " summary TEXT NOT NULL)",
               NULL) < 0 ||
        q_exec(
            st, err,
            "CREATE INDEX IF NOT EXISTS stage.stage_findings_target ON stage_findings (target, id)",
            NULL) < 0 ||
        q_exec(st, err,
               "CREATE TABLE IF NOT EXISTS stage.stage_parts ("
               " target INTEGER NOT NULL, account_id TEXT NOT NULL, region TEXT NOT NULL,"
               " rules TEXT NOT NULL, unmapped TEXT NOT NULL, reused INTEGER NOT NULL,"
               " models_digest TEXT,"
               " PRIMARY KEY (target, account_id, region))",
               NULL) < 0 ||
        q_exec(st, err,
               "CREATE TABLE IF NOT EXISTS stage.stage_sums ("
               " target INTEGER NOT NULL, account_id TEXT NOT NULL, region TEXT NOT NULL,"
               " digest TEXT, PRIMARY KEY (target, account_id, region))",
               NULL) < 0 ||
        q_exec(st, err,
               "CREATE TABLE IF NOT EXISTS stage.stage_items ("
               " target INTEGER NOT NULL, hash BLOB NOT NULL, ident TEXT NOT NULL,"
               " item TEXT NOT NULL)",
               NULL) < 0 ||
        q_exec(st, err,
               "CREATE INDEX IF NOT EXISTS stage.stage_items_target ON stage_items (target)",
               NULL) < 0)
        return -1;
    return 0;
}

int
store_stage_reset(struct store *st, struct err *err)
{
    if (!sqlite3_get_autocommit(st->db))
        return err_set(err, ERR_INTERNAL, "store: emptying the staging area inside a transaction");
    /* statements prepared against the old file re-prepare on their next use */
    if (q_exec(st, err, "DETACH DATABASE stage", NULL) < 0 || stage_attach(st, err) < 0 ||
        stage_create(st, err) < 0) {
        store_ctx(err, "preparing the staging area");
        return -1;
    }
    return 0;
}

/* A deferred transaction that only writes staging tables takes no lock on the
 * database file, unlike tx_enter's BEGIN IMMEDIATE. */
static int
stage_begin(struct store *st, struct err *err)
{
    if (!sqlite3_get_autocommit(st->db))
        return err_set(err, ERR_INTERNAL, "store: staging inside an open transaction");
    return q_exec(st, err, "BEGIN", NULL) < 0 ? -1 : 0;
}

static int
stage_end(struct store *st, int ok, struct err *err)
{
    struct err ignored = {0};

    if (ok && q_exec(st, err, "COMMIT", NULL) >= 0)
        return 0;
    if (!sqlite3_get_autocommit(st->db))
        (void)q_exec(st, &ignored, "ROLLBACK", NULL);
    return -1;
}

/* The link document is what compliance linking reads: staged beside the
 * model, the commit need not cut it out of the whole text. */
int
store_staged_model_make(struct store_staged_model *m, const char *vpc_id, const json_t *model)
{
    m->vpc_id = vpc_id;
    m->name = vpc_id != NULL ? json_string_value(json_object_get(model, "name")) : NULL;
    m->model = store_canon(model);
    m->link = compliance_link_text(model);
    return m->model != NULL && m->link != NULL ? 0 : -1;
}

void
store_staged_model_clear(struct store_staged_model *m)
{
    free((char *)(uintptr_t)m->model);
    free((char *)(uintptr_t)m->link);
    m->model = m->link = NULL;
}

/* The staged models' VPC ids, "" for the account document, as SQLite's
 * BINARY collation orders them (staged_digest's ORDER BY): bytes compared
 * unsigned, a prefix first; strcmp does exactly that for texts without NUL. */
static const char *
sum_key(const struct store_staged_model *m)
{
    return m->vpc_id != NULL ? m->vpc_id : "";
}

static int
sum_cmp(const void *a, const void *b)
{
    const struct store_staged_model *const *x = a, *const *y = b;

    return strcmp(sum_key(*x), sum_key(*y));
}

int
store_staged_models_sum(const struct store_staged_model *v, size_t n, char out[65])
{
    const struct store_staged_model **order = calloc(n + 1, sizeof(*order));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = order != NULL && ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

    for (size_t i = 0; ok && i < n; i++) {
        order[i] = &v[i];
        ok = v[i].model != NULL;
    }
    if (ok)
        qsort(order, n, sizeof(*order), sum_cmp);
    for (size_t i = 0; ok && i < n; i++) {
        const char *key = sum_key(order[i]);

        /* two models under one id: SQL's order between them is not fixed */
        ok = (i == 0 || strcmp(sum_key(order[i - 1]), key) != 0) &&
             EVP_DigestUpdate(ctx, key, strlen(key) + 1) == 1 &&
             EVP_DigestUpdate(ctx, order[i]->model, strlen(order[i]->model) + 1) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    if (ok)
        util_hex(md, mdlen, out);
    EVP_MD_CTX_free(ctx);
    free(order);
    return ok ? 0 : -1;
}

/* Records the digest a worker made of the models it stages for target's
 * account x region (NULL: none). The kept digest stands only for a group
 * staged in one call: a second call for the same group, fresh or reused,
 * forgets it and staged_digest reads the rows back. */
static int
sum_note(struct store *st, int64_t target, const char *account_id, const char *region,
         const char *digest, struct err *err)
{
    return q_exec(st, err,
                  "INSERT INTO stage.stage_sums (target, account_id, region, digest)"
                  " VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET digest = NULL",
                  "isss", target, account_id, region, digest) < 0 ? -1 : 0;
}

int
store_stage_models(struct store *st, int64_t target, const char *account_id, const char *region,
                   const struct store_staged_model *v, size_t n, const char *digest,
                   struct err *err)
{
    int ok = 0;

    if (stage_begin(st, err) < 0)
        goto out;
    if (digest != NULL && strlen(digest) != 64) {
        err_set(err, ERR_INTERNAL, "a models digest of %zu characters", strlen(digest));
        goto out;
    }
    if (sum_note(st, target, account_id, region, digest, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (v[i].model == NULL) { /* NULL stands for a reused snapshot only */
            err_set(err, ERR_INTERNAL, "no model text for VPC '%s'",
                    v[i].vpc_id != NULL ? v[i].vpc_id : "");
            goto out;
        }
        if (q_exec(st, err,
                   "INSERT INTO stage.stage_models (target, account_id, region, vpc_id, name,"
                   " model, link) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   "issss" "ss", target, account_id, region,
                   v[i].vpc_id != NULL ? v[i].vpc_id : "", v[i].name, v[i].model,
                   v[i].link) < 0)
            goto out;
    }
    ok = 1;
out:
    if (stage_end(st, ok, err) < 0) {
        store_ctx(err, "staging the models of %s/%s", account_id, region);
        return -1;
    }
    return 0;
}

int
store_stage_finding_rows(struct store *st, int64_t target, const struct store_staged_finding *v,
                         size_t n, struct err *err)
{
    int ok = 0;

    if (stage_begin(st, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (v[i].text == NULL) {
            err_set(err, ERR_INTERNAL, "store: staged finding %zu has no text", i + 1);
            goto out;
        }
        if (q_exec(st, err,
                   "INSERT INTO stage.stage_findings (target, finding_id, summary) VALUES (?, ?, ?)",
                   "iss", target, v[i].id, v[i].text) < 0)
            goto out;
    }
    ok = 1;
out:
    if (stage_end(st, ok, err) < 0) {
        store_ctx(err, "staging findings");
        return -1;
    }
    return 0;
}

/* The staged models of a target cut down in SQL to what compliance linking
 * reads: account_id, vpc_id and each component's key and resource_id (a
 * few dozen bytes per component instead of the whole document as a tree):
 * the worker's link document when it staged one; else (a reused snapshot,
 * store_apply_target) cut out of the model text here. Columns: vpc_id,
 * the reused snapshot being gone, the link text. */
static const char *const staged_links_sql =
    "SELECT vpc_id, link IS NULL AND model IS NULL, coalesce(link, json_object('account_id',"
    "  json_extract(model, '$.account_id'), 'vpc_id', json_extract(model, '$.vpc_id'),"
    "  'components',"
    "  (SELECT json_group_array(json_object('key', json_extract(c.value, '$.key'),"
    "     'resource_id', json_extract(c.value, '$.resource_id')))"
    "   FROM json_each(model, '$.components') c)))"
    " FROM (SELECT m.vpc_id, m.link, CASE WHEN m.link IS NULL THEN " STAGED_MODEL_TEXT
    "  END AS model FROM stage.stage_models m"
    "  WHERE m.target = ? AND m.account_id = ? AND m.region = ?)"
    " ORDER BY vpc_id";

/* Runs staged_links_sql, calling row(ctx, vpc_id, statement) per staged
 * model in vpc_id order ("" is the account document); the error of either
 * gets the context of the read. */
static int
staged_links(struct store *st, int64_t target, const char *account_id, const char *region,
             int (*row)(void *ctx, const char *vpc, sqlite3_stmt *s, struct err *err), void *ctx,
             struct err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = -1, r;

    if (q_prep(st, &s, err, staged_links_sql, "iss", target, account_id, region) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        const char *vpc = col_text(s, 0);

        if (sqlite3_column_int(s, 1) != 0) {
            err_set(err, ERR_STORE, "the reused snapshot of %s is gone", vpc);
            goto out;
        }
        if (row(ctx, vpc, s, err) < 0)
            goto out;
    }
    if (r == 0)
        rc = 0;
out:
    q_finish(st, s);
    if (rc < 0)
        store_ctx(err, "reading the staged models of %s/%s", account_id, region);
    return rc;
}

void
store_link_texts_clear(struct store_link_texts *t)
{
    if (t == NULL)
        return;
    free(t->buf);
    free(t->off);
    free(t->len);
    memset(t, 0, sizeof(*t));
}

/* Appends text[0..len) and its NUL to t->buf; its offset is *ret_off. */
static int
link_text_push(struct store_link_texts *t, const char *text, size_t len, size_t *ret_off,
               struct err *err)
{
    if (t->capbuf - t->nbuf < len + 1) {
        size_t cap = t->capbuf ? t->capbuf : 64 * 1024;
        char *grown;

        while (cap - t->nbuf < len + 1)
            cap *= 2;
        if ((grown = realloc(t->buf, cap)) == NULL) {
            oom(err);
            return -1;
        }
        t->buf = grown;
        t->capbuf = cap;
    }
    memcpy(t->buf + t->nbuf, text, len);
    t->buf[t->nbuf + len] = '\0';
    *ret_off = t->nbuf;
    t->nbuf += len + 1;
    return 0;
}

struct link_texts_read {
    struct store_link_texts *t;
    size_t acc_off, acc_len; /* the account document, kept apart */
    int acc;
    size_t cap; /* of t->off and t->len */
};

/* Room in t->off and t->len for text t->n. */
static int
link_texts_room(struct link_texts_read *rd, struct err *err)
{
    struct store_link_texts *t = rd->t;
    size_t cap = rd->cap ? rd->cap * 2 : 16, *grown;

    if (t->off != NULL && t->len != NULL && t->n < rd->cap)
        return 0;
    if ((grown = realloc(t->off, cap * sizeof(*grown))) == NULL) {
        oom(err);
        return -1;
    }
    t->off = grown;
    if ((grown = realloc(t->len, cap * sizeof(*grown))) == NULL) {
        oom(err);
        return -1;
    }
    t->len = grown;
    rd->cap = cap;
    return 0;
}

static int
link_text_row(void *ctx, const char *vpc, sqlite3_stmt *s, struct err *err)
{
    struct link_texts_read *rd = ctx;
    struct store_link_texts *t = rd->t;
    const char *text = col_text(s, 2);
    size_t len = (size_t)sqlite3_column_bytes(s, 2), off = 0;

    if (text == NULL) { /* what col_json reads as null */
        text = "null";
        len = 4;
    }
    if (link_text_push(t, text, len, &off, err) < 0)
        return -1;
    if (vpc[0] == '\0') {
        rd->acc = 1;
        rd->acc_off = off;
        rd->acc_len = len;
        return 0;
    }
    if (link_texts_room(rd, err) < 0)
        return -1;
    t->off[t->n] = off;
    t->len[t->n] = len;
    t->n++;
    return 0;
}

int
store_staged_link_texts(struct store *st, int64_t target, const char *account_id,
                        const char *region, struct store_link_texts *ret, struct err *err)
{
    struct store_link_texts t = {0};
    struct link_texts_read rd = {&t, 0, 0, 0, 0};

    if (staged_links(st, target, account_id, region, link_text_row, &rd, err) < 0)
        goto fail;
    if (rd.acc) { /* the account document goes after the VPCs' */
        if (link_texts_room(&rd, err) < 0) {
            store_ctx(err, "reading the staged models of %s/%s", account_id, region);
            goto fail;
        }
        t.off[t.n] = rd.acc_off;
        t.len[t.n] = rd.acc_len;
        t.has_account = 1;
    }
    *ret = t;
    return 0;
fail:
    store_link_texts_clear(&t);
    return -1;
}

/* SHA-256 over the staged VPC ids and model texts (see the header). */
static int
staged_digest(struct store *st, int64_t target, const char *account_id, const char *region,
              char out[65], struct err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    sqlite3_stmt *s = NULL;
    int r = -1, ok;

    if (ctx == NULL)
        return oom(err);
    /* the worker's own digest of the texts it staged (store_stage_models) */
    if (q_prep(st, &s, err,
               "SELECT digest FROM stage.stage_sums WHERE target = ? AND account_id = ?"
               " AND region = ?",
               "iss", target, account_id, region) < 0)
        goto out;
    if ((r = q_step(st, s, err)) < 0)
        goto out;
    if (r == 1 && col_text(s, 0) != NULL && strlen(col_text(s, 0)) == 64) {
        memcpy(out, col_text(s, 0), 65);
        r = 0;
        goto out;
    }
    q_finish(st, s);
    s = NULL;
    r = 0; /* no row: the digest of nothing */
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    if (ok && q_prep(st, &s, err,
                     "SELECT m.vpc_id, " STAGED_MODEL_TEXT " FROM stage.stage_models m"
                     " WHERE m.target = ? AND m.account_id = ? AND m.region = ?"
                     " ORDER BY m.vpc_id",
                     "iss", target, account_id, region) < 0) {
        r = -1;
        goto out;
    }
    while (ok && (r = q_step(st, s, err)) == 1) {
        if (col_text(s, 1) == NULL) {
            r = err_set(err, ERR_STORE, "the reused snapshot of %s is gone", col_text(s, 0));
            break;
        }
        /* both texts with their terminating NUL: no two sequences collide */
        ok = EVP_DigestUpdate(ctx, col_text(s, 0), strlen(col_text(s, 0)) + 1) == 1 &&
             EVP_DigestUpdate(ctx, col_text(s, 1), strlen(col_text(s, 1)) + 1) == 1;
    }
    if (r < 0)
        goto out;
    if (!ok || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        r = err_set(err, ERR_INTERNAL, "store: SHA-256 failed");
        goto out;
    }
    util_hex(md, mdlen, out);
    r = 0;
out:
    q_finish(st, s);
    EVP_MD_CTX_free(ctx);
    return r < 0 ? -1 : 0;
}

int
store_staged_models_digest(struct store *st, int64_t target, const char *account_id,
                           const char *region, char out[65], struct err *err)
{
    sqlite3_stmt *s = NULL;
    int reused = 0, r;

    /* kept: made when the part was applied (apply_part) over these same
     * rows, or, for a read that reuses the stored snapshots, on the target */
    if (q_prep(st, &s, err,
               "SELECT p.reused, coalesce(p.models_digest, CASE WHEN p.reused THEN"
               " (SELECT t.models_digest FROM targets t WHERE t.account_id = p.account_id"
               " AND t.region = p.region) END)"
               " FROM stage.stage_parts p WHERE p.target = ? AND p.account_id = ?"
               " AND p.region = ?",
               "iss", target, account_id, region) < 0) {
        r = -1;
        goto out;
    }
    r = q_step(st, s, err);
    if (r == 1) {
        const char *kept = col_text(s, 1);

        reused = sqlite3_column_int(s, 0);
        if (kept != NULL && strlen(kept) == 64) {
            memcpy(out, kept, 65);
            r = 0;
            goto out;
        }
    }
    q_finish(st, s);
    s = NULL;
    if (r < 0)
        goto out;
    r = staged_digest(st, target, account_id, region, out, err);
    /* the staged rows of a reused read are the stored snapshots themselves */
    if (r == 0 && reused &&
        q_exec(st, err, "UPDATE targets SET models_digest = ? WHERE account_id = ? AND region = ?",
               "sss", out, account_id, region) < 0)
        r = -1;
out:
    q_finish(st, s);
    if (r < 0)
        store_ctx(err, "hashing the staged models of %s/%s", account_id, region);
    return r < 0 ? -1 : 0;
}

/* One staged VPC: touched when its snapshot and reconcile digest are
 * unchanged, else stored and reconciled like store_apply_target does.
 * text NULL: the stored snapshot itself was staged (store_stage_reuse). */
static int
apply_staged_vpc(struct store *st, int64_t run_id, time_t now, const struct vpc_key *v,
                 const char *name, const char *text, const char *digest,
                 const struct cfg_ignore *ignores, size_t nignores, json_t *changes,
                 int *ret_unchanged, struct err *err)
{
    json_t *model = NULL, *saved = NULL;
    struct reconcile_out counts;
    json_error_t jerr;
    char what[256];
    int64_t fresh = 0, state = 0;
    int same, rc = -1;

    *ret_unchanged = 0;
    /* an unchanged snapshot keeps its row as it is: rewriting it would copy
     * the whole model text into the WAL (discovered.run_id and
     * discovered_at say when this content was first discovered;
     * vpcs.last_sync and last_run when it was last confirmed). A reused
     * snapshot (text NULL) is the row itself: it only has to be there. */
    /* state: 0 no row, 1 a row with other text, 2 the same snapshot */
    if (q_int(st, &state, err,
              "SELECT coalesce((SELECT CASE WHEN ?4 IS NULL OR model = ?4 THEN 2 ELSE 1 END"
              " FROM discovered WHERE account_id = ?1 AND region = ?2 AND vpc_id = ?3), 0)",
              "ssss", v->account_id, v->region, v->vpc_id, text) < 0)
        goto out;
    same = state == 2;
    if (text == NULL && !same) {
        err_set(err, ERR_STORE, "the reused snapshot of %s/%s/%s is gone", v->account_id,
                v->region, v->vpc_id);
        goto out;
    }
    if (same == 1 &&
        q_int(st, &fresh, err,
              "SELECT reconciled IS ? FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?",
              "ssss", digest, v->account_id, v->region, v->vpc_id) < 0)
        goto out;
    if (fresh) {
        if (q_exec(st, err,
                   "UPDATE drift SET last_seen_at = ?, last_seen_run = coalesce(?, last_seen_run)"
                   " WHERE account_id = ? AND region = ? AND vpc_id = ? AND resolved IS NULL",
                   "iIsss", (int64_t)now, run_id, v->account_id, v->region, v->vpc_id) < 0)
            goto out;
        *ret_unchanged = 1;
    } else {
        if (load_doc(st, "models", v, &saved, err) < 0)
            goto out;
        /* without a saved model there is nothing to diff: the text is the
         * mapping's own output and is stored as it is */
        if (saved != NULL) {
            snprintf(what, sizeof(what), "discovered model for %s/%s/%s", v->account_id,
                     v->region, v->vpc_id);
            if (text != NULL) {
                model = jsonr_loads(text, 0, &jerr);
                if (model == NULL) {
                    err_set(err, ERR_INTERNAL, "%s: not valid JSON: %s", what, jerr.text);
                    goto out;
                }
            } else { /* reused, reconciled with other inputs: the snapshot again */
                if (load_doc(st, "discovered", v, &model, err) < 0)
                    goto out;
                if (model == NULL) { /* checked above, in the same transaction */
                    err_set(err, ERR_STORE, "the reused snapshot of %s/%s/%s is gone",
                            v->account_id, v->region, v->vpc_id);
                    goto out;
                }
            }
            if (diff_check_model(model, what, err) < 0 || check_ids(model, v, what, err) < 0)
                goto out;
        }
        /* a plain INSERT or UPDATE, not an upsert: SQLite copies every page
         * an upsert writes into a statement journal first (the whole model
         * text written twice) */
        if (state == 0 &&
            q_exec(st, err,
                   "INSERT INTO discovered (account_id, region, vpc_id, model, run_id,"
                   " discovered_at) VALUES (?, ?, ?, ?, ?, ?)",
                   "ssssIi", v->account_id, v->region, v->vpc_id, text, run_id, (int64_t)now) < 0)
            goto out;
        if (state == 1 &&
            q_exec(st, err,
                   "UPDATE discovered SET model = ?4, run_id = ?5, discovered_at = ?6"
                   " WHERE account_id = ?1 AND region = ?2 AND vpc_id = ?3",
                   "ssssIi", v->account_id, v->region, v->vpc_id, text, run_id, (int64_t)now) < 0)
            goto out;
        if (reconcile(st, v, saved, model, ignores, nignores, run_id, now, "gone", changes, &counts,
                      err) < 0)
            goto out;
    }
    if (q_exec(st, err,
               "UPDATE vpcs SET name = ?, error = NULL, last_sync = ?, last_run = ?"
               " WHERE account_id = ? AND region = ? AND vpc_id = ?",
               "siIsss", name, (int64_t)now, run_id, v->account_id, v->region, v->vpc_id) < 0)
        goto out;
    rc = 0;
out:
    json_decref(model);
    json_decref(saved);
    return rc;
}

/* A fresh read's staged models have just become the target's snapshots:
 * their digest, made once here, is kept on the target and on the staged
 * part (store_staged_models_digest returns it for the judge inputs). */
static int
keep_applied_digest(struct store *st, int64_t target, const char *account_id,
                    const char *region, struct err *err)
{
    char d[65];

    if (staged_digest(st, target, account_id, region, d, err) < 0 ||
        q_exec(st, err, "UPDATE targets SET models_digest = ? WHERE account_id = ? AND region = ?",
               "sss", d, account_id, region) < 0 ||
        q_exec(st, err,
               "UPDATE stage.stage_parts SET models_digest = ? WHERE target = ?"
               " AND account_id = ? AND region = ?",
               "siss", d, target, account_id, region) < 0)
        return -1;
    return 0;
}

/* The target-level part of a staged read: the account document, the
 * unmapped counts and, unless the read reused the previous one, the item
 * cache, replaced by the items this read staged. It is also the one place
 * that settles targets.models_digest for every apply (apply_gone and the
 * VPCs before it, store_apply_target through it): kept for a reused read,
 * made for a fresh one, forgotten when nothing was staged for the part. */
static int
apply_part(struct store *st, int64_t target, const char *account_id, const char *region,
           struct err *err)
{
    sqlite3_stmt *s = NULL;
    char *rules = NULL, *unmapped = NULL;
    int reused = 0, r, rc = -1;

    if (q_prep(st, &s, err,
               "SELECT rules, unmapped, reused FROM stage.stage_parts"
               " WHERE target = ? AND account_id = ? AND region = ?",
               "iss", target, account_id, region) < 0)
        return -1;
    r = q_step(st, s, err);
    if (r == 1) {
        rules = strdup(col_text(s, 0));
        unmapped = strdup(col_text(s, 1));
        reused = sqlite3_column_int(s, 2);
        if (rules == NULL || unmapped == NULL) {
            oom(err);
            goto out;
        }
    }
    q_finish(st, s);
    s = NULL;
    if (r <= 0) { /* nothing staged for the part: no cache to trust any more */
        if (r == 0 &&
            q_exec(st, err, "DELETE FROM item_cache WHERE account_id = ? AND region = ?", "ss",
                   account_id, region) >= 0 &&
            q_exec(st, err,
                   "UPDATE targets SET models_digest = NULL WHERE account_id = ? AND region = ?",
                   "ss", account_id, region) >= 0)
            rc = 0;
        goto out;
    }
    if (q_exec(st, err,
               "UPDATE targets SET unmapped = ?4, account_doc = (SELECT model FROM"
               " stage.stage_models WHERE target = ?1 AND account_id = ?2 AND region = ?3"
               " AND vpc_id = '') WHERE account_id = ?2 AND region = ?3",
               "isss", target, account_id, region, unmapped) < 0)
        goto out;
    if (!reused &&
        (keep_applied_digest(st, target, account_id, region, err) < 0 ||
         q_exec(st, err, "DELETE FROM item_cache WHERE account_id = ? AND region = ?", "ss",
                account_id, region) < 0 ||
         /* OR FAIL: a failure keeps the rows before it instead of undoing
          * the statement, so SQLite keeps no statement journal (a copy of
          * every page the statement writes); the caller's transaction or
          * savepoint undoes the whole apply on a failure anyway */
         q_exec(st, err,
                "INSERT OR FAIL INTO item_cache (account_id, region, hash, rules, ident, item)"
                " SELECT ?2, ?3, hash, ?4, ident, item FROM stage.stage_items WHERE target = ?1",
                "isss", target, account_id, region, rules) < 0))
        goto out;
    rc = 0;
out:
    q_finish(st, s);
    free(rules);
    free(unmapped);
    return rc;
}

int
store_item_cache_load(struct store *st, const char *account_id, const char *region,
                      const char *rules, int with_items, store_item_fn fn, void *ctx,
                      struct err *err)
{
    sqlite3_stmt *s = NULL;
    int r;

    if (q_prep(st, &s, err,
               "SELECT hash, ident, CASE WHEN ?4 THEN item END FROM item_cache"
               " WHERE account_id = ?1 AND region = ?2 AND rules = ?3",
               "sssi", account_id, region, rules, (int64_t)(with_items != 0)) < 0)
        goto fail;
    while ((r = q_step(st, s, err)) == 1) {
        if (fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
               col_text(s, 1), col_text(s, 2), err) < 0) {
            q_finish(st, s);
            return -1;
        }
    }
    q_finish(st, s);
    if (r == 0)
        return 0;
fail:
    store_ctx(err, "reading the item cache of %s/%s", account_id, region);
    return -1;
}

int
store_stage_items(struct store *st, int64_t target, const struct store_staged_item *v, size_t n,
                  struct err *err)
{
    sqlite3_stmt *s = NULL;
    int ok = 0;

    if (stage_begin(st, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (q_prep(st, &s, err,
                   "INSERT INTO stage.stage_items (target, hash, ident, item)"
                   " VALUES (?, ?, ?, ?)",
                   "i", target) < 0)
            goto out;
        if (sqlite3_bind_blob(s, 2, v[i].hash, (int)v[i].hash_len, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(s, 3, v[i].ident, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(s, 4, v[i].item, -1, SQLITE_STATIC) != SQLITE_OK) {
            sqlfail(st, err);
            goto out;
        }
        if (q_step(st, s, err) < 0)
            goto out;
        q_finish(st, s);
        s = NULL;
    }
    ok = 1;
out:
    q_finish(st, s);
    if (stage_end(st, ok, err) < 0) {
        store_ctx(err, "staging items");
        return -1;
    }
    return 0;
}

int
store_staged_items(struct store *st, int64_t target,
                   int (*fn)(void *ctx, const char *item, struct err *err), void *ctx,
                   struct err *err)
{
    sqlite3_stmt *s = NULL;
    int r;

    if (q_prep(st, &s, err, "SELECT item FROM stage.stage_items WHERE target = ?", "i",
               target) < 0) {
        store_ctx(err, "reading staged items");
        return -1;
    }
    while ((r = q_step(st, s, err)) == 1) {
        if (fn(ctx, col_text(s, 0), err) < 0)
            break;
    }
    q_finish(st, s);
    if (r == 1)
        return -1; /* fn's error */
    if (r < 0) {
        store_ctx(err, "reading staged items");
        return -1;
    }
    return 0;
}

int
store_stage_part(struct store *st, int64_t target, const char *account_id, const char *region,
                 const char *rules, const char *unmapped, int reused, struct err *err)
{
    if (stage_begin(st, err) < 0 ||
        stage_end(st,
                  q_exec(st, err,
                         "INSERT OR REPLACE INTO stage.stage_parts (target, account_id, region,"
                         " rules, unmapped, reused) VALUES (?, ?, ?, ?, ?, ?)",
                         "issssi", target, account_id, region, rules, unmapped,
                         (int64_t)(reused != 0)) >= 0,
                  err) < 0) {
        store_ctx(err, "staging %s/%s", account_id, region);
        return -1;
    }
    return 0;
}

int
store_stage_reuse(struct store *st, int64_t target, const char *account_id, const char *region,
                  long *ret_vpcs, json_t **ret_unmapped, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *unmapped = NULL;
    int n = 0, ok = 0, r;

    if (stage_begin(st, err) < 0 || sum_note(st, target, account_id, region, NULL, err) < 0)
        goto out;
    /* the snapshots by reference (a NULL text, see STAGED_MODEL_TEXT) */
    n = q_exec(st, err,
               "INSERT INTO stage.stage_models (target, account_id, region, vpc_id, name, model)"
               " SELECT ?1, d.account_id, d.region, d.vpc_id, v.name, NULL FROM discovered d"
               " LEFT JOIN vpcs v ON v.account_id = d.account_id AND v.region = d.region"
               "  AND v.vpc_id = d.vpc_id"
               " WHERE d.account_id = ?2 AND d.region = ?3",
               "iss", target, account_id, region);
    if (n < 0)
        goto out;
    if (q_exec(st, err,
               "INSERT INTO stage.stage_models (target, account_id, region, vpc_id, name, model)"
               " SELECT ?1, account_id, region, '', NULL, account_doc FROM targets"
               " WHERE account_id = ?2 AND region = ?3 AND account_doc IS NOT NULL",
               "iss", target, account_id, region) < 0)
        goto out;
    if (q_prep(st, &s, err, "SELECT unmapped FROM targets WHERE account_id = ? AND region = ?",
               "ss", account_id, region) < 0)
        goto out;
    r = q_step(st, s, err);
    if (r < 0)
        goto out;
    if (r == 1 && col_text(s, 0) != NULL) {
        if (col_json(s, 0, "stored unmapped counts", &unmapped, err) < 0)
            goto out;
    } else if ((unmapped = json_object()) == NULL) {
        oom(err);
        goto out;
    }
    ok = 1;
out:
    q_finish(st, s);
    if (stage_end(st, ok, err) < 0) {
        json_decref(unmapped);
        store_ctx(err, "reusing the last read of %s/%s", account_id, region);
        return -1;
    }
    *ret_vpcs = n;
    *ret_unmapped = unmapped;
    return 0;
}

/* store_apply_staged inside the caller's transaction; changes (may be
 * NULL) collects the drift opened and resolved. */
static int
apply_staged_in(struct store *st, int64_t run_id, time_t now, int64_t target,
                const char *account_id, const char *region, const struct cfg_ignore *ignores,
                size_t nignores, json_t *changes, struct store_apply_stats *ret, struct err *err)
{
    struct store_apply_stats stats = {0};
    json_t *gone = NULL;
    sqlite3_stmt *s = NULL;
    char digest[65];
    int rc = -1, r;

    if (reconcile_digest(ignores, nignores, digest, err) < 0)
        goto out;
    if (q_exec(st, err,
               "INSERT INTO targets (account_id, region, last_run, last_ok_run)"
               " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, region) DO UPDATE SET"
               " last_run = excluded.last_run, last_ok_run = excluded.last_ok_run,"
               " last_error = NULL, last_error_at = NULL",
               "ssII", account_id, region, run_id, run_id) < 0)
        goto out;
    /* VPCs known before (a row or a model) that this read no longer has */
    gone = json_object();
    if (gone == NULL) {
        oom(err);
        goto out;
    }
    if (q_prep(st, &s, err,
               "SELECT vpc_id FROM vpcs WHERE account_id = ?1 AND region = ?2"
               " UNION SELECT vpc_id FROM models WHERE account_id = ?1 AND region = ?2"
               " EXCEPT SELECT vpc_id FROM stage.stage_models"
               "  WHERE target = ?3 AND account_id = ?1 AND region = ?2",
               "ssi", account_id, region, target) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        if (json_object_set_new(gone, col_text(s, 0), json_true()) < 0) {
            oom(err);
            goto out;
        }
    }
    q_finish(st, s);
    s = NULL;
    if (r < 0)
        goto out;
    if (q_prep(st, &s, err,
               "SELECT vpc_id, name, model FROM stage.stage_models"
               " WHERE target = ? AND account_id = ? AND region = ? AND vpc_id <> ''"
               " ORDER BY vpc_id",
               "iss", target, account_id, region) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        struct vpc_key v = {account_id, region, col_text(s, 0)};
        int unchanged = 0;

        if (apply_staged_vpc(st, run_id, now, &v, col_text(s, 1), col_text(s, 2), digest,
                             ignores, nignores, changes, &unchanged, err) < 0)
            goto out;
        stats.vpcs++;
        stats.unchanged += unchanged;
    }
    q_finish(st, s);
    s = NULL;
    if (r < 0)
        goto out;
    if (apply_gone(st, run_id, now, account_id, region, gone, ignores, nignores, changes,
                   err) < 0)
        goto out;
    if (apply_part(st, target, account_id, region, err) < 0)
        goto out;
    if (ret != NULL)
        *ret = stats;
    rc = 0;
out:
    q_finish(st, s);
    json_decref(gone);
    return rc;
}

int
store_apply_staged(struct store *st, int64_t run_id, time_t now, int64_t target,
                   const char *account_id, const char *region, const struct cfg_ignore *ignores,
                   size_t nignores, struct store_apply_stats *ret, struct err *err)
{
    enum store_tx mode = STORE_TX_NONE;
    int ok;

    if (target < 0)
        return err_set(err, ERR_CONFIG, "store: staging target %lld is not a run's",
                       (long long)target);
    ok = store_tx_enter(st, &mode, err) == 0 &&
         apply_staged_in(st, run_id, now, target, account_id, region, ignores, nignores, NULL,
                         ret, err) == 0;
    if (store_tx_leave(st, mode, ok, err) < 0) {
        store_ctx(err, "applying discovery of %s/%s", account_id, region);
        return -1;
    }
    return 0;
}

int
store_apply_target(struct store *st, int64_t run_id, time_t now, const char *account_id,
                   const char *region, const json_t *discovered, const struct cfg_ignore *ignores,
                   size_t nignores, json_t **ret_changes, struct err *err)
{
    enum store_tx mode = STORE_TX_NONE;
    json_t *changes = NULL;
    const char *vpc_id;
    json_t *model;
    int ok = 0;

    if (!json_is_object(discovered)) {
        err_set(err, ERR_CONFIG, "discovered models are not a JSON object");
        goto out;
    }
    json_object_foreach((json_t *)(uintptr_t)discovered, vpc_id, model)
    {
        struct vpc_key v = {account_id, region, vpc_id};
        char what[256];

        snprintf(what, sizeof(what), "discovered model for %s/%s/%s", account_id, region, vpc_id);
        if (diff_check_model(model, what, err) < 0 || check_ids(model, &v, what, err) < 0)
            goto out;
    }
    if (ret_changes != NULL &&
        (changes = json_pack("{s:[], s:[]}", "opened", "resolved")) == NULL) {
        oom(err);
        goto out;
    }
    if (store_tx_enter(st, &mode, err) < 0)
        goto out;
    /* the same path as a run's staged results, under a target index no run
     * uses, inside this transaction */
    if (stage_create(st, err) < 0 ||
        q_exec(st, err, "DELETE FROM stage.stage_models WHERE target = ?", "i", STAGE_DIRECT) < 0)
        goto out;
    json_object_foreach((json_t *)(uintptr_t)discovered, vpc_id, model)
    {
        if (q_exec(st, err,
                   "INSERT INTO stage.stage_models (target, account_id, region, vpc_id, name, model)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   "issssj", STAGE_DIRECT, account_id, region, vpc_id,
                   json_string_value(json_object_get(model, "name")), model) < 0)
            goto out;
    }
    if (apply_staged_in(st, run_id, now, STAGE_DIRECT, account_id, region, ignores, nignores,
                        changes, NULL, err) < 0 ||
        q_exec(st, err, "DELETE FROM stage.stage_models WHERE target = ?", "i", STAGE_DIRECT) < 0)
        goto out;
    ok = 1;
out:
    if (store_tx_leave(st, mode, ok, err) < 0) {
        store_ctx(err, "applying discovery of %s/%s", account_id, region);
        json_decref(changes);
        return -1;
    }
    if (ret_changes != NULL)
        *ret_changes = changes;
    return 0;
}

int
store_target_failed(struct store *st, int64_t run_id, time_t now, const char *account_id,
                    const char *region, const char *error_text, struct err *err)
{
    enum store_tx mode = STORE_TX_NONE;
    int ok = 0;

    if (error_text == NULL || *error_text == '\0')
        error_text = "failed";
    if (store_tx_enter(st, &mode, err) < 0)
        goto out;
    if (q_exec(st, err,
               "INSERT INTO targets (account_id, region, last_run, last_error, last_error_at)"
               " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, region) DO UPDATE SET"
               " last_run = excluded.last_run, last_error = excluded.last_error,"
               " last_error_at = excluded.last_error_at",
               "ssIsi", account_id, region, run_id, error_text, (int64_t)now) < 0)
        goto out;
    if (q_exec(st, err,
               "UPDATE vpcs SET error = ?, last_run = coalesce(?, last_run)"
               " WHERE account_id = ? AND region = ?",
               "sIss", error_text, run_id, account_id, region) < 0)
        goto out;
    ok = 1;
out:
    if (store_tx_leave(st, mode, ok, err) < 0) {
        store_ctx(err, "recording failure of %s/%s", account_id, region);
        return -1;
    }
    return 0;
}

int
store_vpc_resolve(struct store *st, const char *spec, struct store_vpc_ref *ret, struct err *err)
{
    sqlite3_stmt *s = NULL;
    struct store_vpc_ref found = {0};
    char *copy = NULL, *a = NULL, *r = NULL, *vp = NULL;
    char list[400] = "";
    size_t n = 0, len = 0;
    int rc = -1, step;

    if (spec == NULL || *spec == '\0')
        return err_set(err, ERR_CONFIG, "no VPC given");
    if (strchr(spec, '/') != NULL) {
        char *p, *q;

        copy = strdup(spec);
        if (copy == NULL)
            return oom(err);
        p = strchr(copy, '/');
        *p++ = '\0';
        q = strchr(p, '/');
        if (q == NULL || *copy == '\0' || q == p || q[1] == '\0' || strchr(q + 1, '/') != NULL) {
            err_set(err, ERR_CONFIG, "bad VPC '%s': expected vpc-id, name or ACCOUNT/REGION/vpc-id",
                    spec);
            goto out;
        }
        *q++ = '\0';
        a = copy;
        r = p;
        vp = q;
    }
    if (q_prep(st, &s, err,
               "SELECT account_id, region, vpc_id FROM ("
               " SELECT account_id, region, vpc_id, name FROM vpcs"
               " UNION ALL SELECT account_id, region, vpc_id, NULL FROM models)"
               " WHERE CASE WHEN ?1 IS NULL THEN (vpc_id = ?4 OR name = ?4)"
               " ELSE (account_id = ?1 AND region = ?2 AND vpc_id = ?3) END"
               " GROUP BY account_id, region, vpc_id ORDER BY account_id, region, vpc_id",
               "ssss", a, r, vp, spec) < 0)
        goto out;
    while ((step = q_step(st, s, err)) == 1) {
        const char *ca = col_text(s, 0), *cr = col_text(s, 1), *cv = col_text(s, 2);

        if (n == 0) {
            found.account_id = strdup(ca);
            found.region = strdup(cr);
            found.vpc_id = strdup(cv);
            if (found.account_id == NULL || found.region == NULL || found.vpc_id == NULL) {
                oom(err);
                goto out;
            }
        }
        if (len < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s/%s/%s", n > 0 ? ", " : "",
                                    ca, cr, cv);
        n++;
    }
    if (step < 0)
        goto out;
    if (n == 0) {
        err_set(err, ERR_NOTFOUND, "unknown VPC '%s'", spec);
        goto out;
    }
    if (n > 1) {
        err_set(err, ERR_CONFIG, "VPC '%s' is ambiguous: %s; name it as ACCOUNT/REGION/VPC", spec,
                list);
        goto out;
    }
    *ret = found;
    memset(&found, 0, sizeof(found));
    rc = 0;
out:
    q_finish(st, s);
    store_vpc_ref_clear(&found);
    free(copy);
    if (rc < 0)
        store_ctx(err, "resolving VPC '%s'", spec);
    return rc;
}

int
store_model_get(struct store *st, const struct store_vpc_ref *vpc, json_t **ret, struct err *err)
{
    struct vpc_key v = key_of(vpc);

    if (load_doc(st, "models", &v, ret, err) < 0) {
        store_ctx(err, "reading model for %s/%s/%s", v.account_id, v.region, v.vpc_id);
        return -1;
    }
    return 0;
}

int
store_discovered_get(struct store *st, const struct store_vpc_ref *vpc, json_t **ret,
                     struct err *err)
{
    struct vpc_key v = key_of(vpc);

    if (load_doc(st, "discovered", &v, ret, err) < 0) {
        store_ctx(err, "reading discovered state of %s/%s/%s", v.account_id, v.region, v.vpc_id);
        return -1;
    }
    return 0;
}

/* Writes model and reconciles; inside the caller's tx_enter. */
static int
put_and_reconcile(struct store *st, const struct vpc_key *v, const json_t *model,
                  const char *updated_by, time_t now, const struct cfg_ignore *ignores,
                  size_t nignores, size_t *ret_accepted, struct err *err)
{
    json_t *disc = NULL;
    struct reconcile_out counts;
    int rc = -1;

    if (q_exec(st, err,
               "INSERT INTO models (account_id, region, vpc_id, model, updated_at, updated_by)"
               " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, vpc_id) DO UPDATE SET"
               " model = excluded.model, updated_at = excluded.updated_at,"
               " updated_by = excluded.updated_by",
               "sssjis", v->account_id, v->region, v->vpc_id, model, (int64_t)now, updated_by) < 0)
        goto out;
    if (load_doc(st, "discovered", v, &disc, err) < 0)
        goto out;
    if (reconcile(st, v, model, disc, ignores, nignores, 0, now, "accepted", NULL, &counts, err) <
        0)
        goto out;
    if (q_exec(st, err,
               "UPDATE vpcs SET name = coalesce(name, ?) WHERE account_id = ? AND region = ?"
               " AND vpc_id = ?",
               "ssss", json_string_value(json_object_get(model, "name")), v->account_id, v->region,
               v->vpc_id) < 0)
        goto out;
    if (ret_accepted != NULL)
        *ret_accepted = counts.resolved_as;
    rc = 0;
out:
    json_decref(disc);
    return rc;
}

int
store_model_put(struct store *st, const struct store_vpc_ref *vpc, const json_t *model,
                const char *updated_by, time_t now, const struct cfg_ignore *ignores,
                size_t nignores, struct err *err)
{
    struct vpc_key v = key_of(vpc);
    enum store_tx mode = STORE_TX_NONE;
    char what[256];
    int ok = 0;

    snprintf(what, sizeof(what), "model for %s/%s/%s", v.account_id, v.region, v.vpc_id);
    if (diff_check_model(model, what, err) < 0 || check_ids(model, &v, what, err) < 0)
        return -1;
    if (updated_by == NULL || *updated_by == '\0')
        return err_set(err, ERR_CONFIG, "store: saving %s: no updated_by given", what);
    if (store_tx_enter(st, &mode, err) < 0)
        goto out;
    if (put_and_reconcile(st, &v, model, updated_by, now, ignores, nignores, NULL, err) < 0)
        goto out;
    ok = 1;
out:
    if (store_tx_leave(st, mode, ok, err) < 0) {
        store_ctx(err, "saving %s", what);
        return -1;
    }
    return 0;
}

int
store_model_delete(struct store *st, const struct store_vpc_ref *vpc, time_t now, struct err *err)
{
    struct vpc_key v = key_of(vpc);
    enum store_tx mode = STORE_TX_NONE;
    struct reconcile_out counts;
    int64_t has_disc = 0;
    int ok = 0, n;

    if (store_tx_enter(st, &mode, err) < 0)
        goto out;
    n = q_exec(st, err, "DELETE FROM models WHERE account_id = ? AND region = ? AND vpc_id = ?",
               "sss", v.account_id, v.region, v.vpc_id);
    if (n < 0)
        goto out;
    if (n == 0) {
        err_set(err, ERR_NOTFOUND, "no model for %s/%s/%s", v.account_id, v.region, v.vpc_id);
        goto out;
    }
    if (reconcile(st, &v, NULL, NULL, NULL, 0, 0, now, "gone", NULL, &counts, err) < 0)
        goto out;
    if (q_int(st, &has_disc, err,
              "SELECT count(*) FROM discovered WHERE account_id = ? AND region = ? AND vpc_id = ?",
              "sss", v.account_id, v.region, v.vpc_id) < 0)
        goto out;
    if (has_disc == 0 &&
        q_exec(st, err, "DELETE FROM vpcs WHERE account_id = ? AND region = ? AND vpc_id = ?",
               "sss", v.account_id, v.region, v.vpc_id) < 0)
        goto out;
    ok = 1;
out:
    if (store_tx_leave(st, mode, ok, err) < 0) {
        store_ctx(err, "deleting model for %s/%s/%s", v.account_id, v.region, v.vpc_id);
        return -1;
    }
    return 0;
}

/* ---- model sync (accept) ---- */

static int
remove_keyed(json_t *arr, const char *key)
{
    size_t i;

    for (i = 0; i < json_array_size(arr); i++) {
        const char *k = json_string_value(json_object_get(json_array_get(arr, i), "key"));

        if (k != NULL && strcmp(k, key) == 0)
            return json_array_remove(arr, i) == 0 ? 1 : -1;
    }
    return 0;
}

static const json_t *
find_keyed(const json_t *arr, const char *key)
{
    size_t i;

    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *it = json_array_get(arr, i);
        const char *k = json_string_value(json_object_get(it, "key"));

        if (k != NULL && strcmp(k, key) == 0)
            return it;
    }
    return NULL;
}

/* "flow:FROM->TO:LABEL" of f, from/to translated through keymap (may be NULL). */
static char *
flow_key(const json_t *f, const json_t *keymap)
{
    const char *from = json_string_value(json_object_get(f, "from"));
    const char *to = json_string_value(json_object_get(f, "to"));
    const char *label = json_string_value(json_object_get(f, "label"));
    char *key = NULL;

    if (from == NULL || to == NULL)
        return NULL;
    if (keymap != NULL && json_string_value(json_object_get(keymap, from)) != NULL)
        from = json_string_value(json_object_get(keymap, from));
    if (keymap != NULL && json_string_value(json_object_get(keymap, to)) != NULL)
        to = json_string_value(json_object_get(keymap, to));
    if (asprintf(&key, "flow:%s->%s:%s", from, to, label != NULL ? label : "") < 0)
        return NULL;
    return key;
}

/* Ensures the array field exists in doc and returns it (borrowed). */
static json_t *
array_field(json_t *doc, const char *field)
{
    json_t *a = json_object_get(doc, field);

    if (json_is_array(a))
        return a;
    if (json_object_set_new(doc, field, json_array()) < 0)
        return NULL;
    return json_object_get(doc, field);
}

/* Accepts one key into model (see store_model_accept). 1 = done, 0 = the key
 * is in neither side, -1 OOM. */
static int
accept_key(json_t *model, const json_t *disc, const json_t *keymap, const char *key)
{
    json_t *comps = array_field(model, "components"), *bounds = array_field(model, "boundaries");
    json_t *flows = array_field(model, "flows");
    const json_t *dcomps = json_object_get(disc, "components");
    const char *skey = key, *dkey = key, *k;
    json_t *v;
    size_t i;
    int found = 0;

    if (comps == NULL || bounds == NULL || flows == NULL)
        return -1;
    if (strncmp(key, "flow:", 5) == 0) {
        const json_t *dflows = json_object_get(disc, "flows");

        for (i = json_array_size(flows); i-- > 0;) {
            char *fk = flow_key(json_array_get(flows, i), keymap);
            int match = fk != NULL && strcmp(fk, key) == 0;

            free(fk);
            if (match) {
                found = 1;
                if (json_array_remove(flows, i) < 0)
                    return -1;
            }
        }
        for (i = 0; i < json_array_size(dflows); i++) {
            char *fk = flow_key(json_array_get(dflows, i), NULL);
            int match = fk != NULL && strcmp(fk, key) == 0;

            free(fk);
            if (match) {
                found = 1;
                if (json_array_append_new(flows, json_deep_copy(json_array_get(dflows, i))) < 0)
                    return -1;
            }
        }
        return found;
    }
    /* designed matches: either key names the pair */
    if (json_string_value(json_object_get(keymap, key)) != NULL)
        dkey = json_string_value(json_object_get(keymap, key));
    json_object_foreach((json_t *)(uintptr_t)keymap, k, v)
    {
        if (strcmp(json_string_value(v), key) == 0)
            skey = k;
    }
    if (find_keyed(dcomps, dkey) != NULL || find_keyed(comps, skey) != NULL) {
        const json_t *d = find_keyed(dcomps, dkey);

        if (remove_keyed(comps, skey) < 0 || remove_keyed(comps, dkey) < 0)
            return -1;
        if (d != NULL && json_array_append_new(comps, json_deep_copy(d)) < 0)
            return -1;
        if (d != NULL && strcmp(skey, dkey) != 0) {
            /* flows drawn to the designed key now point at the real one */
            for (i = 0; i < json_array_size(flows); i++) {
                json_t *f = json_array_get(flows, i);
                const char *from = json_string_value(json_object_get(f, "from"));
                const char *to = json_string_value(json_object_get(f, "to"));

                if (from != NULL && strcmp(from, skey) == 0 &&
                    json_object_set_new(f, "from", json_string(dkey)) < 0)
                    return -1;
                if (to != NULL && strcmp(to, skey) == 0 &&
                    json_object_set_new(f, "to", json_string(dkey)) < 0)
                    return -1;
            }
        }
        return 1;
    }
    if (find_keyed(json_object_get(disc, "boundaries"), key) != NULL ||
        find_keyed(bounds, key) != NULL) {
        const json_t *d = find_keyed(json_object_get(disc, "boundaries"), key);

        if (remove_keyed(bounds, key) < 0)
            return -1;
        if (d != NULL && json_array_append_new(bounds, json_deep_copy(d)) < 0)
            return -1;
        return 1;
    }
    return 0;
}

static int
cmp_keyed(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(const json_t *const *)a, "key"));
    const char *y = json_string_value(json_object_get(*(const json_t *const *)b, "key"));

    return strcmp(x != NULL ? x : "", y != NULL ? y : "");
}

static int
cmp_flow(const void *a, const void *b)
{
    static const char *const f[] = {"from", "to", "label"};
    size_t i;

    for (i = 0; i < 3; i++) {
        const char *x = json_string_value(json_object_get(*(const json_t *const *)a, f[i]));
        const char *y = json_string_value(json_object_get(*(const json_t *const *)b, f[i]));
        int r = strcmp(x != NULL ? x : "", y != NULL ? y : "");

        if (r != 0)
            return r;
    }
    return 0;
}

/* Sorts doc[field] in place (model.h: sorted so equal models are equal bytes). */
static int
sort_field(json_t *doc, const char *field, int (*cmp)(const void *, const void *))
{
    json_t *arr = json_object_get(doc, field), *sorted;
    json_t **v;
    size_t n = json_array_size(arr), i;
    int rc = -1;

    if (n < 2)
        return 0;
    v = calloc(n, sizeof(*v));
    sorted = json_array();
    if (v == NULL || sorted == NULL)
        goto out;
    for (i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof(*v), cmp);
    for (i = 0; i < n; i++) {
        if (json_array_append(sorted, v[i]) < 0)
            goto out;
    }
    rc = json_object_set(doc, field, sorted);
out:
    free(v);
    json_decref(sorted);
    return rc;
}

int
store_model_accept(struct store *st, const struct store_vpc_ref *vpc, const char *const *keys,
                   size_t nkeys, time_t now, const struct cfg_ignore *ignores, size_t nignores,
                   size_t *ret_accepted, struct err *err)
{
    struct vpc_key v = key_of(vpc);
    enum store_tx mode = STORE_TX_NONE;
    json_t *model = NULL, *disc = NULL, *keymap = NULL, *next = NULL;
    size_t accepted = 0, i;
    int ok = 0;

    if (store_tx_enter(st, &mode, err) < 0)
        goto out;
    if (load_doc(st, "models", &v, &model, err) < 0 ||
        load_doc(st, "discovered", &v, &disc, err) < 0)
        goto out;
    if (model == NULL) {
        err_set(err, ERR_NOTFOUND, "no model for %s/%s/%s; create one first", v.account_id,
                v.region, v.vpc_id);
        goto out;
    }
    if (disc == NULL) {
        err_set(err, ERR_NOTFOUND,
                "no discovered state for %s/%s/%s (not found by the last sync); run a sync first,"
                " or delete the model",
                v.account_id, v.region, v.vpc_id);
        goto out;
    }
    if (nkeys == 0) {
        next = json_deep_copy(disc);
    } else {
        if (diff_match_designed(model, disc, &keymap, err) < 0)
            goto out;
        next = json_deep_copy(model);
        if (next == NULL) {
            oom(err);
            goto out;
        }
        for (i = 0; i < nkeys; i++) {
            int r = accept_key(next, disc, keymap, keys[i]);

            if (r < 0) {
                oom(err);
                goto out;
            }
            if (r == 0) {
                err_set(err, ERR_NOTFOUND,
                        "'%s' is in neither the model nor the discovered state of %s/%s/%s",
                        keys[i], v.account_id, v.region, v.vpc_id);
                goto out;
            }
        }
        if (sort_field(next, "components", cmp_keyed) < 0 ||
            sort_field(next, "boundaries", cmp_keyed) < 0 ||
            sort_field(next, "flows", cmp_flow) < 0) {
            oom(err);
            goto out;
        }
    }
    if (next == NULL) {
        oom(err);
        goto out;
    }
    if (put_and_reconcile(st, &v, next, "sync", now, ignores, nignores, &accepted, err) < 0)
        goto out;
    ok = 1;
out:
    json_decref(model);
    json_decref(disc);
    json_decref(keymap);
    json_decref(next);
    if (store_tx_leave(st, mode, ok, err) < 0) {
        store_ctx(err, "accepting discovered state into model for %s/%s/%s", v.account_id, v.region,
                  v.vpc_id);
        return -1;
    }
    if (ret_accepted != NULL)
        *ret_accepted = accepted;
    return 0;
}

/* ---- queries ---- */

int
store_status(struct store *st, json_t **ret, struct err *err)
{
    int64_t accounts = 0, vpcs = 0, models = 0, red = 0;
    sqlite3_stmt *s = NULL;
    json_t *doc = NULL, *list = NULL, *row;
    int rc = -1, r;

    if (q_int(st, &accounts, err,
              "SELECT count(*) FROM (SELECT account_id FROM vpcs UNION SELECT account_id FROM"
              " targets UNION SELECT account_id FROM models)",
              NULL) < 0 ||
        q_int(st, &vpcs, err, "SELECT count(*) FROM vpcs", NULL) < 0 ||
        q_int(st, &models, err, "SELECT count(*) FROM models", NULL) < 0 ||
        q_int(st, &red, err, "SELECT count(*) FROM vpcs WHERE status = 'red'", NULL) < 0)
        goto out;
    list = json_array();
    if (list == NULL) {
        oom(err);
        goto out;
    }
    if (q_prep(st, &s, err,
               "SELECT account_id, region, vpc_id, status, only_in_model, only_in_vpc, changed,"
               " error, last_sync, NULLIF(name, vpc_id) FROM vpcs"
               " ORDER BY account_id, region, vpc_id",
               NULL) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        row = json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o}", "account_id",
                        col_str_json(s, 0), "region", col_str_json(s, 1), "vpc_id",
                        col_str_json(s, 2), "name", col_str_json(s, 9), "status",
                        col_str_json(s, 3), "only_in_model",
                        (json_int_t)sqlite3_column_int64(s, 4), "only_in_vpc",
                        (json_int_t)sqlite3_column_int64(s, 5), "changed",
                        (json_int_t)sqlite3_column_int64(s, 6), "error", col_str_json(s, 7),
                        "last_sync", col_time_json(s, 8));
        if (row == NULL || json_array_append_new(list, row) < 0) {
            oom(err);
            goto out;
        }
    }
    if (r < 0)
        goto out;
    doc = json_pack("{s:{s:I, s:I, s:I, s:I}, s:O}", "summary", "accounts", (json_int_t)accounts,
                    "vpcs", (json_int_t)vpcs, "models", (json_int_t)models, "out_of_sync",
                    (json_int_t)red, "vpcs", list);
    if (doc == NULL) {
        oom(err);
        goto out;
    }
    *ret = doc;
    rc = 0;
out:
    q_finish(st, s);
    json_decref(list);
    if (rc < 0)
        store_ctx(err, "reading status");
    return rc;
}

int
store_drift_query(struct store *st, const struct store_drift_filter *filter, json_t **ret,
                  struct err *err)
{
    static const struct store_drift_filter none;
    char sql[1024];
    sqlite3_stmt *s = NULL;
    json_t *list = NULL, *row = NULL;
    int rc = -1, r;

    if (filter == NULL)
        filter = &none;
    if (filter->kind != NULL && strcmp(filter->kind, DIFF_ONLY_IN_MODEL) != 0 &&
        strcmp(filter->kind, DIFF_ONLY_IN_VPC) != 0 && strcmp(filter->kind, DIFF_CHANGED) != 0)
        return err_set(err, ERR_CONFIG,
                       "unknown drift kind '%s': expected only_in_model, only_in_vpc or changed",
                       filter->kind);
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM drift d WHERE (?1 IS NULL OR (d.account_id = ?1 AND d.region = ?2"
             " AND d.vpc_id = ?3)) AND (?4 IS NULL OR d.kind = ?4)"
             " AND (?5 IS NULL OR d.last_seen_at >= ?5 OR d.resolved_at >= ?5)"
             " AND (?6 OR d.resolved IS NULL)"
             " ORDER BY d.account_id, d.region, d.vpc_id, d.key, d.entry_id, d.first_seen_at, d.id",
             DRIFT_COLS);
    list = json_array();
    if (list == NULL) {
        oom(err);
        goto out;
    }
    if (q_prep(st, &s, err, sql, "ssssIi", filter->vpc ? filter->vpc->account_id : NULL,
               filter->vpc ? filter->vpc->region : NULL, filter->vpc ? filter->vpc->vpc_id : NULL,
               filter->kind, (int64_t)filter->since, (int64_t)(filter->all != 0)) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        if (drift_row_json(s, &row, err) < 0)
            goto out;
        if (json_array_append_new(list, row) < 0) {
            oom(err);
            goto out;
        }
    }
    if (r < 0)
        goto out;
    *ret = list;
    list = NULL;
    rc = 0;
out:
    q_finish(st, s);
    json_decref(list);
    if (rc < 0)
        store_ctx(err, "reading drift");
    return rc;
}

/* ---- verification ---- */

/* "vpc-1, only_in_vpc arn:..." from an entry id "kind|key|path". */
static void
describe(char *out, size_t n, const char *vpc_id, const char *entry_id)
{
    const char *bar = entry_id != NULL ? strchr(entry_id, '|') : NULL;
    const char *last = entry_id != NULL ? strrchr(entry_id, '|') : NULL;

    if (bar == NULL || last == bar)
        snprintf(out, n, "%s, %s", vpc_id != NULL ? vpc_id : "?",
                 entry_id != NULL ? entry_id : "?");
    else if (last[1] != '\0')
        snprintf(out, n, "%s, %.*s %.*s %s", vpc_id != NULL ? vpc_id : "?", (int)(bar - entry_id),
                 entry_id, (int)(last - bar - 1), bar + 1, last + 1);
    else
        snprintf(out, n, "%s, %.*s %.*s", vpc_id != NULL ? vpc_id : "?", (int)(bar - entry_id),
                 entry_id, (int)(last - bar - 1), bar + 1);
}

static char *problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
problem(const char *fmt, ...)
{
    char *p = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        p = NULL;
    va_end(ap);
    return p;
}

static const char *
nn(const char *s)
{
    return s != NULL ? s : "";
}

int
store_log_verify(struct store *st, char **ret_problem, size_t *ret_events, struct err *err)
{
    sqlite3_stmt *s = NULL;
    json_t *state = NULL; /* drift id -> {"seq","content","resolution","desc"} */
    char prev[65] = GENESIS_HASH, hash[65], desc[512], idbuf[32];
    char *prob = NULL;
    int64_t expect = 1, triggers = 0;
    int rc = -1, r;

    state = json_object();
    if (state == NULL) {
        oom(err);
        goto out;
    }
    if (q_prep(st, &s, err,
               "SELECT seq, at, run_id, drift_id, event, account_id, region, vpc_id, entry_id,"
               " content, resolution, prev_hash, hash FROM drift_events ORDER BY seq",
               NULL) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        struct event e;
        const char *stored_prev = col_text(s, 11), *stored_hash = col_text(s, 12);
        json_t *st_entry;

        e.seq = sqlite3_column_int64(s, 0);
        e.at = sqlite3_column_int64(s, 1);
        e.run_id = sqlite3_column_type(s, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 2);
        e.drift_id = sqlite3_column_int64(s, 3);
        e.event = nn(col_text(s, 4));
        e.account_id = nn(col_text(s, 5));
        e.region = nn(col_text(s, 6));
        e.vpc_id = nn(col_text(s, 7));
        e.entry_id = nn(col_text(s, 8));
        e.content = nn(col_text(s, 9));
        e.resolution = col_text(s, 10);
        describe(desc, sizeof(desc), e.vpc_id, e.entry_id);
        if (e.seq != expect) {
            prob = problem("event %lld (%s): sequence gap, expected event %lld (events were"
                           " removed)",
                           (long long)e.seq, desc, (long long)expect);
            break;
        }
        if (stored_prev == NULL || strcmp(stored_prev, prev) != 0) {
            prob = problem("event %lld (%s): prev_hash does not match event %lld", (long long)e.seq,
                           desc, (long long)(e.seq - 1));
            break;
        }
        if (event_hash(&e, prev, hash, err) < 0)
            goto out;
        if (stored_hash == NULL || strcmp(stored_hash, hash) != 0) {
            prob = problem("event %lld (%s): hash mismatch", (long long)e.seq, desc);
            break;
        }
        snprintf(prev, sizeof(prev), "%s", hash);
        expect++;
        /* follow the entry's life */
        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)e.drift_id);
        st_entry = json_object_get(state, idbuf);
        if (strcmp(e.event, "open") == 0) {
            if (st_entry != NULL) {
                prob = problem("event %lld (%s): drift entry %s opened twice", (long long)e.seq,
                               desc, idbuf);
                break;
            }
            if (json_object_set_new(state, idbuf,
                                    json_pack("{s:I, s:s, s:n, s:s}", "seq", (json_int_t)e.seq,
                                              "content", e.content, "resolution", "desc", desc)) <
                0) {
                oom(err);
                goto out;
            }
        } else {
            if (st_entry == NULL || !json_is_null(json_object_get(st_entry, "resolution")) ||
                strcmp(json_string_value(json_object_get(st_entry, "content")), e.content) != 0 ||
                e.resolution == NULL) {
                prob = problem("event %lld (%s): resolves drift entry %s that is not open with"
                               " this content",
                               (long long)e.seq, desc, idbuf);
                break;
            }
            if (json_object_set_new(st_entry, "resolution", json_string(e.resolution)) < 0) {
                oom(err);
                goto out;
            }
        }
    }
    q_finish(st, s);
    s = NULL;
    if (r < 0)
        goto out;
    if (ret_events != NULL)
        *ret_events = (size_t)(expect - 1);
    if (prob != NULL)
        goto done;

    /* the drift table must agree with the log */
    if (q_prep(st, &s, err,
               "SELECT id, vpc_id, entry_id, resolved, kind, key, component, component_type,"
               " resource_type, resource_id, details FROM drift ORDER BY id",
               NULL) < 0)
        goto out;
    while ((r = q_step(st, s, err)) == 1) {
        const char *resolved = col_text(s, 3);
        json_t *entry = NULL, *st_entry;
        char *content;
        int same;

        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)sqlite3_column_int64(s, 0));
        describe(desc, sizeof(desc), col_text(s, 1), col_text(s, 2));
        st_entry = json_object_get(state, idbuf);
        if (st_entry == NULL) {
            prob = problem("drift entry %s (%s): no open event in the log", idbuf, desc);
            break;
        }
        if (entry_from_row(s, 4, &entry, err) < 0) {
            prob = problem("drift entry %s (%s): %s", idbuf, desc, err->msg);
            err_clear(err);
            break;
        }
        content = store_canon(entry);
        json_decref(entry);
        if (content == NULL) {
            oom(err);
            goto out;
        }
        same = strcmp(content, json_string_value(json_object_get(st_entry, "content"))) == 0;
        free(content);
        if (!same) {
            prob = problem("drift entry %s (%s): differs from its open event %lld", idbuf, desc,
                           (long long)json_integer_value(json_object_get(st_entry, "seq")));
            break;
        }
        {
            const char *logged = json_string_value(json_object_get(st_entry, "resolution"));

            if ((resolved == NULL) != (logged == NULL) ||
                (resolved != NULL && strcmp(resolved, logged) != 0)) {
                prob =
                    problem("drift entry %s (%s): resolved is %s but the log says %s", idbuf, desc,
                            resolved != NULL ? resolved : "open", logged != NULL ? logged : "open");
                break;
            }
        }
        if (json_object_del(state, idbuf) < 0) {
            oom(err);
            goto out;
        }
    }
    q_finish(st, s);
    s = NULL;
    if (r < 0)
        goto out;
    if (prob == NULL && json_object_size(state) > 0) {
        const char *id;
        json_t *val;

        json_object_foreach(state, id, val)
        {
            prob = problem("event %lld (%s): drift entry %s is missing from the drift table",
                           (long long)json_integer_value(json_object_get(val, "seq")),
                           json_string_value(json_object_get(val, "desc")), id);
            break;
        }
    }
    if (prob != NULL)
        goto done;
    if (q_int(st, &triggers, err,
              "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name ="
              " 'drift_events' AND name IN ('drift_events_no_update', 'drift_events_no_delete')",
              NULL) < 0)
        goto out;
    if (triggers != 2)
        prob = problem("drift_events: the append-only triggers were removed");
done:
    *ret_problem = prob;
    prob = NULL;
    rc = 0;
out:
    q_finish(st, s);
    json_decref(state);
    free(prob);
    if (rc < 0)
        store_ctx(err, "verifying the drift log");
    return rc;
}
