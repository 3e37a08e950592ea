/*
 * notify: the systemd notification protocol (sd_notify(3)) without
 * libsystemd: newline-separated VAR=value assignments sent as one datagram
 * to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). The daemon sends READY=1, STATUS=..., WATCHDOG=1,
 * RELOADING=1 + MONOTONIC_USEC=..., STOPPING=1.
 *
 * Without NOTIFY_SOCKET everything here is a successful no-op, so the
 * daemon behaves the same in a terminal. A send that fails is reported in
 * err for the caller to log; it never stops the daemon.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "daemon/err.h"

struct notify;

/* Opens a datagram socket aimed at `address` (the value of NOTIFY_SOCKET;
 * NULL or "" means "not under systemd": *ret = NULL, returns 0). An
 * address that is neither absolute nor "@abstract", or too long for
 * sun_path, is ERR_CONFIG naming it. *ret is owned by the caller
 * (notify_close). */
MUST_CHECK int notify_open(const char *address, struct notify **ret, struct err *err);
void notify_close(struct notify *n);

/* Sends msg (assignments separated by '\n') as one datagram. n may be NULL
 * (no-op). ERR_TRANSIENT naming the socket when the send fails. */
MUST_CHECK int notify_send(struct notify *n, const char *msg, struct err *err);

/* STATUS=text: control characters in text become spaces so the message
 * stays one assignment; text is cut at NOTIFY_STATUS_MAX bytes. */
#define NOTIFY_STATUS_MAX 1024
MUST_CHECK int notify_status(struct notify *n, const char *text, struct err *err);

/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC in us>". */
MUST_CHECK int notify_reloading(struct notify *n, struct err *err);

/* The watchdog period from $WATCHDOG_USEC / $WATCHDOG_PID values (either
 * may be NULL): 0 when there is no watchdog or it is meant for another
 * process (WATCHDOG_PID set and not self); -1 with ERR_CONFIG on garbage.
 * The daemon pings every half of *ret_usec. */
MUST_CHECK int notify_watchdog_usec(const char *usec, const char *pid, pid_t self,
    uint64_t *ret_usec, struct err *err);
