/*
 * aws.c: aws_call, one signed, rate-limited, retried AWS API request.
 *
 * Flow per attempt: take a token from the shared rate limiter (sleeping as
 * told), get credentials (a copy, wiped after signing), sign with SigV4,
 * send through the client's http_client, then classify the answer with
 * awserr.c. Retry policy follows the SDKs' "standard" mode: up to
 * max_attempts tries (options, else AWS_MAX_ATTEMPTS, else 3) on THROTTLED
 * and TRANSIENT errors only, sleeping a full-jitter exponential backoff
 * (random in [0, min(20 s, 100 ms * 2^n)]; for throttling, in [c/2, c] with
 * c = min(20 s, 1 s * 2^n)) or the server's Retry-After (bounded by the same
 * cap). An ExpiredToken-style answer to session
 * credentials drops the provider's cache and retries once at once: that
 * extra try does not count against max_attempts.
 *
 * Sleep and clock are injectable, and the jitter PRNG is seeded per client,
 * so tests replay exact schedules. One aws_client per thread (it owns an
 * http_client and a SigV4 key cache, neither thread-safe); the rate limiter
 * and stats it points at are shared and locked. Secrets never leave this
 * file except inside the Authorization header handed to the transport.
 */
#include "providers/aws/aws.h"

#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/testhook.h"
#include "daemon/util.h"
#include "providers/aws/creds.h"
#include "providers/aws/sigv4.h"

#define AWS_BACKOFF_BASE_MS    100L
/* A throttled answer waits longer, and at least half of its ceiling ("equal
 * jitter"): the token bucket behind it refills at a few per second, which a
 * full-jitter draw near zero would simply hit again (the SDKs likewise use a
 * larger base for throttling errors). */
#define AWS_THROTTLE_BASE_MS   1000L
#define AWS_BACKOFF_CAP_MS     20000L
#define AWS_MAX_ATTEMPTS_LIMIT 100
#define AWS_DEFAULT_ATTEMPTS   3
#define AWS_MAX_HEADERS        8

struct aws_client {
    char *region;
    char *account_id; /* NULL when unknown */
    struct creds_provider *creds;
    const struct aws_endpoint_overrides *endpoints;
    struct aws_ratelimit *ratelimit;
    struct aws_stats *stats;
    int max_attempts;
    int use_fips;
    struct http_client *http;
    struct sigv4_key_cache *keys;
    uint64_t rng;
    void (*sleep_ms)(void *ctx, long ms);
    time_t (*now)(void *ctx);
    void *clock_ctx;
};

/* splitmix64: tiny, good enough for jitter, deterministic for a seed */
static uint64_t
rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void
real_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void
do_sleep(struct aws_client *c, long ms)
{
    if (ms <= 0)
        return;
    if (c->sleep_ms != NULL)
        c->sleep_ms(c->clock_ctx, ms);
    else
        real_sleep_ms(ms);
}

static time_t
now_s(const struct aws_client *c)
{
    return c->now != NULL ? c->now(c->clock_ctx) : time(NULL);
}

