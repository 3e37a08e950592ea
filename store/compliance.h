/*
 * store/compliance: the Security Hub half of the store: per target
 * (account x region) the hub state and read times, the current finding
 * summaries, the verdict of every control of every enabled CIS standard,
 * and the history of verdict changes (compliance_events). SQL lives in
 * store/compliance.c, which shares struct store with store.c through
 * store/store_int.h (schema: migration 2, described there).
 *
 * One call per target and run records everything the run learnt
 * (store_compliance_apply): the findings read are merged into the stored
 * set (a full read replaces it), the set is judged (compliance_judge) and
 * linked to the run's discovered models (compliance_link), and each
 * control whose status differs from the stored one gets a new status row
 * (since = now, since_run = run) and an event. When the catalogue and the
 * models are as at the last judgement and the read is incremental, only the
 * controls the read's findings are judged under (in their new or stored
 * version) are judged and linked again; every other verdict stands (its
 * check time moves), which is what a judgement of the whole set gives (see
 * compliance_select in mapping/compliance.h). Models given by digest are
 * loaded only when some finding to link counts as FAILED. A failed
 * Security Hub read (store_compliance_failed) only records the error on
 * the target: its findings, statuses and read times stay as they were, so
 * nothing turns green on a failure and the next run re-reads from the same
 * point.
 *
 * Security Hub not enabled in a target is not a failure: the target is
 * recorded as hub "not_enabled", its findings are dropped and its controls
 * disappear (each with an event to new NULL); queries show the target with
 * hub "not_enabled" and no controls.
 *
 * Every write is atomic on its own (BEGIN IMMEDIATE, or a SAVEPOINT inside
 * the caller's transaction, e.g. the run's in daemon/sync.c). Times are
 * epoch seconds passed in by the caller; JSON output shows RFC 3339 UTC.
 * Errors as store.h: ERR_STORE "store: OPERATION: sqlite message",
 * ERR_CONFIG for bad arguments, ERR_INTERNAL for OOM or malformed documents
 * produced by this program.
 */
#pragma once

#include <stdint.h>
#include <time.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct store;
struct store_link_texts;

/* What the store knows about a target's last Security Hub reads; the
 * main thread decides full vs incremental from it before a run. */
struct store_sh_state {
    int known;            /* a row exists */
    int hub_enabled;      /* last successful read found the hub on */
    time_t last_read_at;  /* 0: never read successfully */
    time_t last_full_at;  /* 0: never fully read */
    long findings;        /* stored summaries */
    int style;            /* enum sh_style the last successful read learnt (0: unknown) */
};

/* Fills *ret (zeroed when the target was never read). */
MUST_CHECK int store_sh_state_get(struct store *st, const char *account_id, const char *region,
    struct store_sh_state *ret, struct err *err);

/* One successful Security Hub read of a target. Everything is borrowed. */
struct store_sh_read {
    int hub_enabled;       /* 0: the hub is off there (the rest is ignored) */
    int full;              /* summaries are the whole ACTIVE set: replace */
    time_t read_until;     /* the read's upper bound (the next run's `since`) */
    json_t *standards;     /* sh_get_enabled_standards' array (may be NULL) */
    json_t *catalogue;     /* sh_read_catalogue's object */
    /* The read's summaries: the texts staged for the target with index
     * staged_target (store_stage_finding_rows: the row form of
     * sh_finding_summarize objects), in staging order. The commit reads
     * them itself, without a jansson tree per finding: each is read into
     * the judge's set (compliance_sums_add_row) and an ACTIVE one is
     * stored as it is. */
    int64_t staged_target;
    json_t *models;        /* {"vpc-...": MODEL} discovered this run, or NULL */
    json_t *account_model; /* account-level components doc (vpc_id null), or NULL */
    int style;             /* enum sh_style the read learnt (sh_findings_counts.style);
                              stored for the next read (reset when the hub is off) */
    /* Instead of models/account_model (both NULL): a digest of the models'
     * canonical texts, which stands for them in the judge inputs, and a
     * loader called only when linking reads the models (some finding counts
     * as FAILED): their link texts (store_staged_link_texts: account_id,
     * vpc_id and the components' key and resource_id), linked without a
     * tree per model (compliance_failing_components_texts); *ret is
     * cleared by the commit with store_link_texts_clear. */
    const char *models_digest;
    int (*models_load_texts)(void *ctx, struct store_link_texts *ret, struct err *err);
    void *models_ctx;
};

/*
 * Records a successful read (see the top comment) in run run_id at now.
 * Each status change is appended to events (an array, borrowed, may be
 * NULL) as {"target": "ACCOUNT/REGION", "account_id", "region",
 * "standard", "control": "1.4", "old": STATUS|null, "new": STATUS|null,
 * "time": RFC 3339, "run": N}. *ret_judged (may be NULL) gets
 * compliance_judge's result for the target (owned by the caller).
 */
MUST_CHECK int store_compliance_apply(struct store *st, int64_t run_id, time_t now,
    const char *account_id, const char *region, const struct store_sh_read *rd, json_t *events,
    json_t **ret_judged, struct err *err);

/* Records a failed read: last_run, last_error, last_error_at; nothing else. */
MUST_CHECK int store_compliance_failed(struct store *st, int64_t run_id, time_t now,
    const char *account_id, const char *region, const char *error_text, struct err *err);

/* Stored verdicts, optionally of one account and/or region (NULL: all):
 * [{"account_id","region","standard","control_id","title","status",
 * "severity","failed_resources":[...],"suppressed_resources":[...],
 * "components":[{"vpc_id": "vpc-..."|null, "key": "..."}],"findings",
 * "suppressed","since","since_run","checked_at"}] sorted by account,
 * region, standard, natural control order. Owned by the caller. */
MUST_CHECK int store_compliance_rows(struct store *st, const char *account_id, const char *region,
    json_t **ret, struct err *err);

/* [{"account_id","region","hub": "enabled"|"not_enabled"|"unknown",
 * "standards": ["cis-1.2", ...],"last_read_at","last_full_at","findings",
 * "error","error_at"}] sorted by account, region. Owned by the caller. */
MUST_CHECK int store_compliance_targets(struct store *st, json_t **ret, struct err *err);

/* The stored summaries of one target (array sorted by id) and its
 * catalogue snapshot (object; {} when never read). Owned by the caller. */
MUST_CHECK int store_compliance_findings(struct store *st, const char *account_id,
    const char *region, json_t **ret, struct err *err);
MUST_CHECK int store_compliance_catalogue(struct store *st, const char *account_id,
    const char *region, json_t **ret, struct err *err);

/* Events with id > after_id, oldest first, in the shape above plus "id".
 * Owned by the caller. */
MUST_CHECK int store_compliance_events(struct store *st, int64_t after_id, json_t **ret,
    struct err *err);

/* Totals over every target, in compliance_judge's shape for
 * metrics_set_compliance: {"cis-1.4": {"totals": {"COMPLIANT": N, ...}}};
 * *ret_findings gets the number of stored findings. Owned by the caller. */
MUST_CHECK int store_compliance_totals(struct store *st, json_t **ret, long *ret_findings,
    struct err *err);
