/*
 * webhook: delivers a run's compliance events to a configured URL as
 *   POST <url>   Content-Type: application/json
 *   X-Driftsync-Signature: sha256=<hex HMAC-SHA256 of the exact body>
 *   {"source": "driftsync", "run": N, "events": [EVENT, ...]}
 * (EVENT: store/compliance.h's event shape). The key is the configured
 * secret, or the content of the secret file (one trailing newline
 * stripped); it is wiped after use and never logged or put into an error.
 *
 * Never blocking the sync, never losing events: webhook_start first merges
 * the new events with those still pending in the spool file
 * (STATE_DIR/feed/webhook-spool.ndjson, written atomically), then hands the
 * POST to a background thread that retries with exponential backoff
 * (first_backoff_ms, doubling) within a total time budget (total_ms). A 2xx
 * answer removes the spool; anything else leaves every pending event in it
 * for the next run's delivery (at-least-once: a receiver de-duplicates by
 * run + target + standard + control + time). The spool is capped at
 * WEBHOOK_SPOOL_MAX events (oldest dropped, with a warning). Only one
 * delivery runs at a time: while one is in flight, a new call only adds its
 * events to the spool. webhook_finish waits for the thread at most
 * wait_ms, then lets it go on detached (the spool keeps its events).
 *
 * URLs: https, or http to a loopback host (the http layer's rule).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct http_transport;

#define WEBHOOK_SIG_HEADER      "X-Driftsync-Signature"
#define WEBHOOK_SPOOL_FILE      "webhook-spool.ndjson"
#define WEBHOOK_SPOOL_MAX       10000
#define WEBHOOK_TOTAL_MS        15000L
#define WEBHOOK_FIRST_BACKOFF_MS 500L
#define WEBHOOK_REQUEST_MS      5000L

struct webhook_options {
    const char *url;                 /* borrowed, copied */
    const char *secret;              /* borrowed, copied, wiped; or NULL */
    const char *secret_file;         /* used when secret is NULL */
    const char *spool_path;          /* borrowed, copied */
    long total_ms;                   /* 0: WEBHOOK_TOTAL_MS */
    long first_backoff_ms;           /* 0: WEBHOOK_FIRST_BACKOFF_MS */
    const struct http_transport *transport; /* tests; NULL: libcurl */
};

struct webhook_job;

/* "sha256=" + 64 hex digits of HMAC-SHA256(key, body) into out. */
MUST_CHECK int webhook_sign(const void *key, size_t keylen, const void *body, size_t len,
    char out[72], struct err *err);

/* Spools events (array, borrowed) and starts the delivery of everything
 * pending. *ret (may be set to NULL when nothing was started: no pending
 * events, or a delivery already in flight) is released by webhook_finish.
 * Errors (the spool cannot be written, bad options, the secret file
 * unreadable) are returned for the caller to log; the sync is unaffected. */
MUST_CHECK int webhook_start(const struct webhook_options *o, int64_t run_id,
    json_t *events, struct webhook_job **ret, struct err *err);

/* Waits up to wait_ms for the delivery (0: do not wait). Returns 1 when it
 * was delivered, 0 when it failed (events kept in the spool) or is still
 * running (detached), with a message in *err for the caller to log. NULL-safe. */
int webhook_finish(struct webhook_job *job, long wait_ms, struct err *err);
