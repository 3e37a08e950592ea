/*
 * cmd_version.c: `driftsync version` (also `driftsync --version`): the
 * program version, the versions of the libraries it was built against and
 * the malloc it runs on (jemalloc in a release build, see daemon/mem.c).
 */
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>
#include <yaml.h>

#include "daemon/commands.h"
#include "daemon/mem.h"
#include "version.h"

static int
version_run(const struct cli_globals *g, int argc, char **argv)
{
    (void)g;
    if (argc > 1)
        return cli_usage_error(&cmd_version, "unexpected argument '%s'", argv[1]);
    printf("driftsync %s\n", DRIFTSYNC_VERSION);
    printf("built with libcurl %s, OpenSSL %s, jansson %s, libyaml %s, SQLite %s\n",
        LIBCURL_VERSION, OPENSSL_VERSION_STR, JANSSON_VERSION, yaml_get_version_string(),
        sqlite3_libversion());
    printf("memory allocator: %s\n", mem_allocator());
    return CLI_EXIT_OK;
}

const struct cli_command cmd_version = {
    .name = "version",
    .synopsis = "",
    .summary = "print the version of driftsync and its libraries",
    .help = NULL,
    .run = version_run,
};
