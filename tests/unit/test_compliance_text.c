/*
 * test_compliance_text.c: summary sets built from TEXTS
 * (compliance_sums_new + compliance_sums_add_row in mapping/compliance.h)
 * against the sets compliance_sums_read builds from the same texts parsed
 * into jansson trees (jsonr, as the store reads them), differentially.
 *
 * Summaries: every recorded ASFF finding under argv[2]/testdata/aws
 * (automated-security-response simdata, cloud-custodian GetFindings pages)
 * through sh_finding_summarize and the compact dump the worker stages; the
 * hand-written ones of tests/data/compliance (argv[1]/../compliance); and
 * hand-made edge cases built here (escapes, \u surrogate pairs, reordered
 * and unknown keys, nested unknown values, whitespace, nulls, empty lists,
 * archived, suppressed, consolidated findings without control ids mapped
 * through the catalogue's security control ids, repeated keys).
 *
 * Covers: the compact dump of every recorded summary reads back to the
 * same bytes (the staged text is what the store writes); every *_sums
 * function (judge, links_models, failing_components, controls_of, select,
 * count) dumps byte-identically on the tree-built and the text-built set,
 * also for a selection used after its parent set is freed; ids and active
 * flags as the trees say; shape errors with the same message; texts that
 * are not JSON (truncated at every byte offset of real summaries, every
 * byte of real summaries replaced by each of a dozen troublesome bytes,
 * bad escapes, lone surrogates, \u0000, NUL bytes, too-big integers, real
 * overflow, depth limits) fail exactly when jansson's reader fails, name
 * the byte offset, never crash, leave the set as it was, and when both
 * accept, judge identically.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "mapping/compliance.h"
#include "providers/aws/securityhub.h"
#include "testutil.h"

static const char *datadir;

struct texts {
    char **v;
    size_t n, cap;
};

static void
texts_add(struct texts *t, const char *s)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = realloc(t->v, t->cap * sizeof(*t->v));
        if (t->v == NULL)
            abort(); /* a test's own allocation */
    }
    t->v[t->n++] = strdup(s);
}

static void
texts_free(struct texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    memset(t, 0, sizeof(*t));
}

static json_t *
load_path(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);

    if (doc == NULL)
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
    return doc;
}

static json_t *
load(const char *name)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/../compliance/%s", datadir, name);
    return load_path(path);
}

static char *
dump(const json_t *j)
{
    return j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* 1 when a and b dump to the same bytes, keys in their own order. */
static int
same_bytes(const json_t *a, const json_t *b)
{
    char *x = dump(a), *y = dump(b);
    int same = x != NULL && y != NULL && strcmp(x, y) == 0;

    if (!same)
        fprintf(stderr, "  text %.300s\n  tree %.300s\n", x ? x : "(null)", y ? y : "(null)");
    free(x);
    free(y);
    return same;
}

/* Summarises one ASFF finding into its staged text. */
static void
add_finding(struct texts *t, json_t *f, int *ret_n)
{
    struct err err = {0};
    json_t *s = NULL;
    char *text;

    if (sh_finding_summarize(f, &s, &err) < 0)
        return; /* the summariser's own tests judge those */
    text = jsonw_dumps(s, JSON_COMPACT);
    if (text != NULL) {
        texts_add(t, text);
        (*ret_n)++;
    }
    free(text);
    json_decref(s);
}

static void
recorded(const char *shared, struct texts *t)
{
    static const char *const pages[] = {
        "test_security_hub_instance/securityhub.GetFindings_1.json",
        "test_security_hub_bucket/securityhub.GetFindings_1.json",
        "test_security_hub_alb_findings_filter/securityhub.GetFindings_1.json",
        "test_security_hub_mode_action_insight/securityhub.GetFindings_1.json",
        "test_ecr_image_filter_security_finding/securityhub.GetFindings_1.json",
        "test_larger_batch/securityhub.GetFindings_1.json",
        "test_security_hub_rds/securityhub.GetFindings_1.json",
        "test_ecr_image_modify_policy/securityhub.GetFindings_2.json",
    };
    char dir[1024], path[1400];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir),
        "%s/testdata/aws/automated-security-response-on-aws/simtest/simdata", shared);
    d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    while (d != NULL && (de = readdir(d)) != NULL) {
        json_t *doc, *list, *f;
        size_t i;

        if (strstr(de->d_name, ".json") == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if ((doc = load_path(path)) == NULL)
            continue;
        list = json_object_get(json_object_get(doc, "detail"), "findings");
        if (list != NULL) {
            json_array_foreach(list, i, f)
                add_finding(t, f, &n);
        } else {
            add_finding(t, doc, &n);
        }
        json_decref(doc);
    }
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        json_t *doc, *f;
        size_t j;

        snprintf(path, sizeof(path), "%s/testdata/aws/cloud-custodian/placebo/%s", shared,
            pages[i]);
        if ((doc = load_path(path)) == NULL)
            continue;
        json_array_foreach(json_object_get(json_object_get(doc, "data"), "Findings"), j, f)
            add_finding(t, f, &n);
        json_decref(doc);
    }
    CHECK_MSG(n >= 30, "only %d recorded summaries", n);
}

