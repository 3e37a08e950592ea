/*
 * endpoints.c: which base URL a service call goes to.
 *
 * Precedence (as in the AWS SDKs' "service-specific endpoints" feature):
 * the configuration file's override, then AWS_ENDPOINT_URL_<SERVICE_ID>,
 * then AWS_ENDPOINT_URL, then the partition's standard host
 * SERVICE[-fips].REGION.<dns suffix>. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
 * switches the two environment variables off (the configuration file's
 * overrides are ours, not the SDK's, and stay in force).
 *
 * The region goes into a host name, so it is checked first (letters, digits
 * and inner dashes only): a region like "x.evil.com/" cannot redirect
 * signed requests. Overrides must be absolute http(s) URLs; plain http is
 * refused unless the host is loopback (http_url_allowed).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/aws/aws.h"
#include "providers/aws/http.h"

#define REGION_MAX 48

struct service_info {
    const char *name;   /* our key, also the host label */
    const char *env_id; /* AWS_ENDPOINT_URL_<env_id> */
};

static const struct service_info services[] = {
    {"config", "CONFIG_SERVICE"},
    {"securityhub", "SECURITYHUB"},
    {"sts", "STS"},
};

static const struct service_info *
find_service(const char *name)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (strcmp(services[i].name, name) == 0)
            return &services[i];
    }
    return NULL;
}

int
aws_region_valid(const char *region)
{
    size_t n = strlen(region);

    if (n == 0 || n > REGION_MAX || region[0] == '-' || region[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)region[i];
        if (!isascii(c) || !(isalnum(c) || c == '-'))
            return 0;
    }
    return 1;
}

const char *
aws_region_partition(const char *region)
{
    if (region == NULL)
        return "aws";
    if (strncmp(region, "cn-", 3) == 0)
        return "aws-cn";
    if (strncmp(region, "us-gov-", 7) == 0)
        return "aws-us-gov";
    return "aws";
}

static int
env_true(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && strcasecmp(v, "true") == 0;
}

/* Copies an override URL after checking it, without a trailing '/'. */
static int
take_override(const char *url, const char *origin, char **ret, struct err *err)
{
    size_t n = strlen(url);
    char *copy;

    if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
        return err_set(err, ERR_CONFIG, "endpoint URL from %s is not an http(s) URL", origin);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return err_set(err, ERR_CONFIG,
                           "endpoint URL from %s contains a space or control character", origin);
    }
    if (strchr(url, '?') != NULL || strchr(url, '#') != NULL)
        return err_set(err, ERR_CONFIG, "endpoint URL from %s must not carry a query or fragment",
                       origin);
    if (!http_url_allowed(url))
        return err_set(err, ERR_CONFIG,
                       "endpoint URL from %s uses plain http:// to a host that is not loopback; "
                       "use https:// (http is only accepted for 127.0.0.0/8, ::1 and localhost)",
                       origin);
    while (n > 0 && url[n - 1] == '/')
        n--;
    copy = strndup(url, n);
    if (copy == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory copying an endpoint URL");
    *ret = copy;
    return 0;
}

int
aws_endpoint_resolve(const char *service, const char *region, int use_fips,
                     const struct aws_endpoint_overrides *ov, char **ret, struct err *err)
{
    const struct service_info *si;
    const char *cfg = NULL;
    const char *partition;
    char envname[64];
    char url[256];
    char *copy;

    if (service == NULL || (si = find_service(service)) == NULL)
        return err_set(err, ERR_INTERNAL, "no endpoint is known for service '%s'",
                       service ? service : "(null)");
    if (region == NULL || !aws_region_valid(region))
        return err_set(err, ERR_CONFIG,
                       "invalid region '%.64s' (only letters, digits and inner dashes are allowed)",
                       region ? region : "(null)");

    if (ov != NULL) {
        if (strcmp(si->name, "config") == 0)
            cfg = ov->config;
        else if (strcmp(si->name, "securityhub") == 0)
            cfg = ov->securityhub;
        else
            cfg = ov->sts;
    }
    if (cfg != NULL && cfg[0] != '\0') {
        char origin[64];
        snprintf(origin, sizeof(origin), "the configuration (endpoints.%s)", si->name);
        return take_override(cfg, origin, ret, err);
    }
    if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        const char *v;

        snprintf(envname, sizeof(envname), "AWS_ENDPOINT_URL_%s", si->env_id);
        v = getenv(envname);
        if (v != NULL && v[0] != '\0')
            return take_override(v, envname, ret, err);
        v = getenv("AWS_ENDPOINT_URL");
        if (v != NULL && v[0] != '\0')
            return take_override(v, "AWS_ENDPOINT_URL", ret, err);
    }

    partition = aws_region_partition(region);
    if (use_fips && strcmp(partition, "aws-cn") == 0)
        return err_set(err, ERR_CONFIG, "no FIPS endpoint for %s in partition aws-cn (region %s)",
                       si->name, region);
    snprintf(url, sizeof(url), "https://%s%s.%s.%s", si->name, use_fips ? "-fips" : "", region,
             strcmp(partition, "aws-cn") == 0 ? "amazonaws.com.cn" : "amazonaws.com");
    for (char *p = url; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    copy = strdup(url);
    if (copy == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory copying an endpoint URL");
    *ret = copy;
    return 0;
}
