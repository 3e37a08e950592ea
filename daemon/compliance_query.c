/*
 * compliance_query.c: shapes store rows into the summary document and
 * annotates models (see compliance_query.h). No SQL here: rows come from
 * store/compliance.h; linking findings to components reuses
 * compliance_link (mapping/compliance.h). The summary is built for every
 * run's status feed, an unchanged one too: each row is read once, so it
 * becomes its target's verdict in place (fields dropped, not copied), and a
 * control is found through an index, not a scan of its standard's list.
 */
#include "daemon/compliance_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mapping/compliance.h"
#include "store/compliance.h"
#include "store/store.h"

static const char *const status_order[] = {"DISABLED", "NO_DATA", "COMPLIANT", "NOT_AVAILABLE",
    "WARNING", "NON-COMPLIANT"};
static const char *const severity_order[] = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH",
    "CRITICAL"};

static int
rank(const char *s, const char *const *order, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, order[i]) == 0)
            return (int)i;
    }
    return -1;
}

#define STATUS_RANK(s)   rank((s), status_order, sizeof(status_order) / sizeof(status_order[0]))
#define SEVERITY_RANK(s) rank((s), severity_order, sizeof(severity_order) / sizeof(severity_order[0]))

static void
add_unique(json_t *arr, const char *s)
{
    json_t *v;
    size_t i;

    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(v), s) == 0)
            return;
    }
    json_array_append_new(arr, json_string(s));
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts arr's elements in place by cmp (over json_t **). */
static void
sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr), i;
    json_t **v;

    if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
        return;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), cmp);
    json_array_clear(arr);
    for (i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

/* Sorts arr's strings and drops repeats, in O(n log n): the aggregated
 * lists (a control's failed resources and components over every target)
 * reach tens of thousands at 500k resources, where adding each string only
 * when a linear scan had not found it yet took most of a run's status feed
 * (0.5 s of an unchanged run's 5.5 s). Out of memory leaves arr as it was,
 * like sort_array. */
static void
sort_unique(json_t *arr)
{
    size_t n, i;
    json_t **v;

    sort_array(arr, cmp_str);
    n = json_array_size(arr);
    if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
        return;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    json_array_clear(arr);
    for (i = 0; i < n; i++) {
        if (i > 0 && strcmp(json_string_value(v[i - 1]), json_string_value(v[i])) == 0)
            json_decref(v[i]);
        else
            json_array_append_new(arr, v[i]);
    }
    free(v);
}

static int
check_filters(const struct compliance_query *q, char *status, size_t n, struct err *err)
{
    status[0] = '\0';
    if (q->account_id != NULL) {
        size_t i, len = strlen(q->account_id);
        for (i = 0; i < len && q->account_id[i] >= '0' && q->account_id[i] <= '9'; i++)
            ;
        if (len != 12 || i != len)
            return err_set(err, ERR_CONFIG, "compliance: account '%.40s' is not a 12-digit id",
                q->account_id);
    }
    if (q->standard != NULL && strcmp(q->standard, "cis-1.2") != 0 &&
        strcmp(q->standard, "cis-1.4") != 0 && strcmp(q->standard, "cis-3.0") != 0)
        return err_set(err, ERR_CONFIG,
            "compliance: unknown standard '%.40s' (use cis-1.2, cis-1.4 or cis-3.0)",
            q->standard);
    if (q->status != NULL) {
        size_t i;
        for (i = 0; i < sizeof(status_order) / sizeof(status_order[0]); i++) {
            if (strcasecmp(q->status, status_order[i]) == 0 ||
                (strcasecmp(q->status, "NON_COMPLIANT") == 0 && i == 5)) {
                snprintf(status, n, "%s", status_order[i]);
                break;
            }
        }
        if (status[0] == '\0')
            return err_set(err, ERR_CONFIG,
                "compliance: unknown status '%.40s' (use COMPLIANT, NON-COMPLIANT, WARNING, "
                "NOT_AVAILABLE, NO_DATA or DISABLED)",
                q->status);
    }
    return 0;
}

/* Component keys of a stored row, limited to vpc (NULL: all) and the
 * account-wide ones. */
static json_t *
component_keys(json_t *comps, const char *vpc)
{
    json_t *out = json_array(), *c;
    size_t i;

    json_array_foreach(comps, i, c) {
        const char *v = json_string_value(json_object_get(c, "vpc_id"));
        const char *key = json_string_value(json_object_get(c, "key"));

        if (key == NULL)
            continue;
        if (vpc != NULL && v != NULL && strcmp(v, vpc) != 0)
            continue;
        json_array_append_new(out, json_string(key));
    }
    sort_unique(out);
    return out;
}

/* The standard's entry in stds (an array of {"id", "controls"}), added when
 * missing; index maps each standard id to {control id: control} (the same
 * control objects), so a row finds its control without a scan. */
static json_t *
standard_of(json_t *stds, json_t *index, const char *id, json_t **ret_controls)
{
    json_t *o, *ctls;
    size_t i;

    json_array_foreach(stds, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0) {
            *ret_controls = json_object_get(index, id);
            return o;
        }
    }
    o = json_object();
    ctls = json_object();
    if (o == NULL || ctls == NULL || json_object_set_new(o, "id", json_string(id)) < 0 ||
        json_object_set_new(o, "controls", json_array()) < 0) {
        json_decref(o);
        json_decref(ctls);
        return NULL;
    }
    if (json_object_set_new(index, id, ctls) < 0) { /* takes ctls, also on failure */
        json_decref(o);
        return NULL;
    }
    if (json_array_append_new(stds, o) < 0)
        return NULL;
    *ret_controls = ctls;
    return o;
}

