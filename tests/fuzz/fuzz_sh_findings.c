/*
 * fuzz_sh_findings.c: Security Hub GetFindings pages through the real
 * reader (sh_get_findings, both passes, pagination) and each finding it
 * emits through sh_finding_summarize, then the summaries through the
 * compliance code (compliance_merge with itself, compliance_link against a
 * small fixed model). The first byte picks a full or an incremental read;
 * the rest is NUL-separated response bodies served in order.
 * Seeds: recorded GetFindings answers and the sample organisation's
 * findings.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "mapping/compliance.h"
#include "providers/aws/securityhub.h"

static const char model_text[] =
    "[{\"schema\":\"driftsync.model/1\",\"account_id\":\"111111111111\","
    "\"region\":\"us-east-1\",\"vpc_id\":\"vpc-1\",\"components\":[{\"key\":"
    "\"arn:aws:ec2:us-east-1:111111111111:instance/i-web\",\"resource_id\":\"i-web\","
    "\"resource_type\":\"AWS::EC2::Instance\"}],\"flows\":[],\"boundaries\":[]}]";

static int
emit(void *ctx, json_t *finding, struct err *err)
{
    json_t *summaries = ctx, *s = NULL;

    if (sh_finding_summarize(finding, &s, err) == 0) {
        if (!json_is_object(s))
            abort(); /* summaries are objects */
        if (json_array_append_new(summaries, s) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const arns[] = {
        "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
        "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0"};
    struct fuzz_aws_env env;
    struct sh_findings_query q;
    struct sh_findings_counts counts = {0};
    struct err err = {0};
    json_t *summaries, *models, *merged = NULL, *links = NULL;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    summaries = json_array();
    models = json_loads(model_text, 0, NULL);
    if (summaries == NULL || models == NULL || fuzz_aws_open(&env, data + 1, size - 1) < 0) {
        json_decref(summaries);
        json_decref(models);
        return 0;
    }
    memset(&q, 0, sizeof(q));
    q.standards_arns = arns;
    q.nstandards = 2;
    q.max_pages = 4;
    if (data[0] & 1) {
        q.since = 1704100000;
        q.until = 1704200000;
    }
    fuzz_ignore(sh_get_findings(env.client, &q, emit, summaries, &counts, &err));
    if (compliance_merge(summaries, summaries, &merged, &err) == 0)
        json_decref(merged);
    if (compliance_link(summaries, models, &links, &err) == 0)
        json_decref(links);
    fuzz_aws_close(&env);
    json_decref(summaries);
    json_decref(models);
    return 0;
}
