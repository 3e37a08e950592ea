/*
 * creds_web_identity.c: AssumeRoleWithWebIdentity from a token file (EKS
 * IRSA, GitHub OIDC): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+
 * AWS_ROLE_SESSION_NAME) in the environment, or web_identity_token_file +
 * role_arn in a profile.
 *
 * The token file is re-read on every fetch because the kubelet rotates it.
 * The call is unsigned (it is how the caller gets credentials at all). The
 * token is a secret: wiped after use, never quoted in an error.
 */
#include "providers/aws/creds.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds_int.h"
#include "providers/aws/sts.h"

struct webid {
    struct creds_opts_copy opts;
    int from_env;        /* read the settings from the environment at fetch time */
    char *token_file;
    char *role_arn;
    char *session_name;
    char *profile_region;
};

static int
webid_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct webid *w = p->impl;
    const char *file = w->token_file, *arn = w->role_arn, *session = w->session_name;
    struct sts_assume_role_params q;
    struct creds_options o;
    struct aws_client *c = NULL;
    struct buf tok;
    int rc = -1;

    if (w->from_env) {
        file = creds_getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        arn = creds_getenv("AWS_ROLE_ARN");
        session = creds_getenv("AWS_ROLE_SESSION_NAME");
        if (file == NULL && arn == NULL)
            return err_set(err, ERR_NOTFOUND, "AWS_WEB_IDENTITY_TOKEN_FILE not set");
        if (file == NULL)
            return err_set(err, ERR_CONFIG,
                "web identity: AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");
        if (arn == NULL)
            return err_set(err, ERR_CONFIG,
                "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    }
    buf_init(&tok, CREDS_TOKEN_FILE_MAX);
    if (util_read_file(file, &tok, err) < 0) {
        err_prefix(err, "web identity token file");
        goto out;
    }
    while (tok.len > 0 && (tok.data[tok.len - 1] == '\n' || tok.data[tok.len - 1] == '\r' ||
                              tok.data[tok.len - 1] == ' '))
        tok.data[--tok.len] = '\0';
    if (tok.len == 0) {
        err_set(err, ERR_CONFIG, "web identity token file '%s' is empty", file);
        goto out;
    }
    creds_opts_copy_view(&w->opts, &o);
    if (sts_client_new(&o, creds_sts_region(w->opts.region, w->profile_region), NULL,
            w->opts.transport, &c, err) < 0) {
        err_prefix(err, "web-identity '%s'", arn);
        goto out;
    }
    memset(&q, 0, sizeof(q));
    q.role_arn = arn;
    q.session_name = session;
    q.web_identity_token = tok.data;
    rc = sts_assume_role_with_web_identity(c, &q, now, ret, err);
out:
    aws_client_free(c);
    buf_clear_secure(&tok);
    return rc;
}

static void
webid_destroy(struct creds_provider *p)
{
    struct webid *w = p->impl;

    if (w == NULL)
        return;
    creds_opts_copy_clear(&w->opts);
    free(w->token_file);
    free(w->role_arn);
    free(w->session_name);
    free(w->profile_region);
    free(w);
}

static const struct creds_provider_ops webid_ops = {
    .name = "web identity",
    .fetch = webid_fetch,
    .destroy = webid_destroy,
};

static int
webid_new(const struct creds_options *opts, int from_env, const char *token_file,
    const char *role_arn, const char *session_name, const char *profile_region,
    struct creds_provider **ret, struct err *err)
{
    struct webid *w;
    int failed = 0;

    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return err_set(err, ERR_INTERNAL, "web identity: out of memory");
    w->from_env = from_env;
#define DUP(field, s)                                                                              \
    do {                                                                                           \
        if ((s) != NULL && (w->field = strdup(s)) == NULL)                                         \
            failed = 1;                                                                            \
    } while (0)
    DUP(token_file, token_file);
    DUP(role_arn, role_arn);
    DUP(session_name, session_name);
    DUP(profile_region, profile_region);
#undef DUP
    if (failed || creds_opts_copy_init(&w->opts, opts, err) < 0) {
        struct creds_provider tmp;
        memset(&tmp, 0, sizeof(tmp));
        tmp.impl = w;
        webid_destroy(&tmp);
        return err_set(err, ERR_INTERNAL, "web identity: out of memory");
    }
    return creds_provider_new(&webid_ops, w, "web identity", opts, ret, err);
}

int
creds_web_identity_new(const struct creds_options *opts, const char *token_file,
    const char *role_arn, const char *session_name, const char *profile_region,
    struct creds_provider **ret, struct err *err)
{
    return webid_new(opts, 0, token_file, role_arn, session_name, profile_region, ret, err);
}

int
creds_provider_web_identity(const struct creds_options *opts, struct creds_provider **ret,
    struct err *err)
{
    return webid_new(opts, 1, NULL, NULL, NULL, NULL, ret, err);
}
