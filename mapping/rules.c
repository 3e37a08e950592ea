/*
 * rules.c: mapping rules, from YAML text (the built-in mapping/rules.yaml
 * compiled in by cmake/Embed.cmake, plus an optional user file) to the
 * structs of mapping/rules.h; and the path evaluator the mapper uses.
 *
 * Loading is strict because a typo in a rule silently un-maps resources:
 * unknown keys, bad paths, bad roles, unknown STRIDE letters, malformed
 * Security Hub control ids and duplicate rules are errors reported as
 * "file:line:col: message" (libyaml marks are 0-based, hence the +1). Every
 * problem is counted; the first is reported with the count. A user rule for
 * a type replaces the built-in rule for that type (whole-rule replacement:
 * partial merges would make a rule's meaning depend on two files).
 * No logging; the only I/O is reading the user file.
 */
#include "mapping/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "config/yamldoc.h"
#include "daemon/buf.h"
#include "daemon/jsonr.h"
#include "daemon/util.h"
#include "mapping/map.h"
#include "mapping/model.h"
#include "version.h"

#define RULES_MAX_FILE  (4 * 1024 * 1024)
#define RULES_MAX_PATH  512
#define RULES_MAX_RULES 4096
#define RULES_MAX_JSON  (1024 * 1024) /* JSON nested in a string, parsed on demand */

static char *
xstrdup(struct yamldoc_errs *e, const char *s)
{
    char *d = strdup(s);

    if (d == NULL)
        e->oom = 1;
    return d;
}

/* ---- freeing ---- */

static void
path_clear(struct map_path *path)
{
    free(path->segs); /* with the text and the keys: see path_compile */
    memset(path, 0, sizeof(*path));
}

static void
paths_clear(struct map_paths *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        path_clear(&ps->v[i]);
    free(ps->v);
    memset(ps, 0, sizeof(*ps));
}

static void
refs_clear(struct map_refs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].type);
        path_clear(&rs->v[i].path);
    }
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}

static void
tpl_clear(struct map_tpl *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->parts[i].text);
        paths_clear(&t->parts[i].paths);
    }
    free(t->parts);
    free(t->src);
    memset(t, 0, sizeof(*t));
}

static void
rule_clear(struct map_rule *r)
{
    free(r->resource_type);
    free(r->component);
    free(r->role);
    paths_clear(&r->name);
    refs_clear(&r->vpc);
    refs_clear(&r->boundary);
    refs_clear(&r->security_groups);
    for (size_t i = 0; i < r->nattrs; i++) {
        free(r->attrs[i].name);
        paths_clear(&r->attrs[i].paths);
    }
    free(r->attrs);
    for (size_t i = 0; i < r->nflows; i++) {
        refs_clear(&r->flows[i].from);
        refs_clear(&r->flows[i].to);
        tpl_clear(&r->flows[i].label);
        paths_clear(&r->flows[i].protocol);
        paths_clear(&r->flows[i].port);
    }
    free(r->flows);
    path_clear(&r->switch_path);
    for (size_t i = 0; i < r->ncases; i++) {
        free(r->cases[i].value);
        free(r->cases[i].component);
        json_decref(r->cases[i].component_json);
    }
    free(r->cases);
    json_decref(r->component_json);
    json_decref(r->role_json);
    json_decref(r->threats);
    json_decref(r->requirements);
    free(r->origin);
    map_keep_free(r->keep);
    memset(r, 0, sizeof(*r));
}

void
map_rules_free(struct map_rules *rules)
{
    if (rules == NULL)
        return;
    for (size_t i = 0; i < rules->n; i++)
        rule_clear(&rules->v[i]);
    free(rules->v);
    map_keep_free(rules->keep_other);
    free(rules);
}

/* ---- YAML helpers ---- */

/* A scalar string with no NUL or control characters, not empty; NULL (and an
 * error) otherwise. Borrowed from the document. */
static const char *
get_text(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *what)
{
    return yamldoc_text(e, n, what, 0, YAMLDOC_NONEMPTY);
}

static int
valid_resource_type(const char *t)
{
    /* Provider::Service::Resource, each part alphanumeric */
    int parts = 0;
    const char *c = t;

    while (*c != '\0') {
        const char *start = c;
        while (isalnum((unsigned char)*c))
            c++;
        if (c == start)
            return 0;
        parts++;
        if (*c == '\0')
            break;
        if (c[0] != ':' || c[1] != ':')
            return 0;
        c += 2;
        if (*c == '\0')
            return 0;
    }
    return parts == 3 && strlen(t) < 128;
}

/* ---- paths ---- */

/* Sets the fields map.c reads instead of measuring per item. */
static void
path_classify(struct map_path *path)
{
    static const struct {
        const char *key;
        enum map_path_root root;
    } roots[] = {
        {"configuration", MAP_ROOT_CONFIGURATION},
        {"tags", MAP_ROOT_TAGS},
        {"resourceId", MAP_ROOT_RESOURCE_ID},
        {"resourceType", MAP_ROOT_RESOURCE_TYPE},
        {"relationships", MAP_ROOT_RELATIONSHIPS},
    };

    path->collects = map_path_collects(path);
    path->root = MAP_ROOT_OTHER;
    if (path->n > 0 && !path->segs[0].collect) {
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
            if (strcmp(path->segs[0].key, roots[i].key) == 0)
                path->root = roots[i].root;
        }
    }
    path->compiled = 1;
}

/* Compiles a path; 0 or -1 with an error at node. The segments, the text
 * and every key share one allocation (path_clear frees it): the built-in
 * rules hold over a thousand paths, compiled at every start. */
