/*
 * http.c: the only file that includes <curl/curl.h>. One request in, status,
 * lower-cased headers and a size-capped body out; every CURLcode becomes a
 * struct err here and nowhere else.
 *
 * Threads: one http_client (one easy handle, reused so keep-alive works) per
 * thread. A process-wide CURLSH shares the DNS cache between clients, guarded
 * by one pthread mutex per curl lock class; it is created once (pthread_once)
 * and lives as long as the process. Connections are not shared: libcurl does
 * not support sharing its connection cache between concurrent threads
 * (CURLSHOPT_SHARE(3), CURL_LOCK_DATA_CONNECT), and doing so here mixed up
 * answers under load (a Select row or a staged finding arriving cut or
 * spliced at 100k-500k resources, once in a few dozen runs). Each client
 * keeps its own connection alive instead.
 *
 * Safety rules enforced here, whatever the caller asks: TLS peer and host
 * verification always on (CA file from http_options.ca_bundle, else
 * AWS_CA_BUNDLE, else the system store); only http and https; plain http
 * only to loopback; no redirects followed; the body is capped and the
 * number and size of headers bounded. Error messages name the URL's host
 * only: never its query (presigned signatures) nor any request header.
 */
#include "providers/aws/http.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "version.h"

#define HTTP_DEFAULT_CONNECT_MS 5000L
#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_MAX_HEADERS        128
#define HTTP_MAX_HEADER_BYTES   ((size_t)64 * 1024)

struct http_client {
    CURL *easy;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_body;
    char *ca_bundle;  /* owned; NULL = system store */
    char *user_agent; /* owned */
    struct http_transport transport;
    int has_transport;
};

/* ---- process-wide curl state ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static CURLSH *curl_share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
    (void)h;
    (void)access;
    (void)ctx;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&share_locks[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
    (void)h;
    (void)ctx;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&share_locks[data]);
}

static void
curl_setup_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (curl_init_rc != CURLE_OK)
        return;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    curl_share = curl_share_init();
    if (curl_share == NULL)
        return; /* clients then work unshared: slower, still correct */
    if (curl_share_setopt(curl_share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(curl_share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(curl_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        curl_share_cleanup(curl_share);
        curl_share = NULL;
    }
}

/* ---- URL helpers ---- */

/* Copies the host of url (no userinfo, port, path or query) into out. */
static void
url_host(const char *url, char *out, size_t outsz)
{
    const char *p = strstr(url, "://");
    const char *end, *at;
    size_t n;

    out[0] = '\0';
    if (p == NULL)
        return;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL)
        p = at + 1;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        /* "[v6]" may only be followed by ":port": "[::1].evil.test" is no host */
        if (rb == NULL || (rb + 1 != end && rb[1] != ':'))
            return;
        end = rb + 1;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon != NULL)
            end = colon;
    }
    n = (size_t)(end - p);
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int
host_is_loopback(const char *host)
{
    struct in_addr a4;

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (strcmp(host, "[::1]") == 0)
        return 1;
    /* inet_pton accepts only the strict dotted quad, so "127.0.0.1.evil.com" fails */
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return 0;
}

/* The link-local addresses where AWS serves credentials over plain http (the
 * SDKs' allow-list): IMDS v4/v6, the ECS agent, EKS Pod Identity. Not
 * routable, so no one on the path can read or forge them. */
static int
host_is_metadata(const char *host)
{
    static const char *const hosts[] = {"169.254.169.254", "169.254.170.2", "169.254.170.23",
                                        "[fd00:ec2::254]", "[fd00:ec2::23]"};

    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        if (strcasecmp(host, hosts[i]) == 0)
            return 1;
    }
    return 0;
}

int
http_url_allowed_for_send(const char *url)
{
    char host[256];

    if (http_url_allowed(url))
        return 1;
    if (url == NULL || strncasecmp(url, "http://", 7) != 0)
        return 0;
    url_host(url, host, sizeof(host));
    return host_is_metadata(host);
}

int
http_url_allowed(const char *url)
{
    char host[256];

    if (url == NULL)
        return 0;
    if (strncasecmp(url, "https://", 8) == 0)
        return url[8] != '\0';
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    url_host(url, host, sizeof(host));
    return host_is_loopback(host);
}

/* ---- responses ---- */

void
http_response_init(struct http_response *resp, size_t max_body)
{
    resp->status = 0;
    resp->headers = NULL;
    resp->nheaders = 0;
    buf_init(&resp->body, max_body);
}

static void
free_headers(struct http_response *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    resp->headers = NULL;
    resp->nheaders = 0;
}

void
http_response_clear(struct http_response *resp)
{
    if (resp == NULL)
        return;
    free_headers(resp);
    buf_clear(&resp->body);
    resp->status = 0;
}

int
http_response_add_header(struct http_response *resp, const char *name, const char *value,
                         struct err *err)
{
    struct http_header *nh;
    char *n, *v;

