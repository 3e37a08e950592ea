/*
 * jsonw: a JSON writer for jansson trees, byte for byte what json_dumps
 * writes for the flags driftsync's hot paths use, several times faster.
 *
 * Why: the canonical texts (models, account documents, projected items,
 * finding summaries) are compared byte for byte with what earlier versions
 * stored, so the output must not change; but json_dumps pushes every token
 * through a callback, decodes every string one code point at a time and
 * allocates to sort keys, and it was ~40% of the mapping's CPU.
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

/* Flags written here, with JSON_INDENT(n) or JSON_COMPACT or both; any other
 * flag (or neither of those two: ", " separators) is handed to json_dumps. */
#define JSONW_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/*
 * Drop-in for json_dumps(json, flags): a new NUL-terminated text (caller
 * frees with free()), or NULL where json_dumps returns NULL (a scalar
 * without JSON_ENCODE_ANY, a string that is not valid UTF-8, out of
 * memory). Reals and flags outside JSONW_FLAGS go through jansson itself.
 */
char *jsonw_dumps(const json_t *json, size_t flags);
