/*
 * test_mapfast: the properties the fast paths of map_target and map_project
 * rely on or promise (the byte-identical output itself is checked by
 * test_mapping's golden files and test_project's differential runs).
 *
 * - The path walkers: map_path_visit_at yields exactly what
 *   map_path_eval_at appends, in order, and can be stopped;
 *   map_path_first_at from segment 1 of a `configuration.` path on the
 *   configuration object equals map_path_first on the item (map.c starts
 *   there); out-of-range starts yield nothing.
 * - Model objects are built with their keys in sorted order (the canonical
 *   dump then has nothing to sort): the document, boundaries, components,
 *   flows, skipped entries and the rules' threats.
 * - A flow made twice (two permissions with the same label) is kept once,
 *   and flows stay sorted.
 * - Shared, read-only values: components of one rule share their type and
 *   role strings, components in one subnet share the boundary string, and
 *   a flow's from/to are its components' key strings.
 * - map_project shares a relationship that holds only what it keeps, and
 *   copies (reduces) one that holds more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/err.h"
#include "mapping/map.h"
#include "mapping/rules.h"
#include "tests/unit/testutil.h"

static int
keys_sorted(json_t *obj)
{
    const char *k, *prev = NULL;
    json_t *v;

    json_object_foreach(obj, k, v) {
        if (prev != NULL && strcmp(prev, k) >= 0)
            return 0;
        prev = k;
    }
    return 1;
}

static int
all_sorted(json_t *arr)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        if (!keys_sorted(v))
            return 0;
    }
    return 1;
}

static int
count_fn(json_t *v, void *arg)
{
    json_t *seen = arg;

    return json_array_append(seen, v);
}

static int
stop_fn(json_t *v, void *arg)
{
    (void)v;
    (*(int *)arg)++;
    return -1;
}

static void
test_walkers(void)
{
    static const char text[] =
        "version: 1\n"
        "rules:\n"
        "  - resource_type: AWS::Test::Thing\n"
        "    component: Thing\n"
        "    role: process\n"
        "    placement: account\n"
        "    name: [resourceId]\n"
        "    attributes:\n"
        "      a: \"configuration.list[].x\"\n"
        "      b: configuration.nested.y\n"
        "      c: configuration.missing\n";
    struct map_rules *rules = NULL;
    struct err err = {0};
    json_t *item, *cfg, *a, *b, *seen;
    const struct map_rule *r;
    int failed, calls = 0;

    CHECK_MSG(map_rules_parse("mem", text, sizeof(text) - 1, &rules, &err) == 0, "%s", err.msg);
    if (rules == NULL)
        return;
    r = &rules->v[0];
    item = json_loads("{\"configuration\": {\"list\": [{\"x\": 1}, {\"x\": null}, {\"y\": 2},"
                      " \"{\\\"x\\\": 3}\", {\"x\": \"four\"}], \"nested\": \"{\\\"y\\\": [5]}\"}}",
        0, NULL);
    CHECK(item != NULL);
    cfg = json_object_get(item, "configuration");
    CHECK_INT(r->attrs[0].paths.v[0].segs[0].klen, 13);

    /* visit == eval, from the item and from the configuration */
    a = json_array();
    b = json_array();
    seen = json_array();
    CHECK_INT(map_path_eval_at(&r->attrs[0].paths.v[0], 0, item, a), 3);
    CHECK_INT(map_path_eval_at(&r->attrs[0].paths.v[0], 1, cfg, b), 3);
    CHECK_INT(map_path_visit_at(&r->attrs[0].paths.v[0], 1, cfg, count_fn, seen), 3);
    CHECK(json_equal(a, b));
    CHECK(json_equal(a, seen));
    {
        char *s = json_dumps(a, JSON_COMPACT);
        CHECK_STR(s, "[1,3,\"four\"]"); /* null skipped, JSON in a string parsed */
        free(s);
    }
    /* a visitor that stops ends the walk after one call */
    CHECK_INT(map_path_visit_at(&r->attrs[0].paths.v[0], 1, cfg, stop_fn, &calls), -1);
    CHECK_INT(calls, 1);

    /* first_at from the configuration == first from the item */
    {
        json_t *x = map_path_first(&r->attrs[0].paths.v[0], item, &failed);
        json_t *y = map_path_first_at(&r->attrs[0].paths.v[0], 1, cfg, &failed);
        CHECK(!failed);
        CHECK(x != NULL && x == y); /* the same borrowed-then-increfed value */
        CHECK_INT(json_integer_value(y), 1);
        json_decref(x);
        json_decref(y);
        x = map_path_first(&r->attrs[1].paths.v[0], item, &failed);
        y = map_path_first_at(&r->attrs[1].paths.v[0], 1, cfg, &failed);
        CHECK(json_equal(x, y) && json_is_array(y)); /* through JSON nested in a string */
        json_decref(x);
        json_decref(y);
        CHECK(map_path_first_at(&r->attrs[2].paths.v[0], 1, cfg, &failed) == NULL);
        CHECK(!failed);
        /* out of range or missing input: nothing, never a crash */
        CHECK(map_path_first_at(&r->attrs[1].paths.v[0], 9, cfg, &failed) == NULL);
        CHECK(map_path_first_at(&r->attrs[1].paths.v[0], 1, NULL, &failed) == NULL);
        CHECK_INT(map_path_eval_at(&r->attrs[1].paths.v[0], 9, cfg, a), 0);
        CHECK_INT(map_path_visit_at(NULL, 0, cfg, count_fn, seen), 0);
    }
    json_decref(a);
    json_decref(b);
    json_decref(seen);
    json_decref(item);
    map_rules_free(rules);
}

