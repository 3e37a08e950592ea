/*
 * test_sh_summarize_fast.c: the parts of sh_finding_summarize that its
 * speed work (issue 8) reshaped, checked against exact expectations: the
 * one-walk member pick (keys matched by length and bytes, so a near-miss
 * key is ignored), string values shared with the finding (and still valid
 * after the finding is freed), enums matched by length (near misses and
 * embedded NUL bytes refused), RelatedRequirements parsed once per finding
 * (checked only once a CIS standard needs them, applied to every standard
 * they name), the CIS keys built without snprintf, and UpdatedAt's fast
 * check agreeing with util_time_parse on every edge (the epoch's last
 * second, leap seconds, offsets, fractions, junk).
 * Needs no data files (argv is unused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/util.h"
#include "providers/aws/securityhub.h"
#include "testutil.h"

#define FID "arn:aws:securityhub:eu-west-2:111122223333:security-control/IAM.5/finding/f-1"

/* A consolidated finding for the tests to vary. */
static json_t *
base_finding(void)
{
    json_error_t jerr;
    json_t *f = json_loads(
        "{\"SchemaVersion\":\"2018-10-08\",\"Id\":\"" FID "\","
        "\"AwsAccountId\":\"111122223333\",\"GeneratorId\":\"security-control/IAM.5\","
        "\"UpdatedAt\":\"2026-11-21T06:15:02.450Z\",\"Title\":\"MFA for console users\","
        "\"Idx\":\"near-miss key of length 3\",\"Titles\":\"ignored\",\"region\":\"xx\","
        "\"Severity\":{\"Label\":\"MEDIUM\",\"Normalized\":40},"
        "\"Workflow\":{\"Status\":\"NOTIFIED\"},\"RecordState\":\"ACTIVE\","
        "\"Compliance\":{\"Status\":\"FAILED\",\"SecurityControlId\":\"IAM.5\","
        "\"AssociatedStandards\":[{\"StandardsId\":\"standards/aws-foundational-security-best-practices/v/1.0.0\"},"
        "{\"StandardsId\":\"standards/cis-aws-foundations-benchmark/v/1.4.0\"},"
        "{\"StandardsId\":\"ruleset/cis-aws-foundations-benchmark/v/1.2.0\"}],"
        "\"RelatedRequirements\":[\"NIST.800-53.r5 IA-2(1)\","
        "\"CIS AWS Foundations Benchmark v1.4.0/1.10\",\"CIS AWS Foundations 1.2\","
        "\"CIS AWS Foundations Benchmark v1.2.0/1.2\",\"CIS AWS Foundations Benchmark v1.4.0/1.10\","
        "\"CIS AWS Foundations Benchmark v1.4.0/1..3\","
        "\"CIS AWS Foundations Benchmark v1.4.00000000000000000000/1.7\"]},"
        "\"Resources\":[{\"Id\":\"arn:aws:iam::111122223333:user/a\",\"Type\":\"AwsIamUser\"},"
        "{\"Id\":\"AWS::::Account:111122223333\",\"Region\":\"eu-west-1\"}]}",
        0, &jerr);

    if (f == NULL)
        fprintf(stderr, "base finding: %s\n", jerr.text);
    return f;
}

/* Summarises f and returns the compact dump or "ERR <kind> <message>"
 * (malloc'd); f is left to the caller. */
static char *
run(json_t *f)
{
    struct err err;
    json_t *s = NULL;
    char *text;

    memset(&err, 0, sizeof(err));
    if (sh_finding_summarize(f, &s, &err) < 0) {
        size_t n = strlen(err.msg) + 32;
        text = malloc(n);
        if (text != NULL)
            snprintf(text, n, "ERR %d %s", (int)err.kind, err.msg);
        return text;
    }
    text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    return text;
}

/* run() on a copy of the base finding with member key of object path
 * (NULL: the top) set to v (stolen; NULL deletes it). */
static char *
run_with(const char *path, const char *key, json_t *v)
{
    json_t *f = base_finding(), *obj;
    char *out;

    obj = path != NULL ? json_object_get(f, path) : f;
    if (v != NULL)
        json_object_set_new(obj, key, v);
    else
        json_object_del(obj, key);
    out = run(f);
    json_decref(f);
    return out;
}

static void
check_run_with(const char *path, const char *key, json_t *v, const char *want)
{
    char *got = run_with(path, key, v);

    CHECK_MSG(got != NULL && strcmp(got, want) == 0, "%s.%s:\n  got:  %s\n  want: %s",
        path != NULL ? path : "", key, got != NULL ? got : "(null)", want);
    free(got);
}