/* {"control_id", "title": null, "status": "DISABLED", "severity": null,
 * "failed_resources": [], "components": [], "targets": []} */
static json_t *
make_control(const char *id)
{
    json_t *c = json_object();

    if (c == NULL || json_object_set_new(c, "control_id", json_string(id)) < 0 ||
        json_object_set_new(c, "title", json_null()) < 0 ||
        json_object_set_new(c, "status", json_string("DISABLED")) < 0 ||
        json_object_set_new(c, "severity", json_null()) < 0 ||
        json_object_set_new(c, "failed_resources", json_array()) < 0 ||
        json_object_set_new(c, "components", json_array()) < 0 ||
        json_object_set_new(c, "targets", json_array()) < 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static json_t *
control_of(json_t *std, json_t *index, const char *id)
{
    json_t *c = json_object_get(index, id);

    if (c != NULL)
        return c;
    c = make_control(id);
    if (c == NULL || json_array_append_new(json_object_get(std, "controls"), c) < 0 ||
        json_object_set(index, id, c) < 0)
        return NULL;
    return c;
}

/* A target's own verdict of a control, made of its row (taken over: the
 * rows are not read again): the fields the row has and the verdict does not
 * are dropped and its components become the keys (taken over). */
static json_t *
target_verdict(json_t *row, json_t *keys)
{
    static const char *const dropped[] = {"standard", "control_id", "title", "checked_at"};

    if (json_object_set_new(row, "components", keys) < 0)
        return NULL;
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        (void)json_object_del(row, dropped[i]);
    return json_incref(row);
}

static int
cmp_std(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
        json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

static int
cmp_ctl(const void *a, const void *b)
{
    return compliance_control_cmp(
        json_string_value(json_object_get(*(json_t *const *)a, "control_id")),
        json_string_value(json_object_get(*(json_t *const *)b, "control_id")));
}

int
compliance_query_run(struct store *st, const struct compliance_query *q, json_t **ret,
    struct err *err)
{
    struct store_vpc_ref ref = {0};
    const char *acct = q->account_id, *region = NULL, *vpc = NULL;
    json_t *rows = NULL, *targets = NULL, *stds = NULL, *index = NULL, *doc = NULL, *row, *t,
        *ctls, *keep;
    char status[32];
    size_t i;
    int rc = -1;

    if (check_filters(q, status, sizeof(status), err) < 0)
        return -1;
    if (q->vpc_spec != NULL) {
        if (store_vpc_resolve(st, q->vpc_spec, &ref, err) < 0)
            return -1;
        if (acct != NULL && strcmp(acct, ref.account_id) != 0)
            acct = "-"; /* both given and disagreeing: nothing matches */
        else
            acct = ref.account_id;
        region = ref.region;
        vpc = ref.vpc_id;
    }
    if (store_compliance_rows(st, acct, region, &rows, err) < 0 ||
        store_compliance_targets(st, &targets, err) < 0)
        goto out;
    stds = json_array();
    index = json_object();
    if (stds == NULL || index == NULL) {
        err_set(err, ERR_INTERNAL, "compliance: out of memory");
        goto out;
    }
    json_array_foreach(rows, i, row) {
        const char *std = json_string_value(json_object_get(row, "standard"));
        const char *ctl = json_string_value(json_object_get(row, "control_id"));
        const char *rs = json_string_value(json_object_get(row, "status"));
        const char *sev = json_string_value(json_object_get(row, "severity"));
        json_t *c = NULL, *s, *sctls = NULL, *keys, *fr, *v;

        if (q->standard != NULL && strcmp(std, q->standard) != 0)
            continue;
        s = standard_of(stds, index, std, &sctls);
        if (s != NULL)
            c = control_of(s, sctls, ctl);
        if (c == NULL) {
            err_set(err, ERR_INTERNAL, "compliance: out of memory");
            goto out;
        }
        if (json_is_null(json_object_get(c, "title")) &&
            json_is_string(json_object_get(row, "title")))
            json_object_set(c, "title", json_object_get(row, "title"));
        if (STATUS_RANK(rs) > STATUS_RANK(json_string_value(json_object_get(c, "status"))))
            json_object_set_new(c, "status", json_string(rs));
        if (sev != NULL &&
            SEVERITY_RANK(sev) > SEVERITY_RANK(json_string_value(json_object_get(c, "severity"))))
            json_object_set_new(c, "severity", json_string(sev));
        fr = json_object_get(row, "failed_resources");
        json_array_extend(json_object_get(c, "failed_resources"), fr);
        keys = component_keys(json_object_get(row, "components"), vpc);
        json_array_extend(json_object_get(c, "components"), keys);
        v = target_verdict(row, keys); /* std, ctl and the title are not used after */
        if (v == NULL || json_array_append_new(json_object_get(c, "targets"), v) < 0) {
            err_set(err, ERR_INTERNAL, "compliance: out of memory");
            goto out;
        }
    }
    sort_array(stds, cmp_std);
    json_array_foreach(stds, i, t) {
        json_t *c;
        size_t k;

        ctls = json_object_get(t, "controls");
        keep = json_array();
        json_array_foreach(ctls, k, c) {
            sort_unique(json_object_get(c, "failed_resources"));
            sort_unique(json_object_get(c, "components"));
            if (status[0] == '\0' ||
                strcmp(json_string_value(json_object_get(c, "status")), status) == 0)
                json_array_append(keep, c);
        }
        sort_array(keep, cmp_ctl);
        json_object_set_new(t, "controls", keep);
    }
    /* targets: the ones the filters select */
    keep = json_array();
    json_array_foreach(targets, i, t) {
        const char *ta = json_string_value(json_object_get(t, "account_id"));
        const char *tr = json_string_value(json_object_get(t, "region"));

        if ((acct == NULL || strcmp(acct, ta) == 0) && (region == NULL || strcmp(region, tr) == 0))
            json_array_append(keep, t);
    }
    doc = json_pack("{s:O, s:o}", "standards", stds, "targets", keep);
    if (doc == NULL) {
        err_set(err, ERR_INTERNAL, "compliance: out of memory");
        goto out;
    }
    *ret = doc;
    rc = 0;
out:
    json_decref(rows);
    json_decref(targets);
    json_decref(stds);
    json_decref(index);
    store_vpc_ref_clear(&ref);
    return rc;
}

/* ---- model annotation ---- */

/* Security control ids a (standard, control) stands for, from the catalogue. */
static void
catalogue_ids(json_t *catalogue, const char *std, const char *ctl, json_t *out)
{
    json_t *c, *v;
    size_t i, k;

    if (std == NULL || ctl == NULL)
        return;
    json_array_foreach(json_object_get(json_object_get(catalogue, std), "controls"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "control_id")), ctl) != 0)
            continue;
        json_array_foreach(json_object_get(c, "security_control_ids"), k, v)
            add_unique(out, json_string_value(v));
    }
}

