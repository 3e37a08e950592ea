/*
 * cmd_model.c: `driftsync model create|show|export|import|sync|delete`:
 * the saved threat models. `create` and `sync` work from the latest
 * discovered snapshot, so they never call AWS; `import` lets people design
 * a model before deploying (a VPC not discovered yet is named
 * ACCOUNT/REGION/VPC_ID).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "daemon/app.h"
#include "daemon/commands.h"
#include "daemon/compliance_query.h"
#include "daemon/out.h"
#include "mapping/threatdragon.h"
#include "store/store.h"

#define MODEL_FILE_MAX (64 * 1024 * 1024)

static int
fail(const char *what, const struct err *err)
{
    fprintf(stderr, "driftsync: model %s: %s\n", what, err->msg);
    return app_exit_code(err);
}

/* Resolves spec; a full ACCOUNT/REGION/VPC_ID that is not known yet is
 * accepted when allow_new (import of a designed model). */
static int
resolve(struct store *st, const char *spec, int allow_new, struct store_vpc_ref *ref,
    struct err *err)
{
    const char *s1, *s2;

    if (store_vpc_resolve(st, spec, ref, err) == 0)
        return 0;
    if (!allow_new || err->kind != ERR_NOTFOUND)
        return -1;
    s1 = strchr(spec, '/');
    s2 = s1 != NULL ? strchr(s1 + 1, '/') : NULL;
    if (s1 == NULL || s2 == NULL || strchr(s2 + 1, '/') != NULL || s1 - spec != 12 ||
        strncmp(s2 + 1, "vpc-", 4) != 0) {
        err_set(err, ERR_NOTFOUND,
            "no VPC '%s' is known; name a VPC that was not discovered yet as "
            "ACCOUNT/REGION/VPC_ID",
            spec);
        return -1;
    }
    ref->account_id = strndup(spec, (size_t)(s1 - spec));
    ref->region = strndup(s1 + 1, (size_t)(s2 - s1 - 1));
    ref->vpc_id = strdup(s2 + 1);
    if (ref->account_id == NULL || ref->region == NULL || ref->vpc_id == NULL) {
        store_vpc_ref_clear(ref);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    err_clear(err);
    return 0;
}

static int
create_one(struct app *app, const struct store_vpc_ref *ref, int *created, struct err *err)
{
    json_t *model = NULL, *disc = NULL;
    int rc = -1;

    if (store_model_get(app->store, ref, &model, err) < 0)
        goto out;
    if (model != NULL) {
        rc = 0; /* already modelled: create never overwrites */
        goto out;
    }
    if (store_discovered_get(app->store, ref, &disc, err) < 0)
        goto out;
    if (disc == NULL) {
        err_set(err, ERR_NOTFOUND,
            "%s/%s/%s has not been discovered yet: run 'driftsync sync --once' first",
            ref->account_id, ref->region, ref->vpc_id);
        goto out;
    }
    if (store_model_put(app->store, ref, disc, "create", time(NULL), app->cfg->ignores,
            app->cfg->nignores, err) < 0)
        goto out;
    (*created)++;
    rc = 0;
out:
    json_decref(model);
    json_decref(disc);
    return rc;
}

static int
model_create(struct app *app, int argc, char **argv)
{
    struct store_vpc_ref ref = {0};
    struct err err = {0};
    int all = argc == 2 && strcmp(argv[1], "--all") == 0;
    int created = 0, rc;

    if (argc != 2)
        return cli_usage_error(&cmd_model, "model create takes --all or one VPC");
    if (all) {
        json_t *status = NULL, *v;
        size_t i;

        if (store_status(app->store, &status, &err) < 0)
            return fail("create", &err);
        if (store_begin(app->store, &err) < 0) {
            json_decref(status);
            return fail("create", &err);
        }
        json_array_foreach(json_object_get(status, "vpcs"), i, v) {
            struct store_vpc_ref r = {
                .account_id = strdup(json_string_value(json_object_get(v, "account_id"))),
                .region = strdup(json_string_value(json_object_get(v, "region"))),
                .vpc_id = strdup(json_string_value(json_object_get(v, "vpc_id"))),
            };
            int bad = r.account_id == NULL || r.region == NULL || r.vpc_id == NULL;

            if (bad)
                err_set(&err, ERR_INTERNAL, "out of memory");
            if (bad || (create_one(app, &r, &created, &err) < 0 && err.kind != ERR_NOTFOUND)) {
                store_vpc_ref_clear(&r);
                store_rollback(app->store);
                json_decref(status);
                return fail("create", &err);
            }
            store_vpc_ref_clear(&r);
        }
        json_decref(status);
        if (store_commit(app->store, &err) < 0)
            return fail("create", &err);
        printf("created %d threat model%s\n", created, created == 1 ? "" : "s");
        return CLI_EXIT_OK;
    }
    if (resolve(app->store, argv[1], 0, &ref, &err) < 0)
        return fail("create", &err);
    rc = create_one(app, &ref, &created, &err);
    if (rc == 0)
        printf(created ? "created the threat model of %s/%s/%s\n"
                       : "%s/%s/%s already has a threat model (use 'model sync' to update it)\n",
            ref.account_id, ref.region, ref.vpc_id);
    store_vpc_ref_clear(&ref);
    return rc == 0 ? CLI_EXIT_OK : fail("create", &err);
}

/* `export VPC [FILE] [--format json|threat-dragon]`: driftsync's own JSON by
 * default, or the OWASP Threat Dragon v2 model (mapping/threatdragon.h). */
static int
model_export(struct app *app, int argc, char **argv)
{
    struct store_vpc_ref ref = {0};
    struct err err = {0};
    json_t *model = NULL, *td = NULL;
    const char *pos[2] = {NULL, NULL}, *format = "json";
    int npos = 0, rc = CLI_EXIT_OK;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            format = argv[i] + 9;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(&cmd_model, "model export: unknown option '%s'", argv[i]);
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            return cli_usage_error(&cmd_model, "model export takes a VPC and an optional FILE");
        }
    }
    if (npos < 1)
        return cli_usage_error(&cmd_model, "model export takes a VPC and an optional FILE");
    if (strcmp(format, "json") != 0 && strcmp(format, "threat-dragon") != 0)
        return cli_usage_error(&cmd_model,
            "model export: unknown format '%s' (expected json or threat-dragon)", format);
    if (resolve(app->store, pos[0], 0, &ref, &err) < 0)
        return fail("export", &err);
    if (store_model_get(app->store, &ref, &model, &err) < 0) {
        rc = fail("export", &err);
        goto out;
    }
    if (model == NULL) {
        err_set(&err, ERR_NOTFOUND, "%s/%s/%s has no threat model", ref.account_id, ref.region,
            ref.vpc_id);
        rc = fail("export", &err);
        goto out;
    }
    if (strcmp(format, "threat-dragon") == 0) {
        if (threatdragon_from_model(model, &td, &err) < 0) {
            err_prefix(&err, "%s/%s/%s", ref.account_id, ref.region, ref.vpc_id);
            rc = fail("export", &err);
            goto out;
        }
        json_decref(model);
        model = td;
        td = NULL;
    }
    if (pos[1] != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", pos[1]);
        if (json_dump_file(model, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ||
            rename(tmp, pos[1]) < 0) {
            err_set(&err, ERR_CONFIG, "cannot write '%s': %s", pos[1], strerror(errno));
            remove(tmp);
            rc = fail("export", &err);
        }
    } else {
        out_json(stdout, model);
    }
out:
    json_decref(model);
    store_vpc_ref_clear(&ref);
    return rc;
}

