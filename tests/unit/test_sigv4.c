/*
 * test_sigv4.c: the SigV4 signer against every published vector
 * (argv[2]/testdata/sigv4/v4, aws-c-auth layout) and our own botocore-made
 * cases (argv[1], see tests/sigv4/make_cases.py), stage by stage in both
 * header and query (presign) mode; then unit checks for what the vectors
 * miss: double encoding of '%' in paths, session tokens, body hashing, the
 * signing-key cache, and bad input, whose messages must never hold a secret.
 *
 * request.txt is parsed here: "METHOD target HTTP/1.1", "Name:value" lines
 * (a line starting with whitespace continues the previous value, kept as
 * "\n<line>" so the signer sees the obs-fold), a blank line, the body. The
 * request-line path goes to the signer verbatim as the wire path.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/err.h"
#include "daemon/util.h"
#include "providers/aws/sigv4.h"
#include "testutil.h"

#define MAX_HEADERS 32

static const char *const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char *const EMPTY_SHA256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct parsed {
    char *raw; /* file contents; the pointers below point into copies */
    char *method;
    char *path;
    char *query;
    struct sigv4_header headers[MAX_HEADERS];
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
    size_t nheaders;
    const char *body;
    size_t body_len;
};

static char *
read_text(const char *dir, const char *file, size_t *ret_len)
{
    char path[1024];
    struct buf b;
    struct err err = {0};

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    buf_init(&b, 16 * 1024 * 1024);
    if (util_read_file(path, &b, &err) < 0) {
        buf_clear(&b);
        return NULL;
    }
    if (ret_len != NULL)
        *ret_len = b.len;
    return buf_steal(&b);
}

static char *
dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p == NULL)
        abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void
parsed_clear(struct parsed *p)
{
    size_t i;

    free(p->raw);
    free(p->method);
    free(p->path);
    free(p->query);
    for (i = 0; i < p->nheaders; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    memset(p, 0, sizeof(*p));
}

/* Returns 0 on success, -1 (with a message on stderr) on a malformed file. */
static int
parse_request(char *raw, size_t len, struct parsed *p)
{
    const char *end = raw + len, *line = raw, *eol, *sp1, *sp2, *q;

    memset(p, 0, sizeof(*p));
    p->raw = raw;
    eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL)
        eol = end;
    sp1 = memchr(line, ' ', (size_t)(eol - line));
    sp2 = eol;
    while (sp2 > line && sp2[-1] != ' ')
        sp2--;
    if (sp1 == NULL || sp2 <= sp1 + 1) {
        fprintf(stderr, "request.txt: bad request line\n");
        return -1;
    }
    sp2--; /* the space before HTTP/1.1 */
    p->method = dupn(line, (size_t)(sp1 - line));
    q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    if (q != NULL) {
        p->path = dupn(sp1 + 1, (size_t)(q - sp1 - 1));
        p->query = dupn(q + 1, (size_t)(sp2 - q - 1));
    } else {
        p->path = dupn(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    }
    line = eol < end ? eol + 1 : end;
    while (line < end) {
        eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL)
            eol = end;
        if (eol == line) { /* blank line: the body follows */
            line = eol + 1;
            p->body = line;
            p->body_len = (size_t)(end - line);
            break;
        }
        if ((*line == ' ' || *line == '\t') && p->nheaders > 0) {
            char *old = p->values[p->nheaders - 1];
            size_t ol = strlen(old), ll = (size_t)(eol - line);
            char *nv = malloc(ol + 1 + ll + 1);

            if (nv == NULL)
                abort();
            memcpy(nv, old, ol);
            nv[ol] = '\n';
            memcpy(nv + ol + 1, line, ll);
            nv[ol + 1 + ll] = '\0';
            free(old);
            p->values[p->nheaders - 1] = nv;
        } else {
            const char *colon = memchr(line, ':', (size_t)(eol - line));

            if (colon == NULL || p->nheaders == MAX_HEADERS) {
                fprintf(stderr, "request.txt: bad header line\n");
                return -1;
            }
            p->names[p->nheaders] = dupn(line, (size_t)(colon - line));
            p->values[p->nheaders] = dupn(colon + 1, (size_t)(eol - colon - 1));
            p->nheaders++;
        }
        line = eol < end ? eol + 1 : end;
    }
    for (size_t i = 0; i < p->nheaders; i++) {
        p->headers[i].name = p->names[i];
        p->headers[i].value = p->values[i];
    }
    return 0;
}

