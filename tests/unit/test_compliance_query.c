/*
 * test_compliance_query.c: the summary document compliance_query_run makes
 * of stored verdicts (compliance_status rows written here directly, so every
 * field is known): the exact text of each target's verdict (the row's
 * fields the verdict has, none it does not, components as keys), a control
 * combined over targets (first title, worst status, highest severity,
 * sorted unions of failed resources and components), standards and
 * controls in their order, the filters (standard, status, account, VPC:
 * components of that VPC and the account-wide ones), the same document from
 * a second query (the rows are taken over, never shared between queries),
 * and the failures: a bad filter, an unknown VPC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "daemon/compliance_query.h"
#include "daemon/jsonw.h"
#include "store/store.h"
#include "testutil.h"

#define A1 "111111111111"
#define A2 "222222222222"

static const char *const rows_sql =
    "INSERT INTO compliance_status (account_id, region, standard, control_id, title, status,"
    " severity, failed_resources, suppressed_resources, components, findings, suppressed,"
    " since, since_run, checked_at) VALUES"
    " ('" A1 "', 'us-east-1', 'cis-1.4', '1.10', 'Ten', 'COMPLIANT', 'LOW', '[]', '[]', '[]',"
    "  2, 0, 1700000000, NULL, 1700000100),"
    " ('" A1 "', 'eu-west-1', 'cis-1.4', '1.10', NULL, 'NON-COMPLIANT', 'HIGH',"
    "  '[\"r2\",\"r1\"]', '[\"r9\"]',"
    "  '[{\"key\":\"vpc-1/sg-1\",\"vpc_id\":\"vpc-1\"},{\"key\":\"vpc-2/sg-2\",\"vpc_id\":\"vpc-2\"},"
    "    {\"key\":\"account:" A1 "\",\"vpc_id\":null}]',"
    "  3, 1, 1700000050, NULL, 1700000100),"
    " ('" A1 "', 'us-east-1', 'cis-1.4', '1.2', 'Two', 'NO_DATA', NULL, '[]', '[]', '[]',"
    "  0, 0, 1700000000, NULL, 1700000100),"
    " ('" A2 "', 'us-east-1', 'cis-1.2', '3.1', 'Three', 'WARNING', 'MEDIUM', '[\"r1\"]', '[]',"
    "  '[{\"key\":\"account:" A2 "\",\"vpc_id\":null}]', 1, 0, 1700000000, NULL, 1700000100);"
    "INSERT INTO sh_targets (account_id, region, hub, standards) VALUES"
    " ('" A1 "', 'us-east-1', 'enabled', '[\"cis-1.4\"]'),"
    " ('" A1 "', 'eu-west-1', 'enabled', '[\"cis-1.4\"]'),"
    " ('" A2 "', 'us-east-1', 'enabled', '[\"cis-1.2\"]');";

static json_t *
control(json_t *doc, const char *std, const char *ctl)
{
    json_t *s, *c;
    size_t i, k;

    json_array_foreach(json_object_get(doc, "standards"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "id")), std) != 0)
            continue;
        json_array_foreach(json_object_get(s, "controls"), k, c) {
            if (strcmp(json_string_value(json_object_get(c, "control_id")), ctl) == 0)
                return c;
        }
    }
    return NULL;
}

static void
check_text(const json_t *j, const char *want, const char *what)
{
    char *got = j != NULL ? jsonw_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    CHECK_MSG(got != NULL && strcmp(got, want) == 0, "%s:\n  got  %s\n  want %s", what,
        got ? got : "(none)", want);
    free(got);
}

static void
test_document(struct store *st)
{
    struct compliance_query q = {0};
    struct err err = {0};
    json_t *doc = NULL, *c, *stds;

    CHECK_MSG(compliance_query_run(st, &q, &doc, &err) == 0, "%s", err.msg);
    stds = json_object_get(doc, "standards");
    CHECK_INT(json_array_size(stds), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(stds, 0), "id")), "cis-1.2");
    /* natural control order: 1.2 before 1.10 */
    check_text(json_array_get(json_object_get(json_array_get(stds, 1), "controls"), 0),
        "{\"components\":[],\"control_id\":\"1.2\",\"failed_resources\":[],\"severity\":null,"
        "\"status\":\"NO_DATA\",\"targets\":[{\"account_id\":\"" A1 "\",\"components\":[],"
        "\"failed_resources\":[],\"findings\":0,\"region\":\"us-east-1\",\"severity\":null,"
        "\"since\":\"2023-11-14T22:13:20Z\",\"since_run\":0,\"status\":\"NO_DATA\","
        "\"suppressed\":0,\"suppressed_resources\":[]}],\"title\":\"Two\"}",
        "control 1.2");
    /* combined over two targets: the rows come sorted by region (eu first) */
    c = control(doc, "cis-1.4", "1.10");
    check_text(c,
        "{\"components\":[\"account:" A1 "\",\"vpc-1/sg-1\",\"vpc-2/sg-2\"],\"control_id\":"
        "\"1.10\",\"failed_resources\":[\"r1\",\"r2\"],\"severity\":\"HIGH\",\"status\":"
        "\"NON-COMPLIANT\",\"targets\":[{\"account_id\":\"" A1 "\",\"components\":["
        "\"account:" A1 "\",\"vpc-1/sg-1\",\"vpc-2/sg-2\"],\"failed_resources\":[\"r2\",\"r1\"],"
        "\"findings\":3,\"region\":\"eu-west-1\",\"severity\":\"HIGH\",\"since\":"
        "\"2023-11-14T22:14:10Z\",\"since_run\":0,\"status\":\"NON-COMPLIANT\","
        "\"suppressed\":1,\"suppressed_resources\":[\"r9\"]},{\"account_id\":\"" A1 "\","
        "\"components\":[],\"failed_resources\":[],\"findings\":2,\"region\":\"us-east-1\","
        "\"severity\":\"LOW\",\"since\":\"2023-11-14T22:13:20Z\",\"since_run\":0,\"status\":"
        "\"COMPLIANT\",\"suppressed\":0,\"suppressed_resources\":[]}],\"title\":\"Ten\"}",
        "control 1.10 over two targets");
    CHECK_INT(json_array_size(json_object_get(doc, "targets")), 3);
    /* a second query gives the same document (nothing shared with the first) */
    json_t *again = NULL;
    CHECK(compliance_query_run(st, &q, &again, &err) == 0);
    CHECK(json_equal(doc, again));
    json_decref(again);
    json_decref(doc);
}

