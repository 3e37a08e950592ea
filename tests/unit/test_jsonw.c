/*
 * test_jsonw: jsonw_dumps writes exactly what json_dumps writes.
 *
 * Differential throughout: every tree is dumped by both with each of the
 * flag sets driftsync uses (compact; compact + sorted keys; each with
 * JSON_ENCODE_ANY) and the indented ones (JSON_INDENT 1, 2, 4 and 31, sorted,
 * in insertion order and with compact separators: the feed's
 * compliance.json is JSON_INDENT(2) | JSON_SORT_KEYS), and the texts must be
 * equal, or both NULL. Trees: the
 * sample organisation's items and the models map_target makes of them,
 * every recorded AWS answer under the shared testdata (and every JSON text
 * found inside their strings, as Select rows and configurations are), and
 * generated ones: every byte value and UTF-8 form in strings and keys, keys
 * with NUL bytes and shared prefixes, objects past the sort's stack size,
 * integers at their limits, reals, deep nesting, invalid UTF-8 and scalars
 * without JSON_ENCODE_ANY (both must fail); a status document of the feed's
 * shape, and an array shared at two depths (written once and copied only in
 * compact dumps: indented, its text depends on its depth). One deliberate
 * difference: a key
 * that is not UTF-8 (only json_object_setn_nocheck makes one) fails jsonw,
 * where jansson writes a text that does not parse.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "daemon/jsonw.h"
#include "mapping/map.h"
#include "testutil.h"
#include "sampleorg.h"

static const size_t flag_sets[] = {
    JSON_COMPACT,
    JSON_COMPACT | JSON_SORT_KEYS,
    JSON_COMPACT | JSON_ENCODE_ANY,
    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY,
    JSON_INDENT(1) | JSON_SORT_KEYS,
    JSON_INDENT(2) | JSON_SORT_KEYS,
    JSON_INDENT(4) | JSON_SORT_KEYS,
    JSON_INDENT(31) | JSON_SORT_KEYS,
    JSON_INDENT(2),
    JSON_INDENT(31),
    JSON_INDENT(1) | JSON_SORT_KEYS | JSON_COMPACT,
    JSON_INDENT(2) | JSON_SORT_KEYS | JSON_COMPACT,
    JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY,
};

static size_t compared;

/* Both writers, every flag set; what names the tree in a failure. */
static void
same(const json_t *j, const char *what)
{
    for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
        char *a = json_dumps(j, flag_sets[f]);
        char *b = jsonw_dumps(j, flag_sets[f]);
        if (a == NULL || b == NULL)
            CHECK_MSG(a == NULL && b == NULL, "%s flags %zx: json_dumps %s, jsonw_dumps %s", what,
                flag_sets[f], a ? "wrote" : "failed", b ? "wrote" : "failed");
        else
            CHECK_MSG(strcmp(a, b) == 0, "%s flags %zx: differ\n  jansson: %.300s\n  jsonw:   %.300s",
                what, flag_sets[f], a, b);
        compared++;
        free(a);
        free(b);
    }
}

/* same() on j and on every JSON text inside its strings. */
static void
same_deep(json_t *j, const char *what, int depth)
{
    same(j, what);
    if (depth > 3)
        return;
    if (json_is_string(j)) {
        json_t *inner = json_loadb(json_string_value(j), json_string_length(j),
            JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (inner != NULL && (json_is_object(inner) || json_is_array(inner)))
            same_deep(inner, what, depth + 1);
        json_decref(inner);
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (json_is_string(v) || json_is_array(v))
                same_deep(v, what, depth + 1);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            if (json_is_string(v))
                same_deep(v, what, depth + 1);
        }
    }
}

static void
walk_dir(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[2048];
        struct stat st;
        size_t n = strlen(e->d_name);

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk_dir(path, files);
        } else if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
            json_t *j = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            if (j != NULL) {
                same_deep(j, path, 0);
                (*files)++;
            }
            json_decref(j);
        }
    }
    closedir(d);
}

static void
test_recorded(const char *shared)
{
    char dir[1024];
    int files = 0;

    snprintf(dir, sizeof(dir), "%s/testdata/aws", shared);
    walk_dir(dir, &files);
    CHECK_MSG(files >= 50, "recorded answers under %s: %d JSON files", dir, files);
}

