/*
 * config.c: libyaml document -> struct cfg, collecting every error.
 *
 * The file is loaded as one libyaml document (size-capped), then walked key
 * by key. Each handler reports problems with the node's position; parsing
 * never stops at the first problem. After the walk, cfg_check applies the
 * rules that span keys (accounts xor organization, ...). Secrets (the
 * webhook key) are wiped on free and never copied into a message.
 */
#include "config/config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "daemon/buf.h"
#include "daemon/util.h"

#define CFG_MAX_FILE  (1024 * 1024)
#define CFG_MAX_ITEMS 10000
#define CFG_MAX_DIAG  200

struct parse {
    const char *name;
    yaml_document_t *doc;
    struct cfg *cfg;
    struct cfg_diag *diag;
    size_t nerrors;
    int oom;
    char first[700]; /* the first problem, kept even when diag is NULL */
};

static void perr(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[600];
    char line[700];
    va_list ap;
    char **grown;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (node != NULL)
        snprintf(line, sizeof(line), "%s:%zu:%zu: %s", p->name, node->start_mark.line + 1,
            node->start_mark.column + 1, msg);
    else
        snprintf(line, sizeof(line), "%s: %s", p->name, msg);
    if (p->nerrors++ == 0)
        memcpy(p->first, line, sizeof(p->first));
    if (p->diag == NULL || p->diag->n >= CFG_MAX_DIAG)
        return;
    grown = realloc(p->diag->msgs, (p->diag->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        p->oom = 1;
        return;
    }
    p->diag->msgs = grown;
    p->diag->msgs[p->diag->n] = strdup(line);
    if (p->diag->msgs[p->diag->n] == NULL) {
        p->oom = 1;
        return;
    }
    p->diag->n++;
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

static const char *
node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "empty";
    }
}

static const char *
scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain scalar spelled null/~/empty. */
static int
is_null(const yaml_node_t *n)
{
    const char *v;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    v = scalar(n);
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
        strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Text of a scalar: NUL bytes and control characters refused, since every
 * value ends up in file names, URLs or terminal output. */
static int
get_string(struct parse *p, const yaml_node_t *n, const char *key, char **dst)
{
    const char *v;
    size_t len;

    if (n->type != YAML_SCALAR_NODE) {
        perr(p, n, "'%s' must be a string, not %s", key, node_kind(n));
        return -1;
    }
    v = scalar(n);
    len = n->data.scalar.length;
    if (strlen(v) != len) {
        perr(p, n, "'%s' contains a NUL byte", key);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) {
            perr(p, n, "'%s' contains a control character", key);
            return -1;
        }
    }
    if (len > 4096) {
        perr(p, n, "'%s' is longer than 4096 characters", key);
        return -1;
    }
    free(*dst);
    *dst = strdup(v);
    if (*dst == NULL) {
        p->oom = 1;
        return -1;
    }
    return 0;
}

static int
get_bool(struct parse *p, const yaml_node_t *n, const char *key, int *dst)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "off"};

    if (n->type == YAML_SCALAR_NODE) {
        for (size_t i = 0; i < 5; i++) {
            if (strcmp(scalar(n), yes[i]) == 0) {
                *dst = 1;
                return 0;
            }
            if (strcmp(scalar(n), no[i]) == 0) {
                *dst = 0;
                return 0;
            }
        }
    }
    perr(p, n, "'%s' must be true or false", key);
    return -1;
}

