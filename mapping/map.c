/*
 * map.c: one target's AWS Config items -> one threat model per VPC plus an
 * account model, driven by the rules of rules.c.
 *
 * Flow of map_target: validate and index every item once (hash by
 * type+id, ARN, bare id, type+name), resolve each item's VPC through its
 * rule's references (memoised, depth-limited, so chains like RDS -> DB
 * subnet group -> VPC cost O(1) amortised), classify subnets as public
 * (its route table, or the VPC's main one, sends 0.0.0.0/0 or ::/0 to an
 * igw-) or private, emit boundaries and components, then derive flows:
 * security-group ingress (A -> B when B's group admits A's group; Internet
 * -> B when B's group admits 0.0.0.0/0 or ::/0 and B sits in a public
 * subnet) and the flows rules declare (listener -> target group, ...).
 * Everything is sorted at the end (components and boundaries by key, flows
 * by from, to, label), and ties while indexing are broken by content, so
 * the same items in any order give byte-identical models.
 *
 * Nothing is dropped silently: an item is mapped, counted in unmapped (no
 * rule for its type), or listed in skipped with a reason (malformed, VPC
 * not found, deleted, duplicate). Choice: a VPC-scoped resource whose VPC
 * cannot be found is skipped with a reason rather than parked under a fake
 * VPC key, so no model ever holds a VPC that does not exist.
 *
 * Speed (issue 8), without changing an output byte: an item's members are
 * read in one walk over its keys (values prefetched), not one lookup each;
 * the index never copies or assembles a key: a slot points at the item's
 * own id, ARN or name (or the entry's component key) and carries a tag
 * (kind of key and the type's small id), the key's length and hash, and is
 * sized from the item count, its slots prefetched a few entries ahead;
 * names are indexed only when a relationship first needs one; rule paths
 * whose first segment is a member the entry holds (configuration, tags,
 * resourceId, resourceType, relationships; rules.c marks them) start at
 * it, and `[]` references are walked with a visitor instead of a scratch
 * list; the flows made are a set of (model, from, to, label) numbers and a
 * label is one shared JSON string;
 * components, boundaries and flows are gathered as sort records (keys read
 * once) and moved into the model arrays sorted; a flow is made once per
 * (model, from, to, label), which is the one the final de-duplication kept
 * before; strings many objects repeat are one shared JSON string (component
 * keys, which flows reuse; boundary ids; the rules' type and role; the
 * protocols); and every object is built with its keys in sorted order, so
 * a canonical dump finds them sorted (tags and attribute values come from
 * the items and keep the items' order).
 * Pure: no I/O, no logging.
 */
#include "mapping/map.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "daemon/jsonw.h"
#include "daemon/util.h"
#include "mapping/model.h"
#include "mapping/rules.h"

#define MAP_MAX_DEPTH  4    /* reference chains followed (RDS -> subnet group -> VPC) */
#define MAP_MAX_ID     2048 /* longer ids/ARNs are malformed */
#define MAP_NO_ENTRY   SIZE_MAX
#define MAP_INTERNET   (SIZE_MAX - 1)
/* Entry numbers, type ids (shifted by 3 in an index tag) and flow ends are
 * kept in 32 bits. */
#define MAP_MAX_ITEMS  (1u << 28)

/* ---- a small string -> size_t hash map (keys owned) ---- */

/* Keys live in an arena of large blocks (freed together): the index holds
 * four keys per item, and one malloc per key was a tenth of mapping time.
 * Each slot keeps its key's hash and length, so a probe compares a 64-bit
 * hash before it ever touches the key's bytes, and keys are hashed a word at
 * a time with their length known (no strlen, no byte loop). The index is
 * sized from the item count up front, so it never grows while indexing. */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

struct strmap_slot {
    uint64_t hash;
    const char *key; /* into arena; NULL: empty slot */
    size_t len;
    size_t val;
};

struct strmap {
    size_t cap, n;
    struct strmap_slot *slots;
    struct arena_block *arena;
};

#define ARENA_BLOCK (64 * 1024)

