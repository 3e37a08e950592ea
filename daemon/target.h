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
 */
#pragma once

#include <stddef.h>

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
};

/* Reads and maps one target; sets t->done, and t->failed + t->err on error. */
void target_run(const struct target_env *env, struct target *t);
void target_clear(struct target *t);
