/*
 * test_project: map_project keeps everything map_target reads.
 *
 * The main check is differential: map_target over the original items and
 * over their projections (each one dumped to compact JSON text and parsed
 * back, as the target worker keeps them) must give byte-identical models,
 * account model, unmapped counts and skipped list. It runs on the mapping
 * fixture, on every target of the bundled sample organisation (all
 * versions, deletions included, also in reverse order), and on hand-made
 * tricky items (tests/data/project/tricky.json: API-form configurations,
 * JSON nested in strings, missing fields, deletions, duplicates at one
 * capture time, malformed items, types without a rule) under the built-in
 * rules and a user rule (rules.yaml here) that walks relationships and
 * nested JSON. Also: projection is idempotent, actually smaller, and the
 * failure paths (NULL and non-object items, unknown types, no rules).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/err.h"
#include "mapping/map.h"
#include "mapping/rules.h"
#include "tests/unit/testutil.h"
#include "tests/unit/sampleorg.h"

static const char *data_dir;
static size_t total_before, total_after;

static char *
dump_sorted(json_t *v)
{
    return v == NULL ? NULL : json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static size_t
dump_len(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = s != NULL ? strlen(s) : 0;

    free(s);
    return n;
}

/* Projects every item and sends it through compact JSON text, as target.c
 * keeps it. Checks idempotency on the way. */
static json_t *
project_all(const struct map_rules *rules, json_t *items, const char *what, size_t *ret_before,
    size_t *ret_after)
{
    json_t *out = json_array(), *item;
    size_t i, before = 0, after = 0;
    int idem_ok = 1;

    json_array_foreach(items, i, item) {
        json_t *p = map_project(rules, item), *pp, *back;
        char *text, *d1, *d2;

        CHECK_MSG(p != NULL, "%s: item %zu: map_project returned NULL", what, i);
        if (p == NULL)
            continue;
        before += dump_len(item);
        after += dump_len(p);
        pp = map_project(rules, p);
        d1 = dump_sorted(p);
        d2 = dump_sorted(pp);
        if (d1 == NULL || d2 == NULL || strcmp(d1, d2) != 0) {
            idem_ok = 0;
            fprintf(stderr, "%s: item %zu: not idempotent:\n  %s\n  %s\n", what, i, d1, d2);
        }
        free(d1);
        free(d2);
        json_decref(pp);
        text = json_dumps(p, JSON_COMPACT | JSON_ENCODE_ANY);
        back = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        CHECK_MSG(back != NULL, "%s: item %zu: projection does not round-trip", what, i);
        if (back != NULL)
            json_array_append_new(out, back);
        free(text);
        json_decref(p);
    }
    CHECK_MSG(idem_ok, "%s: projection is idempotent", what);
    *ret_before = before;
    *ret_after = after;
    return out;
}

/* Maps items and their projections; every part of the results must match. */
static void
differential(const struct map_rules *rules, const char *account, const char *region,
    json_t *items, const char *what)
{
    struct map_result a, b;
    struct err err = {0};
    json_t *proj;
    size_t before = 0, after = 0;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    proj = project_all(rules, items, what, &before, &after);
    CHECK_MSG(map_target(rules, account, region, items, &a, &err) == 0, "%s: %s", what, err.msg);
    CHECK_MSG(map_target(rules, account, region, proj, &b, &err) == 0, "%s: %s", what, err.msg);
    {
        json_t *pa[4] = {a.models, a.account, a.unmapped, a.skipped};
        json_t *pb[4] = {b.models, b.account, b.unmapped, b.skipped};
        static const char *const names[4] = {"models", "account", "unmapped", "skipped"};
        for (int k = 0; k < 4; k++) {
            char *da = dump_sorted(pa[k]), *db = dump_sorted(pb[k]);
            CHECK_MSG(da != NULL && db != NULL && strcmp(da, db) == 0,
                "%s: %s differ after projection:\n  original:  %.3000s\n  projected: %.3000s", what,
                names[k], da ? da : "(null)", db ? db : "(null)");
            free(da);
            free(db);
        }
    }
    CHECK_INT(a.items, b.items);
    CHECK_INT(a.mapped, b.mapped);
    CHECK_INT(a.skipped_count, b.skipped_count);
    printf("%s: %zu items (%zu mapped, %zu skipped): %zu -> %zu bytes of compact JSON (%.1f%%)\n",
        what, a.items, a.mapped, a.skipped_count, before, after,
        before > 0 ? 100.0 * (double)after / (double)before : 0.0);
    total_before += before;
    total_after += after;
    map_result_clear(&a);
    map_result_clear(&b);
    json_decref(proj);
}

