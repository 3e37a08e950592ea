/*
 * test_xml.c: the strict XML reader. Good documents (an STS answer and both
 * AWS error shapes from tests/data/xml), entities, character references,
 * CDATA, comments, prefixes, and every refusal: each tests/data/xml/bad/X.xml
 * must fail with the message in X.err (which names the byte offset).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/xml.h"
#include "testutil.h"

static const char *data_dir;

static char *
load(const char *name, size_t *len)
{
    char path[1024];
    struct buf b;
    struct err err;

    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    buf_init(&b, 1 << 20);
    if (util_read_file(path, &b, &err) < 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, err.msg);
        buf_clear(&b);
        return NULL;
    }
    *len = b.len;
    return buf_steal(&b);
}

/* Expects xml_find_text to find path with text want (NULL: not found). */
static void
expect_text(const char *doc, size_t len, const char *path, const char *want, int line)
{
    struct err err;
    char *got = NULL;
    int r;

    err_clear(&err);
    r = xml_find_text(doc, len, path, &got, &err);
    if (want == NULL) {
        CHECK_MSG(r == 0, "line %d: %s: want not found, got %d (%s)", line, path, r, err.msg);
    } else {
        CHECK_MSG(r == 1, "line %d: %s: want found, got %d (%s)", line, path, r, err.msg);
        if (r == 1)
            CHECK_STR(got, want);
    }
    free(got);
}

#define TEXT(doc, path, want) expect_text((doc), strlen(doc), (path), (want), __LINE__)

static void
expect_bad(const char *doc, size_t len, const char *want_msg, int line)
{
    struct err err;
    char *got = NULL;
    int r;

    err_clear(&err);
    r = xml_find_text(doc, len, "//a", &got, &err);
    CHECK_MSG(r == -1, "line %d: want failure for [%.60s], got %d", line, doc, r);
    if (r == -1) {
        CHECK_INT(err.kind, ERR_REMOTE);
        CHECK_CONTAINS(err.msg, want_msg);
    }
    free(got);
}

#define BAD(doc, want) expect_bad((doc), strlen(doc), (want), __LINE__)

static void
test_sts_answer(void)
{
    size_t len = 0;
    char *doc = load("assume-role.xml", &len);

    CHECK(doc != NULL);
    if (doc == NULL)
        return;
    expect_text(doc, len, "AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId",
                "ASIAIOSFODNN7EXAMPLE", __LINE__);
    expect_text(doc, len, "AssumeRoleResponse/AssumeRoleResult/Credentials/Expiration",
                "2019-11-09T13:34:41Z", __LINE__);
    expect_text(
        doc, len, "//SessionToken",
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXm"
        "xfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy"
        "0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64l"
        "IZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
        __LINE__);
    expect_text(doc, len, "//AssumedRoleUser/Arn",
                "arn:aws:sts::123456789012:assumed-role/demo/John", __LINE__);
    expect_text(doc, len, "//ResponseMetadata/RequestId", "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
                __LINE__);
    /* absolute paths start at the root: a partial path does not match */
    expect_text(doc, len, "AssumeRoleResult/Credentials/AccessKeyId", NULL, __LINE__);
    expect_text(doc, len, "AssumeRoleResponse/Credentials", NULL, __LINE__);
    expect_text(doc, len, "//Nope", NULL, __LINE__);
    /* truncating the real answer anywhere inside the root must fail */
    for (size_t cut = 100; cut < len - 2; cut += 97) {
        struct err err;
        char *got = NULL;
        int r = xml_find_text(doc, cut, "//AccessKeyId", &got, &err);
        CHECK_MSG(r == -1, "cut at %zu accepted", cut);
        free(got);
    }
    free(doc);
}

static void
test_error_docs(void)
{
    size_t len = 0;
    char *doc = load("error-response.xml", &len);

    CHECK(doc != NULL);
    if (doc != NULL) {
        expect_text(doc, len, "ErrorResponse/Error/Code", "ExpiredToken", __LINE__);
        expect_text(doc, len, "//Error/Message",
                    "The security token included in the request is expired", __LINE__);
        expect_text(doc, len, "//RequestId", "4f0d7a5e-2a1c-4a9b-9c55-0d3e8a6c1b11", __LINE__);
        free(doc);
    }
    doc = load("ec2-error.xml", &len);
    CHECK(doc != NULL);
    if (doc != NULL) {
        expect_text(doc, len, "Response/Errors/Error/Code", "RequestLimitExceeded", __LINE__);
        expect_text(doc, len, "//RequestID", "ea966190-f9aa-478e-9ede-example", __LINE__);
        free(doc);
    }
}

