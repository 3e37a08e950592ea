/*
 * discover.c: AWS Config reads (see discover.h). Request bodies are built
 * with jansson (never by pasting strings), answers parsed page by page and
 * each item normalised and emitted before the next page is requested.
 *
 * Select queries are split so no expression exceeds AWS's 4096-character
 * limit. Every loop over pages is bounded (max_pages) and watches for a
 * NextToken it has already seen, which would otherwise loop forever.
 */
#include "providers/aws/discover.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/jsonr.h"
#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/pager.h"

#define SELECT_FIELDS                                                                              \
    "resourceId, resourceType, resourceName, accountId, awsRegion, arn, availabilityZone, "       \
    "resourceCreationTime, configurationItemCaptureTime, configurationItemStatus, tags, "         \
    "relationships, configuration, supplementaryConfiguration"
#define EXPR_MAX       3800 /* AWS allows 4096; leave room */
#define PAGE_LIMIT     100
#define BATCH_MAX      100
#define DEFAULT_PAGES  10000L /* 1M items per query: beyond any real account and region */
#define UNPROCESSED_MAX_ROUNDS 10
#define DISCOVER_MALFORMED_TRIES 3 /* see config_call */

static int
valid_type(const char *t)
{
    size_t n = strlen(t);

    if (n < 8 || n > 128 || strncmp(t, "AWS::", 5) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)t[i]) && t[i] != ':')
            return 0;
    }
    return 1;
}

char *
discover_select_expression(const char *const *types, size_t ntypes, struct err *err)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    if (buf_puts(&b, "SELECT " SELECT_FIELDS " WHERE resourceType IN (", err) < 0)
        goto fail;
    for (size_t i = 0; i < ntypes; i++) {
        if (!valid_type(types[i])) {
            err_set(err, ERR_INTERNAL, "resource type '%.100s' is not of the form AWS::X::Y",
                types[i]);
            goto fail;
        }
        if (buf_printf(&b, err, "%s'%s'", i ? ", " : "", types[i]) < 0)
            goto fail;
    }
    if (buf_puts(&b, ")", err) < 0)
        goto fail;
    return buf_steal(&b);
fail:
    buf_clear(&b);
    return NULL;
}

