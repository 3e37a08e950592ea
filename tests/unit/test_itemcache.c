/*
 * test_itemcache.c: the item cache end to end through the store: a read's
 * rows staged (store_stage_items + store_stage_part) and committed by
 * store_apply_staged, loaded back by itemcache_load under another rules
 * digest (nothing) and the same one, then the known/unchanged logic: a
 * repeated row, a new row, a missing row; a reused read keeps the cache,
 * store_apply_target drops it. itemcache_take_seen hands over the texts of
 * the rows seen, and only those, read from the store when asked; a cache
 * rewritten in between is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "daemon/itemcache.h"
#include "store/store.h"
#include "testutil.h"

#define ACCT "111111111111"
#define REG  "us-east-1"
#define T0   1700000000

static const char *const rows[] = {
    "{\"resourceType\":\"AWS::EC2::VPC\",\"resourceId\":\"vpc-1\"}",
    "{\"resourceType\":\"AWS::EC2::Subnet\",\"resourceId\":\"subnet-1\"}",
    "{\"resourceType\":\"AWS::EC2::Instance\",\"resourceId\":\"i-1\"}",
};
static const char *const idents[] = {
    ACCT "/" REG "/AWS::EC2::VPC/vpc-1",
    ACCT "/" REG "/AWS::EC2::Subnet/subnet-1",
    ACCT "/" REG "/AWS::EC2::Instance/i-1",
};

static void
sha(const char *text, unsigned char out[ITEMCACHE_HASH_LEN])
{
    unsigned int n = 0;

    EVP_Digest(text, strlen(text), out, &n, EVP_sha256(), NULL);
}

/* Stages rows[0..n) as a read of target 0 and commits it. */
static int
commit_read(struct store *st, size_t n, int reused, const char *rules)
{
    unsigned char hashes[3][ITEMCACHE_HASH_LEN];
    struct store_staged_item v[3];
    struct err err = {0};
    int64_t run = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        sha(rows[i], hashes[i]);
        v[i].hash = hashes[i];
        v[i].hash_len = ITEMCACHE_HASH_LEN;
        v[i].ident = idents[i];
        v[i].item = rows[i]; /* stands for the projected form */
    }
    rc = store_stage_reset(st, &err) < 0 || (!reused && store_stage_items(st, 0, v, n, &err) < 0) ||
                 store_stage_part(st, 0, ACCT, REG, rules, "{}", reused, &err) < 0 ||
                 store_run_begin(st, T0, &run, &err) < 0 ||
                 store_apply_staged(st, run, T0 + 1, 0, ACCT, REG, NULL, 0, NULL, &err) < 0
             ? -1
             : 0;
    if (rc < 0)
        fprintf(stderr, "commit_read: %s\n", err.msg);
    return rc;
}

/* The store's lock, as the run's workers share it: must outlive the caches. */
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static struct itemcache *
load(struct store *st, const char *rules)
{
    struct itemcache *c = NULL;
    struct err err = {0};

    if (itemcache_load(st, &store_lock, ACCT, REG, rules, &c, &err) < 0)
        fprintf(stderr, "itemcache_load: %s\n", err.msg);
    return c;
}

struct taken {
    int n;
    char text[3][128]; /* the items handed over, by row index */
};

/* Takes each seen item: checks its hash and ident belong together. */
static int
take_one(void *ctx, const unsigned char *hash, const char *ident, char *item, struct err *err)
{
    struct taken *t = ctx;
    unsigned char h[ITEMCACHE_HASH_LEN];

    (void)err;
    CHECK(ident != NULL && item != NULL);
    for (size_t i = 0; item != NULL && i < 3; i++) {
        sha(rows[i], h);
        if (memcmp(h, hash, sizeof(h)) == 0) {
            CHECK_STR(ident, idents[i]);
            snprintf(t->text[i], sizeof(t->text[i]), "%s", item);
        }
    }
    free(item); /* ours now */
    t->n++;
    return 0;
}

