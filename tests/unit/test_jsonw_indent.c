/*
 * test_jsonw_indent: jsonw_dumps with JSON_INDENT(n) writes exactly what
 * json_dumps writes (the feed's compliance.json: JSON_INDENT(2) |
 * JSON_SORT_KEYS); test_jsonw covers the compact forms.
 *
 * Differential: every tree is dumped by both with indents 1, 2, 4 and 31,
 * sorted, in insertion order, and sorted with JSON_COMPACT's separators,
 * and the texts must be equal, or both fail. Trees: every recorded AWS
 * answer under the shared testdata (and every JSON text inside their
 * strings), a status document of the feed's shape, and generated ones:
 * every ASCII byte and the UTF-8 forms in strings and keys, keys with NUL
 * bytes and shared prefixes, objects past the sort's stack size, empty
 * containers at every depth, integers at their limits, reals, deep
 * nesting and random trees. Failures: invalid UTF-8 (both fail), a scalar
 * (both refuse it), NULL. An array shared at two depths is written with
 * each place's indentation (the compact dump writes a shared array once
 * and copies it: not when indenting).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "daemon/jsonw.h"
#include "testutil.h"

static const unsigned indents[] = {1, 2, 4, 31};
static const size_t modes[] = {JSON_SORT_KEYS, 0, JSON_SORT_KEYS | JSON_COMPACT};
static size_t compared;

static void
same(const json_t *j, const char *what)
{
    for (size_t f = 0; f < sizeof(indents) / sizeof(indents[0]); f++) {
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            size_t flags = JSON_INDENT(indents[f]) | modes[m];
            char *a = json_dumps(j, flags), *b = jsonw_dumps(j, flags);

            if (a == NULL || b == NULL)
                CHECK_MSG(a == NULL && b == NULL, "%s flags %#zx: json_dumps %s, jsonw_dumps %s",
                    what, flags, a ? "wrote" : "failed", b ? "wrote" : "failed");
            else
                CHECK_MSG(strcmp(a, b) == 0,
                    "%s flags %#zx: differ\n  jansson: %.300s\n  jsonw:   %.300s", what, flags,
                    a, b);
            compared++;
            free(a);
            free(b);
        }
    }
}

/* same() on j and on every JSON container text inside its strings. */
static void
same_deep(json_t *j, const char *what, int depth)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j) || json_is_array(j))
        same(j, what);
    if (depth > 8)
        return;
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (s[0] == '{' || s[0] == '[') {
            json_t *inner = json_loads(s, 0, NULL);
            if (inner != NULL)
                same_deep(inner, what, depth + 1);
            json_decref(inner);
        }
    } else if (json_is_object(j)) {
        json_object_foreach(j, key, v)
            same_deep(v, what, depth + 1);
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
            same_deep(v, what, depth + 1);
    }
}

static void
walk_dir(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];
    struct stat st;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
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

static void
test_strings(void)
{
    char s[4];
    json_t *obj = json_object(), *arr = json_array();

    for (int c = 0; c < 0x80; c++) {
        s[0] = (char)c;
        json_array_append_new(arr, json_stringn_nocheck(s, 1));
        json_object_setn_new_nocheck(obj, s, 1, json_integer(c));
    }
    same(arr, "bytes 0x00-0x7f (values)");
    same(obj, "bytes 0x00-0x7f (keys)");
    json_decref(arr);
    json_decref(obj);

    static const char *const utf8[] = {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 /slash/ \x7f", ""};
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
        json_t *v = json_pack("[s]", utf8[i]);
        CHECK_MSG(v != NULL, "utf8 case %zu", i);
        same(v, "valid UTF-8");
        json_decref(v);
    }
    static const char *const bad[] = {"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "ok\xc3", "\xe2\x82",
        "\xf0\x9f\x94"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *v = json_pack("{s:[s,o]}", "k", "fine",
            json_stringn_nocheck(bad[i], strlen(bad[i])));
        CHECK_MSG(v != NULL, "bad case %zu", i);
        same(v, "invalid UTF-8 value");
        json_decref(v);
        /* an invalid key: jansson writes broken JSON, jsonw fails */
        v = json_object();
        json_object_setn_new_nocheck(v, bad[i], strlen(bad[i]), json_true());
        CHECK_MSG(jsonw_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS) == NULL,
            "bad key %zu: jsonw wrote", i);
        json_decref(v);
    }
}

static void
test_keys(void)
{
    json_t *o = json_object();
    char k[16];

    static const char *const keys[] = {"a", "ab", "abc", "b", "B", "aB", "", "\xc3\xa9", "z",
        "Z", "_", "a b", "aa"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        json_object_set_new(o, keys[i], json_integer((json_int_t)i));
    json_object_setn_new_nocheck(o, "a\0b", 3, json_string("nul inside"));
    json_object_setn_new_nocheck(o, "a\0", 2, json_string("nul at end"));
    same(o, "keys");
    json_decref(o);

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
        json_object_set_new(o, k, json_pack("{s:i,s:[],s:{}}", "n", i, "a", "o"));
    }
    same(o, "1000 keys");
    json_decref(o);
    /* already in order and one out of place */
    for (int kind = 0; kind < 2; kind++) {
        o = json_object();
        for (int i = 0; i < 40; i++) {
            snprintf(k, sizeof(k), "k%03d", kind == 1 && i == 20 ? 0 : i);
            json_object_set_new(o, k, json_integer(i));
        }
        same(o, "key orders");
        json_decref(o);
    }
}

static void
test_scalars_and_shapes(void)
{
    json_t *v;

    /* empty containers, top level and nested at several depths */
    v = json_array();
    same(v, "empty array");
    json_decref(v);
    v = json_object();
    same(v, "empty object");
    json_decref(v);
    v = json_pack("[[],{},[[]],{s:{}},{s:[{}]}]", "a", "b");
    same(v, "nested empties");
    json_decref(v);
    v = json_pack("[I,I,i,f,f,f,b,b,n]", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN, 0, 0.5,
        -1e300, 3.0, 1, 0);
    same(v, "scalars");
    json_decref(v);
    /* deep nesting */
    v = json_array();
    json_t *cur = v;
    for (int i = 0; i < 200; i++) {
        json_t *next = i % 2 ? json_array() : json_object();
        if (json_is_array(cur))
            json_array_append_new(cur, next);
        else
            json_object_set_new(cur, "k", next);
        cur = next;
    }
    same(v, "deep");
    json_decref(v);

    /* refused: scalars (json_dumps needs JSON_ENCODE_ANY), NULL */
    v = json_string("x");
    CHECK(jsonw_dumps(v, JSON_INDENT(2)) == NULL);
    same(v, "a string");
    json_decref(v);
    v = json_integer(1);
    CHECK(jsonw_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS) == NULL);
    json_decref(v);
    CHECK(jsonw_dumps(NULL, JSON_INDENT(2)) == NULL);
}

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

static void
test_random(void)
{
    for (int i = 0; i < 2000; i++) {
        json_t *t = json_pack("[o]", random_tree(0)); /* a container at the top */
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
    test_status_shape();
    test_shared_array();
    test_random();
    test_recorded(argv[2]);
    printf("%zu dumps compared\n", compared);
    TEST_END();
}
