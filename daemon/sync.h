/*
 * sync: one run of the main job, shared by `driftsync sync --once` and the
 * daemon: discover every target (account x region, or an organisation's
 * aggregator) concurrently, map each VPC to a model, then, in ONE store
 * transaction, compare with the saved models, set every VPC's status and
 * reconcile the drift log. A target that fails changes nothing of its own
 * (models untouched, VPCs keep their status, flagged with the error); the
 * others are still recorded. A stop request abandons the run at a safe
 * point: nothing of it is committed and the run is recorded as aborted.
 *
 * This is the place run-level failures are logged (log.h); lower layers
 * only fill struct err.
 */
#pragma once

#include <stdint.h>
#include <time.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct cfg;
struct store;
struct map_rules;

struct sync_env {
    const struct cfg *cfg;          /* borrowed */
    const struct map_rules *rules;  /* borrowed */
    struct store *store;            /* borrowed */
    volatile const int *stop;       /* set asynchronously to abandon the run; may be NULL */
};

struct sync_report {
    int64_t run_id;
    char status[16];      /* ok | partial | failed | aborted */
    long targets;
    long targets_failed;
    long compliance_failed; /* targets whose Security Hub read failed (their Config
                               part committed); the run is then "partial" */
    long api_calls;
    long throttles;
    long resources;
    long unmapped;        /* items of types without a rule */
    long vpcs_seen;
    long vpcs_unchanged;  /* VPCs whose snapshot was unchanged: diff skipped */
    long findings;        /* Security Hub findings read (all targets) */
    long items_cached;    /* resources known from the last read (item cache), not parsed */
    long targets_reused;  /* targets whose read equalled the last: models reused */
    long elapsed_ms;
    json_t *errors;       /* owned: [{"target": "ACCOUNT/REGION", "error": "..."}] */
    json_t *unmapped_types; /* owned: {"AWS::X::Y": count} */
    json_t *api;          /* owned: [{"service","operation","calls","errors","throttles","retries"}] */
};

/* Runs once. Returns 0 when the run was recorded (see report->status for
 * partial failures), -1 when it could not be (store failure, abandoned run,
 * no credentials at all); the report is filled as far as it got either way.
 * Release with sync_report_clear. */
MUST_CHECK int sync_run(const struct sync_env *env, struct sync_report *report, struct err *err);
void sync_report_clear(struct sync_report *report);
