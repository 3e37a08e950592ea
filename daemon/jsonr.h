/*
 * jsonr: a fast, strict JSON reader that builds ordinary jansson trees; a
 * drop-in for json_loadb/json_loads (same accepted inputs, same trees, same
 * value types), without jansson's byte-at-a-time stream lexer. See the
 * design note at the top of jsonr.c for the jansson 2.14 behaviour matched.
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

/* Parses len bytes of buf (need not be NUL-terminated) into a new tree
 * (the caller owns the one reference and json_decref's it), or returns NULL
 * with *error filled: text names the problem, position is the byte offset
 * of the problem, line (1-based) and column (1-based, in characters) locate
 * it, source is "<buffer>". error may be NULL. On success *error is reset
 * as jansson does (empty text, line/column -1).
 * flags: any of JSON_DECODE_ANY, JSON_ALLOW_NUL, JSON_REJECT_DUPLICATES;
 * any other flag bit makes it call json_loadb itself, so behaviour is never
 * different. Never reads outside buf[0..len), never aborts on bad input;
 * out of memory gives NULL with an error. Nesting deeper than jansson's
 * 2048 levels (scalars count as a level, as in jansson) is an error. */
json_t *jsonr_loadb(const char *buf, size_t len, size_t flags, json_error_t *error);

/* jsonr_loadb(s, strlen(s), flags, error); s NULL is an error. */
json_t *jsonr_loads(const char *s, size_t flags, json_error_t *error);