int
aws_client_new(const struct aws_client_options *opts, struct aws_client **ret, struct err *err)
{
    struct aws_client *c = NULL;
    int rc = -1;

    if (opts == NULL || opts->region == NULL)
        return err_set(err, ERR_CONFIG, "AWS client: a region is required");
    if (!aws_region_valid(opts->region))
        return err_set(err, ERR_CONFIG,
                       "invalid region '%.64s' (only letters, digits and inner dashes are allowed)",
                       opts->region);
    if (opts->max_attempts < 0 || opts->max_attempts > AWS_MAX_ATTEMPTS_LIMIT)
        return err_set(err, ERR_CONFIG, "max attempts %d is outside 1..%d", opts->max_attempts,
                       AWS_MAX_ATTEMPTS_LIMIT);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory creating an AWS client");
    c->max_attempts = opts->max_attempts;
    if (c->max_attempts == 0) {
        const char *v = getenv("AWS_MAX_ATTEMPTS");
        long long n;

        c->max_attempts = AWS_DEFAULT_ATTEMPTS;
        if (v != NULL && v[0] != '\0') {
            if (util_parse_ll(v, 1, AWS_MAX_ATTEMPTS_LIMIT, &n) < 0) {
                err_set(err, ERR_CONFIG,
                        "AWS_MAX_ATTEMPTS='%.32s' is not a whole number from 1 to %d", v,
                        AWS_MAX_ATTEMPTS_LIMIT);
                goto out;
            }
            c->max_attempts = (int)n;
        }
    }
    c->region = strdup(opts->region);
    if (c->region == NULL)
        goto oom;
    if (opts->account_id != NULL && opts->account_id[0] != '\0') {
        c->account_id = strdup(opts->account_id);
        if (c->account_id == NULL)
            goto oom;
    }
    c->creds = opts->creds;
    c->endpoints = opts->endpoints;
    c->ratelimit = opts->ratelimit;
    c->stats = opts->stats;
    c->use_fips = opts->use_fips;
    c->sleep_ms = opts->sleep_ms;
    c->now = opts->now;
    c->clock_ctx = opts->clock_ctx;
    c->rng = opts->jitter_seed;
    if (c->rng == 0 && getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != sizeof(c->rng))
        c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
    c->keys = sigv4_key_cache_new();
    if (c->keys == NULL)
        goto oom;
    if (http_client_new(&opts->http, &c->http, err) < 0)
        goto out;
    *ret = c;
    c = NULL;
    rc = 0;
    goto out;
oom:
    err_set(err, ERR_INTERNAL, "out of memory creating an AWS client");
out:
    aws_client_free(c);
    return rc;
}

void
aws_client_free(struct aws_client *c)
{
    if (c == NULL)
        return;
    http_client_free(c->http);
    sigv4_key_cache_free(c->keys);
    free(c->region);
    free(c->account_id);
    free(c);
}

void
aws_client_set_transport(struct aws_client *c, const struct http_transport *t)
{
    http_client_set_transport(c->http, t);
}

void
aws_response_clear(struct aws_response *resp)
{
    if (resp == NULL)
        return;
    buf_clear(&resp->body);
    resp->status = 0;
    resp->request_id[0] = '\0';
    resp->attempts = 0;
}

/* ---- request assembly ---- */

struct hdrs {
    struct http_header h[AWS_MAX_HEADERS];
    size_t n;
};

static int
hdr_add(struct hdrs *hs, const char *name, const char *value, struct err *err)
{
    if (hs->n == AWS_MAX_HEADERS)
        return err_set(err, ERR_INTERNAL, "too many request headers");
    hs->h[hs->n].name = strdup(name);
    hs->h[hs->n].value = strdup(value);
    if (hs->h[hs->n].name == NULL || hs->h[hs->n].value == NULL) {
        free(hs->h[hs->n].name);
        free(hs->h[hs->n].value);
        return err_set(err, ERR_INTERNAL, "out of memory building request headers");
    }
    hs->n++;
    return 0;
}

/* Frees the headers; values may hold the Authorization and session token. */
static void
hdrs_clear(struct hdrs *hs)
{
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->h[i].name);
        util_free_secret(hs->h[i].value);
    }
    hs->n = 0;
}

/* "https://host:port/base" -> "host:port" (default ports dropped, as SDKs do). */
static int
host_header(const char *base, char **ret, struct err *err)
{
    const char *p = strstr(base, "://");
    const char *end;
    int https;
    size_t n;
    char *h;

    if (p == NULL)
        return err_set(err, ERR_CONFIG, "endpoint has no scheme");
    https = (size_t)(p - base) == 5;
    p += 3;
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)) != NULL)
        return err_set(err, ERR_CONFIG, "endpoint URLs must not carry user information");
    n = (size_t)(end - p);
    if (https && n > 4 && memcmp(end - 4, ":443", 4) == 0)
        n -= 4;
    else if (!https && n > 3 && memcmp(end - 3, ":80", 3) == 0)
        n -= 3;
    if (n == 0)
        return err_set(err, ERR_CONFIG, "endpoint has an empty host");
    h = strndup(p, n);
    if (h == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    *ret = h;
    return 0;
}

