/*
 * project.c: map_project, an item reduced to what map_target reads of it.
 *
 * Why: a worker receives every configuration item of its target before
 * mapping them all at once; a full item is ~2-20 KB of JSON of which the
 * mapping reads a few hundred bytes. Projecting each item as it arrives
 * keeps memory proportional to what matters.
 *
 * How: each rule gets a "keep plan" at load time (map_keep_build, called
 * by rules.c): a trie of the keys any path of the rule walks (name, vpc,
 * boundary and security-group refs, attributes, flow ends, labels,
 * protocol, port, the component_from switch) plus the fields map.c reads
 * itself (resourceType, resourceId, arn/ARN, resourceName, status, capture
 * time, configuration.vpcId, route-table routes and associations,
 * security-group permissions, tags for components, relationships of the
 * types any `relationship:` ref or map.c's own lookups name). Types without
 * a rule get a plan of map.c's own fields only.
 *
 * Projecting walks the plan, not the item: a node where some path ends
 * keeps its value whole; an object keeps only the plan's keys; a list
 * (`key[]`) keeps every element, each projected; a string met where a path
 * continues is parsed exactly as the path evaluator parses it
 * (map_json_nested) and the parse is projected, except at nodes map.c reads
 * directly ("direct": there a string must stay a string). Values are
 * shared with the input by reference, and so is an object the plan keeps
 * every key of unchanged (a relationship holding only resourceType,
 * resourceId and resourceName; any object of a projection), instead of
 * being copied key by key. Plan keys carry their lengths and the root
 * keys their role (configuration, relationships), so nothing is measured
 * or compared per item. The item's pairs, and those of the objects the
 * plan enters (the first few levels, up to PROJECT_OBJ_VIEW_MAX keys), are
 * listed in one walk with their values prefetched, and the plan's keys
 * found in that short list: on items far apart in memory this beats one
 * hash lookup per plan key, whose cache misses come one after the other.
 *
 * Items map_target skips before indexing (not an object, no type or id,
 * deleted, configuration not an object) keep only what gives the same
 * skip reason. Projection is idempotent, which map.c relies on: it breaks
 * ties between duplicate items by their projections, so mapping originals
 * and mapping projections pick the same winner.
 * Pure: no I/O, no logging.
 */
#include "mapping/map.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "mapping/rules.h"

#define PROJECT_MAX_SEGS 32 /* fixed paths below are short */

struct keep_node;

struct keep_set {
    size_t n;
    struct keep_node *v; /* owned */
};

/* What map_project does with a root key (decided once, not per item). */
enum keep_root {
    KEEP_ROOT_VALUE,         /* project_value */
    KEEP_ROOT_CONFIGURATION, /* project_config */
    KEEP_ROOT_RELATIONSHIPS, /* kept whole (rels_whole) */
};

struct keep_node {
    char *key;            /* owned */
    size_t klen;          /* strlen(key) */
    enum keep_root root;  /* root nodes only */
    int whole;            /* a path ends here: the value is kept whole */
    int direct;           /* map.c reads this value itself: strings stay strings */
    struct keep_set sub;  /* keys kept when the value is an object */
    struct keep_set esub; /* keys kept of each element when the value is a list */
};

struct map_keep {
    struct keep_set root;
    int tags;       /* keep tags whole (components copy them) */
    int rels_whole; /* a rule path walks relationships: keep them whole */
    size_t nrel;
    char **rel; /* owned: relationship resourceTypes kept */
};

/* ---- plan building ---- */

static void
set_clear(struct keep_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        set_clear(&s->v[i].sub);
        set_clear(&s->v[i].esub);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

void
map_keep_free(struct map_keep *keep)
{
    if (keep == NULL)
        return;
    set_clear(&keep->root);
    for (size_t i = 0; i < keep->nrel; i++)
        free(keep->rel[i]);
    free(keep->rel);
    free(keep);
}

/* The node for key in s, added when missing; NULL on OOM. The pointer is
 * valid until the next insertion into s. */
static struct keep_node *
set_node(struct keep_set *s, const char *key)
{
    struct keep_node *g;

    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, key) == 0)
            return &s->v[i];
    }
    g = realloc(s->v, (s->n + 1) * sizeof(*g));
    if (g == NULL)
        return NULL;
    s->v = g;
    memset(&g[s->n], 0, sizeof(*g));
    g[s->n].key = strdup(key);
    if (g[s->n].key == NULL)
        return NULL;
    g[s->n].klen = strlen(key);
    return &s->v[s->n++];
}

