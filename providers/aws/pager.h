/*
 * pager: the guard every paginated AWS read goes through (Config discovery,
 * Security Hub). A broken or hostile endpoint can hand out NextTokens
 * forever; the pager stops such a read with ERR_REMOTE naming the operation
 * and the page when
 *   - a token repeats one seen earlier in the same pagination (a cycle),
 *   - PAGER_MAX_EMPTY pages in a row carried no items but another token,
 *   - the read passes max_pages pages,
 *   - an item comes back that an earlier page of the same read already
 *     returned (pager_item): a real pagination never repeats a resource or
 *     a finding, a server going round with fresh tokens does.
 * Tokens are remembered in a hash set (exact comparison), so a long
 * pagination costs O(1) per page instead of a scan of every earlier token.
 * Items are remembered as 64-bit FNV-1a hashes of their identity (8 bytes an
 * item); a false repeat needs a 64-bit collision within one read.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/err.h"

/* Consecutive item-less pages that still carry a token. AWS may return an
 * empty page now and then; fifty in a row is a server going round. */
#define PAGER_MAX_EMPTY 50
#define PAGER_MAX_TOKEN 65536 /* bytes; longer tokens are malformed */

struct pager {
    const char *what;   /* "config SelectResourceConfig", for messages (borrowed) */
    long max_pages;
    long page;          /* pages accepted so far */
    long empty_run;     /* consecutive empty pages */
    char **slots;       /* owned tokens, open addressing */
    uint64_t *hashes;
    size_t cap, n;
    const char *last;   /* the last accepted token (in slots) */
    uint64_t *items;    /* item identity hashes, open addressing, 0 = empty */
    size_t icap, in;
};

/* what is borrowed and must outlive the pager; max_pages > 0. */
void pager_init(struct pager *p, const char *what, long max_pages);
void pager_clear(struct pager *p);

/* Called once per page received, with the page's item count and its next
 * token (NULL or "" at the end). Returns 1 to fetch the next page, 0 when the
 * read is complete, -1 (err) when the read must stop. */
MUST_CHECK int pager_next(struct pager *p, size_t items, const char *token, size_t token_len,
    struct err *err);
/* Records one item of the current page by its identity (for a Config item
 * "ACCOUNT/REGION/TYPE/ID", for a finding its Id). Returns 0 for a new item,
 * -1 (err, ERR_REMOTE naming the item) when the read already returned it. */
MUST_CHECK int pager_item(struct pager *p, const char *id, size_t id_len, struct err *err);

/* The token pager_next last accepted (a copy the pager owns, valid until
 * pager_clear), or NULL before the first one. */
const char *pager_token(const struct pager *p);