static void
sample_target(void *ctx, const char *account, const char *region, json_t *items, const char *file,
    size_t lines)
{
    const struct map_rules *rules = ctx;
    struct map_result res;
    struct err err;
    char what[1200];

    (void)lines;
    snprintf(what, sizeof(what), "%s (items)", file);
    same_deep(items, what, 0);
    if (map_target(rules, account, region, items, &res, &err) != 0) {
        CHECK_MSG(0, "map_target %s: %s", file, err.msg);
        return;
    }
    snprintf(what, sizeof(what), "%s (models)", file);
    same(res.models, what);
    same(res.account, what);
    same(res.unmapped, what);
    same(res.skipped, what);
    map_result_clear(&res);
}

static void
test_sample_org(const char *data_dir)
{
    struct map_rules *rules = NULL;
    struct err err;

    CHECK_MSG(map_rules_load(NULL, &rules, &err) == 0, "rules: %s", err.msg);
    if (rules == NULL)
        return;
    CHECK(sampleorg_foreach(data_dir, sample_target, rules) > 0);
    map_rules_free(rules);
}

static void
test_strings(void)
{
    char s[4];
    json_t *obj = json_object(), *arr = json_array();

    /* every single byte below 0x80, as a value and as a key */
    for (int c = 0; c < 0x80; c++) {
        s[0] = (char)c;
        json_array_append_new(arr, json_stringn_nocheck(s, 1));
        json_object_setn_new_nocheck(obj, s, 1, json_integer(c));
    }
    same(arr, "bytes 0x00-0x7f (values)");
    same(obj, "bytes 0x00-0x7f (keys)");
    json_decref(arr);
    json_decref(obj);

    /* UTF-8 of every length, the edges of each range */
    static const char *const utf8[] = {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 /slash/ \x7f", ""};
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
        json_t *v = json_string(utf8[i]);
        CHECK_MSG(v != NULL, "utf8 case %zu", i);
        same(v, "valid UTF-8");
        json_decref(v);
    }
    /* invalid UTF-8, which json_string refuses but _nocheck lets in: both fail */
    static const char *const bad[] = {"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "ok\xc3", "\xe2\x82",
        "\xf0\x9f\x94"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *v = json_pack("{s:[s,o]}", "k", "fine", json_stringn_nocheck(bad[i], strlen(bad[i])));
        CHECK_MSG(v != NULL, "bad case %zu", i);
        same(v, "invalid UTF-8 value");
        json_decref(v);
        /* an invalid key: jansson 2.14 ignores the key writer's failure and
         * writes broken JSON; jsonw fails, as for values */
        v = json_object();
        json_object_setn_new_nocheck(v, bad[i], strlen(bad[i]), json_true());
        for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
            char *a = json_dumps(v, flag_sets[f]);
            json_t *back = a != NULL ? json_loads(a, 0, NULL) : NULL;
            CHECK_MSG(back == NULL, "bad key %zu: jansson's text parses: %s", i, a);
            CHECK_MSG(jsonw_dumps(v, flag_sets[f]) == NULL, "bad key %zu: jsonw wrote", i);
            json_decref(back);
            free(a);
        }
        json_decref(v);
    }
}

static void
test_keys(void)
{
    json_t *o = json_object();
    char k[16];

    /* shared prefixes, NUL inside keys, upper/lower case, non-ASCII */
    static const char *const keys[] = {"a", "ab", "abc", "b", "B", "aB", "", "\xc3\xa9", "z",
        "Z", "_", "a b", "aa"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set_new(o, keys[i], json_integer((json_int_t)i));
    json_object_setn_new_nocheck(o, "a\0b", 3, json_string("nul inside"));
    json_object_setn_new_nocheck(o, "a\0", 2, json_string("nul at end"));
    same(o, "keys");
    json_decref(o);

    /* past the sort's stack array (32), in reverse insertion order */
    for (int n = 30; n <= 35; n++) {
        o = json_object();
        for (int i = n; i > 0; i--) {
            snprintf(k, sizeof(k), "key%03d", (i * 7919) % 1000);
            json_object_set_new(o, k, json_integer(i));
        }
        same(o, "big object");
        json_decref(o);
    }
    o = json_object();
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "%d", (i * 7919) % 1009);
        json_object_set_new(o, k, json_pack("{s:i,s:[]}", "n", i, "a"));
    }
    same(o, "1000 keys");
    json_decref(o);
}

