/*
 * cmd_whoami.c: `driftsync whoami`: which AWS identity driftsync would act
 * as. Finds credentials through the default chain (or assumes --role-arn
 * with them), calls STS GetCallerIdentity and prints the account, ARN, user
 * id and the source the credentials came from. The quickest check that a
 * host's credentials, role trust and STS endpoint are set up right; it
 * needs no configuration file. Never prints a key or token.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daemon/commands.h"
#include "daemon/err.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/sts.h"

static void
json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static int
whoami_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"role-arn", required_argument, NULL, 'r'},
        {"external-id", required_argument, NULL, 'e'},
        {"region", required_argument, NULL, 'R'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    const char *role_arn = NULL, *external_id = NULL, *region = NULL;
    struct creds_provider *chain = NULL, *assumed = NULL, *use;
    struct aws_client *client = NULL;
    struct sts_identity id;
    struct creds_options opts;
    struct creds *c = NULL;
    struct err err;
    int json = 0, ch, rc = CLI_EXIT_FAILURE;

    (void)g;
    memset(&id, 0, sizeof(id));
    memset(&opts, 0, sizeof(opts));
    err_clear(&err);
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            role_arn = optarg;
            break;
        case 'e':
            external_id = optarg;
            break;
        case 'R':
            region = optarg;
            break;
        case 'j':
            json = 1;
            break;
        default:
            return cli_usage_error(&cmd_whoami, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_whoami, "unexpected argument '%s'", argv[optind]);
    if (external_id != NULL && role_arn == NULL)
        return cli_usage_error(&cmd_whoami, "--external-id needs --role-arn");
    opts.region = region;
    if (creds_provider_default_chain(&opts, &chain, &err) < 0)
        goto fail;
    use = chain;
    if (role_arn != NULL) {
        if (creds_provider_assume_role(&opts, chain, role_arn, external_id, NULL, 0, &assumed,
                &err) < 0)
            goto fail;
        use = assumed;
    }
    if (creds_provider_get(use, &c, &err) < 0)
        goto fail;
    if (sts_client_new(&opts, region, use, NULL, &client, &err) < 0)
        goto fail;
    if (sts_get_caller_identity(client, &id, &err) < 0)
        goto fail;
    if (json) {
        printf("{\"account\": ");
        json_str(stdout, id.account);
        printf(", \"arn\": ");
        json_str(stdout, id.arn);
        printf(", \"user_id\": ");
        json_str(stdout, id.user_id);
        printf(", \"source\": ");
        json_str(stdout, c->source);
        printf("}\n");
    } else {
        printf("account:     %s\n", id.account);
        printf("arn:         %s\n", id.arn);
        printf("user id:     %s\n", id.user_id);
        printf("credentials: %s\n", c->source);
    }
    rc = CLI_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "driftsync whoami: %s\n", err.msg);
out:
    sts_identity_clear(&id);
    creds_free(c);
    aws_client_free(client);
    creds_provider_free(assumed);
    creds_provider_free(chain);
    return rc;
}

const struct cli_command cmd_whoami = {
    .name = "whoami",
    .synopsis = "[--role-arn ARN [--external-id ID]] [--region REGION] [--json]",
    .summary = "show the AWS identity driftsync's credentials belong to",
    .help = "Finds credentials like the AWS SDKs do (environment, web identity token,\n"
            "~/.aws/credentials and ~/.aws/config with AWS_PROFILE, container endpoint,\n"
            "EC2 instance metadata), optionally assumes a role with them, then asks STS\n"
            "GetCallerIdentity who they belong to.\n"
            "\n"
            "  --role-arn ARN      assume this role first (AssumeRole)\n"
            "  --external-id ID    external id for --role-arn\n"
            "  --region REGION     STS region (default AWS_REGION, AWS_DEFAULT_REGION, the\n"
            "                      profile's region, us-east-1)\n"
            "  --json              print one JSON object: account, arn, user_id, source\n"
            "\n"
            "AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL point STS elsewhere (tests).\n",
    .run = whoami_run,
};
