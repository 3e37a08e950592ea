/*
 * testhook: deterministic crash points for the crash-consistency tests
 * (tests/robust/test_crash.py). Not a feature: it lets a test kill the
 * process at an exact place instead of hoping a random delay lands there.
 *
 * Contract: when the environment variable DRIFTSYNC_TEST_KILL_AT is set to
 * "<point>:<n>" (n >= 1), the n-th call of testhook_point(<point>) in the
 * process raises SIGKILL (no cleanup, no atexit, exactly what a power cut or
 * the OOM killer does). Other points and earlier calls do nothing.
 *
 * Points in the product:
 *   "http"        after each HTTP exchange of aws_call (providers/aws/aws.c)
 *   "store-apply" between targets inside the run's transaction (daemon/sync.c)
 *   "commit"      just before the run's COMMIT (daemon/sync.c)
 *   "feed"        in the middle of writing the feed (daemon/feed.c)
 *
 * Cost when the variable is unset: one getenv, on the first call (guarded
 * by pthread_once, so points reached from the thread pool are safe); later
 * calls test one flag. A malformed value is reported once on stderr and the
 * hook stays off: a test typo must not silently become "no crash" without a
 * trace, and a production process must never die from it.
 */
#pragma once

/* Counts one arrival at the point `name` (borrowed, NUL-terminated) and
 * raises SIGKILL when it is the arrival DRIFTSYNC_TEST_KILL_AT asks for. */
void testhook_point(const char *name);
