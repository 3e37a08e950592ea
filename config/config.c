/*
 * config.c: YAML document (config/yamldoc.h) -> struct cfg, collecting
 * every error.
 *
 * The file is loaded as one document (size-capped), then walked key by key.
 * Each handler reports problems with the node's position; parsing never
 * stops at the first problem. After the walk, cfg_check applies the
 * rules that span keys (accounts xor organization, ...). Secrets (the
 * webhook key) are wiped on free and never copied into a message.
 */
#include "config/config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yamldoc.h"
#include "daemon/buf.h"
#include "daemon/util.h"

#define CFG_MAX_FILE  (1024 * 1024)
#define CFG_MAX_ITEMS 10000
#define CFG_MAX_DIAG  200

/* Keeps every problem line in the caller's diag (cfg_parse_buffer's sink). */
static void
diag_add(struct cfg_diag *d, const char *line, int *ret_oom)
{
    char **grown;

    if (d == NULL || d->n >= CFG_MAX_DIAG)
        return;
    grown = realloc(d->msgs, (d->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        *ret_oom = 1;
        return;
    }
    d->msgs = grown;
    d->msgs[d->n] = strdup(line);
    if (d->msgs[d->n] == NULL) {
        *ret_oom = 1;
        return;
    }
    d->n++;
}

static void
diag_sink(struct yamldoc_errs *e, const char *line, void *arg)
{
    diag_add(arg, line, &e->oom);
}

void
cfg_diag_clear(struct cfg_diag *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->n = 0;
}

/* Text of a scalar, copied into *dst (any previous value freed). */
static int
get_string(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *key, char **dst)
{
    char what[80];
    const char *v;

    snprintf(what, sizeof(what), "'%s'", key);
    v = yamldoc_text(e, n, what, 4096, 0);
    if (v == NULL)
        return -1;
    free(*dst);
    *dst = strdup(v);
    if (*dst == NULL) {
        e->oom = 1;
        return -1;
    }
    return 0;
}

static int
get_bool(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *key, int *dst)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "off"};

    if (yamldoc_kind(n) == YAMLDOC_SCALAR) {
        for (size_t i = 0; i < 5; i++) {
            if (strcmp(yamldoc_scalar(n), yes[i]) == 0) {
                *dst = 1;
                return 0;
            }
            if (strcmp(yamldoc_scalar(n), no[i]) == 0) {
                *dst = 0;
                return 0;
            }
        }
    }
    yamldoc_error(e, n, "'%s' must be true or false", key);
    return -1;
}

static int
get_int(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *key, long long min,
    long long max, long long *dst)
{
    if (yamldoc_kind(n) != YAMLDOC_SCALAR || util_parse_ll(yamldoc_scalar(n), min, max, dst) < 0) {
        yamldoc_error(e, n, "'%s' must be a whole number from %lld to %lld", key, min, max);
        return -1;
    }
    return 0;
}

int
cfg_parse_duration(const char *s, long *ret_s)
{
    char num[32];
    size_t len;
    long long v;
    long mult = 1;

    if (s == NULL)
        return -1;
    len = strlen(s);
    if (len == 0 || len >= sizeof(num))
        return -1;
    memcpy(num, s, len + 1);
    switch (num[len - 1]) {
    case 's':
        mult = 1;
        num[len - 1] = '\0';
        break;
    case 'm':
        mult = 60;
        num[len - 1] = '\0';
        break;
    case 'h':
        mult = 3600;
        num[len - 1] = '\0';
        break;
    case 'd':
        mult = 86400;
        num[len - 1] = '\0';
        break;
    default:
        break;
    }
    if (util_parse_ll(num, 0, 100L * 365 * 86400 / mult, &v) < 0)
        return -1;
    *ret_s = (long)v * mult;
    return 0;
}

static int
get_duration(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *key, long min_s,
    long *dst)
{
    long v;

    if (yamldoc_kind(n) != YAMLDOC_SCALAR || cfg_parse_duration(yamldoc_scalar(n), &v) < 0) {
        yamldoc_error(e, n, "'%s' must be a duration like 90s, 15m, 2h or 1d", key);
        return -1;
    }
    if (v < min_s) {
        yamldoc_error(e, n, "'%s' must be at least %lds", key, min_s);
        return -1;
    }
    *dst = v;
    return 0;
}

