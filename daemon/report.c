/*
 * report.c: renders the HTML report (see report.h). The page is written
 * through a small sticky-error writer (struct w): once an append fails,
 * later appends do nothing and the first error is what the caller gets, so
 * the section code reads straight down without a check after every line.
 *
 * Only store/compliance documents are read here, never the database, so the
 * unit test renders hand-written documents (tests/data/report/) and checks
 * the markup, and tests/report/test_report.py checks what a browser shows.
 */
#include "daemon/report.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/util.h"

struct w {
    struct buf *b;
    struct err *err;
    int failed;
};

static void put(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct w *w, const char *fmt, ...)
{
    va_list ap;

    if (w->failed)
        return;
    va_start(ap, fmt);
    if (buf_vprintf(w->b, w->err, fmt, ap) < 0)
        w->failed = 1;
    va_end(ap);
}

/* escaped text */
static void
text(struct w *w, const char *s)
{
    if (!w->failed && report_html_escape(w->b, s, w->err) < 0)
        w->failed = 1;
}

int
report_html_escape(struct buf *b, const char *s, struct err *err)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL)
        return 0;
    while (*p != '\0') {
        const char *rep = NULL;
        size_t n = 1;

        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\t':
        case '\n':
            rep = " ";
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                rep = ""; /* control character: dropped */
            } else if (*p >= 0x80) {
                n = util_utf8_seq(p, strnlen((const char *)p, 4));
                if (n == 0) {
                    rep = "\xef\xbf\xbd"; /* U+FFFD for each invalid byte */
                    n = 1;
                } else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
                    rep = ""; /* C1 control (U+0080..U+009F): dropped */
                }
            }
        }
        if (rep != NULL) {
            if (buf_puts(b, rep, err) < 0)
                return -1;
        } else if (buf_append(b, p, n, err) < 0) {
            return -1;
        }
        p += n;
    }
    return 0;
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long
num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* Compact JSON of v, cut to max bytes with "..." (caller frees; NULL on OOM). */
static char *
json_short(const json_t *v, size_t max)
{
    char *s = json_is_string(v) ? strdup(json_string_value(v))
                                : json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    if (s != NULL && strlen(s) > max) {
        /* back up to a UTF-8 character start so the cut stays valid */
        while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
            max--;
        memcpy(s + max, "...", 4);
    }
    return s;
}

static const char *const CSS =
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;padding:24px 32px;color:#1d2733;background:#f4f6f8;line-height:1.4}"
    "h1{margin:0 0 4px;font-size:26px}h2{margin:32px 0 12px;font-size:20px;"
    "border-bottom:2px solid #d5dbe1;padding-bottom:4px}h3{font-size:16px;margin:20px 0 8px}"
    ".gen{color:#5a6b7b;margin:0 0 16px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{background:#fff;border:1px solid #d5dbe1;border-radius:8px;padding:12px 18px;"
    "min-width:140px}.card .n{display:block;font-size:28px;font-weight:700}"
    ".card .l{color:#5a6b7b;font-size:13px}.card.bad .n{color:#b42318}"
    "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5dbe1;"
    "font-size:13px}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e6eaee;"
    "vertical-align:top}th{background:#e9edf1;font-weight:600}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;"
    "word-break:break-all}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;"
    "font-size:12px;white-space:nowrap;border:1px solid transparent}"
    ".badge.red{background:#fde4e1;color:#8f1d12;border-color:#f1a39a}"
    ".badge.yellow{background:#fff4cc;color:#6b5200;border-color:#e6c84f}"
    ".badge.green{background:#dcf5e3;color:#17603a;border-color:#8fd3a8}"
    ".badge.grey{background:#eceff2;color:#3d4a57;border-color:#c3cbd3}"
    ".err{color:#8f1d12}.muted{color:#5a6b7b}"
    "ul.counts{list-style:none;padding:0;margin:0 0 8px;display:flex;flex-wrap:wrap;gap:8px}"
    "td ul{margin:0;padding-left:16px}td.nw,td.nw code{white-space:nowrap;word-break:normal}"
    "footer{margin-top:32px;color:#5a6b7b;font-size:12px}";

/* The words that go with a status colour. */
static const char *
status_words(const char *status)
{
    if (status == NULL)
        return "unknown";
    if (strcmp(status, "red") == 0)
        return "out of sync";
    if (strcmp(status, "yellow") == 0)
        return "no threat model";
    if (strcmp(status, "green") == 0)
        return "in sync";
    return "unknown";
}

