/*
 * test_compliance.c: the CIS judge, the component linker and the
 * incremental merge (mapping/compliance.h) over hand-written catalogue,
 * summaries and models in tests/data/compliance/.
 *
 * Covers: verdict precedence (FAILED > WARNING > NOT_AVAILABLE > PASSED),
 * suppressed failures listed but not counted, suppressed-only controls,
 * archived findings ignored, NO_DATA, DISABLED controls, findings without a
 * compliance status, controls only findings name, consolidated findings
 * mapped through control_ids and through the catalogue's security control
 * ids (one control implemented by two security controls), unmapped counts,
 * standards outside the catalogue, severity sources, totals; links by key,
 * resource id, malformed-ARN tail, bare id, account resources and the
 * account fallback, account isolation, de-duplication and ordering; merge
 * replacing, dropping archived and sorting; malformed inputs reported;
 * compliance_links_models, and the failing-components index restricted to
 * the ids failing findings name giving the same links; the controls of
 * summaries and the selection an incremental re-judge works on.
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

    snprintf(path, sizeof(path), "%s/%s", datadir, name);
    doc = json_load_file(path, 0, &jerr);
    if (doc == NULL)
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
    return doc;
}

#define SGET(o, k) json_string_value(json_object_get((o), (k)))
#define IGET(o, k) json_integer_value(json_object_get((o), (k)))

static json_t *
control(json_t *verdicts, const char *std, const char *cid)
{
    json_t *controls = json_object_get(json_object_get(verdicts, std), "controls"), *c;
    size_t i;

    json_array_foreach(controls, i, c) {
        if (strcmp(SGET(c, "control_id"), cid) == 0)
            return c;
    }
    return NULL;
}

static char *
dump(json_t *v)
{
    return v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

#define CHECK_JSON(v, want)                                                                        \
    do {                                                                                           \
        char *s_ = dump(v);                                                                        \
        CHECK_STR(s_, want);                                                                       \
        free(s_);                                                                                  \
    } while (0)

static void
check_control(json_t *v, const char *std, const char *cid, const char *status, const char *sev,
    long findings, long suppressed)
{
    json_t *c = control(v, std, cid);

    CHECK_MSG(c != NULL, "%s %s missing", std, cid);
    if (c == NULL)
        return;
    CHECK_MSG(strcmp(SGET(c, "status"), status) == 0, "%s %s: %s, want %s", std, cid,
        SGET(c, "status"), status);
    if (sev == NULL)
        CHECK(json_is_null(json_object_get(c, "severity")));
    else
        CHECK_STR(SGET(c, "severity"), sev);
    CHECK_MSG(IGET(c, "findings") == findings, "%s %s: %lld findings, want %ld", std, cid,
        (long long)IGET(c, "findings"), findings);
    CHECK_INT(IGET(c, "suppressed"), suppressed);
}

static void
test_judge(void)
{
    json_t *cat = load("catalogue.json"), *sums = load("summaries.json"), *v = NULL, *c;
    struct err err = {0};
    size_t i;

    CHECK(cat != NULL && sums != NULL);
    CHECK_MSG(compliance_judge(cat, sums, &v, &err) == 0, "%s", err.msg);
    if (v == NULL)
        goto out;

    /* one FAILED beats a PASSED; the suppressed failure is listed apart */
    check_control(v, "cis-1.2", "4.1", "NON-COMPLIANT", "HIGH", 3, 1);
    c = control(v, "cis-1.2", "4.1");
    CHECK_JSON(json_object_get(c, "failed_resources"),
        "[\"arn:aws:ec2:us-east-1:111111111111:security-group/sg-A\"]");
    CHECK_JSON(json_object_get(c, "suppressed_resources"),
        "[\"arn:aws:ec2:us-east-1:111111111111:security-group/sg-C\"]");
    CHECK_INT(IGET(c, "failed"), 1);
    CHECK_INT(IGET(c, "passed"), 1);
    CHECK_STR(SGET(c, "title"), "Ensure no security groups allow ingress from 0.0.0.0/0 to port 22");
    /* only a suppressed failure: accepted risk, compliant */
    check_control(v, "cis-1.2", "4.3", "COMPLIANT", "HIGH", 1, 1);
    CHECK_JSON(json_object_get(control(v, "cis-1.2", "4.3"), "failed_resources"), "[]");
    /* the archived failure is gone */
    check_control(v, "cis-1.2", "2.9", "COMPLIANT", "MEDIUM", 1, 0);
    check_control(v, "cis-1.2", "1.3", "WARNING", "MEDIUM", 2, 0);
    check_control(v, "cis-1.2", "2.2", "NOT_AVAILABLE", "MEDIUM", 2, 0);
    check_control(v, "cis-1.2", "1.13", "DISABLED", "CRITICAL", 1, 0);
    check_control(v, "cis-1.2", "1.14", "NO_DATA", "CRITICAL", 0, 0);
    /* a finding with no compliance status decides nothing */
    check_control(v, "cis-1.2", "1.22", "NO_DATA", "HIGH", 1, 0);
    /* consolidated CloudWatch.1 counts for both of its v1.2.0 requirements */
    check_control(v, "cis-1.2", "1.1", "NON-COMPLIANT", "LOW", 1, 0);
    check_control(v, "cis-1.2", "3.3", "NON-COMPLIANT", "LOW", 1, 0);
    /* not in the catalogue: reported, severity from its failed finding */
    check_control(v, "cis-1.2", "9.9", "NON-COMPLIANT", "MEDIUM", 2, 0);
    CHECK(json_is_null(json_object_get(control(v, "cis-1.2", "9.9"), "title")));

    /* catalogue order, then the extra control */
    {
        static const char *const order[] = {"1.1", "1.3", "1.13", "1.14", "1.22", "2.2", "2.9",
            "3.3", "4.1", "4.3", "9.9"};
        json_t *controls = json_object_get(json_object_get(v, "cis-1.2"), "controls");
        CHECK_INT(json_array_size(controls), 11);
        json_array_foreach(controls, i, c) {
            if (i < 11)
                CHECK_STR(SGET(c, "control_id"), order[i]);
        }
    }
    CHECK_JSON(json_object_get(json_object_get(v, "cis-1.2"), "totals"),
        "{\"NON-COMPLIANT\":4,\"WARNING\":1,\"NOT_AVAILABLE\":1,\"COMPLIANT\":2,"
        "\"NO_DATA\":2,\"DISABLED\":1}");
    CHECK_INT(IGET(json_object_get(v, "cis-1.2"), "unmapped"), 0);

    /* cis-3.0 through security control ids */
    check_control(v, "cis-3.0", "5.2", "NON-COMPLIANT", "HIGH", 1, 0);
    CHECK_JSON(json_object_get(control(v, "cis-3.0", "5.2"), "failed_resources"),
        "[\"arn:aws:ec2:us-east-1:111111111111:security-group/sg-A\"]");
    check_control(v, "cis-3.0", "2.1.4", "WARNING", "MEDIUM", 2, 0);
    check_control(v, "cis-3.0", "1.4", "NO_DATA", "CRITICAL", 0, 0);
    /* CloudWatch.1 is in no v3.0.0 control of this catalogue */
    CHECK_INT(IGET(json_object_get(v, "cis-3.0"), "unmapped"), 1);
    /* standards outside the catalogue are not judged */
    CHECK(json_object_get(v, "cis-1.4") == NULL);
    CHECK_INT(json_object_size(v), 2);

    /* equal input, equal output whatever the order of the findings */
    {
        json_t *rev = json_array(), *v2 = NULL;
        char *a, *b;
        for (i = json_array_size(sums); i > 0; i--)
            json_array_append(rev, json_array_get(sums, i - 1));
        CHECK(compliance_judge(cat, rev, &v2, &err) == 0);
        a = json_dumps(v, JSON_COMPACT);
        b = json_dumps(v2, JSON_COMPACT);
        CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
        free(a);
        free(b);
        json_decref(v2);
        json_decref(rev);
    }

    /* empty summaries: everything NO_DATA except the disabled control */
    {
        json_t *none = json_array(), *v3 = NULL;
        CHECK(compliance_judge(cat, none, &v3, &err) == 0);
        check_control(v3, "cis-1.2", "4.1", "NO_DATA", "HIGH", 0, 0);
        check_control(v3, "cis-1.2", "1.13", "DISABLED", "CRITICAL", 0, 0);
        json_decref(v3);
        json_decref(none);
    }
