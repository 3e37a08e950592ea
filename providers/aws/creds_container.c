/*
 * creds_container.c: the ECS/EKS container credentials endpoint, and the
 * JSON both it and IMDS answer with (AccessKeyId, SecretAccessKey, Token,
 * Expiration, and for IMDS "Code": "Success").
 *
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is appended to
 * http://169.254.170.2; AWS_CONTAINER_CREDENTIALS_FULL_URI may be any https
 * URL, or http only to hosts that cannot be an attacker on the network:
 * loopback, the ECS agent (169.254.170.2) and EKS Pod Identity
 * (169.254.170.23, fd00:ec2::23), the SDKs' allow-list. The Authorization
 * header comes from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read every
 * fetch, as EKS rotates it; it wins over the variable, as in the SDKs) or
 * AWS_CONTAINER_AUTHORIZATION_TOKEN. A token with CR or LF is refused (it
 * would smuggle headers). One retry on network errors and 5xx.
 */
#include "providers/aws/creds.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/creds_int.h"
#include "providers/aws/http.h"

#define CONTAINER_HOST "http://169.254.170.2"
#define META_BODY_MAX  ((size_t)64 * 1024)

static const char *
jstr(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int
creds_parse_metadata_json(const char *json, size_t len, const char *source, struct creds **ret,
    struct err *err)
{
    json_error_t jerr;
    json_t *root;
    const char *code, *akid, *secret, *token, *exp;
    time_t expiration = 0;
    int rc = -1;

    root = json_loadb(json, len, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        err_set(err, ERR_REMOTE, "%s: answer is not a JSON object (line %d column %d)", source,
            jerr.line, jerr.column);
        goto out;
    }
    code = jstr(root, "Code");
    if (code != NULL && strcmp(code, "Success") != 0) {
        err_set(err, ERR_AUTH, "%s: answer has Code '%.64s'", source, code);
        goto out;
    }
    akid = jstr(root, "AccessKeyId");
    secret = jstr(root, "SecretAccessKey");
    token = jstr(root, "Token");
    exp = jstr(root, "Expiration");
    if (akid == NULL || akid[0] == '\0' || secret == NULL || secret[0] == '\0') {
        err_set(err, ERR_REMOTE, "%s: answer lacks AccessKeyId or SecretAccessKey", source);
        goto out;
    }
    if ((exp == NULL && json_object_get(root, "Expiration") != NULL) ||
        (exp != NULL && util_time_parse(exp, &expiration) < 0)) {
        err_set(err, ERR_REMOTE, "%s: Expiration '%.40s' is not an RFC 3339 time", source, exp != NULL ? exp : "(not a string)");
        goto out;
    }
    rc = creds_make(akid, secret, token, expiration, source, ret, err);
out:
    if (root != NULL) {
        static const char *const secrets[] = {"SecretAccessKey", "Token"};
        for (size_t i = 0; i < 2; i++) {
            json_t *v = json_object_get(root, secrets[i]);
            if (json_is_string(v))
                explicit_bzero((void *)(uintptr_t)json_string_value(v), json_string_length(v));
        }
    }
    json_decref(root);
    return rc;
}

/* Host part of url ("127.0.0.1", "[::1]" -> "::1"), without port, into out. */
static int
url_host(const char *url, char *out, size_t outlen, int *https)
{
    const char *p, *end;
    size_t n;

    if (strncasecmp(url, "https://", 8) == 0) {
        *https = 1;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        *https = 0;
        p = url + 7;
    } else {
        return -1;
    }
    end = p + strcspn(p, "/?#");
    if (memchr(p, '@', (size_t)(end - p)) != NULL)
        return -1; /* user info: refuse rather than guess */
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (close == NULL)
            return -1;
        p++;
        n = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        n = (size_t)((colon != NULL ? colon : end) - p);
    }
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    return 0;
}

static int
host_allowed(const char *host)
{
    static const char *const ok[] = {"localhost", "::1", "169.254.170.2", "169.254.170.23",
        "fd00:ec2::23"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(host, ok[i]) == 0)
            return 1;
    return strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == strlen(host);
}

int
creds_http_send_retry(struct http_client *c, const struct http_request *req,
    struct http_response *resp, struct err *err)
{
    for (int attempt = 0;; attempt++) {
        http_response_init(resp, META_BODY_MAX);
        if (http_send(c, req, resp, err) == 0) {
            if (resp->status < 500 || attempt == 1)
                return 0;
            http_response_clear(resp);
        } else if (attempt == 1 || err == NULL || err->kind != ERR_TRANSIENT) {
            return -1;
        }
    }
}

struct container {
    struct creds_opts_copy opts;
};