static const char *
content_type(enum aws_protocol proto)
{
    switch (proto) {
    case AWS_PROTO_JSON11:
        return "application/x-amz-json-1.1";
    case AWS_PROTO_RESTJSON:
        return "application/json";
    case AWS_PROTO_QUERY:
        return "application/x-www-form-urlencoded; charset=utf-8";
    }
    return NULL;
}

static int
is_expired_code(const char *code)
{
    return strcmp(code, "ExpiredToken") == 0 || strcmp(code, "ExpiredTokenException") == 0 ||
           strcmp(code, "RequestExpired") == 0 || strcmp(code, "InvalidClientTokenId") == 0;
}

/* Retry-After in whole seconds -> ms (capped); -1 when absent or not seconds. */
static long
retry_after_ms(const struct http_response *hr)
{
    const char *v = http_response_header(hr, "retry-after");
    long long s;

    if (v == NULL || util_parse_ll(v, 0, 86400, &s) < 0)
        return -1;
    return s * 1000 > AWS_BACKOFF_CAP_MS ? AWS_BACKOFF_CAP_MS : (long)(s * 1000);
}

static long
backoff_ms(struct aws_client *c, int attempt, int throttled)
{
    long ceiling = throttled ? AWS_THROTTLE_BASE_MS : AWS_BACKOFF_BASE_MS;

    for (int i = 1; i < attempt && ceiling < AWS_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > AWS_BACKOFF_CAP_MS)
        ceiling = AWS_BACKOFF_CAP_MS;
    if (throttled)
        return ceiling / 2 + (long)(rng_next(&c->rng) % (uint64_t)(ceiling / 2 + 1));
    return (long)(rng_next(&c->rng) % (uint64_t)(ceiling + 1));
}

/* Appends text to err->msg, keeping everything else. */
static void
err_append(struct err *err, const char *text)
{
    size_t n, m;

    if (err == NULL)
        return;
    n = strnlen(err->msg, sizeof(err->msg) - 1);
    m = strlen(text);
    if (m > sizeof(err->msg) - 1 - n)
        m = sizeof(err->msg) - 1 - n;
    memcpy(err->msg + n, text, m);
    err->msg[n + m] = '\0';
}

static void
copy_request_id(const struct http_response *hr, char *out, size_t outsz)
{
    static const char *const names[] = {"x-amzn-requestid", "x-amz-request-id",
                                        "x-amzn-request-id"};
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        const char *v = http_response_header(hr, names[i]);
        if (v == NULL)
            continue;
        for (; v[n] != '\0' && n + 1 < outsz; n++)
            out[n] = (v[n] < 0x20 || v[n] == 0x7f) ? '?' : v[n];
        out[n] = '\0';
        return;
    }
}

/* Signs and sends one attempt; fills *hr. creds_used_session reports
 * whether session credentials were used. */
static int
send_once(struct aws_client *c, const struct aws_call *call, const char *url, const char *host,
          const char *sign_path, struct http_response *hr, int *creds_used_session, int *sent,
          struct err *err)
{
    struct creds *cr = NULL;
    struct sigv4_result sr;
    struct hdrs hs = {.n = 0};
    struct sigv4_header sh[3];
    size_t nsh = 0;
    const char *ctype = NULL;
    const char *method = call->method ? call->method : "POST";
    int rc = -1;

