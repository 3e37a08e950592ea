/*
 * store: the SQLite state of driftsync: runs, targets, VPC status, saved
 * and discovered models, drift entries and the tamper-evident drift log,
 * the item cache, and a run's staging area. store.c and (for Security Hub)
 * store/compliance.c are the only files that speak SQL or include
 * <sqlite3.h>.
 *
 * Transactions. Every write call is atomic on its own (it opens BEGIN
 * IMMEDIATE when no transaction is open, a SAVEPOINT inside one). A caller
 * that wants a whole run in one transaction wraps the calls in
 * store_begin/store_commit: a killed process then leaves the previous state
 * intact (WAL mode). store_rollback undoes everything since store_begin.
 * store_begin_all is the same for a caller that rolls back on any failure:
 * no savepoints inside.
 *
 * A struct store (one SQLite connection) is used by one thread at a time;
 * threads and processes each open their own and SQLite's locking (busy
 * timeout, then "database is locked") arbitrates. The one exception is a
 * run's workers staging results under their own mutex while the thread that
 * owns the connection waits for them (see "Staging" below).
 *
 * Times are epoch seconds passed in by the caller (`now`), so tests are
 * deterministic; JSON output shows them as RFC 3339 UTC.
 *
 * Aborted runs: store_open marks "aborted" every run still "running" whose
 * process (the pid recorded by store_run_begin) no longer exists;
 * store_runs_abort_stale does the same on demand, and with all=1 marks every
 * running run (for a daemon that knows it is the only writer).
 *
 * VPC status: yellow = discovered, no saved model; green = model, no open
 * drift; red = model with open drift. A modelled VPC that a successful sync
 * no longer finds stays red with everything only_in_model (its discovered
 * snapshot is dropped); an unmodelled VPC that disappears is forgotten.
 * A failed target keeps every status and only sets the VPCs' error text.
 *
 * Drift entries (docs/model-schema.md) are reconciled per VPC against
 * diff_models(saved, discovered, ignores): a new entry is opened, one still
 * present gets its last_seen bumped, one no longer present is resolved:
 * "gone" when the discovery changed (sync), "accepted" when the model changed
 * (model sync / put / import). An entry whose content changed (same id,
 * new value) is resolved "gone" and reopened with the new content. Every
 * open and resolve appends an event to the hash chain checked by
 * store_log_verify.
 *
 * Errors: ERR_STORE for SQLite failures, as "store: OPERATION: sqlite
 * message"; ERR_CONFIG for bad documents or arguments; ERR_NOTFOUND for
 * unknown VPCs or keys; ERR_INTERNAL for OOM. Every prototype returns 0 on
 * success and -1 with err filled on failure unless it says otherwise.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct cfg_ignore;
struct store;

/* Schema version this binary writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION          5
#define STORE_BUSY_TIMEOUT_MS_DEFAULT 5000

/* Opens (creating and migrating) the database at path. Refuses a file that
 * is not a driftsync database or has a newer schema. Marks stale running
 * runs aborted (see above). *ret is owned by the caller (store_close). */
MUST_CHECK int store_open(const char *path, struct store **ret, struct err *err);
/* Rolls back an open transaction and closes. NULL-safe. */
void store_close(struct store *st);
/* Frees the page cache memory the connection does not need right now
 * (between a daemon's runs). NULL-safe. */
void store_release_memory(struct store *st);
/* How long a call waits for another writer before "database is locked". */
void store_set_busy_timeout(struct store *st, int timeout_ms);

MUST_CHECK int store_begin(struct store *st, struct err *err);
/* store_begin for a caller that rolls back the whole transaction when any
 * call fails (a run): calls inside then open no savepoint of their own, so a
 * failed call may leave part of its work in the transaction. Saves a
 * statement journal holding a copy of nearly every page the run writes. */
