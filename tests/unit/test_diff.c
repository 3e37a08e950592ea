/*
 * test_diff: mapping/diff.c. Every case starts from tests/data/diff/base.json
 * (one VPC with an instance, a database, a function, a flow and three
 * boundaries), changes a copy, and checks the exact entries: each kind,
 * designed-component matching (and flows through it), every ignore rule
 * kind, determinism under shuffling, and malformed models.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "mapping/diff.h"
#include "testutil.h"

#define WEB "arn:aws:ec2:us-east-1:111111111111:instance/i-0web"
#define RDS "arn:aws:rds:us-east-1:111111111111:db:orders"
#define FN  "arn:aws:lambda:us-east-1:111111111111:function:resize"

static json_t *base;

static json_t *
copy(void)
{
    return json_deep_copy(base);
}

static json_t *
comp(json_t *model, size_t i)
{
    return json_array_get(json_object_get(model, "components"), i);
}

static json_t *
attrs(json_t *model, size_t i)
{
    return json_object_get(comp(model, i), "attributes");
}

/* entry with kind, key and (when path != NULL) details.path */
static const json_t *
find(const json_t *entries, const char *kind, const char *key, const char *path)
{
    size_t i;

    for (i = 0; i < json_array_size(entries); i++) {
        const json_t *e = json_array_get(entries, i);
        const char *p = json_string_value(json_object_get(json_object_get(e, "details"), "path"));

        if (strcmp(json_string_value(json_object_get(e, "kind")), kind) != 0 ||
            strcmp(json_string_value(json_object_get(e, "key")), key) != 0)
            continue;
        if (path == NULL || (p != NULL && strcmp(p, path) == 0))
            return e;
    }
    return NULL;
}

static json_t *
run(const json_t *saved, const json_t *disc, const struct cfg_ignore *ig, size_t nig)
{
    struct err err = {0};
    json_t *out = NULL;

    if (diff_models(saved, disc, ig, nig, &out, &err) < 0) {
        fprintf(stderr, "diff failed: %s\n", err.msg);
        return json_array();
    }
    return out;
}

static char *
dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void
test_identical(void)
{
    json_t *d = copy(), *out = run(base, d, NULL, 0);

    CHECK_INT(json_array_size(out), 0);
    json_decref(out);
    json_decref(d);
}

static void
test_kinds(void)
{
    json_t *d = copy(), *out;
    const json_t *e;
    json_t *extra;

    /* changed: attribute, nested tag, name, boundary */
    json_object_set_new(attrs(d, 1), "publicly_accessible", json_true());
    json_object_set_new(json_object_get(attrs(d, 0), "tags"), "Env", json_string("staging"));
    json_object_set_new(comp(d, 0), "name", json_string("web-one"));
    json_object_set_new(comp(d, 0), "boundary", json_string("subnet-0priv"));
    json_object_del(attrs(d, 0), "public_ip");
    /* only_in_model: drop the function; only_in_vpc: a new bucket-ish thing */
    json_array_remove(json_object_get(d, "components"), 2);
    extra = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s}}", "key", "arn:aws:ec2:x:instance/i-new",
                      "type", "AWS EC2", "name", "rogue", "role", "process", "resource_type",
                      "AWS::EC2::Instance", "resource_id", "i-new", "attributes", "instance_type",
                      "m5.large");
    json_array_append_new(json_object_get(d, "components"), extra);
    out = run(base, d, NULL, 0);

    e = find(out, DIFF_CHANGED, RDS, "attributes.publicly_accessible");
    CHECK(e != NULL);
    CHECK(json_is_false(json_object_get(json_object_get(e, "details"), "old")));
    CHECK(json_is_true(json_object_get(json_object_get(e, "details"), "new")));
    CHECK_STR(json_string_value(json_object_get(e, "component")), "orders");
    CHECK_STR(json_string_value(json_object_get(e, "component_type")), "AWS RDS");
    CHECK_STR(json_string_value(json_object_get(e, "resource_type")), "AWS::RDS::DBInstance");
    CHECK_STR(json_string_value(json_object_get(e, "resource_id")), "orders");

    e = find(out, DIFF_CHANGED, WEB, "attributes.tags.Env");
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(e, "details"), "old")), "prod");
    CHECK_STR(json_string_value(json_object_get(json_object_get(e, "details"), "new")), "staging");
    e = find(out, DIFF_CHANGED, WEB, "name");
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "component")), "web-one");
    e = find(out, DIFF_CHANGED, WEB, "boundary");
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(e, "details"), "new")),
              "subnet-0priv");
    e = find(out, DIFF_CHANGED, WEB, "attributes.public_ip");
    CHECK(e != NULL);
    CHECK(json_is_null(json_object_get(json_object_get(e, "details"), "new")));

    e = find(out, DIFF_ONLY_IN_MODEL, FN, NULL);
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "resource_type")), "AWS::Lambda::Function");
    CHECK_STR(json_string_value(
                  json_object_get(json_object_get(json_object_get(e, "details"), "item"), "key")),
              FN);
    e = find(out, DIFF_ONLY_IN_VPC, "arn:aws:ec2:x:instance/i-new", NULL);
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "component")), "rogue");
    CHECK_INT(json_array_size(out), 7);

    /* sorted by key, kind, path */
    {
        size_t i;
        int sorted = 1;

        for (i = 1; i < json_array_size(out); i++) {
            const char *a = json_string_value(json_object_get(json_array_get(out, i - 1), "key"));
            const char *b = json_string_value(json_object_get(json_array_get(out, i), "key"));

            if (strcmp(a, b) > 0)
                sorted = 0;
        }
        CHECK(sorted);
    }
    json_decref(out);
    json_decref(d);
}

