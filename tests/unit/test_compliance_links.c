/*
 * test_compliance_links.c: compliance_failing_components_texts (the models
 * as link TEXTS, read without a jansson tree; mapping/compliance.h) held
 * equal to compliance_failing_components_sums over the same texts parsed
 * into trees (jsonr, as the store parses them) and put in an array in
 * order, the account document last when it is an object with an
 * account_id (what store/compliance.c does with its trees). "Equal" is
 * the compact dump of the result, byte for byte (key and list order
 * included), or the same error message for a shape error; a text the tree
 * reader refuses must be refused, naming the model and a byte offset.
 *
 * Inputs: the summaries and models of tests/data/compliance (argv[1]/..
 * /compliance) as compliance_link_text makes their links (the worker's)
 * and as the store cuts them out of a reused snapshot in SQL
 * (store_staged_link_texts on models staged without a link); and edge
 * cases written here: escapes in keys and resource ids (\/, \u00e9, a
 * surrogate pair), ARN tails both ways, account links (an
 * AWS::::Account: resource, a finding matching no model, another
 * account's), models with no components, resource_id null, missing or a
 * number, vpc_id null, missing, a number, an object, repeated keys,
 * unknown nested members, whitespace, an id too long for the index, one
 * component key in two models, and account documents that are linked
 * (an object with account_id) or left out (a list, an object without one).
 * One result is also checked against a hand-derived expectation, so the
 * two paths cannot agree on a wrong answer there.
 *
 * Malformed: every link text cut at every byte, and every byte replaced
 * by each of a dozen troublesome bytes, against the tree reader (refused
 * exactly when it refuses; when both accept, equal results or the same
 * shape error); wrong types (components not a list, account_id not a
 * string, a component key that is a number, a text that is not an object)
 * with the tree path's messages; a too-deep value. The store, staged as
 * daemon/target.c stages and committed as daemon/sync.c commits: the link
 * texts read from the staging area are what linking reads of each model,
 * written out here from the model (vpc_id order, the account document
 * apart, links given or cut in SQL), and store_compliance_apply records
 * the components the tree path links from the same models, loading the
 * texts once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "mapping/compliance.h"
#include "store/compliance.h"
#include "store/store.h"
#include "stagefind.h"
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

/* What one path gives: rc, the compact dump (rc 0) or the message. */
struct outcome {
    int rc;
    int json_bad; /* the tree path: a text jsonr refuses */
    char *dump;
    char msg[sizeof(((struct err *)0)->msg)];
};

static void
outcome_done(struct outcome *o)
{
    free(o->dump);
    memset(o, 0, sizeof(*o));
}

static void
outcome_set(struct outcome *o, int rc, json_t *res, const struct err *err)
{
    o->rc = rc;
    if (rc == 0) {
        o->dump = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(res);
    } else {
        snprintf(o->msg, sizeof(o->msg), "%s", err->msg);
    }
}

/* The store's tree path over the texts (account may be NULL). */
static void
tree_path(const struct compliance_sums *set, const struct compliance_link_doc *m, size_t n,
    const struct compliance_link_doc *account, const char *acct_id, struct outcome *o)
{
    json_t *models = json_array(), *res = NULL, *doc;
    struct err err = {0};

    memset(o, 0, sizeof(*o));
    for (size_t i = 0; i < n; i++) {
        if ((doc = jsonr_loadb(m[i].text, m[i].len, JSON_DECODE_ANY, NULL)) == NULL) {
            o->json_bad = 1;
            o->rc = -1;
            json_decref(models);
            return;
        }
        json_array_append_new(models, doc);
    }
    if (account != NULL) {
        if ((doc = jsonr_loadb(account->text, account->len, JSON_DECODE_ANY, NULL)) == NULL) {
            o->json_bad = 1;
            o->rc = -1;
            json_decref(models);
            return;
        }
        if (json_is_object(doc) && json_object_get(doc, "account_id") != NULL)
            json_array_append(models, doc);
        json_decref(doc);
    }
    int rc = compliance_failing_components_sums(set, models, acct_id, &res, &err);

    outcome_set(o, rc, res, &err);
    json_decref(models);
}

static void
text_path(const struct compliance_sums *set, const struct compliance_link_doc *m, size_t n,
    const struct compliance_link_doc *account, const char *acct_id, struct outcome *o)
{
    json_t *res = NULL;
    struct err err = {0};

    int rc = compliance_failing_components_texts(set, m, n, account, acct_id, &res, &err);

    memset(o, 0, sizeof(*o));
    outcome_set(o, rc, res, &err);
}

/* Both paths; the text one must give what the tree one gives. *ret (may
 * be NULL) gets the text path's outcome. Quiet: returns 0 when equal, so
 * the loops below count one check per case. */
static int
differ(const char *label, const struct compliance_sums *set, const struct compliance_link_doc *m,
    size_t n, const struct compliance_link_doc *account, const char *acct_id,
    struct outcome *ret)
{
    struct outcome t, x;
    int bad = 0;

