/*
 * buf: a growable byte buffer with a hard size cap set at creation (curl's
 * dynbuf habit), always NUL-terminated so text users can read data directly.
 *
 * Every buffer filled from outside (HTTP bodies, files, command output) is
 * capped; growing past the cap fails with ERR_REMOTE naming the cap, so a
 * hostile or broken peer cannot exhaust memory. A buf holding secrets is
 * released with buf_clear_secure, which wipes the bytes before freeing.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "daemon/err.h"

struct buf {
    char *data;     /* owned; NULL until the first append */
    size_t len;     /* bytes used, excluding the terminating NUL */
    size_t cap;     /* bytes allocated */
    size_t max;     /* growth limit for len */
};

#define BUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

void buf_init(struct buf *b, size_t max);
/* Frees the contents and re-initialises with the same max. NULL-safe. */
void buf_clear(struct buf *b);
/* Like buf_clear but wipes the bytes first. */
void buf_clear_secure(struct buf *b);
/* Keeps the allocation, sets len to 0. */
void buf_reset(struct buf *b);

/* Makes room for n bytes in all (and the NUL) in one allocation, for a size
 * announced before the data (an HTTP Content-Length): no doubling steps, no
 * copies. Fails like buf_append when n is past the cap; does nothing when
 * the buffer holds n already. */
MUST_CHECK int buf_presize(struct buf *b, size_t n, struct err *err);
MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n, struct err *err);
MUST_CHECK int buf_puts(struct buf *b, const char *s, struct err *err);
MUST_CHECK int buf_putc(struct buf *b, char c, struct err *err);
MUST_CHECK int buf_printf(struct buf *b, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
MUST_CHECK int buf_vprintf(struct buf *b, struct err *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Returns the data (caller frees; "" allocated when empty, NULL on OOM) and
 * leaves b empty. */
char *buf_steal(struct buf *b);
/* Borrowed NUL-terminated view; "" when nothing was appended. */
const char *buf_str(const struct buf *b);