static char *
arena_memdup(struct arena_block **head, const char *s, size_t len)
{
    struct arena_block *b = *head;
    char *out;

    len++; /* the NUL */
    if (b == NULL || b->cap - b->used < len) {
        size_t cap = len > ARENA_BLOCK ? len : ARENA_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    out = b->data + b->used;
    memcpy(out, s, len - 1);
    out[len - 1] = '\0';
    b->used += len;
    return out;
}

/* 64-bit multiply-xorshift over 8-byte words, tag mixed into the start
 * (not seeded: like the FNV it replaced, it only spreads ids over slots;
 * the output never depends on it). */
static uint64_t
hash_tagged(uint64_t tag, const char *s, size_t n)
{
    const uint64_t m = 0xff51afd7ed558ccdULL;
    uint64_t h = (0x9e3779b97f4a7c15ULL + tag * 0xc2b2ae3d27d4eb4fULL) ^ (n * m);
    uint64_t w;

    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * m;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t
hash_mem(const char *s, size_t n)
{
    return hash_tagged(0, s, n);
}

static void
strmap_clear(struct strmap *m)
{
    while (m->arena != NULL) {
        struct arena_block *next = m->arena->next;
        free(m->arena);
        m->arena = next;
    }
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* The slot holding key, or the empty slot where it would go (cap > 0). */
static struct strmap_slot *
strmap_slot(const struct strmap *m, const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);

    while (m->slots[i].key != NULL) {
        const struct strmap_slot *sl = &m->slots[i];
        if (sl->hash == h && sl->len == len && memcmp(sl->key, key, len) == 0)
            return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return &m->slots[i];
}

static size_t
strmap_getn(const struct strmap *m, const char *key, size_t len)
{
    const struct strmap_slot *sl;

    if (m->cap == 0)
        return MAP_NO_ENTRY;
    sl = strmap_slot(m, key, len, hash_mem(key, len));
    return sl->key == NULL ? MAP_NO_ENTRY : sl->val;
}

static size_t
strmap_get(const struct strmap *m, const char *key)
{
    return strmap_getn(m, key, strlen(key));
}

/* Makes room for n keys at a load of at most one half; 0 or -1 (OOM). */
static int
strmap_reserve(struct strmap *m, size_t n)
{
    struct strmap_slot *slots;
    size_t cap = 64;

    while (cap / 2 < n)
        cap *= 2;
    if (cap <= m->cap)
        return 0;
    slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        const struct strmap_slot *sl = &m->slots[i];
        size_t j;
        if (sl->key == NULL)
            continue;
        for (j = (size_t)sl->hash & (cap - 1); slots[j].key != NULL; j = (j + 1) & (cap - 1))
            ;
        slots[j] = *sl;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* Returns a pointer to the value slot (new slots hold MAP_NO_ENTRY), NULL on
 * OOM; *ret_new (may be NULL) says whether the key was added. */
static size_t *
strmap_putn(struct strmap *m, const char *key, size_t len, int *ret_new)
{
    struct strmap_slot *sl;
    uint64_t h;

    if (ret_new != NULL)
        *ret_new = 0;
    if ((m->n + 1) * 2 > m->cap && strmap_reserve(m, m->n + 1 > 32 ? (m->n + 1) * 2 : 32) < 0)
        return NULL;
    h = hash_mem(key, len);
    sl = strmap_slot(m, key, len, h);
    if (sl->key != NULL)
        return &sl->val;
    sl->key = arena_memdup(&m->arena, key, len);
    if (sl->key == NULL)
        return NULL;
    sl->hash = h;
    sl->len = len;
    sl->val = MAP_NO_ENTRY;
    m->n++;
    if (ret_new != NULL)
        *ret_new = 1;
    return &sl->val;
}

static size_t *
strmap_put(struct strmap *m, const char *key)
{
    return strmap_putn(m, key, strlen(key), NULL);
}

/* ---- the item index: (kind, type, string) -> entry ----
 *
 * Keys are not copied: each slot points at the string it was made from (an
 * item's id, ARN or name, or a component key the entry owns), all of which
 * outlive the index, and keeps its length and a tag: the kind of key and,
 * for keys scoped by a type, the type's small id (ctx.types). So a key is
 * never assembled into a buffer, and a probe compares hash, tag and length
 * before any byte. Lengths are C-string lengths, as the ids are read. */
enum ix_kind {
    IX_T = 1, /* type + id */
    IX_A,     /* ARN */
    IX_I,     /* bare id */
    IX_N,     /* type + resourceName */
    IX_K,     /* component key */
};

#define IX_TAG(kind, tid) ((uint32_t)(kind) | ((uint32_t)(tid) << 3))

/* 24 bytes, so the index of a large target stays small: lengths, type ids
 * and entry numbers fit 32 bits (map_target refuses more items). */
struct ixslot {
    const char *key; /* borrowed; NULL: empty slot */
    uint32_t hash;   /* the low half of the key's hash */
    uint32_t tag;
    uint32_t len;
    uint32_t val;    /* entry number, or IX_NONE */
};

#define IX_NONE  UINT32_MAX
#define IX_AHEAD 8 /* entries ahead whose slots are prefetched while indexing */

struct index {
    size_t cap, n;
    struct ixslot *slots; /* owned */
};

static struct ixslot *
ix_slot(const struct index *ix, uint32_t tag, const char *key, size_t len, uint32_t h)
{
    size_t i = (size_t)h & (ix->cap - 1);

    while (ix->slots[i].key != NULL) {
        const struct ixslot *sl = &ix->slots[i];
        if (sl->hash == h && sl->tag == tag && sl->len == len && memcmp(sl->key, key, len) == 0)
            return &ix->slots[i];
        i = (i + 1) & (ix->cap - 1);
    }
    return &ix->slots[i];
}

/* Room for n keys at a load of at most one half; 0 or -1 (OOM). */
static int
ix_reserve(struct index *ix, size_t n)
{
    struct ixslot *slots;
    size_t cap = 64;

    while (cap / 2 < n)
        cap *= 2;
    if (cap <= ix->cap)
        return 0;
    slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        const struct ixslot *sl = &ix->slots[i];
        size_t j;
        if (sl->key == NULL)
            continue;
        for (j = (size_t)sl->hash & (cap - 1); slots[j].key != NULL; j = (j + 1) & (cap - 1))
            ;
        slots[j] = *sl;
    }
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return 0;
}

static size_t
ix_get(const struct index *ix, uint32_t tag, const char *key, size_t len)
{
    const struct ixslot *sl;

    if (ix->cap == 0 || len > UINT32_MAX)
        return MAP_NO_ENTRY;
    sl = ix_slot(ix, tag, key, len, (uint32_t)hash_tagged(tag, key, len));
    return sl->key == NULL || sl->val == IX_NONE ? MAP_NO_ENTRY : sl->val;
}

/* Starts loading the slot where key's probe begins (a put or get soon). */
static void
ix_prefetch(const struct index *ix, uint32_t tag, const char *key, size_t len)
{
    if (ix->cap > 0)
        __builtin_prefetch(&ix->slots[(size_t)hash_tagged(tag, key, len) & (ix->cap - 1)]);
}

/* The value slot of key (new slots hold IX_NONE), NULL on OOM; key must
 * outlive the index, and be at most MAP_MAX_ID + 130 bytes long. */
static uint32_t *
ix_put(struct index *ix, uint32_t tag, const char *key, size_t len)
{
    struct ixslot *sl;
    uint32_t h;

    if ((ix->n + 1) * 2 > ix->cap && ix_reserve(ix, ix->n + 1 > 32 ? (ix->n + 1) * 2 : 32) < 0)
        return NULL;
    h = (uint32_t)hash_tagged(tag, key, len);
    sl = ix_slot(ix, tag, key, len, h);
    if (sl->key == NULL) {
        sl->key = key;
        sl->hash = h;
        sl->tag = tag;
        sl->len = (uint32_t)len;
        sl->val = IX_NONE;
        ix->n++;
    }
    return &sl->val;
}

/* ---- the set of flows made: (model, from, to, label) as numbers ---- */

struct flowkey {
    uint32_t model, from, to, label; /* label + 1: 0 marks an empty slot */
};

struct flowset {
    size_t cap, n;
    struct flowkey *v; /* owned */
};

static size_t
flowkey_slot(const struct flowkey *v, size_t cap, const struct flowkey *k)
{
    uint64_t h = ((uint64_t)k->model << 32 | k->label) * 0x9e3779b97f4a7c15ULL;
    size_t i;

    h ^= ((uint64_t)k->from << 32 | k->to) * 0xc2b2ae3d27d4eb4fULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    for (i = (size_t)h & (cap - 1); v[i].label != 0; i = (i + 1) & (cap - 1)) {
        if (v[i].label == k->label && v[i].from == k->from && v[i].to == k->to &&
            v[i].model == k->model)
            break;
    }
    return i;
}

/* Adds k; 1 when it was new, 0 when already there, -1 on OOM. */
static int
flowset_add(struct flowset *fs, const struct flowkey *k)
{
    size_t i;

    if ((fs->n + 1) * 2 > fs->cap) {
        size_t cap = fs->cap == 0 ? 1024 : fs->cap * 2;
        struct flowkey *g = calloc(cap, sizeof(*g));
        if (g == NULL)
            return -1;
        for (size_t j = 0; j < fs->cap; j++) {
            if (fs->v[j].label != 0)
                g[flowkey_slot(g, cap, &fs->v[j])] = fs->v[j];
        }
        free(fs->v);
        fs->v = g;
        fs->cap = cap;
    }
    i = flowkey_slot(fs->v, fs->cap, k);
    if (fs->v[i].label != 0)
        return 0;
    fs->v[i] = *k;
    fs->n++;
    return 1;
}

/* ---- growable list of size_t ---- */

struct idvec {
    size_t n, cap;
    size_t *v;
};

static int
idvec_push(struct idvec *iv, size_t x)
{
    if (iv->n == iv->cap) {
        size_t cap = iv->cap == 0 ? 4 : iv->cap * 2;
        size_t *g = realloc(iv->v, cap * sizeof(*g));
        if (g == NULL)
            return -1;
        iv->v = g;
        iv->cap = cap;
    }
    iv->v[iv->n++] = x;
    return 0;
}

/* ---- mapping state ---- */

struct entry {
    json_t *item;   /* borrowed from the input */
    json_t *config; /* new reference: configuration as an object (parsed if a string), or NULL */
    const char *type, *id, *arn, *name;
    size_t idlen, arnlen, namelen; /* strlen of id, arn, name */
    size_t tid;                    /* the type's small id (ctx.types) */
    json_t *typev, *idv;           /* borrowed: the item's resourceType and resourceId */
    json_t *tags, *rels;           /* borrowed: the item's tags and relationships, or NULL */
    json_t *configv;               /* borrowed: the item's configuration as sent, or NULL */
    const struct map_rule *rule;
    json_t *keyj;    /* owned: component key as a JSON string (shared by its flows), or NULL */
    const char *key; /* borrowed from keyj */
    json_t *idj;     /* owned: subnets, the id as the JSON string of components' "boundary" */
    char *vpc;       /* owned: resolved VPC id, or NULL */
    int vpc_state;   /* 0 not yet, 1 resolving (cycle guard), 2 done */
    int cfg_direct;  /* config is the item's own "configuration" object (not parsed) */
    int is_public;   /* subnets: routes 0.0.0.0/0 to an igw */
    size_t model;    /* index into ctx.models, or MAP_NO_ENTRY */
    json_t *comp;    /* borrowed: the component object in its model */
    json_t *boundaryj; /* owned: boundary key of the component (a shared JSON string) */
    const char *boundary; /* borrowed from boundaryj */
    int skipped;
};

/* A model's components, boundaries or flows until finish_model sorts them:
 * up to three sort keys (borrowed from the element) read once when the
 * element is made, not looked up per comparison, and the position as the
 * last key, so ties keep the order elements were made in. */
struct sortrec {
    const char *k[3];
    size_t pos;
    json_t *v; /* owned until moved into the model's array */
};

struct recvec {
    size_t n, cap;
    struct sortrec *v; /* owned */
};

struct model {
    char *vpc; /* owned; NULL for the account model */
    json_t *vpcj; /* owned: the VPC id as a JSON string (components' "boundary"), or NULL */
    json_t *doc, *components, *flows, *boundaries; /* doc owned; the rest borrowed from it */
    struct recvec comps, flowv, bounds; /* filled while mapping, moved in by finish_model */
    int has_internet;
};

struct ctx {
    const struct map_rules *rules;
    const char *account_id, *region;
    struct entry *e;
    size_t ne;
    struct index index;    /* IX_T type+id, IX_A arn, IX_I id, IX_N type+name, IX_K key */
    struct strmap types;   /* resourceType -> small id (IX_TAG) */
    int names_indexed;     /* IX_N keys are in index (index_names) */
    struct strmap routes;  /* "S\x1fsubnet" / "M\x1fvpc" -> 0/1 public */
    struct strmap modelix; /* vpc id -> model index */
    struct model *models;
    size_t nmodels;
    struct strmap sgix; /* sg id -> index into sgmembers */
    struct idvec *sgmembers;
    size_t nsg;
    struct flowset flowset; /* (model, from, to, label) of the flows already made */
    struct strmap labels;   /* flow label -> number (flowkey.label - 1) */
    json_t **labelj;        /* owned, each owned or NULL: the labels as shared JSON strings */
    size_t nlabelj;
    size_t internet_id;     /* the number of MAP_INTERNET_KEY as a flow end (see flow_end_id) */
    json_t *internetj;     /* owned: MAP_INTERNET_KEY as a JSON string */
    json_t *accountbj;     /* owned: "account:<id>", the account model's boundary key */
    json_t *protoj[5];     /* owned, made on first use: "tcp", "udp", "all", "icmp", "icmpv6" */
    json_t *skipped;
    json_t *unmapped;
    size_t mapped;
    int oom;
};

static void
recvec_clear(struct recvec *rv)
{
    for (size_t i = 0; i < rv->n; i++)
        json_decref(rv->v[i].v);
    free(rv->v);
    rv->v = NULL;
    rv->n = 0;
    rv->cap = 0;
}

/* Appends v (stolen, also on failure) with its sort keys (borrowed from v;
 * NULL reads as ""); 0 or -1 on OOM. */
static int
recvec_push(struct recvec *rv, json_t *v, const char *k0, const char *k1, const char *k2)
{
    struct sortrec *r;

    if (v == NULL)
        return -1;
    if (rv->n == rv->cap) {
        size_t cap = rv->cap == 0 ? 16 : rv->cap * 2;
        struct sortrec *g = realloc(rv->v, cap * sizeof(*g));
        if (g == NULL) {
            json_decref(v);
            return -1;
        }
        rv->v = g;
        rv->cap = cap;
    }
    r = &rv->v[rv->n];
    r->k[0] = k0 != NULL ? k0 : "";
    r->k[1] = k1 != NULL ? k1 : "";
    r->k[2] = k2 != NULL ? k2 : "";
    r->pos = rv->n++;
    r->v = v;
    return 0;
}

static int
oom(struct ctx *c)
{
    c->oom = 1;
    return -1;
}

static const char *
jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void
skip(struct ctx *c, size_t ei, const char *type, const char *id, const char *reason)
{
    json_t *s = json_pack("{s:s, s:s, s:s}", "reason", reason, "resource_id", id ? id : "",
        "resource_type", type ? type : ""); /* keys in sorted order */

    if (s == NULL || json_array_append_new(c->skipped, s) < 0)
        oom(c);
    if (ei != MAP_NO_ENTRY)
        c->e[ei].skipped = 1;
}

/* ---- indexing ---- */

/* "T\x1fa" or "T\x1fa\x1fb" into buf (hot: built with memcpy, not snprintf);
 * returns its length, or 0 when it does not fit. */
static size_t
index_key(char *buf, size_t n, char tag, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0;
    size_t need = 2 + la + (b != NULL ? 1 + lb : 0) + 1;

    if (need > n)
        return 0;
    buf[0] = tag;
    buf[1] = '\x1f';
    memcpy(buf + 2, a, la);
    if (b != NULL) {
        buf[2 + la] = '\x1f';
        memcpy(buf + 3 + la, b, lb);
    }
    buf[need - 1] = '\0';
    return need - 1;
}

/* Deterministic preference between two entries claiming one key: the
 * later capture time wins, then the larger serialisation of what the
 * mapping reads (map_project), so that mapping projected items picks the
 * same winner as mapping the originals (a difference the mapping never
 * reads cannot change the output anyway). */
static int
entry_better(struct ctx *ctx, const struct entry *a, const struct entry *b)
{
    const char *ta = jstr(a->item, "configurationItemCaptureTime");
    const char *tb = jstr(b->item, "configurationItemCaptureTime");
    int c = strcmp(ta ? ta : "", tb ? tb : "");
    char *da, *db;
    json_t *pa, *pb;

    if (c != 0)
        return c > 0;
    c = strcmp(a->type, b->type);
    if (c != 0)
        return c < 0;
    c = strcmp(a->id, b->id);
    if (c != 0)
        return c < 0;
    pa = map_project(ctx->rules, a->item);
    pb = map_project(ctx->rules, b->item);
    da = pa != NULL ? jsonw_dumps(pa, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    db = pb != NULL ? jsonw_dumps(pb, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (da == NULL || db == NULL)
        oom(ctx);
    c = strcmp(da ? da : "", db ? db : "");
    json_decref(pa);
    json_decref(pb);
    free(da);
    free(db);
    return c > 0;
}

/* Indexes key (borrowed, outliving the index) for entry ei; the better
 * entry keeps a key two claim. 0, or -1 on OOM. */
static int
index_put(struct ctx *c, uint32_t tag, const char *key, size_t len, size_t ei)
{
    uint32_t *slot = ix_put(&c->index, tag, key, len);

    if (slot == NULL)
        return oom(c);
    if (*slot == IX_NONE || entry_better(c, &c->e[ei], &c->e[*slot]))
        *slot = (uint32_t)ei;
    return 0;
}

/* The small id of a resource type (MAP_NO_ENTRY: no item has it). */
static size_t
type_id(const struct ctx *c, const char *type)
{
    return strmap_get(&c->types, type);
}

/* The entry of type+id / type+name (kind IX_T / IX_N), or MAP_NO_ENTRY. */
static size_t
index_typed(const struct ctx *c, enum ix_kind kind, const char *type, const char *s, size_t len)
{
    size_t tid = type_id(c, type);

    if (tid == MAP_NO_ENTRY)
        return MAP_NO_ENTRY;
    return ix_get(&c->index, IX_TAG(kind, tid), s, len);
}

static size_t
index_plain(const struct ctx *c, enum ix_kind kind, const char *s, size_t len)
{
    return ix_get(&c->index, IX_TAG(kind, 0), s, len);
}

/* configuration (cfg, the item's member, may be NULL) as an object:
 * parsed when the API form sent a string. */
static int
load_config(json_t *cfg, json_t **ret)
{
    *ret = NULL;
    if (cfg == NULL || json_is_null(cfg))
        return 0;
    if (json_is_object(cfg)) {
        *ret = json_incref(cfg);
        return 0;
    }
    if (json_is_string(cfg)) {
        json_t *parsed = jsonr_loadb(json_string_value(cfg), json_string_length(cfg), 0, NULL);
        if (json_is_object(parsed)) {
            *ret = parsed;
            return 0;
        }
        json_decref(parsed);
    }
    return -1;
}

/* ---- rule paths on an entry ----
 *
 * A path whose first segment names an item member the entry already holds
 * (configuration, tags, resourceId, resourceType, relationships: rules.c
 * marks it) starts at that member's value instead of looking it up again
 * in the item. The result is the same: the walker from the item would find
 * that very value at segment 0 (and parses JSON in a string at segment 1
 * the same way either way). A path made by hand starts at the item. */

static int
path_collects(const struct map_path *p)
{
    return p->compiled ? p->collects : map_path_collects(p);
}

static size_t
entry_path_start(const struct entry *e, const struct map_path *p, json_t **ret_v)
{
    switch (p->compiled ? p->root : MAP_ROOT_OTHER) {
    case MAP_ROOT_CONFIGURATION:
        *ret_v = e->configv;
        return 1;
    case MAP_ROOT_TAGS:
        *ret_v = e->tags;
        return 1;
    case MAP_ROOT_RESOURCE_ID:
        *ret_v = e->idv;
        return 1;
    case MAP_ROOT_RESOURCE_TYPE:
        *ret_v = e->typev;
        return 1;
    case MAP_ROOT_RELATIONSHIPS:
        *ret_v = e->rels;
        return 1;
    case MAP_ROOT_OTHER:
        break;
    }
    *ret_v = e->item;
    return 0;
}

static json_t *
entry_first(const struct entry *e, const struct map_path *p, int *ret_oom)
{
    json_t *v;
    size_t from = entry_path_start(e, p, &v);

    return map_path_first_at(p, from, v, ret_oom);
}

static json_t *
entry_paths_first(const struct entry *e, const struct map_paths *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        int failed;
        json_t *v = entry_first(e, &ps->v[i], &failed);
        if (v != NULL || failed)
            return v;
    }
    return NULL;
}

static int
entry_eval(const struct entry *e, const struct map_path *p, json_t *out)
{
    json_t *v;
    size_t from = entry_path_start(e, p, &v);

    return map_path_eval_at(p, from, v, out);
}

static int
entry_visit(const struct entry *e, const struct map_path *p, map_path_fn fn, void *arg)
{
    json_t *v;
    size_t from = entry_path_start(e, p, &v);

    return map_path_visit_at(p, from, v, fn, arg);
}

/* The members of an item map_target reads, found in one walk over its
 * keys instead of one hash lookup each (a projected item holds little
 * else). Each is the member's value, or NULL when absent. */
struct item_fields {
    json_t *type, *id, *status, *config, *arn, *arn_upper, *name, *tags, *rels;
};

static void
item_fields(json_t *item, struct item_fields *f)
{
    void *it;

    memset(f, 0, sizeof(*f));
    for (it = json_object_iter(item); it != NULL; it = json_object_iter_next(item, it)) {
        const char *k = json_object_iter_key(it);
        json_t *v = json_object_iter_value(it);
        __builtin_prefetch(v); /* most are read soon: start the load */
        switch (json_object_iter_key_len(it)) {
        case 3:
            if (memcmp(k, "arn", 3) == 0)
                f->arn = v;
            else if (memcmp(k, "ARN", 3) == 0)
                f->arn_upper = v;
            break;
        case 4:
            if (memcmp(k, "tags", 4) == 0)
                f->tags = v;
            break;
        case 10:
            if (memcmp(k, "resourceId", 10) == 0)
                f->id = v;
            break;
        case 12:
            if (memcmp(k, "resourceType", 12) == 0)
                f->type = v;
            else if (memcmp(k, "resourceName", 12) == 0)
                f->name = v;
            break;
        case 13:
            if (memcmp(k, "configuration", 13) == 0)
                f->config = v;
            else if (memcmp(k, "relationships", 13) == 0)
                f->rels = v;
            break;
        case 23:
            if (memcmp(k, "configurationItemStatus", 23) == 0)
                f->status = v;
            break;
        default:
            break;
        }
    }
}

static int
collect_entries(struct ctx *c, json_t *items)
{
    size_t i;
    json_t *item;

    c->e = calloc(json_array_size(items) + 1, sizeof(*c->e));
    if (c->e == NULL)
        return oom(c);
    json_array_foreach(items, i, item) {
        struct entry *e = &c->e[c->ne];
        struct item_fields f;
        const char *type, *id, *status;
        size_t *tid;
        json_t *ahead;

        /* the items are far apart in memory: start loading the next ones
           (the object two ahead, the first pair of the one after this) */
        if ((ahead = json_array_get(items, i + 2)) != NULL)
            __builtin_prefetch(ahead);
        if ((ahead = json_array_get(items, i + 1)) != NULL && json_is_object(ahead))
            __builtin_prefetch(json_object_iter(ahead));

        if (!json_is_object(item)) {
            skip(c, MAP_NO_ENTRY, "", "", "item is not a JSON object");
            continue;
        }
        item_fields(item, &f);
        type = json_string_value(f.type);
        id = json_string_value(f.id);
        if (type == NULL || type[0] == '\0') {
            skip(c, MAP_NO_ENTRY, "", id, "item has no resourceType");
            continue;
        }
        if (strlen(type) > 128) {
            skip(c, MAP_NO_ENTRY, "", "", "resourceType longer than 128 characters");
            continue;
        }
        if (id == NULL || id[0] == '\0') {
            skip(c, MAP_NO_ENTRY, type, "", "item has no resourceId");
            continue;
        }
        memset(e, 0, sizeof(*e));
        e->idlen = strlen(id);
        if (e->idlen > MAP_MAX_ID) {
            skip(c, MAP_NO_ENTRY, type, "", "resourceId longer than 2048 characters");
            continue;
        }
        status = json_string_value(f.status);
        if (status != NULL && strncmp(status, "ResourceDeleted", 15) == 0) {
            skip(c, MAP_NO_ENTRY, type, id, "resource is deleted");
            continue;
        }
        e->model = MAP_NO_ENTRY;
        if (load_config(f.config, &e->config) < 0) {
            skip(c, MAP_NO_ENTRY, type, id, "configuration is not a JSON object");
            continue;
        }
        e->cfg_direct = e->config != NULL && e->config == f.config;
        e->item = item;
        e->type = type;
        e->id = id;
        e->typev = f.type;
        e->idv = f.id;
        e->tags = f.tags;
        e->rels = f.rels;
        e->configv = f.config;
        e->arn = json_string_value(f.arn);
        if (e->arn == NULL)
            e->arn = json_string_value(f.arn_upper);
        if (e->arn != NULL) {
            e->arnlen = strlen(e->arn);
            if (e->arn[0] == '\0' || e->arnlen > MAP_MAX_ID)
                e->arn = NULL;
        }
        e->name = json_string_value(f.name);
        if (e->name != NULL) {
            e->namelen = strlen(e->name);
            if (e->namelen > MAP_MAX_ID)
                e->name = NULL;
        }
        e->rule = map_rules_find(c->rules, type);
        tid = strmap_putn(&c->types, type, strlen(type), NULL);
        if (tid == NULL) {
            json_decref(e->config);
            return oom(c);
        }
        if (*tid == MAP_NO_ENTRY)
            *tid = c->types.n - 1;
        e->tid = *tid;
        c->ne++;
    }
    /* T, I, A per item, K per component and N (index_names) when needed:
       sized once, never grown */
    if (ix_reserve(&c->index, 5 * c->ne) < 0)
        return oom(c);
    for (i = 0; i < c->ne && !c->oom; i++) {
        struct entry *e = &c->e[i];
        if (i + IX_AHEAD < c->ne) {
            /* the slots are spread over a large table: start loading the
               ones a few entries ahead will probe */
            const struct entry *a = &c->e[i + IX_AHEAD];
            ix_prefetch(&c->index, IX_TAG(IX_T, a->tid), a->id, a->idlen);
            ix_prefetch(&c->index, IX_TAG(IX_I, 0), a->id, a->idlen);
            if (a->arn != NULL)
                ix_prefetch(&c->index, IX_TAG(IX_A, 0), a->arn, a->arnlen);
        }
        if (index_put(c, IX_TAG(IX_T, e->tid), e->id, e->idlen, i) < 0 ||
            index_put(c, IX_TAG(IX_I, 0), e->id, e->idlen, i) < 0)
            break;
        if (e->arn != NULL && index_put(c, IX_TAG(IX_A, 0), e->arn, e->arnlen, i) < 0)
            break;
    }
    /* a second item with the same type and id loses to the indexed one */
    for (i = 0; i < c->ne && !c->oom; i++) {
        const struct entry *e = &c->e[i];
        if (i + IX_AHEAD < c->ne) {
            const struct entry *a = &c->e[i + IX_AHEAD];
            ix_prefetch(&c->index, IX_TAG(IX_T, a->tid), a->id, a->idlen);
        }
        if (ix_get(&c->index, IX_TAG(IX_T, e->tid), e->id, e->idlen) != i)
            skip(c, i, e->type, e->id, "duplicate configuration item (a newer one is used)");
    }
    return c->oom ? -1 : 0;
}

/* Indexes every entry by type + resourceName, once, when a relationship
 * first names a resource only by its name (few items do: building it for
 * every mapping cost a probe, and ties a projection each, for nothing).
 * Built in entry order as the other keys, so ties end the same way. */
static void
index_names(struct ctx *c)
{
    if (c->names_indexed)
        return;
    c->names_indexed = 1;
    for (size_t i = 0; i < c->ne && !c->oom; i++) {
        const struct entry *e = &c->e[i];
        if (e->name != NULL && index_put(c, IX_TAG(IX_N, e->tid), e->name, e->namelen, i) < 0)
            break;
    }
}

/* ---- reference resolution ---- */

typedef void (*id_fn)(struct ctx *c, const char *type, const char *id, size_t target, void *arg);

/* Calls fn for each id a string holds ("subnet-a,subnet-b" is split). */
static void
each_id(struct ctx *c, json_t *v, const char *type, id_fn fn, void *arg)
{
    const char *s = json_string_value(v);
    char tmp[MAP_MAX_ID + 1];

    if (s == NULL)
        return;
    while (*s != '\0') {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        size_t target;

        while (len > 0 && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)s[len - 1]))
            len--;
        if (len > 0 && len <= MAP_MAX_ID) {
            memcpy(tmp, s, len);
            tmp[len] = '\0';
            len = strlen(tmp); /* a NUL inside ends the id, as it ends a C string */
            if (type != NULL)
                target = index_typed(c, IX_T, type, tmp, len);
            else
                target = index_plain(c, IX_I, tmp, len);
            if (target == MAP_NO_ENTRY)
                target = index_plain(c, IX_A, tmp, len);
            fn(c, target != MAP_NO_ENTRY ? c->e[target].type : type, tmp, target, arg);
        }
        if (end == NULL)
            break;
        s = end + 1;
    }
}

struct ref_visit {
    struct ctx *c;
    const char *type;
    id_fn fn;
    void *arg;
};

static int
ref_visit_fn(json_t *v, void *arg)
{
    struct ref_visit *rv = arg;

    each_id(rv->c, v, rv->type, rv->fn, rv->arg);
    return 0;
}

/* What a relationship says (each borrowed, NULL when absent or not a
 * string), read in one walk over its few keys. */
struct rel_fields {
    const char *type, *id, *name;
};

static void
rel_read(json_t *r, struct rel_fields *rf)
{
    void *it;

    memset(rf, 0, sizeof(*rf));
    if (!json_is_object(r))
        return;
    for (it = json_object_iter(r); it != NULL; it = json_object_iter_next(r, it)) {
        const char *k;
        size_t kl = json_object_iter_key_len(it);
        if (kl != 10 && kl != 12)
            continue;
        k = json_object_iter_key(it);
        if (kl == 10) {
            if (memcmp(k, "resourceId", 10) == 0)
                rf->id = json_string_value(json_object_iter_value(it));
        } else if (memcmp(k, "resourceType", 12) == 0) {
            rf->type = json_string_value(json_object_iter_value(it));
        } else if (memcmp(k, "resourceName", 12) == 0) {
            rf->name = json_string_value(json_object_iter_value(it));
        }
    }
}

/* Walks one reference of entry ei, calling fn per referenced id. */
static void
each_ref(struct ctx *c, size_t ei, const struct map_ref *ref, id_fn fn, void *arg)
{
    struct entry *e = &c->e[ei];
    json_t *v;
    size_t i;

    switch (ref->kind) {
    case MAP_REF_SELF:
        fn(c, e->type, e->id, ei, arg);
        return;
    case MAP_REF_INTERNET:
        fn(c, NULL, MAP_INTERNET_KEY, MAP_INTERNET, arg);
        return;
    case MAP_REF_RELATIONSHIP: {
        size_t tid = MAP_NO_ENTRY;
        int have_tid = 0;
        json_array_foreach(e->rels, i, v) {
            struct rel_fields rf;
            size_t target = MAP_NO_ENTRY, len;
            rel_read(v, &rf);
            if (rf.type == NULL || strcmp(rf.type, ref->type) != 0)
                continue;
            if (!have_tid) {
                tid = type_id(c, ref->type);
                have_tid = 1;
            }
            if (rf.id != NULL && (len = strlen(rf.id)) <= MAP_MAX_ID) {
                if (tid != MAP_NO_ENTRY)
                    target = ix_get(&c->index, IX_TAG(IX_T, tid), rf.id, len);
                if (target == MAP_NO_ENTRY)
                    target = index_plain(c, IX_A, rf.id, len);
                fn(c, rf.type, rf.id, target, arg);
            } else if (rf.name != NULL && (len = strlen(rf.name)) <= MAP_MAX_ID) {
                /* newer items name some related resources only by resourceName */
                index_names(c);
                if (tid != MAP_NO_ENTRY)
                    target = ix_get(&c->index, IX_TAG(IX_N, tid), rf.name, len);
                if (target != MAP_NO_ENTRY)
                    fn(c, rf.type, c->e[target].id, target, arg);
            }
        }
        return;
    }
    case MAP_REF_TYPED_PATH:
    case MAP_REF_PATH:
        if (!path_collects(&ref->path)) {
            /* one value at most: no scratch list */
            int failed;
            v = entry_first(e, &ref->path, &failed);
            if (failed)
                oom(c);
            each_id(c, v, ref->kind == MAP_REF_TYPED_PATH ? ref->type : NULL, fn, arg);
            json_decref(v);
            return;
        }
        /* each value as the walk finds it, in the order a list would hold
           them (no scratch list; fn never stops the walk) */
        {
            struct ref_visit rv = {c, ref->kind == MAP_REF_TYPED_PATH ? ref->type : NULL, fn, arg};
            (void)entry_visit(e, &ref->path, ref_visit_fn, &rv);
        }
        return;
    }
}

static const char *resolve_vpc(struct ctx *c, size_t ei, int depth);

struct vpc_arg {
    char *found; /* owned copy: ids may live in a caller's stack buffer */
    int depth;
};

static void
vpc_found(struct ctx *c, struct vpc_arg *a, const char *id)
{
    if (id == NULL || a->found != NULL)
        return;
    a->found = strdup(id);
    if (a->found == NULL)
        oom(c);
}

static void
vpc_cb(struct ctx *c, const char *type, const char *id, size_t target, void *arg)
{
    struct vpc_arg *a = arg;

    if (a->found != NULL)
        return;
    if (target != MAP_NO_ENTRY && target != MAP_INTERNET) {
        if (strcmp(c->e[target].type, "AWS::EC2::VPC") == 0)
            vpc_found(c, a, c->e[target].id);
        else
            vpc_found(c, a, resolve_vpc(c, target, a->depth + 1));
    } else if (target == MAP_NO_ENTRY && strncmp(id, "vpc-", 4) == 0 &&
               (type == NULL || strcmp(type, "AWS::EC2::VPC") == 0)) {
        vpc_found(c, a, id); /* a VPC Config did not record: still its id */
    }
}

/* The entry's VPC id (owned by the entry) or NULL. */
static const char *
resolve_vpc(struct ctx *c, size_t ei, int depth)
{
    struct entry *e = &c->e[ei];
    struct vpc_arg a;

    if (e->vpc_state == 2)
        return e->vpc;
    if (e->vpc_state == 1 || depth > MAP_MAX_DEPTH)
        return NULL;
    e->vpc_state = 1;
    memset(&a, 0, sizeof(a));
    a.depth = depth;
    if (strcmp(e->type, "AWS::EC2::VPC") == 0) {
        vpc_found(c, &a, e->id);
    } else if (e->rule != NULL && e->rule->vpc.n > 0) {
        for (size_t i = 0; i < e->rule->vpc.n && a.found == NULL; i++)
            each_ref(c, ei, &e->rule->vpc.v[i], vpc_cb, &a);
    } else {
        /* no rule: the generic places (route tables, unmapped types) */
        struct map_ref rel;
        memset(&rel, 0, sizeof(rel));
        if (e->config != NULL)
            vpc_found(c, &a, jstr(e->config, "vpcId"));
        rel.kind = MAP_REF_RELATIONSHIP;
        rel.type = (char *)(uintptr_t) "AWS::EC2::VPC";
        if (a.found == NULL)
            each_ref(c, ei, &rel, vpc_cb, &a);
    }
    e->vpc = a.found;
    e->vpc_state = 2;
    return e->vpc;
}

/* ---- subnets: public or private ---- */

static int
route_to_igw(json_t *routes)
{
    size_t i;
    json_t *r;

    json_array_foreach(routes, i, r) {
        const char *d4 = jstr(r, "destinationCidrBlock"), *d6 = jstr(r, "destinationIpv6CidrBlock");
        const char *gw = jstr(r, "gatewayId"), *state = jstr(r, "state");
        if (gw == NULL || strncmp(gw, "igw-", 4) != 0)
            continue;
        if (state != NULL && strcmp(state, "blackhole") == 0)
            continue;
        if ((d4 != NULL && strcmp(d4, "0.0.0.0/0") == 0) || (d6 != NULL && strcmp(d6, "::/0") == 0))
            return 1;
    }
    return 0;
}

static int
route_put(struct ctx *c, char tag, const char *id, int pub)
{
    char key[MAP_MAX_ID + 8];
    size_t *slot, len = index_key(key, sizeof(key), tag, id, NULL);

    if (len == 0)
        return 0;
    slot = strmap_putn(&c->routes, key, len, NULL);
    if (slot == NULL)
        return oom(c);
    /* two tables claiming one subnet: public wins, the safe reading */
    if (*slot == MAP_NO_ENTRY || pub)
        *slot = (size_t)pub;
    return 0;
}

static void
classify_subnets(struct ctx *c)
{
    for (size_t i = 0; i < c->ne && !c->oom; i++) {
        struct entry *e = &c->e[i];
        json_t *assocs, *a, *r;
        size_t k;
        int pub, explicit = 0;

        if (e->skipped || strcmp(e->type, "AWS::EC2::RouteTable") != 0 || e->config == NULL)
            continue;
        pub = route_to_igw(json_object_get(e->config, "routes"));
        assocs = json_object_get(e->config, "associations");
        json_array_foreach(assocs, k, a) {
            const char *sub = jstr(a, "subnetId");
            if (json_is_true(json_object_get(a, "main"))) {
                const char *vpc = resolve_vpc(c, i, 0);
                if (vpc != NULL)
                    route_put(c, 'M', vpc, pub);
            } else if (sub != NULL) {
                route_put(c, 'S', sub, pub);
                explicit = 1;
            }
        }
        if (!explicit && assocs == NULL) {
            json_array_foreach(e->rels, k, r) {
                struct rel_fields rf;
                rel_read(r, &rf);
                if (rf.type != NULL && rf.id != NULL && strcmp(rf.type, "AWS::EC2::Subnet") == 0)
                    route_put(c, 'S', rf.id, pub);
            }
        }
    }
    for (size_t i = 0; i < c->ne; i++) {
        struct entry *e = &c->e[i];
        char key[MAP_MAX_ID + 8];
        size_t v = MAP_NO_ENTRY, len;

        if (strcmp(e->type, "AWS::EC2::Subnet") != 0)
            continue;
        len = index_key(key, sizeof(key), 'S', e->id, NULL);
        if (len != 0)
            v = strmap_getn(&c->routes, key, len);
        if (v == MAP_NO_ENTRY && resolve_vpc(c, i, 0) != NULL &&
            (len = index_key(key, sizeof(key), 'M', e->vpc, NULL)) != 0)
            v = strmap_getn(&c->routes, key, len);
        e->is_public = v == 1;
    }
}

/* ---- models ---- */

static size_t
model_get(struct ctx *c, const char *vpc)
{
    size_t *slot;
    struct model *g, *m;
    const char *key = vpc != NULL ? vpc : "";

    slot = strmap_put(&c->modelix, key);
    if (slot == NULL) {
        oom(c);
        return MAP_NO_ENTRY;
    }
    if (*slot != MAP_NO_ENTRY)
        return *slot;
    g = realloc(c->models, (c->nmodels + 1) * sizeof(*g));
    if (g == NULL) {
        oom(c);
        return MAP_NO_ENTRY;
    }
    c->models = g;
    m = &c->models[c->nmodels];
    memset(m, 0, sizeof(*m));
    m->components = json_array();
    m->flows = json_array();
    m->boundaries = json_array();
    /* keys in sorted order, as everywhere below: a canonical dump then
       finds them sorted */
    m->doc = json_pack("{s:s, s:O, s:O, s:O, s:o, s:s, s:s, s:o}", "account_id", c->account_id,
        "boundaries", m->boundaries, "components", m->components, "flows", m->flows, "name",
        vpc ? json_string(vpc) : json_string(c->account_id), "region", c->region, "schema",
        MODEL_SCHEMA, "vpc_id", vpc ? json_string(vpc) : json_null());
    json_decref(m->components);
    json_decref(m->flows);
    json_decref(m->boundaries);
    if (m->doc == NULL || (vpc != NULL && ((m->vpc = strdup(vpc)) == NULL ||
                                              (m->vpcj = json_string(vpc)) == NULL))) {
        json_decref(m->doc);
        free(m->vpc);
        json_decref(m->vpcj);
        oom(c);
        return MAP_NO_ENTRY;
    }
    *slot = c->nmodels++;
    if (vpc == NULL) {
        json_t *b = json_pack("{s:O, s:s, s:n, s:s}", "key", c->accountbj, "name", c->account_id,
            "parent", "type", "account");
        if (recvec_push(&m->bounds, b, json_string_value(c->accountbj), NULL, NULL) < 0)
            oom(c);
    }
    return *slot;
}

/* Deep copy with every list sorted by its elements' canonical JSON: AWS
 * returns rule lists (ingress rules, routes, CIDRs) in no stable order, and
 * a reordering must not read as drift. */
struct sortel {
    char *dump;
    json_t *v;
};

static int
sortel_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sortel *)a)->dump, ((const struct sortel *)b)->dump);
}

