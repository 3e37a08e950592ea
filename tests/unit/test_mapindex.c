/*
 * test_mapindex: the second speed pass over map_target and map_project
 * (issue 8), what its new fast paths must keep exactly as before.
 *
 * - The item index keys ids by kind and type id, not by one assembled
 *   string: an id shared by items of two types resolves by type; names are
 *   indexed only when a relationship first names a resource by its
 *   resourceName, and then the newer of two same-named items wins, as
 *   before; a name nothing has leaves the item unplaced (skipped).
 * - Rule paths rooted at members map.c already holds (configuration, tags,
 *   resourceId, resourceType, relationships) give what the walker from the
 *   item gives, also through configuration sent as a JSON string; the
 *   compiler marks them (root, collects).
 * - Flows are de-duplicated by numbers (model, from, to, label): one flow
 *   per (from, to, label), and flows with one label share its string.
 * - map_project lists an item's or object's pairs instead of looking each
 *   plan key up, except past PROJECT_VIEW_MAX keys or a deep plan: every
 *   case projects to what mapping needs (mapping the projections gives the
 *   originals' bytes), and projecting is idempotent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/err.h"
#include "mapping/map.h"
#include "mapping/rules.h"
#include "tests/unit/testutil.h"

#define CANON (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* The component of key in the model of vpc (NULL when absent). */
static json_t *
component(const struct map_result *res, const char *vpc, const char *key)
{
    json_t *m = vpc != NULL ? json_object_get(res->models, vpc) : res->account, *c;
    size_t i;

    json_array_foreach(json_object_get(m, "components"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "key")), key) == 0)
            return c;
    }
    return NULL;
}

static int
skipped_reason(const struct map_result *res, const char *id, const char *reason)
{
    json_t *s;
    size_t i;

    json_array_foreach(res->skipped, i, s) {
        if (strcmp(json_string_value(json_object_get(s, "resource_id")), id) == 0 &&
            strstr(json_string_value(json_object_get(s, "reason")), reason) != NULL)
            return 1;
    }
    return 0;
}

