/*
 * securityhub.c: Security Hub reads and the finding summariser (see
 * securityhub.h for the two-pass GetFindings design). Request bodies and
 * queries are built with jansson and sigv4_uri_encode, never pasted; every
 * page is validated before its items are used, and every pagination loop is
 * bounded (max_pages) and stops on a NextToken it has already seen.
 *
 * The summariser treats a finding as untrusted input: each field it reads
 * is type- and length-checked, enums are checked against the values the API
 * defines, and a finding it cannot make sense of is an error naming the
 * field, never a guess. Quirks handled (testdata/aws READMEs): Region
 * missing on EventBridge-delivered findings, severity only as
 * Product/Normalized or in ProductFields on 2018 findings, malformed
 * resource ARNs (kept verbatim: linking works on ids and ARN tails).
 *
 * Which passes GetFindings sends (enum sh_style, remembered per target by
 * the caller). A hub generates one kind of finding at a time, so one of the
 * two passes is normally empty and costs a call per target and run for
 * nothing; but a hub can switch kinds (consolidated control findings turned
 * on or off), and AWS then archives the old kind and generates the new one
 * over up to a day, in either order. The rule, which never loses a finding
 * for longer than that switch-over lasts in AWS itself:
 *  - SH_STYLE_UNKNOWN: both passes, as the query says (full or incremental);
 *    but a full read with describe_hub set first asks DescribeHub for the
 *    hub's ControlFindingGenerator and, when it answers, goes on as for that
 *    known style (below);
 *  - a known style, full read: its own pass; when that returns no finding
 *    at all, the other pass too (the hub may have switched);
 *  - a known style, incremental read: its own pass only; when that returns
 *    an ARCHIVED finding (AWS archiving the old kind is the first sign of a
 *    switch, and archivals are rare otherwise), the other pass too, as a
 *    full ACTIVE read, so the other kind's findings generated before `since`
 *    are not missed.
 * The style learnt (counts->style): both kinds ACTIVE -> UNKNOWN; one kind
 * ACTIVE and the other proved empty by a full read of its pass (or not asked
 * because the remembered style is that one kind) -> that kind; nothing
 * ACTIVE -> UNKNOWN after a full read or a fall-back, else the remembered
 * style unchanged (an incremental read that found nothing proves nothing).
 * An incremental read never narrows UNKNOWN to one kind: only a full read
 * can prove a pass empty.
 */
#include "providers/aws/securityhub.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/jsonr.h"
#include "daemon/log.h"
#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/pager.h"
#include "providers/aws/sigv4.h"

#define CIS_MARK          "cis-aws-foundations-benchmark/v/"
#define SEC_CONTROL_HEAD  "security-control/"
#define MAX_ID            1024
#define MAX_TEXT          4096
#define MAX_RESOURCES     32
#define MAX_ASSOCIATED    32
#define MAX_REQUIREMENTS  64
#define MAX_CONTROL_NUM   16

/* ---- small helpers ---- */

/* AWS's limits (GetFindings 3/s burst 6, the rest 10/s burst 30) with one
 * token kept back from GetFindings' small burst: this bucket is charged when
 * a request leaves and AWS's when it arrives, so two requests sent 1/3 s
 * apart can arrive closer together; without the reserve a burst drained to
 * the last token was throttled now and then (bench/, 10k: 2-4 throttles per
 * run, each a retry and at least a second of backoff). The reserve costs at
 * most 1/3 s per target. */
int
sh_configure_ratelimit(struct aws_ratelimit *rl, struct err *err)
{
    if (aws_ratelimit_set(rl, "securityhub:GetFindings", 3.0, 5.0, err) < 0)
        return -1;
    return aws_ratelimit_set(rl, "securityhub", 10.0, 30.0, err);
}

int
sh_err_not_enabled(const struct err *err)
{
    return err != NULL && strcmp(err->code, "InvalidAccessException") == 0;
}

/* The "cis-<major>.<minor>" key of the version text at p (just after
 * CIS_MARK): 1-3 digits, '.', 1-3 digits, anything after; out holds at
 * least 16 bytes. Built with memcpy, not snprintf: the summariser calls it
 * for every standard and requirement of every finding. */
static int
cis_key_at(const char *p, char *out)
{
    size_t n1, n2;

    n1 = strspn(p, "0123456789");
    if (n1 == 0 || n1 > 3 || p[n1] != '.')
        return -1;
    n2 = strspn(p + n1 + 1, "0123456789");
    if (n2 == 0 || n2 > 3)
        return -1;
    memcpy(out, "cis-", 4);
    memcpy(out + 4, p, n1 + 1 + n2); /* major '.' minor */
    out[4 + n1 + 1 + n2] = '\0';
    return 0;
}

int
sh_cis_key(const char *text, char *out, size_t outsz)
{
    const char *p = text != NULL ? strstr(text, CIS_MARK) : NULL;

    if (p == NULL || outsz < 16)
        return -1;
    return cis_key_at(p + strlen(CIS_MARK), out);
}

/* The resource part of an ARN (after the fifth ':'), or NULL. */
static const char *
arn_resource(const char *arn)
{
    const char *p = arn;

    if (strncmp(arn, "arn:", 4) != 0)
        return NULL;
    for (int i = 0; i < 5; i++) {
        p = strchr(p, ':');
        if (p == NULL)
            return NULL;
        p++;
    }
    return *p != '\0' ? p : NULL;
}

/* The field'th (0-based) colon-separated part of an ARN, copied into out. */
static int
arn_part(const char *arn, int field, char *out, size_t outsz)
{
    const char *p = arn;
    size_t n;

    if (strncmp(arn, "arn:", 4) != 0)
        return -1;
    for (int i = 0; i < field; i++) {
        p = strchr(p, ':');
        if (p == NULL)
            return -1;
        p++;
    }
    n = strcspn(p, ":");
    if (n == 0 || n >= outsz)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* "1.10", "4.3": digits separated by single dots, short. */
static int
valid_control_number(const char *s, size_t n)
{
    if (n == 0 || n > MAX_CONTROL_NUM || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && s[i + 1] == '.')
            return 0;
        if (!isdigit((unsigned char)s[i]) && s[i] != '.')
            return 0;
    }
    return 1;
}

static int
in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(s, list[i]) == 0)
            return 1;
    }
    return 0;
}

static const char *const severities[] = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL",
    NULL};

/* ---- one REST-JSON call ---- */

static int
sh_call(struct aws_client *client, const char *op, const char *method, const char *path,
    const char *query, json_t *body_json, long page, json_t **ret, struct err *err)
{
    struct aws_response resp;
    json_error_t jerr;
    char *body = NULL;
    json_t *doc;
    int rc = -1;

    memset(&resp, 0, sizeof(resp));
    if (body_json != NULL) {
        body = json_dumps(body_json, JSON_COMPACT);
        if (body == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory building securityhub %s", op);
    }
    struct aws_call call = {
        .service = "securityhub",
        .operation = op,
        .protocol = AWS_PROTO_RESTJSON,
        .method = method,
        .path = path,
        .query = query,
        .body = body,
        .body_len = body != NULL ? strlen(body) : 0,
    };
    if (aws_call(client, &call, &resp, err) < 0)
        goto out;
    doc = jsonr_loadb(buf_str(&resp.body), resp.body.len, 0, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        err_set(err, ERR_REMOTE,
            "securityhub %s: page %ld: malformed answer (%s at byte %d of %zu)%s%s", op, page,
            doc == NULL ? jerr.text : "not a JSON object", doc == NULL ? jerr.position : 0,
            resp.body.len, resp.request_id[0] ? ", request id " : "", resp.request_id);
        goto out;
    }
    *ret = doc;
    rc = 0;
out:
    aws_response_clear(&resp);
    free(body);
    return rc;
}

/* Reads NextToken of page `page` into *ret_tok (owned by the pager); returns
 * 1 to continue, 0 at the end, -1 on a bad or repeated token, a run of empty
 * pages or too many pages (pager.h). */
static int
next_token(json_t *doc, struct pager *pg, size_t items, const char **ret_tok, struct err *err)
{
    json_t *tok = json_object_get(doc, "NextToken");
    int r;

    if (tok != NULL && !json_is_null(tok) && !json_is_string(tok))
        return err_set(err, ERR_REMOTE, "%s: page %ld has a malformed NextToken", pg->what,
            pg->page + 1);
    r = pager_next(pg, items, json_string_value(tok), json_string_length(tok), err);
    if (r > 0)
        *ret_tok = pager_token(pg);
    return r;
}

/* The list `field` of a page: must be an array (absent only if !required). */
static json_t *
page_list(json_t *doc, const char *field, int required, const char *op, long page,
    struct err *err)
{
    json_t *v = json_object_get(doc, field);

    if (v == NULL && !required)
        return json_array();
    if (!json_is_array(v)) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld: %s is %s", op, page, field,
            v == NULL ? "missing" : "not a list");
        return NULL;
    }
    return json_incref(v);
}