static void
test_filters(struct store *st)
{
    struct compliance_query q = {0};
    struct err err = {0};
    json_t *doc = NULL;

    q.standard = "cis-1.2";
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    CHECK_INT(json_array_size(json_object_get(doc, "standards")), 1);
    CHECK(control(doc, "cis-1.2", "3.1") != NULL && control(doc, "cis-1.4", "1.10") == NULL);
    json_decref(doc);

    q.standard = NULL;
    q.status = "non_compliant";
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    CHECK(control(doc, "cis-1.4", "1.10") != NULL && control(doc, "cis-1.4", "1.2") == NULL &&
          control(doc, "cis-1.2", "3.1") == NULL);
    json_decref(doc);

    q.status = NULL;
    q.account_id = A2;
    CHECK(compliance_query_run(st, &q, &doc, &err) == 0);
    CHECK(control(doc, "cis-1.2", "3.1") != NULL && control(doc, "cis-1.4", "1.10") == NULL);
    CHECK_INT(json_array_size(json_object_get(doc, "targets")), 1);
    json_decref(doc);

    /* a VPC: its account and region, its components and the account-wide ones */
    q.account_id = NULL;
    q.vpc_spec = A1 "/eu-west-1/vpc-1";
    CHECK_MSG(compliance_query_run(st, &q, &doc, &err) == 0, "%s", err.msg);
    check_text(json_object_get(control(doc, "cis-1.4", "1.10"), "components"),
        "[\"account:" A1 "\",\"vpc-1/sg-1\"]", "components of vpc-1");
    CHECK_INT(json_array_size(json_object_get(control(doc, "cis-1.4", "1.10"), "targets")), 1);
    CHECK_INT(json_array_size(json_object_get(doc, "targets")), 1);
    json_decref(doc);
    doc = NULL;

    /* failures */
    q.vpc_spec = A1 "/eu-west-1/vpc-404";
    CHECK(compliance_query_run(st, &q, &doc, &err) == -1);
    CHECK_INT(err.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "vpc-404");
    q.vpc_spec = NULL;
    q.status = "PURPLE";
    CHECK(compliance_query_run(st, &q, &doc, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "PURPLE");
    CHECK(doc == NULL);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/test_compliance_query.XXXXXX", path[512];
    struct store *st = NULL;
    struct err err = {0};
    sqlite3 *db = NULL;
    char *msg = NULL;

    (void)argc;
    (void)argv;
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/driftsync.db", dir);
    CHECK_MSG(store_open(path, &st, &err) == 0, "%s", err.msg);
    if (st == NULL)
        TEST_END();
    /* the VPC the filter names must be known to the store */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_MSG(sqlite3_exec(db, rows_sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg);
    sqlite3_free(msg);
    msg = NULL;
    CHECK_MSG(sqlite3_exec(db,
                  "INSERT INTO vpcs (account_id, region, vpc_id, status) VALUES"
                  " ('" A1 "', 'eu-west-1', 'vpc-1', 'green')",
                  NULL, NULL, &msg) == SQLITE_OK,
        "%s", msg);
    sqlite3_free(msg);
    sqlite3_close(db);

    test_document(st);
    test_filters(st);

    store_close(st);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    CHECK(system(path) == 0);
    TEST_END();
}