    tree_path(set, m, n, account, acct_id, &t);
    text_path(set, m, n, account, acct_id, &x);
    if (t.json_bad) {
        bad = x.rc == 0 || strstr(x.msg, "is not JSON") == NULL ||
              strstr(x.msg, " at byte ") == NULL;
    } else if (t.rc != x.rc) {
        bad = 1;
    } else if (t.rc == 0) {
        bad = t.dump == NULL || x.dump == NULL || strcmp(t.dump, x.dump) != 0;
    } else {
        bad = strcmp(t.msg, x.msg) != 0;
    }
    if (bad)
        fprintf(stderr, "%s: tree rc %d%s [%s] [%s]\n  text rc %d [%s] [%s]\n", label, t.rc,
            t.json_bad ? " (not JSON)" : "", t.dump ? t.dump : "", t.msg, x.rc,
            x.dump ? x.dump : "", x.msg);
    outcome_done(&t);
    if (ret != NULL)
        *ret = x;
    else
        outcome_done(&x);
    return bad;
}

static struct compliance_sums *
sums_of(json_t *summaries)
{
    struct compliance_sums *set = NULL;
    struct err err = {0};

    if (compliance_sums_read(summaries, &set, &err) < 0)
        fprintf(stderr, "compliance_sums_read: %s\n", err.msg);
    return set;
}

/* ---- the data directory's models ---- */

