/*
 * creds_env.c: the environment source, first in the chain:
 * AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN (or
 * the older AWS_SECURITY_TOKEN) and AWS_CREDENTIAL_EXPIRATION (RFC 3339).
 *
 * Read at fetch time, not at construction, so a daemon started before the
 * variables were exported still sees them. Neither key set means "not
 * configured" (the chain moves on); only one of them set is a configuration
 * error, as in botocore (PartialCredentialsError), so a typo is not papered
 * over by a later source.
 */
#include "providers/aws/creds.h"

#include <stdlib.h>

#include "daemon/util.h"
#include "providers/aws/creds_int.h"

static int
env_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    const char *akid = creds_getenv("AWS_ACCESS_KEY_ID");
    const char *secret = creds_getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = creds_getenv("AWS_SESSION_TOKEN");
    const char *exp = creds_getenv("AWS_CREDENTIAL_EXPIRATION");
    time_t expiration = 0;

    (void)p;
    (void)now;
    if (akid == NULL && secret == NULL)
        return err_set(err, ERR_NOTFOUND, "AWS_ACCESS_KEY_ID not set");
    if (akid == NULL)
        return err_set(err, ERR_CONFIG,
            "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    if (secret == NULL)
        return err_set(err, ERR_CONFIG,
            "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    if (token == NULL)
        token = creds_getenv("AWS_SECURITY_TOKEN");
    if (exp != NULL && util_time_parse(exp, &expiration) < 0)
        return err_set(err, ERR_CONFIG,
            "environment: AWS_CREDENTIAL_EXPIRATION '%s' is not an RFC 3339 time", exp);
    return creds_make(akid, secret, token, expiration, "environment", ret, err);
}

static const struct creds_provider_ops env_ops = {
    .name = "environment",
    .fetch = env_fetch,
    .destroy = NULL,
};

int
creds_provider_environment(struct creds_provider **ret, struct err *err)
{
    return creds_provider_new(&env_ops, NULL, "environment", NULL, ret, err);
}