static int
path_compile(struct yamldoc_errs *e, const struct yamldoc_node *node, const char *text,
    struct map_path *out)
{
    struct map_path path;
    const char *c = text;
    size_t tlen = strlen(text), nseg = 1;
    char *keys;

    memset(&path, 0, sizeof(path));
    if (tlen > RULES_MAX_PATH) {
        yamldoc_error(e, node, "path is longer than %d characters", RULES_MAX_PATH);
        return -1;
    }
    for (const char *d = text; *d != '\0'; d++)
        nseg += *d == '.';
    /* keys, each NUL-terminated, take at most the text's length plus one */
    path.segs = malloc(nseg * sizeof(*path.segs) + 2 * (tlen + 1));
    if (path.segs == NULL) {
        e->oom = 1;
        return -1;
    }
    path.text = (char *)(path.segs + nseg);
    memcpy(path.text, text, tlen + 1);
    keys = path.text + tlen + 1;
    while (1) {
        const char *end = c;
        size_t len;
        int collect = 0;

        while (*end != '\0' && *end != '.')
            end++;
        len = (size_t)(end - c);
        if (len >= 2 && c[len - 2] == '[' && c[len - 1] == ']') {
            collect = 1;
            len -= 2;
        }
        if (len == 0) {
            yamldoc_error(e, node, "bad path '%s': empty key", text);
            goto fail;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)c[i];
            if (ch == '[' || ch == ']' || ch == '{' || ch == '}' || ch == '@' || isspace(ch)) {
                yamldoc_error(e, node, "bad path '%s': character '%c' not allowed in a key", text,
                    ch);
                goto fail;
            }
        }
        memcpy(keys, c, len);
        keys[len] = '\0';
        path.segs[path.n].key = keys;
        path.segs[path.n].collect = collect;
        path.segs[path.n].klen = len;
        keys += len + 1;
        path.n++;
        if (*end == '\0')
            break;
        c = end + 1;
    }
    path_classify(&path);
    *out = path;
    return 0;
fail:
    path_clear(&path);
    return -1;
}

