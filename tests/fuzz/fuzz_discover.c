/*
 * fuzz_discover.c: AWS Config discovery pages through their real parsers.
 * The first byte of the input picks the mode (select, list, aggregate);
 * the rest is a sequence of HTTP response bodies separated by NUL bytes,
 * which a fake transport serves in order to discover_run (select/batch/list
 * pages, NextToken loops, unprocessed keys). Each emitted item goes through
 * the normalisers again as a raw row/item, the way a re-read would.
 * Seeds: recorded SelectResourceConfig, ListDiscoveredResources and
 * BatchGetResourceConfig answers from ../shared/testdata/aws and the
 * sample organisation.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "providers/aws/discover.h"

static int
emit(void *ctx, json_t *item, struct err *err)
{
    long *n = ctx;
    json_t *again;

    (void)err;
    if (!json_is_object(item))
        abort(); /* discover promises objects */
    (*n)++;
    /* the normalisers must accept (or cleanly refuse) their own output */
    again = discover_normalize_base_item(item, err);
    json_decref(again);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"AWS::EC2::VPC", "AWS::EC2::Instance",
        "AWS::EC2::SecurityGroup", "AWS::S3::Bucket"};
    struct fuzz_aws_env env;
    struct discover_options o;
    struct discover_counts counts = {0};
    struct err err = {0};
    long n = 0;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    if (fuzz_aws_open(&env, data + 1, size - 1) < 0)
        return 0;
    memset(&o, 0, sizeof(o));
    switch (data[0] % 3) {
    case 0:
        o.mode = DISCOVER_SELECT;
        break;
    case 1:
        o.mode = DISCOVER_LIST;
        break;
    default:
        o.mode = DISCOVER_AGGREGATE;
        o.aggregator = "org-aggregator";
        break;
    }
    o.types = types;
    o.ntypes = sizeof(types) / sizeof(types[0]);
    o.max_pages = 4;
    fuzz_ignore(discover_run(env.client, &o, emit, &n, &counts, &err));
    if (counts.items != n)
        abort(); /* counts disagree with what was emitted */
    fuzz_aws_close(&env);
    return 0;
}