    if (resp->nheaders >= HTTP_MAX_HEADERS)
        return err_set(err, ERR_REMOTE, "more than %d response headers", HTTP_MAX_HEADERS);
    n = strdup(name);
    v = strdup(value);
    nh = realloc(resp->headers, (resp->nheaders + 1) * sizeof(*nh));
    if (n == NULL || v == NULL || nh == NULL) {
        free(n);
        free(v);
        if (nh != NULL)
            resp->headers = nh;
        return err_set(err, ERR_INTERNAL, "out of memory storing a response header");
    }
    for (char *p = n; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    resp->headers = nh;
    nh[resp->nheaders].name = n;
    nh[resp->nheaders].value = v;
    resp->nheaders++;
    return 0;
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    }
    return NULL;
}

/* ---- client ---- */

int
http_client_new(const struct http_options *opts, struct http_client **ret, struct err *err)
{
    struct http_client *c = NULL;
    const char *ca = NULL;
    const char *ca_origin = "http_options.ca_bundle";
    int rc = -1;

    pthread_once(&curl_once, curl_setup_once);
    if (curl_init_rc != CURLE_OK)
        return err_set(err, ERR_INTERNAL, "libcurl initialisation failed: %s",
                       curl_easy_strerror(curl_init_rc));
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory creating an HTTP client");
    c->connect_timeout_ms = HTTP_DEFAULT_CONNECT_MS;
    c->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
    c->max_body = BUF_DEFAULT_MAX;
    if (opts != NULL) {
        if (opts->connect_timeout_ms < 0 || opts->timeout_ms < 0) {
            err_set(err, ERR_CONFIG, "HTTP timeouts must not be negative");
            goto out;
        }
        if (opts->connect_timeout_ms > 0)
            c->connect_timeout_ms = opts->connect_timeout_ms;
        if (opts->timeout_ms > 0)
            c->timeout_ms = opts->timeout_ms;
        if (opts->max_body > 0)
            c->max_body = opts->max_body;
        ca = opts->ca_bundle;
    }
    if (ca == NULL || ca[0] == '\0') {
        ca = getenv("AWS_CA_BUNDLE");
        ca_origin = "AWS_CA_BUNDLE";
    }
    if (ca != NULL && ca[0] != '\0') {
        if (access(ca, R_OK) != 0) {
            err_set(err, ERR_CONFIG, "CA bundle '%s' (from %s) is not readable: %s", ca, ca_origin,
                    strerror(errno));
            goto out;
        }
        c->ca_bundle = strdup(ca);
        if (c->ca_bundle == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory creating an HTTP client");
            goto out;
        }
    }
    if (opts != NULL && opts->user_agent != NULL)
        c->user_agent = strdup(opts->user_agent);
    else
        c->user_agent = strdup("driftsync/" DRIFTSYNC_VERSION);
    if (c->user_agent == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory creating an HTTP client");
        goto out;
    }
    c->easy = curl_easy_init();
    if (c->easy == NULL) {
        err_set(err, ERR_INTERNAL, "curl_easy_init failed");
        goto out;
    }
    *ret = c;
    c = NULL;
    rc = 0;
out:
    http_client_free(c);
    return rc;
}

void
http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    free(c->ca_bundle);
    free(c->user_agent);
    free(c);
}

void
http_client_set_transport(struct http_client *c, const struct http_transport *t)
{
    if (t == NULL || t->send == NULL) {
        c->has_transport = 0;
        return;
    }
    c->transport = *t;
    c->has_transport = 1;
}

/* ---- the libcurl transport ---- */

struct xfer {
    CURL *easy;
    struct http_response *resp;
    struct err *err;
    size_t header_bytes;
    int body_over_cap;
    int header_fail;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    curl_off_t announced = -1;
    struct err tmp;

    /* the first bytes of a body: one allocation for the length announced,
     * and a length past the cap refused before anything is buffered (a
     * decoded body may be longer than announced: it still grows) */
    if (x->resp->body.len == 0 &&
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
        announced > 0 &&
        buf_presize(&x->resp->body,
            (uint64_t)announced < SIZE_MAX ? (size_t)announced : SIZE_MAX, &tmp) < 0) {
        x->body_over_cap = tmp.kind == ERR_REMOTE;
        return 0;
    }
    if (buf_append(&x->resp->body, ptr, n, &tmp) < 0) {
        x->body_over_cap = tmp.kind == ERR_REMOTE;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    const char *colon, *end = ptr + n;
    char *name = NULL, *value = NULL;
    struct err tmp;

    x->header_bytes += n;
    if (x->header_bytes > HTTP_MAX_HEADER_BYTES) {
        x->header_fail = 1;
        return 0;
    }
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue): forget the previous headers */
        free_headers(x->resp);
        return n;
    }
    while (end > ptr && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    colon = memchr(ptr, ':', (size_t)(end - ptr));
    if (colon == NULL || colon == ptr)
        return n; /* the blank line ending the headers, or junk we ignore */
    {
        const char *v = colon + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        name = strndup(ptr, (size_t)(colon - ptr));
        value = strndup(v, (size_t)(end - v));
    }
    if (name == NULL || value == NULL || http_response_add_header(x->resp, name, value, &tmp) < 0) {
        x->header_fail = 1;
        free(name);
        free(value);
        return 0;
    }
    free(name);
    free(value);
    return n;
}

