/*
 * itemcache.c: see itemcache.h. An open-addressing table indexed by the
 * first bytes of each SHA-256 (uniformly spread already), sized to a power
 * of two at least twice the entries. An entry is a hash and an identity
 * (~130 bytes with the slot) while the read runs; the projected texts of the
 * rows seen join only when the read turned out changed (take_seen).
 * Each row is hashed with one digest context kept for the read (made at
 * the first row): EVP_Digest would allocate a context and look SHA-256 up
 * in OpenSSL's provider tables for every row, 15% of the hash of a 2 KB row.
 */
#include "daemon/itemcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store/store.h"

struct entry {
    unsigned char hash[ITEMCACHE_HASH_LEN];
    char *ident; /* owned */
    char *item;  /* owned; only between take_seen's read and its hand-over */
    int seen;
};

struct itemcache {
    struct entry *v; /* owned */
    size_t n, cap;   /* entries; cap items in v */
    size_t *slots;   /* owned: index + 1 into v, 0 = empty; nslots a power of two */
    size_t nslots;
    size_t hits, misses;
    unsigned char pending[ITEMCACHE_HASH_LEN];
    EVP_MD *md;      /* owned: SHA-256, fetched at the first row */
    EVP_MD_CTX *mdc; /* owned */
    /* borrowed from itemcache_load's caller, for take_seen */
    struct store *st;
    pthread_mutex_t *lock;
    const char *account_id, *region, *rules;
    int taken;
};

static size_t
slot_of(const unsigned char *hash, size_t nslots)
{
    uint64_t h;

    memcpy(&h, hash, sizeof(h));
    return (size_t)h & (nslots - 1);
}

static int
add(void *ctx, const unsigned char *hash, size_t hash_len, const char *ident, const char *item,
    struct err *err)
{
    struct itemcache *c = ctx;
    struct entry *e;

    (void)item; /* not loaded (take_seen reads the texts it needs) */
    if (hash_len != ITEMCACHE_HASH_LEN || ident == NULL)
        return 0; /* not one of ours: ignored, the row is simply parsed */
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        struct entry *grown = realloc(c->v, ncap * sizeof(*grown));

        if (grown == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory loading the item cache");
        c->v = grown;
        c->cap = ncap;
    }
    e = &c->v[c->n];
    memcpy(e->hash, hash, ITEMCACHE_HASH_LEN);
    e->ident = strdup(ident);
    e->item = NULL;
    e->seen = 0;
    if (e->ident == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory loading the item cache");
    c->n++;
    return 0;
}

static int
index_entries(struct itemcache *c, struct err *err)
{
    c->nslots = 16;
    while (c->nslots < c->n * 2)
        c->nslots *= 2;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    if (c->slots == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory indexing the item cache");
    for (size_t i = 0; i < c->n; i++) {
        size_t s = slot_of(c->v[i].hash, c->nslots);

        while (c->slots[s] != 0)
            s = (s + 1) & (c->nslots - 1);
        c->slots[s] = i + 1;
    }
    return 0;
}

int
itemcache_load(struct store *st, pthread_mutex_t *lock, const char *account_id,
    const char *region, const char *rules, struct itemcache **ret, struct err *err)
{
    struct itemcache *c = calloc(1, sizeof(*c));
    int rc;

    if (c == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    c->st = st;
    c->lock = lock;
    c->account_id = account_id;
    c->region = region;
    c->rules = rules;
    pthread_mutex_lock(lock);
    rc = store_item_cache_load(st, account_id, region, rules, 0, add, c, err);
    pthread_mutex_unlock(lock);
    if (rc < 0 || index_entries(c, err) < 0) {
        itemcache_free(c);
        return -1;
    }
    *ret = c;
    return 0;
}

void
itemcache_free(struct itemcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].ident);
        free(c->v[i].item);
    }
    free(c->v);
    free(c->slots);
    EVP_MD_CTX_free(c->mdc);
    EVP_MD_free(c->md);
    free(c);
}