static int
valid_region(const char *r)
{
    size_t n = strlen(r);

    if (n < 4 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!islower((unsigned char)r[i]) && !isdigit((unsigned char)r[i]) && r[i] != '-')
            return 0;
    }
    return r[0] != '-' && r[n - 1] != '-';
}

static int
valid_account_id(const char *s)
{
    if (strlen(s) != 12)
        return 0;
    for (size_t i = 0; i < 12; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* arn:PARTITION:iam::ACCOUNT:role/NAME */
static int
valid_role_arn(const char *s)
{
    const char *p;
    char acct[13];

    if (strncmp(s, "arn:", 4) != 0)
        return 0;
    p = strchr(s + 4, ':');
    if (p == NULL || strncmp(p, ":iam::", 6) != 0)
        return 0;
    p += 6;
    if (strlen(p) < 18 || p[12] != ':')
        return 0;
    memcpy(acct, p, 12);
    acct[12] = '\0';
    return valid_account_id(acct) && strncmp(p + 13, "role/", 5) == 0 && p[18] != '\0';
}

static int
valid_url(const char *u)
{
    const char *host;
    size_t hl;

    if (strncmp(u, "https://", 8) == 0)
        return u[8] != '\0' && u[8] != '/';
    if (strncmp(u, "http://", 7) != 0)
        return 0;
    /* plain http only to loopback, like the HTTP layer enforces */
    host = u + 7;
    hl = strcspn(host, ":/");
    if (hl == 9 && strncmp(host, "localhost", 9) == 0)
        return 1;
    if (strncmp(host, "127.", 4) == 0)
        return 1;
    return strncmp(host, "[::1]", 5) == 0;
}

static void
add_error_unknown(struct yamldoc_errs *e, const struct yamldoc_node *k, const char *key,
    const char *where, const char *known)
{
    yamldoc_error(e, k, "unknown key '%s' in %s (known: %s)", key, where, known);
}

/* ---- accounts ---- */

static void
account_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg_account *a = ctx;

    if (strcmp(key, "id") == 0) {
        if (get_string(e, v, "id", &a->id) == 0 && !valid_account_id(a->id))
            yamldoc_error(
                e, v, "account id '%s' must be 12 digits (quote it to keep leading zeros)", a->id);
    } else if (strcmp(key, "name") == 0) {
        get_string(e, v, "name", &a->name);
    } else if (strcmp(key, "role_arn") == 0) {
        if (get_string(e, v, "role_arn", &a->role_arn) == 0 && !valid_role_arn(a->role_arn))
            yamldoc_error(e, v,
                "role_arn '%s' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                a->role_arn);
    } else if (strcmp(key, "external_id") == 0) {
        if (get_string(e, v, "external_id", &a->external_id) == 0 &&
            (strlen(a->external_id) < 2 || strlen(a->external_id) > 1224))
            yamldoc_error(e, v, "external_id must be 2 to 1224 characters");
    } else if (strcmp(key, "session_name") == 0) {
        get_string(e, v, "session_name", &a->session_name);
    } else {
        add_error_unknown(e, k, key, "an account", "id, name, role_arn, external_id, session_name");
    }
}

/* The length of list v, at most max; -1 after reporting "MUST, not KIND" when
 * v is no list, or "TOO max NOUN" when it is longer. */
static int
list_len(struct yamldoc_errs *e, const struct yamldoc_node *v, const char *must, const char *too,
    size_t max, const char *noun, size_t *ret_n)
{
    if (yamldoc_kind(v) != YAMLDOC_LIST) {
        yamldoc_error(e, v, "%s, not %s", must, yamldoc_kind_name(v));
        return -1;
    }
    if (yamldoc_count(v) > max) {
        yamldoc_error(e, v, "%s %zu %s", too, max, noun);
        return -1;
    }
    *ret_n = yamldoc_count(v);
    return 0;
}

static void
parse_accounts(struct yamldoc_errs *e, const struct yamldoc_node *v, struct cfg *cfg)
{
    size_t n;

    if (list_len(e, v, "'accounts' must be a list of accounts", "'accounts' has more than",
            CFG_MAX_ITEMS, "entries", &n) < 0)
        return;
    cfg->accounts = calloc(n ? n : 1, sizeof(*cfg->accounts));
    if (cfg->accounts == NULL) {
        e->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct yamldoc_node *item = yamldoc_item(v, i);
        struct cfg_account *a = &cfg->accounts[cfg->naccounts++];

        if (yamldoc_kind(item) == YAMLDOC_SCALAR) {
            /* shorthand: - "111111111111" */
            if (get_string(e, item, "accounts[]", &a->id) == 0 && !valid_account_id(a->id))
                yamldoc_error(e, item,
                    "account id '%s' must be 12 digits (quote it to keep leading zeros)",
                    a->id);
            continue;
        }
        yamldoc_walk_mapping(e, item, "an account", account_pair, a);
        if (a->id == NULL)
            yamldoc_error(e, item, "account has no 'id'");
        else if (a->role_arn != NULL && valid_role_arn(a->role_arn) &&
                 strncmp(strstr(a->role_arn, ":iam::") + 6, a->id, 12) != 0)
            yamldoc_error(e, item, "role_arn '%s' is not in account %s", a->role_arn, a->id);
        for (size_t j = 0; a->id != NULL && j + 1 < cfg->naccounts; j++) {
            if (cfg->accounts[j].id != NULL && strcmp(cfg->accounts[j].id, a->id) == 0)
                yamldoc_error(e, item, "account %s is listed twice", a->id);
        }
    }
}

static void
parse_regions(struct yamldoc_errs *e, const struct yamldoc_node *v, struct cfg *cfg)
{
    size_t n;

    if (list_len(e, v, "'regions' must be a list like [us-east-1, eu-west-1]",
            "'regions' has more than", 64, "entries", &n) < 0)
        return;
    cfg->regions = calloc(n ? n : 1, sizeof(char *));
    if (cfg->regions == NULL) {
        e->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct yamldoc_node *item = yamldoc_item(v, i);
        char *r = NULL;

        if (get_string(e, item, "regions[]", &r) < 0)
            continue;
        if (!valid_region(r)) {
            yamldoc_error(e, item, "'%s' is not a region name like us-east-1", r);
            free(r);
            continue;
        }
        for (size_t j = 0; j < cfg->nregions; j++) {
            if (cfg->regions[j] != NULL && strcmp(cfg->regions[j], r) == 0) {
                yamldoc_error(e, item, "region '%s' is listed twice", r);
                free(r);
                r = NULL;
                break;
            }
        }
        if (r != NULL)
            cfg->regions[cfg->nregions++] = r;
    }
}

static void
org_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg *cfg = ctx;

    if (strcmp(key, "aggregator") == 0) {
        get_string(e, v, "aggregator", &cfg->org_aggregator);
    } else if (strcmp(key, "region") == 0) {
        if (get_string(e, v, "region", &cfg->org_region) == 0 && !valid_region(cfg->org_region))
            yamldoc_error(e, v, "'%s' is not a region name like us-east-1", cfg->org_region);
    } else if (strcmp(key, "account") == 0) {
        if (get_string(e, v, "account", &cfg->org_account_id) == 0 &&
            !valid_account_id(cfg->org_account_id))
            yamldoc_error(e, v, "account id '%s' must be 12 digits", cfg->org_account_id);
    } else if (strcmp(key, "role_arn") == 0) {
        if (get_string(e, v, "role_arn", &cfg->org_role_arn) == 0 &&
            !valid_role_arn(cfg->org_role_arn))
            yamldoc_error(e, v, "role_arn '%s' is not an IAM role ARN", cfg->org_role_arn);
    } else {
        add_error_unknown(e, k, key, "'organization'", "aggregator, region, account, role_arn");
    }
}

static void
endpoint_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg *cfg = ctx;
    char **dst;

    if (strcmp(key, "config") == 0)
        dst = &cfg->endpoint_config;
    else if (strcmp(key, "securityhub") == 0)
        dst = &cfg->endpoint_securityhub;
    else if (strcmp(key, "sts") == 0)
        dst = &cfg->endpoint_sts;
    else {
        add_error_unknown(e, k, key, "'endpoints'", "config, securityhub, sts");
        return;
    }
    if (get_string(e, v, key, dst) == 0 && !valid_url(*dst))
        yamldoc_error(e, v,
            "endpoint '%s' must be an https:// URL (http:// only for loopback addresses)",
            *dst);
}

