/*
 * stagefind.h: stages finding summaries the way daemon/target.c does, for
 * the store and compliance tests: each summary (a tree in
 * sh_finding_summarize's shape) in the row form (compliance_row_text for
 * the target's account and region: the id beside the text), one
 * store_stage_finding_rows call. Header-only, like testutil.h.
 */
#pragma once

#include <stdlib.h>

#include <jansson.h>

#include "mapping/compliance.h"
#include "store/store.h"

/* Stages sums (borrowed; the row form is cut from copies) for target of
 * account_id/region, after what is staged already. 0, or -1 with err set. */
static inline int
stagefind_rows(struct store *st, int64_t target, json_t *sums, const char *account_id,
    const char *region, struct err *err)
{
    size_t n = json_array_size(sums);
    struct store_staged_finding *v = calloc(n + 1, sizeof(*v));
    char **ids = calloc(n + 1, sizeof(*ids)), **texts = calloc(n + 1, sizeof(*texts));
    int rc = -1;

    if (v == NULL || ids == NULL || texts == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *copy = json_deep_copy(json_array_get(sums, i));
        int r = copy != NULL
                    ? compliance_row_text(copy, account_id, region, &ids[i], &texts[i], err)
                    : err_set(err, ERR_INTERNAL, "out of memory");

        json_decref(copy);
        if (r < 0)
            goto out;
        v[i].id = ids[i];
        v[i].text = texts[i];
    }
    rc = store_stage_finding_rows(st, target, v, n, err);
out:
    for (size_t i = 0; i < n && ids != NULL && texts != NULL; i++) {
        free(ids[i]);
        free(texts[i]);
    }
    free(ids);
    free(texts);
    free(v);
    return rc;
}