out:
    json_decref(v);
    json_decref(cat);
    json_decref(sums);
}

static void
test_judge_bad(void)
{
    json_t *cat = load("catalogue.json"), *sums = load("summaries.json"), *v = NULL, *bad;
    struct err err = {0};

    bad = json_array();
    CHECK(compliance_judge(bad, sums, &v, &err) < 0);
    CHECK_CONTAINS(err.msg, "catalogue is not an object");
    CHECK(compliance_judge(cat, cat, &v, &err) < 0);
    CHECK_CONTAINS(err.msg, "summaries is not a list");
    json_decref(bad);

    bad = json_deep_copy(sums);
    json_object_del(json_array_get(bad, 2), "workflow");
    CHECK(compliance_judge(cat, bad, &v, &err) < 0);
    CHECK_INT(err.kind, ERR_INTERNAL);
    CHECK_CONTAINS(err.msg, "summary 3 ('f03') is not a finding summary");
    json_decref(bad);

    bad = json_deep_copy(sums);
    json_object_set_new(json_array_get(bad, 0), "control_ids", json_pack("{s:[i]}", "cis-1.2", 4));
    CHECK(compliance_judge(cat, bad, &v, &err) < 0);
    CHECK_CONTAINS(err.msg, "summary 'f01': control_ids of cis-1.2 holds a non-string");
    json_decref(bad);

    bad = json_deep_copy(cat);
    json_object_del(json_array_get(json_object_get(json_object_get(bad, "cis-3.0"), "controls"), 1),
        "status");
    CHECK(compliance_judge(bad, sums, &v, &err) < 0);
    CHECK_CONTAINS(err.msg, "catalogue 'cis-3.0' control 2 lacks control_id or status");
    json_decref(bad);

    bad = json_pack("{s:{}}", "cis-1.2");
    CHECK(compliance_judge(bad, sums, &v, &err) < 0);
    CHECK_CONTAINS(err.msg, "catalogue entry 'cis-1.2' has no controls list");
    json_decref(bad);
    CHECK(v == NULL);
    json_decref(cat);
    json_decref(sums);
}