static void
test_exact_summary(void)
{
    json_t *f = base_finding();
    char *got = run(f);

    /* key order; the shared Title/Id/...; cis-1.4 gets 1.10 once (dedup),
     * not 1..3 (invalid), not the over-long version; cis-1.2 gets both its
     * wordings; standard_ids sorted; Region from the second resource */
    CHECK_STR(got, "{\"id\":\"" FID "\",\"resources\":[\"arn:aws:iam::111122223333:user/a\","
                   "\"AWS::::Account:111122223333\"],\"control_ids\":{\"cis-1.4\":[\"1.10\"],"
                   "\"cis-1.2\":[\"1.2\"]},\"standard_ids\":[\"cis-1.2\",\"cis-1.4\"],"
                   "\"account_id\":\"111122223333\",\"region\":\"eu-west-1\","
                   "\"security_control_id\":\"IAM.5\",\"status\":\"FAILED\","
                   "\"workflow\":\"NOTIFIED\",\"record_state\":\"ACTIVE\","
                   "\"severity\":\"MEDIUM\",\"updated_at\":\"2026-11-21T06:15:02.450Z\","
                   "\"title\":\"MFA for console users\"}");
    free(got);
    json_decref(f);
}

/* The summary shares the finding's strings and outlives the finding. */
static void
test_sharing(void)
{
    json_t *f = base_finding(), *s = NULL;
    struct err err;
    char *text;

    memset(&err, 0, sizeof(err));
    CHECK_MSG(sh_finding_summarize(f, &s, &err) == 0, "%s", err.msg);
    if (s == NULL) {
        json_decref(f);
        return;
    }
    CHECK(json_object_get(s, "title") == json_object_get(f, "Title"));
    CHECK(json_object_get(s, "id") == json_object_get(f, "Id"));
    CHECK(json_array_get(json_object_get(s, "resources"), 1) ==
          json_object_get(json_array_get(json_object_get(f, "Resources"), 1), "Id"));
    json_decref(f);
    text = json_dumps(s, JSON_COMPACT);
    CHECK_CONTAINS(text, "\"title\":\"MFA for console users\"");
    CHECK_CONTAINS(text, "\"region\":\"eu-west-1\"");
    free(text);
    json_decref(s);
}

static void
test_fallbacks(void)
{
    json_t *sev;

    /* no Region anywhere: the finding ARN's */
    {
        json_t *f = base_finding();
        char *got;
        json_object_del(json_array_get(json_object_get(f, "Resources"), 1), "Region");
        got = run(f);
        CHECK_CONTAINS(got, "\"region\":\"eu-west-2\"");
        free(got);
        json_decref(f);
    }
    /* Region "" counts as absent; the resource's wins */
    {
        char *got = run_with(NULL, "Region", json_string(""));
        CHECK_CONTAINS(got, "\"region\":\"eu-west-1\"");
        free(got);
    }
    /* no Label: Normalized 40 -> MEDIUM, 39 -> LOW, 90 -> CRITICAL */
    sev = json_pack("{s:i}", "Normalized", 39);
    {
        char *got = run_with(NULL, "Severity", sev);
        CHECK_CONTAINS(got, "\"severity\":\"LOW\"");
        free(got);
    }
    {
        char *got = run_with(NULL, "Severity", json_pack("{s:i}", "Normalized", 90));
        CHECK_CONTAINS(got, "\"severity\":\"CRITICAL\"");
        free(got);
    }
    /* no Workflow: WorkflowState DEFERRED -> SUPPRESSED, none -> NEW */
    {
        json_t *f = base_finding();
        char *got;
        json_object_del(f, "Workflow");
        json_object_set_new(f, "WorkflowState", json_string("DEFERRED"));
        got = run(f);
        CHECK_CONTAINS(got, "\"workflow\":\"SUPPRESSED\"");
        free(got);
        json_object_del(f, "WorkflowState");
        got = run(f);
        CHECK_CONTAINS(got, "\"workflow\":\"NEW\"");
        free(got);
        json_decref(f);
    }
    /* no RecordState: ACTIVE; no SecurityControlId: from GeneratorId */
    {
        char *got = run_with(NULL, "RecordState", NULL);
        CHECK_CONTAINS(got, "\"record_state\":\"ACTIVE\"");
        free(got);
        got = run_with("Compliance", "SecurityControlId", NULL);
        CHECK_CONTAINS(got, "\"security_control_id\":\"IAM.5\"");
        free(got);
    }
}

