/*
 * log.c: the only logger. Writes whole lines with one write(2) so lines from
 * concurrent processes do not interleave; keeps errno intact. The state here
 * (level, journal mode) is the only global besides main.c's arg_*.
 */
#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LOG_LEVEL_INFO;
static int log_journal = 0;

void
log_init(enum log_level level, int journal)
{
    log_level = level;
    if (journal < 0) {
        const char *js = getenv("JOURNAL_STREAM");
        journal = js != NULL && js[0] != '\0';
    }
    log_journal = journal;
}

void
log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level
log_get_level(void)
{
    return log_level;
}

int
log_level_parse(const char *name, enum log_level *ret_level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *ret_level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Appends s to line (capacity cap) at *n, truncating; keeps room for '\n'. */
static void
append(char *line, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);

    if (*n + 1 >= cap)
        return;
    if (len > cap - 1 - *n)
        len = cap - 1 - *n;
    /* line is a counted buffer, written with write(2): no NUL wanted */
    /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): counted buffer */
    memcpy(line + *n, s, len);
    *n += len;
}

static void
log_emit(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
    /* syslog priorities: err=3, warning=4, info=6, debug=7 */
    static const char *const prio[] = {"<3>", "<4>", "<6>", "<7>"};
    static const char *const tag[] = {"driftsync: error: ", "driftsync: warn: ",
        "driftsync: info: ", "driftsync: debug: "};
    char line[2048], msg[1800];
    int saved = errno;
    size_t n = 0;

    if (level > log_level) {
        errno = saved;
        return;
    }
    append(line, sizeof(line), &n, log_journal ? prio[level] : tag[level]);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    /* neutralise control characters so remote text cannot forge lines or
     * drive the terminal */
    for (size_t i = 0; msg[i] != '\0'; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c < 0x20 || c == 0x7f)
            msg[i] = '?';
    }
    append(line, sizeof(line), &n, msg);
    if (with_errno) {
        append(line, sizeof(line), &n, ": ");
        append(line, sizeof(line), &n, strerror(saved));
    }
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
    errno = saved;
}

#define LOG_FN(name, level, with_errno)                                                            \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_emit(level, with_errno, fmt, ap);                                                      \
        va_end(ap);                                                                                \
    }

LOG_FN(log_error, LOG_LEVEL_ERROR, 0)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