/* 1 when normalise would only copy v: no array in it has two or more
 * elements to sort. Such a value is shared with the input (read-only, as
 * scalars are) instead of copied, which saves most of the mapping's
 * allocations (attributes are mostly scalars and small objects). */
static int
already_normal(json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (depth > 64)
        return 0; /* let the general path handle pathological nesting */
    if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (!already_normal(x, depth + 1))
                return 0;
        }
        return 1;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) > 1)
            return 0;
        json_array_foreach(v, i, x) {
            if (!already_normal(x, depth + 1))
                return 0;
        }
    }
    return 1;
}

static json_t *
normalise(json_t *v)
{
    json_t *out = NULL;

    if (already_normal(v, 0))
        return json_incref(v);
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        out = json_object();
        if (out == NULL)
            return NULL;
        json_object_foreach(v, k, x) {
            json_t *n = normalise(x);
            if (n == NULL || json_object_set_new(out, k, n) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        size_t n = json_array_size(v), i;
        struct sortel *els = calloc(n + 1, sizeof(*els));
        int ok = els != NULL;
        out = json_array();
        for (i = 0; ok && i < n; i++) {
            els[i].v = normalise(json_array_get(v, i));
            if (els[i].v == NULL)
                ok = 0;
            else if (n > 1)
                els[i].dump =
                    jsonw_dumps(els[i].v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            if (n > 1 && els[i].dump == NULL)
                ok = 0;
        }
        if (ok && n > 1)
            qsort(els, n, sizeof(*els), sortel_cmp);
        for (i = 0; ok && i < n; i++) {
            if (out == NULL || json_array_append(out, els[i].v) < 0)
                ok = 0;
        }
        for (i = 0; els != NULL && i < n; i++) {
            json_decref(els[i].v);
            free(els[i].dump);
        }
        free(els);
        if (!ok) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    /* scalars are shared with the input, read-only */
    return json_incref(v);
}

/* An attribute value as stored: a value that is JSON in a string
 * (policies, supplementaryConfiguration) is stored parsed, so key order and
 * whitespace never read as drift; then normalised. A new reference. */
static json_t *
stored_value(json_t *one)
{
    json_t *parsed = NULL, *v;

    if (json_is_string(one)) {
        const char *s = json_string_value(one);
        if (s[0] == '{' || s[0] == '[')
            parsed = jsonr_loadb(s, json_string_length(one), 0, NULL);
    }
    v = normalise(parsed != NULL ? parsed : one);
    json_decref(parsed);
    return v;
}

/* The value of one attribute: first path that yields; `[]` paths give the
 * whole list. A new reference (null when absent), NULL on OOM. */
static json_t *
attr_value(struct ctx *c, const struct map_paths *ps, const struct entry *e)
{
    json_t *vals = NULL;

    for (size_t i = 0; i < ps->n; i++) {
        json_t *v;
        int n;
        if (!path_collects(&ps->v[i])) {
            /* one value at most: walked without the scratch list */
            int failed;
            json_t *one = entry_first(e, &ps->v[i], &failed);
            if (failed) {
                json_decref(vals);
                oom(c);
                return NULL;
            }
            if (one == NULL)
                continue;
            v = stored_value(one);
            json_decref(one);
            json_decref(vals);
            return v;
        }
        /* one scratch list for every path tried (most attributes have
           one path; a path that yields nothing leaves the list empty) */
        if (vals == NULL && (vals = json_array()) == NULL)
            return NULL;
        n = entry_eval(e, &ps->v[i], vals);
        if (n < 0) {
            json_decref(vals);
            oom(c);
            return NULL;
        }
        if (n > 0) {
            json_t *one = path_collects(&ps->v[i]) ? vals : json_array_get(vals, 0);

            v = stored_value(one);
            json_decref(vals);
            return v;
        }
        json_array_clear(vals);
    }
    json_decref(vals);
    return json_null();
}

static char *
scalar_text(json_t *v)
{
    char tmp[64];

    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
        return strdup(tmp);
    }
    if (json_is_real(v)) {
        snprintf(tmp, sizeof(tmp), "%g", json_real_value(v));
        return strdup(tmp);
    }
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "true" : "false");
    return NULL;
}

struct subnet_arg {
    struct idvec subnets; /* entry indices */
    int depth;
};

static void resolve_subnets(struct ctx *c, size_t ei, struct subnet_arg *a);

static void
subnet_cb(struct ctx *c, const char *type, const char *id, size_t target, void *arg)
{
    struct subnet_arg *a = arg;

    (void)type;
    (void)id;
    if (target == MAP_NO_ENTRY || target == MAP_INTERNET)
        return;
    if (strcmp(c->e[target].type, "AWS::EC2::Subnet") == 0) {
        if (idvec_push(&a->subnets, target) < 0)
            oom(c);
    } else if (a->depth < MAP_MAX_DEPTH) {
        a->depth++;
        resolve_subnets(c, target, a);
        a->depth--;
    }
}

static void
resolve_subnets(struct ctx *c, size_t ei, struct subnet_arg *a)
{
    const struct map_rule *r = c->e[ei].rule;

    if (r == NULL)
        return;
    for (size_t i = 0; i < r->boundary.n; i++) {
        size_t before = a->subnets.n;
        each_ref(c, ei, &r->boundary.v[i], subnet_cb, a);
        if (a->subnets.n > before)
            return;
    }
}

/* Innermost boundary: of the subnets the rule names (in the same VPC and
 * known), public ones first (the exposure is what a threat model must
 * show), then the smallest id; else the VPC itself. */
static json_t *
choose_boundary(struct ctx *c, size_t ei, size_t mi)
{
    struct subnet_arg a;
    struct entry *best = NULL;
    const char *vpc = c->models[mi].vpc;
    json_t *out;

    memset(&a, 0, sizeof(a));
    resolve_subnets(c, ei, &a);
    for (size_t i = 0; i < a.subnets.n; i++) {
        struct entry *s = &c->e[a.subnets.v[i]];
        if (s->skipped || s->vpc == NULL || strcmp(s->vpc, vpc) != 0)
            continue;
        if (best == NULL || (s->is_public && !best->is_public) ||
            (s->is_public == best->is_public && strcmp(s->id, best->id) < 0))
            best = s;
    }
    /* one JSON string per boundary, shared by the components in it */
    if (best != NULL && best->idj == NULL)
        best->idj = json_stringn_nocheck(best->id, strlen(best->id)); /* a JSON string's prefix */
    out = json_incref(best != NULL ? best->idj : c->models[mi].vpcj);
    free(a.subnets.v);
    if (out == NULL)
        oom(c);
    return out;
}

/* tags: the item's member (may be NULL). */
static json_t *
tags_object(json_t *tags)
{
    json_t *out;
    size_t i;
    json_t *t;

    if (json_is_object(tags))
        return json_incref(tags); /* shared with the input item, read-only */
    out = json_object();
    /* the key/value list form of advanced queries */
    json_array_foreach(tags, i, t) {
        const char *k = jstr(t, "key"), *v = jstr(t, "value");
        if (k == NULL)
            k = jstr(t, "Key");
        if (v == NULL)
            v = jstr(t, "Value");
        if (out != NULL && k != NULL && v != NULL && json_object_set_new(out, k, json_string(v)) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Sets key (a literal) to v (stolen); *bad set when v is NULL or on OOM. */
static void
obj_put(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (v == NULL || json_object_set_new_nocheck(obj, key, v) < 0)
        *bad = 1;
}

static char *
entry_name(struct ctx *c, size_t ei)
{
    const struct entry *e = &c->e[ei];
    json_t *v = entry_paths_first(e, &e->rule->name);
    char *s = scalar_text(v);

    json_decref(v);
    if (s == NULL)
        s = strdup(e->id);
    if (s == NULL)
        oom(c);
    return s;
}

/* A JSON string holding exactly s as a C string reads it: v itself
 * (shared) when it has no NUL inside, else a new string of s. */
static json_t *
string_as_read(json_t *v, const char *s)
{
    if (v != NULL && json_string_length(v) == strlen(s))
        return json_incref(v);
    return json_stringn_nocheck(s, strlen(s)); /* a JSON string's prefix: UTF-8 */
}

/* entry_name as a JSON string (a new reference, NULL on OOM): a string
 * value is shared with the item instead of copied twice. */
static json_t *
entry_name_json(struct ctx *c, size_t ei)
{
    const struct entry *e = &c->e[ei];
    json_t *v = entry_paths_first(e, &e->rule->name), *out;
    char *s;

    if (json_is_string(v)) {
        out = string_as_read(v, json_string_value(v));
        json_decref(v);
        return out;
    }
    s = scalar_text(v);
    json_decref(v);
    if (s != NULL) {
        out = json_string(s);
        free(s);
        return out;
    }
    return string_as_read(e->idv, e->id);
}

static json_t *
entry_attributes(struct ctx *c, size_t ei)
{
    const struct entry *e = &c->e[ei];
    json_t *attrs = json_object();

    if (attrs == NULL)
        return NULL;
    /* rules.c sorts attributes by name: inserted in sorted order */
    for (size_t i = 0; i < e->rule->nattrs; i++) {
        json_t *v = attr_value(c, &e->rule->attrs[i].paths, e);
        if (v == NULL || json_object_set_new_nocheck(attrs, e->rule->attrs[i].name, v) < 0) {
            json_decref(attrs);
            return NULL;
        }
    }
    return attrs;
}

static void
emit_boundary(struct ctx *c, size_t ei)
{
    struct entry *e = &c->e[ei];
    const char *vpc = resolve_vpc(c, ei, 0);
    char *name = NULL;
    json_t *b = NULL, *attrs = NULL;
    size_t mi;

    if (vpc == NULL) {
        skip(c, ei, e->type, e->id, "VPC not found (no vpcId, no VPC relationship)");
        return;
    }
    mi = model_get(c, vpc);
    if (mi == MAP_NO_ENTRY)
        return;
    name = entry_name(c, ei);
    attrs = entry_attributes(c, ei);
    if (name == NULL || attrs == NULL)
        goto fail;
    b = json_pack("{s:O, s:s, s:s, s:s?, s:o, s:s, s:s, s:o, s:s}", "attributes", attrs, "key",
        e->id, "name", name, "parent", e->rule->emit == MAP_EMIT_VPC ? NULL : vpc,
        "requirements", json_incref(e->rule->requirements), "resource_id", e->id,
        "resource_type", e->type, "threats", json_incref(e->rule->threats), "type",
        e->rule->emit == MAP_EMIT_VPC ? "vpc" : (e->is_public ? "public-subnet" : "private-subnet"));
    if (b == NULL || recvec_push(&c->models[mi].bounds, b, jstr(b, "key"), NULL, NULL) < 0)
        goto fail;
    if (e->rule->emit == MAP_EMIT_VPC && json_object_set_new(c->models[mi].doc, "name",
                                             json_string(name)) < 0)
        goto fail;
    e->model = mi;
    c->mapped++;
    free(name);
    json_decref(attrs);
    return;
fail:
    free(name);
    json_decref(attrs);
    oom(c);
}

/* The component type as a JSON string (a new reference; the rule's shared
 * string when rules.c made one), NULL on OOM. */
static json_t *
component_type(const struct entry *e)
{
    const struct map_rule *r = e->rule;
    const struct map_switch_case *hit = NULL;

    if (r->ncases > 0) {
        int failed;
        json_t *v = entry_first(e, &r->switch_path, &failed);
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            for (size_t i = 0; i < r->ncases; i++) {
                if (strcmp(r->cases[i].value, s) == 0)
                    hit = &r->cases[i]; /* the last match wins */
            }
        }
        json_decref(v);
        if (hit != NULL && hit->component != NULL)
            return hit->component_json != NULL ? json_incref(hit->component_json)
                                               : json_string(hit->component);
    }
    if (r->component_json != NULL)
        return json_incref(r->component_json);
    return json_string(r->component != NULL ? r->component : "AWS Resource");
}

/* Threats and requirements are the rule's own arrays, shared read-only by
 * every component of the type (a reference, not a copy: 200k components
 * would otherwise hold 200k copies). */
static json_t *
requirement_copy(json_t *reqs)
{
    return json_incref(reqs);
}

static void
emit_component(struct ctx *c, size_t ei)
{
    struct entry *e = &c->e[ei];
    const struct map_rule *r = e->rule;
    const char *vpc = NULL;
    json_t *key = NULL, *comp = NULL, *attrs = NULL, *tags = NULL, *name = NULL;
    size_t mi;

    if (r->placement != MAP_PLACE_ACCOUNT)
        vpc = resolve_vpc(c, ei, 0);
    if (vpc == NULL && r->placement == MAP_PLACE_VPC) {
        skip(c, ei, e->type, e->id, "VPC not found (none of the rule's vpc references resolved)");
        return;
    }
    mi = model_get(c, vpc);
    if (mi == MAP_NO_ENTRY)
        return;
    if (e->arn != NULL) {
        key = json_stringn_nocheck(e->arn, e->arnlen); /* a JSON string's prefix */
    } else {
        char buf[128 + 1 + MAP_MAX_ID + 1]; /* type and id lengths checked when indexed */
        int n = snprintf(buf, sizeof(buf), "%s/%s", e->type, e->id);
        key = json_stringn_nocheck(buf, (size_t)n);
    }
    if (key == NULL)
        goto fail;
    /* Two items claiming one ARN (a broken or hostile answer) would make two
     * components with one key, which no model may hold: the first keeps it,
     * the other is skipped and listed (found by tests/fuzz/fuzz_map). */
    {
        const char *ks = json_string_value(key);
        uint32_t *slot = ix_put(&c->index, IX_TAG(IX_K, 0), ks, strlen(ks));
        if (slot == NULL)
            goto fail;
        if (*slot != IX_NONE) {
            skip(c, ei, e->type, e->id,
                "its ARN is already another item's (duplicate component key)");
            json_decref(key);
            return;
        }
        *slot = (uint32_t)ei;
        /* the index points at the key's text: the entry holds it from here */
        e->keyj = key;
        e->key = ks;
        key = NULL;
    }
    if (vpc != NULL)
        e->boundaryj = choose_boundary(c, ei, mi);
    else
        e->boundaryj = json_incref(c->accountbj);
    name = entry_name_json(c, ei);
    attrs = entry_attributes(c, ei);
    tags = tags_object(e->tags);
    if (e->boundaryj == NULL || name == NULL || attrs == NULL || tags == NULL)
        goto fail;
    e->boundary = json_string_value(e->boundaryj);
    /* built key by key in sorted key order rather than with json_pack (no
       format parsing; the item's own resourceType and resourceId strings,
       the rule's type and role strings and the boundary's string are
       shared, read-only) */
    comp = json_object();
    if (comp == NULL)
        goto fail;
    {
        int bad = 0;
        obj_put(comp, "attributes", json_incref(attrs), &bad);
        obj_put(comp, "boundary", json_incref(e->boundaryj), &bad);
        obj_put(comp, "key", json_incref(e->keyj), &bad);
        obj_put(comp, "name", json_incref(name), &bad);
        obj_put(comp, "requirements", requirement_copy(r->requirements), &bad);
        obj_put(comp, "resource_id", json_incref(e->idv), &bad);
        obj_put(comp, "resource_type", json_incref(e->typev), &bad);
        obj_put(comp, "role", r->role_json != NULL ? json_incref(r->role_json) : json_string(r->role),
            &bad);
        obj_put(comp, "tags", json_incref(tags), &bad);
        obj_put(comp, "threats", requirement_copy(r->threats), &bad);
        obj_put(comp, "type", component_type(e), &bad);
        if (bad) {
            json_decref(comp);
            goto fail;
        }
    }
    if (recvec_push(&c->models[mi].comps, json_incref(comp), e->key, NULL, NULL) < 0) {
        json_decref(comp);
        goto fail;
    }
    e->comp = comp;
    json_decref(comp); /* the model's record holds it */
    e->model = mi;
    c->mapped++;
    json_decref(name);
    json_decref(attrs);
    json_decref(tags);
    return;
fail:
    json_decref(key);
    json_decref(name);
    json_decref(attrs);
    json_decref(tags);
    oom(c);
}

/* ---- flows ---- */

/* The shared JSON string of a protocol perm_label names (one per mapping
 * instead of one per flow); other names get their own string. A new
 * reference, NULL on OOM. */
static json_t *
protocol_json(struct ctx *c, const char *protocol)
{
    static const char *const names[] = {"tcp", "udp", "all", "icmp", "icmpv6"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(protocol, names[i]) != 0)
            continue;
        if (c->protoj[i] == NULL)
            c->protoj[i] = json_string(names[i]);
        return json_incref(c->protoj[i]);
    }
    return json_string(protocol);
}

/* The number of a flow end (an entry, or MAP_INTERNET): its entry index,
 * and for the Internet c->internet_id, which is the entry whose component
 * key is MAP_INTERNET_KEY when one is (set once the components are made).
 * Component keys are unique (IX_K), so equal numbers are exactly equal key
 * strings, as the flows compared them before. */
static size_t
flow_end_id(const struct ctx *c, size_t ei)
{
    return ei == MAP_INTERNET ? c->internet_id : ei;
}

static json_t *
flow_end_json(const struct ctx *c, size_t ei)
{
    return ei == MAP_INTERNET ? c->internetj : c->e[ei].keyj;
}

/* The number of label (flowkey.label - 1), interned; MAP_NO_ENTRY on OOM. */
static size_t
label_id(struct ctx *c, const char *label)
{
    int fresh = 0;
    size_t *slot = strmap_putn(&c->labels, label, strlen(label), &fresh);

    if (slot == NULL)
        return MAP_NO_ENTRY;
    if (fresh) {
        if (c->labels.n > c->nlabelj) {
            size_t cap = c->nlabelj == 0 ? 16 : c->nlabelj * 2;
            json_t **g = realloc(c->labelj, cap * sizeof(*g));
            if (g == NULL) {
                *slot = MAP_NO_ENTRY - 2; /* never a number: the map is abandoned on OOM */
                return MAP_NO_ENTRY;
            }
            memset(g + c->nlabelj, 0, (cap - c->nlabelj) * sizeof(*g));
            c->labelj = g;
            c->nlabelj = cap;
        }
        *slot = c->labels.n - 1;
    }
    return *slot;
}

/* Adds the flow from -> to (entries or MAP_INTERNET, whose key strings are
 * shared) unless the model already has one with the same from, to and
 * label: the first made is the one kept (as the sort's de-duplication of
 * the first version kept it), so a repeat costs one probe of a set of four
 * numbers instead of a JSON object, and the flows need no de-duplication
 * after. A label's JSON string is made once and shared by its flows. port
 * is stolen. */
static void
add_flow(struct ctx *c, size_t mi, size_t from_ei, size_t to_ei, const char *label,
    const char *protocol, json_t *port)
{
    struct flowkey fk;
    json_t *f, *fromj, *toj, *labelj;
    size_t from = flow_end_id(c, from_ei), to = flow_end_id(c, to_ei), lid;
    int fresh, bad = 0;

    if (from == to) {
        json_decref(port);
        return;
    }
    lid = label_id(c, label);
    if (lid == MAP_NO_ENTRY) {
        json_decref(port);
        oom(c);
        return;
    }
    fk.model = (uint32_t)mi;
    fk.from = (uint32_t)from;
    fk.to = (uint32_t)to;
    fk.label = (uint32_t)lid + 1;
    fresh = flowset_add(&c->flowset, &fk);
    if (fresh <= 0) {
        json_decref(port);
        if (fresh < 0)
            oom(c);
        return;
    }
    if (c->labelj[lid] == NULL)
        c->labelj[lid] = json_string(label);
    labelj = c->labelj[lid];
    fromj = flow_end_json(c, from_ei);
    toj = flow_end_json(c, to_ei);
    f = json_object();
    if (f == NULL || labelj == NULL) {
        json_decref(f);
        json_decref(port);
        oom(c);
        return;
    }
    /* sorted key order */
    obj_put(f, "from", json_incref(fromj), &bad);
    obj_put(f, "label", json_incref(labelj), &bad);
    obj_put(f, "port", port != NULL ? port : json_null(), &bad);
    obj_put(f, "protocol", protocol != NULL ? protocol_json(c, protocol) : json_null(), &bad);
    obj_put(f, "to", json_incref(toj), &bad);
    if (bad || recvec_push(&c->models[mi].flowv, f, json_string_value(fromj),
                   json_string_value(toj), json_string_value(labelj)) < 0) {
        if (bad)
            json_decref(f);
        oom(c);
        return;
    }
    if (from == c->internet_id || to == c->internet_id)
        c->models[mi].has_internet = 1;
}

static void
sg_member_cb(struct ctx *c, const char *type, const char *id, size_t target, void *arg)
{
    size_t ei = *(size_t *)arg;
    size_t *slot;

    (void)type;
    (void)target;
    slot = strmap_put(&c->sgix, id);
    if (slot == NULL) {
        oom(c);
        return;
    }
    if (*slot == MAP_NO_ENTRY) {
        struct idvec *g = realloc(c->sgmembers, (c->nsg + 1) * sizeof(*g));
        if (g == NULL) {
            oom(c);
            return;
        }
        c->sgmembers = g;
        memset(&c->sgmembers[c->nsg], 0, sizeof(*g));
        *slot = c->nsg++;
    }
    /* one entry per member even when two references name the same group */
    if (c->sgmembers[*slot].n > 0 && c->sgmembers[*slot].v[c->sgmembers[*slot].n - 1] == ei)
        return;
    if (idvec_push(&c->sgmembers[*slot], ei) < 0)
        oom(c);
}

static int
cidr_is_any(const char *s)
{
    return s != NULL && (strcmp(s, "0.0.0.0/0") == 0 || strcmp(s, "::/0") == 0);
}

static int
perm_from_anywhere(json_t *perm)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(perm, "ipRanges"), i, v) {
        if (cidr_is_any(json_string_value(v)) || cidr_is_any(jstr(v, "cidrIp")))
            return 1;
    }
    json_array_foreach(json_object_get(perm, "ipv4Ranges"), i, v) {
        if (cidr_is_any(jstr(v, "cidrIp")))
            return 1;
    }
    json_array_foreach(json_object_get(perm, "ipv6Ranges"), i, v) {
        if (cidr_is_any(jstr(v, "cidrIpv6")))
            return 1;
    }
    return 0;
}