/* The hand-written summaries of tests/data/compliance, as compact texts. */
static void
data_file(struct texts *t, const char *name)
{
    json_t *list = load(name), *s;
    size_t i;

    CHECK_MSG(list != NULL, "%s", name);
    json_array_foreach(list, i, s) {
        char *text = jsonw_dumps(s, JSON_COMPACT);

        texts_add(t, text);
        free(text);
    }
    json_decref(list);
}

#define BASE_KEYS                                                                                  \
    "\"account_id\":\"111111111111\",\"region\":\"us-east-1\",\"updated_at\":\"x\",\"title\":\"t\""

/* Edge cases: shapes the summariser makes, written every way JSON allows. */
static const char *const edge[] = {
    /* reordered keys, whitespace everywhere, unknown keys with nested values */
    " {\n\t\"severity\" : \"HIGH\" , \"record_state\":\"ACTIVE\",\"workflow\":\"NEW\","
    "\"status\":\"FAILED\", \"x\": {\"a\": [1, -2.5e3, true, false, null, {\"b\": []}]},"
    "\"resources\" : [ \"arn:aws:ec2:us-east-1:111111111111:security-group/sg-A\" ] ,"
    "\"control_ids\":{ \"cis-1.2\" : [ \"4.1\" ] },\"standard_ids\":[\"cis-1.2\"],"
    "\"security_control_id\":null,\"id\":\"e01\"," BASE_KEYS "} \r\n",
    /* escapes in values and keys: \u, surrogate pairs, \/ and the short ones */
    "{\"\\u0069d\":\"e\\u00e9\\ud83d\\ude00\\/\\\"\\\\\\b\\f\\n\\r\\t02\",\"resources\":"
    "[\"arn:aws:ec2:us-east-1:111111111111:instance\\/i-1\",\"AWS::::Account:111111111111\"],"
    "\"control_ids\":{\"cis-1.2\":[\"1.\\u0031\"]},\"standard_ids\":[\"cis\\u002d1.2\"],"
    "\"security_control_id\":null,\"status\":\"FAILED\",\"workflow\":\"NEW\","
    "\"record_state\":\"ACTIVE\",\"severity\":\"CRITICAL\"," BASE_KEYS "}",
    /* raw UTF-8 in a resource */
    "{\"id\":\"e03\",\"resources\":[\"arn:aws:s3:::b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"],"
    "\"control_ids\":{\"cis-1.2\":[\"2.2\"]},\"standard_ids\":[\"cis-1.2\"],"
    "\"security_control_id\":null,\"status\":\"FAILED\",\"workflow\":\"NOTIFIED\","
    "\"record_state\":\"ACTIVE\",\"severity\":null," BASE_KEYS "}",
    /* nulls and empty lists: not a control check */
    "{\"id\":\"e04\",\"resources\":[],\"control_ids\":{},\"standard_ids\":[],"
    "\"security_control_id\":null,\"status\":null,\"workflow\":\"NEW\","
    "\"record_state\":\"ACTIVE\",\"severity\":null," BASE_KEYS "}",
    /* archived */
    "{\"id\":\"e05\",\"resources\":[\"r1\"],\"control_ids\":{\"cis-1.2\":[\"1.1\"]},"
    "\"standard_ids\":[\"cis-1.2\"],\"security_control_id\":null,\"status\":\"FAILED\","
    "\"workflow\":\"NEW\",\"record_state\":\"ARCHIVED\",\"severity\":\"LOW\"," BASE_KEYS "}",
    /* suppressed FAILED */
    "{\"id\":\"e06\",\"resources\":[\"arn:aws:iam::111111111111:user/bob\"],"
    "\"control_ids\":{\"cis-1.2\":[\"1.1\",\"1.3\"]},\"standard_ids\":[\"cis-1.2\"],"
    "\"security_control_id\":null,\"status\":\"FAILED\",\"workflow\":\"SUPPRESSED\","
    "\"record_state\":\"ACTIVE\",\"severity\":\"MEDIUM\"," BASE_KEYS "}",
    /* consolidated, no control ids: mapped through security_control_ids */
    "{\"id\":\"e07\",\"resources\":[\"arn:aws:s3:::bucket-1\"],\"control_ids\":{},"
    "\"standard_ids\":[\"cis-3.0\"],\"security_control_id\":\"S3.1\",\"status\":\"FAILED\","
    "\"workflow\":\"NEW\",\"record_state\":\"ACTIVE\",\"severity\":\"HIGH\"," BASE_KEYS "}",
    "{\"id\":\"e08\",\"resources\":[\"arn:aws:iam::111111111111:root\"],\"control_ids\":"
    "{\"cis-3.0\":[]},\"standard_ids\":[\"cis-3.0\"],\"security_control_id\":\"IAM.4\","
    "\"status\":\"WARNING\",\"workflow\":\"NEW\",\"record_state\":\"ACTIVE\","
    "\"severity\":\"HIGH\"," BASE_KEYS "}",
    /* unmapped (a security control the catalogue lacks), a control only it names */
    "{\"id\":\"e09\",\"resources\":[\"x\"],\"control_ids\":{\"cis-1.2\":[\"9.99\"]},"
    "\"standard_ids\":[\"cis-1.2\",\"cis-3.0\"],\"security_control_id\":\"Zzz.1\","
    "\"status\":\"NOT_AVAILABLE\",\"workflow\":\"RESOLVED\",\"record_state\":\"ACTIVE\","
    "\"severity\":\"INFORMATIONAL\"," BASE_KEYS "}",
    /* repeated keys: the last value stands (jansson's rule) */
    "{\"id\":\"zz\",\"id\":\"e10\",\"status\":\"PASSED\",\"status\":\"FAILED\","
    "\"resources\":[\"a\"],\"resources\":[\"arn:aws:ec2:us-east-1:111111111111:"
    "security-group/sg-A\"],\"control_ids\":{\"cis-1.2\":[\"1.1\"],\"cis-1.2\":[\"4.1\"]},"
    "\"control_ids\":{\"cis-1.2\":[\"4.1\",\"1.13\"]},\"standard_ids\":[\"x\"],"
    "\"standard_ids\":[\"cis-1.2\"],\"security_control_id\":null,\"workflow\":\"NEW\","
    "\"record_state\":\"ACTIVE\",\"severity\":\"HIGH\"," BASE_KEYS "}",
    /* a non-string standard and resource, a control_ids value that is no list */
    "{\"id\":\"e11\",\"resources\":[1,\"r\",null,{}],\"control_ids\":{\"cis-1.2\":\"4.1\","
    "\"cis-3.0\":{\"a\":1}},\"standard_ids\":[5,\"cis-1.2\",\"cis-3.0\"],"
    "\"security_control_id\":\"S3.8\",\"status\":\"FAILED\",\"workflow\":\"NEW\","
    "\"record_state\":\"ACTIVE\",\"severity\":\"bogus\"," BASE_KEYS "}",
    /* a status that is none of the four */
    "{\"id\":\"e12\",\"resources\":[\"r\"],\"control_ids\":{\"cis-1.2\":[\"1.14\"]},"
    "\"standard_ids\":[\"cis-1.2\"],\"security_control_id\":null,\"status\":\"ODD\","
    "\"workflow\":\"NEW\",\"record_state\":\"ACTIVE\",\"severity\":\"LOW\",\"n\":"
    "9223372036854775807,\"m\":-9223372036854775808,\"r\":1e-400,\"z\":-0," BASE_KEYS "}",
};

