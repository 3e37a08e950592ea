/*
 * pool.c: a fixed set of pthreads pulling indices from a shared counter.
 */
#include "daemon/pool.h"

#include <pthread.h>
#include <stdlib.h>

struct pool {
    pthread_mutex_t lock;
    size_t next, n;
    void (*fn)(void *ctx, size_t i);
    void *ctx;
};

static void *
worker(void *arg)
{
    struct pool *p = arg;

    for (;;) {
        size_t i;

        pthread_mutex_lock(&p->lock);
        i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n)
            return NULL;
        p->fn(p->ctx, i);
    }
}

void
pool_run(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx)
{
    struct pool p = {.next = 0, .n = n, .fn = fn, .ctx = ctx};
    pthread_t *tids;
    int started = 0;

    if (n == 0)
        return;
    pthread_mutex_init(&p.lock, NULL);
    if (threads < 1)
        threads = 1;
    if ((size_t)threads > n)
        threads = (int)n;
    tids = calloc((size_t)threads, sizeof(*tids));
    for (int t = 0; tids != NULL && t < threads - 1; t++) {
        if (pthread_create(&tids[t], NULL, worker, &p) != 0)
            break;
        started++;
    }
    worker(&p); /* the caller works too, and finishes whatever is left */
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(tids);
    pthread_mutex_destroy(&p.lock);
}
