/*
 * fuzz_map.c: mapping discovered items into per-VPC models with the
 * built-in rules (map_target). The input is a JSON array of normalised
 * items as discover.c emits them. Invariant checked: every item is counted
 * once (mapped + unmapped + skipped == items), and every model produced
 * passes diff_check_model (the store refuses anything else).
 * Seeds: the sample organisation's recorded resources.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "mapping/diff.h"
#include "mapping/map.h"

static struct map_rules *rules;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct map_result res;
    struct err err = {0};
    json_error_t jerr;
    json_t *items, *m;
    const char *key;

    if (rules == NULL && map_rules_load(NULL, &rules, &err) < 0)
        abort(); /* the built-in rules must always load */
    if (size > FUZZ_MAX_INPUT)
        return 0;
    items = json_loadb((const char *)data, size, 0, &jerr);
    if (items == NULL)
        return 0;
    memset(&res, 0, sizeof(res));
    if (map_target(rules, "111111111111", "us-east-1", items, &res, &err) == 0) {
        size_t unmapped = 0;
        json_t *v;

        json_object_foreach(res.unmapped, key, v) {
            unmapped += (size_t)json_integer_value(v);
        }
        if (res.items != json_array_size(items) ||
            res.items != res.mapped + unmapped + res.skipped_count)
            abort(); /* an item lost or counted twice */
        json_object_foreach(res.models, key, m) {
            if (diff_check_model(m, key, &err) < 0) {
                fprintf(stderr, "fuzz_map: %s\n", err.msg);
                abort(); /* mapping produced a model the store would refuse */
            }
        }
        map_result_clear(&res);
    }
    json_decref(items);
    return 0;
}