/* "tcp/443", "tcp/8000-8080", "all"; protocol and port for the flow. */
static void
perm_label(json_t *perm, char *label, size_t n, const char **ret_proto, json_t **ret_port)
{
    json_t *pv = json_object_get(perm, "ipProtocol");
    char pbuf[32];
    const char *proto;
    json_t *jf = json_object_get(perm, "fromPort"), *jt = json_object_get(perm, "toPort");
    long long from = json_is_number(jf) ? (long long)json_number_value(jf) : -1;
    long long to = json_is_number(jt) ? (long long)json_number_value(jt) : from;

    if (json_is_integer(pv))
        snprintf(pbuf, sizeof(pbuf), "%lld", (long long)json_integer_value(pv));
    else
        snprintf(pbuf, sizeof(pbuf), "%.20s", json_is_string(pv) ? json_string_value(pv) : "-1");
    proto = pbuf;
    if (strcmp(proto, "-1") == 0 || strcmp(proto, "all") == 0)
        proto = "all";
    else if (strcmp(proto, "6") == 0)
        proto = "tcp";
    else if (strcmp(proto, "17") == 0)
        proto = "udp";
    else if (strcmp(proto, "1") == 0)
        proto = "icmp";
    else if (strcmp(proto, "58") == 0)
        proto = "icmpv6";
    *ret_port = NULL;
    if (strcmp(proto, "all") == 0) {
        snprintf(label, n, "all");
    } else if ((strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) || from < 0) {
        /* no ports: another protocol, or tcp/udp on every port */
        snprintf(label, n, "%s", proto);
    } else if (from == to) {
        snprintf(label, n, "%s/%lld", proto, from);
        *ret_port = json_integer(from);
    } else {
        snprintf(label, n, "%s/%lld-%lld", proto, from, to);
    }
    /* proto may point into pbuf: copy it out through a static table */
    if (strcmp(proto, "tcp") == 0)
        *ret_proto = "tcp";
    else if (strcmp(proto, "udp") == 0)
        *ret_proto = "udp";
    else if (strcmp(proto, "all") == 0)
        *ret_proto = "all";
    else if (strcmp(proto, "icmp") == 0)
        *ret_proto = "icmp";
    else if (strcmp(proto, "icmpv6") == 0)
        *ret_proto = "icmpv6";
    else
        *ret_proto = NULL;
}