static void
test_link(void)
{
    json_t *sums = load("link-summaries.json"), *models = load("models.json"), *l = NULL, *m;
    struct err err = {0};

    CHECK(sums != NULL && models != NULL);
    CHECK_MSG(compliance_link(sums, models, &l, &err) == 0, "%s", err.msg);
    if (l == NULL)
        goto out;
    m = json_array_get(json_object_get(l, "models"), 0);
    CHECK_STR(SGET(m, "vpc_id"), "vpc-1");
    CHECK_STR(SGET(m, "account_id"), "111111111111");
    /* key match, consolidated finding with two requirements, same component
     * named twice by one finding (ARN and bare id) listed once, archived f06 absent */
    CHECK_JSON(json_object_get(json_object_get(m, "components"),
                   "arn:aws:ec2:us-east-1:111111111111:security-group/sg-A"),
        "[{\"finding_id\":\"f08\",\"standard\":\"cis-1.2\",\"control_id\":\"1.1\","
        "\"security_control_id\":\"CloudWatch.1\",\"status\":\"FAILED\",\"workflow\":"
        "\"SUPPRESSED\",\"severity\":\"LOW\"},"
        "{\"finding_id\":\"f08\",\"standard\":\"cis-1.2\",\"control_id\":\"3.3\","
        "\"security_control_id\":\"CloudWatch.1\",\"status\":\"FAILED\",\"workflow\":"
        "\"SUPPRESSED\",\"severity\":\"LOW\"},"
        "{\"finding_id\":\"f01\",\"standard\":\"cis-1.2\",\"control_id\":\"4.1\","
        "\"security_control_id\":null,\"status\":\"FAILED\",\"workflow\":\"NEW\",\"severity\":"
        "\"HIGH\"},"
        "{\"finding_id\":\"f09\",\"standard\":\"cis-3.0\",\"control_id\":null,"
        "\"security_control_id\":\"EC2.53\",\"status\":\"FAILED\",\"workflow\":\"NEW\","
        "\"severity\":\"HIGH\"}]");
    /* malformed ARN linked by its tail; a finding of no standard still listed */
    {
        json_t *inst = json_object_get(json_object_get(m, "components"),
            "arn:aws:ec2:us-east-1:111111111111:instance/i-1");
        CHECK_INT(json_array_size(inst), 2);
        CHECK_STR(SGET(json_array_get(inst, 0), "finding_id"), "f02");
        CHECK_STR(SGET(json_array_get(inst, 0), "control_id"), "2.8");
        CHECK_STR(SGET(json_array_get(inst, 1), "finding_id"), "f10");
        CHECK(json_is_null(json_object_get(json_array_get(inst, 1), "standard")));
    }
    /* bare id matched to resource_id */
    CHECK_STR(SGET(json_array_get(json_object_get(json_object_get(m, "components"),
                                      "AWS::EC2::VPC/vpc-1"),
                       0),
                  "finding_id"),
        "f03");
    CHECK_INT(json_object_size(json_object_get(m, "components")), 3);
    /* other account: only its own finding */
    m = json_array_get(json_object_get(l, "models"), 1);
    CHECK_JSON(json_object_get(m, "components"),
        "{\"arn:aws:ec2:us-east-1:222222222222:security-group/sg-A\":[{\"finding_id\":\"f07\","
        "\"standard\":\"cis-1.2\",\"control_id\":\"4.1\",\"security_control_id\":null,\"status\":"
        "\"FAILED\",\"workflow\":\"NEW\",\"severity\":\"HIGH\"}]}");
    /* account resource and the IAM user no model holds */
    {
        json_t *acc = json_object_get(json_object_get(l, "accounts"), "111111111111");
        CHECK_INT(json_array_size(acc), 2);
        CHECK_STR(SGET(json_array_get(acc, 0), "finding_id"), "f05");
        CHECK_STR(SGET(json_array_get(acc, 0), "control_id"), "1.3");
        CHECK_STR(SGET(json_array_get(acc, 1), "finding_id"), "f04");
        CHECK_INT(json_object_size(json_object_get(l, "accounts")), 1);
    }

    /* bad input */
    json_decref(l);
    l = NULL;
    CHECK(compliance_link(sums, NULL, &l, &err) < 0);
    CHECK_CONTAINS(err.msg, "must be lists");
    {
        json_t *bm = json_deep_copy(models);
        json_object_del(json_array_get(json_object_get(json_array_get(bm, 1), "components"), 0),
            "key");
        CHECK(compliance_link(sums, bm, &l, &err) < 0);
        CHECK_CONTAINS(err.msg, "model 2 component 1 has no key");
        json_decref(bm);
    }
    {
        json_t *bs = json_deep_copy(sums);
        json_object_set_new(json_array_get(bs, 4), "resources", json_string("x"));
        CHECK(compliance_link(bs, models, &l, &err) < 0);
        CHECK_CONTAINS(err.msg, "summary 5 ('f05')");
        json_decref(bs);
    }
    CHECK(l == NULL);
out:
    json_decref(l);
    json_decref(sums);
    json_decref(models);
}