static void
ignore_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg_ignore *ig = ctx;

    if (strcmp(key, "resource_type") == 0) {
        if (get_string(e, v, key, &ig->resource_type) == 0 &&
            strncmp(ig->resource_type, "AWS::", 5) != 0)
            yamldoc_error(e, v, "resource_type '%s' must look like AWS::EC2::Instance",
                ig->resource_type);
    } else if (strcmp(key, "tag") == 0) {
        char *eq;
        if (get_string(e, v, key, &ig->tag_key) < 0)
            return;
        eq = strchr(ig->tag_key, '=');
        if (eq != NULL) {
            *eq = '\0';
            ig->tag_value = strdup(eq + 1);
            if (ig->tag_value == NULL)
                e->oom = 1;
        }
        if (ig->tag_key[0] == '\0')
            yamldoc_error(e, v, "tag must be KEY or KEY=VALUE");
    } else if (strcmp(key, "attribute") == 0) {
        get_string(e, v, key, &ig->attribute);
    } else {
        add_error_unknown(e, k, key, "an ignore rule", "resource_type, tag, attribute");
    }
}

static void
parse_ignores(struct yamldoc_errs *e, const struct yamldoc_node *v, struct cfg *cfg)
{
    size_t n;

    if (list_len(e, v, "'ignore' must be a list of rules", "'ignore' has more than",
            CFG_MAX_ITEMS, "rules", &n) < 0)
        return;
    cfg->ignores = calloc(n ? n : 1, sizeof(*cfg->ignores));
    if (cfg->ignores == NULL) {
        e->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct yamldoc_node *item = yamldoc_item(v, i);
        struct cfg_ignore *ig = &cfg->ignores[cfg->nignores++];

        yamldoc_walk_mapping(e, item, "an ignore rule", ignore_pair, ig);
        if (yamldoc_kind(item) == YAMLDOC_MAP && ig->resource_type == NULL && ig->tag_key == NULL &&
            ig->attribute == NULL)
            yamldoc_error(e, item, "an ignore rule needs resource_type, tag or attribute");
    }
}