/* The value of the first "Name:" line of a signed-request file (a copy). */
static char *
find_header_line(const char *text, const char *name)
{
    size_t nl = strlen(name);
    const char *line = text;

    while (line != NULL && *line != '\0') {
        const char *eol = strchr(line, '\n');

        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':')
            return dupn(line + nl + 1,
                        eol != NULL ? (size_t)(eol - line - nl - 1) : strlen(line + nl + 1));
        line = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}

/* The query of the request line of a signed-request file, canonicalised
 * (decoded, re-encoded, sorted) so parameter order and raw UTF-8 do not
 * matter. */
static char *
signed_query(const char *text)
{
    const char *eol = strchr(text, '\n'), *q, *sp;
    char *raw, *canon = NULL;
    struct err err = {0};

    if (eol == NULL)
        return NULL;
    q = memchr(text, '?', (size_t)(eol - text));
    sp = eol;
    while (sp > text && *sp != ' ')
        sp--;
    if (q == NULL || sp <= q)
        return NULL;
    raw = dupn(q + 1, (size_t)(sp - q - 1));
    if (sigv4_canonical_query(raw, &canon, &err) < 0)
        fprintf(stderr, "signed query: %s\n", err.msg);
    free(raw);
    return canon;
}

static const char *
added_value(const struct sigv4_result *res, const char *name)
{
    for (size_t i = 0; i < res->nadded; i++) {
        if (strcasecmp(res->added[i].name, name) == 0)
            return res->added[i].value;
    }
    return NULL;
}

/* Checks one case directory in both modes. Returns the number of modes
 * (0..2) that matched the expected files in every stage. */