static void
test_absent_equals_null(void)
{
    json_t *d = copy(), *out;

    json_object_set_new(attrs(d, 0), "iam_profile", json_null());
    out = run(base, d, NULL, 0);
    CHECK_INT(json_array_size(out), 0);
    json_decref(out);
    json_decref(d);
}

static void
test_designed(void)
{
    json_t *s = copy(), *out;
    json_t *c = comp(s, 1);
    json_t *f = json_array_get(json_object_get(s, "flows"), 0);
    const json_t *e;

    /* the database was drawn by hand: no resource id, a design key */
    json_object_set_new(c, "key", json_string("design:AWS RDS:orders"));
    json_object_del(c, "resource_id");
    json_object_set_new(json_object_get(c, "attributes"), "multi_az", json_true());
    json_object_set_new(f, "to", json_string("design:AWS RDS:orders"));
    out = run(s, base, NULL, 0);
    /* matched by type and name: one changed attribute, no only_in entries; the
     * flow through the designed key matches the discovered flow */
    CHECK_INT(json_array_size(out), 1);
    e = find(out, DIFF_CHANGED, "design:AWS RDS:orders", "attributes.multi_az");
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(e, "details"), "discovered_key")),
              RDS);
    CHECK_STR(json_string_value(json_object_get(e, "resource_id")), "orders");
    json_decref(out);

    /* renamed in AWS: no match -> only_in_model + only_in_vpc, and the flow too */
    json_object_set_new(c, "name", json_string("orders-db"));
    out = run(s, base, NULL, 0);
    CHECK(find(out, DIFF_ONLY_IN_MODEL, "design:AWS RDS:orders", NULL) != NULL);
    CHECK(json_is_null(json_object_get(find(out, DIFF_ONLY_IN_MODEL, "design:AWS RDS:orders", NULL),
                                       "resource_id")));
    CHECK(find(out, DIFF_ONLY_IN_VPC, RDS, NULL) != NULL);
    CHECK(find(out, DIFF_ONLY_IN_MODEL, "flow:" WEB "->design:AWS RDS:orders:tcp/5432", NULL) !=
          NULL);
    CHECK(find(out, DIFF_ONLY_IN_VPC, "flow:" WEB "->" RDS ":tcp/5432", NULL) != NULL);
    CHECK_INT(json_array_size(out), 4);
    json_decref(out);

    /* a component with a resource id never matches by name */
    json_object_set_new(c, "name", json_string("orders"));
    json_object_set_new(c, "resource_id", json_string("orders-old"));
    out = run(s, base, NULL, 0);
    CHECK(find(out, DIFF_ONLY_IN_MODEL, "design:AWS RDS:orders", NULL) != NULL);
    CHECK(find(out, DIFF_ONLY_IN_VPC, RDS, NULL) != NULL);
    json_decref(out);
    json_decref(s);
}