static int
get_int(struct parse *p, const yaml_node_t *n, const char *key, long long min, long long max,
    long long *dst)
{
    if (n->type != YAML_SCALAR_NODE || util_parse_ll(scalar(n), min, max, dst) < 0) {
        perr(p, n, "'%s' must be a whole number from %lld to %lld", key, min, max);
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
get_duration(struct parse *p, const yaml_node_t *n, const char *key, long min_s, long *dst)
{
    long v;

    if (n->type != YAML_SCALAR_NODE || cfg_parse_duration(scalar(n), &v) < 0) {
        perr(p, n, "'%s' must be a duration like 90s, 15m, 2h or 1d", key);
        return -1;
    }
    if (v < min_s) {
        perr(p, n, "'%s' must be at least %lds", key, min_s);
        return -1;
    }
    *dst = v;
    return 0;
}

/* Walks a mapping, rejecting duplicate keys and non-scalar keys; calls fn
 * for each pair. */
typedef void (*pair_fn)(struct parse *p, const char *key, yaml_node_t *knode, yaml_node_t *v,
    void *ctx);

static void
walk_mapping(struct parse *p, yaml_node_t *map, const char *what, pair_fn fn, void *ctx)
{
    yaml_node_pair_t *pair, *other;

    if (map->type != YAML_MAPPING_NODE) {
        perr(p, map, "%s must be a mapping, not %s", what, node_kind(map));
        return;
    }
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        int dup = 0;

        if (k == NULL || v == NULL)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            perr(p, k, "keys in %s must be plain words", what);
            continue;
        }
        for (other = map->data.mapping.pairs.start; other < pair; other++) {
            yaml_node_t *ok = yaml_document_get_node(p->doc, other->key);
            if (ok != NULL && ok->type == YAML_SCALAR_NODE && strcmp(scalar(ok), scalar(k)) == 0)
                dup = 1;
        }
        if (dup) {
            perr(p, k, "duplicate key '%s' in %s", scalar(k), what);
            continue;
        }
        fn(p, scalar(k), k, v, ctx);
    }
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
add_error_unknown(struct parse *p, yaml_node_t *k, const char *key, const char *where,
    const char *known)
{
    perr(p, k, "unknown key '%s' in %s (known: %s)", key, where, known);
}

/* ---- accounts ---- */

static void
account_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg_account *a = ctx;

    if (strcmp(key, "id") == 0) {
        if (get_string(p, v, "id", &a->id) == 0 && !valid_account_id(a->id))
            perr(p, v, "account id '%s' must be 12 digits (quote it to keep leading zeros)",
                a->id);
    } else if (strcmp(key, "name") == 0) {
        get_string(p, v, "name", &a->name);
    } else if (strcmp(key, "role_arn") == 0) {
        if (get_string(p, v, "role_arn", &a->role_arn) == 0 && !valid_role_arn(a->role_arn))
            perr(p, v, "role_arn '%s' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                a->role_arn);
    } else if (strcmp(key, "external_id") == 0) {
        if (get_string(p, v, "external_id", &a->external_id) == 0 &&
            (strlen(a->external_id) < 2 || strlen(a->external_id) > 1224))
            perr(p, v, "external_id must be 2 to 1224 characters");
    } else if (strcmp(key, "session_name") == 0) {
        get_string(p, v, "session_name", &a->session_name);
    } else {
        add_error_unknown(p, k, key, "an account", "id, name, role_arn, external_id, session_name");
    }
}

static void
parse_accounts(struct parse *p, yaml_node_t *v)
{
    struct cfg *cfg = p->cfg;
    size_t n;
    yaml_node_item_t *it;

    if (v->type != YAML_SEQUENCE_NODE) {
        perr(p, v, "'accounts' must be a list of accounts, not %s", node_kind(v));
        return;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CFG_MAX_ITEMS) {
        perr(p, v, "'accounts' has more than %d entries", CFG_MAX_ITEMS);
        return;
    }
    cfg->accounts = calloc(n ? n : 1, sizeof(*cfg->accounts));
    if (cfg->accounts == NULL) {
        p->oom = 1;
        return;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, *it);
        struct cfg_account *a = &cfg->accounts[cfg->naccounts];

        if (item == NULL)
            continue;
        cfg->naccounts++;
        if (item->type == YAML_SCALAR_NODE) {
            /* shorthand: - "111111111111" */
            if (get_string(p, item, "accounts[]", &a->id) == 0 && !valid_account_id(a->id))
                perr(p, item, "account id '%s' must be 12 digits (quote it to keep leading zeros)",
                    a->id);
            continue;
        }
        walk_mapping(p, item, "an account", account_pair, a);
        if (a->id == NULL)
            perr(p, item, "account has no 'id'");
        else if (a->role_arn != NULL && valid_role_arn(a->role_arn) &&
                 strncmp(strstr(a->role_arn, ":iam::") + 6, a->id, 12) != 0)
            perr(p, item, "role_arn '%s' is not in account %s", a->role_arn, a->id);
        for (size_t j = 0; a->id != NULL && j + 1 < cfg->naccounts; j++) {
            if (cfg->accounts[j].id != NULL && strcmp(cfg->accounts[j].id, a->id) == 0)
                perr(p, item, "account %s is listed twice", a->id);
        }
    }
}

