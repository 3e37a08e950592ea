/*
 * app: what most commands do first: load and check the configuration
 * (refusing an unsafe file), create the state directory, open the store and
 * load the mapping rules. Errors are returned, and printed once by the
 * command that handles them; the exit code follows the error kind (78 for
 * a bad configuration).
 */
#pragma once

#include "daemon/cli.h"
#include "daemon/err.h"

struct cfg;
struct store;
struct map_rules;

struct app {
    struct cfg *cfg;
    struct store *store;
    struct map_rules *rules;
};

enum app_need { APP_STORE = 1, APP_RULES = 2 };

/* Loads g->config_path, then opens what `need` asks for. On failure prints
 * every configuration problem to stderr and returns the exit code to use
 * (CLI_EXIT_CONFIG or CLI_EXIT_FAILURE); 0 on success. */
int app_open(const struct cli_globals *g, int need, struct app *app);
void app_close(struct app *app);

/* Maps an error kind to the documented exit code. */
int app_exit_code(const struct err *err);

/* Path of the database inside state_dir (caller frees). */
char *app_db_path(const struct cfg *cfg);
