/*
 * aws: one signed, retried, rate-limited AWS API call (aws_call), and the
 * endpoint resolution behind it. Service modules (config.c, securityhub.c,
 * sts.c) build request bodies and parse answers; this module owns the
 * transport rules every AWS SDK shares:
 *
 *  - endpoints: https://SERVICE.REGION.amazonaws.com (aws), .amazonaws.com.cn
 *    (aws-cn), us-gov partitions, optional FIPS; overridden by configuration,
 *    then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL;
 *  - SigV4 signing with credentials from a creds_provider (refreshed once on
 *    ExpiredToken-style errors);
 *  - retries like the SDKs' "standard" mode: max attempts (default 3),
 *    exponential backoff with full jitter (base 100 ms, cap 20 s), on
 *    throttling codes / HTTP 429, 5xx and transient network errors,
 *    honouring Retry-After; never on access-denied or validation errors;
 *  - a client-side token bucket per service and region (shared by threads);
 *  - AWS errors from JSON (__type / code / message) and XML (<Error><Code>)
 *    parsed into struct err: "SERVICE OPERATION (ACCOUNT/REGION): HTTP 400
 *    CODE: MESSAGE", with err->code and err->http_status set.
 * Secrets never enter an error message or a log line.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/buf.h"
#include "daemon/err.h"
#include "providers/aws/http.h"

struct creds_provider;
struct aws_ratelimit;
struct aws_stats;

enum aws_protocol { AWS_PROTO_JSON11, AWS_PROTO_RESTJSON, AWS_PROTO_QUERY };

/* Endpoint overrides from the configuration file (NULL members: not set). */
struct aws_endpoint_overrides {
    const char *config;
    const char *securityhub;
    const char *sts;
};

/* Resolves the base URL ("https://config.us-east-1.amazonaws.com") for a
 * service ("config", "securityhub", "sts") in a region. use_fips picks the
 * FIPS host where one exists. Caller frees *ret. Refuses plain http:// to a
 * non-loopback host (ERR_CONFIG). */
MUST_CHECK int aws_endpoint_resolve(const char *service, const char *region, int use_fips,
    const struct aws_endpoint_overrides *ov, char **ret, struct err *err);

/* Partition of a region: "aws", "aws-cn", "aws-us-gov". */
const char *aws_region_partition(const char *region);
/* True when region is safe to put in a host name: 1..48 letters, digits and
 * inner dashes. */
int aws_region_valid(const char *region);

struct aws_client_options {
    const char *region;                        /* required */
    const char *account_id;                    /* for error messages; may be NULL */
    struct creds_provider *creds;              /* borrowed; must outlive the client */
    const struct aws_endpoint_overrides *endpoints; /* borrowed; may be NULL */
    struct aws_ratelimit *ratelimit;           /* borrowed, shared; may be NULL */
    struct aws_stats *stats;                   /* borrowed, shared; may be NULL */
    int max_attempts;                          /* 0 = AWS_MAX_ATTEMPTS or 3 */
    int use_fips;
    struct http_options http;
    uint64_t jitter_seed;                      /* 0 = random */
    /* tests: replace sleeping (ms) and the wall clock; NULL = real ones */
    void (*sleep_ms)(void *ctx, long ms);
    time_t (*now)(void *ctx);
    void *clock_ctx;
};

struct aws_client;

MUST_CHECK int aws_client_new(const struct aws_client_options *opts, struct aws_client **ret,
    struct err *err);
void aws_client_free(struct aws_client *c);
/* Tests: swap the HTTP transport of the client's http_client. */
void aws_client_set_transport(struct aws_client *c, const struct http_transport *t);

struct aws_call {
    const char *service;    /* endpoint key and signing name: "config", "securityhub", "sts" */
    const char *operation;  /* "SelectResourceConfig": errors, stats, rate limits */
    enum aws_protocol protocol;
    const char *target;     /* JSON 1.1 X-Amz-Target, e.g. "StarlingDoveService.SelectResourceConfig" */
    const char *method;     /* NULL = POST */
    const char *path;       /* wire path (percent-encoded); NULL = "/" */
    const char *query;      /* wire query without '?'; may be NULL */
    const char *body;       /* JSON text, or form-encoded for the query protocol */
    size_t body_len;
    int unsigned_request;   /* AssumeRoleWithWebIdentity is sent without a signature */
};

struct aws_response {
    long status;            /* 2xx on success */
    struct buf body;        /* owned */
    char request_id[80];    /* x-amzn-RequestId / x-amz-request-id / <RequestId> */
    int attempts;
};

/* Sends the call with retries. Success only for a 2xx answer; anything else
 * is an err (kind THROTTLED / TRANSIENT / AUTH / REMOTE ...). Release resp
 * with aws_response_clear on success. */
MUST_CHECK int aws_call(struct aws_client *c, const struct aws_call *call,
    struct aws_response *resp, struct err *err);
void aws_response_clear(struct aws_response *resp);

/* Parses an AWS error body (JSON or XML) into err (kind chosen from status
 * and code). Used by aws_call; exposed for tests. */
int aws_error_from_response(const char *service, const char *operation, const char *account,
    const char *region, long status, const char *body, size_t len, const char *request_id,
    struct err *err);
/* Same, also given the x-amzn-ErrorType header (REST-JSON: "Code:http://...",
 * which wins over the body's code; NULL when absent). Always returns -1. */
int aws_error_from_http(const char *service, const char *operation, const char *account,
    const char *region, long status, const char *error_type, const char *body, size_t len,
    const char *request_id, struct err *err);
/* True for the throttling error codes the SDKs retry ("ThrottlingException",
 * "TooManyRequestsException", "SlowDown", ...). */
int aws_error_code_is_throttle(const char *code);

/* Token buckets keyed by rule and scope (thread-safe). AWS applies its limits
 * per account and region, so aws_call passes "ACCOUNT/REGION" as the scope
 * (the region alone when the account is unknown). rate_per_s <= 0 disables. */
MUST_CHECK int aws_ratelimit_new(struct aws_ratelimit **ret, struct err *err);
void aws_ratelimit_free(struct aws_ratelimit *rl);
/* Sets the bucket for a service ("securityhub") or service+operation
 * ("securityhub:GetFindings", which wins over the service-wide one). */
MUST_CHECK int aws_ratelimit_set(struct aws_ratelimit *rl, const char *key, double rate_per_s,
    double burst, struct err *err);
/* Returns how many ms the caller must wait before sending (and reserves the
 * token); region is the bucket's scope (see above). */
long aws_ratelimit_reserve(struct aws_ratelimit *rl, const char *service, const char *operation,
    const char *region, int64_t now_ms);

/* Call counters by service/operation (thread-safe), for run records and metrics. */
MUST_CHECK int aws_stats_new(struct aws_stats **ret, struct err *err);
void aws_stats_free(struct aws_stats *st);
struct aws_stats_row {
    const char *service;
    const char *operation;
    long calls;      /* HTTP requests sent, retries included */
    long errors;     /* calls that ended in an error after retries */
    long throttles;  /* throttled answers seen */
    long retries;
};
/* Calls fn for each row (sorted by service, operation); borrowed strings. */
void aws_stats_foreach(struct aws_stats *st, void (*fn)(void *ctx, const struct aws_stats_row *row),
    void *ctx);
long aws_stats_total_calls(struct aws_stats *st);
/* Adds to the counters of service/operation (creating the row). Never fails:
 * a row that cannot be created is dropped. aws_call does this itself. */
void aws_stats_add(struct aws_stats *st, const char *service, const char *operation, long calls,
    long errors, long throttles, long retries);
