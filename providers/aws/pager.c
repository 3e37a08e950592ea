/*
 * pager.c: see pager.h. The token set grows by doubling and keeps its load
 * under one half; FNV-1a spreads the tokens, exact strcmp decides.
 */
#include "providers/aws/pager.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void
pager_init(struct pager *p, const char *what, long max_pages)
{
    memset(p, 0, sizeof(*p));
    p->what = what;
    p->max_pages = max_pages > 0 ? max_pages : 1;
}

void
pager_clear(struct pager *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->cap; i++)
        free(p->slots[i]);
    free(p->slots);
    free(p->hashes);
    free(p->items);
    p->slots = NULL;
    p->hashes = NULL;
    p->items = NULL;
    p->cap = p->n = 0;
    p->icap = p->in = 0;
    p->last = NULL;
}

int
pager_item(struct pager *p, const char *id, size_t id_len, struct err *err)
{
    uint64_t h = fnv1a(id, id_len);
    size_t j;

    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    if ((p->in + 1) * 2 > p->icap) {
        size_t ncap = p->icap ? p->icap * 2 : 1024;
        uint64_t *items = calloc(ncap, sizeof(*items));

        if (items == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory remembering items");
        for (size_t i = 0; i < p->icap; i++) {
            if (p->items[i] == 0)
                continue;
            for (j = p->items[i] & (ncap - 1); items[j] != 0; j = (j + 1) & (ncap - 1)) {
            }
            items[j] = p->items[i];
        }
        free(p->items);
        p->items = items;
        p->icap = ncap;
    }
    for (j = h & (p->icap - 1); p->items[j] != 0; j = (j + 1) & (p->icap - 1)) {
        if (p->items[j] == h)
            return err_set(err, ERR_REMOTE,
                "%s: page %ld returns '%.*s' again, which an earlier page already did; "
                "stopping a pagination that goes round",
                p->what, p->page + 1, (int)(id_len > 200 ? 200 : id_len), id);
    }
    p->items[j] = h;
    p->in++;
    return 0;
}

const char *
pager_token(const struct pager *p)
{
    return p->last;
}

static int
grow(struct pager *p, struct err *err)
{
    size_t ncap = p->cap ? p->cap * 2 : 64;
    char **slots = calloc(ncap, sizeof(*slots));
    uint64_t *hashes = calloc(ncap, sizeof(*hashes));

    if (slots == NULL || hashes == NULL) {
        free(slots);
        free(hashes);
        return err_set(err, ERR_INTERNAL, "out of memory remembering pagination tokens");
    }
    for (size_t i = 0; i < p->cap; i++) {
        size_t j;

        if (p->slots[i] == NULL)
            continue;
        for (j = p->hashes[i] & (ncap - 1); slots[j] != NULL; j = (j + 1) & (ncap - 1)) {
        }
        slots[j] = p->slots[i];
        hashes[j] = p->hashes[i];
    }
    free(p->slots);
    free(p->hashes);
    p->slots = slots;
    p->hashes = hashes;
    p->cap = ncap;
    return 0;
}

/* 1 when the token was seen before, 0 when it is new (and now remembered). */
static int
remember(struct pager *p, const char *tok, size_t len, struct err *err)
{
    uint64_t h = fnv1a(tok, len);
    size_t j;

    if ((p->n + 1) * 2 > p->cap && grow(p, err) < 0)
        return -1;
    for (j = h & (p->cap - 1); p->slots[j] != NULL; j = (j + 1) & (p->cap - 1)) {
        if (p->hashes[j] == h && strlen(p->slots[j]) == len && memcmp(p->slots[j], tok, len) == 0)
            return 1;
    }
    p->slots[j] = strndup(tok, len);
    if (p->slots[j] == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory remembering pagination tokens");
    p->hashes[j] = h;
    p->n++;
    p->last = p->slots[j];
    return 0;
}

int
pager_next(struct pager *p, size_t items, const char *token, size_t token_len, struct err *err)
{
    int r;

    p->page++;
    if (token == NULL || token_len == 0)
        return 0;
    if (token_len > PAGER_MAX_TOKEN || memchr(token, '\0', token_len) != NULL)
        return err_set(err, ERR_REMOTE, "%s: page %ld has a malformed NextToken", p->what,
            p->page);
    p->empty_run = items == 0 ? p->empty_run + 1 : 0;
    if (p->empty_run >= PAGER_MAX_EMPTY)
        return err_set(err, ERR_REMOTE,
            "%s: %ld pages in a row without items but with a NextToken (page %ld); stopping "
            "a pagination that would never end",
            p->what, p->empty_run, p->page);
    r = remember(p, token, token_len, err);
    if (r < 0)
        return -1;
    if (r > 0)
        return err_set(err, ERR_REMOTE,
            "%s: page %ld repeats an earlier NextToken; stopping a pagination that would "
            "never end",
            p->what, p->page);
    if (p->page >= p->max_pages)
        return err_set(err, ERR_REMOTE, "%s: more than %ld pages; stopping", p->what,
            p->max_pages);
    return 1;
}
