/*
 * test_aws.c: aws_call end to end through a scripted fake transport, with the
 * sleep injected (so every backoff is recorded, never slept) and a fixed
 * clock and jitter seed.
 *
 * Covers: the request on the wire for each protocol (URL, Host, Content-Type,
 * X-Amz-Target, signed headers, session token), retries on 503 / 429 /
 * throttling codes / network errors with full-jitter backoff and
 * Retry-After, no retry on validation or access-denied answers, the
 * ExpiredToken refresh (credentials re-read after invalidation, once),
 * max attempts from options and AWS_MAX_ATTEMPTS, the rate limiter's waits,
 * statistics, and that no secret reaches an error message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "testutil.h"

#define MAX_STEPS 12
#define MAX_SEEN  12

struct step {
    long status; /* 0: transport error of kind `fail` */
    enum err_kind fail;
    const char *body;
    const char *hname[3]; /* response headers */
    const char *hvalue[3];
    const char *setenv_akid; /* after answering, export this key id (credentials rotate) */
};

struct seen {
    char method[8];
    char url[256];
    char headers[2048]; /* "name: value\n" each */
    char body[256];
};

struct fake {
    struct step steps[MAX_STEPS];
    int nsteps;
    int next;
    struct seen seen[MAX_SEEN];
    long sleeps[64];
    int nsleeps;
};

static int
fake_send(void *ctx, const struct http_request *req, struct http_response *resp, struct err *err)
{
    struct fake *f = ctx;
    const struct step *s;
    struct seen *sn;

    if (f->next >= f->nsteps)
        return err_set(err, ERR_INTERNAL, "fake transport: script exhausted");
    s = &f->steps[f->next];
    if (f->next < MAX_SEEN) {
        sn = &f->seen[f->next];
        snprintf(sn->method, sizeof(sn->method), "%s", req->method);
        snprintf(sn->url, sizeof(sn->url), "%s", req->url);
        sn->headers[0] = '\0';
        for (size_t i = 0; i < req->nheaders; i++) {
            size_t n = strlen(sn->headers);
            snprintf(sn->headers + n, sizeof(sn->headers) - n, "%s: %s\n", req->headers[i].name,
                     req->headers[i].value);
        }
        snprintf(sn->body, sizeof(sn->body), "%.*s", (int)req->body_len,
                 req->body ? (const char *)req->body : "");
    }
    f->next++;
    if (s->setenv_akid != NULL)
        setenv("AWS_ACCESS_KEY_ID", s->setenv_akid, 1);
    if (s->status == 0)
        return err_set(err, s->fail, "HTTP POST to fake.test failed: scripted failure");
    resp->status = s->status;
    for (int i = 0; i < 3 && s->hname[i] != NULL; i++) {
        if (http_response_add_header(resp, s->hname[i], s->hvalue[i], err) < 0)
            return -1;
    }
    if (s->body != NULL && buf_puts(&resp->body, s->body, err) < 0)
        return -1;
    return 0;
}

static void
fake_sleep(void *ctx, long ms)
{
    struct fake *f = ctx;
    if (f->nsleeps < 64)
        f->sleeps[f->nsleeps++] = ms;
}

static time_t
fake_now(void *ctx)
{
    (void)ctx;
    return 1704200000; /* 2024-01-02T12:53:20Z */
}

static struct creds_provider *
static_creds(const char *token)
{
    struct creds c;
    struct creds_provider *p = NULL;
    struct err err;
    char akid[] = "AKIDEXAMPLE";
    char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    char tok[128];

    memset(&c, 0, sizeof(c));
    c.access_key_id = akid;
    c.secret_access_key = secret;
    if (token != NULL) {
        snprintf(tok, sizeof(tok), "%s", token);
        c.session_token = tok;
    }
    if (creds_provider_static(&c, &p, &err) < 0) {
        fprintf(stderr, "creds_provider_static: %s\n", err.msg);
        return NULL;
    }
    return p;
}

struct env {
    struct fake fake;
    struct creds_provider *creds;
    struct aws_stats *stats;
    struct aws_ratelimit *rl;
    struct aws_client *client;
};