/* map_target of text; 0 or -1 (reported). */
static int
map_text(const struct map_rules *rules, const char *text, struct map_result *res)
{
    struct err err = {0};
    json_t *items = json_loads(text, 0, NULL);
    int rc;

    CHECK_MSG(items != NULL, "test items do not parse: %.60s", text);
    if (items == NULL)
        return -1;
    memset(res, 0, sizeof(*res));
    rc = map_target(rules, "111111111111", "eu-west-1", items, res, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    json_decref(items);
    return rc;
}

static void
test_names(const struct map_rules *rules)
{
    /* i-1 names its VPC only by resourceName "prod": vpc-2 is the newer of
       the two VPCs called so; i-2 names one nothing is called */
    static const char text[] =
        "[{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\",\"resourceName\":\"prod\","
        "\"configurationItemCaptureTime\":\"2026-01-01T00:00:00Z\",\"configuration\":{}},"
        "{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-2\",\"resourceName\":\"prod\","
        "\"configurationItemCaptureTime\":\"2026-02-01T00:00:00Z\",\"configuration\":{}},"
        "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\",\"arn\":\"arn:i-1\","
        "\"configuration\":{},\"relationships\":[{\"resourceType\":\"AWS::EC2::VPC\","
        "\"resourceName\":\"prod\"}]},"
        "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-2\",\"arn\":\"arn:i-2\","
        "\"configuration\":{},\"relationships\":[{\"resourceType\":\"AWS::EC2::VPC\","
        "\"resourceName\":\"nobody\"}, 7, {\"resourceType\":5,\"resourceId\":\"vpc-1\"}]}]";
    struct map_result res;

    if (map_text(rules, text, &res) < 0)
        return;
    CHECK(component(&res, "vpc-2", "arn:i-1") != NULL);
    CHECK(component(&res, "vpc-1", "arn:i-1") == NULL);
    CHECK(skipped_reason(&res, "i-2", "VPC not found"));
    CHECK_INT(res.mapped, 3);
    map_result_clear(&res);
}

static void
test_typed_ids(const struct map_rules *rules)
{
    /* "x-1" is both a subnet and a security group: the typed reference
       (AWS::EC2::Subnet@configuration.subnetId) finds the subnet, the
       security-group reference the group */
    static const char text[] =
        "[{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\",\"configuration\":{}},"
        "{\"resourceType\":\"AWS::EC2::SecurityGroup\",\"resourceId\":\"x-1\","
        "\"configuration\":{\"vpcId\":\"vpc-1\",\"ipPermissions\":[{\"ipProtocol\":\"tcp\","
        "\"fromPort\":22,\"toPort\":22,\"userIdGroupPairs\":[{\"groupId\":\"x-1\"}]}]}},"
        "{\"resourceType\":\"AWS::EC2::Subnet\",\"resourceId\":\"x-1\",\"configuration\":"
        "{\"vpcId\":\"vpc-1\"}},"
        "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\",\"arn\":\"arn:i-1\","
        "\"configuration\":{\"subnetId\":\"x-1\",\"securityGroups\":[{\"groupId\":\"x-1\"}]}},"
        "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-2\",\"arn\":\"arn:i-2\","
        "\"configuration\":{\"subnetId\":\"x-1\",\"securityGroups\":[{\"groupId\":\"x-1\"}]}}]";
    struct map_result res;
    json_t *c1, *c2, *flows, *f;
    size_t i, n = 0;
    json_t *label = NULL;
    int shared = 1;

    if (map_text(rules, text, &res) < 0)
        return;
    c1 = component(&res, "vpc-1", "arn:i-1");
    c2 = component(&res, "vpc-1", "arn:i-2");
    CHECK(c1 != NULL && c2 != NULL);
    CHECK_STR(json_string_value(json_object_get(c1, "boundary")), "x-1");
    /* the group admits itself on tcp/22: i-1 <-> i-2, once each way */
    flows = json_object_get(json_object_get(res.models, "vpc-1"), "flows");
    json_array_foreach(flows, i, f) {
        if (strcmp(json_string_value(json_object_get(f, "label")), "tcp/22") != 0)
            continue;
        n++;
        if (label != NULL && json_object_get(f, "label") != label)
            shared = 0;
        label = json_object_get(f, "label");
    }
    CHECK_INT(n, 2);
    CHECK(shared); /* one JSON string per label */
    map_result_clear(&res);
}

static void
test_roots(void)
{
    static const char rules_text[] =
        "version: 1\n"
        "rules:\n"
        "  - resource_type: AWS::Test::Thing\n"
        "    component: Thing\n"
        "    role: process\n"
        "    placement: account\n"
        "    name: [tags.Name, resourceId]\n"
        "    attributes:\n"
        "      a_type: resourceType\n"
        "      b_rels: \"relationships[].resourceId\"\n"
        "      c_nested: configuration.a.b\n"
        "      d_list: \"configuration.l[]\"\n";
    static const char *const items[] = {
        "{\"resourceType\":\"AWS::Test::Thing\",\"resourceId\":\"t-1\",\"tags\":{\"Name\":\"n\"},"
        "\"relationships\":[{\"resourceType\":\"X\",\"resourceId\":\"r-1\"}],"
        "\"configuration\":\"{\\\"a\\\": {\\\"b\\\": 1}, \\\"l\\\": [2, 3]}\"}",
        "{\"resourceType\":\"AWS::Test::Thing\",\"resourceId\":\"t-2\","
        "\"configuration\":{\"a\":\"{\\\"b\\\": [4]}\",\"l\":\"[5]\"}}",
        "{\"resourceType\":\"AWS::Test::Thing\",\"resourceId\":\"t-3\",\"configuration\":null,"
        "\"tags\":[{\"key\":\"Name\",\"value\":\"listed\"}]}",
    };
    struct map_rules *rules = NULL;
    struct err err = {0};
    const struct map_rule *r;

    CHECK_MSG(map_rules_parse("mem", rules_text, sizeof(rules_text) - 1, &rules, &err) == 0, "%s",
        err.msg);
    if (rules == NULL)
        return;
    r = &rules->v[0];
    CHECK_INT(r->name.v[0].root, MAP_ROOT_TAGS);
    CHECK_INT(r->name.v[1].root, MAP_ROOT_RESOURCE_ID);
    CHECK_INT(r->attrs[0].paths.v[0].root, MAP_ROOT_RESOURCE_TYPE);
    CHECK_INT(r->attrs[1].paths.v[0].root, MAP_ROOT_OTHER); /* `relationships[]` collects */
    CHECK_INT(r->attrs[1].paths.v[0].collects, 1);
    CHECK_INT(r->attrs[2].paths.v[0].root, MAP_ROOT_CONFIGURATION);
    CHECK_INT(r->attrs[2].paths.v[0].collects, 0);
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        json_t *item = json_loads(items[i], 0, NULL), *list = json_array(), *attrs, *name;
        struct map_result res;
        char key[64];

        CHECK(item != NULL && list != NULL);
        if (item == NULL || list == NULL) {
            json_decref(item);
            json_decref(list);
            continue;
        }
        json_array_append(list, item);
        memset(&res, 0, sizeof(res));
        CHECK_MSG(map_target(rules, "111111111111", "eu-west-1", list, &res, &err) == 0, "%s",
            err.msg);
        snprintf(key, sizeof(key), "AWS::Test::Thing/t-%zu", i + 1);
        attrs = json_object_get(component(&res, NULL, key), "attributes");
        name = json_object_get(component(&res, NULL, key), "name");
        CHECK_MSG(attrs != NULL, "item %zu not mapped", i + 1);
        /* each attribute as the generic walker reads it from the item */
        for (size_t a = 0; attrs != NULL && a < r->nattrs; a++) {
            const struct map_path *p = &r->attrs[a].paths.v[0];
            json_t *want = json_array(), *got = json_object_get(attrs, r->attrs[a].name);
            int n = map_path_eval(p, item, want);
            if (n == 0) {
                CHECK_MSG(json_is_null(got), "item %zu %s: %s", i + 1, p->text, "want null");
            } else if (p->collects) {
                CHECK_MSG(json_equal(got, want), "item %zu %s differs", i + 1, p->text);
            } else {
                CHECK_MSG(json_equal(got, json_array_get(want, 0)), "item %zu %s differs", i + 1,
                    p->text);
            }
            json_decref(want);
        }
        {
            int failed;
            json_t *want = map_path_first(&r->name.v[0], item, &failed);
            if (want == NULL)
                want = json_string("");
            CHECK_STR(json_string_value(name), json_string_length(want) > 0 && i != 2
                                                  ? json_string_value(want)
                                                  : json_string_value(json_object_get(item,
                                                        "resourceId")));
            json_decref(want);
        }
        map_result_clear(&res);
        json_decref(list);
        json_decref(item);
    }
    map_rules_free(rules);
}