/* The tree list and the text-built set of texts; *ret_set NULL when the
 * texts fail (then *ret_err has the message). */
static void
build(const struct texts *t, json_t **ret_list, struct compliance_sums **ret_set,
    struct err *ret_err)
{
    struct compliance_sums *set = NULL;
    json_t *list = json_array();
    struct err err = {0};

    CHECK(compliance_sums_new(&set, &err) == 0);
    for (size_t i = 0; i < t->n; i++) {
        json_error_t jerr;
        json_t *j = jsonr_loads(t->v[i], JSON_DECODE_ANY, &jerr);
        const char *id = NULL;
        int active = -1;

        CHECK_MSG(j != NULL, "text %zu: %s", i, jerr.text);
        json_array_append_new(list, j);
        if (set != NULL &&
            compliance_sums_add_row(set, t->v[i], strlen(t->v[i]), NULL, &id, &active, &err) < 0) {
            compliance_sums_free(set);
            set = NULL;
        }
        if (set != NULL && json_is_object(j)) {
            CHECK_STR(id, json_string_value(json_object_get(j, "id")));
            CHECK_INT(active, strcmp(json_string_value(json_object_get(j, "record_state")),
                                  "ACTIVE") == 0);
        }
    }
    *ret_list = list;
    *ret_set = set;
    *ret_err = err;
}

