/*
 * cli.c: shared helpers for subcommands (help and usage errors) and the
 * command table. Adding a command: write daemon/cmd_NAME.c exporting
 * `const struct cli_command cmd_NAME`, declare it below, list it in the table.
 */
#include "daemon/cli.h"

#include <stdarg.h>
#include <string.h>

#include "daemon/commands.h"

const struct cli_command *const cli_commands[] = {
    &cmd_sync,
    &cmd_daemon,
    &cmd_status,
    &cmd_compliance,
    &cmd_model,
    &cmd_drift,
    &cmd_log,
    &cmd_report,
    &cmd_config,
    &cmd_whoami,
    &cmd_help,
    &cmd_version,
    NULL,
};

void
cli_command_usage(const struct cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: driftsync [global options] %s%s%s\n\n%s\n", cmd->name,
        cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->summary);
    if (cmd->help != NULL && cmd->help[0] != '\0')
        fprintf(out, "\n%s", cmd->help);
}

int
cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int
cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "driftsync %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'driftsync %s --help'\n", cmd->name);
    return CLI_EXIT_USAGE;
}