static void
add_path_item(struct yamldoc_errs *e, const struct yamldoc_node *n, void *ctx)
{
    struct map_paths *ps = ctx;
    const char *t = get_text(e, n, "a path");
    struct map_path *grown;

    if (t == NULL)
        return;
    grown = realloc(ps->v, (ps->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        e->oom = 1;
        return;
    }
    ps->v = grown;
    if (path_compile(e, n, t, &ps->v[ps->n]) == 0)
        ps->n++;
}

static void
parse_paths(struct yamldoc_errs *e, const struct yamldoc_node *v, struct map_paths *ps)
{
    paths_clear(ps);
    yamldoc_each_item(e, v, add_path_item, ps);
}

static void
add_ref_item(struct yamldoc_errs *e, const struct yamldoc_node *n, void *ctx)
{
    struct map_refs *rs = ctx;
    const char *t = get_text(e, n, "a reference");
    struct map_ref ref, *grown;
    const char *at;

    if (t == NULL)
        return;
    memset(&ref, 0, sizeof(ref));
    at = strchr(t, '@');
    if (strcmp(t, "self") == 0) {
        ref.kind = MAP_REF_SELF;
    } else if (strcmp(t, "internet") == 0) {
        ref.kind = MAP_REF_INTERNET;
    } else if (strncmp(t, "relationship:", 13) == 0) {
        ref.kind = MAP_REF_RELATIONSHIP;
        if (!valid_resource_type(t + 13)) {
            yamldoc_error(e, n,
                "bad reference '%s': '%s' is not a resource type like AWS::EC2::VPC", t,
                t + 13);
            return;
        }
        ref.type = xstrdup(e, t + 13);
        if (ref.type == NULL)
            return;
    } else if (at != NULL) {
        ref.kind = MAP_REF_TYPED_PATH;
        ref.type = strndup(t, (size_t)(at - t));
        if (ref.type == NULL) {
            e->oom = 1;
            return;
        }
        if (!valid_resource_type(ref.type)) {
            yamldoc_error(e, n,
                "bad reference '%s': '%s' is not a resource type like AWS::EC2::VPC", t,
                ref.type);
            free(ref.type);
            return;
        }
        if (path_compile(e, n, at + 1, &ref.path) < 0) {
            free(ref.type);
            return;
        }
    } else {
        ref.kind = MAP_REF_PATH;
        if (strchr(t, ':') != NULL) {
            yamldoc_error(e, n,
                "bad reference '%s': expected self, internet, relationship:TYPE, TYPE@PATH or PATH",
                t);
            return;
        }
        if (path_compile(e, n, t, &ref.path) < 0)
            return;
    }
    grown = realloc(rs->v, (rs->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        e->oom = 1;
        free(ref.type);
        path_clear(&ref.path);
        return;
    }
    rs->v = grown;
    rs->v[rs->n++] = ref;
}

static void
parse_refs(struct yamldoc_errs *e, const struct yamldoc_node *v, struct map_refs *rs)
{
    refs_clear(rs);
    yamldoc_each_item(e, v, add_ref_item, rs);
}

/* "{configuration.protocol}/{configuration.port}" */
static void
parse_tpl(struct yamldoc_errs *e, const struct yamldoc_node *n, struct map_tpl *t)
{
    const char *src = get_text(e, n, "label");
    const char *c;

    tpl_clear(t);
    if (src == NULL)
        return;
    t->src = xstrdup(e, src);
    if (t->src == NULL)
        return;
    c = src;
    while (*c != '\0') {
        struct map_tpl_part part, *grown;
        const char *end;

        memset(&part, 0, sizeof(part));
        if (*c == '{') {
            char inner[RULES_MAX_PATH + 1];
            end = strchr(c, '}');
            if (end == NULL || (size_t)(end - c - 1) > RULES_MAX_PATH) {
                yamldoc_error(e, n, "label '%s': '{' without a closing '}'", src);
                return;
            }
            memcpy(inner, c + 1, (size_t)(end - c - 1));
            inner[end - c - 1] = '\0';
            for (char *alt = inner, *bar; alt != NULL; alt = bar) {
                struct map_path *g;
                bar = strchr(alt, '|');
                if (bar != NULL)
                    *bar++ = '\0';
                g = realloc(part.paths.v, (part.paths.n + 1) * sizeof(*g));
                if (g == NULL) {
                    e->oom = 1;
                    paths_clear(&part.paths);
                    return;
                }
                part.paths.v = g;
                if (path_compile(e, n, alt, &part.paths.v[part.paths.n]) < 0) {
                    paths_clear(&part.paths);
                    return;
                }
                part.paths.n++;
            }
            c = end + 1;
        } else {
            end = c;
            while (*end != '\0' && *end != '{' && *end != '}')
                end++;
            if (*end == '}') {
                yamldoc_error(e, n, "label '%s': '}' without an opening '{'", src);
                return;
            }
            part.text = strndup(c, (size_t)(end - c));
            if (part.text == NULL) {
                e->oom = 1;
                return;
            }
            c = end;
        }
        grown = realloc(t->parts, (t->n + 1) * sizeof(*grown));
        if (grown == NULL) {
            e->oom = 1;
            free(part.text);
            paths_clear(&part.paths);
            return;
        }
        t->parts = grown;
        t->parts[t->n++] = part;
    }
}

/* ---- threats and requirements ---- */

static int
valid_control(const char *s)
{
    /* Security Hub control ids: "RDS.3", "EC2.19", "CloudTrail.1" */
    const char *c = s;

    if (!isalpha((unsigned char)*c))
        return 0;
    while (isalnum((unsigned char)*c))
        c++;
    if (*c++ != '.' || !isdigit((unsigned char)*c))
        return 0;
    while (isdigit((unsigned char)*c))
        c++;
    return *c == '\0' && strlen(s) < 64;
}

/* A threat's or requirement's members, in the sorted order the object gets
 * them in (a canonical dump then finds them sorted; every component shares
 * these objects). */
enum { TR_CONTROLS, TR_ID, TR_STRIDE, TR_TITLE, TR_NKEYS };
static const char *const tr_keys[TR_NKEYS] = {"controls", "id", "stride", "title"};

struct tr_ctx {
    json_t *v[TR_NKEYS]; /* owned until tr_object */
    int threat;          /* 1: threats (stride allowed/required), 0: requirements */
};

static void
add_control(struct yamldoc_errs *e, const struct yamldoc_node *n, void *ctx)
{
    json_t *arr = ctx;
    const char *t = get_text(e, n, "a control id");

    if (t == NULL)
        return;
    if (!valid_control(t)) {
        yamldoc_error(e, n, "'%s' is not a Security Hub control id like RDS.3 or EC2.19", t);
        return;
    }
    if (json_array_append_new(arr, json_string(t)) < 0)
        e->oom = 1;
}

static void
add_stride(struct yamldoc_errs *e, const struct yamldoc_node *n, void *ctx)
{
    json_t *arr = ctx;
    const char *t = get_text(e, n, "a STRIDE letter");
    size_t i;
    json_t *v;

    if (t == NULL)
        return;
    if (strlen(t) != 1 || strchr("STRIDE", t[0]) == NULL) {
        yamldoc_error(e, n, "'%s' is not a STRIDE category (S, T, R, I, D or E)", t);
        return;
    }
    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(v), t) == 0) {
            yamldoc_error(e, n, "STRIDE category '%s' listed twice", t);
            return;
        }
    }
    if (json_array_append_new(arr, json_string(t)) < 0)
        e->oom = 1;
}

static void
tr_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct tr_ctx *c = ctx;
    const char *t;
    json_t *arr;
    int slot;

    if (strcmp(key, "id") == 0 || strcmp(key, "title") == 0) {
        t = get_text(e, v, key);
        if (t == NULL)
            return;
        slot = key[0] == 'i' ? TR_ID : TR_TITLE;
        c->v[slot] = json_string(t);
        if (c->v[slot] == NULL)
            e->oom = 1;
    } else if (strcmp(key, "controls") == 0 || (c->threat && strcmp(key, "stride") == 0)) {
        slot = key[0] == 'c' ? TR_CONTROLS : TR_STRIDE;
        arr = c->v[slot] = json_array();
        if (arr == NULL) {
            e->oom = 1;
            return;
        }
        if (yamldoc_kind(v) != YAMLDOC_LIST) {
            yamldoc_error(e, v, "%s must be a list, not %s", key, yamldoc_kind_name(v));
            return;
        }
        yamldoc_each_item(e, v, slot == TR_CONTROLS ? add_control : add_stride, arr);
    } else {
        yamldoc_error(e, k, "unknown key '%s' in a %s (expected id, title, %scontrols)", key,
            c->threat ? "threat" : "requirement", c->threat ? "stride, " : "");
    }
}

/* The object of c's members, in tr_keys order; the members are used up. NULL
 * when out of memory. */
static json_t *
tr_object(struct tr_ctx *c)
{
    json_t *obj = json_object();

    for (size_t i = 0; i < TR_NKEYS; i++) {
        if (c->v[i] != NULL && obj != NULL &&
            json_object_set_new_nocheck(obj, tr_keys[i], c->v[i]) < 0) {
            json_decref(obj);
            obj = NULL;
            continue; /* set_new_nocheck took c->v[i] either way */
        }
        if (obj == NULL)
            json_decref(c->v[i]);
    }
    memset(c->v, 0, sizeof(c->v));
    return obj;
}

