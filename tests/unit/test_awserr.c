/*
 * test_awserr.c: AWS error answers into struct err, for every wire shape our
 * services use (JSON 1.1 __type, REST-JSON header + body, query XML, EC2
 * XML) and for bodies that are empty, truncated, binary or hostile. Checks
 * the message format, kind, code and HTTP status.
 */
#include <stdio.h>
#include <string.h>

#include "providers/aws/aws.h"
#include "testutil.h"

struct ecase {
    int line;
    long status;
    const char *error_type; /* x-amzn-ErrorType */
    const char *body;
    const char *request_id;
    enum err_kind kind;
    const char *code;
    const char *msg; /* the whole message */
};

static void
run(const struct ecase *c)
{
    struct err err;
    int r;

    err_clear(&err);
    r = aws_error_from_http("securityhub", "GetFindings", "123456789012", "eu-west-1", c->status,
                            c->error_type, c->body, c->body ? strlen(c->body) : 0, c->request_id,
                            &err);
    CHECK_INT(r, -1);
    CHECK_MSG(err.kind == c->kind, "line %d: kind %s, want %s", c->line, err_kind_name(err.kind),
              err_kind_name(c->kind));
    CHECK_MSG(strcmp(err.code, c->code) == 0, "line %d: code [%s], want [%s]", c->line, err.code,
              c->code);
    CHECK_MSG(err.http_status == c->status, "line %d: status %d", c->line, err.http_status);
    CHECK_MSG(strcmp(err.msg, c->msg) == 0, "line %d:\n  got:  [%s]\n  want: [%s]", c->line,
              err.msg, c->msg);
}

#define P "securityhub GetFindings (123456789012/eu-west-1): "

