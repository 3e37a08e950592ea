/*
 * target: one unit of sync work (an account x region, or a whole
 * organisation through an aggregator) and the worker that reads it:
 * credentials for the account (the base chain, or an assumed role), an AWS
 * client for the region, AWS Config discovery of every mapped type, and the
 * mapping of the items into per-VPC models.
 *
 * A worker touches nothing shared but the rate limiter, the stats and the
 * credential providers (all thread-safe); the results wait in the target
 * until the main thread commits every target in one store transaction. A
 * failed target carries its error and no results, so nothing of it is
 * changed in the store.
 *
 * Compliance (Security Hub), when the main thread set sh_wanted: after the
 * discovery and mapping succeeded, the worker reads the enabled standards,
 * their control catalogue and the findings (full when sh_since is 0, else
 * updated in [sh_since, sh_until]) with the same client (account
 * credentials, region, shared rate limiter). A failed Security Hub read
 * sets sh_failed + sh_err but not failed: the Config part still commits
 * and only the compliance part of the target is left as stored, flagged
 * (store_compliance_failed). Hub not enabled (sh_err_not_enabled) is a
 * success with sh_hub_enabled 0. Organisation (aggregator) targets never
 * read Security Hub: that needs each member account's hub (or the
 * delegated administrator's aggregated view, which is not implemented), so
 * sync.c logs a note and skips compliance for them. A target whose
 * discovery fails does not read Security Hub either (its stored compliance
 * stays, flagged with the target's error).
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "daemon/err.h"
#include "mapping/map.h"

struct cfg;
struct creds_provider;
struct aws_ratelimit;
struct aws_stats;
struct aws_endpoint_overrides;

struct target_env {
    const struct cfg *cfg;                       /* borrowed */
    const struct map_rules *rules;               /* borrowed */
    const struct aws_endpoint_overrides *endpoints;
    struct aws_ratelimit *ratelimit;             /* shared */
    struct aws_stats *stats;                     /* shared */
    volatile const int *stop;                    /* set by signal handlers; may be NULL */
};

/* The mapped result of one account and region. */
struct target_part {
    char account_id[13];
    char region[48];
    struct map_result result;
};

struct target {
    char account_id[13];     /* "" in organisation mode until items name it */
    char region[48];
    struct creds_provider *creds;  /* borrowed: the account's provider */
    int aggregate;           /* organisation mode: one target for everything */
    /* results */
    int done;
    int failed;
    struct err err;
    struct target_part *parts;     /* valid when done && !failed: one per account x region
                                      (one part, or many in organisation mode) */
    size_t nparts;
    long items;
    long pages;
    long elapsed_ms;
    /* compliance: set by the main thread before the pool runs */
    int sh_wanted;           /* read Security Hub after discovery */
    time_t sh_since;         /* 0: full read (ACTIVE findings); else incremental since */
    time_t sh_until;         /* incremental upper bound: the run's start */
    /* compliance results (valid when sh_done) */
    int sh_done;             /* the read succeeded */
    int sh_failed;           /* the read failed: sh_err says why */
    struct err sh_err;
    int sh_hub_enabled;      /* 0: Security Hub is not enabled there */
    json_t *sh_standards;    /* owned: sh_get_enabled_standards' array */
    json_t *sh_catalogue;    /* owned: sh_read_catalogue's object */
    json_t *sh_summaries;    /* owned: array of finding summaries read */
    long sh_pages;
    long sh_findings;
};

/* Reads and maps one target; sets t->done, and t->failed + t->err on error. */
void target_run(const struct target_env *env, struct target *t);
/* Frees the results (models, findings) but keeps what the run report
 * needs (identity, counts, errors); target_clear later frees the rest. */
void target_release_results(struct target *t);
void target_clear(struct target *t);
