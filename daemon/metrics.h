/*
 * metrics: the daemon's Prometheus text-format file for node_exporter's
 * textfile collector (`metrics_file:` in driftsync.yaml). No listening
 * socket: after each run the daemon renders everything here and replaces
 * the file atomically (temp file in the same directory, fsync, rename), so
 * the collector never reads half a file.
 *
 * Counters (_total) count since the daemon started, as Prometheus expects
 * of a process that restarts; gauges describe the last run or the current
 * state of the store. Families whose data is not known are left out rather
 * than written as zeros: VPC counts until metrics_set_vpcs was called,
 * compliance controls and findings until metrics_set_compliance was.
 *
 * Families (all prefixed driftsync_):
 *   runs_total{status}                       counter  ok|partial|failed|aborted
 *   run_duration_seconds_{sum,count}         summary  every run
 *   last_run_duration_seconds, last_run_timestamp_seconds, last_run_success
 *   last_run_targets{state}                  gauge    ok|failed
 *   api_calls_total, api_errors_total, api_throttles_total, api_retries_total
 *                    {service,operation}     counter
 *   throttles_total                          counter
 *   resources_seen, resources_unmapped, vpcs_seen     gauge (last run)
 *   vpcs{status}, vpcs_with_error            gauge    green|yellow|red (store)
 *   findings_seen                            gauge    (compliance hook)
 *   compliance_controls{standard,status}     gauge    (compliance hook)
 */
#pragma once

#include <time.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct buf;
struct sync_report;
struct metrics;

/* *ret is owned by the caller (metrics_free). */
MUST_CHECK int metrics_new(struct metrics **ret, struct err *err);
void metrics_free(struct metrics *m);

/* Adds one finished run (report borrowed; status, elapsed_ms, targets,
 * api rows, throttles, resources, unmapped, vpcs_seen are read) that ended
 * at finished_at (epoch s). A report with an unknown status or a malformed
 * api row is ERR_INTERNAL naming it (sync.c produces them). */
MUST_CHECK int metrics_add_run(struct metrics *m, const struct sync_report *rep,
    time_t finished_at, struct err *err);

/* VPCs by status from store_status's document (borrowed):
 * {"vpcs": [{"status": "green"|"yellow"|"red", "error": null|"..."}]}.
 * ERR_INTERNAL on another shape or status. */
MUST_CHECK int metrics_set_vpcs(struct metrics *m, const json_t *status_doc, struct err *err);

/*
 * Hook for the compliance module: `judged` is compliance_judge's result
 * ({"STANDARD": {"totals": {"COMPLIANT": N, "NON-COMPLIANT": N, ...}}}),
 * borrowed (not modified; non-const only because jansson iteration wants
 * it) and copied; NULL removes the family again. findings_seen < 0 means unknown
 * (family left out). Nothing calls this until the daemon runs the
 * compliance pass; until then the two families are simply absent.
 * ERR_INTERNAL when judged has another shape.
 */
MUST_CHECK int metrics_set_compliance(struct metrics *m, json_t *judged,
    long findings_seen, struct err *err);

/* Appends the whole exposition (text format 0.0.4) to out. */
MUST_CHECK int metrics_render(const struct metrics *m, struct buf *out, struct err *err);

/* Writes text to path atomically: PATH.tmp.XXXXXX in the same directory,
 * mode 0644, fsync, rename over path. The temp file never ends in ".prom",
 * so the collector ignores it. ERR_CONFIG naming the path on failure (the
 * temp file is removed). */
MUST_CHECK int metrics_write_file(const char *path, const char *text, size_t len,
    struct err *err);
