/*
 * diff.c: compares a saved threat model with a discovered one (see diff.h
 * for the entry shape, matching and ignore rules).
 *
 * Design: both models are first checked (diff_check_model), then indexed by
 * key in jansson objects used as maps (values borrowed). Components are
 * paired, flows are keyed after translating designed keys, every finding
 * goes through one add_entry() that applies the ignore rules, and the
 * result is sorted once at the end, so the output never depends on input
 * order. Pure: no I/O, no logging. jansson takes non-const pointers for
 * iteration, hence unconst() (a uintptr_t round trip, not a cast warning).
 */
#include "mapping/diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "mapping/model.h"

static json_t *
unconst(const json_t *j)
{
    return (json_t *)(uintptr_t)j;
}

static const char *
str_field(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

static int
oom(struct err *err)
{
    return err_set(err, ERR_INTERNAL, "diff: out of memory");
}

/* ---- model shape check ---- */

/* A key and where it sits, for finding duplicates by sorting. */
struct keypos {
    const char *key;
    size_t i;
};

static int
keypos_cmp(const void *a, const void *b)
{
    const struct keypos *x = a, *y = b;
    int r = strcmp(x->key, y->key);

    return r != 0 ? r : (x->i > y->i) - (x->i < y->i);
}

/* Checks element i of a model array; -1 with err set when it is bad. */
static int
check_element(const json_t *it, size_t i, const char *field, const char *what, int need_key,
              struct err *err)
{
    const char *key;

    if (!json_is_object(it))
        return err_set(err, ERR_CONFIG, "%s: %s[%zu] is not an object", what, field, i);
    if (!need_key) {
        if (str_field(it, "from") == NULL || str_field(it, "to") == NULL)
            return err_set(err, ERR_CONFIG, "%s: %s[%zu]: missing string 'from' or 'to'", what,
                           field, i);
        if (json_object_get(it, "label") != NULL && str_field(it, "label") == NULL &&
            !json_is_null(json_object_get(it, "label")))
            return err_set(err, ERR_CONFIG, "%s: %s[%zu]: 'label' is not a string", what, field,
                           i);
        return 0;
    }
    key = str_field(it, "key");
    if (key == NULL || *key == '\0')
        return err_set(err, ERR_CONFIG, "%s: %s[%zu]: missing string 'key'", what, field, i);
    return 0;
}

/* The array's elements are checked in order and the first problem is
 * reported; a duplicate key is found by sorting (key, position) pairs (a
 * jansson object per check was most of the check's time): the first
 * element whose key an earlier one has is the smallest second position. */
static int
check_array(const json_t *model, const char *field, const char *what, int need_key, struct err *err)
{
    const json_t *arr = json_object_get(model, field);
    struct keypos *kp = NULL;
    size_t i, n, bad, dup = SIZE_MAX;
    struct err elem_err = {0};

    if (arr == NULL || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return err_set(err, ERR_CONFIG, "%s: '%s' is not an array", what, field);
    n = json_array_size(arr);
    for (bad = 0; bad < n; bad++) {
        if (check_element(json_array_get(arr, bad), bad, field, what, need_key, &elem_err) < 0)
            break;
    }
    if (need_key && bad > 1) {
        if ((kp = malloc(bad * sizeof(*kp))) == NULL)
            return oom(err);
        for (i = 0; i < bad; i++) {
            kp[i].key = str_field(json_array_get(arr, i), "key");
            kp[i].i = i;
        }
        qsort(kp, bad, sizeof(*kp), keypos_cmp);
        /* within a run of equal keys positions ascend: the minimum over
         * every repeat is the smallest second position */
        for (i = 1; i < bad; i++) {
            if (kp[i].i < dup && strcmp(kp[i - 1].key, kp[i].key) == 0)
                dup = kp[i].i;
        }
        free(kp);
    }
    if (dup != SIZE_MAX)
        return err_set(err, ERR_CONFIG, "%s: %s[%zu]: duplicate key '%s'", what, field, dup,
                       str_field(json_array_get(arr, dup), "key"));
    if (bad < n) {
        *err = elem_err;
        return -1;
    }
    return 0;
}

int
diff_check_model(const json_t *model, const char *what, struct err *err)
{
    const char *schema;

    if (!json_is_object(model))
        return err_set(err, ERR_CONFIG, "%s: not a JSON object", what);
    schema = str_field(model, "schema");
    if (schema == NULL || strcmp(schema, MODEL_SCHEMA) != 0)
        return err_set(err, ERR_CONFIG, "%s: 'schema' is not \"%s\"", what, MODEL_SCHEMA);
    if (check_array(model, "components", what, 1, err) < 0 ||
        check_array(model, "boundaries", what, 1, err) < 0 ||
        check_array(model, "flows", what, 0, err) < 0)
        return -1;
    return 0;
}

/* ---- ignore rules ---- */

static int
tags_have(const json_t *tags, const char *k, const char *v)
{
    size_t i;

    if (json_is_object(tags)) {
        const json_t *val = json_object_get(tags, k);

        if (val == NULL)
            return 0;
        return v == NULL || (json_is_string(val) && strcmp(json_string_value(val), v) == 0);
    }
    if (!json_is_array(tags))
        return 0;
    for (i = 0; i < json_array_size(tags); i++) {
        const json_t *t = json_array_get(tags, i);
        const char *tk = str_field(t, "Key"), *tv = str_field(t, "Value");

        if (tk == NULL)
            tk = str_field(t, "key");
        if (tv == NULL)
            tv = str_field(t, "value");
        if (tk != NULL && strcmp(tk, k) == 0 && (v == NULL || (tv != NULL && strcmp(tv, v) == 0)))
            return 1;
    }
    return 0;
}

static int
comp_has_tag(const json_t *comp, const char *k, const char *v)
{
    if (comp == NULL)
        return 0;
    return tags_have(json_object_get(comp, "tags"), k, v) ||
           tags_have(json_object_get(json_object_get(comp, "attributes"), "tags"), k, v);
}

static int
pattern_match(const char *pat, const char *path)
{
    size_t n = strlen(pat);

    if (n > 0 && pat[n - 1] == '*') {
        n--;
        if (strncmp(path, pat, n) == 0)
            return 1;
        /* "x.*" also matches "x" itself (the whole object appeared or went) */
        if (n > 0 && pat[n - 1] == '.' && strlen(path) == n - 1 && strncmp(path, pat, n - 1) == 0)
            return 1;
        return 0;
    }
    return strcmp(pat, path) == 0;
}

static int
attr_match(const char *pat, const char *path)
{
    static const char prefix[] = "attributes.";

    if (pattern_match(pat, path))
        return 1;
    if (strncmp(path, prefix, sizeof(prefix) - 1) == 0)
        return pattern_match(pat, path + sizeof(prefix) - 1);
    return 0;
}

static int
ignored(const struct cfg_ignore *ig, const char *resource_type, const char *path,
        const json_t *saved_comp, const json_t *disc_comp, int is_flow)
{
    int any = 0;

    if (ig->resource_type != NULL) {
        any = 1;
        if (resource_type == NULL || strcmp(ig->resource_type, resource_type) != 0)
            return 0;
    }
    if (ig->tag_key != NULL) {
        any = 1;
        if (is_flow)
            return 0;
        if (!comp_has_tag(saved_comp, ig->tag_key, ig->tag_value) &&
            !comp_has_tag(disc_comp, ig->tag_key, ig->tag_value))
            return 0;
    }
    if (ig->attribute != NULL) {
        any = 1;
        if (path == NULL || !attr_match(ig->attribute, path))
            return 0;
    }
    return any;
}

/* ---- building entries ---- */

struct ctx {
    json_t *out;                      /* the entries */
    const struct cfg_ignore *ignores; /* borrowed */
    size_t nignores;
};

static const char *
boundary_resource_type(const json_t *b)
{
    const char *rt = str_field(b, "resource_type"), *type = str_field(b, "type");
    size_t n;

    if (rt != NULL)
        return rt;
    if (type == NULL)
        return "boundary";
    if (strcmp(type, "vpc") == 0)
        return "AWS::EC2::VPC";
    n = strlen(type);
    if (n >= 6 && strcmp(type + n - 6, "subnet") == 0)
        return "AWS::EC2::Subnet";
    return "boundary";
}

static json_t *
copy_or_null(const json_t *v)
{
    return v != NULL ? json_deep_copy(v) : json_null();
}

enum item_kind { ITEM_COMPONENT, ITEM_BOUNDARY, ITEM_FLOW };

/*
 * Adds one finding. meta is the item describing the entry (discovered side
 * when there is one); saved/disc the two sides for tag rules; details is
 * stolen. Returns 0 (also when ignored) or -1 on OOM.
 */
static int
add_entry(struct ctx *c, const char *kind, const char *key, enum item_kind ik, const json_t *meta,
          const json_t *saved, const json_t *disc, json_t *details, const char *discovered_key,
          struct err *err)
{
    const char *rt, *path = str_field(details, "path");
    json_t *e = NULL;
    size_t i;
    int rc = -1;

    if (ik == ITEM_FLOW)
        rt = "flow";
    else if (ik == ITEM_BOUNDARY)
        rt = boundary_resource_type(meta);
    else
        rt = str_field(meta, "resource_type");

    for (i = 0; i < c->nignores; i++) {
        if (ignored(&c->ignores[i], rt, path, saved, disc, ik == ITEM_FLOW)) {
            json_decref(details);
            return 0;
        }
    }
    if (discovered_key != NULL &&
        json_object_set_new(details, "discovered_key", json_string(discovered_key)) < 0)
        goto out;
    e = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:O}", "kind", kind, "key", key, "component",
        copy_or_null(json_object_get(meta, ik == ITEM_FLOW ? "label" : "name")), "component_type",
        ik == ITEM_FLOW ? json_string("flow") : copy_or_null(json_object_get(meta, "type")),
        "resource_type", rt != NULL ? json_string(rt) : json_null(), "resource_id",
        ik == ITEM_FLOW       ? json_null()
        : ik == ITEM_BOUNDARY ? json_string(key)
                              : copy_or_null(json_object_get(meta, "resource_id")),
        "details", details);
    if (e == NULL)
        goto out;
    if (json_array_append_new(c->out, e) < 0)
        goto out;
    rc = 0;
out:
    json_decref(details);
    if (rc < 0)
        oom(err);
    return rc;
}