static int
in_public_subnet(struct ctx *c, const struct entry *e)
{
    size_t s = index_typed(c, IX_T, "AWS::EC2::Subnet", e->boundary, strlen(e->boundary));

    return s != MAP_NO_ENTRY && c->e[s].is_public;
}

static void
sg_flows(struct ctx *c)
{
    for (size_t i = 0; i < c->ne && !c->oom; i++) {
        if (c->e[i].comp == NULL || c->e[i].rule->security_groups.n == 0)
            continue;
        for (size_t k = 0; k < c->e[i].rule->security_groups.n; k++)
            each_ref(c, i, &c->e[i].rule->security_groups.v[k], sg_member_cb, &i);
    }
    for (size_t i = 0; i < c->ne && !c->oom; i++) {
        const struct entry *sg = &c->e[i];
        struct idvec *members;
        size_t slot, k, p;
        json_t *perm;

        if (sg->skipped || strcmp(sg->type, "AWS::EC2::SecurityGroup") != 0 || sg->config == NULL)
            continue;
        slot = strmap_get(&c->sgix, sg->id);
        if (slot == MAP_NO_ENTRY)
            continue;
        members = &c->sgmembers[slot];
        json_array_foreach(json_object_get(sg->config, "ipPermissions"), p, perm) {
            char label[64];
            const char *proto;
            json_t *port;
            int anywhere = perm_from_anywhere(perm);
            json_t *pair;
            size_t q;

            perm_label(perm, label, sizeof(label), &proto, &port);
            for (k = 0; k < members->n; k++) {
                struct entry *b = &c->e[members->v[k]];
                if (anywhere && in_public_subnet(c, b))
                    add_flow(c, b->model, MAP_INTERNET, members->v[k], label, proto,
                        port ? json_incref(port) : NULL);
                json_array_foreach(json_object_get(perm, "userIdGroupPairs"), q, pair) {
                    const char *src = jstr(pair, "groupId");
                    size_t ss = src ? strmap_get(&c->sgix, src) : MAP_NO_ENTRY;
                    if (ss == MAP_NO_ENTRY)
                        continue;
                    for (size_t m = 0; m < c->sgmembers[ss].n; m++) {
                        struct entry *a = &c->e[c->sgmembers[ss].v[m]];
                        if (a->model == b->model)
                            add_flow(c, b->model, c->sgmembers[ss].v[m], members->v[k], label,
                                proto, port ? json_incref(port) : NULL);
                    }
                }
            }
            json_decref(port);
        }
    }
}