MUST_CHECK int store_begin_all(struct store *st, struct err *err);
MUST_CHECK int store_commit(struct store *st, struct err *err);
/* Undoes the transaction opened by store_begin; a no-op without one. */
void store_rollback(struct store *st);

/* ---- runs ---- */

/* "running", "ok", "partial", "failed", "aborted" */
MUST_CHECK int store_run_begin(struct store *st, time_t now, int64_t *ret_run_id, struct err *err);

struct store_run_stats {
    long targets_total;
    long targets_failed;
    long api_calls;
    long resources_seen;
};

/* Finishes a running run. status is one of "ok", "partial", "failed",
 * "aborted"; errors (array) and summary (object) are borrowed, may be NULL.
 * ERR_NOTFOUND when the run does not exist or is no longer running. */
MUST_CHECK int store_run_finish(struct store *st, int64_t run_id, time_t now, const char *status,
                                const struct store_run_stats *stats, const json_t *errors,
                                const json_t *summary, struct err *err);

/* Marks running runs aborted: those whose pid is gone, or all of them when
 * all != 0. *ret_n (may be NULL) gets the count. */
MUST_CHECK int store_runs_abort_stale(struct store *st, time_t now, int all, size_t *ret_n,
                                      struct err *err);

/* One run as {"id","started_at","finished_at"|null,"status","targets_total",
 * "targets_failed","api_calls","resources_seen","errors","summary"}; run_id 0
 * means the latest. *ret is owned by the caller; NULL when absent. */
MUST_CHECK int store_run_get(struct store *st, int64_t run_id, json_t **ret, struct err *err);

/* ---- sync results ---- */

/*
 * Records a successful discovery of one target (account x region) in run
 * run_id. discovered is {"vpc-...": MODEL, ...} (borrowed; each model's
 * vpc_id must equal its key). For every VPC of the target: stores the
 * discovered snapshot, upserts the vpcs row (name, status, counts,
 * error NULL, last_sync = now), reconciles drift against the saved model
 * with ignores (close_as "gone"), and handles vanished VPCs (see above).
 * Targets row: last_run, last_ok_run = run_id, error cleared.
 * *ret_changes (may be NULL) gets {"opened": [drift rows], "resolved":
 * [drift rows]} in the drift-query shape, owned by the caller.
 */
MUST_CHECK int store_apply_target(struct store *st, int64_t run_id, time_t now,
                                  const char *account_id, const char *region,
                                  const json_t *discovered, const struct cfg_ignore *ignores,
                                  size_t nignores, json_t **ret_changes, struct err *err);

/*
 * Staging. A run's workers hand each target's results to the store as soon
 * as they have them, so a run never holds the organisation in memory: the
 * canonical model texts and finding summaries go to the staging tables of this
 * connection (a private temporary database that SQLite deletes when the
 * connection closes or the staging area is emptied; the database file is
 * neither written nor locked, so a killed run leaves nothing behind). The run's single commit then applies them
 * (store_apply_staged, store_staged_*). The calls are not thread-safe:
 * callers serialise them, and never stage inside an open transaction.
 * `target` is the caller's index of the target in its run.
 */
/* Creates or empties the staging tables (drops the staging file: cheap
 * whatever its size). ERR_INTERNAL inside an open transaction. */
MUST_CHECK int store_stage_reset(struct store *st, struct err *err);
struct store_staged_model {
    const char *vpc_id; /* NULL: the account-level document */
    const char *name;   /* the VPC's name, may be NULL */
    const char *model;  /* canonical JSON text (compact, sorted keys) */
    const char *link;   /* its link document (compliance_link_text), or NULL: then
                           store_staged_link_texts cuts it out of the model text */
};
/* A mapped model's texts as a worker stages them: the canonical text and
 * its link document (compliance_link_text), owned by *m and freed with
 * store_staged_model_clear; vpc_id (NULL: the account document) and the
 * name are borrowed from the caller and from model. -1 when out of memory
 * (*m holds what was made, for store_staged_model_clear). */