static int
add_only(struct ctx *c, const char *kind, const char *key, enum item_kind ik, const json_t *item,
         int in_model, struct err *err)
{
    json_t *details = json_pack("{s:O}", "item", unconst(item));

    if (details == NULL)
        return oom(err);
    return add_entry(c, kind, key, ik, item, in_model ? item : NULL, in_model ? NULL : item,
                     details, NULL, err);
}

static int
values_equal(const json_t *a, const json_t *b)
{
    if (a == NULL || json_is_null(a))
        return b == NULL || json_is_null(b);
    if (b == NULL)
        return 0;
    return json_equal(unconst(a), unconst(b));
}

struct pair {
    const char *key; /* entry key (saved side's key) */
    enum item_kind ik;
    const json_t *saved;
    const json_t *disc;
    const char *discovered_key; /* set for designed matches */
};

static int
add_changed(struct ctx *c, const struct pair *p, const char *path, const json_t *old,
            const json_t *new, struct err *err)
{
    json_t *details =
        json_pack("{s:s, s:O, s:O}", "path", path, "old", old != NULL ? unconst(old) : json_null(),
                  "new", new != NULL ? unconst(new) : json_null());

    if (details == NULL)
        return oom(err);
    return add_entry(c, DIFF_CHANGED, p->key, p->ik, p->disc, p->saved, p->disc, details,
                     p->discovered_key, err);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted union of the keys of two objects (either may be NULL); returns a
 * malloc'd array of borrowed strings, *ret_n its length, NULL on OOM. */
static const char **
key_union(const json_t *a, const json_t *b, size_t *ret_n)
{
    size_t cap = json_object_size(a) + json_object_size(b) + 1, n = 0, i, w;
    const char **keys = calloc(cap, sizeof(*keys));
    const char *k;
    json_t *v;

    if (keys == NULL)
        return NULL;
    if (a != NULL) {
        json_object_foreach(unconst(a), k, v)
        {
            keys[n++] = k;
        }
    }
    if (b != NULL) {
        json_object_foreach(unconst(b), k, v)
        {
            keys[n++] = k;
        }
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0, w = 0; i < n; i++) {
        if (w == 0 || strcmp(keys[w - 1], keys[i]) != 0)
            keys[w++] = keys[i];
    }
    *ret_n = w;
    return keys;
}

static int
compare_values(struct ctx *c, const struct pair *p, const char *path, const json_t *old,
               const json_t *new, struct err *err)
{
    const char **keys = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (json_is_object(old) && json_is_object(new)) {
        /* the common case, nothing changed: no walk, no path strings */
        if (json_equal(unconst(old), unconst(new)))
            return 0;
        keys = key_union(old, new, &n);
        if (keys == NULL)
            return oom(err);
        for (i = 0; i < n; i++) {
            char *sub = NULL;

            if (asprintf(&sub, "%s.%s", path, keys[i]) < 0) {
                oom(err);
                goto out;
            }
            rc = compare_values(c, p, sub, json_object_get(old, keys[i]),
                                json_object_get(new, keys[i]), err);
            free(sub);
            if (rc < 0)
                goto out;
        }
        rc = 0;
        goto out;
    }
    if (values_equal(old, new))
        return 0;
    return add_changed(c, p, path, old, new, err);
out:
    free(keys);
    return rc;
}

static int
compare_pair(struct ctx *c, const struct pair *p, struct err *err)
{
    static const char *const comp_fields[] = {"name", "type", "role", "boundary", NULL};
    static const char *const bound_fields[] = {"name", "type", "parent", NULL};
    static const char *const flow_fields[] = {"protocol", "port", NULL};
    const char *const *fields = p->ik == ITEM_COMPONENT  ? comp_fields
                                : p->ik == ITEM_BOUNDARY ? bound_fields
                                                         : flow_fields;
    size_t i;

    for (i = 0; fields[i] != NULL; i++) {
        const json_t *o = json_object_get(p->saved, fields[i]);
        const json_t *n = json_object_get(p->disc, fields[i]);

        if (!values_equal(o, n) && add_changed(c, p, fields[i], o, n, err) < 0)
            return -1;
    }
    if (p->ik == ITEM_FLOW)
        return 0;
    return compare_values(c, p, "attributes", json_object_get(p->saved, "attributes"),
                          json_object_get(p->disc, "attributes"), err);
}

/* key -> item map of an array of keyed objects (values borrowed). */
static json_t *
index_by_key(const json_t *model, const char *field)
{
    const json_t *arr = json_object_get(model, field);
    json_t *map = json_object();
    size_t i;

    if (map == NULL)
        return NULL;
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *it = json_array_get(arr, i);

        if (json_object_set(map, str_field(it, "key"), unconst(it)) < 0) {
            json_decref(map);
            return NULL;
        }
    }
    return map;
}

