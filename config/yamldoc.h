/*
 * yamldoc: the one module that reads YAML. config/config.c (driftsync.yaml)
 * and mapping/rules.c (mapping rules) both load their text through it and
 * walk the result with its helpers, so the two report problems the same way:
 * "file:line:col: message" (1-based), every problem counted, the first kept.
 *
 * A document is a read-only tree of nodes (scalar, list, mapping) built
 * from libyaml's event stream into one arena: no per-node allocation, and
 * nothing of libyaml's own document tree. As libyaml's loader does, only the
 * first document of a stream is read, aliases share their anchor's node, and
 * undefined aliases and duplicate anchors are errors.
 *
 * Ownership: a struct yamldoc is owned by whoever parsed it (yamldoc_free);
 * every node and every string a node returns is borrowed from it and lives as
 * long as it. struct yamldoc_errs is caller storage; `name` is borrowed.
 * No I/O and no logging here: callers read files and report errors.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

struct yamldoc;
struct yamldoc_node;

enum yamldoc_kind {
    YAMLDOC_SCALAR = 1,
    YAMLDOC_LIST,
    YAMLDOC_MAP,
};

/* Longest problem line kept ("file:line:col: message"), NUL included. */
#define YAMLDOC_LINE_MAX 700

struct yamldoc_errs;

/* Called with every problem (line is borrowed for the call); a sink that
 * fails to keep it for lack of memory sets e->oom. */
typedef void (*yamldoc_sink_fn)(struct yamldoc_errs *e, const char *line, void *arg);

/* The problems found while reading one document (OpenBSD parse.y habit:
 * parsing goes on after a problem; the caller sees pass or fail). */
struct yamldoc_errs {
    const char *name;             /* borrowed: the file name lines start with */
    size_t n;                     /* problems reported */
    int oom;                      /* an allocation failed (helpers and sinks set it) */
    char first[YAMLDOC_LINE_MAX]; /* the first problem */
    yamldoc_sink_fn sink;         /* optional: sees every problem */
    void *sink_arg;
};

/* Empties e for the document called name; sink may be NULL. */
void yamldoc_errs_init(struct yamldoc_errs *e, const char *name, yamldoc_sink_fn sink,
    void *sink_arg);

/* Reports a problem at node at ("name:line:col: ..."), or about the whole
 * file when at is NULL ("name: ..."). Never fails: a line that cannot be
 * kept is counted all the same. */
void yamldoc_error(struct yamldoc_errs *e, const struct yamldoc_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 0 when nothing was reported; else -1 with err: ERR_INTERNAL "out of memory
 * while reading NAME" when e->oom, or ERR_CONFIG "FIRST (N problems)". */
MUST_CHECK int yamldoc_errs_status(const struct yamldoc_errs *e, struct err *err);

/* yamldoc_parse flags */
#define YAMLDOC_SECRET 1 /* the text may hold secrets: wipe the copy on free */

/* Parses the first document of text (len bytes; NUL bytes are libyaml's to
 * refuse) into *ret, owned by the caller. Bad YAML is reported into e and
 * returned as ERR_CONFIG "name:line:col: problem context" (libyaml's words);
 * out of memory as ERR_INTERNAL. Callers cap len before calling. */
MUST_CHECK int yamldoc_parse(struct yamldoc_errs *e, const char *text, size_t len, unsigned flags,
    struct yamldoc **ret, struct err *err);
void yamldoc_free(struct yamldoc *doc);

/* The root node, or NULL when the stream holds no document (empty file,
 * only comments). */
const struct yamldoc_node *yamldoc_root(const struct yamldoc *doc);

enum yamldoc_kind yamldoc_kind(const struct yamldoc_node *n);
/* "a scalar", "a list" or "a mapping", for messages. */
const char *yamldoc_kind_name(const struct yamldoc_node *n);
size_t yamldoc_line(const struct yamldoc_node *n); /* 1-based */
size_t yamldoc_col(const struct yamldoc_node *n);  /* 1-based */

/* A scalar's text (NUL-terminated; "" for lists and mappings) and its length
 * in bytes, which exceeds strlen when the text holds a NUL ("\0" escape). */
const char *yamldoc_scalar(const struct yamldoc_node *n);
size_t yamldoc_scalar_len(const struct yamldoc_node *n);
/* 1 for a plain (unquoted) scalar spelled null, Null, NULL, ~ or nothing. */
int yamldoc_is_null(const struct yamldoc_node *n);

/* Items of a list, pairs of a mapping, 0 for a scalar. */
size_t yamldoc_count(const struct yamldoc_node *n);
/* Item i of a list, or NULL (not a list, or i out of range). */
const struct yamldoc_node *yamldoc_item(const struct yamldoc_node *n, size_t i);
/* The value of the first pair of mapping n whose key is the scalar key, or
 * NULL (absent, or n not a mapping). */
const struct yamldoc_node *yamldoc_get(const struct yamldoc_node *n, const char *key);

/* Calls fn for each pair of mapping map, in file order. Reports "WHAT must be
 * a mapping, not KIND" when map is not one, "keys in WHAT must be plain
 * words" for a list or mapping as key, and "duplicate key 'K' in WHAT" for a
 * key met before; such pairs are skipped. */
typedef void (*yamldoc_pair_fn)(struct yamldoc_errs *e, const char *key,
    const struct yamldoc_node *k, const struct yamldoc_node *v, void *ctx);
void yamldoc_walk_mapping(struct yamldoc_errs *e, const struct yamldoc_node *map,
    const char *what, yamldoc_pair_fn fn, void *ctx);

/* Calls fn for a scalar, or for each item of a list (whatever its kind);
 * anything else is reported as "expected a string or a list, not KIND". */
typedef void (*yamldoc_item_fn)(struct yamldoc_errs *e, const struct yamldoc_node *n, void *ctx);
void yamldoc_each_item(struct yamldoc_errs *e, const struct yamldoc_node *v, yamldoc_item_fn fn,
    void *ctx);

/* yamldoc_text flags */
#define YAMLDOC_NONEMPTY 1 /* "" is a problem: "WHAT is empty" */

/* The text of scalar n, borrowed from the document, or NULL after reporting
 * one of: "WHAT must be a string, not KIND", "WHAT contains a NUL byte",
 * "WHAT contains a control character" (below 0x20, or 0x7f: every value
 * ends up in file names, URLs or terminal output), "WHAT is longer than MAX
 * characters" (max_len > 0), "WHAT is empty" (YAMLDOC_NONEMPTY). what is the
 * name as the message should show it ("'state_dir'", "a path"). */
const char *yamldoc_text(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *what,
    size_t max_len, unsigned flags);
