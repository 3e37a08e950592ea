/*
 * creds.c: the provider object every credential source shares, its caching
 * wrapper, the static source and the chain (aws-c-auth's vtable design; see
 * creds.h for the order).
 *
 * The wrapper (creds_provider_get) owns the only cache: sources fetch fresh
 * credentials every time they are asked. A cached value is handed out until
 * it is within CREDS_REFRESH_MARGIN_S of expiring; if the refresh then fails
 * while the old credentials are still valid, the old ones are used (what the
 * SDKs do), so a brief STS or IMDS outage does not stop a sync. The mutex
 * makes one provider safe to share between worker threads.
 *
 * The chain tells "this source is not configured" (ERR_NOTFOUND: try the
 * next one, remember why) from "this source is configured and broken" (any
 * other kind: stop, as botocore does, so a failing credential_process is
 * never silently replaced by instance credentials).
 */
#include "providers/aws/creds.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/creds_int.h"

struct creds *
creds_dup(const struct creds *c, struct err *err)
{
    struct creds *d;

    d = calloc(1, sizeof(*d));
    if (d == NULL)
        goto oom;
    d->expiration = c->expiration;
    memcpy(d->source, c->source, sizeof(d->source));
    d->access_key_id = strdup(c->access_key_id != NULL ? c->access_key_id : "");
    d->secret_access_key = strdup(c->secret_access_key != NULL ? c->secret_access_key : "");
    if (c->session_token != NULL)
        d->session_token = strdup(c->session_token);
    if (d->access_key_id == NULL || d->secret_access_key == NULL ||
        (c->session_token != NULL && d->session_token == NULL))
        goto oom;
    return d;
oom:
    creds_free(d);
    err_set(err, ERR_INTERNAL, "credentials: out of memory");
    return NULL;
}

void
creds_free(struct creds *c)
{
    if (c == NULL)
        return;
    util_free_secret(c->access_key_id);
    util_free_secret(c->secret_access_key);
    util_free_secret(c->session_token);
    explicit_bzero(c, sizeof(*c));
    free(c);
}

int
creds_make(const char *akid, const char *secret, const char *token, time_t expiration,
    const char *source, struct creds **ret, struct err *err)
{
    struct creds tmp;
    struct creds *c;

    memset(&tmp, 0, sizeof(tmp));
    /* creds_dup only reads: the casts borrow the caller's strings */
    tmp.access_key_id = (char *)(uintptr_t)akid;
    tmp.secret_access_key = (char *)(uintptr_t)secret;
    tmp.session_token = (char *)(uintptr_t)token;
    tmp.expiration = expiration;
    snprintf(tmp.source, sizeof(tmp.source), "%s", source);
    c = creds_dup(&tmp, err);
    if (c == NULL)
        return -1;
    *ret = c;
    return 0;
}

static time_t
real_now(void *ctx)
{
    (void)ctx;
    return time(NULL);
}

int
creds_provider_new(const struct creds_provider_ops *ops, void *impl, const char *name,
    const struct creds_options *opts, struct creds_provider **ret, struct err *err)
{
    struct creds_provider *p;

    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        if (ops->destroy != NULL) {
            struct creds_provider tmp;
            memset(&tmp, 0, sizeof(tmp));
            tmp.impl = impl;
            ops->destroy(&tmp);
        }
        return err_set(err, ERR_INTERNAL, "credentials: out of memory");
    }
    p->ops = ops;
    p->impl = impl;
    snprintf(p->name, sizeof(p->name), "%s", name);
    pthread_mutex_init(&p->lock, NULL);
    p->now = real_now;
    if (opts != NULL && opts->now != NULL) {
        p->now = opts->now;
        p->now_ctx = opts->now_ctx;
    }
    *ret = p;
    return 0;
}

time_t
creds_provider_now(const struct creds_provider *p)
{
    return p->now(p->now_ctx);
}

static int
usable(const struct creds *c, time_t now)
{
    return c->expiration == 0 || c->expiration - now > CREDS_REFRESH_MARGIN_S;
}

int
creds_provider_get(struct creds_provider *p, struct creds **ret, struct err *err)
{
    struct creds *fresh = NULL, *out = NULL;
    struct err ferr;
    time_t now;
    int rc = -1;

    err_clear(&ferr);
    pthread_mutex_lock(&p->lock);
    now = p->now(p->now_ctx);
    if (p->cached != NULL && usable(p->cached, now)) {
        out = creds_dup(p->cached, err);
        goto done;
    }
    if (p->ops->fetch(p, now, &fresh, &ferr) < 0) {
        if (p->cached != NULL && p->cached->expiration > now) {
            /* refresh failed, old credentials still valid for a while */
            out = creds_dup(p->cached, err);
            goto done;
        }
        if (err != NULL)
            *err = ferr;
        goto out;
    }
    if (fresh->expiration != 0 && fresh->expiration <= now) {
        char when[21];
        util_time_rfc3339(fresh->expiration, when);
        err_set(err, ERR_AUTH, "credentials from %s expired at %s", fresh->source, when);
        goto out;
    }
    creds_free(p->cached);
    p->cached = fresh;
    fresh = NULL;
    out = creds_dup(p->cached, err);
done:
    if (out == NULL)
        goto out;
    *ret = out;
    rc = 0;
out:
    pthread_mutex_unlock(&p->lock);
    creds_free(fresh);
    return rc;
}

void
creds_provider_invalidate(struct creds_provider *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    creds_free(p->cached);
    p->cached = NULL;
    pthread_mutex_unlock(&p->lock);
}