static void
test_data_models(void)
{
    json_t *models = load("models.json"), *sums[2] = {load("link-summaries.json"),
                                                        load("summaries.json")};
    const char *accts[] = {"111111111111", "222222222222", "333333333333"};
    struct compliance_link_doc docs[8], acct_doc;
    char *texts[8] = {NULL}, *acct_text = NULL;
    json_t *acct_model = NULL;
    size_t n = 0;

    CHECK(models != NULL && sums[0] != NULL && sums[1] != NULL);
    if (models == NULL || sums[0] == NULL || sums[1] == NULL)
        goto out;
    for (size_t i = 0; i < json_array_size(models) && n < 8; i++) {
        texts[n] = compliance_link_text(json_array_get(models, i));
        CHECK(texts[n] != NULL);
        docs[n].text = texts[n];
        docs[n].len = strlen(texts[n]);
        n++;
    }
    /* an account document: the first model's components, vpc_id null */
    acct_model = json_deep_copy(json_array_get(models, 0));
    json_object_set_new(acct_model, "vpc_id", json_null());
    acct_text = compliance_link_text(acct_model);
    CHECK(acct_text != NULL);
    acct_doc.text = acct_text;
    acct_doc.len = acct_text != NULL ? strlen(acct_text) : 0;
    for (int s = 0; s < 2; s++) {
        struct compliance_sums *set = sums_of(sums[s]);

        CHECK(set != NULL);
        if (set == NULL)
            continue;
        for (size_t a = 0; a < 3; a++) {
            struct outcome x;

            CHECK(differ("data", set, docs, n, NULL, accts[a], &x) == 0);
            CHECK(x.rc == 0);
            if (s == 0 && a == 0) /* link-summaries link components of vpc-1 */
                CHECK(x.dump != NULL && strstr(x.dump, "\"vpc_id\":\"vpc-1\"") != NULL);
            outcome_done(&x);
            CHECK(differ("data+account", set, docs, n, &acct_doc, accts[a], NULL) == 0);
            /* the models in the other order */
            {
                struct compliance_link_doc rev[8];

                for (size_t i = 0; i < n; i++)
                    rev[i] = docs[n - 1 - i];
                CHECK(differ("data reversed", set, rev, n, &acct_doc, accts[a], NULL) == 0);
            }
            CHECK(differ("data none", set, docs, 0, NULL, accts[a], NULL) == 0);
        }
        compliance_sums_free(set);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(acct_text);
    json_decref(acct_model);
    json_decref(models);
    json_decref(sums[0]);
    json_decref(sums[1]);
}

/* ---- edge cases written here ---- */

#define A1 "111111111111"
#define I1 "arn:aws:ec2:us-east-1:111111111111:instance/i-1"

/* Summary JSON (compact) for the edge cases. */
static json_t *
summary(const char *id, const char *acct, const char *status, const char *workflow,
    const char *std, const char *ctl, json_t *resources)
{
    return json_pack("{s:s, s:s, s:s, s:[s], s:{s:[s]}, s:n, s:s, s:s, s:s, s:s, s:o}", "id", id,
        "account_id", acct, "region", "us-east-1", "standard_ids", std, "control_ids", std, ctl,
        "security_control_id", "status", status, "workflow", workflow, "record_state", "ACTIVE",
        "severity", "HIGH", "resources", resources);
}

static char long_id[1300];

static json_t *
edge_summaries(void)
{
    json_t *v = json_array();

    json_array_append_new(v, summary("s1", A1, "FAILED", "NEW", "cis-1.2", "1.1",
                                 json_pack("[s]", I1)));
    json_array_append_new(v, summary("s2", A1, "FAILED", "NEW", "cis-1.2", "1.2",
                                 json_pack("[s]", "sg-\xc3\xa9")));
    json_array_append_new(v, summary("s3", A1, "FAILED", "NOTIFIED", "cis-1.4", "2.1",
                                 json_pack("[s]", "AWS::::Account:" A1)));
    json_array_append_new(v, summary("s4", A1, "FAILED", "NEW", "cis-1.4", "2.2",
                                 json_pack("[s]", "arn:aws:iam::111111111111:user/nobody")));
    json_array_append_new(v, summary("s5", "222222222222", "FAILED", "NEW", "cis-1.2", "1.1",
                                 json_pack("[s]", "arn:aws:s3:::bucket-x")));
    json_array_append_new(v, summary("s6", A1, "PASSED", "NEW", "cis-1.2", "1.3",
                                 json_pack("[s]", I1)));
    json_array_append_new(v, summary("s7", A1, "FAILED", "SUPPRESSED", "cis-1.2", "1.3",
                                 json_pack("[s]", I1)));
    json_array_append_new(v, summary("s8", A1, "FAILED", "NEW", "cis-1.2", "1.4",
                                 json_pack("[s]", long_id)));
    json_array_append_new(v, summary("s9", A1, "FAILED", "NEW", "cis-1.2", "1.5",
                                 json_pack("[s, s]", "i-1", "\xf0\x9f\x98\x80-x")));
    return v;
}

/* The edge-case link texts: models, then the account document. */
static const char *const edge_models[] = {
    /* 1: escaped slash in a key; no resource_id; resource_id null; reordered
     * members with an unknown nested value; a resource_id that is a number */
    "{\"account_id\":\"111111111111\",\"components\":["
    "{\"key\":\"arn:aws:ec2:us-east-1:111111111111:instance\\/i-1\",\"resource_id\":\"i-1\"},"
    "{\"key\":\"design:x\"},"
    "{\"key\":\"k-null\",\"resource_id\":null},"
    "{\"resource_id\":\"i-1\",\"extra\":{\"a\":[1,-2.5e3,{\"b\":null}],\"t\":true},\"key\":\"sg-key\"},"
    "{\"key\":\"LONG\",\"resource_id\":5}"
    "],\"vpc_id\":\"vpc-1\"}",
    /* 2: vpc_id null; \u escapes; an ARN whose tail is a resource id */
    "{\"account_id\":\"111111111111\",\"vpc_id\":null,\"components\":["
    "{\"key\":\"arn:aws:ec2:us-east-1:111111111111:security-group/sg-\\u00e9\"},"
    "{\"key\":\"\\ud83d\\ude00-x\",\"resource_id\":\"emoji\"}]}",
    /* 3: another account, members first-to-last reversed, whitespace */
    " {\n \"components\" : [ { \"resource_id\" : \"bucket-x\" , \"key\" : \"b\" } ] ,\n"
    "  \"vpc_id\" : \"vpc-3\" , \"account_id\" : \"222222222222\" }\n",
    /* 4: repeated keys: the last value stands */
    "{\"vpc_id\":\"old\",\"account_id\":\"111111111111\",\"components\":[{\"key\":\"zzz\"}],"
    "\"vpc_id\":\"vpc-4\",\"components\":[{\"key\":\"x\",\"key\":\"" I1 "\"}]}",
    /* 5: no components, no vpc_id */
    "{\"account_id\":\"111111111111\",\"components\":[]}",
    /* 6: vpc_id a number, then an object */
    "{\"account_id\":\"111111111111\",\"vpc_id\":42,\"components\":[{\"key\":\"n-1\","
    "\"resource_id\":\"i-1\"}]}",
    "{\"account_id\":\"111111111111\",\"vpc_id\":{\"v\":[1.5,\"x\"]},\"components\":[{\"key\":"
    "\"sg-\\u00e9\"}]}",
};
#define NEDGE (sizeof(edge_models) / sizeof(edge_models[0]))

static const char edge_account[] =
    "{\"account_id\":\"111111111111\",\"components\":[{\"key\":\"AWS::::Account:111111111111\","
    "\"resource_id\":\"111111111111\"}],\"vpc_id\":null}";

/* The edge texts with LONG replaced by long_id: t[i] (free each). */
static void
edge_texts(char *t[NEDGE], struct compliance_link_doc d[NEDGE])
{
    for (size_t i = 0; i < NEDGE; i++) {
        const char *p = strstr(edge_models[i], "\"LONG\"");
        size_t len = strlen(edge_models[i]);

        if (p == NULL) {
            t[i] = strdup(edge_models[i]);
        } else {
            size_t pre = (size_t)(p - edge_models[i]) + 1;

            t[i] = malloc(len + sizeof(long_id));
            if (t[i] != NULL)
                snprintf(t[i], len + sizeof(long_id), "%.*s%s%s", (int)pre, edge_models[i],
                    long_id, p + 5);
        }
        d[i].text = t[i];
        d[i].len = t[i] != NULL ? strlen(t[i]) : 0;
    }
}

static void
test_edges(void)
{
    json_t *sums;
    struct compliance_sums *set;
    char *t[NEDGE];
    struct compliance_link_doc d[NEDGE], acct = {edge_account, sizeof(edge_account) - 1};
    struct outcome x;

    memset(long_id, 'L', sizeof(long_id) - 1);
    memcpy(long_id, "arn:aws:ec2:::L/", 16);
    long_id[sizeof(long_id) - 1] = '\0';
    sums = edge_summaries();
    set = sums_of(sums);
    edge_texts(t, d);
    CHECK(set != NULL);
    if (set == NULL)
        goto out;
    CHECK(differ("edges", set, d, NEDGE, &acct, A1, &x) == 0);
    /* By hand (models 0..6 in order, the account document 7): s1 names I1,
     * which is model 0's key (escaped slash) and model 3's (its repeated
     * key's last value), and by its tail i-1 model 0's components 0 and 3
     * (resource_id i-1), model 3's and model 5's (vpc_id 42): each key once
     * with its first model. s2's sg-é is the tail of model 1's ARN (vpc_id
     * null) and model 6's key (vpc_id an object). s3 names the account: its
     * link. s4 matches nothing: the account's link. s5 is account 222's
     * finding: bucket-x, the tail of its ARN, is model 2's resource_id
     * (links to components are not filtered by account, only account
     * links are). s6 passed and s7 is suppressed: nothing. s8's id does not
     * fit the index, nor does model 0's component with that key: the
     * account's link. s9: i-1 as s1, and the emoji id (a surrogate pair in
     * the text) is model 1's key. Lists sorted by model, then key. */
    CHECK_STR(x.dump,
        "{\"cis-1.2\\t1.1\":[{\"vpc_id\":\"vpc-1\",\"key\":\"" I1 "\"},"
        "{\"vpc_id\":\"vpc-1\",\"key\":\"sg-key\"},"
        "{\"vpc_id\":\"vpc-3\",\"key\":\"b\"},"
        "{\"vpc_id\":42,\"key\":\"n-1\"}],"
        "\"cis-1.2\\t1.2\":[{\"vpc_id\":null,\"key\":\"arn:aws:ec2:us-east-1:111111111111:"
        "security-group/sg-\xc3\xa9\"},{\"vpc_id\":{\"v\":[1.5,\"x\"]},\"key\":\"sg-\xc3\xa9\"}],"
        "\"cis-1.4\\t2.1\":[{\"vpc_id\":null,\"key\":\"account:111111111111\"}],"
        "\"cis-1.4\\t2.2\":[{\"vpc_id\":null,\"key\":\"account:111111111111\"}],"
        "\"cis-1.2\\t1.4\":[{\"vpc_id\":null,\"key\":\"account:111111111111\"}],"
        "\"cis-1.2\\t1.5\":[{\"vpc_id\":\"vpc-1\",\"key\":\"" I1 "\"},"
        "{\"vpc_id\":\"vpc-1\",\"key\":\"sg-key\"},"
        "{\"vpc_id\":null,\"key\":\"\xf0\x9f\x98\x80-x\"},"
        "{\"vpc_id\":42,\"key\":\"n-1\"}]}");
    outcome_done(&x);
    /* for account 222: the same component links, no account links */
    CHECK(differ("edges 222", set, d, NEDGE, &acct, "222222222222", &x) == 0);
    CHECK(x.dump != NULL && strstr(x.dump, "\"vpc_id\":\"vpc-3\",\"key\":\"b\"") != NULL &&
          strstr(x.dump, "account:") == NULL && strstr(x.dump, "cis-1.4") == NULL);
    outcome_done(&x);
    /* account documents: linked when an object with account_id, else left
     * out; account_id null is linked, and fails as in the tree path */
    {
        static const char *const accounts[] = {"[]", "7", "null", "{\"vpc_id\":null}",
            "{\"account_id\":null,\"components\":[]}", "{\"account_id\":\"1\"}", "{}",
            "{\"account_id\":\"111111111111\",\"components\":[{\"key\":\"acct-comp\","
            "\"resource_id\":\"nobody\"}]}"};

        for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
            struct compliance_link_doc a = {accounts[i], strlen(accounts[i])};

            CHECK_MSG(differ("account", set, d, NEDGE, &a, A1, &x) == 0, "%s", accounts[i]);
            if (i == 4 || i == 5)
                CHECK_STR(x.msg, "compliance_failing_components: model 8 has no account_id or "
                                 "components");
            if (i == 7) /* s4's tail nobody: the account document's component
                         * (vpc_id absent: null), not the account's link */
                CHECK(x.dump != NULL &&
                      strstr(x.dump, "\"cis-1.4\\t2.2\":[{\"vpc_id\":null,\"key\":\"acct-comp\"}]") !=
                          NULL);
            outcome_done(&x);
        }
    }
    /* each model alone, and none */
    for (size_t i = 0; i < NEDGE; i++)
        CHECK(differ("one", set, d + i, 1, NULL, A1, NULL) == 0);
    CHECK(differ("none", set, d, 0, &acct, A1, NULL) == 0);
out:
    for (size_t i = 0; i < NEDGE; i++)
        free(t[i]);
    compliance_sums_free(set);
    json_decref(sums);
}