#define E "ERR 6 finding '" FID "': "

static void
test_enums_and_types(void)
{
    check_run_with("Severity", "Label", json_string("LOWX"),
        E "unknown Severity.Label 'LOWX'");
    check_run_with("Severity", "Label", json_string("LO"), E "unknown Severity.Label 'LO'");
    check_run_with("Severity", "Label", json_string("medium"),
        E "unknown Severity.Label 'medium'");
    check_run_with("Severity", "Label", json_stringn("LOW\0", 4),
        E "Severity.Label contains a NUL byte");
    check_run_with("Workflow", "Status", json_string("NEWS"), E "unknown Workflow.Status 'NEWS'");
    check_run_with("Compliance", "Status", json_string("PASSED "),
        E "unknown Compliance.Status 'PASSED '");
    check_run_with(NULL, "RecordState", json_string("ARCHIVE"), E "unknown RecordState 'ARCHIVE'");
    check_run_with(NULL, "AwsAccountId", json_string("1111222233334"),
        E "AwsAccountId is not a 12-digit account id");
    check_run_with(NULL, "AwsAccountId", json_stringn("11112222333\0", 12),
        E "AwsAccountId contains a NUL byte");
    check_run_with(NULL, "AwsAccountId", NULL, E "AwsAccountId is missing");
    check_run_with(NULL, "Title", json_integer(3), E "Title is not a string");
    check_run_with(NULL, "Compliance", json_array(), E "Compliance is not an object");
    check_run_with(NULL, "GeneratorId", json_null(), E "GeneratorId is missing");
    check_run_with(NULL, "Id", json_stringn("a\0b", 3),
        "ERR 6 finding: Id is not a string of 1 to 1024 bytes");
    check_run_with(NULL, "Id", NULL, "ERR 6 finding: Id is missing");
    /* the first problem in the original order wins: AwsAccountId before
     * Severity, Severity before Workflow */
    {
        json_t *f = base_finding();
        char *got;
        json_object_set_new(json_object_get(f, "Severity"), "Label", json_string("BAD"));
        json_object_set_new(json_object_get(f, "Workflow"), "Status", json_string("BAD"));
        got = run(f);
        CHECK_STR(got, E "unknown Severity.Label 'BAD'");
        free(got);
        json_object_set_new(f, "AwsAccountId", json_string("x"));
        got = run(f);
        CHECK_STR(got, E "AwsAccountId is not a 12-digit account id");
        free(got);
        json_decref(f);
    }
}

static void
test_requirements(void)
{
    json_t *reqs = json_pack("[s,i]", "CIS AWS Foundations Benchmark v1.4.0/1.10", 7);
    json_t *f;
    char *got;

    /* a bad entry is an error (at its index) once a CIS standard needs it */
    check_run_with("Compliance", "RelatedRequirements", reqs,
        E "Compliance.RelatedRequirements[1] is not a short string");
    /* ... but never checked when no CIS standard is associated */
    f = base_finding();
    json_object_set_new(json_object_get(f, "Compliance"), "AssociatedStandards",
        json_pack("[{s:s}]", "StandardsId",
            "standards/aws-foundational-security-best-practices/v/1.0.0"));
    json_object_set_new(json_object_get(f, "Compliance"), "RelatedRequirements",
        json_pack("[i]", 7));
    got = run(f);
    CHECK_CONTAINS(got, "\"control_ids\":{},\"standard_ids\":[]");
    free(got);
    json_decref(f);
    /* an associated-standard error comes before the requirements' */
    f = base_finding();
    json_object_set_new(json_object_get(f, "Compliance"), "AssociatedStandards",
        json_pack("[{s:s},s]", "StandardsId", "standards/cis-aws-foundations-benchmark/v/3.0.0",
            "x"));
    json_object_set_new(json_object_get(f, "Compliance"), "RelatedRequirements",
        json_pack("[i]", 7));
    got = run(f);
    CHECK_STR(got, E "Compliance.RelatedRequirements[0] is not a short string");
    free(got);
    json_array_remove(json_object_get(json_object_get(f, "Compliance"), "RelatedRequirements"),
        0);
    got = run(f);
    CHECK_STR(got, E "Compliance.AssociatedStandards[1] is not an object");
    free(got);
    json_decref(f);
    /* a standard named by several requirements; versions with 3-digit parts */
    f = base_finding();
    json_object_set_new(json_object_get(f, "Compliance"), "AssociatedStandards",
        json_pack("[{s:s},{s:s}]", "StandardsId",
            "standards/cis-aws-foundations-benchmark/v/100.200.0", "StandardsId",
            "standards/cis-aws-foundations-benchmark/v/3.0.0"));
    json_object_set_new(json_object_get(f, "Compliance"), "RelatedRequirements",
        json_pack("[s,s,s,s]", "CIS AWS Foundations Benchmark v3.0.0/2.1",
            "CIS AWS Foundations Benchmark v100.200.0/9.9",
            "CIS AWS Foundations Benchmark v3.0.0/1.4", "CIS AWS Foundations 1.1"));
    got = run(f);
    CHECK_CONTAINS(got, "\"control_ids\":{\"cis-100.200\":[\"9.9\"],\"cis-3.0\":[\"2.1\",\"1.4\"]},"
                        "\"standard_ids\":[\"cis-100.200\",\"cis-3.0\"]");
    free(got);
    json_decref(f);
}

