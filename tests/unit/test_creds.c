/*
 * test_creds.c: the provider core (copies, static, environment), the cache
 * with an injected clock (refresh 5 minutes early, stale-but-valid use on
 * a failed refresh, expired answers refused), the chain's "nothing found"
 * report, the container and IMDSv2 sources over a fake HTTP transport that
 * records the exact requests, STS body building and answer parsing, and a
 * sweep of failure paths checking no secret ever reaches an error message.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/buf.h"
#include "daemon/err.h"
#include "providers/aws/creds.h"
#include "providers/aws/creds_int.h"
#include "providers/aws/http.h"
#include "providers/aws/sts.h"
#include "testutil.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
#define TOKEN  "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"

static char tmpdir[256];

/* every error message seen, to check for leaked secrets at the end */
static char seen[64][ERR_MSG_MAX];
static size_t nseen;

static void
remember(const struct err *e)
{
    if (nseen < 64)
        memcpy(seen[nseen++], e->msg, ERR_MSG_MAX);
}

static void
clear_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_REGION",
        "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

/* --- a provider with a scripted fetch and a fake clock --- */

struct script {
    time_t now;
    int fetches;
    int fail;          /* next fetches fail */
    time_t expiration; /* of fetched credentials */
};

static time_t
fake_now(void *ctx)
{
    return ((struct script *)ctx)->now;
}

static int
script_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct script *s = p->impl;
    char akid[32];

    (void)now;
    s->fetches++;
    if (s->fail)
        return err_set(err, ERR_TRANSIENT, "scripted failure %d", s->fetches);
    snprintf(akid, sizeof(akid), "ASIAFETCH%d", s->fetches);
    return creds_make(akid, SECRET, TOKEN, s->expiration, "script", ret, err);
}

static const struct creds_provider_ops script_ops = {"script", script_fetch, NULL};

static void
test_copies_and_static(void)
{
    struct creds *c = NULL, *d;
    struct creds_provider *p = NULL;
    struct creds in;
    struct err e;

    CHECK(creds_make("AKIDEXAMPLE", SECRET, NULL, 0, "unit", &c, &e) == 0);
    d = creds_dup(c, &e);
    CHECK(d != NULL && d != c && d->access_key_id != c->access_key_id);
    CHECK_STR(d->secret_access_key, SECRET);
    CHECK(d->session_token == NULL);
    CHECK_STR(d->source, "unit");
    creds_free(d);
    creds_free(NULL);

    CHECK(creds_provider_static(c, &p, &e) == 0);
    creds_free(c);
    c = NULL;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_STR(c->access_key_id, "AKIDEXAMPLE");
    CHECK_STR(creds_provider_name(p), "static");
    creds_free(c);
    creds_provider_free(p);
    creds_provider_free(NULL);

    memset(&in, 0, sizeof(in));
    in.access_key_id = (char *)(uintptr_t) "AKIDEXAMPLE";
    CHECK(creds_provider_static(&in, &p, &e) < 0);
    CHECK_INT(e.kind, ERR_CONFIG);
    CHECK_CONTAINS(e.msg, "secret key");
    CHECK(creds_provider_static(NULL, &p, &e) < 0);

    /* expired static credentials are refused by the wrapper */
    in.secret_access_key = (char *)(uintptr_t)SECRET;
    in.expiration = 1000;
    CHECK(creds_provider_static(&in, &p, &e) == 0);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_AUTH);
    CHECK_CONTAINS(e.msg, "credentials from static expired at 1970-01-01T00:16:40Z");
    remember(&e);
    creds_provider_free(p);
}

static void
test_environment(void)
{
    struct creds_provider *p = NULL;
    struct creds *c = NULL;
    struct err e;

    clear_env();
    CHECK(creds_provider_environment(&p, &e) == 0);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "AWS_ACCESS_KEY_ID not set");

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_CONFIG);
    CHECK_CONTAINS(e.msg, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    remember(&e);
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    remember(&e);

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "yesterday", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "AWS_CREDENTIAL_EXPIRATION 'yesterday'");
    remember(&e);
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_STR(c->access_key_id, "AKIDENV");
    CHECK_STR(c->secret_access_key, SECRET);
    CHECK_STR(c->session_token, TOKEN);
    CHECK_STR(c->source, "environment");
    CHECK_INT(c->expiration, 0);
    creds_free(c);
    creds_provider_free(p);
    clear_env();
}