/* Builds a client around the fake; max_attempts 0 = default rules. */
static int
env_open(struct env *e, struct creds_provider *creds, int max_attempts, uint64_t seed,
         const struct aws_endpoint_overrides *ov, struct err *err)
{
    struct aws_client_options o;
    struct http_transport t;

    memset(&o, 0, sizeof(o));
    e->creds = creds;
    if (aws_stats_new(&e->stats, err) < 0 || aws_ratelimit_new(&e->rl, err) < 0)
        return -1;
    o.region = "us-east-1";
    o.account_id = "123456789012";
    o.creds = creds;
    o.endpoints = ov;
    o.stats = e->stats;
    o.ratelimit = e->rl;
    o.max_attempts = max_attempts;
    o.jitter_seed = seed;
    o.sleep_ms = fake_sleep;
    o.now = fake_now;
    o.clock_ctx = &e->fake;
    if (aws_client_new(&o, &e->client, err) < 0)
        return -1;
    t.send = fake_send;
    t.ctx = &e->fake;
    aws_client_set_transport(e->client, &t);
    return 0;
}

static void
env_close(struct env *e)
{
    aws_client_free(e->client);
    aws_stats_free(e->stats);
    aws_ratelimit_free(e->rl);
    creds_provider_free(e->creds);
    memset(e, 0, sizeof(*e));
}

static const struct aws_call select_call = {
    .service = "config",
    .operation = "SelectResourceConfig",
    .protocol = AWS_PROTO_JSON11,
    .target = "StarlingDoveService.SelectResourceConfig",
    .body = "{\"Expression\":\"SELECT resourceId\"}",
    .body_len = 35,
};

static const struct aws_call findings_call = {
    .service = "securityhub",
    .operation = "GetFindings",
    .protocol = AWS_PROTO_RESTJSON,
    .path = "/findings",
    .body = "{}",
    .body_len = 2,
};

#define STEP_OK(b)                                                                                 \
    {                                                                                              \
        .status = 200, .body = (b), .hname = {"x-amzn-RequestId"}, .hvalue = { "rid-ok" }          \
    }
#define STEP_503                                                                                   \
    {                                                                                              \
        .status = 503, .body = ""                                                                  \
    }
#define STEP_NET                                                                                   \
    {                                                                                              \
        .status = 0, .fail = ERR_TRANSIENT                                                         \
    }

struct stats_sum {
    long calls, errors, throttles, retries;
};

static void
sum_row(void *ctx, const struct aws_stats_row *row)
{
    struct stats_sum *s = ctx;
    s->calls += row->calls;
    s->errors += row->errors;
    s->throttles += row->throttles;
    s->retries += row->retries;
}

static struct stats_sum
stats_of(struct aws_stats *st)
{
    struct stats_sum s = {0, 0, 0, 0};
    aws_stats_foreach(st, sum_row, &s);
    return s;
}

/* Runs one call against a script; returns aws_call's result. */
static int
run_script(struct env *e, const struct aws_call *call, const struct step *steps, int n,
           struct aws_response *resp, struct err *err)
{
    memcpy(e->fake.steps, steps, (size_t)n * sizeof(*steps));
    e->fake.nsteps = n;
    e->fake.next = 0;
    e->fake.nsleeps = 0;
    memset(resp, 0, sizeof(*resp));
    err_clear(err);
    return aws_call(e->client, call, resp, err);
}

static void
test_wire_json11(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step s[] = {STEP_OK("{\"Results\":[]}")};

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, s, 1, &resp, &err) == 0);
    CHECK_INT(resp.status, 200);
    CHECK_STR(resp.body.data, "{\"Results\":[]}");
    CHECK_STR(resp.request_id, "rid-ok");
    CHECK_INT(resp.attempts, 1);
    CHECK_INT(e.fake.nsleeps, 0);
    CHECK_STR(e.fake.seen[0].method, "POST");
    CHECK_STR(e.fake.seen[0].url, "https://config.us-east-1.amazonaws.com/");
    CHECK_STR(e.fake.seen[0].body, "{\"Expression\":\"SELECT resourceId\"}");
    CHECK_CONTAINS(e.fake.seen[0].headers, "Host: config.us-east-1.amazonaws.com\n");
    CHECK_CONTAINS(e.fake.seen[0].headers, "Content-Type: application/x-amz-json-1.1\n");
    CHECK_CONTAINS(e.fake.seen[0].headers,
                   "X-Amz-Target: StarlingDoveService.SelectResourceConfig\n");
    CHECK_CONTAINS(e.fake.seen[0].headers, "20240102T125320Z\n");
    CHECK_CONTAINS(
        e.fake.seen[0].headers,
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/config/"
        "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=");
    CHECK(strstr(e.fake.seen[0].headers, "ecurity-Token") == NULL);
    {
        struct stats_sum st = stats_of(e.stats);
        CHECK_INT(st.calls, 1);
        CHECK_INT(st.errors, 0);
        CHECK_INT(st.retries, 0);
    }
    aws_response_clear(&resp);
    env_close(&e);
}