/* Legacy identity: the key from GeneratorId or ProductFields. */
static void
test_legacy(void)
{
    json_t *f = base_finding();
    char *got;

    json_object_del(f, "Compliance");
    json_object_set_new(f, "GeneratorId",
        json_string("arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.3"));
    got = run(f);
    CHECK_CONTAINS(got, "\"control_ids\":{\"cis-1.2\":[\"1.3\"]},\"standard_ids\":[\"cis-1.2\"]");
    CHECK_CONTAINS(got, "\"security_control_id\":null,\"status\":null");
    free(got);
    json_object_set_new(f, "GeneratorId", json_string("custom-rule"));
    json_object_set_new(f, "ProductFields",
        json_pack("{s:s,s:s}", "StandardsGuideArn",
            "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0", "RuleId",
            "CIS.2.4"));
    got = run(f);
    CHECK_CONTAINS(got, "\"control_ids\":{\"cis-1.2\":[\"2.4\"]}");
    free(got);
    json_object_set_new(json_object_get(f, "ProductFields"), "StandardsArn", json_integer(1));
    got = run(f);
    CHECK_STR(got, E "ProductFields.StandardsArn is not a string");
    free(got);
    json_decref(f);
}

/* UpdatedAt is accepted exactly when util_time_parse accepts it. */
static void
test_timestamps(void)
{
    static const char *const ts[] = {"2026-11-21T06:15:02.450Z", "2026-11-21T06:15:02Z",
        "2026-11-21T06:15:02z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
        "1969-12-31T23:59:58Z", "1969-12-31T23:59:59+00:00", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-01-01T23:59:61Z",
        "2026-01-01T23:59:62Z", "2026-01-01T00:00:00+05:30", "2026-01-01T00:00:00-23:59",
        "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+00:60", "2026-01-01T00:00:00+0530",
        "2026-01-01T00:00:00+05:3", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.123456789Z",
        "2026-01-01T00:00:00ZX", "2026-01-01T00:00:00", "2026-01-01T00:00:00.5",
        " 2026-01-01T00:00:00Z", "2026-1-01T00:00:00Z", "2026-01-1T00:00:00Z",
        "2026-01-01t00:00:00Z", "2026-01-01T0:00:00Z", "26-01-01T00:00:00Z",
        "12026-01-01T00:00:00Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00Z", "", "Z"};
    int accepted = 0, refused = 0;

    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        time_t t;
        int want = util_time_parse(ts[i], &t) == 0;
        char *got = run_with(NULL, "UpdatedAt", json_string(ts[i]));
        int ok = got != NULL && strncmp(got, "{", 1) == 0;

        CHECK_MSG(ok == want, "UpdatedAt '%s': summariser %s, util_time_parse %s", ts[i],
            ok ? "accepts" : "refuses", want ? "accepts" : "refuses");
        if (!ok)
            CHECK_STR(got, E "UpdatedAt is not an ISO 8601 timestamp");
        accepted += ok;
        refused += !ok;
        free(got);
    }
    /* both sides are exercised; a few cases by hand */
    CHECK(accepted >= 8 && refused >= 15);
    {
        time_t t;
        CHECK(util_time_parse("1969-12-31T23:59:59Z", &t) < 0); /* timegm's -1 */
        CHECK(util_time_parse("2026-01-01T00:00:00+05:30", &t) == 0);
    }
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_exact_summary();
    test_sharing();
    test_fallbacks();
    test_enums_and_types();
    test_requirements();
    test_legacy();
    test_timestamps();
    TEST_END();
}
