/*
 * ratelimit.c: client-side token buckets that keep the daemon under the
 * published API rates (e.g. securityhub:GetFindings 3/s, burst 6) when
 * several targets' threads talk to the same service and region at once.
 *
 * A rule is set per "service" or "service:Operation" (the latter wins); each
 * rule gets one bucket per region, created on first use. Reservation, not
 * refusal: a call always takes its token, possibly driving the bucket into
 * debt, and is told how many ms to wait, so concurrent callers queue up in
 * order instead of racing. Time is passed in (now_ms, monotonic), which keeps
 * the arithmetic testable. One mutex guards everything; the critical
 * section is a few comparisons.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"

#define RL_MAX_RULES   64
#define RL_MAX_BUCKETS 16384 /* rules x accounts x regions of a large organisation */
#define RL_KEY_MAX     128

struct rl_rule {
    char key[RL_KEY_MAX]; /* "service" or "service:Operation" */
    double rate_per_s;
    double burst;
};

struct rl_bucket {
    size_t rule; /* index into rules */
    char region[80]; /* the scope: "ACCOUNT/REGION", or a region */
    double tokens;
    int64_t last_ms;
};

struct aws_ratelimit {
    pthread_mutex_t lock;
    struct rl_rule rules[RL_MAX_RULES];
    size_t nrules;
    struct rl_bucket *buckets;
    size_t nbuckets;
    size_t cap;
};

int
aws_ratelimit_new(struct aws_ratelimit **ret, struct err *err)
{
    struct aws_ratelimit *rl = calloc(1, sizeof(*rl));

    if (rl == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory creating the rate limiter");
    if (pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl);
        return err_set(err, ERR_INTERNAL, "cannot create the rate limiter's mutex");
    }
    *ret = rl;
    return 0;
}

void
aws_ratelimit_free(struct aws_ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->buckets);
    free(rl);
}

static int
key_valid(const char *key)
{
    size_t n = strlen(key);
    int colons = 0;

    if (n == 0 || n >= RL_KEY_MAX || key[0] == ':' || key[n - 1] == ':')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (c == ':')
            colons++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return colons <= 1;
}

int
aws_ratelimit_set(struct aws_ratelimit *rl, const char *key, double rate_per_s, double burst,
                  struct err *err)
{
    size_t i;
    int rc = -1;

    if (key == NULL || !key_valid(key))
        return err_set(err, ERR_CONFIG,
                       "invalid rate limit key '%.64s' (want \"service\" or \"service:Operation\")",
                       key ? key : "(null)");
    if (isnan(rate_per_s) || isnan(burst) || rate_per_s > 1e6 || burst > 1e6)
        return err_set(err, ERR_CONFIG, "invalid rate or burst for rate limit '%s'", key);
    if (burst < 1)
        burst = 1;
    pthread_mutex_lock(&rl->lock);
    for (i = 0; i < rl->nrules; i++) {
        if (strcmp(rl->rules[i].key, key) == 0)
            break;
    }
    if (i == rl->nrules) {
        if (rl->nrules == RL_MAX_RULES) {
            err_set(err, ERR_CONFIG, "too many rate limits (at most %d)", RL_MAX_RULES);
            goto out;
        }
        memcpy(rl->rules[i].key, key, strlen(key) + 1);
        rl->nrules++;
    }
    rl->rules[i].rate_per_s = rate_per_s;
    rl->rules[i].burst = burst;
    /* existing buckets keep their debt but never hold more than the new burst */
    for (size_t b = 0; b < rl->nbuckets; b++) {
        if (rl->buckets[b].rule == i && rl->buckets[b].tokens > burst)
            rl->buckets[b].tokens = burst;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&rl->lock);
    return rc;
}

static long
find_rule(const struct aws_ratelimit *rl, const char *service, const char *operation)
{
    long svc = -1;
    size_t sl = strlen(service);

    for (size_t i = 0; i < rl->nrules; i++) {
        const char *k = rl->rules[i].key;
        if (strncmp(k, service, sl) != 0)
            continue;
        if (k[sl] == '\0')
            svc = (long)i;
        else if (k[sl] == ':' && operation != NULL && strcmp(k + sl + 1, operation) == 0)
            return (long)i;
    }
    return svc;
}

long
aws_ratelimit_reserve(struct aws_ratelimit *rl, const char *service, const char *operation,
                      const char *region, int64_t now_ms)
{
    struct rl_bucket *bk = NULL;
    const struct rl_rule *rule;
    long ri;
    long wait = 0;

    if (rl == NULL || service == NULL)
        return 0;
    if (region == NULL)
        region = "";
    pthread_mutex_lock(&rl->lock);
    ri = find_rule(rl, service, operation);
    if (ri < 0 || rl->rules[ri].rate_per_s <= 0)
        goto out;
    rule = &rl->rules[ri];
    for (size_t b = 0; b < rl->nbuckets; b++) {
        if (rl->buckets[b].rule == (size_t)ri && strcmp(rl->buckets[b].region, region) == 0) {
            bk = &rl->buckets[b];
            break;
        }
    }
    if (bk == NULL) {
        if (rl->nbuckets == rl->cap) {
            size_t ncap = rl->cap ? rl->cap * 2 : 8;
            struct rl_bucket *nb;
            if (ncap > RL_MAX_BUCKETS || strlen(region) >= sizeof(bk->region))
                goto out; /* unlimited rather than failing a call over bookkeeping */
            nb = realloc(rl->buckets, ncap * sizeof(*nb));
            if (nb == NULL)
                goto out;
            rl->buckets = nb;
            rl->cap = ncap;
        }
        if (strlen(region) >= sizeof(bk->region))
            goto out;
        bk = &rl->buckets[rl->nbuckets++];
        bk->rule = (size_t)ri;
        memcpy(bk->region, region, strlen(region) + 1);
        bk->tokens = rule->burst;
        bk->last_ms = now_ms;
    }
    if (now_ms > bk->last_ms) {
        bk->tokens += (double)(now_ms - bk->last_ms) * rule->rate_per_s / 1000.0;
        if (bk->tokens > rule->burst)
            bk->tokens = rule->burst;
        bk->last_ms = now_ms;
    }
    bk->tokens -= 1.0;
    if (bk->tokens < 0)
        wait = (long)ceil(-bk->tokens * 1000.0 / rule->rate_per_s);
out:
    pthread_mutex_unlock(&rl->lock);
    return wait;
}
