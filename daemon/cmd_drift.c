/*
 * cmd_drift.c: `driftsync drift [--vpc VPC] [--kind KIND] [--since TIME]
 * [--open|--all] [--json]`: the drift log entries people review.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/app.h"
#include "daemon/commands.h"
#include "daemon/out.h"
#include "daemon/util.h"
#include "store/store.h"

static const char *
str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

/* One short line of what an entry is about; --json has the whole detail. */
static void
describe(json_t *e, char *out, size_t n)
{
    json_t *d = json_object_get(e, "details");
    json_t *item = json_object_get(d, "item");
    const char *kind = str(e, "kind");
    char *old_s = NULL, *new_s = NULL;

    if (strcmp(kind, "changed") == 0) {
        old_s = json_dumps(json_object_get(d, "old"), JSON_COMPACT | JSON_ENCODE_ANY);
        new_s = json_dumps(json_object_get(d, "new"), JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, n, "%s: %s -> %s", str(d, "path"), old_s ? old_s : "null",
            new_s ? new_s : "null");
    } else if (json_object_get(item, "from") != NULL) {
        snprintf(out, n, "flow %s -> %s (%s)", str(item, "from"), str(item, "to"),
            str(item, "label"));
    } else if (item != NULL) {
        snprintf(out, n, "%s %s", str(item, "type")[0] ? str(item, "type") : str(e,
            "resource_type"), str(item, "name"));
    } else {
        snprintf(out, n, "%s", str(e, "resource_type"));
    }
    free(old_s);
    free(new_s);
}

static void
print_entries(json_t *list)
{
    json_t *e;
    size_t i;
    char vpc[64], comp[128], res[512], raw[1024], det[200];

    if (json_array_size(list) == 0) {
        printf("no drift entries\n");
        return;
    }
    printf("%-24s  %-13s  %-24s  %-24s  %-20s  %-8s  %s\n", "VPC", "KIND", "COMPONENT",
        "RESOURCE", "FIRST SEEN", "RESOLVED", "WHAT");
    json_array_foreach(list, i, e) {
        const char *resolved = json_string_value(json_object_get(e, "resolved"));

        describe(e, raw, sizeof(raw));
        printf("%-24s  %-13s  %-24s  %-24s  %-20s  %-8s  %s\n",
            out_clean(str(e, "vpc_id"), vpc, sizeof(vpc)), str(e, "kind"),
            out_clean(str(e, "component"), comp, 25),
            out_clean(str(e, "resource_id")[0] ? str(e, "resource_id") : str(e, "resource_type"),
                res, 25),
            str(e, "first_seen"), resolved ? resolved : "open", out_clean(raw, det, sizeof(det)));
    }
    printf("\n%zu entr%s; 'driftsync drift --json' has every detail\n", json_array_size(list),
        json_array_size(list) == 1 ? "y" : "ies");
}

static int
drift_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"vpc", required_argument, NULL, 'v'},
        {"kind", required_argument, NULL, 'k'},
        {"since", required_argument, NULL, 's'},
        {"open", no_argument, NULL, 'o'},
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct store_drift_filter f = {0};
    struct store_vpc_ref ref = {0};
    const char *vpc = NULL;
    struct app app;
    struct err err = {0};
    json_t *list = NULL;
    int c, json = 0, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            vpc = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "only_in_model") != 0 && strcmp(optarg, "only_in_vpc") != 0 &&
                strcmp(optarg, "changed") != 0)
                return cli_usage_error(&cmd_drift,
                    "--kind must be only_in_model, only_in_vpc or changed");
            f.kind = optarg;
            break;
        case 's':
            if (util_time_parse(optarg, &f.since) < 0)
                return cli_usage_error(&cmd_drift,
                    "--since takes an RFC 3339 time like 2026-11-22T10:00:00Z");
            break;
        case 'o':
            f.all = 0;
            break;
        case 'a':
            f.all = 1;
            break;
        case 'j':
            json = 1;
            break;
        default:
            return cli_usage_error(&cmd_drift, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_drift, "unexpected argument '%s'", argv[optind]);
    rc = app_open(g, APP_STORE, &app);
    if (rc != 0)
        return rc;
    if (vpc != NULL) {
        if (store_vpc_resolve(app.store, vpc, &ref, &err) < 0)
            goto fail;
        f.vpc = &ref;
    }
    if (store_drift_query(app.store, &f, &list, &err) < 0)
        goto fail;
    if (json)
        out_json(stdout, list);
    else
        print_entries(list);
    rc = CLI_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "driftsync: drift: %s\n", err.msg);
    rc = app_exit_code(&err);
out:
    json_decref(list);
    store_vpc_ref_clear(&ref);
    app_close(&app);
    return rc;
}

const struct cli_command cmd_drift = {
    .name = "drift",
    .synopsis = "[--vpc VPC] [--kind KIND] [--since TIME] [--open|--all] [--json]",
    .summary = "list drift log entries (open ones by default)",
    .help = "  --vpc VPC    only this VPC (id, Name tag or ACCOUNT/REGION/VPC_ID)\n"
            "  --kind KIND  only_in_model, only_in_vpc or changed\n"
            "  --since TIME entries seen (or resolved) at or after an RFC 3339 time\n"
            "  --open       open entries only (the default)\n"
            "  --all        resolved entries too\n"
            "  --json       [{\"vpc_id\",\"account_id\",\"region\",\"kind\",\"resource_type\",\n"
            "                \"resource_id\",\"component\",\"details\",\"first_seen\",\"last_seen\",\n"
            "                \"resolved\"}]\n",
    .run = drift_run,
};