static void
webhook_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg *cfg = ctx;

    if (strcmp(key, "url") == 0) {
        if (get_string(e, v, key, &cfg->webhook_url) == 0 && !valid_url(cfg->webhook_url))
            yamldoc_error(e, v,
                "webhook url must be https:// (http:// only for loopback addresses)");
    } else if (strcmp(key, "secret_file") == 0) {
        get_string(e, v, key, &cfg->webhook_secret_file);
    } else if (strcmp(key, "secret") == 0) {
        if (get_string(e, v, key, &cfg->webhook_secret) == 0)
            cfg->holds_secrets = 1;
    } else {
        add_error_unknown(e, k, key, "'webhook'", "url, secret_file, secret");
    }
}

static void
feed_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg *cfg = ctx;
    long long n;

    if (strcmp(key, "webhook") == 0)
        yamldoc_walk_mapping(e, v, "'webhook'", webhook_pair, cfg);
    else if (strcmp(key, "max_bytes") == 0) {
        if (get_int(e, v, key, 4096, 1LL << 40, &n) == 0)
            cfg->feed_max_bytes = (long)n;
    } else
        add_error_unknown(e, k, key, "'feed'", "webhook, max_bytes");
}

static void
compliance_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg *cfg = ctx;

    if (strcmp(key, "enabled") == 0)
        get_bool(e, v, key, &cfg->compliance_enabled);
    else if (strcmp(key, "full_refresh") == 0)
        get_duration(e, v, key, 60, &cfg->compliance_full_refresh_s);
    else
        add_error_unknown(e, k, key, "'compliance'", "enabled, full_refresh");
}

