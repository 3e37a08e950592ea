/*
 * test_jsonr.c: differential test of jsonr_loadb against jansson's own
 * json_loadb. For every input both run with the same flags; they must both
 * fail, or both succeed with json_equal trees whose nodes have the same types
 * everywhere and whose compact dumps (sorted and in insertion order) match.
 * Inputs: a hand-written table of edge cases (each also carries the outcome
 * jansson 2.14 gives, so a case cannot pass by both parsers failing), every
 * *.json under SHARED/testdata/aws with several flag sets, every string value
 * inside them again with JSON_DECODE_ANY (Select rows are JSON in strings),
 * every prefix of a few small recordings, and deterministic random mutations
 * (xorshift, fixed seed) of the small ones. Each input is handed over in an
 * exact-size heap copy so ASan catches any read past buf+len.
 * Usage: test_jsonr DATA_DIR SHARED_DIR
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "jsonsame.h"
#include "testutil.h"

#define MUTATIONS      4000
#define MUTATE_MAX_LEN (16 * 1024)
#define PREFIX_FILES   4

static const size_t flag_sets[] = {
    0,
    JSON_DECODE_ANY,
    JSON_ALLOW_NUL,
    JSON_REJECT_DUPLICATES,
    JSON_DECODE_ANY | JSON_ALLOW_NUL,
    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
    JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
};
#define NFLAG_SETS (sizeof(flag_sets) / sizeof(flag_sets[0]))

static long compared, both_ok, both_failed;

static void
print_escaped(const char *label, const char *s, size_t len)
{
    size_t i, n = len > 300 ? 300 : len;

    fprintf(stderr, "  %s (%zu bytes): \"", label, len);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            fprintf(stderr, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"%s\n", n < len ? "..." : "");
}

/* The differential check for one input; returns 1 when jansson accepted it. */
static int
compare(const char *what, const char *in, size_t len, size_t flags)
{
    char *copy = malloc(len ? len : 1);
    json_error_t ej, er;
    json_t *j, *r;
    int ok;

    if (copy == NULL) {
        CHECK(copy != NULL);
        return 0;
    }
    if (len)
        memcpy(copy, in, len);
    j = json_loadb(copy, len, flags, &ej);
    r = jsonr_loadb(copy, len, flags, &er);
    compared++;
    if (j == NULL && r == NULL) {
        both_failed++;
        /* our error must say something and point inside the input */
        ok = er.text[0] != '\0' && er.position >= 0 && (size_t)er.position <= len &&
             er.line >= 1 && er.column >= 1 && strcmp(er.source, "<buffer>") == 0;
    } else if (j != NULL && r != NULL) {
        both_ok++;
        ok = jsonsame_trees(j, r) && er.text[0] == '\0';
    } else {
        ok = 0;
    }
    CHECK_MSG(ok, "%s, flags 0x%zx: jansson %s, jsonr %s", what, flags,
        j ? "ok" : ej.text, r ? "ok" : er.text);
    if (!ok) {
        print_escaped("input", in, len);
        if (j != NULL && r != NULL) {
            char *dj = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
            char *dr = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);

            if (dj != NULL && dr != NULL) {
                print_escaped("jansson", dj, strlen(dj));
                print_escaped("jsonr", dr, strlen(dr));
            }
            free(dj);
            free(dr);
        }
    }
    free(copy);
    json_decref(j);
    json_decref(r);
    return j != NULL;
}

/* ---- hand-written edge cases ---- */

struct edge {
    const char *in;
    size_t len; /* 0: strlen(in) */
    size_t flags;
    int ok; /* what jansson 2.14 does with these flags */
};

#define E(s, f, ok) {s, 0, f, ok}
#define EN(s, f, ok) {s, sizeof(s) - 1, f, ok} /* holds NUL bytes */
#define ANY JSON_DECODE_ANY
#define NUL JSON_ALLOW_NUL
#define DUP JSON_REJECT_DUPLICATES