static void
badge(struct w *w, const char *status)
{
    const char *cls = "grey";

    if (status != NULL &&
        (strcmp(status, "red") == 0 || strcmp(status, "yellow") == 0 ||
            strcmp(status, "green") == 0))
        cls = status;
    put(w, "<span class=\"badge %s\">", cls);
    text(w, status != NULL ? status : "unknown");
    put(w, ": %s</span>", status_words(status));
}

static void
card(struct w *w, long long n, const char *label, int bad)
{
    put(w, "<div class=\"card%s\"><span class=\"n\">%lld</span><span class=\"l\">%s</span></div>",
        bad && n > 0 ? " bad" : "", n, label);
}

static size_t
count_noncompliant(const json_t *compliance)
{
    size_t i, j, n = 0;
    json_t *s, *c;

    json_array_foreach(json_object_get(compliance, "standards"), i, s) {
        json_array_foreach(json_object_get(s, "controls"), j, c) {
            const char *st = str(c, "status");
            n += st != NULL && strcmp(st, "NON-COMPLIANT") == 0;
        }
    }
    return n;
}

static void
section_header(struct w *w, const struct report_input *in, const char *title)
{
    const json_t *sum = json_object_get(in->status, "summary");
    char when[21];

    util_time_rfc3339(in->now, when);
    put(w, "<header><h1>");
    text(w, title);
    put(w, "</h1><p class=\"gen\">Generated <time datetime=\"%s\">%s</time> by driftsync</p>"
           "<div class=\"cards\" id=\"totals\">",
        when, when);
    card(w, num(sum, "accounts"), "accounts", 0);
    card(w, num(sum, "vpcs"), "VPCs", 0);
    card(w, num(sum, "models"), "threat models", 0);
    card(w, num(sum, "out_of_sync"), "out of sync", 1);
    card(w, (long long)json_array_size(in->drift), "open drift entries", 1);
    if (in->compliance != NULL)
        card(w, (long long)count_noncompliant(in->compliance), "non-compliant controls", 1);
    put(w, "</div></header>\n");
}

static void
section_vpcs(struct w *w, const struct report_input *in)
{
    const json_t *vpcs = json_object_get(in->status, "vpcs");
    int names = 0;
    size_t i;
    json_t *v;

    put(w, "<section id=\"vpcs\"><h2>VPC status</h2>\n");
    if (json_array_size(vpcs) == 0) {
        put(w, "<p class=\"muted\">No VPCs recorded yet: run <code>driftsync sync "
               "--once</code>.</p></section>\n");
        return;
    }
    /* a Name column only when some VPC has a name */
    json_array_foreach(vpcs, i, v) {
        names |= str(v, "name") != NULL;
    }
    put(w, "<table id=\"vpc-status\"><thead><tr><th>Account</th><th>Region</th><th>VPC</th>%s"
           "<th>Status</th><th class=\"num\">Only in model</th><th class=\"num\">Only in VPC</th>"
           "<th class=\"num\">Changed</th><th>Last sync</th><th>Error</th></tr></thead><tbody>\n",
        names ? "<th>Name</th>" : "");
    json_array_foreach(vpcs, i, v) {
        const char *last = str(v, "last_sync");

        put(w, "<tr><td>");
        text(w, str(v, "account_id"));
        put(w, "</td><td>");
        text(w, str(v, "region"));
        put(w, "</td><td class=\"nw\"><code>");
        text(w, str(v, "vpc_id"));
        put(w, "</code></td>");
        if (names) {
            put(w, "<td>");
            text(w, str(v, "name"));
            put(w, "</td>");
        }
        put(w, "<td>");
        badge(w, str(v, "status"));
        put(w, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld"
               "</td><td class=\"nw\">",
            num(v, "only_in_model"), num(v, "only_in_vpc"), num(v, "changed"));
        text(w, last != NULL ? last : "never");
        put(w, "</td><td class=\"err\">");
        text(w, str(v, "error"));
        put(w, "</td></tr>\n");
    }
    put(w, "</tbody></table></section>\n");
}

