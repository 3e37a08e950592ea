/*
 * itemcache: one target's view, during a read, of the store's item cache
 * (store.h, "The item cache"): the items of its last successful read keyed
 * by the SHA-256 of the text AWS Config returned for each.
 *
 * The worker asks for every Select row (itemcache_known): a row seen last
 * time is not parsed again (its projected form is in the cache); an
 * unknown row is parsed as usual and its hash kept (itemcache_pending) so
 * the new cache can be written. When every row was known and every cached
 * item was seen (itemcache_unchanged), the read equals the last one and the
 * target reuses its stored snapshots without mapping.
 *
 * Only hashes and identities are loaded for that. The projected texts are
 * read from the store when a read did change (itemcache_take_seen), and
 * then only those of the rows seen: an unchanged read of 12,500 items
 * holds ~2 MB instead of ~11 MB, times the workers in flight.
 *
 * Not thread-safe: one per worker. Loading reads the store under the
 * caller's lock.
 */
#pragma once

#include <pthread.h>
#include <stddef.h>

#include "daemon/err.h"

#define ITEMCACHE_HASH_LEN 32

struct store;
struct itemcache;

/* Loads the cached items of account x region made with rules (hashes and
 * identities). *ret is owned by the caller (itemcache_free); st, lock,
 * account_id, region and rules are borrowed and must outlive it
 * (itemcache_take_seen reads the store again). */
MUST_CHECK int itemcache_load(struct store *st, pthread_mutex_t *lock, const char *account_id,
    const char *region, const char *rules, struct itemcache **ret, struct err *err);
void itemcache_free(struct itemcache *c);

/* discover_known_fn's contract (providers/aws/discover.h): 1 with *ret_ident
 * (borrowed from the cache) when the row's text is a cached item not yet
 * seen in this read; 0 otherwise, remembering its hash as pending. */
int itemcache_known(struct itemcache *c, const char *text, size_t len, const char **ret_ident,
    struct err *err);
/* The hash of the last row itemcache_known answered 0 for. */
const unsigned char *itemcache_pending(const struct itemcache *c);

/* True when this read's rows were exactly the cached items. */
int itemcache_unchanged(const struct itemcache *c);
/* Rows answered from the cache so far. */
size_t itemcache_hits(const struct itemcache *c);

/* Reads the projected text of every cached item seen in this read from the
 * store (under the lock), then calls fn for each with its hash and ident
 * (borrowed) and its text (owned by fn from then on, on failure too); fn
 * returning -1 stops with its error. A seen item the store no longer has
 * is an error (ERR_STORE): nothing is mapped from half a read. Once. */
MUST_CHECK int itemcache_take_seen(struct itemcache *c,
    int (*fn)(void *ctx, const unsigned char *hash, const char *ident, char *item,
        struct err *err),
    void *ctx, struct err *err);