static const char items_text[] =
    "[{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\"},\"tags\":{\"Name\":\"prod\"}},"
    "{\"resourceType\":\"AWS::EC2::Subnet\",\"resourceId\":\"subnet-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\"}},"
    "{\"resourceType\":\"AWS::EC2::RouteTable\",\"resourceId\":\"rtb-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\",\"routes\":[{\"destinationCidrBlock\":\"0.0.0.0/0\",\"gatewayId\":"
    "\"igw-1\"}],\"associations\":[{\"subnetId\":\"subnet-1\"}]}},"
    "{\"resourceType\":\"AWS::EC2::SecurityGroup\",\"resourceId\":\"sg-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\",\"groupId\":\"sg-1\",\"ipPermissions\":["
    "{\"ipProtocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,\"userIdGroupPairs\":"
    "[{\"groupId\":\"sg-1\"}],\"ipRanges\":[\"0.0.0.0/0\"]},"
    "{\"ipProtocol\":\"6\",\"fromPort\":443,\"toPort\":443,\"userIdGroupPairs\":"
    "[{\"groupId\":\"sg-1\"}]}]}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-2\",\"arn\":\"arn:i-2\","
    "\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\",\"securityGroups\":"
    "[{\"groupId\":\"sg-1\"}]},\"tags\":{\"Name\":\"b\"}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\",\"arn\":\"arn:i-1\","
    "\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\",\"securityGroups\":"
    "[{\"groupId\":\"sg-1\"}]},\"tags\":{\"Name\":\"a\"}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-9\"},"
    "7]";

static void
test_models(const struct map_rules *rules)
{
    struct map_result res;
    struct err err = {0};
    json_t *items = json_loads(items_text, 0, NULL), *m, *comps, *flows, *c1, *c2, *f;
    size_t i;

    CHECK(items != NULL);
    memset(&res, 0, sizeof(res));
    CHECK_MSG(map_target(rules, "111111111111", "eu-west-1", items, &res, &err) == 0, "%s",
        err.msg);
    m = json_object_get(res.models, "vpc-1");
    CHECK(m != NULL);
    if (m == NULL)
        goto out;
    CHECK(keys_sorted(m));
    CHECK(keys_sorted(res.account));
    comps = json_object_get(m, "components");
    flows = json_object_get(m, "flows");
    CHECK(all_sorted(comps));
    CHECK(all_sorted(flows));
    CHECK(all_sorted(json_object_get(m, "boundaries")));
    CHECK(all_sorted(json_object_get(res.account, "boundaries")));
    CHECK(all_sorted(res.skipped));
    CHECK_INT(res.skipped_count, 2); /* i-9 has no VPC; 7 is not an object */
    json_array_foreach(comps, i, c1) {
        CHECK(all_sorted(json_object_get(c1, "threats")));
        CHECK(all_sorted(json_object_get(c1, "requirements")));
    }

    /* i-1, i-2, Internet; sg-1 itself is a component too */
    c1 = NULL;
    c2 = NULL;
    json_array_foreach(comps, i, f) {
        const char *k = json_string_value(json_object_get(f, "key"));
        if (strcmp(k, "arn:i-1") == 0)
            c1 = f;
        else if (strcmp(k, "arn:i-2") == 0)
            c2 = f;
    }
    CHECK(c1 != NULL && c2 != NULL);
    if (c1 == NULL || c2 == NULL)
        goto out;
    CHECK(json_object_get(c1, "type") == json_object_get(c2, "type"));
    CHECK(json_object_get(c1, "role") == json_object_get(c2, "role"));
    CHECK(json_object_get(c1, "boundary") == json_object_get(c2, "boundary"));
    CHECK_STR(json_string_value(json_object_get(c1, "boundary")), "subnet-1");

    /* both permissions say tcp/443 between i-1 and i-2: one flow each way,
       plus the Internet to each (subnet-1 is public); sorted, unique */
    {
        int n12 = 0, n21 = 0, inet = 0;
        const char *pf = "", *pt = "", *pl = "";
        json_array_foreach(flows, i, f) {
            const char *from = json_string_value(json_object_get(f, "from"));
            const char *to = json_string_value(json_object_get(f, "to"));
            const char *label = json_string_value(json_object_get(f, "label"));
            int c = strcmp(pf, from);
            if (c == 0)
                c = strcmp(pt, to);
            if (c == 0)
                c = strcmp(pl, label);
            CHECK(c < 0);
            pf = from;
            pt = to;
            pl = label;
            CHECK_STR(label, "tcp/443");
            if (strcmp(from, "arn:i-1") == 0 && strcmp(to, "arn:i-2") == 0) {
                n12++;
                CHECK(json_object_get(f, "from") == json_object_get(c1, "key"));
                CHECK(json_object_get(f, "to") == json_object_get(c2, "key"));
            }
            if (strcmp(from, "arn:i-2") == 0 && strcmp(to, "arn:i-1") == 0)
                n21++;
            if (strcmp(from, MAP_INTERNET_KEY) == 0)
                inet++;
            CHECK_STR(json_string_value(json_object_get(f, "protocol")), "tcp");
            CHECK_INT(json_integer_value(json_object_get(f, "port")), 443);
        }
        CHECK_INT(n12, 1);
        CHECK_INT(n21, 1);
        CHECK(inet >= 2);
    }
out:
    map_result_clear(&res);
    json_decref(items);
}

