/*
 * compliance.c: the judge, the component linker and the incremental merge
 * (rules in compliance.h). Everything is a pure function of its documents;
 * jansson objects serve as hash sets and indexes, and every output list is
 * sorted so equal inputs give byte-equal outputs whatever order AWS
 * returned the findings in.
 *
 * Inputs are produced by this program (summariser, catalogue reader,
 * store), so a wrong shape is reported as ERR_INTERNAL naming the entry
 * rather than skipped: skipping would turn a bug into a silent verdict.
 */
#include "mapping/compliance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonw.h"

static const char *const severities[] = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
#define NSEV ((int)(sizeof(severities) / sizeof(severities[0])))

static int
severity_rank(const char *s)
{
    for (int i = 0; s != NULL && i < NSEV; i++) {
        if (strcmp(s, severities[i]) == 0)
            return i;
    }
    return -1;
}

int
compliance_control_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            char *ea, *eb;
            unsigned long long na = strtoull(a, &ea, 10), nb = strtoull(b, &eb, 10);
            if (na != nb)
                return na < nb ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return (*a != '\0') - (*b != '\0');
}

/* ---- summary access (shape-checked) ---- */

struct summary {
    const char *id;
    const char *account_id;
    const char *status;  /* NULL: not a control check */
    const char *workflow;
    const char *severity;
    const char *scid;    /* NULL when none */
    int archived;
    json_t *standard_ids;
    json_t *control_ids;
    json_t *resources;
};

static int
summary_read(json_t *s, size_t idx, struct summary *out, struct err *err)
{
    json_t *st, *sc;
    const char *rs;

    memset(out, 0, sizeof(*out));
    out->id = json_string_value(json_object_get(s, "id"));
    out->account_id = json_string_value(json_object_get(s, "account_id"));
    out->workflow = json_string_value(json_object_get(s, "workflow"));
    out->severity = json_string_value(json_object_get(s, "severity")); /* NULL: unrated */
    rs = json_string_value(json_object_get(s, "record_state"));
    st = json_object_get(s, "status");
    sc = json_object_get(s, "security_control_id");
    out->standard_ids = json_object_get(s, "standard_ids");
    out->control_ids = json_object_get(s, "control_ids");
    out->resources = json_object_get(s, "resources");
    if (!json_is_object(s) || out->id == NULL || out->account_id == NULL ||
        out->workflow == NULL || rs == NULL ||
        !(json_is_string(json_object_get(s, "severity")) ||
            json_is_null(json_object_get(s, "severity"))) ||
        !(json_is_string(st) || json_is_null(st)) || !(json_is_string(sc) || json_is_null(sc)) ||
        !json_is_array(out->standard_ids) || !json_is_object(out->control_ids) ||
        !json_is_array(out->resources))
        return err_set(err, ERR_INTERNAL,
            "compliance: summary %zu%s%.200s%s is not a finding summary (id, account_id, status, "
            "workflow, severity, record_state, standard_ids, control_ids, resources)",
            idx + 1, out->id ? " ('" : "", out->id ? out->id : "", out->id ? "')" : "");
    out->status = json_string_value(st);
    out->scid = json_string_value(sc);
    out->archived = strcmp(rs, "ARCHIVED") == 0;
    return 0;
}

/* ---- string sets ---- */

static int
set_add(json_t *set, const char *s)
{
    return json_object_set_new(set, s, json_true());
}

/* Keys of a set as a sorted array (new reference, NULL on OOM). */
static int
strcmp_p(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *
set_sorted(json_t *set)
{
    size_t n = json_object_size(set), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    json_t *out = json_array(), *v;
    const char *k;

    if (keys == NULL || out == NULL) {
        free(keys);
        json_decref(out);
        return NULL;
    }
    json_object_foreach(set, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), strcmp_p);
    for (i = 0; i < n; i++)
        json_array_append_new(out, json_string(keys[i]));
    free(keys);
    return out;
}

/* ---- judge ---- */

struct acc {
    const char *control_id;
    json_t *ctl; /* catalogue entry, NULL for controls only findings name */
    long findings, failed, warning, na, passed, suppressed;
    int sev_failed, sev_any;
    json_t *failed_res, *supp_res;
};

struct stdjudge {
    struct acc *v;
    size_t n, cap;
    json_t *index; /* control_id -> position in v */
    json_t *by_sc; /* security control id -> [control_id...] */
    long unmapped;
};

static void
stdjudge_clear(struct stdjudge *sj)
{
    for (size_t i = 0; i < sj->n; i++) {
        json_decref(sj->v[i].failed_res);
        json_decref(sj->v[i].supp_res);
    }
    free(sj->v);
    json_decref(sj->index);
    json_decref(sj->by_sc);
    memset(sj, 0, sizeof(*sj));
}