static enum err_kind
kind_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return ERR_TRANSIENT;
    case CURLE_OUT_OF_MEMORY:
        return ERR_INTERNAL;
    case CURLE_SSL_CACERT_BADFILE:
        return ERR_CONFIG;
    default:
        return ERR_REMOTE;
    }
}

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if ((crc = curl_easy_setopt(easy, opt, val)) != CURLE_OK)                                  \
            goto setopt_failed;                                                                    \
    } while (0)

static int
curl_send(struct http_client *c, const struct http_request *req, struct http_response *resp,
          struct err *err)
{
    CURL *easy = c->easy;
    struct curl_slist *hdrs = NULL, *tmp;
    char errbuf[CURL_ERROR_SIZE];
    char host[256];
    char *line = NULL;
    struct xfer x = {.easy = easy, .resp = resp, .err = err};
    CURLcode crc = CURLE_OK;
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms;
    const char *method = req->method ? req->method : "GET";
    int rc = -1;

    url_host(req->url, host, sizeof(host));
    errbuf[0] = '\0';
    /* reset options between requests; live connections survive the reset */
    curl_easy_reset(easy);
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *n = req->headers[i].name, *v = req->headers[i].value;
        size_t len = strlen(n) + strlen(v) + 3;
        if (strpbrk(n, "\r\n:") != NULL || strpbrk(v, "\r\n") != NULL) {
            err_set(err, ERR_INTERNAL, "request header '%.40s' contains a line break or colon", n);
            goto out;
        }
        line = malloc(len);
        if (line == NULL)
            goto oom;
        /* "Name;" sends a header with an empty value; "Name: v" otherwise */
        if (v[0] == '\0')
            snprintf(line, len, "%s;", n);
        else
            snprintf(line, len, "%s: %s", n, v);
        tmp = curl_slist_append(hdrs, line);
        free(line);
        line = NULL;
        if (tmp == NULL)
            goto oom;
        hdrs = tmp;
    }
    /* no "Expect: 100-continue" round trip for larger bodies */
    tmp = curl_slist_append(hdrs, "Expect:");
    if (tmp == NULL)
        goto oom;
    hdrs = tmp;

    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_bundle != NULL)
        SETOPT(CURLOPT_CAINFO, c->ca_bundle);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, timeout);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_USERAGENT, c->user_agent);
    SETOPT(CURLOPT_HTTPHEADER, hdrs);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &x);
    if (curl_share != NULL)
        SETOPT(CURLOPT_SHARE, curl_share);
    if (strcmp(method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(CURLOPT_POSTFIELDS, req->body_len > 0 ? (const char *)req->body : "");
    }

    crc = curl_easy_perform(easy);
    if (crc != CURLE_OK) {
        char *q;
        if (x.body_over_cap) {
            err_set(err, ERR_REMOTE,
                    "response body from %s exceeds the %zu-byte limit (http max_body)", host,
                    resp->body.max);
            goto out;
        }
        if (x.header_fail) {
            err_set(err, ERR_REMOTE,
                    "response headers from %s exceed the limits (%d headers, %zu bytes)", host,
                    HTTP_MAX_HEADERS, HTTP_MAX_HEADER_BYTES);
            goto out;
        }
        /* curl's text names hosts, not queries; cut defensively at any '?' */
        q = strchr(errbuf, '?');
        if (q != NULL)
            *q = '\0';
        err_set(err, kind_of(crc), "HTTP %s to %s failed: %s", method, host,
                errbuf[0] ? errbuf : curl_easy_strerror(crc));
        goto out;
    }
    crc = curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
    if (crc != CURLE_OK || resp->status < 100 || resp->status > 599) {
        err_set(err, ERR_REMOTE, "HTTP %s to %s: no valid status in the answer", method, host);
        goto out;
    }
    rc = 0;
    goto out;

setopt_failed:
    err_set(err, crc == CURLE_OUT_OF_MEMORY ? ERR_INTERNAL : ERR_CONFIG,
            "libcurl refused an option for the request to %s: %s", host, curl_easy_strerror(crc));
    goto out;
oom:
    err_set(err, ERR_INTERNAL, "out of memory building the request to %s", host);
out:
    /* the easy handle must not keep pointers into this frame */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    return rc;
}

int
http_send(struct http_client *c, const struct http_request *req, struct http_response *resp,
          struct err *err)
{
    char host[256];
    int rc;

    http_response_init(resp, c->max_body);
    if (req->url == NULL || !http_url_allowed_for_send(req->url)) {
        if (req->url != NULL)
            url_host(req->url, host, sizeof(host));
        return err_set(
            err, ERR_CONFIG,
            "refusing to send to '%s': only https:// URLs (or http:// to a loopback host or "
            "an AWS metadata address) are allowed",
            req->url ? host : "(null)");
    }
    if (c->has_transport)
        rc = c->transport.send(c->transport.ctx, req, resp, err);
    else
        rc = curl_send(c, req, resp, err);
    if (rc < 0)
        http_response_clear(resp);
    return rc;
}