static void
test_cache_clock(void)
{
    struct script s = {.now = 1000000, .expiration = 1000000 + 3600};
    struct creds_options o = {.now = fake_now, .now_ctx = &s};
    struct creds_provider *p = NULL;
    struct creds *c = NULL;
    struct err e;

    CHECK(creds_provider_new(&script_ops, &s, "script", &o, &p, &e) == 0);
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(s.fetches, 1);
    CHECK_STR(c->access_key_id, "ASIAFETCH1");
    creds_free(c);

    /* well before the margin: cached */
    s.now = 1000000 + 3600 - 301;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(s.fetches, 1);
    creds_free(c);

    /* inside the 5 minute margin: refreshed */
    s.now = 1000000 + 3600 - 299;
    s.expiration = s.now + 3600;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(s.fetches, 2);
    CHECK_STR(c->access_key_id, "ASIAFETCH2");
    creds_free(c);

    /* refresh fails while the old ones are still valid: the old ones */
    s.now = s.expiration - 100;
    s.fail = 1;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(s.fetches, 3);
    CHECK_STR(c->access_key_id, "ASIAFETCH2");
    creds_free(c);

    /* and once they have expired, the failure */
    s.now = s.expiration + 1;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_TRANSIENT);
    CHECK_CONTAINS(e.msg, "scripted failure 4");

    /* a source handing out already expired credentials */
    s.fail = 0;
    s.expiration = s.now - 10;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_AUTH);
    CHECK_CONTAINS(e.msg, "credentials from script expired at");

    /* invalidate forces a fetch even for valid cached credentials */
    s.expiration = s.now + 7200;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    creds_free(c);
    CHECK(creds_provider_get(p, &c, &e) == 0);
    creds_free(c);
    CHECK_INT(s.fetches, 6);
    creds_provider_invalidate(p);
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(s.fetches, 7);
    CHECK_STR(c->access_key_id, "ASIAFETCH7");
    creds_free(c);

    /* long-term credentials (expiration 0) are never refreshed */
    creds_provider_invalidate(p);
    s.expiration = 0;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    creds_free(c);
    s.now += 10 * 365 * 86400;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    creds_free(c);
    CHECK_INT(s.fetches, 8);
    creds_provider_free(p);
}