static void
parse_regions(struct parse *p, yaml_node_t *v)
{
    struct cfg *cfg = p->cfg;
    yaml_node_item_t *it;
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE) {
        perr(p, v, "'regions' must be a list like [us-east-1, eu-west-1], not %s", node_kind(v));
        return;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > 64) {
        perr(p, v, "'regions' has more than 64 entries");
        return;
    }
    cfg->regions = calloc(n ? n : 1, sizeof(char *));
    if (cfg->regions == NULL) {
        p->oom = 1;
        return;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, *it);
        char *r = NULL;

        if (item == NULL || get_string(p, item, "regions[]", &r) < 0)
            continue;
        if (!valid_region(r)) {
            perr(p, item, "'%s' is not a region name like us-east-1", r);
            free(r);
            continue;
        }
        for (size_t j = 0; j < cfg->nregions; j++) {
            if (cfg->regions[j] != NULL && strcmp(cfg->regions[j], r) == 0) {
                perr(p, item, "region '%s' is listed twice", r);
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
org_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg *cfg = ctx;

    if (strcmp(key, "aggregator") == 0) {
        get_string(p, v, "aggregator", &cfg->org_aggregator);
    } else if (strcmp(key, "region") == 0) {
        if (get_string(p, v, "region", &cfg->org_region) == 0 && !valid_region(cfg->org_region))
            perr(p, v, "'%s' is not a region name like us-east-1", cfg->org_region);
    } else if (strcmp(key, "account") == 0) {
        if (get_string(p, v, "account", &cfg->org_account_id) == 0 &&
            !valid_account_id(cfg->org_account_id))
            perr(p, v, "account id '%s' must be 12 digits", cfg->org_account_id);
    } else if (strcmp(key, "role_arn") == 0) {
        if (get_string(p, v, "role_arn", &cfg->org_role_arn) == 0 &&
            !valid_role_arn(cfg->org_role_arn))
            perr(p, v, "role_arn '%s' is not an IAM role ARN", cfg->org_role_arn);
    } else {
        add_error_unknown(p, k, key, "'organization'", "aggregator, region, account, role_arn");
    }
}

static void
endpoint_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
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
        add_error_unknown(p, k, key, "'endpoints'", "config, securityhub, sts");
        return;
    }
    if (get_string(p, v, key, dst) == 0 && !valid_url(*dst))
        perr(p, v, "endpoint '%s' must be an https:// URL (http:// only for loopback addresses)",
            *dst);
}

static void
ignore_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg_ignore *ig = ctx;

    if (strcmp(key, "resource_type") == 0) {
        if (get_string(p, v, key, &ig->resource_type) == 0 &&
            strncmp(ig->resource_type, "AWS::", 5) != 0)
            perr(p, v, "resource_type '%s' must look like AWS::EC2::Instance", ig->resource_type);
    } else if (strcmp(key, "tag") == 0) {
        char *eq;
        if (get_string(p, v, key, &ig->tag_key) < 0)
            return;
        eq = strchr(ig->tag_key, '=');
        if (eq != NULL) {
            *eq = '\0';
            ig->tag_value = strdup(eq + 1);
            if (ig->tag_value == NULL)
                p->oom = 1;
        }
        if (ig->tag_key[0] == '\0')
            perr(p, v, "tag must be KEY or KEY=VALUE");
    } else if (strcmp(key, "attribute") == 0) {
        get_string(p, v, key, &ig->attribute);
    } else {
        add_error_unknown(p, k, key, "an ignore rule", "resource_type, tag, attribute");
    }
}

static void
parse_ignores(struct parse *p, yaml_node_t *v)
{
    struct cfg *cfg = p->cfg;
    yaml_node_item_t *it;
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE) {
        perr(p, v, "'ignore' must be a list of rules, not %s", node_kind(v));
        return;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CFG_MAX_ITEMS) {
        perr(p, v, "'ignore' has more than %d rules", CFG_MAX_ITEMS);
        return;
    }
    cfg->ignores = calloc(n ? n : 1, sizeof(*cfg->ignores));
    if (cfg->ignores == NULL) {
        p->oom = 1;
        return;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, *it);
        struct cfg_ignore *ig;

        if (item == NULL)
            continue;
        ig = &cfg->ignores[cfg->nignores++];
        walk_mapping(p, item, "an ignore rule", ignore_pair, ig);
        if (item->type == YAML_MAPPING_NODE && ig->resource_type == NULL && ig->tag_key == NULL &&
            ig->attribute == NULL)
            perr(p, item, "an ignore rule needs resource_type, tag or attribute");
    }
}

