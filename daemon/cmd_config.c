/*
 * cmd_config.c: `driftsync config check [FILE]` validates a configuration
 * without touching AWS: prints "configuration OK" (exit 0) or every problem
 * found, one "file:line:col: message" per line (exit 78).
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "daemon/commands.h"

static int
config_run(const struct cli_globals *g, int argc, char **argv)
{
    const char *path = g->config_path;
    struct cfg_diag diag = {0};
    struct err err = {0};
    struct cfg *cfg = NULL;
    int rc;

    if (argc < 2 || strcmp(argv[1], "check") != 0)
        return cli_usage_error(&cmd_config, "expected 'check'");
    if (argc > 3)
        return cli_usage_error(&cmd_config, "expected at most one file");
    if (argc == 3)
        path = argv[2];
    if (cfg_load(path, &cfg, &diag, &err) < 0) {
        if (diag.n == 0)
            fprintf(stderr, "%s\n", err.msg);
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "%s\n", diag.msgs[i]);
        fprintf(stderr, "%zu problem%s found in %s\n", diag.n ? diag.n : 1,
            diag.n == 1 || diag.n == 0 ? "" : "s", path);
        cfg_diag_clear(&diag);
        return err.kind == ERR_CONFIG ? CLI_EXIT_CONFIG : CLI_EXIT_FAILURE;
    }
    rc = CLI_EXIT_OK;
    if (cfg_check_file_secrecy(path, cfg->holds_secrets, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        rc = CLI_EXIT_CONFIG;
    } else {
        printf("configuration OK\n");
    }
    cfg_free(cfg);
    return rc;
}

const struct cli_command cmd_config = {
    .name = "config",
    .synopsis = "check [FILE]",
    .summary = "validate a configuration file without touching AWS",
    .help = "Reads FILE (default: the global --config file) and checks every key.\n"
            "Prints 'configuration OK' and exits 0, or lists every problem as\n"
            "FILE:LINE:COLUMN: MESSAGE and exits 78.\n",
    .run = config_run,
};
