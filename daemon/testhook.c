/*
 * testhook.c: see testhook.h. The spec is read once (pthread_once); the
 * arrival counter is atomic because "http" is reached from pool threads.
 * Only arrivals at the configured point are counted, so the n-th arrival
 * is well defined even when threads race (which thread dies first does
 * not matter: SIGKILL takes the whole process).
 */
#include "daemon/testhook.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util.h"

#define TESTHOOK_ENV       "DRIFTSYNC_TEST_KILL_AT"
#define TESTHOOK_POINT_MAX 32

static pthread_once_t th_once = PTHREAD_ONCE_INIT;
static int th_active;
static char th_point[TESTHOOK_POINT_MAX];
static long long th_target;
static atomic_llong th_count;

static void
th_init(void)
{
    const char *spec = getenv(TESTHOOK_ENV);
    const char *colon;
    size_t len;

    if (spec == NULL || spec[0] == '\0')
        return;
    colon = strrchr(spec, ':');
    len = colon != NULL ? (size_t)(colon - spec) : 0;
    if (colon == NULL || len == 0 || len >= sizeof(th_point) ||
        util_parse_ll(colon + 1, 1, 1000000000LL, &th_target) < 0) {
        fprintf(stderr, "driftsync: %s: expected \"<point>:<n>\" with n >= 1, ignoring\n",
            TESTHOOK_ENV);
        return;
    }
    memcpy(th_point, spec, len);
    th_point[len] = '\0';
    th_active = 1;
}

void
testhook_point(const char *name)
{
    (void)pthread_once(&th_once, th_init);
    if (!th_active || name == NULL || strcmp(name, th_point) != 0)
        return;
    if (atomic_fetch_add(&th_count, 1) + 1 == th_target)
        raise(SIGKILL);
}
