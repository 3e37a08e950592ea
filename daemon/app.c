/*
 * app.c: shared start-up of the commands (see app.h).
 */
#include "daemon/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "daemon/util.h"
#include "mapping/map.h"
#include "store/store.h"

int
app_exit_code(const struct err *err)
{
    return err->kind == ERR_CONFIG ? CLI_EXIT_CONFIG : CLI_EXIT_FAILURE;
}

char *
app_db_path(const struct cfg *cfg)
{
    char *p = NULL;

    if (asprintf(&p, "%s/driftsync.db", cfg->state_dir) < 0)
        return NULL;
    return p;
}

int
app_open(const struct cli_globals *g, int need, struct app *app)
{
    struct cfg_diag diag = {0};
    struct err err = {0};
    char *db = NULL;

    memset(app, 0, sizeof(*app));
    if (cfg_load(g->config_path, &app->cfg, &diag, &err) < 0) {
        if (diag.n == 0)
            fprintf(stderr, "driftsync: %s\n", err.msg);
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "driftsync: %s\n", diag.msgs[i]);
        cfg_diag_clear(&diag);
        return app_exit_code(&err);
    }
    if (cfg_check_file_secrecy(g->config_path, app->cfg->holds_secrets, &err) < 0)
        goto fail;
    if (need & APP_RULES) {
        if (map_rules_load(app->cfg->mapping_path, &app->rules, &err) < 0)
            goto fail;
    }
    if (need & APP_STORE) {
        if (util_mkdir_state(app->cfg->state_dir, &err) < 0)
            goto fail;
        db = app_db_path(app->cfg);
        if (db == NULL) {
            err_set(&err, ERR_INTERNAL, "out of memory");
            goto fail;
        }
        if (store_open(db, &app->store, &err) < 0)
            goto fail;
        free(db);
    }
    return 0;
fail:
    free(db);
    fprintf(stderr, "driftsync: %s\n", err.msg);
    app_close(app);
    return app_exit_code(&err);
}

void
app_close(struct app *app)
{
    store_close(app->store);
    map_rules_free(app->rules);
    cfg_free(app->cfg);
    memset(app, 0, sizeof(*app));
}