MUST_CHECK int store_staged_model_make(struct store_staged_model *m, const char *vpc_id,
                                       const json_t *model);
void store_staged_model_clear(struct store_staged_model *m);
/* digest: store_staged_models_sum of v (the worker makes it beside its
 * texts, so the commit need not read them back to hash them), or NULL. */
MUST_CHECK int store_stage_models(struct store *st, int64_t target, const char *account_id,
                                  const char *region, const struct store_staged_model *v,
                                  size_t n, const char *digest, struct err *err);
/* What store_staged_models_digest gives for exactly these models staged
 * alone: SHA-256 (hex) over each VPC id ("" for the account document) and
 * model text, NUL-terminated, in VPC id order. -1 (out left alone) when
 * out of memory, on a SHA-256 failure, a NULL text or two models under one
 * id: stage them with a NULL digest then. Thread-safe, no store needed. */
MUST_CHECK int store_staged_models_sum(const struct store_staged_model *v, size_t n,
                                       char out[65]);
/* One finding summary to stage: its text in the row form
 * (compliance_row_text: the id left out of it, given beside it), or the
 * whole compact summary with id NULL. Both borrowed. */
struct store_staged_finding {
    const char *id;
    const char *text;
};
/* Stages n summaries of target, kept in order; the commit stores each
 * ACTIVE one's text as it is. */
MUST_CHECK int store_stage_finding_rows(struct store *st, int64_t target,
                                        const struct store_staged_finding *v, size_t n,
                                        struct err *err);
/* The staged models of target's account x region cut down to what
 * compliance linking reads, {"account_id", "vpc_id", "components":
 * [{"key", "resource_id"}]} (the staged link document, else cut out of the
 * model text in SQL), as texts without a tree (for
 * compliance_failing_components_texts): in t->buf, each NUL-terminated,
 * text i at t->buf + t->off[i], t->len[i] bytes; i < t->n the VPCs' in
 * vpc_id order, then (has_account) text t->n the account document's. A
 * NULL link column (never made by the SQL) reads as "null". *ret is the
 * caller's: store_link_texts_clear (also on a zeroed struct). Errors
 * name the read ("reading the staged models of ACCOUNT/REGION"), a reused
 * snapshot that is gone its VPC (a text is not parsed here, so one that is
 * not JSON is the reader's error). */
struct store_link_texts {
    char *buf;
    size_t *off, *len;
    size_t n;
    int has_account;
    size_t nbuf, capbuf; /* used and allocated bytes of buf */
};
MUST_CHECK int store_staged_link_texts(struct store *st, int64_t target,
                                       const char *account_id, const char *region,
                                       struct store_link_texts *ret, struct err *err);
void store_link_texts_clear(struct store_link_texts *t);
/* SHA-256 (hex) over the staged VPC ids and model texts of target's
 * account x region (the account document included), in vpc_id order. The
 * texts are read back only when no digest is kept: store_apply_staged makes
 * it for a fresh read as it writes the snapshots, and keeps it on the
 * target for the reads that reuse them (store_stage_part's reused), until
 * the snapshots change. */
MUST_CHECK int store_staged_models_digest(struct store *st, int64_t target,
                                          const char *account_id, const char *region,
                                          char out[65], struct err *err);
/*
 * The item cache: per target (account x region) the items of its last
 * successful read, keyed by the SHA-256 of each item's text as AWS Config
 * returned it, with its identity and its projected form (map_project),
 * labelled with the digest of the rules that projected it. A worker that
 * finds every row of a read in the cache, and nothing else, knows the read
 * equals the last one: it reuses the stored snapshots (store_stage_reuse)
 * instead of parsing and mapping; when some rows are new it still skips
 * parsing the known ones. Replaced by store_apply_staged (one transaction
 * with the snapshots it describes); store_apply_target drops it.
 */