/* Mapping items and mapping their projections give the same bytes, and
 * projecting twice changes nothing. */
static void
check_projection(const struct map_rules *rules, json_t *items, const char *what)
{
    json_t *proj = json_array(), *it;
    struct map_result a, b;
    struct err err = {0};
    size_t i;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    json_array_foreach(items, i, it) {
        json_t *p = map_project(rules, it), *pp = map_project(rules, p);
        char *s1 = json_dumps(p, CANON), *s2 = json_dumps(pp, CANON);
        CHECK_MSG(s1 != NULL && s2 != NULL && strcmp(s1, s2) == 0, "%s: item %zu not idempotent",
            what, i);
        free(s1);
        free(s2);
        json_decref(pp);
        json_array_append_new(proj, p);
    }
    if (map_target(rules, "111111111111", "eu-west-1", items, &a, &err) == 0 &&
        map_target(rules, "111111111111", "eu-west-1", proj, &b, &err) == 0) {
        char *ma = json_dumps(a.models, CANON), *mb = json_dumps(b.models, CANON);
        char *aa = json_dumps(a.account, CANON), *ab = json_dumps(b.account, CANON);
        char *sa = json_dumps(a.skipped, CANON), *sb = json_dumps(b.skipped, CANON);
        CHECK_MSG(strcmp(ma, mb) == 0, "%s: models differ", what);
        CHECK_MSG(strcmp(aa, ab) == 0, "%s: account differs", what);
        CHECK_MSG(strcmp(sa, sb) == 0, "%s: skipped differ", what);
        CHECK_INT(a.mapped, b.mapped);
        free(ma);
        free(mb);
        free(aa);
        free(ab);
        free(sa);
        free(sb);
    } else {
        CHECK_MSG(0, "%s: %s", what, err.msg);
    }
    map_result_clear(&a);
    map_result_clear(&b);
    json_decref(proj);
}