static int
is_designed(const json_t *comp)
{
    const json_t *rid = json_object_get(comp, "resource_id");

    return rid == NULL || json_is_null(rid) ||
           (json_is_string(rid) && json_string_length(rid) == 0);
}

/*
 * Pairs keyed items of one kind; for components also designed matches,
 * recorded in keymap (saved key -> discovered key).
 */
static int
diff_keyed(struct ctx *c, const json_t *saved, const json_t *disc, const char *field,
           enum item_kind ik, json_t *keymap, struct err *err)
{
    json_t *smap = index_by_key(saved, field), *dmap = index_by_key(disc, field);
    json_t *sused = json_object(), *dused = json_object();
    const char **skeys = NULL, **dkeys = NULL;
    size_t ns = 0, nd = 0, i, j;
    int rc = -1;

    if (smap == NULL || dmap == NULL || sused == NULL || dused == NULL) {
        oom(err);
        goto out;
    }
    skeys = key_union(smap, NULL, &ns);
    dkeys = key_union(dmap, NULL, &nd);
    if (skeys == NULL || dkeys == NULL) {
        oom(err);
        goto out;
    }
    /* exact key matches */
    for (i = 0; i < ns; i++) {
        const json_t *d = json_object_get(dmap, skeys[i]);
        struct pair p = {skeys[i], ik, json_object_get(smap, skeys[i]), d, NULL};

        if (d == NULL)
            continue;
        if (json_object_set_new(sused, skeys[i], json_true()) < 0 ||
            json_object_set_new(dused, skeys[i], json_true()) < 0) {
            oom(err);
            goto out;
        }
        if (compare_pair(c, &p, err) < 0)
            goto out;
    }
    /* designed components: by type and name */
    for (i = 0; ik == ITEM_COMPONENT && i < ns; i++) {
        const json_t *s = json_object_get(smap, skeys[i]);
        const char *type = str_field(s, "type"), *name = str_field(s, "name");

        if (json_object_get(sused, skeys[i]) != NULL || !is_designed(s) || type == NULL ||
            name == NULL)
            continue;
        for (j = 0; j < nd; j++) {
            const json_t *d = json_object_get(dmap, dkeys[j]);
            const char *dt = str_field(d, "type"), *dn = str_field(d, "name");
            struct pair p = {skeys[i], ik, s, d, dkeys[j]};

            if (json_object_get(dused, dkeys[j]) != NULL || dt == NULL || dn == NULL ||
                strcmp(dt, type) != 0 || strcmp(dn, name) != 0)
                continue;
            if (json_object_set_new(sused, skeys[i], json_true()) < 0 ||
                json_object_set_new(dused, dkeys[j], json_true()) < 0 ||
                json_object_set_new(keymap, skeys[i], json_string(dkeys[j])) < 0) {
                oom(err);
                goto out;
            }
            if (compare_pair(c, &p, err) < 0)
                goto out;
            break;
        }
    }
    for (i = 0; i < ns; i++) {
        if (json_object_get(sused, skeys[i]) == NULL &&
            add_only(c, DIFF_ONLY_IN_MODEL, skeys[i], ik, json_object_get(smap, skeys[i]), 1, err) <
                0)
            goto out;
    }
    for (j = 0; j < nd; j++) {
        if (json_object_get(dused, dkeys[j]) == NULL &&
            add_only(c, DIFF_ONLY_IN_VPC, dkeys[j], ik, json_object_get(dmap, dkeys[j]), 0, err) <
                0)
            goto out;
    }
    rc = 0;
out:
    free(skeys);
    free(dkeys);
    json_decref(smap);
    json_decref(dmap);
    json_decref(sused);
    json_decref(dused);
    return rc;
}

