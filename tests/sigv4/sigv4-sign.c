/*
 * sigv4-sign: a test tool (not part of the product) that signs requests with
 * driftsync's SigV4 code, speaking the same JSON-lines protocol as
 * shared/tools/sigv4-oracle's SIGN mode so tests/sigv4/differential.py can
 * feed both the same input and compare.
 *
 * Input, one JSON object per line: id, method, url ("https://host/path?q"),
 * headers ([[name, value], ...] or {name: value}), body | body_b64, region,
 * service, access_key, secret_key, token, time ("20150830T123600Z"),
 * sign_body, presign, expires, plus our own omit_session_token and
 * no_normalize_path. The URL's path and query go to the signer verbatim, as
 * the wire path and query.
 *
 * Output, one JSON object per line in input order: id, canonical_request,
 * string_to_sign, signature, authorization (null when presigning),
 * signed_headers, credential_scope, presigned_query, content_sha256,
 * added_headers (lower-case name -> value); or {id, error}. Exit status 0
 * when every line signed, 2 when some line failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "daemon/err.h"
#include "providers/aws/sigv4.h"

#define MAX_HEADERS 256

struct line_ctx {
    struct sigv4_header headers[MAX_HEADERS];
    size_t nheaders;
    char *path;
    char *query;
    unsigned char *body;
    size_t body_len;
};

static int
fail(char *msg, size_t cap, const char *text)
{
    snprintf(msg, cap, "%s", text);
    return -1;
}

static int
parse_time(const char *s, time_t *ret)
{
    struct tm tm;
    int n = 0;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL || strlen(s) != 16 ||
        sscanf(s, "%4d%2d%2dT%2d%2d%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 16)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ret = timegm(&tm);
    return 0;
}

static int
decode_b64(const char *s, unsigned char **ret, size_t *ret_len)
{
    size_t len = strlen(s), pad = 0;
    unsigned char *out;
    int n;

    if (len % 4 != 0)
        return -1;
    out = malloc(len / 4 * 3 + 1);
    if (out == NULL)
        return -1;
    if (len == 0) {
        *ret = out;
        *ret_len = 0;
        return 0;
    }
    n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    if (n < 0) {
        free(out);
        return -1;
    }
    if (s[len - 1] == '=')
        pad++;
    if (len > 1 && s[len - 2] == '=')
        pad++;
    *ret = out;
    *ret_len = (size_t)n - pad;
    return 0;
}

/* Splits "scheme://host/path?query" into path and query copies. */
static int
split_url(const char *url, struct line_ctx *lc)
{
    const char *p = strstr(url, "://"), *q;

    if (p == NULL)
        return -1;
    p += 3;
    p += strcspn(p, "/?");
    q = strchr(p, '?');
    lc->path = q != NULL ? strndup(p, (size_t)(q - p)) : strdup(p);
    lc->query = q != NULL ? strdup(q + 1) : NULL;
    return lc->path == NULL || (q != NULL && lc->query == NULL) ? -1 : 0;
}

static int
load_headers(json_t *h, struct line_ctx *lc)
{
    size_t i;
    json_t *v;
    const char *k;

    if (h == NULL)
        return 0;
    if (json_is_array(h)) {
        json_array_foreach(h, i, v)
        {
            if (lc->nheaders == MAX_HEADERS || json_array_size(v) != 2)
                return -1;
            lc->headers[lc->nheaders].name = json_string_value(json_array_get(v, 0));
            lc->headers[lc->nheaders].value = json_string_value(json_array_get(v, 1));
            lc->nheaders++;
        }
        return 0;
    }
    if (json_is_object(h)) {
        json_object_foreach(h, k, v)
        {
            if (lc->nheaders == MAX_HEADERS)
                return -1;
            lc->headers[lc->nheaders].name = k;
            lc->headers[lc->nheaders].value = json_string_value(v);
            lc->nheaders++;
        }
        return 0;
    }
    return -1;
}

static json_t *
result_json(const struct sigv4_result *res)
{
    json_t *o = json_object(), *added = json_object();
    size_t i;

    json_object_set_new(o, "canonical_request", json_string(res->canonical_request));
    json_object_set_new(o, "string_to_sign", json_string(res->string_to_sign));
    json_object_set_new(o, "signature", json_string(res->signature));
    json_object_set_new(o, "authorization",
                        res->authorization ? json_string(res->authorization) : json_null());
    json_object_set_new(o, "signed_headers", json_string(res->signed_headers));
    json_object_set_new(o, "credential_scope", json_string(res->credential_scope));
    json_object_set_new(o, "timestamp", json_string(res->amz_date));
    json_object_set_new(o, "presigned_query",
                        res->presigned_query ? json_string(res->presigned_query) : json_null());
    json_object_set_new(o, "content_sha256",
                        res->content_sha256 ? json_string(res->content_sha256) : json_null());
    for (i = 0; i < res->nadded; i++) {
        char lname[64];
        size_t j;

        snprintf(lname, sizeof(lname), "%s", res->added[i].name);
        for (j = 0; lname[j] != '\0'; j++) {
            if (lname[j] >= 'A' && lname[j] <= 'Z')
                lname[j] = (char)(lname[j] - 'A' + 'a');
        }
        json_object_set_new(added, lname, json_string(res->added[i].value));
    }
    json_object_set_new(o, "added_headers", added);
    return o;
}

