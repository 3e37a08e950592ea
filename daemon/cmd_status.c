/*
 * cmd_status.c: `driftsync status [--json]`: the dashboard: counts of
 * accounts, VPCs, threat models and out-of-sync models, then one row per
 * VPC with its status (coloured on a TTY), difference counts, last
 * successful sync and last error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "daemon/app.h"
#include "daemon/commands.h"
#include "daemon/out.h"
#include "store/store.h"

static const char *
str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

static long long
num(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void
print_status(json_t *doc)
{
    json_t *sum = json_object_get(doc, "summary");
    json_t *vpcs = json_object_get(doc, "vpcs");
    json_t *v;
    size_t i;
    char vpc[64], name[40], st[16], err[300], acct[16], region[24];

    printf("accounts %lld   VPCs %lld   threat models %lld   out of sync %lld\n\n",
        num(sum, "accounts"), num(sum, "vpcs"), num(sum, "models"), num(sum, "out_of_sync"));
    if (json_array_size(vpcs) == 0) {
        printf("no VPCs recorded yet: run 'driftsync sync --once'\n");
        return;
    }
    printf("%-12s  %-14s  %-24s  %-20s  %-6s  %10s  %8s  %7s  %-20s  %s\n", "ACCOUNT", "REGION",
        "VPC", "NAME", "STATUS", "ONLY-MODEL", "ONLY-VPC", "CHANGED", "LAST SYNC", "ERROR");
    json_array_foreach(vpcs, i, v) {
        out_clean(str(v, "status"), st, sizeof(st));
        printf("%-12s  %-14s  %-24s  %-20s  %s%-6s%s  %10lld  %8lld  %7lld  %-20s  %s\n",
            out_clean(str(v, "account_id"), acct, sizeof(acct)),
            out_clean(str(v, "region"), region, sizeof(region)),
            out_clean(str(v, "vpc_id"), vpc, sizeof(vpc)),
            out_clean(str(v, "name"), name, sizeof(name)), out_status_color(st), st, out_reset(),
            num(v, "only_in_model"), num(v, "only_in_vpc"), num(v, "changed"),
            str(v, "last_sync")[0] ? str(v, "last_sync") : "never",
            out_clean(str(v, "error"), err, sizeof(err)));
    }
}

static int
status_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct app app;
    struct err err = {0};
    json_t *doc = NULL;
    int c, json = 0, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return cli_usage_error(&cmd_status, "unknown option");
    }
    if (optind < argc)
        return cli_usage_error(&cmd_status, "unexpected argument '%s'", argv[optind]);
    rc = app_open(g, APP_STORE, &app);
    if (rc != 0)
        return rc;
    if (store_status(app.store, &doc, &err) < 0) {
        fprintf(stderr, "driftsync: status: %s\n", err.msg);
        rc = app_exit_code(&err);
    } else if (json) {
        out_json(stdout, doc);
    } else {
        print_status(doc);
    }
    json_decref(doc);
    app_close(&app);
    return rc;
}

const struct cli_command cmd_status = {
    .name = "status",
    .synopsis = "[--json]",
    .summary = "the dashboard: every VPC with its yellow/red/green status",
    .help = "  --json   {\"summary\":{\"accounts\",\"vpcs\",\"models\",\"out_of_sync\"},\n"
            "            \"vpcs\":[{\"account_id\",\"region\",\"vpc_id\",\"status\",\"only_in_model\",\n"
            "            \"only_in_vpc\",\"changed\",\"error\",\"last_sync\"}]}\n",
    .run = status_run,
};