/* "flow:FROM->TO:LABEL" -> flow map; from/to translated through keymap
 * (NULL for the discovered side). */
static json_t *
index_flows(const json_t *model, const json_t *keymap)
{
    const json_t *arr = json_object_get(model, "flows");
    json_t *map = json_object();
    size_t i;

    if (map == NULL)
        return NULL;
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *f = json_array_get(arr, i);
        const char *from = str_field(f, "from"), *to = str_field(f, "to");
        const char *label = str_field(f, "label");
        char *key = NULL;
        int r;

        if (keymap != NULL && str_field(keymap, from) != NULL)
            from = str_field(keymap, from);
        if (keymap != NULL && str_field(keymap, to) != NULL)
            to = str_field(keymap, to);
        if (asprintf(&key, "flow:%s->%s:%s", from, to, label != NULL ? label : "") < 0) {
            json_decref(map);
            return NULL;
        }
        r = json_object_set(map, key, unconst(f));
        free(key);
        if (r < 0) {
            json_decref(map);
            return NULL;
        }
    }
    return map;
}

static int
diff_flows(struct ctx *c, const json_t *saved, const json_t *disc, const json_t *keymap,
           struct err *err)
{
    json_t *smap = index_flows(saved, keymap), *dmap = index_flows(disc, NULL);
    const char **keys = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (smap == NULL || dmap == NULL) {
        oom(err);
        goto out;
    }
    keys = key_union(smap, dmap, &n);
    if (keys == NULL) {
        oom(err);
        goto out;
    }
    for (i = 0; i < n; i++) {
        const json_t *s = json_object_get(smap, keys[i]), *d = json_object_get(dmap, keys[i]);
        struct pair p = {keys[i], ITEM_FLOW, s, d, NULL};

        if (s != NULL && d != NULL)
            rc = compare_pair(c, &p, err);
        else if (s != NULL)
            rc = add_only(c, DIFF_ONLY_IN_MODEL, keys[i], ITEM_FLOW, s, 1, err);
        else
            rc = add_only(c, DIFF_ONLY_IN_VPC, keys[i], ITEM_FLOW, d, 0, err);
        if (rc < 0)
            goto out;
    }
    rc = 0;
out:
    free(keys);
    json_decref(smap);
    json_decref(dmap);
    return rc;
}

