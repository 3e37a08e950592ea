/*
 * creds_profile.c: the shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials) and the profile source built on them.
 *
 * Parser rules (botocore's, which the AWS CLI users' files are written
 * for): "[name]" sections and "key = value" lines; whole-line comments
 * start with '#' or ';' (inline comments only after a section header, since
 * values such as credential_process commands may hold '#'); keys are
 * case-insensitive; an indented line after "key =" with no value belongs to
 * a sub-section (s3 = / max_concurrent_requests = 10) and is skipped, after
 * a value it continues that value. In the config file only "[default]" and
 * "[profile NAME]" are profiles (other sections such as sso-session are
 * skipped); in the credentials file "[NAME]" is the profile. The
 * credentials file wins key by key. Every error names FILE:LINE.
 *
 * Resolution (botocore order): role_arn (with source_profile, followed
 * recursively with cycle detection, or credential_source, or
 * web_identity_token_file), then credential_process, then static keys. The
 * files are read on every fetch so edits are picked up at the next refresh;
 * the provider tree built for one fetch is thrown away after it.
 */
#include "providers/aws/creds.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/creds_int.h"

#define PROFILE_DEPTH_MAX 10

/* --- parser --- */

static void
kv_clear(struct creds_kv *kv)
{
    free(kv->key);
    util_free_secret(kv->value);
}

void
creds_ini_clear(struct creds_ini *ini)
{
    if (ini == NULL)
        return;
    for (size_t i = 0; i < ini->nprofiles; i++) {
        struct creds_profile_data *p = &ini->profiles[i];
        for (size_t j = 0; j < p->nkv; j++)
            kv_clear(&p->kv[j]);
        free(p->kv);
        free(p->name);
    }
    free(ini->profiles);
    memset(ini, 0, sizeof(*ini));
}

const struct creds_profile_data *
creds_ini_profile(const struct creds_ini *ini, const char *name)
{
    for (size_t i = 0; i < ini->nprofiles; i++)
        if (strcmp(ini->profiles[i].name, name) == 0)
            return &ini->profiles[i];
    return NULL;
}

const struct creds_kv *
creds_ini_get_kv(const struct creds_profile_data *p, const char *key)
{
    for (size_t i = 0; p != NULL && i < p->nkv; i++)
        if (strcmp(p->kv[i].key, key) == 0)
            return &p->kv[i];
    return NULL;
}

const char *
creds_ini_get(const struct creds_profile_data *p, const char *key)
{
    const struct creds_kv *kv = creds_ini_get_kv(p, key);

    return kv != NULL ? kv->value : NULL;
}

static struct creds_profile_data *
profile_get_or_add(struct creds_ini *ini, const char *name, size_t len, struct err *err)
{
    struct creds_profile_data *n;

    for (size_t i = 0; i < ini->nprofiles; i++)
        if (strlen(ini->profiles[i].name) == len &&
            memcmp(ini->profiles[i].name, name, len) == 0)
            return &ini->profiles[i];
    n = realloc(ini->profiles, (ini->nprofiles + 1) * sizeof(*n));
    if (n == NULL)
        goto oom;
    ini->profiles = n;
    n = &ini->profiles[ini->nprofiles];
    memset(n, 0, sizeof(*n));
    n->name = strndup(name, len);
    if (n->name == NULL)
        goto oom;
    ini->nprofiles++;
    return n;
oom:
    err_set(err, ERR_INTERNAL, "shared config: out of memory");
    return NULL;
}