struct ends_arg {
    struct idvec v;
};

static void
ends_cb(struct ctx *c, const char *type, const char *id, size_t target, void *arg)
{
    struct ends_arg *a = arg;

    (void)type;
    (void)id;
    if (target == MAP_NO_ENTRY)
        return;
    if (target != MAP_INTERNET && c->e[target].comp == NULL)
        return;
    if (idvec_push(&a->v, target) < 0)
        oom(c);
}

static void
flow_ends(struct ctx *c, size_t ei, const struct map_refs *refs, struct ends_arg *a)
{
    if (refs->n == 0) {
        if (c->e[ei].comp != NULL && idvec_push(&a->v, ei) < 0)
            oom(c);
        return;
    }
    for (size_t i = 0; i < refs->n; i++)
        each_ref(c, ei, &refs->v[i], ends_cb, a);
}

static char *
render_label(struct ctx *c, const struct map_tpl *t, const struct entry *e)
{
    char out[256];
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        const char *piece = t->parts[i].text;
        char *owned = NULL;
        if (piece == NULL) {
            json_t *v = entry_paths_first(e, &t->parts[i].paths);
            owned = scalar_text(v);
            json_decref(v);
            piece = owned != NULL ? owned : "?";
        }
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", piece);
        free(owned);
        if (len >= sizeof(out))
            len = sizeof(out) - 1;
    }
    char *s = strdup(out);
    if (s == NULL)
        oom(c);
    return s;
}

