/*
 * test_http.c: the socket-free parts of providers/aws/http.c: which URLs may
 * be used (https anywhere, http only to loopback), response header storage
 * and lookup, and http_send through a swapped transport (URL rules still
 * apply, a failing transport leaves nothing to free). The real-socket side
 * is tests/http/http_loopback.c.
 */
#include <stdio.h>
#include <string.h>

#include "providers/aws/http.h"
#include "testutil.h"

static int fake_calls;

static int
fake_send(void *ctx, const struct http_request *req, struct http_response *resp, struct err *err)
{
    (void)ctx;
    fake_calls++;
    if (strstr(req->url, "/fail") != NULL) {
        /* a transport may leave partial state behind; http_send must clear it */
        if (buf_puts(&resp->body, "partial", err) < 0 ||
            http_response_add_header(resp, "X-Half", "1", err) < 0)
            return -1;
        return err_set(err, ERR_TRANSIENT, "HTTP GET to fake.test failed: reset");
    }
    resp->status = 204;
    if (http_response_add_header(resp, "X-Amzn-RequestId", "abc", err) < 0 ||
        http_response_add_header(resp, "Content-TYPE", "text/plain", err) < 0)
        return -1;
    return buf_puts(&resp->body, req->method, err);
}

static void
test_url_rules(void)
{
    CHECK(http_url_allowed("https://config.us-east-1.amazonaws.com/"));
    CHECK(http_url_allowed("HTTPS://x.test"));
    CHECK(http_url_allowed("http://127.0.0.1:4566/"));
    CHECK(http_url_allowed("http://127.255.0.9/"));
    CHECK(http_url_allowed("http://localhost:8080"));
    CHECK(http_url_allowed("http://LOCALHOST/"));
    CHECK(http_url_allowed("http://[::1]:8080/x"));
    CHECK(!http_url_allowed("http://128.0.0.1/"));
    CHECK(!http_url_allowed("http://127.0.0.1.evil.test/"));
    CHECK(!http_url_allowed("http://127.1/"));
    CHECK(!http_url_allowed("http://localhost.evil.test/"));
    CHECK(!http_url_allowed("http://127.0.0.1@evil.test/"));
    CHECK(!http_url_allowed("http://[::2]/"));
    CHECK(!http_url_allowed("http://[::1].evil.test/"));
    CHECK(!http_url_allowed("http://10.0.0.1/?x=http://127.0.0.1/"));
    CHECK(!http_url_allowed("ftp://127.0.0.1/"));
    CHECK(!http_url_allowed("file:///etc/passwd"));
    CHECK(!http_url_allowed("https://"));
    CHECK(!http_url_allowed("127.0.0.1"));
    CHECK(!http_url_allowed(""));
    CHECK(!http_url_allowed(NULL));
    /* metadata addresses: only for sending, never as API endpoints */
    CHECK(!http_url_allowed("http://169.254.169.254/latest/api/token"));
    CHECK(http_url_allowed_for_send("http://169.254.169.254/latest/api/token"));
    CHECK(http_url_allowed_for_send("http://169.254.170.2/v2/credentials/x"));
    CHECK(http_url_allowed_for_send("http://169.254.170.23/v1/credentials"));
    CHECK(http_url_allowed_for_send("http://[fd00:ec2::254]/latest/api/token"));
    CHECK(http_url_allowed_for_send("http://[FD00:EC2::23]:80/"));
    CHECK(http_url_allowed_for_send("http://127.0.0.1:1338/"));
    CHECK(http_url_allowed_for_send("https://example.test/"));
    CHECK(!http_url_allowed_for_send("http://169.254.169.253/"));
    CHECK(!http_url_allowed_for_send("http://169.254.169.254.evil.test/"));
    CHECK(!http_url_allowed_for_send("http://[fd00:ec2::254].evil.test/"));
    CHECK(!http_url_allowed_for_send("ftp://169.254.169.254/"));
    CHECK(!http_url_allowed_for_send(NULL));
}

static void
test_headers(void)
{
    struct http_response r;
    struct err err;

    http_response_init(&r, 100);
    CHECK(http_response_add_header(&r, "X-Amz-Request-Id", "one", &err) == 0);
    CHECK(http_response_add_header(&r, "retry-after", "3", &err) == 0);
    CHECK_STR(r.headers[0].name, "x-amz-request-id");
    CHECK_STR(http_response_header(&r, "X-AMZ-REQUEST-ID"), "one");
    CHECK_STR(http_response_header(&r, "Retry-After"), "3");
    CHECK(http_response_header(&r, "missing") == NULL);
    /* the body buffer carries the cap */
    CHECK_INT(r.body.max, 100);
    {
        char big[150];
        memset(big, 'x', sizeof(big));
        CHECK(buf_append(&r.body, big, sizeof(big), &err) == -1);
        CHECK_CONTAINS(err.msg, "100-byte limit");
    }
    /* at most 128 headers */
    for (int i = 2; i < 128; i++)
        CHECK(http_response_add_header(&r, "h", "v", &err) == 0);
    CHECK(http_response_add_header(&r, "h", "v", &err) == -1);
    CHECK_CONTAINS(err.msg, "more than 128 response headers");
    http_response_clear(&r);
    CHECK_INT(r.nheaders, 0);
    CHECK(r.headers == NULL);
    http_response_clear(&r); /* twice is fine */
    http_response_clear(NULL);
}

static void
test_transport(void)
{
    struct http_client *c = NULL;
    struct http_options o = {.max_body = 50};
    struct http_transport t = {.send = fake_send, .ctx = NULL};
    struct http_response r;
    struct err err;
    struct http_request req = {.method = "DELETE", .url = "https://fake.test/x"};

    CHECK(http_client_new(&o, &c, &err) == 0);
    if (c == NULL)
        return;
    http_client_set_transport(c, &t);
    CHECK(http_send(c, &req, &r, &err) == 0);
    CHECK_INT(r.status, 204);
    CHECK_STR(r.body.data, "DELETE");
    CHECK_INT(r.body.max, 50);
    CHECK_STR(http_response_header(&r, "content-type"), "text/plain");
    CHECK_STR(http_response_header(&r, "x-amzn-requestid"), "abc");
    http_response_clear(&r);

    req.url = "https://fake.test/fail";
    CHECK(http_send(c, &req, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK(r.body.data == NULL);
    CHECK_INT(r.nheaders, 0);

    /* URL rules hold whatever the transport */
    fake_calls = 0;
    req.url = "http://metadata.internal/latest?token=SECRET";
    CHECK(http_send(c, &req, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_STR(err.msg, "refusing to send to 'metadata.internal': only https:// URLs (or http:// "
                       "to a loopback host or an AWS metadata address) are allowed");
    CHECK_INT(fake_calls, 0);
    /* IMDS goes through */
    req.url = "http://169.254.169.254/latest/api/token";
    CHECK(http_send(c, &req, &r, &err) == 0);
    CHECK_INT(fake_calls, 1);
    http_response_clear(&r);
    req.url = NULL;
    CHECK(http_send(c, &req, &r, &err) == -1);
    CHECK_CONTAINS(err.msg, "refusing to send to '(null)'");

    /* back to libcurl: still refuses before any network use */
    http_client_set_transport(c, NULL);
    req.url = "http://192.0.2.1/";
    CHECK(http_send(c, &req, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    http_client_free(c);
    http_client_free(NULL);
}

int
main(void)
{
    test_url_rules();
    test_headers();
    test_transport();
    TEST_END();
}
