/*
 * fuzz_jsonr.c: differential fuzzing of jsonr_loadb (daemon/jsonr.c)
 * against jansson's json_loadb. Input: the first byte picks the flags (its
 * low three bits: JSON_DECODE_ANY, JSON_ALLOW_NUL, JSON_REJECT_DUPLICATES),
 * the rest is the JSON text, handed to both parsers in an exact-size heap
 * copy (no NUL after it, so ASan sees any read past buf+len). Both must fail,
 * or both succeed with json_equal trees, the same type at every node and the
 * same compact dump (sorted and in insertion order); anything else aborts
 * so the fuzzer reports it. A failing jsonr must also have filled its error
 * (text, a position inside the input). Seeds: corpus/jsonr/ (recorded AWS
 * answers, a Select row, escapes, deep nesting, number edge cases).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "../unit/jsonsame.h"
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t bits[] = {JSON_DECODE_ANY, JSON_ALLOW_NUL, JSON_REJECT_DUPLICATES};
    size_t flags = 0, len, i;
    json_error_t ej, er;
    json_t *j, *r;
    char *buf;
    int ok;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    for (i = 0; i < 3; i++)
        if (data[0] & (1u << i))
            flags |= bits[i];
    len = size - 1;
    buf = malloc(len ? len : 1);
    if (buf == NULL)
        return 0;
    if (len)
        memcpy(buf, data + 1, len);
    j = json_loadb(buf, len, flags, &ej);
    r = jsonr_loadb(buf, len, flags, &er);
    if (j == NULL && r == NULL)
        ok = er.text[0] != '\0' && er.position >= 0 && (size_t)er.position <= len;
    else if (j != NULL && r != NULL)
        ok = jsonsame_trees(j, r);
    else
        ok = 0;
    if (!ok) {
        fprintf(stderr, "fuzz_jsonr: disagreement, flags 0x%zx: jansson %s, jsonr %s\n", flags,
            j ? "ok" : ej.text, r ? "ok" : er.text);
        abort();
    }
    json_decref(j);
    json_decref(r);
    free(buf);
    return 0;
}