static struct creds_kv *
profile_set(struct creds_profile_data *p, const char *key, size_t klen, const char *value,
    size_t vlen, const char *where, struct err *err)
{
    struct creds_kv *kv = NULL, *n;
    char *k, *v;

    k = strndup(key, klen);
    v = strndup(value, vlen);
    if (k == NULL || v == NULL) {
        free(k);
        util_free_secret(v);
        err_set(err, ERR_INTERNAL, "shared config: out of memory");
        return NULL;
    }
    for (char *c = k; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (size_t i = 0; i < p->nkv; i++) {
        if (strcmp(p->kv[i].key, k) == 0) {
            kv = &p->kv[i];
            kv_clear(kv);
            break;
        }
    }
    if (kv == NULL) {
        n = realloc(p->kv, (p->nkv + 1) * sizeof(*n));
        if (n == NULL) {
            free(k);
            util_free_secret(v);
            err_set(err, ERR_INTERNAL, "shared config: out of memory");
            return NULL;
        }
        p->kv = n;
        kv = &p->kv[p->nkv++];
    }
    kv->key = k;
    kv->value = v;
    snprintf(kv->where, sizeof(kv->where), "%s", where);
    return kv;
}

static int
is_blank(int c)
{
    return c == ' ' || c == '\t';
}

/* Trims blanks in place on [*s, *s + *n). */
static void
trim(const char **s, size_t *n)
{
    while (*n > 0 && is_blank((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

int
creds_ini_parse(struct creds_ini *ini, const char *path, const char *text, size_t len,
    int is_config, struct err *err)
{
    struct creds_profile_data *cur = NULL;
    struct creds_kv *last = NULL;
    int in_section = 0, last_empty = 0, have_prop = 0;
    size_t pos = 0, lineno = 0;
    char where[300];

    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

        pos += n + (nl != NULL);
        lineno++;
        snprintf(where, sizeof(where), "%s:%zu", path, lineno);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (memchr(line, '\0', n) != NULL)
            return err_set(err, ERR_CONFIG, "%s: NUL byte in line", where);
        if (n > 0 && is_blank((unsigned char)line[0])) {
            const char *s = line;
            size_t m = n;
            trim(&s, &m);
            if (m == 0 || s[0] == '#' || s[0] == ';')
                continue;
            if (!have_prop)
                return err_set(err, ERR_CONFIG, "%s: indented line without a property above it",
                    where);
            if (last != NULL && !last_empty) {
                /* continuation of the value above */
                size_t old = strlen(last->value);
                char *v = malloc(old + 1 + m + 1);
                if (v == NULL)
                    return err_set(err, ERR_INTERNAL, "shared config: out of memory");
                memcpy(v, last->value, old);
                v[old] = '\n';
                memcpy(v + old + 1, s, m);
                v[old + 1 + m] = '\0';
                util_free_secret(last->value);
                last->value = v;
            }
            /* else: a sub-section line (s3 =), skipped */
            continue;
        }
        trim(&line, &n);
        if (n == 0 || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            const char *close = memchr(line, ']', n);
            const char *name, *rest;
            size_t nlen, rlen;

            if (close == NULL)
                return err_set(err, ERR_CONFIG, "%s: section header without ']'", where);
            rest = close + 1;
            rlen = n - (size_t)(rest - line);
            trim(&rest, &rlen);
            if (rlen > 0 && rest[0] != '#' && rest[0] != ';')
                return err_set(err, ERR_CONFIG, "%s: unexpected text after ']'", where);
            name = line + 1;
            nlen = (size_t)(close - name);
            trim(&name, &nlen);
            if (nlen == 0)
                return err_set(err, ERR_CONFIG, "%s: empty section name", where);
            in_section = 1;
            have_prop = 0;
            last = NULL;
            cur = NULL;
            if (is_config) {
                if (nlen == 7 && memcmp(name, "default", 7) == 0) {
                    /* [default] */
                } else if (nlen > 8 && memcmp(name, "profile", 7) == 0 &&
                           is_blank((unsigned char)name[7])) {
                    name += 8;
                    nlen -= 8;
                    trim(&name, &nlen);
                } else {
                    continue; /* sso-session, services ...: not a profile */
                }
            }
            cur = profile_get_or_add(ini, name, nlen, err);
            if (cur == NULL)
                return -1;
            continue;
        }
        {
            const char *eq = memchr(line, '=', n), *key = line, *val;
            size_t klen, vlen;

            if (eq == NULL)
                return err_set(err, ERR_CONFIG, "%s: expected 'key = value' or '[section]'",
                    where);
            if (!in_section)
                return err_set(err, ERR_CONFIG, "%s: property before any [section]", where);
            klen = (size_t)(eq - line);
            val = eq + 1;
            vlen = n - klen - 1;
            trim(&key, &klen);
            trim(&val, &vlen);
            if (klen == 0)
                return err_set(err, ERR_CONFIG, "%s: empty key before '='", where);
            have_prop = 1;
            last_empty = vlen == 0;
            last = NULL;
            if (cur == NULL)
                continue;
            if (last_empty)
                continue; /* "s3 =": a sub-section follows */
            last = profile_set(cur, key, klen, val, vlen, where, err);
            if (last == NULL)
                return -1;
        }
    }
    return 0;
}

/* --- the provider --- */

struct profile_src {
    struct creds_opts_copy opts;
    char *profile; /* NULL: AWS_PROFILE / AWS_DEFAULT_PROFILE / default */
};

/* Reads path into ini. Returns 1 when read, 0 when the file does not exist. */
static int
load_file(struct creds_ini *ini, const char *path, int is_config, struct err *err)
{
    struct buf b;
    struct stat st;
    int rc = -1;

    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return err_set(err, ERR_CONFIG, "cannot read '%s': %s", path, strerror(errno));
    }
    buf_init(&b, CREDS_CONFIG_MAX);
    if (util_read_file(path, &b, err) < 0)
        goto out;
    if (creds_ini_parse(ini, path, buf_str(&b), b.len, is_config, err) < 0)
        goto out;
    rc = 1;
out:
    buf_clear_secure(&b);
    return rc;
}

struct resolve_ctx {
    const struct creds_ini *ini;
    const struct creds_options *opts;
    const char *root_region;
    const char *chain[PROFILE_DEPTH_MAX];
    size_t depth;
    char files[200]; /* "FILE, FILE" for not-found messages */
    int explicit_profile;
};

static int
static_from(const struct creds_profile_data *prof, const char *akid, const char *secret,
    struct creds_provider **ret, struct err *err)
{
    struct creds c;

    memset(&c, 0, sizeof(c));
    c.access_key_id = (char *)(uintptr_t)akid;
    c.secret_access_key = (char *)(uintptr_t)secret;
    c.session_token = (char *)(uintptr_t)creds_ini_get(prof, "aws_session_token");
    snprintf(c.source, sizeof(c.source), "profile '%s'", prof->name);
    return creds_provider_static(&c, ret, err);
}

static int resolve(struct resolve_ctx *rc, const char *name, struct creds_provider **ret,
    struct err *err);

static int
role_base(struct resolve_ctx *rc, const struct creds_profile_data *prof,
    struct creds_provider **ret, struct err *err)
{
    const struct creds_kv *src = creds_ini_get_kv(prof, "source_profile");
    const struct creds_kv *cs = creds_ini_get_kv(prof, "credential_source");

    if (src != NULL && cs != NULL)
        return err_set(err, ERR_CONFIG,
            "%s: profile '%s' sets both source_profile and credential_source", cs->where,
            prof->name);
    if (cs != NULL) {
        if (strcmp(cs->value, "Environment") == 0)
            return creds_provider_environment(ret, err);
        if (strcmp(cs->value, "Ec2InstanceMetadata") == 0)
            return creds_provider_imds(rc->opts, ret, err);
        if (strcmp(cs->value, "EcsContainer") == 0)
            return creds_provider_container(rc->opts, ret, err);
        return err_set(err, ERR_CONFIG,
            "%s: profile '%s': unknown credential_source '%s' (Environment, "
            "Ec2InstanceMetadata or EcsContainer)",
            cs->where, prof->name, cs->value);
    }
    if (src == NULL) {
        const struct creds_kv *arn = creds_ini_get_kv(prof, "role_arn");
        return err_set(err, ERR_CONFIG,
            "%s: profile '%s' has role_arn but no source_profile, credential_source or "
            "web_identity_token_file",
            arn->where, prof->name);
    }
    if (strcmp(src->value, prof->name) == 0) {
        /* a profile may name itself to use its own static keys */
        const char *akid = creds_ini_get(prof, "aws_access_key_id");
        const char *secret = creds_ini_get(prof, "aws_secret_access_key");
        if (akid == NULL || secret == NULL)
            return err_set(err, ERR_CONFIG,
                "%s: profile '%s' is its own source_profile but has no static keys",
                src->where, prof->name);
        return static_from(prof, akid, secret, ret, err);
    }
    for (size_t i = 0; i < rc->depth; i++) {
        if (strcmp(rc->chain[i], src->value) == 0) {
            char path[256] = "";
            size_t off = 0;
            for (size_t j = 0; j < rc->depth && off < sizeof(path); j++)
                off += (size_t)snprintf(path + off, sizeof(path) - off, "%s -> ", rc->chain[j]);
            if (off < sizeof(path))
                snprintf(path + off, sizeof(path) - off, "%s", src->value);
            return err_set(err, ERR_CONFIG, "%s: source_profile cycle: %s", src->where, path);
        }
    }
    if (creds_ini_profile(rc->ini, src->value) == NULL)
        return err_set(err, ERR_CONFIG, "%s: profile '%s': source_profile '%s' not found in %s",
            src->where, prof->name, src->value, rc->files);
    return resolve(rc, src->value, ret, err);
}

static int
resolve(struct resolve_ctx *rc, const char *name, struct creds_provider **ret, struct err *err)
{
    const struct creds_profile_data *prof = creds_ini_profile(rc->ini, name);
    const struct creds_kv *arn, *wit, *proc, *dur;
    const char *akid, *secret;
    struct creds_provider *base = NULL;
    long long duration = 0;
    int r = -1;

    if (prof == NULL)
        return err_set(err, rc->explicit_profile ? ERR_CONFIG : ERR_NOTFOUND,
            "profile '%s' not found in %s", name, rc->files);
    if (rc->depth >= PROFILE_DEPTH_MAX)
        return err_set(err, ERR_CONFIG, "profile '%s': source_profile chain deeper than %d",
            name, PROFILE_DEPTH_MAX);
    rc->chain[rc->depth++] = prof->name;
    arn = creds_ini_get_kv(prof, "role_arn");
    wit = creds_ini_get_kv(prof, "web_identity_token_file");
    proc = creds_ini_get_kv(prof, "credential_process");
    akid = creds_ini_get(prof, "aws_access_key_id");
    secret = creds_ini_get(prof, "aws_secret_access_key");
    if (arn != NULL) {
        dur = creds_ini_get_kv(prof, "duration_seconds");
        if (dur != NULL && util_parse_ll(dur->value, 900, 43200, &duration) < 0) {
            err_set(err, ERR_CONFIG, "%s: duration_seconds '%s' must be a number in 900..43200",
                dur->where, dur->value);
            goto out;
        }
        if (wit != NULL && creds_ini_get_kv(prof, "source_profile") == NULL &&
            creds_ini_get_kv(prof, "credential_source") == NULL) {
            r = creds_web_identity_new(rc->opts, wit->value, arn->value,
                creds_ini_get(prof, "role_session_name"), rc->root_region, ret, err);
            goto out;
        }
        if (role_base(rc, prof, &base, err) < 0)
            goto out;
        r = creds_assume_role_new(rc->opts, base, 1, arn->value,
            creds_ini_get(prof, "external_id"), creds_ini_get(prof, "role_session_name"),
            (int)duration, rc->root_region, ret, err);
        if (r < 0)
            err_prefix(err, "%s", arn->where);
        goto out;
    }
    if (wit != NULL) {
        err_set(err, ERR_CONFIG, "%s: profile '%s' has web_identity_token_file but no role_arn",
            wit->where, prof->name);
        goto out;
    }
    if (proc != NULL) {
        char what[160];
        snprintf(what, sizeof(what), "credential_process in profile '%s'", prof->name);
        r = creds_provider_process(rc->opts, proc->value, what, ret, err);
        goto out;
    }
    if (akid != NULL && secret != NULL) {
        r = static_from(prof, akid, secret, ret, err);
        goto out;
    }
    if (akid != NULL || secret != NULL) {
        err_set(err, ERR_CONFIG, "%s: profile '%s' has %s but not %s",
            creds_ini_get_kv(prof, akid != NULL ? "aws_access_key_id" : "aws_secret_access_key")
                ->where,
            prof->name, akid != NULL ? "aws_access_key_id" : "aws_secret_access_key",
            akid != NULL ? "aws_secret_access_key" : "aws_access_key_id");
        goto out;
    }
    err_set(err, rc->depth > 1 ? ERR_CONFIG : ERR_NOTFOUND,
        "profile '%s' has no credentials (no aws_access_key_id, credential_process or role_arn)",
        prof->name);
out:
    rc->depth--;
    return r;
}

static int
profile_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct profile_src *ps = p->impl;
    struct creds_ini ini;
    struct resolve_ctx rc;
    struct creds_options o;
    struct creds_provider *built = NULL;
    struct creds *c = NULL;
    const char *name = ps->profile, *home = creds_getenv("HOME");
    const char *cfg = creds_getenv("AWS_CONFIG_FILE");
    const char *cred = creds_getenv("AWS_SHARED_CREDENTIALS_FILE");
    char cfg_path[4096], cred_path[4096];
    int explicit_profile = name != NULL, have = 0, r, ret_rc = -1;

    (void)now;
    memset(&ini, 0, sizeof(ini));
    if (name == NULL) {
        name = creds_getenv("AWS_PROFILE");
        if (name == NULL)
            name = creds_getenv("AWS_DEFAULT_PROFILE");
        explicit_profile = name != NULL;
        if (name == NULL)
            name = "default";
    }
    if ((cfg == NULL || cred == NULL) && home == NULL)
        return err_set(err, explicit_profile ? ERR_CONFIG : ERR_NOTFOUND,
            "HOME not set, cannot find ~/.aws/config or ~/.aws/credentials");
    snprintf(cfg_path, sizeof(cfg_path), "%s", cfg != NULL ? cfg : "");
    if (cfg == NULL)
        snprintf(cfg_path, sizeof(cfg_path), "%s/.aws/config", home);
    snprintf(cred_path, sizeof(cred_path), "%s", cred != NULL ? cred : "");
    if (cred == NULL)
        snprintf(cred_path, sizeof(cred_path), "%s/.aws/credentials", home);

    if ((r = load_file(&ini, cfg_path, 1, err)) < 0)
        goto out;
    have |= r;
    if ((r = load_file(&ini, cred_path, 0, err)) < 0)
        goto out;
    have |= r;
    memset(&rc, 0, sizeof(rc));
    creds_fmt(rc.files, sizeof(rc.files), "%s, %s", cfg_path, cred_path);
    if (!have) {
        err_set(err, explicit_profile ? ERR_CONFIG : ERR_NOTFOUND,
            "profile '%s': neither %s nor %s exists", name, cfg_path, cred_path);
        goto out;
    }
    creds_opts_copy_view(&ps->opts, &o);
    rc.ini = &ini;
    rc.opts = &o;
    rc.explicit_profile = explicit_profile;
    rc.root_region = creds_ini_get(creds_ini_profile(&ini, name), "region");
    if (resolve(&rc, name, &built, err) < 0)
        goto out;
    if (creds_provider_get(built, &c, err) < 0) {
        /* the profile is configured: a missing base is an error, not a reason to move on */
        if (err != NULL && err->kind == ERR_NOTFOUND)
            err->kind = ERR_AUTH;
        err_prefix(err, "profile '%s'", name);
        goto out;
    }
    if (strncmp(c->source, "profile '", 9) != 0) {
        char src[96];
        creds_fmt(src, sizeof(src), "profile '%s' (%s", name, c->source);
        /* close the parenthesis even when the ARN was cut short */
        size_t l = strlen(src);
        if (l >= sizeof(src) - 1)
            l = sizeof(src) - 2;
        src[l] = ')';
        src[l + 1] = '\0';
        memcpy(c->source, src, sizeof(c->source));
    }
    *ret = c;
    c = NULL;
    ret_rc = 0;
out:
    creds_free(c);
    creds_provider_free(built);
    creds_ini_clear(&ini);
    return ret_rc;
}

static void
profile_destroy(struct creds_provider *p)
{
    struct profile_src *ps = p->impl;

    if (ps == NULL)
        return;
    creds_opts_copy_clear(&ps->opts);
    free(ps->profile);
    free(ps);
}

static const struct creds_provider_ops profile_ops = {
    .name = "shared config",
    .fetch = profile_fetch,
    .destroy = profile_destroy,
};

int
creds_provider_profile(const struct creds_options *opts, const char *profile,
    struct creds_provider **ret, struct err *err)
{
    struct profile_src *ps;

    ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return err_set(err, ERR_INTERNAL, "shared config: out of memory");
    if ((profile != NULL && (ps->profile = strdup(profile)) == NULL) ||
        creds_opts_copy_init(&ps->opts, opts, err) < 0) {
        free(ps->profile);
        free(ps);
        return err_set(err, ERR_INTERNAL, "shared config: out of memory");
    }
    return creds_provider_new(&profile_ops, ps, "shared config", opts, ret, err);
}
