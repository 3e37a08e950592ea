/*
 * test_threatdragon.c: the model -> Threat Dragon v2 converter
 * (mapping/threatdragon.c) on a hand-written model
 * (tests/data/threatdragon/model-small.json): shapes by role, boxes that
 * contain their components and child boxes, flows joined to their cells,
 * one threat per STRIDE letter, deterministic ids and bytes; then every
 * malformed input it must refuse with a message naming the item.
 * tests/report/test_report.py validates real exports against the schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mapping/threatdragon.h"
#include "testutil.h"

static const char *
s(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long
n(const json_t *o, const char *a, const char *b)
{
    return (long long)json_integer_value(json_object_get(json_object_get(o, a), b));
}

/* The node whose description ends with key. */
static json_t *
node(json_t *cells, const char *key)
{
    size_t i;
    json_t *c;

    json_array_foreach(cells, i, c) {
        const char *d = s(json_object_get(c, "data"), "description");
        size_t ld = d ? strlen(d) : 0, lk = strlen(key);
        if (strcmp(s(c, "shape"), "flow") != 0 && ld >= lk && strcmp(d + ld - lk, key) == 0)
            return c;
    }
    return NULL;
}

static int
inside(const json_t *inner, const json_t *outer)
{
    return n(inner, "position", "x") >= n(outer, "position", "x") &&
           n(inner, "position", "y") >= n(outer, "position", "y") &&
           n(inner, "position", "x") + n(inner, "size", "width") <=
               n(outer, "position", "x") + n(outer, "size", "width") &&
           n(inner, "position", "y") + n(inner, "size", "height") <=
               n(outer, "position", "y") + n(outer, "size", "height");
}

