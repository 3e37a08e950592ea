/*
 * sched.c: next-run arithmetic for the daemon (see sched.h). The generator
 * is xorshift64* (Vigna): tiny, seedable, good enough for spreading start
 * times; nothing here needs cryptographic randomness.
 */
#include "daemon/sched.h"

void
sched_init(struct sched *s, uint64_t seed)
{
    /* splitmix64 step so nearby seeds (pids, times) give unrelated states */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    s->rng = z != 0 ? z : 0x2545f4914f6cdd1dULL;
}

uint64_t
sched_random(struct sched *s)
{
    uint64_t x = s->rng;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

int64_t
sched_jitter_ms(struct sched *s, long interval_s)
{
    uint64_t span;

    if (interval_s <= 0)
        return 0;
    span = (uint64_t)interval_s * 1000 / SCHED_JITTER_DIV;
    /* the high bits of xorshift64* are the good ones; modulo bias over a
     * span of at most a few days in ms is negligible here */
    return (int64_t)((sched_random(s) >> 11) % (span + 1));
}

int64_t
sched_next_ms(struct sched *s, long interval_s, int64_t started_ms, int64_t finished_ms)
{
    int64_t due = started_ms + (int64_t)(interval_s > 0 ? interval_s : 0) * 1000 +
                  sched_jitter_ms(s, interval_s);

    return due > finished_ms ? due : finished_ms;
}

int
sched_wait_ms(int64_t now_ms, int64_t due_ms, int cap_ms)
{
    int64_t d = due_ms - now_ms;

    if (d <= 0)
        return 0;
    if (cap_ms >= 0 && d > cap_ms)
        return cap_ms;
    return d > 0x7fffffff ? 0x7fffffff : (int)d;
}
