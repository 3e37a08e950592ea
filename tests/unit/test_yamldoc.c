/*
 * test_yamldoc.c: config/yamldoc, the YAML reader config.c and rules.c
 * share. The tree (kinds, positions, aliases, first document only), every
 * message the helpers write, the problem collection (first kept, all
 * counted, sink sees all) and libyaml's own errors with their positions.
 * Everything is in memory: the data folder is not used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/yamldoc.h"
#include "testutil.h"

/* Parses text into *doc with e named "t.yaml"; returns yamldoc_parse's rc. */
static int
parse(const char *text, struct yamldoc_errs *e, struct yamldoc **doc, struct err *err)
{
    yamldoc_errs_init(e, "t.yaml", NULL, NULL);
    *doc = NULL;
    return yamldoc_parse(e, text, strlen(text), 0, doc, err);
}

static void
test_tree(void)
{
    static const char text[] = "# comment\n"
                               "name: web\n"
                               "list: [a, 'b', \"c\"]\n"
                               "map:\n"
                               "  k: ~\n"
                               "  q: \"null\"\n"
                               "  e:\n";
    struct yamldoc_errs e;
    struct yamldoc *doc;
    struct err err = {0};
    const struct yamldoc_node *root, *list, *map;

    CHECK(parse(text, &e, &doc, &err) == 0);
    if (doc == NULL)
        return;
    root = yamldoc_root(doc);
    CHECK(root != NULL && yamldoc_kind(root) == YAMLDOC_MAP);
    CHECK_STR(yamldoc_kind_name(root), "a mapping");
    CHECK_INT(yamldoc_count(root), 3);
    CHECK_INT(yamldoc_line(root), 2);
    CHECK_INT(yamldoc_col(root), 1);
    CHECK_STR(yamldoc_scalar(root), ""); /* not a scalar */
    CHECK_STR(yamldoc_scalar(yamldoc_get(root, "name")), "web");
    CHECK(yamldoc_get(root, "nope") == NULL);
    CHECK(yamldoc_item(root, 0) == NULL); /* a mapping has no items */
    list = yamldoc_get(root, "list");
    CHECK(list != NULL && yamldoc_kind(list) == YAMLDOC_LIST);
    if (list != NULL) {
        CHECK_STR(yamldoc_kind_name(list), "a list");
        CHECK_INT(yamldoc_count(list), 3);
        CHECK_STR(yamldoc_scalar(yamldoc_item(list, 2)), "c");
        CHECK_INT(yamldoc_line(yamldoc_item(list, 1)), 3);
        CHECK_INT(yamldoc_col(yamldoc_item(list, 1)), 11);
        CHECK(yamldoc_item(list, 3) == NULL);
        CHECK(yamldoc_get(list, "a") == NULL); /* a list has no keys */
        CHECK_STR(yamldoc_kind_name(yamldoc_item(list, 0)), "a scalar");
        CHECK_INT(yamldoc_count(yamldoc_item(list, 0)), 0);
    }
    map = yamldoc_get(root, "map");
    CHECK(map != NULL && yamldoc_kind(map) == YAMLDOC_MAP);
    if (map != NULL) {
        CHECK(yamldoc_is_null(yamldoc_get(map, "k")));
        CHECK(!yamldoc_is_null(yamldoc_get(map, "q"))); /* quoted: a string */
        CHECK(yamldoc_is_null(yamldoc_get(map, "e")));  /* nothing at all */
        CHECK(!yamldoc_is_null(map));
    }
    CHECK(!yamldoc_is_null(yamldoc_get(root, "name")));
    CHECK_INT(e.n, 0);
    CHECK(yamldoc_errs_status(&e, &err) == 0);
    yamldoc_free(doc);
    yamldoc_free(NULL);
}

static void
test_empty_and_documents(void)
{
    static const char *const empty[] = {"", "# only a comment\n", "\n\n"};
    struct yamldoc_errs e;
    struct yamldoc *doc;
    struct err err = {0};

    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        CHECK(parse(empty[i], &e, &doc, &err) == 0);
        CHECK(doc != NULL && yamldoc_root(doc) == NULL);
        yamldoc_free(doc);
    }
    /* "---" alone: a document holding one empty (null) scalar */
    CHECK(parse("---\n", &e, &doc, &err) == 0);
    CHECK(doc != NULL && yamldoc_root(doc) != NULL && yamldoc_is_null(yamldoc_root(doc)));
    yamldoc_free(doc);
    /* only the first document is read: the broken second one is never seen */
    CHECK(parse("a: 1\n---\nb: [\n", &e, &doc, &err) == 0);
    CHECK(doc != NULL && yamldoc_get(yamldoc_root(doc), "a") != NULL);
    yamldoc_free(doc);
}

