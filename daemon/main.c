/*
 * main.c: `driftsync [GLOBAL OPTIONS] COMMAND [ARGS]`. Parses the global
 * options (which must come before the command), sets up logging and hands
 * over to the command. The only file that decides the process exit code.
 *
 * Memory: the binary runs on jemalloc when built with DRIFTSYNC_JEMALLOC
 * (daemon/mem.c says why), with one arena: its default (four per core)
 * doubled a sync's peak RSS (bench/: 10k resources, 52 MB with one arena,
 * 114 MB with eight) while the threads, which mostly wait on the network,
 * gain nothing from more. On glibc's malloc mem_init asks for one arena
 * too: there each thread's arena keeps its own high-water mark (at 500k
 * resources, two arenas left 202-216 MB peak against 184 MB with one).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon/cli.h"
#include "daemon/commands.h"
#include "daemon/log.h"
#include "daemon/mem.h"

#ifdef DRIFTSYNC_JEMALLOC
/* jemalloc's options, read at its first allocation (malloc_conf(3));
 * MALLOC_CONF in the environment still overrides them */
extern const char *malloc_conf;
const char *malloc_conf = "narenas:1";
#endif

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

    mem_init();

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