static void
parse_tr_list(struct yamldoc_errs *e, const struct yamldoc_node *v, int threat, json_t **dst)
{
    json_t *list = json_array();
    const char *what = threat ? "threats" : "requirements";

    json_decref(*dst);
    *dst = list;
    if (list == NULL) {
        e->oom = 1;
        return;
    }
    if (yamldoc_kind(v) != YAMLDOC_LIST) {
        yamldoc_error(e, v, "%s must be a list, not %s", what, yamldoc_kind_name(v));
        return;
    }
    for (size_t idx = 0; idx < yamldoc_count(v); idx++) {
        const struct yamldoc_node *n = yamldoc_item(v, idx);
        struct tr_ctx c;
        size_t i;
        json_t *other, *obj;
        int have_id;

        memset(&c, 0, sizeof(c));
        c.threat = threat;
        yamldoc_walk_mapping(e, n, threat ? "a threat" : "a requirement", tr_pair, &c);
        have_id = c.v[TR_ID] != NULL;
        if (yamldoc_kind(n) == YAMLDOC_MAP) {
            if (!have_id || c.v[TR_TITLE] == NULL)
                yamldoc_error(e, n, "a %s needs an id and a title",
                    threat ? "threat" : "requirement");
            if (threat && c.v[TR_STRIDE] == NULL)
                yamldoc_error(e, n, "a threat needs a stride list");
            if (c.v[TR_CONTROLS] == NULL) {
                c.v[TR_CONTROLS] = json_array();
                if (c.v[TR_CONTROLS] == NULL)
                    e->oom = 1;
            }
        }
        obj = tr_object(&c);
        if (obj == NULL) {
            e->oom = 1;
            return;
        }
        json_array_foreach(list, i, other) {
            if (have_id && json_equal(json_object_get(other, "id"), json_object_get(obj, "id")))
                yamldoc_error(e, n, "%s id '%s' used twice in this rule",
                    threat ? "threat" : "requirement",
                    json_string_value(json_object_get(obj, "id")));
        }
        if (json_array_append_new(list, obj) < 0)
            e->oom = 1;
    }
}

/* ---- rules ---- */

struct rule_ctx {
    struct map_rule *r;
    int have_type, have_component, have_role, have_emit, have_placement, have_name, have_vpc;
    int have_switch;
    const struct yamldoc_node *flows_node;
};

static void
attr_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct map_rule *r = ctx;
    struct map_attr *grown;

    for (const char *c = key; *c != '\0'; c++) {
        if (!isalnum((unsigned char)*c) && *c != '_') {
            yamldoc_error(e, k, "attribute name '%s' may only hold letters, digits and '_'", key);
            return;
        }
    }
    grown = realloc(r->attrs, (r->nattrs + 1) * sizeof(*grown));
    if (grown == NULL) {
        e->oom = 1;
        return;
    }
    r->attrs = grown;
    memset(&r->attrs[r->nattrs], 0, sizeof(r->attrs[0]));
    r->attrs[r->nattrs].name = xstrdup(e, key);
    if (r->attrs[r->nattrs].name == NULL)
        return;
    parse_paths(e, v, &r->attrs[r->nattrs].paths);
    r->nattrs++;
}

static void
flow_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct map_flow_rule *f = ctx;

    if (strcmp(key, "from") == 0)
        parse_refs(e, v, &f->from);
    else if (strcmp(key, "to") == 0)
        parse_refs(e, v, &f->to);
    else if (strcmp(key, "label") == 0)
        parse_tpl(e, v, &f->label);
    else if (strcmp(key, "protocol") == 0)
        parse_paths(e, v, &f->protocol);
    else if (strcmp(key, "port") == 0)
        parse_paths(e, v, &f->port);
    else
        yamldoc_error(e, k, "unknown key '%s' in a flow (expected from, to, label, protocol, port)",
            key);
}

static void
parse_flows(struct yamldoc_errs *e, const struct yamldoc_node *v, struct map_rule *r)
{

    if (yamldoc_kind(v) != YAMLDOC_LIST) {
        yamldoc_error(e, v, "flows must be a list, not %s", yamldoc_kind_name(v));
        return;
    }
    for (size_t idx = 0; idx < yamldoc_count(v); idx++) {
        const struct yamldoc_node *n = yamldoc_item(v, idx);
        struct map_flow_rule *grown, *f;

        grown = realloc(r->flows, (r->nflows + 1) * sizeof(*grown));
        if (grown == NULL) {
            e->oom = 1;
            return;
        }
        r->flows = grown;
        f = &r->flows[r->nflows++];
        memset(f, 0, sizeof(*f));
        yamldoc_walk_mapping(e, n, "a flow", flow_pair, f);
        if (yamldoc_kind(n) == YAMLDOC_MAP && f->label.src == NULL)
            yamldoc_error(e, n, "a flow needs a label");
        if (yamldoc_kind(n) == YAMLDOC_MAP && f->from.n == 0 && f->to.n == 0)
            yamldoc_error(e, n, "a flow needs from or to (the other end defaults to self)");
    }
}

static void
case_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct map_rule *r = ctx;
    struct map_switch_case *grown;
    const char *t = get_text(e, v, "a component type");

    (void)k;
    if (t == NULL)
        return;
    grown = realloc(r->cases, (r->ncases + 1) * sizeof(*grown));
    if (grown == NULL) {
        e->oom = 1;
        return;
    }
    r->cases = grown;
    r->cases[r->ncases].value = xstrdup(e, key);
    r->cases[r->ncases].component = xstrdup(e, t);
    r->cases[r->ncases].component_json = NULL; /* made once the rule is complete */
    r->ncases++;
}