static void
top_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct cfg *cfg = ctx;
    long long n;

    if (strcmp(key, "state_dir") == 0) {
        if (get_string(e, v, key, &cfg->state_dir) == 0 && cfg->state_dir[0] != '/')
            yamldoc_error(e, v, "state_dir '%s' must be an absolute path", cfg->state_dir);
    } else if (strcmp(key, "interval") == 0) {
        get_duration(e, v, key, 10, &cfg->interval_s);
    } else if (strcmp(key, "regions") == 0) {
        parse_regions(e, v, cfg);
    } else if (strcmp(key, "accounts") == 0) {
        parse_accounts(e, v, cfg);
    } else if (strcmp(key, "organization") == 0) {
        yamldoc_walk_mapping(e, v, "'organization'", org_pair, cfg);
        if (yamldoc_kind(v) == YAMLDOC_MAP &&
            (cfg->org_aggregator == NULL || cfg->org_region == NULL))
            yamldoc_error(e, v, "'organization' needs both 'aggregator' and 'region'");
    } else if (strcmp(key, "discovery") == 0) {
        char *d = NULL;
        if (get_string(e, v, key, &d) == 0) {
            if (strcmp(d, "select") == 0)
                cfg->discovery = CFG_DISCOVERY_SELECT;
            else if (strcmp(d, "list") == 0)
                cfg->discovery = CFG_DISCOVERY_LIST;
            else
                yamldoc_error(e, v, "discovery must be 'select' or 'list', not '%s'", d);
        }
        free(d);
    } else if (strcmp(key, "mapping") == 0) {
        get_string(e, v, key, &cfg->mapping_path);
    } else if (strcmp(key, "endpoints") == 0) {
        yamldoc_walk_mapping(e, v, "'endpoints'", endpoint_pair, cfg);
    } else if (strcmp(key, "ignore") == 0) {
        parse_ignores(e, v, cfg);
    } else if (strcmp(key, "max_attempts") == 0) {
        if (get_int(e, v, key, 1, 20, &n) == 0)
            cfg->max_attempts = (int)n;
    } else if (strcmp(key, "concurrency") == 0) {
        if (get_int(e, v, key, 1, 64, &n) == 0)
            cfg->concurrency = (int)n;
    } else if (strcmp(key, "metrics_file") == 0) {
        if (get_string(e, v, key, &cfg->metrics_file) == 0 && cfg->metrics_file[0] != '/')
            yamldoc_error(e, v, "metrics_file '%s' must be an absolute path", cfg->metrics_file);
    } else if (strcmp(key, "compliance") == 0) {
        yamldoc_walk_mapping(e, v, "'compliance'", compliance_pair, cfg);
    } else if (strcmp(key, "feed") == 0) {
        yamldoc_walk_mapping(e, v, "'feed'", feed_pair, cfg);
    } else {
        add_error_unknown(e, k, key, "the configuration",
            "state_dir, interval, regions, accounts, organization, discovery, mapping, "
            "endpoints, ignore, max_attempts, concurrency, metrics_file, compliance, feed");
    }
}

/* Rules that span keys. */
static void
cfg_check(struct yamldoc_errs *e, const struct yamldoc_node *root, struct cfg *cfg)
{

    if (cfg->naccounts == 0 && cfg->org_aggregator == NULL)
        yamldoc_error(e, root, "no 'accounts' and no 'organization': nothing to sync");
    if (cfg->naccounts > 0 && cfg->org_aggregator != NULL)
        yamldoc_error(e, root, "'accounts' and 'organization' exclude each other");
    if (cfg->nregions == 0 && cfg->org_aggregator == NULL)
        yamldoc_error(e, root, "'regions' must list at least one region");
    if (cfg->webhook_secret != NULL && cfg->webhook_secret_file != NULL)
        yamldoc_error(e, root, "webhook 'secret' and 'secret_file' exclude each other");
    if ((cfg->webhook_secret != NULL || cfg->webhook_secret_file != NULL) &&
        cfg->webhook_url == NULL)
        yamldoc_error(e, root, "a webhook secret is set but no webhook 'url'");
}

static void
cfg_defaults(struct cfg *cfg)
{
    cfg->interval_s = 900;
    cfg->discovery = CFG_DISCOVERY_SELECT;
    cfg->max_attempts = 3;
    cfg->concurrency = 4;
    cfg->compliance_enabled = 1;
    cfg->compliance_full_refresh_s = 86400;
    cfg->feed_max_bytes = 10L * 1024 * 1024;
}

