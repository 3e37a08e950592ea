/*
 * log: one line per event on stderr, OpenBSD log.c style.
 *
 * Under systemd (JOURNAL_STREAM set, or forced) every line starts with a
 * "<N>" syslog priority that journald turns into the level; otherwise lines
 * are "LEVEL message". Library code (providers, mapping, config, store) only
 * uses log_debug; errors travel up in struct err and are logged once by the
 * caller that handles them. Never pass secrets to these functions.
 * errno is preserved across every call.
 */
#pragma once

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* journal: 1 forces "<N>" prefixes, 0 forbids them, -1 decides from JOURNAL_STREAM. */
void log_init(enum log_level level, int journal);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "error", "warn", "info", "debug"; returns -1 on anything else. */
int log_level_parse(const char *name, enum log_level *ret_level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)". */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