static void
test_scalars_and_shapes(void)
{
    json_t *v;

    json_t *nums = json_pack("[I,I,I,I,i]", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN,
        (json_int_t)0, (json_int_t)-1, 42);
    same(nums, "integers");
    json_decref(nums);
    json_t *reals = json_pack("[f,f,f,f,f,f,f]", 0.0, -0.0, 1.5, 1e20, 1e-7, 3.141592653589793,
        123456789.0);
    same(reals, "reals");
    json_decref(reals);
    json_t *mixed = json_pack("{s:n,s:b,s:b,s:[],s:{},s:[[],{}],s:s}", "null", "t", 1, "f", 0,
        "ea", "eo", "nest", "s", "text");
    same(mixed, "mixed");
    json_decref(mixed);

    /* top-level scalars: only with JSON_ENCODE_ANY (same() checks both ways) */
    json_t *scalars[] = {json_string("x\n"), json_integer(7), json_real(2.5), json_true(),
        json_false(), json_null()};
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        same(scalars[i], "top-level scalar");
        json_decref(scalars[i]);
    }
    CHECK(jsonw_dumps(NULL, JSON_COMPACT) == NULL);

    /* deep nesting */
    v = json_array();
    json_t *cur = v;
    for (int i = 0; i < 500; i++) {
        json_t *next = i % 2 ? json_array() : json_object();
        if (json_is_array(cur))
            json_array_append_new(cur, next);
        else
            json_object_set_new(cur, "k", next);
        cur = next;
    }
    same(v, "500 levels");
    json_decref(v);

    /* flags it does not write itself go through jansson unchanged */
    v = json_pack("{s:[i,s],s:{}}", "b", 1, "/x", "a");
    char *a = json_dumps(v, JSON_SORT_KEYS); /* neither compact nor indented: ", " */
    char *b = jsonw_dumps(v, JSON_SORT_KEYS);
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    CHECK_CONTAINS(b, ", ");
    free(a);
    free(b);
    a = json_dumps(v, JSON_COMPACT | JSON_ESCAPE_SLASH);
    b = jsonw_dumps(v, JSON_COMPACT | JSON_ESCAPE_SLASH);
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    CHECK_CONTAINS(b, "\\/x");
    free(a);
    free(b);
    json_decref(v);
}

/* The feed's document: standards, controls, targets, nulls, empty lists. */
static void
test_status_shape(void)
{
    json_t *doc = json_pack("{s:[{s:s, s:[{s:s, s:n, s:s, s:s, s:[s,s], s:[], s:[{s:s, s:s, "
                            "s:i, s:n, s:[]}]}, {s:s, s:s, s:s, s:n, s:[], s:[], s:[]}]}], "
                            "s:[{s:s, s:s, s:b, s:s, s:n}]}",
        "standards", "id", "cis-1.4", "controls", "control_id", "1.1", "title", "status",
        "NON-COMPLIANT", "severity", "LOW", "failed_resources", "AWS::::Account:1", "b",
        "components", "targets", "account_id", "000100010001", "region", "eu-west-1",
        "findings", 3, "since", "suppressed_resources", "control_id", "1.10", "title",
        "Ensure \"MFA\"\tis on", "status", "DISABLED", "severity", "failed_resources",
        "components", "targets", "targets", "account_id", "000100010001", "region", "eu-west-1",
        "hub_enabled", 1, "last_read_at", "2026-01-01T00:00:00Z", "error");

    CHECK(doc != NULL);
    same(doc, "status document");
    json_decref(doc);
}

/* One array met at two depths (as the rules' arrays in a model): each
 * place has its own indentation. */
static void
test_shared_array(void)
{
    json_t *shared = json_pack("[s, {s:[i]}]", "T", "x", 1);
    json_t *doc = json_pack("{s:O, s:{s:O, s:[O]}}", "a", shared, "b", "c", shared, "d", shared);
    char *t = jsonw_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);

    CHECK(doc != NULL && shared->refcount > 1);
    same(doc, "shared array");
    CHECK(t != NULL && strstr(t, "\n    \"T\"") != NULL && strstr(t, "\n        \"T\"") != NULL);
    free(t);
    json_decref(doc);
    json_decref(shared);
}

