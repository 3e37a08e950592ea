/*
 * test_metrics.c: the Prometheus textfile (daemon/metrics.c). Two runs and
 * a store status are folded in and the rendering is compared byte for byte
 * with data/metrics/expected.prom; counters accumulate across runs while
 * gauges show the last run; label values are escaped; families without data
 * are left out; the compliance hook adds its families and removes them
 * again; malformed input changes nothing; the file is replaced atomically
 * with mode 0644 and no temp file left behind, and an unwritable place is
 * reported with its path.
 */
#include "daemon/metrics.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/sync.h"
#include "daemon/util.h"
#include "testutil.h"

static char tmpdir[] = "/tmp/test_metrics.XXXXXX";

static void
report(struct sync_report *rep, long id, const char *status, long elapsed_ms, const char *api)
{
    memset(rep, 0, sizeof(*rep));
    rep->run_id = id;
    snprintf(rep->status, sizeof(rep->status), "%s", status);
    rep->elapsed_ms = elapsed_ms;
    rep->api = json_loads(api, 0, NULL);
    rep->errors = json_array();
    rep->unmapped_types = json_object();
}

static char *
render(struct metrics *m)
{
    struct buf b;
    struct err err = {0};

    buf_init(&b, 1 << 20);
    if (metrics_render(m, &b, &err) < 0) {
        fprintf(stderr, "render: %s\n", err.msg);
        buf_clear(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static void
test_golden(const char *datadir)
{
    struct metrics *m = NULL;
    struct sync_report rep;
    struct err err = {0};
    struct buf want;
    char path[512], *got, *before;
    json_t *status, *judged;

    CHECK_INT(metrics_new(&m, &err), 0);
    /* nothing yet: only the always-present families, all zero */
    got = render(m);
    CHECK_CONTAINS(got, "driftsync_runs_total{status=\"ok\"} 0\n");
    CHECK(strstr(got, "driftsync_last_run_success") == NULL);
    CHECK(strstr(got, "driftsync_vpcs{") == NULL);
    CHECK(strstr(got, "driftsync_compliance_controls") == NULL);
    free(got);

    report(&rep, 1, "partial", 2500,
        "[{\"service\":\"config\",\"operation\":\"SelectResourceConfig\",\"calls\":10,"
        "\"errors\":1,\"throttles\":2,\"retries\":3},"
        "{\"service\":\"sts\",\"operation\":\"AssumeRole\",\"calls\":3,\"errors\":1,"
        "\"throttles\":0,\"retries\":0}]");
    rep.targets = 8;
    rep.targets_failed = 2;
    rep.throttles = 2;
    rep.resources = 400;
    rep.unmapped = 5;
    rep.vpcs_seen = 6;
    CHECK_INT(metrics_add_run(m, &rep, 1700000000, &err), 0);
    sync_report_clear(&rep);
    report(&rep, 2, "ok", 1250,
        "[{\"service\":\"config\",\"operation\":\"SelectResourceConfig\",\"calls\":8,"
        "\"errors\":0,\"throttles\":1,\"retries\":1},"
        "{\"service\":\"we\\\"ird\\\\\",\"operation\":\"Op\\nX\",\"calls\":1}]");
    rep.targets = 8;
    rep.throttles = 1;
    rep.resources = 410;
    rep.unmapped = 4;
    rep.vpcs_seen = 7;
    CHECK_INT(metrics_add_run(m, &rep, 1700000900, &err), 0);
    sync_report_clear(&rep);

    status = json_loads("{\"summary\":{},\"vpcs\":[{\"status\":\"green\",\"error\":null},"
                        "{\"status\":\"red\",\"error\":null},{\"status\":\"yellow\",\"error\":"
                        "\"AccessDenied\"},{\"status\":\"yellow\"},{\"status\":\"green\"}]}",
        0, NULL);
    CHECK_INT(metrics_set_vpcs(m, status, &err), 0);
    json_decref(status);
    judged = json_loads("{\"cis-1.4\":{\"controls\":[],\"totals\":{\"NON-COMPLIANT\":3,"
                        "\"COMPLIANT\":20,\"NO_DATA\":2}},\"aws-fsbp\":{\"totals\":{\"COMPLIANT\":5}}}",
        0, NULL);
    CHECK_INT(metrics_set_compliance(m, judged, 321, &err), 0);
    json_decref(judged);

    got = render(m);
    buf_init(&want, 1 << 20);
    snprintf(path, sizeof(path), "%s/expected.prom", datadir);
    CHECK_INT(util_read_file(path, &want, &err), 0);
    CHECK_STR(got, buf_str(&want));
    if (got != NULL && strcmp(got, buf_str(&want)) != 0) {
        snprintf(path, sizeof(path), "%s/got.prom", tmpdir);
        FILE *f = fopen(path, "w");
        if (f != NULL) {
            fputs(got, f);
            fclose(f);
            fprintf(stderr, "rendering left in %s\n", path);
        }
    }
    buf_clear(&want);

    /* failures change nothing */
    before = got;
    report(&rep, 3, "weird", 10, "[]");
    CHECK_INT(metrics_add_run(m, &rep, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "run 3 has unknown status 'weird'");
    sync_report_clear(&rep);
    report(&rep, 4, "ok", 10,
        "[{\"service\":\"config\",\"operation\":\"A\",\"calls\":1},"
        "{\"service\":\"config\",\"operation\":\"B\",\"calls\":\"many\"}]");
    err_clear(&err);
    CHECK_INT(metrics_add_run(m, &rep, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "api row 1 of run 4: 'calls' is not a count");
    sync_report_clear(&rep);
    report(&rep, 5, "ok", 10, "[{\"operation\":\"A\"}]");
    err_clear(&err);
    CHECK_INT(metrics_add_run(m, &rep, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "lacks service or operation");
    sync_report_clear(&rep);
    status = json_loads("{\"vpcs\":[{\"status\":\"green\"},{\"status\":\"purple\"}]}", 0, NULL);
    err_clear(&err);
    CHECK_INT(metrics_set_vpcs(m, status, &err), -1);
    CHECK_CONTAINS(err.msg, "vpc 1 has status 'purple'");
    json_decref(status);
    status = json_loads("{\"summary\":{}}", 0, NULL);
    CHECK_INT(metrics_set_vpcs(m, status, &err), -1);
    CHECK_CONTAINS(err.msg, "no \"vpcs\" array");
    json_decref(status);
    judged = json_loads("{\"cis-1.4\":{\"totals\":{\"COMPLIANT\":-1}}}", 0, NULL);
    err_clear(&err);
    CHECK_INT(metrics_set_compliance(m, judged, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "standard 'cis-1.4' total 'COMPLIANT' is not a count");
    json_decref(judged);
    judged = json_loads("{\"cis-1.4\":{}}", 0, NULL);
    CHECK_INT(metrics_set_compliance(m, judged, 1, &err), -1);
    CHECK_CONTAINS(err.msg, "standard 'cis-1.4' has no totals");
    json_decref(judged);
    got = render(m);
    CHECK_STR(got, before);
    free(got);
    free(before);

    /* the hook can take the compliance families away again */
    CHECK_INT(metrics_set_compliance(m, NULL, -1, &err), 0);
    got = render(m);
    CHECK(got != NULL && strstr(got, "compliance_controls") == NULL);
    CHECK(got != NULL && strstr(got, "findings_seen") == NULL);
    free(got);
    metrics_free(m);
    metrics_free(NULL);
}

static int
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n;
}

static void
test_write_file(void)
{
    char dir[256], path[300];
    struct err err = {0};
    struct buf b;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/out", tmpdir);
    CHECK_INT(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/driftsync.prom", dir);
    CHECK_INT(metrics_write_file(path, "a 1\n", 4, &err), 0);
    CHECK_INT(metrics_write_file(path, "b 2\n", 4, &err), 0);
    buf_init(&b, 1024);
    CHECK_INT(util_read_file(path, &b, &err), 0);
    CHECK_STR(buf_str(&b), "b 2\n");
    buf_clear(&b);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0644);
    CHECK_INT(count_entries(dir), 1); /* no temp file left */

    /* a missing directory */
    snprintf(path, sizeof(path), "%s/missing/driftsync.prom", tmpdir);
    CHECK_INT(metrics_write_file(path, "a 1\n", 4, &err), -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "No such file or directory");
    /* the target is a directory: rename fails, the temp file is removed */
    snprintf(path, sizeof(path), "%s/isdir", dir);
    CHECK_INT(mkdir(path, 0700), 0);
    err_clear(&err);
    CHECK_INT(metrics_write_file(path, "a 1\n", 4, &err), -1);
    CHECK_CONTAINS(err.msg, "rename");
    CHECK_INT(count_entries(dir), 2);
}

int
main(int argc, char **argv)
{
    char cmd[300];

    if (argc < 2) {
        fprintf(stderr, "usage: test_metrics DATADIR\n");
        return 2;
    }
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_golden(argv[1]);
    test_write_file();
    if (test_failed_ == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", tmpdir);
    }
    TEST_END();
}
