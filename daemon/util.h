/*
 * util: small helpers every module needs and libc lacks or gets wrong
 * (checked integer parsing instead of atoi, UTC time formatting, file
 * reading with a size cap, secret wiping).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/err.h"

struct buf;

/* Parses a whole decimal string into [min,max]; -1 on garbage or range. */
MUST_CHECK int util_parse_ll(const char *s, long long min, long long max, long long *ret);

/* "2015-08-30T12:36:00Z" for t (UTC). out must hold 21 bytes. */
void util_time_rfc3339(time_t t, char out[21]);
/* "20150830T123600Z"; out must hold 17 bytes. */
void util_time_amz(time_t t, char out[17]);
/* Parses RFC 3339 / ISO 8601 UTC ("2015-08-30T12:36:00Z", optional fraction,
 * "+00:00" offsets); -1 on anything else. */
MUST_CHECK int util_time_parse(const char *s, time_t *ret);

/* Reads a whole file into b (appending), refusing files over b->max. */
MUST_CHECK int util_read_file(const char *path, struct buf *b, struct err *err);

/* mkdir -p for a state directory: creates what is missing, mode 0700;
 * ERR_CONFIG naming the directory that could not be made. */
MUST_CHECK int util_mkdir_state(const char *path, struct err *err);

/* How util_write_atomic names and files what it writes. */
struct util_atomic {
    const char *what;       /* "report": errors read "cannot write report 'PATH': ..." */
    unsigned mode;          /* file mode, e.g. 0644 */
    enum err_kind kind;     /* the kind of every error it reports */
    const char *kill_point; /* crash tests: testhook point fired after each write(2); NULL */
};

/* Replaces path with data atomically: PATH.tmp.XXXXXX in the same directory,
 * written, chmod'ed, fsync'ed, renamed over path, directory fsync'ed, so a
 * reader (or a crash) sees the old or the new file, never a mix. On failure
 * the temporary file is removed and err says "cannot write WHAT 'PATH':
 * REASON (STEP)". */
MUST_CHECK int util_write_atomic(const char *path, const void *data, size_t len,
    const struct util_atomic *how, struct err *err);

/* strdup that wipes nothing but reports OOM as ERR_INTERNAL. */
char *util_strdup(const char *s, struct err *err);
/* Wipes then frees a NUL-terminated secret. NULL-safe. */
void util_free_secret(char *s);

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void util_hex(const unsigned char *in, size_t n, char *out);

/* Length (2-4) of the strict UTF-8 sequence whose lead byte (>= 0x80) is at
 * s, with n bytes available: 0 when it is invalid (overlong form, UTF-16
 * surrogate, above U+10FFFF, stray continuation byte) or cut short by n.
 * An ASCII byte is 1. The rule jansson and the JSON texts follow. */
size_t util_utf8_seq(const unsigned char *s, size_t n);

/* Monotonic clock in milliseconds. */
int64_t util_now_ms(void);
