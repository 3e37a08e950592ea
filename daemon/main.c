/*
 * main.c: `driftsync [GLOBAL OPTIONS] COMMAND [ARGS]`. Parses the global
 * options (which must come before the command), sets up logging and hands
 * over to the command. The only file that decides the process exit code.
 *
 * Memory: glibc gives every thread that allocates its own malloc arena, and
 * each arena keeps its high-water mark; with a run's workers (one thread
 * per target in flight) parsing JSON that tripled the peak RSS of a sync
 * over the live heap (bench/: 10k resources, 31 MB live heap, 131 MB RSS
 * with 8 workers; 66 MB with two arenas). Since a target's Security Hub
 * read has its own thread, one arena: at 500k resources one per core (two)
 * still left 202-216 MB peak against 184 MB, at the same wall time: the
 * threads mostly wait on the network, so they rarely contend for it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <curl/curl.h>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/log.h"

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli_globals g = {
        .config_path = CLI_DEFAULT_CONFIG,
        .config_given = 0,
        .log_level = LOG_LEVEL_INFO,
    };
    const char *env_config = getenv("DRIFTSYNC_CONFIG");
    int c, rc;

#ifdef __GLIBC__
    /* one malloc arena for all threads (see the top); MALLOC_ARENA_MAX
     * overrides: memory one thread frees is reused by the next instead of
     * stranded in another arena */
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, 1);
#endif

    if (env_config != NULL && env_config[0] != '\0')
        g.config_path = env_config;
    /* '+': stop at the first non-option, which is the command */
    while ((c = getopt_long(argc, argv, "+c:l:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            g.config_path = optarg;
            g.config_given = 1;
            break;
        case 'l':
            if (log_level_parse(optarg, &g.log_level) < 0) {
                fprintf(stderr, "driftsync: unknown log level '%s' (error, warn, info, debug)\n",
                    optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            cmd_help_print(stdout);
            return CLI_EXIT_OK;
        case 'V':
            return cmd_version.run(&g, 1, argv);
        default:
            fprintf(stderr, "try 'driftsync --help'\n");
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cmd_help_print(stderr);
        return CLI_EXIT_USAGE;
    }
    log_init(g.log_level, -1);
    for (size_t i = 0; cli_commands[i] != NULL; i++) {
        const struct cli_command *cmd = cli_commands[i];
        if (strcmp(cmd->name, argv[optind]) != 0)
            continue;
        if (cli_wants_help(argc - optind, argv + optind)) {
            cli_command_usage(cmd, stdout);
            return CLI_EXIT_OK;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "driftsync: cannot initialise libcurl\n");
            return CLI_EXIT_FAILURE;
        }
        int first = optind;
        optind = 0; /* let the command's getopt_long start afresh */
        rc = cmd->run(&g, argc - first, argv + first);
        curl_global_cleanup();
        return rc;
    }
    fprintf(stderr, "driftsync: unknown command '%s'\ntry 'driftsync --help'\n", argv[optind]);
    return CLI_EXIT_USAGE;
}