/* A value AWS sends as JSON text is decoded; other values are copied. */
static json_t *
decode_embedded(json_t *v, const char *what, struct err *err)
{
    json_error_t jerr;
    json_t *out;

    if (!json_is_string(v))
        return json_incref(v);
    if (json_string_length(v) == 0)
        return json_object();
    /* JSON_ALLOW_NUL: a NUL escaped in one tag or name must not cost the
     * whole account and region; such strings are cut at the NUL wherever
     * they are used as C strings, and stored escaped */
    out = jsonr_loadb(json_string_value(v), json_string_length(v),
        JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (out == NULL) {
        err_set(err, ERR_REMOTE, "%s is not valid JSON: %s at offset %d", what, jerr.text,
            jerr.position);
        return NULL;
    }
    return out;
}

/* tags: [{"key":K,"value":V}] / [{"Key":K,"Value":V}] / {K: V} -> {K: V} */
static json_t *
tags_to_map(json_t *tags)
{
    json_t *map = json_object();
    size_t i;
    json_t *t;

    if (map == NULL)
        return NULL;
    if (json_is_object(tags)) {
        const char *k;
        json_t *v;
        json_object_foreach(tags, k, v) {
            if (json_is_string(v))
                json_object_set(map, k, v);
        }
        return map;
    }
    if (!json_is_array(tags))
        return map;
    json_array_foreach(tags, i, t) {
        json_t *k = json_object_get(t, "key");
        json_t *v = json_object_get(t, "value");
        if (k == NULL)
            k = json_object_get(t, "Key");
        if (v == NULL)
            v = json_object_get(t, "Value");
        /* a tag without a string value maps to "" (a new reference: _new,
         * or it leaked; found by tests/fuzz/fuzz_discover_item) */
        if (json_is_string(k) && json_is_string(v))
            json_object_set(map, json_string_value(k), v);
        else if (json_is_string(k))
            json_object_set_new(map, json_string_value(k), json_string(""));
    }
    return map;
}

/* supplementaryConfiguration values are JSON strings in most answers */
static json_t *
normalize_supplementary(json_t *sup, struct err *err)
{
    json_t *out, *dec;
    const char *k;
    json_t *v;

    if (sup == NULL || json_is_null(sup))
        return json_object();
    if (json_is_string(sup))
        sup = decode_embedded(sup, "supplementaryConfiguration", err);
    else
        json_incref(sup);
    if (sup == NULL)
        return NULL;
    if (!json_is_object(sup)) {
        json_decref(sup);
        err_set(err, ERR_REMOTE, "supplementaryConfiguration is not an object");
        return NULL;
    }
    out = json_object();
    json_object_foreach(sup, k, v) {
        /* a value that is not JSON text stays a plain string */
        struct err ignored = {0};
        dec = json_is_string(v) ? decode_embedded(v, k, &ignored) : json_incref(v);
        if (dec == NULL)
            dec = json_incref(v);
        json_object_set_new(out, k, dec);
    }
    json_decref(sup);
    return out;
}

/* Config sends times as epoch seconds (JSON 1.1) in BatchGet and as
 * strings in Select results; keep RFC 3339 strings. */
static json_t *
normalize_time(json_t *v)
{
    char out[21];

    if (json_is_number(v)) {
        util_time_rfc3339((time_t)json_number_value(v), out);
        return json_string(out);
    }
    if (json_is_string(v))
        return json_incref(v);
    return json_null();
}

static const char *const copy_fields[] = {"resourceId", "resourceType", "resourceName",
    "accountId", "awsRegion", "arn", "availabilityZone", "configurationItemStatus", "version"};

static json_t *
normalize_common(json_t *raw, struct err *err)
{
    json_t *out, *conf, *sup;

    if (!json_is_object(raw)) {
        err_set(err, ERR_REMOTE, "configuration item is not an object");
        return NULL;
    }
    if (!json_is_string(json_object_get(raw, "resourceType")) ||
        !json_is_string(json_object_get(raw, "resourceId"))) {
        err_set(err, ERR_REMOTE, "configuration item lacks resourceType or resourceId");
        return NULL;
    }
    out = json_object();
    if (out == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(copy_fields) / sizeof(copy_fields[0]); i++) {
        json_t *v = json_object_get(raw, copy_fields[i]);
        if (json_is_string(v))
            json_object_set(out, copy_fields[i], v);
    }
    json_object_set_new(out, "configurationItemCaptureTime",
        normalize_time(json_object_get(raw, "configurationItemCaptureTime")));
    json_object_set_new(out, "resourceCreationTime",
        normalize_time(json_object_get(raw, "resourceCreationTime")));
    conf = json_object_get(raw, "configuration");
    if (conf == NULL || json_is_null(conf)) {
        conf = json_object();
    } else {
        conf = decode_embedded(conf, "configuration", err);
        if (conf == NULL) {
            err_prefix(err, "%s %s", json_string_value(json_object_get(raw, "resourceType")),
                json_string_value(json_object_get(raw, "resourceId")));
            json_decref(out);
            return NULL;
        }
    }
    json_object_set_new(out, "configuration", conf);
    sup = normalize_supplementary(json_object_get(raw, "supplementaryConfiguration"), err);
    if (sup == NULL) {
        json_decref(out);
        return NULL;
    }
    json_object_set_new(out, "supplementaryConfiguration", sup);
    return out;
}

json_t *
discover_normalize_select_row(json_t *row, struct err *err)
{
    json_t *out = normalize_common(row, err);
    json_t *rels;

    if (out == NULL)
        return NULL;
    json_object_set_new(out, "tags", tags_to_map(json_object_get(row, "tags")));
    rels = json_object_get(row, "relationships");
    json_object_set_new(out, "relationships", json_is_array(rels) ? json_incref(rels) : json_array());
    return out;
}

json_t *
discover_normalize_base_item(json_t *item, struct err *err)
{
    static const char *const tag_paths[] = {"tags", "tagList", "Tags", "tagSet", "TagList"};
    json_t *out = normalize_common(item, err);
    json_t *conf, *sup, *tags = NULL;

    if (out == NULL)
        return NULL;
    conf = json_object_get(out, "configuration");
    for (size_t i = 0; tags == NULL && i < sizeof(tag_paths) / sizeof(tag_paths[0]); i++) {
        json_t *t = json_object_get(conf, tag_paths[i]);
        if (json_is_array(t) || json_is_object(t))
            tags = t;
    }
    sup = json_object_get(out, "supplementaryConfiguration");
    if (tags == NULL) {
        json_t *t = json_object_get(sup, "Tags");
        if (json_is_array(t) || json_is_object(t))
            tags = t;
    }
    json_object_set_new(out, "tags", tags != NULL ? tags_to_map(tags) : json_object());
    json_object_set_new(out, "relationships", json_array());
    return out;
}

/* ---- one JSON 1.1 call ---- */

static int
config_call(struct aws_client *client, const char *op, json_t *req, json_t **ret, struct err *err)
{
    char target[96];
    char *body;
    struct aws_response resp;
    json_error_t jerr;
    json_t *doc;
    int rc = -1;

    memset(&resp, 0, sizeof(resp));
    body = json_dumps(req, JSON_COMPACT);
    if (body == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory building %s", op);
    snprintf(target, sizeof(target), "StarlingDoveService.%s", op);
    struct aws_call call = {
        .service = "config",
        .operation = op,
        .protocol = AWS_PROTO_JSON11,
        .target = target,
        .method = "POST",
        .path = "/",
        .body = body,
        .body_len = strlen(body),
    };
    /* A 200 whose body does not parse was corrupted on the way (a proxy, a
     * cut connection): the calls are read-only, so it is asked again, at
     * most DISCOVER_MALFORMED_TRIES times in all, before it becomes the
     * target's error. */
    for (int tries = 1;; tries++) {
        if (aws_call(client, &call, &resp, err) < 0)
            goto out;
        doc = jsonr_loadb(buf_str(&resp.body), resp.body.len, 0, &jerr);
        if (json_is_object(doc))
            break;
        json_decref(doc);
        err_set(err, ERR_REMOTE, "config %s: malformed answer (%s at byte %d of %zu)%s%s", op,
            doc == NULL ? jerr.text : "not a JSON object", doc == NULL ? jerr.position : 0,
            resp.body.len, resp.request_id[0] ? ", request id " : "", resp.request_id);
        if (tries >= DISCOVER_MALFORMED_TRIES)
            goto out;
        aws_response_clear(&resp);
        memset(&resp, 0, sizeof(resp));
    }
    *ret = doc;
    rc = 0;
out:
    aws_response_clear(&resp);
    free(body);
    return rc;
}

/* Hands page `page`'s next token (field) to the pager and, to go on, into
 * req's req_field. Returns 1 to continue, 0 at the end, -1 to stop. */
static int
next_page(json_t *doc, const char *field, struct pager *pg, size_t items, json_t *req,
    const char *req_field, struct err *err)
{
    json_t *tok = json_object_get(doc, field);
    int r;

    if (tok != NULL && !json_is_null(tok) && !json_is_string(tok))
        return err_set(err, ERR_REMOTE, "%s: page %ld has a %s that is not a string", pg->what,
            pg->page + 1, field);
    r = pager_next(pg, items, json_string_value(tok), json_string_length(tok), err);
    if (r > 0)
        json_object_set(req, req_field, tok);
    return r;
}

/* AWS Config's published per-account+region limits (advanced queries 10/s
 * burst 20, the other read operations 20/s burst 40), each with one token
 * kept back: the client's bucket is charged when a request leaves, AWS's
 * when it arrives, and requests can arrive closer together than they left
 * (bench/, 100k resources: a second run that parses nothing reached the
 * limit and was throttled 20 times without it). */
int
discover_configure_ratelimit(struct aws_ratelimit *rl, struct err *err)
{
    if (aws_ratelimit_set(rl, "config:SelectResourceConfig", 10.0, 19.0, err) < 0 ||
        aws_ratelimit_set(rl, "config:SelectAggregateResourceConfig", 10.0, 19.0, err) < 0)
        return -1;
    return aws_ratelimit_set(rl, "config", 20.0, 39.0, err);
}

void
discover_item_ident(json_t *item, char *out, size_t n)
{
    const char *acct = json_string_value(json_object_get(item, "accountId"));
    const char *reg = json_string_value(json_object_get(item, "awsRegion"));
    const char *type = json_string_value(json_object_get(item, "resourceType"));
    const char *id = json_string_value(json_object_get(item, "resourceId"));

    snprintf(out, n, "%s/%s/%s/%s", acct ? acct : "", reg ? reg : "", type ? type : "",
        id ? id : "");
}

static int
run_select(struct aws_client *client, const struct discover_options *o, const char *expr,
    discover_emit_fn emit, void *ctx, struct discover_counts *counts, struct err *err)
{
    const char *op = o->mode == DISCOVER_AGGREGATE ? "SelectAggregateResourceConfig"
                                                    : "SelectResourceConfig";
    long max_pages = o->max_pages > 0 ? o->max_pages : DEFAULT_PAGES;
    char what[64];
    struct pager pg;
    json_t *req = json_object();
    long page = 0;
    int rc = -1, more = 1;

    snprintf(what, sizeof(what), "config %s", op);
    pager_init(&pg, what, max_pages);
    if (req == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    json_object_set_new(req, "Expression", json_string(expr));
    json_object_set_new(req, "Limit", json_integer(PAGE_LIMIT));
    if (o->mode == DISCOVER_AGGREGATE)
        json_object_set_new(req, "ConfigurationAggregatorName", json_string(o->aggregator));
    while (more) {
        json_t *doc = NULL, *results, *row;
        size_t i;

        page++;
        if (config_call(client, op, req, &doc, err) < 0)
            goto out;
        counts->pages++;
        results = json_object_get(doc, "Results");
        if (results != NULL && !json_is_array(results)) {
            json_decref(doc);
            err_set(err, ERR_REMOTE, "config %s: page %ld: Results is not a list", op, page);
            goto out;
        }
        json_array_foreach(results, i, row) {
            json_t *parsed, *item;

            if (!json_is_string(row)) {
                json_decref(doc);
                err_set(err, ERR_REMOTE, "config %s: page %ld row %zu is not a JSON string", op,
                    page, i + 1);
                goto out;
            }
            if (o->known != NULL) {
                const char *ident = NULL;
                int k = o->known(ctx, json_string_value(row), json_string_length(row), &ident,
                    err);

                if (k < 0) {
                    json_decref(doc);
                    err_prefix(err, "config %s: page %ld row %zu", op, page, i + 1);
                    goto out;
                }
                if (k > 0) {
                    if (ident == NULL || pager_item(&pg, ident, strlen(ident), err) < 0) {
                        if (ident == NULL)
                            err_set(err, ERR_INTERNAL, "known row without an identity");
                        json_decref(doc);
                        goto out;
                    }
                    counts->items++;
                    continue;
                }
            }
            parsed = decode_embedded(row, "result row", err);
            item = parsed != NULL ? discover_normalize_select_row(parsed, err) : NULL;
            json_decref(parsed);
            if (item == NULL) {
                json_decref(doc);
                err_prefix(err, "config %s: page %ld row %zu", op, page, i + 1);
                goto out;
            }
            {
                /* a resource is unique per account and region within a read */
                char ident[DISCOVER_IDENT_MAX];

                discover_item_ident(item, ident, sizeof(ident));
                if (pager_item(&pg, ident, strlen(ident), err) < 0) {
                    json_decref(item);
                    json_decref(doc);
                    goto out;
                }
            }
            counts->items++;
            if (emit(ctx, item, err) < 0) {
                json_decref(item);
                json_decref(doc);
                goto out;
            }
            json_decref(item);
        }
        more = next_page(doc, "NextToken", &pg, json_array_size(results), req, "NextToken", err);
        json_decref(doc);
        if (more < 0)
            goto out;
    }
    rc = 0;
out:
    pager_clear(&pg);
    json_decref(req);
    return rc;
}

static int
select_all(struct aws_client *client, const struct discover_options *o, discover_emit_fn emit,
    void *ctx, struct discover_counts *counts, struct err *err)
{
    size_t start = 0;

    while (start < o->ntypes) {
        size_t n = 0, len = 0;
        char *expr;
        int rc;

        /* as many types as fit under the expression limit */
        while (start + n < o->ntypes && (n == 0 || len + strlen(o->types[start + n]) + 4 <
                                                       EXPR_MAX - sizeof(SELECT_FIELDS) - 64)) {
            len += strlen(o->types[start + n]) + 4;
            n++;
        }
        expr = discover_select_expression(o->types + start, n, err);
        if (expr == NULL)
            return -1;
        rc = run_select(client, o, expr, emit, ctx, counts, err);
        free(expr);
        if (rc < 0)
            return -1;
        start += n;
    }
    return 0;
}

/* BatchGetResourceConfig for keys (an array of ResourceKey), retrying the
 * unprocessed ones a bounded number of times. */
static int
batch_get(struct aws_client *client, json_t *keys, discover_emit_fn emit, void *ctx,
    struct discover_counts *counts, struct err *err)
{
    json_t *pending = json_incref(keys);
    int round = 0, rc = -1;

    while (json_array_size(pending) > 0) {
        json_t *req = json_object(), *doc = NULL, *items, *item, *unproc;
        size_t i;

        if (++round > UNPROCESSED_MAX_ROUNDS) {
            err_set(err, ERR_THROTTLED,
                "config BatchGetResourceConfig: %zu keys still unprocessed after %d rounds",
                json_array_size(pending), UNPROCESSED_MAX_ROUNDS);
            json_decref(req);
            goto out;
        }
        json_object_set(req, "resourceKeys", pending);
        if (config_call(client, "BatchGetResourceConfig", req, &doc, err) < 0) {
            json_decref(req);
            goto out;
        }
        json_decref(req);
        counts->pages++;
        items = json_object_get(doc, "baseConfigurationItems");
        if (items != NULL && !json_is_array(items)) {
            json_decref(doc);
            err_set(err, ERR_REMOTE,
                "config BatchGetResourceConfig: baseConfigurationItems is not a list");
            goto out;
        }
        json_array_foreach(items, i, item) {
            json_t *norm = discover_normalize_base_item(item, err);
            if (norm == NULL) {
                json_decref(doc);
                err_prefix(err, "config BatchGetResourceConfig item %zu", i + 1);
                goto out;
            }
            counts->items++;
            if (emit(ctx, norm, err) < 0) {
                json_decref(norm);
                json_decref(doc);
                goto out;
            }
            json_decref(norm);
        }
        unproc = json_object_get(doc, "unprocessedResourceKeys");
        json_decref(pending);
        pending = json_is_array(unproc) ? json_incref(unproc) : json_array();
        if (json_array_size(pending) > 0)
            counts->unprocessed_retries++;
        json_decref(doc);
    }
    rc = 0;
out:
    json_decref(pending);
    return rc;
}

static int
list_type(struct aws_client *client, const struct discover_options *o, const char *type,
    discover_emit_fn emit, void *ctx, struct discover_counts *counts, struct err *err)
{
    long max_pages = o->max_pages > 0 ? o->max_pages : DEFAULT_PAGES;
    char what[128];
    struct pager pg;
    json_t *req = json_object();
    json_t *keys = json_array();
    long page = 0;
    int rc = -1, more = 1;

    snprintf(what, sizeof(what), "config ListDiscoveredResources %.80s", type);
    pager_init(&pg, what, max_pages);

    json_object_set_new(req, "resourceType", json_string(type));
    json_object_set_new(req, "limit", json_integer(PAGE_LIMIT));
    while (more) {
        json_t *doc = NULL, *ids, *id;
        size_t i;

        page++;
        if (config_call(client, "ListDiscoveredResources", req, &doc, err) < 0)
            goto out;
        counts->pages++;
        ids = json_object_get(doc, "resourceIdentifiers");
        if (ids != NULL && !json_is_array(ids)) {
            json_decref(doc);
            err_set(err, ERR_REMOTE,
                "config ListDiscoveredResources %s: page %ld: resourceIdentifiers is not a list",
                type, page);
            goto out;
        }
        json_array_foreach(ids, i, id) {
            json_t *rid = json_object_get(id, "resourceId");
            json_t *key;

            if (!json_is_string(rid)) {
                json_decref(doc);
                err_set(err, ERR_REMOTE,
                    "config ListDiscoveredResources %s: page %ld entry %zu has no resourceId",
                    type, page, i + 1);
                goto out;
            }
            if (pager_item(&pg, json_string_value(rid), json_string_length(rid), err) < 0) {
                json_decref(doc);
                goto out;
            }
            if (json_object_get(id, "resourceDeletionTime") != NULL)
                continue; /* deleted resources are not deployed */
            key = json_pack("{s:s, s:O}", "resourceType", type, "resourceId", rid);
            json_array_append_new(keys, key);
            if (json_array_size(keys) == BATCH_MAX) {
                if (batch_get(client, keys, emit, ctx, counts, err) < 0) {
                    json_decref(doc);
                    goto out;
                }
                json_array_clear(keys);
            }
        }
        more = next_page(doc, "nextToken", &pg, json_array_size(ids), req, "nextToken", err);
        json_decref(doc);
        if (more < 0)
            goto out;
    }
    if (json_array_size(keys) > 0 && batch_get(client, keys, emit, ctx, counts, err) < 0)
        goto out;
    rc = 0;
out:
    pager_clear(&pg);
    json_decref(keys);
    json_decref(req);
    return rc;
}

int
discover_run(struct aws_client *client, const struct discover_options *opts,
    discover_emit_fn emit, void *ctx, struct discover_counts *counts, struct err *err)
{
    struct discover_counts local = {0};

    if (counts == NULL)
        counts = &local;
    if (opts->ntypes == 0)
        return err_set(err, ERR_INTERNAL, "discovery without resource types");
    switch (opts->mode) {
    case DISCOVER_SELECT:
        return select_all(client, opts, emit, ctx, counts, err);
    case DISCOVER_AGGREGATE:
        if (opts->aggregator == NULL)
            return err_set(err, ERR_INTERNAL, "aggregate discovery without an aggregator");
        return select_all(client, opts, emit, ctx, counts, err);
    case DISCOVER_LIST:
        for (size_t i = 0; i < opts->ntypes; i++) {
            if (list_type(client, opts, opts->types[i], emit, ctx, counts, err) < 0)
                return -1;
        }
        return 0;
    }
    return err_set(err, ERR_INTERNAL, "unknown discovery mode");
}
