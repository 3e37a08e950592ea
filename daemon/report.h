/*
 * report: the self-contained HTML report (`driftsync report --html FILE`).
 * Renders the documents the store and the compliance query already produce
 * (store_status, store_drift_query, compliance_query_run) into one HTML5
 * page: totals, the VPC status table, the drift summary and the newest open
 * entries, and the CIS summary per standard.
 *
 * Self-contained means: inline CSS only, no script, no image, no link to
 * anything; a Content-Security-Policy meta tag (default-src 'none') makes a
 * browser refuse anything that slipped in anyway. Every text that came from
 * AWS, the store or the user goes through report_html_escape, which also
 * drops control characters, so a hostile tag value can neither inject markup
 * nor hide text. Status colours are always spelled out in words as well
 * ("red: out of sync"), for readers who cannot tell the colours apart.
 *
 * Rendering is pure (documents in, bytes out, time passed in); only
 * report_write_file touches the file system.
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct buf;

#define REPORT_DRIFT_LIMIT_DEFAULT 50
#define REPORT_RESOURCES_PER_CONTROL 10
#define REPORT_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* Everything a report shows; all pointers borrowed. */
struct report_input {
    const char *title;            /* NULL: "driftsync report" */
    time_t now;                   /* generation time (epoch seconds) */
    const json_t *status;         /* store_status document (required) */
    const json_t *drift;          /* store_drift_query array of open entries (required) */
    const json_t *compliance;     /* compliance_query_run document, NULL when unavailable */
    const char *compliance_error; /* shown when compliance is NULL; may be NULL */
    size_t drift_limit;           /* newest open entries listed in detail; 0: the default */
};

/*
 * Appends s to b HTML-escaped (& < > " ' become entities) with control
 * characters (C0 except tab and newline, which become spaces; DEL; C1)
 * removed and invalid UTF-8 bytes replaced by U+FFFD. NULL appends nothing.
 * Fails only when b's cap is reached or on OOM.
 */
MUST_CHECK int report_html_escape(struct buf *b, const char *s, struct err *err);

/* Renders the whole page into out (appending). ERR_CONFIG when status or
 * drift is missing or has the wrong shape; buffer errors as from buf. */
MUST_CHECK int report_render_html(const struct report_input *in, struct buf *out,
                                  struct err *err);

/* Writes len bytes to path atomically: a temporary file in the same
 * directory, fsync, mode 0644, rename. ERR_CONFIG names the path and the
 * system error; the temporary file never survives a failure. */
MUST_CHECK int report_write_file(const char *path, const char *data, size_t len,
                                 struct err *err);