void
creds_provider_free(struct creds_provider *p)
{
    if (p == NULL)
        return;
    if (p->ops->destroy != NULL)
        p->ops->destroy(p);
    creds_free(p->cached);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *
creds_provider_name(const struct creds_provider *p)
{
    return p->name;
}

/* --- options --- */

int
creds_opts_copy_init(struct creds_opts_copy *dst, const struct creds_options *src,
    struct err *err)
{
    memset(dst, 0, sizeof(*dst));
    if (src == NULL)
        return 0;
    if (src->region != NULL) {
        dst->region = util_strdup(src->region, err);
        if (dst->region == NULL)
            return -1;
    }
    dst->endpoints = src->endpoints;
    dst->timeout_ms = src->timeout_ms;
    dst->now = src->now;
    dst->now_ctx = src->now_ctx;
    dst->stats = src->stats;
    return 0;
}

void
creds_opts_copy_clear(struct creds_opts_copy *o)
{
    if (o == NULL)
        return;
    free(o->region);
    memset(o, 0, sizeof(*o));
}

void
creds_opts_copy_view(const struct creds_opts_copy *o, struct creds_options *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->region = o->region;
    ret->endpoints = o->endpoints;
    ret->timeout_ms = o->timeout_ms;
    ret->now = o->now;
    ret->now_ctx = o->now_ctx;
    ret->stats = o->stats;
}

void
creds_fmt(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

const char *
creds_getenv(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *
creds_sts_region(const char *explicit_region, const char *profile_region)
{
    const char *r;

    if (explicit_region != NULL && explicit_region[0] != '\0')
        return explicit_region;
    if ((r = creds_getenv("AWS_REGION")) != NULL)
        return r;
    if ((r = creds_getenv("AWS_DEFAULT_REGION")) != NULL)
        return r;
    if (profile_region != NULL && profile_region[0] != '\0')
        return profile_region;
    return "us-east-1";
}

/* --- static --- */

static int
static_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    const struct creds *c = p->impl;
    struct creds *d;

    (void)now;
    d = creds_dup(c, err);
    if (d == NULL)
        return -1;
    *ret = d;
    return 0;
}

static void
static_destroy(struct creds_provider *p)
{
    creds_free(p->impl);
}

static const struct creds_provider_ops static_ops = {
    .name = "static",
    .fetch = static_fetch,
    .destroy = static_destroy,
};

int
creds_provider_static(const struct creds *c, struct creds_provider **ret, struct err *err)
{
    struct creds *copy;

    if (c == NULL || c->access_key_id == NULL || c->access_key_id[0] == '\0' ||
        c->secret_access_key == NULL || c->secret_access_key[0] == '\0')
        return err_set(err, ERR_CONFIG, "static credentials: access key id and secret key "
                                        "are required");
    copy = creds_dup(c, err);
    if (copy == NULL)
        return -1;
    if (copy->source[0] == '\0')
        snprintf(copy->source, sizeof(copy->source), "static");
    /* creds_provider_new owns copy from here, also when it fails */
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): see above */
    return creds_provider_new(&static_ops, copy, "static", NULL, ret, err);
}

/* --- chain --- */

#define CHAIN_MAX 8

struct chain {
    struct creds_provider *subs[CHAIN_MAX]; /* owned */
    size_t n;
};

static int
chain_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct chain *ch = p->impl;
    struct buf why;
    struct err e;
    int rc = -1;

    buf_init(&why, ERR_MSG_MAX);
    for (size_t i = 0; i < ch->n; i++) {
        struct creds_provider *sub = ch->subs[i];
        err_clear(&e);
        if (sub->ops->fetch(sub, now, ret, &e) == 0) {
            rc = 0;
            goto out;
        }
        if (e.kind != ERR_NOTFOUND) {
            if (err != NULL)
                *err = e;
            goto out;
        }
        /* the buffer is capped: an overlong list is cut, never fatal */
        if (buf_printf(&why, NULL, "%s%s: %s", i > 0 ? "; " : "", sub->name, e.msg) < 0)
            continue;
    }
    err_set(err, ERR_AUTH, "no AWS credentials found (%s)", buf_str(&why));
out:
    buf_clear(&why);
    return rc;
}

static void
chain_destroy(struct creds_provider *p)
{
    struct chain *ch = p->impl;

    if (ch == NULL)
        return;
    for (size_t i = 0; i < ch->n; i++)
        creds_provider_free(ch->subs[i]);
    free(ch);
}

static const struct creds_provider_ops chain_ops = {
    .name = "chain",
    .fetch = chain_fetch,
    .destroy = chain_destroy,
};

int
creds_provider_default_chain(const struct creds_options *opts, struct creds_provider **ret,
    struct err *err)
{
    struct chain *ch;
    int rc;

    ch = calloc(1, sizeof(*ch));
    if (ch == NULL)
        return err_set(err, ERR_INTERNAL, "credentials: out of memory");
    rc = creds_provider_environment(&ch->subs[ch->n], err);
    if (rc == 0)
        ch->n++;
    if (rc == 0 && (rc = creds_provider_web_identity(opts, &ch->subs[ch->n], err)) == 0)
        ch->n++;
    if (rc == 0 && (rc = creds_provider_profile(opts, NULL, &ch->subs[ch->n], err)) == 0)
        ch->n++;
    if (rc == 0 && (rc = creds_provider_container(opts, &ch->subs[ch->n], err)) == 0)
        ch->n++;
    if (rc == 0 && (rc = creds_provider_imds(opts, &ch->subs[ch->n], err)) == 0)
        ch->n++;
    if (rc < 0) {
        struct creds_provider tmp;
        memset(&tmp, 0, sizeof(tmp));
        tmp.impl = ch;
        chain_destroy(&tmp);
        return -1;
    }
    return creds_provider_new(&chain_ops, ch, "chain", opts, ret, err);
}
