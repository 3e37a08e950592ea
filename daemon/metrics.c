/*
 * metrics.c: Prometheus text exposition for node_exporter (see metrics.h).
 * The state is a handful of counters plus two jansson objects (API rows
 * keyed "service/operation", compliance totals); label sets are bounded by
 * the AWS operations driftsync calls and the standards enabled, so the file
 * cannot grow without bound. Output order is sorted, so the same state
 * always renders the same bytes (the unit test compares them).
 */
#include "daemon/metrics.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/sync.h"
#include "daemon/util.h"

static const char *const run_statuses[] = {"ok", "partial", "failed", "aborted"};
#define NSTATUS (sizeof(run_statuses) / sizeof(run_statuses[0]))
static const char *const vpc_statuses[] = {"green", "yellow", "red"};
#define NVPC (sizeof(vpc_statuses) / sizeof(vpc_statuses[0]))

struct metrics {
    long runs[NSTATUS];
    double duration_sum_s;
    long duration_count;
    long throttles_total;
    json_t *api; /* {"svc/op": {"service","operation","calls","errors","throttles","retries"}} */
    int have_last;
    double last_duration_s;
    time_t last_finished_at;
    int last_success;
    long last_targets_ok, last_targets_failed;
    long last_resources, last_unmapped, last_vpcs_seen;
    int have_vpcs;
    long vpcs[NVPC];
    long vpcs_with_error;
    json_t *compliance; /* {"standard": {"STATUS": n}} or NULL */
    long findings_seen; /* < 0: unknown */
};

int
metrics_new(struct metrics **ret, struct err *err)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    m->api = json_object();
    if (m->api == NULL) {
        free(m);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    m->findings_seen = -1;
    *ret = m;
    return 0;
}

void
metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    json_decref(m->api);
    json_decref(m->compliance);
    free(m);
}

