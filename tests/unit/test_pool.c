/*
 * test_pool.c: every index runs exactly once, whatever the thread count.
 */
#include <pthread.h>
#include <stdlib.h>

#include "daemon/pool.h"
#include "testutil.h"

struct hits {
    int *count;
    pthread_mutex_t lock;
    size_t total;
};

static void
hit(void *ctx, size_t i)
{
    struct hits *h = ctx;

    pthread_mutex_lock(&h->lock);
    h->count[i]++;
    h->total++;
    pthread_mutex_unlock(&h->lock);
}

int
main(void)
{
    static const int threads[] = {0, 1, 2, 4, 64};
    static const size_t sizes[] = {0, 1, 3, 100, 1000};

    for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            struct hits h = {.count = calloc(sizes[s] + 1, sizeof(int)), .total = 0};
            int once = 1;

            pthread_mutex_init(&h.lock, NULL);
            pool_run(sizes[s], threads[t], hit, &h);
            for (size_t i = 0; i < sizes[s]; i++)
                once = once && h.count[i] == 1;
            CHECK_MSG(once && h.total == sizes[s], "threads=%d n=%zu total=%zu", threads[t],
                sizes[s], h.total);
            pthread_mutex_destroy(&h.lock);
            free(h.count);
        }
    }
    TEST_END();
}