static json_t *
sign_line(json_t *in, struct sigv4_key_cache *cache, char *msg, size_t cap)
{
    struct line_ctx lc;
    struct sigv4_request req;
    struct sigv4_credentials creds;
    struct sigv4_params params;
    struct sigv4_result res;
    struct err err = {0};
    json_t *out = NULL, *v;
    const char *b64, *body;
    int rc;

    memset(&lc, 0, sizeof(lc));
    memset(&req, 0, sizeof(req));
    memset(&creds, 0, sizeof(creds));
    memset(&params, 0, sizeof(params));
    memset(&res, 0, sizeof(res));
    if (json_string_value(json_object_get(in, "url")) == NULL ||
        split_url(json_string_value(json_object_get(in, "url")), &lc) < 0) {
        fail(msg, cap, "missing or bad url");
        goto out;
    }
    if (load_headers(json_object_get(in, "headers"), &lc) < 0) {
        fail(msg, cap, "bad headers");
        goto out;
    }
    b64 = json_string_value(json_object_get(in, "body_b64"));
    body = json_string_value(json_object_get(in, "body"));
    if (b64 != NULL) {
        if (decode_b64(b64, &lc.body, &lc.body_len) < 0) {
            fail(msg, cap, "bad body_b64");
            goto out;
        }
    } else if (body != NULL) {
        lc.body_len = json_string_length(json_object_get(in, "body"));
        lc.body = malloc(lc.body_len + 1);
        if (lc.body == NULL) {
            fail(msg, cap, "out of memory");
            goto out;
        }
        memcpy(lc.body, body, lc.body_len);
    }
    req.method = json_string_value(json_object_get(in, "method"));
    req.path = lc.path;
    req.query = lc.query;
    req.headers = lc.headers;
    req.nheaders = lc.nheaders;
    req.body = lc.body;
    req.body_len = lc.body_len;
    creds.access_key_id = json_string_value(json_object_get(in, "access_key"));
    creds.secret_access_key = json_string_value(json_object_get(in, "secret_key"));
    creds.session_token = json_string_value(json_object_get(in, "token"));
    params.region = json_string_value(json_object_get(in, "region"));
    params.service = json_string_value(json_object_get(in, "service"));
    if (parse_time(json_string_value(json_object_get(in, "time")), &params.now) < 0) {
        fail(msg, cap, "time is not yyyymmddThhmmssZ");
        goto out;
    }
    params.sign_body = json_is_true(json_object_get(in, "sign_body"));
    params.omit_session_token = json_is_true(json_object_get(in, "omit_session_token"));
    params.no_normalize_path = json_is_true(json_object_get(in, "no_normalize_path"));
    v = json_object_get(in, "expires");
    params.expires_s = v != NULL ? (long)json_integer_value(v) : 3600;

    if (json_is_true(json_object_get(in, "presign")))
        rc = sigv4_presign(&req, &creds, &params, cache, &res, &err);
    else
        rc = sigv4_sign(&req, &creds, &params, cache, &res, &err);
    if (rc < 0) {
        snprintf(msg, cap, "sigv4: %s", err.msg);
        goto out;
    }
    out = result_json(&res);
out:
    sigv4_result_clear(&res);
    free(lc.path);
    free(lc.query);
    free(lc.body);
    return out;
}

int
main(void)
{
    struct sigv4_key_cache *cache = sigv4_key_cache_new();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = 0;

    if (cache == NULL)
        return 2;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        json_error_t jerr;
        json_t *in, *out = NULL, *id = NULL;
        char msg[ERR_MSG_MAX + 64] = "";
        char *text;

        if (n == 0 || line[0] == '\n' || line[0] == '#')
            continue;
        in = json_loadb(line, (size_t)n, 0, &jerr);
        if (in != NULL) {
            id = json_object_get(in, "id");
            out = sign_line(in, cache, msg, sizeof(msg));
        } else {
            snprintf(msg, sizeof(msg), "bad JSON: %s", jerr.text);
        }
        if (out == NULL) {
            out = json_object();
            json_object_set_new(out, "error", json_string(msg));
            status = 2;
        }
        json_object_set(out, "id", id != NULL ? id : json_null());
        text = json_dumps(out, JSON_COMPACT);
        if (text != NULL) {
            fputs(text, stdout);
            fputc('\n', stdout);
            free(text);
        } else {
            status = 2;
        }
        json_decref(out);
        json_decref(in);
    }
    free(line);
    sigv4_key_cache_free(cache);
    return status;
}
