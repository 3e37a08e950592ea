/*
 * test_mapping.c: mapping rules (built-in and user files, strict errors) and
 * map_target (components, boundaries, flows, VPC resolution routes, unmapped
 * and skipped accounting, determinism), on hand-made fixtures in
 * tests/data/mapping, on the recorded AWS Config items of the shared test
 * data, and on the sample organisation when it exists.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mapping/map.h"
#include "mapping/model.h"
#include "mapping/rules.h"
#include "testutil.h"
#include "sampleorg.h"

static const char *data_dir;
static const char *shared_dir;

static char *
path_join(const char *a, const char *b)
{
    static char buf[4][1024];
    static int slot;
    char *out = buf[slot++ % 4];

    /* a test path never comes near the size; a longer one is cut, which
     * makes the test fail on a missing file rather than overflow */
    if (snprintf(out, 1024, "%s/%s", a, b) >= 1024)
        out[1023] = '\0';
    return out;
}

static json_t *
find_key(json_t *arr, const char *key)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        const char *k = json_string_value(json_object_get(v, "key"));
        if (k != NULL && strcmp(k, key) == 0)
            return v;
    }
    return NULL;
}

static const char *
sget(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int
has_flow(json_t *model, const char *from, const char *to, const char *label)
{
    size_t i;
    json_t *f;

    json_array_foreach(json_object_get(model, "flows"), i, f) {
        if (strcmp(sget(f, "from"), from) == 0 && strcmp(sget(f, "to"), to) == 0 &&
            (label == NULL || strcmp(sget(f, "label"), label) == 0))
            return 1;
    }
    return 0;
}

static int
has_skip(json_t *skipped, const char *id, const char *reason_part)
{
    size_t i;
    json_t *s;

    json_array_foreach(skipped, i, s) {
        if (strcmp(sget(s, "resource_id"), id) == 0 && strstr(sget(s, "reason"), reason_part))
            return 1;
    }
    return 0;
}

static size_t
unmapped_total(json_t *unmapped)
{
    const char *k;
    json_t *v;
    size_t n = 0;

    json_object_foreach(unmapped, k, v)
        n += (size_t)json_integer_value(v);
    return n;
}

static json_t *
load_items(void)
{
    json_error_t jerr;
    json_t *items = json_load_file(path_join(data_dir, "items.json"), 0, &jerr);

    if (items == NULL)
        fprintf(stderr, "items.json: %s\n", jerr.text);
    return items;
}

/* ---------------------------------------------------------------- rules */

static void
count_type(void *ctx, const char *type)
{
    char **prev = ctx;

    CHECK(*prev == NULL || strcmp(*prev, type) < 0);
    free(*prev);
    *prev = strdup(type);
}

static void
test_builtin_rules(void)
{
    struct map_rules *rules = NULL;
    struct err err = {0};
    char *prev = NULL;
    size_t components = 0;

    CHECK_MSG(map_rules_load(NULL, &rules, &err) == 0, "%s", err.msg);
    if (rules == NULL)
        return;
    CHECK(map_rules_count(rules) >= 40);
    CHECK(map_rules_has_type(rules, "AWS::RDS::DBInstance"));
    CHECK(map_rules_has_type(rules, "AWS::EC2::NatGateway"));
    CHECK(!map_rules_has_type(rules, "AWS::Foo::Bar"));
    CHECK(!map_rules_has_type(rules, NULL));
    map_rules_foreach_type(rules, count_type, &prev);
    free(prev);
    /* every component rule documents its threats and requirements */
    for (size_t i = 0; i < rules->n; i++) {
        const struct map_rule *r = &rules->v[i];
        if (r->emit != MAP_EMIT_COMPONENT)
            continue;
        components++;
        CHECK_MSG(json_array_size(r->threats) > 0, "%s has no threats", r->resource_type);
        CHECK_MSG(json_array_size(r->requirements) > 0, "%s has no requirements",
            r->resource_type);
    }
    CHECK(components >= 40);
    {
        const struct map_rule *rds = map_rules_find(rules, "AWS::RDS::DBInstance");
        json_t *req = rds ? json_array_get(rds->requirements, 0) : NULL;
        CHECK(rds != NULL && strcmp(rds->component, "AWS RDS") == 0);
        CHECK(rds != NULL && strcmp(rds->role, MODEL_ROLE_DATA_STORE) == 0);
        CHECK_STR(sget(req, "id"), "encrypt-at-rest");
        CHECK_STR(json_string_value(json_array_get(json_object_get(req, "controls"), 0)), "RDS.3");
    }
    map_rules_free(rules);
}

struct bad_case {
    const char *file;
    const char *want;
};

static void
test_bad_rules(void)
{
    static const struct bad_case cases[] = {
        {"unknown-key.yaml", "unknown-key.yaml:5:5: unknown key 'componnet' in a rule"},
        {"bad-path.yaml", "bad-path.yaml:8:13: bad path 'configuration..size': empty key"},
        {"duplicate.yaml", "duplicate.yaml:7:5: duplicate rule for 'AWS::Foo::Bar' (first at "},
        {"bad-role.yaml", "bad-role.yaml:5:11: unknown role 'database'"},
        {"bad-stride.yaml", "bad-stride.yaml:8:48: 'X' is not a STRIDE category"},
        {"bad-control.yaml", "bad-control.yaml:8:45: 'RDS 3' is not a Security Hub control id"},
        {"bad-ref.yaml", "bad-ref.yaml:7:11: bad reference 'relationship:EC2VPC'"},
        {"bad-yaml.yaml", "bad-yaml.yaml:4:"},
        {"no-version.yaml", "no-version.yaml:1:1: a rules file needs 'version: 1'"},
        {"missing-vpc.yaml", "missing-vpc.yaml:3:5: rule for 'AWS::Foo::Bar' needs a vpc list"},
        {"bad-type.yaml", "bad-type.yaml:3:20: 'Foo Bar' is not a resource type"},
        {"bad-label.yaml", "'{' without a closing '}'"},
        {"unknown-threat-key.yaml", "unknown key 'severity' in a threat"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct map_rules *rules = NULL;
        struct err err = {0};
        char rel[128];

        snprintf(rel, sizeof(rel), "bad/%s", cases[i].file);
        CHECK_MSG(map_rules_load(path_join(data_dir, rel), &rules, &err) < 0, "%s loaded",
            cases[i].file);
        CHECK(rules == NULL);
        CHECK_INT(err.kind, ERR_CONFIG);
        CHECK_CONTAINS(err.msg, cases[i].want);
        map_rules_free(rules);
    }
    {
        struct map_rules *rules = NULL;
        struct err err = {0};
        CHECK(map_rules_load(path_join(data_dir, "no-such-file.yaml"), &rules, &err) < 0);
        CHECK_CONTAINS(err.msg, "no-such-file.yaml");
        CHECK_INT(err.kind, ERR_CONFIG);
    }
    {
        /* in-memory parse: NUL bytes, size, empty, wrong shapes */
        struct map_rules *rules = NULL;
        struct err err = {0};
        static const char nul[] = "version: 1\0rules: []\n";
        CHECK(map_rules_parse("mem", nul, sizeof(nul) - 1, &rules, &err) < 0);
        CHECK_CONTAINS(err.msg, "mem: contains a NUL byte");
        CHECK(map_rules_parse("mem", "", 0, &rules, &err) < 0);
        CHECK_CONTAINS(err.msg, "mem: the rules file is empty");
        CHECK(map_rules_parse("mem", "version: 1\nrules: {}\n", 21, &rules, &err) < 0);
        CHECK_CONTAINS(err.msg, "mem:2:8: rules must be a list");
        CHECK(map_rules_parse("mem", "version: 2\nrules: []\n", 21, &rules, &err) < 0);
        CHECK_CONTAINS(err.msg, "unsupported rules version");
        CHECK(map_rules_parse("mem", "- a\n", 4, &rules, &err) < 0);
        CHECK_CONTAINS(err.msg, "mem:1:1: a rules file must be a mapping");
        CHECK(rules == NULL);
        CHECK(map_rules_parse("mem", "version: 1\nrules: []\n", 21, &rules, &err) == 0);
        CHECK_INT(map_rules_count(rules), 0);
        map_rules_free(rules);
    }
}

static void
test_paths(void)
{
    struct map_rules *rules = NULL;
    struct err err = {0};
    static const char text[] =
        "version: 1\n"
        "rules:\n"
        "  - resource_type: AWS::Foo::Bar\n"
        "    component: Foo\n"
        "    role: process\n"
        "    placement: account\n"
        "    attributes:\n"
        "      a: \"configuration.list[].id\"\n"
        "      b: supplementaryConfiguration.Nested.inner\n"
        "      c: [configuration.missing, configuration.present]\n"
        "      d: configuration.nothing\n";
    json_t *item, *out;

    CHECK_MSG(map_rules_parse("mem", text, sizeof(text) - 1, &rules, &err) == 0, "%s", err.msg);
    if (rules == NULL)
        return;
    item = json_loads("{\"configuration\": {\"list\": [{\"id\": \"x\"}, {\"id\": null}, {\"id\": \"y\"}, 3],"
                      " \"present\": 7, \"missing\": null},"
                      " \"supplementaryConfiguration\": {\"Nested\": \"{\\\"inner\\\": [1,2]}\"}}",
        0, NULL);
    CHECK(item != NULL);
    out = json_array();
    const struct map_rule *r = &rules->v[0];
    CHECK_INT(r->nattrs, 4);
    /* attributes are sorted by name: a, b, c, d */
    CHECK_INT(map_path_eval(&r->attrs[0].paths.v[0], item, out), 2); /* null and non-object skipped */
    CHECK_STR(json_string_value(json_array_get(out, 1)), "y");
    json_array_clear(out);
    CHECK_INT(map_path_eval(&r->attrs[1].paths.v[0], item, out), 1); /* JSON inside a string */
    CHECK_INT(json_array_size(json_array_get(out, 0)), 2);
    json_t *v = map_paths_first(&r->attrs[2].paths, item);
    CHECK_INT(json_integer_value(v), 7);
    json_decref(v);
    CHECK(map_paths_first(&r->attrs[3].paths, item) == NULL);
    CHECK_INT(map_path_eval(&r->attrs[0].paths.v[0], NULL, out), 0);
    json_decref(out);
    json_decref(item);
    map_rules_free(rules);
}

/* ---------------------------------------------------------------- mapping */

static void
test_map_fixture(const struct map_rules *rules)
{
    struct map_result res;
    struct err err = {0};
    json_t *items = load_items(), *m1, *m2, *comps, *c, *b, *attrs;
    const char *lb =
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web-alb/0123456789abcdef";
    const char *tg =
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web-tg/0123456789abcdef";
    const char *bastion = "arn:aws:ec2:us-east-1:111111111111:instance/i-bastion";
    const char *db = "arn:aws:rds:us-east-1:111111111111:db:orders";
    const char *fnvpc = "arn:aws:lambda:us-east-1:111111111111:function:fn-vpc";

    memset(&res, 0, sizeof(res));
    CHECK(items != NULL);
    CHECK_MSG(map_target(rules, "111111111111", "us-east-1", items, &res, &err) == 0, "%s",
        err.msg);
    if (res.models == NULL) {
        json_decref(items);
        return;
    }
    CHECK_INT(res.items, json_array_size(items));
    CHECK_INT(res.items, res.mapped + unmapped_total(res.unmapped) + res.skipped_count);
    CHECK_INT(json_object_size(res.models), 3); /* vpc-1, vpc-2, vpc-9 (named only) */
    m1 = json_object_get(res.models, "vpc-1");
    m2 = json_object_get(res.models, "vpc-2");
    CHECK(m1 != NULL && m2 != NULL);
    CHECK_STR(sget(m1, "schema"), MODEL_SCHEMA);
    CHECK_STR(sget(m1, "name"), "prod-vpc");
    CHECK_STR(sget(m1, "vpc_id"), "vpc-1");
    CHECK_STR(sget(m1, "account_id"), "111111111111");
    CHECK_STR(sget(m1, "region"), "us-east-1");

    /* boundaries: VPC, public/private subnets from route tables */
    b = find_key(json_object_get(m1, "boundaries"), "vpc-1");
    CHECK_STR(sget(b, "type"), "vpc");
    CHECK(json_is_null(json_object_get(b, "parent")));
    CHECK_STR(sget(json_object_get(b, "attributes"), "cidr_block"), "10.0.0.0/16");
    b = find_key(json_object_get(m1, "boundaries"), "subnet-pub");
    CHECK_STR(sget(b, "type"), "public-subnet"); /* explicit table: 0.0.0.0/0 -> igw */
    CHECK_STR(sget(b, "parent"), "vpc-1");
    CHECK_STR(sget(b, "name"), "public-a");
    CHECK(json_is_true(json_object_get(json_object_get(b, "attributes"), "map_public_ip_on_launch")));
    b = find_key(json_object_get(m1, "boundaries"), "subnet-priv");
    CHECK_STR(sget(b, "type"), "private-subnet"); /* nat route; blackhole igw route ignored */
    CHECK_STR(sget(b, "parent"), "vpc-1");        /* VPC via relationship */
    b = find_key(json_object_get(m1, "boundaries"), "subnet-main");
    CHECK_STR(sget(b, "type"), "private-subnet"); /* main table, no igw */
    b = find_key(json_object_get(m2, "boundaries"), "subnet-2a");
    CHECK_STR(sget(b, "type"), "public-subnet"); /* main table ::/0 -> igw */
    b = find_key(json_object_get(json_object_get(res.models, "vpc-9"), "boundaries"), "vpc-9");
    CHECK_STR(sget(b, "type"), "vpc"); /* synthesised for a VPC Config did not record */

    comps = json_object_get(m1, "components");
    /* EC2: VPC via subnet relationship; key without ARN; newest duplicate wins */
    c = find_key(comps, "AWS::EC2::Instance/i-web");
    CHECK_STR(sget(c, "type"), "AWS EC2");
    CHECK_STR(sget(c, "role"), MODEL_ROLE_PROCESS);
    CHECK_STR(sget(c, "name"), "web-1");
    CHECK_STR(sget(c, "boundary"), "subnet-priv");
    CHECK_STR(sget(c, "resource_type"), "AWS::EC2::Instance");
    CHECK_STR(sget(c, "resource_id"), "i-web");
    attrs = json_object_get(c, "attributes");
    CHECK_STR(sget(attrs, "instance_type"), "t3.small");
    CHECK(json_is_null(json_object_get(attrs, "public_ip")));
    CHECK_STR(sget(attrs, "iam_profile"), "arn:aws:iam::111111111111:instance-profile/web");
    CHECK_STR(sget(attrs, "imds_tokens"), "required");
    CHECK_STR(sget(json_object_get(c, "tags"), "Owner"), "team-a");
    CHECK(json_array_size(json_object_get(c, "requirements")) >= 1);
    CHECK(json_array_size(json_object_get(c, "threats")) >= 1);
    CHECK_STR(sget(json_array_get(json_object_get(c, "requirements"), 0), "id"), "imdsv2");
    c = find_key(comps, bastion);
    CHECK_STR(sget(c, "boundary"), "subnet-pub");
    CHECK_STR(sget(json_object_get(c, "attributes"), "public_ip"), "203.0.113.10");

    /* RDS: VPC via its DB subnet group; boundary through the group's subnets */
    c = find_key(comps, db);
    CHECK_STR(sget(c, "type"), "AWS RDS");
    CHECK_STR(sget(c, "role"), MODEL_ROLE_DATA_STORE);
    CHECK_STR(sget(c, "name"), "orders");
    CHECK_STR(sget(c, "boundary"), "subnet-main");
    attrs = json_object_get(c, "attributes");
    CHECK(json_is_false(json_object_get(attrs, "publicly_accessible")));
    CHECK(json_is_true(json_object_get(attrs, "storage_encrypted")));
    CHECK(json_is_true(json_object_get(attrs, "multi_az")));
    CHECK_STR(sget(attrs, "engine"), "postgres");
    CHECK_INT(json_integer_value(json_object_get(attrs, "port")), 5432);

    /* ALB: type by configuration.type, public subnet preferred, attributes sorted */
    c = find_key(comps, lb);
    CHECK_STR(sget(c, "type"), "AWS ALB");
    CHECK_STR(sget(c, "boundary"), "subnet-pub");
    attrs = json_object_get(c, "attributes");
    CHECK_STR(sget(attrs, "scheme"), "internet-facing");
    CHECK_STR(sget(json_array_get(json_object_get(attrs, "load_balancer_attributes"), 0), "key"),
        "access_logs.s3.enabled");
    CHECK_STR(sget(find_key(comps, "arn:nlb"), "type"), "AWS NLB");
    CHECK_STR(sget(find_key(comps, "arn:nlb"), "boundary"), "subnet-priv");

    /* Lambda in a VPC via its subnet; the other one at account level */
    c = find_key(comps, fnvpc);
    CHECK_STR(sget(c, "type"), "AWS Lambda");
    CHECK_STR(sget(c, "boundary"), "subnet-priv");
    CHECK_STR(sget(json_object_get(c, "attributes"), "runtime"), "python3.12");
    /* a policy held as JSON text is stored parsed */
    CHECK_STR(sget(json_array_get(json_object_get(json_object_get(json_object_get(c, "attributes"),
                                                      "resource_policy"), "Statement"), 0),
                  "Principal"), "*");
    CHECK(find_key(json_object_get(res.account, "components"),
              "arn:aws:lambda:us-east-1:111111111111:function:fn-plain") != NULL);

    /* security groups are components with sorted rules; NAT and IGW present */
    c = find_key(comps, "arn:aws:ec2:us-east-1:111111111111:security-group/sg-db");
    CHECK_STR(sget(c, "type"), "AWS Security Group");
    CHECK_STR(sget(c, "role"), MODEL_ROLE_BOUNDARY);
    CHECK_STR(sget(c, "boundary"), "vpc-1");
    CHECK_INT(json_array_size(json_object_get(json_object_get(c, "attributes"), "ingress")), 2);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(json_object_get(c,
                                                     "attributes"), "ingress"), 0), "fromPort")),
        1024);
    CHECK_STR(sget(find_key(comps, "arn:aws:ec2:us-east-1:111111111111:natgateway/nat-1"), "type"),
        "AWS NAT Gateway");
    CHECK_STR(sget(find_key(comps, "arn:aws:ec2:us-east-1:111111111111:natgateway/nat-1"), "boundary"),
        "subnet-pub");
    c = find_key(comps, MAP_INTERNET_KEY);
    CHECK_STR(sget(c, "role"), MODEL_ROLE_EXTERNAL);
    CHECK(find_key(comps, "arn:aws:ec2:us-east-1:111111111111:volume/vol-1") != NULL);

    /* flows: security groups, listener, target group, NAT, IGW, volume */
    CHECK(has_flow(m1, lb, "AWS::EC2::Instance/i-web", "tcp/8080"));
    CHECK(has_flow(m1, lb, bastion, "tcp/8080"));
    CHECK(has_flow(m1, "AWS::EC2::Instance/i-web", db, "tcp/5432"));
    CHECK(has_flow(m1, "AWS::EC2::Instance/i-web", db, "tcp/1024-2048"));
    CHECK(has_flow(m1, fnvpc, db, "tcp/5432"));
    CHECK(has_flow(m1, MAP_INTERNET_KEY, lb, "tcp/443"));
    CHECK(has_flow(m1, MAP_INTERNET_KEY, bastion, "tcp/22"));
    CHECK(!has_flow(m1, MAP_INTERNET_KEY, "AWS::EC2::Instance/i-web", NULL)); /* private subnet */
    CHECK(!has_flow(m1, MAP_INTERNET_KEY, fnvpc, NULL));
    CHECK(!has_flow(m1, "AWS::EC2::Instance/i-web", "AWS::EC2::Instance/i-web", NULL));
    CHECK(has_flow(m1, lb, tg, "HTTPS/443"));
    CHECK(has_flow(m1, tg, "AWS::EC2::Instance/i-web", "HTTP/8080"));
    CHECK(has_flow(m1, "arn:aws:ec2:us-east-1:111111111111:natgateway/nat-1", MAP_INTERNET_KEY,
        "egress"));
    CHECK(has_flow(m1, "AWS::EC2::Instance/i-web", "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "block storage"));
    {
        size_t i;
        json_t *f, *prev = NULL;
        json_array_foreach(json_object_get(m1, "flows"), i, f) {
            if (strcmp(sget(f, "label"), "tcp/5432") == 0) {
                CHECK_STR(sget(f, "protocol"), "tcp");
                CHECK_INT(json_integer_value(json_object_get(f, "port")), 5432);
            }
            if (prev != NULL)
                CHECK(strcmp(sget(prev, "from"), sget(f, "from")) <= 0);
            prev = f;
        }
        prev = NULL;
        json_array_foreach(comps, i, c) {
            if (prev != NULL)
                CHECK(strcmp(sget(prev, "key"), sget(c, "key")) < 0);
            prev = c;
        }
    }

    /* vpc-2: ASG with a comma-separated subnet list, one unknown */
    c = find_key(json_object_get(m2, "components"), "AWS::AutoScaling::AutoScalingGroup/asg-1");
    CHECK_STR(sget(c, "boundary"), "subnet-2a");

    /* account model: bucket with nested-JSON public access block, trail -> bucket */
    CHECK(json_is_null(json_object_get(res.account, "vpc_id")));
    c = find_key(json_object_get(res.account, "components"), "arn:aws:s3:::logs-bucket");
    CHECK_STR(sget(c, "type"), "AWS S3");
    CHECK_STR(sget(c, "boundary"), "account:111111111111");
    CHECK(json_is_true(json_object_get(json_object_get(json_object_get(c, "attributes"),
        "public_access_block"), "blockPublicAcls")));
    CHECK(has_flow(res.account, "arn:aws:cloudtrail:us-east-1:111111111111:trail/main-trail",
        "arn:aws:s3:::logs-bucket", "audit logs"));
    CHECK_STR(sget(find_key(json_object_get(res.account, "boundaries"), "account:111111111111"),
                  "type"), "account");

    /* accounting: no rule -> unmapped; VPC missing, deleted, duplicate -> skipped */
    CHECK_INT(json_integer_value(json_object_get(res.unmapped, "AWS::Foo::Bar")), 2);
    CHECK_INT(json_object_size(res.unmapped), 1);
    CHECK(has_skip(res.skipped, "i-orphan", "VPC not found"));
    CHECK(has_skip(res.skipped, "i-gone", "deleted"));
    CHECK(has_skip(res.skipped, "i-web", "duplicate"));
    CHECK_INT(res.skipped_count, 3);
    CHECK_INT(json_array_size(res.skipped), 3);

    map_result_clear(&res);
    map_result_clear(&res); /* idempotent */
    json_decref(items);
}

/* The whole result as one canonical string (caller frees). */
static char *
result_dump(const struct map_result *r)
{
    json_t *all = json_pack("{s:O, s:O, s:O, s:O}", "m", r->models, "a", r->account, "u",
        r->unmapped, "s", r->skipped);
    char *s = all != NULL ? json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    json_decref(all);
    return s;
}

static void
test_determinism(const struct map_rules *rules)
{
    json_t *items = load_items();
    struct map_result a, b;
    struct err err = {0};
    char *da = NULL;
    unsigned seed = 12345;

    memset(&a, 0, sizeof(a));
    CHECK(map_target(rules, "111111111111", "us-east-1", items, &a, &err) == 0);
    da = result_dump(&a);
    for (int round = 0; round < 5; round++) {
        size_t n = json_array_size(items);
        json_t *shuffled = json_array();
        char *db;
        size_t *idx = malloc(n * sizeof(*idx));

        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j;
            seed = seed * 1103515245u + 12345u;
            j = (seed >> 8) % (i + 1);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            json_array_append(shuffled, json_array_get(items, idx[i]));
        free(idx);
        memset(&b, 0, sizeof(b));
        CHECK(map_target(rules, "111111111111", "us-east-1", shuffled, &b, &err) == 0);
        db = result_dump(&b);
        CHECK_MSG(da != NULL && db != NULL && strcmp(da, db) == 0, "round %d differs", round);
        free(db);
        map_result_clear(&b);
        json_decref(shuffled);
    }
    free(da);
    map_result_clear(&a);
    json_decref(items);
}

static void
test_override(void)
{
    struct map_rules *rules = NULL;
    struct err err = {0};
    struct map_result res;
    json_t *items = load_items(), *c;

    memset(&res, 0, sizeof(res));
    CHECK_MSG(map_rules_load(path_join(data_dir, "override.yaml"), &rules, &err) == 0, "%s",
        err.msg);
    if (rules == NULL) {
        json_decref(items);
        return;
    }
    CHECK(map_rules_has_type(rules, "AWS::Foo::Bar"));
    CHECK(map_rules_has_type(rules, "AWS::RDS::DBInstance")); /* built-ins kept */
    CHECK(map_target(rules, "111111111111", "us-east-1", items, &res, &err) == 0);
    CHECK_INT(json_object_size(res.unmapped), 0);
    c = find_key(json_object_get(json_object_get(res.models, "vpc-1"), "components"),
        "arn:aws:ec2:us-east-1:111111111111:instance/i-bastion");
    CHECK_STR(sget(c, "type"), "Custom VM");
    CHECK_STR(sget(json_object_get(c, "attributes"), "size"), "t3.micro");
    CHECK(json_object_get(json_object_get(c, "attributes"), "instance_type") == NULL);
    CHECK_INT(json_array_size(json_object_get(c, "threats")), 0);
    CHECK_STR(sget(json_array_get(json_object_get(c, "requirements"), 0), "title"), "Patch monthly");
    /* the user rule only knows configuration.vpcId / subnetId: i-web (subnet relationship only)
       and the orphan are now reported */
    CHECK(has_skip(res.skipped, "i-orphan", "VPC not found"));
    CHECK(find_key(json_object_get(res.account, "components"), "AWS::Foo::Bar/foo-1") != NULL);
    CHECK_STR(sget(find_key(json_object_get(res.account, "components"), "AWS::Foo::Bar/foo-1"),
                  "type"), "Foo Store");
    map_result_clear(&res);
    map_rules_free(rules);
    json_decref(items);
}

static void
test_malformed(const struct map_rules *rules)
{
    struct map_result res;
    struct err err = {0};
    json_t *items = json_array(), *it;
    char *huge = malloc(3001), *bigtag = malloc(1 << 20);

    memset(&res, 0, sizeof(res));
    memset(huge, 'x', 3000);
    huge[3000] = '\0';
    memset(bigtag, 'y', (1 << 20) - 1);
    bigtag[(1 << 20) - 1] = '\0';
    json_array_append_new(items, json_integer(42));
    json_array_append_new(items, json_pack("{s:s}", "resourceId", "no-type"));
    json_array_append_new(items, json_pack("{s:s, s:i}", "resourceType", "AWS::EC2::VPC",
                                     "configuration", 5));
    json_array_append_new(items, json_pack("{s:s, s:s, s:i}", "resourceType", "AWS::EC2::VPC",
                                     "resourceId", "vpc-bad", "configuration", 42));
    json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "resourceType", "AWS::EC2::VPC",
                                     "resourceId", "vpc-str", "configuration", "[not json"));
    json_array_append_new(items, json_pack("{s:s, s:s}", "resourceType", "AWS::EC2::VPC",
                                     "resourceId", huge));
    it = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:i, s:[i]}", "resourceType", "AWS::EC2::VPC",
        "resourceId", "vpc-big", "configuration", "cidrBlock", "10.9.0.0/16", "tags", "Name",
        bigtag, "relationships", 3, "supplementaryConfiguration", 1);
    json_array_append_new(items, it);
    /* wrong shapes inside a valid item: relationships not a list, ids not strings */
    json_array_append_new(items, json_pack("{s:s, s:s, s:{s:i, s:[i], s:{}}, s:[s]}", "resourceType",
                                     "AWS::EC2::Instance", "resourceId", "i-weird", "configuration",
                                     "vpcId", 7, "securityGroups", 1, "subnetId", "relationships",
                                     "bogus"));
    CHECK_MSG(map_target(rules, "111111111111", "us-east-1", items, &res, &err) == 0, "%s",
        err.msg);
    CHECK_INT(res.items, 8);
    CHECK_INT(res.items, res.mapped + unmapped_total(res.unmapped) + res.skipped_count);
    CHECK(has_skip(res.skipped, "", "not a JSON object"));
    CHECK(has_skip(res.skipped, "no-type", "no resourceType"));
    CHECK(has_skip(res.skipped, "", "no resourceId"));
    CHECK(has_skip(res.skipped, "vpc-bad", "configuration is not a JSON object"));
    CHECK(has_skip(res.skipped, "vpc-str", "configuration is not a JSON object"));
    CHECK(has_skip(res.skipped, "", "longer than 2048"));
    CHECK(has_skip(res.skipped, "i-weird", "VPC not found"));
    CHECK_STR(sget(find_key(json_object_get(json_object_get(res.models, "vpc-big"), "boundaries"),
                       "vpc-big"), "name"), bigtag);
    map_result_clear(&res);

    /* not an array: an error, nothing returned */
    memset(&res, 0, sizeof(res));
    CHECK(map_target(rules, "111111111111", "us-east-1", it, &res, &err) < 0);
    CHECK_CONTAINS(err.msg, "111111111111/us-east-1");
    CHECK(res.models == NULL);
    CHECK(map_target(rules, NULL, "us-east-1", items, &res, &err) < 0);
    /* empty input: an empty account model */
    json_array_clear(items);
    CHECK(map_target(rules, "111111111111", "us-east-1", items, &res, &err) == 0);
    CHECK_INT(json_object_size(res.models), 0);
    CHECK_INT(json_array_size(json_object_get(res.account, "components")), 0);
    map_result_clear(&res);
    free(huge);
    free(bigtag);
    json_decref(items);
}

