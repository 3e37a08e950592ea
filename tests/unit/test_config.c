/*
 * test_config.c: every file in data/config/ok must load; every file in
 * data/config/bad must fail with its .err text among the reported problems.
 * Plus the things a file cannot show: collection of several errors, the
 * secrecy check, durations, and that secrets never reach a message.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/buf.h"
#include "daemon/util.h"
#include "testutil.h"

static void
test_dir(const char *dir, const char *sub, int want_ok)
{
    char path[4096];
    DIR *d;
    struct dirent *de;
    int seen = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    (void)dir;
    d = opendir(path);
    CHECK_MSG(d != NULL, "cannot open %s", path);
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char file[512], errfile[512];
        struct cfg *cfg = NULL;
        struct cfg_diag diag = {0};
        struct err err = {0};
        int rc;

        if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
            continue;
        seen++;
        snprintf(file, sizeof(file), "%s/%s", sub, de->d_name);
        rc = cfg_load(file, &cfg, &diag, &err);
        if (want_ok) {
            CHECK_MSG(rc == 0, "%s: %s", file, err.msg);
        } else {
            struct buf want;
            int found = 0;

            CHECK_MSG(rc < 0, "%s loaded but should fail", file);
            CHECK_INT(err.kind, ERR_CONFIG);
            snprintf(errfile, sizeof(errfile), "%s/%.*s.err", sub, (int)(n - 5), de->d_name);
            buf_init(&want, 4096);
            CHECK(util_read_file(errfile, &want, &err) == 0);
            for (size_t i = 0; i < diag.n; i++)
                if (strstr(diag.msgs[i], buf_str(&want)) != NULL)
                    found = 1;
            CHECK_MSG(found, "%s: no problem contains [%s]; first: [%s]", file, buf_str(&want),
                diag.n ? diag.msgs[0] : "(none)");
            buf_clear(&want);
        }
        cfg_diag_clear(&diag);
        cfg_free(cfg);
    }
    closedir(d);
    CHECK_MSG(seen >= 3, "only %d files in %s", seen, path);
}

static void
test_values(void)
{
    const char *yaml = "state_dir: /srv/ds\n"
                       "interval: 2h\n"
                       "regions: [us-east-1, eu-west-1]\n"
                       "accounts:\n"
                       "  - id: \"012345678901\"\n"
                       "    role_arn: arn:aws:iam::012345678901:role/R\n"
                       "    external_id: xyz\n"
                       "  - 222222222222\n"
                       "ignore:\n"
                       "  - tag: env=dev\n"
                       "  - attribute: configuration.lastModified\n"
                       "concurrency: 8\n";
    struct cfg *cfg = NULL;
    struct err err = {0};

    CHECK(cfg_parse_buffer("t.yaml", yaml, strlen(yaml), &cfg, NULL, &err) == 0);
    if (cfg == NULL)
        return;
    CHECK_STR(cfg->state_dir, "/srv/ds");
    CHECK_INT(cfg->interval_s, 7200);
    CHECK_INT(cfg->nregions, 2);
    CHECK_STR(cfg->regions[1], "eu-west-1");
    CHECK_INT(cfg->naccounts, 2);
    CHECK_STR(cfg->accounts[0].id, "012345678901");
    CHECK_STR(cfg->accounts[0].external_id, "xyz");
    CHECK_STR(cfg->accounts[1].id, "222222222222");
    CHECK_INT(cfg->nignores, 2);
    CHECK_STR(cfg->ignores[0].tag_key, "env");
    CHECK_STR(cfg->ignores[0].tag_value, "dev");
    CHECK_INT(cfg->concurrency, 8);
    CHECK_INT(cfg->discovery, CFG_DISCOVERY_SELECT);
    CHECK_INT(cfg->max_attempts, 3);
    cfg_free(cfg);
}

static void
test_many_errors(void)
{
    const char *yaml = "regions: [us-east-1, bad region]\n"
                       "accounts: [\"1\", \"2\"]\n"
                       "colour: blue\n"
                       "interval: 5\n";
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};

    CHECK(cfg_parse_buffer("m.yaml", yaml, strlen(yaml), &cfg, &diag, &err) < 0);
    CHECK_INT(diag.n, 5);
    CHECK_CONTAINS(err.msg, "(5 problems)");
    CHECK_CONTAINS(err.msg, "m.yaml:1:");
    cfg_diag_clear(&diag);
    CHECK(cfg == NULL);
}

static void
test_secrets(void)
{
    const char *yaml = "regions: [us-east-1]\n"
                       "accounts: [\"111111111111\"]\n"
                       "feed:\n"
                       "  webhook:\n"
                       "    secret: s3cr3t-webhook-key\n";
    const char *bad = "regions: [us-east-1]\n"
                      "accounts: [\"111111111111\"]\n"
                      "feed: {webhook: {secret: s3cr3t-webhook-key, bogus: 1}}\n";
    char path[] = "/tmp/driftsync-cfg-XXXXXX";
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};
    int fd;

    CHECK(cfg_parse_buffer("s.yaml", yaml, strlen(yaml), &cfg, NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "no webhook 'url'");
    CHECK(strstr(err.msg, "s3cr3t") == NULL);
    CHECK(cfg_parse_buffer("s.yaml", bad, strlen(bad), &cfg, &diag, &err) < 0);
    for (size_t i = 0; i < diag.n; i++)
        CHECK(strstr(diag.msgs[i], "s3cr3t") == NULL);
    cfg_diag_clear(&diag);

    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    CHECK(chmod(path, 0644) == 0);
    CHECK(cfg_check_file_secrecy(path, 0, &err) == 0);
    CHECK(cfg_check_file_secrecy(path, 1, &err) < 0);
    CHECK_CONTAINS(err.msg, "readable by group or others");
    CHECK(chmod(path, 0666) == 0);
    CHECK(cfg_check_file_secrecy(path, 0, &err) < 0);
    CHECK_CONTAINS(err.msg, "writable by group or others");
    CHECK(chmod(path, 0600) == 0);
    CHECK(cfg_check_file_secrecy(path, 1, &err) == 0);
    unlink(path);
    CHECK(cfg_check_file_secrecy(path, 0, &err) < 0);
}

static void
test_durations(void)
{
    long s = 0;

    CHECK(cfg_parse_duration("90s", &s) == 0 && s == 90);
    CHECK(cfg_parse_duration("15m", &s) == 0 && s == 900);
    CHECK(cfg_parse_duration("2h", &s) == 0 && s == 7200);
    CHECK(cfg_parse_duration("1d", &s) == 0 && s == 86400);
    CHECK(cfg_parse_duration("30", &s) == 0 && s == 30);
    CHECK(cfg_parse_duration("m", &s) < 0);
    CHECK(cfg_parse_duration("-5m", &s) < 0);
    CHECK(cfg_parse_duration("5x", &s) < 0);
    CHECK(cfg_parse_duration("99999999999999999999h", &s) < 0);
}

static void
test_missing_file(void)
{
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};

    CHECK(cfg_load("/nonexistent/driftsync.yaml", &cfg, &diag, &err) < 0);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "cannot open '/nonexistent/driftsync.yaml'");
    CHECK_INT(diag.n, 1);
    cfg_diag_clear(&diag);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_config DATA_DIR\n");
        return 2;
    }
    test_values();
    test_many_errors();
    test_secrets();
    test_durations();
    test_missing_file();
    /* messages name files relative to the data folder, as the .err files do */
    if (chdir(argv[1]) != 0) {
        fprintf(stderr, "cannot enter %s\n", argv[1]);
        return 2;
    }
    test_dir(".", "ok", 1);
    test_dir(".", "bad", 0);
    TEST_END();
}
