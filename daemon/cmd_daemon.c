/*
 * cmd_daemon.c: `driftsync daemon [--stop-timeout SECONDS]`: the resident
 * service (daemon.c does the work). Runs in the foreground, as systemd
 * expects of Type=notify; logs go to stderr (journal priorities under
 * systemd). The same sync_run as `driftsync sync --once` does each run.
 */
#include <getopt.h>
#include <stdio.h>

#include "daemon/commands.h"
#include "daemon/daemon.h"
#include "daemon/util.h"

static int
daemon_cmd_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"stop-timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct daemon_options o = {.stop_timeout_s = DAEMON_STOP_TIMEOUT_S};
    long long v;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (util_parse_ll(optarg, 1, 3600, &v) < 0)
                return cli_usage_error(&cmd_daemon,
                    "--stop-timeout '%s' is not a number of seconds from 1 to 3600", optarg);
            o.stop_timeout_s = (int)v;
            break;
        default:
            return cli_usage_error(&cmd_daemon, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_daemon, "unexpected argument '%s'", argv[optind]);
    return daemon_main(g, &o);
}

const struct cli_command cmd_daemon = {
    .name = "daemon",
    .synopsis = "[--stop-timeout SECONDS]",
    .summary = "run as a service: sync at start, then every interval (systemd Type=notify)",
    .help = "Stays in the foreground and runs a sync at start, then every `interval` plus a\n"
            "random jitter of up to 10 %, never two at once: a run that overruns the\n"
            "interval delays the next one. Each run is the same as `driftsync sync --once`.\n"
            "One daemon per state directory (a lock on STATE_DIR/driftsync.lock).\n"
            "\n"
            "Signals:\n"
            "  SIGTERM, SIGINT  stop; a run in flight is abandoned at a safe point, rolled\n"
            "                   back and recorded as aborted\n"
            "  SIGHUP           reload the configuration (an invalid one is logged and the\n"
            "                   current one kept; state_dir changes need a restart)\n"
            "  SIGUSR1          start a run now (or right after the one in flight)\n"
            "\n"
            "Under systemd ($NOTIFY_SOCKET) it sends READY=1, STATUS=, WATCHDOG=1 (every half\n"
            "of $WATCHDOG_USEC), RELOADING=1 and STOPPING=1. With `metrics_file:` set, a\n"
            "Prometheus textfile is written after every run.\n"
            "\n"
            "  --stop-timeout SECONDS  how long a stop waits for the run in flight (default 30)\n"
            "\n"
            "Exit status: 0 after a clean stop, 78 for an invalid configuration, 1 when\n"
            "another daemon holds the state directory or a run did not stop in time.\n",
    .run = daemon_cmd_run,
};