static int
keep_segs(struct keep_set *s, const struct map_path_seg *segs, size_t n, int direct)
{
    for (size_t i = 0; i < n; i++) {
        struct keep_node *node = set_node(s, segs[i].key);
        if (node == NULL)
            return -1;
        if (direct)
            node->direct = 1;
        if (i + 1 == n) {
            node->whole = 1;
            break;
        }
        s = segs[i].collect ? &node->esub : &node->sub;
    }
    return 0;
}

static int
keep_path(struct map_keep *k, const struct map_path *p)
{
    return p->n == 0 ? 0 : keep_segs(&k->root, p->segs, p->n, 0);
}

/* A fixed path of map.c's own reads ("configuration.routes[].state"),
 * marked direct. text is a literal of this file: short, well formed. */
static int
keep_fixed(struct map_keep *k, const char *text)
{
    struct map_path_seg segs[PROJECT_MAX_SEGS];
    char buf[256];
    size_t n = 0;
    char *s = buf, *dot;
    size_t tlen = strlen(text);

    if (tlen >= sizeof(buf))
        return -1;
    memcpy(buf, text, tlen + 1);
    for (;;) {
        size_t len;
        dot = strchr(s, '.');
        if (dot != NULL)
            *dot = '\0';
        len = strlen(s);
        segs[n].collect = len > 2 && strcmp(s + len - 2, "[]") == 0;
        if (segs[n].collect)
            s[len - 2] = '\0';
        segs[n].key = s;
        n++;
        if (dot == NULL || n == PROJECT_MAX_SEGS)
            break;
        s = dot + 1;
    }
    return keep_segs(&k->root, segs, n, 1);
}

static int
keep_rel(struct map_keep *k, const char *type)
{
    char **g;

    for (size_t i = 0; i < k->nrel; i++) {
        if (strcmp(k->rel[i], type) == 0)
            return 0;
    }
    g = realloc(k->rel, (k->nrel + 1) * sizeof(*g));
    if (g == NULL)
        return -1;
    k->rel = g;
    g[k->nrel] = strdup(type);
    if (g[k->nrel] == NULL)
        return -1;
    k->nrel++;
    return 0;
}

static int
keep_paths(struct map_keep *k, const struct map_paths *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        if (keep_path(k, &ps->v[i]) < 0)
            return -1;
    }
    return 0;
}