int
cfg_parse_buffer(const char *name, const char *data, size_t len, struct cfg **ret,
    struct cfg_diag *diag, struct err *err)
{
    struct yamldoc_errs e;
    struct yamldoc *doc = NULL;
    struct cfg *cfg = NULL;
    const struct yamldoc_node *root;
    int rc = -1;

    yamldoc_errs_init(&e, name, diag_sink, diag);
    if (len > CFG_MAX_FILE)
        return err_set(err, ERR_CONFIG, "%s: larger than %d bytes", name, CFG_MAX_FILE);
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    cfg_defaults(cfg);
    cfg->path = strdup(name);
    if (cfg->path == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    /* the file may hold the webhook secret: the parsed copy is wiped too */
    if (yamldoc_parse(&e, data, len, YAMLDOC_SECRET, &doc, err) < 0)
        goto out;
    root = yamldoc_root(doc);
    if (root == NULL || yamldoc_is_null(root)) {
        yamldoc_error(&e, NULL, "the configuration is empty");
    } else {
        yamldoc_walk_mapping(&e, root, "the configuration", top_pair, cfg);
        if (yamldoc_kind(root) == YAMLDOC_MAP)
            cfg_check(&e, root, cfg);
    }
    if (yamldoc_errs_status(&e, err) < 0)
        goto out;
    if (cfg->state_dir == NULL) {
        cfg->state_dir = strdup("/var/lib/driftsync");
        if (cfg->state_dir == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    *ret = cfg;
    cfg = NULL;
    rc = 0;
out:
    yamldoc_free(doc);
    cfg_free(cfg);
    return rc;
}

int
cfg_load(const char *path, struct cfg **ret, struct cfg_diag *diag, struct err *err)
{
    struct buf b;
    int rc, oom = 0;

    buf_init(&b, CFG_MAX_FILE);
    if (util_read_file(path, &b, err) < 0) {
        diag_add(diag, err->msg, &oom);
        err->kind = ERR_CONFIG;
        buf_clear_secure(&b);
        return -1;
    }
    rc = cfg_parse_buffer(path, buf_str(&b), b.len, ret, diag, err);
    buf_clear_secure(&b); /* the file may hold the webhook secret */
    return rc;
}

void
cfg_free(struct cfg *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->state_dir);
    for (size_t i = 0; i < cfg->nregions; i++)
        free(cfg->regions[i]);
    free(cfg->regions);
    for (size_t i = 0; i < cfg->naccounts; i++) {
        free(cfg->accounts[i].id);
        free(cfg->accounts[i].name);
        free(cfg->accounts[i].role_arn);
        util_free_secret(cfg->accounts[i].external_id);
        free(cfg->accounts[i].session_name);
    }
    free(cfg->accounts);
    free(cfg->org_aggregator);
    free(cfg->org_region);
    free(cfg->org_account_id);
    free(cfg->org_role_arn);
    free(cfg->mapping_path);
    free(cfg->endpoint_config);
    free(cfg->endpoint_securityhub);
    free(cfg->endpoint_sts);
    for (size_t i = 0; i < cfg->nignores; i++) {
        free(cfg->ignores[i].resource_type);
        free(cfg->ignores[i].tag_key);
        free(cfg->ignores[i].tag_value);
        free(cfg->ignores[i].attribute);
    }
    free(cfg->ignores);
    free(cfg->metrics_file);
    free(cfg->webhook_url);
    free(cfg->webhook_secret_file);
    util_free_secret(cfg->webhook_secret);
    free(cfg);
}

int
cfg_check_file_secrecy(const char *path, int holds_secrets, struct err *err)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return err_set(err, ERR_CONFIG, "cannot stat '%s': %s", path, strerror(errno));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return err_set(err, ERR_CONFIG,
            "'%s' is writable by group or others (mode %04o): refusing it; chmod go-w it",
            path, (unsigned)(st.st_mode & 07777));
    if (holds_secrets && (st.st_mode & (S_IRGRP | S_IROTH)))
        return err_set(err, ERR_CONFIG,
            "'%s' holds a secret and is readable by group or others (mode %04o): refusing it; "
            "chmod 600 it or use secret_file",
            path, (unsigned)(st.st_mode & 07777));
    return 0;
}