static int
run_case(const char *dir, const char *name, int *ret_modes)
{
    char cdir[1024];
    char *ctx_text = NULL, *raw = NULL, *want = NULL, *got = NULL;
    size_t raw_len = 0;
    json_t *ctx = NULL;
    json_error_t jerr;
    struct parsed p;
    struct sigv4_credentials creds;
    struct sigv4_params params;
    struct sigv4_request req;
    struct sigv4_result res;
    struct err err = {0};
    int ok_modes = 0, modes = 0;
    const char *ts;
    time_t now;

    memset(&p, 0, sizeof(p));
    snprintf(cdir, sizeof(cdir), "%s/%s", dir, name);
    ctx_text = read_text(cdir, "context.json", NULL);
    raw = read_text(cdir, "request.txt", &raw_len);
    CHECK_MSG(ctx_text != NULL && raw != NULL, "%s: context.json or request.txt missing", name);
    if (ctx_text == NULL || raw == NULL) {
        free(raw);
        goto out;
    }
    ctx = json_loads(ctx_text, 0, &jerr);
    CHECK_MSG(ctx != NULL, "%s: context.json: %s", name, jerr.text);
    if (ctx == NULL || parse_request(raw, raw_len, &p) < 0) {
        CHECK_MSG(0, "%s: unusable case", name);
        if (p.raw == NULL)
            free(raw);
        goto out;
    }
    json_t *c = json_object_get(ctx, "credentials");
    memset(&creds, 0, sizeof(creds));
    creds.access_key_id = json_string_value(json_object_get(c, "access_key_id"));
    creds.secret_access_key = json_string_value(json_object_get(c, "secret_access_key"));
    creds.session_token = json_string_value(json_object_get(c, "token"));
    ts = json_string_value(json_object_get(ctx, "timestamp"));
    CHECK_MSG(ts != NULL && util_time_parse(ts, &now) == 0, "%s: bad timestamp", name);
    memset(&params, 0, sizeof(params));
    params.region = json_string_value(json_object_get(ctx, "region"));
    params.service = json_string_value(json_object_get(ctx, "service"));
    params.now = now;
    params.sign_body = json_is_true(json_object_get(ctx, "sign_body"));
    params.omit_session_token = json_is_true(json_object_get(ctx, "omit_session_token"));
    params.no_normalize_path = json_is_false(json_object_get(ctx, "normalize"));
    params.expires_s = (long)json_integer_value(json_object_get(ctx, "expiration_in_seconds"));

    memset(&req, 0, sizeof(req));
    req.method = p.method;
    req.path = p.path;
    req.query = p.query;
    req.headers = p.headers;
    req.nheaders = p.nheaders;
    req.body = p.body;
    req.body_len = p.body_len;

    /* header mode */
    modes++;
    memset(&res, 0, sizeof(res));
    if (sigv4_sign(&req, &creds, &params, NULL, &res, &err) < 0) {
        CHECK_MSG(0, "%s: sigv4_sign failed: %s", name, err.msg);
    } else {
        int before = test_failed_;
        char *signed_req = read_text(cdir, "header-signed-request.txt", NULL);

        want = read_text(cdir, "header-canonical-request.txt", NULL);
        CHECK_STR(res.canonical_request, want);
        free(want);
        want = read_text(cdir, "header-string-to-sign.txt", NULL);
        CHECK_STR(res.string_to_sign, want);
        free(want);
        want = read_text(cdir, "header-signature.txt", NULL);
        CHECK_STR(res.signature, want);
        free(want);
        want = signed_req != NULL ? find_header_line(signed_req, "Authorization") : NULL;
        CHECK_STR(res.authorization, want);
        free(want);
        want = signed_req != NULL ? find_header_line(signed_req, "X-Amz-Date") : NULL;
        CHECK_STR(added_value(&res, "X-Amz-Date"), want);
        free(want);
        want = signed_req != NULL ? find_header_line(signed_req, "X-Amz-Security-Token") : NULL;
        if (want != NULL || creds.session_token != NULL)
            CHECK_STR(added_value(&res, "X-Amz-Security-Token"), want);
        free(want);
        if (params.sign_body) {
            want = signed_req != NULL ? find_header_line(signed_req, "x-amz-content-sha256") : NULL;
            CHECK_STR(added_value(&res, "x-amz-content-sha256"), want);
            CHECK_STR(res.content_sha256, want);
            free(want);
        }
        CHECK(res.presigned_query == NULL);
        free(signed_req);
        if (test_failed_ == before)
            ok_modes++;
        else
            fprintf(stderr, "  ^ in %s (header mode)\n", name);
        sigv4_result_clear(&res);
    }

    /* query mode (our own cases have it only where botocore can presign) */
    want = read_text(cdir, "query-signature.txt", NULL);
    if (want != NULL) {
        free(want);
        modes++;
        memset(&res, 0, sizeof(res));
        if (sigv4_presign(&req, &creds, &params, NULL, &res, &err) < 0) {
            CHECK_MSG(0, "%s: sigv4_presign failed: %s", name, err.msg);
        } else {
            int before = test_failed_;
            char *signed_req = read_text(cdir, "query-signed-request.txt", NULL);

            want = read_text(cdir, "query-canonical-request.txt", NULL);
            CHECK_STR(res.canonical_request, want);
            free(want);
            want = read_text(cdir, "query-string-to-sign.txt", NULL);
            CHECK_STR(res.string_to_sign, want);
            free(want);
            want = read_text(cdir, "query-signature.txt", NULL);
            CHECK_STR(res.signature, want);
            free(want);
            want = signed_req != NULL ? signed_query(signed_req) : NULL;
            got = NULL;
            if (res.presigned_query != NULL &&
                sigv4_canonical_query(res.presigned_query, &got, &err) < 0)
                got = NULL;
            CHECK_STR(got, want);
            free(got);
            free(want);
            CHECK(res.authorization == NULL);
            CHECK_INT(res.nadded, 0);
            free(signed_req);
            if (test_failed_ == before)
                ok_modes++;
            else
                fprintf(stderr, "  ^ in %s (query mode)\n", name);
            sigv4_result_clear(&res);
        }
    }
out:
    *ret_modes = modes;
    json_decref(ctx);
    free(ctx_text);
    parsed_clear(&p);
    return ok_modes;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every case directory under dir; prints and returns cases that fully
 * passed. */
static int
run_dir(const char *dir, const char *label, int *ret_total)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *names[256];
    size_t n = 0, i;
    int ok_modes = 0, total_modes = 0, ok_cases = 0;

    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (d == NULL) {
        *ret_total = 0;
        return 0;
    }
    while ((de = readdir(d)) != NULL && n < 256) {
        char probe[1024];
        FILE *f;

        if (de->d_name[0] == '.')
            continue;
        snprintf(probe, sizeof(probe), "%s/%s/request.txt", dir, de->d_name);
        f = fopen(probe, "rb");
        if (f == NULL)
            continue;
        fclose(f);
        names[n++] = dupn(de->d_name, strlen(de->d_name));
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (i = 0; i < n; i++) {
        int modes = 0, ok = run_case(dir, names[i], &modes);

        ok_modes += ok;
        total_modes += modes;
        ok_cases += ok == modes && modes > 0;
        free(names[i]);
    }
    printf("%s: %d/%zu cases fully matched (%d/%d header+query stages sets)\n", label, ok_cases, n,
           ok_modes, total_modes);
    *ret_total = (int)n;
    return ok_cases;
}

/* ------------------------------------------------------------------------ */
/* Unit checks beyond the vectors.                                          */
/* ------------------------------------------------------------------------ */

static const struct sigv4_credentials CREDS = {"AKIDEXAMPLE",
                                               "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

static struct sigv4_params
base_params(void)
{
    struct sigv4_params p;

    memset(&p, 0, sizeof(p));
    p.region = "us-east-1";
    p.service = "service";
    p.now = 1440938160; /* 2015-08-30T12:36:00Z */
    p.expires_s = 3600;
    return p;
}

static void
test_paths(void)
{
    static const struct {
        const char *in;
        int normalize;
        const char *want;
    } cases[] = {
        {"/standards/controls/arn%3Aaws%3Asecurityhub%3Aus-east-1", 1,
         "/standards/controls/arn%253Aaws%253Asecurityhub%253Aus-east-1"},
        {"/a%2Fb", 1, "/a%252Fb"},
        {"", 1, "/"},
        {NULL, 1, "/"},
        {"/", 1, "/"},
        {"//", 1, "/"},
        {"/..", 1, "/"},
        {"/../a", 1, "/a"},
        {"/a/b/..", 1, "/a"},
        {"/a/b/../", 1, "/a/"},
        {"/a/./b/.", 1, "/a/b"},
        {"/a//b//", 1, "/a/b/"},
        {"/a/%2E%2E/b", 1, "/a/%252E%252E/b"},
        {"/a b/\xe1\x88\xb4", 1, "/a%20b/%E1%88%B4"},
        {"/-._~AZaz09", 1, "/-._~AZaz09"},
        {"//a/./b/../", 0, "//a/./b/../"},
        {"/a%3A", 0, "/a%253A"},
    };
    struct err err = {0};
    char *out;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = NULL;
        CHECK_MSG(sigv4_canonical_path(cases[i].in, cases[i].normalize, &out, &err) == 0,
                  "path %s: %s", cases[i].in ? cases[i].in : "(null)", err.msg);
        CHECK_STR(out, cases[i].want);
        free(out);
    }
    out = NULL;
    CHECK(sigv4_canonical_path("relative/path", 1, &out, &err) < 0);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "'relative/path' does not start with '/'");
}

