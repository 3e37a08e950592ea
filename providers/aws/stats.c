/*
 * stats.c: per service/operation call counters shared by every thread that
 * talks to AWS, read at the end of a run for the run record and metrics.
 *
 * Rows are kept sorted by (service, operation) so aws_stats_foreach needs no
 * sort and output is stable. The number of rows is small (a handful of
 * operations) and capped; a row that cannot be created (cap or OOM) is
 * dropped silently, since counters must never fail an API call.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"

#define STATS_MAX_ROWS 256

struct stats_row {
    char *service;
    char *operation;
    long calls, errors, throttles, retries;
};

struct aws_stats {
    pthread_mutex_t lock;
    struct stats_row *rows;
    size_t nrows;
    size_t cap;
};

int
aws_stats_new(struct aws_stats **ret, struct err *err)
{
    struct aws_stats *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory creating call statistics");
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return err_set(err, ERR_INTERNAL, "cannot create the statistics mutex");
    }
    *ret = st;
    return 0;
}

void
aws_stats_free(struct aws_stats *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->nrows; i++) {
        free(st->rows[i].service);
        free(st->rows[i].operation);
    }
    free(st->rows);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static int
row_cmp(const struct stats_row *r, const char *service, const char *operation)
{
    int c = strcmp(r->service, service);
    return c != 0 ? c : strcmp(r->operation, operation);
}

/* Finds or inserts (sorted) the row; NULL when it cannot be created. */
static struct stats_row *
get_row(struct aws_stats *st, const char *service, const char *operation)
{
    size_t lo = 0, hi = st->nrows;
    struct stats_row *r;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = row_cmp(&st->rows[mid], service, operation);
        if (c == 0)
            return &st->rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (st->nrows == STATS_MAX_ROWS)
        return NULL;
    if (st->nrows == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 8;
        struct stats_row *nr = realloc(st->rows, ncap * sizeof(*nr));
        if (nr == NULL)
            return NULL;
        st->rows = nr;
        st->cap = ncap;
    }
    r = &st->rows[lo];
    memmove(r + 1, r, (st->nrows - lo) * sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->service = strdup(service);
    r->operation = strdup(operation);
    if (r->service == NULL || r->operation == NULL) {
        free(r->service);
        free(r->operation);
        memmove(r, r + 1, (st->nrows - lo) * sizeof(*r));
        return NULL;
    }
    st->nrows++;
    return r;
}

void
aws_stats_add(struct aws_stats *st, const char *service, const char *operation, long calls,
              long errors, long throttles, long retries)
{
    struct stats_row *r;

    if (st == NULL || service == NULL)
        return;
    if (operation == NULL)
        operation = "";
    pthread_mutex_lock(&st->lock);
    r = get_row(st, service, operation);
    if (r != NULL) {
        r->calls += calls;
        r->errors += errors;
        r->throttles += throttles;
        r->retries += retries;
    }
    pthread_mutex_unlock(&st->lock);
}

void
aws_stats_foreach(struct aws_stats *st, void (*fn)(void *ctx, const struct aws_stats_row *row),
                  void *ctx)
{
    if (st == NULL)
        return;
    /* the callback runs under the lock: it must not call back into st */
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->nrows; i++) {
        struct aws_stats_row row = {
            .service = st->rows[i].service,
            .operation = st->rows[i].operation,
            .calls = st->rows[i].calls,
            .errors = st->rows[i].errors,
            .throttles = st->rows[i].throttles,
            .retries = st->rows[i].retries,
        };
        fn(ctx, &row);
    }
    pthread_mutex_unlock(&st->lock);
}

long
aws_stats_total_calls(struct aws_stats *st)
{
    long total = 0;

    if (st == NULL)
        return 0;
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < st->nrows; i++)
        total += st->rows[i].calls;
    pthread_mutex_unlock(&st->lock);
    return total;
}