/* Recorded AWS Config items (aws-config-rdk samples, Lambda/rule form). */
static void
test_recorded(const struct map_rules *rules)
{
    static const char *const files[] = {"AWS_EC2_VPC.json", "AWS_EC2_Subnet.json",
        "AWS_EC2_SecurityGroup.json", "AWS_RDS_DBInstance.json", "AWS_RDS_DBSubnetGroup.json",
        "AWS_ElasticLoadBalancingV2_LoadBalancer.json", "AWS_EC2_Volume.json",
        "AWS_EC2_EIP.json", "AWS_EC2_VPNConnection.json", "AWS_EC2_CustomerGateway.json"};
    json_t *items = json_array(), *m, *c;
    struct map_result res;
    struct err err = {0};
    char dir[1024];

    memset(&res, 0, sizeof(res));
    snprintf(dir, sizeof(dir), "%s/testdata/aws/aws-config-rdk/rdk/template/example_ci",
        shared_dir);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        json_t *v = json_load_file(path_join(dir, files[i]), 0, NULL);
        CHECK_MSG(v != NULL, "%s", files[i]);
        if (v != NULL)
            json_array_append_new(items, v);
    }
    /* the upstream NetworkInterface sample is broken JSON: a reader refuses it */
    CHECK(json_load_file(path_join(dir, "AWS_EC2_NetworkInterface.json"), 0, NULL) == NULL);
    CHECK(map_target(rules, "264683526309", "us-east-1", items, &res, &err) == 0);
    CHECK_INT(res.items, res.mapped + unmapped_total(res.unmapped) + res.skipped_count);
    m = json_object_get(res.models, "vpc-0990dc6d");
    CHECK(m != NULL);
    CHECK_STR(sget(find_key(json_object_get(m, "boundaries"), "subnet-29428871"), "type"),
        "private-subnet"); /* no route table recorded: not provably public */
    c = find_key(json_object_get(m, "components"), "arn:aws:rds:us-east-1:264683526309:db:myrdstest");
    CHECK_STR(sget(c, "type"), "AWS RDS");
    CHECK_STR(sget(c, "boundary"), "subnet-29428871");
    CHECK(json_is_true(json_object_get(json_object_get(c, "attributes"), "publicly_accessible")));
    CHECK_STR(sget(json_object_get(c, "attributes"), "instance_class"), "db.m3.xlarge");
    c = find_key(json_object_get(m, "components"),
        "arn:aws:elasticloadbalancing:us-east-1:264683526309:loadbalancer/app/MyALB/268aa84731d32825");
    CHECK_STR(sget(c, "type"), "AWS ALB");
    CHECK_STR(sget(c, "name"), "MyALB");
    c = find_key(json_object_get(m, "components"),
        "arn:aws:ec2:us-east-1:264683526309:security-group/sg-1d56fc66");
    CHECK_STR(sget(c, "type"), "AWS Security Group");
    /* VPN: account level (its VPN gateway is not in the set); the PSK-bearing config not copied */
    c = find_key(json_object_get(res.account, "components"),
        "arn:aws:ec2:us-east-1:264683526309:vpn-connection/vpn-205e4f41");
    CHECK(c != NULL);
    if (c != NULL) {
        char *dump = json_dumps(c, 0);
        CHECK(dump != NULL && strstr(dump, "pre_shared_key") == NULL &&
              strstr(dump, "customerGatewayConfiguration") == NULL);
        free(dump);
    }
    map_result_clear(&res);
    json_decref(items);
}