static const struct edge edges[] = {
    /* top level, whitespace, trailing data */
    E("{}", 0, 1), E("[]", 0, 1), E(" \t\r\n[ ] \n", 0, 1), E("1", 0, 0), E("1", ANY, 1),
    E("\"s\"", 0, 0), E("\"s\"", ANY, 1), E("true", ANY, 1), E("null", ANY, 1),
    E("false", ANY, 1), E("", 0, 0), E("", ANY, 0), E("   ", ANY, 0), E("[1]\f", 0, 0),
    E("[\f1]", 0, 0), E("[\v1]", 0, 0), E("\xef\xbb\xbf[1]", 0, 0), E("[1] x", 0, 0),
    E("[1] [2]", 0, 0), E("{}{}", 0, 0), E("1 2", ANY, 0), E("[1]   ", 0, 1),
    EN("[1]\0", 0, 0), EN("\0[1]", 0, 0), EN("[1,\0 2]", 0, 0),
    /* jansson drops one NUL byte right after a number or literal */
    EN("[1\0]", 0, 1), EN("[true\0]", 0, 1), EN("[false\0 ]", 0, 1), EN("[1e5\0]", 0, 1),
    EN("[-0\0]", 0, 1), EN("[1.5\0,2]", 0, 1), EN("{\"a\":null\0}", 0, 1),
    EN("{\"a\":1\0,\"b\":2}", 0, 1), EN("1\0", ANY, 1), EN("1\0 ", ANY, 1),
    EN("null\0", ANY, 1), EN("[1\0\0]", 0, 0), EN("[1 \0]", 0, 0), EN("[\"a\"\0]", 0, 0),
    EN("[[]\0]", 0, 0), EN("[1\0 2]", 0, 0), EN("[{}\0]", 0, 0), EN("1\0\0", ANY, 0),
    EN("\"s\"\0", ANY, 0), EN("[tru\0e]", 0, 0),
    /* literals */
    E("[true,false,null]", 0, 1), E("[tru]", 0, 0), E("[truex]", 0, 0), E("[True]", 0, 0),
    E("[nul]", 0, 0), E("[nullnull]", 0, 0), E("[true1]", 0, 0), E("t", ANY, 0),
    E("nan", ANY, 0), E("[Infinity]", 0, 0),
    /* structure */
    E("[1,]", 0, 0), E("[,1]", 0, 0), E("[1 2]", 0, 0), E("{\"a\":1,}", 0, 0),
    E("{,}", 0, 0), E("{\"a\"}", 0, 0), E("{\"a\" 1}", 0, 0), E("{\"a\":}", 0, 0),
    E("{1:2}", 0, 0), E("{'a':1}", 0, 0), E("[", 0, 0), E("{", 0, 0), E("[1", 0, 0),
    E("{\"a\":1", 0, 0), E("{\"a\"", 0, 0), E("]", 0, 0), E("[]]", 0, 0),
    E("{\"a\":[1,{\"b\":[]}],\"c\":{}}", 0, 1), E(" { \"a\" : [ 1 , 2 ] } ", 0, 1),
    E("[[[[[[]]]]]]", 0, 1), E("[{}]", 0, 1), E("[{]", 0, 0), E("{[]}", 0, 0),
    /* duplicates */
    E("{\"a\":1,\"a\":2}", 0, 1), E("{\"a\":1,\"a\":2}", DUP, 0),
    E("{\"a\":1,\"b\":2,\"a\":[3]}", 0, 1), E("{\"a\":{\"x\":1},\"a\":{\"y\":2}}", 0, 1),
    E("{\"a\":1,\"b\":{\"a\":2}}", DUP, 1), E("{\"a\\u0062\":1,\"ab\":2}", DUP, 0),
    E("{\"\":1,\"\":2}", 0, 1),
    /* numbers */
    E("[0]", 0, 1), E("[-0]", 0, 1), E("[-0.0]", 0, 1), E("[0.0]", 0, 1), E("[1e2]", 0, 1),
    E("[1E2]", 0, 1), E("[1e+2]", 0, 1), E("[1e-2]", 0, 1), E("[1.5e3]", 0, 1),
    E("[01]", 0, 0), E("[-01]", 0, 0), E("[00]", 0, 0), E("[-]", 0, 0), E("[- 1]", 0, 0),
    E("[1.]", 0, 0), E("[.5]", 0, 0), E("[1e]", 0, 0), E("[1e+]", 0, 0), E("[+1]", 0, 0),
    E("[1.e5]", 0, 0), E("[0x10]", 0, 0), E("[1_000]", 0, 0), E("[--1]", 0, 0),
    E("-", ANY, 0), E("1.", ANY, 0), E("1e", ANY, 0), E("-0", ANY, 1), E("1.5", ANY, 1),
    E("12345", ANY, 1), E("0", ANY, 1),
    E("[9223372036854775807]", 0, 1), E("[9223372036854775808]", 0, 0),
    E("[-9223372036854775808]", 0, 1), E("[-9223372036854775809]", 0, 0),
    E("[99999999999999999999999]", 0, 0), E("[-99999999999999999999999]", 0, 0),
    E("[18446744073709551616]", 0, 0), E("[9223372036854775807.0]", 0, 1),
    E("[1e308]", 0, 1), E("[1e309]", 0, 0), E("[-1e309]", 0, 0), E("[1e400]", 0, 0),
    E("[1e-400]", 0, 1), E("[-1e-400]", 0, 1), E("[4.9e-324]", 0, 1),
    E("[2.2250738585072011e-308]", 0, 1), E("[0.1]", 0, 1), E("[0.30000000000000004]", 0, 1),
    E("[1.7976931348623157e308]", 0, 1), E("[1.7976931348623159e308]", 0, 0),
    E("[123456789012345678901234567890.5]", 0, 1), E("[1E0]", 0, 1), E("[1e00001]", 0, 1),
    E("[0.0000000000000000000000000000000000000000000000000000000000000000000001]", 0, 1),
    E("[1234567890123456789012345678901234567890123456789012345678901234567890e-50]", 0, 1),
    E("[1]", 0, 1), E("[1,2,-3,4.5]", 0, 1),
    /* strings and escapes */
    E("[\"\"]", 0, 1), E("[\"abc\"]", 0, 1), E("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, 1),
    E("[\"\\a\"]", 0, 0), E("[\"\\x41\"]", 0, 0), E("[\"\\'\"]", 0, 0), E("[\"\\0\"]", 0, 0),
    E("[\"\\u0041\"]", 0, 1), E("[\"\\u00e9\\u00E9\"]", 0, 1), E("[\"\\u20ac\"]", 0, 1),
    E("[\"\\uffff\"]", 0, 1), E("[\"\\u004\"]", 0, 0), E("[\"\\u00g1\"]", 0, 0),
    E("[\"\\u\"]", 0, 0), E("[\"\\U0041\"]", 0, 0), E("[\"\\ud83d\\ude00\"]", 0, 1),
    E("[\"\\uD83D\\uDE00x\"]", 0, 1), E("[\"\\udbff\\udfff\"]", 0, 1),
    E("[\"\\ud800\\udc00\"]", 0, 1), E("[\"\\ud83d\"]", 0, 0), E("[\"\\ude00\"]", 0, 0),
    E("[\"\\ud83dx\"]", 0, 0), E("[\"\\ud83d\\u0041\"]", 0, 0),
    E("[\"\\ud83d\\ud83d\"]", 0, 0), E("[\"\\ud83d\\\"]", 0, 0), E("[\"\\ud83d\\u\"]", 0, 0),
    E("[\"\\ude00\\ud83d\"]", 0, 0), E("[\"\\ud83d", 0, 0), E("[\"\\", 0, 0), E("[\"abc", 0, 0),
    E("[\"a\\u0000b\"]", 0, 0), E("[\"a\\u0000b\"]", NUL, 1), E("\"\\u0000\"", ANY | NUL, 1),
    E("{\"a\\u0000\":1}", 0, 0), E("{\"a\\u0000\":1}", NUL, 0), E("{\"\\u0000\":1}", NUL, 0),
    E("{\"k\\n\":\"v\\n\"}", 0, 1), E("{\"k\\n\":{\"k2\\t\":\"v\\t\"}}", 0, 1),
    E("{\"a\\\"b\":\"c\\\"d\",\"e\":[\"\\u00e9\"]}", 0, 1),
    EN("[\"a\0b\"]", 0, 0), EN("[\"a\0b\"]", NUL, 0), E("[\"a\tb\"]", 0, 0),
    E("[\"a\nb\"]", 0, 0), E("[\"\x1f\"]", 0, 0), E("[\"\x7f\"]", 0, 1), E("[\"\x20\"]", 0, 1),
    E("['a']", 0, 0),
    /* UTF-8 inside strings */
    E("[\"\xc3\xa9\"]", 0, 1), E("[\"\xe2\x82\xac\"]", 0, 1), E("[\"\xf0\x9f\x98\x80\"]", 0, 1),
    E("[\"\xf4\x8f\xbf\xbf\"]", 0, 1), E("[\"\xef\xbf\xbf\"]", 0, 1), E("[\"\xed\x9f\xbf\"]", 0, 1),
    E("[\"\xee\x80\x80\"]", 0, 1), E("[\"\xc2\x80\"]", 0, 1), E("[\"\xdf\xbf\"]", 0, 1),
    E("[\"\xc0\xaf\"]", 0, 0), E("[\"\xc1\xbf\"]", 0, 0), E("[\"\xe0\x80\xaf\"]", 0, 0),
    E("[\"\xe0\x9f\xbf\"]", 0, 0), E("[\"\xf0\x80\x80\xaf\"]", 0, 0),
    E("[\"\xf0\x8f\xbf\xbf\"]", 0, 0), E("[\"\xed\xa0\x80\"]", 0, 0),
    E("[\"\xed\xbf\xbf\"]", 0, 0), E("[\"\xf4\x90\x80\x80\"]", 0, 0),
    E("[\"\xf5\x80\x80\x80\"]", 0, 0), E("[\"\xff\"]", 0, 0), E("[\"\x80\"]", 0, 0),
    E("[\"\xbf\"]", 0, 0), E("[\"\xc3\"]", 0, 0), E("[\"\xe2\x82\"]", 0, 0),
    E("[\"\xf0\x9f\x98\"]", 0, 0), E("[\"\xc3\xc3\"]", 0, 0), E("[\"\xe2\x28\xa1\"]", 0, 0),
    E("[\"\xc3", 0, 0), E("[\"\xf0\x9f", 0, 0), E("\"\xc3\xa9", ANY, 0),
    E("[\"abcdefgh\xc3\xa9ijklmnop\"]", 0, 1), E("[\"abcdefg\xc3\"]", 0, 0),
    E("[\"abcdefghijklmnopqrstuvwxyz\\n0123456789\"]", 0, 1),
    E("[\"abcdefghijklmnop\x01qrstuvwxyz\"]", 0, 0),
    E("[\xc3\xa9]", 0, 0), E("[1]\xc3\xa9", 0, 0), E("[1]\xff", 0, 0),
    /* keys that look like other things, long and escaped */
    E("{\"true\":true,\"1\":1,\"{}\":{},\"[\":\"]\"}", 0, 1),
    E("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}", 0, 1),
};

static void
test_edges(void)
{
    size_t i, f;

    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        const struct edge *e = &edges[i];
        size_t len = e->len ? e->len : strlen(e->in);
        char what[64];
        int jok;

        snprintf(what, sizeof(what), "edge case %zu", i);
        jok = compare(what, e->in, len, e->flags);
        CHECK_MSG(jok == e->ok, "edge case %zu: jansson %s, table says %s", i,
            jok ? "accepts" : "rejects", e->ok ? "accept" : "reject");
        if (jok != e->ok)
            print_escaped("input", e->in, len);
        for (f = 0; f < NFLAG_SETS; f++)
            compare(what, e->in, len, flag_sets[f]);
    }
}