static void
test_project_sharing(const struct map_rules *rules)
{
    json_t *item = json_loads(
        "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\",\"configuration\":{},"
        "\"relationships\":[{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\"},"
        "{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-2\",\"relationshipName\":\"x\"}]}",
        0, NULL);
    json_t *p, *pp, *rels, *orig;
    char *a, *b;

    CHECK(item != NULL);
    p = map_project(rules, item);
    CHECK(p != NULL);
    if (p == NULL) {
        json_decref(item);
        return;
    }
    rels = json_object_get(p, "relationships");
    orig = json_object_get(item, "relationships");
    CHECK_INT(json_array_size(rels), 2);
    CHECK(json_array_get(rels, 0) == json_array_get(orig, 0));   /* nothing to drop: shared */
    CHECK(json_array_get(rels, 1) != json_array_get(orig, 1));   /* reduced copy */
    CHECK(json_object_get(json_array_get(rels, 1), "relationshipName") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_array_get(rels, 1), "resourceId")), "vpc-2");
    pp = map_project(rules, p);
    a = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    b = json_dumps(pp, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0); /* idempotent */
    free(a);
    free(b);
    json_decref(pp);
    json_decref(p);
    json_decref(item);
}

/* Flows are made once each, looked up by (from, to, label): component keys
 * holding the separator must not make two different flows one. Four
 * instances in a group that admits itself: every ordered pair is a flow,
 * although "arn:a\x1farn:b" -> "arn:c" and "arn:a" -> "arn:b\x1farn:c"
 * join to the same text. */
static const char sep_items_text[] =
    "[{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\"}},"
    "{\"resourceType\":\"AWS::EC2::Subnet\",\"resourceId\":\"subnet-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\"}},"
    "{\"resourceType\":\"AWS::EC2::SecurityGroup\",\"resourceId\":\"sg-1\",\"configuration\":"
    "{\"vpcId\":\"vpc-1\",\"groupId\":\"sg-1\",\"ipPermissions\":["
    "{\"ipProtocol\":\"tcp\",\"fromPort\":443,\"toPort\":443,\"userIdGroupPairs\":"
    "[{\"groupId\":\"sg-1\"}]}]}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\",\"arn\":\"arn:a\","
    "\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\",\"securityGroups\":"
    "[{\"groupId\":\"sg-1\"}]}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-2\",\"arn\":\"arn:a\\u001farn:b\","
    "\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\",\"securityGroups\":"
    "[{\"groupId\":\"sg-1\"}]}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-3\",\"arn\":\"arn:c\","
    "\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\",\"securityGroups\":"
    "[{\"groupId\":\"sg-1\"}]}},"
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-4\",\"arn\":\"arn:b\\u001farn:c\","
    "\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-1\",\"securityGroups\":"
    "[{\"groupId\":\"sg-1\"}]}}]";

static void
test_flow_keys(const struct map_rules *rules)
{
    struct map_result res;
    struct err err = {0};
    json_t *items = json_loads(sep_items_text, 0, NULL), *flows, *f;
    size_t i;
    int between = 0;

    CHECK(items != NULL);
    memset(&res, 0, sizeof(res));
    CHECK_MSG(map_target(rules, "111111111111", "eu-west-1", items, &res, &err) == 0, "%s",
        err.msg);
    flows = json_object_get(json_object_get(res.models, "vpc-1"), "flows");
    json_array_foreach(flows, i, f) {
        const char *from = json_string_value(json_object_get(f, "from"));
        const char *to = json_string_value(json_object_get(f, "to"));
        if (from != NULL && to != NULL && strncmp(from, "arn:", 4) == 0 &&
            strncmp(to, "arn:", 4) == 0)
            between++;
    }
    CHECK_INT(between, 12); /* 4 x 3 ordered pairs */
    CHECK(all_sorted(flows));
    map_result_clear(&res);
    json_decref(items);
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct err err = {0};

    (void)argc;
    (void)argv;
    test_walkers();
    CHECK_MSG(map_rules_load(NULL, &rules, &err) == 0, "%s", err.msg);
    if (rules != NULL) {
        test_models(rules);
        test_flow_keys(rules);
        test_project_sharing(rules);
    }
    map_rules_free(rules);
    TEST_END();
}
