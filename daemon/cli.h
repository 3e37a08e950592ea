/*
 * cli: the subcommand table behind `driftsync [GLOBAL OPTIONS] COMMAND`.
 *
 * main.c parses the global options (before the command), finds the command
 * here and calls it with the remaining argv (argv[0] is the command name).
 * Each command lives in its own daemon/cmd_<name>.c and parses its own
 * options with getopt_long; `--help` on any command prints its help text.
 * Commands return an exit code, never call exit().
 */
#pragma once

#include <stdio.h>

#include "daemon/log.h"

/* Documented exit codes (driftsync(8)). */
#define CLI_EXIT_OK      0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE   2
#define CLI_EXIT_CONFIG  78 /* EX_CONFIG: the configuration is invalid */

#define CLI_DEFAULT_CONFIG "/etc/driftsync/driftsync.yaml"

struct cli_globals {
    const char *config_path;  /* borrowed from argv or the default */
    int config_given;         /* 1 when --config was on the command line */
    enum log_level log_level;
};

struct cli_command {
    const char *name;
    const char *synopsis; /* "[--once]" */
    const char *summary;  /* one line for `driftsync --help` */
    const char *help;     /* the full `driftsync CMD --help` text after the synopsis */
    int (*run)(const struct cli_globals *g, int argc, char **argv);
};

/* NULL-terminated table, in help order. */
extern const struct cli_command *const cli_commands[];

/* Prints "usage: driftsync [global options] NAME SYNOPSIS" and the help. */
void cli_command_usage(const struct cli_command *cmd, FILE *out);

/* True when argv holds -h/--help (before any "--"). */
int cli_wants_help(int argc, char **argv);

/* Prints "driftsync NAME: message" plus a --help hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