static void
test_aliases(void)
{
    struct yamldoc_errs e;
    struct yamldoc *doc;
    struct err err = {0};
    const struct yamldoc_node *root;

    CHECK(parse("a: &x [1, 2]\nb: *x\nc: &s text\nd: *s\n", &e, &doc, &err) == 0);
    if (doc != NULL) {
        root = yamldoc_root(doc);
        CHECK(yamldoc_get(root, "a") == yamldoc_get(root, "b")); /* shared, not copied */
        CHECK_STR(yamldoc_scalar(yamldoc_get(root, "d")), "text");
        yamldoc_free(doc);
    }
    /* an alias may name the collection it sits in, as libyaml's loader allows */
    CHECK(parse("a: &x [*x]\n", &e, &doc, &err) == 0);
    if (doc != NULL) {
        const struct yamldoc_node *a = yamldoc_get(yamldoc_root(doc), "a");
        CHECK(a != NULL && yamldoc_item(a, 0) == a);
        yamldoc_free(doc);
    }
    CHECK(parse("a: *nope\n", &e, &doc, &err) < 0);
    CHECK(doc == NULL);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_STR(err.msg, "t.yaml:1:4: found undefined alias");
    CHECK_INT(e.n, 1);
    CHECK_STR(e.first, "t.yaml:1:4: found undefined alias");
    CHECK(parse("a: &x 1\nb: &x 2\n", &e, &doc, &err) < 0);
    CHECK_STR(err.msg, "t.yaml:2:4: second occurrence found duplicate anchor; first occurrence");
}

static void
test_bad_yaml(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"a: [1, 2\n",
            "t.yaml:2:1: did not find expected ',' or ']' while parsing a flow sequence"},
        {"a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context"},
        {"a: \"open\n",
            "t.yaml:2:1: found unexpected end of stream while scanning a quoted scalar"},
        {"a:\n\t- b\n", "t.yaml:2:1: found character that cannot start any token while scanning"},
        {"a: \x01\n", "t.yaml:1:1: control characters are not allowed"}, /* reader: no mark */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct yamldoc_errs e;
        struct yamldoc *doc;
        struct err err = {0};

        CHECK_MSG(parse(cases[i].text, &e, &doc, &err) < 0, "case %zu parsed", i);
        CHECK(doc == NULL);
        CHECK_INT(err.kind, ERR_CONFIG);
        CHECK_MSG(strncmp(err.msg, cases[i].want, strlen(cases[i].want)) == 0,
            "case %zu: [%s], want [%s]", i, err.msg, cases[i].want);
        CHECK_INT(e.n, 1);
    }
}

struct seen {
    int calls;
    char keys[256];
};

static void
note_pair(struct yamldoc_errs *e, const char *key, const struct yamldoc_node *k,
    const struct yamldoc_node *v, void *ctx)
{
    struct seen *s = ctx;
    size_t len = strlen(s->keys);

    (void)e;
    (void)v;
    CHECK(strcmp(yamldoc_scalar(k), key) == 0);
    snprintf(s->keys + len, sizeof(s->keys) - len, "%s,", key);
    s->calls++;
}

static void
note_item(struct yamldoc_errs *e, const struct yamldoc_node *n, void *ctx)
{
    struct seen *s = ctx;
    size_t len = strlen(s->keys);

    (void)e;
    snprintf(s->keys + len, sizeof(s->keys) - len, "%s,", yamldoc_scalar(n));
    s->calls++;
}

struct sunk {
    int n;
    char last[YAMLDOC_LINE_MAX];
};

static void
sink(struct yamldoc_errs *e, const char *line, void *arg)
{
    struct sunk *s = arg;

    (void)e;
    s->n++;
    snprintf(s->last, sizeof(s->last), "%s", line);
}