static const struct ecase cases[] = {
    /* JSON 1.1 */
    {__LINE__, 400, NULL,
     "{\"__type\":\"com.amazonaws.securityhub#InvalidInputException\",\"message\":\"bad "
     "filter\"}",
     "r-1", ERR_REMOTE, "InvalidInputException",
     P "HTTP 400 InvalidInputException: bad filter (request id r-1)"},
    {__LINE__, 400, NULL, "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}",
     NULL, ERR_THROTTLED, "ThrottlingException", P "HTTP 400 ThrottlingException: Rate exceeded"},
    {__LINE__, 400, NULL, "{\"__type\":\"ExpiredTokenException\",\"message\":\"expired\"}", "",
     ERR_AUTH, "ExpiredTokenException", P "HTTP 400 ExpiredTokenException: expired"},
    {__LINE__, 403, NULL,
     "{\"__type\":\"AccessDeniedException\",\"Message\":\"User: arn:aws:iam::1:user/x is not "
     "authorized\"}",
     "abc", ERR_AUTH, "AccessDeniedException",
     P "HTTP 403 AccessDeniedException: User: arn:aws:iam::1:user/x is not authorized "
       "(request id abc)"},
    {__LINE__, 400, NULL, "{\"__type\":\"UnrecognizedClientException\"}", NULL, ERR_AUTH,
     "UnrecognizedClientException", P "HTTP 400 UnrecognizedClientException"},
    {__LINE__, 500, NULL, "{\"__type\":\"InternalFailure\",\"message\":\"oops\"}", NULL,
     ERR_TRANSIENT, "InternalFailure", P "HTTP 500 InternalFailure: oops"},
    {__LINE__, 400, NULL, "{\"__type\":\"aws.protocol#LimitExceededException:http://x/\"}", NULL,
     ERR_THROTTLED, "LimitExceededException", P "HTTP 400 LimitExceededException"},
    {__LINE__, 400, NULL, "{\"__type\":\"RequestTimeoutException\"}", NULL, ERR_TRANSIENT,
     "RequestTimeoutException", P "HTTP 400 RequestTimeoutException"},
    /* REST-JSON: the header wins over the body */
    {__LINE__, 429, "TooManyRequestsException:http://internal.amazon.com/coral/",
     "{\"code\":\"Other\",\"message\":\"slow down\"}", "req-9", ERR_THROTTLED,
     "TooManyRequestsException",
     P "HTTP 429 TooManyRequestsException: slow down (request id req-9)"},
    {__LINE__, 404, NULL, "{\"Code\":\"ResourceNotFoundException\",\"Message\":\"no hub\"}", NULL,
     ERR_REMOTE, "ResourceNotFoundException", P "HTTP 404 ResourceNotFoundException: no hub"},
    {__LINE__, 400, "InvalidAccessException", "", NULL, ERR_REMOTE, "InvalidAccessException",
     P "HTTP 400 InvalidAccessException"},
    /* query-protocol XML */
    {__LINE__, 403, NULL,
     "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n<Error><Type>Sender"
     "</Type><Code>SignatureDoesNotMatch</Code>\n<Message>The request signature we calculated "
     "does not match</Message></Error><RequestId>x-1</RequestId></ErrorResponse>",
     NULL, ERR_AUTH, "SignatureDoesNotMatch",
     P "HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match "
       "(request id x-1)"},
    {__LINE__, 400, NULL,
     "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
     "<RequestId>x-2</RequestId></ErrorResponse>",
     "from-header", ERR_THROTTLED, "Throttling",
     P "HTTP 400 Throttling: Rate exceeded (request id from-header)"},
    {__LINE__, 400, NULL,
     "<ErrorResponse><Error><Code>ValidationError</Code><Message>1 validation error &amp; "
     "more</Message></Error></ErrorResponse>",
     NULL, ERR_REMOTE, "ValidationError", P "HTTP 400 ValidationError: 1 validation error & more"},
    /* EC2 style */
    {__LINE__, 503, NULL,
     "<?xml version=\"1.0\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>"
     "<Message>Request limit exceeded.</Message></Error></Errors><RequestID>e-1</RequestID>"
     "</Response>",
     NULL, ERR_THROTTLED, "RequestLimitExceeded",
     P "HTTP 503 RequestLimitExceeded: Request limit exceeded. (request id e-1)"},
    /* no usable body */
    {__LINE__, 503, NULL, "", NULL, ERR_TRANSIENT, "", P "HTTP 503 empty error body"},
    {__LINE__, 502, NULL, NULL, "gw", ERR_TRANSIENT, "",
     P "HTTP 502 empty error body (request id gw)"},
    {__LINE__, 504, NULL, "<html><body>Gateway Timeout</body>", NULL, ERR_TRANSIENT, "",
     P "HTTP 504 unparseable error body: '<html><body>Gateway Timeout</body>'"},
    {__LINE__, 500, NULL, "{\"__type\":\"InternalFail", NULL, ERR_TRANSIENT, "",
     P "HTTP 500 unparseable error body: '{\"__type\":\"InternalFail'"},
    {__LINE__, 400, NULL, "oops\x01\x1b[31mred\r\nline", NULL, ERR_REMOTE, "",
     P "HTTP 400 unparseable error body: 'oops  [31mred  line'"},
    {__LINE__, 429, NULL, "{}", NULL, ERR_THROTTLED, "",
     P "HTTP 429 error body without a code: '{}'"},
    {__LINE__, 400, NULL, "{\"message\":\"only a message\"}", NULL, ERR_REMOTE, "",
     P "HTTP 400 only a message"},
    {__LINE__, 403, NULL, "[1,2]", NULL, ERR_REMOTE, "",
     P "HTTP 403 unparseable error body: '[1,2]'"},
    /* hostile code and message */
    {__LINE__, 400, NULL, "{\"__type\":\"Bad Code\\n<x>\",\"message\":\"a\\u0001b\\tc\\u001b\"}",
     NULL, ERR_REMOTE, "Bad?Code??x?", P "HTTP 400 Bad?Code??x?: a b c"},
    /* jansson refuses \u0000 (no JSON_ALLOW_NUL): treated as unparseable, not cut short */
    {__LINE__, 400, NULL, "{\"__type\":\"A\\u0000B\"}", NULL, ERR_REMOTE, "",
     P "HTTP 400 unparseable error body: '{\"__type\":\"A\\u0000B\"}'"},
};

static void
test_long_body(void)
{
    char body[4000];
    struct err err;

    memset(body, 'A', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    aws_error_from_response("config", "SelectResourceConfig", NULL, "us-east-1", 502, body,
                            strlen(body), NULL, &err);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_CONTAINS(err.msg, "config SelectResourceConfig (us-east-1): HTTP 502 unparseable error "
                            "body: 'AAAA");
    CHECK_CONTAINS(err.msg, "AAA...'");
    CHECK(strlen(err.msg) < 300);

    /* a huge message is cut, and the request id still fits */
    {
        char json[3000];
        int n = snprintf(json, sizeof(json), "{\"__type\":\"ValidationException\",\"message\":\"");
        memset(json + n, 'm', 2000);
        snprintf(json + n + 2000, sizeof(json) - (size_t)n - 2000, "\"}");
        aws_error_from_response("config", "SelectResourceConfig", "1", "us-east-1", 400, json,
                                strlen(json), "rid-1", &err);
        CHECK_INT(err.kind, ERR_REMOTE);
        CHECK_STR(err.code, "ValidationException");
        CHECK_CONTAINS(err.msg, "(request id rid-1)");
    }
    CHECK(aws_error_code_is_throttle("SlowDown"));
    CHECK(aws_error_code_is_throttle("EC2ThrottledException"));
    CHECK(!aws_error_code_is_throttle("AccessDenied"));
    CHECK(!aws_error_code_is_throttle(""));
    CHECK(!aws_error_code_is_throttle(NULL));
}

int
main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run(&cases[i]);
    test_long_body();
    TEST_END();
}