static void
webhook_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg *cfg = ctx;

    if (strcmp(key, "url") == 0) {
        if (get_string(p, v, key, &cfg->webhook_url) == 0 && !valid_url(cfg->webhook_url))
            perr(p, v, "webhook url must be https:// (http:// only for loopback addresses)");
    } else if (strcmp(key, "secret_file") == 0) {
        get_string(p, v, key, &cfg->webhook_secret_file);
    } else if (strcmp(key, "secret") == 0) {
        if (get_string(p, v, key, &cfg->webhook_secret) == 0)
            cfg->holds_secrets = 1;
    } else {
        add_error_unknown(p, k, key, "'webhook'", "url, secret_file, secret");
    }
}

static void
feed_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg *cfg = ctx;
    long long n;

    if (strcmp(key, "webhook") == 0)
        walk_mapping(p, v, "'webhook'", webhook_pair, cfg);
    else if (strcmp(key, "max_bytes") == 0) {
        if (get_int(p, v, key, 4096, 1LL << 40, &n) == 0)
            cfg->feed_max_bytes = (long)n;
    } else
        add_error_unknown(p, k, key, "'feed'", "webhook, max_bytes");
}

static void
compliance_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg *cfg = ctx;

    if (strcmp(key, "enabled") == 0)
        get_bool(p, v, key, &cfg->compliance_enabled);
    else if (strcmp(key, "full_refresh") == 0)
        get_duration(p, v, key, 60, &cfg->compliance_full_refresh_s);
    else
        add_error_unknown(p, k, key, "'compliance'", "enabled, full_refresh");
}

static void
top_pair(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct cfg *cfg = p->cfg;
    long long n;

    (void)ctx;
    if (strcmp(key, "state_dir") == 0) {
        if (get_string(p, v, key, &cfg->state_dir) == 0 && cfg->state_dir[0] != '/')
            perr(p, v, "state_dir '%s' must be an absolute path", cfg->state_dir);
    } else if (strcmp(key, "interval") == 0) {
        get_duration(p, v, key, 10, &cfg->interval_s);
    } else if (strcmp(key, "regions") == 0) {
        parse_regions(p, v);
    } else if (strcmp(key, "accounts") == 0) {
        parse_accounts(p, v);
    } else if (strcmp(key, "organization") == 0) {
        walk_mapping(p, v, "'organization'", org_pair, cfg);
        if (v->type == YAML_MAPPING_NODE && (cfg->org_aggregator == NULL || cfg->org_region == NULL))
            perr(p, v, "'organization' needs both 'aggregator' and 'region'");
    } else if (strcmp(key, "discovery") == 0) {
        char *d = NULL;
        if (get_string(p, v, key, &d) == 0) {
            if (strcmp(d, "select") == 0)
                cfg->discovery = CFG_DISCOVERY_SELECT;
            else if (strcmp(d, "list") == 0)
                cfg->discovery = CFG_DISCOVERY_LIST;
            else
                perr(p, v, "discovery must be 'select' or 'list', not '%s'", d);
        }
        free(d);
    } else if (strcmp(key, "mapping") == 0) {
        get_string(p, v, key, &cfg->mapping_path);
    } else if (strcmp(key, "endpoints") == 0) {
        walk_mapping(p, v, "'endpoints'", endpoint_pair, cfg);
    } else if (strcmp(key, "ignore") == 0) {
        parse_ignores(p, v);
    } else if (strcmp(key, "max_attempts") == 0) {
        if (get_int(p, v, key, 1, 20, &n) == 0)
            cfg->max_attempts = (int)n;
    } else if (strcmp(key, "concurrency") == 0) {
        if (get_int(p, v, key, 1, 64, &n) == 0)
            cfg->concurrency = (int)n;
    } else if (strcmp(key, "metrics_file") == 0) {
        if (get_string(p, v, key, &cfg->metrics_file) == 0 && cfg->metrics_file[0] != '/')
            perr(p, v, "metrics_file '%s' must be an absolute path", cfg->metrics_file);
    } else if (strcmp(key, "compliance") == 0) {
        walk_mapping(p, v, "'compliance'", compliance_pair, cfg);
    } else if (strcmp(key, "feed") == 0) {
        walk_mapping(p, v, "'feed'", feed_pair, cfg);
    } else {
        add_error_unknown(p, k, key, "the configuration",
            "state_dir, interval, regions, accounts, organization, discovery, mapping, "
            "endpoints, ignore, max_attempts, concurrency, metrics_file, compliance, feed");
    }
}