static void
test_walk(void)
{
    static const char text[] = "m: {a: 1, b: 2, a: 3, [x]: 4, {y: 1}: 5, c: 6}\n"
                               "s: plain\n"
                               "l: [p, q]\n"
                               "bad: {k: v}\n";
    struct yamldoc_errs e;
    struct yamldoc *doc;
    struct err err = {0};
    const struct yamldoc_node *root;
    struct seen s;
    struct sunk sk = {0};

    CHECK(parse(text, &e, &doc, &err) == 0);
    if (doc == NULL)
        return;
    root = yamldoc_root(doc);
    yamldoc_errs_init(&e, "w.yaml", sink, &sk);
    memset(&s, 0, sizeof(s));
    yamldoc_walk_mapping(&e, yamldoc_get(root, "m"), "'m'", note_pair, &s);
    CHECK_STR(s.keys, "a,b,c,");
    CHECK_INT(e.n, 3);
    CHECK_INT(sk.n, 3);
    CHECK_STR(e.first, "w.yaml:1:17: duplicate key 'a' in 'm'");
    CHECK_STR(sk.last, "w.yaml:1:31: keys in 'm' must be plain words");
    memset(&s, 0, sizeof(s));
    yamldoc_walk_mapping(&e, yamldoc_get(root, "l"), "'l'", note_pair, &s);
    CHECK_INT(s.calls, 0);
    CHECK_STR(sk.last, "w.yaml:3:4: 'l' must be a mapping, not a list");
    yamldoc_walk_mapping(&e, yamldoc_get(root, "s"), "the thing", note_pair, &s);
    CHECK_STR(sk.last, "w.yaml:2:4: the thing must be a mapping, not a scalar");

    memset(&s, 0, sizeof(s));
    yamldoc_each_item(&e, yamldoc_get(root, "s"), note_item, &s);
    yamldoc_each_item(&e, yamldoc_get(root, "l"), note_item, &s);
    CHECK_STR(s.keys, "plain,p,q,");
    yamldoc_each_item(&e, yamldoc_get(root, "bad"), note_item, &s);
    CHECK_STR(sk.last, "w.yaml:4:6: expected a string or a list, not a mapping");
    CHECK_INT(s.calls, 3);

    CHECK_INT(e.n, 6);
    CHECK(yamldoc_errs_status(&e, &err) < 0);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_STR(err.msg, "w.yaml:1:17: duplicate key 'a' in 'm' (6 problems)");
    yamldoc_free(doc);
}

static void
test_text(void)
{
    static const struct {
        const char *key, *what;
        size_t max;
        unsigned flags;
        const char *want;
    } bad[] = {
        {"nul", "'nul'", 0, 0, "t.yaml:2:6: 'nul' contains a NUL byte"},
        {"ctl", "a label", 0, 0, "t.yaml:3:6: a label contains a control character"},
        {"del", "a label", 0, 0, "t.yaml:4:6: a label contains a control character"},
        {"empty", "component", 0, YAMLDOC_NONEMPTY, "t.yaml:5:8: component is empty"},
        {"list", "'list'", 0, 0, "t.yaml:6:7: 'list' must be a string, not a list"},
        {"map", "'map'", 0, 0, "t.yaml:7:6: 'map' must be a string, not a mapping"},
        {"big", "'big'", 298, 0, "t.yaml:8:6: 'big' is longer than 298 characters"},
    };
    char big[300];
    char text[512];
    struct yamldoc_errs e;
    struct yamldoc *doc;
    struct err err = {0};
    const struct yamldoc_node *root;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(text, sizeof(text),
        "ok: fine\nnul: \"a\\0b\"\nctl: \"a\\tb\"\ndel: \"a\\x7fb\"\nempty: ''\n"
        "list: [1]\nmap: {a: 1}\nbig: %s\n",
        big);
    CHECK(parse(text, &e, &doc, &err) == 0);
    if (doc == NULL)
        return;
    root = yamldoc_root(doc);
    CHECK_INT(yamldoc_scalar_len(yamldoc_get(root, "nul")), 3);
    CHECK_STR(yamldoc_text(&e, yamldoc_get(root, "ok"), "'ok'", 0, YAMLDOC_NONEMPTY), "fine");
    CHECK_STR(yamldoc_text(&e, yamldoc_get(root, "empty"), "'empty'", 10, 0), "");
    CHECK_STR(yamldoc_text(&e, yamldoc_get(root, "big"), "'big'", 0, 0), big);
    CHECK_INT(e.n, 0);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        yamldoc_errs_init(&e, "t.yaml", NULL, NULL);
        CHECK(yamldoc_text(&e, yamldoc_get(root, bad[i].key), bad[i].what, bad[i].max,
                  bad[i].flags) == NULL);
        CHECK_STR(e.first, bad[i].want);
    }
    CHECK_INT(e.n, 1);
    yamldoc_free(doc);
}

