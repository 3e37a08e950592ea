/*
 * discover: reads AWS Config's view of one account and region (or a whole
 * organisation through an aggregator) and hands each configuration item,
 * normalised, to a callback as soon as its page arrives (streaming, so a
 * large organisation never sits in memory as whole responses).
 *
 * Modes:
 *  - select:    SelectResourceConfig, resourceType IN (the mapped types),
 *               paginated to the end (Limit 100);
 *  - list:      ListDiscoveredResources per type, then BatchGetResourceConfig
 *               in batches of 100, retrying unprocessedResourceKeys;
 *  - aggregate: SelectAggregateResourceConfig against an aggregator.
 *
 * Normalised item (tests/emulator/DATASET.md "resources.ndjson" form):
 * configuration and supplementaryConfiguration as objects, tags as a
 * {key: value} object, relationships as a list, times as RFC 3339 strings.
 * BatchGetResourceConfig does not return tags or relationships (the API's
 * BaseConfigurationItem lacks them): list mode derives tags from the
 * configuration's own tag fields and leaves relationships empty, so the
 * mapping resolves VPCs from configuration fields first.
 *
 * Guards against broken or hostile answers: a repeated NextToken or more
 * than max_pages pages stops the read with an error; malformed rows are
 * errors naming the operation and page (never silently skipped).
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct aws_client;

enum discover_mode { DISCOVER_SELECT = 0, DISCOVER_LIST, DISCOVER_AGGREGATE };

/*
 * Optional, select modes only: called with each result row's JSON text
 * (as Select returned it, before it is parsed), right before the row is
 * parsed and emitted. Returning 1 with *ret_ident set (borrowed for the
 * call: the row's "ACCOUNT/REGION/TYPE/ID") means the caller already knows
 * this exact row, e.g. from the previous run: it is counted and checked
 * against repeats, but neither parsed nor emitted. 0: parse and emit as
 * usual (the emit that follows belongs to this row). -1 (err set): stop.
 */
typedef int (*discover_known_fn)(void *ctx, const char *text, size_t len, const char **ret_ident,
    struct err *err);

struct discover_options {
    enum discover_mode mode;
    const char *const *types; /* resource types to read (borrowed) */
    size_t ntypes;
    const char *aggregator;   /* DISCOVER_AGGREGATE */
    long max_pages;           /* per query; 0 = 100000 */
    discover_known_fn known;  /* may be NULL; gets the emit's ctx */
};

struct discover_counts {
    long pages;
    long items;
    long unprocessed_retries;
};

/* Called once per item; item is borrowed for the call (json_incref to keep).
 * Returning -1 (with err set) stops discovery with that error. */
typedef int (*discover_emit_fn)(void *ctx, json_t *item, struct err *err);

MUST_CHECK int discover_run(struct aws_client *client, const struct discover_options *opts,
    discover_emit_fn emit, void *ctx, struct discover_counts *counts, struct err *err);

/* Normalisers, exposed for tests and the fuzz harnesses: each takes one raw
 * item (a Select result row already parsed, or a BatchGet item) and returns
 * a new normalised object (caller decrefs), or NULL with err. */
json_t *discover_normalize_select_row(json_t *row, struct err *err);
json_t *discover_normalize_base_item(json_t *item, struct err *err);

struct aws_ratelimit;
/* Sets AWS Config's rate limits on rl (client side, per account and region). */
MUST_CHECK int discover_configure_ratelimit(struct aws_ratelimit *rl, struct err *err);

/* A normalised item's identity within a read, "ACCOUNT/REGION/TYPE/ID"
 * (cut to fit n), as the repeat check and discover_known_fn use it. */
#define DISCOVER_IDENT_MAX 600
void discover_item_ident(json_t *item, char *out, size_t n);

/* Builds the advanced query for types (caller frees); types must be
 * AWS::Service::Type names. */
char *discover_select_expression(const char *const *types, size_t ntypes, struct err *err);
