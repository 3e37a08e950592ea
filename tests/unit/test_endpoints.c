/*
 * test_endpoints.c: endpoint resolution (every partition, FIPS, the override
 * precedence config > AWS_ENDPOINT_URL_<SVC> > AWS_ENDPOINT_URL, the ignore
 * switch, bad regions, plain http to non-loopback hosts), plus the two small
 * shared structures aws_call leans on: the token-bucket rate limiter (with an
 * injected clock) and the call statistics (including from several threads).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"
#include "providers/aws/discover.h"
#include "providers/aws/securityhub.h"
#include "testutil.h"

static void
clear_env(void)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_CONFIG_SERVICE");
    unsetenv("AWS_ENDPOINT_URL_SECURITYHUB");
    unsetenv("AWS_ENDPOINT_URL_STS");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
}

static void
expect_url(const char *svc, const char *region, int fips, const struct aws_endpoint_overrides *ov,
           const char *want, int line)
{
    struct err err;
    char *got = NULL;
    int r;

    err_clear(&err);
    r = aws_endpoint_resolve(svc, region, fips, ov, &got, &err);
    CHECK_MSG(r == 0, "line %d: %s/%s failed: %s", line, svc, region, err.msg);
    if (r == 0)
        CHECK_MSG(strcmp(got, want) == 0, "line %d: got %s, want %s", line, got, want);
    free(got);
}

#define URL(svc, region, fips, ov, want) expect_url(svc, region, fips, ov, want, __LINE__)

static void
expect_fail(const char *svc, const char *region, int fips, const struct aws_endpoint_overrides *ov,
            enum err_kind kind, const char *want_msg, int line)
{
    struct err err;
    char *got = NULL;
    int r;

    err_clear(&err);
    r = aws_endpoint_resolve(svc, region, fips, ov, &got, &err);
    CHECK_MSG(r == -1, "line %d: %s/%s accepted: %s", line, svc, region ? region : "", got);
    CHECK_MSG(err.kind == kind, "line %d: kind %d, want %d", line, err.kind, kind);
    CHECK_MSG(strstr(err.msg, want_msg) != NULL, "line %d: [%s] lacks [%s]", line, err.msg,
              want_msg);
    free(got);
}

#define FAIL(svc, region, fips, ov, kind, msg)                                                     \
    expect_fail(svc, region, fips, ov, kind, msg, __LINE__)

static void
test_partitions(void)
{
    clear_env();
    URL("config", "us-east-1", 0, NULL, "https://config.us-east-1.amazonaws.com");
    URL("securityhub", "eu-west-3", 0, NULL, "https://securityhub.eu-west-3.amazonaws.com");
    URL("sts", "ap-southeast-2", 0, NULL, "https://sts.ap-southeast-2.amazonaws.com");
    URL("config", "cn-north-1", 0, NULL, "https://config.cn-north-1.amazonaws.com.cn");
    URL("securityhub", "cn-northwest-1", 0, NULL,
        "https://securityhub.cn-northwest-1.amazonaws.com.cn");
    URL("sts", "cn-north-1", 0, NULL, "https://sts.cn-north-1.amazonaws.com.cn");
    URL("config", "us-gov-west-1", 0, NULL, "https://config.us-gov-west-1.amazonaws.com");
    URL("sts", "us-gov-east-1", 0, NULL, "https://sts.us-gov-east-1.amazonaws.com");
    URL("config", "us-east-1", 1, NULL, "https://config-fips.us-east-1.amazonaws.com");
    URL("securityhub", "us-gov-west-1", 1, NULL,
        "https://securityhub-fips.us-gov-west-1.amazonaws.com");
    URL("sts", "us-west-2", 1, NULL, "https://sts-fips.us-west-2.amazonaws.com");
    CHECK_STR(aws_region_partition("us-east-1"), "aws");
    CHECK_STR(aws_region_partition("cn-north-1"), "aws-cn");
    CHECK_STR(aws_region_partition("us-gov-west-1"), "aws-us-gov");
    CHECK_STR(aws_region_partition("eu-central-2"), "aws");
    FAIL("config", "cn-north-1", 1, NULL, ERR_CONFIG,
         "no FIPS endpoint for config in partition aws-cn");
}

static void
test_bad_input(void)
{
    clear_env();
    FAIL("config", "evil.com/x", 0, NULL, ERR_CONFIG, "invalid region 'evil.com/x'");
    FAIL("config", "us-east-1.attacker.net", 0, NULL, ERR_CONFIG, "invalid region");
    FAIL("config", "", 0, NULL, ERR_CONFIG, "invalid region ''");
    FAIL("config", "-us-east-1", 0, NULL, ERR_CONFIG, "invalid region");
    FAIL("config", "us east 1", 0, NULL, ERR_CONFIG, "invalid region");
    FAIL("config", "us-east-1@x", 0, NULL, ERR_CONFIG, "invalid region");
    FAIL("config", NULL, 0, NULL, ERR_CONFIG, "invalid region");
    FAIL("ec2", "us-east-1", 0, NULL, ERR_INTERNAL, "no endpoint is known for service 'ec2'");
    CHECK(aws_region_valid("us-east-1"));
    CHECK(aws_region_valid("eu-central-2"));
    CHECK(!aws_region_valid("us_east_1"));
    CHECK(!aws_region_valid("us-east-1-"));
    CHECK(!aws_region_valid("a123456789012345678901234567890123456789012345678"));
}

static void
test_overrides(void)
{
    struct aws_endpoint_overrides ov = {
        .config = "https://config.example.test/",
        .securityhub = NULL,
        .sts = "http://127.0.0.1:4566",
    };
    struct aws_endpoint_overrides bad = {.config = "http://config.example.test"};
    struct aws_endpoint_overrides badq = {.securityhub = "https://x.test/?a=b"};
    struct aws_endpoint_overrides ftp = {.sts = "ftp://x.test"};

    clear_env();
    URL("config", "us-east-1", 0, &ov, "https://config.example.test");
    URL("sts", "us-east-1", 0, &ov, "http://127.0.0.1:4566");
    URL("securityhub", "us-east-1", 0, &ov, "https://securityhub.us-east-1.amazonaws.com");

    /* the service variable beats the global one; config beats both */
    setenv("AWS_ENDPOINT_URL", "http://localhost:9000/", 1);
    setenv("AWS_ENDPOINT_URL_SECURITYHUB", "http://[::1]:8443", 1);
    setenv("AWS_ENDPOINT_URL_CONFIG_SERVICE", "https://from-env.test", 1);
    URL("securityhub", "us-east-1", 0, &ov, "http://[::1]:8443");
    URL("securityhub", "us-east-1", 0, NULL, "http://[::1]:8443");
    URL("config", "us-east-1", 0, &ov, "https://config.example.test");
    URL("config", "us-east-1", 0, NULL, "https://from-env.test");
    URL("sts", "us-east-1", 0, NULL, "http://localhost:9000");
    /* an override wins over FIPS too: the operator asked for that host */
    URL("sts", "us-east-1", 1, NULL, "http://localhost:9000");

    /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS switches the environment off, not the config */
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
    URL("securityhub", "us-east-1", 0, NULL, "https://securityhub.us-east-1.amazonaws.com");
    URL("config", "us-east-1", 0, &ov, "https://config.example.test");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    URL("securityhub", "us-east-1", 0, NULL, "http://[::1]:8443");
    clear_env();

    /* empty values are "not set" */
    setenv("AWS_ENDPOINT_URL_STS", "", 1);
    URL("sts", "us-east-1", 0, NULL, "https://sts.us-east-1.amazonaws.com");

    /* plain http only to loopback; otherwise a clear config error naming the origin */
    FAIL("config", "us-east-1", 0, &bad, ERR_CONFIG,
         "endpoint URL from the configuration (endpoints.config) uses plain http:// to a host "
         "that is not loopback");
    setenv("AWS_ENDPOINT_URL", "http://192.168.1.10:4566", 1);
    FAIL("sts", "us-east-1", 0, NULL, ERR_CONFIG,
         "endpoint URL from AWS_ENDPOINT_URL uses plain http://");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1.evil.test", 1);
    FAIL("sts", "us-east-1", 0, NULL, ERR_CONFIG, "not loopback");
    setenv("AWS_ENDPOINT_URL", "http://localhost@evil.test/", 1);
    FAIL("sts", "us-east-1", 0, NULL, ERR_CONFIG, "not loopback");
    clear_env();
    setenv("AWS_ENDPOINT_URL_STS", "https://a b.test", 1);
    FAIL("sts", "us-east-1", 0, NULL, ERR_CONFIG,
         "endpoint URL from AWS_ENDPOINT_URL_STS contains a space");
    clear_env();
    FAIL("securityhub", "us-east-1", 0, &badq, ERR_CONFIG, "must not carry a query");
    FAIL("sts", "us-east-1", 0, &ftp, ERR_CONFIG, "is not an http(s) URL");
    clear_env();
}