static json_t *
flow_port(const struct map_paths *ps, const struct entry *e)
{
    json_t *v = entry_paths_first(e, ps), *out = NULL;
    long long n;

    if (json_is_integer(v))
        out = json_incref(v);
    else if (json_is_real(v))
        out = json_integer((long long)json_real_value(v));
    else if (json_is_string(v) && util_parse_ll(json_string_value(v), 0, 65535, &n) == 0)
        out = json_integer(n);
    json_decref(v);
    return out;
}

static void
rule_flows(struct ctx *c)
{
    for (size_t i = 0; i < c->ne && !c->oom; i++) {
        struct entry *e = &c->e[i];

        if (e->rule == NULL || e->rule->nflows == 0 || e->skipped)
            continue;
        if (e->rule->emit != MAP_EMIT_COMPONENT && e->rule->emit != MAP_EMIT_FLOWS)
            continue;
        if (e->rule->emit == MAP_EMIT_COMPONENT && e->comp == NULL)
            continue;
        for (size_t f = 0; f < e->rule->nflows; f++) {
            const struct map_flow_rule *fr = &e->rule->flows[f];
            struct ends_arg from, to;
            char *label;
            json_t *proto, *port;

            memset(&from, 0, sizeof(from));
            memset(&to, 0, sizeof(to));
            flow_ends(c, i, &fr->from, &from);
            flow_ends(c, i, &fr->to, &to);
            label = render_label(c, &fr->label, e);
            proto = entry_paths_first(e, &fr->protocol);
            port = flow_port(&fr->port, e);
            for (size_t a = 0; label != NULL && a < from.v.n; a++) {
                for (size_t b = 0; b < to.v.n; b++) {
                    size_t fa = from.v.v[a], tb = to.v.v[b];
                    size_t mi;
                    if (fa == MAP_INTERNET && tb == MAP_INTERNET)
                        continue;
                    mi = fa != MAP_INTERNET ? c->e[fa].model : c->e[tb].model;
                    if (fa != MAP_INTERNET && tb != MAP_INTERNET && c->e[fa].model != c->e[tb].model)
                        continue; /* flows stay inside one model */
                    add_flow(c, mi, fa, tb, label, json_string_value(proto),
                        port ? json_incref(port) : NULL);
                }
            }
            if (e->rule->emit == MAP_EMIT_FLOWS && f == 0)
                c->mapped++;
            free(label);
            json_decref(proto);
            json_decref(port);
            free(from.v.v);
            free(to.v.v);
        }
    }
}

