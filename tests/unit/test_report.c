/*
 * test_report.c: the HTML report (daemon/report.c): report_html_escape on
 * markup, quotes, control characters, C1 controls and broken UTF-8; the
 * rendered page from hand-written status/drift/compliance documents (every
 * hostile string escaped, status words, per-VPC drift counts, newest-first
 * limit, CIS counts and severity order); refused documents; the buffer cap;
 * and the atomic file write. tests/report/test_report.py renders a real
 * report in Chromium.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/report.h"
#include "testutil.h"

static char *
esc(const char *in)
{
    struct buf b;
    struct err err = {0};

    buf_init(&b, 4096);
    if (report_html_escape(&b, in, &err) < 0) {
        buf_clear(&b);
        return NULL;
    }
    return buf_steal(&b);
}

#define CHECK_ESC(in, want)                                                                        \
    do {                                                                                           \
        char *got_ = esc(in);                                                                      \
        CHECK_STR(got_, want);                                                                     \
        free(got_);                                                                                \
    } while (0)

static void
test_escape(void)
{
    struct buf b;
    struct err err = {0};

    CHECK_ESC("plain text", "plain text");
    CHECK_ESC("", "");
    CHECK_ESC("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    CHECK_ESC("a & b \"c\" 'd' <e>", "a &amp; b &quot;c&quot; &#39;d&#39; &lt;e&gt;");
    CHECK_ESC("&amp;", "&amp;amp;");
    CHECK_ESC("\x1b[31mred\x1b[0m", "[31mred[0m");      /* ESC dropped */
    CHECK_ESC("a\x01\x02\x7f" "b", "ab");                  /* C0 and DEL dropped */
    CHECK_ESC("tab\tnew\nline\r!", "tab new line!");      /* tab, newline -> space; CR dropped */
    CHECK_ESC("x\xc2\x85y\xc2\x9bz", "xyz");               /* C1 controls dropped */
    CHECK_ESC("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x94\x92", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x94\x92");
    CHECK_ESC("\xc2\xa0nbsp", "\xc2\xa0nbsp");             /* U+00A0 is text, kept */
    CHECK_ESC("bad\xff", "bad\xef\xbf\xbd");               /* invalid byte -> U+FFFD */
    CHECK_ESC("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");     /* overlong '/' */
    CHECK_ESC("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    CHECK_ESC("\xe6\x97", "\xef\xbf\xbd\xef\xbf\xbd");     /* truncated sequence */
    CHECK_ESC("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* > U+10FFFF */

    /* NULL appends nothing */
    buf_init(&b, 16);
    CHECK_INT(report_html_escape(&b, NULL, &err), 0);
    CHECK_INT(b.len, 0);
    /* the cap is honoured */
    CHECK_INT(report_html_escape(&b, "<<<<<<<<", &err), -1);
    CHECK_CONTAINS(err.msg, "16-byte limit");
    buf_clear(&b);
}

static const char *STATUS =
    "{\"summary\": {\"accounts\": 2, \"vpcs\": 3, \"models\": 2, \"out_of_sync\": 1},"
    " \"vpcs\": ["
    "  {\"account_id\": \"111111111111\", \"region\": \"us-east-1\", \"vpc_id\": \"vpc-red\","
    "   \"status\": \"red\", \"only_in_model\": 1, \"only_in_vpc\": 2, \"changed\": 1,"
    "   \"error\": null, \"last_sync\": \"2024-05-01T12:00:00Z\"},"
    "  {\"account_id\": \"111111111111\", \"region\": \"us-east-1\", \"vpc_id\": \"vpc-green\","
    "   \"status\": \"green\", \"only_in_model\": 0, \"only_in_vpc\": 0, \"changed\": 0,"
    "   \"error\": \"AccessDenied <b>boom</b>\", \"last_sync\": null},"
    "  {\"account_id\": \"222222222222\", \"region\": \"eu-west-1\", \"vpc_id\": \"vpc-yellow\","
    "   \"status\": \"yellow\", \"only_in_model\": 0, \"only_in_vpc\": 0, \"changed\": 0,"
    "   \"error\": null, \"last_sync\": \"2024-05-01T12:00:00Z\"}]}";

static const char *DRIFT =
    "[{\"vpc_id\": \"vpc-red\", \"account_id\": \"111111111111\", \"region\": \"us-east-1\","
    "  \"kind\": \"changed\", \"resource_type\": \"AWS::RDS::DBInstance\", \"resource_id\": \"orders\","
    "  \"component\": \"orders\", \"details\": {\"path\": \"attributes.publicly_accessible\","
    "  \"old\": false, \"new\": true}, \"first_seen\": \"2024-05-01T10:00:00Z\","
    "  \"last_seen\": \"2024-05-01T11:00:00Z\", \"resolved\": null},"
    " {\"vpc_id\": \"vpc-red\", \"account_id\": \"111111111111\", \"region\": \"us-east-1\","
    "  \"kind\": \"only_in_vpc\", \"resource_type\": \"AWS::EC2::Instance\", \"resource_id\": \"i-new\","
    "  \"component\": \"<img src=x onerror=alert(1)>\", \"details\": {\"item\": {\"key\": \"arn:i-new\"}},"
    "  \"first_seen\": \"2024-05-01T12:00:00Z\", \"last_seen\": \"2024-05-01T12:00:00Z\","
    "  \"resolved\": null},"
    " {\"vpc_id\": \"vpc-red\", \"account_id\": \"111111111111\", \"region\": \"us-east-1\","
    "  \"kind\": \"only_in_vpc\", \"resource_type\": \"flow\", \"resource_id\": null,"
    "  \"component\": \"tcp/22\", \"details\": {\"item\": {\"from\": \"a\", \"to\": \"b\", \"label\": \"tcp/22\"}},"
    "  \"first_seen\": \"2024-05-01T09:00:00Z\", \"last_seen\": \"2024-05-01T09:30:00Z\","
    "  \"resolved\": null},"
    " {\"vpc_id\": \"vpc-red\", \"account_id\": \"111111111111\", \"region\": \"us-east-1\","
    "  \"kind\": \"only_in_model\", \"resource_type\": \"AWS::EC2::Volume\", \"resource_id\": \"vol-old\","
    "  \"component\": \"vol-old\", \"details\": {\"item\": {\"key\": \"arn:vol-old\"}},"
    "  \"first_seen\": \"2024-04-01T09:00:00Z\", \"last_seen\": \"2024-04-01T09:00:00Z\","
    "  \"resolved\": null}]";

static const char *COMPLIANCE =
    "{\"standards\": [{\"id\": \"cis-1.2\", \"controls\": ["
    "  {\"control_id\": \"4.1\", \"title\": \"No 0.0.0.0/0 to port 22\", \"status\": \"NON-COMPLIANT\","
    "   \"severity\": \"HIGH\", \"failed_resources\": [\"arn:sg-1\", \"arn:sg-2\"], \"components\": []},"
    "  {\"control_id\": \"1.14\", \"title\": \"Root MFA\", \"status\": \"NON-COMPLIANT\","
    "   \"severity\": \"CRITICAL\", \"failed_resources\": [\"AWS::::Account:111111111111\"], \"components\": []},"
    "  {\"control_id\": \"2.9\", \"title\": \"Flow logs <on>\", \"status\": \"NON-COMPLIANT\","
    "   \"severity\": \"MEDIUM\", \"failed_resources\": [], \"components\": []},"
    "  {\"control_id\": \"1.1\", \"title\": \"Avoid root\", \"status\": \"COMPLIANT\","
    "   \"severity\": \"LOW\", \"failed_resources\": [], \"components\": []},"
    "  {\"control_id\": \"1.2\", \"title\": \"MFA\", \"status\": \"WARNING\","
    "   \"severity\": \"LOW\", \"failed_resources\": [], \"components\": []},"
    "  {\"control_id\": \"1.3\", \"title\": \"Unused\", \"status\": \"NO_DATA\","
    "   \"severity\": null, \"failed_resources\": [], \"components\": []}]},"
    " {\"id\": \"cis-1.4\", \"controls\": ["
    "  {\"control_id\": \"1.4\", \"title\": \"Root keys\", \"status\": \"COMPLIANT\","
    "   \"severity\": \"CRITICAL\", \"failed_resources\": [], \"components\": []}]}]}";

static json_t *
load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    CHECK_MSG(j != NULL, "test JSON: %s at %d", jerr.text, jerr.position);
    return j;
}

static void
test_render(void)
{
    json_t *status = load(STATUS), *drift = load(DRIFT), *comp = load(COMPLIANCE);
    struct report_input in = {.title = "Prod & <test>", .now = 1714564800, .status = status,
        .drift = drift, .compliance = comp, .drift_limit = 3};
    struct buf b;
    struct err err = {0};
    const char *h, *p1, *p2, *p3;

    buf_init(&b, REPORT_MAX_BYTES);
    CHECK_INT(report_render_html(&in, &b, &err), 0);
    CHECK_STR(err.msg, "");
    h = buf_str(&b);
    CHECK(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    CHECK_CONTAINS(h, "<title>Prod &amp; &lt;test&gt;</title>");
    CHECK_CONTAINS(h, "default-src 'none'");
    CHECK(strstr(h, "<script") == NULL && strstr(h, "<img") == NULL);
    CHECK(strstr(h, "http://") == NULL && strstr(h, "https://") == NULL);
    CHECK_CONTAINS(h, "&lt;img src=x onerror=alert(1)&gt;");
    CHECK_CONTAINS(h, "AccessDenied &lt;b&gt;boom&lt;/b&gt;");
    CHECK_CONTAINS(h, "datetime=\"2024-05-01T12:00:00Z\"");
    /* totals */
    CHECK_CONTAINS(h, "<span class=\"n\">2</span><span class=\"l\">accounts</span>");
    CHECK_CONTAINS(h, "<span class=\"n\">3</span><span class=\"l\">VPCs</span>");
    CHECK_CONTAINS(h, "<span class=\"n\">1</span><span class=\"l\">out of sync</span>");
    CHECK_CONTAINS(h, "<span class=\"n\">4</span><span class=\"l\">open drift entries</span>");
    CHECK_CONTAINS(h, "<span class=\"n\">3</span><span class=\"l\">non-compliant controls</span>");
    /* status in colour and in words */
    CHECK_CONTAINS(h, "<span class=\"badge red\">red: out of sync</span>");
    CHECK_CONTAINS(h, "<span class=\"badge green\">green: in sync</span>");
    CHECK_CONTAINS(h, "<span class=\"badge yellow\">yellow: no threat model</span>");
    CHECK_CONTAINS(h, "<td class=\"nw\">never</td>");
    CHECK(strstr(h, "<th>Name</th>") == NULL); /* no VPC has a name */
    /* drift per VPC and kind: 1 only_in_model, 2 only_in_vpc, 1 changed, 4 total */
    CHECK_CONTAINS(h, "vpc-red</code></td><td class=\"num\">1</td><td class=\"num\">2</td>"
                      "<td class=\"num\">1</td><td class=\"num\">4</td>");
    /* newest 3 of 4, newest first; the April entry is cut */
    CHECK_CONTAINS(h, "Newest open entries (3 of 4)");
    p1 = strstr(h, "i-new");
    p2 = strstr(h, "attributes.publicly_accessible");
    p3 = strstr(h, "flow <code>a</code> &#8594; <code>b</code> tcp/22");
    CHECK(p1 != NULL && p2 != NULL && p3 != NULL && p1 < p2 && p2 < p3);
    CHECK_CONTAINS(h, "<code>false</code> &#8594; <code>true</code>");
    CHECK(strstr(h, "vol-old") == NULL);
    /* CIS: counts, NON-COMPLIANT sorted by severity, resources listed */
    CHECK_CONTAINS(h, "cis-1.2 (6 controls)");
    CHECK_CONTAINS(h, "NON-COMPLIANT: 3");
    CHECK_CONTAINS(h, "WARNING: 1");
    CHECK_CONTAINS(h, "NO_DATA: 1");
    CHECK_CONTAINS(h, "cis-1.4 (1 controls)");
    CHECK_CONTAINS(h, "No NON-COMPLIANT controls.");
    CHECK_CONTAINS(h, "id=\"noncompliant-cis-1.2\"");
    p1 = strstr(h, "<code>1.14</code>");
    p2 = strstr(h, "<code>4.1</code>");
    p3 = strstr(h, "<code>2.9</code>");
    CHECK(p1 != NULL && p2 != NULL && p3 != NULL && p1 < p2 && p2 < p3);
    CHECK_CONTAINS(h, "<li><code>arn:sg-2</code></li>");
    CHECK_CONTAINS(h, "Flow logs &lt;on&gt;");
    CHECK_CONTAINS(h, "none listed");
    CHECK(strstr(h, "<code>1.1</code>") == NULL); /* compliant controls are only counted */
    buf_clear(&b);

    /* no compliance data: the section says why, escaped */
    in.compliance = NULL;
    in.compliance_error = "store: <locked>";
    buf_init(&b, REPORT_MAX_BYTES);
    CHECK_INT(report_render_html(&in, &b, &err), 0);
    CHECK_CONTAINS(buf_str(&b), "Compliance data is not available: store: &lt;locked&gt;.");
    CHECK(strstr(buf_str(&b), "non-compliant controls") == NULL);
    buf_clear(&b);

    /* the cap: a page that does not fit fails, naming the limit */
    in.compliance = comp;
    buf_init(&b, 2000);
    CHECK_INT(report_render_html(&in, &b, &err), -1);
    CHECK_CONTAINS(err.msg, "2000-byte limit");
    buf_clear(&b);

    json_decref(status);
    json_decref(drift);
    json_decref(comp);
}

static void
test_render_empty_and_bad(void)
{
    json_t *status = load("{\"summary\": {\"accounts\": 0, \"vpcs\": 0, \"models\": 0,"
                          " \"out_of_sync\": 0}, \"vpcs\": []}");
    json_t *drift = load("[]"), *bad = load("{\"vpcs\": []}"), *nostd = load("{\"x\": 1}");
    struct report_input in = {.now = 0, .status = status, .drift = drift};
    struct buf b;
    struct err err = {0};

    buf_init(&b, REPORT_MAX_BYTES);
    CHECK_INT(report_render_html(&in, &b, &err), 0);
    CHECK_CONTAINS(buf_str(&b), "<title>driftsync report</title>");
    CHECK_CONTAINS(buf_str(&b), "No VPCs recorded yet");
    CHECK_CONTAINS(buf_str(&b), "No open drift");
    CHECK_CONTAINS(buf_str(&b), "Compliance data is not available.");
    buf_clear(&b);

    in.status = bad;
    CHECK_INT(report_render_html(&in, &b, &err), -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "status document has no summary and vpcs");
    in.status = status;
    in.drift = bad;
    CHECK_INT(report_render_html(&in, &b, &err), -1);
    CHECK_CONTAINS(err.msg, "drift document is not an array");
    in.drift = drift;
    in.compliance = nostd;
    CHECK_INT(report_render_html(&in, &b, &err), -1);
    CHECK_CONTAINS(err.msg, "compliance document has no standards array");
    CHECK_INT(b.len, 0); /* nothing written before the refusal */
    buf_clear(&b);
    json_decref(status);
    json_decref(drift);
    json_decref(bad);
    json_decref(nostd);
}

static void
test_write_file(void)
{
    char dir[] = "/tmp/driftsync-test-report-XXXXXX", path[256], missing[300], got[64];
    struct err err = {0};
    struct stat st;
    FILE *f;
    DIR *d;
    struct dirent *de;
    int entries = 0;
    size_t n;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/r.html", dir);
    CHECK_INT(report_write_file(path, "first", 5, &err), 0);
    CHECK_INT(report_write_file(path, "second!", 7, &err), 0);
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (f != NULL) {
        n = fread(got, 1, sizeof(got) - 1, f);
        got[n] = '\0';
        fclose(f);
        CHECK_STR(got, "second!");
    }
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0644);
    /* a directory that does not exist: named, no file left anywhere */
    snprintf(missing, sizeof(missing), "%s/nope/r.html", dir);
    CHECK_INT(report_write_file(missing, "x", 1, &err), -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "cannot write report '");
    CHECK_CONTAINS(err.msg, "nope/r.html': No such file or directory");
    /* the target is a directory: rename fails, the temporary file is removed */
    CHECK_INT(report_write_file(dir, "x", 1, &err), -1);
    CHECK_CONTAINS(err.msg, "cannot write report");
    d = opendir(dir);
    CHECK(d != NULL);
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            entries++;
            CHECK_STR(de->d_name, "r.html");
        }
    }
    if (d != NULL)
        closedir(d);
    CHECK_INT(entries, 1);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    test_escape();
    test_render();
    test_render_empty_and_bad();
    test_write_file();
    TEST_END();
}