static int
cmp_entry(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    const char *px, *py;
    int r;

    r = strcmp(str_field(x, "key"), str_field(y, "key"));
    if (r != 0)
        return r;
    r = strcmp(str_field(x, "kind"), str_field(y, "kind"));
    if (r != 0)
        return r;
    px = str_field(json_object_get(x, "details"), "path");
    py = str_field(json_object_get(y, "details"), "path");
    return strcmp(px != NULL ? px : "", py != NULL ? py : "");
}

static int
sort_entries(json_t *arr, json_t **ret, struct err *err)
{
    size_t n = json_array_size(arr), i;
    json_t **v = calloc(n + 1, sizeof(*v));
    json_t *out = json_array();
    int rc = -1;

    if (v == NULL || out == NULL) {
        oom(err);
        goto out;
    }
    for (i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof(*v), cmp_entry);
    for (i = 0; i < n; i++) {
        if (json_array_append(out, v[i]) < 0) {
            oom(err);
            goto out;
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    free(v);
    json_decref(out);
    return rc;
}

int
diff_models(const json_t *saved, const json_t *discovered, const struct cfg_ignore *ignores,
            size_t nignores, json_t **ret, struct err *err)
{
    struct ctx c = {NULL, ignores, nignores};
    json_t *keymap = NULL;
    int rc = -1;

    if (saved != NULL && diff_check_model(saved, "saved model", err) < 0)
        return -1;
    if (discovered != NULL && diff_check_model(discovered, "discovered model", err) < 0)
        return -1;
    c.out = json_array();
    keymap = json_object();
    if (c.out == NULL || keymap == NULL) {
        oom(err);
        goto out;
    }
    if (diff_keyed(&c, saved, discovered, "components", ITEM_COMPONENT, keymap, err) < 0 ||
        diff_keyed(&c, saved, discovered, "boundaries", ITEM_BOUNDARY, keymap, err) < 0 ||
        diff_flows(&c, saved, discovered, keymap, err) < 0)
        goto out;
    if (sort_entries(c.out, ret, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(c.out);
    json_decref(keymap);
    return rc;
}

int
diff_match_designed(const json_t *saved, const json_t *discovered, json_t **ret, struct err *err)
{
    struct ctx c = {NULL, NULL, 0};
    json_t *keymap = NULL;
    int rc = -1;

    if (saved != NULL && diff_check_model(saved, "saved model", err) < 0)
        return -1;
    if (discovered != NULL && diff_check_model(discovered, "discovered model", err) < 0)
        return -1;
    c.out = json_array();
    keymap = json_object();
    if (c.out == NULL || keymap == NULL) {
        oom(err);
        goto out;
    }
    if (diff_keyed(&c, saved, discovered, "components", ITEM_COMPONENT, keymap, err) < 0)
        goto out;
    *ret = keymap;
    keymap = NULL;
    rc = 0;
out:
    json_decref(c.out);
    json_decref(keymap);
    return rc;
}

char *
diff_entry_id(const json_t *entry)
{
    const char *kind = str_field(entry, "kind"), *key = str_field(entry, "key");
    const char *path = str_field(json_object_get(entry, "details"), "path");
    char *id = NULL;

    if (kind == NULL || key == NULL)
        return NULL;
    if (asprintf(&id, "%s|%s|%s", kind, key, path != NULL ? path : "") < 0)
        return NULL;
    return id;
}