static int
query_add(struct buf *q, const char *name, const char *value, struct err *err)
{
    char *enc = sigv4_uri_encode(value, strlen(value), 0, err);
    int rc;

    if (enc == NULL)
        return -1;
    rc = buf_printf(q, err, "%s%s=%s", q->len ? "&" : "", name, enc);
    free(enc);
    return rc;
}

/* Item converter for the list operations: raw item -> normalised (new ref). */
typedef json_t *(*item_fn)(json_t *raw, const char *op, long page, size_t idx, struct err *err);

/* Runs a paginated list operation. GET operations carry NextToken and
 * MaxResults in the query (after `base_query`), POST ones in the body. */
static int
list_all(struct aws_client *client, const char *op, const char *method, const char *path,
    const char *base_query, const char *field, int required, long max_results, item_fn conv,
    json_t **ret, struct err *err)
{
    char what[96];
    struct pager pg;
    json_t *out = json_array(), *body = NULL;
    const char *tok = NULL;
    struct buf q;
    long page = 0;
    size_t n_items;
    int rc = -1, more = 1;

    snprintf(what, sizeof(what), "securityhub %s", op);
    pager_init(&pg, what, SH_DEFAULT_MAX_PAGES);
    buf_init(&q, 1 << 20);
    if (out == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    while (more) {
        json_t *doc = NULL, *list, *item;
        size_t i;

        page++;
        buf_reset(&q);
        json_decref(body);
        body = NULL;
        if (strcmp(method, "GET") == 0) {
            char mr[24];
            if (base_query != NULL && buf_puts(&q, base_query, err) < 0)
                goto out;
            snprintf(mr, sizeof(mr), "%ld", max_results);
            if (query_add(&q, "MaxResults", mr, err) < 0)
                goto out;
            if (tok != NULL && query_add(&q, "NextToken", tok, err) < 0)
                goto out;
        } else {
            body = json_pack("{s:I}", "MaxResults", (json_int_t)max_results);
            if (body == NULL || (tok != NULL && json_object_set_new(body, "NextToken",
                                                    json_string(tok)) < 0)) {
                err_set(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
        if (sh_call(client, op, method, path, q.len ? buf_str(&q) : NULL, body, page, &doc,
                err) < 0)
            goto out;
        list = page_list(doc, field, required, op, page, err);
        if (list == NULL) {
            json_decref(doc);
            goto out;
        }
        json_array_foreach(list, i, item) {
            json_t *norm = conv(item, op, page, i, err);
            if (norm == NULL || json_array_append_new(out, norm) < 0) {
                if (norm != NULL)
                    err_set(err, ERR_INTERNAL, "out of memory");
                json_decref(list);
                json_decref(doc);
                goto out;
            }
        }
        n_items = json_array_size(list);
        json_decref(list);
        more = next_token(doc, &pg, n_items, &tok, err);
        json_decref(doc);
        if (more < 0)
            goto out;
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    json_decref(out);
    json_decref(body);
    buf_clear(&q);
    pager_clear(&pg);
    return rc;
}

/* A required, non-empty, bounded string member of a list item. */
static const char *
item_str(json_t *raw, const char *key, const char *op, long page, size_t idx, struct err *err)
{
    json_t *v = json_object_get(raw, key);

    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > MAX_TEXT) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu: %s is %s", op, page, idx + 1,
            key, v == NULL ? "missing" : "not a usable string");
        return NULL;
    }
    return json_string_value(v);
}

/* ---- GetEnabledStandards ---- */

static json_t *
conv_subscription(json_t *raw, const char *op, long page, size_t idx, struct err *err)
{
    const char *sarn, *subarn, *status, *res;
    char key[16];

    if (!json_is_object(raw)) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu is not an object", op, page,
            idx + 1);
        return NULL;
    }
    if ((sarn = item_str(raw, "StandardsArn", op, page, idx, err)) == NULL ||
        (subarn = item_str(raw, "StandardsSubscriptionArn", op, page, idx, err)) == NULL ||
        (status = item_str(raw, "StandardsStatus", op, page, idx, err)) == NULL)
        return NULL;
    res = arn_resource(sarn);
    if (res == NULL) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu: StandardsArn '%.200s' is "
                                 "not an ARN", op, page, idx + 1, sarn);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "standards_arn", sarn, "subscription_arn",
        subarn, "standards_id", res, "status", status, "key",
        sh_cis_key(sarn, key, sizeof(key)) == 0 ? json_string(key) : json_null());
}

int
sh_get_enabled_standards(struct aws_client *client, json_t **ret, struct err *err)
{
    return list_all(client, "GetEnabledStandards", "POST", "/standards/get", NULL,
        "StandardsSubscriptions", 0, 100, conv_subscription, ret, err);
}

/* ---- DescribeHub ---- */

int
sh_describe_hub(struct aws_client *client, enum sh_style *ret, struct err *err)
{
    json_t *doc = NULL, *gen;
    int rc = -1;

    if (sh_call(client, "DescribeHub", "GET", "/accounts", NULL, NULL, 1, &doc, err) < 0)
        return -1;
    gen = json_object_get(doc, "ControlFindingGenerator");
    if (json_is_string(gen) && strcmp(json_string_value(gen), "SECURITY_CONTROL") == 0) {
        *ret = SH_STYLE_CONSOLIDATED;
        rc = 0;
    } else if (json_is_string(gen) && strcmp(json_string_value(gen), "STANDARD_CONTROL") == 0) {
        *ret = SH_STYLE_LEGACY;
        rc = 0;
    } else if (gen == NULL || json_is_null(gen)) {
        /* older hubs may not say; the caller reads both kinds */
        *ret = SH_STYLE_UNKNOWN;
        rc = 0;
    } else {
        err_set(err, ERR_REMOTE, "securityhub DescribeHub: ControlFindingGenerator is %s",
            json_is_string(gen) ? "an unknown value" : "not a string");
    }
    json_decref(doc);
    return rc;
}

/* ---- DescribeStandardsControls ---- */

json_t *
sh_control_ids_from_url(json_t *url)
{
    json_t *out = json_array();
    const char *s, *p, *e;

    if (out == NULL || !json_is_string(url))
        return out;
    s = json_string_value(url);
    p = strstr(s, "/securityhub/");
    if (p == NULL)
        return out;
    p += strlen("/securityhub/");
    e = strchr(p, '/');
    if (e == NULL || strcmp(e, "/remediation") != 0 || e - p > 64 || e == p)
        return out;
    for (const char *c = p; c < e; c++) {
        if (!isalnum((unsigned char)*c) && *c != '.')
            return out;
    }
    if (memchr(p, '.', (size_t)(e - p)) == NULL || !isalpha((unsigned char)*p))
        return out;
    json_array_append_new(out, json_stringn(p, (size_t)(e - p)));
    return out;
}

