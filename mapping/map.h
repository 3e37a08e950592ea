/*
 * map: AWS Config configuration items -> one threat model per VPC.
 *
 * Input items are in the normalised form discovery produces (see
 * tests/emulator/DATASET.md, "resources.ndjson"): configuration and
 * supplementaryConfiguration as objects, tags as a {key: value} object,
 * relationships as a list. Rules (built-in mapping/rules.yaml compiled into
 * the binary, optionally extended/overridden by a user file) say per
 * resource type: component type, DFD role, security attributes (name ->
 * path), how to find the VPC, and which relationships become flows.
 * Pure: no I/O except map_rules_load reading the user file; no logging.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct map_rules;

/* Built-in rules, plus user_path (may be NULL) layered on top (a user rule
 * for a type replaces the built-in one). Errors name file:line:col. */
MUST_CHECK int map_rules_load(const char *user_path, struct map_rules **ret, struct err *err);
void map_rules_free(struct map_rules *rules);
/* SHA-256 (hex) of this program's version and the rules text loaded:
 * what a cache of mapped or projected items must match. NULL for rules
 * not made by map_rules_load. Borrowed. */
const char *map_rules_digest(const struct map_rules *rules);
/* Number of resource types with a rule. */
size_t map_rules_count(const struct map_rules *rules);
/* True when the rules know the type (discovery asks for these types only). */
int map_rules_has_type(const struct map_rules *rules, const char *resource_type);
/* Calls fn for each known resource type, sorted. */
void map_rules_foreach_type(const struct map_rules *rules,
    void (*fn)(void *ctx, const char *resource_type), void *ctx);

/* Result of mapping one target's (account x region) items. */
struct map_result {
    json_t *models;      /* owned: {"vpc-...": MODEL, ...} one per VPC with resources */
    json_t *unmapped;    /* owned: {"AWS::X::Y": count} types without a rule */
    json_t *account;     /* owned: account-level components (no VPC), a MODEL-shaped doc
                            with vpc_id null: S3 buckets, IAM, CloudTrail, ... */
    size_t items;        /* items seen */
    /* Added by the mapping implementation (additive; see mapping/map.c):
     * every item is mapped, counted in unmapped, or listed in skipped, so
     * items == mapped + sum(unmapped) + skipped_count. */
    size_t mapped;        /* items that produced a component, boundary or flows */
    json_t *skipped;      /* owned: [{"resource_type","resource_id","reason"}] items that have
                             a rule but could not be mapped (malformed, VPC not found,
                             deleted, duplicate), sorted; at most MAP_SKIPPED_MAX entries */
    size_t skipped_count; /* all skipped items, also those beyond MAP_SKIPPED_MAX */
};

#define MAP_SKIPPED_MAX 1000

/* Key of the Internet external interactor added to a model when a security
 * group or rule opens a component to the Internet. */
#define MAP_INTERNET_KEY "external:internet"

/* Maps items (a JSON array, borrowed) of one account and region.
 * For speed the result shares read-only values by reference: the rules'
 * threats/requirements arrays, and tags and scalar attribute values of the
 * input items. Treat models as immutable (json_deep_copy before editing);
 * they stay valid after the items and the rules are freed.
 * Errors: ERR_REMOTE when items is not an array, ERR_INTERNAL on OOM;
 * malformed items are never errors (they are listed in skipped). */
MUST_CHECK int map_target(const struct map_rules *rules, const char *account_id,
    const char *region, json_t *items, struct map_result *ret, struct err *err);
void map_result_clear(struct map_result *res);

/* A reduced copy of item (borrowed) holding only what map_target reads for
 * it under rules: mapping the projected items gives byte-identical results
 * (models, account, unmapped, skipped) to mapping the originals. Returns a
 * new reference, or NULL when out of memory. Items of a type without a rule
 * keep only what unmapped counting (and other items' references to them)
 * need; malformed items are returned so that they are still skipped with
 * the same reason. Values may be shared with item by reference (treat both
 * as immutable). Idempotent: projecting a projection changes nothing.
 * Safe to call from several threads on the same rules (mapping/project.c). */
json_t *map_project(const struct map_rules *rules, json_t *item);
