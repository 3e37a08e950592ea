/*
 * diff: saved threat model vs discovered model of one VPC -> a sorted list
 * of differences ("drift entries"). Pure: no I/O, no logging, no clock; the
 * same two documents and ignore rules always give byte-identical output.
 *
 * Matching. Components match by "key". A designed component (no
 * resource_id in the saved model) left unmatched then matches the first
 * unmatched discovered component (by key order) with the same "type" and
 * "name". Boundaries match by key; flows by (from, to, label) after the
 * saved flow's endpoints are translated through the designed-component
 * matches.
 *
 * Entry (one JSON object per finding; docs/model-schema.md):
 *   {"kind": "only_in_model" | "only_in_vpc" | "changed",
 *    "key": component / boundary key, or "flow:FROM->TO:LABEL",
 *    "component": name (flows: the label), "component_type": type
 *        (flows: "flow"),
 *    "resource_type": "AWS::..." (boundaries: their own resource_type, else
 *        AWS::EC2::VPC for type "vpc", AWS::EC2::Subnet for "*subnet", else
 *        "boundary"; flows: "flow"),
 *    "resource_id": id or null (boundaries: their key; flows: null),
 *    "details": only_in_*: {"item": the whole component/boundary/flow}
 *               changed:   {"path": "attributes.publicly_accessible",
 *                           "old": X, "new": Y}  (an absent value reads
 *                           as null: absent and null are equal)
 *               designed matches add "discovered_key" to details.}
 * For a matched component one "changed" entry is made per differing field:
 * "name", "type", "role", "boundary", and every attribute path (objects are
 * walked key by key: "attributes.tags.Env"; arrays and scalars compare as
 * whole values). Boundaries compare "name", "type", "parent", attributes;
 * flows compare "protocol" and "port". Other component fields
 * ("requirements", "threats", notes) are model annotations, never drift.
 * Entries are sorted by key, then kind, then path.
 *
 * Ignore rules (struct cfg_ignore): an entry is dropped when every field the
 * rule sets matches (a rule that sets nothing matches nothing):
 *   resource_type  equals the entry's resource_type ("flow" for flows);
 *   tag_key[=tag_value]  the component (saved or discovered side) carries
 *       the tag, in its own "tags" or in "attributes.tags" ({k: v} object or
 *       AWS [{"Key","Value"}] list); flows never match tag rules;
 *   attribute  matches the entry's path, with or without the leading
 *       "attributes."; a trailing '*' is a prefix match, and "x.*" also
 *       matches "x" itself. Entries without a path never match.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct cfg_ignore;

#define DIFF_ONLY_IN_MODEL "only_in_model"
#define DIFF_ONLY_IN_VPC   "only_in_vpc"
#define DIFF_CHANGED       "changed"

/* saved and discovered are borrowed model documents (mapping/model.h); either
 * may be NULL, meaning an empty model. On success *ret is a new JSON array
 * owned by the caller (json_decref). ERR_CONFIG names the malformed part
 * ("discovered model: components[3]: missing string 'key'"); ERR_INTERNAL on
 * OOM. */
MUST_CHECK int diff_models(const json_t *saved, const json_t *discovered,
                           const struct cfg_ignore *ignores, size_t nignores, json_t **ret,
                           struct err *err);

/* Stable identity of an entry across runs: "KIND|KEY|PATH" (PATH empty for
 * only_in_* entries). Returns a malloc'd string the caller frees, or NULL on
 * OOM or when entry lacks kind or key. */
char *diff_entry_id(const json_t *entry);

/* The designed-component matches diff_models makes: *ret is a new object
 * {saved design key: discovered key} owned by the caller. Same errors. */
MUST_CHECK int diff_match_designed(const json_t *saved, const json_t *discovered, json_t **ret,
                                   struct err *err);

/* Checks the shape diff and the store rely on: an object with "schema" ==
 * MODEL_SCHEMA, arrays "components" (objects with a unique string "key"),
 * "flows" (objects with string "from", "to") and "boundaries" (objects with
 * a string "key"); missing arrays are allowed. what names the document in
 * messages ("model for 111111111111/us-east-1/vpc-1"). ERR_CONFIG. */
MUST_CHECK int diff_check_model(const json_t *model, const char *what, struct err *err);
