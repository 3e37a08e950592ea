/*
 * fuzz_store.c: the SQL-facing text paths of the store. One in-memory
 * database is set up once (a discovered target with two VPCs, one of them
 * modelled); each input's NUL-separated parts are then used as:
 *   0: a VPC spec for store_vpc_resolve ("vpc-1", a Name, "ACCT/REGION/VPC")
 *   1: a drift kind filter for store_drift_query
 *   2: a model document for store_model_put
 *   3..5: the account, region and VPC id naming it
 *   6..7: an ignore rule (resource type, attribute) applied while reconciling
 * The put runs inside store_begin/store_rollback, so every input sees the
 * same database. Invariants: a resolved reference has all three parts, and
 * the hash-chained drift log still verifies after every input.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"
#include "fuzz_common.h"
#include "store/store.h"

#define T0 1704200000

static const char model_fmt[] =
    "{\"schema\":\"driftsync.model/1\",\"account_id\":\"111111111111\","
    "\"region\":\"us-east-1\",\"vpc_id\":\"%s\",\"name\":\"%s\",\"components\":[{\"key\":"
    "\"arn:aws:ec2:us-east-1:111111111111:instance/i-web\",\"type\":\"AWS EC2\",\"name\":\"web\","
    "\"role\":\"process\",\"resource_type\":\"AWS::EC2::Instance\",\"resource_id\":\"i-web\","
    "\"boundary\":\"%s\",\"attributes\":{\"public_ip\":null}}],\"flows\":[],"
    "\"boundaries\":[{\"key\":\"%s\",\"type\":\"vpc\",\"name\":\"%s\",\"parent\":null}]}";

static json_t *
make_model(const char *vpc, const char *name)
{
    char text[2048];

    snprintf(text, sizeof(text), model_fmt, vpc, name, vpc, vpc, name);
    return json_loads(text, 0, NULL);
}

static struct store *
setup(void)
{
    struct store *st = NULL;
    struct store_vpc_ref ref;
    struct err err = {0};
    json_t *disc = json_object(), *m1 = make_model("vpc-1", "prod"),
           *m2 = make_model("vpc-2", "staging"), *saved = make_model("vpc-1", "prod");
    int64_t run = 0;
    char acct[] = "111111111111", reg[] = "us-east-1", vpc[] = "vpc-1";

    if (disc == NULL || m1 == NULL || m2 == NULL || saved == NULL)
        abort();
    json_object_set_new(disc, "vpc-1", m1);
    json_object_set_new(disc, "vpc-2", m2);
    /* the saved model differs from the discovered one: some open drift */
    json_array_clear(json_object_get(saved, "components"));
    ref.account_id = acct;
    ref.region = reg;
    ref.vpc_id = vpc;
    if (store_open(":memory:", &st, &err) < 0 || store_run_begin(st, T0, &run, &err) < 0 ||
        store_apply_target(st, run, T0, acct, reg, disc, NULL, 0, NULL, &err) < 0 ||
        store_model_put(st, &ref, saved, "import", T0 + 1, NULL, 0, &err) < 0) {
        fprintf(stderr, "fuzz_store setup: %s\n", err.msg);
        abort();
    }
    json_decref(disc);
    json_decref(saved);
    return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct store *st;
    struct fuzz_parts p;
    struct store_vpc_ref ref, put_ref;
    struct store_drift_filter f;
    struct cfg_ignore ig;
    struct err err = {0};
    json_t *out = NULL, *model;
    json_error_t jerr;
    char *problem = NULL;
    size_t events = 0;

    if (st == NULL)
        st = setup();
    if (size > FUZZ_MAX_INPUT || fuzz_split(data, size, &p) < 0)
        return 0;
    memset(&ref, 0, sizeof(ref));
    if (store_vpc_resolve(st, p.part[0], &ref, &err) == 0) {
        if (ref.account_id == NULL || ref.region == NULL || ref.vpc_id == NULL)
            abort(); /* a resolved reference names all three parts */
    }
    memset(&f, 0, sizeof(f));
    f.vpc = ref.vpc_id != NULL ? &ref : NULL;
    f.kind = p.n > 1 ? p.part[1] : NULL;
    f.all = (int)(size & 1);
    f.since = (time_t)(size & 2) * T0 / 2;
    if (store_drift_query(st, &f, &out, &err) == 0)
        json_decref(out);
    store_vpc_ref_clear(&ref);

    if (p.n > 2 && (model = json_loadb(p.part[2], p.len[2], 0, &jerr)) != NULL) {
        put_ref.account_id = (char *)(uintptr_t)(p.n > 3 ? p.part[3] : "111111111111");
        put_ref.region = (char *)(uintptr_t)(p.n > 4 ? p.part[4] : "us-east-1");
        put_ref.vpc_id = (char *)(uintptr_t)(p.n > 5 ? p.part[5] : "vpc-1");
        memset(&ig, 0, sizeof(ig));
        ig.resource_type = (char *)(uintptr_t)(p.n > 6 ? p.part[6] : NULL);
        ig.attribute = (char *)(uintptr_t)(p.n > 7 ? p.part[7] : NULL);
        if (store_begin(st, &err) == 0) {
            fuzz_ignore(store_model_put(st, &put_ref, model, "import", T0 + 2, &ig, p.n > 6, &err));
            store_rollback(st);
        }
        json_decref(model);
    }
    if (store_log_verify(st, &problem, &events, &err) < 0 || problem != NULL) {
        fprintf(stderr, "fuzz_store: drift log: %s\n", problem != NULL ? problem : err.msg);
        abort();
    }
    fuzz_parts_free(&p);
    return 0;
}