static void
test_features(void)
{
    TEXT("<a>&lt;&gt;&amp;&quot;&apos;</a>", "a", "<>&\"'");
    TEXT("<a>&#65;&#x42;&#x3b1;&#x20AC;&#x1F600;</a>", "a",
         "AB\xce\xb1\xe2\x82\xac\xf0\x9f\x98\x80");
    TEXT("<a>x<![CDATA[<b>&amp;]]]]>y</a>", "a", "x<b>&amp;]]y");
    TEXT("<a>1<!-- <b>no</b> -->2<?pi stuff?>3</a>", "a", "123");
    TEXT("<a><b/><b>second</b></a>", "a/b", "");
    TEXT("<a><c><b>deep</b></c><b>top</b></a>", "a/b", "top");
    TEXT("<a><c><b>deep</b></c><b>top</b></a>", "//b", "deep");
    TEXT("<s:Envelope xmlns:s=\"u\"><s:Body>v</s:Body></s:Envelope>", "Envelope/Body", "v");
    TEXT("<a x='1' y = \"&amp;&#60;\" >t</a >", "a", "t");
    TEXT("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- c -->\n<a>bom</a>\n<!-- after -->\n", "a",
         "bom");
    TEXT("<a>line1\r\n\tline2 ] ]> </a>", "a", "line1\r\n\tline2 ] ]> ");
    TEXT("<a>x</a>", "b", NULL);
    TEXT("<a><b>1</b><b>2</b></a>", "a/b", "1");
}

static void
test_limits(void)
{
    struct buf b;
    struct err err;
    char *got = NULL;
    int r;

    /* 64 levels are fine, 65 are not */
    buf_init(&b, 0);
    for (int i = 0; i < 64; i++)
        CHECK(buf_puts(&b, "<a>", &err) == 0);
    for (int i = 0; i < 64; i++)
        CHECK(buf_puts(&b, "</a>", &err) == 0);
    r = xml_find_text(b.data, b.len, "//a", &got, &err);
    CHECK_INT(r, 1);
    free(got);
    got = NULL;
    buf_clear(&b);
    for (int i = 0; i < 65; i++)
        CHECK(buf_puts(&b, "<a>", &err) == 0);
    for (int i = 0; i < 65; i++)
        CHECK(buf_puts(&b, "</a>", &err) == 0);
    r = xml_find_text(b.data, b.len, "//a", &got, &err);
    CHECK_INT(r, -1);
    CHECK_CONTAINS(err.msg, "byte offset 192: elements nested too deeply (limit 64)");
    buf_clear(&b);

    /* a size beyond the cap is refused before parsing */
    {
        size_t big = (size_t)4 * 1024 * 1024 + 1;
        char *doc = malloc(big);
        CHECK(doc != NULL);
        if (doc != NULL) {
            memset(doc, ' ', big);
            memcpy(doc, "<a>", 3);
            r = xml_find_text(doc, big, "a", &got, &err);
            CHECK_INT(r, -1);
            CHECK_CONTAINS(err.msg, "exceeds the 4194304-byte limit");
            free(doc);
        }
    }
    /* NUL inside the document */
    r = xml_find_text("<a>x\0y</a>", 10, "a", &got, &err);
    CHECK_INT(r, -1);
    CHECK_CONTAINS(err.msg, "byte offset 4: NUL byte");
    /* bad paths are the caller's bug */
    r = xml_find_text("<a/>", 4, "a//b", &got, &err);
    CHECK_INT(r, -1);
    CHECK_INT(err.kind, ERR_INTERNAL);
    r = xml_find_text("<a/>", 4, "", &got, &err);
    CHECK_INT(r, -1);
}

static void
test_bad_files(void)
{
    char dir[1024];
    DIR *d;
    struct dirent *de;
    int n = 0;

    snprintf(dir, sizeof(dir), "%s/bad", data_dir);
    d = opendir(dir);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        char name[512], errname[512];
        size_t dlen = 0, elen = 0;
        char *doc, *want;

        if (nl < 5 || strcmp(de->d_name + nl - 4, ".xml") != 0)
            continue;
        snprintf(name, sizeof(name), "bad/%s", de->d_name);
        snprintf(errname, sizeof(errname), "bad/%.*s.err", (int)(nl - 4), de->d_name);
        doc = load(name, &dlen);
        want = load(errname, &elen);
        CHECK_MSG(doc != NULL && want != NULL, "%s needs a readable .err beside it", name);
        if (doc != NULL && want != NULL) {
            struct err err;
            char *got = NULL;
            int r;

            while (elen > 0 && (want[elen - 1] == '\n'))
                want[--elen] = '\0';
            err_clear(&err);
            r = xml_find_text(doc, dlen, "//a", &got, &err);
            CHECK_MSG(r == -1, "%s: accepted", name);
            CHECK_MSG(strstr(err.msg, want) != NULL, "%s: got [%s], want [%s]", name, err.msg,
                      want);
            free(got);
            n++;
        }
        free(doc);
        free(want);
    }
    closedir(d);
    CHECK_MSG(n >= 20, "only %d bad documents found", n);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [SHARED_DIR]\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    test_sts_answer();
    test_error_docs();
    test_features();
    test_limits();
    test_bad_files();
    BAD("<a><b></a>", "byte offset 6: end tag does not match the open element");
    BAD("<a", "document ends inside a start tag");
    BAD("<a>&#xZZ;</a>", "byte offset 3: bad digit in a character reference");
    BAD("<a>&#xD800;</a>", "character reference to a character XML does not allow");
    BAD("<a/><!DOCTYPE a>", "byte offset 4: DOCTYPE declarations are not accepted");
    BAD("<a><!ELEMENT a ANY></a>", "byte offset 3: unexpected markup declaration");
    BAD("<a><?xml version=\"1.0\"?></a>", "XML declaration not at the start");
    TEST_END();
}