/* A catalogue over the test one that also holds every standard and control
 * the summaries name (every other one with its security control id). */
static json_t *
catalogue_for(json_t *base, json_t *list)
{
    json_t *cat = json_deep_copy(base), *s;
    size_t i;
    int n = 0;

    json_array_foreach(list, i, s) {
        const char *std;
        json_t *cids;

        json_object_foreach(json_object_get(s, "control_ids"), std, cids) {
            json_t *entry = json_object_get(cat, std), *c;
            size_t j;

            if (!json_is_array(cids) || strncmp(std, "cis-", 4) == 0)
                continue;
            if (entry == NULL) {
                entry = json_pack("{s:s, s:[]}", "standards_arn", std, "controls");
                json_object_set_new(cat, std, entry);
            }
            json_array_foreach(cids, j, c) {
                json_t *scid = json_object_get(s, "security_control_id");

                if (!json_is_string(c))
                    continue;
                json_array_append_new(json_object_get(entry, "controls"),
                    json_pack("{s:O, s:s, s:s, s:s, s:[O]}", "control_id", c, "title", "T",
                        "severity", n % 3 ? "LOW" : "none", "status",
                        n % 5 == 4 ? "DISABLED" : "ENABLED", "security_control_ids",
                        n % 2 && json_is_string(scid) ? scid : json_string("X.0")));
                n++;
            }
        }
    }
    return cat;
}

