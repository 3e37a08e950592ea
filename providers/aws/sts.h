/*
 * sts: the three AWS STS calls driftsync makes, over aws_call with the query
 * protocol (form body "Action=...&Version=2011-06-15&...", XML answers):
 * GetCallerIdentity (whoami), AssumeRole (reaching member accounts and
 * profile role_arn) and AssumeRoleWithWebIdentity (EKS/OIDC, sent unsigned).
 *
 * Credentials parsed from answers are owned struct creds, wiped on free; the
 * web identity token is wiped from the request body once sent. Errors name
 * the operation and the role, never a key, token or the response body.
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "daemon/err.h"

struct aws_client;
struct creds;
struct creds_options;
struct creds_provider;
struct http_transport;

struct sts_identity {
    char *account;  /* "111111111111" */
    char *arn;      /* "arn:aws:iam::111111111111:user/driftsync" */
    char *user_id;  /* "AIDA..." */
};
void sts_identity_clear(struct sts_identity *id);

struct sts_assume_role_params {
    const char *role_arn;        /* required */
    const char *session_name;    /* NULL = "driftsync-<unix time>" */
    const char *external_id;     /* AssumeRole only; may be NULL */
    int duration_s;              /* 0 = 3600 */
    const char *web_identity_token; /* AssumeRoleWithWebIdentity only (secret) */
};

/* An aws_client for STS in region (NULL: creds_sts_region rules) signing
 * with creds (borrowed, may be NULL for unsigned calls). t swaps the
 * transport (tests; NULL = libcurl). Free with aws_client_free. */
MUST_CHECK int sts_client_new(const struct creds_options *opts, const char *region,
    struct creds_provider *creds, const struct http_transport *t, struct aws_client **ret,
    struct err *err);

/* GetCallerIdentity; fills *ret (release with sts_identity_clear). */
MUST_CHECK int sts_get_caller_identity(struct aws_client *c, struct sts_identity *ret,
    struct err *err);
/* AssumeRole; *ret (caller frees with creds_free) has source "assume-role ARN". */
MUST_CHECK int sts_assume_role(struct aws_client *c, const struct sts_assume_role_params *p,
    time_t now, struct creds **ret, struct err *err);
/* AssumeRoleWithWebIdentity (unsigned); *ret has source "web-identity ARN". */
MUST_CHECK int sts_assume_role_with_web_identity(struct aws_client *c,
    const struct sts_assume_role_params *p, time_t now, struct creds **ret, struct err *err);

/* Building blocks, exposed for tests. */
/* Form body for op ("AssumeRole", ...) with p's parameters; caller wipes and
 * frees (it may hold the web identity token). */
MUST_CHECK int sts_build_body(const char *op, const struct sts_assume_role_params *p, time_t now,
    char **ret, struct err *err);
/* Parses <OP>Response/<OP>Result/Credentials. */
MUST_CHECK int sts_parse_credentials(const char *op, const char *xml, size_t len,
    const char *source, struct creds **ret, struct err *err);
MUST_CHECK int sts_parse_caller_identity(const char *xml, size_t len, struct sts_identity *ret,
    struct err *err);
