/*
 * daemon: `driftsync daemon`, the resident service. One poll() loop on the
 * main thread owns everything (signals through a signalfd, the watchdog
 * tick, the schedule); each run executes sync_run, the same code as
 * `driftsync sync --once`, on a worker thread, so the loop keeps answering
 * signals and pinging the watchdog while a run is in flight. Never two runs
 * at once: a run that overruns its interval delays the next (sched.h).
 *
 *   SIGTERM/SIGINT  STOPPING=1; the run in flight is told to stop (it is
 *                   abandoned at a safe point, rolled back and recorded
 *                   "aborted"); the loop waits at most stop_timeout_s for it
 *   SIGHUP          RELOADING=1: the file is parsed into a NEW configuration;
 *                   an invalid one is logged and the old one kept; a valid
 *                   one replaces it now, or when the run in flight ends;
 *                   state_dir cannot change without a restart; then READY=1
 *   SIGUSR1         a run now (or right after the one in flight)
 *
 * Start-up order: configuration (refusing an unsafe file) and mapping
 * rules, the instance lock on the state directory (lock.h), the store, then
 * READY=1 and the first run. After each run: a log line, STATUS=, and the
 * metrics file when configured (metrics.h).
 */
#pragma once

#include "daemon/cli.h"

#define DAEMON_STOP_TIMEOUT_S 30

struct daemon_options {
    int stop_timeout_s; /* how long SIGTERM waits for the run in flight */
};

/* Runs until stopped; returns the process exit code: 0 after a clean stop,
 * CLI_EXIT_CONFIG for an invalid configuration at start, CLI_EXIT_FAILURE
 * when another daemon holds the state directory, the store cannot be
 * opened, or a run did not stop in time. */
int daemon_main(const struct cli_globals *g, const struct daemon_options *opts);
