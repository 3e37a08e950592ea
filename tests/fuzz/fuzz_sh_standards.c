/*
 * fuzz_sh_standards.c: the Security Hub standards readers on fuzzed pages:
 * GetEnabledStandards, DescribeStandardsControls,
 * ListSecurityControlDefinitions and the catalogue reader that chains them
 * (sh_read_catalogue), then compliance_judge on that catalogue with no
 * findings. The first byte picks the entry point; the rest is
 * NUL-separated response bodies. Seeds: recorded standards answers and the
 * sample organisation's securityhub-catalog.json.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "mapping/compliance.h"
#include "providers/aws/securityhub.h"

static const char *const sub_arn =
    "arn:aws:securityhub:us-east-1:111111111111:subscription/cis-aws-foundations-benchmark/v/1.4.0";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_aws_env env;
    struct err err = {0};
    json_t *ret = NULL, *cat = NULL, *judged = NULL, *none;
    char key[32];

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    if (fuzz_aws_open(&env, data + 1, size - 1) < 0)
        return 0;
    switch (data[0] % 4) {
    case 0:
        if (sh_get_enabled_standards(env.client, &ret, &err) == 0 &&
            sh_read_catalogue(env.client, ret, &cat, &err) == 0) {
            none = json_array();
            if (none != NULL && compliance_judge(cat, none, &judged, &err) == 0)
                json_decref(judged);
            json_decref(none);
            json_decref(cat);
        }
        break;
    case 1:
        fuzz_ignore(sh_describe_standards_controls(env.client, sub_arn, &ret, &err));
        break;
    case 2:
        fuzz_ignore(sh_list_security_control_definitions(env.client, NULL, &ret, &err));
        break;
    default:
        /* the CIS key finder on the first body as text */
        (void)sh_cis_key(env.parts.part[0], key, sizeof(key));
        (void)sh_err_not_enabled(&err);
        break;
    }
    json_decref(ret);
    fuzz_aws_close(&env);
    return 0;
}
