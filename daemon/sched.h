/*
 * sched: when the daemon's next run starts. Pure: the caller passes the
 * monotonic times (ms) and the seed, so every case is unit-tested without
 * sleeping.
 *
 * A run starts at start-up, then `interval` after the previous run STARTED
 * plus a random jitter of up to 10 % of the interval (so a fleet started
 * together drifts apart instead of calling AWS at the same second). A run
 * that overruns that point delays the next one: it starts as soon as the
 * previous one has finished, never alongside it (the daemon runs one at a
 * time; sched only says when).
 */
#pragma once

#include <stdint.h>

/* Jitter is at most interval / SCHED_JITTER_DIV. */
#define SCHED_JITTER_DIV 10

struct sched {
    uint64_t rng; /* xorshift64* state; never 0 */
};

/* Seeds the generator; any seed (0 included) gives a usable state. */
void sched_init(struct sched *s, uint64_t seed);

/* Next value of the generator (for tests and the jitter below). */
uint64_t sched_random(struct sched *s);

/* A jitter in [0, interval_s * 1000 / SCHED_JITTER_DIV] ms; 0 for interval_s <= 0. */
int64_t sched_jitter_ms(struct sched *s, long interval_s);

/* When the run after one that started at started_ms and finished at
 * finished_ms (both monotonic ms, finished_ms >= started_ms) should start:
 * max(started_ms + interval + jitter, finished_ms). */
int64_t sched_next_ms(struct sched *s, long interval_s, int64_t started_ms, int64_t finished_ms);

/* ms to wait from now_ms until due_ms, clamped to [0, cap_ms]; for poll(). */
int sched_wait_ms(int64_t now_ms, int64_t due_ms, int cap_ms);
