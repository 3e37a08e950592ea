/*
 * creds: AWS credentials and the providers that find them, in the order
 * every AWS SDK uses (aws-c-auth's vtable design):
 *
 *   1. environment   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *   2. web identity  AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME)
 *   3. shared files  ~/.aws/credentials, ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
 *                    AWS_CONFIG_FILE, AWS_PROFILE): static keys, credential_process,
 *                    role_arn + source_profile / credential_source (chained AssumeRole)
 *   4. container     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (+ authorization token)
 *   5. IMDSv2        token PUT, then the role's credentials (AWS_EC2_METADATA_DISABLED,
 *                    AWS_EC2_METADATA_SERVICE_ENDPOINT)
 *
 * A provider hands out copies; temporary credentials are cached and
 * refreshed at least 5 minutes before they expire (thread-safe). Secret
 * strings are wiped before they are freed and never appear in errors:
 * failures name the source and the reason ("credential_process in profile
 * 'ops' exited 3: ...").
 */
#pragma once

#include <time.h>

#include "daemon/err.h"

struct aws_endpoint_overrides;
struct aws_stats;

struct creds {
    char *access_key_id;
    char *secret_access_key; /* secret */
    char *session_token;     /* secret; NULL for long-term keys */
    time_t expiration;       /* 0 = does not expire */
    char source[96];         /* "environment", "profile 'ops'", "assume-role arn:..." */
};

/* Deep copy; NULL on OOM (err set). */
struct creds *creds_dup(const struct creds *c, struct err *err);
/* Wipes the secrets and frees. NULL-safe. */
void creds_free(struct creds *c);

struct creds_provider;

struct creds_provider_ops {
    const char *name;
    /* Fetches fresh credentials (no caching here; the wrapper caches). */
    int (*fetch)(struct creds_provider *p, time_t now, struct creds **ret, struct err *err);
    void (*destroy)(struct creds_provider *p);
};

/* Settings shared by providers that call AWS or metadata endpoints. */
struct creds_options {
    const char *region;                        /* STS region; NULL = AWS_REGION / AWS_DEFAULT_REGION / profile / us-east-1 */
    const struct aws_endpoint_overrides *endpoints; /* borrowed; may be NULL */
    long timeout_ms;                           /* metadata endpoints; 0 = 1000 */
    time_t (*now)(void *ctx);                  /* tests; NULL = time() */
    void *now_ctx;
    struct aws_stats *stats;                   /* borrowed, shared; STS calls are counted
                                                  there (may be NULL) */
};

/* Returns a copy of currently valid credentials (caller frees with
 * creds_free), fetching or refreshing when there are none or they expire
 * within 5 minutes. */
MUST_CHECK int creds_provider_get(struct creds_provider *p, struct creds **ret, struct err *err);
/* Drops the cached credentials (after an ExpiredToken answer). */
void creds_provider_invalidate(struct creds_provider *p);
void creds_provider_free(struct creds_provider *p);
const char *creds_provider_name(const struct creds_provider *p);

/* The SDK default chain, reading the environment at call time. */
MUST_CHECK int creds_provider_default_chain(const struct creds_options *opts,
    struct creds_provider **ret, struct err *err);

/* Individual sources, for tests and explicit configuration. */
MUST_CHECK int creds_provider_environment(struct creds_provider **ret, struct err *err);
MUST_CHECK int creds_provider_profile(const struct creds_options *opts, const char *profile,
    struct creds_provider **ret, struct err *err);
MUST_CHECK int creds_provider_web_identity(const struct creds_options *opts,
    struct creds_provider **ret, struct err *err);
MUST_CHECK int creds_provider_container(const struct creds_options *opts,
    struct creds_provider **ret, struct err *err);
MUST_CHECK int creds_provider_imds(const struct creds_options *opts,
    struct creds_provider **ret, struct err *err);
/* Fixed credentials (copied; wiped on free), for tests of other modules and
 * explicit configuration. c->expiration is honoured: expired credentials
 * give ERR_AUTH. */
MUST_CHECK int creds_provider_static(const struct creds *c, struct creds_provider **ret,
    struct err *err);

/* Assumes role_arn with STS AssumeRole using credentials from base
 * (borrowed: must outlive the new provider). external_id and session_name
 * may be NULL (session name defaults to "driftsync-<time>"); duration_s 0 =
 * 3600. This is how the daemon reaches every account of an organisation. */
MUST_CHECK int creds_provider_assume_role(const struct creds_options *opts,
    struct creds_provider *base, const char *role_arn, const char *external_id,
    const char *session_name, int duration_s, struct creds_provider **ret, struct err *err);
