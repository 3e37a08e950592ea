/*
 * fuzz_rules.c: the mapping-rules loader. map_rules_parse is the in-memory
 * half of map_rules_load (a user rules file is read, then parsed by it), so
 * the fuzz input is a rules document. When it parses, the rules are also
 * exercised a little (count, type lookup, foreach). Seeds: the built-in
 * mapping/rules.yaml and the rules files of the mapping unit tests.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "mapping/map.h"
#include "mapping/rules.h"

static void
count_type(void *ctx, const char *resource_type)
{
    size_t *n = ctx;

    if (resource_type != NULL)
        (*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct map_rules *rules = NULL;
    struct err err = {0};
    size_t n = 0;
    char *text;

    if (size > FUZZ_MAX_INPUT || (text = fuzz_strndup(data, size)) == NULL)
        return 0;
    if (map_rules_parse("fuzz-rules.yaml", text, size, &rules, &err) == 0) {
        map_rules_foreach_type(rules, count_type, &n);
        if (n != map_rules_count(rules))
            abort(); /* foreach and count disagree on the same rules */
        (void)map_rules_has_type(rules, "AWS::EC2::VPC");
        (void)map_rules_find(rules, "AWS::EC2::Instance");
        map_rules_free(rules);
    }
    free(text);
    return 0;
}