static void
test_project_views(const struct map_rules *rules)
{
    static const char base[] =
        "[{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\",\"configuration\":{}},"
        "{\"resourceType\":\"AWS::EC2::Subnet\",\"resourceId\":\"subnet-1\",\"configuration\":"
        "{\"vpcId\":\"vpc-1\"}},"
        "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\",\"arn\":\"arn:i-1\","
        "\"tags\":{\"Name\":\"web\"},\"configuration\":{\"vpcId\":\"vpc-1\",\"subnetId\":"
        "\"subnet-1\",\"instanceType\":\"t3.micro\",\"state\":{\"name\":\"running\"}},"
        "\"relationships\":[{\"resourceType\":\"AWS::EC2::Subnet\",\"resourceId\":\"subnet-1\","
        "\"relationshipName\":\"Is contained in\"}]}]";
    json_t *items = json_loads(base, 0, NULL), *inst, *cfg, *wide, *p;
    char key[32];

    CHECK(items != NULL);
    if (items == NULL)
        return;
    check_projection(rules, items, "plain");
    /* more keys than the lists hold: the item (PROJECT_VIEW_MAX 64) and
       its configuration (48) are looked up instead */
    inst = json_array_get(items, 2);
    cfg = json_object_get(inst, "configuration");
    for (int i = 0; i < 70; i++) {
        snprintf(key, sizeof(key), "extra%d", i);
        json_object_set_new(inst, key, json_integer(i));
        json_object_set_new(cfg, key, json_pack("{s:i}", "k", i));
    }
    check_projection(rules, items, "wide");
    p = map_project(rules, inst);
    CHECK(p != NULL && json_object_get(p, "extra1") == NULL);
    CHECK(json_object_get(json_object_get(p, "configuration"), "extra1") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p, "configuration"),
                  "instanceType")),
        "t3.micro");
    CHECK(json_object_get(p, "tags") == json_object_get(inst, "tags")); /* shared */
    json_decref(p);
    /* exactly at the limits */
    wide = json_object();
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        json_object_set_new(wide, key, json_true());
    }
    json_object_set_new(wide, "resourceType", json_string("AWS::EC2::Instance"));
    json_object_del(wide, "k0");
    CHECK_INT(json_object_size(wide), 64);
    p = map_project(rules, wide); /* no id: reduced to the skip's skeleton */
    CHECK(p != NULL && json_object_size(p) == 1);
    json_decref(p);
    json_decref(wide);
    json_decref(items);
}

static void
test_deep_plan(void)
{
    /* a path deeper than project_obj lists pairs for (PROJECT_OBJ_VIEW_DEPTH) */
    static const char rules_text[] =
        "version: 1\n"
        "rules:\n"
        "  - resource_type: AWS::Test::Deep\n"
        "    component: Deep\n"
        "    role: process\n"
        "    placement: account\n"
        "    attributes:\n"
        "      deep: configuration.a.b.c.d.e.f.g.h.i\n";
    static const char text[] =
        "[{\"resourceType\":\"AWS::Test::Deep\",\"resourceId\":\"d-1\",\"configuration\":{\"a\":"
        "{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":\"bottom\",\"x\":1},\"y\":2}}}}}},"
        "\"z\":3},\"other\":4}}]";
    struct map_rules *rules = NULL;
    struct err err = {0};
    json_t *items = json_loads(text, 0, NULL), *p;
    char *s;

    CHECK_MSG(map_rules_parse("mem", rules_text, sizeof(rules_text) - 1, &rules, &err) == 0, "%s",
        err.msg);
    CHECK(items != NULL);
    if (rules == NULL || items == NULL) {
        map_rules_free(rules);
        json_decref(items);
        return;
    }
    check_projection(rules, items, "deep");
    p = map_project(rules, json_array_get(items, 0));
    s = json_dumps(json_object_get(p, "configuration"), CANON);
    CHECK_CONTAINS(s, "\"i\":\"bottom\"");
    CHECK(strstr(s, "\"x\"") == NULL && strstr(s, "\"other\"") == NULL);
    free(s);
    json_decref(p);
    json_decref(items);
    map_rules_free(rules);
}

static void
test_errors(const struct map_rules *rules)
{
    struct map_result res;
    struct err err = {0};
    json_t *notarray = json_object();

    memset(&res, 0, sizeof(res));
    CHECK_INT(map_target(rules, "111111111111", "eu-west-1", notarray, &res, &err), -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_CONTAINS(err.msg, "not a JSON array");
    json_decref(notarray);
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct err err = {0};

    (void)argc;
    (void)argv;
    CHECK_MSG(map_rules_load(NULL, &rules, &err) == 0, "%s", err.msg);
    if (rules != NULL) {
        test_names(rules);
        test_typed_ids(rules);
        test_project_views(rules);
        test_errors(rules);
    }
    test_roots();
    test_deep_plan();
    map_rules_free(rules);
    TEST_END();
}