/* Rules that span keys. */
static void
cfg_check(struct parse *p, yaml_node_t *root)
{
    struct cfg *cfg = p->cfg;

    if (cfg->naccounts == 0 && cfg->org_aggregator == NULL)
        perr(p, root, "no 'accounts' and no 'organization': nothing to sync");
    if (cfg->naccounts > 0 && cfg->org_aggregator != NULL)
        perr(p, root, "'accounts' and 'organization' exclude each other");
    if (cfg->nregions == 0 && cfg->org_aggregator == NULL)
        perr(p, root, "'regions' must list at least one region");
    if (cfg->webhook_secret != NULL && cfg->webhook_secret_file != NULL)
        perr(p, root, "webhook 'secret' and 'secret_file' exclude each other");
    if ((cfg->webhook_secret != NULL || cfg->webhook_secret_file != NULL) &&
        cfg->webhook_url == NULL)
        perr(p, root, "a webhook secret is set but no webhook 'url'");
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
    yaml_parser_t parser;
    yaml_document_t doc;
    struct parse p;
    struct cfg *cfg = NULL;
    yaml_node_t *root;
    int rc = -1, have_parser = 0, have_doc = 0;

    memset(&p, 0, sizeof(p));
    p.name = name;
    p.diag = diag;
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
    p.cfg = cfg;
    if (!yaml_parser_initialize(&parser)) {
        err_set(err, ERR_INTERNAL, "cannot initialise the YAML parser");
        goto out;
    }
    have_parser = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = parser.problem != NULL ? &parser.problem_mark : &parser.context_mark;
        char msg[600];
        snprintf(msg, sizeof(msg), "%s:%zu:%zu: %s%s%s", name, m->line + 1, m->column + 1,
            parser.problem ? parser.problem : "invalid YAML",
            parser.context ? " " : "", parser.context ? parser.context : "");
        p.nerrors++;
        if (diag != NULL) {
            char **grown = realloc(diag->msgs, (diag->n + 1) * sizeof(*grown));
            if (grown != NULL) {
                diag->msgs = grown;
                diag->msgs[diag->n] = strdup(msg);
                if (diag->msgs[diag->n] != NULL)
                    diag->n++;
            }
        }
        err_set(err, ERR_CONFIG, "%s", msg);
        goto out;
    }
    have_doc = 1;
    p.doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL || is_null(root)) {
        perr(&p, NULL, "the configuration is empty");
    } else {
        walk_mapping(&p, root, "the configuration", top_pair, NULL);
        if (root->type == YAML_MAPPING_NODE)
            cfg_check(&p, root);
    }
    if (p.oom) {
        err_set(err, ERR_INTERNAL, "out of memory while reading %s", name);
        goto out;
    }
    if (p.nerrors > 0) {
        err_set(err, ERR_CONFIG, "%.400s (%zu problem%s)", p.first, p.nerrors,
            p.nerrors == 1 ? "" : "s");
        goto out;
    }
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
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    cfg_free(cfg);
    return rc;
}

int
cfg_load(const char *path, struct cfg **ret, struct cfg_diag *diag, struct err *err)
{
    struct buf b;
    int rc;

    buf_init(&b, CFG_MAX_FILE);
    if (util_read_file(path, &b, err) < 0) {
        if (diag != NULL) {
            char **grown = realloc(diag->msgs, (diag->n + 1) * sizeof(*grown));
            if (grown != NULL) {
                diag->msgs = grown;
                diag->msgs[diag->n] = strdup(err->msg);
                if (diag->msgs[diag->n] != NULL)
                    diag->n++;
            }
        }
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
