/*
 * test_rules_yaml.c: the messages mapping/rules.c writes while reading a
 * rules document through config/yamldoc (each with its file:line:col), and
 * what the reader builds that the rest of mapping relies on: compiled path
 * segments, threat and requirement objects with sorted keys, rule origins.
 * The cases test_mapping.c covers with files are not repeated here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mapping/map.h"
#include "mapping/rules.h"
#include "testutil.h"

#define HEAD "version: 1\nrules:\n  - resource_type: AWS::Foo::Bar\n"
#define COMP HEAD "    component: Foo\n    role: process\n    placement: account\n"

struct bad_case {
    const char *text;
    const char *want; /* err.msg starts with it */
};

static void
test_bad(void)
{
    static const struct bad_case cases[] = {
        {COMP "    threats:\n      - {id: a, stride: [S]}\n",
            "m.yaml:8:9: a threat needs an id and a title (1 problem)"},
        {COMP "    threats:\n      - {id: a, title: A}\n",
            "m.yaml:8:9: a threat needs a stride list (1 problem)"},
        {COMP "    threats:\n      - {id: a, title: A, stride: [S, S]}\n",
            "m.yaml:8:39: STRIDE category 'S' listed twice"},
        {COMP "    threats:\n      - {id: a, title: A, stride: S}\n",
            "m.yaml:8:35: stride must be a list, not a scalar"},
        {COMP "    requirements:\n      - {id: a, title: A, controls: RDS.3}\n",
            "m.yaml:8:37: controls must be a list, not a scalar"},
        {COMP "    requirements:\n      - {id: a, title: A, stride: [S]}\n",
            "m.yaml:8:27: unknown key 'stride' in a requirement (expected id, title, controls)"},
        {COMP "    requirements:\n      - {id: a, title: A}\n      - {id: a, title: B}\n",
            "m.yaml:9:9: requirement id 'a' used twice in this rule"},
        {COMP "    requirements: {id: a}\n",
            "m.yaml:7:19: requirements must be a list, not a mapping"},
        {COMP "    requirements:\n      - [id, a]\n",
            "m.yaml:8:9: a requirement must be a mapping, not a list"},
        {COMP "    threats:\n      - {id: '', title: A, stride: [S]}\n",
            "m.yaml:8:14: id is empty"},
        {COMP "    threats:\n      - {id: [a], title: A, stride: [S]}\n",
            "m.yaml:8:14: id must be a string, not a list"},
        {COMP "    attributes:\n      a: \"x.\\ty\"\n",
            "m.yaml:8:10: a path contains a control character"},
        {COMP "    attributes:\n      a: x.y z\n",
            "m.yaml:8:10: bad path 'x.y z': character ' ' not allowed in a key"},
        {COMP "    attributes:\n      a: [x, {y: z}]\n",
            "m.yaml:8:14: a path must be a string, not a mapping"},
        {COMP "    attributes:\n      a: {y: z}\n",
            "m.yaml:8:10: expected a string or a list, not a mapping"},
        {COMP "    attributes:\n      a-b: x\n",
            "m.yaml:8:7: attribute name 'a-b' may only hold letters, digits and '_'"},
        {COMP "    attributes: [x]\n", "m.yaml:7:17: attributes must be a mapping, not a list"},
        {COMP "    name: x..y\n", "m.yaml:7:11: bad path 'x..y': empty key"},
        {HEAD "    component: Foo\n    role: process\n    placement: vpc\n    vpc: [a:b]\n",
            "m.yaml:7:11: bad reference 'a:b': expected self, internet, relationship:TYPE, "
            "TYPE@PATH or PATH"},
        {HEAD "    component: Foo\n    role: process\n    placement: vpc\n    vpc: [Foo@x]\n",
            "m.yaml:7:11: bad reference 'Foo@x': 'Foo' is not a resource type like AWS::EC2::VPC"},
        {COMP "    flows:\n      - {label: \"a{b\", from: self}\n",
            "m.yaml:8:17: label 'a{b': '{' without a closing '}'"},
        {COMP "    flows:\n      - {label: \"a}b\", from: self}\n",
            "m.yaml:8:17: label 'a}b': '}' without an opening '{'"},
        {COMP "    flows:\n      - {from: self}\n", "m.yaml:8:9: a flow needs a label"},
        {COMP "    flows:\n      - {label: x, via: y}\n",
            "m.yaml:8:20: unknown key 'via' in a flow (expected from, to, label, protocol, port)"},
        {COMP "    flows: {label: x}\n", "m.yaml:7:12: flows must be a list, not a mapping"},
        {HEAD "    role: process\n    placement: account\n    component_from: {path: x}\n",
            "m.yaml:6:21: component_from needs a path and cases"},
        {HEAD "    role: process\n    placement: account\n    component_from: {paths: x}\n",
            "m.yaml:6:22: unknown key 'paths' in component_from (expected path, cases)"},
        {COMP "    emit: boundary\n",
            "m.yaml:7:11: unknown emit 'boundary' (expected component, vpc, subnet, flows)"},
        {COMP "    colour: red\n", "m.yaml:7:5: unknown key 'colour' in a rule (1 problem)"},
        {COMP "    role: process\n", "m.yaml:7:5: duplicate key 'role' in a rule (1 problem)"},
        {"version: 1\nrules:\n  - {component: Foo}\n", "m.yaml:3:5: a rule needs a resource_type"},
        {"version: 1\nrules: []\nother: 1\n",
            "m.yaml:3:1: unknown key 'other' at the top of a rules file (expected version, rules)"},
        {"version: [1]\nrules: []\n", "m.yaml:1:10: unsupported rules version (expected 1)"},
        {"[version]: 1\nrules: []\n", "m.yaml:1:1: keys in a rules file must be plain words"},
        {"~\n", "m.yaml:1:1: a rules file must be a mapping, not a scalar"},
        {"# nothing\n", "m.yaml: the rules file is empty (1 problem)"},
        {"version: 1\nrules: [\n", "m.yaml:3:1: did not find expected node content"},
        {"version: 1\nrules: *r\n", "m.yaml:2:8: found undefined alias"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct map_rules *rules = NULL;
        struct err err = {0};
        int rc = map_rules_parse("m.yaml", cases[i].text, strlen(cases[i].text), &rules, &err);

        CHECK_MSG(rc < 0, "case %zu parsed", i);
        CHECK(rules == NULL);
        CHECK_INT(err.kind, ERR_CONFIG);
        CHECK_MSG(strncmp(err.msg, cases[i].want, strlen(cases[i].want)) == 0,
            "case %zu: got [%s]\n  want [%s]", i, err.msg, cases[i].want);
        map_rules_free(rules);
    }
}

static void
test_counts_and_names(void)
{
    static const char text[] = COMP "    colour: red\n    size: 1\n    emit: x\n";
    char name[300];
    struct map_rules *rules = NULL;
    struct err err = {0};

    CHECK(map_rules_parse("m.yaml", text, strlen(text), &rules, &err) < 0);
    CHECK_STR(err.msg, "m.yaml:7:5: unknown key 'colour' in a rule (3 problems)");
    /* a long file name: the message keeps its position and count */
    memset(name, 'd', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    CHECK(map_rules_parse(name, text, strlen(text), &rules, &err) < 0);
    CHECK_CONTAINS(err.msg, "ddd:7:5: unknown key 'colour'");
    CHECK_CONTAINS(err.msg, "(3 problems)");
    CHECK(rules == NULL);
}

static void
test_built(void)
{
    static const char text[] =
        COMP "    name: [tags.Name, \"configuration.list[].id\"]\n"
             "    attributes:\n      zeta: a.b\n      alpha: [c, d.e]\n"
             "    threats:\n"
             "      - {title: T, stride: [T, S], controls: [RDS.3], id: t1}\n"
             "    requirements:\n      - {title: R, id: r1}\n"
             "  - &shared\n    resource_type: AWS::Foo::Baz\n    emit: vpc\n";
    struct map_rules *rules = NULL;
    struct err err = {0};
    const struct map_rule *r;
    char *dump;

    CHECK_MSG(map_rules_parse("b.yaml", text, strlen(text), &rules, &err) == 0, "%s", err.msg);
    if (rules == NULL)
        return;
    CHECK_INT(map_rules_count(rules), 2);
    r = map_rules_find(rules, "AWS::Foo::Bar");
    CHECK(r != NULL);
    if (r == NULL)
        goto out;
    CHECK_STR(r->origin, "b.yaml:3");
    CHECK_INT(r->name.n, 2);
    CHECK_STR(r->name.v[1].text, "configuration.list[].id");
    CHECK_INT(r->name.v[1].n, 3);
    CHECK_STR(r->name.v[1].segs[1].key, "list");
    CHECK_INT(r->name.v[1].segs[1].klen, 4);
    CHECK(r->name.v[1].segs[1].collect);
    CHECK(r->name.v[1].collects);
    CHECK_INT(r->name.v[1].root, MAP_ROOT_CONFIGURATION);
    CHECK_INT(r->name.v[0].root, MAP_ROOT_TAGS);
    CHECK_INT(r->nattrs, 2);
    CHECK_STR(r->attrs[0].name, "alpha"); /* sorted */
    CHECK_INT(r->attrs[0].paths.n, 2);
    CHECK_STR(r->attrs[0].paths.v[1].segs[1].key, "e");
    /* keys sorted whatever the file's order; controls default to [] */
    dump = json_dumps(r->threats, JSON_COMPACT);
    CHECK_STR(dump,
        "[{\"controls\":[\"RDS.3\"],\"id\":\"t1\",\"stride\":[\"T\",\"S\"],\"title\":\"T\"}]");
    free(dump);
    dump = json_dumps(r->requirements, JSON_COMPACT);
    CHECK_STR(dump, "[{\"controls\":[],\"id\":\"r1\",\"title\":\"R\"}]");
    free(dump);
    r = map_rules_find(rules, "AWS::Foo::Baz");
    /* the anchor line: a node starts at its anchor, as in libyaml's loader */
    CHECK_MSG(r != NULL && strcmp(r->origin, "b.yaml:15") == 0, "%s", r ? r->origin : "-");
    CHECK(r != NULL && r->name.n == 3); /* the default name paths */
    CHECK(r != NULL && strcmp(r->name.v[2].text, "resourceId") == 0);
out:
    map_rules_free(rules);
}

static void
test_builtin_digest(void)
{
    struct map_rules *a = NULL, *b = NULL;
    struct err err = {0};

    CHECK(map_rules_load(NULL, &a, &err) == 0);
    CHECK(map_rules_load(NULL, &b, &err) == 0);
    CHECK(map_rules_digest(a) != NULL && strlen(map_rules_digest(a)) == 64);
    CHECK(map_rules_digest(a) != NULL && map_rules_digest(b) != NULL &&
        strcmp(map_rules_digest(a), map_rules_digest(b)) == 0);
    CHECK(map_rules_digest(NULL) == NULL);
    map_rules_free(a);
    map_rules_free(b);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_bad();
    test_counts_and_names();
    test_built();
    test_builtin_digest();
    TEST_END();
}
