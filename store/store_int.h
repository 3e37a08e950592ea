/*
 * store_int.h: what the files of the store module share and nobody else
 * sees: the definition of struct store (one SQLite connection) and the
 * schema migrations contributed by files other than store.c. store.c owns
 * the migration list (append-only, keyed on PRAGMA user_version); a file
 * that adds tables puts its migration text here as a macro, so the list
 * stays in one place and store.c needs only one line per migration.
 */
#pragma once

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* Prepared statements kept across calls (store.c's q_prep), keyed by the
 * address of their SQL text, which is always a string literal. */
#define STORE_STMT_CACHE 96

struct store_stmt {
    const char *sql;  /* borrowed literal; NULL: free slot */
    sqlite3_stmt *s;  /* owned */
    int busy;         /* handed out, not yet returned by q_finish */
};

struct store;
typedef struct json_t json_t;
struct err;

/*
 * store.c's SQL helpers, shared with store/compliance.c so that both speak
 * SQL one way (one statement cache, one transaction discipline).
 *   store_sql_prep  prepares sql (a string literal: the statement cache keys
 *                   on its address) and binds the variadic arguments by fmt:
 *                   s const char * (NULL binds NULL), i int64_t, I int64_t
 *                   (0 binds NULL), j const json_t * as canonical JSON
 *   store_sql_step  1 = a row, 0 = done, -1 = error
 *   store_sql_run   steps to the end, then store_sql_finish
 *   store_sql_finish  gives a statement back (cached ones are reset)
 *   store_sql_col_* a column as a JSON string/RFC 3339 time (null when NULL),
 *                   or parsed JSON text (what names it in the error)
 *   store_canon     compact, sorted-keys JSON text (malloc'd)
 *   store_tx_enter/leave  BEGIN IMMEDIATE, or a SAVEPOINT inside the
 *                   caller's transaction (none inside store_begin_all);
 *                   leave commits or undoes.
 * All return -1 with err set on failure unless they say otherwise.
 */
enum store_tx { STORE_TX_NONE, STORE_TX_BEGIN, STORE_TX_SAVEPOINT };

int store_sql_prep(struct store *st, sqlite3_stmt **ret, struct err *err, const char *sql,
    const char *fmt, ...);
int store_sql_step(struct store *st, sqlite3_stmt *s, struct err *err);
int store_sql_run(struct store *st, sqlite3_stmt *s, struct err *err);
void store_sql_finish(struct store *st, sqlite3_stmt *s);
json_t *store_sql_col_str(sqlite3_stmt *s, int i);
json_t *store_sql_col_time(sqlite3_stmt *s, int i);
int store_sql_col_json(sqlite3_stmt *s, int i, const char *what, json_t **ret, struct err *err);
char *store_canon(const json_t *j);
int store_tx_enter(struct store *st, enum store_tx *ret, struct err *err);
int store_tx_leave(struct store *st, enum store_tx mode, int ok, struct err *err);

struct store {
    sqlite3 *db; /* owned */
    char *path;  /* owned, for messages */
    struct store_stmt stmts[STORE_STMT_CACHE];
    int all_or_nothing; /* store_begin_all: calls open no savepoints */
};

/*
 * Migration 2 (store/compliance.c): Security Hub state per target.
 *  sh_targets          one row per account x region read: whether the hub is
 *                      on, the enabled standards and catalogue snapshot (JSON),
 *                      read times (last_read_at: upper bound of the last
 *                      successful read = the next incremental `since`;
 *                      last_full_at: last full re-read), and the error of the
 *                      last failed compliance read (cleared on success).
 *  sh_findings         the target's current finding summaries
 *                      (sh_finding_summarize), ACTIVE only, by finding id.
 *  compliance_status   the verdict per target x standard x control, with
 *                      the time (since) and run (since_run) of its last change.
 *  compliance_events   every status change (old NULL: first seen; new NULL:
 *                      the control went away, e.g. its standard was disabled).
 */
#define STORE_MIGRATION_2_COMPLIANCE                                                      \
    "CREATE TABLE sh_targets ("                                                           \
    "  account_id TEXT NOT NULL, region TEXT NOT NULL,"                                   \
    "  hub TEXT NOT NULL DEFAULT 'unknown' CHECK (hub IN ('unknown','enabled','not_enabled')),"\
    "  standards TEXT NOT NULL DEFAULT '[]', catalogue TEXT NOT NULL DEFAULT '{}',"       \
    "  last_read_at INTEGER, last_full_at INTEGER,"                                       \
    "  last_run INTEGER REFERENCES runs(id), last_ok_run INTEGER REFERENCES runs(id),"    \
    "  findings INTEGER NOT NULL DEFAULT 0,"                                              \
    "  last_error TEXT, last_error_at INTEGER,"                                           \
    "  PRIMARY KEY (account_id, region));"                                                \
    "CREATE TABLE sh_findings ("                                                          \
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, finding_id TEXT NOT NULL,"         \
    "  summary TEXT NOT NULL, updated_at TEXT,"                                           \
    "  PRIMARY KEY (account_id, region, finding_id));"                                    \
    "CREATE TABLE compliance_status ("                                                    \
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, standard TEXT NOT NULL,"           \
    "  control_id TEXT NOT NULL, title TEXT, status TEXT NOT NULL, severity TEXT,"        \
    "  failed_resources TEXT NOT NULL DEFAULT '[]',"                                      \
    "  suppressed_resources TEXT NOT NULL DEFAULT '[]',"                                  \
    "  components TEXT NOT NULL DEFAULT '[]',"                                            \
    "  findings INTEGER NOT NULL DEFAULT 0, suppressed INTEGER NOT NULL DEFAULT 0,"       \
    "  since INTEGER NOT NULL, since_run INTEGER REFERENCES runs(id),"                    \
    "  checked_at INTEGER NOT NULL, checked_run INTEGER REFERENCES runs(id),"             \
    "  PRIMARY KEY (account_id, region, standard, control_id));"                          \
    "CREATE TABLE compliance_events ("                                                    \
    "  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, run_id INTEGER REFERENCES runs(id),"  \
    "  account_id TEXT NOT NULL, region TEXT NOT NULL, standard TEXT NOT NULL,"           \
    "  control_id TEXT NOT NULL, old_status TEXT, new_status TEXT);"                      \
    "CREATE INDEX compliance_events_by_control ON compliance_events"                      \
    "  (account_id, region, standard, control_id, at);"

/*
 * Migration 3 (store/compliance.c): per target, the finding style the last
 * successful Security Hub read learnt (enum sh_style: NULL unknown,
 * 'legacy', 'consolidated'), so the next read sends one GetFindings pass
 * instead of two; and the fingerprint of what the last judgement of the
 * target was made from besides its findings (catalogue and the models'
 * component keys: judge_inputs), so an incremental read that brings no
 * finding can skip the judge. NULL on rows from before it: judged again.
 * One self-contained entry of store.c's list.
 */
#define STORE_MIGRATION_3_SH_STYLE                                                        \
    "ALTER TABLE sh_targets ADD COLUMN style TEXT"                                        \
    "  CHECK (style IS NULL OR style IN ('legacy','consolidated'));"                      \
    "ALTER TABLE sh_targets ADD COLUMN judge_inputs TEXT;"

/*
 * store.c's list names STORE_MIGRATION_COMPLIANCE once; it expands to
 * the list's entries 2 and 3 (migrations 4 and 5 follow them there).
 */
#define STORE_MIGRATION_COMPLIANCE STORE_MIGRATION_2_COMPLIANCE, STORE_MIGRATION_3_SH_STYLE