static int
container_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct container *ct = p->impl;
    const char *rel = creds_getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = creds_getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *tok_file = creds_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok_env = creds_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct http_options ho;
    struct http_client *hc = NULL;
    struct http_request req;
    struct http_response resp;
    struct http_header hdr[2];
    struct buf url, tok;
    const char *token = NULL;
    char host[256];
    int https = 0, rc = -1, have_resp = 0;

    (void)now;
    buf_init(&url, 8192);
    buf_init(&tok, CREDS_TOKEN_FILE_MAX);
    memset(&resp, 0, sizeof(resp));
    if (rel == NULL && full == NULL)
        return err_set(err, ERR_NOTFOUND,
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
    if (rel != NULL) {
        if (rel[0] != '/')
            return err_set(err, ERR_CONFIG,
                "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI '%.100s' must start with '/'",
                rel);
        if (buf_printf(&url, err, "%s%s", CONTAINER_HOST, rel) < 0)
            goto out;
    } else {
        if (url_host(full, host, sizeof(host), &https) < 0) {
            err_set(err, ERR_CONFIG,
                "container: AWS_CONTAINER_CREDENTIALS_FULL_URI '%.100s' is not an http(s) URL",
                full);
            goto out;
        }
        if (!https && !host_allowed(host)) {
            err_set(err, ERR_CONFIG,
                "container: AWS_CONTAINER_CREDENTIALS_FULL_URI host '%s' is not allowed over "
                "http (only loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23; use https)",
                host);
            goto out;
        }
        if (buf_puts(&url, full, err) < 0)
            goto out;
    }
    if (tok_file != NULL) {
        if (util_read_file(tok_file, &tok, err) < 0) {
            err_prefix(err, "container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
            goto out;
        }
        while (tok.len > 0 && isspace((unsigned char)tok.data[tok.len - 1]))
            tok.data[--tok.len] = '\0';
        token = buf_str(&tok);
    } else {
        token = tok_env;
    }
    if (token != NULL && strpbrk(token, "\r\n") != NULL) {
        err_set(err, ERR_CONFIG, "container: authorization token from %s contains a line break",
            tok_file != NULL ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
                             : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
        goto out;
    }
    memset(&ho, 0, sizeof(ho));
    ho.connect_timeout_ms = ct->opts.timeout_ms > 0 ? ct->opts.timeout_ms : 1000;
    ho.timeout_ms = ho.connect_timeout_ms * 2;
    ho.max_body = META_BODY_MAX;
    if (http_client_new(&ho, &hc, err) < 0)
        goto out;
    if (ct->opts.transport != NULL)
        http_client_set_transport(hc, ct->opts.transport);
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = buf_str(&url);
    hdr[0].name = (char *)(uintptr_t) "Accept";
    hdr[0].value = (char *)(uintptr_t) "application/json";
    req.headers = hdr;
    req.nheaders = 1;
    if (token != NULL && token[0] != '\0') {
        hdr[1].name = (char *)(uintptr_t) "Authorization";
        hdr[1].value = (char *)(uintptr_t)token;
        req.nheaders = 2;
    }
    if (creds_http_send_retry(hc, &req, &resp, err) < 0) {
        err_prefix(err, "container endpoint %s", rel != NULL ? "169.254.170.2" : host);
        goto out;
    }
    have_resp = 1;
    if (resp.status != 200) {
        err_set(err, resp.status >= 500 ? ERR_TRANSIENT : ERR_AUTH,
            "container endpoint %s answered HTTP %ld", rel != NULL ? "169.254.170.2" : host,
            resp.status);
        goto out;
    }
    rc = creds_parse_metadata_json(buf_str(&resp.body), resp.body.len, "container", ret, err);
out:
    if (have_resp) {
        buf_clear_secure(&resp.body);
        http_response_clear(&resp);
    }
    http_client_free(hc);
    buf_clear(&url);
    buf_clear_secure(&tok);
    return rc;
}

static void
container_destroy(struct creds_provider *p)
{
    struct container *ct = p->impl;

    if (ct == NULL)
        return;
    creds_opts_copy_clear(&ct->opts);
    free(ct);
}

static const struct creds_provider_ops container_ops = {
    .name = "container",
    .fetch = container_fetch,
    .destroy = container_destroy,
};

int
creds_provider_container_with(const struct creds_options *opts, const struct http_transport *t,
    struct creds_provider **ret, struct err *err)
{
    struct container *ct;

    ct = calloc(1, sizeof(*ct));
    if (ct == NULL)
        return err_set(err, ERR_INTERNAL, "container: out of memory");
    if (creds_opts_copy_init(&ct->opts, opts, err) < 0) {
        free(ct);
        return -1;
    }
    ct->opts.transport = t;
    return creds_provider_new(&container_ops, ct, "container", opts, ret, err);
}

int
creds_provider_container(const struct creds_options *opts, struct creds_provider **ret,
    struct err *err)
{
    return creds_provider_container_with(opts, NULL, ret, err);
}
