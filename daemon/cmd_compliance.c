/*
 * cmd_compliance.c: `driftsync compliance [--account ID] [--vpc VPC]
 * [--standard cis-1.2|cis-1.4|cis-3.0] [--status STATUS] [--json]`: the
 * requirements summary from the store (daemon/compliance_query.h), as
 * recorded by the last sync. Human output is grouped like a CIS report:
 * per standard, NON-COMPLIANT first, then WARNING, NOT_AVAILABLE,
 * COMPLIANT, NO_DATA, DISABLED; within a group by severity (CRITICAL
 * first), then control number. Everything that came from AWS goes through
 * out_clean. Targets whose last Security Hub read failed are listed with
 * the error (their verdicts are the last good ones).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "daemon/app.h"
#include "daemon/commands.h"
#include "daemon/compliance_query.h"
#include "daemon/out.h"

static const char *const groups[] = {"NON-COMPLIANT", "WARNING", "NOT_AVAILABLE", "COMPLIANT",
    "NO_DATA", "DISABLED"};
static const char *const severities[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL",
    NULL};

static const char *
str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

static int
sev_is(json_t *c, const char *sev)
{
    const char *s = json_string_value(json_object_get(c, "severity"));
    size_t i;

    if (sev != NULL)
        return s != NULL && strcmp(s, sev) == 0;
    for (i = 0; severities[i] != NULL; i++) {
        if (s != NULL && strcmp(s, severities[i]) == 0)
            return 0;
    }
    return 1; /* the "other/none" bucket */
}

static void
print_list(const char *label, json_t *arr)
{
    char buf[300];
    json_t *v;
    size_t i;

    if (json_array_size(arr) == 0)
        return;
    printf("      %s:", label);
    json_array_foreach(arr, i, v) {
        if (i == 20) {
            printf(" ... (%zu more)", json_array_size(arr) - 20);
            break;
        }
        printf(" %s", out_clean(json_string_value(v), buf, sizeof(buf)));
    }
    printf("\n");
}

static void
print_report(json_t *doc)
{
    json_t *std, *c, *t;
    size_t i, k;
    char a[64], b[300], e[400];

    json_array_foreach(json_object_get(doc, "targets"), i, t) {
        if (!json_is_null(json_object_get(t, "error")))
            printf("warning: %s/%s: last Security Hub read failed (%s): %s\n",
                out_clean(str(t, "account_id"), a, sizeof(a)), out_clean(str(t, "region"), b, 64),
                str(t, "error_at"), out_clean(str(t, "error"), e, sizeof(e)));
        else if (strcmp(str(t, "hub"), "not_enabled") == 0)
            printf("note: %s/%s: Security Hub is not enabled\n",
                out_clean(str(t, "account_id"), a, sizeof(a)),
                out_clean(str(t, "region"), b, 64));
    }
    if (json_array_size(json_object_get(doc, "standards")) == 0) {
        printf("no compliance data: run 'driftsync sync --once' (Security Hub with a CIS "
               "standard enabled is needed)\n");
        return;
    }
    json_array_foreach(json_object_get(doc, "standards"), i, std) {
        json_t *ctls = json_object_get(std, "controls");

        printf("%s%s\n", i ? "\n" : "", out_clean(str(std, "id"), a, sizeof(a)));
        for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
            size_t count = 0;

            json_array_foreach(ctls, k, c) count += strcmp(str(c, "status"), groups[g]) == 0;
            if (count == 0)
                continue;
            printf("  %s (%zu)\n", groups[g], count);
            for (size_t s = 0; s < sizeof(severities) / sizeof(severities[0]); s++) {
                json_array_foreach(ctls, k, c) {
                    if (strcmp(str(c, "status"), groups[g]) != 0 || !sev_is(c, severities[s]))
                        continue;
                    printf("    %-8s %-13s %s\n", out_clean(str(c, "control_id"), a, 16),
                        str(c, "severity")[0] ? out_clean(str(c, "severity"), e, 16) : "-",
                        out_clean(str(c, "title"), b, sizeof(b)));
                    print_list("failed", json_object_get(c, "failed_resources"));
                    print_list("components", json_object_get(c, "components"));
                }
            }
        }
    }
}

static int
compliance_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"account", required_argument, NULL, 'a'},
        {"vpc", required_argument, NULL, 'v'},
        {"standard", required_argument, NULL, 's'},
        {"status", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct compliance_query q = {0};
    struct app app;
    struct err err = {0};
    json_t *doc = NULL;
    int c, json = 0, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            q.account_id = optarg;
            break;
        case 'v':
            q.vpc_spec = optarg;
            break;
        case 's':
            q.standard = optarg;
            break;
        case 'S':
            q.status = optarg;
            break;
        case 'j':
            json = 1;
            break;
        default:
            return cli_usage_error(&cmd_compliance, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_compliance, "unexpected argument '%s'", argv[optind]);
    rc = app_open(g, APP_STORE, &app);
    if (rc != 0)
        return rc;
    if (compliance_query_run(app.store, &q, &doc, &err) < 0) {
        fprintf(stderr, "driftsync: compliance: %s\n", err.msg);
        rc = err.kind == ERR_CONFIG ? CLI_EXIT_USAGE : app_exit_code(&err);
    } else if (json) {
        out_json(stdout, doc);
    } else {
        print_report(doc);
    }
    json_decref(doc);
    app_close(&app);
    return rc;
}

const struct cli_command cmd_compliance = {
    .name = "compliance",
    .synopsis = "[--account ID] [--vpc VPC] [--standard cis-1.2|cis-1.4|cis-3.0] "
                "[--status STATUS] [--json]",
    .summary = "CIS compliance per control from Security Hub, with failing resources",
    .help = "Shows the CIS AWS Foundations Benchmark controls as the last sync judged them from\n"
            "Security Hub findings: per standard, grouped by status (NON-COMPLIANT first, by\n"
            "severity), with failing resources and the model components they belong to.\n"
            "\n"
            "  --account ID   only this account\n"
            "  --vpc VPC      only the account and region of this VPC (vpc-..., a name, or\n"
            "                 ACCOUNT/REGION/vpc-...); components of that VPC only\n"
            "  --standard S   cis-1.2, cis-1.4 or cis-3.0\n"
            "  --status S     COMPLIANT, NON-COMPLIANT, WARNING, NOT_AVAILABLE, NO_DATA, DISABLED\n"
            "  --json         {\"standards\":[{\"id\",\"controls\":[{\"control_id\",\"title\",\"status\",\n"
            "                 \"severity\",\"failed_resources\",\"components\",\"targets\":[...]}]}],\n"
            "                 \"targets\":[{\"account_id\",\"region\",\"hub\",\"error\",...}]}\n"
            "\n"
            "A control's status over several accounts and regions is the worst of theirs;\n"
            "\"targets\" holds each one's own. Suppressed findings never make a control fail.\n",
    .run = compliance_run,
};
