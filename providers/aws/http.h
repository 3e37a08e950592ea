/*
 * http: the only module that includes <curl/curl.h>. Sends one request and
 * returns the status, headers and a size-capped body; maps every libcurl
 * failure to struct err (ERR_TRANSIENT for network trouble, with curl's own
 * error text and the URL's host, never its query).
 *
 * One struct http_client per thread (a curl easy handle kept for keep-alive
 * reuse; connections and DNS are shared across clients through a curl share
 * handle). TLS peer and host verification are always on; AWS_CA_BUNDLE names
 * an extra CA file. Plain http:// is accepted only for loopback hosts.
 * Tests may swap the transport (struct http_transport) for a fake.
 */
#pragma once

#include <stddef.h>

#include "daemon/buf.h"
#include "daemon/err.h"

struct http_header {
    char *name;
    char *value;
};

struct http_request {
    const char *method;
    const char *url;                     /* full URL, query included */
    const struct http_header *headers;   /* borrowed */
    size_t nheaders;
    const void *body;
    size_t body_len;
    long timeout_ms;                     /* total; 0 = the client's default */
};

struct http_response {
    long status;
    struct http_header *headers;         /* owned, names lower-cased */
    size_t nheaders;
    struct buf body;                     /* capped at the client's max_body */
};

struct http_options {
    long connect_timeout_ms;   /* default 5000 */
    long timeout_ms;           /* default 30000 */
    size_t max_body;           /* default 64 MiB */
    const char *ca_bundle;     /* NULL: AWS_CA_BUNDLE or the system store */
    const char *user_agent;    /* NULL: "driftsync/VERSION" */
};

struct http_client;

/* A transport sends one request; the default is libcurl. Tests install fakes. */
struct http_transport {
    int (*send)(void *ctx, const struct http_request *req, struct http_response *resp,
        struct err *err);
    void *ctx;
};

MUST_CHECK int http_client_new(const struct http_options *opts, struct http_client **ret,
    struct err *err);
void http_client_free(struct http_client *c);
void http_client_set_transport(struct http_client *c, const struct http_transport *t);

/* Sends req; on success (any HTTP status) fills *resp, which the caller
 * releases with http_response_clear. */
MUST_CHECK int http_send(struct http_client *c, const struct http_request *req,
    struct http_response *resp, struct err *err);

void http_response_init(struct http_response *resp, size_t max_body);
void http_response_clear(struct http_response *resp);
/* Appends a header (name lower-cased, both copied); for transports, fakes
 * included. ERR_INTERNAL on OOM. */
MUST_CHECK int http_response_add_header(struct http_response *resp, const char *name,
    const char *value, struct err *err);
/* Case-insensitive lookup; borrowed value or NULL. */
const char *http_response_header(const struct http_response *resp, const char *name);

/* True when the URL's scheme is https, or http to a loopback host
 * (127.0.0.0/8, ::1, localhost). */
int http_url_allowed(const char *url);
/* What http_send accepts: http_url_allowed, plus plain http to the AWS
 * credential endpoints on link-local addresses (169.254.169.254,
 * 169.254.170.2, 169.254.170.23, [fd00:ec2::254], [fd00:ec2::23]), which
 * IMDS and the container provider need. Endpoint overrides for API calls
 * stay with http_url_allowed. */
int http_url_allowed_for_send(const char *url);
