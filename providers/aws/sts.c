/*
 * sts.c: STS over the query protocol (see sts.h). Request bodies are built
 * here with RFC 3986 encoding (sigv4_uri_encode), answers read with
 * xml_find_text. Nothing here knows about credential chains: creds_sts.c
 * and creds_web_identity.c wrap these calls into providers.
 *
 * STS answers errors as <ErrorResponse><Error><Code>; aws_call already turns
 * those into struct err, so this file only adds which role was being
 * assumed. Credentials in an answer are copied straight into struct creds
 * and every temporary copy is wiped.
 */
#include "providers/aws/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/creds_int.h"
#include "providers/aws/sigv4.h"
#include "providers/aws/xml.h"

#define STS_VERSION "2011-06-15"
#define STS_BODY_MAX ((size_t)128 * 1024)

void
sts_identity_clear(struct sts_identity *id)
{
    if (id == NULL)
        return;
    free(id->account);
    free(id->arn);
    free(id->user_id);
    memset(id, 0, sizeof(*id));
}

int
sts_client_new(const struct creds_options *opts, const char *region,
    struct creds_provider *creds, const struct http_transport *t, struct aws_client **ret,
    struct err *err)
{
    struct aws_client_options o;
    struct aws_client *c = NULL;

    memset(&o, 0, sizeof(o));
    o.region = creds_sts_region(region != NULL ? region : (opts ? opts->region : NULL), NULL);
    o.creds = creds;
    o.endpoints = opts != NULL ? opts->endpoints : NULL;
    o.stats = opts != NULL ? opts->stats : NULL;
    if (opts != NULL && opts->now != NULL) {
        o.now = opts->now;
        o.clock_ctx = opts->now_ctx;
    }
    if (aws_client_new(&o, &c, err) < 0)
        return -1;
    if (t != NULL)
        aws_client_set_transport(c, t);
    *ret = c;
    return 0;
}

static int
put_param(struct buf *b, const char *key, const char *value, struct err *err)
{
    char *enc;
    int rc;

    enc = sigv4_uri_encode(value, strlen(value), 0, err);
    if (enc == NULL)
        return -1;
    rc = buf_printf(b, err, "&%s=%s", key, enc);
    util_free_secret(enc);
    return rc;
}

int
sts_build_body(const char *op, const struct sts_assume_role_params *p, time_t now, char **ret,
    struct err *err)
{
    struct buf b;
    char session[64];
    int rc = -1;

    buf_init(&b, STS_BODY_MAX);
    if (buf_printf(&b, err, "Action=%s&Version=%s", op, STS_VERSION) < 0)
        goto out;
    if (p != NULL) {
        if (p->role_arn == NULL || p->role_arn[0] == '\0') {
            err_set(err, ERR_CONFIG, "sts %s: role ARN is required", op);
            goto out;
        }
        if (p->duration_s != 0 && (p->duration_s < 900 || p->duration_s > 43200)) {
            err_set(err, ERR_CONFIG, "sts %s '%s': duration %d s is outside 900..43200", op,
                p->role_arn, p->duration_s);
            goto out;
        }
        if (p->session_name != NULL && p->session_name[0] != '\0')
            snprintf(session, sizeof(session), "%s", p->session_name);
        else
            snprintf(session, sizeof(session), "driftsync-%lld", (long long)now);
        if (put_param(&b, "RoleArn", p->role_arn, err) < 0 ||
            put_param(&b, "RoleSessionName", session, err) < 0 ||
            buf_printf(&b, err, "&DurationSeconds=%d", p->duration_s ? p->duration_s : 3600) < 0)
            goto out;
        if (p->external_id != NULL && put_param(&b, "ExternalId", p->external_id, err) < 0)
            goto out;
        if (p->web_identity_token != NULL &&
            put_param(&b, "WebIdentityToken", p->web_identity_token, err) < 0)
            goto out;
    }
    *ret = buf_steal(&b);
    if (*ret == NULL) {
        err_set(err, ERR_INTERNAL, "sts %s: out of memory", op);
        goto out;
    }
    rc = 0;
out:
    buf_clear_secure(&b);
    return rc;
}

/* One required element of an STS answer. */
static int
find(const char *xml, size_t len, const char *op, const char *path, char **ret, struct err *err)
{
    int found = xml_find_text(xml, len, path, ret, err);

    if (found < 0)
        return err_prefix(err, "sts %s answer", op);
    if (found == 0)
        return err_set(err, ERR_REMOTE, "sts %s answer has no <%s>", op, strrchr(path, '/') + 1);
    return 0;
}

