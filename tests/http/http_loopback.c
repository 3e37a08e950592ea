/*
 * http_loopback.c: providers/aws/http.c over real sockets, against
 * tests/http/server.py on 127.0.0.1 (started here, stopped by closing its
 * stdin). Covers keep-alive reuse as the server sees it (connection ids and
 * the server's connection count), connection sharing between clients,
 * User-Agent, request bodies without "Expect: 100-continue", lower-cased
 * response headers, the body cap, the header limits, timeouts, refused
 * connections, truncated bodies, and TLS verification (self-signed
 * certificate: refused without its CA, accepted with ca_bundle or
 * AWS_CA_BUNDLE, refused for a host name the certificate does not carry).
 * URL rules and header storage are unit-tested in tests/unit/test_http.c.
 *
 * With ORACLE (the shared sigv4-oracle), aws_call itself goes over the wire:
 * the server checks every signature with botocore, so SigV4 + aws.c + http.c
 * are verified together on the exact bytes curl sent (Host included).
 *
 * usage: http_loopback SERVER_PY PYTHON [ORACLE]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/http.h"
#include "testutil.h"
#include "version.h"

static int http_port, https_port;
static char tls_dir[64] = "";

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYLOOPBACK"

static pid_t
start_server(const char *script, const char *python, const char *oracle, int *ret_stdin)
{
    int in[2], out[2];
    pid_t pid;
    FILE *f;
    char line[128];

    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        if (oracle != NULL)
            execlp(python, python, script, "--tls-dir", tls_dir, "--oracle", oracle, "--secret",
                   SECRET, (char *)NULL);
        else
            execlp(python, python, script, "--tls-dir", tls_dir, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f = fdopen(out[0], "r");
    if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
        sscanf(line, "PORTS %d %d", &http_port, &https_port) != 2) {
        fprintf(stderr, "server did not start\n");
        if (f != NULL)
            fclose(f);
        close(in[1]);
        waitpid(pid, NULL, 0);
        return -1;
    }
    fclose(f);
    *ret_stdin = in[1];
    return pid;
}

static char *
url(const char *scheme, const char *host, int port, const char *path)
{
    static char u[8][256];
    static int slot;
    char *p = u[slot++ % 8];
    snprintf(p, 256, "%s://%s:%d%s", scheme, host, port, path);
    return p;
}

static int
get(struct http_client *c, const char *u, long timeout_ms, struct http_response *resp,
    struct err *err)
{
    struct http_request req = {.method = "GET", .url = u, .timeout_ms = timeout_ms};
    err_clear(err);
    return http_send(c, &req, resp, err);
}

static long
conn_id(const struct http_response *r)
{
    const char *v = http_response_header(r, "X-CONN-ID");
    return v ? strtol(v, NULL, 10) : -1;
}

static void
test_basics_and_keepalive(void)
{
    struct http_client *c = NULL, *c2 = NULL;
    struct http_response r;
    struct err err;
    long id1, id2;

    CHECK(http_client_new(NULL, &c, &err) == 0);
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/echo?a=1"), 0, &r, &err) == 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body.data, "user-agent=driftsync/" DRIFTSYNC_VERSION "\n");
    CHECK_CONTAINS(r.body.data, "method=GET\npath=/echo?a=1\n");
    id1 = conn_id(&r);
    CHECK(id1 > 0);
    for (size_t i = 0; i < r.nheaders; i++) {
        for (const char *p = r.headers[i].name; *p; p++)
            CHECK_MSG(!(*p >= 'A' && *p <= 'Z'), "header %s not lower-cased", r.headers[i].name);
    }
    CHECK_STR(http_response_header(&r, "content-type"), "text/plain");
    CHECK(http_response_header(&r, "no-such-header") == NULL);
    http_response_clear(&r);

    /* keep-alive: the same connection answers again */
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/echo"), 0, &r, &err) == 0);
    id2 = conn_id(&r);
    CHECK_INT(id2, id1);
    http_response_clear(&r);
    /* the server saw exactly one connection so far */
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/stats"), 0, &r, &err) == 0);
    CHECK_STR(r.body.data, "connections=1\n");
    http_response_clear(&r);

    /* a second client (another thread's) has a connection of its own:
     * libcurl does not support sharing connections between threads */
    CHECK(http_client_new(NULL, &c2, &err) == 0);
    CHECK(get(c2, url("http", "127.0.0.1", http_port, "/echo"), 0, &r, &err) == 0);
    CHECK(conn_id(&r) != id1);
    http_response_clear(&r);
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/echo"), 0, &r, &err) == 0);
    CHECK_INT(conn_id(&r), id1);
    http_response_clear(&r);

    /* POST: body sent whole, no Expect round trip, custom headers, other methods */
    {
        static char body[2000];
        char hn[] = "X-Test", hv[] = "yes";
        struct http_header h = {hn, hv};
        struct http_request req = {.method = "POST",
                                   .url = url("http", "127.0.0.1", http_port, "/echo"),
                                   .headers = &h,
                                   .nheaders = 1,
                                   .body = body,
                                   .body_len = sizeof(body)};
        memset(body, 'b', sizeof(body));
        CHECK(http_send(c, &req, &r, &err) == 0);
        CHECK_CONTAINS(r.body.data, "method=POST\n");
        CHECK_CONTAINS(r.body.data, "length=2000\n");
        CHECK_CONTAINS(r.body.data, "expect=none\n");
        CHECK_CONTAINS(r.body.data, "x-test=yes\n");
        CHECK_INT(conn_id(&r), id1);
        http_response_clear(&r);
        req.method = "PUT";
        req.body_len = 3;
        CHECK(http_send(c, &req, &r, &err) == 0);
        CHECK_CONTAINS(r.body.data, "method=PUT\n");
        CHECK_CONTAINS(r.body.data, "body=bbb\n");
        http_response_clear(&r);
        /* header injection is refused */
        hv[1] = '\n';
        CHECK(http_send(c, &req, &r, &err) == -1);
        CHECK_CONTAINS(err.msg, "request header 'X-Test' contains a line break");
    }

    /* an error status is still a response for this layer */
    CHECK(get(c, url("http", "localhost", http_port, "/status?code=503"), 0, &r, &err) == 0);
    CHECK_INT(r.status, 503);
    CHECK_STR(http_response_header(&r, "x-amzn-requestid"), "loop-1");
    CHECK_CONTAINS(r.body.data, "ServiceUnavailableException");
    http_response_clear(&r);
    http_client_free(c2);
    http_client_free(c);
}

