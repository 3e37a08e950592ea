/*
 * cmd_help.c: `driftsync help [COMMAND]` and the top-level usage text.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/commands.h"

void
cmd_help_print(FILE *out)
{
    fprintf(out,
        "usage: driftsync [--config FILE] [--log-level LEVEL] COMMAND [ARGS]\n"
        "       driftsync --version | --help\n"
        "\n"
        "Keeps per-VPC threat models in sync with what AWS Config says is deployed.\n"
        "\n"
        "global options (before the command):\n"
        "  -c, --config FILE       configuration file (default " CLI_DEFAULT_CONFIG ")\n"
        "  -l, --log-level LEVEL   error, warn, info (default) or debug\n"
        "  -h, --help              this text; COMMAND --help for a command's options\n"
        "  -V, --version           print the version and exit\n"
        "\n"
        "commands:\n");
    for (size_t i = 0; cli_commands[i] != NULL; i++)
        fprintf(out, "  %-14s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out,
        "\n"
        "exit status: 0 success, 1 failure, 2 usage error, 78 invalid configuration\n");
}

static int
help_run(const struct cli_globals *g, int argc, char **argv)
{
    (void)g;
    if (argc < 2) {
        cmd_help_print(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage_error(&cmd_help, "expected at most one command name");
    for (size_t i = 0; cli_commands[i] != NULL; i++) {
        if (strcmp(cli_commands[i]->name, argv[1]) == 0) {
            cli_command_usage(cli_commands[i], stdout);
            return CLI_EXIT_OK;
        }
    }
    return cli_usage_error(&cmd_help, "unknown command '%s'", argv[1]);
}

const struct cli_command cmd_help = {
    .name = "help",
    .synopsis = "[COMMAND]",
    .summary = "show the list of commands, or one command's options",
    .help = NULL,
    .run = help_run,
};