/* "path: old -> new" for changed, the item's key/name otherwise. */
static void
drift_details(struct w *w, const json_t *d)
{
    const json_t *det = json_object_get(d, "details");
    const json_t *item = json_object_get(det, "item");
    char *a = NULL, *b = NULL;

    if (str(det, "path") != NULL) {
        a = json_short(json_object_get(det, "old"), 200);
        b = json_short(json_object_get(det, "new"), 200);
        put(w, "<code>");
        text(w, str(det, "path"));
        put(w, "</code>: <code>");
        text(w, a != NULL ? a : "null");
        put(w, "</code> &#8594; <code>");
        text(w, b != NULL ? b : "null");
        put(w, "</code>");
    } else if (json_is_object(item)) {
        const char *key = str(item, "key");
        if (key == NULL && str(item, "from") != NULL) {
            put(w, "flow <code>");
            text(w, str(item, "from"));
            put(w, "</code> &#8594; <code>");
            text(w, str(item, "to"));
            put(w, "</code> ");
            text(w, str(item, "label"));
        } else {
            put(w, "<code>");
            text(w, key);
            put(w, "</code>");
        }
    } else if (det != NULL) {
        a = json_short(det, 300);
        put(w, "<code>");
        text(w, a);
        put(w, "</code>");
    }
    free(a);
    free(b);
}

static int
newest_first(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    const char *la = str(a, "last_seen"), *lb = str(b, "last_seen");
    const char *fa = str(a, "first_seen"), *fb = str(b, "first_seen");
    int c = strcmp(lb != NULL ? lb : "", la != NULL ? la : "");

    return c != 0 ? c : strcmp(fb != NULL ? fb : "", fa != NULL ? fa : "");
}

static void
section_drift(struct w *w, const struct report_input *in)
{
    size_t n = json_array_size(in->drift), limit = in->drift_limit, i;
    const json_t **sorted = NULL;
    json_t *per = json_object(), *d, *row;
    const char *key;

    put(w, "<section id=\"drift\"><h2>Drift</h2>\n");
    if (per == NULL) {
        w->failed = err_set(w->err, ERR_INTERNAL, "report: out of memory");
        return;
    }
    if (n == 0) {
        put(w, "<p class=\"muted\">No open drift: every threat model matches its VPC.</p>"
               "</section>\n");
        json_decref(per);
        return;
    }
    /* open entries per VPC and kind, in the drift query's (sorted) order */
    json_array_foreach(in->drift, i, d) {
        char vk[256];
        const char *kind = str(d, "kind");
        json_t *cnt;

        snprintf(vk, sizeof(vk), "%s/%s/%s", str(d, "account_id") ? str(d, "account_id") : "?",
            str(d, "region") ? str(d, "region") : "?", str(d, "vpc_id") ? str(d, "vpc_id") : "?");
        row = json_object_get(per, vk);
        if (row == NULL) {
            row = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "account_id",
                str(d, "account_id") ? str(d, "account_id") : "", "region",
                str(d, "region") ? str(d, "region") : "", "vpc_id",
                str(d, "vpc_id") ? str(d, "vpc_id") : "", "only_in_model", 0, "only_in_vpc", 0,
                "changed", 0);
            if (row == NULL || json_object_set_new(per, vk, row) < 0) {
                w->failed = err_set(w->err, ERR_INTERNAL, "report: out of memory");
                json_decref(per);
                return;
            }
        }
        cnt = kind != NULL ? json_object_get(row, kind) : NULL;
        if (cnt != NULL)
            json_integer_set(cnt, json_integer_value(cnt) + 1);
    }
    put(w, "<h3>Open entries per VPC</h3><table id=\"drift-summary\"><thead><tr><th>Account</th>"
           "<th>Region</th><th>VPC</th><th class=\"num\">Only in model</th>"
           "<th class=\"num\">Only in VPC</th><th class=\"num\">Changed</th>"
           "<th class=\"num\">Total</th></tr></thead><tbody>\n");
    json_object_foreach(per, key, row) {
        long long a = num(row, "only_in_model"), b = num(row, "only_in_vpc"),
                  c = num(row, "changed");
        put(w, "<tr><td>");
        text(w, str(row, "account_id"));
        put(w, "</td><td>");
        text(w, str(row, "region"));
        put(w, "</td><td class=\"nw\"><code>");
        text(w, str(row, "vpc_id"));
        put(w, "</code></td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
               "<td class=\"num\">%lld</td><td class=\"num\">%lld</td></tr>\n",
            a, b, c, a + b + c);
    }
    put(w, "</tbody></table>\n");
    json_decref(per);

    if (limit == 0)
        limit = REPORT_DRIFT_LIMIT_DEFAULT;
    sorted = calloc(n, sizeof(*sorted));
    if (sorted == NULL) {
        w->failed = err_set(w->err, ERR_INTERNAL, "report: out of memory");
        return;
    }
    for (i = 0; i < n; i++)
        sorted[i] = json_array_get(in->drift, i);
    qsort(sorted, n, sizeof(*sorted), newest_first);
    put(w, "<h3>Newest open entries (%zu of %zu)</h3><table id=\"drift-entries\"><thead><tr>"
           "<th>Last seen</th><th>First seen</th><th>VPC</th><th>Kind</th><th>Resource</th>"
           "<th>Component</th><th>Details</th></tr></thead><tbody>\n",
        n < limit ? n : limit, n);
    for (i = 0; i < n && i < limit; i++) {
        const json_t *e = sorted[i];

        put(w, "<tr><td class=\"nw\">");
        text(w, str(e, "last_seen"));
        put(w, "</td><td class=\"nw\">");
        text(w, str(e, "first_seen"));
        put(w, "</td><td class=\"nw\"><code>");
        text(w, str(e, "vpc_id"));
        put(w, "</code></td><td>");
        text(w, str(e, "kind"));
        put(w, "</td><td>");
        text(w, str(e, "resource_type"));
        if (str(e, "resource_id") != NULL) {
            put(w, "<br><code>");
            text(w, str(e, "resource_id"));
            put(w, "</code>");
        }
        put(w, "</td><td>");
        text(w, str(e, "component"));
        put(w, "</td><td>");
        drift_details(w, e);
        put(w, "</td></tr>\n");
    }
    put(w, "</tbody></table></section>\n");
    free(sorted);
}