/* Models holding half the resources the summaries name, per account. */
static json_t *
models_for(json_t *base, json_t *list)
{
    json_t *models = json_deep_copy(base), *s;
    size_t i;

    json_array_foreach(list, i, s) {
        const char *acct = json_string_value(json_object_get(s, "account_id"));
        json_t *r, *m;
        size_t j;

        if (acct == NULL || i % 2 == 1)
            continue;
        m = json_pack("{s:s, s:s, s:s, s:[]}", "account_id", acct, "region", "us-east-1",
            "vpc_id", "vpc-t", "components");
        json_array_foreach(json_object_get(s, "resources"), j, r) {
            if (json_is_string(r))
                json_array_append_new(json_object_get(m, "components"),
                    json_pack("{s:O, s:s}", "key", r, "resource_id", "rid"));
        }
        json_array_append_new(models, m);
    }
    return models;
}

/* Every *_sums function on the tree-built and the text-built set. */
static void
check_same(const struct texts *t, json_t *base_cat, json_t *base_models, const char *acct)
{
    struct compliance_sums *tree = NULL, *text = NULL, *st = NULL, *sx = NULL;
    json_t *list = NULL, *cat = NULL, *models = NULL, *a = NULL, *b = NULL;
    json_t *ca = json_object(), *cb = json_object(), *only = json_object();
    struct err e1 = {0}, e2 = {0};
    const char *k;
    json_t *v;
    int n = 0, rt, rx;

    build(t, &list, &text, &e2);
    rt = compliance_sums_read(list, &tree, &e1);
    CHECK_MSG((rt == 0) == (text != NULL), "tree %d '%s', text '%s'", rt, e1.msg, e2.msg);
    if (rt < 0 || text == NULL) {
        if (rt < 0 && text == NULL)
            CHECK_STR(e2.msg, e1.msg);
        goto out;
    }
    cat = catalogue_for(base_cat, list);
    models = models_for(base_models, list);
    CHECK_INT((int)compliance_sums_count(text), (int)compliance_sums_count(tree));
    rt = compliance_judge_sums(cat, tree, &a, &e1);
    rx = compliance_judge_sums(cat, text, &b, &e2);
    CHECK_INT(rx, rt);
    if (rt == 0 && rx == 0)
        CHECK(same_bytes(b, a));
    else
        CHECK_STR(e2.msg, e1.msg);
    json_decref(a);
    json_decref(b);
    a = b = NULL;
    CHECK_INT(compliance_links_models_sums(text, &e2), compliance_links_models_sums(tree, &e1));
    rt = compliance_failing_components_sums(tree, models, acct, &a, &e1);
    rx = compliance_failing_components_sums(text, models, acct, &b, &e2);
    CHECK_INT(rx, rt);
    if (rt == 0 && rx == 0)
        CHECK(same_bytes(b, a));
    json_decref(a);
    json_decref(b);
    a = b = NULL;
    rt = compliance_controls_of_sums(cat, tree, ca, &e1);
    rx = compliance_controls_of_sums(cat, text, cb, &e2);
    CHECK_INT(rx, rt);
    CHECK(same_bytes(cb, ca));
    json_object_foreach(ca, k, v) {
        if (n++ % 2 == 0)
            json_object_set(only, k, v);
    }
    rt = compliance_select_sums(cat, tree, only, &st, &e1);
    rx = compliance_select_sums(cat, text, only, &sx, &e2);
    CHECK_INT(rx, rt);
    /* the selections outlive their parents */
    compliance_sums_free(text);
    text = NULL;
    if (rt == 0 && rx == 0) {
        CHECK_INT((int)compliance_sums_count(sx), (int)compliance_sums_count(st));
        rt = compliance_judge_sums(cat, st, &a, &e1);
        rx = compliance_judge_sums(cat, sx, &b, &e2);
        CHECK_INT(rx, rt);
        if (rt == 0 && rx == 0)
            CHECK(same_bytes(b, a));
        json_decref(a);
        json_decref(b);
        a = b = NULL;
        rt = compliance_failing_components_sums(st, models, acct, &a, &e1);
        rx = compliance_failing_components_sums(sx, models, acct, &b, &e2);
        CHECK_INT(rx, rt);
        if (rt == 0 && rx == 0)
            CHECK(same_bytes(b, a));
    }
out:
    compliance_sums_free(tree);
    compliance_sums_free(text);
    compliance_sums_free(st);
    compliance_sums_free(sx);
    json_decref(list);
    json_decref(cat);
    json_decref(models);
    json_decref(a);
    json_decref(b);
    json_decref(ca);
    json_decref(cb);
    json_decref(only);
}

