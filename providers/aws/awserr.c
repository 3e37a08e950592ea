/*
 * awserr.c: turns a non-2xx AWS answer into struct err.
 *
 * Three wire shapes exist for our services: JSON 1.1 (`__type`, possibly
 * "com.amazon...#Code"), REST-JSON (the x-amzn-ErrorType header
 * "Code:http://...", then `code`/`Code` in the body) and query/XML
 * (<ErrorResponse><Error><Code>, or EC2-style <Response><Errors><Error>).
 * The kind decides what the caller does next: THROTTLED for throttling codes
 * and 429, AUTH for credential and permission refusals, TRANSIENT for 5xx
 * and request timeouts, REMOTE for everything else (validation, not found).
 *
 * The body is untrusted: the code is reduced to name characters, the message
 * has control characters replaced and is cut to fit, and an unparseable body
 * is quoted only by its first bytes, sanitised. Nothing from the request
 * (headers, query) is ever part of the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "providers/aws/aws.h"
#include "providers/aws/xml.h"

#define SNIPPET_MAX 96

static const char *const throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
};

static const char *const auth_codes[] = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "AuthFailure",
    "NotAuthorized",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "InvalidAccessKeyId",
};

/* Codes botocore's standard retry mode treats as transient whatever the status. */
static const char *const transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

static int
in_list(const char *code, const char *const *list, size_t n)
{
    if (code == NULL || code[0] == '\0')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(code, list[i]) == 0)
            return 1;
    }
    return 0;
}

#define IN_LIST(code, list) in_list((code), (list), sizeof(list) / sizeof((list)[0]))

int
aws_error_code_is_throttle(const char *code)
{
    return IN_LIST(code, throttle_codes);
}

