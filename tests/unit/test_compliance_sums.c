/*
 * test_compliance_sums.c: the summary sets of mapping/compliance.h
 * (compliance_sums_read and the *_sums functions) against the json
 * functions they stand in for, over the hand-written documents of
 * tests/data/compliance/ (read through argv[1]/../compliance) and small
 * summaries built here.
 *
 * Covers: judge, links_models, failing_components, controls_of and select
 * over a set give byte-identical dumps (key order included) to their json
 * counterparts; one set serves every call; a selected set outlives the set
 * it came from; malformed summaries give the same errors through a set as
 * through the json functions (shape, non-string control ids, a non-list,
 * a NULL set), and the lazy json readers keep their list-order errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mapping/compliance.h"
#include "testutil.h"

static const char *datadir;

static json_t *
load(const char *name)
{
    char path[1024];
    json_error_t jerr;
    json_t *doc;

    snprintf(path, sizeof(path), "%s/../compliance/%s", datadir, name);
    doc = json_load_file(path, 0, &jerr);
    if (doc == NULL)
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
    return doc;
}

/* 1 when a and b dump to the same bytes, keys in their own order. */
static int
same_bytes(json_t *a, json_t *b)
{
    char *x = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *y = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    int same = x != NULL && y != NULL && strcmp(x, y) == 0;

    if (!same)
        fprintf(stderr, "  got  %s\n  want %s\n", x ? x : "(null)", y ? y : "(null)");
    free(x);
    free(y);
    return same;
}

/* Every *_sums call on one set against the json call on its array. */
static void
check_same(json_t *cat, json_t *sums, json_t *models, const char *acct)
{
    struct compliance_sums *set = NULL, *sub = NULL;
    json_t *j1 = NULL, *j2 = NULL, *f1 = NULL, *f2 = NULL, *c1 = json_object();
    json_t *c2 = json_object(), *only = NULL, *sel = NULL, *js = NULL, *jsel = NULL;
    struct err err = {0};

    CHECK_MSG(compliance_sums_read(sums, &set, &err) == 0, "%s", err.msg);
    if (set == NULL)
        goto out;
    CHECK_INT((int)compliance_sums_count(set), (int)json_array_size(sums));
    CHECK_MSG(compliance_judge(cat, sums, &j1, &err) == 0, "%s", err.msg);
    CHECK_MSG(compliance_judge_sums(cat, set, &j2, &err) == 0, "%s", err.msg);
    CHECK(same_bytes(j2, j1));
    CHECK_INT(compliance_links_models_sums(set, &err), compliance_links_models(sums, &err));
    CHECK_MSG(compliance_failing_components(sums, models, acct, &f1, &err) == 0, "%s", err.msg);
    CHECK_MSG(compliance_failing_components_sums(set, models, acct, &f2, &err) == 0, "%s",
        err.msg);
    CHECK(same_bytes(f2, f1));
    CHECK(compliance_controls_of(cat, sums, c1, &err) == 0);
    CHECK(compliance_controls_of_sums(cat, set, c2, &err) == 0);
    CHECK(same_bytes(c2, c1));
    /* select: every other control the summaries are judged under */
    only = json_object();
    {
        const char *k;
        json_t *v;
        int n = 0;

        json_object_foreach(c1, k, v) {
            if (n++ % 2 == 0)
                json_object_set(only, k, v);
        }
    }
    CHECK(compliance_select(cat, sums, only, &sel, &err) == 0);
    CHECK(compliance_select_sums(cat, set, only, &sub, &err) == 0);
    compliance_sums_free(set); /* the selection stands on its own */
    set = NULL;
    if (sel == NULL || sub == NULL)
        goto out;
    CHECK_INT((int)compliance_sums_count(sub), (int)json_array_size(sel));
    CHECK(compliance_judge(cat, sel, &jsel, &err) == 0);
    CHECK(compliance_judge_sums(cat, sub, &js, &err) == 0);
    CHECK(same_bytes(js, jsel));
    json_decref(f1);
    json_decref(f2);
    f1 = f2 = NULL;
    CHECK(compliance_failing_components(sel, models, acct, &f1, &err) == 0);
    CHECK(compliance_failing_components_sums(sub, models, acct, &f2, &err) == 0);
    CHECK(same_bytes(f2, f1));
    CHECK_INT(compliance_links_models_sums(sub, &err), compliance_links_models(sel, &err));
out:
    compliance_sums_free(set);
    compliance_sums_free(sub);
    json_decref(j1);
    json_decref(j2);
    json_decref(f1);
    json_decref(f2);
    json_decref(c1);
    json_decref(c2);
    json_decref(only);
    json_decref(sel);
    json_decref(js);
    json_decref(jsel);
}