/* Shape errors: the tree path's messages; with no FAILED summary a
 * component without a key is no error, a model without account_id is. */
static void
test_shapes(void)
{
    static const char *const bad[] = {
        "{\"account_id\":\"1\",\"components\":{}}",
        "{\"account_id\":1,\"components\":[]}",
        "{\"components\":[]}",
        "[]",
        "\"x\"",
        "null",
        "{\"account_id\":\"1\",\"components\":[{\"key\":5}]}",
        "{\"account_id\":\"1\",\"components\":[{\"key\":\"a\"},7]}",
        "{\"account_id\":\"1\",\"components\":[{\"resource_id\":\"i-1\"}]}",
        "{\"account_id\":\"1\",\"components\":[{\"key\":null}]}",
        "{\"account_id\":\"1\",\"components\":[],\"components\":3}",
    };
    static const char *const want[] = {
        "model 2 has no account_id or components", "model 2 has no account_id or components",
        "model 2 has no account_id or components", "model 2 has no account_id or components",
        "model 2 has no account_id or components", "model 2 has no account_id or components",
        "model 2 component 1 has no key", "model 2 component 2 has no key",
        "model 2 component 1 has no key", "model 2 component 1 has no key",
        "model 2 has no account_id or components",
    };
    json_t *sums = edge_summaries(), *passed = json_array();
    struct compliance_sums *set = sums_of(sums), *pset;
    struct compliance_link_doc d[2] = {{edge_account, sizeof(edge_account) - 1}, {NULL, 0}};
    struct outcome x;
    struct err err = {0};
    json_t *res = NULL;

    json_array_append(passed, json_array_get(sums, 5)); /* PASSED */
    json_array_append(passed, json_array_get(sums, 6)); /* suppressed */
    pset = sums_of(passed);
    CHECK(set != NULL && pset != NULL);
    if (set == NULL || pset == NULL)
        goto out;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d[1].text = bad[i];
        d[1].len = strlen(bad[i]);
        CHECK_MSG(differ("shape", set, d, 2, NULL, A1, &x) == 0, "%s", bad[i]);
        CHECK(x.rc < 0 && strstr(x.msg, want[i]) != NULL);
        outcome_done(&x);
        /* nothing FAILED: only the model's own shape counts */
        CHECK_MSG(differ("shape passed", pset, d, 2, NULL, A1, &x) == 0, "%s", bad[i]);
        CHECK_INT(x.rc, i < 6 || i == 10 ? -1 : 0);
        if (x.rc == 0)
            CHECK_STR(x.dump, "{}");
        outcome_done(&x);
    }
    /* arguments */
    CHECK(compliance_failing_components_texts(NULL, d, 1, NULL, A1, &res, &err) < 0);
    CHECK_CONTAINS(err.msg, "no summaries, models or account id");
    CHECK(compliance_failing_components_texts(set, NULL, 1, NULL, A1, &res, &err) < 0);
    CHECK(compliance_failing_components_texts(set, d, 1, NULL, NULL, &res, &err) < 0);
    CHECK(compliance_failing_components_texts(set, NULL, 0, NULL, A1, &res, &err) == 0);
    json_decref(res);
    res = NULL;
    d[1].text = NULL;
    CHECK(compliance_failing_components_texts(set, d, 2, NULL, A1, &res, &err) < 0);
    CHECK_CONTAINS(err.msg, "model 2 has no text");
    CHECK(compliance_failing_components_texts(set, d, 1, d + 1, A1, &res, &err) < 0);
    CHECK_CONTAINS(err.msg, "the account model has no text");
    CHECK(res == NULL);