static void
switch_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct map_rule *r = ctx;

    if (strcmp(key, "path") == 0) {
        const char *t = get_text(e, v, "path");
        path_clear(&r->switch_path);
        if (t != NULL)
            (void)path_compile(e, v, t, &r->switch_path);
    } else if (strcmp(key, "cases") == 0) {
        yamldoc_walk_mapping(e, v, "cases", case_pair, r);
    } else {
        yamldoc_error(e, k, "unknown key '%s' in component_from (expected path, cases)", key);
    }
}

static void
rule_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct rule_ctx *c = ctx;
    struct map_rule *r = c->r;
    const char *t;

    if (strcmp(key, "resource_type") == 0) {
        t = get_text(e, v, key);
        if (t == NULL)
            return;
        if (!valid_resource_type(t)) {
            yamldoc_error(e, v, "'%s' is not a resource type like AWS::EC2::Instance", t);
            return;
        }
        r->resource_type = xstrdup(e, t);
        c->have_type = 1;
    } else if (strcmp(key, "component") == 0) {
        t = get_text(e, v, key);
        if (t == NULL)
            return;
        r->component = xstrdup(e, t);
        c->have_component = 1;
    } else if (strcmp(key, "component_from") == 0) {
        yamldoc_walk_mapping(e, v, "component_from", switch_pair, r);
        if (yamldoc_kind(v) == YAMLDOC_MAP && (r->switch_path.n == 0 || r->ncases == 0))
            yamldoc_error(e, v, "component_from needs a path and cases");
        c->have_switch = 1;
    } else if (strcmp(key, "role") == 0) {
        t = get_text(e, v, key);
        if (t == NULL)
            return;
        if (strcmp(t, MODEL_ROLE_PROCESS) != 0 && strcmp(t, MODEL_ROLE_DATA_STORE) != 0 &&
            strcmp(t, MODEL_ROLE_EXTERNAL) != 0 && strcmp(t, MODEL_ROLE_BOUNDARY) != 0) {
            yamldoc_error(e, v,
                "unknown role '%s' (expected process, data_store, external_interactor, boundary)",
                t);
            return;
        }
        r->role = xstrdup(e, t);
        c->have_role = 1;
    } else if (strcmp(key, "emit") == 0) {
        t = get_text(e, v, key);
        if (t == NULL)
            return;
        if (strcmp(t, "component") == 0)
            r->emit = MAP_EMIT_COMPONENT;
        else if (strcmp(t, "vpc") == 0)
            r->emit = MAP_EMIT_VPC;
        else if (strcmp(t, "subnet") == 0)
            r->emit = MAP_EMIT_SUBNET;
        else if (strcmp(t, "flows") == 0)
            r->emit = MAP_EMIT_FLOWS;
        else {
            yamldoc_error(e, v, "unknown emit '%s' (expected component, vpc, subnet, flows)", t);
            return;
        }
        c->have_emit = 1;
    } else if (strcmp(key, "placement") == 0) {
        t = get_text(e, v, key);
        if (t == NULL)
            return;
        if (strcmp(t, "vpc") == 0)
            r->placement = MAP_PLACE_VPC;
        else if (strcmp(t, "account") == 0)
            r->placement = MAP_PLACE_ACCOUNT;
        else if (strcmp(t, "vpc_or_account") == 0)
            r->placement = MAP_PLACE_VPC_OR_ACCOUNT;
        else {
            yamldoc_error(e, v, "unknown placement '%s' (expected vpc, account, vpc_or_account)",
                t);
            return;
        }
        c->have_placement = 1;
    } else if (strcmp(key, "name") == 0) {
        parse_paths(e, v, &r->name);
        c->have_name = 1;
    } else if (strcmp(key, "vpc") == 0) {
        parse_refs(e, v, &r->vpc);
        c->have_vpc = 1;
    } else if (strcmp(key, "boundary") == 0) {
        parse_refs(e, v, &r->boundary);
    } else if (strcmp(key, "security_groups") == 0) {
        parse_refs(e, v, &r->security_groups);
    } else if (strcmp(key, "attributes") == 0) {
        yamldoc_walk_mapping(e, v, "attributes", attr_pair, r);
    } else if (strcmp(key, "flows") == 0) {
        c->flows_node = v;
        parse_flows(e, v, r);
    } else if (strcmp(key, "threats") == 0) {
        parse_tr_list(e, v, 1, &r->threats);
    } else if (strcmp(key, "requirements") == 0) {
        parse_tr_list(e, v, 0, &r->requirements);
    } else {
        yamldoc_error(e, k, "unknown key '%s' in a rule", key);
    }
}

static int
attr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct map_attr *)a)->name, ((const struct map_attr *)b)->name);
}

static int
rule_cmp(const void *a, const void *b)
{
    return strcmp(((const struct map_rule *)a)->resource_type,
        ((const struct map_rule *)b)->resource_type);
}