static void
test_flows_and_boundaries(void)
{
    json_t *d = copy(), *out;
    json_t *flows = json_object_get(d, "flows");
    const json_t *e;

    json_object_set_new(json_array_get(flows, 0), "port", json_integer(5433));
    json_array_append_new(flows, json_pack("{s:s,s:s,s:s}", "from", "external:internet", "to", WEB,
                                           "label", "tcp/22"));
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(d, "boundaries"), 0), "attributes"),
        "map_public_ip_on_launch", json_true());
    out = run(base, d, NULL, 0);
    e = find(out, DIFF_CHANGED, "flow:" WEB "->" RDS ":tcp/5432", "port");
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "resource_type")), "flow");
    CHECK_STR(json_string_value(json_object_get(e, "component")), "tcp/5432");
    CHECK(json_is_null(json_object_get(e, "resource_id")));
    e = find(out, DIFF_ONLY_IN_VPC, "flow:external:internet->" WEB ":tcp/22", NULL);
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "component_type")), "flow");
    e = find(out, DIFF_CHANGED, "subnet-0priv", "attributes.map_public_ip_on_launch");
    CHECK(e != NULL);
    CHECK_STR(json_string_value(json_object_get(e, "resource_type")), "AWS::EC2::Subnet");
    CHECK_STR(json_string_value(json_object_get(e, "resource_id")), "subnet-0priv");
    CHECK_INT(json_array_size(out), 3);
    json_decref(out);

    /* flow only in the model */
    json_array_clear(flows);
    out = run(base, d, NULL, 0);
    CHECK(find(out, DIFF_ONLY_IN_MODEL, "flow:" WEB "->" RDS ":tcp/5432", NULL) != NULL);
    json_decref(out);
    json_decref(d);
}

/* a discovered copy with one change in each component, a new flow and a
 * boundary change: 6 entries before ignores */
static json_t *
busy_discovery(void)
{
    json_t *d = copy();

    json_object_set_new(attrs(d, 0), "instance_type", json_string("t3.large"));
    json_object_set_new(json_object_get(attrs(d, 0), "tags"), "Owner", json_string("ops"));
    json_object_set_new(attrs(d, 1), "storage_encrypted", json_false());
    json_object_set_new(attrs(d, 2), "runtime", json_string("python3.12"));
    json_array_append_new(json_object_get(d, "flows"),
                          json_pack("{s:s,s:s,s:s}", "from", FN, "to", RDS, "label", "tcp/5432"));
    json_object_set_new(json_array_get(json_object_get(d, "boundaries"), 1), "name",
                        json_string("public-b"));
    return d;
}

static size_t
count_with(const struct cfg_ignore *ig, size_t n)
{
    json_t *d = busy_discovery(), *out = run(base, d, ig, n);
    size_t c = json_array_size(out);

    json_decref(out);
    json_decref(d);
    return c;
}