/* The staged text is the compact dump the store writes: reading it into a
 * tree and dumping it again gives the same bytes. */
static void
test_round_trip(const struct texts *t)
{
    for (size_t i = 0; i < t->n; i++) {
        json_t *j = jsonr_loads(t->v[i], 0, NULL);
        char *again = j != NULL ? jsonw_dumps(j, JSON_COMPACT) : NULL;

        CHECK_MSG(again != NULL && strcmp(again, t->v[i]) == 0, "summary %zu", i);
        free(again);
        json_decref(j);
    }
}

static void
test_same(const struct texts *rec, json_t *cat, json_t *models)
{
    struct texts all = {0}, rev = {0}, one = {0}, edges = {0};

    for (size_t i = 0; i < rec->n; i++)
        texts_add(&all, rec->v[i]);
    data_file(&all, "summaries.json");
    data_file(&all, "link-summaries.json");
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        texts_add(&edges, edge[i]);
        texts_add(&all, edge[i]);
    }
    check_same(rec, cat, models, "111111111111");
    check_same(&edges, cat, models, "111111111111");
    check_same(&all, cat, models, "111111111111");
    check_same(&all, cat, models, "222222222222");
    for (size_t i = all.n; i > 0; i--)
        texts_add(&rev, all.v[i - 1]);
    check_same(&rev, cat, models, "111111111111");
    for (size_t i = 0; i < all.n; i++) {
        texts_add(&one, all.v[i]);
        check_same(&one, cat, models, "111111111111");
        texts_free(&one);
    }
    one.n = 0;
    check_same(&one, cat, models, "111111111111"); /* none */
    texts_free(&all);
    texts_free(&rev);
    texts_free(&edges);
}

/* One text through both readers: accepted by both or refused by both;
 * when accepted, the same judgement of it with a good summary. */
static void
parity(const char *text, size_t len, const char *good, json_t *cat, json_t *models,
    const char *what, size_t at)
{
    struct compliance_sums *set = NULL, *tree = NULL;
    struct err err = {0};
    json_error_t jerr;
    json_t *j = jsonr_loadb(text, len, JSON_DECODE_ANY, &jerr), *list = json_array();
    int tree_ok, text_ok;

    json_array_append_new(list, jsonr_loads(good, 0, NULL));
    if (j != NULL)
        json_array_append_new(list, j);
    tree_ok = j != NULL && compliance_sums_read(list, &tree, &err) == 0;
    if (compliance_sums_new(&set, &err) < 0 ||
        compliance_sums_add_row(set, good, strlen(good), NULL, NULL, NULL, &err) < 0) {
        CHECK(0);
        goto out;
    }
    text_ok = compliance_sums_add_row(set, text, len, NULL, NULL, NULL, &err) == 0;
    CHECK_MSG(text_ok == tree_ok, "%s at %zu: text %d tree %d (%s): %.*s", what, at, text_ok,
        tree_ok, err.msg, (int)len, text);
    if (!text_ok) {
        CHECK_MSG(strstr(err.msg, "compliance: summary 2 ") == err.msg, "%s", err.msg);
        CHECK_INT((int)compliance_sums_count(set), 1);
    }
    if (text_ok && tree_ok) {
        json_t *a = NULL, *b = NULL;
        struct err e1 = {0}, e2 = {0};
        int rt = compliance_judge_sums(cat, tree, &a, &e1);
        int rx = compliance_judge_sums(cat, set, &b, &e2);

        CHECK_INT(rx, rt);
        if (rt == 0 && rx == 0)
            CHECK_MSG(same_bytes(b, a), "%s at %zu", what, at);
        json_decref(a);
        json_decref(b);
        a = b = NULL;
        rt = compliance_failing_components_sums(tree, models, "111111111111", &a, &e1);
        rx = compliance_failing_components_sums(set, models, "111111111111", &b, &e2);
        CHECK_INT(rx, rt);
        if (rt == 0 && rx == 0)
            CHECK(same_bytes(b, a));
        json_decref(a);
        json_decref(b);
    }
out:
    compliance_sums_free(set);
    compliance_sums_free(tree);
    json_decref(list);
}