/* "prefix#Code:http://..." -> "Code", reduced to name characters. */
static void
clean_code(const char *in, size_t inlen, char *out, size_t outsz)
{
    const char *p = in, *end = in + inlen, *q;
    size_t n = 0;

    q = memchr(p, ':', (size_t)(end - p));
    if (q != NULL)
        end = q;
    for (q = p; q < end; q++) {
        if (*q == '#')
            p = q + 1;
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (; p < end && n + 1 < outsz; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '?';
    }
    out[n] = '\0';
}

/* Copies text with control characters replaced and surrounding space trimmed. */
static void
clean_text(const char *in, size_t inlen, char *out, size_t outsz)
{
    size_t n = 0;

    while (inlen > 0 && (unsigned char)in[0] <= ' ') {
        in++;
        inlen--;
    }
    while (inlen > 0 && (unsigned char)in[inlen - 1] <= ' ')
        inlen--;
    for (size_t i = 0; i < inlen && n + 1 < outsz; i++) {
        unsigned char c = (unsigned char)in[i];
        out[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[n] = '\0';
}

static const char *
json_str(json_t *obj, const char *const *keys, size_t nkeys)
{
    for (size_t i = 0; i < nkeys; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        if (json_is_string(v))
            return json_string_value(v);
    }
    return NULL;
}

static void
parse_json(const char *body, size_t len, char *code, size_t codesz, char *msg, size_t msgsz,
           int *parsed)
{
    static const char *const code_keys[] = {"__type", "code", "Code"};
    static const char *const msg_keys[] = {"message", "Message", "errorMessage"};
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *obj;
    const char *s;

    if (!json_is_object(root))
        goto out;
    *parsed = 1;
    obj = root;
    /* query-compatible JSON services nest {"Error": {"Code": ..., "Message": ...}} */
    if (json_is_object(json_object_get(root, "Error")))
        obj = json_object_get(root, "Error");
    s = json_str(obj, code_keys, 3);
    if (s != NULL && code[0] == '\0')
        clean_code(s, strlen(s), code, codesz);
    s = json_str(obj, msg_keys, 3);
    if (s != NULL)
        clean_text(s, strlen(s), msg, msgsz);
out:
    json_decref(root);
}

static void
parse_xml(const char *body, size_t len, char *code, size_t codesz, char *msg, size_t msgsz,
          char *reqid, size_t reqidsz, int *parsed)
{
    struct err xerr;
    char *s = NULL;
    int r;

    err_clear(&xerr);
    r = xml_find_text(body, len, "//Error/Code", &s, &xerr);
    if (r < 0)
        return;
    *parsed = 1;
    if (r == 1 && code[0] == '\0')
        clean_code(s, strlen(s), code, codesz);
    free(s);
    s = NULL;
    if (xml_find_text(body, len, "//Error/Message", &s, &xerr) == 1)
        clean_text(s, strlen(s), msg, msgsz);
    free(s);
    s = NULL;
    if (reqid[0] == '\0' && (xml_find_text(body, len, "//RequestId", &s, &xerr) == 1 ||
                             xml_find_text(body, len, "//RequestID", &s, &xerr) == 1))
        clean_text(s, strlen(s), reqid, reqidsz);
    free(s);
}

int
aws_error_from_http(const char *service, const char *operation, const char *account,
                    const char *region, long status, const char *error_type, const char *body,
                    size_t len, const char *request_id, struct err *err)
{
    char code[64] = "";
    char msg[320] = "";
    char reqid[80] = "";
    char where[160];
    char tail[110] = "";
    char detail[400];
    enum err_kind kind;
    size_t i = 0;
    int parsed = 0;

    if (error_type != NULL && error_type[0] != '\0')
        clean_code(error_type, strlen(error_type), code, sizeof(code));
    if (request_id != NULL)
        clean_text(request_id, strlen(request_id), reqid, sizeof(reqid));
    if (body == NULL)
        len = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i < len && body[i] == '{')
        parse_json(body, len, code, sizeof(code), msg, sizeof(msg), &parsed);
    else if (i < len && body[i] == '<')
        parse_xml(body, len, code, sizeof(code), msg, sizeof(msg), reqid, sizeof(reqid), &parsed);

    if (IN_LIST(code, throttle_codes) || status == 429)
        kind = ERR_THROTTLED;
    else if (IN_LIST(code, auth_codes))
        kind = ERR_AUTH;
    else if (status >= 500 || IN_LIST(code, transient_codes))
        kind = ERR_TRANSIENT;
    else
        kind = ERR_REMOTE;

    if (account != NULL && account[0] != '\0')
        snprintf(where, sizeof(where), "%s %s (%s/%s)", service ? service : "?",
                 operation ? operation : "?", account, region ? region : "?");
    else
        snprintf(where, sizeof(where), "%s %s (%s)", service ? service : "?",
                 operation ? operation : "?", region ? region : "?");
    if (reqid[0] != '\0')
        snprintf(tail, sizeof(tail), " (request id %s)", reqid);

    if (code[0] != '\0') {
        snprintf(detail, sizeof(detail), "%s%s%s", code, msg[0] ? ": " : "", msg);
    } else if (parsed && msg[0] != '\0') {
        snprintf(detail, sizeof(detail), "%s", msg);
    } else if (len == 0) {
        snprintf(detail, sizeof(detail), "empty error body");
    } else {
        char snip[SNIPPET_MAX + 1];
        clean_text(body, len < SNIPPET_MAX ? len : SNIPPET_MAX, snip, sizeof(snip));
        snprintf(detail, sizeof(detail), "%s: '%s%s'",
                 parsed ? "error body without a code" : "unparseable error body", snip,
                 len > SNIPPET_MAX ? "..." : "");
    }
    err_set(err, kind, "%s: HTTP %ld %s%s", where, status, detail, tail);
    if (err != NULL) {
        err->http_status = (int)status;
        memcpy(err->code, code, sizeof(err->code));
    }
    return -1;
}

int
aws_error_from_response(const char *service, const char *operation, const char *account,
                        const char *region, long status, const char *body, size_t len,
                        const char *request_id, struct err *err)
{
    return aws_error_from_http(service, operation, account, region, status, NULL, body, len,
                               request_id, err);
}
