/*
 * creds_sts.c: the assume-role source. Each fetch takes fresh credentials
 * from the base provider (which caches on its own), opens an STS client
 * signing with them and calls AssumeRole. Used for profile role_arn chains
 * and for reaching member accounts; the wrapper in creds.c caches the
 * session credentials and renews them 5 minutes before they expire.
 *
 * The STS region comes from the options, then AWS_REGION /
 * AWS_DEFAULT_REGION, then the profile's region, then us-east-1 (regional
 * endpoints, as the SDKs default to now).
 */
#include "providers/aws/creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds_int.h"
#include "providers/aws/sts.h"

struct assume {
    struct creds_opts_copy opts;
    struct creds_provider *base;      /* borrowed, or owned when owns_base */
    int owns_base;
    char *role_arn;
    char *external_id;
    char *session_name;
    char *profile_region;
    int duration_s;
};

static int
assume_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct assume *a = p->impl;
    struct sts_assume_role_params q;
    struct creds_options o;
    struct aws_client *c = NULL;
    int rc;

    creds_opts_copy_view(&a->opts, &o);
    if (sts_client_new(&o, creds_sts_region(a->opts.region, a->profile_region), a->base,
            a->opts.transport, &c, err) < 0)
        return err_prefix(err, "assume-role '%s'", a->role_arn);
    memset(&q, 0, sizeof(q));
    q.role_arn = a->role_arn;
    q.external_id = a->external_id;
    q.session_name = a->session_name;
    q.duration_s = a->duration_s;
    rc = sts_assume_role(c, &q, now, ret, err);
    /* a base with no credentials makes this source fail, not "absent" */
    if (rc < 0 && err != NULL && err->kind == ERR_NOTFOUND)
        err->kind = ERR_AUTH;
    aws_client_free(c);
    return rc;
}

static void
assume_destroy(struct creds_provider *p)
{
    struct assume *a = p->impl;

    if (a == NULL)
        return;
    if (a->owns_base)
        creds_provider_free(a->base);
    creds_opts_copy_clear(&a->opts);
    free(a->role_arn);
    free(a->external_id);
    free(a->session_name);
    free(a->profile_region);
    free(a);
}

static const struct creds_provider_ops assume_ops = {
    .name = "assume-role",
    .fetch = assume_fetch,
    .destroy = assume_destroy,
};

static char *
dup_opt(const char *s, int *failed)
{
    char *d;

    if (s == NULL || s[0] == '\0')
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *failed = 1;
    return d;
}

int
creds_assume_role_new(const struct creds_options *opts, struct creds_provider *base,
    int owns_base, const char *role_arn, const char *external_id, const char *session_name,
    int duration_s, const char *profile_region, struct creds_provider **ret, struct err *err)
{
    struct assume *a;
    int failed = 0;

    if (role_arn == NULL || strncmp(role_arn, "arn:", 4) != 0) {
        if (owns_base)
            creds_provider_free(base);
        return err_set(err, ERR_CONFIG, "assume-role: '%s' is not a role ARN",
            role_arn != NULL ? role_arn : "");
    }
    if (duration_s != 0 && (duration_s < 900 || duration_s > 43200)) {
        if (owns_base)
            creds_provider_free(base);
        return err_set(err, ERR_CONFIG,
            "assume-role '%s': duration %d s is outside 900..43200", role_arn, duration_s);
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        if (owns_base)
            creds_provider_free(base);
        return err_set(err, ERR_INTERNAL, "assume-role: out of memory");
    }
    a->base = base;
    a->owns_base = owns_base;
    a->duration_s = duration_s;
    a->role_arn = dup_opt(role_arn, &failed);
    a->external_id = dup_opt(external_id, &failed);
    a->session_name = dup_opt(session_name, &failed);
    a->profile_region = dup_opt(profile_region, &failed);
    if (failed || creds_opts_copy_init(&a->opts, opts, err) < 0) {
        struct creds_provider tmp;
        memset(&tmp, 0, sizeof(tmp));
        tmp.impl = a;
        assume_destroy(&tmp);
        return err_set(err, ERR_INTERNAL, "assume-role: out of memory");
    }
    return creds_provider_new(&assume_ops, a, "assume-role", opts, ret, err);
}

int
creds_provider_assume_role(const struct creds_options *opts, struct creds_provider *base,
    const char *role_arn, const char *external_id, const char *session_name, int duration_s,
    struct creds_provider **ret, struct err *err)
{
    if (base == NULL)
        return err_set(err, ERR_CONFIG, "assume-role '%s': no base credentials",
            role_arn != NULL ? role_arn : "");
    return creds_assume_role_new(opts, base, 0, role_arn, external_id, session_name,
        duration_s, NULL, ret, err);
}