int
itemcache_known(struct itemcache *c, const char *text, size_t len, const char **ret_ident,
    struct err *err)
{
    unsigned int mdlen = 0;
    size_t s;

    if ((c->md == NULL && (c->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) ||
        (c->mdc == NULL && (c->mdc = EVP_MD_CTX_new()) == NULL))
        return err_set(err, ERR_INTERNAL, "SHA-256 unavailable");
    if (EVP_DigestInit_ex2(c->mdc, c->md, NULL) != 1 ||
        EVP_DigestUpdate(c->mdc, text, len) != 1 ||
        EVP_DigestFinal_ex(c->mdc, c->pending, &mdlen) != 1 || mdlen != ITEMCACHE_HASH_LEN)
        return err_set(err, ERR_INTERNAL, "SHA-256 failed");
    for (s = slot_of(c->pending, c->nslots); c->slots[s] != 0; s = (s + 1) & (c->nslots - 1)) {
        struct entry *e = &c->v[c->slots[s] - 1];

        if (memcmp(e->hash, c->pending, ITEMCACHE_HASH_LEN) == 0) {
            if (e->seen)
                break; /* the same row twice: parsed, so the repeat check names it */
            e->seen = 1;
            c->hits++;
            *ret_ident = e->ident;
            return 1;
        }
    }
    c->misses++;
    return 0;
}

const unsigned char *
itemcache_pending(const struct itemcache *c)
{
    return c->pending;
}

int
itemcache_unchanged(const struct itemcache *c)
{
    return c->n > 0 && c->misses == 0 && c->hits == c->n;
}

size_t
itemcache_hits(const struct itemcache *c)
{
    return c->hits;
}

/* take_seen's store callback: the text of a seen entry with this hash that
 * has none yet (a hash cached twice fills one entry per row). */
static int
fill(void *ctx, const unsigned char *hash, size_t hash_len, const char *ident, const char *item,
    struct err *err)
{
    struct itemcache *c = ctx;

    (void)ident;
    if (hash_len != ITEMCACHE_HASH_LEN || item == NULL)
        return 0;
    for (size_t s = slot_of(hash, c->nslots); c->slots[s] != 0; s = (s + 1) & (c->nslots - 1)) {
        struct entry *e = &c->v[c->slots[s] - 1];

        if (e->seen && e->item == NULL && memcmp(e->hash, hash, ITEMCACHE_HASH_LEN) == 0) {
            e->item = strdup(item);
            if (e->item == NULL)
                return err_set(err, ERR_INTERNAL, "out of memory reading the item cache");
            return 0;
        }
    }
    return 0;
}

int
itemcache_take_seen(struct itemcache *c,
    int (*fn)(void *ctx, const unsigned char *hash, const char *ident, char *item,
        struct err *err),
    void *ctx, struct err *err)
{
    size_t missing = 0;
    int rc;

    if (c->taken)
        return err_set(err, ERR_INTERNAL, "item cache of %s/%s: the seen items were taken",
            c->account_id, c->region);
    c->taken = 1;
    pthread_mutex_lock(c->lock);
    rc = store_item_cache_load(c->st, c->account_id, c->region, c->rules, 1, fill, c, err);
    pthread_mutex_unlock(c->lock);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        missing += c->v[i].seen && c->v[i].item == NULL;
    if (missing > 0) /* rewritten since itemcache_load: the identities known may not hold */
        return err_set(err, ERR_STORE,
            "the item cache of %s/%s changed during the read: %zu of %zu known items are gone",
            c->account_id, c->region, missing, c->hits);
    for (size_t i = 0; i < c->n; i++) {
        char *item = c->v[i].item;

        if (!c->v[i].seen)
            continue;
        c->v[i].item = NULL;
        if (fn(ctx, c->v[i].hash, c->v[i].ident, item, err) < 0)
            return -1;
    }
    return 0;
}