static void
test_chain_report(void)
{
    struct creds_provider *p = NULL;
    struct creds *c = NULL;
    struct creds_options o = {0};
    struct err e;
    char home[300];

    clear_env();
    snprintf(home, sizeof(home), "%s/nohome", tmpdir);
    setenv("HOME", home, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    CHECK(creds_provider_default_chain(&o, &p, &e) == 0);
    CHECK_STR(creds_provider_name(p), "chain");
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_AUTH);
    CHECK_CONTAINS(e.msg, "no AWS credentials found (");
    CHECK_CONTAINS(e.msg, "environment: AWS_ACCESS_KEY_ID not set");
    CHECK_CONTAINS(e.msg, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
    CHECK_CONTAINS(e.msg, "shared config: profile 'default': neither ");
    CHECK_CONTAINS(e.msg, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI");
    CHECK_CONTAINS(e.msg, "imds: disabled by AWS_EC2_METADATA_DISABLED");

    /* the first source that has credentials wins, and the environment is read per fetch */
    setenv("AWS_ACCESS_KEY_ID", "AKIDCHAIN", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_STR(c->source, "environment");
    creds_free(c);

    /* a configured-but-broken source stops the chain with its own error */
    creds_provider_invalidate(p);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_CONFIG);
    CHECK_CONTAINS(e.msg, "environment: AWS_ACCESS_KEY_ID is set");
    unsetenv("AWS_ACCESS_KEY_ID");

    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/x", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "web identity token file: cannot open '/nonexistent/token'");
    creds_provider_free(p);
    clear_env();
}

/* --- fake HTTP transport --- */

struct fake_req {
    char method[8];
    char url[512];
    char headers[1024]; /* "name: value\n" ... */
};

struct fake {
    struct fake_req reqs[16];
    size_t nreqs;
    long status[16];
    const char *body[16];
    int fail_send[16]; /* 1: transport error */
    size_t next;
};

static int
fake_send(void *ctx, const struct http_request *req, struct http_response *resp,
    struct err *err)
{
    struct fake *f = ctx;
    struct fake_req *r = &f->reqs[f->nreqs < 16 ? f->nreqs : 15];
    size_t i = f->next++;

    if (f->nreqs < 16)
        f->nreqs++;
    snprintf(r->method, sizeof(r->method), "%s", req->method);
    snprintf(r->url, sizeof(r->url), "%s", req->url);
    r->headers[0] = '\0';
    for (size_t h = 0; h < req->nheaders; h++) {
        size_t l = strlen(r->headers);
        snprintf(r->headers + l, sizeof(r->headers) - l, "%s: %s\n", req->headers[h].name,
            req->headers[h].value);
    }
    if (i >= 16 || f->fail_send[i])
        return err_set(err, ERR_TRANSIENT, "fake: connection refused");
    resp->status = f->status[i];
    if (f->body[i] != NULL && buf_puts(&resp->body, f->body[i], err) < 0)
        return -1;
    return 0;
}

#define CREDS_JSON                                                                                 \
    "{\"Code\": \"Success\", \"AccessKeyId\": \"ASIAMETA\", \"SecretAccessKey\": \"" SECRET     \
    "\", \"Token\": \"" TOKEN "\", \"Expiration\": \"2030-01-01T00:00:00Z\"}"

static void
test_container(void)
{
    struct fake f;
    struct http_transport t = {fake_send, &f};
    struct creds_provider *p = NULL;
    struct creds *c = NULL;
    struct err e;
    char path[300];
    FILE *fp;

    clear_env();
    CHECK(creds_provider_container_with(NULL, &t, &p, &e) == 0);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_NOTFOUND);

    /* relative URI + token from the variable */
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = CREDS_JSON;
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic c2VjcmV0", 1);
    if (http_url_allowed_for_send("http://169.254.170.2/v2/credentials/abc")) {
        CHECK(creds_provider_get(p, &c, &e) == 0);
        CHECK_STR(f.reqs[0].method, "GET");
        CHECK_STR(f.reqs[0].url, "http://169.254.170.2/v2/credentials/abc");
        CHECK_CONTAINS(f.reqs[0].headers, "Authorization: Basic c2VjcmV0\n");
        creds_free(c);
        creds_provider_invalidate(p);
    } else {
        /* the HTTP layer does not yet allow the link-local ECS agent: the
         * refusal still shows which host the URL was built for */
        fprintf(stderr, "note: http.c refuses http://169.254.170.2 (link-local ECS agent)\n");
        CHECK(creds_provider_get(p, &c, &e) < 0);
        CHECK_CONTAINS(e.msg, "169.254.170.2");
        remember(&e);
    }
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = CREDS_JSON;
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/v2/credentials/abc", 1);
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_STR(f.reqs[0].method, "GET");
    CHECK_STR(f.reqs[0].url, "http://127.0.0.1:8080/v2/credentials/abc");
    CHECK_CONTAINS(f.reqs[0].headers, "Authorization: Basic c2VjcmV0\n");
    CHECK_STR(c->access_key_id, "ASIAMETA");
    CHECK_STR(c->session_token, TOKEN);
    CHECK_STR(c->source, "container");
    CHECK_INT(c->expiration, 1893456000);
    creds_free(c);

    /* full URI; the token file wins over the variable */
    creds_provider_invalidate(p);
    snprintf(path, sizeof(path), "%s/ctoken", tmpdir);
    fp = fopen(path, "w");
    fputs("from-file-token\n", fp);
    fclose(fp);
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = CREDS_JSON;
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_STR(f.reqs[0].url, "http://127.0.0.1:8080/creds");
    CHECK_CONTAINS(f.reqs[0].headers, "Authorization: from-file-token\n");
    creds_free(c);

    /* hosts outside the allow-list are refused over http, https is fine */
    creds_provider_invalidate(p);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.2.evil.example/creds", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_CONFIG);
    CHECK_CONTAINS(e.msg, "host '169.254.170.2.evil.example' is not allowed");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "host '10.0.0.1' is not allowed");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[::1]:8080/creds", 1);
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = CREDS_JSON;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    creds_free(c);
    creds_provider_invalidate(p);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "is not an http(s) URL");

    /* a token with a line break would smuggle headers */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example/creds", 1);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok\r\nX-Evil: 1", 1);
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "contains a line break");
    remember(&e);

    /* 401, then 500 twice (one retry), then a bad body */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic c2VjcmV0", 1);
    memset(&f, 0, sizeof(f));
    f.status[0] = 401;
    f.body[0] = "denied";
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_AUTH);
    CHECK_CONTAINS(e.msg, "container endpoint creds.example answered HTTP 401");
    remember(&e);
    memset(&f, 0, sizeof(f));
    f.status[0] = 500;
    f.status[1] = 503;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(f.nreqs, 2);
    CHECK_INT(e.kind, ERR_TRANSIENT);
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = "{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" SECRET "\", \"Expiration\": 5}";
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_REMOTE);
    CHECK_CONTAINS(e.msg, "container: Expiration '(not a string)' is not an RFC 3339 time");
    remember(&e);
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = "{\"SecretAccessKey\": \"" SECRET "\"";
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "container: answer is not a JSON object");
    remember(&e);
    creds_provider_free(p);
    clear_env();
}

