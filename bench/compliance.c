/*
 * bench/compliance.c: the compliance store at organisation scale
 * (store_compliance_apply: merge, judge, link, verdicts); not part of the
 * daemon or of its tests.
 *
 * It builds a store in a temporary directory and applies, per target, the
 * finding summaries of three synthetic runs, each target in its own
 * transaction as daemon/sync.c commits them:
 *   full   a full read: every finding of the target (replaces the set);
 *   none   an incremental read that brought nothing (the common case);
 *   1pct   an incremental read with 1% of the findings changed (status or
 *          workflow flipped, a few archived).
 * The summaries have sh_finding_summarize's shape (consolidated findings of
 * CIS v1.4.0 and v3.0.0 controls, as the generator of tests/emulator makes
 * them: one resource each, about a third FAILED, a few suppressed), and
 * each target has discovered models (5 VPCs, 400 components each) that
 * half of the findings' resources are components of. Only the apply is
 * timed (CPU clock of the process and wall clock); generating a target's
 * summaries is not. Peak RSS (getrusage) is the process's peak so far, so
 * it is printed after every phase. Usage:
 *   compliance [TARGETS [FINDINGS_PER_TARGET]]   (default 40 x 25000)
 * Output: one line per phase and a JSON object on the last line.
 */
#include <sys/resource.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/err.h"
#include "store/compliance.h"
#include "store/store.h"

#define NVPC        5
#define NCOMP       400
#define NCONTROLS   40

static const char *const statuses[] = {"PASSED", "PASSED", "FAILED", "PASSED", "FAILED",
    "PASSED", "WARNING", "PASSED", "FAILED", "NOT_AVAILABLE"};
static const char *const severities[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};

static double
clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
peak_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void
target_name(int t, char acct[13], const char **region)
{
    static const char *const regions[] = {"us-east-1", "eu-west-1"};

    snprintf(acct, 13, "%012d", 100000000 + t / 2);
    *region = regions[t % 2];
}

/* Control k (0..NCONTROLS-1): CIS number and security control id. */
static void
control_of(int k, char num[16], char scid[16])
{
    snprintf(num, 16, "%d.%d", k / 10 + 1, k % 10 + 1);
    snprintf(scid, 16, "%s.%d", k % 3 == 0 ? "IAM" : k % 3 == 1 ? "EC2" : "S3", k + 1);
}

static json_t *
catalogue(void)
{
    static const char *const keys[] = {"cis-1.4", "cis-3.0"};
    static const char *const vers[] = {"1.4.0", "3.0.0"};
    json_t *cat = json_object();

    for (int s = 0; s < 2; s++) {
        json_t *controls = json_array();
        char arn[128];

        for (int k = 0; k < NCONTROLS; k++) {
            char num[16], scid[16], title[64];

            control_of(k, num, scid);
            snprintf(title, sizeof(title), "Synthetic control %s", num);
            json_array_append_new(controls,
                json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "control_id", num, "title", title,
                    "severity", severities[k % 4], "status", k == 7 ? "DISABLED" : "ENABLED",
                    "security_control_ids", scid));
        }
        snprintf(arn, sizeof(arn),
            "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/%s",
            vers[s]);
        json_object_set_new(cat, keys[s], json_pack("{s:s, s:s, s:o}", "standards_arn", arn,
                                              "subscription_arn", arn, "controls", controls));
    }
    return cat;
}

static void
component_arn(const char *acct, const char *region, int vpc, int c, char *out, size_t outsz)
{
    snprintf(out, outsz, "arn:aws:ec2:%s:%s:security-group/sg-%04x%04x", region, acct, vpc, c);
}

static json_t *
models(const char *acct, const char *region)
{
    json_t *m = json_object();

    for (int v = 0; v < NVPC; v++) {
        json_t *comps = json_array();
        char vpc[32], arn[160], rid[32];

        snprintf(vpc, sizeof(vpc), "vpc-%08x", v + 1);
        for (int c = 0; c < NCOMP; c++) {
            component_arn(acct, region, v, c, arn, sizeof(arn));
            snprintf(rid, sizeof(rid), "sg-%04x%04x", v, c);
            json_array_append_new(comps,
                json_pack("{s:s, s:s, s:s, s:s}", "key", arn, "resource_type",
                    "AWS::EC2::SecurityGroup", "resource_id", rid, "name", rid));
        }
        json_object_set_new(m, vpc,
            json_pack("{s:s, s:s, s:s, s:s, s:o, s:[], s:[]}", "schema", "driftsync.model/1",
                "account_id", acct, "region", region, "vpc_id", vpc, "components", comps, "flows",
                "boundaries"));
    }
    return m;
}

