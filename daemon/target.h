/*
 * target: one unit of sync work (an account x region, or a whole
 * organisation through an aggregator) and the worker that reads it:
 * credentials for the account (the base chain, or an assumed role), an AWS
 * client for the region, AWS Config discovery of every mapped type, and the
 * mapping of the items into per-VPC models.
 *
 * Memory is bounded by the page, not the organisation: each item is
 * projected (map_project) to what the mapping reads as soon as discovery
 * hands it over and kept as compact JSON text (select mode: staged in the
 * store with its hash, for the item cache); the mapping runs once the
 * target is read, one target at a time (env->map_lock: the only phase
 * that holds a whole target as trees, its items and models, so it sets the
 * peak RSS; the other workers keep reading pages meanwhile); each
 * model's canonical text is then staged in the store (store_stage_models)
 * and the trees are freed. Finding summaries are staged in batches as they
 * are read. A worker touches nothing shared but the rate limiter, the
 * stats, the credential providers (all thread-safe) and the store's
 * staging area (under env->store_lock); the staged results wait until the
 * main thread commits every target in one store transaction. A failed
 * target carries its error and whatever it staged is ignored, so nothing
 * of it is changed in the store.
 *
 * Select mode of a plain target also keeps the item cache (itemcache.h):
 * rows known from the last successful read are not parsed, and a read
 * whose rows are exactly the last read's reuses the stored snapshots
 * (store_stage_reuse) without mapping at all.
 *
 * Compliance (Security Hub), when the main thread set sh_wanted: a second
 * thread of the worker reads the enabled standards, their control catalogue
 * and the findings (full when sh_since is 0, else updated in [sh_since,
 * sh_until]) while the first discovers and maps, each with its own client
 * on the same account credentials, region and shared rate limiter; the
 * worker joins it before it returns. It writes only the sh_* fields, so
 * neither half reads what the other writes. A failed Security Hub read
 * sets sh_failed + sh_err but not failed: the Config part still commits
 * and only the compliance part of the target is left as stored, flagged
 * (store_compliance_failed). Hub not enabled (sh_err_not_enabled) is a
 * success with sh_hub_enabled 0. Organisation (aggregator) targets never
 * read Security Hub: that needs each member account's hub (or the
 * delegated administrator's aggregated view, which is not implemented), so
 * sync.c logs a note and skips compliance for them. When a target's
 * discovery fails, whatever its hub read brought is ignored: its stored
 * compliance stays, flagged with the target's error.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/err.h"
#include "mapping/map.h"

struct cfg;
struct creds_provider;
struct aws_ratelimit;
struct aws_stats;
struct aws_endpoint_overrides;
struct store;

struct target_env {
    const struct cfg *cfg;                       /* borrowed */
    const struct map_rules *rules;               /* borrowed */
    const struct aws_endpoint_overrides *endpoints;
    struct aws_ratelimit *ratelimit;             /* shared */
    struct aws_stats *stats;                     /* shared */
    volatile const int *stop;                    /* set by signal handlers; may be NULL */
    struct store *store;                         /* shared: staging only, under store_lock */
    pthread_mutex_t *store_lock;
    pthread_mutex_t *map_lock;                   /* held while a target maps */
    const char *rules_digest;                    /* map_rules_digest; NULL: no item cache */
};


/* The mapped result of one account and region: its models are staged in
 * the store under the target's index; the counts stay here. */
struct target_part {
    char account_id[13];
    char region[48];
    long vpcs;               /* models staged (VPCs) */
    json_t *unmapped;        /* owned: {"AWS::X::Y": count} types without a rule */
};

struct target {
    char account_id[13];     /* "" in organisation mode until items name it */
    char region[48];
    struct creds_provider *creds;  /* borrowed: the account's provider */
    int aggregate;           /* organisation mode: one target for everything */
    int64_t index;           /* position in the run: the staging key */
    /* results */
    int done;
    int failed;
    struct err err;
    struct target_part *parts;     /* valid when done && !failed: one per account x region
                                      (one part, or many in organisation mode) */
    size_t nparts;
    long items;
    long items_cached;       /* of them: known from the last read, not parsed */
    int reused;              /* every item as last read: the stored models were reused */
    long pages;
    long elapsed_ms;
    /* compliance: set by the main thread before the pool runs */
    int sh_wanted;           /* read Security Hub after discovery */
    time_t sh_since;         /* 0: full read (ACTIVE findings); else incremental since */
    time_t sh_until;         /* incremental upper bound: the run's start */
    int sh_style;            /* enum sh_style: remembered before the read, learnt after */
    /* compliance results (valid when sh_done) */
    int sh_done;             /* the read succeeded */
    int sh_failed;           /* the read failed: sh_err says why */
    struct err sh_err;
    int sh_hub_enabled;      /* 0: Security Hub is not enabled there */
    json_t *sh_standards;    /* owned: sh_get_enabled_standards' array */
    json_t *sh_catalogue;    /* owned: sh_read_catalogue's object */
    long sh_staged;          /* finding summaries staged (store_stage_finding_rows) */
    long sh_pages;
    long sh_findings;
};

/* Reads and maps one target; sets t->done, and t->failed + t->err on error. */
void target_run(const struct target_env *env, struct target *t);

/* Frees the results (standards, catalogue) but keeps what the run report
 * needs (identity, counts, errors); target_clear later frees the rest. */
void target_release_results(struct target *t);
void target_clear(struct target *t);