static json_t *
mini(const char *id, const char *status, const char *state)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:{}, s:n, s:[]}", "id", id,
        "account_id", "111111111111", "status", status, "workflow", "NEW", "record_state", state,
        "severity", "LOW", "standard_ids", "control_ids", "security_control_id", "resources");
}

static void
test_merge(void)
{
    json_t *stored = json_array(), *upd = json_array(), *m = NULL;
    struct err err = {0};

    json_array_append_new(stored, mini("c", "FAILED", "ACTIVE"));
    json_array_append_new(stored, mini("a", "FAILED", "ACTIVE"));
    json_array_append_new(stored, mini("b", "FAILED", "ACTIVE"));
    json_array_append_new(upd, mini("b", "PASSED", "ACTIVE"));
    json_array_append_new(upd, mini("c", "FAILED", "ARCHIVED"));
    json_array_append_new(upd, mini("d", "WARNING", "ACTIVE"));
    json_array_append_new(upd, mini("e", "FAILED", "ARCHIVED")); /* never stored */
    CHECK_MSG(compliance_merge(stored, upd, &m, &err) == 0, "%s", err.msg);
    CHECK_INT(json_array_size(m), 3);
    CHECK_STR(SGET(json_array_get(m, 0), "id"), "a");
    CHECK_STR(SGET(json_array_get(m, 1), "id"), "b");
    CHECK_STR(SGET(json_array_get(m, 1), "status"), "PASSED");
    CHECK_STR(SGET(json_array_get(m, 2), "id"), "d");
    json_decref(m);
    m = NULL;

    /* nothing updated: stored set sorted, unchanged */
    {
        json_t *none = json_array();
        CHECK(compliance_merge(stored, none, &m, &err) == 0);
        CHECK_INT(json_array_size(m), 3);
        CHECK_STR(SGET(json_array_get(m, 2), "id"), "c");
        json_decref(m);
        m = NULL;
        json_decref(none);
    }
    json_array_append_new(stored, json_pack("{s:s}", "title", "no id"));
    CHECK(compliance_merge(stored, upd, &m, &err) < 0);
    CHECK_CONTAINS(err.msg, "stored: compliance: summary 4 is not a finding summary");
    CHECK(compliance_merge(upd, NULL, &m, &err) < 0);
    CHECK_CONTAINS(err.msg, "updated summaries is not a list");
    CHECK(m == NULL);
    json_decref(stored);
    json_decref(upd);
}

