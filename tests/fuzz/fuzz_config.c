/*
 * fuzz_config.c: the driftsync.yaml parser (cfg_parse_buffer) on arbitrary
 * bytes. Every input must end in either a struct cfg or a diagnostic list,
 * never a crash, leak or read past the buffer. The configuration itself
 * (and therefore its secret) is freed through cfg_free, which wipes it.
 * Seeds: the examples/ YAML files and the unit-test configurations.
 */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"
#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};
    long secs = 0;
    char *text;

    if (size > FUZZ_MAX_INPUT || (text = fuzz_strndup(data, size)) == NULL)
        return 0;
    if (cfg_parse_buffer("fuzz.yaml", text, size, &cfg, &diag, &err) == 0)
        cfg_free(cfg);
    cfg_diag_clear(&diag);
    /* the duration syntax on its own, too (a short input is the whole text) */
    if (size < 64)
        fuzz_ignore(cfg_parse_duration(text, &secs));
    free(text);
    return 0;
}