typedef int (*store_item_fn)(void *ctx, const unsigned char *hash, size_t hash_len,
                             const char *ident, const char *item, struct err *err);
/* Calls fn for each cached item of the target made with rules (others are
 * ignored). with_items 0 leaves the projected texts out (item NULL): what
 * telling whether a read is unchanged needs. fn returning -1 stops with its
 * error. */
MUST_CHECK int store_item_cache_load(struct store *st, const char *account_id, const char *region,
                                     const char *rules, int with_items, store_item_fn fn,
                                     void *ctx, struct err *err);
struct store_staged_item {
    const unsigned char *hash;
    size_t hash_len;
    const char *ident;
    const char *item; /* projected item, compact JSON */
};
MUST_CHECK int store_stage_items(struct store *st, int64_t target,
                                 const struct store_staged_item *v, size_t n, struct err *err);
/* Calls fn with the text of each item staged for target (any order); fn
 * returning -1 stops with its error. */
MUST_CHECK int store_staged_items(struct store *st, int64_t target,
                                  int (*fn)(void *ctx, const char *item, struct err *err),
                                  void *ctx, struct err *err);
/* The target-level facts of a read: the rules digest, its unmapped counts
 * (JSON text), and whether it reused the last read (then the cache is kept
 * as it is; otherwise it is replaced by the staged items). */
MUST_CHECK int store_stage_part(struct store *st, int64_t target, const char *account_id,
                                const char *region, const char *rules, const char *unmapped,
                                int reused, struct err *err);
/* Stages the stored snapshots and account document of account x region as
 * this read's models; *ret_vpcs gets their number and *ret_unmapped (owned)
 * the stored unmapped counts. */
MUST_CHECK int store_stage_reuse(struct store *st, int64_t target, const char *account_id,
                                 const char *region, long *ret_vpcs, json_t **ret_unmapped,
                                 struct err *err);
struct store_apply_stats {
    long vpcs;      /* VPCs staged */
    long unchanged; /* of them: snapshot and reconcile inputs unchanged, diff skipped */
};
/*
 * store_apply_target for the VPCs staged for target's account x region
 * (the account document is not a VPC and is skipped). A VPC whose staged
 * text equals its stored snapshot and whose drift was last reconciled with
 * the same ignores and diff rules (vpcs.reconciled) is only touched:
 * last_sync, last_run and the open drift rows' last_seen (the snapshot row
 * keeps the run and time its content was first discovered). *ret (may be
 * NULL) gets the counts.
 */
MUST_CHECK int store_apply_staged(struct store *st, int64_t run_id, time_t now, int64_t target,
                                  const char *account_id, const char *region,
                                  const struct cfg_ignore *ignores, size_t nignores,
                                  struct store_apply_stats *ret, struct err *err);
/* Records a failed target: targets.last_run/last_error/last_error_at, and the
 * error text on each of its VPCs (status, models and drift untouched). */
MUST_CHECK int store_target_failed(struct store *st, int64_t run_id, time_t now,
                                   const char *account_id, const char *region,
                                   const char *error_text, struct err *err);

/* ---- models ---- */

/* A VPC named by the user, resolved to its three parts (owned strings). */
struct store_vpc_ref {
    char *account_id;
    char *region;
    char *vpc_id;
};
void store_vpc_ref_clear(struct store_vpc_ref *ref);

/* Resolves "vpc-123", a VPC name (its Name tag) or "ACCOUNT/REGION/vpc-123"
 * against known VPCs and models. ERR_NOTFOUND when unknown, ERR_CONFIG when
 * ambiguous (the message lists every candidate as ACCOUNT/REGION/VPC). */
MUST_CHECK int store_vpc_resolve(struct store *st, const char *spec, struct store_vpc_ref *ret,
                                 struct err *err);

/* Saved model, or *ret = NULL when there is none (returns 0). Owned. */
MUST_CHECK int store_model_get(struct store *st, const struct store_vpc_ref *vpc, json_t **ret,
                               struct err *err);