static void
test_queries(void)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"", ""},
        {NULL, ""},
        {"b=2&a=2&a=1&c&d=", "a=1&a=2&b=2&c=&d="},
        {"&&a=1&", "a=1"},
        {"k=a+b", "k=a%2Bb"},
        {"k=%2f%3a%7E", "k=%2F%3A~"},
        {"k=a=b=c", "k=a%3Db%3Dc"},
        {"%E1%88%B4=\xe1\x88\xb4", "%E1%88%B4=%E1%88%B4"},
        {"a%20b=1&a-b=2", "a%20b=1&a-b=2"}, /* sorted encoded: '%' < '-' */
        {"Z=1&a=1&_=1&~=1", "Z=1&_=1&a=1&~=1"},
        {"k=%00%FF", "k=%00%FF"},
    };
    struct err err = {0};
    char *out;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = NULL;
        CHECK_MSG(sigv4_canonical_query(cases[i].in, &out, &err) == 0, "query %s: %s",
                  cases[i].in ? cases[i].in : "(null)", err.msg);
        CHECK_STR(out, cases[i].want);
        free(out);
    }
    out = NULL;
    CHECK(sigv4_canonical_query("a=1&b=%zz", &out, &err) < 0);
    CHECK(out == NULL);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "bad percent-escape at byte 6");
    CHECK(sigv4_canonical_query("a=%4", &out, &err) < 0);
    CHECK_CONTAINS(err.msg, "bad percent-escape at byte 2");
    CHECK(sigv4_canonical_query("%=1", &out, &err) < 0);
    CHECK_CONTAINS(err.msg, "bad percent-escape at byte 0");

    out = sigv4_uri_encode("a/b c~", 6, 1, &err);
    CHECK_STR(out, "a/b%20c~");
    free(out);
    out = sigv4_uri_encode("a/b c~", 6, 0, &err);
    CHECK_STR(out, "a%2Fb%20c~");
    free(out);
    out = sigv4_uri_encode("a\0b", 3, 0, &err);
    CHECK_STR(out, "a%00b");
    free(out);
    out = sigv4_uri_encode(NULL, 0, 0, &err);
    CHECK_STR(out, "");
    free(out);
}