out:
    compliance_sums_free(set);
    compliance_sums_free(pset);
    json_decref(sums);
    json_decref(passed);
}

/* Every text cut at every byte and every byte replaced by troublesome
 * ones: the text path refuses exactly what the tree reader refuses (naming
 * the model), and otherwise agrees. */
static void
test_malformed(void)
{
    static const unsigned char subst[] = {'"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'n',
        '0', '-', 0x80, 0xc3, 0xff, 0x01};
    json_t *sums = edge_summaries();
    struct compliance_sums *set = sums_of(sums);
    char *t[NEDGE];
    struct compliance_link_doc d[NEDGE + 1];
    size_t cases = 0, differing = 0, refused = 0, misnamed = 0;

    edge_texts(t, d);
    d[NEDGE].text = edge_account;
    d[NEDGE].len = sizeof(edge_account) - 1;
    CHECK(set != NULL);
    if (set == NULL)
        goto out;
    for (size_t m = 0; m <= NEDGE; m++) {
        const struct compliance_link_doc orig = d[m];
        char *buf = malloc(orig.len + 1);
        char want[64];

        if (m < NEDGE)
            snprintf(want, sizeof(want), "model %zu is not JSON", m + 1);
        else
            snprintf(want, sizeof(want), "the account model is not JSON");
        if (buf == NULL)
            break;
        /* cut: the account document is passed apart */
        for (size_t cut = 0; cut < orig.len; cut++) {
            struct outcome x;

            memcpy(buf, orig.text, cut);
            d[m].text = buf;
            d[m].len = cut;
            cases++;
            differing += (size_t)differ("cut", set, d, NEDGE, m == NEDGE ? &d[NEDGE] : NULL, A1,
                &x);
            refused += x.rc < 0;
            misnamed += x.rc < 0 && strstr(x.msg, want) == NULL;
            outcome_done(&x);
        }
        for (size_t at = 0; at < orig.len; at++) {
            for (size_t k = 0; k < sizeof(subst); k++) {
                memcpy(buf, orig.text, orig.len);
                buf[at] = (char)subst[k];
                d[m].text = buf;
                d[m].len = orig.len;
                cases++;
                differing += (size_t)differ("subst", set, d, NEDGE,
                    m == NEDGE ? &d[NEDGE] : NULL, A1, NULL);
            }
        }
        d[m] = orig;
        free(buf);
    }
    CHECK_MSG(differing == 0, "%zu of %zu malformed cases differ", differing, cases);
    CHECK_MSG(misnamed == 0, "%zu refused cuts do not name their model", misnamed);
    CHECK(refused > 1000 && cases > 10000);
    /* nesting deeper than jansson's limit inside an unknown member */
    {
        size_t depth = 3000, len = 0;
        char *deep = malloc(2 * depth + 64);

        if (deep != NULL) {
            len += (size_t)sprintf(deep, "{\"account_id\":\"1\",\"components\":[],\"x\":");
            memset(deep + len, '[', depth);
            len += depth;
            memset(deep + len, ']', depth);
            len += depth;
            deep[len++] = '}';
            struct compliance_link_doc dd = {deep, len};
            struct outcome x;

            CHECK(differ("deep", set, &dd, 1, NULL, A1, &x) == 0);
            CHECK(x.rc < 0 && strstr(x.msg, "maximum parsing depth") != NULL);
            outcome_done(&x);
            free(deep);
        }
    }
out:
    for (size_t i = 0; i < NEDGE; i++)
        free(t[i]);
    compliance_sums_free(set);
    json_decref(sums);
}