/* The limits the daemon sets: AWS's published ones, one token kept back
 * from GetFindings' and AWS Config's bursts (sh_configure_ratelimit,
 * discover_configure_ratelimit). */
static void
test_configured_limits(void)
{
    struct aws_ratelimit *rl = NULL;
    struct err err;

    CHECK(aws_ratelimit_new(&rl, &err) == 0);
    if (rl == NULL)
        return;
    CHECK(sh_configure_ratelimit(rl, &err) == 0);
    CHECK(discover_configure_ratelimit(rl, &err) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "1/r", 1000), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "1/r", 1000), 334);
    for (int i = 0; i < 30; i++) /* the service-wide burst is AWS's own */
        CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetEnabledStandards", "1/r", 0), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetEnabledStandards", "1/r", 0), 100);
    for (int i = 0; i < 19; i++)
        CHECK_INT(aws_ratelimit_reserve(rl, "config", "SelectResourceConfig", "1/r", 0), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "config", "SelectResourceConfig", "1/r", 0), 100);
    for (int i = 0; i < 19; i++)
        CHECK_INT(aws_ratelimit_reserve(rl, "config", "SelectAggregateResourceConfig", "1/r", 0),
            0);
    CHECK_INT(aws_ratelimit_reserve(rl, "config", "SelectAggregateResourceConfig", "1/r", 0), 100);
    for (int i = 0; i < 38; i++)
        CHECK_INT(aws_ratelimit_reserve(rl, "config", "BatchGetResourceConfig", "1/r", 0), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "config", "ListDiscoveredResources", "1/r", 0), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "config", "ListDiscoveredResources", "1/r", 0), 50);
    aws_ratelimit_free(rl);
}

