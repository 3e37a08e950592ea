/*
 * test_feed.c: daemon/feed.c (atomic compliance.json, events.ndjson append
 * and rotation, errors naming the path) and daemon/webhook.c (HMAC-SHA256
 * signature against RFC 4231, delivery through a fake transport: signed
 * body, retries with backoff on 5xx, no retry on 4xx, the spool keeping
 * undelivered events for the next delivery, bad URL / secret file).
 */
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/feed.h"
#include "daemon/webhook.h"
#include "providers/aws/http.h"
#include "testutil.h"

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int
count_lines(const char *path)
{
    char *s = slurp(path);
    int n = 0;

    for (char *p = s; p != NULL && *p; p++)
        n += *p == '\n';
    free(s);
    return n;
}

/* fake receiver: answers statuses[i] to request i, records the last body */
struct fake {
    long statuses[8];
    int calls;
    char body[8192];
    char sig[80];
};

static int
fake_send(void *ctx, const struct http_request *req, struct http_response *resp, struct err *err)
{
    struct fake *f = ctx;

    (void)err;
    snprintf(f->body, sizeof(f->body), "%.*s", (int)req->body_len, (const char *)req->body);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcmp(req->headers[i].name, WEBHOOK_SIG_HEADER) == 0)
            snprintf(f->sig, sizeof(f->sig), "%s", req->headers[i].value);
    }
    resp->status = f->statuses[f->calls < 8 ? f->calls : 7];
    f->calls++;
    return 0;
}

static json_t *
event(const char *control)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "target",
        "111111111111/us-east-1", "account_id", "111111111111", "region", "us-east-1",
        "standard", "cis-1.4", "control", control, "old", "COMPLIANT", "new", "NON-COMPLIANT",
        "run", (json_int_t)7);
}

