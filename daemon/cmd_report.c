/*
 * cmd_report.c: `driftsync report --html FILE [--title TEXT] [--drift-limit N]`:
 * gathers the status dashboard, the open drift entries and the CIS
 * compliance summary from the store and writes the self-contained HTML
 * report (daemon/report.h) atomically. Never calls AWS: it shows what the
 * last sync recorded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon/app.h"
#include "daemon/buf.h"
#include "daemon/commands.h"
#include "daemon/compliance_query.h"
#include "daemon/report.h"
#include "daemon/util.h"
#include "store/store.h"

/* The CIS summary: every standard, every VPC. A failure here does not
 * fail the report: the section says why it is empty instead. */
static void
load_compliance(struct store *st, json_t **ret, char *why, size_t whylen)
{
    struct compliance_query q = {0};
    struct err err = {0};

    if (compliance_query_run(st, &q, ret, &err) < 0) {
        *ret = NULL;
        snprintf(why, whylen, "%s", err.msg);
    }
}

static int
report_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"html", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, 't'},
        {"drift-limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct store_drift_filter filter = {0};
    struct app app;
    struct err err = {0};
    struct buf html;
    struct report_input in = {0};
    json_t *status = NULL, *drift = NULL, *compliance = NULL;
    const char *path = NULL;
    char why[ERR_MSG_MAX] = "";
    long long limit = REPORT_DRIFT_LIMIT_DEFAULT;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'o') {
            path = optarg;
        } else if (c == 't') {
            in.title = optarg;
        } else if (c == 'n') {
            if (util_parse_ll(optarg, 1, 100000, &limit) < 0)
                return cli_usage_error(&cmd_report,
                    "--drift-limit wants a number from 1 to 100000, not '%s'", optarg);
        } else {
            return cli_usage_error(&cmd_report, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_report, "unexpected argument '%s'", argv[optind]);
    if (path == NULL || path[0] == '\0')
        return cli_usage_error(&cmd_report, "--html FILE is required");

    rc = app_open(g, APP_STORE, &app);
    if (rc != 0)
        return rc;
    buf_init(&html, REPORT_MAX_BYTES);
    if (store_status(app.store, &status, &err) < 0 ||
        store_drift_query(app.store, &filter, &drift, &err) < 0)
        goto fail;
    load_compliance(app.store, &compliance, why, sizeof(why));
    in.now = time(NULL);
    in.status = status;
    in.drift = drift;
    in.compliance = compliance;
    in.compliance_error = why;
    in.drift_limit = (size_t)limit;
    if (report_render_html(&in, &html, &err) < 0 ||
        report_write_file(path, html.data, html.len, &err) < 0)
        goto fail;
    printf("wrote the report to %s\n", path);
    rc = CLI_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "driftsync: report: %s\n", err.msg);
    rc = app_exit_code(&err);
out:
    buf_clear(&html);
    json_decref(status);
    json_decref(drift);
    json_decref(compliance);
    app_close(&app);
    return rc;
}

const struct cli_command cmd_report = {
    .name = "report",
    .synopsis = "--html FILE [--title TEXT] [--drift-limit N]",
    .summary = "write a self-contained HTML report of status, drift and compliance",
    .help = "  --html FILE        where to write the report (replaced atomically)\n"
            "  --title TEXT       the page title (default \"driftsync report\")\n"
            "  --drift-limit N    how many of the newest open drift entries to list in\n"
            "                     detail (default 50; the per-VPC counts cover all of them)\n"
            "\n"
            "The page needs nothing but a browser: no scripts, no external files. It shows\n"
            "what the last sync recorded; run 'driftsync sync --once' first for fresh data.\n",
    .run = report_run,
};