static json_t *
conv_control(json_t *raw, const char *op, long page, size_t idx, struct err *err)
{
    const char *cid, *status, *num;
    json_t *title, *sev, *reason;

    if (!json_is_object(raw)) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu is not an object", op, page,
            idx + 1);
        return NULL;
    }
    if ((cid = item_str(raw, "ControlId", op, page, idx, err)) == NULL ||
        (status = item_str(raw, "ControlStatus", op, page, idx, err)) == NULL)
        return NULL;
    if (strcmp(status, "ENABLED") != 0 && strcmp(status, "DISABLED") != 0) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu (%.64s): unknown "
                                 "ControlStatus '%.32s'", op, page, idx + 1, cid, status);
        return NULL;
    }
    num = strncmp(cid, "CIS.", 4) == 0 ? cid + 4 : cid;
    title = json_object_get(raw, "Title");
    sev = json_object_get(raw, "SeverityRating");
    reason = json_object_get(raw, "DisabledReason");
    if (sev != NULL && (!json_is_string(sev) || !in_list(json_string_value(sev), severities))) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu (%.64s): bad SeverityRating",
            op, page, idx + 1, cid);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:O, s:O, s:s, s:O, s:o}", "control_id", num, "aws_control_id",
        cid, "title", json_is_string(title) ? title : json_null(), "severity",
        sev != NULL ? sev : json_null(), "status", status, "disabled_reason",
        json_is_string(reason) ? reason : json_null(), "security_control_ids",
        sh_control_ids_from_url(json_object_get(raw, "RemediationUrl")));
}

int
sh_describe_standards_controls(struct aws_client *client, const char *subscription_arn,
    json_t **ret, struct err *err)
{
    char *enc, *path = NULL;
    int rc;

    if (subscription_arn == NULL || arn_resource(subscription_arn) == NULL)
        return err_set(err, ERR_CONFIG, "securityhub DescribeStandardsControls: '%.200s' is not "
                                        "a standards subscription ARN",
            subscription_arn ? subscription_arn : "(null)");
    /* {StandardsSubscriptionArn+} is a greedy label: '/' stays, ':' is encoded */
    enc = sigv4_uri_encode(subscription_arn, strlen(subscription_arn), 1, err);
    if (enc == NULL)
        return -1;
    if (asprintf(&path, "/standards/controls/%s", enc) < 0) {
        free(enc);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    free(enc);
    rc = list_all(client, "DescribeStandardsControls", "GET", path, NULL, "Controls", 0, 100,
        conv_control, ret, err);
    free(path);
    return rc;
}

/* ---- ListSecurityControlDefinitions ---- */

static json_t *
conv_definition(json_t *raw, const char *op, long page, size_t idx, struct err *err)
{
    const char *sid, *title, *sev;
    json_t *avail;

    if (!json_is_object(raw)) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu is not an object", op, page,
            idx + 1);
        return NULL;
    }
    if ((sid = item_str(raw, "SecurityControlId", op, page, idx, err)) == NULL ||
        (title = item_str(raw, "Title", op, page, idx, err)) == NULL ||
        (sev = item_str(raw, "SeverityRating", op, page, idx, err)) == NULL)
        return NULL;
    if (!in_list(sev, severities)) {
        err_set(err, ERR_REMOTE, "securityhub %s: page %ld item %zu (%.64s): unknown "
                                 "SeverityRating '%.32s'", op, page, idx + 1, sid, sev);
        return NULL;
    }
    avail = json_object_get(raw, "CurrentRegionAvailability");
    return json_pack("{s:s, s:s, s:s, s:O}", "security_control_id", sid, "title", title,
        "severity", sev, "availability", json_is_string(avail) ? avail : json_null());
}

int
sh_list_security_control_definitions(struct aws_client *client, const char *standards_arn,
    json_t **ret, struct err *err)
{
    struct buf q;
    int rc = -1;

    buf_init(&q, 1 << 16);
    if (standards_arn != NULL && query_add(&q, "StandardsArn", standards_arn, err) < 0)
        goto out;
    rc = list_all(client, "ListSecurityControlDefinitions", "GET", "/securityControls/definitions",
        q.len ? buf_str(&q) : NULL, "SecurityControlDefinitions", 1, 100, conv_definition, ret,
        err);
out:
    buf_clear(&q);
    return rc;
}

/* ---- catalogue ---- */

