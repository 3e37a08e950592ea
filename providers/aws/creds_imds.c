/*
 * creds_imds.c: EC2 instance credentials through IMDSv2 only (IMDSv1's
 * unauthenticated GETs are what SSRF attacks abuse, so there is no
 * fallback): PUT /latest/api/token with a 6-hour TTL header, then
 * GET /latest/meta-data/iam/security-credentials/ for the role name and
 * GET .../ROLE for the credentials, both carrying the token.
 *
 * Last in the chain and never explicitly configured, so "nothing answers"
 * (not on EC2) and a refused token PUT are ERR_NOTFOUND with the reason;
 * once IMDS has answered, failures are real errors. Short timeouts (1 s by
 * default) and one retry, as the SDKs do. AWS_EC2_METADATA_DISABLED=true
 * turns the source off; AWS_EC2_METADATA_SERVICE_ENDPOINT replaces
 * http://169.254.169.254. The session token is wiped after use.
 */
#include "providers/aws/creds.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/creds_int.h"
#include "providers/aws/http.h"

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_CREDS_PATH       "/latest/meta-data/iam/security-credentials/"

struct imds {
    struct creds_opts_copy opts;
};

static int
imds_get(struct http_client *hc, const char *method, const char *url, const char *hname,
    const char *hvalue, struct http_response *resp, struct err *err)
{
    struct http_request req;
    struct http_header h;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    h.name = (char *)(uintptr_t)hname;
    h.value = (char *)(uintptr_t)hvalue;
    req.headers = &h;
    req.nheaders = 1;
    return creds_http_send_retry(hc, &req, resp, err);
}

static int
imds_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct imds *im = p->impl;
    const char *disabled = creds_getenv("AWS_EC2_METADATA_DISABLED");
    const char *ep = creds_getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    struct http_options ho;
    struct http_client *hc = NULL;
    struct http_response resp;
    struct err e;
    char base[512], url[1024], role[256];
    char *token = NULL;
    size_t n;
    int rc = -1, have_resp = 0;

    (void)now;
    memset(&resp, 0, sizeof(resp));
    if (disabled != NULL && strcasecmp(disabled, "true") == 0)
        return err_set(err, ERR_NOTFOUND, "disabled by AWS_EC2_METADATA_DISABLED");
    snprintf(base, sizeof(base), "%s", ep != NULL ? ep : IMDS_DEFAULT_ENDPOINT);
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return err_set(err, ERR_CONFIG,
            "imds: AWS_EC2_METADATA_SERVICE_ENDPOINT '%.100s' is not an http(s) URL", base);
    memset(&ho, 0, sizeof(ho));
    ho.connect_timeout_ms = im->opts.timeout_ms > 0 ? im->opts.timeout_ms : 1000;
    ho.timeout_ms = ho.connect_timeout_ms * 2;
    ho.max_body = 64 * 1024;
    if (http_client_new(&ho, &hc, err) < 0)
        return -1;
    if (im->opts.transport != NULL)
        http_client_set_transport(hc, im->opts.transport);

    /* 1. the session token */
    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    err_clear(&e);
    if (imds_get(hc, "PUT", url, "X-aws-ec2-metadata-token-ttl-seconds", "21600", &resp, &e) <
        0) {
        err_set(err, ERR_NOTFOUND, "no IMDS at %s (%s)", base, e.msg);
        goto out;
    }
    have_resp = 1;
    if (resp.status != 200 || resp.body.len == 0) {
        err_set(err, ERR_NOTFOUND, "IMDSv2 token request to %s answered HTTP %ld", base,
            resp.status);
        goto out;
    }
    token = buf_steal(&resp.body);
    http_response_clear(&resp);
    have_resp = 0;
    if (token == NULL) {
        err_set(err, ERR_INTERNAL, "imds: out of memory");
        goto out;
    }
    token[strcspn(token, "\r\n")] = '\0';

    /* 2. the role name */
    snprintf(url, sizeof(url), "%s%s", base, IMDS_CREDS_PATH);
    if (imds_get(hc, "GET", url, "X-aws-ec2-metadata-token", token, &resp, err) < 0) {
        err_prefix(err, "imds %s", base);
        goto out;
    }
    have_resp = 1;
    if (resp.status == 404) {
        err_set(err, ERR_NOTFOUND, "no IAM role attached to the instance (IMDS %s: HTTP 404)",
            base);
        goto out;
    }
    if (resp.status != 200) {
        err_set(err, resp.status >= 500 ? ERR_TRANSIENT : ERR_AUTH,
            "imds %s: role listing answered HTTP %ld", base, resp.status);
        goto out;
    }
    {
        const char *s = buf_str(&resp.body);
        size_t len = strcspn(s, "\r\n");
        if (len == 0 || len >= sizeof(role) || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"
                                                        "lmnopqrstuvwxyz0123456789+=,.@_-") != len) {
            err_set(err, ERR_REMOTE, "imds %s: role listing holds no valid role name", base);
            goto out;
        }
        memcpy(role, s, len);
        role[len] = '\0';
    }
    http_response_clear(&resp);
    have_resp = 0;

    /* 3. the credentials */
    snprintf(url, sizeof(url), "%s%s%s", base, IMDS_CREDS_PATH, role);
    if (imds_get(hc, "GET", url, "X-aws-ec2-metadata-token", token, &resp, err) < 0) {
        err_prefix(err, "imds %s", base);
        goto out;
    }
    have_resp = 1;
    if (resp.status != 200) {
        err_set(err, resp.status >= 500 ? ERR_TRANSIENT : ERR_AUTH,
            "imds %s: credentials of role '%s' answered HTTP %ld", base, role, resp.status);
        goto out;
    }
    {
        char source[96];
        snprintf(source, sizeof(source), "imds role '%.80s'", role);
        rc = creds_parse_metadata_json(buf_str(&resp.body), resp.body.len, source, ret, err);
    }
out:
    if (have_resp) {
        buf_clear_secure(&resp.body);
        http_response_clear(&resp);
    }
    util_free_secret(token);
    http_client_free(hc);
    return rc;
}

static void
imds_destroy(struct creds_provider *p)
{
    struct imds *im = p->impl;

    if (im == NULL)
        return;
    creds_opts_copy_clear(&im->opts);
    free(im);
}

static const struct creds_provider_ops imds_ops = {
    .name = "imds",
    .fetch = imds_fetch,
    .destroy = imds_destroy,
};

int
creds_provider_imds_with(const struct creds_options *opts, const struct http_transport *t,
    struct creds_provider **ret, struct err *err)
{
    struct imds *im;

    im = calloc(1, sizeof(*im));
    if (im == NULL)
        return err_set(err, ERR_INTERNAL, "imds: out of memory");
    if (creds_opts_copy_init(&im->opts, opts, err) < 0) {
        free(im);
        return -1;
    }
    im->opts.transport = t;
    return creds_provider_new(&imds_ops, im, "imds", opts, ret, err);
}

int
creds_provider_imds(const struct creds_options *opts, struct creds_provider **ret,
    struct err *err)
{
    return creds_provider_imds_with(opts, NULL, ret, err);
}