static int
model_import(struct app *app, int argc, char **argv)
{
    struct store_vpc_ref ref = {0};
    struct err err = {0};
    json_error_t jerr;
    json_t *model = NULL;
    int rc = CLI_EXIT_OK;

    if (argc != 3)
        return cli_usage_error(&cmd_model, "model import takes a VPC and a FILE");
    model = json_load_file(argv[2], JSON_REJECT_DUPLICATES, &jerr);
    if (model == NULL) {
        err_set(&err, ERR_CONFIG, "%s:%d:%d: %s", argv[2], jerr.line, jerr.column, jerr.text);
        return fail("import", &err);
    }
    if (resolve(app->store, argv[1], 1, &ref, &err) < 0) {
        json_decref(model);
        return fail("import", &err);
    }
    if (store_model_put(app->store, &ref, model, "import", time(NULL), app->cfg->ignores,
            app->cfg->nignores, &err) < 0) {
        err_prefix(&err, "%s", argv[2]);
        rc = fail("import", &err);
    } else {
        printf("imported the threat model of %s/%s/%s from %s\n", ref.account_id, ref.region,
            ref.vpc_id, argv[2]);
    }
    json_decref(model);
    store_vpc_ref_clear(&ref);
    return rc;
}

static int
model_sync(struct app *app, int argc, char **argv)
{
    static const struct option opts[] = {
        {"only", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct store_vpc_ref ref = {0};
    struct err err = {0};
    const char **keys = NULL;
    size_t nkeys = 0, accepted = 0;
    int c, rc = CLI_EXIT_OK;

    keys = calloc((size_t)argc, sizeof(*keys));
    if (keys == NULL)
        return CLI_EXIT_FAILURE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'o') {
            keys[nkeys++] = optarg;
        } else {
            free(keys);
            return cli_usage_error(&cmd_model, "model sync: unknown option");
        }
    }
    /* --only KEY takes further KEYs up to the VPC: `--only K1 K2 VPC` */
    while (nkeys > 0 && optind < argc - 1)
        keys[nkeys++] = argv[optind++];
    if (optind != argc - 1) {
        free(keys);
        return cli_usage_error(&cmd_model, "model sync takes one VPC");
    }
    if (resolve(app->store, argv[optind], 0, &ref, &err) < 0) {
        free(keys);
        return fail("sync", &err);
    }
    if (store_model_accept(app->store, &ref, keys, nkeys, time(NULL), app->cfg->ignores,
            app->cfg->nignores, &accepted, &err) < 0) {
        rc = fail("sync", &err);
    } else {
        printf("accepted %zu difference%s into the threat model of %s/%s/%s\n", accepted,
            accepted == 1 ? "" : "s", ref.account_id, ref.region, ref.vpc_id);
    }
    store_vpc_ref_clear(&ref);
    free(keys);
    return rc;
}

