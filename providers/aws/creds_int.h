/*
 * creds_int.h: what the creds_*.c files share and the unit tests reach, but
 * other modules must not use: the provider struct itself, the constructor
 * every source calls, the shared-config parser, the credential_process
 * runner and constructors that take a swapped HTTP transport (the
 * aws-c-auth "function table for tests" habit). Nothing here is a stable
 * interface; code outside providers/aws/creds*.c and tests/unit/test_creds*
 * includes creds.h only.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "daemon/err.h"
#include "providers/aws/creds.h"

struct http_client;
struct http_request;
struct http_response;
struct http_transport;

/* Refresh this many seconds before expiry (SDKs use 5 to 15 minutes). */
#define CREDS_REFRESH_MARGIN_S 300
#define CREDS_CONFIG_MAX       ((size_t)1024 * 1024)
#define CREDS_PROCESS_OUT_MAX  ((size_t)64 * 1024)
#define CREDS_PROCESS_ERR_MAX  ((size_t)4 * 1024)
#define CREDS_PROCESS_TIMEOUT_MS 60000L
#define CREDS_TOKEN_FILE_MAX   ((size_t)64 * 1024)

struct creds_provider {
    const struct creds_provider_ops *ops;
    void *impl;                       /* owned by ops->destroy */
    char name[64];                    /* "environment", "profile", "chain" ... */
    pthread_mutex_t lock;             /* guards cached */
    struct creds *cached;             /* owned */
    time_t (*now)(void *ctx);
    void *now_ctx;
};

/* Allocates a provider around impl (ownership of impl moves to the provider
 * even on failure: ops->destroy is called). opts may be NULL (real clock). */
MUST_CHECK int creds_provider_new(const struct creds_provider_ops *ops, void *impl,
    const char *name, const struct creds_options *opts, struct creds_provider **ret,
    struct err *err);
/* Current time through the provider's clock. */
time_t creds_provider_now(const struct creds_provider *p);

/* Builds a struct creds from borrowed strings (copied); token may be NULL. */
MUST_CHECK int creds_make(const char *akid, const char *secret, const char *token,
    time_t expiration, const char *source, struct creds **ret, struct err *err);

/* Owned copy of the options: region copied, endpoints pointer borrowed. */
struct creds_opts_copy {
    char *region;
    const struct aws_endpoint_overrides *endpoints;
    long timeout_ms;
    time_t (*now)(void *ctx);
    void *now_ctx;
    const struct http_transport *transport; /* tests; NULL = libcurl */
    struct aws_stats *stats;                /* borrowed */
};
MUST_CHECK int creds_opts_copy_init(struct creds_opts_copy *dst, const struct creds_options *src,
    struct err *err);
void creds_opts_copy_clear(struct creds_opts_copy *o);
/* The options as a struct creds_options again (borrowing from o). */
void creds_opts_copy_view(const struct creds_opts_copy *o, struct creds_options *ret);
/* STS region: explicit, then AWS_REGION, AWS_DEFAULT_REGION, profile_region, "us-east-1". */
const char *creds_sts_region(const char *explicit_region, const char *profile_region);

/* snprintf that may cut the text short on purpose (labels, paths in messages). */
void creds_fmt(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Returns getenv(name) when set and non-empty, else NULL. */
const char *creds_getenv(const char *name);

/* Assume-role source; with owns_base the provider frees base (also on
 * failure). profile_region is the fallback STS region (may be NULL). */
MUST_CHECK int creds_assume_role_new(const struct creds_options *opts,
    struct creds_provider *base, int owns_base, const char *role_arn, const char *external_id,
    const char *session_name, int duration_s, const char *profile_region,
    struct creds_provider **ret, struct err *err);
/* Web identity source with explicit settings (profile web_identity_token_file). */
MUST_CHECK int creds_web_identity_new(const struct creds_options *opts, const char *token_file,
    const char *role_arn, const char *session_name, const char *profile_region,
    struct creds_provider **ret, struct err *err);

/* --- shared config files (creds_profile.c) --- */

struct creds_kv {
    char *key;   /* lower-cased */
    char *value; /* may hold secrets: wiped on free */
    char where[300]; /* "FILE:LINE" for error messages */
};

struct creds_profile_data {
    char *name;
    struct creds_kv *kv;
    size_t nkv;
};

struct creds_ini {
    struct creds_profile_data *profiles;
    size_t nprofiles;
};

/* Parses one file's text into profiles. is_config selects the config file
 * rules ("[profile x]" and "[default]" are profiles, other sections are
 * ignored) versus the credentials file ("[x]" is profile x). Merges into ini
 * (later values win), so call it for the config file first, then the
 * credentials file. Errors are "FILE:LINE: ..." (ERR_CONFIG). */
MUST_CHECK int creds_ini_parse(struct creds_ini *ini, const char *path, const char *text,
    size_t len, int is_config, struct err *err);
void creds_ini_clear(struct creds_ini *ini);
const struct creds_profile_data *creds_ini_profile(const struct creds_ini *ini, const char *name);
/* Borrowed value or NULL. */
const char *creds_ini_get(const struct creds_profile_data *p, const char *key);
const struct creds_kv *creds_ini_get_kv(const struct creds_profile_data *p, const char *key);

/* --- credential_process (creds_process.c) --- */

/* Runs `/bin/sh -c cmd` and parses its Version 1 JSON. what names the
 * command in errors ("credential_process in profile 'ops'"); timeout_ms 0 =
 * CREDS_PROCESS_TIMEOUT_MS. */
MUST_CHECK int creds_process_run(const char *cmd, const char *what, long timeout_ms, time_t now,
    struct creds **ret, struct err *err);
/* Parses the JSON a credential_process prints (exposed for tests). */
MUST_CHECK int creds_process_parse(const char *json, size_t len, const char *what, time_t now,
    struct creds **ret, struct err *err);
MUST_CHECK int creds_provider_process(const struct creds_options *opts, const char *cmd,
    const char *what, struct creds_provider **ret, struct err *err);

/* --- tests: sources with a swapped HTTP transport --- */
MUST_CHECK int creds_provider_container_with(const struct creds_options *opts,
    const struct http_transport *t, struct creds_provider **ret, struct err *err);
MUST_CHECK int creds_provider_imds_with(const struct creds_options *opts,
    const struct http_transport *t, struct creds_provider **ret, struct err *err);
/* Sends req (response body capped at 64 KiB) with one retry on network
 * errors and 5xx; on success *resp is filled (any status). */
MUST_CHECK int creds_http_send_retry(struct http_client *c, const struct http_request *req,
    struct http_response *resp, struct err *err);
/* Parses the JSON answer of the container endpoint or IMDS. */
MUST_CHECK int creds_parse_metadata_json(const char *json, size_t len, const char *source,
    struct creds **ret, struct err *err);