static void
test_ratelimit(void)
{
    struct aws_ratelimit *rl = NULL;
    struct err err;

    CHECK(aws_ratelimit_new(&rl, &err) == 0);
    if (rl == NULL)
        return;
    /* no rule: never wait */
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "us-east-1", 0), 0);
    CHECK(aws_ratelimit_set(rl, "securityhub:GetFindings", 3, 6, &err) == 0);
    CHECK(aws_ratelimit_set(rl, "securityhub", 10, 1, &err) == 0);
    /* the burst of 6 goes at once, then one token every 333.3 ms */
    for (int i = 0; i < 6; i++)
        CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "us-east-1", 1000), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "us-east-1", 1000), 334);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "us-east-1", 1000), 667);
    /* later: debt was 2 tokens; after 1 s 3 tokens came back -> balance 1 */
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "us-east-1", 2000), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "us-east-1", 2000), 334);
    /* another region has its own bucket */
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "GetFindings", "eu-west-1", 2000), 0);
    /* another operation falls back to the service-wide rule (10/s, burst 1) */
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "DescribeHub", "us-east-1", 5000), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "DescribeHub", "us-east-1", 5000), 100);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "DescribeHub", "us-east-1", 5000), 200);
    /* the bucket refills but never beyond the burst */
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "DescribeHub", "us-east-1", 60000), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "DescribeHub", "us-east-1", 60000), 100);
    /* a clock going backwards does not mint tokens */
    CHECK_INT(aws_ratelimit_reserve(rl, "securityhub", "DescribeHub", "us-east-1", 1), 200);
    /* other services are not limited */
    CHECK_INT(aws_ratelimit_reserve(rl, "config", "SelectResourceConfig", "us-east-1", 0), 0);
    /* rate <= 0 disables */
    CHECK(aws_ratelimit_set(rl, "config", 0, 5, &err) == 0);
    for (int i = 0; i < 20; i++)
        CHECK_INT(aws_ratelimit_reserve(rl, "config", "X", "us-east-1", 0), 0);
    /* lowering the burst clamps the saved tokens */
    CHECK(aws_ratelimit_set(rl, "sts", 1, 5, &err) == 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "sts", "AssumeRole", "us-east-1", 0), 0);
    CHECK(aws_ratelimit_set(rl, "sts", 1, 1, &err) == 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "sts", "AssumeRole", "us-east-1", 0), 0);
    CHECK_INT(aws_ratelimit_reserve(rl, "sts", "AssumeRole", "us-east-1", 0), 1000);
    /* bad keys and values */
    CHECK(aws_ratelimit_set(rl, "", 1, 1, &err) == -1);
    CHECK_CONTAINS(err.msg, "invalid rate limit key ''");
    CHECK(aws_ratelimit_set(rl, "a:b:c", 1, 1, &err) == -1);
    CHECK(aws_ratelimit_set(rl, "securityhub:", 1, 1, &err) == -1);
    CHECK(aws_ratelimit_set(rl, "sec hub", 1, 1, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK(aws_ratelimit_set(rl, "x", 1e9, 1, &err) == -1);
    CHECK_CONTAINS(err.msg, "invalid rate or burst for rate limit 'x'");
    /* NULL limiter: callers without one never wait */
    CHECK_INT(aws_ratelimit_reserve(NULL, "securityhub", "GetFindings", "us-east-1", 0), 0);
    aws_ratelimit_free(rl);
    aws_ratelimit_free(NULL);
}

struct row_list {
    char text[1024];
};

static void
collect(void *ctx, const struct aws_stats_row *row)
{
    struct row_list *rl = ctx;
    size_t n = strlen(rl->text);
    snprintf(rl->text + n, sizeof(rl->text) - n, "%s/%s %ld %ld %ld %ld;", row->service,
             row->operation, row->calls, row->errors, row->throttles, row->retries);
}

static void *
stats_worker(void *arg)
{
    struct aws_stats *st = arg;
    for (int i = 0; i < 1000; i++)
        aws_stats_add(st, "config", "SelectResourceConfig", 1, 0, i % 10 == 0, 0);
    return NULL;
}

static void
test_stats(void)
{
    struct aws_stats *st = NULL;
    struct err err;
    struct row_list rows = {.text = ""};
    pthread_t th[4];

    CHECK(aws_stats_new(&st, &err) == 0);
    if (st == NULL)
        return;
    aws_stats_add(st, "securityhub", "GetFindings", 3, 1, 2, 2);
    aws_stats_add(st, "config", "SelectResourceConfig", 1, 0, 0, 0);
    aws_stats_add(st, "config", "BatchGetResourceConfig", 2, 0, 0, 1);
    aws_stats_add(st, "securityhub", "GetFindings", 1, 0, 0, 0);
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, stats_worker, st) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    aws_stats_foreach(st, collect, &rows);
    CHECK_STR(rows.text, "config/BatchGetResourceConfig 2 0 0 1;config/SelectResourceConfig 4001 0 "
                         "400 0;securityhub/GetFindings 4 1 2 2;");
    CHECK_INT(aws_stats_total_calls(st), 4007);
    CHECK_INT(aws_stats_total_calls(NULL), 0);
    aws_stats_add(NULL, "x", "y", 1, 1, 1, 1);
    aws_stats_free(st);
}

int
main(void)
{
    test_partitions();
    test_bad_input();
    test_overrides();
    test_ratelimit();
    test_configured_limits();
    test_stats();
    TEST_END();
}
