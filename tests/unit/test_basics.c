/*
 * test_basics.c: err, buf and util — the pieces every module leans on.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/buf.h"
#include "daemon/err.h"
#include "daemon/util.h"
#include "testutil.h"

static void
test_buf_cap(void)
{
    struct buf b;
    struct err err = {0};

    buf_init(&b, 8);
    CHECK(buf_puts(&b, "abcd", &err) == 0);
    CHECK(buf_puts(&b, "efgh", &err) == 0);
    CHECK_STR(buf_str(&b), "abcdefgh");
    CHECK(buf_putc(&b, 'i', &err) < 0);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_CONTAINS(err.msg, "8-byte limit");
    CHECK_INT(b.len, 8);
    CHECK_INT(b.cap, 9); /* the last step goes to the cap, not one doubling past it */
    buf_clear_secure(&b);
    CHECK(b.data == NULL);

    buf_init(&b, 0);
    CHECK(buf_printf(&b, &err, "%s-%d", "x", 42) == 0);
    CHECK_STR(buf_str(&b), "x-42");
    char *s = buf_steal(&b);
    CHECK_STR(s, "x-42");
    free(s);
    CHECK_STR(buf_str(&b), "");

    /* presize: one allocation of exactly the announced size, the cap kept */
    buf_init(&b, 1000);
    err_clear(&err);
    CHECK(buf_presize(&b, 1001, &err) < 0);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_CONTAINS(err.msg, "1000-byte limit");
    CHECK(b.data == NULL);
    CHECK(buf_presize(&b, 600, &err) == 0);
    CHECK_INT(b.cap, 601);
    CHECK_STR(buf_str(&b), "");
    CHECK(buf_puts(&b, "kept", &err) == 0);
    CHECK(buf_presize(&b, 100, &err) == 0); /* holds it already: unchanged */
    CHECK_INT(b.cap, 601);
    CHECK(buf_presize(&b, 900, &err) == 0);
    CHECK_INT(b.cap, 901);
    CHECK_STR(buf_str(&b), "kept");
    buf_clear(&b);
}

static void
test_err(void)
{
    struct err err = {0};

    CHECK(err_set(&err, ERR_AUTH, "no %s", "credentials") == -1);
    CHECK(err_prefix(&err, "profile '%s'", "ops") == -1);
    CHECK_STR(err.msg, "profile 'ops': no credentials");
    CHECK_INT(err.kind, ERR_AUTH);
    CHECK_STR(err_kind_name(ERR_THROTTLED), "throttled");
    err.kind = ERR_THROTTLED;
    CHECK(err_is_retryable(&err));
    err.kind = ERR_REMOTE;
    CHECK(!err_is_retryable(&err));
}

static void
test_util(void)
{
    long long v = 0;
    time_t t = 0;
    char out[21], amz[17];

    CHECK(util_parse_ll("42", 0, 100, &v) == 0 && v == 42);
    CHECK(util_parse_ll("42x", 0, 100, &v) < 0);
    CHECK(util_parse_ll("101", 0, 100, &v) < 0);
    CHECK(util_parse_ll("", 0, 100, &v) < 0);
    CHECK(util_time_parse("2015-08-30T12:36:00Z", &t) == 0);
    CHECK_INT(t, 1440938160);
    CHECK(util_time_parse("2015-08-30T12:36:00.123Z", &t) == 0 && t == 1440938160);
    CHECK(util_time_parse("2015-08-30T14:36:00+02:00", &t) == 0 && t == 1440938160);
    CHECK(util_time_parse("2015-08-30 12:36:00", &t) < 0);
    CHECK(util_time_parse("2015-08-30T12:36:00Zjunk", &t) < 0);
    CHECK(util_time_parse("2015-08-30T11:06:00-01:30", &t) == 0 && t == 1440938160);
    /* offsets are exactly +HH:MM; short ones at the end of a heap string
     * once read past it (fuzz_sh_findings; ASan checks this one) */
    {
        static const char *const bad[] = {"2015-08-30T12:36:00+1:2", "2015-08-30T12:36:00+5:00",
            "2015-08-30T12:36:00+05:0", "2015-08-30T12:36:00+0a:00", "2015-08-30T12:36:00+24:00",
            "2015-08-30T12:36:00+00:60", "2015-08-30T12:36:00+", "2015-08-30T12:36:00-01"};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char *heap = strdup(bad[i]);

            CHECK(heap != NULL && util_time_parse(heap, &t) < 0);
            free(heap);
        }
    }
    util_time_rfc3339(1440938160, out);
    CHECK_STR(out, "2015-08-30T12:36:00Z");
    util_time_amz(1440938160, amz);
    CHECK_STR(amz, "20150830T123600Z");
}

/* util_utf8_seq: every length at the edges of its range, and each way a
 * sequence is refused (jsonr, jsonw and the HTML report share it). */
static void
test_utf8(void)
{
    static const struct {
        const char *s;
        size_t n, want;
    } cases[] = {
        {"A", 1, 1},
        {"\xc2\x80", 2, 2},
        {"\xdf\xbf", 2, 2},
        {"\xe0\xa0\x80", 3, 3},
        {"\xed\x9f\xbf", 3, 3},
        {"\xef\xbf\xbf", 3, 3},
        {"\xf0\x90\x80\x80", 4, 4},
        {"\xf4\x8f\xbf\xbf", 4, 4},
        {"\x80", 1, 0},             /* stray continuation byte */
        {"\xc0\x80", 2, 0},         /* overlong NUL */
        {"\xc1\xbf", 2, 0},         /* overlong */
        {"\xe0\x9f\xbf", 3, 0},     /* overlong */
        {"\xed\xa0\x80", 3, 0},     /* surrogate U+D800 */
        {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong */
        {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xc3(", 2, 0},             /* not a continuation byte */
        {"\xe2\x82\xac", 2, 0},     /* cut short by n */
        {"\xf0\x9f\x94\x92", 3, 0},
        {"\xc3\xa9", 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_MSG(util_utf8_seq((const unsigned char *)cases[i].s, cases[i].n) == cases[i].want,
            "utf8 case %zu: %zu, want %zu", i,
            util_utf8_seq((const unsigned char *)cases[i].s, cases[i].n), cases[i].want);
}

int
main(void)
{
    test_buf_cap();
    test_err();
    test_util();
    test_utf8();
    TEST_END();
}
