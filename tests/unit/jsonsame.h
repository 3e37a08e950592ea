/*
 * jsonsame.h: "the same tree", as the jsonr differential checks mean it
 * (tests/unit/test_jsonr.c and tests/fuzz/fuzz_jsonr.c): equal values
 * (json_equal), the same type at every node (checked on its own rather
 * than left to json_equal), and the same compact dump both in key order and
 * in insertion order (a duplicate key keeps its first position). Header-only.
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Same type at every node (json_equal already compares values). */
static int
jsonsame_types(json_t *a, json_t *b)
{
    const char *k;
    json_t *v;
    size_t i;

    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach(a, k, v) {
            json_t *w = json_object_get(b, k);

            if (w == NULL || !jsonsame_types(v, w))
                return 0;
        }
    } else if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (i = 0; i < json_array_size(a); i++)
            if (!jsonsame_types(json_array_get(a, i), json_array_get(b, i)))
                return 0;
    }
    return 1;
}

static int
jsonsame_dump(json_t *a, json_t *b, size_t flags)
{
    char *da = json_dumps(a, flags | JSON_COMPACT | JSON_ENCODE_ANY);
    char *db = json_dumps(b, flags | JSON_COMPACT | JSON_ENCODE_ANY);
    int same = da != NULL && db != NULL && strcmp(da, db) == 0;

    free(da);
    free(db);
    return same;
}

/* 1 when a and b (both non-NULL) are the same tree in every sense above. */
static int
jsonsame_trees(json_t *a, json_t *b)
{
    return json_equal(a, b) && jsonsame_types(a, b) && jsonsame_dump(a, b, JSON_SORT_KEYS) &&
           jsonsame_dump(a, b, 0);
}