static void
test_order(void)
{
    CHECK(compliance_control_cmp("1.2", "1.10") < 0);
    CHECK(compliance_control_cmp("1.10", "1.9") > 0);
    CHECK(compliance_control_cmp("2.1", "2.1.4") < 0);
    CHECK(compliance_control_cmp("3.3", "3.3") == 0);
    CHECK(compliance_control_cmp("10.1", "9.1") > 0);
}

/* Adds "PAIR|VPC|KEY" of each counted FAILED REQ in reqs to set. */
static void
ref_add(json_t *set, json_t *reqs, const char *vpc, const char *key)
{
    json_t *r;
    size_t i;

    json_array_foreach(reqs, i, r) {
        char k[512];
        if (SGET(r, "standard") == NULL || SGET(r, "control_id") == NULL ||
            SGET(r, "status") == NULL || strcmp(SGET(r, "status"), "FAILED") != 0 ||
            strcmp(SGET(r, "workflow"), "SUPPRESSED") == 0)
            continue;
        snprintf(k, sizeof(k), "%s\t%s|%s|%s", SGET(r, "standard"), SGET(r, "control_id"),
            vpc ? vpc : "-", key);
        json_object_set_new(set, k, json_true());
    }
}

/* compliance_failing_components gives what the store used to derive from
 * compliance_link (counted FAILED links per standard and control), sorted. */