static void
print_model(json_t *model)
{
    json_t *c, *f, *b;
    size_t i;
    char k[512], n[256], t[128];

    printf("threat model of %s/%s/%s", json_string_value(json_object_get(model, "account_id")),
        json_string_value(json_object_get(model, "region")),
        json_string_value(json_object_get(model, "vpc_id")));
    if (json_is_string(json_object_get(model, "name")))
        printf(" (%s)", out_clean(json_string_value(json_object_get(model, "name")), n, sizeof(n)));
    printf("\n\nboundaries:\n");
    json_array_foreach(json_object_get(model, "boundaries"), i, b) {
        printf("  %-16s %s %s\n",
            out_clean(json_string_value(json_object_get(b, "type")), t, sizeof(t)),
            out_clean(json_string_value(json_object_get(b, "key")), k, sizeof(k)),
            out_clean(json_string_value(json_object_get(b, "name")), n, sizeof(n)));
    }
    printf("\ncomponents:\n");
    json_array_foreach(json_object_get(model, "components"), i, c) {
        json_t *reqs = json_object_get(c, "requirements"), *r;
        size_t j;

        printf("  %-22s %-20s %s\n",
            out_clean(json_string_value(json_object_get(c, "type")), t, sizeof(t)),
            out_clean(json_string_value(json_object_get(c, "name")), n, sizeof(n)),
            out_clean(json_string_value(json_object_get(c, "key")), k, sizeof(k)));
        json_array_foreach(reqs, j, r) {
            const char *st = json_string_value(json_object_get(r, "status"));
            printf("      requirement: %s%s%s\n",
                out_clean(json_string_value(json_object_get(r, "title")), n, sizeof(n)),
                st ? ": " : "", st ? st : "");
        }
    }
    printf("\nflows:\n");
    json_array_foreach(json_object_get(model, "flows"), i, f) {
        char k2[512];
        printf("  %s -> %s  %s\n",
            out_clean(json_string_value(json_object_get(f, "from")), k, sizeof(k)),
            out_clean(json_string_value(json_object_get(f, "to")), k2, sizeof(k2)),
            out_clean(json_string_value(json_object_get(f, "label")), n, sizeof(n)));
    }
}

