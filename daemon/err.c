/*
 * err.c: filling and decorating struct err. Fixed-size, never allocates,
 * so it is safe on out-of-memory paths.
 */
#include "daemon/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
err_set(struct err *err, enum err_kind kind, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->kind = kind;
    err->http_status = 0;
    err->code[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int
err_prefix(struct err *err, const char *fmt, ...)
{
    char prefix[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;

    if (err == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    /* truncation is acceptable: the message stays NUL-terminated */
    size_t n = strnlen(prefix, sizeof(err->msg) - 3);
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    n += 2;
    size_t left = sizeof(err->msg) - n - 1;
    size_t m = strnlen(old, left);
    memcpy(err->msg + n, old, m);
    err->msg[n + m] = '\0';
    if (err->kind == ERR_OK)
        err->kind = ERR_INTERNAL;
    return -1;
}

void
err_clear(struct err *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
}

const char *
err_kind_name(enum err_kind kind)
{
    switch (kind) {
    case ERR_OK:
        return "ok";
    case ERR_CONFIG:
        return "config";
    case ERR_USAGE:
        return "usage";
    case ERR_TRANSIENT:
        return "transient";
    case ERR_THROTTLED:
        return "throttled";
    case ERR_AUTH:
        return "auth";
    case ERR_REMOTE:
        return "remote";
    case ERR_NOTFOUND:
        return "not-found";
    case ERR_STORE:
        return "store";
    case ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}

int
err_is_retryable(const struct err *err)
{
    return err != NULL && (err->kind == ERR_TRANSIENT || err->kind == ERR_THROTTLED);
}