/* Security Hub style path with a session token and a signed body: the
 * canonical request must double-encode and sign both extra headers. */
static void
test_token_and_body(void)
{
    struct sigv4_header hdrs[] = {{"Host", "securityhub.us-east-1.amazonaws.com"},
                                  {"Content-Type", "application/json"},
                                  {"User-Agent", "driftsync/0.1"},
                                  {"X-Dup", " one "},
                                  {"x-dup", "two\r\n  three"}};
    struct sigv4_request req = {
        "POST", "/standards/controls/arn%3Aaws%3Asecurityhub", NULL, hdrs, 5, "{}", 2};
    struct sigv4_credentials creds = CREDS;
    struct sigv4_params params = base_params();
    struct sigv4_result res, res2;
    struct err err = {0};

    creds.session_token = "TOKEN/with+special=";
    params.service = "securityhub";
    params.sign_body = 1;
    memset(&res, 0, sizeof(res));
    CHECK(sigv4_sign(&req, &creds, &params, NULL, &res, &err) == 0);
    CHECK_CONTAINS(res.canonical_request, "\n/standards/controls/arn%253Aaws%253Asecurityhub\n");
    CHECK_CONTAINS(res.canonical_request, "\nx-amz-security-token:TOKEN/with+special=\n");
    CHECK_CONTAINS(res.canonical_request, "\nx-dup:one,two three\n");
    /* sha256("{}") */
    CHECK_CONTAINS(
        res.canonical_request,
        "x-amz-content-sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n");
    CHECK_STR(res.signed_headers,
              "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-dup");
    CHECK_STR(res.content_sha256,
              "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK_INT(res.nadded, 3);
    CHECK_STR(added_value(&res, "X-Amz-Date"), "20150830T123600Z");
    CHECK_STR(added_value(&res, "X-Amz-Security-Token"), "TOKEN/with+special=");
    CHECK_STR(res.credential_scope, "20150830/us-east-1/securityhub/aws4_request");
    CHECK_CONTAINS(
        res.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/securityhub/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;"
        "x-dup, Signature=");
    CHECK(strstr(res.canonical_request, "user-agent") == NULL);

    /* omit_session_token: the token is still handed back, but not signed */
    params.omit_session_token = 1;
    memset(&res2, 0, sizeof(res2));
    CHECK(sigv4_sign(&req, &creds, &params, NULL, &res2, &err) == 0);
    CHECK(strstr(res2.canonical_request, "x-amz-security-token") == NULL);
    CHECK_STR(added_value(&res2, "X-Amz-Security-Token"), "TOKEN/with+special=");
    CHECK(strcmp(res.signature, res2.signature) != 0);
    sigv4_result_clear(&res2);
    sigv4_result_clear(&res);
    CHECK(res.canonical_request == NULL && res.nadded == 0);

    /* presign: token in the query, body hash as the payload, no added headers */
    params.omit_session_token = 0;
    memset(&res, 0, sizeof(res));
    CHECK(sigv4_presign(&req, &creds, &params, NULL, &res, &err) == 0);
    CHECK_CONTAINS(res.presigned_query, "&X-Amz-Security-Token=TOKEN%2Fwith%2Bspecial%3D&");
    CHECK_CONTAINS(res.presigned_query, "&X-Amz-Signature=");
    CHECK_CONTAINS(res.presigned_query, res.signature);
    CHECK_CONTAINS(res.canonical_request,
                   "\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK_INT(res.nadded, 0);
    CHECK(res.content_sha256 == NULL);
    sigv4_result_clear(&res);
}

static void
test_bodies(void)
{
    static const unsigned char bin[] = {0x00, 0xff, 0x10, 0x80, 0x00, '\n'};
    struct sigv4_header hdrs[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_request req = {"PUT", "/", NULL, hdrs, 1, NULL, 0};
    struct sigv4_params params = base_params();
    struct sigv4_result res;
    struct err err = {0};

    params.sign_body = 1;
    memset(&res, 0, sizeof(res));
    CHECK(sigv4_sign(&req, &CREDS, &params, NULL, &res, &err) == 0);
    CHECK_STR(res.content_sha256, EMPTY_SHA256);
    CHECK_STR(added_value(&res, "x-amz-content-sha256"), EMPTY_SHA256);
    sigv4_result_clear(&res);

    req.body = bin;
    req.body_len = sizeof(bin);
    memset(&res, 0, sizeof(res));
    CHECK(sigv4_sign(&req, &CREDS, &params, NULL, &res, &err) == 0);
    /* python3 -c 'import hashlib;print(hashlib.sha256(bytes([0,255,16,128,0,10])).hexdigest())' */
    CHECK_STR(res.content_sha256,
              "79e6adeb2223e799e930945f20d92def359192fedbfef6c5380d7f4010c95120");
    sigv4_result_clear(&res);

    /* without sign_body the body is still hashed into the canonical request,
     * and a caller's x-amz-content-sha256 (UNSIGNED-PAYLOAD) wins */
    params.sign_body = 0;
    struct sigv4_header hdrs2[] = {{"Host", "example.amazonaws.com"},
                                   {"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}};
    req.headers = hdrs2;
    req.nheaders = 2;
    memset(&res, 0, sizeof(res));
    CHECK(sigv4_sign(&req, &CREDS, &params, NULL, &res, &err) == 0);
    CHECK_CONTAINS(res.canonical_request, "x-amz-content-sha256:UNSIGNED-PAYLOAD\n");
    CHECK(res.content_sha256 == NULL);
    const char *tail = res.canonical_request != NULL ? strrchr(res.canonical_request, '\n') : NULL;
    CHECK_STR(tail, "\nUNSIGNED-PAYLOAD");
    sigv4_result_clear(&res);
}

static int
sign_with(struct sigv4_key_cache *cache, const struct sigv4_credentials *creds, const char *service,
          time_t now, char sig[65])
{
    struct sigv4_header hdrs[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_request req = {"GET", "/", NULL, hdrs, 1, NULL, 0};
    struct sigv4_params params = base_params();
    struct sigv4_result res;
    struct err err = {0};

    params.service = service;
    params.now = now;
    memset(&res, 0, sizeof(res));
    if (sigv4_sign(&req, creds, &params, cache, &res, &err) < 0)
        return -1;
    memcpy(sig, res.signature, 65);
    sigv4_result_clear(&res);
    return 0;
}

static void
test_key_cache(void)
{
    struct sigv4_key_cache *cache = sigv4_key_cache_new();
    struct sigv4_credentials other = CREDS;
    char a[65], b[65], ref[65];
    const time_t day1 = 1440938160, day2 = day1 + 86400;

    CHECK(cache != NULL);
    CHECK_INT(sigv4_key_cache_entries(cache), 0);
    CHECK(sign_with(NULL, &CREDS, "service", day1, ref) == 0);
    CHECK_STR(ref, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK(sign_with(cache, &CREDS, "service", day1, a) == 0);
    CHECK(sign_with(cache, &CREDS, "service", day1 + 60, b) == 0);
    CHECK_STR(a, ref); /* get-vanilla's signature, derived through the cache */
    CHECK_INT(sigv4_key_cache_derivations(cache), 1);
    CHECK_INT(sigv4_key_cache_entries(cache), 1);

    /* next day: the same identity's slot is replaced, not added */
    CHECK(sign_with(cache, &CREDS, "service", day2, a) == 0);
    CHECK(sign_with(NULL, &CREDS, "service", day2, ref) == 0);
    CHECK_STR(a, ref);
    CHECK_INT(sigv4_key_cache_derivations(cache), 2);
    CHECK_INT(sigv4_key_cache_entries(cache), 1);

    /* rotated secret on the same day must not reuse the old key */
    other.secret_access_key = "another-secret-key";
    CHECK(sign_with(cache, &other, "service", day2, b) == 0);
    CHECK(sign_with(NULL, &other, "service", day2, ref) == 0);
    CHECK_STR(b, ref);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(sigv4_key_cache_derivations(cache), 3);
    CHECK_INT(sigv4_key_cache_entries(cache), 2);

    /* more identities than slots: least recently used goes, results stay right */
    CHECK(sign_with(cache, &CREDS, "config", day2, a) == 0);
    CHECK(sign_with(cache, &CREDS, "securityhub", day2, a) == 0);
    CHECK_INT(sigv4_key_cache_entries(cache), SIGV4_KEY_CACHE_SLOTS);
    CHECK(sign_with(cache, &CREDS, "sts", day2, a) == 0);
    CHECK(sign_with(NULL, &CREDS, "sts", day2, ref) == 0);
    CHECK_STR(a, ref);
    CHECK_INT(sigv4_key_cache_entries(cache), SIGV4_KEY_CACHE_SLOTS);
    CHECK_INT(sigv4_key_cache_derivations(cache), 6);
    /* "service" with CREDS (used longest ago) was evicted: derived again */
    CHECK(sign_with(cache, &CREDS, "service", day2, a) == 0);
    CHECK_INT(sigv4_key_cache_derivations(cache), 7);
    /* "sts" is still there */
    CHECK(sign_with(cache, &CREDS, "sts", day2, a) == 0);
    CHECK_INT(sigv4_key_cache_derivations(cache), 7);

    sigv4_key_cache_free(cache);
    sigv4_key_cache_free(NULL);
    CHECK_INT(sigv4_key_cache_entries(NULL), 0);
}

struct bad_case {
    const char *what;
    const char *want_msg;
    int presign;
};

/* Each case breaks one input; the call must fail with a message naming the
 * problem, leave *ret untouched, and never mention the secret or token. */
static void
check_bad(const char *what, const struct sigv4_request *req, const struct sigv4_credentials *creds,
          const struct sigv4_params *params, int presign, enum err_kind kind, const char *want)
{
    struct sigv4_result res;
    struct err err = {0};
    int rc;

    memset(&res, 0, sizeof(res));
    res.nadded = 77; /* sentinel: must survive a failure */
    rc = presign ? sigv4_presign(req, creds, params, NULL, &res, &err)
                 : sigv4_sign(req, creds, params, NULL, &res, &err);
    CHECK_MSG(rc == -1, "%s: accepted", what);
    CHECK_MSG(err.kind == kind, "%s: kind %d, want %d (%s)", what, err.kind, kind, err.msg);
    CHECK_MSG(strstr(err.msg, want) != NULL, "%s: message [%s] lacks [%s]", what, err.msg, want);
    CHECK_MSG(strstr(err.msg, SECRET) == NULL, "%s: secret in message", what);
    CHECK_MSG(strstr(err.msg, "SECRET-TOKEN") == NULL, "%s: token in message", what);
    CHECK_MSG(res.nadded == 77 && res.canonical_request == NULL, "%s: ret touched", what);
}

static void
test_bad_inputs(void)
{
    struct sigv4_header good[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_request req = {"GET", "/", "a=1", good, 1, NULL, 0}, r;
    struct sigv4_credentials creds = {"AKIDEXAMPLE", SECRET, "SECRET-TOKEN"}, c;
    struct sigv4_params params = base_params(), p;

    r = req;
    r.method = NULL;
    check_bad("NULL method", &r, &creds, &params, 0, ERR_CONFIG, "HTTP method is missing");
    r.method = "";
    check_bad("empty method", &r, &creds, &params, 0, ERR_CONFIG, "HTTP method is missing");
    r.method = "GE T";
    check_bad("bad method", &r, &creds, &params, 0, ERR_CONFIG, "'GE T' has an invalid");

    r = req;
    r.nheaders = 0;
    check_bad("no Host", &r, &creds, &params, 0, ERR_CONFIG, "no Host header");
    check_bad("no Host (presign)", &r, &creds, &params, 1, ERR_CONFIG, "no Host header");
    struct sigv4_header twohosts[] = {{"Host", "a"}, {"host", "b"}};
    r.headers = twohosts;
    r.nheaders = 2;
    check_bad("two Hosts", &r, &creds, &params, 0, ERR_CONFIG, "2 Host headers");
    struct sigv4_header emptyhost[] = {{"Host", "   "}};
    r.headers = emptyhost;
    r.nheaders = 1;
    check_bad("empty Host", &r, &creds, &params, 0, ERR_CONFIG, "Host is empty");
    struct sigv4_header inject[] = {{"Host", "h"}, {"X-A", "v\r\nX-Evil: 1"}};
    r.headers = inject;
    r.nheaders = 2;
    check_bad("header injection", &r, &creds, &params, 0, ERR_CONFIG,
              "header 1 ('X-A'): line break at byte 1");
    struct sigv4_header ctl[] = {{"Host", "h"}, {"X-A", "v\x01"}};
    r.headers = ctl;
    check_bad("control char", &r, &creds, &params, 0, ERR_CONFIG, "control character 0x01");
    struct sigv4_header badname[] = {{"Host", "h"}, {"X A", "v"}};
    r.headers = badname;
    check_bad("bad header name", &r, &creds, &params, 0, ERR_CONFIG,
              "header 1 name 'X A' has an invalid character at byte 1");
    struct sigv4_header nullval[] = {{"Host", "h"}, {"X-A", NULL}};
    r.headers = nullval;
    check_bad("NULL header value", &r, &creds, &params, 0, ERR_CONFIG, "('X-A') has no value");
    struct sigv4_header authz[] = {{"Host", "h"}, {"Authorization", "x"}};
    r.headers = authz;
    check_bad("caller Authorization", &r, &creds, &params, 0, ERR_CONFIG, "set by the signer");
    struct sigv4_header date[] = {{"Host", "h"}, {"X-Amz-Date", "20150830T123600Z"}};
    r.headers = date;
    check_bad("caller X-Amz-Date", &r, &creds, &params, 0, ERR_CONFIG, "set by the signer");
    r.headers = NULL;
    r.nheaders = 3;
    check_bad("NULL header list", &r, &creds, &params, 0, ERR_CONFIG, "list is NULL");

    r = req;
    r.query = "a=1&b=%zz";
    check_bad("bad escape", &r, &creds, &params, 0, ERR_CONFIG, "query: bad percent-escape");
    r.query = "X-Amz-Signature=abc";
    check_bad("presign reserved key", &r, &creds, &params, 1, ERR_CONFIG,
              "'X-Amz-Signature' is set by the presigner");
    r = req;
    r.path = "no-slash";
    check_bad("relative path", &r, &creds, &params, 0, ERR_CONFIG, "does not start with '/'");
    r = req;
    r.body_len = 4;
    check_bad("NULL body", &r, &creds, &params, 0, ERR_CONFIG, "body is NULL but body_len is 4");

    p = params;
    p.expires_s = 0;
    check_bad("expires 0", &req, &creds, &p, 1, ERR_CONFIG, "presign expiry 0 s is outside");
    p.expires_s = 604801;
    check_bad("expires too big", &req, &creds, &p, 1, ERR_CONFIG, "604801 s is outside 1..604800");
    p = params;
    p.region = "us/east-1";
    check_bad("bad region", &req, &creds, &p, 0, ERR_CONFIG, "region 'us/east-1' has an invalid");
    p.region = NULL;
    check_bad("NULL region", &req, &creds, &p, 0, ERR_CONFIG, "region is missing");
    p = params;
    p.service = "";
    check_bad("empty service", &req, &creds, &p, 0, ERR_CONFIG, "service is missing");
    p = params;
    p.now = -1;
    check_bad("negative time", &req, &creds, &p, 0, ERR_CONFIG, "outside 1970..9999");

    c = creds;
    c.secret_access_key = "";
    check_bad("empty secret", &req, &c, &params, 0, ERR_AUTH, "secret access key is missing");
    c = creds;
    c.access_key_id = NULL;
    check_bad("NULL akid", &req, &c, &params, 0, ERR_AUTH, "access key id is missing");
    c.access_key_id = "AKID/EVIL";
    check_bad("bad akid", &req, &c, &params, 0, ERR_AUTH, "invalid character at byte 4");
    c = creds;
    c.session_token = "SECRET-TOKEN\r\nX-Evil: 1";
    check_bad("token injection", &req, &c, &params, 0, ERR_AUTH,
              "session token has a control character at byte 12");
    check_bad("NULL request", NULL, &creds, &params, 0, ERR_INTERNAL, "is NULL");
    check_bad("NULL creds", &req, NULL, &params, 1, ERR_INTERNAL, "is NULL");
}

int
main(int argc, char **argv)
{
    char vdir[1024];
    int total = 0, ok;

    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    snprintf(vdir, sizeof(vdir), "%s/testdata/sigv4/v4", argv[2]);
    ok = run_dir(vdir, "published vectors", &total);
    CHECK_MSG(total >= 38 && ok == total, "vectors: %d of %d passed", ok, total);
    ok = run_dir(argv[1], "own botocore cases", &total);
    CHECK_MSG(total >= 6 && ok == total, "own cases: %d of %d passed", ok, total);

    test_paths();
    test_queries();
    test_token_and_body();
    test_bodies();
    test_key_cache();
    test_bad_inputs();
    TEST_END();
}