static void
test_failing(void)
{
    json_t *sums = load("link-summaries.json"), *models = load("models.json"), *l = NULL;
    json_t *fc = NULL, *want = json_object(), *got = json_object(), *m, *list, *e;
    struct err err = {0};
    const char *k;
    size_t i, j;

    CHECK(sums != NULL && models != NULL);
    CHECK(compliance_link(sums, models, &l, &err) == 0);
    CHECK_MSG(compliance_failing_components(sums, models, "111111111111", &fc, &err) == 0, "%s",
        err.msg);
    if (l == NULL || fc == NULL)
        goto out;
    json_array_foreach(json_object_get(l, "models"), i, m) {
        json_t *reqs;
        json_object_foreach(json_object_get(m, "components"), k, reqs)
            ref_add(want, reqs, SGET(m, "vpc_id"), k);
    }
    ref_add(want, json_object_get(json_object_get(l, "accounts"), "111111111111"), NULL,
        "account:111111111111");
    json_object_foreach(fc, k, list) {
        const char *prev_key = NULL;
        json_array_foreach(list, j, e) {
            char g[512];
            snprintf(g, sizeof(g), "%s|%s|%s", k, SGET(e, "vpc_id") ? SGET(e, "vpc_id") : "-",
                SGET(e, "key"));
            CHECK_MSG(json_object_get(got, g) == NULL, "%s listed twice", g);
            json_object_set_new(got, g, json_true());
            /* one model here for account 111..., so keys come sorted, account last */
            if (prev_key != NULL && strncmp(SGET(e, "key"), "account:", 8) != 0)
                CHECK_MSG(strcmp(prev_key, SGET(e, "key")) < 0, "%s: not sorted", k);
            prev_key = SGET(e, "key");
        }
    }
    CHECK(json_object_size(want) > 2);
    CHECK_MSG(json_equal(want, got), "failing components differ from compliance_link's");
    /* the suppressed f08 counts for nothing */
    json_object_foreach(got, k, e)
        CHECK(strstr(k, "cis-1.2\t1.1|") == NULL);
    /* no counted FAILED finding: nothing, and no index needed */
    json_decref(fc);
    fc = NULL;
    {
        json_t *passed = json_pack("[O]", json_array_get(sums, 7)); /* f08: suppressed */
        CHECK_STR(SGET(json_array_get(passed, 0), "workflow"), "SUPPRESSED");
        CHECK(compliance_failing_components(passed, models, "111111111111", &fc, &err) == 0);
        CHECK_INT(json_object_size(fc), 0);
        json_decref(passed);
    }
    json_decref(fc);
    fc = NULL;
    /* bad input */
    CHECK(compliance_failing_components(sums, NULL, "111111111111", &fc, &err) < 0);
    CHECK_CONTAINS(err.msg, "must be lists");
    {
        json_t *bm = json_deep_copy(models);
        json_object_del(json_array_get(json_object_get(json_array_get(bm, 0), "components"), 0),
            "key");
        CHECK(compliance_failing_components(sums, bm, "111111111111", &fc, &err) < 0);
        CHECK_CONTAINS(err.msg, "model 1 component 1 has no key");
        json_decref(bm);
    }
    {
        json_t *bs = json_deep_copy(sums);
        json_object_set_new(json_array_get(bs, 4), "resources", json_string("x"));
        CHECK(compliance_failing_components(bs, models, "111111111111", &fc, &err) < 0);
        CHECK_CONTAINS(err.msg, "summary 5 ('f05')");
        json_decref(bs);
    }
    CHECK(fc == NULL);
out:
    json_decref(fc);
    json_decref(l);
    json_decref(want);
    json_decref(got);
    json_decref(sums);
    json_decref(models);
}

static json_t *
lm_sum(const char *status, const char *wf, const char *state, int with_control)
{
    json_t *cids = with_control ? json_pack("{s:[s]}", "cis-1.4", "1.1")
                                : json_pack("{s:[]}", "cis-1.4");

    return json_pack("{s:s, s:s, s:s, s:[s], s:o, s:n, s:s, s:s, s:s, s:n, s:[s]}", "id", "f1",
        "account_id", "111111111111", "region", "us-east-1", "standard_ids", "cis-1.4",
        "control_ids", cids, "security_control_id", "status", status, "workflow", wf,
        "record_state", state, "severity", "resources", "arn:aws:s3:::b");
}

/* compliance_links_models: 1 only for a counted FAILED summary naming a
 * control (what compliance_failing_components links); malformed input is
 * an error. */
static void
test_links_models(void)
{
    struct err err = {0};
    json_t *l;

    l = json_pack("[o]", lm_sum("FAILED", "NEW", "ACTIVE", 1));
    CHECK_INT(compliance_links_models(l, &err), 1);
    json_decref(l);
    l = json_pack("[o, o]", lm_sum("PASSED", "NEW", "ACTIVE", 1),
        lm_sum("FAILED", "NOTIFIED", "ACTIVE", 1));
    CHECK_INT(compliance_links_models(l, &err), 1);
    json_decref(l);
    /* suppressed, archived, not failed, or naming no control: nothing to link */
    l = json_pack("[o, o, o, o]", lm_sum("FAILED", "SUPPRESSED", "ACTIVE", 1),
        lm_sum("FAILED", "NEW", "ARCHIVED", 1), lm_sum("WARNING", "NEW", "ACTIVE", 1),
        lm_sum("FAILED", "NEW", "ACTIVE", 0));
    CHECK_INT(compliance_links_models(l, &err), 0);
    CHECK_INT(compliance_links_models(json_array_get(l, 0), &err), -1);
    CHECK_CONTAINS(err.msg, "not a list");
    json_object_del(json_array_get(l, 2), "workflow");
    CHECK_INT(compliance_links_models(l, &err), -1);
    CHECK_CONTAINS(err.msg, "summary 3 ('f1') is not a finding summary");
    json_decref(l);
}