static void
test_malformed(const struct texts *rec, json_t *cat, json_t *models)
{
    static const char subst[] = {'"', '\\', '{', '}', '[', ']', ',', ':', 'x', '0', ' ', 'n',
        '\x01', '\x80', '\xff'};
    static const char *const bad[] = {
        "", " ", "{", "}", "[]", "null", "\"s\"", "{\"id\":}", "{\"id\" \"x\"}",
        "{\"id\":\"a\",}", "{,}", "{\"id\":\"a\"", "{\"id\":\"a\"} x", "{\"id\":\"\\x\"}",
        "{\"id\":\"\\u12\"}", "{\"id\":\"\\ud800\"}", "{\"id\":\"\\udc00\"}",
        "{\"id\":\"\\ud800\\u0041\"}", "{\"id\":\"\\u0000\"}", "{\"\\u0000\":1}",
        "{\"id\":\"a\tb\"}", "{\"id\":\"\xc0\xaf\"}", "{\"id\":\"\xed\xa0\x80\"}",
        "{\"id\":\"\xf4\x90\x80\x80\"}", "{\"id\":\"\xe2\x82\"}", "{\"x\":01}", "{\"x\":1.}",
        "{\"x\":.5}", "{\"x\":-}", "{\"x\":1e}", "{\"x\":+1}", "{\"x\":9223372036854775808}",
        "{\"x\":-9223372036854775809}", "{\"x\":1e400}", "{\"x\":-1e400}", "{\"x\":tru}",
        "{\"x\":nul}", "{\"x\":[1,]}", "{\"x\":[1 2]}", "{\"x\":{\"a\" 1}}", "{\"x\":[}",
        "{\"x\":{]}", "{\"resources\":[\"a\",]}", "{\"control_ids\":{\"a\":[1,]}}",
        "{\"control_ids\":{1:[]}}", "{\"standard_ids\":[\"a\"}",
        /* wrong types: JSON, but not summaries */
        "{\"id\":1,\"account_id\":\"1\"}", "{\"id\":\"w1\",\"resources\":{}}",
    };
    struct err err = {0};
    struct compliance_sums *set = NULL;
    const char *good;
    char *buf;
    size_t len;

    if (rec->n == 0)
        return;
    good = rec->v[0];
    /* truncated at every byte offset of real summaries */
    for (size_t k = 0; k < rec->n && k < 3; k++) {
        const char *t = rec->v[k * (rec->n / 3)];

        len = strlen(t);
        for (size_t cut = 0; cut < len; cut++)
            parity(t, cut, good, cat, models, "cut", cut);
    }
    /* every byte replaced by each troublesome one */
    for (size_t k = 0; k < rec->n && k < 2; k++) {
        const char *t = rec->v[k == 0 ? 0 : rec->n - 1];

        len = strlen(t);
        buf = malloc(len + 1);
        for (size_t at = 0; buf != NULL && at < len; at++) {
            for (size_t c = 0; c < sizeof(subst); c++) {
                memcpy(buf, t, len + 1);
                buf[at] = subst[c];
                parity(buf, len, good, cat, models, "byte", at);
            }
        }
        free(buf);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parity(bad[i], strlen(bad[i]), good, cat, models, bad[i], i);
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        parity(edge[i], strlen(edge[i]), good, cat, models, "edge", i);
    /* a NUL byte inside len is refused (a C-string reader stops there) */
    CHECK(compliance_sums_new(&set, &err) == 0);
    len = strlen(good);
    buf = malloc(len + 2);
    if (set != NULL && buf != NULL) {
        memcpy(buf, good, len);
        buf[len] = '\0';
        buf[len + 1] = ' ';
        CHECK(compliance_sums_add_row(set, buf, len + 2, NULL, NULL, NULL, &err) < 0);
        CHECK_CONTAINS(err.msg, "NUL byte");
        CHECK_CONTAINS(err.msg, "at byte ");
        CHECK(compliance_sums_add_row(set, buf, len, NULL, NULL, NULL, &err) == 0);
        CHECK_INT((int)compliance_sums_count(set), 1);
        /* the error names the summary's position and the byte */
        CHECK(compliance_sums_add_row(set, "{\"id\":\"a\",", 10, NULL, NULL, NULL, &err) < 0);
        CHECK_STR(err.msg, "compliance: summary 2 is not JSON: unexpected end of text at byte "
                           "10 of 10");
        CHECK(compliance_sums_add_row(set, "{\"id\":\"w\"}", 10, NULL, NULL, NULL, &err) < 0);
        CHECK_CONTAINS(err.msg, "summary 2 ('w') is not a finding summary");
        CHECK(err.kind == ERR_INTERNAL);
    }
    free(buf);
    compliance_sums_free(set);
    set = NULL;
    CHECK(compliance_sums_add_row(NULL, good, len, NULL, NULL, NULL, &err) < 0);
    CHECK(compliance_sums_new(&set, &err) == 0);
    CHECK(compliance_sums_add_row(set, NULL, 0, NULL, NULL, NULL, &err) < 0);
    compliance_sums_free(set);
}

/* Nesting in an unknown key around jansson's 2048-level limit. */
static void
test_depth(const char *good, json_t *cat, json_t *models)
{
    static const int depths[] = {2045, 2046, 2047, 2048};

    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        for (int scalar = 0; scalar < 2; scalar++) {
            size_t glen = strlen(good), n = (size_t)depths[d];
            char *buf = malloc(glen + 2 * n + 16), *p;

            if (buf == NULL)
                continue;
            /* {"x":[[...]] , rest of good} */
            p = buf;
            memcpy(p, "{\"x\":", 5);
            p += 5;
            memset(p, '[', n);
            p += n;
            if (scalar)
                *p++ = '1';
            memset(p, ']', n);
            p += n;
            *p++ = ',';
            memcpy(p, good + 1, glen - 1);
            p += glen - 1;
            parity(buf, (size_t)(p - buf), good, cat, models, "depth", n * 2 + (size_t)scalar);
            free(buf);
        }
    }
}

int
main(int argc, char **argv)
{
    struct texts rec = {0};
    json_t *cat, *models;

    if (argc < 3) {
        fprintf(stderr, "usage: %s DATADIR SHAREDDIR\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    cat = load("catalogue.json");
    models = load("models.json");
    CHECK(cat != NULL && models != NULL);
    recorded(argv[2], &rec);
    if (cat != NULL && models != NULL) {
        test_round_trip(&rec);
        test_same(&rec, cat, models);
        test_malformed(&rec, cat, models);
        if (rec.n > 0)
            test_depth(rec.v[0], cat, models);
    }
    texts_free(&rec);
    json_decref(cat);
    json_decref(models);
    TEST_END();
}