/* ---- the store: link texts read from the staging area ---- */

#define REG "us-east-1"

struct loader {
    struct store *st;
    int calls;
};

/* The daemon's loader (daemon/sync.c): the staged link texts. */
static int
load_texts(void *ctx, struct store_link_texts *ret, struct err *err)
{
    struct loader *l = ctx;

    l->calls++;
    return store_staged_link_texts(l->st, 0, A1, REG, ret, err);
}

static int
load_texts_fail(void *ctx, struct store_link_texts *ret, struct err *err)
{
    (void)ctx;
    (void)ret;
    return err_set(err, ERR_STORE, "store: staged models: disk on fire");
}

/* The account document staged beside the data's models: the first one
 * with vpc_id null (its components in two documents) and a component of
 * its own, the IAM user a FAILED finding of link-summaries names, so a
 * commit that leaves the account document out links that finding to the
 * account instead. */
#define BOB "arn:aws:iam::" A1 ":user/bob"
static json_t *
account_of(json_t *models)
{
    json_t *acct = json_deep_copy(json_array_get(models, 0));

    if (acct != NULL) {
        json_object_set_new(acct, "vpc_id", json_null());
        json_array_append_new(json_object_get(acct, "components"),
            json_pack("{s:s, s:s, s:s}", "key", BOB, "resource_type", "AWS::IAM::User",
                "resource_id", "bob"));
    }
    return acct;
}

/* What linking reads of model m, written out here from the model (not by
 * compliance_link_text): account_id, vpc_id and each component's key and
 * resource_id, a missing resource_id as null. */
static json_t *
link_want(json_t *m)
{
    json_t *comps = json_array(), *c;
    size_t i;

    json_array_foreach(json_object_get(m, "components"), i, c) {
        json_t *rid = json_object_get(c, "resource_id");

        json_array_append_new(comps, json_pack("{s:O, s:O}", "key", json_object_get(c, "key"),
            "resource_id", rid != NULL ? rid : json_null()));
    }
    return json_pack("{s:O, s:O, s:o}", "account_id", json_object_get(m, "account_id"), "vpc_id",
        json_object_get(m, "vpc_id"), "components", comps);
}

/* Stages the data directory's findings and models (links given or cut
 * out in SQL) as target 0, the way daemon/target.c stages a worker's
 * models (store_staged_model_make, store_stage_models with their digest);
 * ret_digest (65 bytes) gets the digest daemon/sync.c gives the commit. */
static int
stage(struct store *st, json_t *sums, json_t *models, int with_links, char *ret_digest,
    struct err *err)
{
    size_t nm = json_array_size(models);
    char sum[65];
    struct store_staged_model *v = calloc(nm + 1, sizeof(*v));
    const char **links = calloc(nm + 1, sizeof(*links));
    json_t *acct = account_of(models);
    int rc = -1;

    if (v == NULL || links == NULL || acct == NULL)
        goto out;
    for (size_t i = 0; i <= nm; i++) {
        json_t *m = i < nm ? json_array_get(models, i) : acct;

        const char *vpc = i < nm ? json_string_value(json_object_get(m, "vpc_id")) : NULL;

        if (store_staged_model_make(&v[i], vpc, m) < 0)
            goto out;
        links[i] = v[i].link;
        if (!with_links) /* a reused snapshot's: cut out of the model in SQL */
            v[i].link = NULL;
    }
    if (store_staged_models_sum(v, nm + 1, sum) < 0)
        goto out;
    if (store_stage_reset(st, err) == 0 && stagefind_rows(st, 0, sums, A1, REG, err) == 0 &&
        store_stage_models(st, 0, A1, REG, v, nm + 1, sum, err) == 0 &&
        (ret_digest == NULL || store_staged_models_digest(st, 0, A1, REG, ret_digest, err) == 0))
        rc = 0;
out:
    for (size_t i = 0; v != NULL && links != NULL && i <= nm; i++) {
        v[i].link = links[i];
        store_staged_model_clear(&v[i]);
    }
    free(links);
    free(v);
    json_decref(acct);
    return rc;
}