struct sample_totals {
    const struct map_rules *rules;
    size_t total;
};

static void
sample_target(void *ctx, const char *account, const char *region, json_t *items,
    const char *file, size_t lines)
{
    struct sample_totals *st = ctx;
    struct map_result res;
    struct err err = {0};

    memset(&res, 0, sizeof(res));
    CHECK_MSG(map_target(st->rules, account, region, items, &res, &err) == 0, "%s", err.msg);
    CHECK_INT(res.items, lines);
    CHECK_MSG(res.items == res.mapped + unmapped_total(res.unmapped) + res.skipped_count,
        "%s: %zu items, %zu mapped", file, res.items, res.mapped);
    CHECK_MSG(json_object_size(res.unmapped) == 0, "%s: types without a rule", file);
    CHECK_MSG(res.skipped_count == 0, "%s: %zu skipped", file, res.skipped_count);
    st->total += res.items;
    map_result_clear(&res);
}

static void
test_sample_org(const struct map_rules *rules)
{
    struct sample_totals st = {rules, 0};
    int targets = sampleorg_foreach(data_dir, sample_target, &st);

    if (targets < 0) {
        printf("examples/sample-org not present, sample test skipped\n");
        return;
    }
    CHECK(targets >= 2);
    CHECK(st.total > 0);
    printf("sample-org: %d targets, %zu items mapped or accounted for\n", targets, st.total);
}

int
main(int argc, char **argv)
{
    struct map_rules *rules = NULL;
    struct err err = {0};

    if (argc < 3) {
        fprintf(stderr, "usage: test_mapping DATA_DIR SHARED_DIR\n");
        return 2;
    }
    data_dir = argv[1];
    shared_dir = argv[2];
    test_builtin_rules();
    test_bad_rules();
    test_paths();
    CHECK_MSG(map_rules_load(NULL, &rules, &err) == 0, "%s", err.msg);
    if (rules != NULL) {
        test_map_fixture(rules);
        test_determinism(rules);
        test_malformed(rules);
        test_recorded(rules);
        test_sample_org(rules);
    }
    test_override();
    map_rules_free(rules);
    TEST_END();
}
