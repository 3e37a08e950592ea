/*
 * test_sched.c: the daemon's next-run arithmetic (daemon/sched.c): jitter
 * stays within 10 % of the interval and actually varies, the same seed
 * gives the same schedule, a run that overruns delays the next one instead
 * of overlapping, and poll timeouts are clamped.
 */
#include "daemon/sched.h"

#include <stdint.h>

#include "testutil.h"

static void
test_jitter_bounds(void)
{
    struct sched s;
    int64_t lo = INT64_MAX, hi = -1;
    int out_of_range = 0;

    sched_init(&s, 42);
    for (int i = 0; i < 10000; i++) {
        int64_t j = sched_jitter_ms(&s, 900);
        if (j < 0 || j > 90000)
            out_of_range++;
        if (j < lo)
            lo = j;
        if (j > hi)
            hi = j;
    }
    CHECK_INT(out_of_range, 0);
    /* spread over the whole window, not stuck at one value */
    CHECK(lo < 9000);
    CHECK(hi > 81000);
    CHECK_INT(sched_jitter_ms(&s, 0), 0);
    CHECK_INT(sched_jitter_ms(&s, -5), 0);
    /* a 10 s interval: at most 1 s */
    for (int i = 0; i < 1000; i++) {
        int64_t j = sched_jitter_ms(&s, 10);
        if (j < 0 || j > 1000)
            out_of_range++;
    }
    CHECK_INT(out_of_range, 0);
}

static void
test_seed_determinism(void)
{
    struct sched a, b, c;
    int same = 1, differ = 0;

    sched_init(&a, 7);
    sched_init(&b, 7);
    sched_init(&c, 8);
    for (int i = 0; i < 100; i++) {
        uint64_t x = sched_random(&a), y = sched_random(&b), z = sched_random(&c);
        if (x != y)
            same = 0;
        if (x != z)
            differ++;
    }
    CHECK(same);
    CHECK(differ > 95);
    /* seed 0 must not give a stuck generator (xorshift's zero state) */
    sched_init(&a, 0);
    CHECK(sched_random(&a) != sched_random(&a));
}

static void
test_next(void)
{
    struct sched s;
    int64_t n;

    sched_init(&s, 1);
    /* a short run: next = start + interval + jitter */
    n = sched_next_ms(&s, 60, 1000, 3000);
    CHECK(n >= 61000 && n <= 67000);
    /* a run that overran its interval (and the jitter): next starts when
     * it finished, never earlier, never overlapping */
    n = sched_next_ms(&s, 60, 1000, 200000);
    CHECK_INT(n, 200000);
    /* finished exactly at the due time plus max jitter: still not earlier */
    n = sched_next_ms(&s, 10, 0, 11000);
    CHECK_INT(n, 11000);
    /* a zero interval (not allowed by config, but never negative) */
    n = sched_next_ms(&s, 0, 500, 700);
    CHECK_INT(n, 700);
    /* many runs: the schedule never goes backwards and keeps the jitter */
    int64_t start = 0, prev = 0;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t next = sched_next_ms(&s, 900, start, start + 1234);
        if (next < start + 900000 || next > start + 990000 || next <= prev)
            bad++;
        prev = next;
        start = next;
    }
    CHECK_INT(bad, 0);
}

static void
test_wait(void)
{
    CHECK_INT(sched_wait_ms(1000, 500, -1), 0);
    CHECK_INT(sched_wait_ms(1000, 1000, -1), 0);
    CHECK_INT(sched_wait_ms(1000, 1500, -1), 500);
    CHECK_INT(sched_wait_ms(1000, 1500, 200), 200);
    CHECK_INT(sched_wait_ms(1000, 1500, 0), 0);
    CHECK_INT(sched_wait_ms(0, (int64_t)1 << 40, -1), 0x7fffffff);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_jitter_bounds();
    test_seed_determinism();
    test_next();
    test_wait();
    TEST_END();
}
