/*
 * buf.c: capped growable buffers. Growth doubles; the cap is checked before
 * any allocation so the limit is exact.
 *
 * The last step goes straight to the cap (max + 1 with the NUL) as soon as
 * doubling reaches max. Otherwise a buffer filled to exactly its cap took
 * one more doubling for the NUL: a 64 MiB HTTP body was copied into a
 * 128 MiB block. glibc moves such blocks with mremap, but jemalloc (the
 * binary's malloc, daemon/mem.c) copies them, and so held both: 135 MB for
 * one body where 72 MB do.
 */
#include "daemon/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : BUF_DEFAULT_MAX;
}

void
buf_clear(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    buf_init(b, b->max);
}

void
buf_clear_secure(struct buf *b)
{
    if (b == NULL)
        return;
    if (b->data != NULL)
        explicit_bzero(b->data, b->cap);
    buf_clear(b);
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Reallocates b to exactly ncap bytes (ncap > len), NUL-terminated. */
static int
buf_resize(struct buf *b, size_t ncap, struct err *err)
{
    char *p = realloc(b->data, ncap);

    if (p == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory growing a buffer to %zu bytes", ncap);
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->cap = ncap;
    return 0;
}

static int
buf_reserve(struct buf *b, size_t extra, struct err *err)
{
    size_t need, ncap;

    if (extra > b->max || b->len > b->max - extra)
        return err_set(err, ERR_REMOTE, "data exceeds the %zu-byte limit", b->max);
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (ncap >= b->max) /* need <= max + 1 here */
        ncap = b->max + 1;
    return buf_resize(b, ncap, err);
}

int
buf_presize(struct buf *b, size_t n, struct err *err)
{
    if (n > b->max)
        return err_set(err, ERR_REMOTE, "data exceeds the %zu-byte limit", b->max);
    return n < b->cap ? 0 : buf_resize(b, n + 1, err);
}

int
buf_append(struct buf *b, const void *p, size_t n, struct err *err)
{
    if (buf_reserve(b, n, err) < 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int
buf_puts(struct buf *b, const char *s, struct err *err)
{
    return buf_append(b, s, strlen(s), err);
}

int
buf_putc(struct buf *b, char c, struct err *err)
{
    return buf_append(b, &c, 1, err);
}

int
buf_vprintf(struct buf *b, struct err *err, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return err_set(err, ERR_INTERNAL, "bad format string");
    if (buf_reserve(b, (size_t)n, err) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int
buf_printf(struct buf *b, struct err *err, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

char *
buf_steal(struct buf *b)
{
    char *p = b->data;

    if (p == NULL)
        p = calloc(1, 1);
    buf_init(b, b->max);
    return p;
}

const char *
buf_str(const struct buf *b)
{
    return b->data != NULL ? b->data : "";
}