static void
test_limits_and_failures(void)
{
    struct http_client *c = NULL;
    struct http_options o = {.max_body = 1000};
    struct http_response r;
    struct err err;
    int64_t t0;

    CHECK(http_client_new(&o, &c, &err) == 0);
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/big?n=1000"), 0, &r, &err) == 0);
    CHECK_INT(r.body.len, 1000);
    http_response_clear(&r);
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/big?n=5000"), 0, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_STR(err.msg, "response body from 127.0.0.1 exceeds the 1000-byte limit (http max_body)");
    CHECK(r.body.data == NULL);

    CHECK(get(c, url("http", "127.0.0.1", http_port, "/headers?n=200"), 0, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_CONTAINS(err.msg, "response headers from 127.0.0.1 exceed the limits");

    t0 = util_now_ms();
    CHECK(get(c, url("http", "127.0.0.1", http_port, "/slow?ms=3000"), 300, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_CONTAINS(err.msg, "HTTP GET to 127.0.0.1 failed: ");
    CHECK_CONTAINS(err.msg, "timed out");
    CHECK(util_now_ms() - t0 < 2000);

    CHECK(get(c, url("http", "127.0.0.1", http_port, "/truncated"), 0, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);

    /* connection refused: a port nobody listens on; the query never shows */
    {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t al = sizeof(a);
        int port;
        char u[256];

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
        CHECK(getsockname(s, (struct sockaddr *)&a, &al) == 0);
        port = ntohs(a.sin_port);
        close(s);
        snprintf(u, sizeof(u), "http://127.0.0.1:%d/x?X-Amz-Signature=SECRETSIG", port);
        CHECK(get(c, u, 0, &r, &err) == -1);
        CHECK_INT(err.kind, ERR_TRANSIENT);
        CHECK_CONTAINS(err.msg, "HTTP GET to 127.0.0.1 failed: ");
        CHECK(strstr(err.msg, "SECRETSIG") == NULL);
    }

    /* plain http only to loopback, refused before any network use */
    CHECK(get(c, "http://example.invalid/x?sig=SECRETSIG", 0, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "refusing to send to 'example.invalid'");
    CHECK(strstr(err.msg, "SECRETSIG") == NULL);
    CHECK(get(c, "ftp://127.0.0.1/", 0, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    http_client_free(c);

    /* bad options */
    {
        struct http_options bad = {.ca_bundle = "/nonexistent/ca.pem"};
        struct http_options neg = {.timeout_ms = -1};
        CHECK(http_client_new(&bad, &c, &err) == -1);
        CHECK_INT(err.kind, ERR_CONFIG);
        CHECK_CONTAINS(err.msg, "CA bundle '/nonexistent/ca.pem' (from http_options.ca_bundle) "
                                "is not readable");
        CHECK(http_client_new(&neg, &c, &err) == -1);
        CHECK_CONTAINS(err.msg, "HTTP timeouts must not be negative");
    }
}

static void
test_tls(void)
{
    struct http_client *c = NULL;
    struct http_response r;
    struct err err;
    char cert[128];
    struct http_options o = {.ca_bundle = cert};

    snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
    CHECK(https_port > 0);
    unsetenv("AWS_CA_BUNDLE");
    /* the system store does not know our self-signed certificate */
    CHECK(http_client_new(NULL, &c, &err) == 0);
    CHECK(get(c, url("https", "127.0.0.1", https_port, "/echo"), 0, &r, &err) == -1);
    CHECK_MSG(err.kind == ERR_REMOTE || err.kind == ERR_TRANSIENT, "kind %d: %s", err.kind,
              err.msg);
    CHECK_CONTAINS(err.msg, "HTTP GET to 127.0.0.1 failed: ");
    http_client_free(c);

    /* trusted through http_options.ca_bundle */
    CHECK(http_client_new(&o, &c, &err) == 0);
    CHECK(get(c, url("https", "127.0.0.1", https_port, "/echo"), 0, &r, &err) == 0);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body.data, "user-agent=driftsync/");
    http_response_clear(&r);
    /* host verification stays on: the certificate names only 127.0.0.1 */
    CHECK(get(c, url("https", "localhost", https_port, "/echo"), 0, &r, &err) == -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    http_client_free(c);

    /* trusted through AWS_CA_BUNDLE */
    setenv("AWS_CA_BUNDLE", cert, 1);
    CHECK(http_client_new(NULL, &c, &err) == 0);
    CHECK(get(c, url("https", "127.0.0.1", https_port, "/echo"), 0, &r, &err) == 0);
    CHECK_INT(r.status, 200);
    http_response_clear(&r);
    http_client_free(c);
    setenv("AWS_CA_BUNDLE", "/nonexistent/bundle.pem", 1);
    CHECK(http_client_new(NULL, &c, &err) == -1);
    CHECK_CONTAINS(err.msg, "(from AWS_CA_BUNDLE)");
    unsetenv("AWS_CA_BUNDLE");
}

static int
signed_call(const char *secret, const char *token, const struct aws_call *call,
            struct aws_response *resp, struct err *err)
{
    char akid[] = "AKIDLOOPBACK";
    char sec[64], tok[64];
    char base[128], sts_base[128];
    struct creds c = {.access_key_id = akid, .secret_access_key = sec};
    struct creds_provider *p = NULL;
    struct aws_client *cl = NULL;
    struct aws_endpoint_overrides ov = {.config = base, .securityhub = base, .sts = sts_base};
    struct aws_client_options o = {
        .region = "eu-west-1", .account_id = "123456789012", .endpoints = &ov, .max_attempts = 1};
    int rc = -1;

    snprintf(sec, sizeof(sec), "%s", secret);
    if (token != NULL) {
        snprintf(tok, sizeof(tok), "%s", token);
        c.session_token = tok;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/aws", http_port);
    snprintf(sts_base, sizeof(sts_base), "http://localhost:%d/aws/sts/", http_port);
    memset(resp, 0, sizeof(*resp));
    err_clear(err);
    if (creds_provider_static(&c, &p, err) < 0)
        return -1;
    o.creds = p;
    if (aws_client_new(&o, &cl, err) == 0)
        rc = aws_call(cl, call, resp, err);
    aws_client_free(cl);
    creds_provider_free(p);
    return rc;
}

static void
test_signed_calls(void)
{
    struct aws_response resp;
    struct err err;
    const struct aws_call json11 = {
        .service = "config",
        .operation = "SelectResourceConfig",
        .protocol = AWS_PROTO_JSON11,
        .target = "StarlingDoveService.SelectResourceConfig",
        .body = "{\"Expression\":\"SELECT resourceId WHERE resourceType = 'AWS::EC2::VPC'\"}",
        .body_len = 71,
    };
    const struct aws_call restget = {
        .service = "securityhub",
        .operation = "DescribeHub",
        .protocol = AWS_PROTO_RESTJSON,
        .method = "GET",
        .path = "/accounts/a%3Ab",
        .query = "HubArn=arn%3Aaws%3Asecurityhub%3Aeu-west-1%3A123456789012%3Ahub%2Fdefault&"
                 "MaxResults=5",
    };
    const struct aws_call query = {
        .service = "sts",
        .operation = "GetCallerIdentity",
        .protocol = AWS_PROTO_QUERY,
        .body = "Action=GetCallerIdentity&Version=2011-06-15",
        .body_len = 43,
    };

    CHECK_MSG(signed_call(SECRET, NULL, &json11, &resp, &err) == 0, "%s", err.msg);
    CHECK_INT(resp.status, 200);
    CHECK_STR(resp.request_id, "verified-1");
    CHECK_CONTAINS(resp.body.data, "content-type;host;x-amz-date;x-amz-target");
    aws_response_clear(&resp);

    CHECK_MSG(signed_call(SECRET, "FQoGZXIvYXdzEXAMPLETOKEN", &json11, &resp, &err) == 0, "%s",
              err.msg);
    CHECK_CONTAINS(resp.body.data, "x-amz-security-token");
    aws_response_clear(&resp);

    CHECK_MSG(signed_call(SECRET, NULL, &restget, &resp, &err) == 0, "%s", err.msg);
    CHECK_CONTAINS(resp.body.data, "GET\\n/aws/accounts/a%253Ab\\nHubArn=");
    aws_response_clear(&resp);

    CHECK_MSG(signed_call(SECRET, "TOKEN2", &query, &resp, &err) == 0, "%s", err.msg);
    CHECK_CONTAINS(resp.body.data, "POST\\n/aws/sts/\\n");
    aws_response_clear(&resp);

    /* the wrong secret is caught by botocore and comes back as an AUTH error */
    CHECK(signed_call("not-the-secret", NULL, &json11, &resp, &err) == -1);
    CHECK_INT(err.kind, ERR_AUTH);
    CHECK_STR(err.code, "SignatureDoesNotMatch");
    CHECK_INT(err.http_status, 403);
    CHECK_CONTAINS(err.msg, "config SelectResourceConfig (123456789012/eu-west-1): HTTP 403 "
                            "SignatureDoesNotMatch: ");
    CHECK(strstr(err.msg, "not-the-secret") == NULL);
}

int
main(int argc, char **argv)
{
    int server_stdin = -1;
    pid_t pid;
    char cmd[128];

    if (argc < 3) {
        fprintf(stderr, "usage: %s SERVER_PY PYTHON\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(tls_dir, sizeof(tls_dir), "/tmp/driftsync-http-XXXXXX");
    if (mkdtemp(tls_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    pid = start_server(argv[1], argv[2], argc > 3 ? argv[3] : NULL, &server_stdin);
    if (pid < 0)
        return 2;
    test_basics_and_keepalive();
    test_limits_and_failures();
    test_tls();
    if (argc > 3)
        test_signed_calls();
    close(server_stdin);
    waitpid(pid, NULL, 0);
    snprintf(cmd, sizeof(cmd), "%s/cert.pem", tls_dir);
    unlink(cmd);
    snprintf(cmd, sizeof(cmd), "%s/key.pem", tls_dir);
    unlink(cmd);
    rmdir(tls_dir);
    TEST_END();
}