static int
model_show(struct app *app, int argc, char **argv)
{
    struct store_vpc_ref ref = {0};
    struct err err = {0};
    json_t *model = NULL;
    int json = 0, rc = CLI_EXIT_OK;
    const char *spec = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (spec == NULL)
            spec = argv[i];
        else
            return cli_usage_error(&cmd_model, "model show takes one VPC");
    }
    if (spec == NULL)
        return cli_usage_error(&cmd_model, "model show takes one VPC");
    if (resolve(app->store, spec, 0, &ref, &err) < 0)
        return fail("show", &err);
    if (store_model_get(app->store, &ref, &model, &err) < 0) {
        rc = fail("show", &err);
    } else if (model == NULL) {
        err_set(&err, ERR_NOTFOUND, "%s/%s/%s has no threat model (see 'model create')",
            ref.account_id, ref.region, ref.vpc_id);
        rc = fail("show", &err);
    } else {
        /* requirement statuses from the latest Security Hub read; a model
         * without them is still worth showing */
        if (compliance_annotate_model(app->store, model, &err) < 0)
            fprintf(stderr, "driftsync: model show: compliance statuses unavailable: %s\n",
                err.msg);
        if (json)
            out_json(stdout, model);
        else
            print_model(model);
    }
    json_decref(model);
    store_vpc_ref_clear(&ref);
    return rc;
}

static int
model_delete(struct app *app, int argc, char **argv)
{
    struct store_vpc_ref ref = {0};
    struct err err = {0};
    int rc = CLI_EXIT_OK;

    if (argc != 2)
        return cli_usage_error(&cmd_model, "model delete takes one VPC");
    if (resolve(app->store, argv[1], 0, &ref, &err) < 0)
        return fail("delete", &err);
    if (store_model_delete(app->store, &ref, time(NULL), &err) < 0)
        rc = fail("delete", &err);
    else
        printf("deleted the threat model of %s/%s/%s\n", ref.account_id, ref.region, ref.vpc_id);
    store_vpc_ref_clear(&ref);
    return rc;
}

static int
model_run(const struct cli_globals *g, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(struct app *app, int argc, char **argv);
    } subs[] = {
        {"create", model_create},
        {"show", model_show},
        {"export", model_export},
        {"import", model_import},
        {"sync", model_sync},
        {"delete", model_delete},
    };
    struct app app;
    int rc;

    if (argc < 2)
        return cli_usage_error(&cmd_model, "expected create, show, export, import, sync or delete");
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        rc = app_open(g, APP_STORE, &app);
        if (rc != 0)
            return rc;
        rc = subs[i].fn(&app, argc - 1, argv + 1);
        app_close(&app);
        return rc;
    }
    return cli_usage_error(&cmd_model, "unknown subcommand '%s'", argv[1]);
}

const struct cli_command cmd_model = {
    .name = "model",
    .synopsis = "create (--all | VPC) | show VPC [--json] | export VPC [FILE] [--format F] | "
                "import VPC FILE | "
                "sync VPC [--only KEY...] | delete VPC",
    .summary = "create, inspect, export, import and accept threat models",
    .help = "  create --all | VPC    save the last discovered state as the VPC's model\n"
            "                        (never overwrites an existing model)\n"
            "  show VPC [--json]     components, boundaries, flows and requirements\n"
            "  export VPC [FILE] [--format json|threat-dragon]\n"
            "                        the model as JSON (docs/model-schema.md, the default) or as\n"
            "                        an OWASP Threat Dragon v2 model, to FILE or stdout\n"
            "  import VPC FILE       replace the model with FILE; a VPC not discovered yet is\n"
            "                        named ACCOUNT/REGION/VPC_ID\n"
            "  sync VPC [--only KEY...]  accept the deployed state (or only the given component\n"
            "                        keys) into the model; the drift entries are resolved as\n"
            "                        accepted, and the VPC turns green when nothing is left\n"
            "  delete VPC            forget the model (the VPC turns yellow)\n"
            "\n"
            "VPC is a VPC id, a VPC's Name tag, or ACCOUNT/REGION/VPC_ID when ambiguous.\n",
    .run = model_run,
};