static int
severity_rank(const char *s)
{
    static const char *const order[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"};

    for (size_t i = 0; s != NULL && i < sizeof(order) / sizeof(order[0]); i++) {
        if (strcasecmp(s, order[i]) == 0)
            return (int)i;
    }
    return 5;
}

static int
by_severity(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    int d = severity_rank(str(a, "severity")) - severity_rank(str(b, "severity"));
    const char *ia = str(a, "control_id"), *ib = str(b, "control_id");

    return d != 0 ? d : strcmp(ia != NULL ? ia : "", ib != NULL ? ib : "");
}

static void
resource_item(struct w *w, const json_t *r)
{
    const char *s = json_string_value(r);
    char *tmp = NULL;

    if (s == NULL && json_is_object(r)) {
        s = str(r, "arn") != NULL ? str(r, "arn")
            : str(r, "resource_id") != NULL ? str(r, "resource_id")
                                            : str(r, "id");
    }
    if (s == NULL)
        s = tmp = json_short(r, 200);
    put(w, "<li><code>");
    text(w, s);
    put(w, "</code></li>");
    free(tmp);
}

#define NSTATUS 6

static void
one_standard(struct w *w, const json_t *std)
{
    /* the order compliance_query.h ranks them in, worst first */
    static const char *const statuses[NSTATUS] = {"NON-COMPLIANT", "WARNING", "NOT_AVAILABLE",
        "COMPLIANT", "NO_DATA", "DISABLED"};
    static const char *const cls[NSTATUS] = {"red", "yellow", "grey", "green", "grey", "grey"};
    const json_t *controls = json_object_get(std, "controls");
    size_t i, n = json_array_size(controls), nbad = 0, counts[NSTATUS] = {0}, other = 0;
    const json_t **bad = calloc(n > 0 ? n : 1, sizeof(*bad));
    json_t *c;

    if (bad == NULL) {
        w->failed = err_set(w->err, ERR_INTERNAL, "report: out of memory");
        return;
    }
    json_array_foreach(controls, i, c) {
        const char *st = str(c, "status");
        size_t k;

        for (k = 0; k < NSTATUS; k++) {
            if (st != NULL && strcmp(st, statuses[k]) == 0)
                break;
        }
        if (k < NSTATUS)
            counts[k]++;
        else
            other++;
        if (k == 0)
            bad[nbad++] = c;
    }
    put(w, "<div class=\"standard\"><h3>");
    text(w, str(std, "id") != NULL ? str(std, "id") : "standard");
    if (str(std, "title") != NULL || str(std, "name") != NULL) {
        put(w, ": ");
        text(w, str(std, "title") != NULL ? str(std, "title") : str(std, "name"));
    }
    put(w, " (%zu controls)</h3><ul class=\"counts\">", n);
    for (size_t k = 0; k < NSTATUS; k++)
        put(w, "<li><span class=\"badge %s\">%s: %zu</span></li>", cls[k], statuses[k], counts[k]);
    if (other > 0)
        put(w, "<li><span class=\"badge grey\">other: %zu</span></li>", other);
    put(w, "</ul>\n");
    if (nbad == 0) {
        put(w, "<p class=\"muted\">No NON-COMPLIANT controls.</p></div>\n");
        free(bad);
        return;
    }
    qsort(bad, nbad, sizeof(*bad), by_severity);
    put(w, "<table class=\"noncompliant\" id=\"noncompliant-");
    text(w, str(std, "id"));
    put(w, "\"><thead><tr><th>Control</th><th>Title</th>"
           "<th>Severity</th><th>Failing resources</th></tr></thead><tbody>\n");
    for (i = 0; i < nbad; i++) {
        const json_t *res = json_object_get(bad[i], "failed_resources"), *r;
        size_t nres = json_array_size(res);

        put(w, "<tr><td><code>");
        text(w, str(bad[i], "control_id"));
        put(w, "</code></td><td>");
        text(w, str(bad[i], "title"));
        put(w, "</td><td>");
        text(w, str(bad[i], "severity") != NULL ? str(bad[i], "severity") : "unknown");
        put(w, "</td><td>");
        if (nres == 0) {
            put(w, "<span class=\"muted\">none listed</span>");
        } else {
            put(w, "<ul>");
            for (size_t k = 0; k < nres && k < REPORT_RESOURCES_PER_CONTROL; k++) {
                r = json_array_get(res, k);
                resource_item(w, r);
            }
            put(w, "</ul>");
            if (nres > REPORT_RESOURCES_PER_CONTROL)
                put(w, "<span class=\"muted\">and %zu more</span>",
                    nres - REPORT_RESOURCES_PER_CONTROL);
        }
        put(w, "</td></tr>\n");
    }
    put(w, "</tbody></table></div>\n");
    free(bad);
}

static void
section_cis(struct w *w, const struct report_input *in)
{
    const json_t *stds = json_object_get(in->compliance, "standards");
    size_t i;
    json_t *s;

    put(w, "<section id=\"cis\"><h2>CIS compliance</h2>\n");
    if (in->compliance == NULL) {
        put(w, "<p class=\"muted\">Compliance data is not available");
        if (in->compliance_error != NULL) {
            put(w, ": ");
            text(w, in->compliance_error);
        }
        put(w, ".</p></section>\n");
        return;
    }
    if (json_array_size(stds) == 0)
        put(w, "<p class=\"muted\">No standards with results yet: Security Hub findings arrive "
               "with the next sync.</p>\n");
    json_array_foreach(stds, i, s) {
        one_standard(w, s);
    }
    put(w, "</section>\n");
}

int
report_render_html(const struct report_input *in, struct buf *out, struct err *err)
{
    struct w w = {.b = out, .err = err};
    const char *title = in->title != NULL && in->title[0] != '\0' ? in->title : "driftsync report";

    if (!json_is_object(in->status) || !json_is_array(json_object_get(in->status, "vpcs")) ||
        !json_is_object(json_object_get(in->status, "summary")))
        return err_set(err, ERR_CONFIG, "report: the status document has no summary and vpcs");
    if (!json_is_array(in->drift))
        return err_set(err, ERR_CONFIG, "report: the drift document is not an array");
    if (in->compliance != NULL && !json_is_array(json_object_get(in->compliance, "standards")))
        return err_set(err, ERR_CONFIG, "report: the compliance document has no standards array");

    put(&w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\"><meta name=\"generator\" content=\"driftsync\"><title>");
    text(&w, title);
    put(&w, "</title><style>%s</style></head><body>\n", CSS);
    section_header(&w, in, title);
    put(&w, "<main>\n");
    section_vpcs(&w, in);
    section_drift(&w, in);
    section_cis(&w, in);
    put(&w, "</main><footer>Status words: green = the threat model matches the VPC; yellow = "
            "discovered, no threat model yet; red = the threat model and the VPC differ.</footer>"
            "</body></html>\n");
    return w.failed ? -1 : 0;
}

int
report_write_file(const char *path, const char *data, size_t len, struct err *err)
{
    static const struct util_atomic how = {.what = "report", .mode = 0644, .kind = ERR_CONFIG};

    return util_write_atomic(path, data, len, &how, err);
}