/* Checks what spans keys; fills defaults. */
static void
rule_check(struct yamldoc_errs *e, const struct yamldoc_node *n, struct rule_ctx *c)
{
    struct map_rule *r = c->r;

    if (!c->have_type) {
        yamldoc_error(e, n, "a rule needs a resource_type");
        return;
    }
    if (r->emit == MAP_EMIT_COMPONENT) {
        if (!c->have_component)
            yamldoc_error(e, n, "rule for '%s' needs a component (the component type name)",
                r->resource_type);
        if (!c->have_role)
            yamldoc_error(e, n, "rule for '%s' needs a role", r->resource_type);
        if (!c->have_placement)
            yamldoc_error(e, n, "rule for '%s' needs a placement (vpc, account, vpc_or_account)",
                r->resource_type);
    } else {
        if (c->have_component || c->have_role || c->have_switch)
            yamldoc_error(e, n, "rule for '%s': component, component_from and role only apply to "
                       "emit: component", r->resource_type);
        if (c->have_placement)
            yamldoc_error(e, n, "rule for '%s': placement only applies to emit: component",
                r->resource_type);
        r->placement = r->emit == MAP_EMIT_FLOWS ? MAP_PLACE_VPC_OR_ACCOUNT : MAP_PLACE_VPC;
    }
    if (r->emit == MAP_EMIT_FLOWS && r->nflows == 0)
        yamldoc_error(e, n, "rule for '%s': emit: flows needs a flows list", r->resource_type);
    if (r->placement != MAP_PLACE_ACCOUNT && r->emit != MAP_EMIT_VPC && r->emit != MAP_EMIT_FLOWS &&
        r->vpc.n == 0)
        yamldoc_error(e, n, "rule for '%s' needs a vpc list (how the resource finds its VPC)",
            r->resource_type);
    if (r->placement == MAP_PLACE_ACCOUNT && c->have_vpc)
        yamldoc_error(e, n, "rule for '%s': vpc does not apply to placement: account",
            r->resource_type);
    if (!c->have_name) {
        static const char *const defaults[] = {"tags.Name", "resourceName", "resourceId"};
        for (size_t i = 0; i < 3 && !e->oom; i++) {
            struct map_path *grown = realloc(r->name.v, (r->name.n + 1) * sizeof(*grown));
            if (grown == NULL) {
                e->oom = 1;
                break;
            }
            r->name.v = grown;
            if (path_compile(e, n, defaults[i], &r->name.v[r->name.n]) == 0)
                r->name.n++;
        }
    }
    if (r->threats == NULL)
        r->threats = json_array();
    if (r->requirements == NULL)
        r->requirements = json_array();
    if (r->threats == NULL || r->requirements == NULL)
        e->oom = 1;
    if (r->nattrs > 1)
        qsort(r->attrs, r->nattrs, sizeof(r->attrs[0]), attr_cmp);
}

static void
parse_rules_list(struct yamldoc_errs *e, const struct yamldoc_node *v, struct map_rules *rules)
{

    if (yamldoc_kind(v) != YAMLDOC_LIST) {
        yamldoc_error(e, v, "rules must be a list, not %s", yamldoc_kind_name(v));
        return;
    }
    for (size_t idx = 0; idx < yamldoc_count(v); idx++) {
        const struct yamldoc_node *n = yamldoc_item(v, idx);
        struct rule_ctx c;
        struct map_rule *grown;
        char origin[300];

        if (rules->n >= RULES_MAX_RULES) {
            yamldoc_error(e, n, "more than %d rules", RULES_MAX_RULES);
            return;
        }
        grown = realloc(rules->v, (rules->n + 1) * sizeof(*grown));
        if (grown == NULL) {
            e->oom = 1;
            return;
        }
        rules->v = grown;
        memset(&c, 0, sizeof(c));
        c.r = &rules->v[rules->n];
        memset(c.r, 0, sizeof(*c.r));
        yamldoc_walk_mapping(e, n, "a rule", rule_pair, &c);
        if (yamldoc_kind(n) != YAMLDOC_MAP) {
            rule_clear(c.r);
            continue;
        }
        rule_check(e, n, &c);
        snprintf(origin, sizeof(origin), "%.200s:%zu", e->name, yamldoc_line(n));
        c.r->origin = xstrdup(e, origin);
        if (!c.have_type) {
            rule_clear(c.r);
            continue;
        }
        for (size_t i = 0; i < rules->n; i++) {
            if (strcmp(rules->v[i].resource_type, c.r->resource_type) == 0) {
                yamldoc_error(e, n, "duplicate rule for '%s' (first at %s)", c.r->resource_type,
                    rules->v[i].origin ? rules->v[i].origin : "?");
                break;
            }
        }
        rules->n++;
    }
}

static void
top_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct map_rules *rules = ctx;

    if (strcmp(key, "version") == 0) {
        if (yamldoc_kind(v) != YAMLDOC_SCALAR || strcmp(yamldoc_scalar(v), "1") != 0)
            yamldoc_error(e, v, "unsupported rules version (expected 1)");
    } else if (strcmp(key, "rules") == 0) {
        parse_rules_list(e, v, rules);
    } else {
        yamldoc_error(e, k, "unknown key '%s' at the top of a rules file (expected version, rules)",
            key);
    }
}

/* The JSON strings every component of a rule shares (map.c's
 * emit_component), made once here instead of once per component. A string
 * jansson refuses (never for rules libyaml read, which are UTF-8) or an
 * allocation that fails leaves the field NULL and map.c makes its own, as
 * it did before these existed: the output is the same either way. */
static void
rule_strings(struct map_rule *r)
{
    r->component_json = json_string(r->component != NULL ? r->component : "AWS Resource");
    r->role_json = r->role != NULL ? json_string(r->role) : NULL;
    for (size_t i = 0; i < r->ncases; i++) {
        if (r->cases[i].component != NULL)
            r->cases[i].component_json = json_string(r->cases[i].component);
    }
}

int
map_rules_parse(const char *name, const char *text, size_t len, struct map_rules **ret,
    struct err *err)
{
    struct yamldoc_errs e;
    struct yamldoc *doc = NULL;
    struct map_rules *rules = NULL;
    const struct yamldoc_node *root;
    int rc = -1;