static void
test_ignores(void)
{
    struct cfg_ignore none[1] = {{NULL, NULL, NULL, NULL}};
    struct cfg_ignore by_type[1] = {{(char *)(uintptr_t) "AWS::RDS::DBInstance", NULL, NULL, NULL}};
    struct cfg_ignore flows[1] = {{(char *)(uintptr_t) "flow", NULL, NULL, NULL}};
    struct cfg_ignore subnet[1] = {{(char *)(uintptr_t) "AWS::EC2::Subnet", NULL, NULL, NULL}};
    struct cfg_ignore tag_any[1] = {{NULL, (char *)(uintptr_t) "Env", NULL, NULL}};
    struct cfg_ignore tag_val[1] = {
        {NULL, (char *)(uintptr_t) "Env", (char *)(uintptr_t) "prod", NULL}};
    struct cfg_ignore tag_other[1] = {
        {NULL, (char *)(uintptr_t) "Env", (char *)(uintptr_t) "dev", NULL}};
    struct cfg_ignore tag_list[1] = {
        {NULL, (char *)(uintptr_t) "Team", (char *)(uintptr_t) "payments", NULL}};
    struct cfg_ignore tag_top[1] = {{NULL, (char *)(uintptr_t) "Scratch", NULL, NULL}};
    struct cfg_ignore attr_exact[1] = {
        {NULL, NULL, NULL, (char *)(uintptr_t) "attributes.instance_type"}};
    struct cfg_ignore attr_rel[1] = {{NULL, NULL, NULL, (char *)(uintptr_t) "instance_type"}};
    struct cfg_ignore attr_star[1] = {{NULL, NULL, NULL, (char *)(uintptr_t) "tags.*"}};
    struct cfg_ignore attr_pre[1] = {{NULL, NULL, NULL, (char *)(uintptr_t) "attributes.*"}};
    struct cfg_ignore both[1] = {
        {(char *)(uintptr_t) "AWS::EC2::Instance", NULL, NULL, (char *)(uintptr_t) "runtime"}};
    struct cfg_ignore two[2] = {{(char *)(uintptr_t) "flow", NULL, NULL, NULL},
                                {NULL, NULL, NULL, (char *)(uintptr_t) "runtime"}};

    CHECK_INT(count_with(NULL, 0), 6);
    CHECK_INT(count_with(none, 1), 6); /* an empty rule ignores nothing */
    CHECK_INT(count_with(by_type, 1), 5);
    CHECK_INT(count_with(flows, 1), 5);
    CHECK_INT(count_with(subnet, 1), 5);
    CHECK_INT(count_with(tag_any, 1), 4); /* both web entries */
    CHECK_INT(count_with(tag_val, 1), 4);
    CHECK_INT(count_with(tag_other, 1), 6); /* value differs */
    CHECK_INT(count_with(tag_list, 1), 5);  /* AWS key/value list form */
    CHECK_INT(count_with(tag_top, 1), 5);   /* component-level "tags" */
    CHECK_INT(count_with(attr_exact, 1), 5);
    CHECK_INT(count_with(attr_rel, 1), 5);
    CHECK_INT(count_with(attr_star, 1), 5); /* attributes.tags.Owner */
    CHECK_INT(count_with(attr_pre, 1), 2);  /* only the flow and the boundary name */
    CHECK_INT(count_with(both, 1), 6);      /* both fields must match */
    CHECK_INT(count_with(two, 2), 4);

    /* "tags.*" also matches the tags object appearing as a whole */
    {
        json_t *d = copy(), *out;

        json_object_del(attrs(d, 0), "tags");
        out = run(base, d, NULL, 0);
        CHECK(find(out, DIFF_CHANGED, WEB, "attributes.tags") != NULL);
        json_decref(out);
        out = run(base, d, attr_star, 1);
        CHECK_INT(json_array_size(out), 0);
        json_decref(out);
        json_decref(d);
    }
}

static void
shuffle_array(json_t *arr)
{
    size_t n = json_array_size(arr), i;

    for (i = 0; i + 1 < n; i++) {
        json_t *v = json_incref(json_array_get(arr, 0));

        json_array_remove(arr, 0);
        json_array_append_new(arr, v);
        if (i % 2 == 1) {
            v = json_incref(json_array_get(arr, 1));
            json_array_remove(arr, 1);
            json_array_append_new(arr, v);
        }
    }
}

static void
test_determinism(void)
{
    json_t *d = busy_discovery(), *s = copy(), *o1, *o2;
    char *a, *b;

    o1 = run(base, d, NULL, 0);
    shuffle_array(json_object_get(d, "components"));
    shuffle_array(json_object_get(d, "flows"));
    shuffle_array(json_object_get(d, "boundaries"));
    shuffle_array(json_object_get(s, "components"));
    shuffle_array(json_object_get(s, "boundaries"));
    o2 = run(s, d, NULL, 0);
    a = dump(o1);
    b = dump(o2);
    CHECK(json_array_size(o1) == 6);
    CHECK_STR(a, b);
    free(a);
    free(b);
    json_decref(o1);
    json_decref(o2);
    json_decref(d);
    json_decref(s);
}

static void
test_null_sides(void)
{
    json_t *out = run(NULL, base, NULL, 0);
    size_t i, vpc_only = 0;

    for (i = 0; i < json_array_size(out); i++) {
        if (strcmp(json_string_value(json_object_get(json_array_get(out, i), "kind")),
                   DIFF_ONLY_IN_VPC) == 0)
            vpc_only++;
    }
    CHECK_INT(json_array_size(out), 7); /* 3 components, 3 boundaries, 1 flow */
    CHECK_INT(vpc_only, 7);
    json_decref(out);
    out = run(base, NULL, NULL, 0);
    CHECK_INT(json_array_size(out), 7);
    CHECK(find(out, DIFF_ONLY_IN_MODEL, WEB, NULL) != NULL);
    json_decref(out);
}

