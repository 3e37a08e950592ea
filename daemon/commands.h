/*
 * commands.h: every subcommand's table entry (defined in daemon/cmd_*.c),
 * so each command file and the table in cli.c see one declaration.
 */
#pragma once

#include <stdio.h>

#include "daemon/cli.h"

extern const struct cli_command cmd_config;
extern const struct cli_command cmd_drift;
extern const struct cli_command cmd_log;
extern const struct cli_command cmd_report;
extern const struct cli_command cmd_model;
extern const struct cli_command cmd_status;
extern const struct cli_command cmd_compliance;
extern const struct cli_command cmd_sync;
extern const struct cli_command cmd_daemon;
extern const struct cli_command cmd_help;
extern const struct cli_command cmd_version;
extern const struct cli_command cmd_whoami;

/* The top-level usage text (cmd_help.c). */
void cmd_help_print(FILE *out);