int
main(void)
{
    char dir[] = "/tmp/test_feed.XXXXXX", path[512], path2[600], *text, *fdir = NULL;
    struct err err = {0};
    struct stat sb;
    json_t *doc, *evs;

    if (mkdtemp(dir) == NULL)
        return 1;

    /* ---- feed ---- */
    CHECK(feed_dir(dir, &fdir, &err) == 0);
    CHECK(fdir != NULL && stat(fdir, &sb) == 0 && S_ISDIR(sb.st_mode));
    doc = json_pack("{s:[{s:s}]}", "standards", "id", "cis-1.4");
    CHECK(feed_write_status(fdir, doc, &err) == 0);
    snprintf(path, sizeof(path), "%s/%s", fdir, FEED_STATUS_FILE);
    text = slurp(path);
    CHECK(text != NULL && strstr(text, "\"cis-1.4\"") != NULL && text[strlen(text) - 1] == '\n');
    free(text);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    /* replaced whole, and no temp file left behind */
    json_object_set_new(doc, "x", json_true());
    CHECK(feed_write_status(fdir, doc, &err) == 0);
    text = slurp(path);
    CHECK(text != NULL && strstr(text, "\"x\": true") != NULL);
    free(text);
    json_decref(doc);
    snprintf(path2, sizeof(path2), "ls '%s' | grep -c tmp > /dev/null", fdir);
    CHECK(system(path2) != 0);
    /* a temp file left by a killed run is removed before the next write;
     * other files stay */
    {
        char stale[600], other[600];
        FILE *f;

        snprintf(stale, sizeof(stale), "%s/%s.tmp.AbC123", fdir, FEED_STATUS_FILE);
        snprintf(other, sizeof(other), "%s/keep.tmp.x", fdir);
        f = fopen(stale, "w");
        CHECK(f != NULL && fputs("{\"half\": ", f) >= 0 && fclose(f) == 0);
        f = fopen(other, "w");
        CHECK(f != NULL && fclose(f) == 0);
        free(fdir);
        fdir = NULL;
        CHECK(feed_dir(dir, &fdir, &err) == 0);
        CHECK(access(stale, F_OK) != 0);
        CHECK(access(other, F_OK) == 0);
        unlink(other);
    }
    /* atomic write into a missing directory fails naming the path, nothing created */
    CHECK(feed_write_atomic("/nonexistent-dir/x.json", "{}", 2, &err) == -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.json");

    /* events: appended one line each; empty batch writes nothing */
    snprintf(path, sizeof(path), "%s/%s", fdir, FEED_EVENTS_FILE);
    evs = json_array();
    CHECK(feed_append_events(fdir, evs, 1000, &err) == 0);
    CHECK(access(path, F_OK) != 0);
    json_array_append_new(evs, event("1.4"));
    json_array_append_new(evs, event("1.5"));
    CHECK(feed_append_events(fdir, evs, 100000, &err) == 0);
    CHECK(feed_append_events(fdir, evs, 100000, &err) == 0);
    CHECK_INT(count_lines(path), 4);
    text = slurp(path);
    CHECK(text != NULL && strncmp(text, "{\"account_id\":\"111111111111\"", 28) == 0);
    free(text);
    /* rotation: the next batch would exceed max_bytes -> .1 holds the old lines */
    CHECK(stat(path, &sb) == 0);
    CHECK(feed_append_events(fdir, evs, (long)sb.st_size + 10, &err) == 0);
    snprintf(path2, sizeof(path2), "%s.1", path);
    CHECK_INT(count_lines(path2), 4);
    CHECK_INT(count_lines(path), 2);
    /* a batch larger than max_bytes still goes in whole */
    CHECK(feed_append_events(fdir, evs, 10, &err) == 0);
    CHECK_INT(count_lines(path), 2);
    CHECK_INT(count_lines(path2), 2);
    doc = json_object();
    CHECK(feed_append_events(fdir, doc, 10, &err) == -1);
    CHECK_CONTAINS(err.msg, "not an array");
    json_decref(doc);
    CHECK(feed_append_events("/nonexistent-dir", evs, 0, &err) == -1);
    CHECK_CONTAINS(err.msg, "/nonexistent-dir/events.ndjson");

    /* ---- webhook: signature (RFC 4231 test case 2) ---- */
    char sig[72];
    CHECK(webhook_sign("Jefe", 4, "what do ya want for nothing?", 28, sig, &err) == 0);
    CHECK_STR(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* ---- webhook: delivery ---- */
    struct fake fk = {.statuses = {200}};
    struct http_transport tr = {.send = fake_send, .ctx = &fk};
    char spool[512];
    snprintf(spool, sizeof(spool), "%s/%s", fdir, WEBHOOK_SPOOL_FILE);
    struct webhook_options wo = {.url = "http://127.0.0.1:9/hook", .secret = "s3cret",
        .spool_path = spool, .total_ms = 3000, .first_backoff_ms = 20, .transport = &tr};
    struct webhook_job *job = NULL;

    CHECK(webhook_start(&wo, 7, evs, &job, &err) == 0);
    CHECK(job != NULL);
    CHECK_INT(webhook_finish(job, 5000, &err), 1);
    CHECK_INT(fk.calls, 1);
    CHECK(webhook_sign("s3cret", 6, fk.body, strlen(fk.body), sig, &err) == 0);
    CHECK_STR(fk.sig, sig);
    CHECK(strstr(fk.body, "\"control\":\"1.5\"") != NULL && strstr(fk.body, "\"run\":7") != NULL);
    CHECK(access(spool, F_OK) != 0); /* delivered: no spool */

    /* 5xx then success: retried with backoff */
    memset(&fk, 0, sizeof(fk));
    fk.statuses[0] = 503;
    fk.statuses[1] = 500;
    fk.statuses[2] = 204;
    CHECK(webhook_start(&wo, 8, evs, &job, &err) == 0);
    CHECK_INT(webhook_finish(job, 5000, &err), 1);
    CHECK_INT(fk.calls, 3);

    /* always failing: bounded by total_ms, events kept in the spool */
    memset(&fk, 0, sizeof(fk));
    for (int i = 0; i < 8; i++)
        fk.statuses[i] = 503;
    wo.total_ms = 300;
    CHECK(webhook_start(&wo, 9, evs, &job, &err) == 0);
    err.kind = ERR_OK;
    CHECK_INT(webhook_finish(job, 5000, &err), 0);
    CHECK_CONTAINS(err.msg, "HTTP 503");
    CHECK(fk.calls >= 2 && fk.calls <= 6);
    CHECK_INT(count_lines(spool), 2);
    CHECK(strstr(err.msg, "s3cret") == NULL);

    /* 4xx: no retry; spool grows with the new events */
    memset(&fk, 0, sizeof(fk));
    fk.statuses[0] = 403;
    CHECK(webhook_start(&wo, 10, evs, &job, &err) == 0);
    CHECK_INT(webhook_finish(job, 5000, &err), 0);
    CHECK_INT(fk.calls, 1);
    CHECK_CONTAINS(err.msg, "HTTP 403");
    CHECK_INT(count_lines(spool), 4);

    /* the next good delivery carries everything pending, then clears the spool */
    memset(&fk, 0, sizeof(fk));
    fk.statuses[0] = 200;
    doc = json_array();
    CHECK(webhook_start(&wo, 11, doc, &job, &err) == 0);
    CHECK_INT(webhook_finish(job, 5000, &err), 1);
    json_t *body = json_loads(fk.body, 0, NULL);
    CHECK_INT(json_array_size(json_object_get(body, "events")), 4);
    json_decref(body);
    CHECK(access(spool, F_OK) != 0);
    /* nothing pending: no delivery started */
    CHECK(webhook_start(&wo, 12, doc, &job, &err) == 0);
    CHECK(job == NULL);
    json_decref(doc);

    /* secret from a file (trailing newline stripped) */
    snprintf(path, sizeof(path), "%s/secret", dir);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs("s3cret\n", f);
        fclose(f);
    }
    memset(&fk, 0, sizeof(fk));
    fk.statuses[0] = 200;
    wo.secret = NULL;
    wo.secret_file = path;
    CHECK(webhook_start(&wo, 13, evs, &job, &err) == 0);
    CHECK_INT(webhook_finish(job, 5000, &err), 1);
    CHECK(webhook_sign("s3cret", 6, fk.body, strlen(fk.body), sig, &err) == 0);
    CHECK_STR(fk.sig, sig);

    /* errors: unreadable secret file, no secret, non-loopback http */
    wo.secret_file = "/nonexistent/secret";
    CHECK(webhook_start(&wo, 14, evs, &job, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "/nonexistent/secret");
    wo.secret_file = NULL;
    CHECK(webhook_start(&wo, 14, evs, &job, &err) == -1);
    CHECK_CONTAINS(err.msg, "no secret");
    wo.secret = "x";
    wo.url = "http://example.com/hook";
    CHECK(webhook_start(&wo, 14, evs, &job, &err) == -1);
    CHECK_CONTAINS(err.msg, "http://example.com/hook");
    CHECK_INT(webhook_finish(NULL, 0, &err), 0);

    json_decref(evs);
    free(fdir);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