static void
test_same(void)
{
    json_t *cat = load("catalogue.json"), *sums = load("summaries.json");
    json_t *lsums = load("link-summaries.json"), *models = load("models.json");
    json_t *none = json_array(), *rev = json_array();
    size_t i;

    CHECK(cat != NULL && sums != NULL && lsums != NULL && models != NULL);
    if (cat == NULL || sums == NULL || lsums == NULL || models == NULL)
        goto out;
    check_same(cat, sums, models, "111111111111");
    check_same(cat, lsums, models, "111111111111");
    check_same(cat, lsums, models, "222222222222");
    check_same(cat, none, models, "111111111111");
    for (i = json_array_size(lsums); i > 0; i--)
        json_array_append(rev, json_array_get(lsums, i - 1));
    check_same(cat, rev, models, "111111111111");
out:
    json_decref(cat);
    json_decref(sums);
    json_decref(lsums);
    json_decref(models);
    json_decref(none);
    json_decref(rev);
}

/* A summary of the summariser's shape; the caller changes it. */
static json_t *
summary(const char *id, const char *status)
{
    return json_pack("{s:s, s:[s], s:{s:[s]}, s:[s], s:s, s:s, s:n, s:s, s:s, s:s, s:s}", "id",
        id, "resources", "arn:aws:ec2:us-east-1:111111111111:instance/i-1", "control_ids",
        "cis-1.2", "4.1", "standard_ids", "cis-1.2", "account_id", "111111111111", "region",
        "us-east-1", "security_control_id", "status", status, "workflow", "NEW", "record_state",
        "ACTIVE", "severity", "HIGH");
}

static void
test_bad(void)
{
    json_t *cat = load("catalogue.json"), *models = load("models.json"), *list = json_array();
    json_t *out = NULL, *bad;
    struct compliance_sums *set = NULL;
    struct err e1 = {0}, e2 = {0};

    CHECK(cat != NULL && models != NULL);
    /* not a list */
    CHECK(compliance_sums_read(cat, &set, &e1) < 0);
    CHECK(compliance_judge(cat, cat, &out, &e2) < 0);
    CHECK_STR(e1.msg, e2.msg);
    CHECK(set == NULL && out == NULL);
    /* a summary without a workflow: the same message, naming it */
    json_array_append_new(list, summary("ok-1", "FAILED"));
    bad = summary("bad-2", "PASSED");
    json_object_del(bad, "workflow");
    json_array_append_new(list, bad);
    CHECK(compliance_sums_read(list, &set, &e1) < 0);
    CHECK(compliance_judge(cat, list, &out, &e2) < 0);
    CHECK_STR(e1.msg, e2.msg);
    CHECK_CONTAINS(e1.msg, "summary 2 ('bad-2') is not a finding summary");
    CHECK(set == NULL && out == NULL);
    /* links_models stops at the first that counts, before the bad one */
    CHECK_INT(compliance_links_models(list, &e1), 1);
    CHECK(compliance_failing_components(list, models, "111111111111", &out, &e2) < 0);
    CHECK_CONTAINS(e2.msg, "summary 2 ('bad-2')");
    /* severity must be present (string or null) */
    json_object_set_new(bad, "workflow", json_string("NEW"));
    json_object_del(bad, "severity");
    CHECK(compliance_sums_read(list, &set, &e1) < 0);
    CHECK_CONTAINS(e1.msg, "summary 2 ('bad-2')");
    json_object_set_new(bad, "severity", json_null());
    /* a non-string control id: read, then refused where it is used */
    json_object_set_new(json_object_get(bad, "control_ids"), "cis-1.2",
        json_pack("[s, i]", "4.1", 7));
    json_object_set_new(bad, "status", json_string("FAILED"));
    CHECK_MSG(compliance_sums_read(list, &set, &e1) == 0, "%s", e1.msg);
    if (set != NULL) {
        CHECK(compliance_judge_sums(cat, set, &out, &e1) < 0);
        CHECK(compliance_judge(cat, list, &out, &e2) < 0);
        CHECK_STR(e1.msg, e2.msg);
        CHECK_CONTAINS(e1.msg, "'bad-2': control_ids of cis-1.2 holds a non-string");
        CHECK(compliance_failing_components_sums(set, models, "111111111111", &out, &e1) < 0);
        CHECK(compliance_failing_components(list, models, "111111111111", &out, &e2) < 0);
        CHECK_STR(e1.msg, e2.msg);
        CHECK_CONTAINS(e1.msg, "'bad-2': bad control ids");
        {
            json_t *add = json_object(), *only = json_object(), *sel = NULL;
            struct compliance_sums *sub = NULL;

            CHECK(compliance_controls_of_sums(cat, set, add, &e1) < 0);
            CHECK(compliance_controls_of(cat, list, add, &e2) < 0);
            CHECK_STR(e1.msg, e2.msg);
            json_object_set_new(only, "cis-1.2\t9.9", json_true());
            CHECK(compliance_select_sums(cat, set, only, &sub, &e1) < 0);
            CHECK(compliance_select(cat, list, only, &sel, &e2) < 0);
            CHECK_STR(e1.msg, e2.msg);
            CHECK(sub == NULL && sel == NULL);
            /* wrong shapes of the other arguments */
            CHECK(compliance_select_sums(cat, set, NULL, &sub, &e1) < 0);
            CHECK_CONTAINS(e1.msg, "only an object");
            CHECK(compliance_controls_of_sums(cat, set, NULL, &e1) < 0);
            CHECK(compliance_select_sums(list, set, only, &sub, &e1) < 0);
            CHECK_STR(e1.msg, "compliance: catalogue is not an object");
            json_decref(add);
            json_decref(only);
        }
        CHECK(compliance_judge_sums(list, set, &out, &e1) < 0);
        CHECK_STR(e1.msg, "compliance: catalogue is not an object");
        CHECK(compliance_failing_components_sums(set, NULL, "111111111111", &out, &e1) < 0);
        CHECK_CONTAINS(e1.msg, "models must be lists");
        CHECK(compliance_failing_components_sums(set, models, NULL, &out, &e1) < 0);
        CHECK(out == NULL);
    }
    compliance_sums_free(set);
    /* a NULL set is refused, not read */
    CHECK(compliance_judge_sums(cat, NULL, &out, &e1) < 0);
    CHECK_STR(e1.msg, "compliance: summaries is not a list");
    CHECK_INT(compliance_links_models_sums(NULL, &e1), -1);
    CHECK(compliance_failing_components_sums(NULL, models, "1", &out, &e1) < 0);
    CHECK(out == NULL);
    CHECK_INT((int)compliance_sums_count(NULL), 0);
    compliance_sums_free(NULL);
    json_decref(cat);
    json_decref(models);
    json_decref(list);
}