int
sts_parse_credentials(const char *op, const char *xml, size_t len, const char *source,
    struct creds **ret, struct err *err)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
        "Expiration"};
    char *v[4] = {NULL, NULL, NULL, NULL};
    char path[160];
    time_t exp = 0;
    int rc = -1;

    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%sResponse/%sResult/Credentials/%s", op, op, names[i]);
        if (find(xml, len, op, path, &v[i], err) < 0)
            goto out;
    }
    if (util_time_parse(v[3], &exp) < 0) {
        err_set(err, ERR_REMOTE, "sts %s answer: Expiration '%s' is not an ISO 8601 time", op,
            v[3]);
        goto out;
    }
    rc = creds_make(v[0], v[1], v[2], exp, source, ret, err);
out:
    for (size_t i = 0; i < 4; i++)
        util_free_secret(v[i]);
    return rc;
}

int
sts_parse_caller_identity(const char *xml, size_t len, struct sts_identity *ret,
    struct err *err)
{
    struct sts_identity id;
    const char *op = "GetCallerIdentity";

    memset(&id, 0, sizeof(id));
    if (find(xml, len, op, "GetCallerIdentityResponse/GetCallerIdentityResult/Account",
            &id.account, err) < 0 ||
        find(xml, len, op, "GetCallerIdentityResponse/GetCallerIdentityResult/Arn", &id.arn,
            err) < 0 ||
        find(xml, len, op, "GetCallerIdentityResponse/GetCallerIdentityResult/UserId",
            &id.user_id, err) < 0) {
        sts_identity_clear(&id);
        return -1;
    }
    *ret = id;
    return 0;
}

static int
call(struct aws_client *c, const char *op, const char *body, int unsigned_request,
    struct aws_response *resp, struct err *err)
{
    struct aws_call ac;

    memset(&ac, 0, sizeof(ac));
    ac.service = "sts";
    ac.operation = op;
    ac.protocol = AWS_PROTO_QUERY;
    ac.body = body;
    ac.body_len = strlen(body);
    ac.unsigned_request = unsigned_request;
    return aws_call(c, &ac, resp, err);
}

int
sts_get_caller_identity(struct aws_client *c, struct sts_identity *ret, struct err *err)
{
    struct aws_response resp;
    char *body = NULL;
    int rc = -1;

    memset(&resp, 0, sizeof(resp));
    if (sts_build_body("GetCallerIdentity", NULL, 0, &body, err) < 0)
        return -1;
    if (call(c, "GetCallerIdentity", body, 0, &resp, err) < 0)
        goto out;
    rc = sts_parse_caller_identity(resp.body.data != NULL ? resp.body.data : "", resp.body.len,
        ret, err);
    aws_response_clear(&resp);
out:
    free(body);
    return rc;
}

static int
assume(struct aws_client *c, const char *op, const char *source_kind,
    const struct sts_assume_role_params *p, time_t now, struct creds **ret, struct err *err)
{
    struct aws_response resp;
    char source[96];
    char *body = NULL;
    int rc = -1, have_resp = 0;

    memset(&resp, 0, sizeof(resp));
    if (sts_build_body(op, p, now, &body, err) < 0)
        return -1;
    if (call(c, op, body, p->web_identity_token != NULL, &resp, err) < 0) {
        err_prefix(err, "%s '%s'", source_kind, p->role_arn);
        goto out;
    }
    have_resp = 1;
    snprintf(source, sizeof(source), "%s %s", source_kind, p->role_arn);
    if (sts_parse_credentials(op, resp.body.data != NULL ? resp.body.data : "", resp.body.len,
            source, ret, err) < 0)
        goto out;
    rc = 0;
out:
    if (have_resp) {
        /* the answer held the secret key and token */
        buf_clear_secure(&resp.body);
        aws_response_clear(&resp);
    }
    util_free_secret(body);
    return rc;
}

int
sts_assume_role(struct aws_client *c, const struct sts_assume_role_params *p, time_t now,
    struct creds **ret, struct err *err)
{
    struct sts_assume_role_params q = *p;

    q.web_identity_token = NULL;
    return assume(c, "AssumeRole", "assume-role", &q, now, ret, err);
}

int
sts_assume_role_with_web_identity(struct aws_client *c, const struct sts_assume_role_params *p,
    time_t now, struct creds **ret, struct err *err)
{
    struct sts_assume_role_params q = *p;

    if (q.web_identity_token == NULL || q.web_identity_token[0] == '\0')
        return err_set(err, ERR_CONFIG, "web-identity '%s': the token is empty",
            p->role_arn != NULL ? p->role_arn : "");
    q.external_id = NULL;
    return assume(c, "AssumeRoleWithWebIdentity", "web-identity", &q, now, ret, err);
}
