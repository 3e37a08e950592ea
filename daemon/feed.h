/*
 * feed: the files other tools read after each run, under STATE_DIR/feed/:
 *  - compliance.json: the whole current compliance status (the document of
 *    `driftsync compliance --json`), replaced atomically: a temp file in the
 *    same directory, fsync, rename over the old one, fsync of the directory.
 *    A reader sees the old file or the new one, never half of one.
 *  - events.ndjson: one line per status change (store/compliance.h's event
 *    shape), appended with O_APPEND. When the file would grow beyond
 *    max_bytes it is first renamed to events.ndjson.1 (replacing an older
 *    .1), so at most about 2 x max_bytes are kept; a batch larger than
 *    max_bytes still goes in whole into the fresh file (lines are never split).
 * Files are created 0640, the directory 0750. Errors (ERR_STORE is not
 * used: these are ERR_INTERNAL for OOM, ERR_TRANSIENT for I/O, naming the
 * path and errno's text); the caller logs them and carries on: the store
 * is the record, the feed a convenience.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;

#define FEED_DIR           "feed"
#define FEED_STATUS_FILE   "compliance.json"
#define FEED_EVENTS_FILE   "events.ndjson"

/* Writes data to path atomically (see above), mode 0640. */
MUST_CHECK int feed_write_atomic(const char *path, const void *data, size_t len, struct err *err);

/* Creates STATE_DIR/feed when missing; *ret (malloc'd, caller frees) is its path. */
MUST_CHECK int feed_dir(const char *state_dir, char **ret, struct err *err);

/* compliance.json from doc (borrowed), pretty-printed with sorted keys. */
MUST_CHECK int feed_write_status(const char *feed_dir, const json_t *doc, struct err *err);

/* Appends each element of events (an array, borrowed) as one compact line,
 * rotating first as described above (max_bytes <= 0: never). Nothing is
 * written for an empty array. */
MUST_CHECK int feed_append_events(const char *feed_dir, const json_t *events, long max_bytes,
    struct err *err);
