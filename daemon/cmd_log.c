/*
 * cmd_log.c: `driftsync log verify`: recomputes the drift log's hash chain
 * and checks the drift entries against it; names the first broken entry.
 * Exit 0 when intact, 1 when tampered with or damaged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/app.h"
#include "daemon/commands.h"
#include "store/store.h"

static int
log_run(const struct cli_globals *g, int argc, char **argv)
{
    struct app app;
    struct err err = {0};
    char *problem = NULL;
    size_t events = 0;
    int rc;

    if (argc != 2 || strcmp(argv[1], "verify") != 0)
        return cli_usage_error(&cmd_log, "expected 'verify'");
    rc = app_open(g, APP_STORE, &app);
    if (rc != 0)
        return rc;
    if (store_log_verify(app.store, &problem, &events, &err) < 0) {
        fprintf(stderr, "driftsync: log verify: %s\n", err.msg);
        rc = app_exit_code(&err);
    } else if (problem != NULL) {
        printf("drift log BROKEN: %s\n", problem);
        rc = CLI_EXIT_FAILURE;
    } else {
        printf("drift log OK: %zu event%s, hash chain intact\n", events, events == 1 ? "" : "s");
        rc = CLI_EXIT_OK;
    }
    free(problem);
    app_close(&app);
    return rc;
}

const struct cli_command cmd_log = {
    .name = "log",
    .synopsis = "verify",
    .summary = "check the drift log's hash chain (tamper evidence)",
    .help = "Every drift log event carries a SHA-256 hash chained over the previous one.\n"
            "'verify' recomputes the chain and checks the drift entries agree with it;\n"
            "it names the first broken entry and exits 1 when anything was altered.\n",
    .run = log_run,
};