static json_t *
load_json(const char *dir, const char *name)
{
    char path[2048];
    json_error_t jerr;
    json_t *v;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    v = json_load_file(path, JSON_DECODE_ANY, &jerr);
    CHECK_MSG(v != NULL, "%s: %s", path, jerr.text);
    return v;
}

static json_t *
reversed(json_t *items)
{
    json_t *out = json_array();

    for (size_t i = json_array_size(items); i > 0; i--)
        json_array_append(out, json_array_get(items, i - 1));
    return out;
}

static void
test_fixture(const struct map_rules *rules)
{
    char dir[1100];
    json_t *items;

    snprintf(dir, sizeof(dir), "%s/../mapping", data_dir);
    items = load_json(dir, "items.json");
    if (items == NULL)
        return;
    differential(rules, "111111111111", "us-east-1", items, "mapping/items.json");
    json_decref(items);
}

static void
sample_target(void *ctx, const char *account, const char *region, json_t *items,
    const char *file, size_t lines)
{
    const struct map_rules *rules = ctx;
    char what[200];
    json_t *rev;

    (void)file;
    (void)lines;
    snprintf(what, sizeof(what), "sample-org %.20s/%.30s", account, region);
    differential(rules, account, region, items, what);
    rev = reversed(items);
    snprintf(what, sizeof(what), "sample-org %.20s/%.30s reversed", account, region);
    differential(rules, account, region, rev, what);
    json_decref(rev);
}

static void
test_sample_org(const struct map_rules *rules)
{
    int targets = sampleorg_foreach(data_dir, sample_target, (void *)(uintptr_t)rules);

    CHECK_MSG(targets >= 0, "%s/../../../examples/sample-org: cannot open", data_dir);
    CHECK_MSG(targets >= 8, "sample-org: %d targets, want 8", targets);
}

static void
test_tricky(const struct map_rules *rules, const struct map_rules *user_rules)
{
    json_t *items = load_json(data_dir, "tricky.json"), *rev;
    struct map_result res;
    struct err err = {0};

    if (items == NULL)
        return;
    differential(rules, "111111111111", "us-east-1", items, "tricky (built-in rules)");
    differential(user_rules, "111111111111", "us-east-1", items, "tricky (user rules)");
    rev = reversed(items);
    differential(rules, "111111111111", "us-east-1", rev, "tricky reversed (built-in rules)");
    differential(user_rules, "111111111111", "us-east-1", rev, "tricky reversed (user rules)");
    json_decref(rev);

    /* the fixture really exercises what it claims: skips of every kind,
       unmapped types, widgets mapped with nested JSON values */
    memset(&res, 0, sizeof(res));
    CHECK(map_target(user_rules, "111111111111", "us-east-1", items, &res, &err) == 0);
    if (res.skipped != NULL) {
        char *s = dump_sorted(res.skipped);
        static const char *const reasons[] = {"item is not a JSON object", "item has no resourceType",
            "item has no resourceId", "resourceType longer than 128", "resourceId longer than 2048",
            "resource is deleted", "configuration is not a JSON object", "duplicate configuration item"};
        for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
            CHECK_CONTAINS(s, reasons[i]);
        free(s);
        s = dump_sorted(res.unmapped);
        CHECK_STR(s, "{\"AWS::Foo::Bar\":2}");
        free(s);
        s = dump_sorted(res.models);
        CHECK_CONTAINS(s, "\"effects\":[\"Allow\",\"Deny\"]");
        CHECK_CONTAINS(s, "\"list_of_json\":[1,2]");
        CHECK_CONTAINS(s, "\"deep\":[1,2,3]");
        CHECK_CONTAINS(s, "\"related_names\":[\"b1\",\"v\"]");
        CHECK_CONTAINS(s, "\"type\":\"Big Widget\"");
        CHECK_CONTAINS(s, "\"name\":\"Widget w-1\"");
        CHECK_CONTAINS(s, "\"label\":\"udp/9\"");
        CHECK_CONTAINS(s, "\"label\":\"tcp/8443\"");
        CHECK_CONTAINS(s, "\"type\":\"public-subnet\"");
        /* widgets placed through a type without a rule (its vpcId, its VPC relationship) */
        CHECK_CONTAINS(s, "\"resource_id\":\"w-3\"");
        CHECK_CONTAINS(s, "\"resource_id\":\"w-4\"");
        free(s);
    }
    map_result_clear(&res);
    json_decref(items);
}

