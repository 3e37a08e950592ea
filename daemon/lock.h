/*
 * lock: one daemon per state directory. An advisory flock(2) on
 * STATE_DIR/driftsync.lock, taken without waiting and held for the life of
 * the process (the kernel drops it when the process dies, so a crash never
 * leaves a stale lock). The holder's pid is written into the file so the
 * refusal can name it.
 */
#pragma once

#include "daemon/err.h"

#define LOCK_FILE_NAME "driftsync.lock"

struct lock;

/* Creates state_dir if missing (mode 0700, parents too), then locks
 * STATE_DIR/driftsync.lock. Another holder (the daemon, or a `sync --once`): ERR_TRANSIENT "another
 * driftsync process (pid N: a daemon or a sync) is running on state directory '...'"; other failures name
 * the file and the system error. *ret is owned by the caller (lock_release). */
MUST_CHECK int lock_acquire(const char *state_dir, struct lock **ret, struct err *err);
/* Unlocks and closes. The file stays (removing it would race a new holder).
 * NULL-safe. */
void lock_release(struct lock *lk);