    memset(&sr, 0, sizeof(sr));
    if (call->body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
        ctype = content_type(call->protocol);
    sh[nsh++] = (struct sigv4_header){"Host", host};
    if (ctype != NULL)
        sh[nsh++] = (struct sigv4_header){"Content-Type", ctype};
    if (call->protocol == AWS_PROTO_JSON11)
        sh[nsh++] = (struct sigv4_header){"X-Amz-Target", call->target};
    for (size_t i = 0; i < nsh; i++) {
        if (hdr_add(&hs, sh[i].name, sh[i].value, err) < 0)
            goto out;
    }
    *creds_used_session = 0;
    *sent = 0;
    if (!call->unsigned_request) {
        struct sigv4_request sreq = {
            .method = method,
            .path = sign_path,
            .query = call->query,
            .headers = sh,
            .nheaders = nsh,
            .body = call->body,
            .body_len = call->body_len,
        };
        struct sigv4_params params = {
            .region = c->region,
            .service = call->service,
            .now = now_s(c),
        };
        struct sigv4_credentials sc;

        if (c->creds == NULL) {
            err_set(err, ERR_AUTH, "no credentials provider for a signed request");
            goto out;
        }
        if (creds_provider_get(c->creds, &cr, err) < 0)
            goto out;
        sc.access_key_id = cr->access_key_id;
        sc.secret_access_key = cr->secret_access_key;
        sc.session_token = cr->session_token;
        *creds_used_session = cr->session_token != NULL && cr->session_token[0] != '\0';
        if (sigv4_sign(&sreq, &sc, &params, c->keys, &sr, err) < 0)
            goto out;
        for (size_t i = 0; i < sr.nadded; i++) {
            if (hdr_add(&hs, sr.added[i].name, sr.added[i].value, err) < 0)
                goto out;
        }
        if (hdr_add(&hs, "Authorization", sr.authorization, err) < 0)
            goto out;
    }
    {
        struct http_request req = {
            .method = method,
            .url = url,
            .headers = hs.h,
            .nheaders = hs.n,
            .body = call->body,
            .body_len = call->body_len,
        };
        *sent = 1;
        if (http_send(c->http, &req, hr, err) < 0)
            goto out;
    }
    testhook_point("http");
    rc = 0;
out:
    sigv4_result_clear(&sr);
    hdrs_clear(&hs);
    creds_free(cr);
    return rc;
}

int
aws_call(struct aws_client *c, const struct aws_call *call, struct aws_response *resp,
         struct err *err)
{
    char *base = NULL, *host = NULL, *url = NULL, *sign_path = NULL;
    struct http_response hr;
    char where[192];
    char scope[80]; /* rate-limit bucket: AWS limits per account and region */
    int attempt = 0, refreshed = 0;
    long calls = 0, throttles = 0, retries = 0;
    int64_t sent_at;
    int rc = -1;

    http_response_init(&hr, 0);
    if (call == NULL || call->service == NULL || call->operation == NULL) {
        err_set(err, ERR_INTERNAL, "aws_call: service and operation are required");
        goto out;
    }
    snprintf(scope, sizeof(scope), "%s%s%s", c->account_id ? c->account_id : "",
             c->account_id ? "/" : "", c->region);
    if (c->account_id != NULL)
        snprintf(where, sizeof(where), "%s %s (%s/%s)", call->service, call->operation,
                 c->account_id, c->region);
    else
        snprintf(where, sizeof(where), "%s %s (%s)", call->service, call->operation, c->region);
    if (call->protocol == AWS_PROTO_JSON11 && call->target == NULL) {
        err_set(err, ERR_INTERNAL, "%s: JSON 1.1 call without an X-Amz-Target", where);
        goto out;
    }
    if (aws_endpoint_resolve(call->service, c->region, c->use_fips, c->endpoints, &base, err) < 0 ||
        host_header(base, &host, err) < 0) {
        err_prefix(err, "%s", where);
        goto out;
    }
    {
        const char *path = call->path ? call->path : "/";
        int has_q = call->query != NULL && call->query[0] != '\0';
        if (path[0] != '/' || strpbrk(path, "?# \r\n") != NULL ||
            (has_q && strpbrk(call->query, "# \r\n") != NULL)) {
            err_set(err, ERR_INTERNAL, "%s: malformed request path or query", where);
            goto out;
        }
        if (asprintf(&url, "%s%s%s%s", base, path, has_q ? "?" : "", has_q ? call->query : "") <
            0) {
            url = NULL;
            err_set(err, ERR_INTERNAL, "%s: out of memory building the URL", where);
            goto out;
        }
        /* an endpoint override may carry a base path ("http://host/prefix"); the
         * signature covers the whole wire path, as botocore's does */
        {
            const char *ps = strstr(url, "://") + 3;
            ps += strcspn(ps, "/");
            sign_path = strndup(ps, strcspn(ps, "?"));
            if (sign_path == NULL) {
                err_set(err, ERR_INTERNAL, "%s: out of memory building the URL", where);
                goto out;
            }
        }
    }