/* ---- nesting depth: jansson's limit is 2048 levels, scalars included ---- */

static void
nest(int levels, const char *inner, int objects, size_t flags, int want_ok)
{
    size_t ilen = strlen(inner), cap = (size_t)levels * 6 + ilen + 1, n = 0;
    char *b = malloc(cap), what[96];
    int i, jok;

    if (b == NULL) {
        CHECK(b != NULL);
        return;
    }
    for (i = 0; i < levels; i++) {
        if (objects && i > 0) {
            memcpy(b + n, "{\"k\":", 5);
            n += 5;
        } else {
            b[n++] = '[';
        }
    }
    memcpy(b + n, inner, ilen);
    n += ilen;
    for (i = levels - 1; i >= 0; i--)
        b[n++] = objects && i > 0 ? '}' : ']';
    snprintf(what, sizeof(what), "%d levels around '%s'%s", levels, inner,
        objects ? " (objects)" : "");
    jok = compare(what, b, n, flags);
    CHECK_MSG(jok == want_ok, "%s: jansson %s", what, jok ? "accepts" : "rejects");
    /* truncated deep input: unexpected end at every open level */
    compare(what, b, n / 2, flags);
    free(b);
}

static void
test_depth(void)
{
    json_error_t e;
    json_t *r;
    char *b;
    size_t n = 100000, i;

    nest(2047, "", 0, 0, 1);
    nest(2048, "", 0, 0, 1);
    nest(2049, "", 0, 0, 0);
    nest(2047, "1", 0, 0, 1);
    nest(2048, "1", 0, 0, 0);
    nest(2047, "{}", 0, 0, 1);
    nest(2047, "{\"a\":1}", 0, 0, 0);
    nest(2047, "\"s\"", 0, ANY, 1);
    nest(2047, "{}", 1, 0, 1);
    nest(2048, "{}", 1, 0, 0);
    nest(2047, "1", 1, 0, 1);
    nest(2048, "1", 1, 0, 0);
    nest(100, "[1,2,{\"a\":[3]}]", 1, 0, 1);

    /* far deeper than the limit: an error, not a stack overflow */
    b = malloc(n);
    if (b == NULL) {
        CHECK(b != NULL);
        return;
    }
    for (i = 0; i < n; i++)
        b[i] = '[';
    r = jsonr_loadb(b, n, 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "depth");
    CHECK_INT(e.position, 2048);
    CHECK_INT(json_error_code(&e), json_error_stack_overflow);
    free(b);
}