static void
test_wire_other_protocols(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step s[] = {STEP_OK("<GetCallerIdentityResponse/>")};
    const struct aws_call sts = {
        .service = "sts",
        .operation = "GetCallerIdentity",
        .protocol = AWS_PROTO_QUERY,
        .body = "Action=GetCallerIdentity&Version=2011-06-15",
        .body_len = 43,
    };
    const struct aws_call get = {
        .service = "securityhub",
        .operation = "DescribeHub",
        .protocol = AWS_PROTO_RESTJSON,
        .method = "GET",
        .path = "/accounts",
        .query = "HubArn=arn%3Aaws%3Asecurityhub%3Aus-east-1%3A1%3Ahub%2Fdefault",
    };
    const struct aws_call web = {
        .service = "sts",
        .operation = "AssumeRoleWithWebIdentity",
        .protocol = AWS_PROTO_QUERY,
        .body = "Action=AssumeRoleWithWebIdentity",
        .body_len = 32,
        .unsigned_request = 1,
    };
    struct aws_endpoint_overrides ov = {.sts = "http://127.0.0.1:4566/"};

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds("SESSIONTOKEN123"), 0, 1, &ov, &err) == 0);
    CHECK(run_script(&e, &sts, s, 1, &resp, &err) == 0);
    aws_response_clear(&resp);
    CHECK_STR(e.fake.seen[0].url, "http://127.0.0.1:4566/");
    CHECK_CONTAINS(e.fake.seen[0].headers, "Host: 127.0.0.1:4566\n");
    CHECK_CONTAINS(e.fake.seen[0].headers,
                   "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n");
    CHECK_CONTAINS(e.fake.seen[0].headers, "X-Amz-Security-Token: SESSIONTOKEN123\n");
    CHECK_CONTAINS(e.fake.seen[0].headers, "/20240102/us-east-1/sts/aws4_request, SignedHeaders="
                                           "content-type;host;x-amz-date;x-amz-security-token,");
    CHECK(strstr(e.fake.seen[0].headers, "X-Amz-Target") == NULL);

    CHECK(run_script(&e, &get, s, 1, &resp, &err) == 0);
    aws_response_clear(&resp);
    CHECK_STR(e.fake.seen[0].method, "GET");
    CHECK_STR(e.fake.seen[0].url, "https://securityhub.us-east-1.amazonaws.com/accounts?HubArn="
                                  "arn%3Aaws%3Asecurityhub%3Aus-east-1%3A1%3Ahub%2Fdefault");
    CHECK(strstr(e.fake.seen[0].headers, "Content-Type") == NULL);
    CHECK_CONTAINS(e.fake.seen[0].headers, "/securityhub/aws4_request, SignedHeaders=host;");

    CHECK(run_script(&e, &findings_call, s, 1, &resp, &err) == 0);
    aws_response_clear(&resp);
    CHECK_STR(e.fake.seen[0].url, "https://securityhub.us-east-1.amazonaws.com/findings");
    CHECK_CONTAINS(e.fake.seen[0].headers, "Content-Type: application/json\n");

    CHECK(run_script(&e, &web, s, 1, &resp, &err) == 0);
    aws_response_clear(&resp);
    CHECK(strstr(e.fake.seen[0].headers, "Authorization") == NULL);
    CHECK(strstr(e.fake.seen[0].headers, "SESSIONTOKEN123") == NULL);
    env_close(&e);

    /* an override with a base path and the default port: both kept in the URL, the
     * port dropped from Host (as curl and botocore do) */
    {
        struct aws_endpoint_overrides ovp = {.config = "https://proxy.test:443/base/"};
        memset(&e, 0, sizeof(e));
        CHECK(env_open(&e, static_creds(NULL), 0, 1, &ovp, &err) == 0);
        CHECK(run_script(&e, &select_call, s, 1, &resp, &err) == 0);
        aws_response_clear(&resp);
        CHECK_STR(e.fake.seen[0].url, "https://proxy.test:443/base/");
        CHECK_CONTAINS(e.fake.seen[0].headers, "Host: proxy.test\n");
        env_close(&e);
    }
}