    for (;;) {
        int session = 0, sent = 0, retryable, refresh = 0;
        long delay = -1;
        long wait;

        attempt++;
        wait = aws_ratelimit_reserve(c->ratelimit, call->service, call->operation, scope,
                                     util_now_ms());
        do_sleep(c, wait);
        sent_at = util_now_ms();
        http_response_clear(&hr);
        if (send_once(c, call, url, host, sign_path, &hr, &session, &sent, err) < 0) {
            calls += sent;
            err_prefix(err, "%s", where);
            retryable = err_is_retryable(err);
        } else {
            calls++;
            if (hr.status >= 200 && hr.status <= 299) {
                resp->status = hr.status;
                resp->body = hr.body;
                buf_init(&hr.body, 0);
                copy_request_id(&hr, resp->request_id, sizeof(resp->request_id));
                resp->attempts = attempt;
                err_clear(err); /* an earlier attempt's error is not this call's */
                /* where a run's time goes: the answer's latency and the rate limit's wait */
                log_debug("%s: %ld in %lld ms, %zu bytes (rate limit wait %ld ms)", where,
                          hr.status, (long long)(util_now_ms() - sent_at), resp->body.len, wait);
                rc = 0;
                goto out;
            }
            {
                char rid[80];
                copy_request_id(&hr, rid, sizeof(rid));
                aws_error_from_http(call->service, call->operation, c->account_id, c->region,
                                    hr.status, http_response_header(&hr, "x-amzn-errortype"),
                                    hr.body.data, hr.body.len, rid, err);
            }
            if (err != NULL && err->kind == ERR_THROTTLED)
                throttles++;
            retryable = err_is_retryable(err);
            if (retryable)
                delay = retry_after_ms(&hr);
            if (err != NULL && is_expired_code(err->code) && session && !refreshed && c->creds) {
                creds_provider_invalidate(c->creds);
                refreshed = 1;
                refresh = 1;
            }
        }
        /* the refresh retry is extra: it does not use up an attempt */
        if (!refresh && (!retryable || attempt >= c->max_attempts + refreshed)) {
            if (attempt > 1) {
                char tail[48];
                snprintf(tail, sizeof(tail), " (after %d attempts)", attempt);
                err_append(err, tail);
            }
            goto out;
        }
        if (refresh) {
            delay = 0;
            log_debug("%s: %s, refreshing credentials and retrying", where, err ? err->code : "");
        } else {
            if (delay < 0)
                delay = backoff_ms(c, attempt, err != NULL && err->kind == ERR_THROTTLED);
            log_debug("%s: attempt %d of %d failed (%s), retrying in %ld ms", where, attempt,
                      c->max_attempts, err ? err_kind_name(err->kind) : "?", delay);
        }
        retries++;
        do_sleep(c, delay);
    }
out:
    if (call != NULL && call->service != NULL)
        aws_stats_add(c->stats, call->service, call->operation, calls, rc < 0 ? 1 : 0, throttles,
                      retries);
    http_response_clear(&hr);
    free(sign_path);
    free(url);
    free(host);
    free(base);
    return rc;
}