static void
test_convert(const char *dir)
{
    char path[1024];
    json_error_t jerr;
    json_t *model, *td = NULL, *td2 = NULL, *cells, *c, *web, *db, *inet, *sg, *other, *vpc, *pub,
                   *priv, *threats;
    struct err err = {0};
    size_t i, nflows = 0, nboxes = 0;
    char *a, *b;

    snprintf(path, sizeof(path), "%s/model-small.json", dir);
    model = json_load_file(path, 0, &jerr);
    CHECK_MSG(model != NULL, "%s: %s", path, jerr.text);
    if (model == NULL)
        return;
    CHECK_INT(threatdragon_from_model(model, &td, &err), 0);
    CHECK_STR(err.msg, "");
    if (td == NULL) {
        json_decref(model);
        return;
    }
    CHECK_STR(s(td, "version"), THREATDRAGON_VERSION);
    CHECK_STR(s(json_object_get(td, "summary"), "title"), "vpc-0a1 (prod <vpc>)");
    CHECK_CONTAINS(s(json_object_get(td, "summary"), "description"), "111111111111/us-east-1/vpc-0a1");
    CHECK_INT(json_array_size(json_object_get(json_object_get(td, "detail"), "diagrams")), 1);
    c = json_array_get(json_object_get(json_object_get(td, "detail"), "diagrams"), 0);
    CHECK_STR(s(c, "diagramType"), "STRIDE");
    CHECK(json_is_integer(json_object_get(c, "id")));
    cells = json_object_get(c, "cells");
    /* 3 boxes + 4 components + 1 stand-in actor + 3 flows */
    CHECK_INT(json_array_size(cells), 11);
    json_array_foreach(cells, i, c) {
        CHECK(s(c, "id") != NULL && strlen(s(c, "id")) == 36);
        CHECK(json_is_integer(json_object_get(c, "zIndex")));
        CHECK(json_is_boolean(json_object_get(json_object_get(c, "data"), "hasOpenThreats")));
        nflows += strcmp(s(c, "shape"), "flow") == 0;
        nboxes += strcmp(s(c, "shape"), "trust-boundary-box") == 0;
    }
    CHECK_INT(nflows, 3);
    CHECK_INT(nboxes, 3);

    web = node(cells, "instance/i-web");
    db = node(cells, "db:orders");
    inet = node(cells, ": external:internet");
    sg = node(cells, "security-group/sg-1");
    other = NULL;
    json_array_foreach(cells, i, c) {
        if (s(json_object_get(c, "data"), "name") != NULL &&
            strcmp(s(json_object_get(c, "data"), "name"), "arn:aws:s3:::elsewhere") == 0)
            other = c;
    }
    vpc = node(cells, "vpc vpc-0a1");
    pub = node(cells, "public-subnet subnet-pub");
    priv = node(cells, "private-subnet subnet-priv");
    CHECK(web && db && inet && sg && other && vpc && pub && priv);
    if (!(web && db && inet && sg && other && vpc && pub && priv))
        goto out;
    CHECK_STR(s(web, "shape"), "process");
    CHECK_STR(s(json_object_get(web, "data"), "type"), "tm.Process");
    CHECK_STR(s(db, "shape"), "store");
    CHECK_STR(s(json_object_get(db, "data"), "type"), "tm.Store");
    CHECK(json_is_true(json_object_get(json_object_get(db, "data"), "isEncrypted")));
    CHECK_STR(s(inet, "shape"), "actor");
    CHECK_STR(s(json_object_get(inet, "data"), "type"), "tm.Actor");
    CHECK_STR(s(sg, "shape"), "process");
    CHECK_CONTAINS(s(json_object_get(sg, "data"), "description"), "Network control");
    CHECK_STR(s(other, "shape"), "actor");
    CHECK(json_is_true(json_object_get(json_object_get(other, "data"), "outOfScope")));
    CHECK_STR(s(vpc, "shape"), "trust-boundary-box");
    CHECK_STR(s(json_object_get(vpc, "data"), "type"), "tm.BoundaryBox");
    CHECK(json_is_true(json_object_get(json_object_get(vpc, "data"), "isTrustBoundary")));
    CHECK_STR(s(json_object_get(json_object_get(vpc, "attrs"), "headerText"), "text"),
        "prod <vpc> (vpc)");
    CHECK_STR(s(json_object_get(json_object_get(web, "attrs"), "text"), "text"), "web-1");

    /* layout: components in their boxes, subnets inside the VPC, the
     * Internet and the stand-in outside every box */
    CHECK(inside(web, pub));
    CHECK(inside(db, priv));
    CHECK(inside(sg, vpc));
    CHECK(inside(pub, vpc));
    CHECK(inside(priv, vpc));
    CHECK(!inside(web, priv) && !inside(db, pub));
    CHECK(!inside(inet, vpc) && !inside(other, vpc));
    CHECK(n(pub, "position", "y") != n(priv, "position", "y"));
    CHECK(json_integer_value(json_object_get(vpc, "zIndex")) <
          json_integer_value(json_object_get(pub, "zIndex")));

    /* threats: one per STRIDE letter, numbered, Open */
    threats = json_object_get(json_object_get(web, "data"), "threats");
    CHECK_INT(json_array_size(threats), 2);
    CHECK_STR(s(json_array_get(threats, 0), "type"), "Spoofing");
    CHECK_STR(s(json_array_get(threats, 1), "type"), "Information disclosure");
    CHECK_STR(s(json_array_get(threats, 0), "title"), "Reachable from the Internet");
    CHECK_STR(s(json_array_get(threats, 0), "status"), "Open");
    CHECK_STR(s(json_array_get(threats, 0), "severity"), "Medium");
    CHECK_STR(s(json_array_get(threats, 0), "modelType"), "STRIDE");
    CHECK_STR(s(json_array_get(threats, 0), "mitigation"), "Security Hub controls: EC2.9, EC2.18");
    CHECK_CONTAINS(s(json_array_get(threats, 0), "description"), "internet-exposure");
    CHECK(strcmp(s(json_array_get(threats, 0), "id"), s(json_array_get(threats, 1), "id")) != 0);
    CHECK(json_is_true(json_object_get(json_object_get(web, "data"), "hasOpenThreats")));
    CHECK(json_is_false(json_object_get(json_object_get(inet, "data"), "hasOpenThreats")));
    threats = json_object_get(json_object_get(db, "data"), "threats");
    CHECK_INT(json_array_size(threats), 1);
    CHECK_STR(s(json_array_get(threats, 0), "type"), "Tampering");
    CHECK_STR(s(json_array_get(threats, 0), "severity"), "High");
    CHECK_STR(s(json_array_get(threats, 0), "mitigation"), "");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(td, "detail"), "threatTop")), 3);

    /* flows join the right cells */
    json_array_foreach(cells, i, c) {
        const char *src, *dst, *name;
        if (strcmp(s(c, "shape"), "flow") != 0)
            continue;
        src = s(json_object_get(c, "source"), "cell");
        dst = s(json_object_get(c, "target"), "cell");
        name = s(json_object_get(c, "data"), "name");
        CHECK_STR(s(json_object_get(c, "data"), "type"), "tm.Flow");
        CHECK(json_is_object(json_object_get(json_object_get(json_object_get(c, "attrs"), "line"),
            "targetMarker")));
        if (strcmp(name, "tcp/443") == 0) {
            CHECK_STR(src, s(inet, "id"));
            CHECK_STR(dst, s(web, "id"));
            CHECK(json_is_true(json_object_get(json_object_get(c, "data"), "isPublicNetwork")));
            CHECK_STR(s(json_object_get(c, "data"), "protocol"), "tcp");
        } else if (strcmp(name, "tcp/5432") == 0) {
            CHECK_STR(src, s(web, "id"));
            CHECK_STR(dst, s(db, "id"));
            CHECK(json_is_false(json_object_get(json_object_get(c, "data"), "isPublicNetwork")));
        } else {
            CHECK_STR(name, "HTTPS");
            CHECK_STR(dst, s(other, "id"));
        }
    }

    /* deterministic: same model, same bytes */
    CHECK_INT(threatdragon_from_model(model, &td2, &err), 0);
    a = json_dumps(td, JSON_COMPACT);
    b = td2 != NULL ? json_dumps(td2, JSON_COMPACT) : NULL;
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    free(a);
    free(b);