int
sh_read_catalogue(struct aws_client *client, json_t *standards, json_t **ret, struct err *err)
{
    json_t *cat = json_object(), *s;
    size_t i;
    int rc = -1;

    if (cat == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (!json_is_array(standards)) {
        err_set(err, ERR_INTERNAL, "sh_read_catalogue: standards is not a list");
        goto out;
    }
    json_array_foreach(standards, i, s) {
        json_t *key = json_object_get(s, "key"), *controls = NULL, *entry;
        const char *status = json_string_value(json_object_get(s, "status"));
        const char *sub = json_string_value(json_object_get(s, "subscription_arn"));

        if (!json_is_string(key) || status == NULL || sub == NULL ||
            (strcmp(status, "READY") != 0 && strcmp(status, "INCOMPLETE") != 0))
            continue;
        if (sh_describe_standards_controls(client, sub, &controls, err) < 0)
            goto out;
        entry = json_pack("{s:O, s:s, s:o}", "standards_arn",
            json_object_get(s, "standards_arn"), "subscription_arn", sub, "controls", controls);
        if (entry == NULL || json_object_set_new(cat, json_string_value(key), entry) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    *ret = cat;
    cat = NULL;
    rc = 0;
out:
    json_decref(cat);
    return rc;
}

/* ---- GetFindings ---- */

static json_t *
string_filter(const char *value, const char *comparison)
{
    return json_pack("{s:s, s:s}", "Value", value, "Comparison", comparison);
}

/* Appends the legacy GeneratorId prefixes of one standards ARN. */
static int
legacy_prefixes(const char *sarn, json_t *list, struct err *err)
{
    const char *res = arn_resource(sarn);
    char part[32];
    char *p = NULL;

    if (res == NULL || arn_part(sarn, 1, part, sizeof(part)) < 0)
        return err_set(err, ERR_CONFIG, "securityhub GetFindings: '%.200s' is not a standards ARN",
            sarn);
    if (strncmp(res, "ruleset/", 8) == 0) {
        if (asprintf(&p, "arn:%s:securityhub:::%s/rule/", part, res) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
        json_array_append_new(list, string_filter(p, "PREFIX"));
        free(p);
        return 0;
    }
    if (strncmp(res, "standards/", 10) == 0 && res[10] != '\0') {
        if (asprintf(&p, "%s/", res + 10) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
        json_array_append_new(list, string_filter(p, "PREFIX"));
        free(p);
        if (asprintf(&p, "%s/", res) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
        json_array_append_new(list, string_filter(p, "PREFIX"));
        free(p);
        return 0;
    }
    return err_set(err, ERR_CONFIG,
        "securityhub GetFindings: standards ARN '%.200s' has neither a ruleset/ nor a "
        "standards/ resource",
        sarn);
}

const char *
sh_style_name(enum sh_style style)
{
    switch (style) {
    case SH_STYLE_LEGACY:
        return "legacy";
    case SH_STYLE_CONSOLIDATED:
        return "consolidated";
    default:
        return NULL;
    }
}

json_t *
sh_findings_request(const struct sh_findings_query *q, int pass, struct err *err)
{
    return sh_findings_request_ex(q, pass, 0, err);
}

json_t *
sh_findings_request_ex(const struct sh_findings_query *q, int pass, int full_override,
    struct err *err)
{
    json_t *req = NULL, *filters, *list;

    if (q == NULL || q->nstandards == 0 || q->standards_arns == NULL) {
        err_set(err, ERR_CONFIG, "securityhub GetFindings: no standards to read");
        return NULL;
    }
    if (q->nstandards > SH_MAX_STANDARDS) {
        err_set(err, ERR_CONFIG, "securityhub GetFindings: %zu standards; at most %d can be read "
                                 "in one query", q->nstandards, SH_MAX_STANDARDS);
        return NULL;
    }
    if (pass != 1 && pass != 2) {
        err_set(err, ERR_INTERNAL, "securityhub GetFindings: no pass %d", pass);
        return NULL;
    }
    req = json_object();
    filters = json_object();
    list = json_array();
    if (req == NULL || filters == NULL || list == NULL) {
        json_decref(req);
        json_decref(filters);
        json_decref(list);
        err_set(err, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    json_object_set_new(req, "Filters", filters);
    for (size_t i = 0; i < q->nstandards; i++) {
        const char *sarn = q->standards_arns[i];
        if (sarn == NULL || arn_resource(sarn) == NULL) {
            json_decref(list);
            json_decref(req);
            err_set(err, ERR_CONFIG, "securityhub GetFindings: standard %zu: '%.200s' is not an "
                                     "ARN", i + 1, sarn ? sarn : "(null)");
            return NULL;
        }
        if (pass == 1) {
            if (legacy_prefixes(sarn, list, err) < 0) {
                json_decref(list);
                json_decref(req);
                return NULL;
            }
        } else {
            json_array_append_new(list, string_filter(arn_resource(sarn), "EQUALS"));
        }
    }
    if (pass == 1) {
        json_object_set_new(filters, "GeneratorId", list);
    } else {
        json_object_set_new(filters, "ComplianceAssociatedStandardsId", list);
        json_object_set_new(filters, "GeneratorId",
            json_pack("[o]", string_filter(SEC_CONTROL_HEAD, "PREFIX")));
    }
    if (q->since == 0 || full_override) {
        json_object_set_new(filters, "RecordState",
            json_pack("[o]", string_filter("ACTIVE", "EQUALS")));
    } else {
        char start[21], end[21];
        json_t *df;

        if (q->until != 0 && q->until < q->since) {
            json_decref(req);
            err_set(err, ERR_CONFIG, "securityhub GetFindings: incremental read ends before it "
                                     "starts");
            return NULL;
        }
        util_time_rfc3339(q->since, start);
        df = json_pack("{s:s}", "Start", start);
        if (q->until != 0) {
            util_time_rfc3339(q->until, end);
            json_object_set_new(df, "End", json_string(end));
        }
        json_object_set_new(filters, "UpdatedAt", json_pack("[o]", df));
    }
    json_object_set_new(req, "MaxResults", json_integer(SH_FINDINGS_PAGE));
    return req;
}

/* What one pass saw. */
struct pass_seen {
    long emitted, active, archived;
};

static int
findings_pass(struct aws_client *client, const struct sh_findings_query *q, int pass,
    int full_override, sh_emit_fn emit, void *ctx, struct sh_findings_counts *counts,
    struct pass_seen *seen, struct err *err)
{
    long max_pages = q->max_pages > 0 ? q->max_pages : SH_DEFAULT_MAX_PAGES;
    char what[96];
    struct pager pg;
    json_t *req = sh_findings_request_ex(q, pass, full_override, err);
    const char *tok = NULL;
    long page = 0;
    size_t n_items;
    int rc = -1, more = 1;

    snprintf(what, sizeof(what), "securityhub GetFindings");
    pager_init(&pg, what, max_pages);
    if (req == NULL)
        return -1;
    while (more) {
        json_t *doc = NULL, *list, *f;
        size_t i;

        page++;
        if (tok != NULL)
            json_object_set_new(req, "NextToken", json_string(tok));
        if (sh_call(client, "GetFindings", "POST", "/findings", NULL, req, page, &doc, err) < 0) {
            err_prefix(err, "%s pass, page %ld", pass == 1 ? "legacy" : "consolidated", page);
            goto out;
        }
        counts->pages++;
        list = page_list(doc, "Findings", 1, "GetFindings", page, err);
        if (list == NULL) {
            json_decref(doc);
            goto out;
        }
        json_array_foreach(list, i, f) {
            json_t *id = json_object_get(f, "Id");
            if (!json_is_object(f) || !json_is_string(id) || json_string_length(id) == 0) {
                err_set(err, ERR_REMOTE,
                    "securityhub GetFindings: page %ld: finding %zu is not an object with an Id",
                    page, i + 1);
                json_decref(list);
                json_decref(doc);
                goto out;
            }
            if (pager_item(&pg, json_string_value(id), json_string_length(id), err) < 0) {
                json_decref(list);
                json_decref(doc);
                goto out;
            }
            {
                /* RecordState is checked by the summariser; absent means ACTIVE */
                const char *rs = json_string_value(json_object_get(f, "RecordState"));
                if (rs != NULL && strcmp(rs, "ARCHIVED") == 0)
                    seen->archived++;
                else
                    seen->active++;
            }
            seen->emitted++;
            counts->findings++;
            if (pass == 1)
                counts->legacy++;
            else
                counts->consolidated++;
            if (emit(ctx, f, err) < 0) {
                json_decref(list);
                json_decref(doc);
                goto out;
            }
        }
        n_items = json_array_size(list);
        json_decref(list);
        more = next_token(doc, &pg, n_items, &tok, err);
        json_decref(doc);
        if (more < 0)
            goto out;
    }
    rc = 0;
out:
    pager_clear(&pg);
    json_decref(req);
    return rc;
}

/* The style to remember after a read (the rule at the top of this file).
 * full[p]: pass p+1 ran as a full ACTIVE read; ran[p]: it ran at all. */
static enum sh_style
learn_style(const struct sh_findings_query *q, const struct pass_seen seen[2], const int ran[2],
    const int full[2], int fallback)
{
    int active[2] = {seen[0].active > 0, seen[1].active > 0};

    if (active[0] && active[1])
        return SH_STYLE_UNKNOWN;
    for (int p = 0; p < 2; p++) {
        enum sh_style mine = p == 0 ? SH_STYLE_LEGACY : SH_STYLE_CONSOLIDATED;
        int other = 1 - p;

        if (!active[p])
            continue;
        if (ran[other] && full[other])
            return mine; /* the other kind proved empty */
        if (!ran[other] && q->style == mine)
            return mine; /* remembered, and nothing suggested a switch */
        return SH_STYLE_UNKNOWN;
    }
    if (q->since == 0 || fallback)
        return SH_STYLE_UNKNOWN;
    return q->style;
}

int
sh_get_findings(struct aws_client *client, const struct sh_findings_query *q, sh_emit_fn emit,
    void *ctx, struct sh_findings_counts *counts, struct err *err)
{
    struct sh_findings_counts local = {0};
    struct pass_seen seen[2] = {{0}, {0}};
    int ran[2] = {0, 0}, full[2] = {0, 0}, fallback = 0;
    json_t *probe;

    if (counts == NULL)
        counts = &local;
    if (q != NULL && q->style != SH_STYLE_UNKNOWN && q->style != SH_STYLE_LEGACY &&
        q->style != SH_STYLE_CONSOLIDATED)
        return err_set(err, ERR_CONFIG, "securityhub GetFindings: unknown finding style %d",
            (int)q->style);
    /* refuse a bad query before anything is sent */
    probe = sh_findings_request(q, 1, err);
    if (probe == NULL)
        return -1;
    json_decref(probe);
    /* A full read of a hub whose style is unknown asks the hub (one call
     * on the generous default rate limit) instead of sending a pass of
     * GetFindings (3/s) that comes back empty. It then follows the rule
     * for a known style, whose fall-back reads the other kind when the
     * hub's own comes back empty. Only a full read: it replaces every
     * stored finding, so none of the other kind can linger; an incremental
     * read in an unknown style (a switch-over) keeps both passes to see
     * the other kind archived. Any failure (an IAM policy without
     * securityhub:DescribeHub) falls back to both passes. */
    struct sh_findings_query described;
    if (q->style == SH_STYLE_UNKNOWN && q->since == 0 && q->describe_hub) {
        struct err derr;
        enum sh_style style = SH_STYLE_UNKNOWN;

        err_clear(&derr);
        if (sh_describe_hub(client, &style, &derr) < 0)
            log_debug("securityhub: the hub's finding style is unknown (%s); reading both kinds",
                derr.msg);
        if (style != SH_STYLE_UNKNOWN) {
            described = *q;
            described.style = style;
            q = &described;
        }
    }
    if (q->style == SH_STYLE_UNKNOWN) {
        for (int p = 0; p < 2; p++) {
            if (findings_pass(client, q, p + 1, 0, emit, ctx, counts, &seen[p], err) < 0)
                return -1;
            ran[p] = 1;
            full[p] = q->since == 0;
        }
    } else {
        int own = q->style == SH_STYLE_LEGACY ? 0 : 1, other = 1 - own;

        if (findings_pass(client, q, own + 1, 0, emit, ctx, counts, &seen[own], err) < 0)
            return -1;
        ran[own] = 1;
        full[own] = q->since == 0;
        if (q->since == 0 ? seen[own].emitted == 0 : seen[own].archived > 0) {
            fallback = 1;
            if (findings_pass(client, q, other + 1, 1, emit, ctx, counts, &seen[other], err) < 0)
                return -1;
            ran[other] = 1;
            full[other] = 1;
        }
    }
    counts->passes = (ran[0] ? SH_PASS_LEGACY : 0) | (ran[1] ? SH_PASS_CONSOLIDATED : 0);
    counts->active_in = (seen[0].active > 0 ? SH_PASS_LEGACY : 0) |
                        (seen[1].active > 0 ? SH_PASS_CONSOLIDATED : 0);
    counts->fallback = fallback;
    counts->style = learn_style(q, seen, ran, full, fallback);
    return 0;
}

/* ---- summariser ----
 *
 * Speed (issue 8 wants >= 200k findings/s of local processing; bench/findings.c
 * times this as "summarize"). An ASFF finding is a large object (25+
 * members), of which the summary needs 14: they are picked out in one walk
 * over its members (key length first, then the bytes) instead of one hash
 * lookup each. Strings the summary takes verbatim (Id, AwsAccountId,
 * UpdatedAt, Title, Region, the labels, statuses, resource ids) are the
 * finding's own string values, shared with json_incref, not copied: the
 * summary may hold references into the finding's tree, which neither is
 * ever changed in place after summarising (both are read-only values).
 * Enums are matched by length and bytes; the CIS keys are built with
 * memcpy; each RelatedRequirement is parsed once per finding, not once per
 * associated standard; UpdatedAt's common "YYYY-MM-DDTHH:MM:SS" shape is
 * checked in place, anything else goes to util_time_parse. The summary's
 * keys, their order, its values and every error (kind, message, which
 * problem is reported first) are those of the straightforward version. */

struct sum {
    const char *fid; /* for messages */
    json_t *out;
    json_t *controls; /* control_ids object (borrowed from out) */
};

/* The finding's members the summary reads (borrowed; NULL when absent). */
struct fields {
    json_t *id, *acct, *updated, *title, *region, *gen, *rstate, *pf, *comp, *sev, *wf,
        *wfstate, *res, *fpf;
};

#define KEY_IS(k, lit) (memcmp((k), (lit), sizeof(lit) - 1) == 0)
/* v is a string value without NUL bytes equal to lit */
#define STR_IS(v, lit)                                                                          \
    (json_string_length(v) == sizeof(lit) - 1 &&                                               \
        memcmp(json_string_value(v), (lit), sizeof(lit) - 1) == 0)

/* One walk over the finding's members, keeping those the summary reads. */
static void
pick_fields(json_t *f, struct fields *fl)
{
    void *it;

    memset(fl, 0, sizeof(*fl));
    for (it = json_object_iter(f); it != NULL; it = json_object_iter_next(f, it)) {
        const char *k = json_object_iter_key(it);
        json_t *v = json_object_iter_value(it);

        switch (json_object_iter_key_len(it)) {
        case 2:
            if (KEY_IS(k, "Id"))
                fl->id = v;
            break;
        case 5:
            if (KEY_IS(k, "Title"))
                fl->title = v;
            break;
        case 6:
            if (KEY_IS(k, "Region"))
                fl->region = v;
            break;
        case 8:
            if (KEY_IS(k, "Severity"))
                fl->sev = v;
            else if (KEY_IS(k, "Workflow"))
                fl->wf = v;
            break;
        case 9:
            if (KEY_IS(k, "UpdatedAt"))
                fl->updated = v;
            else if (KEY_IS(k, "Resources"))
                fl->res = v;
            break;
        case 10:
            if (KEY_IS(k, "Compliance"))
                fl->comp = v;
            break;
        case 11:
            if (KEY_IS(k, "GeneratorId"))
                fl->gen = v;
            else if (KEY_IS(k, "RecordState"))
                fl->rstate = v;
            break;
        case 12:
            if (KEY_IS(k, "AwsAccountId"))
                fl->acct = v;
            break;
        case 13:
            if (KEY_IS(k, "ProductFields"))
                fl->pf = v;
            else if (KEY_IS(k, "WorkflowState"))
                fl->wfstate = v;
            break;
        case 21:
            if (KEY_IS(k, "FindingProviderFields"))
                fl->fpf = v;
            break;
        default:
            break;
        }
    }
}

/* Optional string value v (the member key of where): *ret NULL when v is
 * absent/null; error when the wrong type, longer than max or holding a NUL
 * byte. */
static int
chk_str(struct sum *s, json_t *v, const char *where, const char *key, size_t max,
    const char **ret, struct err *err)
{
    size_t len;

    *ret = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_REMOTE, "finding '%.200s': %s%s is not a string", s->fid, where,
            key);
    len = json_string_length(v);
    if (len > max)
        return err_set(err, ERR_REMOTE, "finding '%.200s': %s%s is longer than %zu bytes",
            s->fid, where, key, max);
    if (memchr(json_string_value(v), '\0', len) != NULL)
        return err_set(err, ERR_REMOTE, "finding '%.200s': %s%s contains a NUL byte", s->fid,
            where, key);
    *ret = json_string_value(v);
    return 0;
}

/* chk_str on member key of obj (obj may be NULL). */
static int
opt_str(struct sum *s, json_t *obj, const char *key, const char *where, size_t max,
    const char **ret, struct err *err)
{
    return chk_str(s, json_object_get(obj, key), where, key, max, ret, err);
}

/* Optional object value v (member key): *ret NULL when absent/null. */
static int
chk_obj(struct sum *s, json_t *v, const char *key, json_t **ret, struct err *err)
{
    *ret = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return err_set(err, ERR_REMOTE, "finding '%.200s': %s is not an object", s->fid, key);
    *ret = v;
    return 0;
}

/* A summary value: the finding's string v shared, else a copy of the
 * literal lit (ASCII), else null. NULL only when out of memory. */
static json_t *
out_val(json_t *v, const char *lit)
{
    if (v != NULL)
        return json_incref(v);
    if (lit != NULL)
        return json_string_nocheck(lit);
    return json_null();
}

/* Adds control number n (may be NULL: standard only) under key. */
static int
add_control(struct sum *s, const char *key, const char *n, size_t nlen, struct err *err)
{
    json_t *list = json_object_get(s->controls, key);
    size_t i;
    json_t *v;

    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new_nocheck(s->controls, key, list) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }
    if (n == NULL)
        return 0;
    json_array_foreach(list, i, v) {
        if (json_string_length(v) == nlen && memcmp(json_string_value(v), n, nlen) == 0)
            return 0;
    }
    if (json_array_append_new(list, json_stringn(n, nlen)) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

/* Legacy identity: GeneratorId ".../v/1.2.0/rule/1.1" or ".../v/1.4.0/1.4";
 * else ProductFields StandardsArn/StandardsGuideArn with RuleId/ControlId. */
static int
legacy_identity(struct sum *s, const char *gen, json_t *pf, struct err *err)
{
    char key[16];
    const char *from = NULL, *num = NULL;

    if (sh_cis_key(gen, key, sizeof(key)) == 0) {
        from = gen;
    } else {
        const char *a = NULL, *b = NULL;
        if (pf == NULL) /* nothing to look up: the lookups below find nothing */
            return 0;
        if (opt_str(s, pf, "StandardsArn", "ProductFields.", MAX_ID, &a, err) < 0 ||
            opt_str(s, pf, "StandardsGuideArn", "ProductFields.", MAX_ID, &b, err) < 0)
            return -1;
        if (a != NULL && sh_cis_key(a, key, sizeof(key)) == 0)
            from = a;
        else if (b != NULL && sh_cis_key(b, key, sizeof(key)) == 0)
            from = b;
    }
    if (from == NULL)
        return 0;
    if (from == gen) {
        const char *p = strstr(gen, CIS_MARK) + strlen(CIS_MARK);
        p = strchr(p, '/');
        if (p != NULL) {
            p++;
            if (strncmp(p, "rule/", 5) == 0)
                p += 5;
            if (valid_control_number(p, strlen(p)))
                num = p;
        }
    }
    if (num == NULL) {
        const char *r = NULL, *c = NULL;
        if (opt_str(s, pf, "RuleId", "ProductFields.", 64, &r, err) < 0 ||
            opt_str(s, pf, "ControlId", "ProductFields.", 64, &c, err) < 0)
            return -1;
        num = r != NULL ? r : c;
        if (num != NULL && strncmp(num, "CIS.", 4) == 0)
            num += 4;
        if (num != NULL && !valid_control_number(num, strlen(num)))
            num = NULL;
    }
    return add_control(s, key, num, num != NULL ? strlen(num) : 0, err);
}

/* One Compliance.RelatedRequirements entry, parsed once per finding. */
struct req {
    enum { REQ_OTHER, REQ_VERSIONED, REQ_V12 } kind;
    char rkey[16];   /* REQ_VERSIONED: the standard it names */
    const char *num; /* the control number, NULL when not a valid one */
};

/* Checks and parses every entry of reqs (an array or NULL) into r, in
 * order; the first entry that is not a short string is the error. */
static int
parse_requirements(struct sum *s, json_t *reqs, struct req *r, struct err *err)
{
    json_t *v;
    size_t j;

    json_array_foreach(reqs, j, v) {
        const char *t, *num = NULL;

        if (!json_is_string(v) || json_string_length(v) > 256)
            return err_set(err, ERR_REMOTE, "finding '%.200s': "
                                            "Compliance.RelatedRequirements[%zu] is not a "
                                            "short string", s->fid, j);
        t = json_string_value(v);
        r[j].kind = REQ_OTHER;
        r[j].num = NULL; /* also for the entries skipped below */
        if (strncmp(t, "CIS AWS Foundations Benchmark v", 31) == 0) {
            /* "...v<version>/<number>"; a version of 23 bytes or more
             * names no standard */
            const char *slash = strchr(t + 31, '/');
            if (slash == NULL || (size_t)(slash - (t + 31)) >= 23 ||
                cis_key_at(t + 31, r[j].rkey) < 0)
                continue;
            r[j].kind = REQ_VERSIONED;
            num = slash + 1;
        } else if (strncmp(t, "CIS AWS Foundations ", 20) == 0) {
            r[j].kind = REQ_V12; /* v1.2.0's own wording: "CIS AWS Foundations 1.1" */
            num = t + 20;
        }
        r[j].num = num != NULL && valid_control_number(num, strlen(num)) ? num : NULL;
    }
    return 0;
}

/* Consolidated identity: AssociatedStandards give the standards, and
 * RelatedRequirements the numbers within them. */
static int
consolidated_identity(struct sum *s, json_t *comp, struct err *err)
{
    json_t *assoc = json_object_get(comp, "AssociatedStandards");
    json_t *reqs = json_object_get(comp, "RelatedRequirements");
    struct req r[MAX_REQUIREMENTS];
    int parsed = 0;
    json_t *a;
    size_t i, j, nreq;
    char key[16];

    if (assoc == NULL || json_is_null(assoc))
        return 0;
    if (!json_is_array(assoc) || json_array_size(assoc) > MAX_ASSOCIATED)
        return err_set(err, ERR_REMOTE, "finding '%.200s': Compliance.AssociatedStandards is not "
                                        "a list of at most %d entries", s->fid, MAX_ASSOCIATED);
    if (reqs != NULL && !json_is_null(reqs) &&
        (!json_is_array(reqs) || json_array_size(reqs) > MAX_REQUIREMENTS))
        return err_set(err, ERR_REMOTE, "finding '%.200s': Compliance.RelatedRequirements is not "
                                        "a list of at most %d entries", s->fid, MAX_REQUIREMENTS);
    nreq = json_array_size(reqs); /* 0 for null/absent */
    json_array_foreach(assoc, i, a) {
        const char *sid = NULL;
        if (!json_is_object(a))
            return err_set(err, ERR_REMOTE, "finding '%.200s': Compliance.AssociatedStandards[%zu] "
                                            "is not an object", s->fid, i);
        if (opt_str(s, a, "StandardsId", "Compliance.AssociatedStandards[].", MAX_ID, &sid,
                err) < 0)
            return -1;
        if (sid == NULL || sh_cis_key(sid, key, sizeof(key)) < 0)
            continue;
        if (add_control(s, key, NULL, 0, err) < 0)
            return -1;
        if (!parsed) { /* the entries are checked once a standard needs them */
            /* parse_requirements sets each of them; clang-tidy cannot
             * tie its loop to nreq, so they start zeroed */
            memset(r, 0, nreq * sizeof(*r));
            if (parse_requirements(s, reqs, r, err) < 0)
                return -1;
            parsed = 1;
        }
        for (j = 0; j < nreq; j++) {
            if (r[j].num == NULL)
                continue;
            if (r[j].kind == REQ_VERSIONED ? strcmp(r[j].rkey, key) != 0
                                           : (r[j].kind != REQ_V12 || strcmp(key, "cis-1.2") != 0))
                continue;
            if (add_control(s, key, r[j].num, strlen(r[j].num), err) < 0)
                return -1;
        }
    }
    return 0;
}

static const char *
severity_from_normalized(json_int_t n)
{
    if (n <= 0)
        return "INFORMATIONAL";
    if (n < 40)
        return "LOW";
    if (n < 70)
        return "MEDIUM";
    if (n < 90)
        return "HIGH";
    return "CRITICAL";
}

/* A checked string value v (no NUL) is one of the severity labels. */
static int
is_severity(json_t *v)
{
    switch (json_string_length(v)) {
    case 3:
        return STR_IS(v, "LOW");
    case 4:
        return STR_IS(v, "HIGH");
    case 6:
        return STR_IS(v, "MEDIUM");
    case 8:
        return STR_IS(v, "CRITICAL");
    case 13:
        return STR_IS(v, "INFORMATIONAL");
    default:
        return 0;
    }
}

/* The severity: *ret_v the finding's label value, or *ret_lit one derived
 * from Severity.Normalized, or neither (no rating anywhere). */
static int
summarize_severity(struct sum *s, const struct fields *fl, json_t *pf, json_t **ret_v,
    const char **ret_lit, struct err *err)
{
    json_t *sev, *norm, *fpf, *v;
    const char *label = NULL;

    *ret_v = NULL;
    *ret_lit = NULL;
    if (chk_obj(s, fl->sev, "Severity", &sev, err) < 0)
        return -1;
    v = sev != NULL ? json_object_get(sev, "Label") : NULL;
    if (sev != NULL && chk_str(s, v, "Severity.", "Label", 32, &label, err) < 0)
        return -1;
    if (label != NULL) {
        if (!is_severity(v))
            return err_set(err, ERR_REMOTE, "finding '%.200s': unknown Severity.Label '%s'",
                s->fid, label);
        *ret_v = v;
        return 0;
    }
    norm = sev != NULL ? json_object_get(sev, "Normalized") : NULL;
    if (norm != NULL && !json_is_null(norm)) {
        if (!json_is_integer(norm) || json_integer_value(norm) < 0 ||
            json_integer_value(norm) > 100)
            return err_set(err, ERR_REMOTE, "finding '%.200s': Severity.Normalized is not an "
                                            "integer from 0 to 100", s->fid);
        *ret_lit = severity_from_normalized(json_integer_value(norm));
        return 0;
    }
    v = json_object_get(pf, "aws/securityhub/SeverityLabel");
    if (chk_str(s, v, "ProductFields.", "aws/securityhub/SeverityLabel", 32, &label, err) < 0)
        return -1;
    if (label != NULL) {
        if (!is_severity(v))
            return err_set(err, ERR_REMOTE,
                "finding '%.200s': unknown ProductFields aws/securityhub/SeverityLabel '%s'",
                s->fid, label);
        *ret_v = v;
        return 0;
    }
    /* the finding provider's own rating, last */
    if (chk_obj(s, fl->fpf, "FindingProviderFields", &fpf, err) < 0)
        return -1;
    sev = fpf != NULL ? json_object_get(fpf, "Severity") : NULL;
    v = json_is_object(sev) ? json_object_get(sev, "Label") : NULL;
    if (json_is_object(sev) &&
        chk_str(s, v, "FindingProviderFields.Severity.", "Label", 32, &label, err) < 0)
        return -1;
    if (label != NULL && !is_severity(v))
        return err_set(err, ERR_REMOTE,
            "finding '%.200s': unknown FindingProviderFields.Severity.Label '%s'", s->fid, label);
    *ret_v = label != NULL ? v : NULL; /* NULL: no rating anywhere; the judge uses the control's */
    return 0;
}

/* The workflow status: *ret_v Workflow.Status's value, else *ret_lit. */
static int
summarize_workflow(struct sum *s, const struct fields *fl, json_t **ret_v, const char **ret_lit,
    struct err *err)
{
    json_t *wf, *v = NULL;
    const char *st = NULL, *state = NULL;

    *ret_v = NULL;
    *ret_lit = NULL;
    if (chk_obj(s, fl->wf, "Workflow", &wf, err) < 0)
        return -1;
    if (wf != NULL) {
        v = json_object_get(wf, "Status");
        if (chk_str(s, v, "Workflow.", "Status", 32, &st, err) < 0)
            return -1;
    }
    if (st != NULL) {
        if (!(STR_IS(v, "NEW") || STR_IS(v, "NOTIFIED") || STR_IS(v, "SUPPRESSED") ||
                STR_IS(v, "RESOLVED")))
            return err_set(err, ERR_REMOTE, "finding '%.200s': unknown Workflow.Status '%s'",
                s->fid, st);
        *ret_v = v;
        return 0;
    }
    v = fl->wfstate;
    if (chk_str(s, v, "", "WorkflowState", 32, &state, err) < 0)
        return -1;
    if (state == NULL || STR_IS(v, "NEW") || STR_IS(v, "ASSIGNED") || STR_IS(v, "IN_PROGRESS"))
        *ret_lit = "NEW";
    else if (STR_IS(v, "DEFERRED"))
        *ret_lit = "SUPPRESSED";
    else if (STR_IS(v, "RESOLVED"))
        *ret_lit = "RESOLVED";
    else
        return err_set(err, ERR_REMOTE, "finding '%.200s': unknown WorkflowState '%s'", s->fid,
            state);
    return 0;
}

/* "resources" (the resource ids, shared) into the summary; *ret_region the
 * first non-empty Resources[].Region value, or NULL. */
static int
summarize_resources(struct sum *s, json_t *res, json_t **ret_region, struct err *err)
{
    json_t *r, *ids;
    size_t i;

    *ret_region = NULL;
    ids = json_array();
    if (ids == NULL || json_object_set_new_nocheck(s->out, "resources", ids) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (res == NULL || json_is_null(res))
        return 0;
    if (!json_is_array(res) || json_array_size(res) > MAX_RESOURCES)
        return err_set(err, ERR_REMOTE, "finding '%.200s': Resources is not a list of at most %d "
                                        "entries", s->fid, MAX_RESOURCES);
    json_array_foreach(res, i, r) {
        const char *id = NULL, *region = NULL;
        json_t *idv, *regv;
        if (!json_is_object(r))
            return err_set(err, ERR_REMOTE, "finding '%.200s': Resources[%zu] is not an object",
                s->fid, i);
        idv = json_object_get(r, "Id");
        regv = json_object_get(r, "Region");
        if (chk_str(s, idv, "Resources[].", "Id", MAX_ID, &id, err) < 0 ||
            chk_str(s, regv, "Resources[].", "Region", 64, &region, err) < 0)
            return -1;
        if (id == NULL || id[0] == '\0')
            return err_set(err, ERR_REMOTE, "finding '%.200s': Resources[%zu] has no Id", s->fid,
                i);
        if (json_array_append_new(ids, json_incref(idv)) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
        if (*ret_region == NULL && region != NULL && region[0] != '\0')
            *ret_region = regv;
    }
    return 0;
}

/* util_time_parse(u) succeeds. The common shape, "YYYY-MM-DDTHH:MM:SS"
 * with each field in the range strptime accepts (years from 1970, where
 * timegm cannot fail; seconds to 59) and util_time_parse's own tail (a
 * fraction, then Z or +HH:MM), is checked here without strptime and timegm;
 * any other text is left to util_time_parse itself. */
static int
timestamp_ok(const char *u)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    const char *p;
    int year, mon, day, hour, min, sec;
    time_t t;

    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (u[i] < '0' || u[i] > '9') : u[i] != shape[i])
            return util_time_parse(u, &t) == 0;
    }
#define D2(i) ((u[i] - '0') * 10 + (u[(i) + 1] - '0'))
    year = D2(0) * 100 + D2(2);
    mon = D2(5);
    day = D2(8);
    hour = D2(11);
    min = D2(14);
    sec = D2(17);
#undef D2
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 59)
        return util_time_parse(u, &t) == 0;
    p = u + sizeof(shape) - 1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        for (int i = 1; i <= 5; i++) {
            if (i == 3 ? p[i] != ':' : (p[i] < '0' || p[i] > '9'))
                return 0;
        }
        if ((p[1] - '0') * 10 + (p[2] - '0') > 23 || (p[4] - '0') * 10 + (p[5] - '0') > 59)
            return 0;
        p += 6;
    } else {
        return 0;
    }
    return *p == '\0';
}

static int
summarize(struct sum *s, const struct fields *fl, struct err *err)
{
    const char *acct, *updated, *title, *region, *gen, *rstate, *status = NULL, *scid = NULL;
    const char *sev_lit = NULL, *wf_lit = NULL;
    json_t *pf, *comp, *v, *std, *scid_v = NULL, *status_v = NULL, *sev_v = NULL, *wf_v = NULL;
    json_t *region_v = NULL, *res_region = NULL, *region_copy = NULL, *scid_copy = NULL;
    char arn_region[64];

    if (chk_str(s, fl->acct, "", "AwsAccountId", 64, &acct, err) < 0 ||
        chk_str(s, fl->updated, "", "UpdatedAt", 64, &updated, err) < 0 ||
        chk_str(s, fl->title, "", "Title", MAX_TEXT, &title, err) < 0 ||
        chk_str(s, fl->region, "", "Region", 64, &region, err) < 0 ||
        chk_str(s, fl->gen, "", "GeneratorId", MAX_ID, &gen, err) < 0 ||
        chk_str(s, fl->rstate, "", "RecordState", 32, &rstate, err) < 0 ||
        chk_obj(s, fl->pf, "ProductFields", &pf, err) < 0 ||
        chk_obj(s, fl->comp, "Compliance", &comp, err) < 0)
        return -1;
    if (acct == NULL || json_string_length(fl->acct) != 12 || strspn(acct, "0123456789") != 12)
        return err_set(err, ERR_REMOTE, "finding '%.200s': AwsAccountId is %s", s->fid,
            acct == NULL ? "missing" : "not a 12-digit account id");
    if (updated == NULL || !timestamp_ok(updated))
        return err_set(err, ERR_REMOTE, "finding '%.200s': UpdatedAt is %s", s->fid,
            updated == NULL ? "missing" : "not an ISO 8601 timestamp");
    if (gen == NULL)
        return err_set(err, ERR_REMOTE, "finding '%.200s': GeneratorId is missing", s->fid);
    if (rstate != NULL && !STR_IS(fl->rstate, "ACTIVE") && !STR_IS(fl->rstate, "ARCHIVED"))
        return err_set(err, ERR_REMOTE, "finding '%.200s': unknown RecordState '%s'", s->fid,
            rstate);
    if (comp != NULL) {
        status_v = json_object_get(comp, "Status");
        scid_v = json_object_get(comp, "SecurityControlId");
        if (chk_str(s, status_v, "Compliance.", "Status", 32, &status, err) < 0 ||
            chk_str(s, scid_v, "Compliance.", "SecurityControlId", 64, &scid, err) < 0)
            return -1;
    }
    if (status != NULL && !STR_IS(status_v, "PASSED") && !STR_IS(status_v, "FAILED") &&
        !STR_IS(status_v, "WARNING") && !STR_IS(status_v, "NOT_AVAILABLE"))
        return err_set(err, ERR_REMOTE, "finding '%.200s': unknown Compliance.Status '%s'",
            s->fid, status);
    if (summarize_severity(s, fl, pf, &sev_v, &sev_lit, err) < 0 ||
        summarize_workflow(s, fl, &wf_v, &wf_lit, err) < 0 ||
        summarize_resources(s, fl->res, &res_region, err) < 0)
        return -1;
    if (region != NULL && region[0] != '\0')
        region_v = fl->region;
    else
        region_v = res_region;
    if (region_v == NULL && arn_part(s->fid, 3, arn_region, sizeof(arn_region)) == 0) {
        region_copy = json_string(arn_region);
        if (region_copy == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }

    s->controls = json_object();
    if (s->controls == NULL || json_object_set_new_nocheck(s->out, "control_ids", s->controls) < 0)
        goto oom;
    if (legacy_identity(s, gen, pf, err) < 0)
        goto fail;
    if (comp != NULL && consolidated_identity(s, comp, err) < 0)
        goto fail;

    /* standard_ids: the keys of control_ids, sorted */
    std = json_array();
    if (std == NULL || json_object_set_new_nocheck(s->out, "standard_ids", std) < 0)
        goto oom;
    {
        const char *keys[MAX_ASSOCIATED + 8] = {0};
        size_t n = 0;
        const char *k;
        json_object_foreach(s->controls, k, v) {
            if (n < sizeof(keys) / sizeof(keys[0])) {
                size_t j = n++;
                for (; j > 0 && strcmp(keys[j - 1], k) > 0; j--) /* insertion sort */
                    keys[j] = keys[j - 1];
                keys[j] = k;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (json_array_append_new(std, json_string_nocheck(keys[i])) < 0)
                goto oom;
        }
    }
    if (scid == NULL && strncmp(gen, SEC_CONTROL_HEAD, strlen(SEC_CONTROL_HEAD)) == 0 &&
        json_string_length(fl->gen) > strlen(SEC_CONTROL_HEAD) &&
        json_string_length(fl->gen) < 80) {
        scid_copy = json_string(gen + strlen(SEC_CONTROL_HEAD));
        if (scid_copy == NULL)
            goto oom;
    }
    {
        static const char *const keys[] = {"account_id", "region", "security_control_id",
            "status", "workflow", "record_state", "severity", "updated_at", "title"};
        json_t *vals[sizeof(keys) / sizeof(keys[0])];
        size_t n = sizeof(keys) / sizeof(keys[0]), i;
        int oom = 0;

        vals[0] = json_incref(fl->acct);
        vals[1] = region_copy != NULL ? region_copy : out_val(region_v, NULL);
        vals[2] = scid_copy != NULL ? scid_copy : out_val(scid != NULL ? scid_v : NULL, NULL);
        vals[3] = out_val(status != NULL ? status_v : NULL, NULL);
        vals[4] = out_val(wf_v, wf_lit);
        vals[5] = out_val(rstate != NULL ? fl->rstate : NULL, "ACTIVE");
        vals[6] = out_val(sev_v, sev_lit);
        vals[7] = json_incref(fl->updated);
        vals[8] = out_val(title != NULL ? fl->title : NULL, NULL);
        /* set_new takes each value, set or not; a NULL one is refused */
        for (i = 0; i < n; i++) {
            if (json_object_set_new_nocheck(s->out, keys[i], vals[i]) < 0)
                oom = 1;
        }
        if (oom)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }
    return 0;
oom:
    err_set(err, ERR_INTERNAL, "out of memory");
fail:
    json_decref(region_copy);
    json_decref(scid_copy);
    return -1;
}

int
sh_finding_summarize(json_t *finding, json_t **ret, struct err *err)
{
    struct sum s = {0};
    struct fields fl;
    json_t *id;

    if (!json_is_object(finding))
        return err_set(err, ERR_REMOTE, "finding is not a JSON object");
    pick_fields(finding, &fl);
    id = fl.id;
    if (!json_is_string(id) || json_string_length(id) == 0 || json_string_length(id) > MAX_ID ||
        memchr(json_string_value(id), '\0', json_string_length(id)) != NULL)
        return err_set(err, ERR_REMOTE, "finding: Id is %s",
            id == NULL ? "missing" : "not a string of 1 to 1024 bytes");
    s.fid = json_string_value(id);
    s.out = json_object();
    /* "id" first, so stored summaries read naturally */
    if (s.out == NULL || json_object_set_new_nocheck(s.out, "id", json_incref(id)) < 0) {
        json_decref(s.out);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    if (summarize(&s, &fl, err) < 0) {
        json_decref(s.out);
        return -1;
    }
    *ret = s.out;
    return 0;
}