static int
ask(struct itemcache *c, const char *text, const char **ident)
{
    struct err err = {0};

    *ident = NULL;
    return itemcache_known(c, text, strlen(text), ident, &err);
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/test_itemcache.XXXXXX", path[600];
    struct store *st = NULL;
    struct itemcache *c;
    struct err err = {0};
    unsigned char h[ITEMCACHE_HASH_LEN];
    const char *ident;
    struct taken took = {0};

    (void)argc;
    (void)argv;
    if (mkdtemp(dir) == NULL)
        return 2;
    snprintf(path, sizeof(path), "%s/state.db", dir);
    CHECK(store_open(path, &st, &err) == 0);
    if (st == NULL)
        return 2;

    /* nothing cached yet: every row is new, never "unchanged" (an empty
     * cache cannot tell a read of nothing from no read) */
    c = load(st, "rules-a");
    CHECK(c != NULL);
    CHECK_INT(ask(c, rows[0], &ident), 0);
    sha(rows[0], h);
    CHECK(memcmp(itemcache_pending(c), h, sizeof(h)) == 0);
    CHECK(!itemcache_unchanged(c));
    itemcache_free(c);

    CHECK(commit_read(st, 2, 0, "rules-a") == 0);

    /* other rules: the cache does not apply */
    c = load(st, "rules-b");
    CHECK_INT(ask(c, rows[0], &ident), 0);
    itemcache_free(c);

    /* the same two rows: known, unchanged */
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[1], &ident), 1);
    CHECK_STR(ident, idents[1]);
    CHECK_INT(ask(c, rows[0], &ident), 1);
    CHECK(itemcache_unchanged(c));
    CHECK_INT(itemcache_hits(c), 2);
    CHECK(itemcache_take_seen(c, take_one, &took, &err) == 0);
    CHECK_INT(took.n, 2);
    CHECK_STR(took.text[0], rows[0]);
    CHECK_STR(took.text[1], rows[1]);
    /* once: the texts were handed over */
    CHECK(itemcache_take_seen(c, take_one, &took, &err) < 0);
    CHECK_CONTAINS(err.msg, "were taken");
    err_clear(&err);
    itemcache_free(c);

    /* a row repeated is not known the second time (the parse path names it) */
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[0], &ident), 1);
    CHECK_INT(ask(c, rows[0], &ident), 0);
    CHECK(!itemcache_unchanged(c));
    itemcache_free(c);

    /* one row missing: not unchanged; one row new: not unchanged; only the
     * row seen is handed over */
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[0], &ident), 1);
    CHECK(!itemcache_unchanged(c));
    CHECK_INT(ask(c, rows[2], &ident), 0);
    CHECK(!itemcache_unchanged(c));
    memset(&took, 0, sizeof(took));
    CHECK(itemcache_take_seen(c, take_one, &took, &err) == 0);
    CHECK_INT(took.n, 1);
    CHECK_STR(took.text[0], rows[0]);
    CHECK_STR(took.text[1], "");
    itemcache_free(c);

    /* the cache rewritten between the load and the take (another read of
     * the target committed): an error naming it, nothing handed over */
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[0], &ident), 1);
    CHECK_INT(ask(c, rows[1], &ident), 1);
    CHECK(commit_read(st, 1, 0, "rules-a") == 0); /* rows[1] gone from the cache */
    memset(&took, 0, sizeof(took));
    CHECK(itemcache_take_seen(c, take_one, &took, &err) < 0);
    CHECK_INT(err.kind, ERR_STORE);
    CHECK_CONTAINS(err.msg, "the item cache of " ACCT "/" REG
        " changed during the read: 1 of 2 known items are gone");
    CHECK_INT(took.n, 0);
    err_clear(&err);
    itemcache_free(c);
    CHECK(commit_read(st, 2, 0, "rules-a") == 0); /* back to rows[0..2) */

    /* a reused read keeps the cache; a changed read replaces it */
    CHECK(commit_read(st, 0, 1, "rules-a") == 0);
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[0], &ident), 1);
    CHECK_INT(ask(c, rows[1], &ident), 1);
    CHECK(itemcache_unchanged(c));
    itemcache_free(c);
    CHECK(commit_read(st, 3, 0, "rules-a") == 0);
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[2], &ident), 1);
    itemcache_free(c);

    /* store_apply_target (no item rows) drops it */
    {
        json_t *none = json_object();

        CHECK(store_apply_target(st, 0, T0 + 5, ACCT, REG, none, NULL, 0, NULL, &err) == 0);
        json_decref(none);
    }
    c = load(st, "rules-a");
    CHECK_INT(ask(c, rows[2], &ident), 0);
    itemcache_free(c);

    store_close(st);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/state.db-shm", dir);
    unlink(path);
    rmdir(dir);
    TEST_END();
}