static int
keep_refs(struct map_keep *k, const struct map_refs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        const struct map_ref *r = &rs->v[i];
        int rc = 0;
        if (r->kind == MAP_REF_RELATIONSHIP)
            rc = keep_rel(k, r->type);
        else if (r->kind == MAP_REF_PATH || r->kind == MAP_REF_TYPED_PATH)
            rc = keep_path(k, &r->path);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int
keep_rule(struct map_keep *k, const struct map_rule *r)
{
    if (keep_paths(k, &r->name) < 0 || keep_refs(k, &r->vpc) < 0 ||
        keep_refs(k, &r->boundary) < 0 || keep_refs(k, &r->security_groups) < 0 ||
        keep_path(k, &r->switch_path) < 0)
        return -1;
    for (size_t i = 0; i < r->nattrs; i++) {
        if (keep_paths(k, &r->attrs[i].paths) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->nflows; i++) {
        const struct map_flow_rule *f = &r->flows[i];
        if (keep_refs(k, &f->from) < 0 || keep_refs(k, &f->to) < 0 ||
            keep_paths(k, &f->protocol) < 0 || keep_paths(k, &f->port) < 0)
            return -1;
        for (size_t j = 0; j < f->label.n; j++) {
            if (f->label.parts[j].text == NULL && keep_paths(k, &f->label.parts[j].paths) < 0)
                return -1;
        }
    }
    return 0;
}

/* What map.c reads itself, whatever the rule says. */
static const char *const fixed_all[] = {
    "resourceType", "resourceId", "configurationItemStatus", "configurationItemCaptureTime",
    "arn", "ARN", "resourceName", "configuration.vpcId",
};
static const char *const fixed_route_table[] = {
    "configuration.routes[].destinationCidrBlock", "configuration.routes[].destinationIpv6CidrBlock",
    "configuration.routes[].gatewayId", "configuration.routes[].state",
    "configuration.associations",
};
static const char *const fixed_security_group[] = {
    "configuration.ipPermissions",
};

static int
keep_fixed_list(struct map_keep *k, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (keep_fixed(k, list[i]) < 0)
            return -1;
    }
    return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
map_keep_build(const struct map_rule *rule, struct map_keep **ret)
{
    struct map_keep *k = calloc(1, sizeof(*k));
    const char *type = rule != NULL ? rule->resource_type : NULL;
    int rc = -1;

    if (k == NULL)
        return -1;
    if (keep_fixed_list(k, fixed_all, NELEM(fixed_all)) < 0)
        goto out;
    /* resolve_vpc's generic fallback: relationships to a VPC */
    if (keep_rel(k, "AWS::EC2::VPC") < 0)
        goto out;
    if (type == NULL || strcmp(type, "AWS::EC2::RouteTable") == 0) {
        if (keep_fixed_list(k, fixed_route_table, NELEM(fixed_route_table)) < 0 ||
            keep_rel(k, "AWS::EC2::Subnet") < 0)
            goto out;
    }
    if (type == NULL || strcmp(type, "AWS::EC2::SecurityGroup") == 0) {
        if (keep_fixed_list(k, fixed_security_group, NELEM(fixed_security_group)) < 0)
            goto out;
    }
    if (rule != NULL) {
        k->tags = 1;
        if (keep_rule(k, rule) < 0)
            goto out;
    }
    for (size_t i = 0; i < k->root.n; i++) {
        if (strcmp(k->root.v[i].key, "relationships") == 0) {
            k->rels_whole = 1;
            k->root.v[i].root = KEEP_ROOT_RELATIONSHIPS;
        } else if (strcmp(k->root.v[i].key, "configuration") == 0) {
            k->root.v[i].root = KEEP_ROOT_CONFIGURATION;
        } else if (strcmp(k->root.v[i].key, "tags") == 0) {
            k->root.v[i].whole = 1; /* tags are small and read as a whole */
        }
    }
    *ret = k;
    k = NULL;
    rc = 0;
out:
    map_keep_free(k);
    return rc;
}

/* An item's members, listed in one walk over its keys: the plan's root
 * keys, tags and relationships are then found in this short list instead
 * of one hash lookup each in the item (whose pairs are far apart in
 * memory, and read here once, in order). An item with more keys than fit
 * is read by lookups instead. */
#define PROJECT_VIEW_MAX     64
#define PROJECT_OBJ_VIEW_MAX   48 /* project_obj's list, on its stack */
#define PROJECT_OBJ_VIEW_DEPTH 6  /* objects this deep or deeper are looked up */

struct view_pair {
    const char *key;
    size_t klen;
    json_t *v;
};

struct item_view {
    json_t *item;
    size_t n;                /* pairs listed */
    int listed;              /* 0: too many keys, look them up in item */
    struct view_pair *pairs; /* borrowed: the caller's room for max pairs */
};

/* Lists item's pairs into pairs when it has at most max keys. */
static void
view_init(struct item_view *w, json_t *item, struct view_pair *pairs, size_t max)
{
    void *it;

    w->item = item;
    w->n = 0;
    w->pairs = pairs;
    w->listed = json_object_size(item) <= max;
    if (!w->listed)
        return;
    for (it = json_object_iter(item); it != NULL && w->n < max;
         it = json_object_iter_next(item, it)) {
        w->pairs[w->n].key = json_object_iter_key(it);
        w->pairs[w->n].klen = json_object_iter_key_len(it);
        w->pairs[w->n].v = json_object_iter_value(it);
        __builtin_prefetch(w->pairs[w->n].v); /* most are read soon: start the load */
        w->n++;
    }
}

/* The member key (klen bytes) of the item, or NULL: json_object_getn. */
static json_t *
view_get(const struct item_view *w, const char *key, size_t klen)
{
    if (!w->listed)
        return json_object_getn(w->item, key, klen);
    for (size_t i = 0; i < w->n; i++) {
        if (w->pairs[i].klen == klen && memcmp(w->pairs[i].key, key, klen) == 0)
            return w->pairs[i].v;
    }
    return NULL;
}

/* ---- projecting ---- */

/* depth: objects above this one (0 for the configuration and the item's
 * other members); only the first few levels list their pairs on the stack. */
static json_t *project_obj(json_t *obj, const struct keep_set *s, int depth);
static json_t *project_value(json_t *v, const struct keep_node *node, int depth);

static json_t *
project_list(json_t *list, const struct keep_node *node, int depth)
{
    json_t *out = json_array(), *el;
    size_t i;

    if (out == NULL || node->esub.n == 0)
        return out; /* only `[]` paths enter a list */
    json_array_foreach(list, i, el) {
        json_t *p = NULL, *parsed = NULL;
        if (json_is_string(el) && !node->direct)
            parsed = map_json_nested(el);
        if (json_is_object(el)) {
            p = project_obj(el, &node->esub, depth + 1);
        } else if (json_is_object(parsed)) {
            p = project_obj(parsed, &node->esub, depth + 1);
        } else if (json_is_array(el)) {
            p = json_array(); /* a path never enters a list in a list */
        } else {
            p = json_incref(el);
        }
        json_decref(parsed);
        if (p == NULL || json_array_append_new(out, p) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *
project_value(json_t *v, const struct keep_node *node, int depth)
{
    json_t *parsed, *out;

    if (node->whole)
        return json_incref(v);
    if (json_is_object(v))
        return project_obj(v, &node->sub, depth + 1);
    if (json_is_array(v))
        return project_list(v, node, depth);
    if (json_is_string(v) && !node->direct) {
        /* JSON nested in a string: a path continuing here parses it the same way */
        parsed = map_json_nested(v);
        if (parsed == NULL)
            return json_incref(v);
        out = json_is_object(parsed) ? project_obj(parsed, &node->sub, depth + 1)
                                     : project_list(parsed, node, depth);
        json_decref(parsed);
        return out;
    }
    return json_incref(v);
}

#define PROJECT_SHARE_MAX 32 /* plan sets this small try sharing the object whole */

static json_t *
project_obj(json_t *obj, const struct keep_set *s, int depth)
{
    json_t *kept[PROJECT_SHARE_MAX], *out;
    size_t nkept = 0, i, size = json_object_size(obj);
    int same = 1;
    struct item_view w;
    struct view_pair pairs[PROJECT_OBJ_VIEW_MAX];

    /* A walk over the pairs (their values prefetched as it goes) beats a
     * hash lookup per plan key, even when the plan keeps a third of them:
     * the lookups' misses come one after the other. Bounded depth keeps
     * the stack small whatever paths user rules hold. */
    if (size <= PROJECT_OBJ_VIEW_MAX && depth < PROJECT_OBJ_VIEW_DEPTH)
        view_init(&w, obj, pairs, PROJECT_OBJ_VIEW_MAX);
    else
        view_init(&w, obj, pairs, 0);

    /* An object whose every key the plan keeps, each value unchanged, is
     * shared whole instead of copied (a projection's own objects always
     * are: projecting a projection copies nothing). */
    if (s->n <= PROJECT_SHARE_MAX && json_object_size(obj) <= s->n) {
        for (i = 0; i < s->n; i++) {
            json_t *v = view_get(&w, s->v[i].key, s->v[i].klen), *p;
            kept[i] = NULL;
            if (v == NULL)
                continue;
            p = project_value(v, &s->v[i], depth);
            if (p == NULL) {
                while (i-- > 0)
                    json_decref(kept[i]);
                return NULL;
            }
            kept[i] = p;
            nkept++;
            if (p != v)
                same = 0;
        }
        if (same && nkept == json_object_size(obj)) {
            for (i = 0; i < s->n; i++)
                json_decref(kept[i]);
            return json_incref(obj);
        }
        out = json_object();
        for (i = 0; i < s->n; i++) {
            if (kept[i] == NULL)
                continue;
            if (out != NULL && json_object_set_new_nocheck(out, s->v[i].key, kept[i]) < 0) {
                json_decref(out);
                out = NULL;
            } else if (out == NULL) {
                json_decref(kept[i]);
            }
        }
        return out;
    }
    out = json_object();
    for (i = 0; out != NULL && i < s->n; i++) {
        json_t *v = view_get(&w, s->v[i].key, s->v[i].klen), *p;
        if (v == NULL)
            continue;
        p = project_value(v, &s->v[i], depth);
        if (p == NULL || json_object_set_new_nocheck(out, s->v[i].key, p) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Copies key from item to out when present; 0, or -1 on OOM. */
static int
copy_key(json_t *out, json_t *item, const char *key)
{
    json_t *v = json_object_get(item, key);

    return v == NULL ? 0 : json_object_set_nocheck(out, key, v);
}

/* What map_target reads of an item it skips before indexing. */
static json_t *
skeleton(json_t *item, int bad_config)
{
    json_t *out = json_object();

    if (out == NULL || copy_key(out, item, "resourceType") < 0 ||
        copy_key(out, item, "resourceId") < 0 || copy_key(out, item, "configurationItemStatus") < 0 ||
        (bad_config && json_object_set_new_nocheck(out, "configuration", json_false()) < 0)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The configuration as map.c's load_config and the path evaluator see it:
 * *ret a new reference (possibly NULL: absent), or -1 when load_config
 * rejects it (the item is skipped as malformed), -2 on OOM. */
static int
project_config(json_t *cfg, const struct keep_node *node, json_t **ret)
{
    json_t *parsed, *nested;

    *ret = NULL;
    if (cfg == NULL)
        return 0;
    if (json_is_null(cfg) || node->whole) {
        *ret = json_incref(cfg);
        return 0;
    }
    if (json_is_object(cfg)) {
        *ret = project_obj(cfg, &node->sub, 0);
        return *ret == NULL ? -2 : 0;
    }
    if (!json_is_string(cfg))
        return -1;
    /* the API form: configuration as a JSON string (load_config's parse) */
    parsed = jsonr_loadb(json_string_value(cfg), json_string_length(cfg), 0, NULL);
    if (!json_is_object(parsed)) {
        json_decref(parsed);
        return -1;
    }
    json_decref(parsed);
    nested = map_json_nested(cfg);
    if (!json_is_object(nested)) {
        /* paths cannot walk it (too long): keep it as it is */
        json_decref(nested);
        *ret = json_incref(cfg);
        return 0;
    }
    *ret = project_obj(nested, &node->sub, 0);
    json_decref(nested);
    return *ret == NULL ? -2 : 0;
}

/* A relationship's resourceType, resourceId and resourceName (NULL when
 * absent) and its size, read in one walk over its few keys. */
struct rel_read {
    json_t *type, *id, *name;
    size_t n;
};

static void
rel_read(json_t *r, struct rel_read *rr)
{
    void *it;

    memset(rr, 0, sizeof(*rr));
    for (it = json_object_iter(r); it != NULL; it = json_object_iter_next(r, it)) {
        size_t kl = json_object_iter_key_len(it);
        const char *k;
        rr->n++;
        if (kl != 10 && kl != 12)
            continue;
        k = json_object_iter_key(it);
        if (kl == 10) {
            if (memcmp(k, "resourceId", 10) == 0)
                rr->id = json_object_iter_value(it);
        } else if (memcmp(k, "resourceType", 12) == 0) {
            rr->type = json_object_iter_value(it);
        } else if (memcmp(k, "resourceName", 12) == 0) {
            rr->name = json_object_iter_value(it);
        }
    }
}

/* A relationship reduced to resourceType, resourceId and resourceName (in
 * that order, as before): shared whole when it holds nothing else. */
static json_t *
rel_fields(json_t *r, const struct rel_read *rr)
{
    json_t *out;
    size_t n = (rr->type != NULL) + (rr->id != NULL) + (rr->name != NULL);

    if (n == rr->n)
        return json_incref(r);
    out = json_object();
    if (out == NULL ||
        (rr->type != NULL && json_object_set_nocheck(out, "resourceType", rr->type) < 0) ||
        (rr->id != NULL && json_object_set_nocheck(out, "resourceId", rr->id) < 0) ||
        (rr->name != NULL && json_object_set_nocheck(out, "resourceName", rr->name) < 0)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* relationships of the plan's types, each reduced to what map.c reads. */
static json_t *
project_rels(json_t *rels, const struct map_keep *k)
{
    json_t *out = json_array(), *r;
    size_t i;

    if (out == NULL)
        return NULL;
    json_array_foreach(rels, i, r) {
        struct rel_read rr;
        const char *rt;
        json_t *p;
        size_t t;
        if (!json_is_object(r))
            continue;
        rel_read(r, &rr);
        rt = json_string_value(rr.type);
        if (rt == NULL)
            continue;
        for (t = 0; t < k->nrel && strcmp(k->rel[t], rt) != 0; t++)
            ;
        if (t == k->nrel)
            continue;
        p = rel_fields(r, &rr);
        if (p == NULL || json_array_append_new(out, p) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *
map_project(const struct map_rules *rules, json_t *item)
{
    const struct map_rule *rule;
    const struct map_keep *k;
    const char *type, *id, *status;
    json_t *out = NULL, *rels, *tags;
    struct item_view w;
    struct view_pair pairs[PROJECT_VIEW_MAX];

    if (!json_is_object(item))
        return json_incref(item); /* skipped: "item is not a JSON object" */
    view_init(&w, item, pairs, PROJECT_VIEW_MAX);
    type = json_string_value(view_get(&w, "resourceType", 12));
    id = json_string_value(view_get(&w, "resourceId", 10));
    status = json_string_value(view_get(&w, "configurationItemStatus", 23));
    /* map.c's checks before indexing, in its order */
    if (type == NULL || type[0] == '\0' || strlen(type) > 128 || id == NULL || id[0] == '\0' ||
        strlen(id) > 2048 || (status != NULL && strncmp(status, "ResourceDeleted", 15) == 0))
        return skeleton(item, 0);
    rule = map_rules_find(rules, type);
    k = rule != NULL ? rule->keep : rules != NULL ? rules->keep_other : NULL;
    if (k == NULL)
        return json_incref(item); /* no plan (rules built by hand): keep it all */
    out = json_object();
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < k->root.n; i++) {
        const struct keep_node *node = &k->root.v[i];
        json_t *v = view_get(&w, node->key, node->klen), *p = NULL;
        int rc;
        if (v == NULL)
            continue;
        if (node->root == KEEP_ROOT_CONFIGURATION) {
            rc = project_config(v, node, &p);
            if (rc == -1) {
                json_decref(out);
                return skeleton(item, 1);
            }
            if (rc < 0)
                goto oom;
        } else if (node->root == KEEP_ROOT_RELATIONSHIPS) {
            p = json_incref(v); /* rels_whole: a rule path walks them */
        } else {
            p = project_value(v, node, -1);
            if (p == NULL)
                goto oom;
        }
        if (p != NULL && json_object_set_new_nocheck(out, node->key, p) < 0)
            goto oom;
    }
    tags = k->tags ? view_get(&w, "tags", 4) : NULL;
    if (tags != NULL && json_object_set_nocheck(out, "tags", tags) < 0)
        goto oom;
    rels = view_get(&w, "relationships", 13);
    if (!k->rels_whole && json_is_array(rels)) {
        json_t *p = project_rels(rels, k);
        if (p == NULL || json_object_set_new_nocheck(out, "relationships", p) < 0)
            goto oom;
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}