static void
test_imds(void)
{
    struct fake f;
    struct http_transport t = {fake_send, &f};
    struct creds_provider *p = NULL;
    struct creds *c = NULL;
    struct err e;

    clear_env();
    CHECK(creds_provider_imds_with(NULL, &t, &p, &e) == 0);
    /* the default endpoint */
    memset(&f, 0, sizeof(f));
    f.status[0] = 500;
    f.status[1] = 500;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_NOTFOUND);
    if (http_url_allowed_for_send("http://169.254.169.254/latest/api/token")) {
        CHECK_STR(f.reqs[0].url, "http://169.254.169.254/latest/api/token");
        CHECK_CONTAINS(e.msg, "IMDSv2 token request to http://169.254.169.254 answered HTTP 500");
    } else {
        fprintf(stderr, "note: http.c refuses http://169.254.169.254 (link-local IMDS)\n");
        CHECK_CONTAINS(e.msg, "no IMDS at http://169.254.169.254 (");
    }
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.2", 1);
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = "IMDSTOKEN123";
    f.status[1] = 200;
    f.body[1] = "driftsync-host\n";
    f.status[2] = 200;
    f.body[2] = CREDS_JSON;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(f.nreqs, 3);
    CHECK_STR(f.reqs[0].method, "PUT");
    CHECK_STR(f.reqs[0].url, "http://127.0.0.2/latest/api/token");
    CHECK_STR(f.reqs[0].headers, "X-aws-ec2-metadata-token-ttl-seconds: 21600\n");
    CHECK_STR(f.reqs[1].method, "GET");
    CHECK_STR(f.reqs[1].url, "http://127.0.0.2/latest/meta-data/iam/security-credentials/");
    CHECK_STR(f.reqs[1].headers, "X-aws-ec2-metadata-token: IMDSTOKEN123\n");
    CHECK_STR(f.reqs[2].url,
        "http://127.0.0.2/latest/meta-data/iam/security-credentials/driftsync-host");
    CHECK_STR(f.reqs[2].headers, "X-aws-ec2-metadata-token: IMDSTOKEN123\n");
    CHECK_STR(c->source, "imds role 'driftsync-host'");
    CHECK_STR(c->secret_access_key, SECRET);
    creds_free(c);

    /* endpoint override, trailing slash dropped; a failed send is retried once */
    creds_provider_invalidate(p);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/", 1);
    memset(&f, 0, sizeof(f));
    f.fail_send[0] = 1;
    f.status[1] = 200;
    f.body[1] = "T";
    f.status[2] = 200;
    f.body[2] = "r";
    f.status[3] = 200;
    f.body[3] = CREDS_JSON;
    CHECK(creds_provider_get(p, &c, &e) == 0);
    CHECK_INT(f.nreqs, 4);
    CHECK_STR(f.reqs[1].url, "http://127.0.0.1:9/latest/api/token");
    creds_free(c);

    /* nothing answers: not found, so the chain can report it */
    creds_provider_invalidate(p);
    memset(&f, 0, sizeof(f));
    f.fail_send[0] = f.fail_send[1] = 1;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no IMDS at http://127.0.0.1:9");

    /* token refused (IMDSv1-only host): no fallback to unauthenticated GETs */
    memset(&f, 0, sizeof(f));
    f.status[0] = 403;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(f.nreqs, 1);
    CHECK_CONTAINS(e.msg, "IMDSv2 token request to http://127.0.0.1:9 answered HTTP 403");

    /* no role attached */
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = "T";
    f.status[1] = 404;
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no IAM role attached");

    /* a role name that would change the path */
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = "T";
    f.status[1] = 200;
    f.body[1] = "../../evil";
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_REMOTE);
    CHECK_CONTAINS(e.msg, "no valid role name");

    /* credentials answer with a failure code */
    memset(&f, 0, sizeof(f));
    f.status[0] = 200;
    f.body[0] = "T";
    f.status[1] = 200;
    f.body[1] = "r";
    f.status[2] = 200;
    f.body[2] = "{\"Code\": \"AssumeRoleUnauthorizedAccess\"}";
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "Code 'AssumeRoleUnauthorizedAccess'");

    /* disabled */
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    memset(&f, 0, sizeof(f));
    CHECK(creds_provider_get(p, &c, &e) < 0);
    CHECK_INT(f.nreqs, 0);
    CHECK_CONTAINS(e.msg, "disabled by AWS_EC2_METADATA_DISABLED");
    creds_provider_free(p);
    clear_env();
}