/* Latest discovered snapshot, or *ret = NULL (returns 0). Owned. */
MUST_CHECK int store_discovered_get(struct store *st, const struct store_vpc_ref *vpc, json_t **ret,
                                    struct err *err);

/*
 * Saves model (borrowed; checked with diff_check_model, and its account_id,
 * region and vpc_id must name vpc) as canonical JSON. updated_by says why
 * ("create", "import", "sync", ...). Then reconciles drift against the
 * discovered snapshot (or, before any discovery, an empty one) with ignores,
 * resolving vanished entries as "accepted", and recomputes the status.
 */
MUST_CHECK int store_model_put(struct store *st, const struct store_vpc_ref *vpc,
                               const json_t *model, const char *updated_by, time_t now,
                               const struct cfg_ignore *ignores, size_t nignores, struct err *err);

/* Deletes the saved model: open drift is resolved "gone", status yellow.
 * ERR_NOTFOUND when there is no model. */
MUST_CHECK int store_model_delete(struct store *st, const struct store_vpc_ref *vpc, time_t now,
                                  struct err *err);

/*
 * `model sync`: accepts the discovered snapshot into the saved model, all of
 * it (keys NULL / nkeys 0: the model becomes the snapshot) or only the given
 * component, boundary or flow keys ("flow:FROM->TO:LABEL"); a designed
 * component is replaced by the discovered one it matched (by either key).
 * A key in neither side: ERR_NOTFOUND. Then reconciles like store_model_put
 * (updated_by "sync", resolution "accepted"), in one transaction.
 * *ret_accepted (may be NULL) gets the number of drift entries it resolved.
 * ERR_NOTFOUND when there is no model or no discovered snapshot.
 */
MUST_CHECK int store_model_accept(struct store *st, const struct store_vpc_ref *vpc,
                                  const char *const *keys, size_t nkeys, time_t now,
                                  const struct cfg_ignore *ignores, size_t nignores,
                                  size_t *ret_accepted, struct err *err);

/* ---- queries ---- */

/* {"summary":{"accounts","vpcs","models","out_of_sync"},"vpcs":[{"account_id",
 * "region","vpc_id","name","status","only_in_model","only_in_vpc","changed","error",
 * "last_sync"}]} sorted by account, region, vpc; name is the Name tag, null when
 * the VPC has none. Owned by the caller. */
MUST_CHECK int store_status(struct store *st, json_t **ret, struct err *err);

struct store_drift_filter {
    const struct store_vpc_ref *vpc; /* NULL: every VPC */
    const char *kind;                /* NULL or only_in_model|only_in_vpc|changed */
    time_t since;                    /* 0 or: last seen (or resolved) at or after */
    int all;                         /* 0: open entries only; 1: resolved too */
};

/* [{"vpc_id","account_id","region","kind","resource_type","resource_id",
 * "component","details","first_seen","last_seen","resolved"}] sorted by
 * account, region, vpc, key, entry id, first_seen. Owned by the caller. */
MUST_CHECK int store_drift_query(struct store *st, const struct store_drift_filter *filter,
                                 json_t **ret, struct err *err);

/* ---- tamper-evident log ---- */

/*
 * Recomputes the drift_events hash chain (seq contiguous from 1, prev_hash
 * links, SHA-256 of each event) and checks the drift table agrees with the
 * events (every entry opened by an event with the same content, resolved
 * exactly when a resolve event says so) and that the append-only triggers
 * are in place. Returns 0 with *ret_problem NULL when everything checks,
 * 0 with *ret_problem (malloc'd, caller frees) naming the first problem:
 * "event 17 (vpc-..., only_in_vpc arn:...): hash mismatch", -1 on error.
 * *ret_events (may be NULL) gets the number of events checked.
 */
MUST_CHECK int store_log_verify(struct store *st, char **ret_problem, size_t *ret_events,
                                struct err *err);