/* The verdict rows of a first read committed as daemon/sync.c commits it
 * (models_digest + models_load_texts); *ret_calls: the loader's calls. */
static json_t *
apply_rows(const char *path, json_t *sums, json_t *models, int with_links, int *ret_calls,
    struct err *err)
{
    struct store *st = NULL;
    struct loader l = {NULL, 0};
    char digest[65] = "";
    struct store_sh_read rd = {.hub_enabled = 1, .full = 1, .read_until = 1000,
        .staged_target = 0, .models_digest = digest, .models_load_texts = load_texts,
        .models_ctx = &l};
    json_t *rows = NULL;
    int64_t run = 0;

    rd.catalogue = load("catalogue.json");
    unlink(path);
    if (rd.catalogue != NULL && store_open(path, &st, err) == 0) {
        l.st = st;
        if (stage(st, sums, models, with_links, digest, err) < 0 ||
            store_run_begin(st, 1000, &run, err) < 0 ||
            store_compliance_apply(st, run, 1000, A1, REG, &rd, NULL, NULL, err) < 0 ||
            store_compliance_rows(st, NULL, NULL, &rows, err) < 0)
            rows = NULL;
    }
    *ret_calls = l.calls;
    store_close(st);
    json_decref(rd.catalogue);
    unlink(path);
    return rows;
}

/* The components the tree path (tree_path: the texts parsed, linked by
 * compliance_failing_components_sums) gives for the data's findings and
 * models, the account document last: {"STANDARD\tCONTROL": [...]}. */
static json_t *
tree_components(json_t *sums, json_t *models)
{
    size_t nm = json_array_size(models);
    struct compliance_sums *set = sums_of(sums);
    struct compliance_link_doc d[8], a = {NULL, 0};
    char *texts[9] = {NULL};
    json_t *acct = account_of(models), *res = NULL;
    struct outcome o = {0};

    for (size_t i = 0; i <= nm && i < 9; i++) {
        texts[i] = compliance_link_text(i < nm ? json_array_get(models, i) : acct);
        if (texts[i] != NULL && i < nm && i < 8)
            d[i] = (struct compliance_link_doc){texts[i], strlen(texts[i])};
        else if (texts[i] != NULL)
            a = (struct compliance_link_doc){texts[i], strlen(texts[i])};
    }
    if (set != NULL && nm < 8 && a.text != NULL) {
        tree_path(set, d, nm, &a, A1, &o);
        if (o.rc == 0)
            res = json_loads(o.dump, 0, NULL);
    }
    outcome_done(&o);
    for (size_t i = 0; i < 9; i++)
        free(texts[i]);
    compliance_sums_free(set);
    json_decref(acct);
    return res;
}

/* Each verdict row's components are want's for its control ([] when
 * want has none); *ret_linked counts the rows with components. */
static int
rows_have(json_t *rows, json_t *want, size_t *ret_linked)
{
    json_t *r, *none = json_array();
    size_t i;
    int bad = 0;

    *ret_linked = 0;
    json_array_foreach(rows, i, r) {
        char k[256];
        json_t *w, *got = json_object_get(r, "components");

        snprintf(k, sizeof(k), "%s\t%s", json_string_value(json_object_get(r, "standard")),
            json_string_value(json_object_get(r, "control_id")));
        w = json_object_get(want, k);
        if (!json_equal(got, w != NULL ? w : none)) {
            char *dg = json_dumps(got, JSON_COMPACT), *dw = json_dumps(w, JSON_COMPACT);

            fprintf(stderr, "%s: components %s, want %s\n", k, dg ? dg : "?", dw ? dw : "[]");
            free(dg);
            free(dw);
            bad = 1;
        }
        *ret_linked += json_array_size(got) > 0;
    }
    json_decref(none);
    return bad;
}

