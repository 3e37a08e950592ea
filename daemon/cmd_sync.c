/*
 * cmd_sync.c: `driftsync sync [--once] [--json]`: one run of the main job
 * (the daemon runs the same sync_run on its schedule). Exit 0 when every
 * target succeeded, 1 when any failed (the others are still recorded).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "daemon/app.h"
#include "daemon/commands.h"
#include "daemon/lock.h"
#include "daemon/out.h"
#include "daemon/sync.h"

static void
print_report(const struct sync_report *rep)
{
    json_t *e;
    size_t i;
    char a[512], b[1024];

    printf("run %lld %s: %ld target%s (%ld failed), %ld resources, %ld API calls "
           "(%ld throttled), %.1f s\n",
        (long long)rep->run_id, rep->status, rep->targets, rep->targets == 1 ? "" : "s",
        rep->targets_failed, rep->resources, rep->api_calls, rep->throttles,
        (double)rep->elapsed_ms / 1000.0);
    if (rep->compliance_failed > 0)
        printf("Security Hub could not be read for %ld target%s: their compliance stays as "
               "last recorded\n",
            rep->compliance_failed, rep->compliance_failed == 1 ? "" : "s");
    if (rep->unmapped > 0) {
        const char *type;
        json_t *n;
        printf("resources without a mapping rule: %ld (", rep->unmapped);
        i = 0;
        json_object_foreach(rep->unmapped_types, type, n) {
            printf("%s%s %lld", i++ ? ", " : "", out_clean(type, a, sizeof(a)),
                (long long)json_integer_value(n));
        }
        printf(")\n");
    }
    json_array_foreach(rep->errors, i, e) {
        printf("failed: %s: %s\n",
            out_clean(json_string_value(json_object_get(e, "target")), a, sizeof(a)),
            out_clean(json_string_value(json_object_get(e, "error")), b, sizeof(b)));
    }
}

static int
sync_cmd_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"once", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct app app;
    struct lock *lk = NULL;
    struct sync_report rep;
    struct err err = {0};
    int c, json = 0, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            break; /* one run is what this command does; the daemon repeats */
        case 'j':
            json = 1;
            break;
        default:
            return cli_usage_error(&cmd_sync, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_sync, "unexpected argument '%s'", argv[optind]);
    rc = app_open(g, APP_STORE | APP_RULES, &app);
    if (rc != 0)
        return rc;
    /* one run at a time per state directory, daemon included */
    if (lock_acquire(app.cfg->state_dir, &lk, &err) < 0) {
        fprintf(stderr, "driftsync: sync: %s\n", err.msg);
        app_close(&app);
        return CLI_EXIT_FAILURE;
    }
    struct sync_env env = {.cfg = app.cfg, .rules = app.rules, .store = app.store};
    if (sync_run(&env, &rep, &err) < 0) {
        fprintf(stderr, "driftsync: sync: %s\n", err.msg);
        rc = app_exit_code(&err);
    } else {
        rc = rep.targets_failed > 0 || rep.compliance_failed > 0 ? CLI_EXIT_FAILURE
                                                                 : CLI_EXIT_OK;
    }
    if (json) {
        json_t *doc = json_pack("{s:I, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i,"
                                " s:i, s:i, s:O, s:O, s:O}",
            "run_id", (json_int_t)rep.run_id, "status", rep.status, "targets",
            (json_int_t)rep.targets, "targets_failed", (json_int_t)rep.targets_failed,
            "compliance_failed", (json_int_t)rep.compliance_failed,
            "resources", (json_int_t)rep.resources, "vpcs", (json_int_t)rep.vpcs_seen,
            "vpcs_unchanged", (json_int_t)rep.vpcs_unchanged, "resources_cached",
            (json_int_t)rep.items_cached, "targets_reused", (json_int_t)rep.targets_reused,
            "findings",
            (json_int_t)rep.findings, "api_calls", (json_int_t)rep.api_calls,
            "throttles", (json_int_t)rep.throttles, "unmapped", (json_int_t)rep.unmapped,
            "unmapped_types", rep.unmapped_types, "errors", rep.errors, "api", rep.api);
        out_json(stdout, doc);
        json_decref(doc);
    } else {
        print_report(&rep);
    }
    sync_report_clear(&rep);
    lock_release(lk);
    app_close(&app);
    return rc;
}

const struct cli_command cmd_sync = {
    .name = "sync",
    .synopsis = "[--once] [--json]",
    .summary = "read every account and region once, compare with the models, record drift",
    .help = "Discovers every configured account x region (or the organisation's aggregator),\n"
            "maps each VPC to a threat model, compares it with the saved model, sets the\n"
            "VPC's status (yellow: no model, red: out of sync, green: in sync) and records\n"
            "every difference in the drift log, all in one transaction.\n"
            "\n"
            "  --once   one run (the default; the daemon repeats runs on its schedule)\n"
            "  --json   print the run's record as JSON\n"
            "\n"
            "Exit status: 0 when every target succeeded, 1 when any failed (the others are\n"
            "still recorded; a failed target's VPCs keep their status, flagged with the error),\n"
            "including a target whose Security Hub read failed (its compliance stays as last\n"
            "recorded, flagged; its Config part is recorded).\n",
    .run = sync_cmd_run,
};