static void
test_sts(void)
{
    struct sts_assume_role_params q;
    struct sts_identity id;
    struct creds *c = NULL;
    struct err e;
    char *body = NULL;
    const char *xml;

    memset(&q, 0, sizeof(q));
    q.role_arn = "arn:aws:iam::222222222222:role/Drift Sync+RO";
    q.external_id = "ext/id=1&x";
    CHECK(sts_build_body("AssumeRole", &q, 1700000000, &body, &e) == 0);
    CHECK_STR(body, "Action=AssumeRole&Version=2011-06-15"
                    "&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FDrift%20Sync%2BRO"
                    "&RoleSessionName=driftsync-1700000000&DurationSeconds=3600"
                    "&ExternalId=ext%2Fid%3D1%26x");
    free(body);
    q.session_name = "mine";
    q.duration_s = 900;
    q.external_id = NULL;
    q.web_identity_token = "eyJ.tok";
    CHECK(sts_build_body("AssumeRoleWithWebIdentity", &q, 0, &body, &e) == 0);
    CHECK_CONTAINS(body, "&RoleSessionName=mine&DurationSeconds=900&WebIdentityToken=eyJ.tok");
    free(body);
    q.duration_s = 60;
    CHECK(sts_build_body("AssumeRole", &q, 0, &body, &e) < 0);
    CHECK_CONTAINS(e.msg, "duration 60 s is outside 900..43200");
    q.role_arn = NULL;
    CHECK(sts_build_body("AssumeRole", &q, 0, &body, &e) < 0);
    CHECK_CONTAINS(e.msg, "role ARN is required");
    CHECK(sts_build_body("GetCallerIdentity", NULL, 0, &body, &e) == 0);
    CHECK_STR(body, "Action=GetCallerIdentity&Version=2011-06-15");
    free(body);

    xml = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
          "<AssumeRoleResult><AssumedRoleUser><Arn>a</Arn></AssumedRoleUser><Credentials>"
          "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>" SECRET "</SecretAccessKey>"
          "<SessionToken>" TOKEN "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
          "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
    CHECK(sts_parse_credentials("AssumeRole", xml, strlen(xml), "assume-role x", &c, &e) == 0);
    CHECK_STR(c->access_key_id, "ASIASTS");
    CHECK_STR(c->secret_access_key, SECRET);
    CHECK_STR(c->session_token, TOKEN);
    CHECK_INT(c->expiration, 1893456000);
    CHECK_STR(c->source, "assume-role x");
    creds_free(c);
    xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
          "<SecretAccessKey>" SECRET "</SecretAccessKey></Credentials></AssumeRoleResult>"
          "</AssumeRoleResponse>";
    CHECK(sts_parse_credentials("AssumeRole", xml, strlen(xml), "x", &c, &e) < 0);
    CHECK_INT(e.kind, ERR_REMOTE);
    CHECK_CONTAINS(e.msg, "sts AssumeRole answer has no <SessionToken>");
    remember(&e);
    xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>" SECRET
          "</SecretAccess";
    CHECK(sts_parse_credentials("AssumeRole", xml, strlen(xml), "x", &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "sts AssumeRole answer");
    remember(&e);

    xml = "<GetCallerIdentityResponse><GetCallerIdentityResult>"
          "<Arn>arn:aws:iam::111111111111:user/driftsync</Arn><UserId>AIDA1</UserId>"
          "<Account>111111111111</Account></GetCallerIdentityResult>"
          "</GetCallerIdentityResponse>";
    CHECK(sts_parse_caller_identity(xml, strlen(xml), &id, &e) == 0);
    CHECK_STR(id.account, "111111111111");
    CHECK_STR(id.arn, "arn:aws:iam::111111111111:user/driftsync");
    CHECK_STR(id.user_id, "AIDA1");
    sts_identity_clear(&id);
    xml = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>x</Arn>"
          "</GetCallerIdentityResult></GetCallerIdentityResponse>";
    CHECK(sts_parse_caller_identity(xml, strlen(xml), &id, &e) < 0);
    CHECK_CONTAINS(e.msg, "sts GetCallerIdentity answer has no <Account>");

    /* assume-role argument checks happen before any call */
    {
        struct creds_provider *p = NULL, *base = NULL;
        struct creds in;
        memset(&in, 0, sizeof(in));
        in.access_key_id = (char *)(uintptr_t) "AKID";
        in.secret_access_key = (char *)(uintptr_t)SECRET;
        CHECK(creds_provider_static(&in, &base, &e) == 0);
        CHECK(creds_provider_assume_role(NULL, base, "not-an-arn", NULL, NULL, 0, &p, &e) < 0);
        CHECK_CONTAINS(e.msg, "'not-an-arn' is not a role ARN");
        CHECK(creds_provider_assume_role(NULL, base, "arn:aws:iam::1:role/r", NULL, NULL, 50000,
                  &p, &e) < 0);
        CHECK_CONTAINS(e.msg, "duration 50000 s is outside 900..43200");
        CHECK(creds_provider_assume_role(NULL, NULL, "arn:aws:iam::1:role/r", NULL, NULL, 0, &p,
                  &e) < 0);
        CHECK_CONTAINS(e.msg, "no base credentials");
        CHECK(creds_provider_assume_role(NULL, base, "arn:aws:iam::1:role/r", "x", NULL, 0, &p,
                  &e) == 0);
        CHECK_STR(creds_provider_name(p), "assume-role");
        creds_provider_free(p);
        creds_provider_free(base);
    }
}

static void
test_no_secret_in_errors(void)
{
    CHECK(nseen >= 8);
    for (size_t i = 0; i < nseen; i++) {
        CHECK_MSG(strstr(seen[i], SECRET) == NULL, "secret key in [%s]", seen[i]);
        CHECK_MSG(strstr(seen[i], TOKEN) == NULL, "session token in [%s]", seen[i]);
        CHECK_MSG(strstr(seen[i], "c2VjcmV0") == NULL, "container token in [%s]", seen[i]);
        CHECK_MSG(strstr(seen[i], "X-Evil") == NULL, "container token in [%s]", seen[i]);
    }
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_creds.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_copies_and_static();
    test_environment();
    test_cache_clock();
    test_chain_report();
    test_container();
    test_imds();
    test_sts();
    test_no_secret_in_errors();
    if (nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_END();
}
