/*
 * fuzz_model.c: model import. A model file given to `driftsync model
 * import` is parsed with jansson and validated by diff_check_model before
 * anything else touches it; a valid one is then diffed (diff_models,
 * diff_match_designed, diff_entry_id) against itself and against an empty
 * model, which is what store_model_put's reconciliation does with it.
 * Invariant checked: a model diffed against itself has no entries.
 * Seeds: the sample organisation's models and the diff/store unit data.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "mapping/diff.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *model, *entries = NULL, *matches = NULL;
    json_error_t jerr;
    struct err err = {0};
    size_t i;
    json_t *e;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    model = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (model == NULL)
        return 0;
    if (diff_check_model(model, "fuzz model", &err) < 0)
        goto out;
    if (diff_models(model, model, NULL, 0, &entries, &err) == 0) {
        if (json_array_size(entries) != 0)
            abort(); /* a model must agree with itself */
        json_decref(entries);
        entries = NULL;
    }
    if (diff_models(model, NULL, NULL, 0, &entries, &err) == 0) {
        json_array_foreach(entries, i, e) {
            free(diff_entry_id(e));
        }
        json_decref(entries);
        entries = NULL;
    }
    if (diff_models(NULL, model, NULL, 0, &entries, &err) == 0) {
        json_decref(entries);
        entries = NULL;
    }
    if (diff_match_designed(model, model, &matches, &err) == 0)
        json_decref(matches);
out:
    json_decref(model);
    return 0;
}
