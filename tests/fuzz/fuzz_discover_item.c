/*
 * fuzz_discover_item.c: the two normalisers on one JSON value each:
 * discover_normalize_select_row (a SelectResourceConfig result row, a JSON
 * document inside a string) and discover_normalize_base_item (a
 * BatchGetResourceConfig baseConfigurationItem, configuration as a JSON
 * string). The input is tried as both, and as the string a select row
 * carries. Seeds: rows and items from the recorded responses.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "providers/aws/discover.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v, *s, *out;
    json_error_t jerr;
    struct err err = {0};

    if (size > FUZZ_MAX_INPUT)
        return 0;
    /* as the string a select page carries in Results[] */
    s = json_stringn_nocheck((const char *)data, size);
    if (s != NULL) {
        out = discover_normalize_select_row(s, &err);
        json_decref(out);
        json_decref(s);
    }
    v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        return 0;
    out = discover_normalize_select_row(v, &err);
    json_decref(out);
    out = discover_normalize_base_item(v, &err);
    json_decref(out);
    json_decref(v);
    return 0;
}