/* ---- the API around the parser: errors, NULLs, fallback flags ---- */

static void
test_api(void)
{
    json_error_t e;
    json_t *r;

    r = jsonr_loads("{\"a\": [1, 2.5, \"x\"]}", 0, &e);
    CHECK(r != NULL);
    CHECK_STR(e.text, "");
    CHECK_INT(e.line, -1);
    CHECK_STR(e.source, "<buffer>");
    CHECK(json_is_integer(json_array_get(json_object_get(r, "a"), 0)));
    CHECK(json_is_real(json_array_get(json_object_get(r, "a"), 1)));
    json_decref(r);

    /* positions, lines and columns of errors */
    r = jsonr_loads("[1,]", 0, &e);
    CHECK(r == NULL);
    CHECK_INT(e.position, 3);
    CHECK_INT(e.line, 1);
    CHECK_INT(e.column, 4);
    CHECK_CONTAINS(e.text, "invalid token");
    CHECK_INT(json_error_code(&e), json_error_invalid_syntax);

    r = jsonr_loads("{\n  \"a\": tru }", 0, &e);
    CHECK(r == NULL);
    CHECK_INT(e.line, 2);
    CHECK_INT(e.column, 8);
    CHECK_INT(e.position, 9);
    CHECK_CONTAINS(e.text, "'t'");

    r = jsonr_loads("[\"\xc3\xa9\xc3\xa9\", \"\\q\"]", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "invalid escape '\\q'");
    CHECK_INT(e.position, 10);
    CHECK_INT(e.column, 9); /* columns count characters, not bytes */

    r = jsonr_loads("[\"a\xed\xa0\x80\"]", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "UTF-8");
    CHECK_INT(e.position, 3);
    CHECK_INT(json_error_code(&e), json_error_invalid_utf8);

    r = jsonr_loads("[\"abc", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "end of input");
    CHECK_INT(e.position, 5);
    CHECK_INT(json_error_code(&e), json_error_premature_end_of_input);

    r = jsonr_loads("[\"a\x01\"]", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "control character 0x01");

    r = jsonr_loads("[1] 2", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "end of input expected");
    CHECK_INT(e.position, 4);
    CHECK_INT(json_error_code(&e), json_error_end_of_input_expected);

    r = jsonr_loads("[99999999999999999999]", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "too big integer");
    CHECK_INT(e.position, 1);
    CHECK_INT(json_error_code(&e), json_error_numeric_overflow);

    r = jsonr_loads("[1e999]", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "real number overflow");

    r = jsonr_loads("{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "duplicate object key");
    CHECK_INT(e.position, 7);
    CHECK_INT(json_error_code(&e), json_error_duplicate_key);

    r = jsonr_loads("{\"a\\u0000\":1}", JSON_ALLOW_NUL, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "NUL byte in object key");
    CHECK_INT(json_error_code(&e), json_error_null_byte_in_key);

    r = jsonr_loads("[\"\\u0000\"]", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "JSON_ALLOW_NUL");

    r = jsonr_loads("[\"\\u0000\"]", JSON_ALLOW_NUL, &e);
    CHECK(r != NULL);
    CHECK_INT(json_string_length(json_array_get(r, 0)), 1);
    json_decref(r);

    r = jsonr_loads("  ", 0, &e);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.text, "'[' or '{' expected");

    r = jsonr_loadb("[1]", 0, 0, &e);
    CHECK(r == NULL);
    CHECK_INT(e.position, 0);

    /* a buffer that is not NUL-terminated: only len bytes are read */
    r = jsonr_loadb("[1]]]]", 3, 0, &e);
    CHECK(r != NULL);
    json_decref(r);

    /* NULL arguments */
    CHECK(jsonr_loadb(NULL, 0, 0, &e) == NULL);
    CHECK_CONTAINS(e.text, "wrong arguments");
    CHECK_INT(json_error_code(&e), json_error_invalid_argument);
    CHECK(jsonr_loads(NULL, 0, &e) == NULL);
    CHECK(jsonr_loads("[1,", 0, NULL) == NULL);
    r = jsonr_loads("[1]", 0, NULL);
    CHECK(r != NULL);
    json_decref(r);

    /* flags jsonr does not implement go to json_loadb */
    r = jsonr_loads("[1] x", JSON_DISABLE_EOF_CHECK, &e);
    CHECK(r != NULL);
    json_decref(r);
    r = jsonr_loads("[1]", JSON_DECODE_INT_AS_REAL, &e);
    CHECK(r != NULL && json_is_real(json_array_get(r, 0)));
    json_decref(r);
    compare("fallback", "[1, 2] [", 8, JSON_DISABLE_EOF_CHECK);
    compare("fallback", "{\"a\": 12}", 9, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES);

    /* long strings: escapes spread over a growing scratch buffer, keys with
     * escapes followed by values with escapes */
    {
        size_t n = 70000, i, k = 0;
        char *b = malloc(n * 2 + 64);

        if (b != NULL) {
            k += (size_t)sprintf(b, "{\"key\\twith\\ttabs\":\"");
            for (i = 0; i < n; i++) {
                if (i % 7 == 0) {
                    memcpy(b + k, "\\u00e9", 6);
                    k += 6;
                } else {
                    b[k++] = (char)('a' + i % 26);
                }
            }
            k += (size_t)sprintf(b + k, "\",\"x\\n\":[\"\\n\",{\"y\\\\\":\"z\\\\\"}]}");
            compare("long escaped string", b, k, 0);
            compare("long escaped string", b, k, JSON_REJECT_DUPLICATES);
            compare("long escaped string, truncated", b, k - 40, 0);
            free(b);
        }
    }
}