    yamldoc_errs_init(&e, name, NULL, NULL);
    if (len > RULES_MAX_FILE)
        return err_set(err, ERR_CONFIG, "%s: larger than %d bytes", name, RULES_MAX_FILE);
    if (memchr(text, '\0', len) != NULL)
        return err_set(err, ERR_CONFIG, "%s: contains a NUL byte", name);
    rules = calloc(1, sizeof(*rules));
    if (rules == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (yamldoc_parse(&e, text, len, 0, &doc, err) < 0)
        goto out;
    root = yamldoc_root(doc);
    if (root == NULL) {
        yamldoc_error(&e, NULL, "the rules file is empty");
    } else {
        yamldoc_walk_mapping(&e, root, "a rules file", top_pair, rules);
        if (yamldoc_kind(root) == YAMLDOC_MAP && e.n == 0 && yamldoc_get(root, "version") == NULL)
            yamldoc_error(&e, root, "a rules file needs 'version: 1'");
    }
    if (yamldoc_errs_status(&e, err) < 0)
        goto out;
    if (rules->n > 1)
        qsort(rules->v, rules->n, sizeof(rules->v[0]), rule_cmp);
    /* what map_project keeps, compiled once per rule (the rule travels with
       its plan when rules_merge moves it) */
    for (size_t i = 0; i < rules->n; i++) {
        if (map_keep_build(&rules->v[i], &rules->v[i].keep) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory while reading %s", name);
            goto out;
        }
    }
    if (map_keep_build(NULL, &rules->keep_other) < 0) {
        err_set(err, ERR_INTERNAL, "out of memory while reading %s", name);
        goto out;
    }
    for (size_t i = 0; i < rules->n; i++)
        rule_strings(&rules->v[i]);
    *ret = rules;
    rules = NULL;
    rc = 0;
out:
    yamldoc_free(doc);
    map_rules_free(rules);
    return rc;
}

/* Moves user rules into base, replacing rules of the same type. Frees user. */
static int
rules_merge(struct map_rules *base, struct map_rules *user, struct err *err)
{
    struct map_rule *grown;
    size_t added = 0;

    if (user == NULL)
        return 0;
    if (user->n == 0) {
        map_rules_free(user);
        return 0;
    }
    grown = realloc(base->v, (base->n + user->n) * sizeof(*grown));
    if (grown == NULL && base->n + user->n > 0) {
        map_rules_free(user);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    base->v = grown;
    for (size_t i = 0; i < user->n; i++) {
        struct map_rule *old = NULL;
        for (size_t j = 0; j < base->n; j++) {
            if (strcmp(base->v[j].resource_type, user->v[i].resource_type) == 0) {
                old = &base->v[j];
                break;
            }
        }
        if (old != NULL) {
            rule_clear(old);
            *old = user->v[i];
        } else {
            base->v[base->n + added++] = user->v[i];
        }
    }
    base->n += added;
    user->n = 0;
    map_rules_free(user);
    if (base->n > 1)
        qsort(base->v, base->n, sizeof(base->v[0]), rule_cmp);
    return 0;
}

/*
 * What the mapping of an item depends on besides the item: this program's
 * version and MAP_REVISION (the mapping code: bump it with any change to
 * map.c or project.c that can change their output for the same input, so
 * that builds between releases never trust each other's caches) and the
 * exact rules text it loaded, built-in and user. Caches of mapped or
 * projected items are labelled with it.
 */
#define MAP_REVISION "map/2"

static int
rules_digest(struct map_rules *rules, const char *user, size_t user_len, struct err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    if (ctx == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, DRIFTSYNC_VERSION, strlen(DRIFTSYNC_VERSION) + 1) == 1 &&
         EVP_DigestUpdate(ctx, MAP_REVISION, sizeof(MAP_REVISION)) == 1 &&
         EVP_DigestUpdate(ctx, map_rules_builtin, map_rules_builtin_len) == 1 &&
         EVP_DigestUpdate(ctx, user != NULL ? "\1" : "\0", 1) == 1 &&
         (user == NULL || EVP_DigestUpdate(ctx, user, user_len) == 1) &&
         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || mdlen != 32)
        return err_set(err, ERR_INTERNAL, "SHA-256 of the rules failed");
    util_hex(md, mdlen, rules->digest);
    return 0;
}

const char *
map_rules_digest(const struct map_rules *rules)
{
    return rules != NULL && rules->digest[0] != '\0' ? rules->digest : NULL;
}

int
map_rules_load(const char *user_path, struct map_rules **ret, struct err *err)
{
    struct map_rules *rules = NULL, *user = NULL;
    struct buf b;
    int rc = -1;

    buf_init(&b, RULES_MAX_FILE);
    if (map_rules_parse("rules.yaml (built-in)", (const char *)map_rules_builtin,
            map_rules_builtin_len, &rules, err) < 0)
        goto out;
    if (user_path != NULL) {
        if (util_read_file(user_path, &b, err) < 0) {
            err->kind = ERR_CONFIG;
            goto out;
        }
        if (map_rules_parse(user_path, buf_str(&b), b.len, &user, err) < 0)
            goto out;
        if (rules_merge(rules, user, err) < 0)
            goto out;
    }
    if (rules_digest(rules, user_path != NULL ? buf_str(&b) : NULL, b.len, err) < 0)
        goto out;
    *ret = rules;
    rules = NULL;
    rc = 0;
out:
    buf_clear(&b);
    map_rules_free(rules);
    return rc;
}

size_t
map_rules_count(const struct map_rules *rules)
{
    return rules == NULL ? 0 : rules->n;
}

const struct map_rule *
map_rules_find(const struct map_rules *rules, const char *resource_type)
{
    size_t lo = 0, hi;

    if (rules == NULL || resource_type == NULL)
        return NULL;
    hi = rules->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rules->v[mid].resource_type, resource_type);
        if (c == 0)
            return &rules->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int
map_rules_has_type(const struct map_rules *rules, const char *resource_type)
{
    return map_rules_find(rules, resource_type) != NULL;
}

void
map_rules_foreach_type(const struct map_rules *rules,
    void (*fn)(void *ctx, const char *resource_type), void *ctx)
{
    if (rules == NULL)
        return;
    for (size_t i = 0; i < rules->n; i++)
        fn(ctx, rules->v[i].resource_type);
}

/* ---- path evaluation ---- */

json_t *
map_json_nested(json_t *v)
{
    const char *s;
    size_t len;

    if (!json_is_string(v))
        return NULL;
    s = json_string_value(v);
    len = json_string_length(v);
    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    if (len == 0 || len > RULES_MAX_JSON || (s[0] != '{' && s[0] != '['))
        return NULL;
    return jsonr_loadb(s, len, JSON_DECODE_ANY, NULL);
}

/* The member a segment names, or NULL (v not an object, or no such key);
 * the length is known from compiling, so no strlen per lookup. */
static json_t *
seg_get(json_t *v, const struct map_path_seg *seg)
{
    if (!json_is_object(v))
        return NULL;
    return json_object_getn(v, seg->key, seg->klen != 0 ? seg->klen : strlen(seg->key));
}

/* The walk behind map_path_eval and map_path_visit_at: fn gets each value
 * found (borrowed for the call). */
static int
visit_at(const struct map_path *path, size_t i, json_t *v, map_path_fn fn, void *arg)
{
    json_t *parsed = NULL, *child;
    int n = 0, r;

    if (i == path->n) {
        if (json_is_null(v))
            return 0;
        return fn(v, arg) < 0 ? -1 : 1;
    }
    if (json_is_string(v)) {
        parsed = map_json_nested(v);
        if (parsed == NULL)
            return 0;
        v = parsed;
    }
    child = seg_get(v, &path->segs[i]);
    if (child == NULL)
        goto out;
    if (!path->segs[i].collect) {
        n = visit_at(path, i + 1, child, fn, arg);
        goto out;
    }
    if (json_is_string(child)) {
        json_t *inner = map_json_nested(child);
        if (inner != NULL && json_is_array(inner)) {
            size_t k;
            json_t *e;
            json_array_foreach(inner, k, e) {
                r = visit_at(path, i + 1, e, fn, arg);
                if (r < 0) {
                    n = -1;
                    break;
                }
                n += r;
            }
        }
        json_decref(inner);
        goto out;
    }
    if (json_is_array(child)) {
        size_t k;
        json_t *e;
        json_array_foreach(child, k, e) {
            r = visit_at(path, i + 1, e, fn, arg);
            if (r < 0) {
                n = -1;
                goto out;
            }
            n += r;
        }
    }
out:
    json_decref(parsed);
    return n;
}

static int
append_fn(json_t *v, void *arg)
{
    return json_array_append((json_t *)arg, v);
}

int
map_path_eval(const struct map_path *path, json_t *root, json_t *out)
{
    return map_path_eval_at(path, 0, root, out);
}

int
map_path_eval_at(const struct map_path *path, size_t from, json_t *v, json_t *out)
{
    if (path == NULL || path->n == 0 || v == NULL || from > path->n)
        return 0;
    return visit_at(path, from, v, append_fn, out);
}

int
map_path_visit_at(const struct map_path *path, size_t from, json_t *v, map_path_fn fn, void *arg)
{
    if (path == NULL || path->n == 0 || v == NULL || from > path->n)
        return 0;
    return visit_at(path, from, v, fn, arg);
}

/* A path without `[]` yields at most one value: walk it without the
 * scratch list (the common case; mapping evaluates millions of paths). */
static json_t *
single_value(const struct map_path *path, size_t from, json_t *root)
{
    json_t *v = root, *owned = NULL, *child;

    for (size_t i = from; i < path->n; i++) {
        if (json_is_string(v)) {
            json_t *parsed = map_json_nested(v); /* before v's owner is released */
            json_decref(owned);
            owned = parsed;
            v = parsed;
        }
        child = seg_get(v, &path->segs[i]);
        if (child == NULL) {
            json_decref(owned);
            return NULL;
        }
        v = child;
    }
    if (json_is_null(v)) {
        json_decref(owned);
        return NULL;
    }
    json_incref(v);
    json_decref(owned);
    return v;
}

int
map_path_collects(const struct map_path *path)
{
    for (size_t i = 0; i < path->n; i++) {
        if (path->segs[i].collect)
            return 1;
    }
    return 0;
}

json_t *
map_path_first(const struct map_path *path, json_t *root, int *ret_oom)
{
    return map_path_first_at(path, 0, root, ret_oom);
}

static int
first_fn(json_t *v, void *arg)
{
    *(json_t **)arg = json_incref(v);
    return -1; /* the first is all we want */
}

json_t *
map_path_first_at(const struct map_path *path, size_t from, json_t *v, int *ret_oom)
{
    json_t *first = NULL;

    *ret_oom = 0;
    if (path == NULL || path->n == 0 || v == NULL || from > path->n)
        return NULL;
    if (!(path->compiled ? path->collects : map_path_collects(path)))
        return single_value(path, from, v);
    /* stops at the first value instead of collecting them all */
    (void)visit_at(path, from, v, first_fn, &first);
    return first;
}

json_t *
map_paths_first(const struct map_paths *paths, json_t *root)
{
    for (size_t i = 0; i < paths->n; i++) {
        int oom;
        json_t *v = map_path_first(&paths->v[i], root, &oom);
        if (v != NULL || oom)
            return v;
    }
    return NULL;
}