/* What a projection keeps and drops, looked at directly. */
static void
test_shape(const struct map_rules *rules)
{
    json_t *item, *p;
    char *s;

    /* unknown type: map.c's own fields only (vpcId, VPC relationships) */
    item = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:[{s:s, s:s, s:s}, {s:s, s:s}], s:s}",
        "resourceType", "AWS::Foo::Bar", "resourceId", "foo-1", "arn", "arn:foo", "configuration",
        "vpcId", "vpc-1", "secret", "big", "tags", "Name", "foo", "relationships", "resourceType",
        "AWS::EC2::VPC", "resourceId", "vpc-1", "relationshipName", "Is in", "resourceType",
        "AWS::S3::Bucket", "resourceId", "b", "junk", "xyz");
    p = map_project(rules, item);
    s = dump_sorted(p);
    CHECK_STR(s, "{\"arn\":\"arn:foo\",\"configuration\":{\"vpcId\":\"vpc-1\"},\"relationships\":"
                 "[{\"resourceId\":\"vpc-1\",\"resourceType\":\"AWS::EC2::VPC\"}],"
                 "\"resourceId\":\"foo-1\",\"resourceType\":\"AWS::Foo::Bar\"}");
    free(s);
    json_decref(p);
    json_decref(item);

    /* a deleted item keeps only what gives its skip reason */
    item = json_pack("{s:s, s:s, s:s, s:{s:s}}", "resourceType", "AWS::EC2::Instance", "resourceId",
        "i-1", "configurationItemStatus", "ResourceDeleted", "configuration", "vpcId", "vpc-1");
    p = map_project(rules, item);
    s = dump_sorted(p);
    CHECK_STR(s, "{\"configurationItemStatus\":\"ResourceDeleted\",\"resourceId\":\"i-1\","
                 "\"resourceType\":\"AWS::EC2::Instance\"}");
    free(s);
    json_decref(p);
    json_decref(item);

    /* the API form: a configuration string is parsed and reduced */
    item = json_pack("{s:s, s:s, s:s}", "resourceType", "AWS::EC2::Subnet", "resourceId", "subnet-1",
        "configuration", "{\"vpcId\":\"vpc-1\",\"cidrBlock\":\"10.0.0.0/24\",\"noise\":[1,2]}");
    p = map_project(rules, item);
    s = dump_sorted(json_object_get(p, "configuration"));
    CHECK_STR(s, "{\"cidrBlock\":\"10.0.0.0/24\",\"vpcId\":\"vpc-1\"}");
    free(s);
    json_decref(p);
    json_decref(item);

    /* a configuration load_config rejects: the item stays malformed */
    item = json_pack("{s:s, s:s, s:s, s:s}", "resourceType", "AWS::EC2::Subnet", "resourceId",
        "subnet-1", "configuration", "[1, 2]", "junk", "x");
    p = map_project(rules, item);
    CHECK(p != NULL && !json_is_object(json_object_get(p, "configuration")) &&
          json_object_get(p, "junk") == NULL);
    json_decref(p);
    json_decref(item);
}

static void
test_failures(const struct map_rules *rules)
{
    json_t *v = json_integer(5), *p, *item;

    /* no item: nothing to project */
    CHECK(map_project(rules, NULL) == NULL);
    /* non-objects come back as they are, for map_target to skip */
    p = map_project(rules, v);
    CHECK(p == v);
    json_decref(p);
    json_decref(v);
    v = json_array();
    p = map_project(rules, v);
    CHECK(p == v);
    json_decref(p);
    json_decref(v);
    /* no rules (no plan): the item is kept whole */
    item = json_pack("{s:s, s:s, s:s}", "resourceType", "AWS::EC2::VPC", "resourceId", "vpc-1",
        "junk", "x");
    p = map_project(NULL, item);
    CHECK(p == item);
    json_decref(p);
    /* an id that is not a string: skipped the same way, junk dropped */
    json_object_set_new(item, "resourceId", json_integer(7));
    p = map_project(rules, item);
    CHECK(p != NULL && json_object_get(p, "junk") == NULL &&
          json_is_integer(json_object_get(p, "resourceId")));
    json_decref(p);
    json_decref(item);
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL, *user_rules = NULL;
    struct err err = {0};
    char path[1100];

    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [SHARED_DIR]\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    snprintf(path, sizeof(path), "%s/rules.yaml", data_dir);
    CHECK_MSG(map_rules_load(NULL, &rules, &err) == 0, "%s", err.msg);
    CHECK_MSG(map_rules_load(path, &user_rules, &err) == 0, "%s", err.msg);
    if (rules == NULL || user_rules == NULL)
        TEST_END();
    test_fixture(rules);
    test_sample_org(rules);
    test_tricky(rules, user_rules);
    test_shape(rules);
    test_failures(rules);
    printf("all: %zu -> %zu bytes of compact JSON (%.1f%%)\n", total_before, total_after,
        total_before > 0 ? 100.0 * (double)total_after / (double)total_before : 0.0);
    CHECK(total_after < total_before / 2);
    map_rules_free(rules);
    map_rules_free(user_rules);
    TEST_END();
}