/* Only components bearing an id that a failing resource (or its ARN tail)
 * names are indexed: matches by key, resource id and tail on either side
 * still link, components of other accounts or with other ids do not, and
 * a component without a key is still refused. */
static void
test_failing_restricted(void)
{
    struct err err = {0};
    json_t *fc = NULL, *sums, *models;
    char *txt;

    sums = json_pack("[{s:s, s:s, s:s, s:[s], s:{s:[s]}, s:n, s:s, s:s, s:s, s:n, "
                     "s:[s, s, s]}]",
        "id", "f1", "account_id", "111111111111", "region", "us-east-1", "standard_ids", "cis-1.4",
        "control_ids", "cis-1.4", "5.1", "security_control_id", "status", "FAILED", "workflow",
        "NEW", "record_state", "ACTIVE", "severity", "resources",
        "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1", "i-2",
        "arn:aws:us-east-1:111111111111:instance/i-3");
    models = json_pack("[{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}, "
                       "{s:s, s:s, s:[{s:s, s:s}]}]",
        "account_id", "111111111111", "vpc_id", "vpc-a", "components",
        "key", "arn:aws:ec2:us-east-1:111111111111:security-group/sg-1", "resource_id", "sg-1",
        "key", "arn:aws:ec2:us-east-1:111111111111:instance/i-2", "resource_id", "i-2",
        "key", "arn:aws:ec2:us-east-1:111111111111:instance/i-3", "resource_id", "i-3",
        "key", "arn:aws:ec2:us-east-1:111111111111:instance/i-9", "resource_id", "i-9",
        "account_id", "222222222222", "vpc_id", "vpc-b", "components",
        "key", "arn:aws:ec2:us-east-1:222222222222:instance/i-2", "resource_id", "i-2");
    CHECK_MSG(compliance_failing_components(sums, models, "111111111111", &fc, &err) == 0, "%s",
        err.msg);
    txt = json_dumps(fc, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(txt, "{\"cis-1.4\\t5.1\":["
        "{\"key\":\"arn:aws:ec2:us-east-1:111111111111:instance/i-2\",\"vpc_id\":\"vpc-a\"},"
        "{\"key\":\"arn:aws:ec2:us-east-1:111111111111:instance/i-3\",\"vpc_id\":\"vpc-a\"},"
        "{\"key\":\"arn:aws:ec2:us-east-1:111111111111:security-group/sg-1\","
        "\"vpc_id\":\"vpc-a\"}]}");
    free(txt);
    json_decref(fc);
    fc = NULL;
    /* an unwanted component without a key is still malformed input */
    json_object_del(json_array_get(json_object_get(json_array_get(models, 1), "components"), 0),
        "key");
    CHECK(compliance_failing_components(sums, models, "111111111111", &fc, &err) < 0);
    CHECK_CONTAINS(err.msg, "model 2 component 1 has no key");
    CHECK(fc == NULL);
    json_decref(sums);
    json_decref(models);
}

/* compliance_controls_of / compliance_select: the judge's mapping (control
 * ids, else the catalogue's security control ids; standards outside the
 * catalogue left out), archived summaries included, and the selected
 * subset judging the selected controls as the whole set does. */
static void
test_select(void)
{
    struct err err = {0};
    json_t *cat, *sums, *set = json_object(), *only, *sub = NULL, *ja = NULL, *jb = NULL;

    cat = json_pack("{s:{s:[{s:s, s:s, s:[s]}, {s:s, s:s, s:[s]}]}}", "cis-1.4", "controls",
        "control_id", "1.10", "status", "ENABLED", "security_control_ids", "IAM.5",
        "control_id", "5.3", "status", "ENABLED", "security_control_ids", "EC2.2");
    sums = json_pack("[o, o, o, o]", lm_sum("FAILED", "NEW", "ACTIVE", 1),
        lm_sum("PASSED", "NEW", "ACTIVE", 0), lm_sum("FAILED", "NEW", "ACTIVE", 1),
        lm_sum("FAILED", "NEW", "ARCHIVED", 0));
    /* a: 1.1 (not in the catalogue, named); b: through IAM.5; c: cis-3.0
     * only; d: archived, through EC2.2 */
    json_object_set_new(json_array_get(sums, 0), "id", json_string("a"));
    json_object_set_new(json_array_get(sums, 1), "id", json_string("b"));
    json_object_set_new(json_array_get(sums, 1), "security_control_id", json_string("IAM.5"));
    json_object_set_new(json_array_get(sums, 2), "id", json_string("c"));
    json_object_set_new(json_array_get(sums, 2), "standard_ids", json_pack("[s]", "cis-3.0"));
    json_object_set_new(json_array_get(sums, 2), "control_ids", json_pack("{s:[s]}", "cis-3.0",
                                                                    "5.3"));
    json_object_set_new(json_array_get(sums, 3), "id", json_string("d"));
    json_object_set_new(json_array_get(sums, 3), "security_control_id", json_string("EC2.2"));
    CHECK_MSG(compliance_controls_of(cat, sums, set, &err) == 0, "%s", err.msg);
    CHECK_INT(json_object_size(set), 3);
    CHECK(json_object_get(set, "cis-1.4\t1.1") != NULL);
    CHECK(json_object_get(set, "cis-1.4\t1.10") != NULL);
    CHECK(json_object_get(set, "cis-1.4\t5.3") != NULL);

    only = json_pack("{s:b}", "cis-1.4\t1.10", 1);
    CHECK(compliance_select(cat, sums, only, &sub, &err) == 0);
    CHECK_INT(json_array_size(sub), 1);
    CHECK_STR(SGET(json_array_get(sub, 0), "id"), "b");
    CHECK(json_array_get(sub, 0) == json_array_get(sums, 1)); /* the same object */
    json_decref(sub);
    sub = NULL;
    json_object_set_new(only, "cis-1.4\t1.1", json_true());
    CHECK(compliance_select(cat, sums, only, &sub, &err) == 0);
    CHECK_INT(json_array_size(sub), 2);
    /* the subset judges 1.1 and 1.10 as the whole set does */
    CHECK(compliance_judge(cat, sums, &ja, &err) == 0 && compliance_judge(cat, sub, &jb, &err) == 0);
    if (ja != NULL && jb != NULL) {
        CHECK(json_equal(control(ja, "cis-1.4", "1.10"), control(jb, "cis-1.4", "1.10")));
        CHECK(json_equal(control(ja, "cis-1.4", "1.1"), control(jb, "cis-1.4", "1.1")));
        CHECK_STR(SGET(control(jb, "cis-1.4", "1.1"), "status"), "NON-COMPLIANT");
    }
    json_decref(sub);
    sub = NULL;
    /* bad input */
    CHECK(compliance_controls_of(cat, set, set, &err) < 0);
    CHECK_CONTAINS(err.msg, "must be a list");
    CHECK(compliance_select(cat, sums, NULL, &sub, &err) < 0);
    CHECK_CONTAINS(err.msg, "only an object");
    CHECK(compliance_select(sums, sums, only, &sub, &err) < 0);
    CHECK_CONTAINS(err.msg, "catalogue is not an object");
    json_object_del(json_array_get(sums, 3), "record_state");
    CHECK(compliance_select(cat, sums, only, &sub, &err) < 0);
    CHECK_CONTAINS(err.msg, "summary 4 ('d') is not a finding summary");
    CHECK(sub == NULL);
    json_decref(ja);
    json_decref(jb);
    json_decref(only);
    json_decref(set);
    json_decref(sums);
    json_decref(cat);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATADIR [SHAREDDIR]\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    test_judge();
    test_judge_bad();
    test_link();
    test_failing();
    test_links_models();
    test_failing_restricted();
    test_select();
    test_merge();
    test_order();
    TEST_END();
}