/* Finding i of a target; gen changes status/workflow (the 1% run). */
static json_t *
summary(const char *acct, const char *region, long i, int gen, const char *state)
{
    int k = (int)(i % NCONTROLS);
    char num[16], scid[16], id[200], res[160], title[64];
    const char *status = statuses[(i / NCONTROLS + gen) % 10];
    const char *wf = (i % 19 == 0) ? "SUPPRESSED" : gen ? "NOTIFIED" : "NEW";

    control_of(k, num, scid);
    snprintf(id, sizeof(id),
        "arn:aws:securityhub:%s:%s:security-control/%s/finding/%08lx-0000-4000-8000-%012lx",
        region, acct, scid, i, i * 7919);
    if (i % 2 == 0)
        component_arn(acct, region, (int)(i / 2 % NVPC), (int)(i / 2 / NVPC % NCOMP), res,
            sizeof(res));
    else
        snprintf(res, sizeof(res), "arn:aws:iam::%s:user/user-%ld", acct, i);
    snprintf(title, sizeof(title), "Synthetic control %s should hold", num);
    return json_pack("{s:s, s:s, s:s, s:[s, s], s:{s:[s], s:[s]}, s:s, s:s, s:s, s:s, s:s, "
                     "s:[s], s:s, s:s}",
        "id", id, "account_id", acct, "region", region, "standard_ids", "cis-1.4", "cis-3.0",
        "control_ids", "cis-1.4", num, "cis-3.0", num, "security_control_id", scid, "status",
        status, "workflow", wf, "record_state", state, "severity", severities[i % 4],
        "resources", res, "updated_at", "2026-11-21T06:15:02.450Z", "title", title);
}

struct phase {
    const char *name;
    double cpu, wall;
    long findings; /* stored findings the phase covered */
    long read;     /* summaries handed in */
    long rss_kb;
    long events;
};

static int
run_phase(struct store *st, struct phase *ph, int ntargets, long nper, json_t *cat, time_t now,
    struct err *err)
{
    int64_t run;

    if (store_run_begin(st, now, &run, err) < 0)
        return -1;
    for (int t = 0; t < ntargets; t++) {
        const char *region;
        char acct[13];
        json_t *sums = json_array(), *m, *events = json_array();
        double c0, w0;
        int rc;

        target_name(t, acct, &region);
        if (strcmp(ph->name, "full") == 0) {
            for (long i = 0; i < nper; i++)
                json_array_append_new(sums, summary(acct, region, i, 0, "ACTIVE"));
        } else if (strcmp(ph->name, "1pct") == 0) {
            for (long i = 0; i < nper; i += 100)
                json_array_append_new(sums, summary(acct, region, i, 1,
                                                i % 1000 == 0 ? "ARCHIVED" : "ACTIVE"));
        }
        m = models(acct, region);
        struct store_sh_read rd = {
            .hub_enabled = 1,
            .full = strcmp(ph->name, "full") == 0,
            .read_until = now,
            .catalogue = cat,
            .summaries = sums,
            .models = m,
            .style = 2,
        };
        c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        w0 = clock_s(CLOCK_MONOTONIC);
        rc = store_compliance_apply(st, run, now, acct, region, &rd, events, NULL, err);
        ph->cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        ph->wall += clock_s(CLOCK_MONOTONIC) - w0;
        ph->read += (long)json_array_size(sums);
        ph->events += (long)json_array_size(events);
        json_decref(sums);
        json_decref(m);
        json_decref(events);
        if (rc < 0) {
            err_prefix(err, "%s/%s", acct, region);
            return -1;
        }
    }
    ph->findings = ntargets * nper;
    ph->rss_kb = peak_rss_kb();
    return store_run_finish(st, run, now + 1, "ok", NULL, NULL, NULL, err);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/bench-compliance.XXXXXX", path[300];
    struct phase phases[] = {{.name = "full"}, {.name = "none"}, {.name = "1pct"}};
    struct store *st = NULL;
    struct err err = {0};
    int ntargets = argc > 1 ? atoi(argv[1]) : 40;
    long nper = argc > 2 ? atol(argv[2]) : 25000;
    json_t *cat = catalogue(), *out = json_object();
    int rc = 1;

    if (ntargets <= 0 || ntargets > 10000 || nper <= 0 || nper > 10000000) {
        fprintf(stderr, "usage: %s [TARGETS (1..10000) [FINDINGS_PER_TARGET (1..10^7)]]\n",
            argv[0]);
        return 2;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/state.db", dir);
    if (store_open(path, &st, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        goto out;
    }
    for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
        struct phase *ph = &phases[p];

        if (run_phase(st, ph, ntargets, nper, cat, 1790000000 + (time_t)p * 3600, &err) < 0) {
            fprintf(stderr, "phase %s: %s\n", ph->name, err.msg);
            goto out;
        }
        printf("%-5s %d targets x %ld findings: %ld read, cpu %.3f s, wall %.3f s, "
               "%.0f stored findings/s (cpu), %ld events, peak RSS %ld MB\n",
            ph->name, ntargets, nper, ph->read, ph->cpu, ph->wall,
            ph->cpu > 0 ? (double)ph->findings / ph->cpu : 0.0, ph->events, ph->rss_kb / 1024);
        json_object_set_new(out, ph->name,
            json_pack("{s:I, s:I, s:f, s:f, s:f, s:I, s:I}", "findings",
                (json_int_t)ph->findings, "read", (json_int_t)ph->read, "cpu_s", ph->cpu, "wall_s",
                ph->wall, "findings_per_s", ph->cpu > 0 ? (double)ph->findings / ph->cpu : 0.0,
                "events", (json_int_t)ph->events, "peak_rss_kb", (json_int_t)ph->rss_kb));
    }
    {
        char *txt = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", txt ? txt : "{}");
        free(txt);
    }
    rc = 0;
out:
    store_close(st);
    json_decref(cat);
    json_decref(out);
    snprintf(path, sizeof(path), "%s/state.db", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.db-shm", dir);
    unlink(path);
    rmdir(dir);
    return rc;
}