/* ---- out of memory: jansson's allocator fails at the n-th call ---- */

static long alloc_budget = -1; /* allocations left; -1: unlimited */

static void *
budget_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void
test_oom(void)
{
    static const char doc[] = "{\"a\":[1,2.5,\"x\\n\",{\"b\":null,\"c\":\"d\"}],"
                              "\"e\\t\":{\"f\":[true,false,-7]},\"g\":\"h\\u00e9\"}";
    json_error_t e;
    json_t *r;
    long n, failures = 0;
    int succeeded = 0;

    json_set_alloc_funcs(budget_malloc, free);
    for (n = 0; n < 500 && !succeeded; n++) {
        alloc_budget = n;
        r = jsonr_loadb(doc, sizeof(doc) - 1, JSON_REJECT_DUPLICATES, &e);
        alloc_budget = -1;
        if (r == NULL) {
            failures++;
            CHECK_INT(json_error_code(&e), json_error_out_of_memory);
            CHECK_CONTAINS(e.text, "out of memory");
        } else {
            succeeded = 1;
            json_decref(r);
        }
    }
    json_set_alloc_funcs(malloc, free);
    CHECK(succeeded);
    CHECK_MSG(failures > 10, "only %ld allocation failures tried", failures);
}

/* ---- recorded AWS answers ---- */