static void
test_store(const char *dir)
{
    json_t *models = load("models.json"), *sums = load("link-summaries.json"), *acct = NULL;
    json_t *want = NULL;
    char path[512];
    struct err err = {0};

    CHECK(models != NULL && sums != NULL);
    if (models == NULL || sums == NULL)
        goto out;
    acct = account_of(models);
    /* the data's models are in vpc_id order: text i is model i's */
    for (size_t i = 1; i < json_array_size(models); i++)
        CHECK(strcmp(json_string_value(json_object_get(json_array_get(models, i - 1), "vpc_id")),
                  json_string_value(json_object_get(json_array_get(models, i), "vpc_id"))) < 0);
    /* the staged link texts are what linking reads of each staged model,
     * in vpc_id order, the account document apart; links given or cut in
     * SQL */
    for (int with = 0; with < 2; with++) {
        struct store *st = NULL;
        struct store_link_texts t = {0};

        snprintf(path, sizeof(path), "%s/links-%d.db", dir, with);
        unlink(path);
        CHECK(store_open(path, &st, &err) == 0);
        if (st == NULL)
            continue;
        CHECK_MSG(stage(st, sums, models, with, NULL, &err) == 0, "%s", err.msg);
        CHECK_MSG(store_staged_link_texts(st, 0, A1, REG, &t, &err) == 0, "%s", err.msg);
        CHECK_INT(t.n, json_array_size(models));
        CHECK(t.has_account);
        for (size_t i = 0; i <= t.n && i <= json_array_size(models); i++) {
            if (i == t.n && !t.has_account)
                break;
            json_t *w = link_want(i < t.n ? json_array_get(models, i) : acct);
            json_t *x = jsonr_loadb(t.buf + t.off[i], t.len[i], 0, NULL);

            CHECK_MSG(x != NULL && w != NULL && json_equal(x, w), "with %d, text %zu: %s", with,
                i, t.buf + t.off[i]);
            CHECK(t.buf[t.off[i] + t.len[i]] == '\0');
            json_decref(x);
            json_decref(w);
        }
        /* the cut-out texts (with == 0) through both paths */
        {
            struct compliance_sums *set = sums_of(sums);
            struct compliance_link_doc d[4], a;

            for (size_t i = 0; i < t.n && i < 4; i++) {
                d[i].text = t.buf + t.off[i];
                d[i].len = t.len[i];
            }
            a.text = t.buf + t.off[t.n];
            a.len = t.len[t.n];
            CHECK(set != NULL && t.n <= 4);
            if (set != NULL)
                CHECK(differ("staged", set, d, t.n, &a, A1, NULL) == 0);
            compliance_sums_free(set);
        }
        store_link_texts_clear(&t);
        CHECK(t.buf == NULL && t.n == 0);
        store_link_texts_clear(&t); /* twice, and NULL */
        store_link_texts_clear(NULL);
        /* another region: nothing staged, no account document */
        CHECK(store_staged_link_texts(st, 0, A1, "eu-west-1", &t, &err) == 0);
        CHECK(t.n == 0 && !t.has_account);
        store_link_texts_clear(&t);
        store_close(st);
        unlink(path);
    }
    /* a commit as the daemon's records, links given or cut in SQL, the
     * components the tree path links from the same models (the account
     * document included), loading the texts once */
    want = tree_components(sums, models);
    CHECK(want != NULL && json_object_size(want) > 0);
    for (int with = 0; with < 2; with++) {
        json_t *rows;
        size_t linked = 0;
        int calls = 0;

        snprintf(path, sizeof(path), "%s/apply.db", dir);
        rows = apply_rows(path, sums, models, with, &calls, &err);
        CHECK_MSG(rows != NULL, "%s", err.msg);
        CHECK(json_array_size(rows) > 3);
        CHECK_MSG(rows_have(rows, want, &linked) == 0, "with %d: components differ", with);
        CHECK_INT(linked, json_object_size(want));
        CHECK_INT(calls, 1);
        {
            char *d = json_dumps(rows, JSON_COMPACT);

            CHECK(d != NULL && strstr(d, "\"vpc_id\":\"vpc-1\"") != NULL);
            CHECK(d != NULL && strstr(d, "\"key\":\"account:" A1 "\"") != NULL);
            /* hand-derived: bob is a component of the account document only */
            CHECK(d != NULL &&
                  strstr(d, "\"components\":[{\"key\":\"" BOB "\",\"vpc_id\":null}]") != NULL);
            free(d);
        }
        json_decref(rows);
    }
    /* a failing texts loader fails the commit */
    {
        struct store *st = NULL;
        json_t *cat = load("catalogue.json");
        int64_t run = 0;

        snprintf(path, sizeof(path), "%s/fail.db", dir);
        unlink(path);
        CHECK(store_open(path, &st, &err) == 0);
        if (st != NULL && cat != NULL) {
            struct store_sh_read rd = {.hub_enabled = 1, .full = 1, .read_until = 1000,
                .catalogue = cat, .staged_target = 0, .models_digest = "d1",
                .models_load_texts = load_texts_fail};

            CHECK(stage(st, sums, models, 1, NULL, &err) == 0);
            CHECK(store_run_begin(st, 1000, &run, &err) == 0);
            CHECK(store_compliance_apply(st, run, 1000, A1, REG, &rd, NULL, NULL, &err) < 0);
            CHECK_CONTAINS(err.msg, "disk on fire");
        }
        store_close(st);
        json_decref(cat);
        unlink(path);
    }
out:
    json_decref(want);
    json_decref(acct);
    json_decref(models);
    json_decref(sums);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/test_compliance_links.XXXXXX";

    if (argc < 2) {
        fprintf(stderr, "usage: %s DATADIR [SHAREDDIR]\n", argv[0]);
        return 2;
    }
    datadir = argv[1];
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_data_models();
    test_edges();
    test_shapes();
    test_malformed();
    test_store(dir);
    rmdir(dir);
    TEST_END();
}