static void
test_errs(void)
{
    struct yamldoc_errs e;
    struct sunk sk = {0};
    struct err err = {0};
    char longname[1000];

    yamldoc_errs_init(&e, "f.yaml", NULL, NULL);
    CHECK(yamldoc_errs_status(&e, &err) == 0);
    yamldoc_error(&e, NULL, "the file is %s", "empty");
    yamldoc_error(&e, NULL, "second");
    CHECK_INT(e.n, 2);
    CHECK_STR(e.first, "f.yaml: the file is empty");
    CHECK(yamldoc_errs_status(&e, &err) < 0);
    CHECK_STR(err.msg, "f.yaml: the file is empty (2 problems)");
    yamldoc_errs_init(&e, "f.yaml", sink, &sk);
    yamldoc_error(&e, NULL, "one");
    CHECK(yamldoc_errs_status(&e, &err) < 0);
    CHECK_STR(err.msg, "f.yaml: one (1 problem)");
    CHECK_INT(sk.n, 1);
    e.oom = 1;
    CHECK(yamldoc_errs_status(&e, &err) < 0);
    CHECK_INT(err.kind, ERR_INTERNAL);
    CHECK_STR(err.msg, "out of memory while reading f.yaml");
    /* a long name is cut, never overflowing: the count still shows */
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    yamldoc_errs_init(&e, longname, NULL, NULL);
    yamldoc_error(&e, NULL, "x");
    CHECK_INT(strlen(e.first), YAMLDOC_LINE_MAX - 1);
    CHECK(yamldoc_errs_status(&e, &err) < 0);
    CHECK_CONTAINS(err.msg, "(1 problem)");
}

static void
test_secret_flag(void)
{
    static const char text[] = "secret: hunter2\n";
    struct yamldoc_errs e;
    struct yamldoc *doc = NULL;
    struct err err = {0};

    /* the wipe itself is not observable after free; this runs the path
       (under ASan: no use after free, nothing leaked) */
    yamldoc_errs_init(&e, "s.yaml", NULL, NULL);
    CHECK(yamldoc_parse(&e, text, strlen(text), YAMLDOC_SECRET, &doc, &err) == 0);
    CHECK(doc != NULL);
    if (doc != NULL)
        CHECK_STR(yamldoc_scalar(yamldoc_get(yamldoc_root(doc), "secret")), "hunter2");
    yamldoc_free(doc);
}

static void
test_big(void)
{
    /* enough nodes and text to take several arena chunks */
    size_t cap = 400000, len = 0;
    char *text = malloc(cap);
    struct yamldoc_errs e;
    struct yamldoc *doc = NULL;
    struct err err = {0};

    CHECK(text != NULL);
    if (text == NULL)
        return;
    len += (size_t)snprintf(text + len, cap - len, "items:\n");
    for (int i = 0; i < 8000; i++)
        len += (size_t)snprintf(text + len, cap - len, "  - {k%d: [v%d, w], n: %d}\n", i, i, i);
    yamldoc_errs_init(&e, "big.yaml", NULL, NULL);
    CHECK(yamldoc_parse(&e, text, len, 0, &doc, &err) == 0);
    if (doc != NULL) {
        const struct yamldoc_node *items = yamldoc_get(yamldoc_root(doc), "items");
        const struct yamldoc_node *last = items ? yamldoc_item(items, 7999) : NULL;
        CHECK(items != NULL && yamldoc_count(items) == 8000);
        CHECK(last != NULL && yamldoc_line(last) == 8001);
        CHECK(last != NULL &&
            strcmp(yamldoc_scalar(yamldoc_item(yamldoc_get(last, "k7999"), 0)), "v7999") == 0);
    }
    yamldoc_free(doc);
    free(text);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_tree();
    test_empty_and_documents();
    test_aliases();
    test_bad_yaml();
    test_walk();
    test_text();
    test_errs();
    test_secret_flag();
    test_big();
    TEST_END();
}