static int
req_matches(json_t *link, json_t *controls, json_t *catalogue)
{
    const char *sc = json_string_value(json_object_get(link, "security_control_id"));
    json_t *ids = json_array(), *v, *w;
    size_t i, k;
    int hit = 0;

    if (sc != NULL)
        add_unique(ids, sc);
    catalogue_ids(catalogue, json_string_value(json_object_get(link, "standard")),
        json_string_value(json_object_get(link, "control_id")), ids);
    json_array_foreach(controls, i, v) {
        json_array_foreach(ids, k, w) {
            if (json_is_string(v) && strcmp(json_string_value(v), json_string_value(w)) == 0)
                hit = 1;
        }
    }
    json_decref(ids);
    return hit;
}

int
compliance_annotate_model(struct store *st, json_t *model, struct err *err)
{
    const char *acct = json_string_value(json_object_get(model, "account_id"));
    const char *region = json_string_value(json_object_get(model, "region"));
    json_t *findings = NULL, *catalogue = NULL, *models = NULL, *linked = NULL, *comp;
    size_t i;
    int rc = -1;

    if (!json_is_object(model) || acct == NULL || region == NULL)
        return err_set(err, ERR_CONFIG, "compliance: the model has no account_id/region");
    if (store_compliance_findings(st, acct, region, &findings, err) < 0 ||
        store_compliance_catalogue(st, acct, region, &catalogue, err) < 0)
        goto out;
    models = json_pack("[O]", model);
    if (models == NULL || compliance_link(findings, models, &linked, err) < 0)
        goto out;
    json_t *links = json_object_get(json_array_get(json_object_get(linked, "models"), 0),
        "components");
    json_array_foreach(json_object_get(model, "components"), i, comp) {
        const char *key = json_string_value(json_object_get(comp, "key"));
        json_t *reqs = json_object_get(comp, "requirements"), *copy, *req;
        size_t k;

        if (!json_is_array(reqs))
            continue;
        copy = json_deep_copy(reqs);
        if (copy == NULL) {
            err_set(err, ERR_INTERNAL, "compliance: out of memory");
            goto out;
        }
        json_object_set_new(comp, "requirements", copy);
        json_array_foreach(copy, k, req) {
            json_t *controls = json_object_get(req, "controls"), *l, *failed = json_array();
            int worst = STATUS_RANK("NO_DATA"), n = 0, suppressed = 0;
            size_t m;

            json_array_foreach(key ? json_object_get(links, key) : NULL, m, l) {
                const char *fs = json_string_value(json_object_get(l, "status"));
                const char *wf = json_string_value(json_object_get(l, "workflow"));
                int sup = wf != NULL && strcmp(wf, "SUPPRESSED") == 0, r;

                if (fs == NULL || !req_matches(l, controls, catalogue))
                    continue;
                n++;
                if (sup) {
                    suppressed++;
                    r = STATUS_RANK("COMPLIANT");
                } else if (strcmp(fs, "FAILED") == 0) {
                    r = STATUS_RANK("NON-COMPLIANT");
                    add_unique(failed, json_string_value(json_object_get(l, "finding_id")));
                } else if (strcmp(fs, "PASSED") == 0) {
                    r = STATUS_RANK("COMPLIANT");
                } else {
                    r = STATUS_RANK(fs);
                }
                if (r > worst)
                    worst = r;
            }
            sort_array(failed, cmp_str);
            json_object_set_new(req, "status", json_string(status_order[worst]));
            json_object_set_new(req, "failed_findings", failed);
            json_object_set_new(req, "findings", json_integer(n));
            json_object_set_new(req, "suppressed", json_integer(suppressed));
        }
    }
    rc = 0;
out:
    json_decref(findings);
    json_decref(catalogue);
    json_decref(models);
    json_decref(linked);
    return rc;
}