static void
test_retry_5xx(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step ok_third[] = {
        STEP_503, {.status = 500, .body = "{\"__type\":\"Inter"}, STEP_OK("{}")};
    const struct step all_fail[] = {STEP_503, STEP_503, STEP_503, STEP_OK("{}")};
    long first[2];

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 42, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, ok_third, 3, &resp, &err) == 0);
    CHECK_INT(resp.attempts, 3);
    CHECK_INT(e.fake.nsleeps, 2);
    CHECK(e.fake.sleeps[0] >= 0 && e.fake.sleeps[0] <= 100);
    CHECK(e.fake.sleeps[1] >= 0 && e.fake.sleeps[1] <= 200);
    first[0] = e.fake.sleeps[0];
    first[1] = e.fake.sleeps[1];
    aws_response_clear(&resp);

    CHECK(run_script(&e, &select_call, all_fail, 4, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_INT(err.http_status, 503);
    CHECK_INT(e.fake.next, 3); /* default max attempts: 3 */
    CHECK_CONTAINS(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP 503 empty "
                            "error body (after 3 attempts)");
    {
        struct stats_sum st = stats_of(e.stats);
        CHECK_INT(st.calls, 6);
        CHECK_INT(st.errors, 1);
        CHECK_INT(st.retries, 4);
        CHECK_INT(st.throttles, 0);
    }
    env_close(&e);

    /* the same seed gives the same jitter */
    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 42, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, ok_third, 3, &resp, &err) == 0);
    CHECK_INT(e.fake.sleeps[0], first[0]);
    CHECK_INT(e.fake.sleeps[1], first[1]);
    aws_response_clear(&resp);
    env_close(&e);
}

static void
test_backoff_growth(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    struct step s[MAX_STEPS];
    long maxseen[12] = {0};

    /* many seeds: sleeps stay within min(20 s, 100 ms * 2^n) and use the range */
    for (int i = 0; i < MAX_STEPS; i++)
        s[i] = (struct step)STEP_503;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        memset(&e, 0, sizeof(e));
        CHECK(env_open(&e, static_creds(NULL), 10, seed, NULL, &err) == 0);
        CHECK(run_script(&e, &select_call, s, 10, &resp, &err) == -1);
        CHECK_INT(e.fake.nsleeps, 9);
        for (int i = 0; i < e.fake.nsleeps; i++) {
            long cap = 100L << i;
            if (cap > 20000)
                cap = 20000;
            CHECK_MSG(e.fake.sleeps[i] >= 0 && e.fake.sleeps[i] <= cap, "sleep %d = %ld > %ld", i,
                      e.fake.sleeps[i], cap);
            if (e.fake.sleeps[i] > maxseen[i])
                maxseen[i] = e.fake.sleeps[i];
        }
        env_close(&e);
    }
    /* full jitter reaches well into the upper half of each window */
    CHECK(maxseen[0] > 50);
    CHECK(maxseen[5] > 1600);
    CHECK(maxseen[8] > 10000);
}