/* ---- final ordering ---- */

/* Sorting records (struct sortrec): up to three string fields read once
 * per element (not once per comparison, which cost a hash lookup each), and
 * the original position as the last key, so ties keep input order exactly
 * as the stable sort of the first version did. */
static const char *const skipped_fields[] = {"resource_type", "resource_id", "reason"};

static int
sortrec_keys_cmp(const struct sortrec *x, const struct sortrec *y)
{
    for (int i = 0; i < 3; i++) {
        int c;
        if (x->k[i] == y->k[i])
            continue; /* one shared string (keys, labels, ""): equal */
        c = strcmp(x->k[i], y->k[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

static int
sortrec_cmp(const void *a, const void *b)
{
    const struct sortrec *x = a, *y = b;
    int c = sortrec_keys_cmp(x, y);

    if (c != 0)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts rv and moves its elements into arr (rv is left empty). */
static int
recvec_finish(struct recvec *rv, json_t *arr)
{
    if (rv->n > 1)
        qsort(rv->v, rv->n, sizeof(rv->v[0]), sortrec_cmp);
    for (size_t i = 0; i < rv->n; i++) {
        json_t *v = rv->v[i].v;
        rv->v[i].v = NULL;
        if (json_array_append_new(arr, v) < 0) {
            recvec_clear(rv); /* the rest; NULLs are skipped by json_decref */
            return -1;
        }
    }
    recvec_clear(rv);
    return 0;
}

/* Sorts arr in place by fields (ties keep their order). */
static int
sort_array(json_t *arr, const char *const fields[3])
{
    struct recvec rv = {0};
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        const char *k[3];

        for (int f = 0; f < 3; f++)
            k[f] = fields[f] != NULL ? jstr(v, fields[f]) : NULL;
        if (recvec_push(&rv, json_incref(v), k[0], k[1], k[2]) < 0) {
            recvec_clear(&rv);
            return -1;
        }
    }
    json_array_clear(arr);
    return recvec_finish(&rv, arr);
}

static int
finish_model(struct ctx *c, struct model *m)
{
    int have_vpc = m->vpc == NULL;

    for (size_t i = 0; i < m->bounds.n && !have_vpc; i++) {
        if (strcmp(m->bounds.v[i].k[0], m->vpc) == 0)
            have_vpc = 1;
    }
    if (!have_vpc) {
        /* resources name a VPC Config did not record: keep the tree whole */
        json_t *b = json_pack("{s:{}, s:O, s:O, s:n, s:s, s:O, s:s}", "attributes", "key",
            m->vpcj, "name", m->vpcj, "parent", "resource_type", "AWS::EC2::VPC", "resource_id",
            m->vpcj, "type", "vpc");
        if (recvec_push(&m->bounds, b, m->vpc, NULL, NULL) < 0)
            return oom(c);
    }
    if (m->has_internet) {
        json_t *inet = json_pack("{s:{}, s:n, s:O, s:s, s:[], s:s, s:{}, s:[], s:s}", "attributes",
            "boundary", "key", c->internetj, "name", "Internet", "requirements", "role",
            MODEL_ROLE_EXTERNAL, "tags", "threats", "type", "Internet");
        if (recvec_push(&m->comps, inet, MAP_INTERNET_KEY, NULL, NULL) < 0)
            return oom(c);
    }
    if (recvec_finish(&m->comps, m->components) < 0 ||
        recvec_finish(&m->bounds, m->boundaries) < 0 || recvec_finish(&m->flowv, m->flows) < 0)
        return oom(c);
    return 0;
}

void
map_result_clear(struct map_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->models);
    json_decref(res->unmapped);
    json_decref(res->account);
    json_decref(res->skipped);
    memset(res, 0, sizeof(*res));
}

int
map_target(const struct map_rules *rules, const char *account_id, const char *region,
    json_t *items, struct map_result *ret, struct err *err)
{
    struct ctx c;
    struct map_result res;
    size_t i, account_model;
    int rc = -1;

    memset(&c, 0, sizeof(c));
    memset(&res, 0, sizeof(res));
    if (rules == NULL || account_id == NULL || region == NULL)
        return err_set(err, ERR_INTERNAL, "map_target: rules, account and region are required");
    if (!json_is_array(items))
        return err_set(err, ERR_REMOTE, "map_target: items of %s/%s are not a JSON array",
            account_id, region);
    if (json_array_size(items) >= MAP_MAX_ITEMS)
        return err_set(err, ERR_REMOTE, "map_target: %s/%s has %zu items, more than %u",
            account_id, region, json_array_size(items), MAP_MAX_ITEMS);
    c.rules = rules;
    c.account_id = account_id;
    c.region = region;
    c.skipped = json_array();
    c.unmapped = json_object();
    c.internetj = json_string(MAP_INTERNET_KEY);
    {
        char bkey[64];
        snprintf(bkey, sizeof(bkey), "account:%.40s", account_id);
        c.accountbj = json_string(bkey);
    }
    if (c.skipped == NULL || c.unmapped == NULL || c.internetj == NULL || c.accountbj == NULL)
        goto oom;
    account_model = model_get(&c, NULL); /* always index 0 */
    if (account_model != 0 || collect_entries(&c, items) < 0)
        goto oom;

    for (i = 0; i < c.ne; i++) {
        struct entry *e = &c.e[i];
        if (e->skipped || e->rule != NULL)
            continue;
        json_t *n = json_object_get(c.unmapped, e->type);
        if (json_object_set_new(c.unmapped, e->type,
                json_integer(n ? json_integer_value(n) + 1 : 1)) < 0)
            goto oom;
    }
    classify_subnets(&c);
    /* boundaries first: components choose among them */
    for (i = 0; i < c.ne && !c.oom; i++) {
        if (!c.e[i].skipped && c.e[i].rule != NULL &&
            (c.e[i].rule->emit == MAP_EMIT_VPC || c.e[i].rule->emit == MAP_EMIT_SUBNET))
            emit_boundary(&c, i);
    }
    for (i = 0; i < c.ne && !c.oom; i++) {
        if (!c.e[i].skipped && c.e[i].rule != NULL && c.e[i].rule->emit == MAP_EMIT_COMPONENT)
            emit_component(&c, i);
    }
    if (c.oom)
        goto oom;
    c.internet_id = ix_get(&c.index, IX_TAG(IX_K, 0), MAP_INTERNET_KEY, strlen(MAP_INTERNET_KEY));
    if (c.internet_id == MAP_NO_ENTRY)
        c.internet_id = c.ne; /* no entry's number */
    sg_flows(&c);
    rule_flows(&c);
    if (c.oom)
        goto oom;

    res.models = json_object();
    if (res.models == NULL)
        goto oom;
    for (i = 0; i < c.nmodels; i++) {
        if (finish_model(&c, &c.models[i]) < 0)
            goto oom;
        if (i == 0)
            continue;
        if (json_object_set(res.models, c.models[i].vpc, c.models[i].doc) < 0)
            goto oom;
    }
    res.account = json_incref(c.models[0].doc);
    if (sort_array(c.skipped, skipped_fields) < 0)
        goto oom;
    res.skipped_count = json_array_size(c.skipped);
    while (json_array_size(c.skipped) > MAP_SKIPPED_MAX)
        json_array_remove(c.skipped, json_array_size(c.skipped) - 1);
    res.skipped = json_incref(c.skipped);
    res.unmapped = json_incref(c.unmapped);
    res.items = json_array_size(items);
    res.mapped = c.mapped;
    *ret = res;
    memset(&res, 0, sizeof(res));
    rc = 0;
    goto out;
oom:
    err_set(err, ERR_INTERNAL, "out of memory while mapping %s/%s", account_id, region);
out:
    map_result_clear(&res);
    for (i = 0; i < c.ne; i++) {
        json_decref(c.e[i].config);
        json_decref(c.e[i].keyj);
        json_decref(c.e[i].idj);
        free(c.e[i].vpc);
        json_decref(c.e[i].boundaryj);
    }
    free(c.e);
    for (i = 0; i < c.nmodels; i++) {
        json_decref(c.models[i].doc);
        free(c.models[i].vpc);
        json_decref(c.models[i].vpcj);
        recvec_clear(&c.models[i].comps);
        recvec_clear(&c.models[i].bounds);
        recvec_clear(&c.models[i].flowv);
    }
    free(c.models);
    for (i = 0; i < c.nsg; i++)
        free(c.sgmembers[i].v);
    free(c.sgmembers);
    free(c.index.slots);
    strmap_clear(&c.types);
    strmap_clear(&c.routes);
    strmap_clear(&c.modelix);
    strmap_clear(&c.sgix);
    free(c.flowset.v);
    strmap_clear(&c.labels);
    for (i = 0; i < c.nlabelj; i++)
        json_decref(c.labelj[i]);
    free(c.labelj);
    json_decref(c.internetj);
    json_decref(c.accountbj);
    for (i = 0; i < sizeof(c.protoj) / sizeof(c.protoj[0]); i++)
        json_decref(c.protoj[i]);
    json_decref(c.skipped);
    json_decref(c.unmapped);
    return rc;
}
