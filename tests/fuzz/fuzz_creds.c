/*
 * fuzz_creds.c: the credential documents driftsync reads from outside:
 * the IMDS and container-endpoint JSON (creds_parse_metadata_json), the
 * credential_process output (creds_process_parse), and the whole IMDSv2 and
 * container flows (token, role name, credentials) through
 * creds_provider_imds_with / creds_provider_container_with with a fake
 * transport serving the NUL-separated parts of the input in order.
 * The first byte picks the target. Credentials obtained are freed with
 * creds_free, which wipes them. Seeds: recorded IMDS/container answers and
 * the creds unit-test documents.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "providers/aws/creds_int.h"

static time_t
fixed_now(void *ctx)
{
    (void)ctx;
    return 1704200000;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int env_done;
    struct fuzz_aws_env env; /* only its parts and counters are used here */
    struct creds_options o;
    struct creds_provider *p = NULL;
    struct creds *c = NULL;
    struct http_transport t;
    struct err err = {0};
    int rc = -1;

    if (!env_done) {
        /* the container source reads its URL from the environment */
        setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/fuzz", 1);
        unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        env_done = 1;
    }
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    memset(&env, 0, sizeof(env));
    if (fuzz_split(data + 1, size - 1, &env.parts) < 0)
        return 0;
    memset(&o, 0, sizeof(o));
    o.region = "us-east-1";
    o.now = fixed_now;
    t.send = fuzz_aws_send;
    t.ctx = &env;
    switch (data[0] % 4) {
    case 0:
        rc = creds_parse_metadata_json(env.parts.part[0], env.parts.len[0], "imds", &c, &err);
        break;
    case 1:
        rc = creds_process_parse(env.parts.part[0], env.parts.len[0], "fuzz process",
            1704200000, &c, &err);
        break;
    case 2:
        if (creds_provider_imds_with(&o, &t, &p, &err) == 0)
            rc = creds_provider_get(p, &c, &err);
        break;
    default:
        if (creds_provider_container_with(&o, &t, &p, &err) == 0)
            rc = creds_provider_get(p, &c, &err);
        break;
    }
    if (rc == 0 && (c == NULL || c->access_key_id == NULL || c->secret_access_key == NULL))
        abort(); /* success must give usable credentials */
    creds_free(c);
    creds_provider_free(p);
    fuzz_parts_free(&env.parts);
    return 0;
}