static void
expect_bad(json_t *model, const char *want)
{
    struct err err = {0};
    json_t *out = NULL;

    CHECK(diff_models(base, model, NULL, 0, &out, &err) == -1);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, want);
    json_decref(model);
}

static void
test_bad_models(void)
{
    json_t *m;

    expect_bad(json_string("nope"), "discovered model: not a JSON object");
    m = copy();
    json_object_set_new(m, "schema", json_string("other/2"));
    expect_bad(m, "discovered model: 'schema' is not \"driftsync.model/1\"");
    m = copy();
    json_object_set_new(m, "components", json_object());
    expect_bad(m, "'components' is not an array");
    m = copy();
    json_object_del(comp(m, 1), "key");
    expect_bad(m, "components[1]: missing string 'key'");
    m = copy();
    json_object_set_new(comp(m, 2), "key", json_string(RDS));
    expect_bad(m, "components[2]: duplicate key '" RDS "'");
    /* the first problem in array order wins, whatever its kind */
    {
        json_t *comps;
        m = copy();
        comps = json_object_get(m, "components");
        json_object_set_new(comp(m, 2), "key", json_string(RDS));
        json_array_append_new(comps, json_pack("{s:i}", "key", 5)); /* later: not reported */
        expect_bad(m, "components[2]: duplicate key '" RDS "'");
        m = copy();
        comps = json_object_get(m, "components");
        json_object_del(comp(m, 1), "key");
        json_object_set_new(comp(m, 2), "key", json_string(RDS));
        expect_bad(m, "components[1]: missing string 'key'");
        /* a key three times: its second place; two keys: the earlier second */
        m = copy();
        comps = json_object_get(m, "components");
        json_array_append(comps, comp(m, 0));
        json_array_append(comps, comp(m, 1));
        json_array_append(comps, comp(m, 0));
        {
            char want[128];
            snprintf(want, sizeof(want), "components[%zu]: duplicate key '%s'",
                     json_array_size(comps) - 3,
                     json_string_value(json_object_get(comp(m, 0), "key")));
            expect_bad(m, want);
        }
    }
    m = copy();
    json_array_append_new(json_object_get(m, "flows"), json_integer(3));
    expect_bad(m, "flows[1] is not an object");
    m = copy();
    json_object_del(json_array_get(json_object_get(m, "flows"), 0), "to");
    expect_bad(m, "flows[0]: missing string 'from' or 'to'");
    m = copy();
    json_array_append_new(json_object_get(m, "boundaries"), json_pack("{s:i}", "key", 5));
    expect_bad(m, "boundaries[3]: missing string 'key'");

    {
        struct err err = {0};
        json_t *out = NULL;

        CHECK(diff_models(json_null(), base, NULL, 0, &out, &err) == -1);
        CHECK_CONTAINS(err.msg, "saved model: not a JSON object");
    }
}

static void
test_entry_id(void)
{
    json_t *d = copy(), *out;
    char *id;

    json_object_set_new(attrs(d, 1), "engine", json_string("mysql"));
    json_array_remove(json_object_get(d, "components"), 2);
    out = run(base, d, NULL, 0);
    id = diff_entry_id(find(out, DIFF_CHANGED, RDS, NULL));
    CHECK_STR(id, "changed|" RDS "|attributes.engine");
    free(id);
    id = diff_entry_id(find(out, DIFF_ONLY_IN_MODEL, FN, NULL));
    CHECK_STR(id, "only_in_model|" FN "|");
    free(id);
    {
        json_t *empty = json_object();

        CHECK(diff_entry_id(empty) == NULL);
        json_decref(empty);
    }
    json_decref(out);
    json_decref(d);
}

int
main(int argc, char **argv)
{
    char path[4096];
    json_error_t jerr;

    if (argc < 2) {
        fprintf(stderr, "usage: test_diff DATADIR\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/base.json", argv[1]);
    base = json_load_file(path, 0, &jerr);
    if (base == NULL) {
        fprintf(stderr, "%s: %s\n", path, jerr.text);
        return 2;
    }
    test_identical();
    test_kinds();
    test_absent_equals_null();
    test_designed();
    test_flows_and_boundaries();
    test_ignores();
    test_determinism();
    test_null_sides();
    test_bad_models();
    test_entry_id();
    json_decref(base);
    TEST_END();
}