static int
add_counter(json_t *row, const char *field, json_t *src, struct err *err)
{
    json_t *v = json_object_get(src, field);
    json_int_t prev = json_integer_value(json_object_get(row, field));

    if (json_object_set_new(row, field, json_integer(prev + (v ? json_integer_value(v) : 0))) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

int
metrics_add_run(struct metrics *m, const struct sync_report *rep, time_t finished_at,
    struct err *err)
{
    static const char *const fields[] = {"calls", "errors", "throttles", "retries"};
    size_t si, i;
    json_t *row;

    for (si = 0; si < NSTATUS; si++) {
        if (strcmp(rep->status, run_statuses[si]) == 0)
            break;
    }
    if (si == NSTATUS)
        return err_set(err, ERR_INTERNAL, "metrics: run %lld has unknown status '%.20s'",
            (long long)rep->run_id, rep->status);
    /* check every api row before changing anything */
    json_array_foreach(rep->api, i, row) {
        if (!json_is_string(json_object_get(row, "service")) ||
            !json_is_string(json_object_get(row, "operation")))
            return err_set(err, ERR_INTERNAL,
                "metrics: api row %zu of run %lld lacks service or operation", i,
                (long long)rep->run_id);
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            json_t *v = json_object_get(row, fields[f]);
            if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
                return err_set(err, ERR_INTERNAL,
                    "metrics: api row %zu of run %lld: '%s' is not a count", i,
                    (long long)rep->run_id, fields[f]);
        }
    }
    json_array_foreach(rep->api, i, row) {
        const char *svc = json_string_value(json_object_get(row, "service"));
        const char *op = json_string_value(json_object_get(row, "operation"));
        char key[256];
        json_t *acc;

        snprintf(key, sizeof(key), "%s/%s", svc, op);
        acc = json_object_get(m->api, key);
        if (acc == NULL) {
            acc = json_pack("{s:s, s:s}", "service", svc, "operation", op);
            if (acc == NULL || json_object_set_new(m->api, key, acc) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
        }
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            if (add_counter(acc, fields[f], row, err) < 0)
                return -1;
        }
    }
    m->runs[si]++;
    m->duration_sum_s += (double)rep->elapsed_ms / 1000.0;
    m->duration_count++;
    m->throttles_total += rep->throttles;
    m->have_last = 1;
    m->last_duration_s = (double)rep->elapsed_ms / 1000.0;
    m->last_finished_at = finished_at;
    m->last_success = strcmp(rep->status, "ok") == 0;
    m->last_targets_failed = rep->targets_failed;
    m->last_targets_ok = rep->targets > rep->targets_failed ? rep->targets - rep->targets_failed : 0;
    m->last_resources = rep->resources;
    m->last_unmapped = rep->unmapped;
    m->last_vpcs_seen = rep->vpcs_seen;
    return 0;
}

int
metrics_set_vpcs(struct metrics *m, const json_t *status_doc, struct err *err)
{
    long counts[NVPC] = {0}, with_error = 0;
    json_t *vpcs = json_object_get(status_doc, "vpcs"), *v;
    size_t i, s;

    if (!json_is_array(vpcs))
        return err_set(err, ERR_INTERNAL, "metrics: status document has no \"vpcs\" array");
    json_array_foreach(vpcs, i, v) {
        const char *st = json_string_value(json_object_get(v, "status"));
        json_t *e = json_object_get(v, "error");

        for (s = 0; st != NULL && s < NVPC; s++) {
            if (strcmp(st, vpc_statuses[s]) == 0)
                break;
        }
        if (st == NULL || s == NVPC)
            return err_set(err, ERR_INTERNAL, "metrics: vpc %zu has status '%.20s'", i,
                st ? st : "(none)");
        counts[s]++;
        if (e != NULL && !json_is_null(e))
            with_error++;
    }
    memcpy(m->vpcs, counts, sizeof(counts));
    m->vpcs_with_error = with_error;
    m->have_vpcs = 1;
    return 0;
}

int
metrics_set_compliance(struct metrics *m, json_t *judged, long findings_seen,
    struct err *err)
{
    json_t *copy = NULL, *std, *n;
    const char *name, *status;

    if (judged != NULL) {
        if (!json_is_object(judged))
            return err_set(err, ERR_INTERNAL, "metrics: compliance result is not an object");
        copy = json_object();
        if (copy == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory");
        json_object_foreach(judged, name, std) {
            json_t *totals = json_object_get(std, "totals"), *row = json_object();

            if (row == NULL || json_object_set_new(copy, name, row) < 0) {
                json_decref(copy);
                return err_set(err, ERR_INTERNAL, "out of memory");
            }
            if (!json_is_object(totals)) {
                json_decref(copy);
                return err_set(err, ERR_INTERNAL, "metrics: standard '%.60s' has no totals",
                    name);
            }
            json_object_foreach(totals, status, n) {
                if (!json_is_integer(n) || json_integer_value(n) < 0) {
                    json_decref(copy);
                    return err_set(err, ERR_INTERNAL,
                        "metrics: standard '%.60s' total '%.40s' is not a count", name, status);
                }
                json_object_set(row, status, n);
            }
        }
    }
    json_decref(m->compliance);
    m->compliance = copy;
    m->findings_seen = findings_seen;
    return 0;
}

/* label values: backslash, double quote and newline are escaped (text format 0.0.4) */
static int
put_label(struct buf *out, const char *name, const char *value, int first, struct err *err)
{
    if (buf_printf(out, err, "%s%s=\"", first ? "{" : ",", name) < 0)
        return -1;
    for (const char *p = value; *p; p++) {
        int r;
        if (*p == '\\')
            r = buf_puts(out, "\\\\", err);
        else if (*p == '"')
            r = buf_puts(out, "\\\"", err);
        else if (*p == '\n')
            r = buf_puts(out, "\\n", err);
        else
            r = buf_putc(out, *p, err);
        if (r < 0)
            return -1;
    }
    return buf_putc(out, '"', err);
}

static int
family(struct buf *out, const char *name, const char *type, const char *help, struct err *err)
{
    return buf_printf(out, err, "# HELP driftsync_%s %s\n# TYPE driftsync_%s %s\n", name, help,
        name, type);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* keys of obj, sorted; *ret_keys owned by caller (the strings are borrowed) */
static int
sorted_keys(json_t *obj, const char ***ret_keys, size_t *ret_n, struct err *err)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    const char *k;
    json_t *v;

    if (keys == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    json_object_foreach(obj, k, v) {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    *ret_keys = keys;
    *ret_n = n;
    return 0;
}

static int
render_api(const struct metrics *m, struct buf *out, struct err *err)
{
    static const struct {
        const char *field, *name, *help;
    } fams[] = {
        {"calls", "api_calls_total", "AWS API calls made, retries included."},
        {"errors", "api_errors_total", "AWS API calls that ended in an error."},
        {"throttles", "api_throttles_total", "AWS API calls answered with a throttling error."},
        {"retries", "api_retries_total", "AWS API calls that were retries."},
    };
    const char **keys = NULL;
    size_t n = 0;
    int rc = -1;

    if (sorted_keys(m->api, &keys, &n, err) < 0)
        return -1;
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        if (family(out, fams[f].name, "counter", fams[f].help, err) < 0)
            goto out;
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_object_get(m->api, keys[i]);

            if (buf_printf(out, err, "driftsync_%s", fams[f].name) < 0 ||
                put_label(out, "service", json_string_value(json_object_get(row, "service")), 1,
                    err) < 0 ||
                put_label(out, "operation",
                    json_string_value(json_object_get(row, "operation")), 0, err) < 0 ||
                buf_printf(out, err, "} %lld\n",
                    (long long)json_integer_value(json_object_get(row, fams[f].field))) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    free(keys);
    return rc;
}

static int
render_compliance(const struct metrics *m, struct buf *out, struct err *err)
{
    const char **stds = NULL, **sts = NULL;
    size_t ns = 0, nt = 0;
    int rc = -1;

    if (m->findings_seen >= 0) {
        if (family(out, "findings_seen", "gauge",
                "Security Hub findings read in the last compliance pass.", err) < 0 ||
            buf_printf(out, err, "driftsync_findings_seen %ld\n", m->findings_seen) < 0)
            return -1;
    }
    if (m->compliance == NULL)
        return 0;
    if (family(out, "compliance_controls", "gauge",
            "Compliance controls by standard and status (last compliance pass).", err) < 0)
        return -1;
    if (sorted_keys(m->compliance, &stds, &ns, err) < 0)
        return -1;
    for (size_t i = 0; i < ns; i++) {
        json_t *row = json_object_get(m->compliance, stds[i]);

        free(sts);
        sts = NULL;
        if (sorted_keys(row, &sts, &nt, err) < 0)
            goto out;
        for (size_t j = 0; j < nt; j++) {
            if (buf_puts(out, "driftsync_compliance_controls", err) < 0 ||
                put_label(out, "standard", stds[i], 1, err) < 0 ||
                put_label(out, "status", sts[j], 0, err) < 0 ||
                buf_printf(out, err, "} %lld\n",
                    (long long)json_integer_value(json_object_get(row, sts[j]))) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    free(stds);
    free(sts);
    return rc;
}

int
metrics_render(const struct metrics *m, struct buf *out, struct err *err)
{
    if (family(out, "runs_total", "counter", "Sync runs finished since the daemon started.",
            err) < 0)
        return -1;
    for (size_t i = 0; i < NSTATUS; i++) {
        if (buf_printf(out, err, "driftsync_runs_total{status=\"%s\"} %ld\n", run_statuses[i],
                m->runs[i]) < 0)
            return -1;
    }
    if (family(out, "run_duration_seconds", "summary", "Duration of sync runs.", err) < 0 ||
        buf_printf(out, err,
            "driftsync_run_duration_seconds_sum %.3f\ndriftsync_run_duration_seconds_count %ld\n",
            m->duration_sum_s, m->duration_count) < 0)
        return -1;
    if (m->have_last) {
        if (family(out, "last_run_duration_seconds", "gauge", "Duration of the last run.",
                err) < 0 ||
            buf_printf(out, err, "driftsync_last_run_duration_seconds %.3f\n",
                m->last_duration_s) < 0 ||
            family(out, "last_run_timestamp_seconds", "gauge",
                "When the last run finished (Unix time).", err) < 0 ||
            buf_printf(out, err, "driftsync_last_run_timestamp_seconds %lld\n",
                (long long)m->last_finished_at) < 0 ||
            family(out, "last_run_success", "gauge",
                "1 when every target of the last run succeeded.", err) < 0 ||
            buf_printf(out, err, "driftsync_last_run_success %d\n", m->last_success) < 0 ||
            family(out, "last_run_targets", "gauge",
                "Targets (account x region) of the last run by outcome.", err) < 0 ||
            buf_printf(out, err,
                "driftsync_last_run_targets{state=\"ok\"} %ld\n"
                "driftsync_last_run_targets{state=\"failed\"} %ld\n",
                m->last_targets_ok, m->last_targets_failed) < 0)
            return -1;
    }
    if (render_api(m, out, err) < 0)
        return -1;
    if (family(out, "throttles_total", "counter", "AWS throttling answers since start.",
            err) < 0 ||
        buf_printf(out, err, "driftsync_throttles_total %ld\n", m->throttles_total) < 0)
        return -1;
    if (m->have_last) {
        if (family(out, "resources_seen", "gauge", "Resources read in the last run.", err) < 0 ||
            buf_printf(out, err, "driftsync_resources_seen %ld\n", m->last_resources) < 0 ||
            family(out, "resources_unmapped", "gauge",
                "Resources of the last run whose type has no mapping rule.", err) < 0 ||
            buf_printf(out, err, "driftsync_resources_unmapped %ld\n", m->last_unmapped) < 0 ||
            family(out, "vpcs_seen", "gauge", "VPCs discovered in the last run.", err) < 0 ||
            buf_printf(out, err, "driftsync_vpcs_seen %ld\n", m->last_vpcs_seen) < 0)
            return -1;
    }
    if (m->have_vpcs) {
        if (family(out, "vpcs", "gauge",
                "Known VPCs by status (green in sync, yellow no model, red drift).", err) < 0)
            return -1;
        for (size_t i = 0; i < NVPC; i++) {
            if (buf_printf(out, err, "driftsync_vpcs{status=\"%s\"} %ld\n", vpc_statuses[i],
                    m->vpcs[i]) < 0)
                return -1;
        }
        if (family(out, "vpcs_with_error", "gauge",
                "Known VPCs whose target failed in the last run.", err) < 0 ||
            buf_printf(out, err, "driftsync_vpcs_with_error %ld\n", m->vpcs_with_error) < 0)
            return -1;
    }
    return render_compliance(m, out, err);
}

int
metrics_write_file(const char *path, const char *text, size_t len, struct err *err)
{
    /* metrics are not secret and node_exporter runs as another user */
    static const struct util_atomic how = {.what = "metrics_file", .mode = 0644,
        .kind = ERR_CONFIG};

    return util_write_atomic(path, text, len, &how, err);
}