out:
    json_decref(td);
    json_decref(td2);
    json_decref(model);
}

static void
test_ids(void)
{
    char a[37], b[37], c[37];

    threatdragon_id("cell", "vpc-1", a);
    threatdragon_id("cell", "vpc-1", b);
    threatdragon_id("cell", "vpc-2", c);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK_INT(strlen(a), 36);
    CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    CHECK(a[14] == '8');                          /* version 8 */
    CHECK(strchr("89ab", a[19]) != NULL);         /* RFC 4122 variant */
    threatdragon_id("boundary", "vpc-1", c);
    CHECK(strcmp(a, c) != 0);
}

/* Converts text, expects failure with kind and a message containing want. */
static void
expect_fail(const char *text, enum err_kind kind, const char *want)
{
    json_error_t jerr;
    json_t *m = json_loads(text, 0, &jerr), *td = NULL;
    struct err err = {0};

    CHECK_MSG(m != NULL, "bad test JSON: %s", jerr.text);
    CHECK_INT(threatdragon_from_model(m, &td, &err), -1);
    CHECK(td == NULL);
    CHECK_INT(err.kind, kind);
    CHECK_CONTAINS(err.msg, want);
    json_decref(td);
    json_decref(m);
}

static void
test_failures(void)
{
    expect_fail("[1]", ERR_CONFIG, "not a JSON object");
    expect_fail("{\"components\": {}}", ERR_CONFIG, "'components' is not an array");
    expect_fail("{\"components\": [{\"name\": \"x\"}]}", ERR_CONFIG, "components[0] has no string 'key'");
    expect_fail("{\"boundaries\": [3]}", ERR_CONFIG, "boundaries[0] is not an object");
    expect_fail("{\"flows\": [{\"from\": \"a\"}]}", ERR_CONFIG, "flows[0]: needs string 'from' and 'to'");
    expect_fail("{\"boundaries\": [{\"key\": \"a\", \"parent\": \"b\"}, {\"key\": \"b\", "
                "\"parent\": \"a\"}]}",
        ERR_CONFIG, "boundary 'a': its parent chain loops back to it");
    expect_fail("{\"boundaries\": [{\"key\": \"a\", \"parent\": \"a\"}]}", ERR_CONFIG,
        "boundary 'a': its parent chain");
    expect_fail("{\"boundaries\": [{\"key\": \"a\"}, {\"key\": \"a\"}]}", ERR_CONFIG,
        "boundary key 'a' is used twice");
    expect_fail("{\"components\": [{\"key\": \"k\", \"threats\": [{\"id\": \"t\", \"title\": "
                "\"T\", \"stride\": [\"X\"]}]}]}",
        ERR_CONFIG, "component 'k': threat 't': stride[0] is not one of S, T, R, I, D, E");
    expect_fail("{\"components\": [{\"key\": \"k\", \"threats\": [{\"id\": \"t\", \"title\": "
                "\"T\"}]}]}",
        ERR_CONFIG, "component 'k': threats[0] needs a title and a non-empty stride list");
    expect_fail("{\"components\": [{\"key\": \"k\", \"threats\": {}}]}", ERR_CONFIG,
        "component 'k': 'threats' is not an array");
}

static void
test_deep_nesting(void)
{
    /* 40 nested boundaries: deeper than THREATDRAGON_MAX_DEPTH, refused */
    json_t *m = json_pack("{s:[], s:[], s:[]}", "components", "flows", "boundaries"), *td = NULL;
    struct err err = {0};
    char k[16], p[16];

    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof(k), "b%d", i);
        snprintf(p, sizeof(p), "b%d", i - 1);
        json_array_append_new(json_object_get(m, "boundaries"),
            json_pack("{s:s, s:s?}", "key", k, "parent", i > 0 ? p : NULL));
    }
    CHECK_INT(threatdragon_from_model(m, &td, &err), -1);
    CHECK_CONTAINS(err.msg, "deeper than 32 levels");
    json_decref(td);
    json_decref(m);

    /* an empty model still makes a valid, empty diagram */
    m = json_pack("{s:s}", "vpc_id", "vpc-empty");
    err.msg[0] = '\0';
    CHECK_INT(threatdragon_from_model(m, &td, &err), 0);
    CHECK_INT(json_array_size(json_object_get(json_array_get(json_object_get(json_object_get(td,
        "detail"), "diagrams"), 0), "cells")), 0);
    CHECK_STR(s(json_object_get(td, "summary"), "title"), "vpc-empty");
    json_decref(td);
    json_decref(m);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_threatdragon DATA_DIR\n");
        return 2;
    }
    test_convert(argv[1]);
    test_ids();
    test_failures();
    test_deep_nesting();
    TEST_END();
}