/* Deterministic random trees: strings of random bytes fixed up to be
 * valid UTF-8 half of the time. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned
rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static json_t *
random_tree(int depth)
{
    char s[24];
    size_t n;

    switch (depth > 4 ? rnd(4) : rnd(7)) {
    case 0:
        n = rnd(sizeof(s));
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(rnd(2) ? rnd(128) : rnd(256));
        return json_stringn_nocheck(s, n); /* may be invalid UTF-8: both must fail then */
    case 1:
        return json_integer((json_int_t)rnd(1000000) - 500000);
    case 2:
        return rnd(2) ? json_true() : json_null();
    case 3:
        n = rnd(8);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(' ' + rnd(95));
        return json_stringn(s, n);
    case 4:
    case 5: {
        json_t *o = json_object();
        for (unsigned i = rnd(40); i > 0; i--) {
            n = 1 + rnd(6);
            for (size_t k = 0; k < n; k++)
                s[k] = (char)('a' + rnd(4));
            json_object_setn_new_nocheck(o, s, n, random_tree(depth + 1));
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        for (unsigned i = rnd(6); i > 0; i--)
            json_array_append_new(a, random_tree(depth + 1));
        return a;
    }
    }
}

/* Arrays referenced from several places (the rules' threats and
 * requirements in every component) are written once and copied after:
 * the copies must be the same bytes, also when the buffer grows between
 * the first write and a copy, when shared arrays nest, and when a shared
 * array cannot be written at all. */
static void
test_shared(void)
{
    json_t *inner = json_pack("[s,i,{s:[]}]", "x", 7, "k");
    json_t *outer = json_pack("[O,O,s]", inner, inner, "tail");
    json_t *bad = json_array();
    json_t *doc = json_object();
    char k[16];

    /* more distinct shared arrays than the memo's first table holds */
    json_t *many[200];
    for (int i = 0; i < 200; i++) {
        many[i] = json_pack("[i,s]", i, "shared");
        json_incref(many[i]);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof(k), "c%04d", i);
        json_object_set_new(doc, k, json_pack("{s:O,s:O,s:O,s:s}", "threats", many[i % 200],
            "requirements", outer, "nested", inner, "name", k));
    }
    same(doc, "shared arrays");
    /* the same array as the whole document and inside it */
    json_array_append(outer, inner);
    same(outer, "shared at top");
    /* a shared array that fails (invalid UTF-8) fails every dump of it */
    json_array_append_new(bad, json_stringn_nocheck("\xff", 1));
    json_object_set(doc, "bad1", bad);
    json_object_set(doc, "bad2", bad);
    same(doc, "shared bad array");
    for (int i = 0; i < 200; i++) {
        json_decref(many[i]);
        json_decref(many[i]);
    }
    json_decref(bad);
    json_decref(doc);
    json_decref(outer);
    json_decref(inner);
}

/* Objects whose keys are already in order skip the sort; the test covers
 * sorted, reverse and one-out-of-place insertion orders. */
static void
test_key_orders(void)
{
    for (int kind = 0; kind < 3; kind++) {
        for (int n = 2; n <= 40; n += 19) {
            json_t *o = json_object();
            char k[16];
            for (int i = 0; i < n; i++) {
                int v = kind == 0 ? i : kind == 1 ? n - 1 - i : (i == n / 2 ? 0 : i);
                snprintf(k, sizeof(k), "k%03d%s", v, kind == 2 && i == n / 2 ? "z" : "");
                json_object_set_new(o, k, json_integer(i));
            }
            same(o, "key orders");
            json_decref(o);
        }
    }
}

static void
test_random(void)
{
    for (int i = 0; i < 3000; i++) {
        json_t *t = random_tree(0);
        same(t, "random tree");
        json_decref(t);
    }
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    test_strings();
    test_keys();
    test_scalars_and_shapes();
    test_shared();
    test_status_shape();
    test_shared_array();
    test_key_orders();
    test_random();
    test_sample_org(argv[1]);
    test_recorded(argv[2]);
    printf("%zu dumps compared\n", compared);
    TEST_END();
}