static void
test_throttling(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step thr[] = {
        {.status = 400,
         .body = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"},
        {.status = 400,
         .body = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"},
        STEP_OK("{}")};
    const struct step retry_after[] = {
        {.status = 429, .body = "{}", .hname = {"Retry-After"}, .hvalue = {"2"}},
        {.status = 429,
         .body = "",
         .hname = {"Retry-After", "x-amzn-ErrorType"},
         .hvalue = {"600", "TooManyRequestsException:http://x"}},
        STEP_OK("{}")};
    const struct step hopeless[] = {{.status = 429,
                                     .body = "",
                                     .hname = {"x-amzn-ErrorType", "x-amzn-RequestId"},
                                     .hvalue = {"TooManyRequestsException", "r-429"}},
                                    {.status = 429,
                                     .body = "",
                                     .hname = {"x-amzn-ErrorType", "x-amzn-RequestId"},
                                     .hvalue = {"TooManyRequestsException", "r-429"}},
                                    {.status = 429,
                                     .body = "",
                                     .hname = {"x-amzn-ErrorType", "x-amzn-RequestId"},
                                     .hvalue = {"TooManyRequestsException", "r-429b"}}};

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 7, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, thr, 3, &resp, &err) == 0);
    CHECK_INT(resp.attempts, 3);
    /* throttled waits are at least half their ceiling (1 s, then 2 s): the
     * bucket behind them must get time to refill */
    CHECK_INT(e.fake.nsleeps, 2);
    CHECK_MSG(e.fake.sleeps[0] >= 500 && e.fake.sleeps[0] <= 1000, "%ld", e.fake.sleeps[0]);
    CHECK_MSG(e.fake.sleeps[1] >= 1000 && e.fake.sleeps[1] <= 2000, "%ld", e.fake.sleeps[1]);
    aws_response_clear(&resp);

    CHECK(run_script(&e, &findings_call, retry_after, 3, &resp, &err) == 0);
    CHECK_INT(e.fake.nsleeps, 2);
    CHECK_INT(e.fake.sleeps[0], 2000);  /* Retry-After: 2 */
    CHECK_INT(e.fake.sleeps[1], 20000); /* Retry-After: 600, capped */
    aws_response_clear(&resp);

    CHECK(run_script(&e, &findings_call, hopeless, 3, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_THROTTLED);
    CHECK_STR(err.code, "TooManyRequestsException");
    CHECK_INT(err.http_status, 429);
    CHECK_STR(err.msg, "securityhub GetFindings (123456789012/us-east-1): HTTP 429 "
                       "TooManyRequestsException (request id r-429b) (after 3 attempts)");
    {
        struct stats_sum st = stats_of(e.stats);
        CHECK_INT(st.throttles, 2 + 2 + 3);
        CHECK_INT(st.calls, 9);
        CHECK_INT(st.errors, 1);
    }
    env_close(&e);
}

static void
test_no_retry(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step denied[] = {
        {.status = 400,
         .body = "{\"__type\":\"AccessDeniedException\",\"message\":\"not authorized\"}"},
        STEP_OK("{}")};
    const struct step invalid[] = {
        {.status = 400,
         .body = "{\"__type\":\"ValidationException\",\"message\":\"bad expression\"}",
         .hname = {"x-amzn-RequestId"},
         .hvalue = {"v-1"}},
        STEP_OK("{}")};
    const struct step tls[] = {{.status = 0, .fail = ERR_REMOTE}, STEP_OK("{}")};
    const struct step expired_longterm[] = {
        {.status = 400, .body = "{\"__type\":\"ExpiredTokenException\"}"}, STEP_OK("{}")};

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, denied, 2, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_AUTH);
    CHECK_INT(e.fake.next, 1);
    CHECK_INT(e.fake.nsleeps, 0);
    CHECK_STR(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP 400 "
                       "AccessDeniedException: not authorized");

    CHECK(run_script(&e, &select_call, invalid, 2, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_STR(err.code, "ValidationException");
    CHECK_INT(e.fake.next, 1);
    CHECK_STR(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP 400 "
                       "ValidationException: bad expression (request id v-1)");

    CHECK(run_script(&e, &select_call, tls, 2, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_INT(e.fake.next, 1);
    CHECK_STR(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP POST to "
                       "fake.test failed: scripted failure");

    /* ExpiredToken with long-term keys: nothing to refresh */
    CHECK(run_script(&e, &select_call, expired_longterm, 2, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_AUTH);
    CHECK_INT(e.fake.next, 1);
    env_close(&e);
}

static void
test_network_errors(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step net[] = {STEP_NET, STEP_NET, STEP_OK("{}")};
    const struct step net_all[] = {STEP_NET, STEP_NET};

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, net, 3, &resp, &err) == 0);
    CHECK_INT(resp.attempts, 3);
    CHECK_INT(e.fake.nsleeps, 2);
    aws_response_clear(&resp);
    env_close(&e);

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 2, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, net_all, 2, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_INT(e.fake.next, 2);
    CHECK_STR(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP POST to "
                       "fake.test failed: scripted failure (after 2 attempts)");
    env_close(&e);
}

static void
test_expired_refresh(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    struct creds_provider *p = NULL;
    const struct step refresh_ok[] = {
        {.status = 400,
         .body = "{\"__type\":\"ExpiredTokenException\",\"message\":\"The security token "
                 "included in the request is expired\"}",
         .setenv_akid = "ASIANEWKEY"},
        STEP_OK("{}")};
    const struct step refresh_twice[] = {
        {.status = 403,
         .body = "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>expired</Message>"
                 "</Error></ErrorResponse>",
         .setenv_akid = "ASIATHIRD"},
        {.status = 403,
         .body = "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>expired</Message>"
                 "</Error></ErrorResponse>"},
        STEP_OK("{}")};

    setenv("AWS_ACCESS_KEY_ID", "ASIAOLDKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretsecretsecret", 1);
    setenv("AWS_SESSION_TOKEN", "TOKENTOKEN", 1);
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
    CHECK(creds_provider_environment(&p, &err) == 0);
    memset(&e, 0, sizeof(e));
    /* max attempts 1: the refresh retry is on top of it */
    CHECK(env_open(&e, p, 1, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, refresh_ok, 2, &resp, &err) == 0);
    CHECK_INT(resp.attempts, 2);
    CHECK_INT(e.fake.nsleeps, 0);
    CHECK_CONTAINS(e.fake.seen[0].headers, "Credential=ASIAOLDKEY/");
    CHECK_CONTAINS(e.fake.seen[1].headers, "Credential=ASIANEWKEY/");
    aws_response_clear(&resp);

    /* a second ExpiredToken in the same call is final */
    CHECK(run_script(&e, &select_call, refresh_twice, 3, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_AUTH);
    CHECK_STR(err.code, "ExpiredToken");
    CHECK_INT(e.fake.next, 2);
    CHECK_CONTAINS(e.fake.seen[0].headers, "Credential=ASIANEWKEY/");
    CHECK_CONTAINS(e.fake.seen[1].headers, "Credential=ASIATHIRD/");
    CHECK_STR(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP 403 "
                       "ExpiredToken: expired (after 2 attempts)");
    /* secrets never reach the message */
    CHECK(strstr(err.msg, "secretsecret") == NULL);
    CHECK(strstr(err.msg, "TOKENTOKEN") == NULL);
    env_close(&e);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
}

static void
test_max_attempts(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    struct step s[MAX_STEPS];
    struct aws_client *c = NULL;
    struct aws_client_options o;

    for (int i = 0; i < MAX_STEPS; i++)
        s[i] = (struct step)STEP_503;
    setenv("AWS_MAX_ATTEMPTS", "5", 1);
    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, s, MAX_STEPS, &resp, &err) == -1);
    CHECK_INT(e.fake.next, 5);
    CHECK_CONTAINS(err.msg, "(after 5 attempts)");
    env_close(&e);

    /* options win over the environment */
    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 2, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, s, MAX_STEPS, &resp, &err) == -1);
    CHECK_INT(e.fake.next, 2);
    env_close(&e);

    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, s, MAX_STEPS, &resp, &err) == -1);
    CHECK_INT(e.fake.next, 1);
    CHECK_STR(err.msg, "config SelectResourceConfig (123456789012/us-east-1): HTTP 503 empty "
                       "error body");
    env_close(&e);

    memset(&o, 0, sizeof(o));
    o.region = "us-east-1";
    setenv("AWS_MAX_ATTEMPTS", "three", 1);
    CHECK(aws_client_new(&o, &c, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_STR(err.msg, "AWS_MAX_ATTEMPTS='three' is not a whole number from 1 to 100");
    setenv("AWS_MAX_ATTEMPTS", "0", 1);
    CHECK(aws_client_new(&o, &c, &err) == -1);
    unsetenv("AWS_MAX_ATTEMPTS");
    o.max_attempts = -1;
    CHECK(aws_client_new(&o, &c, &err) == -1);
    CHECK_CONTAINS(err.msg, "max attempts -1 is outside 1..100");
    o.max_attempts = 0;
    o.region = "us-east-1.evil.test";
    CHECK(aws_client_new(&o, &c, &err) == -1);
    CHECK_STR(err.msg, "invalid region 'us-east-1.evil.test' (only letters, digits and inner "
                       "dashes are allowed)");
    o.region = NULL;
    CHECK(aws_client_new(&o, &c, &err) == -1);
    CHECK_CONTAINS(err.msg, "a region is required");
    CHECK(c == NULL);
}

static void
test_ratelimited(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step s[] = {STEP_OK("{}")};

    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(aws_ratelimit_set(e.rl, "securityhub:GetFindings", 3, 1, &err) == 0);
    CHECK(run_script(&e, &findings_call, s, 1, &resp, &err) == 0);
    CHECK_INT(e.fake.nsleeps, 0);
    aws_response_clear(&resp);
    CHECK(run_script(&e, &findings_call, s, 1, &resp, &err) == 0);
    /* the real monotonic clock moved a little: the wait is just under 1/3 s */
    CHECK_INT(e.fake.nsleeps, 1);
    CHECK_MSG(e.fake.sleeps[0] > 250 && e.fake.sleeps[0] <= 334, "waited %ld", e.fake.sleeps[0]);
    aws_response_clear(&resp);
    /* AWS limits per account and region: another account sharing the
     * limiter has a bucket of its own and does not wait */
    {
        struct aws_client_options o;
        struct aws_client *other = NULL;
        struct aws_client *mine = e.client;
        struct http_transport t = {.send = fake_send, .ctx = &e.fake};

        memset(&o, 0, sizeof(o));
        o.region = "us-east-1";
        o.account_id = "210987654321";
        o.creds = e.creds;
        o.ratelimit = e.rl;
        o.sleep_ms = fake_sleep;
        o.now = fake_now;
        o.clock_ctx = &e.fake;
        CHECK(aws_client_new(&o, &other, &err) == 0);
        aws_client_set_transport(other, &t);
        e.client = other;
        CHECK(run_script(&e, &findings_call, s, 1, &resp, &err) == 0);
        CHECK_INT(e.fake.nsleeps, 0);
        aws_response_clear(&resp);
        e.client = mine;
        aws_client_free(other);
    }
    /* other operations are not limited */
    CHECK(run_script(&e, &select_call, s, 1, &resp, &err) == 0);
    CHECK_INT(e.fake.nsleeps, 0);
    aws_response_clear(&resp);
    env_close(&e);
}

static void
test_bad_calls(void)
{
    struct env e;
    struct err err;
    struct aws_response resp;
    const struct step s[] = {STEP_OK("{}")};
    struct aws_call no_target = select_call;
    struct aws_call bad_path = findings_call;
    struct aws_call unknown = select_call;

    no_target.target = NULL;
    bad_path.path = "/findings?x=1";
    unknown.service = "ec2";
    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, static_creds(NULL), 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &no_target, s, 1, &resp, &err) == -1);
    CHECK_CONTAINS(err.msg, "JSON 1.1 call without an X-Amz-Target");
    CHECK(run_script(&e, &bad_path, s, 1, &resp, &err) == -1);
    CHECK_CONTAINS(err.msg, "malformed request path or query");
    CHECK(run_script(&e, &unknown, s, 1, &resp, &err) == -1);
    CHECK_CONTAINS(err.msg, "ec2 SelectResourceConfig (123456789012/us-east-1): no endpoint is "
                            "known for service 'ec2'");
    /* plain http to a non-loopback host never reaches the transport */
    setenv("AWS_ENDPOINT_URL", "http://10.0.0.1:4566", 1);
    CHECK(run_script(&e, &select_call, s, 1, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "uses plain http:// to a host that is not loopback");
    CHECK_INT(e.fake.next, 0);
    unsetenv("AWS_ENDPOINT_URL");
    /* a script that runs dry is an internal error, not retried */
    CHECK(run_script(&e, &select_call, s, 0, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_INTERNAL);
    env_close(&e);

    /* no credentials provider for a signed call */
    memset(&e, 0, sizeof(e));
    CHECK(env_open(&e, NULL, 0, 1, NULL, &err) == 0);
    CHECK(run_script(&e, &select_call, s, 1, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_AUTH);
    CHECK_INT(e.fake.next, 0);
    env_close(&e);
}

int
main(void)
{
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_CONFIG_SERVICE");
    unsetenv("AWS_ENDPOINT_URL_SECURITYHUB");
    unsetenv("AWS_ENDPOINT_URL_STS");
    test_wire_json11();
    test_wire_other_protocols();
    test_retry_5xx();
    test_backoff_growth();
    test_throttling();
    test_no_retry();
    test_network_errors();
    test_expired_refresh();
    test_max_attempts();
    test_ratelimited();
    test_bad_calls();
    TEST_END();
}