/* Duplicate standard ids, strings the catalogue lacks, suppressed,
 * archived and unrated findings, resources repeated and out of order. */
static void
test_edges(void)
{
    json_t *cat = load("catalogue.json"), *models = load("models.json"), *list = json_array();
    json_t *s;

    s = summary("e1", "FAILED");
    json_object_set_new(s, "standard_ids", json_pack("[s, s, i, s]", "cis-1.2", "cis-1.2", 3,
                                               "cis-9.9"));
    json_object_set_new(json_object_get(s, "control_ids"), "cis-9.9", json_pack("[s]", "1.1"));
    json_object_set_new(s, "resources", json_pack("[s, s, i, s]", "z-last", "a-first", 5,
                                            "z-last"));
    json_array_append_new(list, s);
    s = summary("e2", "FAILED");
    json_object_set_new(s, "workflow", json_string("SUPPRESSED"));
    json_array_append_new(list, s);
    s = summary("e3", "FAILED");
    json_object_set_new(s, "record_state", json_string("ARCHIVED"));
    json_array_append_new(list, s);
    s = summary("e4", "WARNING");
    json_object_set_new(s, "severity", json_null());
    json_object_set_new(s, "control_ids", json_object());
    json_object_set_new(s, "security_control_id", json_string("EC2.2"));
    json_array_append_new(list, s);
    s = summary("e5", "SOMETHING_NEW");
    json_object_set_new(json_object_get(s, "control_ids"), "cis-1.2", json_pack("[s, s]",
                                                                 "1.01", "1.1"));
    json_object_set_new(s, "resources", json_pack("[s]", "AWS::::Account:111111111111"));
    json_array_append_new(list, s);
    if (cat != NULL && models != NULL)
        check_same(cat, list, models, "111111111111");
    json_decref(cat);
    json_decref(models);
    json_decref(list);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATADIR [SHAREDDIR]\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    test_same();
    test_bad();
    test_edges();
    TEST_END();
}
