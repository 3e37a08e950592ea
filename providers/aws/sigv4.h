/*
 * sigv4: AWS Signature Version 4 for non-S3 services, as a pipeline of
 * stages tests can reach one by one (aws-c-auth habit): canonical request ->
 * string to sign -> signing key -> signature -> Authorization header or
 * presigned query.
 *
 * Pure: no I/O, no clock (the time is an argument), no logging. The secret
 * key is only ever copied into the signing-key cache, which is wiped on free.
 *
 * Path rule (non-S3): the request path is taken as it goes on the wire
 * (already percent-encoded by the caller), dot segments are removed, "//"
 * collapsed, then every byte but unreserved characters and '/' is
 * percent-encoded once more (so "%3A" on the wire signs as "%253A", as
 * botocore and AWS do). Query: each key and value is decoded, re-encoded with
 * RFC 3986 unreserved kept, and pairs sorted by key then value.
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "daemon/err.h"

struct sigv4_header {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;                 /* "GET", "POST" */
    const char *path;                   /* wire path, "/" when empty */
    const char *query;                  /* wire query without '?', NULL or "" for none */
    const struct sigv4_header *headers; /* as they will be sent; must include Host */
    size_t nheaders;
    const void *body;
    size_t body_len;
};

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
};

struct sigv4_params {
    const char *region;
    const char *service;       /* signing name: "config", "securityhub", "sts" */
    time_t now;
    int sign_body;             /* add and sign x-amz-content-sha256 */
    int omit_session_token;    /* add X-Amz-Security-Token after signing (rare services) */
    int no_normalize_path;     /* S3-style: keep the path as given (tests only) */
    long expires_s;            /* presigning only: X-Amz-Expires (1..604800) */
};

/* Everything a signed request needs, all owned by the struct. */
struct sigv4_result {
    char amz_date[17];         /* "20150830T123600Z" */
    char signature[65];        /* lower-case hex */
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;      /* "host;x-amz-date" */
    char *credential_scope;    /* "20150830/us-east-1/service/aws4_request" */
    char *authorization;       /* header value; NULL when presigning */
    char *content_sha256;      /* hex payload hash, set when sign_body */
    char *presigned_query;     /* full canonical query incl. X-Amz-Signature; presign only */
    /* headers the caller must add to the request (X-Amz-Date, X-Amz-Security-Token,
     * x-amz-content-sha256); names and values owned here */
    struct sigv4_header added[3];
    size_t nadded;
};

/* One cached signing key per (date, region, service); wiped on free. Not
 * thread-safe: one cache per thread, or none (NULL) to derive every time. */
struct sigv4_key_cache;
struct sigv4_key_cache *sigv4_key_cache_new(void);
void sigv4_key_cache_free(struct sigv4_key_cache *cache);

/* The cache holds this many keys; a new date replaces the key of the same
 * (secret, region, service), otherwise the least recently used one goes. */
#define SIGV4_KEY_CACHE_SLOTS 4
/* For tests and debug logs: keys derived so far, and keys held now. NULL-safe. */
size_t sigv4_key_cache_derivations(const struct sigv4_key_cache *cache);
size_t sigv4_key_cache_entries(const struct sigv4_key_cache *cache);

/* Header-based signing. On success fills *ret (release with sigv4_result_clear). */
MUST_CHECK int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
    const struct sigv4_params *params, struct sigv4_key_cache *cache, struct sigv4_result *ret,
    struct err *err);

/* Query-string (presigned URL) signing; ret->presigned_query is the query to send. */
MUST_CHECK int sigv4_presign(const struct sigv4_request *req,
    const struct sigv4_credentials *creds, const struct sigv4_params *params,
    struct sigv4_key_cache *cache, struct sigv4_result *ret, struct err *err);

void sigv4_result_clear(struct sigv4_result *res);

/* Behaviour notes for sigv4_sign / sigv4_presign (added with the
 * implementation; the contracts above are unchanged):
 * - Errors: ERR_CONFIG for a bad request, region, service, time or expiry
 *   (the message names the field and byte offset: "query: bad percent-escape
 *   at byte 6", "request has no Host header"), ERR_AUTH for unusable
 *   credentials, ERR_INTERNAL for NULL arguments, OOM or libcrypto failure.
 *   Messages never contain the secret key or the session token. *ret is only
 *   written on success; zero it before the call so sigv4_result_clear is safe
 *   either way.
 * - The request must not carry Authorization, X-Amz-Date or
 *   X-Amz-Security-Token (nor x-amz-content-sha256 with sign_body): the
 *   signer produces them. A caller's x-amz-content-sha256 (for instance
 *   "UNSIGNED-PAYLOAD") is otherwise signed and used as the payload hash.
 * - Never signed, like botocore: Connection, Expect, Keep-Alive,
 *   Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding,
 *   Upgrade, User-Agent, X-Amzn-Trace-Id (proxies may rewrite them).
 * - Header values are trimmed and runs of SP/HTAB/obs-fold become one space;
 *   any other control byte, or a CR/LF not followed by whitespace, is refused.
 * - The method is signed exactly as given; an empty session token counts as
 *   none. Presigning ignores sign_body and hashes the body as the payload.
 * - added[].name points at static strings; added[].value is owned and wiped
 *   by sigv4_result_clear, as are all the strings in the result. */

/* Stages, exposed for tests and for the emulator-free differential test. */
MUST_CHECK int sigv4_canonical_path(const char *wire_path, int normalize, char **ret,
    struct err *err);
MUST_CHECK int sigv4_canonical_query(const char *wire_query, char **ret, struct err *err);

/* RFC 3986 percent-encoding of every byte but A-Z a-z 0-9 - _ . ~ (and '/'
 * when keep_slash). Caller frees. Used by the HTTP layer to build wire paths
 * and queries too. */
char *sigv4_uri_encode(const char *s, size_t len, int keep_slash, struct err *err);