static struct acc *
acc_get(struct stdjudge *sj, const char *control_id, json_t *ctl, struct err *err)
{
    json_t *pos = json_object_get(sj->index, control_id);
    struct acc *a;

    if (pos != NULL)
        return &sj->v[json_integer_value(pos)];
    if (sj->n == sj->cap) {
        size_t cap = sj->cap ? sj->cap * 2 : 32;
        struct acc *grown = realloc(sj->v, cap * sizeof(*grown));
        if (grown == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory");
            return NULL;
        }
        sj->v = grown;
        sj->cap = cap;
    }
    a = &sj->v[sj->n];
    memset(a, 0, sizeof(*a));
    a->control_id = control_id;
    a->ctl = ctl;
    a->sev_failed = a->sev_any = -1;
    a->failed_res = json_object();
    a->supp_res = json_object();
    if (a->failed_res == NULL || a->supp_res == NULL ||
        json_object_set_new(sj->index, control_id, json_integer((json_int_t)sj->n)) < 0) {
        json_decref(a->failed_res);
        json_decref(a->supp_res);
        err_set(err, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    sj->n++;
    return a;
}

static int
stdjudge_init(struct stdjudge *sj, const char *key, json_t *entry, struct err *err)
{
    json_t *controls = json_object_get(entry, "controls"), *c;
    size_t i;

    memset(sj, 0, sizeof(*sj));
    sj->index = json_object();
    sj->by_sc = json_object();
    if (sj->index == NULL || sj->by_sc == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (!json_is_object(entry) || !json_is_array(controls))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue entry '%s' has no controls list",
            key);
    json_array_foreach(controls, i, c) {
        const char *cid = json_string_value(json_object_get(c, "control_id"));
        json_t *scs = json_object_get(c, "security_control_ids"), *sc;
        size_t j;

        if (cid == NULL || !json_is_string(json_object_get(c, "status")))
            return err_set(err, ERR_INTERNAL, "compliance: catalogue '%s' control %zu lacks "
                                              "control_id or status", key, i + 1);
        if (json_object_get(sj->index, cid) != NULL)
            continue; /* listed twice: the first entry stands */
        if (acc_get(sj, cid, c, err) == NULL)
            return -1;
        json_array_foreach(scs, j, sc) {
            json_t *list;
            if (!json_is_string(sc))
                continue;
            list = json_object_get(sj->by_sc, json_string_value(sc));
            if (list == NULL) {
                list = json_array();
                if (list == NULL ||
                    json_object_set_new(sj->by_sc, json_string_value(sc), list) < 0)
                    return err_set(err, ERR_INTERNAL, "out of memory");
            }
            json_array_append_new(list, json_string(cid));
        }
    }
    return 0;
}

static int
tally(struct acc *a, const struct summary *s, struct err *err)
{
    int rank = severity_rank(s->severity);
    int suppressed = strcmp(s->workflow, "SUPPRESSED") == 0;
    int failed = s->status != NULL && strcmp(s->status, "FAILED") == 0;
    size_t i;
    json_t *r;

    a->findings++;
    if (rank > a->sev_any)
        a->sev_any = rank;
    if (suppressed) {
        a->suppressed++;
        if (failed) {
            json_array_foreach(s->resources, i, r) {
                if (json_is_string(r) && set_add(a->supp_res, json_string_value(r)) < 0)
                    return err_set(err, ERR_INTERNAL, "out of memory");
            }
        }
        return 0;
    }
    if (s->status == NULL)
        return 0;
    if (failed) {
        a->failed++;
        if (rank > a->sev_failed)
            a->sev_failed = rank;
        json_array_foreach(s->resources, i, r) {
            if (json_is_string(r) && set_add(a->failed_res, json_string_value(r)) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
        }
    } else if (strcmp(s->status, "WARNING") == 0) {
        a->warning++;
    } else if (strcmp(s->status, "NOT_AVAILABLE") == 0) {
        a->na++;
    } else if (strcmp(s->status, "PASSED") == 0) {
        a->passed++;
    }
    return 0;
}

/* Feeds one active summary to one standard. */
static int
judge_summary(struct stdjudge *sj, const char *key, const struct summary *s, struct err *err)
{
    json_t *cids = json_object_get(s->control_ids, key), *c;
    size_t i;

    if (json_is_array(cids) && json_array_size(cids) > 0) {
        json_array_foreach(cids, i, c) {
            const char *cid = json_string_value(c);
            struct acc *a;
            if (cid == NULL)
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': control_ids of "
                                                  "%s holds a non-string", s->id, key);
            a = acc_get(sj, cid, NULL, err);
            if (a == NULL || tally(a, s, err) < 0)
                return -1;
        }
        return 0;
    }
    cids = s->scid != NULL ? json_object_get(sj->by_sc, s->scid) : NULL;
    if (json_array_size(cids) == 0) {
        sj->unmapped++;
        return 0;
    }
    json_array_foreach(cids, i, c) {
        struct acc *a = acc_get(sj, json_string_value(c), NULL, err);
        if (a == NULL || tally(a, s, err) < 0)
            return -1;
    }
    return 0;
}

static const char *const verdicts[] = {"NON-COMPLIANT", "WARNING", "NOT_AVAILABLE", "COMPLIANT",
    "NO_DATA", "DISABLED"};

static const char *
verdict(const struct acc *a)
{
    const char *cst = a->ctl ? json_string_value(json_object_get(a->ctl, "status")) : NULL;

    if (cst != NULL && strcmp(cst, "DISABLED") == 0)
        return "DISABLED";
    if (a->failed > 0)
        return "NON-COMPLIANT";
    if (a->warning > 0)
        return "WARNING";
    if (a->na > 0)
        return "NOT_AVAILABLE";
    if (a->passed > 0 || a->suppressed > 0)
        return "COMPLIANT";
    return "NO_DATA";
}

static json_t *
acc_out(const struct acc *a)
{
    json_t *title = a->ctl ? json_object_get(a->ctl, "title") : NULL;
    json_t *csev = a->ctl ? json_object_get(a->ctl, "severity") : NULL;
    json_t *sev;

    if (json_is_string(csev) && severity_rank(json_string_value(csev)) >= 0)
        sev = json_incref(csev);
    else if (a->sev_failed >= 0)
        sev = json_string(severities[a->sev_failed]);
    else if (a->sev_any >= 0)
        sev = json_string(severities[a->sev_any]);
    else
        sev = json_null();
    return json_pack("{s:s, s:O, s:s, s:o, s:o*, s:o*, s:I, s:I, s:I, s:I}", "control_id",
        a->control_id, "title", json_is_string(title) ? title : json_null(), "status",
        verdict(a), "severity", sev, "failed_resources", set_sorted(a->failed_res),
        "suppressed_resources", set_sorted(a->supp_res), "suppressed", (json_int_t)a->suppressed,
        "findings", (json_int_t)a->findings, "failed", (json_int_t)a->failed, "passed",
        (json_int_t)a->passed);
}

static int
acc_cmp(const void *x, const void *y)
{
    const struct acc *a = x, *b = y;
    return compliance_control_cmp(a->control_id, b->control_id);
}

static json_t *
stdjudge_out(struct stdjudge *sj, size_t ncatalogue)
{
    json_t *controls = json_array(), *totals = json_object();

    if (controls == NULL || totals == NULL)
        goto oom;
    /* every verdict present, in a fixed order, so reports need no lookups */
    for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
        if (json_object_set_new(totals, verdicts[i], json_integer(0)) < 0)
            goto oom;
    }
    /* controls only findings named come after the catalogue's, in natural order */
    if (sj->n > ncatalogue)
        qsort(sj->v + ncatalogue, sj->n - ncatalogue, sizeof(*sj->v), acc_cmp);
    for (size_t i = 0; i < sj->n; i++) {
        json_t *o = acc_out(&sj->v[i]);
        const char *v = verdict(&sj->v[i]);
        if (o == NULL || json_array_append_new(controls, o) < 0)
            goto oom;
        json_object_set_new(totals, v,
            json_integer(json_integer_value(json_object_get(totals, v)) + 1));
    }
    return json_pack("{s:o, s:I, s:o}", "controls", controls, "unmapped",
        (json_int_t)sj->unmapped, "totals", totals);
oom:
    json_decref(controls);
    json_decref(totals);
    return NULL;
}

int
compliance_judge(json_t *catalogue, json_t *summaries, json_t **ret, struct err *err)
{
    json_t *out = NULL, *entry;
    struct summary *sums = NULL;
    const char *key;
    size_t n, i;
    int rc = -1;

    if (!json_is_object(catalogue))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue is not an object");
    if (!json_is_array(summaries))
        return err_set(err, ERR_INTERNAL, "compliance: summaries is not a list");
    n = json_array_size(summaries);
    sums = calloc(n ? n : 1, sizeof(*sums));
    out = json_object();
    if (sums == NULL || out == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (summary_read(json_array_get(summaries, i), i, &sums[i], err) < 0)
            goto out;
    }
    json_object_foreach(catalogue, key, entry) {
        struct stdjudge sj;
        size_t ncat;
        json_t *res;

        if (stdjudge_init(&sj, key, entry, err) < 0) {
            stdjudge_clear(&sj);
            goto out;
        }
        ncat = sj.n;
        for (i = 0; i < n; i++) {
            json_t *sid;
            size_t j;
            int in = 0;

            if (sums[i].archived)
                continue;
            json_array_foreach(sums[i].standard_ids, j, sid) {
                if (json_is_string(sid) && strcmp(json_string_value(sid), key) == 0)
                    in = 1;
            }
            if (in && judge_summary(&sj, key, &sums[i], err) < 0) {
                stdjudge_clear(&sj);
                goto out;
            }
        }
        res = stdjudge_out(&sj, ncat);
        stdjudge_clear(&sj);
        if (res == NULL || json_object_set_new(out, key, res) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    free(sums);
    json_decref(out);
    return rc;
}

/* ---- controls of summaries (incremental re-judge) ---- */

/* The catalogue's standards with their security control index, built once. */
struct catidx {
    size_t n;
    const char **key;     /* borrowed from the catalogue */
    struct stdjudge *sj;
};

static void
catidx_clear(struct catidx *ci)
{
    for (size_t i = 0; ci->sj != NULL && i < ci->n; i++)
        stdjudge_clear(&ci->sj[i]);
    free(ci->sj);
    free(ci->key);
    memset(ci, 0, sizeof(*ci));
}

static int
catidx_init(struct catidx *ci, json_t *catalogue, struct err *err)
{
    size_t n = json_object_size(catalogue), i = 0;
    const char *key;
    json_t *entry;

    memset(ci, 0, sizeof(*ci));
    if (!json_is_object(catalogue))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue is not an object");
    ci->key = calloc(n ? n : 1, sizeof(*ci->key));
    ci->sj = calloc(n ? n : 1, sizeof(*ci->sj));
    if (ci->key == NULL || ci->sj == NULL) {
        catidx_clear(ci);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    json_object_foreach(catalogue, key, entry) {
        ci->key[i] = key;
        ci->n = ++i;
        if (stdjudge_init(&ci->sj[i - 1], key, entry, err) < 0) {
            catidx_clear(ci);
            return -1;
        }
    }
    return 0;
}

/* The (standard, control) pairs s is judged under, by judge_summary's
 * rules whatever its record_state, as "STD\tCTL": added to add (when not
 * NULL); returns 1 as soon as one is in only (when not NULL), else 0. */
static int
summary_pairs(const struct catidx *ci, const struct summary *s, json_t *only, json_t *add,
    struct err *err)
{
    for (size_t k = 0; k < ci->n; k++) {
        json_t *cids = json_object_get(s->control_ids, ci->key[k]), *c, *sid;
        size_t i;
        int in = 0;

        json_array_foreach(s->standard_ids, i, sid) {
            if (json_is_string(sid) && strcmp(json_string_value(sid), ci->key[k]) == 0)
                in = 1;
        }
        if (!in)
            continue;
        if (!(json_is_array(cids) && json_array_size(cids) > 0))
            cids = s->scid != NULL ? json_object_get(ci->sj[k].by_sc, s->scid) : NULL;
        json_array_foreach(cids, i, c) {
            char pair[256];

            if (!json_is_string(c))
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': control_ids "
                                                  "of %s holds a non-string", s->id, ci->key[k]);
            snprintf(pair, sizeof(pair), "%s\t%s", ci->key[k], json_string_value(c));
            if (add != NULL && set_add(add, pair) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
            if (only != NULL && json_object_get(only, pair) != NULL)
                return 1;
        }
    }
    return 0;
}

int
compliance_controls_of(json_t *catalogue, json_t *summaries, json_t *set, struct err *err)
{
    struct catidx ci;
    struct summary s;
    size_t i;
    int rc = -1;

    if (!json_is_array(summaries) || !json_is_object(set))
        return err_set(err, ERR_INTERNAL, "compliance_controls_of: summaries must be a list "
                                          "and set an object");
    if (catidx_init(&ci, catalogue, err) < 0)
        return -1;
    for (i = 0; i < json_array_size(summaries); i++) {
        if (summary_read(json_array_get(summaries, i), i, &s, err) < 0 ||
            summary_pairs(&ci, &s, NULL, set, err) < 0)
            goto out;
    }
    rc = 0;
out:
    catidx_clear(&ci);
    return rc;
}

int
compliance_select(json_t *catalogue, json_t *summaries, json_t *only, json_t **ret,
    struct err *err)
{
    struct catidx ci;
    struct summary s;
    json_t *out = json_array();
    size_t i;
    int rc = -1, r;

    if (out == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (!json_is_array(summaries) || !json_is_object(only)) {
        json_decref(out);
        return err_set(err, ERR_INTERNAL, "compliance_select: summaries must be a list and "
                                          "only an object");
    }
    if (catidx_init(&ci, catalogue, err) < 0) {
        json_decref(out);
        return -1;
    }
    for (i = 0; i < json_array_size(summaries); i++) {
        json_t *j = json_array_get(summaries, i);

        if (summary_read(j, i, &s, err) < 0 || (r = summary_pairs(&ci, &s, only, NULL, err)) < 0)
            goto out;
        if (r == 1 && json_array_append(out, j) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    catidx_clear(&ci);
    json_decref(out);
    return rc;
}

/* ---- link ---- */

/* The tail of an ARN after its last '/', else its last ':'; NULL for a
 * value that is not an ARN or has no tail. */
static const char *
arn_tail(const char *s)
{
    const char *p;

    if (strncmp(s, "arn:", 4) != 0)
        return NULL;
    p = strrchr(s, '/');
    if (p == NULL)
        p = strrchr(s, ':');
    return p != NULL && p[1] != '\0' ? p + 1 : NULL;
}

/* index key: ACCOUNT '\x1f' ID -> [[model, component key], ...] */
static int
index_add(json_t *idx, const char *acct, const char *id, size_t model, const char *ckey,
    struct err *err)
{
    char *k = NULL;
    json_t *list, *e;
    size_t i;

    if (asprintf(&k, "%s\x1f%s", acct, id) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    list = json_object_get(idx, k);
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(idx, k, list) < 0) {
            free(k);
            return err_set(err, ERR_INTERNAL, "out of memory");
        }
    }
    free(k);
    json_array_foreach(list, i, e) {
        if ((size_t)json_integer_value(json_array_get(e, 0)) == model &&
            strcmp(json_string_value(json_array_get(e, 1)), ckey) == 0)
            return 0;
    }
    if (json_array_append_new(list, json_pack("[I, s]", (json_int_t)model, ckey)) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

static json_t *
index_get(json_t *idx, const char *acct, const char *id)
{
    char *k = NULL;
    json_t *v;

    if (asprintf(&k, "%s\x1f%s", acct, id) < 0)
        return NULL;
    v = json_object_get(idx, k);
    free(k);
    return v;
}

static int
req_cmp(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    static const char *const fields[] = {"standard", "control_id", "finding_id"};

    for (size_t i = 0; i < 3; i++) {
        const char *sa = json_string_value(json_object_get(a, fields[i]));
        const char *sb = json_string_value(json_object_get(b, fields[i]));
        int c;
        if (sa == NULL || sb == NULL) {
            if (sa != sb)
                return sa == NULL ? 1 : -1;
            continue;
        }
        c = i == 1 ? compliance_control_cmp(sa, sb) : strcmp(sa, sb);
        if (c != 0)
            return c;
    }
    return 0;
}

/* Sorts every REQ list under the object `lists` in place. */
static int
sort_lists(json_t *lists, struct err *err)
{
    const char *k;
    json_t *list;

    json_object_foreach(lists, k, list) {
        size_t n = json_array_size(list);
        json_t **v = calloc(n ? n : 1, sizeof(*v));
        if (v == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n; i++)
            v[i] = json_incref(json_array_get(list, i));
        qsort(v, n, sizeof(*v), req_cmp);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, v[i]);
        free(v);
    }
    return 0;
}

/* Appends the REQs of summary s to the list `key` of object `lists`. */
static int
add_reqs(json_t *lists, const char *key, const struct summary *s, struct err *err)
{
    json_t *list = json_object_get(lists, key), *sid;
    size_t i;

    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(lists, key, list) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }
#define REQ(std, cid)                                                                              \
    json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:o}", "finding_id", s->id, "standard",             \
        (std) ? json_string(std) : json_null(), "control_id",                                      \
        (cid) ? json_string(cid) : json_null(), "security_control_id",                             \
        s->scid ? json_string(s->scid) : json_null(), "status",                                    \
        s->status ? json_string(s->status) : json_null(), "workflow", s->workflow, "severity",      \
        s->severity ? json_string(s->severity) : json_null())
    if (json_array_size(s->standard_ids) == 0) {
        if (json_array_append_new(list, REQ(NULL, NULL)) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
        return 0;
    }
    json_array_foreach(s->standard_ids, i, sid) {
        const char *std = json_string_value(sid);
        json_t *cids = std ? json_object_get(s->control_ids, std) : NULL, *c;
        size_t j;

        if (std == NULL)
            return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': standard_ids holds "
                                              "a non-string", s->id);
        if (json_array_size(cids) == 0) {
            if (json_array_append_new(list, REQ(std, NULL)) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
            continue;
        }
        json_array_foreach(cids, j, c) {
            if (!json_is_string(c) ||
                json_array_append_new(list, REQ(std, json_string_value(c))) < 0)
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': bad control "
                                                  "ids", s->id);
        }
    }
#undef REQ
    return 0;
}

int
compliance_link(json_t *summaries, json_t *models, json_t **ret, struct err *err)
{
    json_t *idx = json_object(), *outm = json_array(), *accounts = json_object(), *m;
    json_t *result = NULL;
    size_t mi, i;
    int rc = -1;

    if (idx == NULL || outm == NULL || accounts == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!json_is_array(summaries) || !json_is_array(models)) {
        err_set(err, ERR_INTERNAL, "compliance_link: summaries and models must be lists");
        goto out;
    }
    json_array_foreach(models, mi, m) {
        const char *acct = json_string_value(json_object_get(m, "account_id"));
        json_t *comps = json_object_get(m, "components"), *c;

        if (acct == NULL || !json_is_array(comps)) {
            err_set(err, ERR_INTERNAL, "compliance_link: model %zu has no account_id or "
                                       "components", mi + 1);
            goto out;
        }
        {
            json_t *region = json_object_get(m, "region"), *vpc = json_object_get(m, "vpc_id");
            if (json_array_append_new(outm, json_pack("{s:s, s:O, s:O, s:{}}", "account_id", acct,
                                                "region", region ? region : json_null(), "vpc_id",
                                                vpc ? vpc : json_null(), "components")) < 0) {
                err_set(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
        json_array_foreach(comps, i, c) {
            const char *key = json_string_value(json_object_get(c, "key"));
            const char *rid = json_string_value(json_object_get(c, "resource_id"));
            const char *tail;

            if (key == NULL) {
                err_set(err, ERR_INTERNAL, "compliance_link: model %zu component %zu has no key",
                    mi + 1, i + 1);
                goto out;
            }
            tail = arn_tail(key);
            if (index_add(idx, acct, key, mi, key, err) < 0 ||
                (rid != NULL && index_add(idx, acct, rid, mi, key, err) < 0) ||
                (tail != NULL && index_add(idx, acct, tail, mi, key, err) < 0))
                goto out;
        }
    }
    for (i = 0; i < json_array_size(summaries); i++) {
        struct summary s;
        json_t *r, *seen = NULL;
        size_t j;
        int linked = 0;

        if (summary_read(json_array_get(summaries, i), i, &s, err) < 0)
            goto out;
        if (s.archived)
            continue;
        seen = json_object(); /* "model\x1fkey" already given this finding */
        if (seen == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        json_array_foreach(s.resources, j, r) {
            const char *id = json_string_value(r), *tail;
            json_t *hits[2], *h;
            size_t k;

            if (id == NULL)
                continue;
            if (strncmp(id, "AWS::::Account:", 15) == 0 && id[15] != '\0') {
                if (json_object_get(seen, id) == NULL) {
                    if (set_add(seen, id) < 0 || add_reqs(accounts, id + 15, &s, err) < 0) {
                        json_decref(seen);
                        goto out;
                    }
                }
                linked = 1;
                continue;
            }
            tail = arn_tail(id);
            hits[0] = index_get(idx, s.account_id, id);
            hits[1] = tail != NULL ? index_get(idx, s.account_id, tail) : NULL;
            for (int hi = 0; hi < 2; hi++) {
                json_array_foreach(hits[hi], k, h) {
                    size_t model = (size_t)json_integer_value(json_array_get(h, 0));
                    const char *ckey = json_string_value(json_array_get(h, 1));
                    char *sk = NULL;
                    json_t *comps;

                    if (asprintf(&sk, "%zu\x1f%s", model, ckey) < 0) {
                        json_decref(seen);
                        err_set(err, ERR_INTERNAL, "out of memory");
                        goto out;
                    }
                    linked = 1;
                    if (json_object_get(seen, sk) != NULL) {
                        free(sk);
                        continue;
                    }
                    comps = json_object_get(json_array_get(outm, model), "components");
                    if (set_add(seen, sk) < 0 || add_reqs(comps, ckey, &s, err) < 0) {
                        free(sk);
                        json_decref(seen);
                        goto out;
                    }
                    free(sk);
                }
            }
        }
        json_decref(seen);
        if (!linked && add_reqs(accounts, s.account_id, &s, err) < 0)
            goto out;
    }
    json_array_foreach(outm, mi, m) {
        if (sort_lists(json_object_get(m, "components"), err) < 0)
            goto out;
    }
    if (sort_lists(accounts, err) < 0)
        goto out;
    result = json_pack("{s:O, s:O}", "models", outm, "accounts", accounts);
    if (result == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    *ret = result;
    rc = 0;
out:
    json_decref(idx);
    json_decref(outm);
    json_decref(accounts);
    return rc;
}

/* ---- failing components ---- */

struct fc_hit {
    size_t model;
    const char *key; /* borrowed from the model */
};

static int
fc_hit_cmp(const void *a, const void *b)
{
    const struct fc_hit *x = a, *y = b;

    if (x->model != y->model)
        return x->model < y->model ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Index key ACCOUNT '\x1f' ID into buf; 0 when it does not fit. */
static int
fc_ikey(char *buf, size_t bufsz, const char *acct, const char *id)
{
    int n = snprintf(buf, bufsz, "%s\x1f%s", acct, id);

    return n > 0 && (size_t)n < bufsz;
}

/* Records model component (model, comp) under id: values are integers
 * model << 32 | comp, listed once. */
static int
fc_index_add(json_t *idx, const char *acct, const char *id, size_t model, size_t comp,
    struct err *err)
{
    char k[1200];
    json_t *list, *v;
    json_int_t code = (json_int_t)(((uint64_t)model << 32) | comp);
    size_t i;

    if (!fc_ikey(k, sizeof(k), acct, id))
        return 0; /* longer than any resource id a summary holds: cannot match */
    list = json_object_get(idx, k);
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(idx, k, list) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }
    json_array_foreach(list, i, v) {
        if (json_integer_value(v) == code)
            return 0;
    }
    if (json_array_append_new(list, json_integer(code)) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

/* Adds component (model, key) to every (standard, control) pair of s in
 * acc {"STD\tCTL": {KEY: model}}; a key is listed once per pair. */
static int
fc_add(json_t *acc, const struct summary *s, size_t model, const char *key, struct err *err)
{
    json_t *sid;
    size_t i;

    json_array_foreach(s->standard_ids, i, sid) {
        const char *std = json_string_value(sid);
        json_t *cids = std != NULL ? json_object_get(s->control_ids, std) : NULL, *c;
        size_t j;

        json_array_foreach(cids, j, c) {
            char k[256];
            json_t *set;

            if (!json_is_string(c))
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': bad control "
                                                  "ids", s->id);
            snprintf(k, sizeof(k), "%s\t%s", std, json_string_value(c));
            set = json_object_get(acc, k);
            if (set == NULL) {
                set = json_object();
                if (set == NULL || json_object_set_new(acc, k, set) < 0)
                    return err_set(err, ERR_INTERNAL, "out of memory");
            }
            if (json_object_get(set, key) == NULL &&
                json_object_set_new(set, key, json_integer((json_int_t)model)) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
        }
    }
    return 0;
}

/* 1 when s is a counted FAILED finding naming at least one control. */
static int
fc_counts(const struct summary *s)
{
    json_t *sid;
    size_t i;

    if (s->archived || s->status == NULL || strcmp(s->status, "FAILED") != 0 ||
        strcmp(s->workflow, "SUPPRESSED") == 0)
        return 0;
    json_array_foreach(s->standard_ids, i, sid) {
        const char *std = json_string_value(sid);
        if (std != NULL && json_array_size(json_object_get(s->control_ids, std)) > 0)
            return 1;
    }
    return 0;
}

int
compliance_links_models(json_t *summaries, struct err *err)
{
    struct summary s;
    size_t i;

    if (!json_is_array(summaries))
        return err_set(err, ERR_INTERNAL, "compliance_links_models: summaries is not a list");
    for (i = 0; i < json_array_size(summaries); i++) {
        if (summary_read(json_array_get(summaries, i), i, &s, err) < 0)
            return -1;
        if (fc_counts(&s))
            return 1;
    }
    return 0;
}

/* The resource ids (and their ARN tails) of the counted FAILED summaries
 * as a set: the only ids compliance_failing_components looks up. */
static int
fc_wanted(const struct summary *sums, size_t n, json_t **ret, struct err *err)
{
    json_t *set = json_object(), *r;
    size_t i, j;

    if (set == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    for (i = 0; i < n; i++) {
        if (!fc_counts(&sums[i]))
            continue;
        json_array_foreach(sums[i].resources, j, r) {
            const char *id = json_string_value(r), *tail;

            if (id == NULL || (strncmp(id, "AWS::::Account:", 15) == 0 && id[15] != '\0'))
                continue;
            tail = arn_tail(id);
            if (set_add(set, id) < 0 || (tail != NULL && set_add(set, tail) < 0)) {
                json_decref(set);
                return err_set(err, ERR_INTERNAL, "out of memory");
            }
        }
    }
    *ret = set;
    return 0;
}

int
compliance_failing_components(json_t *summaries, json_t *models, const char *account_id,
    json_t **ret, struct err *err)
{
    json_t *idx = NULL, *acc = json_object(), *out = json_object(), *m, *set;
    json_t *wanted = NULL;
    struct summary *sums = NULL;
    struct fc_hit *hits = NULL;
    size_t n, nm, mi, i, nfail = 0;
    const char *pair;
    char acct_key[64];
    int rc = -1;

    if (acc == NULL || out == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!json_is_array(summaries) || !json_is_array(models) || account_id == NULL) {
        err_set(err, ERR_INTERNAL,
            "compliance_failing_components: summaries and models must be lists");
        goto out;
    }
    n = json_array_size(summaries);
    nm = json_array_size(models);
    snprintf(acct_key, sizeof(acct_key), "account:%s", account_id);
    sums = calloc(n ? n : 1, sizeof(*sums));
    if (sums == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (summary_read(json_array_get(summaries, i), i, &sums[i], err) < 0)
            goto out;
        nfail += fc_counts(&sums[i]);
    }
    /* the ids the lookups below will ask for: only components bearing one
     * of them are indexed (the index answers exactly those lookups) */
    if (nfail > 0 && fc_wanted(sums, n, &wanted, err) < 0)
        goto out;
    json_array_foreach(models, mi, m) {
        const char *acct = json_string_value(json_object_get(m, "account_id"));
        json_t *comps = json_object_get(m, "components"), *c;

        if (acct == NULL || !json_is_array(comps)) {
            err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu has no "
                                       "account_id or components", mi + 1);
            goto out;
        }
        if (nfail == 0)
            continue; /* nothing to link: shapes checked, no index needed */
        if (idx == NULL && (idx = json_object()) == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        json_array_foreach(comps, i, c) {
            const char *key = json_string_value(json_object_get(c, "key"));
            const char *rid = json_string_value(json_object_get(c, "resource_id"));
            const char *tail;

            if (key == NULL) {
                err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu component "
                                           "%zu has no key", mi + 1, i + 1);
                goto out;
            }
            tail = arn_tail(key);
            if ((json_object_get(wanted, key) != NULL &&
                    fc_index_add(idx, acct, key, mi, i, err) < 0) ||
                (rid != NULL && json_object_get(wanted, rid) != NULL &&
                    fc_index_add(idx, acct, rid, mi, i, err) < 0) ||
                (tail != NULL && json_object_get(wanted, tail) != NULL &&
                    fc_index_add(idx, acct, tail, mi, i, err) < 0))
                goto out;
        }
    }
    for (i = 0; i < n && nfail > 0; i++) {
        const struct summary *s = &sums[i];
        json_t *r;
        size_t j;
        int linked = 0;

        if (!fc_counts(s))
            continue;
        json_array_foreach(s->resources, j, r) {
            const char *id = json_string_value(r), *tail;
            json_t *lists[2];
            char k[1200];

            if (id == NULL)
                continue;
            if (strncmp(id, "AWS::::Account:", 15) == 0 && id[15] != '\0') {
                linked = 1;
                if (strcmp(id + 15, account_id) == 0 && fc_add(acc, s, nm, acct_key, err) < 0)
                    goto out;
                continue;
            }
            tail = arn_tail(id);
            lists[0] = fc_ikey(k, sizeof(k), s->account_id, id) ? json_object_get(idx, k) : NULL;
            lists[1] = tail != NULL && fc_ikey(k, sizeof(k), s->account_id, tail)
                           ? json_object_get(idx, k)
                           : NULL;
            for (int l = 0; l < 2; l++) {
                json_t *v;
                size_t h;

                json_array_foreach(lists[l], h, v) {
                    uint64_t code = (uint64_t)json_integer_value(v);
                    size_t model = (size_t)(code >> 32), comp = (size_t)(code & 0xffffffffu);
                    const char *ckey = json_string_value(json_object_get(
                        json_array_get(json_object_get(json_array_get(models, model),
                                           "components"), comp), "key"));

                    linked = 1;
                    if (fc_add(acc, s, model, ckey, err) < 0)
                        goto out;
                }
            }
        }
        if (!linked && strcmp(s->account_id, account_id) == 0 &&
            fc_add(acc, s, nm, acct_key, err) < 0)
            goto out;
    }
    json_object_foreach(acc, pair, set) {
        size_t nh = json_object_size(set), h = 0;
        json_t *list = json_array(), *v;
        const char *key;

        free(hits);
        hits = calloc(nh ? nh : 1, sizeof(*hits));
        if (hits == NULL || list == NULL || json_object_set_new(out, pair, list) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        json_object_foreach(set, key, v) {
            hits[h].model = (size_t)json_integer_value(v);
            hits[h].key = key;
            h++;
        }
        qsort(hits, nh, sizeof(*hits), fc_hit_cmp);
        for (h = 0; h < nh; h++) {
            json_t *vpc = hits[h].model < nm
                              ? json_object_get(json_array_get(models, hits[h].model), "vpc_id")
                              : NULL;
            if (json_array_append_new(list, json_pack("{s:O, s:s}", "vpc_id",
                                                vpc != NULL ? vpc : json_null(), "key",
                                                hits[h].key)) < 0) {
                err_set(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    free(hits);
    free(sums);
    json_decref(wanted);
    json_decref(idx);
    json_decref(acc);
    json_decref(out);
    return rc;
}

/* ---- merge ---- */

int
compliance_merge(json_t *stored, json_t *updated, json_t **ret, struct err *err)
{
    json_t *byid = json_object(), *out = NULL, *list[2] = {stored, updated}, *s;
    const char *names[2] = {"stored", "updated"};
    size_t i;
    int rc = -1;

    if (byid == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    for (int l = 0; l < 2; l++) {
        if (!json_is_array(list[l])) {
            err_set(err, ERR_INTERNAL, "compliance_merge: %s summaries is not a list", names[l]);
            goto out;
        }
        json_array_foreach(list[l], i, s) {
            struct summary sum;
            if (summary_read(s, i, &sum, err) < 0) {
                err_prefix(err, "%s", names[l]);
                goto out;
            }
            if (sum.archived) {
                json_object_del(byid, sum.id);
                continue;
            }
            if (json_object_set(byid, sum.id, s) < 0) {
                err_set(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
    }
    {
        json_t *ids = set_sorted(byid), *id;
        out = json_array();
        if (ids == NULL || out == NULL) {
            json_decref(ids);
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        json_array_foreach(ids, i, id)
            json_array_append(out, json_object_get(byid, json_string_value(id)));
        json_decref(ids);
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    json_decref(out);
    json_decref(byid);
    return rc;
}

/* Borrowed field or a new null, as json_extract gives a missing one. */
static json_t *
field_or_null(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return v != NULL ? json_incref(v) : json_null();
}

char *
compliance_link_text(const json_t *model)
{
    json_t *doc, *comps, *c;
    size_t i;
    char *text = NULL;

    if (!json_is_object(model))
        return NULL;
    comps = json_array();
    doc = json_object();
    if (comps == NULL || doc == NULL)
        goto out;
    /* the *_new calls take their value even when they fail */
    json_array_foreach(json_object_get(model, "components"), i, c) {
        json_t *one = json_object();

        if (json_array_append_new(comps, one) < 0 ||
            json_object_set_new_nocheck(one, "key", field_or_null(c, "key")) < 0 ||
            json_object_set_new_nocheck(one, "resource_id", field_or_null(c, "resource_id")) < 0)
            goto out;
    }
    if (json_object_set_new_nocheck(doc, "account_id", field_or_null(model, "account_id")) < 0)
        goto out;
    json_t *cs = comps;
    comps = NULL;
    if (json_object_set_new_nocheck(doc, "components", cs) < 0 ||
        json_object_set_new_nocheck(doc, "vpc_id", field_or_null(model, "vpc_id")) < 0)
        goto out;
    text = jsonw_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
out:
    json_decref(comps);
    json_decref(doc);
    return text;
}