struct file {
    char *path;
    char *data;
    size_t len;
};

struct files {
    struct file *v;
    size_t n, cap;
};

static int
read_all(const char *path, char **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *d = NULL;
    long sz;

    if (f == NULL)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    d = malloc((size_t)sz + 1);
    if (d == NULL || fread(d, 1, (size_t)sz, f) != (size_t)sz)
        goto fail;
    d[sz] = '\0';
    fclose(f);
    *ret = d;
    *ret_len = (size_t)sz;
    return 0;
fail:
    free(d);
    fclose(f);
    return -1;
}

static void
collect(const char *dir, struct files *fs)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t nl = strlen(de->d_name);

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            collect(path, fs);
        } else if (nl > 5 && strcmp(de->d_name + nl - 5, ".json") == 0) {
            struct file f;

            if (read_all(path, &f.data, &f.len) != 0)
                continue;
            f.path = strdup(path);
            if (fs->n == fs->cap) {
                size_t nc = fs->cap ? fs->cap * 2 : 64;
                struct file *nv = realloc(fs->v, nc * sizeof(*nv));

                if (nv == NULL || f.path == NULL) {
                    free(f.data);
                    free(f.path);
                    continue;
                }
                fs->v = nv;
                fs->cap = nc;
            }
            fs->v[fs->n++] = f;
        }
    }
    closedir(d);
}

