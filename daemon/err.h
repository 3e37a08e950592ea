/*
 * err: the one error value every module fills and only the caller that
 * handles it logs (systemd habit: each error logged once).
 *
 * A struct err is fixed-size so reporting an error never allocates. Its kind
 * decides what happens next: TRANSIENT and THROTTLED are retried with backoff,
 * AUTH refreshes credentials once, CONFIG exits 78 at startup (or keeps the old
 * configuration on reload), REMOTE/STORE fail the run, INTERNAL is a bug or OOM.
 * Messages never contain secrets: callers pass names and places, not values.
 */
#pragma once

#include <stddef.h>

#define MUST_CHECK __attribute__((warn_unused_result))

enum err_kind {
    ERR_OK = 0,
    ERR_CONFIG,    /* bad configuration or user input */
    ERR_USAGE,     /* bad command line */
    ERR_TRANSIENT, /* network, 5xx: worth retrying */
    ERR_THROTTLED, /* rate limited: retry after backoff */
    ERR_AUTH,      /* credentials missing, expired, refused */
    ERR_REMOTE,    /* the remote side said no (validation, access denied, malformed answer) */
    ERR_NOTFOUND,  /* the named thing does not exist */
    ERR_STORE,     /* the SQLite store failed */
    ERR_INTERNAL,  /* bug or out of memory */
};

#define ERR_MSG_MAX 512

struct err {
    enum err_kind kind;
    int http_status;     /* 0 when not an HTTP error */
    char code[64];       /* AWS error code ("ThrottlingException") or "" */
    char msg[ERR_MSG_MAX];
};

/* Records kind and message; always returns -1 so callers can `return err_set(...)`.
 * err may be NULL (the error is then dropped). */
int err_set(struct err *err, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the message, keeping kind and code; returns -1. */
int err_prefix(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets to ERR_OK with an empty message. NULL-safe. */
void err_clear(struct err *err);

/* "config", "throttled", ... for logs and JSON. */
const char *err_kind_name(enum err_kind kind);

/* True for kinds a retry may fix (TRANSIENT, THROTTLED). */
int err_is_retryable(const struct err *err);