static int
by_path(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

/* Every string value in the tree parsed again as JSON (most are not JSON,
 * so both must fail; Select rows are, so both must agree on the tree). */
static void
compare_strings(const char *path, json_t *v, long *nstrings)
{
    const char *k;
    json_t *c;
    size_t i;

    if (json_is_string(v)) {
        compare(path, json_string_value(v), json_string_length(v), JSON_DECODE_ANY);
        (*nstrings)++;
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, c) {
            compare(path, k, strlen(k), JSON_DECODE_ANY);
            compare_strings(path, c, nstrings);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, c)
            compare_strings(path, c, nstrings);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void
test_recorded(const char *shared)
{
    static const unsigned char interesting[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '0', '1',
        '-', '+', '.', 'e', 'E', 'u', 'n', 't', ' ', '\n', '\t', 0x00, 0x01, 0x1f, 0x7f, 0x80,
        0xbf, 0xc0, 0xc3, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    static const char *const inserts[] = {"\\u0000", "\\ud83d", "\\ude00", "\\ud83d\\ude00",
        "1e999", "99999999999999999999", "-0", "\":1,\"", "[", "{", "\xf0\x9f\x98\x80", "\\",
        "\\u00e9", "null", "]]"};
    struct files fs = {0};
    char dir[4096];
    size_t i, small[64], nsmall = 0, prefixed = 0;
    long nstrings = 0, accepted = 0;
    char *m = NULL;

    snprintf(dir, sizeof(dir), "%s/testdata/aws", shared);
    collect(dir, &fs);
    CHECK_MSG(fs.n >= 50, "only %zu recorded *.json files under %s", fs.n, dir);
    if (fs.n == 0)
        return;
    qsort(fs.v, fs.n, sizeof(fs.v[0]), by_path);

    for (i = 0; i < fs.n; i++) {
        struct file *f = &fs.v[i];
        json_t *t;
        size_t k;

        for (k = 0; k < NFLAG_SETS; k++)
            accepted += compare(f->path, f->data, f->len, flag_sets[k]);
        t = json_loadb(f->data, f->len, JSON_DECODE_ANY, NULL);
        if (t != NULL)
            compare_strings(f->path, t, &nstrings);
        json_decref(t);
        if (f->len <= MUTATE_MAX_LEN && nsmall < sizeof(small) / sizeof(small[0]))
            small[nsmall++] = i;
        /* every prefix of a few small recordings */
        if (f->len >= 1000 && f->len <= 6000 && prefixed < PREFIX_FILES) {
            for (k = 0; k <= f->len; k++)
                compare(f->path, f->data, k, k % 2 ? JSON_DECODE_ANY : 0);
            prefixed++;
        }
    }
    CHECK_MSG(accepted >= (long)fs.n, "only %ld of %zu recordings parsed", accepted, fs.n);
    CHECK_MSG(nstrings > 1000, "only %ld strings inside the recordings", nstrings);
    CHECK_INT(prefixed, PREFIX_FILES);
    CHECK(nsmall > 10);

    /* deterministic mutations of the small recordings */
    m = malloc(MUTATE_MAX_LEN + 64 * 16);
    for (i = 0; m != NULL && nsmall > 0 && i < MUTATIONS; i++) {
        struct file *f = &fs.v[small[rng() % nsmall]];
        size_t len = f->len, edits = 1 + rng() % 3, k;
        char what[64];

        memcpy(m, f->data, len);
        for (k = 0; k < edits && len > 0; k++) {
            size_t at = (size_t)(rng() % len);
            unsigned op = (unsigned)(rng() % 5);

            if (op == 0) {
                m[at] = (char)(rng() & 0xff);
            } else if (op == 1) {
                m[at] = (char)interesting[rng() % sizeof(interesting)];
            } else if (op == 2) {
                memmove(m + at + 1, m + at, len - at);
                m[at] = (char)interesting[rng() % sizeof(interesting)];
                len++;
            } else if (op == 3) {
                memmove(m + at, m + at + 1, len - at - 1);
                len--;
            } else {
                const char *ins = inserts[rng() % (sizeof(inserts) / sizeof(inserts[0]))];
                size_t il = strlen(ins);

                memmove(m + at + il, m + at, len - at);
                memcpy(m + at, ins, il);
                len += il;
            }
        }
        snprintf(what, sizeof(what), "mutation %zu", i);
        compare(what, m, len, flag_sets[rng() % NFLAG_SETS]);
    }
    CHECK(m != NULL);
    free(m);
    for (i = 0; i < fs.n; i++) {
        free(fs.v[i].path);
        free(fs.v[i].data);
    }
    free(fs.v);
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_jsonr DATA_DIR SHARED_DIR\n");
        return 2;
    }
    test_edges();
    test_depth();
    test_api();
    test_oom();
    test_recorded(argv[2]);
    printf("compared %ld inputs: %ld accepted by both, %ld rejected by both\n", compared, both_ok,
        both_failed);
    CHECK(both_ok > 1000 && both_failed > 1000);
    TEST_END();
}
